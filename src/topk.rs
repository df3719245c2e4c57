//! [`TopK`]: the most frequent keys of a stream, in fixed memory.
//!
//! Space-Saving (Metwally, Agrawal and El Abbadi, "Efficient computation of
//! frequent and top-k elements in data streams", 2005). The summary has
//! `capacity` counters. A key that has one adds 1 to it. A new key takes a
//! free counter while there is one (exactly counted from then on); once all
//! are taken, it takes over a counter holding the smallest count `min`,
//! with the count `min + 1` and an error of `min`.
//!
//! Guarantees, for a stream of `N` adds into `m` counters:
//! - while no key was ever turned out (`exact()`), every count is exact;
//! - afterwards a listed count overestimates its key's true count by at
//!   most its `error`, which is at most `min <= N / m`; a key whose true
//!   count is above `N / m` is always listed.
//!
//! Keys are 64-bit hashes of the text they stand for, made by the caller
//! with a per-run random seed (see `batch`), so nobody can aim two texts at
//! one key; two texts sharing a hash by chance (about `n^2 / 2^65` for `n`
//! distinct texts) would share a counter. The text of a key is written only
//! when the key takes a counter, by the caller's closure, into a `String`
//! that the counter keeps and reuses: a stream of distinct keys costs no
//! allocation per add once every counter has a string.
//!
//! Turning a key out needs a counter holding `min`: a cursor walks the
//! counters, and when a full turn finds none (counts only grow), `min` is
//! recomputed. The cursor passes each counter at most once per value of
//! `min`, and `min <= N / m`, so the walks cost O(N) in all: O(1) per add,
//! amortised. Pure: no clock, no I/O.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use foldhash::fast::RandomState;

/// One counter of a [`TopK`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counter<T> {
    /// The key (a hash of `text`).
    pub key: u64,
    /// Adds counted for the key, overestimated by at most `error`.
    pub count: u64,
    /// The count the key inherited when it took the counter (0 when it
    /// took a free one).
    pub error: u64,
    /// Adds flagged as errors (4xx and 5xx responses) since the key took
    /// the counter: a lower bound, where `count` is an upper one.
    pub errors: u64,
    /// What the caller attached to the key when it took the counter (a
    /// client's country, say).
    pub tag: T,
    /// The key's text, written when it took the counter: bytes, which
    /// the caller keeps UTF-8 (see [`Counter::name`]).
    pub text: Vec<u8>,
}

impl<T> Counter<T> {
    /// The key's text as a string (any byte that is not UTF-8 shown as
    /// U+FFFD, which a caller that writes UTF-8 never sees).
    pub fn name(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.text)
    }
}

/// The heavy hitters of a stream of keys, in `capacity` counters.
#[derive(Debug, Clone)]
pub struct TopK<T = ()> {
    capacity: usize,
    /// The first `taken` are in use; any after them are left from before a
    /// `clear`, kept for their strings.
    counters: Vec<Counter<T>>,
    taken: usize,
    /// Key -> index in `counters`.
    index: HashMap<u64, u32, RandomState>,
    /// Once full: no counter holds less than this (the smallest count,
    /// or less until recomputed).
    min: u64,
    /// Where the search for a counter holding `min` goes on.
    cursor: usize,
    /// Whether a key has ever been turned out: counts are then estimates.
    overflowed: bool,
    /// Adds counted.
    total: u64,
}

impl<T: Copy + Default> TopK<T> {
    /// An empty summary of at most `capacity` counters (at least 1).
    /// Nothing is allocated until the first add; memory grows with the
    /// keys, up to `capacity` counters.
    pub fn new(capacity: usize) -> TopK<T> {
        TopK {
            capacity: capacity.max(1),
            counters: Vec::new(),
            taken: 0,
            index: HashMap::default(),
            min: 0,
            cursor: 0,
            overflowed: false,
            total: 0,
        }
    }

