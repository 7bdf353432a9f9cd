//! The command line, run for real: exit codes, formats, standard input, ignore files in a real
//! git repository, suppression, rule selection and documentation, and bad input of every kind.

#[path = "support/run.rs"]
mod run;
#[path = "support/tools.rs"]
mod tools;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use run::{imds_lint, imds_lint_stdin};

const TOKENLESS: &str = "#!/bin/sh\ncurl -s http://169.254.169.254/latest/meta-data/instance-id\n";
const TOKENED: &str = "#!/bin/sh\nT=$(curl -sX PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 60')\ncurl -s -H \"X-aws-ec2-metadata-token: $T\" http://169.254.169.254/latest/meta-data/instance-id\n";

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn write(dir: &Path, rel: &str, text: impl AsRef<[u8]>) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(output)))
}

/// (path, line, rule) of each finding in a JSON report.
fn findings(output: &Output) -> Vec<(String, u64, String)> {
    json(output)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let path = f["path"].as_str().unwrap();
            (
                path.strip_prefix("./").unwrap_or(path).to_owned(),
                f["line"].as_u64().unwrap(),
                f["rule"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn git(dir: &Path, args: &[&str]) {
    tools::require(&[tools::GIT]);
    let status = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

#[test]
fn exit_status_follows_findings() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "clean.sh", TOKENED);
    assert_eq!(imds_lint(dir.path(), &["clean.sh"]).status.code(), Some(0));
    write(dir.path(), "bad.sh", TOKENLESS);
    assert_eq!(imds_lint(dir.path(), &[]).status.code(), Some(1));
    assert_eq!(imds_lint(dir.path(), &["bad.sh"]).status.code(), Some(1));
    let missing = imds_lint(dir.path(), &["no-such-file.sh"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("no-such-file.sh"),
        "{}",
        stderr(&missing)
    );
    let usage = imds_lint(dir.path(), &["--format", "yaml"]);
    assert_eq!(usage.status.code(), Some(2));
    let unknown_rule = imds_lint(dir.path(), &["--select", "IMDS999"]);
    assert_eq!(unknown_rule.status.code(), Some(2));
    assert!(stderr(&unknown_rule).contains("IMDS999"));
}

#[test]
fn json_contract() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "scripts/a.sh",
        "#!/bin/bash\nset -e\nID=$(curl -s http://169.254.169.254/latest/meta-data/instance-id)\n",
    );
    write(
        dir.path(),
        "README.md",
        "curl http://169.254.169.254/ is how v1 works\n",
    );
    let output = imds_lint(dir.path(), &["--format", "json", "."]);
    assert_eq!(output.status.code(), Some(1));
    let doc = json(&output);
    let keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["diagnostics", "files_scanned", "findings", "version"]
    );
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["files_scanned"], 2);
    // Every file was analysed: no diagnostics, but the array is there (tests/skipped.rs fills it).
    assert_eq!(doc["diagnostics"], serde_json::json!([]));
    let finding = &doc["findings"][0];
    let mut keys: Vec<&String> = finding.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "column",
            "end_column",
            "end_line",
            "fix",
            "line",
            "message",
            "path",
            "rule",
            "severity"
        ]
    );
    assert_eq!(finding["path"], "./scripts/a.sh");
    // `ID=$(curl …)`: the request starts at the `c` of curl, column 6 of line 3.
    assert_eq!(
        (finding["line"].as_u64(), finding["column"].as_u64()),
        (Some(3), Some(6))
    );
    // It ends after the URL, before the closing parenthesis (column 65).
    assert_eq!(
        (finding["end_line"].as_u64(), finding["end_column"].as_u64()),
        (Some(3), Some(65))
    );
    assert_eq!(finding["rule"], "IMDS001");
    assert_eq!(finding["severity"], "error");
    assert_eq!(doc["findings"].as_array().unwrap().len(), 1);
    // The fix: a token fetch inserted at the start of line 3 (byte 19, after "#!/bin/bash\n"
    // and "set -e\n"), and the header after `ID=$(curl` (byte 19 + 9).
    let fix = &finding["fix"];
    assert_eq!(fix["applicability"], "safe");
    let edits = fix["edits"].as_array().unwrap();
    assert_eq!(edits.len(), 2);
    assert_eq!(edits[0]["path"], "./scripts/a.sh");
    assert_eq!(
        (edits[0]["start"].as_u64(), edits[0]["end"].as_u64()),
        (Some(19), Some(19))
    );
    assert_eq!(
        edits[0]["content"],
        "IMDS_TOKEN=$(curl -sf --connect-timeout 1 --max-time 2 -X PUT \"http://169.254.169.254/latest/api/token\" -H \"X-aws-ec2-metadata-token-ttl-seconds: 21600\" || true)\n"
    );
    assert_eq!(
        (edits[1]["start"].as_u64(), edits[1]["end"].as_u64()),
        (Some(28), Some(28))
    );
    assert_eq!(
        edits[1]["content"],
        " -H \"X-aws-ec2-metadata-token: $IMDS_TOKEN\""
    );
    let mut keys: Vec<&String> = fix.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["applicability", "edits", "message"]);
}

