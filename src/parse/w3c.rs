//! The W3C Extended Log File Format: directives and lines of fields whose
//! columns a `#Fields:` directive names, as IIS and CloudFront write them,
//! and IIS logs without their header.
//!
//! ```text
//! #Software: Microsoft Internet Information Services 10.0
//! #Version: 1.0
//! #Date: 2026-03-01 12:00:00
//! #Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status sc-bytes time-taken
//! 2026-03-01 12:00:00 10.0.0.1 GET /api/users/7 - 443 - 23.1.2.3 Mozilla/5.0+(X11) - 200 0 0 5120 42
//! ```
//!
//! Owns the column map of the last `#Fields:` (a new one mid-file replaces
//! it from there on, as IIS writes after a restart), the date of the last
//! `#Date:` (used when there is no `date` column), and the local time zone
//! for `date-local`/`time-local`.
//!
//! What a line may look like, to the letter of the W3C draft:
//! - fields are separated by one or more spaces or tabs (CloudFront writes
//!   tabs); separators at either end of a line are ignored;
//! - a field in double quotes may hold separators, with `""` standing for
//!   a quote; the field's value is the raw text between the outer quotes
//!   (a `""` inside stays two bytes);
//! - `date-local`/`time-local` stand in for `date`/`time`: the server's
//!   wall clock, read in this machine's local time zone (`TZ` overrides);
//! - `time` may carry a fraction (`17:00:00.660`), which is dropped;
//! - `cs-uri` (stem and query) stands in for `cs-uri-stem`.
//!
//! A log whose `#Fields:` names an `x-edge-*` column is CloudFront's, and
//! its `time-taken` is in seconds; everywhere else it is milliseconds. A
//! log without `#Fields:` may still be read with the IIS default fields
//! ([`IIS_DEFAULT_FIELDS`]), and then extra trailing columns are ignored.
//!
//! Invariants:
//! - No I/O, no allocation and no regex per line (the column map is built
//!   once per directive); fields borrow from the line. The one exception
//!   to "no I/O": the offset of a local time comes from chrono's view of
//!   the local zone, looked up once per hour of log (`time::LocalZone`).
//! - Times are UTC unless the columns are the `-local` ones. `-` is an
//!   empty field: `None`, 0 bytes, or no section.
//! - A line is a hit only with a time (a `time` column and a date from the
//!   `date` column or `#Date:`) and a valid `sc-status`, and with exactly as
//!   many fields as columns (at least as many with the implicit IIS fields):
//!   that count, and a first field that must be a date without a header,
//!   keep a CLF line from passing for W3C in `auto`. Unknown columns are
//!   skipped.

use memchr::memchr;

use super::fields::{decimal_fraction, parse_bytes, parse_digits, parse_status};
use super::time::{local_zone_name, parse_clock, parse_iso_date, LocalZone};
use super::{Method, ParseError, Record, Syntax};

/// The fields IIS writes by default, for a log without `#Fields:`.
pub const IIS_DEFAULT_FIELDS: &str = "date time s-ip cs-method cs-uri-stem cs-uri-query \
     s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus \
     sc-win32-status time-taken";

/// [`IIS_DEFAULT_FIELDS`] as columns (a test checks they agree), so that
/// trying them costs no allocation.
const IIS_DEFAULT: [Column; 15] = [
    Column::Date,
    Column::Time,
    Column::Other,
    Column::Method,
    Column::UriStem,
    Column::UriQuery,
    Column::Other,
    Column::Username,
    Column::ClientIp,
    Column::UserAgent,
    Column::Referer,
    Column::Status,
    Column::Other,
    Column::Other,
    Column::TimeTaken,
];

/// `line` without a UTF-8 byte-order mark at its start.
pub fn strip_bom(line: &[u8]) -> &[u8] {
    line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line)
}

/// Whether `line` is the directive `#name:` (name in any ASCII case); a
/// byte-order mark before the `#` is skipped.
pub fn directive_is(line: &[u8], name: &[u8]) -> bool {
    strip_bom(line)
        .strip_prefix(b"#")
        .and_then(|body| body.get(..name.len() + 1))
        .is_some_and(|head| {
            head[..name.len()].eq_ignore_ascii_case(name) && head[name.len()] == b':'
        })
}

/// The columns logmon reads; every other name is `Other`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Column {
    Date,
    Time,
    DateLocal,
    TimeLocal,
    ClientIp,
    Username,
    Method,
    UriStem,
    /// `cs-uri`: stem and query together.
    Uri,
    UriQuery,
    Status,
    Bytes,
    TimeTaken,
    UserAgent,
    Referer,
    Host,
    Other,
}

