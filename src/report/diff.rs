//! `--diff`: a unified diff of what `--fix` would change in one file, with `a/` and `b/` paths
//! as `git apply` and `patch -p1` take them.
//!
//! A path with a control character, a quote or a backslash in it is quoted as git quotes it
//! (`"a/x\n.sh"`, other bytes in octal), which `git apply` and GNU patch read back, so a file
//! name cannot forge a hunk line. In the lines of the diff, control characters other than tab
//! and the line break are shown as `escape` shows them: the diff stays readable and says what
//! the file holds, but such a line no longer matches the file, so a patch with one fails to
//! apply instead of writing something else (`--fix` rewrites such files exactly).

use std::io::{self, Write};
use std::path::Path;

use super::escape;

pub fn write(out: &mut impl Write, path: &Path, old: &[u8], new: &[u8]) -> io::Result<()> {
    let old = String::from_utf8_lossy(old);
    let new = String::from_utf8_lossy(new);
    let diff = similar::TextDiff::from_lines(old.as_ref(), new.as_ref());
    let shown = path.display().to_string();
    let name = shown.trim_start_matches("./").trim_start_matches('/');
    let unified = diff.unified_diff();
    let mut text = String::new();
    for (i, hunk) in unified.iter_hunks().enumerate() {
        if i == 0 {
            text.push_str(&format!("--- {}\n", quoted(&format!("a/{name}"))));
            text.push_str(&format!("+++ {}\n", quoted(&format!("b/{name}"))));
        }
        text.push_str(&format!("{}\n", hunk.header()));
        for change in hunk.iter_changes() {
            text.push_str(&change.tag().to_string());
            push_line(&mut text, change.value());
        }
    }
    out.write_all(text.as_bytes())
}

/// One line of the diff after its tag: its text escaped, its line break as it is (a lone `\r`,
/// which `similar` also ends lines at, shown escaped before a line feed), and the marker for a
/// last line without one.
fn push_line(out: &mut String, line: &str) {
    let (text, end) = if let Some(text) = line.strip_suffix("\r\n") {
        (text, "\r\n")
    } else if let Some(text) = line.strip_suffix('\n') {
        (text, "\n")
    } else if let Some(text) = line.strip_suffix('\r') {
        (text, "\\r\n")
    } else {
        (line, "\n\\ No newline at end of file\n")
    };
    out.push_str(&escape::line(text));
    out.push_str(end);
}

/// A path for a diff header, quoted as git quotes it when it has to be: between double quotes,
/// with `\"`, `\\`, `\t`, `\n`, `\r` (and `\a`, `\b`, `\v`, `\f`) by name, and the bytes of
/// other control characters in octal (`\033`, `\342\200\256`).
fn quoted(path: &str) -> String {
    let needs_quotes = |c: char| escape::is_control(c) || matches!(c, '"' | '\\' | '\t');
    if !path.chars().any(needs_quotes) {
        return path.to_owned();
    }
    let mut out = String::from("\"");
    for c in path.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{b}' => out.push_str("\\v"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if escape::is_control(c) => {
                let mut bytes = [0; 4];
                for byte in c.encode_utf8(&mut bytes).bytes() {
                    out.push_str(&format!("\\{byte:03o}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diff(path: &str, old: &str, new: &str) -> String {
        let mut out = Vec::new();
        write(&mut out, Path::new(path), old.as_bytes(), new.as_bytes()).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn plain_paths_are_not_quoted() {
        assert_eq!(
            diff("./dir/odd, name%é.sh", "a\n", "b\n"),
            "--- a/dir/odd, name%é.sh\n+++ b/dir/odd, name%é.sh\n@@ -1 +1 @@\n-a\n+b\n"
        );
    }

    #[test]
    fn paths_with_controls_are_quoted_as_git_quotes_them() {
        assert_eq!(
            quoted("a/x\n::stop-commands::pwned\n.sh"),
            r#""a/x\n::stop-commands::pwned\n.sh""#
        );
        assert_eq!(quoted("a/\u{1b}[2J\t\"q\"\\"), r#""a/\033[2J\t\"q\"\\""#);
        assert_eq!(quoted("a/\u{202e}"), r#""a/\342\200\256""#);
        assert_eq!(quoted("a/\u{7f}"), r#""a/\177""#);
    }

    #[test]
    fn a_path_cannot_forge_a_hunk() {
        let shown = diff("x\n@@ -1 +1 @@\n+forged", "a\n", "b\n");
        assert_eq!(shown.lines().count(), 5, "{shown}");
        assert!(shown.starts_with("--- \"a/x\\n@@ -1 +1 @@\\n+forged\"\n"));
    }

    #[test]
    fn line_controls_are_escaped_and_line_breaks_kept() {
        assert_eq!(
            diff("s.sh", "e\u{1b}[2J\ta\r\nz", "e\u{1b}[2J\tb\r\nz"),
            "--- a/s.sh\n+++ b/s.sh\n@@ -1,2 +1,2 @@\n-e\\x1b[2J\ta\r\n+e\\x1b[2J\tb\r\n z\n\\ No newline at end of file\n"
        );
    }

    #[test]
    fn a_lone_carriage_return_is_shown() {
        assert_eq!(
            diff("s.sh", "a\r::error::x\n", "b\r::error::x\n"),
            "--- a/s.sh\n+++ b/s.sh\n@@ -1,2 +1,2 @@\n-a\\r\n+b\\r\n ::error::x\n"
        );
    }

    #[test]
    fn no_changes_no_output() {
        assert_eq!(diff("s.sh", "a\n", "a\n"), "");
    }
}
