//! Notices on stderr: the one way logmon writes there.
//!
//! [`say`] writes one message and ignores a write error. stderr is for
//! people: a full disk, a closed descriptor or a pipe whose reader has gone
//! must not end the run, let alone panic (as `eprintln!` does). stdout
//! errors keep their meaning (see `app`): a closed pipe ends the run
//! quietly, any other error is an error. `print!` and its kin are refused
//! by the lints (`clippy.toml`), so nothing bypasses this.
//!
//! [`Limiter`] keeps a notice that repeats (a format switch on every other
//! line, a file truncated in a loop) to one line a second, then one line
//! saying how many were held back. It is pure: the caller passes the time
//! (a monotonic `Instant`), so it is tested without sleeping. [`Notices`]
//! puts the two together for the main loop.

use std::io::{self, Write};
use std::time::{Duration, Instant};

/// A notice is shown at most once per this interval.
pub const INTERVAL: Duration = Duration::from_secs(1);

/// Distinct notices tracked at once; beyond, they share one slot (a run
/// has a handful: this only bounds memory against a flood of unique ones).
const MAX_SLOTS: usize = 64;

/// The key of the shared slot, for notices beyond `MAX_SLOTS`.
const OTHERS: &str = "other notices";

/// Write `text` and a newline to stderr in one write, ignoring errors.
pub fn say(text: &str) {
    let mut line = String::with_capacity(text.len() + 1);
    line.push_str(text);
    line.push('\n');
    // Nothing useful can be done when stderr fails: there is nowhere left
    // to say so.
    let _ = io::stderr().lock().write_all(line.as_bytes());
}

/// What to do with a notice offered to the [`Limiter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Show it.
    Show,
    /// Hold it back: it was shown less than [`INTERVAL`] ago. It is
    /// counted, and the count is told by [`Limiter::due`].
    Hold,
}

/// A count of notices held back, to be told in one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    /// The first line of the last notice shown with this key.
    pub text: String,
    /// How many were held back since.
    pub count: u64,
}

impl Held {
    /// The line that tells it: `logmon: {text} (N more times)`,
    /// with the count on a line of its own when that would pass 80 columns
    /// (the text may be long: it quotes a path).
    pub fn line(&self) -> String {
        let s = if self.count == 1 { "" } else { "s" };
        let count = format!("{} more time{s}", self.count);
        let one = format!("logmon: {} ({count})", self.text);
        match one.chars().count() <= crate::render::WIDTH {
            true => one,
            false => format!(
                "logmon: {}
  {count}",
                self.text
            ),
        }
    }
}

#[derive(Debug)]
struct Slot {
    key: String,
    /// First line of the last notice shown.
    text: String,
    /// When a line was last written for this key (a notice or a count).
    shown: Instant,
    held: u64,
}

/// Rate limit for repeated notices: each key at most once per
/// [`INTERVAL`]. Time is an argument; nothing here reads a clock.
///
/// Invariant: every notice offered is either shown or counted in exactly
/// one [`Held`] returned by `due` or `drain`.
#[derive(Debug, Default)]
pub struct Limiter {
    slots: Vec<Slot>,
}

impl Limiter {
    pub fn new() -> Limiter {
        Limiter::default()
    }

