//! `run`: wires the parts together and owns the main loop.
//!
//! Everything is resolved once here: the input (with no LOG_FILE, the
//! default log if it exists, else an error naming the usual logs that do;
//! in `--replay` a missing file fails at once; when following, a missing
//! file is waited for; globs expanded, each file once: see `inputs`), the
//! style, the clock. Then the reader thread sends batches and the loop
//! feeds them to the `Monitor`, printing what it returns. A replay in which
//! no line parsed is an error, not a report. With several files or a glob,
//! the monitor counts each file's hits (it is told their names), and with
//! `--from-start` it reads the backlog on the log's clock, then goes live
//! at `Msg::BacklogDone`.
//!
//! stderr carries diagnostics only (the startup line, notices, the replay
//! progress bar), and `--quiet` silences all of them but errors; stdout
//! carries reports and alerts. Like reports, diagnostics fit 80 columns
//! (but for the text they quote) and never say "alert": only alert and
//! recovery lines do.
//!
//! On the wall clock, every wake of the loop (a message or a timeout, at
//! least once a second) first closes the seconds that have passed, so alerts
//! and reports stay on time under any input. Following a file, it first asks
//! the follower to read to the end and counts what comes before the answer
//! (`Pump::read_to_end`), so that after a stall the lines written in a
//! second close it, rather than the clock alone (`Monitor::clock_at`). It
//! also checks the wall clock for steps (`clock`) and stdout for a reader
//! that has gone (`stdio`).
//!
//! With `--serve`, the dashboard gets each batch read since start and,
//! before they are printed, the monitor's gauges and the events; the server
//! runs on threads of its own and never holds up the loop.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, IsTerminal, Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TryRecvError};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use indicatif::{ProgressBar, ProgressStyle};

use crate::batch::Batch;
use crate::cli::{self, Args, ColorChoice, Format, LogFormat};
use crate::clock::{self, unix_now, until_next_second, Steps};
use crate::follow::{Follower, Waker, Watcher};
use crate::gen::{GenFormat, Generator, Shape};
use crate::geo::Geo;
use crate::inputs::{self, Inputs};
use crate::monitor::{Config, Event, Monitor};
use crate::notice::{self, Notices};
use crate::parse::FORMAT_HINT;
use crate::reader::{self, Decoder, Follow, Msg, ReadToEnd, Source};
use crate::render::{self, Style, Text, WIDTH};
use crate::serve::Dashboard;
use crate::stdio::StdoutWatch;

/// Batches in flight between the reader and the loop. Bounded, so a reader
/// that outpaces the loop waits instead of filling memory.
const CHANNEL_DEPTH: usize = 4;

/// Output buffer: room for the events of one batch of a replay (about 40
/// JSON reports at 10 lines/s), so that it is written in one go.
const OUTPUT_BUFFER: usize = 64 * 1024;

/// After Ctrl-C or SIGTERM, how long the loop waits for the follower's last
/// poll (the loop wakes it out of its wait).
/// Kept well under a second, so that a signal still ends the run at once.
const LAST_POLL: Duration = Duration::from_millis(500);

/// Following, how long the loop waits for the follower to read to the
/// end before it closes the seconds that have passed (see
/// `Pump::read_to_end`). Reading what piled up in a stall of a minute takes
/// well under this; a read stuck on a slow disk holds the reports up this
/// long, once, and then no longer until it is answered.
const SYNC_WAIT: Duration = Duration::from_secs(1);

/// Replays of files at least this large show a progress bar (on a
/// terminal): smaller ones end before a bar would be worth drawing.
const PROGRESS_MIN_BYTES: u64 = 4 << 20;

/// How a run ended, for the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Alerts that fired during the run.
    pub alerts: u64,
}

