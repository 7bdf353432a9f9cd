//! Scripts in CI workflows and CloudFormation templates: GitHub Actions `run:` steps (bash and
//! sh), GitLab CI `before_script` + `script` (one shell) and `after_script` (another), and the
//! `UserData` of CloudFormation instances, launch templates and launch configurations
//! (`Fn::Base64`, `Fn::Sub`, `Fn::Join`, in YAML short form or JSON).

use tree_sitter::Node;

use super::kubernetes::scalar_host;
use super::script::{placeholders, ScriptBuilder};
use super::yaml::{self, Scalar};
use super::Parsed;
use crate::check::OriginEntry;
use crate::fragment::HostId;

/// A scalar with what the host substitutes (`${{ … }}`) replaced by placeholders.
fn with_placeholders(mut scalar: Scalar, open: &str, close: &str) -> Scalar {
    let replaced = placeholders(&scalar.text, open, close, |_| false);
    if replaced != scalar.text {
        scalar.text = replaced;
    }
    scalar
}

pub fn read_github(document: Node, bytes: &[u8], host: HostId, parsed: &mut Parsed) {
    let Some(jobs) = yaml::get(document, bytes, "jobs") else {
        return;
    };
    let default_shell = |node: Node| {
        yaml::get(node, bytes, "defaults")
            .and_then(|d| yaml::get(d, bytes, "run"))
            .and_then(|r| yaml::get(r, bytes, "shell"))
            .and_then(|s| yaml::scalar_string(s, bytes))
    };
    let workflow_shell = default_shell(document);
    for (_, _, job) in yaml::pairs(jobs, bytes) {
        let job_shell = default_shell(job).or_else(|| workflow_shell.clone());
        let Some(steps) = yaml::get(job, bytes, "steps") else {
            continue;
        };
        for step in yaml::items(steps, bytes) {
            let shell = yaml::get(step, bytes, "shell")
                .and_then(|s| yaml::scalar_string(s, bytes))
                .or_else(|| job_shell.clone())
                .unwrap_or_else(|| "bash".to_owned());
            let program = shell.split_whitespace().next().unwrap_or_default();
            if !matches!(program, "bash" | "sh") {
                continue;
            }
            let Some(run) = yaml::get(step, bytes, "run").and_then(|r| yaml::scalar(r, bytes))
            else {
                continue;
            };
            let mut script = ScriptBuilder::default();
            script.push_scalar(&with_placeholders(run, "${{", "}}"));
            parsed.fragments.push(script.finish(host));
        }
    }
}

pub fn read_gitlab(document: Node, bytes: &[u8], host: HostId, parsed: &mut Parsed) {
    for (name, _, job) in yaml::pairs(document, bytes) {
        if name.starts_with('.') && yaml::get(job, bytes, "script").is_none() {
            continue;
        }
        if !yaml::is_mapping(job, bytes) || yaml::get(job, bytes, "script").is_none() {
            continue;
        }
        for keys in [&["before_script", "script"][..], &["after_script"][..]] {
            let mut script = ScriptBuilder::default();
            for key in keys {
                let Some(value) = yaml::get(job, bytes, key) else {
                    continue;
                };
                let lines: Vec<Node> = if yaml::is_sequence(value, bytes) {
                    yaml::items(value, bytes)
                } else {
                    vec![value]
                };
                for line in lines {
                    if let Some(scalar) = yaml::scalar(line, bytes) {
                        if !script.is_empty() {
                            script.newline(line.start_byte());
                        }
                        script.push_scalar(&with_placeholders(scalar, "$[[", "]]"));
                    }
                }
            }
            if !script.is_empty() {
                parsed.fragments.push(script.finish(host));
            }
        }
    }
}

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

pub fn read_cloudformation(document: Node, bytes: &[u8], host: HostId, parsed: &mut Parsed) {
    let Some(resources) = yaml::get(document, bytes, "Resources") else {
        return;
    };
    for (name, _, resource) in yaml::pairs(resources, bytes) {
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
        let Some(user_data) = node else {
            continue;
        };
        let mut script = ScriptBuilder::default();
        user_data_value(user_data, bytes, &mut script, 0);
        if script.is_empty() {
            continue;
        }
        let fragment = script.finish(host);
        // User data that is cloud-config or MIME is read as such; a script as a script.
        let text = &fragment.text;
        if text.starts_with(b"#cloud-config") || super::mime::is_mime(text) {
            if let Some(scalar) = single_scalar(user_data, bytes) {
                let mut embedded = scalar_host(
                    &scalar,
                    vec![OriginEntry::layer("cloudformation").with_name(name.clone())],
                );
                embedded.kind = super::classify_content(&embedded.bytes);
                parsed.embedded.push(embedded);
            }
            continue;
        }
        parsed.fragments.push(fragment);
    }
}

/// The one string scalar under `Fn::Base64`/`Fn::Sub` wrappers, when there is one.
fn single_scalar(node: Node, bytes: &[u8]) -> Option<Scalar> {
    let (inner, _) = yaml::unwrap(node, bytes);
    if let Some(scalar) = yaml::scalar(node, bytes) {
        return Some(scalar);
    }
    let pairs = yaml::pairs(inner, bytes);
    let (key, _, value) = pairs.first()?;
    matches!(key.as_str(), "Fn::Base64" | "Fn::Sub").then(|| single_scalar(*value, bytes))?
}

/// The text of a `UserData` value: intrinsic functions unwrapped, references as placeholders.
fn user_data_value(node: Node, bytes: &[u8], script: &mut ScriptBuilder, depth: usize) {
    if depth > 8 {
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
        return apply(function, inner, bytes, script, depth);
    }
    if let Some(scalar) = yaml::scalar(inner, bytes) {
        script.push_scalar(&scalar);
        return;
    }
    let pairs = yaml::pairs(inner, bytes);
    match pairs.as_slice() {
        [(key, _, value)] if key.starts_with("Fn::") || key == "Ref" => {
            apply(key, *value, bytes, script, depth)
        }
        _ => script.push_synthetic("X", inner.start_byte()),
    }
}

fn apply(function: &str, value: Node, bytes: &[u8], script: &mut ScriptBuilder, depth: usize) {
    match function {
        "Fn::Base64" => user_data_value(value, bytes, script, depth + 1),
        "Fn::Sub" => {
            // `Fn::Sub: STRING` or `Fn::Sub: [STRING, {vars}]`.
            let string = if yaml::is_sequence(value, bytes) {
                yaml::items(value, bytes).into_iter().next()
            } else {
                Some(value)
            };
            if let Some(scalar) = string.and_then(|s| yaml::scalar(s, bytes)) {
                let (text, anchors) = substitute(&scalar);
                script.push_text(&text, &anchors, scalar.region.clone());
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
                user_data_value(part, bytes, script, depth + 1);
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
