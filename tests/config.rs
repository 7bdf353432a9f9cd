//! Configuration files, exit-status policy, quiet output and baselines, run for real: the binary
//! in temporary directories, with `imds-lint.toml` files where a repository would keep them.

#[path = "support/run.rs"]
mod run;

use std::path::Path;
use std::process::Output;

use run::{imds_lint, text};

const TOKENLESS: &str = "#!/bin/sh\ncurl -s http://169.254.169.254/latest/meta-data/instance-id\n";
/// A request with a token header whose variable nothing assigns: IMDS004, a warning.
const UNASSIGNED: &str = "#!/bin/sh\ncurl -s -H \"X-aws-ec2-metadata-token: $TOKEN\" http://169.254.169.254/latest/meta-data/instance-id\n";

fn write(dir: &Path, rel: &str, text: impl AsRef<[u8]>) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// (path, line, rule) of each finding, from the concise format.
fn findings(output: &Output) -> Vec<String> {
    let mut lines: Vec<String> = text(&output.stdout)
        .lines()
        .map(|line| {
            let line = line.strip_prefix("./").unwrap_or(line);
            // path:line:col: CODE message → path:line CODE
            let mut parts = line.splitn(4, ':');
            let (path, row, _, rest) = (
                parts.next().unwrap(),
                parts.next().unwrap(),
                parts.next().unwrap(),
                parts.next().unwrap(),
            );
            let code = rest.split_whitespace().next().unwrap();
            format!("{path}:{row} {code}")
        })
        .collect();
    lines.sort();
    lines
}

fn concise(dir: &Path, args: &[&str]) -> Output {
    let mut all = vec!["--format", "concise"];
    all.extend_from_slice(args);
    imds_lint(dir, &all)
}

fn code(output: &Output) -> i32 {
    output.status.code().unwrap()
}

#[test]
fn the_nearest_configuration_file_above_the_scanned_path_is_used() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "imds-lint.toml", "ignore = [\"IMDS001\"]\n");
    write(root, "app/scripts/boot.sh", TOKENLESS);
    write(root, "app/scripts/check.sh", UNASSIGNED);
    // From a subdirectory, scanning `.`: the file two levels up applies.
    let output = concise(&root.join("app/scripts"), &[]);
    assert_eq!(
        findings(&output),
        ["check.sh:2 IMDS004"],
        "{}",
        text(&output.stderr)
    );
    // Scanning a subdirectory from the root: found from the path, not the working directory.
    let elsewhere = tempfile::tempdir().unwrap();
    let output = concise(elsewhere.path(), &[root.join("app").to_str().unwrap()]);
    assert_eq!(findings(&output).len(), 1, "{}", text(&output.stdout));
    assert!(text(&output.stdout).contains("IMDS004"));
    // A nearer file wins, and `.imds-lint.toml` counts as well.
    write(root, "app/.imds-lint.toml", "ignore = [\"IMDS004\"]\n");
    let output = concise(&root.join("app/scripts"), &[]);
    assert_eq!(findings(&output), ["boot.sh:2 IMDS001"]);
    // A file named on the command line finds the configuration above it.
    let output = concise(
        elsewhere.path(),
        &[root.join("app/scripts/boot.sh").to_str().unwrap()],
    );
    assert_eq!(findings(&output).len(), 1);
    let output = concise(
        elsewhere.path(),
        &[root.join("app/scripts/check.sh").to_str().unwrap()],
    );
    assert_eq!(code(&output), 0, "{}", text(&output.stdout));
}

