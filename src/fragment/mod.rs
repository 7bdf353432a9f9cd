//! Fragments: pieces of shell code cut out of a host file (a whole script, a Dockerfile `RUN`, a
//! block scalar, a decoded blob) together with a map from every byte of the fragment back to the
//! byte of the original file it came from. Front ends make fragments; the shell analysis reads them
//! without knowing where they came from; findings are mapped back through [`OffsetMap`].

pub mod base64;
pub mod codec;
pub mod dockerfile_line;
pub mod encoding;
pub mod exec_form;
pub mod go_template;
pub mod groovy_string;
pub mod gzip;
pub mod hcl_template;
pub mod json_string;
pub mod language;
pub mod make_recipe;
pub mod markdown_fence;
pub mod mime_transfer;
pub mod python_string;
pub mod quoting;
pub mod yaml_block;
pub mod yaml_double;
pub mod yaml_plain;
pub mod yaml_single;

pub use language::Language;
pub use quoting::Quoting;

/// A byte offset into a fragment's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FragmentOffset(pub usize);

/// A half-open byte range in a fragment's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FragmentSpan {
    pub start: FragmentOffset,
    pub end: FragmentOffset,
}

impl FragmentSpan {
    pub fn new(start: usize, end: usize) -> Self {
        FragmentSpan {
            start: FragmentOffset(start),
            end: FragmentOffset(end.max(start)),
        }
    }
}

/// A byte offset into a host: the bytes a front end read, which are the file itself or a value
/// decoded from it (base64, gzip, a YAML scalar). `crate::check` maps host offsets to the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct HostOffset(pub usize);

/// A half-open byte range in a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct HostSpan {
    pub start: HostOffset,
    pub end: HostOffset,
}

impl HostSpan {
    pub fn new(start: usize, end: usize) -> Self {
        HostSpan {
            start: HostOffset(start),
            end: HostOffset(end.max(start)),
        }
    }

    pub fn len(&self) -> usize {
        self.end.0 - self.start.0
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn contains(&self, other: HostSpan) -> bool {
        self.start <= other.start && other.end <= self.end
    }
}

/// Identifies a host among those of one file (0 is the file itself).
pub type HostId = usize;

/// Maps fragment offsets to host offsets. The map is piecewise the identity: each anchor says
/// "fragment offset `f` is file offset `o`", and offsets after an anchor (up to the next) advance
/// together. Text copied verbatim needs one anchor; each decoded escape adds one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetMap {
    /// Sorted by fragment offset, first anchor at fragment offset 0.
    anchors: Vec<(usize, usize)>,
}

impl OffsetMap {
    /// The map of text copied verbatim from `file_start` on.
    pub fn verbatim(file_start: usize) -> Self {
        OffsetMap {
            anchors: vec![(0, file_start)],
        }
    }

    /// Builds a map from anchors given in fragment order; anchors out of order are dropped.
    pub fn from_anchors(anchors: impl IntoIterator<Item = (usize, usize)>) -> Self {
        let mut kept: Vec<(usize, usize)> = Vec::new();
        for (f, o) in anchors {
            match kept.last_mut() {
                Some(last) if last.0 == f => *last = (f, o),
                Some(last) if last.0 > f => {}
                _ => kept.push((f, o)),
            }
        }
        if kept.first().is_none_or(|first| first.0 != 0) {
            let origin = kept.first().map_or(0, |&(f, o)| o.saturating_sub(f));
            kept.insert(0, (0, origin));
        }
        OffsetMap { anchors: kept }
    }

    /// The host offset of fragment offset `at`.
    pub fn to_host(&self, at: FragmentOffset) -> HostOffset {
        let i = self.anchors.partition_point(|&(f, _)| f <= at.0);
        let (f, o) = self
            .anchors
            .get(i.saturating_sub(1))
            .copied()
            .unwrap_or((0, 0));
        HostOffset(o + (at.0 - f.min(at.0)))
    }

    /// The host range of a fragment range. Decoders anchor a decoded escape at the escape's
    /// first byte and the text after it where the escape ends, so a range that ends on an escape
    /// (an anchor at its last offset and one at its end) ends where the escape does; any other
    /// range ends after the host byte of its last offset (a jump after it, such as a skipped
    /// comment line, is not included).
    pub fn span_to_host(&self, span: FragmentSpan) -> HostSpan {
        let start = self.to_host(span.start).0;
        if span.end.0 <= span.start.0 {
            return HostSpan::new(start, start);
        }
        let anchored = |f: usize| self.anchors.binary_search_by_key(&f, |&(af, _)| af).is_ok();
        let end = if anchored(span.end.0) && anchored(span.end.0 - 1) {
            self.to_host(span.end).0
        } else {
            self.to_host(FragmentOffset(span.end.0 - 1)).0 + 1
        };
        HostSpan::new(start, end)
    }

