//! Ruby: Gemfile.lock, whose `specs:` list the resolved gems (four spaces in) and their own
//! requirements (six spaces in, not read: the resolved gem is listed on its own).

use super::{span_in, Found};
use crate::model::dependency::{Declared, Ecosystem, Syntax};

pub(super) fn gemfile_lock(text: &str, found: &mut Found) {
    let mut in_specs = false;
    for line in text.lines() {
        if !line.starts_with(' ') {
            in_specs = false;
            continue;
        }
        if line.trim() == "specs:" {
            in_specs = true;
            continue;
        }
        let Some(entry) = line.strip_prefix("    ") else {
            continue;
        };
        if !in_specs || entry.starts_with(' ') {
            continue;
        }
        let Some((name, rest)) = entry.split_once(" (") else {
            continue;
        };
        let Some(version) = rest.strip_suffix(')') else {
            continue;
        };
        // `1.2.3-x86_64-linux`: the platform is not part of the version.
        let version = version.split('-').next().unwrap_or(version);
        found.add(
            Ecosystem::Rubygems,
            name,
            version,
            Syntax::Exact,
            span_in(text, version, 0),
            Declared::Lockfile,
        );
    }
}

/// The quoted strings that open a Ruby argument list (`'aws-sdk-core', '~> 3.0', require:
/// false`): each string's contents with its span (offsets in `text`, from `base`), up to the
/// first argument that is not a plain string literal.
fn leading_strings(text: &str, base: usize) -> Vec<(&str, (usize, usize))> {
    let mut out = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start();
        let Some(quote) = rest.chars().next().filter(|c| matches!(c, '\'' | '"')) else {
            break;
        };
        let Some(end) = rest.get(1..).and_then(|r| r.find(quote)) else {
            break;
        };
        let Some(inside) = rest.get(1..end + 1) else {
            break;
        };
        if quote == '"' && inside.contains("#{") {
            // An interpolation: the string is not what is written.
            out.push(("", super::span_in(text, inside, base)));
        } else {
            out.push((inside, super::span_in(text, inside, base)));
        }
        rest = rest.get(end + 2..).unwrap_or_default().trim_start();
        match rest.strip_prefix(',') {
            Some(after) => rest = after,
            None => break,
        }
    }
    out
}

/// Gemfile (and gems.rb): `gem 'name', 'requirement', …` lines; several requirements are all
/// required (`'>= 3.0', '< 4'`), and the finding points at the first.
pub(super) fn gemfile(text: &str, found: &mut Found) {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let code = line.trim_start();
        let indent = line.len() - code.len();
        let Some(arguments) = code
            .strip_prefix("gem ")
            .or_else(|| code.strip_prefix("gem("))
        else {
            continue;
        };
        let base = start + indent + (code.len() - arguments.len());
        let strings = leading_strings(arguments, base);
        let Some(((name, name_span), requirements)) = strings.split_first() else {
            continue;
        };
        if name.is_empty() {
            continue;
        }
        match requirements {
            [] => found.add(
                Ecosystem::Rubygems,
                name,
                "",
                Syntax::Ruby,
                *name_span,
                Declared::Manifest,
            ),
            [(first, span), more @ ..] => {
                let all: Vec<&str> = std::iter::once(*first)
                    .chain(more.iter().map(|(r, _)| *r))
                    .collect();
                let requirement = if all.iter().any(|r| r.is_empty()) {
                    String::new()
                } else {
                    all.join(", ")
                };
                found.add(
                    Ecosystem::Rubygems,
                    name,
                    &requirement,
                    Syntax::Ruby,
                    *span,
                    Declared::Manifest,
                );
            }
        }
    }
}
