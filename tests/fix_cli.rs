//! `--fix`, `--diff`, `--unsafe-fixes` and `--token-ttl` from the command line: what is written,
//! what is printed, exit statuses, and the promises about files (mode kept, bytes outside the
//! edits kept, CRLF kept, links out of the root refused). Expected outputs are written by hand.

#[path = "support/run.rs"]
mod run;

use std::os::unix::fs::PermissionsExt;

use run::{imds_lint, imds_lint_stdin, text};

const FETCH: &str = r#"IMDS_TOKEN=$(curl -sf --connect-timeout 1 --max-time 2 -X PUT "http://169.254.169.254/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 21600" || true)"#;
const HEADER: &str = r#"-H "X-aws-ec2-metadata-token: $IMDS_TOKEN""#;

#[test]
fn fix_rewrites_in_place_and_says_what_it_did() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("boot.sh");
    std::fs::write(
        &path,
        "#!/bin/bash\nset -eu\nID=$(curl -s http://169.254.169.254/latest/meta-data/instance-id)\necho \"$ID\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o754)).unwrap();
    let output = imds_lint(dir.path(), &["--fix", "boot.sh"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        "fixed 1 finding in boot.sh\nfixed 1 of 1 finding in 1 file\nNo problems found (1 file scanned).\n"
    );
    assert_eq!(
        text(&std::fs::read(&path).unwrap()),
        format!("#!/bin/bash\nset -eu\n{FETCH}\nID=$(curl {HEADER} -s http://169.254.169.254/latest/meta-data/instance-id)\necho \"$ID\"\n")
    );
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o754);
}

#[test]
fn diff_prints_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let original = "#!/bin/sh\ncurl -s http://169.254.169.254/latest/meta-data/ami-id\n";
    std::fs::write(dir.path().join("a.sh"), original).unwrap();
    let output = imds_lint(dir.path(), &["--diff", "a.sh"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        text(&output.stdout),
        format!(
            "--- a/a.sh\n+++ b/a.sh\n@@ -1,2 +1,3 @@\n #!/bin/sh\n-curl -s http://169.254.169.254/latest/meta-data/ami-id\n+{FETCH}\n+curl {HEADER} -s http://169.254.169.254/latest/meta-data/ami-id\n"
        )
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("a.sh")).unwrap(),
        original
    );
    assert!(text(&output.stderr).contains("1 file would change"));

    std::fs::write(dir.path().join("a.sh"), "echo fine\n").unwrap();
    let clean = imds_lint(dir.path(), &["--diff", "a.sh"]);
    assert_eq!(clean.status.code(), Some(0));
    assert_eq!(text(&clean.stdout), "");
}

#[test]
fn token_ttl_is_used_and_bounded() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.sh"),
        "curl http://169.254.169.254/latest/meta-data/\n",
    )
    .unwrap();
    let output = imds_lint(dir.path(), &["--diff", "--token-ttl", "300", "a.sh"]);
    assert!(text(&output.stdout).contains("X-aws-ec2-metadata-token-ttl-seconds: 300\""));
    for bad in ["0", "21601", "-5", "six"] {
        let refused = imds_lint(dir.path(), &["--fix", "--token-ttl", bad, "a.sh"]);
        assert_eq!(refused.status.code(), Some(2), "--token-ttl {bad}");
    }
    assert_eq!(
        std::fs::read_to_string(dir.path().join("a.sh")).unwrap(),
        "curl http://169.254.169.254/latest/meta-data/\n"
    );
}

