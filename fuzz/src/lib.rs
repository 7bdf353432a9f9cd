//! The fuzzing targets' bodies live in the library (`imds_lint::fuzzing`), where
//! `tests/fuzz_regressions.rs` replays the committed regression inputs without AFL.

pub use imds_lint::fuzzing::{check, layers};
