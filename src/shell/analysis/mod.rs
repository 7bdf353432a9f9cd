//! Walks one fragment's syntax tree: reads variable assignments, finds every client invocation
//! that reaches IMDS, follows shell code nested in strings and here-documents (`sh -c`, `eval`,
//! `bash <<EOF`), and works out which variables hold a token fetched by a PUT.
//!
//! This file is the driver: [`analyze`] sets up the root frame, `Analyzer::run` takes one
//! fragment through its steps, and `Analyzer::request` builds the request a client call makes.
//! The steps live beside it: `tree` (the syntax tree and its parents), `scope` (frames, variables,
//! contexts, script scopes), `nesting` (shell code in strings and here-documents), `token_flow`
//! (variable values, token variables, token headers) and `blocks` (the blocks around a command).

mod nesting;
mod scope;
mod token_flow;
mod wrappers;

use tree_sitter::Node;

use crate::fragment::{Fragment, FragmentSpan, HostSpan, InsertRegion, OffsetMap};
use crate::model::request::{
    Client, FixSite, Method, Misspelled, Request, RunBy, Scope, TokenUse, TokenVariable,
};
use crate::model::Note;
use crate::shell::aws::{self, AwsMetadataCall};
use crate::shell::blocks::blocks;
use crate::shell::client::{self, ClientCall};
use crate::shell::command::{self, Invocation};
use crate::shell::endpoint::{self, MetadataUrl, UNKNOWN};
use crate::shell::parse::{self, ParseError};
use crate::shell::tree::{argv, structure, Structure, MAX_TREE_DEPTH};
use crate::shell::word::{span_of, Piece, Word};
use crate::shell::Options;
use scope::{shebang_is_busybox, Boundary, Context, Frame, VarDef};
use token_flow::token_headers;

/// What the analysis found in a fragment.
#[derive(Debug, Default)]
pub struct Analysis {
    pub requests: Vec<Request>,
    /// The script scopes the requests' [`FixSite::scope`] refers to.
    pub scopes: Vec<Scope>,
    /// `aws ec2` calls that set instance metadata options or launch instances.
    pub aws_metadata: Vec<AwsMetadataCall>,
    /// Packages installed with a version (`pip install boto3==1.9.0`), in host coordinates of
    /// the fragment's host (whose id the caller sets).
    pub installs: Vec<crate::model::dependency::Dependency>,
    /// The tree (or a nested one) had syntax errors; it was analysed as far as it goes.
    pub syntax_errors: bool,
    /// What of the fragment was not analysed: all of it (`Skipped`: it could not be parsed, or
    /// nests past the depth limit), or some nested code or commands (`PartlyAnalysed`).
    pub error: Option<Note>,
    /// Code the analysis did not follow (past a nesting limit): where, and why.
    pub notes: Vec<(HostSpan, String)>,
    /// Code in another language that the script runs (`python3 -c '…'`, a here-document fed to
    /// `python3`), as fragments of their own with maps into the same host.
    pub nested: Vec<Fragment>,
}

/// Analyses one fragment of shell code with the default [`Options`].
pub fn analyze(fragment: &Fragment) -> Analysis {
    analyze_with(fragment, &Options::default())
}

/// Analyses one fragment of shell code as a run configured with `options` would.
pub fn analyze_with(fragment: &Fragment, options: &Options) -> Analysis {
    let mut analyzer = Analyzer::new(options);
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
                    prefix: false,
                }],
            )
        })
        .collect();
    let root = analyzer.push_frame(Frame {
        vars: environment,
        ..Frame::default()
    });
    analyzer.regions = fragment.insert.clone();
    analyzer.host = fragment.host;
    analyzer.in_container = fragment.in_container;
    let context = Context {
        parent: Some(root),
        boundary: Boundary::ChildProcess,
        depth: 0,
        quoting: None,
        script: fragment.script,
        in_container: false,
        run_by: fragment.run_by.clone(),
        elsewhere: None,
    };
    if let Err(e) = analyzer.run(&fragment.text, &fragment.map, &context) {
        analyzer.error = Some(Note::skipped(e.to_string()));
    }
    if fragment.busybox {
        // A BusyBox system, unless the scope installs GNU wget before its first request.
        for scope in analyzer.scopes.iter_mut().filter(|s| !s.installs_gnu_wget) {
            scope.busybox = true;
        }
    }
    analyzer.finish()
}

