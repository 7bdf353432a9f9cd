//! Base64, as user data and encoded files carry it: wrapped over lines or not, indented inside
//! YAML or a heredoc, with whatever blanks it ended with. Decoding keeps that shape (a `Codec`)
//! so that re-encoding writes the value the way it was written. Base64 is opaque: the decoded
//! bytes have no offset map into the host, and findings inside report the encoded value's span.

use ::base64::Engine;

use super::encoding::{Codec, MAX_DECODED};
use super::{HostSpan, Quoting};

/// Decodes base64 that may be wrapped over lines (and indented, in YAML); returns the bytes and
/// the shape to re-encode with.
pub fn decode(text: &[u8]) -> Option<(Vec<u8>, Codec)> {
    let trimmed: Vec<u8> = text
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    if trimmed.len() < 8 || trimmed.len() > MAX_DECODED * 4 / 3 + 4 {
        return None;
    }
    let decoded = ::base64::engine::general_purpose::STANDARD
        .decode(&trimmed)
        .or_else(|_| ::base64::engine::general_purpose::STANDARD_NO_PAD.decode(&trimmed))
        .ok()?;
    let lines: Vec<&[u8]> = text
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .collect();
    let line_length = if lines.len() > 1 {
        lines
            .first()
            .map(|l| l.iter().filter(|b| !b.is_ascii_whitespace()).count())
    } else {
        None
    };
    let indent = lines
        .get(1)
        .map(|l| {
            l.iter()
                .take_while(|b| **b == b' ' || **b == b'\t')
                .map(|&b| b as char)
                .collect()
        })
        .unwrap_or_default();
    let eol = if text.windows(2).any(|w| w == b"\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let trailing_len = text
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_whitespace())
        .count();
    let trailing =
        String::from_utf8_lossy(text.get(text.len() - trailing_len..).unwrap_or_default())
            .into_owned();
    Some((
        decoded,
        Codec::Base64 {
            line_length,
            eol,
            indent,
            trailing,
        },
    ))
}

/// Writes `decoded` as base64 in the shape it was read in (`Codec::Base64`): wrapped at
/// `line_length` characters (none: one line) with `eol`, each wrapped line after the first
/// starting with `indent`, then `trailing`.
pub fn encode(
    decoded: &[u8],
    line_length: Option<usize>,
    eol: &str,
    indent: &str,
    trailing: &str,
) -> Vec<u8> {
    let flat = ::base64::engine::general_purpose::STANDARD.encode(decoded);
    let Some(width) = line_length.filter(|w| *w > 0) else {
        return format!("{flat}{trailing}").into_bytes();
    };
    let mut out = String::with_capacity(flat.len() + flat.len() / width * 4);
    for (i, chunk) in flat.as_bytes().chunks(width).enumerate() {
        if i > 0 {
            out.push_str(eol);
            out.push_str(indent);
        }
        out.push_str(&String::from_utf8_lossy(chunk));
    }
    out.push_str(trailing);
    out.into_bytes()
}

/// The span of a value made only of base64 lines (surrounding whitespace trimmed), if it is one.
pub fn shaped(bytes: &[u8], content: HostSpan) -> Option<HostSpan> {
    let raw = bytes.get(content.start.0..content.end.0)?;
    let lead = raw.iter().take_while(|b| b.is_ascii_whitespace()).count();
    let trail = raw
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_whitespace())
        .count();
    let inner = raw.get(lead..raw.len().saturating_sub(trail))?;
    let alphabet = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=');
    let shaped = !inner.is_empty()
        && inner
            .split(|&b| b == b'\n')
            .all(|line| line.trim_ascii().iter().all(alphabet));
    shaped.then(|| HostSpan::new(content.start.0 + lead, content.start.0 + lead + inner.len()))
}

