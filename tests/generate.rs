//! `imds-lint completions SHELL` and `imds-lint man`: generated from the clap definition, so the
//! tests check that the output is well formed and knows the flags, not its exact text.

#[path = "support/run.rs"]
mod run;
#[path = "support/tools.rs"]
mod tools;

use std::process::Command;

use run::{imds_lint, text};

fn generated(args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let output = imds_lint(dir.path(), args);
    assert!(
        output.status.success(),
        "imds-lint {args:?}: {}",
        text(&output.stderr)
    );
    text(&output.stdout)
}

#[test]
fn bash_completion_parses_and_knows_the_flags() {
    tools::require(&[tools::BASH]);
    let script = generated(&["completions", "bash"]);
    for word in [
        "--fix",
        "--format",
        "--select",
        "rule",
        "completions",
        "man",
    ] {
        assert!(script.contains(word), "no {word} in:\n{script}");
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("imds-lint.bash");
    std::fs::write(&path, &script).unwrap();
    let check = Command::new("bash").arg("-n").arg(&path).output().unwrap();
    assert!(check.status.success(), "bash -n: {}", text(&check.stderr));
    // Sourcing it registers the completion function for the command.
    let registered = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {} && complete -p imds-lint",
            path.display()
        ))
        .output()
        .unwrap();
    assert!(
        text(&registered.stdout).contains("imds-lint"),
        "{}{}",
        text(&registered.stdout),
        text(&registered.stderr)
    );
}

#[test]
fn other_shells_get_a_script() {
    for (shell, marker) in [
        ("zsh", "#compdef imds-lint"),
        ("fish", "complete -c imds-lint"),
        ("elvish", "imds-lint"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let script = generated(&["completions", shell]);
        assert!(
            script.contains(marker),
            "{shell}: no {marker:?} in:\n{script}"
        );
        assert!(script.contains("fix"), "{shell}: no --fix in:\n{script}");
    }
}

#[test]
fn unknown_shell_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = imds_lint(dir.path(), &["completions", "tcsh"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn man_page_is_roff_with_every_flag() {
    let page = generated(&["man"]);
    let first_macro = page
        .lines()
        .find(|l| l.starts_with(".TH") || l.starts_with(".SH"))
        .unwrap_or_default();
    assert!(first_macro.starts_with(".TH imds-lint 1"), "{page}");
    for flag in ["format", "fix", "diff", "select", "token-ttl"] {
        let roff = format!("\\fB\\-\\-{}\\fR", flag.replace('-', "\\-"));
        assert!(page.contains(&roff), "no {roff} in:\n{page}");
    }
    assert!(page.contains(".SH SUBCOMMANDS"), "{page}");
}
