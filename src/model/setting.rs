//! Instance metadata settings: one [`MetadataSetting`] per place a file declares how instances
//! answer the metadata service (or launches instances and leaves it unset) — Cluster API AWS
//! machines, Terraform and CloudFormation instances and launch templates, eksctl node groups, and
//! `aws ec2` calls in scripts. Front ends (and, for the CLI, the shell analysis) fill the model;
//! the settings rules (IMDS010–IMDS019) read it, never the YAML or HCL; fixes write through the
//! [`Slot`]s it records.

use crate::fragment::{HostId, HostOffset, HostSpan};

/// Where the setting is declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Cluster API Provider AWS: `AWSMachineTemplate`, `AWSMachine`, `AWSMachinePool`,
    /// `AWSManagedMachinePool`.
    Capa,
    /// `aws_instance`, `aws_launch_template`, `aws_spot_instance_request`,
    /// `aws_launch_configuration`.
    Terraform,
    /// `AWS::EC2::Instance`, `AWS::EC2::LaunchTemplate`, `AWS::AutoScaling::LaunchConfiguration`.
    CloudFormation,
    /// An eksctl `ClusterConfig` node group.
    Eksctl,
    /// `aws ec2 run-instances`, `modify-instance-metadata-options`,
    /// `modify-instance-metadata-defaults`.
    AwsCli,
    /// A Packer HCL2 `source "amazon-…"` block: the instance that builds the image (its
    /// provisioners and user data run there).
    Packer,
}

/// The names a source gives the options block and its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keys {
    pub block: &'static str,
    pub tokens: &'static str,
    pub hop_limit: &'static str,
    /// The tokens value that requires tokens, as this source spells it (eksctl: `true`).
    pub required: &'static str,
}

impl Source {
    pub fn keys(self) -> Keys {
        match self {
            Source::Capa => Keys {
                block: "instanceMetadataOptions",
                tokens: "httpTokens",
                hop_limit: "httpPutResponseHopLimit",
                required: "required",
            },
            Source::Terraform | Source::Packer => Keys {
                block: "metadata_options",
                tokens: "http_tokens",
                hop_limit: "http_put_response_hop_limit",
                required: "required",
            },
            Source::CloudFormation => Keys {
                block: "MetadataOptions",
                tokens: "HttpTokens",
                hop_limit: "HttpPutResponseHopLimit",
                required: "required",
            },
            Source::Eksctl => Keys {
                block: "",
                tokens: "disableIMDSv1",
                hop_limit: "",
                required: "true",
            },
            Source::AwsCli => Keys {
                block: "--metadata-options",
                tokens: "HttpTokens",
                hop_limit: "HttpPutResponseHopLimit",
                required: "required",
            },
        }
    }
}

/// One field as written: its key, its value when it is a literal, and where the value's
/// characters are (inside any quotes), so that a fix can write another plain value there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    /// The key as written (`httpTokens`, `--http-tokens`, `HttpTokens`).
    pub key: String,
    /// The value when it is written literally; `None` for a reference, a variable, an expression.
    pub text: Option<String>,
    /// The value's characters in the host (for a non-literal value, the whole expression).
    pub span: HostSpan,
    /// Whether `span` holds exactly `text`, so a plain value may replace it.
    pub replaceable: bool,
    /// When the value is an expression: what can be known of it before the plan.
    pub expression: Option<Expression>,
}

impl Value {
    pub fn literal(key: &str, text: &str, span: HostSpan) -> Self {
        Value {
            key: key.to_owned(),
            text: Some(text.to_owned()),
            replaceable: span.len() == text.len(),
            span,
            expression: None,
        }
    }

    pub fn opaque(key: &str, span: HostSpan) -> Self {
        Value {
            key: key.to_owned(),
            text: None,
            span,
            replaceable: false,
            expression: None,
        }
    }

