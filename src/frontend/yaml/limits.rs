//! Limits of tree-sitter-yaml that the YAML front ends check before parsing: how deep YAML may
//! nest (by indentation and by flow collections) and how many lines a parse may hold.

use super::MAX_LINES;

/// How many indentation levels tree-sitter-yaml's scanner can hold: it keeps 4 bytes per open
/// level in tree-sitter's 1,024-byte state buffer and, past about 250, overflows it and aborts
/// the whole process (an assertion in C). A margin below that.
const MAX_LEVELS: usize = 200;

/// Why YAML must not be given to tree-sitter-yaml 0.7, if it must not: it may nest more than
/// [`MAX_LEVELS`] levels (an upper bound from indentation, with every `- `, `? ` or `: ` that
/// opens a node on the same line counted as a level), or run past [`MAX_LINES`] lines.
pub fn beyond_grammar(bytes: &[u8]) -> Option<String> {
    let lines = bytes.iter().filter(|&&b| b == b'\n').count() + 1;
    nesting_beyond(bytes).or_else(|| {
        (lines > MAX_LINES).then(|| {
            format!("it has more than {MAX_LINES} lines, past what the parser counts; it was not analysed")
        })
    })
}

/// How deep flow collections (`[…]`, `{…}`, and so all of JSON) may nest. The scanner keeps no
/// state for them, but each level is nodes of the tree, and no manifest or template nests more
/// than a few dozen: a deeper file is made to exhaust the parser, and is declined before it is
/// parsed.
const MAX_FLOW_LEVELS: usize = 1_000;

/// Why the YAML may nest deeper than the parser holds ([`MAX_LEVELS`] indentation levels,
/// [`MAX_FLOW_LEVELS`] flow levels), if it may.
pub(super) fn nesting_beyond(bytes: &[u8]) -> Option<String> {
    if flow_levels_beyond(bytes, MAX_FLOW_LEVELS) {
        return Some(format!(
            "it nests more than {MAX_FLOW_LEVELS} brackets deep (`[` or `{{`), past what is read; it was not analysed"
        ));
    }
    indent_levels_beyond(bytes)
}

/// Whether flow collections in `bytes` nest more than `limit` deep: an upper bound that reads
/// quoted scalars and comments as YAML does, and a bracket as opening a collection where a node
/// may start (after `: `, `- `, `? `, `,`, another bracket, a tag or an anchor, or alone),
/// not inside a plain scalar (`a[0]`).
pub(super) fn flow_levels_beyond(bytes: &[u8], limit: usize) -> bool {
    let mut depth = 0usize;
    // The last byte that is not a blank (a line break at the top level), whether a blank
    // followed it, and whether a tag or anchor is being read or was the last word.
    let mut previous = b'\n';
    let mut after_blank = true;
    let mut in_property = false;
    let mut after_property = false;
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        at += 1;
        if matches!(byte, b' ' | b'\t' | b'\r' | b'\n') {
            after_blank = true;
            if in_property {
                after_property = true;
                in_property = false;
            }
            if byte == b'\n' && depth == 0 {
                previous = b'\n';
                after_property = false;
            }
            continue;
        }
        let node_start = (after_blank
            && (after_property || matches!(previous, b'\n' | b':' | b'-' | b'?')))
            || matches!(previous, b'[' | b'{' | b',');
        let word_start = after_blank;
        after_blank = false;
        after_property = false;
        match byte {
            b'#' if word_start => {
                // A comment, to the end of the line.
                at = memchr::memchr(b'\n', bytes.get(at..).unwrap_or_default())
                    .map_or(bytes.len(), |i| at + i);
                continue;
            }
            b'"' | b'\'' if node_start || (depth > 0 && previous == b':') => {
                at = quoted_end(bytes, at, byte);
                previous = byte;
                continue;
            }
            b'[' | b'{' if node_start || depth > 0 => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b']' | b'}' if depth > 0 => depth -= 1,
            b'!' | b'&' if word_start => in_property = true,
            _ => {}
        }
        previous = byte;
    }
    false
}

/// Where a quoted scalar opened by `quote` before `at` ends: after its closing quote (a
/// backslash escapes in `"…"`, a doubled quote in `'…'`), or at the end of the text.
fn quoted_end(bytes: &[u8], mut at: usize, quote: u8) -> usize {
    while let Some(&byte) = bytes.get(at) {
        at += 1;
        if quote == b'"' && byte == b'\\' {
            at += 1;
        } else if byte == quote {
            if quote == b'\'' && bytes.get(at) == Some(&b'\'') {
                at += 1;
            } else {
                return at;
            }
        }
    }
    bytes.len()
}

/// Why the YAML may nest deeper in indentation than the parser holds ([`MAX_LEVELS`]).
fn indent_levels_beyond(bytes: &[u8]) -> Option<String> {
    let mut levels: Vec<usize> = Vec::new();
    for line in bytes.split(|&b| b == b'\n') {
        let indent = line.iter().take_while(|&&b| b == b' ').count();
        let rest = line.get(indent..).unwrap_or_default();
        if rest.iter().all(u8::is_ascii_whitespace) || rest.first() == Some(&b'#') {
            continue;
        }
        while levels.last().is_some_and(|&top| top > indent) {
            levels.pop();
        }
        if levels.last() != Some(&indent) {
            levels.push(indent);
        }
        // Compact nodes on one line (`- - - a`, `? - b`): each opens a level at its column.
        let mut column = indent;
        let mut rest = rest;
        while let (Some(b'-' | b'?' | b':'), Some(b' ')) = (rest.first(), rest.get(1)) {
            let width = 1 + rest.iter().skip(1).take_while(|&&b| b == b' ').count();
            column += width;
            rest = rest.get(width..).unwrap_or_default();
            if rest.is_empty() {
                break;
            }
            levels.push(column);
        }
        if levels.len() > MAX_LEVELS {
            return Some(format!(
                "it nests more than {MAX_LEVELS} levels deep, past what the parser can hold; it was not analysed"
            ));
        }
    }
    None
}
