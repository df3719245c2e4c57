//! The `logmon` binary: parse the command line, run, report errors.

use std::io;
use std::process::ExitCode;

use clap::Parser as _;
use logmon::cli::Args;

fn main() -> ExitCode {
    // Usage errors are printed by clap, which exits with status 2.
    let args = Args::parse();
    match logmon::app::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of our output has gone (`logmon ... | head`): that is
        // how pipelines end, not an error.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("logmon: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}
