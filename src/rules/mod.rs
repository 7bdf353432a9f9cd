//! The rules: each reads the request model from the shell analysis and says what is wrong. This
//! file is the table of all rules (code, name, severity, documentation); each rule lives in its own
//! file with its documentation and its tests.

pub mod token_request_not_put;
pub mod token_ttl_invalid;
pub mod tokenless_request;
pub mod unassigned_token_variable;

use crate::shell::request::Request;

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

/// What a rule found in one request: the message (what is wrong) and help (what to do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub message: String,
    pub help: String,
}

/// One row of the rules table.
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
    pub check: fn(&Request) -> Option<Violation>,
}

/// Every rule, by code.
pub static RULES: &[Rule] = &[
    tokenless_request::RULE,
    token_request_not_put::RULE,
    token_ttl_invalid::RULE,
    unassigned_token_variable::RULE,
];

pub fn by_code(code: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.code.eq_ignore_ascii_case(code))
}

/// Headings every rule's documentation has, in this order.
pub const DOC_HEADINGS: &[&str] = &[
    "## What it does",
    "## Why is this bad?",
    "## Example",
    "## Use instead",
    "## Fix safety",
    "## How to suppress",
    "## Known limitations",
    "## References",
];

/// Runs every selected rule over one request.
pub fn check(
    request: &Request,
    selected: impl Fn(&Rule) -> bool,
) -> Vec<(&'static Rule, Violation)> {
    RULES
        .iter()
        .filter(|rule| selected(rule))
        .filter_map(|rule| (rule.check)(request).map(|v| (rule, v)))
        .collect()
}

/// The header to add to a client's command line, as help text shows it.
pub(crate) fn token_header_option(client: crate::shell::request::Client) -> &'static str {
    match client {
        crate::shell::request::Client::Curl => r#"-H "X-aws-ec2-metadata-token: $TOKEN""#,
        crate::shell::request::Client::Wget => r#"--header="X-aws-ec2-metadata-token: $TOKEN""#,
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Runs a rule over a one-line snippet, for the rules' own tests.
    use super::*;
    use crate::fragment::Fragment;

    pub fn codes(snippet: &str) -> Vec<&'static str> {
        let analysis = crate::shell::analyze(&Fragment::script(snippet.as_bytes()));
        analysis
            .requests
            .iter()
            .flat_map(|r| check(r, |_| true))
            .map(|(rule, _)| rule.code)
            .collect()
    }

    pub fn flags(code: &str, snippet: &str) -> bool {
        codes(snippet).contains(&code)
    }

    /// The fenced shell block under a heading of a rule's documentation.
    pub fn doc_block(doc: &str, heading: &str) -> Option<String> {
        let after = doc.split(heading).nth(1)?;
        let start = after.find("```sh\n")? + 6;
        let end = after.get(start..)?.find("```")? + start;
        after.get(start..end).map(str::to_owned)
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    #[test]
    fn codes_are_well_formed_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for rule in RULES {
            assert!(
                rule.code.len() == 7
                    && rule.code.starts_with("IMDS")
                    && rule.code[4..].chars().all(|c| c.is_ascii_digit()),
                "{}",
                rule.code
            );
            assert!(seen.insert(rule.code), "{} twice", rule.code);
            assert!(
                rule.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '-'),
                "{}",
                rule.name
            );
            assert!(seen.insert(rule.name), "{} twice", rule.name);
        }
    }

    #[test]
    fn every_rule_is_documented() {
        for rule in RULES {
            let mut at = 0;
            for heading in DOC_HEADINGS {
                let found = rule.doc[at..].find(heading);
                assert!(
                    found.is_some(),
                    "{} lacks {heading:?} (or out of order)",
                    rule.code
                );
                at += found.unwrap_or(0) + heading.len();
            }
        }
    }

    /// Every rule has fixture cases that expect it; a fixable rule has a hand-written `.fixed`
    /// case, and a rule declared unfixable never gets a fix.
    #[test]
    fn every_rule_has_fixtures_and_fix_cases_match_the_table() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut files = Vec::new();
        let mut stack = vec![root];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    files.push(path);
                }
            }
        }
        let expects = |path: &std::path::Path, code: &str| {
            let text = String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned();
            text.lines()
                .any(|l| l.contains("# expect") && l.contains(code))
        };
        for rule in RULES {
            let positive = files
                .iter()
                .filter(|p| !p.to_string_lossy().ends_with(".fixed"))
                .any(|p| expects(p, rule.code));
            assert!(positive, "{} has no fixture that expects it", rule.code);
            let fixed_case = files.iter().any(|p| {
                let name = p.to_string_lossy();
                name.ends_with(".fixed") && {
                    let input = std::path::PathBuf::from(name.trim_end_matches(".fixed"));
                    std::fs::read(p).unwrap() != std::fs::read(&input).unwrap()
                        && expects(&input, rule.code)
                }
            });
            if rule.fixable {
                assert!(
                    fixed_case,
                    "{} is fixable but has no .fixed case",
                    rule.code
                );
            } else {
                let bad = doc_block(rule.doc, "## Example").unwrap();
                let analysis =
                    crate::shell::analyze(&crate::fragment::Fragment::script(bad.as_bytes()));
                let targets: Vec<crate::fix::Target> = (0..analysis.requests.len())
                    .map(|request| crate::fix::Target {
                        request,
                        code: rule.code,
                    })
                    .collect();
                let fixes = crate::fix::plan(&analysis, &targets, Default::default());
                assert!(
                    fixes.iter().all(Option::is_none),
                    "{} is not fixable but got a fix",
                    rule.code
                );
            }
        }
    }

    #[test]
    fn doc_examples_behave_as_they_say() {
        for rule in RULES {
            let bad = doc_block(rule.doc, "## Example").unwrap_or_default();
            let good = doc_block(rule.doc, "## Use instead").unwrap_or_default();
            assert!(flags(rule.code, &bad), "{}: example not flagged", rule.code);
            assert!(
                !codes(&good).contains(&rule.code),
                "{}: fixed example flagged",
                rule.code
            );
            assert!(
                codes(&good).is_empty(),
                "{}: fixed example has findings",
                rule.code
            );
        }
    }
}
