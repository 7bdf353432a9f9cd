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
    Containers, Expression, HopDefault, Layout, MetadataSetting, OptionsBlock, Slot, Source,
    TokensDefault, UserData, Value, Variable, VariableDefault, VariableRef,
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
    let variables = variables(root, bytes);
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
            (Source::Terraform, kind, name),
            *block,
            bytes,
            host,
            (user_data, definitions, &variables),
            parsed,
            used_by_containers,
        );
        if kind == "aws_launch_template" {
            setting.launched_as = Some(format!("aws_launch_template.{name}"));
        }
        parsed.settings.push(setting);
    }
    module_inputs(root, bytes, host, &variables, parsed);
    parsed.variables = variables;
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

/// Packer sources that launch an instance to build on (`amazon-chroot` launches none).
const PACKER_SOURCES: &[&str] = &[
    "amazon-ebs",
    "amazon-instance",
    "amazon-ebssurrogate",
    "amazon-ebsvolume",
];

/// The `source "amazon-…" "NAME"` blocks of a Packer template, read as Terraform resources are:
/// their `metadata_options` block is the build instance's settings, their `user_data` its boot
/// code (the provisioners that run there are added by `packer_hcl`).
pub(super) fn packer_sources(
    root: Node,
    bytes: &[u8],
    host: HostId,
    user_data: &[ReadUserData],
    definitions: &[Definition],
    parsed: &mut Parsed,
) {
    let variables = variables(root, bytes);
    for (keyword, labels, block) in top_level_blocks(root, bytes) {
        let [kind, name] = labels.as_slice() else {
            continue;
        };
        if keyword != "source" || !PACKER_SOURCES.contains(&kind.as_str()) {
            continue;
        }
        let setting = resource(
            (Source::Packer, kind, name),
            block,
            bytes,
            host,
            (user_data, definitions, &variables),
            parsed,
            false,
        );
        parsed.settings.push(setting);
    }
}

