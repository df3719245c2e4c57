//! Property tests of format strings: generated records, rendered through
//! random nginx `log_format` and Apache `LogFormat` strings (random subsets
//! and orders of the variables, random literal text around them), must
//! parse back, through the same string, to the fields they were made of.
//!
//! The rendering here is the test's own, written from the nginx and Apache
//! documentation, not logmon's: times are formatted by chrono, and the
//! expected record is built from the generated values.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};
use logmon::parse::{LogFormat, Method, Parser, NO_STATUS};
use proptest::prelude::*;

/// One request's values, before rendering.
#[derive(Debug, Clone)]
struct Values {
    client: String,
    user: String,
    /// Unix seconds, and the offset the server writes local times in.
    time: i64,
    offset_minutes: i32,
    /// Milliseconds past `time`, for the sub-second time forms.
    millis: u32,
    method: &'static str,
    /// The target, query included.
    target: String,
    protocol: &'static str,
    /// `None` is written `-`.
    status: Option<u16>,
    bytes: u64,
    referer: String,
    agent: String,
    /// A request time, in microseconds, that every unit can write exactly
    /// once rounded to that unit's precision.
    request_us: u64,
    vhost: String,
}

/// Which syntax a format is written in.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Dialect {
    Nginx,
    Apache,
}

/// The pieces a format is made of. Each knows its nginx and Apache
/// spelling and how a server writes it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Var {
    Client,
    User,
    /// One of the time forms, by index into `TIMES`.
    Time(usize),
    Request,
    /// `$request_method $request_uri` or `%m %U%q`, separated by a literal.
    MethodUri,
    Status,
    Bytes,
    /// One of the request-time forms, by index into `REQUEST_TIMES`.
    RequestTime(usize),
    Referer,
    Agent,
    Vhost,
    /// A variable logmon ignores (`$connection`, `%k`).
    Other,
}

/// Time forms: (nginx, Apache); `None` where the dialect has no such form.
const TIMES: &[(Option<&str>, Option<&str>)] = &[
    (Some("[$time_local]"), Some("%t")),
    (Some("$time_iso8601"), Some("%{%Y-%m-%dT%H:%M:%S%z}t")),
    (Some("$msec"), Some("%{sec}t")),
    (None, Some("%{msec}t")),
    (None, Some("%{usec}t")),
    (None, Some("[%{%d/%b/%Y:%H:%M:%S %z}t]")),
];

/// Request-time forms: (nginx, Apache) spellings and the unit's precision
/// in microseconds.
const REQUEST_TIMES: &[(Option<&str>, Option<&str>, u64)] = &[
    (Some("$request_time"), Some("%{ms}T"), 1000),
    (None, Some("%D"), 1),
    (None, Some("%{us}T"), 1),
    (None, Some("%T"), 1_000_000),
];

/// Separators between fields: none holds a value's bytes, as the formats
/// operators write do (a space, or punctuation around spaces).
const SEPARATORS: &[&str] = &[" ", " ", " ", "  ", " | ", "\t", " - ", " ; ", " rt="];

impl Var {
    /// The format text of this piece; quoted ones carry their quotes.
    fn spelling(self, dialect: Dialect) -> Option<String> {
        let pick = |nginx: &str, apache: &str| match dialect {
            Dialect::Nginx => nginx.to_owned(),
            Dialect::Apache => apache.to_owned(),
        };
        Some(match self {
            Var::Client => pick("$remote_addr", "%h"),
            Var::User => pick("$remote_user", "%u"),
            Var::Time(i) => match dialect {
                Dialect::Nginx => TIMES[i].0?.to_owned(),
                Dialect::Apache => TIMES[i].1?.to_owned(),
            },
            Var::Request => pick("\"$request\"", "\"%r\""),
            Var::MethodUri => pick("$request_method $request_uri", "%m %U%q"),
            Var::Status => pick("$status", "%>s"),
            Var::Bytes => pick("$body_bytes_sent", "%B"),
            Var::RequestTime(i) => match dialect {
                Dialect::Nginx => REQUEST_TIMES[i].0?.to_owned(),
                Dialect::Apache => REQUEST_TIMES[i].1?.to_owned(),
            },
            Var::Referer => pick("\"$http_referer\"", "\"%{Referer}i\""),
            Var::Agent => pick("\"$http_user_agent\"", "\"%{User-Agent}i\""),
            Var::Vhost => pick("$host", "%v"),
            Var::Other => pick("$connection", "%k"),
        })
    }

