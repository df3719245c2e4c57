//! The main loop's per-line work, over batches parsed beforehand:
//! `Monitor::add` with its statistics, drill-down tables, window and
//! reports, at two traffic densities, and the JSON rendering of the
//! reports. The whole process is `bench/run.sh`'s to measure.
//!
//! `cargo bench --bench aggregate`

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

use logmon::batch::Batch;
use logmon::gen::{write_lines, GenFormat, Generator};
use logmon::monitor::{Config, Event, Monitor};
use logmon::render;

#[path = "support/parsed.rs"]
mod parsed;

/// 2026-03-01T12:00:00Z
const START: i64 = 1_772_366_400;
const CFG: Config = Config {
    period_secs: 10,
    window_secs: 120,
    threshold: 10.0,
    top: 5,
};

/// `n` Combined lines from `loggen --seed 42` at `rate` lines a second of
/// log time, parsed into batches as the reader would.
fn batches(n: u64, rate: f64) -> Vec<Batch> {
    let mut text = Vec::new();
    let mut gen = Generator::new(42, GenFormat::Combined);
    write_lines(&mut gen, n, START, rate, &mut text).expect("writing to a Vec");
    parsed::batches(&text)
}

/// Count every batch in a fresh monitor on the log's clock, as `--replay`
/// does: its events.
fn aggregate(batches: &[Batch]) -> Vec<Event> {
    let mut monitor = Monitor::log(CFG);
    let mut events = Vec::new();
    for batch in batches {
        monitor.add(batch, &mut events);
    }
    monitor.finish(&mut events);
    events
}

fn bench_aggregate(c: &mut Criterion) {
    let mut group = c.benchmark_group("aggregate");
    const LINES: u64 = 100_000;
    group.throughput(Throughput::Elements(LINES));
    // The 1M log's density (a report every 100 lines), and a busy server's
    // (every 10,000), where the per-line work dominates.
    for rate in [10.0, 1000.0] {
        let input = batches(LINES, rate);
        group.bench_function(format!("{rate} lines/s"), |b| b.iter(|| aggregate(&input)));
    }
    group.finish();

    let events = aggregate(&batches(LINES, 10.0));
    let mut group = c.benchmark_group("render");
    group.throughput(Throughput::Elements(events.len() as u64));
    group.bench_function("json", |b| {
        b.iter_batched_ref(
            || Vec::with_capacity(64 * 1024),
            |out| {
                for event in &events {
                    render::write_json(event, out);
                    if out.len() > 60 * 1024 {
                        out.clear();
                    }
                }
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench_aggregate);
criterion_main!(benches);
