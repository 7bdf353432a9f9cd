//! Where a fragment's code runs and what it can see: frames of variables (assignments, `for`
//! values, exports) chained to the code around them, the context a nested fragment is analysed in
//! and how text inserted into it is quoted, and the script scopes fixes insert token requests into.

use std::collections::{HashMap, HashSet};

use tree_sitter::Node;

use super::{Analyzer, Code, Seen};
use crate::fragment::{FragmentSpan, PlainScalar};
use crate::model::request::{Quoting, RunBy, Scope};
use crate::shell::blocks::dominated_block;
use crate::shell::command::{Place, Site};
use crate::shell::tree::Structure;
use crate::shell::word::{self, node_str, span_of, Piece, Word};

/// How a nested fragment's variables relate to the code around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Boundary {
    /// Run by the same shell (`eval`).
    SameShell,
    /// The calling shell expands the text first (`bash -c "…$X…"`, `bash <<EOF`).
    Expanded,
    /// A new process that sees only exported variables (`bash -c '…'`, `bash <<'EOF'`).
    #[default]
    ChildProcess,
}

#[derive(Debug, Clone)]
pub(super) struct VarDef {
    pub(super) pieces: Vec<Piece>,
    pub(super) exported: bool,
    /// The span of the assigned value in the frame's text, for finding token substitutions.
    pub(super) value_span: Option<FragmentSpan>,
    /// The block whose later statements the assignment always runs before, and where it ends.
    pub(super) dominates: Option<(usize, usize)>,
    /// Written before a command (`NAME=value cmd`): set for that command only.
    pub(super) prefix: bool,
}

/// Where a fragment sits: its frame's parent, how variables cross into it, how deep it is, how
/// text inserted into it must be quoted (`None`: it cannot be rewritten), and whether it is a
/// script scope of its own.
#[derive(Debug, Clone)]
pub(super) struct Context {
    pub(super) parent: Option<usize>,
    pub(super) boundary: Boundary,
    pub(super) depth: usize,
    pub(super) quoting: Option<Vec<Quoting>>,
    pub(super) script: bool,
    /// Run in a container by a command around it (`docker run IMAGE sh -c '…'`).
    pub(super) in_container: bool,
    /// The commands around it that run it elsewhere or under a name, outermost first.
    pub(super) run_by: Vec<RunBy>,
    /// The command that runs this code on another machine after this shell expanded its words
    /// (`ssh HOST curl …`): see `FixSite::elsewhere`.
    pub(super) elsewhere: Option<String>,
}

impl Context {
    pub(super) fn child(
        &self,
        fid: usize,
        boundary: Boundary,
        layer: Option<Quoting>,
        script: bool,
        outer: Option<Vec<Quoting>>,
    ) -> Self {
        let quoting = match (&outer, layer) {
            (Some(outer), Some(layer)) => {
                let mut chain = outer.clone();
                if matches!(layer, Quoting::QuotedHeredoc | Quoting::UnquotedHeredoc) {
                    chain.retain(Quoting::reaches_heredocs);
                }
                chain.push(layer);
                Some(chain)
            }
            _ => None,
        };
        Context {
            parent: Some(fid),
            boundary,
            depth: self.depth + 1,
            quoting,
            script,
            in_container: self.in_container,
            run_by: self.run_by.clone(),
            elsewhere: self.elsewhere.clone(),
        }
    }

    /// Code run by a command that runs it elsewhere (`docker run IMAGE sh -c '…'`, `ssh HOST
    /// '…'`) or under a name (`cloud-init-per once NAME sh -c '…'`).
    pub(super) fn enter(&mut self, site: &Site) {
        self.in_container |= site.place == Place::Container;
        self.run_by.extend(site.run_by.iter().cloned());
    }
}

#[derive(Debug, Default)]
pub(super) struct Frame {
    pub(super) parent: Option<usize>,
    pub(super) boundary: Boundary,
    pub(super) vars: HashMap<String, Vec<VarDef>>,
    pub(super) exported: HashSet<String>,
    pub(super) all_exported: bool,
    pub(super) token_vars: HashSet<String>,
    /// The parameters (`$1`, `$2`…) of the script's functions that some call passes a token in,
    /// by function name and position.
    pub(super) token_params: HashSet<(String, usize)>,
    /// The functions defined in the fragment, and whether something in it calls them.
    pub(super) functions: HashMap<String, bool>,
}

impl Frame {
    pub(super) fn is_exported(&self, name: &str) -> bool {
        self.all_exported
            || self.exported.contains(name)
            || self
                .vars
                .get(name)
                .is_some_and(|defs| defs.iter().any(|d| d.exported))
    }
}

