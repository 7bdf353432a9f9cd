//! One tree-sitter parser per thread and grammar, reset before each parse, with a bound on the
//! work one parse may take, so that a pathological input is given up rather than hung on. The
//! bound is deterministic: the same bytes get the same answer on any machine and under any load
//! (see [`Budget`]). Every front end and the shell analysis parse through here.

use std::borrow::Cow;
use std::cell::RefCell;
use std::time::{Duration, Instant};

use tree_sitter::{Language, Node, Parser, Tree};

use crate::fragment::HostSpan;

/// How much work one parse may take, counted in the parser's own steps, never in time.
///
/// tree-sitter (0.25) calls the progress callback of a parse once every 100 parse operations
/// (shifts, reductions, error-recovery steps, steps of balancing the finished tree; its
/// `OP_COUNT_PER_PARSER_TIMEOUT_CHECK`), and which operations a parse makes depends only on the
/// grammar and the input. A parse may take [`Budget::BASE`] callbacks plus [`Budget::PER_KIB`]
/// per KiB of input; at the next one it is given up, with the same answer on every machine and
/// under any load.
///
/// Measured (the tests of this module hold the fixtures to a tenth of it): well-formed shell,
/// YAML, Dockerfiles and Terraform take 3 to 20 callbacks per KiB, random token soup 7 to 40,
/// JSON nested 100,000 levels deep about 92. The bound is five times the worst of those: it is
/// for inputs whose parse grows faster than their size, and is never reached by a file that
/// parses in linear time. An operation during error recovery costs more than one on clean input
/// (up to about 1 ms per callback in a debug build), so the time a parse may take still grows
/// with the input; files are capped in size (`--max-file-size`), and [`BACKSTOP`] is the last
/// resort.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Progress callbacks allowed (each one 100 parse operations).
    pub callbacks: u64,
}

impl Budget {
    /// Callbacks any input may take, however short (1,000,000 operations).
    pub const BASE: u64 = 10_000;
    /// Callbacks allowed per KiB of input on top of [`Budget::BASE`] (50,000 operations).
    pub const PER_KIB: u64 = 500;

    /// The budget of a parse of `len` bytes.
    pub fn for_len(len: usize) -> Self {
        let kib = u64::try_from(len.div_ceil(1024)).unwrap_or(u64::MAX);
        Budget {
            callbacks: Budget::BASE.saturating_add(kib.saturating_mul(Budget::PER_KIB)),
        }
    }
}

/// The last resort behind [`Budget`]: a parse still running after this long is given up too.
/// A parse within its budget takes seconds at most on an idle machine; only a machine stalled
/// far beyond normal load reaches this first, and the note then says that the result depends
/// on the machine.
pub const BACKSTOP: Duration = Duration::from_secs(120);

/// The most tokens one parse may hold, as [`tokens_beyond`] counts them: a tree-sitter tree
/// and the parse that builds it take up to about 750 bytes per token (measured at its peak on
/// deeply nested and on wide flat JSON, the densest inputs; source code and manifests take 400
/// to 600), so one parse stays under about 400 MB whatever the input, and a 16 MiB file
/// costs at most a small multiple of itself. Well-formed files count 0.15 to 0.3 tokens per
/// byte (2 to 3 MB of code or manifests fit); a file of one-byte tokens (`[[[[…`,
/// `[1,1,1,…`) past 512 KiB does not, and is declined before anything is allocated for it. A
/// stream of YAML documents is parsed run by run, each within this bound.
pub const MAX_TOKENS: usize = 1 << 19;

/// Whether `text` may hold more than `limit` tokens: an upper estimate, counting every
/// punctuation byte and every run of word bytes (letters, digits, `_-./`, anything past
/// ASCII) as one token, as if strings, comments and here-documents were code. Stops counting
/// past `limit`.
pub fn tokens_beyond(text: &[u8], limit: usize) -> bool {
    let mut tokens = 0usize;
    let mut in_word = false;
    for &byte in text {
        let word = byte.is_ascii_alphanumeric()
            || matches!(byte, b'_' | b'-' | b'.' | b'/')
            || byte >= 0x80;
        if byte.is_ascii_whitespace() {
            in_word = false;
            continue;
        }
        if !word || !in_word {
            tokens += 1;
            if tokens > limit {
                return true;
            }
        }
        in_word = word;
    }
    false
}

