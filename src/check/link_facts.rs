//! The link facts of one file in file coordinates (`crate::model::links::FileLinks`): what the
//! pass across files needs to join this file's settings, Secrets, scripts and named user data to
//! other files'.

use std::path::PathBuf;

use super::read::Read;
use super::{Checking, SETTING_HERE, TOKENLESS_HERE};
use crate::fragment::Fragment;
use crate::model::links::{
    BootData, Fact, FileLinks, LinkedSetting, NamedUserData, ObjectRef, Site,
};
use crate::model::setting::{container_runtime, MetadataSetting, Variable};
use crate::model::Related;
use crate::rules;
use crate::source::FileSpan;

/// What a related place says of a metadata request made from inside a container.
pub(super) const CONTAINER_REQUEST_HERE: &str =
    "a container, not on its instance's network, requests instance metadata here";

/// What a related place says of a request in a script that a container runs (the pass across
/// files says which).
const SCRIPT_REQUEST_HERE: &str =
    "a container runs this script, which requests instance metadata here";

/// The link facts of this file in file coordinates: the tokenless requests of each boot Secret
/// (and of the whole file when it is a script), the references of machine sets, and the settings
/// whose boot code may be in other files.
pub(super) fn file_links(checking: &Checking, read: &Read, is_script: bool) -> FileLinks {
    let (view, fragments, analyses) = (checking.view, checking.fragments, checking.analyses);
    let (facts, declared, defined) = (&read.facts, &read.declared, &read.defined);
    let mut links = FileLinks::default();
    // The tokenless requests of the fragments `keep` says (by index) belong.
    let sites = |keep: &dyn Fn(usize, &Fragment) -> bool| -> Vec<Site> {
        let mut sites = Vec::new();
        for (index, (fragment, analysis)) in fragments.iter().zip(analyses).enumerate() {
            if !keep(index, fragment) {
                continue;
            }
            for request in analysis.requests() {
                if !rules::tokenless_request::is_tokenless(request) {
                    continue;
                }
                let span = view.to_file(fragment.host, request.span);
                sites.push(Site {
                    span,
                    line: view.source.position(span.start).line,
                    fixable: false,
                    place: Related::at(view.source, span, TOKENLESS_HERE),
                });
            }
        }
        sites
    };
    if is_script {
        links.script = sites(&|_, _| true);
    }
    // Every request, and those made from inside a container.
    let container_side: Vec<FileSpan> = read
        .container_side
        .iter()
        .map(|(host, span)| view.to_file(*host, *span))
        .collect();
    for (fragment, analysis) in fragments.iter().zip(analyses) {
        for request in analysis.requests() {
            let span = view.to_file(fragment.host, request.span);
            if is_script {
                links
                    .script_requests
                    .push(Related::at(view.source, span, SCRIPT_REQUEST_HERE));
            }
            if request.in_container
                || container_side
                    .iter()
                    .any(|c| c.start <= span.start && span.end <= c.end)
            {
                links.container_requests.push(Related::at(
                    view.source,
                    span,
                    CONTAINER_REQUEST_HERE,
                ));
            }
        }
    }
    links.container_scripts = read.container_scripts.clone();
    links.documentation = !read.documentation.is_empty();
    links.declares_settings =
        !read.declared.is_empty() || analyses.iter().any(|a| !a.aws_metadata().is_empty());
    for definition in defined {
        let keep = |index: usize, fragment: &Fragment| {
            definition.fragments.contains(&index) || view.descends(fragment.host, &definition.hosts)
        };
        let text: Vec<u8> = fragments
            .iter()
            .enumerate()
            .filter(|(i, f)| keep(*i, f))
            .flat_map(|(_, f)| f.text.iter().copied())
            .collect();
        links.definitions.push(NamedUserData {
            symbol: definition.symbol.clone(),
            sites: sites(&keep),
            files: definition.files.clone(),
            runtime: container_runtime(&text),
        });
    }
    let linked = |setting: &MetadataSetting, object: Option<ObjectRef>, files: Vec<PathBuf>| {
        let span = view.to_file(setting.host, setting.anchor());
        LinkedSetting {
            object,
            files,
            symbols: setting.user_data.symbols.clone(),
            launched_as: setting.launched_as.clone(),
            variables: setting.undeclared_variables(),
            setting: setting.clone(),
            span,
            line: view.source.position(span.start).line,
            place: Related::at(view.source, span, SETTING_HERE),
        }
    };
    for (decoded, fact) in facts {
        match fact {
            Fact::Boot {
                object,
                fragments,
                embedded,
                unread,
            } => {
                let hosts: Vec<_> = decoded
                    .iter()
                    .filter(|(e, _)| embedded.contains(e))
                    .map(|(_, host)| *host)
                    .collect();
                let found = sites(&|i, f| fragments.contains(&i) || view.descends(f.host, &hosts));
                links.secrets.push(BootData {
                    object: object.clone(),
                    sites: found,
                    unread: unread.clone(),
                });
            }
            Fact::Machines { boot, infra } => links.machines.push((boot.clone(), infra.clone())),
            Fact::ContainerUser { template, user } => {
                links.container_users.push((template.clone(), user.clone()))
            }
            Fact::Infra { object, setting } => {
                if let Some(found) = declared.get(*setting) {
                    links
                        .settings
                        .push(linked(&found.setting, Some(object.clone()), Vec::new()));
                }
            }
        }
    }
    // Instances that take their tokens setting from a launch template: their own boot code is
    // the template's too.
    for found in declared.iter().filter(|d| d.setting.tokens.is_none()) {
        let Some(template) = &found.setting.launch_template else {
            continue;
        };
        let keep = |index: usize, fragment: &Fragment| {
            found.fragments.contains(&index) || view.descends(fragment.host, &found.hosts)
        };
        links.template_boots.push((template.clone(), sites(&keep)));
    }
    for found in declared.iter().filter(|d| {
        !d.files.is_empty()
            || !d.setting.user_data.symbols.is_empty()
            || d.setting.launched_as.is_some()
            || !d.setting.undeclared_variables().is_empty()
    }) {
        links
            .settings
            .push(linked(&found.setting, None, found.files.clone()));
    }
    links.variables = read
        .variables
        .iter()
        .map(|(host, variable)| {
            let span = view.to_file(*host, variable.span);
            Variable {
                at: Some(format!(
                    "{}:{}",
                    view.source.path.display(),
                    view.source.position(span.start).line
                )),
                ..variable.clone()
            }
        })
        .collect();
    links
}