fn resource(
    (source, kind, name): (Source, &str, &str),
    block: Node,
    bytes: &[u8],
    host: HostId,
    (user_data, definitions, variables): (&[ReadUserData], &[Definition], &[Variable]),
    parsed: &Parsed,
    used_by_containers: bool,
) -> MetadataSetting {
    let span = HostSpan::new(block.start_byte(), block.end_byte());
    let mut setting = MetadataSetting::new(source, kind, name, host, span);
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
    // The first `metadata_options` block, or a `dynamic "metadata_options"` block: either way
    // the resource has one, and no fix adds another.
    let options = children.iter().find(|c| {
        c.kind() == "block"
            && (identifier(**c, bytes) == "metadata_options"
                || (identifier(**c, bytes) == "dynamic"
                    && labels(**c, bytes).first().map(String::as_str) == Some("metadata_options")))
    });
    if let Some(options) = options {
        read_options(&mut setting, *options, bytes, variables);
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

/// The labels of a block, unquoted.
fn labels(block: Node, bytes: &[u8]) -> Vec<String> {
    named_children(block)
        .into_iter()
        .filter(|k| k.kind() == "string_lit")
        .map(|k| {
            String::from_utf8_lossy(text(k, bytes))
                .trim_matches('"')
                .to_owned()
        })
        .collect()
}

/// What names an expression of an options block can use: the `dynamic` block's iterator (and the
/// input variable its `for_each` holds, when that is all it holds), and the file's variables.
struct Names<'a> {
    iterator: Option<(String, Option<String>)>,
    variables: &'a [Variable],
}

/// A resource's `metadata_options` block, or its `dynamic "metadata_options"` block (whose
/// `content` gives the settings): where it is, and the settings it gives.
fn read_options(
    setting: &mut MetadataSetting,
    options: Node,
    bytes: &[u8],
    variables: &[Variable],
) {
    let key = named_children(options)
        .into_iter()
        .find(|n| n.kind() == "identifier");
    let head = key.map_or(
        HostSpan::new(options.start_byte(), options.start_byte()),
        |k| HostSpan::new(k.start_byte(), k.end_byte()),
    );
    let dynamic = key.is_some_and(|k| text(k, bytes) == b"dynamic");
    let mut names = Names {
        iterator: None,
        variables,
    };
    // The block whose body holds the fields: the block itself, or its `content`.
    let mut fields = Some(options);
    if dynamic {
        let members = body_of(options).map(named_children).unwrap_or_default();
        let attribute = |name: &str| {
            members
                .iter()
                .find(|m| m.kind() == "attribute" && identifier(**m, bytes) == name)
                .copied()
        };
        let iterator = attribute("iterator")
            .and_then(|a| {
                named_children(a)
                    .into_iter()
                    .find(|n| n.kind() == "expression")
            })
            .map(|e| String::from_utf8_lossy(text(e, bytes)).trim().to_owned())
            .unwrap_or_else(|| "metadata_options".to_owned());
        let source = attribute("for_each")
            .and_then(|a| {
                named_children(a)
                    .into_iter()
                    .find(|n| n.kind() == "expression")
            })
            .and_then(|e| for_each_variable(e, bytes));
        names.iterator = Some((iterator, source));
        fields = members
            .iter()
            .find(|m| m.kind() == "block" && identifier(**m, bytes) == "content")
            .copied();
    }
    setting.block = Some(OptionsBlock {
        key: if dynamic {
            "dynamic \"metadata_options\"".to_owned()
        } else {
            "metadata_options".to_owned()
        },
        head,
        span: HostSpan::new(options.start_byte(), options.end_byte()),
        // A field is added to the `content` of a dynamic block; none where it has no `content`.
        slot: fields.and_then(|f| slot(f, bytes)),
    });
    let Some(fields) = fields else {
        return;
    };
    for attribute in body_of(fields).map(named_children).unwrap_or_default() {
        if attribute.kind() != "attribute" {
            continue;
        }
        let field = match identifier(attribute, bytes).as_str() {
            "http_tokens" => &mut setting.tokens,
            "http_put_response_hop_limit" => &mut setting.hop_limit,
            "http_endpoint" => &mut setting.endpoint,
            _ => continue,
        };
        *field = value(attribute, bytes, &names);
    }
}

/// The input variable a `dynamic` block's `for_each` makes one block of, when that is all it does:
/// `[var.NAME]`, `var.NAME != null ? [var.NAME] : []`, `var.NAME == null ? [] : [var.NAME]`.
fn for_each_variable(expression: Node, bytes: &[u8]) -> Option<String> {
    let inner = named_children(expression);
    match inner.as_slice() {
        [collection] if collection.kind() == "collection_value" => {
            let tuple = named_children(*collection)
                .into_iter()
                .find(|n| n.kind() == "tuple")?;
            let elements: Vec<Node> = named_children(tuple)
                .into_iter()
                .filter(|n| n.kind() == "expression")
                .collect();
            match elements.as_slice() {
                [one] => match path(*one, bytes)?.as_slice() {
                    [root, name] if root == "var" => Some(name.clone()),
                    _ => None,
                },
                _ => None,
            }
        }
        [conditional] if conditional.kind() == "conditional" => {
            let parts: Vec<Node> = named_children(*conditional)
                .into_iter()
                .filter(|n| n.kind() == "expression")
                .collect();
            let [_, yes, no] = parts.as_slice() else {
                return None;
            };
            let empty = |e: &Node| {
                String::from_utf8_lossy(text(*e, bytes))
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect::<String>()
                    == "[]"
            };
            match (empty(yes), empty(no)) {
                (true, false) => for_each_variable(*no, bytes),
                (false, true) => for_each_variable(*yes, bytes),
                _ => None,
            }
        }
        _ => None,
    }
}

/// An expression that is only a name and attributes (`var.m.http_tokens`,
/// `metadata_options.value.http_tokens`, `var.m["http_tokens"]`): its parts.
fn path(expression: Node, bytes: &[u8]) -> Option<Vec<String>> {
    let kids = named_children(expression);
    let (first, rest) = kids.split_first()?;
    if first.kind() != "variable_expr" {
        return None;
    }
    let mut out = vec![String::from_utf8_lossy(text(*first, bytes)).into_owned()];
    for part in rest {
        match part.kind() {
            "get_attr" => out.push(identifier(*part, bytes)),
            "index" => {
                // `["key"]`
                let key = String::from_utf8_lossy(text(*part, bytes)).into_owned();
                let key = key.trim().strip_prefix('[')?.strip_suffix(']')?.trim();
                let key = key.strip_prefix('"')?.strip_suffix('"')?;
                if key.contains(['\\', '$', '%']) {
                    return None;
                }
                out.push(key.to_owned());
            }
            _ => return None,
        }
    }
    Some(out)
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
fn value(attribute: Node, bytes: &[u8], names: &Names) -> Option<Value> {
    let key = identifier(attribute, bytes);
    let expression = named_children(attribute)
        .into_iter()
        .find(|n| n.kind() == "expression")?;
    expression_value(&key, expression, bytes, names)
}

/// An expression node's value (see [`value`]).
fn expression_value(key: &str, expression: Node, bytes: &[u8], names: &Names) -> Option<Value> {
    let whole = HostSpan::new(expression.start_byte(), expression.end_byte());
    let opaque = || Value::expression(key, whole, read_expression(expression, bytes, names));
    let literal = named_children(expression)
        .into_iter()
        .find(|n| n.kind() == "literal_value")
        .and_then(|l| named_children(l).into_iter().next());
    let Some(literal) = literal else {
        return Some(opaque());
    };
    match literal.kind() {
        "numeric_lit" | "bool_lit" => {
            let span = HostSpan::new(literal.start_byte(), literal.end_byte());
            let value = String::from_utf8_lossy(text(literal, bytes)).into_owned();
            Some(Value::literal(key, &value, span))
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
                    let mut value = Value::literal(key, &raw, span);
                    // An escape would decode to something else.
                    value.replaceable = !raw.contains('\\');
                    Some(value)
                }
                _ => Some(opaque()),
            }
        }
        _ => Some(opaque()),
    }
}

