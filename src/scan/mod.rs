//! One run, as a library: walk the paths, read and check each file on the walker's threads
//! (`files`), check the files other files make instances run, join what files say about each
//! other and check again where that changed (`across`), and, when asked, fix in rounds
//! (`fixes`). The CLI only resolves flags and configuration into [`Options`] and prints what
//! [`Results`] holds; a test can drive a whole scan without it.

mod across;
mod files;
pub mod fixes;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use crate::check::{self, CheckSettings, Outcome};
use crate::config::Config;
use crate::frontend;
use crate::model::links::{External, FileLinks};
use crate::model::summary::{Application, SettingSummary};
pub use crate::model::{Diagnostic, DiagnosticKind};
use crate::model::{FileReport, Statistics};
use crate::walk::{self, WalkOptions};

/// Files larger than this are skipped unless `--max-file-size` says otherwise.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 16 << 20;

/// Everything that decides one run, resolved from flags and configuration.
#[derive(Debug, Clone)]
pub struct Options {
    pub check: CheckSettings,
    /// Files larger than this are skipped with a note.
    pub max_file_size: u64,
    /// The configuration in force, for `per-file-ignores`.
    pub config: Option<Arc<Config>>,
    pub walk: WalkOptions,
    /// The name to report for standard input (`-`).
    pub stdin_filename: Option<PathBuf>,
    /// Read files that scanned files name (`file()`) even outside the directory they were
    /// reached from.
    pub read_outside_root: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            check: CheckSettings::default(),
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            config: None,
            walk: WalkOptions {
                no_ignore: false,
                threads: 0,
                skip: None,
            },
            stdin_filename: None,
            read_outside_root: false,
        }
    }
}

/// What the scan has done so far, updated as it goes (a progress display reads it).
#[derive(Debug, Default)]
pub struct Counters {
    pub files: AtomicUsize,
    pub findings: AtomicUsize,
}

/// A checked file kept after the walk: one with findings, or with links for the pass across
/// files; with what fixing and checking it again need.
#[derive(Debug)]
pub struct Checked {
    pub report: FileReport,
    /// The directory the file was reached from: fixes never write outside it.
    pub root: PathBuf,
    /// The front end forced on it (standard input), if any.
    pub kind: Option<frontend::Kind>,
    /// Whether it is standard input.
    pub stdin: bool,
    /// Its own settings, when `per-file-ignores` turns rules off in it.
    pub settings: Option<CheckSettings>,
    /// What links it to other files, and what they say about it (`crate::links`).
    pub links: Box<FileLinks>,
    pub external: External,
    /// One per declared setting, for the migration view.
    pub summaries: Vec<SettingSummary>,
    /// Whether a check of it after the first panicked (its report is the last one that did not).
    pub internal_error: bool,
    /// The notes of its last check that the pass across files may change
    /// (`Outcome::Checked::setting_notes`), said when the run's checks are done.
    pub setting_notes: Vec<crate::model::Note>,
    /// What its first check read and analysed (`Outcome::Checked::prepared`), until the pass
    /// across files is done: checking it again with what other files say then parses nothing.
    pub prepared: Option<Box<check::Prepared>>,
}

impl Checked {
    /// Checks the file again as it is now in memory, with what other files say about it, and
    /// takes the new report, links and summaries.
    pub fn recheck(&mut self, settings: &CheckSettings) {
        let outcome = match self.prepared.take() {
            // Read from the same bytes: only what the other files say has changed.
            Some(prepared) if prepared.bytes() == self.report.source.bytes => {
                let settings = self.settings.as_ref().unwrap_or(settings);
                let outcome = guarded(|| prepared.recheck(settings, &self.external));
                self.prepared = Some(prepared);
                outcome
            }
            _ => self.check(self.report.source.bytes.clone(), settings),
        };
        self.take(outcome);
    }

    /// Checks `bytes` as this file, with its settings and what other files say about it; `None`
    /// when the check panicked (a bug), which [`Checked::take`] records.
    pub fn check(&self, bytes: Vec<u8>, settings: &CheckSettings) -> Option<Outcome> {
        guarded(|| {
            check::check_file_linked(
                self.report.source.path.clone(),
                bytes,
                self.kind,
                self.settings.as_ref().unwrap_or(settings),
                &self.external,
            )
        })
    }

    /// Takes the report, links and summaries of a check of this file; after a check that
    /// panicked, keeps the report it had and remembers to say so.
    pub fn take(&mut self, outcome: Option<Outcome>) {
        match outcome {
            Some(Outcome::Checked {
                source,
                findings,
                links,
                summaries,
                setting_notes,
                prepared,
                ..
            }) => {
                self.prepared = prepared;
                self.report = FileReport { source, findings };
                self.links = links;
                self.summaries = summaries;
                self.setting_notes = setting_notes;
            }
            Some(_) => {}
            None => self.internal_error = true,
        }
    }

    /// Takes a check of `bytes`, its fixed text: a text that is no longer read (a fix took out
    /// the last thing that made it worth reading, such as an unused suppression comment) is
    /// kept with no findings, links or summaries.
    pub fn take_fixed(&mut self, outcome: Option<Outcome>, bytes: Vec<u8>) {
        match outcome {
            Some(Outcome::Prefiltered | Outcome::NotRecognised) => {
                self.report = FileReport {
                    source: crate::source::SourceFile::new(self.report.source.path.clone(), bytes),
                    findings: Vec::new(),
                };
                *self.links = Default::default();
                self.summaries = Vec::new();
                self.prepared = None;
            }
            outcome => self.take(outcome),
        }
    }
}

