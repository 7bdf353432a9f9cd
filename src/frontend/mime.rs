//! MIME multipart user data: each part of a type cloud-init runs (`text/x-shellscript*`,
//! `text/cloud-config`, `text/cloud-boothook`), and each part it reads by its content
//! (`text/plain` or no type, and the gzip types once decompressed) that holds one of them,
//! decoded by its transfer encoding (see `fragment::mime_transfer`). Parts are cut as the email
//! parser cloud-init uses cuts them: at delimiter lines only, a multipart part at its own
//! boundary, never reading the preamble or the epilogue.

use super::{Embedded, Kind, Parsed};
use crate::fragment::codec::Codec;
use crate::fragment::{gzip, mime_transfer, HostId, HostSpan};
use crate::model::{Note, OriginEntry};

/// Whether user data starts like a MIME message.
pub fn is_mime(bytes: &[u8]) -> bool {
    // Its first line starts with one of the two header names: most files are over at the first
    // byte, before any of them is decoded.
    if !matches!(bytes.first(), Some(b'c' | b'C' | b'm' | b'M')) {
        return false;
    }
    let head = String::from_utf8_lossy(bytes.get(..bytes.len().min(512)).unwrap_or_default())
        .to_ascii_lowercase();
    let first = head.lines().next().unwrap_or_default();
    (first.starts_with("content-type:") && head.contains("multipart/"))
        || (first.starts_with("mime-version:") && head.contains("content-type:"))
}

/// How deep multipart parts may nest in one another before the innermost are not read (with a
/// note).
const MAX_MULTIPART_DEPTH: usize = 8;

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
    Some(value.trim_matches('"').to_owned()).filter(|b| !b.is_empty())
}

/// The lines of `bytes[start..end]`: (where each starts, where it ends without its line break,
/// where the next starts).
fn lines(
    bytes: &[u8],
    start: usize,
    end: usize,
) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
    let mut at = start;
    std::iter::from_fn(move || {
        if at >= end {
            return None;
        }
        let rest = bytes.get(at..end).unwrap_or_default();
        let (content_end, next) = match memchr::memchr(b'\n', rest) {
            Some(i) => (at + i, at + i + 1),
            None => (end, end),
        };
        let content_end = if content_end > at && bytes.get(content_end - 1) == Some(&b'\r') {
            content_end - 1
        } else {
            content_end
        };
        let line = (at, content_end, next);
        at = next;
        Some(line)
    })
}

/// Whether a line is a header line: a field (`Name: value`) or the continuation of one.
fn is_header_line(line: &[u8]) -> bool {
    if line.starts_with(b" ") || line.starts_with(b"\t") {
        return true;
    }
    let name = line.iter().take_while(|&&b| b != b':').count();
    name > 0
        && line.get(name) == Some(&b':')
        && line
            .get(..name)
            .unwrap_or_default()
            .iter()
            .all(|b| (0x21..=0x7e).contains(b))
}

/// The header block that starts at `start` (before `end`): its fields, and where the body
/// starts. As the email parser cloud-init uses reads it, the block ends at a blank line (the
/// body starts after it) or at the first line that is not a header line (the body starts there).
fn header_block(bytes: &[u8], start: usize, end: usize) -> (Vec<(String, String)>, usize) {
    let mut body = end;
    for (line_start, content_end, next) in lines(bytes, start, end) {
        let line = bytes.get(line_start..content_end).unwrap_or_default();
        if line.is_empty() {
            body = next;
            break;
        }
        if !is_header_line(line) {
            body = line_start;
            break;
        }
    }
    let block = headers(&String::from_utf8_lossy(
        bytes.get(start..body).unwrap_or_default(),
    ));
    (block, body)
}

pub fn parse(bytes: &[u8], host: HostId) -> Parsed {
    let mut parsed = Parsed::default();
    let (top, body) = header_block(bytes, 0, bytes.len());
    entity(bytes, body, bytes.len(), &top, host, &mut parsed, 0);
    parsed
}

/// A message or a part (its body `bytes[start..end]`, its `headers`): the parts of a multipart
/// one, or else itself.
fn entity(
    bytes: &[u8],
    start: usize,
    end: usize,
    headers: &[(String, String)],
    host: HostId,
    parsed: &mut Parsed,
    depth: usize,
) {
    let content_type = header(headers, "content-type").unwrap_or_default();
    if !content_type
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("multipart/")
    {
        part(bytes, start, end, headers, host, parsed);
        return;
    }
    let Some(boundary) = boundary(content_type) else {
        let why = "a multipart MIME message without a boundary; it was not read";
        // The message handed to this front end, or one of its parts.
        parsed.diagnostics.push(if depth == 0 {
            Note::skipped(why)
        } else {
            Note::partly_analysed(why)
        });
        return;
    };
    if depth >= MAX_MULTIPART_DEPTH {
        parsed.diagnostics.push(Note::partly_analysed(format!(
            "MIME multipart parts nest more than {MAX_MULTIPART_DEPTH} deep; the innermost were not read"
        )));
        return;
    }
    for (part_start, part_end) in parts(bytes, start, end, &boundary) {
        let (part_headers, body) = header_block(bytes, part_start, part_end);
        entity(
            bytes,
            body,
            part_end.max(body),
            &part_headers,
            host,
            parsed,
            depth + 1,
        );
    }
}