    /// The pieces the map is made of: each fragment range `[from, to)` (`to` is `None` for the
    /// last, open-ended piece) starts at host offset `at` and advances with it.
    pub fn pieces(&self) -> impl Iterator<Item = (usize, Option<usize>, usize)> + '_ {
        self.anchors
            .iter()
            .enumerate()
            .map(|(k, &(f, o))| (f, self.anchors.get(k + 1).map(|&(next, _)| next), o))
    }

    /// The map of a sub-fragment whose own anchors point into this fragment: each offset of the
    /// result goes through `inner` and then through `self`.
    pub fn compose(&self, inner: &OffsetMap) -> OffsetMap {
        let mut anchors = Vec::with_capacity(inner.anchors.len() + 4);
        for (k, &(f, p)) in inner.anchors.iter().enumerate() {
            // The inner piece covers fragment offsets [f, next_f) = parent offsets [p, p + len).
            let next_f = inner.anchors.get(k + 1).map(|&(nf, _)| nf);
            anchors.push((f, self.to_host(FragmentOffset(p)).0));
            // Where the parent map has anchors inside this piece, the composition needs them too.
            let from = self.anchors.partition_point(|&(pf, _)| pf <= p);
            for &(pf, po) in self.anchors.iter().skip(from) {
                let inner_f = f + (pf - p);
                if next_f.is_some_and(|nf| inner_f >= nf) {
                    break;
                }
                anchors.push((inner_f, po));
            }
        }
        OffsetMap::from_anchors(anchors)
    }
}

/// A YAML plain scalar that text is inserted into: it must become a double-quoted scalar, so
/// the fix also adds the quotes and escapes the `"` and `\` it already holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainScalar {
    pub span: HostSpan,
    /// Where the scalar holds a `"` or `\` that needs a backslash once quoted.
    pub escapes: Vec<HostOffset>,
    /// What the opening quote replaces, when the scalar is a folded block (`>` header, line
    /// break and indentation up to `span.start`); `None` for a plain scalar, where it is inserted.
    pub header: Option<HostSpan>,
}

/// From fragment offset `start` on (up to the next region), how inserted text is written into the
/// host: quoting layers outermost first, or `None` where the fragment cannot be edited in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsertRegion {
    pub start: usize,
    pub quoting: Option<Vec<Quoting>>,
    pub plain: Option<PlainScalar>,
}

impl InsertRegion {
    /// Text copied verbatim from the host: inserted text is written as it is.
    pub fn verbatim() -> Self {
        InsertRegion::quoted(Vec::new())
    }

    pub fn quoted(quoting: Vec<Quoting>) -> Self {
        InsertRegion {
            start: 0,
            quoting: Some(quoting),
            plain: None,
        }
    }

    /// Not editable in place.
    pub fn none() -> Self {
        InsertRegion {
            start: 0,
            quoting: None,
            plain: None,
        }
    }

    pub fn at(mut self, start: usize) -> Self {
        self.start = start;
        self
    }
}

/// The blanks that start the line holding offset `at` of `bytes` (up to `at`).
pub fn line_indent(bytes: &[u8], at: usize) -> String {
    let before = bytes.get(..at).unwrap_or_default();
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    bytes
        .get(line_start..at)
        .unwrap_or_default()
        .iter()
        .take_while(|b| **b == b' ' || **b == b'\t')
        .map(|&b| b as char)
        .collect()
}

/// How many bytes the UTF-8 sequence that starts with `first` has (1 for a stray byte).
pub(crate) fn utf8_len(first: u8) -> usize {
    match first {
        0xf0..=0xff => 4,
        0xe0..=0xef => 3,
        0xc0..=0xdf => 2,
        _ => 1,
    }
}

/// The character that starts at `bytes[i]`, and how many bytes it takes: a replacement
/// character for one byte where the bytes there are not UTF-8 (a stray byte, a sequence cut
/// short).
pub(crate) fn char_at(bytes: &[u8], i: usize) -> (std::borrow::Cow<'_, str>, usize) {
    let len = bytes.get(i).map_or(1, |&b| utf8_len(b));
    match bytes.get(i..i + len).map(std::str::from_utf8) {
        Some(Ok(c)) => (std::borrow::Cow::Borrowed(c), len),
        _ => (std::borrow::Cow::Borrowed("\u{fffd}"), 1),
    }
}

