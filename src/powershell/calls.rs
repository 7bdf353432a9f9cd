//! The calls the PowerShell analysis knows: `Invoke-RestMethod`/`Invoke-WebRequest` and their
//! aliases with their parameters (any unambiguous prefix), `System.Net.WebClient` and its
//! methods, read into requests (`record`) when they reach IMDS; a command's arguments as the
//! grammar separates them, each read as PowerShell reads a bare word.

use tree_sitter::Node;

use super::{has_error_ancestor, text, unwrap, Analyzer, Headers, Value};
use crate::model::request::{ArgumentSite, Client, FixSite, Method, Request, TokenUse, Ttl};
use crate::shell::endpoint::{self, UNKNOWN};

/// One argument of a command: its nodes (between two separators) and its text.
struct Arg<'t> {
    nodes: Vec<Node<'t>>,
    start: usize,
    end: usize,
}

/// The parameters of `Invoke-RestMethod`/`Invoke-WebRequest` that take no value.
const SWITCHES: &[&str] = &[
    "usebasicparsing",
    "passthru",
    "usedefaultcredentials",
    "disablekeepalive",
    "skipcertificatecheck",
    "skipheadervalidation",
    "noproxy",
    "resume",
    "allowunencryptedauthentication",
    "preserveauthorizationonredirect",
    "skiphttperrorcheck",
    "proxyusedefaultcredentials",
    "allowinsecureredirect",
    "preservehttpmethodonredirect",
    "verbose",
    "debug",
];

/// The parameters this analysis reads, and the others that take a value.
const VALUED: &[&str] = &[
    "uri",
    "method",
    "headers",
    "body",
    "contenttype",
    "timeoutsec",
    "outfile",
    "websession",
    "sessionvariable",
    "useragent",
    "credential",
    "proxy",
    "proxycredential",
    "maximumredirection",
    "maximumretrycount",
    "retryintervalsec",
    "transferencoding",
    "infile",
    "certificate",
    "certificatethumbprint",
    "custommethod",
    "erroraction",
    "errorvariable",
    "outvariable",
    "responseheaderStatuscodevariable",
    "statuscodevariable",
    "responseheadersvariable",
    "authentication",
    "token",
    "form",
    "sslprotocol",
    "httpversion",
    "connectiontimeoutseconds",
    "operationtimeoutseconds",
];

/// The full name a parameter as written stands for (PowerShell takes any unambiguous prefix).
fn parameter(written: &str) -> Option<&'static str> {
    let lower = written.to_ascii_lowercase();
    let all = || SWITCHES.iter().chain(VALUED.iter());
    if let Some(exact) = all().find(|p| p.eq_ignore_ascii_case(&lower)) {
        return Some(exact);
    }
    // Aliases.
    match lower.as_str() {
        "url" => return Some("uri"),
        "ea" => return Some("erroraction"),
        "ev" => return Some("errorvariable"),
        "ov" => return Some("outvariable"),
        "ttl" | "timeout" => return Some("timeoutsec"),
        _ => {}
    }
    let mut matches = all().filter(|p| p.to_ascii_lowercase().starts_with(&lower));
    let first = matches.next()?;
    matches.next().is_none().then_some(*first)
}

fn is_switch(name: &str) -> bool {
    SWITCHES.contains(&name)
}

/// The client a command name runs, if it makes web requests.
fn command_client(name: &str) -> Option<Client> {
    match name.to_ascii_lowercase().as_str() {
        "invoke-restmethod" | "irm" | "microsoft.powershell.utility\\invoke-restmethod" => {
            Some(Client::InvokeRestMethod)
        }
        "invoke-webrequest"
        | "iwr"
        | "curl"
        | "wget"
        | "microsoft.powershell.utility\\invoke-webrequest" => Some(Client::InvokeWebRequest),
        _ => None,
    }
}

