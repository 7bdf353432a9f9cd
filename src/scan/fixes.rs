//! `--fix` and `--diff` over a whole run: every file with a fix it may apply is fixed to a fixed
//! point (`crate::fix::converge`), in rounds with the pass across files between them, so that a
//! setting whose boot script (in another file) a round fixed gets its own fix in the next one.
//! Then the fixed files are written (atomically, never outside their root; `crate::fix::write`
//! says what else it keeps and refuses) or left for the caller to show as diffs. Each file's
//! report is replaced by what is left. Fixes that do not converge, rounds that keep changing
//! files, files not written and what a written file could not keep are said as diagnostics (of
//! kind `Warning`: everything was analysed).

use super::{across, Diagnostic, DiagnosticKind, Results};
use crate::check::CheckSettings;
use crate::fix::{self, converge, Applicability};

/// How many rounds of fixing, each followed by the pass across files.
pub const MAX_ROUNDS: usize = 4;

/// What the run asks of fixes.
#[derive(Debug, Clone, Copy)]
pub struct FixMode {
    /// Apply unsafe fixes too (`--unsafe-fixes`).
    pub unsafe_fixes: bool,
    /// Write the fixed files (`--fix`); otherwise they are only computed (`--diff`).
    pub write: bool,
}

/// A file the fixes changed.
#[derive(Debug)]
pub struct FileFix {
    pub path: std::path::PathBuf,
    pub original: Vec<u8>,
    pub fixed: Vec<u8>,
    /// Standard input: never written; the caller echoes it.
    pub stdin: bool,
    /// How many findings the fixes removed.
    pub findings_fixed: usize,
}

/// What the fixes of a run did.
#[derive(Debug, Default)]
pub struct FixReport {
    /// The files changed (and, with `write`, written), in the order of the results.
    pub files: Vec<FileFix>,
    /// How many findings there were before fixing.
    pub findings_before: usize,
}

/// Fixes the files of `results` as `mode` says, writes them when asked, and leaves in `results`
/// the files that still have findings, with their reports as they are now.
///
/// A fix in one file may depend on fixes in others: a setting is set to require tokens only once
/// the boot scripts in other files send them. So the files that declare settings are written
/// last, and when a write fails (outside the root, permission denied, disk full), every file not
/// yet written is fixed again from its bytes on disk with the failed file left as it is, before
/// anything more is written: no setting is ever written that relies on a fix that was not.
pub fn apply(results: &mut Results, settings: &CheckSettings, mode: FixMode) -> FixReport {
    let findings_before: usize = results.files.iter().map(|c| c.report.findings.len()).sum();
    let before: Vec<usize> = results
        .files
        .iter()
        .map(|c| c.report.findings.len())
        .collect();
    // The bytes on disk (as read) of every file, and which files must not change any more: those
    // written, and those whose write failed.
    let mut on_disk: Vec<Vec<u8>> = results
        .files
        .iter()
        .map(|c| c.report.source.bytes.clone())
        .collect();
    let mut frozen = vec![false; results.files.len()];
    let mut written: Vec<usize> = Vec::new();
    loop {
        rounds(results, settings, mode, &frozen);
        if !mode.write {
            break;
        }
        let Some(failed) = write_changed(results, &mut on_disk, &mut frozen, &mut written) else {
            break;
        };
        // Fix again, without the failed file's fixes, every file not yet written.
        for (index, checked) in results.files.iter_mut().enumerate() {
            let original = on_disk.get(index).cloned().unwrap_or_default();
            if (index == failed || !frozen.get(index).copied().unwrap_or(true))
                && checked.report.source.bytes != original
            {
                let outcome = checked.check(original, settings);
                checked.take(outcome);
            }
        }
        across::relink(settings, results);
    }
    let mut report = FixReport {
        files: Vec::new(),
        findings_before,
    };
    for (index, checked) in results.files.iter().enumerate() {
        let Some(original) = on_disk.get(index) else {
            continue;
        };
        let fixed = &checked.report.source.bytes;
        if fixed == original || (mode.write && !checked.stdin && !written.contains(&index)) {
            continue;
        }
        report.files.push(FileFix {
            findings_fixed: before
                .get(index)
                .copied()
                .unwrap_or_default()
                .saturating_sub(checked.report.findings.len()),
            path: checked.report.source.path.clone(),
            original: original.clone(),
            fixed: fixed.clone(),
            stdin: checked.stdin,
        });
    }
    results.say_internal_errors();
    results.files.retain(|c| !c.report.findings.is_empty());
    results.statistics.findings = results.files.iter().map(|c| c.report.findings.len()).sum();
    report
}

