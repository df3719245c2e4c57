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
//! Set `LOGMON_SCREENSHOTS=DIR` to keep the screenshots of the replay's
//! page, during its alert (the README's): `DIR/dashboard.png`, the whole
//! page 1280 px wide, and `DIR/dashboard-phone.png`, a 390x844 screen.

// A test's notes (a skip, a caveat) go to the harness, which captures them:
// the printing macros refused in the crate (clippy.toml) are fine here.
#![allow(clippy::disallowed_macros)]

mod support;

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
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

    /// A new page at `width` x `height` CSS pixels in time zone `zone`,
    /// navigated to `url`; returns its session.
    fn open(
        &mut self,
        url: &str,
        (width, height): (u32, u32),
        zone: &str,
    ) -> Result<String, String> {
        let target = self.call(None, "Target.createTarget", json!({ "url": "about:blank" }))?;
        let attached = self.call(
            None,
            "Target.attachToTarget",
            json!({ "targetId": target["targetId"], "flatten": true }),
        )?;
        let session = attached["sessionId"]
            .as_str()
            .ok_or("no session")?
            .to_owned();
        let s = Some(session.as_str());
        self.call(s, "Network.enable", json!({}))?;
        self.call(s, "Log.enable", json!({}))?;
        self.call(
            s,
            "Emulation.setTimezoneOverride",
            json!({ "timezoneId": zone }),
        )?;
        self.size(&session, (width, height))?;
        self.call(s, "Page.navigate", json!({ "url": url }))?;
        Ok(session)
    }

    /// Lay the page out at `width` x `height`; below 600 px wide, as a phone.
    fn size(&mut self, session: &str, (width, height): (u32, u32)) -> Result<(), String> {
        let mobile = width < 600;
        self.call(
            Some(session),
            "Emulation.setDeviceMetricsOverride",
            json!({
                "width": width,
                "height": height,
                "deviceScaleFactor": if mobile { 2 } else { 1 },
                "mobile": mobile,
            }),
        )?;
        Ok(())
    }

    /// Wait until `expr` is true in the page, at most `WAIT`.
    fn wait(&mut self, session: &str, expr: &str) -> Result<(), String> {
        let deadline = Instant::now() + WAIT;
        // Before the page has loaded, its elements are missing.
        let guarded =
            format!("(() => {{ try {{ return {expr}; }} catch (e) {{ return false; }} }})()");
        while self.eval(session, &guarded)? != json!(true) {
            if Instant::now() > deadline {
                let probe = self.eval(session, PROBE)?;
                return Err(format!("never true: {expr}\npage: {probe}"));
            }
            thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }

    /// `PROBE` as JSON.
    fn probe(&mut self, session: &str) -> Result<Value, String> {
        let probe = self.eval(session, PROBE)?;
        serde_json::from_str(probe.as_str().ok_or("probe")?).map_err(|e| e.to_string())
    }

    /// A PNG of the screen, or with `whole` of the whole page.
    fn screenshot(&mut self, session: &str, whole: bool) -> Result<Vec<u8>, String> {
        let mut params = json!({ "format": "png" });
        if whole {
            let size = self.call(Some(session), "Page.getLayoutMetrics", json!({}))?;
            let size = &size["cssContentSize"];
            params["captureBeyondViewport"] = true.into();
            params["clip"] = json!({
                "x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1,
            });
        }
        let shot = self.call(Some(session), "Page.captureScreenshot", params)?;
        Ok(base64(shot["data"].as_str().ok_or("no screenshot")?))
    }
}