#[test]
fn concise_and_human_formats() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.sh", TOKENLESS);
    let concise = imds_lint(dir.path(), &["--format", "concise", "a.sh"]);
    assert_eq!(
        stdout(&concise),
        "a.sh:2:1: IMDS001 `curl` request to the metadata service without a token [fix]\n"
    );
    let human = imds_lint(dir.path(), &["a.sh"]);
    let text = stdout(&human);
    assert!(!text.contains('\u{1b}'), "colour on a pipe: {text}");
    assert!(text.contains("IMDS001 tokenless-request"), "{text}");
    assert!(text.contains("[a.sh:2:1]"), "{text}");
    assert!(
        text.contains(" 2 │ curl -s http://169.254.169.254/latest/meta-data/instance-id"),
        "{text}"
    );
    assert!(text.contains("help: fetch a token once"), "{text}");
    assert!(
        text.contains("Found 1 problem (1 error, 0 warnings) in 1 file (1 file scanned)."),
        "{text}"
    );
    let coloured = imds_lint(dir.path(), &["--color", "always", "a.sh"]);
    assert!(stdout(&coloured).contains('\u{1b}'));
    let clean = tempfile::tempdir().unwrap();
    write(clean.path(), "ok.sh", TOKENED);
    assert_eq!(
        stdout(&imds_lint(clean.path(), &[])),
        "No problems found (1 file scanned).\n"
    );
}

#[test]
fn standard_input_with_a_name() {
    let output = imds_lint_stdin(
        &[
            "--format",
            "concise",
            "--stdin-filename",
            "boot/user-data.sh",
            "-",
        ],
        b"echo start\nwget -qO- http://169.254.169.254/latest/user-data\n",
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stdout(&output),
        "boot/user-data.sh:2:1: IMDS001 `wget` request to the metadata service without a token [fix]\n"
    );
}

#[test]
fn ignore_files_in_a_git_repository() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git(root, &["init", "-q"]);
    write(root, ".gitignore", "build/\n");
    write(root, ".ignore", "vendor/\n");
    write(root, "build/gen.sh", TOKENLESS);
    write(root, "vendor/lib.sh", TOKENLESS);
    write(root, ".github/scripts/ci.sh", TOKENLESS);
    write(root, "src/run.sh", TOKENLESS);
    // Git's own directory is never read, even with --no-ignore.
    write(root, ".git/hooks/pre-commit.sh", TOKENLESS);
    let output = imds_lint(root, &["--format", "json"]);
    let paths: Vec<String> = findings(&output).into_iter().map(|f| f.0).collect();
    assert_eq!(paths, [".github/scripts/ci.sh", "src/run.sh"]);

    let all = imds_lint(root, &["--format", "json", "--no-ignore"]);
    let paths: Vec<String> = findings(&all).into_iter().map(|f| f.0).collect();
    assert_eq!(
        paths,
        [
            ".github/scripts/ci.sh",
            "build/gen.sh",
            "src/run.sh",
            "vendor/lib.sh"
        ]
    );

    // A file named on the command line is scanned even when ignored.
    let named = imds_lint(root, &["--format", "json", "build/gen.sh"]);
    assert_eq!(findings(&named).len(), 1);
}

