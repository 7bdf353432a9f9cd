//! The house rules of ARCHITECTURE.md, checked on the source: every module of `src/` imports
//! only modules of its own stage or a lower one, and no import circle exists between modules.
//! Imports are read from the code (`crate::…` and `super::…` paths, `use` groups included),
//! outside comments and `#[cfg(test)]` modules, which may reach anywhere. A module and the
//! modules it declares are one room: a child may use its parent (`super::…`), which is how the
//! methods of one type are spread over files (`shell::analysis` and its `scope`, `nesting`,
//! `token_flow`); siblings, and modules in different rooms, never import each other both ways.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The stages, lowest first: a module may import its own stage and the ones before it.
const STAGES: &[(&str, &[&str])] = &[
    (
        "coordinates and tools",
        &["source", "syntax", "redact", "walk", "fragment"],
    ),
    ("model", &["model"]),
    (
        "readers",
        &[
            "frontend",
            "shell",
            "python",
            "powershell",
            "ansible",
            "suppress",
        ],
    ),
    ("fix planning", &["fix"]),
    ("rules", &["rules"]),
    ("configuration", &["config"]),
    ("per-file check", &["check"]),
    ("pass across files", &["links"]),
    ("run", &["scan"]),
    ("fuzzing targets", &["fuzzing"]),
    ("reporters", &["report"]),
    ("baselines", &["baseline"]),
    ("command line", &["cli"]),
];

fn stage_of(module: &str) -> Option<usize> {
    let top = module.split("::").next()?;
    STAGES
        .iter()
        .position(|(_, modules)| modules.contains(&top))
}

/// Every module of `src/` (`check::hosts`) with its source, without tests and comments.
fn modules() -> BTreeMap<String, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let mut out = BTreeMap::new();
    for path in files {
        let name = module_name(&root, &path);
        if name.is_empty() {
            continue; // lib.rs, main.rs
        }
        let text = std::fs::read_to_string(&path).unwrap();
        out.insert(name, code_only(&text));
    }
    out
}

fn module_name(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap().with_extension("");
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    if parts == ["lib"] || parts == ["main"] {
        return String::new();
    }
    parts.join("::")
}

/// The text before the first `#[cfg(test)]`, without `//` comments.
fn code_only(text: &str) -> String {
    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
    code.lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The module paths a module's code names: `crate::a::b`, `crate::{a, b::c}`, `super::x`.
fn named_paths(module: &str, code: &str) -> Vec<String> {
    let path = regex::Regex::new(
        r"\b(crate|super)::(\{[^;]*?\}|[A-Za-z_][A-Za-z0-9_]*(?:::[A-Za-z_][A-Za-z0-9_]*)*)",
    )
    .unwrap();
    let parent: Vec<&str> = module.split("::").collect();
    let parent = parent[..parent.len() - 1].join("::");
    let mut out = Vec::new();
    for capture in path.captures_iter(code) {
        let base = match &capture[1] {
            "crate" => String::new(),
            _ => parent.clone(),
        };
        let rest = &capture[2];
        let items: Vec<String> = if let Some(group) = rest.strip_prefix('{') {
            group
                .trim_end_matches('}')
                .split(|c: char| c == ',' || c.is_whitespace() || c == '{' || c == '}')
                .filter(|w| !w.is_empty() && *w != "self")
                .map(str::to_owned)
                .collect()
        } else {
            vec![rest.to_owned()]
        };
        for item in items {
            out.push(if base.is_empty() {
                item
            } else {
                format!("{base}::{item}")
            });
        }
    }
    out
}

/// The module a path names: its longest prefix that is a module.
fn resolve(path: &str, modules: &BTreeMap<String, String>) -> Option<String> {
    let segments: Vec<&str> = path.split("::").collect();
    (1..=segments.len())
        .rev()
        .map(|n| segments[..n].join("::"))
        .find(|candidate| modules.contains_key(candidate))
}

fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let modules = modules();
    let mut edges = BTreeMap::new();
    for (module, code) in &modules {
        let targets: BTreeSet<String> = named_paths(module, code)
            .iter()
            .filter_map(|p| resolve(p, &modules))
            .filter(|t| t != module)
            .collect();
        edges.insert(module.clone(), targets);
    }
    edges
}

#[test]
fn every_module_has_a_stage_and_imports_no_higher_stage() {
    let mut wrong = Vec::new();
    for (module, targets) in imports() {
        let Some(own) = stage_of(&module) else {
            wrong.push(format!(
                "{module} is in no stage (add it to STAGES and ARCHITECTURE.md)"
            ));
            continue;
        };
        for target in targets {
            let theirs = stage_of(&target).unwrap_or(usize::MAX);
            if theirs > own {
                wrong.push(format!(
                    "{module} ({}) imports {target} ({})",
                    STAGES[own].0,
                    STAGES.get(theirs).map_or("no stage", |s| s.0)
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the stages:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_import_circle_between_modules() {
    let edges = imports();
    // Depth-first search for a back edge; the cycle is the stack from its target.
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
        cycles: &mut Vec<String>,
    ) {
        state.insert(node.to_owned(), 1);
        stack.push(node.to_owned());
        for next in edges.get(node).into_iter().flatten() {
            match state.get(next.as_str()) {
                Some(1) => {
                    let from = stack.iter().position(|n| n == next).unwrap();
                    cycles.push(format!("{} -> {next}", stack[from..].join(" -> ")));
                }
                Some(_) => {}
                None => visit(next, edges, state, stack, cycles),
            }
        }
        stack.pop();
        state.insert(node.to_owned(), 2);
    }
    let mut state = BTreeMap::new();
    let mut cycles = Vec::new();
    for node in edges.keys() {
        if !state.contains_key(node.as_str()) {
            visit(node, &edges, &mut state, &mut Vec::new(), &mut cycles);
        }
    }
    assert!(cycles.is_empty(), "import circles:\n{}", cycles.join("\n"));
}

/// The checks above must see real imports, or they prove nothing.
#[test]
fn imports_are_read() {
    let edges = imports();
    assert!(edges["check"].contains("frontend"), "{:?}", edges["check"]);
    assert!(edges["scan"].contains("check"), "{:?}", edges["scan"]);
    assert!(edges["check::read"].contains("check::hosts"));
    assert!(named_paths("a::b", "use crate::{x::y, z};\nsuper::c::d()")
        .iter()
        .eq(["x::y", "z", "a::c::d"].iter()));
}
