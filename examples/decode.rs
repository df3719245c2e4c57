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
//! The file is read in blocks into one `Decoder`, as `reader` reads it,
//! taking each block's batch. Prints the
//! lines, hits and a checksum of the batches (hashes aside: they are seeded at
//! random), so that the work cannot be
//! optimised away and two builds can be compared.

// A measuring tool run by hand: printing with the macros is fine here.
#![allow(clippy::disallowed_macros)]

use std::fs::File;
use std::io::Read;
use std::process::ExitCode;

use logmon::batch::Batch;
use logmon::parse::LogFormat;
use logmon::reader::Decoder;

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
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) => {
            eprintln!("decode: cannot open {path}: {e}");
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
    loop {
        let mut block = decoder.spare_block();
        match file.read(block.bytes_mut()) {
            Ok(0) => break,
            Ok(n) => block.bytes_mut().truncate(n),
            Err(e) => {
                eprintln!("decode: cannot read {path}: {e}");
                return ExitCode::FAILURE;
            }
        }
        decoder.push_block(block);
        tally(decoder.take());
    }
    decoder.finish();
    tally(decoder.take());
    println!("{hits} hits, {invalid} invalid, checksum {sum}");
    ExitCode::SUCCESS
}
