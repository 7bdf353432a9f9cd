//! The habits that keep the test suite honest, checked like everything else: a test that needs a
//! tool fails without it (never skips); `.ci/run`, the one test command, installs every tool the
//! tests ask for; and GitHub runs it on every push and pull request.

#[path = "support/tools.rs"]
mod tools;

use std::collections::BTreeSet;
use std::panic;
use std::path::{Path, PathBuf};
use std::process::Command;
use tools::{require, Tool};

fn ci_run() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/run")
}

/// What `require` fails with, or `None` when it passes.
fn failure(tools: &[Tool]) -> Option<String> {
    let payload = panic::catch_unwind(|| require(tools)).err()?;
    Some(
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default(),
    )
}

#[test]
fn a_missing_tool_fails_the_test_naming_it_and_ci_run() {
    let ghost = Tool {
        name: "ghost-client",
        package: "ghost-package",
        probe: &["imds-lint-test-no-such-program", "--version"],
        banner: None,
    };
    let message = failure(&[tools::BASH, ghost]).expect("a missing tool must fail the test");
    assert!(message.contains("ghost-client"), "{message}");
    assert!(message.contains("ghost-package"), "{message}");
    assert!(message.contains(".ci/run"), "{message}");
    assert!(
        !message.contains("bash (Debian package"),
        "only the missing tool is named: {message}"
    );
}

#[test]
fn a_program_of_the_right_name_but_the_wrong_kind_is_missing() {
    // BusyBox's wget answers to `wget` but is not GNU Wget.
    let busybox_wget = Tool {
        banner: Some("GNU Wget"),
        probe: &["sh", "-c", "echo 'BusyBox v1.36.1 multi-call binary.'"],
        ..tools::GNU_WGET
    };
    assert!(!busybox_wget.installed());
    assert!(failure(&[busybox_wget]).is_some_and(|m| m.contains("GNU wget")));
    let gnu_wget = Tool {
        probe: &["sh", "-c", "echo 'GNU Wget 1.21.3 built on linux-gnu.'"],
        ..tools::GNU_WGET
    };
    assert!(gnu_wget.installed());
}

#[test]
fn present_tools_pass() {
    let sh = Tool {
        name: "sh",
        package: "dash",
        probe: &["sh", "-c", "true"],
        banner: None,
    };
    assert_eq!(failure(&[sh]), None);
}

/// The Debian packages `.ci/run` installs when their tool is missing: every word of its
/// `packages+=(...)` lines.
fn packages_ci_run_installs() -> BTreeSet<String> {
    let script = std::fs::read_to_string(ci_run()).unwrap();
    script
        .lines()
        .filter_map(|line| line.split_once("packages+=(")?.1.split_once(')'))
        .flat_map(|(words, _)| words.split_whitespace().map(str::to_owned))
        .collect()
}

#[test]
fn ci_run_installs_every_tool_the_tests_require() {
    let installed = packages_ci_run_installs();
    let missing: Vec<String> = tools::ALL
        .iter()
        .filter(|tool| !installed.contains(tool.package))
        .map(|tool| format!("{} (package {})", tool.name, tool.package))
        .collect();
    assert!(
        missing.is_empty(),
        ".ci/run never installs {}; it installs {installed:?}",
        missing.join(", ")
    );
}

/// shellcheck has nothing to say about `.ci/run`.
#[test]
fn ci_run_passes_shellcheck() {
    require(&[tools::SHELLCHECK]);
    let out = Command::new("shellcheck").arg(ci_run()).output().unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `.github/workflows/ci.yml` as JSON, every scalar a string (PyYAML's BaseLoader: `on` stays
/// `"on"`, not YAML 1.1's `true`).
fn workflow() -> serde_json::Value {
    require(&[tools::PYYAML]);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(".github/workflows/ci.yml");
    let out = Command::new("python3")
        .args([
            "-c",
            "import json, sys, yaml\n\
             print(json.dumps(yaml.load(open(sys.argv[1]), Loader=yaml.BaseLoader)))",
        ])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{} is not YAML: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn github_runs_ci_run_on_pushes_and_pull_requests() {
    let workflow = workflow();
    for event in ["push", "pull_request"] {
        assert!(
            workflow["on"].get(event).is_some(),
            "ci.yml does not run on {event}: {}",
            workflow["on"]
        );
    }
    let jobs = workflow["jobs"].as_object().expect("ci.yml has jobs");
    let runs = jobs.values().any(|job| {
        job["runs-on"] == "ubuntu-latest"
            && job["steps"]
                .as_array()
                .is_some_and(|steps| steps.iter().any(|step| step["run"] == "bash .ci/run"))
    });
    assert!(runs, "no ubuntu-latest job runs `bash .ci/run`: {jobs:#?}");
}
