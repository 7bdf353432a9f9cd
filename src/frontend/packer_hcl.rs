//! Packer HCL2 templates (`*.pkr.hcl`): read as Terraform is (the `user_data` of a `source`
//! block is user data, written in HCL templates), then the Packer blocks, as `packer` describes
//! for the JSON format: a `build` block's `provisioner "shell"`/`"shell-local"` `inline` lines
//! (one script; `${…}` is read as an unknown word), its `script`/`scripts` files, `powershell`
//! provisioners (a note), and a `source "amazon-…"` block's `user_data_file` (a file read as user
//! data).
//!
//! A `source "amazon-…"` block is an instance metadata setting (`Source::Packer`), read as a
//! Terraform resource's (`metadata_options { http_tokens, http_put_response_hop_limit }`, fixed
//! in the same syntax): the settings of the instance Packer builds on (see `packer::add_boot_code`). Its boot code is its
//! `user_data` and what the `shell` provisioners of the `build` blocks that name it (`sources`;
//! all of the file's sources when that list cannot be read) run there, inline or from files: a
//! tokenless request there breaks the build once the source requires tokens, which is what
//! IMDS012 says. `shell-local` runs elsewhere and is no boot code. Sources and builds in different
//! files are not linked. `imds_support = "v2.0"` is the default of the image the build registers,
//! for the instances launched from it later, not of the build instance: it gets a note, not a
//! setting.

use tree_sitter::Node;

use super::script::ScriptBuilder;
use super::terraform::{named_children, read_template, text, top_level_blocks};
use super::Parsed;
use crate::fragment::{HostId, InsertRegion, Quoting};
use crate::model::setting::Source;
use crate::model::Note;

/// Whether a file is a Packer HCL2 template, by its name.
pub fn is_packer(path: &std::path::Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.to_ascii_lowercase().ends_with(".pkr.hcl"))
}

pub fn parse(bytes: &[u8], host: HostId) -> Parsed {
    super::terraform::parse_packer(bytes, host, |root, parsed| read(root, bytes, host, parsed))
}

fn read(root: Node, bytes: &[u8], host: HostId, parsed: &mut Parsed) {
    for (keyword, labels, block) in top_level_blocks(root, bytes) {
        match keyword.as_str() {
            "source" => {
                let kind = labels.first().cloned().unwrap_or_default();
                if !kind.starts_with("amazon-") {
                    continue;
                }
                let name = labels.join(".");
                let mut image_default = false;
                for (name, value) in body(block, bytes) {
                    match (name.as_str(), value) {
                        ("user_data_file", Some(value)) => {
                            let mut templates = Vec::new();
                            let mut other = 0;
                            strings(value, &mut templates, &mut other);
                            match (templates.as_slice(), other) {
                                ([template], 0) => file(*template, bytes, parsed),
                                _ => super::packer::unread_files(
                                    &format!("the source {}", labels.join(".")),
                                    "user_data_file",
                                    parsed,
                                ),
                            }
                        }
                        ("imds_support", _) => image_default = true,
                        _ => {}
                    }
                }
                if image_default {
                    parsed
                        .diagnostics
                        .push(super::packer::image_default_note(&name));
                }
            }
            "build" => {
                let mut count = 0;
                let (fragments, files, notes) = (
                    parsed.fragments.len(),
                    parsed.referenced.len(),
                    parsed.diagnostics.len(),
                );
                let remote = provisioners(block, bytes, host, &mut count, parsed);
                let unread = parsed.diagnostics.len() > notes;
                let sources = build_sources(block, bytes);
                for setting in &mut parsed.settings {
                    let named = format!("{}.{}", setting.kind, setting.name);
                    if setting.source != Source::Packer
                        || !(sources.is_empty() || sources.contains(&named))
                    {
                        continue;
                    }
                    // What the provisioners run on the build instance is its boot code: a
                    // tokenless request there breaks the build once it requires tokens.
                    super::packer::add_boot_code(
                        setting,
                        (fragments..parsed.fragments.len()).filter(|i| remote.contains(i)),
                        0..0,
                        files..parsed.referenced.len(),
                        unread,
                    );
                }
            }
            _ => {}
        }
    }
}

