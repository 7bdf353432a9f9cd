//! The only code that touches tree-sitter-powershell: the PowerShell analysis. It finds the
//! metadata requests a PowerShell script makes — `Invoke-RestMethod`, `Invoke-WebRequest` and
//! their aliases (`irm`, `iwr`, and `curl`/`wget`, which Windows PowerShell maps to
//! `Invoke-WebRequest`), `System.Net.WebClient` methods — with their URLs (variables, expandable
//! strings, bare words, `+`), headers (`-Headers @{…}` or a variable holding one, a WebClient's
//! `Headers`) and token flow through variables, into the language-neutral request model
//! (`crate::model::request`) the rules read. `Get-EC2InstanceMetadata` (AWS Tools for
//! PowerShell, IMDSv2 since 4.0.1.0) is not a raw request and is not reported.
//!
//! The grammar (tree-sitter-powershell 0.26) rejects some valid PowerShell. A command's
//! arguments are read from their text between the grammar's argument separators, so an argument
//! the grammar could not read (`$base/latest/meta-data`, `$x.Split('.')[0]`) is still read as
//! PowerShell reads a bare word. Code in an error region outside any command is read lexically
//! for a request (no fix is planned there), and noted as partly analysed.

mod calls;
mod text;

use std::collections::HashMap;

use tree_sitter::Node;

use crate::fragment::{Fragment, FragmentSpan, HostOffset, HostSpan};
use crate::model::request::{BlockAnchor, BlockKind, FixSite, Request, Scope, TokenUse, Ttl};
use crate::model::Note;
use crate::shell::endpoint::{self, UNKNOWN};
use crate::shell::Options;
use crate::syntax::Grammar;

/// What the PowerShell analysis found in one fragment.
#[derive(Debug, Default)]
pub struct Analysis {
    pub requests: Vec<Request>,
    /// The function scopes (and the script's) the requests' `FixSite::scope` refers to.
    pub scopes: Vec<Scope>,
    pub syntax_errors: bool,
    /// The fragment could not be parsed: nothing of it was analysed.
    pub error: Option<Note>,
    /// Code the analysis did not follow: where, and why.
    pub notes: Vec<(HostSpan, String)>,
}

const TOKEN_HEADER: &str = "x-aws-ec2-metadata-token";
const TTL_HEADER: &str = "x-aws-ec2-metadata-token-ttl-seconds";

/// Analyses one fragment of PowerShell code as a run configured with `options` would.
pub fn analyze_with(fragment: &Fragment, options: &Options) -> Analysis {
    let tree = match crate::syntax::parse(Grammar::PowerShell, &fragment.text) {
        Ok(tree) => tree,
        Err(e) => {
            return Analysis {
                error: Some(Note::skipped(e.to_string())),
                ..Analysis::default()
            }
        }
    };
    let root = tree.root_node();
    let mut analyzer = Analyzer {
        fragment,
        options,
        text: &fragment.text,
        frames: vec![Frame::default()],
        values: HashMap::new(),
        lexical: Vec::new(),
        out: Analysis {
            syntax_errors: root.has_error(),
            scopes: vec![Scope::default()],
            ..Analysis::default()
        },
    };
    analyzer.walk(root, 0);
    analyzer.out
}

/// Whether a parsed text has no error or missing node (for the fix proofs in the tests).
pub fn error_count(text: &[u8]) -> Option<usize> {
    let tree = crate::syntax::parse(Grammar::PowerShell, text).ok()?;
    let mut count = 0;
    let mut stack = vec![tree.root_node()];
    while let Some(node) = stack.pop() {
        if node.is_error() || node.is_missing() {
            count += 1;
        }
        let mut cursor = node.walk();
        stack.extend(node.children(&mut cursor));
    }
    Some(count)
}

