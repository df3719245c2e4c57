//! The reader thread: reads the log, parses it, and sends `Batch`es to the
//! main loop over a bounded channel.
//!
//! Parsing happens here, so reading and parsing run on one core while the
//! main loop aggregates on the other. One message carries thousands of
//! lines: a message per line would cost more than the parsing.
//!
//! The parser's notices (format chosen or switched, nothing parses) go to
//! the loop as `Msg::Notice`s after each read. When following a W3C log from
//! its end, the header is found first by reading backward
//! ([`find_header`]), so the lines that follow have their columns.
//!
//! Balance: parsing costs the reader about twice what aggregating costs the
//! loop, so in a replay the reader would set the pace while the loop idled.
//! When the loop runs out of messages it raises a flag ([`Idle`]), and the
//! reader hands it the next block's complete lines undecoded
//! ([`Msg::Raw`]), to decode itself while the reader goes on. This happens
//! only while the reader's parser is settled on CLF and the block holds no
//! `#` line: parsing is then a pure function of each line, so the loop's
//! own parser reads the lines exactly as the reader's would, and the
//! output does not depend on who parsed what.
//!
//! Following, one thread follows every file, each with a follower and a
//! decoder of its own (each file's format is found on its own), and all
//! sharing one `Watcher` (one inotify instance, of the 128 a user may
//! have). It waits on the watcher between reads: for inotify to report a
//! change (then it reads at once the files concerned; under a stream of
//! writes at most every [`EVENT_GAP`]), for a file's slow safety-net
//! timeout, or for a wake request from the main loop (`follow::Waker`,
//! used at a signal for the last read, and to read to the end on request).
//! Globs are expanded again every [`GLOB_EVERY`] and new files followed
//! from their start; a file one follower holds is never read by another.
//! Each batch carries the number of the file it was read from.
//!
//! Read to the end on request ([`ReadToEnd`]): before the loop closes the
//! seconds that have passed, it asks the followers to read what the files
//! hold now, and counts everything the thread sends up to its answer,
//! [`Msg::Synced`], sent once every file was read to its end. So lines
//! written in a second count in it even when logmon was held up meanwhile
//! (stopped, a blocked stdout, a slow disk).
//!
//! Archives: an input read whole (a replay, stdin) that starts with a gzip
//! or zstd magic number is decompressed on the way ([`decompressed`]), on
//! this thread, so the loop never sees the difference.
//!
//! Invariant: the thread always ends by sending `Msg::Done` (end of input) or
//! `Msg::Failed` (a fatal error), so the loop never waits on a dead thread;
//! when a send fails the loop has gone, and the thread returns quietly.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::backfill::read_back;
use crate::batch::{Batch, Block, Within};
use crate::follow::{Follower, Notice, Seen, Waker, Watcher, Woke};
use crate::lines::{Line, Lines};
use crate::parse::{json, w3c};
use crate::parse::{LogFormat, Parser};

/// Hashes client addresses, which anyone who can send a request chooses.
/// Seeded at random per run, so no input is known in advance to collide;
/// the quality variant mixes every bit, as the HyperLogLog in `stats` needs.
type ClientHasher = foldhash::quality::RandomState;

/// Room for lines in the first batch; later ones are sized like the last.
const BATCH_LINES: usize = 4096;
/// Read size for files and pipes.
const READ_SIZE: usize = 256 * 1024;
/// Out-of-order stamps allowed when backfilling, in seconds: reading back
/// stops after a block whose lines are all older than the window by more.
const BACKFILL_SLACK: i64 = 5;
/// Shortest time from one poll to the next when woken by writes (not by a
/// new file): at most 100 polls and batches a second, so a log written line
/// by line does not cost a poll per line, and lines still come within
/// 10 ms.
const EVENT_GAP: Duration = Duration::from_millis(10);
/// How far back, in bytes, following a W3C log looks for its newest
/// `#Fields:` directive before giving up.
pub const HEADER_SEARCH: u64 = 64 << 20;

/// From the reader thread to the main loop.
#[derive(Debug)]
pub enum Msg {
    /// Lines written before logmon started, for the alert window only.
    Backfill(Batch),
    /// The backfill is complete (sent even when there was nothing to read).
    BackfillDone,
    /// `--from-start`: what the files held is sent; what follows is live.
    BacklogDone,
    /// New lines.
    Batch(Batch),
    /// New lines for the loop to decode itself, with [`Decoder::decode`].
    Raw(Raw),
    /// Something the user should know, for stderr (`file truncated`).
    Notice(String),
    /// Read to its end, the input had lines but none parsed: the first
    /// that failed, escaped and shortened. Sent just before `Done`.
    Unparsed(String),
    /// End of input.
    Done,
    /// The reader cannot go on.
    Failed(anyhow::Error),
    /// Ctrl-C or SIGTERM (sent by the signal handler, not by the reader).
    Stop,
    /// A file is followed from now on (a glob matched it): the number its
    /// batches carry, and its name, sanitized.
    File { file: u32, name: String },
    /// The answer to [`ReadToEnd::ask`]: every line the files held when
    /// request number `n` (or a later one) was made has been sent before
    /// this message.
    Synced(u64),
}

/// The loop's requests that the follower read what the files hold now,
/// answered by [`Msg::Synced`]. Cheap to clone; any thread may ask.
#[derive(Debug, Clone)]
pub struct ReadToEnd {
    /// Requests made so far; the follower answers the latest it has seen.
    asked: Arc<AtomicU64>,
    /// Wakes the follower out of its wait, to answer at once.
    waker: Waker,
}

impl ReadToEnd {
    pub fn new(waker: Waker) -> ReadToEnd {
        ReadToEnd {
            asked: Arc::default(),
            waker,
        }
    }

    /// Ask the follower to read to the end now. Returns the number that
    /// [`Msg::Synced`] will carry (or exceed) once it has.
    pub fn ask(&self) -> u64 {
        let n = self.asked.fetch_add(1, Ordering::SeqCst) + 1;
        self.waker.wake();
        n
    }

    fn asked(&self) -> u64 {
        self.asked.load(Ordering::SeqCst)
    }
}

/// Complete lines left undecoded for the main loop (see the module notes).
#[derive(Debug)]
pub struct Raw {
    /// The start of the first line, carried from the block before.
    head: Vec<u8>,
    /// The rest of the lines, up to and including the last one's `\n`,
    /// none starting with `#`: the block as read (it goes back to the
    /// reader once the batch decoded from it is dropped).
    block: Block,
    /// The reader's client hasher, so that hashes agree across batches.
    clients: ClientHasher,
}

