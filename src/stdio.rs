//! The standard descriptors, against faults from outside: a closed one is
//! held on `/dev/null`.
//!
//! [`hold_closed`] runs first thing in `main`. Started with a standard
//! descriptor closed (`logmon access.log 2>&-`), the next file logmon
//! opened would take its number, and a notice meant for stderr would be
//! written into it (a socket, the demo's log). As coreutils does, each
//! closed one is opened on `/dev/null` first.

use std::fs::OpenOptions;
use std::os::fd::{AsRawFd as _, IntoRawFd as _};

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
