//! Split a stream of byte chunks into lines.
//!
//! Owns the carry buffer for a line that a chunk ended in the middle of, and
//! the state for skipping an overlong line. It does no I/O, no parsing and no
//! UTF-8 checks: a line is bytes, and what they mean is the parser's business.
//!
//! Invariants:
//! - Every line ended by `\n` is emitted exactly once, in order, without the
//!   `\n`. A `\r` before it stays in the line.
//! - A line longer than the maximum is emitted once as [`Line::TooLong`] and
//!   its bytes are dropped up to its newline, so the carry never holds more
//!   than `max` bytes, however long the line grows.
//! - Complete lines that lie inside one chunk are lent straight from it; only
//!   the unfinished end of a chunk is copied.

use crate::parse::ByteFinder;

/// Longest line kept, in bytes, not counting the newline. Real access log
/// lines are well under 8 KiB; anything past this is junk or an attack, and
/// holding it would let one line grow memory without bound.
pub const MAX_LINE: usize = 64 * 1024;

/// One line out of [`Lines`].
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// The bytes of the line without its `\n` (a trailing `\r` is kept).
    Complete(&'a [u8]),
    /// A line longer than the maximum; its bytes were dropped.
    TooLong,
}

/// Line splitter that carries a partial line from one chunk to the next.
#[derive(Debug)]
pub struct Lines {
    /// Start of the current line, copied from earlier chunks; at most `max`.
    carry: Vec<u8>,
    /// Longest line emitted as [`Line::Complete`], in bytes.
    max: usize,
    /// The current line was already reported as too long: drop bytes up to
    /// the next newline.
    skipping: bool,
    /// The search for `\n`, built once.
    newline: ByteFinder,
}

impl Default for Lines {
    /// Same as [`Lines::new`]. Written by hand because a derived default would
    /// set the maximum to 0 and reject every non-empty line.
    fn default() -> Lines {
        Lines::new()
    }
}

impl Lines {
    /// A splitter whose longest line is [`MAX_LINE`] bytes.
    pub fn new() -> Lines {
        Lines::with_max(MAX_LINE)
    }

    /// A splitter whose longest line is `max` bytes (small values for tests).
    pub fn with_max(max: usize) -> Lines {
        Lines {
            carry: Vec::new(),
            max,
            skipping: false,
            newline: ByteFinder::new(b'\n'),
        }
    }

    /// A splitter that starts inside an overlong line and drops everything up
    /// to the next newline without reporting it. Used when reading starts in
    /// the middle of a line that was already too long before we saw it.
    pub(crate) fn skipping_first(max: usize) -> Lines {
        Lines {
            skipping: true,
            ..Lines::with_max(max)
        }
    }

    /// Feeds the next chunk and calls `f` for every line it completes.
    ///
    /// Lines that lie wholly inside `data` are passed as slices of `data`
    /// (no copy). Only an unfinished line at the end of `data` is copied, and
    /// only up to the maximum.
    pub fn push(&mut self, data: &[u8], mut f: impl FnMut(Line<'_>)) {
        let mut rest = data;
        while let Some(i) = self.newline.find(rest) {
            let head = &rest[..i];
            rest = &rest[i + 1..];
            if self.skipping {
                // Already reported as TooLong when it crossed the maximum.
                self.skipping = false;
            } else if self.carry.is_empty() {
                if head.len() > self.max {
                    f(Line::TooLong);
                } else {
                    f(Line::Complete(head));
                }
            } else {
                if self.carry.len() + head.len() > self.max {
                    f(Line::TooLong);
                } else {
                    self.carry.extend_from_slice(head);
                    f(Line::Complete(&self.carry));
                }
                // clear() keeps the capacity: no allocation per line.
                self.carry.clear();
            }
        }
        if self.skipping || rest.is_empty() {
            return;
        }
        if self.carry.len() + rest.len() > self.max {
            // Report now rather than at the newline, which may never come:
            // the point is to stop holding bytes for this line.
            f(Line::TooLong);
            self.carry.clear();
            self.skipping = true;
        } else {
            self.carry.extend_from_slice(rest);
        }
    }

    /// The start of a line carried from the chunks before, to be completed
    /// by the next.
    pub fn carried(&self) -> &[u8] {
        &self.carry
    }

    /// Take the carried start of a line out, for another `Lines` to
    /// complete: with nothing carried there, `push`ing it and then the
    /// next chunk there emits exactly what `push`ing that chunk here would
    /// have. Leaves nothing carried.
    pub fn take_carry(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.carry)
    }