    /// How a message says what the value is: ``set to `optional` `` or ``is `var.t`, `optional`
    /// by the default of `var.t` (variables.tf:3)``.
    pub fn said(&self) -> String {
        match (&self.text, &self.expression) {
            (Some(text), _) => format!("set to `{text}`"),
            (None, Some(expression)) => match expression.resolve() {
                Resolved::Default {
                    value: Some(value),
                    how,
                } => format!("is `{}`, `{value}` {how}", expression.written),
                Resolved::Default { value: None, how } => {
                    format!("is `{}`, unset {how}", expression.written)
                }
                Resolved::Unknown(_) => format!("is `{}`", expression.written),
            },
            (None, None) => "is not a literal".to_owned(),
        }
    }

    /// A value written as `expression`.
    pub fn expression(key: &str, span: HostSpan, expression: Expression) -> Self {
        Value {
            expression: Some(expression),
            ..Value::opaque(key, span)
        }
    }
}

/// A value written as an expression (Terraform `var.tokens`,
/// `lookup(metadata_options.value, "http_tokens", "required")`, an `aws` CLI input file), and
/// what can be known of it statically: the input variable it reads, a literal it falls back to,
/// and, once found, the variable's declaration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expression {
    /// As written, on one line and shortened, for messages.
    pub written: String,
    /// The input variable it reads, and the attribute of it, when that is all it reads.
    pub variable: Option<VariableRef>,
    /// A literal the expression falls back to when the variable leaves the value out
    /// (`lookup(…, "required")`, `try(…, "required")`, `coalesce(…, "required")`).
    pub fallback: Option<String>,
    /// The variable's declaration, once found (in the same file, or by the pass across files in
    /// another file of the module).
    pub declaration: Option<Variable>,
    /// Why nothing can be known of it without the plan, when the variable cannot tell (it reads
    /// `each.value`, a resource, a function of several things, a file).
    pub opaque: Option<String>,
}

/// `var.NAME` or `var.NAME.ATTRIBUTE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariableRef {
    pub name: String,
    pub attribute: Option<String>,
}

/// A Terraform `variable "NAME" { … }` as far as its default goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    pub name: String,
    pub default: VariableDefault,
    /// Defaults its type gives attributes that a caller's object leaves out:
    /// `http_tokens = optional(string, "required")`.
    pub type_defaults: Vec<(String, String)>,
    /// The declaration in its host.
    pub span: HostSpan,
    /// Where it is (`variables.tf:309`), once the check knows.
    pub at: Option<String>,
}

/// A variable's `default`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VariableDefault {
    /// No default: every caller of the module sets it.
    Absent,
    /// `default = null`.
    Null,
    /// A literal string, number or bool.
    Literal(String),
    /// An object or map: each attribute, with its value when it is a literal (`None` when it is
    /// not). An attribute set to `null` is left out, as Terraform treats it as omitted.
    Object(Vec<(String, Option<String>)>),
    /// Anything else (a list, an expression).
    Other,
}

/// What an expression comes to when the module's callers leave its variable to its default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// This value (`None`: null, the field is unset), and how, as messages say it after the
    /// value: ``by the default of `var.m` (variables.tf:309)``.
    Default { value: Option<String>, how: String },
    /// Nothing can be known without the plan, and why.
    Unknown(String),
}

