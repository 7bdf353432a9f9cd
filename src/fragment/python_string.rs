//! Python string literals (`'…'`, `"…"`, `'''…'''`, `"""…"""`, with `r`, `b`, `u` prefixes): the
//! shell code a Python script hands to `subprocess` or `os.system`. Decoded with anchors back to
//! the host; text written (`Quoting::PythonString`) so that it reads back the same inside the
//! quotes. f-strings are not read here: their interpolations are code, which the Python analysis
//! reads.

/// How a literal is written: its prefix letters, its quote and whether it is tripled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Literal {
    /// `r`/`R`: backslashes are taken as they are.
    pub raw: bool,
    /// `b`/`B`: bytes (no `\u`, `\U`, `\N` escapes).
    pub bytes: bool,
    /// `f`/`F`: a formatted string.
    pub formatted: bool,
    pub quote: u8,
    pub triple: bool,
    /// Where the text between the quotes starts and ends, in the literal.
    pub inner: (usize, usize),
}

/// Reads how `literal` (a whole string literal, prefix and quotes included) is written.
pub fn literal(literal: &[u8]) -> Option<Literal> {
    let prefix = literal
        .iter()
        .take_while(|b| b.is_ascii_alphabetic())
        .count();
    if prefix > 3 {
        return None;
    }
    let letters = literal.get(..prefix)?.to_ascii_lowercase();
    let quote = *literal.get(prefix)?;
    if quote != b'\'' && quote != b'"' {
        return None;
    }
    let triple =
        literal.get(prefix..prefix + 3) == Some(&[quote; 3][..]) && literal.len() >= prefix + 6;
    let width = if triple { 3 } else { 1 };
    let start = prefix + width;
    let end = literal.len().checked_sub(width)?;
    if end < start || literal.get(end..)?.iter().any(|&b| b != quote) {
        return None;
    }
    Some(Literal {
        raw: letters.contains(&b'r'),
        bytes: letters.contains(&b'b'),
        formatted: letters.contains(&b'f'),
        quote,
        triple,
        inner: (start, end),
    })
}

/// A literal's value (`text`, the whole literal, at host offset `start`), with anchors from value
/// offsets to host offsets; `None` for an f-string or a literal this does not read (`\N{…}`).
pub fn decode(text: &[u8], start: usize) -> Option<(String, Vec<(usize, usize)>)> {
    let how = literal(text)?;
    if how.formatted {
        return None;
    }
    let inner = text.get(how.inner.0..how.inner.1)?;
    let base = start + how.inner.0;
    let mut out = String::new();
    let mut anchors = vec![(0, base)];
    let mut i = 0;
    while let Some(&b) = inner.get(i) {
        if b != b'\\' || how.raw {
            if b == b'\\' && how.raw && inner.get(i + 1).is_some() {
                // A raw string keeps the backslash and the character after it (a quote too).
                out.push('\\');
                i += 1;
                i += super::push_char(&mut out, &mut anchors, inner, i, base + i);
                continue;
            }
            i += super::push_char(&mut out, &mut anchors, inner, i, base + i);
            continue;
        }
        let Some(&next) = inner.get(i + 1) else {
            out.push('\\');
            i += 1;
            continue;
        };
        let simple = match next {
            b'\\' => Some('\\'),
            b'\'' => Some('\''),
            b'"' => Some('"'),
            b'a' => Some('\u{7}'),
            b'b' => Some('\u{8}'),
            b'f' => Some('\u{c}'),
            b'n' => Some('\n'),
            b'r' => Some('\r'),
            b't' => Some('\t'),
            b'v' => Some('\u{b}'),
            _ => None,
        };
        let (piece, used): (String, usize) = if let Some(c) = simple {
            (c.to_string(), 2)
        } else if next == b'\n' {
            (String::new(), 2)
        } else if next == b'\r' {
            (
                String::new(),
                if inner.get(i + 2) == Some(&b'\n') {
                    3
                } else {
                    2
                },
            )
        } else if (b'0'..=b'7').contains(&next) {
            let digits = inner
                .iter()
                .skip(i + 1)
                .take(3)
                .take_while(|d| (b'0'..=b'7').contains(*d))
                .count();
            let value = std::str::from_utf8(inner.get(i + 1..i + 1 + digits)?)
                .ok()
                .and_then(|d| u32::from_str_radix(d, 8).ok())?;
            (char::from_u32(value)?.to_string(), 1 + digits)
        } else if let Some(width) = match next {
            b'x' => Some(2),
            b'u' if !how.bytes => Some(4),
            b'U' if !how.bytes => Some(8),
            _ => None,
        } {
            let hex = inner.get(i + 2..i + 2 + width)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            let value = u32::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
            (char::from_u32(value)?.to_string(), 2 + width)
        } else if next == b'N' && !how.bytes {
            return None;
        } else {
            // Not an escape: the backslash stays, and the character after it is read as usual.
            out.push('\\');
            anchors.push((out.len(), base + i + 1));
            i += 1;
            continue;
        };
        if piece.is_empty() {
            anchors.push((out.len(), base + i + used));
        } else {
            super::push_decoded(&mut out, &mut anchors, &piece, base + i, base + i + used);
        }
        i += used;
    }
    Some((out, anchors))
}

