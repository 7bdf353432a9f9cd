//! Fixing one file to a fixed point: check, apply the fixes offered, check the result again,
//! until nothing changes. A fix that keeps changing the file after [`MAX_PASSES`] passes does not
//! converge; the caller is told, and says so.

use super::apply;
use super::Fix;

/// How many check-and-apply passes one file gets.
pub const MAX_PASSES: usize = 8;

/// Where fixing one file ended.
#[derive(Debug)]
pub struct FixedPoint<T> {
    /// The bytes after the last pass.
    pub bytes: Vec<u8>,
    /// The check of `bytes`, when the fixes converged on them.
    pub last: Option<T>,
    /// Whether a pass left the bytes as they were (false: every pass, [`MAX_PASSES`] of them,
    /// still changed them).
    pub converged: bool,
}

/// Checks `start` with `check`, applies the fixes `fixes` picks from the check, and repeats on
/// the result until a pass changes nothing or the passes ([`MAX_PASSES`]) run out.
pub fn to_fixed_point<T>(
    start: &[u8],
    check: impl FnMut(Vec<u8>) -> T,
    fixes: impl Fn(&T) -> Vec<&Fix>,
) -> FixedPoint<T> {
    to_fixed_point_within(start, MAX_PASSES, check, fixes)
}

/// [`to_fixed_point`] with at most `passes` passes (its tests, and its callers' tests, give
/// fewer).
pub fn to_fixed_point_within<T>(
    start: &[u8],
    passes: usize,
    mut check: impl FnMut(Vec<u8>) -> T,
    fixes: impl Fn(&T) -> Vec<&Fix>,
) -> FixedPoint<T> {
    let mut current = start.to_vec();
    for _ in 0..passes {
        let checked = check(current.clone());
        let applied = apply::apply(&current, &fixes(&checked));
        if applied.bytes == current {
            return FixedPoint {
                bytes: current,
                last: Some(checked),
                converged: true,
            };
        }
        current = applied.bytes;
    }
    FixedPoint {
        bytes: current,
        last: None,
        converged: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::{Applicability, Edit};
    use crate::fragment::HostSpan;

    fn append(text: &str) -> Fix {
        Fix {
            applicability: Applicability::Safe,
            message: String::new(),
            edits: vec![Edit {
                span: HostSpan::new(0, 0),
                content: text.to_owned(),
            }],
        }
    }

    #[test]
    fn stops_when_nothing_changes() {
        // One fix on the first pass, none after: two passes, converged.
        let mut passes = 0;
        let end = to_fixed_point(
            b"x",
            |bytes| {
                passes += 1;
                (bytes.first() == Some(&b'x')).then(|| append("a"))
            },
            |fix| fix.iter().collect(),
        );
        assert!(end.converged);
        assert_eq!(end.bytes, b"ax");
        assert_eq!(passes, 2);
        assert!(end.last.is_some_and(|fix| fix.is_none()));
    }

    #[test]
    fn says_when_fixes_do_not_converge() {
        // A fix that always offers itself again never reaches a fixed point.
        let end = to_fixed_point(b"x", |_| append("a"), |fix| vec![fix]);
        assert!(!end.converged);
        assert!(end.last.is_none());
        assert_eq!(end.bytes.len(), 1 + MAX_PASSES);
    }
}
