//! The calls the Python analysis knows: the HTTP clients' requests (recorded as requests when
//! they reach IMDS), what builds a session, a connection or a `urllib` `Request`, the token flow
//! through responses, and the calls that run shell code.

use tree_sitter::Node;

use super::values::{brace_format, Built, HeaderValue, Headers, Value};
use super::{
    runs_shell, Analyzer, CallArgs, Conditional, HeaderSite, UrllibFetch, TOKEN_HEADER, TTL_HEADER,
};
use crate::fragment::{
    push_decoded, python_string, Fragment, FragmentOffset, InsertRegion, Language, OffsetMap,
    Quoting,
};
use crate::model::request::{
    ArgumentSite, BlockAnchor, BlockKind, Client, FixSite, Method, Request, TokenUse,
    TokenVariable, Ttl,
};
use crate::shell::endpoint::{self, UNKNOWN};

/// The HTTP methods `requests`/`httpx` have a function for.
const METHODS: &[&str] = &["get", "put", "post", "head", "delete", "patch", "options"];

pub(super) fn method_of(name: &str) -> Method {
    match name.to_ascii_uppercase().as_str() {
        "GET" => Method::Get,
        "PUT" => Method::Put,
        other => Method::Other(other.to_owned()),
    }
}

/// How a request's headers were given.
#[derive(Default)]
struct HeaderArg {
    /// What they hold, when they can be read.
    headers: Option<Headers>,
    /// What could not be read, when they cannot.
    unreadable: Option<String>,
    site: Option<ArgumentSite>,
    /// The fix site of the call that built the request (a `urllib` `Request`), when not the
    /// request's own.
    built: Option<FixSite>,
    /// How a `urllib` request's fix sends the token.
    conditional: Option<Conditional>,
    /// The `headers={…}` dict written in the call, for a conditional header.
    dict: Option<HeaderSite>,
}

