//! YAML read with tree-sitter-yaml, so that every scalar keeps its exact byte span: documents,
//! mappings, sequences, and scalars decoded (plain, quoted, block) with an offset map and the
//! quoting that inserted text needs. The YAML front ends (cloud-init, Kubernetes, CloudFormation,
//! CI workflows) are built on this.

use tree_sitter::{Node, Tree};

mod limits;
pub use limits::beyond_grammar;
#[cfg(test)]
use limits::flow_levels_beyond;
use limits::nesting_beyond;

use crate::fragment::{
    yaml_block, yaml_double, yaml_plain, yaml_single, HostSpan, InsertRegion, Quoting,
};

/// Parses YAML, or says why it was not: the grammar's limits (below) or the parse budget.
pub fn parse_tree(bytes: &[u8]) -> Result<tree_sitter::Tree, String> {
    if let Some(why) = beyond_grammar(bytes) {
        return Err(why);
    }
    crate::syntax::parse(crate::syntax::Grammar::Yaml, bytes).map_err(|e| not_parsed(&e))
}

/// What a note says of YAML the parser gave up on.
fn not_parsed(error: &crate::syntax::ParseError) -> String {
    format!("{error}; it was not analysed")
}

/// Parses a stream of YAML documents as one tree per run of whole documents that stays within the
/// parser's line count ([`MAX_LINES`]) and token bound (`crate::syntax::MAX_TOKENS`), each parsed
/// in place (offsets are the file's) and handed to `read` before the next is parsed, so that no
/// two trees are held at once: a bundle of many manifests is read whole, however long; only a
/// single document past the limits is not, and then the file is not (`read` may have seen the
/// runs before it: the caller drops what it read).
pub fn read_documents(bytes: &[u8], read: impl FnMut(&Tree)) -> Result<(), String> {
    read_documents_kept(bytes, &|_| true, read)
}

/// [`read_documents`], of the documents `worth_reading` says may matter only (the others are
/// never parsed: a document cannot see into another, anchors included), when the stream has
/// more than one. `worth_reading` sees each document's text, its `---` line included.
pub fn read_documents_kept(
    bytes: &[u8],
    worth_reading: &dyn Fn(&[u8]) -> bool,
    mut read: impl FnMut(&Tree),
) -> Result<(), String> {
    if let Some(kept) = kept_documents(bytes, worth_reading) {
        // The documents kept, as one stream: each starts at its `---` line (or the file's start).
        for document in &kept {
            let text = bytes.get(document.clone()).unwrap_or_default();
            if let Some(why) = beyond_grammar(text) {
                return Err(why);
            }
        }
        let tree = crate::syntax::parse_byte_ranges(crate::syntax::Grammar::Yaml, bytes, &kept)
            .map_err(|e| not_parsed(&e))?;
        read(&tree);
        return Ok(());
    }
    let runs = document_runs(bytes);
    if runs.len() <= 1 {
        read(&parse_tree(bytes)?);
        return Ok(());
    }
    if let Some(why) = nesting_beyond(bytes) {
        return Err(why);
    }
    for run in runs {
        let range = run?;
        let tree = crate::syntax::parse_range(crate::syntax::Grammar::Yaml, bytes, Some(range))
            .map_err(|e| not_parsed(&e))?;
        read(&tree);
    }
    Ok(())
}

