//! Python scripts: recognised by extension (`.py`, `.pyw`) or a Python shebang; the whole file is
//! one fragment of Python code.

use std::path::Path;

use super::Parsed;
use crate::fragment::{Fragment, HostId, Language};

pub fn is_python(path: &Path, bytes: &[u8]) -> bool {
    let by_extension = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("py") || e.eq_ignore_ascii_case("pyw"));
    by_extension || has_python_shebang(bytes)
}

fn has_python_shebang(bytes: &[u8]) -> bool {
    if !bytes.starts_with(b"#!") {
        return false;
    }
    let end = memchr::memchr(b'\n', bytes).unwrap_or(bytes.len()).min(512);
    let line = String::from_utf8_lossy(bytes.get(..end).unwrap_or_default());
    crate::fragment::language::is_python_shebang(line.trim_end_matches('\r'))
}

pub fn parse(bytes: &[u8], host: HostId) -> Parsed {
    Parsed {
        fragments: vec![Fragment {
            host,
            language: Language::Python,
            ..Fragment::script(bytes)
        }],
        ..Parsed::default()
    }
}
