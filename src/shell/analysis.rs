//! Walks one fragment's syntax tree: reads variable assignments, finds every client invocation
//! that reaches IMDS, follows shell code nested in strings and here-documents (`sh -c`, `eval`,
//! `bash <<EOF`), and works out which variables hold a token fetched by a PUT.

use std::collections::{HashMap, HashSet};

use tree_sitter::{Node, StreamingIterator, Tree};

use crate::fragment::{Fragment, FragmentSpan, InsertRegion, OffsetMap, PlainScalar};
use crate::shell::aws::{self, AwsMetadataCall};
use crate::shell::client::{self, ClientCall};
use crate::shell::command::{self, Invocation};
use crate::shell::endpoint::{self, UNKNOWN};
use crate::shell::parse::{self, ParseError, StructureQuery};
use crate::shell::request::{
    BlockAnchor, BlockKind, Client, FixSite, Method, Quoting, Request, Scope, TokenUse,
    TokenVariable, Ttl,
};
use crate::shell::word::{self, node_str, span_of, Piece, Unquoted, Word};

/// How deep shell code may nest inside strings before the analysis stops following it.
const MAX_DEPTH: usize = 8;
/// How many nested fragments one file may produce.
const MAX_NESTED: usize = 512;
/// How many spellings of one word are tried when following variables.
const MAX_CANDIDATES: usize = 16;
/// How many variable hops are followed.
const MAX_HOPS: usize = 6;

const TOKEN_HEADER: &str = "x-aws-ec2-metadata-token";
const TTL_HEADER: &str = "x-aws-ec2-metadata-token-ttl-seconds";

/// What the analysis found in a fragment.
#[derive(Debug, Default)]
pub struct Analysis {
    pub requests: Vec<Request>,
    /// The script scopes the requests' [`FixSite::scope`] refers to.
    pub scopes: Vec<Scope>,
    /// `aws ec2` calls that set instance metadata options or launch instances.
    pub aws_metadata: Vec<AwsMetadataCall>,
    /// The tree (or a nested one) had syntax errors; it was analysed as far as it goes.
    pub syntax_errors: bool,
    /// The fragment could not be parsed at all.
    pub error: Option<String>,
}

/// Analyses one fragment of shell code.
pub fn analyze(fragment: &Fragment) -> Analysis {
    let mut analyzer = Analyzer::default();
    let environment = fragment
        .environment
        .iter()
        .map(|(name, value)| {
            (
                name.clone(),
                vec![VarDef {
                    pieces: vec![Piece::Literal(value.clone())],
                    exported: true,
                    value_span: None,
                    dominates: None,
                }],
            )
        })
        .collect();
    let root = analyzer.push_frame(Frame {
        vars: environment,
        ..Frame::default()
    });
    analyzer.regions = fragment.insert.clone();
    let context = Context {
        parent: Some(root),
        boundary: Boundary::ChildProcess,
        depth: 0,
        quoting: None,
        script: fragment.script,
    };
    if let Err(e) = analyzer.run(&fragment.text, &fragment.map, &context) {
        analyzer.error = Some(e.to_string());
    }
    if fragment.busybox {
        for scope in &mut analyzer.scopes {
            scope.busybox = true;
        }
    }
    analyzer.finish()
}

/// How a nested fragment's variables relate to the code around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Boundary {
    /// Run by the same shell (`eval`).
    SameShell,
    /// The calling shell expands the text first (`bash -c "…$X…"`, `bash <<EOF`).
    Expanded,
    /// A new process that sees only exported variables (`bash -c '…'`, `bash <<'EOF'`).
    #[default]
    ChildProcess,
}

#[derive(Debug, Clone)]
struct VarDef {
    pieces: Vec<Piece>,
    exported: bool,
    /// The span of the assigned value in the frame's text, for finding token substitutions.
    value_span: Option<FragmentSpan>,
    /// The block whose later statements the assignment always runs before, and where it ends.
    dominates: Option<(usize, usize)>,
}

/// Where a fragment sits: its frame's parent, how variables cross into it, how deep it is, how
/// text inserted into it must be quoted (`None`: it cannot be rewritten), and whether it is a
/// script scope of its own.
#[derive(Debug, Clone)]
struct Context {
    parent: Option<usize>,
    boundary: Boundary,
    depth: usize,
    quoting: Option<Vec<Quoting>>,
    script: bool,
}

impl Context {
    fn child(
        &self,
        fid: usize,
        boundary: Boundary,
        layer: Option<Quoting>,
        script: bool,
        outer: Option<Vec<Quoting>>,
    ) -> Self {
        let quoting = match (&outer, layer) {
            (Some(outer), Some(layer)) => {
                let mut chain = outer.clone();
                if matches!(layer, Quoting::QuotedHeredoc | Quoting::UnquotedHeredoc) {
                    chain.retain(Quoting::reaches_heredocs);
                }
                chain.push(layer);
                Some(chain)
            }
            _ => None,
        };
        Context {
            parent: Some(fid),
            boundary,
            depth: self.depth + 1,
            quoting,
            script,
        }
    }
}

#[derive(Debug, Default)]
struct Frame {
    parent: Option<usize>,
    boundary: Boundary,
    vars: HashMap<String, Vec<VarDef>>,
    exported: HashSet<String>,
    all_exported: bool,
    token_vars: HashSet<String>,
}

impl Frame {
    fn is_exported(&self, name: &str) -> bool {
        self.all_exported
            || self.exported.contains(name)
            || self
                .vars
                .get(name)
                .is_some_and(|defs| defs.iter().any(|d| d.exported))
    }
}

