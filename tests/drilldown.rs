//! The drill-down tables and an alert's drivers, through the real binary:
//! `--replay` of a log written here whose codes, clients, paths, agents,
//! referrers and flood are known, in text and in JSON.

mod support;

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::Output;

use serde_json::Value;
use support::{events_of, logmon};

/// 2026-03-01T12:00:00Z
const T: i64 = 1_772_366_400;

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";

/// Four minutes of 2 req/s from ten browsers, then from second 240 a
/// script at 203.0.113.7 adds 10 req/s of failed logins on /api/login.
fn flood_log(dir: &Path) -> std::path::PathBuf {
    let mut log = String::new();
    for s in 0..300i64 {
        let stamp = chrono::DateTime::from_timestamp(T + s, 0)
            .unwrap()
            .format("%d/%b/%Y:%H:%M:%S +0000");
        for k in 0..2 {
            let n = s * 2 + k;
            let (path, status) = match n % 4 {
                0 => ("/home", 200),
                1 => ("/home?tab=new", 304),
                2 => ("/about/team", 200),
                _ => ("/missing", 404),
            };
            let referrer = match n % 3 {
                0 => "-".to_owned(),
                1 => "https://www.Example.com/search?q=logs".to_owned(),
                _ => "https://news.example.org:443/item".to_owned(),
            };
            let _ = writeln!(
                log,
                "10.0.0.{} - - [{stamp}] \"GET {path} HTTP/1.1\" {status} 512 \"{referrer}\" \"{FIREFOX}\"",
                n % 10
            );
        }
        if s >= 240 {
            for _ in 0..10 {
                let _ = writeln!(
                    log,
                    "203.0.113.7 - - [{stamp}] \"POST /api/login HTTP/1.1\" 401 64 \"-\" \"python-requests/2.31.0\""
                );
            }
        }
    }
    let path = dir.join("access.log");
    fs::write(&path, log).unwrap();
    path
}

fn replay(log: &Path, args: &[&str]) -> Output {
    let o = logmon()
        .args(["--replay", "--threshold", "5", "--window", "60"])
        .args(args)
        .arg(log)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o
}

#[test]
fn json_reports_carry_codes_clients_paths_agents_and_referrers() {
    let dir = tempfile::tempdir().unwrap();
    let log = flood_log(dir.path());
    let events = events_of(&replay(&log, &["--format", "json", "-n", "3"]));
    let reports: Vec<&Value> = events.iter().filter(|e| e["type"] == "report").collect();
    for r in &reports {
        let codes: u64 = (r["codes"].as_object().unwrap().values())
            .map(|n| n.as_u64().unwrap())
            .sum();
        assert_eq!(codes, r["hits"].as_u64().unwrap(), "{r}");
        for table in ["top_clients", "top_paths", "top_agents", "top_referrers"] {
            assert!(r[table].as_array().unwrap().len() <= 3, "--top 3: {table}");
            assert_eq!(r[format!("{table}_exact")], true);
        }
    }
    // A quiet period (12:00:00 to 12:00:10), then one in the flood.
    let quiet = reports[0];
    assert_eq!(
        quiet["codes"],
        serde_json::json!({"200": 10, "304": 5, "404": 5})
    );
    assert_eq!(quiet["top_clients"][0]["hits"], 2);
    let paths: Vec<(&str, u64)> = (quiet["top_paths"].as_array().unwrap().iter())
        .map(|p| (p["path"].as_str().unwrap(), p["hits"].as_u64().unwrap()))
        .collect();
    assert_eq!(paths, [("/home", 10), ("/about/team", 5), ("/missing", 5)]);
    assert_eq!(quiet["top_paths"][2]["errors"], 5);
    assert_eq!(
        quiet["top_agents"],
        serde_json::json!([{"agent": FIREFOX, "hits": 20, "bot": false}])
    );
    // The host only, lower-cased, without port; `-` is no referrer.
    assert_eq!(
        quiet["top_referrers"],
        serde_json::json!([
            {"referrer": "www.example.com", "hits": 7},
            {"referrer": "news.example.org", "hits": 6},
        ])
    );

    let flood = reports
        .iter()
        .find(|r| r["start"] == "2026-03-01T12:04:10Z")
        .unwrap();
    assert_eq!(flood["codes"]["401"], 100);
    assert_eq!(
        flood["top_clients"][0],
        serde_json::json!({"client": "203.0.113.7", "hits": 100, "errors": 100})
    );
    assert_eq!(flood["top_paths"][0]["path"], "/api/login");
    assert_eq!(flood["top_agents"][0]["agent"], "python-requests/2.31.0");
    assert_eq!(flood["top_agents"][0]["bot"], true);
}