    /// Whether an overlong line is being dropped up to its newline.
    pub fn is_skipping(&self) -> bool {
        self.skipping
    }

    /// End of input: emits a pending partial line as if it had a newline.
    /// An overlong line was already reported, so it emits nothing more.
    pub fn finish(&mut self, mut f: impl FnMut(Line<'_>)) {
        if !self.skipping && !self.carry.is_empty() {
            f(Line::Complete(&self.carry));
        }
        self.carry.clear();
        self.skipping = false;
    }

    /// Bytes held for a partial line.
    pub fn pending(&self) -> usize {
        self.carry.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use memchr::memrchr;

    /// Owned copy of what came out, for comparing.
    #[derive(Debug, PartialEq, Eq)]
    enum Out {
        Line(String),
        TooLong,
    }

    fn collect(lines: &mut Lines, chunks: &[&[u8]]) -> Vec<Out> {
        let mut out = Vec::new();
        for chunk in chunks {
            lines.push(chunk, |l| out.push(own(l)));
        }
        out
    }

    fn own(l: Line<'_>) -> Out {
        match l {
            Line::Complete(b) => Out::Line(String::from_utf8(b.to_vec()).unwrap()),
            Line::TooLong => Out::TooLong,
        }
    }

    fn line(s: &str) -> Out {
        Out::Line(s.to_string())
    }

    #[test]
    fn splits_a_chunk_into_lines_without_their_newlines() {
        let mut lines = Lines::new();
        let out = collect(&mut lines, &[b"one\ntwo\n\nfour\n"]);
        assert_eq!(out, [line("one"), line("two"), line(""), line("four")]);
        assert_eq!(lines.pending(), 0);
    }

    #[test]
    fn keeps_a_carriage_return_for_the_parser() {
        let mut lines = Lines::new();
        assert_eq!(collect(&mut lines, &[b"crlf\r\n"]), [line("crlf\r")]);
    }

    #[test]
    fn holds_a_partial_line_until_its_newline_arrives() {
        let mut lines = Lines::new();
        assert_eq!(collect(&mut lines, &[b"abc"]), []);
        assert_eq!(lines.pending(), 3);
        assert_eq!(collect(&mut lines, &[b"def\nxy"]), [line("abcdef")]);
        assert_eq!(lines.pending(), 2);
        assert_eq!(collect(&mut lines, &[b"", b"z\n"]), [line("xyz")]);
        assert_eq!(lines.pending(), 0);
    }

    #[test]
    fn lends_lines_inside_a_chunk_without_copying() {
        let data = b"first\nsecond\n";
        let range = data.as_ptr_range();
        let mut lines = Lines::new();
        let mut borrowed = 0;
        lines.push(data, |l| {
            if let Line::Complete(b) = l {
                assert!(range.contains(&b.as_ptr()));
                borrowed += 1;
            }
        });
        assert_eq!(borrowed, 2);
    }

    #[test]
    fn accepts_a_line_of_exactly_the_maximum() {
        let mut lines = Lines::with_max(4);
        let out = collect(&mut lines, &[b"ab", b"cd", b"\nabcd\n"]);
        assert_eq!(out, [line("abcd"), line("abcd")]);
    }

    #[test]
    fn reports_an_overlong_line_once_and_resumes_after_its_newline() {
        let mut lines = Lines::with_max(4);
        let out = collect(&mut lines, &[b"ok\nabcdefgh\nfine\n"]);
        assert_eq!(out, [line("ok"), Out::TooLong, line("fine")]);
    }

    #[test]
    fn reports_an_overlong_line_split_across_chunks_once() {
        let mut lines = Lines::with_max(4);
        let out = collect(&mut lines, &[b"abc", b"def", b"ghi", b"jk\nnext\n"]);
        assert_eq!(out, [Out::TooLong, line("next")]);
    }

    #[test]
    fn a_carried_start_plus_a_long_end_is_too_long() {
        let mut lines = Lines::with_max(4);
        let out = collect(&mut lines, &[b"ab", b"cde\nok\n"]);
        assert_eq!(out, [Out::TooLong, line("ok")]);
    }

    #[test]
    fn holds_no_more_than_the_maximum_for_a_huge_line_without_newline() {
        let mut lines = Lines::new();
        let chunk = vec![b'x'; 1024 * 1024];
        let mut too_long = 0;
        for _ in 0..100 {
            lines.push(&chunk, |l| {
                assert_eq!(l, Line::TooLong);
                too_long += 1;
            });
            assert!(lines.pending() <= MAX_LINE);
        }
        assert_eq!(too_long, 1);
        assert!(lines.carry.capacity() <= MAX_LINE);
        assert_eq!(collect(&mut lines, &[b"tail\nnext\n"]), [line("next")]);
    }

    #[test]
    fn finish_emits_the_pending_partial_line_once() {
        let mut lines = Lines::new();
        collect(&mut lines, &[b"done\nhalf"]);
        let mut out = Vec::new();
        lines.finish(|l| out.push(own(l)));
        lines.finish(|l| out.push(own(l)));
        assert_eq!(out, [line("half")]);
        assert_eq!(lines.pending(), 0);
    }

    #[test]
    fn finish_after_an_overlong_partial_emits_nothing_more() {
        let mut lines = Lines::with_max(2);
        assert_eq!(collect(&mut lines, &[b"abcdef"]), [Out::TooLong]);
        let mut out = Vec::new();
        lines.finish(|l| out.push(own(l)));
        assert_eq!(out, []);
        // The next input starts a fresh line.
        assert_eq!(collect(&mut lines, &[b"ok\n"]), [line("ok")]);
    }

    #[test]
    fn skipping_first_drops_the_first_fragment_silently() {
        let mut lines = Lines::skipping_first(MAX_LINE);
        let out = collect(&mut lines, &[b"end of old", b" line\nnew\n"]);
        assert_eq!(out, [line("new")]);
    }

    #[test]
    fn complete_lines_split_elsewhere_come_out_as_push_gives_them() {
        let chunks: &[&[u8]] = &[b"ab", b"c\nde\nf", b"\n", b"g", b"xxxxxxxx", b"\nh\ni\nj"];
        for max in [3, 4, 64] {
            let mut whole = Lines::with_max(max);
            let want = collect(&mut whole, chunks);
            let mut lines = Lines::with_max(max);
            let mut got = Vec::new();
            for chunk in chunks {
                // As the reader hands a chunk's complete lines over.
                match memrchr(b'\n', chunk).filter(|_| !lines.is_skipping()) {
                    Some(last) => {
                        let end = last + 1;
                        let mut elsewhere = Lines::with_max(max);
                        elsewhere.push(&lines.take_carry(), |l| got.push(own(l)));
                        elsewhere.push(&chunk[..end], |l| got.push(own(l)));
                        assert_eq!(elsewhere.pending(), 0);
                        lines.push(&chunk[end..], |l| got.push(own(l)));
                    }
                    None => lines.push(chunk, |l| got.push(own(l))),
                }
            }
            assert_eq!(got, want, "max {max}");
            assert_eq!(lines.pending(), whole.pending());
        }
    }

    #[test]
    fn default_accepts_lines_up_to_max_line() {
        let mut lines = Lines::default();
        assert_eq!(collect(&mut lines, &[b"x\n"]), [line("x")]);
    }
}