/// A request whose token variables are checked once every frame is complete.
struct Pending {
    frame: usize,
    request: Request,
    token_names: Vec<String>,
    /// The request's command start in its fragment, for finding token variables assigned before.
    start: usize,
}

#[derive(Default)]
struct Analyzer {
    /// The root fragment's insert regions.
    regions: Vec<InsertRegion>,
    frames: Vec<Frame>,
    pending: Vec<Pending>,
    scopes: Vec<Scope>,
    aws_metadata: Vec<AwsMetadataCall>,
    nested: usize,
    syntax_errors: bool,
    /// Some match of the structure query was dropped (see `Structure::incomplete`).
    incomplete: bool,
    error: Option<String>,
}

/// The nodes of one fragment that the analysis reads, from `structure.scm`.
#[derive(Default)]
struct Structure<'t> {
    /// Tree-sitter dropped matches (too many in progress at once): some commands were missed.
    incomplete: bool,
    parents: Parents<'t>,
    commands: Vec<Node<'t>>,
    assignments: Vec<(Node<'t>, Node<'t>)>,
    declarations: Vec<Node<'t>>,
    loops: Vec<(Node<'t>, Node<'t>)>,
    functions: Vec<(Node<'t>, Node<'t>)>,
    heredocs: Vec<(Node<'t>, Node<'t>)>,
}

/// Each node's parent, found once for the whole tree. Tree-sitter's `Node::parent` searches down
/// from the root, so walking up from a node `d` deep with it costs O(d²): hostile nesting
/// (thousands of `$(…)`) made that minutes for one request. Built in one pass, O(nodes).
///
/// It also remembers, per node, the nearest edge above it that [`blocks`] stops at, so that the
/// requests of a long `a && b && …` chain (one level deeper each) do not each walk the chain.
#[derive(Default)]
struct Parents<'t> {
    map: HashMap<usize, Node<'t>>,
    up: std::cell::RefCell<HashMap<usize, Up<'t>>>,
}

/// The nearest edge above a node that matters to [`blocks`].
#[derive(Clone, Copy)]
enum Up<'t> {
    /// `statement` is a statement of `block`.
    Block {
        block: Node<'t>,
        statement: Node<'t>,
    },
    /// The node is in a `while`/`until` condition.
    WhileCondition,
    /// Neither, up to the root.
    Root,
}

impl<'t> Parents<'t> {
    fn new(root: Node<'t>) -> Self {
        let mut map = HashMap::new();
        let mut stack = vec![root];
        while let Some(node) = stack.pop() {
            let mut cursor = node.walk();
            for child in node.children(&mut cursor) {
                map.insert(child.id(), node);
                stack.push(child);
            }
        }
        Parents {
            map,
            up: std::cell::RefCell::default(),
        }
    }

    fn of(&self, node: Node<'t>) -> Option<Node<'t>> {
        self.map.get(&node.id()).copied()
    }

    /// The nearest block edge or `while` condition above `node`; every node passed on the way
    /// shares it, so it is remembered for all of them.
    fn up(&self, node: Node<'t>) -> Up<'t> {
        let mut passed = Vec::new();
        let mut current = node;
        let found = loop {
            if let Some(known) = self.up.borrow().get(&current.id()) {
                break *known;
            }
            passed.push(current.id());
            let Some(parent) = self.of(current) else {
                break Up::Root;
            };
            if parent.kind() == "while_statement"
                && parent.child_by_field_name("body") != Some(current)
            {
                break Up::WhileCondition;
            }
            if is_block_statement(parent, current, self) {
                break Up::Block {
                    block: parent,
                    statement: current,
                };
            }
            current = parent;
        };
        let mut cache = self.up.borrow_mut();
        for id in passed {
            cache.insert(id, found);
        }
        found
    }
}

/// How deep a syntax tree may be for the analysis to run: no real script comes near it, and
/// beyond it tree-sitter's query matching (superlinear in depth) would take minutes.
const MAX_TREE_DEPTH: usize = 20_000;

/// Whether a tree is deeper than `limit` (counting stops there): one cursor walk.
fn deeper_than(root: Node, limit: usize) -> bool {
    let mut cursor = root.walk();
    let mut depth = 1;
    loop {
        if cursor.goto_first_child() {
            depth += 1;
            if depth > limit {
                return true;
            }
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return false;
            }
            depth -= 1;
        }
    }
}

fn structure<'t>(tree: &'t Tree, text: &[u8], q: &StructureQuery) -> Structure<'t> {
    let mut out = Structure {
        parents: Parents::new(tree.root_node()),
        ..Structure::default()
    };
    let mut cursor = tree_sitter::QueryCursor::new();
    let mut matches = cursor.matches(&q.query, tree.root_node(), text);
    while let Some(m) = matches.next() {
        let get = |index: u32| m.captures.iter().find(|c| c.index == index).map(|c| c.node);
        if let Some(node) = get(q.command) {
            out.commands.push(node);
        } else if let (Some(node), Some(name)) = (get(q.assignment), get(q.assignment_name)) {
            out.assignments.push((node, name));
        } else if let Some(node) = get(q.declaration) {
            out.declarations.push(node);
        } else if let (Some(node), Some(name)) = (get(q.loop_stmt), get(q.loop_name)) {
            out.loops.push((node, name));
        } else if let (Some(_), Some(name), Some(body)) =
            (get(q.function), get(q.function_name), get(q.function_body))
        {
            out.functions.push((name, body));
        } else if let (Some(node), Some(body)) = (get(q.heredoc), get(q.heredoc_body)) {
            out.heredocs.push((node, body));
        }
    }
    out.incomplete = cursor.did_exceed_match_limit();
    out
}