/// The documents of a stream that are worth reading, as byte ranges, when at least one is not
/// (else `None`: the stream is read as it is). A document is not worth reading when
/// `worth_reading` says so of its text (the stream has more than one document), or when it is a
/// Kubernetes `CustomResourceDefinition`: a CRD declares a schema, nothing in it runs or
/// configures an instance, but its descriptions name the very fields and addresses the
/// prefilter looks for (CAPA's `instanceMetadataOptions`, Calico's 169.254.169.254), and a CRD is
/// often most of a manifest bundle's bytes. A document is a CRD when a line of its own,
/// unindented, says `kind: CustomResourceDefinition`. Documents start at `---` lines, as YAML
/// has it: no scalar can hold such a line.
fn kept_documents(
    bytes: &[u8],
    worth_reading: &dyn Fn(&[u8]) -> bool,
) -> Option<Vec<std::ops::Range<usize>>> {
    const CRD: &[u8] = b"CustomResourceDefinition";
    let has_schema = memchr::memmem::find(bytes, CRD).is_some();
    // One document: the file was worth reading, or it would not be parsed.
    if !has_schema && !bytes.starts_with(b"---") && memchr::memmem::find(bytes, b"\n---").is_none()
    {
        return None;
    }
    let mut documents = Vec::new();
    let mut start = 0;
    let mut schema = false;
    let mut at = 0;
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        let marker =
            line.starts_with(b"---") && line.get(3).is_none_or(|b| b.is_ascii_whitespace());
        if marker && at > 0 {
            documents.push((start..at, schema));
            start = at;
            schema = false;
        }
        let content = line.trim_ascii_end();
        schema |= has_schema
            && content.strip_prefix(b"kind:").is_some_and(|kind| {
                let kind = kind.trim_ascii();
                [
                    kind,
                    kind.get(1..kind.len().saturating_sub(1))
                        .unwrap_or_default(),
                ]
                .contains(&CRD)
            });
        at += line.len();
    }
    documents.push((start..bytes.len(), schema));
    let several = documents.len() > 1;
    // Each document asked once: `worth_reading` looks through its text.
    let total = documents.len();
    let kept: Vec<std::ops::Range<usize>> = documents
        .into_iter()
        .filter(|(range, schema)| {
            !schema && (!several || worth_reading(bytes.get(range.clone()).unwrap_or_default()))
        })
        .map(|(range, _)| range)
        .collect();
    (kept.len() < total).then_some(kept)
}

/// The file cut at document starts (`---` lines) into runs of at most [`MAX_LINES`] lines and,
/// where documents allow, [`MAX_RUN_BYTES`] bytes; a single document longer than [`MAX_LINES`]
/// is an error. One run (or none) when the file is short.
fn document_runs(bytes: &[u8]) -> Vec<Result<tree_sitter::Range, String>> {
    let total_rows = bytes.iter().filter(|&&b| b == b'\n').count() + 1;
    if total_rows <= MAX_LINES && bytes.len() <= MAX_RUN_BYTES {
        return Vec::new();
    }
    // (byte, row) of each document start.
    let mut starts: Vec<(usize, usize)> = vec![(0, 0)];
    let mut at = 0;
    for (row, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let marker =
            line.starts_with(b"---") && line.get(3).is_none_or(|b| b.is_ascii_whitespace());
        if marker && row > 0 {
            starts.push((at, row));
        }
        at += line.len() + 1;
    }
    starts.push((bytes.len(), total_rows));
    let point = |row: usize| tree_sitter::Point { row, column: 0 };
    let mut runs = Vec::new();
    let mut first = 0;
    while let (Some(&(start_byte, start_row)), Some(_)) = (starts.get(first), starts.get(first + 1))
    {
        let mut last = first + 1;
        while starts.get(last + 1).is_some_and(|&(byte, row)| {
            row - start_row <= MAX_LINES && byte - start_byte <= MAX_RUN_BYTES
        }) {
            last += 1;
        }
        let Some(&(end_byte, end_row)) = starts.get(last) else {
            break;
        };
        if end_row - start_row > MAX_LINES {
            runs.push(Err(format!(
                "a document of more than {MAX_LINES} lines (from line {}) is past what the parser counts; it was not analysed",
                start_row + 1
            )));
        } else {
            runs.push(Ok(tree_sitter::Range {
                start_byte,
                end_byte,
                start_point: point(start_row),
                end_point: point(end_row),
            }));
        }
        first = last;
    }
    runs
}

/// The scanner counts rows in 16 bits: a document past this many lines is read as broken.
const MAX_LINES: usize = i16::MAX as usize;

/// How many bytes of documents one parse takes where a stream can be cut: a tree costs about
/// 100 bytes per byte of YAML, and trees are read one at a time (`read_documents`), so a long
/// stream costs about one run's tree at a time.
const MAX_RUN_BYTES: usize = 1 << 18;

pub fn text<'a>(node: Node, bytes: &'a [u8]) -> &'a [u8] {
    bytes.get(node.byte_range()).unwrap_or_default()
}

