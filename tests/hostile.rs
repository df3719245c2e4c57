//! The real binary against hostile input and hostile output.
//!
//! Whoever can send an HTTP request writes into the access log, and
//! whoever runs logmon may point its stdout at a closed pipe or a full
//! disk. Each test names what it defends against. Across all of them, no
//! run may panic: stderr never holds `panicked` or `RUST_BACKTRACE`.

// A test's notes (a skip, a caveat) go to the harness, which captures them:
// the printing macros refused in the crate (clippy.toml) are fine here.
#![allow(clippy::disallowed_macros)]

mod support;

use support::{events_of, logmon};

use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

/// 09/May/2018:16:00:39 +0000.
const T0: i64 = 1_525_881_639;

/// The longest any one run here may take, so a hang fails instead of
/// stalling the suite.
const DEADLINE: Duration = Duration::from_secs(120);

/// Run `cmd` to the end (killing it past `DEADLINE`) and check that it did
/// not panic, whatever else it did.
fn run(cmd: &mut Command) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn logmon");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let stdout = thread::spawn(move || {
        let mut buf = Vec::new();
        out.read_to_end(&mut buf).map(|_| buf)
    });
    let stderr = thread::spawn(move || {
        let mut buf = Vec::new();
        err.read_to_end(&mut buf).map(|_| buf)
    });
    let status = wait(&mut child);
    let output = Output {
        status,
        stdout: stdout.join().unwrap().unwrap(),
        stderr: stderr.join().unwrap().unwrap(),
    };
    assert_no_panic(&output.stderr);
    output
}

/// Wait for `child`, killing it and failing past `DEADLINE`.
fn wait(child: &mut std::process::Child) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            panic!("logmon still running after {DEADLINE:?}");
        }
        thread::sleep(Duration::from_millis(10));
    }
}

fn assert_no_panic(stderr: &[u8]) {
    let text = String::from_utf8_lossy(stderr);
    assert!(
        !text.contains("panicked") && !text.contains("RUST_BACKTRACE"),
        "{text}"
    );
}

/// `logmon --replay --format json ARGS... PATH`.
fn replay_json(path: &Path, args: &[&str]) -> Output {
    run(logmon()
        .args(["--replay", "--format", "json"])
        .args(args)
        .arg(path))
}

/// The one summary event, which a successful replay always ends with.
fn summary(o: &Output) -> Value {
    assert!(
        o.status.success(),
        "{:?}: {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    let events = events_of(o);
    let last = events.last().expect("some output").clone();
    assert_eq!(last["type"], "summary", "{last}");
    last
}

/// A valid CLF line stamped `t` (unix seconds), as bytes with its newline.
fn clf(t: i64, request: &str) -> Vec<u8> {
    let time = chrono::DateTime::from_timestamp(t, 0).unwrap();
    format!(
        "10.0.0.{} - - [{}] \"{request}\" 200 512\n",
        t.rem_euclid(200),
        time.format("%d/%b/%Y:%H:%M:%S +0000")
    )
    .into_bytes()
}

fn good(t: i64) -> Vec<u8> {
    clf(t, "GET /pages/a HTTP/1.1")
}

/// Deterministic binary garbage without a newline (xorshift64).
fn garbage(len: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            match state as u8 {
                b'\n' => 0,
                b => b,
            }
        })
        .collect()
}

