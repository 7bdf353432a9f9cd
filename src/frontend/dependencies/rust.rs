//! Rust: Cargo.lock's `[[package]]` tables (the table lists rusoto, which never speaks IMDSv2).

use super::Found;
use crate::model::dependency::Ecosystem;

pub(super) fn cargo_lock(text: &str, found: &mut Found) -> Result<(), String> {
    super::python::toml_lock(text, found, Ecosystem::Cargo)
}
