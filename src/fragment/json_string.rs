//! JSON strings (`"…"`): a Dockerfile exec-form array's items, and the escapes of an HCL quoted
//! template, which are the same for everything a fix writes. Decoded with anchors back to the
//! host; text written so that it reads back the same inside the quotes.

/// A JSON string literal's value (`literal`, quotes included, at host offset `start`), with
/// anchors from value offsets to host offsets. A surrogate pair (`\ud83d\ude00`) is one
/// character; a malformed escape (a `\u` without its four digits, a lone surrogate, an unknown
/// letter) is read as leniently as it can be, inside the bytes it takes.
pub fn decode(literal: &[u8], start: usize) -> (String, Vec<(usize, usize)>) {
    let inner = literal
        .get(1..literal.len().saturating_sub(1).max(1))
        .unwrap_or_default();
    let base = start + 1;
    let mut out = String::new();
    let mut anchors = vec![(0, base)];
    let mut i = 0;
    while let Some(&b) = inner.get(i) {
        if b != b'\\' {
            i += super::push_char(&mut out, &mut anchors, inner, i, base + i);
            continue;
        }
        let (c, used) = match inner.get(i + 1) {
            Some(b'n') => ('\n', 2),
            Some(b't') => ('\t', 2),
            Some(b'r') => ('\r', 2),
            Some(b'b') => ('\u{8}', 2),
            Some(b'f') => ('\u{c}', 2),
            Some(b'u') => unicode_escape(inner, i),
            Some(&other) if other.is_ascii() => (other as char, 2),
            Some(_) => {
                // Not an escape JSON has: the character itself.
                let (c, len) = super::char_at(inner, i + 1);
                super::push_decoded(&mut out, &mut anchors, &c, base + i, base + i + 1 + len);
                i += 1 + len;
                continue;
            }
            None => ('\\', 1),
        };
        super::push_decoded(
            &mut out,
            &mut anchors,
            c.encode_utf8(&mut [0; 4]),
            base + i,
            base + i + used,
        );
        i += used;
    }
    (out, anchors)
}

/// The four hex digits of a `\u` escape at `inner[at]`, if they are all there.
fn hex4(inner: &[u8], at: usize) -> Option<u32> {
    let hex = inner.get(at + 2..at + 6)?;
    if inner.get(at + 1) != Some(&b'u') || !hex.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u32::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()
}

/// The `\u` escape at `inner[at]`: its character (with the low half of a surrogate pair that
/// follows it), and how many bytes it takes. A replacement character for a lone surrogate, or
/// for a `\u` without its four digits (which takes only the digits that are there).
fn unicode_escape(inner: &[u8], at: usize) -> (char, usize) {
    let Some(unit) = hex4(inner, at) else {
        let digits = inner
            .iter()
            .skip(at + 2)
            .take(4)
            .take_while(|b| b.is_ascii_hexdigit())
            .count();
        return ('\u{fffd}', 2 + digits);
    };
    if (0xd800..0xdc00).contains(&unit) && inner.get(at + 6) == Some(&b'\\') {
        if let Some(low) = hex4(inner, at + 6).filter(|low| (0xdc00..0xe000).contains(low)) {
            let code = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
            return (char::from_u32(code).unwrap_or('\u{fffd}'), 12);
        }
    }
    (char::from_u32(unit).unwrap_or('\u{fffd}'), 6)
}

/// Writes `text` for the inside of a JSON string (`Quoting::JsonString`): `\`, `"` and control
/// characters escaped.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
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

    /// Pieces of a JSON string's inside, valid and not (a decoder meets both).
    const PIECES: &[&str] = &[
        "a",
        "curl",
        " ",
        "\\\\",
        "\\\"",
        "\\n",
        "\\t",
        "\\r",
        "\\b",
        "\\f",
        "\\/",
        "\\u00e9",
        "\\u0041",
        "\\ud83d\\ude00",
        "é",
        "\u{1F600}",
        "$",
        "'",
        "\\q",
        "\\u12",
        "\\ud83d",
        "\\ude00",
        "\\uD83D\\uDE00",
        "\\é",
        "\\",
        "\n",
    ];

    fn inside() -> impl Strategy<Value = String> {
        proptest::collection::vec(proptest::sample::select(PIECES), 0..12)
            .prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Any text written inside the quotes reads back as itself, and written text is a fixed
        /// point (escapes' spelling is not kept, so stability is checked on the encoder's own
        /// output).
        #[test]
        fn round_trip(text in text(), start in 0usize..64) {
            let written = format!("\"{}\"", encode(&text));
            let (decoded, _) = decode(written.as_bytes(), start);
            prop_assert_eq!(&decoded, &text);
            prop_assert_eq!(encode(&decoded), encode(&text));
            prop_assert_eq!(serde_json::from_str::<String>(&written).ok(), Some(text));
        }

        /// Valid JSON strings, however they are spelled (surrogate pairs included), decode as a
        /// JSON parser reads them.
        #[test]
        fn decodes_as_json_does(inner in inside()) {
            let literal = format!("\"{inner}\"");
            if let Ok(expected) = serde_json::from_str::<String>(&literal) {
                prop_assert_eq!(decode(literal.as_bytes(), 0).0, expected);
            }
        }

        /// Every span of the value maps inside the string's quotes, malformed escapes included
        /// (a `\u` without its four digits, a lone surrogate, a backslash before a multi-byte
        /// character).
        #[test]
        fn spans_map_inside_the_string(inner in inside(), start in 0usize..64) {
            let literal = format!("\"{inner}\"");
            let (decoded, anchors) = decode(literal.as_bytes(), start);
            let host = HostSpan::new(start + 1, start + literal.len() - 1);
            prop_assert_eq!(anchors_inside(&anchors, decoded.len(), host), Ok(()));
        }
    }

    #[test]
    fn quotes_and_line_breaks_are_escaped() {
        assert_eq!(
            crate::fragment::Quoting::JsonString.encode("-H \"a: $T\"\n"),
            "-H \\\"a: $T\\\"\\n"
        );
    }

    #[test]
    fn surrogate_pairs_are_one_character() {
        assert_eq!(decode(b"\"\\ud83d\\ude00\"", 0).0, "\u{1F600}");
        // A lone half, or a high half followed by something else, is a replacement character.
        assert_eq!(decode(b"\"\\ud83dx\\ude00\"", 0).0, "\u{fffd}x\u{fffd}");
        assert_eq!(
            decode(b"\"\\ud83d\\u0041\"", 0).0,
            "\u{fffd}A",
            "a high half before another escape"
        );
    }

    #[test]
    fn malformed_escapes_map_inside_the_string() {
        for raw in ["\"\\u12\u{1F600}\"", "\"\\é\""] {
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
