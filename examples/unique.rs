//! Write a CLF log in which every line has a section and a client never
//! seen before: the worst case for logmon's per-period tables.
//!
//! `bench/memory.sh` runs logmon over it to check that memory stays bounded
//! (sections are capped and pruned, clients switch to a HyperLogLog) however
//! many distinct values a log holds.
//!
//! Usage: `cargo run --release --example unique -- [LINES] > unique.log`
//! (5,000,000 lines by default, 10,000 lines per second of log time, so a
//! 10 s report sees 100,000 distinct sections and clients).

use std::io::{self, BufWriter, Write};

use chrono::DateTime;

/// 09/May/2018:16:00:39 +0000, an arbitrary start.
const START: i64 = 1_525_881_639;
/// Lines per second of log time.
const RATE: u64 = 10_000;

fn main() -> io::Result<()> {
    let lines: u64 = match std::env::args().nth(1) {
        Some(arg) => arg.parse().map_err(|e| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("LINES: {arg}: {e}"))
        })?,
        None => 5_000_000,
    };
    let mut out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let mut stamp = String::new();
    for i in 0..lines {
        if i % RATE == 0 {
            let t = DateTime::from_timestamp(START + (i / RATE) as i64, 0).expect("in range");
            stamp = t.format("%d/%b/%Y:%H:%M:%S +0000").to_string();
        }
        // A distinct IPv4 address (for up to 2^24 lines) and a distinct
        // first path segment per line.
        let [_, b, c, d] = (i as u32).to_be_bytes();
        let status = [200, 200, 200, 404, 500][(i % 5) as usize];
        writeln!(
            out,
            "10.{b}.{c}.{d} - - [{stamp}] \"GET /s{i:x}/page?id={i} HTTP/1.1\" {status} {}",
            i % 9000
        )?;
    }
    out.flush()
}
