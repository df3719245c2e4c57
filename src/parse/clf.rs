//! The Common Log Format family: CLF, Combined, Apache's vhost-prefixed
//! forms, each optionally followed by more fields (the first of which, when
//! it is a number, is the request time).

use memchr::memchr;

use super::fields::{field, parse_bytes, parse_request_time, parse_status};
use super::time::{parse_clf_time, two_digits, SECS_AT, TIME_LEN};
use super::{Method, ParseError, Parser, Record, Syntax};

impl Parser {
    /// One line of the CLF family, line end already stripped. Inlined: it
    /// is the hot path, and a call would copy the record once more.
    #[inline(always)]
    pub(super) fn parse_clf<'a>(&mut self, line: &'a [u8]) -> Result<Record<'a>, ParseError> {
        if line.is_empty() {
            return Err(ParseError::Empty);
        }
        let (host, rest) = word(line).ok_or(ParseError::Host)?;
        let (ident, rest) = user_word(rest).ok_or(ParseError::User)?;
        let (user, rest) = user_word(rest).ok_or(ParseError::User)?;
        // CLF has three fields before `[`. A fourth means Apache's
        // vhost-prefixed form (`%v %h %l %u`): the first was the vhost. The
        // common case pays only the `[` test it needed anyway.
        let (vhost, host, user, rest) = match rest.strip_prefix(b"[") {
            Some(rest) => (None, host, user, rest),
            None => {
                let (real_user, rest) = user_word(rest).ok_or(ParseError::Time)?;
                let rest = rest.strip_prefix(b"[").ok_or(ParseError::Time)?;
                (Some(host), ident, real_user, rest)
            }
        };

        // Every valid stamp is TIME_LEN bytes: look there before scanning.
        let close = match rest.get(TIME_LEN) {
            Some(b']') => TIME_LEN,
            _ => memchr(b']', rest).ok_or(ParseError::Time)?,
        };
        let time = self.time(&rest[..close]).ok_or(ParseError::Time)?;

        let rest = rest[close + 1..]
            .strip_prefix(b" \"")
            .ok_or(ParseError::Request)?;
        let (request, rest) = quoted(rest).ok_or(ParseError::Request)?;
        let (method, target) = split_request(request);

        let rest = rest.strip_prefix(b" ").ok_or(ParseError::Status)?;
        let (status, rest) = field(rest);
        let status = parse_status(status).ok_or(ParseError::Status)?;
        let rest = rest.ok_or(ParseError::Bytes)?;
        let (bytes, rest) = field(rest);
        let bytes = parse_bytes(bytes).ok_or(ParseError::Bytes)?;

        // `extra` is what follows the CLF or Combined fields, if anything.
        let (referer, user_agent, extra) = match rest {
            None => (None, None, None),
            Some(rest) => match rest.strip_prefix(b"\"") {
                // CLF, and trailing fields that are not Combined's pair.
                None => (None, None, Some(rest)),
                Some(rest) => {
                    let (referer, rest) = quoted(rest).ok_or(ParseError::Referer)?;
                    match rest.strip_prefix(b" \"") {
                        Some(rest) => {
                            let (agent, rest) = quoted(rest).ok_or(ParseError::UserAgent)?;
                            (Some(referer), Some(agent), rest.strip_prefix(b" "))
                        }
                        None => (Some(referer), None, rest.strip_prefix(b" ")),
                    }
                }
            },
        };
        let request_time_us = extra.and_then(|extra| parse_request_time(field(extra).0));

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

    /// [`parse_clf_time`], reusing the last result while only the seconds
    /// change.
    pub(super) fn time(&mut self, text: &[u8]) -> Option<i64> {
        if let Some(minute) = self.last_minute {
            if text.len() == TIME_LEN
                && text[..SECS_AT] == self.last_text[..SECS_AT]
                && text[SECS_AT + 2..] == self.last_text[SECS_AT + 2..]
            {
                let secs = two_digits(text[SECS_AT], text[SECS_AT + 1]).filter(|&s| s < 60)?;
                return Some(minute + i64::from(secs));
            }
        }
        let time = parse_clf_time(text)?;
        // parse_clf_time accepted it, so the text is TIME_LEN bytes and the
        // seconds digits are valid.
        let secs = two_digits(text[SECS_AT], text[SECS_AT + 1])?;
        self.last_text.copy_from_slice(text);
        self.last_minute = Some(time - i64::from(secs));
        Some(time)
    }
}

/// A non-empty field followed by a space, and what follows that space.
fn word(s: &[u8]) -> Option<(&[u8], &[u8])> {
    match field(s) {
        (word, Some(rest)) if !word.is_empty() => Some((word, rest)),
        _ => None,
    }
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
fn quoted(s: &[u8]) -> Option<(&[u8], &[u8])> {
    // Look for quotes only: a quote is escaped when an odd run of
    // backslashes precedes it, which is what a scan from the start that
    // skips the byte after each backslash decides. One needle is cheaper
    // for memchr than two, and a field rarely holds a backslash.
    let mut from = 0;
    while let Some(i) = memchr(b'"', &s[from..]) {
        let at = from + i;
        from = at + 1;
        let backslashes = s[..at].iter().rev().take_while(|&&b| b == b'\\').count();
        if backslashes % 2 == 0 && matches!(s.get(at + 1), None | Some(b' ')) {
            return Some((&s[..at], &s[at + 1..]));
        }
    }
    None
}

/// The method and target of a request that is exactly
/// `METHOD SP TARGET SP HTTP/...`; `(Other, None)` for anything else.
fn split_request(request: &[u8]) -> (Method, Option<&[u8]>) {
    let Some((method, rest)) = word(request) else {
        return (Method::Other, None);
    };
    let Some((target, protocol)) = word(rest) else {
        return (Method::Other, None);
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
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
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
}
