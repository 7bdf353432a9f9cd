//! Origin chains in JSON (issue 15: "an origin chain in JSON for every host"): every finding in a
//! CI workflow, CI system or Jenkinsfile fixture names the system, its job and its step; every
//! finding in an SSM, Image Builder, Packer, CloudFormation, Terraform, cloud-init, Kubernetes or
//! Helm fixture starts its chain with its host (a script file those name is a file of its own, and has none); a few chains are
//! checked in full; Windows user data names its `<powershell>`/`<script>` section, EC2Launch v2
//! its task and input; shell code run elsewhere or under a name (`ssh`, `docker run`, `kubectl
//! exec`, `cloud-init-per`, a script a here-document writes) ends its chain with those commands;
//! a Dockerfile finding names its instruction and stage, a makefile finding its rule's targets or
//! the variable a `$(shell …)` or `!=` command is assigned to.

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

/// Each (fixture, line, chain): the finding on that line has that origin chain, as JSON.
fn check_chains(expect: &[(&str, u64, &str)]) {
    for &(path, line, chain) in expect {
        let found = findings(path);
        let finding = found
            .iter()
            .find(|f| f["line"] == line)
            .unwrap_or_else(|| panic!("{path}:{line}: no finding"));
        let want: serde_json::Value = serde_json::from_str(chain).unwrap();
        assert_eq!(finding["origin"], want, "{path}:{line}");
    }
}

/// Every request finding (IMDS001-IMDS004: a setting finding is about the file, not a part of
/// it) in `dirs` whose chain `fits` says is right; at least `min` of them. `fits` gets the path
/// and the chain; a path it should skip, it says `None` of.
fn check_every(dirs: &[&str], min: usize, fits: impl Fn(&str, &serde_json::Value) -> Option<bool>) {
    let mut checked = 0;
    let mut failures = Vec::new();
    for dir in dirs {
        for finding in findings(dir) {
            if !matches!(
                finding["rule"].as_str(),
                Some("IMDS001" | "IMDS002" | "IMDS003" | "IMDS004")
            ) {
                continue;
            }
            let path = finding["path"].as_str().unwrap_or_default();
            let Some(fits) = fits(path, &finding["origin"]) else {
                continue;
            };
            checked += 1;
            if !fits {
                failures.push(format!(
                    "{path}:{}: origin {}",
                    finding["line"], finding["origin"]
                ));
            }
        }
    }
    assert!(checked >= min, "only {checked} findings checked");
    assert!(failures.is_empty(), "\n{}\n", failures.join("\n"));
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
    let dirs = [
        "fixtures/hosts/workflows",
        "fixtures/hosts/ci",
        "fixtures/hosts/jenkins",
    ];
    check_every(&dirs, 60, |path, chain| {
        let first = &chain[0];
        Some(first["layer"].as_str() == Some(layer_for(path)) && !first["key"].is_null())
    });
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
    check_chains(&expect);
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
            r#"[{"key":"UserData","layer":"cloudformation","name":"WinHost"},
                {"key":"inputs[0]","layer":"ec2launch-v2","name":"tasks[0]"}]"#,
        ),
    ];
    check_chains(&expect);
}

/// Every request finding in the provisioning and infrastructure fixtures starts its origin
/// chain with the format that holds it: the file's own (a Terraform file's Image Builder
/// component starts with `terraform`), whatever the code is read through.
#[test]
fn every_provisioning_and_infrastructure_finding_has_an_origin_chain() {
    // The script files these fixtures name (read as files of their own: no chain).
    let files = [
        "/boot",
        "/id",
        "/legacy",
        "/tag",
        "/setup.tpl",
        "/boot.tpl",
        // User data that is a script from its first line (a boothook, a plain script).
        "/boothook.txt",
        "/user-data",
    ];
    let dirs = [
        "fixtures/hosts/ssm",
        "fixtures/hosts/imagebuilder",
        "fixtures/hosts/packer",
        "fixtures/hosts/cloudformation",
        "fixtures/hosts/terraform",
        "fixtures/hosts/cloud-init",
        "fixtures/hosts/kubernetes",
        "fixtures/hosts/helm",
    ];
    check_every(&dirs, 185, |path, chain| {
        if files.iter().any(|f| path.ends_with(f)) {
            return None;
        }
        let want = if path.contains("/cloud-init/") {
            "cloud-config|write_files"
        } else if path.contains("/kubernetes/") {
            "k8s-"
        } else if path.contains("/helm/") {
            "helm-template"
        } else if path.ends_with(".tf") {
            "terraform"
        } else if path.contains("/cloudformation") {
            "cloudformation"
        } else if path.ends_with(".pkr.hcl") || path.contains("/packer/") {
            "packer"
        } else if path.contains("/ssm/") {
            "ssm-document"
        } else {
            "imagebuilder"
        };
        let layer = chain[0]["layer"].as_str().unwrap_or("");
        Some(if want == "cloudformation" {
            matches!(layer, "cloudformation" | "cfn-init")
        } else if want.contains('|') {
            want.split('|').any(|w| w == layer)
        } else {
            layer.starts_with(want)
        })
    });
}

