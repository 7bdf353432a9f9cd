//! The prefilter: most files of a repository cannot make a metadata request or declare a
//! setting, and proving that with a multi-pattern search (two steps, see [`Prefilter`]) is far
//! cheaper than parsing them. A
//! file is parsed only when an endpoint spelling (plain, or in base64 at any alignment), a host
//! name from the configuration, a word that marks a settings resource, a suppression comment's
//! `imds-lint`, or data that may hide
//! any of them from these needles occurs in it: gzip (raw, or in base64 at any alignment), and
//! in base64 a format that holds base64 itself (MIME, cloud-config).

use crate::frontend;
use crate::shell;

/// The needles of one run (the built-in ones and the configured host names), searched in one
/// pass with a check at each place it stops.
///
/// Most files hold none, and showing that is most of the prefilter's work. A search for every
/// needle in any case (an automaton) runs at about 500 MB/s; a regex of literals, which finds
/// them with SIMD, about 2.7 times as fast (87 against 233 ms over the generated corpus's 132 MB,
/// one thread, the same 94 files let through), but only as written and only while the literals
/// are few. So the search looks for literals that any occurrence of a needle holds
/// ([`first_literals`]): a needle itself where its readers take it as written or in a few
/// spellings, and a short part of a host name (an anchor) where any case is read. Where an
/// anchor occurs, the host name it is part of is compared in any case around it; until stop 14 a
/// second search for every needle in any case went over the whole file instead, and let a file
/// through where an anchor occurred anywhere and a needle in another case anywhere else.
#[derive(Debug, Clone)]
pub struct Prefilter {
    first: Option<regex::bytes::Regex>,
    /// What an occurrence of each literal shows, by the literal's first byte.
    literals: Vec<Vec<(Vec<u8>, Shows)>>,
}

/// What an occurrence of a literal of the search shows.
#[derive(Debug, Clone, PartialEq)]
enum Shows {
    /// A needle, as its readers take it.
    Needle,
    /// A needle read in any case, if its text around the literal (which starts `at` bytes into
    /// it) is the needle's.
    Within { needle: Vec<u8>, at: usize },
}

impl Default for Prefilter {
    fn default() -> Self {
        Prefilter::new(&[])
    }
}

impl Prefilter {
    /// The prefilter for a run whose configuration adds `extra_hosts` (`extra-hosts`).
    pub fn new(extra_hosts: &[String]) -> Self {
        let needles = needles(extra_hosts);
        let mut literals: Vec<Vec<(Vec<u8>, Shows)>> = vec![Vec::new(); 256];
        for (literal, shows) in first_literals(&needles) {
            if let Some(by_first) = literal
                .first()
                .and_then(|first| literals.get_mut(usize::from(*first)))
            {
                by_first.push((literal, shows));
            }
        }
        let mut pattern: Vec<String> = literals
            .iter()
            .flatten()
            .map(|(l, _)| l.iter().map(|b| format!("\\x{b:02x}")).collect())
            .collect();
        pattern.sort();
        pattern.dedup();
        let first = regex::bytes::RegexBuilder::new(&pattern.join("|"))
            .unicode(false)
            .build()
            .ok();
        Prefilter { first, literals }
    }

    /// Whether `bytes` may hold a metadata request (or a setting) at all: a needle occurs in
    /// them, or they are gzip data. Without a matcher (it cannot fail to build from these
    /// needles), everything may.
    pub fn may_reach_imds(&self, bytes: &[u8]) -> bool {
        if bytes.starts_with(&[0x1f, 0x8b]) {
            return true;
        }
        let Some(first) = &self.first else {
            return true;
        };
        let mut from = 0;
        while let Some(found) = first.find_at(bytes, from) {
            // Every literal that starts there, not only the one the search reports.
            let at = found.start();
            let rest = bytes.get(at..).unwrap_or_default();
            let candidates = rest
                .first()
                .and_then(|b| self.literals.get(usize::from(*b)))
                .map_or(&[][..], Vec::as_slice);
            let shown = candidates.iter().any(|(literal, shows)| {
                rest.starts_with(literal)
                    && match shows {
                        Shows::Needle => true,
                        Shows::Within { needle, at: into } => at
                            .checked_sub(*into)
                            .and_then(|start| bytes.get(start..start + needle.len()))
                            .is_some_and(|text| text.eq_ignore_ascii_case(needle)),
                    }
            });
            if shown {
                return true;
            }
            from = at + 1;
        }
        false
    }
}

