//! Statistics of the traffic in one period (and in the whole run).
//!
//! Pure: no clock, no I/O. Memory is bounded whatever the log holds:
//! - sections: at most `MAX_SECTIONS` are tracked. When the table is full,
//!   the less-hit half is dropped (a lossy-counting scheme: amortised O(1)
//!   per line, unlike evicting one minimum at a time) and the top list is
//!   marked approximate;
//! - clients: counted exactly up to `MAX_EXACT_CLIENTS` distinct hashes,
//!   then estimated with a HyperLogLog sketch of 4 KiB (about 1.6% error),
//!   and marked approximate;
//! - latency: request times go into HDR histograms ([`Sketch`], about
//!   26 KiB each, made past the first 64 request times): one for all hits,
//!   and one for each of the first [`MAX_SECTION_SKETCHES`] sections that
//!   carry request times in the period. A histogram per section for all
//!   10,000 sections would cost 260 MB; a compact sketch would lose the
//!   HDR's stated error. Reports list a handful of sections, and the heavy
//!   ones show up among the first 64 of a period, so a section past the cap
//!   just shows no latency. Pruned sections free their histogram.
//!
//! Both tables are keyed by attacker-chosen text (sections) or its hash
//! (clients), so they use foldhash with a random seed: about 4x cheaper
//! per line than SipHash, and still no input is known in advance to
//! collide. The size bounds above cap the damage if one ever did. A
//! section is known by its 64-bit hash, with one seed for the whole run
//! ([`section_hash`]), so the alert's drivers take the hashes as they are;
//! two sections sharing a hash by chance (about `n^2 / 2^65` for `n`
//! distinct ones) would share a count, as two keys of a drill-down table
//! would (see `topk`).
//!
//! Distinct clients: when the lines carry their client's text (the
//! drill-down keys, [`Stats::add_line`]), the period's clients table tells
//! whether a client is new to the period, so no set is kept while that
//! table has room for every client; once it fills up, its clients go into
//! the set, and the set counts from then on.

use std::collections::HashSet;
use std::hash::BuildHasher;
use std::sync::LazyLock;

use foldhash::fast::{FixedState, RandomState};
use hashbrown::HashTable;
use hdrhistogram::Histogram;
use serde::Serialize;

use crate::batch::{Hit, HitKeys};
use crate::drill::{Tables, CLIENT_COUNTERS};
use crate::parse::{Method, NO_STATUS};

/// Most distinct sections tracked in one period.
pub const MAX_SECTIONS: usize = 10_000;
/// Most distinct clients counted exactly before switching to an estimate.
pub const MAX_EXACT_CLIENTS: usize = 50_000;
/// Most sections with their own latency histogram in one period.
pub const MAX_SECTION_SKETCHES: usize = 64;

/// The status classes, in the order of [`Stats::status`]: a hit without a
/// status (`-` in the log) counts under `other`, so the classes always add
/// up to the hits.
pub const STATUS_CLASSES: [&str; 6] = ["1xx", "2xx", "3xx", "4xx", "5xx", "other"];

/// Index into [`STATUS_CLASSES`] of a hit's status: 5 (`other`) for
/// [`NO_STATUS`]; a status outside `100..=599` (which the parsers never
/// give) is clamped into the nearest class rather than dropped.
pub fn status_class(status: u16) -> usize {
    if status == NO_STATUS {
        return 5;
    }
    (status / 100).clamp(1, 5) as usize - 1
}

/// Hits and errors (4xx + 5xx) of one section.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    pub hits: u64,
    pub errors: u64,
    /// The 5xx among `errors`: the server's fault, not the client's.
    pub server_errors: u64,
    /// Index of the section's latency histogram in `Stats::sketches`.
    sketch: Option<u16>,
}

/// One row of a report's top-sections list.
#[derive(Debug, Clone, PartialEq)]
pub struct SectionRow {
    pub section: String,
    pub hits: u64,
    /// 4xx and 5xx responses.
    pub errors: u64,
    /// 5xx responses (so 4xx are `errors - server_errors`).
    pub server_errors: u64,
    /// The section's request-time percentiles, if it had request times
    /// (and a histogram: see the module notes).
    pub latency: Option<Latency>,
}