/// Run logmon with parsed arguments until the input ends or a signal.
pub fn run(args: Args) -> Result<Outcome> {
    let style = Style {
        color: use_color(args.color),
        utc: args.utc,
        ascii: args.ascii || !utf8_locale(|name| std::env::var_os(name)),
    };
    let cfg = Config {
        period_secs: args.period,
        window_secs: args.window,
        threshold: args.threshold,
        top: args.top,
    };
    let mut out = Output {
        w: io::BufWriter::with_capacity(OUTPUT_BUFFER, io::stdout().lock()),
        format: args.format,
        text: Text::with_blocks(style, &args.show),
        line: Vec::new(),
        dashboard: None,
        progress: None,
        geo: None,
    };
    // Before anything starts: without a LOG_FILE, there may be no log to
    // read at all.
    let given = match (args.log_files.is_empty(), args.demo) {
        (false, _) => args.log_files.clone(),
        (true, true) => Vec::new(),
        (true, false) => vec![cli::default_log(|p| p.exists()).map_err(anyhow::Error::msg)?],
    };

    // Before anything starts: a bad database is an error naming it.
    out.geo = args.geoip.as_deref().map(Geo::open).transpose()?;

    let (tx, rx) = mpsc::sync_channel(CHANNEL_DEPTH);
    let stop = on_signal(tx.clone())?;
    // Before the input: a port in use fails the run before it starts.
    if let Some(addr) = args.serve {
        out.dashboard = Some(serve(addr, &cfg, args.quiet)?);
    }
    let demo = match args.demo {
        true => Some(Demo::start(stop.clone(), args.quiet)?),
        false => None,
    };
    let given = match &demo {
        Some(demo) => vec![demo.path.clone()],
        None => given,
    };
    let files = Inputs::resolve(&given)?;
    let per_file = files.per_file(&given);
    let (path, name) = match (files.stdin, &files.paths[..]) {
        (true, _) => (PathBuf::from("-"), PathBuf::from("stdin")),
        (false, [one]) if files.globs.is_empty() => (one.clone(), one.clone()),
        (false, paths) => (
            paths.first().cloned().unwrap_or_default(),
            PathBuf::from(match paths.len() {
                1 => "1 file".to_owned(),
                n => format!("{n} files"),
            }),
        ),
    };
    let input = Input {
        name,
        path,
        files,
        per_file,
        // Raised in a replay when the loop finds no message waiting: the
        // reader then hands it a block to decode (see `reader`).
        idle: reader::Idle::default(),
        stop,
        follows: false,
        wake: None,
        read_to_end: None,
    };
    let (mut monitor, input) = match args.replay {
        true => start_replay(&args, cfg, input, &mut out, tx)?,
        false => start_following(&args, cfg, input, &mut out, tx)?,
    };
    if out.geo.is_some() {
        monitor = monitor.with_countries();
    }

    let mut events = Vec::new();
    let mut notices = Notices::new();
    let pumped = pump(
        &args,
        &input,
        &rx,
        &mut monitor,
        &mut out,
        &mut events,
        &mut notices,
    );
    // The counts still held back, even when the run failed.
    notices.finish();
    let unparsed = pumped?;
    if !args.replay {
        monitor.tick(unix_now(), &mut events);
    }
    // Off the screen before the last report and the summary.
    drop(out.progress.take());
    monitor.finish(&mut events);
    let summary = events.iter().find_map(|e| match e {
        Event::Summary(s) => Some(*s),
        _ => None,
    });
    if let Some(s) = summary.filter(|s| args.replay && s.hits == 0 && s.invalid > 0) {
        // Not a quiet log but an unreadable one: say why, and fail.
        let name = match input.files.paths.len() {
            n if n > 1 => format!("the {n} files"),
            _ => input.name.display().to_string(),
        };
        bail!(nothing_parsed(
            &name,
            s.invalid,
            &args.log_format,
            unparsed.as_deref()
        ));
    }
    let alerts = summary.map_or(0, |s| s.alerts);
    out.emit(&monitor, &mut events)?;
    if let (Some(dashboard), true) = (&out.dashboard, args.replay) {
        // Said even with --quiet: otherwise the run would seem to hang.
        notice::say(&format!(
            "logmon: replay done; serving the final state on http://{}/ until Ctrl-C",
            dashboard.addr()
        ));
        while !input.stop.load(Ordering::SeqCst) {
            let _ = rx.recv_timeout(Duration::from_secs(1));
        }
    }
    drop(demo);
    Ok(Outcome { alerts })
}

/// Say on stderr, after the startup line, which format lines are read in
/// when it was given: `auto` says what it finds as it reads.
fn say_log_format(format: &LogFormat) {
    const PREFIX: &str = "logmon: ";
    if *format == LogFormat::Auto {
        return;
    }
    notice::say(&format!("{PREFIX}{}", format.describe(80 - PREFIX.len())));
    if let LogFormat::Pattern(pattern) = format {
        if pattern.local_time() {
            notice::say(&format!(
                "{PREFIX}its times have no UTC offset: read in the local time zone (TZ)"
            ));
        }
    }
}

/// The input, and how the loop and the reader thread talk about it.
struct Input {
    /// The one path read (`-` for stdin), or the first of several.
    path: PathBuf,
    /// The input as messages name it: its path, `stdin` for `-`, or how
    /// many files there are.
    name: PathBuf,
    /// Every path and glob to read.
    files: Inputs,
    /// Whether reports count each file's hits (several files, or a glob).
    per_file: bool,
    /// Set by the loop when it runs dry in a replay (see `reader`).
    idle: reader::Idle,
    /// Set by Ctrl-C or SIGTERM.
    stop: Arc<AtomicBool>,
    /// Whether a follower reads the input (not a pipe): it backfills at
    /// start and polls once more at a signal.
    follows: bool,
    /// Wakes the follower out of its wait (for its last poll at a signal).
    wake: Option<Waker>,
    /// Asks the follower to read to the end before seconds close.
    read_to_end: Option<ReadToEnd>,
}

/// Ctrl-C and SIGTERM end the run cleanly: the loop reports the partial
/// period and the summary. The returned flag is raised, and `Msg::Stop`
/// wakes the loop; if the channel is full the loop is busy receiving and
/// sees the flag at its next message.
fn on_signal(tx: SyncSender<Msg>) -> Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    ctrlc::set_handler(move || {
        flag.store(true, Ordering::SeqCst);
        let _ = tx.try_send(Msg::Stop);
    })
    .context("cannot install the Ctrl-C handler")?;
    Ok(stop)
}

