//! Makefiles (tree-sitter-make): the shell code GNU Make runs. Each recipe line runs in a shell of
//! its own, so each is a fragment of its own (a token fetched on one line is gone on the next);
//! a makefile with the special target `.ONESHELL` runs each rule's recipe in one shell, one
//! fragment. The argument of each `$(shell …)` and the command of `VAR != …` run in a shell of
//! their own too. The recipe prefixes `@`, `-` and `+` are Make's, not the shell's. How Make
//! expands `$` and joins continued lines is `fragment::make_recipe`. A variable assigned once in
//! the makefile, to literal text, is known: the shell code reads its value.

use std::path::Path;

use tree_sitter::Node;

use super::Parsed;
use crate::fragment::make_recipe::{self, Context, Decoded, Layer};
use crate::fragment::{Fragment, HostId, HostSpan, InsertRegion, OffsetMap, Quoting};
use crate::model::Note;

/// `Makefile`, `makefile`, `GNUmakefile` (the names GNU Make reads by itself) and `*.mk`.
pub fn is_makefile(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    matches!(name, "Makefile" | "makefile" | "GNUmakefile")
        || name
            .rsplit_once('.')
            .is_some_and(|(stem, ext)| !stem.is_empty() && ext.eq_ignore_ascii_case("mk"))
}

/// Text as words separated by single spaces (a rule's targets, a variable's name).
fn words(text: &[u8]) -> String {
    String::from_utf8_lossy(text)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn text<'a>(node: Node, bytes: &'a [u8]) -> &'a [u8] {
    bytes.get(node.byte_range()).unwrap_or_default()
}

/// Every node of the tree, in document order.
fn nodes(root: Node) -> Vec<Node> {
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        out.push(node);
        let mut cursor = node.walk();
        let children: Vec<Node> = node.children(&mut cursor).collect();
        stack.extend(children.into_iter().rev());
    }
    out
}

/// What the makefile says of itself that decides how its shell code runs.
#[derive(Default)]
struct Makefile {
    /// Variables assigned once, to literal text (no reference, no function).
    known: Vec<(String, String)>,
    one_shell: bool,
    /// `SHELL` set to a program that is not a POSIX shell.
    foreign_shell: Option<String>,
    recipe_prefix: bool,
}

impl Makefile {
    fn read(all: &[Node], bytes: &[u8]) -> Self {
        let mut makefile = Makefile::default();
        // name → (times assigned, literal value of the last)
        let mut assigned: Vec<(String, usize, Option<String>)> = Vec::new();
        for node in all {
            match node.kind() {
                "variable_assignment" | "shell_assignment" | "define_directive" => {
                    let Some(name) = node.child_by_field_name("name") else {
                        continue;
                    };
                    let name = String::from_utf8_lossy(text(name, bytes)).trim().to_owned();
                    let operator = node
                        .child_by_field_name("operator")
                        .map(|o| o.kind())
                        .unwrap_or("=");
                    let value = node
                        .child_by_field_name("value")
                        .map(|v| String::from_utf8_lossy(text(v, bytes)).trim().to_owned())
                        .unwrap_or_default();
                    let targeted = node.child_by_field_name("target_or_pattern").is_some();
                    let literal = node.kind() == "variable_assignment"
                        && !targeted
                        && operator != "+="
                        && !value.contains(['$', '\n', '\\', '#']);
                    if name == "SHELL" && !targeted {
                        // Read as a shebang line would be (`/usr/bin/env bash -o pipefail`).
                        let line = format!("#!{value}");
                        if !crate::fragment::language::is_shell_shebang(&line) {
                            makefile.foreign_shell = Some(value.clone());
                        }
                    }
                    match assigned.iter_mut().find(|(n, _, _)| *n == name) {
                        Some(entry) => {
                            entry.1 += 1;
                            entry.2 = None;
                        }
                        None => assigned.push((name, 1, literal.then_some(value))),
                    }
                }
                "RECIPEPREFIX_assignment" => makefile.recipe_prefix = true,
                "targets"
                    if text(*node, bytes)
                        .split(|b| b.is_ascii_whitespace())
                        .any(|t| t == b".ONESHELL") =>
                {
                    makefile.one_shell = true;
                }
                _ => {}
            }
        }
        makefile.known = assigned
            .into_iter()
            .filter(|(name, count, _)| *count == 1 && make_recipe::is_name(name.as_bytes()))
            .filter_map(|(name, _, value)| Some((name, value?)))
            .collect();
        makefile
    }

