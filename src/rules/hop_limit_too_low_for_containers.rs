//! IMDS011 `hop-limit-too-low-for-containers`.

use super::{Check, Entry, Rule, SettingContext, SettingViolation, Severity};
use crate::fix::settings::{Change, Field};
use crate::fix::Applicability;
use crate::model::setting::{Containers, HopDefault, HopLimit};

pub const RULE: Entry = Entry {
    rule: Rule {
        code: "IMDS011",
        name: "hop-limit-too-low-for-containers",
        severity: Severity::Warning,
        fixable: true,
        summary: "metadata hop limit of 1 on instances that run containers",
        doc: DOC,
        lowered: None,
    },
    check: Check::Setting(check),
    fix: None,
};

const DOC: &str = r#"# IMDS011 hop-limit-too-low-for-containers

## What it does
Flags an instance metadata setting whose hop limit (`httpPutResponseHopLimit`,
`http_put_response_hop_limit`, `HttpPutResponseHopLimit`) is 1 — written, or left unset so that
the default of 1 applies — on instances that run containers: every Cluster API AWS machine
(Kubernetes nodes), a launch template that an EKS node group or AWS Batch compute environment
uses (in any file of the same Terraform module), and any
instance or launch template whose user data starts a container runtime or node agent (`docker`,
`containerd`, `ecs-init` or the ECS agent's `/etc/ecs/ecs.config`, `kubelet`, `kubeadm`,
`/etc/eks/bootstrap.sh`, `nodeadm`, `podman`).

## Why is this bad?
IMDS sends the answer to the token PUT with an IP TTL equal to the hop limit. A container on a
bridge network is one hop further away, so with a hop limit of 1 the token never reaches it: the
PUT times out, and clients fall back to IMDSv1 — or, once tokens are required, fail. Containers
that need the instance's metadata (node agents, CNI plugins, SDKs using the instance role) need 2.

