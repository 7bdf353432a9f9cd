//! PowerShell hosts: scripts (`.ps1`, `.psm1`, a `pwsh` shebang), one fragment each, and EC2
//! Windows user data: `<powershell>…</powershell>` sections (PowerShell fragments) and
//! `<script>…</script>` sections (cmd.exe batch, of which only `powershell -Command "…"` lines
//! are read, as PowerShell fragments; the rest is noted as not analysed). Text outside the
//! sections and `<persist>`/`<powershellArguments>` are not code.
//!
//! EC2Launch v2 (Windows Server 2022 and later) also takes user data as a YAML document:
//! `version: 1.0` and a `tasks` list, whose `executeScript` tasks hold `inputs`, each a script
//! with its `type` (`powershell`, `batch`, `bash`) and its `content`. PowerShell content is a
//! PowerShell fragment and bash content a shell fragment, both written back through the YAML
//! scalar; batch gets a note.

use std::path::Path;

use super::script::ScriptBuilder;
use super::yaml;
use super::Parsed;
use crate::fragment::{Fragment, HostId, HostSpan, InsertRegion, Language, OffsetMap};
use crate::model::{Note, OriginEntry};

/// A PowerShell fragment of `text`, whose offsets `map` takes into its host and whose inserted
/// text `insert` says how to write: for any front end that finds PowerShell code in its host.
pub fn fragment(text: &[u8], host: HostId, map: OffsetMap, insert: Vec<InsertRegion>) -> Fragment {
    Fragment {
        host,
        language: Language::PowerShell,
        map,
        insert,
        ..Fragment::script(text)
    }
}

pub fn is_powershell(path: &Path, bytes: &[u8]) -> bool {
    let by_extension = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("ps1") || e.eq_ignore_ascii_case("psm1"));
    by_extension || has_powershell_shebang(bytes)
}

fn has_powershell_shebang(bytes: &[u8]) -> bool {
    if !bytes.starts_with(b"#!") {
        return false;
    }
    let end = memchr::memchr(b'\n', bytes).unwrap_or(bytes.len()).min(512);
    let line = String::from_utf8_lossy(bytes.get(..end).unwrap_or_default());
    crate::fragment::language::is_powershell_shebang(line.trim_end_matches('\r'))
}

/// A PowerShell script: the whole host is one fragment.
pub fn parse(bytes: &[u8], host: HostId) -> Parsed {
    Parsed {
        fragments: vec![fragment(
            bytes,
            host,
            OffsetMap::verbatim(0),
            vec![InsertRegion::verbatim()],
        )],
        ..Parsed::default()
    }
}

/// Whether bytes are EC2 Windows user data by their start: `<powershell>` or `<persist>` (after
/// a byte order mark and blanks), or `<script>` in a text that ends with a closing tag (so that
/// an HTML file starting with `<script>` is not taken for it).
pub fn starts_windows_user_data(bytes: &[u8]) -> bool {
    let start = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let start = start.trim_ascii_start();
    let opens = |tag: &[u8]| {
        start
            .get(..tag.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(tag))
    };
    if opens(b"<powershell>") || opens(b"<persist>") {
        return true;
    }
    if is_ec2launch_v2(start) {
        return true;
    }
    if opens(b"<script>") {
        let end = start.trim_ascii_end();
        let closes = |tag: &[u8]| {
            end.len() >= tag.len()
                && end
                    .get(end.len() - tag.len()..)
                    .is_some_and(|s| s.eq_ignore_ascii_case(tag))
        };
        return closes(b"</script>") || closes(b"</powershell>") || closes(b"</persist>");
    }
    false
}

/// Whether bytes are an EC2Launch v2 YAML user-data document: its first line that is not blank
/// nor a comment is `version: 1.0` (or `1`, quoted or not), and a top-level `tasks:` line follows.
pub fn is_ec2launch_v2(bytes: &[u8]) -> bool {
    let start = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut lines = start
        .split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .filter(|line| {
            let trimmed = line.trim_ascii();
            !trimmed.is_empty() && !trimmed.starts_with(b"#") && trimmed != b"---"
        });
    let Some(first) = lines.next() else {
        return false;
    };
    let Some(value) = first.strip_prefix(b"version:") else {
        return false;
    };
    let value = value.trim_ascii();
    let value = value
        .strip_prefix(b"\"")
        .and_then(|v| v.strip_suffix(b"\""))
        .or_else(|| value.strip_prefix(b"'").and_then(|v| v.strip_suffix(b"'")))
        .unwrap_or(value);
    if value != b"1.0" && value != b"1" {
        return false;
    }
    lines.any(|line| line.starts_with(b"tasks:"))
}

/// Whether a decoded user-data value holds a `<powershell>…</powershell>` section anywhere.
pub fn holds_windows_user_data(bytes: &[u8]) -> bool {
    find_ci(bytes, b"<powershell>", 0)
        .is_some_and(|open| find_ci(bytes, b"</powershell>", open).is_some())
}

