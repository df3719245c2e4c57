//! The real binary over the operator's own formats and real-world lines:
//! `--replay` of the fixtures in `tests/data/` through presets, nginx
//! `log_format` and Apache `LogFormat` strings, on a file, on stdin and
//! followed; usage errors for strings that cannot work.
//!
//! Most fixtures hold the six requests of `nginx-latency.log` in another
//! layout (ingress-nginx, Traefik, Apache `%v ... %D`, nginx custom and
//! `escape=json`, X-Forwarded-For lists, blank lines, a byte-order mark),
//! so each must give exactly its report: 6 hits, 11,924 bytes, 3 clients,
//! `/api` 4 and `/pages` 2, and request times 3, 5, 12, 20, 150 and
//! 1250 ms.

mod support;

use support::{
    assert_nothing_parses_said_once, assert_six_requests, close, events_of, first,
    first_live_report, fixture, logmon, stderr, unix_now,
};

use std::fs;
use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// nginx's `main` format plus request and upstream times, as pasted from
/// nginx.conf (two adjacent quoted strings).
const NGINX_CUSTOM: &str = r#"log_format main_ext '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" '
                    '"$http_user_agent" "$http_x_forwarded_for" rt=$request_time uct="$upstream_connect_time" urt="$upstream_response_time"';"#;

/// A JSON access log written by nginx itself.
const NGINX_JSON: &str = r#"log_format json escape=json '{"time":"$time_iso8601","remote_addr":"$remote_addr","remote_user":"$remote_user",'
    '"request":"$request","status":$status,"body_bytes_sent":$body_bytes_sent,"request_time":$request_time,'
    '"http_referer":"$http_referer","http_user_agent":"$http_user_agent"}';"#;

/// Apache's vhost form with `%D`, as the LogFormat directive stands.
const APACHE_VHOST_MICROS: &str = r#"LogFormat "%v %h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\" %D" vhost_micros"#;

/// The ingress-nginx controller's default format.
const INGRESS_NGINX: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_length $request_time [$proxy_upstream_name] [$proxy_alternative_upstream_name] $upstream_addr $upstream_response_length $upstream_response_time $upstream_status $req_id"#;

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run logmon")
}

/// `--replay --format json` of a fixture with `--log-format FORMAT`.
fn events(name: &str, format: &str) -> Vec<Value> {
    let o = run(logmon()
        .args(["--replay", "--format", "json", "--log-format", format])
        .arg(fixture(name)));
    assert!(o.status.success(), "{name} as {format}: {o:?}");
    events_of(&o)
}

fn report(events: &[Value]) -> &Value {
    first(events, "report")
}

/// `events` without the reports' user agents: nginx-json.log's differ from
/// the others' on purpose (an agent holding `"`, escaped as JSON escapes
/// it, which logmon lists as the log wrote it, like any agent).
fn without_agents(mut events: Vec<Value>) -> Vec<Value> {
    for e in &mut events {
        if let Some(e) = e.as_object_mut() {
            e.remove("top_agents");
        }
    }
    events
}

/// The report of `nginx-latency.log`'s six requests, checked field by field
/// once here: the others are compared with it whole.
fn six_requests() -> Vec<Value> {
    let events = events("nginx-latency.log", "auto");
    assert_six_requests(report(&events));
    events
}

