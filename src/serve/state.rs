//! What the dashboard knows: counters since start, the window's gauges, the
//! last report and the history of alerts, kept up to date by the main loop.
//!
//! Pure: no clock, no I/O, no threads (`serve` wraps it in a mutex). It is
//! fed three ways:
//! - `count(batch)` with every batch read since start. Backfilled lines are
//!   not given to it: they feed only the window, which `observe` reads.
//! - `observe(monitor)` on every wake of the main loop: the window gauges,
//!   the chart (read from the monitor's window, never copied whole) and
//!   the alert state. It returns
//!   the seconds the monitor closed since the last call, each once and in
//!   order, which `second_json` turns into the `/events`-only `second`
//!   event that moves the page's chart every second.
//! - `event(event)` with every event the loop prints. Reports and alert
//!   transitions are kept, and come back as the `--format json` line to
//!   send to live clients, so `render::json` stays the one source of event
//!   JSON.
//!
//! Memory is bounded: at most `MAX_SECTION_SERIES` section series,
//! `MAX_HISTORY` history entries and `MAX_CHART_POINTS` chart points,
//! whatever the log holds and however long the window is; status codes are
//! three digits (the parsers take 100 to 599) or `-`, so at most 501
//! `logmon_responses_total` series (a code outside that range, which only
//! a hand-built batch holds, still gets its own); the latency histogram is
//! a fixed array.

use std::collections::{BTreeMap, HashMap, VecDeque};

use serde_json::{json, Value};

use crate::batch::Batch;
use crate::monitor::{Event, Monitor, Report};
use crate::parse::NO_STATUS;
use crate::render;
use crate::stats::{status_class, STATUS_CLASSES};

use super::prom::{Exposition, Kind};

/// Most sections with a series of their own in
/// `logmon_section_requests_total`; the rest count under `other`.
pub const MAX_SECTION_SERIES: usize = 100;
/// Alerts and recoveries kept for the page, newest last.
pub const MAX_HISTORY: usize = 100;
/// Most points in the state's chart: a longer window is drawn in buckets
/// of several seconds, so the state stays small.
pub const MAX_CHART_POINTS: usize = 600;

/// The label of the series that counts every section without its own.
pub const OTHER_SECTION: &str = "other";

/// Upper bounds of `logmon_request_duration_seconds`, in seconds: the
/// Prometheus client libraries' defaults, so fleet-wide queries
/// (`histogram_quantile`) line up with other services' histograms.
pub const DURATION_BOUNDS_SECS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// The same bounds in microseconds, the unit of `Hit::request_us`.
const DURATION_BOUNDS_US: [u64; 11] = [
    5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000,
    10_000_000,
];

/// The dashboard's view of the run.
#[derive(Debug)]
pub struct State {
    window_secs: u32,
    threshold: f64,
    /// Requests since start by status class, named by `STATUS_CLASSES`.
    requests: [u64; 6],
    bytes: u64,
    invalid: u64,
    codes: Codes,
    durations: Durations,
    sections: Sections,
    /// The monitor's current second, once its clock has started.
    now: Option<i64>,
    /// The newest second returned by `observe` as closed (or, at the
    /// first observation, the newest second the state already charts).
    closed: Option<i64>,
    /// The chart of the window's complete seconds: seconds per bucket and
    /// the average rate of each bucket, oldest first (see [`chart`]).
    chart: (usize, Vec<f64>),
    /// The monitor's `(now, window_hits)` when `chart` was drawn: while
    /// both stay, no second has moved and no hit has come, so the chart
    /// stands.
    charted: Option<(i64, u64)>,
    window_hits: u64,
    alerting: bool,
    /// The last report, as `--format json` prints it.
    report: Option<Value>,
    /// Alerts and recoveries, as `--format json` prints them, oldest first.
    history: VecDeque<Value>,
}

