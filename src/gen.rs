//! Synthetic HTTP access-log traffic for demos, tests and benchmarks.
//!
//! Owns the line generator (`Generator`), the live traffic shape (`Shape`)
//! and the two ways of writing lines out: `run_live` on the wall clock and
//! `write_lines` on a log clock given by the caller.
//!
//! Invariants:
//! - Output depends only on the seed, the format and the timestamps asked
//!   for. The PRNG is a hand-written SplitMix64 rather than the `rand` crate
//!   so that the same seed gives the same bytes forever, whatever happens to
//!   a dependency's algorithms.
//! - Every line is one complete record ending in `'\n'`: Common, Combined,
//!   W3C Extended (output starts with its `#` header), or a format string's
//!   (nginx or Apache, which the presets `vhost_combined`, `ingress-nginx`
//!   and `traefik` are written with). The only I/O is the writer the caller
//!   passes in, and only `run_live` reads a clock.
//! - Options only add draws after the existing ones: Common and Combined
//!   lines without a request time are the same bytes as before W3C and
//!   latency existed.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, Timelike};

use crate::parse::pattern::{Field, FieldStep, Pattern, Step, Unit};
use crate::parse::time::{StrfItem, TimeShape};
use crate::parse::LogFormat;

/// Which access-log layout `Generator::line` writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GenFormat {
    /// Common Log Format: host ident user \[time\] "request" status bytes
    Common,
    /// Combined Log Format: Common plus "referer" "user-agent"
    Combined,
    /// W3C Extended, as IIS writes it, after a `#Fields:` header
    W3c,
    /// The layout of an nginx or Apache format string.
    Pattern(Arc<Pattern>),
}

/// Apache's `vhost_combined`, as loggen writes it.
pub const VHOST_COMBINED: &str = r#"%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i""#;
/// The ingress-nginx controller's default format (`upstreaminfo`).
pub const INGRESS_NGINX: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_length $request_time [$proxy_upstream_name] [$proxy_alternative_upstream_name] $upstream_addr $upstream_response_length $upstream_response_time $upstream_status $req_id"#;
/// Traefik's CLF access log, as an Apache format string.
pub const TRAEFIK: &str = r#"%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" %k "%{router}e" "%{server}e" %{ms}Tms"#;

impl GenFormat {
    /// `loggen --log-format`: `common`, `combined` (or `clf`), `w3c`,
    /// `vhost_combined`, `ingress-nginx`, `traefik`, or an nginx or Apache
    /// format string, as logmon's `--log-format` takes it.
    pub fn parse(text: &str) -> Result<GenFormat, String> {
        let pattern = match text.trim() {
            "common" => return Ok(GenFormat::Common),
            "combined" | "clf" => return Ok(GenFormat::Combined),
            "w3c" => return Ok(GenFormat::W3c),
            "vhost_combined" => VHOST_COMBINED,
            "ingress-nginx" => INGRESS_NGINX,
            "traefik" => TRAEFIK,
            other => other,
        };
        match LogFormat::parse(pattern)? {
            LogFormat::Pattern(pattern) => Ok(GenFormat::Pattern(pattern)),
            other => Err(format!(
                "loggen writes a given format, and `{}` is not one",
                other.as_str()
            )),
        }
    }
}

/// How a CLF line's trailing request time is written (`--latency`). W3C
/// always writes `time-taken` in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LatencyStyle {
    /// nginx `$request_time`: seconds with 3 decimals, `0.042`
    Nginx,
    /// Apache `%D`: integer microseconds, `42137`
    Apache,
}

/// The W3C columns `Generator` writes, before `time-taken`.
pub const W3C_FIELDS: &str = "date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status sc-bytes";

/// SplitMix64 (Steele, Lea, Flood 2014). Kept in-tree so a seed names one
/// byte stream forever; do not change the constants or the mixing.
#[derive(Clone, Debug)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` by multiply-shift; the bias (< n / 2^64) does not
    /// matter here and avoiding rejection keeps one draw per call.
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `[0, 1)` with 53 bits.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Index into `weights`, chosen with probability proportional to weight.
    fn weighted<T>(&mut self, table: &[(T, u32)]) -> usize {
        let total: u32 = table.iter().map(|&(_, w)| w).sum();
        let mut r = self.below(u64::from(total)) as u32;
        for (i, &(_, w)) in table.iter().enumerate() {
            if r < w {
                return i;
            }
            r -= w;
        }
        table.len() - 1
    }
}

/// Sections with Zipf-like weights (roughly 1/rank) so that a few dominate
/// the report. Path templates: `{n}` is an id, `{w}` a search word, `{h}` a
/// short hex hash.
const SECTIONS: &[(&[&str], u32)] = &[
    (
        &[
            "/api/users/{n}",
            "/api/orders",
            "/api/orders/{n}",
            "/api/orders/{n}/items",
            "/api/products?page={n}",
            "/api/session",
            "/api/events?since={n}",
        ],
        300,
    ),
    (
        &[
            "/pages/create",
            "/pages/{n}",
            "/pages/{n}/edit",
            "/pages/about",
            "/pages/pricing",
        ],
        160,
    ),
    (
        &[
            "/static/css/site.{h}.css",
            "/static/js/app.{h}.js",
            "/static/js/vendor.{h}.js",
            "/static/img/logo.svg",
            "/static/fonts/inter-{n}.woff2",
        ],
        110,
    ),
    (
        &[
            "/blog",
            "/blog/2025/{n}/release-notes",
            "/blog/posts/{n}",
            "/blog/tags/{w}",
        ],
        75,
    ),
    (&["/report", "/report/daily", "/report/{n}.csv"], 60),
    (&["/user/{n}", "/user/{n}/settings", "/user/login"], 50),
    (&["/search?q={w}", "/search?q={w}&page={n}"], 42),
    (&["/cart", "/cart/add?item={n}", "/cart/checkout"], 36),
    (
        &[
            "/docs",
            "/docs/getting-started",
            "/docs/api/{w}",
            "/docs/faq",
        ],
        30,
    ),
    (&["/images/{n}.jpg", "/images/thumbs/{n}.png"], 26),
    (&["/", "/index.html"], 22),
    (&["/favicon.ico"], 18),
    (&["/feed.xml", "/feed/atom"], 12),
    (&["/admin", "/admin/users", "/admin/audit?page={n}"], 9),
    (&["/health"], 6),
    (&["/wp-login.php", "/.env"], 3),
];

