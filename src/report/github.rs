//! `--format github`: one GitHub Actions workflow command per finding
//! (`::error file=…,line=…,col=…,endLine=…,endColumn=…,title=IMDS001 tokenless-request::message`),
//! which the runner turns into annotations on the commit and the pull request. It is the default
//! format when `GITHUB_ACTIONS=true` and no `--format` is given. Diagnostics are workflow
//! commands too (`::warning file=…::message`), so that nothing a file is named or says reaches
//! the runner as a line of plain text it would read as a command.
//!
//! Escaping follows the runner: in a command's message `%`, `\r` and `\n` become `%25`, `%0D`
//! and `%0A`; in a property value also `:` and `,` become `%3A` and `%2C`. The runner decodes
//! those back, so paths stay exact; the other control characters have no escape it decodes and
//! are shown as `escape` shows them.

use std::io::{self, Write};
use std::path::Path;

use super::{ci_path, escape, FixState, Report};
use crate::rules::Severity;

pub fn write(out: &mut impl Write, report: &Report) -> io::Result<()> {
    for file in report.files {
        let path = property(&ci_path(&file.source.path));
        for finding in &file.findings {
            let (start, end) = file.range(finding);
            let command = match finding.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            write!(out, "::{command} file={path},line={}", start.line)?;
            // The runner drops an annotation whose columns span lines: columns only on one line.
            if start.line == end.line {
                write!(
                    out,
                    ",col={},endLine={},endColumn={}",
                    start.column, end.line, end.column
                )?;
            } else {
                write!(out, ",endLine={}", end.line)?;
            }
            let title = format!("{} {}", finding.rule.code, finding.rule.name);
            // Three lines in the annotation, the message, its help and its fix, whatever they
            // quote.
            let message = format!(
                "{}\nhelp: {}\n{}",
                escape::line(&finding.message),
                escape::line(&finding.help),
                escape::line(&FixState::of(finding).describe())
            );
            writeln!(out, ",title={}::{}", property(&title), data(&message))?;
        }
    }
    Ok(())
}

/// A diagnostic (a file not read, a fix not written) as a `::warning` command, with the file
/// it is about when it has one.
pub fn write_diagnostic(
    out: &mut impl Write,
    path: Option<&Path>,
    message: &str,
) -> io::Result<()> {
    let message = data(&escape::line(message));
    match path {
        Some(path) => writeln!(
            out,
            "::warning file={},title=imds-lint::{message}",
            property(&ci_path(path))
        ),
        None => writeln!(out, "::warning title=imds-lint::{message}"),
    }
}

/// A command's message, escaped as the runner reads it.
fn data(text: &str) -> String {
    escape_command(text, false)
}

/// A property value (`file=…`, `title=…`): also `:` and `,`, which end a value.
fn property(text: &str) -> String {
    escape_command(text, true)
}

fn escape_command(text: &str, property: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            ':' if property => out.push_str("%3A"),
            ',' if property => out.push_str("%2C"),
            c if escape::is_control(c) => escape::push_visible(&mut out, c),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_data_escapes_percent_and_line_breaks() {
        assert_eq!(data("50% done\r\nnext: a, b"), "50%25 done%0D%0Anext: a, b");
    }

    #[test]
    fn property_values_also_escape_colon_and_comma() {
        assert_eq!(property("dir:x/a,b%.sh\n"), "dir%3Ax/a%2Cb%25.sh%0A");
    }

    #[test]
    fn other_controls_are_shown_escaped() {
        assert_eq!(property("a\u{1b}[2J\u{202e}\tb"), "a\\x1b[2J\\u{202e}\tb");
        assert_eq!(data("\u{7}\u{85}"), "\\x07\\u{85}");
    }

    #[test]
    fn diagnostics_are_warning_commands() {
        let mut out = Vec::new();
        write_diagnostic(
            &mut out,
            Some(Path::new("./big\n::error::forged,x.sh")),
            "skipped: 3000 bytes\n::stop-commands::pwned",
        )
        .unwrap();
        write_diagnostic(&mut out, None, "100% done").unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "::warning file=big%0A%3A%3Aerror%3A%3Aforged%2Cx.sh,title=imds-lint::\
             skipped: 3000 bytes\\n::stop-commands::pwned\n\
             ::warning title=imds-lint::100%25 done\n"
        );
    }

    #[test]
    fn percent_is_escaped_first() {
        // An escape the runner would decode must not come from the text itself.
        assert_eq!(property("%2C,"), "%252C%2C");
    }
}
