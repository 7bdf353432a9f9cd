//! Go templates (Helm chart templates): the text Helm renders, as the YAML and shell readers can
//! take it before it is rendered. Every action (`{{ … }}`, `{{- … -}}`, `{{/* … */}}`) is
//! replaced by text of the same length, so offsets do not move (the map is the identity): a line
//! that holds only actions and blanks (`{{- if … }}`, `{{ end }}`, `{{ toYaml … | nindent 8 }}`)
//! becomes blanks, since what it renders is not known; an action among other text becomes
//! `$___`, a variable the shell knows nothing of (and a plain scalar for YAML, in a flow
//! sequence too), or `${___}` when a letter, digit or `_` follows it; an action over
//! several lines becomes blanks. A fix is written in place, never where an action is: the
//! actions stay byte for byte.

/// A template read with its actions replaced: same length as the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blanked {
    pub text: Vec<u8>,
    /// The actions, as byte ranges of the template (delimiters included).
    pub actions: Vec<(usize, usize)>,
}

/// Where the action that opens at `start` (at `{{`) ends (after `}}`), or `None` when it does
/// not close. Quoted strings and comments inside it are skipped, so a `}}` in them does not end it.
fn action_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut at = start + 2;
    if bytes.get(at) == Some(&b'-') {
        at += 1;
    }
    while at < bytes.len() {
        match bytes.get(at)? {
            b'/' if bytes.get(at + 1) == Some(&b'*') => {
                let close = memchr::memmem::find(bytes.get(at + 2..)?, b"*/")?;
                at += 2 + close + 2;
            }
            b'"' => {
                at += 1;
                while let Some(&c) = bytes.get(at) {
                    match c {
                        b'\\' => at += 2,
                        b'"' => break,
                        b'\n' => return None,
                        _ => at += 1,
                    }
                }
                at += 1;
            }
            b'`' => {
                let close = memchr::memchr(b'`', bytes.get(at + 1..)?)?;
                at += 1 + close + 1;
            }
            b'}' if bytes.get(at + 1) == Some(&b'}') => return Some(at + 2),
            _ => at += 1,
        }
    }
    None
}

/// Whether `bytes` holds a template action: a `{{` that is not a GitHub Actions `${{`.
pub fn has_action(bytes: &[u8]) -> bool {
    memchr::memmem::find_iter(bytes, b"{{").any(|at| at == 0 || bytes.get(at - 1) != Some(&b'$'))
}

/// The actions of a template, in order.
pub fn actions(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(found) = memchr::memmem::find(bytes.get(at..).unwrap_or_default(), b"{{") {
        let start = at + found;
        if start > 0 && bytes.get(start - 1) == Some(&b'$') {
            at = start + 2;
            continue;
        }
        match action_end(bytes, start) {
            Some(end) => {
                out.push((start, end));
                at = end;
            }
            // An action that never closes: the rest of the template is not known.
            None => {
                out.push((start, bytes.len()));
                break;
            }
        }
    }
    out
}

