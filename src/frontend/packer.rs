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
//!   Its `metadata_options` is the build instance's setting (`Source::Packer`), whose boot code
//!   is its user data and what the `shell` provisioners run (on every builder, unless `only` or
//!   `except` names them): see `packer_hcl`, which reads HCL2 sources the same way.
//!   `imds_support` is the registered image's default, not the build instance's: a note.

use tree_sitter::Node;

use super::script::command_lines;
use super::yaml;
use super::Parsed;
use crate::fragment::{HostId, HostSpan};
use crate::model::setting::{MetadataSetting, OptionsBlock, Source};
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

/// The note for a provisioner that is PowerShell or Windows `cmd`.
pub const WINDOWS_PROVISIONERS: &[&str] = &["powershell", "windows-shell"];

/// Packer builders that launch an instance to build on (`amazon-chroot` launches none).
pub const INSTANCE_BUILDERS: &[&str] = &[
    "amazon-ebs",
    "amazon-instance",
    "amazon-ebssurrogate",
    "amazon-ebsvolume",
];

pub fn read(document: Node, bytes: &[u8], host: HostId, parsed: &mut Parsed) {
    // Each instance builder's setting, and its name (provisioners' `only`/`except` use it).
    let mut settings: Vec<(String, MetadataSetting)> = Vec::new();
    if let Some(builders) = yaml::get(document, bytes, "builders") {
        for (i, builder) in yaml::items(builders, bytes).into_iter().enumerate() {
            let kind = text(yaml::get(builder, bytes, "type"), bytes);
            if !kind.starts_with("amazon-") {
                continue;
            }
            let named =
                yaml::get(builder, bytes, "name").and_then(|n| yaml::scalar_string(n, bytes));
            let name = named
                .clone()
                .unwrap_or_else(|| format!("{kind} (builder {})", i + 1));
            let (fragments, embedded, files) = (
                parsed.fragments.len(),
                parsed.embedded.len(),
                parsed.referenced.len(),
            );
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
            if yaml::get(builder, bytes, "imds_support").is_some() {
                parsed.diagnostics.push(image_default_note(&name));
            }
            if INSTANCE_BUILDERS.contains(&kind.as_str()) {
                let mut setting = builder_setting(builder, &kind, &name, bytes, host);
                add_boot_code(
                    &mut setting,
                    fragments..parsed.fragments.len(),
                    embedded..parsed.embedded.len(),
                    files..parsed.referenced.len(),
                    false,
                );
                settings.push((named.unwrap_or(kind), setting));
            }
        }
    }
    let provisioners = yaml::get(document, bytes, "provisioners")
        .map(|p| yaml::items(p, bytes))
        .unwrap_or_default();
    for (i, provisioner) in provisioners.into_iter().enumerate() {
        let kind = text(yaml::get(provisioner, bytes, "type"), bytes);
        let what = format!("the {kind} provisioner {}", i + 1);
        let shell = matches!(kind.as_str(), "shell" | "shell-local");
        if !shell && !WINDOWS_PROVISIONERS.contains(&kind.as_str()) {
            continue;
        }
        let (fragments, files, notes) = (
            parsed.fragments.len(),
            parsed.referenced.len(),
            parsed.diagnostics.len(),
        );
        if let Some(inline) = yaml::get(provisioner, bytes, "inline") {
            let name = format!("{kind} provisioner {}", i + 1);
            parsed.place(inline, "packer", &name, "inline");
            let (script, unread) = command_lines(inline, bytes, "{{", "}}");
            if kind == "powershell" {
                super::powershell(script, host, parsed);
            } else if !shell {
                parsed.diagnostics.push(Note::partly_analysed(format!(
                    "{what} runs cmd.exe batch commands, which are not analysed"
                )));
            } else {
                if unread > 0 {
                    parsed.diagnostics.push(Note::partly_analysed(format!(
                        "{what}: {unread} inline line(s) that are not strings were not read"
                    )));
                }
                if !script.is_empty() {
                    parsed.fragments.push(script.finish(host));
                }
            }
        }
        if shell {
            if let Some(script) = yaml::get(provisioner, bytes, "script") {
                referenced(&text(Some(script), bytes), parsed);
            }
            if let Some(scripts) = yaml::get(provisioner, bytes, "scripts") {
                for script in yaml::items(scripts, bytes) {
                    referenced(&text(Some(script), bytes), parsed);
                }
            }
        } else if ["script", "scripts"]
            .iter()
            .any(|key| yaml::get(provisioner, bytes, key).is_some())
        {
            parsed.diagnostics.push(windows_files_note(&what));
        }
        if kind == "shell-local" {
            continue;
        }
        // What runs on the build instances of the builders it applies to is their boot code.
        let names = |key: &str| -> Option<Vec<String>> {
            yaml::get(provisioner, bytes, key).map(|list| {
                yaml::items(list, bytes)
                    .into_iter()
                    .filter_map(|n| yaml::scalar_string(n, bytes))
                    .collect()
            })
        };
        let (only, except) = (names("only"), names("except"));
        for (name, setting) in &mut settings {
            let applies = only.as_ref().is_none_or(|o| o.contains(name))
                && !except.as_ref().is_some_and(|e| e.contains(name));
            if applies {
                add_boot_code(
                    setting,
                    fragments..parsed.fragments.len(),
                    0..0,
                    files..parsed.referenced.len(),
                    parsed.diagnostics.len() > notes,
                );
            }
        }
    }
    parsed.settings.extend(settings.into_iter().map(|(_, s)| s));
}