/// The parts of a multipart body (`bytes[start..end]`) with this `boundary`: what lies between
/// one delimiter line (`--boundary`, blanks after it allowed) and the next, up to the close
/// delimiter (`--boundary--`) or, when there is none, the end. The preamble before the first
/// delimiter and the epilogue after the close delimiter are not parts: cloud-init never reads
/// them. A part ends before the line break that precedes the next delimiter.
fn parts(bytes: &[u8], start: usize, end: usize, boundary: &str) -> Vec<(usize, usize)> {
    let delimiter = format!("--{boundary}");
    let mut out = Vec::new();
    // Where the open part's content starts.
    let mut open: Option<usize> = None;
    for (line_start, content_end, next) in lines(bytes, start, end) {
        let line = bytes.get(line_start..content_end).unwrap_or_default();
        let Some(rest) = line.strip_prefix(delimiter.as_bytes()) else {
            continue;
        };
        let (close, blanks) = match rest.strip_prefix(b"--") {
            Some(after) => (true, after),
            None => (false, rest),
        };
        if !blanks.iter().all(|&b| b == b' ' || b == b'\t') {
            continue;
        }
        if let Some(from) = open.take() {
            out.push((from, line_break_before(bytes, from, line_start)));
        }
        if close {
            return out;
        }
        open = Some(next);
    }
    // No close delimiter: the last part runs to the end (the email parser reads it so).
    if let Some(from) = open {
        out.push((from, end.max(from)));
    }
    out
}

/// `at` moved back over the line break that ends the line before it (but not before `from`).
fn line_break_before(bytes: &[u8], from: usize, at: usize) -> usize {
    let mut end = at;
    if end > from && bytes.get(end - 1) == Some(&b'\n') {
        end -= 1;
        if end > from && bytes.get(end - 1) == Some(&b'\r') {
            end -= 1;
        }
    }
    end
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
        parsed.diagnostics.push(Note::partly_analysed(format!(
            "a {content_type} part is not valid base64"
        )));
        return;
    };
    // A gzip part sent as it is (`binary`): decompressed here (in base64 it already is).
    if gzipped && codec == Codec::Verbatim {
        match gzip::decode(&decoded) {
            Some(unzipped) => {
                (decoded, codec, map) = (unzipped, Codec::Gzip, None);
            }
            None => {
                parsed.diagnostics.push(Note::partly_analysed(format!(
                    "a {content_type} part is not gzip data (or is over 16 MiB); it was not read"
                )));
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

    fn bodies(text: &str) -> Vec<String> {
        parse(text.as_bytes(), 0)
            .embedded
            .iter()
            .map(|e| String::from_utf8_lossy(&e.bytes).into_owned())
            .collect()
    }

    #[test]
    fn only_delimiter_lines_cut_parts_and_the_preamble_and_epilogue_are_not_read() {
        let part = "Content-Type: text/x-shellscript\n\n";
        let text = format!(
            "Content-Type: multipart/mixed; boundary=B\nMIME-Version: 1.0\n\n\
             preamble\n--B not a delimiter\n{part}preamble script\n\
             --B \t\n{part}one\n--Bx\n--B-\nstill one\n\
             --B\r\n{part}two\r\n--B-- \n\
             epilogue\n--B\n{part}epilogue script\n"
        );
        assert_eq!(bodies(&text), ["one\n--Bx\n--B-\nstill one", "two"]);
    }

    #[test]
    fn nested_multiparts_use_their_own_boundary_down_to_a_limit() {
        let nest = |depth: usize| {
            let mut text = "Content-Type: text/x-shellscript\n\ncore\n".to_owned();
            for level in 0..depth {
                text = format!(
                    "Content-Type: multipart/mixed; boundary=\"b{level}\"\n\n\
                     preamble {level}\n--b{level}\n{text}--b{level}--\nepilogue {level}\n"
                );
            }
            format!("MIME-Version: 1.0\n{text}")
        };
        let parsed = parse(nest(MAX_MULTIPART_DEPTH).as_bytes(), 0);
        let inner: Vec<&[u8]> = parsed.embedded.iter().map(|e| &e.bytes[..]).collect();
        assert_eq!((inner, parsed.diagnostics), (vec![&b"core"[..]], vec![]));
        let parsed = parse(nest(MAX_MULTIPART_DEPTH + 1).as_bytes(), 0);
        assert!(parsed.embedded.is_empty());
        assert_eq!(
            parsed.diagnostics,
            [Note::partly_analysed(
                "MIME multipart parts nest more than 8 deep; the innermost were not read"
            )]
        );
    }
}
