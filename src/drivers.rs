//! Alert attribution: which sections and clients carry the excess when the
//! alert fires.
//!
//! Pure: no clock, no I/O; time is unix seconds passed in. [`History`]
//! keeps, for the alert window and the window before it, the top sections
//! and clients of each period, folded into at most [`SLOTS_PER_WINDOW`]
//! slots per window: a slot covers a whole number of periods, as few as
//! keep a window within the limit (with `--window 86400 --period 1`, 1,350
//! periods a slot). When the alert fires, [`History::drivers`] adds up the
//! slots of each window (and the period still open) and lists the keys
//! whose hits grew most from the window before to the window, with their
//! hits in both.
//!
//! Memory is bounded whatever the window, the period and the log: a slot
//! holds at most `2 * SLOT_KEYS + PERIOD_KEYS` sections and as many
//! clients, each name cut to [`MAX_NAME_CHARS`], in a list sized to what
//! it holds (with `--window 86400 --period 1`, 130 slots: a few KiB each).
//!
//! What the figures mean, and how far they can be off:
//! - the windows are made of whole slots: a slot belongs to the window
//!   its middle falls in, so each window is right to half a slot at either
//!   end (half a period, when the window holds at most 64 of them), and
//!   the period still open counts in the window;
//! - each period gives its [`PERIOD_KEYS`] top keys, and a slot keeps its
//!   [`SLOT_KEYS`] top keys once it holds twice as many. A key that is
//!   never among the top of a period in the window before counts as 0
//!   there, so the growth of a key that was already busy can be
//!   overstated; a key that drives an alert is at the top of most periods
//!   of the window, and is listed;
//! - client counts come from the period's Space-Saving table (see
//!   `drill`), so they may be overestimated once it overflowed.

use std::collections::HashMap;

use foldhash::fast::RandomState;

use crate::drill::shown;
use crate::stats::Stats;
use crate::text::truncate;

/// Most slots per window.
pub const SLOTS_PER_WINDOW: i64 = 64;
/// Keys kept per slot (up to twice as many between prunes).
pub const SLOT_KEYS: usize = 64;
/// Keys taken from each period: a key that drives an alert is among the
/// top few of most periods of the window.
pub const PERIOD_KEYS: usize = 16;
/// Longest name kept, in characters.
pub const MAX_NAME_CHARS: usize = 128;
/// Drivers listed per kind (sections, clients).
pub const DRIVERS: usize = 3;

/// What drove an alert.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Drivers {
    /// The sections whose hits grew most, most growth first.
    pub sections: Vec<Driver>,
    /// The clients whose hits grew most.
    pub clients: Vec<Driver>,
    /// Hits in the window, as the slots count them (the base of a
    /// driver's share).
    pub window_hits: u64,
}

impl Drivers {
    pub fn is_empty(&self) -> bool {
        self.sections.is_empty() && self.clients.is_empty()
    }
}

/// A section or client that drove an alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Driver {
    /// The section or client address (sanitized).
    pub name: String,
    /// Hits in the window.
    pub hits: u64,
    /// Hits in the window before it.
    pub previous_hits: u64,
}

impl Driver {
    /// Hits gained from the window before.
    pub fn growth(&self) -> u64 {
        self.hits.saturating_sub(self.previous_hits)
    }
}

/// A slot's hit counts by key, with each key's name: a short list, searched
/// in order (at most [`TALLY_MAX`] keys, so a scan is cheaper than a hash
/// table's room), that grows only as far as it needs to, and the names
/// end to end in one string (an address is ~15 bytes: one allocation each
/// would double it).
#[derive(Debug, Clone, Default)]
struct Tally {
    entries: Vec<Entry>,
    /// The entries' names, each at its entry's `name`.
    names: String,
}

/// Most keys a [`Tally`] holds: `2 * SLOT_KEYS` before a prune, plus the
/// keys of one period.
const TALLY_MAX: usize = 2 * SLOT_KEYS + PERIOD_KEYS;

