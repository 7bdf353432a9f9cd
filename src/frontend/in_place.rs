//! User data read in place: text a front end assembled out of pieces of its host (a CloudFormation
//! `Fn::Join`, an `Fn::Sub` with its references as placeholders) that holds another user-data
//! format (MIME, cloud-config, a boothook) is read by that format's front end, and what it finds
//! points into the host itself. A value in it that decodes one to one (a MIME part sent as it is,
//! a cloud-config block scalar) is read in place again, down to the shell: a fix there is written
//! through the pieces' own quoting (a JSON string, a YAML block, `Fn::Sub`'s `${!`), never by
//! writing the whole assembled value back, which holds placeholders and separators. An opaque
//! value (a base64 or gzip part) stays a host of its own, rewritten whole where it lies in one
//! editable piece.

use super::{Embedded, Kind, NotRun, Parsed};
use crate::fragment::codec::Codec;
use crate::fragment::{
    Fragment, FragmentOffset, FragmentSpan, HostId, HostSpan, InsertRegion, OffsetMap, PlainScalar,
    Quoting,
};
use crate::model::{Note, OriginEntry};

/// How many values decoded one to one are read in place inside one another (a MIME part holding
/// a cloud-config holding a script is two).
const MAX_DEPTH: usize = 6;

/// Where assembled text lies in its host: text offsets to host offsets, and how text inserted
/// into it is written, by region (sorted by start, the first at 0).
pub struct Outer<'a> {
    pub host: HostId,
    pub map: &'a OffsetMap,
    pub regions: &'a [InsertRegion],
}

/// Reads `text` (laid in its host as `outer` says) with the front end for `kind`, into `parsed`;
/// `origin` is put before the origin of each opaque value that stays a host of its own.
pub fn read(kind: Kind, text: &[u8], outer: &Outer, origin: &[OriginEntry], parsed: &mut Parsed) {
    let level = Level {
        host: outer.host,
        map: outer.map.clone(),
        regions: outer.regions.to_vec(),
    };
    read_level(kind, text, &level, origin, 0, parsed);
}

/// One level of text read in place: its map to the host and its regions.
struct Level {
    host: HostId,
    map: OffsetMap,
    regions: Vec<InsertRegion>,
}

fn read_level(
    kind: Kind,
    text: &[u8],
    level: &Level,
    origin: &[OriginEntry],
    depth: usize,
    parsed: &mut Parsed,
) {
    let inner = super::parse(kind, text, level.host);
    let to_host = |span: HostSpan| {
        level
            .map
            .span_to_host(FragmentSpan::new(span.start.0, span.end.0))
    };
    for fragment in inner.fragments {
        parsed.fragments.push(lift(fragment, level));
    }
    for not_run in inner.not_run {
        parsed.not_run.push(NotRun {
            fragment: lift(not_run.fragment, level),
            why: not_run.why,
        });
    }
    parsed
        .diagnostics
        .extend(inner.diagnostics.into_iter().map(Note::within));
    parsed
        .unparsed
        .extend(inner.unparsed.into_iter().map(to_host));
    parsed.shared.extend(inner.shared.into_iter().map(to_host));
    parsed.places.extend(
        inner
            .places
            .into_iter()
            .map(|(span, entry)| (to_host(span), entry)),
    );
    for mut embedded in inner.embedded {
        let Some(kind) = embedded
            .kind
            .or_else(|| super::classify_content(&embedded.bytes))
        else {
            continue;
        };
        // How text inserted into the value is written in the text it was decoded from: `None`
        // for an opaque value, `Some(None)` for one read one to one but not editable in place.
        let layer = match &embedded.codec {
            Codec::Verbatim => Some(Some(Vec::new())),
            Codec::YamlBlock { indent, .. } => Some(Some(vec![Quoting::YamlBlock {
                indent: indent.clone(),
            }])),
            Codec::YamlPlain | Codec::ExecForm => Some(None),
            _ => None,
        };
        match (layer, &embedded.map) {
            (Some(layer), Some(map)) => {
                if depth + 1 > MAX_DEPTH {
                    parsed.diagnostics.push(Note::partly_analysed(
                        "encoded values nest too deeply; the innermost were not read",
                    ));
                    continue;
                }
                let own = [InsertRegion {
                    start: 0,
                    quoting: layer,
                    plain: None,
                }];
                let next = Level {
                    host: level.host,
                    regions: compose(map, &own, embedded.bytes.len(), level),
                    map: level.map.compose(map),
                };
                read_level(kind, &embedded.bytes, &next, origin, depth + 1, parsed);
            }
            _ => {
                // Written back whole: only where it lies in one editable piece of the host.
                let (start, end) = (embedded.span.start.0, embedded.span.end.0);
                let region = region_at(&level.regions, start);
                let one_piece = !level
                    .regions
                    .iter()
                    .any(|r| start < r.start && r.start < end);
                let layer = match (&region.quoting, &region.plain, one_piece) {
                    (Some(quoting), None, true) => quoting.first().cloned(),
                    _ => {
                        parsed.diagnostics.push(Note::partly_analysed(format!(
                            "an encoded {} value is split across pieces of the user data; it was not read",
                            embedded.codec.name()
                        )));
                        continue;
                    }
                };
                embedded.span = to_host(embedded.span);
                embedded.codec =
                    crate::fragment::base64::under_layer(embedded.codec, layer.as_ref());
                let mut chain = origin.to_vec();
                chain.append(&mut embedded.origin);
                embedded.origin = chain;
                embedded.kind = Some(kind);
                parsed.embedded.push(Embedded { ..embedded });
            }
        }
    }
}

