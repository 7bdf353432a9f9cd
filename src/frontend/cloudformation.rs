//! CloudFormation templates (YAML or JSON): the `UserData` of instances, launch templates and
//! launch configurations (`Fn::Base64`, `Fn::Sub`, `Fn::Join`, in YAML short form or JSON), read
//! as a script or, in place, as the format its content says (cloud-config, MIME; see
//! `in_place`), and their `MetadataOptions`, which are instance metadata settings. The
//! `AWS::CloudFormation::Init` metadata of any resource is read too: its commands (and tests) and
//! its executable files run on the instance, and are boot code of each setting whose user data
//! calls `cfn-init` for that resource.

use tree_sitter::Node;

use super::in_place;
use super::script::ScriptBuilder;
use super::yaml::{self, Scalar};
use super::Parsed;
use crate::fragment::{HostId, HostSpan, Quoting};
use crate::model::setting::{
    Containers, HopDefault, MetadataSetting, OptionsBlock, Source, TokensDefault, UserData,
};
use crate::model::{Note, OriginEntry};

const USER_DATA_RESOURCES: &[(&str, &[&str])] = &[
    ("AWS::EC2::Instance", &["Properties", "UserData"]),
    (
        "AWS::AutoScaling::LaunchConfiguration",
        &["Properties", "UserData"],
    ),
    (
        "AWS::EC2::LaunchTemplate",
        &["Properties", "LaunchTemplateData", "UserData"],
    ),
];

/// A CloudFormation template: each instance, launch template and launch configuration with
/// its `UserData` read and its `MetadataOptions` as an instance metadata setting.
pub fn read(document: Node, bytes: &[u8], host: HostId, parsed: &mut Parsed) {
    let Some(resources) = yaml::get(document, bytes, "Resources") else {
        return;
    };
    let users = container_launch_template_users(resources, bytes);
    // What cfn-init runs on the instances, by the resource whose metadata holds it.
    let init: Vec<(String, Vec<usize>)> = yaml::pairs(resources, bytes)
        .into_iter()
        .map(|(name, _, resource)| {
            let fragments = parsed.fragments.len();
            cfn_init(resource, bytes, host, &name, parsed);
            (
                name,
                (fragments..parsed.fragments.len()).collect::<Vec<usize>>(),
            )
        })
        .filter(|(_, fragments)| !fragments.is_empty())
        .collect();
    for (name, _, resource) in yaml::pairs(resources, bytes) {
        provisioning(&name, resource, bytes, host, parsed);
    }
    for (name, key, resource) in yaml::pairs(resources, bytes) {
        let kind = yaml::get(resource, bytes, "Type")
            .and_then(|t| yaml::scalar_string(t, bytes))
            .unwrap_or_default();
        let Some((_, path)) = USER_DATA_RESOURCES.iter().find(|(t, _)| *t == kind) else {
            continue;
        };
        let mut node = Some(resource);
        for key in *path {
            node = node.and_then(|n| yaml::get(n, bytes, key));
        }
        let (mut user_data, text) = match node {
            Some(value) => read_user_data(value, bytes, host, &name, "UserData", parsed),
            None => (UserData::default(), None),
        };
        // The cfn-init its user data calls runs at boot too.
        if let Some(text) = &text {
            for called in cfn_init_resources(text, &name) {
                if let Some((_, fragments)) = init.iter().find(|(n, _)| *n == called) {
                    user_data.fragments.extend(fragments);
                }
            }
        }
        let used_by_containers = users.iter().any(|text| names(text, &name));
        let resource = Resource {
            name: &name,
            kind: &kind,
            key,
            node: resource,
        };
        parsed.settings.push(cloudformation_setting(
            &resource,
            bytes,
            host,
            user_data,
            text,
            used_by_containers,
        ));
    }
}