/// Replaces a template's actions (see the module's documentation).
pub fn blank(bytes: &[u8]) -> Blanked {
    let actions = actions(bytes);
    let mut text = bytes.to_vec();
    let line_start = |at: usize| {
        bytes
            .get(..at)
            .and_then(|b| memchr::memrchr(b'\n', b))
            .map_or(0, |i| i + 1)
    };
    let line_end = |at: usize| {
        bytes
            .get(at..)
            .and_then(|b| memchr::memchr(b'\n', b))
            .map_or(bytes.len(), |i| at + i)
    };
    let blank_range = |text: &mut Vec<u8>, from: usize, to: usize| {
        for b in text.get_mut(from..to).unwrap_or_default() {
            if *b != b'\n' && *b != b'\r' {
                *b = b' ';
            }
        }
    };
    // Lines that hold only actions and blanks.
    let mut covered = vec![false; bytes.len()];
    for &(start, end) in &actions {
        for c in covered.get_mut(start..end).unwrap_or_default() {
            *c = true;
        }
    }
    let mut line = 0;
    while line < bytes.len() {
        let end = line_end(line);
        let only_actions = (line..end).any(|i| covered.get(i) == Some(&true))
            && (line..end).all(|i| {
                covered.get(i) == Some(&true) || matches!(bytes.get(i), Some(b' ' | b'\t' | b'\r'))
            });
        if only_actions {
            blank_range(&mut text, line, end);
        }
        line = end + 1;
    }
    for &(start, end) in &actions {
        let multi_line = bytes.get(start..end).is_some_and(|a| a.contains(&b'\n'));
        if multi_line {
            // The lines it starts and ends on are not known either.
            blank_range(
                &mut text,
                line_start(start),
                line_end(end.saturating_sub(1)),
            );
            continue;
        }
        let already = text.get(start).is_some_and(|b| *b == b' ');
        if already || end - start < 5 {
            blank_range(&mut text, start, end);
            continue;
        }
        // `${___}` only where the text after it would lengthen a `$___` name: its braces are
        // flow indicators to YAML, which end a plain scalar in a flow sequence or mapping
        // (`args: [{{ .Values.x | quote }}, "…"]`).
        let braced = bytes
            .get(end)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_');
        if let Some(slot) = text.get_mut(start..end) {
            slot.fill(b'_');
            if let Some(first) = slot.first_mut() {
                *first = b'$';
            }
            if braced {
                if let Some(second) = slot.get_mut(1) {
                    *second = b'{';
                }
                if let Some(last) = slot.last_mut() {
                    *last = b'}';
                }
            }
        }
    }
    Blanked { text, actions }
}

/// The template text that `name`, read from the blanked text, stands for: the bytes of `template`
/// where `name` first occurs in `blanked` (blanking keeps every offset), when it holds a
/// placeholder (`$___`, `${__}`); `None` otherwise. A Kubernetes object named
/// `{{ .Release.Name }}-scripts` is named so in origin chains, not `$_________________-scripts`.
pub fn unblank_name(name: &str, blanked: &[u8], template: &[u8]) -> Option<String> {
    let placeholder = name
        .as_bytes()
        .windows(2)
        .any(|w| matches!(w, [b'$', b'_' | b'{']));
    if !placeholder {
        return None;
    }
    let at = memchr::memmem::find(blanked, name.as_bytes())?;
    let text = template.get(at..at + name.len())?;
    Some(String::from_utf8_lossy(text).into_owned())
}

