//! The blocks a command sits in (script, `{ }`, loop body, `if` branch, `case` arm, function):
//! where a fix may insert a token request before it, and which assignments run before it for sure.

use tree_sitter::Node;

use crate::fragment::{OffsetMap, PlainScalar};
use crate::model::request::{BlockAnchor, BlockKind, Quoting};
use crate::shell::tree::{is_block_statement, Parents, Up};

fn block_kind<'t>(block: Node<'t>, parents: &Parents<'t>) -> BlockKind {
    match block.kind() {
        "program" => BlockKind::Script,
        "do_group" => BlockKind::Loop,
        "if_statement" | "elif_clause" | "else_clause" => BlockKind::Branch,
        "case_item" => BlockKind::Case,
        "compound_statement"
            if parents
                .of(block)
                .is_some_and(|p| p.kind() == "function_definition") =>
        {
            BlockKind::Function
        }
        _ => BlockKind::Group,
    }
}

/// The blocks around a command, innermost first, each with the statement that holds the command.
/// None for a command in a `while`/`until` condition: it runs again until it succeeds (often
/// waiting for IMDS to come up), so it must fetch its own token each time.
#[allow(clippy::type_complexity)]
pub(super) fn blocks<'t>(
    command: Node<'t>,
    parents: &Parents<'t>,
    text: &[u8],
    map: &OffsetMap,
    quoting_at: &dyn Fn(usize) -> (Option<Vec<Quoting>>, Option<PlainScalar>),
) -> Vec<BlockAnchor> {
    let mut out = Vec::new();
    let mut at = command;
    loop {
        let (parent, node) = match parents.up(at) {
            Up::Root => break,
            Up::WhileCondition => return Vec::new(),
            Up::Block { block, statement } => (block, statement),
        };
        {
            let start = node.start_byte();
            let before = text.get(..start).unwrap_or_default();
            let line_start = memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
            let prefix = text.get(line_start..start).unwrap_or_default();
            let begins_line = prefix.iter().all(|&b| b == b' ' || b == b'\t');
            let indent: String = text
                .get(line_start..)
                .unwrap_or_default()
                .iter()
                .take_while(|&&b| b == b' ' || b == b'\t')
                .map(|&b| b as char)
                .collect();
            let line_end =
                memchr::memchr(b'\n', text.get(start..).unwrap_or_default()).map(|i| start + i);
            let crlf = line_end.is_some_and(|end| end > 0 && text.get(end - 1) == Some(&b'\r'));
            let (quoting, plain) = quoting_at(line_start);
            out.push(BlockAnchor {
                quoting,
                plain,
                block: parent.id(),
                statement: map.to_host(crate::fragment::FragmentOffset(start)),
                line_start: map.to_host(crate::fragment::FragmentOffset(line_start)),
                begins_line,
                kind: block_kind(parent, parents),
                indent,
                eol: if crlf { "\r\n" } else { "\n" },
            });
        }
        at = parent;
    }
    out
}

/// The block an assignment always runs in before that block's later statements, and the
/// assignment's end; `None` when it runs only sometimes (in a condition, a list, a pipeline).
pub(super) fn dominated_block<'t>(
    assignment: Node<'t>,
    parents: &Parents<'t>,
) -> Option<(usize, usize)> {
    let mut node = assignment;
    while let Some(parent) = parents.of(node) {
        if is_block_statement(parent, node, parents) {
            return Some((parent.id(), node.end_byte()));
        }
        match parent.kind() {
            "variable_assignment"
            | "variable_assignments"
            | "declaration_command"
            | "redirected_statement" => node = parent,
            _ => return None,
        }
    }
    None
}