/// The code of image build and run-command resources: an Image Builder component's `Data` (a
/// component document in a string, read as a host of its own), an SSM document's `Content` (an
/// object, or a string holding JSON or YAML), and the `UserDataOverride` of an Image Builder
/// recipe (user data of the build instance, base64: `Fn::Base64` or a literal).
fn provisioning(name: &str, resource: Node, bytes: &[u8], host: HostId, parsed: &mut Parsed) {
    let kind = yaml::get(resource, bytes, "Type")
        .and_then(|t| yaml::scalar_string(t, bytes))
        .unwrap_or_default();
    let property =
        |key: &str| yaml::get(resource, bytes, "Properties").and_then(|p| yaml::get(p, bytes, key));
    match kind.as_str() {
        "AWS::ImageBuilder::Component" => {
            if let Some(data) = property("Data") {
                document_string(name, "Data", data, bytes, parsed);
            }
        }
        "AWS::SSM::Document" => {
            let Some(content) = property("Content") else {
                return;
            };
            if yaml::is_mapping(content, bytes) {
                if super::ssm::is_document(content, bytes) {
                    parsed.place(content, "cloudformation", name, "Content");
                    super::ssm::read(content, bytes, host, parsed);
                }
            } else {
                document_string(name, "Content", content, bytes, parsed);
            }
        }
        "AWS::ImageBuilder::ImageRecipe" => {
            let Some(value) = property("AdditionalInstanceConfiguration")
                .and_then(|c| yaml::get(c, bytes, "UserDataOverride"))
            else {
                return;
            };
            match literal_base64(value, bytes, name, "UserDataOverride", parsed) {
                Literal::Decoded(_) => {}
                Literal::NotBase64 => parsed.diagnostics.push(Note::partly_analysed(format!(
                    "the `UserDataOverride` of {name} is not base64; it was not read"
                ))),
                Literal::Other => {
                    read_user_data(value, bytes, host, name, "UserDataOverride", parsed);
                }
            }
        }
        _ => {}
    }
}

/// What a user data value written as one literal string is.
enum Literal {
    /// Base64 (the instance gets what it decodes to), read as a host of its own; its text.
    Decoded(Vec<u8>),
    /// A literal that does not decode as base64, or decodes to nothing user data can be.
    NotBase64,
    /// Not one literal string: intrinsic functions, a reference, a mapping.
    Other,
}

/// A user data value given as literal base64, as CloudFormation passes it to EC2 (`UserData`
/// without `Fn::Base64`, an Image Builder `UserDataOverride`): what it decodes to is read as a
/// host of its own when it is a script, cloud-config, MIME or gzip, with the origin
/// `cloudformation` (the resource and `key`).
fn literal_base64(
    value: Node,
    bytes: &[u8],
    name: &str,
    key: &str,
    parsed: &mut Parsed,
) -> Literal {
    let (inner, tag) = yaml::unwrap(value, bytes);
    if tag.is_some() || !yaml::pairs(inner, bytes).is_empty() {
        return Literal::Other;
    }
    let Some(scalar) = yaml::scalar(inner, bytes) else {
        return Literal::Other;
    };
    let Some((decoded, codec)) = crate::fragment::base64::decode(scalar.text.trim().as_bytes())
    else {
        return Literal::NotBase64;
    };
    let Some(kind) = super::classify_content(&decoded) else {
        return Literal::NotBase64;
    };
    parsed.embedded.push(super::Embedded {
        span: super::cloud_init::content_span(&scalar),
        kind: Some(kind),
        bytes: decoded.clone(),
        codec: super::cloud_init::block_aware(codec, &scalar),
        map: None,
        origin: vec![OriginEntry::layer("cloudformation")
            .with_name(name)
            .with_key(key)],
    });
    Literal::Decoded(decoded)
}

/// A document (Image Builder component, SSM document) written as a string in a template: read as
/// a YAML or JSON host of its own. A string built by intrinsic functions gets a note.
fn document_string(name: &str, key: &str, value: Node, bytes: &[u8], parsed: &mut Parsed) {
    match yaml::scalar(value, bytes).filter(|s| s.tag.is_none()) {
        Some(scalar) => {
            let mut embedded = super::kubernetes::scalar_host(
                &scalar,
                vec![OriginEntry::layer("cloudformation")
                    .with_name(name)
                    .with_key(key)],
            );
            embedded.kind = Some(super::Kind::Manifest);
            parsed.embedded.push(embedded);
        }
        None => parsed.diagnostics.push(Note::partly_analysed(format!(
            "the `{key}` of {name} is built by intrinsic functions; it was not read"
        ))),
    }
}