impl State {
    /// An empty state for a run with this alert window and threshold.
    pub fn new(window_secs: u32, threshold: f64) -> State {
        State {
            window_secs,
            threshold,
            requests: [0; 6],
            bytes: 0,
            invalid: 0,
            codes: Codes::default(),
            durations: Durations::default(),
            sections: Sections::default(),
            now: None,
            closed: None,
            chart: (1, Vec::new()),
            charted: None,
            window_hits: 0,
            alerting: false,
            report: None,
            history: VecDeque::new(),
        }
    }

    /// Count a batch of lines read since start.
    pub fn count(&mut self, batch: &Batch) {
        for hit in &batch.hits {
            // The same classes as `Stats`.
            self.requests[status_class(hit.status)] += 1;
            self.codes.count(hit.status);
            self.bytes = self.bytes.saturating_add(hit.bytes);
            if let Some(us) = hit.request_us {
                self.durations.observe(us);
            }
        }
        self.invalid = self.invalid.saturating_add(batch.invalid());
    }

    /// Take the window's gauges and the alert state from the monitor, and
    /// return the seconds it closed since the last call as `(second,
    /// hits)`, oldest first: each second once, and only those still in the
    /// window (a longer jump of the clock closes seconds that are gone).
    /// The first call returns none: the state charts them already.
    pub fn observe(&mut self, monitor: &Monitor) -> Vec<(i64, u64)> {
        self.now = monitor.now();
        self.window_hits = monitor.window_hits();
        self.alerting = monitor.alerting();
        let Some(now) = self.now else {
            return Vec::new();
        };
        // The window ends with `now`, which is still open (on the wall
        // clock) or empty (after a replay's end): the chart and the closed
        // seconds stop at the one before.
        let complete = || monitor.window_per_second().rev().skip(1);
        if self.charted != Some((now, self.window_hits)) {
            self.charted = Some((now, self.window_hits));
            let seconds = complete().len();
            self.chart = chart(complete(), seconds, MAX_CHART_POINTS);
        }
        let newest = now - 1;
        let Some(closed) = self.closed.replace(newest) else {
            return Vec::new();
        };
        let fresh = usize::try_from(newest - closed).unwrap_or(0);
        let mut seconds: Vec<(i64, u64)> = (complete().take(fresh))
            .zip(0..)
            .map(|(hits, back)| (newest - back, hits))
            .collect();
        seconds.reverse();
        seconds
    }

    /// The `second` event of a second `observe` returned, as one JSON line
    /// (without the newline): its hits, and the window's gauges now.
    pub fn second_json(&self, at: i64, hits: u64) -> String {
        json!({
            "type": "second",
            "at": render::utc(at),
            "hits": hits,
            "window_hits": self.window_hits,
            "window_average": self.window_average(),
        })
        .to_string()
    }

    /// Keep what `event` says. Returns its JSON line (without the newline)
    /// for live clients, or `None` for an event they are not sent.
    pub fn event(&mut self, event: &Event) -> Option<String> {
        let line = match event {
            Event::Report(_) | Event::Alert(_) | Event::Recovered(_) => render::json(event),
            Event::Summary(_) => return None,
        };
        let line = line.trim_end().to_owned();
        let value: Value = serde_json::from_str(&line).ok()?;
        match event {
            Event::Report(r) => {
                self.sections.report(r);
                self.alerting = r.alerting;
                self.report = Some(value);
            }
            Event::Alert(_) | Event::Recovered(_) => {
                self.alerting = matches!(event, Event::Alert(_));
                if self.history.len() == MAX_HISTORY {
                    self.history.pop_front();
                }
                self.history.push_back(value);
            }
            Event::Summary(_) => {}
        }
        Some(line)
    }

    /// Requests counted since start.
    pub fn requests(&self) -> u64 {
        self.requests.iter().sum()
    }

