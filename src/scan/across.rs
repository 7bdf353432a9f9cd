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
    // Each linked file's index by its path, the first when two spellings are one path.
    let mut paths: std::collections::HashMap<PathBuf, usize> = std::collections::HashMap::new();
    for (i, (_, c)) in linked.iter().enumerate() {
        paths
            .entry(crate::walk::lexical(&c.report.source.path))
            .or_insert(i);
    }
    let named = |path: &Path| {
        let path = crate::walk::lexical(path);
        match paths.get(&path) {
            Some(&file) => crate::links::Named::File(file),
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
    let mut externals: std::collections::HashMap<usize, crate::model::links::External> =
        linked.into_iter().map(|(i, _)| i).zip(externals).collect();
    // The files for which what the others say changed, with it.
    let stale: Vec<&mut Checked> = results
        .files
        .iter_mut()
        .enumerate()
        .filter_map(|(index, checked)| {
            let external = externals.remove(&index)?;
            (checked.external != external).then(|| {
                checked.external = external;
                checked
            })
        })
        .collect();
    let changed = !stale.is_empty();
    recheck_all(stale, settings);
    results.statistics.findings = results.files.iter().map(|c| c.report.findings.len()).sum();
    changed
}

/// Checks each file again, on as many threads as there are cores: a repository of Terraform
/// modules may have every file linked to another.
fn recheck_all(mut stale: Vec<&mut Checked>, settings: &CheckSettings) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads <= 1 || stale.len() <= 1 {
        stale.into_iter().for_each(|c| c.recheck(settings));
        return;
    }
    let per_thread = stale.len().div_ceil(threads);
    std::thread::scope(|scope| {
        for chunk in stale.chunks_mut(per_thread) {
            scope.spawn(move || chunk.iter_mut().for_each(|c| c.recheck(settings)));
        }
    });
}
