//! The real binary over W3C to the letter and JSON access logs: `--replay
//! --format json` of the fixtures in `tests/data/` with known reports.
//!
//! cloudfront.log, caddy.log and traefik-json.log hold the same five
//! requests (and one line each that is not a request), so they must give
//! the same report; iis-headerless.log holds iis.log's six requests without
//! its header and its `sc-bytes` column.

mod support;

use support::{close, events_of, fixture, logmon, stderr};

use std::process::Output;

use serde_json::Value;

/// `--replay --format json` of a fixture with extra arguments and
/// environment.
fn replay(name: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let o = logmon()
        .args(["--replay", "--format", "json"])
        .args(args)
        .envs(env.iter().copied())
        .arg(fixture(name))
        .output()
        .expect("run logmon");
    assert!(o.status.success(), "{name}: {o:?}");
    o
}

/// The one report of a fixture's replay in `format`.
fn report(name: &str, format: &str) -> Value {
    let events = events_of(&replay(name, &["--log-format", format], &[]));
    let mut reports = events.into_iter().filter(|e| e["type"] == "report");
    let report = reports
        .next()
        .unwrap_or_else(|| panic!("{name}: no report"));
    assert!(reports.next().is_none(), "{name}: one report");
    report
}

/// What a report must say.
struct Expected<'a> {
    hits: u64,
    invalid: u64,
    /// 1xx to 5xx.
    status: [u64; 5],
    bytes: u64,
    /// Sections, most hits first, with their p50 in milliseconds.
    sections: &'a [(&'a str, u64, f64)],
    /// Overall p50, p95 and p99 in milliseconds.
    latency: [f64; 3],
    start: &'a str,
}

fn check(name: &str, r: &Value, want: &Expected) {
    assert_eq!(r["hits"], want.hits, "{name}: {r}");
    assert_eq!(r["invalid"], want.invalid, "{name}: {r}");
    assert_eq!(r["bytes"], want.bytes, "{name}: {r}");
    assert_eq!(r["start"], want.start, "{name}: {r}");
    for (class, &count) in ["1xx", "2xx", "3xx", "4xx", "5xx"].iter().zip(&want.status) {
        assert_eq!(r["status"][class], count, "{name} {class}: {r}");
    }
    for (key, &ms) in ["p50", "p95", "p99"].iter().zip(&want.latency) {
        assert!(close(&r["latency_ms"][key], ms), "{name} {key}: {r}");
    }
    let sections = r["sections"].as_array().unwrap();
    assert_eq!(sections.len(), want.sections.len(), "{name}: {r}");
    for (got, &(section, hits, p50)) in sections.iter().zip(want.sections) {
        assert_eq!(
            (got["section"].as_str(), got["hits"].as_u64()),
            (Some(section), Some(hits)),
            "{name}: {r}"
        );
        assert!(close(&got["latency_ms"]["p50"], p50), "{name} {section}");
    }
}

/// The five requests of cloudfront.log, caddy.log and traefik-json.log:
/// request times 2, 4, 8, 16 and 300 ms, so p50 is the 3rd and p95 and p99
/// the 5th by nearest rank.
const FIVE: Expected = Expected {
    hits: 5,
    invalid: 1,
    status: [0, 3, 0, 1, 1],
    bytes: 3800,
    sections: &[("/api", 3, 8.0), ("/static", 2, 4.0)],
    latency: [8.0, 300.0, 300.0],
    start: "2026-03-01T12:00:01Z",
};

#[test]
fn cloudfront_caddy_and_traefik_logs_of_the_same_requests_give_the_same_report() {
    let cloudfront = report("cloudfront.log", "auto");
    check("cloudfront.log", &cloudfront, &FIVE);
    // Seconds, not milliseconds: 0.300 is 300 ms.
    assert!(close(&cloudfront["sections"][1]["latency_ms"]["p95"], 16.0));
    assert_eq!(cloudfront["clients"], 3);
    assert_eq!(report("caddy.log", "auto"), cloudfront);
    assert_eq!(report("traefik-json.log", "auto"), cloudfront);
}