/// The value a document or a block sequence item holds (its `block_node`/`flow_node` child).
fn value_child(node: Node<'_>) -> Option<Node<'_>> {
    let mut cursor = node.walk();
    let value = node
        .named_children(&mut cursor)
        .find(|n| matches!(n.kind(), "block_node" | "flow_node"));
    value
}

/// The top-level value of each document.
pub fn documents(tree: &Tree) -> Vec<Node<'_>> {
    let root = tree.root_node();
    let mut out = Vec::new();
    let mut cursor = root.walk();
    for document in root.named_children(&mut cursor) {
        if document.kind() != "document" {
            continue;
        }
        out.extend(value_child(document));
    }
    out
}

/// A node without its `block_node`/`flow_node` wrapper, with its tag (`!Sub`, `!!binary`); an
/// alias (`*name`) is the node its anchor (`&name`) marks, as a YAML loader reads it (its spans
/// are the anchored node's own bytes).
pub fn unwrap<'t>(node: Node<'t>, bytes: &[u8]) -> (Node<'t>, Option<String>) {
    let mut node = node;
    let mut tag = None;
    for _ in 0..8 {
        if node.kind() == "alias" {
            match anchored(node, bytes) {
                Some(target) => {
                    node = target;
                    continue;
                }
                None => break,
            }
        }
        if !matches!(node.kind(), "block_node" | "flow_node") {
            break;
        }
        let mut cursor = node.walk();
        let mut inner = None;
        for child in node.named_children(&mut cursor) {
            match child.kind() {
                "tag" => tag = Some(String::from_utf8_lossy(text(child, bytes)).into_owned()),
                "anchor" | "comment" => {}
                _ => {
                    inner = inner.or(Some(child));
                }
            }
        }
        match inner {
            Some(inner) => node = inner,
            None => break,
        }
    }
    (node, tag)
}

/// The node an alias (`*name`) stands for: the node of the last anchor `&name` before it in its
/// document. `None` when there is none (the loader would refuse the document).
fn anchored<'t>(alias: Node<'t>, bytes: &[u8]) -> Option<Node<'t>> {
    let name = text(alias, bytes).strip_prefix(b"*")?;
    let mut document = alias;
    while document.kind() != "document" {
        document = document.parent()?;
    }
    let mut needle = b"&".to_vec();
    needle.extend_from_slice(name);
    let from = document.start_byte();
    let mut before = alias.start_byte();
    while let Some(at) = bytes
        .get(from..before)
        .and_then(|b| memchr::memmem::rfind(b, &needle))
    {
        let at = from + at;
        let found = document.descendant_for_byte_range(at, at + needle.len());
        let anchor = found.and_then(|n| match n.kind() {
            "anchor" => Some(n),
            "anchor_name" => n.parent(),
            _ => None,
        });
        if let Some(anchor) = anchor.filter(|a| a.kind() == "anchor" && text(*a, bytes) == needle) {
            return anchor.parent();
        }
        before = at;
    }
    None
}

/// The spans of the nodes that aliases stand for: text that every alias of its anchor shares,
/// so that an edit there changes all of them.
pub fn shared_spans(tree: &Tree, bytes: &[u8]) -> Vec<HostSpan> {
    let mut out: Vec<HostSpan> = Vec::new();
    if memchr::memchr(b'*', bytes).is_none() {
        return out;
    }
    let mut cursor = tree.walk();
    loop {
        let node = cursor.node();
        if node.kind() == "alias" {
            if let Some(target) = anchored(node, bytes) {
                let span = HostSpan::new(target.start_byte(), target.end_byte());
                if !out.contains(&span) {
                    out.push(span);
                }
            }
        }
        if cursor.goto_first_child() || cursor.goto_next_sibling() {
            continue;
        }
        let mut done = true;
        while cursor.goto_parent() {
            if cursor.goto_next_sibling() {
                done = false;
                break;
            }
        }
        if done {
            return out;
        }
    }
}

/// How deep merge keys (`<<: *base`) are followed into the mappings they merge.
const MAX_MERGES: usize = 8;

