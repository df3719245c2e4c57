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
use std::sync::mpsc::SyncSender;
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
            } => follow(follower, every, backfill_after, &tx),
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
    tx: &SyncSender<Msg>,
) -> Result<(), Gone> {
    if let Some(after) = backfill_after {
        backfill(&follower, after, tx)?;
    }
    let mut decoder = Decoder::default();
    loop {
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
fn backfill(follower: &Follower, after: i64, tx: &SyncSender<Msg>) -> Result<(), Gone> {
    let mut decoder = Decoder::default();
    let mut parser = Parser::new();
    // Read back from the follower's own handle and start position, so no
    // line written meanwhile is lost or counted twice.
    if let Some((file, end)) = follower.current() {
        if let Ok(mut file) = file.try_clone() {
            let _ = read_back(&mut file, end, |line| match parser.parse(line) {
                Ok(record) if record.time > after - BACKFILL_SLACK => {
                    decoder.line(Line::Complete(line));
                    record.time > after
                }
                _ => false,
            });
        }
    }
    let mut batch = decoder.take();
    batch.invalid_at.clear(); // invalid lines before the start belong to no report
    send(tx, Msg::Backfill(batch))?;
    send(tx, Msg::BackfillDone)
}
