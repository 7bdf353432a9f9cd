//! The only code that touches tree-sitter-bash: parsing, words, commands with their wrappers
//! peeled, and the token flow. It produces the language-neutral request model
//! (`crate::model::request`) that rules read; they never see a syntax node.

pub mod analysis;
pub mod aws;
mod blocks;
pub mod client;
pub mod command;
pub mod endpoint;
pub mod install;
pub mod parse;
mod tree;
pub mod word;

pub use analysis::{analyze, analyze_with, Analysis};

/// How one run analyses shell code, from its configuration: a value passed to [`analyze_with`]
/// (the default is what [`analyze`] uses).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Options {
    /// The hosts that reach the metadata service.
    pub endpoints: endpoint::Endpoints,
}

pub use crate::fragment::language::is_shell_shebang;