/// The words of a command: its name, then its arguments, with their nodes.
fn argv<'t>(node: Node<'t>, text: &[u8]) -> (Vec<Word>, Vec<Node<'t>>) {
    let mut nodes = Vec::new();
    if let Some(name) = node.child_by_field_name("name") {
        nodes.push(name);
    }
    let mut cursor = node.walk();
    nodes.extend(node.children_by_field_name("argument", &mut cursor));
    let words = nodes.iter().map(|n| word::word(*n, text)).collect();
    (words, nodes)
}

fn contains(outer: FragmentSpan, inner: FragmentSpan) -> bool {
    outer.start <= inner.start && inner.end <= outer.end
}

impl Analyzer {
    /// How text inserted at offset `at` of the current fragment is written into the host, and
    /// the YAML plain scalar it would go into.
    fn quoting_at(&self, cx: &Context, at: usize) -> (Option<Vec<Quoting>>, Option<PlainScalar>) {
        if cx.depth > 0 {
            return (cx.quoting.clone(), None);
        }
        let region = self.regions.iter().take_while(|r| r.start <= at).last();
        match region {
            Some(region) => (region.quoting.clone(), region.plain.clone()),
            None => (None, None),
        }
    }

    fn push_frame(&mut self, frame: Frame) -> usize {
        self.frames.push(frame);
        self.frames.len() - 1
    }

    fn finish(mut self) -> Analysis {
        let pending = std::mem::take(&mut self.pending);
        let requests = pending
            .into_iter()
            .map(|p| {
                let mut request = p.request;
                if !p.token_names.is_empty() {
                    request.token = TokenUse::Variables(
                        p.token_names
                            .iter()
                            .map(|name| TokenVariable {
                                name: name.clone(),
                                from_token_request: self.is_token_var(p.frame, name),
                            })
                            .collect(),
                    );
                }
                request
            })
            .collect();
        let error = self.error.or_else(|| {
            self.incomplete.then(|| {
                "the script is too intricate for the syntax query; some of its commands were not checked".to_owned()
            })
        });
        Analysis {
            requests,
            scopes: self.scopes,
            aws_metadata: self.aws_metadata,
            syntax_errors: self.syntax_errors,
            error,
        }
    }

