//! Front ends: a file is classified once from its name and first bytes, then the front end for its
//! host format cuts it into shell fragments. Front ends know file formats, never clients or rules.

pub mod shell;

use std::path::Path;

use crate::fragment::Fragment;

/// The host format of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A shell script.
    Shell,
}

/// Says which front end reads a file, if any.
pub fn classify(path: &Path, bytes: &[u8]) -> Option<Kind> {
    if shell::is_shell(path, bytes) {
        return Some(Kind::Shell);
    }
    None
}

/// Cuts a file into the fragments of shell code it holds.
pub fn fragments(kind: Kind, bytes: &[u8]) -> Vec<Fragment> {
    match kind {
        Kind::Shell => shell::fragments(bytes),
    }
}
