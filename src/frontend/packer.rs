//! Packer templates in the legacy JSON format (`builders`, `provisioners`). HCL2 templates
//! (`.pkr.hcl`) are read by `packer_hcl`; both hand over the same pieces.
//!
//! - A `shell` provisioner's `inline` lines are one script: Packer writes them into one file
//!   behind its `inline_shebang` (`/bin/sh -e` unless set) and runs it on the build instance.
//!   Its `script` and `scripts` name files that it uploads and runs there: they are read as
//!   shell scripts (`Parsed::referenced`, paths from the template's directory, where Packer is
//!   usually run). `{{ … }}` (template functions, user variables) is substituted before the
//!   shell runs and is read as an unknown word.
//! - A `shell-local` provisioner runs on the machine that runs Packer, not on the instance
//!   being built: a metadata request there asks the build machine's own IMDS (a CI runner on
//!   EC2, say). It is read as a script like any other (the request breaks there when that
//!   machine requires tokens), but it is not code of the build instance.
//! - `powershell` and `windows-shell` provisioners are not shell (see `super::powershell`).
//! - An `amazon-ebs`/`amazon-instance`/… builder's `user_data` is user data of the build
//!   instance, read as what its content says; `user_data_file` names a file read as user data.
//!   In this JSON format its `metadata_options` and `imds_support` are not read as settings yet
//!   (a note says so); in HCL2 `metadata_options` is (see `packer_hcl`).

use tree_sitter::Node;

use super::script::command_lines;
use super::yaml;
use super::Parsed;
use crate::fragment::HostId;
use crate::model::{Note, OriginEntry};

/// Whether a document is a legacy JSON Packer template: `builders` or `provisioners` given as
/// lists of objects with a `type`.
pub fn is_template(document: Node, bytes: &[u8]) -> bool {
    ["builders", "provisioners"].iter().any(|key| {
        yaml::get(document, bytes, key).is_some_and(|list| {
            yaml::is_sequence(list, bytes)
                && yaml::items(list, bytes)
                    .iter()
                    .any(|item| yaml::get(*item, bytes, "type").is_some())
        })
    })
}

/// The note for `imds_support`, the default of the image a Packer source registers: instances
/// launched from it (not the build instance) get it, in files this scan may not see.
pub fn image_default_note(source: &str) -> Note {
    Note::partly_analysed(format!(
        "the Packer source {source} sets `imds_support`, the metadata default of the image it registers (not of its build instance), which is not read as a setting"
    ))
}

/// The note for the instance metadata settings of a Packer source that are not read.
pub fn settings_note(source: &str) -> Note {
    Note::partly_analysed(format!(
        "the Packer source {source} sets `metadata_options`/`imds_support`, which are not read as instance metadata settings yet"
    ))
}

/// The note for a provisioner that is PowerShell or Windows `cmd`.
pub const WINDOWS_PROVISIONERS: &[&str] = &["powershell", "windows-shell"];

pub fn read(document: Node, bytes: &[u8], host: HostId, parsed: &mut Parsed) {
    if let Some(builders) = yaml::get(document, bytes, "builders") {
        for (i, builder) in yaml::items(builders, bytes).into_iter().enumerate() {
            let kind = text(yaml::get(builder, bytes, "type"), bytes);
            if !kind.starts_with("amazon-") {
                continue;
            }
            let name = yaml::get(builder, bytes, "name")
                .and_then(|n| yaml::scalar_string(n, bytes))
                .unwrap_or_else(|| format!("{kind} (builder {})", i + 1));
            if let Some(scalar) = yaml::get(builder, bytes, "user_data")
                .and_then(|u| yaml::scalar(u, bytes))
                .filter(|s| !s.text.is_empty())
            {
                let mut embedded = super::kubernetes::scalar_host(
                    &scalar,
                    vec![OriginEntry::layer("packer")
                        .with_name(name.clone())
                        .with_key("user_data")],
                );
                embedded.kind = super::classify_content(&embedded.bytes);
                parsed.embedded.push(embedded);
            }
            let file = text(yaml::get(builder, bytes, "user_data_file"), bytes);
            if !file.is_empty() {
                referenced(&file, parsed);
            }
            if yaml::get(builder, bytes, "metadata_options").is_some()
                || yaml::get(builder, bytes, "imds_support").is_some()
            {
                parsed.diagnostics.push(settings_note(&name));
            }
        }
    }
    let Some(provisioners) = yaml::get(document, bytes, "provisioners") else {
        return;
    };
    for (i, provisioner) in yaml::items(provisioners, bytes).into_iter().enumerate() {
        let kind = text(yaml::get(provisioner, bytes, "type"), bytes);
        let what = format!("the {kind} provisioner {}", i + 1);
        let shell = matches!(kind.as_str(), "shell" | "shell-local");
        if !shell && !WINDOWS_PROVISIONERS.contains(&kind.as_str()) {
            continue;
        }
        if let Some(inline) = yaml::get(provisioner, bytes, "inline") {
            let (script, unread) = command_lines(inline, bytes, "{{", "}}");
            if !shell {
                super::powershell(script, &what, parsed);
                continue;
            }
            if unread > 0 {
                parsed.diagnostics.push(Note::partly_analysed(format!(
                    "{what}: {unread} inline line(s) that are not strings were not read"
                )));
            }
            if !script.is_empty() {
                parsed.fragments.push(script.finish(host));
            }
        }
        if !shell {
            continue;
        }
        if let Some(script) = yaml::get(provisioner, bytes, "script") {
            referenced(&text(Some(script), bytes), parsed);
        }
        if let Some(scripts) = yaml::get(provisioner, bytes, "scripts") {
            for script in yaml::items(scripts, bytes) {
                referenced(&text(Some(script), bytes), parsed);
            }
        }
    }
}

fn text(node: Option<Node>, bytes: &[u8]) -> String {
    node.and_then(|n| yaml::scalar_string(n, bytes))
        .unwrap_or_default()
}

/// A file a provisioner or builder names: read as a script, unless its name is built by the
/// template (`{{ … }}`, `${…}`), which is said in a note. The template's own directory
/// (`{{template_dir}}/`, `${path.root}/`), where paths are read from anyway, is dropped.
pub fn referenced(path: &str, parsed: &mut Parsed) {
    if path.is_empty() {
        return;
    }
    let compact: String = path.chars().filter(|c| !c.is_whitespace()).collect();
    let path = ["{{template_dir}}/", "${path.root}/"]
        .iter()
        .find_map(|prefix| compact.strip_prefix(prefix))
        .filter(|rest| !rest.contains("{{") && !rest.contains("${"))
        .map_or(path, |rest| rest);
    if path.contains("{{") || path.contains("${") {
        parsed.diagnostics.push(Note::partly_analysed(format!(
            "the file `{path}` is named through a template expression; it was not read"
        )));
        return;
    }
    parsed.referenced.push(std::path::PathBuf::from(path));
}

/// A provisioner's `script`/`scripts` (or a source's `user_data_file`) given by an expression
/// that is not a string (a variable, `try(…)`): the files are not read, which a note says.
pub fn unread_files(what: &str, key: &str, parsed: &mut Parsed) {
    parsed.diagnostics.push(Note::partly_analysed(format!(
        "{what}: `{key}` is given by an expression; the files it names were not read"
    )));
}