/// How the readers of a needle take its case, which decides what the first step looks for.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Case {
    /// Any case: a URL's host (`INSTANCE-DATA`, `FD00:EC2::254`). The first step looks for
    /// every case of a part of it ([`anchors`]).
    Any,
    /// Names their readers fold: package pins (`Boto3==`), an environment variable spelling
    /// (`DD_EC2_PREFER_IMDSV2`). The first step looks for them as written, in lower case, upper
    /// case and capitalised.
    Folded,
    /// As written: names of resources, kinds, fields and functions, which their readers match
    /// exactly; image names, which must be lower case; base64 and gzip data. (Until stop 13 the
    /// one search took these in any case too: a file holding one only in another case, where
    /// nothing could be found, is no longer parsed.)
    Exact,
}

/// What the search looks for, with what each occurrence shows: each [`Case::Exact`] needle, the
/// spellings of each [`Case::Folded`] one, and every case of an anchor of each [`Case::Any`] one.
fn first_literals(needles: &[(Case, Vec<u8>)]) -> Vec<(Vec<u8>, Shows)> {
    let mut literals: Vec<(Vec<u8>, Shows)> = Vec::new();
    for (case, needle) in needles {
        match case {
            Case::Exact => literals.push((needle.clone(), Shows::Needle)),
            Case::Folded => {
                let mut capitalised = needle.to_ascii_lowercase();
                if let Some(first) = capitalised.first_mut() {
                    first.make_ascii_uppercase();
                }
                literals.extend(
                    [
                        needle.clone(),
                        needle.to_ascii_lowercase(),
                        needle.to_ascii_uppercase(),
                        capitalised,
                    ]
                    .map(|spelling| (spelling, Shows::Needle)),
                );
            }
            Case::Any => {
                let (at, cases) = anchors(needle);
                literals.extend(cases.into_iter().map(|anchor| {
                    let shows = Shows::Within {
                        needle: needle.clone(),
                        at,
                    };
                    (anchor, shows)
                }));
            }
        }
    }
    literals.sort_by(|a, b| a.0.cmp(&b.0));
    literals.dedup();
    literals
}

/// Most letters an anchor may hold: each doubles the literals it takes.
const MAX_ANCHOR_LETTERS: usize = 2;

/// Every ASCII case of the longest part of `needle` with at most [`MAX_ANCHOR_LETTERS`] letters
/// (the first such part; the whole needle when it has that few), with where in the needle it
/// starts: any case of the needle holds one of them as written.
fn anchors(needle: &[u8]) -> (usize, Vec<Vec<u8>>) {
    let mut best = 0..0;
    for start in 0..needle.len() {
        let mut letters = 0;
        for (end, byte) in needle.iter().enumerate().skip(start) {
            letters += usize::from(byte.is_ascii_alphabetic());
            if letters > MAX_ANCHOR_LETTERS {
                break;
            }
            if end + 1 - start > best.len() {
                best = start..end + 1;
            }
        }
    }
    let start = best.start;
    let mut cases: Vec<Vec<u8>> = vec![Vec::new()];
    for &byte in needle.get(best).unwrap_or_default() {
        if byte.is_ascii_alphabetic() {
            let upper: Vec<Vec<u8>> = cases
                .iter()
                .map(|c| [c.as_slice(), &[byte.to_ascii_uppercase()]].concat())
                .collect();
            cases
                .iter_mut()
                .for_each(|c| c.push(byte.to_ascii_lowercase()));
            cases.extend(upper);
        } else {
            cases.iter_mut().for_each(|c| c.push(byte));
        }
    }
    (start, cases)
}

/// The needles of a run whose configuration adds `extra_hosts`, with how their readers take
/// their case.
fn needles(extra_hosts: &[String]) -> Vec<(Case, Vec<u8>)> {
    let exact = |s: &&str| (Case::Exact, s.as_bytes().to_vec());
    let mut needles: Vec<(Case, Vec<u8>)> = shell::endpoint::prefilter_needles()
        .iter()
        .map(|s| (Case::Any, s.as_bytes().to_vec()))
        .collect();
    let extra: Vec<String> = extra_hosts
        .iter()
        .map(|h| h.trim_matches(['[', ']']).to_owned())
        .collect();
    needles.extend(
        base64_needles(&extra)
            .into_iter()
            .map(|s| (Case::Exact, s.into_bytes())),
    );
    // boto 2's metadata functions, which name no endpoint.
    needles.extend(crate::python::PREFILTER_NEEDLES.iter().map(exact));
    // Files that declare instance metadata settings, requests or not.
    needles.extend(frontend::SETTINGS_NEEDLES.iter().map(exact));
    // Suppression comments, which IMDS090 checks even where nothing is left to suppress.
    needles.push((Case::Exact, b"imds-lint".to_vec()));
    // Files that name an agent image or option the dependency rules know (only these
    // names: a file is read for them, never for a generic word).
    needles.extend(crate::rules::image_names().iter().map(exact));
    needles.extend(
        frontend::AGENT_NEEDLES
            .iter()
            .map(|s| (Case::Folded, s.as_bytes().to_vec())),
    );
    // Compressed data, which no needle sees into: it is decompressed and looked at again.
    needles.push((Case::Exact, GZIP_MAGIC.to_vec()));
    needles.extend(GZIP_BASE64.iter().map(exact));
    needles.extend(extra.into_iter().map(|h| (Case::Any, h.into_bytes())));
    needles
}

