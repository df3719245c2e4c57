//! Render events as text (for people) or JSON lines (for programs).
//!
//! Pure: each event becomes one `String`, which the caller writes with one
//! `write_all` and a flush. The renderer never asks about the terminal:
//! `Style` is resolved once at startup. Text is the same on a terminal and in
//! a pipe but for colour, and never redraws, so `grep alert` works on it.
//!
//! Strings from the log (sections) were sanitized when they entered the
//! statistics; text output also shortens overlong ones.

use std::fmt::Write as _;

use chrono::{DateTime, Local, SecondsFormat, TimeZone, Utc};
use serde::Serialize;

use crate::monitor::{AlertEvent, Event, Report, Summary};
use crate::parse::Method;
use crate::stats::Latency;
use crate::text::truncate;

/// How text output looks. Resolved once, at startup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Style {
    /// Use ANSI colour.
    pub color: bool,
    /// Print times in UTC instead of the local time zone.
    pub utc: bool,
}

/// Longest section name printed in text output, in characters.
const MAX_SECTION_WIDTH: usize = 48;

const BOLD: &str = "\x1b[1m";
const RED: &str = "\x1b[1;31m";
const GREEN: &str = "\x1b[32m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

/// Render `event` as a block of text ending in a newline.
pub fn text(event: &Event, style: &Style) -> String {
    match event {
        Event::Report(r) => text_report(r, style),
        Event::Alert(a) => {
            let line = format!(
                "High traffic generated an alert - hits = {}, triggered at {} (avg {:.1} req/s over {}s, threshold {})\n",
                a.hits,
                time(a.at, style),
                a.average,
                a.window_secs,
                a.threshold
            );
            paint(style, RED, &line)
        }
        Event::Recovered(a) => {
            let line = format!(
                "High traffic alert recovered - hits = {}, recovered at {} (avg {:.1} req/s over {}s, threshold {})\n",
                a.hits,
                time(a.at, style),
                a.average,
                a.window_secs,
                a.threshold
            );
            paint(style, GREEN, &line)
        }
        Event::Summary(s) => text_summary(s, style),
    }
}

fn text_report(r: &Report, style: &Style) -> String {
    let s = &r.stats;
    let mut out = String::new();
    let header = format!(
        "-- {} to {} ({}s)",
        time(r.start, style),
        clock_time(r.end, style),
        r.end - r.start
    );
    let _ = writeln!(out, "{}", paint(style, BOLD, &header));
    let _ = write!(
        out,
        "   {} hits  {:.1} req/s  {} (mean {})",
        group(s.hits),
        r.rate(),
        human_bytes(s.bytes),
        human_bytes(s.bytes.checked_div(s.hits).unwrap_or(0)),
    );
    let (clients, exact) = s.clients();
    let _ = write!(
        out,
        "  {}{} clients",
        if exact { "" } else { "~" },
        group(clients)
    );
    if s.invalid > 0 {
        let _ = write!(out, "  {} invalid", group(s.invalid));
    }
    out.push('\n');
    if s.hits > 0 {
        out.push_str("   status");
        for (i, &n) in s.status.iter().enumerate() {
            if n > 0 {
                let _ = write!(out, "  {}xx {}", i + 1, group(n));
            }
        }
        let _ = writeln!(out, "  errors {:.1}%", percent(s.errors(), s.hits));
        out.push_str("   methods");
        for m in Method::ALL {
            let n = s.methods[m as usize];
            if n > 0 {
                let _ = write!(out, "  {} {}", m.as_str(), group(n));
            }
        }
        out.push('\n');
        if let Some(latency) = s.latency() {
            let _ = writeln!(out, "   latency {}", percentiles(&latency));
        }
    }
    let names: Vec<_> = r
        .top
        .iter()
        .map(|row| truncate(&row.section, MAX_SECTION_WIDTH))
        .collect();
    let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    let hits_width = r
        .top
        .iter()
        .map(|row| group(row.hits).len())
        .max()
        .unwrap_or(0);
    for (row, name) in r.top.iter().zip(&names) {
        let pad = width - name.chars().count();
        let _ = write!(
            out,
            "   {name}{:pad$}  {:>hits_width$}  {:>5.1}%",
            "",
            group(row.hits),
            percent(row.hits, s.hits),
        );
        if row.errors > 0 {
            let _ = write!(out, "  {} errors", group(row.errors));
        }
        if let Some(latency) = &row.latency {
            let _ = write!(out, "  {}", percentiles(latency));
        }
        out.push('\n');
    }
    if !r.top_exact {
        let _ = writeln!(
            out,
            "   (too many distinct sections: counts are approximate)"
        );
    }
    let window = format!(
        "   window {} hits in {}s = {:.1} req/s (alert above {})",
        group(r.window_hits),
        r.window_secs,
        r.window_average(),
        r.threshold
    );
    if r.alerting {
        let _ = writeln!(out, "{}  {}", window, paint(style, RED, "ALERT ACTIVE"));
    } else {
        let _ = writeln!(out, "{}", paint(style, DIM, &window));
    }
    out
}

