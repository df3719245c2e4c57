//! A log format string compiled into a matcher: a small program of literal
//! and field steps that reads one line into a [`Record`].
//!
//! `parse::nginx` and `parse::apache` turn their syntax into [`Token`]s; [`Pattern::compile`] checks them and fixes, once, how
//! each field ends. Matching a line then walks the steps:
//! - a literal must be there, byte for byte;
//! - a field runs up to the first place where the literal that follows it
//!   matches: so `"$http_user_agent"` spans spaces, and an unquoted
//!   variable followed by a space stops at the next space. Inside quotes a
//!   backslash escapes the next byte (Apache's `\"`, nginx's
//!   `escape=json`), unless the format says `escape=none`. A list-valued
//!   field (an X-Forwarded-For list, nginx's `$upstream_*` on retries:
//!   `a, b : c`) goes on past a space that follows `,` or comes before
//!   `: `;
//! - a field followed by the format's last literal runs to that literal at
//!   the end of the line; a quoted one cut off by the end of the line (no
//!   closing quote) still ends the line well, when no field that a hit
//!   needs comes after it.
//!
//! Invariants: pure, no regex and no allocation per line; fields borrow
//! from the line; never panics. A compiled pattern has a time field and a
//! request or path field, and no two fields side by side.

use std::fmt;

use memchr::memchr;

use super::clf::{escaped, parse_status_or_dash, split_request};
use super::fields::{parse_bytes, parse_digits, parse_seconds};
use super::time::{self, ClfClock, LocalZone, TimeShape, TIME_LEN};
use super::{Method, ParseError, Record, Syntax};

/// Which syntax a format string was written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// An nginx `log_format` string (`$variables`).
    Nginx,
    /// An Apache `LogFormat` string (`%directives`).
    Apache,
}

impl Dialect {
    /// `"nginx"` or `"apache"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Nginx => "nginx",
            Dialect::Apache => "apache",
        }
    }
}

/// How values inside quotes are escaped (nginx's `escape=` parameter).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Escape {
    /// nginx's default and Apache's: a backslash escapes the next byte.
    #[default]
    Default,
    /// nginx's `escape=json`: a backslash escapes the next byte, and a
    /// missing value is empty rather than `-`.
    Json,
    /// nginx's `escape=none`: values are raw, a backslash is a backslash.
    None,
}

/// The unit of a request-time field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Seconds, maybe with a fraction (`$request_time`, `%T`).
    Seconds,
    /// Integer milliseconds (`%{ms}T`).
    Millis,
    /// Integer microseconds (`%D`, `%{us}T`).
    Micros,
}

/// What a field of a format holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Field {
    /// The client address (`$remote_addr`, `%h`, `%a`); a list's first.
    Client,
    /// The X-Forwarded-For header: when present, its first address is the
    /// client.
    ForwardedFor,
    /// The authenticated user.
    User,
    /// The request time, in the shape given.
    Time(TimeShape),
    /// The request line, `METHOD TARGET PROTOCOL`.
    Request,
    /// The method alone.
    Method,
    /// The target with its query (`$request_uri`).
    Uri,
    /// The path alone (`$uri`, `%U`).
    Path,
    /// The query alone (`$args`; `%q` with its `?`).
    Query,
    /// The status, or `-`.
    Status,
    /// The response body's size (`$body_bytes_sent`, `%b`, `%B`).
    BodyBytes,
    /// The whole response's size, headers included (`$bytes_sent`, `%O`):
    /// used when the format has no body size.
    SentBytes,
    /// The time taken to answer.
    RequestTime(Unit),
    /// nginx's `$upstream_response_time`, in seconds, a list on retries:
    /// used, summed, only when the format has no `$request_time`.
    UpstreamTime,
    /// The Referer header.
    Referer,
    /// The User-Agent header.
    UserAgent,
    /// The virtual host (`$host`, `%v`).
    Host,
    /// Anything else: matched and ignored.
    Ignored,
}

