//! Writes a fixed file so that nothing but its text changes: atomically (a temporary file in the
//! same directory, renamed over the original), with the file's owner, mode bits (setuid and
//! setgid included) and extended attributes; refusing links that lead out of the scanned root,
//! files that changed on disk since they were read, hard-linked files and read-only files; and
//! removing the temporary files an interrupted run left behind.
//!
//! The decisions, and why:
//! - **Hard links** (more than one name for the file) are refused. Renaming a new file over one
//!   name would split the link, leaving the other names with the old text; writing the inode in
//!   place would give up atomicity (a run killed mid-write leaves a truncated file) and would
//!   change names that may lie outside the scanned root, where nothing can see them. Refused,
//!   every name keeps the same bytes, and the diagnostic says why.
//! - **Read-only files** (no write bit for the owner) are refused: someone made them so, and
//!   replacing them by rename would work around that without a word.
//! - **Owner, then attributes, then mode**: `chown` clears the setuid and setgid bits and file
//!   capabilities (`security.capability`), so the owner is set first, the extended attributes are
//!   copied next and the mode last. When the owner or the mode cannot be kept (a user who may not
//!   `chown` to another), the file is still written and [`Written::warnings`] says what changed.
//! - **Extended attributes** the original has are copied; one that cannot be copied refuses the
//!   fix, since losing it may change who may read or run the file (an ACL, capabilities). A file
//!   system without extended attributes has none to lose. Attributes this process cannot list
//!   (`trusted.*` for a user other than root) cannot be kept, nor known to exist.
//! - **Temporary files** are named `.imds-lint-fix-<pid>-<random>.tmp`. After each write, the
//!   ones in its directory whose process is gone (where `/proc` tells) or that are over a minute
//!   old are removed; the scan never reads them ([`is_temporary`]). A file removed under a run still writing it makes that
//!   run's rename fail, which it reports; the original is untouched either way.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use xattr::FileExt;

/// How the names of this module's temporary files start.
const TEMPORARY_PREFIX: &str = ".imds-lint-fix-";

/// Temporary files older than this are left over, whatever their process.
pub const STALE_AFTER: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("changed on disk since it was read; not fixed")]
    Changed,
    #[error("leads to {target}, outside the scanned root {root}; not fixed")]
    OutsideRoot { target: PathBuf, root: PathBuf },
    #[error("has {links} hard links and a fix would reach only this name, the others keeping the old text; not fixed")]
    HardLinked { links: u64 },
    #[error("read-only (mode {mode:04o}); not fixed")]
    ReadOnly { mode: u32 },
    #[error("cannot keep its extended attribute `{name}` ({source}); not fixed")]
    Attribute {
        name: String,
        source: std::io::Error,
    },
    #[error("cannot read its extended attributes ({0}); not fixed")]
    Attributes(std::io::Error),
    #[error("cannot write the fix: {0}")]
    Io(#[from] std::io::Error),
}

/// A file written, with what of it could not be kept as it was.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Written {
    /// One sentence each: the owner or mode that could not be kept, a stale temporary file that
    /// could not be removed.
    pub warnings: Vec<String>,
}

/// Replaces the file at `path` (reached under `root`) with `new`, if it still holds `original`,
/// keeping its owner, mode and extended attributes (see the module's documentation).
pub fn write_atomically(
    path: &Path,
    root: &Path,
    original: &[u8],
    new: &[u8],
) -> Result<Written, WriteError> {
    let target = std::fs::canonicalize(path)?;
    let root = std::fs::canonicalize(root)?;
    if !target.starts_with(&root) {
        return Err(WriteError::OutsideRoot { target, root });
    }
    let mut file = File::open(&target)?;
    let before = file.metadata()?;
    let mut on_disk = Vec::with_capacity(original.len());
    file.read_to_end(&mut on_disk)?;
    if on_disk != original {
        return Err(WriteError::Changed);
    }
    let mode = before.mode() & 0o7777;
    if mode & 0o200 == 0 {
        return Err(WriteError::ReadOnly { mode });
    }
    if before.nlink() > 1 {
        return Err(WriteError::HardLinked {
            links: before.nlink(),
        });
    }
    let dir = target.parent().unwrap_or(Path::new("."));
    let temporary = tempfile::Builder::new()
        .prefix(&format!("{TEMPORARY_PREFIX}{}-", std::process::id()))
        .suffix(".tmp")
        .tempfile_in(dir)?;
    let mut out: &File = temporary.as_file();
    out.write_all(new)?;
    // Whether the owner could be set is read back below, as is the mode.
    let _ = std::os::unix::fs::fchown(out, Some(before.uid()), Some(before.gid()));
    copy_attributes(&file, out)?;
    out.set_permissions(std::fs::Permissions::from_mode(mode))?;
    out.sync_all()?;
    let after = out.metadata()?;
    let mut warnings = lost(Ownership::of(&before), Ownership::of(&after));
    // The last look before the rename: the same file, untouched since it was read.
    let now = std::fs::metadata(&target)?;
    if !same_state(&before, &now) {
        return Err(WriteError::Changed);
    }
    temporary
        .persist(&target)
        .map_err(|e| WriteError::Io(e.error))?;
    warnings.extend(remove_stale_temporaries(dir));
    Ok(Written { warnings })
}

