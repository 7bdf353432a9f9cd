//! `user_data` arguments, in any block or object (and the EKS module's bootstrap ones): each
//! value followed through wrappers and conditionals to its templates, which are read as what
//! their content says (a literal base64 value as a new host), and to the files `file()` names.

use std::path::PathBuf;

use tree_sitter::Node;

use super::{children, named_children, named_user_data, read_template, text};
use crate::fragment::hcl_template::Template;
use crate::fragment::{
    FragmentOffset, FragmentSpan, HostId, HostSpan, InsertRegion, OffsetMap, PlainScalar, Quoting,
};
use crate::frontend::{Embedded, Kind, Parsed};
use crate::model::{Note, OriginEntry};

/// Arguments whose value runs on the instance: the resources' own, and the shell that the EKS
/// module (terraform-aws-modules/eks) runs on its nodes before and after their bootstrap.
pub(super) const ATTRIBUTES: &[&str] = &[
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

/// Every `user_data` argument of the file (and the EKS module's bootstrap ones), read, in the
/// order of the file.
pub(super) fn read_arguments(
    root: Node,
    reader: &Reader,
    parsed: &mut Parsed,
) -> Vec<ReadUserData> {
    let bytes = reader.bytes;
    let mut user_data = Vec::new();
    // Every node, without recursion (hostile nesting must not overflow the stack).
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        if let Some((kind, content)) = cloud_init_part(node, bytes) {
            // A cloud-init part given to a module (`cloudinit_pre_nodeadm = [{content_type,
            // content}]`): its content runs as its type says, with or without a shebang.
            let before = ReadUserData::start(node, parsed, reader);
            reader.part_kind.set(Some(kind));
            reader.value(content, "content", Encoding::Plain, 0, parsed);
            reader.part_kind.set(None);
            user_data.push(before.finish(content, parsed, reader));
        }
        if let Some((name, value)) = argument(node, bytes) {
            if ATTRIBUTES.contains(&name.as_str()) {
                let expect = if name == "user_data_base64" {
                    Encoding::Base64
                } else {
                    Encoding::MaybeBase64
                };
                let before = ReadUserData::start(node, parsed, reader);
                reader.value(value, &name, expect, 0, parsed);
                user_data.push(before.finish(value, parsed, reader));
                continue;
            }
        }
        let mut kids = children(node);
        kids.reverse();
        stack.extend(kids);
    }
    user_data
}

/// What reading one `user_data` argument added to the host's findings.
#[derive(Debug, Clone)]
pub(super) struct ReadUserData {
    /// The body the argument is in.
    pub(super) parent: Option<usize>,
    pub(super) fragments: std::ops::Range<usize>,
    pub(super) embedded: std::ops::Range<usize>,
    pub(super) referenced: std::ops::Range<usize>,
    /// The value as written (heredocs and strings included).
    pub(super) raw: HostSpan,
    /// Whether the value holds a template (a heredoc or a string), not only an expression.
    pub(super) literal: bool,
    /// Templates skipped as not shell (Windows, another interpreter): while reading, the
    /// reader's count before; then how many.
    pub(super) foreign: usize,
    /// The named user data it refers to (`data.cloudinit_config.x`, `local.boot`): while
    /// reading, the reader's count before; then the names.
    pub(super) symbols: Vec<String>,
    pub(super) symbols_from: usize,
}

