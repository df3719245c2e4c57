//! Follow a path like `tail -F`: read what is appended and survive truncation,
//! rotation, replacement, deletion and symlink changes.
//!
//! Owns the open handles, the read positions and the per-file line splitters.
//! It must not parse lines, spawn threads, sleep, print or read a clock of its
//! own beyond `Instant::now()` in [`Follower::poll`]; the caller decides how
//! often to poll and what to do with lines and notices.
//!
//! Invariants:
//! - Every line written to a followed file comes out exactly once, in file
//!   order. The tail of a rotated-away file comes out before newer lines of
//!   the file that replaced it (as far as a poll can tell which came first).
//! - A file is recognised by identity (device and inode), never by name or
//!   length alone. While a handle is open its inode cannot be freed, so the
//!   number cannot be reused by a new file under our feet.
//! - A line without its newline is held back while its file is live, and
//!   emitted only when a rotated-away or deleted file is let go.
//! - Memory is bounded: one reused read buffer plus at most one line of carry
//!   per open file.

use std::fmt;
use std::fs::{self, File, Metadata};
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use memchr::memrchr;

use crate::lines::{Line, Lines, MAX_LINE};

/// How long a rotated-away or deleted file is kept open after its last new
/// bytes. Writers keep their old handle for a moment after a rotation (until
/// they reopen), and whatever they write then would otherwise be lost.
pub const LINGER: Duration = Duration::from_secs(5);

/// Size of the reused read buffer, in bytes: large reads keep the syscall
/// count low when catching up on a busy log.
const BLOCK: usize = 256 * 1024;

/// Most bytes read by one poll, so a caller catching up on a huge file still
/// gets control back often (to close seconds, print reports, stop).
const BUDGET: u64 = 4 * 1024 * 1024;

/// Something that happened to the followed path, for the user. The caller
/// prefixes the path: "access.log: file truncated, reading from the start".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The path did not exist when following started.
    Waiting,
    /// The path exists again after [`Notice::Waiting`] or [`Notice::Gone`].
    Appeared,
    /// The file got shorter than what was read (copytruncate).
    Truncated,
    /// A different file is at the path and the old one still has a name
    /// (renamed away, or a symlink now points elsewhere).
    Rotated,
    /// A different file is at the path and the old one has no name left
    /// (deleted and recreated, or overwritten by a rename).
    Replaced,
    /// The path disappeared while it was followed.
    Gone,
    /// The path exists but cannot be opened; the text is the error.
    Inaccessible(String),
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notice::Waiting => f.write_str("waiting for the file to appear"),
            Notice::Appeared => f.write_str("file appeared, reading from the start"),
            Notice::Truncated => f.write_str("file truncated, reading from the start"),
            Notice::Rotated => f.write_str("file rotated, reading the new file from the start"),
            Notice::Replaced => f.write_str("file replaced, reading the new file from the start"),
            Notice::Gone => f.write_str("file disappeared, waiting for it to come back"),
            Notice::Inaccessible(e) => write!(f, "cannot open file: {e}"),
        }
    }
}

/// What one [`Follower::poll`] did.
#[derive(Debug, Default)]
pub struct Poll {
    /// What changed at the path, in the order it was seen.
    pub notices: Vec<Notice>,
    /// True if the poll stopped at its byte budget with data still unread:
    /// poll again without sleeping.
    pub more: bool,
    /// Bytes read by this poll, from all files.
    pub bytes: u64,
}

/// Identity and length of a file, from its metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    /// Device number.
    pub dev: u64,
    /// Inode number.
    pub ino: u64,
    /// Length in bytes.
    pub len: u64,
}

impl Seen {
    /// Identity and length from metadata (of a path or an open handle).
    pub fn of(meta: &Metadata) -> Seen {
        Seen {
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.len(),
        }
    }

    fn same_file(&self, other: &Seen) -> bool {
        self.dev == other.dev && self.ino == other.ino
    }
}

