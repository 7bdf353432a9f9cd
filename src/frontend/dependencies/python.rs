//! Python: pip requirements and constraints files, pyproject.toml (PEP 621 `[project]`, PEP 735
//! `[dependency-groups]`, Poetry's `[tool.poetry]`), Pipfile.lock, poetry.lock and uv.lock.

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::{span_in, unquoted, Found};
use crate::model::dependency::{Declared, Ecosystem, Syntax};

/// A PEP 508 requirement's name and version part (specifiers, or `@ URL`), as slices of `text`;
/// `None` for what is not a requirement (an option line, a path, a comment).
pub(super) fn pep508(text: &str) -> Option<(&str, &str)> {
    let text = text.trim_start();
    let name_end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        .unwrap_or(text.len());
    let name = text.get(..name_end)?;
    if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return None;
    }
    let mut rest = text.get(name_end..)?.trim_start();
    if rest.starts_with(['/', ':', '\\']) {
        return None; // a path or a URL, not a name
    }
    if let Some(after) = rest.strip_prefix('[') {
        rest = after.get(after.find(']')? + 1..)?.trim_start();
    }
    // The version part ends at environment markers.
    let spec = rest.split(';').next().unwrap_or_default().trim();
    let spec = spec
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .map_or(spec, str::trim);
    Some((name, spec))
}

/// Records one PEP 508 requirement written at `base` of the file (`text` is exactly what is
/// there); without a version, the finding (a library that never supports IMDSv2) points at the
/// name.
fn add_pep508(found: &mut Found, text: &str, base: usize, syntax: Syntax, declared: Declared) {
    let Some((name, spec)) = pep508(text) else {
        return;
    };
    let span = if spec.is_empty() {
        span_in(text, name, base)
    } else {
        span_in(text, spec, base)
    };
    found.add(Ecosystem::Pypi, name, spec, syntax, span, declared);
}

/// A requirements or constraints file: one requirement per line, `#` comments, option lines
/// (`-r`, `-e`, `--hash`) and continuations.
pub(super) fn requirements(text: &str, found: &mut Found) {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let content = line.trim_end_matches(['\n', '\r']);
        // A comment starts at `#` at the start or after whitespace.
        let code_end = content
            .match_indices('#')
            .find(|(i, _)| {
                *i == 0
                    || content
                        .get(..*i)
                        .is_some_and(|before| before.ends_with([' ', '\t']))
            })
            .map_or(content.len(), |(i, _)| i);
        let mut code = content.get(..code_end).unwrap_or_default();
        // Per-requirement options (`--hash=…`) and a continuation end the requirement.
        if let Some(at) = code.find(" -") {
            code = code.get(..at).unwrap_or_default();
        }
        let code = code.trim_end().trim_end_matches('\\').trim_end();
        let trimmed = code.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('-') {
            continue;
        }
        add_pep508(found, code, start, Syntax::Pep440, Declared::Manifest);
    }
}

/// The value at a dotted path of tables.
pub(super) fn lookup<'a, 'i>(
    table: &'a DeTable<'i>,
    path: &[&str],
) -> Option<&'a Spanned<DeValue<'i>>> {
    let (first, rest) = path.split_first()?;
    let (_, value) = table.iter().find(|(k, _)| k.get_ref().as_ref() == *first)?;
    if rest.is_empty() {
        return Some(value);
    }
    match value.get_ref() {
        DeValue::Table(inner) => lookup(inner, rest),
        _ => None,
    }
}

pub(super) fn tables<'a, 'i>(
    value: Option<&'a Spanned<DeValue<'i>>>,
) -> Vec<(&'a str, &'a Spanned<DeValue<'i>>)> {
    match value.map(Spanned::get_ref) {
        Some(DeValue::Table(table)) => table
            .iter()
            .map(|(k, v)| (k.get_ref().as_ref(), v))
            .collect(),
        _ => Vec::new(),
    }
}

/// The contents of a string value and their span, when the raw text is the value.
pub(super) fn string_at<'a>(
    text: &str,
    value: &'a Spanned<DeValue>,
) -> Option<(&'a str, (usize, usize))> {
    let DeValue::String(s) = value.get_ref() else {
        return None;
    };
    Some((s.as_ref(), unquoted(text, value.span(), s)))
}