fn text_summary(s: &Summary, style: &Style) -> String {
    let line = format!(
        "== summary {} to {} ({}s): {} hits, {}, {} invalid, {}{} alert{}{}\n",
        time(s.start, style),
        clock_time(s.end, style),
        s.end - s.start,
        group(s.hits),
        human_bytes(s.bytes),
        group(s.invalid),
        s.latency
            .map(|l| format!("latency {}, ", percentiles(&l)))
            .unwrap_or_default(),
        s.alerts,
        if s.alerts == 1 { "" } else { "s" },
        if s.alerting {
            ", alert still active"
        } else {
            ""
        },
    );
    paint(style, BOLD, &line)
}

/// `p50 12ms p95 80ms p99 210ms`.
fn percentiles(l: &Latency) -> String {
    format!(
        "p50 {} p95 {} p99 {}",
        millis(l.p50),
        millis(l.p95),
        millis(l.p99)
    )
}

/// Milliseconds, with a decimal below 10 ms: `0.4ms`, `9.5ms`, `12ms`.
fn millis(ms: f64) -> String {
    if ms < 9.95 {
        format!("{ms:.1}ms")
    } else {
        format!("{ms:.0}ms")
    }
}

/// Milliseconds rounded to the microsecond, for JSON.
fn json_latency(l: Option<Latency>) -> Option<Latency> {
    let round = |ms: f64| (ms * 1000.0).round() / 1000.0;
    l.map(|l| Latency {
        p50: round(l.p50),
        p95: round(l.p95),
        p99: round(l.p99),
    })
}

/// Wrap `text` (which may end in a newline) in an ANSI colour.
fn paint(style: &Style, color: &str, text: &str) -> String {
    if !style.color {
        return text.to_owned();
    }
    match text.strip_suffix('\n') {
        Some(body) => format!("{color}{body}{RESET}\n"),
        None => format!("{color}{text}{RESET}"),
    }
}

/// RFC 3339, in the local time zone (with its offset) or UTC.
fn time(t: i64, style: &Style) -> String {
    if style.utc {
        utc(t)
    } else {
        match Local.timestamp_opt(t, 0).single() {
            Some(d) => d.to_rfc3339_opts(SecondsFormat::Secs, false),
            None => utc(t),
        }
    }
}

/// Only the time of day, for the end of a range whose start has the date.
fn clock_time(t: i64, style: &Style) -> String {
    let d = DateTime::from_timestamp(t, 0).unwrap_or_default();
    if style.utc {
        d.format("%H:%M:%S").to_string()
    } else {
        d.with_timezone(&Local).format("%H:%M:%S").to_string()
    }
}

