//! Reporters: each formats the findings (and diagnostics) of a finished scan, and nothing else. What several
//! formats share lives here: paths as CI systems want them, stable fingerprints, XML escaping,
//! the diagnostic line; text from the scanned files is made safe to print in `escape`.

pub mod checkstyle;
pub mod concise;
pub mod diff;
pub mod escape;
pub mod github;
pub mod gitlab;
pub mod human;
pub mod json;
pub mod json_lines;
pub mod junit;
pub mod migration;
pub mod sarif;

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::{Component, Path};

use sha2::{Digest, Sha256};

use crate::model::{Applicability, Finding};
pub use crate::model::{Diagnostic, DiagnosticKind, FileReport, Statistics};

/// The project's home page.
pub const HOMEPAGE: &str = "https://github.com/imds-lint/imds-lint";

/// A path as CI systems resolve it against the repository: without leading `./` components.
pub fn ci_path(path: &Path) -> String {
    without_curdir(path).display().to_string()
}

/// `path` without its leading `./` components (unless that leaves nothing).
pub fn without_curdir(path: &Path) -> &Path {
    let mut components = path.components();
    let mut rest = components.as_path();
    while components.next() == Some(Component::CurDir) {
        rest = components.as_path();
    }
    if rest.as_os_str().is_empty() {
        path
    } else {
        rest
    }
}

/// One fingerprint per finding of `file`, in order, stable across runs and when lines move: the
/// SHA-256 of the rule code, the path, the flagged text with whitespace (and line continuations)
/// collapsed, and the index of this occurrence among findings of the same rule on the same text.
pub fn fingerprints(file: &FileReport) -> Vec<String> {
    let path = ci_path(&file.source.path);
    let mut order: Vec<usize> = (0..file.findings.len()).collect();
    order.sort_by_key(|&i| file.findings.get(i).map(|f| f.span));
    let mut seen: HashMap<(&str, String), usize> = HashMap::new();
    let mut prints = vec![String::new(); file.findings.len()];
    for i in order {
        let (Some(finding), Some(slot)) = (file.findings.get(i), prints.get_mut(i)) else {
            continue;
        };
        let text = flagged_text(file, finding);
        let occurrence = seen.entry((finding.rule.code, text.clone())).or_insert(0);
        let mut hasher = Sha256::new();
        let index = occurrence.to_string();
        for part in [finding.rule.code, &path, &text, &index] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part.as_bytes());
        }
        *occurrence += 1;
        *slot = hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
    }
    prints
}

/// The text of a finding's span, decoded lossily, with line continuations and runs of
/// whitespace collapsed to one space.
pub fn flagged_text(file: &FileReport, finding: &Finding) -> String {
    let bytes = file
        .source
        .bytes
        .get(finding.span.start.0..finding.span.end.0)
        .unwrap_or_default();
    let text = String::from_utf8_lossy(bytes)
        .replace("\\\r\n", " ")
        .replace("\\\n", " ");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Text for an XML attribute value: the five special characters escaped, line breaks and tabs as
/// character references (a parser would turn them into spaces), and the other control
/// characters (which XML 1.0 forbids even as references, or which a terminal showing the file
/// would obey) shown as [`escape::line`] shows them, as are U+FFFE and U+FFFF.
pub fn xml_attribute(text: &str) -> String {
    xml_escape(text, true)
}

/// Text for XML element content: as [`xml_attribute`], but line feeds and tabs stay as they are.
pub fn xml_text(text: &str) -> String {
    xml_escape(text, false)
}

fn xml_escape(text: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\'' if attribute => out.push_str("&apos;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\r' => out.push_str("&#13;"),
            '\n' | '\t' | '"' | '\'' => out.push(c),
            '\u{fffe}' | '\u{ffff}' => escape::push_visible(&mut out, c),
            c if escape::is_control(c) => escape::push_visible(&mut out, c),
            c => out.push(c),
        }
    }
    out
}

/// Everything a reporter needs.
pub struct Report<'a> {
    pub files: &'a [FileReport],
    pub files_scanned: usize,
    pub statistics: &'a Statistics,
    /// What the run said besides findings (files not analysed, fixes not written), in path order.
    pub diagnostics: &'a [Diagnostic],
    /// Whether a file not analysed fails the run (`--fail-on-skipped`): the machine formats then
    /// call such a diagnostic an error, and SARIF's run not successful.
    pub fail_on_skipped: bool,
    /// Whether the run was given `--unsafe-fixes` (so unsafe fixes are not hidden).
    pub unsafe_fixes: bool,
}

