//! Read the end of a log backward, newest line first, to fill the alert
//! window at startup without reading the whole file.
//!
//! Owns only the backward block reading and line reassembly. It must not
//! parse lines or decide what "recent" means (the caller's `visit` does), and
//! it must not read past `end`: bytes from `end` on belong to the follower.
//!
//! Invariants:
//! - Every complete line (ended by `\n`) before `end` that is reached is
//!   visited whole and exactly once, even when it spans blocks; the line
//!   starting at byte 0 counts.
//! - The partial line after the last newline before `end` is never visited:
//!   the follower starts at that newline and reads it when it is finished.
//! - Memory is one block plus at most one line ([`MAX_LINE`]); longer lines
//!   are skipped, as the follower skips them.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use memchr::memrchr;

use crate::lines::MAX_LINE;

/// Bytes read per backward step.
pub const BLOCK: usize = 64 * 1024;

/// Visits the complete lines that end at or before byte `end` (normally the
/// file length, or the follower's start offset), newest first, reading
/// backward in [`BLOCK`]-byte blocks.
///
/// `visit` gets a line without its `\n` and returns true if it is "recent"
/// (inside the wanted time range). Reading stops after the first block in
/// which lines were visited and none was recent, so a few out-of-order stamps
/// near the boundary are still found. It also stops after a run of more than
/// [`MAX_LINE`] + one block without a complete line: that is junk the
/// follower would skip too, and reading on could mean reading the whole file.
///
/// Returns the number of bytes read. Fails if the file is shorter than `end`.
pub fn read_back(file: &mut File, end: u64, visit: impl FnMut(&[u8]) -> bool) -> io::Result<u64> {
    read_back_with_block(file, end, BLOCK, visit)
}

