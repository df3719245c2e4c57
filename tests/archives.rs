//! The real binary on compressed logs and on several logs replayed at
//! once: gzip and zstd archives read like the plain file, and a set of
//! files replayed in time order like one file holding all their lines.

mod support;

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Output, Stdio};

use support::{logmon, phases};

/// 2026-03-01T12:00:00Z.
const T0: i64 = 1_772_366_400;

/// Ten minutes of traffic with an alert and a recovery at `-t 2`.
fn log() -> String {
    phases(
        T0,
        &[(180, 4), (60, 1), (120, 5), (240, 1)],
        &["/api", "/img", "/a"],
    )
}

fn gzip(text: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text).unwrap();
    gz.finish().unwrap()
}

fn zstd(text: &[u8]) -> Vec<u8> {
    zstd::stream::encode_all(text, 3).unwrap()
}

/// `logmon --replay --utc -t 2 ARGS` in `dir`, which must succeed.
fn replay(dir: &Path, args: &[&str]) -> Output {
    let o = logmon()
        .current_dir(dir)
        .args(["--replay", "--utc", "-t", "2"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

#[test]
fn gzip_multi_member_gzip_and_zstd_replay_like_the_plain_file() {
    let dir = tempfile::tempdir().unwrap();
    let text = log();
    let (head, tail) = text.split_at(text.len() / 3);
    fs::write(dir.path().join("access.log"), &text).unwrap();
    // What `cat a.gz b.gz` makes: two members, read as one file.
    let multi = [gzip(head.as_bytes()), gzip(tail.as_bytes())].concat();
    fs::write(dir.path().join("access.log.gz"), gzip(text.as_bytes())).unwrap();
    fs::write(dir.path().join("two-members.gz"), multi).unwrap();
    // Recognised by its bytes, not its name.
    fs::write(dir.path().join("access.log.1"), zstd(text.as_bytes())).unwrap();
    for format in ["text", "json"] {
        let plain = replay(dir.path(), &["--format", format, "access.log"]);
        assert!(plain.stdout.len() > 1000);
        for archive in ["access.log.gz", "two-members.gz", "access.log.1"] {
            let o = replay(dir.path(), &["--format", format, archive]);
            assert_eq!(
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&plain.stdout),
                "{archive} as {format}"
            );
        }
    }
}

#[test]
fn an_archive_on_stdin_is_read_too() {
    let dir = tempfile::tempdir().unwrap();
    let text = log();
    fs::write(dir.path().join("access.log"), &text).unwrap();
    let plain = replay(dir.path(), &["access.log"]);
    for (name, bytes) in [
        ("gz", gzip(text.as_bytes())),
        ("zst", zstd(text.as_bytes())),
    ] {
        let path = dir.path().join(format!("in.{name}"));
        fs::write(&path, bytes).unwrap();
        let o = logmon()
            .args(["--replay", "--utc", "-t", "2", "-"])
            .stdin(fs::File::open(&path).unwrap())
            .output()
            .unwrap();
        assert!(o.status.success(), "{name}");
        assert_eq!(o.stdout, plain.stdout, "{name} on stdin");
    }
}

/// `text` without the `files` blocks: their heading and rows, up to the
/// sparkline.
fn without_files_blocks(text: &str) -> String {
    let mut out = String::new();
    let mut in_block = false;
    for line in text.lines() {
        if line.starts_with("   file ") {
            in_block = true;
        } else if line.starts_with("   window ") {
            in_block = false;
        }
        if !in_block {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// JSON lines without their `files` fields, and the fields apart.
fn without_files_fields(text: &str) -> (Vec<serde_json::Value>, Vec<serde_json::Value>) {
    let mut events = Vec::new();
    let mut files = Vec::new();
    for line in text.lines() {
        let mut event: serde_json::Value = serde_json::from_str(line).unwrap();
        if let Some(f) = event.as_object_mut().and_then(|o| o.remove("files")) {
            files.push(f);
        }
        events.push(event);
    }
    (events, files)
}

/// The timestamp of a CLF line, as text sorts it (same day, UTC).
fn stamp(line: &str) -> &str {
    &line[line.find('[').unwrap()..line.find(']').unwrap()]
}

#[test]
fn a_rotated_set_in_any_order_replays_like_the_concatenated_file() {
    let dir = tempfile::tempdir().unwrap();
    let text = log();
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    // Four files of a little over two minutes each, oldest compressed; the
    // seconds where one ends and the next begins are in both.
    let cut = |from: usize, to: usize| lines[from..to].concat();
    let q = lines.len() / 4;
    fs::write(
        dir.path().join("access.log.3.gz"),
        gzip(cut(0, q).as_bytes()),
    )
    .unwrap();
    fs::write(
        dir.path().join("access.log.2.zst"),
        zstd(cut(q, 2 * q).as_bytes()),
    )
    .unwrap();
    fs::write(dir.path().join("access.log.1"), cut(2 * q, 3 * q)).unwrap();
    fs::write(dir.path().join("access.log"), cut(3 * q, lines.len())).unwrap();
    fs::write(dir.path().join("all.log"), &text).unwrap();
    let set = [
        "access.log.1",
        "access.log",
        "access.log.3.gz",
        "access.log.2.zst",
    ];
    for format in ["text", "json"] {
        let whole = replay(dir.path(), &["--format", format, "all.log"]);
        let mut args = vec!["--format", format];
        args.extend(set);
        let merged = replay(dir.path(), &args);
        let (whole, merged) = (
            String::from_utf8(whole.stdout).unwrap(),
            String::from_utf8(merged.stdout).unwrap(),
        );
        if format == "text" {
            assert!(merged.contains("   file "), "{merged}");
            assert_eq!(without_files_blocks(&merged), whole);
            assert!(merged
                .lines()
                .all(|l| l.chars().count() <= 80 || l.contains("alert")));
        } else {
            let (events, files) = without_files_fields(&merged);
            let (want, none) = without_files_fields(&whole);
            assert!(none.is_empty(), "one file: no files field");
            assert_eq!(events, want);
            // Every file's hits, in total, are its lines.
            let mut per_file = std::collections::BTreeMap::new();
            for report in &files {
                for f in report.as_array().unwrap() {
                    *per_file
                        .entry(f["file"].as_str().unwrap().to_owned())
                        .or_insert(0) += f["hits"].as_u64().unwrap();
                }
            }
            let counts: Vec<_> = per_file.into_iter().collect();
            let n = lines.len() as u64;
            let q = q as u64;
            assert_eq!(
                counts,
                [
                    ("access.log".to_owned(), n - 3 * q),
                    ("access.log.1".to_owned(), q),
                    ("access.log.2.zst".to_owned(), q),
                    ("access.log.3.gz".to_owned(), q),
                ]
            );
        }
    }
    // A glob, quoted so that logmon expands it, reads the same set.
    let globbed = replay(dir.path(), &["access.log*"]);
    let mut args = vec![];
    args.extend(set);
    assert_eq!(globbed.stdout, replay(dir.path(), &args).stdout);
}

#[test]
fn overlapping_files_replay_like_their_lines_sorted_by_time() {
    // Two virtual hosts over the same ten minutes, at different rates.
    let dir = tempfile::tempdir().unwrap();
    let a = phases(T0, &[(300, 3), (300, 1)], &["/shop", "/cart"]);
    let b = phases(T0 + 7, &[(200, 1), (120, 6), (250, 1)], &["/blog"]);
    fs::write(dir.path().join("a.access.log"), &a).unwrap();
    fs::write(dir.path().join("b.access.log"), gzip(b.as_bytes())).unwrap();
    // Sorted by time, a's lines first within a second, as the merge takes
    // them (a starts first).
    let mut lines: Vec<&str> = a
        .split_inclusive('\n')
        .chain(b.split_inclusive('\n'))
        .collect();
    lines.sort_by(|x, y| stamp(x).cmp(stamp(y)));
    fs::write(dir.path().join("sorted.log"), lines.concat()).unwrap();
    for format in ["text", "json"] {
        let want = replay(dir.path(), &["--format", format, "sorted.log"]);
        let got = replay(
            dir.path(),
            &["--format", format, "b.access.log", "a.access.log"],
        );
        let (want, got) = (
            String::from_utf8(want.stdout).unwrap(),
            String::from_utf8(got.stdout).unwrap(),
        );
        if format == "text" {
            assert_eq!(without_files_blocks(&got), want);
            assert!(got.contains("High traffic generated an alert"), "{got}");
        } else {
            let (events, files) = without_files_fields(&got);
            assert_eq!(events, without_files_fields(&want).0);
            // Each report's files add up to its hits.
            let reports: Vec<_> = events.iter().filter(|e| e["type"] == "report").collect();
            assert_eq!(reports.len(), files.len());
            for (report, files) in reports.iter().zip(&files) {
                let sum: u64 = files
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f["hits"].as_u64().unwrap())
                    .sum();
                assert_eq!(sum, report["hits"].as_u64().unwrap());
            }
        }
    }
}
