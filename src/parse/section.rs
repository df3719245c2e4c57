//! Sections: the part of a request target that reports group hits by,
//! and its normalised form.
//!
//! [`section`] cuts a target down without allocating (a subslice). Before a
//! section enters the statistics, [`normalize`] applies RFC 3986 section
//! 6.2.2 to it, so spellings of one path count as one section: percent-
//! encoded unreserved characters are decoded (`/%7Euser` -> `/~user`), the
//! hex digits of the other percent-encodings are upper-cased (`/a%2fb` ->
//! `/a%2Fb`), and path parameters after `;` in the first segment are
//! dropped (`/shop;jsessionid=0A1B` -> `/shop`). A `%` that starts no
//! percent-encoding is written as one, `%25`: left alone, it could start
//! one with what decoding puts after it (`%%66` -> `%f`), and normalising
//! again would change the section again.
//!
//! Invariants: pure, never panics; `normalize` allocates only when the
//! section holds a `%` or a `;`, and is idempotent.

use std::borrow::Cow;

use memchr::{memchr, memchr2};

/// The section of a request target: the part before the second `/` of its
/// path, ignoring any query (`?`) or fragment (`#`).
///
/// `/pages/create` -> `/pages`, `/pages/` -> `/pages`, `/pages?id=1` ->
/// `/pages`, `/` -> `/`, and empty -> `/`. For an absolute-form target the
/// path starts after the authority, and the section keeps the scheme and
/// authority: `http://my.site.com/pages/create` -> `http://my.site.com/pages`,
/// `http://my.site.com/` -> `http://my.site.com/`, and a bare authority
/// `http://my.site.com` stays as is. Other targets (`*`, CONNECT's
/// `host:port`, junk) keep their first segment, up to the first `/`.
///
/// Returns a subslice of `target` (or a static `/` when nothing is left),
/// so it never allocates.
pub fn section(target: &[u8]) -> &[u8] {
    if let Some(path) = target.strip_prefix(b"/") {
        // The common origin-form target: one short scan for whichever of
        // `/`, `?`, `#` comes first ends the section (callgrind: half the
        // cost of two memchr calls on these short strings).
        return match path.iter().position(|&b| matches!(b, b'/' | b'?' | b'#')) {
            // `//x`, `/?q`, `/#f`: the root.
            Some(0) => &target[..1],
            Some(i) => &target[..i + 1],
            None => target,
        };
    }
    let end = memchr2(b'?', b'#', target).unwrap_or(target.len());
    let target = &target[..end];
    if target.is_empty() {
        return b"/";
    }
    if target[0] == b'/' {
        return first_segment(target);
    }
    if let Some(path_at) = absolute_path_start(target) {
        // `first_segment` returns a prefix of the path, so the section is a
        // prefix of the whole target.
        let len = path_at + first_segment(&target[path_at..]).len();
        return &target[..len];
    }
    match memchr(b'/', target) {
        Some(slash) => &target[..slash],
        None => target,
    }
}

/// `/a/b` -> `/a`, `/a/` -> `/a`, `/a` -> `/a`, `/` -> `/`, for a path that
/// starts with `/`; an empty path stays empty.
fn first_segment(path: &[u8]) -> &[u8] {
    let Some(after_root) = path.get(1..) else {
        return path;
    };
    match memchr(b'/', after_root) {
        // `//x` would give an empty segment; keep the root instead.
        Some(0) => &path[..1],
        Some(i) => &path[..i + 1],
        None => path,
    }
}

/// Where the path starts in an absolute-form target
/// (`scheme "://" authority path`), or `target.len()` for a bare authority.
/// `None` when `target` is not absolute-form.
fn absolute_path_start(target: &[u8]) -> Option<usize> {
    let colon = memchr(b':', target)?;
    let scheme = &target[..colon];
    // RFC 3986: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
    let scheme_ok = scheme.first().is_some_and(u8::is_ascii_alphabetic)
        && scheme
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    if !scheme_ok || !target[colon..].starts_with(b"://") {
        return None;
    }
    let authority_at = colon + 3;
    Some(match memchr(b'/', &target[authority_at..]) {
        Some(i) => authority_at + i,
        None => target.len(),
    })
}