/// Records each string of an array of PEP 508 requirements.
fn requirement_list(text: &str, value: Option<&Spanned<DeValue>>, found: &mut Found) {
    let Some(DeValue::Array(items)) = value.map(Spanned::get_ref) else {
        return;
    };
    for item in items.iter() {
        let Some((requirement, (start, end))) = string_at(text, item) else {
            continue;
        };
        if end - start == requirement.len() {
            if let Some(raw) = text.get(start..end) {
                add_pep508(found, raw, start, Syntax::Pep440, Declared::Manifest);
            }
        }
    }
}

pub(super) fn pyproject(text: &str, found: &mut Found) -> Result<(), String> {
    let document = DeTable::parse(text).map_err(|e| e.message().to_owned())?;
    let root = document.get_ref();
    requirement_list(text, lookup(root, &["project", "dependencies"]), found);
    for (_, list) in tables(lookup(root, &["project", "optional-dependencies"])) {
        requirement_list(text, Some(list), found);
    }
    for (_, list) in tables(lookup(root, &["dependency-groups"])) {
        requirement_list(text, Some(list), found);
    }
    let mut poetry = vec![
        lookup(root, &["tool", "poetry", "dependencies"]),
        lookup(root, &["tool", "poetry", "dev-dependencies"]),
    ];
    for (_, group) in tables(lookup(root, &["tool", "poetry", "group"])) {
        if let DeValue::Table(group) = group.get_ref() {
            poetry.push(lookup(group, &["dependencies"]));
        }
    }
    for table in poetry {
        for (name, value) in tables(table) {
            if name.eq_ignore_ascii_case("python") {
                continue;
            }
            let version = match value.get_ref() {
                DeValue::Table(spec) => lookup(spec, &["version"]),
                _ => Some(value),
            };
            if let Some((requirement, span)) = version.and_then(|v| string_at(text, v)) {
                found.add(
                    Ecosystem::Pypi,
                    name,
                    requirement,
                    Syntax::Poetry,
                    span,
                    Declared::Manifest,
                );
            }
        }
    }
    Ok(())
}

/// poetry.lock and uv.lock: `[[package]]` tables with `name` and `version`.
pub(super) fn lock(text: &str, found: &mut Found) -> Result<(), String> {
    toml_lock(text, found, Ecosystem::Pypi)
}

/// A TOML lockfile of `[[package]]` tables with `name` and `version` (Poetry, uv, Cargo).
pub(super) fn toml_lock(text: &str, found: &mut Found, ecosystem: Ecosystem) -> Result<(), String> {
    let document = DeTable::parse(text).map_err(|e| e.message().to_owned())?;
    let Some(DeValue::Array(packages)) =
        lookup(document.get_ref(), &["package"]).map(Spanned::get_ref)
    else {
        return Ok(());
    };
    for package in packages.iter() {
        let DeValue::Table(package) = package.get_ref() else {
            continue;
        };
        let name = lookup(package, &["name"]).and_then(|v| string_at(text, v));
        let version = lookup(package, &["version"]).and_then(|v| string_at(text, v));
        if let (Some((name, _)), Some((version, span))) = (name, version) {
            found.add(
                ecosystem,
                name,
                version,
                Syntax::Exact,
                span,
                Declared::Lockfile,
            );
        }
    }
    Ok(())
}

/// Pipfile.lock: `default` and `develop` map names to `{"version": "==1.2.3", …}`.
pub(super) fn pipfile_lock(text: &str, found: &mut Found) -> Result<(), String> {
    let json = super::json::parse(text)?;
    for section in ["default", "develop"] {
        for (name, package) in json.get(section).map_or(&[][..], |s| s.entries()) {
            if let Some((version, span)) = package.get("version").and_then(|v| v.string()) {
                found.add(
                    Ecosystem::Pypi,
                    name,
                    version,
                    Syntax::Pep440,
                    span,
                    Declared::Lockfile,
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep508_names_and_versions() {
        assert_eq!(pep508("boto3==1.9.0"), Some(("boto3", "==1.9.0")));
        assert_eq!(pep508("boto3 >= 1.9 , <2"), Some(("boto3", ">= 1.9 , <2")));
        assert_eq!(
            pep508("boto3[crt]==1.9.0 ; python_version < '3.8'"),
            Some(("boto3", "==1.9.0"))
        );
        assert_eq!(pep508("boto3 (>=1.9)"), Some(("boto3", ">=1.9")));
        assert_eq!(pep508("boto3"), Some(("boto3", "")));
        assert_eq!(
            pep508("boto3 @ https://x/boto3.whl"),
            Some(("boto3", "@ https://x/boto3.whl"))
        );
        assert_eq!(pep508("./local/pkg"), None);
        assert_eq!(pep508("https://x/y.whl"), None);
    }
}
