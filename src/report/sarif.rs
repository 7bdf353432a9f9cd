//! `--format sarif`: a SARIF 2.1.0 log (built with the `serde-sarif` types) for GitHub code
//! scanning and other SARIF viewers. It carries every rule's metadata and documentation, one
//! result per finding with its region in the original file (columns count Unicode code points,
//! as ours do), the fixes as byte replacements, and relative URIs against `%SRCROOT%`, the
//! directory imds-lint ran in, so that code scanning can place them in the repository. What the
//! run said besides findings (a file not analysed) is a tool execution notification of the run's
//! invocation, which code scanning shows on its tool status page; its descriptor (`skipped`,
//! `partly-analysed`, `warning`) is one of the driver's `notifications`.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use serde_sarif::sarif::{
    ArtifactChange, ArtifactContent, ArtifactLocation, Fix, Invocation, Location, Message,
    MultiformatMessageString, Notification, NotificationLevel, PhysicalLocation, PropertyBag,
    Region, Replacement, ReportingConfiguration, ReportingConfigurationLevel, ReportingDescriptor,
    ReportingDescriptorReference, Result as SarifResult, ResultColumnKind, ResultLevel, Run, Sarif,
    Tool, ToolComponent, Version,
};

use super::{fingerprints, without_curdir, Diagnostic, DiagnosticKind, Report, HOMEPAGE};
use crate::model::Applicability;
use crate::model::FileReport;
use crate::model::Finding;
use crate::model::{Rule, Severity};
use crate::rules::doc_url;

/// Where the log says its schema is (the OASIS standard's, as published on SchemaStore).
const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The base that relative artifact URIs are resolved against.
const SRCROOT: &str = "%SRCROOT%";

/// The key of our fingerprint in `partialFingerprints`.
const FINGERPRINT: &str = "imdsLint/v1";

/// Writes the log, with `%SRCROOT%` standing for the current directory.
pub fn write(out: &mut impl Write, report: &Report) -> io::Result<()> {
    let root = std::env::current_dir().ok();
    write_with_root(out, report, root.as_deref())
}

/// Writes the log, with `%SRCROOT%` standing for `root` (an absolute directory) when known.
pub fn write_with_root(
    out: &mut impl Write,
    report: &Report,
    root: Option<&Path>,
) -> io::Result<()> {
    let log = log(report, root).map_err(io::Error::other)?;
    serde_json::to_writer_pretty(&mut *out, &log).map_err(io::Error::other)?;
    writeln!(out)
}

fn log(report: &Report, root: Option<&Path>) -> serde_json::Result<Sarif> {
    let mut results = Vec::new();
    for file in report.files {
        let location = artifact_location(&file.source.path, root);
        for (finding, fingerprint) in file.findings.iter().zip(fingerprints(file)) {
            let mut result = result(file, finding, &location, fingerprint)?;
            if !finding.related.is_empty() {
                result.related_locations = Some(
                    finding
                        .related
                        .iter()
                        .enumerate()
                        .map(|(id, related)| related_location(id, related, root))
                        .collect(),
                );
            }
            results.push(result);
        }
    }
    let rules = crate::rules::all()
        .map(descriptor)
        .collect::<Result<Vec<_>, _>>()?;
    let notifications = NOTIFICATIONS
        .iter()
        .map(|(kind, [short, full, help])| {
            ReportingDescriptor::builder()
                .id(kind.as_str())
                .short_description(MultiformatMessageString::builder().text(*short).build())
                .full_description(MultiformatMessageString::builder().text(*full).build())
                .help(MultiformatMessageString::builder().text(*help).build())
                .build()
        })
        .collect::<Vec<_>>();
    let driver = ToolComponent::builder()
        .name("imds-lint")
        .version(env!("CARGO_PKG_VERSION"))
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .information_uri(HOMEPAGE)
        .rules(rules)
        .notifications(notifications)
        .build();
    let invocation = Invocation::builder()
        .execution_successful(!report.diagnostics.iter().any(|d| report.is_error(d)))
        .tool_execution_notifications(
            report
                .diagnostics
                .iter()
                .map(|d| notification(d, report.is_error(d), root))
                .collect::<Result<Vec<_>, _>>()?,
        )
        .build();
    let mut base = ArtifactLocation::builder()
        .description(text_message(
            "The directory imds-lint ran in; relative paths start there",
        ))
        .build();
    base.uri = root.map(|root| {
        let mut uri = file_uri(root);
        if !uri.ends_with('/') {
            uri.push('/');
        }
        uri
    });
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .original_uri_base_ids(BTreeMap::from([(SRCROOT.to_owned(), base)]))
        .column_kind(serde_json::to_value(ResultColumnKind::UnicodeCodePoints)?)
        .invocations(vec![invocation])
        .results(results)
        .build();
    Ok(Sarif::builder()
        .schema(SCHEMA)
        .version(serde_json::to_value(Version::V2_1_0)?)
        .runs(vec![run])
        .build())
}

