//! The JSON lines of `--format json`, written by hand straight into the
//! caller's buffer.
//!
//! The shapes are fixed (a report, an alert, a recovery, a summary), so
//! keys are written as byte literals in their order, numbers with `itoa`,
//! and only strings taken from the log are looked at, eight bytes at a
//! time, for what JSON must escape. The output is byte for byte what
//! serde_json wrote for the same events before (serde escaped every key
//! and string byte by byte, and built each report's rows as values first):
//! the same key order, the same escapes (`\"`, `\\`, `\n`..., `\u001b`),
//! and floats through serde_json itself, so `10.0` stays `10.0`.
//!
//! Invariants: every event is one JSON object on one line, ending in a
//! newline; keys only gain, never lose or change (the contract of the
//! JSON output).

use crate::drill::Ranked;
use crate::drivers::Driver;
use crate::monitor::{AlertEvent, Event, Report, Summary};
use crate::stats::Latency;

use super::{json_latency, METHODS_BY_NAME};

/// About the most a report with five rows a list takes (~2,500 bytes
/// with five user agents).
const REPORT_BYTES: usize = 4096;

/// Append `event` as one JSON line to `out`.
pub(super) fn event(event: &Event, out: &mut Vec<u8>) {
    // Room for a report with top lists of ordinary length: the writes
    // below then never grow the buffer.
    out.reserve(REPORT_BYTES);
    match event {
        Event::Report(r) => report(r, out),
        Event::Alert(a) => alert("alert", a, out),
        Event::Recovered(a) => alert("recovered", a, out),
        Event::Summary(s) => summary(s, out),
    }
    out.push(b'\n');
}

fn report(r: &Report, out: &mut Vec<u8>) {
    let s = &r.stats;
    let d = &r.drill;
    let (clients, clients_exact) = s.clients();
    out.extend_from_slice(b"{\"type\":\"report\",\"start\":");
    time(out, r.start);
    out.extend_from_slice(b",\"end\":");
    time(out, r.end);
    field_u64(out, b",\"hits\":", s.hits);
    field_u64(out, b",\"bytes\":", s.bytes);
    field_u64(out, b",\"invalid\":", s.invalid);
    field_u64(out, b",\"clients\":", clients);
    field_bool(out, b",\"clients_exact\":", clients_exact);
    let [c1, c2, c3, c4, c5, other] = s.status;
    field_u64(out, b",\"status\":{\"1xx\":", c1);
    field_u64(out, b",\"2xx\":", c2);
    field_u64(out, b",\"3xx\":", c3);
    field_u64(out, b",\"4xx\":", c4);
    field_u64(out, b",\"5xx\":", c5);
    field_u64(out, b",\"other\":", other);
    out.extend_from_slice(b"},\"methods\":{");
    let mut first = true;
    for m in METHODS_BY_NAME {
        let hits = s.methods[m as usize];
        if hits > 0 {
            comma(out, &mut first);
            string(out, m.as_str());
            out.push(b':');
            uint(out, hits);
        }
    }
    out.push(b'}');
    latency(out, s.latency());
    out.extend_from_slice(b",\"sections\":[");
    let mut first = true;
    for row in &r.top {
        comma(out, &mut first);
        out.extend_from_slice(b"{\"section\":");
        string(out, &row.section);
        field_u64(out, b",\"hits\":", row.hits);
        field_u64(out, b",\"errors\":", row.errors);
        field_u64(out, b",\"server_errors\":", row.server_errors);
        latency(out, row.latency);
        out.push(b'}');
    }
    out.push(b']');
    field_bool(out, b",\"sections_exact\":", r.top_exact);
    field_f64(out, b",\"rate\":", r.rate());
    field_u64(out, b",\"window_hits\":", r.window_hits);
    field_f64(out, b",\"window_average\":", r.window_average());
    field_f64(out, b",\"threshold\":", r.threshold);
    field_bool(out, b",\"alerting\":", r.alerting);
    out.extend_from_slice(b",\"alert_since\":");
    match r.alert_since {
        Some(t) => time(out, t),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"codes\":{");
    let mut first = true;
    for &(code, hits) in &d.codes {
        comma(out, &mut first);
        match code {
            0 => out.extend_from_slice(b"\"-\""),
            code => {
                out.push(b'"');
                uint(out, u64::from(code));
                out.push(b'"');
            }
        }
        out.push(b':');
        uint(out, hits);
    }
    out.push(b'}');
    let countries = d.countries.is_some();
    rows(
        out,
        b"top_clients",
        b"client",
        &d.clients,
        Extra::Errors { countries },
    );
    rows(
        out,
        b"top_paths",
        b"path",
        &d.paths,
        Extra::Errors { countries: false },
    );
    rows(out, b"top_agents", b"agent", &d.agents, Extra::Bot);
    rows(
        out,
        b"top_referrers",
        b"referrer",
        &d.referrers,
        Extra::None,
    );
    if let Some(countries) = &d.countries {
        out.extend_from_slice(b",\"top_countries\":[");
        let mut first = true;
        for &(country, hits) in countries {
            comma(out, &mut first);
            out.extend_from_slice(b"{\"country\":");
            string(out, &country.code());
            field_u64(out, b",\"hits\":", hits);
            out.push(b'}');
        }
        out.push(b']');
    }
    if let Some(files) = &r.files {
        out.extend_from_slice(b",\"files\":[");
        let mut first = true;
        for f in files {
            comma(out, &mut first);
            out.extend_from_slice(b"{\"file\":");
            string(out, &f.file);
            field_u64(out, b",\"hits\":", f.hits);
            out.push(b'}');
        }
        out.push(b']');
    }
    out.push(b'}');
}

