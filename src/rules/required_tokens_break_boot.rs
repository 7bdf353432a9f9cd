//! IMDS012 `required-tokens-break-boot`.

use super::{Check, Entry, RequestViolation, Rule, SettingContext, SettingViolation, Severity};
use crate::model::setting::Tokens;

pub const RULE: Entry = Entry {
    rule: Rule {
    code: "IMDS012",
    name: "required-tokens-break-boot",
    severity: Severity::Error,
    fixable: false,
    summary:
        "a setting that requires tokens on instances whose boot script makes a tokenless request",
    doc: DOC,
    lowered: None,
    },
    check: Check::Setting(check),
    fix: None,
};

const DOC: &str = r#"# IMDS012 required-tokens-break-boot

## What it does
Flags a setting that requires IMDSv2 tokens — `http_tokens = "required"` (Terraform),
`HttpTokens: required` (CloudFormation), `httpTokens: required` (Cluster API AWS), eksctl
`disableIMDSv1: true` — on instances whose boot code makes a metadata request without a token
(an IMDS001 finding in it). It reports twice: at the setting, naming the file and line of each
tokenless request, and at each request, naming the file and line of the setting; each finding
also points at the other side as a related location (a second labelled snippet in the human
report, `related` in JSON, `relatedLocations` in SARIF).

