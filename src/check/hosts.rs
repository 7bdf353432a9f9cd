//! The hosts of one file and the way back from them: a host is bytes a front end reads (the file,
//! or a value decoded from a parent host); positions, origins, suppressions and fixes in a host
//! are taken back to the file through each link, exactly through one-to-one maps and to the whole
//! encoded value through opaque encodings.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;

use crate::fix::{self, Fix};
use crate::fragment::codec::Codec;
use crate::fragment::{FragmentSpan, HostId, HostSpan, OffsetMap};
use crate::model::OriginEntry;
use crate::source::{FileSpan, SourceFile};
use crate::suppress::Suppressions;

/// How deep encoded values may nest (a Secret holding MIME holding base64 holding gzip …).
pub(super) const MAX_HOST_DEPTH: usize = 6;

/// A host: bytes a front end reads. Host 0 is the file itself; others were decoded from a value
/// in their parent host.
#[derive(Debug)]
pub struct Host {
    pub bytes: Vec<u8>,
    pub link: Option<HostLink>,
    /// The parts of it its front end could not parse (`frontend::Parsed::unparsed`).
    pub unparsed: Vec<HostSpan>,
    /// Text that several places read (see `frontend::Parsed::shared`).
    pub shared: Vec<HostSpan>,
    /// Named parts of it, for origin chains (`frontend::Parsed::places`).
    pub places: Vec<(HostSpan, OriginEntry)>,
}

/// How a host sits in its parent.
#[derive(Debug)]
pub struct HostLink {
    pub parent: HostId,
    /// The encoded value in the parent.
    pub span: HostSpan,
    /// Host offsets to parent offsets, when they correspond one to one (a YAML scalar); `None`
    /// for opaque encodings, whose every offset maps to the value as a whole.
    pub map: Option<OffsetMap>,
    pub codec: Codec,
    /// The containers between the parent and this host (a Secret's key, a MIME part).
    pub origin: Vec<OriginEntry>,
}

fn suppressed(
    suppressions: &Suppressions,
    source: &SourceFile,
    code: &str,
    span: FileSpan,
) -> bool {
    let first = source.line_index(span.start);
    let last = source.line_index(crate::source::FileOffset(span.end.0.saturating_sub(1)));
    suppressions.covers(code, first, last.max(first))
}

/// The hosts of one file, for mapping positions and fixes back to the file.
pub(super) struct Hosts<'a> {
    pub source: &'a SourceFile,
    hosts: &'a [Host],
    /// The suppression markers in each decoded host's own text, read on first use.
    markers: RefCell<HashMap<HostId, Suppressions>>,
}

impl<'a> Hosts<'a> {
    pub fn new(source: &'a SourceFile, hosts: &'a [Host]) -> Self {
        Hosts {
            source,
            hosts,
            markers: RefCell::default(),
        }
    }

    /// Whether a finding of `code` at `span` of `host` is suppressed: by a marker in the file on
    /// its lines, or by one in the decoded host's own text.
    pub fn is_suppressed(
        &self,
        file: &Suppressions,
        code: &str,
        host: HostId,
        span: HostSpan,
    ) -> bool {
        if suppressed(file, self.source, code, self.to_file(host, span)) {
            return true;
        }
        if host == 0 {
            return false;
        }
        let bytes = self.bytes(host);
        let mut markers = self.markers.borrow_mut();
        markers
            .entry(host)
            .or_insert_with(|| Suppressions::parse(bytes))
            .covers_span(bytes, code, span)
    }

    /// Calls `each` with every decoded host, its markers (read now if no finding read them
    /// yet) and its text; hosts without markers are skipped.
    pub fn each_host_markers(&self, mut each: impl FnMut(HostId, &Suppressions, &[u8])) {
        for host in 1..self.hosts.len() {
            let bytes = self.bytes(host);
            let mut markers = self.markers.borrow_mut();
            let found = markers
                .entry(host)
                .or_insert_with(|| Suppressions::parse(bytes));
            if !found.markers().is_empty() {
                each(host, found, bytes);
            }
        }
    }

    /// The edits on `host`'s text that take the codes at `remove` out of its marker at `index`
    /// (`crate::suppress::Marker::removal`).
    pub fn host_marker_removal(
        &self,
        host: HostId,
        index: usize,
        remove: &[usize],
    ) -> Option<Vec<fix::Edit>> {
        let markers = self.markers.borrow();
        markers
            .get(&host)?
            .markers()
            .get(index)?
            .removal(self.bytes(host), remove)
    }

    /// Whether every link from `host` to the file maps offsets one to one (no opaque encoding).
    pub fn maps_exactly(&self, mut host: HostId) -> bool {
        for _ in 0..=MAX_HOST_DEPTH + 1 {
            match self.link(host) {
                Some(link) if link.map.is_some() => host = link.parent,
                Some(_) => return false,
                None => return true,
            }
        }
        false
    }