impl Column {
    /// The column a `#Fields:` identifier names, ignoring ASCII case.
    fn from_name(name: &[u8]) -> Column {
        const NAMES: &[(&[u8], Column)] = &[
            (b"date", Column::Date),
            (b"time", Column::Time),
            (b"date-local", Column::DateLocal),
            (b"time-local", Column::TimeLocal),
            (b"c-ip", Column::ClientIp),
            (b"cs-username", Column::Username),
            (b"cs-method", Column::Method),
            (b"cs-uri-stem", Column::UriStem),
            (b"cs-uri", Column::Uri),
            (b"cs-uri-query", Column::UriQuery),
            (b"sc-status", Column::Status),
            (b"sc-bytes", Column::Bytes),
            (b"time-taken", Column::TimeTaken),
            (b"cs(user-agent)", Column::UserAgent),
            (b"cs(referer)", Column::Referer),
            (b"cs-host", Column::Host),
            // CloudFront's copy of the Host header (its `cs(Host)` is the
            // distribution's own domain).
            (b"x-host-header", Column::Host),
        ];
        NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map_or(Column::Other, |&(_, c)| c)
    }

    /// The columns of a list of names separated by spaces or tabs.
    fn list(names: &[u8]) -> Vec<Column> {
        let mut columns: Vec<Column> = names
            .split(|&b| is_separator(b))
            .filter(|n| !n.is_empty())
            .map(Column::from_name)
            .collect();
        // With both, the stem is the target and the query stays apart.
        if columns.contains(&Column::UriStem) {
            for c in columns.iter_mut().filter(|c| **c == Column::Uri) {
                *c = Column::Other;
            }
        }
        columns
    }
}

/// Where the columns came from, which decides a few rules.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Kind {
    /// A `#Fields:` directive: exactly as many fields as columns.
    #[default]
    Header,
    /// A `#Fields:` with `x-edge-*` columns: CloudFront, whose `time-taken`
    /// is in seconds.
    CloudFront,
    /// No header: [`IIS_DEFAULT_FIELDS`], extra trailing fields ignored.
    IisDefault,
}

/// Whether the local-time notice is yet to be said.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum LocalNotice {
    #[default]
    NotNeeded,
    Due,
    Said,
}

/// The W3C state of one log: its columns, header date and local zone.
#[derive(Debug, Default, Clone)]
pub struct W3c {
    /// Columns of the last `#Fields:` (or the IIS default), in order; empty
    /// before one.
    columns: Vec<Column>,
    kind: Kind,
    clock: Clock,
    local_notice: LocalNotice,
}

/// What turns a line's date and time fields into unix seconds.
#[derive(Debug, Default, Clone)]
struct Clock {
    /// Days since the epoch of the last `#Date:`.
    header_day: Option<i64>,
    /// Last `date` text parsed, with its day: consecutive lines share it.
    last_date: [u8; 10],
    last_day: Option<i64>,
    /// For `date-local`/`time-local`.
    zone: LocalZone,
}

impl W3c {
    /// Columns fixed to [`IIS_DEFAULT_FIELDS`] until a `#Fields:` says
    /// otherwise.
    pub fn iis_default() -> W3c {
        W3c {
            columns: IIS_DEFAULT.to_vec(),
            kind: Kind::IisDefault,
            ..W3c::default()
        }
    }

    /// Whether the columns are known: from a `#Fields:` directive, or the
    /// IIS default ones.
    pub fn has_fields(&self) -> bool {
        !self.columns.is_empty()
    }

    /// What to call the format in use, and how it was recognised: for the
    /// `log format:` notice.
    pub fn describe(&self) -> (&'static str, &'static str) {
        match self.kind {
            Kind::Header => ("w3c", "W3C Extended, from its #Fields: directive"),
            Kind::CloudFront => ("w3c", "CloudFront, time-taken in seconds"),
            Kind::IisDefault => ("iis", "IIS default W3C fields, no #Fields: directive"),
        }
    }

    /// The next thing to say on stderr, if any: once, that local times are
    /// read in the local time zone.
    pub fn take_notice(&mut self) -> Option<String> {
        if self.local_notice != LocalNotice::Due {
            return None;
        }
        self.local_notice = LocalNotice::Said;
        Some(format!(
            "w3c: date-local/time-local read in the local time zone ({})",
            local_zone_name()
        ))
    }

