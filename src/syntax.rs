//! One tree-sitter parser per thread and grammar, reset before each parse, with a deadline so a
//! pathological input is given up rather than hung on. Every front end and the shell analysis
//! parse through here.

use std::borrow::Cow;
use std::cell::RefCell;
use std::time::{Duration, Instant};

use tree_sitter::{Language, Parser, Tree};

/// How long one parse may take before it is given up.
pub const DEADLINE: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grammar {
    Bash,
    Containerfile,
    Yaml,
    Hcl,
}

impl Grammar {
    pub fn language(self) -> Language {
        match self {
            Grammar::Bash => tree_sitter_bash::LANGUAGE.into(),
            Grammar::Containerfile => tree_sitter_containerfile::LANGUAGE.into(),
            Grammar::Yaml => tree_sitter_yaml::LANGUAGE.into(),
            Grammar::Hcl => tree_sitter_hcl::LANGUAGE.into(),
        }
    }

    fn slot(self) -> usize {
        self as usize
    }
}

thread_local! {
    static PARSERS: RefCell<[Option<Parser>; 4]> = const { RefCell::new([None, None, None, None]) };
}

/// Parses `text` with this thread's parser for `grammar`; `None` when the grammar cannot be
/// loaded or the parse runs past [`DEADLINE`].
pub fn parse(grammar: Grammar, text: &[u8]) -> Option<Tree> {
    parse_range(grammar, text, None)
}

/// Parses only `range` of `text` (node offsets stay those of `text`), or all of it.
pub fn parse_range(
    grammar: Grammar,
    text: &[u8],
    range: Option<tree_sitter::Range>,
) -> Option<Tree> {
    PARSERS.with(|cell| {
        let mut parsers = cell.borrow_mut();
        let slot = parsers.get_mut(grammar.slot())?;
        if slot.is_none() {
            let mut parser = Parser::new();
            parser.set_language(&grammar.language()).ok()?;
            *slot = Some(parser);
        }
        let parser = slot.as_mut()?;
        parser.reset();
        // An empty list parses the whole text.
        parser.set_included_ranges(range.as_slice()).ok()?;
        let started = Instant::now();
        let mut past_deadline = |_: &tree_sitter::ParseState| started.elapsed() > DEADLINE;
        let options = tree_sitter::ParseOptions::new().progress_callback(&mut past_deadline);
        let guarded = match grammar {
            Grammar::Bash => bash_input(text),
            _ => Cow::Borrowed(text),
        };
        let text = &guarded[..];
        let len = text.len();
        parser.parse_with_options(
            &mut |i, _| text.get(i..len).unwrap_or_default(),
            None,
            Some(options),
        )
    })
}

/// The text tree-sitter-bash is given for `text`. Its scanner reads the character after a `{`,
/// and after the digits and the `..` of a range (`{1..9}`), with C's `isdigit`, which is defined
/// only up to 255: a character past ASCII there is read as an index far outside the C library's
/// table, which crashes the whole process when that memory is not mapped. Each such character
/// (the run of non-ASCII bytes after a `{`, a `.` or a digit) is given as as many `_`: the same
/// length, so every offset of the tree holds, and still word characters for bash. Node text is
/// always read from the real text.
fn bash_input(text: &[u8]) -> Cow<'_, [u8]> {
    if text.is_ascii() {
        return Cow::Borrowed(text);
    }
    let risky = |b: u8| b == b'{' || b == b'.' || b.is_ascii_digit();
    let mut out: Option<Vec<u8>> = None;
    let mut i = 1;
    while i < text.len() {
        let starts_run = text.get(i).is_some_and(|&b| !b.is_ascii())
            && text.get(i - 1).is_some_and(|&b| risky(b));
        if !starts_run {
            i += 1;
            continue;
        }
        let copy = out.get_or_insert_with(|| text.to_vec());
        while let Some(byte) = copy.get_mut(i).filter(|b| !b.is_ascii()) {
            *byte = b'_';
            i += 1;
        }
    }
    out.map_or(Cow::Borrowed(text), Cow::Owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bash_is_not_given_non_ascii_where_its_scanner_calls_isdigit() {
        let text = "{\u{7C8EE}169 x{1..\u{10FFFF}} 2é é{ ok".as_bytes();
        let input = bash_input(text);
        assert_eq!(input.len(), text.len());
        assert_eq!(
            String::from_utf8_lossy(&input),
            "{____169 x{1..____} 2__ é{ ok"
        );
        assert!(matches!(bash_input(b"echo {1..9}"), Cow::Borrowed(_)));
        // What once crashed the process (depending on memory layout): parsed, and parsed again.
        for _ in 0..2 {
            assert!(parse(Grammar::Bash, "{\u{7C8EE}169.254.169.254".as_bytes()).is_some());
        }
    }
}
