//! Apache `LogFormat` strings, as pasted from the server's configuration,
//! compiled into a [`Pattern`].
//!
//! Takes the string alone (`%h %l %u %t "%r" %>s %b`) or the whole
//! directive, `LogFormat "%h %l %u %t \"%r\" %>s %b" common`. A directive
//! is `%`, optional modifiers (`<`, `>`, `!` and status codes: `%>s`,
//! `%!200,304s`), an optional `{parameter}`, then a letter; `%%` is a `%`.
//! Directives with a meaning are listed in [`field`]; any other one
//! matches a value and is ignored.

use super::pattern::{Dialect, Escape, Field, Pattern, Token, Unit};
use super::time::{Strftime, TimeShape};

/// Compile an Apache `LogFormat` string. The error says what is wrong.
pub fn compile(text: &str) -> Result<Pattern, String> {
    let format = unwrap(text.trim());
    let bytes = format.as_bytes();
    let mut tokens = Vec::new();
    let mut literal = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1)) {
            (b'%', Some(b'%')) => {
                literal.push(b'%');
                i += 2;
            }
            (b'%', _) => {
                let (directive, next) = directive(&format, i)?;
                tokens.push(Token::Literal(std::mem::take(&mut literal)));
                tokens.push(directive);
                i = next;
            }
            // Escapes the string itself may hold (mod_log_config's).
            (b'\\', Some(&c)) => {
                literal.push(match c {
                    b'n' => b'\n',
                    b't' => b'\t',
                    c => c,
                });
                i += 2;
            }
            (b, _) => {
                literal.push(b);
                i += 1;
            }
        }
    }
    tokens.push(Token::Literal(literal));
    Pattern::compile(Dialect::Apache, &format, tokens, Escape::Default)
}

/// The directive at `format[at]` (a `%`) and where the text after it
/// starts.
fn directive(format: &str, at: usize) -> Result<(Token, usize), String> {
    let bytes = format.as_bytes();
    let mut i = at + 1;
    // Modifiers: `<` `>` (original or final request), `!` and status codes.
    while bytes
        .get(i)
        .is_some_and(|b| matches!(b, b'<' | b'>' | b'!' | b',' | b'0'..=b'9'))
    {
        i += 1;
    }
    let mut parameter = None;
    if bytes.get(i) == Some(&b'{') {
        let close = format[i..]
            .find('}')
            .ok_or_else(|| format!("`{}` has a `{{` without its `}}`", &format[at..]))?;
        parameter = Some(&format[i + 1..i + close]);
        i += close + 1;
        while bytes.get(i).is_some_and(|b| matches!(b, b'<' | b'>')) {
            i += 1;
        }
    }
    // Apache 2.4's `%{Name}^ti` and friends: a `^` and two letters.
    let letters = match bytes.get(i) {
        Some(b'^') => 3,
        _ => 1,
    };
    let next = i + letters;
    let letter = match bytes.get(i..next) {
        Some(l) if l.iter().all(|b| b.is_ascii_alphabetic() || *b == b'^') => l[letters - 1],
        Some(_) => {
            let end = format[i..].chars().next().map_or(i, |c| i + c.len_utf8());
            return Err(format!(
                "`{}` is not a directive: a `%` needs a letter, as in %h or %{{Referer}}i",
                &format[at..end]
            ));
        }
        None => {
            return Err(format!(
                "`{}` ends the format without a directive letter",
                &format[at..]
            ))
        }
    };
    let letter = if letters == 3 { b'^' } else { letter };
    let name = format[at..next].to_owned();
    let (field, list) = field(letter, parameter)?;
    Ok((Token::Field { field, name, list }, next))
}

/// What `%{parameter}letter` holds, and whether its value may be a list.
fn field(letter: u8, parameter: Option<&str>) -> Result<(Field, bool), String> {
    let field = match (letter, parameter) {
        (b'h' | b'a', _) => Field::Client,
        (b'u', _) => Field::User,
        (b't', None) => Field::Time(TimeShape::ClfBracketed),
        (b't', Some(format)) => time_field(format)?,
        (b'r', _) => Field::Request,
        (b'm', _) => Field::Method,
        (b'U', _) => Field::Path,
        (b'q', _) => Field::Query,
        (b's', _) => Field::Status,
        (b'b' | b'B', _) => Field::BodyBytes,
        (b'O', _) => Field::SentBytes,
        (b'D', _) => Field::RequestTime(Unit::Micros),
        (b'T', None | Some("s")) => Field::RequestTime(Unit::Seconds),
        (b'T', Some("ms")) => Field::RequestTime(Unit::Millis),
        (b'T', Some("us")) => Field::RequestTime(Unit::Micros),
        (b'v' | b'V', _) => Field::Host,
        (b'i', Some(header)) => match header.to_ascii_lowercase().as_str() {
            "referer" => Field::Referer,
            "user-agent" => Field::UserAgent,
            "x-forwarded-for" => Field::ForwardedFor,
            "host" => Field::Host,
            _ => Field::Ignored,
        },
        _ => Field::Ignored,
    };
    let list = matches!(field, Field::Client | Field::ForwardedFor);
    Ok((field, list))
}

