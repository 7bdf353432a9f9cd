//! `--fix` and what it keeps of a file besides its text, run through the real binary: hard links
//! refused (every name keeps the same bytes), setuid and setgid bits, extended attributes and file
//! capabilities kept, an owner that cannot be kept said, read-only files refused, temporary files
//! of interrupted runs removed and never read. Some cases need root (to make a file another user
//! owns, or to drop to another user with `setpriv`); they say so when they cannot run.

#[path = "support/run.rs"]
mod run;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Output};

use run::{imds_lint, text};

const SCRIPT: &str = "#!/bin/sh\ncurl -s http://169.254.169.254/latest/meta-data/ami-id\n";
const FIXED: &str = "#!/bin/sh\nIMDS_TOKEN=$(curl -sf --connect-timeout 1 --max-time 2 -X PUT \"http://169.254.169.254/latest/api/token\" -H \"X-aws-ec2-metadata-token-ttl-seconds: 21600\" || true)\ncurl -H \"X-aws-ec2-metadata-token: $IMDS_TOKEN\" -s http://169.254.169.254/latest/meta-data/ami-id\n";

/// The user the tests drop to (`nobody`).
const OTHER: u32 = 65534;

/// A directory on the same file system as the build (so its extended attributes are the ones a
/// checkout would have), open to every user.
fn workdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    dir
}

fn script(dir: &Path, name: &str, mode: u32) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, SCRIPT).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
}

