//! What a run says besides findings, with a kind the run can reason about: a file that was not
//! analysed at all, a file analysed only in part, or a plain warning (a fix that could not keep a
//! file's owner). Front ends and the analysis say it of what they were given ([`Note`]); the
//! check says it of the file; the run gives it a path ([`Diagnostic`]); `--fail-on-skipped`, the
//! human summary and the machine formats read the kind.

use std::path::PathBuf;

/// How much of a file (or of what a front end or the analysis was given) went unchecked.
/// Ordered from the most to the least that was missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DiagnosticKind {
    /// Not read or not analysed at all: nothing in it was checked.
    Skipped,
    /// Analysed, but some of it was not: a value that could not be decoded, code past a limit,
    /// lines around a syntax error.
    PartlyAnalysed,
    /// Everything was analysed; something else is worth saying (a fix could not keep an owner, a
    /// write failed, an ignore file was not honoured).
    Warning,
}

impl DiagnosticKind {
    /// The name the machine formats use: `skipped`, `partly-analysed`, `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            DiagnosticKind::Skipped => "skipped",
            DiagnosticKind::PartlyAnalysed => "partly-analysed",
            DiagnosticKind::Warning => "warning",
        }
    }

    /// Whether something went unchecked (what `--fail-on-skipped` fails on).
    pub fn is_unanalysed(self) -> bool {
        self != DiagnosticKind::Warning
    }

    /// The kind for the whole when this was said of a part of it: a part not analysed leaves
    /// the whole partly analysed.
    pub fn within(self) -> Self {
        match self {
            DiagnosticKind::Skipped => DiagnosticKind::PartlyAnalysed,
            other => other,
        }
    }
}

/// What is said of a file whose check panicked (a bug in imds-lint).
pub const INTERNAL_ERROR: &str =
    "internal error while checking this file (a bug in imds-lint: please report it); the scan went on";

/// A note about what a front end or the analysis was given (a host, a fragment, a file), without
/// a path: the check turns it into a note about the file, the run into a [`Diagnostic`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Note {
    pub kind: DiagnosticKind,
    pub message: String,
}

impl Note {
    /// Nothing of what was given was analysed.
    pub fn skipped(message: impl Into<String>) -> Self {
        Note {
            kind: DiagnosticKind::Skipped,
            message: message.into(),
        }
    }

    /// Some of what was given was not analysed.
    pub fn partly_analysed(message: impl Into<String>) -> Self {
        Note {
            kind: DiagnosticKind::PartlyAnalysed,
            message: message.into(),
        }
    }

    /// Said for the user to know; everything was analysed.
    pub fn warning(message: impl Into<String>) -> Self {
        Note {
            kind: DiagnosticKind::Warning,
            message: message.into(),
        }
    }

    /// The same note, said of the whole that what it was said of is a part of
    /// ([`DiagnosticKind::within`]).
    pub fn within(self) -> Self {
        Note {
            kind: self.kind.within(),
            message: self.message,
        }
    }
}

/// A problem with one file or path that does not stop the scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub path: Option<PathBuf>,
    pub kind: DiagnosticKind,
    pub message: String,
}

impl Diagnostic {
    /// Whether this says that checking the file panicked ([`INTERNAL_ERROR`]).
    pub fn is_internal_error(&self) -> bool {
        self.message == INTERNAL_ERROR
    }

    pub fn new(path: Option<PathBuf>, kind: DiagnosticKind, message: impl Into<String>) -> Self {
        Diagnostic {
            path,
            kind,
            message: message.into(),
        }
    }
}

/// How many files (distinct paths; each diagnostic without a path counts as one) were not
/// analysed, and how many more were analysed only in part.
pub fn unanalysed_files(diagnostics: &[Diagnostic]) -> (usize, usize) {
    // Each path's most missed kind, and the pathless ones one by one.
    let mut by_path: std::collections::BTreeMap<&PathBuf, DiagnosticKind> =
        std::collections::BTreeMap::new();
    let (mut skipped, mut partly) = (0, 0);
    for d in diagnostics.iter().filter(|d| d.kind.is_unanalysed()) {
        match &d.path {
            Some(path) => {
                let kind = by_path.entry(path).or_insert(d.kind);
                *kind = (*kind).min(d.kind);
            }
            None if d.kind == DiagnosticKind::Skipped => skipped += 1,
            None => partly += 1,
        }
    }
    for kind in by_path.values() {
        if *kind == DiagnosticKind::Skipped {
            skipped += 1;
        } else {
            partly += 1;
        }
    }
    (skipped, partly)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_skipped_leaves_the_whole_partly_analysed() {
        assert_eq!(
            Note::skipped("x").within().kind,
            DiagnosticKind::PartlyAnalysed
        );
        assert_eq!(DiagnosticKind::Warning.within(), DiagnosticKind::Warning);
    }

    #[test]
    fn files_are_counted_once_by_their_worst_kind() {
        let d = |path: Option<&str>, kind| Diagnostic::new(path.map(PathBuf::from), kind, "m");
        let diagnostics = [
            d(Some("a"), DiagnosticKind::PartlyAnalysed),
            d(Some("a"), DiagnosticKind::Skipped),
            d(Some("b"), DiagnosticKind::PartlyAnalysed),
            d(Some("b"), DiagnosticKind::PartlyAnalysed),
            d(Some("c"), DiagnosticKind::Warning),
            d(None, DiagnosticKind::Skipped),
            d(None, DiagnosticKind::Warning),
        ];
        assert_eq!(unanalysed_files(&diagnostics), (2, 1));
        assert_eq!(unanalysed_files(&[]), (0, 0));
    }
}
