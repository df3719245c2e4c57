//! `--geoip`: country lookups on MaxMind DB files built here (the format is
//! public; see `support::mmdb`), through the library and the real binary.

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use logmon::batch::Batch;
use logmon::drill::Country;
use logmon::geo::Geo;
use logmon::parse::Parser;
use serde_json::Value;
use support::logmon;
use support::mmdb::{self, country, map, Value as Db};

/// A country database: two IPv4 networks, one IPv6, and a network whose
/// record has only a registered country.
fn countries() -> Vec<u8> {
    mmdb::build(
        "GeoLite2-Country",
        &[
            ("203.0.113.0/24", country("FR")),
            ("198.51.100.0/25", country("DE")),
            ("2001:db8:1::/48", country("JP")),
            (
                "192.0.2.0/24",
                map(&[(
                    "registered_country",
                    map(&[("iso_code", Db::Str("US".into()))]),
                )]),
            ),
        ],
    )
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn addresses_get_their_country_and_unknown_ones_a_dash() {
    let dir = tempfile::tempdir().unwrap();
    let mut geo = Geo::open(&write(dir.path(), "c.mmdb", &countries())).unwrap();
    for (i, (address, code)) in [
        ("203.0.113.7", "FR"),
        ("198.51.100.1", "DE"),
        ("198.51.100.200", "-"),
        ("2001:db8:1::42", "JP"),
        ("2001:db8:2::42", "-"),
        ("192.0.2.9", "US"),
        ("::ffff:203.0.113.7", "-"),
        ("example.com", "-"),
        ("", "-"),
    ]
    .into_iter()
    .enumerate()
    {
        // Distinct clients have distinct hashes.
        let hash = i as u64 + 1;
        let got = geo.country(hash, address.as_bytes());
        assert_eq!(got.code(), code, "{address}");
        assert!(got.looked_up());
        // The second time from the cache, the same answer.
        assert_eq!(geo.country(hash, address.as_bytes()), got, "{address}");
    }
}

#[test]
fn a_batch_is_annotated_client_by_client() {
    let dir = tempfile::tempdir().unwrap();
    let mut geo = Geo::open(&write(dir.path(), "c.mmdb", &countries())).unwrap();
    let hasher = foldhash::quality::RandomState::default();
    let mut batch = Batch::default();
    for client in ["203.0.113.7", "10.0.0.1", "203.0.113.7", "2001:db8:1::1"] {
        let line = format!(r#"{client} - - [01/Mar/2026:12:00:00 +0000] "GET / HTTP/1.1" 200 1"#);
        batch.push(&Parser::new().parse(line.as_bytes()).unwrap(), &hasher);
    }
    geo.annotate(&mut batch);
    let codes: Vec<String> = (0..4).map(|i| batch.keys_of(i).country.code()).collect();
    assert_eq!(codes, ["FR", "-", "FR", "JP"]);
    assert_eq!(batch.keys_of(1).country, Country::UNKNOWN);
}

#[test]
fn a_missing_junk_or_countryless_database_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let message = |path: &Path| format!("{:#}", Geo::open(path).unwrap_err());
    let missing = dir.path().join("nope.mmdb");
    let m = message(&missing);
    assert!(m.contains("nope.mmdb") && m.contains("No such file"), "{m}");
    let junk = write(dir.path(), "junk.mmdb", b"not a database at all");
    let m = message(&junk);
    assert!(
        m.contains("junk.mmdb") && m.contains("not a MaxMind DB"),
        "{m}"
    );
    let asn = mmdb::build(
        "GeoLite2-ASN",
        &[(
            "203.0.113.0/24",
            map(&[
                ("autonomous_system_number", Db::U32(64_496)),
                ("autonomous_system_organization", Db::Str("Example".into())),
            ]),
        )],
    );
    let m = message(&write(dir.path(), "asn.mmdb", &asn));
    assert!(
        m.contains("asn.mmdb") && m.contains("no country.iso_code"),
        "{m}"
    );
    assert!(m.contains("GeoLite2-ASN"), "{m}");
    assert!(
        m.lines().all(|l| l.len() <= 80 || l.contains("asn.mmdb")),
        "{m}"
    );
}

/// A CLF line from `client` at second `s` of 2026-03-01T12:00.
fn line(s: u32, client: &str) -> String {
    format!(
        "{client} - - [01/Mar/2026:12:00:{s:02} +0000] \"GET /a HTTP/1.1\" 200 1 \"-\" \"curl/8\"\n"
    )
}

#[test]
fn replay_with_geoip_lists_countries_in_text_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let db = write(dir.path(), "c.mmdb", &countries());
    let mut log = String::new();
    for s in 0..6 {
        log.push_str(&line(s, "203.0.113.7"));
    }
    for s in 0..3 {
        log.push_str(&line(s, "2001:db8:1::5"));
    }
    log.push_str(&line(1, "10.1.2.3"));
    let log = write(dir.path(), "access.log", log.as_bytes());

    let out = logmon()
        .args(["--replay", "--show", "countries,clients", "--geoip"])
        .arg(&db)
        .arg(&log)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("   countries  FR 6  JP 3  - 1\n"), "{text}");
    assert!(
        text.contains("   client         country  hits  share  errors\n"),
        "{text}"
    );
    assert!(
        text.contains("   203.0.113.7         FR     6  60.0%       0\n"),
        "{text}"
    );

    // From the environment, in JSON.
    let out = logmon()
        .env("LOGMON_GEOIP", &db)
        .args(["--replay", "--format", "json"])
        .arg(&log)
        .output()
        .unwrap();
    let report: Value = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["type"] == "report")
        .unwrap();
    assert_eq!(
        report["top_countries"],
        serde_json::json!([
            {"country": "FR", "hits": 6},
            {"country": "JP", "hits": 3},
            {"country": "-", "hits": 1},
        ])
    );
    assert_eq!(report["top_clients"][1]["client"], "2001:db8:1::5");
    assert_eq!(report["top_clients"][1]["country"], "JP");
    assert_eq!(report["top_clients"][2]["country"], "-");
}

#[test]
fn replay_without_geoip_has_no_countries() {
    let dir = tempfile::tempdir().unwrap();
    let log = write(dir.path(), "access.log", line(0, "203.0.113.7").as_bytes());
    let out = logmon()
        .args(["--replay", "--format", "json", "--show", "countries"])
        .arg(&log)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("country"), "{text}");
}

#[test]
fn a_bad_database_stops_logmon_with_status_1_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let log = write(dir.path(), "access.log", line(0, "203.0.113.7").as_bytes());
    let asn = mmdb::build(
        "GeoLite2-ASN",
        &[(
            "203.0.113.0/24",
            map(&[("autonomous_system_number", Db::U32(1))]),
        )],
    );
    for db in [
        dir.path().join("missing.mmdb"),
        write(dir.path(), "asn.mmdb", &asn),
    ] {
        let out = logmon()
            .args(["--replay", "--geoip"])
            .arg(&db)
            .arg(&log)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{db:?}");
        assert!(out.stdout.is_empty(), "nothing is reported");
        let err = String::from_utf8(out.stderr).unwrap();
        let name = db.file_name().unwrap().to_str().unwrap();
        assert!(err.starts_with("logmon: ") && err.contains(name), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}
