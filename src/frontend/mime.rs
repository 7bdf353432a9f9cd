//! MIME multipart user data: each part of a type cloud-init runs (`text/x-shellscript*`,
//! `text/cloud-config`, `text/cloud-boothook`), and each part it reads by its content
//! (`text/plain` or no type, and the gzip types once decompressed) that holds one of them,
//! decoded by its transfer encoding (see `fragment::mime_transfer`).

use super::{Embedded, Kind, Parsed};
use crate::fragment::codec::Codec;
use crate::fragment::{gzip, mime_transfer, HostId, HostSpan};
use crate::model::OriginEntry;

/// Whether user data starts like a MIME message.
pub fn is_mime(bytes: &[u8]) -> bool {
    let head = String::from_utf8_lossy(bytes.get(..bytes.len().min(512)).unwrap_or_default())
        .to_ascii_lowercase();
    let first = head.lines().next().unwrap_or_default();
    (first.starts_with("content-type:") && head.contains("multipart/"))
        || (first.starts_with("mime-version:") && head.contains("content-type:"))
}

/// A header block: (lower-case name, value) pairs, with folded lines joined.
fn headers(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            out.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    out
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn boundary(content_type: &str) -> Option<String> {
    let at = content_type.to_ascii_lowercase().find("boundary=")?;
    let value = content_type.get(at + 9..)?;
    let value = value.split(';').next()?.trim();
    Some(value.trim_matches('"').to_owned())
}

/// Where the header block ends (after the blank line), from `start`.
fn body_start(bytes: &[u8], start: usize) -> Option<usize> {
    let rest = bytes.get(start..)?;
    let lf = memchr::memmem::find(rest, b"\n\n").map(|i| i + 2);
    let crlf = memchr::memmem::find(rest, b"\r\n\r\n").map(|i| i + 4);
    let end = match (lf, crlf) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b)?,
    };
    Some(start + end)
}

pub fn parse(bytes: &[u8], host: HostId) -> Parsed {
    let mut parsed = Parsed::default();
    let Some(top_end) = body_start(bytes, 0) else {
        parsed
            .diagnostics
            .push("MIME user data without a body".to_owned());
        return parsed;
    };
    let top = headers(&String::from_utf8_lossy(
        bytes.get(..top_end).unwrap_or_default(),
    ));
    let content_type = header(&top, "content-type").unwrap_or_default().to_owned();
    let Some(boundary) = boundary(&content_type) else {
        // A single-part message: its body is the user data.
        part(bytes, top_end, bytes.len(), &top, host, &mut parsed);
        return parsed;
    };
    let delimiter = format!("--{boundary}");
    let mut starts: Vec<usize> = Vec::new();
    let mut at = top_end;
    while let Some(found) =
        memchr::memmem::find(bytes.get(at..).unwrap_or_default(), delimiter.as_bytes())
    {
        let position = at + found;
        let line_start = position == 0 || bytes.get(position - 1) == Some(&b'\n');
        if line_start {
            starts.push(position);
        }
        at = position + delimiter.len();
    }
    for pair in starts.windows(2) {
        let (Some(&from), Some(&to)) = (pair.first(), pair.get(1)) else {
            continue;
        };
        let after_line = bytes
            .get(from..to)
            .and_then(|s| memchr::memchr(b'\n', s))
            .map_or(to, |i| from + i + 1);
        if bytes.get(from + delimiter.len()..from + delimiter.len() + 2) == Some(b"--") {
            break;
        }
        let Some(body) = body_start(bytes, after_line).filter(|b| *b <= to) else {
            continue;
        };
        let part_headers = headers(&String::from_utf8_lossy(
            bytes.get(after_line..body).unwrap_or_default(),
        ));
        // The part's body ends before the line break that precedes the next delimiter.
        let mut end = to;
        if end > body && bytes.get(end - 1) == Some(&b'\n') {
            end -= 1;
            if end > body && bytes.get(end - 1) == Some(&b'\r') {
                end -= 1;
            }
        }
        part(bytes, body, end, &part_headers, host, &mut parsed);
    }
    parsed
}

/// The part types cloud-init decompresses before it looks at what they hold.
const GZIP_TYPES: &[&str] = &[
    "application/gzip",
    "application/gzip-compressed",
    "application/gzipped",
    "application/x-compress",
    "application/x-compressed",
    "application/x-gunzip",
    "application/x-gzip",
    "application/x-gzip-compressed",
];

