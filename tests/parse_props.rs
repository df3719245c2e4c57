//! Property tests of the parser and the sanitizer.
//!
//! The table tests in `src/parse/` pin the cases someone thought of; these
//! generate the ones nobody did. A valid record, rendered as a CLF or
//! Combined line, must parse back to itself, with the time checked against
//! chrono rather than against the parser's own date arithmetic. Any bytes at
//! all, or a valid line with a few bytes changed, must never panic the
//! parser, and whatever `sanitize` returns must be safe for a terminal.
//!
//! Inputs that the fuzzer (`fuzz/`) ever finds crashing belong here too, as
//! plain regression tests at the end.

use chrono::NaiveDate;
use logmon::parse::{
    normalize_section, section, LogFormat, Method, Parser, Record, Syntax, NO_STATUS,
};
use logmon::text::sanitize;
use proptest::prelude::*;

/// A record as the test owns it, before rendering.
#[derive(Debug, Clone)]
struct Line {
    host: String,
    ident: String,
    user: String,
    date: (i32, u32, u32),
    clock: (u32, u32, u32),
    /// Offset from UTC in minutes, `-(23*60+59)..=23*60+59`, and whether a
    /// zero offset is written `-0000`.
    offset_minutes: i32,
    negative_zero: bool,
    request: Request,
    status: u16,
    /// `None` is written `-`.
    bytes: Option<u64>,
    /// Combined's quoted fields: a referer, and maybe a user agent after it.
    combined: Option<(String, Option<String>)>,
    crlf: bool,
}

#[derive(Debug, Clone)]
enum Request {
    /// `METHOD TARGET PROTOCOL`; the target is its path segments and an
    /// optional query.
    Http {
        method: &'static str,
        segments: Vec<String>,
        query: Option<String>,
        protocol: &'static str,
    },
    /// nginx writes `"-"` for a connection closed before a request (408).
    Dash,
}

const METHODS: &[&str] = &[
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "PROPFIND",
    "MKCOL", "get", "Post",
];

/// The method logmon should report for `name`, written out here rather
/// than taken from `Method::from_bytes`.
fn expected_method(name: &str) -> Method {
    match name {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        "CONNECT" => Method::Connect,
        "OPTIONS" => Method::Options,
        "TRACE" => Method::Trace,
        "PATCH" => Method::Patch,
        _ => Method::Other,
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

impl Line {
    fn target(&self) -> Option<String> {
        match &self.request {
            Request::Http {
                segments, query, ..
            } => {
                let mut target = format!("/{}", segments.join("/"));
                if let Some(query) = query {
                    target.push('?');
                    target.push_str(query);
                }
                Some(target)
            }
            Request::Dash => None,
        }
    }

    /// The section, from the generator's own view of the path: `/` plus the
    /// first segment, or `/` when that segment is empty.
    fn section(&self) -> Option<String> {
        match &self.request {
            Request::Http { segments, .. } if segments[0].is_empty() => Some("/".into()),
            Request::Http { segments, .. } => Some(format!("/{}", segments[0])),
            Request::Dash => None,
        }
    }

    fn time_text(&self) -> String {
        let (year, month, day) = self.date;
        let (hour, minute, second) = self.clock;
        let sign = if self.offset_minutes < 0 || (self.offset_minutes == 0 && self.negative_zero) {
            '-'
        } else {
            '+'
        };
        let offset = self.offset_minutes.unsigned_abs();
        format!(
            "{day:02}/{}/{year:04}:{hour:02}:{minute:02}:{second:02} {sign}{:02}{:02}",
            MONTHS[month as usize - 1],
            offset / 60,
            offset % 60
        )
    }

    /// Unix seconds, computed by chrono.
    fn unix_time(&self) -> i64 {
        let (year, month, day) = self.date;
        let (hour, minute, second) = self.clock;
        let local = NaiveDate::from_ymd_opt(year, month, day)
            .and_then(|d| d.and_hms_opt(hour, minute, second))
            .expect("the strategy makes real dates")
            .and_utc()
            .timestamp();
        local - i64::from(self.offset_minutes) * 60
    }

    fn render(&self) -> String {
        let request = match &self.request {
            Request::Http {
                method, protocol, ..
            } => format!("{method} {} {protocol}", self.target().unwrap()),
            Request::Dash => "-".into(),
        };
        let bytes = self.bytes.map_or("-".into(), |b| b.to_string());
        let mut line = format!(
            "{} {} {} [{}] \"{request}\" {} {bytes}",
            self.host,
            self.ident,
            self.user,
            self.time_text(),
            self.status
        );
        if let Some((referer, agent)) = &self.combined {
            line.push_str(&format!(" \"{referer}\""));
            if let Some(agent) = agent {
                line.push_str(&format!(" \"{agent}\""));
            }
        }
        line.push_str(if self.crlf { "\r\n" } else { "\n" });
        line
    }

    /// The record `render()` must parse to. It borrows from the test's own
    /// strings, so the comparison checks bytes, not where they live.
    fn expected<'a>(&'a self, target: &'a Option<String>) -> Record<'a> {
        let method = match &self.request {
            Request::Http { method, .. } => expected_method(method),
            Request::Dash => Method::Other,
        };
        Record {
            syntax: Syntax::Clf,
            vhost: None,
            host: self.host.as_bytes(),
            user: self.user.as_bytes(),
            time: self.unix_time(),
            method,
            target: target.as_deref().map(str::as_bytes),
            query: None,
            status: self.status,
            bytes: self.bytes.unwrap_or(0),
            referer: self.combined.as_ref().map(|(r, _)| r.as_bytes()),
            user_agent: self
                .combined
                .as_ref()
                .and_then(|(_, a)| a.as_deref())
                .map(str::as_bytes),
            request_time_us: None,
        }
    }
}

fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<std::net::Ipv4Addr>().prop_map(|a| a.to_string()),
        any::<std::net::Ipv6Addr>().prop_map(|a| a.to_string()),
        "[a-z0-9][a-z0-9.-]{0,30}",
    ]
}

