//! The syntax tree of one fragment as the analysis reads it: the nodes `structure.scm` captures,
//! each node's parent (found once, since walking up with tree-sitter is quadratic), the depth
//! limit past which a tree is not analysed, and a command's words.

use std::collections::HashMap;

use tree_sitter::{Node, StreamingIterator, Tree};

use crate::shell::parse::StructureQuery;
use crate::shell::word::{self, Word};

/// The nodes of one fragment that the analysis reads, from `structure.scm`.
#[derive(Default)]
pub(super) struct Structure<'t> {
    /// Tree-sitter dropped matches (too many in progress at once): some commands were missed.
    pub(super) incomplete: bool,
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
    map: HashMap<usize, Node<'t>>,
    up: std::cell::RefCell<HashMap<usize, Up<'t>>>,
}

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
    fn new(root: Node<'t>) -> Self {
        let mut map = HashMap::new();
        let mut stack = vec![root];
        while let Some(node) = stack.pop() {
            let mut cursor = node.walk();
            for child in node.children(&mut cursor) {
                map.insert(child.id(), node);
                stack.push(child);
            }
        }
        Parents {
            map,
            up: std::cell::RefCell::default(),
        }
    }

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

/// Whether a tree is deeper than `limit` (counting stops there): one cursor walk.
pub(super) fn deeper_than(root: Node, limit: usize) -> bool {
    let mut cursor = root.walk();
    let mut depth = 1;
    loop {
        if cursor.goto_first_child() {
            depth += 1;
            if depth > limit {
                return true;
            }
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return false;
            }
            depth -= 1;
        }
    }
}

pub(super) fn structure<'t>(tree: &'t Tree, text: &[u8], q: &StructureQuery) -> Structure<'t> {
    let mut out = Structure {
        parents: Parents::new(tree.root_node()),
        ..Structure::default()
    };
    let mut cursor = tree_sitter::QueryCursor::new();
    let mut matches = cursor.matches(&q.query, tree.root_node(), text);
    while let Some(m) = matches.next() {
        let get = |index: u32| m.captures.iter().find(|c| c.index == index).map(|c| c.node);
        if let Some(node) = get(q.command) {
            out.commands.push(node);
        } else if let (Some(node), Some(name)) = (get(q.assignment), get(q.assignment_name)) {
            out.assignments.push((node, name));
        } else if let Some(node) = get(q.declaration) {
            out.declarations.push(node);
        } else if let (Some(node), Some(name)) = (get(q.loop_stmt), get(q.loop_name)) {
            out.loops.push((node, name));
        } else if let (Some(_), Some(name), Some(body)) =
            (get(q.function), get(q.function_name), get(q.function_body))
        {
            out.functions.push((name, body));
        } else if let (Some(node), Some(body)) = (get(q.heredoc), get(q.heredoc_body)) {
            out.heredocs.push((node, body));
        }
    }
    out.incomplete = cursor.did_exceed_match_limit();
    out
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