#[test]
fn each_hostile_line_is_counted_and_the_good_lines_around_it_survive() {
    // Each case sits between two good lines. The good ones must always
    // count; the case counts as a hit or as invalid, never as neither, and
    // never stops the run. (Blank lines, which count as neither, have their
    // own test in formats.rs.)
    let line = |text: &str| format!("{text}\n").into_bytes();
    let ok = r#"10.0.0.9 - - [09/May/2018:16:00:40 +0000] "GET /x HTTP/1.1""#;
    let cases: Vec<(&str, Vec<u8>, bool)> = vec![
        // Defends against a reader or parser that insists on UTF-8.
        (
            "invalid UTF-8 as a whole line",
            b"\xff\xfe\xc0\xaf\n".to_vec(),
            false,
        ),
        (
            "invalid UTF-8 inside a path",
            [
                &ok.as_bytes()[..ok.len() - 12],
                b"/caf\xe9 HTTP/1.1\" 200 5\n",
            ]
            .concat(),
            true,
        ),
        // Defends against C-string handling that stops at a NUL: no server
        // writes one, so a line that holds one is junk.
        ("NUL bytes", b"10.0.0.1\0- -\0[\0\n".to_vec(), false),
        (
            "a NUL inside a valid line",
            line(&format!("{ok} 200 1").replace("/x", "/\0x")),
            false,
        ),
        // Defends against a binary file (or a gzip) passed by mistake.
        (
            "binary garbage",
            [garbage(4096), vec![b'\n']].concat(),
            false,
        ),
        // Defends against out-of-range numbers reaching the statistics.
        ("status 600", line(&format!("{ok} 600 1")), false),
        ("status 99", line(&format!("{ok} 99 1")), false),
        (
            "bytes overflowing u64",
            line(&format!("{ok} 200 18446744073709551616")),
            false,
        ),
        (
            "bytes at u64::MAX",
            line(&format!("{ok} 200 18446744073709551615")),
            true,
        ),
        // Defends against a date library that rolls 31/Feb into March.
        (
            "31/Feb",
            line(&format!("{ok} 200 1").replace("09/May", "31/Feb")),
            false,
        ),
        // Defends against a Windows-written log being all invalid.
        (
            "CRLF line ending",
            format!("{ok} 200 1\r\n").into_bytes(),
            true,
        ),
        // Blank lines are neither: tests/cli.rs checks them.
    ];
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes, valid) in cases {
        let path = dir.path().join("access.log");
        fs::write(&path, [good(T0), bytes, good(T0 + 1)].concat()).unwrap();
        let (hits, invalid) = if valid { (3, 0) } else { (2, 1) };
        // `auto` (the default) announces the format it chose on stderr;
        // with the format named, a bad line costs no message at all.
        for format in ["auto", "clf"] {
            let o = replay_json(&path, &["--log-format", format]);
            let s = summary(&o);
            assert_eq!(
                (s["hits"].as_u64(), s["invalid"].as_u64()),
                (Some(hits), Some(invalid)),
                "{name}, {format}: {s}"
            );
            if format == "clf" {
                assert!(
                    o.stderr.is_empty(),
                    "{name}: {}",
                    String::from_utf8_lossy(&o.stderr)
                );
            }
        }
    }
}

#[test]
fn a_non_standard_method_is_counted_as_other() {
    // Defends against a method table indexed by whatever the client sent.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("access.log");
    let lines = [
        good(T0),
        clf(T0, "PROPFIND /dav/ HTTP/1.1"),
        clf(T0, "get /lowercase HTTP/1.1"),
    ];
    fs::write(&path, lines.concat()).unwrap();
    let o = replay_json(&path, &[]);
    assert_eq!(summary(&o)["hits"], 3);
    let reports: Vec<Value> = events_of(&o)
        .into_iter()
        .filter(|e| e["type"] == "report")
        .collect();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0]["methods"]["GET"], 1);
    assert_eq!(reports[0]["methods"]["OTHER"], 2);
    assert!(reports[0]["methods"].get("PROPFIND").is_none());
}

