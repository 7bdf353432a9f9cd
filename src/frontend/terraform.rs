//! Terraform (`.tf`, tree-sitter-hcl): `user_data` and `user_data_base64` arguments, in any block
//! or object. A template (a heredoc or a quoted string) is user data: its text, with HCL's escapes
//! decoded and `${…}`/`%{…}` turned into same-length placeholder words, is read as what its content
//! says (a shell script, a cloud-config, MIME), mapped byte for byte back to the file. A literal
//! base64 value is decoded as a new host. `file()`/`templatefile()` name files that run as user
//! data; the caller reads them.
//!
//! User data is often built elsewhere in the module and named: `data.cloudinit_config.NAME`
//! (its `part` `content`s), `data.template_file.NAME` (its `template`), `local.NAME`. Those
//! definitions are read as user data too (a local only when a user data value in the file names
//! it, or when it reads like user data: `#!`, `#cloud-config`, MIME), and a setting whose
//! `user_data` names one has its boot code; a name defined in another file of the module is left
//! to the pass across files.

use std::path::PathBuf;

use tree_sitter::Node;

use super::{Embedded, Kind, Parsed};
use crate::check::OriginEntry;
use crate::fragment::hcl_template::{self, Template};
use crate::fragment::{
    FragmentOffset, FragmentSpan, HostId, HostSpan, OffsetMap, PlainScalar, Quoting,
};
use crate::settings::{
    Containers, HopDefault, Layout, MetadataSetting, OptionsBlock, Slot, Source, TokensDefault,
    UserData, Value,
};

/// Arguments whose value runs on the instance: the resources' own, and the shell that the EKS
/// module (terraform-aws-modules/eks) runs on its nodes before and after their bootstrap.
const ATTRIBUTES: &[&str] = &[
    "user_data",
    "user_data_base64",
    "pre_bootstrap_user_data",
    "post_bootstrap_user_data",
];

/// Functions whose result is their first argument's text, encoded (or trimmed) at most.
const ENCODERS: &[&str] = &["base64encode", "base64gzip", "textencodebase64"];
const PASS_THROUGH: &[&str] = &[
    "trimspace",
    "chomp",
    "trim",
    "trimprefix",
    "trimsuffix",
    "sensitive",
    "nonsensitive",
    "tostring",
];

/// Functions that read a file (the first argument) as the user data.
const FILE_FUNCTIONS: &[&str] = &["file", "templatefile", "filebase64"];

/// How deep expressions are followed (parentheses, wrappers, conditionals).
const MAX_DEPTH: usize = 32;

/// Data sources whose rendered result is user data, and the arguments that hold it (`content`
/// inside `part` blocks, or `template`).
const RENDERERS: &[(&str, &str)] = &[
    ("cloudinit_config", "content"),
    ("template_cloudinit_config", "content"),
    ("template_file", "template"),
];

fn parse_tree(bytes: &[u8]) -> Option<tree_sitter::Tree> {
    crate::syntax::parse(crate::syntax::Grammar::Hcl, bytes)
}

fn text<'a>(node: Node, bytes: &'a [u8]) -> &'a [u8] {
    bytes.get(node.byte_range()).unwrap_or_default()
}

fn named_children<'t>(node: Node<'t>) -> Vec<Node<'t>> {
    let mut cursor = node.walk();
    let children = node.named_children(&mut cursor).collect();
    children
}

fn children<'t>(node: Node<'t>) -> Vec<Node<'t>> {
    let mut cursor = node.walk();
    let children = node.children(&mut cursor).collect();
    children
}

pub fn parse(bytes: &[u8], host: HostId) -> Parsed {
    let mut parsed = Parsed::default();
    let Some(tree) = parse_tree(bytes) else {
        parsed
            .diagnostics
            .push("the Terraform file could not be parsed".to_owned());
        return parsed;
    };
    let root = tree.root_node();
    let reader = Reader {
        bytes,
        host,
        foreign: std::cell::Cell::new(0),
        symbols: std::cell::RefCell::new(Vec::new()),
    };
    let mut user_data = Vec::new();
    // Every node, without recursion (hostile nesting must not overflow the stack).
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        if let Some((name, value)) = argument(node, bytes) {
            if ATTRIBUTES.contains(&name.as_str()) {
                let expect = if name == "user_data_base64" {
                    Encoding::Base64
                } else {
                    Encoding::MaybeBase64
                };
                let before = ReadUserData::start(node, &parsed, &reader);
                reader.value(value, &name, expect, 0, &mut parsed);
                user_data.push(before.finish(value, &parsed, &reader));
                continue;
            }
        }
        let mut kids = children(node);
        kids.reverse();
        stack.extend(kids);
    }
    let definitions = definitions(root, &reader, &user_data, &mut parsed);
    settings::read(root, bytes, host, &user_data, &definitions, &mut parsed);
    parsed.definitions = export(&definitions);
    if root.has_error() {
        parsed.diagnostics.push(
            "the Terraform file has syntax errors; arguments around them may be skipped".to_owned(),
        );
    }
    parsed
}

/// What reading one `user_data` argument added to the host's findings.
#[derive(Debug, Clone)]
struct ReadUserData {
    /// The body the argument is in.
    parent: Option<usize>,
    fragments: std::ops::Range<usize>,
    embedded: std::ops::Range<usize>,
    referenced: std::ops::Range<usize>,
    /// The value as written (heredocs and strings included).
    raw: HostSpan,
    /// Whether the value holds a template (a heredoc or a string), not only an expression.
    literal: bool,
    /// Templates skipped as not shell (Windows, another interpreter): while reading, the
    /// reader's count before; then how many.
    foreign: usize,
    /// The named user data it refers to (`data.cloudinit_config.x`, `local.boot`): while
    /// reading, the reader's count before; then the names.
    symbols: Vec<String>,
    symbols_from: usize,
}

