//! `--format json-lines`: one JSON object per finding, one per line, with the same fields as a
//! finding of `--format json` (for streaming into `jq`, log pipelines and databases). Every line
//! is a finding: diagnostics (files not analysed) stay on stderr, since a line of another shape
//! would be read as a finding by a consumer that expects only those; `--fail-on-skipped` makes
//! them fail the run, and `--format json` lists them.

use std::io::{self, Write};

use super::json::JsonFinding;
use super::Report;

pub fn write(out: &mut impl Write, report: &Report) -> io::Result<()> {
    for finding in JsonFinding::all(report) {
        serde_json::to_writer(&mut *out, &finding).map_err(io::Error::other)?;
        writeln!(out)?;
    }
    Ok(())
}
