//! Parsing bash (through `crate::syntax`). A parse that fails or runs past its budget is an error
//! value.

use tree_sitter::{Node, Tree};

use crate::syntax::Grammar;

#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("{0}; it was not analysed")]
    Syntax(#[from] crate::syntax::ParseError),
    #[error("the script nests more than {0} syntax levels deep (command substitutions, subshells, long `&&` chains); it was not analysed")]
    TooDeep(usize),
}

/// How many times a parse is repeated with misread `[` tests set aside (each round sets aside
/// those the last parse showed, usually one: the error swallows the rest of the script).
const MAX_TEST_REPAIRS: usize = 16;

/// Parses `text` as bash with this thread's parser.
///
/// tree-sitter-bash reads `[ … ]` as a test expression and fails on tests bash takes as they are
/// (`[ \( "$a" = b \) ]`, `[ "(" … ")" ]`, `[ x \< y ]`, `[ 1 -eq 1 \) ]`); its error
/// recovery then makes the rest of the script, functions and assignments included, one command's
/// arguments, and every variable assigned after it is lost. Where an error holds a `[` token
/// directly, the text is parsed again with that `[` given as `_` (the same length, so every
/// offset holds): a plain command whose arguments are the test's words, which is what `[` is to
/// bash. Node text is read from the real text, so the command is still named `[`.
pub fn parse(text: &[u8]) -> Result<Tree, ParseError> {
    let mut tree = crate::syntax::parse(Grammar::Bash, text)?;
    let mut repaired: Option<Vec<u8>> = None;
    for _ in 0..MAX_TEST_REPAIRS {
        let brackets = misread_tests(tree.root_node());
        if brackets.is_empty() {
            break;
        }
        let copy = repaired.get_or_insert_with(|| text.to_vec());
        for at in brackets {
            if let Some(byte) = copy.get_mut(at).filter(|b| **b == b'[') {
                *byte = b'_';
            }
        }
        tree = crate::syntax::parse(Grammar::Bash, copy)?;
    }
    Ok(tree)
}

/// The offsets of the `[` tokens that are direct children of an error node: tests the grammar
/// could not read.
fn misread_tests(root: Node) -> Vec<usize> {
    let mut out = Vec::new();
    if !root.has_error() {
        return out;
    }
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        let mut cursor = node.walk();
        for child in node.children(&mut cursor) {
            if node.is_error() && child.kind() == "[" && !child.is_named() {
                out.push(child.start_byte());
            }
            if child.has_error() {
                stack.push(child);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> bool {
        parse(text.as_bytes()).unwrap().root_node().has_error()
    }

    #[test]
    fn tests_the_grammar_misreads_do_not_swallow_the_script() {
        for test in [
            "[ \\( 1 -eq 1 \\) ]",
            "while [ \\( $rc -eq 1 \\) -a \\( $retry -le $retries \\) ]; do sleep 1; done",
            "if [ x \\< y ]; then echo; fi",
            "a && [ \"(\" 1 -eq 1 \")\" ] && b",
            "[ '(' -f x ')' ] || exit 1",
            "echo $( [ 1 -eq 1 \\) ] )",
            "f() { [ \\( -n \"$a\" \\) ] && [ x \\> y ]; }",
        ] {
            let script = format!("{test}\nT=$(x)\ng() {{ y; }}\n");
            assert!(!errors(&script), "{script}");
            let tree = parse(script.as_bytes()).unwrap();
            let sexp = tree.root_node().to_sexp();
            assert!(sexp.contains("(variable_assignment"), "{script}: {sexp}");
            assert!(sexp.contains("(function_definition"), "{script}: {sexp}");
        }
        // Tests the grammar reads are left to it.
        let tree = parse(b"[ -f x ] && [[ ( 1 -eq 1 ) ]]\n").unwrap();
        assert!(tree.root_node().to_sexp().contains("(test_command"));
        // Other syntax errors stay errors.
        assert!(errors("if then fi (\n"));
    }
}
