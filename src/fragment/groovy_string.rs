//! Groovy string literals (`'…'`, `"…"`, `'''…'''`, `"""…"""`): the shell code a Jenkinsfile's
//! `sh` step runs. Decoded with anchors back to the host; text written (`Quoting::GroovyString`)
//! so that it reads back the same inside the quotes. In a double-quoted string (a GString)
//! `${…}` and `$name.name` are interpolated by Groovy before the shell runs: they are read as a
//! same-length placeholder word (letters only), unknown to the shell, and an inserted `$` is
//! written `\$` so that Groovy leaves it to the shell.

/// How a literal is quoted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Literal {
    /// `'` or `"` (a GString, which interpolates).
    pub quote: u8,
    pub triple: bool,
    /// Where the text between the quotes starts and ends, in the literal.
    pub inner: (usize, usize),
}

/// Reads how `literal` (a whole string literal, quotes included) is written.
pub fn literal(literal: &[u8]) -> Option<Literal> {
    let quote = *literal.first()?;
    if quote != b'\'' && quote != b'"' {
        return None;
    }
    let triple = literal.get(..3) == Some(&[quote; 3][..]) && literal.len() >= 6;
    let width = if triple { 3 } else { 1 };
    let end = literal.len().checked_sub(width)?;
    if end < width || literal.get(end..)?.iter().any(|&b| b != quote) {
        return None;
    }
    Some(Literal {
        quote,
        triple,
        inner: (width, end),
    })
}

/// The length of an interpolation starting at `at` (on its `$`) in a GString's inside: `${…}`
/// with balanced braces, or `$name` with `.name` after it. `None` when Groovy would reject it.
fn interpolation(inner: &[u8], at: usize) -> Option<usize> {
    let next = *inner.get(at + 1)?;
    if next == b'{' {
        let mut depth = 0usize;
        for (i, &b) in inner.iter().enumerate().skip(at + 1) {
            match b {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(i + 1 - at);
                    }
                }
                // A string inside an interpolation: not read here.
                b'"' | b'\'' => return None,
                _ => {}
            }
        }
        return None;
    }
    let ident = |from: usize| {
        let first = inner
            .get(from)
            .filter(|b| b.is_ascii_alphabetic() || **b == b'_')?;
        let _ = first;
        Some(
            inner
                .iter()
                .skip(from)
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                .count(),
        )
    };
    let mut end = at + 1 + ident(at + 1)?;
    // `$a.b.c`: a property path, as long as a name follows each dot.
    while inner.get(end) == Some(&b'.') {
        match ident(end + 1) {
            Some(n) => end += 1 + n,
            None => break,
        }
    }
    Some(end - at)
}

