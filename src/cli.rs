//! The command line: every option, its help text and its validation.
//!
//! Values are validated while parsing, so a bad value is a usage error
//! (exit status 2, printed by clap) before anything is opened.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::builder::BoolishValueParser;
use clap::{Parser, ValueEnum};
use clap_complete::Shell;

pub use crate::parse::LogFormat;

/// Follow an HTTP access log and report its traffic.
///
/// logmon follows LOG_FILE like `tail -F` (it survives rotation, truncation
/// and a file that appears later), prints a report of the traffic every
/// period, and prints an alert when the average request rate over the alert
/// window goes above the threshold, and a recovery when it goes back below.
///
/// It reads the Common Log Format family (CLF, Combined, Apache's
/// vhost-prefixed forms, ingress-nginx, Traefik), W3C Extended (IIS), and
/// any log whose nginx log_format or Apache LogFormat string it is given;
/// see --log-format. Lines that do not parse are counted as invalid and
/// skipped.
///
/// Most options can also be set with an environment variable, named in each
/// option's help; a flag on the command line wins.
#[derive(Debug, Parser)]
#[command(version, about, max_term_width = 100)]
pub struct Args {
    /// Access log to monitor; `-` reads standard input
    #[arg(
        value_name = "LOG_FILE",
        default_value = "/var/log/access.log",
        conflicts_with = "demo"
    )]
    pub log_file: PathBuf,

    /// Alert when the average rate over the window exceeds this
    ///
    /// In requests per second; a number above 0 (0.5 is valid). The alert
    /// fires when the hits in the window are strictly more than
    /// threshold * window, and recovers when they are strictly fewer.
    #[arg(short, long, value_name = "RPS", default_value = "10", value_parser = parse_threshold,
          env = "LOGMON_THRESHOLD")]
    pub threshold: f64,

    /// Print a report every SECS seconds
    ///
    /// Periods are aligned to multiples of SECS since the epoch, so with the
    /// default a report covers hh:mm:00 to hh:mm:10, and so on.
    #[arg(short, long, value_name = "SECS", default_value = "10",
          value_parser = clap::value_parser!(u32).range(1..), env = "LOGMON_PERIOD")]
    pub period: u32,

    /// Length of the alert window
    #[arg(short, long, value_name = "SECS", default_value = "120",
          value_parser = clap::value_parser!(u32).range(1..), env = "LOGMON_WINDOW")]
    pub window: u32,

    /// Sections to list in each report
    #[arg(
        short = 'n',
        long,
        value_name = "N",
        default_value = "5",
        env = "LOGMON_TOP"
    )]
    pub top: usize,

    /// Read the file from start to end as fast as possible, then exit
    ///
    /// The log's own timestamps are the clock: reports and alerts come out as
    /// they would have if logmon had been following the file as it was
    /// written. A last line without a newline is still read.
    #[arg(long, conflicts_with = "demo")]
    pub replay: bool,

    /// With --replay: exit with status 3 if any alert fired
    ///
    /// Otherwise the status is 0, or 1 for an error, so a script can tell
    /// "the log had high traffic" from "logmon failed".
    #[arg(long, requires = "replay")]
    pub exit_code: bool,

    /// Output format
    #[arg(long, value_name = "FORMAT", value_enum, default_value_t = Format::Text,
          env = "LOGMON_FORMAT")]
    pub format: Format,

    /// Log line format: a preset, or the server's own format string
    ///
    /// Presets: auto, clf, common, combined, vhost_combined, ingress-nginx,
    /// traefik, w3c. Or paste the format from the server's configuration:
    /// an nginx log_format string (it has $variables), quoted as in
    /// nginx.conf or not, or an Apache LogFormat string (it has
    /// %directives), for example '%h %l %u %t "%r" %>s %b %D'.
    ///
    /// `auto` decides per line: W3C once a `#Fields:` directive has been seen
    /// (until a line fails W3C and parses as CLF), the CLF family otherwise,
    /// and says on stderr which it chose. In W3C, `#` lines are directives,
    /// not requests.
    ///
    /// Request times, when the lines carry them, add p50/p95/p99 latency to
    /// the reports. Their units: W3C `time-taken` is milliseconds (IIS); in
    /// auto and clf, a single number ending a CLF or Combined line is
    /// seconds when it has a decimal point (nginx `$request_time`, `0.123`)
    /// and microseconds when it is an integer (Apache `%D`, `123000`);
    /// format strings say their own units ($request_time, %D, %T...).
    #[arg(long, value_name = "FORMAT", default_value = "auto", value_parser = LogFormat::parse,
          env = "LOGMON_LOG_FORMAT", hide_default_value = false)]
    pub log_format: LogFormat,

    /// When to use colour
    ///
    /// `auto` uses colour only when stdout is a terminal and NO_COLOR is
    /// unset or empty.
    #[arg(long, value_name = "WHEN", value_enum, default_value_t = ColorChoice::Auto,
          env = "LOGMON_COLOR")]
    pub color: ColorChoice,

    /// Print times in UTC instead of the local time zone
    ///
    /// Times in text output carry their offset either way; JSON output is
    /// always in UTC.
    #[arg(long, env = "LOGMON_UTC",
          value_parser = BoolishValueParser::new())]
    pub utc: bool,

    /// Draw the report's sparkline with ASCII characters only
    ///
    /// This is automatic when the locale (LC_ALL, LC_CTYPE or LANG, the
    /// first one set) is not UTF-8.
    #[arg(long, env = "LOGMON_ASCII",
          value_parser = BoolishValueParser::new())]
    pub ascii: bool,

    /// Print nothing on stderr but errors
    ///
    /// Silences the startup line, notices such as "file truncated" and the
    /// replay progress bar. Reports and alerts on stdout are not affected.
    #[arg(short, long, env = "LOGMON_QUIET",
          value_parser = BoolishValueParser::new())]
    pub quiet: bool,

    /// Generate live traffic into a temporary log and monitor it
    ///
    /// A steady baseline with a burst about 20 seconds in, so that within a
    /// few minutes you see reports, an alert and a recovery.
    #[arg(long)]
    pub demo: bool,

    /// Serve a live dashboard, Prometheus metrics and JSON on ADDR
    ///
    /// ADDR is IP:PORT, [IPv6]:PORT, or :PORT for 127.0.0.1. Port 0 picks a
    /// free port; the address is printed on stderr. GET / is the dashboard,
    /// /events a stream of the JSON events, /metrics the Prometheus metrics
    /// and /api/state the current state. There is no authentication: keep
    /// it on loopback unless the network is trusted.
    #[arg(long, value_name = "ADDR", value_parser = crate::serve::parse_addr)]
    pub serve: Option<SocketAddr>,

    /// How often to check the file for new lines, in milliseconds
    #[arg(long, value_name = "MS", default_value = "100", hide = true,
          value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub poll_ms: u64,

    /// Print a completion script for SHELL and exit
    ///
    /// Other options are ignored.
    ///
    /// For example `logmon --completions bash > ~/.local/share/bash-completion/completions/logmon`.
    #[arg(long, value_name = "SHELL", value_enum)]
    pub completions: Option<Shell>,

    /// Print the man page (roff) and exit
    ///
    /// For example `logmon --man > ~/.local/share/man/man1/logmon.1`.
    #[arg(long)]
    pub man: bool,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One block of text per report, alerts on their own line
    Text,
    /// One JSON object per line, each with a "type"
    Json,
}

