//! Small field readers shared by the formats: line ends, space-separated
//! fields, statuses, byte counts and numbers.

use std::sync::LazyLock;

use memchr::memchr;

/// `line` without one trailing `\n`, `\r\n` or `\r`.
pub(crate) fn strip_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The field up to the next space, and what follows that space (`None` when
/// the field runs to the end of the line).
#[inline]
pub(crate) fn field(s: &[u8]) -> (&[u8], Option<&[u8]>) {
    match find_byte(s, b' ') {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    }
}

/// `0x01` in every byte.
pub(crate) const LOW_BITS: u64 = 0x0101_0101_0101_0101;
/// `0x80` in every byte.
pub(crate) const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// The bytes of `word` equal to `byte`, each as its high bit. Only the
/// lowest bit set is sure to be a match (a borrow may mark a byte above
/// one), and that is the only one read.
#[inline(always)]
pub(crate) fn equal_bytes(word: u64, byte: u8) -> u64 {
    let x = word ^ (LOW_BITS * u64::from(byte));
    x.wrapping_sub(LOW_BITS) & !x & HIGH_BITS
}

/// Where the first `a` or `b` (the same byte twice for one) is in `s`,
/// eight bytes at a time (SWAR).
///
/// The fields of a line are short, a few to a few dozen bytes: there
/// memchr's setup and its byte loop for fewer than 16 bytes cost more
/// than its vector scan saves (callgrind: ~60 instructions for a
/// 20-byte field, against ~20 here), so it is kept for the long ones.
#[inline(always)]
pub(crate) fn find_either(s: &[u8], a: u8, b: u8) -> Option<usize> {
    let mut words = s.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut words {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        let found = equal_bytes(word, a) | equal_bytes(word, b);
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    let tail = words.remainder();
    tail.iter().position(|&c| c == a || c == b).map(|i| at + i)
}

/// A search for one byte, its vectors built once: [`memchr::memchr`]
/// builds them on every call and goes through two more calls to reach the
/// vector loop, ~30 instructions a call (callgrind), paid once a line for
/// the newline and once for the user agent's closing quote. Finds what
/// `memchr` finds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ByteFinder {
    needle: u8,
    #[cfg(target_arch = "x86_64")]
    avx2: Option<memchr::arch::x86_64::avx2::memchr::One>,
}

impl ByteFinder {
    pub(crate) fn new(needle: u8) -> ByteFinder {
        ByteFinder {
            needle,
            #[cfg(target_arch = "x86_64")]
            avx2: memchr::arch::x86_64::avx2::memchr::One::new(needle),
        }
    }

    /// Where the first of the byte is in `s`.
    #[inline(always)]
    pub(crate) fn find(&self, s: &[u8]) -> Option<usize> {
        #[cfg(target_arch = "x86_64")]
        if let Some(avx2) = &self.avx2 {
            return avx2.find(s);
        }
        memchr(self.needle, s)
    }
}

/// Where the first `"` is in `s`: the search a quoted field's end needs,
/// built once.
#[inline(always)]
pub(crate) fn find_quote(s: &[u8]) -> Option<usize> {
    QUOTE.find(s)
}

/// The search [`find_quote`] makes.
static QUOTE: LazyLock<ByteFinder> = LazyLock::new(|| ByteFinder::new(b'"'));

/// How many bytes at the start of `s`, four at a time, hold no byte whose
/// class in `table` has a bit of `stop`, and the classes of those bytes
/// together: one table load a byte answers every question a scan asks.
#[inline(always)]
pub(crate) fn class_run(s: &[u8], table: &[u8; 256], stop: u8) -> (usize, u8) {
    let (mut i, mut seen) = (0, 0);
    while let Some(&[a, b, c, d]) = s.get(i..i + 4) {
        let class = table[usize::from(a)]
            | table[usize::from(b)]
            | table[usize::from(c)]
            | table[usize::from(d)];
        if class & stop != 0 {
            break;
        }
        seen |= class;
        i += 4;
    }
    (i, seen)
}

/// Where the first `byte` is in `s` (see [`find_either`]).
#[inline(always)]
pub(crate) fn find_byte(s: &[u8], byte: u8) -> Option<usize> {
    find_either(s, byte, byte)
}

/// Exactly three digits in `100..=599`. Inlined, and the digits checked
/// at once: the call and a check per digit cost ~35 instructions a line.
#[inline(always)]
pub(crate) fn parse_status(s: &[u8]) -> Option<u16> {
    let &[a, b, c] = s else { return None };
    let [a, b, c] = [a, b, c].map(|d| d.wrapping_sub(b'0'));
    if a.max(b).max(c) > 9 {
        return None;
    }
    let status = u16::from(a) * 100 + u16::from(b) * 10 + u16::from(c);
    (100..=599).contains(&status).then_some(status)
}

/// Decimal digits that fit a `u64`, or `-` for 0.
#[inline]
pub(crate) fn parse_bytes(s: &[u8]) -> Option<u64> {
    if s == b"-" {
        return Some(0);
    }
    parse_digits(s)
}

/// A CLF trailing request time in microseconds: decimal seconds when it has
/// a decimal point (nginx's `$request_time`, `0.123`), integer microseconds
/// otherwise (Apache's `%D`). Digits past microseconds are dropped. `None`
/// for anything else (nginx's `-`, a word, a negative or huge number).
pub fn parse_request_time(s: &[u8]) -> Option<u64> {
    let (whole, fraction) = match memchr(b'.', s) {
        Some(dot) => (&s[..dot], Some(&s[dot + 1..])),
        None => (s, None),
    };
    let whole = parse_digits(whole)?;
    match fraction {
        None => Some(whole),
        Some(fraction) => {
            let micros = decimal_fraction(fraction, 6)?;
            whole.checked_mul(1_000_000)?.checked_add(micros)
        }
    }
}

/// Seconds, with or without a decimal point (nginx's `$request_time`,
/// `0.123`; Apache's `%T`, `2`), in microseconds; digits past microseconds
/// are dropped. `None` for anything else, `-` included.
pub(crate) fn parse_seconds(s: &[u8]) -> Option<u64> {
    let (whole, fraction) = match memchr(b'.', s) {
        Some(dot) => (&s[..dot], &s[dot + 1..]),
        None => (s, &b"0"[..]),
    };
    let micros = decimal_fraction(fraction, 6)?;
    parse_digits(whole)?
        .checked_mul(1_000_000)?
        .checked_add(micros)
}

/// Digits after a decimal point, as a count of `10^-places` units (so
/// `"5"` with 3 places is 500); extra digits are dropped. At least one
/// digit, digits only.
pub(crate) fn decimal_fraction(s: &[u8], places: u32) -> Option<u64> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut value = 0u64;
    for i in 0..places as usize {
        let digit = s.get(i).map_or(0, |&b| u64::from(b - b'0'));
        value = value * 10 + digit;
    }
    Some(value)
}

