//! Go: go.mod's `require` lines and blocks, with `replace` directives applied (a module replaced
//! by a local directory has no version to read).

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
