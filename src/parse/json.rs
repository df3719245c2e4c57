//! JSON access logs, one object a line: Caddy's default access log and
//! Traefik's JSON access log.
//!
//! ```text
//! {"level":"info","ts":1772366405.25,"logger":"http.log.access","msg":"handled request","request":{"remote_ip":"10.0.0.9","client_ip":"23.1.2.3","proto":"HTTP/2.0","method":"GET","host":"www.example.com","uri":"/api/users?id=7","headers":{"User-Agent":["curl/8.5.0"]}},"bytes_read":0,"user_id":"","duration":0.042,"size":5120,"status":200}
//! {"ClientHost":"23.1.2.3","DownstreamContentSize":5120,"DownstreamStatus":200,"Duration":42000000,"RequestMethod":"GET","RequestPath":"/api/users?id=7","StartUTC":"2026-03-01T12:00:05.25Z","request_User-Agent":"curl/8.5.0"}
//! ```
//!
//! | record | Caddy | Traefik |
//! | --- | --- | --- |
//! | time | `ts`: unix seconds, a number (or an RFC 3339 string) | `StartUTC` (or `StartLocal`), RFC 3339 |
//! | client | `request.client_ip`, else `request.remote_ip` | `ClientHost` |
//! | user | `user_id` | `ClientUsername` |
//! | method, target, vhost | `request.method`, `request.uri`, `request.host` | `RequestMethod`, `RequestPath`, `RequestHost` |
//! | user agent, referer | `request.headers["User-Agent"][0]`, `["Referer"][0]` | `request_User-Agent`, `request_Referer` |
//! | status, bytes | `status`, `size` | `DownstreamStatus`, `DownstreamContentSize` |
//! | request time | `duration`, seconds | `Duration`, nanoseconds |
//!
//! A line is Caddy's when it has a `request` object, Traefik's when it has
//! `StartUTC`, `StartLocal` or `DownstreamStatus`; each line is decided on
//! its own. Other keys are skipped; a line needs a time and a status.
//!
//! Invariants:
//! - No I/O and no allocation per line. A line is read into [`Fields`],
//!   the raw text of each value it keeps borrowed from the line, by one of
//!   two readers that agree: [`scan`], a one-pass reader of the common
//!   line, or, when that one does not know, serde_json into structs whose strings are
//!   `RawValue`s, unknown values skipped without being built. So what
//!   serde_json accepts, rejects and reads stays the contract.
//! - String fields are the raw text between the quotes, escapes and all
//!   (`\"`, `\u00e9`), like the other formats' fields. The one field whose
//!   escapes matter to the report is the target, whose section must be
//!   taken from the real path: [`decode_target`] unescapes it into a
//!   buffer the caller owns (the reader keeps one), only when it holds a
//!   backslash. `Record`'s fields stay `&[u8]` borrowed from the line or
//!   that buffer, so the other formats are untouched.

use std::fmt;
use std::marker::PhantomData;

use memchr::memchr;
use serde::de::{Deserializer, IgnoredAny, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

mod scan;

use super::time::parse_rfc3339;
use super::{Method, ParseError, Record, Syntax};

/// The JSON shapes a parser reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shapes {
    /// Caddy's only.
    Caddy,
    /// Any known shape, decided per line.
    Any,
}

/// The keys of both shapes, each line filling those of its own.
#[derive(Deserialize)]
struct Line<'a> {
    // Caddy.
    #[serde(borrow)]
    ts: Option<&'a RawValue>,
    #[serde(borrow)]
    request: Option<CaddyRequest<'a>>,
    #[serde(borrow)]
    user_id: Option<&'a RawValue>,
    status: Option<u64>,
    size: Option<u64>,
    duration: Option<f64>,
    // Traefik.
    #[serde(rename = "StartUTC", borrow)]
    start_utc: Option<&'a RawValue>,
    #[serde(rename = "StartLocal", borrow)]
    start_local: Option<&'a RawValue>,
    #[serde(rename = "ClientHost", borrow)]
    client_host: Option<&'a RawValue>,
    #[serde(rename = "ClientUsername", borrow)]
    client_username: Option<&'a RawValue>,
    #[serde(rename = "RequestMethod", borrow)]
    request_method: Option<&'a RawValue>,
    #[serde(rename = "RequestPath", borrow)]
    request_path: Option<&'a RawValue>,
    #[serde(rename = "RequestHost", borrow)]
    request_host: Option<&'a RawValue>,
    #[serde(rename = "DownstreamStatus")]
    downstream_status: Option<u64>,
    #[serde(rename = "DownstreamContentSize")]
    downstream_content_size: Option<u64>,
    #[serde(rename = "Duration")]
    duration_ns: Option<u64>,
    #[serde(rename = "request_User-Agent", borrow)]
    request_user_agent: Option<&'a RawValue>,
    #[serde(rename = "request_Referer", borrow)]
    request_referer: Option<&'a RawValue>,
}