    pub(super) fn bytes(&self, host: HostId) -> &[u8] {
        match host {
            0 => &self.source.bytes,
            _ => self.hosts.get(host).map_or(&[][..], |h| &h.bytes),
        }
    }

    fn link(&self, host: HostId) -> Option<&HostLink> {
        self.hosts.get(host).and_then(|h| h.link.as_ref())
    }

    /// Whether `host` is one of `ancestors` or was decoded from one of them.
    pub fn descends(&self, mut host: HostId, ancestors: &[HostId]) -> bool {
        for _ in 0..=MAX_HOST_DEPTH + 1 {
            if ancestors.contains(&host) {
                return true;
            }
            match self.link(host) {
                Some(link) => host = link.parent,
                None => return false,
            }
        }
        false
    }

    /// The file range of a range in `host`: exact through one-to-one maps, the whole encoded value
    /// through opaque encodings.
    pub fn to_file(&self, mut host: HostId, mut span: HostSpan) -> FileSpan {
        for _ in 0..=MAX_HOST_DEPTH + 1 {
            let Some(link) = self.link(host) else {
                break;
            };
            span = match &link.map {
                Some(map) => map.span_to_host(FragmentSpan::new(span.start.0, span.end.0)),
                None => link.span,
            };
            host = link.parent;
        }
        FileSpan::new(span.start.0, span.end.0)
    }

    /// The origin of a range in `host`, outermost first, and (inside an opaque encoding) the
    /// decoded command, redacted.
    pub fn origin(
        &self,
        mut host: HostId,
        mut span: HostSpan,
    ) -> (Vec<OriginEntry>, Option<String>) {
        let mut entries: Vec<Vec<OriginEntry>> = Vec::new();
        let mut decoded = None;
        // Each decoded host and its parent, for names decoding changed (a template's).
        let mut layers: Vec<(HostId, &HostLink)> = Vec::new();
        for _ in 0..=MAX_HOST_DEPTH + 1 {
            // The named parts of this host the range is in, after the layers the host sits in.
            let mut places: Vec<(HostSpan, OriginEntry)> = Vec::new();
            for (at, entry) in self.hosts.get(host).map_or(&[][..], |h| &h.places) {
                // The same text read under other names (YAML aliases: a `write_files` entry
                // whose content is `*body`) is where it is written: its first place only.
                let again = places.iter().any(|(first, seen)| {
                    first == at && seen.layer == entry.layer && seen.key == entry.key
                });
                if at.start <= span.start && span.end <= at.end && !again {
                    places.push((*at, entry.clone()));
                }
            }
            let places: Vec<OriginEntry> = places.into_iter().map(|(_, entry)| entry).collect();
            let Some(link) = self.link(host) else {
                entries.push(places);
                break;
            };
            layers.push((host, link));
            let mut here = link.origin.clone();
            if link.codec.is_opaque() {
                let bytes = self.bytes(host);
                let lines = SourceFile::new(PathBuf::new(), bytes.to_vec());
                let position = lines.position(crate::source::FileOffset(span.start.0));
                let mut entry = OriginEntry::layer(link.codec.name());
                entry.line = Some(position.line);
                entry.column = Some(position.column);
                here.push(entry);
                if decoded.is_none() {
                    let text = bytes.get(span.start.0..span.end.0).unwrap_or_default();
                    decoded = Some(crate::redact::redact(&String::from_utf8_lossy(text)));
                }
            }
            here.extend(places);
            entries.push(here);
            span = match &link.map {
                Some(map) => map.span_to_host(FragmentSpan::new(span.start.0, span.end.0)),
                None => link.span,
            };
            host = link.parent;
        }
        entries.reverse();
        let mut entries: Vec<OriginEntry> = entries.into_iter().flatten().collect();
        for entry in &mut entries {
            for &(child, link) in &layers {
                let name = entry.name.as_deref().and_then(|name| {
                    let (text, parent) = (self.bytes(child), self.bytes(link.parent));
                    link.codec.original_name(name, text, parent)
                });
                if name.is_some() {
                    entry.name = name;
                    break;
                }
            }
        }
        (entries, decoded)
    }

    /// The part of the file, around `span` of `host`, that the front end of `host` (or of a host
    /// it was decoded from) could not parse, if there is one: what is read there may not be what
    /// is written, and no fix edits there. A span that touches such a part is around it.
    pub fn unparsed_around(&self, mut host: HostId, mut span: HostSpan) -> Option<FileSpan> {
        for _ in 0..=MAX_HOST_DEPTH + 1 {
            let hit = self.hosts.get(host).and_then(|h| {
                h.unparsed
                    .iter()
                    .find(|u| u.start <= span.end && span.start <= u.end)
            });
            if let Some(unparsed) = hit {
                return Some(self.to_file(host, *unparsed));
            }
            let link = self.link(host)?;
            span = match &link.map {
                Some(map) => map.span_to_host(FragmentSpan::new(span.start.0, span.end.0)),
                None => link.span,
            };
            host = link.parent;
        }
        None
    }

