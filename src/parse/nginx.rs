//! nginx `log_format` strings, as pasted from nginx.conf, compiled into a
//! [`Pattern`].
//!
//! Takes the string alone (`$remote_addr - $remote_user [$time_local] ...`)
//! or as it stands in the configuration: one quoted string or several
//! adjacent ones, which nginx concatenates, after an optional
//! `log_format NAME` and `escape=default|json|none`, with an optional `;`:
//!
//! ```text
//! log_format main escape=json '{"time":"$time_iso8601",'
//!                             '"request":"$request","status":$status}';
//! ```
//!
//! Variables with a meaning are listed in [`field`]; any other variable
//! matches a value and is ignored.

use super::pattern::{Dialect, Escape, Field, Pattern, Token, Unit};
use super::time::TimeShape;

/// Compile an nginx `log_format` string. The error says what is wrong.
pub fn compile(text: &str) -> Result<Pattern, String> {
    let (escape, format) = unwrap(text)?;
    let mut tokens = Vec::new();
    let mut literal = Vec::new();
    let bytes = format.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'$' {
            literal.push(bytes[i]);
            i += 1;
            continue;
        }
        let (name, next) = variable(bytes, i)?;
        tokens.push(Token::Literal(std::mem::take(&mut literal)));
        let (field, list) = field(name);
        tokens.push(Token::Field {
            field,
            name: format!("${name}"),
            list,
        });
        i = next;
    }
    tokens.push(Token::Literal(literal));
    let source = match escape {
        Escape::Default => format.clone(),
        Escape::Json => format!("escape=json {format}"),
        Escape::None => format!("escape=none {format}"),
    };
    Pattern::compile(Dialect::Nginx, &source, tokens, escape)
}

/// The variable name at `bytes[at]` (a `$`), as `$name` or `${name}`, and
/// where the text after it starts.
fn variable(bytes: &[u8], at: usize) -> Result<(&str, usize), String> {
    let is_name = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    let (start, braced) = match bytes.get(at + 1) {
        Some(b'{') => (at + 2, true),
        _ => (at + 1, false),
    };
    let len = bytes[start..].iter().take_while(|b| is_name(b)).count();
    let end = start + len;
    let next = match braced {
        true if bytes.get(end) == Some(&b'}') && len > 0 => end + 1,
        true => return Err(format!("`${{` at byte {at} is not closed by `}}`")),
        false => end,
    };
    if len == 0 {
        return Err(format!(
            "a `$` at byte {at} is not followed by a variable name"
        ));
    }
    // Only ASCII name bytes were taken, so this is a char boundary.
    let name = std::str::from_utf8(&bytes[start..end]).map_err(|e| e.to_string())?;
    Ok((name, next))
}

/// What a variable holds, and whether nginx may write it as a list.
fn field(name: &str) -> (Field, bool) {
    let field = match name {
        "remote_addr" | "realip_remote_addr" | "binary_remote_addr" => Field::Client,
        "http_x_forwarded_for" => Field::ForwardedFor,
        "remote_user" => Field::User,
        "time_local" => Field::Time(TimeShape::Clf),
        "time_iso8601" => Field::Time(TimeShape::Iso8601),
        "msec" => Field::Time(TimeShape::EpochSecs),
        "request" => Field::Request,
        "request_method" => Field::Method,
        "request_uri" => Field::Uri,
        "uri" | "document_uri" => Field::Path,
        "args" | "query_string" => Field::Query,
        "status" => Field::Status,
        "body_bytes_sent" => Field::BodyBytes,
        "bytes_sent" => Field::SentBytes,
        "request_time" => Field::RequestTime(Unit::Seconds),
        "upstream_response_time" => Field::UpstreamTime,
        "http_referer" => Field::Referer,
        "http_user_agent" => Field::UserAgent,
        "host" | "http_host" | "server_name" => Field::Host,
        _ => Field::Ignored,
    };
    let list = matches!(
        field,
        Field::Client | Field::ForwardedFor | Field::UpstreamTime
    ) || name.starts_with("upstream_")
        || name == "proxy_add_x_forwarded_for";
    (field, list)
}

