//! Encodings that hold a whole host inside its parent (base64, gzip, a YAML plain scalar): decode
//! when a front end finds one, encode when a fix has changed the decoded bytes. Re-encoding keeps
//! the original's shape (base64 line length and line endings). Each encoding's decoder and
//! encoder live in its layer's module (`base64`, `gzip`, `yaml_block`, …); this is the dispatch.

use super::{base64, exec_form, gzip, mime_transfer, yaml_block, yaml_plain};

/// How a host's bytes are written in its parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Codec {
    /// Base64, wrapped at `line_length` characters (none: one line) with `eol`, each wrapped line
    /// after the first starting with `indent`.
    Base64 {
        line_length: Option<usize>,
        eol: &'static str,
        indent: String,
        /// Blanks and line breaks the original value ended with (kept as they were).
        trailing: String,
    },
    /// Gzip-compressed: read, never rewritten.
    Gzip,
    /// Gzip, then base64 (cloud-init's `gz+b64`).
    GzipBase64,
    /// A YAML flow scalar (plain or quoted): rewritten as a double-quoted scalar.
    YamlPlain,
    /// The content of a YAML literal block scalar: each line after the first starts with
    /// `indent`.
    YamlBlock { indent: String, eol: &'static str },
    /// Copied as it is (a MIME part's body).
    Verbatim,
    /// A Dockerfile exec-form array read as the same command in shell form: a fix writes the
    /// shell form in its place.
    ExecForm,
}

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

/// The most a decoded value may grow to (hostile input: zip bombs, huge blobs).
pub const MAX_DECODED: usize = 16 << 20;