/// The `WebClient` methods that make a request: their URL argument, and where the method is.
fn web_client_method(name: &str) -> Option<WebMethod> {
    match name.to_ascii_lowercase().as_str() {
        "downloadstring"
        | "downloaddata"
        | "downloadfile"
        | "openread"
        | "downloadstringasync"
        | "downloaddataasync"
        | "downloadfileasync"
        | "openreadasync"
        | "downloadstringtaskasync"
        | "downloaddatataskasync"
        | "downloadfiletaskasync"
        | "openreadtaskasync" => Some(WebMethod::Get),
        "uploadstring"
        | "uploaddata"
        | "uploadstringtaskasync"
        | "uploaddatataskasync"
        | "uploadstringasync"
        | "uploaddataasync" => Some(WebMethod::Upload),
        _ => None,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum WebMethod {
    Get,
    /// `UploadString(url, data)` posts; `UploadString(url, method, data)` names its method.
    Upload,
}

impl<'a> Analyzer<'a> {
    /// A command's arguments, split at the grammar's separators.
    fn arguments<'t>(&self, command: Node<'t>) -> Vec<Arg<'t>> {
        let mut args: Vec<Arg<'t>> = Vec::new();
        let Some(elements) = command.child_by_field_name("command_elements") else {
            return args;
        };
        let mut current: Vec<Node<'t>> = Vec::new();
        let mut cursor = elements.walk();
        let push = |current: &mut Vec<Node<'t>>, args: &mut Vec<Arg<'t>>| {
            if let (Some(first), Some(last)) = (current.first(), current.last()) {
                args.push(Arg {
                    start: first.start_byte(),
                    end: last.end_byte(),
                    nodes: std::mem::take(current),
                });
            }
        };
        for child in elements.children(&mut cursor) {
            match child.kind() {
                "command_argument_sep" => push(&mut current, &mut args),
                "comment" => {}
                // A parameter starts an argument of its own even when the grammar put no
                // separator before it (`$base/latest/meta-data/ami-id` read as `… -id`).
                "command_parameter"
                    if current
                        .last()
                        .is_some_and(|l| l.end_byte() < child.start_byte()) =>
                {
                    push(&mut current, &mut args);
                    current.push(child);
                }
                _ => current.push(child),
            }
        }
        push(&mut current, &mut args);
        args
    }

    /// The value of one argument: through the tree where it is one expression the grammar read,
    /// else as PowerShell reads a bare word.
    fn argument_value(&mut self, arg: &Arg) -> Value {
        match arg.nodes.as_slice() {
            [only] if !only.has_error() && only.kind() != "generic_token" => self.eval(*only),
            _ => {
                for node in &arg.nodes {
                    self.walk_unevaluated(*node, 0);
                }
                let raw = self.range_text(arg.start, arg.end);
                Value::Str(text::expand(raw, &|name| match self.lookup(name) {
                    Some(Value::Str(s)) => Some(s.clone()),
                    _ => None,
                }))
            }
        }
    }

    /// A command: a web request, or `New-Object System.Net.WebClient`.
    pub(super) fn command(&mut self, node: Node) -> Value {
        let Some(name_node) = node.child_by_field_name("command_name") else {
            self.walk_unevaluated_children(node);
            return Value::Unknown;
        };
        let name = self.node_text(name_node);
        let args = self.arguments(node);
        if name.eq_ignore_ascii_case("new-object") {
            let names_webclient = args.iter().any(|a| {
                let t = self.range_text(a.start, a.end).trim_matches(['"', '\'']);
                t.eq_ignore_ascii_case("system.net.webclient")
                    || t.eq_ignore_ascii_case("net.webclient")
            });
            return if names_webclient {
                Value::WebClient(Headers::default())
            } else {
                Value::Unknown
            };
        }
        let Some(client) = command_client(name) else {
            // Code this analysis does not read: a string run by `Invoke-Expression`, a program
            // (curl.exe, wget.exe, cmd, another shell) given the endpoint.
            let lower = name.to_ascii_lowercase();
            let program = lower.rsplit(['\\', '/']).next().unwrap_or(&lower);
            let runs_code = matches!(
                program,
                "invoke-expression"
                    | "iex"
                    | "curl.exe"
                    | "wget.exe"
                    | "cmd"
                    | "cmd.exe"
                    | "bash"
                    | "sh"
                    | "powershell"
                    | "powershell.exe"
                    | "pwsh"
                    | "pwsh.exe"
                    | "start-process"
            );
            let args_text = args
                .first()
                .zip(args.last())
                .map_or("", |(f, l)| self.range_text(f.start, l.end));
            if runs_code && text::mentions_endpoint(args_text, &self.options.endpoints) {
                self.out.notes.push((
                    self.host_span(node.start_byte(), node.end_byte()),
                    format!(
                        "`{name}` runs code that names the metadata endpoint; that code was not analysed"
                    ),
                ));
            }
            for arg in &args {
                for n in &arg.nodes {
                    self.walk_unevaluated(*n, 0);
                }
            }
            return Value::Unknown;
        };
        let mut url: Option<String> = None;
        let mut method = Method::Get;
        let mut method_word = None;
        let mut headers: Option<Headers> = None;
        let mut unreadable: Option<String> = None;
        let mut merge: Option<ArgumentSite> = None;
        let mut has_headers = false;
        let mut ttl_word = None;
        let mut index = 0;
        while let Some(arg) = args.get(index) {
            index += 1;
            let first = arg.nodes.first().copied();
            let raw = self.range_text(arg.start, arg.end).trim();
            let splat = raw.starts_with('@')
                && !matches!(raw.as_bytes().get(1), Some(b'{' | b'(' | b'"' | b'\''));
            if splat {
                unreadable.get_or_insert_with(|| format!("the splatted `{raw}`"));
                continue;
            }
            let is_param =
                first.is_some_and(|f| f.kind() == "command_parameter") && arg.nodes.len() == 1;
            if !is_param {
                if url.is_none() {
                    url = Some(match self.argument_value(arg) {
                        Value::Str(s) => s,
                        _ => UNKNOWN.to_string(),
                    });
                } else {
                    self.argument_value(arg);
                }
                continue;
            }
            let written = raw.trim_start_matches('-').trim_end_matches(':');
            let Some(param) = parameter(written) else {
                continue;
            };
            if is_switch(param) {
                continue;
            }
            let Some(value_arg) = args.get(index) else {
                break;
            };
            index += 1;
            match param {
                "uri" => {
                    url = Some(match self.argument_value(value_arg) {
                        Value::Str(s) => s,
                        _ => UNKNOWN.to_string(),
                    })
                }
                "method" | "custommethod" => {
                    let value = self.argument_value(value_arg);
                    method = match value {
                        Value::Str(s) if !s.contains(UNKNOWN) => {
                            match s.to_ascii_uppercase().as_str() {
                                "PUT" => Method::Put,
                                "GET" => Method::Get,
                                other => Method::Other(other.to_owned()),
                            }
                        }
                        _ => Method::Unknown,
                    };
                    method_word = Some((
                        self.host_span(value_arg.start, value_arg.end),
                        self.range_text(value_arg.start, value_arg.end).to_owned(),
                    ));
                }
                "headers" => {
                    has_headers = true;
                    let table = value_arg.nodes.first().map(|n| unwrap(*n)).filter(|n| {
                        n.kind() == "hash_literal_expression" && value_arg.nodes.len() == 1
                    });
                    match self.argument_value(value_arg) {
                        Value::Table(h) => {
                            if let Some(table) = table {
                                merge = Some(self.merge_site(table));
                                ttl_word = h.ttl_word;
                            }
                            headers = Some(h);
                        }
                        _ => {
                            unreadable.get_or_insert_with(|| {
                                format!(
                                    "`-Headers {raw_value}`",
                                    raw_value = self.range_text(value_arg.start, value_arg.end)
                                )
                            });
                        }
                    }
                }
                "websession" => {
                    unreadable.get_or_insert_with(|| "the headers of `-WebSession`".to_owned());
                }
                _ => {
                    self.argument_value(value_arg);
                }
            }
        }
        // `curl`/`wget` are `Invoke-WebRequest` only in Windows PowerShell 5.1: PowerShell 7
        // runs curl and wget for them, which take no `-Headers`, so no fix writes one.
        let alias_of_program = matches!(name.to_ascii_lowercase().as_str(), "curl" | "wget");
        let site = if alias_of_program {
            None
        } else if has_headers {
            merge
        } else if unreadable.is_none() {
            Some(ArgumentSite::Add {
                at: self.to_host(name_node.end_byte()),
                comma: false,
            })
        } else {
            None
        };
        let url = url.unwrap_or_else(|| UNKNOWN.to_string());
        let recorded = self.record(
            node,
            name_node.end_byte(),
            client,
            &url,
            method,
            headers,
            unreadable,
            site,
            None,
        );
        let ttl_word = ttl_word.map(|(start, end)| {
            (
                self.host_span(start, end),
                self.range_text(start, end).to_owned(),
            )
        });
        if let Some(request) = recorded.and_then(|i| self.out.requests.get_mut(i)) {
            request.site.method_word = method_word;
            request.site.ttl_word = ttl_word;
        }
        match recorded.and_then(|i| self.out.requests.get(i)) {
            Some(r) if r.token_endpoint && r.is_put() => match client {
                Client::InvokeRestMethod => Value::Token,
                _ => Value::Response { token: true },
            },
            Some(_) => Value::Response { token: false },
            None => Value::Unknown,
        }
    }

    fn walk_unevaluated_children(&mut self, node: Node) {
        let mut cursor = node.walk();
        let children: Vec<Node> = node.children(&mut cursor).collect();
        for child in children {
            self.walk_unevaluated(child, 0);
        }
    }

    /// Where an entry goes in a hashtable literal: before its first entry, or inside `@{}`.
    fn merge_site(&self, table: Node) -> ArgumentSite {
        let mut stack = vec![table];
        let mut first: Option<Node> = None;
        while let Some(n) = stack.pop() {
            if n.kind() == "hash_entry" && first.is_none_or(|f| n.start_byte() < f.start_byte()) {
                first = Some(n);
                continue;
            }
            let mut cursor = n.walk();
            stack.extend(n.named_children(&mut cursor));
        }
        match first {
            Some(entry) => ArgumentSite::Merge {
                at: self.to_host(entry.start_byte()),
                empty: false,
            },
            None => ArgumentSite::Merge {
                at: self.to_host(table.start_byte() + 2),
                empty: true,
            },
        }
    }

    /// A method call: `$wc.DownloadString(url)`, `$wc.Headers.Add(name, value)`,
    /// `[System.Net.WebClient]::new()`.
    pub(super) fn invocation(&mut self, node: Node) -> Value {
        let mut cursor = node.walk();
        let named: Vec<Node> = node.named_children(&mut cursor).collect();
        let (Some(object), Some(member), Some(list)) = (
            named.first().copied(),
            named.iter().find(|n| n.kind() == "member_name").copied(),
            named.iter().find(|n| n.kind() == "argument_list").copied(),
        ) else {
            self.walk_unevaluated_children(node);
            return Value::Unknown;
        };
        let method = self.node_text(member).to_ascii_lowercase();
        let mut arguments: Vec<Node> = Vec::new();
        let mut stack = vec![list];
        while let Some(n) = stack.pop() {
            if n.kind() == "argument_expression" {
                arguments.push(n);
                continue;
            }
            let mut c = n.walk();
            stack.extend(n.named_children(&mut c));
        }
        arguments.sort_by_key(|n| n.start_byte());
        if object.kind() == "type_literal" {
            let type_name = self.node_text(object).to_ascii_lowercase();
            let is_webclient = matches!(
                type_name.as_str(),
                "[system.net.webclient]" | "[net.webclient]"
            );
            return if is_webclient && method == "new" {
                Value::WebClient(Headers::default())
            } else {
                for a in arguments {
                    self.eval(a);
                }
                Value::Unknown
            };
        }
        // `$wc.Headers.Add(name, value)`.
        if method == "add" && object.kind() == "member_access" {
            let (Some(var), Some(m)) = (object.named_child(0), object.named_child(1)) else {
                return Value::Unknown;
            };
            if var.kind() == "variable" && self.node_text(m).eq_ignore_ascii_case("headers") {
                let name = self.node_text(var);
                if let (Some(Value::WebClient(mut headers)), [key, value]) =
                    (self.lookup(name).cloned(), arguments.as_slice())
                {
                    let key = match self.eval(*key) {
                        Value::Str(s) if !s.contains(UNKNOWN) => Some(s.to_ascii_lowercase()),
                        _ => None,
                    };
                    let value = self.header_value(*value);
                    headers.entries.push((key, value));
                    self.bind(name, Value::WebClient(headers));
                    return Value::Unknown;
                }
            }
        }
        let object_value = self.eval(object);
        let values: Vec<Value> = arguments.iter().map(|a| self.eval(*a)).collect();
        let Value::WebClient(headers) = object_value else {
            return Value::Unknown;
        };
        let Some(kind) = web_client_method(&method) else {
            return Value::Unknown;
        };
        let url = match values.first() {
            Some(Value::Str(s)) => s.clone(),
            _ => UNKNOWN.to_string(),
        };
        let method = match (kind, values.len()) {
            (WebMethod::Get, _) => Method::Get,
            (WebMethod::Upload, 3) => match values.get(1) {
                Some(Value::Str(s)) if !s.contains(UNKNOWN) => {
                    match s.to_ascii_uppercase().as_str() {
                        "PUT" => Method::Put,
                        "GET" => Method::Get,
                        other => Method::Other(other.to_owned()),
                    }
                }
                _ => Method::Unknown,
            },
            (WebMethod::Upload, _) => Method::Other("POST".to_owned()),
        };
        let receiver = (object.kind() == "variable").then(|| self.node_text(object).to_owned());
        let recorded = self.record(
            node,
            node.start_byte(),
            Client::WebClient,
            &url,
            method,
            Some(headers),
            None,
            None,
            receiver,
        );
        match recorded.and_then(|i| self.out.requests.get(i)) {
            Some(r) if r.token_endpoint && r.is_put() => Value::Token,
            _ => Value::Unknown,
        }
    }

    /// Records a request if its URL reaches IMDS; its index.
    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        node: Node,
        after_client: usize,
        client: Client,
        url: &str,
        method: Method,
        headers: Option<Headers>,
        unreadable: Option<String>,
        arguments: Option<ArgumentSite>,
        receiver: Option<String>,
    ) -> Option<usize> {
        if self.lexical.iter().any(|r| r.contains(&node.start_byte())) {
            return None;
        }
        let target = endpoint::classify(url, &self.options.endpoints)?;
        let token_endpoint = target.is_token_path();
        let (token, ttl) = match &headers {
            Some(h) => (h.token_use(), h.ttl()),
            None => (TokenUse::Absent, Ttl::Missing),
        };
        let token = match (token, &unreadable) {
            (TokenUse::Absent, Some(what)) => TokenUse::Unreadable(what.clone()),
            (token, _) => token,
        };
        let ttl = match (ttl, &unreadable) {
            (Ttl::Missing, Some(_)) => Ttl::Unknown,
            (ttl, _) => ttl,
        };
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
            names
                .first()
                .map(|n| f.names.get(*n).cloned().unwrap_or_else(|| (*n).clone()))
        });
        let in_error = has_error_ancestor(node);
        let site = FixSite {
            after_client: self.to_host(after_client),
            quoting: if region.plain.is_some() || in_error {
                None
            } else {
                region.quoting
            },
            scope: if self.fragment.script { scope } else { None },
            blocks: self.blocks(node),
            reusable_token,
            arguments,
            receiver,
            ..FixSite::default()
        };
        self.out.requests.push(Request {
            client,
            busybox: false,
            span: self.host_span(node.start_byte(), node.end_byte()),
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
        Some(self.out.requests.len() - 1)
    }
}
