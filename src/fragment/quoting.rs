//! How text inserted into a piece of code must be written in the text around it: one quoting
//! layer per string, here-document or host syntax the code sits in. Shell strings (`sh -c '…'`)
//! are layers the shell analysis adds; host syntaxes (a YAML block scalar, a JSON string, a
//! Dockerfile `RUN`) are layers a front end gives its fragments.

/// One layer of quoting between inserted text and the text around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Quoting {
    /// Inside `'…'`: a `'` is written `'\''`.
    SingleQuoted,
    /// Inside `"…"`: `\`, `"`, `$` and backticks get a backslash.
    DoubleQuoted,
    /// Unquoted shell text: inserted text is already shell text.
    Unquoted,
    /// An unquoted here-document: `\`, `$` and backticks get a backslash.
    UnquotedHeredoc,
    /// A quoted here-document: taken verbatim.
    QuotedHeredoc,
    /// A Dockerfile instruction in shell form: a new line ends the instruction, so an inserted
    /// line break becomes `; <escape><newline>` followed by `indent`.
    DockerfileShell {
        escape: char,
        indent: String,
        eol: &'static str,
    },
    /// A YAML block scalar (`|`): every inserted line break is followed by the block's indent.
    YamlBlock { indent: String },
    /// A YAML double-quoted scalar: `\` and `"` escaped, line breaks as `\n`.
    YamlDoubleQuoted,
    /// A YAML single-quoted scalar: `'` doubled; a line break is written as an empty line.
    YamlSingleQuoted { indent: String, eol: &'static str },
    /// A JSON string: `\`, `"` and control characters escaped.
    JsonString,
}

impl Quoting {
    /// Whether this layer still applies to text inside a here-document nested in it. A
    /// here-document's lines are real lines of the host, not continuations of a Dockerfile
    /// instruction.
    pub fn reaches_heredocs(&self) -> bool {
        !matches!(self, Quoting::DockerfileShell { .. })
    }

    /// Writes `text` so that removing this layer of quoting gives `text` back.
    pub fn encode(&self, text: &str) -> String {
        let escape = |specials: &[char]| {
            let mut out = String::with_capacity(text.len() + 8);
            for c in text.chars() {
                if specials.contains(&c) {
                    out.push('\\');
                }
                out.push(c);
            }
            out
        };
        match self {
            Quoting::SingleQuoted => text.replace('\'', r"'\''"),
            Quoting::DoubleQuoted => escape(&['\\', '"', '$', '`']),
            Quoting::UnquotedHeredoc => escape(&['\\', '$', '`']),
            Quoting::Unquoted | Quoting::QuotedHeredoc => text.to_owned(),
            Quoting::DockerfileShell {
                escape,
                indent,
                eol,
            } => {
                // `A\n` inserted before B becomes `A; \` + newline, then B. Inserted at the start
                // of the instruction, B would start its line unindented: the continuation indent
                // goes before it. A line inserted before an indented line carries that line's
                // indentation itself (it starts with blanks), and B keeps its own.
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
                            out.push(*escape);
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
            Quoting::YamlBlock { indent } => {
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
            Quoting::YamlDoubleQuoted | Quoting::JsonString => {
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
            Quoting::YamlSingleQuoted { indent, eol } => {
                let doubled = text.replace('\'', "''").replace("\r\n", "\n");
                doubled.replace('\n', &format!("{eol}{eol}{indent}"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockerfile_lines_continue_the_instruction() {
        let q = Quoting::DockerfileShell {
            escape: '\\',
            indent: "    ".to_owned(),
            eol: "\n",
        };
        assert_eq!(q.encode("T=$(x)\n"), "T=$(x); \\\n    ");
        // Before an indented line the inserted line brings its own indentation.
        assert_eq!(q.encode("  T=$(x)\n"), "  T=$(x); \\\n");
        assert_eq!(q.encode(" -H \"a: $T\""), " -H \"a: $T\"");
        let backtick = Quoting::DockerfileShell {
            escape: '`',
            indent: String::new(),
            eol: "\r\n",
        };
        assert_eq!(backtick.encode("T=1\r\n"), "T=1; `\r\n");
    }

    #[test]
    fn yaml_block_lines_keep_the_indent() {
        let q = Quoting::YamlBlock {
            indent: "      ".to_owned(),
        };
        assert_eq!(q.encode("T=$(x)\n"), "T=$(x)\n      ");
        assert_eq!(q.encode("a\nb"), "a\n      b");
    }

    #[test]
    fn json_and_yaml_strings() {
        assert_eq!(
            Quoting::JsonString.encode("-H \"a: $T\"\n"),
            "-H \\\"a: $T\\\"\\n"
        );
        assert_eq!(
            Quoting::YamlSingleQuoted {
                indent: "  ".to_owned(),
                eol: "\n"
            }
            .encode("it's\n"),
            "it''s\n\n  "
        );
    }
}