/// What a PowerShell or cmd.exe provisioner's script files get: they are not read.
pub fn windows_files_note(what: &str) -> Note {
    Note::partly_analysed(format!(
        "{what} runs script files on the build instance, which are not read"
    ))
}

/// A builder's `metadata_options` as the build instance's setting.
fn builder_setting(
    builder: Node,
    kind: &str,
    name: &str,
    bytes: &[u8],
    host: HostId,
) -> MetadataSetting {
    let span = HostSpan::new(builder.start_byte(), builder.end_byte());
    let mut setting = MetadataSetting::new(Source::Packer, kind, name, host, span);
    // Findings about the builder point at its `type`.
    setting.head = yaml::get(builder, bytes, "type")
        .map_or(span, |t| HostSpan::new(t.start_byte(), t.end_byte()));
    if let (Some(key), Some(block)) = (
        yaml::key_node(builder, bytes, "metadata_options"),
        yaml::get(builder, bytes, "metadata_options"),
    ) {
        setting.block = Some(OptionsBlock {
            key: "metadata_options".to_owned(),
            head: HostSpan::new(key.start_byte(), key.end_byte()),
            span: HostSpan::new(key.start_byte(), block.end_byte()),
            slot: yaml::mapping_slot(block, bytes),
        });
        setting.tokens = yaml::setting_value(block, bytes, "http_tokens");
        setting.hop_limit = yaml::setting_value(block, bytes, "http_put_response_hop_limit");
        setting.endpoint = yaml::setting_value(block, bytes, "http_endpoint");
    }
    setting.parent = yaml::mapping_slot(builder, bytes);
    setting
}

fn text(node: Option<Node>, bytes: &[u8]) -> String {
    node.and_then(|n| yaml::scalar_string(n, bytes))
        .unwrap_or_default()
}

/// Why a build instance's boot code is in other files: the scripts its provisioners run, its
/// `user_data_file` (what stays true when the pass across files does not find them).
pub const FILES_ELSEWHERE: &str = "its provisioners or user data run files (`script`, `scripts`, `user_data_file`) that are not checked with it";

/// Why a build instance's boot code is not all visible: a provisioner whose code was not read
/// (notes say which).
pub const UNREAD_PROVISIONER: &str =
    "some of the code its provisioners run is not read (PowerShell, or given by an expression)";

/// Adds boot code to a build instance's setting: fragments, decoded hosts and files (ranges of
/// indices into the same `Parsed`), and whether some of it was not read.
pub fn add_boot_code(
    setting: &mut MetadataSetting,
    fragments: impl Iterator<Item = usize>,
    embedded: std::ops::Range<usize>,
    files: std::ops::Range<usize>,
    unread: bool,
) {
    let user_data = &mut setting.user_data;
    user_data.fragments.extend(fragments);
    user_data.embedded.extend(embedded);
    if !files.is_empty() {
        user_data.files.extend(files);
        user_data.elsewhere = Some(FILES_ELSEWHERE.to_owned());
    }
    if unread && user_data.unseen.is_none() {
        user_data.unseen = Some(UNREAD_PROVISIONER.to_owned());
    }
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