/// Decimal digits that fit a `u64` (at least one).
#[inline]
pub(crate) fn parse_digits(s: &[u8]) -> Option<u64> {
    match s.len() {
        0 => None,
        // 19 digits always fit a u64: no checked arithmetic per digit.
        1..=19 => s.iter().try_fold(0u64, |n, &b| {
            let digit = b.wrapping_sub(b'0');
            (digit <= 9).then(|| n * 10 + u64::from(digit))
        }),
        _ => s.iter().try_fold(0u64, |n, &b| {
            if b.is_ascii_digit() {
                n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
            } else {
                None
            }
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_is_three_digits_from_100_to_599() {
        let bytes = b"0123456789 -+/:\x00\xff";
        let mut s = Vec::new();
        for len in 0..=4 {
            for n in 0..bytes.len().pow(len) {
                s.clear();
                let mut n = n;
                for _ in 0..len {
                    s.push(bytes[n % bytes.len()]);
                    n /= bytes.len();
                }
                let want = std::str::from_utf8(&s)
                    .ok()
                    .filter(|t| t.len() == 3 && t.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|t| t.parse::<u16>().ok())
                    .filter(|n| (100..=599).contains(n));
                assert_eq!(parse_status(&s), want, "{s:?}");
            }
        }
    }

    #[test]
    fn a_byte_finder_finds_what_a_byte_loop_finds() {
        // Mostly letters, so that a byte sought lies past a vector or two.
        let alphabet = b"\n\"a \x00\xffxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
        let mut next = crate::parse::garbage::xorshift(0x2545_f491_4f6c_dd1d);
        let finders = [b'\n', b'"', 0, 0xff].map(|b| (b, ByteFinder::new(b)));
        let mut s = Vec::new();
        for _ in 0..20_000 {
            // Up to 300 bytes: the vector loops and the short tails.
            crate::parse::garbage::draw(&mut s, alphabet, 300, &mut next);
            for (byte, finder) in &finders {
                let want = s.iter().position(|b| b == byte);
                assert_eq!(finder.find(&s), want, "{byte} in {s:?}");
            }
        }
    }

    #[test]
    fn bytes_are_found_eight_at_a_time_as_one_at_a_time() {
        let alphabet = b" \"\\a\x80\x00\xff";
        let mut next = crate::parse::garbage::xorshift(0x2545_f491_4f6c_dd1d);
        let mut s = Vec::new();
        for _ in 0..20_000 {
            let state = next();
            s.clear();
            for i in 0..state % 40 {
                s.push(alphabet[((state >> (i % 60)) % alphabet.len() as u64) as usize]);
            }
            for (a, b) in [(b' ', b' '), (b'"', b'\\'), (0, 0x80), (0xff, b'a')] {
                let want = s.iter().position(|&c| c == a || c == b);
                assert_eq!(find_either(&s, a, b), want, "{s:?} {a} {b}");
            }
        }
    }

    #[test]
    fn digits_parse_up_to_u64_max_and_no_further() {
        assert_eq!(parse_digits(b"0"), Some(0));
        assert_eq!(
            parse_digits(b"9999999999999999999"),
            Some(9_999_999_999_999_999_999)
        );
        assert_eq!(parse_digits(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_digits(b"18446744073709551616"), None);
        assert_eq!(parse_digits(b"00000000000000000000001"), Some(1));
        for bad in [&b""[..], b"-1", b"1 ", b"12a", b"/", b":"] {
            assert_eq!(parse_digits(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }
}