/// Copies every extended attribute of `from` that `to` does not already have with that value.
fn copy_attributes(from: &File, to: &File) -> Result<(), WriteError> {
    let names = match from.list_xattr() {
        Ok(names) => names,
        // No extended attributes on this file system: none to lose.
        Err(e) if e.kind() == std::io::ErrorKind::Unsupported => return Ok(()),
        Err(e) => return Err(WriteError::Attributes(e)),
    };
    for name in names {
        let failed = |source| WriteError::Attribute {
            name: name.to_string_lossy().into_owned(),
            source,
        };
        let Some(value) = from.get_xattr(&name).map_err(failed)? else {
            continue; // removed since it was listed
        };
        // The temporary file may have it already (an SELinux label from its directory).
        if to.get_xattr(&name).ok().flatten().as_deref() == Some(value.as_slice()) {
            continue;
        }
        to.set_xattr(&name, &value).map_err(failed)?;
    }
    Ok(())
}

/// Who owns a file and its mode bits (permissions, setuid, setgid, sticky).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Ownership {
    uid: u32,
    gid: u32,
    mode: u32,
}

impl Ownership {
    fn of(metadata: &std::fs::Metadata) -> Self {
        Ownership {
            uid: metadata.uid(),
            gid: metadata.gid(),
            mode: metadata.mode() & 0o7777,
        }
    }
}

/// What the written file does not keep of the original: its owner, its mode bits.
fn lost(before: Ownership, after: Ownership) -> Vec<String> {
    let mut lost = Vec::new();
    if (after.uid, after.gid) != (before.uid, before.gid) {
        lost.push(format!(
            "fixed, but its owner could not be kept: it was uid {} gid {} and is now uid {} gid {}",
            before.uid, before.gid, after.uid, after.gid
        ));
    }
    if after.mode != before.mode {
        lost.push(format!(
            "fixed, but its mode could not be kept: it was {:04o} and is now {:04o}",
            before.mode, after.mode
        ));
    }
    lost
}

/// Whether `now` is the file `before` described, with the same size and modification time.
fn same_state(before: &std::fs::Metadata, now: &std::fs::Metadata) -> bool {
    (
        now.dev(),
        now.ino(),
        now.size(),
        now.mtime(),
        now.mtime_nsec(),
    ) == (
        before.dev(),
        before.ino(),
        before.size(),
        before.mtime(),
        before.mtime_nsec(),
    )
}

/// Whether `path` names a temporary file of this module, which the scan must not read.
pub fn is_temporary(path: &Path) -> bool {
    path.file_name().and_then(temporary_pid).is_some()
}

/// The process that made the temporary file named `name`, if it is one of this module's.
fn temporary_pid(name: &OsStr) -> Option<u32> {
    let rest = name.to_str()?.strip_prefix(TEMPORARY_PREFIX)?;
    let (pid, rest) = rest.split_once('-')?;
    let random = rest.strip_suffix(".tmp")?;
    let well_formed = !pid.is_empty()
        && pid.bytes().all(|b| b.is_ascii_digit())
        && !random.is_empty()
        && random.bytes().all(|b| b.is_ascii_alphanumeric());
    if well_formed {
        pid.parse().ok()
    } else {
        None
    }
}

