//! The W3C Extended Log File Format, as IIS writes it: directives and
//! space-separated lines whose columns a `#Fields:` directive names.
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
//! it from there on, as IIS writes after a restart) and the date of the last
//! `#Date:` (used when there is no `date` column).
//!
//! Invariants:
//! - Pure, like `parse`: no I/O, no allocation and no regex per line (the
//!   column map is built once per directive); fields borrow from the line.
//! - Times are UTC, as IIS writes them. `-` is an empty field: `None`, 0
//!   bytes, or no section. `time-taken` is milliseconds.
//! - A line is a hit only with a time (a `time` column and a date from the
//!   `date` column or `#Date:`) and a valid `sc-status`, and with exactly as
//!   many fields as columns: that count is what keeps a CLF line from
//!   passing for W3C in `auto`. Unknown columns are skipped.

use super::fields::{decimal_fraction, field, parse_bytes, parse_digits, parse_status};
use super::time::{days_from_civil, days_in_month, two_digits};
use super::{Method, ParseError, Record, Syntax};

/// Whether `line` is the directive `#name:` (name in any ASCII case).
pub fn directive_is(line: &[u8], name: &[u8]) -> bool {
    line.strip_prefix(b"#")
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
    ClientIp,
    Username,
    Method,
    UriStem,
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
            (b"c-ip", Column::ClientIp),
            (b"cs-username", Column::Username),
            (b"cs-method", Column::Method),
            (b"cs-uri-stem", Column::UriStem),
            (b"cs-uri-query", Column::UriQuery),
            (b"sc-status", Column::Status),
            (b"sc-bytes", Column::Bytes),
            (b"time-taken", Column::TimeTaken),
            (b"cs(user-agent)", Column::UserAgent),
            (b"cs(referer)", Column::Referer),
            (b"cs-host", Column::Host),
        ];
        NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map_or(Column::Other, |&(_, c)| c)
    }
}

/// The W3C state of one log: its columns and header date.
#[derive(Debug, Default, Clone)]
pub struct W3c {
    /// Columns of the last `#Fields:`, in order; empty before one.
    columns: Vec<Column>,
    /// Days since the epoch of the last `#Date:`.
    header_day: Option<i64>,
    /// Last `date` text parsed, with its day: consecutive lines share it.
    last_date: [u8; 10],
    last_day: Option<i64>,
}

impl W3c {
    /// Whether a `#Fields:` directive has named the columns.
    pub fn has_fields(&self) -> bool {
        !self.columns.is_empty()
    }

    /// Take a directive line (starting with `#`, line end stripped) into
    /// account. Returns true when it was `#Fields:`. Other directives
    /// (`#Software:`, `#Version:`, remarks) and a malformed `#Date:` change
    /// nothing.
    pub fn directive(&mut self, line: &[u8]) -> bool {
        let body = line.strip_prefix(b"#").unwrap_or(line);
        let Some(colon) = body.iter().position(|&b| b == b':') else {
            return false;
        };
        let (name, value) = (&body[..colon], &body[colon + 1..]);
        if name.eq_ignore_ascii_case(b"Fields") {
            self.columns = value
                .split(|&b| b == b' ' || b == b'\t')
                .filter(|n| !n.is_empty())
                .map(Column::from_name)
                .collect();
            return true;
        }
        if name.eq_ignore_ascii_case(b"Date") {
            // `#Date: 2026-03-01 12:00:00`: only the date matters.
            let value = value.trim_ascii_start();
            if let Some(day) = value.get(..10).and_then(parse_date) {
                self.header_day = Some(day);
            }
        }
        false
    }

