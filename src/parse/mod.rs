//! One access-log line (bytes) -> [`Record`] borrowing the line, and the
//! `section` of a request target ([`section`], normalised by
//! [`normalize_section`]).
//!
//! Reads the formats [`LogFormat`] names:
//! - the CLF family, by hand, in `clf`: the Common Log Format, the
//!   Combined Log Format, Apache's vhost-prefixed forms (`%v` or `%v:%p`
//!   before the host), and any of these followed by further fields; the
//!   presets `common`, `combined`, `vhost_combined`, `ingress-nginx` and
//!   `traefik` are shapes of it. A request time is read only where the
//!   shape says which field holds one (see `clf::ClfShape`): a single
//!   number ending the line (nginx's `$request_time` in seconds when it has
//!   a decimal point, Apache's `%D` in microseconds when it is an integer),
//!   or the ingress-nginx and Traefik columns;
//! - W3C Extended (IIS, CloudFront), in [`w3c`]: `#` directives and
//!   columns named by the last `#Fields:` directive, or IIS's default
//!   columns for a log without one;
//! - JSON lines (Caddy, Traefik), in [`json`];
//! - an nginx `log_format` or Apache `LogFormat` string, compiled once by
//!   `nginx` or `apache` into a [`pattern::Pattern`].
//!
//! ```text
//! 127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" 200 123 "referer" "agent"
//! www.example.com:443 127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" 200 123 0.042
//! 2018-05-09 16:00:39 GET /report - 443 - 127.0.0.1 Mozilla/5.0+(X11) - 200 0 0 123 42
//! ```
//!
//! [`Parser`] holds the format, the W3C columns and the auto-detection
//! state, and queues what it wants said on stderr as notices
//! ([`Parser::take_notice`]): it never prints.
//!
//! Invariants:
//! - Pure: no I/O, no clock, no allocation and no regex per line. Fields are
//!   found by hand (memchr for the delimiters) and borrowed from the line.
//! - Never panics, whatever the bytes: every index is checked, every number
//!   uses checked arithmetic, and anything that does not fit the format is a
//!   [`ParseError`] naming the field that failed.
//! - Works on bytes: invalid UTF-8 inside a field does not make a line
//!   invalid. Printing a field is the caller's business (see `text::sanitize`).
//! - Escapes are not undone: `target`, `referer` and `user_agent` are the raw
//!   bytes between the quotes, so `\"` stays two bytes. The one exception
//!   is outside `Parser::parse`: the reader decodes a JSON target's escapes
//!   for its section ([`json::decode_target`]).

use std::borrow::Cow;
use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;

use memchr::memchr;

use crate::text::{sanitize, truncate};

mod apache;
mod clf;
mod fields;
pub mod json;
mod nginx;
pub mod pattern;
mod section;
pub mod time;
pub mod w3c;

use clf::ClfShape;
pub use fields::parse_request_time;
pub(crate) use fields::strip_line_end;
use pattern::Pattern;
pub use section::{normalize as normalize_section, section};
pub use time::parse_clf_time;
use w3c::W3c;

/// An HTTP request method. `Other` covers non-standard methods (WebDAV's
/// `PROPFIND`, say) and requests that are not `METHOD TARGET PROTOCOL`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    Get,
    Head,
    Post,
    Put,
    Delete,
    Connect,
    Options,
    Trace,
    Patch,
    Other,
}

impl Method {
    /// Every method, in declaration order (`Other` last), for tables indexed
    /// by method.
    pub const ALL: [Method; 10] = [
        Method::Get,
        Method::Head,
        Method::Post,
        Method::Put,
        Method::Delete,
        Method::Connect,
        Method::Options,
        Method::Trace,
        Method::Patch,
        Method::Other,
    ];

    /// The method named exactly (case-sensitive, as RFC 9110 says) by `b`;
    /// anything else is `Other`. Always inlined: it is on every line's
    /// path, and LLVM stopped inlining it once the JSON parser called it
    /// too, which cost a CLF line 13 instructions (callgrind).
    #[inline(always)]
    pub fn from_bytes(b: &[u8]) -> Method {
        match b {
            b"GET" => Method::Get,
            b"HEAD" => Method::Head,
            b"POST" => Method::Post,
            b"PUT" => Method::Put,
            b"DELETE" => Method::Delete,
            b"CONNECT" => Method::Connect,
            b"OPTIONS" => Method::Options,
            b"TRACE" => Method::Trace,
            b"PATCH" => Method::Patch,
            _ => Method::Other,
        }
    }

    /// The method's name in upper case: `"GET"`, ..., `"OTHER"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Connect => "CONNECT",
            Method::Options => "OPTIONS",
            Method::Trace => "TRACE",
            Method::Patch => "PATCH",
            Method::Other => "OTHER",
        }
    }
}

/// Which format to read lines in (`--log-format`): see [`LogFormat::parse`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// Decide per line among JSON, W3C and the CLF family: see
    /// [`Parser`].
    #[default]
    Auto,
    /// The Common Log Format family: CLF, Combined, vhost-prefixed, with
    /// or without further fields (a number alone after them is a request
    /// time).
    Clf,
    /// Apache's `common`: CLF without further fields.
    Common,
    /// nginx's and Apache's `combined`.
    Combined,
    /// Apache's `vhost_combined`.
    VhostCombined,
    /// The ingress-nginx controller's default (`upstreaminfo`).
    IngressNginx,
    /// Traefik's CLF access log.
    Traefik,
    /// W3C Extended Log File Format, as IIS and CloudFront write it.
    W3c,
    /// W3C Extended with the IIS default fields, for a log without a
    /// `#Fields:` header (a header still takes over).
    Iis,
    /// Caddy's JSON access log, one object a line.
    Caddy,
    /// JSON access logs, Caddy's or Traefik's, decided per line.
    Json,
    /// An nginx `log_format` or Apache `LogFormat` string, compiled.
    Pattern(Arc<Pattern>),
}

/// The presets' names, in the order `--help` lists them, with what each
/// reads.
pub const PRESETS: &[(&str, &str)] = &[
    ("auto", "decide per line among all the presets"),
    ("clf", "the CLF family, with or without further fields"),
    ("common", "Apache's common: CLF without further fields"),
    ("combined", "nginx's and Apache's combined"),
    ("vhost_combined", "Apache's vhost_combined (%v:%p first)"),
    ("ingress-nginx", "the ingress-nginx controller's default"),
    ("traefik", "Traefik's CLF access log"),
    (
        "w3c",
        "W3C Extended, as IIS writes it, columns from #Fields:",
    ),
    (
        "iis",
        "IIS's default W3C fields, for a log without #Fields:",
    ),
    ("caddy", "Caddy's JSON access log"),
    ("json", "JSON access logs, Caddy's or Traefik's, per line"),
];

impl LogFormat {
    /// Read `--log-format`: a preset's name ([`PRESETS`]), an nginx
    /// `log_format` string (recognised by a `$`) or an Apache `LogFormat`
    /// string (by a `%`), compiled once here. The error says why the value
    /// cannot be used.
    pub fn parse(text: &str) -> Result<LogFormat, String> {
        let text = text.trim();
        let preset = match text {
            "auto" => LogFormat::Auto,
            "clf" => LogFormat::Clf,
            "common" => LogFormat::Common,
            "combined" => LogFormat::Combined,
            "vhost_combined" => LogFormat::VhostCombined,
            "ingress-nginx" => LogFormat::IngressNginx,
            "traefik" => LogFormat::Traefik,
            "w3c" => LogFormat::W3c,
            "iis" => LogFormat::Iis,
            "caddy" => LogFormat::Caddy,
            "json" => LogFormat::Json,
            _ if text.contains('$') => return nginx::compile(text).map(LogFormat::pattern),
            _ if text.contains('%') => return apache::compile(text).map(LogFormat::pattern),
            _ => {
                let names: Vec<&str> = PRESETS.iter().map(|&(name, _)| name).collect();
                return Err(format!(
                    "`{text}` is neither a preset ({}) nor a format string: an nginx \
                     log_format (with $variables) or an Apache LogFormat (with %directives)",
                    names.join(", ")
                ));
            }
        };
        Ok(preset)
    }

    fn pattern(pattern: Pattern) -> LogFormat {
        LogFormat::Pattern(Arc::new(pattern))
    }