/// A fragment of the level's text as a fragment of the host.
fn lift(mut fragment: Fragment, level: &Level) -> Fragment {
    fragment.insert = compose(&fragment.map, &fragment.insert, fragment.text.len(), level);
    fragment.map = level.map.compose(&fragment.map);
    fragment.host = level.host;
    fragment
}

fn region_at(regions: &[InsertRegion], at: usize) -> InsertRegion {
    regions
        .iter()
        .take_while(|r| r.start <= at)
        .last()
        .cloned()
        .unwrap_or_else(InsertRegion::none)
}

/// The regions of a text decoded from the level's text (`map` from the one to the other, `own`
/// its regions, `len` its length): each the level's quoting then its own, split wherever either
/// changes.
fn compose(map: &OffsetMap, own: &[InsertRegion], len: usize, level: &Level) -> Vec<InsertRegion> {
    let mut starts: Vec<usize> = own.iter().map(|r| r.start).collect();
    starts.push(0);
    for (from, to, at) in map.pieces() {
        starts.push(from);
        let end = to.map(|to| at + (to - from));
        for region in &level.regions {
            if region.start > at && end.is_none_or(|end| region.start < end) {
                starts.push(from + (region.start - at));
            }
        }
    }
    starts.retain(|&s| s == 0 || s < len);
    starts.sort_unstable();
    starts.dedup();
    starts
        .into_iter()
        .map(|start| {
            let inner = region_at(own, start);
            let around = region_at(&level.regions, map.to_host(FragmentOffset(start)).0);
            let (quoting, plain) = match (around.quoting, around.plain, inner.quoting) {
                (Some(mut quoting), None, Some(inner_quoting)) => match inner.plain {
                    None => {
                        quoting.extend(inner_quoting);
                        (Some(quoting), None)
                    }
                    // A YAML plain scalar becomes double-quoted: its quotes and backslashes are
                    // written as they are, so only through layers that keep them.
                    Some(plain) if quoting.iter().all(keeps_quotes) => {
                        quoting.extend(inner_quoting);
                        (Some(quoting), Some(plain_in_host(&plain, &level.map)))
                    }
                    Some(_) => (None, None),
                },
                _ => (None, None),
            };
            InsertRegion {
                start,
                quoting,
                plain,
            }
        })
        .collect()
}

/// Whether a layer writes `"` and `\` as they are.
fn keeps_quotes(layer: &Quoting) -> bool {
    matches!(
        layer,
        Quoting::YamlBlock { .. }
            | Quoting::CloudFormationSub
            | Quoting::HclTemplate
            | Quoting::Unquoted
            | Quoting::QuotedHeredoc
    )
}

fn plain_in_host(plain: &PlainScalar, map: &OffsetMap) -> PlainScalar {
    let to_host = |span: HostSpan| map.span_to_host(FragmentSpan::new(span.start.0, span.end.0));
    PlainScalar {
        span: to_host(plain.span),
        escapes: plain
            .escapes
            .iter()
            .map(|at| map.to_host(FragmentOffset(at.0)))
            .collect(),
        header: plain.header.map(to_host),
    }
}

#[cfg(test)]
mod tests {
    use crate::model::Note;

    fn template(parts: &str) -> String {
        format!(
            "{{\"Resources\": {{\"I\": {{\"Type\": \"AWS::EC2::Instance\", \"Properties\": {{\"UserData\": {{\"Fn::Base64\": {{\"Fn::Join\": [\"\", [\"Content-Type: multipart/mixed; boundary=B\\n\\n--B\\nContent-Type: text/x-shellscript\\nContent-Transfer-Encoding: base64\\n\\n\", {parts}, \"\\n--B--\\n\"]]}}}}}}}}}}}}"
        )
    }

    #[test]
    fn an_opaque_part_is_a_host_only_in_one_piece() {
        // "#!/bin/sh\ncurl x\n" in base64.
        let whole =
            super::super::manifests::parse(template("\"IyEvYmluL3NoCmN1cmwgeAo=\"").as_bytes(), 0);
        assert_eq!(whole.embedded.len(), 1);
        assert_eq!(whole.embedded[0].bytes, b"#!/bin/sh\ncurl x\n");
        assert!(whole.diagnostics.is_empty());
        let split = super::super::manifests::parse(
            template("\"IyEvYmluL3NoCmN1\", \"cmwgeAo=\"").as_bytes(),
            0,
        );
        assert!(split.embedded.is_empty());
        assert_eq!(
            split.diagnostics,
            [Note::partly_analysed(
                "an encoded base64 value is split across pieces of the user data; it was not read"
            )]
        );
    }
}
