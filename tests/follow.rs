//! The real `logmon` binary following a temp log through what logrotate, a
//! web server and a shell do to it: appends, partial lines, rotation,
//! truncation, deletion, symlinks, standard input, signals and backfill.
//!
//! Every test runs `--period 1 --format json`, counts the lines it writes,
//! and checks that the `hits` of all reports add up to exactly that number
//! and to the summary's: a line lost or counted twice fails the test.
//!
//! Synchronisation is by what logmon prints (reports, notices on stderr),
//! read through channels with generous timeouts, never by a fixed sleep.
//! Short sleeps only space out writes so that they land in separate polls.

mod support;

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::Value;
use support::logmon;

/// Long enough for a loaded machine; a passing test never waits this long.
const TIMEOUT: Duration = Duration::from_secs(15);
/// A rotated file's unfinished last line comes out after logmon's 5 s linger.
const LINGER_TIMEOUT: Duration = Duration::from_secs(25);

/// A CLF line stamped `at`, with its newline.
fn line_at(at: DateTime<Utc>) -> String {
    format!(
        "127.0.0.1 - - {} \"GET /api/user HTTP/1.1\" 200 12\n",
        at.format("[%d/%b/%Y:%H:%M:%S +0000]")
    )
}

/// A CLF line stamped now, with its newline.
fn line() -> String {
    line_at(Utc::now())
}

/// `n` lines stamped now, as one string.
fn lines(n: usize) -> String {
    (0..n).map(|_| line()).collect()
}

