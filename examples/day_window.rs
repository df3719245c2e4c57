//! Peak memory of the monitor with a day-long alert window in one-second
//! periods (`--window 86400 --period 1`), the worst case for the drivers'
//! history: 172,800 periods in two windows, folded into 130 slots.
//!
//! Feeds the monitor directly (no reader thread, no output), each event
//! dropped as soon as it is made, over two days and a half of log time at
//! `RATE` lines a second, every line from a new client and most with a new
//! section, then prints the process's peak RSS (`VmHWM`).
//!
//! Usage: `cargo run --release --example day_window`

// A measuring tool run by hand: printing with the macros is fine here.
#![allow(clippy::disallowed_macros)]

use logmon::batch::Batch;
use logmon::monitor::{Config, Event, Monitor};
use logmon::parse::Parser;

/// Lines a second of log time.
const RATE: i64 = 5;
/// 2026-03-01T00:00:00Z
const START: i64 = 1_772_323_200;

fn main() {
    let cfg = Config {
        period_secs: 1,
        window_secs: 86_400,
        threshold: 4.0,
        top: 5,
    };
    let hasher = foldhash::quality::RandomState::default();
    let mut parser = Parser::new();
    let mut monitor = Monitor::log(cfg);
    let mut events = Vec::new();
    let (mut reports, mut alerts) = (0u64, 0u64);
    let mut n = 0u64;
    // Two and a half days, a second a batch; events are dropped as they
    // come, as the real loop prints them.
    for hour in 0..60 {
        for s in 0..3600 {
            let mut batch = Batch::default();
            let t = START + hour * 3600 + s;
            let stamp = chrono::DateTime::from_timestamp(t, 0).expect("in range");
            let stamp = stamp.format("%d/%b/%Y:%H:%M:%S +0000");
            // More traffic on the second day, so the alert fires.
            let rate = if hour >= 24 { RATE } else { RATE - 2 };
            for _ in 0..rate {
                let [_, a, b, c] = (n as u32).to_be_bytes();
                let line = format!(
                    "10.{a}.{b}.{c} - - [{stamp}] \"GET /s{}/x?q={n} HTTP/1.1\" 200 512 \
                     \"https://ref{}.example.com/\" \"agent/{}\"",
                    n % 50_000,
                    n % 1000,
                    n % 300
                );
                if let Ok(record) = parser.parse(line.as_bytes()) {
                    batch.push(&record, &hasher);
                }
                n += 1;
            }
            monitor.add(&batch, &mut events);
            for e in events.drain(..) {
                match e {
                    Event::Report(_) => reports += 1,
                    Event::Alert(_) => alerts += 1,
                    _ => {}
                }
            }
        }
    }
    monitor.finish(&mut events);
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak = status
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .unwrap_or("VmHWM: unknown");
    println!("{n} lines, {reports} reports, {alerts} alert(s); {peak}");
}
