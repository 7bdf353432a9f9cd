//! YAML double-quoted scalars (`"…"`): the value decoded (escapes, line folding) with anchors
//! back to the host, and text written so that it reads back the same inside the quotes. A plain
//! scalar or a simple folded block that a fix edits becomes one of these (see `yaml_plain`).

/// A double-quoted scalar's value (YAML escapes; line breaks fold to spaces), from the scalar as
/// written (`raw`, quotes included) at host offset `start`, with anchors into the host. Every
/// escape of YAML 1.2 is read (`\0 \a \b \t \n \v \f \r \e \␣ \" \/ \\ \N \_ \L \P`,
/// `\x`, `\u`, `\U`, an escaped line break); a malformed one (an unknown letter, a hex escape
/// without its digits) is read as leniently as it can be, inside the bytes it takes.
pub fn decode(raw: &[u8], start: usize) -> (String, Vec<(usize, usize)>) {
    let inner = raw
        .get(1..raw.len().saturating_sub(1).max(1))
        .unwrap_or_default();
    let base = start + 1;
    let mut out = String::new();
    let mut anchors = vec![(0, base)];
    // Blanks before a line break are dropped, but not those an escape wrote.
    let mut kept = 0;
    let mut i = 0;
    while let Some(&b) = inner.get(i) {
        match b {
            b'\\' => {
                let used = escape(inner, i, base, &mut out, &mut anchors);
                i += used;
                kept = out.len();
                anchors.push((out.len(), base + i));
            }
            b'\n' | b'\r' => {
                // A line break folds to a space; blank lines become line breaks.
                let mut j = i + super::line_break(inner, i);
                let mut breaks = 0;
                loop {
                    let spaces = super::blanks(inner, j);
                    match super::line_break(inner, j + spaces) {
                        0 => {
                            j += spaces;
                            break;
                        }
                        width => {
                            breaks += 1;
                            j += spaces + width;
                        }
                    }
                }
                while out.len() > kept && (out.ends_with(' ') || out.ends_with('\t')) {
                    out.pop();
                }
                if breaks == 0 {
                    out.push(' ');
                } else {
                    out.push_str(&"\n".repeat(breaks));
                }
                i = j;
                anchors.push((out.len(), base + i));
            }
            _ => i += super::push_char(&mut out, &mut anchors, inner, i, base + i),
        }
    }
    (out, anchors)
}

/// Reads the escape at `inner[i]` (a backslash) into `out`; returns how many bytes it takes.
fn escape(
    inner: &[u8],
    i: usize,
    base: usize,
    out: &mut String,
    anchors: &mut Vec<(usize, usize)>,
) -> usize {
    let Some(&letter) = inner.get(i + 1) else {
        // A backslash at the end: itself.
        super::push_decoded(out, anchors, "\\", base + i, base + i + 1);
        return 1;
    };
    let simple = match letter {
        b'0' => Some('\0'),
        b'a' => Some('\u{7}'),
        b'b' => Some('\u{8}'),
        b't' | b'\t' => Some('\t'),
        b'n' => Some('\n'),
        b'v' => Some('\u{b}'),
        b'f' => Some('\u{c}'),
        b'r' => Some('\r'),
        b'e' => Some('\u{1b}'),
        b' ' => Some(' '),
        b'"' => Some('"'),
        b'/' => Some('/'),
        b'\\' => Some('\\'),
        b'N' => Some('\u{85}'),
        b'_' => Some('\u{a0}'),
        b'L' => Some('\u{2028}'),
        b'P' => Some('\u{2029}'),
        _ => None,
    };
    if let Some(c) = simple {
        super::push_decoded(
            out,
            anchors,
            c.encode_utf8(&mut [0; 4]),
            base + i,
            base + i + 2,
        );
        return 2;
    }
    let digits = match letter {
        b'x' => 2,
        b'u' => 4,
        b'U' => 8,
        b'\n' | b'\r' => {
            // An escaped line break joins the lines without a space.
            let width = super::line_break(inner, i + 1);
            return 1 + width + super::blanks(inner, i + 1 + width);
        }
        _ => {
            // Not an escape YAML has: the character itself.
            let (c, len) = super::char_at(inner, i + 1);
            super::push_decoded(out, anchors, &c, base + i, base + i + 1 + len);
            return 1 + len;
        }
    };
    let hex = inner
        .iter()
        .skip(i + 2)
        .take(digits)
        .take_while(|b| b.is_ascii_hexdigit())
        .count();
    let c = (hex == digits)
        .then(|| inner.get(i + 2..i + 2 + digits))
        .flatten()
        .and_then(|h| std::str::from_utf8(h).ok())
        .and_then(|h| u32::from_str_radix(h, 16).ok())
        .and_then(char::from_u32)
        .unwrap_or('\u{fffd}');
    let used = 2 + hex;
    super::push_decoded(
        out,
        anchors,
        c.encode_utf8(&mut [0; 4]),
        base + i,
        base + i + used,
    );
    used
}

