//! Shell words as the analysis sees them: a list of pieces (literal text, variable references,
//! command substitutions, unknowns) read off tree-sitter-bash nodes, and the unquoting that turns a
//! quoted argument into the text a child shell would run, with an offset map.

use tree_sitter::Node;

use crate::fragment::FragmentSpan;

/// One part of a word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Literal(String),
    /// `$NAME`, `${NAME}`, or `${NAME:-default}` (with `default`).
    Variable {
        name: String,
        default: Option<Vec<Piece>>,
    },
    /// `$(…)` or a backtick substitution, by its span in the fragment.
    Command(FragmentSpan),
    /// Anything whose value cannot be known statically (`$1`, `$((…))`, `${#x}`, arrays).
    Unknown,
}

/// A shell word: its span in the fragment and its pieces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub span: FragmentSpan,
    pub pieces: Vec<Piece>,
}

impl Word {
    /// The text of the word when it is entirely literal.
    pub fn literal(&self) -> Option<String> {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Literal(s) => out.push_str(s),
                _ => return None,
            }
        }
        Some(out)
    }

    /// The literal text up to the first non-literal piece.
    pub fn literal_prefix(&self) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Literal(s) => out.push_str(s),
                _ => break,
            }
        }
        out
    }
}

pub fn node_text<'a>(node: Node, src: &'a [u8]) -> &'a [u8] {
    src.get(node.byte_range()).unwrap_or_default()
}

pub fn node_str(node: Node, src: &[u8]) -> String {
    String::from_utf8_lossy(node_text(node, src)).into_owned()
}

pub fn span_of(node: Node) -> FragmentSpan {
    FragmentSpan::new(node.start_byte(), node.end_byte())
}

/// Reads a word-like node (an argument, a command name, an assignment value).
pub fn word(node: Node, src: &[u8]) -> Word {
    let mut pieces = Vec::new();
    push_pieces(node, src, &mut pieces);
    Word {
        span: span_of(node),
        pieces: merge_literals(pieces),
    }
}

/// Reads a command's argument. An argument that is all one `${NAME:+"…"}` (or `${NAME+"…"}`) is
/// read as its quoted alternative, which is the one word it stands for whenever it is there:
/// `${TOKEN:+"--header=X-aws-ec2-metadata-token: $TOKEN"}` sends the token header only when
/// there is a token (what `--fix` writes for wget, which would send an empty one). An unquoted
/// alternative may split into several words, so it stays unreadable.
pub fn argument(node: Node, src: &[u8]) -> Word {
    match alternative(node) {
        Some(inner) => word(inner, src),
        None => word(node, src),
    }
}

/// The quoted alternative of an expansion `${NAME:+"…"}` / `${NAME+'…'}`.
fn alternative(node: Node) -> Option<Node> {
    if node.kind() != "expansion" {
        return None;
    }
    let mut cursor = node.walk();
    let children: Vec<Node> = node.children(&mut cursor).collect();
    match children.as_slice() {
        [open, name, operator, inner, close]
            if open.kind() == "${"
                && name.kind() == "variable_name"
                && matches!(operator.kind(), ":+" | "+")
                && matches!(inner.kind(), "string" | "raw_string")
                && close.kind() == "}" =>
        {
            Some(*inner)
        }
        _ => None,
    }
}

fn merge_literals(pieces: Vec<Piece>) -> Vec<Piece> {
    let mut out: Vec<Piece> = Vec::with_capacity(pieces.len());
    for piece in pieces {
        match (out.last_mut(), piece) {
            (Some(Piece::Literal(prev)), Piece::Literal(next)) => prev.push_str(&next),
            (_, piece) => out.push(piece),
        }
    }
    out
}

