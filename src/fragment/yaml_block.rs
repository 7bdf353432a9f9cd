//! YAML block scalars (`|` literal, `>` folded): the value decoded line by line with an anchor at
//! each line's content, and text written so that its lines stay inside the block (each line
//! after a break indented like the block). A whole host re-encoded as a block's content
//! (`Codec::YamlBlock`) is written here too.

/// The indentation a block scalar's header (`|2`, `>-1`, `|+ # note`) states for its content:
/// its indentation indicator added to `parent`, the indentation of the block collection the
/// scalar is a value of (0 when it is in none), as YAML counts it; `None` when the header
/// states none (the first line that is not empty sets it then).
pub fn stated_indent(header: &[u8], parent: usize) -> Option<usize> {
    let indicators = header
        .strip_prefix(b"|")
        .or_else(|| header.strip_prefix(b">"))?;
    indicators
        .iter()
        .take_while(|b| matches!(b, b'-' | b'+' | b'0'..=b'9'))
        .find(|b| b.is_ascii_digit() && **b != b'0')
        .map(|d| parent + usize::from(d - b'0'))
}

/// A block scalar (`|`, `|-`, `|+`, `>`, with an optional indentation indicator), written as
/// `raw` (header included) at host offset `start`, the value of a block collection indented
/// `parent` columns (0 when it is in none): its value, anchors at each line, its indentation,
/// and whether it is literal (`|`).
pub fn decode(
    raw: &[u8],
    start: usize,
    parent: usize,
) -> (String, Vec<(usize, usize)>, String, bool) {
    let header_end = raw.iter().position(|&b| b == b'\n').unwrap_or(raw.len());
    let header = String::from_utf8_lossy(raw.get(..header_end).unwrap_or_default()).into_owned();
    let literal = header.trim_start().starts_with('|');
    let explicit = stated_indent(header.trim_start().as_bytes(), parent);
    let body_start = (header_end + 1).min(raw.len());
    let body = raw.get(body_start..).unwrap_or_default();
    let lines: Vec<&[u8]> = body.split(|&b| b == b'\n').collect();
    let indent_len = explicit.unwrap_or_else(|| {
        lines
            .iter()
            .find(|l| !l.iter().all(|b| b.is_ascii_whitespace()))
            .map_or(0, |l| l.iter().take_while(|b| **b == b' ').count())
    });
    let indent: String = " ".repeat(indent_len);
    // Each line's content, after the block's indentation.
    let contents: Vec<(usize, &[u8])> = lines
        .iter()
        .map(|line| {
            let skip = line
                .iter()
                .take(indent_len)
                .take_while(|b| **b == b' ')
                .count();
            (skip, line.get(skip..).unwrap_or_default())
        })
        .collect();
    let empty = |k: usize| {
        contents
            .get(k)
            .is_none_or(|(_, c)| c.iter().all(|b| matches!(b, b' ' | b'\r')))
    };
    // A line more indented than the block (its content starts with a blank): its line breaks
    // are kept in a folded block.
    let spaced = |k: usize| {
        !empty(k)
            && contents
                .get(k)
                .is_some_and(|(_, c)| c.starts_with(b" ") || c.starts_with(b"\t"))
    };
    let mut out = String::new();
    let mut anchors = Vec::new();
    let mut offset = start + body_start;
    for (i, (line, &(skip, content))) in lines.iter().zip(&contents).enumerate() {
        if i > 0 {
            out.push_str(separator(literal, i, &empty, &spaced, lines.len()));
        }
        anchors.push((out.len(), offset + skip));
        let mut at = 0;
        while at < content.len() {
            at += super::push_char(&mut out, &mut anchors, content, at, offset + skip + at);
        }
        offset += line.len() + 1;
    }
    (out, anchors, indent, literal)
}

