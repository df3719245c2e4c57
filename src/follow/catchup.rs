//! Catching up after rotations logmon did not see happen: the rotated
//! siblings of the log (`access.log.1`, `access.log-20260301`, ...) that
//! hold lines it has not read.
//!
//! Two things can leave lines behind in the directory. A burst of rotations
//! (or polling) can put files at the path and rename them away before
//! logmon opened them: those were written after logmon last looked, and it
//! never held them. And `copytruncate` copies the log and truncates it: the
//! lines between logmon's position and the copy's end are only in the copy,
//! which starts like the file logmon was reading.
//!
//! [`scan`] lists the siblings (the only I/O here: a directory listing, a
//! `stat` each, and an open and a 4 KiB read for the few that may matter),
//! and [`plan`] decides, as a pure function of what was listed and what
//! logmon knows, which to read and from where.
//!
//! Invariants:
//! - A file logmon holds is never read again through a sibling: it is
//!   recognised by identity (device and inode). A copy of the truncated
//!   file, recognised by its fingerprint, is read only past the position.
//! - A file logmon let go is resumed where it stopped, never reread.
//! - Compressed siblings are never read; those that may hold missed lines
//!   are reported, so the caller can say lines may be missing.

use std::ffi::{OsStr, OsString};
use std::fs::{self, File};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::{Duration, SystemTime};

use super::fingerprint::Fingerprint;
use super::Seen;

/// How far before the last look a missed file's modification time may
/// fall: file times come from a coarse clock (a few ms behind the one
/// logmon reads) and some filesystems keep whole seconds (FAT two).
pub const CLOCK_SLACK: Duration = Duration::from_secs(2);

/// Suffixes of compressed rotated files (gzip, bzip2, xz, zstd, lz4, lzma,
/// compress, brotli, lzop).
const COMPRESSED: [&str; 9] = [
    ".gz", ".bz2", ".xz", ".zst", ".lz4", ".lzma", ".Z", ".br", ".lzo",
];

/// How a name relates to the log's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotated {
    /// A rotated copy that can be read (`access.log.1`).
    Plain,
    /// A compressed one (`access.log.2.gz`).
    Compressed,
}

/// Whether `name` is a rotated name of the log `base`: `base` then `.`,
/// `-` or `_` and a stamp of digits, `-` and `_` starting with a digit
/// (`access.log.1`, `access.log.0`, `access.log-20260301`,
/// `access.log-20260301-1772366400`), or the same stamp before the
/// extension (`access-20260301.log`, logrotate's `extension`); either one
/// may end in a compression suffix.
pub fn rotated_name(base: &OsStr, name: &OsStr) -> Option<Rotated> {
    let (base, name) = (base.as_bytes(), name.as_bytes());
    let (name, kind) = match COMPRESSED
        .iter()
        .find_map(|ext| name.strip_suffix(ext.as_bytes()))
    {
        Some(rest) => (rest, Rotated::Compressed),
        None => (name, Rotated::Plain),
    };
    if name.strip_prefix(base).is_some_and(is_stamp) {
        return Some(kind);
    }
    // `access-20260301.log`: the stamp goes between the stem and the
    // extension.
    let dot = base.iter().rposition(|&b| b == b'.').filter(|&i| i > 0)?;
    let (stem, ext) = base.split_at(dot);
    let middle = name.strip_prefix(stem)?.strip_suffix(ext)?;
    is_stamp(middle).then_some(kind)
}

/// A separator then a stamp (see [`rotated_name`]).
fn is_stamp(s: &[u8]) -> bool {
    match s {
        [sep, first, rest @ ..] => {
            matches!(sep, b'.' | b'-' | b'_')
                && first.is_ascii_digit()
                && rest
                    .iter()
                    .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'_'))
        }
        _ => false,
    }
}

/// A rotated sibling, as [`scan`] found it.
#[derive(Debug)]
pub struct Sibling {
    pub name: OsString,
    /// Identity and length when listed.
    pub seen: Seen,
    pub modified: SystemTime,
    /// Creation time, where the filesystem keeps one: the order in which
    /// files appeared at the path.
    pub created: Option<SystemTime>,
    pub kind: Rotated,
    /// Set for the siblings that may matter (see [`worth_opening`]).
    pub print: Option<Fingerprint>,
    /// The open handle, for the same siblings, so that the one read is the
    /// one decided on even if it is renamed meanwhile.
    pub file: Option<File>,
}