    /// Take a directive line (starting with `#` after any byte-order mark,
    /// line end stripped) into account. Returns true when it was
    /// `#Fields:`. Other directives (`#Software:`, `#Version:`, remarks,
    /// unknown ones) and a malformed `#Date:` change nothing.
    pub fn directive(&mut self, line: &[u8]) -> bool {
        let line = strip_bom(line);
        let body = line.strip_prefix(b"#").unwrap_or(line);
        let Some(colon) = memchr(b':', body) else {
            return false;
        };
        let (name, value) = (&body[..colon], &body[colon + 1..]);
        if name.eq_ignore_ascii_case(b"Fields") {
            self.columns = Column::list(value);
            let cloudfront = value
                .split(|&b| is_separator(b))
                .any(|n| n.len() > 7 && n[..7].eq_ignore_ascii_case(b"x-edge-"));
            self.kind = if cloudfront {
                Kind::CloudFront
            } else {
                Kind::Header
            };
            let local =
                self.columns.contains(&Column::TimeLocal) && !self.columns.contains(&Column::Time);
            if local && self.local_notice == LocalNotice::NotNeeded {
                self.local_notice = LocalNotice::Due;
            }
            return true;
        }
        if name.eq_ignore_ascii_case(b"Date") {
            // `#Date: 2026-03-01 12:00:00`: only the date matters.
            let value = value.trim_ascii_start();
            if let Some(day) = value.get(..10).and_then(parse_iso_date) {
                self.clock.header_day = Some(day);
            }
        }
        false
    }

    /// Parse one request line (not a directive; line end stripped).
    pub fn parse<'a>(&mut self, line: &'a [u8]) -> Result<Record<'a>, ParseError> {
        let line = strip_bom(line);
        if line.is_empty() {
            return Err(ParseError::Empty);
        }
        if self.columns.is_empty() {
            return Err(ParseError::NoFields);
        }
        self.clock.read(&self.columns, self.kind, line)
    }

    /// With no columns known, parse `line` with [`IIS_DEFAULT_FIELDS`]; if
    /// it fits, keep them as the columns from now on. A line that does not
    /// start with a date fails at once, without looking further.
    pub fn parse_headerless<'a>(&mut self, line: &'a [u8]) -> Result<Record<'a>, ParseError> {
        let line = strip_bom(line);
        if self.has_fields() {
            return self.parse(line);
        }
        if !starts_with_date(line) {
            return Err(ParseError::NoFields);
        }
        let record = self.clock.read(&IIS_DEFAULT, Kind::IisDefault, line)?;
        self.columns = IIS_DEFAULT.to_vec();
        self.kind = Kind::IisDefault;
        Ok(record)
    }
}

impl Clock {
    /// One line read with `columns`.
    fn read<'a>(
        &mut self,
        columns: &[Column],
        kind: Kind,
        line: &'a [u8],
    ) -> Result<Record<'a>, ParseError> {
        let mut record = Record {
            syntax: Syntax::W3c,
            vhost: None,
            host: b"",
            user: b"-",
            time: 0,
            method: Method::Other,
            target: None,
            query: None,
            status: 0,
            bytes: 0,
            referer: None,
            user_agent: None,
            request_time_us: None,
        };
        let (mut date, mut time, mut date_local, mut time_local) = (None, None, None, None);
        let mut status = None;
        let mut rest = line;
        for &column in columns {
            let (value, next) = next_field(rest)?.ok_or(ParseError::FieldCount)?;
            rest = next;
            let present = (value != b"-").then_some(value);
            match column {
                Column::Date => date = Some(value),
                Column::Time => time = Some(value),
                Column::DateLocal => date_local = Some(value),
                Column::TimeLocal => time_local = Some(value),
                Column::ClientIp => record.host = value,
                Column::Username => record.user = value,
                Column::Method => record.method = Method::from_bytes(value),
                Column::UriStem | Column::Uri => record.target = present,
                Column::UriQuery => record.query = present,
                Column::Status => status = Some(value),
                Column::Bytes => record.bytes = parse_bytes(value).ok_or(ParseError::Bytes)?,
                // A bad request time costs the latency, not the hit.
                Column::TimeTaken => {
                    let places = if kind == Kind::CloudFront { 6 } else { 3 };
                    record.request_time_us = parse_decimal_us(value, places);
                }
                Column::UserAgent => record.user_agent = present,
                Column::Referer => record.referer = present,
                Column::Host => record.vhost = present,
                Column::Other => {}
            }
        }
        if kind != Kind::IisDefault && !rest.iter().all(|&b| is_separator(b)) {
            return Err(ParseError::FieldCount);
        }
        record.status = status.and_then(parse_status).ok_or(ParseError::Status)?;
        record.time = self
            .time(date, time, date_local, time_local)
            .ok_or(ParseError::Time)?;
        Ok(record)
    }

    /// Unix seconds from the date and time fields: UTC ones when there is a
    /// `time`, else local ones; the date from the matching column, else the
    /// other, else `#Date:`.
    fn time(
        &mut self,
        date: Option<&[u8]>,
        time: Option<&[u8]>,
        date_local: Option<&[u8]>,
        time_local: Option<&[u8]>,
    ) -> Option<i64> {
        let (clock, local) = match (time, time_local) {
            (Some(clock), _) => (clock, false),
            (None, Some(clock)) => (clock, true),
            (None, None) => return None,
        };
        let date = if local {
            date_local.or(date)
        } else {
            date.or(date_local)
        };
        let day = match date {
            Some(text) => self.day(text)?,
            None => self.header_day?,
        };
        let wall = day * 86_400 + parse_time_of_day(clock)?;
        if local {
            self.zone.utc_of(wall)
        } else {
            Some(wall)
        }
    }

    /// [`parse_iso_date`], reusing the last result while the text repeats.
    fn day(&mut self, text: &[u8]) -> Option<i64> {
        if self.last_day.is_some() && text == self.last_date {
            return self.last_day;
        }
        let day = parse_iso_date(text)?;
        self.last_date.copy_from_slice(text);
        self.last_day = Some(day);
        Some(day)
    }
}