const WORDS: &[&str] = &[
    "rust", "logs", "alerts", "pricing", "shoes", "laptop", "weather", "tail", "http", "cache",
    "deploy", "metrics",
];

const METHODS: &[(&str, u32)] = &[
    ("GET", 850),
    ("POST", 80),
    ("PUT", 20),
    ("DELETE", 12),
    ("HEAD", 23),
    ("OPTIONS", 15),
];

const PROTOCOLS: &[(&str, u32)] = &[("HTTP/1.1", 70), ("HTTP/2.0", 25), ("HTTP/1.0", 5)];

const STATUSES: &[(u16, u32)] = &[
    (200, 800),
    (201, 10),
    (204, 10),
    (301, 15),
    (302, 20),
    (304, 50),
    (400, 8),
    (401, 10),
    (403, 17),
    (404, 40),
    (500, 12),
    (502, 3),
    (503, 5),
];

const USERS: &[(&str, u32)] = &[
    ("-", 900),
    ("james", 25),
    ("jill", 20),
    ("frank", 15),
    ("mary", 15),
    ("admin", 10),
    ("svc-backup", 15),
];

const REFERERS: &[(&str, u32)] = &[
    ("-", 35),
    ("https://www.google.com/", 22),
    ("https://duckduckgo.com/", 5),
    ("https://www.bing.com/search?q=logmon", 4),
    ("https://t.co/x8Kd02aPzQ", 3),
    ("https://news.ycombinator.com/item?id=41872356", 3),
    ("https://www.example.com/", 12),
    ("https://www.example.com/blog", 6),
    ("https://www.example.com/pages/pricing", 5),
    ("https://www.example.com/search?q=rust", 5),
];

const USER_AGENTS: &[(&str, u32)] = &[
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", 30),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", 12),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1", 12),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36", 10),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0", 8),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0", 3),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.67", 6),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15", 6),
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", 3),
    ("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", 2),
    ("curl/8.5.0", 3),
    ("python-requests/2.31.0", 2),
    ("Go-http-client/1.1", 1),
];

/// Plausible first octets for public IPv4 clients (no 0, 10, 127, 224+).
const FIRST_OCTETS: &[u8] = &[
    23, 31, 45, 51, 62, 66, 73, 78, 81, 86, 92, 98, 104, 109, 141, 151, 172, 176, 185, 188, 193,
    203, 212, 217,
];

const IPV4_CLIENTS: usize = 300;
const IPV6_CLIENTS: usize = 8;

/// Produces access-log lines from a seeded PRNG; see the module invariants.
#[derive(Clone, Debug)]
pub struct Generator {
    rng: SplitMix64,
    format: GenFormat,
    /// Append a request time to each line, and how (CLF only).
    latency: Option<LatencyStyle>,
    /// Client addresses, heaviest first: `client` draws low indices most.
    clients: Vec<String>,
    /// `at` whose text is in `stamp`, so a second is formatted only once.
    stamp_at: Option<i64>,
    /// `09/May/2018:16:00:39 +0000`
    stamp: [u8; 26],
    /// A path being drawn for a format string's line.
    path: Vec<u8>,
}

impl Generator {
    /// A generator whose output is fixed by `seed` and `format`.
    pub fn new(seed: u64, format: GenFormat) -> Generator {
        let mut rng = SplitMix64(seed);
        let mut clients = Vec::with_capacity(IPV4_CLIENTS + IPV6_CLIENTS);
        for _ in 0..IPV4_CLIENTS {
            let first = FIRST_OCTETS[rng.below(FIRST_OCTETS.len() as u64) as usize];
            let (b, c, d) = (rng.below(256), rng.below(256), 1 + rng.below(254));
            clients.push(format!("{first}.{b}.{c}.{d}"));
        }
        // Spread the IPv6 clients through the pool so some are frequent.
        for i in 0..IPV6_CLIENTS {
            let (a, b) = (rng.below(0x1_0000), rng.below(0x1_0000));
            let at = (i * 37 + 3).min(clients.len());
            clients.insert(at, format!("2001:db8:{a:x}::{b:x}"));
        }
        Generator {
            rng,
            format,
            latency: None,
            clients,
            stamp_at: None,
            stamp: [b' '; 26],
            path: Vec::new(),
        }
    }

    /// Also write a request time on every line: in `style` for CLF, as
    /// `time-taken` milliseconds for W3C.
    pub fn with_latency(mut self, style: LatencyStyle) -> Generator {
        self.latency = Some(style);
        self
    }

