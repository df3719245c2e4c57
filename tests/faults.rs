//! The real binary under faults from outside the log (issue 13): a stderr
//! that cannot be written, a reader of stdout that goes away, a process
//! stopped for a while, a window too long to hold.
//!
//! Every wait is bounded; a child is killed when its guard drops.

// A test's notes (a skip, a caveat) go to the harness, which captures them:
// the printing macros refused in the crate (clippy.toml) are fine here.
#![allow(clippy::disallowed_macros)]

mod support;

use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{append, clf, fixture, logmon, pinned, unix_now};

/// Long enough for a loaded machine; a passing test never waits this long.
const TIMEOUT: Duration = Duration::from_secs(20);

/// `n` lines stamped now.
fn lines(n: usize) -> String {
    clf(unix_now(), "/api/user", 200, 12).repeat(n)
}

/// `sh -c SCRIPT sh LOGMON ARGS...`: logmon run by a shell script (which
/// refers to it as `"$@"`), in the tests' pinned environment.
fn in_shell(script: &str, args: &[&str]) -> Command {
    let mut sh = pinned(Command::new("sh"));
    sh.arg("-c")
        .arg(script)
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_logmon"))
        .args(args);
    sh
}

/// A child killed when dropped.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Guard {
    /// Wait for the child to exit, at most `within`.
    fn wait(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Send a signal with the shell's `kill` (std sends only SIGKILL).
    fn signal(&self, name: &str) {
        let status = Command::new("sh")
            .arg("-c")
            .arg(format!("kill -{name} {}", self.0.id()))
            .status()
            .unwrap();
        assert!(status.success());
    }
}

/// JSON lines from `r`, read by a thread into a channel.
fn json_lines(r: impl Read + Send + 'static) -> Receiver<Value> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for l in BufReader::new(r).lines().map_while(Result::ok) {
            let v: Value = serde_json::from_str(&l).unwrap_or_else(|e| panic!("{e}: {l}"));
            if tx.send(v).is_err() {
                break;
            }
        }
    });
    rx
}

/// Reports from `rx` until their hits add up to `hits`; panics on timeout.
fn wait_hits(rx: &Receiver<Value>, hits: u64, seen: &mut u64) {
    let deadline = Instant::now() + TIMEOUT;
    while *seen < hits {
        let left = deadline.saturating_duration_since(Instant::now());
        let event = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("{seen} hits reported of {hits}"));
        if event["type"] == "report" {
            *seen += event["hits"].as_u64().unwrap();
        }
    }
}

#[test]
fn a_replay_with_a_full_stderr_still_prints_its_summary_and_exits_0() {
    // logmon --replay --format json example.log 2>/dev/full
    let Ok(full) = File::options().write(true).open("/dev/full") else {
        eprintln!("skipping: no /dev/full");
        return;
    };
    // `auto` announces the format it found on stderr: a write that fails.
    let out = logmon()
        .args(["--replay", "--format", "json"])
        .arg(fixture("example.log"))
        .stdin(Stdio::null())
        .stderr(full)
        .output()
        .unwrap();
    assert!(out.status.success(), "{:?}", out.status);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let summary: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["hits"], 920);
}

#[test]
fn following_with_stderr_closed_survives_a_notice() {
    // logmon --period 1 access.log 2>&- ; then access.log is truncated
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    fs::write(&log, "").unwrap();
    let mut child = Guard(
        in_shell(
            "exec \"$@\" 2>&-",
            &["--period", "1", "--poll-ms", "50", "--format", "json"],
        )
        .arg(&log)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap(),
    );
    let events = json_lines(child.0.stdout.take().unwrap());
    let mut seen = 0;
    // Following from the end once the first report is out.
    let first = events.recv_timeout(TIMEOUT).expect("a first report");
    assert_eq!(first["type"], "report");
    append(&log, &lines(5));
    wait_hits(&events, 5, &mut seen);
    // Shorter than what was read: "file truncated", a notice on stderr.
    fs::write(&log, lines(2)).unwrap();
    wait_hits(&events, 7, &mut seen);
    append(&log, &lines(3));
    wait_hits(&events, 10, &mut seen);
    child.signal("INT");
    let status = child.wait(TIMEOUT).expect("logmon ends after SIGINT");
    assert!(status.success(), "{status:?}");
    let last = events.iter().last().expect("a summary");
    assert_eq!(
        (last["type"].as_str(), last["hits"].as_u64()),
        (Some("summary"), Some(10))
    );
}

