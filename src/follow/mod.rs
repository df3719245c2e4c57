//! Follow a path like `tail -F`: read what is appended and survive truncation,
//! rotation, replacement, deletion and symlink changes, however fast they
//! come.
//!
//! Owns the open handles, the read positions and the per-file line splitters.
//! It must not parse lines, spawn threads, print or read a clock of its own
//! beyond `Instant::now()` and `SystemTime::now()` in [`Follower::poll`]; the
//! caller decides when to poll (after [`Follower::wait`]) and what to do with
//! lines and notices.
//!
//! The parts: `watch` wakes the reader when the directory changes (inotify,
//! or a timer); `fingerprint` recognises a file by its first bytes;
//! `catchup` finds the rotated siblings that hold lines logmon has not read
//! (files that came and went between two looks, the copytruncate copy).
//!
//! Invariants:
//! - Every line written to a followed file comes out exactly once, in file
//!   order. The tail of a rotated-away file comes out before newer lines of
//!   the files that replaced it, each in the order they were at the path.
//! - A file is recognised by identity (device and inode), never by name or
//!   length alone. While a handle is open its inode cannot be freed, so the
//!   number cannot be reused by a new file under our feet.
//! - Every file seen at the path is opened at once and kept until drained,
//!   so renaming or deleting it afterwards loses nothing.
//! - A line without its newline is held back while its file is live, and
//!   emitted only when a rotated-away or deleted file is let go.
//! - Memory is bounded: one reused read buffer plus at most one line of carry
//!   per open file, and a short list of the files let go.

mod catchup;
mod fingerprint;
#[cfg(test)]
mod testdir;
mod watch;

pub use watch::{Waker, Watcher, Woke};

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fmt;
use std::fs::{self, File, Metadata};
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use memchr::memrchr;

use crate::lines::{Line, Lines, MAX_LINE};
use catchup::{Known, Lost};
use fingerprint::{read_head, Fingerprint, SPAN};
use watch::Registration;

/// How long a rotated-away or deleted file is kept open after its last new
/// bytes. Writers keep their old handle for a moment after a rotation (until
/// they reopen), and whatever they write then would otherwise be lost.
pub const LINGER: Duration = Duration::from_secs(5);

/// Rotated files held at once beyond which those idle for
/// [`CROWDED_LINGER`] are let go early: rotations many times a second would
/// otherwise hold hundreds of descriptors, up to the process's limit.
const CROWDED: usize = 256;
const CROWDED_LINGER: Duration = Duration::from_secs(1);

/// With inotify, the path is still checked this often: a safety net for
/// changes inotify does not report (a file moved to another directory and
/// written there, a symlink's target rotated in its own directory).
pub const SAFETY_NET: Duration = Duration::from_secs(1);

/// Size of the reused read buffer, in bytes: large reads keep the syscall
/// count low when catching up on a busy log.
const BLOCK: usize = 256 * 1024;

/// Most bytes read by one poll, so a caller catching up on a huge file still
/// gets control back often (to close seconds, print reports, stop).
const BUDGET: u64 = 4 * 1024 * 1024;

/// Files let go that are remembered, so that one written to again is
/// resumed where it stopped rather than read again from the start.
const LET_GO_KEPT: usize = 64;

/// Fingerprints kept of what the followed file held before a truncation,
/// so that the copies copytruncate left are not taken for missed files.
const TRUNCATIONS_KEPT: usize = 16;

/// At start, rotated siblings written this recently are remembered as read
/// up to their end: a writer may not have reopened the log yet, and what it
/// writes there next is new.
const RECENT_AT_START: Duration = Duration::from_secs(60);

