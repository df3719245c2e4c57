//! `Batch`: the parsed lines the reader thread sends to the main loop.
//!
//! A `Record` borrows its line from the read buffer, so it cannot cross the
//! channel. A `Hit` is its owned, compact form: numbers, a hash of the
//! client, and the section as a range into the batch's one text arena, so a
//! batch of thousands of lines costs two allocations, not one per line.
//!
//! Sections are normalised (`parse::normalize_section`: `/%7Eu` and `/~u`
//! are one section) and sanitized here, once, as they enter the
//! statistics: every later output (text, JSON) prints the same safe string. The text arena is
//! bytes, UTF-8 by construction (printable ASCII or `sanitize`'s output), so
//! the reader appends a section without validating it as a `str`; the main
//! loop validates the whole arena once per batch ([`Batch::sections`]), at
//! a fraction of an instruction per byte instead of ~80 per section.

use std::borrow::Cow;
use std::hash::BuildHasher;

use crate::parse::{normalize_section, Method, Record};
use crate::text::sanitize;

/// [`BYTE_CLASS`]: the byte is not printable ASCII.
const UNPRINTABLE: u8 = 1;
/// [`BYTE_CLASS`]: the byte is `%` or `;`, which normalising may change.
const SPECIAL: u8 = 2;

/// What a section's bytes need, by byte: one table load a byte tells both.
const BYTE_CLASS: [u8; 256] = {
    let mut table = [UNPRINTABLE; 256];
    let mut b = b' ';
    while b <= b'~' {
        table[b as usize] = match b {
            b'%' | b';' => SPECIAL,
            _ => 0,
        };
        b += 1;
    }
    table
};

/// One valid line, owned and compact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// Log timestamp, unix seconds.
    pub time: i64,
    /// Response size in bytes.
    pub bytes: u64,
    /// Hash of the client address (only distinct counts are reported).
    pub client: u64,
    /// `(start, len)` of the sanitized section in the batch's text, if the
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
    /// Sanitized section text, referenced by `Hit::section`: valid UTF-8,
    /// since only `push_section` writes it.
    text: Vec<u8>,
    /// Where lines that did not parse (or were too long) fell: each is the
    /// number of hits before it, so the monitor counts them in the period
    /// they were read in.
    pub invalid_at: Vec<u32>,
    /// The input the lines come from (its index in the run's list of
    /// files), when `runs` is empty: a batch is read from one file.
    pub file: u32,
    /// A batch merged from several files (a replay of logs whose times
    /// overlap): `(file, end)` for each run of hits from one file, in
    /// order, `end` exclusive. Empty otherwise.
    pub runs: Vec<(u32, u32)>,
}

impl Batch {
    pub fn with_capacity(hits: usize) -> Batch {
        Batch {
            hits: Vec::with_capacity(hits),
            text: Vec::with_capacity(hits * 8),
            invalid_at: Vec::new(),
            file: 0,
            runs: Vec::new(),
        }
    }

    /// The runs of hits from one file, in order, as `(file, hits)`: one
    /// covering every hit unless the batch was merged from several files.
    pub fn runs(&self) -> impl Iterator<Item = (u32, std::ops::Range<usize>)> + '_ {
        let whole = self
            .runs
            .is_empty()
            .then_some((self.file, self.hits.len() as u32));
        whole
            .into_iter()
            .chain(self.runs.iter().copied())
            .scan(0, |start, (file, end)| {
                let run = (file, *start..end as usize);
                *start = end as usize;
                Some(run)
            })
    }

    /// Append the hits `hits` of `from` (from file `file`) as a run of
    /// this batch, with their sections and the invalid lines among them
    /// (those before each hit; and those after the last, when `hits` ends
    /// `from`). Copies hits and section text, never lines.
    pub fn append_run(&mut self, from: &Batch, file: u32, hits: std::ops::Range<usize>) {
        if self.runs.is_empty() && !self.is_empty() {
            self.runs.push((self.file, self.hits.len() as u32));
        }
        let base = self.hits.len();
        let last = hits.end == from.hits.len();
        for &at in &from.invalid_at {
            let at = at as usize;
            if (hits.start..hits.end).contains(&at) || (last && at == hits.end) {
                self.invalid_at.push((base + at - hits.start) as u32);
            }
        }
        // The bytes of each section, which are UTF-8 as they were in
        // `from`: validating `from`'s whole text for each run would cost
        // more than the copy.
        for hit in &from.hits[hits] {
            let section = hit.section.map(|(start, len)| {
                let at = self.text.len() as u32;
                self.text
                    .extend_from_slice(&from.text[start as usize..(start + len) as usize]);
                (at, len)
            });
            self.hits.push(Hit { section, ..*hit });
        }
        self.runs.push((file, self.hits.len() as u32));
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
        let section = record.section().map(|s| self.push_section(s));
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

    /// Append the normalised, sanitized `raw` section to the text; its
    /// `(start, len)`.
    fn push_section(&mut self, raw: &[u8]) -> (u32, u32) {
        let start = self.text.len();
        // One pass for both questions: the common case, printable ASCII
        // without `%` or `;`, is already normal, safe and UTF-8.
        let class = raw
            .iter()
            .fold(0, |class, &b| class | BYTE_CLASS[usize::from(b)]);
        let normal = match class & SPECIAL {
            0 => Cow::Borrowed(raw),
            _ => normalize_section(raw),
        };
        // Normalising only decodes to printable ASCII.
        if class & UNPRINTABLE == 0 {
            self.text.extend_from_slice(&normal);
        } else {
            self.text.extend_from_slice(sanitize(&normal).as_bytes());
        }
        (start as u32, (self.text.len() - start) as u32)
    }

    /// Append `section` to the text as is (it must be sanitized already);
    /// its `(start, len)`, for a `Hit` built by hand.
    pub fn push_section_text(&mut self, section: &str) -> (u32, u32) {
        let start = self.text.len();
        self.text.extend_from_slice(section.as_bytes());
        (start as u32, section.len() as u32)
    }

    /// The sections of this batch's hits, validated once for all of them.
    pub fn sections(&self) -> Sections<'_> {
        Sections(std::str::from_utf8(&self.text).expect("sections are written as UTF-8"))
    }
}

/// The text of a batch's sections, to look them up hit by hit.
#[derive(Debug, Clone, Copy)]
pub struct Sections<'a>(&'a str);

impl<'a> Sections<'a> {
    /// The section of `hit`, which must belong to this batch.
    pub fn of(&self, hit: &Hit) -> Option<&'a str> {
        hit.section
            .map(|(start, len)| &self.0[start as usize..(start + len) as usize])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::Parser;

    #[test]
    fn spellings_of_one_path_share_one_section() {
        let hasher = foldhash::fast::RandomState::default();
        let mut batch = Batch::default();
        for target in [
            "/~user/a",
            "/%7Euser/b",
            "/%7euser",
            "/shop;jsessionid=0A1B/cart",
            "/a%2fb",
            "/a%2Fb",
            "/x%1b%5b",
        ] {
            let line =
                format!(r#"::1 - - [01/Mar/2026:12:00:00 +0000] "GET {target} HTTP/1.1" 200 1"#);
            let record = Parser::new().parse(line.as_bytes()).unwrap();
            batch.push(&record, &hasher);
        }
        let sections = batch.sections();
        let got: Vec<_> = batch.hits.iter().map(|h| sections.of(h).unwrap()).collect();
        assert_eq!(
            got,
            ["/~user", "/~user", "/~user", "/shop", "/a%2Fb", "/a%2Fb", "/x%1B%5B"]
        );
    }
}