    /// Append what a log starts with, stamped `at` (unix seconds): the W3C
    /// directives, nothing for CLF. Writing it again mid-file is what IIS
    /// does after a restart.
    pub fn header(&self, at: i64, out: &mut Vec<u8>) {
        if self.format != GenFormat::W3c {
            return;
        }
        let t = DateTime::from_timestamp(at, 0).unwrap_or_default();
        out.extend_from_slice(b"#Software: loggen (logmon's traffic generator)\n#Version: 1.0\n");
        out.extend_from_slice(
            t.format("#Date: %Y-%m-%d %H:%M:%S\n")
                .to_string()
                .as_bytes(),
        );
        out.extend_from_slice(b"#Fields: ");
        out.extend_from_slice(W3C_FIELDS.as_bytes());
        if self.latency.is_some() {
            out.extend_from_slice(b" time-taken");
        }
        out.push(b'\n');
    }

    /// Append one line stamped `at` (unix seconds, shown in UTC as
    /// `+0000`) and ending in `'\n'` to `out`.
    ///
    /// `at` is clamped to years 0000..=9999 so the line keeps its shape.
    pub fn line(&mut self, at: i64, out: &mut Vec<u8>) {
        match &self.format {
            GenFormat::W3c => return self.w3c_line(at, out),
            GenFormat::Pattern(pattern) => return self.pattern_line(&pattern.clone(), at, out),
            GenFormat::Common | GenFormat::Combined => {}
        }
        // Cubing a uniform draw skews towards the front of the pool: the
        // first tenth of the clients sends almost half the requests.
        let u = self.rng.unit();
        let client = ((u * u * u) * self.clients.len() as f64) as usize;
        out.extend_from_slice(self.clients[client.min(self.clients.len() - 1)].as_bytes());
        out.extend_from_slice(b" - ");
        out.extend_from_slice(USERS[self.rng.weighted(USERS)].0.as_bytes());
        out.extend_from_slice(b" [");
        out.extend_from_slice(self.stamp(at));
        out.extend_from_slice(b"] \"");
        out.extend_from_slice(METHODS[self.rng.weighted(METHODS)].0.as_bytes());
        out.push(b' ');
        self.path(out);
        out.push(b' ');
        out.extend_from_slice(PROTOCOLS[self.rng.weighted(PROTOCOLS)].0.as_bytes());
        out.extend_from_slice(b"\" ");
        let status = STATUSES[self.rng.weighted(STATUSES)].0;
        push_u64(out, u64::from(status));
        out.push(b' ');
        match self.size(status) {
            Some(bytes) => push_u64(out, bytes),
            None => out.push(b'-'),
        }
        if self.format == GenFormat::Combined {
            out.extend_from_slice(b" \"");
            out.extend_from_slice(REFERERS[self.rng.weighted(REFERERS)].0.as_bytes());
            out.extend_from_slice(b"\" \"");
            out.extend_from_slice(USER_AGENTS[self.rng.weighted(USER_AGENTS)].0.as_bytes());
            out.push(b'"');
        }
        if let Some(style) = self.latency {
            let us = self.request_us(status);
            out.push(b' ');
            match style {
                LatencyStyle::Nginx => push_seconds(out, us),
                LatencyStyle::Apache => push_u64(out, us),
            }
        }
        out.push(b'\n');
    }

    /// One line in the layout of a format string: every value is drawn, in
    /// the order a Combined line with a request time draws them, then the
    /// steps pick what they write.
    fn pattern_line(&mut self, pattern: &Pattern, at: i64, out: &mut Vec<u8>) {
        let u = self.rng.unit();
        let client = ((u * u * u) * self.clients.len() as f64) as usize;
        let client = client.min(self.clients.len() - 1);
        let user = USERS[self.rng.weighted(USERS)].0;
        let method = METHODS[self.rng.weighted(METHODS)].0;
        let mut path = std::mem::take(&mut self.path);
        path.clear();
        self.path(&mut path);
        let protocol = PROTOCOLS[self.rng.weighted(PROTOCOLS)].0;
        let status = STATUSES[self.rng.weighted(STATUSES)].0;
        let size = self.size(status);
        let referer = REFERERS[self.rng.weighted(REFERERS)].0;
        let agent = USER_AGENTS[self.rng.weighted(USER_AGENTS)].0;
        let us = self.request_us(status);
        let line = Drawn {
            client: &self.clients[client],
            user,
            method,
            path: &path,
            protocol,
            status,
            size,
            referer,
            agent,
            us,
        };
        for step in pattern.steps() {
            match step {
                Step::Literal(text) => out.extend_from_slice(text.bytes()),
                Step::Field(field) => line.write(field, at, out),
            }
        }
        out.push(b'\n');
        self.path = path;
    }

    /// One W3C line in the columns of `header`.
    fn w3c_line(&mut self, at: i64, out: &mut Vec<u8>) {
        let t = DateTime::from_timestamp(at.clamp(0, 253_402_300_799), 0).unwrap_or_default();
        out.extend_from_slice(t.format("%Y-%m-%d %H:%M:%S").to_string().as_bytes());
        out.extend_from_slice(b" 10.0.0.5 ");
        out.extend_from_slice(METHODS[self.rng.weighted(METHODS)].0.as_bytes());
        out.push(b' ');
        // IIS splits the target into stem and query.
        let path_at = out.len();
        self.path(out);
        match out[path_at..].iter().position(|&b| b == b'?') {
            Some(q) => out[path_at + q] = b' ',
            None => out.extend_from_slice(b" -"),
        }
        out.extend_from_slice(b" 443 ");
        out.extend_from_slice(USERS[self.rng.weighted(USERS)].0.as_bytes());
        out.push(b' ');
        let u = self.rng.unit();
        let client = ((u * u * u) * self.clients.len() as f64) as usize;
        out.extend_from_slice(self.clients[client.min(self.clients.len() - 1)].as_bytes());
        out.push(b' ');
        // W3C fields cannot hold spaces: IIS writes them as `+`.
        let agent = USER_AGENTS[self.rng.weighted(USER_AGENTS)].0;
        out.extend(agent.bytes().map(|b| if b == b' ' { b'+' } else { b }));
        out.push(b' ');
        out.extend_from_slice(REFERERS[self.rng.weighted(REFERERS)].0.as_bytes());
        out.push(b' ');
        let status = STATUSES[self.rng.weighted(STATUSES)].0;
        push_u64(out, u64::from(status));
        out.extend_from_slice(b" 0 0 ");
        push_u64(out, self.size(status).unwrap_or(0));
        if self.latency.is_some() {
            let us = self.request_us(status);
            out.push(b' ');
            push_u64(out, (us + 500) / 1000);
        }
        out.push(b'\n');
    }

