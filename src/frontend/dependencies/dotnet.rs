//! .NET: MSBuild project files (`*.csproj`, `Directory.Packages.props`: `PackageReference`,
//! `PackageVersion`, with `$(Property)` versions taken from the file's `PropertyGroup`s) and
//! packages.config.

use std::collections::HashMap;

use super::xml::{self, Element};
use super::Found;
use crate::model::dependency::{Declared, Ecosystem, Syntax};

/// The elements that name a package and its version.
const REFERENCES: &[&str] = &[
    "PackageReference",
    "PackageVersion",
    "GlobalPackageReference",
];

pub(super) fn msbuild(text: &str, found: &mut Found) -> Result<(), String> {
    let project = xml::parse(text)?;
    let mut properties: HashMap<&str, (&str, (usize, usize))> = HashMap::new();
    for element in project.descendants() {
        if element.name == "PropertyGroup" {
            for property in &element.children {
                if let Some(value) = property.text() {
                    properties.insert(property.name.as_str(), value);
                }
            }
        }
    }
    for reference in project.descendants() {
        if !REFERENCES.contains(&reference.name.as_str()) {
            continue;
        }
        let Some((name, _)) = reference
            .attribute("Include")
            .or_else(|| reference.attribute("Update"))
        else {
            continue;
        };
        let version = reference
            .attribute("VersionOverride")
            .or_else(|| reference.attribute("Version"))
            .or_else(|| reference.child("Version").and_then(Element::text));
        let Some((mut version, mut span)) = version else {
            continue; // central package management gives it elsewhere
        };
        if let Some(&(value, value_span)) = version
            .strip_prefix("$(")
            .and_then(|v| v.strip_suffix(')'))
            .and_then(|key| properties.get(key))
        {
            version = value;
            span = value_span;
        }
        found.add(
            Ecosystem::Nuget,
            name,
            version,
            Syntax::Nuget,
            span,
            Declared::Manifest,
        );
    }
    Ok(())
}

pub(super) fn packages_config(text: &str, found: &mut Found) -> Result<(), String> {
    let packages = xml::parse(text)?;
    for package in packages.descendants() {
        if package.name != "package" {
            continue;
        }
        if let (Some((name, _)), Some((version, span))) =
            (package.attribute("id"), package.attribute("version"))
        {
            found.add(
                Ecosystem::Nuget,
                name,
                version,
                Syntax::Exact,
                span,
                Declared::Manifest,
            );
        }
    }
    Ok(())
}