/// A folded block's value as YAML chomps it, for a fix that rewrites the block whole as a
/// flow scalar: `raw` is the block (header included) as the parser spans it, `following` the
/// host text after it, and `text`/`anchors` what [`decode`] read. The parser ends a block at its
/// last line of text in the middle of a file but after its trailing line breaks at the end of
/// one, so the decoded text ends with whatever breaks the span held. Returns the value with its
/// final line breaks as the header's chomping indicator says (`-` none, `+` every trailing
/// break, else one when the text is followed by one), its anchors (the breaks it adds anchored
/// on the text's last byte), and the length of `raw` up to the end of the text, which is the span
/// the rewrite replaces: the line breaks after it stay in the file.
pub fn chomp_folded(
    raw: &[u8],
    following: &[u8],
    text: &str,
    anchors: &[(usize, usize)],
) -> (String, Vec<(usize, usize)>, usize) {
    let header_end = raw.iter().position(|&b| b == b'\n').unwrap_or(raw.len());
    let header = raw.get(..header_end).unwrap_or_default().trim_ascii();
    let strip = header.contains(&b'-');
    let keep = header.contains(&b'+');
    // The end of the last line that holds text (its trailing blanks dropped).
    let body = raw.get(header_end..).unwrap_or_default();
    let text_len = body.trim_ascii_end().len();
    if text_len == 0 {
        return (text.to_owned(), anchors.to_vec(), raw.len());
    }
    let content_end = header_end + text_len;
    // The line breaks after the text: in the span, then in the blank lines that follow it.
    let tail = raw
        .get(content_end..)
        .unwrap_or_default()
        .iter()
        .chain(following.iter().take_while(|b| b.is_ascii_whitespace()));
    let breaks = tail.filter(|b| **b == b'\n').count();
    let breaks = if strip {
        0
    } else if keep {
        breaks
    } else {
        breaks.min(1)
    };
    let kept = text.trim_end_matches(|c: char| c.is_ascii_whitespace());
    let host_end = anchors
        .iter()
        .rev()
        .find(|(f, _)| *f < kept.len())
        .map_or(0, |&(f, o)| o + (kept.len() - f));
    let mut out_anchors: Vec<(usize, usize)> = anchors
        .iter()
        .copied()
        .filter(|(f, _)| *f < kept.len())
        .collect();
    let mut out = kept.to_owned();
    // The breaks it adds are outside the span: each is anchored on the text's last byte.
    for _ in 0..breaks {
        out_anchors.push((out.len(), host_end.saturating_sub(1)));
        out.push('\n');
    }
    (out, out_anchors, content_end)
}

/// What the line break before line `i` (of `count`) of a block reads as. In a literal block, a
/// line break. In a folded one, as YAML folds: between two lines of text, a space; before the
/// empty lines between two lines of text, nothing (each empty line is a line break); next to a
/// line more indented than the block, or an empty line, a line break.
fn separator(
    literal: bool,
    i: usize,
    empty: &dyn Fn(usize) -> bool,
    spaced: &dyn Fn(usize) -> bool,
    count: usize,
) -> &'static str {
    let before = i - 1;
    if literal || empty(before) || spaced(before) {
        return "\n";
    }
    if !empty(i) {
        return if spaced(i) { "\n" } else { " " };
    }
    // Line `i` starts a run of empty lines: the break is dropped when text that is not more
    // indented follows the run.
    match (i..count).find(|&k| !empty(k)) {
        Some(next) if !spaced(next) => "",
        _ => "\n",
    }
}

/// Writes `text` where it is inserted in a literal block (`Quoting::YamlBlock`): every line
/// break inside it, and one it ends with, is followed by the block's `indent`.
pub fn encode(text: &str, indent: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut lines = text.split_inclusive('\n').peekable();
    while let Some(line) = lines.next() {
        out.push_str(line);
        if line.ends_with('\n') && (lines.peek().is_some() || text.ends_with('\n')) {
            out.push_str(indent);
        }
    }
    out
}