    /// The preset's name, or `nginx` or `apache` for a format string.
    pub fn as_str(&self) -> &'static str {
        match self {
            LogFormat::Auto => "auto",
            LogFormat::Clf => "clf",
            LogFormat::Common => "common",
            LogFormat::Combined => "combined",
            LogFormat::VhostCombined => "vhost_combined",
            LogFormat::IngressNginx => "ingress-nginx",
            LogFormat::Traefik => "traefik",
            LogFormat::W3c => "w3c",
            LogFormat::Iis => "iis",
            LogFormat::Caddy => "caddy",
            LogFormat::Json => "json",
            LogFormat::Pattern(pattern) => pattern.dialect().as_str(),
        }
    }

    /// What the startup line says, `log format: ...`, at most `width`
    /// characters: a preset and what it reads, or a format string,
    /// sanitized and shortened with an ellipsis.
    pub fn describe(&self, width: usize) -> String {
        let text = match self {
            LogFormat::Pattern(pattern) => {
                let quoted = format!("{} \"{}\"", pattern.dialect().as_str(), pattern.source());
                format!("log format: {}", sanitize(quoted.as_bytes()))
            }
            preset => {
                let what = PRESETS
                    .iter()
                    .find(|&&(name, _)| name == preset.as_str())
                    .map_or("", |&(_, what)| what);
                format!("log format: {} ({what})", preset.as_str())
            }
        };
        truncate(&text, width).into_owned()
    }

    /// The CLF shape this format reads, `None` for W3C and format strings.
    /// `auto` reads the whole family.
    fn clf_shape(&self) -> Option<ClfShape> {
        Some(match self {
            LogFormat::Auto | LogFormat::Clf => ClfShape::Family,
            LogFormat::Common => ClfShape::Common,
            LogFormat::Combined => ClfShape::Combined,
            LogFormat::VhostCombined => ClfShape::VhostCombined,
            LogFormat::IngressNginx => ClfShape::IngressNginx,
            LogFormat::Traefik => ClfShape::Traefik,
            LogFormat::W3c
            | LogFormat::Iis
            | LogFormat::Caddy
            | LogFormat::Json
            | LogFormat::Pattern(_) => return None,
        })
    }

    /// The syntax of the records this format gives, `auto` aside.
    fn syntax(&self) -> Syntax {
        match self {
            LogFormat::W3c | LogFormat::Iis => Syntax::W3c,
            LogFormat::Caddy => Syntax::Caddy,
            LogFormat::Json => Syntax::Json,
            LogFormat::Pattern(_) => Syntax::Custom,
            _ => Syntax::Clf,
        }
    }

    /// What a line that does not parse was tried as, for the messages
    /// that say nothing parses.
    pub fn tried(&self) -> String {
        match self {
            LogFormat::Auto => "clf (and its presets), w3c, iis and json".to_owned(),
            LogFormat::Pattern(_) => "the format string given".to_owned(),
            format => format!("{} only", format.as_str()),
        }
    }

    /// Whether `#` lines are W3C directives in this format.
    pub fn reads_w3c(&self) -> bool {
        matches!(self, LogFormat::Auto | LogFormat::W3c | LogFormat::Iis)
    }
}

/// The format one line was actually read in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
    /// The Common Log Format family.
    Clf,
    /// W3C Extended.
    W3c,
    /// A format string (`--log-format` with an nginx or Apache string).
    Custom,
    /// Caddy's JSON access log.
    Caddy,
    /// Another JSON access log: Traefik's.
    Json,
}

impl Syntax {
    /// Whether the line was JSON (Caddy's or another shape).
    pub fn is_json(self) -> bool {
        matches!(self, Syntax::Caddy | Syntax::Json)
    }

    /// `"clf"`, `"w3c"`, `"caddy"` or `"json"`, as `--log-format` names
    /// them, or `"custom"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Syntax::Clf => "clf",
            Syntax::W3c => "w3c",
            Syntax::Custom => "custom",
            Syntax::Caddy => "caddy",
            Syntax::Json => "json",
        }
    }
}

/// One parsed line. Every byte field borrows from the line (a decoded JSON
/// target from the caller's buffer instead: [`json::decode_target`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    /// The format the line was in.
    pub syntax: Syntax,
    /// Virtual host: Apache's `%v` or `%v:%p` prefix, raw, W3C's
    /// `cs-host`, or the JSON logs' host (see [`json`]). `None` when the
    /// line has none.
    pub vhost: Option<&'a [u8]>,
    /// Client address: CLF's host field or W3C's `c-ip` (IPv4, IPv6 or a
    /// host name); empty when a W3C line has no `c-ip` column.
    pub host: &'a [u8],
    /// Authenticated user, raw: `-` (no user, in both formats) is kept as is.
    pub user: &'a [u8],
    /// Request time in unix seconds, UTC (the line's offset applied).
    pub time: i64,
    /// `Other` when the method is non-standard or the request is not
    /// `METHOD TARGET PROTOCOL`.
    pub method: Method,
    /// Request target, raw. `None` when the request is not
    /// `METHOD TARGET PROTOCOL` (nginx's `"-"` on a 408, TLS bytes on a
    /// plain-text port): such a line still counts as a hit. In W3C it is
    /// `cs-uri-stem` (the query is apart, in `query`) or `cs-uri`, `None`
    /// when that column is missing or `-`; in JSON, the path field.
    pub target: Option<&'a [u8]>,
    /// W3C's `cs-uri-query`, `None` when missing or `-`. Always `None` in
    /// CLF, where the query stays inside `target`.
    pub query: Option<&'a [u8]>,
    /// Response status, in `100..=599`, or [`NO_STATUS`] when the log
    /// wrote `-` (a hit counted under the status class `other`).
    pub status: u16,
    /// Response body size in bytes; `-` in the log means 0.
    pub bytes: u64,
    /// Referer, raw content between the quotes. Combined format only.
    pub referer: Option<&'a [u8]>,
    /// User agent, raw content between the quotes in Combined, or W3C's
    /// `cs(User-Agent)` (`None` for `-`), where `+` stands for a space:
    /// [`Record::user_agent_text`] undoes that.
    pub user_agent: Option<&'a [u8]>,
    /// Time the server took to answer, in microseconds: CLF's trailing
    /// `$request_time` (seconds) or `%D` (microseconds), W3C's `time-taken`
    /// (milliseconds, seconds in CloudFront's logs), Caddy's `duration`
    /// (seconds) or Traefik's `Duration` (nanoseconds). `None` when the line
    /// has none.
    pub request_time_us: Option<u64>,
}

impl<'a> Record<'a> {
    /// The [`section`] of the target, if the request had one.
    pub fn section(&self) -> Option<&'a [u8]> {
        self.target.map(section)
    }

    /// The user agent as the client sent it: W3C's `+` turned back into
    /// spaces (allocating only then).
    pub fn user_agent_text(&self) -> Option<Cow<'a, [u8]>> {
        let agent = self.user_agent?;
        Some(match self.syntax {
            Syntax::W3c if memchr(b'+', agent).is_some() => Cow::Owned(
                agent
                    .iter()
                    .map(|&b| if b == b'+' { b' ' } else { b })
                    .collect(),
            ),
            _ => Cow::Borrowed(agent),
        })
    }
}

/// [`Record::status`] of a line whose status is `-`: still a hit.
pub const NO_STATUS: u16 = 0;

/// The UTF-8 byte-order mark some editors and servers (IIS) write at the
/// start of a file.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Why a line is not a valid record. Each variant names the first field that
/// failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// A blank line: nothing, or only spaces and tabs, before the line
    /// ending. Callers skip it without counting it as invalid
    /// ([`ParseError::is_skipped`]).
    Empty,
    /// A NUL byte somewhere in the line: no server writes one, so the line
    /// is junk (or the file is not a log).
    Nul,
    /// No non-empty first field followed by a space.
    Host,
    /// The identity or user field is missing.
    User,
    /// The `[...]` timestamp is missing or not a real date and time.
    Time,
    /// The quoted request is missing or unterminated.
    Request,
    /// The status is missing, not 3 digits, or outside `100..=599`.
    Status,
    /// The byte count is missing, not digits or `-`, or overflows a `u64`.
    Bytes,
    /// The quoted referer is unterminated.
    Referer,
    /// The quoted user agent is unterminated.
    UserAgent,
    /// The line does not have the shape of the format given: a preset's
    /// fields, or a format string's literal text.
    Format,
    /// A W3C line came before any `#Fields:` directive.
    NoFields,
    /// A W3C line has more or fewer fields than its `#Fields:` directive.
    FieldCount,
    /// Not a request: a W3C directive (`#Fields:`, `#Date:`, a comment),
    /// in `auto`, `w3c` or `iis`. Callers skip it without counting it as
    /// invalid.
    Directive,
    /// A `{` line that is not JSON, or not a known JSON access-log shape.
    Json,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ParseError::Empty => "blank line",
            ParseError::Nul => "NUL byte",
            ParseError::Host => "bad host",
            ParseError::User => "bad user field",
            ParseError::Time => "bad timestamp",
            ParseError::Request => "bad request",
            ParseError::Status => "bad status",
            ParseError::Bytes => "bad byte count",
            ParseError::Referer => "bad referer",
            ParseError::UserAgent => "bad user agent",
            ParseError::Format => "does not fit the log format",
            ParseError::NoFields => "no #Fields: directive yet",
            ParseError::FieldCount => "field count differs from #Fields:",
            ParseError::Directive => "directive",
            ParseError::Json => "not a known json access line",
        })
    }
}

impl std::error::Error for ParseError {}

impl ParseError {
    /// Whether the line is no request but no invalid line either, to be
    /// skipped without a count: a blank line, or a W3C directive.
    pub fn is_skipped(self) -> bool {
        matches!(self, ParseError::Empty | ParseError::Directive)
    }
}

