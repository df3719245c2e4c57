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
//!
//! With `--serve`, the dashboard gets each batch read since start and,
//! before they are printed, the monitor's gauges and the events; the server
//! runs on threads of its own and never holds up the loop.

use std::fs::{self, File};
use std::io::{self, IsTerminal, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context as _, Result};

use crate::cli::{Args, ColorChoice, Format};
use crate::follow::Follower;
use crate::gen::{GenFormat, Generator, Shape};
use crate::monitor::{Config, Event, Monitor};
use crate::reader::{self, Msg, Source};
use crate::render::{self, Style};
use crate::serve::Dashboard;

/// Batches in flight between the reader and the loop. Bounded, so a reader
/// that outpaces the loop waits instead of filling memory.
const CHANNEL_DEPTH: usize = 16;

/// After Ctrl-C or SIGTERM, how long the loop waits for the follower's last
/// poll (it sleeps at most `--poll-ms` between polls, 100 ms by default).
/// Kept well under a second, so that a signal still ends the run at once.
const LAST_POLL: Duration = Duration::from_millis(500);

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
        dashboard: None,
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

    // Before the input: a port in use fails the run before it starts.
    if let Some(addr) = args.serve {
        out.dashboard = Some(serve(addr, &cfg)?);
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

    // Whether a follower reads the input (not a pipe): it backfills at
    // start and polls once more at a signal.
    let mut follows = false;
    let mut monitor = if args.replay {
        let input: Box<dyn io::Read + Send> = if stdin {
            Box::new(io::stdin())
        } else {
            Box::new(open(&path)?)
        };
        reader::spawn(Source::Whole(input), name.clone(), args.log_format, tx)?;
        Monitor::log(cfg)
    } else {
        let now = unix_now();
        let source = if stdin {
            Source::Whole(Box::new(io::stdin()))
        } else if is_stream(&path) {
            // A pipe cannot be read at an offset or rotated: read it like
            // stdin (`logmon <(kubectl logs -f pod)`, a named pipe).
            Source::Whole(Box::new(open(&path)?))
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
                stop: stop.clone(),
            }
        };
        follows = matches!(source, Source::Follow { .. });
        reader::spawn(source, name.clone(), args.log_format, tx)?;
        let mut monitor = Monitor::wall(cfg, now);
        if follows {
            // The follower backfills first (`Msg::BackfillDone`, even when
            // there is nothing to read).
            monitor.await_backfill();
        }
        monitor
    };

    let wall = !args.replay;
    let mut events = Vec::new();
    let mut warned_clock = false;
    // After a signal, when to give up waiting for the follower's last poll.
    let mut deadline: Option<Instant> = None;
    loop {
        if deadline.is_none() && stop.load(Ordering::SeqCst) {
            if !follows {
                // A pipe may block in a read forever: stop now.
                break;
            }
            // The follower polls once more and ends with `Done`, so lines
            // written up to the signal are counted.
            deadline = Some(Instant::now() + LAST_POLL);
        }
        let msg = if wall {
            monitor.tick(unix_now(), &mut events);
            out.emit(&monitor, &mut events)?;
            let mut wait = until_next_second();
            if let Some(deadline) = deadline {
                wait = wait.min(deadline.saturating_duration_since(Instant::now()));
            }
            match rx.recv_timeout(wait) {
                Ok(msg) => Some(msg),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => Some(Msg::Done),
            }
        } else {
            Some(rx.recv().unwrap_or(Msg::Done))
        };
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        let Some(msg) = msg else { continue };
        match msg {
            Msg::Batch(batch) => {
                if let Some(dashboard) = &out.dashboard {
                    dashboard.count(&batch);
                }
                monitor.add(&batch, &mut events)
            }
            Msg::Backfill(batch) => monitor.backfill(&batch),
            Msg::BackfillDone => monitor.backfill_done(&mut events),
            Msg::Notice(notice) => eprintln!("logmon: {notice}"),
            Msg::Failed(e) => return Err(e),
            // Acted on at the top of the loop, through the flag.
            Msg::Stop => {}
            Msg::Done => break,
        }
        out.emit(&monitor, &mut events)?;
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
    out.emit(&monitor, &mut events)?;
    if let (Some(dashboard), true) = (&out.dashboard, args.replay) {
        eprintln!(
            "logmon: replay done; serving the final state on http://{}/ until Ctrl-C",
            dashboard.addr()
        );
        while !stop.load(Ordering::SeqCst) {
            let _ = rx.recv_timeout(Duration::from_secs(1));
        }
    }
    Ok(())
}

/// Start `--serve` and say where it listens.
fn serve(addr: SocketAddr, cfg: &Config) -> Result<Dashboard> {
    let dashboard = Dashboard::start(addr, cfg.window_secs, cfg.threshold)?;
    let addr = dashboard.addr();
    eprintln!("logmon: serving the dashboard on http://{addr}/");
    if !addr.ip().is_loopback() {
        eprintln!(
            "logmon: warning: {addr} is not a loopback address and the dashboard has no \
             authentication: anyone who can reach it can read this log's traffic"
        );
    }
    Ok(dashboard)
}

/// Where events are printed (and sent, with `--serve`).
struct Output<W: Write> {
    w: W,
    format: Format,
    style: Style,
    dashboard: Option<Dashboard>,
}

impl<W: Write> Output<W> {
    /// Print and drain `events`, flushing after each one so that a reader of
    /// a piped file (`tail -f`) sees it at once.
    /// The dashboard takes the monitor's gauges and the events first.
    fn emit(&mut self, monitor: &Monitor, events: &mut Vec<Event>) -> Result<()> {
        if let Some(dashboard) = &self.dashboard {
            dashboard.update(monitor, events);
        }
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
