//! Shell integration: completion scripts (clap_complete) and the man page
//! (clap_mangen), both generated from the same `Args` as `--help`, so they
//! never drift from the real options. The man page adds EXIT STATUS,
//! ENVIRONMENT (its variables read from `Args` too) and EXAMPLES, which
//! clap_mangen does not write, in roff escaped by the roff crate.

use std::io::{self, Write};

use clap::CommandFactory as _;
use clap_complete::Shell;
use roff::{bold, roman, Roff};

use crate::cli::{Args, DEFAULT_LOG};

/// Write the completion script for `shell` to `out`.
pub fn completions(shell: Shell, out: &mut dyn Write) {
    clap_complete::generate(shell, &mut Args::command(), "logmon", out);
}

/// Write the man page, in roff, to `out`.
pub fn man(out: &mut dyn Write) -> io::Result<()> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Args::command()).render(&mut page)?;
    let page = String::from_utf8_lossy(&page);
    // Before VERSION, where man-pages(7) puts them.
    let at = page.find("\n.SH VERSION").map_or(page.len(), |i| i + 1);
    out.write_all(page[..at].as_bytes())?;
    out.write_all(extra_sections().to_roff().as_bytes())?;
    out.write_all(page[at..].as_bytes())
}

/// EXIT STATUS, ENVIRONMENT and EXAMPLES.
fn extra_sections() -> Roff {
    let mut roff = Roff::new();
    let entry = |roff: &mut Roff, term: &str, text: &str| {
        roff.control("TP", [])
            .text([bold(term)])
            .text([roman(text)]);
    };

    roff.control("SH", ["EXIT STATUS"]);
    for (status, meaning) in [
        (
            "0",
            "The run ended normally: the input ended, Ctrl-C or SIGTERM, or the reader \
             of the output went away (a closed pipe).",
        ),
        (
            "1",
            "An error: a file that cannot be read or is compressed, no LOG_FILE given and \
             no /var/log/access.log, a replay in which no line parses, a full disk.",
        ),
        ("2", "A usage error: an unknown option or a bad value."),
        (
            "3",
            "With --replay --exit-code: a high-traffic alert fired during the replay.",
        ),
    ] {
        entry(&mut roff, status, meaning);
    }

    roff.control("SH", ["ENVIRONMENT"]);
    let cmd = Args::command();
    for arg in cmd.get_arguments() {
        if let (Some(var), Some(long)) = (arg.get_env(), arg.get_long()) {
            let text = format!("The default for --{long}; the option wins.");
            entry(&mut roff, &var.to_string_lossy(), &text);
        }
    }
    for (var, text) in [
        (
            "NO_COLOR",
            "When set and not empty, --color auto uses no colour.",
        ),
        (
            "LC_ALL, LC_CTYPE, LANG",
            "The first one set decides whether the sparkline is drawn in UTF-8 or ASCII.",
        ),
        ("TZ", "The time zone of times in text output, unless --utc."),
        ("TMPDIR", "Where --demo writes its generated log."),
    ] {
        entry(&mut roff, var, text);
    }

    roff.control("SH", ["EXAMPLES"]);
    for (command, text) in [
        (
            "logmon /var/log/nginx/access.log".to_owned(),
            "Follow a log: a report every 10 s, an alert above 10 req/s over 2 minutes.",
        ),
        (
            format!("logmon --replay --threshold 2 {DEFAULT_LOG}"),
            "Read a whole log on its own clock, at full speed, then exit.",
        ),
        (
            "logmon --replay access.log*".to_owned(),
            "Replay a week of rotated logs (access.log.7.gz ... access.log), gzip or \
             zstd archives included, in time order, whatever the order they are named in.",
        ),
        (
            "logmon '/var/log/nginx/*.access.log' /srv/app/access.log".to_owned(),
            "Follow every virtual host's log and another: one window and one alert for all, \
             the hits of each file in each report. The quoted glob is expanded by logmon, \
             again every few seconds, so a new host's log is picked up.",
        ),
        (
            "logmon --from-start access.log".to_owned(),
            "Replay what the log holds so far (today's traffic), then follow it live.",
        ),
        (
            "logmon --replay --exit-code -q access.log > report.txt".to_owned(),
            "Exit with status 3 if the log had high traffic.",
        ),
        (
            "logmon --format json access.log | jq .hits".to_owned(),
            "One JSON object per event, for programs.",
        ),
        (
            "logmon --serve :9188 access.log".to_owned(),
            "Also serve a live dashboard and Prometheus metrics on 127.0.0.1:9188.",
        ),
        (
            "logmon access.log | grep -i alert".to_owned(),
            "Only the alert and recovery lines contain the word.",
        ),
    ] {
        entry(&mut roff, &command, text);
    }
    roff
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shell_gets_a_script_that_names_the_options() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let mut out = Vec::new();
            completions(shell, &mut out);
            let script = String::from_utf8(out).unwrap();
            assert!(script.contains("logmon"), "{shell}");
            assert!(script.contains("threshold"), "{shell}");
            assert!(script.contains("exit-code"), "{shell}");
        }
    }

    #[test]
    fn the_man_page_has_a_name_section_and_the_options() {
        let mut out = Vec::new();
        man(&mut out).unwrap();
        let page = String::from_utf8(out).unwrap();
        assert!(page.starts_with(".ie \\n(.g .ds Aq"), "{}", &page[..80]);
        assert!(page.contains(".TH logmon 1"));
        assert!(page.contains(".SH NAME"));
        assert!(page.contains("LOGMON_THRESHOLD"));
    }

    #[test]
    fn the_man_page_has_exit_status_environment_and_examples_before_version() {
        let mut out = Vec::new();
        man(&mut out).unwrap();
        let page = String::from_utf8(out).unwrap();
        let at = |heading: &str| page.find(&format!("\n.SH {heading}\n")).unwrap();
        // roff quotes a heading with a space.
        assert!(at("OPTIONS") < at("\"EXIT STATUS\""));
        assert!(at("\"EXIT STATUS\"") < at("ENVIRONMENT"));
        assert!(at("ENVIRONMENT") < at("EXAMPLES"));
        assert!(at("EXAMPLES") < at("VERSION"));
        assert!(
            page.contains("\n.TP\n\\fB3\\fR\nWith \\-\\-replay"),
            "{page}"
        );
        for var in ["LOGMON_PERIOD", "LOGMON_QUIET", "NO_COLOR", "TZ"] {
            assert!(page.contains(&format!("\\fB{var}\\fR")), "{var}");
        }
        assert!(
            page.contains("logmon \\-\\-replay access.log*"),
            "a rotated set"
        );
        assert!(page.contains("logmon \\-\\-from\\-start access.log"));
        assert_eq!(page.matches(".ie \\n(.g .ds Aq").count(), 1, "one preamble");
    }
}