/// Caddy's `request` object.
#[derive(Deserialize)]
struct CaddyRequest<'a> {
    #[serde(borrow)]
    client_ip: Option<&'a RawValue>,
    #[serde(borrow)]
    remote_ip: Option<&'a RawValue>,
    #[serde(borrow)]
    method: Option<&'a RawValue>,
    #[serde(borrow)]
    uri: Option<&'a RawValue>,
    #[serde(borrow)]
    host: Option<&'a RawValue>,
    #[serde(borrow)]
    headers: Option<Headers<'a>>,
}

/// Caddy's request headers, each a list of values.
#[derive(Deserialize)]
struct Headers<'a> {
    #[serde(rename = "User-Agent", borrow)]
    user_agent: Option<First<'a>>,
    #[serde(rename = "Referer", borrow)]
    referer: Option<First<'a>>,
}

/// The first value of a JSON array, the rest skipped (no `Vec`).
struct First<'a>(Option<&'a RawValue>);

impl<'de: 'a, 'a> Deserialize<'de> for First<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FirstVisitor<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for FirstVisitor<'a> {
            type Value = First<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<First<'a>, A::Error> {
                let first = seq.next_element::<&'a RawValue>()?;
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(First(first))
            }
        }
        deserializer.deserialize_seq(FirstVisitor(PhantomData))
    }
}

/// What a line's keys hold, whichever reader read it: [`Line`]'s fields,
/// each `RawValue` as its raw text (`null` and a missing key are `None`).
#[derive(Debug, Default, PartialEq)]
struct Fields<'a> {
    ts: Option<&'a [u8]>,
    request: Option<RequestFields<'a>>,
    user_id: Option<&'a [u8]>,
    status: Option<u64>,
    size: Option<u64>,
    duration: Option<f64>,
    start_utc: Option<&'a [u8]>,
    start_local: Option<&'a [u8]>,
    client_host: Option<&'a [u8]>,
    client_username: Option<&'a [u8]>,
    request_method: Option<&'a [u8]>,
    request_path: Option<&'a [u8]>,
    request_host: Option<&'a [u8]>,
    downstream_status: Option<u64>,
    downstream_content_size: Option<u64>,
    duration_ns: Option<u64>,
    request_user_agent: Option<&'a [u8]>,
    request_referer: Option<&'a [u8]>,
}

/// [`CaddyRequest`] as raw text, the headers' first values flattened in.
#[derive(Debug, Default, PartialEq)]
struct RequestFields<'a> {
    client_ip: Option<&'a [u8]>,
    remote_ip: Option<&'a [u8]>,
    method: Option<&'a [u8]>,
    uri: Option<&'a [u8]>,
    host: Option<&'a [u8]>,
    user_agent: Option<&'a [u8]>,
    referer: Option<&'a [u8]>,
}

/// A `RawValue`'s text.
fn raw(value: Option<&RawValue>) -> Option<&[u8]> {
    value.map(|v| v.get().as_bytes())
}