/// What a finding's fix means for the person who reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixState<'a> {
    /// `--fix` applies it.
    Safe,
    /// Only `--fix --unsafe-fixes` applies it, for this reason when its title says one.
    Unsafe(Option<&'a str>),
    /// No fix for this finding; `rule_has_fixes` says whether its rule fixes other cases.
    None { rule_has_fixes: bool },
}

impl<'a> FixState<'a> {
    pub fn of(finding: &'a Finding) -> Self {
        match &finding.fix {
            Some(fix) if fix.applicability == Applicability::Safe => FixState::Safe,
            Some(fix) => FixState::Unsafe(fix.unsafe_reason()),
            None => FixState::None {
                rule_has_fixes: finding.rule.fixable,
            },
        }
    }

    /// One line for a person: `fix available: run with --fix`, `unsafe fix, applied only with
    /// --fix --unsafe-fixes: WHY`, `no automatic fix: …`.
    pub fn describe(self) -> String {
        match self {
            FixState::Safe => "fix available: run with --fix".to_owned(),
            FixState::Unsafe(Some(why)) => {
                format!("unsafe fix, applied only with --fix --unsafe-fixes: {why}")
            }
            FixState::Unsafe(None) => {
                "unsafe fix, applied only with --fix --unsafe-fixes (see help)".to_owned()
            }
            FixState::None {
                rule_has_fixes: true,
            } => {
                "no automatic fix: none is certain to keep this case working (see help)".to_owned()
            }
            FixState::None {
                rule_has_fixes: false,
            } => "no automatic fix: this rule has none".to_owned(),
        }
    }

    /// A short tag for one-line formats: `[fix]`, `[unsafe fix]`, or nothing.
    pub fn tag(self) -> &'static str {
        match self {
            FixState::Safe => " [fix]",
            FixState::Unsafe(_) => " [unsafe fix]",
            FixState::None { .. } => "",
        }
    }
}

/// How many findings of `files` have a safe fix and how many an unsafe one.
pub fn fix_counts<'f>(files: impl IntoIterator<Item = &'f FileReport>) -> (usize, usize) {
    let mut counts = (0, 0);
    for finding in files.into_iter().flat_map(|f| &f.findings) {
        match FixState::of(finding) {
            FixState::Safe => counts.0 += 1,
            FixState::Unsafe(_) => counts.1 += 1,
            FixState::None { .. } => {}
        }
    }
    counts
}

/// `N hidden fixes can be enabled with the `--unsafe-fixes` option`, as ruff says it.
pub fn hidden_fixes(n: usize) -> String {
    format!(
        "{n} hidden fix{} can be enabled with the `--unsafe-fixes` option",
        if n == 1 { "" } else { "es" }
    )
}

/// The line after the summary that says what `--fix` would do (ruff's wording): `N fixable with
/// the `--fix` option (M hidden fixes can be enabled with the `--unsafe-fixes` option).`, or
/// `None` when no finding has a fix.
pub fn fixable_line(report: &Report) -> Option<String> {
    let (safe, unsafe_) = fix_counts(report.files);
    let (fixable, hidden) = if report.unsafe_fixes {
        (safe + unsafe_, 0)
    } else {
        (safe, unsafe_)
    };
    match (fixable, hidden) {
        (0, 0) => None,
        (0, hidden) => Some(format!("No fixes available ({}).", hidden_fixes(hidden))),
        (fixable, 0) => Some(format!("{fixable} fixable with the `--fix` option.")),
        (fixable, hidden) => Some(format!(
            "{fixable} fixable with the `--fix` option ({}).",
            hidden_fixes(hidden)
        )),
    }
}

impl Report<'_> {
    /// Whether what was said makes the run unsuccessful: a check that panicked, or, under
    /// `--fail-on-skipped`, a file not (wholly) analysed.
    pub fn is_error(&self, diagnostic: &Diagnostic) -> bool {
        diagnostic.is_internal_error() || (self.fail_on_skipped && diagnostic.kind.is_unanalysed())
    }

    /// The diagnostics about `path`.
    pub fn diagnostics_of<'d>(&'d self, path: &'d Path) -> impl Iterator<Item = &'d Diagnostic> {
        self.diagnostics
            .iter()
            .filter(move |d| d.path.as_deref() == Some(path))
    }
}

