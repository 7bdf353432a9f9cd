//! YAML plain scalars and the folded blocks that read like them: the value decoded (lines
//! folded) with anchors back to the host. Neither can hold everything a fix writes, so an edited
//! one becomes a double-quoted scalar in place ([`PlainScalar`] says where the quotes and
//! backslashes go), and a whole value rewritten is written double-quoted ([`encode`]).

use super::{HostOffset, HostSpan, PlainScalar};

/// A plain scalar's value (`raw` at host offset `start`): lines folded with single spaces, with
/// anchors into the host.
pub fn decode(raw: &[u8], start: usize) -> (String, Vec<(usize, usize)>) {
    let mut out = String::new();
    let mut anchors = Vec::new();
    let mut offset = 0;
    for (i, line) in raw.split(|&b| b == b'\n').enumerate() {
        let trimmed_start = line.iter().take_while(|b| b.is_ascii_whitespace()).count();
        let content = line
            .get(trimmed_start..)
            .unwrap_or_default()
            .strip_suffix(b"\r")
            .unwrap_or(line.get(trimmed_start..).unwrap_or_default());
        if i > 0 {
            out.push(' ');
        }
        anchors.push((out.len(), start + offset + trimmed_start));
        out.push_str(String::from_utf8_lossy(content).trim_end());
        offset += line.len() + 1;
    }
    (out, anchors)
}

/// How a plain scalar (`raw`, at `span`) becomes a double-quoted scalar in place: quotes around
/// it and a backslash before each `"` and `\` it holds. Only a scalar on one line: the line
/// breaks of a longer one would need escapes of their own.
pub fn plain_as_quoted(raw: &[u8], span: HostSpan) -> Option<PlainScalar> {
    let start = span.start.0;
    let escapes = raw
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'"' || **b == b'\\')
        .map(|(i, _)| HostOffset(start + i))
        .collect();
    let single_line = !raw.contains(&b'\n');
    single_line.then_some(PlainScalar {
        span,
        escapes,
        header: None,
    })
}

/// A folded block scalar (`>`, `>-`, `>+`, with an indentation digit or not) that reads the same
/// as a double-quoted scalar spanning its lines: no comment after the header, every line at the
/// block's indentation (the one its header states, from `parent` as `yaml_block::decode` reads
/// it, or else its first line's) with no blank line between them and no trailing blank. Its
/// line breaks then fold to spaces in both forms, so quoting the lines in place (the header
/// replaced by the opening quote, `"` and `\` escaped) keeps the value, up to the final line
/// break. Others (more-indented lines, blank lines, which keep line breaks) are `None`: not
/// fixable in place.
pub fn folded_as_quoted(raw: &[u8], start: usize, parent: usize) -> Option<PlainScalar> {
    let header_end = raw.iter().position(|&b| b == b'\n')?;
    let header = raw.get(..header_end)?.trim_ascii_end();
    let (first, indicators) = header.split_first()?;
    if *first != b'>'
        || indicators.len() > 2
        || !indicators
            .iter()
            .all(|b| matches!(b, b'-' | b'+' | b'1'..=b'9'))
    {
        return None;
    }
    let body_start = header_end + 1;
    let body = raw.get(body_start..)?;
    let mut lines: Vec<(usize, &[u8])> = Vec::new();
    let mut offset = body_start;
    for line in body.split(|&b| b == b'\n') {
        lines.push((offset, line));
        offset += line.len() + 1;
    }
    while lines
        .last()
        .is_some_and(|(_, l)| l.iter().all(|b| *b == b' '))
    {
        lines.pop();
    }
    let (first_at, first_line) = *lines.first()?;
    let indent = super::yaml_block::stated_indent(header, parent)
        .unwrap_or_else(|| first_line.iter().take_while(|b| **b == b' ').count());
    let mut escapes = Vec::new();
    for (at, line) in &lines {
        let content = line.get(indent..)?;
        let leading = line.get(..indent)?;
        if leading.iter().any(|b| *b != b' ')
            || content.first().is_none_or(|b| b.is_ascii_whitespace())
            || content.last().is_some_and(|b| b.is_ascii_whitespace())
        {
            return None;
        }
        escapes.extend(
            content
                .iter()
                .enumerate()
                .filter(|(_, b)| matches!(b, b'"' | b'\\'))
                .map(|(i, _)| HostOffset(start + at + indent + i)),
        );
    }
    let (last_at, last_line) = *lines.last()?;
    Some(PlainScalar {
        span: HostSpan::new(start + first_at + indent, start + last_at + last_line.len()),
        escapes,
        header: Some(HostSpan::new(start, start + first_at + indent)),
    })
}

