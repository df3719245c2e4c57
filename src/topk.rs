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
//! distinct texts) would share a counter. Being random already, a key is
//! its own hash in the index: nothing is hashed here.
//!
//! The text of a key is written by the caller's closure when the key takes
//! a counter, and kept after a `clear`: a period (between two `clear`s)
//! counts afresh, but a key seen in an earlier period keeps its text (and
//! tag), so the clients, agents and referrers that come back period after
//! period are not copied again. At most `capacity` keys are remembered;
//! a new key that needs room takes over one not counted in this period,
//! the next in turn (a clock hand), so the ones in use stay.
//!
//! Turning a key out needs a counter holding `min`: a cursor walks the
//! counters, and when a full turn finds none (counts only grow), `min` is
//! recomputed. The cursor passes each counter at most once per value of
//! `min`, and `min <= N / m`, so the walks cost O(N) in all: O(1) per add,
//! amortised. A `clear` costs O(1), and `top(n)` one pass over the keys
//! counted in the period. Pure: no clock, no I/O.

use hashbrown::HashTable;

/// One counter of a [`TopK`], and the key it remembers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counter<T> {
    /// The key (a hash of `text`).
    pub key: u64,
    /// Adds counted for the key in the period, overestimated by at most
    /// `error`.
    pub count: u64,
    /// The count the key inherited when it took the counter (0 when it
    /// took a free one).
    pub error: u64,
    /// Adds flagged as errors (4xx and 5xx responses) since the key took
    /// the counter: a lower bound, where `count` is an upper one.
    pub errors: u64,
    /// What the caller attached to the key when it described it (a
    /// client's country, say).
    pub tag: T,
    /// The key's text as the caller wrote it (see [`Counter::name`]).
    pub text: Vec<u8>,
    /// The period (`TopK::period`) the key is counted in: it holds a
    /// counter only if that is the current one.
    period: u64,
}

impl<T> Counter<T> {
    /// The key's text as a string (any byte that is not UTF-8 shown as
    /// U+FFFD).
    pub fn name(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.text)
    }
}

/// No period: a remembered key turned out of its counter.
const NO_PERIOD: u64 = u64::MAX;

/// The heavy hitters of a stream of keys, in `capacity` counters.
#[derive(Debug, Clone)]
pub struct TopK<T = ()> {
    capacity: usize,
    /// The keys remembered, at most `capacity`: those counted in the
    /// current period, and others from earlier ones, kept for their text.
    counters: Vec<Counter<T>>,
    /// The counters of the period, in the order their keys took them:
    /// indices into `counters`.
    taken: Vec<u32>,
    /// `(key, index in counters)` of every remembered key, by key.
    index: HashTable<(u64, u32)>,
    /// The current period: 0 from the start, one more at each `clear`.
    period: u64,
    /// Once full: no counter holds less than this (the smallest count,
    /// or less until recomputed).
    min: u64,
    /// Where the search for a counter holding `min` goes on (in `taken`).
    cursor: usize,
    /// Where the search for a remembered key to forget goes on (in
    /// `counters`).
    hand: usize,
    /// Whether a key has ever been turned out: counts are then estimates.
    overflowed: bool,
    /// Adds counted.
    total: u64,
}

/// The hash of an `index` entry: its key, already random.
fn rehash<T>(entry: &(u64, T)) -> u64 {
    entry.0
}

impl<T: Copy + Default> TopK<T> {
    /// An empty summary of at most `capacity` counters (at least 1).
    /// Nothing is allocated until the first add; memory grows with the
    /// keys, up to `capacity` counters.
    pub fn new(capacity: usize) -> TopK<T> {
        TopK {
            capacity: capacity.max(1),
            counters: Vec::new(),
            taken: Vec::new(),
            index: HashTable::new(),
            period: 0,
            min: 0,
            cursor: 0,
            hand: 0,
            overflowed: false,
            total: 0,
        }
    }

