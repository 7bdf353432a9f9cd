//! `# imds-lint disable=IMDS001[,IMDS00N]` comments, applied once, after the rules, to the
//! findings of one file. A marker at the end of a line covers that line; alone on a line it also
//! covers the next line; in the comments at the top of a file (before the first command) it covers
//! the whole file. `ALL` covers every code. A marker's `#` starts the line or follows a blank, a
//! `;` or a quote (`` `# imds-lint disable` `` quoted in prose is no marker). A marker remembers which of its codes suppressed
//! something, so that the check can report the ones that did not (IMDS090), and says how to take
//! codes out of it.

use std::cell::Cell;
use std::sync::OnceLock;

use regex::Regex;

use crate::fragment::HostSpan;
use crate::model::Edit;

/// The markers of one text (a file or a decoded host).
#[derive(Debug, Default)]
pub struct Suppressions {
    markers: Vec<Marker>,
}

/// One `# imds-lint disable…` comment.
#[derive(Debug)]
pub struct Marker {
    /// From its `#` to the end of its last code (of `disable` when it names none).
    pub span: HostSpan,
    /// Its codes as written (upper-cased), each with its span.
    pub codes: Vec<(String, HostSpan)>,
    /// The 0-based line it covers, or `None` for the whole file.
    pub covers_line: Option<usize>,
    /// The 0-based line it is on.
    pub line: usize,
    /// Whether its spans are exact (its line is valid UTF-8); only then can it be edited.
    pub located: bool,
    used: Vec<Cell<bool>>,
    /// For a marker in an HTML comment before a code block in documentation: the last 0-based
    /// line it covers (the block's closing fence), `covers_line` being the first.
    until: Option<usize>,
}

impl Marker {
    /// Whether it names no code (`# imds-lint disable`), so it suppresses nothing.
    pub fn is_bare(&self) -> bool {
        self.codes.is_empty()
    }

    /// Whether its code at `index` suppressed a finding.
    pub fn used(&self, index: usize) -> bool {
        self.used.get(index).is_some_and(Cell::get)
    }

    /// Records that its code at `index` suppressed a finding (seen through another reading of
    /// the same text: a decoded host that maps one to one onto the file).
    pub fn mark_used(&self, index: usize) {
        if let Some(used) = self.used.get(index) {
            used.set(true);
        }
    }

    /// Whether it lists `code` (or `ALL`).
    pub fn names(&self, code: &str) -> bool {
        self.codes.iter().any(|(c, _)| c == code || c == "ALL")
    }

    fn covers(&self, code: &str, first: usize, last: usize) -> bool {
        let reaches = match (self.covers_line, self.until) {
            (None, _) => true,
            (Some(line), None) => (first..=last).contains(&line),
            (Some(line), Some(until)) => first <= until && line <= last,
        };
        if !reaches {
            return false;
        }
        let mut hit = false;
        for ((c, _), used) in self.codes.iter().zip(&self.used) {
            if c == code || c == "ALL" {
                used.set(true);
                hit = true;
            }
        }
        hit
    }

