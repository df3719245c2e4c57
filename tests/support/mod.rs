//! Shared by the integration tests: `logmon()`, the binary in a pinned
//! environment, and `fixture()`; and for the `--serve` tests, logmon with a
//! server on 127.0.0.1, a tiny HTTP/1.1 client, and log lines to feed it.
//!
//! Every wait is bounded, and the child is killed when its guard drops, so
//! a failing test cannot leave a server behind.

// Each test file uses a different part of this module.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

pub mod mmdb;

/// The logmon binary in a pinned environment, so the tests pass anywhere:
/// no `LOGMON_*` option from the caller, times in UTC, a UTF-8 locale (the
/// sparkline's glyphs depend on it), colour left to `--color`, and no
/// `RUST_BACKTRACE` (a panic prints its hint only when it is unset).
pub fn logmon() -> Command {
    pinned(Command::new(env!("CARGO_BIN_EXE_logmon")))
}

/// `cmd` in the environment `logmon()` pins, for a wrapper that runs
/// logmon (a shell that sets a limit, then execs it).
pub fn pinned(mut cmd: Command) -> Command {
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("LOGMON_") {
            cmd.env_remove(name);
        }
    }
    cmd.env("TZ", "UTC0")
        .env("LANG", "C.UTF-8")
        .env_remove("LC_ALL")
        .env_remove("LC_CTYPE")
        .env_remove("NO_COLOR")
        .env_remove("RUST_BACKTRACE");
    cmd
}

/// The path of a fixture in `tests/data/`.
pub fn fixture(name: &str) -> String {
    format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The JSON events of a `--format json` run's stdout, one a line.
pub fn events_of(o: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// The events of type `kind` (`report`, `alert`, ...), in order.
pub fn of_type<'a>(events: &'a [serde_json::Value], kind: &str) -> Vec<&'a serde_json::Value> {
    events.iter().filter(|e| e["type"] == kind).collect()
}

/// The first event of type `kind`.
pub fn first<'a>(events: &'a [serde_json::Value], kind: &str) -> &'a serde_json::Value {
    of_type(events, kind)
        .first()
        .unwrap_or_else(|| panic!("no {kind} event"))
}

/// A run's stderr, as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `got` is within 1% (the HDR histogram's stated error) of `exact`.
pub fn close(got: &serde_json::Value, exact: f64) -> bool {
    got.as_f64()
        .is_some_and(|g| (g - exact).abs() <= exact * 0.01)
}

/// Assert that `r` is the report of the six requests that
/// `nginx-latency.log` holds, and several other fixtures in other layouts:
/// 6 hits, 11,924 bytes, 3 clients, `/api` 4 and `/pages` 2, and request
/// times 3, 5, 12, 20, 150 and 1250 ms.
pub fn assert_six_requests(r: &serde_json::Value) {
    assert_eq!(
        (r["hits"].as_u64(), r["invalid"].as_u64()),
        (Some(6), Some(0)),
        "{r}"
    );
    assert_eq!(
        (r["bytes"].as_u64(), r["clients"].as_u64()),
        (Some(11_924), Some(3))
    );
    assert_eq!(r["status"]["2xx"], 5);
    assert_eq!(r["status"]["5xx"], 1);
    assert_eq!(r["status"]["other"], 0);
    // By nearest rank p50 is the 3rd (12 ms), p95 and p99 the 6th.
    assert!(close(&r["latency_ms"]["p50"], 12.0), "{r}");
    assert!(close(&r["latency_ms"]["p95"], 1250.0), "{r}");
    assert!(close(&r["latency_ms"]["p99"], 1250.0), "{r}");
    let api = &r["sections"][0];
    assert_eq!((&api["section"], &api["hits"]), (&"/api".into(), &4.into()));
    assert!(close(&api["latency_ms"]["p50"], 20.0), "{r}");
    let pages = &r["sections"][1];
    assert_eq!(
        (&pages["section"], &pages["hits"]),
        (&"/pages".into(), &2.into())
    );
    assert!(close(&pages["latency_ms"]["p50"], 3.0), "{r}");
    assert!(close(&pages["latency_ms"]["p95"], 5.0), "{r}");
}

