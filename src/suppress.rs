//! `# imds-lint disable=IMDS001[,IMDS00N]` comments, applied once, after the rules, to the
//! findings of one file. A marker at the end of a line covers that line; alone on a line it also
//! covers the next line; in the comments at the top of a file (before the first command) it covers
//! the whole file.

use std::sync::OnceLock;

use regex::Regex;

use crate::fragment::HostSpan;

#[derive(Debug, Default)]
pub struct Suppressions {
    whole_file: Vec<String>,
    /// (0-based line, codes) for each line a marker covers.
    lines: Vec<(usize, Vec<String>)>,
}

fn marker() -> Option<&'static Regex> {
    static MARKER: OnceLock<Option<Regex>> = OnceLock::new();
    MARKER
        .get_or_init(|| {
            Regex::new(r"(?i)#\s*imds-lint\s*:?\s*disable\s*=\s*([A-Za-z0-9_\-]+(?:\s*,\s*[A-Za-z0-9_\-]+)*)")
                .ok()
        })
        .as_ref()
}

impl Suppressions {
    /// Reads the markers of a file (or of a decoded host); cheap when it has none.
    pub fn parse(bytes: &[u8]) -> Self {
        let mut out = Suppressions::default();
        if memchr::memmem::find(bytes, b"imds-lint").is_none() {
            return out;
        }
        let Some(marker) = marker() else {
            return out;
        };
        let mut leading = true;
        for (index, line) in bytes.split(|&b| b == b'\n').enumerate() {
            let line = String::from_utf8_lossy(line);
            let trimmed = line.trim_start();
            let comment_only = trimmed.starts_with('#');
            if !comment_only && !trimmed.is_empty() {
                leading = false;
            }
            let Some(captures) = marker.captures(&line) else {
                continue;
            };
            let codes: Vec<String> = captures
                .get(1)
                .map(|m| m.as_str())
                .unwrap_or_default()
                .split(',')
                .map(|c| c.trim().to_ascii_uppercase())
                .filter(|c| !c.is_empty())
                .collect();
            if leading {
                out.whole_file.extend(codes);
            } else if comment_only {
                out.lines.push((index + 1, codes));
            } else {
                out.lines.push((index, codes));
            }
        }
        out
    }

    /// Whether `code`, found at `span` of `bytes` (the text these markers were read from), is
    /// suppressed.
    pub fn covers_span(&self, bytes: &[u8], code: &str, span: HostSpan) -> bool {
        let line_of = |at: usize| {
            memchr::memchr_iter(b'\n', bytes.get(..at.min(bytes.len())).unwrap_or_default()).count()
        };
        let first = line_of(span.start.0);
        let last = line_of(span.end.0.saturating_sub(1)).max(first);
        self.covers(code, first, last)
    }

    /// Whether `code`, found on 0-based lines `first..=last`, is suppressed.
    pub fn covers(&self, code: &str, first: usize, last: usize) -> bool {
        let matches = |codes: &[String]| codes.iter().any(|c| c == code || c == "ALL");
        matches(&self.whole_file)
            || self
                .lines
                .iter()
                .any(|(line, codes)| (first..=last).contains(line) && matches(codes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Suppressions {
        Suppressions::parse(text.as_bytes())
    }

    #[test]
    fn trailing_and_previous_line_markers() {
        let s = parse("set -e\ncurl a # imds-lint disable=IMDS001\n# imds-lint disable=IMDS002,IMDS003\ncurl b\n");
        assert!(s.covers("IMDS001", 1, 1));
        assert!(!s.covers("IMDS004", 1, 1));
        assert!(s.covers("IMDS002", 3, 3));
        assert!(s.covers("IMDS003", 3, 3));
        assert!(!s.covers("IMDS001", 3, 3));
        assert!(!s.covers("IMDS001", 0, 0));
    }

    #[test]
    fn leading_comments_cover_the_file() {
        let s = parse("#!/bin/sh\n# imds-lint disable=IMDS004\n\ncurl a\ncurl b\n");
        assert!(s.covers("IMDS004", 3, 3));
        assert!(s.covers("IMDS004", 4, 4));
        assert!(!s.covers("IMDS001", 4, 4));
    }

    #[test]
    fn markers_after_code_do_not_cover_the_file() {
        let s = parse("set -e\n# imds-lint disable=IMDS001\ncurl a\ncurl b\n");
        assert!(s.covers("IMDS001", 2, 2));
        assert!(!s.covers("IMDS001", 3, 3));
    }
}