/// `--replay`: read the whole input on the log's clock. A missing file
/// fails here, before anything is printed. Several files are read merged
/// in time order.
fn start_replay(
    args: &Args,
    cfg: Config,
    input: Input,
    out: &mut Output<impl Write>,
    tx: SyncSender<Msg>,
) -> Result<(Monitor, Input)> {
    let mut monitor = Monitor::log(cfg);
    if input.per_file {
        for (i, path) in input.files.paths.iter().enumerate() {
            monitor.name_file(i as u32, &inputs::display(path));
        }
    }
    let paths = &input.files.paths;
    let source = if input.files.stdin {
        Source::Whole(Box::new(io::stdin()))
    } else if paths.is_empty() {
        bail!("no file matches {}", input.files.globs.join(", "));
    } else {
        let mut files = Vec::with_capacity(paths.len());
        let mut size = 0;
        for path in paths {
            let file = open(path)?;
            size += file.metadata().map(|m| m.len()).unwrap_or(0);
            files.push(file);
        }
        let counted = match !args.quiet && size >= PROGRESS_MIN_BYTES && io::stderr().is_terminal()
        {
            true => {
                let ascii = out.text.style().ascii;
                let progress = Progress::new(size, ascii, io::stdout().is_terminal());
                let bytes = progress.bytes.clone();
                out.progress = Some(progress);
                Some(bytes)
            }
            false => None,
        };
        let mut inputs: Vec<reader::FileInput> = files
            .into_iter()
            .zip(paths)
            .enumerate()
            .map(|(i, (file, path))| reader::FileInput {
                input: match &counted {
                    Some(bytes) => Box::new(Counted {
                        inner: file,
                        bytes: bytes.clone(),
                    }),
                    None => Box::new(file),
                },
                name: path.clone(),
                file: i as u32,
            })
            .collect();
        match inputs.len() {
            1 => Source::Whole(inputs.remove(0).input),
            _ => Source::Files(inputs),
        }
    };
    reader::spawn(
        source,
        input.name.clone(),
        args.log_format.clone(),
        input.idle.clone(),
        tx,
    )?;
    Ok((monitor, input))
}

/// Following (the default): the wall clock, a follower on a file (or a
/// stream read to its end), and a missing file waited for.
fn start_following(
    args: &Args,
    cfg: Config,
    mut input: Input,
    out: &mut Output<impl Write>,
    tx: SyncSender<Msg>,
) -> Result<(Monitor, Input)> {
    let now = unix_now();
    let files = &input.files;
    let one = match (&files.paths[..], files.globs.is_empty()) {
        ([one], true) => Some(one),
        _ => None,
    };
    let mut followed = 0;
    let source = if files.stdin {
        Source::Whole(Box::new(io::stdin()))
    } else if let Some(path) = one.filter(|p| is_stream(p)) {
        // A pipe cannot be read at an offset or rotated: read it like
        // stdin (`logmon <(kubectl logs -f pod)`, a named pipe).
        Source::Whole(Box::new(open(path)?))
    } else {
        let watcher = Watcher::new(!args.no_inotify);
        let mut followers = Vec::with_capacity(files.paths.len());
        let mut size = 0;
        for i in 0..files.paths.len() {
            let Some(follower) = open_to_follow(files, i, args.from_start, args.quiet)? else {
                continue;
            };
            size += follower
                .current()
                .map_or(0, |(f, _)| f.metadata().map_or(0, |m| m.len()));
            let mut follower = Box::new(follower);
            follower.watch_with(&watcher);
            followers.push((follower, i as u32));
        }
        followed = followers.len();
        let progress = match args.from_start
            && !args.quiet
            && size >= PROGRESS_MIN_BYTES
            && io::stderr().is_terminal()
        {
            true => {
                let progress =
                    Progress::new(size, out.text.style().ascii, io::stdout().is_terminal());
                let bytes = progress.bytes.clone();
                out.progress = Some(progress);
                Some(bytes)
            }
            false => None,
        };
        let waker = watcher.waker();
        let read_to_end = ReadToEnd::new(waker.clone());
        input.wake = Some(waker);
        input.read_to_end = Some(read_to_end.clone());
        Source::Follow(Follow {
            followers,
            globs: files.globs.clone(),
            watcher,
            every: Duration::from_millis(args.poll_ms),
            // The backlog fills the window instead.
            backfill_after: (!args.from_start).then(|| now - i64::from(args.window)),
            stop: input.stop.clone(),
            read_to_end,
            from_start: args.from_start,
            progress,
        })
    };
    input.follows = matches!(source, Source::Follow(_));
    let mut monitor = match args.from_start && input.follows {
        // The backlog is read on the log's clock (`Msg::BacklogDone`); a
        // pipe has none, and is read as it comes.
        true => Monitor::log(cfg),
        false => Monitor::wall(cfg, now),
    };
    if input.per_file {
        for (i, path) in input.files.paths.iter().enumerate() {
            monitor.name_file(i as u32, &inputs::display(path));
        }
    }
    reader::spawn(
        source,
        input.name.clone(),
        args.log_format.clone(),
        input.idle.clone(),
        tx,
    )?;
    if !args.quiet {
        // The first report comes only after a period: say what is going on.
        let what = match (input.per_file, followed) {
            (false, _) => input.name.display().to_string(),
            (true, 0) => "no file yet".to_owned(),
            (true, 1) => "1 file".to_owned(),
            (true, n) => format!("{n} files"),
        };
        notice::say(&fit(
            format!("logmon: following {what}:"),
            &format!(
                "threshold {} req/s over {} s, a report every {} s",
                args.threshold, args.window, args.period
            ),
        ));
        say_log_format(&args.log_format);
    }
    if input.follows && !args.from_start {
        // The follower backfills first (`Msg::BackfillDone`, even when
        // there is nothing to read).
        monitor.await_backfill();
    }
    Ok((monitor, input))
}