There is a trade-off. On EKS with IAM Roles for Service Accounts (IRSA) or EKS Pod Identity, pods
get their own credentials and should not reach the node's role at all: a hop limit of 1 is then
a deliberate block (AWS's EKS best practices recommend it). In that case suppress this finding.

## Example
```hcl
resource "aws_launch_template" "nodes" {
  name_prefix = "nodes-"
  user_data = base64encode(<<-EOT
    #!/bin/bash
    /etc/eks/bootstrap.sh my-cluster
  EOT
  )

  metadata_options {
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }
}
```

## Use instead
```hcl
resource "aws_launch_template" "nodes" {
  name_prefix = "nodes-"
  user_data = base64encode(<<-EOT
    #!/bin/bash
    /etc/eks/bootstrap.sh my-cluster
  EOT
  )

  metadata_options {
    http_tokens                 = "required"
    http_put_response_hop_limit = 2
  }
}
```

## Fix safety
`--fix` sets the hop limit to 2, or adds the field (or the options block) with the file's
indentation and syntax. The fix is safe: it lets tokens reach one more hop, and changes nothing
for code on the instance itself.

## How to suppress
`# imds-lint disable=IMDS011` at the end of the line, or alone on the line before it — the right
answer where a hop limit of 1 deliberately keeps pods away from IMDS (IRSA, EKS Pod Identity).
`--ignore IMDS011` turns the rule off.

## Known limitations
Whether instances run containers is read from their user data: in the same file, or in the file a
Terraform `file()` / `templatefile()` reads; a container runtime baked into the AMI, or user data
from a parameter, is not seen. A word such as `docker` in user data counts
even where it does not start anything. eksctl sets a hop limit of 2 itself and is never flagged;
`disablePodIMDS: true` blocks pods from IMDS and silences this rule.

## References
- <https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-retrieval.html#imds-considerations>
- <https://docs.aws.amazon.com/eks/latest/best-practices/identity-and-access-management.html>
- <https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-IMDS-new-instances.html>
"#;

fn check(context: &SettingContext) -> Option<SettingViolation> {
    let setting = context.setting;
    if setting.endpoint_disabled() {
        return None;
    }
    let Containers::Yes(why) = &setting.containers else {
        return None;
    };
    let pods_blocked = setting
        .pod_imds_disabled
        .as_ref()
        .and_then(|v| v.text.as_deref())
        .is_some_and(|t| t.eq_ignore_ascii_case("true"));
    if pods_blocked {
        return None;
    }
    let key = setting.source.keys().hop_limit;
    let (span, message) = match setting.hop_limit_state() {
        HopLimit::Explicit(1) => (
            setting.hop_limit.as_ref()?.span,
            format!("hop limit 1 on instances that run containers ({why}): IMDSv2 tokens do not reach a container"),
        ),
        HopLimit::Unset(default @ (HopDefault::Ec2 | HopDefault::Value(1))) => {
            let default = if default == HopDefault::Ec2 {
                "its default of 1 (2 only for AMIs with `ImdsSupport: v2.0`)"
            } else {
                "its default of 1"
            };
            let (span, what) = match &setting.block {
                Some(block) => (block.head, format!("`{}` leaves `{key}`", block.key)),
                None => (setting.head, format!("{} leaves `{key}`", setting.display())),
            };
            (
                span,
                format!("{what} at {default} on instances that run containers ({why})"),
            )
        }
        _ => return None,
    };
    Some(SettingViolation {
        span,
        message,
        help: format!(
            "a container on a bridge network is one hop further from IMDS: set `{key}` to 2 so that IMDSv2 tokens reach it. Where no pod or container should reach IMDS at all (EKS with IRSA or Pod Identity), 1 is a deliberate block: keep it and suppress this finding with `# imds-lint disable=IMDS011`"
        ),
        severity: None,
        change: Some(Change {
            field: Field::HopLimit,
            applicability: Applicability::Safe,
            unsafe_because: None,
        }),
        at_requests: Vec::new(),
        points_at_boot_code: false,
    })
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::file_findings;

    fn imds011(name: &str, text: &str) -> usize {
        file_findings(name, text)
            .into_iter()
            .filter(|(code, _)| *code == "IMDS011")
            .count()
    }

    const EKS: &str = "  user_data = <<EOF\n#!/bin/bash\n/etc/eks/bootstrap.sh demo\nEOF\n";

    #[test]
    fn flags_hop_limit_one_where_containers_run() {
        let tf = format!("resource \"aws_launch_template\" \"a\" {{\n{EKS}  metadata_options {{\n    http_tokens = \"required\"\n    http_put_response_hop_limit = 1\n  }}\n}}\n");
        assert_eq!(imds011("a.tf", &tf), 1);
        let unset = format!("resource \"aws_launch_template\" \"a\" {{\n{EKS}  metadata_options {{\n    http_tokens = \"required\"\n  }}\n}}\n");
        assert_eq!(imds011("a.tf", &unset), 1);
        let capa = "apiVersion: infrastructure.cluster.x-k8s.io/v1beta2\nkind: AWSMachine\nmetadata:\n  name: m\nspec:\n  instanceMetadataOptions:\n    httpTokens: required\n";
        assert_eq!(imds011("a.yaml", capa), 1);
    }

    #[test]
    fn stays_quiet() {
        let two = format!("resource \"aws_launch_template\" \"a\" {{\n{EKS}  metadata_options {{\n    http_tokens = \"required\"\n    http_put_response_hop_limit = 2\n  }}\n}}\n");
        assert_eq!(imds011("a.tf", &two), 0);
        for tf in [
            "resource \"aws_instance\" \"a\" {\n  metadata_options {\n    http_tokens = \"required\"\n    http_put_response_hop_limit = 1\n  }\n}\n",
            "resource \"aws_instance\" \"a\" {\n  user_data = \"#!/bin/sh\\nyum install -y httpd\\n\"\n  metadata_options {\n    http_tokens = \"required\"\n  }\n}\n",
            "resource \"aws_instance\" \"a\" {\n  user_data = \"#!/bin/sh\\ndocker run x\\n\"\n  metadata_options {\n    http_endpoint = \"disabled\"\n  }\n}\n",
        ] {
            assert_eq!(imds011("a.tf", tf), 0, "{tf}");
        }
        let eksctl = "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmanagedNodeGroups:\n  - name: ng\n    disableIMDSv1: true\n";
        assert_eq!(imds011("a.yaml", eksctl), 0);
    }
}
