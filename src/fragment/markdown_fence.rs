//! Code blocks in documentation: Markdown fences (```` ``` ```` and `~~~`, any length, inside
//! list items and blockquotes), reStructuredText `code-block` directives and AsciiDoc
//! `[source,…]` blocks. A block's content is decoded line by line: each line loses the prefix its
//! container gives it (blockquote markers, list or directive indentation) and, in a console block,
//! only the commands after a `$ ` or `# ` prompt (and their continuation lines after a trailing
//! `\`) are kept, output lines left out. Every kept line is anchored where its content starts,
//! so positions are exact. Inserted text is written back in place: each line break it holds is
//! followed by the block's prefix (and the prompt in a console block), so the new lines stay in
//! the block.

/// One line of a block's content: where the line starts, where the kept text starts (after the
/// container's prefix and a prompt), and where it ends (after its line break).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    pub start: usize,
    pub content: usize,
    pub end: usize,
}

/// A code block found in a documentation file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The block's language as tagged (first word of the info string), lower-cased.
    pub tag: String,
    /// The 0-based line of the opening fence or directive.
    pub line: usize,
    /// The content lines, in order.
    pub lines: Vec<Line>,
    /// What starts an inserted line: the container's prefix (and `$ ` in a console block).
    pub prefix: String,
    /// Whether the block has a closing fence (Markdown, AsciiDoc) or ended with its container.
    pub closed: bool,
}

impl Block {
    /// The host range of the content lines.
    pub fn span(&self) -> (usize, usize) {
        match (self.lines.first(), self.lines.last()) {
            (Some(first), Some(last)) => (first.start, last.end),
            _ => (0, 0),
        }
    }
}

/// Whether a tag names a console session (`$ `-prompted commands with their output).
pub fn is_console(tag: &str) -> bool {
    matches!(
        tag,
        "console" | "shell-session" | "sh-session" | "shellsession" | "terminal"
    )
}

/// The lines of `bytes`: (start, end after the line break).
fn lines(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < bytes.len() {
        let end = memchr::memchr(b'\n', bytes.get(start..).unwrap_or_default())
            .map_or(bytes.len(), |i| start + i + 1);
        out.push((start, end));
        start = end;
    }
    out
}

/// The text of a line without its line break.
fn body(bytes: &[u8], (start, end): (usize, usize)) -> &[u8] {
    let line = bytes.get(start..end).unwrap_or_default();
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn spaces(text: &[u8]) -> usize {
    text.iter().take_while(|b| **b == b' ').count()
}

fn is_blank(text: &[u8]) -> bool {
    text.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r'))
}

/// Strips up to `depth` blockquote markers (up to three spaces, `>`, one optional space) from
/// `text`: how many markers and bytes it took.
fn strip_quotes(text: &[u8], depth: usize) -> (usize, usize) {
    let mut at = 0;
    let mut found = 0;
    while found < depth {
        let lead = spaces(text.get(at..).unwrap_or_default());
        if lead > 3 || text.get(at + lead) != Some(&b'>') {
            break;
        }
        at += lead + 1;
        if text.get(at) == Some(&b' ') {
            at += 1;
        }
        found += 1;
    }
    (found, at)
}

/// A fence opening or closing: its character, its length, and the rest of the line after it.
fn fence(text: &[u8]) -> Option<(u8, usize, &[u8])> {
    let c = *text.first()?;
    if c != b'`' && c != b'~' {
        return None;
    }
    let n = text.iter().take_while(|b| **b == c).count();
    if n < 3 {
        return None;
    }
    Some((c, n, text.get(n..).unwrap_or_default()))
}

/// Whether a line (after its blockquote markers) starts a list item.
fn is_list_item(text: &[u8]) -> bool {
    let text = text.get(spaces(text)..).unwrap_or_default();
    match text.first() {
        Some(b'-' | b'*' | b'+') => matches!(text.get(1), Some(b' ' | b'\t') | None),
        Some(b'0'..=b'9') => {
            let digits = text.iter().take_while(|b| b.is_ascii_digit()).count();
            matches!(text.get(digits), Some(b'.' | b')'))
                && matches!(text.get(digits + 1), Some(b' ' | b'\t') | None)
        }
        _ => false,
    }
}

/// The first word of an info string (` ```bash title="x" `, ` ```{.sh} `), lower-cased.
fn tag_of(info: &[u8]) -> String {
    let info = String::from_utf8_lossy(info);
    info.trim()
        .trim_start_matches('{')
        .trim_start_matches('.')
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '{' | '}'))
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// Words that start prose, not a command, after a console block's `# `.
const PROSE_WORDS: &[&str] = &[
    "a",
    "an",
    "the",
    "this",
    "that",
    "these",
    "those",
    "or",
    "and",
    "now",
    "note",
    "see",
    "here",
    "we",
    "you",
    "it",
    "to",
    "replace",
    "optionally",
    "example",
    "output",
    "returns",
    "should",
];

