//! The prefilter: most files of a repository cannot make a metadata request or declare a
//! setting, and proving that with one multi-pattern search is far cheaper than parsing them. A
//! file is parsed only when an endpoint spelling (plain, or in base64 at any alignment), a host
//! name from the configuration, a word that marks a settings resource, a suppression comment's
//! `imds-lint`, or data that may hide
//! any of them from these needles occurs in it: gzip (raw, or in base64 at any alignment), and
//! in base64 a format that holds base64 itself (MIME, cloud-config).

use aho_corasick::AhoCorasick;

use crate::frontend;
use crate::shell;

/// The needles of one run (the built-in ones and the configured host names), searched at once.
#[derive(Debug, Clone)]
pub struct Prefilter {
    matcher: Option<AhoCorasick>,
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
        let matcher = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&needles)
            .ok();
        Prefilter { matcher }
    }

    /// Whether `bytes` may hold a metadata request (or a setting) at all: a needle occurs in
    /// them, or they are gzip data.
    pub fn may_reach_imds(&self, bytes: &[u8]) -> bool {
        bytes.starts_with(&[0x1f, 0x8b]) || self.matcher.as_ref().is_none_or(|m| m.is_match(bytes))
    }
}

/// The needles of a run whose configuration adds `extra_hosts`.
fn needles(extra_hosts: &[String]) -> Vec<Vec<u8>> {
    let mut needles: Vec<Vec<u8>> = shell::endpoint::prefilter_needles()
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
    let extra: Vec<String> = extra_hosts
        .iter()
        .map(|h| h.trim_matches(['[', ']']).to_owned())
        .collect();
    needles.extend(base64_needles(&extra).into_iter().map(String::into_bytes));
    // boto 2's metadata functions, which name no endpoint.
    needles.extend(
        crate::python::PREFILTER_NEEDLES
            .iter()
            .map(|s| s.as_bytes().to_vec()),
    );
    // Files that declare instance metadata settings, requests or not.
    needles.extend(
        frontend::SETTINGS_NEEDLES
            .iter()
            .map(|s| s.as_bytes().to_vec()),
    );
    // Suppression comments, which IMDS090 checks even where nothing is left to suppress.
    needles.push(b"imds-lint".to_vec());
    // Files that name an agent image or option the dependency rules know (only these
    // names: a file is read for them, never for a generic word).
    needles.extend(
        crate::rules::image_names()
            .into_iter()
            .chain(frontend::AGENT_NEEDLES.iter().copied())
            .map(|s| s.as_bytes().to_vec()),
    );
    // Compressed data, which no needle sees into: it is decompressed and looked at again.
    needles.push(GZIP_MAGIC.to_vec());
    needles.extend(GZIP_BASE64.iter().map(|s| s.as_bytes().to_vec()));
    needles.extend(extra.into_iter().map(String::into_bytes));
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
}
