//! A one-pass reader of a JSON access line as servers write it, in front
//! of serde_json: it walks the top-level object once, reads the keys
//! [`Fields`] holds and checks everything else against JSON's grammar
//! while skipping it, building nothing.
//!
//! Invariants:
//! - It reads what serde_json reads or nothing: [`read`] answers `None`
//!   ("don't know") for anything it does not handle, and serde_json then
//!   decides the line. It handles strings of printable ASCII and
//!   escapes, keys without escapes, each key it reads at most once, a
//!   `request` and its `headers` as objects, integers of at most 19
//!   digits where serde_json wants a `u64`, numbers of at most 15 digits
//!   and no exponent where it wants an `f64`, and nesting to
//!   [`MAX_DEPTH`]. Every line it reads is valid JSON and gives the
//!   fields serde_json gives; the tests compare the two.
//! - No allocation; recursion only into nested values, to [`MAX_DEPTH`].
//! - Servers write no whitespace between tokens, and it reads none: a
//!   line with some is left to serde_json.

use super::{Fields, RequestFields};
use crate::parse::fields::{equal_bytes, HIGH_BITS, LOW_BITS};

/// Nesting deeper than this is left to serde_json (whose limit is 128).
const MAX_DEPTH: u32 = 32;

/// Exact powers of ten for the fractions [`Scan::float`] converts.
const POW10: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// The fields of `line`, one JSON object, or `None` when this reader
/// does not know (see the module's invariants).
pub(super) fn read(line: &[u8]) -> Option<Fields<'_>> {
    let mut scan = Scan { s: line, at: 0 };
    let mut fields = Fields::default();
    scan.members(1, top_key, |scan, key| {
        match key {
            0 => fields.ts = scan.raw(1)?,
            1 => fields.request = scan.request()?,
            2 => fields.user_id = scan.raw(1)?,
            3 => fields.status = scan.integer()?,
            4 => fields.size = scan.integer()?,
            5 => fields.duration = scan.float()?,
            6 => fields.start_utc = scan.raw(1)?,
            7 => fields.start_local = scan.raw(1)?,
            8 => fields.client_host = scan.raw(1)?,
            9 => fields.client_username = scan.raw(1)?,
            10 => fields.request_method = scan.raw(1)?,
            11 => fields.request_path = scan.raw(1)?,
            12 => fields.request_host = scan.raw(1)?,
            13 => fields.downstream_status = scan.integer()?,
            14 => fields.downstream_content_size = scan.integer()?,
            15 => fields.duration_ns = scan.integer()?,
            16 => fields.request_user_agent = scan.raw(1)?,
            _ => fields.request_referer = scan.raw(1)?,
        }
        Some(())
    })?;
    (scan.at == line.len()).then_some(fields)
}

/// Whether `rest` starts with `key`: a compare of words where `key` is
/// known, no call.
#[inline(always)]
fn leads<const N: usize>(rest: &[u8], key: &[u8; N]) -> bool {
    rest.get(..N) == Some(key)
}

/// Return from the function the first of the keys that `rest` starts
/// with: its length and its number.
macro_rules! first_of {
    ($rest:ident: $($key:literal => $id:literal),*) => {{
        $(if leads($rest, $key) { return Some(($key.len(), $id)); })*
    }};
}

/// The top-level key [`read`] reads, with its closing quote and the
/// colon, that `rest` starts with: its length and its number (see
/// [`Scan::members`]).
#[inline(always)]
fn top_key(rest: &[u8]) -> Option<(usize, u32)> {
    match rest.first()? {
        b't' => first_of!(rest: b"ts\":" => 0),
        b'r' => first_of!(rest:
            b"request\":" => 1, b"request_User-Agent\":" => 16, b"request_Referer\":" => 17),
        b'u' => first_of!(rest: b"user_id\":" => 2),
        b's' => first_of!(rest: b"status\":" => 3, b"size\":" => 4),
        b'd' => first_of!(rest: b"duration\":" => 5),
        b'S' => first_of!(rest: b"StartUTC\":" => 6, b"StartLocal\":" => 7),
        b'C' => first_of!(rest: b"ClientHost\":" => 8, b"ClientUsername\":" => 9),
        b'R' => first_of!(rest:
            b"RequestMethod\":" => 10, b"RequestPath\":" => 11, b"RequestHost\":" => 12),
        b'D' => first_of!(rest:
            b"DownstreamStatus\":" => 13, b"DownstreamContentSize\":" => 14,
            b"Duration\":" => 15),
        _ => {}
    }
    None
}

