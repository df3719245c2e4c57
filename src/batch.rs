//! `Batch`: the parsed lines the reader thread sends to the main loop.
//!
//! A `Record` borrows its line from the read buffer, so it cannot cross the
//! channel. A `Hit` is its owned, compact form: numbers, a hash of the
//! client, and the section as a range into the batch's one text arena, so a
//! batch of thousands of lines costs two allocations, not one per line.
//!
//! Sections are sanitized here, once, as they enter the statistics: every
//! later output (text, JSON) prints the same safe string.

use std::hash::BuildHasher;

use crate::parse::{Method, Record};
use crate::text::sanitize;

/// One valid line, owned and compact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// Log timestamp, unix seconds.
    pub time: i64,
    /// Response size in bytes.
    pub bytes: u64,
    /// Hash of the client address (only distinct counts are reported).
    pub client: u64,
    /// `(start, len)` of the sanitized section in `Batch::text`, if the
    /// request had a target.
    pub section: Option<(u32, u32)>,
    pub status: u16,
    pub method: Method,
    /// Time taken to answer, in microseconds, if the line said.
    pub request_us: Option<u64>,
}

/// Parsed lines from one read, in file order.
#[derive(Debug, Default, Clone)]
pub struct Batch {
    pub hits: Vec<Hit>,
    /// Sanitized section text, referenced by `Hit::section`.
    pub text: String,
    /// Where lines that did not parse (or were too long) fell: each is the
    /// number of hits before it, so the monitor counts them in the period
    /// they were read in.
    pub invalid_at: Vec<u32>,
}

impl Batch {
    pub fn with_capacity(hits: usize) -> Batch {
        Batch {
            hits: Vec::with_capacity(hits),
            text: String::with_capacity(hits * 8),
            invalid_at: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.hits.is_empty() && self.invalid_at.is_empty()
    }

    /// Lines in this batch that did not parse.
    pub fn invalid(&self) -> u64 {
        self.invalid_at.len() as u64
    }

    /// Count a line that did not parse, after the hits so far.
    pub fn push_invalid(&mut self) {
        self.invalid_at.push(self.hits.len() as u32);
    }

    /// Add a parsed line. `clients` hashes the client address; one hasher
    /// per run keeps the hashes comparable across batches.
    pub fn push(&mut self, record: &Record<'_>, clients: &impl BuildHasher) {
        let section = record.section().map(|s| {
            let start = self.text.len();
            self.text.push_str(&sanitize(s));
            (start as u32, (self.text.len() - start) as u32)
        });
        self.hits.push(Hit {
            time: record.time,
            bytes: record.bytes,
            client: clients.hash_one(record.host),
            section,
            status: record.status,
            method: record.method,
            request_us: record.request_time_us,
        });
    }

    /// The section of `hit`, which must belong to this batch.
    pub fn section(&self, hit: &Hit) -> Option<&str> {
        hit.section
            .map(|(start, len)| &self.text[start as usize..(start + len) as usize])
    }
}
