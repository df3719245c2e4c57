//! The command line: every option, its help text and its validation.
//!
//! Values are validated while parsing, so a bad value is a usage error
//! (exit status 2, printed by clap) before anything is opened. Numbers take
//! a leading `-` as a value, so `--threshold -1` gets logmon's own message
//! rather than clap's advice to write `-- -1`.
//!
//! `--completions` and `--man` stand alone: [`standalone`] finds them
//! before the rest is parsed, so no other option, valid or not, gets in
//! their way.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::builder::BoolishValueParser;
use clap::{CommandFactory as _, Parser, ValueEnum};
use clap_complete::Shell;

pub use crate::parse::LogFormat;
pub use crate::render::Block;

/// Follow an HTTP access log and report its traffic.
///
/// logmon follows LOG_FILE like `tail -F` (it survives rotation, truncation
/// and a file that appears later), prints a report of the traffic every
/// period, and prints an alert when the average request rate over the alert
/// window goes above the threshold, and a recovery when it goes back below.
///
/// It reads the Common Log Format family (CLF, Combined, Apache's
/// vhost-prefixed forms, ingress-nginx, Traefik), W3C Extended (IIS,
/// CloudFront), JSON access logs (Caddy, Traefik), and any log whose nginx
/// log_format or Apache LogFormat string it is given; see --log-format.
/// Lines that do not parse are counted as invalid and skipped.
///
/// Most options can also be set with an environment variable, named in each
/// option's help; a flag on the command line wins.
#[derive(Debug, Parser)]
#[command(version, about, max_term_width = 100)]
pub struct Args {
    /// Access logs to monitor; `-` reads standard input
    ///
    /// Without one, logmon reads /var/log/access.log if it exists;
    /// otherwise it lists the usual access logs that exist (nginx, Apache,
    /// ...) and exits with status 1. A LOG_FILE that is missing is waited
    /// for when following, and an error with --replay.
    ///
    /// Several paths and globs may be given: all their files feed one
    /// window and one alert, and each report adds the hits of each file. A
    /// quoted glob ('/var/log/nginx/*.log') is expanded by logmon, and
    /// again every few seconds when following, so new files are picked
    /// up. gzip and zstd archives are read as the text they hold (with
    /// --replay); several files replayed are merged in time order.
    #[arg(value_name = "LOG_FILE", conflicts_with = "demo")]
    pub log_files: Vec<PathBuf>,