    /// What a finding at `span` of `host` says when it is in a part that could not be parsed
    /// ([`Hosts::unparsed_around`]): where, and that there is no fix.
    pub fn unparsed_note(&self, host: HostId, span: HostSpan) -> Option<String> {
        let at = self.unparsed_around(host, span)?;
        let first = self.source.position(at.start).line;
        let last = self
            .source
            .position(crate::source::FileOffset(
                at.end.0.saturating_sub(1).max(at.start.0),
            ))
            .line;
        let lines = if first == last {
            format!("line {first}")
        } else {
            format!("lines {first}-{last}")
        };
        Some(format!(
            "the file could not be parsed around it ({lines}), so it may be read wrong and is not fixed"
        ))
    }

    /// A fix with edits in `host`, as edits on the file: an encoded host is rewritten whole (and
    /// the fix is unsafe where rewriting it changes more than the text). `None` when it cannot
    /// be written, or when an edit is in a part that could not be parsed
    /// ([`Hosts::unparsed_around`]).
    pub fn lift(&self, mut host: HostId, mut fix: Fix) -> Option<Fix> {
        if fix
            .edits
            .iter()
            .any(|edit| self.unparsed_around(host, edit.span).is_some())
        {
            return None;
        }
        for _ in 0..=MAX_HOST_DEPTH + 1 {
            let shared = self.hosts.get(host).map_or(&[][..], |h| &h.shared[..]);
            let edits_shared = fix.edits.iter().any(|edit| {
                shared.iter().any(|s| {
                    edit.span.start < s.end
                        && s.start.0 < edit.span.end.0.max(edit.span.start.0 + 1)
                })
            });
            if edits_shared && fix.applicability == fix::Applicability::Safe {
                fix.applicability = fix::Applicability::Unsafe;
                fix.message = format!(
                    "{} (unsafe: it edits YAML that aliases share, so every alias of it changes)",
                    fix.message
                );
            }
            let Some(link) = self.link(host) else {
                return Some(fix);
            };
            if let Some(why) = link.codec.changes_behaviour() {
                fix.applicability = fix::Applicability::Unsafe;
                fix.message = format!("{} (unsafe: {why})", fix.message);
            }
            if let Some(edits) = self.in_place(host, link, &fix.edits) {
                fix.edits = edits?;
                host = link.parent;
                continue;
            }
            let fixed = fix::apply::apply_edits(self.bytes(host), &fix.edits)?;
            let encoded = link.codec.encode(&fixed)?;
            fix.edits = vec![fix::Edit {
                span: link.span,
                content: String::from_utf8(encoded).ok()?,
            }];
            host = link.parent;
        }
        None
    }

    /// Edits in a host whose encoding is written in place (a code block in documentation, a
    /// Helm template), as edits on its parent through the link's map: `None` when the encoding
    /// is rewritten whole, `Some(None)` when an edit spans text of the parent that the host
    /// leaves out (an output line of a console block) or touches a template action.
    fn in_place(
        &self,
        host: HostId,
        link: &HostLink,
        edits: &[fix::Edit],
    ) -> Option<Option<Vec<fix::Edit>>> {
        link.codec.encode_in_place("", false)?;
        let decoded_len = self.bytes(host).len();
        let map = link.map.as_ref()?;
        let pieces: Vec<(usize, usize)> = map.pieces().map(|(f, _, at)| (f, at)).collect();
        let parent = self.bytes(link.parent);
        let mut out = Vec::with_capacity(edits.len());
        for edit in edits {
            let (start, end) = (edit.span.start.0, edit.span.end.0);
            let gaps: Vec<(usize, usize)> = pieces
                .windows(2)
                .filter_map(|w| match w {
                    [(pf, pat), (f, at)] if *f > start && *f < end => Some((pat + (f - pf), *at)),
                    _ => None,
                })
                .collect();
            if !crate::fragment::markdown_fence::gaps_are_prefixes(parent, &gaps)
                || !link.codec.edits_in_place(start, end)
            {
                return Some(None);
            }
            let at_end = start == end && start == decoded_len;
            let Some(content) = link.codec.encode_in_place(&edit.content, at_end) else {
                return Some(None);
            };
            let span = map.span_to_host(FragmentSpan::new(start, end));
            out.push(fix::Edit { span, content });
        }
        Some(Some(out))
    }
}
