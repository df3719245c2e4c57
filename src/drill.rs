//! The drill-down tables of a period: who sent the traffic, to which URLs,
//! with which responses, and from where.
//!
//! Pure: no clock, no I/O. [`Tables`] counts, [`Drill`] is what a report
//! shows of them. Memory is bounded whatever the log holds:
//! - exact status codes: one counter per code (600 at most, a hit without
//!   a status under `-`), so the codes always add up to the hits;
//! - clients, paths, user agents and referring hosts: a [`TopK`] each,
//!   with [`CLIENT_COUNTERS`], [`PATH_COUNTERS`], [`AGENT_COUNTERS`] and
//!   [`REFERRER_COUNTERS`] counters. While a table's keys fit, its counts
//!   are exact; once one was turned out the table is marked approximate,
//!   and a count may exceed the truth by at most `N / counters` for `N`
//!   hits in the period (Space-Saving's bound);
//! - countries (`--geoip`): one counter per ISO 3166 code, exact.
//!
//! Text from the log (addresses, paths, agents, hosts) is kept as the log
//! wrote it, cut to [`MAX_KEY_BYTES`], when a key takes a counter, and
//! sanitized and cut to [`MAX_KEY_CHARS`] ([`shown`]) only when a report
//! lists it: every output prints the same safe string, a table of long
//! agents stays small, and the keys that are never listed (most of them)
//! are copied but never checked.
//!
//! User agents are flagged as crawlers or scripts with the `isbot` crate
//! (its list of a few hundred patterns: search engines, `curl`, `wget`,
//! `python-requests`, `Go-http-client`, headless browsers, ...), only for
//! the rows a report lists.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

use foldhash::fast::RandomState;

use crate::batch::{Hit, HitKeys};
use crate::text::{is_printable_ascii, sanitize, truncate};
use crate::topk::{Counter, TopK};

/// Counters of the top-clients table of a period.
pub const CLIENT_COUNTERS: usize = 4096;
/// Counters of the top-paths table.
pub const PATH_COUNTERS: usize = 4096;
/// Counters of the user-agents table (agents are long, and fewer).
pub const AGENT_COUNTERS: usize = 1024;
/// Counters of the referring-hosts table.
pub const REFERRER_COUNTERS: usize = 1024;
/// User agents whose bot flag is remembered.
const BOT_CACHE: usize = 4096;
/// Longest text shown for a key, in characters (after sanitizing).
pub const MAX_KEY_CHARS: usize = 256;
/// Longest raw text kept for a key, in bytes: enough for any
/// [`MAX_KEY_CHARS`] shown. Each char `sanitize` writes comes from at
/// most 4 bytes, and is decoded from at most 4, so the first
/// `MAX_KEY_CHARS + 1` chars (all that `truncate` looks at) come from the
/// first `4 * (MAX_KEY_CHARS + 1)` bytes and the 4 after them at most.
pub const MAX_KEY_BYTES: usize = 4 * (MAX_KEY_CHARS + 1) + 4;

/// Status codes counted one by one: `0` (no status) to 599.
const CODES: usize = 600;

/// A client's country: an ISO 3166-1 alpha-2 code, or none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Country(u16);

impl Country {
    /// Not looked up (no `--geoip`, or no client address).
    pub const NONE: Country = Country(0);
    /// Looked up, and the database has no country for the address.
    pub const UNKNOWN: Country = Country(1);
    /// Every value: none, unknown, and `AA` to `ZZ`.
    const COUNT: usize = 2 + 26 * 26;

    /// The country of a two-letter code (any case); anything else is
    /// `UNKNOWN`.
    pub fn from_code(code: &str) -> Country {
        match code.as_bytes() {
            &[a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
                let (a, b) = (a.to_ascii_uppercase() - b'A', b.to_ascii_uppercase() - b'A');
                Country(2 + u16::from(a) * 26 + u16::from(b))
            }
            _ => Country::UNKNOWN,
        }
    }

    /// Whether the client's address was looked up.
    pub fn looked_up(self) -> bool {
        self != Country::NONE
    }

    /// `US`, or `-` when unknown or not looked up.
    pub fn code(self) -> String {
        match self.0.checked_sub(2) {
            Some(i) => {
                let letter = |n: u16| char::from(b'A' + n as u8);
                [letter(i / 26), letter(i % 26)].iter().collect()
            }
            None => "-".to_owned(),
        }
    }
}

