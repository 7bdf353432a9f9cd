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
//! IMDS012 says. `shell-local` runs elsewhere and is no boot code, and neither is a provisioner
//! that `only`/`except` keep off the source (a list given by an expression limits nothing).
//! Packer reads a directory's `.pkr.hcl` files as one template: a build that names a source of
//! another file hands what it runs there to the pass across files (`Parsed::definitions`, symbol
//! `source.amazon-ebs.NAME`), and a source that no build of its own file names looks for them
//! in the other files of its directory (`crate::links`; none found: its boot code is unseen).
//! `imds_support = "v2.0"` is the default of the image the build registers,
//! for the instances launched from it later, not of the build instance: it gets a note, not a
//! setting.

use tree_sitter::Node;

use super::script::ScriptBuilder;
use super::terraform::{named_children, read_template, text, top_level_blocks};
use super::{Definition, Parsed};
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
    let mut builds = Vec::new();
    let mut parsed = super::terraform::parse_packer(bytes, host, |root, parsed| {
        builds = read(root, bytes, host, parsed)
    });
    // Boot code of sources that other files of the directory declare, for the pass across files.
    parsed.definitions.extend(builds);
    parsed
}

/// One provisioner of a `build` block: the fragments it runs on the build instance and the
/// files it names (indices into `Parsed`), whether some of its code was not read, and the
/// sources it is limited to (`only`) or kept off (`except`), as `amazon-ebs.NAME`.
struct Provisioner {
    fragments: Vec<usize>,
    files: std::ops::Range<usize>,
    unread: bool,
    only: Option<Vec<String>>,
    except: Option<Vec<String>>,
}

impl Provisioner {
    /// Whether it runs when Packer builds `source` (`amazon-ebs.NAME`).
    fn runs_for(&self, source: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|only| only.iter().any(|o| o == source))
            && !self
                .except
                .as_ref()
                .is_some_and(|except| except.iter().any(|e| e == source))
    }
}

/// The symbol under which a `build` block in one file hands the boot code of a source declared
/// in another file of the directory (Packer reads a directory's `.pkr.hcl` files as one
/// template) to the pass across files: `source.amazon-ebs.NAME`.
fn source_symbol(source: &str) -> String {
    format!("source.{source}")
}

/// Reads the Packer blocks; returns the boot code the builds give sources this file does not
/// declare.
fn read(root: Node, bytes: &[u8], host: HostId, parsed: &mut Parsed) -> Vec<Definition> {
    let mut elsewhere: Vec<Definition> = Vec::new();
    // The sources of this file some build of it names (all of them when a build's list cannot
    // be read).
    let mut built: Vec<String> = Vec::new();
    let mut built_all = false;
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
                let provisioners = provisioners(block, bytes, host, &mut count, parsed);
                let sources = build_sources(block, bytes);
                built_all |= sources.is_empty();
                let mut declared = Vec::new();
                for setting in &mut parsed.settings {
                    if setting.source != Source::Packer {
                        continue;
                    }
                    let named = format!("{}.{}", setting.kind, setting.name);
                    declared.push(named.clone());
                    // The names it is built under here (`only`/`except` name a build's own).
                    let uses: Vec<&String> = if sources.is_empty() {
                        vec![&named]
                    } else {
                        sources
                            .iter()
                            .filter(|(source, _)| *source == named)
                            .map(|(_, build_name)| build_name)
                            .collect()
                    };
                    if uses.is_empty() {
                        continue;
                    }
                    built.push(named.clone());
                    // What the provisioners that run for it run on the build instance is its
                    // boot code: a tokenless request there breaks the build once it requires
                    // tokens.
                    for p in provisioners
                        .iter()
                        .filter(|p| uses.iter().any(|name| p.runs_for(name)))
                    {
                        super::packer::add_boot_code(
                            setting,
                            p.fragments.iter().copied(),
                            0..0,
                            p.files.clone(),
                            p.unread,
                        );
                    }
                }
                // A source of another file of the directory.
                for (source, build_name) in sources
                    .iter()
                    .filter(|(s, _)| s.starts_with("amazon-") && !declared.contains(s))
                {
                    let symbol = source_symbol(source);
                    let at = match elsewhere.iter().position(|d| d.symbol == symbol) {
                        Some(at) => at,
                        None => {
                            elsewhere.push(Definition {
                                symbol,
                                ..Definition::default()
                            });
                            elsewhere.len() - 1
                        }
                    };
                    let Some(definition) = elsewhere.get_mut(at) else {
                        continue;
                    };
                    for p in provisioners.iter().filter(|p| p.runs_for(build_name)) {
                        definition.fragments.extend(p.fragments.iter().copied());
                        definition.referenced.extend(p.files.clone());
                    }
                }
            }
            _ => {}
        }
    }
    // A source no build of its file names is built, if at all, by the builds of the other
    // files of its directory: the pass across files looks for them there.
    if !built_all {
        for setting in parsed.settings.iter_mut() {
            let named = format!("{}.{}", setting.kind, setting.name);
            if setting.source == Source::Packer && !built.contains(&named) {
                setting.user_data.symbols.push(source_symbol(&named));
                setting
                    .user_data
                    .elsewhere
                    .get_or_insert_with(|| BUILT_ELSEWHERE.to_owned());
            }
        }
    }
    elsewhere
}