/// The header names, lower-cased, that the hashtable literal of each `-Headers` argument of the
/// commands whose span contains `at` holds (for the fix proofs in the tests).
pub fn headers_of_command_at(text: &[u8], at: usize) -> Vec<String> {
    let Ok(tree) = crate::syntax::parse(Grammar::PowerShell, text) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut stack = vec![tree.root_node()];
    while let Some(node) = stack.pop() {
        if node.kind() == "command" && node.byte_range().contains(&at) {
            let mut inner = vec![node];
            while let Some(n) = inner.pop() {
                if n.kind() == "key_expression" {
                    let key = String::from_utf8_lossy(text.get(n.byte_range()).unwrap_or_default());
                    out.push(text::unquote(key.trim()).to_ascii_lowercase());
                }
                let mut cursor = n.walk();
                inner.extend(n.children(&mut cursor));
            }
        }
        let mut cursor = node.walk();
        stack.extend(node.children(&mut cursor));
    }
    out
}

/// What the analysis knows of a value.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Unknown,
    Str(String),
    /// A hashtable (headers).
    Table(Headers),
    /// A metadata token.
    Token,
    /// An `Invoke-WebRequest` response; `token` when it answered a token request (its
    /// `.Content` is the token).
    Response {
        token: bool,
    },
    /// A `System.Net.WebClient`, with the headers set on it.
    WebClient(Headers),
}

/// A hashtable of headers as far as it could be read.
#[derive(Debug, Clone, Default, PartialEq)]
struct Headers {
    /// Each entry: its name, lower-cased (`None` when it cannot be read), and its value.
    entries: Vec<(Option<String>, HeaderValue)>,
    /// Where the TTL header's value is written in a hashtable literal, and its text.
    ttl_word: Option<(usize, usize)>,
}

#[derive(Debug, Clone, PartialEq)]
enum HeaderValue {
    /// A variable: its name, and whether it holds a token.
    Variable(String, bool),
    Str(String),
    Other,
}

impl Headers {
    fn get(&self, name: &str) -> Option<&HeaderValue> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _)| k.as_deref() == Some(name))
            .map(|(_, v)| v)
    }

    fn token_use(&self) -> TokenUse {
        match self.get(TOKEN_HEADER) {
            None if self.entries.iter().any(|(k, _)| k.is_none()) => {
                TokenUse::Unreadable("a header whose name cannot be read".to_owned())
            }
            None => TokenUse::Absent,
            Some(HeaderValue::Variable(name, token)) => {
                TokenUse::Variables(vec![crate::model::request::TokenVariable {
                    name: name.clone(),
                    from_token_request: *token,
                }])
            }
            Some(_) => TokenUse::Inline,
        }
    }

    fn ttl(&self) -> Ttl {
        match self.get(TTL_HEADER) {
            None => Ttl::Missing,
            Some(HeaderValue::Str(s)) => match s.trim().parse::<u32>() {
                Ok(n) if (1..=21600).contains(&n) => Ttl::Valid(n),
                _ => Ttl::Invalid(s.clone()),
            },
            Some(_) => Ttl::Unknown,
        }
    }
}

/// The variables of one function scope (or the script's).
#[derive(Debug, Default, Clone)]
struct Frame {
    /// By lower-cased name (PowerShell's names are case-insensitive).
    vars: HashMap<String, Value>,
    /// Each variable's name as first written (without `$`), by key.
    names: HashMap<String, String>,
    scope: usize,
}

struct Analyzer<'a> {
    fragment: &'a Fragment,
    options: &'a Options,
    text: &'a [u8],
    frames: Vec<Frame>,
    /// Commands and calls already evaluated, by node id.
    values: HashMap<usize, Value>,
    /// Lines around an error region whose request was read word by word: requests the grammar
    /// found there are not recorded again.
    lexical: Vec<std::ops::Range<usize>>,
    out: Analysis,
}

/// Node kinds that only wrap one expression.
fn is_wrapper(kind: &str) -> bool {
    matches!(
        kind,
        "pipeline"
            | "pipeline_chain"
            | "logical_expression"
            | "bitwise_expression"
            | "comparison_expression"
            | "additive_expression"
            | "multiplicative_expression"
            | "format_expression"
            | "range_expression"
            | "array_literal_expression"
            | "unary_expression"
            | "argument_expression"
            | "logical_argument_expression"
            | "bitwise_argument_expression"
            | "comparison_argument_expression"
            | "additive_argument_expression"
            | "multiplicative_argument_expression"
            | "format_argument_expression"
            | "range_argument_expression"
            | "key_expression"
            | "parenthesized_expression"
            | "sub_expression"
            | "statement_list"
            | "string_literal"
            | "left_assignment_expression"
            | "expression_with_unary_operator"
    )
}

