//! The table of first versions that support IMDSv2 (`data/minimum-versions.toml`, read at
//! compile time and parsed once), and what the dependency rules (IMDS020, IMDS021) share: which
//! row a dependency matches, and how its requirement stands against the row's minimum. Adding a
//! row to the data file needs no code.

use std::sync::OnceLock;

use super::versions::{self, Flavor, Verdict, Version};
use crate::model::dependency::{Dependency, Ecosystem};
use crate::model::Severity;

/// The data file, as compiled in.
pub const DATA: &str = include_str!("../../data/minimum-versions.toml");

/// What a row is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// An AWS SDK (or the CLI): older versions never send a token.
    Sdk,
    /// A library that never speaks IMDSv2, or did only from some version.
    Library,
    /// An agent or an image.
    Agent,
}

/// One row of the table.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Row {
    pub rule: String,
    pub kind: Kind,
    pub ecosystem: Ecosystem,
    pub names: Vec<String>,
    /// The first version that supports IMDSv2 (absent when `never`).
    pub minimum: Option<String>,
    #[serde(default)]
    pub never: bool,
    pub product: String,
    /// What an older version does.
    pub says: Option<String>,
    pub source: String,
    pub checked: String,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    row: Vec<Row>,
}

/// The rows, parsed once; empty if the data file does not parse (a test makes sure it does).
pub fn rows() -> &'static [Row] {
    static ROWS: OnceLock<Vec<Row>> = OnceLock::new();
    ROWS.get_or_init(|| toml::from_str::<Table>(DATA).map_or_else(|_| Vec::new(), |t| t.row))
}

impl Row {
    /// Whether the row is about this package.
    pub fn matches(&self, ecosystem: Ecosystem, name: &str) -> bool {
        self.ecosystem == ecosystem && self.names.iter().any(|p| name_matches(ecosystem, p, name))
    }

    pub fn minimum_version(&self) -> Option<Version> {
        self.minimum
            .as_deref()
            .and_then(|m| Version::parse(m, Flavor::Other))
    }

    /// What an older version does, when the row says more than that it lacks IMDSv2.
    fn says_more(&self) -> String {
        self.says
            .as_deref()
            .map(|s| format!(": it {s}"))
            .unwrap_or_default()
    }

    /// What a version of a library that never supports IMDSv2 does.
    fn says_never(&self) -> &str {
        self.says.as_deref().unwrap_or("never supports IMDSv2")
    }
}

/// Whether `name` is what `pattern` names in `ecosystem` (a trailing `*` matches any rest).
fn name_matches(ecosystem: Ecosystem, pattern: &str, name: &str) -> bool {
    let normal = |s: &str| normalise(ecosystem, s);
    match pattern.strip_suffix('*') {
        Some(prefix) => normal(name).starts_with(&normal(prefix)),
        None => normal(name) == normal(pattern),
    }
}

/// A name as its registry compares names: PyPI ignores case and treats `-`, `_` and `.` alike
/// (PEP 503); NuGet, RubyGems (for our rows), Packagist and images ignore case.
fn normalise(ecosystem: Ecosystem, name: &str) -> String {
    match ecosystem {
        Ecosystem::Pypi => name.trim().to_ascii_lowercase().replace(['_', '.'], "-"),
        Ecosystem::Go | Ecosystem::Maven => name.trim().to_owned(),
        _ => name.trim().to_ascii_lowercase(),
    }
}

/// How qualifiers read in an ecosystem.
fn flavor(ecosystem: Ecosystem) -> Flavor {
    match ecosystem {
        Ecosystem::Npm | Ecosystem::Go | Ecosystem::Cargo | Ecosystem::Packagist => Flavor::Semver,
        _ => Flavor::Other,
    }
}

/// What a dependency rule found: the row, and how the requirement stands against it.
#[derive(Debug, Clone)]
pub struct Match {
    pub row: &'static Row,
    pub verdict: Verdict,
}

