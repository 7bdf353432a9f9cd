//! Which parts of a Terraform file are worth parsing. tree-sitter-hcl reads about 1.5 MB/s, and
//! an infrastructure repository holds megabytes of HCL in which only a few resources carry
//! instance settings or scripts (kOps' generated `kubernetes.tf` files are mostly security group
//! rules, routes and IAM policies). A lexical pass finds the top-level items of the file
//! (blocks and attributes, skipping strings, heredocs and comments) without building a tree;
//! the parser is then given only the items that may matter ([`worth_parsing`]), as included
//! ranges, so every node keeps its offset in the file.
//!
//! Whenever the pass is unsure of the file's shape (an unclosed string, heredoc, comment or
//! bracket, a closing bracket with no opening one), the whole file is parsed, as before.

use std::ops::Range;

use super::settings::{CONTAINER_USERS, RESOURCES};
use super::user_data::ATTRIBUTES;
use super::DOCUMENTS;

/// Words that make a resource of another type (or an `output`) worth parsing: its scripts, its
/// settings or the endpoint. A launch template named by a resource of another type is not among
/// them: only the types of `CONTAINER_USERS` are read for the templates they use (kOps' 158
/// autoscaling groups, a fifth of its HCL, name one each).
const NEEDLES: &[&[u8]] = &[b"metadata_options", b"169.254.169.254", b"fd00:ec2::254"];

/// The byte ranges to parse, in order, or `None` for the whole file (every item matters, or the
/// file's shape is not clear to the lexical pass).
pub(super) fn parse_ranges(bytes: &[u8]) -> Option<Vec<Range<usize>>> {
    let items = items(bytes)?;
    let kept: Vec<Range<usize>> = items
        .iter()
        .filter(|item| worth_parsing(bytes.get((*item).clone()).unwrap_or_default()))
        .cloned()
        .collect();
    (kept.len() < items.len()).then_some(kept)
}

/// Whether a top-level item may hold what the Terraform front end reads: every item but an
/// `output` and a `resource` of a type that has no instance settings, does not run containers on
/// a launch template and holds no document, when either names neither user data, settings nor
/// the endpoint. Nothing reads an output's value (kOps' generated files hold 1,385 of them).
fn worth_parsing(item: &[u8]) -> bool {
    let mut words = item
        .split(|b| b.is_ascii_whitespace() || *b == b'{')
        .filter(|w| !w.is_empty());
    let known = match words.next() {
        Some(b"resource") => {
            let kind = words
                .next()
                .map(|w| w.strip_prefix(b"\"").unwrap_or(w))
                .map(|w| w.strip_suffix(b"\"").unwrap_or(w))
                .unwrap_or_default();
            RESOURCES
                .iter()
                .chain(CONTAINER_USERS)
                .chain(DOCUMENTS.iter().map(|(kind, _)| kind))
                .any(|k| k.as_bytes() == kind)
        }
        Some(b"output") => false,
        _ => return true,
    };
    // Without the automaton (it cannot fail to build for these words), everything matters.
    known || needles().is_none_or(|n| n.is_match(item))
}

/// [`NEEDLES`] and the user data arguments, as one automaton.
fn needles() -> Option<&'static aho_corasick::AhoCorasick> {
    static NEEDLES_AND_ARGUMENTS: std::sync::OnceLock<Option<aho_corasick::AhoCorasick>> =
        std::sync::OnceLock::new();
    NEEDLES_AND_ARGUMENTS
        .get_or_init(|| {
            let words = NEEDLES
                .iter()
                .copied()
                .chain(ATTRIBUTES.iter().map(|a| a.as_bytes()));
            aho_corasick::AhoCorasick::new(words).ok()
        })
        .as_ref()
}

