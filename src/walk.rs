//! Walking the paths given on the command line with the `ignore` crate (ripgrep's walker), in
//! parallel: `.gitignore`, `.ignore` and global git excludes honoured unless turned off, hidden
//! directories included, `.git/` never entered, symbolic links followed (with loops detected).
//! It yields files, errors (paths it could not walk) and notes (ignore files it could not
//! honour); what to do with them is the caller's business.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ignore::{WalkBuilder, WalkState};

#[derive(Debug, Clone)]
pub struct WalkOptions {
    /// Ignore `.gitignore`, `.ignore` and git's excludes.
    pub no_ignore: bool,
    /// Worker threads (0: pick from the machine).
    pub threads: usize,
    /// Paths below the root to leave out (a directory left out is not entered).
    pub skip: Option<Skip>,
}

/// Says whether to leave out a walked path (the caller's policy, e.g. `exclude` globs).
#[derive(Clone)]
pub struct Skip(pub Arc<dyn Fn(&Path) -> bool + Send + Sync>);

impl std::fmt::Debug for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Skip(..)")
    }
}

/// What the walk reached.
#[derive(Debug)]
pub enum Entry {
    /// A regular file (or a link to one).
    File(PathBuf),
    /// Something that could not be walked, so was not scanned: a broken link, a loop, an
    /// unreadable directory, a directory not entered.
    Error {
        path: Option<PathBuf>,
        message: String,
    },
    /// Something about the walk that left nothing out: an ignore file that was not honoured
    /// (more was walked, not less).
    Note {
        path: Option<PathBuf>,
        message: String,
    },
}

/// Walks `root` (a directory), calling a visitor made by `make_visitor` on each worker thread.
pub fn walk_dir<'s, F>(root: &Path, options: &WalkOptions, make_visitor: F)
where
    F: Fn() -> Box<dyn FnMut(Entry) + Send + 's>,
{
    let mut respect = !options.no_ignore;
    let mut notes = Vec::new();
    if respect {
        // The walker reads ignore files whole, and blocks on a FIFO: one that is not a regular
        // file of sane size at the root or above turns ignore files off for this walk.
        let hostile = root.ancestors().find_map(hostile_ignore_file);
        if let Some((file, why)) = hostile {
            respect = false;
            notes.push(Entry::Note {
                path: Some(file),
                message: format!(
                    "{why}; not read, and no ignore file was honoured under {}",
                    root.display()
                ),
            });
        }
    }
    let mut builder = WalkBuilder::new(root);
    let skip = options.skip.clone();
    let skipped_dirs: Arc<std::sync::Mutex<Vec<Entry>>> = Arc::default();
    let record = Arc::clone(&skipped_dirs);
    builder
        .hidden(false)
        .follow_links(true)
        .parents(respect)
        .ignore(respect)
        .git_ignore(respect)
        .git_global(respect)
        .git_exclude(respect)
        .require_git(false)
        .threads(options.threads)
        .filter_entry(move |entry| {
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            let git = entry.file_name() == ".git" && is_dir;
            // The root was named on the command line: it is always walked.
            let skipped = entry.depth() > 0 && skip.as_ref().is_some_and(|s| (s.0)(entry.path()));
            if git || skipped {
                return false;
            }
            // A directory whose ignore file could exhaust memory or block is not entered.
            if respect && is_dir && entry.depth() > 0 {
                if let Some((file, why)) = hostile_ignore_file(entry.path()) {
                    if let Ok(mut notes) = record.lock() {
                        notes.push(Entry::Error {
                            path: Some(file),
                            message: format!(
                                "{why}; not read, and its directory {} was not scanned",
                                entry.path().display()
                            ),
                        });
                    }
                    return false;
                }
            }
            true
        });
    builder.build_parallel().run(|| {
        let mut visit = make_visitor();
        Box::new(move |result| {
            match result {
                Ok(entry) => {
                    // An ignore file of this directory that could not be read whole (a line that
                    // is not a valid glob): the walker honours the rest and says so here.
                    if let Some(error) = entry.error() {
                        describe_each(error.clone())
                            .into_iter()
                            .for_each(&mut visit);
                    }
                    if entry.file_type().is_some_and(|t| t.is_file()) {
                        visit(Entry::File(entry.into_path()));
                    } else if entry.file_type().is_none() {
                        visit(Entry::Error {
                            path: Some(entry.into_path()),
                            message: "cannot tell what kind of file this is".to_owned(),
                        });
                    }
                }
                Err(error) => describe_each(error).into_iter().for_each(&mut visit),
            }
            WalkState::Continue
        })
    });
    let mut visit = make_visitor();
    let recorded = std::mem::take(&mut *skipped_dirs.lock().unwrap_or_else(|p| p.into_inner()));
    for note in notes.into_iter().chain(recorded) {
        visit(note);
    }
}

/// The largest ignore file the walker is allowed to read.
const MAX_IGNORE_FILE: u64 = 1 << 20;