    /// A request time in microseconds: mostly a few milliseconds with a
    /// long tail (median about 4 ms, p99 under a second); 5xx are slower.
    fn request_us(&mut self, status: u16) -> u64 {
        let u = self.rng.unit();
        let ms = 2.0 * 500f64.powf(u * u * u);
        let ms = if status >= 500 { ms * 10.0 } else { ms };
        (ms * 1000.0) as u64
    }

    /// Expand one path template of a weighted section into `out`.
    fn path(&mut self, out: &mut Vec<u8>) {
        let paths = SECTIONS[self.rng.weighted(SECTIONS)].0;
        let template = paths[self.rng.below(paths.len() as u64) as usize].as_bytes();
        let mut rest = template;
        while let Some(open) = rest.iter().position(|&b| b == b'{') {
            out.extend_from_slice(&rest[..open]);
            match rest.get(open + 1) {
                Some(b'n') => {
                    // Small ids are popular, as in real catalogues.
                    let u = self.rng.unit();
                    push_u64(out, 1 + (u * u * 5000.0) as u64);
                }
                Some(b'w') => {
                    let word = WORDS[self.rng.below(WORDS.len() as u64) as usize];
                    out.extend_from_slice(word.as_bytes());
                }
                _ => {
                    let h = self.rng.next_u64() as u32;
                    push_hex8(out, h);
                }
            }
            // Templates are constants above: every `{` starts `{x}`.
            rest = &rest[open + 3..];
        }
        out.extend_from_slice(rest);
    }

    /// Response size in bytes, or `None` for a bodiless status (`-`).
    fn size(&mut self, status: u16) -> Option<u64> {
        let u = self.rng.unit();
        match status {
            204 | 304 => None,
            301 | 302 => Some(150 + (u * 250.0) as u64),
            400..=499 => Some(180 + (u * 900.0) as u64),
            500..=599 => Some(250 + (u * 600.0) as u64),
            // Log-uniform from 200 B to 100 KB, squared to favour small
            // bodies: the median is about 950 B.
            _ => Some((200.0 * 500f64.powf(u * u)) as u64),
        }
    }

    /// The CLF text of `at`, formatted at most once per distinct second.
    fn stamp(&mut self, at: i64) -> &[u8] {
        if self.stamp_at != Some(at) {
            self.stamp = format_stamp(at);
            self.stamp_at = Some(at);
        }
        &self.stamp
    }
}

/// The values of one line for a format string.
struct Drawn<'a> {
    client: &'a str,
    user: &'a str,
    method: &'a str,
    /// The target, query included.
    path: &'a [u8],
    protocol: &'a str,
    status: u16,
    size: Option<u64>,
    referer: &'a str,
    agent: &'a str,
    /// The request time, in microseconds.
    us: u64,
}

impl Drawn<'_> {
    /// Append `field`'s value, as the server writes it, to `out`.
    fn write(&self, field: &FieldStep, at: i64, out: &mut Vec<u8>) {
        let (stem, query) = match self.path.iter().position(|&b| b == b'?') {
            Some(q) => (&self.path[..q], &self.path[q + 1..]),
            None => (self.path, &b""[..]),
        };
        let name = &*field.name;
        match &field.field {
            Field::Client => out.extend_from_slice(self.client.as_bytes()),
            Field::User => out.extend_from_slice(self.user.as_bytes()),
            Field::Time(shape) => write_time(shape, name, at, out),
            Field::Request => {
                out.extend_from_slice(self.method.as_bytes());
                out.push(b' ');
                out.extend_from_slice(self.path);
                out.push(b' ');
                out.extend_from_slice(self.protocol.as_bytes());
            }
            Field::Method => out.extend_from_slice(self.method.as_bytes()),
            Field::Uri => out.extend_from_slice(self.path),
            Field::Path => out.extend_from_slice(stem),
            Field::Query if name.starts_with('%') && !query.is_empty() => {
                out.push(b'?');
                out.extend_from_slice(query);
            }
            Field::Query if name.starts_with('%') => {}
            Field::Query if query.is_empty() => out.push(b'-'),
            Field::Query => out.extend_from_slice(query),
            Field::Status => push_u64(out, u64::from(self.status)),
            Field::BodyBytes => match (self.size, name) {
                (None, "%b") => out.push(b'-'),
                (size, _) => push_u64(out, size.unwrap_or(0)),
            },
            // The headers add about 200 bytes.
            Field::SentBytes => push_u64(out, self.size.unwrap_or(0) + 200),
            Field::RequestTime(Unit::Seconds) if name.starts_with('%') => {
                push_u64(out, self.us / 1_000_000)
            }
            Field::RequestTime(Unit::Seconds) | Field::UpstreamTime => push_seconds(out, self.us),
            Field::RequestTime(Unit::Millis) => push_u64(out, (self.us + 500) / 1000),
            Field::RequestTime(Unit::Micros) => push_u64(out, self.us),
            Field::Referer => out.extend_from_slice(self.referer.as_bytes()),
            Field::UserAgent => out.extend_from_slice(self.agent.as_bytes()),
            Field::Host => out.extend_from_slice(b"www.example.com"),
            Field::ForwardedFor => out.push(b'-'),
            Field::Ignored => out.extend_from_slice(match name {
                "%p" => b"443",
                "$request_length" | "%I" => b"412",
                "$proxy_upstream_name" => b"default-web-80",
                "$proxy_alternative_upstream_name" => b"",
                "$upstream_addr" => b"10.0.0.7:80",
                "$upstream_status" => b"200",
                "$upstream_response_length" => b"512",
                "$req_id" => b"5f1bd3c6b2a94e0f8f3c1d2e4a6b8c0d",
                "%k" => b"7",
                "%{router}e" => b"web@docker",
                "%{server}e" => b"http://10.0.0.7:80",
                _ => b"-",
            }),
        }
    }
}