#[test]
fn a_format_switching_on_every_line_gives_a_few_notices_that_count_the_rest() {
    // 50,000 flips: a `#Fields:` block, then a CLF line, and again.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("flips.log");
    let mut text = String::new();
    for i in 0..50_000 {
        let (m, s) = (i / 60 % 60, i % 60);
        text.push_str(&format!(
            "#Fields: date time cs-method cs-uri-stem sc-status\n\
             2026-03-01 12:{m:02}:{s:02} GET /w3c 200\n\
             127.0.0.1 - - [01/Mar/2026:12:{m:02}:{s:02} +0000] \"GET /clf HTTP/1.1\" 200 5\n"
        ));
    }
    fs::write(&log, text).unwrap();
    let started = Instant::now();
    let out = logmon()
        .args(["--replay", "--format", "json"])
        .arg(&log)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{:?}", out.status);
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    // For each of the two switches, a notice then a count a second (two
    // lines each with a long path), and the last count.
    let secs = started.elapsed().as_secs();
    assert!(lines.len() as u64 <= 1 + 2 * 2 * (secs + 2), "{stderr}");
    // Every switch is shown or counted: 99,999 after the first choice. A
    // count says "(N more times)", on a line of its own for a long path.
    let mut switches = 0;
    for (i, line) in lines.iter().enumerate() {
        let count = match line.split_once(" more time") {
            Some((head, _)) => head.rsplit([' ', '(']).next().unwrap().parse().unwrap(),
            // The head of a count on the next line is not a notice shown.
            None if lines.get(i + 1).is_some_and(|l| l.starts_with("  ")) => 0,
            None => 1,
        };
        if line.contains("switched from") || line.starts_with("  ") {
            switches += count;
        }
    }
    assert_eq!(switches, 99_999, "{stderr}");
}

#[test]
fn a_quiet_follow_ends_soon_after_the_reader_of_its_output_goes() {
    // logmon --period 3600 access.log 2>&1 | head -1
    // head exits after logmon's first line (its startup notice); nothing
    // more would be written for an hour.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    fs::write(&log, "").unwrap();
    let mut child = Guard(
        in_shell("\"$@\" 2>&1 | head -1", &["--period", "3600"])
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut first = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("logmon: following"), "{first}");
    let gone = Instant::now();
    let status = child
        .wait(Duration::from_secs(2))
        .expect("logmon ends within 2 s of head");
    assert!(status.success(), "{status:?}");
    assert!(gone.elapsed() < Duration::from_secs(2));
}

#[test]
fn a_quiet_follow_exits_0_when_its_stdout_pipe_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    fs::write(&log, "").unwrap();
    let mut child = Guard(
        logmon()
            .args(["--period", "3600", "--quiet"])
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    thread::sleep(Duration::from_millis(300));
    assert!(child.0.try_wait().unwrap().is_none(), "still following");
    drop(child.0.stdout.take());
    let status = child
        .wait(Duration::from_secs(2))
        .expect("logmon ends within 2 s of its reader");
    let mut stderr = String::new();
    let mut pipe = child.0.stderr.take().unwrap();
    pipe.read_to_string(&mut stderr).unwrap();
    assert!(status.success(), "{status:?}: {stderr}");
    assert_eq!(
        stderr, "",
        "a closed pipe is how pipelines end, not an error"
    );
}