/// RFC 3339 in UTC, `2026-03-01T12:00:00Z`.
pub fn utc(t: i64) -> String {
    match Utc.timestamp_opt(t, 0).single() {
        Some(d) => d.to_rfc3339_opts(SecondsFormat::Secs, true),
        None => t.to_string(),
    }
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// `1234567` -> `1,234,567`.
fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Bytes in binary units: `512 B`, `1.5 KiB`, `3.1 MiB`.
fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Render `event` as one JSON object on one line, ending in a newline.
pub fn json(event: &Event) -> String {
    let mut line = match event {
        Event::Report(r) => serde_json::to_string(&JsonReport::from(&**r)),
        Event::Alert(a) => serde_json::to_string(&JsonAlert::new("alert", a)),
        Event::Recovered(a) => serde_json::to_string(&JsonAlert::new("recovered", a)),
        Event::Summary(s) => serde_json::to_string(&JsonSummary::from(s)),
    }
    .unwrap_or_default();
    line.push('\n');
    line
}

#[derive(Serialize)]
struct JsonReport<'a> {
    r#type: &'static str,
    start: String,
    end: String,
    hits: u64,
    bytes: u64,
    invalid: u64,
    clients: u64,
    clients_exact: bool,
    status: Classes,
    methods: serde_json::Map<String, serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    latency_ms: Option<Latency>,
    sections: Vec<JsonSection<'a>>,
    sections_exact: bool,
    rate: f64,
    window_hits: u64,
    window_average: f64,
    threshold: f64,
    alerting: bool,
}

#[derive(Serialize)]
struct Classes {
    #[serde(rename = "1xx")]
    c1: u64,
    #[serde(rename = "2xx")]
    c2: u64,
    #[serde(rename = "3xx")]
    c3: u64,
    #[serde(rename = "4xx")]
    c4: u64,
    #[serde(rename = "5xx")]
    c5: u64,
}

#[derive(Serialize)]
struct JsonSection<'a> {
    section: &'a str,
    hits: u64,
    errors: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    latency_ms: Option<Latency>,
}

impl<'a> From<&'a Report> for JsonReport<'a> {
    fn from(r: &'a Report) -> Self {
        let s = &r.stats;
        let (clients, clients_exact) = s.clients();
        let methods = Method::ALL
            .iter()
            .filter(|&&m| s.methods[m as usize] > 0)
            .map(|&m| (m.as_str().to_owned(), s.methods[m as usize].into()))
            .collect();
        let [c1, c2, c3, c4, c5] = s.status;
        JsonReport {
            r#type: "report",
            start: utc(r.start),
            end: utc(r.end),
            hits: s.hits,
            bytes: s.bytes,
            invalid: s.invalid,
            clients,
            clients_exact,
            status: Classes { c1, c2, c3, c4, c5 },
            methods,
            latency_ms: json_latency(s.latency()),
            sections: r
                .top
                .iter()
                .map(|row| JsonSection {
                    section: &row.section,
                    hits: row.hits,
                    errors: row.errors,
                    latency_ms: json_latency(row.latency),
                })
                .collect(),
            sections_exact: r.top_exact,
            rate: r.rate(),
            window_hits: r.window_hits,
            window_average: r.window_average(),
            threshold: r.threshold,
            alerting: r.alerting,
        }
    }
}

#[derive(Serialize)]
struct JsonAlert {
    r#type: &'static str,
    hits: u64,
    average: f64,
    threshold: f64,
    window_secs: u32,
    at: String,
}

impl JsonAlert {
    fn new(kind: &'static str, a: &AlertEvent) -> JsonAlert {
        JsonAlert {
            r#type: kind,
            hits: a.hits,
            average: a.average,
            threshold: a.threshold,
            window_secs: a.window_secs,
            at: utc(a.at),
        }
    }
}

#[derive(Serialize)]
struct JsonSummary {
    r#type: &'static str,
    start: String,
    end: String,
    hits: u64,
    bytes: u64,
    invalid: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    latency_ms: Option<Latency>,
    alerts: u64,
    alerting: bool,
}