/// Request-time percentiles, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Latency {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
}

/// Request times in fixed memory: an HDR histogram from 1 µs to 1 hour
/// with 2 significant digits, so every percentile is within 1% of the
/// exact one (over the values recorded; longer times count as 1 hour).
///
/// A histogram is 26 KiB, zeroed when made, and most sketches live one
/// period: the first [`Sketch::FEW`] times are kept as they are, and the
/// percentiles read from them are exactly those the histogram would give
/// (the same rank, the middle of the same bucket).
#[derive(Debug, Clone)]
pub struct Sketch(Times);

#[derive(Debug, Clone)]
enum Times {
    Few(Vec<u64>),
    Many(Box<Histogram<u64>>),
}

/// The histogram every sketch would be: its buckets, for [`Times::Few`].
static SHAPE: LazyLock<Histogram<u64>> = LazyLock::new(Sketch::histogram);

impl Sketch {
    /// Largest time tracked, in microseconds.
    pub const MAX_US: u64 = 3_600_000_000;
    /// Times kept as they are before a histogram is made.
    const FEW: usize = 64;

    pub fn new() -> Sketch {
        Sketch(Times::Few(Vec::new()))
    }

    fn histogram() -> Histogram<u64> {
        // 1..=MAX_US with 2 digits are valid bounds: this cannot fail.
        Histogram::new_with_bounds(1, Self::MAX_US, 2).expect("valid histogram bounds")
    }

    /// The histogram, made from the times kept so far if there is none.
    fn many(&mut self) -> &mut Histogram<u64> {
        if let Times::Few(times) = &self.0 {
            let mut h = Self::histogram();
            for &us in times {
                h.saturating_record(us);
            }
            self.0 = Times::Many(Box::new(h));
        }
        match &mut self.0 {
            Times::Many(h) => h,
            Times::Few(_) => unreachable!("made above"),
        }
    }

    /// Record a request time in microseconds.
    pub fn record(&mut self, us: u64) {
        match &mut self.0 {
            // A time past the hour is clamped by the histogram alone.
            Times::Few(times) if times.len() < Self::FEW && us <= Self::MAX_US => times.push(us),
            _ => self.many().saturating_record(us),
        }
    }

    /// Add every value of `other`.
    pub fn merge(&mut self, other: &Sketch) {
        match &other.0 {
            Times::Few(times) => times.iter().for_each(|&us| self.record(us)),
            // Same bounds on both sides, so this cannot fail.
            Times::Many(h) => {
                let _ = self.many().add(&**h);
            }
        }
    }

