//! Encodings that hold a whole host inside its parent (base64, gzip, a YAML plain scalar): decode
//! when a front end finds one, encode when a fix has changed the decoded bytes. Re-encoding keeps
//! the original's shape (base64 line length and line endings).

use std::io::{Read, Write};

use base64::Engine;

/// How a host's bytes are written in its parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Codec {
    /// Base64, wrapped at `line_length` characters (none: one line) with `eol`, each wrapped line
    /// after the first starting with `indent`.
    Base64 {
        line_length: Option<usize>,
        eol: &'static str,
        indent: String,
        /// Blanks and line breaks the original value ended with (kept as they were).
        trailing: String,
    },
    /// Gzip-compressed: read, never rewritten.
    Gzip,
    /// Gzip, then base64 (cloud-init's `gz+b64`).
    GzipBase64,
    /// A YAML flow scalar (plain or quoted): rewritten as a double-quoted scalar.
    YamlPlain,
    /// The content of a YAML literal block scalar: each line after the first starts with
    /// `indent`.
    YamlBlock { indent: String, eol: &'static str },
    /// Copied as it is (a MIME part's body).
    Verbatim,
    /// A Dockerfile exec-form array read as the same command in shell form: a fix writes the
    /// shell form in its place.
    ExecForm,
}

impl Codec {
    pub fn name(&self) -> &'static str {
        match self {
            Codec::Base64 { .. } => "base64",
            Codec::Gzip => "gzip",
            Codec::GzipBase64 => "gzip+base64",
            Codec::YamlPlain | Codec::YamlBlock { .. } => "yaml-scalar",
            Codec::Verbatim => "part",
            Codec::ExecForm => "exec-form",
        }
    }

    /// Whether positions inside are only known through the decoded text (so findings report the
    /// encoded value's position and an origin with the decoded line).
    pub fn is_opaque(&self) -> bool {
        !matches!(
            self,
            Codec::YamlPlain | Codec::YamlBlock { .. } | Codec::Verbatim | Codec::ExecForm
        )
    }

    /// Why re-encoding changes more than the text (the fix is then unsafe), if it does.
    pub fn changes_behaviour(&self) -> Option<&'static str> {
        match self {
            Codec::ExecForm => Some(
                "rewrites the exec form into the shell form, which /bin/sh -c runs (signals and PID 1 change)",
            ),
            _ => None,
        }
    }

    /// Writes `decoded` the way the original value was written; `None` when it cannot be.
    pub fn encode(&self, decoded: &[u8]) -> Option<Vec<u8>> {
        match self {
            Codec::Base64 {
                line_length,
                eol,
                indent,
                trailing,
            } => {
                let flat = base64::engine::general_purpose::STANDARD.encode(decoded);
                let Some(width) = line_length.filter(|w| *w > 0) else {
                    return Some(format!("{flat}{trailing}").into_bytes());
                };
                let mut out = String::with_capacity(flat.len() + flat.len() / width * 4);
                for (i, chunk) in flat.as_bytes().chunks(width).enumerate() {
                    if i > 0 {
                        out.push_str(eol);
                        out.push_str(indent);
                    }
                    out.push_str(&String::from_utf8_lossy(chunk));
                }
                out.push_str(trailing);
                Some(out.into_bytes())
            }
            Codec::Gzip | Codec::GzipBase64 => None,
            Codec::Verbatim | Codec::ExecForm => Some(decoded.to_vec()),
            Codec::YamlBlock { indent, eol } => {
                let text = std::str::from_utf8(decoded).ok()?;
                let mut out = String::with_capacity(text.len() + 64);
                let mut lines = text.split_inclusive('\n').peekable();
                while let Some(line) = lines.next() {
                    let body = line.trim_end_matches('\n').trim_end_matches('\r');
                    out.push_str(body);
                    if line.ends_with('\n') {
                        out.push_str(eol);
                        if lines
                            .peek()
                            .is_some_and(|next| !next.trim_end_matches(['\n', '\r']).is_empty())
                        {
                            out.push_str(indent);
                        }
                    }
                }
                Some(out.into_bytes())
            }
            Codec::YamlPlain => {
                let text = std::str::from_utf8(decoded).ok()?;
                let mut out = String::with_capacity(text.len() + 2);
                out.push('"');
                for c in text.chars() {
                    match c {
                        '"' => out.push_str("\\\""),
                        '\\' => out.push_str("\\\\"),
                        '\n' => out.push_str("\\n"),
                        '\t' => out.push_str("\\t"),
                        c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
                        c => out.push(c),
                    }
                }
                out.push('"');
                Some(out.into_bytes())
            }
        }
    }
}

