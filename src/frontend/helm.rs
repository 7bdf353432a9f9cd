//! Helm chart templates: YAML with Go template actions, under a chart's `templates/` directory
//! (or anywhere, when the text uses `.Values`, `.Release`, `.Chart` or `include`). The template is
//! read as a host of its own (`fragment::go_template`): actions replaced by text of the same
//! length, control lines blanked; that host is then read as Kubernetes YAML. Findings are on the
//! template's own lines; fixes are written in place and never where an action is, which stays
//! byte for byte. What an action renders is not read: a metadata address written inside an action
//! is said in a note.

use std::path::Path;

use super::{Embedded, Kind, Parsed};
use crate::fragment::codec::Codec;
use crate::fragment::go_template;
use crate::fragment::{HostId, HostSpan, OffsetMap};
use crate::model::{Note, OriginEntry};

/// Words of Helm's template objects and functions: a YAML file with actions that uses them is a
/// chart template wherever it is.
const HELM_WORDS: &[&[u8]] = &[b".Values", b".Release", b".Chart", b"include \""];

/// Text that, inside an action, is a metadata address the template renders (not read).
const ADDRESSES: &[&[u8]] = &[b"169.254.169.254", b"fd00:ec2::254", b"instance-data"];

/// Whether a file is a Helm chart template.
pub fn is_template(path: &Path, bytes: &[u8]) -> bool {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if !matches!(extension.as_deref(), Some("yaml" | "yml" | "tpl")) {
        return false;
    }
    if !go_template::has_action(bytes) {
        return false;
    }
    let in_templates = path
        .parent()
        .is_some_and(|dir| dir.components().any(|c| c.as_os_str() == "templates"));
    in_templates
        || HELM_WORDS
            .iter()
            .any(|word| memchr::memmem::find(bytes, word).is_some())
}

/// Reads a template: one host, its actions replaced, read as Kubernetes YAML.
pub fn parse(bytes: &[u8], _host: HostId) -> Parsed {
    let blanked = go_template::blank(bytes);
    let mut parsed = Parsed::default();
    let mut lines = Vec::new();
    for &(start, end) in &blanked.actions {
        let action = bytes.get(start..end).unwrap_or_default();
        let inside = action.get(2..).unwrap_or_default();
        let inside = inside
            .strip_prefix(b"-")
            .unwrap_or(inside)
            .trim_ascii_start();
        if inside.starts_with(b"/*") {
            continue;
        }
        if ADDRESSES
            .iter()
            .any(|address| memchr::memmem::find(action, address).is_some())
        {
            let line = memchr::memchr_iter(b'\n', bytes.get(..start).unwrap_or_default()).count();
            lines.push((line + 1).to_string());
        }
    }
    if !lines.is_empty() {
        parsed.diagnostics.push(Note::partly_analysed(format!(
            "template action{} at line{} {} name{} a metadata address: what an action renders is not analysed",
            if lines.len() == 1 { "" } else { "s" },
            if lines.len() == 1 { "" } else { "s" },
            lines.join(", "),
            if lines.len() == 1 { "s" } else { "" },
        )));
    }
    parsed.embedded.push(Embedded {
        span: HostSpan::new(0, bytes.len()),
        bytes: blanked.text,
        codec: Codec::GoTemplate {
            actions: blanked.actions,
        },
        map: Some(OffsetMap::verbatim(0)),
        origin: vec![OriginEntry::layer("helm-template")],
        kind: Some(Kind::Manifest),
    });
    parsed
}