impl From<&Summary> for JsonSummary {
    fn from(s: &Summary) -> Self {
        JsonSummary {
            r#type: "summary",
            start: utc(s.start),
            end: utc(s.end),
            hits: s.hits,
            bytes: s.bytes,
            invalid: s.invalid,
            latency_ms: json_latency(s.latency),
            alerts: s.alerts,
            alerting: s.alerting,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::Hit;
    use crate::stats::Stats;

    const UTC: Style = Style {
        color: false,
        utc: true,
    };

    /// 2026-03-01T12:00:00Z
    const T: i64 = 1_772_366_400;

    fn report() -> Report {
        let mut stats = Stats::default();
        let add = |stats: &mut Stats, n, status, method, section: &str, client| {
            for _ in 0..n {
                let hit = Hit {
                    time: T,
                    bytes: 1000,
                    client,
                    section: None,
                    status,
                    method,
                    request_us: None,
                };
                stats.add(&hit, Some(section));
            }
        };
        add(&mut stats, 98, 200, Method::Get, "/api", 1);
        add(&mut stats, 2, 503, Method::Post, "/api", 2);
        add(&mut stats, 41, 200, Method::Get, "/report", 3);
        add(&mut stats, 9, 404, Method::Other, "/x\\x1b]0;owned", 4);
        stats.add_invalid(1);
        let (top, top_exact) = stats.top(5);
        Report {
            start: T,
            end: T + 10,
            stats,
            top,
            top_exact,
            window_hits: 1488,
            window_secs: 120,
            threshold: 10.0,
            alerting: true,
        }
    }

    #[test]
    fn report_text_is_pinned() {
        let got = text(&Event::Report(Box::new(report())), &UTC);
        let want = "\
-- 2026-03-01T12:00:00Z to 12:00:10 (10s)
   150 hits  15.0 req/s  146.5 KiB (mean 1000 B)  4 clients  1 invalid
   status  2xx 139  4xx 9  5xx 2  errors 7.3%
   methods  GET 139  POST 2  OTHER 9
   /api            100   66.7%  2 errors
   /report          41   27.3%
   /x\\x1b]0;owned    9    6.0%  9 errors
   window 1,488 hits in 120s = 12.4 req/s (alert above 10)  ALERT ACTIVE
";
        assert_eq!(got, want);
    }

    #[test]
    fn colour_only_adds_ansi_codes() {
        let plain = text(&Event::Report(Box::new(report())), &UTC);
        let coloured = text(
            &Event::Report(Box::new(report())),
            &Style {
                color: true,
                utc: true,
            },
        );
        assert_ne!(plain, coloured);
        assert!(!plain.contains('\x1b'));
        let stripped = regex::Regex::new("\x1b\\[[0-9;]*m")
            .unwrap()
            .replace_all(&coloured, "");
        assert_eq!(stripped, plain);
    }

    #[test]
    fn alert_and_recovery_lines_follow_the_contract() {
        let a = AlertEvent {
            hits: 1215,
            average: 10.125,
            threshold: 10.0,
            window_secs: 120,
            at: T + 80,
        };
        assert_eq!(
            text(&Event::Alert(a), &UTC),
            "High traffic generated an alert - hits = 1215, triggered at 2026-03-01T12:01:20Z (avg 10.1 req/s over 120s, threshold 10)\n"
        );
        assert!(text(&Event::Recovered(a), &UTC).starts_with(
            "High traffic alert recovered - hits = 1215, recovered at 2026-03-01T12:01:20Z"
        ));
        assert_eq!(
            json(&Event::Alert(a)),
            "{\"type\":\"alert\",\"hits\":1215,\"average\":10.125,\"threshold\":10.0,\"window_secs\":120,\"at\":\"2026-03-01T12:01:20Z\"}\n"
        );
    }

    #[test]
    fn report_json_has_the_contract_fields() {
        let line = json(&Event::Report(Box::new(report())));
        assert!(line.ends_with('\n') && !line.trim_end().contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["type"], "report");
        assert_eq!(v["start"], "2026-03-01T12:00:00Z");
        assert_eq!(v["end"], "2026-03-01T12:00:10Z");
        assert_eq!(v["hits"], 150);
        assert_eq!(v["bytes"], 150_000);
        assert_eq!(v["invalid"], 1);
        assert_eq!(v["clients"], 4);
        assert_eq!(v["status"]["2xx"], 139);
        assert_eq!(v["status"]["1xx"], 0);
        assert_eq!(v["methods"]["OTHER"], 9);
        assert_eq!(v["sections"][0]["section"], "/api");
        assert_eq!(v["sections"][0]["hits"], 100);
        assert_eq!(v["sections"][0]["errors"], 2);
        assert_eq!(v["window_hits"], 1488);
        assert_eq!(v["alerting"], true);
    }

    /// Two sections with request times (/a: 10 ms x 9 and 1 s; /b:
    /// 0.25 ms), one without.
    fn timed_report() -> Report {
        let mut stats = Stats::default();
        let mut add = |us: Option<u64>, section: &str| {
            let hit = Hit {
                time: T,
                bytes: 100,
                client: 1,
                section: None,
                status: 200,
                method: Method::Get,
                request_us: us,
            };
            stats.add(&hit, Some(section));
        };
        for _ in 0..9 {
            add(Some(10_000), "/a");
        }
        add(Some(1_000_000), "/a");
        add(Some(250), "/b");
        add(None, "/c");
        let (top, top_exact) = stats.top(5);
        Report {
            start: T,
            end: T + 10,
            stats,
            top,
            top_exact,
            window_hits: 12,
            window_secs: 120,
            threshold: 10.0,
            alerting: false,
        }
    }

    #[test]
    fn latency_shows_overall_and_per_section_when_lines_carry_it() {
        let got = text(&Event::Report(Box::new(timed_report())), &UTC);
        let want = "\
-- 2026-03-01T12:00:00Z to 12:00:10 (10s)
   12 hits  1.2 req/s  1.2 KiB (mean 100 B)  1 clients
   status  2xx 12  errors 0.0%
   methods  GET 12
   latency p50 10ms p95 1001ms p99 1001ms
   /a  10   83.3%  p50 10ms p95 1001ms p99 1001ms
   /b   1    8.3%  p50 0.2ms p95 0.2ms p99 0.2ms
   /c   1    8.3%
   window 12 hits in 120s = 0.1 req/s (alert above 10)
";
        assert_eq!(got, want);
        assert!(!text(&Event::Report(Box::new(report())), &UTC).contains("latency"));
    }

    #[test]
    fn latency_json_is_in_milliseconds_and_omitted_without_data() {
        let v: serde_json::Value =
            serde_json::from_str(&json(&Event::Report(Box::new(timed_report())))).unwrap();
        assert_eq!(v["latency_ms"]["p50"], 10.016, "{v}");
        // Each value is the middle of its HDR bucket: within 0.5% of exact.
        assert_eq!(v["latency_ms"]["p99"], 1001.472);
        assert_eq!(v["sections"][1]["latency_ms"]["p95"], 0.25);
        assert!(v["sections"][2].get("latency_ms").is_none());
        let plain: serde_json::Value =
            serde_json::from_str(&json(&Event::Report(Box::new(report())))).unwrap();
        assert!(plain.get("latency_ms").is_none());
        assert!(plain["sections"][0].get("latency_ms").is_none());
    }

    #[test]
    fn summary_says_when_an_alert_is_still_active() {
        let s = Summary {
            start: T,
            end: T + 600,
            hits: 5100,
            bytes: 3 << 20,
            invalid: 0,
            latency: None,
            alerts: 1,
            alerting: true,
        };
        assert_eq!(
            text(&Event::Summary(s), &UTC),
            "== summary 2026-03-01T12:00:00Z to 12:10:00 (600s): 5,100 hits, 3.0 MiB, 0 invalid, 1 alert, alert still active\n"
        );
        let v: serde_json::Value = serde_json::from_str(&json(&Event::Summary(s))).unwrap();
        assert_eq!(v["type"], "summary");
        assert_eq!(v["alerting"], true);
        assert_eq!(v["alerts"], 1);
    }

    #[test]
    fn numbers_are_grouped_and_bytes_humanized() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1000), "1,000");
        assert_eq!(group(1_234_567), "1,234,567");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 << 30), "3.0 GiB");
    }
}
