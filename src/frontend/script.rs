//! Building one shell fragment out of pieces of a host: scalars joined into one script (cloud-init
//! `runcmd` items, a CloudFormation `Fn::Join`), argv lists written as shell words, and
//! placeholders for what the host substitutes before the shell runs (`${AWS::Region}`,
//! `${{ github.sha }}`, `${var.x}`).

use super::yaml::{self, Scalar};
use crate::fragment::{Fragment, HostId, InsertRegion, OffsetMap};

#[derive(Debug, Default)]
pub struct ScriptBuilder {
    text: Vec<u8>,
    anchors: Vec<(usize, usize)>,
    regions: Vec<InsertRegion>,
}

impl ScriptBuilder {
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Appends decoded text whose offsets `anchors` map into the host, editable as `region` says.
    pub fn push_text(&mut self, text: &str, anchors: &[(usize, usize)], region: InsertRegion) {
        let base = self.text.len();
        self.regions.push(region.at(base));
        self.anchors
            .extend(anchors.iter().map(|&(f, h)| (base + f, h)));
        self.text.extend_from_slice(text.as_bytes());
    }

    pub fn push_scalar(&mut self, scalar: &Scalar) {
        self.push_text(&scalar.text, &scalar.anchors, scalar.region.clone());
    }

    /// Appends synthetic text (a separator, a placeholder) that maps to host offset `at` and
    /// cannot be edited.
    pub fn push_synthetic(&mut self, text: &str, at: usize) {
        let base = self.text.len();
        self.regions.push(InsertRegion::none().at(base));
        self.anchors.push((base, at));
        self.text.extend_from_slice(text.as_bytes());
    }

    /// Appends an argv list as single-quoted shell words (how cloud-init and Kubernetes pass
    /// them: no shell expansion). Not editable in place.
    pub fn push_argv(&mut self, words: &[Scalar]) {
        for (i, word) in words.iter().enumerate() {
            let start = word.anchors.first().map_or(0, |a| a.1);
            if i > 0 {
                self.push_synthetic(" ", start);
            }
            self.push_synthetic("'", start);
            let quoted = word.text.replace('\'', "'\\''");
            if quoted.len() == word.text.len() {
                let base = self.text.len();
                self.regions.push(InsertRegion::none().at(base));
                self.anchors
                    .extend(word.anchors.iter().map(|&(f, h)| (base + f, h)));
                self.text.extend_from_slice(word.text.as_bytes());
            } else {
                self.push_synthetic(&quoted, start);
            }
            let end = word.span.end.0;
            self.push_synthetic("'", end);
        }
    }

    pub fn newline(&mut self, at: usize) {
        self.push_synthetic("\n", at);
    }

    pub fn finish(self, host: HostId) -> Fragment {
        Fragment {
            text: self.text,
            map: OffsetMap::from_anchors(self.anchors),
            host,
            insert: if self.regions.is_empty() {
                vec![InsertRegion::none()]
            } else {
                self.regions
            },
            ..Fragment::script(b"")
        }
    }
}

/// A list of command lines (an Image Builder `commands`, an SSM `runCommand`, a Packer `inline`)
/// or one string, as the one script the host writes them into: items joined by line breaks, what
/// the host substitutes between `open` and `close` (`{{ name }}`) as placeholder words. Items that
/// are not scalars (a nested list, a mapping) are left out; the count of them is returned.
pub fn command_lines(
    value: tree_sitter::Node,
    bytes: &[u8],
    open: &str,
    close: &str,
) -> (ScriptBuilder, usize) {
    let mut script = ScriptBuilder::default();
    let mut unread = 0;
    let lines = if yaml::is_sequence(value, bytes) {
        yaml::items(value, bytes)
    } else {
        vec![value]
    };
    for line in lines {
        let Some(mut scalar) = yaml::scalar(line, bytes) else {
            unread += 1;
            continue;
        };
        if !script.is_empty() {
            script.newline(line.start_byte());
        }
        scalar.text = placeholders(&scalar.text, open, close, |_| false);
        script.push_scalar(&scalar);
    }
    (script, unread)
}

/// Replaces what a host substitutes before the shell runs with a same-length placeholder word, so
/// offsets stay put: `open`…`close` spans (`${`…`}`, `${{`…`}}`). `keep` says which are left alone
/// (CloudFormation's `${!Literal}`).
pub fn placeholders(text: &str, open: &str, close: &str, keep: impl Fn(&str) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(open) {
        out.push_str(rest.get(..at).unwrap_or_default());
        let after = rest.get(at + open.len()..).unwrap_or_default();
        let Some(end) = after.find(close) else {
            out.push_str(rest.get(at..).unwrap_or_default());
            return out;
        };
        let whole = rest
            .get(at..at + open.len() + end + close.len())
            .unwrap_or_default();
        let inner = after.get(..end).unwrap_or_default();
        if keep(inner) {
            out.push_str(whole);
        } else {
            // Letters only: a word the shell reads as literal, and nothing like a host name.
            out.push_str(&"X".repeat(whole.len()));
        }
        rest = rest.get(at + whole.len()..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_keep_lengths() {
        assert_eq!(
            placeholders("a ${AWS::Region} b", "${", "}", |_| false),
            "a XXXXXXXXXXXXXX b"
        );
        assert_eq!(
            placeholders("${!Keep} ${Go}", "${", "}", |i| i.starts_with('!')),
            "${!Keep} XXXXX"
        );
        assert_eq!(
            placeholders("x ${{ github.sha }}", "${{", "}}", |_| false).len(),
            19
        );
    }
}