    /// Number of times recorded.
    pub fn len(&self) -> u64 {
        match &self.0 {
            Times::Few(times) => times.len() as u64,
            Times::Many(h) => h.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// p50, p95 and p99 by nearest rank, `None` when empty. Each is the
    /// middle of its histogram bucket, in milliseconds.
    pub fn latency(&self) -> Option<Latency> {
        if self.is_empty() {
            return None;
        }
        let ms = |us: u64| SHAPE.median_equivalent(us) as f64 / 1000.0;
        let mut sorted = Vec::new();
        if let Times::Few(times) = &self.0 {
            sorted.extend_from_slice(times);
            sorted.sort_unstable();
        }
        let at = |q: f64| -> u64 {
            match &self.0 {
                Times::Many(h) => h.value_at_quantile(q),
                // The histogram's rank, ceil(q * n) and at least 1: the
                // bucket that reaches it holds the rank-th smallest time.
                Times::Few(_) => {
                    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
                    sorted[rank - 1]
                }
            }
        };
        Some(Latency {
            p50: ms(at(0.50)),
            p95: ms(at(0.95)),
            p99: ms(at(0.99)),
        })
    }

    fn reset(&mut self) {
        match &mut self.0 {
            Times::Few(times) => times.clear(),
            Times::Many(h) => h.reset(),
        }
    }
}

impl Default for Sketch {
    fn default() -> Self {
        Self::new()
    }
}

/// Running statistics of a stretch of traffic.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub hits: u64,
    pub bytes: u64,
    pub invalid: u64,
    /// Hits by status class, named by [`STATUS_CLASSES`]: `status[0]` is
    /// 1xx ... `status[4]` is 5xx, `status[5]` hits without a status.
    pub status: [u64; 6],
    /// Hits by method, indexed like `Method::ALL`.
    pub methods: [u64; Method::ALL.len()],
    /// Hits without a request target (nginx's `"-"`, junk requests).
    pub no_section: u64,
    sections: Sections,
    /// True once the section table has had to drop entries.
    sections_pruned: bool,
    /// Distinct clients: with `add`, all of them; with `add_line`, those
    /// without text, and all once `all_clients` (see the module notes).
    clients: Clients,
    /// Distinct clients with text counted by the clients table
    /// (`add_line`), while not `all_clients`.
    listed_clients: u64,
    /// Whether `clients` counts every client: the clients table filled up.
    all_clients: bool,
    /// Request times of every hit that had one; allocated on the first.
    latency: Option<Box<Sketch>>,
    /// Per-section request times, indexed by `Count::sketch`.
    sketches: Vec<Sketch>,
    /// Indices of `sketches` freed by pruning, already reset.
    free_sketches: Vec<u16>,
    /// Exact status codes, and the top clients, paths, agents, referring
    /// hosts and countries.
    pub drill: Tables,
}

impl Stats {
    /// Empty statistics with room for as many sections and exact clients
    /// as `self` holds (both within their bounds).
    pub fn empty_like(&self) -> Stats {
        let clients = match &self.clients {
            Clients::Exact(set) => set.len(),
            Clients::Estimate(_) => MAX_EXACT_CLIENTS,
        };
        Stats {
            sections: Sections::with_capacity(self.sections.len(), self.sections.names.len()),
            // Room for as many as the set held (none, usually: see
            // `add_line`).
            clients: Clients::Exact(HashSet::with_capacity_and_hasher(
                clients,
                RandomState::default(),
            )),
            ..Stats::default()
        }
    }

    /// Count one hit; `section` is its (sanitized) section, if any. For a
    /// hit with drill-down keys, `add_line` counts both at once, cheaper.
    pub fn add(&mut self, hit: &Hit, section: Option<&str>) {
        self.count(hit, section);
        self.clients.insert(hit.client);
    }

    /// Count one hit, its section and its drill-down keys, as `add` and
    /// `add_keys` do. A period is counted either with this or with those.
    pub fn add_line(&mut self, hit: &Hit, section: Option<&str>, keys: &HitKeys<'_>) {
        self.count(hit, section);
        let new = self.drill.add(hit, keys);
        if keys.client.is_none() || self.all_clients {
            self.clients.insert(hit.client);
        } else {
            self.listed_clients += u64::from(new);
        }
        if !self.all_clients
            && (self.drill.clients().len() == CLIENT_COUNTERS
                || self.clients.len() as u64 + self.listed_clients > MAX_EXACT_CLIENTS as u64)
        {
            // The clients table may turn clients out from now on: the
            // set takes its clients, and counts every client from now on.
            for key in self.drill.clients().keys() {
                self.clients.insert(key);
            }
            self.listed_clients = 0;
            self.all_clients = true;
        }
    }