    /// Count one occurrence of `key`, flagged as an error or not. Whether
    /// the key is new to the period (it took a counter).
    ///
    /// When the key is not remembered, `describe` writes its text into the
    /// (empty) buffer given, and returns its tag; a key remembered from an
    /// earlier period keeps the text and tag it was described with.
    ///
    /// Inlined: most adds find their key counted already, a lookup and
    /// two increments; the rest of the work is out of line.
    #[inline]
    pub fn add(&mut self, key: u64, error: bool, describe: impl FnOnce(&mut Vec<u8>) -> T) -> bool {
        self.total += 1;
        if let Some(&(_, at)) = self.index.find(key, |e| e.0 == key) {
            let c = &mut self.counters[at as usize];
            if c.period == self.period {
                c.count += 1;
                c.errors += u64::from(error);
                return false;
            }
            // Remembered from an earlier period: new to this one.
            self.take(at as usize, error);
            return true;
        }
        self.add_new(key, error, describe);
        true
    }

    /// Count `key`, which is not remembered: it takes a counter.
    #[inline(never)]
    fn add_new(&mut self, key: u64, error: bool, describe: impl FnOnce(&mut Vec<u8>) -> T) {
        let at = if self.taken.len() == self.capacity {
            // Full: the key takes over a counter holding the smallest
            // count, and the memory of the key it turns out.
            self.overflowed = true;
            let i = self.take_smallest();
            let at = self.taken[i] as usize;
            let inherited = self.min;
            self.forget(at);
            let c = &mut self.counters[at];
            (c.count, c.error, c.errors) = (inherited + 1, inherited, u64::from(error));
            at
        } else {
            let at = if self.counters.len() < self.capacity {
                // Memory grows as keys come (most periods have far fewer
                // than `capacity`), and is kept across `clear`.
                self.counters.push(Counter::default());
                self.counters.len() - 1
            } else {
                // Every key remembered, not all counted in the period:
                // forget the next one that is not.
                let at = self.idle();
                self.forget(at);
                at
            };
            self.start(at, error);
            at
        };
        self.index.insert_unique(key, (key, at as u32), rehash);
        let c = &mut self.counters[at];
        c.key = key;
        c.text.clear();
        c.tag = describe(&mut c.text);
    }

    /// The remembered key at `at`, not counted in the period, takes a
    /// counter: a free one, or once full a smallest one's.
    #[inline(never)]
    fn take(&mut self, at: usize, error: bool) {
        if self.taken.len() < self.capacity {
            self.start(at, error);
            return;
        }
        self.overflowed = true;
        let i = self.take_smallest();
        // The key turned out stays remembered, with its text.
        let out = self.taken[i] as usize;
        self.counters[out].period = NO_PERIOD;
        self.taken[i] = at as u32;
        let inherited = self.min;
        let c = &mut self.counters[at];
        c.period = self.period;
        (c.count, c.error, c.errors) = (inherited + 1, inherited, u64::from(error));
    }

    /// `counters[at]` takes the next free counter of the period.
    #[inline]
    fn start(&mut self, at: usize, error: bool) {
        let c = &mut self.counters[at];
        c.period = self.period;
        (c.count, c.error, c.errors) = (1, 0, u64::from(error));
        self.taken.push(at as u32);
        if self.taken.len() == self.capacity && !self.overflowed {
            // Just full: from now on a new key takes over a smallest count.
            self.min = self.smallest();
        }
    }

    /// Drop the key of `counters[at]` from the index.
    fn forget(&mut self, at: usize) {
        let key = self.counters[at].key;
        if let Ok(entry) = self.index.find_entry(key, |e| e.1 == at as u32) {
            entry.remove();
        }
    }

    /// The next remembered key, from the hand on, that is not counted in
    /// the period. There is one: fewer keys than `capacity` are counted.
    fn idle(&mut self) -> usize {
        let n = self.counters.len();
        loop {
            let at = self.hand;
            self.hand = if at + 1 == n { 0 } else { at + 1 };
            if self.counters[at].period != self.period {
                return at;
            }
        }
    }