/// `printf "$text" >> path`
fn append(path: &Path, text: &str) {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

/// A short pause so that writes land in different polls (`--poll-ms 50`).
fn pause() {
    thread::sleep(Duration::from_millis(200));
}

/// A running `logmon --period 1 --poll-ms 50 --format json ...`, with its
/// stdout and stderr read into channels by two threads.
struct Logmon {
    child: Child,
    stdin: Option<ChildStdin>,
    events: Receiver<Value>,
    stderr: Receiver<String>,
    /// Stderr lines seen so far.
    errors: Vec<String>,
    /// Sum of `hits` over the reports seen so far.
    report_hits: u64,
    /// Sum of `invalid` over the reports seen so far.
    report_invalid: u64,
    /// Every event seen so far, in order.
    seen: Vec<Value>,
}

/// What a run printed after it ended.
struct Finished {
    report_hits: u64,
    report_invalid: u64,
    summary: Value,
    seen: Vec<Value>,
    errors: Vec<String>,
}

impl Logmon {
    /// Starts logmon on `log` (a path, or `-` with a piped stdin), with
    /// `--period 1` and `--poll-ms 50` unless `extra` sets others.
    fn start(log: &Path, extra: &[&str]) -> Logmon {
        let period: &[&str] = if extra.contains(&"--period") {
            &[]
        } else {
            &["--period", "1"]
        };
        let poll: &[&str] = if extra.contains(&"--poll-ms") {
            &[]
        } else {
            &["--poll-ms", "50"]
        };
        let mut child = logmon()
            .args(period)
            .args(poll)
            .args(["--format", "json"])
            .args(extra)
            .arg(log)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run logmon");
        let stdin = child.stdin.take();
        let out = BufReader::new(child.stdout.take().unwrap());
        let err = BufReader::new(child.stderr.take().unwrap());
        let (tx, events) = mpsc::channel();
        thread::spawn(move || {
            for l in out.lines().map_while(Result::ok) {
                let v: Value = serde_json::from_str(&l).unwrap_or_else(|e| panic!("{e}: {l}"));
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        let (tx, stderr) = mpsc::channel();
        thread::spawn(move || {
            for l in err.lines().map_while(Result::ok) {
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        Logmon {
            child,
            stdin,
            events,
            stderr,
            errors: Vec::new(),
            report_hits: 0,
            report_invalid: 0,
            seen: Vec::new(),
        }
    }

    /// Reads events until one satisfies `pred` and returns it; panics after
    /// `timeout`. Every event read is tallied and kept in `seen`.
    fn wait_for(&mut self, what: &str, timeout: Duration, pred: impl Fn(&Self, &Value) -> bool) {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let v = match self.events.recv_timeout(left) {
                Ok(v) => v,
                Err(RecvTimeoutError::Timeout) => {
                    self.fail(&format!("timed out waiting for {what}"))
                }
                Err(RecvTimeoutError::Disconnected) => {
                    self.fail(&format!("stdout closed while waiting for {what}"))
                }
            };
            if v["type"] == "report" {
                self.report_hits += v["hits"].as_u64().unwrap();
                self.report_invalid += v["invalid"].as_u64().unwrap();
            }
            self.seen.push(v.clone());
            if pred(self, &v) {
                return;
            }
        }
    }

    /// Waits for the next report: the loop (and its clock) is running.
    fn wait_report(&mut self) {
        self.wait_for("a report", TIMEOUT, |_, v| v["type"] == "report");
    }

    /// Waits until the reports have counted `n` hits in all.
    fn wait_hits(&mut self, n: u64, timeout: Duration) {
        self.wait_for(&format!("{n} hits"), timeout, |m, _| m.report_hits >= n);
    }

    /// Waits for a stderr line containing `text`.
    fn wait_stderr(&mut self, text: &str) {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(l) => {
                    let found = l.contains(text);
                    self.errors.push(l);
                    if found {
                        return;
                    }
                }
                Err(_) => self.fail(&format!("no `{text}` on stderr")),
            }
        }
    }

    /// `kill -TERM $pid`, then reads to the end: the run must end with exit
    /// status 0 after a final report and the summary.
    fn stop(self) -> Finished {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
        self.finish()
    }

    /// Reads to the summary and waits for the exit (the input has ended or
    /// a signal was sent).
    fn finish(mut self) -> Finished {
        self.wait_for("the summary", TIMEOUT, |_, v| v["type"] == "summary");
        let summary = self.seen.last().unwrap().clone();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "exit status {status}");
        self.errors.extend(self.stderr.try_iter());
        Finished {
            report_hits: self.report_hits,
            report_invalid: self.report_invalid,
            summary,
            seen: std::mem::take(&mut self.seen),
            errors: std::mem::take(&mut self.errors),
        }
    }

    fn fail(&mut self, why: &str) -> ! {
        let _ = self.child.kill();
        self.errors.extend(self.stderr.try_iter());
        panic!(
            "{why}; report hits {}, events {:#?}, stderr {:#?}",
            self.report_hits, self.seen, self.errors
        );
    }
}

impl Drop for Logmon {
    fn drop(&mut self) {
        // A failed test must not leave a logmon running.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Finished {
    /// Whether logmon said some lines may be missing.
    fn said_missing(&self) -> bool {
        self.errors.iter().any(|l| l.contains("may be missing"))
    }

    /// Every line written was counted exactly once, in reports and summary.
    fn assert_counted(&self, written: u64, invalid: u64) {
        assert_eq!(
            self.report_hits, written,
            "report hits, events {:#?}",
            self.seen
        );
        assert_eq!(self.summary["hits"], written, "summary {}", self.summary);
        assert_eq!(self.report_invalid, invalid, "report invalid");
        assert_eq!(self.summary["invalid"], invalid, "summary {}", self.summary);
    }
}

/// A temp dir with `access.log` (not created) in it.
fn temp() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    (dir, log)
}

#[test]
fn appended_lines_are_counted_once_and_earlier_lines_not_at_all() {
    // seq 3 > access.log; logmon access.log & seq 5 >> access.log; kill -TERM $!
    let (_dir, log) = temp();
    append(&log, &lines(3));
    let mut m = Logmon::start(&log, &[]);
    m.wait_report();
    append(&log, &lines(2));
    pause();
    append(&log, &lines(3));
    m.wait_hits(5, TIMEOUT);
    m.stop().assert_counted(5, 0);
}

#[test]
fn a_partial_line_is_held_until_its_newline_and_counted_once() {
    // printf '127.0.0.1 - - [...' >> access.log; sleep 1; printf '... 200 12\n' >> access.log
    let (_dir, log) = temp();
    File::create(&log).unwrap();
    let mut m = Logmon::start(&log, &[]);
    m.wait_report();
    let text = line();
    let (head, tail) = text.split_at(30);
    append(&log, head);
    // Let reports and polls pass while the line is half written.
    m.wait_report();
    m.wait_report();
    append(&log, tail);
    append(&log, &line());
    m.wait_hits(2, TIMEOUT);
    m.stop().assert_counted(2, 0);
}

#[test]
fn rename_rotation_counts_late_writes_to_the_old_file_and_its_last_partial_line() {
    // nginx keeps its handle: mv access.log access.log.1; touch access.log;
    // echo >> (old handle); echo >> access.log; printf 'last' >> (old handle)
    let (dir, log) = temp();
    File::create(&log).unwrap();
    let mut m = Logmon::start(&log, &[]);
    m.wait_report();
    let mut writer = OpenOptions::new().append(true).open(&log).unwrap();
    writer.write_all(lines(2).as_bytes()).unwrap();
    m.wait_hits(2, TIMEOUT);

    fs::rename(&log, dir.path().join("access.log.1")).unwrap();
    // Written after the rename, before logmon can have noticed it.
    writer.write_all(line().as_bytes()).unwrap();
    append(&log, &line());
    m.wait_stderr("rotated");
    writer.write_all(lines(2).as_bytes()).unwrap();
    append(&log, &lines(2));
    pause();
    // The writer's last line, never finished: counted when the old file is
    // let go after being idle for 5 s.
    let last = line();
    writer.write_all(last.trim_end().as_bytes()).unwrap();
    append(&log, &line());
    m.wait_hits(10, LINGER_TIMEOUT);
    m.stop().assert_counted(10, 0);
}

#[test]
fn copytruncate_reads_the_truncated_file_from_byte_0() {
    // cp access.log access.log.1; : > access.log; echo >> access.log
    let (dir, log) = temp();
    File::create(&log).unwrap();
    let mut m = Logmon::start(&log, &[]);
    m.wait_report();
    append(&log, &lines(3));
    m.wait_hits(3, TIMEOUT);
    let ino = std::os::unix::fs::MetadataExt::ino(&fs::metadata(&log).unwrap());
    fs::copy(&log, dir.path().join("access.log.1")).unwrap();
    File::create(&log).unwrap();
    m.wait_stderr("truncated");
    append(&log, &lines(2));
    assert_eq!(
        std::os::unix::fs::MetadataExt::ino(&fs::metadata(&log).unwrap()),
        ino,
        "copytruncate keeps the inode"
    );
    m.wait_hits(5, TIMEOUT);
    m.stop().assert_counted(5, 0);
}

#[test]
fn a_same_size_rewrite_under_a_new_inode_is_read_as_a_new_file() {
    // printf "$two_lines" > tmp; mv tmp access.log   (same size as before)
    let (dir, log) = temp();
    File::create(&log).unwrap();
    let mut m = Logmon::start(&log, &[]);
    m.wait_report();
    let old = lines(2);
    append(&log, &old);
    m.wait_hits(2, TIMEOUT);
    let new = lines(2);
    assert_eq!(new.len(), old.len());
    let tmp = dir.path().join("tmp");
    fs::write(&tmp, &new).unwrap();
    fs::rename(&tmp, &log).unwrap();
    m.wait_stderr("replaced");
    m.wait_hits(4, TIMEOUT);
    m.stop().assert_counted(4, 0);
}

#[test]
fn a_missing_file_is_waited_for_while_reports_go_on_and_read_from_byte_0() {
    // logmon access.log & sleep 2; seq 3 > access.log
    let (_dir, log) = temp();
    let mut m = Logmon::start(&log, &[]);
    m.wait_stderr(&format!("waiting for {} to appear", log.display()));
    m.wait_report();
    m.wait_report();
    append(&log, &lines(3));
    m.wait_stderr("appeared");
    m.wait_hits(3, TIMEOUT);
    let done = m.stop();
    done.assert_counted(3, 0);
    let waiting = done.errors.iter().filter(|l| l.contains("waiting")).count();
    assert_eq!(waiting, 1, "said once: {:?}", done.errors);
}

#[test]
fn a_deleted_file_is_waited_for_and_picked_up_when_recreated() {
    // rm access.log; sleep 2; echo >> access.log
    let (_dir, log) = temp();
    File::create(&log).unwrap();
    let mut m = Logmon::start(&log, &[]);
    m.wait_report();
    append(&log, &lines(2));
    m.wait_hits(2, TIMEOUT);
    fs::remove_file(&log).unwrap();
    m.wait_stderr("disappeared");
    m.wait_report();
    m.wait_report();
    append(&log, &lines(2));
    m.wait_stderr("appeared");
    m.wait_hits(4, TIMEOUT);
    m.stop().assert_counted(4, 0);
}

#[test]
fn a_line_over_64_kib_is_counted_invalid_and_the_lines_around_it_valid() {
    // echo >> access.log; head -c 100000 /dev/zero | tr '\0' x >> access.log; echo >> access.log
    let (_dir, log) = temp();
    File::create(&log).unwrap();
    let mut m = Logmon::start(&log, &[]);
    m.wait_report();
    append(&log, &line());
    // Written in pieces across polls, so logmon sees it grow past the limit.
    for _ in 0..4 {
        append(&log, &"x".repeat(25_000));
        pause();
    }
    append(&log, "\n");
    append(&log, &line());
    m.wait_for("the invalid line", TIMEOUT, |m, _| {
        m.report_hits >= 2 && m.report_invalid >= 1
    });
    m.stop().assert_counted(2, 1);
}

#[test]
fn a_symlink_pointed_at_another_file_is_followed_to_it() {
    // ln -s a.log access.log; logmon access.log & ln -sfn b.log access.log
    let (dir, log) = temp();
    let (a, b) = (dir.path().join("a.log"), dir.path().join("b.log"));
    File::create(&a).unwrap();
    std::os::unix::fs::symlink("a.log", &log).unwrap();
    let mut m = Logmon::start(&log, &[]);
    m.wait_report();
    append(&a, &lines(2));
    m.wait_hits(2, TIMEOUT);
    append(&b, &lines(2));
    // Retarget atomically, as `ln -sfn b.log tmp && mv -T tmp access.log`.
    std::os::unix::fs::symlink("b.log", dir.path().join("tmp")).unwrap();
    fs::rename(dir.path().join("tmp"), &log).unwrap();
    m.wait_stderr("rotated");
    append(&b, &lines(1));
    // The old target, still written for a moment, is drained too.
    append(&a, &lines(1));
    m.wait_hits(6, TIMEOUT);
    m.stop().assert_counted(6, 0);
}

#[test]
fn stdin_is_followed_on_the_wall_clock_until_it_ends() {
    // (seq 3; printf last) | logmon -
    let mut m = Logmon::start(Path::new("-"), &[]);
    m.wait_report();
    let mut stdin = m.stdin.take().unwrap();
    stdin.write_all(lines(3).as_bytes()).unwrap();
    stdin.flush().unwrap();
    m.wait_hits(3, TIMEOUT);
    stdin.write_all(line().trim_end().as_bytes()).unwrap();
    drop(stdin);
    // No signal: the end of input ends the run.
    let done = m.finish();
    done.assert_counted(4, 0);
    let reports = done.seen.iter().filter(|v| v["type"] == "report").count();
    assert!(
        reports >= 2,
        "reports come on the wall clock: {:?}",
        done.seen
    );
}

#[test]
fn a_named_pipe_is_read_as_a_stream_until_it_ends() {
    // mkfifo access.log; logmon access.log & seq 3 > access.log
    let (_dir, log) = temp();
    let made = Command::new("mkfifo")
        .arg(&log)
        .status()
        .expect("run mkfifo");
    assert!(made.success());
    let mut m = Logmon::start(&log, &[]);
    // Opening for writing waits for logmon to open it for reading.
    let mut pipe = OpenOptions::new().write(true).open(&log).unwrap();
    pipe.write_all(lines(3).as_bytes()).unwrap();
    m.wait_hits(3, TIMEOUT);
    pipe.write_all(line().as_bytes()).unwrap();
    drop(pipe);
    m.finish().assert_counted(4, 0);
}

#[test]
fn stdin_replay_reads_to_the_end_on_the_log_clock() {
    // zcat access.log.*.gz | logmon --replay -
    let start = Utc::now() - chrono::Duration::days(30);
    let text: String = (0..50)
        .map(|i| line_at(start + chrono::Duration::seconds(i / 5)))
        .collect();
    let mut m = Logmon::start(Path::new("-"), &["--replay"]);
    let mut stdin = m.stdin.take().unwrap();
    stdin.write_all(text.trim_end().as_bytes()).unwrap();
    drop(stdin);
    let done = m.finish();
    done.assert_counted(50, 0);
    let reports = done.seen.iter().filter(|v| v["type"] == "report").count();
    assert_eq!(reports, 10, "one per second of log time: {:?}", done.seen);
}

#[test]
fn sigterm_reports_the_partial_period_and_the_summary_and_exits_0() {
    // logmon --period 3600 access.log & echo >> access.log; kill -TERM $!
    let (_dir, log) = temp();
    // A one-hour period, so only the shutdown can print a report. The alert
    // (1 hit in 5 s is above 0.1/s) shows when the lines have been read.
    let mut m = Logmon::start(&log, &["--period", "3600", "-w", "5", "-t", "0.1"]);
    // Created once logmon is waiting for it, so that it is read from byte 0
    // rather than backfilled.
    m.wait_stderr("waiting for");
    append(&log, &lines(2));
    m.wait_for("an alert", TIMEOUT, |_, v| v["type"] == "alert");
    let t = Instant::now();
    let done = m.stop();
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "took {:?}",
        t.elapsed()
    );
    done.assert_counted(2, 0);
    let report = done.seen.iter().find(|v| v["type"] == "report").unwrap();
    assert_ne!(report["start"], report["end"]);
    assert!(done.summary["alerting"].as_bool().unwrap());
}

#[test]
fn lines_written_just_before_sigterm_are_counted() {
    // logmon access.log & seq 3 > access.log; kill -TERM $!
    let (_dir, log) = temp();
    let mut m = Logmon::start(&log, &[]);
    m.wait_stderr("waiting for");
    append(&log, &lines(3));
    // No wait: logmon polls once more at the signal.
    m.stop().assert_counted(3, 0);
}

#[test]
fn backfill_fires_an_alert_at_the_start_time_without_counting_old_lines() {
    // loggen 2 minutes of 5 req/s, ending now > access.log; logmon -t 1 access.log
    let (_dir, log) = temp();
    let now = Utc::now();
    let mut text = String::new();
    // An hour-old stretch before the window, which must not be read back.
    for i in 0..2000 {
        text.push_str(&line_at(now - chrono::Duration::seconds(3600 + i)));
    }
    for s in (0..120).rev() {
        for _ in 0..5 {
            text.push_str(&line_at(now - chrono::Duration::seconds(s)));
        }
    }
    append(&log, &text);
    let mut m = Logmon::start(&log, &["-t", "1"]);
    m.wait_for("an alert", TIMEOUT, |_, v| v["type"] == "alert");
    m.wait_report();
    let first = m
        .seen
        .iter()
        .find(|v| v["type"] == "report")
        .unwrap()
        .clone();
    let done = m.stop();
    let alert = done.seen.iter().find(|v| v["type"] == "alert").unwrap();
    assert_eq!(alert["at"], done.summary["start"], "fired at the start");
    assert_eq!(first["start"], done.summary["start"]);
    // 600 lines in the window, less the few that aged out since.
    let window = first["window_hits"].as_u64().unwrap();
    assert!((500..=600).contains(&window), "window {window}");
    assert!(first["alerting"].as_bool().unwrap());
    done.assert_counted(0, 0);
}

#[test]
fn timestamps_far_from_the_clock_are_counted_with_one_warning() {
    // logmon access.log & (lines stamped an hour ago) >> access.log
    let (_dir, log) = temp();
    File::create(&log).unwrap();
    let mut m = Logmon::start(&log, &[]);
    m.wait_report();
    let old = Utc::now() - chrono::Duration::hours(1);
    append(&log, &line_at(old));
    m.wait_stderr("behind the clock");
    pause();
    append(&log, &line_at(old).repeat(2));
    m.wait_hits(3, TIMEOUT);
    let done = m.stop();
    done.assert_counted(3, 0);
    let warnings = done.errors.iter().filter(|l| l.contains("clock")).count();
    assert_eq!(warnings, 1, "{:?}", done.errors);
}

#[test]
fn timestamps_far_ahead_of_the_clock_are_counted_at_now_with_one_warning() {
    // logmon access.log & (lines stamped three hours ahead) >> access.log
    let (_dir, log) = temp();
    File::create(&log).unwrap();
    let mut m = Logmon::start(&log, &[]);
    m.wait_report();
    let ahead = Utc::now() + chrono::Duration::hours(3);
    append(&log, &line_at(ahead));
    m.wait_stderr("ahead of the clock");
    pause();
    append(&log, &line_at(ahead).repeat(2));
    m.wait_hits(3, TIMEOUT);
    let done = m.stop();
    done.assert_counted(3, 0);
    let warnings = done.errors.iter().filter(|l| l.contains("clock")).count();
    assert_eq!(warnings, 1, "{:?}", done.errors);
}

// Rotation faster than logmon can look: with inotify every file that
// appears at the path is opened at once; without it (or when a burst
// outruns the events) the rotated files are found in the directory.

#[test]
fn rename_rotation_every_20_ms_for_10_s_counts_all_20000_lines() {
    // while :; do (40 lines) >> access.log; mv access.log access.log.$i; sleep 0.02; done
    // like a web server that writes on through its old handle until it
    // reopens the log after each rename
    let (dir, log) = temp();
    File::create(&log).unwrap();
    let mut m = Logmon::start(&log, &[]);
    m.wait_report();
    let start = Instant::now();
    let mut writer = OpenOptions::new().append(true).open(&log).unwrap();
    for i in 1..=500u32 {
        for _ in 0..3 {
            writer.write_all(lines(10).as_bytes()).unwrap();
            thread::sleep(Duration::from_millis(4));
        }
        fs::rename(&log, dir.path().join(format!("access.log.{i}"))).unwrap();
        writer.write_all(lines(10).as_bytes()).unwrap();
        writer = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let next = start + Duration::from_millis(20) * i;
        thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    m.wait_hits(20_000, LINGER_TIMEOUT);
    let done = m.stop();
    done.assert_counted(20_000, 0);
    assert!(!done.said_missing(), "{:?}", done.errors);
}

/// Five rename rotations to distinct names in a burst (well inside 50 ms),
/// 10 lines each, then a fresh empty log, as `logrotate` with `create`.
fn five_renames_in_a_burst(extra: &[&str]) -> Finished {
    // for i in 1 2 3 4 5; do (10 lines) >> access.log; mv access.log access.log.$i; done; touch access.log
    let (dir, log) = temp();
    File::create(&log).unwrap();
    let mut m = Logmon::start(&log, extra);
    m.wait_report();
    for i in 1..=5 {
        append(&log, &lines(10));
        fs::rename(&log, dir.path().join(format!("access.log.{i}"))).unwrap();
    }
    File::create(&log).unwrap();
    m.wait_hits(50, TIMEOUT);
    m.stop()
}

#[test]
fn five_renames_inside_50_ms_count_all_50_lines() {
    let done = five_renames_in_a_burst(&[]);
    done.assert_counted(50, 0);
    assert!(!done.said_missing(), "{:?}", done.errors);
}

#[test]
fn without_inotify_five_renames_inside_one_poll_are_caught_up_from_the_directory() {
    let done = five_renames_in_a_burst(&["--no-inotify", "--poll-ms", "1000"]);
    done.assert_counted(50, 0);
    assert!(!done.said_missing(), "{:?}", done.errors);
    let caught_up = done.errors.iter().any(|l| l.contains("rotated faster"));
    assert!(caught_up, "{:?}", done.errors);
}

/// After logmon has read 20 lines: 10 more, `cp`, truncate, 2 lines, all
/// at once.
fn copytruncate_in_a_burst(extra: &[&str]) -> Finished {
    // (10 lines) >> access.log; cp access.log access.log.1; : > access.log; (2 lines) >> access.log
    let (dir, log) = temp();
    File::create(&log).unwrap();
    let mut m = Logmon::start(&log, extra);
    m.wait_report();
    append(&log, &lines(20));
    m.wait_hits(20, TIMEOUT);
    append(&log, &lines(10));
    fs::copy(&log, dir.path().join("access.log.1")).unwrap();
    OpenOptions::new()
        .write(true)
        .open(&log)
        .unwrap()
        .set_len(0)
        .unwrap();
    append(&log, &lines(2));
    m.wait_hits(32, TIMEOUT);
    m.stop()
}

#[test]
fn copytruncate_inside_one_poll_counts_all_32_lines() {
    let done = copytruncate_in_a_burst(&["--no-inotify", "--poll-ms", "1000"]);
    done.assert_counted(32, 0);
    let copy = done
        .errors
        .iter()
        .any(|l| l.contains("its copy access.log.1"));
    assert!(copy, "{:?}", done.errors);
}

#[test]
fn copytruncate_with_inotify_counts_all_32_lines() {
    copytruncate_in_a_burst(&[]).assert_counted(32, 0);
}