    /// A notice with `key` (notices with the same key are repeats) and
    /// `text` is to be written at `now`: show it, or hold it back.
    ///
    /// It is shown when its key has been quiet for [`INTERVAL`] and holds
    /// no count; a count still held is told first (by `due`, which the
    /// caller runs on every wake), and this notice joins it meanwhile.
    pub fn offer(&mut self, key: &str, text: &str, now: Instant) -> Verdict {
        let first_line = text.lines().next().unwrap_or_default();
        let index = match self.slots.iter().position(|s| s.key == key) {
            Some(i) => i,
            None if self.slots.len() < MAX_SLOTS => {
                self.slots.push(Slot {
                    key: key.to_owned(),
                    text: first_line.to_owned(),
                    shown: now,
                    held: 0,
                });
                return Verdict::Show;
            }
            None => match self.slots.iter().position(|s| s.key == OTHERS) {
                Some(i) => i,
                None => {
                    // Replace the least recently shown slot that holds
                    // nothing back: it is as good as absent.
                    let free = self
                        .slots
                        .iter()
                        .enumerate()
                        .filter(|(_, s)| s.held == 0)
                        .min_by_key(|(_, s)| s.shown)
                        .map(|(i, _)| i);
                    match free {
                        Some(i) => {
                            self.slots[i] = Slot {
                                key: key.to_owned(),
                                text: first_line.to_owned(),
                                shown: now,
                                held: 0,
                            };
                            return Verdict::Show;
                        }
                        None => {
                            // Every slot is holding a count: this one is
                            // held back too, under a shared key.
                            let last = self.slots.len() - 1;
                            self.slots[last].key = OTHERS.to_owned();
                            self.slots[last].text = OTHERS.to_owned();
                            last
                        }
                    }
                }
            },
        };
        let slot = &mut self.slots[index];
        if slot.held == 0 && now.saturating_duration_since(slot.shown) >= INTERVAL {
            slot.shown = now;
            if slot.key != OTHERS {
                slot.text = first_line.to_owned();
            }
            Verdict::Show
        } else {
            slot.held += 1;
            Verdict::Hold
        }
    }

    /// The counts held back for [`INTERVAL`] or more at `now`, each told
    /// once: a count is a line too, so its key's next line waits another
    /// interval. Slots with nothing held are forgotten once their interval
    /// is over.
    pub fn due(&mut self, now: Instant) -> Vec<Held> {
        let mut due = Vec::new();
        self.slots.retain_mut(|slot| {
            if now.saturating_duration_since(slot.shown) < INTERVAL {
                return true;
            }
            if slot.held == 0 {
                return false;
            }
            due.push(Held {
                text: slot.text.clone(),
                count: std::mem::take(&mut slot.held),
            });
            slot.shown = now;
            true
        });
        due
    }

    /// At the end of the run: every count still held, whatever the time.
    pub fn drain(&mut self) -> Vec<Held> {
        self.slots
            .drain(..)
            .filter(|s| s.held > 0)
            .map(|s| Held {
                text: s.text,
                count: s.held,
            })
            .collect()
    }
}

/// The main loop's repeated notices: rate-limited, on the monotonic clock.
#[derive(Debug, Default)]
pub struct Notices {
    limiter: Limiter,
}

impl Notices {
    pub fn new() -> Notices {
        Notices::default()
    }

    /// Say `logmon: {text}` unless a notice with `key` was said less than
    /// a second ago.
    pub fn repeat(&mut self, key: &str, text: &str) {
        self.tick();
        if self.limiter.offer(key, text, Instant::now()) == Verdict::Show {
            say(&format!("logmon: {text}"));
        }
    }

    /// Tell the counts held back for a second or more.
    pub fn tick(&mut self) {
        for held in self.limiter.due(Instant::now()) {
            say(&held.line());
        }
    }

