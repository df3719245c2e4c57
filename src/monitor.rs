//! The monitor: turns hits and the passing of time into reports and alerts.
//!
//! Pure: it never reads a clock, a file or stdout. The caller says what time
//! it is and hands it the parsed lines; it answers with `Event`s to print.
//!
//! Two clocks drive it:
//! - `Clock::Wall` (following a file): the caller's wall clock, given to
//!   `tick`. A hit counts in the window at its own timestamp; one stamped in
//!   the future counts at now, one older than the window only in the report.
//! - `Clock::Log` (`--replay`): the newest timestamp seen. A line stamped
//!   more than a window ahead moves the clock only if the next line agrees
//!   (otherwise it counts in the report, not in the window), so one bad
//!   timestamp cannot wreck the window or the alert.
//!
//! On the wall clock, the caller may say the time (`clock_at`) before it
//! hands over the lines written up to then, when it was held up: a line
//! stamped in a second that has passed then closes the seconds before its
//! own first, as on the log clock, so a stall delays events but does not
//! change them.
//!
//! Each report carries its period's drill-down tables (`drill`), and an
//! alert the sections and clients that drove it (`drivers`), from a
//! bounded history of the recent periods' top keys.
//!
//! Invariants: every second is evaluated for the alert exactly once, after
//! it is complete (the clock has passed it), in order; quiet stretches in a
//! replay are skipped once the window is empty, since nothing can fire then.
//! Each valid line is counted in exactly one period report. Periods are
//! aligned to multiples of the period since the epoch.

use std::sync::Arc;

use crate::batch::{Batch, Hit, HitKeys, OwnedKeys};
use crate::drill::Drill;
use crate::drivers::{Drivers, History};
use crate::stats::{Latency, SectionRow, Sketch, Stats};
use crate::window::{Alert, Transition, Window};

/// What the monitor is asked to watch for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Config {
    /// Report every `period_secs` seconds (at least 1).
    pub period_secs: u32,
    /// Alert window length in seconds (at least 1).
    pub window_secs: u32,
    /// Alert above this average, in requests per second.
    pub threshold: f64,
    /// Rows listed per report in each table: sections, clients, paths,
    /// user agents, referring hosts, countries.
    pub top: usize,
}

/// Which clock drives the monitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    Wall,
    Log,
}

/// Something to print.
#[derive(Debug, Clone)]
pub enum Event {
    Report(Box<Report>),
    Alert(AlertEvent),
    Recovered(AlertEvent),
    Summary(Summary),
}

/// The traffic of one period.
#[derive(Debug, Clone)]
pub struct Report {
    /// First second covered (the period's aligned start, or the start of the
    /// run for the first period).
    pub start: i64,
    /// End of the period, exclusive.
    pub end: i64,
    pub stats: Stats,
    /// The top sections, by hits.
    pub top: Vec<SectionRow>,
    /// False when the section table had to drop entries this period.
    pub top_exact: bool,
    /// Hits in the alert window at the end of the period.
    pub window_hits: u64,
    pub window_secs: u32,
    pub threshold: f64,
    /// Whether an alert is active at the end of the period.
    pub alerting: bool,
    /// The second the active alert fired at, when `alerting`.
    pub alert_since: Option<i64>,
    /// Hits in each bar of the alert window at the end of the period,
    /// oldest first: bars of `bar_secs` seconds ending at the period's last
    /// second (the oldest covers what is left of the window, and may be
    /// shorter), summing to `window_hits`. The picture behind the average,
    /// for the report's sparkline: at most `window::MAX_BARS` values, read
    /// from sums the window keeps, so a report never copies the window.
    pub window_bars: Vec<u64>,
    /// Seconds per bar of `window_bars` (`window::bar_secs` of the window).
    pub bar_secs: u32,
    /// Exact status codes, the top clients, paths, user agents and
    /// referring hosts (and countries, with `--geoip`), each at most
    /// `Config::top` long.
    pub drill: Drill,
    /// When the run reads several files: the hits of each file that had
    /// any in the period, most first (then by name).
    pub files: Option<Vec<FileHits>>,
    /// How many of `files` a text report lists (`--top`).
    pub files_shown: usize,
}

/// The hits of one input file in a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileHits {
    /// The path as given, or as a glob expanded it (sanitized).
    pub file: Arc<str>,
    pub hits: u64,
}

impl Report {
    /// Average requests per second over the time the report covers.
    pub fn rate(&self) -> f64 {
        self.stats.hits as f64 / (self.end - self.start).max(1) as f64
    }

    /// Average requests per second over the alert window.
    pub fn window_average(&self) -> f64 {
        self.window_hits as f64 / f64::from(self.window_secs)
    }

    /// Average requests per second in each bar of `window_bars`, oldest
    /// first (the oldest bar may be shorter than `bar_secs`).
    pub fn bar_rates(&self) -> impl Iterator<Item = f64> + '_ {
        let n = self.window_bars.len() as u64;
        let bar = u64::from(self.bar_secs.max(1));
        let oldest = u64::from(self.window_secs).saturating_sub((n.max(1) - 1) * bar);
        self.window_bars.iter().enumerate().map(move |(i, &hits)| {
            let secs = if i == 0 { oldest } else { bar };
            hits as f64 / secs.max(1) as f64
        })
    }
}

/// An alert firing or recovering.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertEvent {
    /// Hits in the window at `at`.
    pub hits: u64,
    /// `hits / window_secs`.
    pub average: f64,
    pub threshold: f64,
    pub window_secs: u32,
    /// The second the state changed.
    pub at: i64,
    /// The second the alert fired: `at` for an alert, the start of the
    /// alert that ended for a recovery.
    pub since: i64,
    /// Most hits in the window at any second while the alert was active
    /// (`hits` for an alert).
    pub peak_hits: u64,
    /// An alert: the sections and clients whose hits grew most from the
    /// window before (empty for a recovery).
    pub drivers: Drivers,
}

impl AlertEvent {
    /// How long the alert lasted, in seconds (0 for an alert).
    pub fn duration_secs(&self) -> i64 {
        self.at - self.since
    }

    /// `peak_hits / window_secs`: the highest average while it lasted.
    pub fn peak_average(&self) -> f64 {
        self.peak_hits as f64 / f64::from(self.window_secs)
    }
}

/// The whole run, printed at the end. The default is a run that read
/// nothing.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Summary {
    /// First second of the run, and the end of its last (exclusive); both
    /// 0 when the run had no clock (see [`Summary::timed`]).
    pub start: i64,
    pub end: i64,
    pub hits: u64,
    pub bytes: u64,
    pub invalid: u64,
    /// Request-time percentiles over the whole run, if any line had one.
    pub latency: Option<Latency>,
    /// Alerts that fired.
    pub alerts: u64,
    /// Whether an alert is still active.
    pub alerting: bool,
}

impl Summary {
    /// Whether the run had a clock, so that `start` and `end` mean
    /// something: always on the wall clock; on the log clock, once a valid
    /// line has been read.
    pub fn timed(&self) -> bool {
        self.end > self.start
    }
}

/// A line that jumped the log clock, waiting for the next line to confirm.
#[derive(Debug)]
struct Pending {
    hit: Hit,
    section: Option<Box<str>>,
    keys: OwnedKeys,
    /// The file it came from.
    file: u32,
}