#[test]
fn config_names_a_file_and_isolated_ignores_them() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "imds-lint.toml", "ignore = [\"IMDS001\"]\n");
    write(root, "settings/strict.toml", "select = [\"IMDS001\"]\n");
    write(root, "a.sh", TOKENLESS);
    write(root, "b.sh", UNASSIGNED);
    assert_eq!(findings(&concise(root, &[])), ["b.sh:2 IMDS004"]);
    let named = concise(root, &["--config", "settings/strict.toml"]);
    assert_eq!(findings(&named), ["a.sh:2 IMDS001"]);
    let isolated = concise(root, &["--isolated"]);
    assert_eq!(findings(&isolated), ["a.sh:2 IMDS001", "b.sh:2 IMDS004"]);
    // The two together make no sense.
    assert_eq!(
        code(&concise(root, &["--isolated", "--config", "x.toml"])),
        2
    );
    // A named file that is not there is an error.
    let missing = concise(root, &["--config", "nope.toml"]);
    assert_eq!(code(&missing), 2);
    assert!(text(&missing.stderr).contains("nope.toml: cannot read the configuration file"));
}

#[test]
fn flags_override_the_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "imds-lint.toml",
        "ignore = [\"IMDS001\"]\ntoken-ttl = 300\n",
    );
    write(root, "a.sh", TOKENLESS);
    write(root, "b.sh", UNASSIGNED);
    // A flag replaces the configuration's value of the same setting.
    let output = concise(root, &["--ignore", "IMDS004"]);
    assert_eq!(findings(&output), ["a.sh:2 IMDS001"]);
    let output = concise(root, &["--select", "IMDS001"]);
    assert!(
        findings(&output).is_empty(),
        "--select keeps the configured ignore"
    );
    let diff = imds_lint(root, &["--diff", "--ignore", "IMDS004", "a.sh"]);
    assert!(
        text(&diff.stdout).contains("ttl-seconds: 300"),
        "{}",
        text(&diff.stdout)
    );
    let diff = imds_lint(
        root,
        &["--diff", "--ignore", "IMDS004", "--token-ttl", "60", "a.sh"],
    );
    assert!(
        text(&diff.stdout).contains("ttl-seconds: 60\""),
        "{}",
        text(&diff.stdout)
    );
}

#[test]
fn an_unknown_key_names_the_file_the_line_and_the_nearest_key() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "imds-lint.toml",
        "# settings\nignore = [\"IMDS004\"]\nselct = [\"IMDS001\"]\n",
    );
    write(root, "a.sh", TOKENLESS);
    let output = concise(&root.join("."), &[]);
    assert_eq!(code(&output), 2);
    let stderr = text(&output.stderr);
    let file = root.join("imds-lint.toml");
    assert!(
        stderr.contains(&format!(
            "{}:3:1: unknown key `selct` (did you mean `select`?)",
            file.display()
        )),
        "{stderr}"
    );
    assert!(
        output.stdout.is_empty(),
        "nothing is scanned: {}",
        text(&output.stdout)
    );
}

#[test]
fn a_bad_value_names_the_file_the_line_and_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "a.sh", TOKENLESS);
    let cases: &[(&str, &str)] = &[
        ("token-ttl = \"soon\"\n", ":1:13: bad value for `token-ttl`"),
        (
            "\ntoken-ttl = 99999\n",
            ":2:13: `token-ttl` must be between 1 and 21600",
        ),
        (
            "select = [\"IMDS01\"]\n",
            ":1:11: unknown rule `IMDS01` (did you mean `IMDS001`?)",
        ),
        (
            "[severity]\nIMDS004 = \"fatal\"\n",
            ":2:11: unknown severity `fatal`",
        ),
        (
            "[severity]\nIMDS004 = \"eror\"\n",
            "(did you mean `error`?)",
        ),
        ("exclude = \"vendor\"\n", ":1:11: bad value for `exclude`"),
        ("exclude = [\"[\"]\n", ":1:12: bad glob `[`"),
        (
            "token-variable = \"MY TOKEN\"\n",
            "must be a shell variable name",
        ),
        ("select = [\n", "not valid TOML"),
    ];
    for (config, expected) in cases {
        write(root, "imds-lint.toml", config);
        let output = concise(root, &[]);
        assert_eq!(code(&output), 2, "{config}");
        let stderr = text(&output.stderr);
        assert!(stderr.contains("imds-lint.toml:"), "{config}: {stderr}");
        assert!(
            stderr.contains(expected),
            "{config}: expected {expected} in {stderr}"
        );
    }
}

