//! The `imds-lint` binary: parses arguments, runs the CLI, and picks the exit status.

use std::process::ExitCode;

use clap::Parser;
use imds_lint::cli::{self, Args, Status};

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match cli::run(args) {
        Ok(Status::Clean) => ExitCode::SUCCESS,
        Ok(Status::Findings) => ExitCode::from(1),
        Ok(Status::Failure) => ExitCode::from(2),
        // A reader that went away (`imds-lint | head`) is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!(
                "imds-lint: error: {}",
                imds_lint::report::escape::line(&e.to_string())
            );
            ExitCode::from(2)
        }
    }
}
