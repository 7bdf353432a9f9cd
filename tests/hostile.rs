//! Hostile repositories and unfriendly machines (issue 12): each case builds its input in a
//! temporary directory, runs the real binary, and asserts the specific outcome — a note, a
//! finding, a refused write, bytes unchanged — not only that nothing panicked.

#[path = "support/run.rs"]
mod run;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use run::text;

const TOKENLESS: &str = "#!/bin/sh\ncurl -s http://169.254.169.254/latest/meta-data/instance-id\n";

fn terraform(tokens: &str) -> String {
    format!(
        "resource \"aws_instance\" \"web\" {{\n  user_data = file(\"${{path.module}}/boot.sh\")\n  metadata_options {{\n    http_tokens = \"{tokens}\"\n  }}\n}}\n"
    )
}

/// Runs the binary with a deadline (a hang fails the test instead of blocking), and with
/// `--isolated` unless the arguments name a `--config`.
fn imds_lint(dir: &Path, args: &[&str]) -> Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_imds-lint"));
    if !args.contains(&"--config") {
        command.arg("--isolated");
    }
    command
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .env_remove("GITHUB_ACTIONS")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = command.spawn().unwrap();
    let pid = child.id();
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = send.send(child.wait_with_output());
    });
    match receive.recv_timeout(Duration::from_secs(30)) {
        Ok(output) => output.unwrap(),
        Err(_) => {
            let _ = std::process::Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status();
            panic!("imds-lint {args:?} did not finish within 30 s");
        }
    }
}

/// A setting is never set to require tokens while a boot script it depends on could not be
/// fixed on disk: here the script is a link out of the scanned root, which `--fix` refuses.
#[test]
fn no_setting_fix_relies_on_a_boot_fix_that_was_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let (repo, outside) = (dir.path().join("repo"), dir.path().join("outside"));
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("boot.sh"), TOKENLESS).unwrap();
    std::os::unix::fs::symlink("../outside/boot.sh", repo.join("boot.sh")).unwrap();
    std::fs::write(repo.join("main.tf"), terraform("optional")).unwrap();
    let output = imds_lint(dir.path(), &["--fix", "--format", "concise", "repo"]);
    let stderr = text(&output.stderr);
    assert_eq!(
        std::fs::read_to_string(repo.join("main.tf")).unwrap(),
        terraform("optional"),
        "the setting was changed although its boot script was not fixed\n{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(outside.join("boot.sh")).unwrap(),
        TOKENLESS
    );
    assert!(stderr.contains("outside the scanned root"), "{stderr}");
    // What is reported is what is on disk: both findings stand, and the run fails.
    let stdout = text(&output.stdout);
    assert!(stdout.contains("repo/boot.sh:2:1: IMDS001"), "{stdout}");
    assert!(stdout.contains("repo/main.tf:4:20: IMDS010"), "{stdout}");
    assert_eq!(output.status.code(), Some(1));

    // With the script inside the root, the same run fixes both, the script first.
    std::fs::remove_file(repo.join("boot.sh")).unwrap();
    std::fs::write(repo.join("boot.sh"), TOKENLESS).unwrap();
    let output = imds_lint(dir.path(), &["--fix", "--format", "concise", "repo"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(
        std::fs::read_to_string(repo.join("main.tf")).unwrap(),
        terraform("required")
    );
    assert!(std::fs::read_to_string(repo.join("boot.sh"))
        .unwrap()
        .contains("X-aws-ec2-metadata-token: $IMDS_TOKEN"));
}

/// A FIFO, named on the command line or reached through a link in the tree, is never opened for
/// a blocking read: it gets a note and the scan goes on.
#[test]
fn fifos_are_not_read_and_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.sh");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success(), "mkfifo failed");
    std::os::unix::fs::symlink("pipe.sh", dir.path().join("link.sh")).unwrap();
    std::fs::write(dir.path().join("boot.sh"), TOKENLESS).unwrap();

    let output = imds_lint(dir.path(), &["--format", "concise", "pipe.sh"]);
    assert_eq!(output.status.code(), Some(2), "nothing could be scanned");
    assert!(
        text(&output.stderr).contains("pipe.sh: a named pipe (FIFO), not a regular file; not read"),
        "{}",
        text(&output.stderr)
    );

    let output = imds_lint(dir.path(), &["--format", "concise", "."]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stdout).contains("boot.sh:2:1: IMDS001"));
}

/// With a raised `--max-file-size`, a large binary file costs its first 8 KiB, not its size.
#[test]
fn large_binary_files_are_not_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let file = std::fs::File::create(dir.path().join("disk.img")).unwrap();
    // Sparse: 1 GiB of NUL bytes that take no disk space.
    file.set_len(1 << 30).unwrap();
    drop(file);
    let output = imds_lint(
        dir.path(),
        &["--max-file-size", "2GiB", "--statistics", "disk.img"],
    );
    assert!(
        text(&output.stderr).contains("binary (skipped): 1"),
        "{}",
        text(&output.stderr)
    );
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct it is given.
    assert_eq!(
        unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) },
        0
    );
    // ru_maxrss is in KiB on Linux: the largest child of this test binary stayed far below 1 GiB.
    assert!(
        usage.ru_maxrss < 256 * 1024,
        "a child reached {} KiB",
        usage.ru_maxrss
    );
}

