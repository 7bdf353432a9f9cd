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

/// A token of a Gradle build script (Groovy or Kotlin), as much as the dependency notations
/// need: strings with their contents' span, words, single punctuation, line ends.
#[derive(Debug, Clone, PartialEq)]
enum Token<'a> {
    Str(&'a str, (usize, usize)),
    Word(&'a str),
    Punct(char),
    Newline,
}

/// The tokens of a build script; comments are dropped.
fn gradle_tokens(text: &str) -> Vec<Token<'_>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        let rest = text.get(at..).unwrap_or_default();
        if byte == b'\n' {
            out.push(Token::Newline);
            at += 1;
        } else if byte.is_ascii_whitespace() {
            at += 1;
        } else if rest.starts_with("//") {
            at += rest.find('\n').unwrap_or(rest.len());
        } else if rest.starts_with("/*") {
            at += rest.find("*/").map_or(rest.len(), |end| end + 2);
        } else if rest.starts_with("\"\"\"") || rest.starts_with("'''") {
            let quote = rest.get(..3).unwrap_or_default();
            let end = rest.get(3..).and_then(|r| r.find(quote));
            let inner_end = end.map_or(rest.len(), |e| e + 3);
            let inner = rest.get(3..inner_end).unwrap_or_default();
            out.push(Token::Str(inner, (at + 3, at + inner_end)));
            at += end.map_or(rest.len(), |e| e + 6);
        } else if byte == b'"' || byte == b'\'' {
            // To the closing quote on the same line, past backslash escapes.
            let mut end = 1;
            let mut escaped = false;
            let line = rest.as_bytes();
            while let Some(&c) = line.get(end) {
                if c == b'\n' || (c == byte && !escaped) {
                    break;
                }
                escaped = c == b'\\' && !escaped;
                end += 1;
            }
            let inner = rest.get(1..end).unwrap_or_default();
            out.push(Token::Str(inner, (at + 1, at + end)));
            at += (end + 1).min(rest.len());
        } else if byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'.' || byte == b'$' {
            let len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '$')))
                .unwrap_or(rest.len());
            out.push(Token::Word(rest.get(..len).unwrap_or_default()));
            at += len;
        } else {
            let c = rest.chars().next().unwrap_or(' ');
            out.push(Token::Punct(c));
            at += c.len_utf8();
        }
    }
    out
}

/// Whether a word is a plain Maven coordinate part (group or artifact).
fn is_coordinate(part: &str) -> bool {
    !part.is_empty()
        && part
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// `group:artifact:version[:classifier][@ext]` in a string: the name and the version with its
/// offset in the string.
fn coordinates(text: &str) -> Option<(String, &str, usize)> {
    let mut parts = text.splitn(4, ':');
    let group = parts.next()?;
    let artifact = parts.next()?;
    let version = parts.next()?;
    if !is_coordinate(group) || !is_coordinate(artifact) || !group.contains('.') {
        return None;
    }
    let version = version.split('@').next().unwrap_or(version);
    if version.is_empty() {
        return None;
    }
    let offset = group.len() + artifact.len() + 2;
    Some((format!("{group}:{artifact}"), version, offset))
}

/// Variables a build script assigns a string to (`def awsVersion = '1.11.100'`,
/// `val awsVersion = "…"`, `ext.awsVersion = '…'`, `awsVersion = '…'` in an `ext` block,
/// `set("awsVersion", "…")`): the last assignment of each name, with its value's span.
fn gradle_variables<'a>(tokens: &[Token<'a>]) -> HashMap<String, (&'a str, (usize, usize))> {
    let mut out = HashMap::new();
    for window in tokens.windows(3) {
        if let [Token::Word(name), Token::Punct('='), Token::Str(value, span)] = window {
            let name = name.rsplit('.').next().unwrap_or(name);
            out.insert(name.to_owned(), (*value, *span));
        }
    }
    for window in tokens.windows(5) {
        if let [Token::Word("set"), Token::Punct('('), Token::Str(name, _), Token::Punct(','), Token::Str(value, span)] =
            window
        {
            out.insert((*name).to_owned(), (*value, *span));
        }
    }
    out
}

/// A version that is a variable (`$awsVersion`, `${awsVersion}`, `${libs.versions.aws}`):
/// its name.
fn variable(version: &str) -> Option<&str> {
    let name = version.strip_prefix('$')?;
    let name = name
        .strip_prefix('{')
        .and_then(|n| n.strip_suffix('}'))
        .unwrap_or(name);
    let name = name.strip_prefix("project.").unwrap_or(name);
    let name = name.strip_prefix("rootProject.").unwrap_or(name);
    let name = name.strip_prefix("ext.").unwrap_or(name);
    (!name.is_empty()).then_some(name)
}