/// Reads a `UserData` value into fragments (a script) or a host (cloud-config, MIME); returns
/// which, and the text as the instance gets it (references as placeholders).
fn read_user_data(
    user_data: Node,
    bytes: &[u8],
    host: HostId,
    name: &str,
    key: &str,
    parsed: &mut Parsed,
) -> (UserData, Option<Vec<u8>>) {
    let mut found = UserData::default();
    // Literal base64: what the instance gets is what it decodes to. A literal that is not base64
    // is read as the script it looks like (EC2 refuses it, but what it says is what was meant).
    let embedded = parsed.embedded.len();
    if let Literal::Decoded(decoded) = literal_base64(user_data, bytes, name, key, parsed) {
        found.embedded.push(embedded);
        return (found, Some(decoded));
    }
    // Read in place: the findings inside name the resource and the property (a value decoded
    // from inside it, a host of its own, names them through this too).
    parsed.place(user_data, "cloudformation", name, key);
    let mut script = ScriptBuilder::default();
    let mut too_deep = false;
    user_data_value(user_data, bytes, &mut script, 0, &mut too_deep);
    if too_deep {
        parsed.diagnostics.push(Note::partly_analysed(format!(
            "the `UserData` of {name} nests intrinsic functions more than {MAX_FUNCTIONS} deep; the innermost were not read"
        )));
    }
    if script.is_empty() {
        return (found, None);
    }
    let fragment = script.finish(host);
    let text = fragment.text.clone();
    // User data that is cloud-config or MIME is read as such, in place: its pieces keep their
    // own quoting (`Fn::Sub`'s `${!`, a JSON string's escapes); a script as a script.
    if let Some(kind) = super::user_data_kind(&text).filter(|k| *k != super::Kind::Gzip) {
        let outer = in_place::Outer {
            host,
            map: &fragment.map,
            regions: &fragment.insert,
        };
        let fragments = parsed.fragments.len();
        let embedded = parsed.embedded.len();
        in_place::read(kind, &text, &outer, &[], parsed);
        found.fragments.extend(fragments..parsed.fragments.len());
        found.embedded.extend(embedded..parsed.embedded.len());
        return (found, Some(text));
    }
    found.fragments.push(parsed.fragments.len());
    parsed.fragments.push(fragment);
    (found, Some(text))
}

/// The resources whose `AWS::CloudFormation::Init` metadata user data runs with `cfn-init`
/// (`--resource NAME`, `-r NAME`); its own when it names none it can be read (a reference).
fn cfn_init_resources(text: &[u8], own: &str) -> Vec<String> {
    let text = String::from_utf8_lossy(text);
    let mut out = Vec::new();
    let mut calls = false;
    for line in text.lines() {
        let Some(at) = line.find("cfn-init") else {
            continue;
        };
        calls = true;
        let mut words = line.get(at..).unwrap_or_default().split_whitespace();
        while let Some(word) = words.next() {
            let name = match word.strip_prefix("--resource=") {
                Some(name) => Some(name.to_owned()),
                None if matches!(word, "--resource" | "-r") => words.next().map(str::to_owned),
                None => None,
            };
            if let Some(name) = name {
                let name = name.trim_matches(|c| c == '"' || c == '\'');
                if !name.is_empty() && !out.iter().any(|n| n == name) {
                    out.push(name.to_owned());
                }
            }
        }
    }
    if calls && out.is_empty() {
        out.push(own.to_owned());
    }
    out
}