#[test]
fn a_100_mib_line_without_a_newline_is_skipped_in_bounded_memory() {
    // Defends against a reader that buffers a whole line before deciding
    // it is too long: 100 MiB of junk must cost neither the lines around it
    // nor 100 MiB of memory.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("access.log");
    {
        // Written in blocks, so the test itself stays small too.
        let mut file = std::io::BufWriter::new(File::create(&path).unwrap());
        file.write_all(&good(T0)).unwrap();
        let block = vec![b'x'; 1024 * 1024];
        for _ in 0..100 {
            file.write_all(&block).unwrap();
        }
        file.write_all(b"\n").unwrap();
        file.write_all(&good(T0 + 1)).unwrap();
        file.flush().unwrap();
    }

    let s = summary(&replay_json(&path, &[]));
    assert_eq!(
        (s["hits"].as_u64(), s["invalid"].as_u64()),
        (Some(2), Some(1)),
        "{s}"
    );

    // GNU time reports the child's peak RSS; without it, only the counts
    // above are checked.
    let time = Path::new("/usr/bin/time");
    if !time.exists() {
        eprintln!("skipping the memory check: /usr/bin/time is not installed");
        return;
    }
    let rss = dir.path().join("rss");
    let o = run(Command::new(time)
        .arg("-o")
        .arg(&rss)
        .args(["-f", "%M", env!("CARGO_BIN_EXE_logmon")])
        .args(["--replay", "--format", "json"])
        .arg(&path));
    assert!(o.status.success());
    let kib: u64 = fs::read_to_string(&rss)
        .unwrap()
        .trim()
        .parse()
        .expect("GNU time -f %M prints KiB");
    assert!(kib < 64 * 1024, "peak RSS {kib} KiB for a 100 MiB line");
}