    /// The index in `taken` of a counter holding `min`, recomputing `min`
    /// when a full turn of the cursor finds none.
    fn take_smallest(&mut self) -> usize {
        let n = self.taken.len();
        loop {
            for _ in 0..n {
                let i = self.cursor;
                self.cursor = if i + 1 == n { 0 } else { i + 1 };
                if self.counters[self.taken[i] as usize].count == self.min {
                    return i;
                }
            }
            self.min = self.smallest();
        }
    }

    fn smallest(&self) -> u64 {
        self.counted().map(|c| c.count).min().unwrap_or(0)
    }

    /// The counters of the period, in the order their keys took them.
    fn counted(&self) -> impl Iterator<Item = &Counter<T>> + '_ {
        self.taken.iter().map(|&at| &self.counters[at as usize])
    }

    /// The keys counted in the period.
    pub fn keys(&self) -> impl Iterator<Item = u64> + '_ {
        self.counted().map(|c| c.key)
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
        self.taken.len()
    }

    pub fn is_empty(&self) -> bool {
        self.taken.is_empty()
    }

    /// The most keys counted at once (the capacity).
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The counter of `key`, if it has one in the period.
    pub fn get(&self, key: u64) -> Option<&Counter<T>> {
        let &(_, at) = self.index.find(key, |e| e.0 == key)?;
        let c = &self.counters[at as usize];
        (c.period == self.period).then_some(c)
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
    /// by counter (the order keys first took them in the period, until the
    /// table overflowed): ranking compares numbers only, never texts.
    pub fn top(&self, n: usize) -> Vec<&Counter<T>> {
        // `(count, index in counters)`, best first: one allocation, which
        // the counters' references then take over.
        let ranked: Vec<(u64, u32)> = if n == 0 {
            Vec::new()
        } else if n <= SHORT_LIST {
            // One pass that keeps the best `n` so far, in rank order: a
            // counter enters only when it beats the last of them (ties go
            // to the earlier counter, already in).
            let mut best: Vec<(u64, u32)> = Vec::with_capacity(n + 1);
            let mut floor = 0;
            for &at in &self.taken {
                let c = self.counters[at as usize].count;
                if best.len() == n && c <= floor {
                    continue;
                }
                let i = best.partition_point(|&(b, _)| b >= c);
                best.insert(i, (c, at));
                best.truncate(n);
                floor = best.last().map_or(0, |&(last, _)| last);
            }
            best
        } else {
            let mut ranks: Vec<(std::cmp::Reverse<u64>, u32, u32)> = (self.taken.iter())
                .enumerate()
                .map(|(i, &at)| {
                    (
                        std::cmp::Reverse(self.counters[at as usize].count),
                        i as u32,
                        at,
                    )
                })
                .collect();
            if n < ranks.len() {
                ranks.select_nth_unstable(n);
                ranks.truncate(n);
            }
            ranks.sort_unstable();
            ranks.into_iter().map(|(c, _, at)| (c.0, at)).collect()
        };
        ranked
            .into_iter()
            .map(|(_, at)| &self.counters[at as usize])
            .collect()
    }

    /// Start a new period: forget every count, keeping the memory and the
    /// keys' texts for the next period.
    pub fn clear(&mut self) {
        self.period += 1;
        self.taken.clear();
        self.min = 0;
        self.cursor = 0;
        self.overflowed = false;
        self.total = 0;
    }
}