/// The pairs of a mapping as a YAML loader reads it: (key text, key node, value node), each key
/// once, with the value of its last occurrence (PyYAML, cloud-init's loader, keeps the last of
/// duplicate keys); the pairs of mappings merged with `<<` come first, so that the mapping's own
/// keys win (and, of a list of merged mappings, the earlier ones).
pub fn pairs<'t>(node: Node<'t>, bytes: &[u8]) -> Vec<(String, Node<'t>, Node<'t>)> {
    let mut all = Vec::new();
    merged_pairs(node, bytes, 0, &mut all);
    let last: std::collections::HashMap<&str, usize> = all
        .iter()
        .enumerate()
        .map(|(i, (k, _, _))| (k.as_str(), i))
        .collect();
    // A key that is not text (a complex key) is never taken for another.
    let kept: Vec<bool> = all
        .iter()
        .enumerate()
        .map(|(i, (k, _, _))| k.is_empty() || last.get(k.as_str()) == Some(&i))
        .collect();
    all.into_iter()
        .zip(kept)
        .filter_map(|(pair, kept)| kept.then_some(pair))
        .collect()
}

/// The pairs of a mapping, merged mappings first, every occurrence of each key.
fn merged_pairs<'t>(
    node: Node<'t>,
    bytes: &[u8],
    depth: usize,
    out: &mut Vec<(String, Node<'t>, Node<'t>)>,
) {
    let own = written_pairs(node, bytes);
    let (merges, own): (Vec<_>, Vec<_>) = own
        .into_iter()
        .partition(|(_, key, _)| is_merge_key(*key, bytes));
    if depth < MAX_MERGES {
        for (_, _, value) in merges {
            if is_sequence(value, bytes) {
                // Earlier mappings of the list win: they go last.
                for mapping in items(value, bytes).into_iter().rev() {
                    merged_pairs(mapping, bytes, depth + 1, out);
                }
            } else {
                merged_pairs(value, bytes, depth + 1, out);
            }
        }
    }
    out.extend(own);
}

/// Whether a key is the merge key: `<<` written plain.
fn is_merge_key(key: Node, bytes: &[u8]) -> bool {
    let raw = text(key, bytes);
    if memchr::memmem::find(raw, b"<<").is_none() && !raw.contains(&b'*') {
        return false;
    }
    let (inner, _) = unwrap(key, bytes);
    inner.kind() == "plain_scalar" && text(inner, bytes) == b"<<"
}

/// The pairs of a mapping as written: (key text, key node, value node), duplicates included.
fn written_pairs<'t>(node: Node<'t>, bytes: &[u8]) -> Vec<(String, Node<'t>, Node<'t>)> {
    let (map, _) = unwrap(node, bytes);
    if !matches!(map.kind(), "block_mapping" | "flow_mapping") {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut cursor = map.walk();
    for pair in map.named_children(&mut cursor) {
        if !matches!(pair.kind(), "block_mapping_pair" | "flow_pair") {
            continue;
        }
        let (Some(key), Some(value)) = (
            pair.child_by_field_name("key"),
            pair.child_by_field_name("value"),
        ) else {
            continue;
        };
        let key_text = scalar_string(key, bytes).unwrap_or_default();
        out.push((key_text, key, value));
    }
    out
}

/// The value of `key` in a mapping: of its last occurrence, as a YAML loader reads it. The same
/// as the pair [`pairs`] keeps for it, found without decoding every key: the mapping's own pairs
/// from the last, then what it merges, the mapping merged last first (in a merged list, the first
/// wins).
pub fn get<'t>(node: Node<'t>, bytes: &[u8], key: &str) -> Option<Node<'t>> {
    get_merged(node, bytes, key, 0)
}