/// Chains checked by hand against their fixtures: the resource, argument, step or provisioner
/// that holds the request, outermost first.
#[test]
fn provisioning_chains_name_what_holds_the_request() {
    let expect = [
        (
            "fixtures/hosts/ssm/terraform-content-heredoc.tf",
            14,
            r#"[{"key":"content","layer":"terraform"},
                {"key":"runCommand","layer":"ssm-document","name":"tag"}]"#,
        ),
        (
            "fixtures/hosts/ssm/cloudformation-content.yaml",
            16,
            r#"[{"key":"Content","layer":"cloudformation","name":"Doc"},
                {"key":"runCommand","layer":"ssm-document","name":"tag"}]"#,
        ),
        (
            "fixtures/hosts/cloudformation/cfn-init-commands.yaml",
            17,
            r#"[{"key":"setup.files./usr/local/bin/register.sh.content","layer":"cfn-init","name":"Web"}]"#,
        ),
        (
            "fixtures/hosts/cloudformation/cfn-init-commands.yaml",
            39,
            r#"[{"key":"setup.commands.02_sub.test","layer":"cfn-init","name":"Web"}]"#,
        ),
        (
            "fixtures/hosts/packer/provisioner-only.pkr.hcl",
            31,
            r#"[{"key":"inline","layer":"packer","name":"shell provisioner 2"}]"#,
        ),
        (
            "fixtures/hosts/packer/user-data.pkr.hcl",
            9,
            r#"[{"key":"user_data","layer":"packer"}]"#,
        ),
        (
            "fixtures/hosts/imagebuilder/folded-item.yaml",
            12,
            r#"[{"key":"inputs.commands","layer":"imagebuilder-component","name":"test.Host"}]"#,
        ),
        (
            "fixtures/hosts/kubernetes/job-argv.yaml",
            21,
            r#"[{"key":"containers","layer":"k8s-container","name":"wget-argv"}]"#,
        ),
        (
            "fixtures/hosts/kubernetes/kubeadmconfigtemplate.yaml",
            11,
            r#"[{"key":"preKubeadmCommands","layer":"k8s-bootstrap","name":"KubeadmConfigTemplate/workers"}]"#,
        ),
        (
            "fixtures/hosts/kubernetes/kubeadmcontrolplane.yaml",
            21,
            r#"[{"key":"files","layer":"k8s-bootstrap","name":"KubeadmControlPlane/demo-control-plane"},
                {"layer":"files","name":"/usr/local/bin/region.sh"},
                {"column":10,"layer":"base64","line":2}]"#,
        ),
        (
            "fixtures/hosts/helm/imds-chart/templates/configmap-script.yaml",
            11,
            r#"[{"layer":"helm-template"},
                {"key":"init.sh","layer":"k8s-configmap","name":"{{ include \"imds-chart.fullname\" . }}-scripts"}]"#,
        ),
        (
            "fixtures/hosts/cloud-init/aliases.yaml",
            12,
            r#"[{"key":"content","layer":"write_files","name":"/usr/local/bin/az.sh"}]"#,
        ),
        (
            "fixtures/hosts/cloud-init/write-files-scripts.yaml",
            12,
            r#"[{"key":"content","layer":"write_files","name":"/usr/local/bin/fetch-az"}]"#,
        ),
        (
            "fixtures/hosts/terraform/heredoc.tf",
            19,
            r#"[{"key":"user_data","layer":"terraform"}]"#,
        ),
    ];
    check_chains(&expect);
}