/// How the file at the path relates to the open one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Same file, nothing new.
    Same,
    /// Same file, longer than the read position.
    Grew,
    /// Same file, shorter than the read position: read again from byte 0.
    Truncated,
    /// A different file is at the path: drain the old one, read the new one
    /// from byte 0.
    Rotated,
    /// Nothing is at the path.
    Missing,
}

/// Decides what happened to the path, given the open file (`open`), the file
/// now at the path (`at_path`, `None` if missing) and the read position `pos`
/// in the open file.
///
/// Identity is checked before length because length alone cannot see a
/// rotation: a new file that is already as long as the old read position (a
/// same-size rewrite, or a busy log between two polls) would look like
/// "grew" and be read from the wrong offset.
pub fn classify(open: &Seen, at_path: Option<&Seen>, pos: u64) -> Change {
    let Some(at_path) = at_path else {
        return Change::Missing;
    };
    if !open.same_file(at_path) {
        Change::Rotated
    } else if at_path.len < pos {
        Change::Truncated
    } else if at_path.len > pos {
        Change::Grew
    } else {
        Change::Same
    }
}

/// One open file with its read position and line carry.
struct Source {
    file: File,
    seen: Seen,
    /// Next byte to read.
    pos: u64,
    lines: Lines,
    /// When bytes last came out of this file (or it was retired), for the
    /// linger timeout.
    last_data: Instant,
}

impl Source {
    fn new(file: File, seen: Seen, pos: u64, lines: Lines, now: Instant) -> Source {
        Source {
            file,
            seen,
            pos,
            lines,
            last_data: now,
        }
    }

    /// Reads from `pos` until end of file or until `budget` bytes were read.
    /// Returns the bytes read and whether end of file was reached.
    fn drain(
        &mut self,
        buf: &mut [u8],
        budget: u64,
        now: Instant,
        on_line: &mut dyn FnMut(Line<'_>),
    ) -> io::Result<(u64, bool)> {
        let mut total = 0;
        while total < budget {
            let want = buf
                .len()
                .min(usize::try_from(budget - total).unwrap_or(usize::MAX));
            // Positioned reads: `pos` is the only cursor, so a truncation is
            // handled by resetting it, with no seek to keep in step.
            let n = match self.file.read_at(&mut buf[..want], self.pos) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                return Ok((total, true));
            }
            self.pos += n as u64;
            total += n as u64;
            self.last_data = now;
            self.lines.push(&buf[..n], &mut *on_line);
        }
        let at_end = self.file.metadata()?.len() <= self.pos;
        Ok((total, at_end))
    }
}

/// Follows one path, polled by the caller.
///
/// Dropping it is the shutdown and emits nothing: a line without its newline
/// in a live file is not complete yet. (A rotated-away file's last line is
/// emitted by `poll` when that file is let go.)
pub struct Follower {
    path: PathBuf,
    /// The file at the path, if any.
    current: Option<Source>,
    /// Files that left the path (rotated, replaced, deleted) and are drained
    /// until idle for `linger`, oldest first.
    retired: Vec<Source>,
    linger: Duration,
    /// Read buffer, reused by every read.
    buf: Vec<u8>,
    budget: u64,
    /// Notices found outside `poll` (by `open`), returned by the next poll.
    queued: Vec<Notice>,
    /// Waiting or Gone was already reported for the current absence.
    absence_reported: bool,
    /// The open error last reported, so it is reported once, not every poll.
    inaccessible: Option<String>,
}

impl Follower {
    /// Starts following `path` from its end, like `tail -F -n0`.
    ///
    /// Reading starts at the beginning of a trailing partial line, so the
    /// line being written is emitted whole once its newline arrives; every
    /// complete line before that is left to the caller (see
    /// [`Follower::current`] and `backfill`).
    ///
    /// A missing path is not an error: the first poll returns
    /// [`Notice::Waiting`] and the file is read from byte 0 when it appears.
    /// Fails if the path exists but cannot be read (a directory, permission
    /// denied).
    pub fn open(path: &Path) -> io::Result<Follower> {
        Follower::start(path, false)
    }