/// Writes the changed files not written yet, those that declare settings last; stops at the
/// first write that fails, says why, and returns its index. Every file written or failed is
/// frozen.
///
/// Two paths to one file (a link inside the root) are written once: the second path is written
/// already when its fixed bytes are the same. A file that changed on disk since it was read (a
/// second run fixed it, an editor saved it) is read again and reported as it is now.
fn write_changed(
    results: &mut Results,
    on_disk: &mut [Vec<u8>],
    frozen: &mut [bool],
    written: &mut Vec<usize>,
) -> Option<usize> {
    let mut order: Vec<usize> = (0..results.files.len())
        .filter(|i| !frozen.get(*i).copied().unwrap_or(true))
        .filter(|i| {
            results.files.get(*i).is_some_and(|c| {
                !c.stdin && on_disk.get(*i).is_some_and(|o| *o != c.report.source.bytes)
            })
        })
        .collect();
    // Stable: files in path order, settings after scripts.
    order.sort_by_key(|i| {
        results
            .files
            .get(*i)
            .is_some_and(|c| !c.summaries.is_empty())
    });
    for index in order {
        if let Some(slot) = frozen.get_mut(index) {
            *slot = true;
        }
        let (Some(checked), Some(original)) = (results.files.get(index), on_disk.get(index)) else {
            continue;
        };
        let path = checked.report.source.path.clone();
        let fixed = &checked.report.source.bytes;
        // The same file reached by another path that this run wrote already.
        let twin = written.iter().copied().find(|w| {
            results
                .files
                .get(*w)
                .is_some_and(|other| same_file(&other.report.source.path, &path))
        });
        if let Some(twin) = twin {
            let same = results
                .files
                .get(twin)
                .is_some_and(|other| other.report.source.bytes == *fixed);
            if same {
                written.push(index);
                continue;
            }
            let message = "the same file as another path of this scan, which was fixed differently; not fixed again".to_owned();
            results.diagnostics.push(Diagnostic::new(
                Some(path),
                DiagnosticKind::Warning,
                message,
            ));
            return Some(index);
        }
        match fix::write::write_atomically(&path, &checked.root, original, fixed) {
            // Written, with what of the file could not be kept (its owner, its mode).
            Ok(outcome) => {
                written.push(index);
                for message in outcome.warnings {
                    results.diagnostics.push(Diagnostic::new(
                        Some(path.clone()),
                        DiagnosticKind::Warning,
                        message,
                    ));
                }
            }
            Err(fix::write::WriteError::Changed) => {
                // Report what is on disk now, as it is; what relies on this file is fixed
                // again from it.
                let now = crate::source::read_regular(&path, results.max_file_size.max(1));
                let message = match &now {
                    Ok(_) => "changed on disk since it was read (by another run or an editor); not fixed, and reported as it is now".to_owned(),
                    Err(e) => format!("changed on disk since it was read, and cannot be read again ({e}); not fixed"),
                };
                if let (Ok(bytes), Some(slot)) = (now, on_disk.get_mut(index)) {
                    *slot = bytes;
                }
                results.diagnostics.push(Diagnostic::new(
                    Some(path),
                    DiagnosticKind::Warning,
                    message,
                ));
                return Some(index);
            }
            Err(e) => {
                results.diagnostics.push(Diagnostic::new(
                    Some(path),
                    DiagnosticKind::Warning,
                    e.to_string(),
                ));
                return Some(index);
            }
        }
    }
    None
}

/// Whether two paths lead to one file (same device and inode, links followed).
fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Fixes every file in memory, in rounds, except the `frozen` ones (by index into
/// `results.files`).
fn rounds(results: &mut Results, settings: &CheckSettings, mode: FixMode, frozen: &[bool]) {
    let allowed = |a: Applicability| a == Applicability::Safe || mode.unsafe_fixes;
    let mut settled = false;
    for _ in 0..MAX_ROUNDS {
        let mut changed = false;
        let mut unsettled = Vec::new();
        for (index, checked) in results.files.iter_mut().enumerate() {
            if frozen.get(index).copied().unwrap_or(false) {
                continue;
            }
            if !checked
                .report
                .findings
                .iter()
                .any(|f| f.fix.as_ref().is_some_and(|x| allowed(x.applicability)))
            {
                continue;
            }
            let start = checked.report.source.bytes.clone();
            let end = converge::to_fixed_point(
                &start,
                |bytes| checked.check(bytes, settings),
                |outcome| {
                    outcome.as_ref().map_or(Vec::new(), |outcome| {
                        outcome
                            .findings()
                            .iter()
                            .filter_map(|f| f.fix.as_ref())
                            .filter(|f| allowed(f.applicability))
                            .collect()
                    })
                },
            );
            if !end.converged {
                unsettled.push(checked.report.source.path.clone());
            }
            if end.bytes == start {
                continue;
            }
            let outcome = end
                .last
                .unwrap_or_else(|| checked.check(end.bytes.clone(), settings));
            if outcome.is_none() {
                // A check of the fixed bytes panicked: the file stays as it was.
                checked.take(None);
                continue;
            }
            checked.take(outcome);
            changed = true;
        }
        for path in unsettled {
            results.diagnostics.push(Diagnostic::new(
                Some(path),
                DiagnosticKind::Warning,
                format!(
                    "its fixes did not converge: they still changed the file after {} passes (a bug in imds-lint: please report it); the last pass is what --fix writes",
                    converge::MAX_PASSES
                ),
            ));
        }
        if !changed || !across::relink(settings, results) {
            settled = true;
            break;
        }
    }
    if !settled {
        results.diagnostics.push(Diagnostic::new(
            None,
            DiagnosticKind::Warning,
            format!(
                "fixes in one file still changed what other files report after {MAX_ROUNDS} rounds; what is left is reported as found"
            ),
        ));
    }
}
