//! The only code that touches tree-sitter-bash: parsing, words, commands with their wrappers
//! peeled, the metadata-request model and the token flow. Rules read [`Analysis`] and
//! [`request::Request`]; they never see a syntax node.

pub mod analysis;
pub mod aws;
mod blocks;
pub mod client;
pub mod command;
pub mod endpoint;
pub mod install;
pub mod parse;
pub mod request;
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