#[test]
fn global_git_excludes_are_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    std::fs::create_dir(&root).unwrap();
    git(&root, &["init", "-q"]);
    let excludes = dir.path().join("global-excludes");
    std::fs::write(&excludes, "*.generated.sh\n").unwrap();
    let config = dir.path().join("gitconfig");
    std::fs::write(
        &config,
        format!("[core]\n\texcludesFile = {}\n", excludes.display()),
    )
    .unwrap();
    write(&root, "a.generated.sh", TOKENLESS);
    write(&root, "b.sh", TOKENLESS);
    let output = Command::new(env!("CARGO_BIN_EXE_imds-lint"))
        .args(["--format", "json"])
        .current_dir(&root)
        .env("GIT_CONFIG_GLOBAL", &config)
        .env("HOME", dir.path())
        .output()
        .unwrap();
    let paths: Vec<String> = findings(&output).into_iter().map(|f| f.0).collect();
    assert_eq!(paths, ["b.sh"]);
}

#[test]
fn shell_files_by_name_and_shebang() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let request = "curl http://169.254.169.254/latest/meta-data/\n";
    write(
        root,
        "bin/provision",
        format!("#!/usr/bin/env bash\n{request}"),
    );
    write(
        root,
        "bin/tool.py",
        format!("#!/usr/bin/python3\n{request}"),
    );
    write(root, "notes.txt", request);
    write(root, "t/test.bats", request);
    write(root, "templates/boot.sh.tpl", request);
    let output = imds_lint(root, &["--format", "json"]);
    let paths: Vec<String> = findings(&output).into_iter().map(|f| f.0).collect();
    assert_eq!(
        paths,
        ["bin/provision", "t/test.bats", "templates/boot.sh.tpl"]
    );
}

#[test]
fn selection_and_suppression() {
    let dir = tempfile::tempdir().unwrap();
    let text = "#!/bin/sh\ncurl http://169.254.169.254/latest/meta-data/ # imds-lint disable=IMDS001\ncurl -H \"X-aws-ec2-metadata-token: $T\" http://169.254.169.254/\ncurl http://169.254.169.254/latest/api/token\n";
    write(dir.path(), "a.sh", text);
    let all = findings(&imds_lint(dir.path(), &["--format", "json"]));
    let rules: Vec<&str> = all.iter().map(|f| f.2.as_str()).collect();
    assert_eq!(rules, ["IMDS004", "IMDS002"]);
    let selected = findings(&imds_lint(
        dir.path(),
        &["--format", "json", "--select", "IMDS002"],
    ));
    assert_eq!(selected.len(), 1);
    assert_eq!(selected[0].2, "IMDS002");
    let ignored = imds_lint(
        dir.path(),
        &["--format", "json", "--ignore", "IMDS002,IMDS004"],
    );
    assert!(findings(&ignored).is_empty());
    assert_eq!(ignored.status.code(), Some(0));
}