#[test]
fn a_window_longer_than_a_day_is_a_usage_error() {
    let out = logmon()
        .args(["--window", "86401", "--replay"])
        .arg(fixture("example.log"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("must be at most 86400"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn a_day_long_window_alerts_once_on_the_example_log() {
    // 920 lines in 380 s: more than 0.01 req/s * 86,400 s = 864.
    let out = logmon()
        .args(["--replay", "--format", "json", "--window", "86400"])
        .args(["--threshold", "0.01"])
        .arg(fixture("example.log"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{:?}", out.status);
    let events: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let alerts: Vec<&Value> = events.iter().filter(|e| e["type"] == "alert").collect();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["hits"], 865);
    assert!(events.iter().all(|e| e["type"] != "recovered"));
    let summary = events.last().unwrap();
    assert_eq!(
        (summary["hits"].as_u64(), summary["alerts"].as_u64()),
        (Some(920), Some(1))
    );
}

/// Events from `rx` into `seen` until one satisfies `done`; panics on
/// timeout.
fn collect_until(rx: &Receiver<Value>, seen: &mut Vec<Value>, done: impl Fn(&[Value]) -> bool) {
    let deadline = Instant::now() + TIMEOUT;
    while !done(seen) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(event) => seen.push(event),
            Err(_) => panic!("timed out; saw {seen:?}"),
        }
    }
}

fn report_hits(events: &[Value]) -> u64 {
    events
        .iter()
        .filter(|e| e["type"] == "report")
        .map(|e| e["hits"].as_u64().unwrap())
        .sum()
}

#[test]
fn a_stopped_process_counts_the_lines_written_meanwhile_in_their_seconds() {
    // Traffic at 3x the threshold; kill -STOP for 10 s; kill -CONT.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    fs::write(&log, "").unwrap();
    let mut child = Guard(
        logmon()
            .args(["--period", "1", "--window", "5", "--threshold", "10"])
            .args(["--poll-ms", "50", "--format", "json", "--quiet"])
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let rx = json_lines(child.0.stdout.take().unwrap());
    let mut seen = Vec::new();
    // Following from the end once the first report is out.
    collect_until(&rx, &mut seen, |seen| !seen.is_empty());

    // 30 lines a second, stamped when written, until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (log, stop) = (log.clone(), stop.clone());
        thread::spawn(move || {
            let mut written = 0;
            while !stop.load(Ordering::SeqCst) {
                append(&log, &lines(3));
                written += 3;
                thread::sleep(Duration::from_millis(100));
            }
            written
        })
    };
    collect_until(&rx, &mut seen, |seen| {
        seen.iter().any(|e| e["type"] == "alert")
    });
    child.signal("STOP");
    thread::sleep(Duration::from_secs(10));
    child.signal("CONT");
    thread::sleep(Duration::from_secs(2));
    stop.store(true, Ordering::SeqCst);
    let written = writer.join().unwrap();
    collect_until(&rx, &mut seen, |seen| report_hits(seen) >= written);
    child.signal("INT");
    let status = child.wait(TIMEOUT).expect("logmon ends after SIGINT");
    assert!(status.success(), "{status:?}");
    seen.extend(rx.iter());

    let kinds = |kind: &str| seen.iter().filter(|e| e["type"] == kind).count();
    let story = brief(&seen);
    assert_eq!(kinds("recovered"), 0, "{story}");
    assert_eq!(kinds("alert"), 1, "no second alert: {story}");
    assert_eq!(report_hits(&seen), written);
    assert_eq!(seen.last().unwrap()["hits"].as_u64(), Some(written));
    // The seconds of the stop had their lines: no report of 0 hits while
    // the writer wrote (the first report came before it started).
    let empty = seen[1..]
        .iter()
        .filter(|e| e["type"] == "report" && e["hits"] == 0)
        .count();
    assert!(empty <= 1, "{empty} empty reports: {story}");
}

/// One line per event: its type, its time and its hits (the window's in
/// brackets), to read a failure.
fn brief(events: &[Value]) -> String {
    let mut out = String::new();
    for e in events {
        let at = e["start"].as_str().or(e["at"].as_str()).unwrap_or("");
        out.push_str(&format!(
            "\n{} {} {} [{}]",
            e["type"].as_str().unwrap_or("?"),
            at.get(11..19).unwrap_or(at),
            e["hits"],
            e["window_hits"]
        ));
    }
    out
}