impl Analyzer<'_> {
    /// How text inserted at offset `at` of the current fragment is written into the host, and
    /// the YAML plain scalar it would go into.
    pub(super) fn quoting_at(
        &self,
        cx: &Context,
        at: usize,
    ) -> (Option<Vec<Quoting>>, Option<PlainScalar>) {
        if cx.depth > 0 {
            return (cx.quoting.clone(), None);
        }
        let region = self.regions.iter().take_while(|r| r.start <= at).last();
        match region {
            Some(region) => (region.quoting.clone(), region.plain.clone()),
            None => (None, None),
        }
    }

    pub(super) fn push_frame(&mut self, frame: Frame) -> usize {
        self.frames.push(frame);
        self.frames.len() - 1
    }

    /// Records what fixes need to know about a script scope, and which token variable each of its
    /// requests could reuse.
    pub(super) fn finish_scope(
        &mut self,
        code: &Code,
        index: usize,
        first_pending: usize,
        seen: &Seen,
    ) {
        let fid = code.fid;
        let mut taken: Vec<String> = Vec::new();
        let mut current = Some(fid);
        while let Some(id) = current {
            let Some(frame) = self.frames.get(id) else {
                break;
            };
            taken.extend(frame.vars.keys().cloned());
            current = frame.parent;
        }
        taken.sort();
        taken.dedup();
        let Some(frame) = self.frames.get(fid) else {
            return;
        };
        let mut token_vars: Vec<String> = frame.token_vars.iter().cloned().collect();
        token_vars.sort();
        // Token assignments that run before every later statement of their block.
        let dominating: Vec<(&String, usize, usize)> = frame
            .vars
            .iter()
            .filter(|(name, _)| frame.token_vars.contains(*name))
            .flat_map(|(name, defs)| {
                defs.iter()
                    .filter_map(move |d| d.dominates.map(|(block, end)| (name, block, end)))
            })
            .collect();
        let reuse: Vec<(usize, String)> = self
            .pending
            .iter()
            .enumerate()
            .skip(first_pending)
            .filter(|(_, p)| p.frame == fid)
            .filter_map(|(i, p)| {
                let blocks: Vec<usize> = p.request.site.blocks.iter().map(|b| b.block).collect();
                dominating
                    .iter()
                    .filter(|(_, block, end)| blocks.contains(block) && *end <= p.start)
                    .max_by_key(|(_, _, end)| *end)
                    .map(|(name, _, _)| (i, (*name).clone()))
            })
            .collect();
        for (i, name) in reuse {
            if let Some(p) = self.pending.get_mut(i) {
                p.request.site.reusable_token = Some(name);
            }
        }
        let quoting = self.quoting_at(code.cx, 0).0.unwrap_or_default();
        if let Some(scope) = self.scopes.get_mut(index) {
            *scope = Scope {
                quoting,
                taken,
                token_vars,
                uses_curl: seen.uses_curl,
                busybox: seen.busybox,
                installs_gnu_wget: seen.gnu_wget.is_some_and(|at| {
                    self.pending
                        .iter()
                        .skip(first_pending)
                        .filter(|p| p.frame == fid)
                        .all(|p| at <= p.start)
                }),
            };
        }
    }

    pub(super) fn read_variables(&mut self, fid: usize, s: &Structure, text: &[u8]) {
        let mut vars: HashMap<String, Vec<VarDef>> = HashMap::new();
        let mut exported: HashSet<String> = HashSet::new();
        for &(node, name) in &s.assignments {
            let name = node_str(name, text);
            let value = node.child_by_field_name("value");
            let mut pieces = value
                .map(|v| word::word(v, text).pieces)
                .unwrap_or_default();
            let mut cursor = node.walk();
            let appends = node.children(&mut cursor).any(|c| c.kind() == "+=");
            if appends {
                pieces.insert(
                    0,
                    Piece::Variable {
                        name: name.clone(),
                        default: None,
                    },
                );
            }
            let exported_here = s
                .parents
                .of(node)
                .is_some_and(|p| p.kind() == "declaration_command" && exports(p, text));
            vars.entry(name).or_default().push(VarDef {
                pieces,
                exported: exported_here,
                value_span: value.map(span_of),
                dominates: dominated_block(node, &s.parents),
                prefix: s.parents.of(node).is_some_and(|p| p.kind() == "command"),
            });
        }
        for &decl in &s.declarations {
            if exports(decl, text) {
                let mut cursor = decl.walk();
                for child in decl.named_children(&mut cursor) {
                    if child.kind() == "variable_name" {
                        exported.insert(node_str(child, text));
                    }
                }
            }
        }
        for &command in &s.commands {
            for (name, def) in read_targets(command, s, text) {
                vars.entry(name).or_default().push(def);
            }
        }
        for &(node, name) in &s.loops {
            let name = node_str(name, text);
            let mut cursor = node.walk();
            for value in node.children_by_field_name("value", &mut cursor) {
                vars.entry(name.clone()).or_default().push(VarDef {
                    pieces: word::word(value, text).pieces,
                    exported: false,
                    value_span: None,
                    dominates: None,
                    prefix: false,
                });
            }
        }
        if let Some(frame) = self.frames.get_mut(fid) {
            frame.vars = vars;
            frame.exported = exported;
        }
    }
}