/// Whether a temporary file left by process `pid`, `age` old, is left over: its process is gone
/// (`alive` is `None` where that cannot be told), or it is older than [`STALE_AFTER`].
fn is_stale(pid: u32, own: u32, alive: Option<bool>, age: Duration) -> bool {
    (pid != own && alive == Some(false)) || age > STALE_AFTER
}

/// Whether process `pid` is running, where `/proc` tells.
fn process_alive(pid: u32) -> Option<bool> {
    let proc = Path::new("/proc");
    proc.join("self")
        .exists()
        .then(|| proc.join(pid.to_string()).exists())
}

/// Removes the temporary files in `dir` that interrupted runs left; a sentence for each one that
/// could not be removed.
fn remove_stale_temporaries(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let own = std::process::id();
    let mut warnings = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = temporary_pid(&entry.file_name()) else {
            continue;
        };
        let Ok(metadata) = entry.metadata() else {
            continue; // removed meanwhile
        };
        if !metadata.is_file() {
            continue;
        }
        let age = metadata
            .modified()
            .ok()
            .and_then(|m| SystemTime::now().duration_since(m).ok())
            .unwrap_or_default();
        if !is_stale(pid, own, process_alive(pid), age) {
            continue;
        }
        match std::fs::remove_file(entry.path()) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => warnings.push(format!(
                "cannot remove {}, a temporary file an interrupted --fix left: {e}",
                entry.path().display()
            )),
        }
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_mode_and_replaces_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.sh");
        std::fs::write(&path, b"old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o750)).unwrap();
        let written = write_atomically(&path, dir.path(), b"old", b"new").unwrap();
        assert_eq!(written, Written::default());
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o750);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file left behind");
    }

    #[test]
    fn keeps_setuid_and_setgid_bits() {
        let dir = tempfile::tempdir().unwrap();
        for mode in [0o4755, 0o2755, 0o6750] {
            let path = dir.path().join(format!("{mode:o}.sh"));
            std::fs::write(&path, b"old").unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            let written = write_atomically(&path, dir.path(), b"old", b"new").unwrap();
            assert_eq!(written, Written::default(), "{mode:o}");
            let kept = std::fs::metadata(&path).unwrap().mode() & 0o7777;
            assert_eq!(format!("{kept:04o}"), format!("{mode:04o}"));
        }
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
    fn refuses_a_read_only_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.sh");
        std::fs::write(&path, b"old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
        let err = write_atomically(&path, dir.path(), b"old", b"new").unwrap_err();
        assert_eq!(err.to_string(), "read-only (mode 0444); not fixed");
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        // Only the owner's write bit counts: group and others may write, the owner may not.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o566)).unwrap();
        let err = write_atomically(&path, dir.path(), b"old", b"new").unwrap_err();
        assert!(matches!(err, WriteError::ReadOnly { mode: 0o566 }), "{err}");
    }

    #[test]
    fn refuses_a_hard_linked_file_and_both_names_keep_the_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.sh"), dir.path().join("b.sh"));
        std::fs::write(&a, b"old").unwrap();
        std::fs::hard_link(&a, &b).unwrap();
        let err = write_atomically(&a, dir.path(), b"old", b"new").unwrap_err();
        assert_eq!(
            err.to_string(),
            "has 2 hard links and a fix would reach only this name, the others keeping the old text; not fixed"
        );
        let (ma, mb) = (
            std::fs::metadata(&a).unwrap(),
            std::fs::metadata(&b).unwrap(),
        );
        assert_eq!((ma.ino(), ma.nlink()), (mb.ino(), 2));
        assert_eq!(std::fs::read(&a).unwrap(), b"old");
        assert_eq!(std::fs::read(&b).unwrap(), b"old");
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

    #[test]
    fn temporary_names_are_recognised() {
        for name in [
            ".imds-lint-fix-1234-a1B2c3.tmp",
            ".imds-lint-fix-1-x.tmp",
            ".imds-lint-fix-4194304-ZZZZZZ.tmp",
        ] {
            assert!(is_temporary(Path::new(name)), "{name}");
            assert!(is_temporary(&Path::new("dir").join(name)), "{name}");
        }
        for name in [
            "imds-lint-fix-1234-a1B2c3.tmp",
            ".imds-lint-fix-1234-a1B2c3.tmp.sh",
            ".imds-lint-fix-1234-.tmp",
            ".imds-lint-fix--abc.tmp",
            ".imds-lint-fix-12x4-abc.tmp",
            ".imds-lint-fix-1234-a.b.tmp",
            ".imds-lint-fix-99999999999-abc.tmp",
            ".imds-lint-abcdef.tmp",
            ".imds-lint-fix-1234-abc.TMP",
            "boot.sh",
            ".tmp",
        ] {
            assert!(!is_temporary(Path::new(name)), "{name}");
        }
    }

    #[test]
    fn stale_means_its_process_is_gone_or_over_a_minute_old() {
        let fresh = Duration::from_secs(5);
        let old = STALE_AFTER + Duration::from_secs(1);
        assert!(is_stale(10, 20, Some(false), fresh));
        assert!(is_stale(10, 20, Some(true), old));
        assert!(is_stale(10, 20, None, old));
        assert!(is_stale(20, 20, Some(true), old));
        assert!(!is_stale(10, 20, Some(true), fresh));
        assert!(!is_stale(10, 20, None, fresh));
        // This process's own file, still being written by another thread.
        assert!(!is_stale(20, 20, Some(false), fresh));
        assert!(!is_stale(10, 20, Some(true), STALE_AFTER));
    }

    #[test]
    fn this_process_is_alive_where_proc_tells() {
        if Path::new("/proc/self").exists() {
            assert_eq!(process_alive(std::process::id()), Some(true));
            assert_eq!(process_alive(u32::MAX), Some(false));
        } else {
            assert_eq!(process_alive(std::process::id()), None);
        }
    }

    #[test]
    fn stale_temporaries_go_and_live_ones_stay() {
        let dir = tempfile::tempdir().unwrap();
        let gone = {
            let mut child = std::process::Command::new("true").spawn().unwrap();
            let pid = child.id();
            child.wait().unwrap();
            pid
        };
        let own = std::process::id();
        let dead = dir.path().join(format!(".imds-lint-fix-{gone}-dead01.tmp"));
        let old = dir.path().join(format!(".imds-lint-fix-{own}-old001.tmp"));
        let live = dir.path().join(format!(".imds-lint-fix-{own}-live01.tmp"));
        let other = dir.path().join(".imds-lint-Ab12Cd.tmp");
        for path in [&dead, &old, &live, &other] {
            std::fs::write(path, b"partial").unwrap();
        }
        let long_ago = SystemTime::now() - STALE_AFTER - Duration::from_secs(60);
        File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(long_ago)
            .unwrap();
        let path = dir.path().join("a.sh");
        std::fs::write(&path, b"old").unwrap();
        let written = write_atomically(&path, dir.path(), b"old", b"new").unwrap();
        assert_eq!(written, Written::default());
        let mut left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                ".imds-lint-Ab12Cd.tmp".to_owned(),
                format!(".imds-lint-fix-{own}-live01.tmp"),
                "a.sh".to_owned(),
            ]
        );
    }

    #[test]
    fn owner_and_mode_not_kept_are_said() {
        let was = Ownership {
            uid: 0,
            gid: 0,
            mode: 0o2755,
        };
        assert_eq!(lost(was, was), Vec::<String>::new());
        assert_eq!(
            lost(
                was,
                Ownership {
                    uid: 65534,
                    gid: 65534,
                    mode: 0o2755
                }
            ),
            ["fixed, but its owner could not be kept: it was uid 0 gid 0 and is now uid 65534 gid 65534"]
        );
        assert_eq!(
            lost(was, Ownership { gid: 7, ..was }),
            ["fixed, but its owner could not be kept: it was uid 0 gid 0 and is now uid 0 gid 7"]
        );
        assert_eq!(
            lost(
                was,
                Ownership {
                    uid: 1000,
                    gid: 0,
                    mode: 0o755
                }
            ),
            [
                "fixed, but its owner could not be kept: it was uid 0 gid 0 and is now uid 1000 gid 0",
                "fixed, but its mode could not be kept: it was 2755 and is now 0755"
            ]
        );
    }
}
