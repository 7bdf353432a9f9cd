//! The only code that touches tree-sitter-python: the Python analysis. It finds the metadata
//! requests a Python script makes — `requests` (functions and `Session` objects), `httpx`,
//! `urllib.request`/`urllib2` `urlopen`, `http.client` connections, boto 2's `boto.utils`
//! metadata functions — with their URLs (variables, f-strings, `+`, `%` and `.format` where they
//! can be read), headers and token flow, into the language-neutral request model
//! (`crate::model::request`) the rules read. Shell code the script runs (`subprocess` with
//! `shell=True` or an argv list, `os.system`, Fabric's and Invoke's `run`/`sudo`, paramiko's
//! `exec_command`) is handed back as shell fragments, which the shell analysis reads.

mod calls;
mod values;

use std::collections::HashMap;

use tree_sitter::Node;

use crate::fragment::{Fragment, FragmentSpan, HostOffset, HostSpan};
use crate::model::request::{Request, Scope};
use crate::model::Note;
use crate::shell::endpoint::UNKNOWN;
use crate::shell::Options;
use crate::syntax::Grammar;
use values::Value;

/// What the Python analysis found in one fragment.
#[derive(Debug, Default)]
pub struct Analysis {
    pub requests: Vec<Request>,
    /// The function scopes (and the module) the requests' `FixSite::scope` refers to.
    pub scopes: Vec<Scope>,
    /// The name the module binds `requests` to (`import requests as rq`), which a token fetch
    /// inserted by a fix calls.
    pub requests_module: Option<String>,
    pub syntax_errors: bool,
    /// The fragment could not be parsed: nothing of it was analysed.
    pub error: Option<Note>,
    /// Code the analysis did not follow: where, and why.
    pub notes: Vec<(HostSpan, String)>,
    /// Shell code the script runs, for the shell analysis.
    pub nested: Vec<Fragment>,
    /// The name the module binds `httpx` to, which a token fetch inserted by a fix calls.
    pub httpx_module: Option<String>,
    /// For `urllib` and `httpx` requests (urllib would send a `None` header as the text `None`,
    /// httpx refuses one): how a fix sends the token only when one was fetched, by index into
    /// `requests`.
    pub conditional: HashMap<usize, Conditional>,
}

/// How a fix sends a token with a `urllib` or `httpx` request only when it has one: the header
/// dict `{"X-aws-ec2-metadata-token": T} if T else {}` written at `site`, and a fetch made with
/// the same library (`urllib` with these names; `None`: `httpx`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conditional {
    pub site: HeaderSite,
    pub fetch: Option<UrllibFetch>,
}

/// Where the conditional header dict goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderSite {
    /// The URL given to `urlopen`, wrapped into a `Request` with the headers.
    Url { start: HostOffset, end: HostOffset },
    /// A headers dict literal, which becomes `dict(…, **headers)`.
    Dict { start: HostOffset, end: HostOffset },
    /// A new `headers=` keyword argument of a `Request(…)`, at `at`, after a comma when `comma`.
    Add { at: HostOffset, comma: bool },
}

/// How the token fetch calls `urllib`: the names `urlopen` and `Request` are called by in the
/// script (`None` when `Request` is not imported: the fix imports it from `module`), and whether
/// `Request` takes `method=` (Python 3's `urllib.request`; else the fetch overrides `get_method`,
/// which Python 2's `urllib2` needs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrllibFetch {
    pub urlopen: String,
    pub class: Option<String>,
    pub module: String,
    pub method_keyword: bool,
}

/// Words that make a Python file worth parsing though it names no endpoint: boto 2's metadata
/// functions (the prefilter in `crate::check`).
pub const PREFILTER_NEEDLES: &[&str] = &[
    "get_instance_metadata",
    "get_instance_identity",
    "get_instance_userdata",
];

const TOKEN_HEADER: &str = "x-aws-ec2-metadata-token";
const TTL_HEADER: &str = "x-aws-ec2-metadata-token-ttl-seconds";

