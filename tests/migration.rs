//! `imds-lint --migration` through the real binary: per declared setting, whether it can require
//! tokens now, with the boot scripts linked in the same file (Terraform) and across files (the
//! Cluster API `MachinePool` → bootstrap `Secret` / `AWSManagedMachinePool` of
//! `fixtures/settings/capa-boot/`), in JSON and as a table. Also IMDS012 across those files in
//! the ordinary report.

#[path = "support/run.rs"]
mod run;

use std::path::{Path, PathBuf};

use run::{imds_lint, text};

fn settings_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/settings")
}

fn migration_json(args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["--migration", "--format", "json"];
    all.extend_from_slice(args);
    let out = imds_lint(&settings_dir(), &all);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON ({e}): {}", text(&out.stdout)));
    assert_eq!(json["version"], 1);
    json["settings"].as_array().unwrap().clone()
}

/// The summary of the setting in file `path`.
fn by_path(settings: &[serde_json::Value], path: &str) -> serde_json::Value {
    settings
        .iter()
        .find(|s| s["path"] == path)
        .unwrap_or_else(|| panic!("{path} missing: {settings:#?}"))
        .clone()
}

#[test]
fn capa_setting_links_its_bootstrap_secret_across_files() {
    let settings = migration_json(&["capa-boot/tokened", "capa-boot/tokenless"]);
    assert_eq!(settings.len(), 2, "{settings:#?}");
    let tokened = &settings[0];
    assert_eq!(
        tokened["path"],
        "capa-boot/tokened/awsmanagedmachinepool.yaml"
    );
    assert_eq!(tokened["line"], 13);
    assert_eq!(tokened["resource"], "AWSManagedMachinePool");
    assert_eq!(tokened["name"], "workers");
    assert_eq!(tokened["http_tokens"], "required");
    assert_eq!(tokened["can_require"], true);
    assert_eq!(
        tokened["boot_scripts"],
        serde_json::json!(["capa-boot/tokened/secret.yaml"])
    );
    assert_eq!(tokened["tokenless_requests"], 0);
    let tokenless = &settings[1];
    assert_eq!(
        tokenless["path"],
        "capa-boot/tokenless/awsmanagedmachinepool.yaml"
    );
    assert_eq!(tokenless["can_require"], false);
    assert_eq!(
        tokenless["boot_scripts"],
        serde_json::json!(["capa-boot/tokenless/secret.yaml"])
    );
    assert_eq!(tokenless["tokenless_requests"], 1);
    assert_eq!(tokenless["fixable"], 1);
}

#[test]
fn same_file_user_data_and_unseen_boot_code() {
    let settings = migration_json(&[
        "terraform/instance-required-tokenless-user-data.tf",
        "terraform/instance-tokens-optional-clean-user-data.tf",
        "capa/awsmachinetemplate-optional.yaml",
    ]);
    let by_path = |p: &str| by_path(&settings, p);
    let broken = by_path("terraform/instance-required-tokenless-user-data.tf");
    assert_eq!(broken["line"], 12);
    assert_eq!(broken["can_require"], false);
    assert_eq!(broken["tokenless_requests"], 1);
    assert_eq!(broken["fixable"], 1);
    assert_eq!(
        broken["boot_scripts"],
        serde_json::json!(["terraform/instance-required-tokenless-user-data.tf"])
    );
    let clean = by_path("terraform/instance-tokens-optional-clean-user-data.tf");
    assert_eq!(clean["http_tokens"], "optional");
    assert_eq!(clean["can_require"], true);
    assert_eq!(clean["tokenless_requests"], 0);
    // A CAPA machine whose bootstrap Secret is not in the scan: its boot code is unseen.
    let capa = by_path("capa/awsmachinetemplate-optional.yaml");
    assert_eq!(capa["can_require"], false);
    assert_eq!(capa["tokenless_requests"], 0);
    assert!(capa["unseen"]
        .as_str()
        .unwrap()
        .contains("bootstrap Secret"));
}

