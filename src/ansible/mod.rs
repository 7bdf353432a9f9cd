//! The analysis of Ansible's HTTP modules: `uri` and `get_url` tasks (short and FQCN forms)
//! whose `url` reaches the metadata service, as requests of the request model, with the token
//! flow between tasks (a token request's `register:` read back in a later task's `headers:`
//! through Jinja) and where a fix writes a token task and a header.
//!
//! The fragment is a whole Ansible host (a playbook or a task file), given by
//! `crate::frontend::ansible` when one of its HTTP tasks names the metadata address; it is parsed
//! again here and walked in the order Ansible runs it: a play's `pre_tasks`, `tasks`,
//! `post_tasks`, then its `handlers`, blocks in place.
//!
//! - `url:` is the request (a `{{ item }}` URL with `loop:`/`with_items:` over literal URLs is one
//!   request per item); other Jinja in it is an unknown part. `method:` (uri only; `get_url`
//!   always GETs), `headers:` as a mapping (a string or Jinja there cannot be read).
//! - A token: `X-aws-ec2-metadata-token` in `headers:` whose value is Jinja naming a variable
//!   registered earlier by a token request (a `uri`/`get_url` task to `/latest/api/token`, a
//!   `shell`/`command` task whose line names it, or a `set_fact` copied from one). A variable this
//!   file does not register, or a literal value, is a token from elsewhere: not flagged.
//! - Where a fix writes: the task the request is in (its line, at the top of its play's task
//!   list, blocks included), whom it is delegated to, and where a header goes.

use tree_sitter::Node;

use crate::fragment::{Fragment, HostOffset, HostSpan};
use crate::frontend::{ansible, yaml};
use crate::model::request::{Client, FixSite, Method, Request, TokenUse, TokenVariable, Ttl};
use crate::model::Note;
use crate::shell::endpoint::{self, UNKNOWN};
use crate::shell::Options;

const TOKEN_HEADER: &str = "x-aws-ec2-metadata-token";
const TTL_HEADER: &str = "x-aws-ec2-metadata-token-ttl-seconds";

/// What the analysis of an Ansible host found.
#[derive(Debug, Default)]
pub struct Analysis {
    pub requests: Vec<Request>,
    /// For each request (same index), where a fix writes; `None` where it cannot.
    pub sites: Vec<Option<Site>>,
    /// For each request (same index), where `method: PUT` and a TTL header go.
    pub repairs: Vec<Repair>,
    /// Variable names the host registers or sets, which an inserted token task must not take.
    pub taken: Vec<String>,
    pub syntax_errors: bool,
    /// The host could not be parsed: nothing of it was analysed.
    pub error: Option<Note>,
    pub notes: Vec<(HostSpan, String)>,
}

/// Where a fix of one request writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// One token task serves the requests of one play (or task file) delegated to one host: the
    /// play's start and the `delegate_to:` value as written.
    pub group: (usize, Option<String>),
    /// When the task runs among the play's: its list (`pre_tasks` 0, `tasks` 1, `post_tasks` 2)
    /// and its offset.
    pub order: (usize, usize),
    /// The top-level task of its list that holds the request (itself, or the block it is in):
    /// a token task goes on the line before it.
    pub task: TaskLine,
    /// Whether the module was named with its collection (`ansible.builtin.uri`): the token task
    /// is written the same way.
    pub fqcn: bool,
    /// Where the token header goes.
    pub header: HeaderSite,
    /// Why sending a token may change what the task does (it checks the answer's status).
    pub unsafe_because: Option<String>,
}

/// The line of a task in a block sequence: where it starts, the blanks before its `-`, its line
/// ending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskLine {
    pub line_start: HostOffset,
    pub indent: String,
    pub eol: &'static str,
}

/// Where a token request's method and TTL header are written (IMDS002, IMDS003).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Repair {
    /// The `method:` value to replace with `PUT`, or where a `method:` key goes (`NewKey`,
    /// `NewFlowKey`); `None` for `get_url`, which cannot PUT, and where it cannot be written.
    pub method: Option<KeySite>,
    /// The TTL header's value to replace, or where the header goes.
    pub ttl: Option<KeySite>,
    /// The line ending of the module's line.
    pub eol: &'static str,
}

/// A value to replace, or a place for a new entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySite {
    Replace(HostSpan),
    Insert(HeaderSite),
}

