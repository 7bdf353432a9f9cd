//! Encodings that hold a whole host inside its parent (base64, gzip, a YAML plain scalar): decode
//! when a front end finds one, encode when a fix has changed the decoded bytes. Re-encoding keeps
//! the original's shape (base64 line length and line endings). Each encoding's decoder and
//! encoder live in its layer's module (`base64`, `gzip`, `yaml_block`, …); the type is in
//! `encoding` (the layers build its values); this is the dispatch.

pub use super::encoding::{Codec, MAX_DECODED};
use super::{
    base64, exec_form, go_template, gzip, markdown_fence, mime_transfer, yaml_block, yaml_plain,
};

impl Codec {
    pub fn name(&self) -> &'static str {
        match self {
            Codec::Base64 { .. } => "base64",
            Codec::Gzip => "gzip",
            Codec::GzipBase64 => "gzip+base64",
            Codec::YamlPlain | Codec::YamlBlock { .. } => "yaml-scalar",
            Codec::Verbatim => "part",
            Codec::ExecForm => "exec-form",
            Codec::DocumentBlock { .. } => "code-block",
            Codec::GoTemplate { .. } => "go-template",
        }
    }

    /// Whether positions inside are only known through the decoded text (so findings report the
    /// encoded value's position and an origin with the decoded line).
    pub fn is_opaque(&self) -> bool {
        !matches!(
            self,
            Codec::YamlPlain
                | Codec::YamlBlock { .. }
                | Codec::Verbatim
                | Codec::ExecForm
                | Codec::DocumentBlock { .. }
                | Codec::GoTemplate { .. }
        )
    }

    /// Why re-encoding changes more than the text (the fix is then unsafe), if it does.
    pub fn changes_behaviour(&self) -> Option<&'static str> {
        match self {
            Codec::ExecForm => Some(
                "rewrites the exec form into the shell form, which /bin/sh -c runs (signals and PID 1 change)",
            ),
            _ => None,
        }
    }

    /// Writes `decoded` the way the original value was written; `None` when it cannot be. Each
    /// encoding is written by its layer's module, next to its decoder.
    pub fn encode(&self, decoded: &[u8]) -> Option<Vec<u8>> {
        match self {
            Codec::Base64 {
                line_length,
                eol,
                indent,
                trailing,
            } => Some(base64::encode(decoded, *line_length, eol, indent, trailing)),
            Codec::Gzip | Codec::GzipBase64 => gzip::reencode(decoded),
            Codec::Verbatim => Some(mime_transfer::encode(decoded)),
            Codec::ExecForm => Some(exec_form::encode(decoded)),
            Codec::YamlBlock { indent, eol } => yaml_block::encode_content(decoded, indent, eol),
            Codec::YamlPlain => yaml_plain::encode(decoded),
            Codec::DocumentBlock { prefix, console } => {
                // A console block's output lines are not in the decoded text: only edits in
                // place can be written (`encode_in_place`).
                if *console {
                    return None;
                }
                let text = std::str::from_utf8(decoded).ok()?;
                Some(markdown_fence::encode_lines(text, prefix).into_bytes())
            }
            // The actions are not in the decoded text: only edits in place can be written.
            Codec::GoTemplate { .. } => None,
        }
    }

    /// How text inserted in the decoded host is written in its parent when edits are written in
    /// place (through the offset map, the rest of the value left as it is) rather than by
    /// rewriting the whole value; `None` for encodings that are rewritten whole, or where the
    /// text cannot be written. `at_end`: the text is inserted after all of the decoded host, which
    /// in a code block is the start of the line that closes it (before that line's prefix).
    pub fn encode_in_place(&self, text: &str, at_end: bool) -> Option<String> {
        match self {
            Codec::DocumentBlock { prefix, .. } if at_end => {
                markdown_fence::encode_at_end(text, prefix)
            }
            Codec::DocumentBlock { prefix, .. } => Some(markdown_fence::encode(text, prefix)),
            Codec::GoTemplate { .. } => Some(text.to_owned()),
            _ => None,
        }
    }

    /// Whether an edit of decoded bytes `start..end` can be written in place: not where a
    /// template action is (the actions are kept byte for byte).
    pub fn edits_in_place(&self, start: usize, end: usize) -> bool {
        match self {
            Codec::GoTemplate { actions } => go_template::edit_keeps_actions(actions, start, end),
            _ => true,
        }
    }

    /// How a name read from the decoded text (a Kubernetes object's, for an origin chain) is
    /// written in the `encoded` text, where decoding changed it: a template's placeholders shown
    /// as the actions they stand for. `None` where the name is as written.
    pub fn original_name(&self, name: &str, decoded: &[u8], encoded: &[u8]) -> Option<String> {
        match self {
            Codec::GoTemplate { .. } => go_template::unblank_name(name, decoded, encoded),
            _ => None,
        }
    }
}