/// Appends `piece`, decoded from host bytes `from..to`, to `out` with anchors that keep every
/// offset of it inside those bytes: where it starts and where it ends, and, where the piece is
/// longer than the bytes it came from (a replacement character for one bad byte, `\L` for
/// U+2028), at each of its bytes.
pub(crate) fn push_decoded(
    out: &mut String,
    anchors: &mut Vec<(usize, usize)>,
    piece: &str,
    from: usize,
    to: usize,
) {
    let at = out.len();
    let width = to.saturating_sub(from).max(1);
    if piece.len() > width {
        anchors.extend((0..piece.len()).map(|k| (at + k, from + k.min(width - 1))));
    } else {
        anchors.push((at, from));
    }
    out.push_str(piece);
    anchors.push((out.len(), to));
}

/// In a flow scalar (single- or double-quoted YAML), how many bytes the line break at `inner[at]`
/// takes (`\r\n`, `\n` or `\r`): 0 if none.
pub(crate) fn line_break(inner: &[u8], at: usize) -> usize {
    match (inner.get(at), inner.get(at + 1)) {
        (Some(b'\r'), Some(b'\n')) => 2,
        (Some(b'\n' | b'\r'), _) => 1,
        _ => 0,
    }
}

/// How many blanks (spaces, tabs) start at `inner[at]`.
pub(crate) fn blanks(inner: &[u8], at: usize) -> usize {
    inner
        .iter()
        .skip(at)
        .take_while(|c| **c == b' ' || **c == b'\t')
        .count()
}

/// Appends the character at `bytes[i]` (host offset `host`) to `out`, as [`char_at`] reads it,
/// anchored when it is not the bytes themselves; returns how many bytes it took.
pub(crate) fn push_char(
    out: &mut String,
    anchors: &mut Vec<(usize, usize)>,
    bytes: &[u8],
    i: usize,
    host: usize,
) -> usize {
    let (piece, len) = char_at(bytes, i);
    if piece.len() == len {
        out.push_str(&piece);
    } else {
        push_decoded(out, anchors, &piece, host, host + len);
    }
    len
}

/// A piece of code and where its bytes came from.
#[derive(Debug, Clone)]
pub struct Fragment {
    pub text: Vec<u8>,
    /// The language of `text`: which analysis reads it.
    pub language: Language,
    /// From fragment offsets to offsets in the host's bytes.
    pub map: OffsetMap,
    /// The host whose bytes `map` points into.
    pub host: HostId,
    /// How text inserted into the fragment is written into the host, by region (sorted by start;
    /// the first starts at 0).
    pub insert: Vec<InsertRegion>,
    /// Whether the fragment is a script of its own, where one token fetch can serve several
    /// requests; otherwise each request fetches its own (a Dockerfile exec form, one argv item).
    pub script: bool,
    /// Variables the host defines for this code (for example a Dockerfile's `ENV`), by name.
    pub environment: Vec<(String, String)>,
    /// Run in a container (a Dockerfile instruction), where IMDS needs a hop limit of 2.
    pub in_container: bool,
    /// Run on a BusyBox system (an Alpine image), whose wget cannot PUT.
    pub busybox: bool,
    /// The commands of the code around it that run it elsewhere or under a name (`ssh HOST
    /// python3 - <<EOF`), outermost first: what its requests' origin chains end with.
    pub run_by: Vec<RunBy>,
}

/// A command that runs the code a request is in elsewhere than the code around it, or later
/// under a name: one step of the request's origin chain (`{"layer": "ssh", "name": "web-1"}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunBy {
    /// `ssh`, `docker`, `podman`, `nerdctl`, `kubectl`, `cloud-init-per`, `heredoc-script`.
    pub layer: &'static str,
    /// The subcommand or frequency: `run`, `exec`, `once`.
    pub key: Option<String>,
    /// The host, image, container, pod, `cloud-init-per` name or written file, as written.
    pub name: Option<String>,
}

impl RunBy {
    /// Whether the code it runs may run on another machine, with another metadata service: a
    /// remote host (`ssh`), or a pod on any node (`kubectl exec`). A container `docker run`
    /// starts shares its instance.
    pub fn other_machine(&self) -> bool {
        matches!(self.layer, "ssh" | "kubectl")
    }