/// Runs one check with the panic guard every check of a run has: a panic (a bug) is caught and
/// becomes `None`, and the scan goes on.
pub fn guarded(check: impl FnOnce() -> Outcome) -> Option<Outcome> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(check)).ok()
}

/// What a run found.
#[derive(Debug, Default)]
pub struct Results {
    /// The files kept after the walk (see [`Checked`]), in path order.
    pub files: Vec<Checked>,
    /// Files other files make instances run (Terraform `file()`), with the root they came from.
    referenced: Vec<(PathBuf, PathBuf)>,
    /// Where to look for a referenced file when it is not there, by its path.
    referenced_fallbacks: std::collections::HashMap<PathBuf, PathBuf>,
    /// Every file a front end read (normalized, `crate::walk::lexical`), to check each
    /// referenced file once and to know a referenced file that is clean.
    read: std::collections::HashSet<PathBuf>,
    /// Standard input as read, when `-` was scanned (`--fix` echoes it back, fixed or not).
    pub stdin: Option<Vec<u8>>,
    pub diagnostics: Vec<Diagnostic>,
    pub statistics: Statistics,
    /// One per declared setting of the files not in `files`, for `--migration`.
    pub summaries: Vec<SettingSummary>,
    /// The largest file read (`--max-file-size`), also for the pass across files.
    max_file_size: u64,
}

impl Results {
    /// A diagnostic for each file whose check panicked since the last call.
    pub fn say_internal_errors(&mut self) {
        for checked in &mut self.files {
            if std::mem::take(&mut checked.internal_error) {
                self.diagnostics.push(Diagnostic::new(
                    Some(checked.report.source.path.clone()),
                    // Its report is the last check that did not panic.
                    DiagnosticKind::PartlyAnalysed,
                    crate::model::diagnostic::INTERNAL_ERROR,
                ));
            }
        }
    }

    /// The notes on settings of the kept files (see [`Checked::setting_notes`]), as diagnostics.
    pub fn say_setting_notes(&mut self) {
        for checked in &mut self.files {
            for note in std::mem::take(&mut checked.setting_notes) {
                self.diagnostics.push(Diagnostic::new(
                    Some(checked.report.source.path.clone()),
                    note.kind,
                    note.message,
                ));
            }
        }
    }

    /// Every declared setting's summary, in path and line order, with the application evidence
    /// of its directory tree (`crate::links::applications`), and the evidence no setting took,
    /// for the migration view.
    pub fn setting_summaries(&mut self) -> (Vec<SettingSummary>, Vec<Application>) {
        let mut summaries = std::mem::take(&mut self.summaries);
        let mut evidence = Vec::new();
        for checked in &mut self.files {
            summaries.append(&mut checked.summaries);
            let source = &checked.report.source;
            for finding in &checked.report.findings {
                if matches!(finding.rule.code, "IMDS020" | "IMDS021") {
                    evidence.push((
                        source.path.clone(),
                        Application {
                            path: source.path.display().to_string(),
                            line: source.position(finding.span.start).line,
                            code: finding.rule.code,
                            message: finding.message.clone(),
                        },
                    ));
                }
            }
        }
        summaries.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
        let unclaimed = crate::links::applications(&mut summaries, &evidence);
        (summaries, unclaimed)
    }

    /// The reports of the files with findings, in path order (files kept only for the pass
    /// across files have nothing to report).
    pub fn into_reports(self) -> (Vec<FileReport>, Vec<Diagnostic>, Statistics) {
        let reports = self
            .files
            .into_iter()
            .filter(|c| !c.report.findings.is_empty())
            .map(|c| c.report)
            .collect();
        (reports, self.diagnostics, self.statistics)
    }
}

/// Scans `paths` (files, directories, or `-` for standard input): the walk, the per-file check,
/// the files that checked files name, and the pass across files.
pub fn run(paths: &[PathBuf], options: &Options, counters: &Counters) -> Results {
    let scan = files::Scan::new(options, counters);
    for path in paths {
        if path == Path::new("-") {
            scan.stdin(options.stdin_filename.clone());
        } else if path.is_dir() {
            let scan = &scan;
            walk::walk_dir(path, &options.walk, || {
                Box::new(move |entry| scan.entry(entry, path))
            });
        } else {
            let root = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            scan.named(path.clone(), root);
        }
    }
    scan.referenced_files();
    let mut results = scan.finish();
    results.max_file_size = options.max_file_size;
    let started = std::time::Instant::now();
    across::relink(&options.check, &mut results);
    results.statistics.across = started.elapsed();
    // Checks after this one (fixes) read each file anew.
    for checked in &mut results.files {
        checked.prepared = None;
    }
    results.say_internal_errors();
    results.say_setting_notes();
    results
        .files
        .sort_by(|a, b| a.report.source.path.cmp(&b.report.source.path));
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_check_becomes_none() {
        assert!(guarded(|| Outcome::Prefiltered).is_some());
        // The default hook would print the panic; the test only needs the value.
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let caught = guarded(|| panic!("a bug"));
        std::panic::set_hook(hook);
        assert!(caught.is_none());
    }
}
