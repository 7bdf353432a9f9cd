//! `--format checkstyle`: Checkstyle's XML report (version 4.3), which Jenkins, reviewdog,
//! Bitbucket and many code review tools read: one `<file>` per file with findings, one `<error>`
//! per finding. A message is one line: a line break a file put into it is shown escaped.

use std::io::{self, Write};

use super::{ci_path, escape, xml_attribute, Report};

pub fn write(out: &mut impl Write, report: &Report) -> io::Result<()> {
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(out, r#"<checkstyle version="4.3">"#)?;
    for file in report.files {
        writeln!(
            out,
            r#"  <file name="{}">"#,
            xml_attribute(&ci_path(&file.source.path))
        )?;
        for finding in &file.findings {
            let (start, _) = file.range(finding);
            writeln!(
                out,
                r#"    <error line="{}" column="{}" severity="{}" message="{}" source="imds-lint.{}"/>"#,
                start.line,
                start.column,
                finding.severity.as_str(),
                xml_attribute(&escape::line(&finding.message)),
                finding.rule.code,
            )?;
        }
        writeln!(out, "  </file>")?;
    }
    writeln!(out, "</checkstyle>")
}
