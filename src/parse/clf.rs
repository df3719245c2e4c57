//! The Common Log Format family: CLF, Combined, Apache's vhost-prefixed
//! forms, and the presets built on them (ingress-nginx, Traefik), read by
//! hand: this is the hot path.
//!
//! Real-world lines it takes besides the textbook ones: a client field that
//! is an X-Forwarded-For list (`10.0.0.2, 10.0.0.1 - - [...]`: the client is
//! its first address), a status `-` ([`NO_STATUS`]), a request without a
//! protocol (HTTP/0.9's `"GET /index.html"`), and a last quoted field cut
//! off at the end of the line.
//!
//! A request time is read only from a column whose meaning the line's shape
//! or the preset gives: see [`ClfShape`].

use memchr::memchr;

use super::fields::{
    field, find_byte, find_either, find_quote, parse_bytes, parse_digits, parse_request_time,
    parse_seconds,
};
use super::{Method, ParseError, Parser, Record, Syntax, NO_STATUS};

/// Which lines of the CLF family a format takes, and where their request
/// time is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClfShape {
    /// The whole family (`clf`, and `auto`): CLF or Combined, with or
    /// without a vhost prefix, with or without further fields. A request
    /// time is read from a single number ending the line (nginx's
    /// `$request_time` in seconds when it has a decimal point, Apache's
    /// `%D` in microseconds when it is an integer), and from the
    /// ingress-nginx and Traefik shapes below; other further fields have no
    /// known meaning and are ignored.
    Family,
    /// Apache's `common`: CLF, nothing more.
    Common,
    /// `combined`, nginx's and Apache's: CLF, then referer and user agent.
    Combined,
    /// Apache's `vhost_combined`: `%v:%p`, then Combined.
    VhostCombined,
    /// The ingress-nginx controller's default: Combined, then
    /// `$request_length $request_time [$proxy_upstream_name] ...`.
    IngressNginx,
    /// Traefik's CLF: Combined, then
    /// `<requests> "<router>" "<server URL>" <duration>ms`.
    Traefik,
}

impl Parser {
    /// One line of the CLF family in `shape`, line end already stripped.
    /// Inlined: it is the hot path, and a call would copy the record once
    /// more.
    #[inline(always)]
    pub(super) fn parse_clf<'a>(
        &mut self,
        line: &'a [u8],
        shape: ClfShape,
    ) -> Result<Record<'a>, ParseError> {
        if line.is_empty() {
            return Err(ParseError::Empty);
        }
        let (host, rest) = list_word(line).ok_or(ParseError::Host)?;
        let (ident, rest) = ident_word(rest).ok_or(ParseError::User)?;
        let (user, rest) = user_word(rest).ok_or(ParseError::User)?;
        // CLF has three fields before `[`. A fourth means Apache's
        // vhost-prefixed form (`%v %h %l %u`): the first was the vhost, the
        // second the client. The common case pays only the `[` test it
        // needed anyway.
        let (vhost, host, user, rest) = match rest.strip_prefix(b"[") {
            Some(rest) => (None, host, user, rest),
            None => {
                let (real_user, rest) = user_word(rest).ok_or(ParseError::Time)?;
                let rest = rest.strip_prefix(b"[").ok_or(ParseError::Time)?;
                (Some(host), ident, real_user, rest)
            }
        };

        // Every valid stamp is TIME_LEN bytes: look there before scanning.
        let close = match rest.get(super::time::TIME_LEN) {
            Some(b']') => super::time::TIME_LEN,
            _ => memchr(b']', rest).ok_or(ParseError::Time)?,
        };
        let time = self.clock.time(&rest[..close]).ok_or(ParseError::Time)?;

        let rest = rest[close + 1..]
            .strip_prefix(b" \"")
            .ok_or(ParseError::Request)?;
        let (method, target, rest) = match plain_request(rest) {
            Some(request) => request,
            None => {
                let (request, rest) = quoted(rest).ok_or(ParseError::Request)?;
                let (method, target) = split_request(request);
                (method, target, rest)
            }
        };

        let rest = rest.strip_prefix(b" ").ok_or(ParseError::Status)?;
        let (status, rest) = status_field(rest);
        let status = status.ok_or(ParseError::Status)?;
        let rest = rest.ok_or(ParseError::Bytes)?;
        let (bytes, rest) = bytes_field(rest);
        let bytes = bytes.ok_or(ParseError::Bytes)?;

        // `extra` is what follows the CLF or Combined fields, if anything.
        // A quoted field cut off by the end of the line runs to the end:
        // `cut` then says the line ends before its user agent would.
        let (referer, user_agent, extra, cut) = match rest {
            None => (None, None, None, false),
            Some(rest) => match rest.strip_prefix(b"\"") {
                // CLF, and further fields that are not Combined's pair.
                None => (None, None, Some(rest), false),
                Some(rest) => match quoted_short(rest) {
                    None => (Some(rest), None, None, true),
                    Some((referer, rest)) => match rest.strip_prefix(b" \"") {
                        Some(rest) => {
                            let (agent, rest) = quoted(rest).unwrap_or((rest, b""));
                            (Some(referer), Some(agent), rest.strip_prefix(b" "), false)
                        }
                        None => (Some(referer), None, rest.strip_prefix(b" "), false),
                    },
                },
            },
        };
        let combined = referer.is_some() && (user_agent.is_some() || cut);
        let request_time_us = match shape {
            ClfShape::Family => extra.and_then(family_request_time),
            ClfShape::Common if vhost.is_none() && referer.is_none() && extra.is_none() => None,
            ClfShape::Combined if vhost.is_none() && combined && extra.is_none() => None,
            ClfShape::VhostCombined if vhost.is_some() && combined && extra.is_none() => None,
            ClfShape::IngressNginx if vhost.is_none() && combined => {
                ingress_request_time(extra.ok_or(ParseError::Format)?)?
            }
            ClfShape::Traefik if vhost.is_none() && combined => {
                traefik_request_time(extra.ok_or(ParseError::Format)?)?
            }
            _ => return Err(ParseError::Format),
        };

        Ok(Record {
            syntax: Syntax::Clf,
            vhost,
            host,
            user,
            time,
            method,
            target,
            query: None,
            status,
            bytes,
            referer,
            user_agent,
            request_time_us,
        })
    }
}