fn mode_of(path: &Path) -> String {
    format!("{:04o}", std::fs::metadata(path).unwrap().mode() & 0o7777)
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Whether the tests run as root (a new file is owned by the effective user).
fn root(dir: &Path) -> bool {
    let probe = dir.join(".probe");
    std::fs::write(&probe, b"").unwrap();
    let uid = std::fs::metadata(&probe).unwrap().uid();
    std::fs::remove_file(&probe).unwrap();
    uid == 0
}

/// Runs `imds-lint ARGS` in `dir` as user and group [`OTHER`], with no supplementary groups.
fn imds_lint_as_other(dir: &Path, args: &[&str]) -> Output {
    Command::new("setpriv")
        .arg(format!("--reuid={OTHER}"))
        .arg(format!("--regid={OTHER}"))
        .arg("--clear-groups")
        .arg(env!("CARGO_BIN_EXE_imds-lint"))
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .env_remove("GITHUB_ACTIONS")
        .output()
        .expect("setpriv (util-linux) runs imds-lint as another user; install util-linux")
}

/// A file capability set (`security.capability`, revision 2): `cap_net_bind_service=ep`.
fn net_bind_service() -> Vec<u8> {
    let mut value = Vec::new();
    value.extend_from_slice(&(0x0200_0000u32 | 1).to_le_bytes()); // revision 2, effective
    value.extend_from_slice(&(1u32 << 10).to_le_bytes()); // permitted: CAP_NET_BIND_SERVICE
    value.extend_from_slice(&0u32.to_le_bytes()); // inheritable
    value.extend_from_slice(&0u32.to_le_bytes()); // permitted, high word
    value.extend_from_slice(&0u32.to_le_bytes()); // inheritable, high word
    value
}

#[test]
fn hard_linked_files_are_refused_and_every_name_keeps_the_same_bytes() {
    let dir = workdir();
    let a = script(dir.path(), "a.sh", 0o755);
    let b = dir.path().join("b.sh");
    std::fs::hard_link(&a, &b).unwrap();
    let output = imds_lint(dir.path(), &["--fix", "--format", "concise", "a.sh"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains("imds-lint: warning: a.sh: has 2 hard links and a fix would reach only this name, the others keeping the old text; not fixed\n"),
        "{}",
        text(&output.stderr)
    );
    // Not fixed, so still reported.
    assert!(text(&output.stdout).starts_with("a.sh:2:1: IMDS001 "));
    let (ma, mb) = (
        std::fs::metadata(&a).unwrap(),
        std::fs::metadata(&b).unwrap(),
    );
    assert_eq!((ma.ino(), ma.nlink()), (mb.ino(), 2), "still one file");
    assert_eq!(std::fs::read_to_string(&a).unwrap(), SCRIPT);
    assert_eq!(std::fs::read_to_string(&b).unwrap(), SCRIPT);
    assert_eq!(names_in(dir.path()), ["a.sh", "b.sh"]);
}

#[test]
fn setuid_and_setgid_bits_are_kept() {
    let dir = workdir();
    for (name, mode) in [("u.sh", 0o4755), ("g.sh", 0o2755), ("ug.sh", 0o6750)] {
        script(dir.path(), name, mode);
    }
    let output = imds_lint(dir.path(), &["--fix", "."]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(text(&output.stderr), "");
    for (name, mode) in [("u.sh", "4755"), ("g.sh", "2755"), ("ug.sh", "6750")] {
        let path = dir.path().join(name);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), FIXED, "{name}");
        assert_eq!(mode_of(&path), mode, "{name}");
    }
}

#[test]
fn another_users_setuid_file_keeps_its_owner_and_bits_when_root_fixes_it() {
    let dir = workdir();
    if !root(dir.path()) {
        eprintln!("not run: making a file another user owns needs root");
        return;
    }
    let path = script(dir.path(), "theirs.sh", 0o6755);
    std::os::unix::fs::chown(&path, Some(1234), Some(2345)).unwrap();
    // chown cleared the bits; set them again, as the owner would have.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o6755)).unwrap();
    let output = imds_lint(dir.path(), &["--fix", "theirs.sh"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(text(&output.stderr), "");
    let metadata = std::fs::metadata(&path).unwrap();
    assert_eq!((metadata.uid(), metadata.gid()), (1234, 2345));
    assert_eq!(mode_of(&path), "6755");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), FIXED);
}

#[test]
fn extended_attributes_are_kept() {
    let dir = workdir();
    let path = script(dir.path(), "a.sh", 0o644);
    match xattr::set(&path, "user.test", b"kept") {
        Ok(()) => {}
        // The file system has no user attributes: then none can be lost, and the fix goes on.
        Err(e) if e.kind() == std::io::ErrorKind::Unsupported => {
            eprintln!("user extended attributes unsupported here: checking the fix goes on");
            let output = imds_lint(dir.path(), &["--fix", "a.sh"]);
            assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
            assert_eq!(text(&output.stderr), "");
            assert_eq!(std::fs::read_to_string(&path).unwrap(), FIXED);
            return;
        }
        Err(e) => panic!("cannot set user.test on {}: {e}", path.display()),
    }
    let output = imds_lint(dir.path(), &["--fix", "a.sh"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(text(&output.stderr), "");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), FIXED);
    assert_eq!(
        xattr::get(&path, "user.test").unwrap().as_deref(),
        Some(&b"kept"[..])
    );
    assert_eq!(names_in(dir.path()), ["a.sh"]);
}

#[test]
fn file_capabilities_are_kept() {
    let dir = workdir();
    if !root(dir.path()) {
        eprintln!("not run: setting a file capability needs root");
        return;
    }
    let path = script(dir.path(), "bind.sh", 0o755);
    xattr::set(&path, "security.capability", &net_bind_service())
        .unwrap_or_else(|e| panic!("root cannot set security.capability here: {e}"));
    let output = imds_lint(dir.path(), &["--fix", "bind.sh"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(text(&output.stderr), "");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), FIXED);
    // Copied after the owner was set: chown drops capabilities.
    assert_eq!(
        xattr::get(&path, "security.capability").unwrap(),
        Some(net_bind_service())
    );
}

#[test]
fn an_owner_that_cannot_be_kept_is_said() {
    let dir = workdir();
    if !root(dir.path()) {
        eprintln!("not run: making a file another user owns, and dropping to it, needs root");
        return;
    }
    // Root's file, in a directory every user may write: user OTHER may replace it, not chown it.
    let path = script(dir.path(), "a.sh", 0o644);
    let output = imds_lint_as_other(dir.path(), &["--fix", "a.sh"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stderr),
        format!("imds-lint: warning: a.sh: fixed, but its owner could not be kept: it was uid 0 gid 0 and is now uid {OTHER} gid {OTHER}\n")
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), FIXED);
    let metadata = std::fs::metadata(&path).unwrap();
    assert_eq!((metadata.uid(), metadata.gid()), (OTHER, OTHER));
    assert_eq!(mode_of(&path), "0644");
}

