//! The real binary following several logs at once: paths and globs, a
//! rotation of one of them, a file that a glob gains while running, and
//! logs of different formats side by side; and `--from-start`.
//!
//! Each test counts the lines it writes to each file and checks that the
//! `files` of the reports add up to exactly that, and their sum to the
//! hits: a line lost or counted twice fails the test. Synchronisation is by
//! what logmon prints, with generous timeouts, never by a fixed sleep.

mod support;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::thread;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::Value;
use support::{append, lines_of, logmon};

const TIMEOUT: Duration = Duration::from_secs(20);

/// A Combined line stamped `at`.
fn combined(at: DateTime<Utc>, path: &str) -> String {
    format!(
        "10.0.0.1 - - {} \"GET {path} HTTP/1.1\" 200 12 \"-\" \"curl/8\"\n",
        at.format("[%d/%b/%Y:%H:%M:%S +0000]")
    )
}

/// `n` Combined lines stamped now.
fn lines(n: usize, path: &str) -> String {
    (0..n).map(|_| combined(Utc::now(), path)).collect()
}

/// A short pause so that writes land in different polls.
fn pause() {
    thread::sleep(Duration::from_millis(200));
}

/// A running logmon with `--format json`, its events and stderr read by
/// threads.
struct Run {
    child: Child,
    /// stdout, a JSON event a line.
    events: Receiver<String>,
    stderr: Receiver<String>,
    seen: Vec<Value>,
    errors: Vec<String>,
}

impl Run {
    /// `logmon --period 1 --poll-ms 50 --format json ARGS` in `dir`.
    fn start(dir: &Path, args: &[&str]) -> Run {
        let mut child = logmon()
            .current_dir(dir)
            .args(["--period", "1", "--poll-ms", "50", "--format", "json"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run logmon");
        let events = lines_of(child.stdout.take().unwrap());
        let stderr = lines_of(child.stderr.take().unwrap());
        Run {
            child,
            events,
            stderr,
            seen: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// Reads events until `done` holds for those seen so far.
    fn wait(&mut self, what: &str, done: impl Fn(&[Value]) -> bool) {
        let deadline = Instant::now() + TIMEOUT;
        while !done(&self.seen) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(l) => self
                    .seen
                    .push(serde_json::from_str(&l).unwrap_or_else(|e| panic!("{e}: {l}"))),
                Err(_) => {
                    let _ = self.child.kill();
                    self.errors.extend(self.stderr.try_iter());
                    panic!("no {what}; saw {:#?}\nstderr {:#?}", self.seen, self.errors);
                }
            }
        }
    }

    fn wait_report(&mut self) {
        let before = reports(&self.seen).len();
        self.wait("report", |seen| reports(seen).len() > before);
    }

    fn wait_hits(&mut self, n: u64) {
        self.wait(&format!("{n} hits"), |seen| hits(seen) >= n);
    }

    /// Waits for a stderr line containing `text`.
    fn wait_stderr(&mut self, text: &str) {
        let deadline = Instant::now() + TIMEOUT;
        while !self.errors.iter().any(|l| l.contains(text)) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(l) => self.errors.push(l),
                Err(_) => panic!("no `{text}` on stderr: {:#?}", self.errors),
            }
        }
    }

    /// `kill -TERM`, then read to the summary and the exit.
    fn stop(mut self) -> (Vec<Value>, Vec<String>) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        self.wait("summary", |seen| {
            seen.last().is_some_and(|v| v["type"] == "summary")
        });
        assert!(self.child.wait().unwrap().success());
        self.errors.extend(self.stderr.try_iter());
        (
            std::mem::take(&mut self.seen),
            std::mem::take(&mut self.errors),
        )
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn reports(seen: &[Value]) -> Vec<&Value> {
    seen.iter().filter(|v| v["type"] == "report").collect()
}

fn hits(seen: &[Value]) -> u64 {
    reports(seen)
        .iter()
        .map(|r| r["hits"].as_u64().unwrap())
        .sum()
}

/// The hits of each file over all reports; each report's files add up to
/// its hits.
fn per_file(seen: &[Value]) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for r in reports(seen) {
        let files = r["files"].as_array().expect("a files field");
        let mut sum = 0;
        for f in files {
            let n = f["hits"].as_u64().unwrap();
            *out.entry(f["file"].as_str().unwrap().to_owned())
                .or_default() += n;
            sum += n;
        }
        assert_eq!(sum, r["hits"].as_u64().unwrap(), "{r}");
    }
    out
}

fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(f, n)| (f.to_string(), *n)).collect()
}

#[test]
fn two_files_followed_at_once_count_every_line_through_a_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.log"), dir.path().join("b.log"));
    append(&a, "");
    append(&b, "");
    let mut run = Run::start(dir.path(), &["a.log", "b.log"]);
    run.wait_stderr("following 2 files:");
    run.wait_report();
    append(&a, &lines(5, "/a"));
    append(&b, &lines(3, "/b"));
    pause();
    // mv b.log b.log.1; the writer finishes with its old handle, then
    // writes to a new b.log.
    fs::rename(&b, dir.path().join("b.log.1")).unwrap();
    append(&dir.path().join("b.log.1"), &lines(2, "/b"));
    append(&b, &lines(4, "/b"));
    append(&a, &lines(3, "/a"));
    run.wait_hits(17);
    let (seen, errors) = run.stop();
    assert_eq!(per_file(&seen), counts(&[("a.log", 8), ("b.log", 9)]));
    let summary = seen.last().unwrap();
    assert_eq!(summary["hits"], 17, "{errors:?}");
    // Seen between the rename and the new file, the rotation is a file
    // that went and came back: either way it is said.
    let said = |what: &str| errors.iter().any(|l| l.contains(what));
    assert!(
        said("b.log: file rotated")
            || (said("b.log: file disappeared") && said("b.log: file appeared")),
        "{errors:?}"
    );
}

#[test]
fn a_glob_picks_up_a_file_created_while_running_and_skips_archives() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    fs::create_dir(&logs).unwrap();
    append(&logs.join("a.log"), &lines(3, "/old"));
    let mut run = Run::start(dir.path(), &["logs/*.log"]);
    run.wait_stderr("following 1 file:");
    run.wait_report();
    // A new virtual host, and an archive that the glob also matches.
    append(&logs.join("c.log"), &lines(4, "/c"));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, lines(50, "/gz").as_bytes()).unwrap();
    fs::write(logs.join("old.log"), gz.finish().unwrap()).unwrap();
    run.wait_stderr("logs/c.log: new file, reading it from the start");
    append(&logs.join("c.log"), &lines(1, "/c"));
    append(&logs.join("a.log"), &lines(2, "/a"));
    run.wait_hits(7);
    let (seen, _) = run.stop();
    assert_eq!(
        per_file(&seen),
        counts(&[("logs/a.log", 2), ("logs/c.log", 5)])
    );
    assert_eq!(seen.last().unwrap()["hits"], 7);
}

#[test]
fn an_nginx_and_a_w3c_log_are_followed_together_each_in_its_format() {
    let dir = tempfile::tempdir().unwrap();
    let nginx = dir.path().join("access.log");
    let iis = dir.path().join("u_ex.log");
    append(&nginx, "");
    append(
        &iis,
        "#Software: Microsoft Internet Information Services 10.0\n\
         #Fields: date time cs-method cs-uri-stem sc-status time-taken\n",
    );
    let mut run = Run::start(dir.path(), &["access.log", "u_ex.log"]);
    run.wait_report();
    let w3c = |n: usize| -> String {
        (0..n)
            .map(|_| {
                format!(
                    "{} GET /iis/page 200 15\n",
                    Utc::now().format("%Y-%m-%d %H:%M:%S")
                )
            })
            .collect()
    };
    append(&iis, &w3c(3));
    append(&nginx, &lines(2, "/nginx"));
    pause();
    append(&iis, &w3c(1));
    append(&nginx, &lines(1, "/nginx"));
    run.wait_hits(7);
    let (seen, errors) = run.stop();
    assert_eq!(
        per_file(&seen),
        counts(&[("access.log", 3), ("u_ex.log", 4)])
    );
    let invalid: u64 = reports(&seen)
        .iter()
        .map(|r| r["invalid"].as_u64().unwrap())
        .sum();
    assert_eq!(invalid, 0, "{errors:?}");
}