/// Assert that `err` says once that none of the first 100 lines parse,
/// naming the formats `tried`, and how to give one.
pub fn assert_nothing_parses_said_once(err: &str, tried: &str) {
    assert_eq!(
        err.matches("none of the first 100 lines parse").count(),
        1,
        "{err}"
    );
    assert!(err.contains(tried), "{err}");
    assert!(err.contains("give the format with --log-format"), "{err}");
}

/// Follow `path` with logmon (`--period 1 --poll-ms 20 --format json`
/// and `args`), appending `line()` (with its newline) every 300 ms until a
/// report counts hits, for at most 15 s. Returns that report, if any, and
/// what logmon said on stderr.
pub fn first_live_report(
    path: &Path,
    args: &[&str],
    mut line: impl FnMut() -> String,
) -> (Option<serde_json::Value>, String) {
    let mut child = logmon()
        .args(["--period", "1", "--poll-ms", "20", "--format", "json"])
        .args(args)
        .arg(path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rx = lines_of(child.stdout.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut seen = None;
    while seen.is_none() && Instant::now() < deadline {
        append(path, &line());
        while let Ok(line) = rx.recv_timeout(Duration::from_millis(300)) {
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            if v["type"] == "report" && v["hits"].as_u64() > Some(0) {
                seen = Some(v);
                break;
            }
        }
    }
    let _ = child.kill();
    let o = child.wait_with_output().unwrap();
    (seen, stderr(&o))
}

/// How long any one wait may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(20);

/// A running logmon, killed on drop.
pub struct Logmon {
    pub child: Child,
    pub addr: SocketAddr,
    /// stderr, line by line.
    pub stderr: Receiver<String>,
}

impl Drop for Logmon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Logmon {
    /// Start logmon with `args` (which include `--serve 127.0.0.1:0`) and
    /// wait for the address it prints.
    pub fn start(args: &[&str]) -> Logmon {
        Logmon::spawn(logmon().args(args))
    }

    /// Start `cmd`, logmon or a wrapper that execs it with `--serve
    /// 127.0.0.1:0`, and wait for the address it prints.
    pub fn spawn(cmd: &mut Command) -> Logmon {
        let mut child = cmd
            .env("TZ", "UTC")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start logmon");
        let stderr = lines_of(child.stderr.take().unwrap());
        let line =
            wait_for(&stderr, "serving the dashboard on http://", WAIT).unwrap_or_else(|seen| {
                let _ = child.kill();
                panic!("no address on stderr; saw {seen:?}")
            });
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.trim_end_matches('/').parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        Logmon {
            child,
            addr,
            stderr,
        }
    }

    /// Send a signal with the shell's `kill` (std sends only SIGKILL).
    pub fn signal(&self, name: &str) {
        let status = Command::new("sh")
            .arg("-c")
            .arg(format!("kill -{name} {}", self.child.id()))
            .status()
            .expect("run sh");
        assert!(status.success());
    }

    /// Wait for the process to exit, at most `WAIT`.
    pub fn wait_exit(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "logmon did not exit");
            thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Forward lines from `r` to a channel, from a thread.
pub fn lines_of(r: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(r).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Wait for a line containing `needle`; on timeout, return the lines seen.
pub fn wait_for(
    rx: &Receiver<String>,
    needle: &str,
    within: Duration,
) -> Result<String, Vec<String>> {
    let deadline = Instant::now() + within;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return Ok(line),
            Ok(line) => seen.push(line),
            Err(_) => return Err(seen),
        }
    }
}

/// An HTTP response.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    /// Header lines, as sent.
    pub head: String,
    pub body: String,
}

impl Answer {
    /// The value of header `name` (case-insensitive), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Open a connection and send a request; the answer is read by the caller.
pub fn request(addr: SocketAddr, method: &str, path: &str, host: &str) -> TcpStream {
    let mut s = TcpStream::connect_timeout(&addr, WAIT).expect("connect");
    s.set_read_timeout(Some(WAIT)).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    s
}

/// GET `path` and read the whole answer.
pub fn get(addr: SocketAddr, path: &str) -> Answer {
    fetch(addr, "GET", path, "127.0.0.1")
}

/// Send a request and read the whole answer (`Connection: close`).
pub fn fetch(addr: SocketAddr, method: &str, path: &str, host: &str) -> Answer {
    let mut s = request(addr, method, path, host);
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read the answer");
    let raw = String::from_utf8(raw).expect("UTF-8 answer");
    let (head, body) = raw.split_once("\r\n\r\n").expect("a head and a body");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    Answer {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

/// GET `/api/state` as JSON.
pub fn state(addr: SocketAddr) -> serde_json::Value {
    let a = get(addr, "/api/state");
    assert_eq!(a.status, 200, "{a:?}");
    serde_json::from_str(&a.body).expect("JSON state")
}

/// Poll `f` every 50 ms until it returns `Some`, at most `WAIT`.
pub fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(50));
    }
}

/// A Common Log Format line stamped `t` (unix seconds).
pub fn clf(t: i64, path: &str, status: u16, bytes: u64) -> String {
    let time = chrono::DateTime::from_timestamp(t, 0).unwrap();
    format!(
        "10.0.0.{} - - [{}] \"GET {path} HTTP/1.1\" {status} {bytes}\n",
        t % 200,
        time.format("%d/%b/%Y:%H:%M:%S +0000")
    )
}

pub fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A log for replays: `rate` lines per second on `sections` (in turn) for
/// each `(seconds, rate)` phase, from second `start`. Statuses cycle
/// through 200, 200, 200, 404, 503, 301 and bytes through 100..=109.
pub fn phases(start: i64, phases: &[(i64, usize)], sections: &[&str]) -> String {
    let mut out = String::new();
    let mut t = start;
    let mut n = 0usize;
    for &(secs, rate) in phases {
        for _ in 0..secs {
            for _ in 0..rate {
                let status = [200, 200, 200, 404, 503, 301][n % 6];
                let path = format!("{}/{n}", sections[n % sections.len()]);
                out.push_str(&clf(t, &path, status, 100 + (n % 10) as u64));
                n += 1;
            }
            t += 1;
        }
    }
    out
}

/// One sample of an exposition: name, labels, value.
pub type Sample = (String, Vec<(String, String)>, f64);

/// Parse a Prometheus text exposition into `(name, labels, value)`,
/// checking that each family's `# TYPE` comes before its samples (a
/// histogram's `_bucket`, `_sum` and `_count` samples included).
pub fn parse_metrics(text: &str) -> Vec<Sample> {
    let mut typed = std::collections::HashSet::new();
    let mut out = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            assert!(typed.insert(name.to_owned()), "family {name} twice");
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("series and value");
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("value in {line}"));
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => (name, parse_labels(rest.strip_suffix('}').expect("}"))),
            None => (series, Vec::new()),
        };
        // A histogram's samples are its name with a suffix.
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| name.strip_suffix(suffix).filter(|f| typed.contains(*f)))
            .unwrap_or(name);
        assert!(typed.contains(family), "{name} has no # TYPE before it");
        out.push((name.to_owned(), labels, value));
    }
    out
}