impl ReadUserData {
    pub(super) fn start(argument: Node, parsed: &Parsed, reader: &Reader) -> Self {
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

    pub(super) fn finish(mut self, value: Node, parsed: &Parsed, reader: &Reader) -> Self {
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

/// An object (`{content_type = "text/x-shellscript", content = …}`) that is a cloud-init part
/// of a type that runs shell code: how its content is read, and the content's value.
fn cloud_init_part<'t>(node: Node<'t>, bytes: &[u8]) -> Option<(Kind, Node<'t>)> {
    if node.kind() != "object" {
        return None;
    }
    let elements: Vec<(String, Node)> = named_children(node)
        .into_iter()
        .filter_map(|e| argument(e, bytes))
        .collect();
    let value = |name: &str| elements.iter().find(|(n, _)| n == name).map(|(_, v)| *v);
    let kind = part_kind(value("content_type")?, bytes)?;
    Some((kind, value("content")?))
}

/// The kind of user data a part's `content_type` (a string literal) names, if it runs shell.
pub(super) fn part_kind(value: Node, bytes: &[u8]) -> Option<Kind> {
    let mut node = value;
    for _ in 0..MAX_DEPTH {
        match node.kind() {
            "expression" | "template_expr" | "literal_value" => {
                node = *named_children(node).first()?;
            }
            _ => break,
        }
    }
    let template = read_template(node, bytes)?;
    if template.templated {
        return None;
    }
    let text = String::from_utf8_lossy(&template.text).to_ascii_lowercase();
    let media = text.split(';').next().unwrap_or_default().trim();
    match media {
        t if t.starts_with("text/x-shellscript") => Some(Kind::Shell),
        "text/cloud-config" => Some(Kind::CloudConfig),
        "text/cloud-boothook" => Some(Kind::Boothook),
        _ => None,
    }
}

/// What the provider does with a value before it becomes user data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Encoding {
    /// Taken as it is (inside `base64encode()`).
    Plain,
    /// `user_data`: base64 is decoded by the provider, anything else taken as it is.
    MaybeBase64,
    /// `user_data_base64`: must be base64.
    Base64,
}

pub(super) struct Reader<'a> {
    pub(super) bytes: &'a [u8],
    host: HostId,
    /// The layer the findings of the file's user data name: `terraform`, or `packer`.
    pub(super) layer: &'static str,
    /// How many templates were skipped as not shell, so far.
    foreign: std::cell::Cell<usize>,
    /// What the value being read is, when its cloud-init part's type says (a script without a
    /// shebang, a cloud-config without its header line).
    pub(super) part_kind: std::cell::Cell<Option<Kind>>,
    /// The names of user data defined elsewhere that values refer to, so far.
    symbols: std::cell::RefCell<Vec<String>>,
}

impl<'a> Reader<'a> {
    pub(super) fn new(bytes: &'a [u8], host: HostId, layer: &'static str) -> Self {
        Reader {
            bytes,
            host,
            layer,
            foreign: std::cell::Cell::new(0),
            part_kind: std::cell::Cell::new(None),
            symbols: std::cell::RefCell::new(Vec::new()),
        }
    }