#[test]
fn a_glob_over_a_rotated_set_follows_the_log_and_counts_each_line_once() {
    // logmon 'access.log*' beside access.log.1 and access.log.2.gz, then
    // logrotate: mv access.log.1 access.log.2; mv access.log access.log.1.
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str| dir.path().join(name);
    append(&at("access.log"), &lines(2, "/old"));
    append(&at("access.log.1"), &lines(2, "/older"));
    fs::write(at("access.log.2.gz"), [0x1f, 0x8b, 0x08, 0x00]).unwrap();
    let mut run = Run::start(dir.path(), &["access.log*"]);
    run.wait_stderr("following 1 file:");
    run.wait_report();
    append(&at("access.log"), &lines(3, "/a"));
    pause();
    fs::rename(at("access.log.1"), at("access.log.2")).unwrap();
    fs::rename(at("access.log"), at("access.log.1")).unwrap();
    append(&at("access.log.1"), &lines(1, "/a"));
    append(&at("access.log"), &lines(4, "/a"));
    run.wait_hits(8);
    // Past a glob's second look at the directory.
    thread::sleep(reader_glob_every() + Duration::from_millis(500));
    append(&at("access.log"), &lines(1, "/a"));
    run.wait_hits(9);
    let (seen, errors) = run.stop();
    assert_eq!(per_file(&seen), counts(&[("access.log", 9)]), "{errors:?}");
    assert_eq!(seen.last().unwrap()["hits"], 9);
}

/// How often logmon expands globs again.
fn reader_glob_every() -> Duration {
    logmon::reader::GLOB_EVERY
}

/// `n` Combined lines stamped `at`.
fn lines_at(at: i64, n: usize) -> String {
    let at = DateTime::from_timestamp(at, 0).unwrap();
    (0..n).map(|_| combined(at, "/api")).collect()
}

#[test]
fn from_start_replays_an_alerts_start_then_follows_with_one_alert_and_no_gap() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    // 20 s at 1 req/s, then 10 s at 5 req/s up to now: above 2 req/s over
    // a 10 s window from a few seconds before now.
    let now = support::unix_now();
    let mut backlog = String::new();
    for t in now - 30..now - 10 {
        backlog.push_str(&lines_at(t, 1));
    }
    for t in now - 10..now {
        backlog.push_str(&lines_at(t, 5));
    }
    append(&log, &backlog);
    let args = ["--from-start", "-t", "2", "-w", "10", "access.log"];
    let mut run = Run::start(dir.path(), &args);
    run.wait("the alert", |seen| {
        seen.iter().any(|v| v["type"] == "alert")
    });
    // Live traffic at 5 req/s for a few seconds.
    let mut live = 0;
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until {
        append(&log, &lines(1, "/live"));
        live += 1;
        thread::sleep(Duration::from_millis(200));
    }
    run.wait_hits(70 + live);
    let (seen, errors) = run.stop();
    let alerts = seen.iter().filter(|v| v["type"] == "alert").count();
    assert_eq!(alerts, 1, "{seen:#?}");
    assert!(!seen.iter().any(|v| v["type"] == "recovered"), "{seen:#?}");
    let reports = reports(&seen);
    for pair in reports.windows(2) {
        assert_eq!(pair[1]["start"], pair[0]["end"], "reports are continuous");
    }
    assert_eq!(hits(&seen), 70 + live);
    let summary = seen.last().unwrap();
    assert_eq!(
        (summary["hits"].as_u64(), summary["alerts"].as_u64()),
        (Some(70 + live), Some(1))
    );
    assert!(
        errors.iter().all(|e| !e.contains("behind the clock")),
        "{errors:?}"
    );
}

#[test]
fn from_start_marks_the_end_of_the_backlog_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    let now = support::unix_now();
    append(
        &log,
        &(now - 5..now).map(|t| lines_at(t, 2)).collect::<String>(),
    );
    let mut child = logmon()
        .current_dir(dir.path())
        .args(["--from-start", "--period", "1", "access.log"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = support::lines_of(child.stdout.take().unwrap());
    let line = support::wait_for(&out, "== backlog", TIMEOUT).expect("the backlog's end");
    assert!(line.starts_with("== backlog read up to "), "{line}");
    assert!(line.ends_with("; following live from here"), "{line}");
    assert!(line.chars().count() <= 80 && !line.to_lowercase().contains("alert"));
    let report = support::wait_for(&out, "-- ", TIMEOUT).expect("a live report");
    assert!(report.starts_with("-- "));
    let _ = child.kill();
    let _ = child.wait();
}
