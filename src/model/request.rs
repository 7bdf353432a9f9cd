//! The metadata-request model that rules read, whatever the language: one [`Request`] per client
//! call that reaches IMDS (a `curl`/`wget` command, a Python `requests`/`urllib` call), with what
//! the language's analysis learned about its method, headers and token, and where a fix can
//! rewrite it.

pub use crate::fragment::Quoting;
use crate::fragment::{HostOffset, HostSpan, Language, PlainScalar};

/// The options that bound how long a request may wait for its answer.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// curl `-m`/`--max-time` (all of the transfer); wget `-T`/`--timeout`/`--read-timeout`
    /// (each wait for bytes).
    pub wait: bool,
    /// wget `-t`/`--tries` (GNU wget tries 20 times; curl once unless told to retry).
    pub tries: bool,
}

/// What makes a request: a shell command or a library call, which decides how a fix writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    Curl,
    Wget,
    /// Python `requests` (its functions and `Session` methods).
    Requests,
    /// Python `urllib.request`/`urllib2` `urlopen`.
    Urllib,
    /// Python `http.client`/`httplib` connections.
    HttpClient,
    /// Python `httpx`.
    Httpx,
    /// boto 2's `boto.utils.get_instance_metadata`/`get_instance_identity`, which never send a
    /// token and take no headers.
    Boto,
    /// PowerShell `Invoke-RestMethod` (`irm`).
    InvokeRestMethod,
    /// PowerShell `Invoke-WebRequest` (`iwr`, and `curl`/`wget` in Windows PowerShell).
    InvokeWebRequest,
    /// .NET `System.Net.WebClient` from PowerShell (`DownloadString`, `UploadString`, …).
    WebClient,
    /// Ansible's `uri` module.
    AnsibleUri,
    /// Ansible's `get_url` module (GET only).
    AnsibleGetUrl,
}

impl Client {
    pub fn name(self) -> &'static str {
        match self {
            Client::Curl => "curl",
            Client::Wget => "wget",
            Client::Requests => "requests",
            Client::Urllib => "urllib",
            Client::HttpClient => "http.client",
            Client::Httpx => "httpx",
            Client::Boto => "boto.utils",
            Client::InvokeRestMethod => "Invoke-RestMethod",
            Client::InvokeWebRequest => "Invoke-WebRequest",
            Client::WebClient => "WebClient",
            Client::AnsibleUri => "uri",
            Client::AnsibleGetUrl => "get_url",
        }
    }

    /// The language whose code makes the request.
    pub fn language(self) -> Language {
        match self {
            Client::Curl | Client::Wget => Language::Shell,
            Client::Requests
            | Client::Urllib
            | Client::HttpClient
            | Client::Httpx
            | Client::Boto => Language::Python,
            Client::InvokeRestMethod | Client::InvokeWebRequest | Client::WebClient => {
                Language::PowerShell
            }
            Client::AnsibleUri | Client::AnsibleGetUrl => Language::Ansible,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    Get,
    Put,
    /// Another method, as written (`POST`, `HEAD`).
    Other(String),
    /// Taken from a variable or substitution that could not be read.
    Unknown,
}

/// Whether and how a request sends `X-aws-ec2-metadata-token`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenUse {
    /// No token header, and nothing unreadable that could hold one.
    Absent,
    /// No token header on the command line, but headers or options come from somewhere the analysis
    /// cannot read (`-H @file`, `-K file`, an array expansion): named here.
    Unreadable(String),
    /// The token header's value uses these variables.
    Variables(Vec<TokenVariable>),
    /// The value is fetched inline (`$(curl -X PUT …)`), or written literally.
    Inline,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenVariable {
    pub name: String,
    /// Whether something in scope assigns it from a token request.
    pub from_token_request: bool,
}

/// The `X-aws-ec2-metadata-token-ttl-seconds` header of a token request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ttl {
    Missing,
    Valid(u32),
    /// Present but not a number in 1..=21600: the value as written.
    Invalid(String),
    /// Taken from something the analysis cannot read.
    Unknown,
}

/// Which of IMDS's two headers a misspelled header name stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderName {
    /// `X-aws-ec2-metadata-token`.
    Token,
    /// `X-aws-ec2-metadata-token-ttl-seconds`.
    Ttl,
}