    /// The edits on `bytes` (the text it was read from) that take the codes at `remove` out of
    /// it: the code list rewritten without them; or, when none is left, the marker removed with
    /// the blanks before it, its whole line when the line holds nothing else, and only its words
    /// (`imds-lint disable=…`, keeping the `#`) when other text follows it on the line, so that
    /// text stays a comment. `None` when the marker names no code or is not located.
    pub fn removal(&self, bytes: &[u8], remove: &[usize]) -> Option<Vec<Edit>> {
        if !self.located {
            return None;
        }
        let (first, last) = (self.codes.first()?, self.codes.last()?);
        let kept: Vec<&str> = self
            .codes
            .iter()
            .enumerate()
            .filter(|(i, _)| !remove.contains(i))
            .map(|(_, (code, _))| code.as_str())
            .collect();
        if !kept.is_empty() {
            return Some(vec![Edit {
                span: HostSpan::new(first.1.start.0, last.1.end.0),
                content: kept.join(","),
            }]);
        }
        let (start, end) = (self.span.start.0, self.span.end.0);
        let line_start = bytes
            .get(..start)
            .and_then(|b| memchr::memrchr(b'\n', b))
            .map_or(0, |at| at + 1);
        let line_end = bytes
            .get(end..)
            .and_then(|b| memchr::memchr(b'\n', b))
            .map_or(bytes.len(), |at| end + at);
        let blank = |b: &u8| matches!(b, b' ' | b'\t' | b'\r');
        let before = bytes.get(line_start..start)?;
        let after = bytes.get(end..line_end)?;
        let edit = |from: usize, to: usize| {
            Some(vec![Edit {
                span: HostSpan::new(from, to),
                content: String::new(),
            }])
        };
        if after.iter().all(blank) {
            if before.iter().all(blank) {
                // A line of its own: the line goes, with its line break (or the one before it,
                // on a last line without one).
                return if line_end < bytes.len() {
                    edit(line_start, line_end + 1)
                } else if line_start > 0 {
                    edit(line_start - 1, line_end)
                } else {
                    edit(line_start, line_end)
                };
            }
            let blanks = before.iter().rev().take_while(|b| blank(b)).count();
            // The blanks after it stay (a `\r` of the line break among them).
            return edit(start - blanks, end);
        }
        let gap = after.iter().take_while(|b| blank(b)).count();
        if after.get(gap) == Some(&b'#') {
            // Another comment follows: it takes the marker's place.
            return edit(start, end + gap);
        }
        // Other text follows: keep the `#` (and the blanks after it) so that it stays a comment.
        let words = bytes
            .get(start + 1..end)?
            .iter()
            .take_while(|b| blank(b))
            .count();
        edit(start + 1 + words, end + gap)
    }
}

fn marker() -> Option<&'static Regex> {
    static MARKER: OnceLock<Option<Regex>> = OnceLock::new();
    MARKER
        .get_or_init(|| {
            Regex::new(
                r"(?i)(?:^|[ \t;\x22'])(#[ \t]*imds-lint[ \t]*:?[ \t]*disable\b(?:[ \t]*=[ \t]*([A-Za-z0-9_\-]+(?:[ \t]*,[ \t]*[A-Za-z0-9_\-]+)*))?)",
            )
            .ok()
        })
        .as_ref()
}

/// A marker in an HTML comment alone on its line (`<!-- imds-lint disable=IMDS001 -->`), in
/// Markdown, where it covers the code block that follows.
fn html_marker() -> Option<&'static Regex> {
    static MARKER: OnceLock<Option<Regex>> = OnceLock::new();
    MARKER
        .get_or_init(|| {
            Regex::new(
                r"(?i)^[ \t>]*(<!--[ \t]*imds-lint[ \t]*:?[ \t]*disable(?:-next-block)?\b(?:[ \t]*=[ \t]*([A-Za-z0-9_\-]+(?:[ \t]*,[ \t]*[A-Za-z0-9_\-]+)*))?[ \t]*-->)[ \t\r]*$",
            )
            .ok()
        })
        .as_ref()
}

/// The last line an HTML-comment marker on line `index` covers: the closing fence of the code
/// block that starts on the next line that is not blank, or that line alone.
fn block_end(lines: &[&[u8]], index: usize) -> usize {
    let strip = |line: &[u8]| -> Vec<u8> {
        line.iter()
            .copied()
            .skip_while(|b| matches!(b, b' ' | b'\t' | b'>'))
            .collect()
    };
    let Some(start) = (index + 1..lines.len())
        .find(|&k| lines.get(k).is_some_and(|l| !l.trim_ascii().is_empty()))
    else {
        return index + 1;
    };
    let open = strip(lines.get(start).copied().unwrap_or_default());
    let Some(&c) = open.first().filter(|c| **c == b'`' || **c == b'~') else {
        return start;
    };
    let n = open.iter().take_while(|b| **b == c).count();
    if n < 3 {
        return start;
    }
    (start + 1..lines.len())
        .find(|&k| {
            let line = strip(lines.get(k).copied().unwrap_or_default());
            let run = line.iter().take_while(|b| **b == c).count();
            run >= n
                && line
                    .get(run..)
                    .is_some_and(|rest| rest.trim_ascii().is_empty())
        })
        .unwrap_or(lines.len())
}

