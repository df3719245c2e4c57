//! Fingerprints: what a file starts with, to recognise its content under
//! another name or inode (logrotate's `copytruncate` copy) and to see a file
//! rewritten in place.
//!
//! A fingerprint is a hash of the file's first line (at most [`SPAN`]
//! bytes) and, once the file holds [`SPAN`] bytes, a hash of those. Both are
//! stable while the file only grows: the first line never changes once its
//! newline is written, and neither do the first [`SPAN`] bytes once there.
//! Two fingerprints match when their first lines do and, if both files have
//! [`SPAN`] bytes, their first blocks do too, so a short file matches a long
//! copy of itself.
//!
//! Owns only the hashing and the read of a file's first bytes; what a match
//! means is the caller's business.

use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io;
use std::os::unix::fs::FileExt;

use memchr::memchr;

/// Bytes hashed at most, from the start of a file.
pub const SPAN: usize = 4096;

/// What a file starts with (see the module notes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint {
    /// Hash of the first line with its newline, or of the first [`SPAN`]
    /// bytes when the line is longer.
    line: u64,
    /// Hash of the first [`SPAN`] bytes, once the file has them.
    block: Option<u64>,
}

impl Fingerprint {
    /// The fingerprint of `head`, the first bytes of a file (at most
    /// [`SPAN`] of them are looked at), or `None` while it has neither a
    /// complete first line nor [`SPAN`] bytes: such a file cannot be told
    /// from any other that starts the same way.
    pub fn of(head: &[u8]) -> Option<Fingerprint> {
        let head = &head[..head.len().min(SPAN)];
        let line = match memchr(b'\n', head) {
            Some(i) => &head[..=i],
            None if head.len() == SPAN => head,
            None => return None,
        };
        Some(Fingerprint {
            line: hash(line),
            block: (head.len() == SPAN).then(|| hash(head)),
        })
    }

    /// Reads the first bytes of `file` and fingerprints them.
    pub fn read(file: &File) -> io::Result<Option<Fingerprint>> {
        let mut head = [0u8; SPAN];
        let len = read_head(file, &mut head)?;
        Ok(Fingerprint::of(&head[..len]))
    }

    /// Whether two files start the same way, as far as both can tell.
    pub fn matches(&self, other: &Fingerprint) -> bool {
        self.line == other.line
            && match (self.block, other.block) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }

    /// Whether this fingerprint has seen [`SPAN`] bytes: it will not change
    /// while the file only grows.
    pub fn is_full(&self) -> bool {
        self.block.is_some()
    }
}

/// Reads the first bytes of `file` into `buf` (fewer if the file is
/// shorter); returns how many.
pub fn read_head(file: &File, buf: &mut [u8]) -> io::Result<usize> {
    let mut len = 0;
    while len < buf.len() {
        match file.read_at(&mut buf[len..], len as u64) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(len)
}

/// A hash that is the same for the same bytes within one run (fingerprints
/// are never stored).
fn hash(bytes: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_file_without_a_complete_first_line_has_no_fingerprint() {
        assert_eq!(Fingerprint::of(b""), None);
        assert_eq!(Fingerprint::of(b"half a li"), None);
        assert!(Fingerprint::of(b"one\n").is_some());
    }

    #[test]
    fn a_growing_file_keeps_matching_itself() {
        let text: String = (0..800).map(|i| format!("line {i}\n")).collect();
        let short = Fingerprint::of(&text.as_bytes()[..20]).unwrap();
        let long = Fingerprint::of(text.as_bytes()).unwrap();
        assert!(!short.is_full() && long.is_full());
        assert!(short.matches(&long) && long.matches(&short));
        assert!(long.matches(&Fingerprint::of(&text.as_bytes()[..SPAN]).unwrap()));
    }

    #[test]
    fn another_first_line_or_block_does_not_match() {
        let a: String = (0..600).map(|i| format!("line {i}\n")).collect();
        let b = a.replacen("line 0\n", "line 9\n", 1);
        let fa = Fingerprint::of(a.as_bytes()).unwrap();
        assert!(!fa.matches(&Fingerprint::of(b.as_bytes()).unwrap()));
        // Same first line, different later bytes within the block.
        let c = a.replacen("line 300\n", "line 999\n", 1);
        assert!(!fa.matches(&Fingerprint::of(c.as_bytes()).unwrap()));
        // A difference past the block is not seen.
        let d = format!("{a}extra\n");
        assert!(fa.matches(&Fingerprint::of(d.as_bytes()).unwrap()));
    }

    #[test]
    fn a_first_line_longer_than_the_span_is_cut_at_the_span() {
        let long = "x".repeat(SPAN * 2);
        let f = Fingerprint::of(long.as_bytes()).unwrap();
        assert!(f.is_full());
        assert_eq!(Fingerprint::of(&long.as_bytes()[..SPAN]), Some(f));
    }

    #[test]
    fn read_fingerprints_the_start_of_a_file() {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(b"first\nsecond\n").unwrap();
        assert_eq!(
            Fingerprint::read(&file).unwrap(),
            Fingerprint::of(b"first\n")
        );
    }
}