    /// What a server using `dialect` writes for this piece.
    fn render(self, v: &Values, dialect: Dialect) -> String {
        let at = |offset: i32| -> DateTime<FixedOffset> {
            FixedOffset::east_opt(offset * 60)
                .unwrap()
                .timestamp_opt(v.time, 0)
                .unwrap()
        };
        match self {
            Var::Client => v.client.clone(),
            Var::User => v.user.clone(),
            Var::Time(0) | Var::Time(5) => {
                let text = at(v.offset_minutes).format("%d/%b/%Y:%H:%M:%S %z");
                format!("[{text}]")
            }
            // nginx writes `+01:00`, Apache's %z `+0100`.
            Var::Time(1) => match dialect {
                Dialect::Nginx => at(v.offset_minutes).format("%Y-%m-%dT%H:%M:%S%:z"),
                Dialect::Apache => at(v.offset_minutes).format("%Y-%m-%dT%H:%M:%S%z"),
            }
            .to_string(),
            Var::Time(2) => match dialect {
                Dialect::Nginx => format!("{}.{:03}", v.time, v.millis),
                Dialect::Apache => v.time.to_string(),
            },
            Var::Time(3) => format!("{}", v.time * 1000 + i64::from(v.millis)),
            Var::Time(_) => format!("{}", v.time * 1_000_000 + i64::from(v.millis) * 1000),
            Var::Request => format!("\"{} {} {}\"", v.method, v.target, v.protocol),
            Var::MethodUri => format!("{} {}", v.method, v.target),
            Var::Status => v.status.map_or("-".into(), |s| s.to_string()),
            Var::Bytes => v.bytes.to_string(),
            Var::RequestTime(i) => {
                let us = v.request_us;
                match (dialect, REQUEST_TIMES[i].1) {
                    // nginx's $request_time: seconds with milliseconds.
                    (Dialect::Nginx, _) => format!("{}.{:03}", us / 1_000_000, us / 1000 % 1000),
                    (_, Some("%{ms}T")) => (us / 1000).to_string(),
                    (_, Some("%T")) => (us / 1_000_000).to_string(),
                    _ => us.to_string(),
                }
            }
            Var::Referer => format!("\"{}\"", v.referer),
            Var::Agent => format!("\"{}\"", v.agent),
            Var::Vhost => v.vhost.clone(),
            Var::Other => "7".into(),
        }
    }
}

/// A format: a leading literal, then pieces with a separator after each
/// but the last, and a trailing literal.
#[derive(Debug, Clone)]
struct Format {
    dialect: Dialect,
    lead: &'static str,
    pieces: Vec<(Var, &'static str)>,
    tail: &'static str,
}

impl Format {
    fn spelling(&self) -> String {
        let mut text = self.lead.to_owned();
        for (i, (var, separator)) in self.pieces.iter().enumerate() {
            text.push_str(&var.spelling(self.dialect).unwrap());
            if i + 1 < self.pieces.len() {
                text.push_str(separator);
            }
        }
        text.push_str(self.tail);
        // (No literal holds a `%` or `$`, which would need escaping.)
        text
    }

    fn render(&self, v: &Values) -> String {
        let mut line = self.lead.to_owned();
        for (i, (var, separator)) in self.pieces.iter().enumerate() {
            line.push_str(&var.render(v, self.dialect));
            if i + 1 < self.pieces.len() {
                line.push_str(separator);
            }
        }
        line.push_str(self.tail);
        line
    }

