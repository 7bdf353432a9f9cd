//! The `metadata_options` of instances, launch templates, spot requests and launch
//! configurations, as instance metadata settings: each with the user data its own arguments
//! (and the named user data they use) boot it with, and whether containers run on it.

use tree_sitter::Node;

use super::definitions::{followed, Definition};
use super::user_data::ReadUserData;
use super::{children, named_children, text, top_level_blocks};
use crate::fragment::{HostId, HostSpan};
use crate::frontend::Parsed;
use crate::model::setting::{
    Containers, HopDefault, Layout, MetadataSetting, OptionsBlock, Slot, Source, TokensDefault,
    UserData, Value,
};

pub(super) const RESOURCES: &[&str] = &[
    "aws_instance",
    "aws_launch_template",
    "aws_spot_instance_request",
    "aws_launch_configuration",
];

const FOREIGN: &str =
    "its user data is not a shell script (PowerShell, another interpreter) and is not analysed";

/// Resources that run containers on the instances of the launch template they name.
pub(super) const CONTAINER_USERS: &[&str] =
    &["aws_eks_node_group", "aws_batch_compute_environment"];

/// A top-level `resource "TYPE" "NAME" { … }`: its type, name and block.
fn resources<'t>(root: Node<'t>, bytes: &[u8]) -> Vec<(String, String, Node<'t>)> {
    top_level_blocks(root, bytes)
        .into_iter()
        .filter_map(|(keyword, labels, block)| match labels.as_slice() {
            [kind, name] if keyword == "resource" => Some((kind.clone(), name.clone(), block)),
            _ => None,
        })
        .collect()
}

pub(super) fn read(
    root: Node,
    bytes: &[u8],
    host: HostId,
    user_data: &[ReadUserData],
    definitions: &[Definition],
    parsed: &mut Parsed,
) {
    let all = resources(root, bytes);
    let users: Vec<&[u8]> = all
        .iter()
        .filter(|(kind, _, _)| CONTAINER_USERS.contains(&kind.as_str()))
        .map(|(_, _, block)| text(*block, bytes))
        .collect();
    // For launch templates in other files of the module: which ones these users name.
    for (kind, _, block) in all
        .iter()
        .filter(|(kind, _, _)| CONTAINER_USERS.contains(&kind.as_str()))
    {
        for template in launch_templates_named(text(*block, bytes)) {
            let fact = crate::model::links::Fact::ContainerUser {
                template,
                user: format!("an {kind}"),
            };
            if !parsed.links.contains(&fact) {
                parsed.links.push(fact);
            }
        }
    }
    for (kind, name, block) in &all {
        if !RESOURCES.contains(&kind.as_str()) {
            continue;
        }
        let reference = format!("aws_launch_template.{name}.");
        let used_by_containers = kind == "aws_launch_template"
            && users
                .iter()
                .any(|u| memchr::memmem::find(u, reference.as_bytes()).is_some());
        let mut setting = resource(
            kind,
            name,
            *block,
            bytes,
            host,
            (user_data, definitions),
            parsed,
            used_by_containers,
        );
        if kind == "aws_launch_template" {
            setting.launched_as = Some(format!("aws_launch_template.{name}"));
        }
        parsed.settings.push(setting);
    }
}

/// The launch templates a resource's text refers to: `aws_launch_template.NAME.…`.
fn launch_templates_named(text: &[u8]) -> Vec<String> {
    const PREFIX: &[u8] = b"aws_launch_template.";
    memchr::memmem::find_iter(text, PREFIX)
        .filter_map(|at| {
            let rest = text.get(at + PREFIX.len()..)?;
            let len = rest
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
                .count();
            let name = rest.get(..len).filter(|n| !n.is_empty())?;
            (rest.get(len) == Some(&b'.'))
                .then(|| format!("aws_launch_template.{}", String::from_utf8_lossy(name)))
        })
        .collect()
}

fn body_of(block: Node) -> Option<Node> {
    named_children(block)
        .into_iter()
        .find(|n| n.kind() == "body")
}

fn identifier(node: Node, bytes: &[u8]) -> String {
    named_children(node)
        .into_iter()
        .find(|n| n.kind() == "identifier")
        .map(|i| String::from_utf8_lossy(text(i, bytes)).into_owned())
        .unwrap_or_default()
}

