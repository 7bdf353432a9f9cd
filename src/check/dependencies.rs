//! The dependency rules in one file: every package the front ends read is checked by each
//! selected dependency rule (IMDS020, IMDS021), and the finding points at its version string.
//! A package the rules know whose version the text does not give is counted, not reported.

use super::Checking;
use crate::model::dependency::Dependency;
use crate::model::fix::{Applicability, Edit, Fix};
use crate::model::{Finding, Severity};
use crate::rules::{self, DependencyContext};

/// The findings at the dependencies, and how many known packages had no version to judge.
pub(super) fn findings(checking: &Checking, dependencies: &[Dependency]) -> (Vec<Finding>, usize) {
    let view = checking.view;
    let mut out = Vec::new();
    let mut unresolved = 0;
    // A value read twice (an option in a script that is also a YAML value, read by both front
    // ends) is one place in the file: reported once.
    let mut seen = std::collections::HashSet::new();
    for dependency in dependencies {
        let context = DependencyContext { dependency };
        let selected = |r: &rules::Rule| checking.settings.rules.enabled(r);
        if rules::dependency_unresolved(dependency) {
            unresolved += 1;
        }
        for (entry, violation) in rules::check_dependency(&context, selected) {
            let rule = &entry.rule;
            if view.is_suppressed(
                checking.suppressions,
                rule.code,
                dependency.host,
                dependency.span,
            ) {
                continue;
            }
            let severity = checking
                .settings
                .severity_of(rule)
                .min(violation.severity.unwrap_or(Severity::Error));
            let span = view.to_file(dependency.host, dependency.span);
            if !seen.insert((rule.code, span.start, span.end)) {
                continue;
            }
            let (origin, decoded) = view.origin(dependency.host, dependency.span);
            out.push(Finding {
                rule,
                severity,
                span,
                message: violation.message,
                help: violation.help,
                fix: bump(checking, dependency, violation.bump.as_deref()),
                origin,
                decoded,
                related: Vec::new(),
            });
        }
    }
    (out, unresolved)
}

/// The unsafe fix that writes `bump` in place of the dependency's version string, when the host
/// holds exactly the requirement there.
fn bump(checking: &Checking, dependency: &Dependency, bump: Option<&str>) -> Option<Fix> {
    let bump = bump?;
    let view = checking.view;
    let span = dependency.span;
    let written = view.bytes(dependency.host).get(span.start.0..span.end.0)?;
    if written != dependency.requirement.as_bytes() {
        return None;
    }
    let fix = Fix {
        applicability: Applicability::Unsafe,
        message: format!(
            "raise `{}` to `{bump}` (unsafe: a newer version can change what the application does; update its lockfile with the ecosystem's own tool)",
            dependency.name
        ),
        edits: vec![Edit {
            span,
            content: bump.to_owned(),
        }],
    };
    view.lift(dependency.host, fix)
}
