//! YAML single-quoted scalars (`'…'`): the value decoded (`''` is a quote, line breaks fold, empty
//! lines are line breaks) with anchors back to the host, and text written so that it reads back
//! the same inside the quotes.

/// A single-quoted scalar's value, from the scalar as written (`raw`, quotes included) at host
/// offset `start`, with anchors into the host. As YAML reads it: `''` is a quote; a line break
/// (`\n`, `\r\n` or `\r`) folds to a space, or, followed by empty lines, becomes one line
/// break per empty line; blanks before a line break and at the start of the next line are not
/// part of the value.
pub fn decode(raw: &[u8], start: usize) -> (String, Vec<(usize, usize)>) {
    let inner = raw
        .get(1..raw.len().saturating_sub(1).max(1))
        .unwrap_or_default();
    let base = start + 1;
    let mut out = String::new();
    let mut anchors = vec![(0, base)];
    let mut i = 0;
    while let Some(&b) = inner.get(i) {
        if b == b'\'' && inner.get(i + 1) == Some(&b'\'') {
            anchors.push((out.len(), base + i));
            out.push('\'');
            i += 2;
            anchors.push((out.len(), base + i));
        } else if super::line_break(inner, i) > 0 {
            let mut j = i + super::line_break(inner, i);
            let mut empty = 0;
            loop {
                let spaces = super::blanks(inner, j);
                match super::line_break(inner, j + spaces) {
                    0 => {
                        j += spaces;
                        break;
                    }
                    width => {
                        empty += 1;
                        j += spaces + width;
                    }
                }
            }
            while out.ends_with(' ') || out.ends_with('\t') {
                out.pop();
            }
            if empty == 0 {
                out.push(' ');
            } else {
                out.push_str(&"\n".repeat(empty));
            }
            i = j;
            anchors.push((out.len(), base + i));
        } else {
            i += super::push_char(&mut out, &mut anchors, inner, i, base + i);
        }
    }
    (out, anchors)
}

/// Writes `text` for the inside of a single-quoted scalar (`Quoting::YamlSingleQuoted`): `'`
/// doubled; `k` line breaks in a row (`\n`, `\r\n` or `\r` each) written as a line break and
/// `k` empty lines (`eol`, `k + 1` times), the next line indented with `indent`. What the style
/// cannot hold is lost as YAML reads it: a carriage return is a line break, blanks around a line
/// break are not kept (see [`decode`]).
pub fn encode(text: &str, indent: &str, eol: &str) -> String {
    let text = held(&text.replace('\'', "''"));
    let mut out = String::with_capacity(text.len() + 8);
    let mut breaks = 0;
    for c in text.chars() {
        if c == '\n' {
            breaks += 1;
            continue;
        }
        if breaks > 0 {
            out.push_str(&eol.repeat(breaks + 1));
            out.push_str(indent);
            breaks = 0;
        }
        out.push(c);
    }
    if breaks > 0 {
        out.push_str(&eol.repeat(breaks + 1));
        out.push_str(indent);
    }
    out
}

