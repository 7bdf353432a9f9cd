//! The syntax tree of one fragment as the analysis reads it: the nodes `structure.scm` captures,
//! each node's parent (found once, since walking up with tree-sitter is quadratic), the depth
//! limit past which a tree is not analysed, and a command's words.

use std::collections::HashMap;

use tree_sitter::{Node, Tree};

use crate::shell::word::{self, Word};

/// The nodes of one fragment that the analysis reads, those `structure.scm` describes.
#[derive(Default)]
pub(super) struct Structure<'t> {
    pub(super) parents: Parents<'t>,
    pub(super) commands: Vec<Node<'t>>,
    pub(super) assignments: Vec<(Node<'t>, Node<'t>)>,
    pub(super) declarations: Vec<Node<'t>>,
    pub(super) loops: Vec<(Node<'t>, Node<'t>)>,
    pub(super) functions: Vec<(Node<'t>, Node<'t>)>,
    pub(super) heredocs: Vec<(Node<'t>, Node<'t>)>,
}

/// Each node's parent, found once for the whole tree. Tree-sitter's `Node::parent` searches down
/// from the root, so walking up from a node `d` deep with it costs O(d²): hostile nesting
/// (thousands of `$(…)`) made that minutes for one request. Built in one pass, O(nodes).
///
/// It also remembers, per node, the nearest edge above it that [`blocks`](super::blocks::blocks)
/// stops at, so that the requests of a long `a && b && …` chain (one level deeper each) do not
/// each walk the chain.
#[derive(Default)]
pub(super) struct Parents<'t> {
    map: NodeMap<Node<'t>>,
    up: std::cell::RefCell<NodeMap<Up<'t>>>,
}

/// A map by node id (an address): hashed with foldhash, which hashbrown brings already, since
/// the standard hasher, made to resist chosen keys that an address cannot be, was a twentieth of
/// a shell script's analysis.
type NodeMap<V> = HashMap<usize, V, foldhash::fast::RandomState>;

/// The nearest edge above a node that matters to [`blocks`](super::blocks::blocks).
#[derive(Clone, Copy)]
pub(super) enum Up<'t> {
    /// `statement` is a statement of `block`.
    Block {
        block: Node<'t>,
        statement: Node<'t>,
    },
    /// The node is in a `while`/`until` condition.
    WhileCondition,
    /// Neither, up to the root.
    Root,
}

impl<'t> Parents<'t> {
    pub(super) fn of(&self, node: Node<'t>) -> Option<Node<'t>> {
        self.map.get(&node.id()).copied()
    }

    /// The nearest block edge or `while` condition above `node`; every node passed on the way
    /// shares it, so it is remembered for all of them.
    pub(super) fn up(&self, node: Node<'t>) -> Up<'t> {
        let mut passed = Vec::new();
        let mut current = node;
        let found = loop {
            if let Some(known) = self.up.borrow().get(&current.id()) {
                break *known;
            }
            passed.push(current.id());
            let Some(parent) = self.of(current) else {
                break Up::Root;
            };
            if parent.kind() == "while_statement"
                && parent.child_by_field_name("body") != Some(current)
            {
                break Up::WhileCondition;
            }
            if is_block_statement(parent, current, self) {
                break Up::Block {
                    block: parent,
                    statement: current,
                };
            }
            current = parent;
        };
        let mut cache = self.up.borrow_mut();
        for id in passed {
            cache.insert(id, found);
        }
        found
    }
}

/// How deep a syntax tree may be for the analysis to run: no real script comes near it, and
/// beyond it tree-sitter's query matching (superlinear in depth) would take minutes.
pub(super) const MAX_TREE_DEPTH: usize = 20_000;

/// The nodes the analysis reads, and every node's parent, in one cursor walk of the tree; `None`
/// when the tree is deeper than `limit` (the walk stops there). The nodes are those
/// `grammars/bash/structure.scm` describes, in the order its matches come (a node before the
/// nodes inside it, then by position); a test holds the walk to the query. Compiling the query
/// cost a run 12 to 23 ms before its first script, more than parsing most scripts.
pub(super) fn structure(tree: &Tree, limit: usize) -> Option<Structure<'_>> {
    let mut out = Structure::default();
    let mut parents = NodeMap::default();
    let mut cursor = tree.walk();
    // The nodes above the cursor's.
    let mut above: Vec<Node> = Vec::new();
    loop {
        let node = cursor.node();
        out.capture(node);
        if let Some(parent) = above.last() {
            parents.insert(node.id(), *parent);
        }
        if cursor.goto_first_child() {
            above.push(node);
            if above.len() >= limit {
                return None;
            }
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                out.parents = Parents {
                    map: parents,
                    up: std::cell::RefCell::default(),
                };
                return Some(out);
            }
            above.pop();
        }
    }
}