/// The literal text of an expression that is a plain string, number or bool.
fn literal_text(expression: Node, bytes: &[u8]) -> Option<String> {
    let names = Names {
        iterator: None,
        variables: &[],
    };
    expression_value("", expression, bytes, &names)
        .filter(|v| v.replaceable || v.expression.is_none())
        .and_then(|v| v.text)
}

/// What can be known of an expression statically: the input variable it reads (directly, through
/// the iterator of a `dynamic` block whose `for_each` holds it, or as the first argument of
/// `lookup()`, `try()`, `coalesce()`), the literal those functions fall back to, and the
/// variable's declaration when it is in this file.
fn read_expression(expression: Node, bytes: &[u8], names: &Names) -> Expression {
    let written: String = String::from_utf8_lossy(text(expression, bytes))
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let written = if written.chars().count() > 80 {
        format!("{}…", written.chars().take(79).collect::<String>())
    } else {
        written
    };
    let mut out = Expression {
        written,
        ..Expression::default()
    };
    let (variable, fallback, opaque) = variable_of(expression, bytes, names);
    out.variable = variable;
    out.fallback = fallback;
    out.opaque = opaque;
    if let Some(variable) = &out.variable {
        out.declaration = names
            .variables
            .iter()
            .find(|v| v.name == variable.name)
            .cloned();
    }
    out
}

/// The variable an expression reads, the literal it falls back to, and why it cannot be read
/// when it cannot.
fn variable_of(
    expression: Node,
    bytes: &[u8],
    names: &Names,
) -> (Option<VariableRef>, Option<String>, Option<String>) {
    let shown = || {
        let t: String = String::from_utf8_lossy(text(expression, bytes))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        t.chars().take(60).collect::<String>()
    };
    if let Some(parts) = path(expression, bytes) {
        let attribute = |i: usize| parts.get(i).cloned();
        return match parts.first().map(String::as_str) {
            Some("var") if parts.len() <= 3 => (
                attribute(1).map(|name| VariableRef {
                    name,
                    attribute: attribute(2),
                }),
                None,
                None,
            ),
            Some(root)
                if names.iterator.as_ref().is_some_and(|(i, _)| i == root)
                    && parts.get(1).map(String::as_str) == Some("value")
                    && parts.len() <= 3 =>
            {
                match names.iterator.as_ref().and_then(|(_, v)| v.clone()) {
                    Some(name) => (
                        Some(VariableRef {
                            name,
                            attribute: attribute(2),
                        }),
                        None,
                        None,
                    ),
                    None => (
                        None,
                        None,
                        Some(format!(
                            "`{}` comes from the `for_each` of its `dynamic` block, which holds more than one input variable",
                            shown()
                        )),
                    ),
                }
            }
            Some("each") => (
                None,
                None,
                Some(format!(
                    "`{}` comes from the resource's `for_each`, which is not read",
                    shown()
                )),
            ),
            Some("local") => (
                None,
                None,
                Some(format!("`{}` is a local value, which is not read", shown())),
            ),
            _ => (
                None,
                None,
                Some(format!("`{}` is known only when the plan is made", shown())),
            ),
        };
    }
    let call = named_children(expression)
        .into_iter()
        .find(|n| n.kind() == "function_call");
    if let Some(call) = call {
        let function = identifier(call, bytes);
        let arguments: Vec<Node> = named_children(call)
            .into_iter()
            .find(|n| n.kind() == "function_arguments")
            .map(named_children)
            .unwrap_or_default()
            .into_iter()
            .filter(|n| n.kind() == "expression")
            .collect();
        let first = arguments.first().copied();
        let last = arguments.last().copied();
        let read_first = |attribute: Option<String>| {
            let (variable, _, opaque) = first
                .map(|f| variable_of(f, bytes, names))
                .unwrap_or_default();
            let variable = variable.map(|v| match (&v.attribute, &attribute) {
                (None, Some(_)) => VariableRef { attribute, ..v },
                _ => v,
            });
            (variable, opaque)
        };
        match (function.as_str(), arguments.len()) {
            ("lookup", 3) => {
                let key = arguments.get(1).and_then(|k| literal_text(*k, bytes));
                let fallback = last.and_then(|l| literal_text(l, bytes));
                let (variable, opaque) = read_first(key);
                // `lookup` falls back only when the key is missing: a variable read whole.
                return (variable, fallback, opaque);
            }
            ("try" | "coalesce", 2..) => {
                let fallback = last.and_then(|l| literal_text(l, bytes));
                let (variable, opaque) = read_first(None);
                if arguments.len() == 2 || variable.is_none() {
                    return (variable, fallback, opaque);
                }
            }
            _ => {}
        }
        return (
            None,
            None,
            Some(format!(
                "`{}` is a function call, which is not evaluated",
                shown()
            )),
        );
    }
    (None, None, Some(format!("`{}` is not evaluated", shown())))
}