impl<'a> Analyzer<'a> {
    pub(super) fn call<'t>(&mut self, node: Node<'t>) -> Value {
        let Some(function) = node.child_by_field_name("function") else {
            return Value::Unknown;
        };
        let args = self.arguments(node);
        if function.kind() == "attribute" {
            if let Some(value) = self.method_call(node, function, &args) {
                return value;
            }
        }
        let Some(name) = self.qualified(function) else {
            return Value::Unknown;
        };
        let (module, leaf) = name.rsplit_once('.').unwrap_or(("", name.as_str()));
        match (module, leaf) {
            ("requests" | "httpx", "Session" | "session" | "Client" | "AsyncClient") => {
                let client = if module == "httpx" {
                    Client::Httpx
                } else {
                    Client::Requests
                };
                let headers = args
                    .keyword("headers")
                    .map(|h| self.headers_of(h))
                    .unwrap_or_default();
                Value::Session { client, headers }
            }
            ("requests" | "httpx", "request") => {
                let client = if module == "httpx" {
                    Client::Httpx
                } else {
                    Client::Requests
                };
                let method = match args.get("method", 0).map(|m| self.eval(m)) {
                    Some(Value::Str(m)) if !m.contains(UNKNOWN) => method_of(&m),
                    _ => Method::Unknown,
                };
                let url = args.get("url", 1);
                self.library_request(node, client, url, method, &args, None)
            }
            ("requests" | "httpx", m) if METHODS.contains(&m) => {
                let client = if module == "httpx" {
                    Client::Httpx
                } else {
                    Client::Requests
                };
                let url = args.get("url", 0);
                self.library_request(node, client, url, method_of(m), &args, None)
            }
            ("urllib.request" | "urllib2" | "urllib" | "six.moves.urllib.request", "urlopen") => {
                self.urlopen(node, function, module, &args)
            }
            ("urllib.request" | "urllib2" | "six.moves.urllib.request", "Request") => {
                let url = args.get("url", 0).map(|u| self.string_value(u));
                let header_node = args.get("headers", 2);
                let headers = header_node.map(|h| self.headers_of(h));
                let method = match args.keyword("method").map(|m| self.eval(m)) {
                    Some(Value::Str(m)) if !m.contains(UNKNOWN) => method_of(&m),
                    Some(_) => Method::Unknown,
                    None if args.get("data", 1).is_some() => Method::Other("POST".to_owned()),
                    None => Method::Get,
                };
                let header = match (header_node, &headers) {
                    (Some(dict), Some(h))
                        if dict.kind() == "dictionary" && h.unreadable.is_none() =>
                    {
                        Some(HeaderSite::Dict {
                            start: self.to_host(dict.start_byte()),
                            end: self.to_host(dict.end_byte()),
                        })
                    }
                    (Some(_), _) => None,
                    (None, _) => self.add_site(&args),
                };
                let built = Built {
                    site: self.fix_site(node, None),
                    header,
                    class: self.node_text(function).to_owned(),
                    module: module.to_owned(),
                };
                Value::UrllibRequest {
                    url: url.unwrap_or_else(|| UNKNOWN.to_string()),
                    headers,
                    method,
                    built: Some(Box::new(built)),
                }
            }
            ("", "dict") => self.dict_call(&args, node),
            ("http.client" | "httplib", "HTTPConnection") => {
                let host = args
                    .get("host", 0)
                    .map(|h| self.string_value(h))
                    .unwrap_or_else(|| UNKNOWN.to_string());
                let port = args.get("port", 1).map(|p| self.node_text(p).to_owned());
                let host = match port {
                    Some(port) => format!("{host}:{port}"),
                    None => host,
                };
                Value::Connection { host, token: false }
            }
            (
                "boto.utils",
                "get_instance_metadata" | "get_instance_identity" | "get_instance_userdata",
            ) => {
                let path = match leaf {
                    "get_instance_identity" => "/latest/dynamic/instance-identity/document",
                    "get_instance_userdata" => "/latest/user-data",
                    _ => "/latest/meta-data/",
                };
                self.boto_request(node, path);
                Value::Unknown
            }
            _ => {
                if let Some(always) = runs_shell(&name) {
                    self.shell_call(&args, always);
                    return Value::Unknown;
                }
                if function.kind() == "identifier"
                    && self
                        .token_functions
                        .iter()
                        .any(|f| f == self.node_text(function))
                {
                    return Value::Token;
                }
                Value::Unknown
            }
        }
    }

    /// A method called on a value the analysis knows (a session, a connection, a response, a
    /// token, a string); `None` when the object is not one.
    fn method_call<'t>(
        &mut self,
        node: Node<'t>,
        function: Node<'t>,
        args: &CallArgs<'t>,
    ) -> Option<Value> {
        let object = function.child_by_field_name("object")?;
        let method = self.node_text(function.child_by_field_name("attribute")?);
        // `s.headers.update({...})` on a session.
        if method == "update" && object.kind() == "attribute" {
            let inner = object.child_by_field_name("object")?;
            let attribute = object.child_by_field_name("attribute")?;
            if self.node_text(attribute) == "headers" && inner.kind() == "identifier" {
                let name = self.node_text(inner).to_owned();
                if let Some(Value::Session {
                    client,
                    mut headers,
                }) = self.lookup(&name).cloned()
                {
                    if let Some(added) = args.positional.first() {
                        let added = self.headers_of(*added);
                        headers.entries.extend(added.entries);
                        if added.unreadable.is_some() {
                            headers.unreadable = added.unreadable;
                        }
                    }
                    self.bind(&name, Value::Session { client, headers });
                    return Some(Value::Unknown);
                }
            }
        }
        if method == "exec_command" {
            self.shell_call(args, true);
            return Some(Value::Unknown);
        }
        let value = self.eval(object);
        match value {
            Value::Session { client, headers } => {
                if METHODS.contains(&method) {
                    let url = args.get("url", 0);
                    Some(self.library_request(
                        node,
                        client,
                        url,
                        method_of(method),
                        args,
                        Some(headers),
                    ))
                } else if method == "request" {
                    let method = match args.get("method", 0).map(|m| self.eval(m)) {
                        Some(Value::Str(m)) if !m.contains(UNKNOWN) => method_of(&m),
                        _ => Method::Unknown,
                    };
                    let url = args.get("url", 1);
                    Some(self.library_request(node, client, url, method, args, Some(headers)))
                } else {
                    Some(Value::Unknown)
                }
            }
            Value::Connection { host, token } => match method {
                "request" | "putrequest" => {
                    let token = self.connection_request(node, &host, args).unwrap_or(token);
                    if object.kind() == "identifier" {
                        let name = self.node_text(object).to_owned();
                        self.bind(&name, Value::Connection { host, token });
                    }
                    Some(Value::Unknown)
                }
                "getresponse" => Some(Value::Response { token }),
                _ => Some(Value::Unknown),
            },
            Value::UrllibRequest {
                url,
                headers,
                method: request_method,
                built,
            } if method == "add_header" && object.kind() == "identifier" => {
                // `req.add_header(name, value)`: the request sends it (a fix no longer writes
                // into the `Request` call: its headers are not all there).
                let key = match args.positional.first().map(|k| self.eval(*k)) {
                    Some(Value::Str(k)) if !k.contains(UNKNOWN) => Some(k),
                    _ => None,
                };
                let value = args
                    .positional
                    .get(1)
                    .map_or(HeaderValue::Other, |v| self.header_value(*v));
                let mut headers = headers.unwrap_or_default();
                headers.entries.push((key, value));
                let name = self.node_text(object).to_owned();
                self.bind(
                    &name,
                    Value::UrllibRequest {
                        url,
                        headers: Some(headers),
                        method: request_method,
                        built: built.map(|mut b| {
                            b.header = None;
                            b
                        }),
                    },
                );
                Some(Value::Unknown)
            }
            Value::Response { token } => Some(match method {
                "read" if token => Value::Token,
                _ => Value::Unknown,
            }),
            Value::Token => Some(match method {
                "decode" | "strip" | "rstrip" | "lstrip" => Value::Token,
                _ => Value::Unknown,
            }),
            Value::Str(template) => Some(match method {
                "format" => {
                    let positional: Vec<String> = args
                        .positional
                        .iter()
                        .map(|p| self.string_value(*p))
                        .collect();
                    let named: Vec<(String, String)> = args
                        .keywords
                        .iter()
                        .map(|(k, v)| (k.clone(), self.string_value(*v)))
                        .collect();
                    Value::Str(brace_format(&template, &positional, &named))
                }
                "strip" | "rstrip" | "lstrip" => Value::Str(template),
                _ => Value::Unknown,
            }),
            Value::Module(_) => None,
            // Fabric's `c.run(…)`/`c.sudo(…)`/`Connection(…).run(…)`: a command string for a shell.
            _ if matches!(method, "run" | "sudo") => {
                self.shell_call(args, true);
                Some(Value::Unknown)
            }
            _ => Some(Value::Unknown),
        }
    }

    /// Headers given as an argument: a dict literal or a variable holding one.
    fn headers_of(&mut self, node: Node) -> Headers {
        match self.eval(node) {
            Value::Dict(headers) => headers,
            _ => Headers {
                entries: Vec::new(),
                unreadable: Some(format!("the headers `{}`", self.node_text(node))),
            },
        }
    }

    /// The `headers=` argument of a call, and where a token header can go.
    fn header_arg<'t>(&mut self, args: &CallArgs<'t>) -> HeaderArg {
        match args.keyword("headers") {
            Some(node) => {
                let headers = self.headers_of(node);
                let site =
                    (node.kind() == "dictionary" && headers.unreadable.is_none()).then(|| {
                        let mut cursor = node.walk();
                        let first = node
                            .named_children(&mut cursor)
                            .find(|c| c.kind() != "comment");
                        // Before the first entry (where it is, on its line), or inside the
                        // braces of an empty dict.
                        let at = first.map_or(node.start_byte() + 1, |f| f.start_byte());
                        ArgumentSite::Merge {
                            at: self.to_host(at),
                            empty: first.is_none(),
                        }
                    });
                let dict = site.as_ref().map(|_| HeaderSite::Dict {
                    start: self.to_host(node.start_byte()),
                    end: self.to_host(node.end_byte()),
                });
                let unreadable = headers.unreadable.clone();
                HeaderArg {
                    headers: Some(headers),
                    unreadable,
                    site,
                    dict,
                    ..HeaderArg::default()
                }
            }
            None => HeaderArg {
                headers: None,
                unreadable: args.splat.then(|| "`**` arguments".to_owned()),
                site: self.add_site(args).map(|site| match site {
                    HeaderSite::Add { at, comma } => ArgumentSite::Add { at, comma },
                    HeaderSite::Url { start: at, .. } | HeaderSite::Dict { start: at, .. } => {
                        ArgumentSite::Add { at, comma: true }
                    }
                }),
                ..HeaderArg::default()
            },
        }
    }

    /// Where a new `headers=` argument goes: after the last argument, or inside the parentheses
    /// when there is none; nowhere when `**kwargs` may hold headers.
    fn add_site(&self, args: &CallArgs) -> Option<HeaderSite> {
        match (args.splat, args.last, args.list) {
            (true, _, _) => None,
            (false, Some(last), _) => Some(HeaderSite::Add {
                at: self.to_host(last.end_byte()),
                comma: true,
            }),
            (false, None, Some(list)) => Some(HeaderSite::Add {
                at: self.to_host(list.start_byte() + 1),
                comma: false,
            }),
            (false, None, None) => None,
        }
    }

    /// `dict(d, k=v, **other)`: the headers of `d` with the others merged in (what a `urllib` fix
    /// writes: `dict({…}, **({token header} if token else {}))`).
    fn dict_call<'t>(&mut self, args: &CallArgs<'t>, node: Node<'t>) -> Value {
        let mut headers = Headers::default();
        if let Some(first) = args.positional.first() {
            match self.eval(*first) {
                Value::Dict(d) => headers = d,
                _ => return Value::Unknown,
            }
        }
        if args.positional.len() > 1 {
            return Value::Unknown;
        }
        for (name, value) in &args.keywords {
            let value = self.header_value(*value);
            headers.entries.push((Some(name.clone()), value));
        }
        let Some(list) = node.child_by_field_name("arguments") else {
            return Value::Dict(headers);
        };
        let mut cursor = list.walk();
        let splats: Vec<Node> = list
            .named_children(&mut cursor)
            .filter(|c| matches!(c.kind(), "dictionary_splat" | "list_splat"))
            .collect();
        for splat in splats {
            match (splat.kind(), splat.named_child(0).map(|n| self.eval(n))) {
                ("dictionary_splat", Some(Value::Dict(other))) => {
                    headers.entries.extend(other.entries);
                    if other.unreadable.is_some() {
                        headers.unreadable = other.unreadable;
                    }
                }
                _ => headers.unreadable = Some(format!("`{}`", self.node_text(splat))),
            }
        }
        Value::Dict(headers)
    }

    fn to_host(&self, at: usize) -> crate::fragment::HostOffset {
        self.fragment.map.to_host(FragmentOffset(at))
    }

    /// A `requests`/`httpx` call (a function or a session's method).
    fn library_request<'t>(
        &mut self,
        node: Node<'t>,
        client: Client,
        url: Option<Node<'t>>,
        method: Method,
        args: &CallArgs<'t>,
        session: Option<Headers>,
    ) -> Value {
        let Some(url) = url.map(|u| self.string_value(u)) else {
            return Value::Unknown;
        };
        let mut header = self.header_arg(args);
        if let Some(session) = session {
            let sends_token = |h: &Headers| h.get(TOKEN_HEADER).is_some();
            if !header.headers.as_ref().is_some_and(sends_token)
                && (sends_token(&session) || session.unreadable.is_some())
            {
                header.unreadable = header.unreadable.or(session.unreadable.clone());
                header.headers = Some(session);
            }
        }
        // httpx refuses a `None` header: a fix sends the token only when there is one. Not in
        // `await client.get(…)`: the fetch would block the event loop.
        if client == Client::Httpx && node.parent().is_none_or(|p| p.kind() != "await") {
            let site = match (&header.dict, &header.site) {
                (Some(dict), _) => Some(dict.clone()),
                (None, Some(ArgumentSite::Add { at, comma })) => Some(HeaderSite::Add {
                    at: *at,
                    comma: *comma,
                }),
                _ => None,
            };
            header.conditional = site.map(|site| Conditional { site, fetch: None });
        }
        self.record(node, client, &url, method, header)
    }

    /// `urlopen(url)`, `urlopen(Request(…))`, `urlopen(req)`. A fix sends the token only when one
    /// was fetched: a URL is wrapped into a `Request` with the header, a `Request` gets it in its
    /// headers (Python 2's `urllib.urlopen` takes no headers: not fixed).
    fn urlopen<'t>(
        &mut self,
        node: Node<'t>,
        function: Node<'t>,
        module: &str,
        args: &CallArgs<'t>,
    ) -> Value {
        let Some(target) = args.get("url", 0) else {
            return Value::Unknown;
        };
        let data = args.get("data", 1).is_some();
        let urlopen = self.node_text(function).to_owned();
        let fetch = |class: Option<String>, module: &str| UrllibFetch {
            urlopen: urlopen.clone(),
            class,
            module: module.to_owned(),
            method_keyword: module == "urllib.request",
        };
        let (url, headers, method, built, conditional) = match self.eval(target) {
            Value::UrllibRequest {
                url,
                headers,
                method,
                built,
            } => {
                let (site, conditional) = match built.map(|b| *b) {
                    Some(Built {
                        site,
                        header: Some(header),
                        class,
                        module,
                    }) => (
                        Some(site),
                        Some(Conditional {
                            site: header,
                            fetch: Some(fetch(Some(class), &module)),
                        }),
                    ),
                    _ => (None, None),
                };
                (url, headers, method, site, conditional)
            }
            Value::Str(url) => {
                let conditional = (module != "urllib").then(|| Conditional {
                    site: HeaderSite::Url {
                        start: self.to_host(target.start_byte()),
                        end: self.to_host(target.end_byte()),
                    },
                    fetch: Some(fetch(self.request_class(function, module), module)),
                });
                (
                    url,
                    Some(Headers::default()),
                    if data {
                        Method::Other("POST".to_owned())
                    } else {
                        Method::Get
                    },
                    None,
                    conditional,
                )
            }
            _ => return Value::Unknown,
        };
        let unreadable = headers.as_ref().and_then(|h| h.unreadable.clone());
        let header = HeaderArg {
            headers: Some(headers.unwrap_or_default()),
            unreadable,
            built,
            conditional,
            ..HeaderArg::default()
        };
        self.record(node, Client::Urllib, &url, method, header)
    }

    /// The name a script calls `module`'s `Request` by, seen from the `urlopen` it called:
    /// `urllib.request.Request` beside `urllib.request.urlopen`, or a name imported from it.
    fn request_class(&self, urlopen: Node, module: &str) -> Option<String> {
        if urlopen.kind() == "attribute" {
            let object = urlopen.child_by_field_name("object")?;
            return Some(format!("{}.Request", self.node_text(object)));
        }
        let wanted = format!("{module}.Request");
        let mut names: Vec<&String> = self
            .frames
            .iter()
            .flat_map(|f| f.vars.iter())
            .filter(|(_, v)| matches!(v, Value::Module(m) if *m == wanted))
            .map(|(k, _)| k)
            .collect();
        names.sort();
        names.first().map(|n| (*n).clone())
    }

    /// `conn.request(method, path, body, headers)`: whether it fetches a token (`None` when it
    /// does not reach IMDS).
    fn connection_request<'t>(
        &mut self,
        node: Node<'t>,
        host: &str,
        args: &CallArgs<'t>,
    ) -> Option<bool> {
        let method = match args.get("method", 0).map(|m| self.eval(m)) {
            Some(Value::Str(m)) if !m.contains(UNKNOWN) => method_of(&m),
            _ => Method::Unknown,
        };
        let path = args.get("url", 1).map(|p| self.string_value(p))?;
        let header = match args.get("headers", 3) {
            Some(h) => {
                let headers = self.headers_of(h);
                HeaderArg {
                    unreadable: headers.unreadable.clone(),
                    headers: Some(headers),
                    ..HeaderArg::default()
                }
            }
            None => HeaderArg {
                headers: Some(Headers::default()),
                ..HeaderArg::default()
            },
        };
        let url = format!("http://{host}{path}");
        match self.record(node, Client::HttpClient, &url, method, header) {
            Value::Response { token } => Some(token),
            _ => None,
        }
    }

    /// Records a request when its URL reaches IMDS; its response.
    fn record<'t>(
        &mut self,
        node: Node<'t>,
        client: Client,
        url: &str,
        method: Method,
        header: HeaderArg,
    ) -> Value {
        let Some(target) = endpoint::classify(url, &self.options.endpoints) else {
            return Value::Response { token: false };
        };
        let token_endpoint = target.is_token_path();
        let (token, ttl) = match &header.headers {
            Some(headers) => (token_use(headers), ttl_of(headers)),
            None => (TokenUse::Absent, Ttl::Missing),
        };
        let token = match (token, &header.unreadable) {
            (TokenUse::Absent, Some(what)) => TokenUse::Unreadable(what.clone()),
            (token, _) => token,
        };
        let ttl = match (ttl, &header.unreadable) {
            (Ttl::Missing, Some(_)) => Ttl::Unknown,
            (ttl, _) => ttl,
        };
        let is_put = method == Method::Put;
        let site = match header.built {
            Some(site) => site,
            None => self.fix_site(node, header.site),
        };
        if let Some(conditional) = header.conditional {
            self.out
                .conditional
                .insert(self.out.requests.len(), conditional);
        }
        self.out.requests.push(Request {
            client,
            busybox: false,
            span: self.host_span(node),
            origin: target.origin.clone(),
            path: target.path.clone(),
            token_endpoint,
            method,
            token,
            ttl,
            misspelled: Vec::new(),
            calls: Vec::new(),
            site,
            in_container: false,
            run_by: self.fragment.run_by.clone(),
            wrapper: None,
        });
        Value::Response {
            token: token_endpoint && is_put,
        }
    }

    /// What a fix of a request made by the call at `node` needs: where text goes, the scope and
    /// blocks a fetch can go in, a token already held.
    fn fix_site(&self, node: Node, arguments: Option<ArgumentSite>) -> FixSite {
        let region = self.fragment.region_at(node.start_byte());
        let scope = self.frames.last().map(|f| f.scope);
        let reusable_token = self.frames.last().and_then(|f| {
            let mut names: Vec<&String> = f
                .vars
                .iter()
                .filter(|(_, v)| matches!(v, Value::Token))
                .map(|(k, _)| k)
                .collect();
            names.sort();
            names.first().map(|n| (*n).clone())
        });
        FixSite {
            after_client: self.to_host(node.start_byte()),
            quoting: if region.plain.is_some() {
                None
            } else {
                region.quoting
            },
            scope,
            plain: None,
            blocks: self.blocks(node),
            reusable_token,
            arguments,
            ..FixSite::default()
        }
    }

    /// boto 2's metadata functions: always tokenless, never fixed.
    fn boto_request<'t>(&mut self, node: Node<'t>, path: &str) {
        self.out.requests.push(Request {
            client: Client::Boto,
            busybox: false,
            span: self.host_span(node),
            origin: "http://169.254.169.254".to_owned(),
            path: path.to_owned(),
            token_endpoint: false,
            method: Method::Get,
            token: TokenUse::Absent,
            ttl: Ttl::Missing,
            misspelled: Vec::new(),
            calls: Vec::new(),
            site: FixSite::default(),
            in_container: false,
            run_by: self.fragment.run_by.clone(),
            wrapper: None,
        });
    }

    /// Where a token fetch serving the request at `node` can go: before the statement holding it
    /// in a `while` body, its function's body, or the module, innermost first.
    fn blocks(&self, node: Node) -> Vec<BlockAnchor> {
        let mut out = Vec::new();
        let mut child = node;
        while let Some(parent) = child.parent() {
            let kind = match (parent.kind(), parent.parent().map(|o| o.kind())) {
                ("module", _) => Some(BlockKind::Script),
                ("block", Some("function_definition")) => Some(BlockKind::Function),
                ("block", Some("while_statement")) => Some(BlockKind::Loop),
                _ => None,
            };
            if let Some(kind) = kind {
                out.push(self.anchor(parent, child, kind));
                if kind != BlockKind::Loop {
                    break;
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

    /// A call that runs shell code: its string (with `shell=True` where the call needs it) or its
    /// argv list, handed to the shell analysis as a fragment.
    fn shell_call<'t>(&mut self, args: &CallArgs<'t>, always: bool) {
        let Some(command) = args
            .get("args", 0)
            .or_else(|| args.keyword("cmd"))
            .or_else(|| args.keyword("command"))
        else {
            return;
        };
        let shell = always
            || args
                .keyword("shell")
                .is_some_and(|s| self.node_text(s) == "True");
        match command.kind() {
            "string" if shell => self.shell_string(command),
            "list" | "tuple" if !always => self.shell_argv(command),
            "identifier" => {
                if let Some(Value::Str(s)) = self.lookup(self.node_text(command)).cloned() {
                    if may_reach_imds(&s) {
                        self.out.notes.push((
                            self.host_span(command),
                            "shell code held in a variable is not analysed".to_owned(),
                        ));
                    }
                }
            }
            _ => {
                if may_reach_imds(self.node_text(command)) {
                    self.out.notes.push((
                        self.host_span(command),
                        "shell code built from Python values is not analysed".to_owned(),
                    ));
                }
            }
        }
    }

    fn shell_string(&mut self, literal: Node) {
        let raw = self.text.get(literal.byte_range()).unwrap_or_default();
        let Some(how) = python_string::literal(raw) else {
            return;
        };
        let Some((decoded, anchors)) = python_string::decode(raw, literal.start_byte()) else {
            if may_reach_imds(self.node_text(literal)) {
                self.out.notes.push((
                    self.host_span(literal),
                    "shell code in an f-string (or with `\\N{…}`) is not analysed".to_owned(),
                ));
            }
            return;
        };
        let region = self.fragment.region_at(literal.start_byte());
        let quoting = match region.quoting {
            Some(mut layers) if !how.raw && region.plain.is_none() => {
                layers.push(Quoting::PythonString {
                    quote: how.quote as char,
                    triple: how.triple,
                });
                Some(layers)
            }
            _ => None,
        };
        self.nested(
            decoded,
            anchors,
            InsertRegion {
                start: 0,
                quoting,
                plain: None,
            },
        );
    }

    /// `["curl", "-s", url]`: the command as one line of shell words, each quoted, mapped to its
    /// item; not editable in place.
    fn shell_argv(&mut self, list: Node) {
        let mut cursor = list.walk();
        let items: Vec<Node> = list.named_children(&mut cursor).collect();
        let mut out = String::new();
        let mut anchors: Vec<(usize, usize)> = Vec::new();
        for (k, item) in items.iter().enumerate() {
            let (start, end) = (item.start_byte(), item.end_byte());
            let raw = self.text.get(item.byte_range()).unwrap_or_default();
            let (value, item_anchors) = match item.kind() {
                "string" => match python_string::decode(raw, start) {
                    Some(d) => (d.0, Some(d.1)),
                    None => return,
                },
                "identifier" => match self.lookup(self.node_text(*item)) {
                    Some(Value::Str(s)) if !s.contains(UNKNOWN) => (s.clone(), None),
                    _ => (UNKNOWN.to_string(), None),
                },
                _ => (UNKNOWN.to_string(), None),
            };
            if value.contains('\'') {
                return;
            }
            // An unknown item is a word the shell analysis cannot read.
            let value = value.replace(UNKNOWN, "$IMDS_LINT_UNKNOWN");
            if k > 0 {
                anchors.push((out.len(), start));
                out.push(' ');
            }
            anchors.push((out.len(), start));
            out.push('\'');
            match item_anchors {
                Some(a) if !value.contains('$') => {
                    let base = out.len();
                    anchors.extend(a.into_iter().map(|(f, o)| (base + f, o)));
                    out.push_str(&value);
                }
                _ => push_decoded(&mut out, &mut anchors, &value, start, end),
            }
            anchors.push((out.len(), end.saturating_sub(1)));
            out.push('\'');
        }
        self.nested(out, anchors, InsertRegion::none());
    }

    fn nested(&mut self, text: String, anchors: Vec<(usize, usize)>, region: InsertRegion) {
        if !may_reach_imds(&text) {
            return;
        }
        let map = self.fragment.map.compose(&OffsetMap::from_anchors(anchors));
        self.out.nested.push(Fragment {
            text: text.into_bytes(),
            language: Language::Shell,
            map,
            host: self.fragment.host,
            insert: vec![region],
            script: false,
            environment: Vec::new(),
            in_container: self.fragment.in_container,
            busybox: self.fragment.busybox,
            run_by: self.fragment.run_by.clone(),
        });
    }
}

/// Whether text names an endpoint spelling (what the prefilter looks for).
fn may_reach_imds(text: &str) -> bool {
    endpoint::names_endpoint(text.as_bytes())
}

fn token_use(headers: &Headers) -> TokenUse {
    match headers.get(TOKEN_HEADER) {
        Some(HeaderValue::Variable(name, bound)) => TokenUse::Variables(vec![TokenVariable {
            name: name.clone(),
            from_token_request: *bound,
        }]),
        Some(HeaderValue::Str(_) | HeaderValue::Other) => TokenUse::Inline,
        None if headers.entries.iter().any(|(k, _)| k.is_none()) => {
            TokenUse::Unreadable("a header whose name cannot be read".to_owned())
        }
        None => match &headers.unreadable {
            Some(what) => TokenUse::Unreadable(what.clone()),
            None => TokenUse::Absent,
        },
    }
}

fn ttl_of(headers: &Headers) -> Ttl {
    match headers.get(TTL_HEADER) {
        Some(HeaderValue::Str(value)) => match value.trim().parse::<u32>() {
            Ok(n) if (1..=21600).contains(&n) => Ttl::Valid(n),
            _ => Ttl::Invalid(value.clone()),
        },
        Some(_) => Ttl::Unknown,
        None if headers.unreadable.is_some() => Ttl::Unknown,
        None => Ttl::Missing,
    }
}
