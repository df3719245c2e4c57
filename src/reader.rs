//! The reader thread: reads the log, parses it, and sends `Batch`es to the
//! main loop over a bounded channel.
//!
//! Parsing happens here, so reading and parsing run on one core while the
//! main loop aggregates on the other. One message carries thousands of
//! lines: a message per line would cost more than the parsing.
//!
//! Invariant: the thread always ends by sending `Msg::Done` (end of input) or
//! `Msg::Failed` (a fatal error), so the loop never waits on a dead thread;
//! when a send fails the loop has gone, and the thread returns quietly.

use std::collections::hash_map::RandomState;
use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crate::backfill::read_back;
use crate::batch::Batch;
use crate::follow::Follower;
use crate::lines::{Line, Lines};
use crate::parse::Parser;

/// Lines per batch, at most.
const BATCH_LINES: usize = 4096;
/// Read size for files and pipes.
const READ_SIZE: usize = 256 * 1024;
/// Out-of-order stamps allowed when backfilling, in seconds: reading back
/// stops after a block whose lines are all older than the window by more.
const BACKFILL_SLACK: i64 = 5;

/// From the reader thread to the main loop.
#[derive(Debug)]
pub enum Msg {
    /// Lines written before logmon started, for the alert window only.
    Backfill(Batch),
    /// The backfill is complete (sent even when there was nothing to read).
    BackfillDone,
    /// New lines.
    Batch(Batch),
    /// Something the user should know, for stderr (`file truncated`).
    Notice(String),
    /// End of input.
    Done,
    /// The reader cannot go on.
    Failed(anyhow::Error),
    /// Ctrl-C or SIGTERM (sent by the signal handler, not by the reader).
    Stop,
}

/// Where lines come from.
pub enum Source {
    /// Read from the start to the end, then `Done`.
    Whole(Box<dyn Read + Send>),
    /// Follow a path like `tail -F`, forever.
    Follow {
        follower: Box<Follower>,
        /// Check for new data this often when idle.
        every: Duration,
        /// Backfill the lines stamped after this second (unix seconds).
        backfill_after: Option<i64>,
        /// Set on Ctrl-C or SIGTERM: poll once more, then end with `Done`,
        /// so lines written up to the signal are counted.
        stop: Arc<AtomicBool>,
    },
}

/// Turns bytes into batches: splits lines, parses them, and counts the
/// invalid ones.
pub struct Decoder {
    lines: Lines,
    sink: Sink,
}

/// The parsing half of a `Decoder`, apart from `Lines` so that one can call
/// back into the other.
struct Sink {
    parser: Parser,
    clients: RandomState,
    batch: Batch,
}

impl Sink {
    fn line(&mut self, line: Line<'_>) {
        match line {
            Line::Complete(bytes) => match self.parser.parse(bytes) {
                Ok(record) => self.batch.push(&record, &self.clients),
                Err(_) => self.batch.push_invalid(),
            },
            Line::TooLong => self.batch.push_invalid(),
        }
    }
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder {
            lines: Lines::new(),
            sink: Sink {
                parser: Parser::new(),
                clients: RandomState::new(),
                batch: Batch::with_capacity(BATCH_LINES),
            },
        }
    }
}

impl Decoder {
    /// Decode one line that was split elsewhere.
    pub fn line(&mut self, line: Line<'_>) {
        self.sink.line(line);
    }

    /// Feed a chunk of input.
    pub fn push(&mut self, data: &[u8]) {
        self.lines.push(data, |line| self.sink.line(line));
    }

    /// End of input: a last line without a newline is decoded too.
    pub fn finish(&mut self) {
        self.lines.finish(|line| self.sink.line(line));
    }

    pub fn is_empty(&self) -> bool {
        self.sink.batch.is_empty()
    }

    /// Take the batch decoded so far.
    pub fn take(&mut self) -> Batch {
        std::mem::replace(&mut self.sink.batch, Batch::with_capacity(BATCH_LINES))
    }
}

/// Start the reader thread.
pub fn spawn(source: Source, name: PathBuf, tx: SyncSender<Msg>) -> io::Result<JoinHandle<()>> {
    thread::Builder::new().name("reader".into()).spawn(move || {
        let result = match source {
            Source::Whole(input) => read_whole(input, &name, &tx),
            Source::Follow {
                follower,
                every,
                backfill_after,
                stop,
            } => follow(follower, every, backfill_after, &stop, &tx),
        };
        let last = match result {
            Ok(()) => Msg::Done,
            Err(Gone) => return,
        };
        let _ = tx.send(last);
    })
}

/// The receiver has hung up: stop quietly.
struct Gone;

fn send(tx: &SyncSender<Msg>, msg: Msg) -> Result<(), Gone> {
    tx.send(msg).map_err(|_| Gone)
}