/// Writes `text` for the inside of a literal quoted with `quote` (`Quoting::PythonString`), not
/// raw: `\` and the quote escaped, and in a one-line literal line breaks as `\n`/`\r`.
pub fn encode(text: &str, quote: char, triple: bool) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            '\n' if !triple => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\x00"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::fragment::properties::{anchors_inside, text};
    use crate::fragment::HostSpan;

    /// Pieces of a literal's inside, valid and not.
    const PIECES: &[&str] = &[
        "a",
        "curl",
        " ",
        "\\\\",
        "\\'",
        "\\\"",
        "\\n",
        "\\t",
        "\\x41",
        "\\101",
        "\\0",
        "\\u00e9",
        "\\U0001F600",
        "\\q",
        "\\$",
        "\\\n",
        "é",
        "$",
        "\n",
    ];

    fn inside() -> impl Strategy<Value = String> {
        proptest::collection::vec(proptest::sample::select(PIECES), 0..12)
            .prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Any text written inside the quotes reads back as itself, in each kind of literal.
        #[test]
        fn round_trip(text in text(), start in 0usize..64, kind in 0usize..4) {
            let (quote, triple) = [('\'', false), ('"', false), ('\'', true), ('"', true)][kind];
            let q = quote.to_string().repeat(if triple { 3 } else { 1 });
            let encoded = encode(&text, quote, triple);
            // A tripled literal cannot end in its own quote character unescaped: the encoder
            // escapes every quote, so it never does.
            let written = format!("{q}{encoded}{q}");
            let decoded = decode(written.as_bytes(), start).map(|d| d.0);
            prop_assert_eq!(decoded, Some(text));
        }

        /// Every span of the value maps inside the literal's quotes.
        #[test]
        fn spans_map_inside_the_string(inner in inside(), start in 0usize..64) {
            let literal = format!("'{inner}'");
            if let Some((decoded, anchors)) = decode(literal.as_bytes(), start) {
                let host = HostSpan::new(start + 1, start + literal.len() - 1);
                prop_assert_eq!(anchors_inside(&anchors, decoded.len(), host), Ok(()));
            }
        }
    }

    #[test]
    fn escapes_are_read() {
        let read = |s: &str| decode(s.as_bytes(), 0).map(|d| d.0);
        assert_eq!(read(r#""a\"b""#).as_deref(), Some("a\"b"));
        assert_eq!(read(r"'\x41\101\n'").as_deref(), Some("AA\n"));
        assert_eq!(read(r"'\q'").as_deref(), Some("\\q"));
        assert_eq!(read(r"r'\n'").as_deref(), Some("\\n"));
        assert_eq!(read(r"b'\u0041'").as_deref(), Some("\\u0041"));
        assert_eq!(read("'''a\nb'''").as_deref(), Some("a\nb"));
        assert_eq!(read("'a\\\nb'").as_deref(), Some("ab"));
        assert_eq!(read("f'a{b}'"), None);
        assert_eq!(read(r"'\N{DASH}'"), None);
    }

    #[test]
    fn offsets_point_past_escapes() {
        let (text, anchors) = decode(br"'\x41curl'", 10).unwrap();
        let map = crate::fragment::OffsetMap::from_anchors(anchors);
        assert_eq!(text, "Acurl");
        assert_eq!(map.to_host(crate::fragment::FragmentOffset(1)).0, 10 + 5);
    }
}