fn get_merged<'t>(node: Node<'t>, bytes: &[u8], key: &str, depth: usize) -> Option<Node<'t>> {
    if key.is_empty() {
        return None;
    }
    let (map, _) = unwrap(node, bytes);
    if !matches!(map.kind(), "block_mapping" | "flow_mapping") {
        return None;
    }
    // One walk over the pairs, with nothing allocated unless the mapping merges others: the last
    // pair written with the key, else the merged mappings, the last merge first.
    let mut found = None;
    let mut merges: Vec<Node<'t>> = Vec::new();
    let mut cursor = map.walk();
    for pair in map.named_children(&mut cursor) {
        if !matches!(pair.kind(), "block_mapping_pair" | "flow_pair") {
            continue;
        }
        let (Some(k), Some(value)) = (
            pair.child_by_field_name("key"),
            pair.child_by_field_name("value"),
        ) else {
            continue;
        };
        if is_merge_key(k, bytes) {
            merges.push(value);
        } else if key_is(k, bytes, key) {
            found = Some(value);
        }
    }
    if found.is_some() || depth >= MAX_MERGES {
        return found;
    }
    merges.iter().rev().find_map(|value| {
        if is_sequence(*value, bytes) {
            items(*value, bytes)
                .into_iter()
                .find_map(|mapping| get_merged(mapping, bytes, key, depth + 1))
        } else {
            get_merged(*value, bytes, key, depth + 1)
        }
    })
}

/// Whether a key node says `key`: by its text where that decides (it is `key`, or it cannot
/// decode to `key`: no escape, doubled quote or alias, and `key` is not in it), else decoded.
fn key_is(node: Node, bytes: &[u8], key: &str) -> bool {
    let raw = text(node, bytes);
    if raw == key.as_bytes() {
        return true;
    }
    if !raw.iter().any(|b| matches!(b, b'\\' | b'\'' | b'*'))
        && memchr::memmem::find(raw, key.as_bytes()).is_none()
    {
        return false;
    }
    let (inner, _) = unwrap(node, bytes);
    let written = text(inner, bytes);
    if inner.kind() == "plain_scalar" && !written.contains(&b'\n') {
        return written == key.as_bytes();
    }
    scalar_string(node, bytes).is_some_and(|k| k == key)
}

/// The occurrences of `key` written in a mapping (not merged into it) that a later one shadows:
/// a YAML loader keeps only the last, and never sees these. Their (key node, value node).
pub fn shadowed<'t>(node: Node<'t>, bytes: &[u8], key: &str) -> Vec<(Node<'t>, Node<'t>)> {
    let mut written: Vec<(Node<'t>, Node<'t>)> = written_pairs(node, bytes)
        .into_iter()
        .filter(|(k, _, _)| k == key)
        .map(|(_, k, v)| (k, v))
        .collect();
    written.pop();
    written
}

/// The items of a sequence.
pub fn items<'t>(node: Node<'t>, bytes: &[u8]) -> Vec<Node<'t>> {
    let (seq, _) = unwrap(node, bytes);
    let mut out = Vec::new();
    let mut cursor = seq.walk();
    match seq.kind() {
        "block_sequence" => {
            for item in seq.named_children(&mut cursor) {
                if item.kind() != "block_sequence_item" {
                    continue;
                }
                out.extend(value_child(item));
            }
        }
        "flow_sequence" => {
            out.extend(
                seq.named_children(&mut cursor)
                    .filter(|n| matches!(n.kind(), "flow_node" | "flow_pair")),
            );
        }
        _ => {}
    }
    out
}

pub fn is_sequence(node: Node, bytes: &[u8]) -> bool {
    matches!(
        unwrap(node, bytes).0.kind(),
        "block_sequence" | "flow_sequence"
    )
}

pub fn is_mapping(node: Node, bytes: &[u8]) -> bool {
    matches!(
        unwrap(node, bytes).0.kind(),
        "block_mapping" | "flow_mapping"
    )
}

/// A scalar's value as text (for keys and small values).
pub fn scalar_string(node: Node, bytes: &[u8]) -> Option<String> {
    scalar(node, bytes).map(|s| s.text)
}

/// A decoded scalar: its value, anchors from value offsets to host offsets, and how inserted
/// text must be written in it.
#[derive(Debug, Clone)]
pub struct Scalar {
    pub text: String,
    pub anchors: Vec<(usize, usize)>,
    pub span: HostSpan,
    pub tag: Option<String>,
    /// How text inserted at a value offset is written; `None` when it cannot be.
    pub region: InsertRegion,
}