/// `%{format}t`: a named unit (`sec`, `msec`, `usec`) or a strftime
/// format, after an optional `begin:` or `end:`.
fn time_field(format: &str) -> Result<Field, String> {
    let format = format
        .strip_prefix("begin:")
        .or_else(|| format.strip_prefix("end:"))
        .unwrap_or(format);
    Ok(match format {
        "sec" => Field::Time(TimeShape::EpochSecs),
        "msec" => Field::Time(TimeShape::EpochMillis),
        "usec" => Field::Time(TimeShape::EpochMicros),
        // The fraction of the second alone: no time.
        "msec_frac" | "usec_frac" => Field::Ignored,
        format => Field::Time(TimeShape::Strftime(Strftime::compile(format)?)),
    })
}

/// The format string out of a pasted `LogFormat "..." nickname` directive
/// (its `\"` and `\\` undone), or `text` as it is.
fn unwrap(text: &str) -> String {
    let rest = match text.get(..10) {
        Some(word) if word.eq_ignore_ascii_case("LogFormat ") => text[10..].trim_start(),
        _ => text,
    };
    let Some(body) = rest.strip_prefix('"') else {
        return rest.to_owned();
    };
    // The closing quote: the last unescaped one, followed by at most a
    // nickname.
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, c @ ('"' | '\\'))) => out.push(c),
                Some((_, c)) => {
                    out.push('\\');
                    out.push(c);
                }
                None => out.push('\\'),
            },
            '"' => {
                let after = body[at + 1..].trim();
                let nickname = after.chars().all(|c| c.is_alphanumeric() || c == '_');
                // A quote in the middle: the string was not one quoted
                // directive after all.
                return match nickname {
                    true => out,
                    false => rest.to_owned(),
                };
            }
            c => out.push(c),
        }
    }
    rest.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(format: &str) -> Vec<String> {
        compile(format).unwrap().pieces()
    }

    #[test]
    fn a_format_reads_the_same_bare_or_as_a_directive() {
        let want = pieces(r#"%h %l %u %t "%r" %>s %b "%{Referer}i""#);
        for pasted in [
            r#"LogFormat "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\"" combined"#,
            r#""%h %l %u %t \"%r\" %>s %b \"%{Referer}i\"""#,
            r#"logformat "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\"""#,
            r#"%h %l %u %t \"%r\" %>s %b \"%{Referer}i\""#,
        ] {
            assert_eq!(pieces(pasted), want, "{pasted}");
        }
        assert_eq!(want[0], "%h");
        assert_eq!(want[want.len() - 2], "%{Referer}i");
    }

    #[test]
    fn directives_take_modifiers_parameters_and_percent() {
        assert_eq!(
            pieces("%!200,304s %<s %400,501{User-agent}i 100%% %{ms}T %t %U"),
            [
                "%!200,304s",
                " ",
                "%<s",
                " ",
                "%400,501{User-agent}i",
                " 100% ",
                "%{ms}T",
                " ",
                "%t",
                " ",
                "%U"
            ]
        );
        assert_eq!(
            field(b'T', Some("us")),
            Ok((Field::RequestTime(Unit::Micros), false))
        );
        assert_eq!(
            field(b'i', Some("X-Forwarded-For")),
            Ok((Field::ForwardedFor, true))
        );
        assert_eq!(field(b'Z', None), Ok((Field::Ignored, false)));
        assert_eq!(
            time_field("begin:msec"),
            Ok(Field::Time(TimeShape::EpochMillis))
        );
    }

    #[test]
    fn formats_that_cannot_work_are_refused_with_the_reason() {
        for (format, says) in [
            ("%h %r", "no time variable"),
            ("%h %t %>s", "neither a request nor a path"),
            ("%t %r %", "ends the format"),
            ("%t %r %{Referer", "without its `}`"),
            ("%t %r % x", "is not a directive"),
            ("%{%Q}t %r", "unsupported time conversion `%Q`"),
            ("%t %r %>s%b", "nothing between them"),
        ] {
            let error = compile(format).unwrap_err();
            assert!(error.contains(says), "{format}: {error}");
        }
    }
}
