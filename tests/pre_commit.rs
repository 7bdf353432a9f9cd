//! The pre-commit hooks in `.pre-commit-hooks.yaml`, run for real: pre-commit from PyPI (in a
//! virtualenv under target/) points a temporary git repository at this checkout's committed HEAD,
//! builds imds-lint with `cargo install` as every user's pre-commit does, and shows the
//! `imds-lint` hook failing on tokenless scripts, `imds-lint-fix` rewriting them, and the
//! `imds-lint` hook passing after that.
//!
//! Ignored by default (it needs PyPI and crates.io, and the release build takes minutes);
//! `.ci/run` runs it: `cargo test --locked --test pre_commit -- --ignored`. PRE_COMMIT_HOME and
//! the build directory stay under target/, so a second run of the same revision builds nothing.

#[path = "support/tools.rs"]
mod tools;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tools::{require, BASH, GIT, PYTHON3_VENV};

const PRE_COMMIT: &str = "pre-commit==4.7.0";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn shown(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        output.status.code(),
        text(&output.stdout),
        text(&output.stderr)
    )
}

fn run(command: &mut Command) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(output.status.success(), "{command:?}\n{}", shown(&output));
    output
}

fn git(dir: &Path, args: &[&str]) -> String {
    let output = run(Command::new("git").args(args).current_dir(dir));
    text(&output.stdout).trim().to_owned()
}

/// target/tmp/pre-commit: the virtualenv, PRE_COMMIT_HOME and the hooks' build directory.
fn work_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pre-commit");
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// pre-commit, installed from PyPI into target/tmp/pre-commit/venv once.
fn pre_commit_executable(work: &Path) -> PathBuf {
    let venv = work.join("venv");
    let executable = venv.join("bin/pre-commit");
    let installed = Command::new(&executable)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success() && text(&o.stdout).contains("4.7.0"));
    if !installed {
        run(Command::new("python3").arg("-m").arg("venv").arg(&venv));
        run(Command::new(venv.join("bin/python"))
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .arg(PRE_COMMIT));
    }
    executable
}

/// `pre-commit run HOOK --all-files` in `repo`.
fn pre_commit(work: &Path, repo: &Path, hook: &str) -> Output {
    Command::new(pre_commit_executable(work))
        .args(["run", hook, "--all-files"])
        .current_dir(repo)
        .env("PRE_COMMIT_HOME", work.join("home"))
        .env("PRE_COMMIT_COLOR", "never")
        // Kept between runs: a new revision rebuilds only imds-lint itself.
        .env("CARGO_TARGET_DIR", work.join("cargo-target"))
        .env_remove("NO_COLOR")
        .env_remove("GITHUB_ACTIONS")
        .output()
        .unwrap()
}

const TOKENLESS_CURL: &str = "#!/bin/bash\nset -eu\nID=$(curl -s http://169.254.169.254/latest/meta-data/instance-id)\necho \"$ID\"\n";
const TOKENLESS_WGET: &str =
    "#!/bin/sh\nwget -q -O - http://169.254.169.254/latest/meta-data/ami-id\n";
const USER_DATA: &str =
    "#!/bin/bash\ncurl -s http://169.254.169.254/latest/meta-data/local-ipv4 > /etc/ip\n";
const README: &str = "# Notes\n\n    curl http://169.254.169.254/latest/meta-data/\n";

#[test]
#[ignore = "installs pre-commit from PyPI and builds imds-lint with cargo install; .ci/run runs it"]
fn hooks_fail_on_tokenless_scripts_and_pass_after_the_fix_hook() {
    require(&[GIT, PYTHON3_VENV, BASH]);
    let checkout = PathBuf::from(git(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &["rev-parse", "--show-toplevel"],
    ));
    let rev = git(&checkout, &["rev-parse", "HEAD"]);
    // pre-commit clones the committed revision: a hooks file edited since is not what runs.
    let dirty = Command::new("git")
        .args(["diff", "--quiet", "HEAD", "--", ".pre-commit-hooks.yaml"])
        .current_dir(&checkout)
        .status()
        .unwrap();
    assert!(
        dirty.success(),
        ".pre-commit-hooks.yaml differs from HEAD: commit it first (pre-commit runs the hooks of \
         the committed revision {rev})"
    );

    let work = work_dir();
    let repo = tempfile::tempdir().unwrap();
    let repo = repo.path();
    git(repo, &["init", "-q"]);
    git(repo, &["config", "user.email", "ci@example.invalid"]);
    git(repo, &["config", "user.name", "imds-lint CI"]);
    git(repo, &["config", "commit.gpgsign", "false"]);
    fs::write(
        repo.join(".pre-commit-config.yaml"),
        format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: imds-lint\n      - id: imds-lint-fix\n",
            checkout.display()
        ),
    )
    .unwrap();
    // A .sh script, an extensionless executable found by its shebang, a user-data file, and a
    // README that mentions the endpoint but is not shell (so it must not be flagged).
    fs::write(repo.join("fetch-id.sh"), TOKENLESS_CURL).unwrap();
    fs::create_dir(repo.join("bin")).unwrap();
    fs::write(repo.join("bin/boot"), TOKENLESS_WGET).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(repo.join("bin/boot"), fs::Permissions::from_mode(0o755)).unwrap();
    }
    fs::write(repo.join("user-data"), USER_DATA).unwrap();
    fs::write(repo.join("README.md"), README).unwrap();
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", "tokenless scripts"]);

    // 1. The check fails and names every tokenless request.
    let first = pre_commit(&work, repo, "imds-lint");
    let out = shown(&first);
    assert_eq!(first.status.code(), Some(1), "{out}");
    for file in ["fetch-id.sh:3:6", "bin/boot:2:1", "user-data:2:1"] {
        assert!(out.contains(file), "no finding at {file}:\n{out}");
    }
    assert_eq!(out.matches("IMDS001 tokenless-request").count(), 3, "{out}");
    assert!(!out.contains("README.md"), "{out}");

    // 2. The fix hook rewrites them; pre-commit fails the run because files changed.
    let fixed = pre_commit(&work, repo, "imds-lint-fix");
    let out = shown(&fixed);
    assert_eq!(fixed.status.code(), Some(1), "{out}");
    assert!(out.contains("files were modified by this hook"), "{out}");
    let changed = git(repo, &["diff", "--name-only"]);
    assert_eq!(
        changed.lines().collect::<Vec<_>>(),
        ["bin/boot", "fetch-id.sh", "user-data"],
        "{out}"
    );
    for file in ["fetch-id.sh", "bin/boot", "user-data"] {
        let script = fs::read_to_string(repo.join(file)).unwrap();
        assert!(
            script.contains("X-aws-ec2-metadata-token: $IMDS_TOKEN"),
            "{file}:\n{script}"
        );
        let syntax = Command::new("bash")
            .arg("-n")
            .arg(repo.join(file))
            .output()
            .unwrap();
        assert!(syntax.status.success(), "{file}: {}", shown(&syntax));
    }
    assert_eq!(fs::read_to_string(repo.join("README.md")).unwrap(), README);

    // 3. The check passes on the fixed files.
    let after = pre_commit(&work, repo, "imds-lint");
    assert_eq!(after.status.code(), Some(0), "{}", shown(&after));
}
