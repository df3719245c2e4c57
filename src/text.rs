//! Make untrusted log text safe to print on a terminal.
//!
//! Anyone who can send an HTTP request writes bytes into the access log, so
//! a target or user agent may carry ANSI escape sequences (retitle the
//! window, hide text, fake an alert line), bidi overrides that reorder what
//! the reader sees, or bytes that are not UTF-8 at all.
//!
//! Invariants:
//! - [`sanitize`]'s output holds no C0 or C1 control, no DEL, no bidi
//!   control and no line or paragraph separator. Each is written as a
//!   visible escape instead, so a printed field stays on one line and
//!   cannot drive the terminal.
//! - Printable text, ASCII or not, passes through unchanged and borrowed.
//! - Pure: no I/O, and no allocation unless something must change.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Escape untrusted bytes into a printable string: valid UTF-8 printable text passes through;
/// invalid UTF-8 bytes become `\xNN`; C0 controls (incl. \t \n \r and ESC), DEL and C1 controls become
/// `\xNN` (for C1 U+0080..U+009F use `\u{80}` form); bidi controls (U+200E, U+200F, U+202A..U+202E,
/// U+2066..U+2069, U+061C) and U+2028/U+2029 become `\u{202e}` form; a backslash itself stays as is.
///
/// Hex digits are lowercase. Since a backslash is not escaped, the output
/// is for people to read, not to decode back into the input.
pub fn sanitize(bytes: &[u8]) -> Cow<'_, str> {
    // The common case, printable ASCII, costs one scan and no allocation.
    if bytes.iter().all(|b| (b' '..=b'~').contains(b)) {
        return Cow::Borrowed(std::str::from_utf8(bytes).expect("printable ASCII is UTF-8"));
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        if !text.chars().any(needs_escape) {
            return Cow::Borrowed(text);
        }
    }
    // Room for a few escapes without growing.
    let mut out = String::with_capacity(bytes.len() + 16);
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if !needs_escape(c) {
                out.push(c);
            } else if c.is_ascii() {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            } else {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
        }
        for &b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    Cow::Owned(out)
}

/// Whether every byte is printable ASCII (`' '..='~'`), so that `bytes` is
/// safe to print and UTF-8 as it is.
///
/// Eight bytes at a time (SWAR): a byte-by-byte check costs several
/// instructions a byte, and the drill-down tables check every key that
/// enters them.
pub fn is_printable_ascii(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::MAX / 255;
    const HIGH: u64 = ONES * 0x80;
    let mut chunks = bytes.chunks_exact(8);
    let mut bad = 0;
    for chunk in &mut chunks {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let del = w ^ (ONES * 0x7f);
        // A byte >= 0x80, a byte below 0x20, a byte equal to 0x7f (DEL):
        // the "has less than" and "has zero" tests are exact for "any".
        bad |= (w & HIGH)
            | (w.wrapping_sub(ONES * 0x20) & !w & HIGH)
            | (del.wrapping_sub(ONES) & !del & HIGH);
    }
    bad == 0 && chunks.remainder().iter().all(|b| (b' '..=b'~').contains(b))
}

/// Whether `c` could drive a terminal or hide or reorder text around it.
fn needs_escape(c: char) -> bool {
    matches!(
        c,
        // C0 controls, DEL and C1 controls.
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
            // Arabic letter mark, LRM and RLM, LRE..RLO, LRI..PDI.
            | '\u{61c}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
            // Line and paragraph separators would break a line.
            | '\u{2028}'
            | '\u{2029}'
    )
}

/// Shorten to at most `max` chars (not bytes), ending with '…' when cut. Never splits a char.
///
/// The '…' counts towards `max`, so a cut keeps `max - 1` chars of `s`;
/// with `max == 0` nothing is left. It counts chars, not display columns or
/// grapheme clusters: a wide CJK char counts as one, and a cut may separate
/// a base letter from a following combining mark.
pub fn truncate(s: &str, max: usize) -> Cow<'_, str> {
    // Only a string with more than `max` chars has a char at index `max`
    // (and one of at most `max` bytes has at most `max` chars).
    if s.len() <= max || s.char_indices().nth(max).is_none() {
        return Cow::Borrowed(s);
    }
    let Some(keep) = max.checked_sub(1) else {
        return Cow::Borrowed("");
    };
    // `s` has more than `max` chars, so char `keep` exists.
    let end = s.char_indices().nth(keep).map_or(s.len(), |(i, _)| i);
    let mut out = String::with_capacity(end + '…'.len_utf8());
    out.push_str(&s[..end]);
    out.push('…');
    Cow::Owned(out)
}

