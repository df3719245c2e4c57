//! `--serve` with the real binary on 127.0.0.1: address errors, `/metrics`
//! compared with what was written, `/api/state`, `/events`, the page's
//! headers, a replay that keeps serving until Ctrl-C, and hostile clients:
//! huge or missing bodies, endless heads, slowloris, more connections than
//! file descriptors, too many event streams, and clients that stall.

// A test's notes (a skip, a caveat) go to the harness, which captures them:
// the printing macros refused in the crate (clippy.toml) are fine here.
#![allow(clippy::disallowed_macros)]

mod support;

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::*;

/// Open `/events` and forward the JSON of each `data:` line.
fn events(addr: SocketAddr) -> Receiver<Value> {
    let stream = request(addr, "GET", "/events", "127.0.0.1");
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut lines = BufReader::new(stream).lines();
        let status = lines.next().and_then(Result::ok).unwrap_or_default();
        assert!(status.starts_with("HTTP/1.1 200"), "{status}");
        for line in lines {
            let Ok(line) = line else { break };
            if let Some(data) = line.strip_prefix("data: ") {
                let value = serde_json::from_str(data).expect("JSON in data:");
                if tx.send(value).is_err() {
                    break;
                }
            }
        }
    });
    rx
}

/// The next event of `type`, skipping others, within `WAIT`.
fn next_of(rx: &Receiver<Value>, kind: &str) -> Value {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let e = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no {kind} event"));
        if e["type"] == kind {
            return e;
        }
    }
}

/// Start a replay of `log` with a server, and wait until it is done.
fn replay(log: &str, extra: &[&str]) -> Logmon {
    let mut args = vec!["--replay", "--serve", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    args.push(log);
    let lm = Logmon::start(&args);
    wait_for(&lm.stderr, "replay done", WAIT).expect("the replay ends");
    lm
}

#[test]
fn a_bad_address_is_a_usage_error() {
    for bad in ["nonsense", "127.0.0.1", ":99999", "example.com:80"] {
        let o = logmon()
            .args(["--replay", "--serve", bad, &fixture("sample.log")])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{bad}");
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(
            stderr.contains("--serve") && stderr.contains(":PORT"),
            "{stderr}"
        );
    }
}

#[test]
fn a_port_in_use_exits_1_with_a_clear_message() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let o = logmon()
        .args(["--replay", "--serve", &addr, &fixture("sample.log")])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.starts_with(&format!("logmon: cannot listen on {addr}: ")),
        "{stderr}"
    );
    assert!(stderr.to_lowercase().contains("in use"), "{stderr}");
    assert!(
        o.stdout.is_empty(),
        "nothing is read before the server is up"
    );
}

#[test]
fn a_non_loopback_address_warns_that_there_is_no_authentication() {
    // Listens on every interface for a moment; the test talks to nothing.
    let lm = Logmon::start(&["--replay", "--serve", "0.0.0.0:0", &fixture("sample.log")]);
    let warning = wait_for(&lm.stderr, "warning", WAIT).expect("a warning");
    assert!(warning.contains("no authentication"), "{warning}");
}

#[test]
fn a_loopback_address_gives_no_warning() {
    let lm = replay(&fixture("sample.log"), &[]);
    let seen: Vec<String> = lm.stderr.try_iter().collect();
    assert!(!seen.iter().any(|l| l.contains("warning")), "{seen:?}");
}

/// Sockets the process has open, from /proc.
#[cfg(target_os = "linux")]
fn sockets(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|target| target.to_string_lossy().starts_with("socket:"))
        .count()
}

