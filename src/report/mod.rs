//! Reporters: each formats the findings of a finished scan, and nothing else.

pub mod concise;
pub mod human;
pub mod json;

use std::io::{self, Write};
use std::time::Duration;

use crate::check::Finding;
use crate::source::{LineColumn, SourceFile};

/// The findings of one file, with its bytes for positions and snippets.
#[derive(Debug)]
pub struct FileReport {
    pub source: SourceFile,
    pub findings: Vec<Finding>,
}

impl FileReport {
    /// Start and (exclusive) end of a finding, 1-based.
    pub fn range(&self, finding: &Finding) -> (LineColumn, LineColumn) {
        (
            self.source.position(finding.span.start),
            self.source.position(finding.span.end),
        )
    }
}

/// Counts gathered during a scan (`--statistics`).
#[derive(Debug, Default, Clone)]
pub struct Statistics {
    /// Files read from disk (or standard input).
    pub files_read: usize,
    /// Binary files skipped.
    pub binary: usize,
    /// Files no front end reads.
    pub not_recognised: usize,
    /// Recognised files without any endpoint spelling: never parsed.
    pub prefiltered: usize,
    /// Files parsed and checked.
    pub parsed: usize,
    pub findings: usize,
    pub elapsed: Duration,
}

impl Statistics {
    pub fn findings_reported(&self, files: &[FileReport]) -> usize {
        files.iter().map(|f| f.findings.len()).sum()
    }
}

/// Everything a reporter needs.
pub struct Report<'a> {
    pub files: &'a [FileReport],
    pub files_scanned: usize,
    pub statistics: &'a Statistics,
}

pub fn write_statistics(out: &mut impl Write, s: &Statistics) -> io::Result<()> {
    writeln!(out, "files walked:       {}", s.files_read)?;
    writeln!(out, "  binary (skipped): {}", s.binary)?;
    writeln!(out, "  not shell:        {}", s.not_recognised)?;
    writeln!(out, "  prefiltered out:  {}", s.prefiltered)?;
    writeln!(out, "  parsed:           {}", s.parsed)?;
    writeln!(out, "findings:           {}", s.findings)?;
    writeln!(out, "time:               {:.3}s", s.elapsed.as_secs_f64())
}