/// `apk add … wget`: Alpine's GNU wget package, which replaces BusyBox's `wget` and can PUT.
fn installs_gnu_wget(words: &[Word], program: usize) -> bool {
    let mut rest = words.iter().skip(program + 1).filter_map(Word::literal);
    rest.by_ref().find(|w| !w.starts_with('-')).as_deref() == Some("add")
        && rest.any(|w| {
            w == "wget"
                || w.strip_prefix("wget")
                    .is_some_and(|v| v.starts_with(['=', '~', '>', '<']))
        })
}

/// A request whose token variables are checked once every frame is complete.
struct Pending {
    frame: usize,
    request: Request,
    token_names: Vec<String>,
    /// The request's command start in its fragment, for finding token variables assigned before.
    start: usize,
    /// The function whose body holds the request, whose `$1`, `$2`… its token header may read.
    function: Option<String>,
}

struct Analyzer<'o> {
    options: &'o Options,
    /// The root fragment's insert regions.
    regions: Vec<InsertRegion>,
    frames: Vec<Frame>,
    pending: Vec<Pending>,
    scopes: Vec<Scope>,
    aws_metadata: Vec<AwsMetadataCall>,
    installs: Vec<crate::model::dependency::Dependency>,
    nested: usize,
    syntax_errors: bool,
    error: Option<Note>,
    notes: Vec<(HostSpan, String)>,
    /// The host of the fragment analysed, and whether it runs in a container: what fragments
    /// cut out for other languages inherit.
    host: crate::fragment::HostId,
    in_container: bool,
    foreign: Vec<Fragment>,
}

/// The fragment [`Analyzer::run`] is working through: its text and tree, where its offsets go in
/// the file, where it sits, its frame, and its script scope (an index into `Analyzer::scopes`).
struct Code<'a, 't> {
    text: &'a [u8],
    map: &'a OffsetMap,
    cx: &'a Context,
    s: &'a Structure<'t>,
    fid: usize,
    scope: Option<usize>,
}

/// What the commands of a fragment have shown so far.
#[derive(Default)]
struct Seen {
    uses_curl: bool,
    busybox: bool,
    /// Where the top-level statement of the first command that installs GNU wget
    /// (`apk add wget`) ends: a token fetch placed before a later statement can use it.
    gnu_wget: Option<usize>,
    /// Commands that write a token to their output.
    token_sources: Vec<FragmentSpan>,
    /// The commands that are neither clients nor shells (calls of functions among them).
    calls: Vec<Call>,
    /// Client calls that make no metadata request as written (their URL may come from the
    /// arguments of the function they are in).
    unresolved_clients: Vec<FragmentSpan>,
}

/// A command that is neither a client nor a shell: perhaps a call of a function of the script.
pub(super) struct Call {
    pub(super) name: String,
    pub(super) span: FragmentSpan,
    /// The arguments after the name: `$1`, `$2`… of a function it calls.
    pub(super) args: Vec<Word>,
}

impl<'o> Analyzer<'o> {
    fn new(options: &'o Options) -> Self {
        Analyzer {
            options,
            regions: Vec::new(),
            frames: Vec::new(),
            pending: Vec::new(),
            scopes: Vec::new(),
            aws_metadata: Vec::new(),
            installs: Vec::new(),
            nested: 0,
            syntax_errors: false,
            error: None,
            notes: Vec::new(),
            host: 0,
            in_container: false,
            foreign: Vec::new(),
        }
    }