/// The follower for `files.paths[i]`, or `None` when it is not to be
/// followed: a glob's match that is a directory or an archive, or a
/// rotated name of another path followed (whose follower reads what it
/// needs of it). Named on the command line, a directory, an archive or a
/// pipe among several files is an error.
fn open_to_follow(
    files: &Inputs,
    i: usize,
    from_start: bool,
    quiet: bool,
) -> Result<Option<Follower>> {
    let path = &files.paths[i];
    let explicit = files.explicit[i];
    if path.is_dir() {
        match explicit {
            true => bail!("cannot open {}: is a directory", path.display()),
            false => return Ok(None),
        }
    }
    if let Some(kind) = inputs::compression(path) {
        match explicit {
            true => return Err(kind.follow_error(path)),
            false => return Ok(None),
        }
    }
    if inputs::covered(path, files.paths.iter().map(PathBuf::as_path)) {
        if explicit && !quiet {
            notice::say(&format!(
                "logmon: {}: a rotated name of another file followed, read as it rotates",
                path.display()
            ));
        }
        return Ok(None);
    }
    if is_stream(path) {
        bail!(
            "cannot follow {} with other files: it is a pipe",
            path.display()
        );
    }
    let open = match from_start {
        true => Follower::open_from_start,
        false => Follower::open,
    };
    open(path)
        .map(Some)
        .with_context(|| format!("cannot open {}", path.display()))
}

/// The main loop: receive the reader's messages until the input ends or a
/// signal, feed them to the monitor and print what it returns. Returns the
/// first line that failed when no line parsed (see `Msg::Unparsed`).
fn pump(
    args: &Args,
    input: &Input,
    rx: &Receiver<Msg>,
    monitor: &mut Monitor,
    out: &mut Output<impl Write>,
    events: &mut Vec<Event>,
    notices: &mut Notices,
) -> Result<Option<String>> {
    let mut pump = Pump {
        args,
        input,
        rx,
        monitor,
        out,
        events,
        notices,
        decoder: Decoder::for_loop(args.log_format.clone()),
        unparsed: None,
        warned_old: false,
        warned_ahead: false,
        unanswered: None,
    };
    pump.run()?;
    Ok(pump.unparsed)
}

/// Whether the loop goes on after a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Go,
    End,
}

/// The main loop's state (see [`pump`]).
struct Pump<'a, W: Write> {
    args: &'a Args,
    input: &'a Input,
    rx: &'a Receiver<Msg>,
    monitor: &'a mut Monitor,
    out: &'a mut Output<W>,
    events: &'a mut Vec<Event>,
    notices: &'a mut Notices,
    /// Decodes the blocks the reader hands over (`Msg::Raw`).
    decoder: Decoder,
    /// The first line that failed, when no line parsed.
    unparsed: Option<String>,
    warned_old: bool,
    warned_ahead: bool,
    /// A request to read to the end that the follower has not answered
    /// within [`SYNC_WAIT`]: a stuck read, which later wakes do not wait
    /// for again until it answers.
    unanswered: Option<u64>,
}