/// Read blocks kept for reuse. A fresh 256 KiB block comes from pages the
/// kernel has to fault in and zero, ~64 of them each time; a block comes
/// back when the batch that lends its keys' text from it is dropped, and
/// there may be up to `app`'s channel depth of those in flight, the one
/// the loop is counting, and a hand-over.
const SPARE_BLOCKS: usize = 6;

/// Blocks coming back from the batches and hand-overs dropped, for reuse.
struct Spares {
    tx: SyncSender<Vec<u8>>,
    rx: Receiver<Vec<u8>>,
}

impl Spares {
    fn new() -> Spares {
        let (tx, rx) = mpsc::sync_channel(SPARE_BLOCKS);
        Spares { tx, rx }
    }

    /// A block to read into, `READ_SIZE` bytes long, which comes back
    /// here when dropped.
    fn block(&self) -> Block {
        let mut bytes = self.rx.try_recv().unwrap_or_default();
        // Only what a short read left out is zeroed again.
        bytes.resize(READ_SIZE, 0);
        Block::new(bytes, Some(self.tx.clone()))
    }
}

/// Set by the main loop when it finds no message waiting: the next block
/// read goes to it undecoded, if it may ([`Msg::Raw`]).
pub type Idle = Arc<AtomicBool>;

/// Where lines come from.
pub enum Source {
    /// Read from the start to the end, then `Done`.
    Whole(Box<dyn Read + Send>),
    /// Read several files to their ends, merged in time order (see
    /// `merge`), then `Done`.
    Files(Vec<FileInput>),
    /// Follow paths like `tail -F`, forever.
    Follow(Follow),
}

/// One of several files read whole.
pub struct FileInput {
    pub input: Box<dyn Read + Send>,
    /// The path, for messages.
    pub name: PathBuf,
    /// Its number, for `Batch::file`.
    pub file: u32,
}

/// Turns bytes into batches: splits lines, parses them, and counts the
/// invalid ones.
pub struct Decoder {
    lines: Lines,
    sink: Sink,
    spares: Spares,
    /// The last chunk pushed held a NUL byte.
    nul_before: bool,
}

/// The parsing half of a `Decoder`, apart from `Lines` so that one can call
/// back into the other.
struct Sink {
    parser: Parser,
    clients: ClientHasher,
    batch: Batch,
    /// The chunk being split has no NUL byte, nor had the one before it
    /// (whose end may be carried into this one's first line): its lines
    /// need no NUL check of their own (see [`Decoder::push`]).
    nul_free: bool,
    /// Where a JSON target with escapes is decoded.
    scratch: Vec<u8>,
}

impl Sink {
    /// Decode `line`, which lies in `within` if given. Always inlined:
    /// left to LLVM, it became a call with the parser inlined into it, or
    /// the other way round, ~35 instructions a line apart (callgrind).
    #[inline(always)]
    fn line(&mut self, line: Line<'_>, within: Option<Within<'_>>) {
        match line {
            Line::Complete(bytes) => match self.parser.parse_checked(bytes, self.nul_free) {
                Ok(record) if record.syntax.is_json() => {
                    // Its target may hold escapes: decode them for the
                    // section (see `json::decode_target`).
                    let mut record = record;
                    json::decode_target(&mut record, &mut self.scratch);
                    self.batch.push_within(&record, &self.clients, within);
                }
                Ok(record) => self.batch.push_within(&record, &self.clients, within),
                // A blank line, or a W3C directive (taken in by the
                // parser): neither a hit nor an invalid line.
                Err(e) if e.is_skipped() => {}
                Err(_) => self.batch.push_invalid(),
            },
            Line::TooLong => self.batch.push_invalid(),
        }
    }
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new(LogFormat::Auto)
    }
}

impl Decoder {
    /// A decoder reading lines in `format`.
    pub fn new(format: LogFormat) -> Decoder {
        Decoder {
            lines: Lines::new(),
            sink: Sink {
                parser: Parser::with_format(format),
                clients: ClientHasher::default(),
                batch: Batch::with_capacity(BATCH_LINES),
                nul_free: false,
                scratch: Vec::new(),
            },
            nul_before: false,
            spares: Spares::new(),
        }
    }

    /// Hash clients with `clients`, shared with other decoders of the run,
    /// so that a client seen in two files counts once.
    pub fn share_clients(&mut self, clients: &ClientHasher) {
        self.sink.clients = clients.clone();
    }

    /// A decoder for the main loop's share of the lines ([`Msg::Raw`]) of
    /// a log read in `format`.
    pub fn for_loop(format: LogFormat) -> Decoder {
        let mut decoder = Decoder::new(format.clone());
        decoder.sink.parser = Parser::settled(format);
        decoder
    }

    /// Decode lines handed over by the reader (with a decoder from
    /// [`Decoder::for_loop`]).
    pub fn decode(&mut self, raw: Raw) -> Batch {
        self.sink.clients = raw.clients.clone();
        // The head has no newline: it is carried into the block's first
        // line.
        self.push(&raw.head);
        self.push_block(raw.block);
        self.take()
    }

    /// A block to read into (see [`Decoder::push_block`]), `READ_SIZE`
    /// bytes long: cut it to what was read.
    pub fn spare_block(&self) -> Block {
        self.spares.block()
    }

    /// Feed a block of input. The batch keeps the block, and its keys
    /// lend their text from it rather than copy it.
    pub fn push_block(&mut self, block: Block) {
        let data = block.bytes();
        let nul = memchr::memchr(0, data).is_some();
        self.sink.nul_free = !nul && !self.nul_before;
        self.nul_before = nul;
        let within = Within {
            block: data,
            number: self.sink.batch.blocks() as u32 + 1,
        };
        let lines = self.sink.batch.hits.len();
        self.lines
            .push(data, |line| self.sink.line(line, Some(within)));
        // Keep it only if a hit may lend from it (not, say, for a block
        // that only continues a long line).
        if self.sink.batch.hits.len() > lines {
            self.sink.batch.add_block(block);
        }
    }

    /// Feed a block, or when the parser is settled (see the module notes),
    /// hand its complete lines over undecoded instead. The returned lines
    /// come before anything decoded from this block.
    fn push_or_hand_over(&mut self, mut block: Block) -> Option<Raw> {
        if !self.sink.parser.is_settled() || self.lines.is_skipping() {
            self.push_block(block);
            return None;
        }
        let data = block.bytes();
        let Some(end) = memchr::memrchr(b'\n', data).map(|at| at + 1) else {
            self.push_block(block);
            return None;
        };
        // A directive may change how the lines after it parse, and a JSON
        // line what is announced: decode here, in order.
        let first = self.lines.carried().first().or(data.first());
        if matches!(first, Some(b'#' | b'{')) || has_switching_line(&data[..end]) {
            self.push_block(block);
            return None;
        }
        let head = self.lines.take_carry();
        // What follows the last newline has no newline: it is carried (or
        // dropped as too long), and never lent from the block.
        self.lines
            .push(&data[end..], |line| self.sink.line(line, None));
        block.bytes_mut().truncate(end);
        Some(Raw {
            head,
            block,
            clients: self.sink.clients.clone(),
        })
    }