/// Base64 re-encoded inside a template: wrapped lines carry the heredoc's indent, or are written
/// as `\n` escapes in a quoted string.
pub fn under_layer(codec: Codec, layer: Option<&Quoting>) -> Codec {
    match (codec, layer) {
        (
            Codec::Base64 {
                line_length,
                eol,
                indent,
                trailing,
            },
            Some(Quoting::YamlBlock { indent: outer }),
        ) => Codec::Base64 {
            line_length,
            eol,
            indent: format!("{outer}{indent}"),
            trailing,
        },
        (
            Codec::Base64 {
                line_length,
                eol,
                indent,
                trailing,
            },
            Some(Quoting::JsonString),
        ) => Codec::Base64 {
            line_length,
            eol: if eol == "\r\n" { "\\r\\n" } else { "\\n" },
            indent,
            trailing: trailing.replace("\r", "\\r").replace('\n', "\\n"),
        },
        (codec, _) => codec,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn base64_round_trip_keeps_wrapping() {
        let text =
            "#!/bin/sh\ncurl -s http://169.254.169.254/latest/meta-data/instance-id\necho done\n";
        let flat = ::base64::engine::general_purpose::STANDARD.encode(text);
        let wrapped: Vec<String> = flat
            .as_bytes()
            .chunks(20)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        let encoded = format!("{}\r\n\r\n", wrapped.join("\r\n    "));
        let (decoded, codec) = decode(encoded.as_bytes()).unwrap();
        assert_eq!(decoded, text.as_bytes());
        assert_eq!(codec.encode(&decoded).unwrap(), encoded.as_bytes());
        let (one_line, flat_codec) = decode(flat.as_bytes()).unwrap();
        assert_eq!(flat_codec.encode(&one_line).unwrap(), flat.as_bytes());
    }

    #[test]
    fn not_base64() {
        assert!(decode(b"curl http://169.254.169.254/").is_none());
        assert!(decode(b"abc").is_none());
    }

    /// A base64 value's shape: line length (none: one line), line ending, indentation of the
    /// wrapped lines, trailing blanks and line breaks. One kind of line ending throughout: the
    /// decoder takes CRLF for the whole value if it sees one anywhere, so a value wrapped with
    /// LF that ends with CRLF is written back with CRLF (mixed line endings are not kept).
    fn shape() -> impl Strategy<Value = (Option<usize>, &'static str, String, String)> {
        (
            proptest::option::of(1usize..80),
            proptest::sample::select(&["\n", "\r\n"][..]),
            "[ \t]{0,6}",
            proptest::sample::select(&["", "{eol}", "{eol}{eol}", "  {eol}", " "][..]),
        )
            .prop_map(|(line_length, eol, indent, trailing)| {
                (line_length, eol, indent, trailing.replace("{eol}", eol))
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Bytes written in any shape decode to themselves, and the shape read back writes the
        /// same text: the decoder keeps the spelling of what it reads (padding aside).
        #[test]
        fn round_trip(
            bytes in proptest::collection::vec(any::<u8>(), 4..200),
            (line_length, eol, indent, trailing) in shape(),
        ) {
            let written = encode(&bytes, line_length, eol, &indent, &trailing);
            let (decoded, codec) = decode(&written).unwrap();
            prop_assert_eq!(&decoded, &bytes);
            prop_assert_eq!(codec.encode(&decoded).unwrap(), written);
        }

        /// Base64 written under a template's layer (a heredoc's indent, a quoted string's
        /// escapes) reads back, through that layer, as the same bytes.
        #[test]
        fn round_trip_under_a_layer(
            bytes in proptest::collection::vec(any::<u8>(), 4..120),
            line_length in 4usize..40,
            outer in "[ ]{1,6}",
            quoted in any::<bool>(),
        ) {
            let codec = Codec::Base64 {
                line_length: Some(line_length),
                eol: "\n",
                indent: String::new(),
                trailing: "\n".to_owned(),
            };
            let layer = if quoted {
                Quoting::JsonString
            } else {
                Quoting::YamlBlock { indent: outer.clone() }
            };
            let written = String::from_utf8(under_layer(codec, Some(&layer)).encode(&bytes).unwrap()).unwrap();
            let unwrapped = if quoted {
                super::super::json_string::decode(format!("\"{written}\"").as_bytes(), 0).0
            } else {
                let block = format!("|{}\n{outer}{written}", outer.len());
                super::super::yaml_block::decode(block.as_bytes(), 0, 0).0
            };
            prop_assert_eq!(decode(unwrapped.as_bytes()).map(|(b, _)| b), Some(bytes));
        }

        /// Base64 has no offset map (it is opaque); the span a finding inside reports is where
        /// the value's base64 lines are, which lies inside the text they were found in.
        #[test]
        fn shaped_spans_lie_inside_the_content(
            lead in "[ \t\n]{0,3}",
            lines in proptest::collection::vec("[A-Za-z0-9+/=]{0,12}", 0..4),
            tail in "[ \t\n]{0,3}",
            start in 0usize..16,
        ) {
            let text = format!("{}{lead}{}{tail}", "x".repeat(start), lines.join("\n  "));
            let content = HostSpan::new(start, text.len());
            if let Some(span) = shaped(text.as_bytes(), content) {
                prop_assert!(content.contains(span));
                prop_assert!(!span.is_empty());
            }
        }
    }

    #[test]
    fn base64_in_an_indented_heredoc_keeps_the_indent() {
        let codec = under_layer(
            Codec::Base64 {
                line_length: Some(4),
                eol: "\n",
                indent: "  ".to_owned(),
                trailing: String::new(),
            },
            Some(&Quoting::YamlBlock {
                indent: "    ".to_owned(),
            }),
        );
        assert_eq!(codec.encode(b"abcdef").unwrap(), b"YWJj\n      ZGVm");
    }

    #[test]
    fn under_a_quoted_string_line_breaks_are_escapes() {
        let codec = under_layer(
            Codec::Base64 {
                line_length: Some(4),
                eol: "\r\n",
                indent: String::new(),
                trailing: "\n".to_owned(),
            },
            Some(&Quoting::JsonString),
        );
        assert_eq!(codec.encode(b"abcdef").unwrap(), b"YWJj\\r\\nZGVm\\n");
    }
}
