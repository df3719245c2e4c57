//! The real `logmon` binary as a person or a script meets it: exit codes,
//! environment variables, time zones and locales, shell integration, the
//! startup line, `--quiet` and the replay progress bar.
//!
//! `tests/data/example.log` is 3 minutes at 4 req/s, then 200 s at 1 req/s:
//! with `--threshold 2` it alerts once and recovers.

// A test's notes (a skip, a caveat) go to the harness, which captures them:
// the printing macros refused in the crate (clippy.toml) are fine here.
#![allow(clippy::disallowed_macros)]

mod support;

use support::logmon;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/example.log");

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run logmon")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[test]
fn exit_code_is_3_when_the_replay_alerted_and_0_when_it_did_not() {
    let alerted = run(logmon().args(["--replay", "--exit-code", "-t", "2", EXAMPLE]));
    assert_eq!(alerted.status.code(), Some(3), "{alerted:?}");
    assert!(stdout(&alerted).contains("High traffic generated an alert"));
    let calm = run(logmon().args(["--replay", "--exit-code", "-t", "100", EXAMPLE]));
    assert_eq!(calm.status.code(), Some(0), "{calm:?}");
    let without = run(logmon().args(["--replay", "-t", "2", EXAMPLE]));
    assert_eq!(without.status.code(), Some(0), "no --exit-code, no 3");
}

#[test]
fn exit_code_keeps_error_codes_and_needs_replay() {
    let missing = run(logmon().args(["--replay", "--exit-code", "no-such.log"]));
    assert_eq!(missing.status.code(), Some(1));
    let usage = run(logmon().args(["--exit-code", EXAMPLE]));
    assert_eq!(usage.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&usage.stderr).contains("--replay"));
}

#[test]
fn options_come_from_environment_variables_and_flags_win() {
    let env = run(logmon()
        .env("LOGMON_THRESHOLD", "2")
        .args(["--replay", "--exit-code", EXAMPLE]));
    assert_eq!(env.status.code(), Some(3), "LOGMON_THRESHOLD=2 alerts");
    let flag = run(logmon().env("LOGMON_THRESHOLD", "2").args([
        "--replay",
        "--exit-code",
        "-t",
        "100",
        EXAMPLE,
    ]));
    assert_eq!(flag.status.code(), Some(0), "-t 100 wins over the variable");
    let help = stdout(&run(logmon().arg("--help")));
    for name in [
        "LOGMON_THRESHOLD",
        "LOGMON_PERIOD",
        "LOGMON_WINDOW",
        "LOGMON_QUIET",
    ] {
        assert!(help.contains(name), "--help names {name}");
    }
    let bad = run(logmon()
        .env("LOGMON_PERIOD", "0")
        .args(["--replay", EXAMPLE]));
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn times_are_local_with_their_offset_unless_utc_is_asked_for() {
    // A POSIX TZ rule, so no time zone database is needed.
    let local = stdout(&run(logmon()
        .env("TZ", "IST-5:30")
        .args(["--replay", EXAMPLE])));
    assert!(
        local.starts_with("-- 2026-03-01T17:30:00+05:30 to 17:30:10"),
        "{local}"
    );
    let utc = stdout(&run(logmon()
        .env("TZ", "IST-5:30")
        .args(["--replay", "--utc", EXAMPLE])));
    assert!(
        utc.starts_with("-- 2026-03-01T12:00:00Z to 12:00:10"),
        "{utc}"
    );
    let env = stdout(&run(logmon()
        .env("TZ", "IST-5:30")
        .env("LOGMON_UTC", "1")
        .args(["--replay", EXAMPLE])));
    assert_eq!(env, utc);
}

#[test]
fn the_sparkline_falls_back_to_ascii_outside_a_utf8_locale() {
    let utf8 = stdout(&run(logmon().args(["--replay", "-t", "2", EXAMPLE])));
    assert!(utf8.contains('▁'));
    let c = stdout(&run(logmon()
        .env("LANG", "C")
        .args(["--replay", "-t", "2", EXAMPLE])));
    assert!(c.is_ascii());
    assert!(c.contains("   window _"), "{c}");
    let forced = stdout(&run(
        logmon().args(["--replay", "--ascii", "-t", "2", EXAMPLE])
    ));
    assert_eq!(forced, c);
}

#[test]
fn recoveries_say_how_long_the_alert_lasted_and_its_peak() {
    let out = stdout(&run(
        logmon().args(["--replay", "--utc", "-t", "2", EXAMPLE])
    ));
    let line = out
        .lines()
        .find(|l| l.starts_with("High traffic alert recovered - hits = "))
        .expect("a recovery");
    assert!(
        line.ends_with("recovered at 2026-03-01T12:04:20Z"),
        "{line}"
    );
    let next = out.lines().skip_while(|l| l != &line).nth(1).unwrap();
    assert_eq!(next, "   lasted 3m 20s, peak 4.00 req/s");
    let during: Vec<_> = out
        .lines()
        .filter(|l| l.contains("HIGH TRAFFIC since"))
        .collect();
    assert!(!during.is_empty() && during.iter().all(|l| l.starts_with("-- ")));
}

/// Whether `line` is the first line of an alert or a recovery: the only
/// lines that say "alert", and the only ones allowed past 80 columns.
fn contract(line: &str) -> bool {
    line.starts_with("High traffic generated an alert - hits = ")
        || line.starts_with("High traffic alert recovered - hits = ")
}

#[test]
fn grep_alert_finds_exactly_the_alert_and_the_recovery() {
    // logmon --replay -t 2 example.log 2>&1 | grep -i alert
    let out = run(logmon().args(["--replay", "-t", "2", EXAMPLE]));
    let all = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
    let found: Vec<&str> = all
        .lines()
        .filter(|l| l.to_lowercase().contains("alert"))
        .collect();
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found[0].starts_with("High traffic generated an alert - hits = 244, triggered at "));
    assert!(found[1].starts_with("High traffic alert recovered - hits = 237, recovered at "));
    assert!(all.lines().filter(|l| contract(l)).eq(found));
}