    /// Says that the code at `span` was not analysed, and why (once per reason).
    fn note(&mut self, span: HostSpan, why: String) {
        if !self.notes.iter().any(|(_, known)| *known == why) {
            self.notes.push((span, why));
        }
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
                                from_token_request: self.is_token_var(p.frame, name)
                                    || self.is_token_param(p.frame, p.function.as_deref(), name),
                            })
                            .collect(),
                    );
                }
                request
            })
            .collect();
        let error = self.error;
        Analysis {
            requests,
            scopes: self.scopes,
            aws_metadata: self.aws_metadata,
            installs: self.installs,
            syntax_errors: self.syntax_errors,
            error,
            notes: self.notes,
            nested: self.foreign,
        }
    }

    /// Analyses `text` (whose offsets `map` takes to the file) in a new frame; returns whether it
    /// writes a token to its output (a token request whose output is not captured in it).
    fn run(&mut self, text: &[u8], map: &OffsetMap, cx: &Context) -> Result<bool, ParseError> {
        let tree = parse::parse(text)?;
        self.syntax_errors |= tree.root_node().has_error();
        let Some(s) = structure(&tree, MAX_TREE_DEPTH) else {
            return Err(ParseError::TooDeep(MAX_TREE_DEPTH));
        };
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
        let code = Code {
            text,
            map,
            cx,
            s: &s,
            fid,
            scope,
        };
        let first_pending = self.pending.len();
        let mut seen = Seen {
            busybox: shebang_is_busybox(text),
            ..Seen::default()
        };

        for &node in &s.commands {
            self.command(&code, node, &mut seen);
        }
        self.wrapped_requests(&code, &mut seen);

        for &(heredoc, body) in &s.heredocs {
            if self.heredoc(&code, heredoc, body) {
                let statement = s.parents.of(heredoc).unwrap_or(heredoc);
                seen.token_sources.push(span_of(statement));
            }
        }

        self.token_flow(fid, &s, text, &mut seen.token_sources, &seen.calls);
        if let Some(index) = scope {
            self.finish_scope(&code, index, first_pending, &seen);
        }
        Ok(!seen.token_sources.is_empty())
    }

    /// Reads one command: a client call, shell code handed to a shell (`sh -c`, `eval`,
    /// `env -S`), or any other command (`set`, `aws`, a function).
    fn command<'t>(&mut self, code: &Code<'_, 't>, node: Node<'t>, seen: &mut Seen) {
        let (words, nodes) = argv(node, code.text);
        let span = span_of(node);
        let (invocation, site) = command::invocation_in(&words);
        match invocation {
            Invocation::Client {
                client,
                busybox: via_busybox,
                program,
                wrapped,
            } => {
                seen.uses_curl |= client == Client::Curl;
                seen.busybox |= via_busybox;
                if let Some(mut pending) =
                    self.client_request(code, node, &words, client, via_busybox, program)
                {
                    pending.start = span.start.0;
                    pending.request.wrapper = wrapped.and_then(|i| nodes.get(i)).map(|n| {
                        String::from_utf8_lossy(code.text.get(n.byte_range()).unwrap_or_default())
                            .into_owned()
                    });
                    pending.request.in_container |=
                        site.place == command::Place::Container || code.cx.in_container;
                    pending.request.site.elsewhere = site
                        .run_by
                        .iter()
                        .find(|r| r.other_machine())
                        .map(RunBy::command)
                        .or_else(|| code.cx.elsewhere.clone());
                    pending.request.run_by = code.cx.run_by.clone();
                    pending.request.run_by.extend(site.run_by);
                    pending.function = token_flow::enclosing_function(code.s, code.text, span);
                    // A token request with another method is IMDS002's one problem: what it
                    // writes is still the token the script means to send.
                    if pending.request.token_endpoint {
                        seen.token_sources.push(span);
                    }
                    self.pending.push(pending);
                } else {
                    seen.unresolved_clients.push(span);
                }
            }
            Invocation::Shell {
                script: Some(index),
                ..
            } => {
                if let Some(&script) = nodes.get(index) {
                    if self.shell_string(code, script, &site) {
                        seen.token_sources.push(span);
                    }
                }
            }
            Invocation::Interpreter {
                code: Some(index),
                language,
                ..
            } => {
                if let Some(&string) = nodes.get(index) {
                    self.foreign_string(code, string, language);
                }
            }
            Invocation::Eval { program } => {
                if self.eval(code, &nodes, program, span.start.0, &site) {
                    seen.token_sources.push(span);
                }
            }
            Invocation::SplitString { string, .. } => {
                if let Some(&node) = nodes.get(string) {
                    if self.split_string(code, node) {
                        seen.token_sources.push(span);
                    }
                }
            }
            Invocation::Other { name, program } => {
                if name == "apk" && seen.gnu_wget.is_none() && installs_gnu_wget(&words, program) {
                    let mut statement = node;
                    while let Some(parent) = statement.parent().filter(|p| p.kind() != "program") {
                        statement = parent;
                    }
                    seen.gnu_wget = Some(statement.end_byte());
                }
                self.other_command(code, &words, &name, program, span);
                seen.calls.push(Call {
                    name,
                    span,
                    args: words.get(program + 1..).unwrap_or_default().to_vec(),
                });
            }
            Invocation::Shell { script: None, .. }
            | Invocation::Interpreter { code: None, .. }
            | Invocation::NotRun => {}
        }
    }

    /// A curl or wget call (its program word at `program`): the request it makes, if it reaches
    /// IMDS, with where a fix would edit it.
    fn client_request<'t>(
        &self,
        code: &Code<'_, 't>,
        node: Node<'t>,
        words: &[Word],
        client: Client,
        via_busybox: bool,
        program: usize,
    ) -> Option<Pending> {
        let (text, map, cx) = (code.text, code.map, code.cx);
        let span = span_of(node);
        let args = words.get(program + 1..).unwrap_or_default();
        let text_of = |w: &Word| {
            String::from_utf8_lossy(text.get(w.span.start.0..w.span.end.0).unwrap_or_default())
                .into_owned()
        };
        let call = match client {
            Client::Curl => client::curl(args, text_of),
            Client::Wget => client::wget(args, text_of),
            _ => return None,
        };
        let start = words.get(program).map_or(span.start.0, |w| w.span.start.0);
        let file_span = map.span_to_host(FragmentSpan::new(start, span.end.0));
        let after_client = words.get(program).map_or(start, |w| w.span.end.0);
        let (quoting, plain) = self.quoting_at(cx, after_client);
        let site = FixSite {
            after_client: map.to_host(crate::fragment::FragmentOffset(after_client)),
            quoting,
            plain,
            scope: code.scope,
            blocks: if code.scope.is_some() {
                blocks(node, &code.s.parents, text, map, &|at| {
                    self.quoting_at(cx, at)
                })
            } else {
                Vec::new()
            },
            ..FixSite::default()
        };
        self.request(code, client, via_busybox, call, file_span, site)
    }

    /// Any other command (named `name`, its program word at `program`): an `aws ec2` call that
    /// sets metadata options or launches instances, and `set -a`.
    fn other_command(
        &mut self,
        code: &Code,
        words: &[Word],
        name: &str,
        program: usize,
        span: FragmentSpan,
    ) {
        if name == "aws" {
            let argv = words.get(program..).unwrap_or_default();
            if let Some(mut call) = aws::metadata_call(argv, span, code.text, code.map) {
                if self.reaches_aws(code, (words, program, span), &mut call) {
                    self.aws_metadata.push(call);
                }
            }
        }
        self.installs.extend(crate::shell::install::installs(
            name,
            words.get(program..).unwrap_or_default(),
            code.text,
            code.map,
        ));
        if name == "set" {
            let flags: Vec<String> = words.iter().skip(1).filter_map(Word::literal).collect();
            let short = |letter: char| {
                flags
                    .iter()
                    .any(|t| t.starts_with('-') && !t.starts_with("--") && t.contains(letter))
            };
            let long = |name: &str| flags.iter().any(|t| t == name);
            if let Some(frame) = self.frames.get_mut(code.fid) {
                frame.all_exported |= short('a') || long("allexport");
            }
        }
    }

    /// Whether an `aws` call may be sent to AWS: not when its `--endpoint-url`, or the
    /// `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_EC2` it is run with (a prefix assignment or a
    /// variable of the script), names another host (a moto or LocalStack mock, `localhost`).
    /// Where the endpoint is a variable that could not be read, the call says so.
    fn reaches_aws(
        &self,
        code: &Code,
        (words, program, span): (&[Word], usize, FragmentSpan),
        call: &mut aws::AwsMetadataCall,
    ) -> bool {
        let fid = code.fid;
        let (written, values) = match &call.endpoint_url {
            Some(word) => (
                String::from_utf8_lossy(
                    code.text
                        .get(word.span.start.0..word.span.end.0)
                        .unwrap_or_default(),
                )
                .into_owned(),
                self.candidates(fid, &word.pieces, 0),
            ),
            None => {
                // `AWS_ENDPOINT_URL=… aws ec2 …` or `env AWS_ENDPOINT_URL=… aws ec2 …` (before
                // the program), else the script's own variable.
                let before = words.get(..program).unwrap_or_default();
                let start = code_start(words, span);
                let head = words
                    .get(program)
                    .and_then(|w| code.text.get(start..w.span.start.0))
                    .unwrap_or_default();
                let mut found = None;
                for name in ["AWS_ENDPOINT_URL_EC2", "AWS_ENDPOINT_URL"] {
                    let prefix = format!("{name}=");
                    if let Some(word) = before
                        .iter()
                        .find(|w| w.literal_prefix().starts_with(&prefix))
                    {
                        let values = self.candidates(fid, &word.pieces, 0);
                        let values = values
                            .into_iter()
                            .map(|v| v.get(prefix.len()..).unwrap_or_default().to_owned())
                            .collect();
                        found = Some((prefix, values));
                        break;
                    }
                    if let Some(value) = prefix_assignment(head, &prefix) {
                        let values = if value.contains('$') || value.contains('`') {
                            vec![UNKNOWN.to_string()]
                        } else {
                            vec![value.clone()]
                        };
                        found = Some((format!("{prefix}{value}"), values));
                        break;
                    }
                    let values = self.script_variable_values(fid, name);
                    if values.iter().any(|v| !v.contains(UNKNOWN)) {
                        found = Some((format!("${name}"), values));
                        break;
                    }
                }
                match found {
                    Some(found) => found,
                    None => return true,
                }
            }
        };
        let kinds: Vec<Option<bool>> = values
            .iter()
            .filter(|v| !v.is_empty())
            .map(|v| aws::is_aws_endpoint(v))
            .collect();
        if !kinds.is_empty() && kinds.iter().all(|k| *k == Some(false)) {
            // Every value it can have is another host: not a call to AWS.
            return false;
        }
        if kinds.contains(&None) && !kinds.contains(&Some(true)) {
            call.endpoint_unknown = Some(format!(
                "it is sent to the endpoint `{written}`, which could not be read and may be a mock of EC2 rather than AWS"
            ));
        }
        true
    }

    /// Builds the request a client call makes, if it reaches IMDS.
    fn request(
        &self,
        code: &Code,
        client: Client,
        busybox: bool,
        call: ClientCall,
        span: HostSpan,
        mut site: FixSite,
    ) -> Option<Pending> {
        let fid = code.fid;
        let word_site = |word: &Word| word_site(word, code.text, code.map);
        site.method_word = call.method.as_ref().map(word_site);
        site.limits = call.limits;
        let url = self.metadata_url(fid, &call.urls)?;
        let headers: Vec<(Word, Vec<String>)> = call
            .headers
            .iter()
            .map(|h| (h.clone(), self.candidates(fid, &h.pieces, 0)))
            .collect();
        if headers.iter().any(|(_, values)| is_foreign(values)) {
            return None;
        }
        let method = self.method(fid, &call);
        let sent = token_headers(&headers);
        if let Some(word) = sent.ttl_word {
            site.ttl_word = Some(word_site(word));
        }
        let token = match (sent.token, call.unreadable) {
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
                ttl: sent.ttl,
                calls: Vec::new(),
                in_container: false,
                run_by: Vec::new(),
                wrapper: None,
                misspelled: sent
                    .misspelled
                    .iter()
                    .map(|(word, header, written)| Misspelled {
                        header: *header,
                        written: written.clone(),
                        name_span: name_span(word, written, code.text, code.map),
                    })
                    .collect(),
                site,
            },
            token_names: sent.names,
            start: 0,
            function: None,
        })
    }

    /// The first of the URLs that reaches IMDS, in any spelling its variables may take.
    fn metadata_url(&self, fid: usize, urls: &[Word]) -> Option<MetadataUrl> {
        urls.iter().find_map(|url| {
            self.candidates(fid, &url.pieces, 0)
                .iter()
                .find_map(|c| endpoint::classify(c, &self.options.endpoints))
        })
    }

    /// The method a call uses: its explicit method (when its value is known), else the one
    /// another option implies, else GET.
    fn method(&self, fid: usize, call: &ClientCall) -> Method {
        match &call.method {
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
        }
    }
}

