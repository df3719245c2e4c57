//! `run`: wires the parts together and owns the main loop.
//!
//! Everything is resolved once here: the input (in `--replay` a missing file
//! fails at once; when following, a missing file is waited for), the style,
//! the clock. Then the reader thread sends batches and the loop feeds them to
//! the `Monitor`, printing what it returns.
//!
//! On the wall clock, every wake of the loop (a message or a timeout, at
//! least once a second) first closes the seconds that have passed, so alerts
//! and reports stay on time under any input.

use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context as _, Result};

use crate::cli::{Args, ColorChoice, Format};
use crate::follow::Follower;
use crate::gen::{GenFormat, Generator, Shape};
use crate::monitor::{Config, Event, Monitor};
use crate::reader::{self, Msg, Source};
use crate::render::{self, Style};

/// Batches in flight between the reader and the loop. Bounded, so a reader
/// that outpaces the loop waits instead of filling memory.
const CHANNEL_DEPTH: usize = 16;

/// Run logmon with parsed arguments until the input ends or a signal.
pub fn run(args: Args) -> Result<()> {
    let style = Style {
        color: use_color(args.color),
        utc: false,
    };
    let cfg = Config {
        period_secs: args.period,
        window_secs: args.window,
        threshold: args.threshold,
        top: args.top,
    };
    let mut out = Output {
        w: io::BufWriter::new(io::stdout().lock()),
        format: args.format,
        style,
    };

    let (tx, rx) = mpsc::sync_channel(CHANNEL_DEPTH);
    let stop = Arc::new(AtomicBool::new(false));
    {
        let tx = tx.clone();
        let stop = stop.clone();
        // Ctrl-C and SIGTERM end the run cleanly: the loop reports the
        // partial period and the summary. If the channel is full the loop is
        // busy receiving and sees the flag at its next message.
        ctrlc::set_handler(move || {
            stop.store(true, Ordering::SeqCst);
            let _ = tx.try_send(Msg::Stop);
        })
        .context("cannot install the Ctrl-C handler")?;
    }

    let _demo = if args.demo {
        Some(Demo::start(stop.clone())?)
    } else {
        None
    };
    let path = match &_demo {
        Some(demo) => demo.path.clone(),
        None => args.log_file.clone(),
    };
    let stdin = path == Path::new("-");
    let name = if stdin {
        PathBuf::from("stdin")
    } else {
        path.clone()
    };

    let mut monitor = if args.replay {
        let input: Box<dyn io::Read + Send> = if stdin {
            Box::new(io::stdin())
        } else {
            Box::new(open(&path)?)
        };
        reader::spawn(Source::Whole(input), name.clone(), tx)?;
        Monitor::log(cfg)
    } else {
        let now = unix_now();
        let source = if stdin {
            Source::Whole(Box::new(io::stdin()))
        } else {
            if path.is_dir() {
                bail!("cannot open {}: is a directory", path.display());
            }
            let follower =
                Follower::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
            let follower = Box::new(follower);
            Source::Follow {
                follower,
                every: Duration::from_millis(args.poll_ms),
                backfill_after: Some(now - i64::from(args.window)),
            }
        };
        reader::spawn(source, name.clone(), tx)?;
        Monitor::wall(cfg, now)
    };

    let wall = !args.replay;
    let mut events = Vec::new();
    let mut warned_clock = false;
    loop {
        let msg = if wall {
            monitor.tick(unix_now(), &mut events);
            out.emit(&mut events)?;
            match rx.recv_timeout(until_next_second()) {
                Ok(msg) => Some(msg),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => Some(Msg::Done),
            }
        } else {
            Some(rx.recv().unwrap_or(Msg::Done))
        };
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Some(msg) = msg else { continue };
        match msg {
            Msg::Batch(batch) => monitor.add(&batch, &mut events),
            Msg::Backfill(batch) => monitor.backfill(&batch),
            Msg::BackfillDone => monitor.backfill_done(&mut events),
            Msg::Notice(notice) => eprintln!("logmon: {notice}"),
            Msg::Failed(e) => return Err(e),
            Msg::Done | Msg::Stop => break,
        }
        out.emit(&mut events)?;
        if wall && !warned_clock && monitor.outside_window() > 0 {
            warned_clock = true;
            eprintln!(
                "logmon: {}: some timestamps are more than {}s away from the clock; \
                 those hits are reported but cannot count towards the alert",
                name.display(),
                args.window
            );
        }
    }
    if wall {
        monitor.tick(unix_now(), &mut events);
    }
    monitor.finish(&mut events);
    out.emit(&mut events)
}

/// Where events are printed.
struct Output<W: Write> {
    w: W,
    format: Format,
    style: Style,
}

impl<W: Write> Output<W> {
    /// Print and drain `events`, flushing after each one so that a reader of
    /// a piped file (`tail -f`) sees it at once.
    fn emit(&mut self, events: &mut Vec<Event>) -> Result<()> {
        for event in events.drain(..) {
            let text = match self.format {
                Format::Text => render::text(&event, &self.style),
                Format::Json => render::json(&event),
            };
            self.w
                .write_all(text.as_bytes())
                .and_then(|()| self.w.flush())
                .context("cannot write to stdout")?;
        }
        Ok(())
    }
}

fn open(path: &Path) -> Result<File> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        bail!("cannot open {}: is a directory", path.display());
    }
    Ok(file)
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

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Time until just after the next whole wall-clock second.
fn until_next_second() -> Duration {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Duration::from_nanos(1_000_000_000 - u64::from(since.subsec_nanos())) + Duration::from_millis(2)
}

/// `--demo`: a generator thread appending to a temporary log.
struct Demo {
    path: PathBuf,
}

impl Demo {
    fn start(stop: Arc<AtomicBool>) -> Result<Demo> {
        let path = std::env::temp_dir().join(format!("logmon-demo-{}.log", std::process::id()));
        let mut file =
            File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
        eprintln!(
            "logmon: demo: writing generated traffic to {} (a burst starts in about 20s)",
            path.display()
        );
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
