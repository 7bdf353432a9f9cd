//! Make: the shell code of a recipe line and of a `$(shell …)` (or `VAR != …`) argument, as GNU
//! Make hands it to the shell. Make expands the text first: `$$` is a literal `$`, and every other
//! `$` starts a reference (`$(NAME)`, `${NAME}`, `$X`, a function call) that Make replaces with
//! its value. A reference to a variable the front end knows (a literal value assigned once in the
//! file) becomes `${NAME}`, which the shell reads through the fragment's environment; any other
//! becomes a same-length placeholder word. Line continuations are what Make does with them
//! ("Splitting Recipe Lines" in the GNU Make manual): in a recipe the backslash and the newline
//! both reach the shell, and the recipe prefix (a tab) that starts the next line is removed; on
//! any other line (a variable assignment, a conditional) the backslash, the newline and the
//! blanks after it are one space, and `\#` is a `#`. Text inserted into the shell code is written
//! back with each `$` doubled, so Make passes it through, and each line break joined into the one
//! line that Make gives one shell, unless the rule's recipe runs in one shell (`.ONESHELL:`),
//! where it is a new recipe line.

/// Where the shell code sits, which decides how Make reads its lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// In a recipe: a continuation keeps its backslash and newline, and loses the tab after.
    Recipe,
    /// On any other line of the makefile: a continuation is one space; `\#` is `#`.
    Directive,
}

/// How text inserted into the shell code is written in the makefile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    /// A recipe line (each one its own shell) or a `$(shell …)` in a recipe: a line break joins
    /// the next command to this line (`; `).
    Line,
    /// A recipe run in one shell (`.ONESHELL:`): a line break starts a new recipe line.
    OneShell,
    /// A `$(shell …)` on a makefile line outside recipes: a line break joins (`; `) and a `#`,
    /// which would start a comment, is written `\#`.
    Directive,
}

/// Shell code decoded from a makefile, with anchors from text offsets to host offsets.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub text: Vec<u8>,
    pub anchors: Vec<(usize, usize)>,
}

impl Decoded {
    /// Appends `piece`, whose first byte is host offset `at` (later bytes follow it).
    fn push(&mut self, piece: &[u8], at: usize) {
        let f = self.text.len();
        let continuous = self
            .anchors
            .last()
            .is_some_and(|&(af, ah)| ah + (f - af) == at);
        if !continuous {
            self.anchors.push((f, at));
        }
        self.text.extend_from_slice(piece);
    }

    /// Appends `piece` decoded from host bytes `at..end` (shorter than them): anchored at the
    /// first, and what follows where they end (see `OffsetMap::span_to_host`).
    fn push_escape(&mut self, piece: &[u8], at: usize, end: usize) {
        self.anchors.push((self.text.len(), at));
        self.text.extend_from_slice(piece);
        self.anchors.push((self.text.len(), end));
    }

    /// Appends a line break that stands for host offset `at` (between the lines of a recipe
    /// run in one shell).
    pub fn push_line_break(&mut self, at: usize) {
        self.push_escape(b"\n", at, at + 1);
    }

    /// Decodes host bytes `start..end` of `bytes` and appends them. `known` says whether a
    /// variable name has a value the shell can read as `${NAME}`.
    pub fn decode(
        &mut self,
        bytes: &[u8],
        start: usize,
        end: usize,
        context: Context,
        known: &dyn Fn(&[u8]) -> bool,
    ) {
        let end = end.min(bytes.len());
        let mut at = start;
        while at < end {
            let Some(&b) = bytes.get(at) else {
                break;
            };
            let next = bytes.get(at + 1).copied().filter(|_| at + 1 < end);
            match (b, next) {
                (b'$', Some(b'$')) => {
                    self.push_escape(b"$", at, at + 2);
                    at += 2;
                }
                (b'$', Some(open @ (b'(' | b'{'))) => {
                    let close = if open == b'(' { b')' } else { b'}' };
                    let stop = reference_end(bytes, at + 2, end, open, close);
                    let name = bytes
                        .get(at + 2..stop.saturating_sub(1))
                        .unwrap_or_default();
                    if stop <= end
                        && bytes.get(stop - 1) == Some(&close)
                        && is_name(name)
                        && known(name)
                    {
                        let mut piece = Vec::with_capacity(name.len() + 3);
                        piece.extend_from_slice(b"${");
                        piece.extend_from_slice(name);
                        piece.push(b'}');
                        self.push(&piece, at);
                    } else {
                        self.push(&vec![b'X'; stop - at], at);
                    }
                    at = stop;
                }
                (b'$', Some(_)) => {
                    let width = crate::fragment::utf8_len(next.unwrap_or(0)) + 1;
                    let stop = (at + width).min(end);
                    self.push(&vec![b'X'; stop - at], at);
                    at = stop;
                }
                (b'\\', Some(b'\n')) | (b'\\', Some(b'\r'))
                    if next == Some(b'\n')
                        || (at + 2 < end && bytes.get(at + 2) == Some(&b'\n')) =>
                {
                    let newline = if next == Some(b'\n') { at + 1 } else { at + 2 };
                    match context {
                        Context::Recipe => {
                            self.push(bytes.get(at..=newline).unwrap_or_default(), at);
                            at = newline + 1;
                            if at < end && bytes.get(at) == Some(&b'\t') {
                                at += 1;
                            }
                        }
                        Context::Directive => {
                            let blanks = bytes
                                .get(newline + 1..end)
                                .unwrap_or_default()
                                .iter()
                                .take_while(|c| **c == b' ' || **c == b'\t')
                                .count();
                            self.push_escape(b" ", at, newline + 1 + blanks);
                            at = newline + 1 + blanks;
                        }
                    }
                }
                (b'\\', Some(b'#')) if context == Context::Directive => {
                    self.push_escape(b"#", at, at + 2);
                    at += 2;
                }
                _ => {
                    self.push(&[b], at);
                    at += 1;
                }
            }
        }
        if self.anchors.is_empty() {
            self.anchors.push((0, start));
        }
    }
}

