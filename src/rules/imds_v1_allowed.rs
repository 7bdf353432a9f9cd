//! IMDS010 `imds-v1-allowed`.

use super::{Check, Entry, Rule, SettingContext, SettingViolation, Severity};
use crate::fix::settings::{Change, Field};
use crate::fix::Applicability;
use crate::model::setting::{Tokens, TokensDefault};

pub const RULE: Entry = Entry {
    rule: Rule {
        code: "IMDS010",
        name: "imds-v1-allowed",
        severity: Severity::Error,
        fixable: true,
        summary: "instance metadata setting that allows IMDSv1 (tokens optional, or left unset)",
        doc: DOC,
        lowered: Some((
            Severity::Warning,
            "when the setting is left unset or the account default is `no-preference`",
        )),
    },
    check: Check::Setting(check),
    fix: None,
};

const DOC: &str = r#"# IMDS010 imds-v1-allowed

## What it does
Flags an instance metadata setting that lets instances answer IMDSv1 requests (no token):
`httpTokens: optional` in a Cluster API AWS `AWSMachineTemplate`, `AWSMachine`, `AWSMachinePool`
or `AWSManagedMachinePool`; `http_tokens = "optional"` in the `metadata_options` of a Terraform
`aws_instance`, `aws_launch_template`, `aws_spot_instance_request` or `aws_launch_configuration`;
`HttpTokens: optional` in the `MetadataOptions` of a CloudFormation `AWS::EC2::Instance`,
`AWS::EC2::LaunchTemplate` or `AWS::AutoScaling::LaunchConfiguration`; `disableIMDSv1: false` on
an eksctl node group; and `aws ec2 run-instances --metadata-options HttpTokens=optional` (shorthand
or JSON), `aws ec2 modify-instance-metadata-options --http-tokens optional` and
`aws ec2 modify-instance-metadata-defaults --http-tokens optional` in scripts (an error).

Where the setting is left unset — an instance, launch template or CAPA machine without a metadata
options block, or a block without the tokens field — it reports a **warning** at the resource or
the block: EC2 then allows IMDSv1 unless the AMI (`ImdsSupport: v2.0`) or the account default
(`modify-instance-metadata-defaults`) requires tokens, and CAPA sets `optional` itself. An
account default of `no-preference` is a warning too. Nothing is reported where the metadata
endpoint is disabled (`HttpEndpoint: disabled`), where an instance takes its options from a
launch template, or for an eksctl node group that leaves `disableIMDSv1` unset (eksctl requires
tokens by default since 0.143).

## Why is this bad?
IMDSv1 answers any GET: a server-side request forgery, an open proxy or a misconfigured WAF on
the instance hands out the instance role's credentials. IMDSv2's session token (a PUT that a
proxy does not forward, with a hop limit) closes that door — but only when tokens are required.
Requiring them is the last step of the migration: first every script must send a token.

## Example
```hcl
resource "aws_instance" "web" {
  ami           = "ami-0123456789abcdef0"
  instance_type = "t3.micro"

  metadata_options {
    http_tokens = "optional"
  }
}
```

## Use instead
```hcl
resource "aws_instance" "web" {
  ami           = "ami-0123456789abcdef0"
  instance_type = "t3.micro"

  metadata_options {
    http_tokens = "required"
  }
}
```

## Fix safety
`--fix` sets the value to `required` (eksctl: `disableIMDSv1: true`), or adds the field to the
options block, or adds the block, with the indentation and syntax of the file (YAML, JSON, HCL).

The fix is safe only when all the boot code of the resource's instances was read and makes no
tokenless request (IMDS001): its user data in the same file, the files its Terraform `user_data`
reads with `file()` / `templatefile()`, and, for a CAPA infrastructure object, the bootstrap
`Secret` of every `MachinePool` / `MachineDeployment` of the scan that uses it (the links IMDS012
follows). When the boot code still makes tokenless requests, there is no fix and the message says
how many and where: fix those first — `--fix` rewrites the scripts in the same run, and the
setting in the next round, in whichever files they are. The fix is unsafe (applied only with
`--unsafe-fixes`) when some boot code is not visible: a CAPA object that no machine set of the
scan uses, or whose Secret is not in the tree; a `file()` that names a file the scan could not
read; a `!Ref` parameter; an `aws ec2` call, which changes instances whose scripts are elsewhere.
Software baked into the AMI is never visible: test before rolling out.

