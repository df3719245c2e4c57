//! loggen: write a realistic HTTP access log, live or all at once, to feed
//! logmon in demos, tests and benchmarks.
//!
//! Thin: parse the arguments, open the output, hand over to `logmon::gen`,
//! and choose the exit code. A broken pipe is a normal way to stop.

use std::fs::OpenOptions;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use logmon::gen::{self, Burst, GenFormat, Generator, LatencyStyle, Shape};

/// Write a realistic HTTP access log (Common, Combined, W3C Extended, or
/// the layout of an nginx or Apache format string).
///
/// Without --lines, append lines in real time, stamped with the wall clock,
/// until Ctrl-C, SIGTERM or a closed pipe. `--rate 4 --burst 40:60` is a
/// demo that crosses logmon's default alert after about 50 s and recovers
/// about two minutes later.
///
/// With --lines, write that many lines at once on a log clock starting at
/// --start; the output is identical for the same seed and options.
#[derive(Parser, Debug)]
#[command(name = "loggen", version)]
struct Args {
    /// Lines per second (the baseline when live, log-time spacing with --lines)
    #[arg(long, value_name = "LINES_PER_SEC", default_value = "10", value_parser = parse_rate)]
    rate: f64,

    /// Live mode: switch to RATE lines per second for SECS seconds
    #[arg(long, value_name = "RATE:SECS", value_parser = parse_burst, conflicts_with = "lines")]
    burst: Option<BurstArg>,

    /// Live mode: seconds from the start to the start of the burst
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 20,
        conflicts_with = "lines"
    )]
    burst_after: u64,

    /// Line layout: a preset, or an nginx or Apache format string
    ///
    /// Presets: common, combined (or clf), w3c, vhost_combined,
    /// ingress-nginx, traefik. A format string is taken as logmon's
    /// --log-format takes it, for example
    /// '$remote_addr [$time_iso8601] "$request" $status $request_time'; its
    /// values are drawn as for Combined, request time included.
    #[arg(long, value_name = "FORMAT", default_value = "combined",
          value_parser = GenFormat::parse)]
    log_format: GenFormat,

    /// Append a request time to every line
    ///
    /// For common and combined, STYLE says how: nginx seconds with a decimal
    /// point (`0.042`, the default) or apache integer microseconds
    /// (`42137`). w3c gets a time-taken column in milliseconds. A format
    /// string writes a request time where it has one, without this.
    #[arg(long, value_name = "STYLE", value_enum, num_args = 0..=1,
          default_missing_value = "nginx", require_equals = true)]
    latency: Option<LatencyStyle>,

    /// PRNG seed: the same seed gives the same lines
    #[arg(long, value_name = "SEED", default_value_t = 1)]
    seed: u64,

    /// Write N lines at once instead of following the wall clock
    #[arg(long, value_name = "N")]
    lines: Option<u64>,

    /// First timestamp with --lines: RFC 3339 or unix seconds
    #[arg(long, value_name = "TIME", requires = "lines", value_parser = parse_start,
          default_value = "2026-03-01T12:00:00Z")]
    start: i64,

    /// Output file, appended to and created if missing; `-` for stdout
    #[arg(value_name = "FILE")]
    file: PathBuf,
}

/// `--burst RATE:SECS`, before `--burst-after` is known.
#[derive(Clone, Copy, Debug)]
struct BurstArg {
    rate: f64,
    length: Duration,
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        _ => Err(format!(
            "`{s}` is not a positive number of lines per second"
        )),
    }
}

fn parse_burst(s: &str) -> Result<BurstArg, String> {
    let (rate, secs) = s
        .split_once(':')
        .ok_or_else(|| format!("`{s}` is not RATE:SECS, e.g. 40:60"))?;
    let rate = parse_rate(rate)?;
    let length = secs
        .parse::<f64>()
        .ok()
        .filter(|&x| x > 0.0)
        .and_then(|x| Duration::try_from_secs_f64(x).ok())
        .ok_or_else(|| format!("`{secs}` is not a positive number of seconds"))?;
    Ok(BurstArg { rate, length })
}

fn parse_start(s: &str) -> Result<i64, String> {
    if let Ok(secs) = s.parse::<i64>() {
        return Ok(secs);
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.timestamp())
        .map_err(|e| format!("`{s}` is neither RFC 3339 nor unix seconds: {e}"))
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            logmon::notice::say(&format!("loggen: {e:#}"));
            ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

fn run(args: Args) -> anyhow::Result<()> {
    let out: Box<dyn Write> = if args.file.as_os_str() == "-" {
        Box::new(io::stdout().lock())
    } else {
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .open(&args.file)
            .with_context(|| format!("cannot open {}", args.file.display()))?;
        Box::new(file)
    };
    let mut gen = Generator::new(args.seed, args.log_format);
    if let Some(style) = args.latency {
        gen = gen.with_latency(style);
    }

    if let Some(n) = args.lines {
        let mut out = BufWriter::with_capacity(1 << 20, out);
        gen::write_lines(&mut gen, n, args.start, args.rate, &mut out)?;
        // Flush here: dropping a BufWriter would swallow the error.
        out.flush()?;
        return Ok(());
    }

    let stop = Arc::new(AtomicBool::new(false));
    let on_signal = Arc::clone(&stop);
    ctrlc::set_handler(move || on_signal.store(true, Ordering::Relaxed))
        .context("cannot install the Ctrl-C handler")?;
    let shape = Shape {
        rate: args.rate,
        burst: args.burst.map(|b| Burst {
            rate: b.rate,
            after: Duration::from_secs(args.burst_after),
            length: b.length,
        }),
    };
    let mut out = out;
    gen::run_live(&mut gen, shape, &mut out, &stop)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn verify_cli() {
        Args::command().debug_assert();
    }

    #[test]
    fn burst_parses_rate_and_seconds() {
        let b = parse_burst("40:60").unwrap();
        assert_eq!((b.rate, b.length), (40.0, Duration::from_secs(60)));
        for bad in [
            "40", "40:", ":60", "0:60", "40:0", "40:-1", "x:y", "40:1e300",
        ] {
            assert!(parse_burst(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn start_accepts_rfc3339_and_unix_seconds() {
        assert_eq!(parse_start("2026-03-01T12:00:00Z"), Ok(1_772_366_400));
        assert_eq!(parse_start("1772366400"), Ok(1_772_366_400));
        assert!(parse_start("yesterday").is_err());
    }
}