/// The request time of further fields in the CLF family (`auto`, `clf`),
/// when their shape says which field holds one: a single number (see
/// [`parse_request_time`]), or the ingress-nginx or Traefik columns.
fn family_request_time(extra: &[u8]) -> Option<u64> {
    match memchr(b' ', extra) {
        None => parse_request_time(extra),
        Some(_) => ingress_request_time(extra)
            .or_else(|_| traefik_request_time(extra))
            .ok()
            .flatten(),
    }
}

/// ingress-nginx's columns after the user agent: `$request_length
/// $request_time [$proxy_upstream_name] ...`. `Ok(None)` when they fit but
/// the time is `-`.
fn ingress_request_time(extra: &[u8]) -> Result<Option<u64>, ParseError> {
    let (length, rest) = field(extra);
    let (time, rest) = field(rest.ok_or(ParseError::Format)?);
    let fits = parse_digits(length).is_some()
        && rest.is_some_and(|r| r.first() == Some(&b'['))
        && (time == b"-" || memchr(b'.', time).is_some());
    if !fits {
        return Err(ParseError::Format);
    }
    Ok(parse_seconds(time))
}

/// Traefik's columns after the user agent: `<requests> "<router>"
/// "<server URL>" <duration>ms`.
fn traefik_request_time(extra: &[u8]) -> Result<Option<u64>, ParseError> {
    let (requests, rest) = field(extra);
    let last = extra.rsplit(|&b| b == b' ').next().unwrap_or(extra);
    let millis = last.strip_suffix(b"ms").and_then(parse_digits);
    let fits = parse_digits(requests).is_some()
        && rest.is_some_and(|r| r.first() == Some(&b'"'))
        && millis.is_some();
    match millis {
        Some(ms) if fits => Ok(ms.checked_mul(1000)),
        _ => Err(ParseError::Format),
    }
}

/// Exactly three digits in `100..=599`, or `-` for [`NO_STATUS`].
#[inline]
pub(super) fn parse_status_or_dash(s: &[u8]) -> Option<u16> {
    match s {
        b"-" => Some(NO_STATUS),
        _ => super::fields::parse_status(s),
    }
}

