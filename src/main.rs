//! The `logmon` binary: parse the command line, run, report errors, and
//! choose the exit status: 0, 1 for an error, 2 for a usage error (clap),
//! 3 with `--replay --exit-code` when an alert fired.

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser as _;
use logmon::cli::{self, Args, Standalone};

/// `--exit-code`: the replay had high traffic.
const ALERTED: u8 = 3;

fn main() -> ExitCode {
    // Before anything opens a file: see `stdio`.
    logmon::stdio::hold_closed();
    // `--completions` and `--man` ignore the other options, so they are
    // looked for first. Usage errors are printed by clap, which exits with
    // status 2.
    let standalone = cli::standalone(std::env::args_os()).unwrap_or_else(|e| e.exit());
    let result = match standalone {
        Some(Standalone::Completions(shell)) => {
            // Generated into memory: clap_complete panics on a write error,
            // and `| head` must end quietly.
            let mut script = Vec::new();
            logmon::shell::completions(shell, &mut script);
            write_stdout(&script).map(|()| false)
        }
        Some(Standalone::Man) => {
            let mut page = Vec::new();
            logmon::shell::man(&mut page)
                .map_err(anyhow::Error::from)
                .and_then(|()| write_stdout(&page))
                .map(|()| false)
        }
        None => {
            let args = Args::parse();
            let exit_code = args.exit_code;
            logmon::app::run(args).map(|outcome| exit_code && outcome.alerts > 0)
        }
    };
    match result {
        Ok(true) => ExitCode::from(ALERTED),
        Ok(false) => ExitCode::SUCCESS,
        // The reader of our output has gone (`logmon ... | head`): that is
        // how pipelines end, not an error.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            logmon::notice::say(&format!("logmon: {}", logmon::app::error_message(&e)));
            ExitCode::FAILURE
        }
    }
}

fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(bytes).and_then(|()| out.flush())?;
    Ok(())
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}
