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