/// The rows of `rule` the dependency matches, each with its verdict; a `never` row flags every
/// version the text names, and a requirement whose versions are not known.
pub fn matches(rule: &str, dependency: &Dependency) -> Vec<Match> {
    rows()
        .iter()
        .filter(|row| row.rule == rule && row.matches(dependency.ecosystem, &dependency.name))
        .map(|row| {
            let allowed = versions::allowed(
                &dependency.requirement,
                dependency.syntax,
                flavor(dependency.ecosystem),
            );
            let verdict = match row.minimum_version() {
                _ if row.never => match allowed {
                    versions::Allowed::Exactly(v) => Verdict::Below(v),
                    _ => Verdict::AllBelow,
                },
                Some(minimum) => allowed.against(&minimum),
                None => Verdict::Unknown,
            };
            Match { row, verdict }
        })
        .collect()
}

/// The first match of `rule` that flags the dependency: the one with the lowest minimum (cloud-init
/// 19.4 "no IMDSv2" before 20.2 "falls back"), or a `never` row.
pub fn worst(rule: &str, dependency: &Dependency) -> Option<Match> {
    let mut flagged: Vec<Match> = matches(rule, dependency)
        .into_iter()
        .filter(|m| !matches!(m.verdict, Verdict::Supported | Verdict::Unknown))
        .collect();
    flagged.sort_by(|a, b| {
        let key = |m: &Match| (!m.row.never, m.row.minimum_version());
        key(a).cmp(&key(b))
    });
    flagged.into_iter().next()
}

/// Whether a dependency is one the table knows but whose version its text does not say (`*`,
/// a variable, a git reference): counted under `--statistics`, never reported.
pub fn unresolved(dependency: &Dependency) -> bool {
    let known = rows()
        .iter()
        .any(|row| !row.never && row.matches(dependency.ecosystem, &dependency.name));
    known
        && matches!(
            versions::allowed(
                &dependency.requirement,
                dependency.syntax,
                flavor(dependency.ecosystem)
            ),
            versions::Allowed::Unknown
        )
}

/// The message, help and severity (lowered to a warning for a range that also allows newer
/// versions) of a flagged match; `severity` is the rule's.
pub fn describe(
    found: &Match,
    dependency: &Dependency,
    severity: Severity,
    consequence: &str,
) -> (String, String, Option<Severity>) {
    let row = found.row;
    let name = &dependency.name;
    let minimum = row.minimum.as_deref().unwrap_or_default();
    let requirement = dependency.requirement.trim();
    let (message, lowered) = match &found.verdict {
        Verdict::Below(version) if row.never => (
            format!("`{name}` {} {}", version.text, row.says_never()),
            None,
        ),
        Verdict::Below(version) => (
            format!(
                "`{name}` {} is older than {minimum}, the first {} version that supports IMDSv2{}",
                version.text,
                row.product,
                row.says_more()
            ),
            None,
        ),
        Verdict::AllBelow if row.never => (
            format!("`{name}` {} {}", shown(requirement), row.says_never()),
            None,
        ),
        Verdict::AllBelow => (
            format!(
                "`{name}` {} allows only versions older than {minimum}, the first {} version that supports IMDSv2{}",
                shown(requirement),
                row.product,
                row.says_more()
            ),
            None,
        ),
        Verdict::SomeBelow { lowest } => (
            format!(
                "`{name}` {} allows versions older than {minimum} ({}), the first {} version that supports IMDSv2{}",
                shown(requirement),
                match lowest {
                    Some(lowest) => format!("from {}", lowest.text),
                    None => "any older one".to_owned(),
                },
                row.product,
                row.says_more()
            ),
            Some(Severity::Warning),
        ),
        Verdict::Supported | Verdict::Unknown => (String::new(), None),
    };
    let help = if row.never && row.ecosystem == Ecosystem::AgentOption {
        format!("{consequence}; change the option ({})", row.source)
    } else if row.never {
        format!("{consequence}; replace it ({})", row.source)
    } else {
        format!("{consequence}; require {minimum} or later ({})", row.source)
    };
    (message, help, lowered.filter(|l| *l < severity))
}