fn push_pieces(node: Node, src: &[u8], out: &mut Vec<Piece>) {
    match node.kind() {
        "command_name" => {
            let mut cursor = node.walk();
            let children: Vec<Node> = node.named_children(&mut cursor).collect();
            if children.is_empty() {
                out.push(Piece::Literal(unescape_unquoted(node_text(node, src))));
            }
            for child in children {
                push_pieces(child, src, out);
            }
        }
        "word" | "number" => out.push(Piece::Literal(unescape_unquoted(node_text(node, src)))),
        "raw_string" => {
            let text = node_text(node, src);
            let inner = text
                .get(1..text.len().saturating_sub(1).max(1))
                .unwrap_or_default();
            out.push(Piece::Literal(String::from_utf8_lossy(inner).into_owned()));
        }
        "ansi_c_string" => {
            let text = node_text(node, src);
            let inner = text
                .get(2..text.len().saturating_sub(1).max(2))
                .unwrap_or_default();
            let (decoded, _) = decode_ansi_c(inner, 0);
            out.push(Piece::Literal(
                String::from_utf8_lossy(&decoded).into_owned(),
            ));
        }
        "string" | "translated_string" => push_string_pieces(node, src, out),
        "concatenation" => push_gapped(node, src, out, unescape_unquoted),
        "simple_expansion" => {
            let mut cursor = node.walk();
            let name = node
                .named_children(&mut cursor)
                .find(|c| c.kind() == "variable_name");
            match name {
                Some(name) => out.push(Piece::Variable {
                    name: node_str(name, src),
                    default: None,
                }),
                None => out.push(Piece::Unknown),
            }
        }
        "expansion" => out.push(expansion(node, src)),
        "command_substitution" | "process_substitution" => out.push(Piece::Command(span_of(node))),
        _ => out.push(Piece::Unknown),
    }
}

/// Reads the children of a node whose literal parts may lie between its named children.
fn push_gapped(node: Node, src: &[u8], out: &mut Vec<Piece>, literal: fn(&[u8]) -> String) {
    let mut at = node.start_byte();
    let mut cursor = node.walk();
    for child in node.named_children(&mut cursor) {
        if child.start_byte() > at {
            out.push(Piece::Literal(literal(
                src.get(at..child.start_byte()).unwrap_or_default(),
            )));
        }
        push_pieces(child, src, out);
        at = child.end_byte();
    }
    if node.end_byte() > at {
        out.push(Piece::Literal(literal(
            src.get(at..node.end_byte()).unwrap_or_default(),
        )));
    }
}

fn push_string_pieces(node: Node, src: &[u8], out: &mut Vec<Piece>) {
    let text = node_text(node, src);
    let open = if text.starts_with(b"$\"") { 2 } else { 1 };
    let start = node.start_byte() + open.min(text.len());
    let end = node.end_byte().saturating_sub(1).max(start);
    let mut at = start;
    let mut cursor = node.walk();
    for child in node.named_children(&mut cursor) {
        if child.start_byte() > at {
            out.push(Piece::Literal(unescape_double_quoted(
                src.get(at..child.start_byte()).unwrap_or_default(),
            )));
        }
        match child.kind() {
            "string_content" => out.push(Piece::Literal(unescape_double_quoted(node_text(
                child, src,
            )))),
            _ => push_pieces(child, src, out),
        }
        at = child.end_byte().max(at);
    }
    if end > at {
        out.push(Piece::Literal(unescape_double_quoted(
            src.get(at..end).unwrap_or_default(),
        )));
    }
}

/// `${…}`: a plain reference, a default (`:-`, `-`, `:=`, `=`), a trimmed value (`%`, `#`, which
/// keep the host of a URL), or something that cannot be followed.
fn expansion(node: Node, src: &[u8]) -> Piece {
    let mut cursor = node.walk();
    let children: Vec<Node> = node.children(&mut cursor).collect();
    let mut name = None;
    let mut operator: Option<String> = None;
    let mut rest: Vec<Node> = Vec::new();
    for child in &children {
        match child.kind() {
            "${" | "}" => {}
            "variable_name" if name.is_none() && operator.is_none() => {
                name = Some(node_str(*child, src))
            }
            "#" | "!" if name.is_none() => return Piece::Unknown,
            "subscript" | "special_variable_name" => return Piece::Unknown,
            kind if operator.is_none() && name.is_some() && !child.is_named() => {
                operator = Some(kind.to_owned())
            }
            _ if operator.is_some() => rest.push(*child),
            _ => return Piece::Unknown,
        }
    }
    let Some(name) = name else {
        return Piece::Unknown;
    };
    match operator.as_deref() {
        None | Some("%") | Some("%%") | Some("#") | Some("##") | Some(":?") | Some("?") => {
            Piece::Variable {
                name,
                default: None,
            }
        }
        Some(":-") | Some("-") | Some(":=") | Some("=") => {
            let mut default = Vec::new();
            for part in rest {
                push_pieces(part, src, &mut default);
            }
            Piece::Variable {
                name,
                default: Some(merge_literals(default)),
            }
        }
        _ => Piece::Unknown,
    }
}