/// A file logmon holds or has let go.
#[derive(Debug, Clone, Copy)]
pub struct Known {
    pub seen: Seen,
    pub print: Option<Fingerprint>,
    /// Its modification time: a compressed sibling with the same one is a
    /// compressed copy of it (gzip, xz, zstd and bzip2 keep the time).
    pub modified: Option<SystemTime>,
    /// Its creation time, where the filesystem keeps one: a file let go
    /// and deleted frees its inode number for the next new file, and only
    /// this tells them apart.
    pub created: Option<SystemTime>,
    /// For a file let go: where reading stopped. `None` for a file held.
    pub resume: Option<u64>,
}

/// What made logmon look for siblings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lost {
    /// Another file is at the path, or none: files that came and went
    /// since logmon last looked may be in the directory.
    Rotated,
    /// The file logmon reads was truncated or rewritten when it had read
    /// `pos` bytes of it; a copy made just before (copytruncate) starts
    /// like it did (`print`) and holds its lines from `pos` on.
    Truncated {
        print: Option<Fingerprint>,
        pos: u64,
    },
}

/// What to read, by index into the siblings.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// The copytruncate copy, to read from the old position to its end.
    pub copy: Option<usize>,
    /// Files to read, in the order they were at the path (oldest first),
    /// each with the byte to start at: 0 for a missed file, where reading
    /// stopped for one let go and written to since.
    pub read: Vec<(usize, u64)>,
    /// Compressed siblings that may hold lines logmon has not read: written
    /// since it last looked, and not a compressed copy of a file it knows.
    pub compressed: Vec<usize>,
}

#[cfg(test)]
impl Plan {
    fn is_empty(&self) -> bool {
        self.copy.is_none() && self.read.is_empty() && self.compressed.is_empty()
    }
}