/// The status field and what follows its space: what [`field`] and
/// [`parse_status_or_dash`] read, with three digits and a space taken at
/// once (the search for the space cost ~30 instructions a line).
#[inline(always)]
fn status_field(s: &[u8]) -> (Option<u16>, Option<&[u8]>) {
    if let Some((&[a, b, c, b' '], after)) = s.split_first_chunk::<4>() {
        // Three digits hold no space: the field is these three.
        if let Some(status) = super::fields::parse_status(&[a, b, c]) {
            return (Some(status), Some(after));
        }
    }
    let (status, rest) = field(s);
    (parse_status_or_dash(status), rest)
}

/// The byte count and what follows its space: what [`field`] and
/// [`parse_bytes`] read, the digits read as the space is looked for
/// rather than in a second pass.
#[inline(always)]
fn bytes_field(s: &[u8]) -> (Option<u64>, Option<&[u8]>) {
    let mut n = 0u64;
    // 19 digits always fit a u64; a longer field goes the general way.
    for (i, &b) in s.iter().enumerate().take(19) {
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            if i > 0 && b == b' ' {
                return (Some(n), Some(&s[i + 1..]));
            }
            break;
        }
        n = n * 10 + u64::from(digit);
        if i + 1 == s.len() {
            return (Some(n), None);
        }
    }
    let (bytes, rest) = field(s);
    (parse_bytes(bytes), rest)
}

/// A non-empty field followed by a space, and what follows that space.
#[inline(always)]
fn word(s: &[u8]) -> Option<(&[u8], &[u8])> {
    match field(s) {
        (word, Some(rest)) if !word.is_empty() => Some((word, rest)),
        _ => None,
    }
}

/// Like [`word`], but a word ending in `,` goes on past the space: an
/// X-Forwarded-For list (`a, b, c`) in place of the client. Returns its
/// first item, without the comma, and what follows the whole list.
#[inline(always)]
fn list_word(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let (first, mut rest) = word(s)?;
    let Some(first) = first.strip_suffix(b",") else {
        return Some((first, rest));
    };
    loop {
        let (next, after) = word(rest)?;
        rest = after;
        if next.last() != Some(&b',') {
            break;
        }
    }
    (!first.is_empty()).then_some((first, rest))
}

/// Like [`word`], but a field starting with `[` is the timestamp, so the
/// identity or user field before it is missing.
#[inline(always)]
fn user_word(s: &[u8]) -> Option<(&[u8], &[u8])> {
    // Nearly always `-`: one compare.
    match s.split_first_chunk::<2>() {
        Some((b"- ", after)) => Some((&s[..1], after)),
        _ => word(s).filter(|(w, _)| w[0] != b'['),
    }
}

/// The identity field: a [`list_word`] (the client of a vhost-prefixed
/// line may be a list) not starting with `[`.
#[inline(always)]
fn ident_word(s: &[u8]) -> Option<(&[u8], &[u8])> {
    // Nearly always `-`: one compare.
    match s.split_first_chunk::<2>() {
        Some((b"- ", after)) => Some((&s[..1], after)),
        _ => list_word(s).filter(|(w, _)| w[0] != b'['),
    }
}

/// The common request, `METHOD SP TARGET SP HTTP/...` with no quote or
/// space inside its parts, read at once from after its opening quote:
/// its method, target, and what follows its closing quote. `None` for
/// anything else, which [`quoted`] and [`split_request`] then read: this
/// gives what they would, for a third of what they cost (callgrind:
/// ~280 instructions a Combined line for the two).
///
/// Why it agrees: no part holds a quote, so the first quote is the one
/// after the protocol; a backslash can only escape it if it ends the
/// protocol, which is refused; and the parts are split at their spaces as
/// `split_request` splits them.
#[inline]
fn plain_request(s: &[u8]) -> Option<(Method, Option<&[u8]>, Rest<'_>)> {
    // Most requests are GETs: one compare for what plain_word and
    // Method::from_bytes would find.
    let (method, rest) = match s.split_first_chunk::<4>() {
        Some((b"GET ", rest)) => (Method::Get, rest),
        _ => {
            let (method, rest) = plain_word(s)?;
            (Method::from_bytes(method), rest)
        }
    };
    let (target, rest) = plain_word(rest)?;
    let protocol = rest.strip_prefix(b"HTTP/")?;
    // `1.1"`, `2.0"`: no space or quote before the quote, found at once.
    let end = match protocol.first_chunk::<4>() {
        Some(&[major, b'.', minor, b'"']) if major.is_ascii_digit() && minor.is_ascii_digit() => 3,
        _ => find_either(protocol, b' ', b'"')?,
    };
    let after = &protocol[end + 1..];
    let closed = protocol[end] == b'"'
        && !protocol[..end].ends_with(b"\\")
        && matches!(after.first(), None | Some(b' '));
    closed.then_some((method, Some(target), after))
}