/// Where a token header is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderSite {
    /// A line of its own at `at` in the block mapping of `headers:`, with its keys' indentation.
    Line { at: HostOffset, indent: String },
    /// Into the flow mapping of `headers:` right after its `{` (`empty`: it has no entry).
    Flow { at: HostOffset, empty: bool },
    /// A new `headers:` key on lines of their own at `at` in the block mapping that holds `url:`.
    NewKey { at: HostOffset, indent: String },
    /// A new `headers:` entry right after the `{` of the flow mapping that holds `url:`.
    NewFlowKey { at: HostOffset },
}

/// Analyses one Ansible host as a run configured with `options` would.
pub fn analyze_with(fragment: &Fragment, options: &Options) -> Analysis {
    let bytes = &fragment.text;
    let mut analyzer = Analyzer {
        bytes,
        options,
        tokens: Vec::new(),
        out: Analysis::default(),
    };
    let read = yaml::read_documents(bytes, |tree| {
        if tree.root_node().has_error() {
            analyzer.out.syntax_errors = true;
            return;
        }
        for document in yaml::documents(tree) {
            if ansible::is_ansible(document, bytes) {
                analyzer.document(document);
            }
        }
    });
    if let Err(why) = read {
        analyzer.out = Analysis {
            error: Some(Note::skipped(format!("the Ansible host: {why}"))),
            ..Analysis::default()
        };
    }
    analyzer.out
}

/// Where a task is, for its requests' sites.
#[derive(Clone, Copy)]
struct Place<'t> {
    play: usize,
    list: usize,
    /// The top-level task of its list; `None` in handlers, which run only when notified (no
    /// token task can go before them).
    top: Option<Node<'t>>,
}

struct Analyzer<'a> {
    bytes: &'a [u8],
    options: &'a Options,
    /// Variables that hold a token request's answer (registered or set earlier).
    tokens: Vec<String>,
    out: Analysis,
}

impl<'a> Analyzer<'a> {
    fn document(&mut self, document: Node) {
        let bytes = self.bytes;
        for item in yaml::items(document, bytes) {
            if ansible::is_play(item, bytes) {
                for (list, key) in ansible::PLAY_TASK_LISTS.iter().enumerate() {
                    let Some(tasks) = yaml::get(item, bytes, key) else {
                        continue;
                    };
                    for task in yaml::items(tasks, bytes) {
                        let top = (*key != "handlers").then_some(task);
                        let place = Place {
                            play: item.start_byte(),
                            list,
                            top,
                        };
                        self.task(task, place, 0);
                    }
                }
            } else {
                let place = Place {
                    play: document.start_byte(),
                    list: 1,
                    top: Some(item),
                };
                self.task(item, place, 0);
            }
        }
    }

    fn task(&mut self, item: Node, place: Place, depth: usize) {
        let bytes = self.bytes;
        if !yaml::is_mapping(item, bytes) || depth > ansible::MAX_DEPTH {
            return;
        }
        let pairs = yaml::pairs(item, bytes);
        let register =
            yaml::get(item, bytes, "register").and_then(|r| yaml::scalar_string(r, bytes));
        if let Some(name) = &register {
            self.out.taken.push(name.clone());
        }
        let mut token_request = false;
        for (key, key_node, value) in &pairs {
            if ansible::BLOCK_LISTS.contains(&key.as_str()) {
                for inner in yaml::items(*value, bytes) {
                    self.task(inner, place, depth + 1);
                }
                continue;
            }
            let module = ansible::module_name(key);
            match module {
                "uri" | "get_url" => {
                    token_request |= self.http(item, *key_node, *value, module, place);
                }
                "shell" | "command" | "raw" => {
                    let text = yaml::text(*value, bytes);
                    token_request |= memchr::memmem::find(text, b"/latest/api/token").is_some();
                }
                "set_fact" => {
                    for (name, _, fact) in yaml::pairs(*value, bytes) {
                        self.out.taken.push(name.clone());
                        let refers = yaml::scalar_string(fact, bytes)
                            .and_then(|v| jinja_variable(&v))
                            .is_some_and(|v| self.tokens.contains(&v));
                        if refers {
                            self.tokens.push(name);
                        }
                    }
                }
                _ => {}
            }
        }
        if let (true, Some(name)) = (token_request, register) {
            self.tokens.push(name);
        }
    }

