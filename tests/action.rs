//! The GitHub Action (`action.yml`): its steps live in `scripts/action.sh`, run here as the runner
//! runs them, with GITHUB_ACTIONS, GITHUB_WORKSPACE, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY,
//! GITHUB_PATH and the INPUT_* variables that action.yml maps its inputs to, on a temporary git
//! repository, with the binary under test first on PATH (as the install step leaves it).
//! The install step itself (a release `cargo install`) is an ignored test that `.ci/run` runs.

#[path = "support/run.rs"]
mod run;
#[path = "support/tools.rs"]
mod tools;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use run::text;

const TOKENLESS: &str =
    "#!/bin/bash\nset -eu\nID=$(curl -s http://169.254.169.254/latest/meta-data/instance-id)\necho \"$ID\"\n";
/// Only IMDS004 (a warning): the header's variable is never assigned from a token request.
const WARNING_ONLY: &str = "#!/bin/bash\ncurl -s -H \"X-aws-ec2-metadata-token: $TOKEN\" http://169.254.169.254/latest/meta-data/ami-id\n";
const CLEAN: &str = "#!/bin/sh\necho hello\n";

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/action.sh")
}

/// A workspace: a git repository with `files`, and the files the runner gives each step.
struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    fn new(files: &[(&str, &str)]) -> Self {
        tools::require(&[tools::GIT, tools::BASH]);
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        for (name, content) in files {
            let path = repo.join(name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, content).unwrap();
        }
        fs::create_dir_all(&repo).unwrap();
        let git = |args: &[&str]| {
            let out = Command::new("git")
                .args(args)
                .current_dir(&repo)
                .output()
                .unwrap();
            assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
        };
        git(&["init", "-q"]);
        git(&["add", "-A"]);
        fs::create_dir(dir.path().join("runner")).unwrap();
        Workspace { dir }
    }

    fn repo(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    fn runner_file(&self, name: &str) -> PathBuf {
        self.dir.path().join("runner").join(name)
    }

    /// Runs `action.sh STEP` with the runner's variables and `inputs` (name → value, as in
    /// action.yml: `fail-on` becomes INPUT_FAIL_ON).
    fn step(&self, step: &str, inputs: &[(&str, &str)]) -> Output {
        let binary = PathBuf::from(env!("CARGO_BIN_EXE_imds-lint"));
        let path = format!(
            "{}:{}",
            binary.parent().unwrap().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut command = Command::new("bash");
        command
            .arg(script())
            .arg(step)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", path)
            .env("HOME", self.dir.path())
            .env("GITHUB_ACTIONS", "true")
            .env("CI", "true")
            .env("GITHUB_WORKSPACE", self.repo())
            .env("GITHUB_ACTION_PATH", env!("CARGO_MANIFEST_DIR"))
            .env("GITHUB_OUTPUT", self.runner_file("output"))
            .env("GITHUB_STEP_SUMMARY", self.runner_file("summary"))
            .env("GITHUB_PATH", self.runner_file("path"))
            .env("RUNNER_TEMP", self.runner_file("temp"))
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64");
        for (name, value) in inputs {
            let variable = format!("INPUT_{}", name.to_uppercase().replace('-', "_"));
            command.env(variable, value);
        }
        command.output().unwrap()
    }

    /// What the steps wrote to GITHUB_OUTPUT.
    fn outputs(&self) -> BTreeMap<String, String> {
        fs::read_to_string(self.runner_file("output"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    fn summary(&self) -> String {
        fs::read_to_string(self.runner_file("summary")).unwrap_or_default()
    }
}

fn shown(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        output.status.code(),
        text(&output.stdout),
        text(&output.stderr)
    )
}

fn counts(ws: &Workspace) -> (String, String, String) {
    let outputs = ws.outputs();
    let get = |k: &str| outputs.get(k).cloned().unwrap_or_default();
    (get("findings"), get("errors"), get("warnings"))
}

#[test]
fn defaults_annotate_and_fail_on_errors() {
    let ws = Workspace::new(&[
        ("deploy/fetch-id.sh", TOKENLESS),
        ("ok.sh", CLEAN),
        (
            "README.md",
            "curl http://169.254.169.254/latest/meta-data/\n",
        ),
    ]);
    let out = ws.step("run", &[]);
    let log = shown(&out);
    assert_eq!(out.status.code(), Some(1), "{log}");
    let stdout = text(&out.stdout);
    let annotation = "::error file=deploy/fetch-id.sh,line=3,";
    assert!(stdout.contains(annotation), "no {annotation:?} in:\n{log}");
    assert!(stdout.contains("IMDS001"), "{log}");
    assert_eq!(stdout.matches("::error ").count(), 1, "{log}");
    assert_eq!(counts(&ws), ("1".into(), "1".into(), "0".into()));
    let summary = ws.summary();
    assert!(summary.contains("### imds-lint"), "{summary}");
    assert!(
        summary.contains("| `deploy/fetch-id.sh:3:6` | IMDS001 |"),
        "{summary}"
    );
}

#[test]
fn fail_on_decides_the_exit_status() {
    let errors = Workspace::new(&[("a.sh", TOKENLESS), ("b.sh", WARNING_ONLY)]);
    let warnings = Workspace::new(&[("b.sh", WARNING_ONLY)]);
    // (workspace, fail-on, expected exit status)
    let cases = [
        (&errors, "error", 1),
        (&errors, "warning", 1),
        (&errors, "never", 0),
        (&warnings, "error", 0),
        (&warnings, "warning", 1),
        (&warnings, "never", 0),
    ];
    for (ws, fail_on, expected) in cases {
        let _ = fs::remove_file(ws.runner_file("output"));
        let out = ws.step("run", &[("fail-on", fail_on)]);
        assert_eq!(
            out.status.code(),
            Some(expected),
            "fail-on {fail_on}:\n{}",
            shown(&out)
        );
    }
    assert_eq!(counts(&errors), ("2".into(), "1".into(), "1".into()));
    assert_eq!(counts(&warnings), ("1".into(), "0".into(), "1".into()));
    let out = warnings.step("run", &[]);
    assert!(
        text(&out.stdout).contains("::warning file=b.sh,line=2,"),
        "{}",
        shown(&out)
    );
}

/// A file that was not analysed (broken YAML) is a warning annotation; with `fail-on-skipped`
/// (the input, or the configuration file's key) it fails the step although nothing was found.
#[test]
fn fail_on_skipped_fails_on_a_file_not_analysed() {
    let broken = "#cloud-config\nruncmd:\n  - \"curl http://169.254.169.254/latest/meta-data/\n";
    let ws = Workspace::new(&[("ok.sh", CLEAN), ("user-data.yaml", broken)]);
    let out = ws.step("run", &[]);
    let log = shown(&out);
    assert_eq!(out.status.code(), Some(0), "{log}");
    // Diagnostics are workflow commands on stderr, which the runner reads too.
    assert!(
        text(&out.stderr).contains("::warning file=user-data.yaml,title=imds-lint::"),
        "{log}"
    );
    let out = ws.step("run", &[("fail-on-skipped", "true"), ("fail-on", "never")]);
    let log = shown(&out);
    assert_eq!(out.status.code(), Some(1), "{log}");
    assert!(
        text(&out.stderr).contains("failing because of fail-on-skipped"),
        "{log}"
    );
    assert!(
        ws.summary().contains("were not analysed"),
        "{}",
        ws.summary()
    );
    assert_eq!(counts(&ws), ("0".into(), "0".into(), "0".into()));
    // From the configuration file: the step fails, and the runs for the outputs and the SARIF log
    // (which exit 1 for the same reason) do not make it an error.
    let ws = Workspace::new(&[
        ("user-data.yaml", broken),
        ("imds-lint.toml", "fail-on-skipped = true\n"),
    ]);
    let out = ws.step("run", &[("sarif-file", "imds-lint.sarif")]);
    let log = shown(&out);
    assert_eq!(out.status.code(), Some(1), "{log}");
    assert!(!text(&out.stdout).contains("::error"), "{log}");
    let sarif = fs::read_to_string(ws.repo().join("imds-lint.sarif")).unwrap();
    assert!(sarif.contains("toolExecutionNotifications"), "{sarif}");
}

/// Severities come from imds-lint, so a configuration file that raises IMDS004 to an error makes
/// it count, annotate and fail as one.
#[test]
fn configured_severities_count() {
    let ws = Workspace::new(&[
        ("b.sh", WARNING_ONLY),
        ("imds-lint.toml", "[severity]\nIMDS004 = \"error\"\n"),
    ]);
    let out = ws.step("run", &[]);
    let log = shown(&out);
    assert_eq!(out.status.code(), Some(1), "{log}");
    assert!(
        text(&out.stdout).contains("::error file=b.sh,line=2,"),
        "{log}"
    );
    assert_eq!(counts(&ws), ("1".into(), "1".into(), "0".into()));
}

#[test]
fn fix_rewrites_the_workspace_and_reports_what_is_left() {
    let ws = Workspace::new(&[("a.sh", TOKENLESS), ("b.sh", WARNING_ONLY)]);
    let out = ws.step("run", &[("fix", "true")]);
    let log = shown(&out);
    // IMDS004 has no fix: the warning stays, and warnings do not fail by default.
    assert_eq!(out.status.code(), Some(0), "{log}");
    let fixed = fs::read_to_string(ws.repo().join("a.sh")).unwrap();
    assert!(
        fixed.contains("X-aws-ec2-metadata-token: $IMDS_TOKEN"),
        "{fixed}"
    );
    assert!(
        text(&out.stderr).contains("fixed 1 of 2 findings in 1 file"),
        "{log}"
    );
    assert!(!text(&out.stdout).contains("::error"), "{log}");
    assert_eq!(counts(&ws), ("1".into(), "0".into(), "1".into()));
}

#[test]
fn paths_args_and_other_formats() {
    let ws = Workspace::new(&[
        ("a/x.sh", TOKENLESS),
        ("b/y.sh", TOKENLESS),
        ("c/z.sh", TOKENLESS),
    ]);
    let out = ws.step(
        "run",
        &[
            ("paths", "a\nb"),
            ("format", "concise"),
            ("args", "--ignore IMDS004"),
        ],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{}", shown(&out));
    assert!(stdout.contains("a/x.sh:3:6: IMDS001"), "{stdout}");
    assert!(stdout.contains("b/y.sh:3:6: IMDS001"), "{stdout}");
    assert!(!stdout.contains("z.sh"), "{stdout}");
    assert_eq!(counts(&ws).0, "2");
    // A rule turned off through args is not counted either.
    let _ = fs::remove_file(ws.runner_file("output"));
    let out = ws.step("run", &[("paths", "c"), ("args", "--ignore IMDS001")]);
    assert_eq!(out.status.code(), Some(0), "{}", shown(&out));
    assert_eq!(counts(&ws).0, "0");
    assert!(ws
        .summary()
        .contains("No tokenless instance metadata requests"));
}

#[test]
fn sarif_file_is_written() {
    let ws = Workspace::new(&[("a.sh", TOKENLESS)]);
    let out = ws.step(
        "run",
        &[
            ("sarif-file", "reports/imds-lint.sarif"),
            ("fail-on", "never"),
        ],
    );
    let log = shown(&out);
    assert_eq!(out.status.code(), Some(0), "{log}");
    let sarif = fs::read_to_string(ws.repo().join("reports/imds-lint.sarif")).unwrap();
    let value: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    assert_eq!(value["version"], "2.1.0", "{sarif}");
    let results = &value["runs"][0]["results"];
    assert_eq!(results.as_array().map(Vec::len), Some(1), "{sarif}");
    assert_eq!(results[0]["ruleId"], "IMDS001", "{sarif}");
    assert_eq!(
        ws.outputs().get("sarif-file").map(String::as_str),
        Some("reports/imds-lint.sarif")
    );
    // The annotations still go to the log.
    assert!(
        text(&out.stdout).contains("::error file=a.sh,line=3,"),
        "{log}"
    );
}

#[test]
fn bad_inputs_and_failures_exit_2_with_an_error_annotation() {
    let ws = Workspace::new(&[("a.sh", TOKENLESS)]);
    for (inputs, says) in [
        (
            vec![("fail-on", "sometimes")],
            "fail-on must be error, warning or never",
        ),
        (vec![("fix", "yes")], "fix must be true or false"),
        (
            vec![("fail-on-skipped", "yes")],
            "fail-on-skipped must be true or false",
        ),
        (vec![("format", "yaml")], "imds-lint --format yaml exited 2"),
        (vec![("args", "--select IMDS999")], "exited 2"),
        (vec![("paths", "does-not-exist")], "exited 2"),
    ] {
        let out = ws.step("run", &inputs);
        let log = shown(&out);
        assert_eq!(out.status.code(), Some(2), "{inputs:?}: {log}");
        let stdout = text(&out.stdout);
        assert!(stdout.contains("::error title=imds-lint action::"), "{log}");
        assert!(stdout.contains(says), "{inputs:?}: no {says:?} in {log}");
    }
}

/// The key step names the build by a hash of the sources: the same checkout, the same key, and a
/// root under RUNNER_TEMP for actions/cache to restore into.
#[test]
fn key_step_names_the_build() {
    let ws = Workspace::new(&[]);
    let out = ws.step("key", &[]);
    assert!(out.status.success(), "{}", shown(&out));
    let first = ws.outputs();
    let key = first.get("key").cloned().unwrap_or_default();
    assert!(key.starts_with("imds-lint-Linux-X64-"), "{first:?}");
    assert_eq!(key.len(), "imds-lint-Linux-X64-".len() + 32, "{key}");
    let root = first.get("root").cloned().unwrap_or_default();
    assert!(
        root.starts_with(&ws.runner_file("temp").display().to_string()),
        "{root}"
    );
    assert!(
        root.ends_with(&key["imds-lint-Linux-X64-".len()..]),
        "{root}"
    );
    fs::remove_file(ws.runner_file("output")).unwrap();
    assert!(ws.step("key", &[]).status.success());
    assert_eq!(ws.outputs(), first);
}

/// action.yml declares the inputs the script reads and maps each to its INPUT_ variable, and runs
/// the script's three steps.
#[test]
fn action_yml_matches_the_script() {
    let yml = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml")).unwrap();
    assert!(yml.contains("using: composite"));
    let script = fs::read_to_string(script()).unwrap();
    for input in [
        "paths",
        "format",
        "fix",
        "fail-on",
        "fail-on-skipped",
        "sarif-file",
        "args",
    ] {
        let variable = format!("INPUT_{}", input.to_uppercase().replace('-', "_"));
        assert!(yml.contains(&format!("\n  {input}:\n")), "input {input}");
        assert!(
            yml.contains(&format!("{variable}: ${{{{ inputs.{input} }}}}")),
            "{variable} mapping"
        );
        assert!(
            script.contains(&variable),
            "action.sh does not read {variable}"
        );
    }
    for step in ["key", "install", "run"] {
        assert!(
            yml.contains(&format!(
                "bash \"$GITHUB_ACTION_PATH/scripts/action.sh\" {step}"
            )),
            "step {step}"
        );
    }
    for output in ["findings", "errors", "warnings", "sarif-file"] {
        assert!(
            yml.contains(&format!("steps.run.outputs.{output} }}")),
            "output {output}"
        );
        assert!(
            script.contains(&format!("output {output} ")),
            "action.sh never sets {output}"
        );
    }
}

/// shellcheck has nothing to say about the script (.ci/run installs shellcheck).
#[test]
fn action_script_passes_shellcheck() {
    tools::require(&[tools::SHELLCHECK]);
    let out = Command::new("shellcheck").arg(script()).output().unwrap();
    assert!(out.status.success(), "{}", shown(&out));
}

/// The install step builds the binary with `cargo install --locked` from this checkout, puts its
/// directory on GITHUB_PATH, and uses that build again (as after a cache hit) without cargo.
#[test]
#[ignore = "a release cargo install of the crate; .ci/run runs it"]
fn install_step_builds_once_and_reuses_the_build() {
    let ws = Workspace::new(&[]);
    assert!(ws.step("key", &[]).status.success());
    let root = ws.outputs()["root"].clone();
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pre-commit");
    let install = |path: &str| {
        let mut command = Command::new("bash");
        command
            .arg(script())
            .arg("install")
            .env("GITHUB_ACTION_PATH", env!("CARGO_MANIFEST_DIR"))
            .env("GITHUB_PATH", ws.runner_file("path"))
            .env("IMDS_LINT_ROOT", &root)
            // Shared with tests/pre_commit.rs: one release build serves both.
            .env("CARGO_TARGET_DIR", work.join("cargo-target"))
            .env("PATH", path);
        command.output().unwrap()
    };
    let out = install(&std::env::var("PATH").unwrap_or_default());
    assert!(out.status.success(), "{}", shown(&out));
    let bin = Path::new(&root).join("bin");
    let version = Command::new(bin.join("imds-lint"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(
        text(&version.stdout).starts_with("imds-lint "),
        "{}",
        shown(&version)
    );
    let github_path = fs::read_to_string(ws.runner_file("path")).unwrap();
    assert_eq!(github_path, format!("{}\n", bin.display()));
    // A second run (a cache hit) needs no cargo at all.
    let out = install("/usr/bin:/bin");
    assert!(out.status.success(), "{}", shown(&out));
    assert!(
        text(&out.stdout).contains("using the cached build"),
        "{}",
        shown(&out)
    );
}