    /// Analyses `text` (whose offsets `map` takes to the file) in a new frame; returns whether it
    /// writes a token to its output (a token request whose output is not captured in it).
    fn run(&mut self, text: &[u8], map: &OffsetMap, cx: &Context) -> Result<bool, ParseError> {
        let tree = parse::parse(text)?;
        self.syntax_errors |= tree.root_node().has_error();
        if deeper_than(tree.root_node(), MAX_TREE_DEPTH) {
            return Err(ParseError::TooDeep(MAX_TREE_DEPTH));
        }
        let s = structure(&tree, text, parse::structure_query()?);
        self.incomplete |= s.incomplete;
        let fid = self.push_frame(Frame {
            parent: cx.parent,
            boundary: cx.boundary,
            ..Frame::default()
        });
        self.read_variables(fid, &s, text);
        let scope = cx.script.then(|| {
            self.scopes.push(Scope::default());
            self.scopes.len() - 1
        });
        let first_pending = self.pending.len();
        let mut uses_curl = false;
        let mut busybox = shebang_is_busybox(text);
        let mut errexit = shebang_sets_errexit(text);

        let mut token_sources: Vec<FragmentSpan> = Vec::new();
        let mut calls: Vec<(String, FragmentSpan)> = Vec::new();
        for &node in &s.commands {
            let (words, nodes) = argv(node, text);
            let span = span_of(node);
            match command::invocation(&words) {
                Invocation::Client {
                    client,
                    busybox: via_busybox,
                    program,
                } => {
                    uses_curl |= client == Client::Curl;
                    busybox |= via_busybox;
                    let args = words.get(program + 1..).unwrap_or_default();
                    let text_of = |w: &Word| {
                        String::from_utf8_lossy(
                            text.get(w.span.start.0..w.span.end.0).unwrap_or_default(),
                        )
                        .into_owned()
                    };
                    let call = match client {
                        Client::Curl => client::curl(args, text_of),
                        Client::Wget => client::wget(args, text_of),
                    };
                    let start = words.get(program).map_or(span.start.0, |w| w.span.start.0);
                    let file_span = map.span_to_host(FragmentSpan::new(start, span.end.0));
                    let after_client = words.get(program).map_or(start, |w| w.span.end.0);
                    let (quoting, plain) = self.quoting_at(cx, after_client);
                    let site = FixSite {
                        after_client: map.to_host(crate::fragment::FragmentOffset(after_client)),
                        quoting,
                        plain,
                        scope,
                        blocks: if scope.is_some() {
                            blocks(node, &s.parents, text, map, &|at| self.quoting_at(cx, at))
                        } else {
                            Vec::new()
                        },
                        failure_handled: failure_handled(node, &s.parents),
                        ..FixSite::default()
                    };
                    if let Some(mut pending) =
                        self.request(fid, client, via_busybox, call, file_span, site, text, map)
                    {
                        pending.start = span.start.0;
                        if pending.request.token_endpoint && pending.request.is_put() {
                            token_sources.push(span);
                        }
                        self.pending.push(pending);
                    }
                }
                Invocation::Shell {
                    script: Some(index),
                    ..
                } => {
                    if let Some(&script) = nodes.get(index) {
                        let unquoted = word::unquote(script, text);
                        let boundary = if unquoted.single_quoted {
                            Boundary::ChildProcess
                        } else {
                            Boundary::Expanded
                        };
                        let outer = self.quoting_at(cx, script.start_byte()).0;
                        let child = cx.child(fid, boundary, quoting_of(script), false, outer);
                        if self.nested(unquoted, map, &child) {
                            token_sources.push(span);
                        }
                    }
                }
                Invocation::Eval { program } => {
                    let mut joined = Unquoted::default();
                    for (k, &arg) in nodes.iter().enumerate().skip(program + 1) {
                        if k > program + 1 {
                            joined.push_separator(b' ', arg.start_byte());
                        }
                        joined.append(word::unquote(arg, text));
                    }
                    // Text inserted into one argument keeps its meaning; across several, the
                    // joining spaces make that unsure.
                    let layer = match nodes.get(program + 1..) {
                        Some([only]) => quoting_of(*only),
                        _ => None,
                    };
                    let outer = self.quoting_at(cx, span.start.0).0;
                    let child = cx.child(fid, Boundary::SameShell, layer, false, outer);
                    if self.nested(joined, map, &child) {
                        token_sources.push(span);
                    }
                }
                Invocation::SplitString { string, .. } => {
                    if let Some(&node) = nodes.get(string) {
                        let unquoted = word::unquote(node, text);
                        let outer = self.quoting_at(cx, node.start_byte()).0;
                        let child =
                            cx.child(fid, Boundary::SameShell, quoting_of(node), false, outer);
                        if self.nested(unquoted, map, &child) {
                            token_sources.push(span);
                        }
                    }
                }
                Invocation::Other { name, program } => {
                    if name == "aws" {
                        let argv = words.get(program..).unwrap_or_default();
                        if let Some(call) = aws::metadata_call(argv, span, text, map) {
                            self.aws_metadata.push(call);
                        }
                    }
                    if name == "set" {
                        let flags: Vec<String> =
                            words.iter().skip(1).filter_map(Word::literal).collect();
                        let short = |letter: char| {
                            flags.iter().any(|t| {
                                t.starts_with('-') && !t.starts_with("--") && t.contains(letter)
                            })
                        };
                        let long = |name: &str| flags.iter().any(|t| t == name);
                        errexit |= short('e') || long("errexit");
                        if let Some(frame) = self.frames.get_mut(fid) {
                            frame.all_exported |= short('a') || long("allexport");
                        }
                    }
                    calls.push((name, span));
                }
                Invocation::Shell { script: None, .. } | Invocation::NotRun => {}
            }
        }

        for &(heredoc, body) in &s.heredocs {
            if self.heredoc(heredoc, body, &s.parents, text, map, fid, cx) {
                let statement = s.parents.of(heredoc).unwrap_or(heredoc);
                token_sources.push(span_of(statement));
            }
        }

        self.token_flow(fid, &s, text, &mut token_sources, &calls);
        if let Some(index) = scope {
            self.finish_scope(fid, index, first_pending, cx, uses_curl, busybox, errexit);
        }
        Ok(!token_sources.is_empty())
    }

    /// Records what fixes need to know about a script scope, and which token variable each of its
    /// requests could reuse.
    #[allow(clippy::too_many_arguments)]
    fn finish_scope(
        &mut self,
        fid: usize,
        index: usize,
        first_pending: usize,
        cx: &Context,
        uses_curl: bool,
        busybox: bool,
        errexit: bool,
    ) {
        let mut taken: Vec<String> = Vec::new();
        let mut current = Some(fid);
        while let Some(id) = current {
            let Some(frame) = self.frames.get(id) else {
                break;
            };
            taken.extend(frame.vars.keys().cloned());
            current = frame.parent;
        }
        taken.sort();
        taken.dedup();
        let Some(frame) = self.frames.get(fid) else {
            return;
        };
        let mut token_vars: Vec<String> = frame.token_vars.iter().cloned().collect();
        token_vars.sort();
        // Token assignments that run before every later statement of their block.
        let dominating: Vec<(&String, usize, usize)> = frame
            .vars
            .iter()
            .filter(|(name, _)| frame.token_vars.contains(*name))
            .flat_map(|(name, defs)| {
                defs.iter()
                    .filter_map(move |d| d.dominates.map(|(block, end)| (name, block, end)))
            })
            .collect();
        let reuse: Vec<(usize, String)> = self
            .pending
            .iter()
            .enumerate()
            .skip(first_pending)
            .filter(|(_, p)| p.frame == fid)
            .filter_map(|(i, p)| {
                let blocks: Vec<usize> = p.request.site.blocks.iter().map(|b| b.block).collect();
                dominating
                    .iter()
                    .filter(|(_, block, end)| blocks.contains(block) && *end <= p.start)
                    .max_by_key(|(_, _, end)| *end)
                    .map(|(name, _, _)| (i, (*name).clone()))
            })
            .collect();
        for (i, name) in reuse {
            if let Some(p) = self.pending.get_mut(i) {
                p.request.site.reusable_token = Some(name);
            }
        }
        let quoting = self.quoting_at(cx, 0).0.unwrap_or_default();
        if let Some(scope) = self.scopes.get_mut(index) {
            *scope = Scope {
                quoting,
                taken,
                token_vars,
                uses_curl,
                busybox,
                errexit,
            };
        }
    }

