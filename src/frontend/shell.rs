//! Plain shell scripts: recognised by extension or shebang; the whole file is one fragment.

use std::path::Path;

use super::Parsed;
use crate::fragment::{Fragment, HostId};

const EXTENSIONS: &[&str] = &["sh", "bash", "ksh", "zsh", "dash", "bats"];
const TEMPLATE_EXTENSIONS: &[&str] = &["tpl", "tmpl"];

pub fn is_shell(path: &Path, bytes: &[u8]) -> bool {
    has_shell_extension(path) || has_shell_shebang(bytes)
}

fn has_shell_extension(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let mut parts = name.rsplit('.');
    let Some(last) = parts.next() else {
        return false;
    };
    if parts.clone().next().is_none() {
        return false;
    }
    let last = last.to_ascii_lowercase();
    if EXTENSIONS.contains(&last.as_str()) {
        return true;
    }
    if TEMPLATE_EXTENSIONS.contains(&last.as_str()) {
        // `x.sh.tpl`: the extension before the template one must be a shell one, and there must
        // be a name before it.
        let inner = parts.next().map(str::to_ascii_lowercase);
        return parts.next().is_some() && inner.is_some_and(|e| EXTENSIONS.contains(&e.as_str()));
    }
    false
}

fn has_shell_shebang(bytes: &[u8]) -> bool {
    if !bytes.starts_with(b"#!") {
        return false;
    }
    let end = memchr::memchr(b'\n', bytes).unwrap_or(bytes.len()).min(512);
    let line = String::from_utf8_lossy(bytes.get(..end).unwrap_or_default());
    crate::fragment::language::is_shell_shebang(line.trim_end_matches('\r'))
}

/// `#cloud-boothook` user data: the script after the first line.
pub fn parse_boothook(bytes: &[u8], host: HostId) -> Parsed {
    let start = memchr::memchr(b'\n', bytes).map_or(bytes.len(), |i| i + 1);
    Parsed {
        fragments: vec![Fragment {
            host,
            map: crate::fragment::OffsetMap::verbatim(start),
            ..Fragment::script(bytes.get(start..).unwrap_or_default())
        }],
        ..Parsed::default()
    }
}

/// One command line that must stand alone: each request fetches its own token.
pub fn parse_command(bytes: &[u8], host: HostId) -> Parsed {
    Parsed {
        fragments: vec![Fragment {
            host,
            script: false,
            ..Fragment::script(bytes)
        }],
        ..Parsed::default()
    }
}

pub fn parse(bytes: &[u8], host: HostId) -> Parsed {
    Parsed {
        fragments: vec![Fragment {
            host,
            ..Fragment::script(bytes)
        }],
        ..Parsed::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_extension() {
        for name in [
            "a.sh",
            "a.bash",
            "a.KSH",
            "a.zsh",
            "a.dash",
            "t.bats",
            "a.sh.tpl",
            "a.bash.tmpl",
            ".x.sh",
        ] {
            assert!(is_shell(Path::new(name), b""), "{name}");
        }
        for name in ["a.py", "sh", "a.tpl", "sh.tpl", "a.shell", "Makefile"] {
            assert!(!is_shell(Path::new(name), b""), "{name}");
        }
    }

    #[test]
    fn by_shebang() {
        assert!(is_shell(Path::new("run"), b"#!/usr/bin/env bash\necho"));
        assert!(is_shell(Path::new("run"), b"#!/bin/sh\r\necho"));
        assert!(!is_shell(Path::new("run"), b"#!/usr/bin/python3\n"));
        assert!(!is_shell(Path::new("run"), b"echo\n#!/bin/sh\n"));
    }
}
