//! Waiting for followed files to change: inotify on Linux, a timer
//! elsewhere, and in both cases a wake request from another thread.
//!
//! One [`Watcher`] serves every file a reader thread follows. It owns one
//! inotify instance (when there is one) and a pipe that a [`Waker`] writes
//! to. A follower registers the directory of its path and the name in it
//! ([`Watcher::watch`]); each event read is routed to the registrations it
//! concerns (the name, or a rotated name of it), whose [`Tally`] counts the
//! files that appeared at the name. So followers sharing a watcher learn
//! what concerns them whichever of them reads the events.
//!
//! Invariants:
//! - Events only wake the reader and count appearances: the follower still
//!   decides by looking at the files. A lost or merged event costs latency
//!   (until the next event or the slow safety-net poll), never a line.
//! - Nothing here blocks but [`Watcher::wait`], and that ends at the
//!   latest at its timeout.
//! - Events logmon causes itself (opening and reading files) are not
//!   watched, so reading never wakes the reader.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec};

use super::catchup::rotated_name;

/// What ended a [`Watcher::wait`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Woke {
    /// The timeout passed with nothing to report.
    Timeout,
    /// A [`Waker`] asked for a read.
    Request,
    /// A watched name or one of its rotated siblings changed.
    Events,
}

/// What the events routed to one registration said, read by its follower.
#[derive(Debug, Default)]
pub struct Tally {
    /// Files that appeared at the name (created, or moved or linked there),
    /// since the watch began.
    appeared: AtomicU64,
    /// The kernel's queue overflowed: events were dropped, counts are off.
    overflowed: AtomicBool,
    /// The watch ended (the directory was removed or unmounted).
    lost: AtomicBool,
}

impl Tally {
    /// Files that appeared at the name since the watch began.
    pub fn appeared(&self) -> u64 {
        self.appeared.load(Ordering::Relaxed)
    }

    /// Whether events were dropped since the last call.
    pub fn take_overflowed(&self) -> bool {
        self.overflowed.swap(false, Ordering::Relaxed)
    }

    /// Whether the watch has ended.
    pub fn lost(&self) -> bool {
        self.lost.load(Ordering::Relaxed)
    }
}

struct Route {
    wd: i32,
    name: OsString,
    tally: Arc<Tally>,
}

/// Asks the thread in [`Watcher::wait`] to return at once. Cheap to clone
/// and to call from any thread; requests made before the wait are not lost.
#[derive(Clone, Debug, Default)]
pub struct Waker {
    pipe: Option<Arc<OwnedFd>>,
}

impl Waker {
    /// Wake the waiting reader (or make its next wait return at once).
    pub fn wake(&self) {
        if let Some(pipe) = &self.pipe {
            // A full pipe already holds a request: nothing is lost.
            let _ = rustix::io::write(&**pipe, b"w");
        }
    }
}

/// One inotify instance and one wake pipe (see the module notes).
pub struct Watcher {
    inotify: Option<OwnedFd>,
    /// Why there is no inotify, when it was wanted and is not there.
    unavailable: Option<String>,
    wake_rx: Option<OwnedFd>,
    wake_tx: Option<Arc<OwnedFd>>,
    routes: Mutex<Vec<Route>>,
}

/// A name watched in a directory; the watch ends when this is dropped.
pub struct Registration {
    watcher: Arc<Watcher>,
    wd: i32,
    tally: Arc<Tally>,
}

impl Registration {
    /// What the events said about the name.
    pub fn tally(&self) -> &Tally {
        &self.tally
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut routes = self.watcher.routes();
        routes.retain(|r| !Arc::ptr_eq(&r.tally, &self.tally));
        // The kernel gives one watch per directory, shared by every name
        // in it: remove it with the last of them.
        if !routes.iter().any(|r| r.wd == self.wd) {
            if let Some(fd) = &self.watcher.inotify {
                platform::remove(fd, self.wd);
            }
        }
    }
}

impl Watcher {
    /// A watcher with inotify if `inotify` is set and the system has it,
    /// else one that only waits for its timeout or a wake request.
    pub fn new(inotify: bool) -> Arc<Watcher> {
        let (inotify, unavailable) = match inotify {
            true => match platform::init() {
                Ok(fd) => (Some(fd), None),
                Err(e) => (None, Some(e)),
            },
            false => (None, None),
        };
        let (wake_rx, wake_tx) = match wake_pipe() {
            Ok((rx, tx)) => (Some(rx), Some(Arc::new(tx))),
            // Without a pipe, waits last their whole timeout.
            Err(_) => (None, None),
        };
        Arc::new(Watcher {
            inotify,
            unavailable,
            wake_rx,
            wake_tx,
            routes: Mutex::new(Vec::new()),
        })
    }