/// Writes a whole flow scalar's new value (`Codec::YamlPlain`, whatever its style was) as a
/// double-quoted scalar, quotes included; `None` when the value is not text.
pub fn encode(decoded: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(decoded).ok()?;
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    Some(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::fragment::properties::{anchors_inside, text};
    use crate::fragment::{yaml_block, yaml_double};

    /// The scalar `plain` describes, quoted in place in `raw` (at host offset `start`) the way a
    /// fix quotes it: from the opening quote to the closing one.
    fn quoted(raw: &str, start: usize, plain: &PlainScalar) -> String {
        let local = |at: HostOffset| at.0 - start;
        let (open_at, open_end) = match plain.header {
            Some(header) => (local(header.start), local(header.end)),
            None => (local(plain.span.start), local(plain.span.start)),
        };
        let mut out = String::from("\"");
        let mut at = open_end;
        for escape in &plain.escapes {
            out.push_str(&raw[at..local(*escape)]);
            out.push('\\');
            at = local(*escape);
        }
        out.push_str(&raw[at..local(plain.span.end)]);
        out.push('"');
        assert!(open_at <= open_end);
        out
    }

    /// Pieces of a plain scalar's line (no line break).
    const WORDS: &[&str] = &["a", "curl", "-s", "\"x\"", "\\", "$T", "é", "'", "#", "a:b"];

    fn line() -> impl Strategy<Value = String> {
        proptest::collection::vec(proptest::sample::select(WORDS), 1..6)
            .prop_map(|words| words.join(" "))
    }

    /// A plain scalar over several lines, with blanks around the lines and line endings of
    /// both kinds.
    fn multi_line() -> impl Strategy<Value = String> {
        proptest::collection::vec((line(), "[ \t]{0,3}", "[ ]{0,2}", any::<bool>()), 1..5).prop_map(
            |lines| {
                lines
                    .into_iter()
                    .map(|(line, before, after, crlf)| {
                        format!("{before}{line}{after}{}", if crlf { "\r" } else { "" })
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            },
        )
    }

    /// A folded block: its header (indentation digit or not, chomping or not), then lines at
    /// an indentation (some more indented, some blank, when the generator says so).
    fn folded() -> impl Strategy<Value = String> {
        (
            proptest::sample::select(&[">", ">-", ">+", ">2", ">-2", ">1", ">4"][..]),
            1usize..5,
            proptest::collection::vec((line(), 0usize..8), 1..5),
            any::<bool>(),
        )
            .prop_map(|(header, indent, lines, final_break)| {
                let mut out = format!("{header}\n");
                for (i, (line, shape)) in lines.iter().enumerate() {
                    if i > 0 {
                        out.push('\n');
                    }
                    match shape {
                        0 => {}
                        1 => out.push_str(&format!("{}{line}", " ".repeat(indent + 2))),
                        _ => out.push_str(&format!("{}{line}", " ".repeat(indent))),
                    }
                }
                if final_break {
                    out.push('\n');
                }
                out
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Any value rewritten whole reads back as itself (as the double-quoted scalar it is).
        #[test]
        fn round_trip(text in text(), start in 0usize..64) {
            let written = String::from_utf8(encode(text.as_bytes()).unwrap()).unwrap();
            let (decoded, _) = yaml_double::decode(written.as_bytes(), start);
            prop_assert_eq!(decoded, text);
        }

        /// A one-line plain scalar reads as written, and quoted in place it reads the same.
        #[test]
        fn one_line_keeps_its_spelling_and_quotes_in_place(raw in line(), start in 0usize..64) {
            let (decoded, _) = decode(raw.as_bytes(), start);
            prop_assert_eq!(&decoded, &raw);
            let span = HostSpan::new(start, start + raw.len());
            let plain = plain_as_quoted(raw.as_bytes(), span).unwrap();
            let (requoted, _) = yaml_double::decode(quoted(&raw, start, &plain).as_bytes(), 0);
            prop_assert_eq!(requoted, decoded);
        }

        /// A folded block that may be quoted in place reads the same quoted, up to its final
        /// line break; whatever its header's indentation digit says (`">1\n  a\n  b"` is
        /// " a\n b\n": its lines are more indented than the block, so they are not quotable).
        #[test]
        fn folded_blocks_quote_in_place(raw in folded(), start in 0usize..64) {
            if let Some(plain) = folded_as_quoted(raw.as_bytes(), start, 0) {
                let (block, _, _, literal) = yaml_block::decode(raw.as_bytes(), start, 0);
                prop_assert!(!literal);
                let (requoted, _) = yaml_double::decode(quoted(&raw, start, &plain).as_bytes(), 0);
                prop_assert_eq!(requoted.as_str(), block.trim_end_matches('\n'));
            }
        }

        /// Every span of a plain scalar's value maps inside the scalar.
        #[test]
        fn spans_map_inside_the_scalar(raw in multi_line(), start in 0usize..64) {
            let (decoded, anchors) = decode(raw.as_bytes(), start);
            let host = HostSpan::new(start, start + raw.len());
            prop_assert_eq!(anchors_inside(&anchors, decoded.len(), host), Ok(()));
        }

        /// What quoting in place edits (the quotes' places, the backslashes') lies inside the
        /// scalar.
        #[test]
        fn quoting_edits_stay_inside(raw in folded(), plain_raw in line(), start in 0usize..64) {
            let host = HostSpan::new(start, start + raw.len());
            if let Some(plain) = folded_as_quoted(raw.as_bytes(), start, 0) {
                prop_assert!(host.contains(plain.span));
                prop_assert!(plain.header.is_some_and(|h| host.contains(h)));
                prop_assert!(plain.escapes.iter().all(|&at| plain.span.contains(HostSpan::new(at.0, at.0 + 1))));
            }
            let span = HostSpan::new(start, start + plain_raw.len());
            let plain = plain_as_quoted(plain_raw.as_bytes(), span).unwrap();
            prop_assert!(plain.escapes.iter().all(|&at| span.contains(HostSpan::new(at.0, at.0 + 1))));
        }
    }

    #[test]
    fn yaml_plain_becomes_double_quoted() {
        let codec = crate::fragment::codec::Codec::YamlPlain;
        assert_eq!(
            codec.encode(br#"curl -H "T: $X" u\v"#).unwrap(),
            br#""curl -H \"T: $X\" u\\v""#
        );
    }

    /// Lines more indented than the header's digit says keep their line breaks, so the block
    /// cannot be quoted in place; the digit counts from the collection the block is in.
    #[test]
    fn more_indented_than_the_digit_is_not_quotable() {
        assert_eq!(folded_as_quoted(b">1\n  a\n  b\n", 0, 0), None);
        assert!(folded_as_quoted(b">2\n  a\n  b\n", 0, 0).is_some());
        // In a collection indented 2 columns, `>2` means lines at 4.
        assert!(folded_as_quoted(b">2\n    a\n    b\n", 0, 2).is_some());
        assert_eq!(folded_as_quoted(b">1\n    a\n    b\n", 0, 2), None);
    }
}