/// A section (from [`section`]) normalised as the module notes say. Borrows
/// `section` when there is nothing to change.
pub fn normalize(section: &[u8]) -> Cow<'_, [u8]> {
    // memchr2 rather than a byte loop: a path is tested on every line,
    // and the loop cost ~100 instructions a Combined line (callgrind).
    if memchr2(b'%', b';', section).is_none() {
        return Cow::Borrowed(section);
    }
    let section = drop_params(section);
    let Some(first) = memchr(b'%', section) else {
        return Cow::Borrowed(section);
    };
    let mut out = Vec::with_capacity(section.len());
    out.extend_from_slice(&section[..first]);
    let mut i = first;
    while i < section.len() {
        let b = section[i];
        let decoded = match (b, section.get(i + 1..i + 3)) {
            (b'%', Some(&[hi, lo])) => hex_value(hi).zip(hex_value(lo)).map(|(h, l)| h * 16 + l),
            _ => None,
        };
        match decoded {
            Some(c) if is_unreserved(c) => out.push(c),
            Some(_) => out.extend_from_slice(&[
                b'%',
                section[i + 1].to_ascii_uppercase(),
                section[i + 2].to_ascii_uppercase(),
            ]),
            None if b == b'%' => {
                out.extend_from_slice(b"%25");
                i += 1;
                continue;
            }
            None => {
                out.push(b);
                i += 1;
                continue;
            }
        }
        i += 3;
    }
    Cow::Owned(out)
}

/// `section` without the parameters (`;...`) of its first path segment:
/// the whole section after the path starts, for an origin-form (`/shop;x`)
/// or absolute-form (`http://h/shop;x`) section; others are kept.
fn drop_params(section: &[u8]) -> &[u8] {
    let path_at = match section.first() {
        Some(b'/') => 0,
        _ => match absolute_path_start(section) {
            Some(at) => at,
            None => return section,
        },
    };
    match memchr(b';', &section[path_at..]) {
        // `/;x` keeps its root.
        Some(0) if path_at == 0 => &section[..1],
        Some(0) => &section[..path_at + 1],
        Some(i) => &section[..path_at + i],
        None => section,
    }
}

/// What one pass over an origin-form target (`/...`) finds, for the
/// reader to place its section and path without scanning it again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scan {
    /// The length of its [`section`].
    pub section: usize,
    /// The length of its path: the target up to its query or fragment.
    pub path: usize,
    /// The section is printable ASCII without `%` or `;`: [`normalize`]
    /// leaves it as is, and so does `sanitize`.
    pub section_plain: bool,
    /// The path holds no `%` or `;`: [`normalize`] leaves it as is.
    pub path_plain: bool,
}

/// [`CLASS`]: `/`.
const SLASH: u8 = 1;
/// [`CLASS`]: `?` or `#`, which end a path.
const END: u8 = 2;
/// [`CLASS`]: `%` or `;`, which normalising may change.
const SPECIAL: u8 = 4;
/// [`CLASS`]: not printable ASCII.
const UNPRINTABLE: u8 = 8;

/// What each byte is to [`scan`]: a table load a byte answers every
/// question, where a compare each would cost four.
const CLASS: [u8; 256] = {
    let mut table = [UNPRINTABLE; 256];
    let mut b = b' ';
    while b <= b'~' {
        table[b as usize] = match b {
            b'/' => SLASH,
            b'?' | b'#' => END,
            b'%' | b';' => SPECIAL,
            _ => 0,
        };
        b += 1;
    }
    table
};

/// Read an origin-form `target` once for its section and path; `None`
/// for any other target (one not starting with `/`), which [`section`]
/// reads.
///
/// Agrees with `section(target)` and with the path cut at the first `?`
/// or `#`; a test checks it against them.
#[inline]
pub fn scan(target: &[u8]) -> Option<Scan> {
    if target.first() != Some(&b'/') {
        return None;
    }
    // The section: up to the first `/`, `?` or `#` after the root.
    let (mut i, mut section_class) = (1, 0);
    loop {
        i += plain_run(&target[i..], !0);
        let Some(&byte) = target.get(i) else {
            break;
        };
        let class = CLASS[usize::from(byte)];
        if class & (SLASH | END) != 0 {
            break;
        }
        section_class |= class;
        i += 1;
    }
    let section = i;
    // The rest of the path, when the section ended at a `/`: up to `?` or
    // `#`. Its slashes, and unprintable bytes (left to sanitizing), no
    // longer matter, so they do not stop the four-byte loop.
    let mut path_class = section_class;
    if target.get(i) == Some(&b'/') {
        loop {
            i += plain_run(&target[i..], END | SPECIAL);
            let Some(&byte) = target.get(i) else {
                break;
            };
            let class = CLASS[usize::from(byte)];
            if class & END != 0 {
                break;
            }
            path_class |= class;
            i += 1;
        }
    }
    Some(Scan {
        section,
        path: i,
        section_plain: section_class & (SPECIAL | UNPRINTABLE) == 0,
        path_plain: path_class & SPECIAL == 0,
    })
}

/// How many bytes of `s`, four at a time, hold no byte of a class in
/// `stop`: most of a path is letters and digits.
#[inline(always)]
fn plain_run(s: &[u8], stop: u8) -> usize {
    super::fields::class_run(s, &CLASS, stop).0
}