impl Expression {
    /// The value when the module is used with its defaults (see [`Resolved`]).
    pub fn resolve(&self) -> Resolved {
        let Some(variable) = &self.variable else {
            let written = &self.written;
            let why = self.opaque.clone().unwrap_or_else(|| {
                format!("`{written}` is not a literal and reads no input variable")
            });
            return Resolved::Unknown(why);
        };
        let name = format!("var.{}", variable.name);
        let Some(declaration) = &self.declaration else {
            return Resolved::Unknown(format!(
                "`{name}` is not declared in the scanned files of its module"
            ));
        };
        if let Some(why) = &self.opaque {
            return Resolved::Unknown(why.clone());
        }
        let at = declaration
            .at
            .as_ref()
            .map(|at| format!(" ({at})"))
            .unwrap_or_default();
        let by_default = format!("by the default of `{name}`{at}");
        let fallback = |attribute: &str| -> Resolved {
            match &self.fallback {
                Some(value) => Resolved::Default {
                    value: Some(value.clone()),
                    how: format!(
                        "by its fallback, as the default of `{name}`{at} leaves `{attribute}` out"
                    ),
                },
                None => Resolved::Default {
                    value: None,
                    how: format!("as the default of `{name}`{at} leaves `{attribute}` out"),
                },
            }
        };
        match (&declaration.default, &variable.attribute) {
            (VariableDefault::Absent, _) => Resolved::Unknown(format!(
                "`{name}` has no default{at}: each caller of the module sets it"
            )),
            (VariableDefault::Null, _) => Resolved::Default {
                value: None,
                how: format!("as the default of `{name}`{at} is null"),
            },
            (VariableDefault::Literal(value), None) => Resolved::Default {
                value: Some(value.clone()),
                how: by_default,
            },
            (VariableDefault::Object(fields), Some(attribute)) => {
                match fields.iter().find(|(k, _)| k == attribute) {
                    Some((_, Some(value))) => Resolved::Default {
                        value: Some(value.clone()),
                        how: by_default,
                    },
                    Some((_, None)) => Resolved::Unknown(format!(
                        "the default of `{name}`{at} sets `{attribute}` to an expression"
                    )),
                    None => match declaration
                        .type_defaults
                        .iter()
                        .find(|(k, _)| k == attribute)
                    {
                        Some((_, value)) => Resolved::Default {
                            value: Some(value.clone()),
                            how: format!(
                                "by the `optional()` default of `{attribute}` in the type of `{name}`{at}"
                            ),
                        },
                        None => fallback(attribute),
                    },
                }
            }
            _ => Resolved::Unknown(format!(
                "the default of `{name}`{at} is not a literal this value can be read from"
            )),
        }
    }
}

/// Whether the instances run containers (which need a hop limit of 2 to get IMDSv2 tokens).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Containers {
    /// Yes, and why we think so (`Kubernetes nodes`, ``its user data mentions `docker` ``).
    Yes(String),
    /// Its user data is here and starts no container runtime.
    No,
    Unknown,
}

/// The user data of the resource in the same file: which fragments and decoded values hold it,
/// and what of it cannot be seen here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserData {
    /// Indices into the same [`crate::frontend::Parsed`]'s `fragments`.
    pub fragments: Vec<usize>,
    /// Indices into the same `Parsed`'s `embedded` (their fragments belong to the user data too).
    pub embedded: Vec<usize>,
    /// Indices into the same `Parsed`'s `referenced`: files the user data is read from
    /// (Terraform `file()`, `templatefile()`), checked with it when the scan reads them.
    pub files: Vec<usize>,
    /// Why the boot code of these instances is not all visible here and cannot be found in other
    /// files either (a parameter, an expression, a script for another interpreter), if it is not.
    pub unseen: Option<String>,
    /// Names of user data defined in another file of the module (Terraform `local.NAME`,
    /// `data.cloudinit_config.NAME`), for the pass across files.
    pub symbols: Vec<String>,
    /// Why the boot code is in other files that the pass across files may find (a bootstrap
    /// Secret, a `file()` reference): what stays true when that pass finds nothing.
    pub elsewhere: Option<String>,
}

/// Where a new line, key or argument can be written into a mapping or block body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub at: HostOffset,
    pub layout: Layout,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// A YAML block mapping: new `key: value` lines go at `at` (a line start), indented with
    /// `indent`; a nested mapping indents `step` more. `newline_first` when `at` is the end of a
    /// file without a final line break.
    YamlBlock {
        indent: String,
        step: String,
        eol: &'static str,
        newline_first: bool,
    },
    /// A YAML flow mapping (JSON): `separator key: value` goes at `at`, after the last pair;
    /// `quoted` when its keys are double-quoted (JSON).
    YamlFlow { separator: String, quoted: bool },
    /// An HCL block body: new lines go at `at`, the line start of its closing brace, indented with
    /// `indent`; a nested block indents `step` more; `align` is the column the body's `=` signs
    /// share, if they do.
    Hcl {
        indent: String,
        step: String,
        eol: &'static str,
        align: Option<usize>,
    },
}

/// The options block (`metadata_options { … }`, `MetadataOptions:`), when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionsBlock {
    /// Its key as written.
    pub key: String,
    /// The key, where findings about the block point.
    pub head: HostSpan,
    /// The whole block.
    pub span: HostSpan,
    /// Where a missing field can be added.
    pub slot: Option<Slot>,
}