/// The start of every gzip stream: the magic number and deflate, the only compression method.
const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b, 0x08];

/// [`GZIP_MAGIC`] in base64, at each of the three alignments it can have in a longer base64
/// text, down to the characters that depend on it alone (and on the flags byte after it, whose
/// top three bits are always zero): `H4sI` when the stream starts a base64 value (as user data,
/// a Secret's value or a `gz+b64` file almost always does), `+LCA`/`+LCB` and `fiwg` when it
/// starts one or two bytes into a group.
const GZIP_BASE64: &[&str] = &["H4sI", "+LCA", "+LCB", "fiwg"];

/// How many leading bytes decide whether a file is binary.
pub const BINARY_PROBE: usize = 8192;

/// Whether a file's first 8 KiB hold a NUL byte (then it is binary and skipped), unless it is
/// gzip-compressed user data or holds gzip data there (a MIME part sent as `binary`).
pub fn is_binary(bytes: &[u8]) -> bool {
    let probe = bytes.get(..BINARY_PROBE).unwrap_or(bytes);
    !bytes.starts_with(&[0x1f, 0x8b])
        && memchr::memchr(0, probe).is_some()
        && memchr::memmem::find(probe, GZIP_MAGIC).is_none()
}

/// The base64 forms of the endpoint spellings (and of the formats that hold base64 inside) at
/// each of the three alignments, so that a base64-encoded script is not prefiltered away.
/// (Case-insensitive matching makes these a little wider than needed, never narrower.)
fn base64_needles(extra: &[String]) -> Vec<String> {
    use base64::Engine;
    let mut out = Vec::new();
    // The endpoints, and the words of the formats that hold base64 themselves (a MIME part, a
    // cloud-config file's content): in base64, what they hold is base64 twice over, which no
    // needle sees; they are decoded and looked at again.
    let builtin = [
        "169.254.169.254",
        "fd00:ec2::254",
        "instance-data",
        "multipart/",
        "Content-Transfer-Encoding",
        "#cloud-config",
    ];
    for needle in builtin
        .iter()
        .copied()
        .chain(extra.iter().map(String::as_str))
    {
        for shift in 0..3 {
            let mut padded = vec![b'A'; shift];
            padded.extend_from_slice(needle.as_bytes());
            let encoded = base64::engine::general_purpose::STANDARD.encode(&padded);
            // Drop the characters that also depend on the bytes before and after the needle.
            let skip = if shift == 0 {
                0
            } else {
                (shift * 4).div_ceil(3)
            };
            let keep = (padded.len() / 3) * 4;
            if let Some(stable) = encoded.get(skip..keep) {
                if stable.len() >= 8 {
                    out.push(stable.to_owned());
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use base64::Engine;

    use super::*;
    use crate::fragment::gzip;

    #[test]
    fn gzip_is_let_through_raw_and_in_base64_at_every_alignment() {
        let prefilter = Prefilter::default();
        let script = b"#!/bin/sh\ncurl -s http://169.254.169.254/latest/meta-data/\n";
        let zipped = gzip::encode(script);
        assert!(!prefilter.may_reach_imds(b"#!/bin/sh\necho hello\n"));
        // Raw, at the start or further in (a MIME part sent as `binary`).
        assert!(prefilter.may_reach_imds(&zipped));
        let mut inside = b"Content-Type: application/x-gzip\n\n".to_vec();
        inside.extend_from_slice(&zipped);
        assert!(prefilter.may_reach_imds(&inside));
        assert!(!is_binary(&inside));
        // In base64, starting at each byte of a group, with each flags value gzip allows.
        for shift in 0..3 {
            for flags in 0..32u8 {
                let mut data = b"ab".get(..shift).unwrap().to_vec();
                let mut stream = zipped.clone();
                stream[3] = flags;
                data.extend_from_slice(&stream);
                let encoded = base64::engine::general_purpose::STANDARD.encode(&data);
                assert!(
                    prefilter.may_reach_imds(format!("data: {encoded}\n").as_bytes()),
                    "shift {shift}, flags {flags}: {encoded}"
                );
            }
        }
        // A binary file without gzip in its first bytes stays binary.
        assert!(is_binary(b"\x7fELF\x02\x01\x01\x00\x00"));
    }

    #[test]
    fn anchors_are_every_case_of_the_longest_part_with_few_letters() {
        let text = |needle: &[u8]| -> Vec<String> {
            anchors(needle)
                .1
                .into_iter()
                .map(|c| String::from_utf8(c).unwrap())
                .collect()
        };
        assert_eq!(text(b"169.254.169.254"), ["169.254.169.254"]);
        // `fd00:ec2::254` has four letters; its longest part with two is `00:ec2::254`.
        assert_eq!(
            text(b"fd00:ec2::254"),
            ["00:ec2::254", "00:Ec2::254", "00:eC2::254", "00:EC2::254"]
        );
        // The first three characters with two letters: `ce-`.
        assert_eq!(text(b"instance-data"), ["ce-", "Ce-", "cE-", "CE-"]);
        assert_eq!(text(b"0xA9FEA9FE"), ["0xa9", "0Xa9", "0xA9", "0XA9"]);
        assert_eq!(text(b""), [""]);
        // Where each starts in its needle, for the comparison around an occurrence.
        assert_eq!(anchors(b"fd00:ec2::254").0, 2);
        assert_eq!(anchors(b"instance-data").0, 6);
        assert_eq!(anchors(b"169.254.169.254").0, 0);
    }

    /// An anchor lets a file through only where the host name it is part of is around it.
    #[test]
    fn an_anchor_is_checked_where_it_occurs() {
        let prefilter = Prefilter::default();
        // An anchor, then a needle read as written in another case: neither is a needle.
        assert!(!prefilter.may_reach_imds(b"a Ce- here; resource \"AWS_INSTANCE\" \"x\" {}\n"));
        // The first `ce-` is not in a host name; the second is.
        assert!(prefilter.may_reach_imds(b"curl http://instance-INSTANCE-DATA/\n"));
        // At the very start and at the very end of the text.
        assert!(prefilter.may_reach_imds(b"Instance-Data"));
        assert!(!prefilter.may_reach_imds(b"ce-data"));
        assert!(!prefilter.may_reach_imds(b"instance-dat"));
        assert!(prefilter.may_reach_imds(b"x [FD00:EC2::254]"));
    }

    /// Every occurrence of a needle passes: any case of a host, the usual spellings of a folded
    /// name, an exact needle as written; an anchor alone does not.
    #[test]
    fn every_spelling_a_reader_takes_passes_the_first_step() {
        let extra = ["metadata.internal".to_owned()];
        let prefilter = Prefilter::new(&extra);
        let embedded = |needle: &[u8]| {
            let mut text = b"#!/bin/sh\necho start; ".to_vec();
            text.extend_from_slice(needle);
            text.extend_from_slice(b" end\n");
            text
        };
        for (case, needle) in needles(&extra) {
            let spellings: Vec<Vec<u8>> = match case {
                Case::Any => {
                    // All upper, every third letter upper, and each letter flipped alone.
                    let mut all = vec![
                        needle.to_ascii_uppercase(),
                        needle
                            .iter()
                            .enumerate()
                            .map(|(i, b)| {
                                if i % 3 == 0 {
                                    b.to_ascii_uppercase()
                                } else {
                                    *b
                                }
                            })
                            .collect(),
                    ];
                    for i in 0..needle.len() {
                        let mut flipped = needle.clone();
                        flipped[i] = if flipped[i].is_ascii_lowercase() {
                            flipped[i].to_ascii_uppercase()
                        } else {
                            flipped[i].to_ascii_lowercase()
                        };
                        all.push(flipped);
                    }
                    all
                }
                Case::Folded => vec![
                    needle.to_ascii_lowercase(),
                    needle.to_ascii_uppercase(),
                    needle.clone(),
                ],
                Case::Exact => vec![needle.clone()],
            };
            for spelling in spellings {
                assert!(
                    prefilter.may_reach_imds(&embedded(&spelling)),
                    "{case:?} {}",
                    String::from_utf8_lossy(&spelling)
                );
            }
        }
        assert!(prefilter.may_reach_imds(b"pip install Boto3==1.4.0\n"));
        assert!(prefilter.may_reach_imds(b"env: DD_EC2_PREFER_IMDSV2=true\n"));
        assert!(prefilter.may_reach_imds(b"curl http://INSTANCE-DATA/latest/\n"));
        // A resource type in another case is no resource: not read.
        assert!(!prefilter.may_reach_imds(b"resource \"AWS_INSTANCE\" \"x\" {}\n"));
        assert!(prefilter.may_reach_imds(b"resource \"aws_instance\" \"x\" {}\n"));
        // Anchors alone, or a needle cut short, are not needles.
        assert!(!prefilter.may_reach_imds(b"pre-defined 0XA9 and 00:EC2::25 and a Ce-\n"));
        // The first step stays small: with its 90 literals it took 87 ms over the generated
        // corpus where the automaton took 233; with many more the regex would search with an
        // automaton itself.
        assert!(first_literals(&needles(&[])).len() <= 100);
    }
}
