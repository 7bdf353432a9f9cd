//! One tree-sitter parser per thread and grammar, reset before each parse, with a deadline so a
//! pathological input is given up rather than hung on. Every front end and the shell analysis
//! parse through here.

use std::cell::RefCell;
use std::time::{Duration, Instant};

use tree_sitter::{Language, Node, Parser, Tree};

use crate::fragment::HostSpan;

/// How long one parse may take before it is given up.
pub const DEADLINE: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grammar {
    Bash,
    Containerfile,
    Yaml,
    Hcl,
}

impl Grammar {
    pub fn language(self) -> Language {
        match self {
            Grammar::Bash => tree_sitter_bash::LANGUAGE.into(),
            Grammar::Containerfile => tree_sitter_containerfile::LANGUAGE.into(),
            Grammar::Yaml => tree_sitter_yaml::LANGUAGE.into(),
            Grammar::Hcl => tree_sitter_hcl::LANGUAGE.into(),
        }
    }

    fn slot(self) -> usize {
        self as usize
    }
}

thread_local! {
    static PARSERS: RefCell<[Option<Parser>; 4]> = const { RefCell::new([None, None, None, None]) };
}

/// Parses `text` with this thread's parser for `grammar`; `None` when the grammar cannot be
/// loaded or the parse runs past [`DEADLINE`].
pub fn parse(grammar: Grammar, text: &[u8]) -> Option<Tree> {
    parse_range(grammar, text, None)
}

/// Parses only `range` of `text` (node offsets stay those of `text`), or all of it.
pub fn parse_range(
    grammar: Grammar,
    text: &[u8],
    range: Option<tree_sitter::Range>,
) -> Option<Tree> {
    PARSERS.with(|cell| {
        let mut parsers = cell.borrow_mut();
        let slot = parsers.get_mut(grammar.slot())?;
        if slot.is_none() {
            let mut parser = Parser::new();
            parser.set_language(&grammar.language()).ok()?;
            *slot = Some(parser);
        }
        let parser = slot.as_mut()?;
        parser.reset();
        // An empty list parses the whole text.
        parser.set_included_ranges(range.as_slice()).ok()?;
        let started = Instant::now();
        let mut past_deadline = |_: &tree_sitter::ParseState| started.elapsed() > DEADLINE;
        let options = tree_sitter::ParseOptions::new().progress_callback(&mut past_deadline);
        let len = text.len();
        parser.parse_with_options(
            &mut |i, _| text.get(i..len).unwrap_or_default(),
            None,
            Some(options),
        )
    })
}

/// The parts of a tree the parser could not read: each child of `root` (or of a child whose kind
/// is one of `containers`, such as HCL's `body`) with a syntax error in it or around it (an
/// `ERROR` node, or a token the parser assumed, `MISSING`), as host spans; the whole tree when
/// the root itself is an error. A front end reports these as `Parsed::unparsed`: what it reads
/// there may not be what is written, and no fix edits there.
pub fn unparsed(root: Node, containers: &[&str]) -> Vec<HostSpan> {
    let span = |node: Node| HostSpan::new(node.start_byte(), node.end_byte());
    if root.is_error() {
        return vec![span(root)];
    }
    if !root.has_error() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut cursor = root.walk();
    for child in root.children(&mut cursor) {
        if containers.contains(&child.kind()) && !child.is_error() {
            let mut inner = child.walk();
            out.extend(
                child
                    .children(&mut inner)
                    .filter(|unit| unit.has_error() || unit.is_missing())
                    .map(span),
            );
        } else if child.has_error() || child.is_missing() {
            out.push(span(child));
        }
    }
    out
}
