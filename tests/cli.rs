//! The real binary: help, usage errors, missing files, inputs with nothing
//! to report, and `--replay` over fixture logs with known reports and
//! alert times, plus one live run.

// A test's notes (a skip, a caveat) go to the harness, which captures them:
// the printing macros refused in the crate (clippy.toml) are fine here.
#![allow(clippy::disallowed_macros)]

mod support;

use support::{fixture, logmon};

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

fn run(args: &[&str]) -> Output {
    logmon().args(args).output().expect("run logmon")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Parse JSON-lines output.
fn events(o: &Output) -> Vec<Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn of_type<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == kind).collect()
}

/// A CLF line stamped `t` (unix seconds).
fn clf(t: i64, path: &str) -> String {
    let time = chrono::DateTime::from_timestamp(t, 0).unwrap();
    format!(
        "10.0.0.{} - - [{}] \"GET {path} HTTP/1.1\" 200 512\n",
        t % 200,
        time.format("%d/%b/%Y:%H:%M:%S +0000")
    )
}

#[test]
fn help_documents_every_option() {
    let o = run(&["--help"]);
    assert!(o.status.success());
    let help = stdout(&o);
    for option in [
        "--threshold",
        "--period",
        "--window",
        "--top",
        "--replay",
        "--format",
        "--color",
        "--demo",
        "--help",
        "--version",
        "LOG_FILE",
        "/var/log/access.log",
    ] {
        assert!(help.contains(option), "--help does not mention {option}");
    }
    assert!(!help.contains("--poll-ms"), "test knobs stay hidden");
}

