//! `--format github`: one GitHub Actions workflow command per finding
//! (`::error file=…,line=…,col=…,endLine=…,endColumn=…,title=IMDS001 tokenless-request::message`),
//! which the runner turns into annotations on the commit and the pull request. It is the default
//! format when `GITHUB_ACTIONS=true` and no `--format` is given.

use std::io::{self, Write};

use super::{ci_path, Report};
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
            let message = format!("{}\nhelp: {}", finding.message, finding.help);
            writeln!(out, ",title={}::{}", property(&title), data(&message))?;
        }
    }
    Ok(())
}

/// A command's message, escaped as the runner reads it.
fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value (`file=…`, `title=…`): also `:` and `,`, which end a value.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
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
    fn percent_is_escaped_first() {
        // An escape the runner would decode must not come from the text itself.
        assert_eq!(property("%2C,"), "%252C%2C");
    }
}