    /// Alert when the average rate over the window exceeds this
    ///
    /// In requests per second; a number above 0 (0.5 is valid). The alert
    /// fires when the hits in the window are strictly more than
    /// threshold * window, and recovers when they are strictly fewer.
    #[arg(short, long, value_name = "RPS", default_value = "10", value_parser = parse_threshold,
          allow_negative_numbers = true, env = "LOGMON_THRESHOLD")]
    pub threshold: f64,

    /// Print a report every SECS seconds
    ///
    /// Periods are aligned to multiples of SECS since the epoch, so with the
    /// default a report covers hh:mm:00 to hh:mm:10, and so on.
    #[arg(short, long, value_name = "SECS", default_value = "10", value_parser = parse_secs,
          allow_negative_numbers = true, env = "LOGMON_PERIOD")]
    pub period: u32,

    /// Length of the alert window
    ///
    /// At most 86400 (a day): the window keeps a count for each second.
    #[arg(short, long, value_name = "SECS", default_value = "120", value_parser = parse_window,
          allow_negative_numbers = true, env = "LOGMON_WINDOW")]
    pub window: u32,

    /// Rows to list in each report's tables (0 lists none)
    ///
    /// Sections, clients, paths, user agents, referring hosts and
    /// countries, in text and in JSON.
    #[arg(short = 'n', long, value_name = "N", default_value = "5", value_parser = parse_top,
          allow_negative_numbers = true, env = "LOGMON_TOP")]
    pub top: usize,

    /// Read the file from start to end as fast as possible, then exit
    ///
    /// The log's own timestamps are the clock: reports and alerts come out as
    /// they would have if logmon had been following the file as it was
    /// written. A last line without a newline is still read. A file with no
    /// request prints a summary saying so; one in which no line parses is an
    /// error (status 1) naming the first line.
    #[arg(long, conflicts_with = "demo")]
    pub replay: bool,

    /// Replay what the files hold first, then follow them
    ///
    /// What happened so far (today's log, say) is read at full speed on
    /// the log's own clock, as --replay reads it, with its reports and
    /// alerts; one line marks its end; then logmon follows the files on
    /// the wall clock. An alert active at the end of what was read goes on
    /// and is not reported twice.
    #[arg(long, conflicts_with_all = ["replay", "demo"])]
    pub from_start: bool,

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
    /// traefik, w3c, iis, caddy, json. Or paste the format from the server's
    /// configuration:
    /// an nginx log_format string (it has $variables), quoted as in
    /// nginx.conf or not, or an Apache LogFormat string (it has
    /// %directives), for example '%h %l %u %t "%r" %>s %b %D'.
    ///
    /// `auto` decides per line: a line starting with `{` is JSON (Caddy or
    /// Traefik); after a `#Fields:` directive lines are W3C (until one fails
    /// W3C and parses as CLF); other lines are the CLF family, or W3C with
    /// IIS's default fields in a log without `#Fields:` whose lines fit
    /// them. It says on stderr which it chose. In W3C, `#` lines are
    /// directives, not requests.
    ///
    /// Request times, when the lines carry them, add p50/p95/p99 latency to
    /// the reports. Their units: W3C `time-taken` is milliseconds (IIS;
    /// seconds in CloudFront's logs), Caddy's `duration` seconds, Traefik's
    /// `Duration` nanoseconds; in auto and clf, a single number ending a CLF
    /// or Combined line is seconds when it has a decimal point
    /// (nginx `$request_time`, `0.123`) and microseconds when it is an
    /// integer (Apache `%D`, `123000`); format strings say their own units
    /// ($request_time, %D, %T...).
    #[arg(long, value_name = "FORMAT", default_value = "auto", value_parser = LogFormatParser,
          hide_possible_values = true, env = "LOGMON_LOG_FORMAT", hide_default_value = false)]
    pub log_format: LogFormat,

    /// When to use colour
    ///
    /// `auto` uses colour only when stdout is a terminal and NO_COLOR is
    /// unset or empty.
    #[arg(long, value_name = "WHEN", value_enum, default_value_t = ColorChoice::Auto,
          env = "LOGMON_COLOR")]
    pub color: ColorChoice,

    /// Blocks to print after each report's summary lines, in this order
    ///
    /// A comma-separated list of: sections (the top sections), codes
    /// (hits by exact status code), clients (the top client addresses),
    /// paths (the top paths, without the query), agents (the top user
    /// agents, crawlers and scripts flagged), referrers (the top referring
    /// hosts) and countries (hits by country, with --geoip). JSON reports
    /// carry every table whatever this says.
    #[arg(
        long,
        value_name = "LIST",
        value_enum,
        value_delimiter = ',',
        default_value = "sections,codes,clients",
        env = "LOGMON_SHOW"
    )]
    pub show: Vec<Block>,

    /// Look up each client's country in a MaxMind DB file
    ///
    /// FILE is a .mmdb country or city database (GeoLite2-Country or
    /// -City, DB-IP Lite, ...). Clients gain a country code, and reports
    /// the hits by country (the countries block, top_countries in JSON).
    /// A database without country.iso_code (an ASN database) is an error.
    #[arg(long, value_name = "FILE", env = "LOGMON_GEOIP")]
    pub geoip: Option<PathBuf>,

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

    /// Check the file every --poll-ms instead of watching it with inotify
    #[arg(long, hide = true, env = "LOGMON_NO_INOTIFY",
          value_parser = BoolishValueParser::new())]
    pub no_inotify: bool,

    /// Print a completion script for SHELL and exit
    ///
    /// Other options are ignored.
    ///
    /// For example `logmon --completions bash > ~/.local/share/bash-completion/completions/logmon`.
    #[arg(long, value_name = "SHELL", value_enum)]
    pub completions: Option<Shell>,

    /// Print the man page (roff) and exit
    ///
    /// Other options are ignored.
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

/// Parse `--log-format` ([`LogFormat::parse`]: a preset or any format
/// string), naming the presets as its possible values: the shell
/// completions offer them, while any other value is still taken (clap
/// checks a value against possible values only when its parser does).
#[derive(Debug, Clone, Copy)]
pub struct LogFormatParser;

impl clap::builder::TypedValueParser for LogFormatParser {
    type Value = LogFormat;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<LogFormat, clap::Error> {
        // The function's own parser, for clap's error of a bad value.
        let parse: fn(&str) -> Result<LogFormat, String> = LogFormat::parse;
        parse.parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        let presets = crate::parse::PRESETS.iter();
        Some(Box::new(presets.map(|&(name, what)| {
            clap::builder::PossibleValue::new(name).help(what)
        })))
    }
}

