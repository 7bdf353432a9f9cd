//! Dockerfile instruction lines: the escape character (a backslash, or a backtick by the
//! `# escape=` directive), line continuations, and the comment lines inside a continued
//! instruction, which Docker drops. Decoding keeps every byte in place (a comment line becomes
//! blanks and a continuation; a backtick continuation becomes the shell's backslash), so the
//! offset map is the identity. Text inserted into an instruction in shell form is written as more
//! continued lines.

/// The escape character from a `# escape=` parser directive at the top of the file.
pub fn escape_char(bytes: &[u8]) -> char {
    for line in bytes.split(|&b| b == b'\n') {
        let line = String::from_utf8_lossy(line);
        let trimmed = line.trim();
        let Some(directive) = trimmed.strip_prefix('#') else {
            break;
        };
        let directive = directive.trim();
        if let Some(value) = directive
            .strip_prefix("escape")
            .map(str::trim_start)
            .and_then(|rest| rest.strip_prefix('='))
        {
            if value.trim() == "`" {
                return '`';
            }
            return '\\';
        }
        if !directive.contains('=') {
            break;
        }
    }
    '\\'
}

/// Docker drops comment lines inside a continued instruction before reading it; the grammar does
/// not (it fails on one inside an exec-form array). Each such line becomes blanks and a line
/// continuation, so every offset stays where it was. A trailing shell comment on an instruction
/// line (`RUN echo "a" # note`) is blanked too: the grammar would read the next instruction into
/// this one, and the shell ignores it anyway.
pub fn blank_inner_comments(bytes: &[u8], escape: char) -> Vec<u8> {
    const SHELL_INSTRUCTIONS: &[&str] = &["RUN", "CMD", "ENTRYPOINT", "HEALTHCHECK", "ONBUILD"];
    let mut out = bytes.to_vec();
    let mut continued = false;
    let mut start = 0;
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        let end = start + line.len();
        let content_len = line
            .strip_suffix(b"\n")
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
            .unwrap_or(line)
            .len();
        let content = line.get(..content_len).unwrap_or_default();
        let indent = content
            .iter()
            .take_while(|b| **b == b' ' || **b == b'\t')
            .count();
        let is_comment = content.get(indent) == Some(&b'#');
        if continued && is_comment && content_len > 0 {
            for (i, b) in out.iter_mut().skip(start).take(content_len).enumerate() {
                *b = if i + 1 == content_len {
                    escape as u8
                } else {
                    b' '
                };
            }
            start = end;
            continue;
        }
        let last = content.iter().rev().find(|b| !b.is_ascii_whitespace());
        let continues = last == Some(&(escape as u8));
        let keyword = String::from_utf8_lossy(content.get(indent..).unwrap_or_default())
            .split_whitespace()
            .next()
            .map(str::to_ascii_uppercase)
            .unwrap_or_default();
        let shell_line = continued || SHELL_INSTRUCTIONS.contains(&keyword.as_str());
        if shell_line && !continues && !is_comment {
            if let Some(at) = trailing_comment(content) {
                for b in out.iter_mut().skip(start + at).take(content_len - at) {
                    *b = b' ';
                }
            }
        }
        continued = continues;
        start = end;
    }
    out
}

/// Where a shell comment starts on a line: a `#` after a blank, outside quotes.
fn trailing_comment(line: &[u8]) -> Option<usize> {
    let mut quote: Option<u8> = None;
    let mut escaped = false;
    for (i, &b) in line.iter().enumerate() {
        if escaped {
            escaped = false;
            continue;
        }
        match (quote, b) {
            (Some(b'\''), b'\'') => quote = None,
            (Some(b'\''), _) => {}
            (_, b'\\') => escaped = true,
            (Some(b'"'), b'"') => quote = None,
            (Some(_), _) => {}
            (None, b'\'' | b'"') => quote = Some(b),
            (None, b'#') if i > 0 && line.get(i - 1).is_some_and(|p| *p == b' ' || *p == b'\t') => {
                return Some(i)
            }
            _ => {}
        }
    }
    None
}