/// Why a parse gave no tree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("the {0:?} grammar could not be loaded")]
    Language(Grammar),
    #[error("it has more than {MAX_TOKENS} words and punctuation marks, more than one parse may hold in memory")]
    TooLarge,
    #[error("parsing it took more than {} steps of the parser ({} per KiB of input), the bound that keeps a pathological input from taking unbounded time", .0.callbacks.saturating_mul(100), Budget::PER_KIB * 100)]
    Budget(Budget),
    #[error("parsing it took longer than {0:?}, a bound kept only as a last resort on an overloaded machine (another run may read it)")]
    Backstop(Duration),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grammar {
    Bash,
    Containerfile,
    Yaml,
    Hcl,
    Make,
    Python,
    PowerShell,
}

impl Grammar {
    pub fn language(self) -> Language {
        match self {
            Grammar::Bash => tree_sitter_bash::LANGUAGE.into(),
            Grammar::Containerfile => tree_sitter_containerfile::LANGUAGE.into(),
            Grammar::Yaml => tree_sitter_yaml::LANGUAGE.into(),
            Grammar::Hcl => tree_sitter_hcl::LANGUAGE.into(),
            Grammar::Make => tree_sitter_make::LANGUAGE.into(),
            Grammar::Python => tree_sitter_python::LANGUAGE.into(),
            Grammar::PowerShell => tree_sitter_powershell::LANGUAGE.into(),
        }
    }

    fn slot(self) -> usize {
        self as usize
    }
}

thread_local! {
    static PARSERS: RefCell<[Option<Parser>; 7]> = const { RefCell::new([None, None, None, None, None, None, None]) };
}

/// Parses `text` with this thread's parser for `grammar`, within the [`Budget`] of its length.
pub fn parse(grammar: Grammar, text: &[u8]) -> Result<Tree, ParseError> {
    parse_range(grammar, text, None)
}

/// Parses only `range` of `text` (node offsets stay those of `text`; the budget is the
/// range's), or all of it.
pub fn parse_range(
    grammar: Grammar,
    text: &[u8],
    range: Option<tree_sitter::Range>,
) -> Result<Tree, ParseError> {
    parse_ranges(grammar, text, range.as_slice())
}

/// Parses only the byte `ranges` of `text` (in order, not overlapping), as one document: what is
/// between them is not there for the parser, and node offsets stay those of `text`.
pub fn parse_byte_ranges(
    grammar: Grammar,
    text: &[u8],
    ranges: &[std::ops::Range<usize>],
) -> Result<Tree, ParseError> {
    let mut row = 0;
    let mut line_start = 0;
    let mut counted = 0;
    let mut point = |at: usize| {
        for (i, &b) in text.get(counted..at).unwrap_or_default().iter().enumerate() {
            if b == b'\n' {
                row += 1;
                line_start = counted + i + 1;
            }
        }
        counted = counted.max(at);
        tree_sitter::Point::new(row, at.saturating_sub(line_start))
    };
    let ranges: Vec<tree_sitter::Range> = ranges
        .iter()
        .map(|r| tree_sitter::Range {
            start_byte: r.start,
            start_point: point(r.start),
            end_byte: r.end,
            end_point: point(r.end),
        })
        .collect();
    if ranges.is_empty() {
        // Nothing to parse: an empty document.
        return parse(grammar, b"");
    }
    parse_ranges(grammar, text, &ranges)
}