/// When to use colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal and NO_COLOR is not set
    Auto,
    /// Always colour
    Always,
    /// Never colour
    Never,
}

/// Parse `--threshold`: a finite number strictly above 0.
pub fn parse_threshold(s: &str) -> Result<f64, String> {
    let value: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number"))?;
    if !value.is_finite() || value <= 0.0 {
        return Err(format!("must be a number above 0, got `{s}`"));
    }
    Ok(value)
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
    fn threshold_accepts_fractions_and_rejects_zero_negative_and_junk() {
        assert_eq!(parse_threshold("0.5"), Ok(0.5));
        assert_eq!(parse_threshold("10"), Ok(10.0));
        assert!(parse_threshold("0").is_err());
        assert!(parse_threshold("-1").is_err());
        assert!(parse_threshold("abc").is_err());
        assert!(parse_threshold("inf").is_err());
        assert!(parse_threshold("NaN").is_err());
    }

    #[test]
    fn defaults_match_the_documented_contract() {
        let args = Args::try_parse_from(["logmon"]).unwrap();
        assert_eq!(args.log_file, PathBuf::from("/var/log/access.log"));
        assert_eq!(args.threshold, 10.0);
        assert_eq!((args.period, args.window, args.top), (10, 120, 5));
        assert!(!args.replay && !args.demo && !args.exit_code);
        assert!(!args.utc && !args.ascii && !args.quiet);
        assert!(args.completions.is_none() && !args.man);
        assert_eq!(args.format, Format::Text);
        assert_eq!(args.color, ColorChoice::Auto);
        assert_eq!(args.log_format, LogFormat::Auto);
    }

    #[test]
    fn log_format_takes_presets_and_format_strings() {
        for (value, format) in [
            ("auto", LogFormat::Auto),
            ("clf", LogFormat::Clf),
            ("combined", LogFormat::Combined),
            ("vhost_combined", LogFormat::VhostCombined),
            ("ingress-nginx", LogFormat::IngressNginx),
            ("w3c", LogFormat::W3c),
        ] {
            let args = Args::try_parse_from(["logmon", "--log-format", value]).unwrap();
            assert_eq!(args.log_format, format);
        }
        for (value, dialect) in [
            (r#"$remote_addr [$time_local] "$request" $status"#, "nginx"),
            (r#"%h %t "%r" %>s %b"#, "apache"),
        ] {
            let args = Args::try_parse_from(["logmon", "--log-format", value]).unwrap();
            assert_eq!(args.log_format.as_str(), dialect);
        }
        for bad in ["json5", "$remote_addr $status", "%h %t %Z"] {
            let error = Args::try_parse_from(["logmon", "--log-format", bad]).unwrap_err();
            assert_eq!(
                error.kind(),
                clap::error::ErrorKind::ValueValidation,
                "{bad}"
            );
        }
    }

    #[test]
    fn demo_conflicts_with_a_log_file_and_with_replay() {
        assert!(Args::try_parse_from(["logmon", "--demo", "x.log"]).is_err());
        assert!(Args::try_parse_from(["logmon", "--demo", "--replay"]).is_err());
        assert!(Args::try_parse_from(["logmon", "--demo"]).is_ok());
    }

    #[test]
    fn zero_period_and_window_are_usage_errors() {
        assert!(Args::try_parse_from(["logmon", "--period", "0"]).is_err());
        assert!(Args::try_parse_from(["logmon", "--window", "0"]).is_err());
        assert!(Args::try_parse_from(["logmon", "-p", "1", "-w", "1"]).is_ok());
    }

    #[test]
    fn exit_code_needs_replay() {
        assert!(Args::try_parse_from(["logmon", "--exit-code", "x.log"]).is_err());
        let args = Args::try_parse_from(["logmon", "--replay", "--exit-code", "x.log"]).unwrap();
        assert!(args.exit_code);
    }

    #[test]
    fn completions_and_man_stand_alone() {
        let args = Args::try_parse_from(["logmon", "--completions", "zsh"]).unwrap();
        assert_eq!(args.completions, Some(Shell::Zsh));
        assert!(Args::try_parse_from(["logmon", "--completions", "tcsh"]).is_err());
        assert!(Args::try_parse_from(["logmon", "--man"]).unwrap().man);
    }
}