impl ReadUserData {
    fn start(argument: Node, parsed: &Parsed, reader: &Reader) -> Self {
        ReadUserData {
            foreign: reader.foreign.get(),
            symbols: Vec::new(),
            symbols_from: reader.symbols.borrow().len(),
            parent: argument.parent().map(|p| p.id()),
            fragments: parsed.fragments.len()..0,
            embedded: parsed.embedded.len()..0,
            referenced: parsed.referenced.len()..0,
            raw: HostSpan::default(),
            literal: false,
        }
    }

    fn finish(mut self, value: Node, parsed: &Parsed, reader: &Reader) -> Self {
        self.foreign = reader.foreign.get() - self.foreign;
        self.symbols = reader
            .symbols
            .borrow()
            .get(self.symbols_from..)
            .unwrap_or_default()
            .to_vec();
        self.fragments.end = parsed.fragments.len();
        self.embedded.end = parsed.embedded.len();
        self.referenced.end = parsed.referenced.len();
        self.raw = HostSpan::new(value.start_byte(), value.end_byte());
        let mut stack = vec![value];
        while let Some(node) = stack.pop() {
            if matches!(
                node.kind(),
                "heredoc_template" | "quoted_template" | "string_lit"
            ) {
                self.literal = true;
                break;
            }
            stack.extend(named_children(node));
        }
        self
    }
}

/// An argument (`name = value` in a block body) or an object element (`name = value` in `{…}`):
/// its name and value expression.
fn argument<'t>(node: Node<'t>, bytes: &[u8]) -> Option<(String, Node<'t>)> {
    match node.kind() {
        "attribute" => {
            let kids = named_children(node);
            let name = kids.iter().find(|n| n.kind() == "identifier")?;
            let value = kids.iter().find(|n| n.kind() == "expression")?;
            Some((
                String::from_utf8_lossy(text(*name, bytes)).into_owned(),
                *value,
            ))
        }
        "object_elem" => {
            let key = node.child_by_field_name("key")?;
            let value = node.child_by_field_name("val")?;
            let key = String::from_utf8_lossy(text(key, bytes));
            let key = key.trim().trim_matches('"').to_owned();
            Some((key, value))
        }
        _ => None,
    }
}

/// What the provider does with a value before it becomes user data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    /// Taken as it is (inside `base64encode()`).
    Plain,
    /// `user_data`: base64 is decoded by the provider, anything else taken as it is.
    MaybeBase64,
    /// `user_data_base64`: must be base64.
    Base64,
}

struct Reader<'a> {
    bytes: &'a [u8],
    host: HostId,
    /// How many templates were skipped as not shell, so far.
    foreign: std::cell::Cell<usize>,
    /// The names of user data defined elsewhere that values refer to, so far.
    symbols: std::cell::RefCell<Vec<String>>,
}

impl Reader<'_> {
    /// Follows the value of a user-data argument to the templates and files it is made of.
    fn value(&self, node: Node, name: &str, expect: Encoding, depth: usize, parsed: &mut Parsed) {
        if depth > MAX_DEPTH {
            return;
        }
        match node.kind() {
            "expression" => {
                if let Some(symbol) = named_user_data(node, self.bytes) {
                    self.symbols.borrow_mut().push(symbol);
                    return;
                }
                for child in named_children(node) {
                    self.value(child, name, expect, depth + 1, parsed);
                }
            }
            "template_expr" | "literal_value" => {
                for child in named_children(node) {
                    self.value(child, name, expect, depth + 1, parsed);
                }
            }
            "conditional" => {
                // `cond ? a : b`: either branch may be the user data.
                for branch in named_children(node).into_iter().skip(1) {
                    self.value(branch, name, expect, depth + 1, parsed);
                }
            }
            "function_call" => self.call(node, name, expect, depth, parsed),
            "heredoc_template" | "quoted_template" | "string_lit" => {
                self.template(node, name, expect, parsed);
            }
            _ => {}
        }
    }

    fn call(&self, node: Node, name: &str, expect: Encoding, depth: usize, parsed: &mut Parsed) {
        let kids = named_children(node);
        let Some(function) = kids.iter().find(|n| n.kind() == "identifier") else {
            return;
        };
        let function = String::from_utf8_lossy(text(*function, self.bytes)).into_owned();
        let Some(first) = kids
            .iter()
            .find(|n| n.kind() == "function_arguments")
            .and_then(|args| named_children(*args).into_iter().next())
        else {
            return;
        };
        if ENCODERS.contains(&function.as_str()) {
            self.value(first, name, Encoding::Plain, depth + 1, parsed);
        } else if PASS_THROUGH.contains(&function.as_str()) {
            self.value(first, name, expect, depth + 1, parsed);
        } else if FILE_FUNCTIONS.contains(&function.as_str()) {
            if let Some(path) = literal_path(first, self.bytes) {
                parsed.referenced.push(path);
            }
        }
    }

    /// A template given as user data.
    fn template(&self, node: Node, name: &str, expect: Encoding, parsed: &mut Parsed) {
        let Some(template) = read_template(node, self.bytes) else {
            return;
        };
        let origin = || vec![OriginEntry::layer("terraform").with_key(name)];
        if expect != Encoding::Plain && !template.templated && !template.escaped {
            if let Some(span) = crate::fragment::base64::shaped(self.bytes, template.content) {
                let raw = self.bytes.get(span.start.0..span.end.0).unwrap_or_default();
                match crate::fragment::base64::decode(raw) {
                    Some((decoded, codec))
                        if expect == Encoding::Base64 || looks_like_user_data(&decoded) =>
                    {
                        parsed.embedded.push(Embedded {
                            span,
                            bytes: decoded,
                            codec,
                            map: None,
                            origin: origin(),
                            kind: None,
                        });
                        return;
                    }
                    _ => {}
                }
            }
        }
        if expect == Encoding::Base64 {
            if !template.templated {
                parsed.diagnostics.push(format!(
                    "`{name}` holds a value that is not base64; it was not read"
                ));
            }
            return;
        }
        if template.text.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        if super::is_foreign(&template.text) {
            self.foreign.set(self.foreign.get() + 1);
            return;
        }
        let kind = super::classify_content(&template.text).unwrap_or(Kind::Shell);
        let mut inner = super::parse(kind, &template.text, self.host);
        for diagnostic in &mut inner.diagnostics {
            *diagnostic = format!("`{name}`: {diagnostic}");
        }
        lift(inner, &template, origin(), parsed);
    }
}