/// Whether an edit of `start..end` of the template (an insertion when they are equal) leaves
/// every action as it is: it neither overlaps one nor inserts inside one.
pub fn edit_keeps_actions(actions: &[(usize, usize)], start: usize, end: usize) -> bool {
    actions.iter().all(|&(a, b)| {
        if start == end {
            start <= a || start >= b
        } else {
            end <= a || start >= b
        }
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn blanked(text: &str) -> String {
        String::from_utf8(blank(text.as_bytes()).text).unwrap()
    }

    #[test]
    fn names_read_from_blanked_text_are_shown_as_written() {
        let template =
            "metadata:\n  name: {{ .Release.Name }}-scripts\n  app: {{ .Values.app }}x\n";
        let text = blank(template.as_bytes()).text;
        let name = |n: &str| unblank_name(n, &text, template.as_bytes());
        assert_eq!(
            name("$__________________-scripts").as_deref(),
            Some("{{ .Release.Name }}-scripts")
        );
        assert_eq!(
            name("${______________}x").as_deref(),
            Some("{{ .Values.app }}x")
        );
        // No placeholder, or not in the text: as it is.
        assert_eq!(name("scripts"), None);
        assert_eq!(name("$___-other"), None);
    }

    #[test]
    fn control_lines_become_blanks() {
        let t = "a:\n  {{- if .Values.x }}\n  b: 1\n  {{ end }}\n";
        assert_eq!(
            blanked(t),
            "a:\n                     \n  b: 1\n           \n"
        );
    }

    #[test]
    fn inline_actions_become_unknown_variables() {
        let t = "    curl {{ .Values.url }}/x\n";
        // `{{ .Values.url }}` is 17 bytes: `$` and 16 underscores.
        assert_eq!(blanked(t), format!("    curl ${}/x\n", "_".repeat(16)));
        // Followed by a name's letter: `${`, 14 underscores, `}`, so the name ends there.
        let t = "    curl {{ .Values.host }}x/y\n";
        assert_eq!(blanked(t), format!("    curl ${{{}}}x/y\n", "_".repeat(15)));
    }

    /// An action in a YAML flow sequence or mapping, outside quotes, becomes a plain scalar
    /// that YAML reads there (no `{`/`}` flow indicators); inside quotes, text of the string.
    #[test]
    fn actions_in_flow_collections_stay_yaml() {
        for (t, value) in [
            (
                "args: [{{ .Values.x | quote }}, \"curl a\"]\n",
                format!("args: [${}, \"curl a\"]\n", "_".repeat(22)),
            ),
            (
                "command: [\"sh\", \"-c\", \"{{ .Values.cmd }} curl a\"]\n",
                format!(
                    "command: [\"sh\", \"-c\", \"${} curl a\"]\n",
                    "_".repeat(16)
                ),
            ),
            (
                "env: {A: {{ .Values.a }}, B: b}\n",
                format!("env: {{A: ${}, B: b}}\n", "_".repeat(14)),
            ),
        ] {
            assert_eq!(blanked(t), value, "{t}");
        }
    }

    #[test]
    fn braces_in_strings_do_not_close_an_action() {
        let t = "x: {{ \"}}\" | quote }} y\n";
        let b = blank(t.as_bytes());
        assert_eq!(b.actions, vec![(3, 21)]);
    }

    #[test]
    fn github_expressions_are_not_actions() {
        assert!(!has_action(b"run: echo ${{ github.sha }}"));
        assert!(has_action(b"x: {{ .Values.a }}"));
    }

    #[test]
    fn multi_line_actions_blank_their_lines() {
        let t = "a: 1\nb: {{ list\n  1 2 }}\nc: 2\n";
        // `b: {{ list` (10 bytes) and `  1 2 }}` (8 bytes) become blanks.
        assert_eq!(
            blanked(t),
            format!("a: 1\n{}\n{}\nc: 2\n", " ".repeat(10), " ".repeat(8))
        );
    }

    #[test]
    fn edits_next_to_actions_keep_them() {
        let actions = [(5, 10)];
        assert!(edit_keeps_actions(&actions, 5, 5));
        assert!(edit_keeps_actions(&actions, 10, 12));
        assert!(!edit_keeps_actions(&actions, 6, 6));
        assert!(!edit_keeps_actions(&actions, 0, 6));
    }

    proptest! {
        #[test]
        fn same_length_and_text_outside_actions_kept(
            text in crate::fragment::properties::text(),
            action in "\\{\\{-? ?\\.Values\\.[a-z]{1,5} ?-?\\}\\}",
            at in 0usize..64,
        ) {
            let mut text = text.replace(['{', '}', '$'], "");
            let mut cut = at.min(text.len());
            while !text.is_char_boundary(cut) { cut -= 1; }
            text.insert_str(cut, &action);
            let b = blank(text.as_bytes());
            prop_assert_eq!(b.text.len(), text.len());
            prop_assert_eq!(b.actions.len(), 1);
            let (start, end) = b.actions[0];
            prop_assert_eq!(&text.as_bytes()[start..end], action.as_bytes());
            // Outside the action's lines, the text is the template's.
            let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
            prop_assert_eq!(&b.text[..line_start], &text.as_bytes()[..line_start]);
            // Line breaks stay where they are.
            for (i, c) in text.bytes().enumerate() {
                if c == b'\n' { prop_assert_eq!(b.text[i], b'\n'); }
            }
        }
    }
}
