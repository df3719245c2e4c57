//! The standard descriptors, against faults from outside: a closed one is
//! held on `/dev/null`, and stdout is watched for a reader that has gone.
//!
//! [`hold_closed`] runs first thing in `main`. Started with a standard
//! descriptor closed (`logmon access.log 2>&-`), the next file logmon
//! opened would take its number, and a notice meant for stderr would be
//! written into it (a socket, the demo's log). As coreutils does, each
//! closed one is opened on `/dev/null` first.
//!
//! [`StdoutWatch`] tells when stdout is a pipe or a socket whose reader
//! has gone (`logmon access.log | head -1`), without writing to it, as GNU
//! `tail -f` does: a quiet log prints nothing for a whole period, and the
//! run must not outlive its pipeline by that long. The loop asks on every
//! wake (at least once a second).

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsFd, AsRawFd as _, IntoRawFd as _};

use rustix::event::{PollFd, PollFlags, Timespec};

/// Open `/dev/null` on each of stdin, stdout and stderr that is closed.
/// Errors are ignored: without `/dev/null` there is nothing better to do.
pub fn hold_closed() {
    // `open` takes the lowest free number: while that is 0, 1 or 2, it
    // filled a closed standard descriptor, and is kept open for good.
    for _ in 0..3 {
        let Ok(null) = OpenOptions::new().read(true).write(true).open("/dev/null") else {
            return;
        };
        if null.as_raw_fd() > 2 {
            return;
        }
        let _ = null.into_raw_fd();
    }
}

/// Watches stdout for a reader that has gone.
#[derive(Debug)]
pub struct StdoutWatch {
    /// Whether stdout is a pipe or a socket: a file has no reader to go,
    /// and a terminal that hangs up sends SIGHUP.
    pipe: bool,
}

impl StdoutWatch {
    pub fn new() -> StdoutWatch {
        StdoutWatch { pipe: is_pipe() }
    }

    /// Whether the reader of stdout has gone. Never blocks.
    pub fn gone(&self) -> bool {
        self.pipe && hung_up(&io::stdout())
    }
}

impl Default for StdoutWatch {
    fn default() -> Self {
        StdoutWatch::new()
    }
}

/// Whether `fd` reports an error or a hang-up: for the writing end of a
/// pipe, that its reading end is closed; for a socket, that the peer has
/// gone. Polls without waiting.
fn hung_up(fd: &impl AsFd) -> bool {
    // No event is asked for: an error and a hang-up are always reported,
    // and a full pipe (a slow reader) is no reason to stop.
    let mut fds = [PollFd::new(fd, PollFlags::empty())];
    let now = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    match rustix::event::poll(&mut fds, Some(&now)) {
        Ok(n) if n > 0 => fds[0].revents().intersects(PollFlags::ERR | PollFlags::HUP),
        _ => false,
    }
}

/// Whether stdout is a pipe or a socket.
fn is_pipe() -> bool {
    use std::os::unix::fs::FileTypeExt as _;
    // A duplicate of the descriptor, for std's safe `metadata`.
    let Ok(fd) = io::stdout().as_fd().try_clone_to_owned() else {
        return false;
    };
    File::from(fd).metadata().is_ok_and(|m| {
        let t = m.file_type();
        t.is_fifo() || t.is_socket()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    #[test]
    fn a_pipe_hangs_up_when_its_reader_goes_and_not_when_it_is_full() {
        let (reader, mut writer) = io::pipe().unwrap();
        assert!(!hung_up(&writer), "a reader is there");
        // Fill it: a reader that does not read is still there.
        let fd = writer.as_fd().try_clone_to_owned().unwrap();
        rustix::fs::fcntl_setfl(&fd, rustix::fs::OFlags::NONBLOCK).unwrap();
        while writer.write(&[0; 4096]).is_ok() {}
        assert!(!hung_up(&writer), "full, not gone");
        drop(reader);
        assert!(hung_up(&writer));
    }

    #[test]
    fn a_socket_hangs_up_when_its_peer_goes() {
        let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
        assert!(!hung_up(&ours));
        drop(theirs);
        assert!(hung_up(&ours));
    }
}
