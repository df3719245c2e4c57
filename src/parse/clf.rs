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

use super::fields::{field, parse_bytes, parse_digits, parse_request_time, parse_seconds};
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
        let (ident, rest) = list_word(rest)
            .filter(|(w, _)| w[0] != b'[')
            .ok_or(ParseError::User)?;
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
        let (request, rest) = quoted(rest).ok_or(ParseError::Request)?;
        let (method, target) = split_request(request);

        let rest = rest.strip_prefix(b" ").ok_or(ParseError::Status)?;
        let (status, rest) = field(rest);
        let status = parse_status_or_dash(status).ok_or(ParseError::Status)?;
        let rest = rest.ok_or(ParseError::Bytes)?;
        let (bytes, rest) = field(rest);
        let bytes = parse_bytes(bytes).ok_or(ParseError::Bytes)?;

        // `extra` is what follows the CLF or Combined fields, if anything.
        // A quoted field cut off by the end of the line runs to the end:
        // `cut` then says the line ends before its user agent would.
        let (referer, user_agent, extra, cut) = match rest {
            None => (None, None, None, false),
            Some(rest) => match rest.strip_prefix(b"\"") {
                // CLF, and further fields that are not Combined's pair.
                None => (None, None, Some(rest), false),
                Some(rest) => match quoted(rest) {
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

/// A non-empty field followed by a space, and what follows that space.
fn word(s: &[u8]) -> Option<(&[u8], &[u8])> {
    match field(s) {
        (word, Some(rest)) if !word.is_empty() => Some((word, rest)),
        _ => None,
    }
}

/// Like [`word`], but a word ending in `,` goes on past the space: an
/// X-Forwarded-For list (`a, b, c`) in place of the client. Returns its
/// first item, without the comma, and what follows the whole list.
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
fn user_word(s: &[u8]) -> Option<(&[u8], &[u8])> {
    word(s).filter(|(w, _)| w[0] != b'[')
}

/// The content of a quoted field whose opening quote is already consumed,
/// and what follows the closing quote.
///
/// A backslash escapes the next byte (Apache writes `\"` and `\\`). The
/// closing quote is the first unescaped one followed by a space or the end
/// of the line, so a server that forgot to escape a quote in the middle of a
/// field does not cost us the line. `None` when no such quote exists.
pub(super) fn quoted(s: &[u8]) -> Option<(&[u8], &[u8])> {
    // Look for quotes only: a quote is escaped when an odd run of
    // backslashes precedes it, which is what a scan from the start that
    // skips the byte after each backslash decides. One needle is cheaper
    // for memchr than two, and a field rarely holds a backslash.
    let mut from = 0;
    while let Some(i) = memchr(b'"', &s[from..]) {
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
#[inline]
pub(super) fn escaped(s: &[u8], at: usize) -> bool {
    // Most quotes have no backslash before them: one compare.
    at > 0
        && s[at - 1] == b'\\'
        && s[..at].iter().rev().take_while(|&&b| b == b'\\').count() % 2 == 1
}

/// The method and target of a request: `METHOD SP TARGET SP HTTP/...`, or
/// HTTP/0.9's `METHOD SP TARGET` with a target starting with `/`;
/// `(Other, None)` for anything else.
pub(super) fn split_request(request: &[u8]) -> (Method, Option<&[u8]>) {
    let Some((method, rest)) = word(request) else {
        return (Method::Other, None);
    };
    let Some((target, protocol)) = word(rest) else {
        // No protocol: HTTP/0.9, when the rest is one word and a path.
        let simple = rest.first() == Some(&b'/') && rest.iter().all(|&b| b != b' ');
        return match simple && method.iter().all(u8::is_ascii_uppercase) {
            true => (Method::from_bytes(method), Some(rest)),
            false => (Method::Other, None),
        };
    };
    // A plain scan of these 8 or so bytes: `contains` calls memchr, whose
    // setup cost 45 instructions a line (callgrind).
    let one_word = protocol.iter().all(|&b| b != b' ');
    if !protocol.starts_with(b"HTTP/") || !one_word {
        return (Method::Other, None);
    }
    (Method::from_bytes(method), Some(target))
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn quoted_agrees_with_a_forward_scan() {
        let alphabet = b"\"\\ a";
        let mut next = crate::parse::garbage::xorshift(0x9e37_79b9_7f4a_7c15);
        let mut s = Vec::new();
        for _ in 0..200_000 {
            s.clear();
            for _ in 0..next() % 80 {
                s.push(alphabet[(next() % alphabet.len() as u64) as usize]);
            }
            assert_eq!(
                quoted(&s),
                quoted_by_forward_scan(&s),
                "{}",
                String::from_utf8_lossy(&s)
            );
        }
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
