//! `--format concise`: `path:line:col: CODE message [fix]`, one line per finding (line breaks
//! and other controls in the path or the message shown escaped); `[fix]` or `[unsafe fix]` says
//! that `--fix` (with `--unsafe-fixes`) has a fix for it.

use std::io::{self, Write};

use super::{escape, FixState, Report};

pub fn write(out: &mut impl Write, report: &Report) -> io::Result<()> {
    for file in report.files {
        for finding in &file.findings {
            let (start, _) = file.range(finding);
            writeln!(
                out,
                "{}:{}:{}: {} {}{}",
                escape::path(&file.source.path),
                start.line,
                start.column,
                finding.rule.code,
                escape::line(&finding.message),
                FixState::of(finding).tag()
            )?;
        }
    }
    Ok(())
}
