//! The request rules in one file: each request of each fragment's analysis is checked by every
//! selected request rule; the fixes the rules name are planned on the fragment and written back
//! through the hosts; suppression markers are honoured in the file and in decoded hosts.

use std::collections::HashSet;

use super::Checking;
use crate::fix::{Applicability, Target};
use crate::model::{Finding, OriginEntry, Related};
use crate::rules::{self, RequestContext};
use crate::source::FileSpan;

/// What a related place says: a call of the function whose arguments make the request.
const CALLED_HERE: &str = "called here with the metadata URL";

/// The findings of the request rules, and the file spans of the tokenless requests that `--fix`
/// rewrites (a safe fix), which the settings rules count.
pub(super) fn findings(checking: &Checking) -> (Vec<Finding>, HashSet<FileSpan>) {
    let (view, settings) = (checking.view, checking.settings);
    let mut findings = Vec::new();
    let mut safely_fixed = HashSet::new();
    for (fragment, analysis) in checking.fragments.iter().zip(checking.analyses) {
        let mut raised = Vec::new();
        for (index, request) in analysis.requests().iter().enumerate() {
            let context = RequestContext {
                request,
                in_container: fragment.in_container || request.in_container,
            };
            for (entry, violation) in rules::check(&context, |r| settings.rules.enabled(r)) {
                if !view.is_suppressed(
                    checking.suppressions,
                    entry.rule.code,
                    fragment.host,
                    request.span,
                ) {
                    raised.push((index, entry, violation));
                }
            }
        }
        let targets: Vec<Target> = raised
            .iter()
            .filter_map(|(request, entry, _)| {
                entry.fix.map(|fix| Target {
                    request: *request,
                    fix,
                })
            })
            .collect();
        let mut fixes = analysis.plan(&targets, settings.fix.clone()).into_iter();
        for (index, entry, violation) in raised {
            let Some(request) = analysis.requests().get(index) else {
                continue;
            };
            let fix = entry
                .fix
                .and_then(|_| fixes.next().flatten())
                .and_then(|fix| view.lift(fragment.host, fix));
            let span = view.to_file(fragment.host, request.span);
            if rules::tokenless_request::is_tokenless(request)
                && fix
                    .as_ref()
                    .is_some_and(|f| f.applicability == Applicability::Safe)
            {
                safely_fixed.insert(span);
            }
            let (mut origin, decoded) = view.origin(fragment.host, request.span);
            origin.extend(request.run_by.iter().map(|run_by| OriginEntry {
                key: run_by.key.clone(),
                name: run_by.name.clone(),
                ..OriginEntry::layer(run_by.layer)
            }));
            let mut message = violation.message;
            if let Some(note) = view.unparsed_note(fragment.host, request.span) {
                message = format!("{message}; {note}");
            }
            findings.push(Finding {
                rule: &entry.rule,
                severity: settings.severity_of(&entry.rule),
                span,
                message,
                help: violation.help,
                fix,
                origin,
                decoded,
                related: request
                    .calls
                    .iter()
                    .map(|&call| {
                        Related::at(view.source, view.to_file(fragment.host, call), CALLED_HERE)
                    })
                    .collect(),
            });
        }
    }
    (findings, safely_fixed)
}
