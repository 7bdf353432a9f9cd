//! The default format: miette's graphical report per finding, then a one-line summary (which
//! also counts the files not analysed, or analysed only in part).
//! Snippets are cut from the file's lines (decoded lossily) so that a file with invalid UTF-8 or
//! a huge file renders just the lines around the finding. Everything that comes from the scanned
//! files — paths, messages, snippet lines, decoded code — is shown through `escape`: miette
//! passes escape sequences in a snippet through to the terminal, so the snippet text it is
//! handed is already escaped, with the spans moved to match.

use std::fmt;
use std::io::{self, Write};
use std::path::Path;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError,
    MietteSpanContents, SourceCode, SourceSpan, SpanContents,
};

use super::{escape, FixState, Report};
use crate::model::FileReport;
use crate::model::Finding;
use crate::rules::Severity;

/// Lines of context shown around a finding.
const CONTEXT: usize = 1;

pub fn write(out: &mut impl Write, report: &Report, color: bool) -> io::Result<()> {
    write_findings(out, report, color)?;
    write_summary(out, report)
}

/// The findings without the summary line (`--quiet`).
pub fn write_findings(out: &mut impl Write, report: &Report, color: bool) -> io::Result<()> {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    // A terminal gets the rule's docs URL as a hyperlink on the code; a pipe gets it as text.
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_context_lines(CONTEXT)
        .with_links(color);
    for file in report.files {
        for finding in &file.findings {
            let rendered = Rendered::new(file, finding);
            let mut text = String::new();
            handler
                .render_report(&mut text, &rendered)
                .map_err(io::Error::other)?;
            write!(out, "{text}")?;
            if let Some(decoded) = &finding.decoded {
                writeln!(out, "  in: {}", escape::line(&origin_path(&finding.origin)))?;
                writeln!(out, "  decoded: {}", escape::line(decoded))?;
            }
            writeln!(out, "  {}", escape::line(&FixState::of(finding).describe()))?;
            writeln!(out)?;
        }
    }
    Ok(())
}

pub fn write_summary(out: &mut impl Write, report: &Report) -> io::Result<()> {
    let count = |severity| {
        report
            .files
            .iter()
            .flat_map(|f| &f.findings)
            .filter(|f| f.severity == severity)
            .count()
    };
    let (errors, warnings) = (count(Severity::Error), count(Severity::Warning));
    let scanned = plural(report.files_scanned, "file");
    let unanalysed = unanalysed(report);
    if errors + warnings == 0 {
        return writeln!(out, "No problems found ({scanned} scanned){unanalysed}.");
    }
    writeln!(
        out,
        "Found {} ({}, {}) in {} ({scanned} scanned){unanalysed}.",
        plural(errors + warnings, "problem"),
        plural(errors, "error"),
        plural(warnings, "warning"),
        plural(report.files.len(), "file"),
    )?;
    match super::fixable_line(report) {
        Some(line) => writeln!(out, "{line}"),
        None => Ok(()),
    }
}

/// `; 2 files not analysed, 1 partly analysed (see warnings)`, or nothing when every file was
/// analysed whole: a clean summary must not hide what was never looked at.
fn unanalysed(report: &Report) -> String {
    let (skipped, partly) = crate::model::diagnostic::unanalysed_files(report.diagnostics);
    let said = match (skipped, partly) {
        (0, 0) => return String::new(),
        (n, 0) => format!("{} not analysed", plural(n, "file")),
        (0, n) => format!("{} partly analysed", plural(n, "file")),
        (n, m) => format!("{} not analysed, {m} partly analysed", plural(n, "file")),
    };
    format!("; {said} (see warnings)")
}

/// `k8s-secret boot/value › base64 line 2, column 4`: how to reach decoded code.
fn origin_path(origin: &[crate::model::OriginEntry]) -> String {
    origin
        .iter()
        .map(|entry| {
            let mut text = entry.layer.clone();
            for detail in [&entry.name, &entry.key].into_iter().flatten() {
                text.push(' ');
                text.push_str(detail);
            }
            if let (Some(line), Some(column)) = (entry.line, entry.column) {
                text.push_str(&format!(" line {line}, column {column}"));
            }
            text
        })
        .collect::<Vec<_>>()
        .join(" › ")
}

pub(super) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The lines around a finding, standing in for the whole file, escaped for the terminal.
struct Excerpt {
    name: String,
    text: String,
    /// 0-based line number of the excerpt's first line in the file.
    first_line: usize,
    /// Where the labelled span starts in `text`, and its 0-based column in the file. Columns
    /// count characters of the file, as every other format does; they cannot be counted in
    /// `text`, which has escapes in it and may be a window of a long line.
    start: (usize, usize),
}

