//! `--format junit`: a JUnit XML report, for CI systems that show test results (GitLab, Jenkins,
//! Azure Pipelines, CircleCI): one test suite, one failed test case per finding, and one test
//! case in error per file not analysed or analysed only in part (`name="not analysed"` or
//! `"partly analysed"`, `<error type="skipped">` or `"partly-analysed"`): the check of that file
//! did not run to the end. Other warnings (a fix not written) are no test result and stay on
//! stderr. Paths in attributes are exact (line breaks as character references); the failure's
//! text is two lines, the finding and its help, with line breaks from the scanned files shown
//! escaped.

use std::io::{self, Write};

use super::{ci_path, escape, xml_attribute, xml_text, DiagnosticKind, Report};

pub fn write(out: &mut impl Write, report: &Report) -> io::Result<()> {
    let count: usize = report.files.iter().map(|f| f.findings.len()).sum();
    let unanalysed: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.kind.is_unanalysed())
        .collect();
    let errors = unanalysed.len();
    let tests = count + errors;
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="imds-lint" tests="{tests}" failures="{count}" errors="{errors}">"#
    )?;
    writeln!(
        out,
        r#"  <testsuite name="imds-lint" tests="{tests}" failures="{count}" errors="{errors}" skipped="0">"#
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
    for d in unanalysed {
        let name = match d.kind {
            DiagnosticKind::Skipped => "not analysed",
            _ => "partly analysed",
        };
        let message = escape::line(&d.message);
        match &d.path {
            Some(path) => {
                let path = ci_path(path);
                writeln!(
                    out,
                    r#"    <testcase name="{name}" classname="{}" file="{}">"#,
                    xml_attribute(&path),
                    xml_attribute(&path),
                )?;
                writeln!(
                    out,
                    r#"      <error message="{}" type="{}">{}</error>"#,
                    xml_attribute(&message),
                    d.kind.as_str(),
                    xml_text(&format!("{}: {message}", escape::line(&path))),
                )?;
            }
            None => {
                writeln!(out, r#"    <testcase name="{name}" classname="imds-lint">"#)?;
                writeln!(
                    out,
                    r#"      <error message="{}" type="{}">{}</error>"#,
                    xml_attribute(&message),
                    d.kind.as_str(),
                    xml_text(&message),
                )?;
            }
        }
        writeln!(out, "    </testcase>")?;
    }
    writeln!(out, "  </testsuite>")?;
    writeln!(out, "</testsuites>")
}
