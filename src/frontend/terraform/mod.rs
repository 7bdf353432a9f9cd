//! Terraform (`.tf`, tree-sitter-hcl): `user_data` and `user_data_base64` arguments, in any block
//! or object. A template (a heredoc or a quoted string) is user data: its text, with HCL's escapes
//! decoded and `${…}`/`%{…}` turned into same-length placeholder words, is read as what its content
//! says (a shell script, a cloud-config, MIME), mapped byte for byte back to the file. A literal
//! base64 value is decoded as a new host. `file()`/`templatefile()` name files that run as user
//! data; the caller reads them. A cloud-init part given to a module (an object with
//! `content_type` of a shell type and `content`, as in `cloudinit_pre_nodeadm = [{…}]`) is user
//! data too, read as its type says.
//!
//! User data is often built elsewhere in the module and named: `data.cloudinit_config.NAME`
//! (its `part` `content`s), `data.template_file.NAME` (its `template`), `local.NAME`. Those
//! definitions are read as user data too (a local only when a user data value in the file names
//! it, or when it reads like user data: `#!`, `#cloud-config`, MIME), and a setting whose
//! `user_data` names one has its boot code; a name defined in another file of the module is left
//! to the pass across files.
//!
//! `user_data` reads the arguments, `definitions` the named user data, `settings` the resources'
//! `metadata_options`; templates are decoded by `fragment::hcl_template`, from where the grammar
//! says they are (here).

mod blocks;
mod definitions;
mod settings;
mod user_data;

use tree_sitter::Node;

use super::Parsed;
use crate::fragment::hcl_template::{self, Template};
use crate::fragment::{HostId, HostSpan};
use crate::model::Note;
use user_data::Reader;

/// The file's tree, with only the items that may matter parsed (see `blocks`).
fn parse_tree(bytes: &[u8]) -> Result<tree_sitter::Tree, crate::syntax::ParseError> {
    match blocks::parse_ranges(bytes) {
        Some(ranges) => {
            crate::syntax::parse_byte_ranges(crate::syntax::Grammar::Hcl, bytes, &ranges)
        }
        None => crate::syntax::parse(crate::syntax::Grammar::Hcl, bytes),
    }
}

pub(crate) fn text<'a>(node: Node, bytes: &'a [u8]) -> &'a [u8] {
    bytes.get(node.byte_range()).unwrap_or_default()
}

pub(crate) fn named_children<'t>(node: Node<'t>) -> Vec<Node<'t>> {
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
    parse_with(bytes, host, "Terraform file", |_, _| {})
}

/// Reads a Packer HCL2 template as Terraform, its `source "amazon-…"` blocks as settings
/// (`settings::packer_sources`), then hands its tree to `more`, which reads what Packer adds (its
/// provisioners) once the settings are there.
pub fn parse_packer(bytes: &[u8], host: HostId, more: impl FnOnce(Node, &mut Parsed)) -> Parsed {
    parse_with(bytes, host, "Packer template", more)
}

/// Reads an HCL file as Terraform (a Packer template too, `what` says which, in notes), then
/// hands its tree to `more`.
fn parse_with(
    bytes: &[u8],
    host: HostId,
    what: &str,
    more: impl FnOnce(Node, &mut Parsed),
) -> Parsed {
    let mut parsed = Parsed::default();
    let tree = match parse_tree(bytes) {
        Ok(tree) => tree,
        Err(why) => {
            parsed.diagnostics.push(Note::skipped(format!(
                "the {what} could not be parsed: {why}; it was not analysed"
            )));
            return parsed;
        }
    };
    let root = tree.root_node();
    let layer = if what == "Packer template" {
        "packer"
    } else {
        "terraform"
    };
    let reader = Reader::new(bytes, host, layer);
    let user_data = user_data::read_arguments(root, &reader, &mut parsed);
    documents(root, &reader, &mut parsed);
    let definitions = definitions::definitions(root, &reader, &user_data, &mut parsed);
    settings::read(root, bytes, host, &user_data, &definitions, &mut parsed);
    if what == "Packer template" {
        settings::packer_sources(root, bytes, host, &user_data, &definitions, &mut parsed);
    }
    more(root, &mut parsed);
    parsed.definitions = definitions::export(&definitions);
    // A resource with a syntax error in it is not read reliably: no fix edits it.
    parsed.unparsed = crate::syntax::unparsed(root, &["body"]);
    if root.has_error() {
        parsed.diagnostics.push(Note::partly_analysed(format!(
            "the {what} has syntax errors; arguments around them may be skipped"
        )));
    }
    parsed
}

/// Resources whose argument holds a document that runs shell code: an SSM document's `content`
/// and an Image Builder component's `data` (YAML or JSON, see `super::ssm`,
/// `super::imagebuilder`).
pub(super) const DOCUMENTS: &[(&str, &str)] = &[
    ("aws_ssm_document", "content"),
    ("aws_imagebuilder_component", "data"),
];

