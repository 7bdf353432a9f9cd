//! The only code that touches tree-sitter-bash: parsing, words, commands with their wrappers
//! peeled, the metadata-request model and the token flow. Rules read [`Analysis`] and
//! [`request::Request`]; they never see a syntax node.

pub mod analysis;
pub mod aws;
mod blocks;
pub mod client;
pub mod command;
pub mod endpoint;
mod nesting;
pub mod parse;
pub mod request;
mod scope;
mod token_flow;
mod tree;
pub mod word;

pub use analysis::{analyze, Analysis};

pub use crate::fragment::language::is_shell_shebang;