/// The driver's notification descriptors, one per kind of diagnostic (in the order of
/// [`notification_index`]): short description, full description, help.
const NOTIFICATIONS: [(DiagnosticKind, [&str; 3]); 3] = [
    (
        DiagnosticKind::Skipped,
        [
            "A file that was not analysed",
            "imds-lint did not read this file, or did not analyse any of it (over --max-file-size, unreadable, a broken link or a loop, past a parser limit): tokenless requests in it are not reported.",
            "The message says why. Raise --max-file-size, repair the file or the link, or leave the file out with `exclude`; --fail-on-skipped makes the run fail on such a file.",
        ],
    ),
    (
        DiagnosticKind::PartlyAnalysed,
        [
            "A file analysed only in part",
            "imds-lint analysed this file, but not all of it (a value that could not be decoded, code nested past a limit, lines around a syntax error): tokenless requests in that part are not reported.",
            "The message says which part and why; --fail-on-skipped makes the run fail on such a file.",
        ],
    ),
    (
        DiagnosticKind::Warning,
        [
            "A warning of the run",
            "Everything was analysed, but something else is worth knowing: a fixed file whose owner or mode could not be kept, a fix that was not written, an ignore file that was not honoured.",
            "The message says what happened and to which file.",
        ],
    ),
];

fn notification_index(kind: DiagnosticKind) -> Option<i64> {
    NOTIFICATIONS
        .iter()
        .position(|(k, _)| *k == kind)
        .map(|i| i as i64)
}

/// A diagnostic as a tool execution notification, with the file it is about; an `error` when it
/// makes the run unsuccessful ([`Report::is_error`]).
fn notification(
    d: &Diagnostic,
    error: bool,
    root: Option<&Path>,
) -> serde_json::Result<Notification> {
    let level = if error {
        NotificationLevel::Error
    } else {
        NotificationLevel::Warning
    };
    let mut descriptor = ReportingDescriptorReference::builder()
        .id(d.kind.as_str())
        .build();
    descriptor.index = notification_index(d.kind);
    let mut notification = Notification::builder()
        .level(serde_json::to_value(level)?)
        .message(text_message(&d.message))
        .descriptor(descriptor)
        .build();
    if let Some(path) = &d.path {
        notification.locations = Some(vec![Location::builder()
            .physical_location(
                PhysicalLocation::builder()
                    .artifact_location(artifact_location(path, root))
                    .build(),
            )
            .build()]);
    }
    Ok(notification)
}

fn descriptor(rule: &Rule) -> serde_json::Result<ReportingDescriptor> {
    let level = match rule.severity {
        Severity::Error => ReportingConfigurationLevel::Error,
        Severity::Warning => ReportingConfigurationLevel::Warning,
    };
    Ok(ReportingDescriptor::builder()
        .id(rule.code)
        .name(rule.name)
        .short_description(
            MultiformatMessageString::builder()
                .text(rule.summary)
                .build(),
        )
        .full_description(
            MultiformatMessageString::builder()
                .text(what_it_does(rule.doc))
                .build(),
        )
        .help(
            MultiformatMessageString::builder()
                .text(rule.doc)
                .markdown(rule.doc)
                .build(),
        )
        .help_uri(doc_url(rule.code))
        .default_configuration(
            ReportingConfiguration::builder()
                .level(serde_json::to_value(level)?)
                .build(),
        )
        .build())
}