    /// Analyses shell code cut out of a string; returns whether it writes a token to its output.
    fn nested(&mut self, unquoted: Unquoted, map: &OffsetMap, cx: &Context) -> bool {
        if cx.depth > MAX_DEPTH || self.nested >= MAX_NESTED || unquoted.text.is_empty() {
            return false;
        }
        self.nested += 1;
        let inner = map.compose(&OffsetMap::from_anchors(unquoted.anchors));
        match self.run(&unquoted.text, &inner, cx) {
            Ok(produces_token) => produces_token,
            Err(e) => {
                self.error.get_or_insert(e.to_string());
                false
            }
        }
    }

    /// A here-document is shell code when a shell reads it (`bash <<EOF`, `cat <<EOF | sh`) or
    /// when it writes out a script (its first line a shell shebang).
    #[allow(clippy::too_many_arguments)]
    fn heredoc<'t>(
        &mut self,
        heredoc: Node<'t>,
        body: Node<'t>,
        parents: &Parents<'t>,
        text: &[u8],
        map: &OffsetMap,
        fid: usize,
        cx: &Context,
    ) -> bool {
        let mut cursor = heredoc.walk();
        let children: Vec<Node> = heredoc.children(&mut cursor).collect();
        let quoted = children
            .iter()
            .find(|c| c.kind() == "heredoc_start")
            .is_some_and(|start| word::node_text(*start, text).contains_any(b"'\"\\"));
        let reads = |node: Node| {
            node.kind() == "command"
                && matches!(
                    command::invocation(&argv(node, text).0),
                    Invocation::Shell {
                        reads_stdin: true,
                        ..
                    }
                )
        };
        let fed_to_shell = parents
            .of(heredoc)
            .filter(|p| p.kind() == "redirected_statement")
            .and_then(|p| p.child_by_field_name("body"))
            .is_some_and(reads)
            || children.iter().filter(|c| c.kind() == "pipeline").any(|p| {
                let mut cursor = p.walk();
                let found = p.named_children(&mut cursor).any(reads);
                found
            });
        let body_text = word::node_text(body, text);
        let script = body_text
            .split(|&b| b == b'\n')
            .next()
            .is_some_and(|line| crate::shell::is_shell_shebang(&String::from_utf8_lossy(line)));
        if !fed_to_shell && !script {
            return false;
        }
        let (unquoted, boundary) = if quoted {
            let mut u = Unquoted::default();
            u.append(Unquoted {
                text: body_text.to_vec(),
                anchors: vec![(0, body.start_byte())],
                single_quoted: true,
            });
            (u, Boundary::ChildProcess)
        } else {
            let (text, anchors) = word::unquote_heredoc(body_text, body.start_byte());
            (
                Unquoted {
                    text,
                    anchors,
                    single_quoted: false,
                },
                Boundary::Expanded,
            )
        };
        // A written-out script runs later, as its own process.
        let boundary = if fed_to_shell {
            boundary
        } else {
            Boundary::ChildProcess
        };
        let layer = if quoted {
            Quoting::QuotedHeredoc
        } else {
            Quoting::UnquotedHeredoc
        };
        let outer = self.quoting_at(cx, body.start_byte()).0;
        let child = cx.child(fid, boundary, Some(layer), true, outer);
        let produces = self.nested(unquoted, map, &child);
        fed_to_shell && produces
    }

    fn read_variables(&mut self, fid: usize, s: &Structure, text: &[u8]) {
        let mut vars: HashMap<String, Vec<VarDef>> = HashMap::new();
        let mut exported: HashSet<String> = HashSet::new();
        for &(node, name) in &s.assignments {
            let name = node_str(name, text);
            let value = node.child_by_field_name("value");
            let mut pieces = value
                .map(|v| word::word(v, text).pieces)
                .unwrap_or_default();
            let mut cursor = node.walk();
            let appends = node.children(&mut cursor).any(|c| c.kind() == "+=");
            if appends {
                pieces.insert(
                    0,
                    Piece::Variable {
                        name: name.clone(),
                        default: None,
                    },
                );
            }
            let exported_here = s
                .parents
                .of(node)
                .is_some_and(|p| p.kind() == "declaration_command" && exports(p, text));
            vars.entry(name).or_default().push(VarDef {
                pieces,
                exported: exported_here,
                value_span: value.map(span_of),
                dominates: dominated_block(node, &s.parents),
            });
        }
        for &decl in &s.declarations {
            if exports(decl, text) {
                let mut cursor = decl.walk();
                for child in decl.named_children(&mut cursor) {
                    if child.kind() == "variable_name" {
                        exported.insert(node_str(child, text));
                    }
                }
            }
        }
        for &(node, name) in &s.loops {
            let name = node_str(name, text);
            let mut cursor = node.walk();
            for value in node.children_by_field_name("value", &mut cursor) {
                vars.entry(name.clone()).or_default().push(VarDef {
                    pieces: word::word(value, text).pieces,
                    exported: false,
                    value_span: None,
                    dominates: None,
                });
            }
        }
        if let Some(frame) = self.frames.get_mut(fid) {
            frame.vars = vars;
            frame.exported = exported;
        }
    }

    /// Finds the functions and variables that carry a token: a variable assigned from a
    /// substitution that runs a token request (directly, through a function, or through a nested
    /// shell), or copied from such a variable.
    fn token_flow(
        &mut self,
        fid: usize,
        s: &Structure,
        text: &[u8],
        sources: &mut Vec<FragmentSpan>,
        calls: &[(String, FragmentSpan)],
    ) {
        let mut token_functions: HashSet<String> = HashSet::new();
        for _ in 0..8 {
            let mut changed = false;
            for &(name, body) in &s.functions {
                let body_span = span_of(body);
                if sources.iter().any(|&src| contains(body_span, src))
                    && token_functions.insert(node_str(name, text))
                {
                    changed = true;
                }
            }
            for (name, span) in calls {
                if token_functions.contains(name) && !sources.contains(span) {
                    sources.push(*span);
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        let Some(frame) = self.frames.get(fid) else {
            return;
        };
        let mut token_vars: HashSet<String> = frame
            .vars
            .iter()
            .filter(|(_, defs)| {
                defs.iter().any(|def| {
                    def.value_span.is_some_and(|value| {
                        sources.iter().any(|&src| contains(value, src))
                            && def.pieces.iter().any(|p| matches!(p, Piece::Command(_)))
                    })
                })
            })
            .map(|(name, _)| name.clone())
            .collect();
        // Copies: `T2=$TOKEN`, `T2="${TOKEN}"`.
        for _ in 0..8 {
            let copies: Vec<String> = frame
                .vars
                .iter()
                .filter(|(name, defs)| {
                    !token_vars.contains(*name)
                        && defs.iter().any(|def| match def.pieces.as_slice() {
                            [Piece::Variable { name: source, .. }] => {
                                token_vars.contains(source)
                                    || (!frame.vars.contains_key(source)
                                        && frame
                                            .parent
                                            .is_some_and(|p| self.is_token_var(p, source)))
                            }
                            _ => false,
                        })
                })
                .map(|(name, _)| name.clone())
                .collect();
            if copies.is_empty() {
                break;
            }
            token_vars.extend(copies);
        }
        if let Some(frame) = self.frames.get_mut(fid) {
            frame.token_vars = token_vars;
        }
    }

    /// Whether `name`, as seen from frame `fid`, holds a token. A child process sees only the
    /// exported variables of the code that started it.
    fn is_token_var(&self, fid: usize, name: &str) -> bool {
        let mut current = Some(fid);
        let mut exported_only = false;
        while let Some(id) = current {
            let Some(frame) = self.frames.get(id) else {
                return false;
            };
            if frame.vars.contains_key(name) {
                return frame.token_vars.contains(name)
                    && (!exported_only || frame.is_exported(name));
            }
            if frame.boundary == Boundary::ChildProcess {
                exported_only = true;
            }
            current = frame.parent;
        }
        false
    }

    /// The values a list of pieces may take, following variables (at most [`MAX_CANDIDATES`]).
    /// Parts that cannot be known become [`UNKNOWN`].
    fn candidates(&self, fid: usize, pieces: &[Piece], hops: usize) -> Vec<String> {
        let mut out = vec![String::new()];
        for piece in pieces {
            let options: Vec<String> = match piece {
                Piece::Literal(text) => vec![text.clone()],
                Piece::Variable { name, default } => {
                    let mut values = self.variable_values(fid, name, hops);
                    if let Some(default) = default {
                        values.extend(self.candidates(fid, default, hops + 1));
                    }
                    if values.is_empty() {
                        values.push(UNKNOWN.to_string());
                    }
                    values
                }
                Piece::Command(_) | Piece::Unknown => vec![UNKNOWN.to_string()],
            };
            let mut next = Vec::with_capacity(out.len() * options.len());
            for prefix in &out {
                for option in &options {
                    if next.len() < MAX_CANDIDATES {
                        next.push(format!("{prefix}{option}"));
                    }
                }
            }
            out = next;
        }
        out.dedup();
        out
    }

    fn variable_values(&self, fid: usize, name: &str, hops: usize) -> Vec<String> {
        if hops >= MAX_HOPS {
            return Vec::new();
        }
        let mut current = Some(fid);
        while let Some(id) = current {
            let Some(frame) = self.frames.get(id) else {
                break;
            };
            if let Some(defs) = frame.vars.get(name) {
                let mut values: Vec<String> = Vec::new();
                for def in defs {
                    for value in self.candidates(id, &def.pieces, hops + 1) {
                        if values.len() < MAX_CANDIDATES && !values.contains(&value) {
                            values.push(value);
                        }
                    }
                }
                return values;
            }
            current = frame.parent;
        }
        Vec::new()
    }

    /// Builds the request a client call makes, if it reaches IMDS.
    #[allow(clippy::too_many_arguments)]
    fn request(
        &self,
        fid: usize,
        client: Client,
        busybox: bool,
        call: ClientCall,
        span: crate::fragment::HostSpan,
        mut site: FixSite,
        text: &[u8],
        map: &OffsetMap,
    ) -> Option<Pending> {
        let word_site = |word: &Word| {
            (
                map.span_to_host(word.span),
                String::from_utf8_lossy(
                    text.get(word.span.start.0..word.span.end.0)
                        .unwrap_or_default(),
                )
                .into_owned(),
            )
        };
        site.method_word = call.method.as_ref().map(word_site);
        let url = call.urls.iter().find_map(|url| {
            self.candidates(fid, &url.pieces, 0)
                .iter()
                .find_map(|c| endpoint::classify(c))
        })?;
        let headers: Vec<(Word, Vec<String>)> = call
            .headers
            .iter()
            .map(|h| (h.clone(), self.candidates(fid, &h.pieces, 0)))
            .collect();
        let foreign = headers.iter().any(|(_, values)| {
            values.iter().any(|v| {
                let v = v.to_ascii_lowercase();
                let (name, value) = v.split_once(':').unwrap_or((&v, ""));
                (name.trim() == "metadata-flavor" && value.trim() == "google")
                    || (name.trim() == "metadata" && value.trim() == "true")
                    || name.trim() == "authorization" && value.contains("bearer oracle")
            })
        });
        if foreign {
            return None;
        }

        let method = match &call.method {
            Some(word) => {
                let values = self.candidates(fid, &word.pieces, 0);
                match values.as_slice() {
                    [one] if one.contains(UNKNOWN) => Method::Unknown,
                    [one] if one.eq_ignore_ascii_case("PUT") => Method::Put,
                    [one] if one.eq_ignore_ascii_case("GET") => Method::Get,
                    [one] => Method::Other(one.to_ascii_uppercase()),
                    _ => Method::Unknown,
                }
            }
            None => match call.implied_method {
                Some("PUT") => Method::Put,
                Some(other) => Method::Other(other.to_owned()),
                None => Method::Get,
            },
        };

        let mut token = None;
        let mut token_names = Vec::new();
        let mut ttl = Ttl::Missing;
        for (word, values) in &headers {
            let prefix = word.literal_prefix();
            if let Some((name, _)) = prefix.split_once(':') {
                let name = name.trim().to_ascii_lowercase();
                if name == TOKEN_HEADER {
                    token = Some(TokenUse::Inline);
                    token_names.extend(value_variables(word));
                    if word.pieces.iter().any(|p| matches!(p, Piece::Command(_))) {
                        token_names.clear();
                    }
                } else if name == TTL_HEADER {
                    ttl = ttl_of(values);
                    site.ttl_word = Some(word_site(word));
                }
            } else if values.iter().any(|v| header_name(v) == TOKEN_HEADER) {
                // The whole header comes from a variable: the token is there, but its source is
                // not traced.
                token = Some(TokenUse::Inline);
            } else if values.iter().any(|v| header_name(v) == TTL_HEADER) {
                ttl = ttl_of(values);
            }
        }
        let token = match (token, call.unreadable) {
            (Some(token), _) => token,
            (None, Some(what)) => TokenUse::Unreadable(what),
            (None, None) => TokenUse::Absent,
        };
        Some(Pending {
            frame: fid,
            request: Request {
                client,
                busybox,
                span,
                token_endpoint: url.is_token_path(),
                origin: url.origin,
                path: url.path.replace(UNKNOWN, "…"),
                method,
                token,
                ttl,
                site,
            },
            token_names,
            start: 0,
        })
    }
}

/// How a word that holds shell code is quoted, when text can be inserted into it.
fn quoting_of(node: Node) -> Option<Quoting> {
    match node.kind() {
        "raw_string" => Some(Quoting::SingleQuoted),
        "string" => Some(Quoting::DoubleQuoted),
        "word" => Some(Quoting::Unquoted),
        _ => None,
    }
}

/// Whether `child` is one of the statements of the block `parent` (a list of statements where a
/// new statement may be inserted): the script, a `{ }` or `( )` body, a `while`/`until` body, an
/// `if`/`elif`/`else` branch, a `case` branch. A `for` body is not one: its token is fetched once,
/// before the loop.
fn is_block_statement<'t>(parent: Node<'t>, child: Node<'t>, parents: &Parents<'t>) -> bool {
    if !child.is_named() || child.kind() == "comment" {
        return false;
    }
    let after = |token: &str| {
        let mut cursor = parent.walk();
        let found = parent
            .children(&mut cursor)
            .find(|c| c.kind() == token)
            .is_some_and(|t| child.start_byte() >= t.end_byte());
        found
    };
    match parent.kind() {
        "program" | "compound_statement" | "subshell" | "else_clause" => true,
        "do_group" => parents
            .of(parent)
            .is_some_and(|loop_node| loop_node.kind() == "while_statement"),
        "if_statement" | "elif_clause" => {
            !matches!(child.kind(), "elif_clause" | "else_clause") && after("then")
        }
        "case_item" => after(")"),
        _ => false,
    }
}

fn block_kind<'t>(block: Node<'t>, parents: &Parents<'t>) -> BlockKind {
    match block.kind() {
        "program" => BlockKind::Script,
        "do_group" => BlockKind::Loop,
        "if_statement" | "elif_clause" | "else_clause" => BlockKind::Branch,
        "case_item" => BlockKind::Case,
        "compound_statement"
            if parents
                .of(block)
                .is_some_and(|p| p.kind() == "function_definition") =>
        {
            BlockKind::Function
        }
        _ => BlockKind::Group,
    }
}

