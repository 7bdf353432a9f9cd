//! The settings rules in one file: every setting the front ends declared and every `aws ec2`
//! call the shell analysis saw is completed with what the pass across files found of its boot
//! code, told how many tokenless requests that boot code makes, summarised for the migration
//! view, and checked by each selected setting rule. The rules that report at the boot code's
//! requests are also run for the settings of other files whose instances boot with this file's
//! requests.

use std::borrow::Cow;

use super::read::Declared;
use super::{Checking, SETTING_HERE, TOKENLESS_HERE};
use crate::fix;
use crate::fragment::{HostId, HostSpan};
use crate::model::links::Boot;
use crate::model::request::Request;
use crate::model::setting::{Containers, MetadataSetting, Resolved, Variable};
use crate::model::summary::SettingSummary;
use crate::model::{Finding, Note, Related, Severity};
use crate::rules::{self, Check, RequestViolation, SettingContext, SettingViolation, RULES};

/// The findings of the settings rules, one summary per setting, and a note for each setting
/// whose tokens value could not be read (an expression nothing statically known decides).
/// `fixable` says whether `--fix` rewrites the request at a span of a host.
pub(super) fn findings(
    checking: &Checking,
    mut declared: Vec<Declared>,
    fixable: &dyn Fn(HostId, HostSpan) -> bool,
    container_requests: &[Related],
    applications: &[Related],
) -> (Vec<Finding>, Vec<SettingSummary>, Vec<Note>) {
    // This file's requests from inside containers, then the other files'; the same for
    // application evidence.
    let container_requests: Vec<Related> = container_requests
        .iter()
        .chain(&checking.external.container_requests)
        .cloned()
        .collect();
    let applications: Vec<Related> = applications
        .iter()
        .chain(&checking.external.applications)
        .cloned()
        .collect();
    for (fragment, analysis) in checking.fragments.iter().zip(checking.analyses) {
        for call in analysis.aws_metadata() {
            declared.push(Declared {
                setting: call.setting(fragment.host),
                fragments: Vec::new(),
                hosts: Vec::new(),
                files: Vec::new(),
                in_broken_script: analysis.syntax_errors(),
            });
        }
    }
    let mut out = Vec::new();
    let mut summaries = Vec::new();
    let mut notes = Vec::new();
    for found in &declared {
        let boot = checking.external.boot(
            checking
                .view
                .to_file(found.setting.host, found.setting.anchor()),
        );
        let setting = completed(checking, found, boot);
        let code = BootCode::of(checking, found, &setting, boot);
        summaries.push(code.summary(checking, found, &setting, boot, fixable));
        out.extend(rule_findings(
            checking,
            found,
            &setting,
            &code,
            boot,
            &container_requests,
            &applications,
        ));
        notes.extend(unread_note(checking, &setting));
    }
    (out, summaries, notes)
}

/// A note for a setting whose tokens value is an expression that nothing known statically
/// decides: whether its instances allow IMDSv1 was not checked.
fn unread_note(checking: &Checking, setting: &MetadataSetting) -> Option<Note> {
    if setting.endpoint_disabled() {
        return None;
    }
    let value = setting.tokens.as_ref()?;
    let Resolved::Unknown(why) = value.expression.as_ref()?.resolve() else {
        return None;
    };
    let view = checking.view;
    let line = view
        .source
        .position(view.to_file(setting.host, value.span).start)
        .line;
    let name = setting.display();
    Some(Note::partly_analysed(format!(
        "line {line}: the `{}` of {name} could not be read ({why}); whether its instances allow IMDSv1 was not checked",
        value.key
    )))
}

