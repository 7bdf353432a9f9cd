//! Jenkinsfiles (`Jenkinsfile`, `Jenkinsfile.NAME`, `*.jenkinsfile`, and `*.groovy` files that
//! hold an `sh` step): the scripts of `sh` steps. Not a Groovy parser: a lexical scan that skips
//! comments and strings and finds the `sh` step calls — `sh '…'`, `sh "…"`, `sh '''…'''`,
//! `sh """…"""`, `sh('…')`, `sh(script: '…', …)`, `sh script: '…', …` — whose script is one
//! string literal (`groovy_string`). Each step is a shell of its own. `powershell` and `pwsh`
//! steps are found the same way and read as PowerShell (`super::powershell`), each its own. A
//! step whose script is not one literal (a variable, a concatenation) is not read, and `bat`
//! steps (cmd.exe) are not analysed: each gets a note.

use std::path::Path;

use super::Parsed;
use crate::fragment::groovy_string::{self, Literal};
use crate::fragment::{Fragment, HostId, HostSpan, InsertRegion, Language, OffsetMap, Quoting};
use crate::model::{Note, OriginEntry};

/// Whether a file is a Jenkinsfile by its name, or a Groovy file holding an `sh` step.
pub fn is_jenkinsfile(path: &Path, bytes: &[u8]) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let lower = name.to_ascii_lowercase();
    if name == "Jenkinsfile" || name.starts_with("Jenkinsfile.") || lower.ends_with(".jenkinsfile")
    {
        return true;
    }
    lower.ends_with(".groovy") && !steps(bytes).is_empty()
}

/// A step call found by the scan: its name, where the name starts, and its script literal (the
/// span of the whole literal, quotes included) or `None` when the script is not one literal.
#[derive(Debug, PartialEq, Eq)]
struct Step {
    name: &'static str,
    at: usize,
    literal: Option<(usize, usize)>,
}

const STEPS: &[&str] = &["sh", "bat", "powershell", "pwsh"];

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$'
}

