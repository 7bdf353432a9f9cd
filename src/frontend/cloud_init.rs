//! cloud-init user data (`#cloud-config`): `runcmd` (all items one script, as cloud-init writes
//! them), `bootcmd` (another), and `write_files` entries that are scripts (a `.sh` path, a `#!`
//! first line, an executable mode), including base64 and gzip content.

use tree_sitter::Node;

use super::script::ScriptBuilder;
use super::yaml::{self, Scalar};
use super::{Embedded, Kind, NotRun, Parsed};
use crate::fragment::codec::Codec;
use crate::fragment::{base64, gzip};
use crate::fragment::{HostId, HostSpan, Quoting};
use crate::model::{Note, OriginEntry};

pub fn parse(bytes: &[u8], host: HostId) -> Parsed {
    let mut parsed = Parsed::default();
    let tree = match yaml::parse_tree(bytes) {
        Ok(tree) => tree,
        Err(why) => {
            parsed
                .diagnostics
                .push(Note::skipped(format!("the cloud-config: {why}")));
            return parsed;
        }
    };
    if tree.root_node().has_error() {
        parsed.diagnostics.push(Note::skipped(
            "the cloud-config is not valid YAML; it was not analysed",
        ));
        return parsed;
    }
    for document in yaml::documents(&tree) {
        read_config(document, bytes, host, &mut parsed);
    }
    parsed.shared = yaml::shared_spans(&tree, bytes);
    parsed
}

/// Reads the modules of one cloud-config mapping (also used for a cloud-config held elsewhere),
/// as cloud-init's YAML loader reads it: of a key given twice, the last; an alias, as the node
/// its anchor marks. The code of a key a later one shadows is kept apart (`Parsed::not_run`).
pub fn read_config(config: Node, bytes: &[u8], host: HostId, parsed: &mut Parsed) {
    for key in ["bootcmd", "runcmd"] {
        if let Some(list) = yaml::get(config, bytes, key) {
            if let Some(fragment) = commands(&[list], bytes, host) {
                parsed.place(list, "cloud-config", "", key);
                parsed.fragments.push(fragment);
            }
        }
        for (_, list) in yaml::shadowed(config, bytes, key) {
            if let Some(fragment) = commands(&[list], bytes, host) {
                parsed.not_run.push(NotRun {
                    fragment,
                    why: shadowed_because(key),
                });
            }
        }
    }
    if let Some(files) = yaml::get(config, bytes, "write_files") {
        for file in yaml::items(files, bytes) {
            write_file(file, bytes, host, "write_files", parsed);
        }
    }
    for (_, files) in yaml::shadowed(config, bytes, "write_files") {
        // What the shadowed files would have been read as: scripts in plain text only (encoded
        // content is not decoded for a note).
        let mut shadowed = Parsed::default();
        for file in yaml::items(files, bytes) {
            write_file(file, bytes, host, "write_files", &mut shadowed);
        }
        parsed
            .not_run
            .extend(shadowed.fragments.into_iter().map(|fragment| NotRun {
                fragment,
                why: shadowed_because("write_files"),
            }));
    }
}

/// Why the code of a `key` that a later one shadows never runs.
fn shadowed_because(key: &str) -> String {
    format!("`{key}` is given again later in the same mapping, and cloud-init reads only the last")
}

/// The items of `runcmd`/`bootcmd` (or of lists run one after the other in one script) as one
/// script: strings as lines, lists as argv lines.
pub(super) fn commands(
    lists: &[Node],
    bytes: &[u8],
    host: HostId,
) -> Option<crate::fragment::Fragment> {
    let mut script = ScriptBuilder::default();
    for item in lists.iter().flat_map(|list| yaml::items(*list, bytes)) {
        if !script.is_empty() {
            script.newline(item.start_byte());
        }
        if yaml::is_sequence(item, bytes) {
            let words: Vec<Scalar> = yaml::items(item, bytes)
                .into_iter()
                .filter_map(|w| yaml::scalar(w, bytes))
                .collect();
            script.push_argv(&words);
        } else if let Some(scalar) = yaml::scalar(item, bytes) {
            script.push_scalar(&scalar);
        }
    }
    (!script.is_empty()).then(|| script.finish(host))
}

