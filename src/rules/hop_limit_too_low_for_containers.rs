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
        summary: "metadata hop limit of 1 on container hosts where a container requests metadata",
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
the default of 1 applies — on instances that run containers, **when the scanned repository shows
a container that requests the instance's metadata from off the instance's network**. The finding
points at that request (up to three of them, as related locations) and says how many there are.

A hop limit of 1 is the secure default on container hosts, so this rule is quiet unless such a
request is there. What counts as one:

- a metadata request (`curl`, `wget`, …) in the `command`/`args` of a container of a Kubernetes
  Pod or workload (Deployment, DaemonSet, StatefulSet, ReplicaSet, Job, CronJob) whose pod is not
  on the node's network — a pod with `hostNetwork: true` is not one hop further away, and is never
  counted;
- a metadata request in a Dockerfile `CMD`, `ENTRYPOINT` or `HEALTHCHECK` (what the container runs
  when it runs; `RUN` runs at build time and is not counted);
- a metadata request in a script that a Dockerfile copies from its build context (`COPY` / `ADD`,
  taken from the Dockerfile's directory) and names in `CMD` or `ENTRYPOINT`
  (`CMD ["/bin/sh", "/entrypoint.sh"]`).

The request may be in the setting's own file, or in another file of the scan in the same
directory tree: in the setting file's directory or below it, or in a directory above it (a
project's infrastructure and the manifests or images beside it), not in a sibling tree (another
project of a monorepo, its tests). Instances run
containers when they are Cluster API AWS machines (Kubernetes nodes), when an EKS node group or
AWS Batch compute environment of the same Terraform module or CloudFormation template uses their
launch template, or when their user data (in the same file, or in a file a Terraform `file()` /
`templatefile()` reads) names a container runtime or node agent in its code: `docker`,
`containerd`, `podman`, `ecs-init` or the ECS agent's `/etc/ecs/ecs.config`, `kubelet`,
`kubeadm`, kOps's `nodeup`, `/etc/eks/bootstrap.sh`, `nodeadm`. Comments are not code: a
`# see https://github.com/docker/…` line names nothing.

## Why is this bad?
IMDS sends the answer to the token PUT with an IP TTL equal to the hop limit. A container on a
bridge or pod network is one hop further away, so with a hop limit of 1 the token never reaches
it: the PUT times out, and clients fall back to IMDSv1 — or, once tokens are required, fail. The
container the finding points at is such a client.

There is a trade-off. A hop limit of 2 lets *every* container on these instances fetch a token
and take the instance role's credentials. On EKS with IAM Roles for Service Accounts (IRSA) or
EKS Pod Identity, or on ECS with task roles, containers get their own credentials and should not
reach the node's role: AWS's EKS best practices recommend a hop limit of 1. Before raising it,
consider moving the container to the host network (where it is trusted to), or giving it its own
credentials and whatever it reads from IMDS another way.

## Example
Cluster API nodes, and a pod (on the pod network) that reads the instance's metadata:
```yaml
apiVersion: infrastructure.cluster.x-k8s.io/v1beta2
kind: AWSMachineTemplate
metadata:
  name: workers
spec:
  template:
    spec:
      instanceType: m6i.large
      instanceMetadataOptions:
        httpTokens: required
        httpPutResponseHopLimit: 1
---
apiVersion: v1
kind: Pod
metadata:
  name: reporter
spec:
  containers:
    - name: reporter
      image: amazon/aws-cli
      command: ["sh", "-c", "TOKEN=$(curl -sX PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 60'); curl -s -H \"X-aws-ec2-metadata-token: $TOKEN\" http://169.254.169.254/latest/meta-data/instance-id"]
```