#[test]
fn a_timestamp_years_away_neither_alerts_nor_floods_the_output() {
    // Defends against one forged or corrupt timestamp moving the log clock:
    // jumping 10 years ahead would close millions of empty periods, and
    // counting it in the window would fire a false alert.
    //
    // One hit a second for 60 seconds, with a 10 s window and a threshold
    // of 1/s, keeps the window at exactly 10 hits: one stray hit counted in
    // it would make 11 and fire.
    let year = 365 * 86_400;
    let mut lines = Vec::new();
    for i in 0..60 {
        lines.push(good(T0 + i));
        match i {
            20 => lines.push(good(T0 + i + 10 * year)),
            40 => lines.push(good(T0 + i - 10 * year)),
            _ => {}
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("access.log");
    fs::write(&path, lines.concat()).unwrap();
    let o = replay_json(&path, &["--threshold", "1", "--window", "10"]);
    let s = summary(&o);
    assert_eq!(s["hits"], 62, "every hit counts in the reports: {s}");
    assert_eq!(s["alerts"], 0, "{s}");
    assert!(
        events_of(&o).len() < 20,
        "a 60 s log gives a handful of reports, not one per period of a decade"
    );

    // The control: the same log with an extra hit inside a second does fire,
    // so the quiet above is not because nothing could.
    lines.insert(30, good(T0 + 28));
    fs::write(&path, lines.concat()).unwrap();
    let s = summary(&replay_json(&path, &["--threshold", "1", "--window", "10"]));
    assert_eq!(s["alerts"], 1, "{s}");
}

/// A line whose path would turn the terminal's text red and ring its bell
/// if printed raw. (Not the title-setting OSC 0, `\x1b]0;...`: its `;`
/// starts path parameters, which sections drop.)
fn escape_log(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("access.log");
    let lines = [good(T0), clf(T0, "GET /\x1b[31mowned\x07 HTTP/1.1")];
    fs::write(&path, lines.concat()).unwrap();
    path
}

#[test]
fn a_terminal_escape_in_a_path_is_printed_escaped_in_text() {
    // Defends against log injection into the operator's terminal.
    let dir = tempfile::tempdir().unwrap();
    let path = escape_log(dir.path());
    let o = run(logmon().args(["--replay", "--color", "never"]).arg(&path));
    assert!(o.status.success());
    assert!(!o.stdout.contains(&0x1b), "a raw ESC reached stdout");
    assert!(!o.stdout.contains(&0x07), "a raw BEL reached stdout");
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains(r"/\x1b[31mowned\x07"), "{text}");
}

#[test]
fn a_terminal_escape_in_a_path_is_printed_escaped_in_json() {
    // Defends against the same injection through a JSON consumer that
    // prints the section it decodes.
    let dir = tempfile::tempdir().unwrap();
    let path = escape_log(dir.path());
    let o = replay_json(&path, &[]);
    assert!(!o.stdout.contains(&0x1b), "a raw ESC reached stdout");
    let sections: Vec<String> = events_of(&o)
        .iter()
        .filter(|e| e["type"] == "report")
        .flat_map(|e| e["sections"].as_array().unwrap().clone())
        .map(|s| s["section"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        sections.iter().any(|s| s == r"/\x1b[31mowned\x07"),
        "{sections:?}"
    );
    assert!(sections.iter().all(|s| !s.contains('\x1b')), "{sections:?}");
}

#[test]
fn a_reader_that_stops_early_ends_the_run_quietly() {
    // `logmon --replay big.log | head -n 3`. Defends against a panic or an
    // error message when the pipe closes: that is how pipelines end.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    // One line a second for 5000 s and a report every second: far more
    // output than a pipe buffer holds, so logmon is still writing when the
    // reader goes.
    let lines: Vec<u8> = (0..5000).flat_map(good).collect();
    fs::write(&path, lines).unwrap();
    // `--log-format clf`: `auto` would announce its choice on stderr.
    let mut child = logmon()
        .args(["--replay", "--log-format", "clf", "--period", "1"])
        .args(["--color", "never"])
        .arg(&path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    for _ in 0..3 {
        let mut line = String::new();
        assert!(stdout.read_line(&mut line).unwrap() > 0);
    }
    drop(stdout);
    let status = wait(&mut child);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(status.success(), "{status:?}: {stderr}");
    assert_eq!(stderr, "");
}

#[test]
fn a_full_disk_on_stdout_is_one_error_line() {
    // Defends against a write error that panics (println!) or is ignored.
    let Ok(full) = File::options().write(true).open("/dev/full") else {
        eprintln!("skipping: no /dev/full");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("access.log");
    fs::write(&path, [good(T0), good(T0 + 1)].concat()).unwrap();
    // `--log-format clf`: `auto` would announce its choice on stderr.
    let mut child = logmon()
        .args(["--replay", "--log-format", "clf"])
        .arg(&path)
        .stdin(Stdio::null())
        .stdout(full)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = wait(&mut child);
    assert_no_panic(stderr.as_bytes());
    assert!(!status.success());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("logmon: "), "{stderr}");
    assert!(stderr.contains("No space left on device"), "{stderr}");
}

#[test]
fn a_log_that_cannot_be_opened_is_one_line_naming_it() {
    // Defends against a raw io::Error without the path, or a panic, when
    // the log is missing, a directory, or unreadable.
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.log");
    let directory = dir.path().join("logs");
    fs::create_dir(&directory).unwrap();
    let mut paths = vec![missing, directory];

    let locked = dir.path().join("locked.log");
    fs::write(&locked, good(T0)).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    }
    // Root reads anything, so the unreadable case only exists for others.
    if File::open(&locked).is_err() {
        paths.push(locked);
    } else {
        eprintln!("skipping the unreadable file: running with root's rights");
    }

    for path in paths {
        let o = run(logmon().arg("--replay").arg(&path));
        assert_eq!(o.status.code(), Some(1), "{}", path.display());
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        let expected = format!("logmon: cannot open {}", path.display());
        assert!(err.starts_with(&expected), "{err}");
        assert!(o.stdout.is_empty());
    }
}

#[test]
fn usage_errors_exit_2_without_a_backtrace() {
    // Defends against a validation path that unwraps instead of reporting.
    for args in [
        &["--threshold", "-1"][..],
        &["--threshold", "abc"],
        &["--period", "0"],
        &["--window", "0"],
        &["--period", "99999999999999999999"],
        &["--threshold", "1e309"],
    ] {
        let o = run(logmon().args(args).args(["--replay", "-"]));
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(o.stdout.is_empty(), "{args:?}");
    }
}
