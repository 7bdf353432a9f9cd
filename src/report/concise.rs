//! `--format concise`: `path:line:col: CODE message`, one line per finding.

use std::io::{self, Write};

use super::Report;

pub fn write(out: &mut impl Write, report: &Report) -> io::Result<()> {
    for file in report.files {
        for finding in &file.findings {
            let (start, _) = file.range(finding);
            writeln!(
                out,
                "{}:{}:{}: {} {}",
                file.source.path.display(),
                start.line,
                start.column,
                finding.rule.code,
                finding.message
            )?;
        }
    }
    Ok(())
}