/// Writes a whole host as the content of a literal block (`Codec::YamlBlock`), from the first
/// line's content on: lines end with `eol`, and each one after the first that is not empty
/// starts with `indent`. `None` when the host is not text.
pub fn encode_content(decoded: &[u8], indent: &str, eol: &str) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(decoded).ok()?;
    let mut out = String::with_capacity(text.len() + 64);
    let mut lines = text.split_inclusive('\n').peekable();
    while let Some(line) = lines.next() {
        let body = line.trim_end_matches('\n').trim_end_matches('\r');
        out.push_str(body);
        if line.ends_with('\n') {
            out.push_str(eol);
            if lines
                .peek()
                .is_some_and(|next| !next.trim_end_matches(['\n', '\r']).is_empty())
            {
                out.push_str(indent);
            }
        }
    }
    Some(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::fragment::properties::anchors_inside;
    use crate::fragment::HostSpan;

    /// The header of a literal block whose content is indented `indent` columns.
    fn literal_header(indent: usize) -> String {
        format!("|{indent}\n")
    }

    /// Text made of lines: words, blanks (leading ones included), empty lines.
    fn lines() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            proptest::sample::select(
                &[
                    "curl x",
                    "  if a; then",
                    "\tb",
                    "",
                    "é $T",
                    "  ",
                    "#c",
                    "x:y",
                    "'\"\\",
                ][..],
            ),
            0..6,
        )
        .prop_flat_map(|lines| {
            let text = lines.join("\n");
            proptest::sample::select(vec![text.clone(), format!("{text}\n")])
        })
    }

    /// A block scalar as written: a header of any kind, lines at assorted indentations (some
    /// blank, some with blanks only), line endings of both kinds, maybe no final break.
    fn block() -> impl Strategy<Value = String> {
        (
            proptest::sample::select(&["|", "|-", "|+", ">", ">-", "|2", ">1", "| # c", ""][..]),
            proptest::collection::vec((0usize..6, lines(), any::<bool>()), 0..5),
        )
            .prop_map(|(header, lines)| {
                let mut out = format!("{header}\n");
                for (indent, line, crlf) in lines {
                    let line = line.replace('\n', " ");
                    out.push_str(&format!(
                        "{}{line}{}\n",
                        " ".repeat(indent),
                        if crlf { "\r" } else { "" }
                    ));
                }
                out
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Text inserted at the start of a literal block's line reads back as itself.
        #[test]
        fn round_trip(text in lines(), indent in 1usize..9, start in 0usize..64) {
            let margin = " ".repeat(indent);
            let raw = format!("{}{margin}{}", literal_header(indent), encode(&text, &margin));
            let (decoded, _, _, literal) = decode(raw.as_bytes(), start, 0);
            prop_assert!(literal);
            prop_assert_eq!(decoded, text);
        }

        /// A host written as a block's content reads back as itself, its line breaks written
        /// with the block's `eol`; and the decoder keeps what it reads as written, so writing
        /// it again gives the same content.
        #[test]
        fn content_round_trip(
            text in lines(),
            indent in 1usize..9,
            crlf in any::<bool>(),
            start in 0usize..64,
        ) {
            let eol = if crlf { "\r\n" } else { "\n" };
            let margin = " ".repeat(indent);
            let content = String::from_utf8(encode_content(text.as_bytes(), &margin, eol).unwrap()).unwrap();
            let raw = format!("{}{margin}{content}", literal_header(indent));
            let (decoded, _, _, _) = decode(raw.as_bytes(), start, 0);
            prop_assert_eq!(&decoded, &text.replace('\n', eol));
            let again = encode_content(decoded.as_bytes(), &margin, eol).unwrap();
            prop_assert_eq!(String::from_utf8(again).unwrap(), content);
        }

        /// Every span of a block's value maps inside the block.
        #[test]
        fn spans_map_inside_the_block(raw in block(), start in 0usize..64) {
            let (decoded, anchors, _, _) = decode(raw.as_bytes(), start, 0);
            let host = HostSpan::new(start, start + raw.len());
            prop_assert_eq!(anchors_inside(&anchors, decoded.len(), host), Ok(()));
        }
    }

    /// Folded blocks fold as PyYAML folds them (header `>` at column 0, content at 1).
    #[test]
    fn folded_blocks_fold_as_yaml_does() {
        for (body, value) in [
            (" a\n\n b\n", "a\nb\n"),
            (" a\n  b\n c\n", "a\n b\nc\n"),
            (" a\n\n  b\n", "a\n\n b\n"),
            ("\n a\n b\n\n\n c\n", "\na b\n\nc\n"),
            (" a\n \n b\n", "a\nb\n"),
        ] {
            let raw = format!(">\n{body}");
            let (decoded, anchors, _, literal) = decode(raw.as_bytes(), 0, 0);
            assert!(!literal);
            assert_eq!(decoded, value, "{raw:?}");
            let host = HostSpan::new(0, raw.len());
            assert_eq!(anchors_inside(&anchors, decoded.len(), host), Ok(()));
        }
    }

    /// A folded block rewritten whole has the value PyYAML reads, final line breaks as its
    /// chomping says, and spans up to its last text only, wherever the parser ends it (after
    /// its line breaks at the end of a file, at its text before another key).
    #[test]
    fn folded_blocks_chomp_as_yaml_does() {
        for (raw, following, value) in [
            (">\n a\n b\n", "", "a b\n"),
            (">\n a\n b", "", "a b"),
            (">-\n a\n b\n", "", "a b"),
            (">+\n a\n b\n\n\n", "", "a b\n\n\n"),
            (">\n a\n b\n\n\n", "", "a b\n"),
            (">\n a\n b", "\nc: d\n", "a b\n"),
            (">-\n a\n b", "\nc: d\n", "a b"),
            (">+\n a\n b", "\n\n\nc: d\n", "a b\n\n\n"),
            (">+\n a\n b", "\n \n# c\n", "a b\n\n"),
            (">2-\n   a\r\n", "", " a"),
        ] {
            let (text, anchors, _, _) = decode(raw.as_bytes(), 0, 0);
            let (chomped, anchors, end) =
                chomp_folded(raw.as_bytes(), following.as_bytes(), &text, &anchors);
            assert_eq!(chomped, value, "{raw:?} then {following:?}");
            assert_eq!(raw[..end].trim_end(), &raw[..end], "{raw:?}");
            assert!(raw[end..].trim().is_empty(), "{raw:?}");
            let host = HostSpan::new(0, end);
            assert_eq!(
                anchors_inside(&anchors, chomped.len(), host),
                Ok(()),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn yaml_block_lines_keep_the_indent() {
        let q = crate::fragment::Quoting::YamlBlock {
            indent: "      ".to_owned(),
        };
        assert_eq!(q.encode("T=$(x)\n"), "T=$(x)\n      ");
        assert_eq!(q.encode("a\nb"), "a\n      b");
    }
}
