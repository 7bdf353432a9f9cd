//! `--fix` and `--diff` over a whole run: every file with a fix it may apply is fixed to a fixed
//! point (`crate::fix::converge`), in rounds with the pass across files between them, so that a
//! setting whose boot script (in another file) a round fixed gets its own fix in the next one.
//! Then the fixed files are written (atomically, never outside their root; `crate::fix::write`
//! says what else it keeps and refuses) or left for the caller to show as diffs. Each file's
//! report is replaced by what is left. Files not written and what a written file could not keep
//! are said as diagnostics, and so are fixes that do not converge (a pass that still changes the
//! file, rounds that keep changing what other files report): those are never written nor shown
//! as a diff; the file is left as it is on disk, with its findings, and the other files are fixed
//! again without it. All of these are diagnostics of kind `Warning` (everything was analysed).

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
/// anything more is written: no setting is ever written that relies on a fix that was not. A file
/// whose fixes do not converge is treated the same way, before anything is written.
pub fn apply(results: &mut Results, settings: &CheckSettings, mode: FixMode) -> FixReport {
    apply_within(results, settings, mode, Limits::default())
}

/// How long fixing may go on before it is said not to converge.
#[derive(Debug, Clone, Copy)]
struct Limits {
    /// Check-and-apply passes on one file in one round.
    passes: usize,
    /// Rounds, each followed by the pass across files.
    rounds: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            passes: converge::MAX_PASSES,
            rounds: MAX_ROUNDS,
        }
    }
}