/// Where `needle` first occurs in `bytes` at or after `from`, ignoring ASCII case.
fn find_ci(bytes: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let hay = bytes.get(from..)?;
    hay.windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
        .map(|p| p + from)
}

/// The sections `<tag>…</tag>` of user data: the byte ranges between the tags (a section left
/// open runs to the end).
fn sections(bytes: &[u8], tag: &str) -> Vec<std::ops::Range<usize>> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = find_ci(bytes, open.as_bytes(), from) {
        let start = at + open.len();
        let end = find_ci(bytes, close.as_bytes(), start).unwrap_or(bytes.len());
        out.push(start..end);
        from = end;
    }
    out
}

/// EC2 Windows user data.
pub fn parse_user_data(bytes: &[u8], host: HostId) -> Parsed {
    let mut parsed = Parsed::default();
    if is_ec2launch_v2(bytes) {
        ec2launch_v2(bytes, host, &mut parsed);
        return parsed;
    }
    for range in sections(bytes, "powershell") {
        let text = bytes.get(range.clone()).unwrap_or_default();
        parsed.places.push((
            HostSpan::new(range.start, range.end),
            OriginEntry::layer("windows-user-data").with_key("powershell"),
        ));
        parsed.fragments.push(fragment(
            text,
            host,
            OffsetMap::verbatim(range.start),
            vec![InsertRegion::verbatim()],
        ));
    }
    for range in sections(bytes, "script") {
        let text = bytes.get(range.clone()).unwrap_or_default();
        parsed.places.push((
            HostSpan::new(range.start, range.end),
            OriginEntry::layer("windows-user-data").with_key("script"),
        ));
        let mut rest = false;
        let mut line_start = 0;
        for line in text.split(|&b| b == b'\n') {
            let start = range.start + line_start;
            line_start += line.len() + 1;
            match powershell_command(line) {
                Some(inner) => {
                    let at = start + inner.start;
                    let code = line.get(inner).unwrap_or_default();
                    let mut f = fragment(
                        code,
                        host,
                        OffsetMap::verbatim(at),
                        // Inside a batch line's double quotes: no fix writes there.
                        vec![InsertRegion::none()],
                    );
                    f.script = false;
                    parsed.fragments.push(f);
                }
                None => {
                    let trimmed = line.trim_ascii();
                    let comment = trimmed.len() >= 3
                        && trimmed
                            .get(..3)
                            .is_some_and(|r| r.eq_ignore_ascii_case(b"rem"))
                        || trimmed.starts_with(b"::");
                    if !trimmed.is_empty() && !comment && trimmed != b"@echo off" {
                        rest = true;
                    }
                }
            }
        }
        if rest {
            parsed.diagnostics.push(Note::partly_analysed(
                "the cmd.exe batch of a `<script>` section of Windows user data was not analysed \
                 (only its `powershell -Command \"…\"` lines were)",
            ));
        }
    }
    parsed
}

/// An EC2Launch v2 document: the scripts of its `executeScript` tasks.
fn ec2launch_v2(bytes: &[u8], host: HostId, parsed: &mut Parsed) {
    let read = yaml::read_documents(bytes, |tree| {
        for document in yaml::documents(tree) {
            let Some(tasks) = yaml::get(document, bytes, "tasks") else {
                continue;
            };
            for (index, task) in yaml::items(tasks, bytes).into_iter().enumerate() {
                let name = yaml::get(task, bytes, "task")
                    .and_then(|t| yaml::scalar_string(t, bytes))
                    .unwrap_or_default();
                if name != "executeScript" {
                    continue;
                }
                let Some(inputs) = yaml::get(task, bytes, "inputs") else {
                    continue;
                };
                for (number, input) in yaml::items(inputs, bytes).into_iter().enumerate() {
                    parsed.places.push((
                        HostSpan::new(input.start_byte(), input.end_byte()),
                        OriginEntry::layer("ec2launch-v2")
                            .with_name(format!("tasks[{index}]"))
                            .with_key(format!("inputs[{number}]")),
                    ));
                    ec2launch_script(input, bytes, host, parsed);
                }
            }
        }
    });
    if let Err(why) = read {
        parsed.diagnostics.push(Note::skipped(format!(
            "EC2Launch v2 user data that could not be read as YAML: {why}"
        )));
    }
}