#[test]
fn unsafe_fixes_wait_for_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let original =
        "#!/bin/sh\nbusybox wget -qO- http://169.254.169.254/latest/meta-data/hostname\n";
    std::fs::write(dir.path().join("alpine.sh"), original).unwrap();
    let json = imds_lint(dir.path(), &["--format", "json", "alpine.sh"]);
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let fix = &doc["findings"][0]["fix"];
    assert_eq!(fix["applicability"], "unsafe");
    assert!(fix["message"]
        .as_str()
        .unwrap()
        .contains("BusyBox wget cannot send the PUT"));

    let safe_only = imds_lint(dir.path(), &["--fix", "alpine.sh"]);
    assert_eq!(safe_only.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("alpine.sh")).unwrap(),
        original
    );

    let with_unsafe = imds_lint(dir.path(), &["--fix", "--unsafe-fixes", "alpine.sh"]);
    assert_eq!(with_unsafe.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("alpine.sh")).unwrap(),
        "#!/bin/sh\nIMDS_TOKEN=$(wget -q -O - --timeout=1 --tries=1 --method=PUT --header=\"X-aws-ec2-metadata-token-ttl-seconds: 21600\" \"http://169.254.169.254/latest/api/token\" || true)\nbusybox wget ${IMDS_TOKEN:+\"--header=X-aws-ec2-metadata-token: $IMDS_TOKEN\"} -qO- http://169.254.169.254/latest/meta-data/hostname\n"
    );
}

