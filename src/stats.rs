//! Statistics of the traffic in one period (and in the whole run).
//!
//! Pure: no clock, no I/O. Memory is bounded whatever the log holds:
//! - sections: at most `MAX_SECTIONS` are tracked. When the table is full,
//!   the less-hit half is dropped (a lossy-counting scheme: amortised O(1)
//!   per line, unlike evicting one minimum at a time) and the top list is
//!   marked approximate;
//! - clients: counted exactly up to `MAX_EXACT_CLIENTS` distinct hashes,
//!   then estimated with a HyperLogLog sketch of 4 KiB (about 1.6% error),
//!   and marked approximate.

use std::collections::{HashMap, HashSet};

use crate::batch::Hit;
use crate::parse::Method;

/// Most distinct sections tracked in one period.
pub const MAX_SECTIONS: usize = 10_000;
/// Most distinct clients counted exactly before switching to an estimate.
pub const MAX_EXACT_CLIENTS: usize = 50_000;

/// Hits and errors (4xx + 5xx) of one section.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    pub hits: u64,
    pub errors: u64,
}

/// One row of a report's top-sections list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionRow {
    pub section: String,
    pub hits: u64,
    pub errors: u64,
}

/// Running statistics of a stretch of traffic.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub hits: u64,
    pub bytes: u64,
    pub invalid: u64,
    /// Hits by status class: `status[0]` is 1xx ... `status[4]` is 5xx.
    pub status: [u64; 5],
    /// Hits by method, indexed like `Method::ALL`.
    pub methods: [u64; Method::ALL.len()],
    /// Hits without a request target (nginx's `"-"`, junk requests).
    pub no_section: u64,
    sections: HashMap<Box<str>, Count>,
    /// True once the section table has had to drop entries.
    sections_pruned: bool,
    clients: Clients,
}

impl Stats {
    /// Count one hit; `section` is its (sanitized) section, if any.
    pub fn add(&mut self, hit: &Hit, section: Option<&str>) {
        self.hits += 1;
        self.bytes = self.bytes.saturating_add(hit.bytes);
        let class = (hit.status / 100).clamp(1, 5) as usize - 1;
        self.status[class] += 1;
        self.methods[hit.method as usize] += 1;
        self.clients.insert(hit.client);
        let is_error = hit.status >= 400;
        match section {
            Some(name) => {
                // Look up by &str first: allocate only for a new section.
                let count = match self.sections.get_mut(name) {
                    Some(count) => count,
                    None => {
                        if self.sections.len() >= MAX_SECTIONS {
                            self.prune_sections();
                        }
                        self.sections.entry(name.into()).or_default()
                    }
                };
                count.hits += 1;
                count.errors += u64::from(is_error);
            }
            None => self.no_section += 1,
        }
    }

    /// Count lines that did not parse.
    pub fn add_invalid(&mut self, n: u64) {
        self.invalid = self.invalid.saturating_add(n);
    }

    /// Requests with a 4xx or 5xx status.
    pub fn errors(&self) -> u64 {
        self.status[3] + self.status[4]
    }

    /// Distinct clients, and whether the figure is exact.
    pub fn clients(&self) -> (u64, bool) {
        self.clients.count()
    }

    /// The `n` most hit sections, by hits descending then by name, and
    /// whether the counts are exact.
    pub fn top(&self, n: usize) -> (Vec<SectionRow>, bool) {
        let mut rows: Vec<(&str, Count)> = self.sections.iter().map(|(k, v)| (&**k, *v)).collect();
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
            })
            .collect();
        (rows, !self.sections_pruned)
    }

    /// Drop the less-hit half of the section table. Sections that come back
    /// later start again from zero, so their counts (and the ranking near
    /// the cut) become approximate; heavy hitters keep their counts.
    fn prune_sections(&mut self) {
        let mut counts: Vec<u64> = self.sections.values().map(|c| c.hits).collect();
        let mid = counts.len() / 2;
        let (_, &mut cut, _) = counts.select_nth_unstable(mid);
        // At most half the entries are strictly above the median, so this
        // frees at least half the table (ties at the cut go too).
        self.sections.retain(|_, c| c.hits > cut);
        self.sections_pruned = true;
    }
}

/// Distinct client hashes: an exact set while small, then a HyperLogLog.
#[derive(Debug, Clone)]
enum Clients {
    Exact(HashSet<u64>),
    Estimate(Box<HyperLogLog>),
}

impl Default for Clients {
    fn default() -> Self {
        Clients::Exact(HashSet::new())
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
        s.add(&hit(503, 0, 1, Method::Other), None);
        s.add_invalid(2);
        assert_eq!((s.hits, s.bytes, s.invalid), (3, 150, 2));
        assert_eq!(s.status, [0, 1, 0, 1, 1]);
        assert_eq!(s.errors(), 2);
        assert_eq!(s.methods[Method::Get as usize], 1);
        assert_eq!(s.methods[Method::Post as usize], 1);
        assert_eq!(s.methods[Method::Other as usize], 1);
        assert_eq!(s.clients(), (2, true));
        assert_eq!(s.no_section, 1);
        let (top, exact) = s.top(5);
        assert!(exact);
        assert_eq!(
            top,
            [SectionRow {
                section: "/a".into(),
                hits: 2,
                errors: 1
            }]
        );
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
}
