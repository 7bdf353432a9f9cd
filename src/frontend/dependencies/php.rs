//! PHP: composer.lock, whose `packages` and `packages-dev` list what Composer resolved.

use super::json::{self, Json};
use super::Found;
use crate::model::dependency::{Declared, Ecosystem, Syntax};

pub(super) fn composer_lock(text: &str, found: &mut Found) -> Result<(), String> {
    let json = json::parse(text)?;
    for section in ["packages", "packages-dev"] {
        for package in json.get(section).map_or(&[][..], Json::items) {
            let name = package.get("name").and_then(Json::string);
            let version = package.get("version").and_then(Json::string);
            if let (Some((name, _)), Some((version, span))) = (name, version) {
                found.add(
                    Ecosystem::Packagist,
                    name,
                    version,
                    Syntax::Exact,
                    span,
                    Declared::Lockfile,
                );
            }
        }
    }
    Ok(())
}

/// composer.json: the project's requirements (`require`, `require-dev`), in Composer's
/// constraint syntax.
pub(super) fn composer_json(text: &str, found: &mut Found) -> Result<(), String> {
    let json = json::parse(text)?;
    for section in ["require", "require-dev"] {
        for (name, value) in json.get(section).map_or(&[][..], Json::entries) {
            if let Some((requirement, span)) = value.string() {
                found.add(
                    Ecosystem::Packagist,
                    name,
                    requirement,
                    Syntax::Composer,
                    span,
                    Declared::Manifest,
                );
            }
        }
    }
    Ok(())
}