    /// The whole state as one JSON object (`"type": "state"`), for
    /// `/api/state` and the first event of `/events`.
    pub fn to_json(&self) -> Value {
        let (bucket_secs, rates) = &self.chart;
        let status: serde_json::Map<String, Value> = STATUS_CLASSES
            .iter()
            .zip(self.requests)
            .map(|(class, n)| ((*class).to_owned(), n.into()))
            .collect();
        let codes: serde_json::Map<String, Value> = (self.codes.seen())
            .map(|(code, n)| (code_label(code), n.into()))
            .collect();
        json!({
            "type": "state",
            "at": self.now.map(render::utc),
            "window_secs": self.window_secs,
            "threshold": self.threshold,
            "window_hits": self.window_hits,
            "window_average": self.window_average(),
            "alerting": self.alerting,
            "chart": {
                "bucket_secs": bucket_secs,
                "rates": rates,
                // The newest point's second (its bucket's last).
                "end": self.now.filter(|_| !rates.is_empty()).map(|now| render::utc(now - 1)),
            },
            "totals": {
                "hits": self.requests(),
                "bytes": self.bytes,
                "invalid": self.invalid,
                "status": status,
                "codes": codes,
            },
            "report": self.report,
            "history": self.history,
        })
    }

    /// The state in the Prometheus text format.
    pub fn metrics(&self) -> String {
        let mut e = Exposition::default();
        let name = "logmon_requests_total";
        e.family(
            name,
            Kind::Counter,
            "Requests read since start, by status class (lines backfilled at startup are not counted).",
        );
        for (class, n) in STATUS_CLASSES.iter().zip(self.requests) {
            e.sample(name, &[("class", class)], n);
        }
        let name = "logmon_responses_total";
        e.family(
            name,
            Kind::Counter,
            "Requests read since start, by exact status code (code=\"-\" when the log wrote none); a series per code seen.",
        );
        for (code, n) in self.codes.seen() {
            e.sample(name, &[("code", &code_label(code))], n);
        }
        let name = "logmon_request_duration_seconds";
        e.family(
            name,
            Kind::Histogram,
            "Request times of the requests read since start whose line carries one (nginx $request_time, Apache %D, W3C time-taken, JSON).",
        );
        e.histogram(
            name,
            &DURATION_BOUNDS_SECS,
            &self.durations.counts,
            self.durations.sum_us as f64 / 1e6,
        );
        let name = "logmon_bytes_total";
        e.family(
            name,
            Kind::Counter,
            "Response bytes of the requests read since start.",
        );
        e.sample(name, &[], self.bytes);
        let name = "logmon_invalid_lines_total";
        e.family(
            name,
            Kind::Counter,
            "Lines read since start that did not parse.",
        );
        e.sample(name, &[], self.invalid);

        let name = "logmon_window_hits";
        e.family(name, Kind::Gauge, "Requests in the alert window.");
        e.sample(name, &[], self.window_hits);
        let name = "logmon_window_average_requests_per_second";
        e.family(
            name,
            Kind::Gauge,
            "Average request rate over the alert window.",
        );
        e.sample(name, &[], self.window_average());
        let name = "logmon_alert_threshold_requests_per_second";
        e.family(
            name,
            Kind::Gauge,
            "The alert fires when the window average is strictly above this.",
        );
        e.sample(name, &[], self.threshold);
        let name = "logmon_alert_active";
        e.family(
            name,
            Kind::Gauge,
            "1 while a high-traffic alert is active, else 0.",
        );
        e.sample(name, &[], u64::from(self.alerting));

        let name = "logmon_section_requests_total";
        e.family(
            name,
            Kind::Counter,
            "Requests by section, counted at each report, for sections that have been in a report's top list; every other request counts under section=\"other\".",
        );
        for (section, n) in self.sections.series() {
            e.sample(name, &[("section", section)], n);
        }
        e.sample(name, &[("section", OTHER_SECTION)], self.sections.other);
        e.finish()
    }

    fn window_average(&self) -> f64 {
        self.window_hits as f64 / f64::from(self.window_secs.max(1))
    }
}

/// A status code as a label: `404`, or `-` for a hit without one.
fn code_label(code: u16) -> String {
    match code {
        NO_STATUS => "-".to_owned(),
        code => code.to_string(),
    }
}

/// Requests by exact status code (`NO_STATUS` for `-`): an array indexed
/// by the code, as this is counted for every hit, and a map for codes
/// outside it, which the parsers never give.
#[derive(Debug)]
struct Codes {
    common: Box<[u64; 600]>,
    rare: BTreeMap<u16, u64>,
}

