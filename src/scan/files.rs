//! The per-file part of a run, on the walker's threads: read each file once (regular files
//! only, within the size limit, binary files and `--fix`'s temporary files skipped), check it
//! with a panic guard, and record what came of it; then read the files that checked files make
//! instances run.

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::{Checked, Counters, Diagnostic, DiagnosticKind, Options, Results};
use crate::check::{self, Outcome};
use crate::frontend;
use crate::model::FileReport;
use crate::walk::Entry;

/// One run's per-file work, shared by the walker's threads.
pub(super) struct Scan<'a> {
    options: &'a Options,
    counters: &'a Counters,
    results: Mutex<Results>,
    /// How many bytes of files keep what their check read for the pass across files
    /// (`Checked::prepared`), within [`KEPT_BYTES`].
    kept: AtomicUsize,
}

/// How many bytes of files may keep what their check read for the pass across files: what is
/// kept costs about 2.5 times the file's bytes (a tree of 1,600 Terraform modules, 11.6 MB of
/// HCL, peaked at 97 MB with what was read of every `.tf` kept, against 68 MB with none), and
/// kOps's 81 generated `.tf` files are 4 MB. A file past it is parsed again when checked again.
const KEPT_BYTES: usize = 8 << 20;

impl<'a> Scan<'a> {
    pub fn new(options: &'a Options, counters: &'a Counters) -> Self {
        Scan {
            options,
            counters,
            results: Mutex::new(Results::default()),
            kept: AtomicUsize::new(0),
        }
    }

