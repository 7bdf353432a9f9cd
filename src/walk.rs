//! Walking the paths given on the command line with the `ignore` crate (ripgrep's walker), in
//! parallel: `.gitignore`, `.ignore` and global git excludes honoured unless turned off, hidden
//! directories included, `.git/` never entered, symbolic links followed (with loops detected).
//! It yields files and errors; what to do with them is the caller's business.

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
    /// Something that could not be walked: a broken link, a loop, an unreadable directory.
    Error {
        path: Option<PathBuf>,
        message: String,
    },
}

/// Walks `root` (a directory), calling a visitor made by `make_visitor` on each worker thread.
pub fn walk_dir<'s, F>(root: &Path, options: &WalkOptions, make_visitor: F)
where
    F: Fn() -> Box<dyn FnMut(Entry) + Send + 's>,
{
    let mut builder = WalkBuilder::new(root);
    let respect = !options.no_ignore;
    let skip = options.skip.clone();
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
            let git = entry.file_name() == ".git" && entry.file_type().is_some_and(|t| t.is_dir());
            // The root was named on the command line: it is always walked.
            let skipped = entry.depth() > 0 && skip.as_ref().is_some_and(|s| (s.0)(entry.path()));
            !git && !skipped
        });
    builder.build_parallel().run(|| {
        let mut visit = make_visitor();
        Box::new(move |result| {
            match result {
                Ok(entry) => {
                    if entry.file_type().is_some_and(|t| t.is_file()) {
                        visit(Entry::File(entry.into_path()));
                    } else if entry.file_type().is_none() {
                        visit(Entry::Error {
                            path: Some(entry.into_path()),
                            message: "cannot tell what kind of file this is".to_owned(),
                        });
                    }
                }
                Err(error) => visit(describe(error)),
            }
            WalkState::Continue
        })
    });
}

/// Turns a walker error into a path and a sentence.
fn describe(error: ignore::Error) -> Entry {
    match error {
        ignore::Error::WithPath { path, err } => {
            let message = match *err {
                ignore::Error::Io(io) if io.kind() == std::io::ErrorKind::NotFound => {
                    "broken symbolic link or vanished file".to_owned()
                }
                other => other.to_string(),
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

/// A path with `.` and `..` components resolved lexically (without the file system), for
/// comparing paths as they are spelled: the paths `file()` names with the paths the walk found.
pub fn lexical(path: &Path) -> PathBuf {
    use std::path::Component;
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
        ] {
            assert_eq!(lexical(Path::new(path)), PathBuf::from(want), "{path}");
        }
    }
}
