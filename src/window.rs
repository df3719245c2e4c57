//! The alert window and the alert state machine.
//!
//! Pure: nothing here reads a clock, a file or stdout. Time is `i64` unix
//! seconds passed in by the caller. Hits are bucketed by their own log
//! timestamp; the caller's clock is the wall clock when following and the
//! log's own clock in `--replay` (see `monitor`).
//!
//! `Window` is a ring buffer of per-second counts. It always describes the
//! seconds `now - span + 1 ..= now`, and keeps their sum, so the total costs
//! nothing to read and advancing costs one step per second (at most `span`
//! steps, however far the clock jumps).
//!
//! It also keeps the sums of the report's sparkline bars ([`bar_secs`]
//! seconds each, ending at the newest second), up to date as hits come and
//! seconds pass: a report reads ~24 sums instead of summing (or copying)
//! every second of a window that may be a day long. A hit adds to one bar;
//! a step moves each bar's edge by a second, ~24 additions whatever the
//! span.

/// Most bars in a report's sparkline.
pub const MAX_BARS: usize = 24;

/// Seconds per sparkline bar for a window of `span` seconds: the smallest
/// round size that needs at most [`MAX_BARS`] bars.
pub fn bar_secs(span: u32) -> u32 {
    const ROUND: [u32; 12] = [1, 2, 3, 5, 10, 15, 20, 30, 60, 120, 300, 600];
    let span = span.max(1);
    ROUND
        .into_iter()
        .find(|&b| span.div_ceil(b) as usize <= MAX_BARS)
        .unwrap_or_else(|| span.div_ceil(MAX_BARS as u32))
}

/// Per-second hit counts for the last `span` seconds.
#[derive(Debug, Clone)]
pub struct Window {
    /// `counts[s % span]` is the count of second `s`, for `s` in the window:
    /// 4 bytes a second (a day-long window is 338 KiB), as no second holds
    /// 4 billion hits.
    counts: Vec<u32>,
    /// The newest second in the window.
    now: i64,
    /// Its slot in `counts`, `now % span`: most hits are in the newest
    /// second, which then needs no division.
    now_slot: usize,
    /// Sum of `counts`.
    total: u64,
    /// Seconds per bar.
    bar: usize,
    /// Hits per bar, newest first: `bars[k]` is the sum of the seconds
    /// `now - (k + 1) * bar + 1 ..= now - k * bar` that are in the window
    /// (the last, oldest bar may be shorter). They sum to `total`.
    bars: Vec<u64>,
}

impl Window {
    /// An empty window of `span_secs` seconds (at least 1) ending at `now`.
    pub fn new(span_secs: u32, now: i64) -> Window {
        let span = span_secs.max(1);
        let bar = bar_secs(span);
        Window {
            counts: vec![0; span as usize],
            now,
            now_slot: now.rem_euclid(i64::from(span)) as usize,
            total: 0,
            bar: bar as usize,
            bars: vec![0; span.div_ceil(bar) as usize],
        }
    }

    /// Window length in seconds.
    pub fn span(&self) -> i64 {
        self.counts.len() as i64
    }

    /// The newest second in the window.
    pub fn now(&self) -> i64 {
        self.now
    }

    /// Hits in the seconds `now - span + 1 ..= now`.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// True when `at` falls inside the window.
    pub fn contains(&self, at: i64) -> bool {
        at <= self.now && at > self.now.saturating_sub(self.span())
    }

    /// Count `n` hits at second `at`. Returns false (and counts nothing) when
    /// `at` is outside the window: older seconds have left it, and the caller
    /// must `advance` before counting a newer second.
    #[inline]
    pub fn hit(&mut self, at: i64, n: u64) -> bool {
        let (slot, k) = if at == self.now {
            (self.now_slot, 0)
        } else if self.contains(at) {
            // In the window, so `now - at < span <= bars * bar`.
            (self.slot(at), (self.now - at) as usize / self.bar)
        } else {
            return false;
        };
        let count = &mut self.counts[slot];
        let was = *count;
        *count = was.saturating_add(u32::try_from(n).unwrap_or(u32::MAX));
        // What the second took, so that the sums stay the sums of `counts`.
        let n = u64::from(*count - was);
        self.total = self.total.saturating_add(n);
        self.bars[k] = self.bars[k].saturating_add(n);
        true
    }

