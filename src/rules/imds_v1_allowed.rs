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
an eksctl node group; `http_tokens = "optional"` in the `metadata_options` of a Packer
`source "amazon-ebs"` (or `amazon-instance`, `amazon-ebssurrogate`, `amazon-ebsvolume`; a builder
of that type in a JSON template): the instance the image is built on; and
`aws ec2 run-instances --metadata-options HttpTokens=optional` (shorthand or JSON),
`aws ec2 modify-instance-metadata-options --http-tokens optional` and
`aws ec2 modify-instance-metadata-defaults --http-tokens optional` in scripts (an error).

Where the setting is left unset — an instance, launch template, Packer source or CAPA machine
without a metadata options block, or a block without the tokens field — it reports a
**warning** at the resource or the block: EC2 then allows IMDSv1 unless the AMI (`ImdsSupport: v2.0`) or the account default
(`modify-instance-metadata-defaults`) requires tokens, and CAPA sets `optional` itself. An
account default of `no-preference` is a warning too. Nothing is reported where the metadata
endpoint is disabled (`HttpEndpoint: disabled`), where an instance takes its options from a
launch template, or for an eksctl node group that leaves `disableIMDSv1` unset (eksctl requires
tokens by default since 0.143).

Terraform values that are not literals are read as far as they can be without a plan. A
`dynamic "metadata_options"` block is the resource's options block: its `content` gives the
fields. A value read from an input variable — `var.NAME`, `var.NAME.http_tokens`, the iterator of
a `dynamic` block whose `for_each` is `[var.NAME]` (or that list when the variable is not null),
`lookup()`, `try()` or `coalesce()` of one with a literal fallback — is what the instances get
where the module's callers leave the variable alone: the variable's `default` (declared in any
`.tf` file of the module's directory), the `optional(…, "default")` of its type, or the fallback.
A default that allows IMDSv1 (`optional`, or null: unset) is a **warning** at the value that
names the variable and where it is declared. A default that requires tokens is quiet. Where
nothing decides the value — a variable without a default or not declared in the scanned files,
`each.value`, a local, a resource attribute, another function — there is no finding but a note
(partly analysed) that says what could not be read.

A Terraform module's input that sets `http_tokens = "optional"` — in a
`metadata_options = { … }` object at any depth of the module's arguments (the autoscaling
module's input, a node group's in the EKS module's maps), or as an `http_tokens` argument — is
a warning: its instances allow IMDSv1 where the module passes the value on. What a module does
with a field its input leaves out is the module's own default, not EC2's: nothing is reported.

An `aws ec2` call that does not reach EC2 is not a setting: one sent to another endpoint
(`--endpoint-url http://localhost:5000`, or `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_EC2` set
before the command, through `env`, or by the script — a moto or LocalStack mock), `--dry-run`,
`--generate-cli-skeleton`. A `run-instances` whose parameters come from
`--cli-input-json file://…` (or `--cli-input-yaml`), or sent to an endpoint in a variable the
script does not set, gets a note instead of a finding: its options were not read. Inline
`--cli-input-json` text is read like `--metadata-options`.

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
It is unsafe too when the setting's directory tree (its directory and those below it, or a
directory above it) ships an application too old for IMDSv2: an IMDS020 or IMDS021 finding in a
dependency manifest, lockfile, install command or image reference. Such an application loses
its instance credentials once tokens are required; the help names where it is. A sibling tree (another
project of a monorepo) does not count.
Software baked into the AMI is never visible: test before rolling out.

A `dynamic "metadata_options"` block gets the field in its `content`; no fix ever adds
a second options block where one (static or dynamic) exists, and where the field cannot be
written (a `dynamic` block without `content`, a body closed on the line of its last field) there
is no fix and the help says so. An `aws ec2 run-instances` without `--metadata-options` gets
`--metadata-options HttpTokens=required` after its `run-instances` word (unsafe: the scripts of
its instances are elsewhere); not `HttpEndpoint=enabled`, which would turn on an endpoint an
account default disables. A `--metadata-options` value without `HttpTokens` has no fix (the help
says to add it by hand).

A value read from a Terraform input variable is never fixed: the default is shared by every
caller of the module, and the help names where it is declared.

## How to suppress
`# imds-lint disable=IMDS010` at the end of the line, or alone on the line before it; in the
comments at the top of a file it applies to the whole file. `--ignore IMDS010` turns the rule off.
A JSON template takes no comments: use `--ignore` or the configuration file.

