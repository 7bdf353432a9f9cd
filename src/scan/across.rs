//! The pass across files: joins the link facts of the checked files (`crate::links`) into what
//! the other files say about each, and checks again, with it, every file for which that changed.

use std::path::{Path, PathBuf};

use super::{Checked, Results};
use crate::check::CheckSettings;

/// The pass across files: joins the link facts of the checked files (`crate::links`) into what
/// the other files say about each, and checks again, with it, every file for which that changed.
/// Returns whether any report changed.
pub(super) fn relink(settings: &CheckSettings, results: &mut Results) -> bool {
    let max_file_size = results.max_file_size;
    let linked: Vec<(usize, &Checked)> = results
        .files
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.links.is_empty())
        .collect();
    if linked.is_empty() {
        return false;
    }
    let paths: Vec<PathBuf> = linked
        .iter()
        .map(|(_, c)| crate::walk::lexical(&c.report.source.path))
        .collect();
    let named = |path: &Path| {
        let path = crate::walk::lexical(path);
        match paths.iter().position(|p| *p == path) {
            Some(file) => crate::links::Named::File(file),
            // Read and clean; read once more (it is one of the few files `file()` names) for the
            // container runtime it may start.
            None if results.read.contains(&path) => crate::links::Named::Clean {
                runtime: crate::source::read_regular(&path, max_file_size)
                    .ok()
                    .and_then(|bytes| crate::model::setting::container_runtime(&bytes)),
            },
            None => crate::links::Named::Unread,
        }
    };
    let files: Vec<crate::links::LinkFile> = linked
        .iter()
        .map(|(_, c)| crate::links::LinkFile {
            path: &c.report.source.path,
            links: &c.links,
            runtime: (!c.links.script.is_empty() || !c.links.script_requests.is_empty())
                .then(|| crate::model::setting::container_runtime(&c.report.source.bytes))
                .flatten(),
        })
        .collect();
    let externals = crate::links::link(&files, &named);
    let linked: Vec<usize> = linked.into_iter().map(|(i, _)| i).collect();
    let mut changed = false;
    for (index, external) in linked.into_iter().zip(externals) {
        let Some(checked) = results.files.get_mut(index) else {
            continue;
        };
        if checked.external == external {
            continue;
        }
        checked.external = external;
        checked.recheck(settings);
        changed = true;
    }
    results.statistics.findings = results.files.iter().map(|c| c.report.findings.len()).sum();
    changed
}