    /// Count `hit` but for its client.
    #[inline]
    fn count(&mut self, hit: &Hit, section: Option<&str>) {
        self.hits += 1;
        self.bytes = self.bytes.saturating_add(hit.bytes);
        self.status[status_class(hit.status)] += 1;
        self.drill.add_code(hit.status);
        self.methods[hit.method as usize] += 1;
        let is_error = hit.status >= 400;
        if let Some(us) = hit.request_us {
            self.latency.get_or_insert_with(Default::default).record(us);
        }
        match section {
            Some(name) => {
                let hash = section_hash(name);
                let count = match self.sections.get_mut(hash) {
                    Some(count) => count,
                    None => {
                        if self.sections.len() >= MAX_SECTIONS {
                            self.prune_sections();
                        }
                        self.sections.insert(hash, name)
                    }
                };
                count.hits += 1;
                count.errors += u64::from(is_error);
                count.server_errors += u64::from(hit.status >= 500);
                if let Some(us) = hit.request_us {
                    if count.sketch.is_none() {
                        count.sketch = self.free_sketches.pop().or_else(|| {
                            (self.sketches.len() < MAX_SECTION_SKETCHES).then(|| {
                                self.sketches.push(Sketch::new());
                                (self.sketches.len() - 1) as u16
                            })
                        });
                    }
                    if let Some(i) = count.sketch {
                        self.sketches[usize::from(i)].record(us);
                    }
                }
            }
            None => self.no_section += 1,
        }
    }

    /// Count the drill-down keys of a hit already counted with `add`: the
    /// tests' way to count a period in two steps (the monitor counts both
    /// at once with `add_line`).
    #[cfg(test)]
    pub fn add_keys(&mut self, hit: &Hit, keys: &HitKeys<'_>) {
        // `add` counted the client.
        let _ = self.drill.add(hit, keys);
    }

    /// Count lines that did not parse.
    pub fn add_invalid(&mut self, n: u64) {
        self.invalid = self.invalid.saturating_add(n);
    }

    /// Requests with a 4xx or 5xx status.
    pub fn errors(&self) -> u64 {
        self.status[3] + self.status[4]
    }

    /// Request-time percentiles of all hits, if any had a request time.
    pub fn latency(&self) -> Option<Latency> {
        self.latency.as_ref().and_then(|s| s.latency())
    }

    /// The request times of all hits, if any had one.
    pub fn latency_sketch(&self) -> Option<&Sketch> {
        self.latency.as_deref()
    }

    /// Distinct clients, and whether the figure is exact.
    pub fn clients(&self) -> (u64, bool) {
        let (count, exact) = self.clients.count();
        (count + self.listed_clients, exact)
    }

    /// The `n` most hit sections, by hits descending then by name, and
    /// whether the counts are exact.
    pub fn top(&self, n: usize) -> (Vec<SectionRow>, bool) {
        let mut rows: Vec<(&str, Count)> = self.sections.iter().map(|(_, k, v)| (k, *v)).collect();
        let by_rank = |a: &(&str, Count), b: &(&str, Count)| {
            b.1.hits.cmp(&a.1.hits).then_with(|| a.0.cmp(b.0))
        };
        if n < rows.len() {
            rows.select_nth_unstable_by(n, by_rank);
            rows.truncate(n);
        }
        rows.sort_unstable_by(by_rank);
        let rows = rows
            .into_iter()
            .map(|(name, c)| SectionRow {
                section: name.to_owned(),
                hits: c.hits,
                errors: c.errors,
                server_errors: c.server_errors,
                latency: c
                    .sketch
                    .and_then(|i| self.sketches[usize::from(i)].latency()),
            })
            .collect();
        (rows, !self.sections_pruned)
    }

    /// The `n` most hit sections, as `(hash, section, hits)`, by hits
    /// descending (ties in no set order): the cheap form of
    /// [`Stats::top`]. The hash is [`section_hash`]'s.
    pub fn top_sections(&self, n: usize) -> Vec<(u64, &str, u64)> {
        let mut rows: Vec<(u64, &str, u64)> = (self.sections.iter())
            .map(|(hash, k, v)| (hash, k, v.hits))
            .collect();
        if n < rows.len() {
            rows.select_nth_unstable_by(n, |a, b| b.2.cmp(&a.2));
            rows.truncate(n);
        }
        rows
    }