impl<W: Write> Pump<'_, W> {
    fn run(&mut self) -> Result<()> {
        let wall = !self.args.replay;
        let mut steps = Steps::new();
        let stdout = StdoutWatch::new();
        // After a signal, when to give up waiting for the follower's last poll.
        let mut deadline: Option<Instant> = None;
        loop {
            if deadline.is_none() && self.input.stop.load(Ordering::SeqCst) {
                if !self.input.follows {
                    // A pipe may block in a read forever: stop now.
                    return Ok(());
                }
                // The follower polls once more and ends with `Done`, so lines
                // written up to the signal are counted.
                deadline = Some(Instant::now() + LAST_POLL);
                if let Some(wake) = &self.input.wake {
                    wake.wake();
                }
            }
            let msg = if wall {
                if stdout.gone() {
                    return Err(reader_gone());
                }
                let now = self.observe_clock(&mut steps);
                if deadline.is_none() && self.read_to_end(now)? == Flow::End {
                    return Ok(());
                }
                self.monitor.tick(now, self.events);
                self.out.emit(self.monitor, self.events)?;
                let mut wait = until_next_second();
                if let Some(deadline) = deadline {
                    wait = wait.min(deadline.saturating_duration_since(Instant::now()));
                }
                match self.rx.recv_timeout(wait) {
                    Ok(msg) => {
                        // The lines it brings may have been written in
                        // seconds that passed meanwhile (the process was
                        // stopped): they close them, not the clock alone.
                        self.observe_clock(&mut steps);
                        Some(msg)
                    }
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => Some(Msg::Done),
                }
            } else {
                Some(match self.rx.try_recv() {
                    Ok(msg) => msg,
                    Err(TryRecvError::Empty) => {
                        self.input.idle.store(true, Ordering::Relaxed);
                        // A slow input (`tail -f x | logmon --replay -`) may
                        // keep the loop waiting: look at stdout meanwhile.
                        loop {
                            match self.rx.recv_timeout(Duration::from_secs(1)) {
                                Ok(msg) => break msg,
                                Err(RecvTimeoutError::Timeout) if stdout.gone() => {
                                    return Err(reader_gone());
                                }
                                Err(RecvTimeoutError::Timeout) => {}
                                Err(RecvTimeoutError::Disconnected) => break Msg::Done,
                            }
                        }
                    }
                    Err(TryRecvError::Disconnected) => Msg::Done,
                })
            };
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(());
            }
            self.notices.tick();
            let Some(msg) = msg else { continue };
            if self.handle(msg)? == Flow::End {
                return Ok(());
            }
        }
    }

    /// Read the wall clock, re-anchor the monitor if it stepped, and tell
    /// the monitor the time (`Monitor::clock_at`). Returns the unix second.
    fn observe_clock(&mut self, steps: &mut Steps) -> i64 {
        let now_ms = clock::wall_ms();
        if let Some(step) = steps.check(Instant::now(), now_ms) {
            self.monitor
                .clock_stepped(step.expected, step.by, self.events);
            if !self.args.quiet {
                self.notices.repeat("clock step", &step.notice());
            }
        }
        let now = now_ms.div_euclid(1000);
        self.monitor.clock_at(now);
        now
    }

    /// Following a file, before the seconds up to `now` close: ask the
    /// follower to read what the file holds now, and count everything it
    /// sends up to its answer, at most [`SYNC_WAIT`]. A line written in a
    /// second then counts in it even when logmon was held up (stopped, a
    /// blocked stdout): the monitor closes each second as the stamps pass
    /// it (`Monitor::clock_at`).
    fn read_to_end(&mut self, now: i64) -> Result<Flow> {
        let Some(sync) = &self.input.read_to_end else {
            return Ok(Flow::Go);
        };
        if !self.monitor.behind(now) {
            return Ok(Flow::Go);
        }
        if self.unanswered.is_some() {
            // Still stuck: do not hold the reports up again. Its answer,
            // when it comes, is taken by `handle`.
            return Ok(Flow::Go);
        }
        let asked = sync.ask();
        let deadline = Instant::now() + SYNC_WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let msg = match self.rx.recv_timeout(left) {
                Ok(Msg::Synced(n)) if n >= asked => return Ok(Flow::Go),
                // A signal ends the run at once, from the top of the loop;
                // the answer is taken by `handle` if it comes.
                Ok(Msg::Stop) => {
                    self.unanswered = Some(asked);
                    return Ok(Flow::Go);
                }
                Ok(msg) => msg,
                Err(RecvTimeoutError::Timeout) => {
                    self.unanswered = Some(asked);
                    return Ok(Flow::Go);
                }
                Err(RecvTimeoutError::Disconnected) => Msg::Done,
            };
            if self.handle(msg)? == Flow::End {
                return Ok(Flow::End);
            }
        }
    }

    /// Act on one message from the reader, and print what follows.
    fn handle(&mut self, msg: Msg) -> Result<Flow> {
        let (args, monitor, events) = (self.args, &mut *self.monitor, &mut *self.events);
        match msg {
            Msg::Batch(mut batch) => self.out.add(monitor, &mut batch, events),
            Msg::Raw(raw) => self.out.add(monitor, &mut self.decoder.decode(raw), events),
            Msg::Backfill(batch) => monitor.backfill(&batch),
            Msg::BackfillDone => monitor.backfill_done(events),
            Msg::BacklogDone => {
                // Off the screen before what follows.
                drop(self.out.progress.take());
                let last = monitor.now();
                monitor.go_live(unix_now(), events);
                self.out.emit(self.monitor, self.events)?;
                if self.out.format == Format::Text {
                    let line = render::backlog_end(last, self.out.text.style());
                    self.out.write(&line)?;
                }
            }
            // The text is the key: a format switch back and forth, or a
            // file truncated in a loop, repeats the same few texts.
            Msg::Notice(notice) if !args.quiet => self.notices.repeat(&notice, &notice),
            Msg::Notice(_) => {}
            Msg::Unparsed(line) => self.unparsed = Some(line),
            Msg::File { file, name } => monitor.name_file(file, &name),
            Msg::Failed(e) => return Err(e),
            // Acted on at the top of the loop, through the flag.
            Msg::Stop => {}
            Msg::Synced(n) => {
                if self.unanswered.is_some_and(|asked| n >= asked) {
                    self.unanswered = None;
                }
            }
            Msg::Done => return Ok(Flow::End),
        }
        self.out.emit(self.monitor, self.events)?;
        if !args.replay && !args.quiet {
            self.warn_of_clocks();
        }
        Ok(Flow::Go)
    }

    /// The clocks disagree (an old file, a writer in another time zone):
    /// say so once for each direction, as the counts mean different things.
    /// Only the first line of each says "clock".
    fn warn_of_clocks(&mut self) {
        let (args, input, monitor) = (self.args, self.input, &*self.monitor);
        if !monitor.live() {
            // A backlog on its own clock (`--from-start`).
            return;
        }
        let name = input.name.display();
        if !self.warned_old && monitor.reads_an_old_log() {
            // All of the first lines: most likely a finished log piped in.
            self.warned_old = true;
            notice::say(&fit(
                format!(
                    "logmon: {name}: the first lines are more than {}s behind the clock:",
                    args.window
                ),
                &format!(
                    "an old log? `logmon --replay {}` reads it on its own time",
                    input.path.display()
                ),
            ));
        }
        if !self.warned_old && monitor.outside_window() > 0 {
            self.warned_old = true;
            notice::say(&fit(
                format!(
                    "logmon: {name}: some lines are more than {}s behind the clock:",
                    args.window
                ),
                "they count in the reports, not in the window average",
            ));
        }
        if !self.warned_ahead && monitor.far_ahead() > 0 {
            self.warned_ahead = true;
            notice::say(&fit(
                format!(
                    "logmon: {name}: some lines are more than {}s ahead of the clock",
                    args.window
                ),
                "(a writer in another time zone?): they count at the current second",
            ));
        }
    }
}