/// [`top_key`] for the keys of Caddy's `request`.
#[inline(always)]
fn request_key(rest: &[u8]) -> Option<(usize, u32)> {
    match rest.first()? {
        b'c' => first_of!(rest: b"client_ip\":" => 0),
        b'r' => first_of!(rest: b"remote_ip\":" => 1),
        b'm' => first_of!(rest: b"method\":" => 2),
        b'u' => first_of!(rest: b"uri\":" => 3),
        b'h' => first_of!(rest: b"host\":" => 4, b"headers\":" => 5),
        _ => {}
    }
    None
}

/// [`top_key`] for the request headers.
#[inline(always)]
fn header_key(rest: &[u8]) -> Option<(usize, u32)> {
    first_of!(rest: b"User-Agent\":" => 0, b"Referer\":" => 1);
    None
}

/// The keys of one object read so far, a bit each: serde's derived
/// readers reject a key seen twice, and this reader leaves that to them.
struct Seen(u32);

impl Seen {
    /// `Some` the first time `bit` is seen.
    fn once(&mut self, bit: u32) -> Option<()> {
        let mask = 1 << bit;
        let first = self.0 & mask == 0;
        self.0 |= mask;
        first.then_some(())
    }
}

/// A position in the line being read.
struct Scan<'a> {
    s: &'a [u8],
    at: usize,
}