    fn has(&self, want: impl Fn(Var) -> bool) -> bool {
        self.pieces.iter().any(|&(var, _)| want(var))
    }
}

fn format() -> impl Strategy<Value = Format> {
    let dialect = prop_oneof![Just(Dialect::Nginx), Just(Dialect::Apache)];
    (
        dialect,
        0..TIMES.len(),
        0..REQUEST_TIMES.len(),
        any::<bool>(),
        prop::collection::vec(any::<bool>(), 9),
        Just(()).prop_perturb(|_, mut rng| {
            // A random order of the pieces: a shuffle key each.
            (0..12).map(|_| rng.next_u32()).collect::<Vec<u32>>()
        }),
        prop::collection::vec(prop::sample::select(SEPARATORS), 12),
        prop::sample::select(&["", "", "<", "log: "][..]),
        prop::sample::select(&["", "", " end", " ."][..]),
    )
        .prop_filter_map(
            "a form this dialect has",
            |(dialect, time, request_time, whole_request, keep, order, separators, lead, tail)| {
                let mut vars = vec![
                    Var::Time(time),
                    if whole_request {
                        Var::Request
                    } else {
                        Var::MethodUri
                    },
                ];
                let optional = [
                    Var::Client,
                    Var::User,
                    Var::Status,
                    Var::Bytes,
                    Var::RequestTime(request_time),
                    Var::Referer,
                    Var::Agent,
                    Var::Vhost,
                    Var::Other,
                ];
                vars.extend(
                    optional
                        .into_iter()
                        .zip(keep)
                        .filter_map(|(var, keep)| keep.then_some(var)),
                );
                if vars.iter().any(|v| v.spelling(dialect).is_none()) {
                    return None;
                }
                let mut keyed: Vec<(u32, Var)> = order.into_iter().zip(vars).collect();
                keyed.sort_by_key(|&(key, _)| key);
                let pieces = keyed
                    .into_iter()
                    .zip(separators)
                    .map(|((_, var), separator)| (var, separator))
                    .collect();
                Some(Format {
                    dialect,
                    lead,
                    pieces,
                    tail,
                })
            },
        )
}

/// Text inside quotes as `dialect` escapes it: nginx writes a quote or a
/// backslash as `\xHH`, Apache as `\"` and `\\`.
fn quoted_text(dialect: Dialect) -> impl Strategy<Value = String> {
    let escapes: &'static [&'static str] = match dialect {
        Dialect::Nginx => &["\\x22", "\\x5C"],
        Dialect::Apache => &["\\\"", "\\\\"],
    };
    prop::collection::vec(
        prop_oneof![
            8 => "[a-zA-Z0-9 ./:;()=&%,_|-]",
            1 => prop::sample::select(escapes).prop_map(String::from),
            1 => "[é日🦀]",
        ],
        0..30,
    )
    .prop_map(|parts| parts.concat())
}

const METHODS: &[&str] = &[
    "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "PROPFIND",
];

fn values(dialect: Dialect) -> impl Strategy<Value = Values> {
    let client = prop_oneof![
        any::<std::net::Ipv4Addr>().prop_map(|a| a.to_string()),
        any::<std::net::Ipv6Addr>().prop_map(|a| a.to_string()),
    ];
    let target = (
        prop::collection::vec("[a-zA-Z0-9._~-]{1,10}", 1..4),
        prop::option::of("[a-zA-Z0-9=&/.:-]{1,20}"),
    )
        .prop_map(|(segments, query)| {
            let mut target = format!("/{}", segments.join("/"));
            if let Some(query) = query {
                target.push('?');
                target.push_str(&query);
            }
            target
        });
    (
        (
            client,
            prop_oneof!["-".prop_map(String::from), "[a-z][a-z0-9._@-]{0,12}"],
        ),
        // Years 1971-9998 in any offset stay within 0000-9999.
        (
            31_536_000..253_370_000_000i64,
            -(23 * 60 + 59)..=(23 * 60 + 59),
            0..1000u32,
        ),
        (prop::sample::select(METHODS), target),
        prop::sample::select(&["HTTP/1.0", "HTTP/1.1", "HTTP/2.0"][..]),
        prop::option::weighted(0.9, 100..=599u16),
        any::<u32>(),
        (quoted_text(dialect), quoted_text(dialect)),
        0..3_600_000u64,
        "[a-z]{1,10}\\.example\\.(com|org)",
    )
        .prop_map(
            |(
                (client, user),
                (time, offset_minutes, millis),
                (method, target),
                protocol,
                status,
                bytes,
                (referer, agent),
                ms,
                vhost,
            )| Values {
                client,
                user,
                time,
                offset_minutes,
                millis,
                method,
                target,
                protocol,
                status,
                bytes: u64::from(bytes),
                referer,
                agent,
                // Whole seconds for %T, milliseconds for the others.
                request_us: if ms % 7 == 0 {
                    ms / 1000 * 1_000_000
                } else {
                    ms * 1000
                },
                vhost,
            },
        )
}