## How to suppress
`# imds-lint disable=IMDS010` at the end of the line, or alone on the line before it; in the
comments at the top of a file it applies to the whole file. `--ignore IMDS010` turns the rule off.
A JSON template takes no comments: use `--ignore` or the configuration file.

## Known limitations
Terraform module inputs (`metadata_options = { … }` passed to a module), `dynamic` blocks and
values taken from variables are not read; a value that is not a literal is not reported. An
instance launched from a launch template counts for the template with its own inline user data
only.

## References
- <https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-IMDS-new-instances.html>
- <https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-IMDS-existing-instances.html>
- <https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/instance#metadata-options>
- <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-ec2-instance-metadataoptions.html>
- <https://cluster-api-aws.sigs.k8s.io/topics/instance-metadata>
"#;

fn check(context: &SettingContext) -> Option<SettingViolation> {
    let setting = context.setting;
    if setting.endpoint_disabled() {
        return None;
    }
    let keys = setting.source.keys();
    let (span, mut message, severity) = match setting.tokens_state() {
        Tokens::Optional => {
            let value = setting.tokens.as_ref()?;
            let text = value.text.as_deref().unwrap_or_default();
            (
                value.span,
                format!("`{}` set to `{text}` allows IMDSv1", value.key),
                None,
            )
        }
        Tokens::NoPreference => {
            let value = setting.tokens.as_ref()?;
            (
                value.span,
                "account default `no-preference` lets instances allow IMDSv1 unless their AMI requires tokens"
                    .to_owned(),
                Some(Severity::Warning),
            )
        }
        Tokens::Unset => {
            let why = match setting.tokens_default {
                TokensDefault::Ec2 => "EC2 allows IMDSv1 unless the AMI (`ImdsSupport: v2.0`) or the account default requires tokens".to_owned(),
                TokensDefault::Optional(tool) => {
                    format!("{tool} sets it to `optional`, which allows IMDSv1")
                }
                TokensDefault::Required | TokensDefault::Unchanged => return None,
            };
            let (span, what) = match &setting.block {
                Some(block) => (
                    block.head,
                    format!("`{}` without `{}`", block.key, keys.tokens),
                ),
                None if setting.missing_parent.is_some() => (
                    setting.head,
                    format!(
                        "{} without `{}`",
                        setting.display(),
                        setting.missing_parent.as_deref().unwrap_or_default()
                    ),
                ),
                None if keys.block.is_empty() => (
                    setting.head,
                    format!("{} without `{}`", setting.display(), keys.tokens),
                ),
                None => (
                    setting.head,
                    format!("{} without `{}`", setting.display(), keys.block),
                ),
            };
            (span, format!("{what}: {why}"), Some(Severity::Warning))
        }
        Tokens::Required | Tokens::Unknown => return None,
    };
    let mut help = format!(
        "require tokens (`{}` set to `{}`) once every script these instances run sends one",
        keys.tokens, keys.required
    );
    let change = if context.tokenless_in_user_data > 0 {
        let n = context.tokenless_in_user_data;
        message.push_str(&format!(
            "; the boot code of its instances still makes {n} tokenless request{} ({}): fix {} first (`--fix` fixes scripts in the same run)",
            if n == 1 { "" } else { "s" },
            context.tokenless_locations.join(", "),
            if n == 1 { "it" } else { "them" },
        ));
        help.push_str("; requiring tokens now would make those requests fail with 401");
        None
    } else {
        let unsafe_because = match &setting.user_data.unseen {
            Some(why) => {
                help.push_str(&format!(
                    "; {why}, so check those scripts first (the fix is unsafe)"
                ));
                Some(why.clone())
            }
            None if context.unassigned_in_user_data > 0 => {
                help.push_str(
                    "; its user data sends a token variable that nothing assigns (IMDS004), which may leave requests without a token (the fix is unsafe)",
                );
                Some(
                    "its user data sends a token variable that nothing assigns (IMDS004)"
                        .to_owned(),
                )
            }
            None => None,
        };
        Some(Change {
            field: Field::Tokens,
            applicability: if unsafe_because.is_some() {
                Applicability::Unsafe
            } else {
                Applicability::Safe
            },
            unsafe_because,
        })
    };
    Some(SettingViolation {
        span,
        message,
        help,
        severity,
        change,
        at_requests: Vec::new(),
        // Its message names the tokenless requests (or they withhold its fix): point at them.
        points_at_boot_code: true,
    })
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::file_findings;

    fn imds010(name: &str, text: &str) -> Vec<bool> {
        file_findings(name, text)
            .into_iter()
            .filter(|(code, _)| *code == "IMDS010")
            .map(|(_, fix)| fix)
            .collect()
    }

    #[test]
    fn flags_settings_that_allow_imds_v1() {
        assert_eq!(
            imds010(
                "a.tf",
                "resource \"aws_instance\" \"a\" {\n  metadata_options {\n    http_tokens = \"optional\"\n  }\n}\n"
            ),
            [true]
        );
        assert_eq!(
            imds010(
                "a.tf",
                "resource \"aws_launch_template\" \"a\" {\n  name = \"x\"\n}\n"
            ),
            [true]
        );
        assert_eq!(
            imds010(
                "a.yaml",
                "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nnodeGroups:\n  - name: ng\n    disableIMDSv1: false\n"
            ),
            [true]
        );
        assert_eq!(
            imds010(
                "a.sh",
                "#!/bin/sh\naws ec2 modify-instance-metadata-options --instance-id i-1 --http-tokens optional\n"
            ),
            [true]
        );
    }

    #[test]
    fn withholds_the_fix_while_user_data_is_tokenless() {
        let tf = "resource \"aws_instance\" \"a\" {\n  user_data = <<EOF\n#!/bin/sh\ncurl -s http://169.254.169.254/latest/meta-data/instance-id\nEOF\n  metadata_options {\n    http_tokens = \"optional\"\n  }\n}\n";
        assert_eq!(imds010("a.tf", tf), [false]);
    }

    #[test]
    fn the_fix_is_unsafe_where_boot_code_is_not_seen() {
        use crate::fix::Applicability::{Safe, Unsafe};
        use crate::rules::testing::fix_applicability;
        let instance = |user_data: &str| {
            format!("resource \"aws_instance\" \"a\" {{\n{user_data}  metadata_options {{\n    http_tokens = \"optional\"\n  }}\n}}\n")
        };
        let cases = [
            ("  user_data = \"#!/bin/sh\\necho hi\\n\"\n", Safe),
            ("", Safe),
            ("  user_data = file(\"boot.sh\")\n", Unsafe),
            ("  user_data = var.boot\n", Unsafe),
            ("  user_data = <<EOF\n<powershell>\nInvoke-RestMethod -Uri http://169.254.169.254/latest/meta-data/\n</powershell>\nEOF\n", Unsafe),
            ("  user_data = <<EOF\n#!/bin/sh\ncurl -H \"X-aws-ec2-metadata-token: $T\" http://169.254.169.254/latest/meta-data/\nEOF\n", Unsafe),
        ];
        for (user_data, want) in cases {
            assert_eq!(
                fix_applicability("a.tf", &instance(user_data), "IMDS010"),
                [Some(want)],
                "{user_data}"
            );
        }
        let capa = "apiVersion: infrastructure.cluster.x-k8s.io/v1beta2\nkind: AWSMachine\nmetadata:\n  name: m\nspec:\n  instanceMetadataOptions:\n    httpTokens: optional\n";
        assert_eq!(fix_applicability("a.yaml", capa, "IMDS010"), [Some(Unsafe)]);
        let cli = "#!/bin/sh\naws ec2 modify-instance-metadata-options --instance-id i-1 --http-tokens optional\n";
        assert_eq!(fix_applicability("a.sh", cli, "IMDS010"), [Some(Unsafe)]);
    }

    #[test]
    fn no_fix_where_the_file_could_not_be_parsed() {
        let findings = |tf: &str| {
            crate::check::check_file(
                std::path::PathBuf::from("a.tf"),
                tf.as_bytes().to_vec(),
                None,
                &Default::default(),
            )
            .findings()
            .iter()
            .filter(|f| f.rule.code == "IMDS010")
            .map(|f| (f.message.clone(), f.fix.is_some()))
            .collect::<Vec<_>>()
        };
        for tf in [
            "resource \"aws_instance\" \"web\" {\n  ami = \"ami-123\"\n  user_data = <<EOF\n#!/bin/bash\necho hi\n}\n",
            "resource \"aws_instance\" \"web\" {\n  ami = \"ami-123\n  instance_type = \"t3.micro\"\n}\n",
            "resource \"aws_instance\" \"web\" {\n  ami = \"ami-123\"\n  tags = {\n    Name = \"web\n  }\n}\n",
            "resource \"aws_instance\" \"web\" {\n  metadata_options {\n    http_tokens = \"optional\"\n  }\n  ami = [\n}\n",
        ] {
            let got = findings(tf);
            assert_eq!(got.len(), 1, "{tf:?}: {got:?}");
            let (message, fixed) = &got[0];
            assert!(!fixed, "{tf:?}");
            let lines = tf.lines().count();
            assert!(
                message.ends_with(&format!("; the file could not be parsed around it (lines 1-{lines}), so it may be read wrong and is not fixed")),
                "{tf:?}: {message}"
            );
        }
        // A resource beside a broken one is read and fixed as usual.
        let tf = "resource \"aws_instance\" \"a\" {\n  ami = \"x\"\n}\n\nresource \"aws_instance\" \"b\" {\n  ami = \"y\n}\n";
        let got = findings(tf);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(
            got[0].1 && !got[0].0.contains("could not be parsed"),
            "{got:?}"
        );
        assert!(
            !got[1].1
                && got[1]
                    .0
                    .contains("could not be parsed around it (lines 5-7)"),
            "{got:?}"
        );
    }

    #[test]
    fn stays_quiet() {
        for (name, text) in [
            ("a.tf", "resource \"aws_instance\" \"a\" {\n  metadata_options {\n    http_tokens = \"required\"\n  }\n}\n"),
            ("a.tf", "resource \"aws_instance\" \"a\" {\n  metadata_options {\n    http_tokens = var.tokens\n  }\n}\n"),
            ("a.tf", "resource \"aws_instance\" \"a\" {\n  metadata_options {\n    http_endpoint = \"disabled\"\n  }\n}\n"),
            ("a.tf", "resource \"aws_instance\" \"a\" {\n  launch_template {\n    id = aws_launch_template.t.id\n  }\n}\n"),
            ("a.tf", "resource \"aws_s3_bucket\" \"a\" {\n  bucket = \"optional\"\n}\n"),
            ("a.yaml", "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nnodeGroups:\n  - name: ng\n"),
            ("a.yaml", "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nnodeGroups:\n  - name: ng\n    disableIMDSv1: true\n"),
            ("a.sh", "#!/bin/sh\naws ec2 modify-instance-metadata-options --instance-id i-1 --http-put-response-hop-limit 2\n"),
            ("a.sh", "#!/bin/sh\naws ec2 run-instances --launch-template LaunchTemplateName=x\n"),
            ("a.sh", "#!/bin/sh\necho aws ec2 modify-instance-metadata-options --http-tokens optional\n"),
        ] {
            assert!(imds010(name, text).is_empty(), "{text}");
        }
    }
}