impl<'a> Scan<'a> {
    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }

    /// Past `byte`, which must come next.
    #[inline(always)]
    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// The bytes from `start` to here.
    #[inline(always)]
    fn since(&self, start: usize) -> Option<&'a [u8]> {
        self.s.get(start..self.at)
    }

    /// An object's members, `member` reading the value (the scan just
    /// past the colon) of each key `known` finds, by its number; other
    /// values are skipped. `known` compares the keys whole with their
    /// closing quote and the colon (see [`top_key`]); another key is
    /// searched for its end, and one with an escape, which serde_json
    /// would match unescaped, is left to serde_json, as is a key read
    /// twice (serde's derived readers reject it).
    #[inline(always)]
    fn members(
        &mut self,
        depth: u32,
        known: impl Fn(&[u8]) -> Option<(usize, u32)>,
        mut member: impl FnMut(&mut Self, u32) -> Option<()>,
    ) -> Option<()> {
        if self.open(depth, b'{', b'}')? {
            return Some(());
        }
        let mut seen = Seen(0);
        loop {
            let rest = self.s.get(self.at..)?.strip_prefix(b"\"")?;
            match known(rest) {
                Some((len, key)) => {
                    self.at += 1 + len;
                    seen.once(key)?;
                    member(self, key)?;
                }
                None => {
                    // Not a key `member` reads: had it been one, with
                    // the ':' checked next, `known` would have found it.
                    if self.string()?.1 {
                        return None;
                    }
                    self.expect(b':')?;
                    self.value(depth)?;
                }
            }
            if !self.more(b'}')? {
                return Some(());
            }
        }
    }

    /// An array's elements, `element` reading each (the scan at it) with
    /// its index.
    #[inline(always)]
    fn elements(
        &mut self,
        depth: u32,
        mut element: impl FnMut(&mut Self, usize) -> Option<()>,
    ) -> Option<()> {
        if self.open(depth, b'[', b']')? {
            return Some(());
        }
        let mut index = 0;
        loop {
            element(self, index)?;
            index += 1;
            if !self.more(b']')? {
                return Some(());
            }
        }
    }

    /// Past the `open` byte of an object or array at `depth`: whether it
    /// is empty, and then past its `close` too.
    #[inline(always)]
    fn open(&mut self, depth: u32, open: u8, close: u8) -> Option<bool> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.expect(open)?;
        let empty = self.peek()? == close;
        self.at += usize::from(empty);
        Some(empty)
    }

    /// Past what follows a member or an element: `true` for a `,`
    /// (another comes), `false` for the `close` that ends them.
    #[inline(always)]
    fn more(&mut self, close: u8) -> Option<bool> {
        let next = self.peek()?;
        if next != b',' && next != close {
            return None;
        }
        self.at += 1;
        Some(next == b',')
    }

    /// Any value, checked and skipped: its raw text. `depth` is that of
    /// the object or array holding it.
    #[inline(always)]
    fn value(&mut self, depth: u32) -> Option<&'a [u8]> {
        let start = self.at;
        match self.peek()? {
            b'"' => {
                self.string()?;
            }
            b'{' | b'[' => self.nested(depth + 1)?,
            b't' => self.literal(b"true")?,
            b'f' => self.literal(b"false")?,
            b'n' => self.literal(b"null")?,
            _ => {
                self.number()?;
            }
        }
        self.since(start)
    }

    /// An object or an array at `depth`, checked and skipped: out of
    /// line, so that [`Scan::value`] stays small where it is inlined.
    #[inline(never)]
    fn nested(&mut self, depth: u32) -> Option<()> {
        if self.peek()? == b'{' {
            self.members(depth, |_| None, |_, _| Some(()))
        } else {
            self.elements(depth, |scan, _| scan.value(depth).map(drop))
        }
    }

    /// Past `word`.
    #[inline(always)]
    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.at + word.len();
        (self.s.get(self.at..end)? == word).then(|| self.at = end)
    }

    /// `null` (read as `None`) or any value's raw text: what serde_json
    /// reads as an `Option<&RawValue>`.
    #[inline(always)]
    fn raw(&mut self, depth: u32) -> Option<Option<&'a [u8]>> {
        if self.peek()? == b'n' {
            return self.literal(b"null").map(|()| None);
        }
        self.value(depth).map(Some)
    }

    /// A string at its opening quote: its raw text, quotes included, and
    /// whether it holds an escape. `None` past printable ASCII (left to
    /// serde_json), at a control byte or a bad escape.
    #[inline(always)]
    fn string(&mut self) -> Option<(&'a [u8], bool)> {
        let start = self.at;
        self.expect(b'"')?;
        let mut escaped = false;
        loop {
            self.at = string_stop(self.s, self.at)?;
            match self.s.get(self.at..)? {
                [b'"', ..] => break,
                [b'\\', b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't', ..] => {
                    self.at += 2;
                }
                [b'\\', b'u', hex @ ..] if hex.get(..4)?.iter().all(u8::is_ascii_hexdigit) => {
                    self.at += 6;
                }
                _ => return None,
            }
            escaped = true;
        }
        self.at += 1;
        Some((self.since(start)?, escaped))
    }

    /// A number, checked against JSON's grammar: its text.
    #[inline(always)]
    fn number(&mut self) -> Option<&'a [u8]> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek()? {
            b'0' => self.at += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            self.some_digits()?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            self.some_digits()?;
        }
        self.since(start)
    }

    /// Past any digits.
    #[inline(always)]
    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
    }

    /// Past one digit or more.
    #[inline(always)]
    fn some_digits(&mut self) -> Option<()> {
        let start = self.at;
        self.digits();
        (self.at > start).then_some(())
    }

    /// `null` or a number as serde_json reads it into an `Option<u64>`:
    /// only digits, at most 19 of them (any `u64` is read; a sign, a
    /// fraction or an exponent are left to serde_json).
    #[inline(always)]
    fn integer(&mut self) -> Option<Option<u64>> {
        if self.peek()? == b'n' {
            return self.literal(b"null").map(|()| None);
        }
        let text = self.number()?;
        if text.len() > 19 || !text.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(Some(
            text.iter().fold(0, |n, d| n * 10 + u64::from(d - b'0')),
        ))
    }

    /// `null` or a number as serde_json reads it into an `Option<f64>`,
    /// when it has at most 15 digits and no exponent: then the digits are
    /// exact as an `f64`, and so is the power of ten that scales them, so
    /// the one division is rounded correctly, as serde_json's reading is.
    #[inline(always)]
    fn float(&mut self) -> Option<Option<f64>> {
        if self.peek()? == b'n' {
            return self.literal(b"null").map(|()| None);
        }
        let text = self.number()?;
        let (negative, unsigned) = match text.strip_prefix(b"-") {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (mut digits, mut count, mut fraction, mut after_point) = (0u64, 0, 0, false);
        for &c in unsigned {
            if c == b'.' {
                after_point = true;
                continue;
            }
            if !c.is_ascii_digit() || count == 15 {
                return None;
            }
            digits = digits * 10 + u64::from(c - b'0');
            count += 1;
            fraction += usize::from(after_point);
        }
        let value = digits as f64 / POW10.get(fraction)?;
        Some(Some(if negative { -value } else { value }))
    }

    /// Caddy's `request`: `null` or an object (serde_json would also read
    /// an array into it, which is left to it).
    #[inline(always)]
    fn request(&mut self) -> Option<Option<RequestFields<'a>>> {
        if self.peek()? == b'n' {
            return self.literal(b"null").map(|()| None);
        }
        let mut request = RequestFields::default();
        self.members(2, request_key, |scan, key| {
            match key {
                0 => request.client_ip = scan.raw(2)?,
                1 => request.remote_ip = scan.raw(2)?,
                2 => request.method = scan.raw(2)?,
                3 => request.uri = scan.raw(2)?,
                4 => request.host = scan.raw(2)?,
                _ => scan.headers(&mut request)?,
            }
            Some(())
        })?;
        Some(Some(request))
    }

    /// The request's `headers`: `null` or an object, its `User-Agent` and
    /// `Referer` each `null` or an array whose first value is kept.
    #[inline(always)]
    fn headers(&mut self, request: &mut RequestFields<'a>) -> Option<()> {
        if self.peek()? == b'n' {
            return self.literal(b"null");
        }
        self.members(3, header_key, |scan, key| {
            match key {
                0 => request.user_agent = scan.first()?,
                _ => request.referer = scan.first()?,
            }
            Some(())
        })
    }

    /// `null` or an array: the raw text of its first value, if any.
    #[inline(always)]
    fn first(&mut self) -> Option<Option<&'a [u8]>> {
        if self.peek()? == b'n' {
            return self.literal(b"null").map(|()| None);
        }
        let mut first = None;
        self.elements(4, |scan, index| {
            let value = scan.value(4)?;
            if index == 0 {
                first = Some(value);
            }
            Some(())
        })?;
        Some(first)
    }
}

