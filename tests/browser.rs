//! The dashboard in a real browser: headless Chromium loads the page from
//! a replay's server and the test reads the DOM it built.
//!
//! Skipped, with a note, when Chromium is not installed (CI installs it).
//! `--dump-dom` and `--screenshot` capture at the load event, before the
//! page's event stream has delivered anything, so the test drives Chromium
//! over `--remote-debugging-pipe` instead: the DevTools protocol as JSON
//! messages ending in NUL on file descriptors 3 and 4, here two named
//! pipes. No driver crate, and every wait is bounded; Chromium is killed
//! after `HARD_TIMEOUT` whatever happens.
//!
//! Chromium runs with its home, XDG and temporary directories inside the
//! test's own temporary directory, so it leaves nothing behind.
//!
//! Set `LOGMON_SCREENSHOT=path.png` to keep a screenshot of the page.

// A test's notes (a skip, a caveat) go to the harness, which captures them:
// the printing macros refused in the crate (clippy.toml) are fine here.
#![allow(clippy::disallowed_macros)]

mod support;

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::*;

/// Chromium is killed after this, and the test fails.
const HARD_TIMEOUT: Duration = Duration::from_secs(90);

fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("LOGMON_CHROMIUM") {
        return Some(path.into());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
        .find(|p| p.is_file())
}

/// A DevTools protocol connection over two pipes.
struct Cdp {
    w: File,
    r: BufReader<File>,
    id: u64,
    /// Events received so far, as `(method, params)`.
    events: Vec<(String, Value)>,
}

impl Cdp {
    fn call(
        &mut self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value, String> {
        self.id += 1;
        let mut msg = json!({ "id": self.id, "method": method, "params": params });
        if let Some(s) = session {
            msg["sessionId"] = s.into();
        }
        let mut bytes = msg.to_string().into_bytes();
        bytes.push(0);
        self.w.write_all(&bytes).map_err(|e| e.to_string())?;
        loop {
            let mut buf = Vec::new();
            self.r.read_until(0, &mut buf).map_err(|e| e.to_string())?;
            if buf.pop() != Some(0) {
                return Err(format!("chromium closed the pipe during {method}"));
            }
            let v: Value = serde_json::from_slice(&buf).map_err(|e| e.to_string())?;
            if v["id"] == self.id {
                if let Some(e) = v.get("error") {
                    return Err(format!("{method}: {e}"));
                }
                return Ok(v["result"].clone());
            }
            if let Some(m) = v["method"].as_str() {
                self.events.push((m.to_owned(), v["params"].clone()));
            }
        }
    }

    /// Evaluate `expr` in the page and return its value.
    fn eval(&mut self, session: &str, expr: &str) -> Result<Value, String> {
        let r = self.call(
            Some(session),
            "Runtime.evaluate",
            json!({ "expression": expr, "returnByValue": true }),
        )?;
        if let Some(e) = r.get("exceptionDetails") {
            return Err(format!("{expr}: {e}"));
        }
        Ok(r["result"]["value"].clone())
    }
}

/// What the test reads from the page once it shows the data.
const PROBE: &str = r#"JSON.stringify({
  sections: [...document.querySelectorAll('#sections tbody td.section')].map((td) => td.textContent),
  history: [...document.querySelectorAll('#history tbody tr')].map((tr) => tr.cells[0].textContent),
  badge: document.getElementById('alert-state').textContent,
  link: document.getElementById('link').textContent,
  scripts: document.scripts.length,
  html: document.documentElement.outerHTML,
})"#;

/// Load `url`, wait for the page to show three history rows, probe it and
/// take a screenshot.
fn drive(fifo_in: &Path, fifo_out: &Path, url: &str) -> Result<(Value, Vec<u8>, Cdp), String> {
    // Chromium reads fd 3 (we write) and writes fd 4 (we read); the shell
    // opens them in that order, so open them in the same order here.
    let w = OpenOptions::new()
        .write(true)
        .open(fifo_in)
        .map_err(|e| e.to_string())?;
    let r = BufReader::new(File::open(fifo_out).map_err(|e| e.to_string())?);
    let mut cdp = Cdp {
        w,
        r,
        id: 0,
        events: Vec::new(),
    };
    let target = cdp.call(None, "Target.createTarget", json!({ "url": "about:blank" }))?;
    let attached = cdp.call(
        None,
        "Target.attachToTarget",
        json!({ "targetId": target["targetId"], "flatten": true }),
    )?;
    let session = attached["sessionId"]
        .as_str()
        .ok_or("no session")?
        .to_owned();
    let s = Some(session.as_str());
    cdp.call(s, "Network.enable", json!({}))?;
    cdp.call(s, "Log.enable", json!({}))?;
    cdp.call(
        s,
        "Emulation.setDeviceMetricsOverride",
        json!({ "width": 1280, "height": 880, "deviceScaleFactor": 1, "mobile": false }),
    )?;
    cdp.call(s, "Page.navigate", json!({ "url": url }))?;

    let deadline = Instant::now() + WAIT;
    let ready = "document.querySelectorAll('#history tbody tr').length >= 3 \
                 && document.querySelectorAll('#sections tbody tr').length > 0";
    while cdp.eval(&session, ready)? != json!(true) {
        if Instant::now() > deadline {
            let probe = cdp.eval(&session, PROBE)?;
            return Err(format!("the page never showed the data: {probe}"));
        }
        thread::sleep(Duration::from_millis(100));
    }
    // Let the chart's state request land, so the screenshot is complete.
    thread::sleep(Duration::from_millis(500));
    let probe = cdp.eval(&session, PROBE)?;
    let probe: Value =
        serde_json::from_str(probe.as_str().ok_or("probe")?).map_err(|e| e.to_string())?;
    let shot = cdp.call(s, "Page.captureScreenshot", json!({ "format": "png" }))?;
    let png = base64(shot["data"].as_str().ok_or("no screenshot")?);
    let _ = cdp.call(None, "Browser.close", json!({}));
    Ok((probe, png, cdp))
}