    /// Records the requests of one `uri`/`get_url` task; whether one is a token request.
    fn http(&mut self, task: Node, key: Node, value: Node, module: &str, place: Place) -> bool {
        let bytes = self.bytes;
        let args = yaml::get(task, bytes, "args").filter(|a| yaml::is_mapping(*a, bytes));
        let option = |name: &str| {
            yaml::get(value, bytes, name)
                .map(|v| (value, v))
                .or_else(|| args.and_then(|a| yaml::get(a, bytes, name).map(|v| (a, v))))
        };
        let client = if module == "uri" {
            Client::AnsibleUri
        } else {
            Client::AnsibleGetUrl
        };
        let task_span = HostSpan::new(key.start_byte(), value.end_byte().max(key.end_byte()));
        // The URLs, each with the span its findings are reported at.
        let mut urls: Vec<(String, HostSpan)> = Vec::new();
        let free_form = yaml::scalar_string(value, bytes).filter(|s| !s.trim().is_empty());
        let mut url_holder = None;
        if let Some(line) = &free_form {
            // `get_url: url=… dest=…`: key=value words, not fixed in place.
            if let Some(url) = line.split_whitespace().find_map(|w| w.strip_prefix("url=")) {
                urls.push((unjinja(url.trim_matches(['"', '\''])), task_span));
            }
        } else if let Some((holder, url)) = option("url") {
            url_holder = Some(holder);
            let text = yaml::scalar_string(url, bytes).unwrap_or_default();
            match loop_items(task, bytes).filter(|_| is_item(&text)) {
                Some(items) => urls.extend(items),
                None => urls.push((unjinja(&text), task_span)),
            }
        }
        let method = if client == Client::AnsibleGetUrl {
            Method::Get
        } else {
            match option("method").and_then(|(_, m)| yaml::scalar_string(m, bytes)) {
                None => Method::Get,
                Some(m) if m.contains("{{") || m.contains("{%") => Method::Unknown,
                Some(m) => match m.trim().to_ascii_uppercase().as_str() {
                    "GET" => Method::Get,
                    "PUT" => Method::Put,
                    other => Method::Other(other.to_owned()),
                },
            }
        };
        let method_site = match (client, option("method")) {
            (Client::AnsibleGetUrl, _) => None,
            (_, Some((_, node))) => yaml::scalar(node, bytes)
                .filter(|m| !m.text.contains("{{") && !m.text.contains("{%"))
                .map(|m| KeySite::Replace(m.span)),
            (_, None) => url_holder
                .and_then(|h| new_key_site(h, bytes))
                .map(KeySite::Insert),
        };
        let headers = option("headers");
        let (token, ttl, header_site) = match headers {
            None => (
                TokenUse::Absent,
                Ttl::Missing,
                url_holder.and_then(|h| new_key_site(h, bytes)),
            ),
            Some((_, node)) if yaml::is_mapping(node, bytes) => {
                let (token, ttl) = self.read_headers(node);
                (token, ttl, header_site(node, bytes))
            }
            Some((_, node)) => {
                let text = yaml::scalar_string(node, bytes).unwrap_or_default();
                let lower = text.to_ascii_lowercase();
                let token = if lower.contains(TOKEN_HEADER) && !lower.contains(TTL_HEADER) {
                    TokenUse::Inline
                } else if text.contains("{{") || text.contains("{%") {
                    TokenUse::Unreadable(format!("the headers `{}`", text.trim()))
                } else {
                    TokenUse::Absent
                };
                let ttl = if lower.contains(TTL_HEADER) {
                    Ttl::Unknown
                } else {
                    Ttl::Missing
                };
                (token, ttl, None)
            }
        };
        let ttl_site = match (&ttl, headers) {
            (Ttl::Missing, _) => header_site.clone().map(KeySite::Insert),
            (Ttl::Invalid(_), Some((_, node))) => ttl_value(node, bytes).map(KeySite::Replace),
            _ => None,
        };
        let repair = Repair {
            method: method_site,
            ttl: ttl_site,
            eol: line_eol(bytes, key.start_byte()),
        };
        let site = place.top.zip(header_site).and_then(|(top, header)| {
            Some(Site {
                group: (
                    place.play,
                    yaml::get(task, bytes, "delegate_to")
                        .map(|d| String::from_utf8_lossy(yaml::text(d, bytes)).into_owned()),
                ),
                order: (place.list, top.start_byte()),
                task: task_line(top, bytes)?,
                fqcn: yaml::scalar_string(key, bytes).is_some_and(|k| k.contains('.')),
                header,
                unsafe_because: checks_status(task, value, bytes),
            })
        });
        let mut token_request = false;
        for (url, span) in urls {
            let Some(target) = endpoint::classify(&url, &self.options.endpoints) else {
                continue;
            };
            let token_endpoint = target.is_token_path();
            token_request |= token_endpoint;
            self.out.requests.push(Request {
                client,
                busybox: false,
                span,
                origin: target.origin.clone(),
                path: target.path.clone(),
                token_endpoint,
                method: method.clone(),
                token: token.clone(),
                ttl: ttl.clone(),
                misspelled: Vec::new(),
                calls: Vec::new(),
                site: FixSite {
                    after_client: span.start,
                    quoting: Some(Vec::new()),
                    ..FixSite::default()
                },
                in_container: false,
                run_by: Vec::new(),
                wrapper: None,
            });
            self.out.sites.push(site.clone());
            self.out.repairs.push(repair.clone());
        }
        token_request
    }