/// The drill-down counters of one period.
#[derive(Debug, Clone)]
pub struct Tables {
    /// Hits by status code, indexed by code (allocated on the first hit).
    codes: Vec<u64>,
    /// The codes counted in the period, in the order first seen: a report
    /// and a `clear` visit these, not all 600.
    seen: Vec<u16>,
    clients: TopK<Country>,
    paths: TopK,
    agents: TopK,
    referrers: TopK,
    /// Hits by country, indexed by `Country` (allocated on the first hit
    /// looked up).
    countries: Vec<u64>,
    /// Whether a user agent (by key) is a bot, kept across periods: a
    /// report asks about the same few agents again and again, and the
    /// answer costs a regex match.
    bots: HashMap<u64, bool, RandomState>,
}

impl Default for Tables {
    fn default() -> Tables {
        Tables {
            codes: Vec::new(),
            seen: Vec::new(),
            clients: TopK::new(CLIENT_COUNTERS),
            paths: TopK::new(PATH_COUNTERS),
            agents: TopK::new(AGENT_COUNTERS),
            referrers: TopK::new(REFERRER_COUNTERS),
            countries: Vec::new(),
            bots: HashMap::default(),
        }
    }
}

/// Write `raw` into `text` as the log wrote it, cut to [`MAX_KEY_BYTES`].
fn store(text: &mut Vec<u8>, raw: &[u8]) {
    text.extend_from_slice(&raw[..raw.len().min(MAX_KEY_BYTES)]);
}

/// A key's text as every output shows it: `raw` sanitized and cut to
/// [`MAX_KEY_CHARS`].
pub fn shown(raw: &[u8]) -> Cow<'_, str> {
    // Most keys are short printable ASCII: safe, short and UTF-8 as they
    // are, which a check of eight bytes at a time tells, where sanitize and
    // truncate walk them char by char.
    if raw.len() <= MAX_KEY_CHARS && is_printable_ascii(raw) {
        if let Ok(text) = std::str::from_utf8(raw) {
            return Cow::Borrowed(text);
        }
    }
    match sanitize(raw) {
        Cow::Borrowed(text) => truncate(text, MAX_KEY_CHARS),
        Cow::Owned(text) => Cow::Owned(truncate(&text, MAX_KEY_CHARS).into_owned()),
    }
}

impl Tables {
    /// Count the status of a hit (every hit, keys or not).
    #[inline]
    pub fn add_code(&mut self, status: u16) {
        if self.codes.is_empty() {
            self.codes.resize(CODES, 0);
        }
        let code = usize::from(status).min(CODES - 1);
        let hits = &mut self.codes[code];
        if *hits == 0 {
            self.seen.push(code as u16);
        }
        *hits += 1;
    }

    /// Count the keys of `hit`. Whether its client (with its text: see
    /// `HitKeys::client`) is new to the period's clients table.
    #[inline]
    pub fn add(&mut self, hit: &Hit, keys: &HitKeys<'_>) -> bool {
        let error = hit.status >= 400;
        let mut new_client = false;
        if let Some(client) = keys.client {
            new_client = self.clients.add(hit.client, error, |text| {
                store(text, client);
                keys.country
            });
        }
        if let Some(path) = keys.path {
            self.paths
                .add(path.hash, error, |text| store(text, path.text));
        }
        if let Some(agent) = keys.agent {
            self.agents
                .add(agent.hash, error, |text| store(text, agent.text));
        }
        if let Some(host) = keys.referrer {
            self.referrers
                .add(host.hash, error, |text| store(text, host.text));
        }
        if keys.country.looked_up() {
            if self.countries.is_empty() {
                self.countries.resize(Country::COUNT, 0);
            }
            self.countries[usize::from(keys.country.0)] += 1;
        }
        new_client
    }

    /// Forget the period's counts, keeping the memory (and what is known
    /// of user agents) for the next period.
    pub fn clear(&mut self) {
        for code in self.seen.drain(..) {
            self.codes[usize::from(code)] = 0;
        }
        self.countries.fill(0);
        self.clients.clear();
        self.paths.clear();
        self.agents.clear();
        self.referrers.clear();
        if self.bots.len() > BOT_CACHE {
            self.bots.clear();
        }
    }

    /// The clients table, for the alert's drivers.
    pub fn clients(&self) -> &TopK<Country> {
        &self.clients
    }