impl<'a> Analyzer<'a> {
    fn node_text(&self, node: Node) -> &'a str {
        std::str::from_utf8(self.text.get(node.byte_range()).unwrap_or_default()).unwrap_or("")
    }

    fn range_text(&self, start: usize, end: usize) -> &'a str {
        std::str::from_utf8(self.text.get(start..end).unwrap_or_default()).unwrap_or("")
    }

    fn host_span(&self, start: usize, end: usize) -> HostSpan {
        self.fragment
            .map
            .span_to_host(FragmentSpan::new(start, end))
    }

    fn to_host(&self, at: usize) -> HostOffset {
        self.fragment
            .map
            .to_host(crate::fragment::FragmentOffset(at))
    }

    fn lookup(&self, name: &str) -> Option<&Value> {
        let name = text::variable_key(name);
        // Child scopes read their parents' variables.
        self.frames.iter().rev().find_map(|f| f.vars.get(&name))
    }

    fn bind(&mut self, name: &str, value: Value) {
        let key = text::variable_key(name);
        let scope = self.frames.last().map_or(0, |f| f.scope);
        if let Some(s) = self.out.scopes.get_mut(scope) {
            if !s.taken.iter().any(|t| t.eq_ignore_ascii_case(&key)) {
                s.taken.push(key.clone());
            }
            if matches!(value, Value::Token) && !s.token_vars.contains(&key) {
                s.token_vars.push(key.clone());
            }
        }
        if let Some(frame) = self.frames.last_mut() {
            frame
                .names
                .entry(key.clone())
                .or_insert_with(|| text::display_name(name));
            frame.vars.insert(key, value);
        }
    }

    /// Walks the code under `node` in order, following assignments and recording requests.
    fn walk(&mut self, node: Node, depth: usize) {
        if depth > 400 {
            self.out.notes.push((
                self.host_span(node.start_byte(), node.end_byte()),
                "PowerShell code nested too deep to follow".to_owned(),
            ));
            return;
        }
        match node.kind() {
            "function_statement" => {
                let scope = self.out.scopes.len();
                self.out.scopes.push(Scope::default());
                self.frames.push(Frame {
                    scope,
                    ..Frame::default()
                });
                self.children(node, depth);
                self.frames.pop();
            }
            "assignment_expression" => self.assignment(node, depth),
            "command" => {
                self.eval(node);
            }
            "invokation_expression" => {
                self.eval(node);
            }
            "comment" => {}
            "ERROR" => self.error_region(node),
            _ => self.children(node, depth),
        }
    }

    fn children(&mut self, node: Node, depth: usize) {
        let mut cursor = node.walk();
        let children: Vec<Node> = node.children(&mut cursor).collect();
        for child in children {
            self.walk(child, depth + 1);
        }
    }

    /// `$x = …`, `$wc.Headers["name"] = …`.
    fn assignment(&mut self, node: Node, depth: usize) {
        let left = node.named_child(0);
        let right = node.child_by_field_name("value");
        let (Some(left), Some(right)) = (left, right) else {
            return self.children(node, depth);
        };
        let value = self.eval(right);
        // Calls nested deeper than `eval` looks (a request in a script block).
        self.walk_unevaluated(right, depth);
        let mut target = unwrap(left);
        // `[string]$token = …`: the variable the cast is written on.
        if target.kind() != "variable" && self.node_text(target).trim_start().starts_with('[') {
            let mut last = None;
            let mut stack = vec![target];
            while let Some(n) = stack.pop() {
                if n.kind() == "variable"
                    && last.is_none_or(|l: Node| n.start_byte() > l.start_byte())
                {
                    last = Some(n);
                }
                let mut cursor = n.walk();
                stack.extend(n.named_children(&mut cursor));
            }
            if let Some(var) = last.filter(|v| v.end_byte() == target.end_byte()) {
                target = var;
            }
        }
        match target.kind() {
            "variable" => {
                let name = self.node_text(target);
                let plain_op = node
                    .child(1)
                    .is_some_and(|op| self.node_text(op).trim() == "=");
                self.bind(name, if plain_op { value } else { Value::Unknown });
            }
            "element_access" => self.header_assignment(target, right),
            _ => {}
        }
    }

    /// `$wc.Headers["X-aws-ec2-metadata-token"] = $token` on a WebClient.
    fn header_assignment(&mut self, target: Node, right: Node) {
        let Some(object) = target
            .named_child(0)
            .filter(|o| o.kind() == "member_access")
        else {
            return;
        };
        let (Some(var), Some(member)) = (object.named_child(0), object.named_child(1)) else {
            return;
        };
        if var.kind() != "variable" || !self.node_text(member).eq_ignore_ascii_case("headers") {
            return;
        }
        let key = target
            .named_child(1)
            .map(|k| self.eval(k))
            .and_then(|k| match k {
                Value::Str(s) if !s.contains(UNKNOWN) => Some(s.to_ascii_lowercase()),
                _ => None,
            });
        let entry = self.header_value(right);
        let name = self.node_text(var);
        if let Some(Value::WebClient(mut headers)) = self.lookup(name).cloned() {
            headers.entries.push((key, entry));
            self.bind(name, Value::WebClient(headers));
        }
    }

    /// Commands and calls under `node` that `eval` did not reach.
    fn walk_unevaluated(&mut self, node: Node, depth: usize) {
        if self.values.contains_key(&node.id()) {
            return;
        }
        match node.kind() {
            "command" | "invokation_expression" => {
                self.eval(node);
            }
            "script_block_expression" | "function_statement" => self.walk(node, depth + 1),
            "ERROR" => self.error_region(node),
            _ => {
                let mut cursor = node.walk();
                let children: Vec<Node> = node.children(&mut cursor).collect();
                for child in children {
                    self.walk_unevaluated(child, depth + 1);
                }
            }
        }
    }

    /// The value of an expression (commands and calls are evaluated once, and their requests
    /// recorded).
    fn eval(&mut self, node: Node) -> Value {
        if let Some(v) = self.values.get(&node.id()) {
            return v.clone();
        }
        let value = self.eval_uncached(node);
        self.values.insert(node.id(), value.clone());
        value
    }

    fn eval_uncached(&mut self, node: Node) -> Value {
        let kind = node.kind();
        if matches!(kind, "additive_expression" | "additive_argument_expression")
            && node.named_child_count() == 2
        {
            let (Some(l), Some(r)) = (node.named_child(0), node.named_child(1)) else {
                return Value::Unknown;
            };
            let is_plus = node
                .child(1)
                .is_some_and(|op| self.node_text(op).trim() == "+");
            if !is_plus {
                return Value::Unknown;
            }
            return match (self.eval(l), self.eval(r)) {
                (Value::Str(a), Value::Str(b)) => Value::Str(a + &b),
                (Value::Str(a), _) => Value::Str(format!("{a}{UNKNOWN}")),
                (Value::Table(mut a), Value::Table(b)) => {
                    a.entries.extend(b.entries);
                    Value::Table(a)
                }
                _ => Value::Unknown,
            };
        }
        if is_wrapper(kind) {
            let mut cursor = node.walk();
            let named: Vec<Node> = node
                .named_children(&mut cursor)
                .filter(|n| n.kind() != "comment")
                .collect();
            return match named.as_slice() {
                [only] => self.eval(*only),
                [] if kind == "string_literal" => self.literal(node),
                _ => {
                    for n in named {
                        self.walk_unevaluated(n, 0);
                    }
                    Value::Unknown
                }
            };
        }
        match kind {
            "expandable_string_literal"
            | "verbatim_string_characters"
            | "expandable_here_string_literal"
            | "verbatim_here_string_characters"
            | "generic_token" => self.literal(node),
            "variable" => {
                let name = self.node_text(node);
                if name.starts_with('@') {
                    return Value::Unknown;
                }
                self.lookup(name).cloned().unwrap_or(Value::Unknown)
            }
            "hash_literal_expression" => Value::Table(self.hashtable(node)),
            "command" => self.command(node),
            "invokation_expression" => self.invocation(node),
            "member_access" => {
                let (Some(object), Some(member)) = (node.named_child(0), node.named_child(1))
                else {
                    return Value::Unknown;
                };
                let object = self.eval(object);
                match (object, self.node_text(member).to_ascii_lowercase().as_str()) {
                    (Value::Response { token: true }, "content") => Value::Token,
                    _ => Value::Unknown,
                }
            }
            _ => {
                self.walk_unevaluated(node, 0);
                Value::Unknown
            }
        }
    }

    /// A string literal, here-string or bare word, with its variables read.
    fn literal(&mut self, node: Node) -> Value {
        let raw = self.node_text(node);
        Value::Str(text::expand(raw, &|name| match self.lookup(name) {
            Some(Value::Str(s)) => Some(s.clone()),
            _ => None,
        }))
    }

    /// A hashtable literal as headers.
    fn hashtable(&mut self, node: Node) -> Headers {
        let mut headers = Headers::default();
        let mut stack = vec![node];
        let mut entries = Vec::new();
        while let Some(n) = stack.pop() {
            if n.kind() == "hash_entry" {
                entries.push(n);
                continue;
            }
            let mut cursor = n.walk();
            stack.extend(n.named_children(&mut cursor));
        }
        entries.sort_by_key(|n| n.start_byte());
        for entry in entries {
            let key = entry.named_child(0).map(|k| self.key_name(k));
            let value = entry
                .named_child(1)
                .map_or(HeaderValue::Other, |v| self.header_value(v));
            if key
                .as_ref()
                .is_some_and(|k| k.as_deref() == Some(TTL_HEADER))
            {
                headers.ttl_word = entry.named_child(1).map(|v| (v.start_byte(), v.end_byte()));
            }
            headers.entries.push((key.flatten(), value));
        }
        headers
    }

    /// A hashtable key: a string, or a bare name (`@{Name = …}`).
    fn key_name(&mut self, key: Node) -> Option<String> {
        let inner = unwrap(key);
        let name = match inner.kind() {
            "simple_name" | "generic_token" | "type_identifier" => self.node_text(inner).to_owned(),
            _ => match self.eval(key) {
                Value::Str(s) if !s.contains(UNKNOWN) => s,
                _ => {
                    let raw = self.node_text(key).trim();
                    if raw
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                    {
                        raw.to_owned()
                    } else {
                        return None;
                    }
                }
            },
        };
        Some(name.to_ascii_lowercase())
    }

    fn header_value(&mut self, node: Node) -> HeaderValue {
        let inner = unwrap(node);
        if inner.kind() == "variable" {
            let name = self.node_text(inner).to_owned();
            let token = matches!(self.lookup(&name), Some(Value::Token));
            return HeaderValue::Variable(text::variable_key(&name), token);
        }
        match self.eval(node) {
            Value::Str(s) if !s.contains(UNKNOWN) => HeaderValue::Str(s),
            _ => HeaderValue::Other,
        }
    }

    /// Where a token fetch serving the request at `node` can go: before the statement holding
    /// it in a loop body, its function's body, or the script, innermost first.
    fn blocks(&self, node: Node) -> Vec<BlockAnchor> {
        let mut out = Vec::new();
        let mut child = node;
        while let Some(parent) = child.parent() {
            if parent.kind() == "statement_list" {
                let kind = block_kind(parent);
                if let Some(kind) = kind {
                    out.push(self.anchor(parent, child, kind));
                    if kind != BlockKind::Loop {
                        break;
                    }
                }
            }
            child = parent;
        }
        out
    }

    fn anchor(&self, block: Node, statement: Node, kind: BlockKind) -> BlockAnchor {
        BlockAnchor::before(
            self.fragment,
            block.start_byte(),
            statement.start_byte(),
            kind,
        )
    }

    /// An error region the grammar could not read: a request in it is read lexically (never
    /// fixed), and the region is noted.
    fn error_region(&mut self, node: Node) {
        // The whole lines the region touches: an error region may end inside a word.
        let text = self.text;
        let line_start = text
            .get(..node.start_byte())
            .unwrap_or_default()
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let line_end = memchr::memchr(b'\n', text.get(node.end_byte()..).unwrap_or_default())
            .map_or(text.len(), |i| node.end_byte() + i);
        let raw = self.range_text(line_start, line_end);
        let lexical = text::lexical_request(raw);
        let mut found = false;
        if let Some(found_request) = lexical {
            let url = text::expand(&found_request.url, &|name| match self.lookup(name) {
                Some(Value::Str(s)) => Some(s.clone()),
                _ => None,
            });
            if let Some(target) = endpoint::classify(&url, &self.options.endpoints) {
                found = true;
                let start = line_start + found_request.start;
                let end = line_start + found_request.end;
                let token = if found_request.mentions_token {
                    TokenUse::Unreadable("code the PowerShell grammar could not read".to_owned())
                } else {
                    TokenUse::Absent
                };
                self.out.requests.push(Request {
                    client: found_request.client,
                    busybox: false,
                    span: self.host_span(start, end),
                    origin: target.origin.clone(),
                    path: target.path.clone(),
                    token_endpoint: target.is_token_path(),
                    method: found_request.method,
                    token,
                    ttl: Ttl::Unknown,
                    misspelled: Vec::new(),
                    calls: Vec::new(),
                    site: FixSite {
                        after_client: self.to_host(start),
                        quoting: None,
                        ..FixSite::default()
                    },
                    in_container: false,
                    run_by: Vec::new(),
                    wrapper: None,
                });
            }
        }
        let mentions = text::mentions_endpoint(raw, &self.options.endpoints);
        if found {
            self.lexical.push(line_start..line_end);
        }
        if found || mentions {
            self.out.notes.push((
                self.host_span(line_start, line_end),
                if found {
                    "PowerShell the grammar could not read: its metadata request was read word by word, and is not fixed".to_owned()
                } else {
                    "PowerShell the grammar could not read names the metadata endpoint: what it does was not analysed".to_owned()
                },
            ));
        }
        // Commands the grammar did read inside the region.
        let mut cursor = node.walk();
        let children: Vec<Node> = node.named_children(&mut cursor).collect();
        for child in children {
            if !found {
                self.walk_unevaluated(child, 0);
            }
        }
    }
}