    /// Starts following `path` from byte 0.
    pub fn open_from_start(path: &Path) -> io::Result<Follower> {
        Follower::start(path, true)
    }

    fn start(path: &Path, from_start: bool) -> io::Result<Follower> {
        let mut follower = Follower {
            path: path.to_path_buf(),
            current: None,
            retired: Vec::new(),
            linger: LINGER,
            buf: vec![0; BLOCK],
            budget: BUDGET,
            queued: Vec::new(),
            absence_reported: false,
            inaccessible: None,
        };
        match open_file(path) {
            Ok((file, seen)) => {
                let (pos, lines) = if from_start {
                    (0, Lines::new())
                } else {
                    resume_point(&file, seen.len)?
                };
                follower.current = Some(Source::new(file, seen, pos, lines, Instant::now()));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                follower.queued.push(Notice::Waiting);
                follower.absence_reported = true;
            }
            Err(e) => return Err(e),
        }
        Ok(follower)
    }

    /// The followed path, as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file now followed at the path and the read position in it, or
    /// `None` while waiting. Right after [`Follower::open`] the position is
    /// where following starts, so every complete line before it can be read
    /// backward from this handle (clone it) without a gap or an overlap, even
    /// if the path is rotated meanwhile.
    pub fn current(&self) -> Option<(&File, u64)> {
        self.current.as_ref().map(|s| (&s.file, s.pos))
    }

    /// Sets how long a rotated-away or deleted file is kept after its last
    /// new bytes (default [`LINGER`]).
    pub fn set_linger(&mut self, linger: Duration) {
        self.linger = linger;
    }

