//! The real binary over every log format: `--replay` of the fixtures in
//! `tests/data/` with known reports, auto-detection, forced formats, latency
//! percentiles against exact ones, and following a W3C log from its end.
//!
//! nginx-latency.log, apache-latency.log and iis.log hold the same six
//! requests, so they must give the same report.

mod support;

use support::{
    assert_nothing_parses_said_once, assert_six_requests, close, events_of, first,
    first_live_report, fixture, logmon, stderr, unix_now,
};

use std::fs;
use std::process::Output;

use serde_json::Value;

/// `--replay` of a fixture with extra arguments.
fn replay(name: &str, args: &[&str]) -> Output {
    let o = replay_status(name, args);
    assert!(o.status.success(), "{name}: {o:?}");
    o
}

/// `replay`, whatever the exit status.
fn replay_status(name: &str, args: &[&str]) -> Output {
    logmon()
        .arg("--replay")
        .args(args)
        .arg(fixture(name))
        .output()
        .expect("run logmon")
}

/// The JSON events of a replay.
fn json(name: &str, format: &str) -> Vec<Value> {
    events_of(&replay(name, &["--format", "json", "--log-format", format]))
}

#[test]
fn the_same_requests_as_nginx_apache_and_iis_give_the_same_report() {
    let nginx = json("nginx-latency.log", "auto");
    let mut apache = json("apache-latency.log", "auto");
    let iis = json("iis.log", "auto");
    assert_eq!(nginx, iis);
    // Four of the Apache lines are CLF without a user agent: only the
    // agents differ.
    let agents = |events: &mut Vec<Value>| -> Vec<Value> {
        (events.iter_mut())
            .filter_map(|e| e.as_object_mut()?.remove("top_agents"))
            .collect()
    };
    let mut without = nginx.clone();
    agents(&mut without);
    let apache_agents = agents(&mut apache);
    assert_eq!(without, apache);
    assert_eq!(apache_agents[0][0]["hits"], 2, "{apache_agents:?}");

    assert_six_requests(first(&iis, "report"));
    assert!(close(&first(&iis, "summary")["latency_ms"]["p50"], 12.0));
}

#[test]
fn iis_text_report_is_pinned() {
    let o = replay("iis.log", &[]);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "\
-- 2026-03-01T12:00:01+00:00 to 12:00:06 (5s)
   6 req  1.20/s  11.6 KiB (1.9 KiB/req)  3 clients  16.7% errors
   2xx 5  5xx 1    GET 5  POST 1
   latency p50 12ms p95 1249ms p99 1249ms
   section  hits  share  4xx  5xx    p50     p95     p99
   /api        4  66.7%    0    1   20ms  1249ms  1249ms
   /pages      2  33.3%    0    0  3.0ms   5.0ms   5.0ms
   codes  200 4  201 1  500 1
   client       hits  share  errors
   23.45.67.89     2  33.3%       0
   51.2.3.4        2  33.3%       0
   66.7.8.9        2  33.3%       1
   window ▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁ 0.05/s avg over 120s, threshold 10/s (▄)
== summary 2026-03-01T12:00:01+00:00 to 12:00:06 (5s)
   6 hits, 11.6 KiB, 0 invalid, 0 high-traffic episodes
   latency p50 12ms p95 1249ms p99 1249ms
"
    );
}

#[test]
fn auto_detects_each_fixture_and_counts_what_its_forced_format_counts() {
    for (name, format, hits) in [
        ("sample.log", "clf", 13),
        ("nginx-latency.log", "clf", 6),
        ("apache-latency.log", "clf", 6),
        ("vhost.log", "clf", 5),
        ("iis.log", "w3c", 6),
        ("w3c-fields-change.log", "w3c", 6),
        ("w3c-latency.log", "w3c", 400),
    ] {
        let o = replay(name, &["--format", "json"]);
        let auto: Vec<Value> = String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(first(&auto, "summary")["hits"], hits, "{name} in auto");
        let said = format!("log format: {format} (");
        assert_eq!(
            stderr(&o).matches(&said).count(),
            1,
            "{name}: {}",
            stderr(&o)
        );
        assert!(!stderr(&o).contains("switched"), "{name}: {}", stderr(&o));
        assert_eq!(json(name, format), auto, "{name}: auto reads as {format}");
    }
}

