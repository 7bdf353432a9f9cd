//! Java: pom.xml's dependencies (in `<dependencies>`, `<dependencyManagement>`, plugins and
//! profiles), with `${property}` versions taken from the file's `<properties>`; the finding then
//! points at the property's value, which is what a change edits.

use std::collections::HashMap;

use super::xml::{self, Element};
use super::Found;
use crate::model::dependency::{Declared, Ecosystem, Syntax};

/// How many `${…}` a version may go through.
const MAX_INDIRECTION: usize = 8;

pub(super) fn pom(text: &str, found: &mut Found) -> Result<(), String> {
    let project = xml::parse(text)?;
    let mut properties: HashMap<String, (&str, (usize, usize))> = HashMap::new();
    for element in project.descendants() {
        if element.name == "properties" {
            for property in &element.children {
                if let Some(value) = property.text() {
                    properties.insert(property.name.clone(), value);
                }
            }
        }
    }
    if let Some(version) = project.child("version").and_then(Element::text) {
        properties.insert("project.version".to_owned(), version);
    }
    for dependency in project.descendants() {
        if dependency.name != "dependency" {
            continue;
        }
        let group = dependency.child("groupId").and_then(Element::text);
        let artifact = dependency.child("artifactId").and_then(Element::text);
        let (Some((group, _)), Some((artifact, artifact_span))) = (group, artifact) else {
            continue;
        };
        let name = format!("{group}:{artifact}");
        let (mut version, mut span) = match dependency.child("version").and_then(Element::text) {
            Some(version) => version,
            // Managed elsewhere (a parent, a BOM): its version is not in this element.
            None => ("", artifact_span),
        };
        for _ in 0..MAX_INDIRECTION {
            let Some(key) = version.strip_prefix("${").and_then(|v| v.strip_suffix('}')) else {
                break;
            };
            match properties.get(key) {
                Some(&(value, value_span)) => {
                    version = value;
                    span = value_span;
                }
                None => break,
            }
        }
        found.add(
            Ecosystem::Maven,
            &name,
            version,
            Syntax::Maven,
            span,
            Declared::Manifest,
        );
    }
    Ok(())
}