    pub fn finish(self) -> Results {
        self.results
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Scan<'_> {
    fn record(&self, update: impl FnOnce(&mut Results)) {
        let mut results = self
            .results
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        update(&mut results);
    }

    fn diagnostic(&self, path: Option<PathBuf>, kind: DiagnosticKind, message: String) {
        self.record(|r| r.diagnostics.push(Diagnostic::new(path, kind, message)));
    }

    /// A path that was not read or not analysed at all.
    fn skipped(&self, path: Option<PathBuf>, message: String) {
        self.diagnostic(path, DiagnosticKind::Skipped, message);
    }

    /// What the walker reached.
    pub fn entry(&self, entry: Entry, root: &Path) {
        self.visit(entry, root, true);
    }

    /// A file named on the command line: the walker has not seen what it is.
    pub fn named(&self, path: PathBuf, root: &Path) {
        self.visit(Entry::File(path), root, false);
    }

    /// `seen_regular` when the walker saw that a file is a regular one.
    fn visit(&self, entry: Entry, root: &Path, seen_regular: bool) {
        match entry {
            Entry::Error { path, message } => self.skipped(path, message),
            Entry::Note { path, message } => self.diagnostic(path, DiagnosticKind::Warning, message),
            // A copy of a file being fixed, left by a run that was stopped while writing it: not
            // a file of the repository (the file it copies is read), so only a warning.
            Entry::File(path) if crate::fix::write::is_temporary(&path) => self.diagnostic(
                Some(path),
                DiagnosticKind::Warning,
                "a temporary file that an interrupted `imds-lint --fix` left; not read (the next --fix in its directory removes it)".to_owned(),
            ),
            Entry::File(path) => self.file(path, root, seen_regular),
        }
    }

    /// Reads and checks a file; `seen_regular` when the walker saw a regular file there.
    fn file(&self, path: PathBuf, root: &Path, seen_regular: bool) {
        match self.read(&path, seen_regular) {
            Ok(Some(bytes)) => self.check(path, bytes, None, root),
            Ok(None) => {}
            Err(message) => self.skipped(Some(path), message),
        }
    }

    /// Checks, as user data, the files that scanned files make instances run and that were not
    /// read already (a `.tpl` template is not a shell file by name).
    pub fn referenced_files(&self) {
        let (referenced, fallbacks) = {
            let mut results = self
                .results
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            (
                std::mem::take(&mut results.referenced),
                std::mem::take(&mut results.referenced_fallbacks),
            )
        };
        // Each path once, even when several files name it (and it cannot be read).
        let mut tried = std::collections::HashSet::new();
        for (path, root) in referenced {
            // Nothing there: the other place its file says to look (an Ansible playbook's
            // `script` beside the playbook rather than in its `files/`).
            let absent = |p: &Path| matches!(std::fs::symlink_metadata(p), Err(e) if e.kind() == io::ErrorKind::NotFound);
            let path = match fallbacks.get(&path) {
                Some(other) if absent(&path) => other.clone(),
                _ => path,
            };
            let normalized = crate::walk::lexical(&path);
            if !tried.insert(normalized.clone()) {
                continue;
            }
            let done = {
                let results = self
                    .results
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                results.read.contains(&normalized)
            };
            if done {
                continue;
            }
            match std::fs::metadata(&path) {
                Ok(metadata) if !metadata.is_file() => {
                    self.skipped(
                        Some(path),
                        "referenced as user data, but it is not a regular file; not read"
                            .to_owned(),
                    );
                    continue;
                }
                Ok(_) if !self.options.read_outside_root && !inside(&path, &root) => {
                    self.skipped(
                        Some(path),
                        format!(
                            "referenced as user data, but it is outside the scanned root {}; not read (--read-outside-root reads it)",
                            root.display()
                        ),
                    );
                    continue;
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    self.skipped(
                        Some(path),
                        "referenced as user data, but it cannot be found".to_owned(),
                    );
                    continue;
                }
                // Unreadable, a link loop: `read` says which.
                Err(_) => {}
            }
            match self.read(&path, false) {
                Ok(Some(bytes)) => {
                    let kind = frontend::classify_content(&bytes);
                    self.check(path, bytes, kind, &root);
                }
                Ok(None) => self.skipped(
                    Some(path),
                    "referenced as user data, but it is binary; not read".to_owned(),
                ),
                Err(message) => self.skipped(Some(path), message),
            }
        }
    }

    pub fn stdin(&self, name: Option<PathBuf>) {
        let mut bytes = Vec::new();
        let limit = self.options.max_file_size;
        match io::stdin().lock().take(limit + 1).read_to_end(&mut bytes) {
            Ok(_) if bytes.len() as u64 > limit => self.skipped(
                Some(PathBuf::from("-")),
                format!("standard input is larger than --max-file-size ({limit} bytes); skipped"),
            ),
            Ok(_) => {
                let copy = bytes.clone();
                self.record(|r| r.stdin = Some(copy));
                let path = name.unwrap_or_else(|| PathBuf::from("-"));
                let kind = frontend::classify(&path, &bytes).or(Some(frontend::Kind::Shell));
                self.check(path, bytes, kind, Path::new(""));
            }
            Err(e) => self.skipped(Some(PathBuf::from("-")), format!("cannot read: {e}")),
        }
    }

    /// Reads a file once; `None` for files that are skipped without a word (binary).
    ///
    /// Only regular files are read: the file is opened without blocking (a FIFO named on the
    /// command line or behind a link would otherwise wait for a writer forever) and refused
    /// unless it is a regular file. The first 8 KiB decide whether it is binary before the rest
    /// is read, so a large binary file costs no more than that.
    fn read(&self, path: &Path, seen_regular: bool) -> Result<Option<Vec<u8>>, String> {
        // Where the walker saw a regular file, its kind and size are looked at only when it is
        // longer than the probe (most files are not; a look at each was a tenth of a scan's
        // system time on the generated corpus). A file named on the command line is looked at
        // before it is read: it may be a FIFO.
        let mut file = crate::source::open_nonblocking(path).map_err(|e| describe_io(&e))?;
        let looked_at = |file: &std::fs::File| {
            let metadata = file.metadata().map_err(|e| describe_io(&e))?;
            crate::source::regular(&metadata).map_err(|e| describe_io(&e))?;
            if metadata.len() > self.options.max_file_size {
                return Err(format!(
                    "skipped: {} bytes is over --max-file-size ({} bytes)",
                    metadata.len(),
                    self.options.max_file_size
                ));
            }
            Ok(metadata)
        };
        let mut metadata = if seen_regular {
            None
        } else {
            Some(looked_at(&file)?)
        };
        let limit = self.options.max_file_size + 1;
        let probe = check::BINARY_PROBE.min(limit as usize);
        let mut bytes = Vec::with_capacity(probe + 1);
        (&mut file)
            .take(probe as u64)
            .read_to_end(&mut bytes)
            .map_err(|e| describe_io(&e))?;
        // Shorter than the probe: the file ended within it (most files do).
        let longer = bytes.len() == probe;
        if longer && metadata.is_none() {
            metadata = Some(looked_at(&file)?);
        }
        self.record(|r| r.statistics.files_read += 1);
        self.counters.files.fetch_add(1, Ordering::Relaxed);
        if check::is_binary(&bytes) {
            self.record(|r| r.statistics.binary += 1);
            return Ok(None);
        }
        if let Some(metadata) = metadata.filter(|_| longer) {
            let expected = metadata.len().min(limit) as usize + 1;
            bytes.reserve(expected.saturating_sub(bytes.len()));
            file.take(limit - bytes.len() as u64)
                .read_to_end(&mut bytes)
                .map_err(|e| describe_io(&e))?;
        }
        if bytes.len() as u64 > self.options.max_file_size {
            return Err(format!(
                "skipped: it grew over --max-file-size ({} bytes) while it was read",
                self.options.max_file_size
            ));
        }
        Ok(Some(bytes))
    }

    fn check(&self, path: PathBuf, bytes: Vec<u8>, kind: Option<frontend::Kind>, root: &Path) {
        let shown = path.clone();
        let ignored = self
            .options
            .config
            .as_ref()
            .map(|c| c.ignored_in(&path))
            .unwrap_or_default();
        let own = (!ignored.is_empty()).then(|| {
            let mut settings = self.options.check.clone();
            settings.rules.ignore.extend(ignored);
            settings
        });
        let settings = own.as_ref().unwrap_or(&self.options.check);
        let started = std::time::Instant::now();
        let outcome = super::guarded(|| check::check_file(path, bytes, kind, settings));
        let took = started.elapsed();
        match outcome {
            Some(Outcome::NotRecognised) => self.record(|r| r.statistics.not_recognised += 1),
            Some(Outcome::Prefiltered) => self.record(|r| {
                r.statistics.prefiltered += 1;
                r.read.insert(crate::walk::lexical(&shown));
            }),
            Some(Outcome::Checked {
                source,
                kind: read_as,
                findings,
                notes,
                setting_notes,
                referenced,
                referenced_fallbacks,
                links,
                summaries,
                unresolved_dependencies,
                untagged_blocks,
                prepared,
            }) => {
                let kept = !findings.is_empty() || !links.is_empty();
                let size = source.bytes.len();
                let prepared = prepared.filter(|_| {
                    self.kept
                        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |total| {
                            (total + size <= KEPT_BYTES).then_some(total + size)
                        })
                        .is_ok()
                });
                for note in notes {
                    self.diagnostic(Some(shown.clone()), note.kind, note.message);
                }
                // A file the pass across files sees again says these after it.
                let mut setting_notes = Some(setting_notes);
                if !kept {
                    for note in setting_notes.take().unwrap_or_default() {
                        self.diagnostic(Some(shown.clone()), note.kind, note.message);
                    }
                }
                self.counters
                    .findings
                    .fetch_add(findings.len(), Ordering::Relaxed);
                self.record(|r| {
                    r.read.insert(crate::walk::lexical(&shown));
                    r.referenced
                        .extend(referenced.into_iter().map(|p| (p, root.to_path_buf())));
                    r.referenced_fallbacks.extend(referenced_fallbacks);
                    r.statistics.parsed += 1;
                    r.statistics.add_front_end(read_as.name(), took);
                    r.statistics.findings += findings.len();
                    r.statistics.dependencies_unresolved += unresolved_dependencies;
                    r.statistics.untagged_blocks += untagged_blocks;
                    // A file with links stays for the pass across files, findings or not.
                    if findings.is_empty() && links.is_empty() {
                        r.summaries.extend(summaries);
                    } else {
                        r.files.push(Checked {
                            report: FileReport { source, findings },
                            root: root.to_path_buf(),
                            kind,
                            stdin: root.as_os_str().is_empty(),
                            settings: own,
                            links,
                            external: crate::model::links::External::default(),
                            summaries,
                            internal_error: false,
                            setting_notes: setting_notes.take().unwrap_or_default(),
                            prepared,
                        });
                    }
                });
            }
            None => self.skipped(
                Some(shown),
                crate::model::diagnostic::INTERNAL_ERROR.to_owned(),
            ),
        }
    }
}

/// Whether `path` (links followed) is inside the directory `root`, the rule for reading a file
/// another file names as for writing a fix.
fn inside(path: &Path, root: &Path) -> bool {
    match (std::fs::canonicalize(path), std::fs::canonicalize(root)) {
        (Ok(path), Ok(root)) => path.starts_with(root),
        _ => false,
    }
}

fn describe_io(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::PermissionDenied => "cannot read: permission denied".to_owned(),
        io::ErrorKind::NotFound => {
            "no such file or directory (or a broken symbolic link)".to_owned()
        }
        // `open_regular` and `read_regular` say what they refused in full.
        io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData => error.to_string(),
        _ => format!("cannot read: {error}"),
    }
}