impl Known {
    /// Whether `seen`, created at `created`, is this file: the same device
    /// and inode, and the same creation time when both are known.
    pub fn is(&self, seen: &Seen, created: Option<SystemTime>) -> bool {
        self.seen.same_file(seen)
            && match (self.created, created) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

/// Whether a sibling listed with `seen` and `modified` is worth opening and
/// fingerprinting: it was written since `since` (less [`CLOCK_SLACK`]), or
/// it could be the copytruncate copy (at least as long as the position),
/// or it is a file let go (to check that it is the same one), and it is not
/// a file logmon holds.
pub fn worth_opening(
    seen: &Seen,
    (modified, created): (SystemTime, Option<SystemTime>),
    since: SystemTime,
    lost: &Lost,
    known: &[Known],
) -> bool {
    match known.iter().find(|k| k.is(seen, created)) {
        Some(k) => k.resume.is_some(),
        None => {
            recent(modified, since)
                || matches!(lost, Lost::Truncated { print: Some(_), pos } if seen.len >= *pos)
        }
    }
}

fn recent(modified: SystemTime, since: SystemTime) -> bool {
    modified >= since.checked_sub(CLOCK_SLACK).unwrap_or(since)
}

/// Decides what to read among `siblings` (see [`Plan`]), given the files
/// logmon knows, the fingerprints of what it read from the followed file
/// before earlier truncations (`read_before`: their copies are not read
/// again), the wall time `since` when it last saw the followed file in
/// place, and what it lost.
pub fn plan(
    siblings: &[Sibling],
    known: &[Known],
    read_before: &[Fingerprint],
    since: SystemTime,
    lost: &Lost,
) -> Plan {
    let mut plan = Plan::default();
    let mut missed = Vec::new();
    for (i, s) in siblings.iter().enumerate() {
        if s.kind == Rotated::Compressed {
            let copy_of_known = known.iter().any(|k| k.modified == Some(s.modified));
            if recent(s.modified, since) && !copy_of_known {
                plan.compressed.push(i);
            }
            continue;
        }
        if let Some(k) = known.iter().find(|k| k.is(&s.seen, s.created)) {
            // Held: read through its own handle. Let go: resume it if it
            // was written to since (and is the same file, not a reused
            // inode).
            if let Some(pos) = k.resume {
                let same = match (k.print, s.print) {
                    (Some(a), Some(b)) => a.matches(&b),
                    _ => true,
                };
                if same && s.seen.len > pos && s.file.is_some() {
                    missed.push((i, pos));
                }
            }
            continue;
        }
        let Some(print) = s.print else {
            // No complete first line: a missed file just begun, or still
            // empty (its writer may still write to it, and it accounts for
            // one file that came and went).
            if recent(s.modified, since) && s.file.is_some() {
                missed.push((i, 0));
            }
            continue;
        };
        if let Lost::Truncated {
            print: Some(lost),
            pos,
        } = lost
        {
            if lost.matches(&print) {
                // A copy of the truncated file. Of several, the newest is
                // this truncation's; one shorter than the position holds
                // nothing unread.
                let newer = plan
                    .copy
                    .is_none_or(|c: usize| s.modified > siblings[c].modified);
                if newer && s.seen.len >= *pos {
                    plan.copy = Some(i);
                }
                continue;
            }
        }
        // A copy made at an earlier truncation (copytruncate every few
        // seconds): what it holds was read, or lost before the copy.
        if read_before.iter().any(|p| p.matches(&print)) {
            continue;
        }
        // NOTE: a file that merely starts like one logmon holds is still
        // read: in a burst of rotations several files can begin with the
        // same line (a health check), and only identity tells them apart.
        if recent(s.modified, since) {
            missed.push((i, 0));
        }
    }
    if let Some(c) = plan.copy {
        missed.retain(|&(i, _)| i != c);
    }
    // The order the files were at the path: by creation where known, then
    // by last write, then by inode (new files mostly get higher numbers).
    missed.sort_by_key(|&(i, _)| {
        let s = &siblings[i];
        (s.created.unwrap_or(s.modified), s.modified, s.seen.ino)
    });
    plan.read = missed;
    plan
}

/// Lists the rotated siblings of `base` in `dir`, with their metadata,
/// opening and fingerprinting those [`worth_opening`]. Entries that vanish
/// or cannot be read while listed are left out.
pub fn scan(
    dir: &Path,
    base: &OsStr,
    since: SystemTime,
    lost: &Lost,
    known: &[Known],
) -> io::Result<Vec<Sibling>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)? {
        let Ok(entry) = entry else { continue };
        let name = entry.file_name();
        let Some(kind) = rotated_name(base, &name) else {
            continue;
        };
        let path = entry.path();
        let Ok(meta) = fs::metadata(&path) else {
            continue;
        };
        let Ok(modified) = meta.modified() else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let mut sibling = Sibling {
            name,
            seen: Seen::of(&meta),
            modified,
            created: meta.created().ok(),
            kind,
            print: None,
            file: None,
        };
        let times = (modified, sibling.created);
        if kind == Rotated::Plain && worth_opening(&sibling.seen, times, since, lost, known) {
            if let Ok(file) = File::open(&path) {
                // The listing and the open must see the same file, or a
                // rename in between could attach one's data to the other.
                let now = file.metadata().map(|m| Seen::of(&m));
                if now.is_ok_and(|now| now.same_file(&sibling.seen)) {
                    sibling.print = Fingerprint::read(&file).ok().flatten();
                    sibling.file = Some(file);
                }
            }
        }
        out.push(sibling);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::testdir::Dir;
    use super::*;

    #[test]
    fn rotated_names_are_recognised_and_others_are_not() {
        let base = OsStr::new("access.log");
        let is = |name: &str| rotated_name(base, OsStr::new(name));
        for name in [
            "access.log.1",
            "access.log.0",
            "access.log.12",
            "access.log-20260301",
            "access.log-2026030112",
            "access.log-20260301-1772366400",
            "access.log_2026-03-01",
            "access-20260301.log",
        ] {
            assert_eq!(is(name), Some(Rotated::Plain), "{name}");
        }
        for name in [
            "access.log.1.gz",
            "access.log-20260301.xz",
            "access.log.3.zst",
        ] {
            assert_eq!(is(name), Some(Rotated::Compressed), "{name}");
        }
        for name in [
            "access.log",
            "access.log.",
            "access.log.bak",
            "access.log.swp",
            "access.log.1x",
            "access.log1",
            "error.log.1",
            "xaccess.log.1",
            "access.log.gz",
        ] {
            assert_eq!(is(name), None, "{name}");
        }
        // A name without an extension has only the first form.
        assert_eq!(
            rotated_name(OsStr::new("log"), OsStr::new("log.1")),
            Some(Rotated::Plain)
        );
        assert_eq!(rotated_name(OsStr::new(".log"), OsStr::new("-1.log")), None);
    }

    /// The siblings of `access.log` in `d`, by name.
    fn scan_dir(d: &Dir, since: SystemTime, lost: &Lost, known: &[Known]) -> Vec<Sibling> {
        let base = OsStr::new("access.log");
        let mut s = scan(d.root(), base, since, lost, known).unwrap();
        s.sort_by(|a, b| a.name.cmp(&b.name));
        s
    }

    fn names(siblings: &[Sibling], plan: &Plan) -> Vec<(String, u64)> {
        plan.read
            .iter()
            .map(|&(i, pos)| (siblings[i].name.to_string_lossy().into_owned(), pos))
            .collect()
    }

    fn held(seen: Seen, text: &str) -> Known {
        Known {
            seen,
            print: Fingerprint::of(text.as_bytes()),
            modified: None,
            created: None,
            resume: None,
        }
    }

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn files_written_since_the_last_look_are_read_in_order_from_byte_0() {
        // mv access.log access.log.1; (write a.2); mv access.log access.log.2; ...
        let d = Dir::new();
        let now = SystemTime::now();
        let since = now - Duration::from_secs(10);
        d.file("access.log.9", "yesterday\n", now - 24 * HOUR);
        let ours = d.file("access.log.1", "ours\n", now - Duration::from_secs(1));
        d.file("access.log.2", "b\n", now - Duration::from_millis(600));
        d.file("access.log.3", "c\n", now - Duration::from_millis(300));
        d.file("access.log", "current\n", now);
        let known = [held(ours, "ours\n")];
        let siblings = scan_dir(&d, since, &Lost::Rotated, &known);
        let plan = plan(&siblings, &known, &[], since, &Lost::Rotated);
        assert_eq!(
            names(&siblings, &plan),
            [("access.log.2".into(), 0), ("access.log.3".into(), 0)]
        );
        assert_eq!(plan.copy, None);
        assert!(plan.compressed.is_empty());
        // Only the recent files were opened.
        let opened: Vec<_> = siblings.iter().filter(|s| s.file.is_some()).collect();
        assert_eq!(opened.len(), 2);
    }

    #[test]
    fn the_file_logmon_holds_is_found_by_inode_and_not_read_again() {
        // mv access.log access.log.1 && touch access.log   (logmon holds access.log.1)
        let d = Dir::new();
        let now = SystemTime::now();
        let ours = d.file("access.log.1", "ours\nmore\n", now);
        let known = [held(ours, "ours\n")];
        let siblings = scan_dir(&d, now - HOUR, &Lost::Rotated, &known);
        assert_eq!(siblings.len(), 1);
        assert!(siblings[0].file.is_none(), "not even opened");
        assert!(plan(&siblings, &known, &[], now - HOUR, &Lost::Rotated).is_empty());
    }

    #[test]
    fn a_new_file_that_starts_like_the_one_logmon_holds_is_still_read() {
        // (two files of a burst begin with the same health check line)
        let d = Dir::new();
        let now = SystemTime::now();
        let ours = d.file("access.log.1", "GET /health\n", now);
        d.file("access.log.2", "GET /health\nGET /\n", now);
        let known = [held(ours, "GET /health\n")];
        let siblings = scan_dir(&d, now - HOUR, &Lost::Rotated, &known);
        let plan = plan(&siblings, &known, &[], now - HOUR, &Lost::Rotated);
        assert_eq!(names(&siblings, &plan), [("access.log.2".into(), 0)]);
    }

    #[test]
    fn the_copytruncate_copy_is_read_from_the_old_position() {
        // cp access.log access.log.1; : > access.log   (logmon had read 2 lines)
        let d = Dir::new();
        let now = SystemTime::now();
        let text = "l1\nl2\nl3\nl4\n";
        let ours = d.file("access.log", "", now);
        // An older copy from the day before, starting otherwise.
        d.file("access.log.2", "old\nold\nold\nold\nold\n", now - 24 * HOUR);
        d.file("access.log.1", text, now - Duration::from_millis(50));
        let lost = Lost::Truncated {
            print: Fingerprint::of(text.as_bytes()),
            pos: 6,
        };
        let known = [held(ours, text)];
        let siblings = scan_dir(&d, now, &lost, &known);
        let plan = plan(&siblings, &known, &[], now, &lost);
        let copy = plan.copy.expect("a copy");
        assert_eq!(siblings[copy].name, "access.log.1");
        assert!(plan.read.is_empty() && plan.compressed.is_empty());
    }

    #[test]
    fn a_copy_shorter_than_the_position_has_nothing_left_to_read() {
        // (logmon read past the copy's end before the truncate)
        let d = Dir::new();
        let now = SystemTime::now();
        let ours = d.file("access.log", "", now);
        d.file("access.log.1", "l1\nl2\n", now);
        let lost = Lost::Truncated {
            print: Fingerprint::of(b"l1\n"),
            pos: 9,
        };
        let known = [held(ours, "l1\n")];
        let siblings = scan_dir(&d, now, &lost, &known);
        assert!(plan(&siblings, &known, &[], now, &lost).is_empty());
    }

    #[test]
    fn a_file_let_go_and_written_to_since_is_resumed_where_it_stopped() {
        // (logmon let access.log.1 go after 5 s idle; its writer wrote again)
        let d = Dir::new();
        let now = SystemTime::now();
        let left = d.file("access.log.1", "a\nb\nlate\n", now);
        let known = [Known {
            seen: left,
            print: Fingerprint::of(b"a\n"),
            modified: Some(now - HOUR),
            created: fs::metadata(d.path("access.log.1")).unwrap().created().ok(),
            resume: Some(4),
        }];
        let siblings = scan_dir(&d, now - Duration::from_secs(1), &Lost::Rotated, &known);
        let plan = plan(&siblings, &known, &[], now, &Lost::Rotated);
        assert_eq!(names(&siblings, &plan), [("access.log.1".into(), 4)]);
    }

    #[test]
    fn a_recent_compressed_sibling_is_reported_unless_it_is_a_known_file_compressed() {
        // gzip access.log.2 (missed); gzip access.log.1 (logmon read it)
        let d = Dir::new();
        let now = SystemTime::now();
        let ours_modified = now - Duration::from_millis(700);
        d.file("access.log.1.gz", "gzip", ours_modified);
        d.file("access.log.2.gz", "gzip", now - Duration::from_millis(300));
        d.file("access.log.3.gz", "gzip", now - 24 * HOUR);
        let known = [Known {
            seen: Seen {
                dev: 0,
                ino: 0,
                len: 0,
            },
            print: None,
            modified: Some(ours_modified),
            created: None,
            resume: None,
        }];
        let since = now - Duration::from_secs(1);
        let siblings = scan_dir(&d, since, &Lost::Rotated, &known);
        assert!(siblings.iter().all(|s| s.file.is_none()), "never opened");
        let plan = plan(&siblings, &known, &[], since, &Lost::Rotated);
        let names: Vec<_> = plan.compressed.iter().map(|&i| &siblings[i].name).collect();
        assert_eq!(names, ["access.log.2.gz"]);
        assert!(plan.read.is_empty());
    }

    #[test]
    fn nothing_is_found_when_no_sibling_is_new() {
        // ls: access.log access.log.1 access.log.2.gz error.log.1, all old
        let d = Dir::new();
        let now = SystemTime::now();
        d.file("access.log.1", "x\n", now - HOUR);
        d.file("access.log.2.gz", "x", now - 2 * HOUR);
        d.file("error.log.1", "x\n", now);
        d.file("access.log", "x\n", now);
        let siblings = scan_dir(&d, now, &Lost::Rotated, &[]);
        assert_eq!(siblings.len(), 2);
        assert!(plan(&siblings, &[], &[], now, &Lost::Rotated).is_empty());
    }

    #[test]
    fn a_new_file_on_the_inode_of_one_let_go_is_read_from_byte_0() {
        // (logmon let access.log.1 go; it was deleted; a new file got its inode)
        let d = Dir::new();
        let now = SystemTime::now();
        let reused = d.file("access.log.1", "same line\nnew\n", now);
        let known = [Known {
            seen: reused,
            print: Fingerprint::of(b"same line\n"),
            modified: Some(now - HOUR),
            created: Some(now - HOUR),
            resume: Some(10),
        }];
        let siblings = scan_dir(&d, now - Duration::from_secs(1), &Lost::Rotated, &known);
        let plan = plan(&siblings, &known, &[], now, &Lost::Rotated);
        if siblings[0].created.is_some() {
            assert_eq!(names(&siblings, &plan), [("access.log.1".into(), 0)]);
        } else {
            // Without creation times it cannot be told from the old one.
            assert_eq!(names(&siblings, &plan), [("access.log.1".into(), 10)]);
        }
    }

    #[test]
    fn a_copy_from_an_earlier_truncation_is_not_read_again() {
        // copytruncate every 2 s: access.log.2 holds what logmon read before
        // the last truncation (it had read past the copy's end)
        let d = Dir::new();
        let now = SystemTime::now();
        let ours = d.file("access.log", "", now);
        d.file(
            "access.log.2",
            "old1\nold2\n",
            now - Duration::from_millis(1500),
        );
        d.file("access.log.1", "new1\nnew2\n", now);
        let lost = Lost::Truncated {
            print: Fingerprint::of(b"new1\n"),
            pos: 5,
        };
        let known = [held(ours, "")];
        let before = [Fingerprint::of(b"old1\n").unwrap()];
        let siblings = scan_dir(&d, now, &lost, &known);
        let plan = plan(&siblings, &known, &before, now, &lost);
        assert_eq!(siblings[plan.copy.unwrap()].name, "access.log.1");
        assert!(plan.read.is_empty(), "{:?}", names(&siblings, &plan));
    }
}