/// What a top list's rows carry besides their name and hits.
#[derive(Clone, Copy)]
enum Extra {
    /// `errors`, and `country` with `--geoip` (clients).
    Errors {
        countries: bool,
    },
    /// `bot` (user agents).
    Bot,
    None,
}

/// `,"top_X":[{"key":name,"hits":n,...}],"top_X_exact":b`
fn rows(out: &mut Vec<u8>, list: &[u8], key: &[u8], table: &Ranked, extra: Extra) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(list);
    out.extend_from_slice(b"\":[");
    let mut first = true;
    for row in &table.rows {
        comma(out, &mut first);
        named(out, key, &row.name, row.hits);
        match extra {
            Extra::Errors { countries } => {
                field_u64(out, b",\"errors\":", row.errors);
                if countries {
                    out.extend_from_slice(b",\"country\":");
                    string(out, &row.country.code());
                }
            }
            Extra::Bot => field_bool(out, b",\"bot\":", row.bot),
            Extra::None => {}
        }
        out.push(b'}');
    }
    out.extend_from_slice(b"],\"");
    out.extend_from_slice(list);
    field_bool(out, b"_exact\":", table.exact);
}

fn alert(kind: &str, a: &AlertEvent, out: &mut Vec<u8>) {
    let recovered = kind == "recovered";
    out.extend_from_slice(b"{\"type\":");
    string(out, kind);
    field_u64(out, b",\"hits\":", a.hits);
    field_f64(out, b",\"average\":", a.average);
    field_f64(out, b",\"threshold\":", a.threshold);
    field_u64(out, b",\"window_secs\":", u64::from(a.window_secs));
    out.extend_from_slice(b",\"at\":");
    time(out, a.at);
    if recovered {
        out.extend_from_slice(b",\"since\":");
        time(out, a.since);
        out.extend_from_slice(b",\"duration_secs\":");
        int(out, a.duration_secs());
        field_u64(out, b",\"peak_hits\":", a.peak_hits);
        field_f64(out, b",\"peak_average\":", a.peak_average());
    } else {
        out.extend_from_slice(b",\"drivers\":{\"sections\":");
        drivers(out, b"section", &a.drivers.sections);
        out.extend_from_slice(b",\"clients\":");
        drivers(out, b"client", &a.drivers.clients);
        out.push(b'}');
    }
    out.push(b'}');
}

/// `{"key":name,"hits":n` of a table's row, left open for more fields.
fn named(out: &mut Vec<u8>, key: &[u8], name: &str, hits: u64) {
    out.extend_from_slice(b"{\"");
    out.extend_from_slice(key);
    out.extend_from_slice(b"\":");
    string(out, name);
    field_u64(out, b",\"hits\":", hits);
}