/// `at` in a format string's time `shape`, in UTC (`+0000`); `name` tells
/// nginx's `$msec` (with milliseconds) from Apache's `%{sec}t`.
fn write_time(shape: &TimeShape, name: &str, at: i64, out: &mut Vec<u8>) {
    let at = at.clamp(0, 253_402_300_799);
    let t = DateTime::from_timestamp(at, 0).unwrap_or_default();
    match shape {
        TimeShape::Clf => out.extend_from_slice(&format_stamp(at)),
        TimeShape::ClfBracketed => {
            out.push(b'[');
            out.extend_from_slice(&format_stamp(at));
            out.push(b']');
        }
        TimeShape::Iso8601 => {
            out.extend_from_slice(t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string().as_bytes())
        }
        TimeShape::EpochSecs => {
            push_u64(out, at as u64);
            if name == "$msec" {
                out.extend_from_slice(b".000");
            }
        }
        TimeShape::EpochMillis => push_u64(out, at as u64 * 1000),
        TimeShape::EpochMicros => push_u64(out, at as u64 * 1_000_000),
        TimeShape::Strftime(format) => {
            let two = |out: &mut Vec<u8>, v: u32| {
                out.extend_from_slice(&[b'0' + (v / 10 % 10) as u8, b'0' + (v % 10) as u8])
            };
            for item in format.items() {
                match *item {
                    StrfItem::Literal(b) => out.push(b),
                    StrfItem::Day => two(out, t.day()),
                    StrfItem::MonthName => out.extend_from_slice(&format_stamp(at)[3..6]),
                    StrfItem::Month => two(out, t.month()),
                    StrfItem::Year => push_u64(out, t.year() as u64),
                    StrfItem::Hour => two(out, t.hour()),
                    StrfItem::Minute => two(out, t.minute()),
                    StrfItem::Second => two(out, t.second()),
                    StrfItem::Offset => out.extend_from_slice(b"+0000"),
                    StrfItem::Weekday => {
                        out.extend_from_slice(t.format("%a").to_string().as_bytes())
                    }
                }
            }
        }
    }
}

/// Microseconds as seconds with 3 decimals, rounded like nginx's `%.3f`.
fn push_seconds(out: &mut Vec<u8>, us: u64) {
    let ms = (us + 500) / 1000;
    push_u64(out, ms / 1000);
    out.push(b'.');
    let frac = ms % 1000;
    out.extend_from_slice(&[
        b'0' + (frac / 100) as u8,
        b'0' + (frac / 10 % 10) as u8,
        b'0' + (frac % 10) as u8,
    ]);
}

/// `at` (unix seconds) as `09/May/2018:16:00:39 +0000`, by hand because
/// chrono's formatter would dominate `write_lines` at high rates.
fn format_stamp(at: i64) -> [u8; 26] {
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    // 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z.
    let at = at.clamp(-62_167_219_200, 253_402_300_799);
    let t = DateTime::from_timestamp(at, 0).unwrap_or_default();
    let mut s = *b"DD/Mon/YYYY:HH:MM:SS +0000";
    let two = |s: &mut [u8; 26], i: usize, v: u32| {
        s[i] = b'0' + (v / 10) as u8;
        s[i + 1] = b'0' + (v % 10) as u8;
    };
    two(&mut s, 0, t.day());
    s[3..6].copy_from_slice(MONTHS[t.month0() as usize]);
    let year = t.year() as u32;
    two(&mut s, 7, year / 100);
    two(&mut s, 9, year % 100);
    two(&mut s, 12, t.hour());
    two(&mut s, 15, t.minute());
    two(&mut s, 18, t.second());
    s
}

/// Decimal digits of `v`, without going through `fmt`.
fn push_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

fn push_hex8(out: &mut Vec<u8>, v: u32) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for shift in (0..8).rev() {
        out.push(HEX[((v >> (shift * 4)) & 0xf) as usize]);
    }
}

/// Traffic shape for live mode: `rate` lines per second, except during the
/// optional burst.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    /// Baseline, in lines per second.
    pub rate: f64,
    pub burst: Option<Burst>,
}

/// A period of `rate` lines per second (replacing the baseline, not added
/// to it) from `after` to `after + length` since the start.
#[derive(Clone, Copy, Debug)]
pub struct Burst {
    /// Lines per second during the burst.
    pub rate: f64,
    /// Time from the start of the run to the start of the burst.
    pub after: Duration,
    /// How long the burst lasts.
    pub length: Duration,
}