    /// Give the parser directives read from before the start (a W3C
    /// header found backward), in file order.
    pub fn prime(&mut self, directives: &[Vec<u8>]) {
        for line in directives {
            let _ = self.sink.parser.parse(line);
        }
    }

    /// The parser's next notice, if any (see `Parser::take_notice`).
    pub fn take_notice(&mut self) -> Option<String> {
        self.sink.parser.take_notice()
    }

    /// While no line has parsed, the first that failed (escaped).
    pub fn first_failure(&self) -> Option<&str> {
        self.sink.parser.first_failure()
    }

    /// Decode one line that was split elsewhere.
    pub fn line(&mut self, line: Line<'_>) {
        self.sink.nul_free = false;
        self.sink.line(line, None);
    }

    /// Feed a chunk of input, whose keys' text is copied (see
    /// [`Decoder::push_block`] for the reader's blocks).
    pub fn push(&mut self, data: &[u8]) {
        // A NUL byte makes a line invalid. One scan of a whole chunk costs
        // a fifth of a scan per line (callgrind: ~20 instructions a
        // Combined line against ~100), and a chunk rarely holds one.
        let nul = memchr::memchr(0, data).is_some();
        self.sink.nul_free = !nul && !self.nul_before;
        self.nul_before = nul;
        self.lines.push(data, |line| self.sink.line(line, None));
    }

    /// End of input: a last line without a newline is decoded too.
    pub fn finish(&mut self) {
        self.sink.nul_free = !self.nul_before;
        self.lines.finish(|line| self.sink.line(line, None));
    }

    pub fn is_empty(&self) -> bool {
        self.sink.batch.is_empty()
    }

    /// Take the batch decoded so far.
    pub fn take(&mut self) -> Batch {
        // Sized like this one (a read block holds ~1,200 Combined lines, not
        // 4,096): a batch of 4,096 hits is 229 KiB, which malloc served from
        // fresh pages each time and returned, at ~16 page faults a batch.
        let next = self.sink.batch.sized_like(BATCH_LINES);
        std::mem::replace(&mut self.sink.batch, next)
    }
}

/// Whether a line of `lines` starts with `#` (a W3C directive) or `{` (a
/// JSON line), the lines that can unsettle a parser (`Parser::is_settled`).
fn has_switching_line(lines: &[u8]) -> bool {
    // One scan for both bytes, which are rare in CLF lines, each checked
    // for a line start.
    memchr::memchr2_iter(b'#', b'{', lines).any(|at| at == 0 || lines[at - 1] == b'\n')
}