    /// What a report shows: every status code, the `n` most frequent
    /// clients, paths, agents and referring hosts, and with `countries`
    /// the `n` countries with most hits.
    pub fn drill(&mut self, n: usize, countries: bool) -> Drill {
        let mut codes: Vec<(u16, u64)> = (self.seen.iter())
            .map(|&code| (code, self.codes[usize::from(code)]))
            .collect();
        codes.sort_unstable();
        let plain = |c: &Counter<()>| Row::new(c, Country::NONE);
        let bots = &mut self.bots;
        let agents = Ranked {
            rows: (self.agents.top(n).into_iter())
                .map(|c| Row {
                    bot: *bots.entry(c.key).or_insert_with(|| is_bot(&shown(&c.text))),
                    ..plain(c)
                })
                .collect(),
            exact: self.agents.exact(),
        };
        let countries = countries.then(|| {
            let mut rows: Vec<(Country, u64)> = (self.countries.iter().enumerate())
                .filter(|&(_, &hits)| hits > 0)
                .map(|(i, &hits)| (Country(i as u16), hits))
                .collect();
            // By hits, then by code with the unknown last.
            rows.sort_by_key(|&(c, hits)| (std::cmp::Reverse(hits), c == Country::UNKNOWN, c));
            rows.truncate(n);
            rows
        });
        Drill {
            codes,
            clients: ranked(&self.clients, n, |c| Row::new(c, c.tag)),
            paths: ranked(&self.paths, n, plain),
            agents,
            referrers: ranked(&self.referrers, n, plain),
            countries,
        }
    }
}

/// The `n` top rows of `table`.
fn ranked<T: Copy + Default>(
    table: &TopK<T>,
    n: usize,
    row: impl Fn(&Counter<T>) -> Row,
) -> Ranked {
    Ranked {
        rows: table.top(n).into_iter().map(row).collect(),
        exact: table.exact(),
    }
}

/// Whether a user agent is a crawler or a script.
pub fn is_bot(agent: &str) -> bool {
    // Built on first use (~3 ms, ~1.4 MiB): only reports listing agents
    // pay for it.
    static BOTS: LazyLock<isbot::Bots> = LazyLock::new(isbot::Bots::default);
    BOTS.is_bot(agent)
}

/// The drill-down part of a report.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Drill {
    /// Hits by exact status code, by code; `0` is a hit without a status.
    pub codes: Vec<(u16, u64)>,
    pub clients: Ranked,
    pub paths: Ranked,
    pub agents: Ranked,
    pub referrers: Ranked,
    /// Hits by country, most first, with `--geoip`.
    pub countries: Option<Vec<(Country, u64)>>,
}

/// The top rows of a table, and whether their counts are exact.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    pub rows: Vec<Row>,
    pub exact: bool,
}

impl Default for Ranked {
    fn default() -> Ranked {
        Ranked {
            rows: Vec::new(),
            exact: true,
        }
    }
}

/// One row of a drill-down table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The key's text, sanitized.
    pub name: String,
    pub hits: u64,
    /// 4xx and 5xx responses (counted since the key entered the table).
    pub errors: u64,
    /// Clients only: the country, with `--geoip`.
    pub country: Country,
    /// User agents only: a crawler or a script.
    pub bot: bool,
}