impl Excerpt {
    /// An excerpt of `lines` (each without its line break, the first being 0-based line
    /// `first_line` of the file), escaped, and the span in it from `start` to `end`, each given
    /// as (index into `lines`, byte offset in that line). The span starts at 0-based `column`.
    fn new(
        name: &Path,
        lines: &[String],
        first_line: usize,
        start: (usize, usize),
        end: (usize, usize),
        column: usize,
    ) -> (Self, SourceSpan) {
        let mut text = String::new();
        let (mut span_start, mut span_end) = (0, 0);
        for (i, line) in lines.iter().enumerate() {
            // A span offset inside the escaped line: the length of what precedes it, escaped.
            let escaped_at =
                |at: usize| text.len() + line.get(..at).map_or(at, |p| escape::line(p).len());
            if i == start.0 {
                span_start = escaped_at(start.1);
            }
            if i == end.0 {
                span_end = escaped_at(end.1);
            }
            text.push_str(&escape::line(line));
            text.push('\n');
        }
        let excerpt = Excerpt {
            name: escape::path(name),
            text,
            first_line,
            start: (span_start, column),
        };
        (
            excerpt,
            SourceSpan::from(span_start..span_end.max(span_start)),
        )
    }
}

impl SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner = self.text.read_span(span, before, after)?;
        // miette counts columns in bytes of the text it is given; the header shows ours.
        let column = if before == 0 && span.offset() == self.start.0 {
            self.start.1
        } else {
            inner.column()
        };
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line() + self.first_line,
            column,
            inner.line_count(),
        )))
    }
}

struct Rendered<'a> {
    finding: &'a Finding,
    excerpt: Excerpt,
    span: SourceSpan,
    /// The finding's other places (`Finding::related`), each shown with its own line.
    related: Vec<RelatedPlace<'a>>,
}

/// A second place a finding points to, as miette shows a related diagnostic: its line, labelled.
struct RelatedPlace<'a> {
    related: &'a crate::model::Related,
    excerpt: Excerpt,
    span: SourceSpan,
}

impl<'a> RelatedPlace<'a> {
    fn new(related: &'a crate::model::Related) -> Self {
        let (start, end) = related.range;
        let (excerpt, span) = Excerpt::new(
            &related.path,
            std::slice::from_ref(&related.text),
            related.line.saturating_sub(1),
            (0, start),
            (0, end),
            related.column.saturating_sub(1),
        );
        RelatedPlace {
            related,
            excerpt,
            span,
        }
    }
}

impl fmt::Debug for RelatedPlace<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RelatedPlace")
            .field("path", &self.related.path)
            .finish()
    }
}

impl fmt::Display for RelatedPlace<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "see {}:{}",
            escape::path(&self.related.path),
            self.related.line
        )
    }
}

impl std::error::Error for RelatedPlace<'_> {}

impl Diagnostic for RelatedPlace<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new("related location"))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(miette::Severity::Advice)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.excerpt)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(
            LabeledSpan::new_primary_with_span(
                Some(escape::line(&self.related.message).into_owned()),
                self.span,
            ),
        )))
    }
}

impl<'a> Rendered<'a> {
    fn new(file: &FileReport, finding: &'a Finding) -> Self {
        let source = &file.source;
        let start_line = source.line_index(finding.span.start);
        let end_line = source
            .line_index(crate::source::FileOffset(
                finding.span.end.0.saturating_sub(1),
            ))
            .max(start_line);
        let first = start_line.saturating_sub(CONTEXT);
        let last = (end_line + CONTEXT).min(source.line_count().saturating_sub(1));
        let mut lines = Vec::new();
        let (mut start, mut end) = ((0, 0), (0, 0));
        for (i, line) in (first..=last).enumerate() {
            let (line_start, line_end) = source.line_range(line);
            let bytes = source.bytes.get(line_start..line_end).unwrap_or_default();
            // An offset in the file as an offset in the line decoded lossily.
            let offset_in = |at: usize| {
                let cut = at.clamp(line_start, line_end) - line_start;
                String::from_utf8_lossy(bytes.get(..cut).unwrap_or_default()).len()
            };
            if line == start_line {
                start = (i, offset_in(finding.span.start.0));
            }
            if line == end_line {
                end = (i, offset_in(finding.span.end.0));
            }
            lines.push(String::from_utf8_lossy(bytes).into_owned());
        }
        let column = file.range(finding).0.column.saturating_sub(1);
        let (excerpt, span) = Excerpt::new(&source.path, &lines, first, start, end, column);
        Rendered {
            finding,
            excerpt,
            // Inside an encoded value the whole value is the span; underline only its start (the
            // decoded command is shown below the report).
            span: if finding.decoded.is_some() {
                let start = span.offset();
                SourceSpan::from(start..(start + 1).min(start + span.len()))
            } else {
                span
            },
            related: finding.related.iter().map(RelatedPlace::new).collect(),
        }
    }
}

impl fmt::Debug for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rendered")
            .field("code", &self.finding.rule.code)
            .finish()
    }
}

impl fmt::Display for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape::line(&self.finding.message))
    }
}

impl std::error::Error for Rendered<'_> {}

impl Diagnostic for Rendered<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(format!(
            "{} {}",
            self.finding.rule.code, self.finding.rule.name
        )))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.finding.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(escape::line(&self.finding.help)))
    }

    fn url<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(crate::rules::doc_url(self.finding.rule.code)))
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.excerpt)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(
            LabeledSpan::new_primary_with_span(
                Some(self.finding.rule.summary.to_owned()),
                self.span,
            ),
        )))
    }

    fn related<'b>(&'b self) -> Option<Box<dyn Iterator<Item = &'b dyn Diagnostic> + 'b>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(
            self.related.iter().map(|r| r as &'b dyn Diagnostic),
        ))
    }
}