impl HeaderName {
    pub fn as_str(self) -> &'static str {
        match self {
            HeaderName::Token => "X-aws-ec2-metadata-token",
            HeaderName::Ttl => "X-aws-ec2-metadata-token-ttl-seconds",
        }
    }
}

/// A header whose name is close to one of IMDS's but is not it (`aws-ec2-metadata-token`,
/// `X-aws-ec2-metadata-tokens`): IMDS ignores it. Only recorded when the right header is absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Misspelled {
    pub header: HeaderName,
    /// The name as written.
    pub written: String,
    /// Where the name is written, to replace it (`None` when it cannot be found in the word).
    pub name_span: Option<HostSpan>,
}

/// One invocation of a client that reaches the metadata service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub client: Client,
    /// Run as `busybox wget` (no `--method`, so no way to PUT).
    pub busybox: bool,
    /// From the client's name to the end of the command, in its host (see `crate::fragment::HostSpan`).
    pub span: HostSpan,
    /// The URL's scheme and host as written, e.g. `http://169.254.169.254`.
    pub origin: String,
    /// The path as far as it could be read.
    pub path: String,
    /// A request to `/latest/api/token`.
    pub token_endpoint: bool,
    pub method: Method,
    pub token: TokenUse,
    pub ttl: Ttl,
    /// Headers whose names are near misses of the token or TTL header, which is missing.
    pub misspelled: Vec<Misspelled>,
    /// For a client call in a function that takes its URL from the function's arguments
    /// (`imdscurl() { curl -s "$@"; }`): the calls of the function that make it a metadata
    /// request. Empty for a request written out where it is.
    pub calls: Vec<HostSpan>,
    /// Where and how this request can be rewritten.
    pub site: FixSite,
    /// A command word before the client that could not be read (`$WRAP curl …`, a template's
    /// action), as written: the request is taken as made, but what runs it is not known.
    pub wrapper: Option<String>,
    /// Made by a command the code runs in a container (`docker run IMAGE curl …`, `kubectl exec
    /// POD -- sh -c …`), one network hop further from IMDS than the code around it.
    pub in_container: bool,
    /// The commands around the request that run its code somewhere else or under another name
    /// (`ssh HOST`, `docker run IMAGE`, `kubectl exec POD --`, `cloud-init-per FREQUENCY NAME`,
    /// a script a here-document writes out), outermost first: the end of its origin chain.
    pub run_by: Vec<RunBy>,
}

pub use crate::fragment::RunBy;

impl Request {
    pub fn is_put(&self) -> bool {
        self.method == Method::Put
    }
}

/// The kinds of block a token fetch may be inserted into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    /// The whole script: the last resort, always usable.
    Script,
    /// A function body: runs once per call.
    Function,
    /// A `while`/`until` body: runs once per iteration.
    Loop,
    /// An `if`/`elif`/`else` branch: runs only when taken.
    Branch,
    /// A `case` branch.
    Case,
    /// A `{ …; }` group or `( … )` subshell.
    Group,
}

/// A place where a token fetch may be inserted: before a statement of a block (the script, a
/// function body, a loop body, a branch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockAnchor {
    /// Identifies the block within its scope.
    pub block: usize,
    /// The statement's start, for ordering statements of the same block.
    pub statement: HostOffset,
    /// The start of the statement's line: where an inserted line goes.
    pub line_start: HostOffset,
    /// Whether only blanks precede the statement on its line.
    pub begins_line: bool,
    /// What kind of block it is.
    pub kind: BlockKind,
    /// The blanks that start the statement's line.
    pub indent: String,
    /// The line ending of the statement's line (`\n` or `\r\n`).
    pub eol: &'static str,
    /// How a line inserted at `line_start` is written into the host (`None`: it cannot be).
    pub quoting: Option<Vec<Quoting>>,
    /// The YAML plain scalar the line would go into, which must then be quoted.
    pub plain: Option<PlainScalar>,
}