/// What EC2 (or the tool that launches the instances) does with tokens left unset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokensDefault {
    /// EC2's own default: optional, unless the AMI (`ImdsSupport: v2.0`) or the account default
    /// requires tokens.
    Ec2,
    /// The tool sets `optional` itself (CAPA).
    Optional(&'static str),
    /// The tool sets `required` itself (eksctl).
    Required,
    /// Unset means unchanged, or taken from elsewhere (a launch template, a modify call).
    Unchanged,
}

/// What the hop limit is when left unset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HopDefault {
    /// EC2's default: 1 (2 for AMIs with `ImdsSupport: v2.0`).
    Ec2,
    /// The tool sets this value itself.
    Value(u32),
    Unchanged,
}

/// One place that declares the metadata options of some instances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataSetting {
    pub source: Source,
    /// `aws_instance`, `AWS::EC2::LaunchTemplate`, `AWSMachineTemplate`, `managedNodeGroups`,
    /// `run-instances`.
    pub kind: String,
    /// The resource's name (empty for a CLI call).
    pub name: String,
    /// The host the spans below are in.
    pub host: HostId,
    /// The whole resource.
    pub span: HostSpan,
    /// Where findings about the resource as a whole point: its header, name or kind.
    pub head: HostSpan,
    pub block: Option<OptionsBlock>,
    /// Where the options block can be added when there is none.
    pub parent: Option<Slot>,
    /// The key the options block would go under, when that is missing too (a CAPA
    /// `AWSManagedMachinePool` without `awsLaunchTemplate`).
    pub missing_parent: Option<String>,
    pub tokens: Option<Value>,
    pub hop_limit: Option<Value>,
    pub endpoint: Option<Value>,
    /// eksctl `disablePodIMDS`.
    pub pod_imds_disabled: Option<Value>,
    pub tokens_default: TokensDefault,
    pub hop_default: HopDefault,
    pub containers: Containers,
    pub user_data: UserData,
    /// The launch template whose options this resource takes where it leaves its own unset
    /// (Terraform `aws_launch_template.NAME`), when it names one.
    pub launch_template: Option<String>,
    /// How other resources of its module refer to this one when they launch instances from it
    /// (a Terraform launch template's `aws_launch_template.NAME`), when they can.
    pub launched_as: Option<String>,
}

/// What the tokens field says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tokens {
    Optional,
    Required,
    /// Not written.
    Unset,
    /// The account default `no-preference`: instances follow their AMI and launch settings.
    NoPreference,
    /// Not a literal, or a value we do not know.
    Unknown,
}

/// What the hop limit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HopLimit {
    Explicit(u32),
    /// Not written: the default applies.
    Unset(HopDefault),
    Unknown,
}

impl MetadataSetting {
    /// A setting of `source` with nothing read yet.
    pub fn new(source: Source, kind: &str, name: &str, host: HostId, span: HostSpan) -> Self {
        MetadataSetting {
            source,
            kind: kind.to_owned(),
            name: name.to_owned(),
            host,
            span,
            head: span,
            block: None,
            parent: None,
            missing_parent: None,
            tokens: None,
            hop_limit: None,
            endpoint: None,
            pod_imds_disabled: None,
            tokens_default: TokensDefault::Ec2,
            hop_default: HopDefault::Ec2,
            containers: Containers::Unknown,
            user_data: UserData::default(),
            launch_template: None,
            launched_as: None,
        }
    }

    /// Where findings and links about the setting point: its tokens value, or (unset) the
    /// resource's head.
    pub fn anchor(&self) -> HostSpan {
        self.tokens.as_ref().map_or(self.head, |v| v.span)
    }

    pub fn tokens_state(&self) -> Tokens {
        let Some(value) = &self.tokens else {
            return Tokens::Unset;
        };
        let Some(text) = &value.text else {
            return match value.expression.as_ref().map(Expression::resolve) {
                Some(Resolved::Default { value: None, .. }) => Tokens::Unset,
                Some(Resolved::Default {
                    value: Some(text), ..
                }) => self.tokens_word(&text),
                _ => Tokens::Unknown,
            };
        };
        self.tokens_word(text)
    }