/// A W3C field separator.
fn is_separator(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// A field's value, and what follows the field.
type Split<'a> = (&'a [u8], &'a [u8]);

/// The next field of `s`, after any separators: its value and what follows
/// it. `Ok(None)` when only separators are left. A field that opens with a
/// quote runs to the next quote not doubled (`""` is a quote inside it);
/// its value is the text between, and a separator or the end must follow.
fn next_field(s: &[u8]) -> Result<Option<Split<'_>>, ParseError> {
    let Some(start) = s.iter().position(|&b| !is_separator(b)) else {
        return Ok(None);
    };
    let s = &s[start..];
    let Some(body) = s.strip_prefix(b"\"") else {
        let end = s.iter().position(|&b| is_separator(b)).unwrap_or(s.len());
        return Ok(Some((&s[..end], &s[end..])));
    };
    let mut from = 0;
    while let Some(i) = memchr(b'"', &body[from..]) {
        let at = from + i;
        match body.get(at + 1) {
            Some(b'"') => from = at + 2,
            None => return Ok(Some((&body[..at], b""))),
            Some(&b) if is_separator(b) => return Ok(Some((&body[..at], &body[at + 1..]))),
            // `"a"b`: a quote inside a field must be doubled.
            Some(_) => return Err(ParseError::FieldCount),
        }
    }
    // No closing quote.
    Err(ParseError::FieldCount)
}

/// Whether `line` starts with `yyyy-mm-dd` and a separator, as a headerless
/// IIS line does (the digits are checked later).
fn starts_with_date(line: &[u8]) -> bool {
    matches!(line.get(..11), Some(&[_, _, _, _, b'-', _, _, b'-', _, _, sep]) if is_separator(sep))
}

/// `16:00:39` or `16:00:39.250` -> seconds since midnight (fractions
/// dropped).
fn parse_time_of_day(text: &[u8]) -> Option<i64> {
    let (hms, fraction) = match text.get(8) {
        None => (text, None),
        Some(b'.') => (&text[..8], Some(&text[9..])),
        Some(_) => return None,
    };
    if let Some(fraction) = fraction {
        decimal_fraction(fraction, 0)?;
    }
    parse_clock(hms)
}