/// The name of user data defined elsewhere in the module that an expression refers to:
/// `data.cloudinit_config.x.rendered` → `data.cloudinit_config.x`, `local.boot` → `local.boot`.
fn named_user_data(expression: Node, bytes: &[u8]) -> Option<String> {
    let kids = named_children(expression);
    let (first, rest) = kids.split_first()?;
    if first.kind() != "variable_expr" {
        return None;
    }
    let root = String::from_utf8_lossy(text(*first, bytes)).into_owned();
    let attributes: Vec<String> = rest
        .iter()
        .take_while(|n| n.kind() == "get_attr")
        .filter_map(|n| {
            named_children(*n)
                .into_iter()
                .find(|i| i.kind() == "identifier")
        })
        .map(|i| String::from_utf8_lossy(text(i, bytes)).into_owned())
        .collect();
    match (root.as_str(), attributes.as_slice()) {
        ("data", [kind, name, ..]) if RENDERERS.iter().any(|(k, _)| k == kind) => {
            Some(format!("data.{kind}.{name}"))
        }
        ("local", [name, ..]) => Some(format!("local.{name}")),
        _ => None,
    }
}

/// User data defined by name in the file: what reading each of its values added.
#[derive(Debug)]
struct Definition {
    symbol: String,
    reads: Vec<ReadUserData>,
}

/// The top-level `data` renderers and `locals` of the file, read as user data (see the module
/// documentation for which locals).
fn definitions(
    root: Node,
    reader: &Reader,
    user_data: &[ReadUserData],
    parsed: &mut Parsed,
) -> Vec<Definition> {
    let bytes = reader.bytes;
    let blocks = top_level_blocks(root, bytes);
    let mut out = Vec::new();
    let read = |attribute: Node, name: &str, parsed: &mut Parsed| {
        let value = named_children(attribute)
            .into_iter()
            .find(|n| n.kind() == "expression")?;
        let before = ReadUserData::start(attribute, parsed, reader);
        reader.value(value, name, Encoding::Plain, 0, parsed);
        Some(before.finish(value, parsed, reader))
    };
    for (keyword, labels, block) in &blocks {
        let (true, [kind, name]) = (keyword == "data", labels.as_slice()) else {
            continue;
        };
        let Some((_, argument)) = RENDERERS.iter().find(|(k, _)| k == kind) else {
            continue;
        };
        let kids = named_children(*block);
        let body = kids.iter().find(|n| n.kind() == "body");
        let mut attributes: Vec<Node> = Vec::new();
        for child in body.map(|b| named_children(*b)).unwrap_or_default() {
            if child.kind() == "attribute" {
                attributes.push(child);
            } else if child.kind() == "block" {
                // `part { content = … }`
                attributes.extend(
                    named_children(child)
                        .into_iter()
                        .filter(|n| n.kind() == "body")
                        .flat_map(named_children)
                        .filter(|n| n.kind() == "attribute"),
                );
            }
        }
        let reads = attributes
            .into_iter()
            .filter(|a| argument_name(*a, bytes) == *argument)
            .filter_map(|a| read(a, argument, parsed))
            .collect();
        out.push(Definition {
            symbol: format!("data.{kind}.{name}"),
            reads,
        });
    }
    // Locals last: the names the user data and the renderers above refer to are known.
    let named: Vec<String> = user_data
        .iter()
        .chain(out.iter().flat_map(|d| &d.reads))
        .flat_map(|r| r.symbols.iter().cloned())
        .collect();
    for (keyword, _, block) in &blocks {
        if keyword != "locals" {
            continue;
        }
        let kids = named_children(*block);
        let body = kids.iter().find(|n| n.kind() == "body");
        for attribute in body.map(|b| named_children(*b)).unwrap_or_default() {
            if attribute.kind() != "attribute" {
                continue;
            }
            let name = argument_name(attribute, bytes);
            let symbol = format!("local.{name}");
            if !named.contains(&symbol) && !reads_like_user_data(attribute, bytes) {
                continue;
            }
            // A local named `user_data` was read already, as every such argument is.
            let earlier = user_data
                .iter()
                .find(|r| {
                    r.parent == attribute.parent().map(|p| p.id())
                        && r.raw.start.0 > attribute.start_byte()
                        && r.raw.end.0 <= attribute.end_byte()
                })
                .cloned();
            if let Some(read) = earlier.or_else(|| read(attribute, &name, parsed)) {
                out.push(Definition {
                    symbol,
                    reads: vec![read],
                });
            }
        }
    }
    out
}