/// Run headless Chromium with `drive` talking to it, and kill it when
/// `drive` returns or after `HARD_TIMEOUT`. Returns what `drive` returned
/// and every protocol event Chromium sent, or `None` (with a note) when
/// Chromium is not installed.
fn with_chromium<T: Send + 'static>(
    dir: &Path,
    drive: impl FnOnce(&mut Cdp) -> Result<T, String> + Send + 'static,
) -> Option<(T, Vec<(String, Value)>)> {
    let Some(chromium) = chromium() else {
        println!("note: chromium is not installed; skipping the browser test");
        return None;
    };
    let (fifo_in, fifo_out) = (dir.join("cdp-in"), dir.join("cdp-out"));
    for fifo in [&fifo_in, &fifo_out] {
        let ok = Command::new("mkfifo").arg(fifo).status().unwrap().success();
        assert!(ok, "mkfifo");
    }
    // Everything Chromium writes goes inside the test's temporary
    // directory, removed at the end: the profile (--user-data-dir), its
    // `org.chromium.Chromium.*` scratch directory (TMPDIR), crash reports
    // (under XDG_CONFIG_HOME) and caches (XDG_CACHE_HOME, HOME).
    let profile = dir.join("profile");
    let home = dir.join("home");
    let scratch = dir.join("tmp");
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
            "--hide-scrollbars",
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
        // Its own process group, so that its helpers can be stopped too.
        .process_group(0)
        .spawn()
        .expect("start chromium");

    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let run = || -> Result<(T, Vec<(String, Value)>), String> {
            // Chromium reads fd 3 (we write) and writes fd 4 (we read); the
            // shell opens them in that order, so open them in the same
            // order here.
            let w = OpenOptions::new()
                .write(true)
                .open(&fifo_in)
                .map_err(|e| e.to_string())?;
            let r = BufReader::new(File::open(&fifo_out).map_err(|e| e.to_string())?);
            let mut cdp = Cdp {
                w,
                r,
                id: 0,
                events: Vec::new(),
            };
            let done = drive(&mut cdp)?;
            let _ = cdp.call(None, "Browser.close", json!({}));
            Ok((done, cdp.events))
        };
        let _ = tx.send(run());
    });
    let result = rx.recv_timeout(HARD_TIMEOUT);
    stop(&mut browser);
    match result {
        Ok(Ok(done)) => Some(done),
        Ok(Err(e)) => panic!("{e}"),
        Err(_) => panic!("chromium did not finish within {HARD_TIMEOUT:?}"),
    }
}

/// Stop Chromium and every helper process it started, and return once
/// none is left running: a helper still writing the profile while the
/// test's directory is removed would leave the profile behind. It was
/// asked to close: give it a moment to do so by itself.
fn stop(browser: &mut Child) {
    use rustix::process::{kill_process_group, Pid, Signal};
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline && matches!(browser.try_wait(), Ok(None)) {
        thread::sleep(Duration::from_millis(20));
    }
    if let Some(group) = Pid::from_raw(browser.id() as i32) {
        let _ = kill_process_group(group, Signal::KILL);
        let deadline = Instant::now() + Duration::from_secs(5);
        while running_in_group(browser.id()) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
        }
    }
    let _ = browser.wait();
}

/// Whether a process of process group `group` is still running (not a
/// zombie waiting to be reaped), from `/proc/PID/stat`.
fn running_in_group(group: u32) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries.flatten().any(|entry| {
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        // `pid (comm) state ppid pgrp ...`; comm may hold spaces.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map_or(vec![], |(_, rest)| rest.split_whitespace().collect());
        matches!(fields.as_slice(), [state, _, pgrp, ..]
            if *state != "Z" && pgrp.parse() == Ok(group))
    })
}