impl Pending {
    fn seen(&self) -> Seen<'_> {
        Seen {
            hit: &self.hit,
            section: self.section.as_deref(),
            keys: self.keys.view(),
        }
    }
}

/// One valid line, as the monitor counts it.
#[derive(Debug, Clone, Copy)]
struct Seen<'a> {
    hit: &'a Hit,
    /// Its section, sanitized.
    section: Option<&'a str>,
    keys: HitKeys<'a>,
}

/// Hits per input file in the period, counted per run of hits from one
/// file (a batch, or a run of a merged one), never per line: a run's hits
/// are what the period's count grew by while it was counted.
#[derive(Debug, Default)]
struct Files {
    names: Vec<Arc<str>>,
    /// The period's hits by file.
    period: Vec<u64>,
    /// The file whose run is being counted, and the period's hits when it
    /// began (or when the period did, if later).
    current: u32,
    base: u64,
}

impl Files {
    fn slot(&mut self, file: u32) -> &mut u64 {
        let i = file as usize;
        if self.period.len() <= i {
            self.period.resize(i + 1, 0);
        }
        &mut self.period[i]
    }

    /// Count what the period gained since `base` for the current file.
    fn settle(&mut self, period_hits: u64) {
        let gained = period_hits.saturating_sub(self.base);
        *self.slot(self.current) += gained;
        self.base = period_hits;
    }

    /// One hit of `file` was counted outside its run (a line that waited
    /// for the next to confirm a jump of the log clock).
    fn count_apart(&mut self, file: u32) {
        *self.slot(file) += 1;
        self.base += 1;
    }

    /// The period's counts, most first, and a fresh period.
    fn take(&mut self) -> Vec<FileHits> {
        let mut rows: Vec<FileHits> = self
            .period
            .iter_mut()
            .enumerate()
            .filter(|(_, hits)| **hits > 0)
            .map(|(i, hits)| FileHits {
                file: self.names.get(i).cloned().unwrap_or_else(|| "?".into()),
                hits: std::mem::take(hits),
            })
            .collect();
        rows.sort_by(|a, b| b.hits.cmp(&a.hits).then_with(|| a.file.cmp(&b.file)));
        self.base = 0;
        rows
    }
}

/// Reports and alerts for one run.
#[derive(Debug)]
pub struct Monitor {
    cfg: Config,
    clock: Clock,
    /// Whether the clock has been set (the log clock starts with the data).
    started: bool,
    /// Hits per second; `window.now()` is the clock's current second.
    window: Window,
    alert: Alert,
    period: Stats,
    period_start: i64,
    /// First second of the run.
    first: i64,
    pending: Option<Pending>,
    total_hits: u64,
    total_bytes: u64,
    total_invalid: u64,
    /// Request times of the whole run, merged from each period's report.
    total_latency: Option<Box<Sketch>>,
    alerts: u64,
    /// Most hits in the window while the current alert is active.
    peak_hits: u64,
    /// Hits too far from the clock to count in the window.
    outside_window: u64,
    /// Wall clock: hits stamped more than a window ahead of it, counted at
    /// the current second.
    far_ahead: u64,
    /// A backfill is on its way: hold the clock at the start until it is in.
    awaiting_backfill: bool,
    /// Wall clock: the time the caller last gave (`tick`, `clock_at`). The
    /// seconds before it that are not closed yet (the loop was held up)
    /// close as the stamps of the lines read pass them.
    wall_now: i64,
    /// Wall clock: whether the first batch with hits held only hits older
    /// than the window (an old log piped in); `None` before that batch.
    first_hits_old: Option<bool>,
    /// Hits per file, when the run reads several (see `name_file`).
    files: Option<Files>,
    /// The recent periods' top sections and clients, for an alert's
    /// drivers.
    history: History,
    /// Whether reports list countries (`--geoip`).
    countries: bool,
}

impl Monitor {
    /// A monitor on the wall clock, starting at second `now`.
    pub fn wall(cfg: Config, now: i64) -> Monitor {
        let mut m = Monitor::new(cfg, Clock::Wall);
        m.start(now);
        m
    }

    /// A monitor on the log's own clock; it starts with the first line.
    pub fn log(cfg: Config) -> Monitor {
        Monitor::new(cfg, Clock::Log)
    }

    fn new(cfg: Config, clock: Clock) -> Monitor {
        Monitor {
            cfg,
            clock,
            started: false,
            window: Window::new(cfg.window_secs, 0),
            alert: Alert::new(cfg.threshold),
            period: Stats::default(),
            period_start: 0,
            first: 0,
            pending: None,
            total_hits: 0,
            total_bytes: 0,
            total_invalid: 0,
            total_latency: None,
            alerts: 0,
            peak_hits: 0,
            outside_window: 0,
            far_ahead: 0,
            awaiting_backfill: false,
            first_hits_old: None,
            history: History::new(cfg.window_secs, cfg.period_secs),
            countries: false,
            wall_now: 0,
            files: None,
        }
    }

    /// Reports list the hits by country too (the hits' keys carry their
    /// country: `--geoip`).
    pub fn with_countries(mut self) -> Monitor {
        self.countries = true;
        self
    }

    fn start(&mut self, now: i64) {
        self.started = true;
        self.wall_now = now;
        self.window = Window::new(self.cfg.window_secs, now);
        self.period_start = self.align(now);
        self.first = now;
    }

    /// The clock's current second, once it has started.
    pub fn now(&self) -> Option<i64> {
        self.started.then(|| self.window.now())
    }

    /// Whether the wall clock drives it (following), rather than the log's
    /// (a replay, a backlog).
    pub fn live(&self) -> bool {
        self.clock == Clock::Wall
    }

    /// Hits in the alert window now.
    pub fn window_hits(&self) -> u64 {
        self.window.total()
    }