/// Writes `text` for the inside of a double-quoted scalar (`Quoting::YamlDoubleQuoted`): the
/// escapes are JSON's, all of which YAML's double-quoted style reads the same way.
pub fn encode(text: &str) -> String {
    super::json_string::encode(text)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::fragment::properties::{anchors_inside, text};
    use crate::fragment::HostSpan;

    /// Pieces of a double-quoted scalar's inside: escapes of every kind, line breaks and blank
    /// lines, blanks, multi-byte characters.
    const PIECES: &[&str] = &[
        "a",
        "curl",
        " ",
        "  ",
        "\t",
        "\n",
        "\n\n",
        "\n  ",
        "\r\n",
        "\\\\",
        "\\\"",
        "\\n",
        "\\t",
        "\\x41",
        "\\u00e9",
        "\\U0001F600",
        "\\\n",
        "\\\n  ",
        "\\ ",
        "\\/",
        "\\e",
        "\\0",
        "é",
        "\u{1F600}",
        "$",
        "'",
        "\\a",
        "\\b",
        "\\v",
        "\\f",
        "\\N",
        "\\_",
        "\\L",
        "\\P",
        "\\\t",
        "\\\r\n",
        "\\q",
        "\\x4",
        "\\U1",
        "\\ud800",
        "\\é",
        "\\",
    ];

    fn inside() -> impl Strategy<Value = String> {
        proptest::collection::vec(proptest::sample::select(PIECES), 0..12)
            .prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Any text written inside the quotes reads back as itself; and written text is a fixed
        /// point (the decoder does not keep escapes' spelling, so stability is checked on the
        /// encoder's own output).
        #[test]
        fn round_trip(text in text(), start in 0usize..64) {
            let written = format!("\"{}\"", encode(&text));
            let (decoded, _) = decode(written.as_bytes(), start);
            prop_assert_eq!(&decoded, &text);
            prop_assert_eq!(encode(&decoded), encode(&text));
        }

        /// Every span of the value maps inside the scalar's quotes, malformed escapes included
        /// (a hex escape without its digits, a backslash before a multi-byte character).
        #[test]
        fn spans_map_inside_the_scalar(inner in inside(), start in 0usize..64) {
            let raw = format!("\"{inner}\"");
            let (decoded, anchors) = decode(raw.as_bytes(), start);
            let host = HostSpan::new(start + 1, start + raw.len() - 1);
            prop_assert_eq!(anchors_inside(&anchors, decoded.len(), host), Ok(()));
        }
    }

    #[test]
    fn escapes_and_folding() {
        let (text, anchors) = decode(b"\"a\\tb \\\"c\\\"\n  d\n\n e\\\n  f\"", 10);
        assert_eq!(text, "a\tb \"c\" d\nef");
        assert_eq!(anchors.first(), Some(&(0, 11)));
    }

    /// Every escape of YAML 1.2 (section 5.7), as PyYAML and the spec read it.
    #[test]
    fn every_yaml_escape() {
        let cases: &[(&str, &str)] = &[
            ("\\0", "\0"),
            ("\\a", "\u{7}"),
            ("\\b", "\u{8}"),
            ("\\t", "\t"),
            ("\\\t", "\t"),
            ("\\n", "\n"),
            ("\\v", "\u{b}"),
            ("\\f", "\u{c}"),
            ("\\r", "\r"),
            ("\\e", "\u{1b}"),
            ("\\ ", " "),
            ("\\\"", "\""),
            ("\\/", "/"),
            ("\\\\", "\\"),
            ("\\N", "\u{85}"),
            ("\\_", "\u{a0}"),
            ("\\L", "\u{2028}"),
            ("\\P", "\u{2029}"),
            ("\\x41", "A"),
            ("\\u00e9", "é"),
            ("\\U0001F600", "\u{1F600}"),
            ("a\\\n  b", "ab"),
            ("a\\\r\n  b", "ab"),
        ];
        for (escaped, value) in cases {
            let raw = format!("\"<{escaped}>\"");
            let (decoded, anchors) = decode(raw.as_bytes(), 0);
            assert_eq!(decoded, format!("<{value}>"), "{raw}");
            let host = HostSpan::new(1, raw.len() - 1);
            assert_eq!(
                anchors_inside(&anchors, decoded.len(), host),
                Ok(()),
                "{raw}"
            );
        }
    }

    #[test]
    fn line_breaks_fold_but_escaped_blanks_stay() {
        // CRLF is a line break like LF; blanks before a break are dropped, escaped ones kept.
        assert_eq!(decode(b"\"a \r\n  b\r\n\r\n c\"", 0).0, "a b\nc");
        assert_eq!(decode(b"\"a\\ \n b\\t \n c\"", 0).0, "a  b\t c");
    }

    #[test]
    fn malformed_escapes_map_inside_the_scalar() {
        for raw in ["\"\\x4\"", "\"\\U1\"", "\"\\é\""] {
            let (decoded, anchors) = decode(raw.as_bytes(), 0);
            let host = HostSpan::new(1, raw.len() - 1);
            assert_eq!(
                anchors_inside(&anchors, decoded.len(), host),
                Ok(()),
                "{raw}"
            );
        }
    }
}
