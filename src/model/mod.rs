//! The model every stage shares: findings and the places they point at, diagnostics and their
//! kinds (what was not analysed), rules as findings name them, fixes as data, instance metadata
//! settings, dependencies, link facts and migration summaries. These modules import nothing of the crate but
//! the coordinate types (`crate::source`, `crate::fragment`), so front ends, the analysis, rules,
//! the check, the pass across files and reporters may all use them without importing each other.

pub mod dependency;
pub mod diagnostic;
pub mod finding;
pub mod fix;
pub mod links;
pub mod request;
pub mod rule;
pub mod setting;
pub mod statistics;
pub mod summary;

pub use diagnostic::{Diagnostic, DiagnosticKind, Note};
pub use finding::{FileReport, Finding, OriginEntry, Related};
pub use fix::{Applicability, Edit, Fix};
pub use rule::{Rule, Severity};
pub use statistics::Statistics;