/// An ignore file with lines that are not valid globs, at the root or in a directory below (where
/// the walker attaches its error to the directory's entry): every bad line gets its own note, in
/// the JSON too, the other lines are honoured, and the scan goes on.
#[test]
fn bad_lines_of_ignore_files_are_each_said() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("sub/skipped")).unwrap();
    std::fs::write(root.join("sub/boot.sh"), TOKENLESS).unwrap();
    std::fs::write(root.join("sub/skipped/boot.sh"), TOKENLESS).unwrap();
    std::fs::write(root.join("sub/.gitignore"), "{a\nskipped/\n[z-a]\n").unwrap();
    std::fs::write(root.join(".ignore"), "b{\n").unwrap();
    let output = imds_lint(root, &["--format", "json", "."]);
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let found: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(found, ["./sub/boot.sh"]);
    let said: Vec<(&str, &str, &str)> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["path"].as_str().unwrap(),
                d["kind"].as_str().unwrap(),
                d["message"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        said,
        [
            ("./.ignore", "warning", "line 1: error parsing glob 'b{': unclosed alternate group; missing '}' (maybe escape '{' with '[{]'?)"),
            ("./sub/.gitignore", "warning", "line 1: error parsing glob '{a': unclosed alternate group; missing '}' (maybe escape '{' with '[{]'?)"),
            ("./sub/.gitignore", "warning", "line 3: error parsing glob '[z-a]': invalid range; 'z' > 'a'"),
        ]
    );
}

/// Ignore files that lead to a device or a FIFO (git stores such links, so a fresh clone has
/// them) are never read: a directory holding one is not entered, with a note; at the root, no
/// ignore file is honoured, with a note. The scan finishes and finds what it can.
#[test]
fn hostile_ignore_files_are_not_read() {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["sub", "top"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        std::fs::write(dir.path().join(sub).join("boot.sh"), TOKENLESS).unwrap();
    }
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("sub/.gitignore")).unwrap();
    let output = imds_lint(dir.path(), &["--format", "concise", "."]);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(stdout.contains("top/boot.sh:2:1: IMDS001"), "{stdout}");
    assert!(!stdout.contains("sub/boot.sh"), "{stdout}");
    assert!(
        stderr.contains("sub/.gitignore: this ignore file is not a regular file")
            && stderr.contains("its directory ./sub was not scanned"),
        "{stderr}"
    );

    // A FIFO `.ignore` at the root: nothing is honoured, everything is scanned, and it is said.
    std::fs::remove_file(dir.path().join("sub/.gitignore")).unwrap();
    std::fs::write(dir.path().join(".gitignore"), "top/\n").unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(dir.path().join(".ignore"))
        .status()
        .unwrap();
    assert!(made.success());
    let output = imds_lint(dir.path(), &["--format", "concise", "."]);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(stdout.contains("sub/boot.sh:2:1: IMDS001"), "{stdout}");
    assert!(stdout.contains("top/boot.sh:2:1: IMDS001"), "{stdout}");
    assert!(
        stderr.contains(".ignore: this ignore file is not a regular file")
            && stderr.contains("no ignore file was honoured under ."),
        "{stderr}"
    );

    // A configuration file that is a FIFO is refused, not waited on.
    let output = imds_lint(dir.path(), &["--config", ".ignore", "."]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("a named pipe (FIFO), not a regular file"),
        "{}",
        text(&output.stderr)
    );
}

/// Two paths to one file (a link inside the root): `--fix` writes it once and reports both
/// paths as fixed, with no stale finding and no "changed on disk" complaint.
#[test]
fn two_paths_to_one_file_are_fixed_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.sh"), TOKENLESS).unwrap();
    std::os::unix::fs::symlink("a.sh", dir.path().join("link.sh")).unwrap();
    let output = imds_lint(dir.path(), &["--fix", "--format", "concise", "."]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("changed on disk"), "{stderr}");
    assert!(
        stderr.contains("fixed 2 of 2 findings in 2 files"),
        "{stderr}"
    );
    let fixed = std::fs::read_to_string(dir.path().join("a.sh")).unwrap();
    assert_eq!(fixed.matches("api/token").count(), 1, "{fixed}");
    assert!(std::fs::symlink_metadata(dir.path().join("link.sh"))
        .unwrap()
        .file_type()
        .is_symlink());
}

/// A file that a scanned file names as user data (`file()`) outside the scanned root is not
/// read, as a fix outside the root is not written: a note names it, and none of its lines is
/// printed, unless `--read-outside-root` allows it.
#[test]
fn files_named_outside_the_root_are_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let (repo, outside) = (dir.path().join("repo"), dir.path().join("outside"));
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(
        outside.join("secret.sh"),
        "#!/bin/sh\n# password=hunter2\ncurl -s http://169.254.169.254/latest/meta-data/\n",
    )
    .unwrap();
    std::fs::write(
        repo.join("main.tf"),
        "resource \"aws_instance\" \"web\" {\n  user_data = file(\"${path.module}/../outside/secret.sh\")\n  metadata_options {\n    http_tokens = \"required\"\n  }\n}\n",
    )
    .unwrap();
    let output = imds_lint(&repo, &["--format", "concise", "."]);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(
        !stdout.contains("secret.sh") && !stdout.contains("hunter2"),
        "{stdout}"
    );
    assert!(!stderr.contains("hunter2"), "{stderr}");
    assert!(
        stderr.contains("secret.sh: referenced as user data, but it is outside the scanned root"),
        "{stderr}"
    );
    let output = imds_lint(&repo, &["--format", "concise", "--read-outside-root", "."]);
    let stdout = text(&output.stdout);
    assert!(stdout.contains("secret.sh:3:1: IMDS001"), "{stdout}");
}