    /// Count one occurrence of `key`, flagged as an error or not. When the
    /// key takes a counter, `describe` writes its text into the (empty)
    /// buffer given, and returns its tag.
    pub fn add(&mut self, key: u64, error: bool, describe: impl FnOnce(&mut Vec<u8>) -> T) {
        self.total += 1;
        // One probe finds the key or where it goes, while the table has
        // room; turning a key out takes two more.
        let vacant = match self.index.entry(key) {
            Entry::Occupied(at) => {
                let c = &mut self.counters[*at.get() as usize];
                c.count += 1;
                c.errors += u64::from(error);
                return;
            }
            Entry::Vacant(vacant) => vacant,
        };
        let (i, inherited) = if self.taken < self.capacity {
            // The tables grow as keys come (most periods have far fewer
            // than `capacity`), and keep their room across `clear`.
            if self.taken == self.counters.len() {
                self.counters.push(Counter::default());
            }
            self.taken += 1;
            vacant.insert(self.taken as u32 - 1);
            (self.taken - 1, 0)
        } else {
            self.overflowed = true;
            let i = self.take_smallest();
            let old = self.counters[i].key;
            self.index.remove(&old);
            self.index.insert(key, i as u32);
            (i, self.min)
        };
        let c = &mut self.counters[i];
        c.key = key;
        c.count = inherited + 1;
        c.error = inherited;
        c.errors = u64::from(error);
        c.text.clear();
        c.tag = describe(&mut c.text);
        if self.taken == self.capacity && !self.overflowed {
            // Just full: from now on a new key takes over a smallest count.
            self.min = self.smallest();
        }
    }

    /// The index of a counter holding `min`, recomputing `min` when a full
    /// turn of the cursor finds none.
    fn take_smallest(&mut self) -> usize {
        let n = self.taken;
        loop {
            for _ in 0..n {
                let i = self.cursor;
                self.cursor = if i + 1 == n { 0 } else { i + 1 };
                if self.counters[i].count == self.min {
                    return i;
                }
            }
            self.min = self.smallest();
        }
    }

    fn smallest(&self) -> u64 {
        self.taken().iter().map(|c| c.count).min().unwrap_or(0)
    }

    fn taken(&self) -> &[Counter<T>] {
        &self.counters[..self.taken]
    }

    /// Whether every count is exact: no key has been turned out.
    pub fn exact(&self) -> bool {
        !self.overflowed
    }

    /// Adds counted since the last `clear`.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Keys with a counter.
    pub fn len(&self) -> usize {
        self.taken
    }

    pub fn is_empty(&self) -> bool {
        self.taken == 0
    }

    /// The counter of `key`, if it has one.
    pub fn get(&self, key: u64) -> Option<&Counter<T>> {
        self.index.get(&key).map(|&i| &self.counters[i as usize])
    }

    /// The most an estimated count can exceed the true one: 0 while exact.
    pub fn error_bound(&self) -> u64 {
        // Each error is the smallest count when its key came in, and the
        // smallest count only grows.
        if self.overflowed {
            self.smallest()
        } else {
            0
        }
    }

    /// The `n` counters with the highest counts, by count descending, then
    /// by counter (the order keys first took them, until the table
    /// overflowed): ranking compares numbers only, never texts.
    pub fn top(&self, n: usize) -> Vec<&Counter<T>> {
        let mut ranks: Vec<(std::cmp::Reverse<u64>, u32)> = (self.taken().iter().enumerate())
            .map(|(i, c)| (std::cmp::Reverse(c.count), i as u32))
            .collect();
        if n < ranks.len() {
            ranks.select_nth_unstable(n);
            ranks.truncate(n);
        }
        ranks.sort_unstable();
        ranks
            .into_iter()
            .map(|(_, i)| &self.counters[i as usize])
            .collect()
    }

