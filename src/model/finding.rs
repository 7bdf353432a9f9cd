//! Findings: what a check says about one place in a file (its rule, severity, span in the file
//! on disk, message, fix, the layers the place sits in, other places it is about), and a file's
//! findings with its bytes, which reporters format.

use std::path::PathBuf;

use crate::model::fix::Fix;
use crate::model::rule::{Rule, Severity};
use crate::source::{FileSpan, LineColumn, SourceFile};

/// One step on the way from the file to the code a finding is in, outermost first: a container
/// (`{"layer": "k8s-secret", "key": "value"}`) or an encoding with the finding's position in the
/// decoded text (`{"layer": "base64", "line": 2, "column": 4}`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OriginEntry {
    pub layer: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
}

impl OriginEntry {
    pub fn layer(layer: &str) -> Self {
        OriginEntry {
            layer: layer.to_owned(),
            key: None,
            name: None,
            line: None,
            column: None,
        }
    }

    pub fn with_key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

/// One problem found in a file.
#[derive(Debug, Clone)]
pub struct Finding {
    pub rule: &'static Rule,
    pub severity: Severity,
    /// In the file on disk; for a request inside an encoded value, the whole value.
    pub span: FileSpan,
    pub message: String,
    pub help: String,
    /// With edits on the file on disk.
    pub fix: Option<Fix>,
    /// Empty for code written plainly in the file.
    pub origin: Vec<OriginEntry>,
    /// For a request inside an encoded value: the offending command as decoded, redacted.
    pub decoded: Option<String>,
    /// Other places the finding is about (the setting that requires tokens, the tokenless
    /// requests that keep a setting from requiring them), in this file or another.
    pub related: Vec<Related>,
}

/// A second place a finding points to, with what reporters need to show it without the file:
/// its path, position and the text of its first line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    pub path: PathBuf,
    pub span: FileSpan,
    /// 1-based line and column (in characters) of the span's start.
    pub line: usize,
    pub column: usize,
    /// The span's first line (decoded lossily, without its line break), or a window of it around
    /// the span when the line is long, and the span's byte range in that text (cut at its end).
    pub text: String,
    pub range: (usize, usize),
    pub message: String,
}

/// How many bytes of a long line a related place keeps on each side of its span (every
/// tokenless request of a script keeps one, so a one-line script of thousands must not copy the
/// line thousands of times).
const RELATED_WINDOW: usize = 160;

impl Related {
    pub fn at(source: &SourceFile, span: FileSpan, message: &str) -> Self {
        let position = source.position(span.start);
        let (line_start, line_end) = source.line_range(source.line_index(span.start));
        let from = span.start.0.saturating_sub(RELATED_WINDOW).max(line_start);
        let to = (span.end.0.max(span.start.0) + RELATED_WINDOW).min(line_end);
        let window = source.bytes.get(from..to.max(from)).unwrap_or_default();
        let lossy = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        let lossy_len = |end: usize| {
            let cut = end.clamp(from, to.max(from)) - from;
            lossy(window.get(..cut).unwrap_or_default()).len()
        };
        let range = (lossy_len(span.start.0), lossy_len(span.end.0));
        let text = lossy(window);
        Related {
            path: source.path.clone(),
            span,
            line: position.line,
            column: position.column,
            text,
            range: (range.0, range.1.max(range.0)),
            message: message.to_owned(),
        }
    }
}

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