/// The commands and executable files of a resource's `AWS::CloudFormation::Init` metadata, each
/// a fragment: cfn-init runs a string command (and a `test`) with the shell, a list as an argv
/// (`[sh, -c, SCRIPT]` runs SCRIPT with the shell), and files whose mode lets them run (or,
/// without a `mode`, put in a `bin/` directory or named `.sh`) are scripts something runs.
fn cfn_init(resource: Node, bytes: &[u8], host: HostId, name: &str, parsed: &mut Parsed) {
    let Some(init) = yaml::get(resource, bytes, "Metadata")
        .and_then(|m| yaml::get(m, bytes, "AWS::CloudFormation::Init"))
    else {
        return;
    };
    for (config, _, body) in yaml::pairs(init, bytes) {
        if config == "configSets" {
            continue;
        }
        if let Some(commands) = yaml::get(body, bytes, "commands") {
            for (command_name, _, command) in yaml::pairs(commands, bytes) {
                for key in ["command", "test"] {
                    if let Some(value) = yaml::get(command, bytes, key) {
                        parsed.place(
                            value,
                            "cfn-init",
                            name,
                            &format!("{config}.commands.{command_name}.{key}"),
                        );
                        init_command(value, bytes, host, name, parsed);
                    }
                }
            }
        }
        if let Some(files) = yaml::get(body, bytes, "files") {
            for (path, _, file) in yaml::pairs(files, bytes) {
                let mode = yaml::get(file, bytes, "mode")
                    .and_then(|m| yaml::scalar_string(m, bytes))
                    .unwrap_or_default();
                let encoded = yaml::get(file, bytes, "encoding")
                    .and_then(|e| yaml::scalar_string(e, bytes))
                    .is_some_and(|e| e.eq_ignore_ascii_case("base64"));
                let Some(content) = yaml::get(file, bytes, "content") else {
                    continue;
                };
                // Without a `mode` (cfn-init writes 000644), a file put in a `bin/` directory
                // or named `.sh` is still a script something runs (`sh FILE`).
                let runnable = if mode.is_empty() {
                    path.contains("/bin/") || path.starts_with("bin/") || path.ends_with(".sh")
                } else {
                    executable(&mode)
                };
                if !runnable || (yaml::is_mapping(content, bytes) && !is_function(content, bytes)) {
                    continue;
                }
                if encoded {
                    parsed.diagnostics.push(Note::partly_analysed(format!(
                        "the cfn-init file {path} of {name} is base64-encoded; it was not read"
                    )));
                    continue;
                }
                parsed.place(
                    content,
                    "cfn-init",
                    name,
                    &format!("{config}.files.{path}.content"),
                );
                let mut script = ScriptBuilder::default();
                let mut too_deep = false;
                user_data_value(content, bytes, &mut script, 0, &mut too_deep);
                if too_deep {
                    parsed.diagnostics.push(Note::partly_analysed(format!(
                        "the cfn-init file {path} of {name} nests intrinsic functions more than {MAX_FUNCTIONS} deep; the innermost were not read"
                    )));
                }
                if script.is_empty() {
                    continue;
                }
                let fragment = script.finish(host);
                if super::is_foreign(&fragment.text) {
                    continue;
                }
                parsed.fragments.push(fragment);
            }
        }
    }
}

/// A cfn-init command: a string for the shell, or an argv list.
fn init_command(value: Node, bytes: &[u8], host: HostId, name: &str, parsed: &mut Parsed) {
    let mut script = ScriptBuilder::default();
    let mut too_deep = false;
    let (inner, tag) = yaml::unwrap(value, bytes);
    if tag.is_none() && yaml::is_sequence(inner, bytes) {
        let items = yaml::items(inner, bytes);
        let words: Vec<Option<Scalar>> = items.iter().map(|i| yaml::scalar(*i, bytes)).collect();
        let word = |i: usize| {
            words
                .get(i)
                .and_then(|w| w.as_ref())
                .map(|w| w.text.as_str())
        };
        let program = word(0).map(|w| w.rsplit('/').next().unwrap_or(w));
        let shell = program.is_some_and(crate::fragment::language::is_shell_name);
        if shell && word(1) == Some("-c") {
            if let Some(script_item) = items.get(2) {
                user_data_value(*script_item, bytes, &mut script, 0, &mut too_deep);
            }
        } else {
            for (i, (item, word)) in items.iter().zip(&words).enumerate() {
                if i > 0 {
                    script.push_synthetic(" ", item.start_byte());
                }
                match word {
                    Some(word) => script.push_argv(std::slice::from_ref(word)),
                    None => script.push_synthetic("X", item.start_byte()),
                }
            }
        }
    } else {
        user_data_value(value, bytes, &mut script, 0, &mut too_deep);
    }
    if too_deep {
        parsed.diagnostics.push(Note::partly_analysed(format!(
            "a cfn-init command of {name} nests intrinsic functions more than {MAX_FUNCTIONS} deep; the innermost were not read"
        )));
    }
    if !script.is_empty() {
        parsed.fragments.push(script.finish(host));
    }
}