#[test]
fn exclude_leaves_out_walked_paths_relative_to_the_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "imds-lint.toml",
        "exclude = [\"vendor\", \"build/*.sh\", \"*.generated.sh\"]\n",
    );
    for rel in [
        "vendor/a.sh",
        "src/vendor/b.sh",
        "build/c.sh",
        "build/keep/d.sh",
        "src/e.generated.sh",
        "src/f.sh",
    ] {
        write(root, rel, TOKENLESS);
    }
    let output = concise(root, &[]);
    assert_eq!(
        findings(&output),
        ["build/keep/d.sh:2 IMDS001", "src/f.sh:2 IMDS001"]
    );
    // Relative to the configuration file, wherever imds-lint runs from.
    let output = concise(&root.join("src"), &[]);
    assert_eq!(findings(&output), ["f.sh:2 IMDS001"]);
    // A file named on the command line is always checked.
    let output = concise(root, &["vendor/a.sh"]);
    assert_eq!(findings(&output), ["vendor/a.sh:2 IMDS001"]);
}

#[test]
fn per_file_ignores_turn_rules_off_in_matching_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "imds-lint.toml",
        "[per-file-ignores]\n\"legacy/**\" = [\"IMDS001\"]\n\"*.bats\" = [\"IMDS001\", \"IMDS004\"]\n",
    );
    write(
        root,
        "legacy/old.sh",
        format!("{TOKENLESS}{}", &UNASSIGNED[10..]),
    );
    write(root, "test/a.bats", TOKENLESS);
    write(root, "new.sh", TOKENLESS);
    let output = concise(root, &[]);
    assert_eq!(
        findings(&output),
        ["legacy/old.sh:3 IMDS004", "new.sh:2 IMDS001"]
    );
    // --fix leaves the ignored requests alone.
    let fixed = imds_lint(root, &["--fix", "--format", "concise"]);
    assert_eq!(code(&fixed), 1, "{}", text(&fixed.stderr));
    let old = std::fs::read_to_string(root.join("legacy/old.sh")).unwrap();
    assert!(!old.contains("api/token"), "{old}");
    let new = std::fs::read_to_string(root.join("new.sh")).unwrap();
    assert!(new.contains("api/token"), "{new}");
}

#[test]
fn severity_overrides_decide_what_fail_on_counts() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "a.sh", UNASSIGNED);
    // Without configuration: IMDS004 is a warning, which fails by default but not with
    // --fail-on error.
    assert_eq!(code(&concise(root, &["--isolated"])), 1);
    assert_eq!(
        code(&concise(root, &["--isolated", "--fail-on", "warning"])),
        1
    );
    assert_eq!(
        code(&concise(root, &["--isolated", "--fail-on", "error"])),
        0
    );
    assert_eq!(
        code(&concise(root, &["--isolated", "--fail-on", "never"])),
        0
    );
    write(
        root,
        "imds-lint.toml",
        "severity = { IMDS004 = \"error\" }\n",
    );
    let output = concise(root, &["--fail-on", "error"]);
    assert_eq!(code(&output), 1);
    assert!(
        text(&output.stderr).contains("(1 error, 0 warnings)"),
        "{}",
        text(&output.stderr)
    );
    let json = imds_lint(root, &["--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["findings"][0]["severity"], "error");
    // And the other way round: an error lowered to a warning no longer fails --fail-on error.
    write(root, "b.sh", TOKENLESS);
    write(
        root,
        "imds-lint.toml",
        "severity = { IMDS001 = \"warning\", IMDS004 = \"warning\" }\n",
    );
    assert_eq!(code(&concise(root, &["--fail-on", "error"])), 0);
    assert_eq!(code(&concise(root, &[])), 1);
}

#[test]
fn exit_zero_reports_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.sh", TOKENLESS);
    let output = concise(dir.path(), &["--exit-zero"]);
    assert_eq!(code(&output), 0);
    assert_eq!(findings(&output), ["a.sh:2 IMDS001"]);
    let diff = imds_lint(dir.path(), &["--diff", "--exit-zero"]);
    assert_eq!(code(&diff), 0);
    assert!(text(&diff.stdout).contains("+IMDS_TOKEN="));
    assert_eq!(
        code(&concise(dir.path(), &["--exit-zero", "--fail-on", "error"])),
        2
    );
}