/// The byte ranges of the file's top-level items (a block from its first word to its closing
/// brace, an attribute to the end of its line), comments and blank space between them left out;
/// `None` when the file does not lex cleanly.
fn items(bytes: &[u8]) -> Option<Vec<Range<usize>>> {
    let mut lexer = Lexer { bytes, at: 0 };
    let mut items = Vec::new();
    // Brackets open in the current item: `{`, `[`, `(`, and template interpolations in strings.
    let mut depth = 0usize;
    let mut start: Option<usize> = None;
    while let Some(&byte) = bytes.get(lexer.at) {
        let here = lexer.at;
        match byte {
            b'#' => lexer.line_comment(),
            b'/' if bytes.get(here + 1) == Some(&b'/') => lexer.line_comment(),
            b'/' if bytes.get(here + 1) == Some(&b'*') => lexer.block_comment()?,
            b'\n' => {
                lexer.at += 1;
                if depth == 0 {
                    if let Some(begun) = start.take() {
                        items.push(begun..here);
                    }
                }
            }
            b if b.is_ascii_whitespace() => lexer.at += 1,
            _ => {
                start.get_or_insert(here);
                match byte {
                    b'"' => lexer.string()?,
                    b'<' if bytes.get(here + 1) == Some(&b'<') => lexer.heredoc()?,
                    b'{' | b'[' | b'(' => {
                        depth += 1;
                        lexer.at += 1;
                    }
                    b'}' | b']' | b')' => {
                        depth = depth.checked_sub(1)?;
                        lexer.at += 1;
                        if depth == 0 && byte == b'}' {
                            items.extend(start.take().map(|begun| begun..lexer.at));
                        }
                    }
                    _ => lexer.at += 1,
                }
            }
        }
    }
    if depth != 0 {
        return None;
    }
    items.extend(start.map(|begun| begun..bytes.len()));
    Some(items)
}