    /// What a tokens value written as `text` says.
    fn tokens_word(&self, text: &str) -> Tokens {
        let text = text.trim().to_ascii_lowercase();
        if self.source == Source::Eksctl {
            // `disableIMDSv1`: true requires tokens.
            return match text.as_str() {
                "false" => Tokens::Optional,
                "true" => Tokens::Required,
                _ => Tokens::Unknown,
            };
        }
        match text.as_str() {
            "optional" => Tokens::Optional,
            "required" => Tokens::Required,
            "no-preference" => Tokens::NoPreference,
            _ => Tokens::Unknown,
        }
    }

    pub fn hop_limit_state(&self) -> HopLimit {
        match &self.hop_limit {
            None => HopLimit::Unset(self.hop_default),
            Some(value) => match value.text.as_deref().map(str::trim) {
                Some(text) => text.parse().map_or(HopLimit::Unknown, HopLimit::Explicit),
                None => HopLimit::Unknown,
            },
        }
    }

    /// Whether the metadata endpoint is turned off (`HttpEndpoint: disabled`): then no request
    /// reaches IMDS at all.
    pub fn endpoint_disabled(&self) -> bool {
        self.endpoint
            .as_ref()
            .and_then(|v| v.text.as_deref())
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("disabled"))
    }

    /// The input variables its values read whose declarations are not known yet (not in its
    /// own file): for the pass across files to find in its module.
    pub fn undeclared_variables(&self) -> Vec<String> {
        [&self.tokens, &self.hop_limit, &self.endpoint]
            .into_iter()
            .flatten()
            .filter_map(|v| v.expression.as_ref())
            .filter(|e| e.declaration.is_none())
            .filter_map(|e| e.variable.as_ref().map(|v| v.name.clone()))
            .collect()
    }

    /// Gives the values that read an input variable its declaration, when they have none yet
    /// and `find` knows it.
    pub fn declare_variables(&mut self, find: &dyn Fn(&str) -> Option<Variable>) {
        for value in [&mut self.tokens, &mut self.hop_limit, &mut self.endpoint]
            .into_iter()
            .flatten()
        {
            let Some(expression) = &mut value.expression else {
                continue;
            };
            if expression.declaration.is_some() {
                continue;
            }
            if let Some(variable) = &expression.variable {
                expression.declaration = find(&variable.name);
            }
        }
    }

    /// The resource as a message names it: `aws_instance` `web`.
    pub fn display(&self) -> String {
        if self.name.is_empty() {
            format!("`{}`", self.kind)
        } else {
            format!("`{}` `{}`", self.kind, self.name)
        }
    }
}

/// Words in user data that start (or set up) a container runtime or a container orchestrator's
/// node agent: the EKS bootstrap, ECS, Kubernetes (kubeadm, kOps's `nodeup`), container engines.
const CONTAINER_RUNTIMES: &[&str] = &[
    "/etc/eks/bootstrap.sh",
    "nodeadm",
    "ecs-init",
    "/etc/ecs/ecs.config",
    "kubelet",
    "kubeadm",
    "nodeup",
    "containerd",
    "docker",
    "podman",
];

/// The container runtime word that user data names in its code, if any (as a word of its own:
/// `docker` and `docker-compose` count, `mydocker` does not). Comments are not code: a `#` at the
/// start of a line or after a blank runs to the end of the line (a line break, or a `\n` escape
/// where the text is still a quoted string of its host), so `# see github.com/docker/…` names
/// nothing.
pub fn container_runtime(text: &[u8]) -> Option<&'static str> {
    let lower = without_comments(text).to_ascii_lowercase();
    CONTAINER_RUNTIMES.iter().copied().find(|needle| {
        memchr::memmem::find_iter(&lower, needle.as_bytes()).any(|at| {
            let before = at.checked_sub(1).and_then(|i| lower.get(i)).copied();
            needle.starts_with('/')
                || before.is_none_or(|b| !b.is_ascii_alphanumeric() && b != b'_')
        })
    })
}