/// The sources a `build` block builds (`sources = ["source.amazon-ebs.NAME"]`), as
/// `amazon-ebs.NAME`; none when they cannot be read.
fn build_sources(build: Node, bytes: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    for (name, value) in body(build, bytes) {
        let (Some(value), "sources") = (value, name.as_str()) else {
            continue;
        };
        let mut templates = Vec::new();
        let mut other = 0;
        strings(value, &mut templates, &mut other);
        if other > 0 {
            return Vec::new();
        }
        for template in templates {
            if let Some(t) = read_template(template, bytes) {
                let text = String::from_utf8_lossy(&t.text).into_owned();
                out.push(text.strip_prefix("source.").unwrap_or(&text).to_owned());
            }
        }
    }
    out
}

/// The `provisioner` blocks of a `build` block, in order; returns the fragments (indices into
/// `parsed.fragments`) that run on the build instance (not `shell-local`).
fn provisioners(
    build: Node,
    bytes: &[u8],
    host: HostId,
    count: &mut usize,
    parsed: &mut Parsed,
) -> Vec<usize> {
    let mut remote = Vec::new();
    let Some(body) = named_children(build)
        .into_iter()
        .find(|n| n.kind() == "body")
    else {
        return remote;
    };
    for block in named_children(body)
        .into_iter()
        .filter(|n| n.kind() == "block")
    {
        let kids = named_children(block);
        let keyword = kids
            .first()
            .map(|k| String::from_utf8_lossy(text(*k, bytes)).into_owned())
            .unwrap_or_default();
        if keyword != "provisioner" {
            continue;
        }
        *count += 1;
        let kind = kids
            .iter()
            .find(|k| k.kind() == "string_lit")
            .map(|k| {
                String::from_utf8_lossy(text(*k, bytes))
                    .trim_matches('"')
                    .to_owned()
            })
            .unwrap_or_default();
        let what = format!("the {kind} provisioner {count}");
        let shell = matches!(kind.as_str(), "shell" | "shell-local");
        if !shell && !super::packer::WINDOWS_PROVISIONERS.contains(&kind.as_str()) {
            continue;
        }
        for (name, value) in self::body(block, bytes) {
            let Some(value) = value else {
                continue;
            };
            let mut templates = Vec::new();
            let mut other = 0;
            strings(value, &mut templates, &mut other);
            match name.as_str() {
                "inline" => {
                    let mut script = ScriptBuilder::default();
                    for template in &templates {
                        let Some(t) = read_template(*template, bytes) else {
                            continue;
                        };
                        if !script.is_empty() {
                            script.newline(template.start_byte());
                        }
                        // Inserted text is written as the template's (`${` as `$${`), then
                        // through the string's own quoting.
                        let mut quoting: Vec<Quoting> = t.layer.iter().cloned().collect();
                        quoting.push(Quoting::HclTemplate);
                        let region = InsertRegion::quoted(quoting);
                        script.push_text(&String::from_utf8_lossy(&t.text), &t.anchors, region);
                    }
                    if kind == "powershell" {
                        super::powershell(script, host, parsed);
                        continue;
                    }
                    if !shell {
                        parsed.diagnostics.push(Note::partly_analysed(format!(
                            "{what} runs cmd.exe batch commands, which are not analysed"
                        )));
                        continue;
                    }
                    if other > 0 && templates.is_empty() {
                        parsed.diagnostics.push(Note::partly_analysed(format!(
                            "{what}: `inline` is given by an expression; it was not read"
                        )));
                    } else if other > 0 {
                        parsed.diagnostics.push(Note::partly_analysed(format!(
                            "{what}: {other} inline line(s) that are not strings were not read"
                        )));
                    }
                    if !script.is_empty() {
                        if kind == "shell" {
                            remote.push(parsed.fragments.len());
                        }
                        parsed.fragments.push(script.finish(host));
                    }
                }
                "script" | "scripts" if shell => {
                    for template in &templates {
                        file(*template, bytes, parsed);
                    }
                    if other > 0 {
                        super::packer::unread_files(&what, &name, parsed);
                    }
                }
                _ => {}
            }
        }
    }
    remote
}

/// A file a string names (as written, when it is built by `${…}`: the note shows it).
fn file(template: Node, bytes: &[u8], parsed: &mut Parsed) {
    match read_template(template, bytes) {
        Some(t) if !t.templated => {
            super::packer::referenced(&String::from_utf8_lossy(&t.text), parsed)
        }
        _ => super::packer::referenced(
            String::from_utf8_lossy(text(template, bytes)).trim_matches('"'),
            parsed,
        ),
    }
}