/// [`apply`] within `limits` (tests give fewer passes or rounds, to reach what does not
/// converge).
fn apply_within(
    results: &mut Results,
    settings: &CheckSettings,
    mode: FixMode,
    limits: Limits,
) -> FixReport {
    let findings_before: usize = results.files.iter().map(|c| c.report.findings.len()).sum();
    let before: Vec<usize> = results
        .files
        .iter()
        .map(|c| c.report.findings.len())
        .collect();
    // The bytes on disk (as read) of every file, and which files must not change any more: those
    // written, those whose write failed, and those whose fixes did not converge.
    let mut on_disk: Vec<Vec<u8>> = results
        .files
        .iter()
        .map(|c| c.report.source.bytes.clone())
        .collect();
    let mut frozen = vec![false; results.files.len()];
    let mut written: Vec<usize> = Vec::new();
    loop {
        let unsettled = rounds(results, settings, mode, &frozen, limits);
        if unsettled.is_empty() {
            if !mode.write {
                break;
            }
            // Done, unless a write failed: then that file stays as it is on disk (frozen).
            if !write_changed(results, &mut on_disk, &mut frozen, &mut written) {
                break;
            }
        } else {
            // Fixes that do not converge are never written: the file stays as it is on disk.
            for index in unsettled {
                if let Some(slot) = frozen.get_mut(index) {
                    *slot = true;
                }
            }
        }
        // Fix again, without the fixes of the files left as they are, every file not yet
        // written.
        for (index, checked) in results.files.iter_mut().enumerate() {
            let original = on_disk.get(index).cloned().unwrap_or_default();
            if !written.contains(&index) && checked.report.source.bytes != original {
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
/// first write that fails, says why, and returns true. Every file written or failed is frozen.
///
/// Two paths to one file (a link inside the root) are written once: the second path is written
/// already when its fixed bytes are the same. A file that changed on disk since it was read (a
/// second run fixed it, an editor saved it) is read again and reported as it is now.
fn write_changed(
    results: &mut Results,
    on_disk: &mut [Vec<u8>],
    frozen: &mut [bool],
    written: &mut Vec<usize>,
) -> bool {
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
            return true;
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
                return true;
            }
            Err(e) => {
                results.diagnostics.push(Diagnostic::new(
                    Some(path),
                    DiagnosticKind::Warning,
                    e.to_string(),
                ));
                return true;
            }
        }
    }
    false
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
/// `results.files`). Returns the files whose fixes did not converge, each said in a diagnostic:
/// those a pass still changed after the last of `limits.passes` passes, or, when the rounds run out
/// with fixes still changing what other files report, those the last round changed. The caller
/// leaves them as they are.
fn rounds(
    results: &mut Results,
    settings: &CheckSettings,
    mode: FixMode,
    frozen: &[bool],
    limits: Limits,
) -> Vec<usize> {
    let allowed = |a: Applicability| a == Applicability::Safe || mode.unsafe_fixes;
    let mut last = Vec::new();
    for _ in 0..limits.rounds {
        let mut changed = Vec::new();
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
            let end = converge::to_fixed_point_within(
                &start,
                limits.passes,
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
                unsettled.push(index);
                continue;
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
            checked.take_fixed(outcome, end.bytes);
            changed.push(index);
        }
        if !unsettled.is_empty() {
            let message = format!(
                "its fixes did not converge: they still changed the file after {} passes (a bug in imds-lint: please report it); it is left as it is",
                limits.passes
            );
            say(results, &unsettled, &message);
            return unsettled;
        }
        if changed.is_empty() || !across::relink(settings, results) {
            return Vec::new();
        }
        last = changed;
    }
    let message = format!(
        "its fixes still changed what other files report after {} rounds of fixing (a bug in imds-lint: please report it); it is left as it is",
        limits.rounds
    );
    say(results, &last, &message);
    last
}

/// Says `message` about each file of `files` (by index into `results.files`).
fn say(results: &mut Results, files: &[usize], message: &str) {
    for index in files {
        if let Some(checked) = results.files.get(*index) {
            results.diagnostics.push(Diagnostic::new(
                Some(checked.report.source.path.clone()),
                DiagnosticKind::Warning,
                message,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::scan::{run, Counters, Options};

    const SCRIPT: &str = "#!/bin/sh\ncurl -s http://169.254.169.254/latest/meta-data/instance-id\n";
    const SETTING: &str = "resource \"aws_instance\" \"web\" {\n  user_data = file(\"${path.module}/boot.sh\")\n  metadata_options {\n    http_tokens = \"optional\"\n  }\n}\n";

    fn repository(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    fn fix(dir: &Path, limits: Limits) -> (Results, FixReport) {
        let options = Options::default();
        let mut results = run(&[dir.to_path_buf()], &options, &Counters::default());
        let mode = FixMode {
            unsafe_fixes: true,
            write: true,
        };
        let report = apply_within(&mut results, &options.check, mode, limits);
        (results, report)
    }

    fn read(dir: &Path, name: &str) -> String {
        std::fs::read_to_string(dir.join(name)).unwrap()
    }

    /// What the diagnostics say, by file name.
    fn said(results: &Results) -> Vec<(String, String)> {
        results
            .diagnostics
            .iter()
            .map(|d| {
                let name = d.path.as_ref().and_then(|p| p.file_name());
                (
                    name.map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    d.message.clone(),
                )
            })
            .collect()
    }

    #[test]
    fn fixes_that_do_not_converge_are_not_written() {
        // One pass can apply a fix but never see that nothing is left to apply.
        let dir = repository(&[("boot.sh", SCRIPT)]);
        let one_pass = Limits {
            passes: 1,
            rounds: MAX_ROUNDS,
        };
        let (results, report) = fix(dir.path(), one_pass);
        assert_eq!(read(dir.path(), "boot.sh"), SCRIPT, "left as it is on disk");
        assert!(report.files.is_empty(), "{:?}", report.files);
        let said = said(&results);
        assert_eq!(said.len(), 1, "{said:?}");
        assert_eq!(said[0].0, "boot.sh");
        assert!(
            said[0].1.starts_with("its fixes did not converge")
                && said[0].1.ends_with("it is left as it is"),
            "{said:?}"
        );
        // Its findings are still reported.
        let codes: Vec<&str> = results
            .files
            .iter()
            .flat_map(|c| c.report.findings.iter().map(|f| f.rule.code))
            .collect();
        assert!(codes.contains(&"IMDS001"), "{codes:?}");
        // Within the usual limits the same file is fixed.
        let dir = repository(&[("boot.sh", SCRIPT)]);
        let (results, report) = fix(dir.path(), Limits::default());
        assert_eq!(report.files.len(), 1);
        assert!(results.diagnostics.is_empty(), "{:?}", results.diagnostics);
        assert!(read(dir.path(), "boot.sh").contains("X-aws-ec2-metadata-token: $IMDS_TOKEN"));
    }

    #[test]
    fn rounds_that_do_not_settle_write_nothing_that_relies_on_them() {
        // Round one fixes the script; only then may the setting require tokens (round two).
        let files = [("boot.sh", SCRIPT), ("main.tf", SETTING)];
        let dir = repository(&files);
        let one_round = Limits {
            passes: converge::MAX_PASSES,
            rounds: 1,
        };
        let (results, report) = fix(dir.path(), one_round);
        // The script, still changing what the setting's file reports when the rounds ran out,
        // is left as it is; so is the setting, whose fix would rely on it.
        assert_eq!(read(dir.path(), "boot.sh"), SCRIPT);
        assert_eq!(read(dir.path(), "main.tf"), SETTING);
        assert!(report.files.is_empty(), "{:?}", report.files);
        let said = said(&results);
        assert_eq!(said.len(), 1, "{said:?}");
        assert_eq!(said[0].0, "boot.sh");
        assert!(
            said[0].1.contains("after 1 rounds of fixing")
                && said[0].1.ends_with("it is left as it is"),
            "{said:?}"
        );
        // Within the usual limits both are fixed, the script first.
        let dir = repository(&files);
        let (results, report) = fix(dir.path(), Limits::default());
        assert_eq!(report.files.len(), 2, "{:?}", results.diagnostics);
        assert!(read(dir.path(), "main.tf").contains("http_tokens = \"required\""));
    }
}