/// Parse `--threshold`: a finite number strictly above 0.
pub fn parse_threshold(s: &str) -> Result<f64, String> {
    let value: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number"))?;
    if !value.is_finite() || value <= 0.0 {
        return Err("must be above 0 (requests per second, like 10 or 0.5)".to_owned());
    }
    Ok(value)
}

/// Parse `--period` and `--window`: a whole number of seconds above 0.
pub fn parse_secs(s: &str) -> Result<u32, String> {
    match whole(s)? {
        n if n <= 0 => Err("must be above 0 (a whole number of seconds)".to_owned()),
        n => u32::try_from(n).map_err(|_| format!("must be at most {}", u32::MAX)),
    }
}

/// The longest `--window`, in seconds: a day. The window holds a count per
/// second, so its length is memory (and a report's sparkline sums it).
pub const MAX_WINDOW: u32 = 86_400;

/// Parse `--window`: a whole number of seconds, above 0 and at most
/// [`MAX_WINDOW`].
pub fn parse_window(s: &str) -> Result<u32, String> {
    match whole(s)? {
        n if n > i128::from(MAX_WINDOW) => {
            Err(format!("must be at most {MAX_WINDOW} (a day, in seconds)"))
        }
        _ => parse_secs(s),
    }
}

/// Parse `--top`: a whole number, 0 or more (0 lists no section).
pub fn parse_top(s: &str) -> Result<usize, String> {
    match whole(s)? {
        n if n < 0 => Err("must be 0 or more (a whole number)".to_owned()),
        n => usize::try_from(n).map_err(|_| format!("`{s}` is too large")),
    }
}

/// A whole number, negative ones included, so that the caller can say
/// what a negative value should have been.
fn whole(s: &str) -> Result<i128, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a whole number"))
}

/// What `--completions` and `--man` ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standalone {
    Completions(Shell),
    Man,
}

/// Find `--completions SHELL` or `--man` in the command line `args`
/// (program name first), ignoring every other option as their help says:
/// `logmon --completions bash --threshold 0` prints the script. Arguments
/// after `--` are values, not options.
///
/// A bad or missing SHELL is clap's usage error, as it would be without
/// the other options.
pub fn standalone(
    args: impl IntoIterator<Item = OsString>,
) -> Result<Option<Standalone>, clap::Error> {
    let mut found = vec![OsString::from("logmon")];
    let mut args = args.into_iter().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--" {
            break;
        } else if arg == "--man" {
            found.push(arg);
        } else if arg == "--completions" {
            found.push(arg);
            found.extend(args.next());
        } else if arg
            .to_str()
            .is_some_and(|a| a.starts_with("--completions="))
        {
            found.push(arg);
        }
    }
    if found.len() == 1 {
        return Ok(None);
    }
    // The two options exactly as `Args` defines them, and nothing else.
    let full = Args::command();
    let only = full
        .get_arguments()
        .filter(|a| ["completions", "man"].contains(&a.get_id().as_str()))
        .cloned();
    let matches = clap::Command::new("logmon")
        .args(only)
        .try_get_matches_from(found)?;
    Ok(match matches.get_one::<Shell>("completions") {
        Some(&shell) => Some(Standalone::Completions(shell)),
        None => Some(Standalone::Man),
    })
}

/// The log read when no LOG_FILE is given, if it exists.
pub const DEFAULT_LOG: &str = "/var/log/access.log";

/// Where web servers usually write their access log, checked when no
/// LOG_FILE is given and [`DEFAULT_LOG`] does not exist. A fixed list: it
/// only helps the user choose, and logmon never reads one of them unasked.
pub const USUAL_LOGS: [&str; 8] = [
    // nginx on Debian, Ubuntu, RHEL, Alpine, Arch.
    "/var/log/nginx/access.log",
    // Apache httpd on Debian and Ubuntu.
    "/var/log/apache2/access.log",
    // Apache httpd on RHEL, Fedora, Amazon Linux.
    "/var/log/httpd/access_log",
    // Apache httpd on SUSE.
    "/var/log/apache2/access_log",
    // Apache httpd on FreeBSD.
    "/var/log/httpd-access.log",
    "/var/log/lighttpd/access.log",
    // nginx from Homebrew, on Apple silicon and on Intel Macs.
    "/opt/homebrew/var/log/nginx/access.log",
    "/usr/local/var/log/nginx/access.log",
];