/// RFC 3986's unreserved characters: `ALPHA / DIGIT / "-" / "." / "_" / "~"`.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_match_the_documented_examples() {
        let cases: &[(&str, &str)] = &[
            ("/pages/create", "/pages"),
            ("/pages", "/pages"),
            ("/pages/", "/pages"),
            ("/pages?id=1", "/pages"),
            ("/pages/create?id=1/2", "/pages"),
            ("/pages#top", "/pages"),
            ("/", "/"),
            ("/?q=1", "/"),
            ("//double", "/"),
            ("/#frag", "/"),
            ("/a?b/c#d", "/a"),
            ("/api/v1/users", "/api"),
            (
                "http://my.site.com/pages/create",
                "http://my.site.com/pages",
            ),
            ("http://my.site.com/pages/", "http://my.site.com/pages"),
            ("http://my.site.com/", "http://my.site.com/"),
            ("http://my.site.com", "http://my.site.com"),
            ("http://my.site.com?x=/y", "http://my.site.com"),
            (
                "https://[2001:db8::1]:8443/a/b",
                "https://[2001:db8::1]:8443/a",
            ),
            ("*", "*"),
            ("my.site.com:443", "my.site.com:443"),
            ("relative/path", "relative"),
            ("", "/"),
            ("?only=query", "/"),
        ];
        for &(target, expected) in cases {
            let got = section(target.as_bytes());
            assert_eq!(got, expected.as_bytes(), "section({target:?})");
        }
    }

    #[test]
    fn one_scan_finds_the_section_and_path_the_separate_reads_find() {
        let alphabet = b"/?#%;abcdefg\x01\xff";
        let mut next = crate::parse::garbage::xorshift(0x9e37_79b9_7f4a_7c15);
        let mut target = Vec::new();
        for _ in 0..100_000 {
            let state = next();
            target.clear();
            target.push(b'/');
            for i in 0..state % 20 {
                target.push(alphabet[((state >> (3 * i)) % alphabet.len() as u64) as usize]);
            }
            let got = scan(&target).unwrap();
            let section = section(&target);
            let path = &target[..memchr2(b'?', b'#', &target).unwrap_or(target.len())];
            let plain = |s: &[u8], also: bool| {
                s.iter()
                    .all(|&b| b != b'%' && b != b';' && (!also || (b' '..=b'~').contains(&b)))
            };
            let want = Scan {
                section: section.len(),
                path: path.len(),
                section_plain: plain(section, true),
                path_plain: plain(path, false),
            };
            assert_eq!(got, want, "{target:?}");
            assert_eq!(&target[..got.section], section);
        }
        assert_eq!(scan(b"http://a/b"), None);
        assert_eq!(scan(b""), None);
    }

    #[test]
    fn section_borrows_from_its_input() {
        let target = b"/pages/create";
        let got = section(target);
        assert_eq!(got.as_ptr(), target.as_ptr());
        let target = b"http://my.site.com/";
        assert_eq!(section(target).as_ptr(), target.as_ptr());
    }

    #[test]
    fn normalising_decodes_unreserved_and_upper_cases_the_rest() {
        let cases: &[(&str, &str)] = &[
            ("/pages", "/pages"),
            ("/%7Euser", "/~user"),
            ("/%7euser", "/~user"),
            ("/a%2fb", "/a%2Fb"),
            ("/a%2Fb", "/a%2Fb"),
            ("/caf%c3%a9", "/caf%C3%A9"),
            ("/%41%5a%30%2D%2e%5F", "/AZ0-._"),
            ("/100%", "/100%25"),
            ("/%zz%4", "/%25zz%254"),
            // Found by the fuzzer: decoding `%66` after a stray `%` made
            // `%f6`, which a second pass decoded again.
            ("/%%66", "/%25f"),
            ("/%A%62c", "/%25Abc"),
            ("/%25", "/%25"),
            ("/shop;jsessionid=0A1B", "/shop"),
            ("/;x", "/"),
            ("/shop%3Bx", "/shop%3Bx"),
            ("/%7Eshop;x=%7e", "/~shop"),
            ("http://my.site.com/shop;x", "http://my.site.com/shop"),
            ("http://my.site.com/;x", "http://my.site.com/"),
            ("my.site.com:443;x", "my.site.com:443;x"),
        ];
        for &(raw, want) in cases {
            let got = normalize(raw.as_bytes());
            assert_eq!(&*got, want.as_bytes(), "normalize({raw:?})");
            assert_eq!(&*normalize(&got), &*got, "idempotent on {raw:?}");
        }
        // Spellings of one path end in one section.
        let a = normalize(section(b"/a%2fb/c?x"));
        assert_eq!(a, normalize(section(b"/a%2Fb/d")));
        assert!(matches!(normalize(b"/plain"), Cow::Borrowed(_)));
    }
}