    /// The token and TTL headers of a `headers:` mapping.
    fn read_headers(&self, headers: Node) -> (TokenUse, Ttl) {
        let bytes = self.bytes;
        let mut token = TokenUse::Absent;
        let mut ttl = Ttl::Missing;
        for (name, _, value) in yaml::pairs(headers, bytes) {
            let name = name.trim().to_ascii_lowercase();
            let text = yaml::scalar_string(value, bytes).unwrap_or_default();
            if name == TOKEN_HEADER {
                token = match jinja_variable(&text) {
                    Some(variable) if self.tokens.contains(&variable) => {
                        TokenUse::Variables(vec![TokenVariable {
                            name: variable,
                            from_token_request: true,
                        }])
                    }
                    _ => TokenUse::Inline,
                };
            } else if name == TTL_HEADER {
                ttl = if text.contains("{{") || text.contains("{%") {
                    Ttl::Unknown
                } else {
                    match text.trim().parse::<u32>() {
                        Ok(n) if (1..=21600).contains(&n) => Ttl::Valid(n),
                        _ => Ttl::Invalid(text.trim().to_owned()),
                    }
                };
            } else if name.contains("{{") {
                if token == TokenUse::Absent {
                    token = TokenUse::Unreadable(format!("the header name `{name}`"));
                }
                if ttl == Ttl::Missing {
                    ttl = Ttl::Unknown;
                }
            }
        }
        (token, ttl)
    }
}