impl Shape {
    /// Lines per second at `elapsed` since the start.
    pub fn rate_at(&self, elapsed: Duration) -> f64 {
        match self.burst {
            Some(b) if elapsed >= b.after && elapsed - b.after < b.length => b.rate,
            _ => self.rate,
        }
    }

    /// Baseline 4 lines/s, then 40 lines/s from 20 s to 80 s: it crosses
    /// logmon's default alert (more than 1200 hits in a 120 s window, i.e.
    /// over 10 req/s) and then recovers.
    ///
    /// With the run started `s` seconds ago and logmon following from the
    /// start:
    /// - `t` seconds into the burst the window holds `4*20 + 40*t` hits,
    ///   which passes 1200 at `t = 28` (s = 48);
    /// - it peaks after the burst at `2400 + 4*60 = 2640` (s = 120);
    /// - from s = 140 the burst slides out: `40*(200-s) + 4*(s-80)`
    ///   = `7680 - 36*s`, down to 1200 at s = 180, i.e. recovery about
    ///   130 s after the alert and 100 s after the burst ends.
    pub fn demo() -> Shape {
        Shape {
            rate: 4.0,
            burst: Some(Burst {
                rate: 40.0,
                after: Duration::from_secs(20),
                length: Duration::from_secs(60),
            }),
        }
    }

    /// Lines due in total by `elapsed`: the integral of `rate_at`, floored.
    /// Counting from the start rather than per tick keeps the long-run rate
    /// exact whatever the sleeps overshoot by.
    fn due(&self, elapsed: Duration) -> u64 {
        let e = elapsed.as_secs_f64();
        let lines = match self.burst {
            None => self.rate * e,
            Some(b) => {
                let (start, len) = (b.after.as_secs_f64(), b.length.as_secs_f64());
                let before = e.min(start);
                let during = (e - start).clamp(0.0, len);
                let after = (e - start - len).max(0.0);
                self.rate * (before + after) + b.rate * during
            }
        };
        lines.max(0.0) as u64
    }
}

/// How often `run_live` wakes to write what is due: short enough that a
/// 4 lines/s stream looks continuous and a stop request is seen promptly.
const TICK: Duration = Duration::from_millis(50);

/// Flush a batch to the writer once it passes this size (bytes).
const CHUNK: usize = 64 * 1024;

/// Write lines to `out` in real time following `shape`, until `stop` is
/// set. Every `TICK` (50 ms) it writes the lines due by now, stamped with
/// the wall clock (unix seconds), and flushes. Returns the number of lines
/// written. A write error (such as a broken pipe) is returned as is.
pub fn run_live(
    gen: &mut Generator,
    shape: Shape,
    out: &mut dyn Write,
    stop: &AtomicBool,
) -> io::Result<u64> {
    let start = Instant::now();
    let mut written = 0u64;
    let mut buf = Vec::with_capacity(CHUNK);
    gen.header(chrono::Utc::now().timestamp(), &mut buf);
    while !stop.load(Ordering::Relaxed) {
        let due = shape.due(start.elapsed());
        if due > written {
            let now = chrono::Utc::now().timestamp();
            while written < due {
                gen.line(now, &mut buf);
                written += 1;
                if buf.len() >= CHUNK {
                    out.write_all(&buf)?;
                    buf.clear();
                }
            }
            out.write_all(&buf)?;
            out.flush()?;
            buf.clear();
        }
        thread::sleep(TICK);
    }
    Ok(written)
}