fn first_line(text: &[u8]) -> String {
    let end = text
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(text.len())
        .min(256);
    String::from_utf8_lossy(text.get(..end).unwrap_or_default()).into_owned()
}

/// `#!/bin/ash`, `#!/bin/busybox sh`: a BusyBox system, whose wget cannot PUT.
pub(super) fn shebang_is_busybox(text: &[u8]) -> bool {
    let line = first_line(text);
    line.starts_with("#!")
        && (line.contains("busybox")
            || line
                .split_whitespace()
                .next()
                .is_some_and(|p| p.ends_with("/ash")))
}

/// Whether a `declaration_command` exports what it declares (`export`, `declare -x`).
fn exports(decl: Node, text: &[u8]) -> bool {
    let mut cursor = decl.walk();
    let mut children = decl.children(&mut cursor);
    let Some(keyword) = children.next() else {
        return false;
    };
    match keyword.kind() {
        "export" => true,
        "declare" | "typeset" | "local" => children.any(|c| {
            c.kind() == "word" && {
                let t = node_str(c, text);
                t.starts_with('-') && t.contains('x')
            }
        }),
        _ => false,
    }
}

/// The variables `read` assigns (`read -r T < <(curl …)`, `read T <<< "$(curl …)"`): each with the
/// value of its input, the redirections of its statement (a substitution whose output it reads).
fn read_targets<'t>(command: Node<'t>, s: &Structure<'t>, text: &[u8]) -> Vec<(String, VarDef)> {
    // Its name before all its words: most commands are not `read`.
    let name = command
        .child_by_field_name("name")
        .map(|name| crate::shell::word::word(name, text));
    if name.as_ref().and_then(Word::literal).as_deref() != Some("read") {
        return Vec::new();
    }
    let (words, _) = crate::shell::tree::argv(command, text);
    let mut words = words.iter();
    if words.next().and_then(Word::literal).as_deref() != Some("read") {
        return Vec::new();
    }
    // Its input: a here-string is part of the command, other redirections of its statement.
    let mut cursor = command.walk();
    let herestring = command
        .children_by_field_name("redirect", &mut cursor)
        .map(|r| r.start_byte())
        .min();
    let statement = s
        .parents
        .of(command)
        .filter(|p| p.kind() == "redirected_statement");
    let input = match (herestring, statement) {
        (Some(start), _) => FragmentSpan::new(start, statement.unwrap_or(command).end_byte()),
        (None, Some(statement)) => FragmentSpan::new(command.end_byte(), statement.end_byte()),
        (None, None) => return Vec::new(),
    };
    let mut names = Vec::new();
    let mut options_done = false;
    let mut takes_value = false;
    for word in words {
        let Some(text) = word.literal() else {
            return Vec::new();
        };
        if takes_value {
            takes_value = false;
        } else if !options_done && text == "--" {
            options_done = true;
        } else if !options_done && text.starts_with('-') && text.len() > 1 {
            // `-p PROMPT`, `-d DELIM`, `-t N`, `-u FD`, `-n N`, `-N N`, `-i TEXT`: the value is
            // the next word unless it is attached. `-a NAME` fills an array: not read.
            if text.contains('a') {
                return Vec::new();
            }
            let last = text.chars().last().unwrap_or_default();
            takes_value = "pdtunNi".contains(last);
        } else {
            options_done = true;
            names.push(text);
        }
    }
    names
        .into_iter()
        .map(|name| {
            (
                name,
                VarDef {
                    pieces: vec![Piece::Command(input)],
                    exported: false,
                    value_span: Some(input),
                    dominates: None,
                    prefix: false,
                },
            )
        })
        .collect()
}