impl Field {
    /// Whether a hit needs this field when the format has it: a line cut
    /// off before it is not a hit.
    fn is_needed(&self) -> bool {
        matches!(
            self,
            Field::Time(_)
                | Field::Request
                | Field::Method
                | Field::Uri
                | Field::Path
                | Field::Status
                | Field::BodyBytes
                | Field::SentBytes
        )
    }

    /// The error for a line whose value of this field is missing or bad.
    fn error(&self) -> ParseError {
        match self {
            Field::Client | Field::ForwardedFor => ParseError::Host,
            Field::User => ParseError::User,
            Field::Time(_) => ParseError::Time,
            Field::Request | Field::Method | Field::Uri | Field::Path | Field::Query => {
                ParseError::Request
            }
            Field::Status => ParseError::Status,
            Field::BodyBytes | Field::SentBytes => ParseError::Bytes,
            Field::Referer => ParseError::Referer,
            Field::UserAgent => ParseError::UserAgent,
            _ => ParseError::Format,
        }
    }
}

/// A piece of a format string, as a dialect reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Token {
    /// Text that must be there.
    Literal(Vec<u8>),
    /// A variable or directive: what it holds, its name as written
    /// (`$status`, `%>s`) and whether its values may be lists.
    Field {
        field: Field,
        name: String,
        list: bool,
    },
}

/// One step of a compiled pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Bytes that must be there.
    Literal(Literal),
    /// A field, and how it ends.
    Field(FieldStep),
}

/// Literal text of a format, with its first 8 bytes as a word, so that
/// the usual short literal is matched with one compare.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Literal {
    text: Box<[u8]>,
    /// The first (up to) 8 bytes, little-endian, zero-padded.
    word: u64,
    /// Selects the bytes of `word` that are text.
    mask: u64,
}

impl Literal {
    fn new(text: &[u8]) -> Literal {
        let mut head = [0u8; 8];
        let n = text.len().min(8);
        head[..n].copy_from_slice(&text[..n]);
        Literal {
            text: text.into(),
            word: u64::from_le_bytes(head),
            mask: match n {
                8 => u64::MAX,
                n => (1u64 << (8 * n)) - 1,
            },
        }
    }

    /// The text.
    pub fn bytes(&self) -> &[u8] {
        &self.text
    }

    fn len(&self) -> usize {
        self.text.len()
    }

    /// Whether `hay` starts with this text. A slice compare would call
    /// `memcmp`, which costs more than the compare for a few bytes
    /// (callgrind: ~30 instructions a call).
    #[inline]
    fn starts(&self, hay: &[u8]) -> bool {
        let n = self.text.len();
        match hay.first_chunk::<8>() {
            Some(head) if n <= 8 => (u64::from_le_bytes(*head) ^ self.word) & self.mask == 0,
            _ => hay.len() >= n && hay.iter().zip(self.text.iter()).all(|(a, b)| a == b),
        }
    }
}

/// A field step: what it holds, and where its value ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldStep {
    pub field: Field,
    /// The variable or directive as written.
    pub name: Box<str>,
    /// Where the value ends.
    until: Until,
    /// Length of the literal `until` holds, which matching consumes with
    /// the value.
    until_len: usize,
    /// Where its value goes in [`Values`]: nowhere (`IGNORED`) for a
    /// field that is not read, such as a second time field.
    slot: usize,
    /// A backslash escapes the next byte inside the value.
    escapes: bool,
    /// The value may be a list (`a, b : c`).
    list: bool,
    /// The value may run to the end of the line when its closing literal
    /// is missing: it is quoted, and no needed field follows.
    cut_ok: bool,
    /// Length the value usually has, checked before a scan (a CLF time).
    hint: Option<usize>,
}

/// Where a field's value ends.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Until {
    /// At the end of the line: the field is the last step.
    End,
    /// Where the line ends with this literal, the format's last step.
    Suffix(Literal),
    /// At the first match of this literal, the next step.
    Literal(Literal),
}