#[test]
fn the_alert_names_the_flooded_section_and_the_client_behind_it() {
    let dir = tempfile::tempdir().unwrap();
    let log = flood_log(dir.path());
    let events = events_of(&replay(&log, &["--format", "json"]));
    let alerts: Vec<&Value> = events.iter().filter(|e| e["type"] == "alert").collect();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let a = alerts[0];
    // 2 req/s fill the 60 s window to 120; the flood adds 10 req/s from
    // second 240: above 5 req/s once 120 + 10 n > 300, n = 19.
    assert_eq!(a["at"], "2026-03-01T12:04:18Z");
    let d = &a["drivers"];
    assert_eq!(d["sections"].as_array().unwrap().len(), 1, "{d}");
    assert_eq!(d["sections"][0]["section"], "/api");
    assert_eq!(d["sections"][0]["previous_hits"], 0);
    assert_eq!(d["clients"][0]["client"], "203.0.113.7");
    assert_eq!(d["clients"][0]["previous_hits"], 0);
    let hits = d["sections"][0]["hits"].as_u64().unwrap();
    assert_eq!(d["clients"][0]["hits"], hits);
    // The window is counted in whole periods, right to half a period.
    assert!((150..=200).contains(&hits), "{d}");
    assert!(events
        .iter()
        .filter(|e| e["type"] == "recovered")
        .all(|e| e.get("drivers").is_none()));

    let text = String::from_utf8(replay(&log, &[]).stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("High traffic generated an alert - hits = "))
        .unwrap();
    assert!(
        lines[at + 1].starts_with("   "),
        "the figures: {}",
        lines[at + 1]
    );
    let driven = lines[at + 2];
    assert!(driven.starts_with("   driven by /api +"), "{driven}");
    assert!(driven.contains(", client 203.0.113.7 +"), "{driven}");
    assert!(driven.chars().count() <= 80, "{driven}");
    assert!(!driven.to_lowercase().contains("alert"), "{driven}");
}

#[test]
fn every_block_fits_80_columns_and_show_picks_them() {
    let dir = tempfile::tempdir().unwrap();
    let log = flood_log(dir.path());
    let all = "sections,codes,clients,paths,agents,referrers,countries";
    let text = String::from_utf8(replay(&log, &["--show", all]).stdout).unwrap();
    let contract = |l: &str| l.starts_with("High traffic ");
    for line in text.lines().filter(|l| !contract(l)) {
        assert!(line.chars().count() <= 80, "{line:?}");
    }
    let said: Vec<&str> = (text.lines())
        .filter(|l| l.to_lowercase().contains("alert"))
        .collect();
    assert!(said.iter().all(|l| contract(l)), "{said:?}");
    for head in [
        "   section ",
        "   codes  ",
        "   client ",
        "   path ",
        "   agent ",
        "   referrer ",
    ] {
        assert!(text.contains(head), "{head:?} in {text}");
    }
    assert!(text.contains("python-requests/2.31.0  "), "{text}");
    assert!(!text.contains("countries"), "no --geoip, no countries");

    // From the environment, in its order; a flag wins.
    let o = logmon()
        .env("LOGMON_SHOW", "agents,codes")
        .args(["--replay", "--threshold", "5", "--window", "60"])
        .arg(&log)
        .output()
        .unwrap();
    let text = String::from_utf8(o.stdout).unwrap();
    let block = text.split("-- ").nth(1).unwrap();
    let agent = block.find("   agent ").unwrap();
    let codes = block.find("   codes ").unwrap();
    assert!(agent < codes && !block.contains("   section"), "{block}");
    let o = logmon()
        .env("LOGMON_SHOW", "agents")
        .args(["--replay", "--show", "paths"])
        .arg(&log)
        .output()
        .unwrap();
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.contains("   path ") && !text.contains("   agent "),
        "{text}"
    );

    let o = logmon()
        .args(["--show", "everything"])
        .arg(&log)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(err.contains("referrers"), "lists the blocks: {err}");
}