impl Row {
    fn new<T>(c: &Counter<T>, country: Country) -> Row {
        Row {
            name: shown(&c.text).into_owned(),
            hits: c.count,
            errors: c.errors,
            country,
            bot: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::Batch;
    use crate::parse::{Method, Parser};

    /// A batch of the `lines` (Combined or W3C), read by one parser.
    fn batch(lines: &[&str]) -> Batch {
        let hasher = foldhash::quality::RandomState::default();
        let mut parser = Parser::new();
        let mut b = Batch::default();
        for line in lines {
            if let Ok(record) = parser.parse(line.as_bytes()) {
                b.push(&record, &hasher);
            }
        }
        b
    }

    fn tables(b: &Batch) -> Tables {
        let mut t = Tables::default();
        for (i, hit) in b.hits.iter().enumerate() {
            t.add_code(hit.status);
            t.add(hit, &b.keys_of(i));
        }
        t
    }

    fn line(client: &str, target: &str, status: u16, referrer: &str, agent: &str) -> String {
        format!(
            "{client} - - [01/Mar/2026:12:00:00 +0000] \"GET {target} HTTP/1.1\" {status} 10 \"{referrer}\" \"{agent}\""
        )
    }

    fn names(r: &Ranked) -> Vec<(&str, u64, u64)> {
        r.rows
            .iter()
            .map(|r| (r.name.as_str(), r.hits, r.errors))
            .collect()
    }

    #[test]
    fn countries_are_two_letter_codes_or_a_dash() {
        assert_eq!(Country::from_code("us").code(), "US");
        assert_eq!(Country::from_code("ZZ").code(), "ZZ");
        assert_eq!(Country::from_code("AA").code(), "AA");
        assert_eq!(Country::from_code("USA"), Country::UNKNOWN);
        assert_eq!(Country::from_code("1A"), Country::UNKNOWN);
        assert_eq!(Country::UNKNOWN.code(), "-");
        assert_eq!(Country::NONE.code(), "-");
        assert!(!Country::NONE.looked_up() && Country::UNKNOWN.looked_up());
        assert_eq!(Country::from_code("zz").0 as usize, Country::COUNT - 1);
    }

    #[test]
    fn tables_count_codes_clients_paths_agents_and_referring_hosts() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";
        let b = batch(&[
            &line(
                "203.0.113.7",
                "/api/users?id=1",
                200,
                "https://www.Example.com/a",
                chrome,
            ),
            &line(
                "203.0.113.7",
                "/api/users?id=2",
                404,
                "https://www.example.com:8443/b",
                chrome,
            ),
            &line("203.0.113.7", "/api/users#top", 503, "-", "curl/8.5.0"),
            &line("198.51.100.2", "/", 200, "-", "-"),
            &line(
                "198.51.100.2",
                "/api/users",
                304,
                "android-app://com.example.app/",
                chrome,
            ),
        ]);
        let d = tables(&b).drill(5, false);
        assert_eq!(d.codes, [(200, 2), (304, 1), (404, 1), (503, 1)]);
        assert_eq!(
            d.codes.iter().map(|c| c.1).sum::<u64>(),
            5,
            "codes add up to hits"
        );
        assert_eq!(
            names(&d.clients),
            [("203.0.113.7", 3, 2), ("198.51.100.2", 2, 0)]
        );
        assert_eq!(names(&d.paths), [("/api/users", 4, 2), ("/", 1, 0)]);
        assert_eq!(names(&d.agents), [(chrome, 3, 1), ("curl/8.5.0", 1, 1)]);
        assert_eq!(
            d.agents.rows.iter().map(|r| r.bot).collect::<Vec<_>>(),
            [false, true],
            "curl is a script"
        );
        assert_eq!(
            names(&d.referrers),
            [("www.example.com", 2, 1), ("com.example.app", 1, 0)]
        );
        assert!(d.clients.exact && d.paths.exact && d.agents.exact && d.referrers.exact);
        assert_eq!(d.countries, None, "no --geoip");
        assert_eq!(tables(&b).drill(1, false).paths.rows.len(), 1);
    }

    #[test]
    fn w3c_agents_get_their_spaces_back() {
        let b = batch(&[
            "#Fields: date time c-ip cs-method cs-uri-stem sc-status cs(User-Agent) cs(Referer)",
            "2026-03-01 12:00:00 192.0.2.1 GET /a/b 200 Mozilla/5.0+(Windows+NT+10.0) http://search.example/?q=x",
        ]);
        let d = tables(&b).drill(5, false);
        assert_eq!(names(&d.agents), [("Mozilla/5.0 (Windows NT 10.0)", 1, 0)]);
        assert_eq!(names(&d.referrers), [("search.example", 1, 0)]);
        assert_eq!(names(&d.paths), [("/a/b", 1, 0)]);
        assert_eq!(names(&d.clients), [("192.0.2.1", 1, 0)]);
    }

    #[test]
    fn log_text_is_sanitized_and_cut_when_it_enters_a_table() {
        let long = format!("/{}", "x".repeat(1000));
        let b = batch(&[
            // (Not `;`, which would start path parameters, dropped.)
            &line("10.0.0.1", "/a\x1b[31mowned\x07", 200, "-", "evil\x1b[31m"),
            &line("10.0.0.1", &long, 200, "-", "-"),
        ]);
        let d = tables(&b).drill(5, false);
        let paths: Vec<_> = d.paths.rows.iter().map(|r| r.name.clone()).collect();
        assert!(
            paths.contains(&"/a\\x1b[31mowned\\x07".to_owned()),
            "{paths:?}"
        );
        assert!(paths.iter().all(|p| p.chars().count() <= MAX_KEY_CHARS));
        assert!(paths.iter().any(|p| p.ends_with('…')));
        assert_eq!(d.agents.rows[0].name, "evil\\x1b[31m");
    }

    #[test]
    fn a_flood_of_distinct_clients_marks_the_table_approximate() {
        let mut t = Tables::default();
        let hit = Hit {
            time: 0,
            bytes: 0,
            client: 0,
            section: None,
            status: 200,
            method: Method::Get,
            request_us: None,
        };
        for i in 0..(CLIENT_COUNTERS as u64 + 10) {
            let hit = Hit { client: i, ..hit };
            let keys = HitKeys {
                client: Some(b"10.0.0.1"),
                ..HitKeys::default()
            };
            t.add(&hit, &keys);
        }
        let d = t.drill(3, false);
        assert!(!d.clients.exact);
        assert!(d.paths.exact, "other tables are untouched");
        assert_eq!(d.clients.rows.len(), 3);
    }

    #[test]
    fn countries_count_every_hit_looked_up_with_the_unknown_last() {
        let mut t = Tables::default();
        let hit = |client| Hit {
            time: 0,
            bytes: 0,
            client,
            section: None,
            status: 200,
            method: Method::Get,
            request_us: None,
        };
        for (client, code, n) in [(1, "US", 3), (2, "DE", 1), (3, "", 2), (4, "FR", 1)] {
            let country = match code {
                "" => Country::UNKNOWN,
                code => Country::from_code(code),
            };
            for _ in 0..n {
                let keys = HitKeys {
                    client: Some(b"x"),
                    country,
                    ..HitKeys::default()
                };
                t.add(&hit(client), &keys);
            }
        }
        let rows: Vec<_> = (t.drill(5, true).countries.unwrap().into_iter())
            .map(|(c, n)| (c.code(), n))
            .collect();
        assert_eq!(
            rows,
            [
                ("US".into(), 3),
                ("-".into(), 2),
                ("DE".into(), 1),
                ("FR".into(), 1)
            ]
        );
        assert_eq!(t.drill(2, true).countries.unwrap().len(), 2);
        let us = t
            .drill(5, true)
            .clients
            .rows
            .into_iter()
            .find(|r| r.hits == 3);
        assert_eq!(
            us.unwrap().country.code(),
            "US",
            "a client keeps its country"
        );
    }

    #[test]
    fn crawlers_and_scripts_are_flagged_and_browsers_are_not() {
        for bot in [
            "Googlebot/2.1 (+http://www.google.com/bot.html)",
            "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
            "curl/8.5.0",
            "Wget/1.21.4",
            "python-requests/2.31.0",
            "Go-http-client/1.1",
            "Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)",
        ] {
            assert!(is_bot(bot), "{bot}");
        }
        for browser in [
            "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
        ] {
            assert!(!is_bot(browser), "{browser}");
        }
    }

    #[test]
    fn a_key_cut_to_its_kept_bytes_shows_as_the_whole_key_would() {
        // Long keys of 1- to 4-byte chars, controls and bytes that are not
        // UTF-8, cut anywhere near the kept length.
        let pieces: [&[u8]; 7] = [
            b"a",
            b"\xc3\xa9",
            "\u{20ac}".as_bytes(),
            "\u{1f600}".as_bytes(),
            b"\x1b",
            b"\xff",
            b"\xf0\x9f",
        ];
        let mut rng = 1u64;
        for _ in 0..300 {
            let mut raw = Vec::new();
            while raw.len() < MAX_KEY_BYTES + 8 {
                rng = rng
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                raw.extend_from_slice(pieces[(rng >> 33) as usize % pieces.len()]);
            }
            let whole = truncate(&sanitize(&raw), MAX_KEY_CHARS).into_owned();
            let mut kept = Vec::new();
            store(&mut kept, &raw);
            assert_eq!(kept.len(), MAX_KEY_BYTES);
            assert_eq!(shown(&kept), whole);
        }
        assert_eq!(shown(b"10.0.0.1"), "10.0.0.1");
        assert_eq!(shown(b"a\x1b[31m"), "a\\x1b[31m");
    }
}