/// An ignore file in `dir` that the walker must not read (a device, a FIFO, a directory, or over
/// 1 MiB; links are followed to see what they lead to), and why: the files the walker reads in
/// each directory it enters, and for a repository's top directory.
fn hostile_ignore_file(dir: &Path) -> Option<(PathBuf, String)> {
    [".gitignore", ".ignore", ".git/info/exclude"].iter().find_map(|name| {
        let path = dir.join(name);
        // A missing file, or one that cannot be looked at, the walker reports or skips itself.
        let metadata = std::fs::metadata(&path).ok()?;
        let why = if metadata.is_file() {
            if metadata.len() <= MAX_IGNORE_FILE {
                return None;
            }
            format!(
                "this ignore file is {} bytes, over the {} bytes an ignore file may have",
                metadata.len(),
                MAX_IGNORE_FILE
            )
        } else if metadata.is_dir() {
            "this ignore file is a directory".to_owned()
        } else {
            "this ignore file is not a regular file (a device, a FIFO or a socket, perhaps through a link)".to_owned()
        };
        Some((path, why))
    })
}

/// [`describe`] for each error a walker error holds (an ignore file with several bad lines is
/// one error holding one per line).
fn describe_each(error: ignore::Error) -> Vec<Entry> {
    match error {
        ignore::Error::Partial(errors) => errors.into_iter().flat_map(describe_each).collect(),
        ignore::Error::WithDepth { err, .. } => describe_each(*err),
        other => vec![describe(other)],
    }
}

/// Turns a walker error into a path and a sentence: an error when a path was not walked, a note
/// when an ignore file (or a line of one) was not honoured.
fn describe(error: ignore::Error) -> Entry {
    if let ignore::Error::WithDepth { err, .. } = error {
        return describe(*err);
    }
    if about_ignore_rules(&error) {
        let (path, message) = match error {
            ignore::Error::WithPath { path, err } => (Some(path), err.to_string()),
            other => (None, other.to_string()),
        };
        return Entry::Note { path, message };
    }
    match error {
        ignore::Error::WithPath { path, err } => {
            // The walker wraps the I/O error in a depth (`WithPath { WithDepth { Io } }`).
            let message = match err.io_error().map(std::io::Error::kind) {
                Some(std::io::ErrorKind::NotFound) => {
                    "broken symbolic link or vanished file; not scanned".to_owned()
                }
                _ => err.to_string(),
            };
            Entry::Error {
                path: Some(path),
                message,
            }
        }
        ignore::Error::Loop { ancestor, child } => Entry::Error {
            message: format!(
                "symbolic link loop: {} points back to {}",
                child.display(),
                ancestor.display()
            ),
            path: Some(child),
        },
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            describe(*err)
        }
        other => Entry::Error {
            path: None,
            message: other.to_string(),
        },
    }
}

/// Whether a walker error is about the rules of an ignore file (one that could not be read, a
/// glob in it that does not parse) rather than a path of the walk: the walker reports those and
/// walks on as if the rule were not there.
fn about_ignore_rules(error: &ignore::Error) -> bool {
    match error {
        ignore::Error::Partial(_)
        | ignore::Error::WithLineNumber { .. }
        | ignore::Error::Glob { .. }
        | ignore::Error::UnrecognizedFileType(_)
        | ignore::Error::InvalidDefinition => true,
        ignore::Error::WithPath { path, err } => is_ignore_file(path) || about_ignore_rules(err),
        ignore::Error::WithDepth { err, .. } => about_ignore_rules(err),
        // A loop, a directory or link that cannot be read.
        _ => false,
    }
}

/// Whether `path` names one of the ignore files the walker reads.
fn is_ignore_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str());
    matches!(name, Some(".gitignore" | ".ignore")) || path.ends_with(Path::new(".git/info/exclude"))
}

/// A path with `.` and `..` components resolved lexically (without the file system), for
/// comparing paths as they are spelled: the paths `file()` names with the paths the walk found.
pub fn lexical(path: &Path) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    use std::path::Component;
    // Most paths (all that the walk finds under a plain root) have no `.`, `..` or empty
    // component: they are their own resolution, and taking them apart was a fiftieth of a scan.
    let bytes = path.as_os_str().as_bytes();
    let plain = !bytes.is_empty()
        && !bytes.ends_with(b"/")
        && bytes
            .split(|&b| b == b'/')
            .enumerate()
            .all(|(i, part)| !matches!(part, b"." | b"..") && (i == 0 || !part.is_empty()));
    if plain {
        return path.to_path_buf();
    }
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                let last = out.components().next_back();
                match last {
                    Some(Component::Normal(_)) => {
                        out.pop();
                    }
                    Some(Component::RootDir | Component::Prefix(_)) => {}
                    _ => out.push(".."),
                }
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_lexically() {
        for (path, want) in [
            ("./a/b/../c.sh", "a/c.sh"),
            ("a/./b/c.sh", "a/b/c.sh"),
            ("../x/../y.sh", "../y.sh"),
            ("/r/../../s.sh", "/s.sh"),
            // Already plain, and the spellings that look plain but are not.
            ("a/b/c.sh", "a/b/c.sh"),
            ("/abs/x.sh", "/abs/x.sh"),
            ("x.sh", "x.sh"),
            (".../x", ".../x"),
            ("a//b.sh", "a/b.sh"),
            ("a/b/", "a/b"),
            ("a/b/.", "a/b"),
            ("/", "/"),
        ] {
            assert_eq!(lexical(Path::new(path)), PathBuf::from(want), "{path}");
        }
    }
}
