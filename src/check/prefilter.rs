//! The prefilter: most files of a repository cannot make a metadata request or declare a
//! setting, and proving that with one multi-pattern search is far cheaper than parsing them. A
//! file is parsed only when an endpoint spelling (plain, or in base64 at any alignment), a host
//! name from the configuration, or a word that marks a settings resource occurs in it.

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
        let mut needles: Vec<String> = shell::endpoint::prefilter_needles()
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let extra: Vec<String> = extra_hosts
            .iter()
            .map(|h| h.trim_matches(['[', ']']).to_owned())
            .collect();
        needles.extend(base64_needles(&extra));
        // Files that declare instance metadata settings, requests or not.
        needles.extend(frontend::SETTINGS_NEEDLES.iter().map(|s| (*s).to_owned()));
        needles.extend(extra);
        let matcher = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&needles)
            .ok();
        Prefilter { matcher }
    }

    /// Whether `bytes` may hold a metadata request (or a setting) at all.
    pub fn may_reach_imds(&self, bytes: &[u8]) -> bool {
        bytes.starts_with(&[0x1f, 0x8b]) || self.matcher.as_ref().is_none_or(|m| m.is_match(bytes))
    }
}

/// How many leading bytes decide whether a file is binary.
pub const BINARY_PROBE: usize = 8192;

/// Whether a file's first 8 KiB hold a NUL byte (then it is binary and skipped), unless it is
/// gzip-compressed user data.
pub fn is_binary(bytes: &[u8]) -> bool {
    !bytes.starts_with(&[0x1f, 0x8b])
        && memchr::memchr(0, bytes.get(..BINARY_PROBE).unwrap_or(bytes)).is_some()
}

/// The base64 forms of the endpoint spellings at each of the three alignments, so that a
/// base64-encoded script is not prefiltered away. (Case-insensitive matching makes these a little
/// wider than needed, never narrower.)
fn base64_needles(extra: &[String]) -> Vec<String> {
    use base64::Engine;
    let mut out = Vec::new();
    let builtin = ["169.254.169.254", "fd00:ec2::254", "instance-data"];
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