/// What the tests read from the page: its data, and its layout in CSS
/// pixels.
const PROBE: &str = r#"JSON.stringify((() => {
  const rect = (e) => e.getBoundingClientRect();
  const all = (q) => [...document.querySelectorAll(q)];
  const texts = (q) => all(q).map((e) => e.textContent);
  const overlaps = (q) => {
    const rs = all(q).map(rect);
    return rs.some((a, i) => rs.some((b, j) => i < j &&
      a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom));
  };
  const cards = all('.card').map(rect);
  const panels = all('.tables > .panel').filter((p) => !p.classList.contains('hidden')).map(rect);
  const chart = document.getElementById('chart');
  return {
    sections: texts('#sections tbody td.name'),
    history: all('#history tbody tr:not(.drivers)').map((tr) => tr.cells[0].textContent),
    historyAt: all('#history tbody tr:not(.drivers)').map((tr) => tr.cells[1].textContent),
    drivers: texts('#history tr.drivers td'),
    codes: texts('#codes tbody tr'),
    clients: all('#clients tbody tr').map((tr) => [...tr.cells].filter((c) => c.offsetParent).map((c) => c.textContent)),
    paths: texts('#paths tbody td.name'),
    agents: all('#agents tbody tr').map((tr) => tr.cells[0].textContent + '|' + tr.cells[3].textContent),
    referrers: texts('#referrers tbody td.name'),
    countries: document.getElementById('countries-panel').classList.contains('hidden') ? null : texts('#countries tbody td.name'),
    approx: texts('.approx').filter((t) => t),
    badge: document.getElementById('alert-state').textContent,
    link: document.getElementById('link').textContent,
    asOf: document.getElementById('as-of').textContent,
    period: document.getElementById('period').textContent,
    scripts: document.scripts.length,
    html: document.documentElement.outerHTML,
    width: innerWidth,
    scrollWidth: document.documentElement.scrollWidth,
    header: rect(document.querySelector('header')).height,
    main: rect(document.querySelector('main')).width,
    cardRows: new Set(cards.map((c) => Math.round(c.top))).size,
    cardHeight: Math.max(...cards.map((c) => c.height)),
    tableColumns: new Set(panels.map((p) => Math.round(p.left))).size,
    chartWidth: rect(chart).width,
    chartPoints: Number(chart.dataset.points),
    chartEnd: chart.dataset.end,
    chartHits: Number(chart.dataset.hits),
    yticks: texts('#chart text.ytick'),
    xticks: texts('#chart text.xtick'),
    chartTexts: texts('#chart text'),
    smallestText: Math.min(...all('#chart text').map((t) => rect(t).height)),
    ticksOverlap: overlaps('#chart text'),
  };
})())"#;

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect()
}

/// Checks that hold at any width: the chart's text is at least 11 px and
/// no two labels overlap; the y-axis ticks are round (a step of 1, 2, 2.5
/// or 5 times a power of ten, from 0); no label in the chart (the legend
/// names the threshold and average lines, outside it, so no label can sit
/// on a line); nothing is wider than the screen.
fn check_chart_and_width(p: &Value) {
    let at = p["width"].as_f64().unwrap();
    assert!(p["smallestText"].as_f64().unwrap() >= 11.0, "{at}px: {p}");
    assert_eq!(p["ticksOverlap"], false, "{at}px: {}", p["chartTexts"]);
    assert_eq!(p["scrollWidth"].as_f64(), Some(at), "no sideways scrolling");
    let ticks: Vec<f64> = strings(&p["yticks"])
        .iter()
        .map(|t| t.replace(',', "").parse().unwrap())
        .collect();
    assert!(ticks.len() >= 3 && ticks[0] == 0.0, "{ticks:?}");
    let step = ticks[1];
    let power = 10f64.powf(step.log10().floor());
    assert!(
        [1.0, 2.0, 2.5, 5.0, 10.0]
            .iter()
            .any(|m| (step / power - m).abs() < 1e-9),
        "{ticks:?}"
    );
    for (i, t) in ticks.iter().enumerate() {
        assert!((t - step * i as f64).abs() < 1e-9, "{ticks:?}");
    }
    for text in strings(&p["chartTexts"]) {
        assert!(
            !text.contains("average") && !text.contains("threshold"),
            "{text}"
        );
    }
}