/// The attributes (name and value) and nested blocks (name, no value) of a block's body.
fn body<'t>(block: Node<'t>, bytes: &[u8]) -> Vec<(String, Option<Node<'t>>)> {
    let Some(body) = named_children(block)
        .into_iter()
        .find(|n| n.kind() == "body")
    else {
        return Vec::new();
    };
    named_children(body)
        .into_iter()
        .filter_map(|item| {
            let kids = named_children(item);
            let name = kids.first().filter(|k| k.kind() == "identifier")?;
            let name = String::from_utf8_lossy(text(*name, bytes)).into_owned();
            match item.kind() {
                "attribute" => Some((
                    name,
                    kids.iter().find(|k| k.kind() == "expression").copied(),
                )),
                "block" => Some((name, None)),
                _ => None,
            }
        })
        .collect()
}

/// How deep a value is followed to its strings.
const MAX_DEPTH: usize = 16;

/// The string templates of a value (a string, or a list of them); `other` counts the items
/// that are something else (a variable, a function call).
fn strings<'t>(value: Node<'t>, out: &mut Vec<Node<'t>>, other: &mut usize) {
    let mut stack = vec![(value, 0)];
    while let Some((node, depth)) = stack.pop() {
        match node.kind() {
            "quoted_template" | "heredoc_template" | "string_lit" => out.push(node),
            "expression" | "collection_value" | "tuple" | "template_expr" | "literal_value"
                if depth < MAX_DEPTH =>
            {
                let kids = named_children(node);
                let known = kids.iter().all(|k| {
                    matches!(
                        k.kind(),
                        "quoted_template"
                            | "heredoc_template"
                            | "string_lit"
                            | "expression"
                            | "collection_value"
                            | "tuple"
                            | "template_expr"
                            | "literal_value"
                            | "comment"
                            | "tuple_start"
                            | "tuple_end"
                    )
                });
                if !known {
                    *other += 1;
                    continue;
                }
                stack.extend(kids.into_iter().rev().map(|k| (k, depth + 1)));
            }
            "comment" | "tuple_start" | "tuple_end" => {}
            _ => *other += 1,
        }
    }
    out.sort_by_key(|n| n.start_byte());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_build_boots_the_sources_it_names_and_shell_local_boots_none() {
        let template = br#"
source "amazon-ebs" "a" {
  metadata_options {
    http_tokens = "required"
  }
}
source "amazon-ebs" "b" {}
source "docker" "c" {}
build {
  sources = ["source.amazon-ebs.a"]
  provisioner "shell" {
    inline = ["curl http://169.254.169.254/latest/meta-data/"]
  }
  provisioner "shell-local" {
    inline = ["curl http://169.254.169.254/latest/meta-data/"]
  }
  provisioner "shell" {
    scripts = ["x.sh"]
  }
}
"#;
        let parsed = parse(template, 0);
        let names: Vec<(&str, &str)> = parsed
            .settings
            .iter()
            .map(|s| (s.kind.as_str(), s.name.as_str()))
            .collect();
        assert_eq!(names, [("amazon-ebs", "a"), ("amazon-ebs", "b")]);
        assert_eq!(parsed.fragments.len(), 2);
        let a = &parsed.settings[0].user_data;
        assert_eq!((a.fragments.clone(), a.files.clone()), (vec![0], vec![0]));
        assert!(a.elsewhere.is_some());
        assert!(parsed.settings[1].user_data.fragments.is_empty());
        assert_eq!(parsed.referenced, [std::path::PathBuf::from("x.sh")]);
    }

    #[test]
    fn inline_given_by_an_expression_gets_a_note_and_hides_boot_code() {
        let template = br#"
source "amazon-ebs" "a" {}
build {
  sources = ["source.amazon-ebs.a"]
  provisioner "shell" {
    inline = try(var.inline, null)
  }
}
"#;
        let parsed = parse(template, 0);
        assert_eq!(
            parsed.diagnostics,
            [Note::partly_analysed(
                "the shell provisioner 1: `inline` is given by an expression; it was not read"
            )]
        );
        assert!(parsed.settings[0].user_data.unseen.is_some());
    }
}
