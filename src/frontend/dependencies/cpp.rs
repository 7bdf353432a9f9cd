//! C++: vcpkg manifests (`vcpkg.json`: `dependencies` with `version>=`, `overrides` with an
//! exact version) and Conan references (`name/version`, `name/[range]`) in `conanfile.txt`'s
//! requirement sections and Conan 2's `conan.lock` (`conanfile.py` is Python, read as code).

use super::json::{self, Json};
use super::Found;
use crate::model::dependency::{Declared, Ecosystem, Syntax};

/// The version keys of a vcpkg override (one of them is given).
const VCPKG_VERSIONS: &[&str] = &[
    "version",
    "version-semver",
    "version-date",
    "version-string",
];

pub(super) fn vcpkg_json(text: &str, found: &mut Found) -> Result<(), String> {
    let json = json::parse(text)?;
    for dependency in json.get("dependencies").map_or(&[][..], Json::items) {
        match dependency {
            // A port by name alone: whatever the baseline gives, not judged.
            Json::String { value, span } => found.add(
                Ecosystem::Cpp,
                value,
                "",
                Syntax::Exact,
                *span,
                Declared::Manifest,
            ),
            Json::Object(_) => {
                let Some((name, name_span)) = dependency.get("name").and_then(Json::string) else {
                    continue;
                };
                match dependency.get("version>=").and_then(Json::string) {
                    // The lowest version allowed; the baseline may give a newer one.
                    Some((version, span)) => {
                        let version = without_port_version(version);
                        found.add(
                            Ecosystem::Cpp,
                            name,
                            &format!(">={version}"),
                            Syntax::Npm,
                            (span.0, span.0 + version.len()),
                            Declared::Manifest,
                        );
                    }
                    None => found.add(
                        Ecosystem::Cpp,
                        name,
                        "",
                        Syntax::Exact,
                        name_span,
                        Declared::Manifest,
                    ),
                }
            }
            _ => {}
        }
    }
    // Overrides pin a version whatever the baseline and the other requirements say.
    for pinned in json.get("overrides").map_or(&[][..], Json::items) {
        let Some((name, _)) = pinned.get("name").and_then(Json::string) else {
            continue;
        };
        let Some((version, span)) = VCPKG_VERSIONS
            .iter()
            .find_map(|key| pinned.get(key).and_then(Json::string))
        else {
            continue;
        };
        // The span keeps the port version: a fix that raises the version drops it (a port
        // version belongs to the version it was written for).
        found.add(
            Ecosystem::Cpp,
            name,
            without_port_version(version),
            Syntax::Exact,
            span,
            Declared::Manifest,
        );
    }
    Ok(())
}

/// vcpkg's `1.9.100#2`: the port version after `#` is the port's, not the library's.
fn without_port_version(version: &str) -> &str {
    version.split('#').next().unwrap_or(version)
}

/// `conanfile.txt`: the references of its `[requires]`, `[build_requires]` and
/// `[tool_requires]` sections, one a line.
pub(super) fn conanfile_txt(text: &str, found: &mut Found) {
    let mut in_requires = false;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let code = line.split('#').next().unwrap_or_default().trim();
        if code.starts_with('[') && code.ends_with(']') && !code.contains('/') {
            in_requires = matches!(
                code,
                "[requires]" | "[build_requires]" | "[tool_requires]" | "[test_requires]"
            );
            continue;
        }
        if in_requires && !code.is_empty() {
            let at = start + line.find(code).unwrap_or(0);
            reference(code, at, Declared::Manifest, found);
        }
    }
}

/// Conan 2's `conan.lock` (`"requires": ["aws-sdk-cpp/1.11.352#rev%ts"]`): every quoted string
/// that is a reference.
pub(super) fn conan_strings(text: &str, declared: Declared, found: &mut Found) {
    let bytes = text.as_bytes();
    let mut at = 0;
    while let Some(open) = bytes
        .get(at..)
        .and_then(|rest| rest.iter().position(|&b| b == b'"' || b == b'\''))
    {
        let open = at + open;
        let quote = bytes.get(open).copied().unwrap_or(b'"');
        let Some(len) = bytes
            .get(open + 1..)
            .and_then(|rest| rest.iter().position(|&b| b == quote || b == b'\n'))
        else {
            break;
        };
        let close = open + 1 + len;
        if let Some(inner) = text.get(open + 1..close) {
            if is_reference(inner) {
                reference(inner, open + 1, declared, found);
            }
        }
        at = close + 1;
    }
}

/// Whether a string looks like a Conan reference: a package name, `/`, then a version or a
/// range.
fn is_reference(text: &str) -> bool {
    let Some((name, rest)) = text.split_once('/') else {
        return false;
    };
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_-.+".contains(c))
        && rest.starts_with(|c: char| c.is_ascii_digit() || c == '[')
}

/// One reference at `at`: `name/version[@user/channel][#revision]` or `name/[range]`.
fn reference(text: &str, at: usize, declared: Declared, found: &mut Found) {
    let Some((name, rest)) = text.split_once('/') else {
        return;
    };
    let version_at = at + name.len() + 1;
    if let Some(range) = rest.strip_prefix('[') {
        let Some(end) = range.find(']') else {
            return;
        };
        let inner = range.get(..end).unwrap_or_default();
        // Conan ranges are npm's comparators (`>=1.7 <2`, `~1.9`, `^1.9`); options after a
        // comma (`include_prerelease`) are not part of the range.
        let requirement = inner.split(',').next().unwrap_or_default().trim();
        found.add(
            Ecosystem::Cpp,
            name,
            requirement,
            Syntax::Npm,
            (version_at + 1, version_at + 1 + inner.len()),
            declared,
        );
        return;
    }
    let version = rest
        .split(['@', '#', ' ', '%'])
        .next()
        .unwrap_or_default()
        .trim();
    found.add(
        Ecosystem::Cpp,
        name,
        version,
        Syntax::Exact,
        (version_at, version_at + version.len()),
        declared,
    );
}
