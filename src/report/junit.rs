//! `--format junit`: a JUnit XML report, for CI systems that show test results (GitLab, Jenkins,
//! Azure Pipelines, CircleCI): one test suite, one failed test case per finding. Paths in
//! attributes are exact (line breaks as character references); the failure's text is two lines,
//! the finding and its help, with line breaks from the scanned files shown escaped.

use std::io::{self, Write};

use super::{ci_path, escape, xml_attribute, xml_text, Report};

pub fn write(out: &mut impl Write, report: &Report) -> io::Result<()> {
    let count: usize = report.files.iter().map(|f| f.findings.len()).sum();
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="imds-lint" tests="{count}" failures="{count}" errors="0">"#
    )?;
    writeln!(
        out,
        r#"  <testsuite name="imds-lint" tests="{count}" failures="{count}" errors="0" skipped="0">"#
    )?;
    for file in report.files {
        let path = ci_path(&file.source.path);
        for finding in &file.findings {
            let (start, _) = file.range(finding);
            let code = finding.rule.code;
            writeln!(
                out,
                r#"    <testcase name="{} {} at {}:{}" classname="{}" file="{}" line="{}">"#,
                code,
                finding.rule.name,
                start.line,
                start.column,
                xml_attribute(&path),
                xml_attribute(&path),
                start.line,
            )?;
            let message = escape::line(&finding.message);
            let details = format!(
                "{}:{}:{}: {code} {message}\nhelp: {}",
                escape::line(&path),
                start.line,
                start.column,
                escape::line(&finding.help)
            );
            writeln!(
                out,
                r#"      <failure message="{}" type="{code}">{}</failure>"#,
                xml_attribute(&message),
                xml_text(&details),
            )?;
            writeln!(out, "    </testcase>")?;
        }
    }
    writeln!(out, "  </testsuite>")?;
    writeln!(out, "</testsuites>")
}