#[allow(clippy::too_many_arguments)]
fn resource(
    kind: &str,
    name: &str,
    block: Node,
    bytes: &[u8],
    host: HostId,
    (user_data, definitions): (&[ReadUserData], &[Definition]),
    parsed: &Parsed,
    used_by_containers: bool,
) -> MetadataSetting {
    let span = HostSpan::new(block.start_byte(), block.end_byte());
    let mut setting = MetadataSetting::new(Source::Terraform, kind, name, host, span);
    let head_end = named_children(block)
        .iter()
        .filter(|k| k.kind() == "string_lit")
        .map(|k| k.end_byte())
        .max()
        .unwrap_or(block.start_byte());
    setting.head = HostSpan::new(block.start_byte(), head_end);
    setting.parent = slot(block, bytes);
    let body = body_of(block);
    let children = body.map(named_children).unwrap_or_default();
    if let Some(template) = children
        .iter()
        .find(|c| c.kind() == "block" && identifier(**c, bytes) == "launch_template")
    {
        // Options it leaves unset come from the launch template.
        setting.tokens_default = TokensDefault::Unchanged;
        setting.hop_default = HopDefault::Unchanged;
        setting.launch_template = launch_templates_named(text(*template, bytes))
            .into_iter()
            .next();
    }
    let options = children
        .iter()
        .find(|c| c.kind() == "block" && identifier(**c, bytes) == "metadata_options");
    if let Some(options) = options {
        read_options(&mut setting, *options, bytes);
    }
    let own = own_user_data(body, bytes, (user_data, definitions), parsed);
    setting.containers = containers(used_by_containers, &own);
    let OwnUserData {
        mut found,
        elsewhere,
        hidden,
        ..
    } = own;
    found.unseen = hidden;
    found.elsewhere = (!elsewhere.is_empty()).then(|| elsewhere.join("; "));
    setting.user_data = found;
    setting
}

/// A resource's `metadata_options` block: where it is, and the settings it gives.
fn read_options(setting: &mut MetadataSetting, options: Node, bytes: &[u8]) {
    let key = named_children(options)
        .into_iter()
        .find(|n| n.kind() == "identifier");
    let head = key.map_or(
        HostSpan::new(options.start_byte(), options.start_byte()),
        |k| HostSpan::new(k.start_byte(), k.end_byte()),
    );
    setting.block = Some(OptionsBlock {
        key: "metadata_options".to_owned(),
        head,
        span: HostSpan::new(options.start_byte(), options.end_byte()),
        slot: slot(options, bytes),
    });
    for attribute in body_of(options).map(named_children).unwrap_or_default() {
        if attribute.kind() != "attribute" {
            continue;
        }
        let field = match identifier(attribute, bytes).as_str() {
            "http_tokens" => &mut setting.tokens,
            "http_put_response_hop_limit" => &mut setting.hop_limit,
            "http_endpoint" => &mut setting.endpoint,
            _ => continue,
        };
        *field = value(attribute, bytes);
    }
}

/// What a resource's own user data is made of, as far as the file shows it.
struct OwnUserData {
    /// What it boots with (fragments, decoded hosts, files, names defined elsewhere).
    found: UserData,
    /// Why some of it is in another file.
    elsewhere: Vec<String>,
    /// Its text as far as it is seen (as written, and decoded).
    seen_text: Vec<u8>,
    /// Why some of it is not visible here.
    hidden: Option<String>,
    /// Whether the resource has user data of its own at all.
    any: bool,
}