    /// Forget every key, keeping the memory (the counters' strings too) for
    /// the next period.
    pub fn clear(&mut self) {
        self.taken = 0;
        self.index.clear();
        self.min = 0;
        self.cursor = 0;
        self.overflowed = false;
        self.total = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A well-mixed 64-bit hash of `i` (SplitMix64's finalizer).
    fn mix(i: u64) -> u64 {
        let mut z = i.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn add(t: &mut TopK, i: u64, error: bool) {
        t.add(mix(i), error, |text| text.extend(format!("k{i}").bytes()));
    }

    fn counts(t: &TopK, n: usize) -> Vec<(String, u64)> {
        t.top(n)
            .iter()
            .map(|c| (c.name().into_owned(), c.count))
            .collect()
    }

    #[test]
    fn counts_are_exact_while_the_keys_fit() {
        let mut t = TopK::new(4);
        for (i, n) in [(1, 5), (3, 3), (2, 3), (4, 1)] {
            for j in 0..n {
                add(&mut t, i, j == 0);
            }
        }
        assert!(t.exact());
        assert_eq!(t.error_bound(), 0);
        assert_eq!(t.total(), 12);
        // Ties in the order the keys came.
        assert_eq!(
            counts(&t, 10),
            [
                ("k1".into(), 5),
                ("k3".into(), 3),
                ("k2".into(), 3),
                ("k4".into(), 1)
            ]
        );
        assert_eq!(counts(&t, 2), [("k1".into(), 5), ("k3".into(), 3)]);
        let k1 = t.get(mix(1)).unwrap();
        assert_eq!((k1.errors, k1.error), (1, 0));
    }

    #[test]
    fn text_is_written_only_when_a_key_takes_a_counter() {
        let mut t: TopK = TopK::new(2);
        let mut written = 0;
        for key in [7, 7, 7, 8, 7, 9] {
            t.add(key, false, |text| {
                written += 1;
                text.extend(key.to_string().bytes());
            });
        }
        // 7 and 8 take the two counters, then 9 takes over 8's (the
        // smallest).
        assert_eq!(written, 3);
        assert!(!t.exact());
        let top: Vec<_> = t
            .top(2)
            .iter()
            .map(|c| (c.name().into_owned(), c.count, c.error))
            .collect();
        assert_eq!(top, [("7".into(), 4, 0), ("9".into(), 2, 1)]);
    }

    #[test]
    fn an_overflowed_table_overestimates_by_at_most_n_over_m_and_keeps_heavy_keys() {
        // 200 counters; three heavy keys among 100,000 distinct light ones.
        let m = 200;
        let mut t = TopK::new(m);
        let mut truth = HashMap::new();
        let mut n = 0u64;
        for i in 0..100_000u64 {
            for heavy in [1_000_000, 1_000_001, 1_000_002] {
                if i % (heavy - 999_998) == 0 {
                    add(&mut t, heavy, false);
                    *truth.entry(heavy).or_insert(0u64) += 1;
                    n += 1;
                }
            }
            add(&mut t, i, false);
            *truth.entry(i).or_insert(0u64) += 1;
            n += 1;
        }
        assert_eq!(t.total(), n);
        assert!(!t.exact());
        assert!(t.len() <= m);
        let bound = t.error_bound();
        assert!(bound <= n / m as u64, "{bound} > {n} / {m}");
        for c in t.top(m) {
            let name = c.name();
            let i: u64 = name[1..].parse().unwrap();
            let real = truth[&i];
            assert!(c.count >= real, "{name} underestimated");
            assert!(c.count - real <= c.error, "{}: {} vs {real}", name, c.count);
            assert!(c.error <= bound);
        }
        // Every key above N/m is listed, the heavy ones first.
        let top: Vec<_> = t.top(3).iter().map(|c| c.name().into_owned()).collect();
        assert_eq!(top, ["k1000000", "k1000001", "k1000002"]);
        for (i, &real) in &truth {
            if real > n / m as u64 {
                assert!(t.get(mix(*i)).is_some(), "k{i} ({real}) is missing");
            }
        }
    }

    #[test]
    fn a_million_distinct_keys_stay_in_the_capacity() {
        let mut t = TopK::new(1024);
        for i in 0..1_000_000u64 {
            add(&mut t, i, i % 2 == 0);
        }
        assert_eq!(t.len(), 1024);
        assert!(t.counters.len() <= 1024 && t.index.len() <= 1024);
        assert!(t.counters.iter().all(|c| c.text.len() <= "k1000000".len()));
        // Each count is at most N/m.
        assert!(t.top(1)[0].count <= 1_000_000 / 1024 + 1);
    }

    #[test]
    fn clear_forgets_the_keys_but_keeps_the_strings() {
        let mut t = TopK::new(2);
        for i in 0..5 {
            add(&mut t, i, false);
        }
        t.clear();
        assert!(t.is_empty() && t.exact() && t.total() == 0);
        assert!(t.get(mix(4)).is_none());
        add(&mut t, 9, true);
        assert_eq!(counts(&t, 5), [("k9".into(), 1)]);
        assert_eq!(t.top(1)[0].error, 0, "a fresh counter after a clear");
        assert_eq!(t.counters.len(), 2, "the spare is kept");
    }
}