/// One part: read as the format its type names, or, for the types cloud-init reads by their
/// content (`text/plain`, no type, `text/x-not-multipart`, and the gzip types once
/// decompressed), as the format its first line names.
fn part(
    bytes: &[u8],
    start: usize,
    end: usize,
    headers: &[(String, String)],
    _host: HostId,
    parsed: &mut Parsed,
) {
    let content_type = header(headers, "content-type")
        .unwrap_or("text/plain")
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let by_type = match content_type.as_str() {
        t if t.starts_with("text/x-shellscript") => Some(Kind::Shell),
        "text/cloud-config" => Some(Kind::CloudConfig),
        "text/cloud-boothook" => Some(Kind::Boothook),
        "multipart/mixed" => Some(Kind::Mime),
        _ => None,
    };
    let gzipped = GZIP_TYPES.contains(&content_type.as_str());
    let by_content =
        gzipped || matches!(content_type.as_str(), "text/plain" | "text/x-not-multipart");
    if by_type.is_none() && !by_content {
        return;
    }
    let body = bytes.get(start..end).unwrap_or_default();
    let encoding = header(headers, "content-transfer-encoding")
        .unwrap_or("7bit")
        .to_ascii_lowercase();
    let origin = vec![OriginEntry::layer("mime-part").with_name(content_type.clone())];
    let span = HostSpan::new(start, end);
    let Some((mut decoded, mut codec, mut map)) = mime_transfer::decode(&encoding, body, start)
    else {
        parsed
            .diagnostics
            .push(format!("a {content_type} part is not valid base64"));
        return;
    };
    // A gzip part sent as it is (`binary`): decompressed here (in base64 it already is).
    if gzipped && codec == Codec::Verbatim {
        match gzip::decode(&decoded) {
            Some(unzipped) => {
                (decoded, codec, map) = (unzipped, Codec::Gzip, None);
            }
            None => {
                parsed.diagnostics.push(format!(
                    "a {content_type} part is not gzip data (or is over 16 MiB); it was not read"
                ));
                return;
            }
        }
    }
    // cloud-init looks into a plain `text/x-shellscript` part too: it may be a cloud-config.
    let kind = match by_type {
        Some(Kind::Shell) if content_type == "text/x-shellscript" => sniff(&decoded).or(by_type),
        Some(kind) => Some(kind),
        None => sniff(&decoded),
    };
    let Some(kind) = kind else {
        return;
    };
    parsed.embedded.push(Embedded {
        span,
        bytes: decoded,
        codec,
        map,
        origin,
        kind: Some(kind),
    });
}

/// What cloud-init takes a part it reads by its content for: the format its first line names
/// (after blanks, in any case), if it is one that runs shell code. A script for another
/// interpreter, an include list, a part handler, an archive or plain text is not read.
fn sniff(payload: &[u8]) -> Option<Kind> {
    let start = payload.trim_ascii_start();
    let head: Vec<u8> = start.iter().take(32).map(u8::to_ascii_lowercase).collect();
    if head.starts_with(b"#cloud-config-archive") || head.starts_with(b"#cloud-config-jsonp") {
        return None;
    }
    if head.starts_with(b"#cloud-config") {
        return Some(Kind::CloudConfig);
    }
    if head.starts_with(b"#cloud-boothook") {
        return Some(Kind::Boothook);
    }
    (head.starts_with(b"#!") && !super::is_foreign(start)).then_some(Kind::Shell)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_by_type() {
        let text = "Content-Type: multipart/mixed; boundary=\"B\"\nMIME-Version: 1.0\n\n--B\nContent-Type: text/x-shellscript\n\ncurl a\n--B\nContent-Type: text/plain\n\nnot me\n--B--\n";
        assert!(is_mime(text.as_bytes()));
        let parsed = parse(text.as_bytes(), 0);
        assert_eq!(parsed.embedded.len(), 1);
        let part = &parsed.embedded[0];
        assert_eq!(part.bytes, b"curl a");
        assert_eq!(&text[part.span.start.0..part.span.end.0], "curl a");
    }

    #[test]
    fn parts_read_by_content_are_what_their_first_line_says() {
        for (payload, kind) in [
            (&b"#!/bin/bash\ncurl x\n"[..], Some(Kind::Shell)),
            (b"\n  #!/bin/sh\n", Some(Kind::Shell)),
            (b"#Cloud-Config\nruncmd: []\n", Some(Kind::CloudConfig)),
            (b"#cloud-boothook\necho\n", Some(Kind::Boothook)),
            (b"#cloud-config-archive\n- x\n", None),
            (b"#!/usr/bin/env python3\n", None),
            (b"#include\nhttps://example.com/x\n", None),
            (b"curl x\n", None),
        ] {
            assert_eq!(sniff(payload), kind, "{}", String::from_utf8_lossy(payload));
        }
    }
}
