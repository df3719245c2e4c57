//! The main loop's work alone, for callgrind: a log is parsed into batches
//! up front, then `aggregate` counts them in a monitor on the log's clock
//! and renders every event, as `--replay` does, without the reader thread.
//!
//! Usage: `cargo run --release --example aggregate -- FILE [json|text]`,
//! then read `aggregate`'s inclusive count:
//!
//! ```text
//! valgrind --tool=callgrind target/release/examples/aggregate bench/out/combined-1m.log
//! callgrind_annotate --inclusive=yes callgrind.out.* | grep aggregate::aggregate
//! ```
//!
//! Prints the lines, the events and the bytes rendered, so that the work
//! cannot be optimised away.

// A measuring tool run by hand: printing with the macros is fine here.
#![allow(clippy::disallowed_macros)]

use std::process::ExitCode;

use logmon::batch::Batch;
use logmon::monitor::{Config, Event, Monitor};
use logmon::render::{self, Style, Text};

#[path = "../benches/support/parsed.rs"]
mod parsed;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (path, json) = match args.as_slice() {
        [path] => (path, true),
        [path, f] if f == "json" || f == "text" => (path, f == "json"),
        _ => {
            eprintln!("usage: aggregate FILE [json|text]");
            return ExitCode::from(2);
        }
    };
    let text = match std::fs::read(path) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("aggregate: cannot read {path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let batches = parsed::batches(&text);
    let lines: usize = batches
        .iter()
        .map(|b| b.hits.len() + b.invalid_at.len())
        .sum();
    let (events, bytes) = aggregate(&batches, json);
    println!("{lines} lines, {events} events, {bytes} bytes");
    ExitCode::SUCCESS
}

/// Count `batches` and render each event into one buffer, as the loop
/// does: the events and the bytes written.
#[inline(never)]
fn aggregate(batches: &[Batch], json: bool) -> (usize, usize) {
    let cfg = Config {
        period_secs: 10,
        window_secs: 120,
        threshold: 10.0,
        top: 5,
    };
    let mut monitor = Monitor::log(cfg);
    let mut text = Text::new(Style {
        color: false,
        utc: true,
        ascii: false,
    });
    let (mut events, mut out) = (Vec::new(), Vec::with_capacity(64 * 1024));
    let (mut count, mut bytes) = (0, 0);
    let mut emit = |events: &mut Vec<Event>, out: &mut Vec<u8>| {
        for event in events.drain(..) {
            count += 1;
            if json {
                render::write_json(&event, out);
            } else {
                out.extend_from_slice(text.render(&event).as_bytes());
            }
        }
        bytes += out.len();
        out.clear();
    };
    for batch in batches {
        monitor.add(batch, &mut events);
        emit(&mut events, &mut out);
    }
    monitor.finish(&mut events);
    emit(&mut events, &mut out);
    (count, bytes)
}