/// The blocks around a command, innermost first, each with the statement that holds the command.
/// None for a command in a `while`/`until` condition: it runs again until it succeeds (often
/// waiting for IMDS to come up), so it must fetch its own token each time.
#[allow(clippy::type_complexity)]
fn blocks<'t>(
    command: Node<'t>,
    parents: &Parents<'t>,
    text: &[u8],
    map: &OffsetMap,
    quoting_at: &dyn Fn(usize) -> (Option<Vec<Quoting>>, Option<PlainScalar>),
) -> Vec<BlockAnchor> {
    let mut out = Vec::new();
    let mut at = command;
    loop {
        let (parent, node) = match parents.up(at) {
            Up::Root => break,
            Up::WhileCondition => return Vec::new(),
            Up::Block { block, statement } => (block, statement),
        };
        {
            let start = node.start_byte();
            let before = text.get(..start).unwrap_or_default();
            let line_start = memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
            let prefix = text.get(line_start..start).unwrap_or_default();
            let begins_line = prefix.iter().all(|&b| b == b' ' || b == b'\t');
            let indent: String = text
                .get(line_start..)
                .unwrap_or_default()
                .iter()
                .take_while(|&&b| b == b' ' || b == b'\t')
                .map(|&b| b as char)
                .collect();
            let line_end =
                memchr::memchr(b'\n', text.get(start..).unwrap_or_default()).map(|i| start + i);
            let crlf = line_end.is_some_and(|end| end > 0 && text.get(end - 1) == Some(&b'\r'));
            let (quoting, plain) = quoting_at(line_start);
            out.push(BlockAnchor {
                quoting,
                plain,
                block: parent.id(),
                statement: map.to_host(crate::fragment::FragmentOffset(start)),
                line_start: map.to_host(crate::fragment::FragmentOffset(line_start)),
                begins_line,
                kind: block_kind(parent, parents),
                indent,
                eol: if crlf { "\r\n" } else { "\n" },
            });
        }
        at = parent;
    }
    out
}