/// Write `n` lines to `out` at once: line `i` is stamped `start + floor(i /
/// rate)` (unix seconds), so `rate` is lines per second of log time.
/// Deterministic for a given generator state. `rate` must be finite and
/// positive, otherwise the error is `InvalidInput`.
pub fn write_lines(
    gen: &mut Generator,
    n: u64,
    start: i64,
    rate: f64,
    out: &mut dyn Write,
) -> io::Result<()> {
    if !(rate.is_finite() && rate > 0.0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "rate must be a positive number of lines per second",
        ));
    }
    let mut buf = Vec::with_capacity(CHUNK + 1024);
    gen.header(start, &mut buf);
    for i in 0..n {
        // Dividing exact integers is exact when the quotient is, so whole
        // rates give exactly `rate` lines per second.
        let at = start.saturating_add((i as f64 / rate) as i64);
        gen.line(at, &mut buf);
        if buf.len() >= CHUNK {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    out.write_all(&buf)?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;
    use std::sync::Arc;

    const T: i64 = 1_772_366_400; // 2026-03-01T12:00:00Z

    fn lines(seed: u64, format: GenFormat, n: u64) -> Vec<u8> {
        let mut out = Vec::new();
        write_lines(&mut Generator::new(seed, format), n, T, 10.0, &mut out).unwrap();
        out
    }

    const CLF: &str = r#"^(\d{1,3}(\.\d{1,3}){3}|[0-9a-f:]+) - [\w-]+ \[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] "(GET|POST|PUT|DELETE|HEAD|OPTIONS) /[^ "]* HTTP/\d\.\d" \d{3} (\d+|-)"#;

    #[test]
    fn same_seed_gives_identical_bytes() {
        for format in [GenFormat::Common, GenFormat::Combined] {
            assert_eq!(lines(7, format.clone(), 2000), lines(7, format, 2000));
        }
    }

    #[test]
    fn different_seeds_give_different_bytes() {
        assert_ne!(
            lines(1, GenFormat::Combined, 100),
            lines(2, GenFormat::Combined, 100)
        );
    }

    #[test]
    fn every_common_line_matches_clf() {
        let re = Regex::new(&format!("{CLF}$")).unwrap();
        let out = String::from_utf8(lines(3, GenFormat::Common, 5000)).unwrap();
        assert!(out.ends_with('\n'));
        assert_eq!(out.lines().count(), 5000);
        for line in out.lines() {
            assert!(re.is_match(line), "not CLF: {line}");
        }
    }

    #[test]
    fn every_combined_line_matches_combined_format() {
        let re = Regex::new(&format!(r#"{CLF} "[^"]*" "[^"]+"$"#)).unwrap();
        let out = String::from_utf8(lines(4, GenFormat::Combined, 5000)).unwrap();
        assert_eq!(out.lines().count(), 5000);
        for line in out.lines() {
            assert!(re.is_match(line), "not Combined: {line}");
        }
    }

    #[test]
    fn stamps_are_utc_text_of_the_given_second() {
        let out = String::from_utf8(lines(5, GenFormat::Common, 1)).unwrap();
        assert!(out.contains("[01/Mar/2026:12:00:00 +0000]"), "{out}");
        assert_eq!(&format_stamp(1_525_881_639), b"09/May/2018:16:00:39 +0000");
        assert_eq!(&format_stamp(i64::MIN), b"01/Jan/0000:00:00:00 +0000");
        assert_eq!(&format_stamp(i64::MAX), b"31/Dec/9999:23:59:59 +0000");
    }

    #[test]
    fn traffic_is_mixed_but_mostly_get_200_and_skewed_to_few_sections() {
        let out = String::from_utf8(lines(6, GenFormat::Combined, 10_000)).unwrap();
        let count = |pat: &str| out.lines().filter(|l| l.contains(pat)).count();
        assert!(count("\"GET ") > 8000);
        assert!(count("\"POST ") > 400);
        assert!(count("\" 200 ") > 7000);
        for status in ["\" 304 -", "\" 404 ", "\" 403 ", "\" 500 ", "\" 503 "] {
            assert!(count(status) > 10, "too few {status}");
        }
        assert!(count(" \"GET /api") > count(" \"GET /admin") * 10);
        assert!(out.lines().any(|l| l.starts_with("2001:db8:")));
        assert!(out.lines().any(|l| l.contains('?')));
    }

    #[test]
    fn write_lines_spreads_lines_evenly_over_log_seconds() {
        let out = String::from_utf8(lines(8, GenFormat::Common, 1000)).unwrap();
        let mut per_second = std::collections::BTreeMap::new();
        for line in out.lines() {
            let open = line.find('[').unwrap();
            *per_second
                .entry(line[open + 1..open + 27].to_owned())
                .or_insert(0) += 1;
        }
        let expected: std::collections::BTreeMap<_, _> = (0..100)
            .map(|s| (String::from_utf8(format_stamp(T + s).to_vec()).unwrap(), 10))
            .collect();
        assert_eq!(per_second, expected);
    }

    #[test]
    fn write_lines_rejects_a_rate_that_is_not_positive() {
        let mut gen = Generator::new(1, GenFormat::Common);
        for rate in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let err = write_lines(&mut gen, 1, T, rate, &mut Vec::new()).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        }
    }

    #[test]
    fn demo_shape_bursts_from_20_to_80_seconds() {
        let demo = Shape::demo();
        let at = |s: f64| demo.rate_at(Duration::from_secs_f64(s));
        assert_eq!(at(0.0), 4.0);
        assert_eq!(at(19.9), 4.0);
        assert_eq!(at(20.0), 40.0);
        assert_eq!(at(79.9), 40.0);
        assert_eq!(at(80.0), 4.0);
        assert_eq!(at(500.0), 4.0);
    }

    #[test]
    fn demo_shape_crosses_1200_hits_in_two_minutes_and_recovers() {
        // Hits in the 120 s window ending at `s`, one-second buckets.
        let demo = Shape::demo();
        let due = |s: u64| demo.due(Duration::from_secs(s));
        let window = |s: u64| due(s) - due(s.saturating_sub(120));
        let fires = (0..600).find(|&s| window(s) > 1200).unwrap();
        assert!((40..=55).contains(&fires), "fires at {fires}");
        let recovers = (fires..600).find(|&s| window(s) <= 1200).unwrap();
        assert!((170..=190).contains(&recovers), "recovers at {recovers}");
    }

    #[test]
    fn lines_due_follow_the_integral_of_the_rate() {
        let shape = Shape {
            rate: 10.0,
            burst: None,
        };
        assert_eq!(shape.due(Duration::ZERO), 0);
        assert_eq!(shape.due(Duration::from_millis(99)), 0);
        assert_eq!(shape.due(Duration::from_millis(100)), 1);
        assert_eq!(shape.due(Duration::from_secs(3600)), 36_000);
        let demo = Shape::demo();
        assert_eq!(demo.due(Duration::from_secs(20)), 80);
        assert_eq!(demo.due(Duration::from_secs(80)), 80 + 2400);
        assert_eq!(demo.due(Duration::from_secs(90)), 80 + 2400 + 40);
    }

    #[test]
    fn run_live_writes_lines_until_stopped() {
        let stop = Arc::new(AtomicBool::new(false));
        let setter = {
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                thread::sleep(Duration::from_millis(300));
                stop.store(true, Ordering::Relaxed);
            })
        };
        let shape = Shape {
            rate: 100.0,
            burst: None,
        };
        let mut gen = Generator::new(9, GenFormat::Common);
        let mut out = Vec::new();
        let n = run_live(&mut gen, shape, &mut out, &stop).unwrap();
        setter.join().unwrap();
        // About 30 lines are due; allow for a slow, loaded machine.
        assert!((5..=60).contains(&n), "{n} lines");
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count() as u64, n);
    }

    #[test]
    fn w3c_output_parses_line_for_line_with_its_header() {
        for latency in [false, true] {
            let mut gen = Generator::new(11, GenFormat::W3c);
            if latency {
                gen = gen.with_latency(LatencyStyle::Nginx);
            }
            let mut out = Vec::new();
            write_lines(&mut gen, 2000, T, 10.0, &mut out).unwrap();
            let mut parser = crate::parse::Parser::with_format(crate::parse::LogFormat::W3c);
            let (mut hits, mut directives) = (0, 0);
            for line in out.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                match parser.parse(line) {
                    Ok(r) => {
                        hits += 1;
                        assert_eq!(r.request_time_us.is_some(), latency);
                        assert!(r.time >= T && r.time < T + 200);
                    }
                    Err(crate::parse::ParseError::Directive) => directives += 1,
                    Err(e) => panic!("{e}: {}", String::from_utf8_lossy(line)),
                }
            }
            assert_eq!((hits, directives), (2000, 4));
        }
    }

    #[test]
    fn format_string_lines_parse_back_with_their_format() {
        // (loggen format, logmon format, whether lines carry a request time)
        for (gen, read, timed) in [
            ("vhost_combined", "vhost_combined", false),
            ("ingress-nginx", "ingress-nginx", true),
            ("traefik", "traefik", true),
            ("vhost_combined", VHOST_COMBINED, false),
            ("ingress-nginx", INGRESS_NGINX, true),
            ("traefik", TRAEFIK, true),
            (
                r#"$remote_addr - [$time_iso8601] "$request" $status $bytes_sent $request_time "$http_user_agent""#,
                "",
                true,
            ),
            (
                r#"%a %{%d/%b/%Y:%H:%M:%S %z}t %m %U%q %>s %B %D "%{Referer}i""#,
                "",
                true,
            ),
            (
                r#"$msec $remote_addr $request_method $uri?$args $status"#,
                "",
                false,
            ),
            (r#"%{msec}t %h "%r" %s %{ms}T"#, "", true),
        ] {
            let read = if read.is_empty() { gen } else { read };
            let text = lines(21, GenFormat::parse(gen).unwrap(), 500);
            let mut parser = crate::parse::Parser::with_format(LogFormat::parse(read).unwrap());
            let mut at = T;
            for line in text.split_inclusive(|&b| b == b'\n') {
                let r = parser.parse(line).unwrap_or_else(|e| {
                    panic!(
                        "{gen} read as {read}: {e}: {}",
                        String::from_utf8_lossy(line)
                    )
                });
                assert!(r.time >= at, "{gen}: times go forward");
                at = r.time;
                assert_eq!(r.request_time_us.is_some(), timed, "{gen}");
                assert!(r.target.is_some_and(|t| t.starts_with(b"/")), "{gen}");
                assert!((100..=599).contains(&r.status), "{gen}");
            }
        }
        assert!(GenFormat::parse("auto").is_err());
        assert!(GenFormat::parse("$remote_addr").is_err());
        assert_eq!(GenFormat::parse("clf"), Ok(GenFormat::Combined));
    }

    #[test]
    fn latency_styles_write_seconds_or_microseconds() {
        let parse = |style| {
            let mut out = Vec::new();
            let mut gen = Generator::new(12, GenFormat::Combined).with_latency(style);
            write_lines(&mut gen, 500, T, 10.0, &mut out).unwrap();
            let text = String::from_utf8(out).unwrap();
            let last: Vec<String> = text
                .lines()
                .map(|l| l.rsplit(' ').next().unwrap().to_owned())
                .collect();
            let mut parser = crate::parse::Parser::new();
            let times: Vec<u64> = text
                .lines()
                .map(|l| parser.parse(l.as_bytes()).unwrap().request_time_us.unwrap())
                .collect();
            (last, times)
        };
        let (nginx, nginx_us) = parse(LatencyStyle::Nginx);
        let (apache, apache_us) = parse(LatencyStyle::Apache);
        assert!(nginx
            .iter()
            .all(|t| Regex::new(r"^\d+\.\d{3}$").unwrap().is_match(t)));
        assert!(apache.iter().all(|t| t.bytes().all(|b| b.is_ascii_digit())));
        // Same seed, same draws: nginx's value is Apache's to the millisecond.
        for (n, a) in nginx_us.iter().zip(&apache_us) {
            assert_eq!(*n, (a + 500) / 1000 * 1000);
        }
        let mut sorted = apache_us.clone();
        sorted.sort_unstable();
        assert!(
            (1_000..20_000).contains(&sorted[250]),
            "median {}",
            sorted[250]
        );
    }

    #[test]
    fn latency_does_not_change_the_lines_without_it() {
        let plain = String::from_utf8(lines(13, GenFormat::Combined, 300)).unwrap();
        let mut out = Vec::new();
        let mut gen = Generator::new(13, GenFormat::Combined).with_latency(LatencyStyle::Apache);
        write_lines(&mut gen, 1, T, 10.0, &mut out).unwrap();
        let first = String::from_utf8(out).unwrap();
        let (head, _) = first.trim_end().rsplit_once(' ').unwrap();
        assert_eq!(plain.lines().next().unwrap(), head);
    }
}