/// Decodes a scalar node (plain, single- or double-quoted, literal or folded block).
pub fn scalar(node: Node, bytes: &[u8]) -> Option<Scalar> {
    let (inner, tag) = unwrap(node, bytes);
    let start = inner.start_byte();
    let raw = text(inner, bytes);
    let mut span = HostSpan::new(start, inner.end_byte());
    let (text, anchors, region) = match inner.kind() {
        "plain_scalar" => {
            let (text, anchors) = yaml_plain::decode(raw, start);
            let plain = yaml_plain::plain_as_quoted(raw, span);
            let region = InsertRegion {
                start: 0,
                quoting: plain.is_some().then(|| vec![Quoting::YamlDoubleQuoted]),
                plain,
            };
            (text, anchors, region)
        }
        "double_quote_scalar" => {
            let (text, anchors) = yaml_double::decode(raw, start);
            (
                text,
                anchors,
                InsertRegion::quoted(vec![Quoting::YamlDoubleQuoted]),
            )
        }
        "single_quote_scalar" => {
            let (text, anchors) = yaml_single::decode(raw, start);
            // Continuation lines of a flow scalar must be indented past its parent.
            let indent = format!("{}    ", crate::fragment::line_indent(bytes, start));
            let eol = if bytes.windows(2).any(|w| w == b"\r\n") {
                "\r\n"
            } else {
                "\n"
            };
            (
                text,
                anchors,
                InsertRegion::quoted(vec![Quoting::YamlSingleQuoted { indent, eol }]),
            )
        }
        "block_scalar" => {
            let parent = collection_indent(inner);
            let (text, anchors, indent, literal) = yaml_block::decode(raw, start, parent);
            let region = if literal {
                InsertRegion::quoted(vec![Quoting::YamlBlock { indent }])
            } else {
                // A simple folded block becomes a double-quoted scalar when text is inserted.
                let plain = yaml_plain::folded_as_quoted(raw, start, parent);
                InsertRegion {
                    start: 0,
                    quoting: plain.is_some().then(|| vec![Quoting::YamlDoubleQuoted]),
                    plain,
                }
            };
            if literal {
                (text, anchors, region)
            } else {
                // Its value as chomped, over the span up to its last text: a fix that rewrites
                // it whole as a flow scalar keeps the line breaks after it.
                let following = bytes.get(inner.end_byte()..).unwrap_or_default();
                let (text, anchors, end) =
                    yaml_block::chomp_folded(raw, following, &text, &anchors);
                span = HostSpan::new(start, start + end);
                (text, anchors, region)
            }
        }
        "integer_scalar" | "float_scalar" | "boolean_scalar" | "null_scalar" | "string_scalar" => {
            let text = String::from_utf8_lossy(raw).into_owned();
            (text, vec![(0, start)], InsertRegion::none())
        }
        _ => return None,
    };
    Some(Scalar {
        text,
        anchors,
        span,
        tag,
        region,
    })
}

/// The indentation of the block collection (mapping or sequence) a node is a value of, from
/// which a block scalar's indentation indicator counts: the column where the collection starts,
/// or 0 when the node is in none (a document's top-level scalar).
fn collection_indent(node: Node) -> usize {
    let mut current = node.parent();
    while let Some(parent) = current {
        if matches!(parent.kind(), "block_mapping" | "block_sequence") {
            return parent.start_position().column;
        }
        current = parent.parent();
    }
    0
}

/// A mapping's value of `key` as a setting's field: its text when it is a literal scalar, and the
/// span of its characters (inside quotes).
pub fn setting_value(
    mapping: Node,
    bytes: &[u8],
    key: &str,
) -> Option<crate::model::setting::Value> {
    use crate::model::setting::Value;
    let (written, _, value) = pairs(mapping, bytes)
        .into_iter()
        .find(|(k, _, _)| k == key)?;
    let whole = HostSpan::new(value.start_byte(), value.end_byte());
    let Some(scalar) = scalar(value, bytes).filter(|s| s.tag.is_none()) else {
        return Some(Value::opaque(&written, whole));
    };
    let (inner, _) = unwrap(value, bytes);
    let span = match inner.kind() {
        "double_quote_scalar" | "single_quote_scalar" => {
            HostSpan::new(scalar.span.start.0 + 1, scalar.span.end.0.saturating_sub(1))
        }
        "block_scalar" => return Some(Value::opaque(&written, whole)),
        _ => scalar.span,
    };
    let raw = bytes.get(span.start.0..span.end.0).unwrap_or_default();
    let mut out = Value::literal(&written, &scalar.text, span);
    out.replaceable = raw == scalar.text.as_bytes();
    Some(out)
}

