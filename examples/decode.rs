//! Decode a log as the reader thread does, on one thread and with nothing
//! after it: what a line costs the reader side (splitting, the NUL check,
//! parsing, and building the batch with its sections and drill-down keys),
//! for callgrind.
//!
//! Usage: `cargo run --release --example decode -- FORMAT FILE`, e.g.
//!
//! ```text
//! valgrind --tool=callgrind target/release/examples/decode combined bench/out/combined-1m.log
//! ```
//!
//! The file is read whole first and fed to one `Decoder` in 256 KiB
//! chunks, as `reader` reads it, taking each chunk's batch. Prints the
//! lines, hits and a checksum of the batches (hashes aside: they are seeded at
//! random), so that the work cannot be
//! optimised away and two builds can be compared.

// A measuring tool run by hand: printing with the macros is fine here.
#![allow(clippy::disallowed_macros)]

use std::process::ExitCode;

use logmon::batch::Batch;
use logmon::parse::LogFormat;
use logmon::reader::Decoder;

/// The reader's read size.
const CHUNK: usize = 256 * 1024;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [format, path] = args.as_slice() else {
        eprintln!("usage: decode FORMAT FILE");
        return ExitCode::from(2);
    };
    let format = match LogFormat::parse(format) {
        Ok(format) => format,
        Err(e) => {
            eprintln!("decode: {e}");
            return ExitCode::from(2);
        }
    };
    let text = match std::fs::read(path) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("decode: cannot read {path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut decoder = Decoder::new(format);
    let (mut hits, mut invalid, mut sum) = (0u64, 0u64, 0u64);
    let mut tally = |batch: Batch| {
        hits += batch.hits.len() as u64;
        invalid += batch.invalid();
        let sections = batch.sections();
        for (i, hit) in batch.hits.iter().enumerate() {
            let keys = batch.keys_of(i);
            let keyed = [keys.path, keys.agent, keys.referrer];
            sum = keyed
                .iter()
                .flatten()
                .fold(sum, |sum, k| sum.wrapping_add(k.text.len() as u64))
                .wrapping_add(hit.time as u64 ^ hit.bytes)
                .wrapping_add(u64::from(hit.status))
                .wrapping_add(sections.of(hit).map_or(0, |s| s.len() as u64))
                .wrapping_add(keys.client.map_or(0, |c| c.len() as u64));
        }
    };
    for chunk in text.chunks(CHUNK) {
        decoder.push(chunk);
        tally(decoder.take());
    }
    decoder.finish();
    tally(decoder.take());
    println!("{hits} hits, {invalid} invalid, checksum {sum}");
    ExitCode::SUCCESS
}