/// The log to read when no LOG_FILE is given: [`DEFAULT_LOG`] if it
/// exists, or an error naming the usual logs that do (`exists` is
/// `Path::exists`, or a stand-in in tests), so logmon does not wait for a
/// file that no web server writes.
pub fn default_log(exists: impl Fn(&Path) -> bool) -> Result<PathBuf, String> {
    if exists(Path::new(DEFAULT_LOG)) {
        return Ok(PathBuf::from(DEFAULT_LOG));
    }
    let found: Vec<&str> = USUAL_LOGS
        .into_iter()
        .filter(|p| exists(Path::new(p)))
        .collect();
    let mut message = format!("no LOG_FILE given, and {DEFAULT_LOG} does not exist");
    match found[..] {
        [] => {
            message.push_str("\n  nor does any usual access log:");
            for path in USUAL_LOGS {
                message.push_str("\n    ");
                message.push_str(path);
            }
            message.push_str(
                "\n  give the path of a log: logmon PATH (- reads stdin; logmon --demo to try)",
            );
        }
        [one] => {
            message.push_str(&format!("\n  this access log exists: {one}"));
            message.push_str(&format!("\n  to follow it: logmon {one}"));
        }
        [first, ..] => {
            message.push_str("\n  these access logs exist:");
            for path in &found {
                message.push_str("\n    ");
                message.push_str(path);
            }
            message.push_str(&format!("\n  to follow one: logmon {first}"));
        }
    }
    Err(message)
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
    fn negative_numbers_get_logmons_own_message() {
        for (flag, want) in [
            ("--threshold", "must be above 0"),
            ("--period", "must be above 0"),
            ("--window", "must be above 0"),
            ("--top", "must be 0 or more"),
        ] {
            let e = Args::try_parse_from(["logmon", flag, "-1"]).unwrap_err();
            assert_eq!(e.kind(), clap::error::ErrorKind::ValueValidation, "{flag}");
            assert!(e.to_string().contains(want), "{flag}: {e}");
            assert!(!e.to_string().contains("-- -1"), "{flag}: {e}");
        }
        assert_eq!(parse_top("0"), Ok(0), "--top 0 lists no section");
        assert!(parse_secs("0").unwrap_err().contains("above 0"));
        assert!(parse_secs("1.5")
            .unwrap_err()
            .contains("not a whole number"));
        assert!(parse_secs("4294967296").is_err());
        assert_eq!(parse_secs(" 60 "), Ok(60));
    }

    #[test]
    fn completions_and_man_ignore_every_other_option() {
        let standalone = |args: &[&str]| standalone(args.iter().map(OsString::from));
        assert_eq!(
            standalone(&["logmon", "--completions", "bash", "--threshold", "0"]).unwrap(),
            Some(Standalone::Completions(Shell::Bash))
        );
        assert_eq!(
            standalone(&["logmon", "--threshold", "-1", "--completions=zsh"]).unwrap(),
            Some(Standalone::Completions(Shell::Zsh))
        );
        assert_eq!(
            standalone(&["logmon", "--demo", "x.log", "--bogus", "--man"]).unwrap(),
            Some(Standalone::Man)
        );
        assert_eq!(standalone(&["logmon", "-t", "2", "x.log"]).unwrap(), None);
        assert_eq!(standalone(&["logmon", "--", "--man"]).unwrap(), None);
        let e = standalone(&["logmon", "--completions", "tcsh"]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::InvalidValue);
        assert!(standalone(&["logmon", "--completions"]).is_err());
    }

    #[test]
    fn without_a_log_file_the_default_is_read_only_if_it_exists() {
        let on = |paths: &'static [&'static str]| {
            move |p: &Path| paths.iter().any(|q| p == Path::new(q))
        };
        assert_eq!(
            default_log(on(&["/var/log/access.log", "/var/log/nginx/access.log"])),
            Ok(PathBuf::from("/var/log/access.log"))
        );
        let one = default_log(on(&["/var/log/httpd/access_log"])).unwrap_err();
        assert_eq!(
            one,
            "no LOG_FILE given, and /var/log/access.log does not exist\n  \
             this access log exists: /var/log/httpd/access_log\n  \
             to follow it: logmon /var/log/httpd/access_log"
        );
        let two = default_log(on(&[
            "/var/log/apache2/access.log",
            "/var/log/nginx/access.log",
        ]))
        .unwrap_err();
        assert!(
            two.ends_with(
                "these access logs exist:\n    /var/log/nginx/access.log\n    \
                 /var/log/apache2/access.log\n  to follow one: logmon /var/log/nginx/access.log"
            ),
            "{two}"
        );
        let none = default_log(|_| false).unwrap_err();
        assert!(none.contains("nor does any usual access log"), "{none}");
        assert!(none.contains("\n    /var/log/httpd/access_log\n"), "{none}");
        assert!(none.ends_with("logmon PATH (- reads stdin; logmon --demo to try)"));
        let printed = format!("logmon: {none}");
        assert!(printed.lines().all(|l| l.len() <= 80), "{none}");
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
        assert!(args.log_files.is_empty(), "resolved by default_log");
        assert_eq!(args.threshold, 10.0);
        assert_eq!((args.period, args.window, args.top), (10, 120, 5));
        assert!(!args.replay && !args.demo && !args.exit_code && !args.from_start);
        assert!(!args.utc && !args.ascii && !args.quiet);
        assert!(args.completions.is_none() && !args.man);
        assert_eq!(args.format, Format::Text);
        assert_eq!(args.color, ColorChoice::Auto);
        assert_eq!(args.log_format, LogFormat::Auto);
        assert_eq!(args.show, crate::render::DEFAULT_BLOCKS);
        assert_eq!(args.geoip, None);
    }

    #[test]
    fn show_takes_a_list_of_blocks() {
        let args = Args::try_parse_from(["logmon", "--show", "agents,codes,referrers"]).unwrap();
        assert_eq!(args.show, [Block::Agents, Block::Codes, Block::Referrers]);
        let e = Args::try_parse_from(["logmon", "--show", "sections,bogus"]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::InvalidValue);
        assert!(e.to_string().contains("countries"), "lists the blocks: {e}");
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
            ("iis", LogFormat::Iis),
            ("caddy", LogFormat::Caddy),
            ("json", LogFormat::Json),
        ] {
            let args = Args::try_parse_from(["logmon", "--log-format", value]).unwrap();
            assert_eq!(args.log_format, format);
            assert_eq!(format.as_str(), value);
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
    fn a_window_longer_than_a_day_is_a_usage_error_naming_the_limit() {
        let e = Args::try_parse_from(["logmon", "--window", "86401"]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::ValueValidation);
        assert!(e.to_string().contains("must be at most 86400"), "{e}");
        let e = Args::try_parse_from(["logmon", "--window", "100000000000"]).unwrap_err();
        assert!(e.to_string().contains("must be at most 86400"), "{e}");
        let args = Args::try_parse_from(["logmon", "--window", "86400"]).unwrap();
        assert_eq!(args.window, MAX_WINDOW);
    }

    #[test]
    fn exit_code_needs_replay() {
        assert!(Args::try_parse_from(["logmon", "--exit-code", "x.log"]).is_err());
        let args = Args::try_parse_from(["logmon", "--replay", "--exit-code", "x.log"]).unwrap();
        assert!(args.exit_code);
    }

    #[test]
    fn completions_offer_the_presets_and_any_format_string_still_parses() {
        let names: Vec<&str> = crate::parse::PRESETS.iter().map(|p| p.0).collect();
        let mut bash = Vec::new();
        crate::shell::completions(Shell::Bash, &mut bash);
        let bash = String::from_utf8(bash).unwrap();
        let (_, case) = bash.split_once("--log-format)").expect("a case for it");
        let offered = format!("compgen -W \"{}\"", names.join(" "));
        assert!(case.lines().nth(1).unwrap().contains(&offered), "{case}");
        let mut fish = Vec::new();
        crate::shell::completions(Shell::Fish, &mut fish);
        let fish = String::from_utf8(fish).unwrap();
        assert!(
            fish.contains(r"ingress-nginx\t'the ingress-nginx controller"),
            "{fish}"
        );
        // Candidates, not a limit.
        let nginx = r#"$remote_addr [$time_local] "$request" $status"#;
        let args = Args::try_parse_from(["logmon", "--log-format", nginx]).unwrap();
        assert_eq!(args.log_format.as_str(), "nginx");
        let e = Args::try_parse_from(["logmon", "--log-format", "bogus"]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::ValueValidation);
        // The help names the presets in its text, once.
        let help = Args::command().render_long_help().to_string();
        assert!(!help.contains("values: auto"), "{help}");
    }

    #[test]
    fn completions_and_man_stand_alone() {
        let args = Args::try_parse_from(["logmon", "--completions", "zsh"]).unwrap();
        assert_eq!(args.completions, Some(Shell::Zsh));
        assert!(Args::try_parse_from(["logmon", "--completions", "tcsh"]).is_err());
        assert!(Args::try_parse_from(["logmon", "--man"]).unwrap().man);
    }
}