    /// Move the newest second forward to `to`, dropping the seconds that
    /// leave the window. Moving backward is ignored.
    pub fn advance(&mut self, to: i64) {
        if to <= self.now {
            return;
        }
        if to.saturating_sub(self.now) >= self.span() {
            self.counts.fill(0);
            self.bars.fill(0);
            self.total = 0;
            self.now = to;
            self.now_slot = self.slot(to);
            return;
        }
        let span = self.counts.len();
        let last = self.bars.len() - 1;
        let bar = self.bar;
        let mut slot = self.now_slot;
        for _ in self.now + 1..=to {
            slot = if slot + 1 == span { 0 } else { slot + 1 };
            // The second at each bar's older edge, `s - j * bar`, passes
            // from bar j - 1 to bar j (`j * bar < span`: another slot):
            // bar j gains the edge second of j and loses that of j + 1,
            // the edges a bar apart, from the newest back.
            let (mut edge, mut gained) = (slot, 0);
            for sum in &mut self.bars[..last] {
                edge = if edge >= bar {
                    edge - bar
                } else {
                    edge + span - bar
                };
                let lost = u64::from(self.counts[edge]);
                // The bar holds its edge second: no underflow.
                *sum = *sum + gained - lost;
                gained = lost;
            }
            self.bars[last] += gained;
            // `s - span`, in the slot `s` takes over, leaves the window.
            let gone = u64::from(std::mem::take(&mut self.counts[slot]));
            self.bars[last] -= gone;
            self.total -= gone;
        }
        self.now = to;
        self.now_slot = slot;
    }

    /// Relabel every second by `by` seconds (the wall clock stepped): the
    /// window then ends at `now + by` and holds the same counts, each at
    /// its second moved by `by` (the bars, counted from `now`, stay).
    pub fn shift(&mut self, by: i64) {
        let span = self.span();
        self.counts.rotate_right(by.rem_euclid(span) as usize);
        self.now = self.now.saturating_add(by);
        self.now_slot = self.slot(self.now);
    }

    /// Counts per second, oldest first, for the whole window (`span`
    /// of them); `.rev()` gives the newest first.
    pub fn per_second(&self) -> impl DoubleEndedIterator<Item = u64> + ExactSizeIterator + '_ {
        let span = self.counts.len();
        let oldest = self.slot(self.now - self.span() + 1);
        (0..span).map(move |k| {
            // No division per second: the ring wraps at most once.
            let i = oldest + k;
            u64::from(self.counts[if i >= span { i - span } else { i }])
        })
    }

    /// Seconds per sparkline bar ([`bar_secs`] of the span).
    pub fn bar_secs(&self) -> u32 {
        self.bar as u32
    }

    /// Hits per sparkline bar, oldest first: bars of `bar_secs` seconds
    /// ending at `now`; the oldest covers what is left of the span, and
    /// may be shorter. They sum to `total`.
    pub fn bars(&self) -> impl ExactSizeIterator<Item = u64> + '_ {
        self.bars.iter().rev().copied()
    }

    /// The bars a window holding `per_second` (oldest first, one count per
    /// second of its span) would have: for tests that build a report.
    #[cfg(test)]
    pub(crate) fn bars_of(per_second: &[u64]) -> (u32, Vec<u64>) {
        let bar = bar_secs(per_second.len() as u32);
        let mut bars: Vec<u64> = per_second
            .rchunks(bar as usize)
            .map(|c| c.iter().sum())
            .collect();
        bars.reverse();
        (bar, bars)
    }

    fn slot(&self, at: i64) -> usize {
        at.rem_euclid(self.span()) as usize
    }
}

/// A change of alert state, returned only when the state changes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Transition {
    /// The average went strictly above the threshold at second `at`.
    Triggered { hits: u64, at: i64 },
    /// The average went strictly below the threshold at second `at`.
    Recovered { hits: u64, at: i64 },
}

/// The alert state machine: quiet, or firing since a second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Alert {
    /// Alert when the average over the window exceeds this, in requests per second.
    threshold: f64,
    firing_since: Option<i64>,
}

impl Alert {
    pub fn new(threshold: f64) -> Alert {
        Alert {
            threshold,
            firing_since: None,
        }
    }

    /// Relabel the second the active alert fired at by `by` seconds (the
    /// wall clock stepped).
    pub fn shift(&mut self, by: i64) {
        if let Some(since) = &mut self.firing_since {
            *since = since.saturating_add(by);
        }
    }

    /// The second the current alert fired at, if one is active.
    pub fn firing_since(&self) -> Option<i64> {
        self.firing_since
    }