/// A compiled format string, built by [`LogFormat::parse`] from an nginx
/// or Apache string.
///
/// [`LogFormat::parse`]: super::LogFormat::parse
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    dialect: Dialect,
    /// The format string, out of the configuration syntax it was pasted
    /// in, for the startup line.
    source: String,
    steps: Box<[Step]>,
    /// What matching walks: the literal before the first field (maybe
    /// empty), then the fields, each of which takes the literal after it.
    lead: Literal,
    fields: Box<[FieldStep]>,
    /// The shape of the time field read (the first one).
    time: TimeShape,
    /// The unit of the request-time field read, if any.
    request_time: Option<Unit>,
    /// Whether `$upstream_response_time` stands in for the request time.
    upstream_time: bool,
    /// Whether the format has a body size (else a response size is used).
    body_bytes: bool,
}

/// The values of one line, indexed by the slots below.
type Values<'a> = [Option<&'a [u8]>; SLOTS];

const CLIENT: usize = 0;
const FORWARDED: usize = 1;
const USER: usize = 2;
const TIME: usize = 3;
const REQUEST: usize = 4;
const METHOD: usize = 5;
const URI: usize = 6;
const PATH: usize = 7;
const QUERY: usize = 8;
const STATUS: usize = 9;
const BYTES: usize = 10;
const REQUEST_TIME: usize = 11;
const REFERER: usize = 12;
const USER_AGENT: usize = 13;
const HOST: usize = 14;
/// Where ignored values go, never read.
const IGNORED: usize = 15;
const SLOTS: usize = 16;

impl Field {
    /// Where this field's value goes in [`Values`].
    fn slot(&self) -> usize {
        match self {
            Field::Client => CLIENT,
            Field::ForwardedFor => FORWARDED,
            Field::User => USER,
            Field::Time(_) => TIME,
            Field::Request => REQUEST,
            Field::Method => METHOD,
            Field::Uri => URI,
            Field::Path => PATH,
            Field::Query => QUERY,
            Field::Status => STATUS,
            Field::BodyBytes | Field::SentBytes => BYTES,
            Field::RequestTime(_) | Field::UpstreamTime => REQUEST_TIME,
            Field::Referer => REFERER,
            Field::UserAgent => USER_AGENT,
            Field::Host => HOST,
            Field::Ignored => IGNORED,
        }
    }
}

