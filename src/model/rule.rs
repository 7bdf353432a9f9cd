//! What a rule is, as a finding names it: code, name, default severity, whether `--fix` can
//! rewrite what it flags, and its documentation. The checks themselves live in `crate::rules`.

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A rule as findings and reporters name it: its code, name, severity and documentation.
/// (`crate::rules` pairs each with its check.)
#[derive(Debug)]
pub struct Rule {
    /// `IMDS` and three digits; stable, never reused.
    pub code: &'static str,
    /// Kebab-case, naming the bad pattern.
    pub name: &'static str,
    pub severity: Severity,
    /// Whether `--fix` can rewrite what it flags (see `crate::fix`).
    pub fixable: bool,
    /// One line: what the rule flags.
    pub summary: &'static str,
    /// Markdown with the headings checked by `tests::every_rule_is_documented`.
    pub doc: &'static str,
    /// The severity some of its findings get instead of `severity`, and when.
    pub lowered: Option<(Severity, &'static str)>,
}

impl Rule {
    /// Its severities as a table shows them: `error`, or `error, warning when …`.
    pub fn severities(&self) -> String {
        match self.lowered {
            Some((lowered, when)) => {
                format!("{}, {} {when}", self.severity.as_str(), lowered.as_str())
            }
            None => self.severity.as_str().to_owned(),
        }
    }
}