#[test]
fn token_variable_names_the_inserted_token() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "imds-lint.toml",
        "token-variable = \"EC2_TOKEN\"\n",
    );
    write(dir.path(), "a.sh", TOKENLESS);
    let diff = imds_lint(dir.path(), &["--diff"]);
    assert_eq!(code(&diff), 1);
    let patch = text(&diff.stdout);
    assert!(
        patch.contains("+EC2_TOKEN=$(curl -sf --connect-timeout 1 --max-time 2 -X PUT \"http://169.254.169.254/latest/api/token\""),
        "{patch}"
    );
    assert!(
        patch.contains("+curl -H \"X-aws-ec2-metadata-token: $EC2_TOKEN\" -s"),
        "{patch}"
    );
    assert!(!patch.contains("IMDS_TOKEN"), "{patch}");
}

#[test]
fn extra_hosts_are_endpoints_too() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "proxy.sh",
        "#!/bin/sh\ncurl -s http://Metadata.Internal/latest/meta-data/instance-id\ncurl -s http://example.com/\n",
    );
    // Not an endpoint by default: the file is prefiltered away.
    assert_eq!(code(&concise(root, &[])), 0);
    write(
        root,
        "imds-lint.toml",
        "extra-hosts = [\"metadata.internal\"]\n",
    );
    let output = concise(root, &[]);
    assert_eq!(
        findings(&output),
        ["proxy.sh:2 IMDS001"],
        "{}",
        text(&output.stderr)
    );
    // In an encoded value as well (a cloud-init file with a base64 script).
    use base64::Engine;
    let script = base64::engine::general_purpose::STANDARD
        .encode("#!/bin/sh\ncurl http://metadata.internal/latest/meta-data/\n");
    write(
        root,
        "user-data.yaml",
        format!("#cloud-config\nwrite_files:\n  - path: /x.sh\n    encoding: b64\n    content: {script}\nruncmd:\n  - /x.sh\n"),
    );
    let output = concise(root, &[]);
    assert!(
        text(&output.stdout).contains("user-data.yaml:5"),
        "{}",
        text(&output.stdout)
    );
}

#[test]
fn quiet_prints_the_findings_only() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.sh", TOKENLESS);
    let loud = imds_lint(dir.path(), &["--format", "human", "--color", "never"]);
    assert!(text(&loud.stdout).contains("Found 1 problem"));
    let quiet = imds_lint(
        dir.path(),
        &["--format", "human", "--color", "never", "--quiet"],
    );
    assert_eq!(code(&quiet), 1);
    let out = text(&quiet.stdout);
    assert!(out.contains("IMDS001 tokenless-request"), "{out}");
    assert!(!out.contains("Found"), "{out}");
    assert!(quiet.stderr.is_empty(), "{}", text(&quiet.stderr));
    let concise_quiet = concise(dir.path(), &["-q"]);
    assert_eq!(findings(&concise_quiet), ["a.sh:2 IMDS001"]);
    assert!(
        concise_quiet.stderr.is_empty(),
        "{}",
        text(&concise_quiet.stderr)
    );
    let clean = tempfile::tempdir().unwrap();
    let nothing = imds_lint(clean.path(), &["-q"]);
    assert_eq!(code(&nothing), 0);
    assert!(nothing.stdout.is_empty() && nothing.stderr.is_empty());
    // --fix --quiet: no fix log, and nothing is left to report.
    let fixed = imds_lint(dir.path(), &["--fix", "--quiet"]);
    assert_eq!(code(&fixed), 0, "{}", text(&fixed.stderr));
    assert!(fixed.stdout.is_empty(), "{}", text(&fixed.stdout));
}