/// The format string and its escaping, out of the configuration syntax
/// around it, if any.
fn unwrap(text: &str) -> Result<(Escape, String), String> {
    let mut rest = text.trim().trim_end_matches(';').trim_end();
    if let Some(after) = strip_word(rest, "log_format") {
        // The format's name comes next.
        let name_len = after.find(char::is_whitespace).unwrap_or(after.len());
        rest = after[name_len..].trim_start();
    }
    let mut escape = Escape::Default;
    if let Some(after) = rest.strip_prefix("escape=") {
        let value_len = after.find(char::is_whitespace).unwrap_or(after.len());
        escape = match &after[..value_len] {
            "default" => Escape::Default,
            "json" => Escape::Json,
            "none" => Escape::None,
            other => {
                return Err(format!(
                    "escape={other} is not one of escape=default, escape=json, escape=none"
                ))
            }
        };
        rest = after[value_len..].trim_start();
    }
    Ok((
        escape,
        quoted_strings(rest).unwrap_or_else(|| rest.to_owned()),
    ))
}

/// `text` after `word` and whitespace, if it starts so.
fn strip_word<'a>(text: &'a str, word: &str) -> Option<&'a str> {
    let after = text.strip_prefix(word)?;
    after
        .starts_with(char::is_whitespace)
        .then(|| after.trim_start())
}

/// The concatenation of adjacent quoted strings in nginx.conf syntax
/// (`'...'` or `"..."`, a backslash escaping a quote or a backslash),
/// separated by whitespace; `None` unless `text` is only that.
fn quoted_strings(text: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = text.trim().chars().peekable();
    chars.peek()?;
    while let Some(quote) = chars.next() {
        if quote != '\'' && quote != '"' {
            return None;
        }
        loop {
            match chars.next()? {
                c if c == quote => break,
                '\\' => match chars.next()? {
                    c @ ('\'' | '"' | '\\') => out.push(c),
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    c => {
                        out.push('\\');
                        out.push(c);
                    }
                },
                c => out.push(c),
            }
        }
        let mut gap = false;
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
            gap = true;
        }
        if !gap && chars.peek().is_some() {
            return None;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(format: &str) -> Vec<String> {
        compile(format).unwrap().pieces()
    }

    #[test]
    fn a_format_reads_the_same_bare_or_as_pasted_from_nginx_conf() {
        let want = pieces(r#"$remote_addr - [$time_local] "$request" $status"#);
        for pasted in [
            r#"'$remote_addr - [$time_local] "$request" $status'"#,
            r#"log_format main '$remote_addr - [$time_local] "$request" $status';"#,
            "log_format  main  '$remote_addr - [$time_local] '\n    '\"$request\" $status';",
            r#""$remote_addr - [$time_local] \"$request\" $status""#,
            r#"escape=default '$remote_addr - [${time_local}] "$request" $status'"#,
        ] {
            assert_eq!(pieces(pasted), want, "{pasted}");
        }
        assert_eq!(
            want,
            [
                "$remote_addr",
                " - [",
                "$time_local",
                "] \"",
                "$request",
                "\" ",
                "$status"
            ]
        );
    }

    #[test]
    fn escape_parameters_are_read() {
        let json = r#"log_format j escape=json '{"t":"$time_iso8601","r":"$request"}';"#;
        assert_eq!(unwrap(json).unwrap().0, Escape::Json);
        assert_eq!(unwrap("escape=none $msec $uri").unwrap().0, Escape::None);
        assert!(compile(json).is_ok());
        let error = compile("escape=yaml $msec $uri").unwrap_err();
        assert!(error.contains("escape=yaml is not one of"), "{error}");
    }

    #[test]
    fn formats_that_cannot_work_are_refused_with_the_reason() {
        for (format, says) in [
            ("$remote_addr $request", "no time variable"),
            (
                "$time_local $status",
                "neither a request nor a path variable",
            ),
            (
                "$time_local $request $ x",
                "not followed by a variable name",
            ),
            ("$time_local $request ${status", "is not closed"),
            (
                "$time_local $request $status$body_bytes_sent",
                "nothing between them",
            ),
        ] {
            let error = compile(format).unwrap_err();
            assert!(error.contains(says), "{format}: {error}");
        }
    }

    #[test]
    fn list_valued_variables_are_known() {
        assert_eq!(field("remote_addr"), (Field::Client, true));
        assert_eq!(field("upstream_addr"), (Field::Ignored, true));
        assert_eq!(field("upstream_response_time"), (Field::UpstreamTime, true));
        assert_eq!(field("status"), (Field::Status, false));
        assert_eq!(field("request_length"), (Field::Ignored, false));
    }
}