    /// A handle that wakes this watcher's [`Watcher::wait`].
    pub fn waker(&self) -> Waker {
        Waker {
            pipe: self.wake_tx.clone(),
        }
    }

    /// Whether events come from inotify (otherwise only timeouts and wake
    /// requests end a wait).
    pub fn has_inotify(&self) -> bool {
        self.inotify.is_some()
    }

    /// Why inotify was wanted and is not there ("too many open files").
    pub fn unavailable(&self) -> Option<&str> {
        self.unavailable.as_deref()
    }

    /// Watch `name` in `dir`: files appearing at it, and changes to it and
    /// to its rotated siblings. Fails without inotify, when the directory
    /// cannot be watched (missing, no permission, the watch limit
    /// reached), or when it is on a network filesystem, where inotify does
    /// not see changes made by other machines.
    pub fn watch(self: &Arc<Self>, dir: &Path, name: &OsStr) -> io::Result<Registration> {
        let Some(fd) = &self.inotify else {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "inotify is not available",
            ));
        };
        if let Some(kind) = platform::network_filesystem(dir) {
            return Err(io::Error::other(format!(
                "on a network filesystem ({kind})"
            )));
        }
        let wd = platform::add(fd, dir)?;
        let tally = Arc::new(Tally::default());
        self.routes().push(Route {
            wd,
            name: name.to_os_string(),
            tally: tally.clone(),
        });
        Ok(Registration {
            watcher: self.clone(),
            wd,
            tally,
        })
    }

    fn routes(&self) -> std::sync::MutexGuard<'_, Vec<Route>> {
        // The routes stay consistent even if a holder panicked.
        self.routes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reads the events already queued, without blocking, and routes them.
    /// Returns whether any concerned a registration.
    pub fn pump(&self) -> bool {
        let Some(fd) = &self.inotify else {
            return false;
        };
        let routes = self.routes();
        let mut any = false;
        platform::drain(fd, |event| match event {
            Event::Overflow => {
                for r in routes.iter() {
                    r.tally.overflowed.store(true, Ordering::Relaxed);
                }
                any = true;
            }
            Event::Ended { wd } => {
                for r in routes.iter().filter(|r| r.wd == wd) {
                    r.tally.lost.store(true, Ordering::Relaxed);
                    any = true;
                }
            }
            Event::Named { wd, name, appeared } => {
                for r in routes.iter().filter(|r| r.wd == wd) {
                    if name == r.name {
                        if appeared {
                            r.tally.appeared.fetch_add(1, Ordering::Relaxed);
                        }
                        any = true;
                    } else if rotated_name(&r.name, name).is_some() {
                        any = true;
                    }
                }
            }
        });
        any
    }

    /// Waits until a watched name changes, a [`Waker`] asks, or `timeout`
    /// passes. Events that concern no registration (other files in the
    /// directory) are read and the wait goes on.
    pub fn wait(&self, timeout: Duration) -> Woke {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let (request, events) = self.poll(left);
            if request {
                return Woke::Request;
            }
            if events && self.pump() {
                return Woke::Events;
            }
            if Instant::now() >= deadline {
                return Woke::Timeout;
            }
        }
    }

    /// One poll(2) over the wake pipe and the inotify instance: which of
    /// them is readable. A wake request is consumed here.
    fn poll(&self, timeout: Duration) -> (bool, bool) {
        let mut fds = Vec::with_capacity(2);
        if let Some(rx) = &self.wake_rx {
            fds.push(PollFd::new(rx, PollFlags::IN));
        }
        if let Some(fd) = &self.inotify {
            fds.push(PollFd::new(fd, PollFlags::IN));
        }
        if fds.is_empty() {
            std::thread::sleep(timeout);
            return (false, false);
        }
        let spec = Timespec::try_from(timeout).ok();
        match rustix::event::poll(&mut fds, spec.as_ref()) {
            Ok(_) => {}
            // Interrupted (a signal): the caller's loop polls again.
            Err(rustix::io::Errno::INTR) => return (false, false),
            Err(_) => {
                std::thread::sleep(timeout.min(Duration::from_millis(100)));
                return (false, false);
            }
        }
        let ready = |fd: &PollFd<'_>| !fd.revents().is_empty();
        let (request, events) = match (&self.wake_rx, fds.as_slice()) {
            (Some(_), [wake, rest @ ..]) => (ready(wake), rest.first().is_some_and(ready)),
            (_, fds) => (false, fds.first().is_some_and(ready)),
        };
        drop(fds);
        if request {
            if let Some(rx) = &self.wake_rx {
                let mut buf = [0u8; 64];
                while matches!(rustix::io::read(rx, &mut buf), Ok(n) if n > 0) {}
            }
        }
        (request, events)
    }
}