/// Where a header word writes the header name `written` (its first occurrence in the word as
/// written, which starts with it after a quote or an option), for a fix that replaces it.
fn name_span(word: &Word, written: &str, text: &[u8], map: &OffsetMap) -> Option<HostSpan> {
    let raw = text.get(word.span.start.0..word.span.end.0)?;
    let at = raw
        .windows(written.len().max(1))
        .position(|w| w == written.as_bytes())?;
    let start = word.span.start.0 + at;
    Some(map.span_to_host(FragmentSpan::new(start, start + written.len())))
}

/// An argument's place in the file and its text as written, for fixes that rewrite it.
fn word_site(word: &Word, text: &[u8], map: &OffsetMap) -> (HostSpan, String) {
    (
        map.span_to_host(word.span),
        String::from_utf8_lossy(
            text.get(word.span.start.0..word.span.end.0)
                .unwrap_or_default(),
        )
        .into_owned(),
    )
}

/// Whether one header's values belong to another cloud's metadata service (Google's
/// `Metadata-Flavor`, Azure's `Metadata: true`, Oracle's bearer token, Linode's `Metadata-Token`
/// and its expiry) on the same address.
fn is_foreign(values: &[String]) -> bool {
    values.iter().any(|v| {
        let v = v.to_ascii_lowercase();
        let (name, value) = v.split_once(':').unwrap_or((&v, ""));
        let name = name.trim();
        (name == "metadata-flavor" && value.trim() == "google")
            || (name == "metadata" && value.trim() == "true")
            || (name == "authorization" && value.contains("bearer oracle"))
            || name == "metadata-token"
            || name == "metadata-token-expiry-seconds"
    })
}