#[test]
fn rule_documentation() {
    let dir = tempfile::tempdir().unwrap();
    let doc = imds_lint(dir.path(), &["rule", "IMDS001"]);
    assert_eq!(doc.status.code(), Some(0));
    let text = stdout(&doc);
    assert!(text.starts_with("# IMDS001 tokenless-request"), "{text}");
    for heading in [
        "## What it does",
        "## Why is this bad?",
        "## Example",
        "## Use instead",
    ] {
        assert!(text.contains(heading), "{heading}");
    }
    let list = stdout(&imds_lint(dir.path(), &["rule"]));
    let rows: Vec<&str> = list.lines().take_while(|l| !l.is_empty()).collect();
    assert_eq!(rows.len(), imds_lint::rules::RULES.len(), "{list}");
    assert!(rows.iter().all(|r| r.starts_with("IMDS")), "{list}");
    // IMDS010 has two severities: the list shows both, its page says when.
    let imds010 = rows.iter().find(|r| r.starts_with("IMDS010")).unwrap();
    assert!(imds010.contains(" error/warning fix "), "{imds010}");
    let page = stdout(&imds_lint(dir.path(), &["rule", "imds010"]));
    assert!(
        page.contains("| IMDS010 | imds-v1-allowed | error, warning when the setting is left unset or the account default is `no-preference` | yes (`--fix`) |"),
        "{page}"
    );
    // The families and where requests are read from follow the table.
    assert!(
        list.contains("IMDS010-IMDS013: instance metadata settings"),
        "{list}"
    );
    assert_eq!(
        imds_lint(dir.path(), &["rule", "IMDS999"]).status.code(),
        Some(2)
    );
}

#[test]
fn bad_input_never_stops_the_scan() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "z-good.sh", TOKENLESS);
    write(root, "binary.sh", b"curl http://169.254.169.254/\0\x01\x02");
    write(
        root,
        "latin1.sh",
        b"# caf\xe9\necho \xff\xfe; curl http://169.254.169.254/latest/meta-data/\n",
    );
    write(
        root,
        "broken.sh",
        "if curl http://169.254.169.254/latest/meta-data/; then\n  (( \n",
    );
    write(root, "big.sh", format!("{TOKENLESS}{}", "#".repeat(4096)));
    std::os::unix::fs::symlink("does-not-exist.sh", root.join("dangling.sh")).unwrap();
    std::fs::create_dir(root.join("loop")).unwrap();
    std::os::unix::fs::symlink("..", root.join("loop/up")).unwrap();

    let output = imds_lint(root, &["--format", "json", "--max-file-size", "1KiB", "."]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let found = findings(&output);
    assert_eq!(
        found,
        [
            ("broken.sh".to_owned(), 1, "IMDS001".to_owned()),
            ("latin1.sh".to_owned(), 2, "IMDS001".to_owned()),
            ("z-good.sh".to_owned(), 2, "IMDS001".to_owned()),
        ]
    );
    // On the line `echo \xff\xfe; curl …`, curl is the 10th character (each bad byte counts one).
    let doc = json(&output);
    let latin1 = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "./latin1.sh")
        .unwrap();
    assert_eq!(latin1["column"], 10);
    let errors = stderr(&output);
    assert!(errors.contains("big.sh: skipped"), "{errors}");
    assert!(errors.contains("dangling.sh"), "{errors}");
    assert!(errors.contains("loop"), "{errors}");
    assert!(
        !errors.contains("binary.sh"),
        "binary files are skipped silently: {errors}"
    );
    assert!(!errors.contains("panick"), "{errors}");
}

