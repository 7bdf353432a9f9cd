//! `--format json-lines`: one JSON object per finding, one per line, with the same fields as a
//! finding of `--format json` (for streaming into `jq`, log pipelines and databases).

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