    /// Drop the less-hit half of the section table. Sections that come back
    /// later start again from zero, so their counts (and the ranking near
    /// the cut) become approximate; heavy hitters keep their counts.
    fn prune_sections(&mut self) {
        let mut counts: Vec<u64> = self.sections.iter().map(|(_, _, c)| c.hits).collect();
        let mid = counts.len() / 2;
        let (_, &mut cut, _) = counts.select_nth_unstable(mid);
        // At most half the entries are strictly above the median, so this
        // frees at least half the table (ties at the cut go too).
        let (sketches, free) = (&mut self.sketches, &mut self.free_sketches);
        self.sections.retain(|c| {
            let keep = c.hits > cut;
            if let (false, Some(i)) = (keep, c.sketch) {
                sketches[usize::from(i)].reset();
                free.push(i);
            }
            keep
        });
        self.sections_pruned = true;
    }
}

/// Distinct client hashes: an exact set while small, then a HyperLogLog.
#[derive(Debug, Clone)]
enum Clients {
    Exact(HashSet<u64, RandomState>),
    Estimate(Box<HyperLogLog>),
}

impl Default for Clients {
    fn default() -> Self {
        Clients::Exact(HashSet::default())
    }
}

impl Clients {
    fn insert(&mut self, hash: u64) {
        match self {
            Clients::Exact(set) => {
                set.insert(hash);
                if set.len() > MAX_EXACT_CLIENTS {
                    let mut hll = Box::new(HyperLogLog::new());
                    set.iter().for_each(|&h| hll.insert(h));
                    *self = Clients::Estimate(hll);
                }
            }
            Clients::Estimate(hll) => hll.insert(hash),
        }
    }

    fn count(&self) -> (u64, bool) {
        match self {
            Clients::Exact(set) => (set.len() as u64, true),
            Clients::Estimate(hll) => (hll.estimate(), false),
        }
    }

    /// Distinct clients in the exact set (0 once estimated).
    fn len(&self) -> usize {
        match self {
            Clients::Exact(set) => set.len(),
            Clients::Estimate(_) => 0,
        }
    }
}

/// The hash a section is known by: foldhash with one random seed for the
/// whole run.
pub fn section_hash(section: &str) -> u64 {
    static SECTIONS: LazyLock<FixedState> =
        LazyLock::new(|| FixedState::with_seed(RandomState::default().hash_one(0u64)));
    SECTIONS.hash_one(section)
}

/// The sections of a period and their counts: each section's name once in
/// one arena, and an index by [`section_hash`] (no string per section, no
/// text compare per line).
#[derive(Debug, Clone, Default)]
struct Sections {
    /// `(hash, index in entries)` by hash.
    index: HashTable<(u64, u32)>,
    entries: Vec<SectionEntry>,
    /// The names, one after the other.
    names: String,
}

#[derive(Debug, Clone, Copy)]
struct SectionEntry {
    hash: u64,
    count: Count,
    /// The name: `names[start..start + len]`.
    start: u32,
    len: u32,
}

impl Sections {
    fn with_capacity(sections: usize, name_bytes: usize) -> Sections {
        Sections {
            index: HashTable::with_capacity(sections),
            entries: Vec::with_capacity(sections),
            names: String::with_capacity(name_bytes),
        }
    }

    fn len(&self) -> usize {
        self.entries.len()
    }

    /// Sections there is room for without growing.
    #[cfg(test)]
    fn capacity(&self) -> usize {
        self.entries.capacity()
    }

    fn get_mut(&mut self, hash: u64) -> Option<&mut Count> {
        let &(_, i) = self.index.find(hash, |e| e.0 == hash)?;
        Some(&mut self.entries[i as usize].count)
    }

    /// Add `name`, which is not here, hashed to `hash`; its count.
    fn insert(&mut self, hash: u64, name: &str) -> &mut Count {
        let i = self.entries.len();
        self.index.insert_unique(hash, (hash, i as u32), |e| e.0);
        self.entries.push(SectionEntry {
            hash,
            count: Count::default(),
            start: self.names.len() as u32,
            len: name.len() as u32,
        });
        self.names.push_str(name);
        &mut self.entries[i].count
    }

    /// `(hash, name, count)` of each section.
    fn iter(&self) -> impl Iterator<Item = (u64, &str, &Count)> + '_ {
        self.entries.iter().map(|e| {
            let name = &self.names[e.start as usize..(e.start + e.len) as usize];
            (e.hash, name, &e.count)
        })
    }