/// The top-level `variable "NAME" { … }` blocks of the file, as far as their defaults go.
fn variables(root: Node, bytes: &[u8]) -> Vec<Variable> {
    top_level_blocks(root, bytes)
        .into_iter()
        .filter_map(|(keyword, labels, block)| match labels.as_slice() {
            [name] if keyword == "variable" => Some((name.clone(), block)),
            _ => None,
        })
        .map(|(name, block)| {
            let members = body_of(block).map(named_children).unwrap_or_default();
            let attribute = |key: &str| {
                members
                    .iter()
                    .find(|m| m.kind() == "attribute" && identifier(**m, bytes) == key)
                    .and_then(|a| {
                        named_children(*a)
                            .into_iter()
                            .find(|n| n.kind() == "expression")
                    })
            };
            let default = match attribute("default") {
                None => VariableDefault::Absent,
                Some(expression) => variable_default(expression, bytes),
            };
            let type_defaults = attribute("type")
                .map(|t| type_defaults(t, bytes))
                .unwrap_or_default();
            Variable {
                name,
                default,
                type_defaults,
                span: HostSpan::new(block.start_byte(), block.end_byte()),
                at: None,
            }
        })
        .collect()
}

/// The elements of an object expression (`{ key = value, … }`): each key and value expression.
fn object_elements<'t>(expression: Node<'t>, bytes: &[u8]) -> Option<Vec<(String, Node<'t>)>> {
    let collection = named_children(expression)
        .into_iter()
        .find(|n| n.kind() == "collection_value")?;
    let object = named_children(collection)
        .into_iter()
        .find(|n| n.kind() == "object")?;
    Some(
        named_children(object)
            .into_iter()
            .filter(|n| n.kind() == "object_elem")
            .filter_map(|element| {
                let key = element.child_by_field_name("key")?;
                let value = element.child_by_field_name("val")?;
                let key = String::from_utf8_lossy(text(key, bytes))
                    .trim()
                    .trim_matches('"')
                    .to_owned();
                Some((key, value))
            })
            .collect(),
    )
}

fn is_null(expression: Node, bytes: &[u8]) -> bool {
    text(expression, bytes).trim_ascii() == b"null"
}

/// A variable's `default` expression.
fn variable_default(expression: Node, bytes: &[u8]) -> VariableDefault {
    if is_null(expression, bytes) {
        return VariableDefault::Null;
    }
    if let Some(text) = literal_text(expression, bytes) {
        return VariableDefault::Literal(text);
    }
    match object_elements(expression, bytes) {
        Some(elements) => VariableDefault::Object(
            elements
                .into_iter()
                .filter(|(_, value)| !is_null(*value, bytes))
                .map(|(key, value)| (key, literal_text(value, bytes)))
                .collect(),
        ),
        None => VariableDefault::Other,
    }
}