/// The definitions as other files see them: each with what its value is made of, the names it
/// uses followed within this file.
fn export(definitions: &[Definition]) -> Vec<super::Definition> {
    definitions
        .iter()
        .map(|definition| {
            let mut out = super::Definition {
                symbol: definition.symbol.clone(),
                ..super::Definition::default()
            };
            let (reads, _) = followed(definition.reads.iter().collect(), definitions);
            for read in reads {
                out.fragments.extend(read.fragments.clone());
                out.embedded.extend(read.embedded.clone());
                out.referenced.extend(read.referenced.clone());
            }
            out
        })
        .collect()
}

/// `reads` and the reads of the named user data they refer to, followed through the file's
/// definitions; and the names the file does not define (left to the pass across files), each
/// once, in order of use.
fn followed<'a>(
    mut reads: Vec<&'a ReadUserData>,
    definitions: &'a [Definition],
) -> (Vec<&'a ReadUserData>, Vec<String>) {
    let mut undefined: Vec<String> = Vec::new();
    let mut index = 0;
    while let Some(read) = reads.get(index) {
        for symbol in &read.symbols {
            let mut defined = false;
            for more in definitions
                .iter()
                .filter(|d| &d.symbol == symbol)
                .flat_map(|d| &d.reads)
            {
                defined = true;
                if !reads.iter().any(|r| std::ptr::eq(*r, more)) {
                    reads.push(more);
                }
            }
            if !defined && !undefined.contains(symbol) {
                undefined.push(symbol.clone());
            }
        }
        index += 1;
    }
    (reads, undefined)
}

/// The top-level blocks of a file: keyword (`resource`, `data`, `locals`), labels, block.
fn top_level_blocks<'t>(root: Node<'t>, bytes: &[u8]) -> Vec<(String, Vec<String>, Node<'t>)> {
    named_children(root)
        .into_iter()
        .filter(|n| n.kind() == "body")
        .flat_map(named_children)
        .filter(|n| n.kind() == "block")
        .map(|block| {
            let kids = named_children(block);
            let keyword = kids
                .first()
                .filter(|i| i.kind() == "identifier")
                .map(|i| String::from_utf8_lossy(text(*i, bytes)).into_owned())
                .unwrap_or_default();
            let labels = kids
                .iter()
                .filter(|k| k.kind() == "string_lit")
                .map(|k| {
                    String::from_utf8_lossy(text(*k, bytes))
                        .trim_matches('"')
                        .to_owned()
                })
                .collect();
            (keyword, labels, block)
        })
        .collect()
}

/// The name of an `attribute` node.
fn argument_name(attribute: Node, bytes: &[u8]) -> String {
    named_children(attribute)
        .into_iter()
        .find(|n| n.kind() == "identifier")
        .map(|i| String::from_utf8_lossy(text(i, bytes)).into_owned())
        .unwrap_or_default()
}

/// Whether an attribute's value is a template whose text starts like user data (`#!`,
/// `#cloud-config`, `#cloud-boothook`, a MIME header).
fn reads_like_user_data(attribute: Node, bytes: &[u8]) -> bool {
    let mut stack = vec![attribute];
    while let Some(node) = stack.pop() {
        if matches!(node.kind(), "heredoc_template" | "quoted_template") {
            let Some(template) = read_template(node, bytes) else {
                return false;
            };
            let start = template.text.trim_ascii_start();
            return start.starts_with(b"#!")
                || super::user_data_kind(start).is_some_and(|k| k != Kind::Gzip);
        }
        if matches!(node.kind(), "attribute" | "expression" | "template_expr") {
            stack.extend(named_children(node));
        }
    }
    false
}

/// The `metadata_options` of instances, launch templates, spot requests and launch configurations.
mod settings {
    use super::*;

    const RESOURCES: &[&str] = &[
        "aws_instance",
        "aws_launch_template",
        "aws_spot_instance_request",
        "aws_launch_configuration",
    ];

    const FOREIGN: &str =
        "its user data is not a shell script (PowerShell, another interpreter) and is not analysed";

    /// Resources that run containers on the instances of the launch template they name.
    const CONTAINER_USERS: &[&str] = &["aws_eks_node_group", "aws_batch_compute_environment"];

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
                let fact = crate::links::Fact::ContainerUser {
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
            let key = named_children(*options)
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
                slot: slot(*options, bytes),
            });
            for attribute in body_of(*options).map(named_children).unwrap_or_default() {
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
        // The resource's own `user_data`/`user_data_base64` arguments.
        // Its own arguments, with the named user data they refer to: defined in this file
        // (followed, as more reads) or not (left to the pass across files).
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
                && !crate::settings::substantive(&strip_interpolations(
                    bytes
                        .get(read.raw.start.0..read.raw.end.0)
                        .unwrap_or_default(),
                ))
            {
                hidden = Some("its user data is only interpolations, not visible here".to_owned());
            }
        }
        setting.containers = if used_by_containers {
            Containers::Yes(
                "an EKS node group or AWS Batch environment in this file uses it".to_owned(),
            )
        } else if let Some(runtime) = crate::settings::container_runtime(&seen_text) {
            Containers::Yes(format!("its user data mentions `{runtime}`"))
        } else if !own.is_empty()
            && hidden.is_none()
            && found.files.is_empty()
            && found.symbols.is_empty()
        {
            Containers::No
        } else {
            Containers::Unknown
        };
        found.unseen = hidden;
        found.elsewhere = (!elsewhere.is_empty()).then(|| elsewhere.join("; "));
        setting.user_data = found;
        setting
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
}