impl<'t> Structure<'t> {
    /// Keeps `node` if `structure.scm` captures it.
    fn capture(&mut self, node: Node<'t>) {
        let field = |name: &str, kind: &str| {
            node.child_by_field_name(name)
                .filter(|child| child.kind() == kind)
        };
        match node.kind() {
            "command" => self.commands.push(node),
            "variable_assignment" => {
                if let Some(name) = field("name", "variable_name") {
                    self.assignments.push((node, name));
                }
            }
            "declaration_command" => self.declarations.push(node),
            "for_statement" => {
                if let Some(name) = field("variable", "variable_name") {
                    self.loops.push((node, name));
                }
            }
            "function_definition" => {
                let body = node.child_by_field_name("body").filter(Node::is_named);
                if let (Some(name), Some(body)) = (field("name", "word"), body) {
                    self.functions.push((name, body));
                }
            }
            "heredoc_redirect" => {
                let mut cursor = node.walk();
                for body in node
                    .named_children(&mut cursor)
                    .filter(|c| c.kind() == "heredoc_body")
                {
                    self.heredocs.push((node, body));
                }
            }
            _ => {}
        }
    }
}

/// The words of a command: its name, then its arguments, with their nodes.
pub(super) fn argv<'t>(node: Node<'t>, text: &[u8]) -> (Vec<Word>, Vec<Node<'t>>) {
    let mut nodes = Vec::new();
    let mut words = Vec::new();
    if let Some(name) = node.child_by_field_name("name") {
        nodes.push(name);
        words.push(word::word(name, text));
    }
    let mut cursor = node.walk();
    for argument in node.children_by_field_name("argument", &mut cursor) {
        nodes.push(argument);
        words.push(word::argument(argument, text));
    }
    (words, nodes)
}