#[test]
fn yaml_past_the_parser_limits_is_declined_not_fatal() {
    // tree-sitter-yaml 0.7 aborts the process (a C assertion) past ~250 indentation levels, and
    // reads a document past 32,767 lines as broken: both are declined with a note, and the scan
    // goes on to the other files.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "z-good.sh", TOKENLESS);
    let nested: String = (0..300)
        .map(|i| format!("{}a{i}:\n", "  ".repeat(i)))
        .collect();
    let request = "curl http://169.254.169.254/latest/meta-data/instance-id";
    write(
        root,
        "deep.yaml",
        format!("#cloud-config\n{nested}runcmd:\n  - {request}\n"),
    );
    let compact = format!("#cloud-config\nruncmd:\n  {}{request}\n", "- ".repeat(400));
    write(root, "compact.yaml", compact);
    let mut long = String::from("#cloud-config\nwrite_files:\n");
    for i in 0..17_000 {
        long.push_str(&format!("  - path: /etc/f{i}\n    content: x\n"));
    }
    long.push_str(&format!("runcmd:\n  - {request}\n"));
    write(root, "long.yaml", long);
    // A stream of documents is cut at `---` into runs the parser can count: read whole.
    let mut bundle = String::new();
    for d in 0..3 {
        bundle.push_str(&format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big{d}\ndata:\n"
        ));
        for i in 0..15_000 {
            bundle.push_str(&format!("  k{i}: v\n"));
        }
        bundle.push_str("---\n");
    }
    bundle.push_str(&format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: busybox\n    command: [\"sh\", \"-c\", \"{request}\"]\n"
    ));
    let last_line = bundle.lines().count() as u64;
    assert!(last_line > 45_000);
    write(root, "bundle.yaml", bundle);
    let output = imds_lint(root, &["--format", "json", "."]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(
        findings(&output),
        [
            ("bundle.yaml".to_owned(), last_line, "IMDS001".to_owned()),
            ("z-good.sh".to_owned(), 2, "IMDS001".to_owned()),
        ]
    );
    let errors = stderr(&output);
    for (file, why) in [
        ("deep.yaml", "nests more than 200 levels deep"),
        ("compact.yaml", "nests more than 200 levels deep"),
        ("long.yaml", "has more than 32767 lines"),
    ] {
        assert!(
            errors.contains(&format!("{file}: the cloud-config: it {why}")),
            "{file}: {errors}"
        );
    }
}

#[test]
fn unreadable_file_gives_a_diagnostic() {
    // Tests run as root in CI, where permissions do not stop a read; /proc/self/mem is a regular
    // file that cannot be read from offset 0 by anyone.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.sh", TOKENLESS);
    let output = imds_lint(dir.path(), &["--format", "json", "/proc/self/mem", "a.sh"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("/proc/self/mem: cannot read"),
        "{}",
        stderr(&output)
    );
    assert_eq!(findings(&output).len(), 1);
}

#[test]
fn statistics_count_the_stages() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.sh", TOKENLESS);
    write(dir.path(), "b.sh", "echo hello\n");
    write(dir.path(), "c.go", "package main\n");
    let output = imds_lint(dir.path(), &["--statistics", "--format", "json"]);
    let errors = stderr(&output);
    assert!(errors.contains("files walked:       3"), "{errors}");
    assert!(errors.contains("not shell:        1"), "{errors}");
    assert!(errors.contains("prefiltered out:  1"), "{errors}");
    assert!(errors.contains("parsed:           1"), "{errors}");
    assert!(errors.contains("findings:           1"), "{errors}");
    // Where the time went: the one parsed file under its front end, and the pass across files.
    assert!(
        errors.contains("  checks of parsed files, summed over threads:\n    shell (1 file) "),
        "{errors}"
    );
    assert!(errors.contains("  pass across files:  "), "{errors}");
}

#[test]
fn shadowed_cloud_config_keys_get_a_note_and_no_finding() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/hosts/cloud-init");
    let output = imds_lint(&fixtures, &["--format", "json", "duplicate-keys.yaml"]);
    // Only the last `runcmd` and `write_files` run: their requests are the findings.
    let lines: Vec<u64> = findings(&output).into_iter().map(|f| f.1).collect();
    assert_eq!(lines, [12, 18]);
    // The shadowed ones are said to be there, and why they are not reported.
    let errors = stderr(&output);
    for line in [4, 10] {
        let key = if line == 4 { "runcmd" } else { "write_files" };
        let note = format!(
            "duplicate-keys.yaml: line {line}: a metadata request that never runs, not reported: `{key}` is given again later in the same mapping, and cloud-init reads only the last"
        );
        assert!(errors.contains(&note), "{errors}");
    }
}