/// `s` in at most `max` chars: when longer, its end, after `…`. For a
/// path, whose end names the file.
pub fn truncate_start(s: &str, max: usize) -> Cow<'_, str> {
    let chars = s.chars().count();
    if chars <= max {
        return Cow::Borrowed(s);
    }
    let Some(keep) = max.checked_sub(1) else {
        return Cow::Borrowed("");
    };
    let start = s
        .char_indices()
        .nth(chars - keep)
        .map_or(s.len(), |(i, _)| i);
    Cow::Owned(format!("…{}", &s[start..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_ascii_is_told_apart_eight_bytes_at_a_time() {
        let line = b"GET /api/user?id=1 HTTP/1.1 \\ ~!abcdefghijklmnop";
        for len in 0..line.len() {
            assert!(is_printable_ascii(&line[..len]), "{len}");
            for bad in [0x00, 0x1f, 0x7f, 0x80, 0xff, b'\n', 0x1b] {
                let mut text = line[..=len].to_vec();
                text[len] = bad;
                assert!(!is_printable_ascii(&text), "{len} {bad:#x}");
                text.rotate_right(len / 2);
                assert!(!is_printable_ascii(&text), "{len} {bad:#x} moved");
            }
        }
        for b in 0..=255u8 {
            let text = [b' ', b, b'~', b' ', b' ', b' ', b' ', b' ', b'x'];
            assert_eq!(
                is_printable_ascii(&text),
                (b' '..=b'~').contains(&b),
                "{b:#x}"
            );
        }
    }

    #[test]
    fn printable_ascii_is_borrowed_unchanged() {
        let text = b"GET /api/user?id=1 HTTP/1.1 \\ ~!";
        let out = sanitize(text);
        assert!(matches!(out, Cow::Borrowed(_)));
        assert_eq!(out.as_bytes(), text);
        assert!(matches!(sanitize(b""), Cow::Borrowed(_)));
    }

    #[test]
    fn accents_and_emoji_pass_through_borrowed() {
        let text = "café naïve 日本語 🦀 👩‍💻";
        let out = sanitize(text.as_bytes());
        assert!(matches!(out, Cow::Borrowed(_)));
        assert_eq!(out, text);
    }

    #[test]
    fn an_escape_sequence_cannot_reach_the_terminal() {
        // OSC 0: set the window title, ended by BEL.
        assert_eq!(sanitize(b"\x1b]0;owned\x07"), "\\x1b]0;owned\\x07");
        assert_eq!(sanitize(b"\x1b[2J\x1b[31mALERT"), "\\x1b[2J\\x1b[31mALERT");
    }

    #[test]
    fn c0_controls_and_del_become_hex_escapes() {
        assert_eq!(sanitize(b"a\x00b"), "a\\x00b");
        assert_eq!(sanitize(b"a\tb\nc\rd"), "a\\x09b\\x0ac\\x0dd");
        assert_eq!(sanitize(b"\x7f"), "\\x7f");
        assert_eq!(sanitize(b"\x1f "), "\\x1f ");
    }

    #[test]
    fn c1_controls_become_unicode_escapes() {
        // U+009B is CSI, which some terminals honour on its own.
        assert_eq!(sanitize("a\u{9b}31m".as_bytes()), "a\\u{9b}31m");
        assert_eq!(sanitize("\u{80}\u{9f}".as_bytes()), "\\u{80}\\u{9f}");
        // U+00A0 (no-break space) is just past C1 and passes.
        assert_eq!(sanitize("\u{a0}".as_bytes()), "\u{a0}");
    }

    #[test]
    fn bidi_controls_and_separators_become_unicode_escapes() {
        assert_eq!(
            sanitize("evil\u{202e}txt.exe".as_bytes()),
            "evil\\u{202e}txt.exe"
        );
        for (c, escaped) in [
            ('\u{61c}', "\\u{61c}"),
            ('\u{200e}', "\\u{200e}"),
            ('\u{200f}', "\\u{200f}"),
            ('\u{202a}', "\\u{202a}"),
            ('\u{2066}', "\\u{2066}"),
            ('\u{2069}', "\\u{2069}"),
            ('\u{2028}', "\\u{2028}"),
            ('\u{2029}', "\\u{2029}"),
        ] {
            assert_eq!(sanitize(c.to_string().as_bytes()), escaped, "{c:?}");
        }
        // Neighbours of the ranges pass through.
        for c in ['\u{200d}', '\u{2027}', '\u{202f}', '\u{2065}', '\u{206a}'] {
            assert_eq!(sanitize(c.to_string().as_bytes()), c.to_string(), "{c:?}");
        }
    }

    #[test]
    fn invalid_utf8_bytes_become_hex_escapes() {
        assert_eq!(sanitize(b"/caf\xe9"), "/caf\\xe9");
        assert_eq!(sanitize(b"\xff\xfe"), "\\xff\\xfe");
        // A truncated 3-byte sequence, then valid text.
        assert_eq!(sanitize(b"\xe6\x97ok"), "\\xe6\\x97ok");
        // An overlong encoding of '/' is not UTF-8.
        assert_eq!(sanitize(b"\xc0\xaf"), "\\xc0\\xaf");
        // Valid multi-byte text around invalid bytes survives.
        assert_eq!(sanitize("é\u{ff}".as_bytes()), "éÿ");
        assert_eq!(sanitize(b"\xc3\xa9\x80\xc3\xa9"), "é\\x80é");
    }

    #[test]
    fn a_backslash_stays_as_is() {
        assert_eq!(sanitize(br"a\x1b\\b"), r"a\x1b\\b");
        assert_eq!(sanitize(b"\\\x00"), "\\\\x00");
    }

    #[test]
    fn sanitized_output_has_no_controls_whatever_the_input() {
        let mut bytes: Vec<u8> = (0..=255).collect();
        bytes.extend_from_slice("\u{202e}\u{2028}\u{9b}".as_bytes());
        let out = sanitize(&bytes);
        assert!(!out.chars().any(needs_escape), "{out}");
        assert!(!out.chars().any(char::is_control), "{out}");
    }

    #[test]
    fn truncate_keeps_strings_that_fit() {
        assert!(matches!(truncate("abc", 3), Cow::Borrowed(_)));
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(truncate("abc", 10), "abc");
        assert_eq!(truncate("", 0), "");
        // Four chars, many more bytes.
        assert_eq!(truncate("日本語🦀", 4), "日本語🦀");
    }

    #[test]
    fn truncate_cuts_to_max_chars_including_the_ellipsis() {
        assert_eq!(truncate("abcd", 3), "ab…");
        assert_eq!(truncate("abcd", 1), "…");
        assert_eq!(truncate("abcd", 0), "");
        assert_eq!(truncate("日本語🦀", 3), "日本…");
        assert_eq!(truncate("🦀🦀🦀🦀", 2), "🦀…");
        for max in 0..8 {
            let out = truncate("héllo wörld", max);
            assert!(out.chars().count() <= max, "{max}: {out}");
        }
    }

    /// Run by hand: `cargo test --release text::tests::throughput -- --ignored --nocapture`.
    #[test]
    #[ignore = "a measurement, not a check"]
    #[allow(clippy::disallowed_macros)] // its figures, for `--nocapture`
    fn throughput_of_printable_ascii() {
        let field = b"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)";
        let rounds = 1_000_000;
        let start = std::time::Instant::now();
        let mut len = 0;
        for _ in 0..rounds {
            len += sanitize(std::hint::black_box(field)).len();
        }
        let elapsed = start.elapsed();
        assert_eq!(len, rounds * field.len());
        println!(
            "{rounds} fields of {} bytes in {elapsed:?}: {:.1} M fields/s",
            field.len(),
            rounds as f64 / elapsed.as_secs_f64() / 1e6
        );
    }
}