#[cfg(target_os = "linux")]
#[test]
fn without_the_flag_nothing_listens() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    append(&log, "");
    let mut child = logmon()
        .args(["--poll-ms", "20", log.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    // Up once it has the log open.
    let opened = |pid: u32| {
        std::fs::read_dir(format!("/proc/{pid}/fd"))
            .map(|d| {
                d.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
                    .any(|t| t == log)
            })
            .unwrap_or(false)
    };
    eventually("logmon to open the log", || opened(pid).then_some(()));
    let without = sockets(pid);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(without, 0);

    let lm = Logmon::start(&["--serve", "127.0.0.1:0", log.to_str().unwrap()]);
    assert!(sockets(lm.child.id()) > 0, "the check can see a listener");
}

#[test]
fn live_metrics_state_and_events_match_what_was_written() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    let now = unix_now();
    // Already in the log at startup: backfilled into the window only.
    for _ in 0..20 {
        append(&log, &clf(now - 2, "/old/page", 200, 1000));
    }
    let lm = Logmon::start(&[
        "--serve",
        "127.0.0.1:0",
        "--period",
        "1",
        "--poll-ms",
        "50",
        "--window",
        "60",
        "--threshold",
        "0.5",
        log.to_str().unwrap(),
    ]);
    let rx = events(lm.addr);
    let first = rx.recv_timeout(WAIT).expect("a first event");
    assert_eq!(first["type"], "state");
    assert_eq!(first["threshold"], 0.5);
    assert_eq!(first["window_secs"], 60);
    eventually("the backfill in the window", || {
        (state(lm.addr)["window_hits"] == 20).then_some(())
    });

    // 12 new requests and 2 lines that do not parse: 32 hits in 60 s is
    // above 0.5 req/s, so the alert fires.
    let written = [
        ("/api/a", 200, 100),
        ("/api/b", 200, 200),
        ("/api/c", 201, 300),
        ("/api/d", 204, 0),
        ("/api/e", 200, 50),
        ("/img/1", 301, 10),
        ("/img/2", 302, 10),
        ("/api/f", 404, 20),
        ("/api/g", 404, 20),
        ("/img/3", 404, 20),
        ("/api/h", 503, 5),
        ("/api/i", 500, 5),
    ];
    let mut text = String::new();
    for (path, status, bytes) in written {
        text.push_str(&clf(unix_now(), path, status, bytes));
        if status == 301 {
            text.push_str("garbage\n");
        }
    }
    text.push_str("\"GET / HTTP/1.1\" nonsense\n");
    append(&log, &text);

    let metrics = eventually("the counters to reach what was written", || {
        let m = parse_metrics(&get(lm.addr, "/metrics").body);
        (metric(&m, "logmon_requests_total", None) == Some(12.0)).then_some(m)
    });
    let class = |c| metric(&metrics, "logmon_requests_total", Some(("class", c)));
    assert_eq!(class("1xx"), Some(0.0));
    assert_eq!(class("2xx"), Some(5.0));
    assert_eq!(class("3xx"), Some(2.0));
    assert_eq!(class("4xx"), Some(3.0));
    assert_eq!(class("5xx"), Some(2.0));
    assert_eq!(metric(&metrics, "logmon_bytes_total", None), Some(740.0));
    assert_eq!(
        metric(&metrics, "logmon_invalid_lines_total", None),
        Some(2.0)
    );
    assert_eq!(
        metric(&metrics, "logmon_alert_threshold_requests_per_second", None),
        Some(0.5)
    );
    let code = |c| metric(&metrics, "logmon_responses_total", Some(("code", c)));
    assert_eq!(
        ["200", "201", "204", "301", "302", "404", "500", "503"].map(code),
        [3.0, 1.0, 1.0, 1.0, 1.0, 3.0, 1.0, 1.0].map(Some)
    );
    assert_eq!(metric(&metrics, "logmon_responses_total", None), Some(12.0));
    assert_eq!(
        metric(&metrics, "logmon_request_duration_seconds_count", None),
        Some(0.0),
        "these lines carry no request time"
    );

    let alert = next_of(&rx, "alert");
    assert_eq!(alert["hits"], 32, "{alert}");
    assert_eq!(alert["window_secs"], 60);
    let report = next_of(&rx, "report");
    assert_eq!(report["alerting"], true);
    for field in [
        "start",
        "end",
        "status",
        "methods",
        "sections",
        "window_average",
    ] {
        assert!(
            report.get(field).is_some(),
            "report has no {field}: {report}"
        );
    }

    let m = parse_metrics(&get(lm.addr, "/metrics").body);
    assert_eq!(metric(&m, "logmon_alert_active", None), Some(1.0));
    assert_eq!(metric(&m, "logmon_window_hits", None), Some(32.0));
    let avg = metric(&m, "logmon_window_average_requests_per_second", None).unwrap();
    assert!((avg - 32.0 / 60.0).abs() < 1e-9, "{avg}");
    // Reported sections have series; with the backfill left out, the
    // section series add up to the requests read, once reported.
    let m = eventually("every request to be reported", || {
        let m = parse_metrics(&get(lm.addr, "/metrics").body);
        (metric(&m, "logmon_section_requests_total", None) == Some(12.0)).then_some(m)
    });
    assert!(
        metric(
            &m,
            "logmon_section_requests_total",
            Some(("section", "/api"))
        )
        .unwrap()
            >= 9.0
    );
    assert_eq!(
        metric(
            &m,
            "logmon_section_requests_total",
            Some(("section", "/old"))
        ),
        None,
        "backfilled lines are in no report"
    );

    let s = state(lm.addr);
    assert_eq!(s["type"], "state");
    assert_eq!(s["alerting"], true);
    assert_eq!(s["totals"]["hits"], 12);
    assert_eq!(s["totals"]["invalid"], 2);
    assert_eq!(s["history"][0]["type"], "alert");
    assert_eq!(s["chart"]["bucket_secs"], 1);
    let rates = s["chart"]["rates"].as_array().unwrap();
    assert_eq!(rates.len(), 59, "the complete seconds of the window");
    let charted: f64 = rates.iter().map(|r| r.as_f64().unwrap()).sum();
    assert_eq!(charted, 32.0);
}