    /// Parse one request line (not a directive; line end stripped).
    pub fn parse<'a>(&mut self, line: &'a [u8]) -> Result<Record<'a>, ParseError> {
        if line.is_empty() {
            return Err(ParseError::Empty);
        }
        if self.columns.is_empty() {
            return Err(ParseError::NoFields);
        }
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
        let (mut date, mut time, mut status) = (None, None, None);
        let mut rest = Some(line);
        for &column in &self.columns {
            let (value, next) = field(rest.ok_or(ParseError::FieldCount)?);
            rest = next;
            let present = (value != b"-").then_some(value);
            match column {
                Column::Date => date = Some(value),
                Column::Time => time = Some(value),
                Column::ClientIp => record.host = value,
                Column::Username => record.user = value,
                Column::Method => record.method = Method::from_bytes(value),
                Column::UriStem => record.target = present,
                Column::UriQuery => record.query = present,
                Column::Status => status = Some(value),
                Column::Bytes => record.bytes = parse_bytes(value).ok_or(ParseError::Bytes)?,
                // A bad request time costs the latency, not the hit.
                Column::TimeTaken => record.request_time_us = parse_millis(value),
                Column::UserAgent => record.user_agent = present,
                Column::Referer => record.referer = present,
                Column::Host => record.vhost = present,
                Column::Other => {}
            }
        }
        if rest.is_some() {
            return Err(ParseError::FieldCount);
        }
        record.status = status.and_then(parse_status).ok_or(ParseError::Status)?;
        let day = match date {
            Some(text) => self.day(text),
            None => self.header_day,
        };
        let secs = time.and_then(parse_time_of_day);
        record.time = match (day, secs) {
            (Some(day), Some(secs)) => day * 86_400 + secs,
            _ => return Err(ParseError::Time),
        };
        Ok(record)
    }

    /// [`parse_date`], reusing the last result while the text repeats.
    fn day(&mut self, text: &[u8]) -> Option<i64> {
        if self.last_day.is_some() && text == self.last_date {
            return self.last_day;
        }
        let day = parse_date(text)?;
        self.last_date.copy_from_slice(text);
        self.last_day = Some(day);
        Some(day)
    }
}

/// `2026-03-01` -> days since 1970-01-01. `None` unless exactly that shape
/// with a real date.
fn parse_date(text: &[u8]) -> Option<i64> {
    let &[y1, y2, y3, y4, b'-', m1, m2, b'-', d1, d2] = text else {
        return None;
    };
    let year = two_digits(y1, y2)? * 100 + two_digits(y3, y4)?;
    let month = two_digits(m1, m2)?;
    let day = two_digits(d1, d2)?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(i64::from(year), month, day))
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
    let &[h1, h2, b':', m1, m2, b':', s1, s2] = hms else {
        return None;
    };
    let (h, m, s) = (
        two_digits(h1, h2)?,
        two_digits(m1, m2)?,
        two_digits(s1, s2)?,
    );
    if h > 23 || m > 59 || s > 59 {
        return None;
    }
    Some(i64::from(h * 3600 + m * 60 + s))
}

/// W3C `time-taken` in milliseconds (IIS writes an integer; a fraction is
/// kept to the microsecond) -> microseconds.
fn parse_millis(text: &[u8]) -> Option<u64> {
    let (whole, fraction) = match text.iter().position(|&b| b == b'.') {
        Some(dot) => (&text[..dot], Some(&text[dot + 1..])),
        None => (text, None),
    };
    let micros = parse_digits(whole)?.checked_mul(1000)?;
    match fraction {
        None => Some(micros),
        Some(f) => micros.checked_add(decimal_fraction(f, 3)?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            (b"2026-03-01 12:00:00 200 1 ", ParseError::FieldCount),
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
        assert_eq!(parse_millis(b"0"), Some(0));
        assert_eq!(parse_millis(b"15"), Some(15_000));
        assert_eq!(parse_millis(b"1.5"), Some(1_500));
        assert_eq!(parse_millis(b"-"), None);
        assert_eq!(parse_millis(b"99999999999999999999"), None);
        assert_eq!(parse_date(b"2000-02-29"), Some(11_016));
        assert_eq!(parse_date(b"1900-02-29"), None);
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
        assert_eq!(w.header_day, None);
    }
}