/// A non-blocking, close-on-exec pipe: (read end, write end).
fn wake_pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let (rx, tx) = rustix::pipe::pipe()?;
    for fd in [&rx, &tx] {
        rustix::io::ioctl_fionbio(fd, true)?;
        rustix::io::fcntl_setfd(fd, rustix::io::FdFlags::CLOEXEC)?;
    }
    Ok((rx, tx))
}

/// One inotify event, as the router needs it.
enum Event<'a> {
    /// Something happened to `name` in the directory watched as `wd`;
    /// `appeared` if a file was created or moved there.
    Named {
        wd: i32,
        name: &'a OsStr,
        appeared: bool,
    },
    /// The watch `wd` ended.
    Ended { wd: i32 },
    /// The queue overflowed.
    Overflow,
}

#[cfg(any(target_os = "linux", target_os = "android"))]
mod platform {
    use std::ffi::OsStr;
    use std::io;
    use std::mem::MaybeUninit;
    use std::os::fd::OwnedFd;
    use std::os::unix::ffi::OsStrExt;
    use std::path::Path;

    use rustix::fs::inotify::{self, CreateFlags, ReadFlags, WatchFlags};

    use super::Event;

    pub fn init() -> Result<OwnedFd, String> {
        inotify::init(CreateFlags::NONBLOCK | CreateFlags::CLOEXEC)
            .map_err(|e| io::Error::from(e).to_string())
    }

    pub fn add(fd: &OwnedFd, dir: &Path) -> io::Result<i32> {
        // Not IN_ACCESS or IN_CLOSE_NOWRITE: logmon's own reads would wake
        // it. Not IN_EXCL_UNLINK: a deleted file still being written must
        // still wake it.
        let flags = WatchFlags::CREATE
            | WatchFlags::MOVED_TO
            | WatchFlags::MOVED_FROM
            | WatchFlags::DELETE
            | WatchFlags::MODIFY
            | WatchFlags::CLOSE_WRITE
            | WatchFlags::ATTRIB
            | WatchFlags::DELETE_SELF
            | WatchFlags::MOVE_SELF
            | WatchFlags::ONLYDIR;
        Ok(inotify::add_watch(fd, dir, flags)?)
    }

    pub fn remove(fd: &OwnedFd, wd: i32) {
        // Fails only if the kernel already removed it (directory gone).
        let _ = inotify::remove_watch(fd, wd);
    }

