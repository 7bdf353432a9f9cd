//! Checking one file: classify, prefilter, cut into fragments, analyse, run the rules, map spans
//! back, apply suppressions. Everything here works on bytes already read; reading and walking live
//! in the CLI.

use std::path::PathBuf;
use std::sync::OnceLock;

use aho_corasick::AhoCorasick;

use crate::fix::{self, Fix, FixSettings, Target};
use crate::frontend;
use crate::rules::{self, Rule, Severity};
use crate::shell;
use crate::source::{FileSpan, SourceFile};
use crate::suppress::Suppressions;

/// Which rules run.
#[derive(Debug, Clone, Default)]
pub struct RuleSelection {
    /// Only these codes (all when empty).
    pub select: Vec<String>,
    /// Never these codes.
    pub ignore: Vec<String>,
}

impl RuleSelection {
    pub fn enabled(&self, rule: &Rule) -> bool {
        let named = |codes: &[String]| codes.iter().any(|c| c.eq_ignore_ascii_case(rule.code));
        (self.select.is_empty() || named(&self.select)) && !named(&self.ignore)
    }
}

/// Everything that decides what a check reports.
#[derive(Debug, Clone, Default)]
pub struct CheckSettings {
    pub rules: RuleSelection,
    pub fix: FixSettings,
}

/// One problem found in a file.
#[derive(Debug, Clone)]
pub struct Finding {
    pub rule: &'static Rule,
    pub severity: Severity,
    pub span: FileSpan,
    pub message: String,
    pub help: String,
    pub fix: Option<Fix>,
}

/// What became of one file.
#[derive(Debug)]
pub enum Outcome {
    /// Not a format any front end reads.
    NotRecognised,
    /// Recognised, but none of the endpoint spellings occur in it: never parsed.
    Prefiltered,
    /// Parsed and checked (possibly with no findings).
    Checked {
        source: SourceFile,
        findings: Vec<Finding>,
        /// A note for the user when part of the file could not be analysed.
        note: Option<String>,
    },
}

impl Outcome {
    pub fn findings(&self) -> &[Finding] {
        match self {
            Outcome::Checked { findings, .. } => findings,
            _ => &[],
        }
    }
}

/// Whether a file's first 8 KiB hold a NUL byte (then it is binary and skipped).
pub fn is_binary(bytes: &[u8]) -> bool {
    memchr::memchr(0, bytes.get(..8192).unwrap_or(bytes)).is_some()
}

fn prefilter() -> Option<&'static AhoCorasick> {
    static MATCHER: OnceLock<Option<AhoCorasick>> = OnceLock::new();
    MATCHER
        .get_or_init(|| {
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(shell::endpoint::prefilter_needles())
                .ok()
        })
        .as_ref()
}

/// Whether `bytes` may hold a metadata request at all.
pub fn may_reach_imds(bytes: &[u8]) -> bool {
    prefilter().is_none_or(|m| m.is_match(bytes))
}

/// Checks one file's bytes. `force_kind` reads the file with that front end whatever its name.
pub fn check_file(
    path: PathBuf,
    bytes: Vec<u8>,
    force_kind: Option<frontend::Kind>,
    settings: &CheckSettings,
) -> Outcome {
    let Some(kind) = force_kind.or_else(|| frontend::classify(&path, &bytes)) else {
        return Outcome::NotRecognised;
    };
    if !may_reach_imds(&bytes) {
        return Outcome::Prefiltered;
    }
    let source = SourceFile::new(path, bytes);
    let suppressions = Suppressions::parse(&source);
    let suppressed = |code: &str, span: FileSpan| {
        let first = source.line_index(span.start);
        let last = source.line_index(crate::source::FileOffset(span.end.0.saturating_sub(1)));
        suppressions.covers(code, first, last.max(first))
    };
    let mut findings = Vec::new();
    let mut notes = Vec::new();
    for fragment in frontend::fragments(kind, &source.bytes) {
        let analysis = shell::analyze(&fragment);
        if let Some(error) = &analysis.error {
            notes.push(error.clone());
        }
        let mut raised = Vec::new();
        for (index, request) in analysis.requests.iter().enumerate() {
            for (rule, violation) in rules::check(request, |r| settings.rules.enabled(r)) {
                if !suppressed(rule.code, request.span) {
                    raised.push((index, rule, violation));
                }
            }
        }
        let targets: Vec<Target> = raised
            .iter()
            .map(|(request, rule, _)| Target {
                request: *request,
                code: rule.code,
            })
            .collect();
        let fixes = fix::plan(&analysis, &targets, settings.fix);
        for ((index, rule, violation), fix) in raised.into_iter().zip(fixes) {
            let Some(request) = analysis.requests.get(index) else {
                continue;
            };
            findings.push(Finding {
                rule,
                severity: rule.severity,
                span: request.span,
                message: violation.message,
                help: violation.help,
                fix,
            });
        }
    }
    findings.sort_by_key(|f| (f.span.start, f.rule.code));
    findings.dedup_by(|a, b| a.span == b.span && a.rule.code == b.rule.code);
    Outcome::Checked {
        source,
        findings,
        note: (!notes.is_empty()).then(|| notes.join("; ")),
    }
}