/// The block an assignment always runs in before that block's later statements, and the
/// assignment's end; `None` when it runs only sometimes (in a condition, a list, a pipeline).
fn dominated_block<'t>(assignment: Node<'t>, parents: &Parents<'t>) -> Option<(usize, usize)> {
    let mut node = assignment;
    while let Some(parent) = parents.of(node) {
        if is_block_statement(parent, node, parents) {
            return Some((parent.id(), node.end_byte()));
        }
        match parent.kind() {
            "variable_assignment"
            | "variable_assignments"
            | "declaration_command"
            | "redirected_statement" => node = parent,
            _ => return None,
        }
    }
    None
}

/// Whether the script handles a command's failure: in a `&&`/`||` list, negated, or in the
/// condition of an `if`, `while` or `until`.
fn failure_handled<'t>(command: Node<'t>, parents: &Parents<'t>) -> bool {
    let mut node = command;
    while let Some(parent) = parents.of(node) {
        match parent.kind() {
            "list" | "negated_command" => return true,
            "while_statement" if parent.child_by_field_name("body") != Some(node) => return true,
            "if_statement" | "elif_clause"
                if !is_block_statement(parent, node, parents)
                    && !matches!(node.kind(), "elif_clause" | "else_clause") =>
            {
                return true
            }
            "program" => return false,
            _ => {}
        }
        node = parent;
    }
    false
}