/// What a single-quoted scalar can hold of `text`: every carriage return a line break, and no
/// blanks next to a line break.
fn held(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = text.split('\n').collect();
    let last = lines.len().saturating_sub(1);
    let kept: Vec<&str> = lines
        .iter()
        .enumerate()
        .map(|(k, line)| {
            let line = if k < last {
                line.trim_end_matches([' ', '\t'])
            } else {
                line
            };
            if k > 0 {
                line.trim_start_matches([' ', '\t'])
            } else {
                line
            }
        })
        .collect();
    kept.join("\n")
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::fragment::properties::{anchors_inside, text};
    use crate::fragment::HostSpan;

    /// Pieces of a single-quoted scalar's inside.
    const PIECES: &[&str] = &[
        "a", "curl", " ", "''", "\"", "\\", "\t", "\n", "\n  ", "\n\n", "\r\n", "é", "$", "'",
    ];

    fn inside() -> impl Strategy<Value = String> {
        proptest::collection::vec(proptest::sample::select(PIECES), 0..12)
            .prop_map(|pieces| pieces.concat())
    }

    /// Text on one line, every `'` doubled: written as the decoder reads it.
    fn one_line() -> impl Strategy<Value = String> {
        proptest::collection::vec(proptest::sample::select(&PIECES[..7]), 0..12)
            .prop_map(|pieces| pieces.concat())
    }

    /// What YAML keeps of `text` in a single-quoted scalar, worked out apart from the encoder:
    /// carriage returns are line breaks; blanks right before or after a line break go.
    fn yaml_keeps(text: &str) -> String {
        let mut out = String::new();
        let mut chars = text.chars().peekable();
        let mut after_break = false;
        while let Some(c) = chars.next() {
            let c = if c == '\r' {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                '\n'
            } else {
                c
            };
            match c {
                ' ' | '\t' if after_break => {}
                '\n' => {
                    while out.ends_with([' ', '\t']) {
                        out.pop();
                    }
                    out.push('\n');
                    after_break = true;
                }
                c => {
                    out.push(c);
                    after_break = false;
                }
            }
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Any text written inside the quotes reads back as itself, up to what the style cannot
        /// hold (carriage returns, blanks next to a line break: YAML does not keep them); text
        /// without those reads back exactly.
        #[test]
        fn round_trip(
            text in text(),
            indent in "[ ]{0,6}",
            crlf in any::<bool>(),
            start in 0usize..64,
        ) {
            let eol = if crlf { "\r\n" } else { "\n" };
            let written = format!("'{}'", encode(&text, &indent, eol));
            let (decoded, _) = decode(written.as_bytes(), start);
            prop_assert_eq!(&decoded, &yaml_keeps(&text));
            if yaml_keeps(&text) == text {
                prop_assert_eq!(decoded, text);
            }
        }

        /// The decoder keeps one-line values as written (only `''` changes), so re-encoding
        /// what it read gives the same text.
        #[test]
        fn decode_then_encode_is_stable(inner in one_line()) {
            let (decoded, _) = decode(format!("'{inner}'").as_bytes(), 0);
            prop_assert_eq!(encode(&decoded, "  ", "\n"), inner);
        }

        /// Every span of the value maps inside the scalar's quotes.
        #[test]
        fn spans_map_inside_the_scalar(inner in inside(), start in 0usize..64) {
            let raw = format!("'{inner}'");
            let (decoded, anchors) = decode(raw.as_bytes(), start);
            let host = HostSpan::new(start + 1, start + raw.len() - 1);
            prop_assert_eq!(anchors_inside(&anchors, decoded.len(), host), Ok(()));
        }
    }

    /// As YAML reads line breaks in a single-quoted scalar: an empty line is a line break.
    #[test]
    fn a_blank_line_is_a_line_break() {
        assert_eq!(decode(b"'a\n\n  b'", 0).0, "a\nb");
        assert_eq!(decode(b"'a  \n   b'", 0).0, "a b");
        assert_eq!(decode(b"'a\r\n \r\n\r\n  b'", 0).0, "a\n\nb");
        assert_eq!(decode(b"' a\n b '", 0).0, " a b ");
        // Line breaks in a row, with blanks between them or not, are written as that many.
        for text in ["\n\n", "\n  \n", "a\n\n\nb"] {
            let written = format!("'{}'", encode(text, "", "\n"));
            assert_eq!(
                decode(written.as_bytes(), 0).0,
                text.replace(' ', ""),
                "{text:?}"
            );
        }
    }

    #[test]
    fn quotes_double_and_line_breaks_become_empty_lines() {
        assert_eq!(
            crate::fragment::Quoting::YamlSingleQuoted {
                indent: "  ".to_owned(),
                eol: "\n"
            }
            .encode("it's\n"),
            "it''s\n\n  "
        );
    }
}