/// Whether `child` is one of the statements of the block `parent` (a list of statements where a
/// new statement may be inserted): the script, a `{ }` or `( )` body, a `while`/`until` body, an
/// `if`/`elif`/`else` branch, a `case` branch. A `for` body is not one: its token is fetched once,
/// before the loop.
pub(super) fn is_block_statement<'t>(
    parent: Node<'t>,
    child: Node<'t>,
    parents: &Parents<'t>,
) -> bool {
    if !child.is_named() || child.kind() == "comment" {
        return false;
    }
    let after = |token: &str| {
        let mut cursor = parent.walk();
        let found = parent
            .children(&mut cursor)
            .find(|c| c.kind() == token)
            .is_some_and(|t| child.start_byte() >= t.end_byte());
        found
    };
    match parent.kind() {
        "program" | "compound_statement" | "subshell" | "else_clause" => true,
        "do_group" => parents
            .of(parent)
            .is_some_and(|loop_node| loop_node.kind() == "while_statement"),
        "if_statement" | "elif_clause" => {
            !matches!(child.kind(), "elif_clause" | "else_clause") && after("then")
        }
        "case_item" => after(")"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use tree_sitter::{Query, QueryCursor, StreamingIterator};

    use super::*;

    /// What `structure.scm` captures, in the order of its matches, as (capture name, node id)
    /// pairs; the walk's, the same way.
    type Captures = Vec<(String, usize)>;

    /// The walk stops, with nothing, at a tree deeper than its limit, and each node's parent is
    /// the one tree-sitter gives.
    #[test]
    fn the_walk_refuses_a_tree_past_its_depth_and_knows_every_parent() {
        fn depth(node: Node) -> usize {
            let mut cursor = node.walk();
            1 + node.children(&mut cursor).map(depth).max().unwrap_or(0)
        }
        let text = b"a=$(echo $(echo \"$(echo x)\")); f() { if true; then curl \"$a\"; fi; }\n";
        let tree = crate::shell::parse::parse(text).unwrap();
        let deepest = depth(tree.root_node());
        assert!(deepest > 8, "{deepest}");
        assert!(structure(&tree, deepest - 1).is_none());
        let s = structure(&tree, deepest).unwrap();
        let mut cursor = tree.walk();
        let mut seen = 0;
        loop {
            let node = cursor.node();
            assert_eq!(s.parents.of(node), node.parent(), "{}", node.kind());
            seen += 1;
            if cursor.goto_first_child() {
                continue;
            }
            while !cursor.goto_next_sibling() {
                if !cursor.goto_parent() {
                    assert!(seen > 30, "{seen}");
                    return;
                }
            }
        }
    }

    fn both(text: &str) -> (Captures, Captures) {
        static QUERY: std::sync::OnceLock<Query> = std::sync::OnceLock::new();
        let query = QUERY.get_or_init(|| {
            Query::new(
                &crate::syntax::Grammar::Bash.language(),
                include_str!("../../grammars/bash/structure.scm"),
            )
            .unwrap()
        });
        let tree = crate::shell::parse::parse(text.as_bytes()).unwrap();
        let names = query.capture_names();
        let mut cursor = QueryCursor::new();
        let mut matches = cursor.matches(query, tree.root_node(), text.as_bytes());
        let mut by_query = Vec::new();
        while let Some(m) = matches.next() {
            for c in m.captures {
                by_query.push((names[c.index as usize].to_owned(), c.node.id()));
            }
        }
        assert!(!cursor.did_exceed_match_limit());
        let s = structure(&tree, MAX_TREE_DEPTH).unwrap();
        let mut by_walk = Vec::new();
        // The query's captures per match, in the order the patterns list them.
        let mut walked: Vec<(usize, Vec<(&str, Node)>)> = Vec::new();
        walked.extend(
            s.commands
                .iter()
                .map(|n| (n.start_byte(), vec![("command", *n)])),
        );
        walked.extend(s.assignments.iter().map(|(n, name)| {
            (
                n.start_byte(),
                vec![("assignment.name", *name), ("assignment", *n)],
            )
        }));
        walked.extend(
            s.declarations
                .iter()
                .map(|n| (n.start_byte(), vec![("declaration", *n)])),
        );
        walked.extend(
            s.loops
                .iter()
                .map(|(n, name)| (n.start_byte(), vec![("loop.name", *name), ("loop", *n)])),
        );
        walked.extend(s.functions.iter().map(|(name, body)| {
            let function = s.parents.of(*name).unwrap();
            (
                function.start_byte(),
                vec![
                    ("function.name", *name),
                    ("function.body", *body),
                    ("function", function),
                ],
            )
        }));
        walked.extend(s.heredocs.iter().map(|(n, body)| {
            (
                n.start_byte(),
                vec![("heredoc.body", *body), ("heredoc", *n)],
            )
        }));
        for (_, captures) in walked {
            by_walk.extend(
                captures
                    .into_iter()
                    .map(|(name, n)| (name.to_owned(), n.id())),
            );
        }
        (by_query, by_walk)
    }

    /// The walk finds what the query finds, in every fixture script: the same nodes, in each
    /// kind the same order (sorted here by kind, as the analysis reads each kind on its own).
    #[test]
    fn the_walk_captures_what_structure_scm_matches() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut scripts = 0;
        let mut stack = vec![root];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "sh") {
                    continue;
                }
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                let (query, walk) = both(&text);
                let kinds = |list: &Captures| {
                    let mut by_kind: Vec<(String, Vec<usize>)> = Vec::new();
                    for (name, id) in list {
                        match by_kind.iter_mut().find(|(n, _)| n == name) {
                            Some((_, ids)) => ids.push(*id),
                            None => by_kind.push((name.clone(), vec![*id])),
                        }
                    }
                    by_kind.sort();
                    by_kind
                };
                assert_eq!(kinds(&query), kinds(&walk), "{}", path.display());
                scripts += 1;
            }
        }
        assert!(scripts > 100, "only {scripts} scripts");
        // Nested and error-recovered shapes, each kind at least once.
        let (query, walk) = both(
            "f() { a=1 b; }\nfor i in 1 2; do x=$(y=2 z <<E\nbody\nE\n); done\nexport k=v\nif [ ( ]; then q; fi\narr[1]=x cmd\n",
        );
        assert_eq!(query.len(), walk.len());
        let mut sorted = (query.clone(), walk.clone());
        sorted.0.sort();
        sorted.1.sort();
        assert_eq!(sorted.0, sorted.1);
        for kind in [
            "command",
            "assignment",
            "declaration",
            "loop",
            "function",
            "heredoc",
        ] {
            assert!(walk.iter().any(|(n, _)| n == kind), "{kind}");
        }
    }
}