/// Moves what a front end found in a template's text into the host: offsets through the
/// template's map, quoting under the template's own.
fn lift(inner: Parsed, template: &Template, origin: Vec<OriginEntry>, parsed: &mut Parsed) {
    let map = OffsetMap::from_anchors(template.anchors.iter().copied());
    let to_host = |span: HostSpan| map.span_to_host(FragmentSpan::new(span.start.0, span.end.0));
    for mut fragment in inner.fragments {
        fragment.map = map.compose(&fragment.map);
        for region in &mut fragment.insert {
            if let Some(quoting) = &mut region.quoting {
                if let Some(layer) = &template.layer {
                    quoting.insert(0, layer.clone());
                }
            }
            if let Some(plain) = region.plain.take() {
                let start = plain.header.map_or(plain.span.start.0, |h| h.start.0);
                let end = plain.span.end.0;
                let substituted = template.holes.iter().any(|&(s, e)| s < end && start < e);
                if matches!(template.layer, Some(Quoting::JsonString)) || substituted {
                    // Quotes added around a YAML scalar would end the HCL string, or would hold
                    // a value Terraform substitutes, unescaped.
                    region.quoting = None;
                } else {
                    region.plain = Some(PlainScalar {
                        span: to_host(plain.span),
                        escapes: plain
                            .escapes
                            .iter()
                            .map(|at| map.to_host(FragmentOffset(at.0)))
                            .collect(),
                        header: plain.header.map(to_host),
                    });
                }
            }
        }
        parsed.fragments.push(fragment);
    }
    for mut embedded in inner.embedded {
        embedded.span = to_host(embedded.span);
        embedded.map = embedded.map.map(|m| map.compose(&m));
        embedded.codec =
            crate::fragment::base64::under_layer(embedded.codec, template.layer.as_ref());
        let mut chain = origin.clone();
        chain.append(&mut embedded.origin);
        embedded.origin = chain;
        parsed.embedded.push(embedded);
    }
    parsed.diagnostics.extend(inner.diagnostics);
    parsed.referenced.extend(inner.referenced);
}

/// Whether decoded bytes read as user data (text, or gzip), not as a word that happened to be
/// valid base64.
fn looks_like_user_data(decoded: &[u8]) -> bool {
    decoded.starts_with(&[0x1f, 0x8b])
        || std::str::from_utf8(decoded).is_ok_and(|t| {
            !t.chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        })
}

/// The path a `file()` argument names, relative to the module's directory: a string literal,
/// optionally starting with `${path.module}/` or `${path.root}/`.
fn literal_path(node: Node, bytes: &[u8]) -> Option<PathBuf> {
    let mut node = node;
    for _ in 0..MAX_DEPTH {
        match node.kind() {
            "expression" | "template_expr" | "literal_value" => {
                node = *named_children(node).first()?;
            }
            "quoted_template" | "string_lit" => break,
            _ => return None,
        }
    }
    let raw = std::str::from_utf8(text(node, bytes)).ok()?;
    let raw = raw.strip_prefix('"')?.strip_suffix('"')?;
    let mut rest = raw;
    if let Some(after) = raw.strip_prefix("${") {
        let close = after.find('}')?;
        let variable = after.get(..close)?.trim().trim_matches('~').trim();
        if !matches!(variable, "path.module" | "path.root") {
            return None;
        }
        let after = after.get(close + 1..)?;
        rest = after
            .strip_prefix('/')
            .or_else(|| after.strip_prefix('\\'))
            .unwrap_or(after);
    }
    if rest.contains("${") || rest.contains("%{") || rest.is_empty() {
        return None;
    }
    let path = rest.replace("\\\\", "\\").replace("\\\"", "\"");
    Some(PathBuf::from(path))
}

/// A template (a heredoc or a quoted string) decoded as the instance gets it (see
/// `fragment::hcl_template`).
fn read_template(node: Node, bytes: &[u8]) -> Option<Template> {
    template_source(node, bytes).map(|source| Template::decode(bytes, &source))
}

/// Where a template node's content is in the host, and what Terraform substitutes in it.
pub(crate) fn template_source(node: Node, bytes: &[u8]) -> Option<hcl_template::Source> {
    let heredoc = node.kind() == "heredoc_template";
    let kids = children(node);
    let (start, end, flush) = if heredoc {
        let flush = kids
            .iter()
            .any(|c| c.kind() == "heredoc_start" && text(*c, bytes) == b"<<-");
        let markers: Vec<&Node> = kids
            .iter()
            .filter(|c| c.kind() == "heredoc_identifier")
            .collect();
        let open = markers.first()?;
        let after_open = bytes.get(open.end_byte()..node.end_byte())?;
        let start = open.end_byte() + memchr::memchr(b'\n', after_open)? + 1;
        let end = match markers.last() {
            Some(close) if close.id() != open.id() && !close.is_missing() => {
                let before = bytes.get(..close.start_byte())?;
                memchr::memrchr(b'\n', before).map_or(0, |i| i + 1)
            }
            _ => node.end_byte(),
        };
        (start, end.max(start), flush)
    } else {
        let open = kids.iter().find(|c| c.kind() == "quoted_template_start")?;
        let end = kids
            .iter()
            .find(|c| c.kind() == "quoted_template_end" && !c.is_missing())
            .map_or(node.end_byte(), |c| c.start_byte());
        (open.end_byte(), end.max(open.end_byte()), false)
    };
    Some(hcl_template::Source {
        node: HostSpan::new(node.start_byte(), node.end_byte()),
        content: HostSpan::new(start, end),
        heredoc,
        flush,
        holes: placeholders(node, start, end),
    })
}