/// `text` with its `#` comments (shell, YAML, cloud-config) blanked: a `#` that starts a line or
/// follows a blank, up to the line's end (`\n`, or a `\n` escape of a quoted host string).
fn without_comments(text: &[u8]) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::with_capacity(text.len());
    let mut in_comment = false;
    for (at, &b) in text.iter().enumerate() {
        let escaped_break = b == b'\\' && text.get(at + 1) == Some(&b'n');
        if in_comment && (b == b'\n' || escaped_break) {
            in_comment = false;
        }
        if !in_comment && b == b'#' {
            let line_start = match out.last() {
                None => true,
                Some(p) => p.is_ascii_whitespace() || *p == b'"' || out.ends_with(b"\\n"),
            };
            in_comment = line_start;
        }
        out.push(if in_comment { b' ' } else { b });
    }
    out
}

/// Whether user data text says anything beyond what the host substitutes (placeholders are runs
/// of `X`): a value made only of a reference is not visible here.
pub fn substantive(text: &[u8]) -> bool {
    text.iter().any(|b| !b.is_ascii_whitespace() && *b != b'X')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_runtimes_in_user_data() {
        assert_eq!(
            container_runtime(b"#!/bin/bash\n/etc/eks/bootstrap.sh demo\n"),
            Some("/etc/eks/bootstrap.sh")
        );
        assert_eq!(
            container_runtime(b"systemctl enable --now Docker\n"),
            Some("docker")
        );
        assert_eq!(
            container_runtime(b"echo ECS_CLUSTER=x >> /etc/ecs/ecs.config\n"),
            Some("/etc/ecs/ecs.config")
        );
        assert_eq!(container_runtime(b"yum install -y httpd\n"), None);
        assert_eq!(container_runtime(b"echo mydocker\n"), None);
        assert_eq!(
            container_runtime(b"./nodeup --install-systemd-unit\n"),
            Some("nodeup")
        );
    }

    #[test]
    fn container_runtimes_are_read_from_code_not_comments() {
        let kops = b"#!/bin/bash\n  # We can't run in the foreground because of https://github.com/docker/docker/issues/23793\n  ( cd /opt; ./run --v=8 )\n";
        assert_eq!(container_runtime(kops), None);
        assert_eq!(
            container_runtime(b"yum install -y httpd # not docker\n"),
            None
        );
        // A quoted host string whose line breaks are still `\n` escapes: the comment ends there.
        assert_eq!(
            container_runtime(b"\"#!/bin/sh\\n# docker later\\nyum install -y httpd\\n\""),
            None
        );
        assert_eq!(
            container_runtime(b"\"#!/bin/sh\\n# setup\\nsystemctl start docker\\n\""),
            Some("docker")
        );
        // `#` inside a word is not a comment.
        assert_eq!(container_runtime(b"echo ${#x} docker\n"), Some("docker"));
        assert_eq!(
            container_runtime(
                b"#cloud-config\nruncmd:\n  - [systemctl, start, containerd] # here\n"
            ),
            Some("containerd")
        );
    }

    #[test]
    fn tokens_and_hop_limits() {
        let span = HostSpan::new(0, 8);
        let mut setting = MetadataSetting::new(Source::Terraform, "aws_instance", "a", 0, span);
        assert_eq!(setting.tokens_state(), Tokens::Unset);
        assert_eq!(setting.hop_limit_state(), HopLimit::Unset(HopDefault::Ec2));
        setting.tokens = Some(Value::literal("http_tokens", "optional", span));
        setting.hop_limit = Some(Value::literal("h", "2", HostSpan::new(0, 1)));
        assert_eq!(setting.tokens_state(), Tokens::Optional);
        assert_eq!(setting.hop_limit_state(), HopLimit::Explicit(2));
        setting.tokens = Some(Value::opaque("http_tokens", span));
        assert_eq!(setting.tokens_state(), Tokens::Unknown);
        let mut eksctl = MetadataSetting::new(Source::Eksctl, "nodeGroups", "ng", 0, span);
        eksctl.tokens = Some(Value::literal(
            "disableIMDSv1",
            "false",
            HostSpan::new(0, 5),
        ));
        assert_eq!(eksctl.tokens_state(), Tokens::Optional);
    }

    #[test]
    fn placeholders_are_not_substance() {
        assert!(!substantive(b"XXXXXXXX\n"));
        assert!(substantive(b"#!/bin/sh\nXXXX\n"));
    }
}
