//! Lines parsed into batches as the reader would, for the measures of the
//! main loop alone (`benches/aggregate.rs`, `examples/aggregate.rs`).

use logmon::batch::Batch;
use logmon::parse::Parser;

/// Lines per batch: about what the reader puts in one (a 256 KiB block).
const BATCH_LINES: usize = 1200;

/// The lines of `text`, parsed into batches as the reader would.
pub fn batches(text: &[u8]) -> Vec<Batch> {
    let hasher = foldhash::quality::RandomState::default();
    let mut parser = Parser::new();
    let mut batches = Vec::new();
    let mut batch = Batch::with_capacity(BATCH_LINES);
    for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        match parser.parse(line) {
            Ok(record) => batch.push(&record, &hasher),
            Err(_) => batch.push_invalid(),
        }
        if batch.hits.len() + batch.invalid_at.len() == BATCH_LINES {
            batches.push(std::mem::replace(
                &mut batch,
                Batch::with_capacity(BATCH_LINES),
            ));
        }
    }
    batches.push(batch);
    batches
}