    /// Tell every count still held back.
    pub fn finish(&mut self) {
        for held in self.limiter.drain() {
            say(&held.line());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(t0: Instant, ms: u64) -> Instant {
        t0 + Duration::from_millis(ms)
    }

    #[test]
    fn a_notice_repeated_within_a_second_is_held_and_counted_once_the_second_is_over() {
        let t0 = Instant::now();
        let mut l = Limiter::new();
        assert_eq!(l.offer("flip", "switched", t0), Verdict::Show);
        for i in 1..=999 {
            assert_eq!(l.offer("flip", "switched", ms(t0, i)), Verdict::Hold);
        }
        assert!(l.due(ms(t0, 999)).is_empty(), "not a second yet");
        let due = l.due(ms(t0, 1000));
        assert_eq!(
            due,
            [Held {
                text: "switched".into(),
                count: 999
            }]
        );
        assert_eq!(due[0].line(), "logmon: switched (999 more times)");
        assert!(l.due(ms(t0, 5000)).is_empty(), "told once");
    }

    #[test]
    fn a_flood_gives_one_line_a_second() {
        // 50,000 flips between two notices over 10 s, as many wakes.
        let t0 = Instant::now();
        let mut l = Limiter::new();
        let mut lines = 0;
        let mut counted = 0;
        for i in 0..50_000u64 {
            let now = ms(t0, i / 5);
            let key = if i % 2 == 0 { "to w3c" } else { "to clf" };
            if l.offer(key, key, now) == Verdict::Show {
                lines += 1;
                counted += 1;
            }
            for held in l.due(now) {
                lines += 1;
                counted += held.count;
            }
        }
        for held in l.drain() {
            lines += 1;
            counted += held.count;
        }
        assert_eq!(counted, 50_000, "every notice shown or counted");
        // Two keys, a line each per second of the 10 s, and the last counts.
        assert!(lines <= 2 * 11 + 2, "{lines} lines");
    }

    #[test]
    fn distinct_notices_are_limited_apart() {
        let t0 = Instant::now();
        let mut l = Limiter::new();
        assert_eq!(l.offer("a", "a", t0), Verdict::Show);
        assert_eq!(l.offer("b", "b", t0), Verdict::Show);
        assert_eq!(l.offer("a", "a", ms(t0, 10)), Verdict::Hold);
    }

    #[test]
    fn a_notice_after_a_quiet_second_is_shown_again() {
        let t0 = Instant::now();
        let mut l = Limiter::new();
        assert_eq!(l.offer("k", "truncated", t0), Verdict::Show);
        assert!(l.due(ms(t0, 1500)).is_empty(), "nothing held: forgotten");
        assert_eq!(l.offer("k", "truncated", ms(t0, 1500)), Verdict::Show);
        assert_eq!(l.offer("k", "truncated", ms(t0, 2600)), Verdict::Show);
    }

    #[test]
    fn a_held_count_is_told_before_the_next_notice_of_its_key() {
        let t0 = Instant::now();
        let mut l = Limiter::new();
        l.offer("k", "x", t0);
        l.offer("k", "x", ms(t0, 100));
        // No wake told the count: the next notice waits for it.
        assert_eq!(l.offer("k", "x", ms(t0, 1200)), Verdict::Hold);
        assert_eq!(l.due(ms(t0, 1200))[0].count, 2);
        assert_eq!(l.offer("k", "x", ms(t0, 1300)), Verdict::Hold);
        assert_eq!(l.drain()[0].count, 1);
    }

    #[test]
    fn only_the_first_line_of_a_notice_is_repeated_in_its_count() {
        let t0 = Instant::now();
        let mut l = Limiter::new();
        l.offer("k", "none parse\n  see --log-format", t0);
        l.offer("k", "none parse\n  see --log-format", t0);
        assert_eq!(l.drain()[0].line(), "logmon: none parse (1 more time)");
        let long = Held {
            text: format!("/var/log/{}/access.log: file truncated", "x".repeat(40)),
            count: 7,
        };
        assert!(long.line().ends_with(": file truncated\n  7 more times"));
    }

    #[test]
    fn unique_notices_beyond_the_slots_share_one_count() {
        let t0 = Instant::now();
        let mut l = Limiter::new();
        let mut shown = 0;
        for i in 0..1000 {
            let key = i.to_string();
            // Each key twice: the second is held, so no slot is free.
            for _ in 0..2 {
                if l.offer(&key, &key, t0) == Verdict::Show {
                    shown += 1;
                }
            }
        }
        assert_eq!(shown, MAX_SLOTS);
        assert!(l.slots.len() <= MAX_SLOTS);
        let held: u64 = l.drain().iter().map(|h| h.count).sum();
        assert_eq!(shown as u64 + held, 2000);
    }
}