/// Where a reference opened by `open` at `from` (just after it) ends: after the `close` that
/// matches it (Make counts only delimiters of its own kind), or at `end` when none does.
pub fn reference_end(bytes: &[u8], from: usize, end: usize, open: u8, close: u8) -> usize {
    let mut depth = 1usize;
    for (i, &b) in bytes.iter().enumerate().take(end).skip(from) {
        if b == open {
            depth += 1;
        } else if b == close {
            depth -= 1;
            if depth == 0 {
                return i + 1;
            }
        }
    }
    end
}

/// Whether `name` is a name both Make and the shell read as one variable.
pub fn is_name(name: &[u8]) -> bool {
    name.first()
        .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
        && name.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
}

/// Writes `text` where it is inserted in shell code of a makefile (`Quoting::Make`): each `$`
/// doubled; a line break as `layer` says.
pub fn encode(text: &str, layer: Layer) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let width = c.len_utf8();
        match c {
            '$' => out.push_str("$$"),
            '#' if layer == Layer::Directive => out.push_str("\\#"),
            '\r' if rest.get(1..2) == Some("\n") => {}
            '\n' => match layer {
                Layer::OneShell => {
                    if text.contains("\r\n") {
                        out.push('\r');
                    }
                    out.push_str("\n\t");
                }
                Layer::Line | Layer::Directive => {
                    // `a\n` inserted before `b` is `a; b`; a line break that already follows a
                    // `;` or ends a line with nothing after it is one blank.
                    let trimmed = out.trim_end_matches([' ', '\t']).len();
                    out.truncate(trimmed);
                    if !out.is_empty() && !out.ends_with(';') {
                        out.push(';');
                    }
                    out.push(' ');
                }
            },
            _ => out.push(c),
        }
        rest = rest.get(width..).unwrap_or_default();
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::fragment::properties;
    use crate::fragment::HostSpan;

    fn none(_: &[u8]) -> bool {
        false
    }

    fn decode(host: &str, context: Context) -> Decoded {
        let mut out = Decoded::default();
        out.decode(host.as_bytes(), 0, host.len(), context, &none);
        out
    }

    fn text(d: &Decoded) -> String {
        String::from_utf8(d.text.clone()).unwrap()
    }

    #[test]
    fn make_expands_before_the_shell_reads() {
        let d = decode(
            "T=$$(curl -X PUT $(URL)) && echo $$T $@ ${X}",
            Context::Recipe,
        );
        assert_eq!(text(&d), "T=$(curl -X PUT XXXXXX) && echo $T XX XXXX");
        // Nested references are one placeholder.
        let d = decode("a $(subst x,y,$(Z)) b", Context::Recipe);
        assert_eq!(text(&d), "a XXXXXXXXXXXXXXXXX b");
        // A known variable is the shell's, same length.
        let mut d = Decoded::default();
        let host = "curl $(IMDS)/latest";
        d.decode(host.as_bytes(), 0, host.len(), Context::Recipe, &|n| {
            n == b"IMDS"
        });
        assert_eq!(text(&d), "curl ${IMDS}/latest");
    }

    #[test]
    fn continuations_as_make_passes_them() {
        // In a recipe the shell gets the backslash and newline; the tab after is Make's.
        let d = decode("curl \\\n\t  -s x", Context::Recipe);
        assert_eq!(text(&d), "curl \\\n  -s x");
        let map = crate::fragment::OffsetMap::from_anchors(d.anchors.clone());
        assert_eq!(map.to_host(crate::fragment::FragmentOffset(7)).0, 8);
        // Elsewhere it is one space.
        let d = decode("curl \\\n    -s \\# x", Context::Directive);
        assert_eq!(text(&d), "curl  -s # x");
    }

    #[test]
    fn inserted_text_is_written_for_make() {
        assert_eq!(encode("T=$(curl x)\n", Layer::Line), "T=$$(curl x); ");
        assert_eq!(encode(" -H \"a: $T\"", Layer::Line), " -H \"a: $$T\"");
        assert_eq!(encode("T=$(x)\n", Layer::OneShell), "T=$$(x)\n\t");
        assert_eq!(encode("T=$(x) # c\n", Layer::Directive), "T=$$(x) \\# c; ");
    }

    /// How Make cuts a recipe into lines: at each newline not escaped by a backslash. Each
    /// line's recipe prefix is left to the decoder (continuation lines) or cut here (first).
    fn recipe_lines(recipe: &str) -> Vec<(usize, usize)> {
        let bytes = recipe.as_bytes();
        let mut lines = Vec::new();
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'\n' && (i == 0 || bytes[i - 1] != b'\\') {
                lines.push((start, i));
                start = i + 1;
            }
        }
        lines.push((start, bytes.len()));
        lines
            .into_iter()
            .map(|(s, e)| {
                (
                    if bytes.get(s) == Some(&b'\t') {
                        s + 1
                    } else {
                        s
                    },
                    e,
                )
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Text without line breaks inserted into a recipe line decodes to itself.
        #[test]
        fn round_trip_line(text in properties::text()) {
            let text = text.replace(['\n', '\r'], " ");
            let host = encode(&text, Layer::Line);
            let d = decode(&host, Context::Recipe);
            prop_assert_eq!(String::from_utf8_lossy(&d.text), text);
        }

        /// Lines inserted before a command of a recipe line run in the same shell, before it.
        #[test]
        fn round_trip_lines(lines in proptest::collection::vec("[a-z$=() ]{1,10}", 1..4)) {
            let lines: Vec<String> = lines.into_iter().filter(|l| !l.trim().is_empty()).collect();
            let inserted: String = lines.iter().map(|l| format!("{l}\n")).collect();
            let host = format!("{}curl z", encode(&inserted, Layer::Line));
            let d = decode(&host, Context::Recipe);
            let expected: String = lines.iter().map(|l| format!("{}; ", l.trim_end())).collect();
            prop_assert_eq!(String::from_utf8_lossy(&d.text), format!("{expected}curl z"));
            prop_assert!(!host.contains('\n'));
        }

        /// In a recipe run in one shell, inserted lines are recipe lines: joined again as Make
        /// joins them, they are the text.
        #[test]
        fn round_trip_one_shell(text in properties::text()) {
            let text = text.replace('\r', " ");
            prop_assume!(!text.contains("\\\n"));
            let host = format!("\t{}", encode(&text, Layer::OneShell));
            let mut d = Decoded::default();
            for (k, (s, e)) in recipe_lines(&host).into_iter().enumerate() {
                if k > 0 {
                    d.push_line_break(s.saturating_sub(2));
                }
                d.decode(host.as_bytes(), s, e, Context::Recipe, &none);
            }
            prop_assert_eq!(String::from_utf8_lossy(&d.text), text);
        }

        /// Outside recipes: one line, `#` escaped, `$` doubled.
        #[test]
        fn round_trip_directive(text in properties::text()) {
            let text = text.replace(['\n', '\r'], " ");
            prop_assume!(!text.ends_with('\\'));
            let host = encode(&text, Layer::Directive);
            let d = decode(&host, Context::Directive);
            prop_assert_eq!(String::from_utf8_lossy(&d.text), text);
        }

        /// Every span of decoded text maps inside the bytes it was decoded from.
        #[test]
        fn spans_inside_the_host(text in properties::text(), recipe in any::<bool>()) {
            let host = format!("x: {text}\n");
            let (start, end) = (3, 3 + text.len());
            let context = if recipe { Context::Recipe } else { Context::Directive };
            let mut d = Decoded::default();
            d.decode(host.as_bytes(), start, end, context, &|n| n.len() == 1);
            properties::anchors_inside(&d.anchors, d.text.len(), HostSpan::new(start, end))
                .map_err(TestCaseError::fail)?;
        }
    }
}
