//! Named user data: the top-level `data` renderers (`cloudinit_config`, `template_file`) and
//! `locals` of a file, read as user data; the names a value uses (`data.cloudinit_config.NAME`,
//! `local.NAME`), followed through the file's definitions; and the definitions as other files of
//! the module see them.

use tree_sitter::Node;

use super::user_data::{Encoding, ReadUserData, Reader};
use super::{named_children, read_template, text, top_level_blocks, RENDERERS};
use crate::frontend::{Kind, Parsed};

/// User data defined by name in the file: what reading each of its values added.
#[derive(Debug)]
pub(super) struct Definition {
    pub(super) symbol: String,
    pub(super) reads: Vec<ReadUserData>,
}

/// The top-level `data` renderers and `locals` of the file, read as user data (see the module
/// documentation for which locals).
pub(super) fn definitions(
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
        // Each attribute, with the kind its part's `content_type` names.
        let mut attributes: Vec<(Node, Option<Kind>)> = Vec::new();
        for child in body.map(|b| named_children(*b)).unwrap_or_default() {
            if child.kind() == "attribute" {
                attributes.push((child, None));
            } else if child.kind() == "block" {
                // `part { content_type = …, content = … }`
                let part: Vec<Node> = named_children(child)
                    .into_iter()
                    .filter(|n| n.kind() == "body")
                    .flat_map(named_children)
                    .filter(|n| n.kind() == "attribute")
                    .collect();
                let kind = part
                    .iter()
                    .find(|a| argument_name(**a, bytes) == "content_type")
                    .and_then(|a| {
                        named_children(*a)
                            .into_iter()
                            .find(|n| n.kind() == "expression")
                    })
                    .and_then(|value| super::user_data::part_kind(value, bytes));
                attributes.extend(part.into_iter().map(|a| (a, kind)));
            }
        }
        let reads = attributes
            .into_iter()
            .filter(|(a, _)| argument_name(*a, bytes) == *argument)
            .filter_map(|(a, kind)| {
                reader.part_kind.set(kind);
                let read = read(a, argument, parsed);
                reader.part_kind.set(None);
                read
            })
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
pub(super) fn export(definitions: &[Definition]) -> Vec<crate::frontend::Definition> {
    definitions
        .iter()
        .map(|definition| {
            let mut out = crate::frontend::Definition {
                symbol: definition.symbol.clone(),
                ..crate::frontend::Definition::default()
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
pub(super) fn followed<'a>(
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
                || crate::frontend::user_data_kind(start).is_some_and(|k| k != Kind::Gzip);
        }
        if matches!(node.kind(), "attribute" | "expression" | "template_expr") {
            stack.extend(named_children(node));
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::super::parse;

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
}