impl Pattern {
    /// Compile `tokens`, read from `source` in `dialect`. The error says
    /// why the format cannot be used.
    pub fn compile(
        dialect: Dialect,
        source: &str,
        tokens: Vec<Token>,
        escape: Escape,
    ) -> Result<Pattern, String> {
        let (time_names, request_names) = match dialect {
            Dialect::Nginx => (
                "$time_local, $time_iso8601 or $msec",
                "$request, $request_uri or $uri",
            ),
            Dialect::Apache => ("%t or %{...}t", "%r or %U"),
        };
        // Merge adjacent literals; refuse adjacent fields.
        let mut merged: Vec<Token> = Vec::with_capacity(tokens.len());
        for token in tokens {
            match (merged.last_mut(), token) {
                (_, Token::Literal(text)) if text.is_empty() => {}
                (Some(Token::Literal(last)), Token::Literal(text)) => last.extend(text),
                // A path and its query written together (`%U%q`,
                // `$uri$is_args$args`) are one target with its query.
                (
                    Some(Token::Field {
                        field: last @ Field::Path,
                        name: last_name,
                        ..
                    }),
                    Token::Field { field, name, .. },
                ) if field == Field::Query || name == "$is_args" => {
                    if field == Field::Query {
                        *last = Field::Uri;
                    }
                    last_name.push_str(&name);
                }
                (Some(Token::Field { name: last, .. }), Token::Field { name, .. }) => {
                    return Err(format!(
                        "{last} and {name} have nothing between them, so their values cannot be told apart"
                    ))
                }
                (_, token) => merged.push(token),
            }
        }
        // The first time and request-time fields are the ones read; the
        // others keep their meaning (for a writer of lines) but are not.
        let mut unread = vec![false; merged.len()];
        let mut time = None;
        let mut request_time = None;
        let mut has_request = false;
        let mut has_upstream = false;
        let mut body_bytes = false;
        for (i, token) in merged.iter().enumerate() {
            let Token::Field { field, .. } = token else {
                continue;
            };
            match field {
                Field::Time(shape) if time.is_none() => time = Some(shape.clone()),
                Field::RequestTime(unit) if request_time.is_none() => request_time = Some(*unit),
                Field::Time(_) | Field::RequestTime(_) => unread[i] = true,
                Field::Request | Field::Uri | Field::Path => has_request = true,
                Field::UpstreamTime => has_upstream = true,
                Field::BodyBytes => body_bytes = true,
                _ => {}
            }
        }
        let Some(time) = time else {
            return Err(format!("no time variable: the format needs {time_names}"));
        };
        if !has_request {
            return Err(format!(
                "neither a request nor a path variable: the format needs {request_names}"
            ));
        }
        let upstream_time = request_time.is_none() && has_upstream;
        for (i, token) in merged.iter().enumerate() {
            match token {
                Token::Field { field, .. } if *field == Field::UpstreamTime && !upstream_time => {
                    unread[i] = true
                }
                Token::Field { field, .. } if *field == Field::SentBytes && body_bytes => {
                    unread[i] = true
                }
                _ => {}
            }
        }

        let mut steps = Vec::with_capacity(merged.len());
        for (i, token) in merged.iter().enumerate() {
            let (field, name, list) = match token {
                Token::Literal(text) => {
                    steps.push(Step::Literal(Literal::new(text)));
                    continue;
                }
                Token::Field { field, name, list } => (field, name, *list),
            };
            let before = match i.checked_sub(1).map(|j| &merged[j]) {
                Some(Token::Literal(text)) => text.last().copied(),
                _ => None,
            };
            let next = match merged.get(i + 1) {
                Some(Token::Literal(text)) => Some(text),
                _ => None,
            };
            let quoted = before == Some(b'"') && next.is_some_and(|t| t.first() == Some(&b'"'));
            let until = match next {
                None => Until::End,
                Some(text) if i + 2 == merged.len() => Until::Suffix(Literal::new(text)),
                Some(text) => Until::Literal(Literal::new(text)),
            };
            let needed_after = merged[i + 1..]
                .iter()
                .any(|t| matches!(t, Token::Field { field, .. } if field.is_needed()));
            // A time of fixed length may hold the literal after it (a
            // space): look where it ends first.
            let hint = match field {
                Field::Time(TimeShape::Clf) => Some(TIME_LEN),
                Field::Time(TimeShape::ClfBracketed) => Some(TIME_LEN + 2),
                Field::Time(TimeShape::Strftime(format)) => format.text_len(),
                _ => None,
            };
            steps.push(Step::Field(FieldStep {
                until_len: next.map_or(0, Vec::len),
                slot: match unread[i] {
                    true => IGNORED,
                    false => field.slot(),
                },
                field: field.clone(),
                name: name.as_str().into(),
                until,
                escapes: quoted && escape != Escape::None,
                list,
                cut_ok: quoted && !needed_after,
                hint,
            }));
        }
        let lead = match merged.first() {
            Some(Token::Literal(text)) => Literal::new(text),
            _ => Literal::new(b""),
        };
        let fields = steps
            .iter()
            .filter_map(|step| match step {
                Step::Field(field) => Some(field.clone()),
                Step::Literal(_) => None,
            })
            .collect();
        Ok(Pattern {
            dialect,
            source: source.to_owned(),
            steps: steps.into(),
            lead,
            fields,
            time,
            request_time,
            upstream_time,
            body_bytes,
        })
    }

    /// The syntax the format was written in.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The format string, out of the configuration syntax around it.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The steps, in order: what a writer of lines in this format (loggen)
    /// follows.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// Whether the format's times carry no UTC offset (read as local time).
    pub fn local_time(&self) -> bool {
        self.time.is_local()
    }

