//! The rules: each reads a model — a request from the shell analysis (IMDS001–IMDS009), an
//! instance metadata setting (IMDS010–IMDS019, `crate::model::setting`), a dependency
//! (IMDS020–IMDS029, `crate::model::dependency`), or a suppression comment that does nothing
//! (IMDS090) — and says what is wrong. This
//! file is the table of all rules (code, name, severity, documentation); each rule lives in its own
//! file with its documentation and its tests.

pub mod agent_without_imdsv2;
pub mod hop_limit_above_one_without_containers;
pub mod hop_limit_too_low_for_containers;
pub mod imds_v1_allowed;
pub mod minimum_versions;
pub mod required_tokens_break_boot;
pub mod sdk_without_imdsv2;
pub mod token_request_not_put;
pub mod token_ttl_invalid;
pub mod tokenless_request;
pub mod unassigned_token_variable;
pub mod unused_suppression;
pub mod versions;

pub use crate::model::rule::{Rule, Severity};

use crate::fix::settings::Change;
use crate::fix::RequestFix;
use crate::fragment::HostSpan;
use crate::model::dependency::Dependency;
use crate::model::request::Request;
use crate::model::setting::MetadataSetting;
use crate::model::Related;

/// What a rule found in one request: the message (what is wrong) and help (what to do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub message: String,
    pub help: String,
}

impl Violation {
    /// The violation as said of a request made from inside a container, where a token needs a
    /// hop limit of 2 to arrive (for the rules whose fix fetches or changes a token).
    pub fn from_container(mut self, in_container: bool) -> Self {
        if in_container {
            self.message
                .push_str(" (from a container: IMDSv2 also needs a hop limit of 2)");
            self.help.push_str(
                "; a container is one network hop further from IMDS, so the instance needs HttpPutResponseHopLimit 2 for the token to reach it",
            );
        }
        self
    }
}

/// A request rule's input: one request of the analysis, and where its code runs.
#[derive(Debug, Clone, Copy)]
pub struct RequestContext<'a> {
    pub request: &'a Request,
    /// Whether the code runs in a container (a Dockerfile, a pod), one network hop further from
    /// IMDS than the instance.
    pub in_container: bool,
}

/// A setting rule's input: the setting, and what this file shows of the boot code of its instances.
#[derive(Debug, Clone, Copy)]
pub struct SettingContext<'a> {
    pub setting: &'a MetadataSetting,
    /// Tokenless metadata requests (IMDS001) in the resource's user data as seen in this file.
    pub tokenless_in_user_data: usize,
    /// Requests there whose token variable nothing assigns (IMDS004): they may be tokenless.
    pub unassigned_in_user_data: usize,
    /// Where the setting's tokens field (or, without one, the resource) is: `main.tf:12`.
    pub setting_location: &'a str,
    /// Where each tokenless request in the boot code is (`main.tf:5`), in the order the check
    /// numbers them for [`RequestViolation::request`].
    pub tokenless_locations: &'a [String],
    /// Metadata requests made from inside containers off their instance's network, in this file
    /// and (through the pass across files) in the rest of the scan.
    pub container_requests: &'a [Related],
    /// Application evidence in this file and (through the pass across files) in the other files
    /// of its directory tree: dependency findings (IMDS020, IMDS021), packages too old for IMDSv2
    /// that would lose their credentials once tokens are required.
    pub applications: &'a [Related],
}

/// What a setting rule reports at one of the tokenless requests of its boot code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestViolation {
    /// Index into [`SettingContext::tokenless_locations`].
    pub request: usize,
    pub message: String,
    pub help: String,
}

/// What a setting rule found: where (in the setting's host), what is wrong, what to do, and the
/// change a fix would make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingViolation {
    pub span: HostSpan,
    pub message: String,
    pub help: String,
    /// Lower than the table's severity for this case (a setting left unset is a warning).
    pub severity: Option<Severity>,
    pub change: Option<Change>,
    /// Findings of the same rule at the boot code's requests (IMDS012).
    pub at_requests: Vec<RequestViolation>,
    /// Whether the finding points at the tokenless requests of the boot code as related places
    /// (its message names them, or they withhold its fix).
    pub points_at_boot_code: bool,
    /// Whether the finding points at the container-side requests of
    /// [`SettingContext::container_requests`] as related places (its message names them).
    pub points_at_container_requests: bool,
}

/// A dependency rule's input: one dependency a front end read.
#[derive(Debug, Clone, Copy)]
pub struct DependencyContext<'a> {
    pub dependency: &'a Dependency,
}

