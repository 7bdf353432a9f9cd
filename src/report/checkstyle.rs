//! `--format checkstyle`: Checkstyle's XML report (version 4.3), which Jenkins, reviewdog,
//! Bitbucket and many code review tools read: one `<file>` per file with findings or diagnostics,
//! one `<error>` per finding, and one per diagnostic about the file (a file not analysed:
//! `line="1"`, `severity="warning"`, `source="imds-lint.skipped"`, `imds-lint.partly-analysed`
//! or `imds-lint.warning`). A diagnostic about no file has no place here; it stays on stderr. A
//! message is one line: a line break a file put into it is shown escaped.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use super::{ci_path, escape, xml_attribute, Diagnostic, Report};

pub fn write(out: &mut impl Write, report: &Report) -> io::Result<()> {
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(out, r#"<checkstyle version="4.3">"#)?;
    // The diagnostics by the file they are about; those of files with findings go with them.
    let mut diagnostics: BTreeMap<&Path, Vec<&Diagnostic>> = BTreeMap::new();
    for d in report.diagnostics {
        if let Some(path) = &d.path {
            diagnostics.entry(path).or_default().push(d);
        }
    }
    for file in report.files {
        open_file(out, &file.source.path)?;
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
        for d in diagnostics
            .remove(file.source.path.as_path())
            .unwrap_or_default()
        {
            write_diagnostic(out, d)?;
        }
        writeln!(out, "  </file>")?;
    }
    for (path, list) in diagnostics {
        open_file(out, path)?;
        for d in list {
            write_diagnostic(out, d)?;
        }
        writeln!(out, "  </file>")?;
    }
    writeln!(out, "</checkstyle>")
}

fn open_file(out: &mut impl Write, path: &Path) -> io::Result<()> {
    writeln!(out, r#"  <file name="{}">"#, xml_attribute(&ci_path(path)))
}

fn write_diagnostic(out: &mut impl Write, d: &Diagnostic) -> io::Result<()> {
    writeln!(
        out,
        r#"    <error line="1" severity="warning" message="{}" source="imds-lint.{}"/>"#,
        xml_attribute(&escape::line(&d.message)),
        d.kind.as_str(),
    )
}