impl Default for Codes {
    fn default() -> Codes {
        Codes {
            common: Box::new([0; 600]),
            rare: BTreeMap::new(),
        }
    }
}

impl Codes {
    fn count(&mut self, status: u16) {
        match self.common.get_mut(usize::from(status)) {
            Some(n) => *n += 1,
            None => *self.rare.entry(status).or_default() += 1,
        }
    }

    /// `(code, requests)` of each code seen, in code order.
    fn seen(&self) -> impl Iterator<Item = (u16, u64)> + '_ {
        let common = (0u16..).zip(self.common.iter().copied());
        let rare = self.rare.iter().map(|(&code, &n)| (code, n));
        common.chain(rare).filter(|&(_, n)| n > 0)
    }
}

/// Request times in the buckets of `DURATION_BOUNDS_US`.
#[derive(Debug, Default)]
struct Durations {
    /// Observations per bucket (not cumulative); the last is above 10 s.
    counts: [u64; DURATION_BOUNDS_US.len() + 1],
    /// Sum of all observations, in microseconds (584,000 years of them
    /// fit).
    sum_us: u64,
}

impl Durations {
    fn observe(&mut self, us: u64) {
        // A bucket holds the times at most its bound (`le`).
        let i = DURATION_BOUNDS_US.partition_point(|&bound| bound < us);
        self.counts[i] += 1;
        self.sum_us = self.sum_us.saturating_add(us);
    }
}

/// Per-section counters with bounded cardinality.
#[derive(Debug, Default)]
struct Sections {
    series: HashMap<Box<str>, u64>,
    /// Requests of sections without a series, and requests with no section.
    other: u64,
}

impl Sections {
    /// Count a period. Its top sections get a series (while there is room)
    /// before its counts are added, so a section's first period counts too.
    fn report(&mut self, r: &Report) {
        for row in &r.top {
            if self.series.len() < MAX_SECTION_SERIES && !self.series.contains_key(&*row.section) {
                self.series.insert(row.section.as_str().into(), 0);
            }
        }
        let mut counted = 0;
        if !self.series.is_empty() {
            let (rows, _) = r.stats.top(usize::MAX);
            for row in rows {
                if let Some(n) = self.series.get_mut(row.section.as_str()) {
                    *n += row.hits;
                    counted += row.hits;
                }
            }
        }
        // The rest goes to `other`, including what a pruned section table
        // no longer knows the section of: the series add up to every
        // request reported.
        self.other += r.stats.hits.saturating_sub(counted);
    }

    /// `(section, requests)` in name order, so the output is stable.
    fn series(&self) -> Vec<(&str, u64)> {
        let mut all: Vec<_> = self.series.iter().map(|(k, &v)| (&**k, v)).collect();
        all.sort_unstable();
        all
    }
}

