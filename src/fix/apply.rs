//! Applies fixes to a file's bytes: edits sorted, identical edits merged (fixes share one token
//! fetch), a fix whose edits would overlap another's left for the next round.

use super::{Edit, Fix};

/// The result of one round of applying fixes.
#[derive(Debug)]
pub struct Applied {
    pub bytes: Vec<u8>,
    /// How many of the offered fixes were applied.
    pub fixes: usize,
}

fn conflicts(a: &Edit, b: &Edit) -> bool {
    a != b && a.span.start.0 <= b.span.end.0 && b.span.start.0 <= a.span.end.0
}

/// Applies as many of `fixes` as do not conflict, in the order given.
pub fn apply(original: &[u8], fixes: &[&Fix]) -> Applied {
    let mut accepted: Vec<&Edit> = Vec::new();
    let mut applied = 0;
    for fix in fixes {
        let fits = fix.edits.iter().all(|edit| {
            edit.span.end.0 <= original.len() && !accepted.iter().any(|a| conflicts(a, edit))
        });
        if fits {
            for edit in &fix.edits {
                if !accepted.contains(&edit) {
                    accepted.push(edit);
                }
            }
            applied += 1;
        }
    }
    accepted.sort_by_key(|e| (e.span.start, e.span.end));
    let mut bytes = Vec::with_capacity(original.len() + 256);
    let mut at = 0;
    for edit in accepted {
        bytes.extend_from_slice(original.get(at..edit.span.start.0).unwrap_or_default());
        bytes.extend_from_slice(edit.content.as_bytes());
        at = edit.span.end.0;
    }
    bytes.extend_from_slice(original.get(at..).unwrap_or_default());
    Applied {
        bytes,
        fixes: applied,
    }
}

/// Applies every edit of one fix to `original`; `None` when they overlap or reach past the end.
pub fn apply_edits(original: &[u8], edits: &[Edit]) -> Option<Vec<u8>> {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.span.start, e.span.end));
    sorted.dedup();
    let mut bytes = Vec::with_capacity(original.len() + 256);
    let mut at = 0;
    for edit in sorted {
        if edit.span.start.0 < at || edit.span.end.0 > original.len() {
            return None;
        }
        bytes.extend_from_slice(original.get(at..edit.span.start.0)?);
        bytes.extend_from_slice(edit.content.as_bytes());
        at = edit.span.end.0;
    }
    bytes.extend_from_slice(original.get(at..)?);
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::Applicability;
    use crate::fragment::HostSpan;

    fn fix(edits: &[(usize, usize, &str)]) -> Fix {
        Fix {
            applicability: Applicability::Safe,
            message: String::new(),
            edits: edits
                .iter()
                .map(|&(s, e, c)| Edit {
                    span: HostSpan::new(s, e),
                    content: c.to_owned(),
                })
                .collect(),
        }
    }

    #[test]
    fn shared_edits_are_applied_once() {
        let a = fix(&[(0, 0, "T=1\n"), (4, 4, " -H t")]);
        let b = fix(&[(0, 0, "T=1\n"), (11, 11, " -H t")]);
        let out = apply(b"curl a\ncurl b\n", &[&a, &b]);
        assert_eq!(out.fixes, 2);
        // Offsets 4 and 11 are just after each `curl`.
        assert_eq!(
            String::from_utf8(out.bytes).unwrap(),
            "T=1\ncurl -H t a\ncurl -H t b\n"
        );
    }

    #[test]
    fn overlapping_fixes_wait_for_the_next_round() {
        let a = fix(&[(0, 4, "wget")]);
        let b = fix(&[(2, 6, "xx")]);
        let out = apply(b"curl a", &[&a, &b]);
        assert_eq!(out.fixes, 1);
        assert_eq!(out.bytes, b"wget a");
    }

    #[test]
    fn bytes_outside_edits_are_kept() {
        let original = b"\xff\xfe curl\r\n";
        let out = apply(original, &[&fix(&[(7, 7, " -x")])]);
        assert_eq!(out.bytes, b"\xff\xfe curl -x\r\n");
    }

    #[test]
    fn edits_past_the_end_are_refused() {
        let out = apply(b"ab", &[&fix(&[(1, 5, "x")])]);
        assert_eq!(out.fixes, 0);
        assert_eq!(out.bytes, b"ab");
    }
}
