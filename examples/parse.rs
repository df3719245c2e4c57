//! Parse a log with one `--log-format` value on one thread and nothing
//! else: what a line costs the parser alone, for callgrind.
//!
//! Usage: `cargo run --release --example parse -- FORMAT FILE`, e.g.
//!
//! ```text
//! valgrind --tool=callgrind target/release/examples/parse combined bench/out/combined-1m.log
//! ```
//!
//! Prints the lines, hits and a checksum of the fields read, so that the
//! work cannot be optimised away and two formats can be compared.

// A measuring tool run by hand: printing with the macros is fine here.
#![allow(clippy::disallowed_macros)]

use std::process::ExitCode;

use logmon::parse::{LogFormat, Parser};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [format, path] = args.as_slice() else {
        eprintln!("usage: parse FORMAT FILE");
        return ExitCode::from(2);
    };
    let format = match LogFormat::parse(format) {
        Ok(format) => format,
        Err(e) => {
            eprintln!("parse: {e}");
            return ExitCode::from(2);
        }
    };
    let text = match std::fs::read(path) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("parse: cannot read {path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut parser = Parser::with_format(format);
    let (mut lines, mut hits, mut sum) = (0u64, 0u64, 0u64);
    for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        lines += 1;
        if let Ok(r) = parser.parse(line) {
            hits += 1;
            sum = sum
                .wrapping_add(r.bytes)
                .wrapping_add(r.time as u64)
                .wrapping_add(u64::from(r.status))
                .wrapping_add(r.section().map_or(0, |s| s.len() as u64))
                .wrapping_add(r.host.len() as u64)
                .wrapping_add(r.request_time_us.unwrap_or(0));
        }
    }
    println!("{lines} lines, {hits} hits, checksum {sum}");
    ExitCode::SUCCESS
}