/// The key node of `key` in a mapping.
pub fn key_node<'t>(mapping: Node<'t>, bytes: &[u8], key: &str) -> Option<Node<'t>> {
    pairs(mapping, bytes)
        .into_iter()
        .find(|(k, _, _)| k == key)
        .map(|(_, k, _)| k)
}

/// The byte column of `at` on its line.
fn column(bytes: &[u8], at: usize) -> usize {
    let before = bytes.get(..at).unwrap_or_default();
    at - before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1)
}

/// Where a new `key: value` can be written into a mapping (block or flow), after its last pair.
pub fn mapping_slot(node: Node, bytes: &[u8]) -> Option<crate::model::setting::Slot> {
    use crate::fragment::HostOffset;
    use crate::model::setting::{Layout, Slot};
    let (map, _) = unwrap(node, bytes);
    let mut cursor = map.walk();
    let pair_kind = match map.kind() {
        "block_mapping" => "block_mapping_pair",
        "flow_mapping" => "flow_pair",
        _ => return None,
    };
    let pairs: Vec<Node> = map
        .named_children(&mut cursor)
        .filter(|n| n.kind() == pair_kind)
        .collect();
    if map.kind() == "flow_mapping" {
        let Some(last) = pairs.last() else {
            // `{}`: right after the brace.
            let open = map.child(0).filter(|c| c.kind() == "{")?;
            let json = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
            return Some(Slot {
                at: HostOffset(open.end_byte()),
                layout: Layout::YamlFlow {
                    separator: String::new(),
                    quoted: json,
                },
            });
        };
        let same_line = !bytes
            .get(map.start_byte()..last.start_byte())
            .unwrap_or_default()
            .contains(&b'\n');
        let separator = if same_line {
            ", ".to_owned()
        } else {
            let eol = if bytes
                .get(..last.start_byte())
                .and_then(|b| b.iter().rposition(|&c| c == b'\n'))
                .is_some_and(|nl| nl > 0 && bytes.get(nl - 1) == Some(&b'\r'))
            {
                "\r\n"
            } else {
                "\n"
            };
            format!(
                ",{eol}{}",
                crate::fragment::line_indent(bytes, last.start_byte())
            )
        };
        let quoted = bytes.get(last.start_byte()) == Some(&b'"');
        return Some(Slot {
            at: HostOffset(last.end_byte()),
            layout: Layout::YamlFlow { separator, quoted },
        });
    }
    let first = pairs.first()?;
    let last = pairs.last()?;
    let indent_len = column(bytes, first.start_byte());
    // The step a nested mapping indents: as this mapping is indented from its own key.
    let parent_key = map
        .parent()
        .and_then(|n| n.parent())
        .filter(|p| p.kind() == "block_mapping_pair")
        .map(|p| column(bytes, p.start_byte()));
    let step = parent_key
        .filter(|&k| indent_len > k)
        .map_or(2, |k| indent_len - k);
    // After the line that holds the last pair's last character.
    let end = last.end_byte();
    let content_end = bytes
        .get(..end)
        .unwrap_or_default()
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(end, |i| i + 1);
    let (at, eol, newline_first) =
        match memchr::memchr(b'\n', bytes.get(content_end..).unwrap_or_default()) {
            Some(i) => {
                let nl = content_end + i;
                let crlf = nl > 0 && bytes.get(nl - 1) == Some(&b'\r');
                (nl + 1, if crlf { "\r\n" } else { "\n" }, false)
            }
            None => (bytes.len(), "\n", true),
        };
    Some(Slot {
        at: HostOffset(at),
        layout: Layout::YamlBlock {
            indent: " ".repeat(indent_len),
            step: " ".repeat(step),
            eol,
            newline_first,
        },
    })
}

#[cfg(test)]
mod tests;
