//! Fuzz the path every log line takes: `Parser::parse` (`auto`, every
//! preset, and format strings), `LogFormat::parse` (compiling nginx and
//! Apache format strings), `section` and its normalisation, `sanitize`,
//! `Batch::push`, `Stats::add`, the monitor and both renderers.
//!
//! Anyone who can send an HTTP request chooses bytes of the access log, so
//! none of these may panic, whatever the bytes. Beyond "no panic" it checks
//! what the rest of logmon relies on:
//! - a record's fields borrow from the line (no copy, no invented bytes)
//!   but for W3C's placeholders for a missing client or user;
//! - its status is in `100..=599` or `-` (`NO_STATUS`), and its time is
//!   within years 0000-9999 in UTC;
//! - a format string compiles or is refused, never panics; one that
//!   compiles reads lines (the input's lines after the first) without
//!   panicking, and its records pass the same checks;
//! - a line read as CLF reads the same through a fresh CLF parser, so
//!   neither the timestamp cache nor `auto`'s W3C state leaks into it;
//! - a section is a prefix of its target (or `/`), free of `?` and `#`,
//!   and is its own section;
//! - `sanitize` leaves no byte that could drive a terminal, and changes
//!   nothing that did not need it;
//! - the statistics and the monitor count every line once, valid or not;
//! - rendered reports, text or JSON, hold no control character but `\n`.

#![no_main]

use std::hash::{BuildHasherDefault, DefaultHasher};

use libfuzzer_sys::fuzz_target;
use logmon::batch::Batch;
use logmon::monitor::{Config, Event, Monitor};
use logmon::parse::time::{MAX_TIME, MIN_TIME};
use logmon::parse::{normalize_section, section, LogFormat, Parser, Record, Syntax, NO_STATUS};
use logmon::render::{self, Style};
use logmon::stats::Stats;
use logmon::text::{sanitize, truncate};

/// Every format a line can be forced into, but format strings.
const FORMATS: [&str; 7] = [
    "clf",
    "common",
    "combined",
    "vhost_combined",
    "ingress-nginx",
    "traefik",
    "w3c",
];

fuzz_target!(|data: &[u8]| {
    // The whole input as one line: the reader never sends an embedded
    // newline, but the parser must not care.
    if let Ok(record) = Parser::new().parse(data) {
        check_record(&record, data);
    }

    // Line by line in each forced format: only `check_record` applies.
    for format in FORMATS {
        let format = LogFormat::parse(format).expect("a preset");
        let mut parser = Parser::with_format(format);
        for line in data.split_inclusive(|&b| b == b'\n') {
            if let Ok(record) = parser.parse(line) {
                check_record(&record, line);
            }
        }
        while parser.take_notice().is_some() {}
    }

    // The first line as a format string: compiled or refused (a usage
    // error), then the other lines read through it.
    let (first, rest) = match data.iter().position(|&b| b == b'\n') {
        Some(end) => (&data[..end], &data[end + 1..]),
        None => (data, &b""[..]),
    };
    if let Ok(text) = std::str::from_utf8(first) {
        match LogFormat::parse(text) {
            Ok(format) => {
                let _ = format.describe(72);
                let mut parser = Parser::with_format(format);
                for line in rest.split_inclusive(|&b| b == b'\n') {
                    if let Ok(record) = parser.parse(line) {
                        check_record(&record, line);
                    }
                }
            }
            Err(message) => assert!(!message.is_empty()),
        }
    }

    // Then line by line through one `auto` parser, as the reader does, so
    // the timestamp cache and the W3C columns see sequences of lines.
    let mut parser = Parser::new();
    let mut batch = Batch::default();
    let hasher = BuildHasherDefault::<DefaultHasher>::default();
    let mut lines = 0u64;
    for line in data.split_inclusive(|&b| b == b'\n') {
        match parser.parse(line) {
            // A W3C directive or a blank line is neither a hit nor an
            // invalid line.
            Err(e) if e.is_skipped() => continue,
            Err(_) => batch.push_invalid(),
            Ok(record) => {
                check_record(&record, line);
                if record.syntax == Syntax::Clf {
                    assert_eq!(
                        Parser::with_format(LogFormat::Clf).parse(line).as_ref(),
                        Ok(&record),
                        "parser state changed a CLF record"
                    );
                }
                batch.push(&record, &hasher);
                let hit = batch.hits.last().expect("push adds a hit");
                let normal = record
                    .section()
                    .map(|s| sanitize(&normalize_section(s)).into_owned());
                assert_eq!(
                    batch.sections().of(hit),
                    normal.as_deref(),
                    "the batch keeps the normalised, sanitized section"
                );
            }
        }
        lines += 1;
    }
    while let Some(notice) = parser.take_notice() {
        assert!(!notice.chars().any(is_unsafe), "unsafe notice: {notice:?}");
    }
    let mut stats = Stats::default();
    let sections = batch.sections();
    for hit in &batch.hits {
        stats.add(hit, sections.of(hit));
    }
    stats.add_invalid(batch.invalid());
    assert_eq!(stats.hits + stats.invalid, lines, "every line counts once");
    assert_eq!(stats.status.iter().sum::<u64>(), stats.hits);
    assert_eq!(stats.methods.iter().sum::<u64>(), stats.hits);
    let _ = stats.top(5);
    let _ = stats.clients();

    // The batch through the monitor on the log's clock, as `--replay` does,
    // and every event through both renderers: fuzzed timestamps span years
    // 0-9999, which the window and the period arithmetic must survive.
    let cfg = Config {
        period_secs: 10,
        window_secs: 120,
        threshold: 1.0,
        top: 5,
    };
    let mut monitor = Monitor::log(cfg);
    let mut events = Vec::new();
    monitor.add(&batch, &mut events);
    monitor.finish(&mut events);
    // Colour off: with it, ESC is logmon's own and expected.
    let plain = Style {
        color: false,
        utc: true,
        ascii: false,
    };
    let ascii = Style {
        ascii: true,
        ..plain
    };
    let mut summaries = 0;
    for event in &events {
        if let Event::Summary(s) = event {
            summaries += 1;
            assert_eq!((s.hits, s.invalid), (stats.hits, stats.invalid));
        }
        let outputs = [
            render::text(event, &plain),
            render::text(event, &ascii),
            render::json(event),
        ];
        for out in outputs {
            assert!(
                !out.chars().any(|c| c != '\n' && is_unsafe(c)),
                "unsafe output: {out:?}"
            );
        }
    }
    assert_eq!(summaries, 1);

    // The raw bytes as a target, whatever they are.
    check_section(data);

    // The raw bytes as a field to print.
    let clean = sanitize(data);
    check_sanitized(data, &clean);
    let max = data.first().map_or(0, |&b| usize::from(b));
    assert!(truncate(&clean, max).chars().count() <= max);
});