/// A URL with its Jinja expressions and statements as unknown parts.
fn unjinja(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    let mut rest = url;
    while let Some(open) = rest.find(['{']) {
        let (head, tail) = rest.split_at(open);
        out.push_str(head);
        let close = if tail.starts_with("{{") {
            tail.find("}}").map(|i| i + 2)
        } else if tail.starts_with("{%") {
            tail.find("%}").map(|i| i + 2)
        } else {
            Some(1)
        };
        match close {
            Some(1) => {
                out.push('{');
                rest = tail.get(1..).unwrap_or_default();
            }
            Some(end) => {
                out.push(UNKNOWN);
                rest = tail.get(end..).unwrap_or_default();
            }
            None => {
                out.push(UNKNOWN);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Whether a URL is the loop's item itself (`{{ item }}`).
fn is_item(url: &str) -> bool {
    let compact: String = url.chars().filter(|c| !c.is_whitespace()).collect();
    compact == "{{item}}"
}

/// The literal items of a task's `loop:` or `with_items:` list, each with its span.
fn loop_items(task: Node, bytes: &[u8]) -> Option<Vec<(String, HostSpan)>> {
    let list = yaml::get(task, bytes, "loop").or_else(|| yaml::get(task, bytes, "with_items"))?;
    if !yaml::is_sequence(list, bytes) {
        return None;
    }
    Some(
        yaml::items(list, bytes)
            .into_iter()
            .filter_map(|item| yaml::scalar(item, bytes))
            .map(|s| (unjinja(&s.text), s.span))
            .collect(),
    )
}

/// The first variable a Jinja expression names (`{{ tok.content }}` → `tok`).
fn jinja_variable(text: &str) -> Option<String> {
    let start = text.find("{{")? + 2;
    let expression = text.get(start..)?.trim_start();
    let name: String = expression
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty() && !name.starts_with(|c: char| c.is_ascii_digit())).then_some(name)
}

/// The unwrapped node and whether it is written in flow style (`{…}`).
fn is_flow(node: Node, bytes: &[u8]) -> bool {
    yaml::unwrap(node, bytes).0.kind() == "flow_mapping"
}

/// The value of the TTL header in a `headers:` mapping.
fn ttl_value(headers: Node, bytes: &[u8]) -> Option<HostSpan> {
    yaml::pairs(headers, bytes)
        .into_iter()
        .find(|(name, _, _)| name.trim().eq_ignore_ascii_case(TTL_HEADER))
        .and_then(|(_, _, value)| yaml::scalar(value, bytes))
        .map(|value| value.span)
}

/// The line ending of the line holding `at`.
fn line_eol(bytes: &[u8], at: usize) -> &'static str {
    let line_end = bytes
        .get(at..)
        .and_then(|rest| memchr::memchr(b'\n', rest))
        .map(|i| at + i);
    match line_end {
        Some(end) if end > 0 && bytes.get(end - 1) == Some(&b'\r') => "\r\n",
        _ => "\n",
    }
}

/// Where a header goes in an existing `headers:` mapping.
fn header_site(headers: Node, bytes: &[u8]) -> Option<HeaderSite> {
    let (map, _) = yaml::unwrap(headers, bytes);
    if is_flow(headers, bytes) {
        let at = map.start_byte() + 1;
        let empty = yaml::pairs(headers, bytes).is_empty();
        return Some(HeaderSite::Flow {
            at: HostOffset(at),
            empty,
        });
    }
    let (_, first_key, _) = yaml::pairs(headers, bytes).into_iter().next()?;
    let (at, indent) = own_line(first_key.start_byte(), bytes)?;
    Some(HeaderSite::Line {
        at: HostOffset(at),
        indent,
    })
}

/// Where a new `headers:` key goes in the mapping that holds `url:`.
fn new_key_site(holder: Node, bytes: &[u8]) -> Option<HeaderSite> {
    let (map, _) = yaml::unwrap(holder, bytes);
    if is_flow(holder, bytes) {
        return Some(HeaderSite::NewFlowKey {
            at: HostOffset(map.start_byte() + 1),
        });
    }
    let (_, first_key, _) = yaml::pairs(holder, bytes).into_iter().next()?;
    let (at, indent) = own_line(first_key.start_byte(), bytes)?;
    Some(HeaderSite::NewKey {
        at: HostOffset(at),
        indent,
    })
}

/// The start of the line holding `at` and its blanks, when only blanks precede `at` on it.
fn own_line(at: usize, bytes: &[u8]) -> Option<(usize, String)> {
    let before = bytes.get(..at)?;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let indent = bytes.get(line_start..at)?;
    indent
        .iter()
        .all(|&b| b == b' ')
        .then(|| (line_start, String::from_utf8_lossy(indent).into_owned()))
}

/// The line of a task item (`  - name: …`): only blanks, its `-` and blanks before the task.
fn task_line(task: Node, bytes: &[u8]) -> Option<TaskLine> {
    let at = task.start_byte();
    let before = bytes.get(..at)?;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let prefix = bytes.get(line_start..at)?;
    let dash = prefix.iter().position(|&b| b != b' ')?;
    let after = prefix.get(dash + 1..)?;
    if prefix.get(dash) != Some(&b'-') || after.is_empty() || !after.iter().all(|&b| b == b' ') {
        return None;
    }
    let line_end = memchr::memchr(b'\n', bytes.get(at..)?).map(|i| at + i);
    let eol = match line_end {
        Some(end) if end > 0 && bytes.get(end - 1) == Some(&b'\r') => "\r\n",
        _ => "\n",
    };
    Some(TaskLine {
        line_start: HostOffset(line_start),
        indent: " ".repeat(dash),
        eol,
    })
}

/// Why a token could change what a task does: it checks the answer's status for something other
/// than success (`status_code: 401`, a `failed_when`/`until` that reads the status), as a probe
/// of whether IMDSv1 answers does.
fn checks_status(task: Node, module: Node, bytes: &[u8]) -> Option<String> {
    if let Some(codes) = yaml::get(module, bytes, "status_code") {
        let text = String::from_utf8_lossy(yaml::text(codes, bytes)).into_owned();
        let only_ok = text
            .split(|c: char| !c.is_ascii_digit())
            .filter(|w| !w.is_empty())
            .all(|w| w.starts_with('2') || w.starts_with('3'));
        if !only_ok || text.contains("{{") {
            return Some(format!(
                "the task accepts the status codes `{}`, which a token changes",
                text.trim()
            ));
        }
    }
    for key in ["failed_when", "changed_when", "until"] {
        let Some(condition) = yaml::get(task, bytes, key) else {
            continue;
        };
        let text = yaml::text(condition, bytes);
        if memchr::memmem::find(text, b"status").is_some() {
            return Some(format!(
                "the task's `{key}` reads the answer's status, which a token changes"
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analyze(text: &str) -> Analysis {
        let mut fragment = Fragment::script(text.as_bytes());
        fragment.language = crate::fragment::Language::Ansible;
        analyze_with(&fragment, &Options::default())
    }

    #[test]
    fn reads_uri_requests_and_their_token() {
        let a = analyze(
            "- hosts: all\n  tasks:\n    - uri:\n        url: http://169.254.169.254/latest/api/token\n        method: PUT\n        headers:\n          X-aws-ec2-metadata-token-ttl-seconds: 60\n      register: tok\n    - ansible.builtin.uri:\n        url: http://169.254.169.254/latest/meta-data/\n        headers:\n          X-aws-ec2-metadata-token: \"{{ tok.content }}\"\n    - get_url:\n        url: http://169.254.169.254/latest/meta-data/ami-id\n        dest: /tmp/x\n",
        );
        assert_eq!(a.requests.len(), 3);
        assert!(a.requests[0].token_endpoint && a.requests[0].is_put());
        assert_eq!(a.requests[0].ttl, Ttl::Valid(60));
        assert!(matches!(&a.requests[1].token, TokenUse::Variables(v) if v[0].from_token_request));
        assert_eq!(a.requests[2].token, TokenUse::Absent);
        assert!(matches!(
            a.sites[2],
            Some(Site {
                header: HeaderSite::NewKey { .. },
                ..
            })
        ));
    }

    #[test]
    fn reads_jinja_as_unknown_and_loop_items_as_urls() {
        assert_eq!(
            unjinja("http://x/{{ a }}/b"),
            format!("http://x/{UNKNOWN}/b")
        );
        assert_eq!(jinja_variable("{{ tok.content }}").as_deref(), Some("tok"));
        let a = analyze(
            "- uri:\n    url: \"{{ item }}\"\n  loop:\n    - http://169.254.169.254/latest/meta-data/a\n    - http://example.com/\n    - http://169.254.169.254/latest/meta-data/b\n",
        );
        assert_eq!(a.requests.len(), 2);
        assert_eq!(a.requests[1].path, "/latest/meta-data/b");
    }

    #[test]
    fn configured_hosts_and_handlers_and_fixes_sites() {
        let text = "- hosts: all\n  tasks:\n    - uri:\n        url: http://metadata.internal/latest/meta-data/\n  handlers:\n    - uri:\n        url: http://169.254.169.254/latest/meta-data/\n";
        let mut fragment = Fragment::script(text.as_bytes());
        fragment.language = crate::fragment::Language::Ansible;
        let options = Options {
            endpoints: endpoint::Endpoints::new(["metadata.internal".to_owned()]),
        };
        let a = analyze_with(&fragment, &options);
        assert_eq!(a.requests.len(), 2);
        assert_eq!(a.requests[0].origin, "http://metadata.internal");
        // A handler runs only when notified: no token task can go before it.
        assert!(a.sites[0].is_some() && a.sites[1].is_none());
        assert_eq!(analyze(text).requests.len(), 1);
    }

    #[test]
    fn status_probes_make_the_fix_unsafe() {
        let a = analyze("- uri:\n    url: http://169.254.169.254/latest/meta-data/\n    status_code: [200, 401]\n- uri:\n    url: http://169.254.169.254/latest/meta-data/\n    status_code: 200\n");
        assert!(a.sites[0].as_ref().unwrap().unsafe_because.is_some());
        assert!(a.sites[1].as_ref().unwrap().unsafe_because.is_none());
    }
}
