//! Files that were not analysed, or only in part, are never silent: run for real on temporary
//! directories holding a file over `--max-file-size`, a dangling link, YAML past the parser's
//! limits, a script nested past the depth limit and a cloud-config with a value that cannot be
//! decoded, each diagnostic is checked in the JSON `diagnostics`, the SARIF tool execution
//! notifications, JUnit and Checkstyle, the human summary line, and the exit status with and
//! without `--fail-on-skipped` (and its configuration key).

#[path = "support/run.rs"]
mod run;

use std::path::Path;
use std::process::Output;

use run::{imds_lint, text};

const TOKENLESS: &str = "#!/bin/sh\ncurl -s http://169.254.169.254/latest/meta-data/instance-id\n";
/// The `--max-file-size` of these tests: big.sh is over it, the deeply nested files are not.
const LIMIT: &str = "1MiB";
const REQUEST: &str = "curl http://169.254.169.254/latest/meta-data/instance-id";

fn write(dir: &Path, rel: &str, bytes: impl AsRef<[u8]>) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(&output.stdout)))
}

/// (path, kind) of each diagnostic of a JSON report, in order, and their messages.
fn diagnostics(output: &Output) -> (Vec<(String, String)>, Vec<String>) {
    let doc = json(output);
    let list = doc["diagnostics"].as_array().expect("a diagnostics array");
    let pairs = list
        .iter()
        .map(|d| {
            let mut keys: Vec<&String> = d.as_object().unwrap().keys().collect();
            keys.sort();
            assert_eq!(keys, ["kind", "message", "path"], "{d}");
            (
                d["path"].as_str().unwrap().to_owned(),
                d["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let messages = list
        .iter()
        .map(|d| d["message"].as_str().unwrap().to_owned())
        .collect();
    (pairs, messages)
}

fn pair(path: &str, kind: &str) -> (String, String) {
    (path.to_owned(), kind.to_owned())
}

/// A directory with nothing to find, where four files are not analysed at all and one only in
/// part, plus a clean script.
fn unanalysed_repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "clean.sh", "#!/bin/sh\necho hello\n");
    // (a) Over --max-file-size (LIMIT): not read.
    write(
        root,
        "big.sh",
        format!("{TOKENLESS}{}\n", "#".repeat(1 << 20)),
    );
    // (b) YAML nested past what tree-sitter-yaml holds, and a script nested past the depth limit:
    // read, but not analysed.
    let nested: String = (0..300)
        .map(|i| format!("{}a{i}:\n", "  ".repeat(i)))
        .collect();
    write(
        root,
        "deep.yaml",
        format!("#cloud-config\n{nested}runcmd:\n  - {REQUEST}\n"),
    );
    write(
        root,
        "deep.sh",
        format!(
            "#!/bin/sh\nx={}$({REQUEST}){}\n",
            "$(echo ".repeat(30_000),
            ")".repeat(30_000)
        ),
    );
    // A value that cannot be decoded: the rest of the cloud-config is analysed.
    write(
        root,
        "partly.yaml",
        "#cloud-config\nwrite_files:\n  - path: /opt/boot.sh\n    encoding: b64\n    content: '%%% not base64 %%%'\nruncmd:\n  - echo 169.254.169.254 is here\n",
    );
    // (c) A dangling link: not walked.
    std::os::unix::fs::symlink("nowhere.sh", root.join("dangling.sh")).unwrap();
    dir
}

#[test]
fn json_lists_every_file_not_analysed_with_its_kind() {
    let dir = unanalysed_repository();
    let output = imds_lint(
        dir.path(),
        &["--format", "json", "--max-file-size", LIMIT, "."],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let doc = json(&output);
    assert_eq!(doc["findings"], serde_json::json!([]));
    let (pairs, messages) = diagnostics(&output);
    assert_eq!(
        pairs,
        [
            pair("./big.sh", "skipped"),
            pair("./dangling.sh", "skipped"),
            pair("./deep.sh", "skipped"),
            pair("./deep.yaml", "skipped"),
            pair("./partly.yaml", "partly-analysed"),
        ]
    );
    // The messages are the stderr warnings, word for word.
    let stderr = text(&output.stderr);
    for (message, (path, _)) in messages.iter().zip(&pairs) {
        assert!(
            stderr.contains(&format!("imds-lint: warning: {path}: {message}\n")),
            "{path}: {message}\n{stderr}"
        );
    }
    assert!(messages[0].contains("over --max-file-size (1048576 bytes)"));
    assert_eq!(
        messages[1],
        "broken symbolic link or vanished file; not scanned"
    );
    assert!(messages[2].contains("nests more than 20000 syntax levels deep"));
    assert!(messages[3].starts_with("the cloud-config: it nests more than 200 levels deep"));
    assert_eq!(
        messages[4],
        "write_files content for /opt/boot.sh could not be decoded as b64"
    );
}

#[test]
fn a_partly_analysed_file_still_reports_its_findings() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "user-data.yaml",
        format!("#cloud-config\nwrite_files:\n  - path: /opt/boot.sh\n    encoding: gzip\n    content: not gzip\nruncmd:\n  - {REQUEST}\n"),
    );
    let output = imds_lint(dir.path(), &["--format", "json", "."]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(json(&output)["findings"][0]["rule"], "IMDS001");
    assert_eq!(
        diagnostics(&output).0,
        [pair("./user-data.yaml", "partly-analysed")]
    );
}

#[test]
fn exit_status_with_and_without_fail_on_skipped() {
    let dir = unanalysed_repository();
    let status = |args: &[&str]| {
        let mut all = vec!["--max-file-size", LIMIT];
        all.extend_from_slice(args);
        imds_lint(dir.path(), &all).status.code()
    };
    assert_eq!(status(&["."]), Some(0));
    assert_eq!(status(&["--fail-on-skipped", "."]), Some(1));
    // Whatever the format.
    for format in ["json", "sarif", "junit", "gitlab", "json-lines", "concise"] {
        assert_eq!(
            status(&["--fail-on-skipped", "--format", format, "."]),
            Some(1),
            "{format}"
        );
    }
    // A file analysed only in part is enough.
    assert_eq!(status(&["--fail-on-skipped", "partly.yaml"]), Some(1));
    assert_eq!(status(&["partly.yaml"]), Some(0));
    // Every file analysed whole: the flag changes nothing.
    assert_eq!(status(&["--fail-on-skipped", "clean.sh"]), Some(0));
    // Nothing could be scanned at all is still a failure (2), flag or not.
    assert_eq!(status(&["dangling.sh"]), Some(2));
    assert_eq!(status(&["--fail-on-skipped", "dangling.sh"]), Some(2));
    // With findings, 1 either way.
    write(dir.path(), "bad.sh", TOKENLESS);
    assert_eq!(status(&["."]), Some(1));
    assert_eq!(status(&["--fail-on-skipped", "."]), Some(1));
    // The flag and --exit-zero contradict each other.
    assert_eq!(status(&["--fail-on-skipped", "--exit-zero", "."]), Some(2));
}

#[test]
fn fail_on_skipped_from_the_configuration_file() {
    let dir = unanalysed_repository();
    write(
        dir.path(),
        "imds-lint.toml",
        "fail-on-skipped = true\nmax-file-size = \"1MiB\"\n",
    );
    assert_eq!(imds_lint(dir.path(), &["."]).status.code(), Some(1));
    // --exit-zero still exits 0; --isolated reads no configuration.
    assert_eq!(
        imds_lint(dir.path(), &["--exit-zero", "."]).status.code(),
        Some(0)
    );
    assert_eq!(
        imds_lint(dir.path(), &["--isolated", "--max-file-size", LIMIT, "."])
            .status
            .code(),
        Some(0)
    );
    write(dir.path(), "imds-lint.toml", "fail-on-skipped = false\n");
    let output = imds_lint(dir.path(), &["--max-file-size", LIMIT, "."]);
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn a_plain_warning_does_not_fail_the_run() {
    // A temporary file left by an interrupted --fix is not read, but it is not the repository's
    // own: a warning, which --fail-on-skipped does not count.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.sh", "#!/bin/sh\necho hello\n");
    write(dir.path(), ".imds-lint-fix-999999-Ab12Cd.tmp", TOKENLESS);
    let output = imds_lint(dir.path(), &["--fail-on-skipped", "--format", "json", "."]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(
        diagnostics(&output).0,
        [pair("./.imds-lint-fix-999999-Ab12Cd.tmp", "warning")]
    );
    let human = imds_lint(dir.path(), &["--color", "never", "."]);
    assert_eq!(text(&human.stdout), "No problems found (1 file scanned).\n");
}

#[test]
fn the_human_summary_counts_the_files_not_analysed() {
    let dir = unanalysed_repository();
    let output = imds_lint(
        dir.path(),
        &["--color", "never", "--max-file-size", LIMIT, "."],
    );
    // clean.sh, deep.sh, deep.yaml and partly.yaml are read; big.sh and dangling.sh are not.
    assert_eq!(
        text(&output.stdout),
        "No problems found (4 files scanned); 4 files not analysed, 1 partly analysed (see warnings).\n"
    );
    let stderr = text(&output.stderr);
    assert_eq!(stderr.lines().count(), 5, "{stderr}");
    let partly = imds_lint(dir.path(), &["--color", "never", "partly.yaml"]);
    assert_eq!(
        text(&partly.stdout),
        "No problems found (1 file scanned); 1 file partly analysed (see warnings).\n"
    );
    // With findings, and on stderr for the line-oriented formats.
    write(dir.path(), "bad.sh", TOKENLESS);
    let concise = imds_lint(
        dir.path(),
        &[
            "--format",
            "concise",
            "--max-file-size",
            LIMIT,
            "big.sh",
            "bad.sh",
        ],
    );
    assert_eq!(
        text(&concise.stderr)
            .lines()
            .rev()
            .take(2)
            .collect::<Vec<_>>(),
        [
            "1 fixable with the `--fix` option.",
            "Found 1 problem (1 error, 0 warnings) in 1 file (1 file scanned); 1 file not analysed (see warnings)."
        ]
    );
    // --quiet: no summary, the warnings still on stderr.
    let quiet = imds_lint(
        dir.path(),
        &["--quiet", "--max-file-size", LIMIT, "big.sh", "clean.sh"],
    );
    assert_eq!(text(&quiet.stdout), "");
    assert!(text(&quiet.stderr).contains("big.sh: skipped"));
}

#[test]
fn sarif_has_a_tool_execution_notification_per_diagnostic() {
    let dir = unanalysed_repository();
    let output = imds_lint(
        dir.path(),
        &["--format", "sarif", "--max-file-size", LIMIT, "."],
    );
    assert_eq!(output.status.code(), Some(0));
    let log = json(&output);
    let run = &log["runs"][0];
    let invocation = &run["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], true);
    let notifications = invocation["toolExecutionNotifications"].as_array().unwrap();
    let seen: Vec<(String, String)> = notifications
        .iter()
        .map(|n| {
            assert_eq!(n["level"], "warning", "{n}");
            assert!(!n["message"]["text"].as_str().unwrap().is_empty(), "{n}");
            let location = &n["locations"][0]["physicalLocation"]["artifactLocation"];
            assert_eq!(location["uriBaseId"], "%SRCROOT%", "{n}");
            // The descriptor names the kind, among the driver's notifications.
            let id = n["descriptor"]["id"].as_str().unwrap();
            let index = n["descriptor"]["index"].as_u64().unwrap() as usize;
            assert_eq!(run["tool"]["driver"]["notifications"][index]["id"], id);
            (location["uri"].as_str().unwrap().to_owned(), id.to_owned())
        })
        .collect();
    assert_eq!(
        seen,
        [
            pair("big.sh", "skipped"),
            pair("dangling.sh", "skipped"),
            pair("deep.sh", "skipped"),
            pair("deep.yaml", "skipped"),
            pair("partly.yaml", "partly-analysed"),
        ]
    );
    assert_eq!(
        notifications[4]["message"]["text"],
        "write_files content for /opt/boot.sh could not be decoded as b64"
    );
}

#[test]
fn under_fail_on_skipped_sarif_calls_the_run_unsuccessful() {
    let dir = unanalysed_repository();
    let output = imds_lint(
        dir.path(),
        &[
            "--format",
            "sarif",
            "--fail-on-skipped",
            "--max-file-size",
            LIMIT,
            ".",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let invocation = &json(&output)["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let levels: Vec<&str> = invocation["toolExecutionNotifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["level"].as_str().unwrap())
        .collect();
    assert_eq!(levels, ["error"; 5]);
    // A run where every file was analysed whole stays successful under the flag.
    let clean = imds_lint(
        dir.path(),
        &["--format", "sarif", "--fail-on-skipped", "clean.sh"],
    );
    assert_eq!(clean.status.code(), Some(0));
    let invocation = &json(&clean)["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], true);
}

#[test]
fn the_migration_view_says_what_it_did_not_count() {
    let dir = unanalysed_repository();
    write(
        dir.path(),
        "main.tf",
        "resource \"aws_instance\" \"web\" {\n  metadata_options {\n    http_tokens = \"optional\"\n  }\n}\n",
    );
    let run = |args: &[&str]| {
        let mut all = vec!["--migration", "--max-file-size", LIMIT];
        all.extend_from_slice(args);
        imds_lint(dir.path(), &all)
    };
    let human = run(&["."]);
    assert_eq!(human.status.code(), Some(0));
    let stdout = text(&human.stdout);
    assert!(stdout.starts_with("setting "), "{stdout}");
    assert!(
        stdout.ends_with(
            "Boot code in 4 files not analysed, 1 partly analysed is not counted (see the warnings above).\n"
        ),
        "{stdout}"
    );
    assert!(text(&human.stderr).contains("imds-lint: warning: ./big.sh: skipped"));
    let machine = run(&["--format", "json", "."]);
    let (pairs, _) = diagnostics(&machine);
    assert_eq!(pairs.len(), 5);
    assert_eq!(json(&machine)["settings"][0]["path"], "./main.tf");
    // --fail-on-skipped fails it, whatever the format; a whole analysis does not.
    assert_eq!(run(&["--fail-on-skipped", "."]).status.code(), Some(1));
    assert_eq!(
        run(&["--fail-on-skipped", "--format", "json", "."])
            .status
            .code(),
        Some(1)
    );
    let whole = run(&["--fail-on-skipped", "main.tf", "clean.sh"]);
    assert_eq!(whole.status.code(), Some(0));
    assert!(!text(&whole.stdout).contains("not counted"));
}

#[test]
fn write_baseline_honours_fail_on_skipped() {
    let dir = unanalysed_repository();
    let baseline = dir.path().join("baseline.json");
    let run = |flag: &[&str]| {
        let mut all = vec!["--max-file-size", LIMIT, "--write-baseline"];
        all.push(baseline.to_str().unwrap());
        all.extend_from_slice(flag);
        all.push(".");
        imds_lint(dir.path(), &all).status.code()
    };
    assert_eq!(run(&[]), Some(0));
    assert_eq!(run(&["--fail-on-skipped"]), Some(1));
    // The baseline is written either way.
    assert!(baseline.is_file());
}

#[test]
fn junit_and_checkstyle_name_the_files_not_analysed() {
    let dir = unanalysed_repository();
    let args = |format| {
        [
            "--format",
            format,
            "--max-file-size",
            LIMIT,
            "big.sh",
            "partly.yaml",
        ]
    };
    let junit = text(&imds_lint(dir.path(), &args("junit")).stdout);
    assert!(
        junit.contains(
            r#"<testsuite name="imds-lint" tests="2" failures="0" errors="2" skipped="0">"#
        ),
        "{junit}"
    );
    assert!(
        junit.contains(r#"<testcase name="not analysed" classname="big.sh" file="big.sh">"#),
        "{junit}"
    );
    assert!(
        junit.contains(r#"type="skipped">big.sh: skipped: "#),
        "{junit}"
    );
    assert!(
        junit.contains(
            r#"<testcase name="partly analysed" classname="partly.yaml" file="partly.yaml">"#
        ),
        "{junit}"
    );
    let checkstyle = text(&imds_lint(dir.path(), &args("checkstyle")).stdout);
    assert!(
        checkstyle.contains("  <file name=\"partly.yaml\">\n    <error line=\"1\" severity=\"warning\" message=\"write_files content for /opt/boot.sh could not be decoded as b64\" source=\"imds-lint.partly-analysed\"/>\n  </file>\n"),
        "{checkstyle}"
    );
    assert!(
        checkstyle.contains(r#"source="imds-lint.skipped"/>"#),
        "{checkstyle}"
    );
    // GitLab Code Quality has no place for them, and json-lines carries findings only.
    for format in ["gitlab", "json-lines"] {
        let out = text(&imds_lint(dir.path(), &args(format)).stdout);
        assert!(!out.contains("big.sh"), "{format}: {out}");
    }
}