/// Analyses one fragment of Python code as a run configured with `options` would.
pub fn analyze_with(fragment: &Fragment, options: &Options) -> Analysis {
    let tree = match crate::syntax::parse(Grammar::Python, &fragment.text) {
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
        token_functions: Vec::new(),
        out: Analysis {
            syntax_errors: root.has_error(),
            scopes: vec![Scope::default()],
            ..Analysis::default()
        },
    };
    analyzer.block(root, 0);
    analyzer.finish()
}

/// The variables of one function scope (or the module's).
#[derive(Debug, Default, Clone)]
struct Frame {
    vars: HashMap<String, Value>,
    /// Index into `Analysis::scopes`.
    scope: usize,
    /// The function's name (`None` for the module).
    function: Option<String>,
}

struct Analyzer<'a> {
    fragment: &'a Fragment,
    options: &'a Options,
    text: &'a [u8],
    /// The module's frame, then the enclosing functions', innermost last.
    frames: Vec<Frame>,
    /// Calls already evaluated (and recorded), by node id.
    values: HashMap<usize, Value>,
    /// Functions whose `return` gives a token.
    token_functions: Vec<String>,
    out: Analysis,
}

/// The programs whose metadata requests a shell fragment would find.
fn runs_shell(name: &str) -> Option<bool> {
    // Some(true): the string is shell code; Some(false): shell only with `shell=True`.
    match name {
        "os.system"
        | "os.popen"
        | "subprocess.getoutput"
        | "subprocess.getstatusoutput"
        | "commands.getoutput"
        | "commands.getstatusoutput"
        // Invoke, and Fabric 1's operations (Fabric 2's are methods of a `Connection`).
        | "invoke.run"
        | "invoke.sudo"
        | "fabric.api.run"
        | "fabric.api.sudo"
        | "fabric.api.local"
        | "fabric.operations.run"
        | "fabric.operations.sudo"
        | "fabric.operations.local" => Some(true),
        "subprocess.run"
        | "subprocess.call"
        | "subprocess.check_call"
        | "subprocess.check_output"
        | "subprocess.Popen" => Some(false),
        _ => None,
    }
}

impl<'a> Analyzer<'a> {
    fn finish(mut self) -> Analysis {
        self.out.requests_module = self.module_name("requests");
        self.out.httpx_module = self.module_name("httpx");
        self.out
    }