/// What to write in place of a dependency's version string to raise an exact pin below the
/// minimum to the minimum (`==1.9.0` → `==1.12.6`, `v1.20.0` → `v1.25.38`, `[1.11.100]` →
/// `[1.11.678]`): only for a manifest the project writes (never a lockfile, an install command
/// or an image), only for one version written with nothing after its numbers, and never for a
/// library that never supports IMDSv2.
pub fn bump(found: &Match, dependency: &Dependency) -> Option<String> {
    if found.row.never || dependency.declared != crate::model::dependency::Declared::Manifest {
        return None;
    }
    if !matches!(found.verdict, Verdict::Below(_)) {
        return None;
    }
    let minimum = found.row.minimum.as_deref()?;
    let requirement = dependency.requirement.as_str();
    let bytes = requirement.as_bytes();
    // The runs of digits and dots that start a number (not inside a word).
    let mut runs = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let starts = bytes.get(at).is_some_and(u8::is_ascii_digit)
            && (at == 0
                || bytes
                    .get(at - 1)
                    .is_some_and(|b| !b.is_ascii_alphanumeric() || *b == b'v' || *b == b'V'));
        if starts {
            let end = bytes
                .get(at..)?
                .iter()
                .position(|b| !(b.is_ascii_digit() || *b == b'.'))
                .map_or(bytes.len(), |p| at + p);
            runs.push((at, end));
            at = end;
        } else {
            at += 1;
        }
    }
    let [(start, end)] = runs.as_slice() else {
        return None;
    };
    // A qualifier after the numbers (`-beta`, `+incompatible`, `.Final`) is not rewritten.
    if bytes
        .get(*end)
        .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'_'))
    {
        return None;
    }
    Some(format!(
        "{}{minimum}{}",
        requirement.get(..*start)?,
        requirement.get(*end..)?
    ))
}