#[test]
fn each_layout_of_the_six_requests_gives_their_report() {
    let want = six_requests();
    for (name, format) in [
        // ingress-nginx: $request_length before $request_time is no
        // request time, in auto as with the preset or its string.
        ("ingress-nginx.log", "auto"),
        ("ingress-nginx.log", "ingress-nginx"),
        ("ingress-nginx.log", INGRESS_NGINX),
        // Traefik: the request count is no request time; `17ms` is.
        ("traefik.log", "auto"),
        ("traefik.log", "traefik"),
        // Apache `%v ... %D`: microseconds.
        ("apache-vhost-micros.log", "auto"),
        ("apache-vhost-micros.log", APACHE_VHOST_MICROS),
        // nginx strings pasted from nginx.conf.
        ("nginx-custom.log", NGINX_CUSTOM),
        ("nginx-json.log", NGINX_JSON),
        // Real-world lines in auto and clf.
        ("xff.log", "auto"),
        ("xff.log", "clf"),
        ("blank-lines.log", "auto"),
        ("blank-lines.log", "clf"),
        ("bom.log", "auto"),
        ("bom.log", "clf"),
    ] {
        let got = events(name, format);
        if name == "nginx-json.log" {
            let agents = &report(&got)["top_agents"];
            assert!(
                agents.as_array().unwrap().iter().any(|a| a["agent"]
                    .as_str()
                    .is_some_and(|a| a.ends_with(r#" \"quoted\""#))),
                "{agents}"
            );
            assert_eq!(without_agents(got), without_agents(want.clone()));
            continue;
        }
        assert_eq!(got, want, "{name} as {format}");
    }
}

#[test]
fn without_request_time_the_upstream_times_are_summed() {
    // nginx-custom.log read as if rt= were an unknown variable: the request
    // time is $upstream_response_time, 1 ms under rt= on each line, and
    // the sum of the list on the retried one (0.400, 0.849).
    let format = NGINX_CUSTOM.replace("rt=$request_time", "rt=$request_time_unknown");
    let events = events("nginx-custom.log", &format);
    let r = report(&events);
    assert_eq!(r["hits"], 6);
    // 2, 4, 11, 19, 149 and 1249 ms.
    assert!(close(&r["latency_ms"]["p50"], 11.0), "{r}");
    assert!(close(&r["latency_ms"]["p99"], 1249.0), "{r}");
}

#[test]
fn a_cut_off_user_agent_is_still_a_hit() {
    // Cut in the user agent, in the referer, and on the last line, which
    // has no newline either.
    let auto = events("cut-agent.log", "auto");
    let r = report(&auto);
    assert_eq!(
        (r["hits"].as_u64(), r["invalid"].as_u64()),
        (Some(4), Some(0))
    );
    assert_eq!(r["bytes"], 5756);
    assert_eq!(
        (r["status"]["2xx"].as_u64(), r["status"]["4xx"].as_u64()),
        (Some(3), Some(1))
    );
    let sections: Vec<(&str, u64)> = r["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["section"].as_str().unwrap(), s["hits"].as_u64().unwrap()))
        .collect();
    assert_eq!(sections, [("/api", 2), ("/blog", 1), ("/pages", 1)]);
    assert!(r.get("latency_ms").is_none());
    assert_eq!(events("cut-agent.log", "combined"), auto);
}

#[test]
fn status_dash_counts_as_other_and_the_classes_add_up() {
    let events = events("status-dash.log", "auto");
    let r = report(&events);
    assert_eq!(
        (r["hits"].as_u64(), r["invalid"].as_u64()),
        (Some(5), Some(0))
    );
    let status = &r["status"];
    assert_eq!(
        ["1xx", "2xx", "3xx", "4xx", "5xx", "other"].map(|c| status[c].as_u64().unwrap()),
        [0, 2, 0, 0, 1, 2]
    );
    assert_eq!(r["bytes"], 1836);
    // `"GET /index.html"`: a request without a protocol keeps its section.
    let sections: Vec<&str> = r["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["section"].as_str().unwrap())
        .collect();
    assert_eq!(sections, ["/api", "/index.html", "/pages"]);
    assert_eq!(r["methods"]["GET"], 5);
    // The text report shows `other` only when there is some.
    let o = run(logmon().arg("--replay").arg(fixture("status-dash.log")));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("   2xx 2  5xx 1  other 2    GET 5\n"),
        "{text}"
    );
    let o = run(logmon().arg("--replay").arg(fixture("nginx-latency.log")));
    assert!(!String::from_utf8_lossy(&o.stdout).contains("other"));
}

#[test]
fn a_format_string_applies_on_stdin() {
    let input = fs::read(fixture("nginx-json.log")).unwrap();
    let mut child = logmon()
        .args([
            "--replay",
            "--format",
            "json",
            "--log-format",
            NGINX_JSON,
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{o:?}");
    assert_eq!(
        without_agents(events_of(&o)),
        without_agents(six_requests())
    );
    // A given format is not announced in a replay: the user named it.
    assert_eq!(String::from_utf8_lossy(&o.stderr), "");
}

#[test]
fn a_format_string_that_cannot_work_is_a_usage_error_naming_why() {
    for (format, says) in [
        ("$remote_addr $status", "no time variable"),
        ("%h %t %>s %b", "neither a request nor a path variable"),
        ("%h %t \"%r\" %{Referer", "without its `}`"),
        (
            "$time_local \"$request\" $status$body_bytes_sent",
            "nothing between them",
        ),
        ("main", "is neither a preset"),
    ] {
        let o = run(logmon()
            .args(["--replay", "--log-format", format])
            .arg(fixture("sample.log")));
        assert_eq!(o.status.code(), Some(2), "{format}: {o:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("--log-format"), "{err}");
        assert!(err.contains(says), "{format}: {err}");
        assert!(o.stdout.is_empty());
    }
    // The variable reads the same way.
    let o = run(logmon()
        .env("LOGMON_LOG_FORMAT", "$remote_addr $status")
        .args(["--replay"])
        .arg(fixture("sample.log")));
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let o = run(logmon()
        .env("LOGMON_LOG_FORMAT", NGINX_JSON)
        .args(["--replay", "--format", "json"])
        .arg(fixture("nginx-json.log")));
    assert_eq!(
        without_agents(events_of(&o)),
        without_agents(six_requests())
    );
}

#[test]
fn auto_says_what_it_tried_when_nothing_parses() {
    // A syslog file given by mistake: said once, naming the formats tried
    // and how to give one.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("syslog");
    let line = "Mar  1 12:00:00 web1 sshd[812]: Accepted publickey for jill\n";
    fs::write(&path, line.repeat(150)).unwrap();
    let o = run(logmon().arg("--replay").arg(&path));
    assert_nothing_parses_said_once(
        &stderr(&o),
        "tried clf (and its presets), w3c, iis and json",
    );
}

#[test]
fn loggen_writes_what_logmon_reads_in_any_format() {
    let dir = tempfile::tempdir().unwrap();
    for format in [
        "vhost_combined",
        "ingress-nginx",
        "traefik",
        NGINX_JSON,
        APACHE_VHOST_MICROS,
        r#"$remote_addr [$time_iso8601] "$request" $status $bytes_sent $upstream_response_time"#,
    ] {
        let path = dir.path().join("gen.log");
        let _ = fs::remove_file(&path);
        let gen = Command::new(env!("CARGO_BIN_EXE_loggen"))
            .args(["--lines", "300", "--rate", "10", "--log-format", format])
            .arg(&path)
            .output()
            .unwrap();
        assert!(gen.status.success(), "{format}: {gen:?}");
        let o = run(logmon()
            .args(["--replay", "--format", "json", "--log-format", format])
            .arg(&path));
        let events = events_of(&o);
        let s = first(&events, "summary");
        assert_eq!(
            (s["hits"].as_u64(), s["invalid"].as_u64()),
            (Some(300), Some(0)),
            "{format}"
        );
        let timed = format != "vhost_combined";
        assert_eq!(s.get("latency_ms").is_some(), timed, "{format}: {s}");
    }
}

/// // logmon --log-format '<escape=json string>' access.log &
/// // echo '{"time":...}' >> access.log
#[test]
fn following_a_log_reads_it_in_the_format_given() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("access.log");
    fs::write(&path, "").unwrap();
    let (seen, err) = first_live_report(&path, &["--log-format", NGINX_JSON], || {
        let stamp = chrono::DateTime::from_timestamp(unix_now(), 0).unwrap();
        format!(
            "{{\"time\":\"{}\",\"remote_addr\":\"10.0.0.1\",\"remote_user\":\"\",\
             \"request\":\"GET /live/page HTTP/1.1\",\"status\":200,\"body_bytes_sent\":42,\
             \"request_time\":0.042,\"http_referer\":\"\",\"http_user_agent\":\"curl/8\"}}\n",
            stamp.format("%Y-%m-%dT%H:%M:%S+00:00")
        )
    });
    let v = seen.unwrap_or_else(|| panic!("no hits reported; stderr: {err}"));
    assert_eq!(v["invalid"], 0, "{v}");
    assert_eq!(v["sections"][0]["section"], "/live");
    assert!(close(&v["latency_ms"]["p50"], 42.0), "{v}");
    // The startup line names the format, shortened to fit 80 columns.
    let named = err
        .lines()
        .find(|l| l.starts_with("logmon: log format: nginx \"escape=json {"))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(
        named.ends_with('…') && named.chars().count() <= 80,
        "{named}"
    );
}