/// Whether a cfn-init file `mode` (octal, `000755`) lets someone run it.
fn executable(mode: &str) -> bool {
    let digits: Vec<u32> = mode.chars().filter_map(|c| c.to_digit(8)).collect();
    digits.len() == mode.trim().len() && digits.iter().rev().take(3).any(|d| d & 1 == 1)
}

/// Whether a mapping is an intrinsic function (`Fn::Join`, `Fn::Sub`, `Ref`), not JSON content.
fn is_function(node: Node, bytes: &[u8]) -> bool {
    let (inner, tag) = yaml::unwrap(node, bytes);
    tag.is_some()
        || matches!(yaml::pairs(inner, bytes).as_slice(),
            [(key, _, _)] if key.starts_with("Fn::") || key == "Ref")
}

/// A resource of a template, as the settings reader sees it.
struct Resource<'a, 't> {
    name: &'a str,
    kind: &'a str,
    /// Its logical ID, as a node.
    key: Node<'t>,
    node: Node<'t>,
}

/// The `MetadataOptions` of an instance, launch template or launch configuration.
fn cloudformation_setting(
    resource: &Resource,
    bytes: &[u8],
    host: HostId,
    mut user_data: UserData,
    text: Option<Vec<u8>>,
    used_by_containers: bool,
) -> MetadataSetting {
    let span = HostSpan::new(resource.key.start_byte(), resource.node.end_byte());
    let mut setting = MetadataSetting::new(
        Source::CloudFormation,
        resource.kind,
        resource.name,
        host,
        span,
    );
    setting.head = HostSpan::new(resource.key.start_byte(), resource.key.end_byte());
    let properties = yaml::get(resource.node, bytes, "Properties");
    let parent = if resource.kind == "AWS::EC2::LaunchTemplate" {
        properties.and_then(|p| yaml::get(p, bytes, "LaunchTemplateData"))
    } else {
        properties
    };
    if resource.kind == "AWS::EC2::Instance"
        && properties.is_some_and(|p| yaml::get(p, bytes, "LaunchTemplate").is_some())
    {
        // An instance launched from a template takes what it leaves unset from the template.
        setting.tokens_default = TokensDefault::Unchanged;
        setting.hop_default = HopDefault::Unchanged;
    }
    if let Some(parent) = parent {
        if let (Some(key), Some(block)) = (
            yaml::key_node(parent, bytes, "MetadataOptions"),
            yaml::get(parent, bytes, "MetadataOptions"),
        ) {
            setting.block = Some(OptionsBlock {
                key: "MetadataOptions".to_owned(),
                head: HostSpan::new(key.start_byte(), key.end_byte()),
                span: HostSpan::new(key.start_byte(), block.end_byte()),
                slot: yaml::mapping_slot(block, bytes),
            });
            setting.tokens = yaml::setting_value(block, bytes, "HttpTokens");
            setting.hop_limit = yaml::setting_value(block, bytes, "HttpPutResponseHopLimit");
            setting.endpoint = yaml::setting_value(block, bytes, "HttpEndpoint");
        }
        setting.parent = yaml::mapping_slot(parent, bytes);
    }
    let visible = text
        .as_deref()
        .is_some_and(crate::model::setting::substantive);
    if text.is_some() && !visible {
        user_data.unseen = Some(
            "its UserData is a reference (a parameter or an import) that is not visible here"
                .to_owned(),
        );
    } else if text.as_deref().is_some_and(super::is_foreign) {
        user_data.unseen = Some(
            "its user data is not a shell script (PowerShell, another interpreter) and is not analysed"
                .to_owned(),
        );
    }
    setting.containers = if used_by_containers {
        Containers::Yes(
            "an EKS node group or AWS Batch environment in this template uses it".to_owned(),
        )
    } else if let Some(runtime) = text
        .as_deref()
        .and_then(crate::model::setting::container_runtime)
    {
        Containers::Yes(format!("its user data mentions `{runtime}`"))
    } else if visible {
        Containers::No
    } else {
        Containers::Unknown
    };
    setting.user_data = user_data;
    setting
}