/// The documents of `DOCUMENTS` resources, written as templates (a heredoc, a quoted string):
/// read as YAML or JSON hosts in place. A document built by an expression (`jsonencode({…})`, a
/// reference, `file()`) is not read, which a note says.
fn documents(root: Node, reader: &Reader, parsed: &mut Parsed) {
    for (keyword, labels, block) in top_level_blocks(root, reader.bytes) {
        let (Some(kind), Some(name)) = (labels.first(), labels.get(1)) else {
            continue;
        };
        let Some((_, argument)) = DOCUMENTS.iter().find(|(k, _)| k == kind) else {
            continue;
        };
        if keyword != "resource" {
            continue;
        }
        let Some(body) = named_children(block)
            .into_iter()
            .find(|n| n.kind() == "body")
        else {
            continue;
        };
        for attribute in named_children(body)
            .into_iter()
            .filter(|n| n.kind() == "attribute")
        {
            let kids = named_children(attribute);
            let named = kids
                .first()
                .is_some_and(|k| text(*k, reader.bytes) == argument.as_bytes());
            let Some(value) = kids.iter().find(|k| k.kind() == "expression") else {
                continue;
            };
            if !named {
                continue;
            }
            let template = named_children(*value).first().is_some_and(|t| {
                matches!(t.kind(), "template_expr" | "literal_value")
                    && named_children(*t).first().is_some_and(|t| {
                        matches!(
                            t.kind(),
                            "heredoc_template" | "quoted_template" | "string_lit"
                        )
                    })
            });
            if !template {
                parsed.diagnostics.push(Note::partly_analysed(format!(
                    "the `{argument}` of {kind}.{name} is built by an expression; the document was not read"
                )));
                continue;
            }
            reader.part_kind.set(Some(super::Kind::Manifest));
            reader.value(*value, argument, user_data::Encoding::Plain, 0, parsed);
            reader.part_kind.set(None);
        }
    }
}

/// The top-level blocks of a file: keyword (`resource`, `data`, `locals`), labels, block.
pub(crate) fn top_level_blocks<'t>(
    root: Node<'t>,
    bytes: &[u8],
) -> Vec<(String, Vec<String>, Node<'t>)> {
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

/// A template (a heredoc or a quoted string) decoded as the instance gets it (see
/// `fragment::hcl_template`).
pub(crate) fn read_template(node: Node, bytes: &[u8]) -> Option<Template> {
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

/// Data sources whose rendered result is user data, and the arguments that hold it (`content`
/// inside `part` blocks, or `template`).
pub(super) const RENDERERS: &[(&str, &str)] = &[
    ("cloudinit_config", "content"),
    ("template_cloudinit_config", "content"),
    ("template_file", "template"),
];

/// The name of user data defined elsewhere in the module that an expression refers to:
/// `data.cloudinit_config.x.rendered` → `data.cloudinit_config.x`, `local.boot` → `local.boot`.
pub(super) fn named_user_data(expression: Node, bytes: &[u8]) -> Option<String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fragment::{FragmentOffset, FragmentSpan, HostOffset, InsertRegion, Quoting};

    /// The texts of the fragments the front end finds in `tf`.
    pub(super) fn fragments(tf: &str) -> Vec<String> {
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
        assert_eq!(
            parsed.fragments[0].insert,
            [InsertRegion::quoted(vec![Quoting::HclTemplate])]
        );
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
            [InsertRegion::quoted(vec![
                Quoting::YamlBlock {
                    indent: "    ".to_owned()
                },
                Quoting::HclTemplate
            ])]
        );
    }

    #[test]
    fn indented_heredoc_with_a_leading_interpolation_keeps_its_indent() {
        let tf = "user_data = <<-EOT\n${x}\n    curl b\n  EOT\n";
        assert_eq!(fragments(tf), ["XXXX\n    curl b\n"]);
        let parsed = parse(tf.as_bytes(), 0);
        assert_eq!(
            parsed.fragments[0].insert,
            [InsertRegion::quoted(vec![Quoting::HclTemplate])]
        );
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
            [InsertRegion::quoted(vec![
                Quoting::JsonString,
                Quoting::HclTemplate
            ])]
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
    fn blocks_with_syntax_errors_are_unparsed() {
        let unparsed = |tf: &str| -> Vec<String> {
            parse(tf.as_bytes(), 0)
                .unparsed
                .iter()
                .map(|s| tf[s.start.0..s.end.0].to_owned())
                .collect()
        };
        let clean = "resource \"a\" \"x\" {\n  ami = \"1\"\n}\n";
        assert!(unparsed(clean).is_empty());
        assert!(unparsed(EVERYTHING).is_empty());
        // An unterminated string, heredoc or block: the whole resource, to the end of the file.
        for broken in [
            "resource \"b\" \"y\" {\n  ami = \"2\n}\n",
            "resource \"b\" \"y\" {\n  tags = {\n    Name = \"web\n  }\n}\n",
            "resource \"b\" \"y\" {\n  user_data = <<EOF\n#!/bin/bash\necho hi\n}\n",
            "resource \"b\" \"y\" {\n  ami = \"2\"\n",
        ] {
            let got = unparsed(&format!("{clean}\n{broken}"));
            assert_eq!(got.len(), 1, "{broken:?}: {got:?}");
            assert!(got[0].starts_with("resource \"b\""), "{broken:?}: {got:?}");
            assert!(
                broken.trim_end().ends_with(got[0].trim_end()),
                "{broken:?}: {got:?}"
            );
        }
        // Text the parser skips after a block is unparsed (with what it swallows); the block
        // before it is not.
        let got = unparsed(&format!("{clean}= = =\n{clean}"));
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].starts_with("= = ="), "{got:?}");
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