/// What a dependency rule found (at the dependency's version string).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DependencyViolation {
    pub message: String,
    pub help: String,
    /// Lower than the table's severity for this case (a range that also allows newer versions).
    pub severity: Option<Severity>,
    /// The first version that supports IMDSv2 (none for a library that never does).
    pub minimum: Option<String>,
    /// What to write in place of the version string to raise an exact pin to the minimum (an
    /// unsafe fix), when the rule offers one.
    pub bump: Option<String>,
}

/// A suppression rule's input: what one `# imds-lint disable` comment does not do.
#[derive(Debug, Clone, Copy)]
pub struct SuppressionContext<'a> {
    /// It names no code.
    pub bare: bool,
    /// The codes it names that are no rule.
    pub unknown: &'a [String],
    /// The codes it names, of rules the run enables, that suppressed nothing.
    pub unused: &'a [String],
}

/// How a rule checks: a request, a setting, a dependency, or a suppression comment.
#[derive(Debug, Clone, Copy)]
pub enum Check {
    Request(fn(&RequestContext) -> Option<Violation>),
    Setting(fn(&SettingContext) -> Option<SettingViolation>),
    Dependency(fn(&DependencyContext) -> Option<DependencyViolation>),
    Suppression(fn(&SuppressionContext) -> Option<Violation>),
}

/// One row of the rules table: what the rule is (as findings name it) and how it checks.
#[derive(Debug)]
pub struct Entry {
    pub rule: Rule,
    pub check: Check,
    /// For a request rule: the fix `crate::fix::plan` builds for what it flags, if any.
    pub fix: Option<RequestFix>,
}

/// Every rule, by code.
pub static RULES: &[Entry] = &[
    tokenless_request::RULE,
    token_request_not_put::RULE,
    token_ttl_invalid::RULE,
    unassigned_token_variable::RULE,
    imds_v1_allowed::RULE,
    hop_limit_too_low_for_containers::RULE,
    required_tokens_break_boot::RULE,
    hop_limit_above_one_without_containers::RULE,
    sdk_without_imdsv2::RULE,
    agent_without_imdsv2::RULE,
    unused_suppression::RULE,
];

/// Every rule, as findings name them, in the order of the table.
pub fn all() -> impl Iterator<Item = &'static Rule> {
    RULES.iter().map(|entry| &entry.rule)
}

pub fn by_code(code: &str) -> Option<&'static Rule> {
    all().find(|rule| rule.code.eq_ignore_ascii_case(code))
}

/// Where each rule's documentation page (`docs/rules/CODE.md`, generated by `doc_page`) is
/// published. Reporters link findings here (human output, SARIF `helpUri`).
const DOCS_BASE_URL: &str = "https://github.com/imds-lint/imds-lint/blob/main/docs/rules/";

/// The published documentation page of a rule.
pub fn doc_url(code: &str) -> String {
    format!("{DOCS_BASE_URL}{code}.md")
}

/// The page `docs/rules/CODE.md` holds for a rule: [`rule_page`] under a note saying where it
/// comes from.
pub fn doc_page(rule: &Rule) -> String {
    format!(
        "<!-- Generated from the rules table (src/rules/) by `UPDATE_DOCS=1 cargo test --test docs`; \
         edit the rule's documentation there, not this file. -->\n{}",
        // Request and setting rules flag their examples in code blocks imds-lint reads; the
        // others' examples (a manifest, a marker) are not read as they would be in their file.
        match RULES.iter().find(|entry| entry.rule.code == rule.code).map(|e| &e.check) {
            Some(Check::Request(_) | Check::Setting(_)) => quiet_examples(&rule_page(rule)),
            _ => rule_page(rule),
        }
    )
}

/// The line the published page has before each code block of its `## Example` section: the
/// examples show what the rule flags, and imds-lint reads Markdown code blocks.
pub const DOC_EXAMPLE_MARKER: &str = "<!-- imds-lint disable=ALL -->\n";

/// A page with [`DOC_EXAMPLE_MARKER`] before each opening fence of its `## Example` section.
fn quiet_examples(page: &str) -> String {
    let mut out = String::with_capacity(page.len() + 64);
    let (mut in_example, mut in_fence) = (false, false);
    for line in page.split_inclusive('\n') {
        if line.starts_with("## ") && !in_fence {
            in_example = line.trim_end() == "## Example";
        }
        if line.starts_with("```") {
            if in_example && !in_fence {
                out.push_str(DOC_EXAMPLE_MARKER);
            }
            in_fence = !in_fence;
        }
        out.push_str(line);
    }
    out
}

