//! Parsing bash (through `crate::syntax`) and the compiled queries from `grammars/bash/`. A parse
//! that fails or runs past its budget is an error value.

use std::sync::OnceLock;

use tree_sitter::{Language, Query, Tree};

use crate::syntax::Grammar;

#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("the bash grammar could not be loaded: {0}")]
    Language(String),
    #[error("{0}; it was not analysed")]
    Syntax(#[from] crate::syntax::ParseError),
    #[error("the script nests more than {0} syntax levels deep (command substitutions, subshells, long `&&` chains); it was not analysed")]
    TooDeep(usize),
}

fn language() -> Language {
    Grammar::Bash.language()
}

/// Parses `text` as bash with this thread's parser.
pub fn parse(text: &[u8]) -> Result<Tree, ParseError> {
    Ok(crate::syntax::parse(Grammar::Bash, text)?)
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
