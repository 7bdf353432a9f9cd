//! Instance metadata settings through the real binary: what the JSON report says about a setting
//! whose user data is clean or still tokenless (fix offered or withheld, and why), the warning
//! severity of a setting left unset, and `--fix` putting the scripts right before the setting in
//! one run. The cases are fixtures of `fixtures/settings/`, whose markers and `.fixed` files
//! `tests/fixtures.rs` checks.

#[path = "support/run.rs"]
mod run;

use std::path::{Path, PathBuf};

use run::{imds_lint, text};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/settings")
        .join(rel)
}

/// The JSON findings of one fixture, scanned where it is.
fn findings(rel: &str) -> Vec<serde_json::Value> {
    let path = fixture(rel);
    let out = imds_lint(
        path.parent().unwrap(),
        &[
            "--format",
            "json",
            path.file_name().unwrap().to_str().unwrap(),
        ],
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{rel}: no JSON ({e}): {}", text(&out.stderr)));
    json["findings"].as_array().unwrap().clone()
}

/// The human report of one fixture, its whitespace collapsed (help text is wrapped).
fn report(rel: &str) -> String {
    let path = fixture(rel);
    let out = imds_lint(
        path.parent().unwrap(),
        &[
            "--color",
            "never",
            path.file_name().unwrap().to_str().unwrap(),
        ],
    );
    text(&out.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn only(findings: &[serde_json::Value], rule: &str) -> serde_json::Value {
    let matching: Vec<&serde_json::Value> = findings.iter().filter(|f| f["rule"] == rule).collect();
    assert_eq!(matching.len(), 1, "one {rule} expected: {findings:#?}");
    matching[0].clone()
}

#[test]
fn clean_user_data_gets_a_safe_fix() {
    let found = findings("terraform/instance-tokens-optional-clean-user-data.tf");
    let imds010 = only(&found, "IMDS010");
    assert_eq!(imds010["severity"], "error");
    assert_eq!(imds010["fix"]["applicability"], "safe");
    assert_eq!(imds010["fix"]["edits"][0]["content"], "required");
    assert_eq!(
        imds010["message"],
        "`http_tokens` set to `optional` allows IMDSv1"
    );
}

#[test]
fn tokenless_user_data_withholds_the_fix_and_says_why() {
    let found = findings("terraform/instance-tokens-optional-tokenless-user-data.tf");
    let imds010 = only(&found, "IMDS010");
    assert!(imds010["fix"].is_null(), "{imds010:#}");
    let message = imds010["message"].as_str().unwrap();
    assert!(
        message.contains(
            "the boot code of its instances still makes 1 tokenless request (instance-tokens-optional-tokenless-user-data.tf:7): fix it first"
        )
            && message.contains("`--fix` fixes scripts in the same run"),
        "{message}"
    );
    assert_eq!(only(&found, "IMDS001")["fix"]["applicability"], "safe");
}

#[test]
fn fix_puts_the_script_right_then_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let name = "instance-tokens-optional-tokenless-user-data.tf";
    std::fs::copy(fixture(&format!("terraform/{name}")), dir.path().join(name)).unwrap();
    let out = imds_lint(dir.path(), &["--fix", name]);
    let said = text(&out.stdout);
    assert!(said.contains("fixed 2 of 2 findings in 1 file"), "{said}");
    assert_eq!(out.status.code(), Some(0), "{said}");
    let fixed = std::fs::read_to_string(dir.path().join(name)).unwrap();
    assert!(fixed.contains("http_tokens = \"required\""), "{fixed}");
    assert!(
        fixed.contains("-H \"X-aws-ec2-metadata-token: $IMDS_TOKEN\""),
        "{fixed}"
    );
}

#[test]
fn a_setting_left_unset_is_a_warning() {
    let found = findings("cloudformation/instance-unset.yaml");
    let imds010 = only(&found, "IMDS010");
    assert_eq!(imds010["severity"], "warning");
    assert_eq!(imds010["line"], 4);
    assert!(imds010["message"]
        .as_str()
        .unwrap()
        .contains("EC2 allows IMDSv1 unless the AMI (`ImdsSupport: v2.0`) or the account default requires tokens"));
    assert_eq!(imds010["fix"]["applicability"], "safe");
}

#[test]
fn boot_code_elsewhere_makes_the_fix_unsafe() {
    for (rel, why) in [
        ("capa/awsmachinetemplate-optional.yaml", "bootstrap Secret"),
        (
            "cloudformation/instance-user-data-parameter.yaml",
            "a reference",
        ),
        (
            "aws-cli/modify-instance-metadata-options.sh",
            "not known here",
        ),
    ] {
        let found = findings(rel);
        let first = found.iter().find(|f| f["rule"] == "IMDS010").unwrap();
        assert_eq!(first["fix"]["applicability"], "unsafe", "{rel}");
        let said = report(rel);
        assert!(
            said.contains(why) && said.contains("(the fix is unsafe)"),
            "{rel}: {said}"
        );
    }
}

#[test]
fn the_hop_limit_finding_points_at_the_container_and_names_the_trade_off() {
    let found = scan(&["containers/pod-requests-metadata"]);
    let imds011: Vec<&serde_json::Value> =
        found.iter().filter(|f| f["rule"] == "IMDS011").collect();
    assert_eq!(imds011.len(), 2, "{found:#?}");
    for finding in imds011 {
        assert_eq!(finding["severity"], "warning");
        assert!(
            finding["message"]
                .as_str()
                .unwrap()
                .contains("a container requests instance metadata at containers/pod-requests-metadata/pod.yaml:10"),
            "{finding:#}"
        );
        let related = finding["related"].as_array().unwrap();
        assert!(!related.is_empty(), "{finding:#}");
        for place in related {
            assert_eq!(place["path"], "containers/pod-requests-metadata/pod.yaml");
            assert_eq!(place["line"], 10);
        }
        // Raising the hop limit is a trade-off, never a safe fix.
        assert_eq!(finding["fix"]["applicability"], "unsafe", "{finding:#}");
        assert!(finding["fix"]["message"]
            .as_str()
            .unwrap()
            .contains("every container on these instances"));
    }
    // Scanned alone, the launch templates show no container that needs their metadata.
    let alone = scan(&["containers/pod-requests-metadata/nodes.tf"]);
    assert!(alone.iter().all(|f| f["rule"] != "IMDS011"), "{alone:#?}");
    let said = report("containers/pod-requests-metadata/nodes.tf");
    assert!(!said.contains("IMDS011"), "{said}");
}

#[test]
fn the_hop_limit_help_names_the_irsa_trade_off() {
    let path = fixture("containers/pod-requests-metadata");
    let out = imds_lint(&path, &["--color", "never", "."]);
    let said = text(&out.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        said.contains("(EKS with IRSA or Pod Identity, ECS task roles), keep 1")
            && said.contains("# imds-lint disable=IMDS011")
            && said.contains(
                "every container on the instances can then reach the instance role's credentials"
            ),
        "{said}"
    );
}

/// The JSON findings of a scan of `paths` (relative to `fixtures/settings`).
fn scan(paths: &[&str]) -> Vec<serde_json::Value> {
    let mut args = vec!["--format", "json"];
    args.extend_from_slice(paths);
    let out = imds_lint(&fixture(""), &args);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{paths:?}: no JSON ({e}): {}", text(&out.stderr)));
    json["findings"].as_array().unwrap().clone()
}

#[test]
fn capa_fix_is_safe_once_the_linked_secret_is_read_and_clean() {
    let pool = "capa-boot/optional-tokened/awsmanagedmachinepool.yaml";
    // With the MachinePool and its Secret in the scan, the boot code is seen and clean.
    let found = scan(&["capa-boot/optional-tokened"]);
    let imds010 = only(&found, "IMDS010");
    assert_eq!(imds010["path"], pool);
    assert_eq!(imds010["fix"]["applicability"], "safe", "{imds010:#}");
    // The same object scanned alone: its boot script is not seen.
    let alone = scan(&[pool]);
    assert_eq!(
        only(&alone, "IMDS010")["fix"]["applicability"],
        "unsafe",
        "{alone:#?}"
    );
    // A tokenless Secret withholds the fix and says where the request is.
    let tokenless = scan(&["capa-boot/optional-tokenless"]);
    let imds010 = only(&tokenless, "IMDS010");
    assert!(imds010["fix"].is_null(), "{imds010:#}");
    assert!(
        imds010["message"]
            .as_str()
            .unwrap()
            .contains("1 tokenless request (capa-boot/optional-tokenless/secret.yaml:9)"),
        "{imds010:#}"
    );
    // A MachinePool whose Secret is not in the tree: unsafe, and the Secret is named.
    let missing = scan(&["capa-boot/optional-missing-secret"]);
    let imds010 = only(&missing, "IMDS010");
    assert_eq!(imds010["fix"]["applicability"], "unsafe");
    let out = imds_lint(
        &fixture(""),
        &["--color", "never", "capa-boot/optional-missing-secret"],
    );
    let said = text(&out.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        said.contains(
            "its bootstrap Secret `workers-bootstrap` (namespace `capa-optional-missing`), named by a machine set in `capa-boot/optional-missing-secret/machinepool.yaml`, is not in the scanned tree, so check those scripts first (the fix is unsafe)"
        ),
        "{said}"
    );
    // A MachineDeployment whose bootstrap configuration (`configRef`) is not in the tree: the same.
    let missing = scan(&["capa-boot/kubeadm-config-missing"]);
    let imds010 = only(&missing, "IMDS010");
    assert_eq!(imds010["fix"]["applicability"], "unsafe");
    assert_eq!(
        imds010["fix"]["message"],
        "Set `httpTokens` to `required` (unsafe: its bootstrap configuration KubeadmConfigTemplate `workers` (namespace `capa-kubeadm-missing`), named by a machine set in `capa-boot/kubeadm-config-missing/machinedeployment.yaml`, is not in the scanned tree)"
    );
    // One whose configuration writes a file from a Secret: that file is named, unread.
    let from_secret = scan(&["capa-boot/kubeadm-config-content-from"]);
    assert_eq!(
        only(&from_secret, "IMDS010")["fix"]["message"],
        "Set `httpTokens` to `required` (unsafe: the file `/usr/local/bin/tune.sh` of its bootstrap configuration NodeadmConfigTemplate/workers takes its content from the Secret `node-tuning`, which is not read)"
    );
}

#[test]
fn a_tf_file_scanned_alone_still_reads_the_script_it_names() {
    let found = scan(&["terraform-boot/required-file-tokenless/main.tf"]);
    let mut got: Vec<(String, u64, String)> = found
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
                f["rule"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    got.sort();
    let dir = "terraform-boot/required-file-tokenless";
    assert_eq!(
        got,
        [
            (format!("{dir}/boot.sh"), 4, "IMDS001".to_owned()),
            (format!("{dir}/boot.sh"), 4, "IMDS012".to_owned()),
            (format!("{dir}/main.tf"), 8, "IMDS012".to_owned()),
        ]
    );
    let at_request = found
        .iter()
        .find(|f| f["rule"] == "IMDS012" && f["line"] == 4)
        .unwrap();
    assert!(
        at_request["message"].as_str().unwrap().contains(&format!(
            "`http_tokens` set to `required` at {dir}/main.tf:8"
        )),
        "{at_request:#}"
    );
}

#[test]
fn imds012_is_suppressed_where_it_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let source = fixture("terraform-boot/required-file-tokenless");
    std::fs::copy(source.join("main.tf"), dir.path().join("main.tf")).unwrap();
    let script = std::fs::read_to_string(source.join("boot.sh")).unwrap();
    let marked = script.replace("# expect: IMDS001 IMDS012", "# imds-lint disable=IMDS012");
    assert_ne!(script, marked);
    std::fs::write(dir.path().join("boot.sh"), marked).unwrap();
    let out = imds_lint(dir.path(), &["--format", "concise", "."]);
    let stdout = text(&out.stdout);
    let mut lines: Vec<&str> = stdout.lines().collect();
    lines.sort();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(lines[0].starts_with("./boot.sh:4:15: IMDS001 "), "{stdout}");
    assert!(lines[1].starts_with("./main.tf:8:36: IMDS012 "), "{stdout}");
}

#[test]
fn imds012_points_at_the_other_side_in_every_format() {
    let dir = "terraform-boot/required-file-tokenless";
    let target = format!("{dir}/main.tf");
    // JSON: `related` with path, line, column and what the place is.
    let found = scan(&[&target]);
    let at_setting = found
        .iter()
        .find(|f| f["rule"] == "IMDS012" && f["path"] == format!("{dir}/main.tf"))
        .unwrap();
    assert_eq!(
        at_setting["related"],
        serde_json::json!([{
            "path": format!("{dir}/boot.sh"),
            "line": 4,
            "column": 15,
            "message": "tokenless request in the boot code of these instances",
        }])
    );
    let at_request = found
        .iter()
        .find(|f| f["rule"] == "IMDS012" && f["path"] == format!("{dir}/boot.sh"))
        .unwrap();
    assert_eq!(at_request["related"][0]["path"], format!("{dir}/main.tf"));
    assert_eq!(at_request["related"][0]["line"], 8);
    assert_eq!(at_request["related"][0]["column"], 36);
    // IMDS001 is about the request alone.
    let imds001 = found.iter().find(|f| f["rule"] == "IMDS001").unwrap();
    assert!(imds001.get("related").is_none(), "{imds001:#}");
    // SARIF: relatedLocations.
    let out = imds_lint(&fixture(""), &["--format", "sarif", &target]);
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let result = results
        .iter()
        .find(|r| {
            r["ruleId"] == "IMDS012"
                && r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    == format!("{dir}/boot.sh")
        })
        .unwrap();
    let related = &result["relatedLocations"][0]["physicalLocation"];
    assert_eq!(related["artifactLocation"]["uri"], format!("{dir}/main.tf"));
    assert_eq!(related["region"]["startLine"], 8);
    // Human: a second snippet with the other file's line, labelled.
    let out = imds_lint(&fixture(""), &["--color", "never", &target]);
    let said = text(&out.stdout);
    let second = said
        .split("Advice: related location")
        .nth(1)
        .unwrap_or_else(|| panic!("no related location: {said}"));
    assert!(
        second.contains(&format!("see {dir}/main.tf:8"))
            && second.contains(r#"8 │     http_tokens                 = "required""#)
            && second.contains("the setting of the instances this boot code runs on"),
        "{said}"
    );
}

#[test]
fn a_script_booted_by_two_settings_gets_one_finding_pointing_at_both() {
    let dir = tempfile::tempdir().unwrap();
    let instance = |name: &str| {
        format!(
            "resource \"aws_instance\" \"{name}\" {{\n  user_data = file(\"${{path.module}}/boot.sh\")\n  metadata_options {{\n    http_tokens = \"required\"\n  }}\n}}\n"
        )
    };
    std::fs::write(
        dir.path().join("main.tf"),
        format!("{}{}", instance("a"), instance("b")),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("boot.sh"),
        "#!/bin/sh\ncurl -s http://169.254.169.254/latest/meta-data/instance-id\n",
    )
    .unwrap();
    let out = imds_lint(dir.path(), &["--format", "json", "."]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let imds012: Vec<&serde_json::Value> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "IMDS012")
        .collect();
    let at_settings: Vec<u64> = imds012
        .iter()
        .filter(|f| f["path"] == "./main.tf")
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    assert_eq!(at_settings, [4, 10], "{imds012:#?}");
    let at_request: Vec<&&serde_json::Value> = imds012
        .iter()
        .filter(|f| f["path"] == "./boot.sh")
        .collect();
    assert_eq!(at_request.len(), 1, "{imds012:#?}");
    let lines: Vec<u64> = at_request[0]["related"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [4, 10]);
}

#[test]
fn files_that_cannot_be_user_data_are_named_and_leave_the_fix_unsafe() {
    let dir = tempfile::tempdir().unwrap();
    let resource = |name: &str, path: &str| {
        format!(
            "resource \"aws_instance\" \"{name}\" {{\n  user_data = file(\"{path}\")\n  metadata_options {{\n    http_tokens = \"optional\"\n  }}\n}}\n"
        )
    };
    std::fs::create_dir(dir.path().join("scripts")).unwrap();
    std::fs::write(dir.path().join("blob.bin"), b"\0\x01\x02 169.254.169.254").unwrap();
    std::fs::write(
        dir.path().join("main.tf"),
        [
            resource("dir", "scripts"),
            resource("binary", "blob.bin"),
            resource("missing", "gone.sh"),
            resource("missing_again", "./gone.sh"),
        ]
        .concat(),
    )
    .unwrap();
    let out = imds_lint(dir.path(), &["--format", "json", "."]);
    let stderr = text(&out.stderr);
    for expected in [
        "./scripts: referenced as user data, but it is not a regular file; not read",
        "./blob.bin: referenced as user data, but it is binary; not read",
        "./gone.sh: referenced as user data, but it cannot be found",
    ] {
        assert!(stderr.contains(expected), "{expected}: {stderr}");
    }
    // Named twice, reported once.
    assert_eq!(stderr.matches("gone.sh: referenced").count(), 1, "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let fixes: Vec<&serde_json::Value> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["fix"]["applicability"])
        .collect();
    assert_eq!(fixes, ["unsafe", "unsafe", "unsafe", "unsafe"], "{json:#}");
}

/// Writes `files` (path, text) under a new temporary directory.
fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

#[test]
fn an_old_sdk_in_the_settings_tree_makes_the_fix_unsafe_and_one_elsewhere_does_not() {
    const INSTANCE: &str =
        "resource \"aws_instance\" \"web\" {\n  ami           = \"ami-123\"\n  instance_type = \"t3.micro\"\n}\n";
    let json = |dir: &Path| -> Vec<serde_json::Value> {
        let out = imds_lint(dir, &["--format", "json", "."]);
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        json["findings"].as_array().unwrap().clone()
    };
    // The application beside the instance (below its directory): unsafe, and the help names it.
    let below = tree(&[
        ("infra/main.tf", INSTANCE),
        ("infra/app/requirements.txt", "boto3==1.9.0\n"),
    ]);
    let found = json(below.path());
    let imds010 = only(&found, "IMDS010");
    assert_eq!(imds010["fix"]["applicability"], "unsafe", "{imds010:#}");
    let why = imds010["fix"]["message"].as_str().unwrap();
    assert!(
        why.contains("too old for IMDSv2") && why.contains("infra/app/requirements.txt:1"),
        "{why}"
    );
    assert_eq!(
        only(&found, "IMDS020")["path"],
        "./infra/app/requirements.txt"
    );
    // The same setting with a current SDK, or with the old one in a sibling tree (another
    // project of a monorepo): the fix is safe.
    for files in [
        [
            ("infra/main.tf", INSTANCE),
            ("infra/app/requirements.txt", "boto3==1.34.0\n"),
        ],
        [
            ("infra/main.tf", INSTANCE),
            ("other/requirements.txt", "boto3==1.9.0\n"),
        ],
    ] {
        let dir = tree(&files);
        let found = json(dir.path());
        assert_eq!(
            only(&found, "IMDS010")["fix"]["applicability"],
            "safe",
            "{files:?}: {found:#?}"
        );
    }
    // An `aws ec2 run-instances` script that also installs the old SDK: its own evidence.
    let same = tree(&[(
        "launch.sh",
        "#!/bin/sh\npip install boto3==1.9.0\naws ec2 run-instances --image-id ami-1 --metadata-options HttpTokens=optional\n",
    )]);
    let found = json(same.path());
    let imds010 = only(&found, "IMDS010");
    let why = imds010["fix"]["message"].as_str().unwrap();
    assert!(
        why.contains("not read with the command") && why.contains("./launch.sh:2"),
        "{why}"
    );
}