/// What `imds-lint rule CODE` prints: the rule's documentation with its table row (severities,
/// fix) after the title.
pub fn rule_page(rule: &Rule) -> String {
    let (title, body) = rule.doc.split_once('\n').unwrap_or((rule.doc, ""));
    format!(
        "{title}\n\n\
         | code | name | severity | fix | what it flags |\n\
         |---|---|---|---|---|\n\
         | {} | {} | {} | {} | {} |\n{body}",
        rule.code,
        rule.name,
        rule.severities(),
        if rule.fixable { "yes (`--fix`)" } else { "no" },
        rule.summary,
    )
}

/// The index page `docs/rules/README.md`: every rule, linked to its page.
pub fn doc_index() -> String {
    let mut page = String::from(
        "<!-- Generated from the rules table (src/rules/) by `UPDATE_DOCS=1 cargo test --test docs`; \
         do not edit. -->\n\
         # Rules\n\n\
         `imds-lint rule` lists them; `imds-lint rule CODE` prints a rule's page.\n\n\
         | code | name | severity | fix | what it flags |\n\
         |---|---|---|---|---|\n",
    );
    for rule in all() {
        page.push_str(&format!(
            "| [{code}]({code}.md) | {} | {} | {} | {} |\n",
            rule.name,
            rule.severities(),
            if rule.fixable { "yes" } else { "no" },
            rule.summary,
            code = rule.code,
        ));
    }
    page
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

/// Runs every selected request rule over one request.
pub fn check(
    context: &RequestContext,
    selected: impl Fn(&Rule) -> bool,
) -> Vec<(&'static Entry, Violation)> {
    run_selected(selected, |check| match check {
        Check::Request(check) => check(context),
        _ => None,
    })
}

/// Runs every selected setting rule over one setting.
pub fn check_setting(
    context: &SettingContext,
    selected: impl Fn(&Rule) -> bool,
) -> Vec<(&'static Entry, SettingViolation)> {
    run_selected(selected, |check| match check {
        Check::Setting(check) => check(context),
        _ => None,
    })
}

/// Runs every selected suppression rule over what one suppression comment does not do.
pub fn check_suppression(
    context: &SuppressionContext,
    selected: impl Fn(&Rule) -> bool,
) -> Vec<(&'static Entry, Violation)> {
    run_selected(selected, |check| match check {
        Check::Suppression(check) => check(context),
        _ => None,
    })
}

/// Runs every selected dependency rule over one dependency.
pub fn check_dependency(
    context: &DependencyContext,
    selected: impl Fn(&Rule) -> bool,
) -> Vec<(&'static Entry, DependencyViolation)> {
    run_selected(selected, |check| match check {
        Check::Dependency(check) => check(context),
        _ => None,
    })
}

/// The rules table's selected entries, each with what `run` says of its check (`None` for a
/// check of another kind, or nothing found), in table order: the one loop the four kinds of
/// check share.
fn run_selected<V>(
    selected: impl Fn(&Rule) -> bool,
    run: impl Fn(Check) -> Option<V>,
) -> Vec<(&'static Entry, V)> {
    RULES
        .iter()
        .filter(|entry| selected(&entry.rule))
        .filter_map(|entry| run(entry.check).map(|v| (entry, v)))
        .collect()
}

/// Whether a dependency is a package the dependency rules know whose version its text does not
/// give (`*`, a variable, a git reference): counted under `--statistics`, not reported.
/// The image names of the minimum-versions table (`jtblin/kube2iam`, `datadog/agent`), for the
/// prefilter: a manifest or Dockerfile that names one is read.
pub fn image_names() -> Vec<&'static str> {
    minimum_versions::rows()
        .iter()
        .filter(|row| row.ecosystem == crate::model::dependency::Ecosystem::Image)
        .flat_map(|row| row.names.iter().map(String::as_str))
        .collect()
}

pub fn dependency_unresolved(dependency: &Dependency) -> bool {
    minimum_versions::unresolved(dependency)
}

/// How many places a message names before it says how many more there are: a boot script with
/// hundreds of requests must not make a message of kilobytes.
const MAX_LISTED: usize = 5;