/// `iso` (UTC) as the page shows it in Asia/Kolkata: `2026-03-01 17:31:45
/// +05:30`.
fn kolkata(iso: &str) -> String {
    let t = chrono::DateTime::parse_from_rfc3339(iso).unwrap();
    let local = t + chrono::Duration::minutes(5 * 60 + 30);
    format!("{} +05:30", local.format("%Y-%m-%d %H:%M:%S"))
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

/// Combined lines with a request time: an uneven baseline around 4 req/s
/// from a few browsers, a crawler and a script, with bursts around 28
/// req/s, mostly one client (203.0.113.7, `python-requests`) searching
/// `/api`: an alert, a recovery, and an alert still active at the end of
/// the log. One section is markup.
fn burst_log() -> String {
    const CLIENTS: [&str; 6] = [
        "198.51.100.23",
        "198.51.100.40",
        "192.0.2.14",
        "2001:db8::7",
        "192.0.2.99",
        "198.51.100.5",
    ];
    const AGENTS: [&str; 4] = [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "curl/8.5.0",
    ];
    const PAGES: [&str; 5] = [
        "/images/logo.png",
        "/blog/2026/rust",
        "/api/cart",
        "/<script>alert(1)</script>",
        "/images/hero.jpg",
    ];
    const REFERRERS: [&str; 3] = [
        "https://search.example/?q=logs",
        "-",
        "https://news.example/item",
    ];
    let mut out = String::new();
    let mut n = 0usize;
    for s in 0..330usize {
        let burst = (90..150).contains(&s) || s >= 300;
        let rate = match burst {
            true => 22 + (s * s * 5 + s) % 13,
            false => 2 + (s * s * 7 + s * 3) % 5,
        };
        let time = chrono::DateTime::from_timestamp(1_772_366_400 + s as i64, 0).unwrap();
        let time = time.format("%d/%b/%Y:%H:%M:%S +0000");
        for i in 0..rate {
            n += 1;
            // In a burst, four requests in five come from one script.
            let (client, agent, path, referrer) = if burst && i % 5 != 0 {
                (
                    "203.0.113.7",
                    "python-requests/2.31.0",
                    "/api/search?q=x",
                    "-",
                )
            } else {
                (
                    CLIENTS[n % CLIENTS.len()],
                    AGENTS[n % AGENTS.len()],
                    PAGES[n % PAGES.len()],
                    REFERRERS[n % REFERRERS.len()],
                )
            };
            let status = [200, 200, 200, 304, 200, 404, 200, 503, 200, 403, 200, 502][n % 12];
            let ms = [3, 12, 40, 8, 95, 20, 310, 15, 1250, 5][n % 10];
            out.push_str(&format!(
                "{client} - - [{time}] \"GET {path} HTTP/1.1\" {status} {} \"{referrer}\" \"{agent}\" {}.{:03}\n",
                200 + n % 900,
                ms / 1000,
                ms % 1000
            ));
        }
    }
    out
}

#[test]
fn the_dashboard_shows_its_panels_at_desktop_and_phone_width_with_log_text_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    append(&log, &burst_log());
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
    let s = state(lm.addr);

    let url = origin.clone();
    let Some(((desktop, phone, shots), events)) = with_chromium(dir.path(), move |cdp| {
        let page = cdp.open(&url, (1280, 800), "Asia/Kolkata")?;
        cdp.wait(
            &page,
            "document.querySelectorAll('#history tbody tr').length >= 3 \
             && document.querySelectorAll('#sections tbody tr').length > 0 \
             && document.getElementById('chart').dataset.points > 0",
        )?;
        // Let the chart's state request land, so the screenshot is complete.
        thread::sleep(Duration::from_millis(500));
        let desktop = cdp.probe(&page)?;
        let wide = cdp.screenshot(&page, true)?;
        cdp.size(&page, (390, 844))?;
        cdp.wait(
            &page,
            "document.getElementById('chart').getBoundingClientRect().width < 390",
        )?;
        thread::sleep(Duration::from_millis(300));
        let phone = cdp.probe(&page)?;
        let narrow = cdp.screenshot(&page, false)?;
        Ok((desktop, phone, [wide, narrow]))
    }) else {
        return;
    };

    for png in &shots {
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG screenshot");
    }
    if let Some(dir) = std::env::var_os("LOGMON_SCREENSHOTS") {
        let dir = PathBuf::from(dir);
        std::fs::write(dir.join("dashboard.png"), &shots[0]).unwrap();
        std::fs::write(dir.join("dashboard-phone.png"), &shots[1]).unwrap();
    }

    let p = &desktop;
    let sections = strings(&p["sections"]);
    assert!(sections.contains(&"/api"), "{sections:?}");
    assert!(sections.contains(&"/<script>alert(1)<"), "{sections:?}");
    let html = p["html"].as_str().unwrap();
    assert!(
        html.contains("/&lt;script&gt;alert(1)&lt;"),
        "shown as text"
    );
    assert!(!html.contains("<script>alert"), "never parsed as HTML");
    assert_eq!(p["scripts"], 1, "only the page's own script");
    assert_eq!(
        strings(&p["history"]),
        ["alert", "recovered", "alert"],
        "newest first"
    );
    assert!(p["badge"].as_str().unwrap().contains("ALERT"));
    assert_eq!(p["link"], "live", "the event stream is connected");

    // The drill-down panels hold the replay's own last report: the
    // script's burst is its top client, path and agent.
    let report = &s["report"];
    assert_eq!(report["top_clients"][0]["client"], "203.0.113.7");
    let clients = p["clients"].as_array().unwrap();
    assert_eq!(
        clients.len(),
        report["top_clients"].as_array().unwrap().len()
    );
    let top = &report["top_clients"][0];
    assert_eq!(
        clients[0],
        json!([
            "203.0.113.7",
            top["hits"].to_string(),
            format!(
                "{:.1}%",
                100.0 * top["hits"].as_f64().unwrap() / report["hits"].as_f64().unwrap()
            ),
            top["errors"].to_string()
        ])
    );
    assert_eq!(strings(&p["paths"])[0], "/api/search", "without its query");
    let agents = strings(&p["agents"]);
    assert_eq!(agents[0], "python-requests/2.31.0|bot", "{agents:?}");
    assert!(agents.contains(&"curl/8.5.0|bot"), "{agents:?}");
    assert!(
        agents
            .iter()
            .any(|a| a.contains("Googlebot/2.1") && a.ends_with("|bot")),
        "{agents:?}"
    );
    assert!(
        agents
            .iter()
            .any(|a| a.contains("Firefox/128.0") && a.ends_with('|')),
        "a browser is not flagged: {agents:?}"
    );
    let codes = strings(&p["codes"]);
    let ok = report["codes"]["200"].to_string();
    assert!(codes[0].starts_with(&format!("200{ok}")), "{codes:?}");
    assert_eq!(codes.len(), report["codes"].as_object().unwrap().len());
    assert_eq!(strings(&p["referrers"])[0], "search.example", "hosts only");
    assert_eq!(p["countries"], Value::Null, "no --geoip, no panel");
    assert!(strings(&p["approx"]).is_empty(), "every table exact");
    // Each alert's drivers, newest first, from its own figures: the top
    // section and client (the others grew less than a tenth as much).
    let alerts: Vec<&Value> = (s["history"].as_array().unwrap().iter())
        .filter(|e| e["type"] == "alert")
        .rev()
        .collect();
    let driver = |a: &Value, kind: &str| {
        let d = &a["drivers"][format!("{kind}s")][0];
        let hits = d["hits"].as_u64().unwrap();
        let share = 100.0 * hits as f64 / a["hits"].as_f64().unwrap();
        let growth = hits - d["previous_hits"].as_u64().unwrap();
        format!("{} +{growth} ({share:.0}%)", d[kind].as_str().unwrap())
    };
    let want: Vec<String> = (alerts.iter())
        .map(|a| {
            format!(
                "driven by {}, client {}",
                driver(a, "section"),
                driver(a, "client")
            )
        })
        .collect();
    assert_eq!(strings(&p["drivers"]), want);
    assert!(want
        .iter()
        .all(|w| w.starts_with("driven by /api +") && w.contains(", client 203.0.113.7 +")));

    // Times in the browser's zone, with its offset.
    let newest = s["history"][2]["at"].as_str().unwrap();
    assert_eq!(p["historyAt"][0], kolkata(newest));
    assert!(p["asOf"].as_str().unwrap().ends_with(" +05:30"), "{p}");
    assert!(p["period"].as_str().unwrap().contains(" +05:30, "), "{p}");
    // The chart's labels under it are round local times: the replay ends
    // at 12:05:30 UTC, 17:35:30 in Kolkata, and the window is a minute.
    let xticks = strings(&p["xticks"]);
    assert!(xticks.len() >= 4, "{xticks:?}");
    assert!(xticks.contains(&"17:35:00"), "{xticks:?}");
    assert_eq!(p["chartPoints"], 59);

    // Desktop: the page uses the width; cards in one row; three or more
    // columns of tables.
    check_chart_and_width(p);
    assert!(p["main"].as_f64().unwrap() >= 1270.0, "{}", p["main"]);
    assert_eq!(p["cardRows"], 1);
    assert!(
        p["tableColumns"].as_u64().unwrap() >= 3,
        "{}",
        p["tableColumns"]
    );
    assert!(p["header"].as_f64().unwrap() <= 60.0);

    // Phone: a one-line header, cards two by two, nothing tall.
    let p = &phone;
    assert_eq!(p["width"], 390);
    check_chart_and_width(p);
    assert!(p["header"].as_f64().unwrap() <= 50.0, "{}", p["header"]);
    assert_eq!(p["cardRows"], 2);
    assert!(
        p["cardHeight"].as_f64().unwrap() <= 90.0,
        "{}",
        p["cardHeight"]
    );
    assert_eq!(p["tableColumns"], 1);
    assert!(p["chartWidth"].as_f64().unwrap() > 340.0);
    assert!(strings(&p["xticks"]).len() >= 2, "{p}");

    // Everything the page loaded came from the server itself, and nothing
    // was refused by the policy or failed.
    let urls: Vec<&str> = events
        .iter()
        .filter(|(m, _)| m == "Network.requestWillBeSent")
        .filter_map(|(_, p)| p["request"]["url"].as_str())
        .collect();
    assert!(urls.iter().any(|u| u.ends_with("/events")), "{urls:?}");
    assert!(urls.iter().all(|u| u.starts_with(&origin)), "{urls:?}");
    let problems: Vec<&Value> = events
        .iter()
        .filter(|(m, p)| m == "Log.entryAdded" && p["entry"]["level"] == "error")
        .map(|(_, p)| &p["entry"])
        .collect();
    assert!(problems.is_empty(), "{problems:?}");
}