fn first_line(text: &[u8]) -> String {
    let end = text
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(text.len())
        .min(256);
    String::from_utf8_lossy(text.get(..end).unwrap_or_default()).into_owned()
}

/// `#!/bin/ash`, `#!/bin/busybox sh`: a BusyBox system, whose wget cannot PUT.
fn shebang_is_busybox(text: &[u8]) -> bool {
    let line = first_line(text);
    line.starts_with("#!")
        && (line.contains("busybox")
            || line
                .split_whitespace()
                .next()
                .is_some_and(|p| p.ends_with("/ash")))
}

/// `#!/bin/sh -e`, `#!/bin/bash -eu`.
fn shebang_sets_errexit(text: &[u8]) -> bool {
    let line = first_line(text);
    line.starts_with("#!")
        && line
            .split_whitespace()
            .skip(1)
            .any(|w| w.starts_with('-') && !w.starts_with("--") && w.contains('e'))
}

/// Whether a `declaration_command` exports what it declares (`export`, `declare -x`).
fn exports(decl: Node, text: &[u8]) -> bool {
    let mut cursor = decl.walk();
    let mut children = decl.children(&mut cursor);
    let Some(keyword) = children.next() else {
        return false;
    };
    match keyword.kind() {
        "export" => true,
        "declare" | "typeset" | "local" => children.any(|c| {
            c.kind() == "word" && {
                let t = node_str(c, text);
                t.starts_with('-') && t.contains('x')
            }
        }),
        _ => false,
    }
}

/// The variables used after the colon of a header word.
fn value_variables(word: &Word) -> Vec<String> {
    let mut seen_colon = false;
    let mut names = Vec::new();
    for piece in &word.pieces {
        match piece {
            Piece::Literal(text) if text.contains(':') => seen_colon = true,
            Piece::Variable { name, .. } if seen_colon => names.push(name.clone()),
            _ => {}
        }
    }
    names
}

fn header_name(value: &str) -> String {
    value
        .split_once(':')
        .map(|(name, _)| name.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

fn ttl_of(values: &[String]) -> Ttl {
    let mut result = Ttl::Unknown;
    for value in values {
        let raw = value.split_once(':').map_or("", |(_, v)| v).trim();
        if raw.contains(UNKNOWN) {
            return Ttl::Unknown;
        }
        match raw.parse::<u32>() {
            Ok(n) if (1..=21600).contains(&n) => {
                if result == Ttl::Unknown {
                    result = Ttl::Valid(n);
                }
            }
            _ => return Ttl::Invalid(raw.to_owned()),
        }
    }
    result
}

trait ContainsAny {
    fn contains_any(&self, set: &[u8]) -> bool;
}

impl ContainsAny for [u8] {
    fn contains_any(&self, set: &[u8]) -> bool {
        self.iter().any(|b| set.contains(b))
    }
}