/// A diagnostic (a file not read, a fix not written) as one line for a person:
/// `imds-lint: warning: PATH: MESSAGE`. Under `--format github` diagnostics are workflow commands
/// instead ([`github::write_diagnostic`]).
pub fn write_diagnostic(
    out: &mut impl Write,
    path: Option<&Path>,
    message: &str,
) -> io::Result<()> {
    match path {
        Some(path) => writeln!(
            out,
            "imds-lint: warning: {}: {}",
            escape::path(path),
            escape::line(message)
        ),
        None => writeln!(out, "imds-lint: warning: {}", escape::line(message)),
    }
}

pub fn write_statistics(out: &mut impl Write, s: &Statistics) -> io::Result<()> {
    writeln!(out, "files walked:       {}", s.files_read)?;
    writeln!(out, "  binary (skipped): {}", s.binary)?;
    writeln!(out, "  not shell:        {}", s.not_recognised)?;
    writeln!(out, "  prefiltered out:  {}", s.prefiltered)?;
    writeln!(out, "  parsed:           {}", s.parsed)?;
    writeln!(out, "findings:           {}", s.findings)?;
    for (code, name, count) in &s.by_rule {
        writeln!(out, "  {code} {name:<26} {count}")?;
    }
    if s.dependencies_unresolved > 0 {
        writeln!(
            out,
            "SDKs and agents whose version no file gives (not checked): {}",
            s.dependencies_unresolved
        )?;
    }
    if s.untagged_blocks > 0 {
        writeln!(
            out,
            "untagged code blocks with a metadata address (not analysed): {}",
            s.untagged_blocks
        )?;
    }
    if let Some(baselined) = s.baselined {
        writeln!(out, "accepted by the baseline: {baselined}")?;
    }
    writeln!(out, "time:               {:.3}s", s.elapsed.as_secs_f64())?;
    if !s.front_ends.is_empty() {
        // Summed over worker threads: where the time goes, not how long the run took.
        writeln!(out, "  checks of parsed files, summed over threads:")?;
        let mut front_ends: Vec<_> = s.front_ends.iter().collect();
        front_ends.sort_by(|a, b| b.time.cmp(&a.time).then(a.name.cmp(b.name)));
        for f in front_ends {
            let plural = if f.files == 1 { "" } else { "s" };
            let name = format!("{} ({} file{plural})", f.name, f.files);
            writeln!(out, "    {name:<32} {:.3}s", f.time.as_secs_f64())?;
        }
    }
    writeln!(out, "  pass across files:  {:.3}s", s.across.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_paths_lose_leading_dot_slash_only() {
        assert_eq!(ci_path(Path::new("./a/b.sh")), "a/b.sh");
        assert_eq!(ci_path(Path::new("././a.sh")), "a.sh");
        assert_eq!(ci_path(Path::new("a/./b.sh")), "a/./b.sh");
        assert_eq!(ci_path(Path::new("../a.sh")), "../a.sh");
        assert_eq!(ci_path(Path::new("/abs/a.sh")), "/abs/a.sh");
        assert_eq!(ci_path(Path::new(".")), ".");
        assert_eq!(ci_path(Path::new("-")), "-");
    }

    #[test]
    fn xml_attributes_escape_quotes_and_keep_line_breaks() {
        assert_eq!(
            xml_attribute("a<b>&\"c\"'d'\n\t\r"),
            "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;&#10;&#9;&#13;"
        );
    }

    #[test]
    fn xml_text_keeps_quotes_and_line_feeds() {
        assert_eq!(xml_text("a<&>\"'\n\t"), "a&lt;&amp;&gt;\"'\n\t");
    }

    #[test]
    fn characters_xml_forbids_are_shown_escaped() {
        assert_eq!(
            xml_attribute("a\u{0}b\u{1b}c\u{fffe}"),
            "a\\x00b\\x1bc\\u{fffe}"
        );
        assert_eq!(xml_text("\u{7}"), "\\x07");
    }

    #[test]
    fn controls_a_terminal_obeys_are_shown_escaped_in_xml() {
        assert_eq!(
            xml_text("a\u{7f}b\u{9b}c\u{202e}d"),
            "a\\x7fb\\u{9b}c\\u{202e}d"
        );
    }

    #[test]
    fn diagnostics_are_one_line() {
        let mut out = Vec::new();
        write_diagnostic(
            &mut out,
            Some(Path::new("./x\n::stop-commands::pwned\n.yaml")),
            "cannot read:\r\u{1b}[2J",
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "imds-lint: warning: ./x\\n::stop-commands::pwned\\n.yaml: cannot read:\\r\\x1b[2J\n"
        );
    }
}