/// One input of an `executeScript` task: its `content`, read as its `type` says.
fn ec2launch_script(input: tree_sitter::Node, bytes: &[u8], host: HostId, parsed: &mut Parsed) {
    let kind = yaml::get(input, bytes, "type")
        .and_then(|t| yaml::scalar_string(t, bytes))
        .unwrap_or_default()
        .to_ascii_lowercase();
    let Some(content) = yaml::get(input, bytes, "content") else {
        return;
    };
    let Some(scalar) = yaml::scalar(content, bytes) else {
        parsed.diagnostics.push(Note::partly_analysed(
            "an EC2Launch v2 executeScript input whose content is not a string was not read",
        ));
        return;
    };
    let mut script = ScriptBuilder::default();
    script.push_scalar(&scalar);
    match kind.as_str() {
        "powershell" => super::powershell(script, host, parsed),
        "bash" => parsed.fragments.push(script.finish(host)),
        other => parsed.diagnostics.push(Note::partly_analysed(format!(
            "an EC2Launch v2 executeScript input of type `{other}` (cmd.exe batch or unknown) was not analysed"
        ))),
    }
}

/// The code of a batch line `powershell[.exe] [options] -Command "…"` (or `-c`, `pwsh`): the
/// range inside its quotes, when it holds no other double quote.
fn powershell_command(line: &[u8]) -> Option<std::ops::Range<usize>> {
    let text = std::str::from_utf8(line).ok()?;
    let trimmed = text.trim_start().trim_start_matches('@');
    let offset = text.len() - trimmed.len();
    let mut words = trimmed.split_ascii_whitespace();
    let program = words.next()?;
    let name = program.rsplit(['\\', '/']).next().unwrap_or(program);
    if !crate::fragment::language::is_powershell_name(name) {
        return None;
    }
    let lower = trimmed.to_ascii_lowercase();
    let flag = [" -command ", " -c "]
        .iter()
        .filter_map(|f| lower.find(f).map(|at| at + f.len()))
        .min()?;
    let after = trimmed.get(flag..)?.trim_start();
    let quote_at = offset + trimmed.len() - after.len();
    let body = after.strip_prefix('"')?;
    let close = body.find('"')?;
    // Anything after the closing quote but blanks makes it not simple.
    if !body.get(close + 1..)?.trim().is_empty() {
        return None;
    }
    Some(quote_at + 1..quote_at + 1 + close)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_windows_user_data() {
        assert!(starts_windows_user_data(
            b"<powershell>\nirm x\n</powershell>"
        ));
        assert!(starts_windows_user_data(
            b"\xef\xbb\xbf  \r\n<PowerShell>\n"
        ));
        assert!(starts_windows_user_data(b"<persist>true</persist>"));
        assert!(starts_windows_user_data(b"<script>\necho hi\n</script>\n"));
        assert!(!starts_windows_user_data(
            b"<script>var x;</script><div></div>"
        ));
        assert!(!starts_windows_user_data(b"#!/bin/sh\necho '<powershell>'"));
        assert!(holds_windows_user_data(b"x\n<powershell>a</powershell>"));
        assert!(starts_windows_user_data(
            b"# boot\nversion: 1.0\ntasks:\n- task: executeScript\n"
        ));
        assert!(is_ec2launch_v2(b"version: '1.0'\r\ntasks:\r\n"));
        assert!(!is_ec2launch_v2(b"version: 2\ntasks:\n"));
        assert!(!is_ec2launch_v2(b"version: 1.0\nsteps:\n  tasks:\n"));
        assert!(!is_ec2launch_v2(b"name: x\nversion: 1.0\ntasks:\n"));
        assert!(!holds_windows_user_data(b"echo '<powershell>'"));
    }

    #[test]
    fn batch_powershell_lines() {
        let line = br#"powershell.exe -ExecutionPolicy Bypass -Command "irm http://169.254.169.254/latest/meta-data/ami-id""#;
        let range = powershell_command(line).unwrap();
        assert_eq!(
            &line[range],
            b"irm http://169.254.169.254/latest/meta-data/ami-id"
        );
        assert!(powershell_command(br#"pwsh -c "a" "b""#).is_none());
        assert!(powershell_command(br#"cmd /c "irm x""#).is_none());
    }

    #[test]
    fn sections_point_into_the_host() {
        let data = b"<script>\nREM x\npowershell -c \"irm http://169.254.169.254/latest/meta-data/\"\n</script>\n<powershell>\n$a = 1\n</powershell>\n<persist>true</persist>";
        let parsed = parse_user_data(data, 0);
        assert_eq!(parsed.fragments.len(), 2);
        let ps = &parsed.fragments[0];
        assert_eq!(ps.text, b"\n$a = 1\n");
        assert_eq!(
            ps.map.to_host(crate::fragment::FragmentOffset(1)).0,
            data.windows(6).position(|w| w == b"$a = 1").unwrap()
        );
        let batch = &parsed.fragments[1];
        assert_eq!(batch.text, b"irm http://169.254.169.254/latest/meta-data/");
        let at = batch.map.to_host(crate::fragment::FragmentOffset(0)).0;
        assert_eq!(&data[at..at + 3], b"irm");
        assert!(parsed.diagnostics.is_empty());
    }
}