#[test]
fn crlf_and_invalid_bytes_survive() {
    let dir = tempfile::tempdir().unwrap();
    let original: &[u8] = b"#!/bin/sh\r\n# caf\xe9\r\n  curl -s http://169.254.169.254/latest/user-data > /tmp/ud\r\necho \xff\r\n";
    std::fs::write(dir.path().join("w.sh"), original).unwrap();
    let output = imds_lint(dir.path(), &["--fix", "w.sh"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let mut expected = b"#!/bin/sh\r\n# caf\xe9\r\n  ".to_vec();
    expected.extend_from_slice(FETCH.as_bytes());
    expected.extend_from_slice(b"\r\n  curl ");
    expected.extend_from_slice(HEADER.as_bytes());
    expected.extend_from_slice(
        b" -s http://169.254.169.254/latest/user-data > /tmp/ud\r\necho \xff\r\n",
    );
    assert_eq!(
        text(&std::fs::read(dir.path().join("w.sh")).unwrap()),
        text(&expected)
    );
    assert_eq!(std::fs::read(dir.path().join("w.sh")).unwrap(), expected);
}

#[test]
fn never_writes_through_a_link_out_of_the_root() {
    let outside = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let original = "curl http://169.254.169.254/latest/meta-data/\n";
    std::fs::write(outside.path().join("shared.sh"), original).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("shared.sh"),
        root.path().join("link.sh"),
    )
    .unwrap();
    let output = imds_lint(root.path(), &["--fix", "."]);
    assert!(
        text(&output.stderr).contains("outside the scanned root"),
        "{}",
        text(&output.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(outside.path().join("shared.sh")).unwrap(),
        original
    );
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn unfixable_findings_are_still_reported() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.sh"),
        "curl http://169.254.169.254/latest/meta-data/\ncurl -H \"X-aws-ec2-metadata-token: $T\" http://169.254.169.254/latest/meta-data/\n",
    )
    .unwrap();
    let output = imds_lint(dir.path(), &["--fix", "--format", "concise", "a.sh"]);
    assert_eq!(output.status.code(), Some(1));
    // The IMDS004 finding moved down a line: the fetch was inserted above it.
    assert_eq!(
        text(&output.stdout),
        "a.sh:3:1: IMDS004 token header uses `$T`, which nothing in scope assigns from a token request\n"
    );
    assert!(text(&output.stderr).contains("fixed 1 of 2 findings in 1 file"));
}

#[test]
fn standard_input_fixed_to_standard_output() {
    let output = imds_lint_stdin(
        &["--fix", "-"],
        b"wget -qO- http://169.254.169.254/latest/meta-data/\n",
    );
    assert_eq!(
        text(&output.stdout),
        "IMDS_TOKEN=$(wget -q -O - --timeout=1 --tries=1 --method=PUT --header=\"X-aws-ec2-metadata-token-ttl-seconds: 21600\" \"http://169.254.169.254/latest/api/token\" || true)\nwget ${IMDS_TOKEN:+\"--header=X-aws-ec2-metadata-token: $IMDS_TOKEN\"} -qO- http://169.254.169.254/latest/meta-data/\n"
    );
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn standard_input_without_fixes_passes_through() {
    let output = imds_lint_stdin(&["--fix", "-"], b"echo hello\n");
    assert_eq!(text(&output.stdout), "echo hello\n");
}

/// `--fix` run three times in `dir` on `name`, with `--format concise`: each run's standard
/// output and error, and the file after each.
fn fix_three_times(
    dir: &std::path::Path,
    name: &str,
    extra: &[&str],
) -> Vec<(String, String, String)> {
    (0..3)
        .map(|_| {
            let mut args = vec!["--isolated", "--fix", "--format", "concise"];
            args.extend_from_slice(extra);
            args.push(name);
            let output = imds_lint(dir, &args);
            assert!(
                matches!(output.status.code(), Some(0 | 1)),
                "{}",
                text(&output.stderr)
            );
            (
                text(&output.stdout),
                text(&output.stderr),
                std::fs::read_to_string(dir.join(name)).unwrap(),
            )
        })
        .collect()
}

#[test]
fn terraform_that_does_not_parse_around_a_resource_is_not_fixed() {
    // Each once appended a `metadata_options` block per pass (8 a run) and said "fixed 0
    // findings": the block added inside the broken resource was never read back.
    let cases = [
        // An unterminated heredoc inside the resource.
        "resource \"aws_instance\" \"web\" {\n  ami = \"ami-123\"\n  user_data = <<EOF\n#!/bin/bash\necho hi\n}\n",
        // An unterminated string.
        "resource \"aws_instance\" \"web\" {\n  ami = \"ami-123\n  instance_type = \"t3.micro\"\n}\n",
        // An unterminated string in a nested object.
        "resource \"aws_instance\" \"web\" {\n  ami           = \"ami-123\"\n  instance_type = \"t3.micro\"\n  tags = {\n    Name = \"web\n  }\n}\n",
        // A request in the user data of a broken resource is not rewritten either.
        "resource \"aws_instance\" \"web\" {\n  ami = \"ami-123\"\n  user_data = <<EOF\n#!/bin/bash\ncurl -s http://169.254.169.254/latest/meta-data/ami-id\n}\n",
    ];
    for original in cases {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("main.tf"), original).unwrap();
        let lines = original.lines().count();
        for (stdout, stderr, after) in fix_three_times(dir.path(), "main.tf", &["--unsafe-fixes"]) {
            assert_eq!(after, original, "{stdout}{stderr}");
            let finding = stdout
                .lines()
                .find(|l| l.contains("IMDS010"))
                .unwrap_or_default();
            assert!(
                finding.starts_with("main.tf:1:1: IMDS010 `aws_instance` `web` without `metadata_options`: EC2 allows IMDSv1")
                    && finding.ends_with(&format!("; the file could not be parsed around it (lines 1-{lines}), so it may be read wrong and is not fixed")),
                "{original:?}:\n{stdout}"
            );
            assert!(
                stderr.contains("main.tf: the Terraform file has syntax errors; arguments around them may be skipped"),
                "{stderr}"
            );
            assert!(!stdout.contains("fixed 0 findings in"), "{stdout}");
            assert!(!stderr.contains("did not converge"), "{stderr}");
        }
    }
    // The request's finding says why it is not fixed too.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.tf"), cases[3]).unwrap();
    let output = imds_lint(
        dir.path(),
        &["--isolated", "--format", "concise", "main.tf"],
    );
    assert!(
        text(&output.stdout).contains("main.tf:5:1: IMDS001 `curl` request to the metadata service without a token; the file could not be parsed around it (lines 1-6), so it may be read wrong and is not fixed\n"),
        "{}",
        text(&output.stdout)
    );
}

#[test]
fn a_resource_beside_a_broken_one_is_fixed_once() {
    let dir = tempfile::tempdir().unwrap();
    let original = "resource \"aws_instance\" \"a\" {\n  ami = \"x\"\n}\n\nresource \"aws_instance\" \"b\" {\n  ami = \"y\n}\n";
    std::fs::write(dir.path().join("main.tf"), original).unwrap();
    let fixed = "resource \"aws_instance\" \"a\" {\n  ami = \"x\"\n\n  metadata_options {\n    http_tokens = \"required\"\n  }\n}\n\nresource \"aws_instance\" \"b\" {\n  ami = \"y\n}\n";
    let runs = fix_three_times(dir.path(), "main.tf", &[]);
    for (stdout, _, after) in &runs {
        assert_eq!(after, fixed, "{stdout}");
        assert!(
            stdout.contains("main.tf:9:1: IMDS010 `aws_instance` `b` without `metadata_options`"),
            "{stdout}"
        );
        assert!(
            stdout.contains("could not be parsed around it (lines 9-11)"),
            "{stdout}"
        );
    }
    assert!(
        runs[0].1.contains("fixed 1 of 2 findings in 1 file"),
        "{}",
        runs[0].1
    );
    assert!(
        runs[1].1.contains("fixed 0 of 1 finding in 0 files"),
        "{}",
        runs[1].1
    );
}

#[test]
fn yaml_and_json_that_do_not_parse_are_not_fixed() {
    let cases = [
        ("a.json", "{\n  \"Resources\": {\n    \"Web\": {\n      \"Type\": \"AWS::EC2::Instance\",\n      \"Properties\": {\n        \"ImageId\": \"ami-1,\n        \"MetadataOptions\": {\"HttpTokens\": \"optional\"}\n      }\n    }\n  }\n}\n"),
        ("b.json", "{\n  \"Resources\": {\n    \"Web\": {\n      \"Type\": \"AWS::EC2::Instance\",\n      \"Properties\": {\n        \"ImageId\": \"ami-1\"\n      }\n    }\n  }\n"),
        ("c.yaml", "Resources:\n  Web:\n    Type: AWS::EC2::Instance\n    Properties:\n      ImageId: \"ami-1\n      MetadataOptions:\n        HttpTokens: optional\n"),
        ("d.yaml", "apiVersion: infrastructure.cluster.x-k8s.io/v1beta2\nkind: AWSMachine\nmetadata:\n  name: m\nspec:\n  instanceMetadataOptions:\n    httpTokens: optional\n  x: {a: [1, 2\n"),
    ];
    for (name, original) in cases {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(name), original).unwrap();
        for (stdout, stderr, after) in fix_three_times(dir.path(), name, &["--unsafe-fixes"]) {
            assert_eq!(after, original, "{name}: {stdout}{stderr}");
            // The note names what the file is (JSON or YAML).
            let format = if name.ends_with(".json") {
                "JSON"
            } else {
                "YAML"
            };
            assert!(
                stderr.contains(&format!("{name}: not valid {format}; it was not analysed")),
                "{name}: {stderr}"
            );
        }
    }
}