/// Parses the included `ranges` of `text` (all of it when there are none), within the budget of
/// their length.
fn parse_ranges(
    grammar: Grammar,
    text: &[u8],
    ranges: &[tree_sitter::Range],
) -> Result<Tree, ParseError> {
    let mut len = 0;
    for range in ranges {
        let part = text
            .get(range.start_byte..range.end_byte)
            .unwrap_or_default();
        // Before anything is allocated for it.
        if tokens_beyond(part, MAX_TOKENS) {
            return Err(ParseError::TooLarge);
        }
        len += part.len();
    }
    if ranges.is_empty() {
        if tokens_beyond(text, MAX_TOKENS) {
            return Err(ParseError::TooLarge);
        }
        len = text.len();
    }
    parse_within(grammar, text, ranges, Budget::for_len(len), BACKSTOP).0
}

/// How many progress callbacks a parse of all of `text` takes (the unit of [`Budget`]), when it
/// finishes within its budget: what the tests measure the budget against.
pub fn callbacks(grammar: Grammar, text: &[u8]) -> Result<u64, ParseError> {
    let (tree, callbacks) = parse_within(grammar, text, &[], Budget::for_len(text.len()), BACKSTOP);
    tree.map(|_| callbacks)
}

/// Parses within an explicit budget and backstop (its tests give small ones); also says how
/// many callbacks it took.
fn parse_within(
    grammar: Grammar,
    text: &[u8],
    ranges: &[tree_sitter::Range],
    budget: Budget,
    backstop: Duration,
) -> (Result<Tree, ParseError>, u64) {
    let mut callbacks = 0u64;
    let limits = (budget, backstop);
    let tree = parse_counting(grammar, text, ranges, limits, &mut callbacks);
    (tree, callbacks)
}

fn parse_counting(
    grammar: Grammar,
    text: &[u8],
    ranges: &[tree_sitter::Range],
    (budget, backstop): (Budget, Duration),
    callbacks: &mut u64,
) -> Result<Tree, ParseError> {
    PARSERS.with(|cell| {
        let mut parsers = cell.borrow_mut();
        let slot = parsers
            .get_mut(grammar.slot())
            .ok_or(ParseError::Language(grammar))?;
        if slot.is_none() {
            let mut parser = Parser::new();
            parser
                .set_language(&grammar.language())
                .map_err(|_| ParseError::Language(grammar))?;
            *slot = Some(parser);
        }
        let parser = slot.as_mut().ok_or(ParseError::Language(grammar))?;
        parser.reset();
        // An empty list parses the whole text.
        parser
            .set_included_ranges(ranges)
            .map_err(|_| ParseError::Language(grammar))?;
        let started = Instant::now();
        let mut stopped = None;
        let mut give_up = |_: &tree_sitter::ParseState| {
            *callbacks += 1;
            if *callbacks > budget.callbacks {
                stopped = Some(ParseError::Budget(budget));
            } else if started.elapsed() > backstop {
                stopped = Some(ParseError::Backstop(backstop));
            }
            stopped.is_some()
        };
        let options = tree_sitter::ParseOptions::new().progress_callback(&mut give_up);
        let guarded = match grammar {
            Grammar::Bash => bash_input(text),
            _ => Cow::Borrowed(text),
        };
        let text = &guarded[..];
        let len = text.len();
        let tree = parser.parse_with_options(
            &mut |i, _| text.get(i..len).unwrap_or_default(),
            None,
            Some(options),
        );
        // A parse given up leaves state behind for resuming it: drop it.
        parser.reset();
        tree.ok_or_else(|| stopped.unwrap_or(ParseError::Language(grammar)))
    })
}

