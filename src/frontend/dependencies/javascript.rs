//! JavaScript: package.json (the project's requirements, and the versions it forces on
//! transitive packages: `overrides`, `resolutions`) and package-lock.json /
//! npm-shrinkwrap.json (what npm resolved, nested packages included).

use super::json::{self, Json};
use super::{span_in, Found};
use crate::model::dependency::{Declared, Ecosystem, Syntax};

/// The sections of package.json whose packages run with the application (peer requirements
/// are the host's to satisfy).
const SECTIONS: &[&str] = &["dependencies", "devDependencies", "optionalDependencies"];

pub(super) fn package_json(text: &str, found: &mut Found) -> Result<(), String> {
    let json = json::parse(text)?;
    for section in SECTIONS {
        for (name, value) in json.get(section).map_or(&[][..], Json::entries) {
            if let Some((requirement, span)) = value.string() {
                found.add(
                    Ecosystem::Npm,
                    name,
                    requirement,
                    Syntax::Npm,
                    span,
                    Declared::Manifest,
                );
            }
        }
    }
    // Versions forced on the whole tree, transitive packages included: npm's `overrides`
    // (nested by parent package) and Yarn's `resolutions` (keyed by path, `**/aws-sdk`).
    let mut stack: Vec<&Json> = json.get("overrides").into_iter().collect();
    while let Some(overrides) = stack.pop() {
        for (key, value) in overrides.entries() {
            match value.string() {
                Some((requirement, span)) => {
                    // `aws-sdk@^2` overrides only the versions matching `^2`.
                    let name = key
                        .get(1..)
                        .and_then(|k| k.split_once('@'))
                        .map_or(key.as_str(), |(n, _)| key.get(..n.len() + 1).unwrap_or(key));
                    found.add(
                        Ecosystem::Npm,
                        name,
                        requirement,
                        Syntax::Npm,
                        span,
                        Declared::Manifest,
                    );
                }
                None => stack.push(value),
            }
        }
    }
    for (key, value) in json.get("resolutions").map_or(&[][..], Json::entries) {
        if let Some((requirement, span)) = value.string() {
            let name = key.rsplit('/').next().unwrap_or(key);
            found.add(
                Ecosystem::Npm,
                name,
                requirement,
                Syntax::Npm,
                span,
                Declared::Manifest,
            );
        }
    }
    Ok(())
}

pub(super) fn package_lock(text: &str, found: &mut Found) -> Result<(), String> {
    let json = json::parse(text)?;
    // Lockfile version 2 and 3: `packages` keyed by install path.
    if let Some(packages) = json.get("packages") {
        for (path, package) in packages.entries() {
            let Some(at) = path.rfind("node_modules/") else {
                continue; // the project itself
            };
            let name = package
                .get("name")
                .and_then(Json::string)
                .map_or_else(|| path.get(at + 13..).unwrap_or_default(), |(n, _)| n);
            if let Some((version, span)) = package.get("version").and_then(Json::string) {
                found.add(
                    Ecosystem::Npm,
                    name,
                    version,
                    Syntax::Exact,
                    span,
                    Declared::Lockfile,
                );
            }
        }
        return Ok(());
    }
    // Lockfile version 1: `dependencies`, nested.
    let mut stack: Vec<&Json> = json.get("dependencies").into_iter().collect();
    while let Some(dependencies) = stack.pop() {
        for (name, package) in dependencies.entries() {
            if let Some((version, span)) = package.get("version").and_then(Json::string) {
                found.add(
                    Ecosystem::Npm,
                    name,
                    version,
                    Syntax::Exact,
                    span,
                    Declared::Lockfile,
                );
            }
            stack.extend(package.get("dependencies"));
        }
    }
    Ok(())
}

