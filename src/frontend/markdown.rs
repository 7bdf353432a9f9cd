//! Documentation: Markdown runbooks and READMEs, reStructuredText and AsciiDoc pages. Their
//! tagged code blocks (found by `fragment::markdown_fence`) are what readers copy and paste:
//! each block whose language the project reads becomes a host of its own (shell, Python, a
//! Dockerfile, or YAML, JSON and HCL read by the front end their content asks for), written in
//! place when fixed. The whole file is documentation (`Parsed::documentation`): its findings are
//! lowered to warnings by the check. Blocks in a language not read are said in a note;
//! untagged blocks, indented code blocks and prose are not read.

use std::path::Path;

use super::{Embedded, Kind, Parsed};
use crate::fragment::codec::Codec;
use crate::fragment::markdown_fence::{self, Block};
use crate::fragment::{HostId, HostSpan};
use crate::model::{Note, OriginEntry};

/// The documentation formats read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Rst,
    AsciiDoc,
}

impl Format {
    /// The format a file's name says.
    pub fn of(path: &Path) -> Option<Format> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        match extension.as_str() {
            "md" | "markdown" => Some(Format::Markdown),
            "rst" => Some(Format::Rst),
            "adoc" | "asciidoc" => Some(Format::AsciiDoc),
            _ => None,
        }
    }

    fn layer(self) -> &'static str {
        match self {
            Format::Markdown => "markdown-fence",
            Format::Rst => "rst-code-block",
            Format::AsciiDoc => "asciidoc-source",
        }
    }
}

/// What the project reads of a block tagged `tag`: the kind of host, or a language not read
/// yet (`Err`), or nothing (`Ok(None)`: a language that cannot reach IMDS, or one only known
/// by its content).
fn kind_of(tag: &str, content: &[u8]) -> Result<Option<Kind>, &'static str> {
    Ok(match tag {
        "sh" | "bash" | "shell" | "zsh" | "ksh" | "console" | "shell-session" | "sh-session"
        | "shellsession" | "terminal" => Some(Kind::Shell),
        "python" | "py" | "python3" => Some(Kind::Python),
        "dockerfile" | "docker" | "containerfile" => Some(Kind::Dockerfile),
        "yaml" | "yml" | "json" => Some(super::user_data_kind(content).unwrap_or(Kind::Manifest)),
        "hcl" | "terraform" | "tf" => Some(Kind::Terraform),
        "powershell" | "ps1" | "pwsh" | "ps" => return Err(not_read_yet(tag)),
        _ => None,
    })
}

/// The one place that says which block languages are tagged but not analysed yet (PowerShell,
/// until its analysis exists).
fn not_read_yet(_tag: &str) -> &'static str {
    "PowerShell not analysed yet"
}

/// Reads a documentation file's code blocks.
pub fn parse(format: Format, bytes: &[u8], _host: HostId) -> Parsed {
    let blocks = match format {
        Format::Markdown => markdown_fence::markdown_blocks(bytes),
        Format::Rst => markdown_fence::rst_blocks(bytes),
        Format::AsciiDoc => markdown_fence::asciidoc_blocks(bytes),
    };
    let mut parsed = Parsed {
        documentation: vec![HostSpan::new(0, bytes.len())],
        ..Parsed::default()
    };
    let mut not_read: Vec<(usize, &'static str)> = Vec::new();
    for block in &blocks {
        if block.lines.is_empty() {
            continue;
        }
        let (text, anchors) = markdown_fence::decode(bytes, block);
        match kind_of(&block.tag, &text) {
            Ok(Some(kind)) => parsed
                .embedded
                .push(embedded(format, block, text, anchors, kind)),
            Ok(None) => {}
            Err(why) => not_read.push((block.line + 1, why)),
        }
    }
    let mut whys: Vec<&str> = not_read.iter().map(|(_, why)| *why).collect();
    whys.dedup();
    for why in whys {
        let lines: Vec<String> = not_read
            .iter()
            .filter(|(_, w)| *w == why)
            .map(|(line, _)| line.to_string())
            .collect();
        parsed.diagnostics.push(Note::partly_analysed(format!(
            "code block{} at line{} {}: {why}",
            if lines.len() == 1 { "" } else { "s" },
            if lines.len() == 1 { "" } else { "s" },
            lines.join(", ")
        )));
    }
    parsed
}

fn embedded(
    format: Format,
    block: &Block,
    text: Vec<u8>,
    anchors: Vec<(usize, usize)>,
    kind: Kind,
) -> Embedded {
    let (start, end) = block.span();
    let mut origin = OriginEntry::layer(format.layer()).with_name(block.tag.clone());
    origin.line = Some(block.line + 1);
    Embedded {
        span: HostSpan::new(start, end),
        bytes: text,
        codec: Codec::DocumentBlock {
            prefix: block.prefix.clone(),
            console: markdown_fence::is_console(&block.tag),
        },
        map: Some(crate::fragment::OffsetMap::from_anchors(anchors)),
        origin: vec![origin],
        kind: Some(kind),
    }
}
