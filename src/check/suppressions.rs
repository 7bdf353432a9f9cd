//! Suppression comments that do nothing (IMDS090): once every rule has run and every finding
//! has been held against the markers, the markers of the file, and of the values decoded from
//! it, say which of their codes suppressed nothing; the suppression rules turn that into findings,
//! with a fix that takes those codes out of the file.

use super::Checking;
use crate::fix::{Applicability, Fix};
use crate::fragment::{HostId, HostSpan};
use crate::model::Finding;
use crate::rules::{self, Check, SuppressionContext};
use crate::source::FileSpan;
use crate::suppress::Marker;

/// The findings of the suppression rules in one file.
pub(super) fn findings(checking: &Checking) -> Vec<Finding> {
    let (view, settings) = (checking.view, checking.settings);
    let enabled = |rule: &rules::Rule| settings.rules.enabled(rule);
    if !rules::RULES
        .iter()
        .any(|e| matches!(e.check, Check::Suppression(_)) && enabled(&e.rule))
    {
        return Vec::new();
    }
    let file = checking.suppressions;
    let mut seen: Vec<Seen> = Vec::new();
    // The innermost decoded host each file marker is also read in, and its index there.
    let mut written_in: Vec<Option<(HostId, usize)>> = vec![None; file.markers().len()];
    // A decoded host that is the file's text through one-to-one maps holds the same markers as
    // the file: what they suppressed there counts for the file's marker at the same place, and
    // that host's syntax (a YAML or JSON string's escapes) is where the marker is edited.
    view.each_host_markers(|host, markers, _| {
        let exact = view.maps_exactly(host);
        for (index, marker) in markers.markers().iter().enumerate() {
            let at = view.to_file(host, marker.span);
            let twin = file
                .markers()
                .iter()
                .position(|m| m.span.start.0 == at.start.0 && m.codes.len() == marker.codes.len())
                .filter(|_| exact);
            match twin.and_then(|t| Some((t, file.markers().get(t)?))) {
                Some((at, twin)) => {
                    for i in (0..marker.codes.len()).filter(|&i| marker.used(i)) {
                        twin.mark_used(i);
                    }
                    if let Some(slot) = written_in.get_mut(at) {
                        *slot = Some((host, index));
                    }
                }
                None => seen.push(Seen::of(host, marker, None)),
            }
        }
    });
    let mut out: Vec<Finding> = file
        .markers()
        .iter()
        .zip(written_in)
        .map(|(marker, written_in)| Seen {
            written_in,
            ..Seen::of(0, marker, Some(marker))
        })
        .chain(seen)
        .filter_map(|marker| finding(checking, &marker))
        .collect();
    // A marker that names IMDS090 (or one that covers its line) keeps it unreported.
    let line_of = |span: FileSpan| view.source.line_index(span.start);
    out.retain(|f| !file.covers(f.rule.code, line_of(f.span), line_of(f.span)));
    out
}

/// One marker as the suppression rules see it: where, its codes and which were used, and, for a
/// marker in the file's own text, the marker to edit.
struct Seen<'m> {
    host: HostId,
    span: HostSpan,
    codes: Vec<String>,
    used: Vec<bool>,
    bare: bool,
    editable: Option<&'m Marker>,
    /// The decoded host (and the marker's index there) whose text the marker is edited in.
    written_in: Option<(HostId, usize)>,
}

impl<'m> Seen<'m> {
    fn of(host: HostId, marker: &Marker, editable: Option<&'m Marker>) -> Self {
        Seen {
            host,
            span: marker.span,
            codes: marker.codes.iter().map(|(c, _)| c.clone()).collect(),
            used: (0..marker.codes.len()).map(|i| marker.used(i)).collect(),
            bare: marker.is_bare(),
            editable,
            written_in: None,
        }
    }
}

/// The finding for one marker (in the file's text, with a fix; or only in a decoded host,
/// reported where the host's value is, without one), if it does nothing in part.
fn finding(checking: &Checking, marker: &Seen) -> Option<Finding> {
    let settings = checking.settings;
    let Seen {
        host,
        span: host_span,
        ref codes,
        ref used,
        bare,
        editable,
        written_in,
    } = *marker;
    let span = checking.view.to_file(host, host_span);
    let names_itself = codes.iter().any(|c| {
        rules::RULES
            .iter()
            .any(|e| e.rule.code == c && matches!(e.check, Check::Suppression(_)))
    });
    if names_itself {
        return None;
    }
    let mut unknown = Vec::new();
    let mut unused = Vec::new();
    let mut remove = Vec::new();
    let mut depends_on_other_files = false;
    for (i, code) in codes.iter().enumerate() {
        let entry = rules::RULES.iter().find(|e| e.rule.code == code);
        match entry {
            None if code != "ALL" => {
                unknown.push(code.clone());
                remove.push(i);
            }
            // A rule the run does not enable could not have used it.
            Some(entry) if !settings.rules.enabled(&entry.rule) => {}
            _ if used.get(i).copied().unwrap_or(true) => {}
            _ => {
                unused.push(code.clone());
                remove.push(i);
                depends_on_other_files |= match entry {
                    Some(entry) => matches!(entry.check, Check::Setting(_)),
                    None => true,
                };
            }
        }
    }
    let context = SuppressionContext {
        bare,
        unknown: &unknown,
        unused: &unused,
    };
    let (entry, violation) = rules::check_suppression(&context, |r| settings.rules.enabled(r))
        .into_iter()
        .next()?;
    let message = if remove.len() == codes.len() {
        "Remove the suppression comment".to_owned()
    } else {
        format!(
            "Remove {} from the suppression comment",
            unknown
                .iter()
                .chain(&unused)
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let fix = |edits| Fix {
        applicability: Applicability::Safe,
        message: message.clone(),
        edits,
    };
    let view = checking.view;
    let fix = match (editable.filter(|_| !bare && host == 0), written_in) {
        (Some(_), Some((inner, index))) => view
            .host_marker_removal(inner, index, &remove)
            .and_then(|edits| view.lift(inner, fix(edits))),
        (Some(marker), None) => view
            .unparsed_around(0, host_span)
            .is_none()
            .then(|| marker.removal(&view.source.bytes, &remove))
            .flatten()
            .map(fix),
        (None, _) => None,
    };
    let fix = fix.map(|fix| {
        if depends_on_other_files {
            fix.made_unsafe("the findings of instance settings rules depend on the other files scanned with this one")
        } else {
            fix
        }
    });
    let (origin, decoded) = checking.view.origin(host, host_span);
    Some(Finding {
        rule: &entry.rule,
        severity: settings.severity_of(&entry.rule),
        span,
        message: violation.message,
        help: violation.help,
        fix,
        origin,
        decoded,
        related: Vec::new(),
    })
}