/// The setting as the pass across files completes it: why some boot code stays unseen, and
/// whether containers run, when the front end could not tell because the user data is in files
/// it reads (a runtime named there, or all of it read and none named).
fn completed<'a>(
    checking: &Checking,
    found: &'a Declared,
    boot: Option<&Boot>,
) -> Cow<'a, MetadataSetting> {
    let mut setting = Cow::Borrowed(&found.setting);
    // Input variables: where a declaration of this file is, and those of other files.
    let view = checking.view;
    let host = setting.host;
    let here = |variable: &Variable| {
        let span = view.to_file(host, variable.span);
        format!(
            "{}:{}",
            view.source.path.display(),
            view.source.position(span.start).line
        )
    };
    let needs = [&setting.tokens, &setting.hop_limit, &setting.endpoint]
        .into_iter()
        .flatten()
        .filter_map(|v| v.expression.as_ref())
        .any(|e| {
            e.declaration.as_ref().is_some_and(|d| d.at.is_none())
                || (e.declaration.is_none() && e.variable.is_some())
        });
    if needs {
        let setting = setting.to_mut();
        for value in [
            &mut setting.tokens,
            &mut setting.hop_limit,
            &mut setting.endpoint,
        ]
        .into_iter()
        .flatten()
        {
            if let Some(declaration) = value
                .expression
                .as_mut()
                .and_then(|e| e.declaration.as_mut())
            {
                if declaration.at.is_none() {
                    declaration.at = Some(here(declaration));
                }
            }
        }
        let elsewhere = boot.map_or(&[][..], |b| &b.variables);
        setting.declare_variables(&|name| elsewhere.iter().find(|v| v.name == name).cloned());
    }
    let elsewhere = match boot {
        Some(boot) => boot.unread.clone(),
        None => setting.user_data.elsewhere.clone(),
    };
    if setting.user_data.unseen.is_none() && elsewhere.is_some() {
        setting.to_mut().user_data.unseen = elsewhere;
    }
    let linked_elsewhere = !found.files.is_empty() || !setting.user_data.symbols.is_empty();
    match boot {
        Some(boot) if !matches!(setting.containers, Containers::Yes(_)) => {
            if let Some(why) = &boot.containers {
                setting.to_mut().containers = Containers::Yes(why.clone());
            } else if linked_elsewhere
                && setting.containers == Containers::Unknown
                && setting.user_data.unseen.is_none()
            {
                setting.to_mut().containers = Containers::No;
            }
        }
        _ => {}
    }
    setting
}