/// What follows a field.
type Rest<'a> = &'a [u8];

/// A non-empty part of a request ended by a space, and what follows the
/// space; `None` when it ends at a quote (or the end) instead.
#[inline(always)]
fn plain_word(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let end = find_either(s, b' ', b'"')?;
    (end > 0 && s[end] == b' ').then(|| (&s[..end], &s[end + 1..]))
}

/// The content of a quoted field whose opening quote is already consumed,
/// and what follows the closing quote.
///
/// A backslash escapes the next byte (Apache writes `\"` and `\\`). The
/// closing quote is the first unescaped one followed by a space or the end
/// of the line, so a server that forgot to escape a quote in the middle of a
/// field does not cost us the line. `None` when no such quote exists.
#[inline]
pub(super) fn quoted(s: &[u8]) -> Option<(&[u8], &[u8])> {
    quoted_by(s, find_quote)
}

/// [`quoted`] for a field that is usually short (a referrer: `-` or a
/// URL of a few dozen bytes): its first [`NEAR`] bytes are searched eight
/// at a time, where memchr's setup cost ~80 instructions a call
/// (callgrind), and only what lies beyond with memchr.
#[inline]
fn quoted_short(s: &[u8]) -> Option<(&[u8], &[u8])> {
    quoted_by(s, |s| match s.split_at_checked(NEAR) {
        None => find_byte(s, b'"'),
        Some((near, far)) => find_byte(near, b'"').or_else(|| Some(NEAR + find_quote(far)?)),
    })
}

/// How far [`quoted_short`] looks eight bytes at a time.
const NEAR: usize = 32;

/// [`quoted`], with `find` saying where the first quote of a slice is.
#[inline(always)]
fn quoted_by(s: &[u8], find: impl Fn(&[u8]) -> Option<usize>) -> Option<(&[u8], &[u8])> {
    // Look for quotes only: a quote is escaped when an odd run of
    // backslashes precedes it, which is what a scan from the start that
    // skips the byte after each backslash decides. One needle is cheaper
    // for memchr than two, and a field rarely holds a backslash.
    let mut from = 0;
    while let Some(i) = find(&s[from..]) {
        let at = from + i;
        from = at + 1;
        if !escaped(s, at) && matches!(s.get(at + 1), None | Some(b' ')) {
            return Some((&s[..at], &s[at + 1..]));
        }
    }
    None
}

/// Whether the byte at `at` is escaped: an odd run of backslashes precedes
/// it.
#[inline(always)]
pub(super) fn escaped(s: &[u8], at: usize) -> bool {
    // Most quotes have no backslash before them: one compare.
    at > 0
        && s[at - 1] == b'\\'
        && s[..at].iter().rev().take_while(|&&b| b == b'\\').count() % 2 == 1
}

/// The method and target of a request: `METHOD SP TARGET SP HTTP/...`, or
/// HTTP/0.9's `METHOD SP TARGET` with a target starting with `/`;
/// `(Other, None)` for anything else.
#[inline]
pub(super) fn split_request(request: &[u8]) -> (Method, Option<&[u8]>) {
    // Most requests are GETs: one compare for what word() and
    // Method::from_bytes would find.
    match request.split_first_chunk::<4>() {
        Some((b"GET ", rest)) => split_after_method(b"GET", Method::Get, rest),
        _ => match word(request) {
            Some((method, rest)) => split_after_method(method, Method::from_bytes(method), rest),
            None => (Method::Other, None),
        },
    }
}

