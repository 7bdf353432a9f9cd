//! `--format json`: the machine contract, version 1.
//! `{"version": 1, "files_scanned": N, "findings": [{"path", "line", "column", "end_line",
//! "end_column", "rule", "severity", "message", "fix", "origin"?, "related"?}], "diagnostics":
//! [{"path", "kind", "message"}]}`, where `related` lists other places the finding is about
//! (`{"path", "line", "column", "message"}`: the setting that requires tokens, the tokenless
//! requests it would break) and `diagnostics` what the run said on stderr besides findings, with
//! its kind (`skipped`, `partly-analysed`, `warning`; `path` is null when it is about no path).
//! `--format json-lines` writes the same finding objects, one per line, and no diagnostics.

use std::io::{self, Write};

use serde::Serialize;

use super::Report;
use crate::model::Finding;
use crate::model::{Diagnostic, FileReport};

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    files_scanned: usize,
    findings: Vec<JsonFinding<'a>>,
    diagnostics: Vec<JsonDiagnostic<'a>>,
}

/// A file (or part of one) not analysed, or another warning of the run.
#[derive(Serialize)]
pub(super) struct JsonDiagnostic<'a> {
    path: Option<String>,
    kind: &'static str,
    message: &'a str,
}

impl<'a> JsonDiagnostic<'a> {
    pub(super) fn of(d: &'a Diagnostic) -> Self {
        JsonDiagnostic {
            path: d.path.as_ref().map(|p| p.display().to_string()),
            kind: d.kind.as_str(),
            message: &d.message,
        }
    }
}

/// One finding as the JSON contract spells it (shared with `json-lines`).
#[derive(Serialize)]
pub(super) struct JsonFinding<'a> {
    path: String,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    rule: &'static str,
    severity: &'static str,
    message: &'a str,
    fix: Option<JsonFix<'a>>,
    /// How to reach code inside an encoded value, outermost first (absent for plain code).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    origin: &'a [crate::model::OriginEntry],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related: Vec<JsonRelated<'a>>,
}

#[derive(Serialize)]
struct JsonRelated<'a> {
    path: String,
    line: usize,
    column: usize,
    message: &'a str,
}

#[derive(Serialize)]
struct JsonFix<'a> {
    applicability: crate::model::Applicability,
    message: &'a str,
    edits: Vec<JsonEdit<'a>>,
}

/// Byte offsets into the original file; `end` is exclusive.
#[derive(Serialize)]
struct JsonEdit<'a> {
    path: String,
    start: usize,
    end: usize,
    content: &'a str,
}

impl<'a> JsonFinding<'a> {
    pub(super) fn new(file: &FileReport, finding: &'a Finding) -> Self {
        let (start, end) = file.range(finding);
        JsonFinding {
            path: file.source.path.display().to_string(),
            line: start.line,
            column: start.column,
            end_line: end.line,
            end_column: end.column,
            rule: finding.rule.code,
            severity: finding.severity.as_str(),
            message: &finding.message,
            fix: finding.fix.as_ref().map(|fix| JsonFix {
                applicability: fix.applicability,
                message: &fix.message,
                edits: fix
                    .edits
                    .iter()
                    .map(|edit| JsonEdit {
                        path: file.source.path.display().to_string(),
                        start: edit.span.start.0,
                        end: edit.span.end.0,
                        content: &edit.content,
                    })
                    .collect(),
            }),
            origin: &finding.origin,
            related: finding
                .related
                .iter()
                .map(|r| JsonRelated {
                    path: r.path.display().to_string(),
                    line: r.line,
                    column: r.column,
                    message: &r.message,
                })
                .collect(),
        }
    }

    /// Every finding of a report, in order.
    pub(super) fn all(report: &Report<'a>) -> impl Iterator<Item = JsonFinding<'a>> + 'a {
        let files: &'a [FileReport] = report.files;
        files.iter().flat_map(|file| {
            file.findings
                .iter()
                .map(move |finding| JsonFinding::new(file, finding))
        })
    }
}

pub fn write(out: &mut impl Write, report: &Report) -> io::Result<()> {
    let document = Document {
        version: 1,
        files_scanned: report.files_scanned,
        findings: JsonFinding::all(report).collect(),
        diagnostics: report.diagnostics.iter().map(JsonDiagnostic::of).collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &document).map_err(io::Error::other)?;
    writeln!(out)
}