/// The indentation of the instruction's continuation lines (four spaces if it has none).
pub fn continuation_indent(text: &[u8]) -> String {
    // Blanked comment lines (blanks and a continuation) say nothing about the indentation.
    text.split(|&b| b == b'\n')
        .skip(1)
        .find(|line| {
            line.iter()
                .any(|b| !b.is_ascii_whitespace() && *b != b'\\' && *b != b'`')
        })
        .map(|line| {
            line.iter()
                .take_while(|b| **b == b' ' || **b == b'\t')
                .map(|&b| b as char)
                .collect::<String>()
        })
        .filter(|indent| !indent.is_empty())
        .unwrap_or_else(|| "    ".to_owned())
}

/// Turns the line continuations of a file whose escape character is a backtick into the shell's
/// backslash (one byte for one, so offsets stay); a backslash file's text is left as it is.
pub fn as_shell_continuations(text: &mut [u8], escape: char) {
    if escape == '`' {
        for i in 0..text.len().saturating_sub(1) {
            if text.get(i) == Some(&b'`') && matches!(text.get(i + 1), Some(b'\n') | Some(b'\r')) {
                if let Some(b) = text.get_mut(i) {
                    *b = b'\\';
                }
            }
        }
    }
}

/// Writes `text` where it is inserted in an instruction in shell form
/// (`Quoting::DockerfileShell`): a new line ends the instruction, so an inserted line break
/// becomes `; <escape><eol>` followed by `indent`.
pub fn encode(text: &str, escape: char, indent: &str, eol: &str) -> String {
    // `A\n` inserted before B becomes `A; \` + newline, then B. Inserted at the start of the
    // instruction, B would start its line unindented: the continuation indent goes before it. A
    // line inserted before an indented line carries that line's indentation itself (it starts
    // with blanks), and B keeps its own.
    let before_indented_line = text.starts_with([' ', '\t']);
    let mut out = String::with_capacity(text.len() + 8);
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if i > 0 && !before_indented_line {
            out.push_str(indent);
        }
        match line.strip_suffix('\n') {
            Some(body) => {
                let body = body.strip_suffix('\r').unwrap_or(body);
                out.push_str(body);
                out.push_str("; ");
                out.push(escape);
                out.push_str(eol);
            }
            None => out.push_str(line),
        }
    }
    if text.ends_with('\n') && !before_indented_line {
        out.push_str(indent);
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// How Docker reads an instruction's lines: each escape character that ends a line joins it
    /// with the next.
    fn join(text: &str, escape: char) -> String {
        text.replace(&format!("{escape}\r\n"), "")
            .replace(&format!("{escape}\n"), "")
    }

    /// The commands the bash grammar reads in `script` at its top level, or `None` when it
    /// reads an error.
    fn commands(script: &str) -> Option<usize> {
        let tree = crate::syntax::parse(crate::syntax::Grammar::Bash, script.as_bytes()).ok()?;
        let root = tree.root_node();
        if root.has_error() {
            return None;
        }
        let mut cursor = root.walk();
        let count = root
            .named_children(&mut cursor)
            .filter(|n| n.kind() != "comment")
            .count();
        Some(count)
    }

    /// Lines a fix could insert, and some it never does.
    const LINES: &[&str] = &[
        "curl x",
        "T=$(curl -X PUT y)",
        "a && b",
        "echo \"q\" 'r'",
        "f() { g; }",
        "",
        "# note",
        "x \\",
    ];

    /// Lines the encoder cannot write as continued lines (see `round_trip`).
    fn beyond_the_encoder(line: &str, escape: char) -> bool {
        line.is_empty() || line.starts_with('#') || line.ends_with(escape) || line.ends_with('\\')
    }

    fn dockerfile() -> impl Strategy<Value = (Vec<&'static str>, char, &'static str, String)> {
        (
            proptest::collection::vec(proptest::sample::select(LINES), 1..5),
            proptest::sample::select(&['\\', '`'][..]),
            proptest::sample::select(&["\n", "\r\n"][..]),
            "[ \t]{1,6}",
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Lines inserted at the start of an instruction are what Docker then runs: joined, the
        /// instruction is the lines separated by `;` (and the continuation indent), each a
        /// command the shell reads on its own, then the instruction's own command.
        ///
        /// Known limits (left out, not fixed; no fix writes such lines): an empty line becomes
        /// a `;` with no command before it, a syntax error; a comment line is dropped by Docker
        /// inside the instruction, or, first, comments out the rest of it; a line ending with
        /// the escape character (or a backslash) escapes the `;` after it.
        #[test]
        fn round_trip((lines, escape, eol, indent) in dockerfile()) {
            prop_assume!(!lines.iter().any(|l| beyond_the_encoder(l, escape)));
            let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
            let written = encode(&text, escape, &indent, eol);
            let host = format!("RUN {written}curl z{eol}");
            // Decoded as the front end does: comment lines blanked, continuations the shell's.
            let mut cleaned = blank_inner_comments(host.as_bytes(), escape);
            as_shell_continuations(&mut cleaned, escape);
            let instruction = String::from_utf8(cleaned).unwrap();
            let shell = join(instruction.strip_prefix("RUN ").unwrap(), '\\');
            let expected: String = lines.iter().map(|l| format!("{l}; {indent}")).collect();
            prop_assert_eq!(shell.trim_end(), format!("{expected}curl z"));
            prop_assert_eq!(commands(&shell), Some(lines.len() + 1), "{:?}", shell);
        }

        /// Text inserted within a line is written as it is.
        #[test]
        fn one_line_is_written_as_it_is(text in "[ -~]{0,20}", escape in proptest::sample::select(&['\\', '`'][..])) {
            prop_assert_eq!(encode(&text, escape, "  ", "\n"), text);
        }

        /// Decoding keeps every byte in place: same length, every line break where it was, and
        /// only comment bytes changed (to blanks and the escape that continues the line).
        #[test]
        fn bytes_stay_in_place((lines, escape, eol, indent) in dockerfile()) {
            let host: String = lines
                .iter()
                .map(|l| format!("RUN {l} {escape}{eol}{indent}# c{eol}{indent}{l} # d{eol}"))
                .collect();
            let mut cleaned = blank_inner_comments(host.as_bytes(), escape);
            prop_assert_eq!(cleaned.len(), host.len());
            for (before, after) in host.bytes().zip(&cleaned) {
                prop_assert!(
                    before == *after
                        || (before != b'\n' && (*after == b' ' || *after == escape as u8)),
                    "{:?} became {:?}",
                    before as char,
                    *after as char
                );
            }
            let length = cleaned.len();
            as_shell_continuations(&mut cleaned, escape);
            prop_assert_eq!(cleaned.len(), length);
            prop_assert!(continuation_indent(host.as_bytes()).bytes().all(|b| b == b' ' || b == b'\t'));
        }
    }

    #[test]
    fn dockerfile_lines_continue_the_instruction() {
        let q = crate::fragment::Quoting::DockerfileShell {
            escape: '\\',
            indent: "    ".to_owned(),
            eol: "\n",
        };
        assert_eq!(q.encode("T=$(x)\n"), "T=$(x); \\\n    ");
        // Before an indented line the inserted line brings its own indentation.
        assert_eq!(q.encode("  T=$(x)\n"), "  T=$(x); \\\n");
        assert_eq!(q.encode(" -H \"a: $T\""), " -H \"a: $T\"");
        let backtick = crate::fragment::Quoting::DockerfileShell {
            escape: '`',
            indent: String::new(),
            eol: "\r\n",
        };
        assert_eq!(backtick.encode("T=1\r\n"), "T=1; `\r\n");
    }
}
