//! The wall clock, and its steps seen against the monotonic clock.
//!
//! Following a log, the reports and the window run on the wall clock, as
//! the log's timestamps do. The wall clock can step (an administrator or
//! NTP setting it, a virtual machine resumed): backward, the loop would
//! wait for the clock to catch up, silent meanwhile; forward, it would
//! close every second skipped, a burst of empty reports. [`Steps`] compares
//! the wall time that passed between two wakes with the monotonic time
//! (`Instant`), which never steps: a difference of more than [`LIMIT`] is a
//! step, and the loop re-anchors the monitor on the new time (see
//! `Monitor::clock_stepped`).
//!
//! `Steps` is pure: both readings are arguments, so it is tested on an
//! injected clock. [`wall_ms`], [`unix_now`] and [`until_next_second`] read
//! the wall clock for the loop.
//!
//! NOTE: on Linux the monotonic clock stops while the machine is
//! suspended, so a resume reads as a forward step: the run goes on from
//! the new time, as it should, rather than closing every second slept.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A wall clock that moved this much more (or less) than the monotonic
/// clock between two wakes has stepped. Well above the jitter of a wake
/// (the loop wakes at least once a second), well below a step worth a
/// notice.
pub const LIMIT: Duration = Duration::from_secs(2);

/// A step of the wall clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// Seconds the wall clock moved beyond the monotonic time: positive
    /// forward, negative backward.
    pub by: i64,
    /// The unix second the wall clock would read now without the step.
    pub expected: i64,
}

impl Step {
    /// The notice for this step (without the `logmon: ` prefix).
    pub fn notice(&self) -> String {
        let way = if self.by > 0 { "forward" } else { "backward" };
        format!(
            "the clock stepped {way} by {} s: reports follow the new time",
            self.by.unsigned_abs()
        )
    }
}

/// Watches the wall clock for steps. Time is an argument: nothing here
/// reads a clock.
#[derive(Debug, Default)]
pub struct Steps {
    /// The readings at the last check: monotonic, and wall in unix ms.
    last: Option<(Instant, i64)>,
}

impl Steps {
    pub fn new() -> Steps {
        Steps::default()
    }

    /// The clocks read `mono` and `wall_ms` (unix milliseconds) now: the
    /// step since the last check, if the wall clock stepped. Each check
    /// is compared with the one before, so a slow drift never adds up to
    /// a step.
    pub fn check(&mut self, mono: Instant, wall_ms: i64) -> Option<Step> {
        let last = self.last.replace((mono, wall_ms));
        let (last_mono, last_wall) = last?;
        let elapsed = mono.saturating_duration_since(last_mono).as_millis() as i64;
        let expected_ms = last_wall.saturating_add(elapsed);
        let off = wall_ms.saturating_sub(expected_ms);
        if off.unsigned_abs() <= LIMIT.as_millis() as u64 {
            return None;
        }
        Some(Step {
            // To the nearest second.
            by: (off + off.signum() * 500) / 1000,
            expected: expected_ms.div_euclid(1000),
        })
    }
}

/// The wall clock in unix milliseconds (0 before 1970, which is no time to
/// follow a log).
pub fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The wall clock in unix seconds.
pub fn unix_now() -> i64 {
    wall_ms().div_euclid(1000)
}

/// Time until just after the next whole wall-clock second.
pub fn until_next_second() -> Duration {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Duration::from_nanos(1_000_000_000 - u64::from(since.subsec_nanos())) + Duration::from_millis(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks at monotonic offsets (ms) with the wall clock reading
    /// `start + wall` (ms); the steps found.
    fn steps(readings: &[(u64, i64)]) -> Vec<Option<Step>> {
        let t0 = Instant::now();
        let start = 1_772_366_400_000; // 2026-03-01T12:00:00Z
        let mut s = Steps::new();
        readings
            .iter()
            .map(|&(mono, wall)| s.check(t0 + Duration::from_millis(mono), start + wall))
            .collect()
    }

    #[test]
    fn clocks_that_agree_within_the_limit_show_no_step() {
        let got = steps(&[
            (0, 0),
            (1000, 1000),
            (2000, 2100),
            (3000, 3900),
            (9000, 9000),
        ]);
        assert!(got.iter().all(Option::is_none), "{got:?}");
    }

    #[test]
    fn a_forward_step_is_found_once_with_the_time_it_would_have_been() {
        let got = steps(&[(0, 0), (1000, 601_000), (2000, 602_000)]);
        assert_eq!(
            got[1],
            Some(Step {
                by: 600,
                expected: 1_772_366_401
            })
        );
        assert_eq!(got[2], None, "re-anchored on the new time");
    }

    #[test]
    fn a_backward_step_is_found_once() {
        let got = steps(&[(0, 0), (1000, -59_000), (2000, -58_000)]);
        assert_eq!(
            got[1],
            Some(Step {
                by: -60,
                expected: 1_772_366_401
            })
        );
        assert_eq!(got[2], None);
    }

    #[test]
    fn a_long_wait_is_not_a_step_when_both_clocks_saw_it() {
        // SIGSTOP for 30 s: both clocks move on together.
        assert_eq!(steps(&[(0, 0), (30_000, 30_050)])[1], None);
    }

    #[test]
    fn a_step_says_which_way_and_how_far() {
        let step = Step {
            by: -60,
            expected: 0,
        };
        assert_eq!(
            step.notice(),
            "the clock stepped backward by 60 s: reports follow the new time"
        );
        let far = Step {
            by: i64::from(u32::MAX),
            expected: 0,
        };
        assert!(format!("logmon: {}", far.notice()).len() <= 80);
    }
}