#[test]
fn scripts_with_syntax_errors_get_unsafe_fixes_only() {
    let dir = tempfile::tempdir().unwrap();
    let original = "#!/bin/sh\ncurl -s http://169.254.169.254/latest/meta-data/ami-id\nif [ -n \"$x\" ]; then\n  echo (\nfi\n";
    std::fs::write(dir.path().join("a.sh"), original).unwrap();
    for (stdout, _, after) in fix_three_times(dir.path(), "a.sh", &[]) {
        assert_eq!(after, original, "{stdout}");
    }
    let json = imds_lint(dir.path(), &["--isolated", "--format", "json", "a.sh"]);
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let fix = &doc["findings"][0]["fix"];
    assert_eq!(fix["applicability"], "unsafe");
    assert!(
        fix["message"].as_str().unwrap().ends_with(
            "(unsafe: the script has syntax errors and was read only as far as it goes)"
        ),
        "{fix}"
    );
    // With `--unsafe-fixes` it is fixed once, and a second run changes nothing.
    let runs = fix_three_times(dir.path(), "a.sh", &["--unsafe-fixes"]);
    assert_ne!(runs[0].2, original);
    assert!(
        runs[0].2.contains("X-aws-ec2-metadata-token"),
        "{}",
        runs[0].2
    );
    assert_eq!(runs[1].2, runs[0].2);
    assert_eq!(runs[2].2, runs[0].2);
}