/// [`read_back`] with the block size as an argument (small blocks in tests
/// put block boundaries inside lines).
fn read_back_with_block(
    file: &mut File,
    end: u64,
    block: usize,
    mut visit: impl FnMut(&[u8]) -> bool,
) -> io::Result<u64> {
    assert!(block > 0, "block size must be positive");
    let mut buf = vec![0; block.min(usize::try_from(end).unwrap_or(usize::MAX))];
    // The end of a line whose start lies in an earlier block (from the block
    // just read up to the line's newline).
    let mut carry: Vec<u8> = Vec::new();
    // Scratch for a line that is part block, part carry.
    let mut joined: Vec<u8> = Vec::new();
    // Passed the newline that ends the last complete line; before that the
    // bytes belong to the partial last line and are dropped.
    let mut found_end = false;
    // The line in `carry` grew past MAX_LINE and is being skipped.
    let mut too_long = false;
    let mut since_line = 0u64;
    let mut pos = end;
    let mut bytes = 0u64;
    while pos > 0 {
        let start = pos.saturating_sub(block as u64);
        let chunk = &mut buf[..(pos - start) as usize];
        file.read_exact_at(chunk, start)?;
        bytes += chunk.len() as u64;
        since_line += chunk.len() as u64;
        let mut visited = false;
        let mut recent = false;

        let mut hi = chunk.len();
        while let Some(i) = memrchr(b'\n', &chunk[..hi]) {
            if !found_end {
                found_end = true;
            } else if !too_long {
                let line: &[u8] = if carry.is_empty() {
                    &chunk[i + 1..hi]
                } else {
                    joined.clear();
                    joined.extend_from_slice(&chunk[i + 1..hi]);
                    joined.extend_from_slice(&carry);
                    &joined
                };
                if line.len() <= MAX_LINE {
                    visited = true;
                    recent |= visit(line);
                }
            }
            carry.clear();
            too_long = false;
            hi = i;
        }
        // chunk[..hi] ends a line that starts further back (or at byte 0).
        if found_end && !too_long {
            if hi + carry.len() > MAX_LINE {
                too_long = true;
                carry.clear();
            } else {
                // Prepending copies the carry, but only once per block.
                carry.splice(0..0, chunk[..hi].iter().copied());
            }
        }
        pos = start;
        if pos == 0 && found_end && !too_long {
            visited = true;
            recent |= visit(&carry);
        }
        if visited {
            since_line = 0;
            if !recent {
                break;
            }
        } else if since_line > (MAX_LINE + block) as u64 {
            break;
        }
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_with(content: &[u8]) -> File {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(content).unwrap();
        f
    }

    /// Visits all of `content` with every line recent; returns the lines in
    /// file order and the bytes read.
    fn all_lines(content: &[u8], block: usize) -> (Vec<String>, u64) {
        let mut f = file_with(content);
        let mut lines = Vec::new();
        let bytes = read_back_with_block(&mut f, content.len() as u64, block, |l| {
            lines.push(String::from_utf8(l.to_vec()).unwrap());
            true
        })
        .unwrap();
        lines.reverse();
        (lines, bytes)
    }

    /// Lines "line N" padded to varying lengths, N from 1.
    fn numbered(n: usize) -> String {
        (1..=n)
            .map(|i| format!("line {i} {}\n", "p".repeat(i * 7 % 23)))
            .collect()
    }

    fn number(line: &[u8]) -> usize {
        let text = std::str::from_utf8(line).unwrap();
        text.split(' ').nth(1).unwrap().parse().unwrap()
    }

    #[test]
    fn visits_every_line_whole_and_once_for_any_block_size() {
        let content = "first\n\nthird line\nx\n\nsixth, a bit longer\nlast\n";
        let want: Vec<&str> = content.lines().collect();
        for block in 1..=content.len() + 1 {
            let (lines, bytes) = all_lines(content.as_bytes(), block);
            assert_eq!(lines, want, "block {block}");
            assert_eq!(bytes, content.len() as u64);
        }
    }

    #[test]
    fn visits_lines_above_k_once_and_reads_only_the_tail() {
        // seq-like log of 2000 lines; lines above 1990 are recent.
        let content = numbered(2000);
        let mut f = file_with(content.as_bytes());
        let mut seen = vec![0u32; 2001];
        let bytes = read_back_with_block(&mut f, content.len() as u64, 256, |l| {
            let n = number(l);
            seen[n] += 1;
            n > 1990
        })
        .unwrap();
        assert!(seen[1991..].iter().all(|&c| c == 1), "{:?}", &seen[1991..]);
        assert!(seen.iter().all(|&c| c <= 1));
        // The recent lines plus at most two blocks before them.
        let tail: usize = content.lines().skip(1990).map(|l| l.len() + 1).sum();
        assert!(
            bytes as usize <= tail + 2 * 256,
            "read {bytes} of {}",
            content.len()
        );
        assert!((bytes as usize) < content.len() / 10);
    }

    #[test]
    fn finds_out_of_order_stamps_in_the_last_block_read() {
        // Fixed 8-byte lines and 32-byte blocks. A line is visited with the
        // block holding the newline before it, so the blocks visit lines
        // 15-13, 12-9 and 8-5. Line 9 is recent out of order, so the second
        // block counts as recent; the third has none, so reading stops there
        // and line 2 (also "recent") is never reached.
        let recent = [2, 9, 12, 13, 14, 15];
        let content: String = (0..16)
            .map(|i| {
                format!(
                    "{i:03} {}\n",
                    if recent.contains(&i) { "new" } else { "old" }
                )
            })
            .collect();
        assert_eq!(content.len(), 16 * 8);
        let mut f = file_with(content.as_bytes());
        let mut found = Vec::new();
        let bytes = read_back_with_block(&mut f, content.len() as u64, 32, |l| {
            let is_new = l.ends_with(b"new");
            if is_new {
                found.push(
                    std::str::from_utf8(&l[..3])
                        .unwrap()
                        .parse::<u32>()
                        .unwrap(),
                );
            }
            is_new
        })
        .unwrap();
        assert_eq!(found, [15, 14, 13, 12, 9]);
        assert_eq!(bytes, 3 * 32);
    }

    #[test]
    fn leaves_the_partial_last_line_to_the_follower() {
        let (lines, _) = all_lines(b"a\nb\npart", 3);
        assert_eq!(lines, ["a", "b"]);
    }

    #[test]
    fn reads_nothing_past_end() {
        let mut f = file_with(b"a\nb\nc\n");
        let mut lines = Vec::new();
        read_back_with_block(&mut f, 4, 2, |l| {
            lines.push(l.to_vec());
            true
        })
        .unwrap();
        assert_eq!(lines, [b"b".to_vec(), b"a".to_vec()]);
    }

    #[test]
    fn an_empty_file_visits_nothing_and_reads_nothing() {
        let (lines, bytes) = all_lines(b"", 4);
        assert!(lines.is_empty());
        assert_eq!(bytes, 0);
    }

    #[test]
    fn a_file_without_a_newline_visits_nothing() {
        let (lines, bytes) = all_lines(b"no newline here", 4);
        assert!(lines.is_empty());
        assert_eq!(bytes, 15);
    }

    #[test]
    fn skips_an_overlong_line_and_does_not_read_on_through_junk() {
        let junk = "x".repeat(4 * MAX_LINE);
        let content = format!("old\n{junk}\nnew\n");
        let (lines, bytes) = all_lines(content.as_bytes(), 4096);
        assert_eq!(lines, ["new"]);
        assert!(bytes <= (MAX_LINE + 3 * 4096) as u64, "read {bytes}");
    }

    #[test]
    fn visits_lines_on_both_sides_of_an_overlong_line() {
        let long = "x".repeat(MAX_LINE + 1);
        let content = format!("before\n{long}\nafter\n");
        let (lines, _) = all_lines(content.as_bytes(), 4096);
        assert_eq!(lines, ["before", "after"]);
    }

    #[test]
    fn read_back_uses_whole_blocks_by_default() {
        let content = numbered(10_000);
        let mut f = file_with(content.as_bytes());
        let mut count = 0;
        let bytes = read_back(&mut f, content.len() as u64, |_| {
            count += 1;
            false
        })
        .unwrap();
        assert_eq!(bytes, BLOCK as u64);
        assert!(count > 1000, "one 64 KiB block holds many lines: {count}");
    }
}