/// Why the boot code of a source that no build of its own file names is elsewhere.
const BUILT_ELSEWHERE: &str =
    "no `build` of its own file names it: the builds of the other `.pkr.hcl` files of its directory (one Packer template) run its provisioners";

/// The sources a `build` block builds (`sources = ["source.amazon-ebs.NAME"]`, or a nested
/// `source "source.amazon-ebs.NAME" { … }` block), as `amazon-ebs.NAME`, each with the name it is
/// built under, which `only`/`except` match: a nested block's `name = "OTHER"` makes it
/// `amazon-ebs.OTHER` (Packer's `SourceUseBlock.String`); none when they cannot be read.
fn build_sources(build: Node, bytes: &[u8]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(build_body) = named_children(build)
        .into_iter()
        .find(|n| n.kind() == "body")
    {
        for block in named_children(build_body)
            .into_iter()
            .filter(|n| n.kind() == "block")
        {
            let kids = named_children(block);
            let keyword = kids.first().map(|k| text(*k, bytes));
            let label = kids.iter().find(|k| k.kind() == "string_lit");
            if let (Some(b"source"), Some(label)) = (keyword, label) {
                let label = String::from_utf8_lossy(text(*label, bytes));
                let label = label.trim_matches('"');
                let source = label.strip_prefix("source.").unwrap_or(label).to_owned();
                let renamed = body(block, bytes)
                    .into_iter()
                    .find(|(key, _)| key == "name")
                    .and_then(|(_, value)| value)
                    .and_then(|value| {
                        let mut templates = Vec::new();
                        let mut other = 0;
                        strings(value, &mut templates, &mut other);
                        match (templates.as_slice(), other) {
                            ([template], 0) => read_template(*template, bytes),
                            _ => None,
                        }
                    })
                    .map(|t| String::from_utf8_lossy(&t.text).into_owned());
                let build_name = match (renamed, source.split_once('.')) {
                    (Some(name), Some((kind, _))) => format!("{kind}.{name}"),
                    _ => source.clone(),
                };
                out.push((source, build_name));
            }
        }
    }
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
                let source = text.strip_prefix("source.").unwrap_or(&text).to_owned();
                out.push((source.clone(), source));
            }
        }
    }
    out
}

/// The `provisioner` blocks of a `build` block, in order; returns those that run on the build
/// instance (`shell`, `powershell`, … but not `shell-local`), with what they run there.
fn provisioners(
    build: Node,
    bytes: &[u8],
    host: HostId,
    count: &mut usize,
    parsed: &mut Parsed,
) -> Vec<Provisioner> {
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
        let (fragments, files, notes) = (
            parsed.fragments.len(),
            parsed.referenced.len(),
            parsed.diagnostics.len(),
        );
        let (mut only, mut except): (Option<Vec<String>>, Option<Vec<String>>) = (None, None);
        for (name, value) in self::body(block, bytes) {
            let Some(value) = value else {
                continue;
            };
            let mut templates = Vec::new();
            let mut other = 0;
            strings(value, &mut templates, &mut other);
            match name.as_str() {
                "only" | "except" => {
                    // Source names, `amazon-ebs.NAME`. A list this scan cannot read whole
                    // (a variable in it) limits nothing: the provisioner is taken to run for
                    // every source, so its requests still count as their boot code.
                    let names: Vec<String> = templates
                        .iter()
                        .filter_map(|t| read_template(*t, bytes))
                        .map(|t| String::from_utf8_lossy(&t.text).into_owned())
                        .map(|n| n.strip_prefix("source.").map_or(n.clone(), str::to_owned))
                        .collect();
                    if other == 0 {
                        if name == "only" {
                            only = Some(names);
                        } else {
                            except = Some(names);
                        }
                    }
                }
                "inline" => {
                    parsed.place(
                        value,
                        "packer",
                        &format!("{kind} provisioner {count}"),
                        "inline",
                    );
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
                        parsed.fragments.push(script.finish(host));
                    }
                }
                "script" | "scripts" if !shell => {
                    parsed
                        .diagnostics
                        .push(super::packer::windows_files_note(&what));
                }
                "script" | "scripts" => {
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
        if kind != "shell-local" {
            // What a shell or PowerShell provisioner runs on the build instance is its boot code;
            // a cmd.exe one is not read, and says so (`unread`).
            let run = (fragments..parsed.fragments.len()).collect();
            remote.push(Provisioner {
                fragments: run,
                files: files..parsed.referenced.len(),
                unread: parsed.diagnostics.len() > notes,
                only,
                except,
            });
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
