//! Every output format, run for real on the three scripts in `tests/formats/` (a fixable IMDS001
//! with a non-ASCII column, a repeated request and a request over two lines; an IMDS004 warning;
//! a file name with a space, a comma and a percent sign), compared with snapshots in
//! `tests/snapshots/` that were checked by hand, line by line. Then what snapshots cannot show:
//! the choice of `github` under GitHub Actions, and GitLab fingerprints that survive moved lines.

#[path = "support/run.rs"]
mod run;

use std::path::Path;
use std::process::{Command, Output};

use run::{imds_lint, text};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `imds-lint --format FORMAT tests/formats`, run from the crate root: its stdout, after checking
/// that it found problems (exit 1).
fn scan(format: &str) -> String {
    let output = imds_lint(
        root(),
        &["--format", format, "--color", "never", "tests/formats"],
    );
    assert_eq!(
        output.status.code(),
        Some(1),
        "stderr: {}",
        text(&output.stderr)
    );
    text(&output.stdout)
}

/// The SARIF log with what depends on the machine and the release replaced: the absolute URI of
/// the directory it ran in, and the version.
fn sarif() -> String {
    let root_uri = format!("file://{}/", root().display());
    let log = scan("sarif");
    assert!(log.contains(&root_uri), "no %SRCROOT% {root_uri} in {log}");
    let version = format!("\"{}\"", env!("CARGO_PKG_VERSION"));
    log.replace(&root_uri, "file:///ROOT/")
        .replace(&version, "\"VERSION\"")
}

#[test]
fn human() {
    insta::assert_snapshot!(scan("human"));
}

#[test]
fn concise() {
    insta::assert_snapshot!(scan("concise"));
}

#[test]
fn json() {
    insta::assert_snapshot!(scan("json"));
}

#[test]
fn json_lines() {
    let lines = scan("json-lines");
    // The same finding objects as `--format json`, one per line.
    let document: serde_json::Value = serde_json::from_str(&scan("json")).unwrap();
    let objects: Vec<serde_json::Value> = lines
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(document["findings"].as_array().unwrap(), &objects);
    insta::assert_snapshot!(lines);
}

#[test]
fn github() {
    insta::assert_snapshot!(scan("github"));
}

#[test]
fn sarif_log() {
    insta::assert_snapshot!(sarif());
}

#[test]
fn checkstyle() {
    insta::assert_snapshot!(scan("checkstyle"));
}

#[test]
fn junit() {
    insta::assert_snapshot!(scan("junit"));
}

#[test]
fn gitlab() {
    insta::assert_snapshot!(scan("gitlab"));
}

/// `imds-lint ARGS` in `dir` with `GITHUB_ACTIONS` set to `value`.
fn under_actions(dir: &Path, value: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_imds-lint"))
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .env("GITHUB_ACTIONS", value)
        .output()
        .unwrap()
}

#[test]
fn github_actions_gets_workflow_commands_and_the_summary_line() {
    let output = under_actions(root(), "true", &["tests/formats"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(text(&output.stdout), scan("github"));
    assert_eq!(
        text(&output.stderr),
        "Found 7 problems (6 errors, 1 warning) in 3 files (3 files scanned).\n6 fixable with the `--fix` option.\n"
    );
}

#[test]
fn an_explicit_format_wins_over_github_actions() {
    let json = under_actions(root(), "true", &["--format", "json", "tests/formats"]);
    assert_eq!(text(&json.stdout), scan("json"));
    assert_eq!(text(&json.stderr), "");
    let human = under_actions(root(), "true", &["--format", "human", "tests/formats"]);
    assert!(text(&human.stdout).contains("IMDS001 tokenless-request"));
    assert!(!text(&human.stdout).contains("::error"));
}

#[test]
fn github_actions_other_than_true_keeps_human() {
    let output = under_actions(root(), "false", &["--color", "never", "tests/formats"]);
    assert_eq!(text(&output.stdout), scan("human"));
}

#[test]
fn fix_under_github_actions_keeps_stdout_to_workflow_commands() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("tests/formats/token-variable.sh"),
        dir.path().join("token-variable.sh"),
    )
    .unwrap();
    std::fs::copy(
        root().join("tests/formats/tokenless.sh"),
        dir.path().join("tokenless.sh"),
    )
    .unwrap();
    let output = under_actions(dir.path(), "true", &["--fix", "."]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    // Only the IMDS004 warning is left, which has no fix.
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(
        stdout.starts_with("::warning file=token-variable.sh,line=3,"),
        "{stdout}"
    );
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("fixed 4 of 5 findings in 1 file"),
        "{stderr}"
    );
}

fn gitlab_issues(dir: &Path) -> Vec<serde_json::Value> {
    let output = imds_lint(dir, &["--format", "gitlab", "."]);
    let issues: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    issues.as_array().unwrap().clone()
}

#[test]
fn gitlab_fingerprints_survive_moved_lines_and_tell_repeats_apart() {
    let original = std::fs::read_to_string(root().join("tests/formats/tokenless.sh")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("tokenless.sh");
    std::fs::write(&script, &original).unwrap();
    let before = gitlab_issues(dir.path());
    // Lines added above every finding, and the second request's spacing changed.
    let moved = original
        .replacen("# A tokenless", "\n\n# A tokenless", 1)
        .replacen(
            "curl -s http://169.254.169.254/latest/meta-data/instance-id\n",
            "curl   -s  http://169.254.169.254/latest/meta-data/instance-id\n",
            1,
        );
    std::fs::write(&script, moved).unwrap();
    let after = gitlab_issues(dir.path());
    assert_eq!(before.len(), 4);
    assert_eq!(after.len(), 4);
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(b["fingerprint"], a["fingerprint"]);
        assert_eq!(
            b["location"]["lines"]["begin"].as_u64().unwrap() + 2,
            a["location"]["lines"]["begin"].as_u64().unwrap()
        );
    }
    let mut prints: Vec<&str> = before
        .iter()
        .map(|i| i["fingerprint"].as_str().unwrap())
        .collect();
    prints.sort();
    prints.dedup();
    assert_eq!(
        prints.len(),
        4,
        "the two identical requests share a fingerprint"
    );
}