fn check_record(record: &Record<'_>, line: &[u8]) {
    assert!(
        record.status == NO_STATUS || (100..=599).contains(&record.status),
        "{}",
        record.status
    );
    assert!(!line.contains(&0), "a line with a NUL byte is invalid");
    assert!(
        (MIN_TIME..=MAX_TIME).contains(&record.time),
        "{}",
        record.time
    );
    // W3C and JSON lines may lack a client, and format strings a client
    // field; a CLF line always has a host.
    assert!(record.syntax != Syntax::Clf || !record.host.is_empty());
    // W3C, JSON and format strings fill a missing client with "" and a missing
    // user with "-", which borrow from nothing.
    let filled = record.syntax != Syntax::Clf;
    let host = (!(filled && record.host.is_empty())).then_some(record.host);
    let user = (!(filled && record.user == b"-")).then_some(record.user);
    let fields = [
        host,
        user,
        record.vhost,
        record.target,
        record.query,
        record.referer,
        record.user_agent,
    ];
    for field in fields.into_iter().flatten() {
        assert!(within(field, line), "a field is not a subslice of the line");
    }
    if let Some(target) = record.target {
        check_section(target);
    }
    let _ = record.user_agent_text();
}

/// Whether `part` lies inside `whole`'s memory.
fn within(part: &[u8], whole: &[u8]) -> bool {
    let whole = whole.as_ptr_range();
    let part = part.as_ptr_range();
    whole.start <= part.start && part.end <= whole.end
}

fn check_section(target: &[u8]) {
    let s = section(target);
    assert!(!s.is_empty());
    assert!(
        s == b"/" || (s.as_ptr() == target.as_ptr() && s.len() <= target.len()),
        "a section is a prefix of its target, or `/`"
    );
    assert!(!s.contains(&b'?') && !s.contains(&b'#'));
    assert_eq!(section(s), s, "a section is its own section");
    let normal = normalize_section(s);
    assert!(!normal.is_empty());
    assert_eq!(
        normalize_section(&normal),
        normal,
        "normalising is idempotent"
    );
}

/// Whether `c` could drive a terminal or reorder or break the text around
/// it: C0, DEL, C1, bidi controls, line and paragraph separators.
fn is_unsafe(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{61c}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
            | '\u{2028}'
            | '\u{2029}'
    )
}

fn check_sanitized(input: &[u8], out: &str) {
    if let Some(c) = out.chars().find(|&c| is_unsafe(c)) {
        panic!("sanitize let {c:?} through");
    }
    // Every escape starts with a backslash, so output without one had
    // nothing escaped and must be the input, byte for byte.
    if !out.contains('\\') {
        assert_eq!(out.as_bytes(), input);
    }
}
