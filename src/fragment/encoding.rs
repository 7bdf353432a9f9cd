//! The encodings that hold a whole host inside its parent, as data: which one, and the shape a
//! re-encoding must keep. The layer modules build these values when they decode; `codec`
//! dispatches names, opacity and encoding to them.

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
    /// The content of a code block in documentation (`markdown_fence`): edits are written in
    /// place, each inserted line starting with `prefix` (the container's, and the prompt of a
    /// console block, whose output lines the decoded text leaves out).
    DocumentBlock { prefix: String, console: bool },
    /// A Go template (a Helm chart's) read with its actions replaced by text of the same length
    /// (`go_template`): edits are written in place, and never where an action is.
    GoTemplate { actions: Vec<(usize, usize)> },
}

/// The most a decoded value may grow to (hostile input: zip bombs, huge blobs).
pub const MAX_DECODED: usize = 16 << 20;