struct Lexer<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Lexer<'_> {
    /// Past a `#` or `//` comment, to its newline (which is left to end the item).
    fn line_comment(&mut self) {
        let rest = self.bytes.get(self.at..).unwrap_or_default();
        self.at += rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
    }

    fn block_comment(&mut self) -> Option<()> {
        let rest = self.bytes.get(self.at + 2..)?;
        let end = rest.windows(2).position(|w| w == b"*/")?;
        self.at += 2 + end + 2;
        Some(())
    }

    /// Past a quoted template string, with its escapes and its `${…}`/`%{…}` sequences (which
    /// may hold strings and brackets of their own); a string ends at its line.
    fn string(&mut self) -> Option<()> {
        self.at += 1;
        loop {
            let byte = *self.bytes.get(self.at)?;
            match byte {
                b'"' => {
                    self.at += 1;
                    return Some(());
                }
                b'\n' => return None,
                b'\\' => self.at += 2,
                b'$' | b'%' if self.bytes.get(self.at + 1) == Some(&byte) => {
                    // `$${` and `%%{` are the literal text.
                    self.at += 2;
                    if self.bytes.get(self.at) == Some(&b'{') {
                        self.at += 1;
                    }
                }
                b'$' | b'%' if self.bytes.get(self.at + 1) == Some(&b'{') => {
                    self.at += 2;
                    self.interpolation()?;
                }
                _ => self.at += 1,
            }
        }
    }

    /// Past the expression of a `${…}` or `%{…}` up to its closing brace.
    fn interpolation(&mut self) -> Option<()> {
        let mut depth = 0usize;
        loop {
            match *self.bytes.get(self.at)? {
                b'"' => self.string()?,
                b'{' | b'[' | b'(' => {
                    depth += 1;
                    self.at += 1;
                }
                b'}' if depth == 0 => {
                    self.at += 1;
                    return Some(());
                }
                b'}' | b']' | b')' => {
                    depth = depth.checked_sub(1)?;
                    self.at += 1;
                }
                _ => self.at += 1,
            }
        }
    }

    /// Past a heredoc (`<<EOF` or `<<-EOF`, to the line that holds the marker alone); `<<` that
    /// does not start one is left as an operator.
    fn heredoc(&mut self) -> Option<()> {
        let mut at = self.at + 2;
        if self.bytes.get(at) == Some(&b'-') {
            at += 1;
        }
        let name_len = self
            .bytes
            .get(at..)?
            .iter()
            .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
            .unwrap_or(0);
        let marker = self.bytes.get(at..at + name_len)?;
        let line_end = at + name_len;
        if marker.is_empty() || !matches!(self.bytes.get(line_end), Some(b'\n') | Some(b'\r')) {
            self.at += 2;
            return Some(());
        }
        let mut line_start = line_end + 1;
        loop {
            let rest = self.bytes.get(line_start..)?;
            let len = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
            let line = rest.get(..len)?;
            if line.trim_ascii() == marker {
                self.at = line_start + len;
                return Some(());
            }
            if len == rest.len() {
                return None;
            }
            line_start += len + 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item_texts(tf: &str) -> Option<Vec<&str>> {
        Some(items(tf.as_bytes())?.into_iter().map(|r| &tf[r]).collect())
    }

    #[test]
    fn top_level_items_are_found_past_strings_heredocs_and_comments() {
        let tf = "# a comment { with a brace\n\
                  resource \"aws_security_group\" \"a\" {\n  description = \"} not the end\"\n  x = \"${jsonencode({a = \"}\"})}\"\n}\n\n\
                  /* a block\n comment } */\n\
                  resource \"aws_instance\" \"b\" {\n  user_data = <<-EOT\n    }\n    EOT x\n  EOT\n}\n\
                  locals { a = [1, 2] } // trailing\n\
                  x = 1\n\
                  y = \"$${literal} %%{\" << 2\n";
        assert_eq!(
            item_texts(tf).unwrap(),
            [
                "resource \"aws_security_group\" \"a\" {\n  description = \"} not the end\"\n  x = \"${jsonencode({a = \"}\"})}\"\n}",
                "resource \"aws_instance\" \"b\" {\n  user_data = <<-EOT\n    }\n    EOT x\n  EOT\n}",
                "locals { a = [1, 2] }",
                "x = 1",
                "y = \"$${literal} %%{\" << 2",
            ]
        );
    }

    #[test]
    fn a_file_whose_shape_is_unclear_is_parsed_whole() {
        for tf in [
            "resource \"a\" \"b\" {\n  x = \"unclosed\n}\n",
            "resource \"a\" \"b\" {\n  x = <<EOF\nnever closed\n}\n",
            "resource \"a\" \"b\" {\n",
            "}\n",
            "/* unclosed\n",
            "x = \"${unclosed\"\n",
        ] {
            assert_eq!(items(tf.as_bytes()), None, "{tf:?}");
            assert_eq!(parse_ranges(tf.as_bytes()), None, "{tf:?}");
        }
    }

    #[test]
    fn only_resources_that_cannot_matter_are_left_out() {
        let tf = "resource \"aws_security_group\" \"a\" {\n  name = \"x\"\n}\n\
                  resource \"aws_instance\" \"b\" {\n}\n\
                  resource \"aws_autoscaling_group\" \"c\" {\n  launch_template {\n    id = aws_launch_template.x.id\n  }\n}\n\
                  resource \"aws_ssm_document\" \"d\" {\n  content = \"curl http://169.254.169.254/latest/meta-data/\"\n}\n\
                  resource \"custom_vm\" \"e\" {\n  user_data = file(\"boot.sh\")\n}\n\
                  resource \"aws_eks_node_group\" \"f\" {\n}\n\
                  data \"aws_ami\" \"g\" {\n}\n\
                  resource \"aws_iam_role\" \"h\" {\n  assume_role_policy = file(\"policy.json\")\n}\n\
                  resource \"aws_imagebuilder_component\" \"i\" {\n  data = file(\"c.yaml\")\n}\n\
                  output \"j\" {\n  value = aws_launch_template.x.id\n}\n\
                  output \"k\" {\n  value = { user_data = file(\"boot.sh\") }\n}\n\
                  locals {\n  a = 1\n}\n";
        let kept: Vec<&str> = parse_ranges(tf.as_bytes())
            .unwrap()
            .into_iter()
            .map(|r| tf[r].lines().next().unwrap())
            .collect();
        assert_eq!(
            kept,
            [
                "resource \"aws_instance\" \"b\" {",
                "resource \"aws_ssm_document\" \"d\" {",
                "resource \"custom_vm\" \"e\" {",
                "resource \"aws_eks_node_group\" \"f\" {",
                "data \"aws_ami\" \"g\" {",
                "resource \"aws_imagebuilder_component\" \"i\" {",
                "output \"k\" {",
                "locals {",
            ]
        );
        // Every item matters: the whole file.
        assert_eq!(
            parse_ranges(b"resource \"aws_instance\" \"b\" {\n}\n"),
            None
        );
    }
}