/// A decimal number of a unit that is `10^places` microseconds (3 for
/// milliseconds, 6 for seconds) -> microseconds. IIS writes an integer
/// count of milliseconds, CloudFront seconds with three decimals; digits
/// past the microsecond are dropped.
fn parse_decimal_us(text: &[u8], places: u32) -> Option<u64> {
    let (whole, fraction) = match memchr(b'.', text) {
        Some(dot) => (&text[..dot], Some(&text[dot + 1..])),
        None => (text, None),
    };
    let micros = parse_digits(whole)?.checked_mul(10u64.pow(places))?;
    match fraction {
        None => Some(micros),
        Some(f) => micros.checked_add(decimal_fraction(f, places)?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::garbage::{mutate, xorshift};

    const FIELDS: &[u8] = b"#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status sc-bytes time-taken";

    /// 2026-03-01T12:00:00Z
    const T: i64 = 1_772_366_400;

    fn iis() -> W3c {
        let mut w = W3c::default();
        assert!(w.directive(FIELDS));
        w
    }

    #[test]
    fn an_iis_line_maps_every_known_column() {
        let mut w = iis();
        let line = b"2026-03-01 12:00:05 10.0.0.1 POST /api/orders id=7&x=1 443 jill 23.1.2.3 Mozilla/5.0+(X11;+Linux) https://www.example.com/ 201 0 0 5120 42";
        let r = w.parse(line).unwrap();
        assert_eq!(
            r,
            Record {
                syntax: Syntax::W3c,
                vhost: None,
                host: b"23.1.2.3",
                user: b"jill",
                time: T + 5,
                method: Method::Post,
                target: Some(b"/api/orders"),
                query: Some(b"id=7&x=1"),
                status: 201,
                bytes: 5120,
                referer: Some(b"https://www.example.com/"),
                user_agent: Some(b"Mozilla/5.0+(X11;+Linux)"),
                request_time_us: Some(42_000),
            }
        );
        assert_eq!(r.section(), Some(&b"/api"[..]));
        assert_eq!(
            r.user_agent_text().as_deref(),
            Some(&b"Mozilla/5.0 (X11; Linux)"[..])
        );
    }

    #[test]
    fn dashes_are_empty_fields() {
        let mut w = iis();
        let line = b"2026-03-01 12:00:05 10.0.0.1 GET - - 443 - 23.1.2.3 - - 404 0 2 - -";
        let r = w.parse(line).unwrap();
        assert_eq!(r.target, None, "no stem: a hit without a section");
        assert_eq!(r.section(), None);
        assert_eq!((r.query, r.referer, r.user_agent), (None, None, None));
        assert_eq!((r.bytes, r.request_time_us, r.user), (0, None, &b"-"[..]));
        assert_eq!(r.status, 404);
    }

    #[test]
    fn date_comes_from_the_date_directive_without_a_date_column() {
        let mut w = W3c::default();
        assert!(!w.directive(b"#Date: 2026-03-01 11:59:58"));
        assert!(w.directive(b"#Fields: time c-ip cs-method cs-uri-stem sc-status cs-host"));
        let r = w
            .parse(b"12:00:01 1.2.3.4 GET /a/b 200 www.example.com")
            .unwrap();
        assert_eq!(r.time, T + 1);
        assert_eq!(r.vhost, Some(&b"www.example.com"[..]));
        assert_eq!(r.bytes, 0);
    }

    #[test]
    fn a_line_needs_a_time_and_a_status() {
        let mut w = W3c::default();
        w.directive(b"#Fields: time sc-status");
        assert_eq!(w.parse(b"12:00:01 200"), Err(ParseError::Time), "no date");
        w.directive(b"#Date: 2026-03-01 00:00:00");
        assert_eq!(w.parse(b"12:00:01 200").map(|r| r.time), Ok(T + 1));
        w.directive(b"#Fields: date time cs-uri-stem");
        assert_eq!(w.parse(b"2026-03-01 12:00:01 /a"), Err(ParseError::Status));
        w.directive(b"#Fields: date sc-status");
        assert_eq!(w.parse(b"2026-03-01 200"), Err(ParseError::Time));
    }

    #[test]
    fn a_new_fields_directive_changes_the_columns_from_there_on() {
        let mut w = iis();
        assert!(w.directive(b"#Fields: date time cs-uri-stem sc-status time-taken"));
        let r = w
            .parse(b"2026-03-01 12:00:00 /report/daily 500 1500")
            .unwrap();
        assert_eq!((r.status, r.request_time_us), (500, Some(1_500_000)));
        assert_eq!(r.target, Some(&b"/report/daily"[..]));
    }

    #[test]
    fn field_names_ignore_case_and_unknown_ones_are_skipped() {
        let mut w = W3c::default();
        w.directive(b"#FIELDS: DATE Time x-custom SC-STATUS CS(USER-AGENT) cs(Cookie)");
        let r = w
            .parse(b"2026-03-01 12:00:00 whatever 302 curl/8 a=b")
            .unwrap();
        assert_eq!(r.status, 302);
        assert_eq!(r.user_agent, Some(&b"curl/8"[..]));
    }

    #[test]
    fn wrong_field_counts_and_bad_values_are_errors() {
        let mut w = W3c::default();
        assert_eq!(
            w.parse(b"2026-03-01 12:00:00 200"),
            Err(ParseError::NoFields)
        );
        w.directive(b"#Fields: date time sc-status sc-bytes");
        for (line, error) in [
            (&b"2026-03-01 12:00:00 200"[..], ParseError::FieldCount),
            (b"2026-03-01 12:00:00 200 1 2", ParseError::FieldCount),
            (b"2026-03-01 12:00:00 600 1", ParseError::Status),
            (b"2026-03-01 12:00:00 200 x", ParseError::Bytes),
            (b"2026-02-30 12:00:00 200 1", ParseError::Time),
            (b"2026-03-01 24:00:00 200 1", ParseError::Time),
            (b"2026/03/01 12:00:00 200 1", ParseError::Time),
            (b"", ParseError::Empty),
        ] {
            assert_eq!(
                w.parse(line),
                Err(error),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
        // A CLF line never passes for W3C: its field count differs.
        let clf = br#"127.0.0.1 - - [01/Mar/2026:12:00:00 +0000] "GET / HTTP/1.1" 200 1"#;
        assert_eq!(iis().parse(clf), Err(ParseError::FieldCount));
    }

    #[test]
    fn times_take_fractions_and_time_taken_is_milliseconds() {
        assert_eq!(parse_time_of_day(b"00:00:00"), Some(0));
        assert_eq!(parse_time_of_day(b"23:59:59.999"), Some(86_399));
        assert_eq!(parse_time_of_day(b"12:00:00."), None);
        assert_eq!(parse_time_of_day(b"12:00:00Z"), None);
        assert_eq!(parse_decimal_us(b"0", 3), Some(0));
        assert_eq!(parse_decimal_us(b"15", 3), Some(15_000));
        assert_eq!(parse_decimal_us(b"1.5", 3), Some(1_500));
        assert_eq!(parse_decimal_us(b"-", 3), None);
        assert_eq!(parse_decimal_us(b"99999999999999999999", 3), None);
        assert_eq!(parse_iso_date(b"2000-02-29"), Some(11_016));
        assert_eq!(parse_iso_date(b"1900-02-29"), None);
    }

    #[test]
    fn other_directives_change_nothing() {
        let mut w = iis();
        for line in [
            &b"#Software: Microsoft Internet Information Services 10.0"[..],
            b"#Version: 1.0",
            b"#Remark: hello",
            b"#",
            b"#Date: yesterday",
        ] {
            assert!(!w.directive(line));
        }
        assert!(w.has_fields());
        assert_eq!(w.clock.header_day, None);
    }

    #[test]
    fn fields_are_separated_by_runs_of_spaces_and_tabs() {
        let mut w = W3c::default();
        assert!(w.directive(b"#Fields:\t date  time\tcs-uri-stem sc-status \t"));
        let r = w
            .parse(b"  2026-03-01 \t12:00:05\t\t/a/b   200 \t")
            .unwrap();
        assert_eq!((r.time, r.status), (T + 5, 200));
        assert_eq!(r.section(), Some(&b"/a"[..]));
        assert_eq!(
            w.parse(b"2026-03-01\t12:00:05\t/a/b\t200\t1"),
            Err(ParseError::FieldCount)
        );
    }

    #[test]
    fn quoted_fields_hold_separators_and_doubled_quotes() {
        let mut w = W3c::default();
        w.directive(b"#Fields: date time cs(User-Agent) cs-uri-stem sc-status cs(Referer)");
        let line = br#"2026-03-01 12:00:00 "Mozilla/5.0 (X11; ""Linux"")"	"/my docs/x" 200 "-""#;
        let r = w.parse(line).unwrap();
        assert_eq!(
            r.user_agent,
            Some(&br#"Mozilla/5.0 (X11; ""Linux"")"#[..]),
            "the raw text between the outer quotes"
        );
        assert_eq!(r.target, Some(&b"/my docs/x"[..]));
        assert_eq!(r.section(), Some(&b"/my docs"[..]));
        assert_eq!(r.referer, None, "a quoted dash is still empty");
        let r = w.parse(br#"2026-03-01 12:00:00 "" "/" 200 """#).unwrap();
        assert_eq!((r.user_agent, r.referer), (Some(&b""[..]), Some(&b""[..])));
        for bad in [
            &br#"2026-03-01 12:00:00 "curl 200 -"#[..],
            br#"2026-03-01 12:00:00 "curl"x / 200 -"#,
            br#"2026-03-01 12:00:00 "curl"""#,
        ] {
            assert_eq!(
                w.parse(bad),
                Err(ParseError::FieldCount),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn a_quote_inside_an_unquoted_field_is_plain_text() {
        let mut w = W3c::default();
        w.directive(b"#Fields: date time cs-uri-stem sc-status");
        let r = w.parse(br#"2026-03-01 12:00:00 /a"b 200"#).unwrap();
        assert_eq!(r.target, Some(&br#"/a"b"#[..]));
    }

    #[test]
    fn local_dates_and_times_are_read_in_the_local_zone() {
        let mut w = W3c::default();
        w.clock.zone = LocalZone::with(|_| Some(3600));
        assert!(w.directive(b"#Fields: date-local time-local cs-uri-stem sc-status"));
        let r = w.parse(b"2026-03-01 13:00:05 /a 200").unwrap();
        assert_eq!(r.time, T + 5, "13:00 at UTC+1 is 12:00 UTC");
        let notice = w.take_notice().unwrap();
        assert!(
            notice.starts_with("w3c: date-local/time-local read in the local time zone (TZ"),
            "{notice}"
        );
        assert!(notice.chars().count() <= 80, "{notice}");
        w.directive(b"#Fields: date-local time-local cs-uri-stem sc-status");
        assert_eq!(w.take_notice(), None, "said once");
    }

    #[test]
    fn utc_columns_win_over_local_ones() {
        let mut w = W3c::default();
        w.clock.zone = LocalZone::with(|_| Some(3600));
        w.directive(b"#Fields: date time date-local time-local sc-status");
        let r = w
            .parse(b"2026-03-01 12:00:00 2026-03-01 13:00:00 200")
            .unwrap();
        assert_eq!(r.time, T);
        assert_eq!(w.take_notice(), None, "no local time is read");
        // A local time takes the local date; a UTC one the UTC date.
        w.directive(b"#Fields: date time-local sc-status");
        assert_eq!(w.parse(b"2026-03-01 13:00:00 200").map(|r| r.time), Ok(T));
        w.clock.zone = LocalZone::with(|_| None);
        assert_eq!(w.parse(b"2026-03-01 13:00:00 200"), Err(ParseError::Time));
    }

    #[test]
    fn times_with_fractional_seconds_are_valid() {
        let mut w = W3c::default();
        w.directive(b"#Fields: date time sc-status");
        assert_eq!(
            w.parse(b"2026-03-01 12:00:00.660 200").map(|r| r.time),
            Ok(T)
        );
    }

    #[test]
    fn cs_uri_is_the_target_with_its_query() {
        let mut w = W3c::default();
        w.directive(b"#Fields: date time cs-uri sc-status");
        let r = w
            .parse(b"2026-03-01 12:00:00 /api/users?id=7/8 200")
            .unwrap();
        assert_eq!(r.target, Some(&b"/api/users?id=7/8"[..]));
        assert_eq!(r.section(), Some(&b"/api"[..]));
        // With cs-uri-stem as well, the stem is the target.
        w.directive(b"#Fields: date time cs-uri cs-uri-stem sc-status");
        let r = w.parse(b"2026-03-01 12:00:00 /x/y?q /x/y 200").unwrap();
        assert_eq!(r.target, Some(&b"/x/y"[..]));
    }

    #[test]
    fn a_byte_order_mark_hides_neither_a_directive_nor_a_line() {
        let mut w = W3c::default();
        assert!(directive_is(b"\xEF\xBB\xBF#Fields: date", b"Fields"));
        assert!(w.directive(b"\xEF\xBB\xBF#Fields: date time sc-status"));
        assert!(w.has_fields());
        assert_eq!(
            w.parse(b"\xEF\xBB\xBF2026-03-01 12:00:00 200")
                .map(|r| r.time),
            Ok(T)
        );
    }

    #[test]
    fn the_iis_default_columns_match_their_names() {
        assert_eq!(
            Column::list(IIS_DEFAULT_FIELDS.as_bytes()),
            IIS_DEFAULT.to_vec()
        );
        let mut w = W3c::iis_default();
        assert!(w.has_fields());
        assert_eq!(w.describe().0, "iis");
        assert!(w.directive(b"#Fields: date time sc-status"));
        assert_eq!(w.describe().0, "w3c", "a header takes over");
    }

    const HEADERLESS: &[u8] =
        b"2026-03-01 12:00:05 10.0.0.1 GET /api/orders id=7 443 - 23.1.2.3 curl/8 - 201 0 0 42";

    #[test]
    fn a_headerless_line_that_fits_the_iis_fields_sets_them() {
        let mut w = W3c::default();
        let r = w.parse_headerless(HEADERLESS).unwrap();
        assert_eq!((r.time, r.status, r.host), (T + 5, 201, &b"23.1.2.3"[..]));
        assert_eq!(
            (r.method, r.target),
            (Method::Get, Some(&b"/api/orders"[..]))
        );
        assert_eq!(
            (r.query, r.request_time_us),
            (Some(&b"id=7"[..]), Some(42_000))
        );
        assert_eq!(r.user_agent, Some(&b"curl/8"[..]));
        assert!(w.has_fields());
        assert_eq!(w.describe().0, "iis");
    }

    #[test]
    fn headerless_lines_may_have_extra_trailing_columns() {
        let mut w = W3c::iis_default();
        let mut line = HEADERLESS.to_vec();
        line.extend_from_slice(b" 5120 310 HTTP/1.1");
        assert_eq!(w.parse(&line).map(|r| r.status), Ok(201));
        // Too few is still wrong.
        let short = &HEADERLESS[..HEADERLESS.len() - 3];
        assert_eq!(w.parse(short), Err(ParseError::FieldCount));
    }

    #[test]
    fn a_line_that_does_not_fit_the_iis_fields_sets_nothing() {
        let mut w = W3c::default();
        let clf = br#"127.0.0.1 - - [01/Mar/2026:12:00:00 +0000] "GET / HTTP/1.1" 200 1"#;
        assert!(w.parse_headerless(clf).is_err());
        assert!(w
            .parse_headerless(b"2026-03-01 12:00:05 too short")
            .is_err());
        let mut bad_status = HEADERLESS.to_vec();
        bad_status[HEADERLESS.len() - 10] = b'x';
        assert!(w.parse_headerless(&bad_status).is_err());
        assert!(!w.has_fields());
        let with_bom = [&b"\xEF\xBB\xBF"[..], HEADERLESS].concat();
        assert!(w.parse_headerless(&with_bom).is_ok());
    }

    #[test]
    fn mutated_lines_never_panic_and_fields_stay_in_the_line() {
        let mut w = W3c::default();
        w.directive(b"#Fields: date time cs(User-Agent) cs-uri sc-status time-taken");
        let template: &[u8] = br#"2026-03-01 12:00:00.5 "a ""b"" c"	/x/y?q 200 1.5"#;
        let alphabet = b" \t\"-.:0123456789/?#\xef\xbb\xbf";
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        let mut line = Vec::new();
        for _ in 0..20_000 {
            mutate(&mut line, template, alphabet, &mut next);
            let cut = (next() as usize) % (line.len() + 1);
            let line = &line[..cut];
            for record in [w.parse(line), W3c::default().parse_headerless(line)]
                .into_iter()
                .flatten()
            {
                assert!((100..=599).contains(&record.status));
                for field in [record.target, record.user_agent].into_iter().flatten() {
                    let inside = line.as_ptr_range();
                    assert!(
                        inside.start <= field.as_ptr() && field.as_ptr_range().end <= inside.end
                    );
                }
            }
        }
    }

    #[test]
    fn cloudfront_time_taken_is_in_seconds() {
        let mut w = W3c::default();
        assert!(w.directive(b"#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken"));
        assert_eq!(w.describe(), ("w3c", "CloudFront, time-taken in seconds"));
        let line = b"2026-03-01\t12:00:05\tFRA56-P1\t2390\t192.0.2.10\tGET\td111111abcdef8.cloudfront.net\t/img/logo.png\t200\t-\tMozilla/5.0%20(X11)\t-\t-\tHit\tSOX4xwn4XV6Q4rgb7XiVGOHms\twww.example.com\thttps\t157\t0.002";
        let r = w.parse(line).unwrap();
        assert_eq!((r.time, r.status, r.bytes), (T + 5, 200, 2390));
        assert_eq!(r.request_time_us, Some(2_000));
        assert_eq!(r.vhost, Some(&b"www.example.com"[..]));
        assert_eq!(r.section(), Some(&b"/img"[..]));
        assert_eq!(parse_decimal_us(b"1", 6), Some(1_000_000));
        assert_eq!(parse_decimal_us(b"0.0005", 6), Some(500));
        // Another header without x-edge- columns is back to milliseconds.
        w.directive(b"#Fields: date time sc-status time-taken");
        let r = w.parse(b"2026-03-01 12:00:05 200 2").unwrap();
        assert_eq!(r.request_time_us, Some(2_000));
    }
}