/// The host ranges Terraform substitutes: interpolations and directive tags (`%{ if … }`,
/// `%{ endfor }`), not the literal text between tags. Sorted, inside `start..end`.
fn placeholders(template: Node, start: usize, end: usize) -> Vec<(usize, usize)> {
    const TAGS: &[&str] = &[
        "template_interpolation",
        "template_if_intro",
        "template_else_intro",
        "template_if_end",
        "template_for_start",
        "template_for_end",
    ];
    let mut out = Vec::new();
    let mut stack = vec![template];
    while let Some(node) = stack.pop() {
        if TAGS.contains(&node.kind()) {
            let (s, e) = (node.start_byte().max(start), node.end_byte().min(end));
            if s < e {
                out.push((s, e));
            }
            continue;
        }
        stack.extend(named_children(node));
    }
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fragment::codec::Codec;
    use crate::fragment::{HostOffset, InsertRegion};

    fn fragments(tf: &str) -> Vec<String> {
        parse(tf.as_bytes(), 0)
            .fragments
            .into_iter()
            .map(|f| String::from_utf8_lossy(&f.text).into_owned())
            .collect()
    }

    /// The host offset of the first `needle` in the only fragment of `tf`, and where `needle`
    /// is in `tf` itself.
    fn mapped(tf: &str, needle: &str, host_needle: &str) -> (usize, usize) {
        let parsed = parse(tf.as_bytes(), 0);
        let fragment = parsed.fragments.first().unwrap();
        let text = String::from_utf8_lossy(&fragment.text);
        let at = text.find(needle).unwrap();
        (
            fragment.map.to_host(FragmentOffset(at)).0,
            tf.find(host_needle).unwrap(),
        )
    }

    #[test]
    fn heredoc_with_placeholders_and_escapes() {
        let tf = "resource \"aws_instance\" \"a\" {\n  user_data = <<EOF\n#!/bin/bash\necho ${var.x}\ncurl \"$${MD}/x\" %%{y}\nEOF\n}\n";
        assert_eq!(
            fragments(tf),
            ["#!/bin/bash\necho XXXXXXXX\ncurl \"${MD}/x\" %{y}\n"]
        );
        let (got, want) = mapped(tf, "/x", "/x");
        assert_eq!(got, want);
        let (got, want) = mapped(tf, "${MD}", "$${MD}");
        assert_eq!(got, want);
        let parsed = parse(tf.as_bytes(), 0);
        assert_eq!(parsed.fragments[0].insert, [InsertRegion::verbatim()]);
        assert!(parsed.fragments[0].script);
        assert!(parsed.diagnostics.is_empty());
    }

    #[test]
    fn indented_heredoc_strips_the_common_indent() {
        let tf = "x {\n  user_data = base64encode(<<-EOT\n    #!/bin/sh\n\n    if a; then\n      curl b\n    fi\n  EOT\n  )\n}\n";
        assert_eq!(fragments(tf), ["#!/bin/sh\n\nif a; then\n  curl b\nfi\n"]);
        let (got, want) = mapped(tf, "curl", "curl");
        assert_eq!(got, want);
        let (got, want) = mapped(tf, "fi", "fi\n");
        assert_eq!(got, want);
        let parsed = parse(tf.as_bytes(), 0);
        assert_eq!(
            parsed.fragments[0].insert,
            [InsertRegion::quoted(vec![Quoting::YamlBlock {
                indent: "    ".to_owned()
            }])]
        );
    }

    #[test]
    fn indented_heredoc_with_a_leading_interpolation_keeps_its_indent() {
        let tf = "user_data = <<-EOT\n${x}\n    curl b\n  EOT\n";
        assert_eq!(fragments(tf), ["XXXX\n    curl b\n"]);
        let parsed = parse(tf.as_bytes(), 0);
        assert_eq!(parsed.fragments[0].insert, [InsertRegion::verbatim()]);
        // Whitespace before it counts.
        let tf = "user_data = <<-EOT\n  ${x}\n    curl b\n  EOT\n";
        assert_eq!(fragments(tf), ["XXXX\n  curl b\n"]);
    }

    #[test]
    fn directive_tags_become_words_and_bodies_stay() {
        let tf = "user_data = <<EOF\n%{ if var.on }\ncurl a\n%{ endif }\nEOF\n";
        assert_eq!(fragments(tf), ["XXXXXXXXXXXXXX\ncurl a\nXXXXXXXXXX\n"]);
    }

    #[test]
    fn nested_braces_in_an_interpolation() {
        let tf = "user_data = \"a ${jsonencode({b = 1})} c\"\n";
        assert_eq!(fragments(tf), [format!("a {} c", "X".repeat(22))]);
    }

    #[test]
    fn quoted_string_escapes() {
        let tf = "user_data = \"#!/bin/sh\\ncurl -H \\\"a\\\\b\\\" \\u00e9 x\\tz\"\n";
        assert_eq!(fragments(tf), ["#!/bin/sh\ncurl -H \"a\\b\" \u{e9} x\tz"]);
        let (got, want) = mapped(tf, "curl", "curl");
        assert_eq!(got, want);
        let (got, want) = mapped(tf, "x", "x\\t");
        assert_eq!(got, want);
        let (got, want) = mapped(tf, "z", "z\"");
        assert_eq!(got, want);
        let parsed = parse(tf.as_bytes(), 0);
        assert_eq!(
            parsed.fragments[0].insert,
            [InsertRegion::quoted(vec![Quoting::JsonString])]
        );
        let map = &parsed.fragments[0].map;
        assert_eq!(
            map.span_to_host(FragmentSpan::new(0, 10)),
            HostSpan::new(13, 24),
            "a span ending on a decoded \\n covers its escape"
        );
        assert_eq!(map.to_host(FragmentOffset(10)), HostOffset(24));
    }

    #[test]
    fn arguments_anywhere_but_only_user_data() {
        let tf = "locals {\n  howto = \"curl a\"\n}\nmodule \"m\" {\n  launch = { user_data = \"curl b\", \"user_data\" = \"curl c\" }\n  description = <<EOF\ncurl d\nEOF\n}\n";
        assert_eq!(fragments(tf), ["curl b", "curl c"]);
    }

    #[test]
    fn wrappers_and_conditionals() {
        let tf = "user_data = var.on ? trimspace(base64encode(\"curl a\")) : (\"curl b\")\n";
        assert_eq!(fragments(tf), ["curl a", "curl b"]);
        assert!(fragments("user_data = local.script\n").is_empty());
        assert!(fragments("user_data = replace(\"curl a\", \"a\", \"b\")\n").is_empty());
    }

    #[test]
    fn files_are_referenced() {
        let tf = "a { user_data = file(\"${path.module}/setup.tpl\") }\nb { user_data = base64encode(templatefile(\"boot.tpl\", { x = 1 })) }\nc { user_data_base64 = filebase64(\"${ path.root }/d/e.sh\") }\nd { user_data = file(\"${var.dir}/x.sh\") }\ne { template = file(\"other.sh\") }\n";
        let parsed = parse(tf.as_bytes(), 0);
        assert_eq!(
            parsed.referenced,
            [
                PathBuf::from("setup.tpl"),
                PathBuf::from("boot.tpl"),
                PathBuf::from("d/e.sh")
            ]
        );
        assert!(parsed.fragments.is_empty());
    }

    #[test]
    fn named_user_data_is_read_once_and_followed() {
        let tf = "locals {\n  user_data = <<-EOT\n    #!/bin/sh\n    curl x\n  EOT\n  motd = <<-EOT\n    #!/bin/sh\n    echo hi\n  EOT\n  url = \"curl x\"\n  unused = <<-EOT\n    curl y\n  EOT\n}\n\
                  data \"cloudinit_config\" \"c\" {\n  part {\n    content = local.motd\n  }\n  part {\n    content = file(\"p.sh\")\n  }\n}\n\
                  data \"template_file\" \"t\" {\n  template = \"#!/bin/sh\\ncurl z\"\n}\n\
                  resource \"aws_instance\" \"a\" {\n  user_data = data.cloudinit_config.c.rendered\n}\n\
                  resource \"aws_instance\" \"b\" {\n  user_data = local.user_data\n}\n\
                  resource \"aws_instance\" \"c\" {\n  user_data = local.elsewhere\n}\n";
        let parsed = parse(tf.as_bytes(), 0);
        let texts: Vec<String> = parsed
            .fragments
            .iter()
            .map(|f| String::from_utf8_lossy(&f.text).trim().to_owned())
            .collect();
        // In reading order: arguments, data renderers, locals. `user_data` once (read as an
        // argument, then reused as a local), the template, `motd` (named by a part); not the URL
        // string nor the unnamed, shebang-less local.
        assert_eq!(
            texts,
            [
                "#!/bin/sh\ncurl x",
                "#!/bin/sh\ncurl z",
                "#!/bin/sh\necho hi"
            ]
        );
        assert_eq!(parsed.referenced, [PathBuf::from("p.sh")]);
        let user_data = |name: &str| {
            let setting = parsed.settings.iter().find(|s| s.name == name).unwrap();
            setting.user_data.clone()
        };
        // `a` boots the part that names `motd` and the part's file.
        assert_eq!(user_data("a").fragments, [2]);
        assert_eq!(user_data("a").files, [0]);
        assert_eq!(user_data("b").fragments, [0]);
        assert!(user_data("b").symbols.is_empty());
        // A name defined nowhere in the file is left to the pass across files.
        assert_eq!(user_data("c").symbols, ["local.elsewhere"]);
        let symbols: Vec<&str> = parsed
            .definitions
            .iter()
            .map(|d| d.symbol.as_str())
            .collect();
        assert_eq!(
            symbols,
            [
                "data.cloudinit_config.c",
                "data.template_file.t",
                "local.user_data",
                "local.motd"
            ]
        );
    }

    #[test]
    fn base64_literals_are_embedded() {
        use base64::Engine;
        let script = "#!/bin/sh\ncurl http://169.254.169.254/\n";
        let encoded = base64::engine::general_purpose::STANDARD.encode(script);
        for name in ["user_data_base64", "user_data"] {
            let tf = format!("r {{\n  {name} = \"{encoded}\" # x\n}}\n");
            let parsed = parse(tf.as_bytes(), 0);
            assert!(parsed.fragments.is_empty());
            let embedded = parsed.embedded.first().unwrap();
            assert_eq!(embedded.bytes, script.as_bytes());
            let start = tf.find(&encoded).unwrap();
            assert_eq!(embedded.span, HostSpan::new(start, start + encoded.len()));
            assert_eq!(embedded.kind, None);
            assert!(embedded.map.is_none());
            assert_eq!(
                embedded.origin,
                [OriginEntry::layer("terraform").with_key(name)]
            );
            assert!(matches!(embedded.codec, Codec::Base64 { .. }));
        }
        // A word that happens to be base64 is still a script in `user_data`.
        assert_eq!(fragments("user_data = \"reboot01\"\n"), ["reboot01"]);
        // `user_data_base64` that is not base64 is a diagnostic.
        let parsed = parse(b"user_data_base64 = \"curl a\"\n", 0);
        assert!(parsed.embedded.is_empty() && parsed.fragments.is_empty());
        assert_eq!(parsed.diagnostics.len(), 1);
        // Inside base64encode() the text is plain.
        let parsed = parse(b"user_data_base64 = base64encode(\"curl a\")\n", 0);
        assert_eq!(parsed.fragments.len(), 1);
    }

    #[test]
    fn windows_and_other_interpreters_are_skipped() {
        assert!(
            fragments("user_data = <<EOF\n<powershell>\ncurl x\n</powershell>\nEOF\n").is_empty()
        );
        assert!(fragments("user_data = <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF\n").is_empty());
        assert_eq!(
            fragments("user_data = <<EOF\n#!/usr/bin/env bash\nx\nEOF\n").len(),
            1
        );
    }

    #[test]
    fn crlf_heredoc() {
        let tf = "user_data = <<EOF\r\ncurl a\r\nEOF\r\n";
        assert_eq!(fragments(tf), ["curl a\r\n"]);
        let (got, want) = mapped(tf, "a", "a\r");
        assert_eq!(got, want);
    }

    #[test]
    fn broken_files_get_a_diagnostic_and_what_parses() {
        for tf in [
            "resource \"a\" \"b\" {\n  user_data = <<EOF\ncurl x\n",
            "resource \"a\" \"b\" {\n  user_data = \"curl x\n}\nresource \"c\" {\n",
            "resource \"a\" {\n  x = [\n  user_data = <<-EOF\n    curl z\n  EOF\n",
            "user_data = <<-EOT\n",
            "user_data = \"\\u12",
            "\"${",
            "user_data = <<EOF",
        ] {
            let parsed = parse(tf.as_bytes(), 0);
            assert!(!parsed.diagnostics.is_empty(), "{tf:?}");
            for fragment in &parsed.fragments {
                let end = fragment
                    .map
                    .span_to_host(FragmentSpan::new(0, fragment.text.len()));
                assert!(end.end.0 <= tf.len(), "{tf:?}");
            }
        }
        assert_eq!(
            fragments("resource \"a\" \"b\" {\n  user_data = <<EOF\ncurl x\n"),
            ["curl x\n"]
        );
    }

    #[test]
    fn cloud_config_heredocs_are_read_as_cloud_config() {
        let tf = "user_data = <<-EOF\n  #cloud-config\n  runcmd:\n    - curl -s http://169.254.169.254/latest/meta-data/ # x\nEOF\n";
        let parsed = parse(tf.as_bytes(), 0);
        let fragment = parsed.fragments.first().unwrap();
        let text = String::from_utf8_lossy(&fragment.text);
        assert!(
            !text.contains("#cloud-config"),
            "read as a script: {text:?}"
        );
        let at = text.find("curl").unwrap();
        assert_eq!(
            fragment.map.to_host(FragmentOffset(at)),
            HostOffset(tf.find("curl").unwrap())
        );
    }

    #[test]
    fn yaml_scalars_holding_interpolations_are_not_requoted() {
        let tf = "user_data = <<EOF\n#cloud-config\nruncmd:\n  - curl a ${b}\n  - curl c\nEOF\n";
        let parsed = parse(tf.as_bytes(), 0);
        let fragment = parsed.fragments.first().unwrap();
        let text = String::from_utf8_lossy(&fragment.text);
        let first = fragment.region_at(text.find("curl a").unwrap());
        assert_eq!(first.quoting, None);
        assert_eq!(first.plain, None);
        let second = fragment.region_at(text.find("curl c").unwrap());
        assert!(second.quoting.is_some());
        let plain = second.plain.unwrap();
        let at = tf.find("curl c").unwrap();
        assert_eq!(plain.span, HostSpan::new(at, at + 6));
    }

    /// Every fragment offset and embedded span maps inside the host.
    fn assert_inside(tf: &[u8]) {
        let parsed = parse(tf, 0);
        for fragment in &parsed.fragments {
            for at in 0..=fragment.text.len() {
                let host = fragment.map.to_host(FragmentOffset(at)).0;
                assert!(
                    host <= tf.len(),
                    "{:?} offset {at}",
                    String::from_utf8_lossy(tf)
                );
            }
        }
        for embedded in &parsed.embedded {
            assert!(embedded.span.end.0 <= tf.len());
        }
    }

    const EVERYTHING: &str = "resource \"aws_instance\" \"a\" {\n  user_data = <<EOF\n#!/bin/bash\necho ${var.x} $${Y} %{ if z }\ncurl http://169.254.169.254/ %{ endif }\nEOF\n}\nresource \"aws_launch_template\" \"b\" {\n  user_data = base64encode(<<-EOT\n    #cloud-config\n    runcmd:\n      - curl ${jsonencode({a = \"}\"})}\n  EOT\n  )\n  user_data_base64 = \"IyEvYmluL3NoCmN1cmwgaHR0cDovLzE2OS4yNTQuMTY5LjI1NC8K\"\n  x = { user_data = \"a\\n\\\"b\\\" \\u00e9 ${c}\" }\n  y = file(\"${path.module}/s.sh\")\n}\n";

    #[test]
    fn every_prefix_maps_inside_the_host() {
        let bytes = EVERYTHING.as_bytes();
        assert!(parse(bytes, 0).diagnostics.is_empty());
        assert_eq!(parse(bytes, 0).fragments.len(), 3);
        for end in 0..=bytes.len() {
            assert_inside(&bytes[..end]);
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_pieces_never_panic(pieces in proptest::collection::vec(0usize..20, 0..40)) {
            const PIECES: &[&str] = &[
                "user_data = ", "<<EOF\n", "<<-EOF\n", "EOF\n", "  ", "\"", "${", "}", "%{", "$${",
                "\\", "\\u00", "\n", "\r\n", "curl x", "file(", ")", "base64encode(", "{", "\t",
            ];
            let tf: String = pieces.iter().filter_map(|&i| PIECES.get(i).copied()).collect();
            assert_inside(tf.as_bytes());
        }
    }
}