#[derive(Debug, Clone)]
struct Entry {
    key: u64,
    hits: u64,
    /// Where the name is in [`Tally::names`]: from `name.0`, `name.1`
    /// bytes (at most `4 * MAX_NAME_CHARS`).
    name: (u32, u32),
}

impl Tally {
    fn len(&self) -> usize {
        self.entries.len()
    }

    /// Forget every key, keeping the room.
    fn clear(&mut self) {
        self.entries.clear();
        self.names.clear();
    }

    /// `(key, hits, name)` of each key, in the order they came.
    fn iter(&self) -> impl Iterator<Item = (u64, u64, &str)> + '_ {
        self.entries.iter().map(|e| {
            let (at, len) = (e.name.0 as usize, e.name.1 as usize);
            (
                e.key,
                e.hits,
                self.names.get(at..at + len).unwrap_or_default(),
            )
        })
    }

    /// Add `hits` to `key`, whose name is `name` (copied, cut to
    /// [`MAX_NAME_CHARS`], only when the key is new here).
    fn add(&mut self, key: u64, hits: u64, name: &str) {
        if let Some(e) = self.entries.iter_mut().find(|e| e.key == key) {
            e.hits += hits;
            return;
        }
        let entries = &mut self.entries;
        if entries.len() == entries.capacity() {
            // Double, as a Vec does, but never past what a tally holds.
            let want = (2 * entries.len()).clamp(4, TALLY_MAX.max(entries.len() + 1));
            entries.reserve_exact(want - entries.len());
        }
        let name = truncate(name, MAX_NAME_CHARS);
        // A name is at most 4 * MAX_NAME_CHARS bytes, and the names of at
        // most TALLY_MAX keys are kept: both fit in a u32.
        let at = self.names.len() as u32;
        self.names.push_str(&name);
        entries.push(Entry {
            key,
            hits,
            name: (at, name.len() as u32),
        });
    }

    /// Keep the `keep` keys with the most hits, once there are twice as
    /// many.
    fn prune(&mut self, keep: usize) {
        if self.len() <= 2 * keep {
            return;
        }
        let mut hits: Vec<u64> = self.entries.iter().map(|e| e.hits).collect();
        let (_, &mut cut, _) = hits.select_nth_unstable_by(keep - 1, |a, b| b.cmp(a));
        // Ties at the cut go too, unless that leaves too few.
        let above = self.entries.iter().filter(|e| e.hits > cut).count();
        let mut ties = keep.saturating_sub(above);
        let mut kept = Tally::default();
        kept.entries.reserve_exact(self.len());
        for (key, hits, name) in self.iter() {
            let keep_tie = hits == cut && ties > 0;
            ties -= usize::from(keep_tie);
            if hits > cut || keep_tie {
                kept.add(key, hits, name);
            }
        }
        kept.names.shrink_to_fit();
        *self = kept;
    }
}