    fn knows(&self, name: &[u8]) -> bool {
        self.known.iter().any(|(n, _)| n.as_bytes() == name)
    }
}

pub fn parse(bytes: &[u8], host: HostId) -> Parsed {
    let mut parsed = Parsed::default();
    // The grammar reads no parentheses inside `$(shell …)` or a `!=` command (`$$(…)`, `(a)`):
    // it parses a copy where that shell code is blanked, and the code is read from the file.
    let code = shell_code(bytes);
    let blanked = blank(bytes, &code);
    let tree = match crate::syntax::parse(crate::syntax::Grammar::Make, &blanked) {
        Ok(tree) => tree,
        Err(why) => {
            parsed.diagnostics.push(Note::skipped(format!(
                "the makefile could not be parsed: {why}; it was not analysed"
            )));
            return parsed;
        }
    };
    let root = tree.root_node();
    let all = nodes(root);
    let makefile = Makefile::read(&all, bytes);
    if let Some(shell) = &makefile.foreign_shell {
        parsed.diagnostics.push(Note::skipped(format!(
            "the makefile sets SHELL to `{shell}`, not a POSIX shell; its recipes were not analysed"
        )));
        return parsed;
    }
    if makefile.recipe_prefix {
        parsed.diagnostics.push(Note::partly_analysed(
            "the makefile changes the recipe prefix (.RECIPEPREFIX); recipes may be read wrong",
        ));
    }
    let knows = |name: &[u8]| makefile.knows(name);
    let base = Fragment {
        host,
        environment: makefile.known.clone(),
        ..Fragment::script(b"")
    };
    for node in &all {
        match node.kind() {
            "recipe" => {
                // The rule's targets name the recipe in origin chains.
                let targets = node
                    .parent()
                    .and_then(|rule| {
                        let mut cursor = rule.walk();
                        let found = rule
                            .named_children(&mut cursor)
                            .find(|c| c.kind() == "targets");
                        found
                    })
                    .map(|t| words(text(t, bytes)))
                    .unwrap_or_default();
                parsed.place(*node, "makefile", &targets, "recipe");
                recipe(*node, bytes, &makefile, &knows, &base, &mut parsed);
            }
            "shell_function" | "shell_assignment" => {
                let found = code.iter().find(|c| match node.kind() {
                    "shell_function" => c.at == node.start_byte(),
                    _ => node.start_byte() <= c.start && c.start <= node.end_byte(),
                });
                let Some(found) = found else {
                    continue;
                };
                let in_recipe = ancestors(*node).any(|a| a.kind() == "recipe_line");
                let (context, layer) = if in_recipe {
                    (Context::Recipe, Layer::Line)
                } else {
                    (Context::Directive, Layer::Directive)
                };
                if !in_recipe {
                    // The variable it is assigned to, if any, names it in origin chains.
                    let variable = std::iter::once(*node)
                        .chain(ancestors(*node))
                        .find(|a| matches!(a.kind(), "variable_assignment" | "shell_assignment"))
                        .and_then(|a| a.child_by_field_name("name"))
                        .map(|n| words(text(n, bytes)))
                        .unwrap_or_default();
                    let key = match node.kind() {
                        "shell_function" => "$(shell)",
                        _ => "!=",
                    };
                    parsed.place_span(
                        HostSpan::new(found.start, found.end),
                        "makefile",
                        &variable,
                        key,
                    );
                }
                let mut decoded = Decoded::default();
                decoded.decode(bytes, found.start, found.end, context, &knows);
                parsed.fragments.push(fragment(decoded, layer, &base));
            }
            "define_directive" => {
                let body = node
                    .child_by_field_name("value")
                    .map(|v| text(v, bytes))
                    .unwrap_or_default();
                if !body.trim_ascii().is_empty() {
                    let name = node
                        .child_by_field_name("name")
                        .map(|n| String::from_utf8_lossy(text(n, bytes)).into_owned())
                        .unwrap_or_default();
                    parsed.diagnostics.push(Note::partly_analysed(format!(
                        "`define {name}` (a canned recipe or text for `$(eval …)`) was not analysed"
                    )));
                }
            }
            _ => {}
        }
    }
    parsed.unparsed = crate::syntax::unparsed(root, &[]);
    if root.has_error() {
        parsed.diagnostics.push(Note::partly_analysed(
            "the makefile has syntax errors; the lines around them may be skipped",
        ));
    }
    parsed
}