    /// Keep the sections whose count `keep` says to, and their names.
    fn retain(&mut self, mut keep: impl FnMut(&Count) -> bool) {
        let mut names = String::with_capacity(self.names.len() / 2);
        let old = std::mem::take(&mut self.names);
        self.entries.retain_mut(|e| {
            if !keep(&e.count) {
                return false;
            }
            let start = names.len() as u32;
            names.push_str(&old[e.start as usize..(e.start + e.len) as usize]);
            e.start = start;
            true
        });
        self.names = names;
        self.index.clear();
        for (i, e) in self.entries.iter().enumerate() {
            self.index
                .insert_unique(e.hash, (e.hash, i as u32), |e| e.0);
        }
    }
}

/// HyperLogLog with 2^12 one-byte registers (Flajolet et al. 2007, with
/// the small-range correction). The input must already be a good hash.
#[derive(Debug, Clone)]
pub struct HyperLogLog {
    registers: Vec<u8>,
}

impl HyperLogLog {
    const BITS: u32 = 12;

    pub fn new() -> HyperLogLog {
        HyperLogLog {
            registers: vec![0; 1 << Self::BITS],
        }
    }

    pub fn insert(&mut self, hash: u64) {
        let index = (hash >> (64 - Self::BITS)) as usize;
        // Rank of the first 1 bit in the remaining bits, counting from 1.
        let rest = (hash << Self::BITS) | (1 << (Self::BITS - 1));
        let rank = rest.leading_zeros() as u8 + 1;
        let r = &mut self.registers[index];
        *r = (*r).max(rank);
    }

    pub fn estimate(&self) -> u64 {
        let m = self.registers.len() as f64;
        let alpha = 0.7213 / (1.0 + 1.079 / m);
        let sum: f64 = self.registers.iter().map(|&r| 2f64.powi(-(r as i32))).sum();
        let raw = alpha * m * m / sum;
        let zeros = self.registers.iter().filter(|&&r| r == 0).count();
        let estimate = if raw <= 2.5 * m && zeros > 0 {
            m * (m / zeros as f64).ln()
        } else {
            raw
        };
        estimate.round() as u64
    }
}

impl Default for HyperLogLog {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(status: u16, bytes: u64, client: u64, method: Method) -> Hit {
        Hit {
            time: 0,
            bytes,
            client,
            section: None,
            status,
            method,
            request_us: None,
        }
    }

    fn timed(us: u64) -> Hit {
        Hit {
            request_us: Some(us),
            ..hit(200, 0, 0, Method::Get)
        }
    }