/// An identity or user field: `-` or a name. It may not start with `[`,
/// which is where the timestamp starts.
fn user() -> impl Strategy<Value = String> {
    prop_oneof!["-".prop_map(String::from), "[a-zA-Z0-9._@-]{1,16}"]
}

fn date() -> impl Strategy<Value = (i32, u32, u32)> {
    (1970..=9999i32, 1..=12u32, 1..=31u32).prop_filter("a real date", |&(y, m, d)| {
        NaiveDate::from_ymd_opt(y, m, d).is_some()
    })
}

fn request() -> impl Strategy<Value = Request> {
    let http = (
        prop::sample::select(METHODS),
        prop::collection::vec("[a-zA-Z0-9._~%-]{0,12}", 1..5),
        prop::option::of("[a-zA-Z0-9=&%/.:-]{0,24}"),
        prop::sample::select(&["HTTP/1.0", "HTTP/1.1", "HTTP/2.0"][..]),
    )
        .prop_map(|(method, segments, query, protocol)| Request::Http {
            method,
            segments,
            query,
            protocol,
        });
    prop_oneof![20 => http, 1 => Just(Request::Dash)]
}

/// The content of a quoted field as Apache writes it: a quote or a
/// backslash only ever appears escaped, and the parser keeps the escapes.
fn quoted_content() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            8 => "[a-zA-Z0-9 ./:;()=&%,_-]",
            1 => Just("\\\"".to_string()),
            1 => Just("\\\\".to_string()),
            1 => "[é日🦀]",
        ],
        0..40,
    )
    .prop_map(|parts| parts.concat())
}

fn line() -> impl Strategy<Value = Line> {
    (
        (host(), user(), user()),
        (date(), (0..24u32, 0..60u32, 0..60u32)),
        (-(23 * 60 + 59)..=(23 * 60 + 59), any::<bool>()),
        request(),
        100..=599u16,
        prop::option::weighted(0.9, any::<u64>()),
        prop::option::of((
            quoted_content(),
            prop::option::weighted(0.9, quoted_content()),
        )),
        any::<bool>(),
    )
        .prop_map(
            |(
                (host, ident, user),
                (date, clock),
                (offset_minutes, negative_zero),
                request,
                status,
                bytes,
                combined,
                crlf,
            )| Line {
                host,
                ident,
                user,
                date,
                clock,
                offset_minutes,
                negative_zero,
                request,
                status,
                bytes,
                combined,
                crlf,
            },
        )
}

fn has_control(text: &str) -> bool {
    text.chars().any(|c| {
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
    })
}

/// Whether `part` lies inside `whole`'s memory.
fn within(part: &[u8], whole: &[u8]) -> bool {
    let whole = whole.as_ptr_range();
    let part = part.as_ptr_range();
    whole.start <= part.start && part.end <= whole.end
}