/// Whether `line` holds nothing but spaces and tabs (or nothing at all).
fn is_blank(line: &[u8]) -> bool {
    // Most lines start with a letter or digit: one compare.
    match line.first() {
        None => true,
        Some(b' ' | b'\t') => line.iter().all(|&b| b == b' ' || b == b'\t'),
        Some(_) => false,
    }
}

/// Non-directive lines that may fail, with nothing parsed, before a notice
/// says that nothing parses.
pub const NOTHING_PARSES_AFTER: u32 = 100;

/// How to say which format a log is in, for the messages that say
/// nothing parses (two lines, the second indented).
pub const FORMAT_HINT: &str =
    "give the format with --log-format: a preset (see --help), or the\n  \
     log_format line of nginx.conf, or the LogFormat line of Apache's config";

/// Longest offending line quoted in the "nothing parses" notice, in
/// characters.
const QUOTED_LINE_WIDTH: usize = 200;

/// Parses lines in one [`LogFormat`], remembering what the next line needs:
/// the last CLF timestamp (a log repeats the same minute on many consecutive
/// lines, so most lines skip the date arithmetic), the W3C columns, and in
/// `auto` which format the last line parsed in.
pub struct Parser {
    format: LogFormat,
    /// The CLF lines `format` reads (the whole family for W3C, unused).
    shape: ClfShape,
    clock: time::ClfClock,
    /// For a format string's times written without an offset.
    zone: time::LocalZone,
    w3c: W3c,
    /// `auto`: the format tried first, the last one a line parsed in (or
    /// W3C from a `#Fields:` directive on).
    current: Syntax,
    /// The format of the last line that parsed, `None` before the first.
    announced: Option<Syntax>,
    /// Non-directive lines that failed while nothing had parsed, counted up
    /// to `NOTHING_PARSES_AFTER`.
    failures: u32,
    /// The first of those lines, escaped, kept for the notice.
    first_failure: Option<String>,
    /// What to say on stderr, oldest first.
    notices: VecDeque<String>,
}

impl Default for Parser {
    fn default() -> Parser {
        Parser::with_format(LogFormat::Auto)
    }
}

impl Parser {
    /// A parser in `auto` mode.
    pub fn new() -> Parser {
        Parser::default()
    }

    /// A parser for `format`, with nothing seen yet.
    pub fn with_format(format: LogFormat) -> Parser {
        Parser {
            shape: format.clf_shape().unwrap_or(ClfShape::Family),
            w3c: match format {
                LogFormat::Iis => W3c::iis_default(),
                _ => W3c::default(),
            },
            format,
            clock: time::ClfClock::default(),
            zone: time::LocalZone::default(),
            current: Syntax::Clf,
            announced: None,
            failures: 0,
            first_failure: None,
            notices: VecDeque::new(),
        }
    }

    /// A parser reading lines exactly as a parser for `format` that
    /// [`is_settled`] does, for lines decoded away from the reader's parser.
    ///
    /// [`is_settled`]: Parser::is_settled
    pub fn settled(format: LogFormat) -> Parser {
        let format = match format {
            // Settled on CLF, with no W3C columns: the whole family.
            LogFormat::Auto => LogFormat::Clf,
            format => format,
        };
        Parser {
            announced: Some(format.syntax()),
            ..Parser::with_format(format)
        }
    }

    /// Whether parsing is now a pure function of each line not starting
    /// with `#` or `{`, the same for [`Parser::settled`]: lines have parsed
    /// as CLF (so nothing more is announced, or counted towards the
    /// "nothing parses" notice, and no line is tried as headerless IIS),
    /// and no `#Fields:` directive has been seen (so no line can parse as
    /// W3C). Only a `#` line, or in `auto` a `{` line (JSON), can change
    /// that.
    pub fn is_settled(&self) -> bool {
        match self.format {
            LogFormat::Auto => self.announced == Some(Syntax::Clf) && !self.w3c.has_fields(),
            LogFormat::W3c | LogFormat::Iis | LogFormat::Caddy | LogFormat::Json => false,
            LogFormat::Clf
            | LogFormat::Common
            | LogFormat::Combined
            | LogFormat::VhostCombined
            | LogFormat::IngressNginx
            | LogFormat::Traefik
            | LogFormat::Pattern(_) => self.announced.is_some(),
        }
    }

    /// The format this parser was made for.
    pub fn format(&self) -> &LogFormat {
        &self.format
    }

    /// The next thing to say on stderr (a lowercase fragment, without the
    /// program name), oldest first. Poll after each batch of lines:
    /// - `auto` says which format it chose and when it switches;
    /// - any mode says once when none of the first
    ///   [`NOTHING_PARSES_AFTER`] non-directive lines parse, quoting the
    ///   first of them, escaped.
    pub fn take_notice(&mut self) -> Option<String> {
        self.notices.pop_front()
    }

    /// While no line has parsed: the first line that failed, escaped and
    /// shortened to 200 characters, as the "nothing parses" notice quotes it.
    pub fn first_failure(&self) -> Option<&str> {
        match self.announced {
            None => self.first_failure.as_deref(),
            Some(_) => None,
        }
    }

    /// Parse one line. A trailing `\n`, `\r\n` or `\r` is ignored, and so
    /// is a UTF-8 byte-order mark before the line.
    ///
    /// An error for which [`ParseError::is_skipped`] holds is a blank line
    /// or a W3C directive (taken into account): not a request and not
    /// invalid. Any other error is an invalid line, whatever the format:
    /// one holding a NUL byte, or whose time RFC 3339 cannot write (a year
    /// outside 0000-9999 once in UTC), among others.
    pub fn parse<'a>(&mut self, line: &'a [u8]) -> Result<Record<'a>, ParseError> {
        self.parse_checked(line, false)
    }

    /// [`Parser::parse`], skipping the search for a NUL byte when the
    /// caller has made sure `line` holds none (`nul_free`): the reader
    /// checks a whole chunk of lines at once.
    #[inline]
    pub(crate) fn parse_checked<'a>(
        &mut self,
        line: &'a [u8],
        nul_free: bool,
    ) -> Result<Record<'a>, ParseError> {
        let line = strip_line_end(line);
        let line = line.strip_prefix(BOM).unwrap_or(line);
        let result = if !nul_free && memchr(0, line).is_some() {
            Err(ParseError::Nul)
        } else if is_blank(line) {
            Err(ParseError::Empty)
        } else {
            match self.format {
                LogFormat::Clf
                | LogFormat::Common
                | LogFormat::Combined
                | LogFormat::VhostCombined
                | LogFormat::IngressNginx
                | LogFormat::Traefik => self.parse_clf(line, self.shape),
                LogFormat::Pattern(ref pattern) => {
                    pattern.parse(line, &mut self.clock, &mut self.zone)
                }
                LogFormat::W3c | LogFormat::Iis => self.parse_w3c(line),
                LogFormat::Caddy => json::parse(line, json::Shapes::Caddy),
                LogFormat::Json => json::parse(line, json::Shapes::Any),
                LogFormat::Auto => self.parse_auto(line),
            }
        };
        let result = match result {
            Ok(record) if !time::in_range(record.time) => Err(ParseError::Time),
            result => result,
        };
        match &result {
            // One compare per good line: the hot path stays as it was.
            Ok(record) if self.announced != Some(record.syntax) => self.announce(record.syntax),
            Ok(_) => {}
            Err(ParseError::Directive) => self.notices.extend(self.w3c.take_notice()),
            Err(e) if e.is_skipped() => {}
            Err(_) if self.announced.is_none() => self.note_failure(line),
            Err(_) => {}
        }
        result
    }

    /// `w3c` and `iis`: a directive or a request line.
    fn parse_w3c<'a>(&mut self, line: &'a [u8]) -> Result<Record<'a>, ParseError> {
        if line.first() == Some(&b'#') {
            self.w3c.directive(line);
            return Err(ParseError::Directive);
        }
        self.w3c.parse(line)
    }

    /// `auto`: a `{` line is JSON; otherwise the current format first, then
    /// the other one (W3C only once columns are known, or the IIS default
    /// columns unless the last line that parsed was CLF); a line that
    /// parses only in the other one switches to it.
    fn parse_auto<'a>(&mut self, line: &'a [u8]) -> Result<Record<'a>, ParseError> {
        // A directive or JSON (a byte-order mark is already gone).
        if matches!(line.first(), Some(b'#' | b'{')) {
            return self.parse_auto_marked(line);
        }
        match self.current {
            Syntax::W3c => {
                let error = match self.w3c.parse(line) {
                    Ok(record) => return Ok(record),
                    Err(e) => e,
                };
                let record = self.parse_clf(line, ClfShape::Family).map_err(|_| error)?;
                self.current = Syntax::Clf;
                Ok(record)
            }
            _ => {
                let error = match self.parse_clf(line, ClfShape::Family) {
                    Ok(record) => return Ok(record),
                    Err(e) => e,
                };
                let record = if self.w3c.has_fields() {
                    self.w3c.parse(line)
                } else if self.announced != Some(Syntax::Clf) {
                    // Not once settled on CLF (see `is_settled`).
                    self.w3c.parse_headerless(line)
                } else {
                    return Err(error);
                };
                let record = record.map_err(|_| error)?;
                self.current = Syntax::W3c;
                Ok(record)
            }
        }
    }

    /// `auto`: a line starting with `#` (a directive) or `{` (JSON).
    fn parse_auto_marked<'a>(&mut self, line: &'a [u8]) -> Result<Record<'a>, ParseError> {
        if line.first() == Some(&b'{') {
            return json::parse(line, json::Shapes::Any);
        }
        if self.w3c.directive(line) {
            self.current = Syntax::W3c;
        }
        Err(ParseError::Directive)
    }

    /// The first line that parses, or one in another format than the last.
    fn announce(&mut self, syntax: Syntax) {
        let previous = self.announced.replace(syntax);
        if self.format != LogFormat::Auto {
            return;
        }
        self.notices.push_back(match previous {
            None => match syntax {
                Syntax::Clf | Syntax::Custom => {
                    "log format: clf (Common Log Format family)".to_owned()
                }
                Syntax::W3c => {
                    let (name, how) = self.w3c.describe();
                    format!("log format: {name} ({how})")
                }
                Syntax::Caddy => "log format: caddy (Caddy's JSON access log)".to_owned(),
                Syntax::Json => "log format: json (Traefik's JSON access log)".to_owned(),
            },
            Some(previous) => format!(
                "log format: switched from {} to {}",
                previous.as_str(),
                syntax.as_str()
            ),
        });
    }

    /// A non-directive line failed and nothing has parsed yet.
    fn note_failure(&mut self, line: &[u8]) {
        if self.failures >= NOTHING_PARSES_AFTER {
            return;
        }
        self.failures += 1;
        if self.first_failure.is_none() {
            self.first_failure = Some(truncate(&sanitize(line), QUOTED_LINE_WIDTH).into_owned());
        }
        if self.failures == NOTHING_PARSES_AFTER {
            self.notices.push_back(format!(
                "none of the first {NOTHING_PARSES_AFTER} lines parse\n  \
                 tried {}\n  the first: {}\n  {FORMAT_HINT}",
                self.format.tried(),
                self.first_failure.as_deref().unwrap_or_default()
            ));
        }
    }
}