/// Start the reader thread.
pub fn spawn(
    source: Source,
    name: PathBuf,
    format: LogFormat,
    idle: Idle,
    tx: SyncSender<Msg>,
) -> io::Result<JoinHandle<()>> {
    thread::Builder::new().name("reader".into()).spawn(move || {
        let result = match source {
            Source::Whole(input) => read_whole(input, &name, format, &idle, &tx),
            Source::Files(inputs) => read_files(inputs, format, &tx),
            Source::Follow(f) => follow(f, format, &tx),
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

/// Send the parser's notices, naming the input.
fn send_notices(decoder: &mut Decoder, name: &Path, tx: &SyncSender<Msg>) -> Result<(), Gone> {
    while let Some(notice) = decoder.take_notice() {
        send(tx, Msg::Notice(format!("{}: {notice}", name.display())))?;
    }
    Ok(())
}

fn read_whole(
    input: Box<dyn Read + Send>,
    name: &Path,
    format: LogFormat,
    idle: &AtomicBool,
    tx: &SyncSender<Msg>,
) -> Result<(), Gone> {
    let (mut input, kind) = match decompressed(input) {
        Ok(x) => x,
        Err(e) => {
            let e = anyhow::Error::new(e).context(format!("cannot read {}", name.display()));
            send(tx, Msg::Failed(e))?;
            return Err(Gone);
        }
    };
    let mut decoder = Decoder::new(format);
    loop {
        let mut block = decoder.spare_block();
        match input.read(block.bytes_mut()) {
            Ok(0) => break,
            Ok(n) => {
                block.bytes_mut().truncate(n);
                // The batch is empty here (sent after each read), so the
                // handed-over lines go first, as they come first.
                let raw = match idle.swap(false, Ordering::Relaxed) {
                    true => decoder.push_or_hand_over(block),
                    false => {
                        decoder.push_block(block);
                        None
                    }
                };
                if let Some(raw) = raw {
                    send(tx, Msg::Raw(raw))?;
                }
                send_notices(&mut decoder, name, tx)?;
                if !decoder.is_empty() {
                    send(tx, Msg::Batch(decoder.take()))?;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                send(tx, Msg::Failed(read_error(e, name, kind)))?;
                return Err(Gone);
            }
        }
    }
    decoder.finish();
    send_notices(&mut decoder, name, tx)?;
    if !decoder.is_empty() {
        send(tx, Msg::Batch(decoder.take()))?;
    }
    if let Some(line) = decoder.first_failure() {
        send(tx, Msg::Unparsed(line.to_owned()))?;
    }
    Ok(())
}

/// One file of [`read_files`]: its decoded input and its decoder.
struct Stream {
    input: Box<dyn Read + Send>,
    kind: Option<Compression>,
    name: PathBuf,
    decoder: Decoder,
    ended: bool,
}

impl Stream {
    /// The next batch of lines, or `None` at the end of the file.
    fn next(&mut self, said: &mut Said, tx: &SyncSender<Msg>) -> Result<Option<Batch>, Gone> {
        while !self.ended {
            let mut block = self.decoder.spare_block();
            match self.input.read(block.bytes_mut()) {
                Ok(0) => {
                    self.decoder.finish();
                    self.ended = true;
                }
                Ok(n) => {
                    block.bytes_mut().truncate(n);
                    self.decoder.push_block(block);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    send(tx, Msg::Failed(read_error(e, &self.name, self.kind)))?;
                    return Err(Gone);
                }
            }
            said.send(&mut self.decoder, &self.name, tx)?;
            if !self.decoder.is_empty() {
                return Ok(Some(self.decoder.take()));
            }
        }
        Ok(None)
    }
}

/// The parser's notices of several files, each said once: the format
/// each file is read in is said for the first file read in it only, so a
/// week of rotated logs, or 200 logs followed, say it once.
#[derive(Default)]
pub struct Said {
    formats: std::collections::HashSet<String>,
}

impl Said {
    /// Send `decoder`'s notices, naming `name`.
    fn send(
        &mut self,
        decoder: &mut Decoder,
        name: &Path,
        tx: &SyncSender<Msg>,
    ) -> Result<(), Gone> {
        while let Some(notice) = decoder.take_notice() {
            let chosen = notice.starts_with("log format: ") && !notice.contains(" switched ");
            if chosen && !self.formats.insert(notice.clone()) {
                continue;
            }
            send(tx, Msg::Notice(format!("{}: {notice}", name.display())))?;
        }
        Ok(())
    }
}

/// Read several files whole, merged in time order (see `merge`), each
/// with a decoder of its own (each file's format is found on its own), and
/// one client hasher for all. Archives are decompressed.
fn read_files(inputs: Vec<FileInput>, format: LogFormat, tx: &SyncSender<Msg>) -> Result<(), Gone> {
    let clients = ClientHasher::default();
    let mut streams = Vec::with_capacity(inputs.len());
    for FileInput { input, name, file } in inputs {
        let (input, kind) = match decompressed(input) {
            Ok(x) => x,
            Err(e) => {
                send(tx, Msg::Failed(read_error(e, &name, None)))?;
                return Err(Gone);
            }
        };
        let mut decoder = Decoder::new(format.clone());
        decoder.share_clients(&clients);
        let stream = Stream {
            input,
            kind,
            name,
            decoder,
            ended: false,
        };
        streams.push((file, stream));
    }
    let mut said = Said::default();
    // The first line that failed, of the first file that has one: it is
    // quoted when no line of any file parsed.
    let mut unparsed: Option<String> = None;
    crate::merge::merge(
        streams,
        |stream| {
            let batch = stream.next(&mut said, tx)?;
            if batch.is_none() && unparsed.is_none() {
                unparsed = stream.decoder.first_failure().map(str::to_owned);
            }
            Ok(batch)
        },
        |batch| send(tx, Msg::Batch(batch)),
    )?;
    if let Some(line) = unparsed {
        send(tx, Msg::Unparsed(line))?;
    }
    Ok(())
}

/// "cannot read NAME", saying how it was compressed when it was: an error
/// in an archive is the decompressor's ("corrupt deflate stream").
fn read_error(e: io::Error, name: &Path, kind: Option<Compression>) -> anyhow::Error {
    let context = match kind {
        Some(kind) => format!(
            "cannot read {} ({}-compressed)",
            name.display(),
            kind.name()
        ),
        None => format!("cannot read {}", name.display()),
    };
    anyhow::Error::new(e).context(context)
}

/// A compressed input (an archive: a rotated log, `access.log.2.gz`),
/// recognised by its magic number, not its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    Zstd,
}

/// The magic numbers: gzip's (RFC 1952) and a zstd frame's (RFC 8878).
const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];

impl Compression {
    /// The compression whose magic number `head` (the first bytes of an
    /// input) starts with.
    pub fn of(head: &[u8]) -> Option<Compression> {
        if head.starts_with(GZIP_MAGIC) {
            Some(Compression::Gzip)
        } else if head.starts_with(ZSTD_MAGIC) {
            Some(Compression::Zstd)
        } else {
            None
        }
    }

    /// Whether `head` may still grow into a magic number: more bytes are
    /// needed to tell.
    fn undecided(head: &[u8]) -> bool {
        Compression::of(head).is_none()
            && [GZIP_MAGIC, ZSTD_MAGIC]
                .iter()
                .any(|magic| magic.len() > head.len() && magic.starts_with(head))
    }

    pub fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }

    /// Following refuses an archive named on the command line: it is not
    /// written to any more, and `--replay` reads it.
    pub fn follow_error(self, path: &Path) -> anyhow::Error {
        anyhow::anyhow!(
            "cannot follow {}: it is {}-compressed, an archive\n  \
             to read it: logmon --replay {}",
            path.display(),
            self.name(),
            path.display()
        )
    }
}

/// `input`, decompressed when it starts with a gzip or zstd magic number
/// (read whole: every member of a multi-member gzip, as `cat a.gz b.gz`
/// makes, and every zstd frame), and as it is otherwise; and which
/// compression it had.
///
/// Only the bytes needed to tell are read first, so a pipe whose writer
/// has written one short line is not waited on: a line starting with
/// anything but 0x1f or 0x28 decides at its first byte.
pub fn decompressed(
    mut input: Box<dyn Read + Send>,
) -> io::Result<(Box<dyn Read + Send>, Option<Compression>)> {
    let mut head = Vec::with_capacity(ZSTD_MAGIC.len());
    while Compression::undecided(&head) {
        let mut byte = [0];
        match input.read(&mut byte) {
            Ok(0) => break,
            Ok(_) => head.push(byte[0]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    let kind = Compression::of(&head);
    let whole = io::Cursor::new(head).chain(input);
    Ok(match kind {
        Some(Compression::Gzip) => (Box::new(flate2::read::MultiGzDecoder::new(whole)), kind),
        // Reads every frame, not only the first.
        Some(Compression::Zstd) => (Box::new(zstd::stream::read::Decoder::new(whole)?), kind),
        None => (Box::new(whole), None),
    })
}

/// One file followed, with its own decoder (each file's format is found
/// on its own).
struct Tail {
    follower: Box<Follower>,
    decoder: Decoder,
    file: u32,
    /// When it was last polled.
    polled: Instant,
    /// Its last poll stopped at its budget: poll again at once.
    more: bool,
    /// `--from-start`: its backlog has been read.
    caught_up: bool,
}

/// Following: shared by every followed file.
pub struct Follow {
    /// The files followed from the start, each with its number.
    pub followers: Vec<(Box<Follower>, u32)>,
    /// Globs whose new matches are followed as they appear.
    pub globs: Vec<String>,
    /// The watcher every follower waits with.
    pub watcher: Arc<Watcher>,
    /// Check for new data this often when polling (with inotify, each
    /// follower is looked at once a second as well).
    pub every: Duration,
    /// Backfill the lines stamped after this second (unix seconds).
    pub backfill_after: Option<i64>,
    /// Set on Ctrl-C or SIGTERM: poll once more, then end with `Done`,
    /// so lines written up to the signal are counted.
    pub stop: Arc<AtomicBool>,
    /// The loop's requests to read to the end now.
    pub read_to_end: ReadToEnd,
    /// `--from-start`: the followers start at byte 0, and what the files
    /// hold is sent first, merged in time order, then `Msg::BacklogDone`.
    pub from_start: bool,
    /// Bytes of the backlog read so far, for the progress bar.
    pub progress: Option<Arc<AtomicU64>>,
}

/// How often globs are expanded again while following.
pub const GLOB_EVERY: Duration = Duration::from_secs(2);

impl Tail {
    /// Poll the file (leaving alone what `held` says another follower
    /// holds), send its notices and its batch. Returns whether it has more
    /// to read at once.
    fn poll(
        &mut self,
        held: &dyn Fn(&Seen) -> bool,
        said: &mut Said,
        tx: &SyncSender<Msg>,
    ) -> Result<bool, Gone> {
        let (batch, _) = self.read(held, said, tx)?;
        if let Some(batch) = batch {
            send(tx, Msg::Batch(batch))?;
        }
        Ok(self.more)
    }

    /// Poll the file and send its notices; its batch, if any, and the
    /// bytes read.
    fn read(
        &mut self,
        held: &dyn Fn(&Seen) -> bool,
        said: &mut Said,
        tx: &SyncSender<Msg>,
    ) -> Result<(Option<Batch>, u64), Gone> {
        let path = self.follower.path().to_path_buf();
        self.polled = Instant::now();
        let decoder = &mut self.decoder;
        match self
            .follower
            .poll_among(held, &mut |line| decoder.line(line))
        {
            Ok(poll) => {
                for notice in poll.notices {
                    let text = match notice {
                        // The words an operator greps for.
                        Notice::Waiting => format!("waiting for {} to appear", path.display()),
                        notice => format!("{}: {notice}", path.display()),
                    };
                    send(tx, Msg::Notice(text))?;
                }
                said.send(&mut self.decoder, &path, tx)?;
                self.more = poll.more;
                let batch = (!self.decoder.is_empty()).then(|| {
                    let mut batch = self.decoder.take();
                    batch.file = self.file;
                    batch
                });
                Ok((batch, poll.bytes))
            }
            Err(e) => {
                let e = anyhow::Error::new(e).context(format!("cannot read {}", path.display()));
                send(tx, Msg::Failed(e))?;
                Err(Gone)
            }
        }
    }

    /// `--from-start`: the next batch of what the file held when it was
    /// first read to its end, or `None` after that.
    fn backlog(
        &mut self,
        said: &mut Said,
        progress: Option<&AtomicU64>,
        tx: &SyncSender<Msg>,
    ) -> Result<Option<Batch>, Gone> {
        if self.caught_up {
            return Ok(None);
        }
        let (batch, bytes) = self.read(&|_| false, said, tx)?;
        if let Some(progress) = progress {
            progress.fetch_add(bytes, Ordering::Relaxed);
        }
        self.caught_up = !self.more;
        // An empty batch (nothing complete yet) asks for the next.
        Ok(Some(batch.unwrap_or_default()))
    }

    /// Whether it is due a poll at `now`: events concern it, it has more
    /// to read, or it has gone `every` (see `Follower::look_every`)
    /// without a look. Followers due within [`ROUND`] are polled together,
    /// so that hundreds of them wake the thread once, not once each.
    fn due(&self, now: Instant, every: Duration) -> bool {
        self.more
            || self.follower.take_touched()
            || now + ROUND >= self.polled + self.follower.look_every(every)
    }
}

/// See [`Tail::due`].
const ROUND: Duration = Duration::from_millis(50);

/// Poll `tails[i]`, with every other tail's files held away from it.
fn poll_one(
    tails: &mut [Tail],
    i: usize,
    said: &mut Said,
    tx: &SyncSender<Msg>,
) -> Result<bool, Gone> {
    let (before, rest) = tails.split_at_mut(i);
    let Some((tail, after)) = rest.split_first_mut() else {
        return Ok(false);
    };
    let held = |seen: &Seen| {
        before
            .iter()
            .chain(after.iter())
            .any(|t| t.follower.holds(seen))
    };
    tail.poll(&held, said, tx)
}

fn follow(f: Follow, format: LogFormat, tx: &SyncSender<Msg>) -> Result<(), Gone> {
    let Follow {
        followers,
        globs,
        watcher,
        every,
        backfill_after,
        stop,
        read_to_end,
        from_start,
        progress,
    } = f;
    let clients = ClientHasher::default();
    let mut tails = Vec::with_capacity(followers.len());
    for (follower, file) in followers {
        let decoder = prepare(&follower, &format, backfill_after, tx)?;
        tails.push(Tail {
            follower,
            decoder,
            file,
            polled: Instant::now(),
            more: false,
            caught_up: false,
        });
    }
    for tail in &mut tails {
        tail.decoder.share_clients(&clients);
    }
    if backfill_after.is_some() {
        send(tx, Msg::BackfillDone)?;
    }
    let mut said = Said::default();
    if from_start {
        // Many files' batches are held at once: read them in small bites.
        for tail in &mut tails {
            tail.follower.set_budget(READ_SIZE as u64);
        }
        let sources = tails.iter_mut().map(|t| (t.file, t)).collect();
        crate::merge::merge(
            sources,
            |tail| tail.backlog(&mut said, progress.as_deref(), tx),
            |batch| send(tx, Msg::Batch(batch)),
        )?;
        for tail in &mut tails {
            tail.follower.set_budget(Follower::BUDGET);
        }
        send(tx, Msg::BacklogDone)?;
    }
    let mut answered = 0;
    let mut next_glob = Instant::now() + GLOB_EVERY;
    loop {
        // Read before the poll: a poll that starts after the signal (or
        // the request) sees every byte written before it.
        let stopping = stop.load(Ordering::SeqCst);
        let asked = read_to_end.asked();
        let started = Instant::now();
        // Asked to read to the end, or stopping: every file, now.
        let all = stopping || asked > answered;
        let mut more = false;
        for i in 0..tails.len() {
            if all || tails[i].due(started, every) {
                more |= poll_one(&mut tails, i, &mut said, tx)?;
            }
        }
        if stopping {
            // NOTE: a line without its newline, in a live file or a
            // rotated one still lingering, is not complete and is not
            // counted, as when the file is followed on.
            return Ok(());
        }
        if !more && asked > answered {
            // Every file read to the end as it was after the request.
            send(tx, Msg::Synced(asked))?;
            answered = asked;
        }
        if !globs.is_empty() && started >= next_glob {
            next_glob = started + GLOB_EVERY;
            let found = new_matches(&globs, &tails);
            for path in found {
                let Ok(mut follower) = Follower::open_from_start(&path) else {
                    continue;
                };
                follower.watch_with(&watcher);
                let file = tails.iter().map(|t| t.file + 1).max().unwrap_or(0);
                let mut decoder = Decoder::new(format.clone());
                decoder.share_clients(&clients);
                let name = path.display().to_string();
                send(
                    tx,
                    Msg::File {
                        file,
                        name: crate::inputs::display(&path),
                    },
                )?;
                send(
                    tx,
                    Msg::Notice(format!("{name}: new file, reading it from the start")),
                )?;
                tails.push(Tail {
                    follower: Box::new(follower),
                    decoder,
                    file,
                    polled: started,
                    more: true,
                    caught_up: true,
                });
                more = true;
            }
        }
        if more {
            continue;
        }
        // Until the first follower is due a look, or the globs.
        let mut until = tails
            .iter()
            .map(|t| t.polled + t.follower.look_every(every))
            .min()
            .unwrap_or(started + every);
        if !globs.is_empty() {
            until = until.min(next_glob);
        }
        let woke = watcher.wait(until.saturating_duration_since(Instant::now()));
        for tail in &mut tails {
            tail.follower.waited(woke);
        }
        if woke == Woke::Events && !tails.iter().any(|t| t.follower.appeared()) {
            // A busy log changes thousands of times a second: take its
            // writes in batches, but never delay a new file.
            let next = started + EVENT_GAP;
            thread::sleep(next.saturating_duration_since(Instant::now()));
        }
    }
}

/// Before following a file from its end: find the W3C header its next
/// lines need, backfill the window (when `after` is set), and give the
/// decoder the header.
fn prepare(
    follower: &Follower,
    format: &LogFormat,
    after: Option<i64>,
    tx: &SyncSender<Msg>,
) -> Result<Decoder, Gone> {
    let path = follower.path();
    let header = match follower.current() {
        Some((file, end)) if format.reads_w3c() => match file.try_clone() {
            Ok(mut file) => find_header(&mut file, end, format),
            Err(_) => Header::default(),
        },
        _ => Header::default(),
    };
    if header.gave_up {
        let notice = format!(
            "{}: no #Fields: directive in the last {} MiB; lines before the next one are counted invalid",
            path.display(),
            HEADER_SEARCH >> 20
        );
        send(tx, Msg::Notice(notice))?;
    }
    if let Some(after) = after {
        backfill(follower, after, format, &header.directives, tx)?;
    }
    let mut decoder = Decoder::new(format.clone());
    decoder.prime(&header.directives);
    Ok(decoder)
}

/// The files the globs match now that no follower follows or holds, nor
/// is a rotated sibling of a followed path (its follower reads those), nor
/// is compressed (an archive).
fn new_matches(globs: &[String], tails: &[Tail]) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = Vec::new();
    for glob in globs {
        for path in crate::inputs::expand(glob) {
            let known = |p: &Path| {
                tails.iter().any(|t| t.follower.path() == p) || found.iter().any(|f| f == p)
            };
            if known(&path)
                || crate::inputs::covered(&path, tails.iter().map(|t| t.follower.path()))
            {
                continue;
            }
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            let seen = Seen::of(&meta);
            if tails.iter().any(|t| t.follower.holds(&seen)) || crate::inputs::is_archive(&path) {
                continue;
            }
            found.push(path);
        }
    }
    found
}

/// Read the end of the followed file backward and send the lines stamped
/// after `after` (and a few seconds before, for out-of-order stamps).
///
/// NOTE: lines older than the newest `#Fields:` are read with its columns
/// too, so after a mid-file column change they fail and end the backfill
/// early. The window then holds fewer old hits; nothing is miscounted.
///
/// Returns the bytes read back.
fn backfill(
    follower: &Follower,
    after: i64,
    format: &LogFormat,
    directives: &[Vec<u8>],
    tx: &SyncSender<Msg>,
) -> Result<u64, Gone> {
    let mut decoder = Decoder::new(format.clone());
    decoder.prime(directives);
    let mut parser = Parser::with_format(format.clone());
    let mut bytes = 0;
    for line in directives {
        let _ = parser.parse(line);
    }
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
    Ok(bytes)
}

/// What [`find_header`] found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Header {
    /// The newest `#Date:` and `#Fields:` directives, in file order.
    pub directives: Vec<Vec<u8>>,
    /// Whether it read [`HEADER_SEARCH`] bytes of W3C-looking lines without
    /// finding a `#Fields:` directive.
    pub gave_up: bool,
}

/// Following from `end`: find the W3C header the next lines need, by reading
/// backward from `end` (as the backfill does) to the newest `#Fields:`
/// directive and the directives just above it, for the newest `#Date:`.
///
/// In `auto` the search stops at once when the newest request line parses
/// as CLF or is JSON: such a log has no header to find, and must not cost a
/// 64 MiB read at startup. It gives up after [`HEADER_SEARCH`] bytes, but
/// says so only when the newest line does not fit the IIS default fields
/// (a headerless IIS log is read with those). A byte-order mark before a
/// directive is skipped.
pub fn find_header(file: &mut File, end: u64, format: &LogFormat) -> Header {
    let mut fields: Option<Vec<u8>> = None;
    let mut date: Option<Vec<u8>> = None;
    let mut probe = Parser::with_format(LogFormat::Clf);
    let mut requests = 0u64;
    let mut scanned = 0u64;
    let mut gave_up = false;
    let mut headerless = false;
    let mut done = false;
    let _ = read_back(file, end, |line| {
        if done {
            return false;
        }
        scanned += line.len() as u64 + 1;
        let line = w3c::strip_bom(line);
        if line.first() == Some(&b'#') {
            if fields.is_none() && w3c::directive_is(line, b"Fields") {
                fields = Some(line.to_vec());
            } else if date.is_none() && w3c::directive_is(line, b"Date") {
                date = Some(line.to_vec());
            }
            return true;
        }
        requests += 1;
        if requests == 1 && *format != LogFormat::W3c {
            headerless = w3c::W3c::default().parse_headerless(line).is_ok();
        }
        // A request line above the `#Fields:` ends its header block.
        done = fields.is_some()
            || (*format == LogFormat::Auto
                && requests == 1
                && (line.first() == Some(&b'{') || probe.parse(line).is_ok()));
        if !done && scanned > HEADER_SEARCH {
            gave_up = !headerless;
            done = true;
        }
        !done
    });
    Header {
        directives: date.into_iter().chain(fields).collect(),
        gave_up,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backfill::BLOCK;
    use std::io::Write;
    use std::sync::mpsc;

    fn file_with(content: &[u8]) -> (File, u64) {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(content).unwrap();
        (file, content.len() as u64)
    }

    const W3C: &[u8] = b"#Software: IIS\n#Date: 2026-03-01 00:00:00\n#Fields: date time sc-status\n2026-03-01 12:00:00 200\n";

    #[test]
    fn finds_the_newest_fields_and_date_of_a_w3c_log() {
        let mut log = W3C.to_vec();
        log.extend_from_slice(
            b"#Date: 2026-03-02 00:00:00\n#Fields: time sc-status\n12:00:00 200\n12:00:01 200\n",
        );
        let (mut file, end) = file_with(&log);
        for format in [LogFormat::Auto, LogFormat::W3c] {
            let header = find_header(&mut file, end, &format);
            assert_eq!(
                header,
                Header {
                    directives: vec![
                        b"#Date: 2026-03-02 00:00:00".to_vec(),
                        b"#Fields: time sc-status".to_vec()
                    ],
                    gave_up: false
                }
            );
        }
    }

    #[test]
    fn a_primed_decoder_reads_w3c_lines_from_the_end() {
        let (mut file, end) = file_with(W3C);
        let header = find_header(&mut file, end, &LogFormat::W3c);
        let mut decoder = Decoder::new(LogFormat::W3c);
        decoder.prime(&header.directives);
        decoder.push(b"2026-03-01 12:00:01 404\n");
        let batch = decoder.take();
        assert_eq!((batch.hits.len(), batch.invalid()), (1, 0));
        assert_eq!(batch.hits[0].status, 404);
    }

    #[test]
    fn auto_does_not_search_a_clf_log() {
        let clf = b"1.2.3.4 - - [01/Mar/2026:12:00:00 +0000] \"GET / HTTP/1.1\" 200 1\n";
        let (mut file, end) = file_with(&clf.repeat(1000));
        assert_eq!(
            find_header(&mut file, end, &LogFormat::Auto),
            Header::default()
        );
    }

    #[test]
    fn auto_does_not_search_a_json_log() {
        let json = b"{\"ts\":1,\"request\":{},\"status\":200}\n";
        let (mut file, end) = file_with(&json.repeat(1000));
        assert_eq!(
            find_header(&mut file, end, &LogFormat::Auto),
            Header::default()
        );
    }

    #[test]
    fn a_headerless_iis_log_gives_no_header_and_no_complaint() {
        let line = b"2026-03-01 12:00:00 10.0.0.1 GET / - 80 - 1.2.3.4 - - 200 0 0 1\n";
        let (mut file, end) = file_with(&line.repeat(100));
        for format in [LogFormat::Auto, LogFormat::Iis] {
            assert_eq!(find_header(&mut file, end, &format), Header::default());
        }
    }

    #[test]
    fn a_fields_directive_behind_a_byte_order_mark_is_found() {
        let (mut file, end) =
            file_with(b"\xEF\xBB\xBF#Fields: date time sc-status\n2026-03-01 12:00:00 200\n");
        assert_eq!(
            find_header(&mut file, end, &LogFormat::Auto).directives,
            [b"#Fields: date time sc-status".to_vec()]
        );
    }

    /// Gives its bytes one at a time, as a pipe may, and counts the reads.
    struct Trickle(Vec<u8>, Arc<AtomicU64>);

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.1.fetch_add(1, Ordering::Relaxed);
            if self.0.is_empty() || buf.is_empty() {
                return Ok(0);
            }
            buf[0] = self.0.remove(0);
            Ok(1)
        }
    }

    #[test]
    fn archives_are_told_by_their_first_bytes_read_one_at_a_time() {
        let text = b"1.2.3.4 - - [01/Mar/2026:12:00:00 +0000] \"GET / HTTP/1.1\" 200 1\n";
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(text).unwrap();
        let gz = gz.finish().unwrap();
        let zst = zstd::stream::encode_all(&text[..], 1).unwrap();
        for (bytes, kind) in [
            (gz, Some(Compression::Gzip)),
            (zst, Some(Compression::Zstd)),
            (text.to_vec(), None),
            // Starts like zstd's magic number, and is not.
            (b"(\xb5x\n".to_vec(), None),
        ] {
            let reads = Arc::new(AtomicU64::new(0));
            let input = Box::new(Trickle(bytes.clone(), reads.clone()));
            let (mut plain, got) = decompressed(input).unwrap();
            assert_eq!(got, kind);
            let mut out = Vec::new();
            plain.read_to_end(&mut out).unwrap();
            match kind {
                Some(_) => assert_eq!(out, text),
                None => assert_eq!(out, bytes),
            }
        }
        // A plain line decides at its first byte: nothing more is awaited.
        let reads = Arc::new(AtomicU64::new(0));
        let _ = decompressed(Box::new(Trickle(b"x".to_vec(), reads.clone()))).unwrap();
        assert_eq!(reads.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn only_lines_starting_with_a_hash_or_a_brace_unsettle() {
        assert!(has_switching_line(b"#Fields: x\n"));
        assert!(has_switching_line(b"a\n{\"ts\":1}\n"));
        assert!(has_switching_line(b"a\nb\n#\n"));
        assert!(!has_switching_line(b"a # b { c\nd#{\n"));
        assert!(!has_switching_line(b""));
    }

    #[test]
    fn a_w3c_log_without_fields_gives_no_header() {
        let (mut file, end) = file_with(&b"2026-03-01 12:00:00 200\n".repeat(100));
        assert_eq!(
            find_header(&mut file, end, &LogFormat::W3c),
            Header::default()
        );
    }

    #[test]
    fn directives_are_neither_hits_nor_invalid() {
        let mut decoder = Decoder::new(LogFormat::Auto);
        decoder.push(W3C);
        decoder.push(b"junk\n");
        let batch = decoder.take();
        assert_eq!((batch.hits.len(), batch.invalid()), (1, 1));
        assert_eq!(
            decoder.take_notice().as_deref(),
            Some("log format: w3c (W3C Extended, from its #Fields: directive)")
        );
    }

    #[test]
    fn a_nul_byte_makes_its_line_invalid_whichever_chunk_it_came_in() {
        let good = line_at(1_772_366_400);
        let with_nul = good.replace("/api", "/a\0pi");
        // The NUL in the head: the chunk with the tail is clean itself.
        let (head, tail) = with_nul.split_at(with_nul.find('\0').unwrap() + 2);
        let mut decoder = Decoder::new(LogFormat::Auto);
        // A NUL in a chunk's own line, then in a line carried over from
        // it into a clean chunk, then clean chunks again.
        for chunk in [
            format!("{good}{with_nul}{good}{head}"),
            format!("{tail}{good}"),
            good.clone(),
        ] {
            decoder.push(chunk.as_bytes());
        }
        decoder.push(head.as_bytes());
        decoder.push(tail.as_bytes());
        decoder.line(Line::Complete(with_nul.trim_end().as_bytes()));
        decoder.finish();
        let batch = decoder.take();
        assert_eq!((batch.hits.len(), batch.invalid()), (4, 4));
        assert_eq!(batch.invalid_at, [1, 2, 4, 4]);
    }

    /// A hit as (time, status, section, the text of its keys).
    type Flat = (i64, u16, Option<String>, Vec<Option<Vec<u8>>>);

    /// The hits of `batches`, and where the invalid lines fell among them.
    fn flat(batches: &[Batch]) -> (Vec<Flat>, Vec<usize>) {
        let (mut hits, mut invalid) = (Vec::new(), Vec::new());
        for batch in batches {
            let sections = batch.sections();
            invalid.extend(batch.invalid_at.iter().map(|&at| hits.len() + at as usize));
            hits.extend(batch.hits.iter().enumerate().map(|(i, h)| {
                let k = batch.keys_of(i);
                let texts = [k.path, k.agent, k.referrer].map(|k| k.map(|k| k.text.to_vec()));
                let mut keys = vec![k.client.map(<[u8]>::to_vec)];
                keys.extend(texts);
                (h.time, h.status, sections.of(h).map(str::to_owned), keys)
            }));
        }
        (hits, invalid)
    }

    #[test]
    fn lines_handed_to_the_loop_decode_as_the_reader_would() {
        // CLF with junk, an overlong line, then a W3C block and CLF again,
        // in chunks that cut lines anywhere.
        let mut log = String::new();
        for at in 0..300 {
            log.push_str(&line_at(1_772_366_400 + at));
            if at % 50 == 7 {
                log.push_str("junk\n");
            }
            if at == 120 {
                log.push_str(&"x".repeat(crate::lines::MAX_LINE + 10));
                log.push('\n');
            }
            if at == 90 || at == 250 {
                // JSON lines are announced, so they unsettle the parser.
                log.push_str(&format!(
                    "{{\"ts\":{},\"request\":{{\"uri\":\"\\/json\\/x\"}},\"status\":200}}\n",
                    1_772_366_400 + at
                ));
            }
            if at == 250 {
                // Right after a JSON line, IIS's default fields are tried.
                log.push_str("2026-03-01 12:04:10 - GET /iis - 80 - - - - 200 0 0 1\n");
            }
            if at == 200 {
                log.push_str("#Fields: date time sc-status\n2026-03-01 12:00:00 200\n");
            }
        }
        let nginx = r#"$remote_addr - $remote_user [$time_local] "$request" $status $bytes_sent"#;
        for format in [
            LogFormat::Auto,
            LogFormat::Clf,
            LogFormat::Common,
            LogFormat::parse(nginx).unwrap(),
        ] {
            for chunk in [1000, 4096, 70_000] {
                let mut plain = Decoder::new(format.clone());
                let mut want = Vec::new();
                let mut reader = Decoder::new(format.clone());
                let mut main = Decoder::for_loop(format.clone());
                let mut got = Vec::new();
                let mut handed = 0;
                for data in log.as_bytes().chunks(chunk) {
                    plain.push(data);
                    want.push(plain.take());
                    if let Some(raw) = reader.push_or_hand_over(block_of(&reader, data)) {
                        got.push(main.decode(raw));
                        handed += 1;
                    }
                    got.push(reader.take());
                }
                plain.finish();
                want.push(plain.take());
                reader.finish();
                got.push(reader.take());
                // (70,000-byte chunks settle only after the `#Fields:`.)
                assert!(handed > 0 || chunk == 70_000, "{format:?} {chunk}");
                assert_eq!(flat(&got), flat(&want), "{format:?} {chunk}");
            }
        }
    }

    /// A block from `decoder`'s pool holding `data`.
    fn block_of(decoder: &Decoder, data: &[u8]) -> Block {
        let mut block = decoder.spare_block();
        block.bytes_mut().clear();
        block.bytes_mut().extend_from_slice(data);
        block
    }

    #[test]
    fn blocks_come_back_for_reuse_once_their_batch_is_dropped() {
        let lines: String = (0..100).map(|at| line_at(1_772_366_400 + at)).collect();
        let mut reader = Decoder::new(LogFormat::Clf);
        let mut main = Decoder::for_loop(LogFormat::Clf);
        reader.push(lines.as_bytes()); // settles the parser
        let block = block_of(&reader, lines.as_bytes());
        let first = block.bytes().as_ptr();
        let raw = reader.push_or_hand_over(block).unwrap();
        assert_eq!(raw.block.bytes(), lines.as_bytes(), "only the new lines");
        let batch = main.decode(raw);
        assert_eq!(batch.hits.len(), 100);
        assert_eq!(batch.keys_of(99).client, Some(&b"10.0.0.1"[..]));
        drop(batch);
        let block = reader.spare_block();
        assert_eq!(block.bytes().as_ptr(), first);
        reader.push_block(block_of(&reader, lines.as_bytes()));
        let batch = reader.take();
        assert_eq!(batch.keys_of(0).path.unwrap().text, b"/api/user");
    }

    #[test]
    fn keys_lent_from_blocks_read_as_keys_copied() {
        let log = "203.0.113.7 - - [01/Mar/2026:12:00:00 +0000] \"GET /a/b?x=1 HTTP/1.1\" 200 1 \"https://Ref.Example/p\" \"curl/8\"\n\
                   ::1 - - [01/Mar/2026:12:00:01 +0000] \"GET /%7Eu/x HTTP/1.1\" 200 1 \"http://ref.example/\" \"-\"\n\
                   198.51.100.2 - - [01/Mar/2026:12:00:02 +0000] \"-\" 408 0\n";
        for chunk in [7, 64, 4096] {
            let mut copied = Decoder::new(LogFormat::Auto);
            let mut lent = Decoder::new(LogFormat::Auto);
            lent.share_clients(&copied.sink.clients);
            for data in log.as_bytes().chunks(chunk) {
                copied.push(data);
                lent.push_block(block_of(&lent, data));
            }
            let (copied, lent) = (copied.take(), lent.take());
            assert_eq!(lent.hits.len(), 3);
            for i in 0..3 {
                assert_eq!(lent.keys_of(i), copied.keys_of(i), "hit {i}, chunk {chunk}");
            }
        }
    }

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
        let Ok(bytes) = backfill(&follower, now - window, &LogFormat::Auto, &[], &tx) else {
            panic!("the receiver is alive");
        };
        let Ok(Msg::Backfill(batch)) = rx.try_recv() else {
            panic!("no backfill batch");
        };
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