/// Shell code that Make runs while it reads or expands a line: the argument of a `$(shell …)`
/// (`at` its `$`), or the command of `NAME != …` (`at` its start).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ShellCode {
    at: usize,
    start: usize,
    end: usize,
}

/// Where the logical line that starts at `from` ends: at the first line break not continued by
/// a backslash (or the end).
fn logical_line_end(bytes: &[u8], from: usize) -> usize {
    let mut at = from;
    while let Some(i) = memchr::memchr(b'\n', bytes.get(at..).unwrap_or_default()) {
        let newline = at + i;
        let before = bytes.get(..newline).unwrap_or_default();
        let before = before.strip_suffix(b"\r").unwrap_or(before);
        if before.last() != Some(&b'\\') {
            return newline;
        }
        at = newline + 1;
    }
    bytes.len()
}

/// Every `$(shell …)` and `!=` command of the makefile, found line by line: a line that does
/// not start with a tab (no recipe line) ends at a `#` that no backslash escapes, as Make reads
/// it. A `$(shell …)` inside another is part of it.
fn shell_code(bytes: &[u8]) -> Vec<ShellCode> {
    let mut found = Vec::new();
    let mut line_start = 0;
    while line_start < bytes.len() {
        let line_end = logical_line_end(bytes, line_start);
        let recipe = bytes.get(line_start) == Some(&b'\t');
        let line = bytes.get(line_start..line_end).unwrap_or_default();
        let end = if recipe {
            line_end
        } else {
            (0..line.len())
                .find(|&i| {
                    line.get(i) == Some(&b'#') && (i == 0 || line.get(i - 1) != Some(&b'\\'))
                })
                .map_or(line_end, |i| line_start + i)
        };
        if !recipe {
            if let Some(command) = bang_assignment(bytes, line_start, end) {
                found.push(command);
            }
        }
        let mut at = line_start;
        while at + 1 < end {
            match (bytes.get(at), bytes.get(at + 1)) {
                (Some(b'$'), Some(b'$')) => at += 2,
                (Some(b'$'), Some(&open @ (b'(' | b'{'))) => {
                    let name = bytes.get(at + 2..end).unwrap_or_default();
                    let called = name.starts_with(b"shell")
                        && name.get(5).is_some_and(|b| b.is_ascii_whitespace());
                    if !called {
                        at += 2;
                        continue;
                    }
                    let close = if open == b'(' { b')' } else { b'}' };
                    let stop = make_recipe::reference_end(bytes, at + 2, end, open, close);
                    let start = at
                        + 2
                        + 5
                        + name
                            .get(5..)
                            .unwrap_or_default()
                            .iter()
                            .take_while(|b| b.is_ascii_whitespace())
                            .count();
                    let inner_end = if bytes.get(stop.saturating_sub(1)) == Some(&close) {
                        stop - 1
                    } else {
                        stop
                    };
                    found.push(ShellCode {
                        at,
                        start: start.min(inner_end),
                        end: inner_end,
                    });
                    at = stop;
                }
                _ => at += 1,
            }
        }
        line_start = line_end + 1;
    }
    found
}