/// The reader of stdout has gone (`logmon access.log | head -1`): a broken
/// pipe, which ends the run quietly with status 0, as a failed write would.
fn reader_gone() -> anyhow::Error {
    anyhow::Error::new(io::Error::from(io::ErrorKind::BrokenPipe))
        .context("the reader of stdout has gone")
}

/// `head` and `tail` on one line when it fits 80 columns, else `tail` on
/// an indented line of its own.
fn fit(head: String, tail: &str) -> String {
    match head.chars().count() + 1 + tail.chars().count() <= WIDTH {
        true => format!("{head} {tail}"),
        false => format!("{head}\n  {tail}"),
    }
}

/// The error for a replay in which no line parsed but `lines` were
/// invalid: how many, the formats tried, the first line that failed
/// (escaped and shortened by the parser), and how to choose the format.
fn nothing_parsed(name: &str, lines: u64, format: &LogFormat, first: Option<&str>) -> String {
    let s = if lines == 1 { "" } else { "s" };
    let first = match first {
        Some(line) => format!("the first: {line}"),
        None => "each is longer than 64 KiB".to_owned(),
    };
    format!(
        "no line of {name} parses ({lines} line{s} read)\n  tried {}\n  {first}\n  {FORMAT_HINT}",
        format.tried()
    )
}

/// `e` as one message: its causes joined by ": ", as `{:#}` does, but an
/// I/O error without the "(os error N)" that std appends, so a message
/// reads "cannot open access.log: No such file or directory".
pub fn error_message(e: &anyhow::Error) -> String {
    let causes: Vec<String> = e
        .chain()
        .map(|cause| match cause.downcast_ref::<io::Error>() {
            Some(e) => io_message(e),
            None => cause.to_string(),
        })
        .collect();
    causes.join(": ")
}

/// The text of an I/O error, without "(os error N)".
fn io_message(e: &io::Error) -> String {
    let text = e.to_string();
    match e.raw_os_error() {
        Some(code) => match text.strip_suffix(&format!(" (os error {code})")) {
            Some(plain) => plain.to_owned(),
            None => text,
        },
        None => text,
    }
}

/// Start `--serve` and say where it listens.
///
/// `--quiet` silences where it listens but not the warning about a
/// non-loopback address, which is about who can read the traffic.
fn serve(addr: SocketAddr, cfg: &Config, quiet: bool) -> Result<Dashboard> {
    let dashboard = Dashboard::start(addr, cfg.window_secs, cfg.threshold)?;
    let addr = dashboard.addr();
    if !quiet {
        notice::say(&format!("logmon: serving the dashboard on http://{addr}/"));
    }
    if !addr.ip().is_loopback() {
        notice::say(&format!(
            "logmon: warning: no authentication on the dashboard at {addr}:\n  \
             not a loopback address: anyone who can reach it can read the log's traffic"
        ));
    }
    Ok(dashboard)
}