/// Something that happened to the followed path, for the user. The caller
/// prefixes the path: "access.log: file truncated, reading from the start".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The path did not exist when following started.
    Waiting,
    /// The path exists again after [`Notice::Waiting`] or [`Notice::Gone`].
    Appeared,
    /// The file got shorter than what was read, or was rewritten from its
    /// start, and no copy of it was found.
    Truncated,
    /// The same, and its old content was found in a copy (copytruncate):
    /// the copy was read from where reading had stopped.
    TruncatedAfterCopy(String),
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
    /// Rotated files that came and went between two looks were found in
    /// the directory and read.
    CaughtUp(usize),
    /// Files that were at the path could not be read: deleted or moved
    /// away before logmon opened them, or compressed (the first such name).
    Missed {
        files: usize,
        compressed: Option<String>,
    },
    /// Changes are not watched with inotify; the text says why.
    Polling(String),
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notice::Waiting => f.write_str("waiting for the file to appear"),
            Notice::Appeared => f.write_str("file appeared, reading from the start"),
            Notice::Truncated => f.write_str("file truncated, reading from the start"),
            Notice::TruncatedAfterCopy(copy) => write!(
                f,
                "file truncated, reading from the start after the rest of its copy {copy}"
            ),
            Notice::Rotated => f.write_str("file rotated, reading the new file from the start"),
            Notice::Replaced => f.write_str("file replaced, reading the new file from the start"),
            Notice::Gone => f.write_str("file disappeared, waiting for it to come back"),
            Notice::Inaccessible(e) => write!(f, "cannot open file: {e}"),
            Notice::CaughtUp(n) => write!(
                f,
                "rotated faster than it was read: read {} missed in the directory",
                files(*n)
            ),
            Notice::Missed {
                files: n,
                compressed,
            } => {
                write!(f, "lines of {} may be missing", files(*n))?;
                match compressed {
                    Some(name) => write!(f, " (skipped compressed {name})"),
                    None => f.write_str(" (gone before they could be opened)"),
                }
            }
            Notice::Polling(why) => write!(f, "not watched with inotify ({why}): polling"),
        }
    }
}

