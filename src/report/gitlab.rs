//! `--format gitlab`: a GitLab Code Quality report, a JSON array of
//! `{description, check_name, fingerprint, severity, location: {path, lines: {begin}}}`. The
//! fingerprint does not depend on line numbers, so a finding that only moved is not reported as
//! fixed and new in a merge request. Diagnostics (a file not analysed) have no place in Code
//! Quality, whose issues are code on a line that degrades the merge request; they stay on stderr,
//! and `--fail-on-skipped` makes them fail the job.

use std::io::{self, Write};

use serde::Serialize;

use super::{ci_path, fingerprints, Report};
use crate::rules::Severity;

#[derive(Serialize)]
struct Issue<'a> {
    description: String,
    check_name: &'static str,
    fingerprint: String,
    severity: &'static str,
    location: IssueLocation<'a>,
}

#[derive(Serialize)]
struct IssueLocation<'a> {
    path: &'a str,
    lines: Lines,
}

#[derive(Serialize)]
struct Lines {
    begin: usize,
}

pub fn write(out: &mut impl Write, report: &Report) -> io::Result<()> {
    let mut issues = Vec::new();
    let paths: Vec<String> = report
        .files
        .iter()
        .map(|f| ci_path(&f.source.path))
        .collect();
    for (file, path) in report.files.iter().zip(&paths) {
        for (finding, fingerprint) in file.findings.iter().zip(fingerprints(file)) {
            let (start, _) = file.range(finding);
            issues.push(Issue {
                description: format!("{}: {}", finding.rule.code, finding.message),
                check_name: finding.rule.code,
                fingerprint,
                severity: match finding.severity {
                    Severity::Error => "major",
                    Severity::Warning => "minor",
                },
                location: IssueLocation {
                    path,
                    lines: Lines { begin: start.line },
                },
            });
        }
    }
    serde_json::to_writer_pretty(&mut *out, &issues).map_err(io::Error::other)?;
    writeln!(out)
}