/// Where events are printed (and sent, with `--serve`).
struct Output<W: Write> {
    w: W,
    format: Format,
    /// Text output, with what one report passes to the next.
    text: Text,
    /// One event's JSON line, rendered into the same buffer each time.
    line: Vec<u8>,
    dashboard: Option<Dashboard>,
    /// The replay progress bar on stderr, while one is shown.
    progress: Option<Progress>,
    /// `--geoip`: the clients' countries.
    geo: Option<Geo>,
}

impl<W: Write> Output<W> {
    /// Count `batch`: on the dashboard, in the monitor (with its clients'
    /// countries, with `--geoip`) and on the progress bar.
    fn add(&mut self, monitor: &mut Monitor, batch: &mut Batch, events: &mut Vec<Event>) {
        if let Some(geo) = &mut self.geo {
            geo.annotate(batch);
        }
        if let Some(dashboard) = &self.dashboard {
            dashboard.count(batch);
        }
        monitor.add(batch, events);
        if let Some(p) = &mut self.progress {
            p.advance(batch.hits.len() as u64 + batch.invalid());
        }
    }

    /// Print and drain `events`, then flush once, so that a reader of a
    /// piped file (`tail -f`) sees them at once. The dashboard takes the
    /// monitor's gauges and the events first.
    ///
    /// The events of one call come from one message or one tick, so they
    /// are due at the same moment: flushing after each of them only cost a
    /// write per event (10,000 writes in a replay of 1M lines, where every
    /// period is a report). The loop calls this after every message and
    /// every tick, so nothing waits in the buffer while logmon waits for
    /// input: when following, events appear as before; in a replay, an
    /// alert appears once the batch of lines that raised it is counted.
    fn emit(&mut self, monitor: &Monitor, events: &mut Vec<Event>) -> Result<()> {
        if let Some(dashboard) = &self.dashboard {
            dashboard.update(monitor, events);
        }
        if events.is_empty() {
            return Ok(());
        }
        let Output {
            w,
            format,
            text: renderer,
            line,
            progress,
            ..
        } = self;
        let mut write = || -> Result<()> {
            for event in events.drain(..) {
                match format {
                    Format::Text => w.write_all(renderer.render(&event).as_bytes()),
                    Format::Json => {
                        line.clear();
                        render::write_json(&event, line);
                        w.write_all(line)
                    }
                }
                .context("cannot write to stdout")?;
            }
            w.flush().context("cannot write to stdout")
        };
        match progress {
            // Same terminal: take the bar off the screen while writing, or
            // the report would be written over it.
            Some(p) if p.shared_terminal => p.bar.suspend(write),
            _ => write(),
        }
    }
}

impl<W: Write> Output<W> {
    /// Write a line that is not an event (the end of a backlog), and flush.
    fn write(&mut self, text: &str) -> Result<()> {
        self.w
            .write_all(text.as_bytes())
            .and_then(|()| self.w.flush())
            .context("cannot write to stdout")
    }
}

/// The `--replay` progress bar: bytes read, lines per second, ETA.
struct Progress {
    bar: ProgressBar,
    /// Bytes the reader thread has read, shared with its `Counted` input.
    bytes: Arc<AtomicU64>,
    lines: u64,
    started: Instant,
    /// Whether stdout is the same terminal as stderr.
    shared_terminal: bool,
}

impl Progress {
    fn new(size: u64, ascii: bool, shared_terminal: bool) -> Progress {
        let (template, chars) = if ascii {
            (
                "[{bar:30}] {binary_bytes}/{binary_total_bytes}  {msg}  ETA {eta}",
                "#>-",
            )
        } else {
            (
                "{bar:30} {binary_bytes}/{binary_total_bytes}  {msg}  ETA {eta}",
                "█▉▊▋▌▍▎▏ ",
            )
        };
        let style = ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars(chars);
        Progress {
            bar: ProgressBar::new(size).with_style(style),
            bytes: Arc::new(AtomicU64::new(0)),
            lines: 0,
            started: Instant::now(),
            shared_terminal,
        }
    }

    /// `lines` more lines went through the monitor.
    fn advance(&mut self, lines: u64) {
        self.lines += lines;
        self.bar.set_position(self.bytes.load(Ordering::Relaxed));
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        self.bar.set_message(format!(
            "{} lines/s",
            render::human_count((self.lines as f64 / secs) as u64)
        ));
    }
}

impl Drop for Progress {
    /// Clear the bar however the run ends, an error included, so that
    /// neither the error message nor the shell prompt lands on top of it.
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

/// A reader that counts the bytes it reads, for the progress bar.
struct Counted<R> {
    inner: R,
    bytes: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

fn open(path: &Path) -> Result<File> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        bail!("cannot open {}: is a directory", path.display());
    }
    Ok(file)
}

/// Whether `path` is a pipe, socket or device rather than a file to follow.
fn is_stream(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt as _;
    fs::metadata(path).is_ok_and(|m| {
        let t = m.file_type();
        t.is_fifo() || t.is_socket() || t.is_char_device()
    })
}

/// Colour only on a terminal, and never when NO_COLOR is set (no-color.org).
fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            !no_color && io::stdout().is_terminal()
        }
    }
}