    /// Hits per second in the alert window, oldest first, ending with the
    /// clock's current second (on the wall clock, the one still filling).
    pub fn window_per_second(
        &self,
    ) -> impl DoubleEndedIterator<Item = u64> + ExactSizeIterator + '_ {
        self.window.per_second()
    }

    /// Whether a high-traffic alert is active.
    pub fn alerting(&self) -> bool {
        self.alert.firing_since().is_some()
    }

    /// Hits received so far that were too far from the clock to count in
    /// the alert window (they still count in the reports).
    pub fn outside_window(&self) -> u64 {
        self.outside_window
    }

    /// Wall clock: hits received so far stamped more than a window ahead of
    /// the clock (a writer in another time zone, say). They count at the
    /// current second, as the contract says, but the clocks disagree.
    pub fn far_ahead(&self) -> u64 {
        self.far_ahead
    }

    /// Wall clock: whether the first lines read (the first batch with hits,
    /// backfill aside) were all stamped more than a window before the
    /// clock: most likely an old log, which `--replay` reads on its own
    /// clock.
    pub fn reads_an_old_log(&self) -> bool {
        self.first_hits_old == Some(true)
    }

    /// Wall clock: the time is now `now`; close every second before it.
    /// Ignored on the log clock, when the wall clock steps backward, and
    /// between `await_backfill` and `backfill_done`.
    pub fn tick(&mut self, now: i64, out: &mut Vec<Event>) {
        if self.clock == Clock::Wall && self.started && !self.awaiting_backfill {
            self.wall_now = now;
            self.close_until(now, out);
        }
    }

    /// Wall clock: whether seconds before `now` are still open, so that
    /// `tick(now)` would close some (and the lines written in them should
    /// be counted first: see `clock_at`).
    pub fn behind(&self, now: i64) -> bool {
        self.clock == Clock::Wall
            && self.started
            && !self.awaiting_backfill
            && now > self.window.now()
    }

    /// Wall clock: the time is `now`, and the lines written up to now are
    /// still to be counted before `tick(now)` (the loop was held up: a
    /// stopped process, a blocked stdout). Until then, a line stamped in a
    /// second that has passed closes the seconds before its own, as a
    /// replay does: each second is evaluated with the lines written in it,
    /// and each period reports its own, however late they were read. A
    /// stall delays events; it does not invent a recovery or empty periods.
    pub fn clock_at(&mut self, now: i64) {
        if self.clock == Clock::Wall {
            self.wall_now = now;
        }
    }

    /// Wall clock: the clock stepped by `by` seconds, and would read
    /// `expected` without the step. The seconds up to `expected` are closed
    /// as usual; then everything the monitor holds in wall time moves by
    /// `by` (the window's seconds, the drivers' history of periods, the
    /// period's start, the run's start, the active alert's), so the next
    /// `tick` goes on from the new time: no
    /// silence until the clock catches up after a backward step, no burst
    /// of empty periods after a forward one.
    ///
    /// The counts are kept as they are: they are the traffic of the last
    /// window of real time, and an alert neither recovers nor fires for the
    /// step alone. A period that spans the step is reported once, from its
    /// moved start to the next boundary of the new time, so its rate stays
    /// true. Lines stamped before the step and read after it fall outside
    /// the window, or count at now, as any line stamped that far does.
    pub fn clock_stepped(&mut self, expected: i64, by: i64, out: &mut Vec<Event>) {
        if self.clock != Clock::Wall || !self.started {
            return;
        }
        if !self.awaiting_backfill {
            self.close_until(expected, out);
        }
        self.window.shift(by);
        self.history.shift(by);
        self.wall_now = self.wall_now.saturating_add(by);
        self.alert.shift(by);
        self.period_start = self.period_start.saturating_add(by);
        self.first = self.first.saturating_add(by);
    }

    /// A backfill will follow: hold the clock at the start second until
    /// `backfill_done`. Otherwise a tick that crosses a second before the
    /// backfill arrives (a start just before a second boundary, or a long
    /// backfill) evaluates seconds on an empty window and reports an alert
    /// that was active at the start as triggered later. The seconds held back
    /// are closed by the first tick after `backfill_done`.
    pub fn await_backfill(&mut self) {
        self.awaiting_backfill = true;
    }

    /// Lines read at startup from before the run: they fill the alert window
    /// (those within it) but belong to no report. Call before the first
    /// `add`, then `backfill_done`.
    pub fn backfill(&mut self, batch: &Batch) {
        for hit in &batch.hits {
            self.window.hit(hit.time.min(self.window.now()), 1);
        }
    }

    /// After `backfill`: an alert that the backfilled window already
    /// exceeds fires now, at the start time.
    pub fn backfill_done(&mut self, out: &mut Vec<Event>) {
        self.awaiting_backfill = false;
        let now = self.window.now();
        self.evaluate(now, out);
    }

    /// Reports count the hits of each input file from now on, and name
    /// file number `file` (`Batch::file`) `name`. Call it for every file
    /// of a run that reads several, as each is found.
    pub fn name_file(&mut self, file: u32, name: &str) {
        let files = self.files.get_or_insert_with(Files::default);
        let i = file as usize;
        if files.names.len() <= i {
            files.names.resize(i + 1, Arc::from(""));
        }
        files.names[i] = name.into();
    }

    /// Count a batch of parsed lines.
    pub fn add(&mut self, batch: &Batch, out: &mut Vec<Event>) {
        let outside_before = self.outside_window;
        let mut invalid = batch.invalid_at.iter().peekable();
        let sections = batch.sections();
        for (file, run) in batch.runs() {
            if let Some(files) = &mut self.files {
                files.current = file;
                files.base = self.period.hits;
            }
            for (i, hit) in batch.hits[run.clone()].iter().enumerate() {
                let i = run.start + i;
                while invalid.next_if(|&&at| at as usize <= i).is_some() {
                    self.count_invalid();
                }
                let line = Seen {
                    hit,
                    section: sections.of(hit),
                    keys: batch.keys_of(i),
                };
                match self.clock {
                    Clock::Wall => {
                        if hit.time > self.window.now() && !self.awaiting_backfill {
                            // Stamped in a second that has passed but is not
                            // closed yet (see `clock_at`); no further than the
                            // clock, past which the future counts at now.
                            self.close_until(hit.time.min(self.wall_now), out);
                        }
                        let now = self.window.now();
                        if hit.time > now.saturating_add(self.window.span()) {
                            self.far_ahead += 1;
                        }
                        self.count(line, hit.time.min(now));
                    }
                    Clock::Log => self.log_hit(line, file, out),
                }
            }
            if let Some(files) = &mut self.files {
                files.settle(self.period.hits);
            }
        }
        invalid.for_each(|_| self.count_invalid());
        if self.clock == Clock::Wall && self.first_hits_old.is_none() && !batch.hits.is_empty() {
            // Hits outside the window on the wall clock are the old ones
            // (future ones count at now).
            let old = self.outside_window - outside_before;
            self.first_hits_old = Some(old == batch.hits.len() as u64);
        }
    }

    fn count_invalid(&mut self) {
        self.period.add_invalid(1);
        self.total_invalid += 1;
    }

    /// End of the run: close what is complete, report the partial period
    /// (so no hit is lost) and the summary.
    pub fn finish(&mut self, out: &mut Vec<Event>) {
        self.settle_pending(out);
        if !self.started {
            // The log clock never started: no valid line. There is no
            // period to report, and the summary has no time.
            out.push(Event::Summary(Summary {
                start: 0,
                end: 0,
                hits: 0,
                bytes: 0,
                invalid: self.total_invalid,
                latency: None,
                alerts: 0,
                alerting: false,
            }));
            return;
        }
        let end = match self.clock {
            Clock::Log => {
                // At the end of the log every second seen is complete.
                let last = self.window.now();
                self.close_until(last + 1, out);
                last + 1
            }
            // The current second is not complete: it is reported, not
            // evaluated.
            Clock::Wall => self.window.now() + 1,
        };
        if end > self.period_start
            && (self.clock == Clock::Wall || self.period.hits > 0 || self.period.invalid > 0)
        {
            self.report(end, out);
        }
        out.push(Event::Summary(Summary {
            start: self.first,
            end,
            hits: self.total_hits,
            bytes: self.total_bytes,
            invalid: self.total_invalid,
            latency: self.total_latency.as_ref().and_then(|s| s.latency()),
            alerts: self.alerts,
            alerting: self.alerting(),
        }));
    }

    /// The log clock has no more lines: a line waiting for the next to
    /// confirm a jump of the clock is counted as it stands.
    fn settle_pending(&mut self, out: &mut Vec<Event>) {
        if let Some(p) = self.pending.take() {
            if self.started {
                // A jump that no later line confirmed.
                self.count_outside(p.seen());
            } else {
                // The only line of the log: nothing contradicts it.
                self.accept(p.seen(), out);
            }
            if let Some(files) = &mut self.files {
                files.count_apart(p.file);
            }
        }
    }

    /// `--from-start`: the backlog read on the log clock is complete; go
    /// on on the wall clock, which reads `now`. The seconds from the
    /// backlog's last to `now` close on the log clock (a quiet stretch is
    /// skipped, as in a replay), then everything carries over: the window,
    /// the alert (an active one goes on, and is not reported again), the
    /// period in progress (reported once, at its end), the totals. Does
    /// nothing on the wall clock.
    pub fn go_live(&mut self, now: i64, out: &mut Vec<Event>) {
        if self.clock != Clock::Log {
            return;
        }
        self.settle_pending(out);
        if !self.started {
            self.clock = Clock::Wall;
            self.start(now);
            return;
        }
        if now > self.window.now() {
            self.close_until(now, out);
        }
        self.clock = Clock::Wall;
        self.wall_now = now;
        // The backlog's clock is not the wall clock: what it counted as
        // too old or too new says nothing about the live lines.
        self.outside_window = 0;
        self.far_ahead = 0;
    }

    fn log_hit(&mut self, line: Seen<'_>, file: u32, out: &mut Vec<Event>) {
        let span = self.window.span();
        let time = line.hit.time;
        if let Some(p) = self.pending.take() {
            if time.abs_diff(p.hit.time) <= span as u64 {
                self.accept(p.seen(), out);
            } else {
                self.count_outside(p.seen());
            }
            if let Some(files) = &mut self.files {
                files.count_apart(p.file);
            }
        }
        let jumps = !self.started || time > self.window.now().saturating_add(span);
        if jumps {
            self.pending = Some(Pending {
                hit: *line.hit,
                section: line.section.map(Into::into),
                keys: line.keys.to_owned(),
                file,
            });
        } else {
            self.accept(line, out);
        }
    }

    /// Move the log clock to `line` if it is newer, then count it.
    fn accept(&mut self, line: Seen<'_>, out: &mut Vec<Event>) {
        let time = line.hit.time;
        if !self.started {
            self.start(time);
        }
        if time > self.window.now() {
            self.close_until(time, out);
        }
        self.count(line, time);
    }

    /// Count `line` in the period, and in the window at second `at`.
    fn count(&mut self, line: Seen<'_>, at: i64) {
        if !self.window.hit(at, 1) {
            self.outside_window += 1;
        }
        self.count_in_period(line);
    }

    fn count_outside(&mut self, line: Seen<'_>) {
        self.outside_window += 1;
        self.count_in_period(line);
    }

    fn count_in_period(&mut self, line: Seen<'_>) {
        let hit = line.hit;
        self.period.add_line(hit, line.section, &line.keys);
        self.total_hits += 1;
        self.total_bytes = self.total_bytes.saturating_add(hit.bytes);
    }

    /// Evaluate every second from the clock's current one up to `target`
    /// (exclusive), ending periods on the way; the clock is then `target`.
    fn close_until(&mut self, target: i64, out: &mut Vec<Event>) {
        while self.window.now() < target {
            let s = self.window.now();
            self.evaluate(s, out);
            let next = s + 1;
            if next.rem_euclid(self.period_secs()) == 0 {
                self.end_period(next, out);
            }
            let idle = self.window.total() == 0
                && self.alert.firing_since().is_none()
                && self.period.hits == 0
                && self.period.invalid == 0;
            if self.clock == Clock::Log && idle {
                // An empty window cannot fire and the periods until `target`
                // are empty (a replay prints none): skip the quiet stretch.
                self.window.advance(target);
                self.period_start = self.align(target);
                return;
            }
            self.window.advance(next);
        }
    }

    /// Evaluate the alert for the complete second `at`.
    fn evaluate(&mut self, at: i64, out: &mut Vec<Event>) {
        let total = self.window.total();
        // Read before `check`, which forgets it on recovery.
        let since = self.alert.firing_since();
        let Some(t) = self.alert.check(total, self.window.span(), at) else {
            if since.is_some() {
                self.peak_hits = self.peak_hits.max(total);
            }
            return;
        };
        let (hits, at) = match t {
            Transition::Triggered { hits, at } | Transition::Recovered { hits, at } => (hits, at),
        };
        let mut drivers = Drivers::default();
        if let Transition::Triggered { .. } = t {
            self.peak_hits = hits;
            drivers = self.history.drivers(at, &self.period);
        }
        let event = AlertEvent {
            hits,
            average: hits as f64 / f64::from(self.cfg.window_secs),
            threshold: self.cfg.threshold,
            window_secs: self.cfg.window_secs,
            at,
            since: since.unwrap_or(at),
            peak_hits: self.peak_hits,
            drivers,
        };
        out.push(match t {
            Transition::Triggered { .. } => {
                self.alerts += 1;
                Event::Alert(event)
            }
            Transition::Recovered { .. } => Event::Recovered(event),
        });
    }

    /// The period ends at `end`: report it (a replay skips empty periods)
    /// and start the next.
    fn end_period(&mut self, end: i64, out: &mut Vec<Event>) {
        if self.clock == Clock::Wall || self.period.hits > 0 || self.period.invalid > 0 {
            self.report(end, out);
        } else {
            // Nothing counted: the drill-down tables are empty, and kept.
            let drill = std::mem::take(&mut self.period.drill);
            self.period = Stats::default();
            self.period.drill = drill;
        }
        self.period_start = end;
    }

    fn report(&mut self, end: i64, out: &mut Vec<Event>) {
        // The current run's hits so far belong to this period.
        let files = self.files.as_mut().map(|files| {
            files.settle(self.period.hits);
            files.take()
        });
        self.history.add_period(self.period_start, &self.period);
        let drill = self.period.drill.drill(self.cfg.top, self.countries);
        // The next period likely sees as many sections and clients: sizing
        // its tables now saves growing them again, line by line; the
        // drill-down tables are reused whole, strings and all.
        let mut next = self.period.empty_like();
        next.drill = std::mem::take(&mut self.period.drill);
        next.drill.clear();
        let stats = std::mem::replace(&mut self.period, next);
        // Every hit is in exactly one report, so merging each period's
        // histogram gives the run's, at one merge per period.
        if let Some(sketch) = stats.latency_sketch() {
            self.total_latency
                .get_or_insert_with(Default::default)
                .merge(sketch);
        }
        let (top, top_exact) = stats.top(self.cfg.top);
        out.push(Event::Report(Box::new(Report {
            start: self.period_start.max(self.first),
            end,
            stats,
            top,
            top_exact,
            window_hits: self.window.total(),
            window_secs: self.cfg.window_secs,
            threshold: self.cfg.threshold,
            alerting: self.alerting(),
            alert_since: self.alert.firing_since(),
            window_bars: self.window.bars().collect(),
            bar_secs: self.window.bar_secs(),
            drill,
            files,
            files_shown: self.cfg.top,
        })));
    }

    fn period_secs(&self) -> i64 {
        i64::from(self.cfg.period_secs)
    }

    fn align(&self, t: i64) -> i64 {
        t - t.rem_euclid(self.period_secs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::Method;

    const CFG: Config = Config {
        period_secs: 10,
        window_secs: 120,
        threshold: 10.0,
        top: 5,
    };

    /// A batch of hits on `section`, one per timestamp.
    fn batch(times: &[i64], section: &str) -> Batch {
        let mut b = Batch::default();
        let section = b.push_section_text(section);
        for &time in times {
            b.hits.push(Hit {
                time,
                bytes: 100,
                client: time as u64 % 7,
                section: Some(section),
                status: 200,
                method: Method::Get,
                request_us: None,
            });
        }
        b
    }

    /// `rate` hits per second for each second in `secs`.
    fn steady(secs: std::ops::Range<i64>, rate: usize) -> Vec<i64> {
        secs.flat_map(|s| std::iter::repeat_n(s, rate)).collect()
    }

    fn alerts(events: &[Event]) -> Vec<(&'static str, u64, i64)> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Alert(a) => Some(("alert", a.hits, a.at)),
                Event::Recovered(a) => Some(("recovered", a.hits, a.at)),
                _ => None,
            })
            .collect()
    }

    fn reports(events: &[Event]) -> Vec<&Report> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Report(r) => Some(&**r),
                _ => None,
            })
            .collect()
    }

    fn summary(events: &[Event]) -> Summary {
        match events.last() {
            Some(Event::Summary(s)) => *s,
            other => panic!("last event is not a summary: {other:?}"),
        }
    }

    fn replay(batches: &[Batch], cfg: Config) -> Vec<Event> {
        let mut m = Monitor::log(cfg);
        let mut out = Vec::new();
        for b in batches {
            m.add(b, &mut out);
        }
        m.finish(&mut out);
        out
    }

    /// Each report's `(file, hits)`, as named.
    fn files_of(events: &[Event]) -> Vec<Vec<(String, u64)>> {
        reports(events)
            .iter()
            .map(|r| {
                let files = r.files.as_ref().expect("files counted");
                files.iter().map(|f| (f.file.to_string(), f.hits)).collect()
            })
            .collect()
    }

    #[test]
    fn hits_count_for_their_file_in_their_period_even_mid_batch() {
        let mut m = Monitor::log(CFG);
        m.name_file(0, "a.log");
        m.name_file(1, "b.log");
        let mut out = Vec::new();
        // One batch of a.log across a period boundary, then b.log's.
        let mut a = batch(&[1, 2, 9, 10, 11], "/a");
        a.file = 0;
        let mut b = batch(&[12, 12, 25], "/b");
        b.file = 1;
        m.add(&a, &mut out);
        m.add(&b, &mut out);
        // A batch merged from both: runs of b, a, b.
        let mut merged = Batch::default();
        merged.append_run(&batch(&[26], "/b"), 1, 0..1);
        merged.append_run(&batch(&[27, 28], "/a"), 0, 0..2);
        merged.append_run(&batch(&[31], "/b"), 1, 0..1);
        m.add(&merged, &mut out);
        m.finish(&mut out);
        assert_eq!(
            files_of(&out),
            [
                vec![("a.log".into(), 3)],
                vec![("a.log".into(), 2), ("b.log".into(), 2)],
                vec![("a.log".into(), 2), ("b.log".into(), 2)],
                vec![("b.log".into(), 1)],
            ]
        );
        let reports = reports(&out);
        assert_eq!(reports[2].stats.hits, 4);
        assert_eq!(reports[0].files_shown, CFG.top);
    }

    #[test]
    fn a_first_line_waiting_for_the_next_counts_for_its_own_file() {
        // The log clock starts only when a second line confirms the first:
        // it comes from another file here.
        let mut m = Monitor::log(CFG);
        m.name_file(0, "a.log");
        m.name_file(1, "b.log");
        let mut out = Vec::new();
        let mut a = batch(&[5], "/a");
        a.file = 0;
        let mut b = batch(&[6, 7], "/b");
        b.file = 1;
        m.add(&a, &mut out);
        m.add(&b, &mut out);
        m.finish(&mut out);
        assert_eq!(
            files_of(&out),
            [vec![("b.log".into(), 2), ("a.log".into(), 1)]]
        );
    }

    #[test]
    fn without_names_reports_count_no_files() {
        let out = replay(&[batch(&[1, 2], "/a")], CFG);
        assert!(reports(&out).iter().all(|r| r.files.is_none()));
    }

    #[test]
    fn a_backlog_goes_live_keeping_its_alert_and_its_period() {
        // 15 req/s from 0 to 100 on the log clock fires at 80; the wall
        // clock then reads 103 and traffic goes on.
        let mut m = Monitor::log(CFG);
        let mut out = Vec::new();
        m.add(&batch(&steady(0..100, 15), "/a"), &mut out);
        assert_eq!(alerts(&out), [("alert", 1215, 80)]);
        out.clear();
        m.go_live(103, &mut out);
        assert!(m.live() && m.alerting());
        assert!(alerts(&out).is_empty(), "not fired again, nor recovered");
        let r = reports(&out);
        assert_eq!(
            (r.len(), r[0].start, r[0].end),
            (1, 90, 100),
            "the backlog's last"
        );
        out.clear();
        m.add(&batch(&steady(103..110, 15), "/a"), &mut out);
        m.tick(110, &mut out);
        let r = reports(&out);
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].start, r[0].end), (100, 110));
        assert_eq!(r[0].stats.hits, 15 * 7);
        assert!(alerts(&out).is_empty());
    }

    #[test]
    fn an_empty_backlog_goes_live_at_now() {
        let mut m = Monitor::log(CFG);
        let mut out = Vec::new();
        m.go_live(1005, &mut out);
        assert!(out.is_empty());
        assert_eq!(m.now(), Some(1005));
        m.tick(1010, &mut out);
        assert_eq!(reports(&out)[0].start, 1005);
    }

    #[test]
    fn replay_of_the_issue_example_alerts_at_80_and_recovers_at_346() {
        let mut times = steady(0..300, 15);
        times.extend(steady(300..600, 2));
        let out = replay(&[batch(&times, "/a")], CFG);
        assert_eq!(
            alerts(&out),
            [("alert", 1215, 80), ("recovered", 1189, 346)]
        );
        let s = summary(&out);
        assert_eq!((s.hits, s.alerts, s.alerting), (5100, 1, false));
        assert_eq!((s.start, s.end), (0, 600));
    }

    #[test]
    fn a_recovery_says_when_its_alert_fired_and_how_high_it_peaked() {
        let mut times = steady(0..300, 15);
        times.extend(steady(300..600, 2));
        let out = replay(&[batch(&times, "/a")], CFG);
        let (alert, recovered) = match &out
            .iter()
            .filter(|e| matches!(e, Event::Alert(_) | Event::Recovered(_)))
            .collect::<Vec<_>>()[..]
        {
            [Event::Alert(a), Event::Recovered(r)] => (a.clone(), r.clone()),
            other => panic!("expected an alert then a recovery: {other:?}"),
        };
        assert_eq!(
            (alert.since, alert.peak_hits, alert.duration_secs()),
            (80, 1215, 0)
        );
        // 15 req/s fills the 120 s window to 1800 hits from second 119 on.
        assert_eq!((recovered.since, recovered.peak_hits), (80, 1800));
        assert_eq!(recovered.duration_secs(), 346 - 80);
        assert_eq!(recovered.peak_average(), 15.0);
    }

    #[test]
    fn reports_carry_the_window_bar_by_bar_and_the_alert_start() {
        let mut times = steady(0..300, 15);
        times.extend(steady(300..600, 2));
        let out = replay(&[batch(&times, "/a")], CFG);
        let r = reports(&out);
        let at = |start| r.iter().find(|r| r.start == start).unwrap();
        let early = at(0);
        // Bars of 5 s over 120 s: seconds 0..=9, 15 hits each, in the last two.
        assert_eq!((early.window_bars.len(), early.bar_secs), (24, 5));
        assert_eq!(early.window_bars[22..], [75; 2]);
        assert!(early.window_bars[..22].iter().all(|&n| n == 0));
        assert_eq!(early.bar_rates().last(), Some(15.0));
        assert_eq!((early.alerting, early.alert_since), (false, None));
        let firing = at(100);
        assert_eq!((firing.alerting, firing.alert_since), (true, Some(80)));
        for r in &r {
            assert_eq!(r.window_bars.iter().sum::<u64>(), r.window_hits);
        }
        assert_eq!(at(350).alert_since, None, "recovered at 346");
    }

    #[test]
    fn replay_reports_every_period_with_its_own_hits() {
        let times = steady(0..30, 2);
        let out = replay(&[batch(&times, "/a")], CFG);
        let r = reports(&out);
        let spans: Vec<_> = r.iter().map(|r| (r.start, r.end, r.stats.hits)).collect();
        assert_eq!(spans, [(0, 10, 20), (10, 20, 20), (20, 30, 20)]);
        assert_eq!(r[1].window_hits, 40);
        assert_eq!(r[0].top[0].section, "/a");
        assert_eq!(r[0].rate(), 2.0);
    }

    #[test]
    fn accessors_describe_the_window_and_the_alert_now() {
        let cfg = Config {
            window_secs: 4,
            threshold: 1.0,
            ..CFG
        };
        let mut m = Monitor::log(cfg);
        let mut out = Vec::new();
        m.add(&batch(&steady(0..3, 3), "/a"), &mut out);
        // The log clock is at second 2; seconds 0 and 1 are complete, and
        // second 1 took the window to 6 hits, above 1 req/s * 4 s.
        assert_eq!(m.window_per_second().collect::<Vec<_>>(), [0, 3, 3, 3]);
        assert!(m.alerting());
        assert_eq!(alerts(&out), [("alert", 6, 1)]);
    }

    #[test]
    fn replay_skips_empty_periods_and_still_recovers_inside_a_gap() {
        // 21 req/s for 60 s, then silence until second 1000.
        let mut times = steady(0..60, 21);
        times.push(1000);
        times.push(1000);
        let out = replay(&[batch(&times, "/a")], CFG);
        // Fires when 21 * (s + 1) > 1200: s = 57. For s >= 120 the window
        // holds the busy seconds s-119..=59, 179 - s of them: below 1200
        // once 57 remain, at s = 122, well inside the gap.
        assert_eq!(
            alerts(&out),
            [("alert", 1218, 57), ("recovered", 1197, 122)]
        );
        let starts: Vec<_> = reports(&out).iter().map(|r| r.start).collect();
        assert_eq!(starts, [0, 10, 20, 30, 40, 50, 1000]);
        assert_eq!(summary(&out).hits, 1262);
    }

    #[test]
    fn an_unconfirmed_jump_counts_in_the_report_not_the_window() {
        let mut times = steady(0..5, 1);
        times.push(50_000); // one bad timestamp
        times.extend(steady(5..8, 1));
        let out = replay(&[batch(&times, "/a")], CFG);
        let r = reports(&out);
        assert_eq!(r.len(), 1, "the clock never jumped: {r:?}");
        assert_eq!((r[0].start, r[0].end, r[0].stats.hits), (0, 8, 9));
        assert_eq!(r[0].window_hits, 8);
    }

    #[test]
    fn a_confirmed_jump_moves_the_clock() {
        let mut times = steady(0..5, 1);
        times.extend(steady(50_000..50_003, 1));
        let out = replay(&[batch(&times, "/a")], CFG);
        let spans: Vec<_> = reports(&out)
            .iter()
            .map(|r| (r.start, r.end, r.stats.hits))
            .collect();
        assert_eq!(spans, [(0, 10, 5), (50_000, 50_003, 3)]);
    }

    #[test]
    fn a_bad_first_timestamp_does_not_start_the_clock() {
        let mut times = vec![9_999_999];
        times.extend(steady(100..103, 1));
        let out = replay(&[batch(&times, "/a")], CFG);
        let r = reports(&out);
        assert_eq!((r[0].start, r[0].end, r[0].stats.hits), (100, 103, 4));
        assert_eq!(r[0].window_hits, 3);
    }

    #[test]
    fn a_replay_with_no_valid_line_reports_nothing_and_has_no_time() {
        let out = replay(&[], CFG);
        assert!(reports(&out).is_empty());
        let s = summary(&out);
        assert!(!s.timed(), "no 1970: {s:?}");
        assert_eq!((s.hits, s.invalid), (0, 0));
        let mut junk = Batch::default();
        junk.push_invalid();
        junk.push_invalid();
        let out = replay(&[junk], CFG);
        assert_eq!(out.len(), 1, "only the summary: {out:?}");
        assert_eq!(summary(&out).invalid, 2);
        assert!(summary(&replay(&[batch(&[0], "/a")], CFG)).timed());
    }

    #[test]
    fn an_old_log_is_recognized_by_its_first_hits_on_the_wall_clock() {
        let mut out = Vec::new();
        let mut m = Monitor::wall(CFG, 10_000);
        assert!(!m.reads_an_old_log());
        m.add(&Batch::default(), &mut out);
        m.add(&batch(&[100, 200, 10_000 - 120], "/a"), &mut out);
        assert!(m.reads_an_old_log(), "all a window or more before now");
        // Only the first batch with hits decides.
        m.add(&batch(&[10_000], "/a"), &mut out);
        assert!(m.reads_an_old_log());

        let mut m = Monitor::wall(CFG, 10_000);
        m.add(&batch(&[100, 10_000 - 119], "/a"), &mut out);
        assert!(!m.reads_an_old_log(), "one line is recent");
        let mut m = Monitor::wall(CFG, 10_000);
        m.add(&batch(&[20_000], "/a"), &mut out);
        assert!(!m.reads_an_old_log(), "the future is not old");
        m.add(&batch(&[100], "/a"), &mut out);
        assert!(!m.reads_an_old_log(), "decided by the first batch");
        let mut m = Monitor::log(CFG);
        m.add(&batch(&[100], "/a"), &mut out);
        assert!(!m.reads_an_old_log(), "a replay has its own clock");
    }

    #[test]
    fn a_single_line_log_is_reported() {
        let out = replay(&[batch(&[42], "/a")], CFG);
        let r = reports(&out);
        assert_eq!((r[0].start, r[0].end, r[0].stats.hits), (42, 43, 1));
    }

    #[test]
    fn late_lines_count_in_the_current_period_and_in_the_window() {
        // 10, 11, then a line stamped 9 after the clock reached 11.
        let out = replay(&[batch(&[10, 11, 9, 12], "/a")], CFG);
        let r = reports(&out);
        assert_eq!((r[0].start, r[0].end, r[0].stats.hits), (10, 13, 4));
        assert_eq!(r[0].window_hits, 4);
    }

    #[test]
    fn lines_older_than_the_window_count_only_in_the_report() {
        let out = replay(&[batch(&[1000, 1001, 500, 1002], "/a")], CFG);
        let r = reports(&out);
        assert_eq!((r[0].stats.hits, r[0].window_hits), (4, 3));
    }

    #[test]
    fn invalid_lines_are_counted_in_the_period_and_the_summary() {
        // Lines at 5 and 6, two invalid lines, a line at 15, one invalid.
        let mut b = batch(&[5, 6], "/a");
        b.push_invalid();
        b.push_invalid();
        b.hits.push(b.hits[0]);
        b.hits[2].time = 15;
        b.push_invalid();
        let out = replay(&[b], CFG);
        let r = reports(&out);
        assert_eq!(r[0].stats.invalid, 2, "read while the clock was at 6");
        assert_eq!(r[1].stats.invalid, 1);
        assert_eq!(summary(&out).invalid, 3);
    }

    #[test]
    fn wall_clock_reports_every_period_even_when_empty() {
        let mut m = Monitor::wall(CFG, 1003);
        let mut out = Vec::new();
        m.add(&batch(&[1003, 1004], "/a"), &mut out);
        m.tick(1035, &mut out);
        let spans: Vec<_> = reports(&out)
            .iter()
            .map(|r| (r.start, r.end, r.stats.hits))
            .collect();
        assert_eq!(spans, [(1003, 1010, 2), (1010, 1020, 0), (1020, 1030, 0)]);
        m.finish(&mut out);
        let last = reports(&out).last().map(|r| (r.start, r.end)).unwrap();
        assert_eq!(last, (1030, 1036));
    }

    #[test]
    fn wall_clock_counts_future_stamps_at_now_and_old_ones_only_in_the_report() {
        let mut m = Monitor::wall(CFG, 5000);
        let mut out = Vec::new();
        m.add(&batch(&[9_000_000, 5100, 4999, 1000], "/a"), &mut out);
        assert_eq!(m.window_hits(), 3);
        assert_eq!(m.outside_window(), 1);
        assert_eq!(m.far_ahead(), 1, "5100 is within a window of now");
        m.finish(&mut out);
        assert_eq!(reports(&out)[0].stats.hits, 4);
    }

    #[test]
    fn wall_clock_evaluates_each_complete_second_once() {
        let cfg = Config {
            window_secs: 10,
            threshold: 1.0,
            ..CFG
        };
        let mut m = Monitor::wall(cfg, 0);
        let mut out = Vec::new();
        m.add(&batch(&steady(0..1, 11), "/a"), &mut out);
        assert!(alerts(&out).is_empty(), "second 0 is not complete yet");
        m.tick(1, &mut out);
        m.tick(1, &mut out);
        assert_eq!(alerts(&out), [("alert", 11, 0)]);
        m.tick(11, &mut out);
        assert_eq!(alerts(&out), [("alert", 11, 0), ("recovered", 0, 10)]);
    }

    #[test]
    fn a_backfilled_window_fires_at_the_start_time() {
        let cfg = Config {
            window_secs: 10,
            threshold: 1.0,
            ..CFG
        };
        let mut m = Monitor::wall(cfg, 100);
        let mut out = Vec::new();
        m.backfill(&batch(&steady(85..100, 1), "/a"));
        assert_eq!(m.window_hits(), 9, "only seconds 91..=99 are in the window");
        m.backfill(&batch(&steady(95..100, 1), "/a"));
        m.backfill_done(&mut out);
        assert_eq!(alerts(&out), [("alert", 14, 100)]);
        m.finish(&mut out);
        assert_eq!(summary(&out).hits, 0, "backfill is not in any report");
    }

    #[test]
    fn ticks_wait_for_the_backfill_so_an_active_alert_fires_at_the_start_time() {
        // The loop ticks at 101 and 102 before a slow backfill arrives.
        let cfg = Config {
            window_secs: 10,
            threshold: 1.0,
            period_secs: 1,
            ..CFG
        };
        let mut m = Monitor::wall(cfg, 100);
        m.await_backfill();
        let mut out = Vec::new();
        m.tick(101, &mut out);
        m.tick(102, &mut out);
        assert!(out.is_empty(), "held at the start: {out:?}");
        m.backfill(&batch(&steady(90..100, 2), "/a"));
        m.backfill_done(&mut out);
        assert_eq!(alerts(&out), [("alert", 18, 100)]);
        m.tick(102, &mut out);
        let ends: Vec<i64> = reports(&out).iter().map(|r| r.end).collect();
        assert_eq!(ends, [101, 102], "the held seconds are closed in order");
        m.finish(&mut out);
        assert_eq!(summary(&out).hits, 0);
    }

    /// A batch of CLF lines `(time, client, target, status)`, parsed, so
    /// that the hits carry their drill-down keys.
    fn parsed(lines: &[(i64, &str, &str, u16)]) -> Batch {
        let hasher = foldhash::quality::RandomState::default();
        let mut parser = crate::parse::Parser::new();
        let mut b = Batch::default();
        for &(time, client, target, status) in lines {
            let stamp = chrono::DateTime::from_timestamp(time, 0).unwrap();
            let line = format!(
                "{client} - - {} \"GET {target} HTTP/1.1\" {status} 10 \"-\" \"curl/8\"",
                stamp.format("[%d/%b/%Y:%H:%M:%S +0000]")
            );
            b.push(&parser.parse(line.as_bytes()).unwrap(), &hasher);
        }
        b
    }

    #[test]
    fn reports_carry_the_drill_down_tables_of_their_period() {
        let b = parsed(&[
            (0, "10.0.0.1", "/a/x?q=1", 200),
            (1, "10.0.0.1", "/a/x", 404),
            (2, "10.0.0.2", "/b", 200),
            (12, "10.0.0.3", "/c", 500),
        ]);
        let out = replay(&[b], CFG);
        let r = reports(&out);
        let d = &r[0].drill;
        assert_eq!(d.codes, [(200, 2), (404, 1)]);
        let clients: Vec<_> = d
            .clients
            .rows
            .iter()
            .map(|r| (r.name.as_str(), r.hits, r.errors))
            .collect();
        assert_eq!(clients, [("10.0.0.1", 2, 1), ("10.0.0.2", 1, 0)]);
        assert_eq!(d.paths.rows[0].name, "/a/x");
        assert_eq!(d.agents.rows[0].name, "curl/8");
        assert!(d.agents.rows[0].bot);
        assert!(d.referrers.rows.is_empty(), "`-` is no referrer");
        assert_eq!(d.countries, None);
        assert_eq!(r[1].drill.codes, [(500, 1)], "each period its own");
        assert_eq!(r[1].drill.clients.rows[0].name, "10.0.0.3");
    }

    #[test]
    fn a_line_that_jumped_the_clock_keeps_its_keys() {
        // The first line waits for the second to confirm the clock.
        let out = replay(&[parsed(&[(100, "10.0.0.9", "/first", 200)])], CFG);
        assert_eq!(reports(&out)[0].drill.clients.rows[0].name, "10.0.0.9");
        let out = replay(
            &[parsed(&[
                (100, "10.0.0.1", "/a", 200),
                (101, "10.0.0.2", "/b", 200),
            ])],
            CFG,
        );
        let paths: Vec<_> = (reports(&out)[0].drill.paths.rows.iter())
            .map(|r| r.name.as_str())
            .collect();
        assert_eq!(paths, ["/a", "/b"]);
    }

    #[test]
    fn an_alert_names_the_sections_and_clients_that_drove_it() {
        // 2 req/s of /home from ten clients for four minutes, then one
        // client adds 10 req/s on /api: the alert (threshold 5 req/s over
        // 60 s) names /api and that client.
        let cfg = Config {
            window_secs: 60,
            threshold: 5.0,
            ..CFG
        };
        let mut lines = Vec::new();
        let clients: Vec<String> = (0..10).map(|i| format!("10.0.0.{i}")).collect();
        for t in 0..300 {
            for k in 0..2 {
                lines.push((t, clients[(t as usize * 2 + k) % 10].as_str(), "/home", 200));
            }
            if t >= 240 {
                for _ in 0..10 {
                    lines.push((t, "203.0.113.7", "/api/login", 401));
                }
            }
        }
        let out = replay(&[parsed(&lines)], cfg);
        let alert = out
            .iter()
            .find_map(|e| match e {
                Event::Alert(a) => Some(a),
                _ => None,
            })
            .expect("an alert");
        let d = &alert.drivers;
        assert_eq!(d.sections.len(), 1, "/home did not grow: {d:?}");
        assert_eq!(d.sections[0].name, "/api");
        assert_eq!(d.sections[0].previous_hits, 0);
        assert_eq!(d.clients[0].name, "203.0.113.7");
        assert_eq!(d.clients[0].hits, d.sections[0].hits);
        // The alert fires once 2 + 10 req/s for s seconds pass 300 hits in
        // the window: the flood's hits are all in the window.
        assert_eq!(d.sections[0].hits, (alert.at - 240 + 1) as u64 * 10);
        // The windows are whole periods (10 s): right to half a period.
        assert!(d.window_hits.abs_diff(alert.hits) <= 5 * 12, "{d:?}");
        assert!(out.iter().all(|e| match e {
            Event::Recovered(r) => r.drivers.is_empty(),
            _ => true,
        }));
    }

    /// A wall monitor at 1003 with one-second reports turned off (period
    /// 10), 2 hits a second counted until 1005 (exclusive).
    fn stepping(cfg: Config) -> (Monitor, Vec<Event>) {
        let mut m = Monitor::wall(cfg, 1003);
        let mut out = Vec::new();
        m.add(&batch(&steady(1003..1005, 2), "/a"), &mut out);
        m.tick(1005, &mut out);
        (m, out)
    }

    #[test]
    fn a_forward_step_goes_on_from_the_new_time_without_empty_reports() {
        // date -s '+600 seconds' at 1005
        let (mut m, mut out) = stepping(CFG);
        m.clock_stepped(1005, 600, &mut out);
        m.tick(1606, &mut out);
        assert!(reports(&out).is_empty(), "no burst: {out:?}");
        m.add(&batch(&steady(1606..1607, 2), "/a"), &mut out);
        m.tick(1611, &mut out);
        m.add(&batch(&steady(1611..1612, 2), "/a"), &mut out);
        m.tick(1621, &mut out);
        let spans: Vec<_> = reports(&out)
            .iter()
            .map(|r| (r.start, r.end, r.stats.hits, r.window_hits))
            .collect();
        // The period that spans the step, from its start moved by 600 s.
        assert_eq!(spans, [(1603, 1610, 6, 6), (1610, 1620, 2, 8)]);
        m.finish(&mut out);
        let s = summary(&out);
        assert_eq!((s.start, s.end, s.hits), (1603, 1622, 8));
    }

    #[test]
    fn a_backward_step_goes_on_reporting_at_once() {
        // date -s '-60 seconds' at 1005
        let (mut m, mut out) = stepping(CFG);
        m.clock_stepped(1005, -60, &mut out);
        m.add(&batch(&steady(946..948, 2), "/a"), &mut out);
        m.tick(951, &mut out);
        let spans: Vec<_> = reports(&out)
            .iter()
            .map(|r| (r.start, r.end, r.stats.hits, r.window_hits))
            .collect();
        assert_eq!(spans, [(943, 950, 8, 8)], "not silent until 1010");
        m.tick(961, &mut out);
        assert_eq!(reports(&out).len(), 2);
    }

    #[test]
    fn a_step_neither_ends_nor_raises_an_alert() {
        let cfg = Config {
            window_secs: 10,
            threshold: 1.0,
            period_secs: 5,
            ..CFG
        };
        for by in [600, -60] {
            let mut m = Monitor::wall(cfg, 1000);
            let mut out = Vec::new();
            for s in 1000..1020 {
                m.add(&batch(&steady(s..s + 1, 3), "/a"), &mut out);
                m.tick(s + 1, &mut out);
            }
            assert_eq!(alerts(&out), [("alert", 12, 1003)]);
            m.clock_stepped(1020, by, &mut out);
            for s in 1020 + by..1040 + by {
                m.add(&batch(&steady(s..s + 1, 3), "/a"), &mut out);
                m.tick(s + 1, &mut out);
            }
            assert_eq!(alerts(&out), [("alert", 12, 1003)], "step {by}");
            assert!(m.alerting());
            // It still started 37 s ago, on the new clock.
            let last = reports(&out).last().map(|r| r.alert_since).unwrap();
            assert_eq!(last, Some(1003 + by));
            m.finish(&mut out);
            let hits: u64 = reports(&out).iter().map(|r| r.stats.hits).sum();
            assert_eq!(hits, 120, "step {by}");
        }
    }

    #[test]
    fn a_step_on_the_log_clock_changes_nothing() {
        let mut m = Monitor::log(CFG);
        let mut out = Vec::new();
        m.add(&batch(&[100, 101], "/a"), &mut out);
        m.clock_stepped(101, 600, &mut out);
        assert_eq!(m.now(), Some(101));
    }
    #[test]
    fn lines_read_late_close_the_seconds_they_were_written_in() {
        // kill -STOP for 10 s while 30 lines a second are written, then
        // kill -CONT: the loop says the time, then counts what was read.
        let cfg = Config {
            window_secs: 5,
            threshold: 10.0,
            period_secs: 1,
            ..CFG
        };
        let mut m = Monitor::wall(cfg, 1000);
        let mut out = Vec::new();
        for s in 1000..1010 {
            m.add(&batch(&steady(s..s + 1, 30), "/a"), &mut out);
            m.tick(s + 1, &mut out);
        }
        assert_eq!(alerts(&out), [("alert", 60, 1001)]);
        assert!(m.behind(1020));
        m.clock_at(1020);
        m.add(&batch(&steady(1010..1020, 30), "/a"), &mut out);
        m.add(&batch(&steady(1020..1021, 30), "/a"), &mut out);
        assert!(!m.behind(1020), "every second before 1020 is closed");
        m.tick(1020, &mut out);
        m.tick(1021, &mut out);
        assert_eq!(alerts(&out), [("alert", 60, 1001)], "no recovery");
        let hits: Vec<u64> = reports(&out).iter().map(|r| r.stats.hits).collect();
        assert_eq!(hits, [30; 21], "each second its own lines");
    }

    #[test]
    fn lines_stamped_ahead_of_the_clock_still_count_at_now() {
        let mut m = Monitor::wall(CFG, 1000);
        let mut out = Vec::new();
        m.clock_at(1005);
        // One line from a writer whose clock runs 2 s ahead.
        m.add(&batch(&[1007], "/a"), &mut out);
        assert_eq!(m.now(), Some(1005), "closed up to the clock, not beyond");
        assert_eq!(m.window_hits(), 1);
        assert_eq!(m.far_ahead(), 0);
    }
}