/// The parts of a tree the parser could not read: each child of `root` (or of a child whose kind
/// is one of `containers`, such as HCL's `body`) with a syntax error in it or around it (an
/// `ERROR` node, or a token the parser assumed, `MISSING`), as host spans; the whole tree when
/// the root itself is an error. A front end reports these as `Parsed::unparsed`: what it reads
/// there may not be what is written, and no fix edits there.
pub fn unparsed(root: Node, containers: &[&str]) -> Vec<HostSpan> {
    let span = |node: Node| HostSpan::new(node.start_byte(), node.end_byte());
    if root.is_error() {
        return vec![span(root)];
    }
    if !root.has_error() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut cursor = root.walk();
    for child in root.children(&mut cursor) {
        if containers.contains(&child.kind()) && !child.is_error() {
            let mut inner = child.walk();
            out.extend(
                child
                    .children(&mut inner)
                    .filter(|unit| unit.has_error() || unit.is_missing())
                    .map(span),
            );
        } else if child.has_error() || child.is_missing() {
            out.push(span(child));
        }
    }
    out
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

    /// The grammar a fixture is read with, by its name.
    fn grammar_of(name: &str) -> Option<Grammar> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".tf") {
            Some(Grammar::Hcl)
        } else if [".yaml", ".yml", ".json"]
            .iter()
            .any(|e| lower.ends_with(e))
        {
            Some(Grammar::Yaml)
        } else if lower.contains("dockerfile") || lower.contains("containerfile") {
            Some(Grammar::Containerfile)
        } else if lower.ends_with(".sh") {
            Some(Grammar::Bash)
        } else {
            None
        }
    }

    #[test]
    fn tokens_are_counted_from_above() {
        let count = |text: &str| (0..).find(|&n| !tokens_beyond(text.as_bytes(), n)).unwrap();
        assert_eq!(count(""), 0);
        assert_eq!(count("  \n\t"), 0);
        assert_eq!(count("curl -s http://169.254.169.254/latest"), 5);
        assert_eq!(count("a=\"$(b)\""), 8);
        assert_eq!(count("[[[]]]"), 6);
        assert_eq!(count("caf\u{e9} na\u{ef}ve"), 2);
        // It stops counting past the limit.
        assert!(tokens_beyond("[".repeat(10).as_bytes(), 9));
        assert!(!tokens_beyond("[".repeat(10).as_bytes(), 10));
    }

    #[test]
    fn too_many_tokens_are_declined_before_parsing() {
        let dense = "[".repeat(MAX_TOKENS + 1);
        for grammar in [
            Grammar::Yaml,
            Grammar::Hcl,
            Grammar::Bash,
            Grammar::Containerfile,
            Grammar::Python,
            Grammar::PowerShell,
        ] {
            assert_eq!(
                parse(grammar, dense.as_bytes()).err(),
                Some(ParseError::TooLarge)
            );
        }
        assert!(parse(Grammar::Yaml, &dense.as_bytes()[1..]).is_ok());
        // A range is counted alone.
        let text = format!("a: 1\n{dense}");
        let range = tree_sitter::Range {
            start_byte: 0,
            end_byte: 5,
            start_point: tree_sitter::Point { row: 0, column: 0 },
            end_point: tree_sitter::Point { row: 1, column: 0 },
        };
        assert!(parse_range(Grammar::Yaml, text.as_bytes(), Some(range)).is_ok());
        assert_eq!(
            ParseError::TooLarge.to_string(),
            "it has more than 524288 words and punctuation marks, more than one parse may hold in memory"
        );
    }

    #[test]
    fn fixtures_take_a_tenth_of_their_budget_at_most() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut stack = vec![root];
        let mut read = 0;
        while let Some(path) = stack.pop() {
            if path.is_dir() {
                for entry in std::fs::read_dir(&path).unwrap() {
                    stack.push(entry.unwrap().path());
                }
                continue;
            }
            let name = path.to_string_lossy().into_owned();
            let Some(grammar) = grammar_of(&name) else {
                continue;
            };
            let bytes = std::fs::read(&path).unwrap();
            let kib = u64::try_from(bytes.len().div_ceil(1024)).unwrap();
            let took = callbacks(grammar, &bytes).unwrap();
            assert!(
                took <= 100 + kib * Budget::PER_KIB / 10,
                "{name}: {took} callbacks for {kib} KiB"
            );
            read += 1;
        }
        assert!(read > 300, "{read} fixtures");
    }

    #[test]
    fn deep_and_broken_inputs_stay_within_their_budget() {
        let inputs: Vec<(Grammar, String)> = vec![
            // About 92 callbacks per KiB: the most measured.
            (
                Grammar::Yaml,
                format!("{}{}", "[".repeat(20_000), "]".repeat(20_000)),
            ),
            (
                Grammar::Yaml,
                format!("{}1{}", "{\"a\":".repeat(5_000), "}".repeat(5_000)),
            ),
            (
                Grammar::Hcl,
                format!("x = {}{}", "[".repeat(5_000), "]".repeat(5_000)),
            ),
            (
                Grammar::Bash,
                format!("{}{}", "$(".repeat(5_000), ")".repeat(5_000)),
            ),
            (Grammar::Bash, "\"$(echo \"".repeat(2_000)),
            (
                Grammar::Hcl,
                "resource \"a\" {[(=\"${%{<<EOF\n".repeat(2_000),
            ),
        ];
        for (grammar, text) in inputs {
            let kib = u64::try_from(text.len().div_ceil(1024)).unwrap();
            let took = callbacks(grammar, text.as_bytes()).unwrap();
            assert!(
                took <= kib * Budget::PER_KIB / 4,
                "{grammar:?} {:?}…: {took} callbacks for {kib} KiB",
                text.get(..20)
            );
        }
    }

    #[test]
    fn the_budget_gives_the_same_answer_every_time() {
        let text = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let first = callbacks(Grammar::Yaml, text.as_bytes()).unwrap();
        assert!(first > 100, "{first}");
        for _ in 0..3 {
            assert_eq!(callbacks(Grammar::Yaml, text.as_bytes()), Ok(first));
        }
        // It is given up at exactly the callback past its budget, and the parser is usable
        // again afterwards.
        let within = |n: u64| {
            let budget = Budget { callbacks: n };
            parse_within(Grammar::Yaml, text.as_bytes(), &[], budget, BACKSTOP)
        };
        let (tree, took) = within(first);
        assert!(tree.is_ok());
        assert_eq!(took, first);
        for _ in 0..2 {
            let (tree, took) = within(first - 1);
            let budget = Budget {
                callbacks: first - 1,
            };
            assert_eq!(tree.err(), Some(ParseError::Budget(budget)));
            assert_eq!(took, first);
        }
        assert_eq!(callbacks(Grammar::Yaml, text.as_bytes()), Ok(first));
        assert!(ParseError::Budget(Budget::for_len(text.len()))
            .to_string()
            .starts_with(
                "parsing it took more than 2000000 steps of the parser (50000 per KiB of input)"
            ));
    }

    #[test]
    fn the_backstop_is_the_last_resort_and_says_so() {
        let text = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let budget = Budget::for_len(text.len());
        let (tree, _) = parse_within(Grammar::Yaml, text.as_bytes(), &[], budget, Duration::ZERO);
        let error = tree.err().unwrap();
        assert_eq!(error, ParseError::Backstop(Duration::ZERO));
        assert!(error
            .to_string()
            .contains("a bound kept only as a last resort on an overloaded machine"));
        assert!(callbacks(Grammar::Yaml, text.as_bytes()).is_ok());
    }

    #[test]
    fn bash_is_not_given_non_ascii_where_its_scanner_calls_isdigit() {
        let text = "{\u{7C8EE}169 x{1..\u{10FFFF}} 2\u{e9} \u{e9}{ ok".as_bytes();
        let input = bash_input(text);
        assert_eq!(input.len(), text.len());
        assert_eq!(
            String::from_utf8_lossy(&input),
            "{____169 x{1..____} 2__ \u{e9}{ ok"
        );
        assert!(matches!(bash_input(b"echo {1..9}"), Cow::Borrowed(_)));
        // What once crashed the process (depending on memory layout): parsed, and parsed again.
        for _ in 0..2 {
            assert!(parse(Grammar::Bash, "{\u{7C8EE}169.254.169.254".as_bytes()).is_ok());
        }
    }

    #[test]
    fn every_grammar_has_a_parser_slot() {
        for grammar in [
            Grammar::Bash,
            Grammar::Containerfile,
            Grammar::Yaml,
            Grammar::Hcl,
            Grammar::Make,
            Grammar::Python,
            Grammar::PowerShell,
        ] {
            assert!(parse(grammar, b"x\n").is_ok(), "{grammar:?}");
        }
    }
}