/// The end of a string literal starting at `at` (on its quote), or `None` if it is not closed.
fn string_end(bytes: &[u8], at: usize) -> Option<usize> {
    let quote = *bytes.get(at)?;
    let triple = bytes.get(at..at + 3) == Some(&[quote; 3][..]);
    let width = if triple { 3 } else { 1 };
    let mut i = at + width;
    // `${…}` in a GString may hold strings of its own: follow the braces.
    let mut depth = 0usize;
    while let Some(&b) = bytes.get(i) {
        if depth > 0 {
            match b {
                b'{' => depth += 1,
                b'}' => depth -= 1,
                b'\'' | b'"' => {
                    i = string_end(bytes, i)?;
                    continue;
                }
                _ => {}
            }
            i += 1;
            continue;
        }
        match b {
            b'\\' => i += 2,
            b'$' if quote == b'"' && bytes.get(i + 1) == Some(&b'{') => {
                depth = 1;
                i += 2;
            }
            b'\n' if !triple => return None,
            _ if b == quote => {
                if !triple {
                    return Some(i + 1);
                }
                if bytes.get(i..i + 3) == Some(&[quote; 3][..]) {
                    // `''''` ends with the last three quotes.
                    let mut end = i + 3;
                    while bytes.get(end) == Some(&quote) {
                        end += 1;
                    }
                    return Some(end);
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    None
}

fn skip_blanks(bytes: &[u8], mut i: usize, newlines: bool) -> usize {
    while let Some(&b) = bytes.get(i) {
        if b == b' ' || b == b'\t' || (newlines && (b == b'\n' || b == b'\r')) {
            i += 1;
        } else {
            break;
        }
    }
    i
}

/// The script literal of a step whose arguments start at `i` (after the name): the first
/// argument if it is a literal, else the value of `script:`.
fn script_literal(bytes: &[u8], i: usize) -> Option<(usize, usize)> {
    let mut i = skip_blanks(bytes, i, false);
    let parens = bytes.get(i) == Some(&b'(');
    if parens {
        i = skip_blanks(bytes, i + 1, true);
    }
    let literal_at = |i: usize| -> Option<(usize, usize)> {
        let end = string_end(bytes, i)?;
        // A literal followed by `+` is a concatenation: not one literal.
        let after = skip_blanks(bytes, end, false);
        (bytes.get(after) != Some(&b'+')).then_some((i, end))
    };
    if let Some(b'\'' | b'"') = bytes.get(i) {
        return literal_at(i);
    }
    // Named arguments: find `script:` at this level, up to the end of the call.
    let mut depth = 0usize;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\'' | b'"' => {
                i = string_end(bytes, i)?;
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                if depth == 0 {
                    return None;
                }
                depth -= 1;
            }
            b'\n' if !parens && depth == 0 => return None,
            b's' if depth == 0
                && bytes.get(i..i + 6) == Some(b"script")
                && !i
                    .checked_sub(1)
                    .and_then(|p| bytes.get(p))
                    .is_some_and(|b| is_ident(*b)) =>
            {
                let colon = skip_blanks(bytes, i + 6, false);
                if bytes.get(colon) == Some(&b':') {
                    let value = skip_blanks(bytes, colon + 1, true);
                    return match bytes.get(value) {
                        Some(b'\'' | b'"') => literal_at(value),
                        _ => None,
                    };
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The step calls of a Groovy text, comments and strings skipped.
fn steps(bytes: &[u8]) -> Vec<Step> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = memchr::memchr(b'\n', bytes.get(i..).unwrap_or_default())
                    .map_or(bytes.len(), |n| i + n);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = memchr::memmem::find(bytes.get(i + 2..).unwrap_or_default(), b"*/")
                    .map_or(bytes.len(), |n| i + 4 + n);
            }
            b'\'' | b'"' => {
                i = string_end(bytes, i).unwrap_or(bytes.len());
            }
            _ if is_ident(b) => {
                let start = i;
                while bytes.get(i).is_some_and(|b| is_ident(*b)) {
                    i += 1;
                }
                let word = bytes.get(start..i).unwrap_or_default();
                let Some(name) = STEPS.iter().find(|s| s.as_bytes() == word) else {
                    continue;
                };
                let next = skip_blanks(bytes, i, false);
                let call = match bytes.get(next) {
                    Some(b'(' | b'\'' | b'"') => true,
                    // `sh script: …` (named arguments) or `sh cmd` (a variable: noted).
                    Some(b) if b.is_ascii_alphabetic() && next > i => true,
                    _ => false,
                };
                // A property (`x.sh`) or a definition (`def sh`) is still a call when called.
                if call {
                    out.push(Step {
                        name,
                        at: start,
                        literal: script_literal(bytes, i),
                    });
                }
            }
            _ => i += 1,
        }
    }
    out
}

/// The name of the last `stage('NAME')` (or `stage("NAME")`) written before `at`, if any: the
/// stage a step is in, when stages are not nested in one another's bodies after it.
fn stage_before(bytes: &[u8], at: usize) -> Option<String> {
    let text = String::from_utf8_lossy(bytes.get(..at)?);
    let found = text.rfind("stage(")?;
    let rest = text.get(found + "stage(".len()..)?.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let inner = rest.get(1..)?;
    let end = inner.find(quote)?;
    inner.get(..end).map(str::to_owned)
}

pub fn parse(bytes: &[u8], host: HostId) -> Parsed {
    let mut parsed = Parsed::default();
    for step in steps(bytes) {
        let language = match step.name {
            "sh" => Language::Shell,
            "bat" => {
                parsed.diagnostics.push(Note::partly_analysed(
                    "a `bat` step runs Windows cmd, not analysed",
                ));
                continue;
            }
            _ => Language::PowerShell,
        };
        let name = step.name;
        let Some((start, end)) = step.literal else {
            parsed.diagnostics.push(Note::partly_analysed(format!(
                "a `{name}` step whose script is not one string literal was not analysed"
            )));
            continue;
        };
        let text = bytes.get(start..end).unwrap_or_default();
        let (Some(how), Some((decoded, anchors))) = (
            groovy_string::literal(text),
            groovy_string::decode(text, start),
        ) else {
            parsed.diagnostics.push(Note::partly_analysed(format!(
                "a `{name}` step whose string could not be read was not analysed"
            )));
            continue;
        };
        let Literal { quote, triple, .. } = how;
        // The step in origin chains: its name, and the stage it is in when one is named before it.
        let mut entry = OriginEntry::layer("jenkinsfile").with_key(name);
        if let Some(stage) = stage_before(bytes, step.at) {
            entry = entry.with_name(stage);
        }
        parsed.places.push((HostSpan::new(step.at, end), entry));
        parsed.fragments.push(Fragment {
            host,
            language,
            map: OffsetMap::from_anchors(anchors),
            insert: vec![InsertRegion::quoted(vec![Quoting::GroovyString {
                quote: char::from(quote),
                triple,
            }])],
            ..Fragment::script(decoded.as_bytes())
        });
    }
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scripts(text: &str) -> Vec<String> {
        parse(text.as_bytes(), 0)
            .fragments
            .iter()
            .map(|f| String::from_utf8_lossy(&f.text).into_owned())
            .collect()
    }

    #[test]
    fn step_forms() {
        assert_eq!(scripts("sh 'a'\nsh \"b\"\n"), ["a", "b"]);
        assert_eq!(
            scripts("sh('a')\nsh(script: 'b', returnStdout: true)"),
            ["a", "b"]
        );
        assert_eq!(scripts("sh label: 'x', script: \"\"\"c\n\"\"\""), ["c\n"]);
        assert_eq!(scripts("sh returnStdout: true, script: '''d'''"), ["d"]);
        assert_eq!(scripts("def x = sh(\n  script: 'e',\n)"), ["e"]);
    }

    #[test]
    fn comments_and_strings_are_skipped() {
        assert!(scripts("// sh 'a'\n/* sh 'b' */\necho 'sh \"c\"'\n").is_empty());
        assert!(scripts("def shx = 'y'\nfinish 'z'").is_empty());
    }

    #[test]
    fn what_is_not_one_literal_gets_a_note() {
        let parsed = parse(b"sh cmd\nsh 'a' + b\nbat 'dir'\npowershell x\n", 0);
        assert!(parsed.fragments.is_empty());
        assert_eq!(parsed.diagnostics.len(), 4, "{:?}", parsed.diagnostics);
        let parsed = parse(b"powershell 'a'\npwsh(script: \"b\")\n", 0);
        assert_eq!(parsed.fragments.len(), 2);
        assert!(parsed
            .fragments
            .iter()
            .all(|f| f.language == Language::PowerShell));
    }

    #[test]
    fn names() {
        assert!(is_jenkinsfile(Path::new("Jenkinsfile"), b""));
        assert!(is_jenkinsfile(Path::new("ci/Jenkinsfile.release"), b""));
        assert!(is_jenkinsfile(Path::new("deploy.jenkinsfile"), b""));
        assert!(is_jenkinsfile(
            Path::new("vars/x.groovy"),
            b"def call() { sh 'x' }"
        ));
        assert!(!is_jenkinsfile(Path::new("src/x.groovy"), b"println 'x'"));
    }
}