    /// Reads every queued event and hands each to `route`.
    pub fn drain(fd: &OwnedFd, mut route: impl FnMut(Event<'_>)) {
        let mut buf = [MaybeUninit::<u8>::uninit(); 8192];
        let mut reader = inotify::Reader::new(fd, &mut buf);
        // Ends at "would block" (the queue is empty) or on an error.
        while let Ok(event) = reader.next() {
            let flags = event.events();
            if flags.contains(ReadFlags::QUEUE_OVERFLOW) {
                route(Event::Overflow);
            } else if flags
                .intersects(ReadFlags::IGNORED | ReadFlags::DELETE_SELF | ReadFlags::MOVE_SELF)
            {
                route(Event::Ended { wd: event.wd() });
            } else if let Some(name) = event.file_name() {
                route(Event::Named {
                    wd: event.wd(),
                    name: OsStr::from_bytes(name.to_bytes()),
                    appeared: flags.intersects(ReadFlags::CREATE | ReadFlags::MOVED_TO),
                });
            }
        }
    }

    /// The kind of network filesystem `dir` is on, if it is on one: there
    /// inotify sees only the changes made through this machine.
    pub fn network_filesystem(dir: &Path) -> Option<&'static str> {
        let kind = rustix::fs::statfs(dir).ok()?.f_type as u64 & 0xffff_ffff;
        Some(match kind {
            0x6969 => "nfs",
            0x517b => "smb",
            0xff53_4d42 => "cifs",
            0xfe53_4d42 => "smb2",
            0x0102_1997 => "9p",
            0x6573_5546 => "fuse",
            0x00c3_6400 => "ceph",
            0x5346_414f => "afs",
            0x7375_7245 => "coda",
            0x0116_1970 => "gfs2",
            0x7461_636f => "ocfs2",
            0x0bd0_0bd0 => "lustre",
            _ => return None,
        })
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
mod platform {
    use std::os::fd::OwnedFd;
    use std::path::Path;

    use super::Event;

    pub fn init() -> Result<OwnedFd, String> {
        Err("inotify exists only on Linux".into())
    }

    pub fn add(_: &OwnedFd, _: &Path) -> std::io::Result<i32> {
        Err(std::io::ErrorKind::Unsupported.into())
    }

    pub fn remove(_: &OwnedFd, _: i32) {}

    pub fn drain(_: &OwnedFd, _: impl FnMut(Event<'_>)) {}

    pub fn network_filesystem(_: &Path) -> Option<&'static str> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    /// A watcher with inotify on a temp dir watching `access.log`.
    fn watched() -> (tempfile::TempDir, Arc<Watcher>, Registration) {
        let dir = tempfile::tempdir().unwrap();
        let watcher = Watcher::new(true);
        let reg = watcher
            .watch(dir.path(), OsStr::new("access.log"))
            .expect("inotify on a temp dir");
        (dir, watcher, reg)
    }

    #[test]
    fn a_wake_request_ends_a_wait_at_once_even_if_made_before_it() {
        for inotify in [true, false] {
            let watcher = Watcher::new(inotify);
            let waker = watcher.waker();
            waker.wake();
            waker.wake();
            let t = Instant::now();
            assert_eq!(watcher.wait(Duration::from_secs(30)), Woke::Request);
            assert!(t.elapsed() < Duration::from_secs(5));
            // Both requests were consumed by that one wait.
            assert_eq!(watcher.wait(Duration::ZERO), Woke::Timeout);
        }
    }

    #[test]
    fn a_wake_from_another_thread_ends_a_wait() {
        let watcher = Watcher::new(false);
        let waker = watcher.waker();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            waker.wake();
        });
        assert_eq!(watcher.wait(Duration::from_secs(30)), Woke::Request);
        t.join().unwrap();
    }

    #[test]
    fn files_appearing_at_the_name_are_counted() {
        // touch access.log; mv access.log access.log.1; touch access.log
        let (dir, watcher, reg) = watched();
        let log = dir.path().join("access.log");
        fs::write(&log, "a\n").unwrap();
        fs::rename(&log, dir.path().join("access.log.1")).unwrap();
        fs::write(&log, "b\n").unwrap();
        assert_eq!(watcher.wait(Duration::ZERO), Woke::Events);
        assert_eq!(reg.tally().appeared(), 2);
        assert!(!reg.tally().take_overflowed() && !reg.tally().lost());
    }

    #[test]
    fn changes_to_other_files_do_not_end_a_wait() {
        // echo >> error.log   (same directory)
        let (dir, watcher, reg) = watched();
        fs::write(dir.path().join("error.log"), "x\n").unwrap();
        assert_eq!(watcher.wait(Duration::ZERO), Woke::Timeout);
        // A rotated sibling does.
        fs::write(dir.path().join("access.log.1"), "x\n").unwrap();
        assert_eq!(watcher.wait(Duration::ZERO), Woke::Events);
        assert_eq!(reg.tally().appeared(), 0);
    }

    #[test]
    fn names_in_one_directory_share_its_watch_until_the_last_goes() {
        let (dir, watcher, reg) = watched();
        let other = watcher.watch(dir.path(), OsStr::new("error.log")).unwrap();
        drop(reg);
        fs::write(dir.path().join("error.log"), "x\n").unwrap();
        assert_eq!(watcher.wait(Duration::ZERO), Woke::Events);
        assert_eq!(other.tally().appeared(), 1);
    }

    #[test]
    fn watching_without_inotify_or_a_missing_directory_fails() {
        let dir = tempfile::tempdir().unwrap();
        let name = OsStr::new("access.log");
        assert!(Watcher::new(false).watch(dir.path(), name).is_err());
        let missing = dir.path().join("missing");
        assert!(Watcher::new(true).watch(&missing, name).is_err());
    }
}