/// What the parsers' tests share: deterministic garbage made from a valid
/// line, for the "never panics" tests.
#[cfg(test)]
pub(crate) mod garbage {
    /// A small xorshift generator (xorshift64): deterministic, no
    /// dependency.
    pub(crate) fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        }
    }

    /// `template` with one to four bytes replaced by bytes of `alphabet`
    /// (drawn from `next`), into `line`.
    pub(crate) fn mutate(
        line: &mut Vec<u8>,
        template: &[u8],
        alphabet: &[u8],
        next: &mut impl FnMut() -> u64,
    ) {
        line.clear();
        line.extend_from_slice(template);
        for _ in 0..(next() % 4 + 1) {
            let at = (next() as usize) % line.len();
            line[at] = alphabet[(next() as usize) % alphabet.len()];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use chrono::DateTime;

    /// 09/May/2018:16:00:39 +0000
    const T0: i64 = 1_525_881_639;

    /// The record of the brief's example line; tests override fields.
    fn base() -> Record<'static> {
        Record {
            syntax: Syntax::Clf,
            vhost: None,
            host: b"127.0.0.1",
            user: b"james",
            time: T0,
            method: Method::Get,
            target: Some(b"/report"),
            status: 200,
            bytes: 123,
            query: None,
            referer: None,
            user_agent: None,
            request_time_us: None,
        }
    }

    fn parse(line: &[u8]) -> Result<Record<'_>, ParseError> {
        Parser::new().parse(line)
    }

    #[test]
    fn lines_parse_to_the_expected_records_or_errors() {
        let table: Vec<(&[u8], Result<Record, ParseError>)> = vec![
            // Common Log Format.
            (
                br#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" 200 123"#,
                Ok(base()),
            ),
            // Combined Log Format.
            (
                br#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" 200 123 "http://a.example/x" "Mozilla/5.0 (X11; Linux)""#,
                Ok(Record {
                    referer: Some(b"http://a.example/x"),
                    user_agent: Some(b"Mozilla/5.0 (X11; Linux)"),
                    ..base()
                }),
            ),
            // Combined with empty and `-` referer / agent.
            (
                br#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" 200 123 "-" """#,
                Ok(Record {
                    referer: Some(b"-"),
                    user_agent: Some(b""),
                    ..base()
                }),
            ),
            // `-` bytes, anonymous user.
            (
                br#"127.0.0.1 - - [09/May/2018:16:00:39 +0000] "HEAD /report HTTP/1.1" 304 -"#,
                Ok(Record {
                    user: b"-",
                    method: Method::Head,
                    status: 304,
                    bytes: 0,
                    ..base()
                }),
            ),
            // Query string.
            (
                br#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] "POST /api/user?id=1&x=%20 HTTP/1.1" 201 5"#,
                Ok(Record {
                    method: Method::Post,
                    target: Some(b"/api/user?id=1&x=%20"),
                    status: 201,
                    bytes: 5,
                    ..base()
                }),
            ),
            // IPv6 host.
            (
                br#"2001:db8::1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" 200 123"#,
                Ok(Record {
                    host: b"2001:db8::1",
                    ..base()
                }),
            ),
            // Escaped quote and escaped backslash inside the request.
            (
                br#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /a\"b\\ HTTP/1.1" 200 123"#,
                Ok(Record {
                    target: Some(br#"/a\"b\\"#),
                    ..base()
                }),
            ),
            // An unescaped quote not followed by a space does not end the request.
            (
                br#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /a"b HTTP/1.1" 200 123"#,
                Ok(Record {
                    target: Some(br#"/a"b"#),
                    ..base()
                }),
            ),
            // Absolute-form target.
            (
                br#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET http://my.site.com/pages/create HTTP/1.1" 200 123"#,
                Ok(Record {
                    target: Some(b"http://my.site.com/pages/create"),
                    ..base()
                }),
            ),
            // Non-standard method keeps its target.
            (
                br#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] "PROPFIND /dav HTTP/1.1" 207 123"#,
                Ok(Record {
                    method: Method::Other,
                    target: Some(b"/dav"),
                    status: 207,
                    ..base()
                }),
            ),
            // nginx's `"-"` request on a 408 is a hit without a target.
            (
                br#"10.0.0.2 - - [09/May/2018:16:00:39 +0000] "-" 408 0 "-" "-""#,
                Ok(Record {
                    host: b"10.0.0.2",
                    user: b"-",
                    method: Method::Other,
                    target: None,
                    status: 408,
                    bytes: 0,
                    referer: Some(b"-"),
                    user_agent: Some(b"-"),
                    ..base()
                }),
            ),
            // TLS handshake bytes on a plain port, as nginx escapes them.
            (
                br#"10.0.0.2 - - [09/May/2018:16:00:39 +0000] "\x16\x03\x01\x00\xA5\x01\x00\x00\xA1\x03\x03" 400 157 "-" "-""#,
                Ok(Record {
                    host: b"10.0.0.2",
                    user: b"-",
                    method: Method::Other,
                    target: None,
                    status: 400,
                    bytes: 157,
                    referer: Some(b"-"),
                    user_agent: Some(b"-"),
                    ..base()
                }),
            ),
            // Raw binary junk with spaces in the request.
            (
                b"10.0.0.2 - - [09/May/2018:16:00:39 +0000] \"\x16\x03\x01 \x02\xa5 \xff\xfe\" 400 0",
                Ok(Record {
                    host: b"10.0.0.2",
                    user: b"-",
                    method: Method::Other,
                    target: None,
                    status: 400,
                    bytes: 0,
                    ..base()
                }),
            ),
            // HTTP/0.9-style request (no protocol), and a request with too
            // many parts.
            (
                br#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report" 200 123"#,
                Ok(base()),
            ),
            (
                br#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /a b HTTP/1.1" 200 123"#,
                Ok(Record {
                    method: Method::Other,
                    target: None,
                    ..base()
                }),
            ),
            // Protocol that is not HTTP.
            (
                br#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report FTP/1.0" 200 123"#,
                Ok(Record {
                    method: Method::Other,
                    target: None,
                    ..base()
                }),
            ),
            // Trailing request time after CLF and after Combined: nginx's
            // seconds with a decimal point, Apache's integer microseconds.
            (
                br#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" 200 123 0.123"#,
                Ok(Record {
                    request_time_us: Some(123_000),
                    ..base()
                }),
            ),
            // The first of several further fields has no known meaning.
            (
                br#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" 200 123 "-" "curl/8.0" 0.123 upstream=1"#,
                Ok(Record {
                    referer: Some(b"-"),
                    user_agent: Some(b"curl/8.0"),
                    ..base()
                }),
            ),
            // ingress-nginx: $request_length, then $request_time.
            (
                br#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" 200 123 "-" "curl/8.0" 89 0.033 [default-web-80] [] 10.0.0.7:80 123 0.032 200 5f1b"#,
                Ok(Record {
                    referer: Some(b"-"),
                    user_agent: Some(b"curl/8.0"),
                    request_time_us: Some(33_000),
                    ..base()
                }),
            ),
            // Traefik: request count, router, server, then milliseconds.
            (
                br#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" 200 123 "-" "curl/8.0" 7 "web@docker" "http://10.0.0.7:80" 21ms"#,
                Ok(Record {
                    referer: Some(b"-"),
                    user_agent: Some(b"curl/8.0"),
                    request_time_us: Some(21_000),
                    ..base()
                }),
            ),
            // An X-Forwarded-For list in place of the client: its first
            // address, with or without a vhost before it.
            (
                br#"10.0.0.2, 10.0.0.1, 127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" 200 123"#,
                Ok(Record {
                    host: b"10.0.0.2",
                    ..base()
                }),
            ),
            (
                br#"www.example.com 10.0.0.2, 10.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" 200 123"#,
                Ok(Record {
                    vhost: Some(b"www.example.com"),
                    host: b"10.0.0.2",
                    ..base()
                }),
            ),
            // Status `-`: a hit without a status.
            (
                br#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" - 123"#,
                Ok(Record {
                    status: NO_STATUS,
                    ..base()
                }),
            ),
            (
                br#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" 200 123 "-" "curl/8.0" 4512"#,
                Ok(Record {
                    referer: Some(b"-"),
                    user_agent: Some(b"curl/8.0"),
                    request_time_us: Some(4512),
                    ..base()
                }),
            ),
            (
                br#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" 200 123 "-" 2.5"#,
                Ok(Record {
                    referer: Some(b"-"),
                    request_time_us: Some(2_500_000),
                    ..base()
                }),
            ),
            // A trailing field that is not a number is no request time.
            (
                br#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" 200 123 "-" "curl/8.0" -"#,
                Ok(Record {
                    referer: Some(b"-"),
                    user_agent: Some(b"curl/8.0"),
                    ..base()
                }),
            ),
            (
                br#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" 200 123 rt=0.1"#,
                Ok(base()),
            ),
            // Apache's vhost_combined (`%v:%p`) and `%v` common forms.
            (
                br#"www.example.com:443 127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" 200 123 "-" "curl/8.0""#,
                Ok(Record {
                    vhost: Some(b"www.example.com:443"),
                    referer: Some(b"-"),
                    user_agent: Some(b"curl/8.0"),
                    ..base()
                }),
            ),
            (
                br#"www.example.com 127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" 200 123 0.5"#,
                Ok(Record {
                    vhost: Some(b"www.example.com"),
                    request_time_us: Some(500_000),
                    ..base()
                }),
            ),
            // Five fields before the timestamp is neither form.
            (
                br#"a.example b.example 127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" 200 123"#,
                Err(ParseError::Time),
            ),
            // Referer without an agent.
            (
                br#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" 200 123 "-""#,
                Ok(Record {
                    referer: Some(b"-"),
                    ..base()
                }),
            ),
            // CRLF and LF line endings.
            (
                b"127.0.0.1 - james [09/May/2018:16:00:39 +0000] \"GET /report HTTP/1.0\" 200 123\r\n",
                Ok(base()),
            ),
            (
                b"127.0.0.1 - james [09/May/2018:16:00:39 +0000] \"GET /report HTTP/1.0\" 200 123\r",
                Ok(base()),
            ),
            // Negative and positive offsets.
            (
                br#"127.0.0.1 - james [09/May/2018:11:00:39 -0500] "GET /report HTTP/1.0" 200 123"#,
                Ok(base()),
            ),
            (
                br#"127.0.0.1 - james [09/May/2018:21:30:39 +0530] "GET /report HTTP/1.0" 200 123"#,
                Ok(base()),
            ),
            // Leap day in a leap year.
            (
                br#"127.0.0.1 - james [29/Feb/2024:00:00:00 +0000] "GET /report HTTP/1.0" 200 123"#,
                Ok(Record {
                    time: 1_709_164_800,
                    ..base()
                }),
            ),
            // Invalid UTF-8 in the path and the agent still makes a valid line.
            (
                b"127.0.0.1 - james [09/May/2018:16:00:39 +0000] \"GET /caf\xe9/\xff HTTP/1.0\" 200 123 \"-\" \"\xc3\x28\"",
                Ok(Record {
                    target: Some(b"/caf\xe9/\xff"),
                    referer: Some(b"-"),
                    user_agent: Some(b"\xc3\x28"),
                    ..base()
                }),
            ),
            // Largest byte count.
            (
                br#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" 200 18446744073709551615"#,
                Ok(Record {
                    bytes: u64::MAX,
                    ..base()
                }),
            ),
            // Status bounds.
            (
                br#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" 100 123"#,
                Ok(Record {
                    status: 100,
                    ..base()
                }),
            ),
            (
                br#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" 599 123"#,
                Ok(Record {
                    status: 599,
                    ..base()
                }),
            ),
            // Errors.
            (b"", Err(ParseError::Empty)),
            (b"\r\n", Err(ParseError::Empty)),
            (b"garbage", Err(ParseError::Host)),
            (b"hello world", Err(ParseError::User)),
            (b"\x01\x02 \xff\xfe", Err(ParseError::User)),
            // A NUL byte anywhere makes the line invalid.
            (b"\x00\x01\x02 \xff\xfe", Err(ParseError::Nul)),
            (
                b"10.0.0.2 - - [09/May/2018:16:00:39 +0000] \"GET /\x00 HTTP/1.1\" 200 1",
                Err(ParseError::Nul),
            ),
            (
                br#" - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" 200 123"#,
                Err(ParseError::Host),
            ),
            // Missing user field.
            (
                br#"127.0.0.1 - [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" 200 123"#,
                Err(ParseError::User),
            ),
            // Missing timestamp.
            (
                br#"127.0.0.1 - james "GET /report HTTP/1.0" 200 123"#,
                Err(ParseError::Time),
            ),
            // Unterminated timestamp.
            (b"127.0.0.1 - james [09/May/2018:16:00:39 +0000", Err(ParseError::Time)),
            // Bad month, day past the month's end, non-leap 29 Feb, bad clock.
            (
                br#"127.0.0.1 - james [09/Mai/2018:16:00:39 +0000] "GET /report HTTP/1.0" 200 123"#,
                Err(ParseError::Time),
            ),
            (
                br#"127.0.0.1 - james [09/may/2018:16:00:39 +0000] "GET /report HTTP/1.0" 200 123"#,
                Err(ParseError::Time),
            ),
            (
                br#"127.0.0.1 - james [31/Feb/2018:16:00:39 +0000] "GET /report HTTP/1.0" 200 123"#,
                Err(ParseError::Time),
            ),
            (
                br#"127.0.0.1 - james [29/Feb/2023:16:00:39 +0000] "GET /report HTTP/1.0" 200 123"#,
                Err(ParseError::Time),
            ),
            (
                br#"127.0.0.1 - james [29/Feb/2100:16:00:39 +0000] "GET /report HTTP/1.0" 200 123"#,
                Err(ParseError::Time),
            ),
            (
                br#"127.0.0.1 - james [09/May/2018:16:00:60 +0000] "GET /report HTTP/1.0" 200 123"#,
                Err(ParseError::Time),
            ),
            // Missing request, unterminated request.
            (
                br#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] 200 123"#,
                Err(ParseError::Request),
            ),
            (
                br#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0 200 123"#,
                Err(ParseError::Request),
            ),
            (
                br#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0\"#,
                Err(ParseError::Request),
            ),
            // Status missing, out of range, not digits, too long.
            (
                br#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0""#,
                Err(ParseError::Status),
            ),
            (
                br#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" 600 123"#,
                Err(ParseError::Status),
            ),
            (
                br#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" 99 123"#,
                Err(ParseError::Status),
            ),
            (
                br#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" 099 123"#,
                Err(ParseError::Status),
            ),
            (
                br#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" abc 123"#,
                Err(ParseError::Status),
            ),
            (
                br#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" 2000 123"#,
                Err(ParseError::Status),
            ),
            // Bytes missing, overflowing, not digits.
            (
                br#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" 200"#,
                Err(ParseError::Bytes),
            ),
            (
                br#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" 200 "#,
                Err(ParseError::Bytes),
            ),
            (
                br#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" 200 99999999999999999999999"#,
                Err(ParseError::Bytes),
            ),
            (
                br#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" 200 18446744073709551616"#,
                Err(ParseError::Bytes),
            ),
            (
                br#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" 200 12a"#,
                Err(ParseError::Bytes),
            ),
            (
                br#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" 200 -1"#,
                Err(ParseError::Bytes),
            ),
            // A last quoted field cut off by the end of the line still
            // makes a hit.
            (
                br#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" 200 123 "http://a.exam"#,
                Ok(Record {
                    referer: Some(b"http://a.exam"),
                    ..base()
                }),
            ),
            (
                br#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" 200 123 "-" "Mozilla/5.0 (X11; Lin"#,
                Ok(Record {
                    referer: Some(b"-"),
                    user_agent: Some(b"Mozilla/5.0 (X11; Lin"),
                    ..base()
                }),
            ),
        ];
        for (line, expected) in table {
            assert_eq!(
                parse(line),
                expected,
                "line: {}",
                String::from_utf8_lossy(line)
            );
        }
    }

    const CLF_LINE: &[u8] =
        br#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" 200 123"#;
    const W3C_FIELDS: &[u8] =
        b"#Fields: date time c-ip cs-method cs-uri-stem sc-status sc-bytes time-taken";
    const W3C_LINE: &[u8] = b"2018-05-09 16:00:39 127.0.0.1 GET /report 200 123 7\r\n";

    fn notices(parser: &mut Parser) -> Vec<String> {
        std::iter::from_fn(|| parser.take_notice()).collect()
    }

    #[test]
    fn auto_reads_clf_until_a_fields_directive_then_w3c() {
        let mut p = Parser::new();
        assert_eq!(p.parse(CLF_LINE).map(|r| r.syntax), Ok(Syntax::Clf));
        assert_eq!(
            notices(&mut p),
            ["log format: clf (Common Log Format family)"]
        );
        assert_eq!(p.parse(CLF_LINE).map(|r| r.time), Ok(T0));
        assert!(notices(&mut p).is_empty(), "said once");

        assert_eq!(p.parse(b"#Software: IIS\n"), Err(ParseError::Directive));
        assert_eq!(p.parse(W3C_FIELDS), Err(ParseError::Directive));
        let r = p.parse(W3C_LINE).unwrap();
        assert_eq!(
            (r.syntax, r.time, r.request_time_us),
            (Syntax::W3c, T0, Some(7000))
        );
        assert_eq!(notices(&mut p), ["log format: switched from clf to w3c"]);

        // A line that fails W3C but parses as CLF switches back.
        assert_eq!(p.parse(CLF_LINE).map(|r| r.syntax), Ok(Syntax::Clf));
        assert_eq!(notices(&mut p), ["log format: switched from w3c to clf"]);
        // With the columns still known, a W3C line switches again.
        assert_eq!(p.parse(W3C_LINE).map(|r| r.syntax), Ok(Syntax::W3c));
        assert_eq!(notices(&mut p), ["log format: switched from clf to w3c"]);
        // Junk fails both and changes nothing.
        assert_eq!(p.parse(b"junk"), Err(ParseError::FieldCount));
        assert!(notices(&mut p).is_empty());
    }

    #[test]
    fn auto_on_a_w3c_log_announces_w3c_first() {
        let mut p = Parser::with_format(LogFormat::Auto);
        assert_eq!(p.parse(b"#Version: 1.0"), Err(ParseError::Directive));
        assert_eq!(p.parse(W3C_FIELDS), Err(ParseError::Directive));
        assert_eq!(p.parse(W3C_LINE).map(|r| r.status), Ok(200));
        assert_eq!(
            notices(&mut p),
            ["log format: w3c (W3C Extended, from its #Fields: directive)"]
        );
    }

    #[test]
    fn each_forced_format_reads_only_its_own_lines() {
        let mut clf = Parser::with_format(LogFormat::Clf);
        assert_eq!(
            clf.parse(W3C_FIELDS),
            Err(ParseError::Time),
            "a directive is invalid"
        );
        assert!(clf.parse(W3C_LINE).is_err());
        assert!(clf.parse(CLF_LINE).is_ok());

        let mut w3c = Parser::with_format(LogFormat::W3c);
        assert_eq!(w3c.parse(W3C_LINE), Err(ParseError::NoFields));
        assert_eq!(w3c.parse(W3C_FIELDS), Err(ParseError::Directive));
        assert_eq!(w3c.parse(b"#Remark"), Err(ParseError::Directive));
        assert!(w3c.parse(W3C_LINE).is_ok());
        assert!(w3c.parse(CLF_LINE).is_err());
        assert!(notices(&mut clf).is_empty() && notices(&mut w3c).is_empty());
    }

    #[test]
    fn presets_read_their_own_shape_and_its_request_time_only() {
        let combined = format!("{} \"-\" \"curl/8\"", String::from_utf8_lossy(CLF_LINE));
        let lines = [
            String::from_utf8_lossy(CLF_LINE).into_owned(),
            combined.clone(),
            format!("www.example.com:443 {combined}"),
            format!("{combined} 89 0.033 [default-web-80] [] 10.0.0.7:80 123 0.032 200 5f1b"),
            format!("{combined} 7 \"web@docker\" \"http://10.0.0.7:80\" 21ms"),
            format!("{combined} 0.5"),
        ];
        // For each format, the request time of each line, or `None` for a
        // line that does not parse.
        let us = |ms: u64| Some(Some(ms * 1000));
        for (format, want) in [
            (
                LogFormat::Clf,
                [Some(None), Some(None), Some(None), us(33), us(21), us(500)],
            ),
            (
                LogFormat::Common,
                [Some(None), None, None, None, None, None],
            ),
            (
                LogFormat::Combined,
                [None, Some(None), None, None, None, None],
            ),
            (
                LogFormat::VhostCombined,
                [None, None, Some(None), None, None, None],
            ),
            (
                LogFormat::IngressNginx,
                [None, None, None, us(33), None, None],
            ),
            (LogFormat::Traefik, [None, None, None, None, us(21), None]),
        ] {
            let mut p = Parser::with_format(format.clone());
            for (line, want) in lines.iter().zip(want) {
                let got = p.parse(line.as_bytes()).ok().map(|r| r.request_time_us);
                assert_eq!(got, want, "{format:?}: {line}");
            }
        }
        let auto: Vec<_> = lines
            .iter()
            .map(|l| parse(l.as_bytes()).map(|r| r.request_time_us))
            .collect();
        let clf: Vec<_> = lines
            .iter()
            .map(|l| {
                Parser::with_format(LogFormat::Clf)
                    .parse(l.as_bytes())
                    .map(|r| r.request_time_us)
            })
            .collect();
        assert_eq!(auto, clf, "auto reads the family as clf does");
        assert_eq!(
            Parser::with_format(LogFormat::Combined).parse(CLF_LINE),
            Err(ParseError::Format)
        );
    }

    #[test]
    fn nothing_parsing_is_said_once_quoting_the_first_line_escaped() {
        let mut p = Parser::with_format(LogFormat::Clf);
        p.parse(b"first \x1b[31mbad\n").unwrap_err();
        for _ in 1..NOTHING_PARSES_AFTER - 1 {
            p.parse(b"#directives are lines too in clf").unwrap_err();
        }
        assert!(notices(&mut p).is_empty(), "not before the 100th line");
        p.parse(b"more junk").unwrap_err();
        assert_eq!(
            notices(&mut p),
            ["none of the first 100 lines parse\n  tried clf only\n  \
                 the first: first \\x1b[31mbad\n  \
                 give the format with --log-format: a preset (see --help), or the\n  \
                 log_format line of nginx.conf, or the LogFormat line of Apache's config"]
        );
        assert_eq!(p.first_failure(), Some("first \\x1b[31mbad"));
        p.parse(CLF_LINE).unwrap();
        assert_eq!(p.first_failure(), None, "only while nothing has parsed");
        for _ in 0..300 {
            p.parse(b"junk").unwrap_err();
        }
        assert!(notices(&mut p).is_empty(), "said once");
    }

    const CADDY_LINE: &[u8] = br#"{"ts":1525881639.5,"request":{"client_ip":"127.0.0.1","method":"GET","uri":"\/report\/x"},"status":200,"size":123,"duration":0.007}"#;
    const TRAEFIK_LINE: &[u8] = br#"{"StartUTC":"2018-05-09T16:00:39Z","ClientHost":"127.0.0.1","RequestMethod":"GET","RequestPath":"/report","DownstreamStatus":200,"DownstreamContentSize":123,"Duration":7000000}"#;
    const IIS_LINE: &[u8] =
        b"2018-05-09 16:00:39 10.0.0.1 GET /report - 80 - 127.0.0.1 curl/8 - 200 0 0 7";

    #[test]
    fn auto_reads_a_brace_line_as_json_and_announces_its_shape() {
        let mut p = Parser::new();
        let r = p.parse(CADDY_LINE).unwrap();
        assert_eq!((r.syntax, r.time, r.status), (Syntax::Caddy, T0, 200));
        assert_eq!(r.request_time_us, Some(7000));
        assert_eq!(
            notices(&mut p),
            ["log format: caddy (Caddy's JSON access log)"]
        );
        assert_eq!(p.parse(TRAEFIK_LINE).map(|r| r.syntax), Ok(Syntax::Json));
        assert_eq!(notices(&mut p), ["log format: switched from caddy to json"]);
        assert_eq!(p.parse(CLF_LINE).map(|r| r.syntax), Ok(Syntax::Clf));
        assert!(p.is_settled());
        assert_eq!(p.parse(b"{junk"), Err(ParseError::Json));
        assert!(p.is_settled(), "a line that fails changes nothing");
        assert_eq!(p.parse(TRAEFIK_LINE).map(|r| r.syntax), Ok(Syntax::Json));
        assert!(!p.is_settled(), "a JSON line unsettles");
    }

    #[test]
    fn every_preset_is_listed_with_what_it_reads() {
        use LogFormat::*;
        let all = [
            Auto,
            Clf,
            Common,
            Combined,
            VhostCombined,
            IngressNginx,
            Traefik,
            W3c,
            Iis,
            Caddy,
            Json,
        ];
        let listed: Vec<&str> = PRESETS.iter().map(|&(name, _)| name).collect();
        assert_eq!(listed, all.each_ref().map(LogFormat::as_str));
        for format in all {
            assert_eq!(LogFormat::parse(format.as_str()), Ok(format.clone()));
            // As the startup line says it, after `logmon: `.
            let line = format.describe(72);
            assert!(line.ends_with(')') && !line.ends_with("()"), "{line}");
        }
    }

    #[test]
    fn json_presets_read_their_shapes_only() {
        let mut caddy = Parser::with_format(LogFormat::Caddy);
        assert!(caddy.parse(CADDY_LINE).is_ok());
        assert_eq!(caddy.parse(TRAEFIK_LINE), Err(ParseError::Json));
        assert_eq!(caddy.parse(CLF_LINE), Err(ParseError::Json));
        let mut json = Parser::with_format(LogFormat::Json);
        assert!(json.parse(CADDY_LINE).is_ok() && json.parse(TRAEFIK_LINE).is_ok());
        assert_eq!(json.parse(b"#Fields: date"), Err(ParseError::Json));
        assert!(notices(&mut caddy).is_empty() && notices(&mut json).is_empty());
        assert!(!json.is_settled());
    }

    #[test]
    fn a_json_target_keeps_its_escapes_until_decoded_for_its_section() {
        let mut p = Parser::new();
        let mut r = p.parse(CADDY_LINE).unwrap();
        assert!(r.syntax.is_json());
        assert_eq!(r.target, Some(&br"\/report\/x"[..]));
        let mut scratch = Vec::new();
        json::decode_target(&mut r, &mut scratch);
        assert_eq!(r.section(), Some(&b"/report"[..]));
    }

    #[test]
    fn auto_reads_a_headerless_iis_log_with_the_default_fields() {
        let mut p = Parser::new();
        let bom_line = [&b"\xEF\xBB\xBF"[..], IIS_LINE].concat();
        let r = p.parse(&bom_line).unwrap();
        assert_eq!(
            (r.syntax, r.time, r.request_time_us),
            (Syntax::W3c, T0, Some(7000))
        );
        assert_eq!(r.section(), Some(&b"/report"[..]));
        assert_eq!(
            notices(&mut p),
            ["log format: iis (IIS default W3C fields, no #Fields: directive)"]
        );
        assert!(p.parse(IIS_LINE).is_ok());
        assert!(!p.is_settled());
    }

    #[test]
    fn auto_settled_on_clf_does_not_try_the_iis_fields() {
        let mut p = Parser::new();
        assert!(p.parse(CLF_LINE).is_ok());
        assert!(p.parse(IIS_LINE).is_err());
        assert!(p.is_settled());
        // Junk first, then IIS: still tried.
        let mut p = Parser::new();
        assert!(p.parse(b"junk").is_err());
        assert!(p.parse(IIS_LINE).is_ok());
    }

    #[test]
    fn the_iis_preset_reads_headerless_lines_and_takes_a_header() {
        let mut p = Parser::with_format(LogFormat::Iis);
        assert_eq!(p.parse(IIS_LINE).map(|r| r.time), Ok(T0));
        assert_eq!(p.parse(CLF_LINE).map(|_| ()), Err(ParseError::FieldCount));
        assert_eq!(p.parse(W3C_FIELDS), Err(ParseError::Directive));
        assert_eq!(p.parse(W3C_LINE).map(|r| r.bytes), Ok(123));
        assert!(notices(&mut p).is_empty());
    }

    #[test]
    fn a_byte_order_mark_before_the_fields_directive_loses_nothing() {
        let with_bom = [&b"\xEF\xBB\xBF"[..], W3C_FIELDS].concat();
        for format in [LogFormat::Auto, LogFormat::W3c] {
            let mut p = Parser::with_format(format.clone());
            assert_eq!(p.parse(&with_bom), Err(ParseError::Directive));
            assert_eq!(p.parse(W3C_LINE).map(|r| r.time), Ok(T0), "{format:?}");
        }
    }

    #[test]
    fn local_w3c_times_are_said_once_per_parser() {
        let mut p = Parser::new();
        let fields = b"#Fields: date-local time-local cs-uri-stem sc-status";
        assert_eq!(p.parse(fields), Err(ParseError::Directive));
        let said = notices(&mut p);
        assert_eq!(said.len(), 1);
        assert!(said[0].starts_with("w3c: date-local/time-local read in the local time zone"));
        p.parse(fields).unwrap_err();
        assert!(notices(&mut p).is_empty());
    }

    #[test]
    fn directives_do_not_count_towards_nothing_parsing() {
        let mut p = Parser::new();
        for _ in 0..NOTHING_PARSES_AFTER * 2 {
            assert_eq!(p.parse(b"#Remark: x"), Err(ParseError::Directive));
        }
        for _ in 0..NOTHING_PARSES_AFTER - 1 {
            p.parse(b"junk").unwrap_err();
        }
        assert!(p.parse(CLF_LINE).is_ok());
        for _ in 0..NOTHING_PARSES_AFTER {
            p.parse(b"junk").unwrap_err();
        }
        assert_eq!(
            notices(&mut p),
            ["log format: clf (Common Log Format family)"]
        );
    }

    #[test]
    fn blank_lines_are_skipped_and_a_byte_order_mark_is_ignored() {
        let mut p = Parser::with_format(LogFormat::Clf);
        for blank in [&b""[..], b"\n", b"   \r\n", b"\t \t", b"\xEF\xBB\xBF\n"] {
            let error = p.parse(blank).unwrap_err();
            assert_eq!(error, ParseError::Empty);
            assert!(error.is_skipped());
        }
        for _ in 0..NOTHING_PARSES_AFTER {
            p.parse(b"  ").unwrap_err();
        }
        assert!(notices(&mut p).is_empty(), "blank lines are not failures");
        let mut line = BOM.to_vec();
        line.extend_from_slice(CLF_LINE);
        assert_eq!(p.parse(&line), Ok(base()));
        assert!(!ParseError::Time.is_skipped() && !ParseError::Nul.is_skipped());
    }

    #[test]
    fn times_rfc3339_cannot_write_make_the_line_invalid() {
        let line = |stamp: &str| format!(r#"::1 - - [{stamp}] "GET / HTTP/1.1" 200 1"#);
        for (stamp, valid) in [
            ("31/Dec/9999:23:59:59 +0000", true),
            ("31/Dec/9999:23:59:59 +0100", true),
            // 10000-01-01T00:59:59Z and 0000-12-31 of year -1 in UTC.
            ("31/Dec/9999:23:59:59 -0100", false),
            ("01/Jan/0000:00:00:00 +0000", true),
            ("01/Jan/0000:00:00:00 +0100", false),
        ] {
            let text = line(stamp);
            let parsed = Parser::new().parse(text.as_bytes()).map(|r| r.time);
            assert_eq!(parsed.is_ok(), valid, "{stamp}: {parsed:?}");
            if !valid {
                assert_eq!(parsed, Err(ParseError::Time));
            }
        }
    }

    #[test]
    fn request_times_are_seconds_with_a_point_and_microseconds_without() {
        assert_eq!(parse_request_time(b"0.123"), Some(123_000));
        assert_eq!(parse_request_time(b"0.000"), Some(0));
        assert_eq!(parse_request_time(b"12.3456789"), Some(12_345_678));
        assert_eq!(parse_request_time(b"123"), Some(123));
        assert_eq!(parse_request_time(b"0"), Some(0));
        for bad in [
            &b""[..],
            b"-",
            b".5",
            b"1.",
            b"1.2.3",
            b"-1",
            b"1e3",
            b"99999999999999999999",
        ] {
            assert_eq!(
                parse_request_time(bad),
                None,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn record_section_is_the_section_of_its_target() {
        let line =
            br#"::1 - - [09/May/2018:16:00:39 +0000] "GET /api/v1/users?x=1 HTTP/1.1" 200 5"#;
        assert_eq!(parse(line).unwrap().section(), Some(&b"/api"[..]));
        let line = br#"::1 - - [09/May/2018:16:00:39 +0000] "-" 408 0"#;
        assert_eq!(parse(line).unwrap().section(), None);
    }

    #[test]
    fn methods_round_trip_through_their_names() {
        for method in Method::ALL {
            let parsed = Method::from_bytes(method.as_str().as_bytes());
            if method == Method::Other {
                assert_eq!(parsed, Method::Other);
            } else {
                assert_eq!(parsed, method);
            }
        }
        assert_eq!(Method::from_bytes(b"get"), Method::Other);
        assert_eq!(Method::from_bytes(b""), Method::Other);
        assert_eq!(Method::from_bytes(b"GETS"), Method::Other);
        let mut sorted = Method::ALL;
        sorted.sort();
        assert_eq!(sorted, Method::ALL, "ALL is in declaration order");
    }

    #[test]
    fn parse_errors_display_as_lowercase_fragments() {
        assert_eq!(ParseError::Time.to_string(), "bad timestamp");
        assert_eq!(ParseError::Empty.to_string(), "blank line");
        for e in [
            ParseError::Host,
            ParseError::User,
            ParseError::Request,
            ParseError::Status,
            ParseError::Bytes,
            ParseError::Referer,
            ParseError::UserAgent,
        ] {
            let text = e.to_string();
            assert_eq!(text, text.to_lowercase());
            assert!(!text.ends_with('.'));
        }
    }

    /// Timestamp texts that exercise the cache: repeats, seconds changing
    /// inside a minute, and invalid texts that share a cached minute.
    const CACHE_TEXTS: &[&str] = &[
        "09/May/2018:16:00:39 +0000",
        "09/May/2018:16:00:39 +0000",
        "09/May/2018:16:00:40 +0000",
        "09/May/2018:16:00:59 +0000",
        "09/May/2018:16:00:60 +0000",
        "09/May/2018:16:00:4x +0000",
        "09/May/2018:16:00:40 +0000",
        "09/May/2018:16:01:00 +0000",
        "09/May/2018:16:01:00 +0100",
        "09/May/2018:16:01:00 -0100",
        "09/May/2018:16:01:00 -0100",
        "31/Dec/1999:23:59:59 +0000",
        "01/Jan/2000:00:00:00 +0000",
        "31/Feb/2018:16:01:00 +0000",
        "28/Feb/2018:16:01:00 +0000",
        "28/Feb/2018:16:01:00 +0000",
        "09/May/2018:16:01:00 -0100",
        "09/May/2018:16:01:0",
        "",
        "09/May/2018:16:01:00 -0100",
    ];

    #[test]
    fn cached_timestamps_match_a_fresh_parse() {
        let mut parser = Parser::new();
        for text in CACHE_TEXTS {
            let fresh = parse_clf_time(text.as_bytes());
            assert_eq!(parser.clock.time(text.as_bytes()), fresh, "{text}");

            let line = format!(r#"::1 - - [{text}] "GET / HTTP/1.1" 200 1"#);
            let via_line = parser.parse(line.as_bytes()).map(|r| r.time);
            assert_eq!(via_line.ok(), fresh, "{line}");
        }
    }

    #[test]
    fn timestamps_agree_with_chrono() {
        let months = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let mut texts: Vec<String> = vec![
            "01/Jan/1970:00:00:00 +0000".into(),
            "01/Jan/1970:00:00:00 +0100".into(),
            "31/Dec/1969:23:59:59 +0000".into(),
            "29/Feb/2000:12:34:56 +0000".into(),
            "01/Mar/2100:00:00:00 +0000".into(),
            "28/Feb/2100:23:59:59 -2359".into(),
            "19/Jan/2038:03:14:07 +0000".into(),
            "19/Jan/2038:03:14:08 +0000".into(),
            "01/Jan/2262:00:00:00 +0000".into(),
            "31/Dec/9999:23:59:59 -0000".into(),
            "01/Jan/0001:00:00:00 +0000".into(),
            "15/Oct/1582:00:00:00 +0000".into(),
        ];
        // A deterministic spread: every month, several years and offsets.
        for (i, year) in [1970, 1999, 2000, 2001, 2024, 2038, 2100, 2400, 3000]
            .into_iter()
            .enumerate()
        {
            for (m, month) in months.iter().enumerate() {
                let day = 1 + (i * 7 + m * 5) % 28;
                let offset = ["+0000", "-0500", "+0530", "+1400", "-1200", "+0945"][(i + m) % 6];
                texts.push(format!(
                    "{day:02}/{month}/{year}:{:02}:{:02}:{:02} {offset}",
                    (i + m) % 24,
                    (i * 13 + m) % 60,
                    (i * 31 + m * 3) % 60
                ));
            }
        }
        for text in &texts {
            let expected = DateTime::parse_from_str(text, "%d/%b/%Y:%H:%M:%S %z")
                .unwrap_or_else(|e| panic!("chrono rejects {text}: {e}"))
                .timestamp();
            assert_eq!(parse_clf_time(text.as_bytes()), Some(expected), "{text}");
        }
    }

    #[test]
    fn invalid_timestamps_are_rejected() {
        for text in [
            "",
            "09/May/2018:16:00:39",
            "09/May/2018:16:00:39 +00000",
            "9/May/2018:16:00:39 +0000 ",
            "00/May/2018:16:00:39 +0000",
            "32/Jan/2018:16:00:39 +0000",
            "31/Apr/2018:16:00:39 +0000",
            "29/Feb/1900:16:00:39 +0000",
            "09/May/2018:24:00:00 +0000",
            "09/May/2018:16:60:00 +0000",
            "09/May/2018:16:00:60 +0000",
            "09/May/2018:16:00:39 +2400",
            "09/May/2018:16:00:39 +0060",
            "09/May/2018:16:00:39 0000 ",
            "09/May/2018:16:00:39 *0000",
            "09/May/2018 16:00:39 +0000",
            "09-May-2018:16:00:39 +0000",
            "09/May/20a8:16:00:39 +0000",
            "09/MAY/2018:16:00:39 +0000",
            "+9/May/2018:16:00:39 +0000",
        ] {
            assert_eq!(parse_clf_time(text.as_bytes()), None, "{text}");
        }
        assert_eq!(
            parse_clf_time(b"29/Feb/2000:00:00:00 +0000"),
            Some(951_782_400)
        );
    }

    #[test]
    fn every_truncation_of_a_line_is_an_error_or_keeps_the_request() {
        let line: &[u8] = br#"2001:db8::1 - james [09/May/2018:16:00:39 +0000] "GET /a\"b HTTP/1.0" 200 123 "r\\" "u""#;
        let mut parser = Parser::new();
        for end in 0..line.len() {
            // A cut before the byte count is an error. A cut inside it reads
            // as a smaller count (nothing can tell `200 1` from a cut
            // `200 123`), and a cut after it is a valid line. None may panic.
            if let Ok(record) = parser.parse(&line[..end]) {
                assert_eq!(record.target, Some(&br#"/a\"b"#[..]));
                assert!([1, 12, 123].contains(&record.bytes), "cut at {end}");
            }
        }
        assert_eq!(parser.parse(line).unwrap().user_agent, Some(&b"u"[..]));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // Bytes are drawn mostly from the format's own delimiters
        // so the parser gets deep into a line.
        let alphabet = b" []\"\\-/:+0123456789GETHP\x00\xff\r\nMayFeb";
        let template: &[u8] =
            br#"1.2.3.4 - - [09/May/2018:16:00:39 +0000] "GET / HTTP/1.1" 200 1 "-" "-""#;
        let mut next = super::garbage::xorshift(0x2545_f491_4f6c_dd1d);
        let mut parser = Parser::new();
        let mut line = Vec::new();
        for _ in 0..20_000 {
            // Mutate a few positions of a valid line, then maybe cut it.
            super::garbage::mutate(&mut line, template, alphabet, &mut next);
            let cut = (next() as usize) % (line.len() + 1);
            if let Ok(record) = parser.parse(&line[..cut]) {
                assert!((100..=599).contains(&record.status));
                let _ = record.section();
            }
        }
    }

    /// Run by hand: `cargo test --release parse::tests::throughput -- --ignored --nocapture`.
    #[test]
    #[ignore = "a measurement, not a check"]
    #[allow(clippy::disallowed_macros)] // its figures, for `--nocapture`
    fn throughput_of_generated_lines() {
        let paths = [
            "/",
            "/api/user?id=7",
            "/report",
            "/pages/create",
            "/static/app.js",
        ];
        let mut text = Vec::new();
        let lines = 1_000_000;
        for i in 0..lines {
            // About 20 lines per second of log time, as in a busy log.
            let sec = i / 20;
            text.extend_from_slice(
                format!(
                    "10.0.{}.{} - - [09/May/2018:16:{:02}:{:02} +0000] \"GET {} HTTP/1.1\" 200 {} \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\"\n",
                    i % 256,
                    i % 200,
                    (sec / 60) % 60,
                    sec % 60,
                    paths[i % paths.len()],
                    i % 5000
                )
                .as_bytes(),
            );
        }
        let start = std::time::Instant::now();
        let mut parser = Parser::new();
        let mut bytes = 0u64;
        let mut ok = 0usize;
        for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            if let Ok(record) = parser.parse(line) {
                bytes += record.bytes;
                ok += record.section().map_or(0, |s| s.len().min(1));
            }
        }
        let elapsed = start.elapsed();
        assert_eq!(ok, lines);
        println!(
            "{lines} lines ({} MB) in {elapsed:?}: {:.2} M lines/s (checksum {bytes})",
            text.len() / 1_000_000,
            lines as f64 / elapsed.as_secs_f64() / 1e6
        );
    }
}