/// A report and an alert as `--format json` prints them with the drill-down
/// tables (issue 15's field names), log text in them included.
const DRILL_DOWN: &str = r#"{
  "report": {"type": "report", "start": "2026-03-01T12:05:20Z", "end": "2026-03-01T12:05:30Z",
    "hits": 100, "bytes": 1000, "invalid": 0, "status": {"1xx": 0, "2xx": 60, "3xx": 0, "4xx": 25, "5xx": 10},
    "sections": [{"section": "/api", "hits": 70, "errors": 30, "server_errors": 10}], "sections_exact": true,
    "window_hits": 900, "window_average": 15, "threshold": 10, "alerting": true,
    "codes": {"200": 60, "404": 20, "403": 5, "503": 10, "-": 5},
    "top_clients": [{"client": "203.0.113.7", "hits": 40, "errors": 12, "country": "FR"},
                    {"client": "2001:db8::1", "hits": 7, "errors": 0, "country": "-"}],
    "top_clients_exact": false,
    "top_paths": [{"path": "/api/<img src=x onerror=alert(2)>", "hits": 30, "errors": 3}],
    "top_paths_exact": true,
    "top_agents": [{"agent": "Googlebot/2.1", "hits": 20, "bot": true},
                   {"agent": "Mozilla/5.0 (X11; Linux x86_64)", "hits": 80, "bot": false}],
    "top_agents_exact": true,
    "top_referrers": [{"referrer": "search.example", "hits": 9}], "top_referrers_exact": true,
    "top_countries": [{"country": "FR", "hits": 40}, {"country": "-", "hits": 7}]},
  "alert": {"type": "alert", "hits": 1000, "average": 16.67, "threshold": 10, "window_secs": 60,
    "at": "2026-03-01T12:05:31Z",
    "drivers": {"sections": [{"section": "/api", "hits": 610, "previous_hits": 100}],
                "clients": [{"client": "203.0.113.7", "hits": 400, "previous_hits": 0}]}}
}"#;