/// Where the first byte from `at` on that ends plain string text is in
/// `s`: `"`, `\`, a control byte (not allowed in a string) or a byte past
/// ASCII (left to serde_json). Eight bytes at a time; only the lowest bit
/// found is read, and each test marks a byte above a true one at worst.
#[inline(always)]
fn string_stop(s: &[u8], mut at: usize) -> Option<usize> {
    while let Some(chunk) = s.get(at..at + 8) {
        let word = u64::from_le_bytes(chunk.try_into().ok()?);
        // A byte below 0x20 borrows, one past 0x7f has its high bit.
        let outside = (word.wrapping_sub(LOW_BITS * 0x20) | word) & HIGH_BITS;
        let found = equal_bytes(word, b'"') | equal_bytes(word, b'\\') | outside;
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    let tail = s.get(at..)?;
    tail.iter()
        .position(|&c| matches!(c, b'"' | b'\\') || !(0x20..0x80).contains(&c))
        .map(|i| at + i)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::tests::{CADDY, TRAEFIK};
    use super::super::{from_fields, parse, read_by_serde, Shapes};
    use super::*;
    use crate::parse::garbage::{mutate, xorshift};

    /// Whether this reader read `line`, having checked that what it read
    /// is what serde_json reads, and that the line parses as it does
    /// through serde_json alone.
    fn agrees(line: &[u8]) -> bool {
        let by_serde = read_by_serde(line);
        let fast = read(line);
        if let Some(fields) = &fast {
            assert_eq!(
                Ok(fields),
                by_serde.as_ref(),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
        for shapes in [Shapes::Caddy, Shapes::Any] {
            let want = read_by_serde(line).and_then(|f| from_fields(f, shapes));
            assert_eq!(
                parse(line, shapes),
                want,
                "{}",
                String::from_utf8_lossy(line)
            );
        }
        fast.is_some()
    }

    /// Keys of every object level, known and not, and some that serde_json
    /// reads as known ones only once unescaped.
    const KEYS: &[&str] = &[
        "ts",
        "request",
        "user_id",
        "status",
        "size",
        "duration",
        "StartUTC",
        "StartLocal",
        "ClientHost",
        "ClientUsername",
        "RequestMethod",
        "RequestPath",
        "RequestHost",
        "DownstreamStatus",
        "DownstreamContentSize",
        "Duration",
        "request_User-Agent",
        "request_Referer",
        "client_ip",
        "remote_ip",
        "method",
        "uri",
        "host",
        "headers",
        "User-Agent",
        "Referer",
        "Accept",
        "level",
        "msg",
        "",
        "Status",
        r#"a\"b"#,
        r"st\u0061tus",
        r"\u0074s",
        "caf\u{e9}",
    ];

    /// Values: strings with and without escapes, numbers in odd forms,
    /// literals, nested values, and a few that are not JSON.
    const VALUES: &[&str] = &[
        r#""x""#,
        r#""""#,
        r#""a\"b""#,
        r#""\\""#,
        r#""\/api\/users?a=1\u0026b""#,
        r#""\u00e9\ud83d\ude00""#,
        r#""\ud800""#,
        r#""\uDC00x""#,
        r#""\u12""#,
        r#""\x""#,
        "\"caf\u{e9}\"",
        "\"tab\there\"",
        "\"\u{7f}\"",
        r#""2026-03-01T12:00:05.25Z""#,
        r#""2026-03-01T13:00:05+01:00""#,
        r#""GET""#,
        r#""/api/users?id=7""#,
        r#""23.1.2.3""#,
        r#""curl/8.5.0""#,
        "0",
        "200",
        "404",
        "-0",
        "01",
        "1.",
        ".5",
        "1e3",
        "1E+3",
        "2e-1",
        "-1",
        "0.0042",
        "4.2E-3",
        "0.00420000000000000001",
        "18446744073709551615",
        "18446744073709551616",
        "99999999999999999999",
        "1234567890123456",
        "123456789012345",
        "0.1234567890123456",
        "1772366405.25",
        "1772366405",
        "-5.5",
        "1e400",
        "-",
        "+1",
        "1.5e",
        "NaN",
        "true",
        "false",
        "null",
        "nul",
        "nulll",
        "tru",
        "{}",
        "[]",
        "[1,2]",
        r#"["a","b"]"#,
        "[null]",
        r#"[null,"x"]"#,
        r#"["\u0041"]"#,
        r#"{"a":[1,{"b":null}]}"#,
        "[,]",
        "[1,]",
        r#"{"a"}"#,
        r#"{"a":1,}"#,
        r#"{"a" 1}"#,
        r#"{"User-Agent":["u"],"Referer":["r"]}"#,
        r#"{"User-Agent":["u"],"User-Agent":[]}"#,
        r#"{"uri":"/a","method":"GET","client_ip":"1.2.3.4"}"#,
        r#"{"uri":"/a","uri":"/b"}"#,
        r#"{"headers":{"Referer":["x",1]},"remote_ip":"9.9.9.9"}"#,
        r#"{"headers":null}"#,
        r#"{"headers":[]}"#,
        r#"["1.2.3.4"]"#,
    ];

    /// Between tokens: nothing mostly, JSON's whitespace, or a stray byte.
    const SPACES: &[&str] = &["", "", "", "", " ", "\t", "\n\r ", "x"];

    /// A line made of `members` (a key, a value and the spaces around),
    /// nested values made the same way a level down.
    fn object(members: &[(usize, usize, usize)], depth: usize, out: &mut String) {
        out.push('{');
        for (i, &(key, value, space)) in members.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let space = SPACES[space % SPACES.len()];
            out.push_str(space);
            out.push('"');
            out.push_str(KEYS[key % KEYS.len()]);
            out.push('"');
            out.push_str(space);
            out.push(':');
            if depth < 2 && value % 5 == 0 {
                // An object a level down, its members drawn from these.
                let inner: Vec<_> = members
                    .iter()
                    .map(|&(k, v, s)| ((k / 3).wrapping_add(value), (v / 2).wrapping_add(key), s))
                    .take(members.len() / 2 + 1)
                    .collect();
                object(&inner, depth + 1, out);
            } else {
                out.push_str(VALUES[value % VALUES.len()]);
            }
            out.push_str(space);
        }
        out.push('}');
    }

    #[test]
    fn the_reader_reads_what_serde_json_reads_in_random_objects() {
        let mut next = xorshift(0x6a09_e667_f3bc_c908);
        let (mut read_here, mut lines) = (0, 0);
        let mut line = String::new();
        for _ in 0..100_000 {
            let members: Vec<_> = (0..next() % 12)
                .map(|_| (next() as usize, next() as usize, next() as usize))
                .collect();
            line.clear();
            object(&members, 0, &mut line);
            lines += 1;
            read_here += usize::from(agrees(line.as_bytes()));
        }
        assert!(
            read_here * 10 > lines,
            "the reader reads enough lines for this to test it: {read_here} of {lines}"
        );
    }

    #[test]
    fn the_reader_reads_what_serde_json_reads_in_mutated_lines() {
        let alphabet = b"{}[]\":,\\u09aeEfn.+- \t\xc3\xa9\x01\x7f";
        let mut next = xorshift(0xbb67_ae85_84ca_a73b);
        let mut line = Vec::new();
        let mut read_here = 0;
        for i in 0..100_000 {
            let template = if i % 2 == 0 { CADDY } else { TRAEFIK };
            mutate(&mut line, template, alphabet, &mut next);
            if i % 7 == 0 {
                line.truncate((next() as usize) % (line.len() + 1));
            }
            read_here += usize::from(agrees(&line));
        }
        assert!(read_here > 10_000, "{read_here} lines read here");
        assert!(agrees(CADDY) && agrees(TRAEFIK));
    }

    #[test]
    fn deep_nesting_is_left_to_serde_json() {
        for depth in [1, 31, 32, 33, 127, 128, 129, 200] {
            let value = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            let line = format!(r#"{{"ts":1,"x":{value},"request":{{}},"status":200}}"#);
            let read_here = agrees(line.as_bytes());
            assert_eq!(read_here, depth < MAX_DEPTH as usize, "{depth}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn any_object_of_these_keys_and_values_reads_as_serde_json_reads_it(
            members in prop::collection::vec((0..KEYS.len(), 0..VALUES.len(), 0..SPACES.len()), 0..10),
            cut in any::<prop::sample::Index>(),
            flip in any::<Option<(prop::sample::Index, u8)>>(),
        ) {
            let mut line = String::new();
            object(&members, 0, &mut line);
            let mut line = line.into_bytes();
            agrees(&line);
            if let Some((at, byte)) = flip {
                let at = at.index(line.len());
                line[at] = byte;
                agrees(&line);
            }
            line.truncate(cut.index(line.len() + 1));
            agrees(&line);
        }
    }
}