/// The defaults a variable's type gives the attributes of an object:
/// `object({ http_tokens = optional(string, "required") })`.
fn type_defaults(expression: Node, bytes: &[u8]) -> Vec<(String, String)> {
    let Some(call) = named_children(expression)
        .into_iter()
        .find(|n| n.kind() == "function_call")
    else {
        return Vec::new();
    };
    if identifier(call, bytes) != "object" {
        return Vec::new();
    }
    let Some(object) = named_children(call)
        .into_iter()
        .find(|n| n.kind() == "function_arguments")
        .and_then(|a| {
            named_children(a)
                .into_iter()
                .find(|n| n.kind() == "expression")
        })
    else {
        return Vec::new();
    };
    object_elements(object, bytes)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(key, value)| {
            let call = named_children(value)
                .into_iter()
                .find(|n| n.kind() == "function_call")?;
            if identifier(call, bytes) != "optional" {
                return None;
            }
            let arguments: Vec<Node> = named_children(call)
                .into_iter()
                .find(|n| n.kind() == "function_arguments")
                .map(named_children)
                .unwrap_or_default()
                .into_iter()
                .filter(|n| n.kind() == "expression")
                .collect();
            let [_, default] = arguments.as_slice() else {
                return None;
            };
            literal_text(*default, bytes).map(|d| (key, d))
        })
        .collect()
}

/// The inputs of the top-level `module` blocks that set instance metadata options: a
/// `metadata_options = { http_tokens = … }` object anywhere in the block's arguments (the
/// autoscaling module's input, a node group's in the EKS module's maps), or an `http_tokens`
/// argument. What the module does with options left out is its own default, not EC2's: only what
/// is written is read, and the module's boot code is not.
fn module_inputs(
    root: Node,
    bytes: &[u8],
    host: HostId,
    variables: &[Variable],
    parsed: &mut Parsed,
) {
    let names = Names {
        iterator: None,
        variables,
    };
    for (keyword, labels, block) in top_level_blocks(root, bytes) {
        let [name] = labels.as_slice() else {
            continue;
        };
        if keyword != "module" {
            continue;
        }
        let head_end = named_children(block)
            .iter()
            .filter(|k| k.kind() == "string_lit")
            .map(|k| k.end_byte())
            .max()
            .unwrap_or(block.start_byte());
        let new_setting = |span: HostSpan| {
            let mut setting = MetadataSetting::new(Source::Terraform, "module", name, host, span);
            setting.head = HostSpan::new(block.start_byte(), head_end);
            setting.tokens_default = TokensDefault::Unchanged;
            setting.hop_default = HopDefault::Unchanged;
            setting.user_data.unseen = Some(format!(
                "its instances are launched by the module `{name}`, whose boot code is not read with this input"
            ));
            setting
        };
        let members = body_of(block).map(named_children).unwrap_or_default();
        // `http_tokens = …` as an argument of the module itself.
        for attribute in &members {
            if attribute.kind() == "attribute" && identifier(*attribute, bytes) == "http_tokens" {
                let mut setting =
                    new_setting(HostSpan::new(attribute.start_byte(), attribute.end_byte()));
                setting.tokens = value(*attribute, bytes, &names);
                parsed.settings.push(setting);
            }
        }
        // `metadata_options = { … }` at any depth of the arguments' objects.
        let mut stack: Vec<(String, Node)> = members
            .iter()
            .filter(|m| m.kind() == "attribute")
            .filter_map(|m| {
                let value = named_children(*m)
                    .into_iter()
                    .find(|n| n.kind() == "expression")?;
                Some((identifier(*m, bytes), value))
            })
            .collect();
        let mut seen = 0;
        while let Some((key, value)) = stack.pop() {
            seen += 1;
            if seen > 10_000 {
                break;
            }
            let Some(elements) = object_elements(value, bytes) else {
                continue;
            };
            if key != "metadata_options" {
                stack.extend(elements);
                continue;
            }
            let mut setting = new_setting(HostSpan::new(value.start_byte(), value.end_byte()));
            let head = value
                .parent()
                .and_then(|p| p.child(0))
                .map_or(HostSpan::new(value.start_byte(), value.start_byte()), |k| {
                    HostSpan::new(k.start_byte(), k.end_byte())
                });
            setting.block = Some(OptionsBlock {
                key: "metadata_options".to_owned(),
                head,
                span: HostSpan::new(value.start_byte(), value.end_byte()),
                slot: None,
            });
            for (field, expression) in elements {
                let slot = match field.as_str() {
                    "http_tokens" => &mut setting.tokens,
                    "http_endpoint" => &mut setting.endpoint,
                    _ => continue,
                };
                *slot = expression_value(&field, expression, bytes, &names);
            }
            parsed.settings.push(setting);
        }
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