#[test]
fn statistics_count_findings_per_rule() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "a.sh",
        format!("{TOKENLESS}{}", &TOKENLESS[10..]),
    );
    write(dir.path(), "b.sh", UNASSIGNED);
    let output = imds_lint(dir.path(), &["--statistics", "--format", "json"]);
    let stderr = text(&output.stderr);
    assert!(stderr.contains("findings:           3"), "{stderr}");
    assert!(
        stderr.contains("  IMDS001 tokenless-request          2"),
        "{stderr}"
    );
    assert!(
        stderr.contains("  IMDS004 unassigned-token-variable  1"),
        "{stderr}"
    );
    assert!(!stderr.contains("IMDS002"), "{stderr}");
}

#[test]
fn a_baseline_accepts_todays_findings_and_reports_new_ones() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let script = "#!/bin/sh\nset -e\nID=$(curl -s http://169.254.169.254/latest/meta-data/instance-id)\ncurl -s http://169.254.169.254/latest/meta-data/ami-id\ncurl -s http://169.254.169.254/latest/meta-data/ami-id\n";
    write(root, "boot/start.sh", script);
    write(root, "b.sh", UNASSIGNED);
    assert_eq!(findings(&concise(root, &[])).len(), 4);

    // Write: exit 0 whatever is found, nothing on stdout.
    let written = concise(root, &["--write-baseline", "imds-baseline.json"]);
    assert_eq!(code(&written), 0, "{}", text(&written.stderr));
    assert!(written.stdout.is_empty());
    assert!(
        text(&written.stderr)
            .contains("wrote 3 baseline entries (4 findings) to imds-baseline.json"),
        "{}",
        text(&written.stderr)
    );
    let baseline: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("imds-baseline.json")).unwrap()).unwrap();
    assert_eq!(baseline["version"], 1);
    let entries = baseline["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    for entry in entries {
        let keys: Vec<&str> = entry
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["count", "fingerprint", "path", "rule"]);
        assert_eq!(entry["fingerprint"].as_str().unwrap().len(), 64);
    }
    let ami = entries
        .iter()
        .find(|e| e["count"] == 2)
        .expect("the two identical requests share an entry");
    assert_eq!(ami["path"], "boot/start.sh");
    assert_eq!(ami["rule"], "IMDS001");

    // Rescan: everything accepted.
    let rescan = concise(root, &["--baseline", "imds-baseline.json"]);
    assert_eq!(code(&rescan), 0, "{}", text(&rescan.stdout));
    assert!(rescan.stdout.is_empty());
    // From another directory, the paths still match (they are relative to the baseline file).
    let from_boot = concise(
        &root.join("boot"),
        &["--baseline", "../imds-baseline.json", "."],
    );
    assert_eq!(code(&from_boot), 0, "{}", text(&from_boot.stdout));

    // Move the code down and re-indent it: still accepted.
    let moved = format!(
        "#!/bin/sh\n# a comment\n\nset -e\nif true; then\n  ID=$(curl  -s   http://169.254.169.254/latest/meta-data/instance-id)\nfi\n\n{}",
        &script[script.find("curl -s http://169.254.169.254/latest/meta-data/ami-id").unwrap()..]
    );
    write(root, "boot/start.sh", &moved);
    let rescan = concise(root, &["--baseline", "imds-baseline.json"]);
    assert_eq!(code(&rescan), 0, "{}", text(&rescan.stdout));

    // A new request, and a third copy of an accepted one: only they are reported.
    write(
        root,
        "boot/start.sh",
        format!(
            "{moved}curl -s http://169.254.169.254/latest/user-data\ncurl -s http://169.254.169.254/latest/meta-data/ami-id\n"
        ),
    );
    let rescan = concise(root, &["--baseline", "imds-baseline.json"]);
    assert_eq!(code(&rescan), 1);
    assert_eq!(
        findings(&rescan),
        ["boot/start.sh:11 IMDS001", "boot/start.sh:12 IMDS001"]
    );
    let stats = concise(root, &["--baseline", "imds-baseline.json", "--statistics"]);
    assert!(
        text(&stats.stderr).contains("accepted by the baseline: 4"),
        "{}",
        text(&stats.stderr)
    );

    // A missing or broken baseline is an error, not an empty baseline.
    let missing = concise(root, &["--baseline", "nope.json"]);
    assert_eq!(code(&missing), 2);
    assert!(text(&missing.stderr).contains("nope.json: cannot read the baseline"));
    write(root, "broken.json", "{\"version\": 2, \"entries\": []}");
    let broken = concise(root, &["--baseline", "broken.json"]);
    assert_eq!(code(&broken), 2);
    assert!(
        text(&broken.stderr).contains("broken.json: not a baseline file"),
        "{}",
        text(&broken.stderr)
    );
}