/// The layers a request run elsewhere or under a name ends its chain with.
const RUN_BY: [&str; 6] = [
    "ssh",
    "docker",
    "podman",
    "kubectl",
    "cloud-init-per",
    "heredoc-script",
];

#[test]
fn every_request_run_elsewhere_names_what_runs_it() {
    check_every(&["fixtures/shell/elsewhere"], 20, |_, chain| {
        let last = chain.as_array().and_then(|chain| chain.last());
        Some(last.is_some_and(|entry| {
            entry["layer"]
                .as_str()
                .is_some_and(|layer| RUN_BY.contains(&layer))
                && !entry["name"].is_null()
        }))
    });
}

#[test]
fn chains_name_the_commands_that_run_code_elsewhere() {
    let expect = [
        (
            "fixtures/shell/elsewhere/nested.sh",
            3,
            r#"[{"layer":"ssh","name":"bastion"},{"key":"run","layer":"docker","name":"alpine"}]"#,
        ),
        (
            "fixtures/shell/elsewhere/nested.sh",
            5,
            r#"[{"key":"exec","layer":"docker","name":"$CID"},
                {"key":"once","layer":"cloud-init-per","name":"probe"}]"#,
        ),
        // Python a remote `python3 -` reads from a here-document.
        (
            "fixtures/shell/elsewhere/ssh-heredoc.sh",
            15,
            r#"[{"layer":"ssh","name":"web-4"}]"#,
        ),
        (
            "fixtures/shell/elsewhere/kubectl-exec.sh",
            4,
            r#"[{"key":"exec","layer":"kubectl","name":"deploy/web"}]"#,
        ),
        (
            "fixtures/shell/elsewhere/heredoc-script-by-name.sh",
            8,
            r#"[{"layer":"heredoc-script","name":"/opt/facts.sh"}]"#,
        ),
        // After the host's own layers.
        (
            "fixtures/hosts/cloud-init/bootcmd-cloud-init-per.yaml",
            5,
            r#"[{"key":"bootcmd","layer":"cloud-config"},
                {"key":"once","layer":"cloud-init-per","name":"region"}]"#,
        ),
    ];
    check_chains(&expect);
}

#[test]
fn every_dockerfile_and_makefile_finding_names_its_instruction_or_rule() {
    let dirs = ["fixtures/hosts/dockerfile", "fixtures/hosts/make"];
    check_every(&dirs, 100, |path, chain| {
        let layer = if path.contains("/make/") {
            "makefile"
        } else {
            "dockerfile"
        };
        let first = &chain[0];
        Some(first["layer"].as_str() == Some(layer) && !first["key"].is_null())
    });
}

#[test]
fn dockerfile_and_makefile_chains() {
    let expect = [
        (
            "fixtures/hosts/dockerfile/env-inherited-by-child-stage.dockerfile",
            6,
            r#"[{"key":"RUN","layer":"dockerfile","name":"app"}]"#,
        ),
        (
            "fixtures/hosts/dockerfile/cmd-entrypoint-healthcheck-onbuild.dockerfile",
            3,
            r#"[{"key":"ONBUILD RUN","layer":"dockerfile","name":"stage 0"}]"#,
        ),
        (
            "fixtures/hosts/dockerfile/cmd-entrypoint-healthcheck-onbuild.dockerfile",
            4,
            r#"[{"key":"HEALTHCHECK CMD","layer":"dockerfile","name":"stage 0"}]"#,
        ),
        (
            "fixtures/hosts/make/bang-assignment.mk",
            2,
            r#"[{"key":"!=","layer":"makefile","name":"INSTANCE_ID"}]"#,
        ),
        (
            "fixtures/hosts/make/shell-in-assignments.mk",
            3,
            r#"[{"key":"$(shell)","layer":"makefile","name":"INSTANCE_ID"}]"#,
        ),
        (
            "fixtures/hosts/make/after-other-commands.mk",
            4,
            r#"[{"key":"recipe","layer":"makefile","name":"id.txt"}]"#,
        ),
    ];
    check_chains(&expect);
}
