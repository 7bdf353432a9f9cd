//! The migration view (`imds-lint --migration`): for each declared instance metadata setting,
//! whether it can be switched to `required` now — the boot scripts its instances run, how many
//! tokenless requests remain in them, how many of those `--fix` would rewrite, and the
//! applications in its directory tree too old for IMDSv2 (IMDS020, IMDS021: application evidence)
//! — as a table or as JSON. Evidence outside every setting's tree, or in a repository that
//! declares no setting, is listed under "applications". In the table, paths and names from the scanned files are shown through `escape`,
//! so each setting stays one row.

use std::io::{self, Write};

use super::escape;
use super::human::plural;
use super::json::JsonDiagnostic;
use crate::model::diagnostic::unanalysed_files;
use crate::model::summary::{Application, SettingSummary};
use crate::model::Diagnostic;

#[derive(serde::Serialize)]
struct Report<'a> {
    version: u32,
    settings: &'a [SettingSummary],
    /// Application evidence in no setting's directory tree (all of it when no setting is
    /// declared).
    applications: &'a [Application],
    /// Files (or parts) not analysed and other warnings: boot code in a file not analysed is not
    /// counted in `settings`.
    diagnostics: Vec<JsonDiagnostic<'a>>,
}

pub fn write_json(
    out: &mut impl Write,
    settings: &[SettingSummary],
    applications: &[Application],
    diagnostics: &[Diagnostic],
) -> io::Result<()> {
    serde_json::to_writer_pretty(
        &mut *out,
        &Report {
            version: 1,
            settings,
            applications,
            diagnostics: diagnostics.iter().map(JsonDiagnostic::of).collect(),
        },
    )
    .map_err(io::Error::other)?;
    writeln!(out)
}

pub fn write_human(
    out: &mut impl Write,
    settings: &[SettingSummary],
    applications: &[Application],
    diagnostics: &[Diagnostic],
) -> io::Result<()> {
    write_table(out, settings)?;
    write_applications(out, settings, applications)?;
    let (skipped, partly) = unanalysed_files(diagnostics);
    let said = match (skipped, partly) {
        (0, 0) => return Ok(()),
        (n, 0) => format!("{} not analysed", plural(n, "file")),
        (0, n) => format!("{} partly analysed", plural(n, "file")),
        (n, m) => format!("{} not analysed, {m} partly analysed", plural(n, "file")),
    };
    writeln!(
        out,
        "Boot code in {said} is not counted (see the warnings above)."
    )
}

/// The application evidence under each setting that has some, then the evidence no setting took
/// (under "applications").
fn write_applications(
    out: &mut impl Write,
    settings: &[SettingSummary],
    applications: &[Application],
) -> io::Result<()> {
    let item = |a: &Application| {
        escape::line(&format!("{}:{}: {} {}", a.path, a.line, a.code, a.message)).into_owned()
    };
    for setting in settings.iter().filter(|s| !s.applications.is_empty()) {
        writeln!(
            out,
            "\nApplications that would lose instance metadata once {}:{} requires tokens:",
            escape::line(&setting.path),
            setting.line
        )?;
        for application in &setting.applications {
            writeln!(out, "  {}", item(application))?;
        }
    }
    if !applications.is_empty() {
        let heading = if settings.is_empty() {
            "applications too old for IMDSv2 (upgrade them before instances require tokens):"
        } else {
            "applications too old for IMDSv2, outside every setting's directory tree:"
        };
        writeln!(out, "\n{heading}")?;
        for application in applications {
            writeln!(out, "  {}", item(application))?;
        }
    }
    Ok(())
}

fn write_table(out: &mut impl Write, settings: &[SettingSummary]) -> io::Result<()> {
    if settings.is_empty() {
        return writeln!(out, "No instance metadata settings found.");
    }
    let rows: Vec<[String; 6]> = settings
        .iter()
        .map(|s| {
            let resource = if s.name.is_empty() {
                s.resource.clone()
            } else {
                format!("{} {}", s.resource, s.name)
            };
            let ready = if s.can_require {
                "yes"
            } else if s.tokenless_requests > 0 {
                "no: fix scripts"
            } else if !s.applications.is_empty() {
                "no: old applications"
            } else {
                "check: scripts unseen"
            };
            let scripts = if s.boot_scripts.is_empty() {
                "-".to_owned()
            } else {
                s.boot_scripts.join(", ")
            };
            [
                format!("{}:{}", s.path, s.line),
                resource,
                s.http_tokens
                    .clone()
                    .unwrap_or_else(|| "(unset)".to_owned()),
                ready.to_owned(),
                format!("{} ({} fixable)", s.tokenless_requests, s.fixable),
                scripts,
            ]
            .map(|cell| escape::line(&cell).into_owned())
        })
        .collect();
    let header = [
        "setting",
        "resource",
        "tokens",
        "can require",
        "tokenless",
        "boot scripts",
    ];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut text = String::new();
        for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<width$}  "));
            }
        }
        text
    };
    writeln!(out, "{}", line(header.to_vec()))?;
    for row in &rows {
        writeln!(out, "{}", line(row.iter().map(String::as_str).collect()))?;
    }
    let ready = settings.iter().filter(|s| s.can_require).count();
    writeln!(
        out,
        "\n{ready} of {} settings can require tokens now.",
        settings.len()
    )
}