/// Longest top list ranked in one pass; longer ones are sorted.
const SHORT_LIST: usize = 32;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

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

    /// `(key, count, error, errors)`.
    type Counted = (u64, u64, u64, u64);

    /// Space-Saving as it was written before keys were remembered across
    /// periods: the counters of one period in an array, a `clear` forgets
    /// them all. `TopK` must count and rank exactly as this does.
    struct Reference {
        capacity: usize,
        /// In the order keys took them.
        counters: Vec<Counted>,
        min: u64,
        cursor: usize,
        overflowed: bool,
    }

    impl Reference {
        fn add(&mut self, key: u64, error: bool) {
            let e = u64::from(error);
            if let Some(c) = self.counters.iter_mut().find(|c| c.0 == key) {
                c.1 += 1;
                c.3 += e;
                return;
            }
            if self.counters.len() < self.capacity {
                self.counters.push((key, 1, 0, e));
                if self.counters.len() == self.capacity {
                    self.min = self.counters.iter().map(|c| c.1).min().unwrap();
                }
                return;
            }
            self.overflowed = true;
            let n = self.counters.len();
            let i = loop {
                let found = (0..n).find_map(|_| {
                    let i = self.cursor;
                    self.cursor = (i + 1) % n;
                    (self.counters[i].1 == self.min).then_some(i)
                });
                match found {
                    Some(i) => break i,
                    None => self.min = self.counters.iter().map(|c| c.1).min().unwrap(),
                }
            };
            self.counters[i] = (key, self.min + 1, self.min, e);
        }

        fn top(&self, n: usize) -> Vec<Counted> {
            let mut ranked: Vec<(usize, &Counted)> = self.counters.iter().enumerate().collect();
            ranked.sort_by_key(|&(i, c)| (std::cmp::Reverse(c.1), i));
            ranked.into_iter().take(n).map(|(_, c)| *c).collect()
        }
    }

    #[test]
    fn remembered_keys_count_and_rank_as_a_fresh_table_each_period() {
        let mut rng = 7u64;
        for capacity in [1, 3, 16, 64] {
            let mut t: TopK<u8> = TopK::new(capacity);
            let mut r = Reference {
                capacity,
                counters: Vec::new(),
                min: 0,
                cursor: 0,
                overflowed: false,
            };
            for period in 0..40 {
                // Some periods fit the table, some overflow it; keys come
                // back from earlier periods, new ones too.
                let (adds, spread) = [(20, 10), (300, 200), (50, 40), (1000, 30)][period % 4];
                for _ in 0..adds {
                    rng = mix(rng);
                    let i = rng % spread + (period as u64 % 3) * 25;
                    let error = rng >> 60 == 0;
                    t.add(mix(i), error, |text| {
                        text.extend(format!("k{i}").bytes());
                        (i % 251) as u8
                    });
                    r.add(mix(i), error);
                }
                for n in [0, 1, 5, 16, 40, usize::MAX] {
                    let got: Vec<_> = (t.top(n).iter())
                        .map(|c| (c.key, c.count, c.error, c.errors))
                        .collect();
                    assert_eq!(
                        got,
                        r.top(n),
                        "capacity {capacity}, period {period}, top {n}"
                    );
                }
                for c in t.top(usize::MAX) {
                    let i: u64 = c.name()[1..].parse().unwrap();
                    assert_eq!((mix(i), c.tag), (c.key, (i % 251) as u8), "its own text");
                }
                assert_eq!(t.exact(), !r.overflowed);
                assert_eq!(t.len(), r.counters.len());
                assert_eq!(t.total(), adds);
                let smallest = r.counters.iter().map(|c| c.1).min().unwrap_or(0);
                assert_eq!(t.error_bound(), if r.overflowed { smallest } else { 0 });
                assert!(t.counters.len() <= capacity && t.index.len() <= capacity);
                t.clear();
                r.counters.clear();
                (r.min, r.cursor, r.overflowed) = (0, 0, false);
            }
        }
    }

    #[test]
    fn a_key_seen_in_an_earlier_period_is_not_described_again() {
        let mut t: TopK = TopK::new(4);
        let mut written = Vec::new();
        for period in [[1, 2, 1], [1, 3, 2], [4, 5, 6]] {
            for key in period {
                let new = t.add(key, false, |text| {
                    written.push(key);
                    text.extend(key.to_string().bytes());
                });
                assert_eq!(new, t.get(key).unwrap().count == 1);
            }
            t.clear();
        }
        // 4 takes the last free memory; 5 and 6 take over that of 1 and 2
        // (the next ones not counted, in turn), never that of 4 or 5.
        assert_eq!(written, [1, 2, 3, 4, 5, 6]);
        for key in [4, 5, 6] {
            t.add(key, false, |_| unreachable!("{key} is remembered"));
        }
    }
}