#[test]
fn replay_keeps_serving_the_final_state_until_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    // 2 req/s, a minute at 30 req/s (alert above 10 over 30 s), 2 req/s.
    let mut text = phases(
        1_772_366_400,
        &[(60, 2), (60, 30), (120, 2)],
        &["/api", "/img"],
    );
    text.push_str("not a log line\n");
    append(&log, &text);
    let lines = text.lines().count() - 1;

    let mut lm = replay(
        log.to_str().unwrap(),
        &["--window", "30", "--threshold", "10"],
    );
    let m = parse_metrics(&get(lm.addr, "/metrics").body);
    assert_eq!(
        metric(&m, "logmon_requests_total", None),
        Some(lines as f64)
    );
    // Statuses cycle 200, 200, 200, 404, 503, 301.
    let per = |class| metric(&m, "logmon_requests_total", Some(("class", class))).unwrap();
    assert_eq!(per("2xx"), (lines / 2) as f64);
    assert_eq!(per("3xx") + per("4xx") + per("5xx"), (lines / 2) as f64);
    let bytes: u64 = (0..lines as u64).map(|n| 100 + n % 10).sum();
    assert_eq!(metric(&m, "logmon_bytes_total", None), Some(bytes as f64));
    assert_eq!(metric(&m, "logmon_invalid_lines_total", None), Some(1.0));
    assert_eq!(
        metric(&m, "logmon_section_requests_total", None),
        Some(lines as f64),
        "every reported request is in a section series"
    );
    assert_eq!(metric(&m, "logmon_alert_active", None), Some(0.0));

    let s = state(lm.addr);
    let kinds: Vec<&str> = s["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["alert", "recovered"]);
    assert_eq!(s["report"]["type"], "report");
    assert_eq!(s["totals"]["hits"], lines);

    // A client that connects after the end still gets the final state.
    let rx = events(lm.addr);
    let first = rx.recv_timeout(WAIT).expect("a first event");
    assert_eq!(first["type"], "state");
    assert_eq!(first["history"], s["history"]);

    lm.signal("INT");
    assert!(lm.wait_exit().success());
}

#[test]
fn response_codes_and_request_times_reach_the_metrics() {
    // Six lines with Apache's %D: 12 ms, 20 ms, 150 ms, 3 ms, 1.25 s, 5 ms.
    let lm = replay(&fixture("apache-latency.log"), &[]);
    let m = parse_metrics(&get(lm.addr, "/metrics").body);
    let code = |c| metric(&m, "logmon_responses_total", Some(("code", c)));
    assert_eq!(
        (code("200"), code("201"), code("500")),
        (Some(4.0), Some(1.0), Some(1.0))
    );
    let bucket = |le| {
        metric(
            &m,
            "logmon_request_duration_seconds_bucket",
            Some(("le", le)),
        )
        .unwrap()
    };
    let le = [
        "0.005", "0.01", "0.025", "0.1", "0.25", "1", "2.5", "10", "+Inf",
    ];
    assert_eq!(
        le.map(bucket),
        [2.0, 2.0, 4.0, 4.0, 5.0, 5.0, 6.0, 6.0, 6.0]
    );
    assert_eq!(
        metric(&m, "logmon_request_duration_seconds_count", None),
        Some(6.0)
    );
    let sum = metric(&m, "logmon_request_duration_seconds_sum", None).unwrap();
    assert!((sum - 1.44).abs() < 1e-9, "{sum}");
}