/// A requirement as a message shows it.
fn shown(requirement: &str) -> String {
    if requirement.is_empty() {
        "(any version)".to_owned()
    } else {
        format!("`{requirement}`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fragment::HostSpan;
    use crate::model::dependency::{Declared, Syntax};

    #[test]
    fn only_one_exact_version_in_a_manifest_is_bumped() {
        let dependency = |ecosystem, name: &str, requirement: &str, syntax, declared| Dependency {
            host: 0,
            ecosystem,
            name: name.to_owned(),
            requirement: requirement.to_owned(),
            syntax,
            span: HostSpan::new(0, requirement.len()),
            declared,
        };
        let bumped = |d: Dependency| worst("IMDS020", &d).and_then(|m| bump(&m, &d));
        let manifest = Declared::Manifest;
        assert_eq!(
            bumped(dependency(
                Ecosystem::Pypi,
                "boto3",
                "==1.9.0",
                Syntax::Pep440,
                manifest
            )),
            Some("==1.12.6".to_owned())
        );
        assert_eq!(
            bumped(dependency(
                Ecosystem::Go,
                "github.com/aws/aws-sdk-go",
                "v1.20.0",
                Syntax::Exact,
                manifest
            )),
            Some("v1.25.38".to_owned())
        );
        assert_eq!(
            bumped(dependency(
                Ecosystem::Maven,
                "com.amazonaws:aws-java-sdk-s3",
                "[1.11.100]",
                Syntax::Maven,
                manifest
            )),
            Some("[1.11.678]".to_owned())
        );
        assert_eq!(
            bumped(dependency(
                Ecosystem::Rubygems,
                "aws-sdk-core",
                "= 3.50.0",
                Syntax::Ruby,
                manifest
            )),
            Some("= 3.79.0".to_owned())
        );
        // Lockfiles are never edited; ranges and never-rows have no version to raise to.
        assert_eq!(
            bumped(dependency(
                Ecosystem::Pypi,
                "boto3",
                "1.9.0",
                Syntax::Exact,
                Declared::Lockfile
            )),
            None
        );
        assert_eq!(
            bumped(dependency(
                Ecosystem::Pypi,
                "boto3",
                ">=1.9.0",
                Syntax::Pep440,
                manifest
            )),
            None
        );
        assert_eq!(
            bumped(dependency(
                Ecosystem::Pypi,
                "boto",
                "==2.49.0",
                Syntax::Pep440,
                manifest
            )),
            None
        );
        // A qualifier after the numbers is not rewritten.
        assert_eq!(
            bumped(dependency(
                Ecosystem::Maven,
                "com.amazonaws:aws-java-sdk-s3",
                "1.11.100-SNAPSHOT",
                Syntax::Maven,
                manifest
            )),
            None
        );
    }

    #[test]
    fn the_table_parses_and_every_row_says_where_it_comes_from() {
        let table: Table = toml::from_str(DATA).expect("data/minimum-versions.toml parses");
        assert_eq!(rows().len(), table.row.len());
        assert!(table.row.len() >= 27, "{}", table.row.len());
        for row in &table.row {
            let what = format!("{:?} {:?}", row.ecosystem, row.names);
            assert!(row.rule == "IMDS020" || row.rule == "IMDS021", "{what}");
            assert_eq!(
                row.rule == "IMDS021",
                row.kind == Kind::Agent,
                "{what}: agents are IMDS021, SDKs and libraries IMDS020"
            );
            assert!(!row.names.is_empty(), "{what}");
            assert!(
                row.source.contains("https://"),
                "{what}: a source a reader can open"
            );
            assert!(!row.checked.trim().is_empty(), "{what}");
            assert!(!row.product.trim().is_empty(), "{what}");
            match (&row.minimum, row.never) {
                (Some(minimum), false) => assert!(
                    Version::parse(minimum, Flavor::Other).is_some(),
                    "{what}: {minimum}"
                ),
                (None, true) => {}
                _ => panic!("{what}: exactly one of `minimum` and `never`"),
            }
        }
    }

    /// The numbers of issue 16, row by row: the table says them and nothing else.
    #[test]
    fn the_minimums_are_the_documented_ones() {
        let minimum = |ecosystem, name: &str| -> Vec<String> {
            rows()
                .iter()
                .filter(|r| r.matches(ecosystem, name))
                .map(|r| r.minimum.clone().unwrap_or_else(|| "never".to_owned()))
                .collect()
        };
        let expected: &[(Ecosystem, &str, &[&str])] = &[
            (Ecosystem::Pypi, "awscli", &["1.16.289"]),
            (Ecosystem::Pypi, "botocore", &["1.13.25"]),
            (Ecosystem::Pypi, "Boto3", &["1.12.6"]),
            (
                Ecosystem::Maven,
                "com.amazonaws:aws-java-sdk-s3",
                &["1.11.678"],
            ),
            (
                Ecosystem::Maven,
                "com.amazonaws:aws-java-sdk",
                &["1.11.678"],
            ),
            (Ecosystem::Maven, "software.amazon.awssdk:s3", &["2.10.21"]),
            (Ecosystem::Npm, "aws-sdk", &["2.722.0"]),
            (Ecosystem::Go, "github.com/aws/aws-sdk-go", &["1.25.38"]),
            (Ecosystem::Go, "github.com/aws/aws-sdk-go-v2", &["0.19.0"]),
            (Ecosystem::Packagist, "aws/aws-sdk-php", &["3.147.7"]),
            (Ecosystem::Rubygems, "aws-sdk-core", &["3.79.0"]),
            (Ecosystem::Nuget, "awssdk.core", &["3.3.634.1"]),
            (Ecosystem::Cpp, "aws-sdk-cpp", &["1.7.229"]),
            (Ecosystem::Powershell, "AWSPowerShell", &["4.0.1.0"]),
            (Ecosystem::Pypi, "boto", &["never"]),
            (Ecosystem::Cargo, "rusoto_core", &["never"]),
            (Ecosystem::Pypi, "ec2_metadata", &["2.2.0"]),
            (Ecosystem::System, "cloud-init", &["19.4", "20.2"]),
            (Ecosystem::Image, "jtblin/kube2iam", &["0.13.0"]),
            (Ecosystem::System, "amazon-ssm-agent", &["2.3.814.0"]),
            (Ecosystem::Image, "amazon/amazon-ecs-agent", &["1.68.1"]),
            (Ecosystem::System, "codedeploy-agent", &["1.2.1"]),
            (Ecosystem::System, "amazon-ec2-utils", &["1.1"]),
            (Ecosystem::System, "amazon-ec2-net-utils", &["1.3"]),
            (Ecosystem::Image, "datadog/agent", &["7.64.0"]),
            (
                Ecosystem::Go,
                "github.com/newrelic/go-agent/v3",
                &["3.10.0"],
            ),
            (Ecosystem::System, "aws-kinesis-agent", &["2.0.0"]),
            (Ecosystem::System, "awscli", &["1.16.289"]),
        ];
        for (ecosystem, name, want) in expected {
            assert_eq!(minimum(*ecosystem, name), *want, "{ecosystem:?} {name}");
        }
        // Names of other packages, or of another ecosystem, match nothing.
        for (ecosystem, name) in [
            (Ecosystem::Npm, "boto3"),
            (Ecosystem::Pypi, "boto3-stubs"),
            (Ecosystem::Pypi, "botocore-stubs"),
            (Ecosystem::Npm, "@aws-sdk/client-s3"),
            (Ecosystem::Maven, "com.amazonaws:aws-lambda-java-core"),
            (Ecosystem::Go, "github.com/aws/aws-sdk-go-v2/config"),
            (Ecosystem::Cargo, "aws-config"),
            (Ecosystem::Image, "jtblin/kube2iam-fork"),
        ] {
            assert!(minimum(ecosystem, name).is_empty(), "{ecosystem:?} {name}");
        }
    }

    fn dependency(
        ecosystem: Ecosystem,
        name: &str,
        requirement: &str,
        syntax: Syntax,
    ) -> Dependency {
        Dependency {
            host: 0,
            ecosystem,
            name: name.to_owned(),
            requirement: requirement.to_owned(),
            syntax,
            span: HostSpan::new(0, 0),
            declared: Declared::Manifest,
        }
    }

    #[test]
    fn cloud_init_reports_the_lower_threshold_first() {
        let old = dependency(Ecosystem::System, "cloud-init", "19.1", Syntax::Exact);
        let found = worst("IMDS021", &old).unwrap();
        assert_eq!(found.row.minimum.as_deref(), Some("19.4"));
        let middle = dependency(Ecosystem::System, "cloud-init", "20.1", Syntax::Exact);
        assert_eq!(
            worst("IMDS021", &middle).unwrap().row.minimum.as_deref(),
            Some("20.2")
        );
        let new = dependency(Ecosystem::System, "cloud-init", "20.2", Syntax::Exact);
        assert!(worst("IMDS021", &new).is_none());
    }

    #[test]
    fn unresolved_only_for_known_packages() {
        assert!(unresolved(&dependency(
            Ecosystem::Npm,
            "aws-sdk",
            "*",
            Syntax::Npm
        )));
        assert!(!unresolved(&dependency(
            Ecosystem::Npm,
            "left-pad",
            "*",
            Syntax::Npm
        )));
        assert!(!unresolved(&dependency(
            Ecosystem::Npm,
            "aws-sdk",
            "2.1.0",
            Syntax::Npm
        )));
        assert!(!unresolved(&dependency(
            Ecosystem::Pypi,
            "boto",
            "",
            Syntax::Pep440
        )));
    }
}