/// The boot code of one setting's instances as this file and the pass across files show it.
struct BootCode<'a> {
    /// Every request of its user data in this file, with its host.
    requests: Vec<(HostId, &'a Request)>,
    /// The tokenless ones.
    tokenless: Vec<(HostId, &'a Request)>,
    /// Where each tokenless request is (`main.tf:5`), here and in other files.
    locations: Vec<String>,
    /// The same requests, to point at.
    places: Vec<Related>,
    /// Where the setting is (`main.tf:12`), and the same to point at.
    setting_location: String,
    setting_place: Related,
    /// How many tokenless requests other files add.
    remote: usize,
}

impl<'a> BootCode<'a> {
    fn of(
        checking: &Checking<'a>,
        found: &Declared,
        setting: &MetadataSetting,
        boot: Option<&Boot>,
    ) -> Self {
        let view = checking.view;
        let requests: Vec<(HostId, &Request)> = checking
            .fragments
            .iter()
            .zip(checking.analyses)
            .enumerate()
            .filter(|(i, (fragment, _))| {
                found.fragments.contains(i) || view.descends(fragment.host, &found.hosts)
            })
            .flat_map(|(_, (fragment, analysis))| {
                analysis.requests().iter().map(move |r| (fragment.host, r))
            })
            .collect();
        let tokenless: Vec<(HostId, &Request)> = requests
            .iter()
            .copied()
            .filter(|(_, r)| rules::tokenless_request::is_tokenless(r))
            .collect();
        let location = |host: HostId, span: HostSpan| {
            let at = view.to_file(host, span);
            format!(
                "{}:{}",
                view.source.path.display(),
                view.source.position(at.start).line
            )
        };
        let mut locations: Vec<String> = tokenless
            .iter()
            .map(|(host, r)| location(*host, r.span))
            .collect();
        let remote = boot.map_or(&[][..], |b| &b.tokenless);
        locations.extend(remote.iter().cloned());
        let mut places: Vec<Related> = tokenless
            .iter()
            .map(|(host, r)| Related::at(view.source, view.to_file(*host, r.span), TOKENLESS_HERE))
            .collect();
        places.extend(boot.map_or(&[][..], |b| &b.places).iter().cloned());
        let at = setting.anchor();
        BootCode {
            requests,
            tokenless,
            locations,
            places,
            setting_location: location(setting.host, at),
            setting_place: Related::at(view.source, view.to_file(setting.host, at), SETTING_HERE),
            remote: remote.len(),
        }
    }

    fn count(&self, test: fn(&Request) -> bool) -> usize {
        self.requests.iter().filter(|(_, r)| test(r)).count()
    }

    /// The setting as the migration view reports it.
    fn summary(
        &self,
        checking: &Checking,
        found: &Declared,
        setting: &MetadataSetting,
        boot: Option<&Boot>,
        fixable: &dyn Fn(HostId, HostSpan) -> bool,
    ) -> SettingSummary {
        let view = checking.view;
        let path = view.source.path.display().to_string();
        let mut summary = SettingSummary {
            path: path.clone(),
            line: view
                .source
                .position(view.to_file(setting.host, setting.anchor()).start)
                .line,
            resource: setting.kind.clone(),
            name: setting.name.clone(),
            http_tokens: setting.tokens.as_ref().and_then(|v| v.text.clone()),
            can_require: false,
            boot_scripts: if found.fragments.is_empty() && found.hosts.is_empty() {
                Vec::new()
            } else {
                vec![path]
            },
            tokenless_requests: self.tokenless.len() + self.remote,
            fixable: self
                .tokenless
                .iter()
                .filter(|(host, r)| fixable(*host, r.span))
                .count()
                + boot.map_or(0, |b| b.fixable),
            unseen: setting.user_data.unseen.clone(),
            applications: Vec::new(),
        };
        for script in boot.map_or(&[][..], |b| &b.scripts) {
            if !summary.boot_scripts.contains(script) {
                summary.boot_scripts.push(script.clone());
            }
        }
        summary.decide();
        summary
    }
}

/// How many container-side requests a finding points at (a repository may have many; the
/// message counts them all).
const MAX_CONTAINER_PLACES: usize = 3;

/// How many places of boot code (or settings booting a request) a finding points at: a boot
/// script with hundreds of requests, or a script booted by hundreds of instances, must not make a
/// finding of hundreds of places (the message counts them all).
const MAX_RELATED_PLACES: usize = 10;

/// Why a fix in a script with syntax errors is unsafe.
const SCRIPT_ERRORS: &str = "the script has syntax errors and was read only as far as it goes";

/// The findings of every selected setting rule on one setting: at the setting (with its fix),
/// and at the boot code's requests where the rule reports there.
fn rule_findings(
    checking: &Checking,
    found: &Declared,
    setting: &MetadataSetting,
    code: &BootCode,
    boot: Option<&Boot>,
    container_requests: &[Related],
    applications: &[Related],
) -> Vec<Finding> {
    let view = checking.view;
    let context = SettingContext {
        container_requests,
        applications,
        setting,
        tokenless_in_user_data: code.count(rules::tokenless_request::is_tokenless)
            + boot.map_or(0, |b| b.tokenless.len()),
        unassigned_in_user_data: code.count(rules::unassigned_token_variable::is_unassigned),
        setting_location: &code.setting_location,
        tokenless_locations: &code.locations,
    };
    let mut out = Vec::new();
    for (entry, violation) in rules::check_setting(&context, |r| checking.settings.rules.enabled(r))
    {
        let rule = &entry.rule;
        let severity = checking
            .settings
            .severity_of(rule)
            .min(violation.severity.unwrap_or(Severity::Error));
        // A snippet in documentation with no options block shows part of an object (its spot
        // options, its instance type), whose options the reader's own file sets: what it leaves
        // unset is not reported. One that writes the block, or a value wrong, still is.
        if severity <= Severity::Warning
            && setting.block.is_none()
            && checking.in_documentation(setting.host, setting.head)
        {
            continue;
        }
        for at in &violation.at_requests {
            let Some((host, request)) = code.tokenless.get(at.request) else {
                continue;
            };
            if let Some(finding) = checking.at_request(rule, severity, *host, request, at) {
                out.push(Finding {
                    related: vec![code.setting_place.clone()],
                    ..finding
                });
            }
        }
        if view.is_suppressed(
            checking.suppressions,
            rule.code,
            setting.host,
            violation.span,
        ) {
            continue;
        }
        let violation_points_at_containers = violation.points_at_container_requests;
        let mut finding = setting_finding(checking, setting, rule, severity, violation, code);
        if violation_points_at_containers {
            finding.related.extend(
                container_requests
                    .iter()
                    .take(MAX_CONTAINER_PLACES)
                    .cloned(),
            );
        }
        if found.in_broken_script {
            finding.fix = finding.fix.map(|fix| fix.made_unsafe(SCRIPT_ERRORS));
        }
        out.push(finding);
    }
    out
}

/// The finding at the setting itself, with the fix the rule asks for written through the hosts.
fn setting_finding(
    checking: &Checking,
    setting: &MetadataSetting,
    rule: &'static crate::model::Rule,
    severity: Severity,
    violation: SettingViolation,
    code: &BootCode,
) -> Finding {
    let view = checking.view;
    let (origin, decoded) = view.origin(setting.host, violation.span);
    let fix = violation
        .change
        .as_ref()
        .and_then(|change| fix::settings::plan(setting, change))
        .and_then(|fix| view.lift(setting.host, fix));
    // A resource with a syntax error in it or around it is not read reliably, nor fixed.
    let mut message = violation.message;
    if let Some(note) = view
        .unparsed_note(setting.host, setting.span)
        .or_else(|| view.unparsed_note(setting.host, violation.span))
    {
        message = format!("{message}; {note}");
    }
    Finding {
        rule,
        severity,
        span: view.to_file(setting.host, violation.span),
        message,
        help: violation.help,
        fix,
        origin,
        decoded,
        related: if violation.points_at_boot_code {
            code.places
                .iter()
                .take(MAX_RELATED_PLACES)
                .cloned()
                .collect()
        } else {
            Vec::new()
        },
    }
}

/// The findings at the requests of this file that boot instances whose setting, in another
/// file, a rule flags there (`External::booted_by`; IMDS012 for a setting that requires tokens);
/// the setting's own finding is in its file. One finding per request and rule, worded for the
/// first such setting, pointing at all of them.
pub(super) fn booted_findings(checking: &Checking) -> Vec<Finding> {
    let external = checking.external;
    let mut out = Vec::new();
    if external.booted_by.is_empty() {
        return out;
    }
    for entry in RULES {
        let Check::Setting(check) = entry.check else {
            continue;
        };
        if !checking.settings.rules.enabled(&entry.rule) {
            continue;
        }
        for (fragment, analysis) in checking.fragments.iter().zip(checking.analyses) {
            for request in analysis.requests() {
                if !rules::tokenless_request::is_tokenless(request) {
                    continue;
                }
                let span = checking.view.to_file(fragment.host, request.span);
                let here = format!(
                    "{}:{}",
                    checking.view.source.path.display(),
                    checking.view.source.position(span.start).line
                );
                let mut said = None;
                let mut related = Vec::new();
                for booted in external.booted_by.iter().filter(|b| b.request == span) {
                    let context = SettingContext {
                        setting: &booted.setting,
                        tokenless_in_user_data: 1,
                        unassigned_in_user_data: 0,
                        setting_location: &booted.location,
                        tokenless_locations: std::slice::from_ref(&here),
                        container_requests: &[],
                        applications: &[],
                    };
                    if let Some(at) = check(&context).and_then(|v| v.at_requests.into_iter().next())
                    {
                        said.get_or_insert(at);
                        if related.len() < MAX_RELATED_PLACES {
                            related.push(booted.place.clone());
                        }
                    }
                }
                let Some(at) = said else {
                    continue;
                };
                let severity = checking.settings.severity_of(&entry.rule);
                if let Some(finding) =
                    checking.at_request(&entry.rule, severity, fragment.host, request, &at)
                {
                    out.push(Finding { related, ..finding });
                }
            }
        }
    }
    out
}

impl Checking<'_> {
    /// Whether a span of a host lies in the file's documentation (a Markdown code block).
    fn in_documentation(&self, host: HostId, span: HostSpan) -> bool {
        let at = self.view.to_file(host, span);
        self.documentation.iter().any(|(h, d)| {
            let d = self.view.to_file(*h, *d);
            d.start <= at.start && at.end <= d.end
        })
    }

    /// A setting rule's finding at a request of the boot code (no fix, no related place yet),
    /// unless a marker suppresses it there.
    fn at_request(
        &self,
        rule: &'static crate::model::Rule,
        severity: Severity,
        host: HostId,
        request: &Request,
        at: &RequestViolation,
    ) -> Option<Finding> {
        if self
            .view
            .is_suppressed(self.suppressions, rule.code, host, request.span)
        {
            return None;
        }
        let (origin, decoded) = self.view.origin(host, request.span);
        Some(Finding {
            rule,
            severity,
            span: self.view.to_file(host, request.span),
            message: at.message.clone(),
            help: at.help.clone(),
            fix: None,
            origin,
            decoded,
            related: Vec::new(),
        })
    }
}