## Known limitations
Terraform values are read without a plan: a variable's value set by the module's callers
(`terraform.tfvars`, a `module` block in another directory) is not matched to the module, locals
and `for_each` values are not read, and `try(var.m.http_tokens, "required")` is taken to fall
back where the default leaves the field out (for a typed object, Terraform gives null there).
A hop limit read from a variable is not resolved (IMDS011 and IMDS013 stay quiet on it). Module
inputs passed through an expression (`metadata_options = each.value.metadata_options`) are not
read. An `aws` call whose endpoint is set in a profile (`~/.aws/config`) is taken to reach EC2.
An instance launched from a launch template counts for the template with its own inline user
data only.

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
    if let Some(value) = setting.tokens.as_ref().filter(|v| v.expression.is_some()) {
        return from_expression(context, value);
    }
    let keys = setting.source.keys();
    let (span, mut message, severity) = match setting.tokens_state() {
        // A Terraform module's input: what its instances get is the module's to decide.
        Tokens::Optional if setting.kind == "module" => {
            let value = setting.tokens.as_ref()?;
            let text = value.text.as_deref().unwrap_or_default();
            (
                value.span,
                format!(
                    "`{}` set to `{text}` in an input of {}: its instances allow IMDSv1 where the module passes it on",
                    value.key,
                    setting.display()
                ),
                Some(Severity::Warning),
            )
        }
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
    let change = if tokenless_first(context, &mut message, &mut help) {
        None
    } else {
        // Where `--fix` cannot write the change (a `--metadata-options` value without
        // `HttpTokens`, a block whose closing brace shares a line), the help says so.
        let probe = Change {
            field: Field::Tokens,
            applicability: Applicability::Unsafe,
            unsafe_because: None,
        };
        let writable = crate::fix::settings::plan(setting, &probe).is_some();
        let said = |why: &str| {
            if writable {
                format!("; {why} (the fix is unsafe)")
            } else {
                format!("; {why}")
            }
        };
        // Every reason the change may break something, each said in the help.
        let mut reasons: Vec<String> = Vec::new();
        if let Some(why) = &setting.user_data.unseen {
            help.push_str(&said(&format!("{why}, so check those scripts first")));
            reasons.push(why.clone());
        } else if context.unassigned_in_user_data > 0 {
            help.push_str(&said(
                "its user data sends a token variable that nothing assigns (IMDS004), which may leave requests without a token",
            ));
            reasons.push(
                "its user data sends a token variable that nothing assigns (IMDS004)".to_owned(),
            );
        }
        if !context.applications.is_empty() {
            let places: Vec<String> = context
                .applications
                .iter()
                .map(|a| format!("{}:{}", a.path.display(), a.line))
                .collect();
            let why = format!(
                "applications in this directory tree use an SDK or agent too old for IMDSv2 (IMDS020/IMDS021: {}), which would lose their instance credentials",
                super::listed(&places)
            );
            help.push_str(&said(&format!("{why}; upgrade them first")));
            reasons.push(why);
        }
        let unsafe_because = (!reasons.is_empty()).then(|| reasons.join("; "));
        if !writable {
            help.push_str(&format!(
                "; `--fix` cannot write this change here: set `{}` to `{}` by hand",
                keys.tokens, keys.required
            ));
        }
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
        points_at_container_requests: false,
    })
}

/// When the boot code of the setting's instances still makes tokenless requests: says so in the
/// message and help, and returns true (requiring tokens must wait for them).
fn tokenless_first(context: &SettingContext, message: &mut String, help: &mut String) -> bool {
    let n = context.tokenless_in_user_data;
    if n == 0 {
        return false;
    }
    message.push_str(&format!(
        "; the boot code of its instances still makes {n} tokenless request{} ({}): fix {} first (`--fix` fixes scripts in the same run)",
        if n == 1 { "" } else { "s" },
        super::listed(context.tokenless_locations),
        if n == 1 { "it" } else { "them" },
    ));
    help.push_str("; requiring tokens now would make those requests fail with 401");
    true
}