/// The paragraph under `## What it does` in a rule's documentation, on one line.
fn what_it_does(doc: &str) -> String {
    let section = doc
        .split("## What it does")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .unwrap_or(doc);
    section.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn result(
    file: &FileReport,
    finding: &Finding,
    location: &ArtifactLocation,
    fingerprint: String,
) -> serde_json::Result<SarifResult> {
    let (start, end) = file.range(finding);
    let snippet = file
        .source
        .bytes
        .get(finding.span.start.0..finding.span.end.0)
        .unwrap_or_default();
    let region = Region::builder()
        .start_line(start.line as i64)
        .start_column(start.column as i64)
        .end_line(end.line as i64)
        .end_column(end.column as i64)
        .snippet(
            ArtifactContent::builder()
                .text(String::from_utf8_lossy(snippet))
                .build(),
        )
        .build();
    let physical = PhysicalLocation::builder()
        .artifact_location(location.clone())
        .region(region)
        .build();
    let level = match finding.severity {
        Severity::Error => ResultLevel::Error,
        Severity::Warning => ResultLevel::Warning,
    };
    let mut result = SarifResult::builder()
        .rule_id(finding.rule.code)
        .level(level)
        .message(text_message(&finding.message))
        .locations(vec![Location::builder()
            .physical_location(physical)
            .build()])
        .partial_fingerprints(BTreeMap::from([(FINGERPRINT.to_owned(), fingerprint)]))
        .build();
    result.rule_index = crate::rules::all()
        .position(|r| r.code == finding.rule.code)
        .map(|i| i as i64);
    if let Some(fix) = &finding.fix {
        let replacements = fix
            .edits
            .iter()
            .map(|edit| {
                Replacement::builder()
                    .deleted_region(
                        Region::builder()
                            .byte_offset(edit.span.start.0 as i64)
                            .byte_length(edit.span.len() as i64)
                            .build(),
                    )
                    .inserted_content(
                        ArtifactContent::builder()
                            .text(edit.content.clone())
                            .build(),
                    )
                    .build()
            })
            .collect::<Vec<_>>();
        let applicability = match fix.applicability {
            Applicability::Safe => "safe",
            Applicability::Unsafe => "unsafe",
        };
        result.fixes = Some(vec![Fix::builder()
            .description(text_message(&fix.message))
            .artifact_changes(vec![ArtifactChange::builder()
                .artifact_location(location.clone())
                .replacements(replacements)
                .build()])
            .properties(
                PropertyBag::builder()
                    .additional_properties(BTreeMap::from([(
                        "applicability".to_owned(),
                        serde_json::Value::from(applicability),
                    )]))
                    .build(),
            )
            .build()]);
    }
    Ok(result)
}

/// Another place the result is about, in this file or another.
fn related_location(id: usize, related: &crate::model::Related, root: Option<&Path>) -> Location {
    let region = Region::builder()
        .start_line(related.line as i64)
        .start_column(related.column as i64)
        .build();
    Location::builder()
        .id(id as i64)
        .physical_location(
            PhysicalLocation::builder()
                .artifact_location(artifact_location(&related.path, root))
                .region(region)
                .build(),
        )
        .message(text_message(&related.message))
        .build()
}

fn text_message(text: &str) -> Message {
    Message::builder().text(text).build()
}

/// A relative URI against `%SRCROOT%` for a relative path (or one under `root`), an absolute
/// `file:` URI for any other absolute path.
fn artifact_location(path: &Path, root: Option<&Path>) -> ArtifactLocation {
    let relative = if path.is_absolute() {
        root.and_then(|root| path.strip_prefix(root).ok())
    } else {
        Some(without_curdir(path))
    };
    match relative {
        Some(relative) => ArtifactLocation::builder()
            .uri(encode_path(relative))
            .uri_base_id(SRCROOT)
            .build(),
        None => ArtifactLocation::builder().uri(file_uri(path)).build(),
    }
}

/// `file:///…` for an absolute path.
fn file_uri(path: &Path) -> String {
    let encoded = encode_path(path);
    if encoded.starts_with('/') {
        format!("file://{encoded}")
    } else {
        format!("file:///{encoded}")
    }
}

/// A path as the path of a URI: every byte outside the unreserved and sub-delimiter characters
/// (and `/`, `@`) percent-encoded, `:` included so that no first segment reads as a scheme.
fn encode_path(path: &Path) -> String {
    let bytes = path_bytes(path);
    let mut out = String::with_capacity(bytes.len());
    for byte in bytes {
        if byte.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=@".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(unix)]
fn path_bytes(path: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    path.as_os_str().as_bytes().to_vec()
}

#[cfg(not(unix))]
fn path_bytes(path: &Path) -> Vec<u8> {
    path.to_string_lossy().replace('\\', "/").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_become_relative_uris_without_dot_slash() {
        let location = artifact_location(Path::new("./dir/a b:c,%.sh"), None);
        assert_eq!(location.uri.as_deref(), Some("dir/a%20b%3Ac,%25.sh"));
        assert_eq!(location.uri_base_id.as_deref(), Some(SRCROOT));
    }

    #[test]
    fn absolute_paths_under_the_root_are_relative_others_are_file_uris() {
        let root = Path::new("/work/repo");
        let inside = artifact_location(Path::new("/work/repo/x/a.sh"), Some(root));
        assert_eq!(inside.uri.as_deref(), Some("x/a.sh"));
        let outside = artifact_location(Path::new("/tmp/é.sh"), Some(root));
        assert_eq!(outside.uri.as_deref(), Some("file:///tmp/%C3%A9.sh"));
        assert_eq!(outside.uri_base_id, None);
    }

    #[test]
    fn full_description_is_the_what_it_does_paragraph() {
        let doc = "# X\n\n## What it does\nFlags a\nrequest.\n\n## Why is this bad?\nBecause.\n";
        assert_eq!(what_it_does(doc), "Flags a request.");
    }
}
