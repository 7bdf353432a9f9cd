//! `# imds-lint disable=IMDS001[,IMDS00N]` comments, applied once, after the rules, to the
//! findings of one file. A marker at the end of a line covers that line; alone on a line it also
//! covers the next line; in the comments at the top of a file (before the first command) it covers
//! the whole file.

use std::sync::OnceLock;

use regex::Regex;

use crate::source::SourceFile;

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
    /// Reads the markers of a file; cheap when it has none.
    pub fn parse(source: &SourceFile) -> Self {
        let mut out = Suppressions::default();
        if memchr::memmem::find(&source.bytes, b"imds-lint").is_none() {
            return out;
        }
        let Some(marker) = marker() else {
            return out;
        };
        let mut leading = true;
        for index in 0..source.line_count() {
            let line = source.line_text(index);
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
    use std::path::PathBuf;

    fn parse(text: &str) -> Suppressions {
        Suppressions::parse(&SourceFile::new(
            PathBuf::from("t"),
            text.as_bytes().to_vec(),
        ))
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