/// [`split_request`] past the method, `method` its word and `known` what
/// it names, and `rest` what follows its space.
#[inline(always)]
fn split_after_method<'a>(
    method: &[u8],
    known: Method,
    rest: &'a [u8],
) -> (Method, Option<&'a [u8]>) {
    let Some((target, protocol)) = word(rest) else {
        // No protocol: HTTP/0.9, when the rest is one word and a path.
        let simple = rest.first() == Some(&b'/') && rest.iter().all(|&b| b != b' ');
        return match simple && method.iter().all(u8::is_ascii_uppercase) {
            true => (known, Some(rest)),
            false => (Method::Other, None),
        };
    };
    // Not `contains`, which calls memchr, whose setup cost 45
    // instructions a line (callgrind).
    let one_word = find_byte(protocol, b' ').is_none();
    if !protocol.starts_with(b"HTTP/") || !one_word {
        return (Method::Other, None);
    }
    (known, Some(target))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::parse::garbage::{draw, xorshift};
    use memchr::memchr2;

    /// The scan `quoted` replaced: stop at every quote and backslash, and
    /// skip the byte after a backslash.
    fn quoted_by_forward_scan(s: &[u8]) -> Option<(&[u8], &[u8])> {
        let mut from = 0;
        while let Some(i) = memchr2(b'"', b'\\', s.get(from..)?) {
            let at = from + i;
            if s[at] == b'\\' {
                from = at + 2;
            } else if matches!(s.get(at + 1), None | Some(b' ')) {
                return Some((&s[..at], &s[at + 1..]));
            } else {
                from = at + 1;
            }
        }
        None
    }

    #[test]
    fn quoted_and_quoted_short_agree_with_a_forward_scan() {
        let alphabet = b"\"\\ a";
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        let mut s = Vec::new();
        for _ in 0..200_000 {
            draw(&mut s, alphabet, 80, &mut next);
            let want = quoted_by_forward_scan(&s);
            assert_eq!(quoted(&s), want, "{}", String::from_utf8_lossy(&s));
            assert_eq!(quoted_short(&s), want, "{}", String::from_utf8_lossy(&s));
        }
    }

    #[test]
    fn a_get_request_splits_as_its_words_split() {
        let parts: [&[u8]; 6] = [b"GET", b" ", b"/a", b"HTTP/1.1", b"G", b"x"];
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        let mut s = Vec::new();
        for _ in 0..50_000 {
            s.clear();
            for _ in 0..next() % 7 {
                s.extend_from_slice(parts[(next() % parts.len() as u64) as usize]);
            }
            let want = match word(&s) {
                Some((method, rest)) => {
                    split_after_method(method, Method::from_bytes(method), rest)
                }
                None => (Method::Other, None),
            };
            assert_eq!(split_request(&s), want, "{}", String::from_utf8_lossy(&s));
        }
    }

    #[test]
    fn a_dash_identity_or_user_reads_as_the_word_readers_read_it() {
        let alphabet = b"- [a,";
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        let mut s = Vec::new();
        for _ in 0..50_000 {
            draw(&mut s, alphabet, 8, &mut next);
            let user = word(&s).filter(|(w, _)| w[0] != b'[');
            assert_eq!(user_word(&s), user, "{}", String::from_utf8_lossy(&s));
            let ident = list_word(&s).filter(|(w, _)| w[0] != b'[');
            assert_eq!(ident_word(&s), ident, "{}", String::from_utf8_lossy(&s));
        }
    }

    #[test]
    fn status_and_bytes_read_as_field_and_their_parsers_read_them() {
        let alphabet = b"0123456789 -\"x";
        let mut next = xorshift(0x5851_f42d_4c95_7f2d);
        let mut s = Vec::new();
        for _ in 0..200_000 {
            let state = next();
            s.clear();
            // Mostly digits, now and then another byte; up to 24 bytes.
            for i in 0..state % 25 {
                let pick = (state >> (i % 40)) as usize;
                s.push(match pick % 8 {
                    0 => alphabet[(pick >> 3) % alphabet.len()],
                    _ => b'0' + (pick >> 3) as u8 % 10,
                });
            }
            let (status, rest) = field(&s);
            assert_eq!(
                status_field(&s),
                (parse_status_or_dash(status), rest),
                "{}",
                String::from_utf8_lossy(&s)
            );
            let (bytes, rest) = field(&s);
            assert_eq!(
                bytes_field(&s),
                (parse_bytes(bytes), rest),
                "{}",
                String::from_utf8_lossy(&s)
            );
        }
    }

    #[test]
    fn a_plain_request_reads_as_quoted_and_split_read_it() {
        let parts: [&[u8]; 10] = [
            b"GET",
            b" ",
            b"/a",
            b"\"",
            b"\\",
            b"HTTP/1.1",
            b"HTTP/",
            b"x",
            b" \"",
            b"-",
        ];
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        let mut s = Vec::new();
        let mut plain = 0;
        for _ in 0..200_000 {
            let state = next();
            s.clear();
            // Mostly well-formed requests, with a part or two changed.
            for (i, part) in [&b"GET"[..], b" ", b"/a", b" ", b"HTTP/1.1", b"\" -"]
                .iter()
                .enumerate()
            {
                match (state >> (6 * i)) % 8 {
                    0 => s.extend_from_slice(parts[((state >> (6 * i + 3)) % 10) as usize]),
                    1 => {}
                    _ => s.extend_from_slice(part),
                }
            }
            let Some((method, target, rest)) = plain_request(&s) else {
                continue;
            };
            plain += 1;
            let (request, want_rest) = quoted(&s).unwrap();
            assert_eq!(
                (split_request(request), want_rest),
                ((method, target), rest),
                "{}",
                String::from_utf8_lossy(&s)
            );
        }
        assert!(plain > 10_000, "{plain}");
    }

    #[test]
    fn a_forwarded_for_list_gives_its_first_address() {
        for (s, first, rest) in [
            (&b"1.2.3.4 - x"[..], &b"1.2.3.4"[..], &b"- x"[..]),
            (b"10.0.0.2, 10.0.0.1, 127.0.0.1 - x", b"10.0.0.2", b"- x"),
            (b"2001:db8::1, 10.0.0.1 - x", b"2001:db8::1", b"- x"),
        ] {
            assert_eq!(list_word(s), Some((first, rest)));
        }
        assert_eq!(list_word(b", 1.2.3.4 - x"), None);
        assert_eq!(list_word(b"1.2.3.4, "), None, "a list cut off");
    }

    #[test]
    fn requests_split_with_or_without_a_protocol() {
        for (request, method, target) in [
            (&b"GET /a HTTP/1.1"[..], Method::Get, Some(&b"/a"[..])),
            (b"GET /index.html", Method::Get, Some(b"/index.html")),
            (b"PROPFIND /dav", Method::Other, Some(b"/dav")),
            (b"GET index.html", Method::Other, None),
            (b"get /a", Method::Other, None),
            (b"\x16\x03 /x", Method::Other, None),
            (b"GET /a b", Method::Other, None),
            (b"-", Method::Other, None),
            (b"GET /a FTP/1.0", Method::Other, None),
        ] {
            assert_eq!(
                split_request(request),
                (method, target),
                "{}",
                String::from_utf8_lossy(request)
            );
        }
    }

    #[test]
    fn further_fields_give_a_request_time_only_in_a_known_shape() {
        for (extra, us) in [
            (&b"0.123"[..], Some(123_000)),
            (b"4512", Some(4512)),
            (b"-", None),
            // The first of several fields: its meaning is unknown.
            (b"0.123 upstream=1", None),
            (b"512 0.033 x", None),
            // ingress-nginx: $request_length $request_time [upstream] ...
            (
                b"512 0.033 [default-web-80] [] 10.0.0.7:80 612 0.032 200 abc",
                Some(33_000),
            ),
            (b"512 - [default-web-80] [] - - - - abc", None),
            // Traefik: requests "router" "server" duration.
            (
                br#"42 "web@docker" "http://10.0.0.7:80" 17ms"#,
                Some(17_000),
            ),
            (br#"42 "web@docker" "http://10.0.0.7:80" 17"#, None),
        ] {
            assert_eq!(
                family_request_time(extra),
                us,
                "{}",
                String::from_utf8_lossy(extra)
            );
        }
    }
}
