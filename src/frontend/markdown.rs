//! Documentation: Markdown runbooks and READMEs, reStructuredText and AsciiDoc pages. Their
//! tagged code blocks (found by `fragment::markdown_fence`) are what readers copy and paste:
//! each block whose language the project reads becomes a host of its own (shell, Python, a
//! Dockerfile, or YAML, JSON and HCL read by the front end their content asks for), written in
//! place when fixed. The whole file is documentation (`Parsed::documentation`): its findings are
//! lowered to warnings by the check. PowerShell blocks are read as PowerShell;
//! untagged blocks, indented code blocks and prose are not read: the untagged blocks that name the
//! metadata service's address (Markdown fences without an info string, reStructuredText literal
//! blocks and code directives without a language, AsciiDoc listing and literal blocks without
//! `[source,LANG]`) are counted (`Parsed::untagged_blocks`, shown by `--statistics`), so that
//! what is not read is said.

use std::path::Path;

use super::{Embedded, Kind, Parsed};
use crate::fragment::codec::Codec;
use crate::fragment::markdown_fence::{self, Block};
use crate::fragment::{HostId, HostSpan};
use crate::model::OriginEntry;

/// Spellings of the metadata service's address that make an untagged block worth counting.
const ADDRESSES: &[&[u8]] = &[b"169.254.169.254", b"fd00:ec2::254", b"instance-data"];

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

/// What the project reads of a block tagged `tag`: the kind of host, or nothing (a language
/// that cannot reach IMDS, or one the project does not read).
fn kind_of(tag: &str, content: &[u8]) -> Option<Kind> {
    match tag {
        "sh" | "bash" | "shell" | "zsh" | "ksh" | "console" | "shell-session" | "sh-session"
        | "shellsession" | "terminal" => Some(Kind::Shell),
        "python" | "py" | "python3" => Some(Kind::Python),
        "dockerfile" | "docker" | "containerfile" => Some(Kind::Dockerfile),
        "yaml" | "yml" | "json" => Some(super::user_data_kind(content).unwrap_or(Kind::Manifest)),
        "hcl" | "terraform" | "tf" => Some(Kind::Terraform),
        "powershell" | "ps1" | "pwsh" | "ps" | "posh" => Some(Kind::PowerShell),
        _ => None,
    }
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
    let untagged = match format {
        Format::Markdown => markdown_fence::untagged_markdown_blocks(bytes),
        Format::Rst => markdown_fence::untagged_rst_blocks(bytes),
        Format::AsciiDoc => markdown_fence::untagged_asciidoc_blocks(bytes),
    };
    parsed.untagged_blocks = untagged
        .iter()
        .filter(|block| {
            let (text, _) = markdown_fence::decode(bytes, block);
            ADDRESSES
                .iter()
                .any(|address| memchr::memmem::find(&text, address).is_some())
        })
        .count();
    for block in &blocks {
        if block.lines.is_empty() {
            continue;
        }
        let (text, anchors) = markdown_fence::decode(bytes, block);
        if let Some(kind) = kind_of(&block.tag, &text) {
            parsed
                .embedded
                .push(embedded(format, block, text, anchors, kind));
        }
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
