//! imds-lint finds requests to the EC2 instance metadata service that do not use an IMDSv2
//! token. The layers, each in its own module: front ends cut host files into shell fragments with
//! offset maps; the shell analysis finds requests and token flow; rules turn requests into
//! findings; reporters format findings.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

pub mod ansible;
pub mod baseline;
pub mod check;
pub mod cli;
pub mod config;
pub mod fix;
pub mod fragment;
pub mod frontend;
pub mod fuzzing;
pub mod links;
pub mod model;
pub mod powershell;
pub mod python;
pub mod redact;
pub mod report;
pub mod rules;
pub mod scan;
pub mod shell;
pub mod source;
pub mod suppress;
pub mod syntax;
pub mod walk;