/// Average rates over buckets of whole seconds, oldest first, with at most
/// `max_points` buckets, of the first `seconds` counts of `newest_first`
/// (hits per second, newest first). Buckets are cut from the newest second
/// backwards, so only the oldest bucket can be short. Returns the bucket
/// length too.
pub fn chart(
    newest_first: impl Iterator<Item = u64>,
    seconds: usize,
    max_points: usize,
) -> (usize, Vec<f64>) {
    let bucket = seconds.div_ceil(max_points.max(1)).max(1);
    let mut rates = Vec::with_capacity(seconds.div_ceil(bucket));
    let (mut sum, mut n) = (0u64, 0usize);
    for hits in newest_first.take(seconds) {
        sum = sum.saturating_add(hits);
        n += 1;
        if n == bucket {
            rates.push(sum as f64 / n as f64);
            (sum, n) = (0, 0);
        }
    }
    if n > 0 {
        rates.push(sum as f64 / n as f64);
    }
    rates.reverse();
    (bucket, rates)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::Hit;
    use crate::monitor::AlertEvent;
    use crate::parse::Method;
    use crate::stats::Stats;

    fn hit(status: u16, bytes: u64) -> Hit {
        Hit {
            time: 0,
            bytes,
            client: 0,
            section: None,
            status,
            method: Method::Get,
            request_us: None,
        }
    }

    /// A report of `hits` per section, with the top `top` sections listed.
    fn report(hits: &[(&str, u64)], top: usize) -> Event {
        let mut stats = Stats::default();
        for &(section, n) in hits {
            for _ in 0..n {
                stats.add(&hit(200, 1), Some(section));
            }
        }
        let (top, top_exact) = stats.top(top);
        Event::Report(Box::new(Report {
            start: 0,
            end: 10,
            stats,
            top,
            top_exact,
            window_hits: 0,
            window_secs: 120,
            threshold: 10.0,
            alerting: false,
            alert_since: None,
            window_bars: vec![0; 24],
            bar_secs: 5,
            drill: Default::default(),
            files: None,
            files_shown: 5,
        }))
    }

    fn alert(at: i64) -> AlertEvent {
        AlertEvent {
            hits: 1215,
            average: 10.125,
            threshold: 10.0,
            window_secs: 120,
            at,
            since: at,
            peak_hits: 1215,
            drivers: Default::default(),
        }
    }

    /// The value of the sample `line_start` (name and labels) in `text`.
    fn sample(text: &str, line_start: &str) -> Option<u64> {
        text.lines()
            .find_map(|l| l.strip_prefix(line_start)?.strip_prefix(' '))
            .map(|v| v.parse().unwrap())
    }

    #[test]
    fn request_counters_add_up_by_class_bytes_and_invalid_lines() {
        let mut s = State::new(120, 10.0);
        let mut b = Batch::default();
        for (status, bytes) in [
            (200, 10),
            (204, 5),
            (301, 0),
            (404, 1),
            (503, 2),
            (99, 0),
            (NO_STATUS, 3),
        ] {
            b.hits.push(hit(status, bytes));
        }
        b.push_invalid();
        s.count(&b);
        s.count(&b);
        let m = s.metrics();
        assert_eq!(sample(&m, r#"logmon_requests_total{class="1xx"}"#), Some(2));
        assert_eq!(sample(&m, r#"logmon_requests_total{class="2xx"}"#), Some(4));
        assert_eq!(sample(&m, r#"logmon_requests_total{class="5xx"}"#), Some(2));
        assert_eq!(
            sample(&m, r#"logmon_requests_total{class="other"}"#),
            Some(2)
        );
        assert_eq!(sample(&m, "logmon_bytes_total"), Some(42));
        assert_eq!(sample(&m, "logmon_invalid_lines_total"), Some(2));
        assert_eq!(s.requests(), 14);
        assert_eq!(s.to_json()["totals"]["status"]["3xx"], 2);
        assert_eq!(s.to_json()["totals"]["status"]["other"], 2);
    }

    #[test]
    fn a_section_gets_a_series_when_it_enters_a_top_list_and_keeps_it() {
        let mut s = State::new(120, 10.0);
        s.event(&report(&[("/api", 5), ("/img", 3), ("/x", 1)], 2));
        let m = s.metrics();
        assert_eq!(
            sample(&m, r#"logmon_section_requests_total{section="/api"}"#),
            Some(5)
        );
        assert_eq!(
            sample(&m, r#"logmon_section_requests_total{section="/img"}"#),
            Some(3)
        );
        assert_eq!(
            sample(&m, r#"logmon_section_requests_total{section="other"}"#),
            Some(1)
        );
        assert!(!m.contains(r#"section="/x""#));

        // `/img` drops out of the top list but keeps counting in its series.
        s.event(&report(&[("/api", 5), ("/x", 4), ("/img", 2)], 2));
        let m = s.metrics();
        assert_eq!(
            sample(&m, r#"logmon_section_requests_total{section="/api"}"#),
            Some(10)
        );
        assert_eq!(
            sample(&m, r#"logmon_section_requests_total{section="/img"}"#),
            Some(5)
        );
        assert_eq!(
            sample(&m, r#"logmon_section_requests_total{section="/x"}"#),
            Some(4)
        );
        assert_eq!(
            sample(&m, r#"logmon_section_requests_total{section="other"}"#),
            Some(1)
        );
    }

    #[test]
    fn section_series_stay_bounded_and_still_add_up() {
        let mut s = State::new(120, 10.0);
        let mut total = 0;
        for round in 0..30u64 {
            let names: Vec<String> = (0..10).map(|i| format!("/s{round}-{i}")).collect();
            let hits: Vec<(&str, u64)> = names.iter().map(|n| (n.as_str(), 2)).collect();
            s.event(&report(&hits, 5));
            total += 20;
        }
        let m = s.metrics();
        let series: Vec<&str> = m
            .lines()
            .filter(|l| l.starts_with("logmon_section_requests_total{"))
            .collect();
        assert_eq!(
            series.len(),
            MAX_SECTION_SERIES + 1,
            "100 sections and other"
        );
        let sum: u64 = series
            .iter()
            .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
            .sum();
        assert_eq!(sum, total);
    }

    #[test]
    fn section_labels_are_escaped() {
        let mut s = State::new(120, 10.0);
        s.event(&report(&[("/a\"b\\c", 1)], 5));
        assert!(s
            .metrics()
            .contains(r#"logmon_section_requests_total{section="/a\"b\\c"} 1"#));
    }

    #[test]
    fn events_come_back_as_their_json_lines_and_build_the_history() {
        let mut s = State::new(120, 10.0);
        let line = s.event(&Event::Alert(alert(80))).unwrap();
        assert_eq!(line, render::json(&Event::Alert(alert(80))).trim_end());
        assert!(s.to_json()["alerting"].as_bool().unwrap());
        s.event(&Event::Recovered(alert(346)));
        let state = s.to_json();
        assert_eq!(state["alerting"], false);
        let kinds: Vec<_> = state["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["type"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(kinds, ["alert", "recovered"]);
        assert_eq!(state["history"][1]["at"], "1970-01-01T00:05:46Z");
        let summary = crate::monitor::Summary {
            end: 1,
            ..Default::default()
        };
        assert_eq!(s.event(&Event::Summary(summary)), None);
    }

    #[test]
    fn history_keeps_the_newest_entries() {
        let mut s = State::new(120, 10.0);
        for at in 0..(MAX_HISTORY as i64 + 5) {
            s.event(&Event::Alert(alert(at)));
        }
        let state = s.to_json();
        let history = state["history"].as_array().unwrap();
        assert_eq!(history.len(), MAX_HISTORY);
        assert_eq!(history[0]["at"], "1970-01-01T00:00:05Z");
    }

    #[test]
    fn gauges_follow_the_monitor() {
        use crate::monitor::Config;
        let cfg = Config {
            period_secs: 10,
            window_secs: 4,
            threshold: 1.0,
            top: 5,
        };
        let mut m = Monitor::wall(cfg, 100);
        let mut b = Batch::default();
        b.hits = vec![
            Hit {
                time: 99,
                ..hit(200, 1)
            };
            8
        ];
        m.add(&b, &mut Vec::new());
        let mut s = State::new(4, 1.0);
        s.observe(&m);
        let state = s.to_json();
        assert_eq!(state["window_hits"], 8);
        assert_eq!(state["window_average"], 2.0);
        // Second 100 is still filling and left out of the chart.
        assert_eq!(state["chart"]["rates"], json!([0.0, 0.0, 8.0]));
        assert_eq!(state["at"], "1970-01-01T00:01:40Z");
        let metrics = s.metrics();
        assert!(metrics.contains("\nlogmon_window_hits 8\n"), "{metrics}");
        assert!(metrics.contains("\nlogmon_window_average_requests_per_second 2\n"));
        assert!(metrics.contains("\nlogmon_alert_threshold_requests_per_second 1\n"));
        assert!(metrics.contains("\nlogmon_alert_active 0\n"));
    }

    #[test]
    fn responses_count_by_exact_code_with_a_dash_for_no_status() {
        let mut s = State::new(120, 10.0);
        let mut b = Batch::default();
        for status in [200, 200, 404, 503, 502, 200, NO_STATUS, 1000] {
            b.hits.push(hit(status, 0));
        }
        s.count(&b);
        let m = s.metrics();
        assert_eq!(sample(&m, r#"logmon_responses_total{code="200"}"#), Some(3));
        assert_eq!(sample(&m, r#"logmon_responses_total{code="404"}"#), Some(1));
        assert_eq!(sample(&m, r#"logmon_responses_total{code="502"}"#), Some(1));
        assert_eq!(sample(&m, r#"logmon_responses_total{code="503"}"#), Some(1));
        assert_eq!(sample(&m, r#"logmon_responses_total{code="-"}"#), Some(1));
        // Not from a parser (they take 100 to 599), but still counted.
        assert_eq!(
            sample(&m, r#"logmon_responses_total{code="1000"}"#),
            Some(1)
        );
        let codes: Vec<&str> = m
            .lines()
            .filter_map(|l| l.strip_prefix("logmon_responses_total{code=\""))
            .map(|l| l.split('"').next().unwrap())
            .collect();
        assert_eq!(
            codes,
            ["-", "200", "404", "502", "503", "1000"],
            "one series per code seen"
        );
        assert_eq!(
            s.to_json()["totals"]["codes"],
            json!({"-": 1, "200": 3, "404": 1, "502": 1, "503": 1, "1000": 1})
        );
    }

    #[test]
    fn request_times_fill_cumulative_buckets_bounds_included() {
        let mut s = State::new(120, 10.0);
        let mut b = Batch::default();
        // 1 ms, exactly 5 ms (in the 0.005 bucket: `le` is "at most"),
        // 5.001 ms, 300 ms, 12 s, and a line without a time.
        for us in [
            Some(1_000),
            Some(5_000),
            Some(5_001),
            Some(300_000),
            Some(12_000_000),
            None,
        ] {
            b.hits.push(Hit {
                request_us: us,
                ..hit(200, 0)
            });
        }
        s.count(&b);
        let m = s.metrics();
        let bucket = |le: &str| {
            sample(
                &m,
                &format!("logmon_request_duration_seconds_bucket{{le=\"{le}\"}}"),
            )
        };
        assert_eq!(bucket("0.005"), Some(2));
        assert_eq!(bucket("0.01"), Some(3));
        assert_eq!(bucket("0.25"), Some(3));
        assert_eq!(bucket("0.5"), Some(4));
        assert_eq!(bucket("10"), Some(4));
        assert_eq!(bucket("+Inf"), Some(5));
        assert_eq!(sample(&m, "logmon_request_duration_seconds_count"), Some(5));
        assert!(
            m.contains("\nlogmon_request_duration_seconds_sum 12.311001\n"),
            "{m}"
        );
        assert!(m.contains("# TYPE logmon_request_duration_seconds histogram\n"));
        let bounds: Vec<&str> = m
            .lines()
            .filter_map(|l| l.strip_prefix("logmon_request_duration_seconds_bucket{le=\""))
            .map(|l| l.split('"').next().unwrap())
            .collect();
        assert_eq!(
            bounds,
            [
                "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10",
                "+Inf"
            ]
        );
    }

    #[test]
    fn an_empty_histogram_still_has_every_bucket_and_a_zero_sum() {
        let m = State::new(120, 10.0).metrics();
        assert_eq!(
            sample(&m, r#"logmon_request_duration_seconds_bucket{le="+Inf"}"#),
            Some(0)
        );
        assert!(m.contains("\nlogmon_request_duration_seconds_sum 0\n"));
        assert!(
            !m.contains("logmon_responses_total{"),
            "no code seen, no series"
        );
    }

    fn wall_monitor(window_secs: u32, now: i64) -> Monitor {
        use crate::monitor::Config;
        let cfg = Config {
            period_secs: 3600,
            window_secs,
            threshold: 100.0,
            top: 5,
        };
        Monitor::wall(cfg, now)
    }

    fn hits_at(m: &mut Monitor, at: i64, n: usize) {
        let mut b = Batch::default();
        b.hits = vec![
            Hit {
                time: at,
                ..hit(200, 1)
            };
            n
        ];
        m.add(&b, &mut Vec::new());
    }

    #[test]
    fn each_closed_second_is_returned_once_in_order_with_its_hits() {
        let mut m = wall_monitor(10, 100);
        let mut s = State::new(10, 100.0);
        hits_at(&mut m, 100, 3);
        assert_eq!(s.observe(&m), [], "the first look: the state charts it");
        assert_eq!(s.observe(&m), [], "no second closed");
        m.tick(101, &mut Vec::new());
        assert_eq!(s.observe(&m), [(100, 3)]);
        hits_at(&mut m, 101, 2);
        hits_at(&mut m, 102, 1);
        assert_eq!(s.observe(&m), [], "101 is still open");
        m.tick(104, &mut Vec::new());
        assert_eq!(s.observe(&m), [(101, 3), (102, 0), (103, 0)]);
        assert_eq!(s.observe(&m), []);
        // The hit stamped 102 arrived while 101 was open: it counts at 101.
        let line: Value = serde_json::from_str(&s.second_json(101, 3)).unwrap();
        assert_eq!(
            line,
            json!({
                "type": "second",
                "at": "1970-01-01T00:01:41Z",
                "hits": 3,
                "window_hits": 6,
                "window_average": 0.6,
            })
        );
    }

    #[test]
    fn a_late_hit_in_a_closed_second_redraws_the_chart() {
        let mut m = wall_monitor(4, 100);
        let mut s = State::new(4, 100.0);
        hits_at(&mut m, 99, 2);
        s.observe(&m);
        assert_eq!(s.to_json()["chart"]["rates"], json!([0.0, 0.0, 2.0]));
        // Same second, same hits: nothing to redraw, nothing closed.
        assert_eq!(s.observe(&m), []);
        hits_at(&mut m, 98, 5);
        assert_eq!(s.observe(&m), [], "98 was returned before, or never");
        assert_eq!(s.to_json()["chart"]["rates"], json!([0.0, 5.0, 2.0]));
    }

    #[test]
    fn a_jump_longer_than_the_window_returns_only_the_window() {
        let mut m = wall_monitor(4, 100);
        let mut s = State::new(4, 100.0);
        s.observe(&m);
        m.tick(1000, &mut Vec::new());
        // The window is 997..=1000, and 1000 is still open.
        assert_eq!(s.observe(&m), [(997, 0), (998, 0), (999, 0)]);
        // The state's chart ends with the last second returned.
        assert_eq!(s.to_json()["chart"]["end"], "1970-01-01T00:16:39Z");
        assert_eq!(s.to_json()["chart"]["rates"], json!([0.0, 0.0, 0.0]));
    }

    #[test]
    fn a_clock_that_has_not_started_closes_nothing() {
        use crate::monitor::Config;
        let cfg = Config {
            period_secs: 10,
            window_secs: 4,
            threshold: 1.0,
            top: 5,
        };
        let m = Monitor::log(cfg);
        let mut s = State::new(4, 1.0);
        assert_eq!(s.observe(&m), []);
        assert_eq!(s.to_json()["chart"]["end"], Value::Null);
    }

    #[test]
    fn long_windows_are_charted_in_buckets_cut_from_the_newest_second() {
        let of = |oldest_first: &[u64], max| {
            chart(oldest_first.iter().rev().copied(), oldest_first.len(), max)
        };
        assert_eq!(of(&[1, 2, 3], 600), (1, vec![1.0, 2.0, 3.0]));
        assert_eq!(of(&[], 600), (1, vec![]));
        // 5 seconds in at most 2 points: buckets of 3, the oldest short.
        assert_eq!(of(&[4, 1, 2, 3, 4], 2), (3, vec![2.5, 3.0]));
        let day = vec![1; 86_400];
        let (bucket, rates) = of(&day, MAX_CHART_POINTS);
        assert_eq!(bucket, 144);
        assert_eq!(rates.len(), 600);
        assert!(rates.iter().all(|&r| r == 1.0));
    }
}