/// build.gradle and build.gradle.kts: dependency strings (`'com.amazonaws:aws-java-sdk-s3:1.11.100'`,
/// in any configuration, constraint, platform or `force`) and the map notation (`group:
/// 'com.amazonaws', name: 'aws-java-sdk-s3', version: '1.11.100'`, or `group = …` in Kotlin).
/// A `$variable` version is taken from a string the script assigns to that name.
pub(super) fn gradle(text: &str, found: &mut Found) {
    let tokens = gradle_tokens(text);
    let variables = gradle_variables(&tokens);
    let add = |name: &str, version: &str, span: (usize, usize), found: &mut Found| {
        let (version, span) = match variable(version).and_then(|v| variables.get(v)) {
            Some(&(value, value_span)) => (value, value_span),
            None => (version, span),
        };
        found.add(
            Ecosystem::Maven,
            name,
            version,
            Syntax::Maven,
            span,
            Declared::Manifest,
        );
    };
    for (index, token) in tokens.iter().enumerate() {
        match token {
            Token::Str(string, span) => {
                if let Some((name, version, offset)) = coordinates(string) {
                    let start = span.0 + offset;
                    add(&name, version, (start, start + version.len()), found);
                }
            }
            Token::Word("group") => {
                // The map notation: `group`, `name` and `version` keys within one statement.
                let mut group = None;
                let mut name = None;
                let mut version = None;
                let mut depth = 0usize;
                for window in tokens.get(index..).unwrap_or_default().windows(3) {
                    match window.first() {
                        Some(Token::Punct('(')) => depth += 1,
                        Some(Token::Punct(')')) if depth == 0 => break,
                        Some(Token::Punct(')')) => depth -= 1,
                        Some(Token::Newline) if depth == 0 => break,
                        _ => {}
                    }
                    if let [Token::Word(key), Token::Punct(':' | '='), Token::Str(value, span)] =
                        window
                    {
                        match *key {
                            "group" => group = Some(*value),
                            "name" => name = Some(*value),
                            "version" => version = Some((*value, *span)),
                            _ => {}
                        }
                    }
                }
                if let (Some(group), Some(name), Some((version, span))) = (group, name, version) {
                    add(&format!("{group}:{name}"), version, span, found);
                }
            }
            _ => {}
        }
    }
}

/// gradle.lockfile (and `*.lockfile` of dependency locking): one `group:artifact:version=configurations`
/// line per resolved module.
pub(super) fn gradle_lockfile(text: &str, found: &mut Found) {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let content = line.trim_end_matches(['\n', '\r']);
        if content.starts_with('#') {
            continue;
        }
        let module = content.split('=').next().unwrap_or_default();
        if let Some((name, version, at)) = coordinates(module) {
            found.add(
                Ecosystem::Maven,
                &name,
                version,
                Syntax::Exact,
                (start + at, start + at + version.len()),
                Declared::Lockfile,
            );
        }
    }
}

/// A Gradle version catalog (`gradle/libs.versions.toml`): `[libraries]` entries as
/// `"group:artifact:version"` strings or tables (`module`, or `group` and `name`; `version` a
/// string, a `version.ref` into `[versions]`, or a table whose `strictly`, `require` or `prefer`
/// is read).
pub(super) fn version_catalog(text: &str, found: &mut Found) -> Result<(), String> {
    use super::python::{lookup, string_at, tables};
    use toml::de::DeTable;
    let document = DeTable::parse(text).map_err(|e| e.message().to_owned())?;
    let root = document.get_ref();
    for (_, entry) in tables(lookup(root, &["libraries"])) {
        if let Some((notation, (start, end))) = string_at(text, entry) {
            if let Some((name, version, at)) = coordinates(notation) {
                // Offsets into the string hold only when it is written without escapes.
                if end - start == notation.len() {
                    let from = start + at;
                    found.add(
                        Ecosystem::Maven,
                        &name,
                        version,
                        Syntax::Maven,
                        (from, from + version.len()),
                        Declared::Manifest,
                    );
                }
            }
            continue;
        }
        let toml::de::DeValue::Table(library) = entry.get_ref() else {
            continue;
        };
        let text_of = |path: &[&str]| lookup(library, path).and_then(|v| string_at(text, v));
        let (name, name_span) = match text_of(&["module"]) {
            Some((module, span)) => (module.to_owned(), span),
            None => match (text_of(&["group"]), text_of(&["name"])) {
                (Some((group, _)), Some((artifact, span))) => (format!("{group}:{artifact}"), span),
                _ => continue,
            },
        };
        let version = text_of(&["version"])
            .or_else(|| {
                let (key, _) = text_of(&["version", "ref"])?;
                lookup(root, &["versions", key]).and_then(|v| string_at(text, v))
            })
            .or_else(|| {
                ["strictly", "require", "prefer"]
                    .iter()
                    .find_map(|key| text_of(&["version", key]))
            });
        // Without a version (a BOM or a `version.ref` that names nothing): not judged, counted.
        let (version, span) = version.unwrap_or(("", name_span));
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