#[test]
fn version_prints_the_crate_version() {
    let o = run(&["--version"]);
    assert!(o.status.success());
    assert_eq!(
        stdout(&o).trim(),
        format!("logmon {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn bad_values_are_usage_errors_with_status_2() {
    for args in [
        &["--threshold", "-1"][..],
        &["--threshold", "abc"],
        &["--threshold", "0"],
        &["--period", "0"],
        &["--window", "0"],
        &["--top", "-3"],
        &["--format", "xml"],
        &["--demo", "access.log"],
        &["--demo", "--replay"],
        &["--no-such-flag"],
    ] {
        let o = run(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("error:"), "{args:?}");
        assert!(!stderr(&o).contains("panicked"));
    }
}

#[test]
fn a_missing_file_in_replay_is_one_clear_error() {
    let o = run(&["--replay", "no/such/access.log"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert_eq!(
        err, "logmon: cannot open no/such/access.log: No such file or directory\n",
        "no (os error 2)"
    );
    assert!(o.stdout.is_empty());
}

#[test]
fn negative_numbers_get_logmons_own_message() {
    for (args, want) in [
        (&["--threshold", "-1"][..], "must be above 0"),
        (&["-t", "-0.5"], "must be above 0"),
        (&["--period", "-1"], "must be above 0"),
        (&["--window", "-10"], "must be above 0"),
        (&["--top", "-3"], "must be 0 or more"),
    ] {
        let o = run(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = stderr(&o);
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(!err.contains("-- -"), "no advice to write `-- -1`: {err}");
    }
    // --top 0 lists no section, and is valid.
    let o = run(&["--replay", "--top", "0", &fixture("sample.log")]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stdout(&o).contains("section"));
}

#[test]
fn completions_and_man_ignore_the_other_options() {
    for args in [
        &["--completions", "bash", "--threshold", "0"][..],
        &["--threshold", "-1", "--completions", "zsh"],
        &["--man", "--demo", "x.log", "--period", "0"],
        &["--replay", "--man"],
    ] {
        let o = logmon()
            .args(args)
            .env("LOGMON_WINDOW", "0")
            .output()
            .unwrap();
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        assert!(stdout(&o).contains("threshold"), "{args:?}");
    }
    let o = run(&["--completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("possible values"), "{}", stderr(&o));
}

#[test]
fn without_a_log_file_logmon_lists_the_usual_logs_instead_of_waiting() {
    if Path::new("/var/log/access.log").exists() {
        println!("note: /var/log/access.log exists here: logmon would follow it");
        return;
    }
    let start = Instant::now();
    let o = logmon().stdin(Stdio::null()).output().expect("run logmon");
    assert!(start.elapsed() < Duration::from_secs(10), "it did not wait");
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.starts_with("logmon: no LOG_FILE given, and /var/log/access.log does not exist\n"),
        "{err}"
    );
    // Either the usual logs that exist here, or the list of those checked.
    assert!(
        err.contains("/var/log/nginx/access.log") || err.contains("logmon /"),
        "{err}"
    );
    assert!(err.contains("\n  "), "{err}");
    assert!(err.lines().all(|l| l.len() <= 80), "{err}");
    assert!(o.stdout.is_empty());
    // An explicit missing path is waited for (when following), as before.
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("later.log");
    let mut child = logmon()
        .arg(&missing)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let err = support::lines_of(child.stderr.take().unwrap());
    let waiting = support::wait_for(&err, "to appear", support::WAIT);
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(waiting.is_ok(), "{waiting:?}");
}

/// Replay `bytes` as a file, with `args`.
fn replay_bytes(bytes: &[u8], args: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("access.log");
    fs::write(&path, bytes).unwrap();
    logmon()
        .current_dir(dir.path())
        .arg("--replay")
        .args(args)
        .arg("access.log")
        .output()
        .expect("run logmon")
}

#[test]
fn a_replay_with_no_request_says_so_and_prints_no_1970_date() {
    for (name, bytes) in [
        ("an empty file", &b""[..]),
        ("blank lines", b"\n\n  \r\n\t\n"),
        (
            "W3C directives",
            b"#Version: 1.0\n#Fields: date time c-ip\n",
        ),
    ] {
        let o = replay_bytes(bytes, &[]);
        assert_eq!(o.status.code(), Some(0), "{name}: {}", stderr(&o));
        assert_eq!(stdout(&o), "== summary: no requests\n", "{name}");
        let o = replay_bytes(bytes, &["--format", "json"]);
        let ev = events(&o);
        assert_eq!(ev.len(), 1, "{name}: only the summary");
        let s = &ev[0];
        assert_eq!(
            (s["hits"].as_u64(), s["invalid"].as_u64()),
            (Some(0), Some(0))
        );
        assert!(s["start"].is_null() && s["end"].is_null(), "{name}: {s}");
        assert!(!stdout(&o).contains("1970"), "{name}");
    }
}

#[test]
fn blank_lines_are_neither_requests_nor_invalid() {
    let log = [clf(1_000_000, "/a"), "\n   \n".into(), clf(1_000_001, "/b")].concat();
    let o = replay_bytes(log.as_bytes(), &["--format", "json"]);
    let s = of_type(&events(&o), "summary")[0].clone();
    assert_eq!(
        (s["hits"].as_u64(), s["invalid"].as_u64()),
        (Some(2), Some(0))
    );
}

#[test]
fn a_replay_where_nothing_parses_is_an_error_that_says_why() {
    let mut junk = String::from("hello \x1b[31mworld\n");
    junk.push_str(&"x".repeat(300));
    junk.push('\n');
    junk.push_str(&"more junk\n".repeat(27));
    for format in ["text", "json"] {
        let o = replay_bytes(junk.as_bytes(), &["--format", format]);
        assert_eq!(o.status.code(), Some(1), "{format}");
        assert!(o.stdout.is_empty(), "no report, no 1970: {}", stdout(&o));
        let err = stderr(&o);
        assert!(
            err.starts_with(
                "logmon: no line of access.log parses (29 lines read)\n  \
                 tried clf (and its presets), w3c, iis and json\n  \
                 the first: hello \\x1b[31mworld\n  \
                 give the format with --log-format: a preset (see --help), or the\n  \
                 log_format line of nginx.conf, or the LogFormat line of Apache's config\n"
            ),
            "{err}"
        );
    }
    // The first line is cut at 200 characters.
    let long = format!("{}\n", "y".repeat(500));
    let err = stderr(&replay_bytes(long.as_bytes(), &["--log-format", "clf"]));
    let quoted = err
        .lines()
        .find_map(|l| l.strip_prefix("  the first: "))
        .unwrap();
    assert_eq!(quoted.chars().count(), 200, "{quoted}");
    assert!(quoted.ends_with('…'));
    assert!(err.contains(" (1 line read)\n  tried clf only\n"), "{err}");
}

#[test]
fn a_compressed_file_is_named_as_such() {
    // gzip and zstd magic numbers, then junk.
    for (magic, kind, cat) in [
        (&[0x1f, 0x8b, 0x08, 0x00][..], "gzip", "zcat"),
        (&[0x28, 0xb5, 0x2f, 0xfd], "zstd", "zstdcat"),
    ] {
        let bytes = [magic, &[0xaa; 100], b"\n", &[0x55; 100]].concat();
        let o = replay_bytes(&bytes, &[]);
        assert_eq!(o.status.code(), Some(1), "{kind}");
        assert!(o.stdout.is_empty());
        assert_eq!(
            stderr(&o),
            format!(
                "logmon: cannot read access.log: it is {kind}-compressed, and logmon reads \
                 plain text\n  decompress it on the way: {cat} access.log | logmon --replay -\n"
            )
        );
    }
    // Followed, too, and from stdin.
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("access.log.gz");
    fs::write(&gz, [0x1f, 0x8b, 0x08, 0x00, b'\n']).unwrap();
    let o = logmon().arg(&gz).stdin(Stdio::null()).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("it is gzip-compressed"),
        "{}",
        stderr(&o)
    );
    let o = logmon()
        .args(["--replay", "-"])
        .stdin(fs::File::open(&gz).unwrap())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("cannot read stdin: it is gzip-compressed"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_directory_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap();
    for args in [&["--replay", path][..], &[path]] {
        let o = run(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        let err = stderr(&o);
        assert!(err.starts_with("logmon: cannot open"), "{err}");
        assert!(err.contains("directory"), "{err}");
    }
}

#[test]
fn replay_text_report_of_the_sample_log() {
    let o = run(&["--replay", "--color", "always", &fixture("sample.log")]);
    assert!(o.status.success(), "{}", stderr(&o));
    // --color always colours; strip it to compare the text.
    let plain = regex::Regex::new("\x1b\\[[0-9;]*m")
        .unwrap()
        .replace_all(&stdout(&o), "")
        .into_owned();
    let want = fs::read_to_string(fixture("sample.txt")).unwrap();
    assert_eq!(plain, want);
    assert_ne!(stdout(&o), want, "--color always adds colour");
    // Not a terminal: no colour by default.
    let o = run(&["--replay", &fixture("sample.log")]);
    assert_eq!(stdout(&o), want);
}

#[test]
fn replay_json_of_the_sample_log() {
    let o = run(&["--replay", "--format", "json", &fixture("sample.log")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let ev = events(&o);
    let reports = of_type(&ev, "report");
    let spans: Vec<_> = reports
        .iter()
        .map(|r| {
            (
                r["start"].as_str().unwrap(),
                r["end"].as_str().unwrap(),
                r["hits"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        spans,
        [
            ("2018-05-09T16:00:39Z", "2018-05-09T16:00:40Z", 1),
            ("2018-05-09T16:00:40Z", "2018-05-09T16:00:50Z", 8),
            ("2018-05-09T16:00:50Z", "2018-05-09T16:01:00Z", 3),
            ("2018-05-09T16:01:00Z", "2018-05-09T16:01:03Z", 1),
        ]
    );
    let r = reports[1];
    assert_eq!(r["invalid"], 1);
    assert_eq!(r["status"]["4xx"], 2);
    assert_eq!(r["status"]["5xx"], 1);
    assert_eq!(r["methods"]["OTHER"], 2, "PROPFIND and a \"-\" request");
    assert_eq!(r["sections"][0]["section"], "/api");
    assert_eq!(r["sections"][0]["hits"], 4);
    assert_eq!(r["sections"][0]["errors"], 1);
    assert_eq!(r["sections"][3]["section"], "http://my.site.com/pages");
    let s = of_type(&ev, "summary")[0];
    assert_eq!(
        (s["hits"].as_u64(), s["invalid"].as_u64()),
        (Some(13), Some(1))
    );
    assert_eq!(s["alerts"], 0);
    assert!(of_type(&ev, "alert").is_empty());
}

/// The example: 15 req/s for 300 s, then 2 req/s for 300 s.
#[test]
fn replay_alerts_at_second_80_and_recovers_at_second_346() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("access.log");
    let t0 = 1_772_366_400; // 2026-03-01T12:00:00Z
    let mut log = String::new();
    for s in 0..600 {
        for _ in 0..if s < 300 { 15 } else { 2 } {
            log.push_str(&clf(t0 + s, "/api/x"));
        }
    }
    fs::write(&path, log).unwrap();

    let o = run(&["--replay", "--format", "json", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let ev = events(&o);
    let transitions: Vec<_> = ev
        .iter()
        .filter(|e| e["type"] == "alert" || e["type"] == "recovered")
        .map(|e| {
            (
                e["type"].as_str().unwrap(),
                e["hits"].as_u64().unwrap(),
                e["at"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        transitions,
        [
            ("alert", 1215, "2026-03-01T12:01:20Z"),
            ("recovered", 1189, "2026-03-01T12:05:46Z"),
        ]
    );
    let reports = of_type(&ev, "report");
    assert_eq!(reports.len(), 60);
    let hits: u64 = reports.iter().map(|r| r["hits"].as_u64().unwrap()).sum();
    assert_eq!(hits, 15 * 300 + 2 * 300);
    assert_eq!(reports[8]["alerting"], true, "12:01:20 to 12:01:30");
    assert_eq!(reports[7]["alerting"], false);

    let o = run(&["--replay", path.to_str().unwrap()]);
    let text = stdout(&o);
    let alerts: Vec<_> = text
        .lines()
        .filter(|l| l.starts_with("High traffic"))
        .collect();
    assert_eq!(alerts.len(), 2);
    assert!(alerts[0].starts_with(
        "High traffic generated an alert - hits = 1215, triggered at 2026-03-01T12:01:20+00:00"
    ));
    assert!(alerts[1].starts_with(
        "High traffic alert recovered - hits = 1189, recovered at 2026-03-01T12:05:46+00:00"
    ));
}

#[test]
fn replay_parses_a_last_line_without_newline() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("access.log");
    let mut log = clf(1_000_000, "/a");
    log.push_str(clf(1_000_001, "/b").trim_end());
    fs::write(&path, log).unwrap();
    let o = run(&["--replay", "--format", "json", path.to_str().unwrap()]);
    let ev = events(&o);
    assert_eq!(of_type(&ev, "summary")[0]["hits"], 2);
}

#[test]
fn replay_reads_standard_input_with_a_dash() {
    let mut child = logmon()
        .args(["--replay", "--format", "json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for t in 0..30 {
        stdin
            .write_all(clf(2_000_000 + t, "/s").as_bytes())
            .unwrap();
    }
    drop(stdin);
    let o = child.wait_with_output().unwrap();
    let ev = events(&o);
    assert_eq!(of_type(&ev, "summary")[0]["hits"], 30);
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Lines of the child's stdout, read on a thread.
fn lines_of(stdout: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Wait for a line that satisfies `pred`, up to `timeout`.
fn wait_for(
    rx: &mpsc::Receiver<String>,
    timeout: Duration,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx
            .recv_timeout(left)
            .unwrap_or_else(|e| panic!("no matching line within {timeout:?}: {e}"));
        let v: Value = serde_json::from_str(&line).unwrap();
        if pred(&v) {
            return v;
        }
    }
}

fn append(path: &Path, text: &str) {
    let mut f = fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

/// // logmon access.log & ; echo ... >> access.log ; kill -TERM $!
#[test]
fn follows_a_growing_file_and_reports_every_line_by_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("access.log");
    fs::write(&path, clf(unix_now() - 3600, "/old")).unwrap();
    let mut child = logmon()
        .args(["--period", "1", "--poll-ms", "20", "--format", "json"])
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rx = lines_of(child.stdout.take().unwrap());
    // The first (possibly empty) report proves the loop is running.
    wait_for(&rx, Duration::from_secs(10), |v| v["type"] == "report");
    for _ in 0..5 {
        append(&path, &clf(unix_now(), "/live/page"));
    }
    let seen = wait_for(&rx, Duration::from_secs(10), |v| {
        v["type"] == "report" && v["hits"].as_u64() > Some(0)
    });
    assert_eq!(seen["sections"][0]["section"], "/live");
    append(&path, &clf(unix_now(), "/live/page"));
    thread::sleep(Duration::from_millis(200));
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let summary = wait_for(&rx, Duration::from_secs(10), |v| v["type"] == "summary");
    assert_eq!(
        summary["hits"], 6,
        "the old line is not reported, the six new are"
    );
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "SIGTERM ends cleanly: {}", stderr(&o));
}
