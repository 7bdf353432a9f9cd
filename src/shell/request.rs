//! The metadata-request model that rules read: one [`Request`] per `curl`/`wget` invocation that
//! reaches IMDS, with what the analysis learned about its method, headers and token.

use crate::source::FileSpan;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    Curl,
    Wget,
}

impl Client {
    pub fn name(self) -> &'static str {
        match self {
            Client::Curl => "curl",
            Client::Wget => "wget",
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

/// One invocation of a client that reaches the metadata service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub client: Client,
    /// Run as `busybox wget` (no `--method`, so no way to PUT).
    pub busybox: bool,
    /// From the client's name to the end of the command, in the original file.
    pub span: FileSpan,
    /// The URL's scheme and host as written, e.g. `http://169.254.169.254`.
    pub origin: String,
    /// The path as far as it could be read.
    pub path: String,
    /// A request to `/latest/api/token`.
    pub token_endpoint: bool,
    pub method: Method,
    pub token: TokenUse,
    pub ttl: Ttl,
}

impl Request {
    pub fn is_put(&self) -> bool {
        self.method == Method::Put
    }
}