/// A tokens value written as an expression (a Terraform variable, `lookup()` of one, a
/// `dynamic` block's iterator): flagged only where the module's own default allows IMDSv1 — it
/// is what the instances get where its callers say nothing — as a warning, since callers may set
/// another value, and never fixed: the value is the callers' to choose, and the default is in a
/// `variable` block that other callers share. Where nothing can be known of the value, the check
/// says so in a note, not here.
fn from_expression(
    context: &SettingContext,
    value: &crate::model::setting::Value,
) -> Option<SettingViolation> {
    let setting = context.setting;
    let keys = setting.source.keys();
    let expression = value.expression.as_ref()?;
    let said = value.said();
    let mut message = match setting.tokens_state() {
        Tokens::Optional => format!(
            "`{}` {said}, which allows IMDSv1 where callers of the module do not set `{}`",
            value.key, keys.required
        ),
        Tokens::Unset => format!(
            "`{}` {said}: where callers of the module do not set it, EC2 allows IMDSv1 unless the AMI (`ImdsSupport: v2.0`) or the account default requires tokens",
            value.key
        ),
        _ => return None,
    };
    let mut help = match &expression.variable {
        Some(variable) => format!(
            "require tokens: give `var.{}` a default that sets `{}` to `{}`{}, once every script these instances run sends one; no automatic fix: the default is shared by every caller of the module",
            variable.name,
            keys.tokens,
            keys.required,
            expression
                .declaration
                .as_ref()
                .and_then(|d| d.at.as_ref())
                .map(|at| format!(" ({at})"))
                .unwrap_or_default(),
        ),
        None => format!(
            "require tokens (`{}` set to `{}`) once every script these instances run sends one",
            keys.tokens, keys.required
        ),
    };
    tokenless_first(context, &mut message, &mut help);
    Some(SettingViolation {
        span: value.span,
        message,
        help,
        severity: Some(Severity::Warning),
        change: None,
        at_requests: Vec::new(),
        points_at_boot_code: true,
        points_at_container_requests: false,
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
            ("  user_data = <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF\n", Unsafe),
            ("  user_data = <<EOF\n#!/bin/sh\ncurl -H \"X-aws-ec2-metadata-token: $T\" http://169.254.169.254/latest/meta-data/\nEOF\n", Unsafe),
        ];
        for (user_data, want) in cases {
            assert_eq!(
                fix_applicability("a.tf", &instance(user_data), "IMDS010"),
                [Some(want)],
                "{user_data}"
            );
        }
        // Windows user data is read (as PowerShell): a tokenless request there leaves no fix (fix
        // the script first), a tokened script lets the setting be fixed, as for shell.
        let windows = |body: &str| {
            instance(&format!(
                "  user_data = <<EOF\n<powershell>\n{body}\n</powershell>\nEOF\n"
            ))
        };
        assert_eq!(
            fix_applicability(
                "a.tf",
                &windows("Invoke-RestMethod -Uri http://169.254.169.254/latest/meta-data/"),
                "IMDS010"
            ),
            [None]
        );
        assert_eq!(
            fix_applicability(
                "a.tf",
                &windows("$t = Invoke-RestMethod -Headers @{\"X-aws-ec2-metadata-token-ttl-seconds\" = \"21600\"} -Method PUT -Uri http://169.254.169.254/latest/api/token\nInvoke-RestMethod -Headers @{\"X-aws-ec2-metadata-token\" = $t} -Uri http://169.254.169.254/latest/meta-data/"),
                "IMDS010"
            ),
            [Some(Safe)]
        );
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

    /// The IMDS010 findings of a file through the whole check: message, fix edits' content and
    /// the notes on values that could not be read.
    fn checked(name: &str, text: &str) -> (Vec<(String, Vec<String>)>, Vec<String>) {
        let outcome = crate::check::check_file(
            std::path::PathBuf::from(name),
            text.as_bytes().to_vec(),
            None,
            &Default::default(),
        );
        let findings = outcome
            .findings()
            .iter()
            .filter(|f| f.rule.code == "IMDS010")
            .map(|f| {
                (
                    f.message.clone(),
                    f.fix
                        .iter()
                        .flat_map(|x| &x.edits)
                        .map(|e| e.content.clone())
                        .collect(),
                )
            })
            .collect();
        let notes = match outcome {
            crate::check::Outcome::Checked { setting_notes, .. } => {
                setting_notes.into_iter().map(|n| n.message).collect()
            }
            _ => Vec::new(),
        };
        (findings, notes)
    }

    #[test]
    fn values_from_variables_say_what_decides_them() {
        let template = |tokens: &str, variable: &str| {
            format!("resource \"aws_launch_template\" \"a\" {{\n  metadata_options {{\n    http_tokens = {tokens}\n  }}\n}}\n{variable}")
        };
        // A default that requires tokens, directly, by the type, or by a lookup() fallback.
        for (tokens, variable) in [
            ("var.t", "variable \"t\" {\n  default = \"required\"\n}\n"),
            ("var.m.http_tokens", "variable \"m\" {\n  type = object({\n    http_tokens = optional(string, \"required\")\n  })\n  default = {}\n}\n"),
            ("lookup(var.m, \"http_tokens\", \"required\")", "variable \"m\" {\n  default = {}\n}\n"),
        ] {
            let (findings, notes) = checked("a.tf", &template(tokens, variable));
            assert!(findings.is_empty() && notes.is_empty(), "{tokens}: {findings:?} {notes:?}");
        }
        // A default that allows IMDSv1: a warning naming the variable, with no fix.
        let (findings, notes) = checked(
            "a.tf",
            &template("var.t", "variable \"t\" {\n  default = \"optional\"\n}\n"),
        );
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert!(
            findings[0].0.starts_with(
                "`http_tokens` is `var.t`, `optional` by the default of `var.t` (a.tf:6)"
            ),
            "{findings:?}"
        );
        assert!(findings[0].1.is_empty() && notes.is_empty());
        // Nothing known: a note that says why, and no finding.
        for (tokens, variable, why) in [
            (
                "var.t",
                "variable \"t\" {\n  type = string\n}\n",
                "`var.t` has no default (a.tf:6)",
            ),
            (
                "var.elsewhere",
                "",
                "`var.elsewhere` is not declared in the scanned files of its module",
            ),
            (
                "each.value.tokens",
                "",
                "`each.value.tokens` comes from the resource's `for_each`",
            ),
            ("upper(var.t)", "", "`upper(var.t)` is a function call"),
        ] {
            let (findings, notes) = checked("a.tf", &template(tokens, variable));
            assert!(findings.is_empty(), "{tokens}: {findings:?}");
            assert_eq!(notes.len(), 1, "{tokens}: {notes:?}");
            assert!(
                notes[0].starts_with(
                    "line 3: the `http_tokens` of `aws_launch_template` `a` could not be read ("
                ) && notes[0].contains(why),
                "{tokens}: {notes:?}"
            );
        }
    }

    #[test]
    fn never_adds_a_second_options_block() {
        // A dynamic block without a content, or whose content closes on its own line: the field
        // goes into the content, or there is no fix; never a new `metadata_options` block.
        for tf in [
            "resource \"aws_instance\" \"a\" {\n  dynamic \"metadata_options\" {\n    for_each = [1]\n    content {\n      http_endpoint = \"enabled\"\n    }\n  }\n}\n",
            "resource \"aws_instance\" \"a\" {\n  dynamic \"metadata_options\" {\n    for_each = [1]\n  }\n}\n",
            "resource \"aws_instance\" \"a\" {\n  dynamic \"metadata_options\" {\n    for_each = [1]\n    content { http_endpoint = \"enabled\" }\n  }\n}\n",
        ] {
            let (findings, _) = checked("a.tf", tf);
            assert_eq!(findings.len(), 1, "{tf}");
            for edit in &findings[0].1 {
                assert!(!edit.contains("metadata_options"), "{tf}: {edit}");
                assert_eq!(edit.trim(), "http_tokens   = \"required\"", "{tf}");
            }
        }
    }

    #[test]
    fn run_instances_gets_the_metadata_options_words() {
        use crate::fix::Applicability::Unsafe;
        use crate::rules::testing::fix_applicability;
        let sh = "#!/bin/sh\naws ec2 run-instances --image-id ami-1 \\\n  --count 1\n";
        assert_eq!(fix_applicability("a.sh", sh, "IMDS010"), [Some(Unsafe)]);
        let (findings, _) = checked("a.sh", sh);
        assert_eq!(findings[0].1, [" --metadata-options HttpTokens=required"]);
        // `--metadata-options` without `HttpTokens`: no fix, and the help does not promise one.
        let sh = "#!/bin/sh\naws ec2 run-instances --image-id ami-1 --metadata-options HttpPutResponseHopLimit=2\n";
        assert_eq!(fix_applicability("a.sh", sh, "IMDS010"), [None]);
        let outcome = crate::check::check_file(
            std::path::PathBuf::from("a.sh"),
            sh.as_bytes().to_vec(),
            None,
            &Default::default(),
        );
        let help = &outcome.findings()[0].help;
        assert!(!help.contains("the fix is unsafe"), "{help}");
        assert!(
            help.contains("`--fix` cannot write this change here"),
            "{help}"
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