fn read_whole(
    mut input: Box<dyn Read + Send>,
    name: &std::path::Path,
    tx: &SyncSender<Msg>,
) -> Result<(), Gone> {
    let mut decoder = Decoder::default();
    let mut buf = vec![0; READ_SIZE];
    loop {
        match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                decoder.push(&buf[..n]);
                if !decoder.is_empty() {
                    send(tx, Msg::Batch(decoder.take()))?;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let e = anyhow::Error::new(e).context(format!("cannot read {}", name.display()));
                send(tx, Msg::Failed(e))?;
                return Err(Gone);
            }
        }
    }
    decoder.finish();
    if !decoder.is_empty() {
        send(tx, Msg::Batch(decoder.take()))?;
    }
    Ok(())
}

fn follow(
    mut follower: Box<Follower>,
    every: Duration,
    backfill_after: Option<i64>,
    stop: &AtomicBool,
    tx: &SyncSender<Msg>,
) -> Result<(), Gone> {
    if let Some(after) = backfill_after {
        backfill(&follower, after, tx)?;
    }
    let mut decoder = Decoder::default();
    loop {
        // Read before the poll: a poll that starts after the signal sees
        // every byte written before it.
        let stopping = stop.load(Ordering::SeqCst);
        let poll = follower.poll(&mut |line| decoder.line(line));
        match poll {
            Ok(poll) => {
                for notice in poll.notices {
                    send(
                        tx,
                        Msg::Notice(format!("{}: {notice}", follower.path().display())),
                    )?;
                }
                if !decoder.is_empty() {
                    send(tx, Msg::Batch(decoder.take()))?;
                }
                if stopping {
                    // NOTE: a line without its newline, in the live file or a
                    // rotated one still lingering, is not complete and is not
                    // counted, as when the file is followed on.
                    return Ok(());
                }
                if !poll.more {
                    thread::sleep(every);
                }
            }
            Err(e) => {
                let e = anyhow::Error::new(e)
                    .context(format!("cannot read {}", follower.path().display()));
                send(tx, Msg::Failed(e))?;
                return Err(Gone);
            }
        }
    }
}

/// Read the end of the followed file backward and send the lines stamped
/// after `after` (and a few seconds before, for out-of-order stamps).
/// Returns the bytes read back.
fn backfill(follower: &Follower, after: i64, tx: &SyncSender<Msg>) -> Result<u64, Gone> {
    let mut decoder = Decoder::default();
    let mut parser = Parser::new();
    let mut bytes = 0;
    // Read back from the follower's own handle and start position, so no
    // line written meanwhile is lost or counted twice.
    if let Some((file, end)) = follower.current() {
        if let Ok(mut file) = file.try_clone() {
            // NOTE: a read error only shortens the backfill; following goes on
            // and reports its own errors.
            bytes = read_back(&mut file, end, |line| match parser.parse(line) {
                Ok(record) if record.time > after - BACKFILL_SLACK => {
                    decoder.line(Line::Complete(line));
                    record.time > after
                }
                _ => false,
            })
            .unwrap_or(0);
        }
    }
    let mut batch = decoder.take();
    batch.invalid_at.clear(); // invalid lines before the start belong to no report
    send(tx, Msg::Backfill(batch))?;
    send(tx, Msg::BackfillDone)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backfill::BLOCK;
    use std::io::Write;
    use std::sync::mpsc;

    /// A CLF line stamped at unix second `at`.
    fn line_at(at: i64) -> String {
        let stamp = chrono::DateTime::from_timestamp(at, 0).unwrap();
        format!(
            "10.0.0.1 - - {} \"GET /api/user HTTP/1.1\" 200 512\n",
            stamp.format("[%d/%b/%Y:%H:%M:%S +0000]")
        )
    }

    #[test]
    fn backfill_reads_the_window_not_the_file() {
        // (10 h of old traffic; 2 min of new) > access.log; logmon access.log
        let now = 1_772_366_400; // 2026-03-01T12:00:00Z
        let window = 120;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("access.log");
        let mut file = std::fs::File::create(&path).unwrap();
        let mut text = String::new();
        for at in now - 36_000..now - 3600 {
            text.push_str(&line_at(at));
        }
        // 2 lines a second in the window (now - 120, now].
        for at in now - window..now {
            text.push_str(&line_at(at + 1));
            text.push_str(&line_at(at + 1));
        }
        text.push_str("half a line being writ");
        file.write_all(text.as_bytes()).unwrap();

        let follower = Follower::open(&path).unwrap();
        let (tx, rx) = mpsc::sync_channel(4);
        let Ok(bytes) = backfill(&follower, now - window, &tx) else {
            panic!("the receiver is alive");
        };
        let Ok(Msg::Backfill(batch)) = rx.try_recv() else {
            panic!("no backfill batch");
        };
        assert!(matches!(rx.try_recv(), Ok(Msg::BackfillDone)));
        assert_eq!(batch.hits.len(), 2 * window as usize);
        assert!(batch.hits.iter().all(|h| h.time > now - window));
        // The window's lines plus at most two blocks before them: the read
        // grows with the traffic in the window, not with the file.
        let recent: usize = 2 * window as usize * line_at(now).len();
        assert!(
            bytes as usize <= recent + 2 * BLOCK,
            "read {bytes} of {} bytes",
            text.len()
        );
        assert!(
            bytes * 10 < text.len() as u64,
            "read {bytes} of {}",
            text.len()
        );
    }
}