#[test]
fn vhost_prefixed_lines_count_under_their_sections() {
    let events = json("vhost.log", "clf");
    let r = first(&events, "report");
    assert_eq!(
        (r["hits"].as_u64(), r["invalid"].as_u64()),
        (Some(5), Some(0))
    );
    assert_eq!(r["clients"], 4);
    let sections: Vec<(&str, u64)> = r["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["section"].as_str().unwrap(), s["hits"].as_u64().unwrap()))
        .collect();
    assert_eq!(sections, [("/api", 2), ("/cart", 2), ("/blog", 1)]);
    // Only one line carries a request time (0.045 s).
    assert!(close(&r["latency_ms"]["p99"], 45.0));
    assert!(r["sections"][0].get("latency_ms").is_none());
}

#[test]
fn a_fields_directive_mid_file_changes_the_columns_from_there_on() {
    let events = json("w3c-fields-change.log", "auto");
    let r = first(&events, "report");
    assert_eq!(
        (r["hits"].as_u64(), r["invalid"].as_u64()),
        (Some(6), Some(0))
    );
    // After the restart there is no date column: #Date: gives the date.
    assert_eq!(r["end"], "2026-03-01T12:00:09Z");
    assert_eq!(r["status"]["5xx"], 1);
    assert_eq!(r["methods"]["HEAD"], 1);
    let api = &r["sections"][0];
    assert_eq!(
        (api["section"].as_str(), api["hits"].as_u64()),
        (Some("/api"), Some(3))
    );
    // Only the first three lines have time-taken: 12, 20 and 3 ms.
    assert!(close(&r["latency_ms"]["p50"], 12.0));
    assert!(close(&api["latency_ms"]["p99"], 20.0));
}

#[test]
fn clf_counts_no_hits_in_a_w3c_log_and_w3c_counts_them_all() {
    // Nothing parses: a replay says so and fails rather than report.
    let clf = replay_status("iis.log", &["--log-format", "clf", "--format", "json"]);
    assert_eq!(clf.status.code(), Some(1));
    assert!(clf.stdout.is_empty());
    assert!(
        stderr(&clf).contains(" (10 lines read)\n  tried clf only"),
        "directives are invalid lines in clf: {}",
        stderr(&clf)
    );
    let w3c = json("iis.log", "w3c");
    assert_eq!(first(&w3c, "summary")["hits"], 6);
    assert_eq!(
        first(&w3c, "summary")["invalid"],
        0,
        "directives are not invalid in w3c"
    );
}

#[test]
fn latency_percentiles_are_within_one_percent_of_exact_ones() {
    // Exact nearest-rank percentiles of the fixture's time-taken column.
    let text = fs::read_to_string(fixture("w3c-latency.log")).unwrap();
    let mut all: Vec<f64> = Vec::new();
    let mut api: Vec<f64> = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let fields: Vec<&str> = line.split(' ').collect();
        let ms: f64 = fields[fields.len() - 1].parse().unwrap();
        all.push(ms);
        if fields[4].starts_with("/api/") {
            api.push(ms);
        }
    }
    let exact = |values: &mut Vec<f64>, q: f64| {
        values.sort_by(f64::total_cmp);
        let rank = (q * values.len() as f64).ceil() as usize;
        values[rank.max(1) - 1]
    };
    let events = json("w3c-latency.log", "w3c");
    let r = first(&events, "report");
    assert_eq!(r["sections"][0]["section"], "/api");
    for (key, q) in [("p50", 0.50), ("p95", 0.95), ("p99", 0.99)] {
        let want = exact(&mut all, q);
        let got = &first(&events, "summary")["latency_ms"][key];
        assert!(close(got, want), "summary {key}: {got} vs exact {want}");
        assert!(close(&r["latency_ms"][key], want), "report {key}");
        let want = exact(&mut api, q);
        let got = &r["sections"][0]["latency_ms"][key];
        assert!(close(got, want), "/api {key}: {got} vs exact {want}");
    }
}

#[test]
fn nothing_parsing_is_said_once_with_the_first_line() {
    let o = replay_status("w3c-latency.log", &["--log-format", "clf"]);
    let err = stderr(&o);
    assert_nothing_parses_said_once(
        &err,
        "parse\n  tried clf only\n  the first: #Software: loggen",
    );
    // Then, at the end, the replay fails with the same first line.
    assert_eq!(o.status.code(), Some(1));
    assert!(err.contains("\n  the first: #Software: loggen"), "{err}");
    assert!(o.stdout.is_empty());
}

/// A W3C line in `iis.log`'s columns stamped `t` (unix seconds).
fn w3c_line(t: i64, stem: &str, ms: u32) -> String {
    let time = chrono::DateTime::from_timestamp(t, 0).unwrap();
    format!(
        "{} 10.0.0.5 GET {stem} - 443 - 23.45.67.89 curl/8.5.0 - 200 0 0 512 {ms}\n",
        time.format("%Y-%m-%d %H:%M:%S")
    )
}

/// // logmon u_ex.log & ; echo <w3c line> >> u_ex.log
#[test]
fn following_a_w3c_log_from_its_end_finds_its_columns_backward() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("u_ex260301.log");
    let header = fs::read_to_string(fixture("iis.log")).unwrap();
    let header: String = header.lines().take(4).map(|l| format!("{l}\n")).collect();
    // The header, then many old lines between it and the end.
    let mut log = header;
    for i in 0..5000 {
        log.push_str(&w3c_line(unix_now() - 7200 + i / 10, "/old/page", 1));
    }
    fs::write(&path, log).unwrap();
    let (seen, err) = first_live_report(&path, &[], || w3c_line(unix_now(), "/live/page", 42));
    let v = seen.unwrap_or_else(|| panic!("no hits reported; stderr: {err}"));
    assert_eq!(v["invalid"], 0, "{v}");
    assert_eq!(v["sections"][0]["section"], "/live");
    assert!(close(&v["latency_ms"]["p50"], 42.0), "{v}");
}

#[test]
fn help_documents_the_formats_and_request_time_units() {
    let o = logmon().arg("--help").output().unwrap();
    // clap wraps the text to the terminal's width: compare words.
    let help = String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for needle in [
        "--log-format <FORMAT>",
        "auto",
        "clf",
        "w3c",
        "`time-taken` is milliseconds",
        "nginx `$request_time`",
        "microseconds",
        "Apache `%D`",
    ] {
        assert!(help.contains(needle), "--help lacks {needle:?}");
    }
}