/// Hits by key over several slots, with each key's name borrowed from
/// them: what [`History::drivers`] adds up.
#[derive(Debug, Default)]
struct Sum<'a> {
    hits: u64,
    sections: HashMap<u64, (u64, &'a str), RandomState>,
    clients: HashMap<u64, (u64, &'a str), RandomState>,
}

impl<'a> Sum<'a> {
    fn add(&mut self, slot: &'a Slot) {
        self.hits += slot.hits;
        for (tally, sum) in [
            (&slot.sections, &mut self.sections),
            (&slot.clients, &mut self.clients),
        ] {
            for (key, hits, name) in tally.iter() {
                sum.entry(key).or_insert((0, name)).0 += hits;
            }
        }
    }
}

/// The top sections and clients of a stretch of periods.
#[derive(Debug, Clone, Default)]
struct Slot {
    /// First second of the slot; `None` while empty.
    start: Option<i64>,
    hits: u64,
    sections: Tally,
    clients: Tally,
}

/// The recent periods' top sections and clients, for [`Drivers`].
#[derive(Debug, Clone)]
pub struct History {
    window_secs: i64,
    /// Seconds a slot covers: a whole number of periods.
    slot_secs: i64,
    /// A ring: the slot starting at `s` is `slots[s / slot_secs % len]`.
    slots: Vec<Slot>,
}

impl History {
    /// Room for two windows of `window_secs`, in slots of whole periods of
    /// `period_secs`.
    pub fn new(window_secs: u32, period_secs: u32) -> History {
        let (window, period) = (i64::from(window_secs.max(1)), i64::from(period_secs.max(1)));
        let periods = (window + period - 1) / period;
        let per_slot = (periods + SLOTS_PER_WINDOW - 1) / SLOTS_PER_WINDOW;
        let slot_secs = period * per_slot;
        // Two windows, and a slot each may straddle.
        let len = 2 * ((window + slot_secs - 1) / slot_secs) + 2;
        History {
            window_secs: window,
            slot_secs,
            slots: vec![Slot::default(); len as usize],
        }
    }

    /// Seconds a slot covers.
    pub fn slot_secs(&self) -> i64 {
        self.slot_secs
    }

    /// Relabel every slot by `by` seconds (the wall clock stepped; see
    /// `Monitor::clock_stepped`), so that the periods before the step stay
    /// the window and the window before it on the new clock. Slots stay
    /// whole: they move by the whole number of slots nearest to `by`, so
    /// each is right to half a slot more.
    pub fn shift(&mut self, by: i64) {
        let slots = (by + by.signum() * self.slot_secs / 2) / self.slot_secs;
        if slots == 0 {
            return;
        }
        let moved = slots.saturating_mul(self.slot_secs);
        for slot in &mut self.slots {
            slot.start = slot.start.map(|s| s.saturating_add(moved));
        }
        // A slot starting at `s` sits at `s / slot_secs % len`.
        let ring = self.slots.len() as i64;
        self.slots.rotate_right(slots.rem_euclid(ring) as usize);
    }

    /// Fold the period that started at `start` (aligned to the period)
    /// into its slot.
    pub fn add_period(&mut self, start: i64, stats: &Stats) {
        if stats.hits == 0 {
            return;
        }
        let slot_start = start - start.rem_euclid(self.slot_secs);
        let ring = self.slots.len() as i64;
        let i = (slot_start / self.slot_secs).rem_euclid(ring) as usize;
        let slot = &mut self.slots[i];
        if slot.start != Some(slot_start) {
            // A slot from two windows ago, or never used.
            slot.start = Some(slot_start);
            slot.hits = 0;
            slot.sections.clear();
            slot.clients.clear();
        }
        add(slot, stats);
        slot.sections.prune(SLOT_KEYS);
        slot.clients.prune(SLOT_KEYS);
    }

    /// What drove an alert that fired at second `at`: the window is the
    /// seconds `at - window + 1 ..= at`, and `open` the statistics of the
    /// period still open (not yet given to `add_period`).
    pub fn drivers(&self, at: i64, open: &Stats) -> Drivers {
        let first = at - self.window_secs + 1;
        let (mut window, mut before) = (Sum::default(), Sum::default());
        for slot in &self.slots {
            let Some(start) = slot.start else { continue };
            // A slot belongs to the window its middle falls in, so each
            // window is right to half a slot at either end.
            let middle = start + self.slot_secs / 2;
            let into = if start > at {
                continue;
            } else if middle >= first {
                &mut window
            } else if middle >= first - self.window_secs {
                &mut before
            } else {
                continue;
            };
            into.add(slot);
        }
        let mut open_slot = Slot::default();
        add(&mut open_slot, open);
        window.add(&open_slot);
        Drivers {
            sections: grown(&window.sections, &before.sections),
            clients: grown(&window.clients, &before.clients),
            window_hits: window.hits,
        }
    }
}

/// Add the [`PERIOD_KEYS`] top sections and clients of a period to `slot`
/// (a name is copied only for a key new to the slot).
fn add(slot: &mut Slot, stats: &Stats) {
    slot.hits += stats.hits;
    for (key, section, hits) in stats.top_sections(PERIOD_KEYS) {
        slot.sections.add(key, hits, section);
    }
    for c in stats.drill.clients().top(PERIOD_KEYS) {
        slot.clients.add(c.key, c.count, &shown(&c.text));
    }
}

/// The [`DRIVERS`] keys whose hits grew most from `before` to `window`, by
/// growth, then by hits, then by name.
fn grown(
    window: &HashMap<u64, (u64, &str), RandomState>,
    before: &HashMap<u64, (u64, &str), RandomState>,
) -> Vec<Driver> {
    let mut rows: Vec<Driver> = (window.iter())
        .map(|(key, &(hits, name))| Driver {
            name: name.to_owned(),
            hits,
            previous_hits: before.get(key).map_or(0, |v| v.0),
        })
        .filter(|d| d.growth() > 0)
        .collect();
    rows.sort_by(|a, b| {
        (b.growth().cmp(&a.growth()))
            .then(b.hits.cmp(&a.hits))
            .then_with(|| a.name.cmp(&b.name))
    });
    rows.truncate(DRIVERS);
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::{Hit, HitKeys};
    use crate::parse::Method;
    use std::hash::BuildHasher;

    /// A period's statistics: `n` hits on each `(section, client, n)`.
    fn period(rows: &[(&str, &str, u64)]) -> Stats {
        let mut stats = Stats::default();
        for &(section, client, n) in rows {
            let hash = foldhash::fast::FixedState::with_seed(1).hash_one(client);
            let hit = Hit {
                time: 0,
                bytes: 0,
                client: hash,
                section: None,
                status: 200,
                method: Method::Get,
                request_us: None,
            };
            let keys = HitKeys {
                client: Some(client.as_bytes()),
                ..HitKeys::default()
            };
            for _ in 0..n {
                stats.add(&hit, Some(section));
                stats.add_keys(&hit, &keys);
            }
        }
        stats
    }

    fn names(d: &[Driver]) -> Vec<(&str, u64, u64)> {
        d.iter()
            .map(|d| (d.name.as_str(), d.hits, d.previous_hits))
            .collect()
    }

    #[test]
    fn slots_cover_whole_periods_and_at_most_64_a_window() {
        let h = History::new(120, 10);
        assert_eq!((h.slot_secs(), h.slots.len()), (10, 2 * 12 + 2));
        let h = History::new(86_400, 1);
        assert_eq!(h.slot_secs(), 1350);
        assert_eq!(h.slots.len(), 2 * 64 + 2);
        let h = History::new(100, 7);
        // 15 periods of 7 s: one a slot.
        assert_eq!(h.slot_secs(), 7);
        let h = History::new(10, 60);
        assert_eq!((h.slot_secs(), h.slots.len()), (60, 4));
    }

    #[test]
    fn drivers_are_the_keys_that_grew_most_from_the_window_before() {
        // Window 60 s, periods of 10 s. Seconds 0..60: steady traffic;
        // 60..120: /api and one client flood; the alert fires at 119.
        let mut h = History::new(60, 10);
        for start in (0..60).step_by(10) {
            let p = period(&[("/home", "10.0.0.1", 20), ("/api", "10.0.0.2", 5)]);
            h.add_period(start, &p);
        }
        for start in (60..110).step_by(10) {
            let p = period(&[
                ("/home", "10.0.0.1", 20),
                ("/api", "10.0.0.2", 5),
                ("/api", "203.0.113.7", 100),
            ]);
            h.add_period(start, &p);
        }
        // The last period is still open at 119.
        let open = period(&[("/home", "10.0.0.1", 20), ("/api", "203.0.113.7", 100)]);
        let d = h.drivers(119, &open);
        assert_eq!(names(&d.sections), [("/api", 625, 30)]);
        assert_eq!(names(&d.clients), [("203.0.113.7", 600, 0)]);
        assert_eq!(d.window_hits, 5 * 125 + 120);
        assert!(!d.is_empty());
    }

    #[test]
    fn a_clock_step_moves_the_history_with_the_window() {
        // Window 60 s in periods of 10 s: steady traffic, then a flood
        // from 203.0.113.7 until 110; then `date -s` steps the clock by
        // `by` and the alert fires on the new clock, 9 s later.
        let flood = || period(&[("/home", "10.0.0.1", 20), ("/api", "203.0.113.7", 100)]);
        let mut before = History::new(60, 10);
        for start in (0..60).step_by(10) {
            before.add_period(start, &period(&[("/home", "10.0.0.1", 20)]));
        }
        for start in (60..110).step_by(10) {
            before.add_period(start, &flood());
        }
        let want = before.drivers(119, &flood());
        assert_eq!(names(&want.clients), [("203.0.113.7", 600, 0)]);
        // Whole slots, a part of one, back and forth, more than a ring.
        for by in [-3600, 3600, -60, 40, 23, -27, 4, 86_400 * 7] {
            let mut h = before.clone();
            h.shift(by);
            let got = h.drivers(119 + by, &flood());
            // (23 s moves the slots by 20 s: within half a slot.)
            assert_eq!(got, want, "step {by}");
            // Later periods land in their own slots, after the moved ones.
            h.add_period(110 + by, &flood());
            let later = h.drivers(129 + by, &flood());
            assert_eq!(names(&later.clients)[0].0, "203.0.113.7", "step {by}");
            assert_eq!(later.window_hits, 6 * 120, "step {by}");
        }
    }

    #[test]
    fn nothing_grew_means_no_drivers() {
        let mut h = History::new(20, 10);
        for start in [0, 10, 20] {
            h.add_period(start, &period(&[("/a", "10.0.0.1", 10)]));
        }
        let d = h.drivers(39, &period(&[("/a", "10.0.0.1", 10)]));
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(d.window_hits, 20);
    }

    #[test]
    fn slots_older_than_two_windows_are_reused_and_not_counted() {
        let mut h = History::new(20, 10);
        h.add_period(0, &period(&[("/old", "10.0.0.9", 1000)]));
        // Much later: the old slot is two windows and more behind.
        h.add_period(1000, &period(&[("/new", "10.0.0.1", 10)]));
        let d = h.drivers(1019, &Stats::default());
        assert_eq!(names(&d.sections), [("/new", 10, 0)]);
        // The ring reuses the old slot for a new start, from zero.
        let ring = h.slots.len() as i64;
        h.add_period(ring * 10, &period(&[("/again", "10.0.0.1", 1)]));
        let d = h.drivers(ring * 10 + 9, &Stats::default());
        assert_eq!(names(&d.sections), [("/again", 1, 0)]);
    }

    #[test]
    fn a_day_long_window_in_one_second_periods_stays_small() {
        // 86,400 periods a window: 1,350 a slot, each with many keys.
        let mut h = History::new(86_400, 1);
        for start in (0..2 * 86_400).step_by(97) {
            let rows: Vec<(String, String, u64)> = (0..100)
                .map(|i| {
                    (
                        format!("/s{}", start + i),
                        format!("10.{}.0.{i}", start % 250),
                        1,
                    )
                })
                .collect();
            let rows: Vec<(&str, &str, u64)> = rows
                .iter()
                .map(|(s, c, n)| (s.as_str(), c.as_str(), *n))
                .collect();
            h.add_period(start, &period(&rows));
        }
        for slot in &h.slots {
            for tally in [&slot.sections, &slot.clients] {
                assert!(tally.len() <= 2 * SLOT_KEYS);
                assert!(
                    tally.entries.capacity() <= TALLY_MAX,
                    "sized to what it holds"
                );
            }
        }
        let d = h.drivers(2 * 86_400 - 1, &Stats::default());
        assert!(d.sections.len() <= DRIVERS && d.clients.len() <= DRIVERS);
    }

    #[test]
    fn pruning_keeps_the_most_hit_keys() {
        let mut t = Tally::default();
        for i in 0..200u64 {
            t.add(i, i, &format!("k{i}"));
        }
        t.prune(64);
        assert_eq!(t.len(), 64);
        assert!(t.iter().all(|(_, hits, _)| hits >= 136));
        // The names follow their keys.
        assert!(t.iter().all(|(key, _, name)| name == format!("k{key}")));
        let mut ties = Tally::default();
        for i in 0..200u64 {
            ties.add(i, 5, "same");
        }
        ties.prune(64);
        assert_eq!(ties.len(), 64, "ties at the cut keep exactly enough");
    }
}