    /// Read one line (line end stripped) into a record; `clock` caches CLF
    /// times across lines, and `zone` the local offset for times written
    /// without one.
    pub(super) fn parse<'a>(
        &self,
        line: &'a [u8],
        clock: &mut ClfClock,
        zone: &mut LocalZone,
    ) -> Result<Record<'a>, ParseError> {
        let values = self.capture(line)?;
        let time = values[TIME].ok_or(ParseError::Time)?;
        let time = match &self.time {
            TimeShape::Clf => clock.time(time),
            TimeShape::ClfBracketed => time
                .strip_prefix(b"[")
                .and_then(|t| t.strip_suffix(b"]"))
                .and_then(|t| clock.time(t)),
            TimeShape::Iso8601 => time::parse_iso8601(time, zone),
            TimeShape::EpochSecs => time::parse_epoch(time, 0),
            TimeShape::EpochMillis => time::parse_epoch(time, 3),
            TimeShape::EpochMicros => time::parse_epoch(time, 6),
            TimeShape::Strftime(format) => format.parse(time, zone),
        }
        .ok_or(ParseError::Time)?;

        let (mut method, mut target) = match values[REQUEST] {
            Some(request) => split_request(request),
            None => (Method::Other, None),
        };
        if let Some(m) = values[METHOD] {
            method = Method::from_bytes(m);
        }
        let mut query = None;
        if let Some(uri) = present(values[URI]) {
            target = Some(uri);
        } else if let Some(path) = present(values[PATH]) {
            target = Some(path);
            query = present(values[QUERY].map(|q| q.strip_prefix(b"?").unwrap_or(q)));
        }
        let status = match present(values[STATUS]) {
            Some(status) => parse_status_or_dash(status).ok_or(ParseError::Status)?,
            None => super::NO_STATUS,
        };
        let bytes = match present(values[BYTES]) {
            Some(bytes) => parse_bytes(bytes).ok_or(ParseError::Bytes)?,
            None => 0,
        };
        // A bad request time costs the latency, not the hit.
        let request_time_us = present(values[REQUEST_TIME]).and_then(|t| {
            match (self.upstream_time, self.request_time) {
                (true, _) => upstream_sum(t),
                (false, Some(Unit::Seconds)) => parse_seconds(t),
                (false, Some(Unit::Millis)) => parse_digits(t)?.checked_mul(1000),
                (false, Some(Unit::Micros)) => parse_digits(t),
                (false, None) => None,
            }
        });
        let host = present(values[FORWARDED])
            .or(values[CLIENT])
            .map_or(&b""[..], first_address);
        Ok(Record {
            syntax: Syntax::Custom,
            vhost: present(values[HOST]),
            host,
            user: values[USER].unwrap_or(b"-"),
            time,
            method,
            target,
            query,
            status,
            bytes,
            referer: values[REFERER],
            user_agent: values[USER_AGENT],
            request_time_us,
        })
    }

    /// Walk the steps over `line`, keeping each field's value.
    #[inline(always)]
    fn capture<'a>(&self, line: &'a [u8]) -> Result<Values<'a>, ParseError> {
        let mut values: Values<'a> = [None; SLOTS];
        if !self.lead.starts(line) {
            return Err(ParseError::Format);
        }
        let mut pos = self.lead.len();
        for field in self.fields.iter() {
            let rest = &line[pos..];
            let end = match field.end(rest) {
                Some(end) => end,
                // Cut off by the end of the line, with no closing quote at
                // all: the rest of the format is missing, and nothing after
                // this field is needed.
                None if field.cut_ok && !has_quote(rest, field.escapes) => {
                    values[field.slot] = Some(rest);
                    return Ok(values);
                }
                None => return Err(field.field.error()),
            };
            values[field.slot] = Some(&rest[..end]);
            // The literal after the field was matched to find its end.
            pos += end + field.until_len;
        }
        Ok(values)
    }
}

impl FieldStep {
    /// Where this field's value ends in `rest`, `None` when its closing
    /// literal is not there.
    #[inline(always)]
    fn end(&self, rest: &[u8]) -> Option<usize> {
        match &self.until {
            Until::End => Some(rest.len()),
            Until::Suffix(text) => {
                let end = rest.len().checked_sub(text.len())?;
                let closes = text.starts(&rest[end..]) && !(self.escapes && escaped(rest, end));
                closes.then_some(end)
            }
            Until::Literal(text) => {
                if let Some(hint) = self.hint {
                    if rest.get(hint..).is_some_and(|r| text.starts(r)) {
                        return Some(hint);
                    }
                }
                self.find(rest, text)
            }
        }
    }