    /// Follows the value of a user-data argument to the templates and files it is made of.
    pub(super) fn value(
        &self,
        node: Node,
        name: &str,
        expect: Encoding,
        depth: usize,
        parsed: &mut Parsed,
    ) {
        if depth > MAX_DEPTH {
            parsed.diagnostics.push(Note::partly_analysed(format!(
                "`{name}` nests expressions more than {MAX_DEPTH} levels deep; the innermost were not read"
            )));
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
        let origin = || vec![OriginEntry::layer(self.layer).with_key(name)];
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
                parsed.diagnostics.push(Note::partly_analysed(format!(
                    "`{name}` holds a value that is not base64; it was not read"
                )));
            }
            return;
        }
        if template.text.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        if crate::frontend::is_foreign(&template.text) {
            self.foreign.set(self.foreign.get() + 1);
            return;
        }
        let kind = crate::frontend::user_data_kind(&template.text)
            .or(self.part_kind.get())
            .unwrap_or(Kind::Shell);
        // Read in place: the findings inside name the argument (a value decoded from inside it,
        // a host of its own, names it through this too).
        parsed.place(node, self.layer, "", name);
        if kind == Kind::Mime {
            // Its parts are read in place: a part written back whole would lose the template's
            // own syntax (its indentation, what Terraform substitutes).
            let mut quoting: Vec<Quoting> = template.layer.iter().cloned().collect();
            quoting.push(Quoting::HclTemplate);
            let map = OffsetMap::from_anchors(template.anchors.iter().copied());
            let regions = [InsertRegion::quoted(quoting)];
            let outer = crate::frontend::in_place::Outer {
                host: self.host,
                map: &map,
                regions: &regions,
            };
            let mut inner = Parsed::default();
            crate::frontend::in_place::read(kind, &template.text, &outer, &[], &mut inner);
            for diagnostic in &mut inner.diagnostics {
                diagnostic.message = format!("`{name}`: {}", diagnostic.message);
            }
            parsed.fragments.append(&mut inner.fragments);
            parsed.embedded.append(&mut inner.embedded);
            parsed.diagnostics.append(&mut inner.diagnostics);
            parsed.unparsed.append(&mut inner.unparsed);
            parsed.shared.append(&mut inner.shared);
            parsed.not_run.append(&mut inner.not_run);
            parsed.places.append(&mut inner.places);
            return;
        }
        let mut inner = crate::frontend::parse(kind, &template.text, self.host);
        // A note about the template's text is about a part of this file.
        for diagnostic in &mut inner.diagnostics {
            *diagnostic = Note {
                kind: diagnostic.kind.within(),
                message: format!("`{name}`: {}", diagnostic.message),
            };
        }
        lift(inner, &template, parsed);
    }
}

/// Moves what a front end found in a template's text into the host: offsets through the
/// template's map, quoting under the template's own.
fn lift(inner: Parsed, template: &Template, parsed: &mut Parsed) {
    let map = OffsetMap::from_anchors(template.anchors.iter().copied());
    let to_host = |span: HostSpan| map.span_to_host(FragmentSpan::new(span.start.0, span.end.0));
    for mut fragment in inner.fragments {
        fragment.map = map.compose(&fragment.map);
        for region in &mut fragment.insert {
            if let Some(quoting) = &mut region.quoting {
                quoting.insert(0, Quoting::HclTemplate);
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
        parsed.embedded.push(embedded);
    }
    parsed.places.extend(
        inner
            .places
            .into_iter()
            .map(|(span, entry)| (to_host(span), entry)),
    );
    parsed.diagnostics.extend(inner.diagnostics);
    parsed
        .unparsed
        .extend(inner.unparsed.into_iter().map(to_host));
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

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::super::parse;
    use super::super::tests::fragments;
    use crate::fragment::codec::Codec;
    use crate::fragment::{FragmentOffset, HostOffset, HostSpan};
    use crate::model::OriginEntry;

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
    fn values_past_the_depth_limit_get_a_note() {
        let tf = |calls: usize| {
            format!(
                "user_data = {}\"curl a\"{}\n",
                "trimspace(".repeat(calls),
                ")".repeat(calls)
            )
        };
        let within = parse(tf(4).as_bytes(), 0);
        assert_eq!(fragments(&tf(4)), ["curl a"]);
        assert!(within.diagnostics.is_empty());
        let past = parse(tf(40).as_bytes(), 0);
        assert!(past.fragments.is_empty());
        assert_eq!(
            past.diagnostics,
            [crate::model::Note::partly_analysed("`user_data` nests expressions more than 32 levels deep; the innermost were not read")]
        );
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
    fn windows_is_read_as_powershell_and_other_interpreters_are_skipped() {
        // The `<powershell>` section's text, read by the PowerShell analysis.
        assert_eq!(
            fragments("user_data = <<EOF\n<powershell>\ncurl x\n</powershell>\nEOF\n"),
            ["\ncurl x\n"]
        );
        assert!(fragments("user_data = <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF\n").is_empty());
        assert_eq!(
            fragments("user_data = <<EOF\n#!/usr/bin/env bash\nx\nEOF\n").len(),
            1
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
}