#[test]
fn the_drill_down_panels_and_an_alerts_drivers_render_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let lm = Logmon::start(&["--replay", "--serve", "127.0.0.1:0", &fixture("sample.log")]);
    wait_for(&lm.stderr, "replay done", WAIT).expect("the replay ends");
    let url = format!("http://{}/", lm.addr);
    let Some((p, _)) = with_chromium(dir.path(), move |cdp| {
        let page = cdp.open(&url, (1280, 800), "UTC")?;
        cdp.wait(
            &page,
            "document.getElementById('link').textContent === 'live'",
        )?;
        // The page's own drawing, given the objects logmon prints: the
        // replay is over, so nothing replaces them.
        let inject = format!(
            "(() => {{ const d = {DRILL_DOWN}; state.report = d.report; \
             state.history.push(d.alert); draw(); return true; }})()"
        );
        cdp.eval(&page, &inject)?;
        cdp.probe(&page)
    }) else {
        return;
    };
    assert_eq!(
        strings(&p["codes"]),
        [
            "2006060.0%",
            "4042020.0%",
            "5031010.0%",
            "-55.0%",
            "40355.0%"
        ]
    );
    assert_eq!(
        p["clients"],
        json!([
            ["203.0.113.7", "FR", "40", "40.0%", "12"],
            ["2001:db8::1", "-", "7", "7.0%", "0"]
        ])
    );
    assert_eq!(strings(&p["paths"]), ["/api/<img src=x onerror=alert(2)>"]);
    assert!(
        !p["html"].as_str().unwrap().contains("<img"),
        "text, not HTML"
    );
    assert_eq!(
        strings(&p["agents"]),
        ["Googlebot/2.1|bot", "Mozilla/5.0 (X11; Linux x86_64)|"]
    );
    assert_eq!(strings(&p["referrers"]), ["search.example"]);
    assert_eq!(strings(&p["countries"]), ["FR", "-"]);
    assert_eq!(strings(&p["approx"]), ["approximate"], "clients overflowed");
    assert_eq!(
        strings(&p["drivers"]),
        ["driven by /api +510 (61%), client 203.0.113.7 +400 (40%)"]
    );
}

