//! The real `loggen` binary: reproducible `--lines` output, usage errors
//! and open failures.

use std::process::{Command, Output};

fn loggen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_loggen"))
        .args(args)
        .output()
        .expect("run loggen")
}

#[test]
fn lines_with_the_same_seed_are_identical() {
    let first = loggen(&["--lines", "100", "--seed", "7", "-"]);
    let second = loggen(&["--lines", "100", "--seed", "7", "-"]);
    assert!(first.status.success(), "{first:?}");
    assert_eq!(first.stdout, second.stdout);
    let text = String::from_utf8(first.stdout).unwrap();
    assert_eq!(text.lines().count(), 100);
    assert!(text.contains("[01/Mar/2026:12:00:00 +0000]"));
}

#[test]
fn lines_start_at_the_given_time() {
    let out = loggen(&["--lines", "1", "--start", "1525881639", "-"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("[09/May/2018:16:00:39 +0000]"), "{text}");
}

#[test]
fn zero_rate_is_a_usage_error() {
    let out = loggen(&["--rate", "0", "-"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn malformed_burst_is_a_usage_error() {
    let out = loggen(&["--burst", "40", "-"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn unwritable_path_exits_1_with_cannot_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing-dir").join("access.log");
    let out = loggen(&["--lines", "1", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.starts_with("loggen: cannot open "), "{stderr}");
}

#[test]
fn lines_are_appended_to_an_existing_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("access.log");
    std::fs::write(&path, "first\n").unwrap();
    let out = loggen(&["--lines", "3", path.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("first\n"));
    assert_eq!(text.lines().count(), 4);
}

#[test]
fn w3c_output_starts_with_its_header_and_latency_adds_time_taken() {
    let out = loggen(&["--lines", "3", "--log-format", "w3c", "--latency", "-"]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 7);
    assert_eq!(lines[1], "#Version: 1.0");
    assert_eq!(lines[2], "#Date: 2026-03-01 12:00:00");
    assert!(lines[3].starts_with("#Fields: date time s-ip cs-method"));
    assert!(lines[3].ends_with(" sc-bytes time-taken"));
    assert!(lines[4].starts_with("2026-03-01 12:00:00 10.0.0.5 "));
    assert_eq!(lines[4].split(' ').count(), 16);
}

#[test]
fn latency_style_is_given_with_an_equals_sign() {
    let out = loggen(&["--lines", "1", "--latency=apache", "-"]);
    let text = String::from_utf8(out.stdout).unwrap();
    let last = text.trim_end().rsplit(' ').next().unwrap();
    assert!(last.bytes().all(|b| b.is_ascii_digit()), "{text}");
    let out = loggen(&["--lines", "1", "--latency=seconds", "-"]);
    assert_eq!(out.status.code(), Some(2));
}