/// An `exclude` or `per-file-ignores` glob that matches nothing the scan walked is said, in
/// every format's diagnostics: most often the configuration file is outside the scanned tree
/// (`--config`), so its globs, relative to its own directory, cannot match.
#[test]
fn globs_that_match_nothing_are_said() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "settings/imds-lint.toml",
        "exclude = [\"vendor\"]\n[per-file-ignores]\n\"legacy/**\" = [\"IMDS001\"]\n",
    );
    write(root, "app/vendor/a.sh", TOKENLESS);
    write(root, "app/legacy/b.sh", TOKENLESS);
    let config = root.join("settings/imds-lint.toml");
    let config = config.to_str().unwrap();
    let output = concise(root, &["--config", config, "app"]);
    // Relative to settings/, the globs leave nothing out: both files are reported.
    assert_eq!(
        findings(&output),
        ["app/legacy/b.sh:2 IMDS001", "app/vendor/a.sh:2 IMDS001"]
    );
    let settings_dir = root.join("settings");
    let said = |kind: &str, glob: &str, what: &str| {
        format!(
            "imds-lint: warning: {config}: `{kind}` glob `{glob}` matched no {what} of this scan (globs are relative to {}, the configuration file's directory)",
            settings_dir.display()
        )
    };
    let stderr = text(&output.stderr);
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("imds-lint: warning"))
        .collect();
    assert_eq!(
        warnings,
        [
            said("exclude", "vendor", "path"),
            said("per-file-ignores", "legacy/**", "file")
        ],
        "{stderr}"
    );
    let json = imds_lint(root, &["--config", config, "--format", "json", "app"]);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let diagnostics = value["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 2, "{value}");
    assert!(diagnostics
        .iter()
        .all(|d| d["kind"] == "warning" && d["message"].as_str().unwrap().contains("matched no")));

    // In its own tree the globs match, and nothing is said.
    write(
        root,
        "imds-lint.toml",
        "exclude = [\"vendor\"]\n[per-file-ignores]\n\"legacy/**\" = [\"IMDS001\"]\n",
    );
    write(root, "vendor/c.sh", TOKENLESS);
    write(root, "legacy/d.sh", TOKENLESS);
    let inside = concise(root, &["--config", "imds-lint.toml", "."]);
    assert!(
        !text(&inside.stderr).contains("matched no"),
        "{}",
        text(&inside.stderr)
    );
    // Files named one by one (pre-commit) leave globs unmatched by design: nothing is said.
    let listed = concise(root, &["--config", config, "app/vendor/a.sh"]);
    assert!(
        !text(&listed.stderr).contains("matched no"),
        "{}",
        text(&listed.stderr)
    );
}