impl<'a> From<Line<'a>> for Fields<'a> {
    fn from(line: Line<'a>) -> Fields<'a> {
        Fields {
            ts: raw(line.ts),
            request: line.request.map(|r| {
                let first = |f: Option<First<'a>>| f.and_then(|f| raw(f.0));
                let (user_agent, referer) = match r.headers {
                    Some(h) => (first(h.user_agent), first(h.referer)),
                    None => (None, None),
                };
                RequestFields {
                    client_ip: raw(r.client_ip),
                    remote_ip: raw(r.remote_ip),
                    method: raw(r.method),
                    uri: raw(r.uri),
                    host: raw(r.host),
                    user_agent,
                    referer,
                }
            }),
            user_id: raw(line.user_id),
            status: line.status,
            size: line.size,
            duration: line.duration,
            start_utc: raw(line.start_utc),
            start_local: raw(line.start_local),
            client_host: raw(line.client_host),
            client_username: raw(line.client_username),
            request_method: raw(line.request_method),
            request_path: raw(line.request_path),
            request_host: raw(line.request_host),
            downstream_status: line.downstream_status,
            downstream_content_size: line.downstream_content_size,
            duration_ns: line.duration_ns,
            request_user_agent: raw(line.request_user_agent),
            request_referer: raw(line.request_referer),
        }
    }
}

/// The raw text of a JSON string (between its quotes, escapes kept);
/// `None` for a missing value, `null` or a value that is not a string.
fn text(value: Option<&[u8]>) -> Option<&[u8]> {
    value?.strip_prefix(b"\"")?.strip_suffix(b"\"")
}

/// Parse one line (line end stripped) in one of `shapes`.
pub fn parse(line: &[u8], shapes: Shapes) -> Result<Record<'_>, ParseError> {
    let fields = match scan::read(line) {
        Some(fields) => fields,
        None => read_by_serde(line)?,
    };
    from_fields(fields, shapes)
}

/// A line's fields as serde_json reads them: the contract [`scan`] keeps,
/// and the reader of the lines it does not know.
fn read_by_serde(line: &[u8]) -> Result<Fields<'_>, ParseError> {
    // A line that is UTF-8 as a whole, nearly every one, is read as a str:
    // serde_json then does not check again each string it borrows, which
    // cost ~2,900 instructions a Caddy line (callgrind). The reading is the
    // same; another line is read as bytes, as before.
    let fields: Result<Line<'_>, _> = match std::str::from_utf8(line) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(line),
    };
    fields.map(Fields::from).map_err(|_| ParseError::Json)
}

