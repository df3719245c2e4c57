//! What a line costs the parser, per format, and the reader side as a
//! whole (splitting, parsing and building the batch): `cargo bench`.
//!
//! The lines are `loggen`'s (seed 42), so they are the same from run to
//! run: a Combined log read as the `combined` preset, as `clf` and `auto`,
//! as an nginx `log_format` and an Apache `LogFormat` string; a Common log
//! as `common`; ingress-nginx's and Traefik's CLF logs as their presets; a
//! W3C log with its `#Fields:` header, and headerless as `iis`; and the
//! same Combined lines written as Caddy's and Traefik's JSON. A regression in
//! one format shows as a change in its time per line; `bench/run.sh`
//! stays the whole-process measurement, and callgrind the exact one
//! (`examples/parse.rs`, `examples/decode.rs`).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use logmon::gen::{GenFormat, Generator};
use logmon::parse::{LogFormat, Parser, Record};
use logmon::reader::Decoder;

/// Lines a benchmark parses per iteration.
const LINES: usize = 2_000;
/// 2026-03-01T12:00:00Z.
const START: i64 = 1_772_366_400;

/// The Combined format as an nginx `log_format` string.
const NGINX: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#;
/// The Combined format as an Apache `LogFormat` string.
const APACHE: &str = r#"%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i""#;

/// `LINES` lines of `format` from `loggen`, ten a second, with what a log
/// in it starts with (the W3C directives).
fn generated(format: GenFormat) -> (Vec<u8>, Vec<u8>) {
    let mut gen = Generator::new(42, format);
    let mut header = Vec::new();
    gen.header(START, &mut header);
    let mut lines = Vec::new();
    for i in 0..LINES {
        gen.line(START + i as i64 / 10, &mut lines);
    }
    (header, lines)
}

/// The Combined lines `lines` written as JSON access lines by `json`.
fn as_json(lines: &[u8], json: fn(&Record<'_>) -> String) -> Vec<u8> {
    let mut parser = Parser::with_format(LogFormat::Combined);
    let mut out = Vec::new();
    for line in lines.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        if let Ok(record) = parser.parse(line) {
            out.extend_from_slice(json(&record).as_bytes());
            out.push(b'\n');
        }
    }
    out
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A Caddy access line with `record`'s values.
fn caddy(record: &Record<'_>) -> String {
    let referer = match record.referer {
        Some(r) if r != b"-" => format!(r#","Referer":["{}"]"#, text(r)),
        _ => String::new(),
    };
    format!(
        r#"{{"level":"info","ts":{}.25,"logger":"http.log.access","msg":"handled request","request":{{"remote_ip":"{}","remote_port":"51234","client_ip":"{}","proto":"HTTP/1.1","method":"{}","host":"www.example.com","uri":"{}","headers":{{"User-Agent":["{}"],"Accept":["*/*"]{referer}}}}},"bytes_read":0,"user_id":"","duration":0.0042,"size":{},"status":{},"resp_headers":{{"Content-Type":["text/html"]}}}}"#,
        record.time,
        text(record.host),
        text(record.host),
        record.method.as_str(),
        text(record.target.unwrap_or(b"/")),
        text(record.user_agent.unwrap_or_default()),
        record.bytes,
        record.status,
    )
}

/// A Traefik JSON access line with `record`'s values.
fn traefik(record: &Record<'_>) -> String {
    let stamp = chrono::DateTime::from_timestamp(record.time, 0).unwrap_or_default();
    let stamp = stamp.format("%Y-%m-%dT%H:%M:%S.250Z");
    format!(
        r#"{{"ClientAddr":"{}:51234","ClientHost":"{}","ClientPort":"51234","ClientUsername":"-","DownstreamContentSize":{},"DownstreamStatus":{},"Duration":4200000,"OriginStatus":{},"RequestHost":"www.example.com","RequestMethod":"{}","RequestPath":"{}","RequestProtocol":"HTTP/1.1","RouterName":"web@docker","StartLocal":"{stamp}","StartUTC":"{stamp}","level":"info","msg":"","request_Referer":"{}","request_User-Agent":"{}","time":"{stamp}"}}"#,
        text(record.host),
        text(record.host),
        record.bytes,
        record.status,
        record.status,
        record.method.as_str(),
        text(record.target.unwrap_or(b"/")),
        text(record.referer.unwrap_or(b"-")),
        text(record.user_agent.unwrap_or_default()),
    )
}

/// The formats, each with its log: (name, `--log-format`, header, lines).
fn cases() -> Vec<(&'static str, LogFormat, Vec<u8>, Vec<u8>)> {
    let (_, combined) = generated(GenFormat::Combined);
    let (_, common) = generated(GenFormat::Common);
    let (w3c_header, w3c) = generated(GenFormat::W3c);
    let written = |name: &str| generated(GenFormat::parse(name).expect("a loggen format")).1;
    let format = |text: &str| LogFormat::parse(text).expect("a known format");
    vec![
        (
            "combined",
            LogFormat::Combined,
            Vec::new(),
            combined.clone(),
        ),
        ("clf", LogFormat::Clf, Vec::new(), combined.clone()),
        ("common", LogFormat::Common, Vec::new(), common),
        (
            "ingress-nginx",
            LogFormat::IngressNginx,
            Vec::new(),
            written("ingress-nginx"),
        ),
        (
            "traefik",
            LogFormat::Traefik,
            Vec::new(),
            written("traefik"),
        ),
        ("auto", LogFormat::Auto, Vec::new(), combined.clone()),
        ("nginx", format(NGINX), Vec::new(), combined.clone()),
        ("apache", format(APACHE), Vec::new(), combined.clone()),
        ("w3c", LogFormat::W3c, w3c_header, w3c.clone()),
        ("iis", LogFormat::Iis, Vec::new(), w3c),
        (
            "caddy",
            LogFormat::Caddy,
            Vec::new(),
            as_json(&combined, caddy),
        ),
        (
            "traefik-json",
            LogFormat::Json,
            Vec::new(),
            as_json(&combined, traefik),
        ),
    ]
}

/// `Parser::parse` alone, line by line.
fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    for (name, format, header, lines) in cases() {
        let mut parser = Parser::with_format(format);
        for line in header.split(|&b| b == b'\n') {
            let _ = parser.parse(line);
        }
        let lines: Vec<&[u8]> = lines
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        assert!(
            lines.iter().all(|l| parser.parse(l).is_ok()),
            "{name}: every line parses"
        );
        group.throughput(Throughput::Elements(lines.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                for line in &lines {
                    let _ = black_box(parser.parse(black_box(line)));
                }
            })
        });
    }
    group.finish();
}

/// The reader side: a block of lines split, parsed and made a batch with
/// its sections and drill-down keys, as `reader::Decoder` does it.
fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    for (name, format, header, lines) in cases() {
        if !matches!(name, "combined" | "nginx" | "w3c" | "caddy") {
            continue;
        }
        let mut decoder = Decoder::new(format);
        decoder.push(&header);
        let _ = decoder.take();
        group.throughput(Throughput::Elements(LINES as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut block = decoder.spare_block();
                block.bytes_mut().clear();
                block.bytes_mut().extend_from_slice(&lines);
                decoder.push_block(block);
                black_box(decoder.take())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, parse, decode);
criterion_main!(benches);