/// One file written at boot (cloud-init `write_files`, Cluster API's `files`, named `layer` in
/// origin chains), read when it is a script.
pub(super) fn write_file(file: Node, bytes: &[u8], host: HostId, layer: &str, parsed: &mut Parsed) {
    let field = |key: &str| yaml::get(file, bytes, key).and_then(|n| yaml::scalar(n, bytes));
    let Some(content) = field("content") else {
        return;
    };
    let path = field("path").map(|s| s.text).unwrap_or_default();
    let encoding = field("encoding")
        .map(|s| s.text.to_ascii_lowercase())
        .unwrap_or_default();
    let executable = field("permissions")
        .and_then(|p| u32::from_str_radix(p.text.trim().trim_start_matches("0o"), 8).ok())
        .is_some_and(|mode| mode & 0o111 != 0);
    let origin = vec![OriginEntry::layer(layer).with_name(path.clone())];
    let decoded: Option<(Vec<u8>, Codec)> = match encoding.as_str() {
        "b64" | "base64" => base64::decode(content.text.as_bytes())
            .map(|(bytes, codec)| (bytes, block_aware(codec, &content))),
        "gzip" | "gz" => {
            // YAML gives binary as `!!binary` base64.
            base64::decode(content.text.as_bytes())
                .and_then(|(b, _)| gzip::decode(&b))
                .map(|b| (b, Codec::GzipBase64))
        }
        "gz+b64" | "gzip+base64" | "gz+base64" | "gzip+b64" => {
            base64::decode(content.text.as_bytes())
                .and_then(|(b, _)| gzip::decode(&b))
                .map(|b| (b, Codec::GzipBase64))
        }
        _ => None,
    };
    let is_script = |text: &[u8]| path.ends_with(".sh") || executable || text.starts_with(b"#!");
    match decoded {
        Some((decoded, codec)) => {
            if is_script(&decoded) {
                parsed.embedded.push(Embedded {
                    span: content_span(&content),
                    bytes: decoded,
                    codec,
                    map: None,
                    origin,
                    kind: Some(Kind::Shell),
                });
            }
        }
        None if encoding.is_empty() || encoding == "text/plain" => {
            if is_script(content.text.as_bytes()) {
                parsed.place_span(content.span, layer, &path, "content");
                let mut script = ScriptBuilder::default();
                script.push_scalar(&content);
                parsed.fragments.push(script.finish(host));
            }
        }
        None => parsed.diagnostics.push(Note::partly_analysed(format!(
            "write_files content for {path} could not be decoded as {encoding}"
        ))),
    }
}

/// Where an encoded value's text starts and ends in the host: a block scalar's content, a plain
/// scalar, or what is between a quoted scalar's quotes (a re-encoded value replaces this span, so
/// it must not take the closing quote with it: a fixed Secret `data: "…"` lost its quote and the
/// rest of the file became the string).
pub fn content_span(scalar: &Scalar) -> HostSpan {
    let quoted = scalar.region.plain.is_none()
        && matches!(
            scalar.region.quoting.as_deref(),
            Some([Quoting::YamlDoubleQuoted, ..] | [Quoting::YamlSingleQuoted { .. }, ..])
        );
    let start = scalar
        .anchors
        .first()
        .map_or(scalar.span.start.0 + usize::from(quoted), |a| a.1);
    let end = if quoted {
        scalar.span.end.0.saturating_sub(1)
    } else {
        scalar.span.end.0
    };
    HostSpan::new(start, end.max(start))
}

/// Base64 read from a block scalar is re-encoded with the block's indentation.
pub fn block_aware(codec: Codec, scalar: &Scalar) -> Codec {
    match (codec, &scalar.region.quoting) {
        (
            Codec::Base64 {
                line_length,
                eol,
                trailing,
                ..
            },
            Some(layers),
        ) => match layers.first() {
            Some(crate::fragment::Quoting::YamlBlock { indent }) => Codec::Base64 {
                line_length,
                eol,
                indent: indent.clone(),
                trailing,
            },
            _ => Codec::Base64 {
                line_length,
                eol,
                indent: String::new(),
                trailing,
            },
        },
        (codec, _) => codec,
    }
}
