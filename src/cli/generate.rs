//! Shell completion scripts and the man page, generated from the clap definition in `args.rs` so
//! that they never drift from the flags the binary accepts.

use std::io::{self, Write};

use clap::CommandFactory;
use clap_complete::Shell;

use super::{Args, Status};

/// Prints the completion script for `shell` (`imds-lint completions SHELL`).
pub fn completions(shell: Shell) -> io::Result<Status> {
    // Rendered into memory first: clap_complete panics on a failed write, and a closed pipe is
    // an `io::Error` for `main` to judge.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Args::command(), "imds-lint", &mut script);
    io::stdout().lock().write_all(&script)?;
    Ok(Status::Clean)
}

/// Prints the man page in roff (`imds-lint man`).
pub fn man_page() -> io::Result<Status> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Args::command()).render(&mut page)?;
    io::stdout().lock().write_all(&page)?;
    Ok(Status::Clean)
}
