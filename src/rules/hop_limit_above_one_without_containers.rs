//! IMDS013 `hop-limit-above-one-without-containers`.

use super::{Check, Entry, Rule, SettingContext, SettingViolation, Severity};
use crate::model::setting::{Containers, HopLimit};

pub const RULE: Entry = Entry {
    rule: Rule {
        code: "IMDS013",
        name: "hop-limit-above-one-without-containers",
        severity: Severity::Warning,
        fixable: false,
        summary: "metadata hop limit above 1 on instances that run no containers",
        doc: DOC,
        lowered: None,
    },
    check: Check::Setting(check),
    fix: None,
};

const DOC: &str = r#"# IMDS013 hop-limit-above-one-without-containers

## What it does
Flags a hop limit above 1 (`httpPutResponseHopLimit`, `http_put_response_hop_limit`,
`HttpPutResponseHopLimit`) on instances that run no containers: a Terraform or CloudFormation
instance, launch template or launch configuration whose user data was read — in the same file, or
in the files a Terraform `file()` / `templatefile()` names — and names no container runtime or
node agent in its code (`docker`, `containerd`, `podman`, `ecs-init`, `/etc/ecs/ecs.config`,
`kubelet`, `kubeadm`, kOps's `nodeup`, `/etc/eks/bootstrap.sh`, `nodeadm`: what IMDS011 calls a
container host; a word in a `#` comment does not count), and that no EKS node group or AWS Batch
environment uses. Where the tool cannot tell whether containers run — no user data, user data from
a parameter, a file the scan could not read — it says nothing. Unlike IMDS011, this rule does not
look for container-side requests: a container host may run images the scan does not see, so a
hop limit of 2 there is left alone.

## Why is this bad?
The hop limit is the IP TTL of the IMDSv2 token answer. Above 1, the token also reaches
processes one or more network hops away — containers, but also anything the instance forwards
or routes for. AWS's advice is a hop limit of 2 only where containers need tokens, and 1
everywhere else, so that a token never leaves the instance.

## Example
```hcl
resource "aws_instance" "web" {
  ami           = "ami-0123456789abcdef0"
  instance_type = "t3.micro"
  user_data     = <<EOF
#!/bin/bash
yum install -y httpd
systemctl enable --now httpd
EOF

  metadata_options {
    http_tokens                 = "required"
    http_put_response_hop_limit = 3
  }
}
```

## Use instead
```hcl
resource "aws_instance" "web" {
  ami           = "ami-0123456789abcdef0"
  instance_type = "t3.micro"
  user_data     = <<EOF
#!/bin/bash
yum install -y httpd
systemctl enable --now httpd
EOF

  metadata_options {
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }
}
```

## Fix safety
There is no fix: whether containers run is read from the user data, and a container
runtime baked into the AMI would be cut off by a hop limit of 1. Lower it by hand where you know.

## How to suppress
`# imds-lint disable=IMDS013` at the end of the line, or alone on the line before it (for
instances whose containers come from the AMI). `--ignore IMDS013` turns the rule off.

## Known limitations
Only the user data is read (with the files it names), and the EKS node groups and Batch compute
environments of the module that use a launch template; the AMI, or an Auto Scaling group that an
ECS capacity provider uses, are not seen.

## References
- <https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-retrieval.html#imds-considerations>
- <https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-IMDS-new-instances.html>
"#;

fn check(context: &SettingContext) -> Option<SettingViolation> {
    let setting = context.setting;
    if setting.endpoint_disabled() || setting.containers != Containers::No {
        return None;
    }
    let HopLimit::Explicit(limit) = setting.hop_limit_state() else {
        return None;
    };
    if limit <= 1 {
        return None;
    }
    let key = setting.source.keys().hop_limit;
    Some(SettingViolation {
        span: setting.hop_limit.as_ref()?.span,
        message: format!(
            "hop limit {limit} on instances whose user data starts no containers lets IMDSv2 tokens travel further than the instance"
        ),
        help: format!(
            "AWS advises a hop limit of 2 only where containers need tokens: set `{key}` to 1. If containers run on these instances anyway (from the AMI), suppress this finding with `# imds-lint disable=IMDS013`"
        ),
        severity: None,
        change: None,
        at_requests: Vec::new(),
        points_at_boot_code: false,
        points_at_container_requests: false,
    })
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::file_findings;

    fn imds013(text: &str) -> usize {
        file_findings("a.tf", text)
            .into_iter()
            .filter(|(code, _)| *code == "IMDS013")
            .count()
    }

    fn instance(user_data: &str, hop: &str) -> String {
        format!("resource \"aws_instance\" \"a\" {{\n{user_data}  metadata_options {{\n    http_tokens = \"required\"\n    http_put_response_hop_limit = {hop}\n  }}\n}}\n")
    }

    const PLAIN: &str = "  user_data = \"#!/bin/sh\\nyum install -y httpd\\n\"\n";
    const DOCKER: &str = "  user_data = \"#!/bin/sh\\nsystemctl start docker\\n\"\n";

    #[test]
    fn flags_a_hop_limit_above_one_without_containers() {
        assert_eq!(imds013(&instance(PLAIN, "2")), 1);
        assert_eq!(imds013(&instance(PLAIN, "64")), 1);
    }

    #[test]
    fn stays_quiet() {
        assert_eq!(imds013(&instance(PLAIN, "1")), 0);
        assert_eq!(imds013(&instance(DOCKER, "2")), 0);
        assert_eq!(imds013(&instance("", "2")), 0, "no user data: unknown");
        assert_eq!(
            imds013(&instance("  user_data = file(\"boot.sh\")\n", "2")),
            0,
            "user data in a file, checked without the pass across files: unknown"
        );
        assert_eq!(imds013(&instance(PLAIN, "var.hops")), 0);
    }
}