    /// The name the module binds `module` to: the shortest, so that `requests` wins over an
    /// alias.
    fn module_name(&self, module: &str) -> Option<String> {
        let frame = self.frames.first()?;
        frame
            .vars
            .iter()
            .filter(|(_, v)| matches!(v, Value::Module(m) if m == module))
            .map(|(k, _)| k.clone())
            .min_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)))
    }

    fn node_text(&self, node: Node) -> &'a str {
        std::str::from_utf8(self.text.get(node.byte_range()).unwrap_or_default()).unwrap_or("")
    }

    fn host_span(&self, node: Node) -> HostSpan {
        self.fragment
            .map
            .span_to_host(FragmentSpan::new(node.start_byte(), node.end_byte()))
    }

    fn lookup(&self, name: &str) -> Option<&Value> {
        let innermost = self.frames.last().and_then(|f| f.vars.get(name));
        innermost.or_else(|| self.frames.first().and_then(|f| f.vars.get(name)))
    }

    fn bind(&mut self, name: &str, value: Value) {
        let scope = self.frames.last().map_or(0, |f| f.scope);
        if let Some(s) = self.out.scopes.get_mut(scope) {
            if !s.taken.iter().any(|t| t == name) {
                s.taken.push(name.to_owned());
            }
            if matches!(value, Value::Token) && !s.token_vars.iter().any(|t| t == name) {
                s.token_vars.push(name.to_owned());
            }
        }
        if let Some(frame) = self.frames.last_mut() {
            frame.vars.insert(name.to_owned(), value);
        }
    }

    /// Walks the statements under `node` in order.
    fn block(&mut self, node: Node, depth: usize) {
        if depth > 200 {
            self.out.notes.push((
                self.host_span(node),
                "Python code nested too deep to follow".to_owned(),
            ));
            return;
        }
        let mut cursor = node.walk();
        let children: Vec<Node> = node.named_children(&mut cursor).collect();
        for child in children {
            self.statement(child, depth + 1);
        }
    }

    fn statement(&mut self, node: Node, depth: usize) {
        match node.kind() {
            "import_statement" => self.import(node),
            "import_from_statement" => self.import_from(node),
            "function_definition" => self.function(node, depth),
            "expression_statement" => {
                let mut cursor = node.walk();
                let children: Vec<Node> = node.named_children(&mut cursor).collect();
                for child in children {
                    if child.kind() == "assignment" {
                        self.assignment(child);
                    }
                    self.calls_in(child);
                }
            }
            "with_statement" => {
                self.with_items(node);
                self.block_children(node, depth);
            }
            "return_statement" => {
                self.calls_in(node);
                if let Some(value) = node.named_child(0) {
                    if matches!(self.eval(value), Value::Token) && self.frames.len() > 1 {
                        if let Some(name) = self.frames.last().and_then(|f| f.function.clone()) {
                            self.token_functions.push(name);
                        }
                    }
                }
            }
            _ => self.block_children(node, depth),
        }
    }

    /// The statements and expressions of a compound statement: conditions and iterables first,
    /// bodies after.
    fn block_children(&mut self, node: Node, depth: usize) {
        let mut cursor = node.walk();
        let children: Vec<Node> = node.named_children(&mut cursor).collect();
        for child in children {
            match child.kind() {
                "block"
                | "else_clause"
                | "elif_clause"
                | "except_clause"
                | "finally_clause"
                | "class_definition"
                | "decorated_definition"
                | "if_statement"
                | "for_statement"
                | "while_statement"
                | "try_statement"
                | "with_statement"
                | "match_statement"
                | "case_clause"
                | "function_definition"
                | "expression_statement"
                | "return_statement"
                | "import_statement"
                | "import_from_statement" => {
                    if child.kind() == "block" {
                        self.block(child, depth + 1);
                    } else {
                        self.statement(child, depth + 1);
                    }
                }
                _ => self.calls_in(child),
            }
        }
    }
}

impl<'a> Analyzer<'a> {
    /// `import a.b`, `import a.b as c`.
    fn import(&mut self, node: Node) {
        let mut cursor = node.walk();
        let names: Vec<Node> = node.children_by_field_name("name", &mut cursor).collect();
        for name in names {
            match name.kind() {
                "aliased_import" => {
                    let (Some(module), Some(alias)) = (
                        name.child_by_field_name("name"),
                        name.child_by_field_name("alias"),
                    ) else {
                        continue;
                    };
                    let module = self.node_text(module).to_owned();
                    self.bind(self.node_text(alias), Value::Module(module));
                }
                _ => {
                    let dotted = self.node_text(name);
                    let first = dotted.split('.').next().unwrap_or(dotted).trim();
                    self.bind(first, Value::Module(first.to_owned()));
                }
            }
        }
    }

    /// `from a.b import c, d as e`.
    fn import_from(&mut self, node: Node) {
        let Some(module) = node.child_by_field_name("module_name") else {
            return;
        };
        let module = self.node_text(module).to_owned();
        let mut cursor = node.walk();
        let names: Vec<Node> = node.children_by_field_name("name", &mut cursor).collect();
        for name in names {
            let (item, alias) = match name.kind() {
                "aliased_import" => {
                    let (Some(item), Some(alias)) = (
                        name.child_by_field_name("name"),
                        name.child_by_field_name("alias"),
                    ) else {
                        continue;
                    };
                    (self.node_text(item), self.node_text(alias))
                }
                _ => (self.node_text(name), self.node_text(name)),
            };
            self.bind(alias, Value::Module(format!("{module}.{item}")));
        }
    }