    /// Evaluate the completed second `at`, whose window (`span` seconds
    /// ending at `at`) holds `hits`.
    ///
    /// "Exceeds" is strict: an average of exactly the threshold neither
    /// fires nor recovers, so the alert does not flap on a flat line. The
    /// comparison is on totals (`hits` against `threshold * span`), the
    /// same as comparing averages, without dividing.
    pub fn check(&mut self, hits: u64, span: i64, at: i64) -> Option<Transition> {
        let limit = self.threshold * span as f64;
        let hits_f = hits as f64;
        match self.firing_since {
            None if hits_f > limit => {
                self.firing_since = Some(at);
                Some(Transition::Triggered { hits, at })
            }
            Some(_) if hits_f < limit => {
                self.firing_since = None;
                Some(Transition::Recovered { hits, at })
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feed `rates[i]` hits at second `i` and evaluate every second, as the
    /// monitor does; return the transitions.
    fn run(rates: &[u64], span: u32, threshold: f64) -> Vec<Transition> {
        let mut window = Window::new(span, 0);
        let mut alert = Alert::new(threshold);
        let mut out = Vec::new();
        for (s, &n) in rates.iter().enumerate() {
            let s = s as i64;
            window.advance(s);
            assert!(window.hit(s, n));
            out.extend(alert.check(window.total(), window.span(), s));
        }
        out
    }

    #[test]
    fn total_counts_only_the_last_span_seconds() {
        let mut w = Window::new(3, 10);
        w.hit(10, 1);
        w.advance(11);
        w.hit(11, 2);
        w.advance(12);
        w.hit(12, 4);
        assert_eq!(w.total(), 7);
        w.advance(13);
        assert_eq!(w.total(), 6, "second 10 left the window");
        assert_eq!(w.per_second().collect::<Vec<_>>(), [2, 4, 0]);
    }

    #[test]
    fn ring_wraps_around_many_times() {
        let mut w = Window::new(5, 0);
        for s in 0..1000 {
            w.advance(s);
            w.hit(s, (s % 7) as u64);
        }
        let expected: u64 = (995..1000).map(|s| (s % 7) as u64).sum();
        assert_eq!(w.total(), expected);
    }

    #[test]
    fn ignores_slots_older_than_window() {
        let mut w = Window::new(120, 500);
        assert!(!w.hit(380, 1), "second 380 is 120 s before 500");
        assert!(w.hit(381, 1));
        assert!(!w.hit(501, 1), "the future is not in the window yet");
        assert_eq!(w.total(), 1);
    }

    #[test]
    fn a_full_second_saturates_and_the_sums_stay_its_sums() {
        let mut w = Window::new(4, 10);
        assert!(w.hit(10, u64::MAX));
        assert!(w.hit(10, 5));
        assert!(w.hit(9, 2));
        let full = u64::from(u32::MAX);
        assert_eq!(w.total(), full + 2);
        assert_eq!(w.per_second().collect::<Vec<_>>(), [0, 0, 2, full]);
        assert_eq!(w.bars().sum::<u64>(), w.total());
        w.advance(13);
        assert_eq!(w.total(), full, "9 left");
        w.advance(14);
        assert_eq!(w.total(), 0, "both seconds left, nothing left over");
        assert_eq!(w.bars().sum::<u64>(), 0);
    }

    #[test]
    fn a_late_hit_counts_at_its_own_second() {
        let mut w = Window::new(4, 10);
        w.hit(9, 1);
        w.advance(12);
        assert_eq!(w.total(), 1);
        w.advance(13);
        assert_eq!(w.total(), 0, "second 9 left when 13 arrived");
    }

    #[test]
    fn a_jump_longer_than_the_span_empties_the_window() {
        let mut w = Window::new(120, 0);
        w.hit(0, 50);
        w.advance(1_000_000_000);
        assert_eq!(w.total(), 0);
        assert!(w.per_second().all(|n| n == 0));
    }

    #[test]
    fn a_shift_relabels_the_seconds_and_keeps_their_counts() {
        for by in [-1000, -60, -3, 0, 2, 5, 600] {
            let mut w = Window::new(4, 10);
            for (s, n) in [(7, 1), (8, 2), (9, 3), (10, 4)] {
                w.hit(s, n);
            }
            w.shift(by);
            assert_eq!(w.now(), 10 + by);
            assert_eq!(w.total(), 10);
            assert_eq!(w.per_second().collect::<Vec<_>>(), [1, 2, 3, 4], "{by}");
            assert!(w.hit(9 + by, 10), "second 9 is now {}", 9 + by);
            w.advance(12 + by);
            assert_eq!(w.per_second().collect::<Vec<_>>(), [13, 4, 0, 0], "{by}");
            assert!(w.hit(12 + by, 5), "the newest second, after a shift");
            assert_eq!(w.per_second().collect::<Vec<_>>(), [13, 4, 0, 5], "{by}");
        }
    }

    #[test]
    fn bars_are_round_and_at_most_24() {
        let got: Vec<_> = [1, 24, 25, 60, 120, 300, 3600, 14_400, 86_400]
            .map(bar_secs)
            .into();
        assert_eq!(got, [1, 1, 2, 3, 5, 15, 300, 600, 3600]);
        for span in 1..=3000u32 {
            assert!(span.div_ceil(bar_secs(span)) as usize <= MAX_BARS, "{span}");
        }
    }

    #[test]
    fn the_bars_sum_the_seconds_they_cover_as_hits_come_and_seconds_pass() {
        // A xorshift stream: late hits, steps and jumps of every size.
        let mut xorshift = crate::parse::garbage::xorshift(0x9e37_79b9_7f4a_7c15);
        let mut next = move |n: u64| xorshift() % n;
        for span in [1, 5, 7, 24, 25, 61, 120, 700, 3601] {
            let mut w = Window::new(span, 1000);
            for _ in 0..3000 {
                match next(10) {
                    0..=5 => {
                        let at = w.now() - next(u64::from(span) + 2) as i64;
                        w.hit(at, next(5));
                    }
                    6..=8 => w.advance(w.now() + next(3) as i64),
                    _ => w.advance(w.now() + next(u64::from(span) * 2) as i64),
                }
                let per_second: Vec<u64> = w.per_second().collect();
                let (bar, want) = Window::bars_of(&per_second);
                assert_eq!(w.bar_secs(), bar);
                assert_eq!(w.bars().collect::<Vec<_>>(), want, "span {span}");
            }
        }
    }

    #[test]
    fn fires_once_when_average_exceeds_threshold() {
        // threshold 1 req/s over 10 s: fires when the window holds 11 hits.
        let t = run(&[2; 30], 10, 1.0);
        assert_eq!(t, [Transition::Triggered { hits: 12, at: 5 }]);
    }

    #[test]
    fn does_not_fire_at_exactly_threshold() {
        let t = run(&[1; 100], 10, 1.0);
        assert!(t.is_empty(), "{t:?}");
    }

    #[test]
    fn recovers_after_traffic_drops() {
        let mut rates = vec![3; 20];
        rates.extend([0; 20]);
        let t = run(&rates, 10, 1.0);
        // window at second 19 holds 30 hits; it drops below 10 when only
        // three busy seconds remain (9 hits): second 26.
        assert_eq!(
            t,
            [
                Transition::Triggered { hits: 12, at: 3 },
                Transition::Recovered { hits: 9, at: 26 }
            ]
        );
    }

    #[test]
    fn stays_firing_at_exactly_threshold() {
        let mut rates = vec![2; 10];
        rates.extend([1; 30]);
        let t = run(&rates, 10, 1.0);
        assert_eq!(t, [Transition::Triggered { hits: 12, at: 5 }]);
    }

    #[test]
    fn a_second_episode_fires_again() {
        let mut rates = vec![3; 10];
        rates.extend([0; 20]);
        rates.extend([3; 10]);
        let t = run(&rates, 10, 1.0);
        assert_eq!(t.len(), 3, "{t:?}");
        assert!(matches!(t[2], Transition::Triggered { at: 33, .. }));
    }

    #[test]
    fn fractional_threshold_is_compared_exactly() {
        // 0.5 req/s over 4 s: limit 2 hits; 3 fires.
        let t = run(&[1, 1, 1, 0, 0, 0, 0], 4, 0.5);
        assert_eq!(
            t,
            [
                Transition::Triggered { hits: 3, at: 2 },
                Transition::Recovered { hits: 1, at: 5 }
            ]
        );
    }

    #[test]
    fn issue_example_fires_at_second_80_and_recovers_at_346() {
        let mut rates = vec![15; 300];
        rates.extend([2; 300]);
        let t = run(&rates, 120, 10.0);
        assert_eq!(
            t,
            [
                Transition::Triggered { hits: 1215, at: 80 },
                Transition::Recovered {
                    hits: 1189,
                    at: 346
                }
            ]
        );
    }
}