/// A replay whose traffic ramps from 1x to 20x the threshold of 2 req/s
/// and back, with long section names.
fn ramp_log(dir: &Path) -> std::path::PathBuf {
    let mut phases = vec![(60, 2)];
    phases.extend((1..=20).map(|step| (10, step * 2)));
    phases.extend([(60, 40), (200, 1)]);
    let text = support::phases(
        1_772_366_400,
        &phases,
        &[
            "/api",
            "/static",
            "/a/section/name/that/is/rather/long/for/a/terminal/table",
        ],
    );
    let path = dir.join("ramp.log");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn every_line_fits_80_columns_but_the_first_of_an_alert_or_recovery() {
    let dir = tempfile::tempdir().unwrap();
    ramp_log(dir.path());
    // Paths as a user types them (stderr names the file), from the
    // directory that holds them.
    let example = "tests/data/example.log";
    let ramp = "ramp.log";
    // Local time with its offset is the longest; --utc and ASCII too.
    for args in [
        &["--replay", "-t", "2", example][..],
        &["--replay", "--utc", "-t", "2", example],
        &["--replay", "-t", "2", ramp],
        &["--replay", "-t", "2", "-w", "60", "-p", "20", ramp],
        &["--replay", "--ascii", "-t", "2", ramp],
    ] {
        let cwd = match args.contains(&ramp) {
            true => dir.path(),
            false => Path::new(env!("CARGO_MANIFEST_DIR")),
        };
        let out = run(logmon().current_dir(cwd).env("TZ", "IST-5:30").args(args));
        assert!(out.status.success(), "{args:?}: {out:?}");
        let text = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
        assert!(text.lines().any(contract), "{args:?} alerts");
        for line in text.lines() {
            if contract(line) {
                // Exactly the contract's words and the time, nothing more.
                let (_, time) = line.rsplit_once(" at ").unwrap();
                assert!(!time.contains(' '), "{line}");
            } else {
                assert!(line.chars().count() <= 80, "{args:?}: {line:?}");
            }
        }
        if args.contains(&ramp) {
            assert!(text.contains("the bars' scale grew"), "{text}");
        }
    }
}

/// `printf '%s' "$log" | logmon --period 1 -`: what it prints on stderr.
fn piped_in(log: &str) -> String {
    let mut child = logmon()
        .args(["--period", "1", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(log.as_bytes()).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn an_old_log_piped_in_without_replay_gets_one_notice_suggesting_it() {
    // cat old.log | logmon -
    let err = piped_in(&support::phases(1_772_366_400, &[(30, 3)], &["/api"]));
    assert_eq!(err.matches("--replay").count(), 1, "{err}");
    assert!(
        err.contains("stdin: the first lines are more than 120s behind the clock"),
        "{err}"
    );
    assert!(
        err.contains("`logmon --replay -` reads it on its own time"),
        "{err}"
    );
    assert!(err.lines().all(|l| l.chars().count() <= 80), "{err}");
    // A recent log gets no such notice.
    let recent = support::phases(support::unix_now() - 5, &[(3, 3)], &["/api"]);
    let err = piped_in(&recent);
    assert!(!err.contains("--replay"), "{err}");
}

#[test]
fn completions_and_the_man_page_are_printed() {
    for shell in ["bash", "zsh", "fish"] {
        let out = run(logmon().args(["--completions", shell]));
        assert!(out.status.success(), "{shell}: {out:?}");
        assert!(stdout(&out).contains("threshold"), "{shell}");
    }
    let man = run(logmon().arg("--man"));
    assert!(man.status.success());
    assert!(stdout(&man).contains(".TH logmon 1"));
    // A closed pipe is a normal way to stop.
    let mut child = logmon()
        .args(["--completions", "zsh"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    assert!(child.wait().unwrap().success());
}

/// Start following `log` and return what logmon first prints on stderr
/// (or `None` within 5 s): its first line and any that follow at once,
/// then stop it.
fn first_stderr_line(log: &Path, extra: &[&str]) -> Option<String> {
    let mut child = logmon()
        .args(["--period", "1"])
        .args(extra)
        .arg(log)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let line = rx.recv_timeout(Duration::from_secs(5)).ok().map(|first| {
        let more = rx.recv_timeout(Duration::from_millis(500));
        more.into_iter().fold(first, |all, l| all + "\n" + &l)
    });
    child.kill().unwrap();
    child.wait().unwrap();
    line
}

#[test]
fn following_says_what_it_does_on_stderr_unless_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    std::fs::File::create(&log).unwrap();
    let line = first_stderr_line(&log, &[]).expect("a startup line");
    assert!(line.starts_with("logmon: following "), "{line}");
    // On one line, or two when the path is long.
    assert!(
        line.ends_with("access.log: threshold 10 req/s over 120 s, a report every 1 s")
            || line.ends_with("access.log:\n  threshold 10 req/s over 120 s, a report every 1 s"),
        "{line}"
    );
    assert!(line.lines().all(|l| l.len() <= 80), "{line}");
    assert_eq!(first_stderr_line(&log, &["--quiet"]), None);
}

/// A log of `bytes` or more, well over the progress bar's minimum.
fn big_log(dir: &Path, bytes: usize) -> std::path::PathBuf {
    let path = dir.join("big.log");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let line = b"127.0.0.1 - - [01/Mar/2026:12:00:00 +0000] \"GET /api/x HTTP/1.1\" 200 512\n";
    for _ in 0..bytes / line.len() + 1 {
        file.write_all(line).unwrap();
    }
    file.flush().unwrap();
    path
}

#[test]
fn a_replay_shows_no_progress_bar_when_stderr_is_not_a_terminal_and_quiet_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log = big_log(dir.path(), 6 << 20);
    let out = run(logmon().args(["--replay"]).arg(&log));
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    // Notices (the detected log format) may be there, but no bar.
    assert!(
        !err.contains("MiB") && !err.contains('\r') && !err.contains('\x1b'),
        "{err}"
    );
    assert!(stdout(&out).contains("== summary"));
    let quiet = run(logmon().args(["--replay", "--quiet"]).arg(&log));
    assert!(quiet.stderr.is_empty(), "{quiet:?}");
}

/// `script` (util-linux) gives logmon a terminal; skip where it is missing.
fn script_available() -> bool {
    Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn a_replay_of_a_big_file_shows_a_progress_bar_on_a_terminal_unless_quiet() {
    if !script_available() {
        eprintln!("skipped: no `script` to provide a terminal");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let log = big_log(dir.path(), 16 << 20);
    let on_terminal = |extra: &str| {
        // stdout goes to a file; stderr is the terminal `script` records.
        let shell = format!(
            "'{}' --replay {extra} '{}' > '{}'",
            env!("CARGO_BIN_EXE_logmon"),
            log.display(),
            dir.path().join("out.txt").display()
        );
        let out = run(Command::new("script")
            .args(["-q", "-e", "-c", &shell, "/dev/null"])
            .env("TERM", "xterm")
            .env("LANG", "C.UTF-8"));
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let shown = on_terminal("");
    assert!(shown.contains("MiB/"), "a bar with bytes read: {shown:?}");
    assert!(shown.contains("lines/s"), "{shown:?}");
    let quiet = on_terminal("--quiet");
    assert!(!quiet.contains("MiB/"), "{quiet:?}");
}
