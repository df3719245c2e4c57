//! Notices on stderr: the one way logmon writes there.
//!
//! [`say`] writes one message and ignores a write error. stderr is for
//! people: a full disk, a closed descriptor or a pipe whose reader has gone
//! must not end the run, let alone panic (as `eprintln!` does). stdout
//! errors keep their meaning (see `app`): a closed pipe ends the run
//! quietly, any other error is an error. `print!` and its kin are refused
//! by the lints (`clippy.toml`), so nothing bypasses this.

use std::io::{self, Write};

/// Write `text` and a newline to stderr in one write, ignoring errors.
pub fn say(text: &str) {
    let mut line = String::with_capacity(text.len() + 1);
    line.push_str(text);
    line.push('\n');
    // Nothing useful can be done when stderr fails: there is nowhere left
    // to say so.
    let _ = io::stderr().lock().write_all(line.as_bytes());
}