/// `[{"key":name,"hits":n,"previous_hits":m}, ...]`
fn drivers(out: &mut Vec<u8>, key: &[u8], drivers: &[Driver]) {
    out.push(b'[');
    let mut first = true;
    for d in drivers {
        comma(out, &mut first);
        named(out, key, &d.name, d.hits);
        field_u64(out, b",\"previous_hits\":", d.previous_hits);
        out.push(b'}');
    }
    out.push(b']');
}

fn summary(s: &Summary, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"type\":\"summary\",\"start\":");
    match s.timed() {
        true => time(out, s.start),
        false => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"end\":");
    match s.timed() {
        true => time(out, s.end),
        false => out.extend_from_slice(b"null"),
    }
    field_u64(out, b",\"hits\":", s.hits);
    field_u64(out, b",\"bytes\":", s.bytes);
    field_u64(out, b",\"invalid\":", s.invalid);
    latency(out, s.latency);
    field_u64(out, b",\"alerts\":", s.alerts);
    field_bool(out, b",\"alerting\":", s.alerting);
    out.push(b'}');
}

/// `,"latency_ms":{"p50":..,"p95":..,"p99":..}` in milliseconds rounded
/// to the microsecond; nothing without request times.
fn latency(out: &mut Vec<u8>, l: Option<Latency>) {
    if let Some(l) = json_latency(l) {
        field_f64(out, b",\"latency_ms\":{\"p50\":", l.p50);
        field_f64(out, b",\"p95\":", l.p95);
        field_f64(out, b",\"p99\":", l.p99);
        out.push(b'}');
    }
}

/// A `,` before every item of a list or object but the first.
#[inline(always)]
fn comma(out: &mut Vec<u8>, first: &mut bool) {
    if !std::mem::take(first) {
        out.push(b',');
    }
}

/// `key` (its separator, quotes and colon included) and `n`.
#[inline(always)]
fn field_u64(out: &mut Vec<u8>, key: &[u8], n: u64) {
    out.extend_from_slice(key);
    uint(out, n);
}

#[inline(always)]
fn field_bool(out: &mut Vec<u8>, key: &[u8], b: bool) {
    out.extend_from_slice(key);
    out.extend_from_slice(if b { b"true" } else { b"false" });
}

#[inline(always)]
fn field_f64(out: &mut Vec<u8>, key: &[u8], x: f64) {
    out.extend_from_slice(key);
    float(out, x);
}