/// `a, b, c` — or the first [`MAX_LISTED`] and `and N more`.
pub(crate) fn listed(items: &[String]) -> String {
    match items.get(MAX_LISTED..) {
        Some(rest) if !rest.is_empty() => format!(
            "{} and {} more",
            items.get(..MAX_LISTED).unwrap_or_default().join(", "),
            rest.len()
        ),
        _ => items.join(", "),
    }
}

/// The header to add to a client's command line or call, as help text shows it.
pub(crate) fn token_header_option(client: crate::model::request::Client) -> &'static str {
    use crate::model::request::Client;
    match client {
        Client::Curl => r#"-H "X-aws-ec2-metadata-token: $TOKEN""#,
        Client::Wget => r#"--header="X-aws-ec2-metadata-token: $TOKEN""#,
        Client::Requests | Client::Urllib | Client::HttpClient | Client::Httpx | Client::Boto => {
            r#"headers={"X-aws-ec2-metadata-token": token}"#
        }
        Client::InvokeRestMethod | Client::InvokeWebRequest => {
            r#"-Headers @{"X-aws-ec2-metadata-token" = $token}"#
        }
        Client::WebClient => r#"$wc.Headers["X-aws-ec2-metadata-token"] = $token"#,
        Client::AnsibleUri | Client::AnsibleGetUrl => {
            r#"headers: {X-aws-ec2-metadata-token: "{{ token.content }}"}"#
        }
    }
}