#[test]
fn an_attribute_that_cannot_be_kept_refuses_the_fix() {
    let dir = workdir();
    if !root(dir.path()) {
        eprintln!("not run: setting a file capability, and dropping to another user, needs root");
        return;
    }
    // User OTHER may read the capability but not set one: the fix would drop it.
    let path = script(dir.path(), "bind.sh", 0o755);
    xattr::set(&path, "security.capability", &net_bind_service())
        .unwrap_or_else(|e| panic!("root cannot set security.capability here: {e}"));
    let output = imds_lint_as_other(dir.path(), &["--fix", "--format", "concise", "bind.sh"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains("imds-lint: warning: bind.sh: cannot keep its extended attribute `security.capability` (Operation not permitted (os error 1)); not fixed\n"),
        "{}",
        text(&output.stderr)
    );
    assert!(text(&output.stdout).starts_with("bind.sh:2:1: IMDS001 "));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), SCRIPT);
    assert_eq!(std::fs::metadata(&path).unwrap().uid(), 0);
    assert_eq!(
        xattr::get(&path, "security.capability").unwrap(),
        Some(net_bind_service())
    );
    assert_eq!(names_in(dir.path()), ["bind.sh"], "no temporary file left");
}

#[test]
fn read_only_files_are_refused() {
    let dir = workdir();
    let path = script(dir.path(), "ro.sh", 0o444);
    let output = imds_lint(dir.path(), &["--fix", "--format", "concise", "ro.sh"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert!(
        text(&output.stderr)
            .contains("imds-lint: warning: ro.sh: read-only (mode 0444); not fixed\n"),
        "{}",
        text(&output.stderr)
    );
    assert!(text(&output.stdout).starts_with("ro.sh:2:1: IMDS001 "));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), SCRIPT);
    assert_eq!(mode_of(&path), "0444");
}

#[test]
fn temporary_files_of_interrupted_runs_are_removed_and_never_read() {
    let dir = workdir();
    let gone = {
        let mut child = Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    };
    // What a run killed between writing and renaming leaves: a copy of the script, fixed or not.
    let stale = format!(".imds-lint-fix-{gone}-Ab12Cd.tmp");
    let live = format!(".imds-lint-fix-{}-Zz99Yy.tmp", std::process::id());
    std::fs::write(dir.path().join(&stale), SCRIPT).unwrap();
    std::fs::write(dir.path().join(&live), SCRIPT).unwrap();
    let path = script(dir.path(), "boot.sh", 0o755);

    let scan = imds_lint(dir.path(), &["--format", "concise", "."]);
    assert_eq!(scan.status.code(), Some(1));
    assert_eq!(
        text(&scan.stdout),
        "./boot.sh:2:1: IMDS001 `curl` request to the metadata service without a token [fix]\n"
    );
    let note = "a temporary file that an interrupted `imds-lint --fix` left; not read (the next --fix in its directory removes it)";
    let mut notes = [
        format!("imds-lint: warning: ./{stale}: {note}\n"),
        format!("imds-lint: warning: ./{live}: {note}\n"),
    ];
    notes.sort();
    assert_eq!(
        text(&scan.stderr),
        format!(
            "{}{}Found 1 problem (1 error, 0 warnings) in 1 file (1 file scanned).\n1 fixable with the `--fix` option.\n",
            notes[0], notes[1]
        )
    );

    let fix = imds_lint(dir.path(), &["--fix", "."]);
    assert_eq!(fix.status.code(), Some(0), "{}", text(&fix.stderr));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), FIXED);
    // The dead run's file is gone; this test's own process still lives, and its file is new.
    assert_eq!(names_in(dir.path()), [live, "boot.sh".to_owned()]);
}