## Use instead
Where the pod must read the instance's metadata and may reach the node's role:
```yaml
apiVersion: infrastructure.cluster.x-k8s.io/v1beta2
kind: AWSMachineTemplate
metadata:
  name: workers
spec:
  template:
    spec:
      instanceType: m6i.large
      instanceMetadataOptions:
        httpTokens: required
        httpPutResponseHopLimit: 2
---
apiVersion: v1
kind: Pod
metadata:
  name: reporter
spec:
  containers:
    - name: reporter
      image: amazon/aws-cli
      command: ["sh", "-c", "TOKEN=$(curl -sX PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 60'); curl -s -H \"X-aws-ec2-metadata-token: $TOKEN\" http://169.254.169.254/latest/meta-data/instance-id"]
```
Or keep the hop limit of 1 and run the pod with `hostNetwork: true`, or give it the value another
way (the Downward API, an environment variable, its own credentials).

## Fix safety
`--unsafe-fixes` sets the hop limit to 2, or adds the field (or the options block) with the
file's indentation and syntax. The fix is never safe, and plain `--fix` does not apply it: it is a
security trade-off that lets every container on the instances, not only the one that needs it,
reach the instance role's credentials.

## How to suppress
`# imds-lint disable=IMDS011` at the end of the line, or alone on the line before it — the right
answer where a hop limit of 1 deliberately keeps containers away from IMDS (IRSA, EKS Pod
Identity) and the container the finding points at does not run on these instances, or runs on
the host network some way the scan does not see. `--ignore IMDS011` turns the rule off.

## Known limitations
The request and the setting are joined by where their files are, not by what runs where: a
container request counts for every container host with a hop limit of 1 in its directory tree,
and one in a sibling directory (`app/` beside `infra/`) is not seen.
Only shell requests are seen: an AWS SDK or CLI inside an image, or a container image built
elsewhere, is not. A container started with `docker run --network host`, `ctr run --net-host` or
an ECS task in `host` network mode is on the host's network, but the scan cannot tell from the
Dockerfile alone, and `docker run` commands in user data are not followed to the image they run.
Scripts a container runs are followed one level, from the Dockerfile's own directory as its build
context. Whether instances run containers is read from their user data; a container runtime baked
into the AMI, or user data from a parameter, is not seen. eksctl sets a hop limit of 2 itself and
is never flagged; `disablePodIMDS: true` blocks pods from IMDS and silences this rule.

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
    // A hop limit of 1 is the secure default: a problem only for a container that needs IMDS.
    let first = context.container_requests.first()?;
    let pods_blocked = setting
        .pod_imds_disabled
        .as_ref()
        .and_then(|v| v.text.as_deref())
        .is_some_and(|t| t.eq_ignore_ascii_case("true"));
    if pods_blocked {
        return None;
    }
    let key = setting.source.keys().hop_limit;
    let others = context.container_requests.len() - 1;
    let request = format!(
        "a container requests instance metadata at {}:{}{}",
        first.path.display(),
        first.line,
        match others {
            0 => String::new(),
            1 => " (and 1 more place)".to_owned(),
            n => format!(" (and {n} more places)"),
        }
    );
    let (span, message) = match setting.hop_limit_state() {
        HopLimit::Explicit(1) => (
            setting.hop_limit.as_ref()?.span,
            format!("hop limit 1 on instances that run containers ({why}), and {request}: its IMDSv2 token does not reach a container"),
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
                format!("{what} at {default} on instances that run containers ({why}), and {request}: its IMDSv2 token does not reach a container"),
            )
        }
        _ => return None,
    };
    Some(SettingViolation {
        span,
        message,
        help: format!(
            "a container on a bridge or pod network is one hop further from IMDS, so its token PUT times out with a hop limit of 1. If that container runs on these instances and needs their metadata, either run it on the host network, or set `{key}` to 2 — a trade-off: every container on the instances can then reach the instance role's credentials. Where containers should not reach IMDS at all (EKS with IRSA or Pod Identity, ECS task roles), keep 1 and suppress this finding with `# imds-lint disable=IMDS011`"
        ),
        severity: None,
        change: Some(Change {
            field: Field::HopLimit,
            applicability: Applicability::Unsafe,
            unsafe_because: None,
        }),
        at_requests: Vec::new(),
        points_at_boot_code: false,
        points_at_container_requests: true,
    })
}

