//! Origin chains in JSON for CI and Jenkinsfile findings (issue 15: "an origin chain in JSON for
//! every host"): every finding in a CI workflow, CI system or Jenkinsfile fixture names the
//! system, its job and its step, and a few chains are checked in full; Windows user data names
//! its `<powershell>`/`<script>` section, EC2Launch v2 its task and input.

use std::path::Path;
use std::process::Command;

fn findings(dir: &str) -> Vec<serde_json::Value> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(env!("CARGO_BIN_EXE_imds-lint"))
        .current_dir(root)
        .args(["--format", "json", dir])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    report["findings"].as_array().unwrap().clone()
}

/// The layer a CI fixture's findings must start their origin chain with, by its directory.
fn layer_for(path: &str) -> &'static str {
    [
        ("/github/", "github-actions"),
        ("/gitlab/", "gitlab-ci"),
        ("/azure/", "azure-pipelines"),
        ("/bitbucket/", "bitbucket-pipelines"),
        ("/buildkite/", "buildkite"),
        ("/circleci/", "circleci"),
        ("/codebuild/", "codebuild"),
        ("/jenkins/", "jenkinsfile"),
    ]
    .iter()
    .find(|(dir, _)| path.contains(dir))
    .map_or("?", |(_, layer)| layer)
}

#[test]
fn every_ci_and_jenkins_finding_has_an_origin_chain() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for dir in [
        "fixtures/hosts/workflows",
        "fixtures/hosts/ci",
        "fixtures/hosts/jenkins",
    ] {
        for finding in findings(dir) {
            let path = finding["path"].as_str().unwrap().to_owned();
            let line = &finding["line"];
            // A setting finding (IMDS010…) is about the file, not a step.
            if !matches!(
                finding["rule"].as_str(),
                Some("IMDS001" | "IMDS002" | "IMDS003" | "IMDS004")
            ) {
                continue;
            }
            checked += 1;
            let first = &finding["origin"][0];
            if first["layer"].as_str() != Some(layer_for(&path)) || first["key"].is_null() {
                failures.push(format!("{path}:{line}: origin {}", finding["origin"]));
            }
        }
    }
    assert!(checked >= 60, "only {checked} findings checked");
    assert!(failures.is_empty(), "\n{}\n", failures.join("\n"));
}

#[test]
fn chains_name_the_job_and_the_step() {
    let expect = [
        (
            "fixtures/hosts/workflows/github/run-steps.yml",
            12,
            r#"[{"key":"Instance id","layer":"github-actions","name":"deploy"}]"#,
        ),
        (
            "fixtures/hosts/ci/circleci/powershell-run.yml",
            13,
            r#"[{"key":"instance id","layer":"circleci","name":"jobs.win"}]"#,
        ),
        (
            "fixtures/hosts/ci/azure/powershell-task.yml",
            11,
            r#"[{"key":"steps[0]","layer":"azure-pipelines","name":"windows"}]"#,
        ),
        (
            "fixtures/hosts/ci/codebuild/buildspec.yml",
            17,
            r#"[{"key":"post_build","layer":"codebuild","name":"phases"}]"#,
        ),
        (
            "fixtures/hosts/jenkins/powershell-steps.jenkinsfile",
            8,
            r#"[{"key":"powershell","layer":"jenkinsfile","name":"probe"}]"#,
        ),
    ];
    for (path, line, chain) in expect {
        let found = findings(path);
        let finding = found
            .iter()
            .find(|f| f["line"] == line)
            .unwrap_or_else(|| panic!("{path}:{line}: no finding"));
        let want: serde_json::Value = serde_json::from_str(chain).unwrap();
        assert_eq!(finding["origin"], want, "{path}:{line}");
    }
}

/// Windows user data names its section, EC2Launch v2 its task and input, after the layers the
/// user data sits in (a Secret's base64 value).
#[test]
fn windows_user_data_chains_name_the_section_or_task() {
    let expect = [
        (
            "fixtures/powershell/userdata-script.txt",
            4,
            r#"[{"key":"script","layer":"windows-user-data"}]"#,
        ),
        (
            "fixtures/powershell/ec2launch-v2.yaml",
            16,
            r#"[{"key":"inputs[1]","layer":"ec2launch-v2","name":"tasks[0]"}]"#,
        ),
        (
            "fixtures/powershell/ec2launch-v2-secret.yaml",
            8,
            r#"[{"key":"value","layer":"k8s-secret","name":"windows-worker-ec2launch"},
                {"column":13,"layer":"base64","line":9},
                {"key":"inputs[0]","layer":"ec2launch-v2","name":"tasks[0]"}]"#,
        ),
        (
            "fixtures/powershell/ec2launch-v2-cfn.yaml",
            18,
            r#"[{"key":"inputs[0]","layer":"ec2launch-v2","name":"tasks[0]"}]"#,
        ),
    ];
    for (path, line, chain) in expect {
        let found = findings(path);
        let finding = found
            .iter()
            .find(|f| f["line"] == line)
            .unwrap_or_else(|| panic!("{path}:{line}: no finding"));
        let want: serde_json::Value = serde_json::from_str(chain).unwrap();
        assert_eq!(finding["origin"], want, "{path}:{line}");
    }
}