/// Where a command's text starts: its first word, or the command's span (before any prefix
/// assignment, which is not a word).
fn code_start(words: &[Word], span: FragmentSpan) -> usize {
    words
        .first()
        .map_or(span.start.0, |w| w.span.start.0.min(span.start.0))
}

/// The value of `NAME=value` among the prefix assignments of a command (`head` is its text before
/// the program word), without quotes.
fn prefix_assignment(head: &[u8], prefix: &str) -> Option<String> {
    let head = String::from_utf8_lossy(head);
    let at = head.match_indices(prefix).find(|(at, _)| {
        *at == 0
            || head
                .as_bytes()
                .get(at - 1)
                .is_some_and(|b| b.is_ascii_whitespace())
    })?;
    let value = head.get(at.0 + prefix.len()..)?;
    let value: String = value
        .chars()
        .take_while(|c| !c.is_whitespace())
        .filter(|c| !matches!(c, '"' | '\''))
        .collect();
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::endpoint::Endpoints;

    use super::nesting::{MAX_DEPTH, MAX_NESTED};

    fn origins(script: &str, options: &Options) -> Vec<String> {
        analyze_with(&Fragment::script(script.as_bytes()), options)
            .requests
            .into_iter()
            .map(|r| r.origin)
            .collect()
    }

    #[test]
    fn each_run_has_its_own_endpoints() {
        let script = "#!/bin/sh\n\
            PROXY=http://metadata.internal\n\
            curl -s \"$PROXY/latest/meta-data/instance-id\"\n\
            sh -c 'curl -s http://Other.Alias/latest/meta-data/'\n\
            curl -s http://169.254.169.254/latest/meta-data/\n";
        let proxy = Options {
            endpoints: Endpoints::new(["Metadata.Internal"]),
        };
        let alias = Options {
            endpoints: Endpoints::new(["other.alias"]),
        };
        // Analysed in turn and interleaved in one process: no run sees another's hosts.
        for _ in 0..2 {
            assert_eq!(
                origins(script, &Options::default()),
                ["http://169.254.169.254"]
            );
            assert_eq!(
                origins(script, &proxy),
                ["http://metadata.internal", "http://169.254.169.254"]
            );
            assert_eq!(
                origins(script, &alias),
                ["http://Other.Alias", "http://169.254.169.254"]
            );
        }
        assert_eq!(
            analyze(&Fragment::script(script.as_bytes())).requests.len(),
            1
        );
    }

    fn evals(n: usize, command: &str) -> String {
        format!("#!/bin/sh\n{}{command}\n", "eval ".repeat(n))
    }

    #[test]
    fn nesting_up_to_the_limit_is_analysed() {
        let request = "curl http://169.254.169.254/latest/meta-data/";
        for depth in [9, MAX_DEPTH] {
            let analysis = analyze(&Fragment::script(evals(depth, request).as_bytes()));
            assert_eq!(analysis.requests.len(), 1, "{depth} evals");
            assert!(analysis.notes.is_empty(), "{depth} evals");
        }
    }

    #[test]
    fn nesting_past_a_limit_is_noted_where_it_starts() {
        let request = "curl http://169.254.169.254/latest/meta-data/";
        let script = evals(MAX_DEPTH + 1, request);
        let analysis = analyze(&Fragment::script(script.as_bytes()));
        assert!(analysis.requests.is_empty());
        let notes: Vec<(usize, &str)> = analysis
            .notes
            .iter()
            .map(|(span, why)| (span.start.0, why.as_str()))
            .collect();
        // The code not analysed starts at the request, after the last eval it went through.
        let at = script.find("curl").unwrap();
        assert_eq!(
            notes,
            [(at, "shell code nested more than 16 levels deep in strings (`sh -c`, `eval`, here-documents) was not analysed")]
        );
        // Too many pieces of nested code: the first ones are analysed, the rest noted.
        let many = format!("#!/bin/sh\n{}", format!("sh -c '{request}'\n").repeat(600));
        let analysis = analyze(&Fragment::script(many.as_bytes()));
        assert_eq!(analysis.requests.len(), MAX_NESTED);
        let notes: Vec<&str> = analysis.notes.iter().map(|(_, why)| why.as_str()).collect();
        assert_eq!(
            notes,
            ["shell code nested in strings (`sh -c`, `eval`, here-documents) past the first 512 pieces was not analysed"]
        );
    }
}
