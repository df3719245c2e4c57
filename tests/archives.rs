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