/// The resource's own `user_data`/`user_data_base64` arguments (those of `body`), with the named
/// user data they refer to: defined in this file (followed, as more reads) or not (left to the
/// pass across files).
fn own_user_data(
    body: Option<Node>,
    bytes: &[u8],
    (user_data, definitions): (&[ReadUserData], &[Definition]),
    parsed: &Parsed,
) -> OwnUserData {
    let (own, symbols) = followed(
        user_data
            .iter()
            .filter(|u| body.is_some_and(|b| u.parent == Some(b.id())))
            .collect(),
        definitions,
    );
    let mut found = UserData {
        symbols,
        ..UserData::default()
    };
    let mut elsewhere = Vec::new();
    if !found.symbols.is_empty() {
        elsewhere.push(format!(
            "its user data is {}, which is not defined in this file",
            found
                .symbols
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let mut seen_text: Vec<u8> = Vec::new();
    let mut hidden = None;
    for read in &own {
        found.fragments.extend(read.fragments.clone());
        found.embedded.extend(read.embedded.clone());
        seen_text.extend_from_slice(
            bytes
                .get(read.raw.start.0..read.raw.end.0)
                .unwrap_or_default(),
        );
        for fragment in parsed
            .fragments
            .get(read.fragments.clone())
            .unwrap_or_default()
        {
            seen_text.extend_from_slice(&fragment.text);
        }
        for embedded in parsed
            .embedded
            .get(read.embedded.clone())
            .unwrap_or_default()
        {
            match crate::fragment::gzip::decode(&embedded.bytes) {
                Some(unzipped) => seen_text.extend_from_slice(&unzipped),
                None => seen_text.extend_from_slice(&embedded.bytes),
            }
        }
        if !read.referenced.is_empty() {
            found.files.extend(read.referenced.clone());
            const FILES: &str = "its user data is read from another file (`file()`, `templatefile()`) that is not checked with it";
            if !elsewhere.iter().any(|e| e == FILES) {
                elsewhere.push(FILES.to_owned());
            }
        } else if !read.symbols.is_empty() {
            // What the names hold is read above (or left to the pass across files).
        } else if read.foreign > 0 {
            hidden = Some(FOREIGN.to_owned());
        } else if !read.literal {
            hidden = Some("its user data is an expression that is not visible here".to_owned());
        } else if read.fragments.is_empty()
            && read.embedded.is_empty()
            && !crate::model::setting::substantive(&strip_interpolations(
                bytes
                    .get(read.raw.start.0..read.raw.end.0)
                    .unwrap_or_default(),
            ))
        {
            hidden = Some("its user data is only interpolations, not visible here".to_owned());
        }
    }
    OwnUserData {
        found,
        elsewhere,
        seen_text,
        hidden,
        any: !own.is_empty(),
    }
}

/// Whether containers run on the instances: a node group or Batch environment of the file uses
/// the template, or the user data mentions a container runtime; else no when all of the user
/// data is seen, and unknown when some is not.
fn containers(used_by_containers: bool, own: &OwnUserData) -> Containers {
    if used_by_containers {
        Containers::Yes(
            "an EKS node group or AWS Batch environment in this file uses it".to_owned(),
        )
    } else if let Some(runtime) = crate::model::setting::container_runtime(&own.seen_text) {
        Containers::Yes(format!("its user data mentions `{runtime}`"))
    } else if own.any
        && own.hidden.is_none()
        && own.found.files.is_empty()
        && own.found.symbols.is_empty()
    {
        Containers::No
    } else {
        Containers::Unknown
    }
}

/// The value text of a template with `${…}` replaced by placeholders, roughly (for telling
/// whether anything literal is there).
fn strip_interpolations(raw: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(raw);
    let text = text.trim().trim_matches('"');
    crate::frontend::script::placeholders(text, "${", "}", |_| false).into_bytes()
}

/// An attribute's value: a literal string, number or bool, or an expression.
fn value(attribute: Node, bytes: &[u8]) -> Option<Value> {
    let key = identifier(attribute, bytes);
    let expression = named_children(attribute)
        .into_iter()
        .find(|n| n.kind() == "expression")?;
    let whole = HostSpan::new(expression.start_byte(), expression.end_byte());
    let literal = named_children(expression)
        .into_iter()
        .find(|n| n.kind() == "literal_value")
        .and_then(|l| named_children(l).into_iter().next());
    let Some(literal) = literal else {
        return Some(Value::opaque(&key, whole));
    };
    match literal.kind() {
        "numeric_lit" | "bool_lit" => {
            let span = HostSpan::new(literal.start_byte(), literal.end_byte());
            let value = String::from_utf8_lossy(text(literal, bytes)).into_owned();
            Some(Value::literal(&key, &value, span))
        }
        "string_lit" => {
            let parts = named_children(literal);
            match parts.as_slice() {
                [start, content, end]
                    if start.kind() == "quoted_template_start"
                        && content.kind() == "template_literal"
                        && end.kind() == "quoted_template_end" =>
                {
                    let span = HostSpan::new(content.start_byte(), content.end_byte());
                    let raw = String::from_utf8_lossy(text(*content, bytes)).into_owned();
                    let mut value = Value::literal(&key, &raw, span);
                    // An escape would decode to something else.
                    value.replaceable = !raw.contains('\\');
                    Some(value)
                }
                _ => Some(Value::opaque(&key, whole)),
            }
        }
        _ => Some(Value::opaque(&key, whole)),
    }
}

/// Where new lines go in a block's body: at the line start of its closing brace, which must
/// begin its line.
fn slot(block: Node, bytes: &[u8]) -> Option<Slot> {
    let end = named_children(block)
        .into_iter()
        .find(|n| n.kind() == "block_end")?;
    let close = end.start_byte();
    let before = bytes.get(..close)?;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    if !bytes
        .get(line_start..close)?
        .iter()
        .all(|b| matches!(b, b' ' | b'\t'))
    {
        return None;
    }
    let crlf = line_start >= 2 && bytes.get(line_start - 2) == Some(&b'\r');
    let block_indent = crate::fragment::line_indent(bytes, block.start_byte());
    let members = body_of(block).map(named_children).unwrap_or_default();
    let indent = members
        .first()
        .map(|m| crate::fragment::line_indent(bytes, m.start_byte()))
        .filter(|i| i.len() > block_indent.len())
        .unwrap_or_else(|| format!("{block_indent}  "));
    let step = indent
        .strip_prefix(block_indent.as_str())
        .filter(|s| !s.is_empty())
        .unwrap_or("  ")
        .to_owned();
    let columns: Vec<usize> = members
        .iter()
        .filter(|m| m.kind() == "attribute")
        .filter_map(|m| children(*m).into_iter().find(|c| c.kind() == "="))
        .map(|eq| {
            let at = eq.start_byte();
            at - bytes
                .get(..at)
                .unwrap_or_default()
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1)
        })
        .collect();
    let align = columns
        .first()
        .copied()
        .filter(|c| columns.iter().all(|d| d == c));
    Some(Slot {
        at: crate::fragment::HostOffset(line_start),
        layout: Layout::Hcl {
            indent,
            step,
            eol: if crlf { "\r\n" } else { "\n" },
            align,
        },
    })
}