/// The raw text of the `LaunchTemplate` of each resource that runs containers on the instances a
/// launch template makes (`AWS::EKS::Nodegroup`, `AWS::Batch::ComputeEnvironment`).
fn container_launch_template_users(resources: Node, bytes: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    for (_, _, resource) in yaml::pairs(resources, bytes) {
        let kind = yaml::get(resource, bytes, "Type")
            .and_then(|t| yaml::scalar_string(t, bytes))
            .unwrap_or_default();
        let properties = yaml::get(resource, bytes, "Properties");
        let template = match kind.as_str() {
            "AWS::EKS::Nodegroup" => properties.and_then(|p| yaml::get(p, bytes, "LaunchTemplate")),
            "AWS::Batch::ComputeEnvironment" => properties
                .and_then(|p| yaml::get(p, bytes, "ComputeResources"))
                .and_then(|c| yaml::get(c, bytes, "LaunchTemplate")),
            _ => None,
        };
        if let Some(template) = template {
            out.push(String::from_utf8_lossy(yaml::text(template, bytes)).into_owned());
        }
    }
    out
}

/// Whether `text` names the logical ID `name` as a whole word.
fn names(text: &str, name: &str) -> bool {
    !name.is_empty()
        && text.match_indices(name).any(|(at, _)| {
            let before = text.get(..at).and_then(|t| t.chars().last());
            let after = text.get(at + name.len()..).and_then(|t| t.chars().next());
            !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
        })
}

/// How deep intrinsic functions may nest in a `UserData` value.
const MAX_FUNCTIONS: usize = 8;

/// The text of a `UserData` value: intrinsic functions unwrapped, references as placeholders.
fn user_data_value(
    node: Node,
    bytes: &[u8],
    script: &mut ScriptBuilder,
    depth: usize,
    too_deep: &mut bool,
) {
    if depth > MAX_FUNCTIONS {
        *too_deep = true;
        return;
    }
    let (inner, tag) = yaml::unwrap(node, bytes);
    let tag = tag.unwrap_or_default();
    // Short forms: `!Base64 X`, `!Sub X`, `!Join [d, [parts]]`, `!Ref X`.
    let function = match tag.as_str() {
        "!Base64" => Some("Fn::Base64"),
        "!Sub" => Some("Fn::Sub"),
        "!Join" => Some("Fn::Join"),
        "" => None,
        _ => Some("reference"),
    };
    if let Some(function) = function {
        return apply(function, inner, bytes, script, depth, too_deep);
    }
    if let Some(scalar) = yaml::scalar(inner, bytes) {
        script.push_scalar(&scalar);
        return;
    }
    let pairs = yaml::pairs(inner, bytes);
    match pairs.as_slice() {
        [(key, _, value)] if key.starts_with("Fn::") || key == "Ref" => {
            apply(key, *value, bytes, script, depth, too_deep)
        }
        _ => script.push_synthetic("X", inner.start_byte()),
    }
}