pub fn unescape_unquoted(text: &[u8]) -> String {
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.iter().copied().peekable();
    while let Some(b) = bytes.next() {
        if b == b'\\' {
            match bytes.next() {
                Some(b'\n') | None => {}
                Some(next) => out.push(next),
            }
        } else {
            out.push(b);
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn unescape_double_quoted(text: &[u8]) -> String {
    let (decoded, _) = unquote_double(text, 0);
    String::from_utf8_lossy(&decoded).into_owned()
}

/// Text a child shell would receive, with anchors `(fragment offset, parent offset)` for
/// [`crate::fragment::OffsetMap::from_anchors`].
#[derive(Debug, Default)]
pub struct Unquoted {
    pub text: Vec<u8>,
    pub anchors: Vec<(usize, usize)>,
    /// Whether part of it was single-quoted (so the calling shell expanded nothing there).
    pub single_quoted: bool,
}

impl Unquoted {
    fn push_verbatim(&mut self, bytes: &[u8], parent_start: usize) {
        self.anchors.push((self.text.len(), parent_start));
        self.text.extend_from_slice(bytes);
    }

    fn push_decoded(&mut self, (bytes, anchors): (Vec<u8>, Vec<(usize, usize)>)) {
        let base = self.text.len();
        self.anchors
            .extend(anchors.into_iter().map(|(f, p)| (base + f, p)));
        self.text.extend_from_slice(&bytes);
    }

    /// Appends a separator that maps to the parent offset `at`.
    pub fn push_separator(&mut self, byte: u8, at: usize) {
        self.anchors.push((self.text.len(), at));
        self.text.push(byte);
    }

    pub fn append(&mut self, other: Unquoted) {
        self.single_quoted |= other.single_quoted;
        self.push_decoded((other.text, other.anchors));
    }
}

/// Removes one level of shell quoting from a word node, keeping expansions as text.
pub fn unquote(node: Node, src: &[u8]) -> Unquoted {
    let mut out = Unquoted::default();
    let start = node.start_byte();
    let text = node_text(node, src);
    match node.kind() {
        "raw_string" => {
            let inner = text
                .get(1..text.len().saturating_sub(1).max(1))
                .unwrap_or_default();
            out.push_verbatim(inner, start + 1);
            out.single_quoted = true;
        }
        "ansi_c_string" => {
            let inner = text
                .get(2..text.len().saturating_sub(1).max(2))
                .unwrap_or_default();
            out.push_decoded(decode_ansi_c(inner, start + 2));
            out.single_quoted = true;
        }
        "string" | "translated_string" => {
            let open = if text.starts_with(b"$\"") { 2 } else { 1 };
            let inner = text
                .get(open..text.len().saturating_sub(1).max(open))
                .unwrap_or_default();
            out.push_decoded(unquote_double(inner, start + open));
        }
        "word" | "number" => out.push_decoded(unquote_unquoted(text, start)),
        "concatenation" => {
            let mut at = start;
            let mut cursor = node.walk();
            for child in node.named_children(&mut cursor) {
                if child.start_byte() > at {
                    let gap = src.get(at..child.start_byte()).unwrap_or_default();
                    out.push_decoded(unquote_unquoted(gap, at));
                }
                out.append(unquote(child, src));
                at = child.end_byte();
            }
            if node.end_byte() > at {
                let gap = src.get(at..node.end_byte()).unwrap_or_default();
                out.push_decoded(unquote_unquoted(gap, at));
            }
        }
        _ => out.push_verbatim(text, start),
    }
    out
}

/// Unquoted text: a backslash quotes the next byte; backslash-newline disappears.
fn unquote_unquoted(text: &[u8], base: usize) -> (Vec<u8>, Vec<(usize, usize)>) {
    decode_escapes(text, base, |_| true)
}

/// Double-quoted text: a backslash quotes only `$`, `` ` ``, `"`, `\` and newline.
fn unquote_double(text: &[u8], base: usize) -> (Vec<u8>, Vec<(usize, usize)>) {
    decode_escapes(text, base, |b| {
        matches!(b, b'$' | b'`' | b'"' | b'\\' | b'\n')
    })
}

/// An unquoted here-document body: a backslash quotes only `$`, `` ` ``, `\` and newline.
pub fn unquote_heredoc(text: &[u8], base: usize) -> (Vec<u8>, Vec<(usize, usize)>) {
    decode_escapes(text, base, |b| matches!(b, b'$' | b'`' | b'\\' | b'\n'))
}

fn decode_escapes(
    text: &[u8],
    base: usize,
    quotes: impl Fn(u8) -> bool,
) -> (Vec<u8>, Vec<(usize, usize)>) {
    let mut out = Vec::with_capacity(text.len());
    let mut anchors = vec![(0, base)];
    let mut i = 0;
    while let Some(&b) = text.get(i) {
        match (b, text.get(i + 1).copied()) {
            (b'\\', Some(next)) if quotes(next) => {
                if next != b'\n' {
                    anchors.push((out.len(), base + i));
                    out.push(next);
                }
                i += 2;
                anchors.push((out.len(), base + i));
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    (out, anchors)
}

/// `$'…'` escapes: `\n \t \r \\ \' \" \e \a \b \f \v`, `\xHH`, octal `\NNN`.
fn decode_ansi_c(text: &[u8], base: usize) -> (Vec<u8>, Vec<(usize, usize)>) {
    let mut out = Vec::with_capacity(text.len());
    let mut anchors = vec![(0, base)];
    let mut i = 0;
    while let Some(&b) = text.get(i) {
        if b != b'\\' {
            out.push(b);
            i += 1;
            continue;
        }
        anchors.push((out.len(), base + i));
        let next = text.get(i + 1).copied();
        let (byte, used) = match next {
            Some(b'n') => (Some(b'\n'), 2),
            Some(b't') => (Some(b'\t'), 2),
            Some(b'r') => (Some(b'\r'), 2),
            Some(b'a') => (Some(7), 2),
            Some(b'b') => (Some(8), 2),
            Some(b'e') | Some(b'E') => (Some(27), 2),
            Some(b'f') => (Some(12), 2),
            Some(b'v') => (Some(11), 2),
            Some(b'x') => {
                let digits: Vec<u8> = text
                    .iter()
                    .skip(i + 2)
                    .take(2)
                    .copied()
                    .take_while(u8::is_ascii_hexdigit)
                    .collect();
                let value = std::str::from_utf8(&digits)
                    .ok()
                    .and_then(|d| u8::from_str_radix(d, 16).ok());
                match value {
                    Some(v) => (Some(v), 2 + digits.len()),
                    None => (Some(b'x'), 2),
                }
            }
            Some(d @ b'0'..=b'7') => {
                let digits: Vec<u8> = std::iter::once(d)
                    .chain(
                        text.iter()
                            .skip(i + 2)
                            .take(2)
                            .copied()
                            .take_while(|c| (b'0'..=b'7').contains(c)),
                    )
                    .collect();
                let value = std::str::from_utf8(&digits)
                    .ok()
                    .and_then(|d| u32::from_str_radix(d, 8).ok())
                    .map(|v| (v & 0xff) as u8);
                (value, 1 + digits.len())
            }
            Some(other) => (Some(other), 2),
            None => (Some(b'\\'), 1),
        };
        if let Some(byte) = byte {
            out.push(byte);
        }
        i += used;
        anchors.push((out.len(), base + i));
    }
    (out, anchors)
}

/// The words of a command line split at spaces, each all literal: what the unit tests of the
/// readers of argv (`command`, `client`) give them.
#[cfg(test)]
pub(crate) fn literal_words(line: &str) -> Vec<Word> {
    line.split(' ')
        .map(|w| Word {
            span: FragmentSpan::default(),
            pieces: vec![Piece::Literal(w.to_owned())],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_argument(script: &str) -> Word {
        let tree = crate::shell::parse::parse(script.as_bytes()).expect("parse");
        let command = tree.root_node().named_child(0).expect("a command");
        let arg = command
            .child_by_field_name("argument")
            .expect("an argument");
        argument(arg, script.as_bytes())
    }

    #[test]
    fn a_quoted_alternative_is_the_word_it_stands_for() {
        let word = first_argument(r#"wget ${T:+"--header=X-aws-ec2-metadata-token: $T"} -q u"#);
        assert_eq!(
            word.pieces,
            [
                Piece::Literal("--header=X-aws-ec2-metadata-token: ".to_owned()),
                Piece::Variable {
                    name: "T".to_owned(),
                    default: None
                }
            ]
        );
        assert_eq!(word.span, FragmentSpan::new(10, 49));
        let word = first_argument("curl ${T+'-sS'} u");
        assert_eq!(word.pieces, [Piece::Literal("-sS".to_owned())]);
    }

    #[test]
    fn other_expansions_stay_unreadable() {
        for script in [
            // Unquoted: may split into several words.
            r#"curl ${T:+-H "X-aws-ec2-metadata-token: $T"} u"#,
            r#"wget ${T:+--header=x} u"#,
        ] {
            let word = first_argument(script);
            assert_eq!(word.pieces, [Piece::Unknown], "{script}");
        }
        // A default is a variable's value, not an alternative.
        let word = first_argument(r#"wget ${T:-"--header=x"} u"#);
        assert!(matches!(word.pieces.as_slice(), [Piece::Variable { .. }]));
        // Inside quotes the expansion is one word even when empty: it is not read as the option.
        let word = first_argument(r#"wget "${T:+--header=x: $T}" u"#);
        assert_ne!(word.literal_prefix(), "--header=x: ");
    }

    #[test]
    fn double_quoted_escapes_are_removed() {
        assert_eq!(unescape_double_quoted(br#"a\"b\$c\d"#), r#"a"b$c\d"#);
    }

    #[test]
    fn unquoted_backslash_quotes_anything() {
        assert_eq!(unescape_unquoted(br"a\ b\\c"), r"a b\c");
    }

    #[test]
    fn ansi_c_escapes_decode() {
        let (text, _) = decode_ansi_c(br"a\nb\x41\101\'", 0);
        assert_eq!(text, b"a\nbAA'");
    }

    #[test]
    fn escapes_map_to_their_whole_escape() {
        let (text, anchors) = unquote_double(br#"x\"y"#, 10);
        assert_eq!(text, br#"x"y"#);
        let map = crate::fragment::OffsetMap::from_anchors(anchors);
        use crate::fragment::{FragmentOffset, FragmentSpan, HostSpan};
        assert_eq!(map.to_host(FragmentOffset(1)).0, 11);
        assert_eq!(map.to_host(FragmentOffset(2)).0, 13);
        // The decoded `"` is the whole escape `\"`, from either side.
        assert_eq!(
            map.span_to_host(FragmentSpan::new(1, 2)),
            HostSpan::new(11, 13)
        );
        assert_eq!(
            map.span_to_host(FragmentSpan::new(0, 2)),
            HostSpan::new(10, 13)
        );
        assert_eq!(
            map.span_to_host(FragmentSpan::new(1, 3)),
            HostSpan::new(11, 14)
        );
    }
}