    /// A function body is a scope of its own, with its parameters unknown.
    fn function(&mut self, node: Node, depth: usize) {
        let name = node
            .child_by_field_name("name")
            .map(|n| self.node_text(n).to_owned());
        if let Some(name) = &name {
            self.bind(name, Value::Unknown);
        }
        let scope = self.out.scopes.len();
        self.out.scopes.push(Scope::default());
        self.frames.push(Frame {
            vars: HashMap::new(),
            scope,
            function: name,
        });
        if let Some(parameters) = node.child_by_field_name("parameters") {
            let mut cursor = parameters.walk();
            let params: Vec<Node> = parameters.named_children(&mut cursor).collect();
            for param in params {
                let ident = if param.kind() == "identifier" {
                    Some(param)
                } else {
                    param
                        .child_by_field_name("name")
                        .or_else(|| param.named_child(0))
                        .filter(|n| n.kind() == "identifier")
                };
                if let Some(ident) = ident {
                    self.bind(self.node_text(ident), Value::Unknown);
                }
            }
        }
        if let Some(body) = node.child_by_field_name("body") {
            self.block(body, depth + 1);
        }
        self.frames.pop();
    }

    /// `x = …`, `a, b = …`, `h["k"] = v`, `s.headers["k"] = v`.
    fn assignment(&mut self, node: Node) {
        let (Some(left), Some(right)) = (
            node.child_by_field_name("left"),
            node.child_by_field_name("right"),
        ) else {
            return;
        };
        let value = self.eval(right);
        match left.kind() {
            "identifier" => self.bind(self.node_text(left), value),
            "subscript" => self.subscript_assignment(left, right),
            "attribute" => self.method_override(left, right),
            _ => {
                let mut cursor = left.walk();
                let names: Vec<Node> = left
                    .named_children(&mut cursor)
                    .filter(|n| n.kind() == "identifier")
                    .collect();
                for name in names {
                    self.bind(self.node_text(name), Value::Unknown);
                }
            }
        }
    }

    /// `h["X-aws-ec2-metadata-token"] = t` on a dict or a session's headers.
    fn subscript_assignment(&mut self, left: Node, right: Node) {
        let (Some(target), Some(key)) = (
            left.child_by_field_name("value"),
            left.child_by_field_name("subscript"),
        ) else {
            return;
        };
        let key = match self.eval(key) {
            Value::Str(k) if !k.contains(UNKNOWN) => Some(k),
            _ => None,
        };
        let entry = self.header_value(right);
        // `s.headers[…] = …` on a session.
        let (name, on_session) = match target.kind() {
            "identifier" => (self.node_text(target).to_owned(), false),
            "attribute"
                if target
                    .child_by_field_name("attribute")
                    .is_some_and(|a| self.node_text(a) == "headers") =>
            {
                match target.child_by_field_name("object") {
                    Some(o) if o.kind() == "identifier" => (self.node_text(o).to_owned(), true),
                    _ => return,
                }
            }
            _ => return,
        };
        let Some(current) = self.lookup(&name).cloned() else {
            return;
        };
        let updated = match (current, on_session) {
            (Value::Dict(mut headers), false) => {
                headers.entries.push((key, entry));
                Value::Dict(headers)
            }
            (
                Value::Session {
                    client,
                    mut headers,
                },
                true,
            ) => {
                headers.entries.push((key, entry));
                Value::Session { client, headers }
            }
            _ => return,
        };
        self.bind(&name, updated);
    }

    /// `req.get_method = lambda: "PUT"`: how Python 2's `urllib2` sends a `Request` with another
    /// method (a fix's token fetch writes it so).
    fn method_override(&mut self, left: Node, right: Node) {
        let (Some(object), Some(attribute)) = (
            left.child_by_field_name("object"),
            left.child_by_field_name("attribute"),
        ) else {
            return;
        };
        if object.kind() != "identifier" || self.node_text(attribute) != "get_method" {
            return;
        }
        let name = self.node_text(object).to_owned();
        let Some(Value::UrllibRequest {
            url,
            headers,
            built,
            ..
        }) = self.lookup(&name).cloned()
        else {
            return;
        };
        let method = match right.kind() {
            "lambda" => match right.child_by_field_name("body").map(|b| self.eval(b)) {
                Some(Value::Str(m)) if !m.contains(UNKNOWN) => calls::method_of(&m),
                _ => crate::model::request::Method::Unknown,
            },
            _ => crate::model::request::Method::Unknown,
        };
        self.bind(
            &name,
            Value::UrllibRequest {
                url,
                headers,
                method,
                built,
            },
        );
    }

