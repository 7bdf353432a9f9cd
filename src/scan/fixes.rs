//! `--fix` and `--diff` over a whole run: every file with a fix it may apply is fixed to a fixed
//! point (`crate::fix::converge`), in rounds with the pass across files between them, so that a
//! setting whose boot script (in another file) a round fixed gets its own fix in the next one.
//! Then the fixed files are written (atomically, never outside their root; `crate::fix::write`
//! says what else it keeps and refuses) or left for the caller to show as diffs. Each file's
//! report is replaced by what is left. Fixes that do not converge, rounds that keep changing
//! files, files not written and what a written file could not keep are said as diagnostics.

use super::{across, Diagnostic, Results};
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
pub fn apply(results: &mut Results, settings: &CheckSettings, mode: FixMode) -> FixReport {
    let findings_before: usize = results.files.iter().map(|c| c.report.findings.len()).sum();
    let before: Vec<usize> = results
        .files
        .iter()
        .map(|c| c.report.findings.len())
        .collect();
    let originals = rounds(results, settings, mode);
    let mut report = FixReport {
        files: Vec::new(),
        findings_before,
    };
    for (index, original) in originals.into_iter().enumerate() {
        let (Some(original), Some(checked)) = (original, results.files.get_mut(index)) else {
            continue;
        };
        let path = checked.report.source.path.clone();
        let fixed = checked.report.source.bytes.clone();
        if fixed == original {
            continue;
        }
        if mode.write && !checked.stdin {
            match fix::write::write_atomically(&path, &checked.root, &original, &fixed) {
                // Written, with what of the file could not be kept (its owner, its mode).
                Ok(written) => {
                    results
                        .diagnostics
                        .extend(written.warnings.into_iter().map(|message| Diagnostic {
                            path: Some(path.clone()),
                            message,
                        }));
                }
                Err(e) => {
                    results.diagnostics.push(Diagnostic {
                        path: Some(path.clone()),
                        message: e.to_string(),
                    });
                    // Not written: report what is still on disk.
                    let outcome = checked.check(original, settings);
                    checked.take(&outcome);
                    continue;
                }
            }
        }
        report.files.push(FileFix {
            findings_fixed: before
                .get(index)
                .copied()
                .unwrap_or_default()
                .saturating_sub(checked.report.findings.len()),
            path,
            original,
            fixed,
            stdin: checked.stdin,
        });
    }
    results.files.retain(|c| !c.report.findings.is_empty());
    results.statistics.findings = results.files.iter().map(|c| c.report.findings.len()).sum();
    report
}

/// Fixes every file in memory, in rounds; returns the bytes each changed file had before the
/// first round, by index into `results.files`.
fn rounds(results: &mut Results, settings: &CheckSettings, mode: FixMode) -> Vec<Option<Vec<u8>>> {
    let allowed = |a: Applicability| a == Applicability::Safe || mode.unsafe_fixes;
    let mut originals: Vec<Option<Vec<u8>>> = vec![None; results.files.len()];
    let mut settled = false;
    for _ in 0..MAX_ROUNDS {
        let mut changed = false;
        let mut unsettled = Vec::new();
        for (index, checked) in results.files.iter_mut().enumerate() {
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
                    outcome
                        .findings()
                        .iter()
                        .filter_map(|f| f.fix.as_ref())
                        .filter(|f| allowed(f.applicability))
                        .collect()
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
            if let Some(slot) = originals.get_mut(index) {
                slot.get_or_insert(start);
            }
            checked.take(&outcome);
            changed = true;
        }
        for path in unsettled {
            results.diagnostics.push(Diagnostic {
                path: Some(path),
                message: format!(
                    "its fixes did not converge: they still changed the file after {} passes (a bug in imds-lint: please report it); the last pass is what --fix writes",
                    converge::MAX_PASSES
                ),
            });
        }
        if !changed || !across::relink(settings, results) {
            settled = true;
            break;
        }
    }
    if !settled {
        results.diagnostics.push(Diagnostic {
            path: None,
            message: format!(
                "fixes in one file still changed what other files report after {MAX_ROUNDS} rounds; what is left is reported as found"
            ),
        });
    }
    originals
}