/// Bytes that look like a log line often enough to get past its first
/// fields: delimiters, digits, month names, W3C directives, controls and
/// invalid UTF-8.
fn loggy_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            any::<u8>().prop_map(|b| vec![b]),
            prop::sample::select(
                &[
                    " ",
                    "-",
                    "[",
                    "]",
                    "\"",
                    "\\",
                    "/",
                    ":",
                    "+",
                    "?",
                    "#",
                    "\r",
                    "\n",
                    "\x1b",
                    "May",
                    "Feb",
                    "2018",
                    "200",
                    "HTTP/1.1",
                    "GET ",
                    "\u{202e}",
                    "\u{9b}",
                    // W3C, which `auto` switches to after a `#Fields:` line.
                    "#Fields: date time c-ip cs-uri-stem sc-status\n",
                    "2018-05-09 ",
                    "16:00:39 ",
                    "cs-host ",
                ][..]
            )
            .prop_map(|s| s.as_bytes().to_vec()),
        ],
        0..120,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Defends against a parser that drops or mangles a valid field: every
    /// field of a rendered record comes back as it went in.
    #[test]
    fn a_rendered_record_parses_back_to_itself(line in line()) {
        let text = line.render();
        let target = line.target();
        let record = Parser::new().parse(text.as_bytes());
        prop_assert_eq!(record.as_ref(), Ok(&line.expected(&target)), "{}", text);
        let record = record.unwrap();
        prop_assert_eq!(
            record.section().map(|s| String::from_utf8_lossy(s).into_owned()),
            line.section()
        );
    }

    /// Defends against the timestamp cache returning a stale minute: lines
    /// that share a minute, and lines that do not, parse through one parser
    /// exactly as they do through a fresh one each.
    #[test]
    fn one_parser_over_many_lines_agrees_with_a_fresh_parser_per_line(
        lines in prop::collection::vec(line(), 1..8),
        seconds in prop::collection::vec(0..60u32, 0..8),
    ) {
        // The first line again with other seconds: the cache's fast path.
        let mut lines = lines;
        for s in seconds {
            let mut again = lines[0].clone();
            again.clock.2 = s;
            lines.push(again);
        }
        let mut parser = Parser::new();
        for line in &lines {
            let text = line.render();
            let target = line.target();
            prop_assert_eq!(parser.parse(text.as_bytes()), Ok(line.expected(&target)), "{}", text);
        }
    }

    /// Defends against a panic or a nonsense record on hostile bytes.
    #[test]
    fn arbitrary_bytes_never_panic_and_valid_results_are_sensible(bytes in loggy_bytes()) {
        check_any(&bytes);
    }

    /// Defends against a panic deep in a line: a valid line with a few bytes
    /// overwritten, then cut anywhere.
    #[test]
    fn a_damaged_valid_line_never_panics(
        line in line(),
        changes in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = line.render().into_bytes();
        for (at, b) in changes {
            let at = at.index(bytes.len());
            bytes[at] = b;
        }
        let end = cut.index(bytes.len() + 1);
        check_any(&bytes[..end]);
    }

    /// Defends against terminal injection: whatever the bytes, the
    /// sanitized text has no control, bidi override or line separator.
    #[test]
    fn sanitized_text_never_holds_a_control_character(bytes in loggy_bytes()) {
        let out = sanitize(&bytes);
        prop_assert!(!has_control(&out), "{:?}", out);
    }

    /// Same, over any Unicode text, where C1 controls and bidi overrides
    /// arrive as valid UTF-8.
    #[test]
    fn sanitized_unicode_never_holds_a_control_character(text in any::<String>()) {
        let out = sanitize(text.as_bytes());
        prop_assert!(!has_control(&out), "{:?}", out);
        if !has_control(&text) {
            prop_assert_eq!(&*out, &*text, "clean text passes unchanged");
        }
    }
}

/// Parse `bytes` (as one line, and split into lines through one parser);
/// any record must be one the rest of logmon can trust.
fn check_any(bytes: &[u8]) {
    let _ = Parser::new().parse(bytes);
    let mut parser = Parser::new();
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        let Ok(record) = parser.parse(line) else {
            continue;
        };
        assert!(
            record.status == NO_STATUS || (100..=599).contains(&record.status),
            "{record:?}"
        );
        // W3C fills a missing `c-ip` column with "" and a missing
        // `cs-username` with "-", which borrow from nothing.
        let w3c = record.syntax == Syntax::W3c;
        let host = (!(w3c && record.host.is_empty())).then_some(record.host);
        let user = (!(w3c && record.user == b"-")).then_some(record.user);
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
            assert!(within(field, line), "{record:?}");
        }
        if let Some(target) = record.target {
            let s = section(target);
            assert!(s == b"/" || s.as_ptr() == target.as_ptr(), "{record:?}");
        }
        // A line read as CLF reads the same without the history that the
        // timestamp cache and `auto`'s W3C columns carry.
        if record.syntax == Syntax::Clf {
            assert_eq!(Parser::with_format(LogFormat::Clf).parse(line), Ok(record));
        }
    }
    assert!(!has_control(&sanitize(bytes)));
}

/// Found by the fuzzer: a `%` that starts no percent-encoding, then `%66`
/// (`f`), normalised to `%f6...`, which a second pass read as `%F6`. A
/// section must normalise once and for all.
#[test]
fn a_stray_percent_before_an_encoding_normalises_once() {
    let input: &[u8] = &[
        220, 225, 168, 32, 53, 54, 54, 54, 54, 54, 54, 54, 54, 54, 54, 37, 37, 54, 54, 54, 54, 54,
        54, 54, 54, 54, 54, 54, 54, 54, 54, 54, 54, 54, 54, 54, 54, 54, 54, 54, 54, 57, 57, 32,
        162,
    ];
    let once = normalize_section(section(input));
    assert_eq!(normalize_section(&once), once);
}
