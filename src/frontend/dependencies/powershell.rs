//! PowerShell modules: the `RequiredModules` of a module manifest (`*.psd1`) and the module
//! specifications of `#Requires -Modules` lines, each a name alone or a hashtable
//! `@{ModuleName = '…'; ModuleVersion = '…'}` (`ModuleVersion` the lowest allowed,
//! `RequiredVersion` exact, `MaximumVersion` the highest). Read lexically: a hashtable is found by
//! its `ModuleName` key, whatever surrounds it.

use super::Found;
use crate::model::dependency::{Declared, Ecosystem, Syntax};

pub(super) fn module_requirements(text: &str, found: &mut Found) {
    let lower = text.to_ascii_lowercase();
    let mut at = 0;
    while let Some(found_at) = lower.get(at..).and_then(|rest| rest.find("modulename")) {
        let key = at + found_at;
        at = key + "modulename".len();
        // The hashtable around the key: from the `@{` before it to the `}` after it.
        let Some(open) = lower.get(..key).and_then(|before| before.rfind("@{")) else {
            continue;
        };
        let Some(close) = lower.get(key..).and_then(|after| after.find('}')) else {
            continue;
        };
        let table = open..key + close;
        if lower
            .get(open + 2..key)
            .is_some_and(|between| between.contains('}'))
        {
            continue;
        }
        let value = |name: &str| value_of(text, &lower, table.clone(), name);
        let Some((module, _)) = value("modulename") else {
            continue;
        };
        let (requirement, syntax, span) = if let Some((v, span)) = value("requiredversion") {
            (v.to_owned(), Syntax::Exact, span)
        } else if let Some((v, span)) = value("moduleversion") {
            let upper = value("maximumversion").map(|(m, _)| format!(" <={m}"));
            (
                format!(">={v}{}", upper.unwrap_or_default()),
                Syntax::Npm,
                span,
            )
        } else {
            // A name alone: whatever version is installed.
            let (_, span) = value("modulename").unwrap_or(("", (key, key)));
            (String::new(), Syntax::Exact, span)
        };
        found.add(
            Ecosystem::Powershell,
            module,
            &requirement,
            syntax,
            span,
            Declared::Manifest,
        );
        at = table.end;
    }
}

/// The quoted (or bare) value of `key` (lower case) in the hashtable at `table`, with its span.
fn value_of<'t>(
    text: &'t str,
    lower: &str,
    table: std::ops::Range<usize>,
    key: &str,
) -> Option<(&'t str, (usize, usize))> {
    let inside = lower.get(table.clone())?;
    let mut from = 0;
    let key_at = loop {
        let k = from + inside.get(from..)?.find(key)?;
        let before = inside.get(..k)?.chars().next_back();
        if before.is_none_or(|c| !c.is_ascii_alphanumeric()) {
            break k;
        }
        from = k + key.len();
    };
    let after = table.start + key_at + key.len();
    let rest = text.get(after..table.end)?;
    let rest_trimmed = rest.trim_start();
    let rest_trimmed = rest_trimmed.strip_prefix('=')?.trim_start();
    let start = table.end - rest_trimmed.len();
    let (value_start, value) = match rest_trimmed.chars().next()? {
        quote @ ('\'' | '"') => {
            let inner = rest_trimmed.get(1..)?;
            let end = inner.find(quote)?;
            (start + 1, inner.get(..end)?)
        }
        _ => {
            let end = rest_trimmed
                .find([';', '}', '\n', ' ', '\r'])
                .unwrap_or(rest_trimmed.len());
            (start, rest_trimmed.get(..end)?)
        }
    };
    (!value.is_empty()).then_some((value, (value_start, value_start + value.len())))
}