fn apply(
    function: &str,
    value: Node,
    bytes: &[u8],
    script: &mut ScriptBuilder,
    depth: usize,
    too_deep: &mut bool,
) {
    match function {
        "Fn::Base64" => user_data_value(value, bytes, script, depth + 1, too_deep),
        "Fn::Sub" => {
            // `Fn::Sub: STRING` or `Fn::Sub: [STRING, {vars}]`.
            let string = if yaml::is_sequence(value, bytes) {
                yaml::items(value, bytes).into_iter().next()
            } else {
                Some(value)
            };
            if let Some(scalar) = string.and_then(|s| yaml::scalar(s, bytes)) {
                let (text, anchors) = substitute(&scalar);
                let mut region = scalar.region.clone();
                if let Some(quoting) = &mut region.quoting {
                    quoting.push(Quoting::CloudFormationSub);
                }
                script.push_text(&text, &anchors, region);
            }
        }
        "Fn::Join" => {
            let items = yaml::items(value, bytes);
            let delimiter = items
                .first()
                .and_then(|d| yaml::scalar_string(*d, bytes))
                .unwrap_or_default();
            let Some(parts) = items.get(1) else {
                return;
            };
            for (i, part) in yaml::items(*parts, bytes).into_iter().enumerate() {
                if i > 0 && !delimiter.is_empty() {
                    script.push_synthetic(&delimiter, part.start_byte());
                }
                user_data_value(part, bytes, script, depth + 1, too_deep);
            }
        }
        _ => script.push_synthetic("X", value.start_byte()),
    }
}

/// `Fn::Sub`'s string: `${Name}` references become same-length placeholders, `${!Literal}` the
/// literal `${Literal}` the shell sees (one byte shorter: its anchors shift).
fn substitute(scalar: &Scalar) -> (String, Vec<(usize, usize)>) {
    let text = &scalar.text;
    let mut out = String::with_capacity(text.len());
    // Offsets of the scalar's text whose `!` is dropped.
    let mut dropped: Vec<usize> = Vec::new();
    let mut at = 0;
    while let Some(found) = text.get(at..).and_then(|r| r.find("${")) {
        let start = at + found;
        out.push_str(text.get(at..start).unwrap_or_default());
        let Some(close) = text.get(start..).and_then(|r| r.find('}')) else {
            at = start;
            break;
        };
        let end = start + close + 1;
        let inner = text.get(start + 2..end - 1).unwrap_or_default();
        if let Some(literal) = inner.strip_prefix('!') {
            dropped.push(start + 2);
            out.push_str("${");
            out.push_str(literal);
            out.push('}');
        } else {
            out.push_str(&"X".repeat(end - start));
        }
        at = end;
    }
    out.push_str(text.get(at..).unwrap_or_default());
    let shift = |f: usize| f - dropped.iter().filter(|&&d| d < f).count();
    let mut anchors: Vec<(usize, usize)> =
        scalar.anchors.iter().map(|&(f, h)| (shift(f), h)).collect();
    let map = crate::fragment::OffsetMap::from_anchors(scalar.anchors.iter().copied());
    for &d in &dropped {
        anchors.push((
            shift(d),
            map.to_host(crate::fragment::FragmentOffset(d + 1)).0,
        ));
    }
    anchors.sort_unstable();
    (out, anchors)
}

#[cfg(test)]
mod tests {
    #[test]
    fn user_data_past_the_function_limit_gets_a_note() {
        let template = |depth: usize| {
            let mut value =
                "\"#!/bin/sh\\ncurl http://169.254.169.254/latest/meta-data/\"".to_owned();
            for _ in 0..depth {
                value = format!("{{\"Fn::Join\": [\"\", [{value}]]}}");
            }
            format!(
                "{{\"Resources\": {{\"I\": {{\"Type\": \"AWS::EC2::Instance\", \"Properties\": {{\"UserData\": {{\"Fn::Base64\": {value}}}}}}}}}}}"
            )
        };
        let within = super::super::manifests::parse(template(7).as_bytes(), 0);
        assert_eq!(
            (within.fragments.len(), within.diagnostics),
            (1, Vec::<crate::model::Note>::new())
        );
        let past = super::super::manifests::parse(template(8).as_bytes(), 0);
        assert_eq!(
            past.diagnostics,
            [crate::model::Note::partly_analysed("the `UserData` of I nests intrinsic functions more than 8 deep; the innermost were not read")]
        );
    }
}