    /// Reads everything available now (up to a budget of a few MiB) and calls
    /// `on_line` for each line. Never blocks or sleeps; the caller sleeps
    /// between polls, or polls again at once when [`Poll::more`] is set.
    ///
    /// Errors are real read failures on an open file. Trouble at the path
    /// (missing, unreadable) is reported as a [`Notice`] once, and the path
    /// is tried again on the next poll.
    pub fn poll(&mut self, on_line: &mut dyn FnMut(Line<'_>)) -> io::Result<Poll> {
        self.poll_at(Instant::now(), on_line)
    }

    /// [`Follower::poll`] with the clock as an argument, so tests can step
    /// through the linger time without sleeping.
    fn poll_at(&mut self, now: Instant, on_line: &mut dyn FnMut(Line<'_>)) -> io::Result<Poll> {
        let mut out = Poll {
            notices: std::mem::take(&mut self.queued),
            ..Poll::default()
        };
        self.check_path(now, &mut out.notices)?;

        // Old files first: their tail was written before the file that
        // replaced them, and a reader of the log expects that order.
        let mut budget = self.budget;
        let mut i = 0;
        while i < self.retired.len() {
            let source = &mut self.retired[i];
            let (bytes, at_end) = source.drain(&mut self.buf, budget, now, on_line)?;
            out.bytes += bytes;
            budget -= bytes;
            if !at_end {
                // Out of budget: read nothing newer before this is drained.
                out.more = true;
                return Ok(out);
            }
            if now.saturating_duration_since(source.last_data) >= self.linger {
                // Nobody writes here any more: what is left without a newline
                // is the file's last line.
                let mut source = self.retired.remove(i);
                source.lines.finish(&mut *on_line);
            } else {
                i += 1;
            }
        }
        if let Some(source) = &mut self.current {
            let (bytes, at_end) = source.drain(&mut self.buf, budget, now, on_line)?;
            out.bytes += bytes;
            out.more = !at_end;
        }
        Ok(out)
    }

    /// Compares the path with the open file and acts on the difference.
    fn check_path(&mut self, now: Instant, notices: &mut Vec<Notice>) -> io::Result<()> {
        // `metadata` follows symlinks, so a symlink pointed at another file
        // shows a different identity and is handled as a rotation.
        let at_path = match fs::metadata(&self.path) {
            Ok(meta) => Some(Seen::of(&meta)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => {
                // Keep reading what is open; the path may come back.
                self.report_inaccessible(&e, notices);
                return Ok(());
            }
        };
        let Some(source) = &mut self.current else {
            match at_path {
                Some(_) => self.open_new(now, Notice::Appeared, notices),
                None if !self.absence_reported => {
                    notices.push(Notice::Gone);
                    self.absence_reported = true;
                }
                None => {}
            }
            return Ok(());
        };
        let open_meta = source.file.metadata()?;
        match classify(&Seen::of(&open_meta), at_path.as_ref(), source.pos) {
            Change::Same | Change::Grew => {}
            Change::Truncated => {
                // The carry is kept: a writer appending with O_APPEND puts the
                // rest of a half-written line at the new byte 0.
                source.pos = 0;
                notices.push(Notice::Truncated);
            }
            Change::Rotated => {
                let notice = if open_meta.nlink() > 0 {
                    Notice::Rotated
                } else {
                    Notice::Replaced
                };
                self.retire(now);
                self.open_new(now, notice, notices);
            }
            Change::Missing => {
                // Deleted (or renamed with nothing in its place yet): the
                // writer may still hold it, so drain it like a rotated file.
                self.retire(now);
                notices.push(Notice::Gone);
                self.absence_reported = true;
            }
        }
        Ok(())
    }

    /// Moves the current file to the retired list, starting its linger time.
    fn retire(&mut self, now: Instant) {
        if let Some(mut source) = self.current.take() {
            // Idle time counts from the rotation: a file that was quiet before
            // it was renamed may still get a last write from its writer.
            source.last_data = now;
            self.retired.push(source);
        }
    }

    /// Opens the file now at the path as the current file, from byte 0.
    fn open_new(&mut self, now: Instant, notice: Notice, notices: &mut Vec<Notice>) {
        match open_file(&self.path) {
            Ok((file, seen)) => {
                // A file still being drained is back at the path (renamed
                // back, or a symlink pointed back at it): resume it instead of
                // reading it again from 0.
                let back = self.retired.iter().position(|s| s.seen.same_file(&seen));
                self.current = Some(match back {
                    Some(i) => self.retired.remove(i),
                    None => Source::new(file, seen, 0, Lines::new(), now),
                });
                self.absence_reported = false;
                self.inaccessible = None;
                notices.push(notice);
            }
            // Gone again between the stat and the open: the next poll sees it.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => self.report_inaccessible(&e, notices),
        }
    }

    fn report_inaccessible(&mut self, e: &io::Error, notices: &mut Vec<Notice>) {
        let text = e.to_string();
        if self.inaccessible.as_deref() != Some(text.as_str()) {
            notices.push(Notice::Inaccessible(text.clone()));
            self.inaccessible = Some(text);
        }
    }
}

/// Opens a path for reading and returns the handle with its identity.
fn open_file(path: &Path) -> io::Result<(File, Seen)> {
    let file = File::open(path)?;
    let meta = file.metadata()?;
    // Opening a directory succeeds on Linux; reading it fails later with a
    // less helpful error.
    if meta.is_dir() {
        return Err(io::Error::other("is a directory"));
    }
    Ok((file, Seen::of(&meta)))
}

/// Where to start reading a file of `len` bytes "from the end": just after
/// its last newline, so a line being written is read whole. If the partial
/// line is already longer than [`MAX_LINE`] it is skipped up to its newline.
fn resume_point(file: &File, len: u64) -> io::Result<(u64, Lines)> {
    let window = len.min(MAX_LINE as u64 + 1);
    let start = len - window;
    let mut tail = vec![0; window as usize];
    file.read_exact_at(&mut tail, start)?;
    Ok(match memrchr(b'\n', &tail) {
        Some(i) => (start + i as u64 + 1, Lines::new()),
        None if start == 0 => (0, Lines::new()),
        None => (len, Lines::skipping_first(MAX_LINE)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::OpenOptions;
    use std::io::Write;
    use tempfile::TempDir;

    /// A temp dir holding `access.log`, with shell-like helpers.
    struct Dir {
        dir: TempDir,
    }

    impl Dir {
        fn new() -> Dir {
            Dir {
                dir: tempfile::tempdir().unwrap(),
            }
        }

        fn path(&self, name: &str) -> PathBuf {
            self.dir.path().join(name)
        }

        fn log(&self) -> PathBuf {
            self.path("access.log")
        }

        /// `printf "$text" >> name`
        fn append(&self, name: &str, text: &str) {
            let mut f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.path(name))
                .unwrap();
            f.write_all(text.as_bytes()).unwrap();
        }

        /// `printf "$text" > name` (same inode if it exists)
        fn overwrite(&self, name: &str, text: &str) {
            fs::write(self.path(name), text).unwrap();
        }

        /// `mv from to`
        fn mv(&self, from: &str, to: &str) {
            fs::rename(self.path(from), self.path(to)).unwrap();
        }

        /// `rm name`
        fn rm(&self, name: &str) {
            fs::remove_file(self.path(name)).unwrap();
        }
    }

    /// Lines and notices from one poll, owned for comparing.
    #[derive(Debug, PartialEq, Eq)]
    struct Got {
        lines: Vec<String>,
        notices: Vec<Notice>,
    }

    fn poll_at(f: &mut Follower, now: Instant) -> Got {
        let mut lines = Vec::new();
        let poll = f
            .poll_at(now, &mut |l| {
                lines.push(match l {
                    Line::Complete(b) => String::from_utf8(b.to_vec()).unwrap(),
                    Line::TooLong => "<too long>".to_string(),
                })
            })
            .unwrap();
        assert!(!poll.more, "a small test file fits in one poll");
        Got {
            lines,
            notices: poll.notices,
        }
    }

    fn poll(f: &mut Follower) -> Got {
        poll_at(f, Instant::now())
    }

    fn got(lines: &[&str], notices: &[Notice]) -> Got {
        Got {
            lines: lines.iter().map(|s| s.to_string()).collect(),
            notices: notices.to_vec(),
        }
    }

    fn seen(ino: u64, len: u64) -> Seen {
        Seen { dev: 1, ino, len }
    }

    #[test]
    fn classify_puts_identity_before_length() {
        let open = seen(7, 100);
        assert_eq!(classify(&open, None, 100), Change::Missing);
        assert_eq!(classify(&open, Some(&seen(7, 100)), 100), Change::Same);
        assert_eq!(classify(&open, Some(&seen(7, 150)), 100), Change::Grew);
        assert_eq!(classify(&open, Some(&seen(7, 10)), 100), Change::Truncated);
        // A new file of any length, even the same, is a rotation.
        assert_eq!(classify(&open, Some(&seen(8, 100)), 100), Change::Rotated);
        assert_eq!(classify(&open, Some(&seen(8, 10)), 100), Change::Rotated);
        let other_dev = Seen { dev: 2, ..open };
        assert_eq!(classify(&open, Some(&other_dev), 100), Change::Rotated);
    }

    #[test]
    fn notices_read_as_lowercase_fragments() {
        let all = [
            Notice::Waiting,
            Notice::Appeared,
            Notice::Truncated,
            Notice::Rotated,
            Notice::Replaced,
            Notice::Gone,
            Notice::Inaccessible("permission denied".into()),
        ];
        for n in all {
            let text = n.to_string();
            assert!(text.starts_with(|c: char| c.is_lowercase()), "{text}");
            assert!(!text.ends_with('.'), "{text}");
        }
        assert_eq!(
            Notice::Truncated.to_string(),
            "file truncated, reading from the start"
        );
    }

    #[test]
    fn appended_lines_come_out_once() {
        // echo one >> access.log; echo two >> access.log
        let d = Dir::new();
        d.append("access.log", "old\n");
        let mut f = Follower::open(&d.log()).unwrap();
        assert_eq!(poll(&mut f), got(&[], &[]));
        d.append("access.log", "one\ntwo\n");
        assert_eq!(poll(&mut f), got(&["one", "two"], &[]));
        assert_eq!(poll(&mut f), got(&[], &[]));
    }

    #[test]
    fn a_partial_line_is_held_until_its_newline_and_counted_once() {
        // printf abc >> access.log; printf 'def\n' >> access.log
        let d = Dir::new();
        d.append("access.log", "");
        let mut f = Follower::open(&d.log()).unwrap();
        d.append("access.log", "abc");
        let mut lines = Vec::new();
        let p = f.poll(&mut |l| lines.push(format!("{l:?}"))).unwrap();
        assert_eq!((lines.len(), p.bytes), (0, 3));
        d.append("access.log", "def\n");
        assert_eq!(poll(&mut f), got(&["abcdef"], &[]));
    }

    #[test]
    fn open_starts_at_a_trailing_partial_line() {
        // printf 'old\npart' > access.log; logmon access.log; printf 'ial\n' >> access.log
        let d = Dir::new();
        d.append("access.log", "old\npart");
        let mut f = Follower::open(&d.log()).unwrap();
        assert_eq!(f.current().map(|(_, pos)| pos), Some(4));
        d.append("access.log", "ial\n");
        assert_eq!(poll(&mut f), got(&["partial"], &[]));
    }

    #[test]
    fn open_skips_a_trailing_partial_line_already_too_long() {
        // head -c 70000 /dev/zero | tr '\0' x > access.log; logmon access.log; echo 'end' >> access.log
        let d = Dir::new();
        d.append("access.log", &"x".repeat(MAX_LINE + 10));
        let mut f = Follower::open(&d.log()).unwrap();
        d.append("access.log", "end\nnext\n");
        assert_eq!(poll(&mut f), got(&["next"], &[]));
    }

    #[test]
    fn open_from_start_reads_existing_lines() {
        // cat access.log; tail -F -n0 access.log
        let d = Dir::new();
        d.append("access.log", "one\ntwo\n");
        let mut f = Follower::open_from_start(&d.log()).unwrap();
        assert_eq!(poll(&mut f), got(&["one", "two"], &[]));
    }

    #[test]
    fn open_fails_on_a_directory() {
        // logmon /tmp
        let d = Dir::new();
        assert!(Follower::open(d.dir.path()).is_err());
    }

    #[test]
    fn rename_rotation_drains_the_old_file_first_then_reads_the_new_one() {
        // mv access.log access.log.1 && touch access.log
        let d = Dir::new();
        d.append("access.log", "");
        let mut f = Follower::open(&d.log()).unwrap();
        // The writer keeps its handle across the rename, as nginx does until
        // it is told to reopen.
        let mut writer = OpenOptions::new().append(true).open(d.log()).unwrap();
        let t0 = Instant::now();
        writer.write_all(b"a1\n").unwrap();
        assert_eq!(poll_at(&mut f, t0), got(&["a1"], &[]));

        writer.write_all(b"a2\n").unwrap();
        d.mv("access.log", "access.log.1");
        writer.write_all(b"a3\n").unwrap();
        d.append("access.log", "b1\n");
        assert_eq!(
            poll_at(&mut f, t0),
            got(&["a2", "a3", "b1"], &[Notice::Rotated])
        );

        // A last write without a newline to the old file, and more new lines.
        writer.write_all(b"a4").unwrap();
        d.append("access.log", "b2\n");
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(poll_at(&mut f, t1), got(&["b2"], &[]));
        // Idle for 4 s: still kept.
        let t5 = t1 + Duration::from_secs(4);
        assert_eq!(poll_at(&mut f, t5), got(&[], &[]));
        assert_eq!(f.retired.len(), 1);
        // Idle for 5 s: let go, and its unfinished last line comes out.
        let t6 = t1 + LINGER;
        assert_eq!(poll_at(&mut f, t6), got(&["a4"], &[]));
        assert!(f.retired.is_empty());
        d.append("access.log", "b3\n");
        assert_eq!(poll_at(&mut f, t6), got(&["b3"], &[]));
    }

    #[test]
    fn a_rotated_file_deleted_meanwhile_is_still_drained() {
        // mv access.log access.log.1 && touch access.log && rm access.log.1
        let d = Dir::new();
        d.append("access.log", "");
        let mut f = Follower::open(&d.log()).unwrap();
        let mut writer = OpenOptions::new().append(true).open(d.log()).unwrap();
        d.mv("access.log", "access.log.1");
        d.append("access.log", "");
        let t0 = Instant::now();
        assert_eq!(poll_at(&mut f, t0), got(&[], &[Notice::Rotated]));
        d.rm("access.log.1");
        writer.write_all(b"late\nlast").unwrap();
        assert_eq!(poll_at(&mut f, t0), got(&["late"], &[]));
        f.set_linger(Duration::ZERO);
        assert_eq!(poll_at(&mut f, t0), got(&["last"], &[]));
        assert!(f.retired.is_empty());
    }

    #[test]
    fn copytruncate_reads_the_new_content_from_byte_0() {
        // cp access.log access.log.1; : > access.log; echo c >> access.log
        let d = Dir::new();
        d.append("access.log", "");
        let mut f = Follower::open(&d.log()).unwrap();
        d.append("access.log", "aaa\nbbb\n");
        assert_eq!(poll(&mut f), got(&["aaa", "bbb"], &[]));
        let ino = fs::metadata(d.log()).unwrap().ino();
        d.overwrite("access.log", "");
        d.append("access.log", "c\n");
        assert_eq!(fs::metadata(d.log()).unwrap().ino(), ino, "same inode");
        assert_eq!(poll(&mut f), got(&["c"], &[Notice::Truncated]));
        assert_eq!(poll(&mut f), got(&[], &[]));
    }

    #[test]
    fn a_same_size_rewrite_under_a_new_inode_is_read_from_byte_0() {
        // printf 'new1\nnew2\n' > tmp && mv tmp access.log
        let d = Dir::new();
        d.append("access.log", "");
        let mut f = Follower::open(&d.log()).unwrap();
        d.append("access.log", "old1\nold2\n");
        assert_eq!(poll(&mut f), got(&["old1", "old2"], &[]));
        d.overwrite("tmp", "new1\nnew2\n");
        d.mv("tmp", "access.log");
        f.set_linger(Duration::ZERO);
        assert_eq!(poll(&mut f), got(&["new1", "new2"], &[Notice::Replaced]));
        assert!(f.retired.is_empty());
    }

    #[test]
    fn a_missing_file_is_reported_once_and_read_from_0_when_it_appears() {
        // logmon access.log; echo first > access.log
        let d = Dir::new();
        let mut f = Follower::open(&d.log()).unwrap();
        assert!(f.current().is_none());
        assert_eq!(poll(&mut f), got(&[], &[Notice::Waiting]));
        assert_eq!(poll(&mut f), got(&[], &[]));
        d.append("access.log", "first\nsecond\n");
        assert_eq!(poll(&mut f), got(&["first", "second"], &[Notice::Appeared]));
    }

    #[test]
    fn a_deleted_file_is_reported_once_and_picked_up_when_recreated() {
        // rm access.log; echo back > access.log
        let d = Dir::new();
        d.append("access.log", "");
        let mut f = Follower::open(&d.log()).unwrap();
        f.set_linger(Duration::ZERO);
        d.append("access.log", "before\n");
        d.rm("access.log");
        assert_eq!(poll(&mut f), got(&["before"], &[Notice::Gone]));
        assert_eq!(poll(&mut f), got(&[], &[]));
        d.append("access.log", "back\n");
        assert_eq!(poll(&mut f), got(&["back"], &[Notice::Appeared]));
        d.rm("access.log");
        assert_eq!(poll(&mut f), got(&[], &[Notice::Gone]));
    }

    #[test]
    fn a_long_line_comes_out_once_as_too_long_without_being_held() {
        // head -c 200000 /dev/zero | tr '\0' x >> access.log; echo; echo ok
        let d = Dir::new();
        d.append("access.log", "");
        let mut f = Follower::open(&d.log()).unwrap();
        let chunk = "x".repeat(50_000);
        let mut out = Vec::new();
        for _ in 0..4 {
            d.append("access.log", &chunk);
            out.extend(poll(&mut f).lines);
            let held = f.current.as_ref().unwrap().lines.pending();
            assert!(held <= MAX_LINE, "held {held} bytes");
        }
        d.append("access.log", "\nok\n");
        out.extend(poll(&mut f).lines);
        assert_eq!(out, ["<too long>", "ok"]);
    }

    #[test]
    fn a_symlink_pointed_at_another_file_is_followed_there() {
        // ln -s a.log access.log; ...; ln -sfn b.log access.log
        let d = Dir::new();
        d.append("a.log", "");
        std::os::unix::fs::symlink("a.log", d.log()).unwrap();
        let mut f = Follower::open(&d.log()).unwrap();
        d.append("a.log", "a1\n");
        assert_eq!(poll(&mut f), got(&["a1"], &[]));
        d.append("a.log", "a2\n");
        d.append("b.log", "b1\n");
        std::os::unix::fs::symlink("b.log", d.path("tmp")).unwrap();
        d.mv("tmp", "access.log");
        assert_eq!(poll(&mut f), got(&["a2", "b1"], &[Notice::Rotated]));
        d.append("b.log", "b2\n");
        assert_eq!(poll(&mut f), got(&["b2"], &[]));
    }

    #[test]
    fn a_file_renamed_back_is_resumed_not_reread() {
        // mv access.log access.log.1 && touch access.log; mv access.log.1 access.log
        let d = Dir::new();
        d.append("access.log", "");
        let mut f = Follower::open(&d.log()).unwrap();
        d.append("access.log", "o1\n");
        d.mv("access.log", "access.log.1");
        d.append("access.log", "n1\n");
        assert_eq!(poll(&mut f), got(&["o1", "n1"], &[Notice::Rotated]));
        d.mv("access.log.1", "access.log");
        d.append("access.log", "o2\n");
        assert_eq!(poll(&mut f), got(&["o2"], &[Notice::Replaced]));
        assert_eq!(poll(&mut f), got(&[], &[]));
    }

    #[test]
    fn a_poll_stops_at_its_budget_and_says_more_is_pending() {
        // seq 1 100 >> access.log
        let d = Dir::new();
        d.append("access.log", "");
        let mut f = Follower::open(&d.log()).unwrap();
        f.buf = vec![0; 16];
        f.budget = 64;
        let text: String = (1..=100).map(|n| format!("{n}\n")).collect();
        d.append("access.log", &text);
        let mut lines = Vec::new();
        let mut polls = 0;
        loop {
            polls += 1;
            let p = f
                .poll(&mut |l| {
                    if let Line::Complete(b) = l {
                        lines.push(String::from_utf8(b.to_vec()).unwrap());
                    }
                })
                .unwrap();
            assert!(p.bytes <= 64);
            if !p.more {
                break;
            }
        }
        assert_eq!(polls, text.len().div_ceil(64));
        let want: Vec<String> = (1..=100).map(|n| n.to_string()).collect();
        assert_eq!(lines, want);
    }
}