    /// The first match of `text` in `rest` that ends this value: not
    /// escaped, and not a list's separator.
    #[inline(always)]
    fn find(&self, rest: &[u8], text: &Literal) -> Option<usize> {
        let first = text.word as u8;
        let mut from = 0;
        loop {
            // Quoted values are long (a user agent): memchr pays for its
            // setup. Others are a few bytes, where a plain scan is cheaper.
            let at = from
                + match self.escapes {
                    true => memchr(first, &rest[from..])?,
                    false => rest[from..].iter().position(|&b| b == first)?,
                };
            let ends = text.starts(&rest[at..])
                && !(self.escapes && escaped(rest, at))
                && !(self.list && continues_list(rest, at));
            if ends {
                return Some(at);
            }
            from = at + 1;
        }
    }
}

/// Whether the byte at `at` (a space) is inside a list: after `,`, or
/// around the `:` of nginx's `a, b : c`.
fn continues_list(rest: &[u8], at: usize) -> bool {
    let before = &rest[..at];
    rest[at] == b' '
        && (before.ends_with(b",") || before.ends_with(b" :") || rest[at..].starts_with(b" : "))
}

/// Whether `rest` holds a quote that is not escaped: a quoted value with
/// one is not cut off by the end of the line, it does not fit.
fn has_quote(rest: &[u8], escapes: bool) -> bool {
    let mut from = 0;
    while let Some(i) = memchr(b'"', &rest[from..]) {
        let at = from + i;
        if !(escapes && escaped(rest, at)) {
            return true;
        }
        from = at + 1;
    }
    false
}

/// `value`, unless it is missing, empty or `-`.
fn present(value: Option<&[u8]>) -> Option<&[u8]> {
    value.filter(|v| !v.is_empty() && *v != b"-")
}

/// The first address of a list (`a, b, c`), or the whole value.
fn first_address(value: &[u8]) -> &[u8] {
    // A plain scan: an address is a few bytes, where memchr's setup costs
    // more than it saves.
    match value.iter().position(|&b| b == b',') {
        Some(comma) => value[..comma].trim_ascii(),
        None => value,
    }
}

/// The sum, in microseconds, of nginx's `$upstream_response_time` list
/// (`0.004, 0.001 : 0.002`); `-` entries count nothing. `None` when no
/// entry is a time.
fn upstream_sum(value: &[u8]) -> Option<u64> {
    let mut sum: Option<u64> = None;
    for entry in value.split(|&b| b == b',' || b == b':') {
        if let Some(us) = parse_seconds(entry.trim_ascii()) {
            sum = Some(sum.unwrap_or(0).saturating_add(us));
        }
    }
    sum
}

#[cfg(test)]
impl Pattern {
    /// The literal texts and field names, in order: what the dialects'
    /// tests compare.
    pub(super) fn pieces(&self) -> Vec<String> {
        self.steps
            .iter()
            .map(|s| match s {
                Step::Literal(t) => String::from_utf8_lossy(t.bytes()).into_owned(),
                Step::Field(f) => f.name.to_string(),
            })
            .collect()
    }
}

impl fmt::Display for Pattern {
    /// `nginx "..."` or `apache "..."`: the dialect and the string as given.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} \"{}\"", self.dialect.as_str(), self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{LogFormat, Parser, NO_STATUS};

    /// 09/May/2018:16:00:39 +0000
    const T0: i64 = 1_525_881_639;

    const COMBINED: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#;

    fn parser(format: &str) -> Parser {
        Parser::with_format(LogFormat::parse(format).unwrap())
    }