#[test]
fn terraform_setting_links_the_files_its_user_data_reads() {
    let settings = migration_json(&["terraform-boot"]);
    let by_path = |p: &str| by_path(&settings, p);
    assert_eq!(settings.len(), 14, "{settings:#?}");
    let broken = by_path("terraform-boot/required-file-tokenless/main.tf");
    assert_eq!(broken["line"], 8);
    assert_eq!(broken["http_tokens"], "required");
    assert_eq!(broken["can_require"], false);
    assert_eq!(broken["tokenless_requests"], 1);
    assert_eq!(broken["fixable"], 1);
    assert_eq!(
        broken["boot_scripts"],
        serde_json::json!(["terraform-boot/required-file-tokenless/boot.sh"])
    );
    // A template read through `templatefile()` with a token on every request: ready.
    let ready = by_path("terraform-boot/required-templatefile-tokened/main.tf");
    assert_eq!(ready["can_require"], true);
    assert_eq!(ready["tokenless_requests"], 0);
    assert!(ready["unseen"].is_null(), "{ready:#?}");
    assert_eq!(
        ready["boot_scripts"],
        serde_json::json!(["terraform-boot/required-templatefile-tokened/bootstrap.sh.tpl"])
    );
    // A clean script that never names the metadata service (never parsed) is seen and clean too.
    let clean = by_path("terraform-boot/unset-filebase64-clean/main.tf");
    assert_eq!(clean["http_tokens"], serde_json::Value::Null);
    assert_eq!(clean["can_require"], true);
    assert_eq!(
        clean["boot_scripts"],
        serde_json::json!(["terraform-boot/unset-filebase64-clean/init.sh"])
    );
    let cloud = by_path("terraform-boot/required-cloud-config-template/main.tf");
    assert_eq!(
        cloud["boot_scripts"],
        serde_json::json!([
            "terraform-boot/required-cloud-config-template/templates/cloud-init.yaml.tpl"
        ])
    );
    // A local defined in another file of the module, which sends tokens: ready.
    let local = by_path("terraform-boot/local-other-file-tokened/main.tf");
    assert_eq!(local["can_require"], true, "{local:#?}");
    assert_eq!(
        local["boot_scripts"],
        serde_json::json!(["terraform-boot/local-other-file-tokened/locals.tf"])
    );
    // A file that is not there leaves the boot code unseen, and says which.
    let missing = by_path("terraform-boot/optional-file-missing/main.tf");
    assert_eq!(missing["can_require"], false);
    assert_eq!(missing["tokenless_requests"], 0);
    assert_eq!(
        missing["unseen"],
        "its user data file `terraform-boot/optional-file-missing/scripts/missing.sh` was not read"
    );
}

#[test]
fn human_table_says_which_settings_can_require_tokens() {
    let out = imds_lint(
        &settings_dir(),
        &["--migration", "capa-boot/tokened", "capa-boot/tokenless"],
    );
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("setting "), "{stdout}");
    assert!(
        lines[1].contains("capa-boot/tokened/awsmanagedmachinepool.yaml:13")
            && lines[1].contains(" yes ")
            && lines[1].ends_with("capa-boot/tokened/secret.yaml"),
        "{stdout}"
    );
    assert!(
        lines[2].contains("no: fix scripts") && lines[2].contains("1 (1 fixable)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 of 2 settings can require tokens now."),
        "{stdout}"
    );
}