/// The expression a chain of one-child wrappers holds.
fn unwrap(mut node: Node) -> Node {
    while is_wrapper(node.kind()) && node.named_child_count() == 1 {
        match node.named_child(0) {
            Some(child)
                if child.kind() != "expandable_string_literal"
                    && child.kind() != "verbatim_string_characters" =>
            {
                node = child
            }
            _ => break,
        }
    }
    node
}

fn has_error_ancestor(node: Node) -> bool {
    let mut current = Some(node);
    while let Some(n) = current {
        if n.is_error() {
            return true;
        }
        current = n.parent();
    }
    false
}

/// What kind of block a statement list is, for a token fetch inserted into it (`None`: a block
/// where none goes, such as an `if` branch: the statement holding it is used).
fn block_kind(list: Node) -> Option<BlockKind> {
    let mut up = list.parent();
    while let Some(n) = up {
        match n.kind() {
            "program" => return Some(BlockKind::Script),
            // A function's body, or one of its `begin`/`process`/`end` blocks (each a body of
            // its own: `process` runs once per pipeline item, a token fetch there too).
            "function_statement" | "named_block" => return Some(BlockKind::Function),
            "while_statement" | "do_statement" | "for_statement" | "foreach_statement" => {
                return Some(BlockKind::Loop)
            }
            "statement_block" | "script_block" | "script_block_body" => {
                up = n.parent();
                continue;
            }
            _ => return None,
        }
    }
    None
}