/// Whether the text after a console block's `# ` is a command run at a root prompt rather than a
/// comment: its first word is a command word (lower-case, a path, a variable, an assignment
/// `NAME=…`), not prose (a capitalised word, a word ending in `:` or `,`, a common English
/// word, or a sentence ending in `.`).
fn is_root_command(after: &[u8]) -> bool {
    let text = String::from_utf8_lossy(after);
    let text = text.trim_end();
    let Some(first) = text.split_whitespace().next() else {
        return false;
    };
    if first.contains('=') {
        return first.split('=').next().is_some_and(|name| {
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
    }
    let starts_command = first
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || matches!(c, '.' | '/' | '~' | '$' | '_'));
    let prose = first.ends_with([':', ','])
        || PROSE_WORDS.contains(&first)
        || (text.ends_with('.') && text.split_whitespace().count() > 2 && !first.contains('/'));
    starts_command && !prose
}

/// The content lines of a block given by their host ranges and the number of bytes each
/// loses at its start, with console prompts handled when `console`.
fn content_lines(bytes: &[u8], raw: &[((usize, usize), usize)], console: bool) -> Vec<Line> {
    let mut out = Vec::new();
    let mut continued = false;
    for &((start, end), strip) in raw {
        let content = (start + strip).min(end);
        if !console {
            out.push(Line {
                start,
                content,
                end,
            });
            continue;
        }
        let text = body(bytes, (content, end));
        let kept = if continued {
            Some(content)
        } else if text.starts_with(b"$ ")
            || (text.starts_with(b"# ") && is_root_command(text.get(2..).unwrap_or_default()))
        {
            Some(content + 2)
        } else if text == b"$" || text == b"#" {
            Some(content + 1)
        } else {
            None
        };
        continued = kept.is_some() && text.ends_with(b"\\");
        if let Some(content) = kept {
            out.push(Line {
                start,
                content: content.min(end),
                end,
            });
        }
    }
    out
}

/// The tagged fenced code blocks of a Markdown text (untagged fences and indented code blocks
/// are not returned).
pub fn markdown_blocks(bytes: &[u8]) -> Vec<Block> {
    let mut blocks = fenced_blocks(bytes);
    blocks.retain(|b| !b.tag.is_empty());
    blocks
}

/// The fenced code blocks of a Markdown text without an info string (` ``` ` alone), which are
/// not read: the caller counts those that mention the metadata service.
pub fn untagged_markdown_blocks(bytes: &[u8]) -> Vec<Block> {
    let mut blocks = fenced_blocks(bytes);
    blocks.retain(|b| b.tag.is_empty());
    blocks
}

/// Every fenced code block of a Markdown text, tagged or not.
fn fenced_blocks(bytes: &[u8]) -> Vec<Block> {
    let all = lines(bytes);
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < all.len() {
        let Some(&line) = all.get(i) else { break };
        let text = body(bytes, line);
        // How many blockquote markers the line has, as many as it starts with.
        let (depth, quoted) = strip_quotes(text, usize::MAX);
        let rest = text.get(quoted..).unwrap_or_default();
        let indent = spaces(rest);
        let Some((c, n, info)) = fence(rest.get(indent..).unwrap_or_default()) else {
            i += 1;
            continue;
        };
        if c == b'`' && info.contains(&b'`') {
            i += 1;
            continue;
        }
        // Indented by more than three spaces, the fence is one only inside a list item.
        let in_list = indent > 0 && {
            let earlier = all.get(..i).unwrap_or_default();
            earlier
                .iter()
                .rev()
                .map(|&l| {
                    let t = body(bytes, l);
                    let (_, q) = strip_quotes(t, depth);
                    t.get(q..).unwrap_or_default().to_vec()
                })
                .find(|t| !is_blank(t) && spaces(t) < indent)
                .is_some_and(|t| is_list_item(&t))
        };
        if indent > 3 && !in_list {
            i += 1;
            continue;
        }
        let tag = tag_of(info);
        let prefix_len = quoted + indent;
        let mut raw = Vec::new();
        let mut closed = false;
        let mut j = i + 1;
        while let Some(&next) = all.get(j) {
            let t = body(bytes, next);
            let (found, q) = strip_quotes(t, depth);
            if found < depth {
                break;
            }
            let r = t.get(q..).unwrap_or_default();
            let lead = spaces(r);
            if in_list && !is_blank(r) && lead < indent {
                break;
            }
            if lead < indent + 4 {
                if let Some((cc, nn, after)) = fence(r.get(lead..).unwrap_or_default()) {
                    if cc == c && nn >= n && is_blank(after) {
                        closed = true;
                        break;
                    }
                }
            }
            raw.push((next, q + lead.min(indent)));
            j += 1;
        }
        let console = is_console(&tag);
        let mut prefix =
            String::from_utf8_lossy(text.get(..prefix_len).unwrap_or_default()).into_owned();
        if console {
            prefix.push_str("$ ");
        }
        blocks.push(Block {
            lines: content_lines(bytes, &raw, console),
            tag,
            line: i,
            prefix,
            closed,
        });
        i = if closed { j + 1 } else { j.max(i + 1) };
    }
    blocks
}

/// The tagged code blocks of a reStructuredText text: `.. code-block:: LANG`, `.. code:: LANG`,
/// `.. sourcecode:: LANG` (an untagged `::` literal block is not returned).
pub fn rst_blocks(bytes: &[u8]) -> Vec<Block> {
    let mut blocks = rst_code_blocks(bytes);
    blocks.retain(|b| !b.tag.is_empty());
    blocks
}

/// The code blocks of a reStructuredText text without a language, which are not read: literal
/// blocks (a paragraph ending `::`, or `::` alone) and code directives with no language. The
/// caller counts those that mention the metadata service.
pub fn untagged_rst_blocks(bytes: &[u8]) -> Vec<Block> {
    let mut blocks = rst_code_blocks(bytes);
    blocks.retain(|b| b.tag.is_empty());
    blocks
}

/// Every code block of a reStructuredText text: code directives, tagged or not, and literal
/// blocks (untagged). Another directive (`.. note::`) holds prose.
fn rst_code_blocks(bytes: &[u8]) -> Vec<Block> {
    let all = lines(bytes);
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < all.len() {
        let Some(&line) = all.get(i) else { break };
        let text = body(bytes, line);
        let indent = spaces(text);
        let content = text.get(indent..).unwrap_or_default().trim_ascii_end();
        let directive = String::from_utf8_lossy(content);
        let tag = match directive.strip_prefix("..") {
            Some(rest) => ["code-block::", "code::", "sourcecode::"]
                .iter()
                .find_map(|d| rest.trim_start().strip_prefix(d))
                .map(|lang| tag_of(lang.as_bytes())),
            None => content.ends_with(b"::").then(String::new),
        };
        let Some(tag) = tag else {
            i += 1;
            continue;
        };
        let mut j = i + 1;
        // Options (`:linenos:`) indented under the directive, then the content.
        while let Some(&next) = all.get(j) {
            let t = body(bytes, next);
            let lead = spaces(t);
            if !is_blank(t) && lead > indent && t.get(lead) == Some(&b':') {
                j += 1;
            } else {
                break;
            }
        }
        let content_indent = all
            .get(j..)
            .unwrap_or_default()
            .iter()
            .map(|&l| body(bytes, l))
            .find(|t| !is_blank(t))
            .map_or(0, spaces);
        if content_indent <= indent {
            i = j.max(i + 1);
            continue;
        }
        let mut raw = Vec::new();
        while let Some(&next) = all.get(j) {
            let t = body(bytes, next);
            if !is_blank(t) && spaces(t) < content_indent {
                break;
            }
            raw.push((next, spaces(t).min(content_indent)));
            j += 1;
        }
        // Blank lines after the block belong to the text around it.
        while raw.last().is_some_and(|&(l, _)| is_blank(body(bytes, l))) {
            raw.pop();
        }
        let console = is_console(&tag);
        let mut prefix = " ".repeat(content_indent);
        if console {
            prefix.push_str("$ ");
        }
        blocks.push(Block {
            lines: content_lines(bytes, &raw, console),
            tag,
            line: i,
            prefix,
            closed: true,
        });
        i = j.max(i + 1);
    }
    blocks
}

/// The tagged source blocks of an AsciiDoc text: `[source,LANG]` followed by a `----` block.
pub fn asciidoc_blocks(bytes: &[u8]) -> Vec<Block> {
    let mut blocks = asciidoc_delimited_blocks(bytes);
    blocks.retain(|b| !b.tag.is_empty());
    blocks
}

/// The listing (`----`) and literal (`....`) blocks of an AsciiDoc text that no `[source,LANG]`
/// tags, which are not read. The caller counts those that mention the metadata service.
pub fn untagged_asciidoc_blocks(bytes: &[u8]) -> Vec<Block> {
    let mut blocks = asciidoc_delimited_blocks(bytes);
    blocks.retain(|b| b.tag.is_empty());
    blocks
}

/// Every listing (`----`) and literal (`....`) block of an AsciiDoc text, tagged with the
/// language of a `[source,LANG]` line right before a listing block (else untagged).
fn asciidoc_delimited_blocks(bytes: &[u8]) -> Vec<Block> {
    let all = lines(bytes);
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < all.len() {
        let Some(&line) = all.get(i) else { break };
        let delimiter = body(bytes, line);
        let listing = delimiter.iter().all(|b| *b == b'-');
        let opens = delimiter.len() >= 4 && (listing || delimiter.iter().all(|b| *b == b'.'));
        if !opens {
            i += 1;
            continue;
        }
        let tag = i
            .checked_sub(1)
            .and_then(|k| all.get(k))
            .filter(|_| listing)
            .and_then(|&l| {
                let text = String::from_utf8_lossy(body(bytes, l));
                let inner = text
                    .trim()
                    .strip_prefix("[source")?
                    .strip_suffix(']')?
                    .to_owned();
                Some(tag_of(inner.trim_start().strip_prefix(',')?.as_bytes()))
            })
            .unwrap_or_default();
        let mut raw = Vec::new();
        let mut closed = false;
        let mut j = i + 1;
        while let Some(&next) = all.get(j) {
            if body(bytes, next) == delimiter {
                closed = true;
                break;
            }
            raw.push((next, 0));
            j += 1;
        }
        let console = is_console(&tag);
        blocks.push(Block {
            lines: content_lines(bytes, &raw, console),
            prefix: if console { "$ ".into() } else { String::new() },
            line: if tag.is_empty() { i } else { i - 1 },
            tag,
            closed,
        });
        i = j + 1;
    }
    blocks
}

/// A block's content as one text, with an anchor at each line's kept text.
pub fn decode(bytes: &[u8], block: &Block) -> (Vec<u8>, Vec<(usize, usize)>) {
    let mut text = Vec::new();
    let mut anchors = Vec::new();
    for line in &block.lines {
        anchors.push((text.len(), line.content));
        text.extend_from_slice(bytes.get(line.content..line.end).unwrap_or_default());
    }
    (text, anchors)
}

/// Writes text inserted into a block: each line break is followed by `prefix`, so that the
/// line after it stays in the block (and, in a console block, is a command).
pub fn encode(text: &str, prefix: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for piece in text.split_inclusive('\n') {
        out.push_str(piece);
        if piece.ends_with('\n') {
            out.push_str(prefix);
        }
    }
    out
}

/// Writes text inserted after a block's last line, where the line that closes the block starts:
/// each of its lines starts with `prefix`. `None` when it does not end with a line break (the
/// closing line would join it).
pub fn encode_at_end(text: &str, prefix: &str) -> Option<String> {
    if text.is_empty() {
        return Some(String::new());
    }
    if !text.ends_with('\n') {
        return None;
    }
    let mut out = String::with_capacity(text.len() + 16);
    for line in text.split_inclusive('\n') {
        out.push_str(prefix);
        out.push_str(line);
    }
    Some(out)
}

/// Writes a whole block's content (not a console block's): each line starts with `prefix`, an
/// empty line with the prefix's text only (its trailing blanks left out).
pub fn encode_lines(text: &str, prefix: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for line in text.split_inclusive('\n') {
        if line.trim_end_matches(['\n', '\r']).is_empty() {
            out.push_str(prefix.trim_end());
        } else {
            out.push_str(prefix);
        }
        out.push_str(line);
    }
    out
}

/// Whether the host text between fragment pieces inside `from..to` of `host` (where the map's
/// pieces are the kept lines) is only line prefixes: an edit there keeps every output line of
/// a console block. `gaps` are the host ranges between consecutive pieces.
pub fn gaps_are_prefixes(host: &[u8], gaps: &[(usize, usize)]) -> bool {
    gaps.iter()
        .all(|&(a, b)| host.get(a..b).is_some_and(|gap| !gap.contains(&b'\n')))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::fragment::properties::anchors_inside;
    use crate::fragment::HostSpan;

    fn one(text: &str) -> Block {
        let blocks = markdown_blocks(text.as_bytes());
        assert_eq!(blocks.len(), 1, "{blocks:?}");
        blocks.into_iter().next().unwrap()
    }

    fn decoded(text: &str, block: &Block) -> String {
        String::from_utf8(decode(text.as_bytes(), block).0).unwrap()
    }

    #[test]
    fn plain_fence() {
        let md = "# T\n\n```bash\ncurl x\necho y\n```\n";
        let b = one(md);
        assert_eq!(b.tag, "bash");
        assert_eq!(decoded(md, &b), "curl x\necho y\n");
        assert!(b.closed);
        assert_eq!(b.prefix, "");
    }

    #[test]
    fn list_item_fence_loses_its_indentation() {
        let md = "1. Run:\n\n   ```sh\n   curl x\n     two\n   ```\n";
        let b = one(md);
        assert_eq!(decoded(md, &b), "curl x\n  two\n");
        assert_eq!(b.prefix, "   ");
    }

    #[test]
    fn blockquote_fence() {
        let md = "> ~~~~shell\n> curl x\n>\n> ~~~~\n";
        let b = one(md);
        assert_eq!(decoded(md, &b), "curl x\n\n");
        assert_eq!(b.prefix, "> ");
    }

    #[test]
    fn shorter_fence_does_not_close() {
        let md = "````sh\n```\ncurl x\n````\n";
        assert_eq!(decoded(md, &one(md)), "```\ncurl x\n");
    }

    #[test]
    fn console_keeps_prompted_lines_and_continuations() {
        let md = "```console\n$ curl a \\\n  -s\nout put\n# id\n0\n```\n";
        let b = one(md);
        assert_eq!(decoded(md, &b), "curl a \\\n  -s\nid\n");
        assert_eq!(b.prefix, "$ ");
    }

    #[test]
    fn root_prompt_or_comment_by_what_follows() {
        for command in [
            "curl -s http://x/",
            "yum install -y jq",
            "./setup.sh",
            "/usr/bin/id",
            "REGION=$(curl x)",
            "$HOME/bin/x",
            "systemctl restart app",
        ] {
            assert!(is_root_command(command.as_bytes()), "{command}");
        }
        for prose in [
            "Fetch the token first",
            "Note: curl x",
            "or run curl x instead",
            "note, it is slow",
            "the token expires after six hours",
            "see the docs",
            "",
            "NOTE this",
        ] {
            assert!(!is_root_command(prose.as_bytes()), "{prose}");
        }
    }

    #[test]
    fn untagged_and_indented_code_are_not_blocks() {
        assert!(markdown_blocks(b"```\ncurl x\n```\n\n    curl y\n").is_empty());
        assert!(markdown_blocks(b"para\n\n    ```sh\n    curl\n    ```\n").is_empty());
    }

    #[test]
    fn crlf_lines_keep_their_carriage_return() {
        let md = "```sh\r\ncurl x\r\n```\r\n";
        let b = one(md);
        assert_eq!(decoded(md, &b), "curl x\r\n");
        assert!(b.closed);
    }

    #[test]
    fn rst_directive() {
        let rst = "Run:\n\n.. code-block:: bash\n   :linenos:\n\n   curl x\n     y\n\nText\n";
        let blocks = rst_blocks(rst.as_bytes());
        assert_eq!(blocks.len(), 1);
        let b = &blocks[0];
        assert_eq!(b.tag, "bash");
        assert_eq!(decoded(rst, b), "\ncurl x\n  y\n");
        assert_eq!(b.prefix, "   ");
    }

    #[test]
    fn asciidoc_source_block() {
        let adoc = "[source,bash]\n----\ncurl x\n----\n";
        let blocks = asciidoc_blocks(adoc.as_bytes());
        assert_eq!(blocks.len(), 1);
        assert_eq!(decoded(adoc, &blocks[0]), "curl x\n");
    }

    #[test]
    fn inserted_lines_get_the_prefix() {
        assert_eq!(encode("T=1\n", "> $ "), "T=1\n> $ ");
        assert_eq!(encode("a", "  "), "a");
        assert_eq!(
            encode_at_end("a\n  b\n", "   ").as_deref(),
            Some("   a\n     b\n")
        );
        assert_eq!(encode_at_end("a", "   "), None);
    }

    /// A block written in a container: the opening fence, each line with the prefix (an empty
    /// line without the trailing blanks of it), the closing fence.
    fn hosted(text: &str, prefix: &str) -> String {
        let mut out = format!("{prefix}```sh\n");
        for line in text.split_inclusive('\n') {
            if line == "\n" {
                out.push_str(prefix.trim_end());
            } else {
                out.push_str(prefix);
            }
            out.push_str(line);
        }
        if !text.is_empty() && !text.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(prefix);
        out.push_str("```\n");
        out
    }

    fn line_text() -> impl Strategy<Value = String> {
        // Lines that cannot close the fence or leave the container.
        "[a-z$\"'\\\\ #|>{}-]{0,12}".prop_filter("no fence", |l| {
            !l.trim_start().starts_with("```") && !l.starts_with(' ')
        })
    }

    proptest! {
        #[test]
        fn round_trip(lines in proptest::collection::vec(line_text(), 0..6),
                      prefix in prop_oneof![Just(""), Just("> "), Just("  "), Just("> > ")]) {
            let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
            let md = hosted(&text, prefix);
            let blocks = markdown_blocks(md.as_bytes());
            prop_assert_eq!(blocks.len(), 1);
            let block = &blocks[0];
            let (decoded, anchors) = decode(md.as_bytes(), block);
            prop_assert_eq!(String::from_utf8(decoded.clone()).unwrap(), text.clone());
            let (start, end) = block.span();
            if !block.lines.is_empty() {
                prop_assert!(anchors_inside(&anchors, decoded.len(), HostSpan::new(start, end)).is_ok());
            }
            // What the encoder writes is what the block holds.
            let first = md.find('\n').unwrap() + 1;
            let written = format!("{prefix}{}", encode(&text, prefix));
            let expected: String = md[first..].to_owned();
            let closing = format!("{prefix}```\n");
            let got = written.trim_end_matches(prefix).to_owned() + &closing;
            let normal = |s: &str| s.lines().map(str::trim_end).collect::<Vec<_>>().join("\n");
            prop_assert_eq!(normal(&got), normal(&expected));
        }

        #[test]
        fn console_spans_stay_inside(lines in proptest::collection::vec(
            prop_oneof![line_text().prop_map(|l| format!("$ {l}")), line_text()], 0..6)) {
            let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
            let md = format!("```console\n{text}```\n");
            let blocks = markdown_blocks(md.as_bytes());
            prop_assert_eq!(blocks.len(), 1);
            let block = &blocks[0];
            let (decoded, anchors) = decode(md.as_bytes(), block);
            if !block.lines.is_empty() {
                let (start, end) = block.span();
                prop_assert!(anchors_inside(&anchors, decoded.len(), HostSpan::new(start, end)).is_ok());
            }
        }
    }
}