/// The most a decoded value may grow to (hostile input: zip bombs, huge blobs).
pub const MAX_DECODED: usize = 16 << 20;

/// Decodes base64 that may be wrapped over lines (and indented, in YAML); returns the bytes and
/// the shape to re-encode with.
pub fn decode_base64(text: &[u8]) -> Option<(Vec<u8>, Codec)> {
    let trimmed: Vec<u8> = text
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    if trimmed.len() < 8 || trimmed.len() > MAX_DECODED * 4 / 3 + 4 {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(&trimmed)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(&trimmed))
        .ok()?;
    let lines: Vec<&[u8]> = text
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .collect();
    let line_length = if lines.len() > 1 {
        lines
            .first()
            .map(|l| l.iter().filter(|b| !b.is_ascii_whitespace()).count())
    } else {
        None
    };
    let indent = lines
        .get(1)
        .map(|l| {
            l.iter()
                .take_while(|b| **b == b' ' || **b == b'\t')
                .map(|&b| b as char)
                .collect()
        })
        .unwrap_or_default();
    let eol = if text.windows(2).any(|w| w == b"\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let trailing_len = text
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_whitespace())
        .count();
    let trailing =
        String::from_utf8_lossy(text.get(text.len() - trailing_len..).unwrap_or_default())
            .into_owned();
    Some((
        decoded,
        Codec::Base64 {
            line_length,
            eol,
            indent,
            trailing,
        },
    ))
}

/// Decompresses gzip, refusing to grow past [`MAX_DECODED`].
pub fn decode_gzip(bytes: &[u8]) -> Option<Vec<u8>> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return None;
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .take(MAX_DECODED as u64 + 1)
        .read_to_end(&mut out)
        .ok()?;
    (out.len() <= MAX_DECODED).then_some(out)
}

/// Compresses with gzip (for tests).
pub fn encode_gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trip_keeps_wrapping() {
        let text =
            "#!/bin/sh\ncurl -s http://169.254.169.254/latest/meta-data/instance-id\necho done\n";
        let flat = base64::engine::general_purpose::STANDARD.encode(text);
        let wrapped: Vec<String> = flat
            .as_bytes()
            .chunks(20)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        let encoded = format!("{}\r\n\r\n", wrapped.join("\r\n    "));
        let (decoded, codec) = decode_base64(encoded.as_bytes()).unwrap();
        assert_eq!(decoded, text.as_bytes());
        assert_eq!(codec.encode(&decoded).unwrap(), encoded.as_bytes());
        let (one_line, flat_codec) = decode_base64(flat.as_bytes()).unwrap();
        assert_eq!(flat_codec.encode(&one_line).unwrap(), flat.as_bytes());
    }

    #[test]
    fn not_base64() {
        assert!(decode_base64(b"curl http://169.254.169.254/").is_none());
        assert!(decode_base64(b"abc").is_none());
    }

    #[test]
    fn gzip_round_trip_and_bomb_cap() {
        let text = b"curl http://169.254.169.254/latest/meta-data/\n";
        assert_eq!(decode_gzip(&encode_gzip(text)).unwrap(), text);
        let bomb = encode_gzip(&vec![b'a'; MAX_DECODED + 10]);
        assert!(decode_gzip(&bomb).is_none());
    }

    #[test]
    fn yaml_plain_becomes_double_quoted() {
        let codec = Codec::YamlPlain;
        assert_eq!(
            codec.encode(br#"curl -H "T: $X" u\v"#).unwrap(),
            br#""curl -H \"T: $X\" u\\v""#
        );
    }
}
