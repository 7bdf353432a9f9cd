//! Untrusted text made safe to print. File names, source lines, decoded values and the messages
//! that quote them (a CloudFormation logical ID, a `write_files` path) come from the scanned
//! repository; printed raw, a newline in one forges a line of its own (a finding in `concise`, a
//! workflow command such as `::stop-commands::` in a GitHub Actions log) and an escape sequence
//! or a bidirectional override rewrites what the terminal shows. Every text reporter and every
//! diagnostic line passes such text through here, so one finding or one diagnostic is always
//! one line, and what it says is what it shows.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::path::Path;

/// Whether `c` must not reach a terminal or a line-oriented log as it is: the C0 controls but
/// tab (line feed and carriage return among them), DEL, the C1 controls, the bidirectional
/// embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), and the Unicode line and
/// paragraph separators, which some log viewers break lines at.
pub fn is_control(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{8}'
            | '\u{a}'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
    )
}

/// Appends `c` as it is shown in place of itself: `\n`, `\r` and `\t` by name, other ASCII
/// controls as `\x1b`, other characters as `\u{202e}`.
pub fn push_visible(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if c.is_ascii() => {
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        }
        c => {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
    }
}

/// `text` for one line of a terminal or a log: every character [`is_control`] names shown
/// visibly ([`push_visible`]), everything else as it is. Backslashes are left alone: this is
/// for reading, not for parsing back.
pub fn line(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_control(c) {
            push_visible(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A path for one line of a terminal or a log, as [`line`] shows text.
pub fn path(path: &Path) -> String {
    line(&path.display().to_string()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        let text = "tests/formats/odd, name%.sh: `curl` \\ région\tend";
        assert!(matches!(line(text), Cow::Borrowed(t) if t == text));
    }

    #[test]
    fn line_breaks_are_shown_by_name() {
        assert_eq!(
            line("x\n::stop-commands::pwned\r\n.yaml"),
            "x\\n::stop-commands::pwned\\r\\n.yaml"
        );
    }

    #[test]
    fn tab_stays_a_tab() {
        assert_eq!(line("a\tb"), "a\tb");
        let mut shown = String::new();
        push_visible(&mut shown, '\t');
        assert_eq!(shown, "\\t");
    }

    #[test]
    fn other_ascii_controls_are_hex_escapes() {
        assert_eq!(
            line("\u{1b}[2J\u{1b}]0;title\u{7}"),
            "\\x1b[2J\\x1b]0;title\\x07"
        );
        assert_eq!(
            line("\u{0}\u{8}\u{b}\u{c}\u{1f}\u{7f}"),
            "\\x00\\x08\\x0b\\x0c\\x1f\\x7f"
        );
    }

    #[test]
    fn c1_controls_and_separators_are_unicode_escapes() {
        assert_eq!(line("a\u{85}b\u{9b}c"), "a\\u{85}b\\u{9b}c");
        assert_eq!(line("\u{2028}\u{2029}"), "\\u{2028}\\u{2029}");
    }

    #[test]
    fn bidi_overrides_and_isolates_are_shown() {
        for c in ('\u{202a}'..='\u{202e}').chain('\u{2066}'..='\u{2069}') {
            let shown = line(&format!("a{c}b")).into_owned();
            assert_eq!(shown, format!("a\\u{{{:x}}}b", u32::from(c)));
        }
        // Right next to them, ordinary non-ASCII text stays as it is.
        assert_eq!(
            line("\u{2027}é\u{202f}\u{2065}\u{206a}"),
            "\u{2027}é\u{202f}\u{2065}\u{206a}"
        );
    }

    #[test]
    fn shown_text_has_no_control_left() {
        let all: String = (0u32..0x3000).filter_map(char::from_u32).collect();
        let shown = line(&all);
        assert!(!shown.chars().any(is_control));
        assert!(!shown.contains('\n') && !shown.contains('\r'));
    }

    #[test]
    fn paths_are_shown_like_text() {
        assert_eq!(path(Path::new("./a\n\u{1b}b.sh")), "./a\\n\\x1bb.sh");
    }
}