#[test]
fn auto_detects_each_fixture_once_and_counts_what_its_forced_format_counts() {
    for (name, format, said) in [
        (
            "cloudfront.log",
            "w3c",
            "log format: w3c (CloudFront, time-taken in seconds)",
        ),
        (
            "w3c-quoted.log",
            "w3c",
            "log format: w3c (W3C Extended, from its #Fields: directive)",
        ),
        (
            "iis-headerless.log",
            "iis",
            "log format: iis (IIS default W3C fields, no #Fields: directive)",
        ),
        (
            "iis-headerless-extra.log",
            "iis",
            "log format: iis (IIS default W3C fields, no #Fields: directive)",
        ),
        (
            "caddy.log",
            "caddy",
            "log format: caddy (Caddy's JSON access log)",
        ),
        ("caddy.log", "json", "log format: caddy"),
        (
            "traefik-json.log",
            "json",
            "log format: json (Traefik's JSON access log)",
        ),
    ] {
        let o = replay(name, &[], &[]);
        let err = stderr(&o);
        assert_eq!(err.matches(said).count(), 1, "{name}: {err}");
        assert_eq!(err.matches("log format:").count(), 1, "{name}: {err}");
        assert_eq!(
            events_of(&o),
            events_of(&replay(name, &["--log-format", format], &[])),
            "{name}: auto reads as {format}"
        );
    }
}

#[test]
fn w3c_fields_may_be_quoted_and_separated_by_runs_of_spaces_and_tabs() {
    // Quoted stems with spaces, `""` in a quoted agent, tabs, runs of
    // spaces, a fractional time, directives between lines; the two last
    // lines have an unterminated quote and a quote inside a field.
    check(
        "w3c-quoted.log",
        &report("w3c-quoted.log", "w3c"),
        &Expected {
            hits: 5,
            invalid: 2,
            status: [0, 3, 0, 1, 1],
            bytes: 3800,
            sections: &[("/api", 3, 8.0), ("/my docs", 2, 2.0)],
            latency: [8.0, 300.0, 300.0],
            start: "2026-03-01T12:00:01Z",
        },
    );
}

#[test]
fn local_w3c_times_are_read_in_the_time_zone_of_tz_said_once() {
    let want = Expected {
        hits: 4,
        invalid: 0,
        status: [0, 2, 2, 0, 0],
        bytes: 1200,
        // cs-uri carries the query, whose slashes do not count.
        sections: &[("/api", 2, 10.0), ("/login", 1, 40.0), ("/static", 1, 1.0)],
        latency: [10.0, 40.0, 40.0],
        // 14:00:01 at UTC+2.
        start: "2026-03-01T12:00:01Z",
    };
    // POSIX TZ: the zone "XYZ" two hours east of UTC.
    let o = replay("w3c-local.log", &[], &[("TZ", "XYZ-2")]);
    let local = events_of(&o);
    check("w3c-local.log", &local[0], &want);
    let err = stderr(&o);
    assert_eq!(
        err.matches("w3c: date-local/time-local read in the local time zone (TZ=XYZ-2)")
            .count(),
        1,
        "{err}"
    );
    let utc = events_of(&replay("w3c-local.log", &[], &[("TZ", "UTC0")]));
    assert_eq!(utc[0]["start"], "2026-03-01T14:00:01Z");
}

#[test]
fn a_headerless_iis_log_reads_as_iis_log_does_without_its_bytes() {
    // With a byte-order mark and CRLF line ends.
    let headerless = report("iis-headerless.log", "auto");
    let mut with_header = report("iis.log", "auto");
    assert_eq!(with_header["bytes"], 11_924);
    with_header["bytes"] = 0.into();
    assert_eq!(headerless, with_header);
    assert!(close(&headerless["latency_ms"]["p50"], 12.0));
    // Extra trailing columns change nothing.
    assert_eq!(report("iis-headerless-extra.log", "auto"), headerless);
    assert_eq!(report("iis-headerless-extra.log", "iis"), headerless);
}

#[test]
fn forced_formats_count_other_shapes_as_invalid() {
    // Nothing parses, so the replay is an error that says how many lines
    // were read and what was tried, and prints no report.
    for (name, format, lines) in [
        ("iis-headerless.log", "w3c", 6),
        ("traefik-json.log", "caddy", 6),
        ("caddy.log", "clf", 6),
        ("iis.log", "caddy", 10),
    ] {
        let o = logmon()
            .args(["--replay", "--format", "json", "--log-format", format])
            .arg(fixture(name))
            .output()
            .expect("run logmon");
        assert_eq!(o.status.code(), Some(1), "{name} as {format}: {o:?}");
        assert!(o.stdout.is_empty(), "{name} as {format}: {o:?}");
        let err = stderr(&o);
        assert!(
            err.contains(&format!(" ({lines} lines read)\n  tried {format}")),
            "{name} as {format}: {err}"
        );
    }
}