/// A literal's value (`text`, the whole literal, at host offset `start`), with anchors from value
/// offsets to host offsets; `None` for what Groovy would reject or this does not read (an
/// interpolation holding a string).
pub fn decode(text: &[u8], start: usize) -> Option<(String, Vec<(usize, usize)>)> {
    let how = literal(text)?;
    let inner = text.get(how.inner.0..how.inner.1)?;
    let base = start + how.inner.0;
    let gstring = how.quote == b'"';
    let mut out = String::new();
    let mut anchors = vec![(0, base)];
    let mut i = 0;
    while let Some(&b) = inner.get(i) {
        if !how.triple && (b == b'\n' || b == b'\r') {
            return None;
        }
        if gstring && b == b'$' {
            let length = interpolation(inner, i)?;
            anchors.push((out.len(), base + i));
            out.push_str(&"X".repeat(length));
            i += length;
            anchors.push((out.len(), base + i));
            continue;
        }
        if b != b'\\' {
            i += super::push_char(&mut out, &mut anchors, inner, i, base + i);
            continue;
        }
        let next = *inner.get(i + 1)?;
        let simple = match next {
            b'\\' => Some('\\'),
            b'\'' => Some('\''),
            b'"' => Some('"'),
            b'$' => Some('$'),
            b'b' => Some('\u{8}'),
            b'f' => Some('\u{c}'),
            b'n' => Some('\n'),
            b'r' => Some('\r'),
            b's' => Some(' '),
            b't' => Some('\t'),
            _ => None,
        };
        let (piece, used): (String, usize) = if let Some(c) = simple {
            (c.to_string(), 2)
        } else if next == b'\n' && how.triple {
            (String::new(), 2)
        } else if next == b'\r' && how.triple && inner.get(i + 2) == Some(&b'\n') {
            (String::new(), 3)
        } else if next == b'u' {
            let hex = inner.get(i + 2..i + 6)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            let value = u32::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
            (char::from_u32(value)?.to_string(), 6)
        } else {
            // Groovy rejects other escapes.
            return None;
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

/// Writes `text` for the inside of a literal quoted with `quote` (`Quoting::GroovyString`): `\`
/// and the quote escaped, `$` escaped in a GString, line breaks as `\n`/`\r` in a one-line
/// literal.
pub fn encode(text: &str, quote: char, triple: bool) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            '$' if quote == '"' => out.push_str("\\$"),
            '\n' if !triple => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
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
        "\\$",
        "\\u00e9",
        "\\q",
        "${env.X}",
        "$name.path",
        "$",
        "\\\n",
        "é",
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
            let written = format!("{q}{}{q}", encode(&text, quote, triple));
            let decoded = decode(written.as_bytes(), start).map(|d| d.0);
            prop_assert_eq!(decoded, Some(text));
        }

        /// Every span of the value maps inside the literal's quotes, in each kind of literal.
        #[test]
        fn spans_map_inside_the_string(inner in inside(), start in 0usize..64, kind in 0usize..4) {
            let q = ["'", "\"", "'''", "\"\"\""][kind];
            let literal = format!("{q}{inner}{q}");
            if let Some((decoded, anchors)) = decode(literal.as_bytes(), start) {
                let host = HostSpan::new(start + q.len(), start + literal.len() - q.len());
                prop_assert_eq!(anchors_inside(&anchors, decoded.len(), host), Ok(()));
            }
        }
    }

    #[test]
    fn escapes_and_interpolations_are_read() {
        let read = |s: &str| decode(s.as_bytes(), 0).map(|d| d.0);
        assert_eq!(read(r#""a\"b""#).as_deref(), Some("a\"b"));
        assert_eq!(read(r"'\$HOME \n'").as_deref(), Some("$HOME \n"));
        assert_eq!(read(r#""\$TOKEN""#).as_deref(), Some("$TOKEN"));
        assert_eq!(read(r#""a ${env.X} b""#).as_deref(), Some("a XXXXXXXX b"));
        assert_eq!(read(r#""$env.HOME/x""#).as_deref(), Some("XXXXXXXXX/x"));
        // Single-quoted strings do not interpolate.
        assert_eq!(read("'$X'").as_deref(), Some("$X"));
        assert_eq!(read("'''a\nb'''").as_deref(), Some("a\nb"));
        assert_eq!(read("'''a\\\nb'''").as_deref(), Some("ab"));
        assert_eq!(read("'a\nb'"), None);
        assert_eq!(read(r"'\q'"), None);
        assert_eq!(read(r#""$ x""#), None);
        assert_eq!(read(r#""${"x"}""#), None);
    }

    #[test]
    fn offsets_point_past_escapes_and_interpolations() {
        let (text, anchors) = decode(br#""${a}\$curl""#, 10).unwrap();
        let map = crate::fragment::OffsetMap::from_anchors(anchors);
        assert_eq!(text, "XXXX$curl");
        // `"` at 10, `${a}` at 11..15, `\$` at 15..17: `curl` starts at 17.
        assert_eq!(map.to_host(crate::fragment::FragmentOffset(5)).0, 17);
    }
}