/// [`parse`] past reading the JSON.
fn from_fields(fields: Fields<'_>, shapes: Shapes) -> Result<Record<'_>, ParseError> {
    match (&fields.request, shapes) {
        (Some(_), _) => caddy(fields),
        (None, Shapes::Any)
            if fields.start_utc.is_some()
                || fields.start_local.is_some()
                || fields.downstream_status.is_some() =>
        {
            traefik(fields)
        }
        _ => Err(ParseError::Json),
    }
}

/// A Caddy access line (it has a `request`).
fn caddy(fields: Fields<'_>) -> Result<Record<'_>, ParseError> {
    let request = fields.request.as_ref().ok_or(ParseError::Json)?;
    let ts = fields.ts.ok_or(ParseError::Time)?;
    let time = if ts.starts_with(b"\"") {
        text(Some(ts)).and_then(parse_rfc3339)
    } else {
        std::str::from_utf8(ts)
            .ok()
            .and_then(|ts| ts.parse::<f64>().ok())
            .and_then(unix_seconds)
    };
    Ok(Record {
        syntax: Syntax::Caddy,
        vhost: text(request.host),
        host: text(request.client_ip)
            .filter(|ip| !ip.is_empty())
            .or_else(|| text(request.remote_ip))
            .unwrap_or_default(),
        user: user(text(fields.user_id)),
        time: time.ok_or(ParseError::Time)?,
        method: method(text(request.method)),
        target: text(request.uri),
        query: None,
        status: status(fields.status)?,
        bytes: fields.size.unwrap_or(0),
        referer: text(request.referer),
        user_agent: text(request.user_agent),
        request_time_us: fields.duration.and_then(seconds_to_us),
    })
}

/// A Traefik access line.
fn traefik(fields: Fields<'_>) -> Result<Record<'_>, ParseError> {
    let start = text(fields.start_utc).or_else(|| text(fields.start_local));
    Ok(Record {
        syntax: Syntax::Json,
        vhost: text(fields.request_host),
        host: text(fields.client_host).unwrap_or_default(),
        user: user(text(fields.client_username)),
        time: start.and_then(parse_rfc3339).ok_or(ParseError::Time)?,
        method: method(text(fields.request_method)),
        target: text(fields.request_path),
        query: None,
        status: status(fields.downstream_status)?,
        bytes: fields.downstream_content_size.unwrap_or(0),
        referer: text(fields.request_referer),
        user_agent: text(fields.request_user_agent),
        request_time_us: fields.duration_ns.map(|ns| ns / 1000),
    })
}

/// The method named by `name`, `Other` when missing.
fn method(name: Option<&[u8]>) -> Method {
    name.map_or(Method::Other, Method::from_bytes)
}

/// The user field: `-` when missing or empty, as in the other formats.
fn user(name: Option<&[u8]>) -> &[u8] {
    name.filter(|n| !n.is_empty()).unwrap_or(b"-")
}

/// A status in `100..=599`.
fn status(status: Option<u64>) -> Result<u16, ParseError> {
    status
        .filter(|s| (100..=599).contains(s))
        .and_then(|s| u16::try_from(s).ok())
        .ok_or(ParseError::Status)
}

/// Unix seconds with a fraction -> whole unix seconds (rounded down), for
/// years 0 to 9999.
fn unix_seconds(ts: f64) -> Option<i64> {
    const MIN: f64 = -62_167_219_200.0;
    const MAX: f64 = 253_402_300_800.0;
    // NaN fails both comparisons; serde_json never yields one anyway.
    (MIN..MAX).contains(&ts).then(|| ts.floor() as i64)
}

/// Seconds with a fraction -> microseconds, rounded; `None` when negative
/// or past a year.
fn seconds_to_us(secs: f64) -> Option<u64> {
    (0.0..31_536_000.0)
        .contains(&secs)
        .then(|| (secs * 1e6).round() as u64)
}

/// When `record` came from a JSON line and its target holds a backslash,
/// unescape the target into `scratch` and point the record there, so that
/// its section is taken from the real path (`\/api\/users` is `/api`).
/// Nothing is written otherwise. The reader calls this for JSON records;
/// [`Parser::parse`](super::Parser::parse) itself stays free of it.
pub fn decode_target<'a>(record: &mut Record<'a>, scratch: &'a mut Vec<u8>) {
    if !record.syntax.is_json() {
        return;
    }
    let Some(target) = record.target else {
        return;
    };
    if memchr(b'\\', target).is_none() {
        return;
    }
    unescape_into(target, scratch);
    record.target = Some(scratch);
}

/// The bytes a JSON string's raw text stands for, written to `out`
/// (cleared first). Escapes serde_json has already validated; anything
/// else (a lone surrogate, a stray backslash) becomes U+FFFD or stays as
/// is, never an error.
fn unescape_into(raw: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut rest = raw;
    while let Some(at) = memchr(b'\\', rest) {
        out.extend_from_slice(&rest[..at]);
        let (decoded, used): (Option<u8>, usize) = match rest.get(at + 1) {
            Some(&b @ (b'"' | b'\\' | b'/')) => (Some(b), 2),
            Some(b'b') => (Some(0x08), 2),
            Some(b'f') => (Some(0x0c), 2),
            Some(b'n') => (Some(b'\n'), 2),
            Some(b'r') => (Some(b'\r'), 2),
            Some(b't') => (Some(b'\t'), 2),
            Some(b'u') => {
                let (c, used) = unicode_escape(&rest[at..]);
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                (None, used)
            }
            _ => (Some(b'\\'), 1),
        };
        out.extend(decoded);
        rest = &rest[at + used..];
    }
    out.extend_from_slice(rest);
}

/// The char of a `\uXXXX` escape at the start of `s` (a surrogate pair
/// when a low one follows a high one), and the bytes it used.
fn unicode_escape(s: &[u8]) -> (char, usize) {
    let unit = |at: usize| -> Option<u32> {
        let hex = s.get(at..at + 6)?.strip_prefix(b"\\u")?;
        u32::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()
    };
    let Some(high) = unit(0) else {
        return (char::REPLACEMENT_CHARACTER, 2);
    };
    if (0xD800..0xDC00).contains(&high) {
        if let Some(low @ 0xDC00..0xE000) = unit(6) {
            let c = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
            return (char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER), 12);
        }
    }
    (
        char::from_u32(high).unwrap_or(char::REPLACEMENT_CHARACTER),
        6,
    )
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::parse::garbage::{mutate, xorshift};

    /// 2026-03-01T12:00:00Z
    const T: i64 = 1_772_366_400;

    pub(super) const CADDY: &[u8] = br#"{"level":"info","ts":1772366405.25,"logger":"http.log.access.log0","msg":"handled request","request":{"remote_ip":"10.0.0.9","remote_port":"51234","client_ip":"23.1.2.3","proto":"HTTP/2.0","method":"POST","host":"www.example.com","uri":"/api/orders?id=7","headers":{"Accept":["*/*"],"User-Agent":["curl/8.5.0","second"],"Referer":["https://www.example.com/"]},"tls":{"resumed":false,"version":772}},"bytes_read":12,"user_id":"jill","duration":0.0425,"size":5120,"status":201,"resp_headers":{"Server":["Caddy"]}}"#;

    pub(super) const TRAEFIK: &[u8] = br#"{"ClientAddr":"23.1.2.3:51234","ClientHost":"23.1.2.3","ClientPort":"51234","ClientUsername":"-","DownstreamContentSize":5120,"DownstreamStatus":404,"Duration":42500000,"OriginStatus":404,"RequestHost":"www.example.com","RequestMethod":"GET","RequestPath":"/pages/about?x=1","RequestProtocol":"HTTP/1.1","RouterName":"web@docker","StartLocal":"2026-03-01T13:00:05.123+01:00","StartUTC":"2026-03-01T12:00:05.123456789Z","level":"info","msg":"","request_User-Agent":"Mozilla/5.0 (X11)","request_Referer":"-","time":"2026-03-01T12:00:05Z"}"#;

    #[test]
    fn a_caddy_line_maps_every_field_it_reads() {
        let r = parse(CADDY, Shapes::Any).unwrap();
        assert_eq!(
            r,
            Record {
                syntax: Syntax::Caddy,
                vhost: Some(b"www.example.com"),
                host: b"23.1.2.3",
                user: b"jill",
                time: T + 5,
                method: Method::Post,
                target: Some(b"/api/orders?id=7"),
                query: None,
                status: 201,
                bytes: 5120,
                referer: Some(b"https://www.example.com/"),
                user_agent: Some(b"curl/8.5.0"),
                request_time_us: Some(42_500),
            }
        );
        assert_eq!(r.section(), Some(&b"/api"[..]));
        assert_eq!(parse(CADDY, Shapes::Caddy), Ok(r));
    }

    #[test]
    fn a_traefik_line_maps_every_field_it_reads() {
        let r = parse(TRAEFIK, Shapes::Any).unwrap();
        assert_eq!(
            r,
            Record {
                syntax: Syntax::Json,
                vhost: Some(b"www.example.com"),
                host: b"23.1.2.3",
                user: b"-",
                time: T + 5,
                method: Method::Get,
                target: Some(b"/pages/about?x=1"),
                query: None,
                status: 404,
                bytes: 5120,
                referer: Some(b"-"),
                user_agent: Some(b"Mozilla/5.0 (X11)"),
                request_time_us: Some(42_500),
            }
        );
        assert_eq!(
            parse(TRAEFIK, Shapes::Caddy),
            Err(ParseError::Json),
            "the caddy preset reads Caddy's shape only"
        );
    }

    #[test]
    fn caddy_takes_remote_ip_without_client_ip_and_an_rfc3339_ts() {
        let line = br#"{"ts":"2026-03-01T12:00:05.5Z","request":{"remote_ip":"10.0.0.9","method":"GET","uri":"/"},"status":200}"#;
        let r = parse(line, Shapes::Caddy).unwrap();
        assert_eq!(
            (r.host, r.time, r.user),
            (&b"10.0.0.9"[..], T + 5, &b"-"[..])
        );
        assert_eq!((r.bytes, r.request_time_us), (0, None));
        assert_eq!((r.user_agent, r.referer), (None, None));
    }

    #[test]
    fn traefik_falls_back_to_start_local() {
        let line = br#"{"StartLocal":"2026-03-01T13:00:05+01:00","DownstreamStatus":200,"RequestPath":"/"}"#;
        assert_eq!(parse(line, Shapes::Any).map(|r| r.time), Ok(T + 5));
    }

    #[test]
    fn a_line_needs_a_known_shape_a_time_and_a_status() {
        for (line, error) in [
            (
                &br#"{"level":"info","ts":1772366405.25,"msg":"serving initial configuration"}"#[..],
                ParseError::Json,
            ),
            (br#"{"request":{"uri":"/"},"status":200}"#, ParseError::Time),
            (
                br#"{"ts":"yesterday","request":{"uri":"/"},"status":200}"#,
                ParseError::Time,
            ),
            (
                br#"{"ts":1e300,"request":{"uri":"/"},"status":200}"#,
                ParseError::Time,
            ),
            (br#"{"ts":1,"request":{"uri":"/"}}"#, ParseError::Status),
            (
                br#"{"ts":1,"request":{"uri":"/"},"status":0}"#,
                ParseError::Status,
            ),
            (
                br#"{"ts":1,"request":{"uri":"/"},"status":70000}"#,
                ParseError::Status,
            ),
            (
                br#"{"StartUTC":"2026-03-01T12:00:05Z"}"#,
                ParseError::Status,
            ),
            (br#"{"DownstreamStatus":200}"#, ParseError::Time),
            (
                br#"{"ts":1,"request":{"uri":"/"},"status":200"#,
                ParseError::Json,
            ),
            (
                br#"{"ts":1,"request":"GET /","status":200}"#,
                ParseError::Json,
            ),
            (
                br#"{"ts":1,"request":{"uri":"/"},"status":"200"}"#,
                ParseError::Json,
            ),
            (
                br#"{"ts":1,"request":{"uri":"/"},"status":200} x"#,
                ParseError::Json,
            ),
            (
                b"{\"ts\":1,\"request\":{\"uri\":\"/\xff\"},\"status\":200}",
                ParseError::Json,
            ),
            (b"{", ParseError::Json),
            (b"[1]", ParseError::Json),
        ] {
            assert_eq!(
                parse(line, Shapes::Any),
                Err(error),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
    }

    #[test]
    fn strings_that_are_not_strings_or_null_are_missing() {
        let line = br#"{"ts":1772366405,"request":{"client_ip":null,"remote_ip":7,"method":null,"uri":null,"headers":{"User-Agent":[],"Referer":[null]}},"user_id":"","status":200,"duration":-1}"#;
        let r = parse(line, Shapes::Any).unwrap();
        assert_eq!(
            (r.host, r.method, r.target),
            (&b""[..], Method::Other, None)
        );
        assert_eq!((r.user_agent, r.referer, r.user), (None, None, &b"-"[..]));
        assert_eq!(r.request_time_us, None, "a negative duration");
    }

    #[test]
    fn strings_keep_their_escapes_until_the_target_is_decoded() {
        let line = br#"{"ts":1772366400,"request":{"uri":"\/caf\u00e9\/menu?q=\"x\"","headers":{"User-Agent":["a \"quoted\" agent"]}},"status":200}"#;
        let mut r = parse(line, Shapes::Any).unwrap();
        assert_eq!(r.user_agent, Some(&br#"a \"quoted\" agent"#[..]));
        assert_eq!(r.target, Some(&br#"\/caf\u00e9\/menu?q=\"x\""#[..]));
        let mut scratch = Vec::new();
        decode_target(&mut r, &mut scratch);
        assert_eq!(r.target, Some("/café/menu?q=\"x\"".as_bytes()));
        assert_eq!(r.section(), Some("/café".as_bytes()));
    }

    #[test]
    fn only_json_targets_with_a_backslash_are_decoded() {
        let mut scratch = b"untouched".to_vec();
        let mut r = parse(CADDY, Shapes::Any).unwrap();
        decode_target(&mut r, &mut scratch);
        assert!(
            CADDY.as_ptr_range().contains(&r.target.unwrap().as_ptr()),
            "still borrowed from the line"
        );
        let mut w3c = Record {
            syntax: Syntax::W3c,
            target: Some(br"/a\/b"),
            ..r.clone()
        };
        let mut scratch2 = Vec::new();
        decode_target(&mut w3c, &mut scratch2);
        assert_eq!(
            w3c.target,
            Some(&br"/a\/b"[..]),
            "only JSON escapes are JSON's"
        );
        assert_eq!(scratch, b"untouched");
    }

    #[test]
    fn unescaping_follows_json() {
        let cases: &[(&[u8], &str)] = &[
            (b"plain", "plain"),
            (br#"\"\\\/\b\f\n\r\t"#, "\"\\/\u{8}\u{c}\n\r\t"),
            (br"\u00e9\u20AC", "é€"),
            (br"\ud83d\ude00!", "😀!"),
            (br"\ud83d!", "\u{fffd}!"),
            (br"\ude00", "\u{fffd}"),
            (br"\u12", "\u{fffd}12"),
            (br"end\", "end\\"),
            (br"\q", "\\q"),
        ];
        let mut out = Vec::new();
        for &(raw, expected) in cases {
            unescape_into(raw, &mut out);
            assert_eq!(out, expected.as_bytes(), "{}", String::from_utf8_lossy(raw));
        }
        // Agrees with serde_json on every escape it produced.
        let text = "a/é\u{1F600}\"\\\u{1}";
        let json = serde_json::to_string(text).unwrap();
        unescape_into(&json.as_bytes()[1..json.len() - 1], &mut out);
        assert_eq!(out, text.as_bytes());
    }

    #[test]
    fn a_line_read_as_a_str_gives_what_reading_its_bytes_gives() {
        // Bytes that break UTF-8 or the JSON, and ones that keep both.
        let alphabet = b"{}[]\":,\\u09aeE.- \xc3\xa9\xff\x80";
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        let mut line = Vec::new();
        for i in 0..20_000 {
            let template = if i % 2 == 0 { CADDY } else { TRAEFIK };
            mutate(&mut line, template, alphabet, &mut next);
            let by_bytes = serde_json::from_slice::<Line>(&line)
                .map_err(|_| ParseError::Json)
                .and_then(|fields| from_fields(fields.into(), Shapes::Any));
            assert_eq!(
                parse(&line, Shapes::Any),
                by_bytes,
                "{}",
                String::from_utf8_lossy(&line)
            );
        }
    }

    #[test]
    fn mutated_lines_and_escapes_never_panic() {
        let alphabet = b"{}[]\":,\\u0123456789abcdefDd.-e ";
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        let mut line = Vec::new();
        let mut out = Vec::new();
        for i in 0..20_000 {
            let template = if i % 2 == 0 { CADDY } else { TRAEFIK };
            mutate(&mut line, template, alphabet, &mut next);
            if let Ok(mut record) = parse(&line, Shapes::Any) {
                assert!((100..=599).contains(&record.status));
                decode_target(&mut record, &mut out);
                let _ = record.section();
            }
            // Any bytes as the raw text of a string.
            let from = (next() as usize) % line.len();
            unescape_into(&line[from..], &mut out);
        }
    }

    #[test]
    fn times_and_durations_convert_with_their_units() {
        assert_eq!(unix_seconds(1.5), Some(1));
        assert_eq!(unix_seconds(-0.5), Some(-1));
        assert_eq!(unix_seconds(f64::NAN), None);
        assert_eq!(unix_seconds(1e20), None);
        assert_eq!(seconds_to_us(0.000_000_4), Some(0));
        assert_eq!(seconds_to_us(1.25), Some(1_250_000));
        assert_eq!(seconds_to_us(-0.1), None);
        assert_eq!(seconds_to_us(1e12), None);
    }
}
