//! One tree-sitter parser per thread and grammar, reset before each parse, with a deadline so a
//! pathological input is given up rather than hung on. Every front end and the shell analysis
//! parse through here.

use std::cell::RefCell;
use std::time::{Duration, Instant};

use tree_sitter::{Language, Parser, Tree};

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