The boot code is the user data of the same resource: a Terraform `user_data` /
`user_data_base64` of the same `aws_instance` or `aws_launch_template`, written inline or read from
another file with `file()`, `templatefile()` or `filebase64()` (a literal path, `${path.module}`
and `${path.root}` taken as the file's directory), or named: `data.cloudinit_config.NAME` (its
parts), `data.template_file.NAME`, `local.NAME`, defined in the same file or another file of the
module (directory); and the user data of an `aws_instance` launched from an `aws_launch_template`
(`launch_template { id = aws_launch_template.NAME.id }`) that leaves its tokens to the template,
for the template's setting, in any file of the module; the CloudFormation `UserData` of the same
instance or launch template; the `preBootstrapCommands` of the same eksctl node group; for a Packer
`source "amazon-…"` (or a JSON template's builder) with `http_tokens = "required"`, its `user_data`
and what the `shell` provisioners of the `build` blocks naming it (the provisioners applying to it)
run on the build instance (inline lines, `script`/`scripts` files), in the same file: there the
request fails during the build, not at a later boot (a `shell-local` provisioner runs on the
machine running Packer and is not counted). Across files of one scan, it also follows Cluster API
AWS: a `MachinePool` or
`MachineDeployment` names its boot script (`spec.template.spec.bootstrap.dataSecretName`, the
`Secret` of the same namespace, key `value`) and the object that launches its instances
(`spec.template.spec.infrastructureRef`: an `AWSManagedMachinePool`, `AWSMachinePool` or
`AWSMachineTemplate`, by kind, name and namespace); the setting of that object is checked against
the requests of that Secret, wherever the three objects are (examples in documentation, a
runbook's code blocks, join only each other).

## Why is this bad?
With tokens required, IMDS answers a request without a token with 401 Unauthorized. A boot script
that reads its region, instance ID or credentials that way fails at the first boot after the
switch: the node never joins its cluster, the service never starts. The setting is right; the
script must send a token first.

## Example
```hcl
resource "aws_instance" "web" {
  ami           = "ami-0123456789abcdef0"
  instance_type = "t3.micro"
  user_data     = <<EOF
#!/bin/sh
curl -s http://169.254.169.254/latest/meta-data/instance-id > /etc/instance-id
EOF

  metadata_options {
    http_tokens = "required"
  }
}
```

## Use instead
```hcl
resource "aws_instance" "web" {
  ami           = "ami-0123456789abcdef0"
  instance_type = "t3.micro"
  user_data     = <<EOF
#!/bin/sh
TOKEN=$(curl -sS -X PUT "http://169.254.169.254/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 21600")
curl -s -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/instance-id > /etc/instance-id
EOF

  metadata_options {
    http_tokens = "required"
  }
}
```

## Fix safety
There is no fix of its own: the fix is the script's. `--fix` rewrites the tokenless requests
(IMDS001), and then nothing is left to report here. Never "fix" it by setting `optional`.

## How to suppress
`# imds-lint disable=IMDS012` at the end of the setting's line (or of the request's line), or
alone on the line before it; each of the two findings is suppressed where it is reported.
`--ignore IMDS012` turns the rule off.

## Known limitations
An instance launched from a launch template counts for the template with its own inline user
data only (not with files or names it reads), and a `file()` path built from variables other than
`path.module` / `path.root` is not followed. Terraform module inputs (the EKS module's node groups
and their defaults) are not settings here. A Secret
generated at run time (by a bootstrap provider) is not in the tree. A template's `%{ if }`
directives are not evaluated: a request in either branch counts. A request made by software baked
into the AMI is never visible.

## References
- <https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-IMDS-new-instances.html>
- <https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html>
- <https://cluster-api-aws.sigs.k8s.io/topics/instance-metadata>
"#;

fn check(context: &SettingContext) -> Option<SettingViolation> {
    let setting = context.setting;
    if setting.endpoint_disabled() || setting.tokens_state() != Tokens::Required {
        return None;
    }
    let value = setting.tokens.as_ref()?;
    let locations = context.tokenless_locations;
    if locations.is_empty() {
        return None;
    }
    let n = locations.len();
    let said = value.said();
    let message = format!(
        "`{}` {said}, but the boot script of these instances makes {n} tokenless request{} ({}): {} fail with 401 at boot",
        value.key,
        if n == 1 { "" } else { "s" },
        super::listed(locations),
        if n == 1 { "it would" } else { "they would" },
    );
    let help = "fix the boot script first: send a token with every request (`--fix` rewrites it)"
        .to_owned();
    let at_requests = (0..n)
        .map(|request| RequestViolation {
            request,
            message: format!(
                "request to the metadata service without a token on instances that require tokens (`{}` {said} at {}): it fails with 401 at boot",
                value.key, context.setting_location
            ),
            help: "send a token with this request (`--fix` rewrites it, IMDS001)".to_owned(),
        })
        .collect();
    Some(SettingViolation {
        span: value.span,
        message,
        help,
        severity: None,
        change: None,
        at_requests,
        // Its message names the tokenless requests (or they withhold its fix): point at them.
        points_at_boot_code: true,
        points_at_container_requests: false,
    })
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::file_findings;

    fn imds012(name: &str, text: &str) -> usize {
        file_findings(name, text)
            .into_iter()
            .filter(|(code, _)| *code == "IMDS012")
            .count()
    }

    fn instance(user_data: &str, tokens: &str) -> String {
        format!("resource \"aws_instance\" \"a\" {{\n  user_data = <<EOF\n#!/bin/sh\n{user_data}\nEOF\n  metadata_options {{\n    http_tokens = \"{tokens}\"\n  }}\n}}\n")
    }

    #[test]
    fn flags_required_tokens_over_tokenless_boot_code() {
        let tokenless = "curl -s http://169.254.169.254/latest/meta-data/instance-id";
        // At the setting and at the request.
        assert_eq!(imds012("a.tf", &instance(tokenless, "required")), 2);
        let two = format!("{tokenless}\nwget -qO- http://169.254.169.254/latest/meta-data/ami-id");
        assert_eq!(imds012("a.tf", &instance(&two, "required")), 3);
        let eksctl = "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmanagedNodeGroups:\n  - name: ng\n    disableIMDSv1: true\n    preBootstrapCommands:\n      - curl -s http://169.254.169.254/latest/meta-data/instance-id\n";
        assert_eq!(imds012("a.yaml", eksctl), 2);
    }

    #[test]
    fn stays_quiet() {
        let tokened = "T=$(curl -sS -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 60')\ncurl -s -H \"X-aws-ec2-metadata-token: $T\" http://169.254.169.254/latest/meta-data/instance-id";
        let tokenless = "curl -s http://169.254.169.254/latest/meta-data/instance-id";
        assert_eq!(imds012("a.tf", &instance(tokened, "required")), 0);
        assert_eq!(imds012("a.tf", &instance(tokenless, "optional")), 0);
        assert_eq!(imds012("a.tf", &instance("echo hi", "required")), 0);
        assert_eq!(
            imds012("a.tf", "resource \"aws_instance\" \"a\" {\n  user_data = \"#!/bin/sh\\ncurl http://169.254.169.254/latest/meta-data/\\n\"\n  metadata_options {\n    http_endpoint = \"disabled\"\n    http_tokens = \"required\"\n  }\n}\n"),
            0
        );
        assert_eq!(
            imds012("a.tf", "resource \"aws_instance\" \"a\" {\n  metadata_options {\n    http_tokens = \"required\"\n  }\n}\nresource \"aws_instance\" \"b\" {\n  user_data = \"#!/bin/sh\\ncurl http://169.254.169.254/latest/meta-data/\\n\"\n  metadata_options {\n    http_tokens = var.t\n  }\n}\n"),
            0
        );
        assert_eq!(
            imds012("a.sh", "#!/bin/sh\ncurl http://169.254.169.254/latest/meta-data/\naws ec2 modify-instance-metadata-options --instance-id i-1 --http-tokens required\n"),
            0
        );
    }
}