    /// A well-mixed 64-bit hash of `i` (SplitMix64's finalizer).
    fn mix(i: u64) -> u64 {
        let mut z = i.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    #[test]
    fn counts_statuses_methods_bytes_and_clients() {
        let mut s = Stats::default();
        s.add(&hit(200, 100, 1, Method::Get), Some("/a"));
        s.add(&hit(404, 50, 2, Method::Post), Some("/a"));
        s.add(&hit(502, 0, 2, Method::Get), Some("/a"));
        s.add(&hit(503, 0, 1, Method::Other), None);
        // A `-` status: a hit, in no numbered class and no error.
        s.add(&hit(NO_STATUS, 7, 1, Method::Get), Some("/b"));
        s.add_invalid(2);
        assert_eq!((s.hits, s.bytes, s.invalid), (5, 157, 2));
        assert_eq!(s.status, [0, 1, 0, 1, 2, 1]);
        assert_eq!(s.status.iter().sum::<u64>(), s.hits);
        assert_eq!(s.errors(), 3);
        assert_eq!(s.methods[Method::Get as usize], 3);
        assert_eq!(s.methods[Method::Post as usize], 1);
        assert_eq!(s.methods[Method::Other as usize], 1);
        assert_eq!(s.clients(), (2, true));
        assert_eq!(s.no_section, 1);
        let (top, exact) = s.top(5);
        assert!(exact);
        assert_eq!(
            top,
            [
                SectionRow {
                    section: "/a".into(),
                    hits: 3,
                    errors: 2,
                    server_errors: 1,
                    latency: None,
                },
                SectionRow {
                    section: "/b".into(),
                    hits: 1,
                    errors: 0,
                    server_errors: 0,
                    latency: None,
                }
            ]
        );
    }

    #[test]
    fn empty_like_has_room_but_no_counts() {
        let mut s = Stats::default();
        s.add(&hit(200, 100, 1, Method::Get), Some("/a"));
        s.add_invalid(1);
        let e = s.empty_like();
        assert_eq!((e.hits, e.bytes, e.invalid, e.no_section), (0, 0, 0, 0));
        assert_eq!(e.clients(), (0, true));
        assert!(e.top(5).0.is_empty() && e.top(5).1);
        assert!(e.sections.capacity() >= 1);
    }

    #[test]
    fn top_sorts_by_hits_then_name_and_keeps_n() {
        let mut s = Stats::default();
        for (name, n) in [("/b", 3), ("/a", 3), ("/c", 5), ("/d", 1)] {
            for _ in 0..n {
                s.add(&hit(200, 0, 0, Method::Get), Some(name));
            }
        }
        let names: Vec<_> = s.top(3).0.into_iter().map(|r| r.section).collect();
        assert_eq!(names, ["/c", "/a", "/b"]);
        assert_eq!(s.top(10).0.len(), 4);
        assert!(s.top(0).0.is_empty());
    }

    #[test]
    fn unique_sections_stay_bounded_and_heavy_hitters_survive() {
        let mut s = Stats::default();
        for i in 0..100_000u64 {
            s.add(&hit(200, 0, i, Method::Get), Some("/hot"));
            s.add(&hit(200, 0, i, Method::Get), Some(&format!("/u{i}")));
        }
        assert!(s.sections.len() <= MAX_SECTIONS);
        let (top, exact) = s.top(1);
        assert!(!exact, "pruned tables are reported as approximate");
        assert_eq!(top[0].section, "/hot");
        assert_eq!(top[0].hits, 100_000);
        assert_eq!(s.hits, 200_000, "totals stay exact");
    }

    #[test]
    fn many_clients_switch_to_an_estimate_within_a_few_percent() {
        let mut s = Stats::default();
        let n = 1_000_000u64;
        for i in 0..n {
            s.add(&hit(200, 0, mix(i), Method::Get), None);
        }
        let (estimate, exact) = s.clients();
        assert!(!exact);
        let error = (estimate as f64 - n as f64).abs() / n as f64;
        assert!(error < 0.05, "estimate {estimate} for {n}");
    }

    #[test]
    fn hyperloglog_is_close_for_small_counts_too() {
        let mut h = HyperLogLog::new();
        for i in 0..1000 {
            h.insert(mix(i));
            h.insert(mix(i)); // duplicates do not count
        }
        let e = h.estimate();
        assert!((950..=1050).contains(&e), "{e}");
    }

    #[test]
    fn latency_percentiles_are_within_one_percent_of_exact_ones() {
        let mut s = Stats::default();
        assert_eq!(s.latency(), None, "no request times, no latency");
        // 1..=10_000 ms in a scrambled order: the exact nearest-rank p50 is
        // 5,000 ms, p95 9,500 ms and p99 9,900 ms.
        for i in 0..10_000u64 {
            let ms = (i * 7919) % 10_000 + 1;
            s.add(&timed(ms * 1000), Some("/a"));
        }
        let l = s.latency().unwrap();
        for (got, exact) in [(l.p50, 5000.0), (l.p95, 9500.0), (l.p99, 9900.0)] {
            assert!((got - exact).abs() <= exact * 0.01, "{got} vs {exact}");
        }
        assert_eq!(s.top(1).0[0].latency, Some(l), "one section: the same");
    }

    #[test]
    fn sections_beyond_the_sketch_cap_have_no_latency_and_pruning_frees_sketches() {
        let mut s = Stats::default();
        for i in 0..MAX_SECTION_SKETCHES + 10 {
            s.add(&timed(1000), Some(&format!("/s{i}")));
        }
        assert_eq!(s.sketches.len(), MAX_SECTION_SKETCHES, "bounded");
        let (rows, _) = s.top(MAX_SECTION_SKETCHES + 10);
        let with = rows.iter().filter(|r| r.latency.is_some()).count();
        assert_eq!(with, MAX_SECTION_SKETCHES);
        assert_eq!(
            s.latency_sketch().map(Sketch::len),
            Some(74),
            "overall has all"
        );

        // Fill the table so it prunes: the one-hit sections go, with their
        // sketches, and a new section gets a freed one.
        for _ in 0..3 {
            s.add(&timed(2000), Some("/hot"));
        }
        for i in 0..MAX_SECTIONS {
            s.add(&hit(200, 0, 0, Method::Get), Some(&format!("/u{i}")));
        }
        assert_eq!(s.free_sketches.len(), MAX_SECTION_SKETCHES, "all freed");
        s.add(&timed(5000), Some("/late"));
        let late = s
            .top(MAX_SECTIONS)
            .0
            .into_iter()
            .find(|r| r.section == "/late");
        let latency = late.unwrap().latency.unwrap();
        assert!(
            (latency.p50 - 5.0).abs() < 0.05,
            "a reused sketch starts empty"
        );
    }

    #[test]
    fn a_few_times_give_the_percentiles_their_histogram_gives() {
        let mut next = crate::parse::garbage::xorshift(0x2545_f491_4f6c_dd1d);
        for _ in 0..2_000 {
            let n = 1 + next() as usize % Sketch::FEW;
            // Spread over every bucket size, with repeats and the edges.
            let times: Vec<u64> = (0..n)
                .map(|_| match next() % 8 {
                    0 => 0,
                    1 => Sketch::MAX_US,
                    2 => 1 + next() % 300,
                    _ => next() % (1 << (next() % 32)),
                })
                .collect();
            let (mut few, mut histogram) = (Sketch::new(), Sketch::histogram());
            for &us in &times {
                few.record(us);
                histogram.saturating_record(us);
            }
            assert!(matches!(few.0, Times::Few(_)));
            let many = Sketch(Times::Many(Box::new(histogram)));
            assert_eq!(few.latency(), many.latency(), "{times:?}");
            assert_eq!(few.len(), many.len());
            // Merged either way, and once past FEW, the same again.
            let mut both = few.clone();
            both.merge(&many);
            let mut other = many.clone();
            other.merge(&few);
            assert_eq!(both.latency(), other.latency(), "{times:?}");
            assert_eq!(both.len(), 2 * n as u64);
        }
    }

    #[test]
    fn times_past_an_hour_count_as_an_hour() {
        let mut sketch = Sketch::new();
        sketch.record(u64::MAX);
        sketch.record(0);
        assert_eq!(sketch.len(), 2);
        let p99 = sketch.latency().unwrap().p99;
        assert!((p99 - 3_600_000.0).abs() <= 36_000.0, "{p99}");
    }

    #[test]
    fn clients_counted_through_the_clients_table_are_counted_as_by_the_set() {
        // Clients with text (the table tells new ones), without (the
        // set: a client's hit has its text or never has), and enough to
        // fill the table so the set takes over.
        for n in [10u64, CLIENT_COUNTERS as u64 + 500] {
            let (mut by_line, mut by_set) = (Stats::default(), Stats::default());
            for i in 0..3 * n {
                let client = mix(i % n);
                let text = format!("10.0.{}.{}", i % n / 256, i % n % 256);
                let keys = HitKeys {
                    client: (i % n % 7 != 0).then_some(text.as_bytes()),
                    ..HitKeys::default()
                };
                let hit = hit(200, 1, client, Method::Get);
                by_line.add_line(&hit, Some("/a"), &keys);
                by_set.add(&hit, Some("/a"));
                by_set.add_keys(&hit, &keys);
                assert_eq!(by_line.clients(), by_set.clients(), "{n} clients, line {i}");
            }
            assert_eq!(by_line.clients(), (n, true));
            let next = by_line.empty_like();
            assert_eq!(next.clients(), (0, true));
        }
    }
}