fn base64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let digits: Vec<u8> = text.bytes().filter(|&c| c != b'=').map(value).collect();
    digits
        .chunks(4)
        .flat_map(|q| {
            let n = q
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, &d)| n | u32::from(d) << (18 - 6 * i));
            let bytes = n.to_be_bytes();
            bytes[1..q.len()].to_vec()
        })
        .collect()
}

#[test]
fn base64_decodes_padding() {
    assert_eq!(base64("aGk="), b"hi");
    assert_eq!(base64("aGV5"), b"hey");
    assert_eq!(base64("aA=="), b"h");
}

#[test]
fn the_dashboard_shows_sections_and_alert_history_and_log_text_as_text() {
    let Some(chromium) = chromium() else {
        println!("note: chromium is not installed; skipping the browser test");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    // An uneven baseline around 4 req/s with bursts around 28 req/s: an
    // alert, a recovery, and an alert still active at the end of the file.
    let rates: Vec<(i64, usize)> = (0..330)
        .map(|s: usize| {
            let burst = (90..150).contains(&s) || s >= 300;
            let rate = if burst {
                22 + (s * s * 5 + s) % 13
            } else {
                2 + (s * s * 7 + s * 3) % 5
            };
            (1, rate)
        })
        .collect();
    let text = phases(
        1_772_366_400,
        &rates,
        &["/api", "/images", "/<script>alert(1)</script>"],
    );
    append(&log, &text);
    let lm = Logmon::start(&[
        "--replay",
        "--serve",
        "127.0.0.1:0",
        "--window",
        "60",
        "--threshold",
        "10",
        log.to_str().unwrap(),
    ]);
    wait_for(&lm.stderr, "replay done", WAIT).expect("the replay ends");
    let origin = format!("http://{}/", lm.addr);

    let (fifo_in, fifo_out) = (dir.path().join("cdp-in"), dir.path().join("cdp-out"));
    for fifo in [&fifo_in, &fifo_out] {
        let ok = Command::new("mkfifo").arg(fifo).status().unwrap().success();
        assert!(ok, "mkfifo");
    }
    // Everything Chromium writes goes inside the test's temporary
    // directory, removed at the end: the profile (--user-data-dir), its
    // `org.chromium.Chromium.*` scratch directory (TMPDIR), crash reports
    // (under XDG_CONFIG_HOME) and caches (XDG_CACHE_HOME, HOME).
    let profile = dir.path().join("profile");
    let home = dir.path().join("home");
    let scratch = dir.path().join("tmp");
    for d in [&home, &scratch] {
        std::fs::create_dir(d).unwrap();
    }
    let mut browser = Command::new("sh")
        .arg("-c")
        .arg(r#"exec "$@" 3<"$CDP_IN" 4>"$CDP_OUT""#)
        .arg("sh")
        .arg(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--remote-debugging-pipe",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("about:blank")
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("TMPDIR", &scratch)
        .env("CDP_IN", &fifo_in)
        .env("CDP_OUT", &fifo_out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");

    let (tx, rx) = mpsc::channel();
    let url = origin.clone();
    thread::spawn(move || {
        let _ = tx.send(drive(&fifo_in, &fifo_out, &url));
    });
    let result = rx.recv_timeout(HARD_TIMEOUT);
    let _ = browser.kill();
    let _ = browser.wait();
    let (probe, png, cdp) = match result {
        Ok(Ok(done)) => done,
        Ok(Err(e)) => panic!("{e}"),
        Err(_) => panic!("chromium did not finish within {HARD_TIMEOUT:?}"),
    };

    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG screenshot");
    if let Some(path) = std::env::var_os("LOGMON_SCREENSHOT") {
        std::fs::write(path, &png).unwrap();
    }

    let sections: Vec<&str> = probe["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(sections.contains(&"/api"), "{sections:?}");
    assert!(sections.contains(&"/<script>alert(1)<"), "{sections:?}");
    let html = probe["html"].as_str().unwrap();
    assert!(
        html.contains("/&lt;script&gt;alert(1)&lt;"),
        "shown as text"
    );
    assert!(!html.contains("<script>alert"), "never parsed as HTML");
    assert_eq!(probe["scripts"], 1, "only the page's own script");

    let history: Vec<&str> = probe["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(history, ["alert", "recovered", "alert"], "newest first");
    assert!(probe["badge"].as_str().unwrap().contains("ALERT"));
    assert_eq!(probe["link"], "live", "the event stream is connected");

    // Everything the page loaded came from the server itself, and nothing
    // was refused by the policy or failed.
    let urls: Vec<&str> = cdp
        .events
        .iter()
        .filter(|(m, _)| m == "Network.requestWillBeSent")
        .filter_map(|(_, p)| p["request"]["url"].as_str())
        .collect();
    assert!(urls.iter().any(|u| u.ends_with("/events")), "{urls:?}");
    assert!(urls.iter().all(|u| u.starts_with(&origin)), "{urls:?}");
    let problems: Vec<&Value> = cdp
        .events
        .iter()
        .filter(|(m, p)| m == "Log.entryAdded" && p["entry"]["level"] == "error")
        .map(|(_, p)| &p["entry"])
        .collect();
    assert!(problems.is_empty(), "{problems:?}");
}