/// The command of `NAME != command` on the line `start..end` (directives `override`, `export`
/// and `private` before the name allowed).
fn bang_assignment(bytes: &[u8], start: usize, end: usize) -> Option<ShellCode> {
    let line = bytes.get(start..end)?;
    let at = memchr::memmem::find(line, b"!=")?;
    let before = String::from_utf8_lossy(line.get(..at)?).into_owned();
    let mut words: Vec<&str> = before.split_whitespace().collect();
    let name = words.pop()?;
    let directives_only = words
        .iter()
        .all(|w| matches!(*w, "override" | "export" | "private"));
    if !directives_only || name.contains([':', '=', '$', '#']) {
        return None;
    }
    let value = line.get(at + 2..)?;
    let lead = value.iter().take_while(|b| b.is_ascii_whitespace()).count();
    let trail = value
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_whitespace())
        .count();
    let value_start = start + at + 2 + lead;
    let value_end = (end - trail).max(value_start);
    Some(ShellCode {
        at: start,
        start: value_start,
        end: value_end,
    })
}

/// The bytes the grammar reads: every shell code's bytes blanked (`_`), line breaks and the
/// backslashes that continue lines kept, so that every offset stays where it is.
fn blank(bytes: &[u8], code: &[ShellCode]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for c in code {
        for i in c.start..c.end {
            let keep = match bytes.get(i) {
                Some(b'\n' | b'\r') => true,
                Some(b'\\') => matches!(bytes.get(i + 1), Some(b'\n' | b'\r')),
                _ => false,
            };
            if !keep {
                if let Some(b) = out.get_mut(i) {
                    *b = b'_';
                }
            }
        }
    }
    out
}

fn ancestors(node: Node) -> impl Iterator<Item = Node> {
    std::iter::successors(node.parent(), |n| n.parent())
}

fn fragment(decoded: Decoded, layer: Layer, base: &Fragment) -> Fragment {
    Fragment {
        text: decoded.text,
        map: OffsetMap::from_anchors(decoded.anchors),
        insert: vec![InsertRegion::quoted(vec![Quoting::Make(layer)])],
        ..base.clone()
    }
}

/// The shell code of a rule's recipe: one fragment per line, or the whole recipe in one.
fn recipe(
    node: Node,
    bytes: &[u8],
    makefile: &Makefile,
    knows: &dyn Fn(&[u8]) -> bool,
    base: &Fragment,
    parsed: &mut Parsed,
) {
    // Lines in conditionals inside the recipe are its lines too (both branches are read).
    let lines: Vec<Node> = nodes(node)
        .into_iter()
        .filter(|n| n.kind() == "recipe_line")
        .collect();
    let mut joined: Option<Decoded> = None;
    let mut previous_end = node.start_byte();
    for line in lines {
        // Make strips blanks and the prefixes `@`, `-` and `+`, in any order (in a recipe run in
        // one shell, those of every line, the shell being a POSIX one).
        let start = bytes
            .get(line.start_byte()..line.end_byte())
            .unwrap_or_default()
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t' | b'@' | b'-' | b'+'))
            .count()
            + line.start_byte();
        let end = line.end_byte();
        if makefile.one_shell {
            let whole = joined.get_or_insert_with(Decoded::default);
            if !whole.text.is_empty() {
                whole.push_line_break(previous_end);
            }
            whole.decode(bytes, start, end, Context::Recipe, knows);
            previous_end = end;
        } else {
            let mut decoded = Decoded::default();
            decoded.decode(bytes, start, end, Context::Recipe, knows);
            parsed.fragments.push(fragment(decoded, Layer::Line, base));
        }
    }
    if let Some(whole) = joined {
        parsed
            .fragments
            .push(fragment(whole, Layer::OneShell, base));
    }
}