    /// The command as a user would write it: `kubectl exec web`, `ssh ec2-user@host`.
    pub fn command(&self) -> String {
        [Some(self.layer), self.key.as_deref(), self.name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl Fragment {
    /// The insert region holding fragment offset `at`.
    pub fn region_at(&self, at: usize) -> InsertRegion {
        self.insert
            .iter()
            .take_while(|r| r.start <= at)
            .last()
            .cloned()
            .unwrap_or_else(InsertRegion::none)
    }

    /// A whole host that is itself a script.
    pub fn script(bytes: &[u8]) -> Self {
        Fragment {
            text: bytes.to_vec(),
            language: Language::Shell,
            map: OffsetMap::verbatim(0),
            host: 0,
            insert: vec![InsertRegion::verbatim()],
            script: true,
            environment: Vec::new(),
            in_container: false,
            busybox: false,
            run_by: Vec::new(),
        }
    }
}

/// What the layers' property tests check of an offset map.
#[cfg(test)]
pub(crate) mod properties {
    use proptest::prelude::*;

    use super::{FragmentSpan, HostSpan, OffsetMap};

    /// Pieces that layers treat specially: quotes, escapes, line breaks of both kinds, blanks,
    /// what HCL and the shell substitute, comments, multi-byte and control characters.
    const TRICKY: &[&str] = &[
        "a",
        "curl x",
        " ",
        "  ",
        "\t",
        "\n",
        "\r\n",
        "\r",
        "\n\n",
        "\n  ",
        "'",
        "''",
        "\"",
        "\\",
        "\\n",
        "$",
        "${x}",
        "%{",
        "$${",
        "`",
        "#",
        "é",
        "\u{1F600}",
        "\u{0}",
        "\u{85}",
        "\u{7f}",
        "\u{feff}",
        "EOF",
    ];

    /// Text for round trips: any string, or one made of [`TRICKY`] pieces (which an arbitrary
    /// string seldom holds).
    pub fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            proptest::collection::vec(proptest::sample::select(TRICKY), 0..12)
                .prop_map(|pieces| pieces.concat()),
        ]
    }

    /// Every span of a fragment `len` bytes long maps inside `host`, the host span its text
    /// came from; the error names the first span that does not.
    pub fn spans_inside(map: &OffsetMap, len: usize, host: HostSpan) -> Result<(), String> {
        for start in 0..=len {
            for end in start..=len {
                let span = FragmentSpan::new(start, end);
                let mapped = map.span_to_host(span);
                if !host.contains(mapped) {
                    return Err(format!(
                        "fragment {start}..{end} maps to {}..{}, outside {}..{}",
                        mapped.start.0, mapped.end.0, host.start.0, host.end.0
                    ));
                }
            }
        }
        Ok(())
    }

    /// [`spans_inside`] for a decoder's anchors.
    pub fn anchors_inside(
        anchors: &[(usize, usize)],
        len: usize,
        host: HostSpan,
    ) -> Result<(), String> {
        spans_inside(&OffsetMap::from_anchors(anchors.iter().copied()), len, host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbatim_map_shifts() {
        let m = OffsetMap::verbatim(10);
        assert_eq!(m.to_host(FragmentOffset(0)), HostOffset(10));
        assert_eq!(m.to_host(FragmentOffset(5)), HostOffset(15));
    }

    #[test]
    fn escapes_shift_later_offsets() {
        // file:     a \ " b   (offsets 0..4), fragment: a " b
        let m = OffsetMap::from_anchors([(0, 0), (1, 2)]);
        assert_eq!(m.to_host(FragmentOffset(0)), HostOffset(0));
        assert_eq!(m.to_host(FragmentOffset(1)), HostOffset(2));
        assert_eq!(m.to_host(FragmentOffset(2)), HostOffset(3));
        assert_eq!(m.span_to_host(FragmentSpan::new(0, 3)), HostSpan::new(0, 4));
    }

    #[test]
    fn composition_goes_through_both_maps() {
        // Parent: fragment offset 0 is file 100; a decoded escape makes fragment 5.. be file 106..
        let parent = OffsetMap::from_anchors([(0, 100), (5, 106)]);
        // Inner: starts at parent offset 2.
        let inner = OffsetMap::verbatim(2);
        let both = parent.compose(&inner);
        assert_eq!(both.to_host(FragmentOffset(0)), HostOffset(102));
        assert_eq!(both.to_host(FragmentOffset(2)), HostOffset(104));
        assert_eq!(both.to_host(FragmentOffset(3)), HostOffset(106));
        assert_eq!(both.to_host(FragmentOffset(4)), HostOffset(107));
    }
}