    /// `with requests.Session() as s:`
    fn with_items(&mut self, node: Node) {
        let mut stack = vec![node];
        while let Some(n) = stack.pop() {
            let mut cursor = n.walk();
            for child in n.named_children(&mut cursor) {
                match child.kind() {
                    "with_clause" | "with_item" => stack.push(child),
                    "as_pattern" => {
                        let value = child.named_child(0).map(|v| self.eval(v));
                        let alias = child
                            .child_by_field_name("alias")
                            .and_then(|a| a.named_child(0).or(Some(a)))
                            .filter(|a| a.kind() == "identifier");
                        if let (Some(value), Some(alias)) = (value, alias) {
                            self.bind(self.node_text(alias), value);
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// Evaluates every call under `node` (recording the requests among them), in order.
    fn calls_in(&mut self, node: Node) {
        let mut stack = vec![node];
        let mut calls = Vec::new();
        while let Some(n) = stack.pop() {
            if n.kind() == "call" {
                calls.push(n);
            }
            if matches!(n.kind(), "lambda" | "function_definition") {
                continue;
            }
            let mut cursor = n.walk();
            let children: Vec<Node> = n.named_children(&mut cursor).collect();
            stack.extend(children.into_iter().rev());
        }
        calls.sort_by_key(|c| c.start_byte());
        for call in calls {
            self.eval(call);
        }
    }

    /// The qualified name an expression names (`requests.get`, `urllib.request.urlopen`), through
    /// the imports; names not bound are taken as module names.
    fn qualified(&self, node: Node) -> Option<String> {
        match node.kind() {
            "identifier" => {
                let name = self.node_text(node);
                match self.lookup(name) {
                    Some(Value::Module(m)) => Some(m.clone()),
                    None => Some(name.to_owned()),
                    Some(_) => None,
                }
            }
            "attribute" => {
                let object = node.child_by_field_name("object")?;
                let attribute = node.child_by_field_name("attribute")?;
                Some(format!(
                    "{}.{}",
                    self.qualified(object)?,
                    self.node_text(attribute)
                ))
            }
            _ => None,
        }
    }

    /// The positional arguments and keyword arguments of a call, and whether it spreads
    /// `**kwargs` (which may hold anything).
    fn arguments<'t>(&self, call: Node<'t>) -> CallArgs<'t> {
        let mut args = CallArgs::default();
        let Some(list) = call.child_by_field_name("arguments") else {
            return args;
        };
        args.list = Some(list);
        let mut cursor = list.walk();
        for child in list.named_children(&mut cursor) {
            match child.kind() {
                "keyword_argument" => {
                    if let (Some(name), Some(value)) = (
                        child.child_by_field_name("name"),
                        child.child_by_field_name("value"),
                    ) {
                        args.keywords.push((self.node_text(name).to_owned(), value));
                    }
                }
                "dictionary_splat" => args.splat = true,
                "list_splat" => args.splat = true,
                "comment" => {}
                _ => args.positional.push(child),
            }
            args.last = Some(child);
        }
        args
    }
}

/// A call's arguments.
#[derive(Default)]
struct CallArgs<'t> {
    list: Option<Node<'t>>,
    positional: Vec<Node<'t>>,
    keywords: Vec<(String, Node<'t>)>,
    splat: bool,
    last: Option<Node<'t>>,
}

impl<'t> CallArgs<'t> {
    fn keyword(&self, name: &str) -> Option<Node<'t>> {
        self.keywords
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| *v)
    }

    /// The argument given by keyword `name` or else at position `index`.
    fn get(&self, name: &str, index: usize) -> Option<Node<'t>> {
        self.keyword(name)
            .or_else(|| self.positional.get(index).copied())
    }
}