    #[test]
    fn the_combined_format_as_a_string_reads_what_the_preset_reads() {
        let mut string = parser(COMBINED);
        let mut preset = Parser::with_format(LogFormat::Combined);
        for line in [
            r#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" 200 123 "-" "Mozilla/5.0 (X11; Linux)""#,
            r#"10.0.0.2, 10.0.0.1 - - [09/May/2018:16:00:39 +0000] "POST /a/b?x=1 HTTP/1.1" - - "http://r.example/" "curl/8""#,
            r#"::1 - - [09/May/2018:16:00:39 +0000] "GET /a\"b HTTP/1.1" 404 0 "-" "a \"quoted\" agent""#,
            r#"::1 - - [09/May/2018:16:00:39 +0000] "-" 408 0 "-" "-""#,
            r#"::1 - - [09/May/2018:16:00:39 +0000] "GET /index.html" 200 5 "-" "cut off by the end of the li"#,
        ] {
            let want = preset.parse(line.as_bytes()).unwrap();
            let got = string.parse(line.as_bytes()).unwrap();
            assert_eq!(
                Record {
                    syntax: Syntax::Clf,
                    ..got
                },
                want,
                "{line}"
            );
        }
    }

    #[test]
    fn fields_end_at_the_literal_that_follows_them() {
        let mut p = parser(
            r#"$host $remote_addr [$time_local] "$request" $status $bytes_sent "$http_user_agent" rt=$request_time ua="$upstream_addr""#,
        );
        let r = p
            .parse(br#"www.example.com 10.0.0.9 [09/May/2018:16:00:39 +0000] "GET /api/x HTTP/2.0" 503 99 "Mozilla/5.0 (a b c)" rt=1.250 ua="10.0.0.7:80, 10.0.0.8:80""#)
            .unwrap();
        assert_eq!(r.vhost, Some(&b"www.example.com"[..]));
        assert_eq!(r.host, b"10.0.0.9");
        assert_eq!((r.time, r.status, r.bytes), (T0, 503, 99));
        assert_eq!(r.target, Some(&b"/api/x"[..]));
        assert_eq!(r.user_agent, Some(&b"Mozilla/5.0 (a b c)"[..]));
        assert_eq!(r.request_time_us, Some(1_250_000));
        assert_eq!(r.syntax, Syntax::Custom);
        // A literal that is not there makes the line invalid, naming the
        // field before it.
        assert_eq!(
            p.parse(br#"www 10.0.0.9 [09/May/2018:16:00:39 +0000] "GET / HTTP/2.0" 200 1 "-" rx=0.1 ua="-""#),
            Err(ParseError::UserAgent)
        );
    }

    #[test]
    fn upstream_lists_are_one_value_and_their_times_add_up() {
        let mut p = parser(
            r#"$remote_addr [$time_local] "$request" $status $upstream_addr $upstream_response_time $upstream_status end"#,
        );
        let r = p
            .parse(br#"1.2.3.4 [09/May/2018:16:00:39 +0000] "GET / HTTP/1.1" 502 10.0.0.1:80, 10.0.0.2:80 : 10.0.0.3:80 0.004, 0.001 : 0.002 502, 502 : 200 end"#)
            .unwrap();
        assert_eq!(r.request_time_us, Some(7_000));
        assert_eq!(r.status, 502);
        // With $request_time, the upstream time is not read.
        let mut p = parser(
            r#"$remote_addr [$time_local] "$request" $status $upstream_response_time $request_time"#,
        );
        let r = p
            .parse(
                br#"1.2.3.4 [09/May/2018:16:00:39 +0000] "GET / HTTP/1.1" 200 0.004, 0.001 0.010"#,
            )
            .unwrap();
        assert_eq!(r.request_time_us, Some(10_000));
        assert_eq!(upstream_sum(b"-"), None);
        assert_eq!(upstream_sum(b"-, 0.5"), Some(500_000));
    }

    #[test]
    fn escape_json_reads_a_flat_object() {
        let mut p = parser(
            r#"log_format j escape=json '{"time":"$time_iso8601","addr":"$remote_addr",' '"request":"$request","status":$status,"bytes":$body_bytes_sent,"rt":$request_time,"ua":"$http_user_agent"}';"#,
        );
        let r = p
            .parse(br#"{"time":"2018-05-09T18:00:39+02:00","addr":"10.0.0.1","request":"GET /a/\"b\" HTTP/1.1","status":200,"bytes":12,"rt":0.042,"ua":"say \"hi\", \\"}"#)
            .unwrap();
        assert_eq!((r.time, r.status, r.bytes), (T0, 200, 12));
        assert_eq!(r.target, Some(&br#"/a/\"b\""#[..]));
        assert_eq!(r.user_agent, Some(&br#"say \"hi\", \\"#[..]));
        assert_eq!(r.request_time_us, Some(42_000));
    }

    #[test]
    fn apache_strings_read_their_directives_and_units() {
        let mut p = parser(r#"%v:%p %a %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i" %D"#);
        let line = br#"www.example.com:443 10.0.0.1 - - [09/May/2018:16:00:39 +0000] "GET /shop HTTP/1.1" 200 512 "-" "curl/8" 1250"#;
        let r = p
            .parse(line)
            .unwrap_or_else(|e| panic!("{e:?} {:?}", p.format()));
        assert_eq!(r.vhost, Some(&b"www.example.com"[..]));
        assert_eq!((r.time, r.bytes, r.request_time_us), (T0, 512, Some(1250)));
        for (format, value, us) in [
            ("%T", "2", 2_000_000),
            ("%{s}T", "2", 2_000_000),
            ("%{ms}T", "17", 17_000),
            ("%{us}T", "17", 17),
        ] {
            let mut p = parser(&format!("%h %t \"%r\" %s {format}"));
            let line =
                format!("1.2.3.4 [09/May/2018:16:00:39 +0000] \"GET / HTTP/1.1\" 200 {value}");
            assert_eq!(
                p.parse(line.as_bytes()).unwrap().request_time_us,
                Some(us),
                "{format}"
            );
        }
        let mut p = parser(r#"%h %{%Y-%m-%dT%H:%M:%S%z}t %m %U%q %s %{msec}t"#);
        let r = p
            .parse(b"1.2.3.4 2018-05-09T16:00:39+0000 POST /a/b?x=1 - 1525881639123")
            .unwrap();
        assert_eq!((r.time, r.method, r.status), (T0, Method::Post, NO_STATUS));
        // `%U%q` is one target, query included, as in a request line.
        assert_eq!((r.target, r.query), (Some(&b"/a/b?x=1"[..]), None));
        assert_eq!(r.bytes, 0);
        let mut p = parser(r#"$time_local $uri$is_args$args $status"#);
        let r = p.parse(b"09/May/2018:16:00:39 +0000 /a?b=1 200").unwrap();
        assert_eq!(r.target, Some(&b"/a?b=1"[..]));
        let mut p = parser(r#"$time_local $uri ?$args $status"#);
        let r = p.parse(b"09/May/2018:16:00:39 +0000 /a ?b=1 200").unwrap();
        assert_eq!((r.target, r.query), (Some(&b"/a"[..]), Some(&b"b=1"[..])));
    }

    #[test]
    fn epoch_times_and_a_forwarded_for_header() {
        let mut p =
            parser(r#"$msec $remote_addr "$http_x_forwarded_for" $request_method $uri $status"#);
        let r = p
            .parse(br#"1525881639.123 10.0.0.1 "203.0.113.7, 10.0.0.2" GET /x 200"#)
            .unwrap();
        assert_eq!(
            (r.time, r.host, r.method),
            (T0, &b"203.0.113.7"[..], Method::Get)
        );
        let r = p
            .parse(br#"1525881639.123 10.0.0.1 "-" GET /x 200"#)
            .unwrap();
        assert_eq!(r.host, b"10.0.0.1");
    }

    #[test]
    fn a_line_cut_before_a_needed_field_is_not_a_hit() {
        let mut p = parser(r#"$remote_addr [$time_local] "$http_user_agent" "$request" $status"#);
        assert_eq!(
            p.parse(br#"1.2.3.4 [09/May/2018:16:00:39 +0000] "curl/8 cut"#),
            Err(ParseError::UserAgent)
        );
        let mut p =
            parser(r#"$remote_addr [$time_local] "$request" "$http_user_agent" $request_time"#);
        let r = p
            .parse(br#"1.2.3.4 [09/May/2018:16:00:39 +0000] "GET / HTTP/1.1" "curl/8 cut"#)
            .unwrap();
        assert_eq!(
            (r.user_agent, r.request_time_us),
            (Some(&b"curl/8 cut"[..]), None)
        );
    }
}