/// The package name of a descriptor (`aws-sdk@^2.500.0`, `@aws-sdk/core@npm:3.0.0`,
/// `"aws-sdk@npm:^2"`): what comes before the `@` that is not the scope's.
fn descriptor_name(descriptor: &str) -> &str {
    let descriptor = descriptor.trim().trim_matches(['"', '\'']);
    match descriptor.get(1..).and_then(|rest| rest.find('@')) {
        Some(at) => descriptor.get(..at + 1).unwrap_or(descriptor),
        None => descriptor,
    }
}

/// yarn.lock, classic (v1: `version "2.500.0"`) and berry (v2 and later: a YAML file,
/// `version: 2.500.0`, with a `__metadata` entry). An entry starts at a line without indent and
/// names the descriptors it resolves (`aws-sdk@^2.1, aws-sdk@^2.500.0:`); its `version` is two
/// spaces in. Packages of every depth are entries of their own.
pub(super) fn yarn_lock(text: &str, found: &mut Found) {
    let mut name: Option<&str> = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let content = line.trim_end_matches(['\n', '\r']);
        if content.trim_start().starts_with('#') || content.trim().is_empty() {
            continue;
        }
        if !content.starts_with(' ') {
            // An entry's descriptors; `__metadata` (berry's own) is not a package.
            let key = content.trim_end_matches(':');
            let first = key.split(", ").next().unwrap_or(key);
            let candidate = descriptor_name(first);
            name = (candidate != "__metadata" && !candidate.is_empty()).then_some(candidate);
            continue;
        }
        let Some(field) = content.strip_prefix("  ") else {
            continue;
        };
        if field.starts_with(' ') {
            continue; // a package's own dependencies
        }
        let Some(package) = name else {
            continue;
        };
        let Some(rest) = field
            .strip_prefix("version:")
            .or_else(|| field.strip_prefix("version "))
        else {
            continue;
        };
        let version = rest.trim().trim_matches(['"', '\'']);
        if version.is_empty() {
            continue;
        }
        found.add(
            Ecosystem::Npm,
            package,
            version,
            Syntax::Exact,
            span_in(line, version, start),
            Declared::Lockfile,
        );
    }
}

/// pnpm-lock.yaml: every package installed, at any depth, is a key of its `packages:` map —
/// `/aws-sdk/2.500.0` (lockfile 5), `/aws-sdk@2.500.0` (6), `aws-sdk@2.500.0` (9), quoted or
/// not, with peer suffixes (`_react@18.0.0`, `(react@18.0.0)`) after the version.
pub(super) fn pnpm_lock(text: &str, found: &mut Found) {
    let mut in_packages = false;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let content = line.trim_end_matches(['\n', '\r']);
        if content.trim().is_empty() || content.trim_start().starts_with('#') {
            continue;
        }
        if !content.starts_with(' ') {
            in_packages = content.trim_end() == "packages:";
            continue;
        }
        let Some(key) = content.strip_prefix("  ") else {
            continue;
        };
        if !in_packages || key.starts_with(' ') {
            continue;
        }
        let Some(key) = key.trim_end().strip_suffix(':') else {
            continue;
        };
        let key = key.trim_matches(['\'', '"']);
        let key = key.strip_prefix('/').unwrap_or(key);
        // `@scope/name@1.0.0` / `name@1.0.0`, or lockfile 5's `@scope/name/1.0.0`.
        let (package, version) = match key.get(1..).and_then(|rest| rest.find('@')) {
            Some(at) => (
                key.get(..at + 1).unwrap_or_default(),
                key.get(at + 2..).unwrap_or_default(),
            ),
            None => match key.rfind('/') {
                Some(slash) => (
                    key.get(..slash).unwrap_or_default(),
                    key.get(slash + 1..).unwrap_or_default(),
                ),
                None => continue,
            },
        };
        let version = version.split(['(', '_']).next().unwrap_or_default().trim();
        if package.is_empty() || version.is_empty() {
            continue;
        }
        found.add(
            Ecosystem::Npm,
            package,
            version,
            Syntax::Exact,
            span_in(line, version, start),
            Declared::Lockfile,
        );
    }
}