#[inline(always)]
fn uint(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

#[inline(always)]
fn int(out: &mut Vec<u8>, n: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// A float as serde_json writes it (`10.0`, `0.8333333333333334`; `null`
/// when not finite): by serde_json itself, so the digits cannot drift.
fn float(out: &mut Vec<u8>, x: f64) {
    // Writing a float to a `Vec` cannot fail.
    let _ = serde_json::to_writer(&mut *out, &x);
}

/// A unix time as a JSON string, RFC 3339 in UTC: `"2026-03-01T12:00:00Z"`.
fn time(out: &mut Vec<u8>, t: i64) {
    out.push(b'"');
    match utc_digits(t) {
        Some(text) => out.extend_from_slice(&text),
        // Years outside 0..=9999, as `render::utc` writes them.
        None => escaped(out, super::utc(t).as_bytes()),
    }
    out.push(b'"');
}

/// Seconds from 0000-03-01 to 1970-01-01.
const EPOCH_FROM_MARCH_0000: i64 = 719_468 * 86_400;
/// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z.
const FIRST: i64 = -62_167_219_200;
const LAST: i64 = 253_402_300_799;

/// `YYYY-MM-DDTHH:MM:SSZ` for a time in the years 0 to 9999 (what chrono's
/// `to_rfc3339_opts(Secs, true)` writes for them); `None` outside.
///
/// Days to a civil date as in Howard Hinnant's `civil_from_days`, with
/// eras of 400 years starting on March 1st.
fn utc_digits(t: i64) -> Option<[u8; 20]> {
    if !(FIRST..=LAST).contains(&t) {
        return None;
    }
    // Non-negative from 0000-03-01, so plain division is floor division.
    let from_march = t + EPOCH_FROM_MARCH_0000;
    let (days, secs) = if from_march >= 0 {
        (from_march / 86_400, from_march % 86_400)
    } else {
        // January and February of year 0.
        (from_march.div_euclid(86_400), from_march.rem_euclid(86_400))
    };
    let era = days.div_euclid(146_097);
    let doe = days.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut text = *b"0000-00-00T00:00:00Z";
    let mut put = |at: usize, n: i64, width: usize| {
        let mut n = n;
        for i in (at..at + width).rev() {
            text[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    put(0, year, 4);
    put(5, month, 2);
    put(8, day, 2);
    put(11, h, 2);
    put(14, m, 2);
    put(17, s, 2);
    Some(text)
}

/// A JSON string: `s` in quotes, escaped.
#[inline(always)]
fn string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    escaped(out, s.as_bytes());
    out.push(b'"');
}

/// `bytes` (UTF-8) with what JSON must escape escaped as serde_json does:
/// `"` and `\` with a backslash, the controls below 0x20 as `\b \t \n \f
/// \r` or `\u00XX`. Everything else, DEL and non-ASCII included, as is.
fn escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut start = 0;
    while let Some(i) = find_escape(bytes, start) {
        out.extend_from_slice(&bytes[start..i]);
        let b = bytes[i];
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
            }
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// The index of the first byte from `from` on that JSON escapes.
///
/// Eight bytes at a time (SWAR): strings from the log are mostly clean, and
/// a byte-by-byte check costs several instructions a byte.
fn find_escape(bytes: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = u64::MAX / 255;
    const HIGH: u64 = ONES * 0x80;
    let needs = |b: u8| b < 0x20 || b == b'"' || b == b'\\';
    let mut i = from;
    while i + 8 <= bytes.len() {
        let mut word = [0; 8];
        word.copy_from_slice(&bytes[i..i + 8]);
        let w = u64::from_le_bytes(word);
        let quote = w ^ (ONES * u64::from(b'"'));
        let slash = w ^ (ONES * u64::from(b'\\'));
        // "has a byte below 0x20" and "has a zero byte" (after the xors),
        // exact for "any" when bytes >= 0x80 are masked out by `!w`.
        let found =
            (w.wrapping_sub(ONES * 0x20) | quote.wrapping_sub(ONES) | slash.wrapping_sub(ONES))
                & !w
                & HIGH;
        if found != 0 {
            break;
        }
        i += 8;
    }
    (i..bytes.len()).find(|&i| needs(bytes[i]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let mut all: String = (0u8..0x80).map(char::from).collect();
        all.push_str("é€😀\u{7f}\u{2028} tail \\ \" end");
        let cases = [
            all.as_str(),
            "",
            "plain text longer than eight bytes",
            "\\x1b]0;owned",
            "12345678\"",
            "1234567\n",
            "\u{1f}\u{1f}\u{1f}\u{1f}\u{1f}\u{1f}\u{1f}\u{1f}\u{1f}",
        ];
        for s in cases {
            let mut out = Vec::new();
            string(&mut out, s);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string(s).unwrap(),
                "{s:?}"
            );
        }
    }

    #[test]
    fn times_are_written_as_chrono_writes_them() {
        for t in [
            0,
            1_772_366_400,
            -1,
            951_782_400,    // 2000-02-29
            951_868_799,    // 2000-02-29T23:59:59
            -2_203_891_200, // 1900-03-01
            FIRST,
            FIRST + 86_400 * 59, // 0000-02-29 (a leap year)
            LAST,
            LAST + 1,
            FIRST - 1,
            i64::MAX,
            i64::MIN,
        ] {
            let mut out = Vec::new();
            time(&mut out, t);
            let want = serde_json::to_string(&super::super::utc(t)).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), want, "{t}");
        }
        for t in (FIRST..LAST).step_by(86_400 * 7 + 3_607) {
            let mut out = Vec::new();
            time(&mut out, t);
            let want = serde_json::to_string(&super::super::utc(t)).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), want, "{t}");
        }
    }

    #[test]
    fn floats_are_written_as_serde_json_writes_them() {
        let mut out = Vec::new();
        for x in [
            10.0,
            0.8333333333333334,
            1e21,
            -0.0,
            f64::NAN,
            f64::INFINITY,
        ] {
            float(&mut out, x);
            out.push(b' ');
        }
        int(&mut out, -5);
        uint(&mut out, u64::MAX);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "10.0 0.8333333333333334 1e+21 -0.0 null null -518446744073709551615"
        );
    }
}