/// `a="x",b="y\"z"` into pairs, undoing the format's escapes.
fn parse_labels(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while chars.peek().is_some() {
        let name: String = chars.by_ref().take_while(|&c| c != '=').collect();
        assert_eq!(chars.next(), Some('"'), "label value quoted in {s}");
        let mut value = String::new();
        loop {
            match chars.next().expect("closing quote") {
                '"' => break,
                '\\' => match chars.next().expect("escaped char") {
                    'n' => value.push('\n'),
                    c @ ('\\' | '"') => value.push(c),
                    c => panic!("bad escape \\{c} in {s}"),
                },
                c => value.push(c),
            }
        }
        out.push((name, value));
        if chars.peek() == Some(&',') {
            chars.next();
        }
    }
    out
}

/// The sum of the samples of `name` whose labels include `label` (any
/// value when `None`).
pub fn metric(samples: &[Sample], name: &str, label: Option<(&str, &str)>) -> Option<f64> {
    let matching: Vec<f64> = samples
        .iter()
        .filter(|(n, labels, _)| {
            n == name
                && match label {
                    Some((k, v)) => labels.iter().any(|(lk, lv)| lk == k && lv == v),
                    None => true,
                }
        })
        .map(|(_, _, v)| *v)
        .collect();
    (!matching.is_empty()).then(|| matching.iter().sum())
}
