//! The Prometheus text exposition format (version 0.0.4), written by hand.
//!
//! Pure: builds a `String`. Label values come from the log (section names),
//! so they are always escaped (status codes and bucket bounds too, though
//! they need none); metric names and help texts are constants of
//! this crate. A family's `# HELP` and `# TYPE` lines come before its
//! samples, and each family appears once.

use std::borrow::Cow;
use std::fmt::{Display, Write as _};

/// The `Content-Type` of an exposition.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What a metric family is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up (until the process restarts).
    Counter,
    /// Goes up and down.
    Gauge,
    /// Counts of observations in cumulative buckets, with their sum and
    /// count (`_bucket{le}`, `_sum`, `_count`): see `histogram`.
    Histogram,
}

/// An exposition being written.
#[derive(Debug, Default)]
pub struct Exposition {
    out: String,
}

impl Exposition {
    /// Start a metric family: its help and its type.
    pub fn family(&mut self, name: &str, kind: Kind, help: &str) {
        let kind = match kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        };
        let _ = writeln!(self.out, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
    }

    /// One sample of the family last started. `labels` are `(name, value)`
    /// pairs; values are escaped here.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl Into<Value>) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (label, value)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{label}=\"{}\"", escape_label(value));
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {}", value.into());
    }

    /// The samples of the histogram family last started: `counts[i]`
    /// observations of at most `bounds[i]` and above `bounds[i - 1]`,
    /// then `counts[bounds.len()]` above the last bound, and the sum of
    /// all observations. Buckets are written cumulative, ending with
    /// `le="+Inf"`, which equals `_count`.
    pub fn histogram(&mut self, name: &str, bounds: &[f64], counts: &[u64], sum: f64) {
        debug_assert_eq!(counts.len(), bounds.len() + 1);
        let bucket = format!("{name}_bucket");
        let mut total = 0u64;
        for (i, &n) in counts.iter().enumerate() {
            total = total.saturating_add(n);
            let le = bounds.get(i).map_or(f64::INFINITY, |&b| b);
            self.sample(&bucket, &[("le", &Value::from(le).to_string())], total);
        }
        self.sample(&format!("{name}_sum"), &[], sum);
        self.sample(&format!("{name}_count"), &[], total);
    }

    /// The finished text.
    pub fn finish(self) -> String {
        self.out
    }
}

/// A sample value: integers exactly, floats in the format's spelling.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    Int(u64),
    Float(f64),
}

impl From<u64> for Value {
    fn from(n: u64) -> Self {
        Value::Int(n)
    }
}

impl From<f64> for Value {
    fn from(x: f64) -> Self {
        Value::Float(x)
    }
}

impl Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Value::Int(n) => write!(f, "{n}"),
            // Rust spells these `inf` and `NaN`; the format wants `+Inf`.
            Value::Float(x) if x.is_nan() => f.write_str("NaN"),
            Value::Float(x) if x.is_infinite() => {
                f.write_str(if x > 0.0 { "+Inf" } else { "-Inf" })
            }
            Value::Float(x) => write!(f, "{x}"),
        }
    }
}

/// Escape a label value: backslash, double quote and line feed are the
/// three characters the format escapes (as `\\`, `\"` and `\n`).
pub fn escape_label(value: &str) -> Cow<'_, str> {
    escape(value, true)
}

/// Escape a help text: backslash and line feed.
fn escape_help(text: &str) -> Cow<'_, str> {
    escape(text, false)
}

fn escape(s: &str, quote: bool) -> Cow<'_, str> {
    let special = |c: char| c == '\\' || c == '\n' || (quote && c == '"');
    if !s.contains(special) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if quote => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_escape_backslash_quote_and_newline_only() {
        assert_eq!(escape_label("/api"), "/api");
        assert!(matches!(escape_label("/api"), Cow::Borrowed(_)));
        assert_eq!(escape_label(r#"/a"b\c"#), r#"/a\"b\\c"#);
        assert_eq!(escape_label("/a\nb"), r"/a\nb");
        assert_eq!(escape_label("/<script>{}=,"), "/<script>{}=,");
        assert_eq!(escape_label("/é"), "/é");
    }

    #[test]
    fn an_exposition_has_help_and_type_before_its_samples() {
        let mut e = Exposition::default();
        e.family("x_total", Kind::Counter, "Things, by kind.\nSee \\docs.");
        e.sample("x_total", &[("kind", "a\"b")], 3u64);
        e.sample("x_total", &[("kind", "c"), ("zone", "z")], 4u64);
        e.family("y", Kind::Gauge, "A level.");
        e.sample("y", &[], 0.5);
        assert_eq!(
            e.finish(),
            "# HELP x_total Things, by kind.\\nSee \\\\docs.\n\
             # TYPE x_total counter\n\
             x_total{kind=\"a\\\"b\"} 3\n\
             x_total{kind=\"c\",zone=\"z\"} 4\n\
             # HELP y A level.\n\
             # TYPE y gauge\n\
             y 0.5\n"
        );
    }

    #[test]
    fn a_histogram_writes_cumulative_buckets_then_sum_and_count() {
        let mut e = Exposition::default();
        e.family("d_seconds", Kind::Histogram, "Durations.");
        e.histogram("d_seconds", &[0.5, 1.0, 2.5], &[3, 0, 2, 1], 7.25);
        assert_eq!(
            e.finish(),
            "# HELP d_seconds Durations.\n\
             # TYPE d_seconds histogram\n\
             d_seconds_bucket{le=\"0.5\"} 3\n\
             d_seconds_bucket{le=\"1\"} 3\n\
             d_seconds_bucket{le=\"2.5\"} 5\n\
             d_seconds_bucket{le=\"+Inf\"} 6\n\
             d_seconds_sum 7.25\n\
             d_seconds_count 6\n"
        );
    }

    #[test]
    fn floats_use_the_formats_spelling() {
        assert_eq!(Value::from(10.0).to_string(), "10");
        assert_eq!(Value::from(0.125).to_string(), "0.125");
        assert_eq!(Value::from(f64::INFINITY).to_string(), "+Inf");
        assert_eq!(Value::from(f64::NEG_INFINITY).to_string(), "-Inf");
        assert_eq!(Value::from(f64::NAN).to_string(), "NaN");
        assert_eq!(Value::from(u64::MAX).to_string(), "18446744073709551615");
    }
}
