//! JavaScript: package.json (the project's requirements, and the versions it forces on
//! transitive packages: `overrides`, `resolutions`) and package-lock.json /
//! npm-shrinkwrap.json (what npm resolved, nested packages included).

use super::json::{self, Json};
use super::Found;
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
