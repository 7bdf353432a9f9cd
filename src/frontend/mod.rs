//! Front ends: a file is classified once from its name and first bytes, then the front end for its
//! host format cuts it into shell fragments (with offset maps into the host's bytes) and hands back
//! the encoded values it found (base64, gzip, a MIME part) as new hosts to read. Front ends know
//! file formats, never clients or rules.

pub mod dockerfile;
pub mod shell;

use std::path::{Path, PathBuf};

use crate::check::OriginEntry;
use crate::fragment::codec::Codec;
use crate::fragment::{Fragment, HostId, HostSpan, OffsetMap};

/// The host format of a file or decoded value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A shell script.
    Shell,
    /// A Dockerfile or Containerfile.
    Dockerfile,
}

/// A value found inside a host that is itself a host (decoded), to be read with `kind` (or with
/// the kind its content says).
#[derive(Debug)]
pub struct Embedded {
    /// The encoded value in the host it was found in.
    pub span: HostSpan,
    pub bytes: Vec<u8>,
    pub codec: Codec,
    /// Decoded offsets to host offsets, when they correspond one to one.
    pub map: Option<OffsetMap>,
    pub origin: Vec<OriginEntry>,
    pub kind: Option<Kind>,
}

/// What a front end found in a host.
#[derive(Debug, Default)]
pub struct Parsed {
    pub fragments: Vec<Fragment>,
    pub embedded: Vec<Embedded>,
    /// Problems with this host (broken syntax), for the user.
    pub diagnostics: Vec<String>,
    /// Other files that this one makes run as user data (Terraform `file()`).
    pub referenced: Vec<PathBuf>,
}

/// Says which front end reads a file, if any.
pub fn classify(path: &Path, bytes: &[u8]) -> Option<Kind> {
    if dockerfile::is_dockerfile(path) {
        return Some(Kind::Dockerfile);
    }
    if shell::is_shell(path, bytes) {
        return Some(Kind::Shell);
    }
    None
}

/// Says how to read a decoded value (user data, a Secret's value) from its content alone.
pub fn classify_content(_bytes: &[u8]) -> Option<Kind> {
    Some(Kind::Shell)
}

/// Reads one host with the front end for `kind`; its fragments point into `host`.
pub fn parse(kind: Kind, bytes: &[u8], host: HostId) -> Parsed {
    match kind {
        Kind::Shell => shell::parse(bytes, host),
        Kind::Dockerfile => dockerfile::parse(bytes, host),
    }
}