#[test]
fn the_chart_moves_every_second_without_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    append(&log, "");
    let lm = Logmon::start(&[
        "--serve",
        "127.0.0.1:0",
        "--poll-ms",
        "50",
        "--period",
        "3600",
        "--window",
        "30",
        log.to_str().unwrap(),
    ]);
    let url = format!("http://{}/", lm.addr);
    let log2 = log.clone();
    let Some((seen, _)) = with_chromium(dir.path(), move |cdp| {
        let page = cdp.open(&url, (1280, 800), "UTC")?;
        cdp.wait(&page, "document.getElementById('chart').dataset.end > ''")?;
        let first = cdp.probe(&page)?;
        for _ in 0..5 {
            append(&log2, &clf(unix_now(), "/api/x", 200, 10));
        }
        cdp.wait(&page, "document.getElementById('chart').dataset.hits == 5")?;
        // One more second, for two ends seen after the first.
        let end = cdp.probe(&page)?["chartEnd"].clone();
        cdp.wait(
            &page,
            &format!("document.getElementById('chart').dataset.end > {end}"),
        )?;
        let last = cdp.probe(&page)?;
        Ok((first, last))
    }) else {
        return;
    };
    let (first, last) = seen;
    let end = |p: &Value| {
        chrono::DateTime::parse_from_rfc3339(p["chartEnd"].as_str().unwrap())
            .unwrap()
            .timestamp()
    };
    assert!(end(&last) >= end(&first) + 2, "{first} {last}");
    assert_eq!(last["chartHits"], 5.0);
    assert_eq!(last["chartPoints"], 29, "a point per complete second");
    assert!(
        strings(&last["sections"]).is_empty(),
        "no report came: the chart moved on `second` events alone"
    );
    assert!(last["html"]
        .as_str()
        .unwrap()
        .contains("id=\"sections-empty\" class=\"muted\">No report yet."));
}