fn code_word() -> Option<&'static Regex> {
    static WORD: OnceLock<Option<Regex>> = OnceLock::new();
    WORD.get_or_init(|| Regex::new(r"[A-Za-z0-9_\-]+").ok())
        .as_ref()
}

impl Suppressions {
    /// Reads the markers of a file (or of a decoded host); cheap when it has none.
    pub fn parse(bytes: &[u8]) -> Self {
        let mut out = Suppressions::default();
        if memchr::memmem::find(bytes, b"imds-lint").is_none() {
            return out;
        }
        let (Some(marker), Some(word)) = (marker(), code_word()) else {
            return out;
        };
        let mut leading = true;
        let mut line_start = 0;
        let all: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
        for (index, line) in all.iter().copied().enumerate() {
            let at = line_start;
            line_start += line.len() + 1;
            // Matched on the bytes, so that spans are byte offsets whatever the encoding.
            let text = String::from_utf8_lossy(line);
            let trimmed = text.trim_start();
            let comment_only = trimmed.starts_with('#');
            if !comment_only && !trimmed.is_empty() {
                leading = false;
            }
            let html = html_marker().and_then(|html| html.captures(&text));
            let until = html.as_ref().map(|_| block_end(&all, index));
            let Some(captures) = html.or_else(|| marker.captures(&text)) else {
                continue;
            };
            let (Some(whole), codes) = (captures.get(1), captures.get(2)) else {
                continue;
            };
            // Offsets in the lossy text are byte offsets in the line when the line is valid
            // UTF-8; otherwise the marker is honoured but not located, and never edited.
            let exact = std::str::from_utf8(line).is_ok();
            let offset = |i: usize| if exact { at + i } else { at };
            let codes: Vec<(String, HostSpan)> = codes
                .map(|m| {
                    word.find_iter(m.as_str())
                        .map(|c| {
                            (
                                c.as_str().to_ascii_uppercase(),
                                HostSpan::new(
                                    offset(m.start() + c.start()),
                                    offset(m.start() + c.end()),
                                ),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            let covers_line = if until.is_some() {
                Some(index + 1)
            } else if leading {
                None
            } else if comment_only {
                Some(index + 1)
            } else {
                Some(index)
            };
            out.markers.push(Marker {
                span: HostSpan::new(offset(whole.start()), offset(whole.end())),
                used: codes.iter().map(|_| Cell::new(false)).collect(),
                codes,
                covers_line,
                line: index,
                located: exact,
                until,
            });
        }
        out
    }

    /// The markers, in the order of the text.
    pub fn markers(&self) -> &[Marker] {
        &self.markers
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

    /// Whether `code`, found on 0-based lines `first..=last`, is suppressed. Every marker that
    /// covers it is marked used.
    pub fn covers(&self, code: &str, first: usize, last: usize) -> bool {
        let mut hit = false;
        for marker in &self.markers {
            hit |= marker.covers(code, first, last);
        }
        hit
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
    fn html_markers_cover_the_next_code_block() {
        let s = parse(
            "# Title\n\n<!-- imds-lint disable=IMDS001 -->\n\n```sh\ncurl a\n\ncurl b\n```\ncurl c\n> <!-- imds-lint disable -->\n",
        );
        assert!(s.covers("IMDS001", 5, 5));
        assert!(s.covers("IMDS001", 7, 7));
        assert!(!s.covers("IMDS001", 9, 9));
        assert!(!s.covers("IMDS004", 5, 5));
        // Quoted in prose, it is no marker.
        let prose =
            parse("Write `<!-- imds-lint disable=IMDS001 -->` before it.\n```sh\ncurl\n```\n");
        assert!(!prose.covers("IMDS001", 2, 2));
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

    #[test]
    fn markers_remember_which_codes_suppressed_something() {
        let s = parse("set -e\ncurl a # imds-lint disable=IMDS001, IMDS004\n# imds-lint disable\ncurl b # imds-lint: disable = all\n");
        assert!(s.covers("IMDS001", 1, 1));
        let [first, bare, all] = s.markers() else {
            panic!("{:?}", s.markers());
        };
        assert_eq!(first.codes.len(), 2);
        assert!(first.used(0) && !first.used(1));
        assert!(bare.is_bare());
        assert_eq!(bare.covers_line, Some(3));
        assert!(!all.used(0));
        assert!(s.covers("IMDS003", 3, 3));
        assert!(all.used(0) && all.names("IMDS002"));
    }

    #[test]
    fn a_marker_starts_a_comment() {
        let s = parse(
            "# A bare `# imds-lint disable` is reported
x=http://h/#imds-lint-disable=IMDS001
curl a;# imds-lint disable=IMDS001
\"curl b # imds-lint disable=IMDS002\\n\",\n\"# imds-lint disable=IMDS003\\n\"\n",
        );
        let codes: Vec<&str> = s
            .markers()
            .iter()
            .flat_map(|m| m.codes.iter().map(|(c, _)| c.as_str()))
            .collect();
        assert_eq!(codes, ["IMDS001", "IMDS002", "IMDS003"]);
        assert_eq!(s.markers().len(), 3);
    }

    /// The text after taking the codes at `remove` out of the first marker of `text`.
    fn removed(text: &str, remove: &[usize]) -> String {
        let s = parse(text);
        let edits = s.markers()[0].removal(text.as_bytes(), remove).unwrap();
        let mut out = text.to_owned();
        for edit in edits.iter().rev() {
            out.replace_range(edit.span.start.0..edit.span.end.0, &edit.content);
        }
        out
    }

    #[test]
    fn removal_keeps_the_rest_of_the_line_and_the_host_format() {
        // Some codes stay.
        assert_eq!(
            removed("curl a # imds-lint disable=IMDS001, IMDS02,IMDS004\n", &[1]),
            "curl a # imds-lint disable=IMDS001,IMDS004\n"
        );
        // A trailing marker goes with the blanks before it.
        assert_eq!(
            removed("curl a  # imds-lint disable=IMDS002\nnext\n", &[0]),
            "curl a\nnext\n"
        );
        assert_eq!(
            removed("curl a # imds-lint disable=IMDS002\r\nnext\r\n", &[0]),
            "curl a\r\nnext\r\n"
        );
        // A line of its own goes whole.
        assert_eq!(
            removed("set -e\n    # imds-lint disable=IMDS002\ncurl a\n", &[0]),
            "set -e\ncurl a\n"
        );
        assert_eq!(
            removed("set -e\n# imds-lint disable=IMDS002", &[0]),
            "set -e"
        );
        // Another comment after it takes its place.
        assert_eq!(
            removed(
                "curl a # imds-lint disable=IMDS002 # expect: IMDS001\n",
                &[0]
            ),
            "curl a # expect: IMDS001\n"
        );
        // Other text after it stays a comment (a reason; a Dockerfile continuation; a JSON
        // string's escaped line break).
        assert_eq!(
            removed("curl a # imds-lint disable=IMDS002 legacy host\n", &[0]),
            "curl a # legacy host\n"
        );
        assert_eq!(
            removed(
                "RUN curl a # imds-lint disable=IMDS002 \\\n  && true\n",
                &[0]
            ),
            "RUN curl a # \\\n  && true\n"
        );
        assert_eq!(
            removed("\"curl a # imds-lint disable=IMDS002\\n\",\n", &[0]),
            "\"curl a # \\n\",\n"
        );
    }
}