/// The header to add to a token request, as help text shows it.
pub(crate) fn ttl_header_option(client: crate::model::request::Client) -> &'static str {
    use crate::model::request::Client;
    match client {
        Client::Curl => r#"-H "X-aws-ec2-metadata-token-ttl-seconds: 21600""#,
        Client::Wget => r#"--header="X-aws-ec2-metadata-token-ttl-seconds: 21600""#,
        Client::Requests | Client::Urllib | Client::HttpClient | Client::Httpx | Client::Boto => {
            r#"headers={"X-aws-ec2-metadata-token-ttl-seconds": "21600"}"#
        }
        Client::InvokeRestMethod | Client::InvokeWebRequest => {
            r#"-Headers @{"X-aws-ec2-metadata-token-ttl-seconds" = "21600"}"#
        }
        Client::WebClient => r#"$wc.Headers["X-aws-ec2-metadata-token-ttl-seconds"] = "21600""#,
        Client::AnsibleUri | Client::AnsibleGetUrl => {
            r#"headers: {X-aws-ec2-metadata-token-ttl-seconds: "21600"}"#
        }
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
            .flat_map(|request| {
                let context = RequestContext {
                    request,
                    in_container: false,
                };
                check(&context, |_| true)
            })
            .map(|(entry, _)| entry.rule.code)
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

    /// The first fenced block under a heading: its language and text.
    pub fn doc_example(doc: &str, heading: &str) -> Option<(String, String)> {
        let after = doc.split(heading).nth(1)?;
        let open = after.find("```")? + 3;
        let line_end = after.get(open..)?.find('\n')? + open;
        let language = after.get(open..line_end)?.trim().to_owned();
        let end = after.get(line_end + 1..)?.find("```")? + line_end + 1;
        Some((language, after.get(line_end + 1..end)?.to_owned()))
    }

    /// The findings of a file (named `name`) through the whole check, each with whether it offers
    /// a fix.
    pub fn file_findings(name: &str, text: &str) -> Vec<(&'static str, bool)> {
        let outcome = crate::check::check_file(
            std::path::PathBuf::from(name),
            text.as_bytes().to_vec(),
            None,
            &Default::default(),
        );
        outcome
            .findings()
            .iter()
            .map(|f| (f.rule.code, f.fix.is_some()))
            .collect()
    }

    /// The applicability of each finding of `code` in a file (`None`: no fix).
    pub fn fix_applicability(
        name: &str,
        text: &str,
        code: &str,
    ) -> Vec<Option<crate::fix::Applicability>> {
        let outcome = crate::check::check_file(
            std::path::PathBuf::from(name),
            text.as_bytes().to_vec(),
            None,
            &Default::default(),
        );
        outcome
            .findings()
            .iter()
            .filter(|f| f.rule.code == code)
            .map(|f| f.fix.as_ref().map(|fix| fix.applicability))
            .collect()
    }

    /// The findings of a setting rule's documentation example (`hcl`, `yaml` or `sh`).
    pub fn example_findings(doc: &str, heading: &str) -> Vec<(&'static str, bool)> {
        let (language, text) = doc_example(doc, heading).unwrap_or_default();
        let name = match language.as_str() {
            "hcl" => "example.tf",
            "yaml" => "example.yaml",
            "pip-requirements" => "requirements.txt",
            "go-mod" => "go.mod",
            "json" => "package.json",
            _ => "example.sh",
        };
        file_findings(name, &text)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn long_lists_of_places_are_cut_with_a_count() {
        let places: Vec<String> = (1..=7).map(|i| format!("boot.sh:{i}")).collect();
        assert_eq!(super::listed(&places[..1]), "boot.sh:1");
        assert_eq!(
            super::listed(&places[..5]),
            "boot.sh:1, boot.sh:2, boot.sh:3, boot.sh:4, boot.sh:5"
        );
        assert_eq!(
            super::listed(&places),
            "boot.sh:1, boot.sh:2, boot.sh:3, boot.sh:4, boot.sh:5 and 2 more"
        );
    }

    use super::testing::*;
    use super::*;

    #[test]
    fn codes_are_well_formed_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for entry in RULES {
            let rule = &entry.rule;
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
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{}",
                rule.name
            );
            assert!(seen.insert(rule.name), "{} twice", rule.name);
        }
    }

    #[test]
    fn every_rule_is_documented() {
        for entry in RULES {
            let rule = &entry.rule;
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
            // A sidecar (`NAME.expected`) lists `LINE:COLUMN CODE`, one finding a line.
            let sidecar = path.to_string_lossy().ends_with(".expected");
            text.lines().any(|l| {
                (l.contains("# expect") || (sidecar && !l.starts_with('#'))) && l.contains(code)
            })
        };
        for entry in RULES {
            let rule = &entry.rule;
            let positive = files
                .iter()
                .filter(|p| !p.to_string_lossy().ends_with(".fixed"))
                .any(|p| expects(p, rule.code));
            assert!(positive, "{} has no fixture that expects it", rule.code);
            let fixed_case = files.iter().any(|p| {
                let name = p.to_string_lossy();
                name.ends_with(".fixed") && {
                    // `NAME.fixed` (`--fix`) or `NAME.unsafe.fixed` (`--fix --unsafe-fixes`).
                    let input = std::path::PathBuf::from(
                        name.trim_end_matches(".fixed").trim_end_matches(".unsafe"),
                    );
                    // Its expectations are inline or in the input's sidecar.
                    let sidecar = std::path::PathBuf::from(format!("{}.expected", input.display()));
                    std::fs::read(p).unwrap() != std::fs::read(&input).unwrap()
                        && (expects(&input, rule.code)
                            || (sidecar.exists() && expects(&sidecar, rule.code)))
                }
            });
            if rule.fixable {
                assert!(
                    fixed_case,
                    "{} is fixable but has no .fixed case",
                    rule.code
                );
            } else if matches!(
                entry.check,
                Check::Setting(_) | Check::Dependency(_) | Check::Suppression(_)
            ) {
                let fixes = example_findings(rule.doc, "## Example")
                    .into_iter()
                    .any(|(code, fix)| code == rule.code && fix);
                assert!(!fixes, "{} is not fixable but got a fix", rule.code);
            } else {
                // An unfixable request rule names no fix, and its example gets none through the
                // whole check.
                assert!(
                    entry.fix.is_none(),
                    "{} is not fixable but names a fix",
                    rule.code
                );
                let bad = doc_block(rule.doc, "## Example").unwrap();
                let fixes = file_findings("example.sh", &bad)
                    .into_iter()
                    .any(|(code, fix)| code == rule.code && fix);
                assert!(!fixes, "{} is not fixable but got a fix", rule.code);
            }
            if matches!(entry.check, Check::Request(_)) {
                assert_eq!(
                    rule.fixable,
                    entry.fix.is_some(),
                    "{}: the table's `fixable` and the fix it names disagree",
                    rule.code
                );
            }
        }
    }

    #[test]
    fn doc_examples_behave_as_they_say() {
        for entry in RULES {
            let rule = &entry.rule;
            if matches!(
                entry.check,
                Check::Setting(_) | Check::Dependency(_) | Check::Suppression(_)
            ) {
                let bad = example_findings(rule.doc, "## Example");
                let good = example_findings(rule.doc, "## Use instead");
                assert!(
                    bad.iter().any(|(code, _)| *code == rule.code),
                    "{}: example not flagged: {bad:?}",
                    rule.code
                );
                assert!(
                    good.is_empty(),
                    "{}: fixed example has findings: {good:?}",
                    rule.code
                );
                continue;
            }
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