/// "1 rotated file", "3 rotated files".
fn files(n: usize) -> String {
    match n {
        1 => "1 rotated file".into(),
        n => format!("{n} rotated files"),
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
/// "grew" and be read from the wrong offset. (A file rewritten in place past
/// the position is seen by its fingerprint, after this.)
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

/// Whether the start of a file changed from `old` to `now`: rewritten in
/// place (copytruncate and new lines past the old position between two
/// looks). A file that only grew keeps matching its old fingerprint.
pub fn rewritten(old: Option<&Fingerprint>, now: Option<&Fingerprint>) -> bool {
    match (old, now) {
        (Some(old), Some(now)) => !old.matches(now),
        // It had a first line and has none now: it was cut.
        (Some(_), None) => true,
        (None, _) => false,
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
    /// What the bytes read so far start with, once they hold a first line:
    /// taken from the reads themselves, so a file rewritten between two
    /// looks cannot lend it its new start.
    print: Option<Fingerprint>,
    /// The file's first bytes as read, until `print` is full.
    head: Vec<u8>,
}

impl Source {
    fn new(file: File, seen: Seen, pos: u64, lines: Lines, now: Instant) -> Source {
        // Reading starts at `pos`: what came before is there to be read.
        let mut head = vec![0; pos.min(SPAN as u64) as usize];
        let got = read_head(&file, &mut head).unwrap_or(0);
        head.truncate(got);
        let mut source = Source {
            file,
            seen,
            pos,
            lines,
            last_data: now,
            print: None,
            head,
        };
        source.refresh_print();
        source
    }

    /// Reading starts over at byte 0 (after a truncation).
    fn restart(&mut self) {
        self.pos = 0;
        self.head.clear();
        self.print = None;
    }

    /// Keeps the first bytes of a read that starts where `head` ends.
    fn keep_head(&mut self, at: u64, data: &[u8]) {
        let full = self.print.is_some_and(|p| p.is_full());
        if !full && at == self.head.len() as u64 {
            let take = data.len().min(SPAN - self.head.len());
            self.head.extend_from_slice(&data[..take]);
            self.refresh_print();
        }
    }

    fn refresh_print(&mut self) {
        self.print = Fingerprint::of(&self.head);
        if self.print.is_some_and(|p| p.is_full()) {
            // It will not change: the bytes are not needed any more.
            self.head = Vec::new();
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
            self.keep_head(self.pos, &buf[..n]);
            self.pos += n as u64;
            total += n as u64;
            self.last_data = now;
            self.lines.push(&buf[..n], &mut *on_line);
        }
        let at_end = self.file.metadata()?.len() <= self.pos;
        Ok((total, at_end))
    }

    /// What catch-up must know about this file, held or let go.
    fn known(&self, let_go: bool) -> Known {
        let meta = self.file.metadata().ok();
        Known {
            seen: self.seen,
            print: self.print,
            modified: meta.as_ref().and_then(|m| m.modified().ok()),
            created: meta.as_ref().and_then(|m| m.created().ok()),
            resume: let_go.then_some(self.pos),
        }
    }
}

/// The follower's share of a [`Watcher`].
struct Watching {
    watcher: Arc<Watcher>,
    /// The path's directory and name; and the symlink target's, if the
    /// path is a link into another directory.
    registrations: Vec<Registration>,
    /// Appearances already taken into `Follower::balance`.
    counted: u64,
}

/// Follows one path, polled by the caller.
///
/// Dropping it is the shutdown and emits nothing: a line without its newline
/// in a live file is not complete yet. (A rotated-away file's last line is
/// emitted by `poll` when that file is let go.)
pub struct Follower {
    path: PathBuf,
    /// Where rotated siblings are looked for: the path's directory, and
    /// its file name.
    dir: PathBuf,
    base: OsString,
    /// The file at the path, if any.
    current: Option<Source>,
    /// Files that left the path (rotated, replaced, deleted, or found by
    /// catch-up) and are drained until idle for `linger`, oldest first.
    retired: Vec<Source>,
    /// Files let go, newest last, at most [`LET_GO_KEPT`].
    let_go: VecDeque<Known>,
    /// What the followed file started with before each truncation, newest
    /// last, at most [`TRUNCATIONS_KEPT`].
    read_before: VecDeque<Fingerprint>,
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
    /// A file was followed at the path once: only then can rotations have
    /// been missed.
    followed: bool,
    /// Wall time of the last look after which nothing can have been missed:
    /// a missed file was written after it.
    caught_up_to: SystemTime,
    /// Files inotify saw appear at the path, less those opened there or
    /// found by catch-up: above 0, files came and went unseen.
    balance: i64,
    /// inotify dropped events: the balance cannot be trusted until the next
    /// catch-up.
    overflowed: bool,
    watching: Option<Watching>,
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
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut follower = Follower {
            path: path.to_path_buf(),
            dir,
            base: path.file_name().unwrap_or_default().to_os_string(),
            current: None,
            retired: Vec::new(),
            let_go: VecDeque::new(),
            read_before: VecDeque::new(),
            linger: LINGER,
            buf: vec![0; BLOCK],
            budget: BUDGET,
            queued: Vec::new(),
            absence_reported: false,
            inaccessible: None,
            followed: false,
            caught_up_to: SystemTime::now(),
            balance: 0,
            overflowed: false,
            watching: None,
        };
        match open_file(path) {
            Ok((file, seen)) => {
                let (pos, lines) = if from_start {
                    (0, Lines::new())
                } else {
                    resume_point(&file, seen.len)?
                };
                follower.current = Some(Source::new(file, seen, pos, lines, Instant::now()));
                follower.followed = true;
                follower.remember_siblings();
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                follower.queued.push(Notice::Waiting);
                follower.absence_reported = true;
            }
            Err(e) => return Err(e),
        }
        Ok(follower)
    }

    /// Remembers the rotated siblings written recently as read to their
    /// end, so that a later catch-up reads only what is written to them
    /// from now on, not lines from before the start.
    fn remember_siblings(&mut self) {
        let since = self.caught_up_to - RECENT_AT_START;
        let known = self.known();
        let Ok(siblings) = catchup::scan(&self.dir, &self.base, since, &Lost::Rotated, &known)
        else {
            return;
        };
        for s in siblings.iter().filter(|s| s.file.is_some()) {
            if self.let_go.len() == LET_GO_KEPT {
                break;
            }
            self.let_go.push_back(Known {
                seen: s.seen,
                print: s.print,
                modified: Some(s.modified),
                created: s.created,
                resume: Some(s.seen.len),
            });
        }
    }

    /// Waits for changes with a watcher of its own: inotify if `inotify` is
    /// set and it can watch the path's directory, else polling (with one
    /// notice saying why, when inotify was wanted). Returns the handle that
    /// wakes [`Follower::wait`] from another thread.
    pub fn watch(&mut self, inotify: bool) -> Waker {
        let watcher = Watcher::new(inotify);
        self.watch_with(&watcher);
        watcher.waker()
    }

    /// Waits for changes with `watcher`, which other followers may share.
    pub fn watch_with(&mut self, watcher: &Arc<Watcher>) {
        let mut registrations = Vec::new();
        let mut why_not = watcher.unavailable().map(str::to_owned);
        if watcher.has_inotify() {
            match watcher.watch(&self.dir, &self.base) {
                Ok(r) => registrations.push(r),
                Err(e) => why_not = Some(format!("{}: {e}", self.dir.display())),
            }
            // A symlink into another directory: its target's rotations
            // happen there.
            let target = fs::canonicalize(&self.path).ok();
            let target = target
                .as_ref()
                .and_then(|t| Some((t.parent()?, t.file_name()?)));
            if let (Some((dir, name)), false) = (target, registrations.is_empty()) {
                let here = fs::canonicalize(&self.dir).ok();
                if here.as_deref() != Some(dir) || name != self.base {
                    registrations.extend(watcher.watch(dir, name).ok());
                }
            }
        }
        if let Some(why) = why_not {
            self.queued.push(Notice::Polling(why));
            registrations.clear();
        }
        self.watching = Some(Watching {
            watcher: watcher.clone(),
            registrations,
            counted: 0,
        });
    }

    /// Whether inotify watches the path (rather than a timer).
    fn has_events(&self) -> bool {
        self.watching
            .as_ref()
            .is_some_and(|w| !w.registrations.is_empty())
    }

    /// Waits until the path may have changed, a wake request, or the
    /// timeout: `every` when polling, [`SAFETY_NET`] (at least `every`)
    /// with inotify. Without a watcher it sleeps `every`.
    pub fn wait(&mut self, every: Duration) -> Woke {
        let Some(watching) = &self.watching else {
            std::thread::sleep(every);
            return Woke::Timeout;
        };
        let timeout = match self.has_events() {
            true => SAFETY_NET.max(every),
            false => every,
        };
        let woke = watching.watcher.wait(timeout);
        if woke == Woke::Timeout && self.balance < 0 {
            // A quiet spell with no event pending: files obtained without
            // an appearance (a symlink's target rotated elsewhere) must not
            // hide later misses.
            self.take_events();
            self.balance = self.balance.max(0);
        }
        woke
    }

    /// Whether events already read say files appeared at the path since
    /// the last poll: poll at once, before they are renamed away again.
    pub fn appeared(&self) -> bool {
        self.watching.as_ref().is_some_and(|w| {
            let total: u64 = w.registrations.iter().map(|r| r.tally().appeared()).sum();
            total != w.counted
        })
    }

    /// Takes the appearances routed to this follower into the balance, and
    /// notes an overflow or a watch that ended.
    fn take_events(&mut self) {
        let Some(w) = &mut self.watching else { return };
        w.watcher.pump();
        let mut appeared = 0;
        let mut lost = false;
        for r in &w.registrations {
            appeared += r.tally().appeared();
            self.overflowed |= r.tally().take_overflowed();
            lost |= r.tally().lost();
        }
        self.balance += appeared.saturating_sub(w.counted) as i64;
        w.counted = appeared;
        if lost {
            w.registrations.clear();
            w.counted = 0;
            self.queued.push(Notice::Polling(format!(
                "{}: the directory was moved or removed",
                self.dir.display()
            )));
        }
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
    /// `on_line` for each line. Never blocks or sleeps; the caller waits
    /// between polls ([`Follower::wait`]), or polls again at once when
    /// [`Poll::more`] is set.
    ///
    /// Errors are real read failures on an open file. Trouble at the path
    /// (missing, unreadable) is reported as a [`Notice`] once, and the path
    /// is tried again on the next poll.
    pub fn poll(&mut self, on_line: &mut dyn FnMut(Line<'_>)) -> io::Result<Poll> {
        self.poll_at(Instant::now(), SystemTime::now(), on_line)
    }

    /// [`Follower::poll`] with the clocks as arguments, so tests can step
    /// through the linger time without sleeping. `wall` is taken before the
    /// path is looked at: a file written after it is newer than the look.
    fn poll_at(
        &mut self,
        now: Instant,
        wall: SystemTime,
        on_line: &mut dyn FnMut(Line<'_>),
    ) -> io::Result<Poll> {
        // Events first: every file at the path when it is looked at has
        // had its appearance counted.
        self.take_events();
        let mut out = Poll {
            notices: std::mem::take(&mut self.queued),
            ..Poll::default()
        };
        self.check_path(now, wall, &mut out.notices)?;

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
            let idle = now.saturating_duration_since(source.last_data);
            let crowded = self.retired.len() > CROWDED;
            if idle >= self.linger || (crowded && idle >= self.linger.min(CROWDED_LINGER)) {
                // Nobody writes here any more: what is left without a newline
                // is the file's last line.
                let mut source = self.retired.remove(i);
                source.lines.finish(&mut *on_line);
                if self.let_go.len() == LET_GO_KEPT {
                    self.let_go.pop_front();
                }
                self.let_go.push_back(source.known(true));
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
    fn check_path(
        &mut self,
        now: Instant,
        wall: SystemTime,
        notices: &mut Vec<Notice>,
    ) -> io::Result<()> {
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
                Some(_) => {
                    // Before anything was followed, nothing was missed.
                    let followed = self.followed;
                    self.open_new(now, Notice::Appeared, notices);
                    if followed {
                        self.catch_up_rotated(now, wall, notices);
                    }
                }
                None if !self.absence_reported => {
                    notices.push(Notice::Gone);
                    self.absence_reported = true;
                }
                // Something came and went while the path was empty.
                None if self.balance > 0 => self.catch_up_rotated(now, wall, notices),
                None => {}
            }
            return Ok(());
        };
        let open_meta = source.file.metadata()?;
        match classify(&Seen::of(&open_meta), at_path.as_ref(), source.pos) {
            Change::Same | Change::Grew => {
                let print = Fingerprint::read(&source.file)?;
                if rewritten(source.print.as_ref(), print.as_ref()) {
                    self.truncated(now, wall, notices);
                } else {
                    if self.balance > 0 || self.overflowed {
                        // Files appeared and left again since the last look.
                        self.catch_up_rotated(now, wall, notices);
                    } else if self.balance == 0 {
                        self.caught_up_to = wall;
                    }
                }
            }
            Change::Truncated => self.truncated(now, wall, notices),
            Change::Rotated => {
                let notice = if open_meta.nlink() > 0 {
                    Notice::Rotated
                } else {
                    Notice::Replaced
                };
                self.retire(now);
                self.open_new(now, notice, notices);
                // With inotify, when every file that appeared was opened,
                // none can have been missed.
                if self.balance != 0 || self.overflowed || !self.has_events() {
                    self.catch_up_rotated(now, wall, notices);
                }
            }
            Change::Missing => {
                // Deleted (or renamed with nothing in its place yet): the
                // writer may still hold it, so drain it like a rotated file.
                self.retire(now);
                notices.push(Notice::Gone);
                self.absence_reported = true;
                self.catch_up_rotated(now, wall, notices);
            }
        }
        Ok(())
    }

    /// The current file was truncated or rewritten: read the rest of its
    /// old content from a copy if one is found (copytruncate), then the
    /// files missed meanwhile, then the file from byte 0.
    fn truncated(&mut self, now: Instant, wall: SystemTime, notices: &mut Vec<Notice>) {
        let Some(source) = &self.current else { return };
        let lost = Lost::Truncated {
            print: source.print,
            pos: source.pos,
        };
        let found = self.catch_up(lost, now, wall, notices);
        let Some(source) = &mut self.current else {
            return;
        };
        if let Some(print) = source.print {
            if self.read_before.len() == TRUNCATIONS_KEPT {
                self.read_before.pop_front();
            }
            self.read_before.push_back(print);
        }
        match found.copy {
            Some((file, seen, name)) => {
                // The copy goes on from where reading stopped, with the
                // partial line held; the file starts afresh.
                let lines = std::mem::take(&mut source.lines);
                let copy = Source::new(file, seen, source.pos, lines, now);
                self.retired.push(copy);
                notices.push(Notice::TruncatedAfterCopy(name));
            }
            // The carry is kept: a writer appending with O_APPEND puts the
            // rest of a half-written line at the new byte 0.
            None => notices.push(Notice::Truncated),
        }
        source.restart();
        self.retired.extend(found.missed);
    }

    /// Catch-up after the file left the path: the files missed are read
    /// after those retired so far.
    fn catch_up_rotated(&mut self, now: Instant, wall: SystemTime, notices: &mut Vec<Notice>) {
        let found = self.catch_up(Lost::Rotated, now, wall, notices);
        self.retired.extend(found.missed);
    }

    /// Looks in the directory for what was `lost` (see `catchup`) and opens
    /// what is to be read, saying how many files were caught up on and how
    /// many may be missing. Files missed are returned, in the order they
    /// were at the path, for the caller to queue after the ones it retires.
    fn catch_up(
        &mut self,
        lost: Lost,
        now: Instant,
        wall: SystemTime,
        notices: &mut Vec<Notice>,
    ) -> Found {
        let since = self.caught_up_to;
        let known = self.known();
        let mut found = Found::default();
        let mut compressed = Vec::new();
        let mut unreadable = 0;
        let mut new_files = 0;
        // A directory that cannot be listed has nothing to offer.
        if let Ok(mut siblings) = catchup::scan(&self.dir, &self.base, since, &lost, &known) {
            let before: Vec<_> = self.read_before.iter().copied().collect();
            let plan = catchup::plan(&siblings, &known, &before, since, &lost);
            found.copy = plan.copy.and_then(|i| {
                let s = &mut siblings[i];
                Some((s.file.take()?, s.seen, display(&s.name)))
            });
            for (i, pos) in plan.read {
                let s = &mut siblings[i];
                // From byte 0: a file that was at the path unseen. Further
                // on: one let go, written to again.
                new_files += usize::from(pos == 0);
                match s.file.take() {
                    Some(file) => {
                        self.let_go.retain(|k| !k.is(&s.seen, s.created));
                        found
                            .missed
                            .push(Source::new(file, s.seen, pos, Lines::new(), now));
                    }
                    None => unreadable += 1,
                }
            }
            compressed = plan
                .compressed
                .iter()
                .map(|&i| display(&siblings[i].name))
                .collect();
        }
        // Each file found accounts for one that appeared; what is left over
        // appeared and was not found.
        self.balance -= (new_files + compressed.len()) as i64;
        let gone = match self.overflowed {
            true => 0,
            false => self.balance.max(0) as usize,
        };
        self.balance = self.balance.min(0);
        self.overflowed = false;
        self.caught_up_to = wall;
        if new_files > 0 {
            notices.push(Notice::CaughtUp(new_files));
        }
        let missing = gone + unreadable + compressed.len();
        if missing > 0 {
            notices.push(Notice::Missed {
                files: missing,
                compressed: compressed.into_iter().next(),
            });
        }
        found
    }

    /// Every file catch-up must not read again: those held and those let go.
    fn known(&self) -> Vec<Known> {
        let held = self.current.iter().chain(&self.retired);
        held.map(|s| s.known(false))
            .chain(self.let_go.iter().copied())
            .collect()
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
                self.followed = true;
                self.balance -= 1;
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

/// What [`Follower::catch_up`] found to read.
#[derive(Default)]
struct Found {
    /// The copytruncate copy: its handle, identity and name.
    copy: Option<(File, Seen, String)>,
    /// Files missed, opened, oldest first.
    missed: Vec<Source>,
}

/// A file name from the directory, safe to print.
fn display(name: &std::ffi::OsStr) -> String {
    crate::text::sanitize(std::os::unix::ffi::OsStrExt::as_bytes(name)).into_owned()
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
    use super::testdir::Dir;
    use super::*;
    use std::fs::OpenOptions;
    use std::io::Write;

    /// Lines and notices from one poll, owned for comparing.
    #[derive(Debug, PartialEq, Eq)]
    struct Got {
        lines: Vec<String>,
        notices: Vec<Notice>,
    }

    fn poll_at(f: &mut Follower, now: Instant) -> Got {
        let mut lines = Vec::new();
        let poll = f
            .poll_at(now, SystemTime::now(), &mut |l| {
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
            Notice::TruncatedAfterCopy("access.log.1".into()),
            Notice::CaughtUp(2),
            Notice::Missed {
                files: 1,
                compressed: None,
            },
            Notice::Missed {
                files: 2,
                compressed: Some("access.log.2.gz".into()),
            },
            Notice::Polling("too many open files".into()),
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
        assert!(Follower::open(d.root()).is_err());
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

    #[test]
    fn a_start_that_changed_means_rewritten_and_growth_does_not() {
        let short = Fingerprint::of(b"a1\n");
        let other = Fingerprint::of(b"b1\n");
        assert!(!rewritten(None, other.as_ref()), "nothing to compare yet");
        assert!(!rewritten(short.as_ref(), short.as_ref()));
        assert!(rewritten(short.as_ref(), other.as_ref()));
        assert!(rewritten(short.as_ref(), None), "cut inside its first line");
    }

    #[test]
    fn files_renamed_away_between_two_polls_are_found_and_read_in_order() {
        // for i in 1 2 3 4 5; do echo $i >> access.log; mv access.log access.log.$i; done
        let d = Dir::new();
        d.append("access.log", "");
        let mut f = Follower::open(&d.log()).unwrap();
        assert_eq!(poll(&mut f), got(&[], &[]));
        let t = SystemTime::now();
        for i in 1..=5 {
            d.append("access.log", &format!("{i}a\n{i}b\n"));
            // Distinct times, as files that stay at the path for a while.
            d.touch("access.log", t + Duration::from_millis(i));
            d.mv("access.log", &format!("access.log.{i}"));
        }
        d.append("access.log", "new\n");
        let want = [
            "1a", "1b", "2a", "2b", "3a", "3b", "4a", "4b", "5a", "5b", "new",
        ];
        assert_eq!(
            poll(&mut f),
            got(&want, &[Notice::Rotated, Notice::CaughtUp(4)])
        );
        // Held now: never read twice.
        d.append("access.log.3", "late\n");
        assert_eq!(poll(&mut f), got(&["late"], &[]));
    }

    #[test]
    fn a_path_left_empty_after_a_burst_still_gets_its_missed_files_read() {
        // echo a >> access.log; mv access.log access.log.1; echo b >> access.log; mv access.log access.log.2
        let d = Dir::new();
        d.append("access.log", "");
        let mut f = Follower::open(&d.log()).unwrap();
        d.append("access.log", "a\n");
        d.mv("access.log", "access.log.1");
        d.append("access.log", "b\n");
        d.mv("access.log", "access.log.2");
        assert_eq!(
            poll(&mut f),
            got(&["a", "b"], &[Notice::Gone, Notice::CaughtUp(1)])
        );
    }

    #[test]
    fn copytruncate_past_the_old_position_reads_the_copy_then_the_new_content() {
        // echo a3 >> access.log; cp access.log access.log.1; : > access.log; (4 lines) >> access.log
        let d = Dir::new();
        d.append("access.log", "");
        let mut f = Follower::open(&d.log()).unwrap();
        d.append("access.log", "a1\na2\n");
        assert_eq!(poll(&mut f), got(&["a1", "a2"], &[]));
        d.append("access.log", "a3\n");
        d.cp("access.log", "access.log.1");
        d.overwrite("access.log", "b1\nb2\nb3\nb4\n");
        let copy = Notice::TruncatedAfterCopy("access.log.1".into());
        assert_eq!(poll(&mut f), got(&["a3", "b1", "b2", "b3", "b4"], &[copy]));
        d.append("access.log", "b5\n");
        assert_eq!(poll(&mut f), got(&["b5"], &[]));
    }

    #[test]
    fn copytruncate_keeps_a_partial_line_with_the_copy() {
        // printf 'a2 half' >> access.log; cp access.log access.log.1; : > access.log
        let d = Dir::new();
        d.append("access.log", "");
        let mut f = Follower::open(&d.log()).unwrap();
        f.set_linger(Duration::ZERO);
        d.append("access.log", "a1\na2 ha");
        assert_eq!(poll(&mut f), got(&["a1"], &[]));
        d.append("access.log", "lf\na3\n");
        d.cp("access.log", "access.log.1");
        d.overwrite("access.log", "b1\n");
        let copy = Notice::TruncatedAfterCopy("access.log.1".into());
        assert_eq!(poll(&mut f), got(&["a2 half", "a3", "b1"], &[copy]));
    }

    #[test]
    fn a_missed_file_already_compressed_is_skipped_and_reported() {
        // mv access.log access.log.1; (b) > access.log; mv access.log access.log.2; gzip access.log.2
        let d = Dir::new();
        d.append("access.log", "");
        let mut f = Follower::open(&d.log()).unwrap();
        d.append("access.log", "a\n");
        assert_eq!(poll(&mut f), got(&["a"], &[]));
        d.mv("access.log", "access.log.1");
        d.overwrite("access.log.2.gz", "gzip");
        d.touch(
            "access.log.2.gz",
            SystemTime::now() - Duration::from_millis(1),
        );
        d.append("access.log", "c\n");
        let missed = Notice::Missed {
            files: 1,
            compressed: Some("access.log.2.gz".into()),
        };
        assert_eq!(poll(&mut f), got(&["c"], &[Notice::Rotated, missed]));
    }

    /// A follower watching with inotify, past its first poll.
    fn watched(d: &Dir) -> Follower {
        d.append("access.log", "");
        let mut f = Follower::open(&d.log()).unwrap();
        let _ = f.watch(true);
        assert!(f.has_events(), "inotify on a temp dir");
        assert_eq!(poll(&mut f), got(&[], &[]));
        f
    }

    #[test]
    fn with_inotify_a_file_deleted_before_it_was_opened_is_reported_missing() {
        // mv access.log access.log.1; echo b > access.log; rm access.log; echo c > access.log
        let d = Dir::new();
        let mut f = watched(&d);
        d.append("access.log", "a\n");
        assert_eq!(poll(&mut f), got(&["a"], &[]));
        d.mv("access.log", "access.log.1");
        d.append("access.log", "b\n");
        d.rm("access.log");
        d.append("access.log", "c\n");
        let missed = Notice::Missed {
            files: 1,
            compressed: None,
        };
        assert_eq!(poll(&mut f), got(&["c"], &[Notice::Rotated, missed]));
        assert_eq!(poll(&mut f), got(&[], &[]));
    }

    #[test]
    fn with_inotify_files_renamed_away_unseen_are_all_accounted_for() {
        // for i in 1 2 3; do echo $i >> access.log; mv access.log access.log.$i; done; touch access.log
        let d = Dir::new();
        let mut f = watched(&d);
        for i in 1..=3 {
            d.append("access.log", &format!("{i}\n"));
            d.mv("access.log", &format!("access.log.{i}"));
        }
        d.append("access.log", "");
        let mut got = poll(&mut f);
        got.lines.sort();
        assert_eq!(
            got,
            self::got(&["1", "2", "3"], &[Notice::Rotated, Notice::CaughtUp(2)])
        );
        // Every appearance was matched by a file: nothing is said later.
        assert_eq!(poll(&mut f), self::got(&[], &[]));
    }

    #[test]
    fn with_inotify_a_plain_rename_rotation_needs_no_search() {
        // mv access.log access.log.1 && touch access.log, and an unrelated recent access.log.7
        let d = Dir::new();
        let mut f = watched(&d);
        d.append("access.log.7", "not ours\n");
        d.mv("access.log", "access.log.1");
        d.append("access.log", "n\n");
        // Without inotify, access.log.7 would pass for a missed file.
        assert_eq!(poll(&mut f), got(&["n"], &[Notice::Rotated]));
    }

    #[test]
    fn the_fingerprint_comes_from_the_bytes_read_not_from_a_later_look() {
        // echo a1 >> access.log; (logmon reads it); cp access.log access.log.1;
        // printf 'b1\nb2\nb3\n' > access.log   (longer than what was read)
        let d = Dir::new();
        d.append("access.log", "");
        let mut f = Follower::open(&d.log()).unwrap();
        d.append("access.log", "a1\n");
        assert_eq!(poll(&mut f), got(&["a1"], &[]));
        assert_eq!(f.current.as_ref().unwrap().print, Fingerprint::of(b"a1\n"));
        d.cp("access.log", "access.log.1");
        d.overwrite("access.log", "b1\nb2\nb3\n");
        let copy = Notice::TruncatedAfterCopy("access.log.1".into());
        assert_eq!(poll(&mut f), got(&["b1", "b2", "b3"], &[copy]));
    }

    #[test]
    fn with_inotify_an_empty_file_renamed_away_unseen_is_kept_for_late_writes() {
        // mv access.log access.log.1; touch access.log; mv access.log access.log.2; touch access.log
        // (a writer that reopened in between writes to access.log.2 later)
        let d = Dir::new();
        let mut f = watched(&d);
        d.mv("access.log", "access.log.1");
        d.append("access.log", "");
        d.mv("access.log", "access.log.2");
        d.append("access.log", "");
        assert_eq!(
            poll(&mut f),
            got(&[], &[Notice::Rotated, Notice::CaughtUp(1)])
        );
        d.append("access.log.2", "late\n");
        assert_eq!(poll(&mut f), got(&["late"], &[]));
    }

    #[test]
    fn a_sibling_written_just_before_the_start_is_not_read_from_its_start() {
        // (access.log.1 rotated a moment ago; its writer has not reopened)
        // logmon access.log; echo late >> access.log.1; mv access.log access.log.2; touch access.log
        let d = Dir::new();
        d.append("access.log.1", "before the start\n");
        d.append("access.log", "");
        let mut f = Follower::open(&d.log()).unwrap();
        d.append("access.log.1", "late\n");
        d.mv("access.log", "access.log.2");
        d.append("access.log", "");
        assert_eq!(poll(&mut f), got(&["late"], &[Notice::Rotated]));
    }

    #[test]
    fn a_watched_directory_removed_turns_watching_into_polling() {
        // mkdir logs; logmon logs/access.log; rm -r logs
        let d = Dir::new();
        fs::create_dir(d.path("logs")).unwrap();
        d.append("logs/access.log", "");
        let mut f = Follower::open(&d.path("logs/access.log")).unwrap();
        let _ = f.watch(true);
        assert!(f.has_events());
        f.set_linger(Duration::ZERO);
        fs::remove_dir_all(d.path("logs")).unwrap();
        // The file held open keeps the directory until it is let go.
        assert_eq!(poll(&mut f), got(&[], &[Notice::Gone]));
        let next = poll(&mut f);
        assert!(matches!(next.notices[..], [Notice::Polling(_)]), "{next:?}");
        assert!(!f.has_events());
        assert_eq!(poll(&mut f), got(&[], &[]));
    }

    #[test]
    fn with_hundreds_of_rotated_files_held_idle_ones_go_after_a_second() {
        // for i in $(seq 300); do mv access.log access.log.$i; touch access.log; done
        let d = Dir::new();
        d.append("access.log", "");
        let mut f = Follower::open(&d.log()).unwrap();
        let t0 = Instant::now();
        for i in 0..CROWDED + 10 {
            d.mv("access.log", &format!("access.log.{i}"));
            d.append("access.log", "");
            poll_at(&mut f, t0);
        }
        assert_eq!(f.retired.len(), CROWDED + 10);
        poll_at(&mut f, t0 + Duration::from_millis(500));
        assert_eq!(f.retired.len(), CROWDED + 10, "not idle for long enough");
        poll_at(&mut f, t0 + CROWDED_LINGER);
        assert_eq!(f.retired.len(), CROWDED, "let go down to the limit");
    }
}
