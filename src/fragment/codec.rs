//! Encodings that hold a whole host inside its parent (base64, gzip, a YAML plain scalar): decode
//! when a front end finds one, encode when a fix has changed the decoded bytes. Re-encoding keeps
//! the original's shape (base64 line length and line endings). Each encoding's decoder and
//! encoder live in its layer's module (`base64`, `gzip`, `yaml_block`, …); the type is in
//! `encoding` (the layers build its values); this is the dispatch.

pub use super::encoding::{Codec, MAX_DECODED};
use super::{base64, exec_form, gzip, mime_transfer, yaml_block, yaml_plain};

impl Codec {
    pub fn name(&self) -> &'static str {
        match self {
            Codec::Base64 { .. } => "base64",
            Codec::Gzip => "gzip",
            Codec::GzipBase64 => "gzip+base64",
            Codec::YamlPlain | Codec::YamlBlock { .. } => "yaml-scalar",
            Codec::Verbatim => "part",
            Codec::ExecForm => "exec-form",
        }
    }

    /// Whether positions inside are only known through the decoded text (so findings report the
    /// encoded value's position and an origin with the decoded line).
    pub fn is_opaque(&self) -> bool {
        !matches!(
            self,
            Codec::YamlPlain | Codec::YamlBlock { .. } | Codec::Verbatim | Codec::ExecForm
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
        }
    }
}