#[cfg(test)]
mod tests {
    use crate::fix::Applicability;
    use crate::rules::testing::{file_findings, fix_applicability};

    fn imds011(name: &str, text: &str) -> usize {
        file_findings(name, text)
            .into_iter()
            .filter(|(code, _)| *code == "IMDS011")
            .count()
    }

    /// CAPA nodes with a hop limit of `hop` (`None`: unset), followed in the same stream by
    /// `workload`.
    fn capa(hop: Option<u32>, workload: &str) -> String {
        let hop = hop.map_or(String::new(), |h| {
            format!("    httpPutResponseHopLimit: {h}\n")
        });
        format!("apiVersion: infrastructure.cluster.x-k8s.io/v1beta2\nkind: AWSMachine\nmetadata:\n  name: m\nspec:\n  instanceMetadataOptions:\n    httpTokens: required\n{hop}---\n{workload}")
    }

    const TOKENED: &str = "TOKEN=$(curl -sX PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 60'); curl -s -H \"X-aws-ec2-metadata-token: $TOKEN\" http://169.254.169.254/latest/meta-data/instance-id";

    fn pod(spec_extra: &str) -> String {
        format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n{spec_extra}  containers:\n    - name: c\n      image: x\n      command: [\"sh\", \"-c\", {TOKENED:?}]\n")
    }

    #[test]
    fn flags_hop_limit_one_where_a_container_requests_metadata() {
        assert_eq!(imds011("a.yaml", &capa(Some(1), &pod(""))), 1);
        assert_eq!(imds011("a.yaml", &capa(None, &pod(""))), 1, "unset: 1");
        let deployment = format!("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    spec:\n      hostNetwork: false\n      initContainers:\n        - name: i\n          image: x\n          command: [\"sh\", \"-c\", {TOKENED:?}]\n");
        assert_eq!(imds011("a.yaml", &capa(Some(1), &deployment)), 1);
    }

    #[test]
    fn stays_quiet_without_a_container_side_request() {
        // No workload at all, a pod on the host network, a pod that makes no request, a hop
        // limit of 2.
        let configmap = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  x: y\n";
        assert_eq!(imds011("a.yaml", &capa(Some(1), configmap)), 0);
        assert_eq!(imds011("a.yaml", &capa(None, configmap)), 0);
        assert_eq!(
            imds011("a.yaml", &capa(Some(1), &pod("  hostNetwork: true\n"))),
            0
        );
        let idle = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      image: x\n      command: [\"sleep\", \"60\"]\n";
        assert_eq!(imds011("a.yaml", &capa(Some(1), idle)), 0);
        assert_eq!(imds011("a.yaml", &capa(Some(2), &pod(""))), 0);
        // Instances not known to run containers, or with the endpoint off.
        for tf in [
            "resource \"aws_instance\" \"a\" {\n  metadata_options {\n    http_tokens = \"required\"\n    http_put_response_hop_limit = 1\n  }\n}\n",
            "resource \"aws_instance\" \"a\" {\n  user_data = \"#!/bin/sh\\ndocker run x\\n\"\n  metadata_options {\n    http_endpoint = \"disabled\"\n  }\n}\n",
        ] {
            assert_eq!(imds011("a.tf", tf), 0, "{tf}");
        }
        let eksctl = "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmanagedNodeGroups:\n  - name: ng\n    disableIMDSv1: true\n";
        assert_eq!(imds011("a.yaml", eksctl), 0);
    }

    #[test]
    fn raising_the_hop_limit_is_never_a_safe_fix() {
        for text in [capa(Some(1), &pod("")), capa(None, &pod(""))] {
            assert_eq!(
                fix_applicability("a.yaml", &text, "IMDS011"),
                vec![Some(Applicability::Unsafe)],
                "{text}"
            );
        }
    }
}
