//! Writes a fixed file: atomically (a temporary file in the same directory, renamed over the
//! original), keeping the file's mode and owner, refusing links that lead out of the scanned root,
//! and refusing files that changed on disk since they were read.

use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("changed on disk since it was read; not fixed")]
    Changed,
    #[error("leads to {target}, outside the scanned root {root}; not fixed")]
    OutsideRoot { target: PathBuf, root: PathBuf },
    #[error("cannot write the fix: {0}")]
    Io(#[from] std::io::Error),
}

/// Replaces the file at `path` (reached under `root`) with `new`, if it still holds `original`.
pub fn write_atomically(
    path: &Path,
    root: &Path,
    original: &[u8],
    new: &[u8],
) -> Result<(), WriteError> {
    let target = std::fs::canonicalize(path)?;
    let root = std::fs::canonicalize(root)?;
    if !target.starts_with(&root) {
        return Err(WriteError::OutsideRoot { target, root });
    }
    if std::fs::read(&target)? != original {
        return Err(WriteError::Changed);
    }
    let metadata = std::fs::metadata(&target)?;
    let dir = target.parent().unwrap_or(Path::new("."));
    let mut temporary = tempfile::Builder::new()
        .prefix(".imds-lint-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    temporary.write_all(new)?;
    temporary.as_file().sync_all()?;
    std::fs::set_permissions(temporary.path(), metadata.permissions())?;
    // Keep the owner where we may (as root, or when it is already ours); never fail on it.
    let _ = std::os::unix::fs::chown(temporary.path(), Some(metadata.uid()), Some(metadata.gid()));
    temporary
        .persist(&target)
        .map_err(|e| WriteError::Io(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn keeps_mode_and_replaces_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.sh");
        std::fs::write(&path, b"old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o750)).unwrap();
        write_atomically(&path, dir.path(), b"old", b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o750);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file left behind");
    }

    #[test]
    fn refuses_a_file_changed_since_it_was_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.sh");
        std::fs::write(&path, b"edited meanwhile").unwrap();
        let err = write_atomically(&path, dir.path(), b"as read", b"fixed").unwrap_err();
        assert!(matches!(err, WriteError::Changed));
        assert_eq!(std::fs::read(&path).unwrap(), b"edited meanwhile");
    }

    #[test]
    fn writes_through_a_link_inside_the_root_and_keeps_the_link() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("real.sh"), b"old").unwrap();
        std::os::unix::fs::symlink("real.sh", dir.path().join("link.sh")).unwrap();
        write_atomically(&dir.path().join("link.sh"), dir.path(), b"old", b"new").unwrap();
        assert_eq!(std::fs::read(dir.path().join("real.sh")).unwrap(), b"new");
        assert!(std::fs::symlink_metadata(dir.path().join("link.sh"))
            .unwrap()
            .file_type()
            .is_symlink());
    }

    #[test]
    fn refuses_a_link_out_of_the_root() {
        let outside = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("victim.sh"), b"old").unwrap();
        std::os::unix::fs::symlink(outside.path().join("victim.sh"), root.path().join("a.sh"))
            .unwrap();
        let err =
            write_atomically(&root.path().join("a.sh"), root.path(), b"old", b"new").unwrap_err();
        assert!(matches!(err, WriteError::OutsideRoot { .. }));
        assert_eq!(
            std::fs::read(outside.path().join("victim.sh")).unwrap(),
            b"old"
        );
    }
}