/// Whether the locale's character set is UTF-8: the first of `LC_ALL`,
/// `LC_CTYPE` and `LANG` that is set and not empty decides, as in
/// setlocale(3); with none set the locale is "C", which is ASCII.
pub fn utf8_locale(var: impl Fn(&str) -> Option<OsString>) -> bool {
    ["LC_ALL", "LC_CTYPE", "LANG"]
        .into_iter()
        .find_map(|name| var(name).filter(|v| !v.is_empty()))
        .is_some_and(|v| {
            let v = v.to_string_lossy().to_ascii_lowercase();
            v.contains("utf-8") || v.contains("utf8")
        })
}

/// `--demo`: a generator thread appending to a temporary log.
struct Demo {
    path: PathBuf,
}

impl Demo {
    fn start(stop: Arc<AtomicBool>, quiet: bool) -> Result<Demo> {
        let path = std::env::temp_dir().join(format!("logmon-demo-{}.log", std::process::id()));
        let mut file =
            File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
        if !quiet {
            notice::say(&fit(
                format!("logmon: demo: writing traffic to {}:", path.display()),
                "a burst starts in about 20 s",
            ));
        }
        thread::Builder::new().name("demo".into()).spawn(move || {
            let mut gen = Generator::new(unix_now() as u64, GenFormat::Combined);
            let _ = crate::gen::run_live(&mut gen, Shape::demo(), &mut file, &stop);
        })?;
        Ok(Demo { path })
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&str, &str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn the_first_locale_variable_that_is_set_decides_utf8() {
        assert!(utf8_locale(env(&[("LANG", "en_GB.UTF-8")])));
        assert!(utf8_locale(env(&[("LANG", "de_DE.utf8")])));
        assert!(utf8_locale(env(&[("LC_ALL", "C.UTF-8"), ("LANG", "C")])));
        assert!(!utf8_locale(env(&[
            ("LC_ALL", "C"),
            ("LANG", "en_US.UTF-8")
        ])));
        assert!(!utf8_locale(env(&[
            ("LC_CTYPE", "POSIX"),
            ("LANG", "C.UTF-8")
        ])));
        assert!(utf8_locale(env(&[("LC_ALL", ""), ("LANG", "C.UTF-8")])));
        assert!(!utf8_locale(env(&[("LANG", "fr_FR.ISO-8859-1")])));
        assert!(!utf8_locale(env(&[])), "no locale is C, which is ASCII");
    }

    #[test]
    fn io_errors_read_without_the_os_error_number() {
        let missing = io::Error::from_raw_os_error(2);
        assert!(missing.to_string().ends_with("(os error 2)"), "std adds it");
        let e = anyhow::Error::new(missing).context("cannot open access.log");
        assert_eq!(
            error_message(&e),
            "cannot open access.log: No such file or directory"
        );
        let e = anyhow::Error::new(io::Error::other("custom")).context("cannot read x");
        assert_eq!(error_message(&e), "cannot read x: custom");
        assert_eq!(error_message(&anyhow::anyhow!("plain")), "plain");
    }

    #[test]
    fn a_message_fits_80_columns_or_breaks_before_its_tail() {
        let short = fit("logmon: following access.log:".into(), "threshold 10 req/s");
        assert_eq!(short, "logmon: following access.log: threshold 10 req/s");
        let long = fit(
            format!("logmon: following /var/log/{}/access.log:", "x".repeat(30)),
            "threshold 10 req/s over 120 s, a report every 10 s",
        );
        assert!(long.ends_with(":\n  threshold 10 req/s over 120 s, a report every 10 s"));
    }

    #[test]
    fn nothing_parsing_says_what_was_read_and_tried_and_how_to_choose() {
        let got = nothing_parsed("junk.log", 29, &LogFormat::Auto, Some("hello"));
        assert_eq!(
            got,
            "no line of junk.log parses (29 lines read)\n  \
             tried clf (and its presets), w3c, iis and json\n  \
             the first: hello\n  \
             give the format with --log-format: a preset (see --help), or the\n  \
             log_format line of nginx.conf, or the LogFormat line of Apache's config"
        );
        let one = nothing_parsed("x", 1, &LogFormat::Clf, None);
        assert!(one.contains(" (1 line read)\n  tried clf only\n"), "{one}");
        assert!(one.contains("each is longer than 64 KiB"), "{one}");
        for format in [LogFormat::Auto, LogFormat::Clf, LogFormat::W3c] {
            let message = nothing_parsed("access.log", 100, &format, Some("x"));
            for line in format!("logmon: {message}").lines() {
                assert!(line.len() <= WIDTH, "{line}");
            }
        }
    }

    #[test]
    fn a_counted_reader_adds_up_the_bytes_it_reads() {
        let bytes = Arc::new(AtomicU64::new(0));
        let mut r = Counted {
            inner: &b"0123456789"[..],
            bytes: bytes.clone(),
        };
        let mut buf = [0; 4];
        while r.read(&mut buf).unwrap() > 0 {}
        assert_eq!(bytes.load(Ordering::Relaxed), 10);
    }
}