/// promtool, when it is on PATH.
fn promtool() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("promtool"))
        .find(|p| p.is_file())
}

#[test]
fn metrics_pass_promtool_check_metrics() {
    let Some(promtool) = promtool() else {
        println!("note: promtool is not installed; skipping `promtool check metrics`");
        return;
    };
    // Codes, request times and sections, and a section name that needs
    // escaping in a label.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    let mut text = std::fs::read_to_string(fixture("apache-latency.log")).unwrap();
    text.push_str(&clf(1_772_366_410, "/a\"b\\c/d", 404, 10));
    append(&log, &text);
    let lm = replay(log.to_str().unwrap(), &[]);
    let metrics = get(lm.addr, "/metrics").body;
    assert!(metrics.contains("logmon_request_duration_seconds_bucket{le=\"+Inf\"} 6\n"));
    let mut check = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run promtool");
    check
        .stdin
        .take()
        .unwrap()
        .write_all(metrics.as_bytes())
        .unwrap();
    let out = check.wait_with_output().unwrap();
    // It also lints (names, units, help); any finding is printed and fails.
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "promtool check metrics: {}{}\n{metrics}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_chart_moves_every_second_on_events_and_never_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    let out = dir.path().join("stdout");
    append(&log, "");
    // No report for an hour: only `second` events can move the chart.
    let mut sh = pinned(Command::new("sh"));
    sh.arg("-c")
        .arg(r#"out=$1; shift; exec "$@" >"$out""#)
        .arg("sh")
        .arg(&out)
        .arg(env!("CARGO_BIN_EXE_logmon"))
        .args([
            "--format",
            "json",
            "--serve",
            "127.0.0.1:0",
            "--poll-ms",
            "50",
        ])
        .args(["--period", "3600", "--window", "30"])
        .arg(&log);
    let lm = Logmon::spawn(&mut sh);
    let rx = events(lm.addr);
    let first = rx.recv_timeout(WAIT).expect("a first event");
    assert_eq!(first["type"], "state");

    let a = next_of(&rx, "second");
    let mut seconds = vec![a];
    // Written now, so counted in the second that is open: its event
    // carries them once it closes.
    for _ in 0..7 {
        append(&log, &clf(unix_now(), "/api/x", 200, 10));
    }
    let deadline = Instant::now() + WAIT;
    while seconds
        .iter()
        .map(|e| e["hits"].as_u64().unwrap())
        .sum::<u64>()
        < 7
    {
        assert!(
            Instant::now() < deadline,
            "the hits never came: {seconds:?}"
        );
        seconds.push(next_of(&rx, "second"));
    }
    seconds.push(next_of(&rx, "second"));
    let at: Vec<i64> = seconds
        .iter()
        .map(|e| {
            let t = e["at"].as_str().unwrap();
            chrono::DateTime::parse_from_rfc3339(t).unwrap().timestamp()
        })
        .collect();
    assert!(
        at.windows(2).all(|w| w[1] == w[0] + 1),
        "one event per second, in order: {at:?}"
    );
    let last = seconds.last().unwrap();
    assert_eq!(last["window_hits"], 7, "{last}");
    let average = last["window_average"].as_f64().unwrap();
    assert!((average - 7.0 / 30.0).abs() < 1e-9, "{last}");
    // The state's chart ends where the events are.
    let s = state(lm.addr);
    let end = chrono::DateTime::parse_from_rfc3339(s["chart"]["end"].as_str().unwrap())
        .unwrap()
        .timestamp();
    assert!(end >= *at.last().unwrap(), "{s}");

    lm.signal("INT");
    let mut lm = lm;
    assert!(lm.wait_exit().success());
    let printed = std::fs::read_to_string(&out).unwrap();
    assert!(printed.contains("\"type\":\"report\""), "{printed}");
    assert!(!printed.contains("\"second\""), "{printed}");
}

#[test]
fn the_page_and_its_assets_are_served_with_a_strict_policy() {
    let lm = replay(&fixture("sample.log"), &[]);
    let page = get(lm.addr, "/");
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("Content-Type"),
        Some("text/html; charset=utf-8")
    );
    let csp = page.header("Content-Security-Policy").expect("a CSP");
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    assert!(csp.contains("connect-src 'self'"));
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"));
    assert!(page.body.contains("<script src=\"/app.js\""));

    let js = get(lm.addr, "/app.js");
    assert_eq!(js.status, 200);
    assert!(js
        .header("Content-Type")
        .unwrap()
        .starts_with("text/javascript"));
    assert!(js.body.contains("EventSource('/events')"));
    let css = get(lm.addr, "/app.css");
    assert!(css.header("Content-Type").unwrap().starts_with("text/css"));
    for a in [&page, &js, &css] {
        assert_eq!(a.header("X-Content-Type-Options"), Some("nosniff"));
    }

    assert_eq!(get(lm.addr, "/nothing-here").status, 404);
    assert_eq!(
        fetch(lm.addr, "POST", "/api/state", "127.0.0.1").status,
        405
    );
    let head = fetch(lm.addr, "HEAD", "/metrics", "127.0.0.1");
    assert_eq!((head.status, head.body.as_str()), (200, ""));
    let metrics = get(lm.addr, "/metrics?x=1");
    assert_eq!(
        metrics.header("Content-Type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    // DNS rebinding: another site's name pointing at 127.0.0.1.
    assert_eq!(
        fetch(lm.addr, "GET", "/api/state", "attacker.example:80").status,
        421
    );
    assert_eq!(fetch(lm.addr, "GET", "/api/state", "localhost").status, 200);
}

/// An empty log in a temp dir, and the arguments that follow it with a
/// server on a free port (`extra` first).
fn empty_log(extra: &[&str]) -> (tempfile::TempDir, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    append(&log, "");
    let mut args: Vec<String> = ["--serve", "127.0.0.1:0", "--poll-ms", "50"]
        .iter()
        .chain(extra)
        .map(|a| a.to_string())
        .collect();
    args.push(log.to_str().unwrap().to_owned());
    (dir, args)
}

/// Logmon following an empty log with a server, and the log's directory.
fn serving(extra: &[&str]) -> (Logmon, tempfile::TempDir) {
    let (dir, args) = empty_log(extra);
    (Logmon::spawn(logmon().args(&args)), dir)
}

/// Logmon as `serving` starts it, with its open-file limit set to `limit`
/// by the shell that execs it (the crate forbids the `unsafe` of
/// `pre_exec`).
fn serving_with_open_files(limit: u32) -> (Logmon, tempfile::TempDir) {
    let (dir, args) = empty_log(&[]);
    let mut sh = pinned(Command::new("sh"));
    sh.arg("-c")
        .arg(format!("ulimit -n {limit} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_logmon"))
        .args(&args);
    (Logmon::spawn(&mut sh), dir)
}

/// Open a connection and send `bytes` on it.
fn send(addr: SocketAddr, bytes: &[u8]) -> TcpStream {
    let mut s = TcpStream::connect_timeout(&addr, WAIT).expect("connect");
    s.set_read_timeout(Some(WAIT)).unwrap();
    s.write_all(bytes).unwrap();
    s
}

/// The status of the answer that starts on `s`.
fn status_of(s: &mut TcpStream) -> u16 {
    let mut head = [0; 12];
    s.read_exact(&mut head).expect("an answer");
    let head = String::from_utf8_lossy(&head);
    head[9..]
        .parse()
        .unwrap_or_else(|_| panic!("a status in {head:?}"))
}

/// GET `/metrics`, failing the test unless it answers 200 within `within`.
fn metrics_within(addr: SocketAddr, within: Duration) {
    let t = Instant::now();
    let a = get(addr, "/metrics");
    let took = t.elapsed();
    assert_eq!(a.status, 200, "{a:?}");
    assert!(took < within, "GET /metrics took {took:?}");
}

fn alive(lm: &mut Logmon) -> bool {
    lm.child.try_wait().unwrap().is_none()
}

/// Resident memory of process `pid` in KiB, from /proc.
#[cfg(target_os = "linux")]
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/PID/status")
}

#[test]
fn a_huge_content_length_is_refused_unread_and_the_server_lives_on() {
    let (mut lm, _dir) = serving(&[]);
    // 100 GB was once allocated up front (an abort); the largest u64 once
    // panicked a request thread.
    for length in ["100000000000", "18446744073709551615"] {
        let mut s = send(
            lm.addr,
            format!("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {length}\r\n\r\n")
                .as_bytes(),
        );
        let status = status_of(&mut s);
        // 413 for a body we will not read; hyper refuses a length it cannot
        // represent before we see the request (431).
        assert!([413, 431].contains(&status), "{length}: {status}");
        metrics_within(lm.addr, Duration::from_secs(1));
        assert!(alive(&mut lm));
    }
}

#[test]
fn requests_that_declare_a_body_and_send_none_hold_up_nobody() {
    let (lm, _dir) = serving(&[]);
    let head = b"POST /api/state HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n";
    let mut held: Vec<TcpStream> = (0..2).map(|_| send(lm.addr, head)).collect();
    metrics_within(lm.addr, Duration::from_secs(1));
    for s in &mut held {
        assert_eq!(status_of(s), 413);
    }
}

#[test]
fn two_host_headers_are_a_bad_request() {
    let (lm, _dir) = serving(&[]);
    for hosts in [
        "127.0.0.1\r\nHost: attacker.example",
        "127.0.0.1\r\nHost: 127.0.0.1",
    ] {
        let mut s = send(
            lm.addr,
            format!("GET /api/state HTTP/1.1\r\nHost: {hosts}\r\n\r\n").as_bytes(),
        );
        assert_eq!(status_of(&mut s), 400, "{hosts}");
    }
    let refused = fetch(lm.addr, "GET", "/", "attacker.example");
    assert_eq!(refused.status, 421);
    assert!(refused.header("Content-Security-Policy").is_some());
}

#[cfg(target_os = "linux")]
#[test]
fn a_never_ending_head_closes_its_connection_in_bounded_memory() {
    let (mut lm, _dir) = serving(&[]);
    let mut s = send(lm.addr, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Long: ");
    let chunk = [b'a'; 64 * 1024];
    let mut sent = 0;
    while sent < 1 << 20 {
        // The server closes the connection once the head passes 16 KiB;
        // what was still on its way makes the next writes fail.
        if s.write_all(&chunk).is_err() {
            break;
        }
        sent += chunk.len();
    }
    let mut answer = Vec::new();
    match s.read_to_end(&mut answer) {
        Ok(_) => {}
        Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e}"),
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
        "{answer}"
    );
    let rss = rss_kib(lm.child.id());
    assert!(rss < 64 * 1024, "{rss} KiB resident");
    metrics_within(lm.addr, Duration::from_secs(1));
    assert!(alive(&mut lm));
}

#[test]
fn slowloris_sockets_do_not_keep_a_normal_request_waiting() {
    let (lm, _dir) = serving(&[]);
    // More half-sent heads than the server keeps connections: it closes
    // the oldest of them to make room.
    let mut slow: Vec<TcpStream> = (0..300)
        .map(|_| send(lm.addr, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-a: "))
        .collect();
    for s in &mut slow {
        let _ = s.write_all(b"b");
    }
    metrics_within(lm.addr, Duration::from_secs(1));
}

#[cfg(target_os = "linux")]
#[test]
fn idle_connections_past_the_open_file_limit_do_not_end_the_listener() {
    // The clients connect as soon as the address is printed, before logmon
    // opens its log: the server must leave it a descriptor (it once took
    // them all at 48, and logmon ended with "Too many open files").
    for limit in [512, 48] {
        let (mut lm, dir) = serving_with_open_files(limit);
        let idle: Vec<TcpStream> = (0..600)
            .map(|_| TcpStream::connect_timeout(&lm.addr, WAIT).expect("connect"))
            .collect();
        let a = get(lm.addr, "/metrics");
        assert_eq!(a.status, 200, "limit {limit}, while held: {a:?}");
        // The log is still followed, with descriptors to spare for its
        // rotations.
        append(
            &dir.path().join("access.log"),
            &clf(unix_now(), "/a", 200, 1),
        );
        eventually("the line counted", || {
            let samples = parse_metrics(&get(lm.addr, "/metrics").body);
            (metric(&samples, "logmon_requests_total", None) == Some(1.0)).then_some(())
        });
        let open = std::fs::read_dir(format!("/proc/{}/fd", lm.child.id()))
            .unwrap()
            .count();
        assert!(
            open + 8 <= limit as usize,
            "limit {limit}: {open} files open"
        );
        drop(idle);
        metrics_within(lm.addr, Duration::from_secs(1));
        assert!(alive(&mut lm), "limit {limit}");
    }
}

#[cfg(target_os = "linux")]
#[test]
fn requests_that_arrive_together_past_the_open_file_limit_are_all_answered() {
    // More requests than the server takes connections at this limit, all
    // waiting when it wakes: none may be closed unread as if idle.
    let (lm, _dir) = serving_with_open_files(48);
    wait_for(&lm.stderr, "logmon: following", WAIT).expect("following");
    lm.signal("STOP");
    let head = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    let waiting: Vec<TcpStream> = (0..60).map(|_| send(lm.addr, head)).collect();
    lm.signal("CONT");
    for (i, mut s) in waiting.into_iter().enumerate() {
        let mut answer = Vec::new();
        s.read_to_end(&mut answer)
            .unwrap_or_else(|e| panic!("request {i}: {e}"));
        assert!(answer.starts_with(b"HTTP/1.1 200"), "request {i}");
    }
}

#[test]
fn at_most_64_event_streams_and_a_closed_one_frees_its_place() {
    let (lm, _dir) = serving(&[]);
    let head = b"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    let mut streams: Vec<TcpStream> = (0..64).map(|_| send(lm.addr, head)).collect();
    for s in &mut streams {
        assert_eq!(status_of(s), 200);
    }
    assert_eq!(status_of(&mut send(lm.addr, head)), 503);
    metrics_within(lm.addr, Duration::from_secs(1));
    drop(streams.pop());
    eventually("a place for a new stream", || {
        (status_of(&mut send(lm.addr, head)) == 200).then_some(())
    });
}

#[test]
fn silent_slow_and_idle_clients_are_cut_off_after_the_timeouts() {
    // The timeouts (10 s for a head, 5 s idle) shortened to 300 ms.
    let (_dir, args) = empty_log(&[]);
    let lm = Logmon::spawn(logmon().args(&args).env("LOGMON_SERVE_TIMEOUT_MS", "300"));
    /// How long until the server closes `s`, sending `drip` every 100 ms.
    fn closed_after(mut s: TcpStream, drip: &[u8]) -> Duration {
        let t = Instant::now();
        s.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let mut buf = [0; 4096];
        while t.elapsed() < WAIT {
            match s.read(&mut buf) {
                Ok(0) => break,
                Ok(_) => continue,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    if s.write_all(drip).is_err() {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        t.elapsed()
    }
    let silent = closed_after(send(lm.addr, b""), b"");
    let slow = closed_after(send(lm.addr, b"GET / HTTP/1.1\r\n"), b"X");
    // A kept-alive connection after its answer.
    let idle = closed_after(
        send(lm.addr, b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
        b"",
    );
    for (what, took) in [("silent", silent), ("slow head", slow), ("idle", idle)] {
        assert!(
            took >= Duration::from_millis(250) && took < Duration::from_secs(3),
            "{what}: closed after {took:?}"
        );
    }
}

#[test]
fn reports_stay_on_time_while_clients_attack_the_server() {
    let (lm, dir) = serving(&["--period", "1"]);
    let log = dir.path().join("access.log");
    let rx = events(lm.addr);
    assert_eq!(rx.recv_timeout(WAIT).unwrap()["type"], "state");
    let start = Instant::now();
    let addr = lm.addr;
    let attacker = thread::spawn(move || {
        let mut held = Vec::new();
        while start.elapsed() < Duration::from_millis(2000) {
            held.push(send(addr, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX: "));
            let mut s = send(addr, b"GET / HTTP/1.1\r\nX: ");
            let _ = s.write_all(&[b'a'; 32 * 1024]);
            held.push(send(
                addr,
                b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 18446744073709551615\r\n\r\n",
            ));
            if held.len() > 400 {
                held.drain(..100);
            }
        }
    });
    // A hit a second, and a report for each second.
    let mut arrivals = Vec::new();
    while start.elapsed() < Duration::from_millis(2500) {
        append(&log, &clf(unix_now(), "/api", 200, 10));
        let report = next_of(&rx, "report");
        arrivals.push(start.elapsed());
        assert!(report["end"].is_string());
    }
    attacker.join().unwrap();
    assert!(arrivals.len() >= 2, "{arrivals:?}");
    for pair in arrivals.windows(2) {
        assert!(
            pair[1] - pair[0] < Duration::from_millis(1500),
            "{arrivals:?}"
        );
    }
}