fn format_and_values() -> impl Strategy<Value = (Format, Values)> {
    format().prop_flat_map(|format| {
        let dialect = format.dialect;
        (Just(format), values(dialect))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Defends against a matcher that ends a field in the wrong place, or
    /// reads a field in the wrong unit: every field a format holds comes
    /// back as it went in.
    #[test]
    fn a_record_rendered_through_a_format_string_parses_back(
        (format, v) in format_and_values()
    ) {
        let spelling = format.spelling();
        let compiled = LogFormat::parse(&spelling);
        prop_assert!(compiled.is_ok(), "{}: {:?}", spelling, compiled);
        let mut parser = Parser::with_format(compiled.unwrap());
        let line = format.render(&v);
        let record = parser.parse(line.as_bytes());
        prop_assert!(record.is_ok(), "{}\n{}\n{:?}", spelling, line, record);
        let r = record.unwrap();
        let why = format!("{spelling}\n{line}\n{r:?}");

        prop_assert_eq!(r.time, v.time, "{}", why);
        let method = match v.method {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "DELETE" => Method::Delete,
            "OPTIONS" => Method::Options,
            "PATCH" => Method::Patch,
            _ => Method::Other,
        };
        prop_assert_eq!(r.method, method, "{}", why);
        prop_assert_eq!(r.target, Some(v.target.as_bytes()), "{}", why);
        let host: &[u8] = if format.has(|x| x == Var::Client) { v.client.as_bytes() } else { b"" };
        prop_assert_eq!(r.host, host, "{}", why);
        let user: &[u8] = if format.has(|x| x == Var::User) { v.user.as_bytes() } else { b"-" };
        prop_assert_eq!(r.user, user, "{}", why);
        let status = match (format.has(|x| x == Var::Status), v.status) {
            (true, Some(status)) => status,
            _ => NO_STATUS,
        };
        prop_assert_eq!(r.status, status, "{}", why);
        let bytes = if format.has(|x| x == Var::Bytes) { v.bytes } else { 0 };
        prop_assert_eq!(r.bytes, bytes, "{}", why);
        let quoted = |var: Var, text: &str| format.has(|x| x == var).then(|| text.as_bytes().to_vec());
        prop_assert_eq!(r.referer.map(<[u8]>::to_vec), quoted(Var::Referer, &v.referer), "{}", why);
        prop_assert_eq!(r.user_agent.map(<[u8]>::to_vec), quoted(Var::Agent, &v.agent), "{}", why);
        let vhost = format.has(|x| x == Var::Vhost).then_some(v.vhost.as_bytes());
        prop_assert_eq!(r.vhost, vhost, "{}", why);
        let request_time = format.pieces.iter().find_map(|&(var, _)| match var {
            Var::RequestTime(i) => Some(REQUEST_TIMES[i].2),
            _ => None,
        });
        let want = request_time.map(|unit| v.request_us / unit * unit);
        prop_assert_eq!(r.request_time_us, want, "{}", why);
    }
}

#[test]
fn the_test_renders_times_as_the_servers_document() {
    // 2018-05-09T16:00:39Z, written by a server at +01:00.
    let v = Values {
        client: "1.2.3.4".into(),
        user: "-".into(),
        time: 1_525_881_639,
        offset_minutes: 60,
        millis: 123,
        method: "GET",
        target: "/".into(),
        protocol: "HTTP/1.1",
        status: Some(200),
        bytes: 1,
        referer: String::new(),
        agent: String::new(),
        request_us: 42_000,
        vhost: "a.example.com".into(),
    };
    let (nginx, apache) = (Dialect::Nginx, Dialect::Apache);
    assert_eq!(
        Var::Time(0).render(&v, nginx),
        "[09/May/2018:17:00:39 +0100]"
    );
    assert_eq!(Var::Time(1).render(&v, nginx), "2018-05-09T17:00:39+01:00");
    assert_eq!(Var::Time(1).render(&v, apache), "2018-05-09T17:00:39+0100");
    assert_eq!(Var::Time(2).render(&v, nginx), "1525881639.123");
    assert_eq!(Var::Time(2).render(&v, apache), "1525881639");
    assert_eq!(Var::Time(3).render(&v, apache), "1525881639123");
    assert_eq!(Var::RequestTime(0).render(&v, nginx), "0.042");
    assert_eq!(Var::RequestTime(0).render(&v, apache), "42");
    assert_eq!(Var::RequestTime(3).render(&v, apache), "0");
    assert_eq!(
        NaiveDate::from_ymd_opt(2018, 5, 9)
            .unwrap()
            .and_hms_opt(16, 0, 39)
            .unwrap()
            .and_utc()
            .timestamp(),
        v.time
    );
}
