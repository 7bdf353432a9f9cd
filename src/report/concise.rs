//! `--format concise`: `path:line:col: CODE message`, one line per finding (line breaks and
//! other controls in the path or the message shown escaped).

use std::io::{self, Write};

use super::{escape, Report};

pub fn write(out: &mut impl Write, report: &Report) -> io::Result<()> {
    for file in report.files {
        for finding in &file.findings {
            let (start, _) = file.range(finding);
            writeln!(
                out,
                "{}:{}:{}: {} {}",
                escape::path(&file.source.path),
                start.line,
                start.column,
                finding.rule.code,
                escape::line(&finding.message)
            )?;
        }
    }
    Ok(())
}