impl BlockAnchor {
    /// The anchor before the statement that starts at `at` in a fragment's text, in the block that
    /// starts at `block_start`: a line inserted at the start of the statement's line, with its
    /// indentation and line ending, written with the quoting of that place (none in a YAML
    /// plain scalar). For the analyses whose blocks are syntax nodes (Python, PowerShell).
    pub fn before(
        fragment: &crate::fragment::Fragment,
        block_start: usize,
        at: usize,
        kind: BlockKind,
    ) -> BlockAnchor {
        let text = &fragment.text;
        let to_host = |at| fragment.map.to_host(crate::fragment::FragmentOffset(at));
        let line_start = text
            .get(..at)
            .unwrap_or_default()
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let indent = crate::fragment::line_indent(text, at);
        let begins_line = line_start + indent.len() == at;
        let line_end = memchr::memchr(b'\n', text.get(at..).unwrap_or_default()).map(|i| at + i);
        let eol = match line_end {
            Some(end) if end > 0 && text.get(end - 1) == Some(&b'\r') => "\r\n",
            _ => "\n",
        };
        let region = fragment.region_at(line_start);
        BlockAnchor {
            block: block_start * 4 + kind as usize,
            statement: to_host(at),
            line_start: to_host(line_start),
            begins_line,
            kind,
            indent,
            eol,
            quoting: if region.plain.is_some() {
                None
            } else {
                region.quoting
            },
            plain: None,
        }
    }
}

/// A script scope: a file, or a here-document run by a shell. One token fetch serves it.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Quoting of the scope's text, outermost first.
    pub quoting: Vec<Quoting>,
    /// Variable names assigned in it or visible to it.
    pub taken: Vec<String>,
    /// Variables that hold a token.
    pub token_vars: Vec<String>,
    /// Whether it runs curl anywhere (else a wget token fetch is used).
    pub uses_curl: bool,
    /// Whether it is clearly BusyBox (`busybox wget`, an `ash`/`busybox sh` shebang).
    pub busybox: bool,
    /// Whether it installs GNU wget (`apk add wget`) before its first request, so that on a
    /// BusyBox image its `wget` can PUT.
    pub installs_gnu_wget: bool,
}

/// What a fix needs to know about a request, in file offsets.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FixSite {
    /// Right after the client's name word: where options are inserted.
    pub after_client: HostOffset,
    /// Quoting between the request's code and the file, outermost first; `None` when text cannot
    /// be inserted safely (a string built from several differently quoted parts).
    pub quoting: Option<Vec<Quoting>>,
    /// The script scope (an index into the analysis's `scopes`); `None` inside a
    /// string run by `sh -c`/`eval`, where a request must fetch its own token.
    pub scope: Option<usize>,
    /// The YAML plain scalar the request is in, which a fix must quote.
    pub plain: Option<PlainScalar>,
    /// Blocks the request sits in, innermost first.
    pub blocks: Vec<BlockAnchor>,
    /// An existing token variable assigned before the request in an enclosing block.
    pub reusable_token: Option<String>,
    /// The explicit method argument (`GET` of `-X GET`), with its text.
    pub method_word: Option<(HostSpan, String)>,
    /// The options that bound the request's wait for an answer.
    pub limits: Limits,
    /// The TTL header argument, with its text.
    pub ttl_word: Option<(HostSpan, String)>,
    /// For a library call: where a token header goes among the call's arguments.
    pub arguments: Option<ArgumentSite>,
    /// For a method call on an object that holds its headers (a PowerShell `WebClient`): the
    /// variable that holds the object, whose headers a statement before the request can set.
    pub receiver: Option<String>,
    /// The command that runs the request on another machine with words this shell expands first
    /// (`kubectl exec POD -- curl …`, `ssh HOST curl …`): a token fetched here would be this
    /// machine's, so no token fetch is written for it.
    pub elsewhere: Option<String>,
}

/// Where a library call (Python `requests.get(…)`) takes a token header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgumentSite {
    /// Into the headers map written in the call (`headers={…}`): an entry goes at `at`, before
    /// its first entry (or inside its brackets when `empty`).
    Merge { at: HostOffset, empty: bool },
    /// As a new keyword argument: written at `at` (right after the last argument, or after the
    /// opening parenthesis when there is none), with a comma before it when `comma` says so.
    Add { at: HostOffset, comma: bool },
}