#[test]
fn required_tokens_break_boot_across_files() {
    let out = imds_lint(
        &settings_dir(),
        &["--format", "json", "capa-boot/tokenless"],
    );
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let imds012: Vec<(String, u64, String)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "IMDS012")
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
                f["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(imds012.len(), 2, "{imds012:#?}");
    let (setting, request) = if imds012[0].0.ends_with("awsmanagedmachinepool.yaml") {
        (&imds012[0], &imds012[1])
    } else {
        (&imds012[1], &imds012[0])
    };
    assert_eq!(setting.1, 13);
    assert!(
        setting.2.contains("capa-boot/tokenless/secret.yaml:9"),
        "{}",
        setting.2
    );
    assert!(request.0.ends_with("secret.yaml"));
    assert_eq!(request.1, 9);
    assert!(
        request
            .2
            .contains("capa-boot/tokenless/awsmanagedmachinepool.yaml:13"),
        "{}",
        request.2
    );
    // Without the MachinePool, nothing links them.
    let out = imds_lint(
        &settings_dir(),
        &[
            "--format",
            "json",
            "capa-boot/tokenless/secret.yaml",
            "capa-boot/tokenless/awsmanagedmachinepool.yaml",
        ],
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["rule"] != "IMDS012"));
    // --ignore IMDS012 turns it off.
    let out = imds_lint(
        &settings_dir(),
        &[
            "--format",
            "json",
            "--ignore",
            "IMDS012",
            "capa-boot/tokenless",
        ],
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["rule"] != "IMDS012"));
}

#[test]
fn per_file_ignores_apply_to_findings_from_other_files() {
    let dir = tempfile::tempdir().unwrap();
    let source = settings_dir().join("capa-boot/tokenless");
    for name in [
        "secret.yaml",
        "machinepool.yaml",
        "awsmanagedmachinepool.yaml",
    ] {
        std::fs::copy(source.join(name), dir.path().join(name)).unwrap();
    }
    std::fs::write(
        dir.path().join("imds-lint.toml"),
        "[per-file-ignores]\n\"secret.yaml\" = [\"IMDS012\"]\n",
    )
    .unwrap();
    let out = imds_lint(dir.path(), &["--format", "concise", "."]);
    let stdout = text(&out.stdout);
    let imds012: Vec<&str> = stdout.lines().filter(|l| l.contains("IMDS012")).collect();
    assert_eq!(imds012.len(), 1, "{stdout}");
    assert!(
        imds012[0].contains("awsmanagedmachinepool.yaml:13:"),
        "{stdout}"
    );
    assert!(stdout.contains("secret.yaml:9:10: IMDS001"), "{stdout}");
}

#[test]
fn applications_too_old_for_imdsv2_hold_back_the_settings_of_their_tree() {
    let out = imds_lint(
        &settings_dir(),
        &["--migration", "--format", "json", "applications"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let settings = json["settings"].as_array().unwrap();
    let setting = by_path(settings, "applications/project/main.tf");
    // No boot code, nothing tokenless: only the application below it holds it back.
    assert_eq!(setting["tokenless_requests"], 0);
    assert_eq!(setting["can_require"], false, "{setting:#?}");
    assert_eq!(
        setting["applications"],
        serde_json::json!([{
            "path": "applications/project/app/requirements.txt",
            "line": 2,
            "code": "IMDS020",
            "message": "`boto3` 1.9.0 is older than 1.12.6, the first AWS SDK for Python (Boto3) version that supports IMDSv2"
        }])
    );
    // The sibling project's manifest is in no setting's tree: listed apart.
    let rest = json["applications"].as_array().unwrap();
    assert_eq!(rest.len(), 1, "{rest:#?}");
    assert_eq!(rest[0]["path"], "applications/sibling/package.json");
    assert_eq!(rest[0]["line"], 4);

    let out = imds_lint(&settings_dir(), &["--migration", "applications"]);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("no: old applications"), "{stdout}");
    assert!(
        stdout.contains(
            "Applications that would lose instance metadata once applications/project/main.tf:8 requires tokens:\n  applications/project/app/requirements.txt:2: IMDS020 `boto3` 1.9.0"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("applications too old for IMDSv2, outside every setting's directory tree:\n  applications/sibling/package.json:4: IMDS020"),
        "{stdout}"
    );
}

#[test]
fn without_settings_applications_are_listed_alone() {
    let out = imds_lint(&settings_dir(), &["--migration", "applications-only"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("No instance metadata settings found.\n\napplications too old for IMDSv2 (upgrade them before instances require tokens):\n  applications-only/service/requirements.txt:2: IMDS020"),
        "{stdout}"
    );
    // A setting without application evidence has an empty list.
    let settings = migration_json(&["capa-boot/tokened"]);
    assert_eq!(settings[0]["applications"], serde_json::json!([]));
}
