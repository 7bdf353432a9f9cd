//! The tree-sitter-bash parser, one per thread and reset before each parse, and the compiled
//! queries from `grammars/bash/`. A parse that fails or runs past its deadline is an error value.

use std::cell::RefCell;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tree_sitter::{Language, Parser, Query, Tree};

/// How long one fragment may take to parse before it is given up as pathological.
const PARSE_DEADLINE: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("the bash grammar could not be loaded: {0}")]
    Language(String),
    #[error("parsing gave up after {0:?}")]
    Deadline(Duration),
}

fn language() -> Language {
    tree_sitter_bash::LANGUAGE.into()
}

thread_local! {
    static PARSER: RefCell<Option<Parser>> = const { RefCell::new(None) };
}

/// Parses `text` as bash with this thread's parser.
pub fn parse(text: &[u8]) -> Result<Tree, ParseError> {
    PARSER.with(|cell| {
        let mut slot = cell.borrow_mut();
        let parser = match slot.as_mut() {
            Some(parser) => parser,
            None => {
                let mut parser = Parser::new();
                parser
                    .set_language(&language())
                    .map_err(|e| ParseError::Language(e.to_string()))?;
                slot.insert(parser)
            }
        };
        parser.reset();
        let started = Instant::now();
        let mut past_deadline = |_: &tree_sitter::ParseState| started.elapsed() > PARSE_DEADLINE;
        let options = tree_sitter::ParseOptions::new().progress_callback(&mut past_deadline);
        let len = text.len();
        parser
            .parse_with_options(
                &mut |i, _| text.get(i..len).unwrap_or_default(),
                None,
                Some(options),
            )
            .ok_or(ParseError::Deadline(PARSE_DEADLINE))
    })
}

/// The compiled `grammars/bash/structure.scm` and the indices of its captures.
pub struct StructureQuery {
    pub query: Query,
    pub command: u32,
    pub assignment: u32,
    pub assignment_name: u32,
    pub declaration: u32,
    pub loop_stmt: u32,
    pub loop_name: u32,
    pub function: u32,
    pub function_name: u32,
    pub function_body: u32,
    pub heredoc: u32,
    pub heredoc_body: u32,
}

static STRUCTURE: OnceLock<Result<StructureQuery, String>> = OnceLock::new();

pub fn structure_query() -> Result<&'static StructureQuery, ParseError> {
    STRUCTURE
        .get_or_init(|| {
            let query = Query::new(
                &language(),
                include_str!("../../grammars/bash/structure.scm"),
            )
            .map_err(|e| e.to_string())?;
            let index = |name: &str| {
                query
                    .capture_index_for_name(name)
                    .ok_or_else(|| format!("structure.scm has no capture @{name}"))
            };
            Ok(StructureQuery {
                command: index("command")?,
                assignment: index("assignment")?,
                assignment_name: index("assignment.name")?,
                declaration: index("declaration")?,
                loop_stmt: index("loop")?,
                loop_name: index("loop.name")?,
                function: index("function")?,
                function_name: index("function.name")?,
                function_body: index("function.body")?,
                heredoc: index("heredoc")?,
                heredoc_body: index("heredoc.body")?,
                query,
            })
        })
        .as_ref()
        .map_err(|e| ParseError::Language(e.clone()))
}
