//! IMDS021 `agent-without-imdsv2`.

use super::{
    minimum_versions, Check, DependencyContext, DependencyViolation, Entry, Rule, Severity,
};

pub const RULE: Entry = Entry {
    rule: Rule {
        code: "IMDS021",
        name: "agent-without-imdsv2",
        severity: Severity::Warning,
        fixable: false,
        summary: "agent or agent image older than its first IMDSv2 version",
        doc: DOC,
        lowered: None,
    },
    check: Check::Dependency(check),
    fix: None,
};

const DOC: &str = r#"# IMDS021 agent-without-imdsv2

## What it does
Flags an agent, or the image of one, that a manifest, a lockfile, an install command or an image
reference pins below the first version known to use IMDSv2 tokens:

| agent | where it is read | first IMDSv2 version | source |
|---|---|---|---|
| cloud-init | OS packages | 19.4 (none before), 20.2 (falls back to IMDSv1 before) | cloud-init ChangeLog |
| kube2iam (`jtblin/kube2iam`) | images | 0.13.0 | kube2iam releases |
| SSM Agent (`amazon-ssm-agent`) | OS packages | 2.3.814.0 | SSM Agent release notes |
| ECS agent (`amazon/amazon-ecs-agent`) | images | 1.68.1 | ECS agent changelog |
| CodeDeploy agent (`codedeploy-agent`) | OS packages | 1.2.1 | CodeDeploy agent version history |
| `amazon-ec2-utils` | OS packages | 1.1 | its changelog |
| `amazon-ec2-net-utils` | OS packages | 1.3 | its releases |
| Datadog Agent (`datadog/agent`, `datadog-agent`) | images, OS packages | 7.64.0 | Datadog Agent release notes |
| New Relic Go agent (`github.com/newrelic/go-agent`) | Go | 3.10.0 | New Relic Go agent v3.10.0 release notes |
| Amazon Kinesis Agent (`aws-kinesis-agent`) | OS packages | 2.0.0 (1.x has none) | Kinesis Agent releases |
| Datadog Agent option `ec2_prefer_imdsv2: false` | datadog.yaml, environment | never (the option turns IMDSv2 off) | Datadog Agent configuration template |

Images are read wherever a YAML or JSON file names one (`image: repo:tag` in Kubernetes
manifests, ECS task definitions' `"image"`, CloudFormation's `Image:`, Helm values' `image:`
mappings with `repository:` and `tag:`, or with `name:` and `tag:` under a `registry:` of the
mapping or of the values file — the Datadog chart's layout, whose default registry
`gcr.io/datadoghq` holds when its values set none) and in Dockerfile `FROM` lines; the default registry
(`docker.io/`, `library/`) is not part of the name, and the finding points at the tag. A tag that
is a full version (`v1.68.1`, `7.50.0-jmx`) is judged; a shorter one (`7`, `0.10`) follows the
newest release of its line, and `latest`, a digest or a template (`{{ .Values.tag }}`) give no
version: counted under `--statistics`, not reported. The Datadog option is found as
`ec2_prefer_imdsv2: false`, `DD_EC2_PREFER_IMDSV2=false` (an environment, a Dockerfile `ENV`, a
script) or an env entry `name: DD_EC2_PREFER_IMDSV2` followed by `value: "false"`.

Each row, with the address of its source and how it was checked, is in
`data/minimum-versions.toml`. As for IMDS020, a range that also allows older versions names them,
and a version the text does not give is only counted under `--statistics`.

## Why is this bad?
These agents fetch credentials or instance data from IMDS. An agent older than its IMDSv2 release
(or one that falls back to IMDSv1) stops working, or loses its credentials, once instances require
tokens. It is a warning, not an error: some of these agents only lose instance metadata (tags,
host names), not credentials, and an agent image is often replaced at deploy time.

## Example
```go-mod
module example.com/app

go 1.21

require github.com/newrelic/go-agent/v3 v3.9.0
```

## Use instead
```go-mod
module example.com/app

go 1.21

require github.com/newrelic/go-agent/v3 v3.10.0
```

## Fix safety
There is no fix: an agent's version is usually chosen with its configuration, and a newer image
may need other changes. Upgrade it by hand.

## How to suppress
`# imds-lint disable=IMDS021` on the line (where the file format has comments), or alone on the
line before it; `--ignore IMDS021` turns the rule off.

## Known limitations
Only versions written in the repository are seen; an agent baked into an AMI or installed without
a version is not. Images and the Datadog option are read line by line, not through the YAML
tree: a registry set in a parent chart's values or on the command line (`--set registry=…`) is
not seen, and an `image:` key of something that is not a container is read as one. Most of these numbers are taken from the vendors' changelogs as issue 16 listed
them; `data/minimum-versions.toml` says for each row whether it was re-checked.

## References
- AWS EC2 user guide, "Transition to using Instance Metadata Service Version 2": <https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instance-metadata-transition-to-version-2.html>
- New Relic Go agent v3.10.0 release notes: <https://docs.newrelic.com/docs/release-notes/agent-release-notes/go-release-notes/go-agent-3100/>
"#;

/// What an agent without tokens loses.
const CONSEQUENCE: &str =
    "an agent older than its IMDSv2 release reads instance metadata (or credentials) without a token, which fails once instances require tokens";

fn check(context: &DependencyContext) -> Option<DependencyViolation> {
    let dependency = context.dependency;
    let found = minimum_versions::worst(RULE.rule.code, dependency)?;
    let (message, help, severity) =
        minimum_versions::describe(&found, dependency, RULE.rule.severity, CONSEQUENCE);
    Some(DependencyViolation {
        message,
        help,
        severity,
        minimum: found.row.minimum.clone(),
        bump: None,
    })
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::file_findings;

    fn codes(name: &str, text: &str) -> Vec<&'static str> {
        file_findings(name, text)
            .into_iter()
            .map(|(c, _)| c)
            .collect()
    }

    #[test]
    fn flags_old_agents_only() {
        let go_mod = |line: &str| format!("module example.com/app\n\ngo 1.21\n\n{line}\n");
        assert_eq!(
            codes(
                "go.mod",
                &go_mod("require github.com/newrelic/go-agent v2.16.0+incompatible")
            ),
            ["IMDS021"]
        );
        for quiet in [
            "require github.com/newrelic/go-agent/v3 v3.10.0",
            "require github.com/newrelic/go-agent/v3 v3.30.0",
            "require github.com/newrelic/go-agent-fake v1.0.0",
            "// require github.com/newrelic/go-agent/v3 v3.9.0",
        ] {
            assert!(codes("go.mod", &go_mod(quiet)).is_empty(), "{quiet}");
        }
    }
}