/// Each finding says whether it has a fix and, if it is unsafe, why; the summary and `--diff`
/// count the fixes `--unsafe-fixes` would add.
#[test]
fn fix_availability_is_said_per_finding_and_in_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    // Line 2: a safe fix. Line 3: BusyBox wget, whose token fetch cannot PUT: unsafe. Line 4: an
    // unassigned token variable (IMDS004), which has no fix.
    write(
        dir.path(),
        "a.sh",
        "#!/bin/busybox sh\n\
         busybox wget -qO- http://169.254.169.254/latest/meta-data/ami-id\n\
         wget -qO- http://169.254.169.254/latest/meta-data/instance-id\n\
         wget -qO- --header \"X-aws-ec2-metadata-token: $NOPE\" http://169.254.169.254/latest/meta-data/x\n",
    );
    let busybox = "unsafe fix, applied only with --fix --unsafe-fixes: BusyBox wget cannot send the PUT that fetches a token; install curl or GNU wget";
    let concise = imds_lint(dir.path(), &["--format", "concise", "a.sh"]);
    assert_eq!(
        stdout(&concise),
        "a.sh:2:9: IMDS001 `wget` request to the metadata service without a token [unsafe fix]\n\
         a.sh:3:1: IMDS001 `wget` request to the metadata service without a token [unsafe fix]\n\
         a.sh:4:1: IMDS004 token header uses `$NOPE`, which nothing in scope assigns from a token request\n"
    );
    assert_eq!(
        stderr(&concise),
        "Found 3 problems (2 errors, 1 warning) in 1 file (1 file scanned).\n\
         No fixes available (2 hidden fixes can be enabled with the `--unsafe-fixes` option).\n"
    );
    let human = stdout(&imds_lint(dir.path(), &["--color", "never", "a.sh"]));
    let said: Vec<&str> = human
        .lines()
        .filter(|l| l.starts_with("  ") && l.contains("fix"))
        .filter(|l| !l.trim_start().starts_with("help:"))
        .collect();
    assert_eq!(
        said,
        [
            format!("  {busybox}").as_str(),
            format!("  {busybox}").as_str(),
            "  no automatic fix: this rule has none",
        ],
        "{human}"
    );
    assert!(human.ends_with(
        "Found 3 problems (2 errors, 1 warning) in 1 file (1 file scanned).\n\
         No fixes available (2 hidden fixes can be enabled with the `--unsafe-fixes` option).\n"
    ));
    let diff = imds_lint(dir.path(), &["--diff", "a.sh"]);
    assert_eq!(stdout(&diff), "");
    assert_eq!(
        stderr(&diff),
        "0 files would change; 2 hidden fixes can be enabled with the `--unsafe-fixes` option\n"
    );
    // With --unsafe-fixes nothing is hidden.
    let unsafe_diff = imds_lint(dir.path(), &["--diff", "--unsafe-fixes", "a.sh"]);
    assert_eq!(stderr(&unsafe_diff), "1 file would change\n");
    let unsafe_scan = imds_lint(
        dir.path(),
        &["--format", "concise", "--unsafe-fixes", "a.sh"],
    );
    assert!(stderr(&unsafe_scan).ends_with("\n2 fixable with the `--fix` option.\n"));

    // A safe fix beside an unsafe one.
    write(
        dir.path(),
        "b.sh",
        "#!/bin/sh\n\
         curl -s http://169.254.169.254/latest/meta-data/ami-id\n\
         echo \"$(curl -s http://169.254.169.254/latest/meta-data/instance-id)\" | sh -c 'wget -qO- http://169.254.169.254/latest/meta-data/x'\n",
    );
    let both = imds_lint(dir.path(), &["--format", "concise", "b.sh"]);
    assert_eq!(
        stderr(&both).lines().last(),
        Some("2 fixable with the `--fix` option (1 hidden fix can be enabled with the `--unsafe-fixes` option).")
    );
    let fixed = imds_lint(dir.path(), &["--fix", "--format", "concise", "b.sh"]);
    assert!(
        stderr(&fixed).contains("fixed 2 of 3 findings in 1 file; 1 hidden fix can be enabled with the `--unsafe-fixes` option\n"),
        "{}",
        stderr(&fixed)
    );
}
