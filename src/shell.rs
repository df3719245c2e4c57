//! Shell integration: completion scripts (clap_complete) and the man page
//! (clap_mangen), both generated from the same `Args` as `--help`, so they
//! never drift from the real options.

use std::io::{self, Write};

use clap::CommandFactory as _;
use clap_complete::Shell;

use crate::cli::Args;

/// Write the completion script for `shell` to `out`.
pub fn completions(shell: Shell, out: &mut dyn Write) {
    clap_complete::generate(shell, &mut Args::command(), "logmon", out);
}

/// Write the man page, in roff, to `out`.
pub fn man(out: &mut dyn Write) -> io::Result<()> {
    clap_mangen::Man::new(Args::command()).render(out)
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
}
