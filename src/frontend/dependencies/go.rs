//! Go: go.mod's `require` lines and blocks, with `replace` directives applied (a module replaced
//! by a local directory has no version to read), and go.sum, read as a lockfile.

use super::{span_in, Found};
use crate::model::dependency::{Declared, Ecosystem, Syntax};

/// One module path and version as written, with the version's span.
struct Module<'a> {
    path: &'a str,
    version: Option<(&'a str, (usize, usize))>,
}

/// `path [version]` at `base` of the file.
fn module<'a>(text: &'a str, words: &'a str) -> Module<'a> {
    let mut parts = words.split_whitespace();
    let path = parts.next().unwrap_or_default();
    let version = parts.next().map(|v| (v, span_in(text, v, 0)));
    Module { path, version }
}

pub(super) fn go_mod(text: &str, found: &mut Found) {
    let mut requires = Vec::new();
    let mut replaces = Vec::new();
    let mut block: Option<&str> = None;
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or_default().trim();
        if code.is_empty() {
            continue;
        }
        if block.is_some() && code == ")" {
            block = None;
            continue;
        }
        let (verb, rest) = match block {
            Some(verb) => (verb, code),
            None => {
                let (verb, rest) = code.split_once(char::is_whitespace).unwrap_or((code, ""));
                let rest = rest.trim();
                if rest == "(" {
                    block = Some(verb);
                    continue;
                }
                (verb, rest)
            }
        };
        match verb {
            "require" => requires.push(module(text, rest)),
            "replace" => {
                if let Some((old, new)) = rest.split_once("=>") {
                    replaces.push((module(text, old), module(text, new)));
                }
            }
            _ => {}
        }
    }
    for required in requires {
        let Some((version, span)) = required.version else {
            continue;
        };
        let replaced = replaces.iter().find(|(old, _)| {
            old.path == required.path && old.version.is_none_or(|(v, _)| v == version)
        });
        match replaced {
            // Replaced by another module at a version: that is what builds.
            Some((_, new)) => {
                if let Some((new_version, new_span)) = new.version {
                    found.add(
                        Ecosystem::Go,
                        new.path,
                        new_version,
                        Syntax::Exact,
                        new_span,
                        Declared::Manifest,
                    );
                } else {
                    // A local directory: no version to read.
                    found.add(
                        Ecosystem::Go,
                        required.path,
                        "",
                        Syntax::Exact,
                        span,
                        Declared::Manifest,
                    );
                }
            }
            None => found.add(
                Ecosystem::Go,
                required.path,
                version,
                Syntax::Exact,
                span,
                Declared::Manifest,
            ),
        }
    }
}

/// go.sum: a checksum line per module version the build looked at, `PATH VERSION h1:…` for a
/// module whose code was downloaded and `PATH VERSION/go.mod h1:…` for one whose go.mod alone was
/// read. Minimal version selection builds the highest version required, so for each module the
/// highest version with a code checksum is the one built (read as a lockfile entry: what go.mod
/// may not name, the modules other modules pulled in); versions known by their go.mod alone
/// were not built and are not read.
pub(super) fn go_sum(text: &str, found: &mut Found) {
    // For each module, its highest built version so far, with the version's span.
    let mut built: Vec<(&str, &str, (usize, usize))> = Vec::new();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let (Some(path), Some(version), Some(_hash)) = (words.next(), words.next(), words.next())
        else {
            continue;
        };
        if version.ends_with("/go.mod") || !version.starts_with('v') {
            continue;
        }
        let span = span_in(text, version, 0);
        match built.iter_mut().find(|(p, _, _)| *p == path) {
            Some(entry) => {
                if semver_newer(version, entry.1) {
                    *entry = (path, version, span);
                }
            }
            None => built.push((path, version, span)),
        }
    }
    for (path, version, span) in built {
        found.add(
            Ecosystem::Go,
            path,
            version,
            Syntax::Exact,
            span,
            Declared::Lockfile,
        );
    }
}

/// Whether Go module version `a` is newer than `b` (`v1.2.3`, `v0.0.0-2020…-abcdef`
/// pseudo-versions, `+incompatible`): by the numbers of major, minor and patch, then a release
/// before its pre-releases, then the pre-release text.
fn semver_newer(a: &str, b: &str) -> bool {
    fn key(v: &str) -> (Vec<u64>, bool, &str) {
        let v = v.trim_start_matches('v');
        let v = v.split('+').next().unwrap_or_default();
        let (core, pre) = v.split_once('-').unwrap_or((v, ""));
        let numbers = core.split('.').map(|n| n.parse().unwrap_or(0)).collect();
        (numbers, pre.is_empty(), pre)
    }
    key(a) > key(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_as_go_modules_do() {
        assert!(semver_newer("v1.25.38", "v1.25.4"));
        assert!(semver_newer("v1.10.0", "v1.9.9"));
        assert!(semver_newer("v1.2.0", "v1.2.0-rc.1"));
        assert!(!semver_newer("v1.2.0-rc.1", "v1.2.0"));
        assert!(semver_newer(
            "v0.0.0-20200101000000-abcdef",
            "v0.0.0-20190101000000-abcdef"
        ));
        assert!(!semver_newer("v1.2.3", "v1.2.3+incompatible"));
    }
}
