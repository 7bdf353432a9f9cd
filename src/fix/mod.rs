//! Fixes: byte edits on the original file, built from the request model (never from syntax
//! nodes), each with its applicability decided here, where the fix is built. `apply` applies
//! them; `write` puts the result on disk atomically.

pub mod ansible;
pub mod apply;
pub mod converge;
pub mod powershell;
pub mod python;
pub mod settings;
pub mod write;

use crate::fragment::{HostOffset, HostSpan, PlainScalar};
use crate::model::request::{
    BlockKind, Client, HeaderName, Method, Quoting, Request, Scope, TokenUse,
};
use crate::shell::Analysis;

pub use crate::model::fix::{Applicability, Edit, Fix};

#[derive(Debug, Clone)]
pub struct FixSettings {
    /// TTL of inserted token requests, 1..=21600.
    pub token_ttl: u32,
    /// The variable inserted token fetches fill (`IMDS_TOKEN`; `_2`, `_3`… appended on a clash).
    pub token_variable: String,
}

impl Default for FixSettings {
    fn default() -> Self {
        FixSettings {
            token_ttl: 21600,
            token_variable: "IMDS_TOKEN".to_owned(),
        }
    }
}

/// The header that carries the token, and the one that asks for it with a TTL (every
/// language's planner writes them).
const TOKEN_HEADER: &str = "X-aws-ec2-metadata-token";
const TTL_HEADER: &str = "X-aws-ec2-metadata-token-ttl-seconds";

/// The requests among `targets` that need a token fetched for them: IMDS001 targets the
/// language's planner can fix (`fixable`) and that have no token variable to reuse. Python's and
/// PowerShell's planners share their fetches among these.
fn fetchable(
    requests: &[Request],
    targets: &[Target],
    fixable: impl Fn(&Request) -> bool,
) -> Vec<usize> {
    targets
        .iter()
        .filter(|t| t.fix == RequestFix::FetchToken)
        .map(|t| t.request)
        .filter(|&i| {
            requests
                .get(i)
                .is_some_and(|r| fixable(r) && r.site.reusable_token.is_none())
        })
        .collect()
}

/// The fixes a request rule can ask for (the rules table names one per fixable request rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestFix {
    /// Fetch a token once per scope and send it with the request.
    FetchToken,
    /// Send the token request with PUT.
    UsePut,
    /// Give the token request a valid TTL header.
    SetTtl,
}

/// A finding to plan a fix for: which request of the analysis, which fix its rule asks for.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub request: usize,
    pub fix: RequestFix,
}

/// Plans the fixes of one fragment's findings, in the order given.
pub fn plan(analysis: &Analysis, targets: &[Target], settings: FixSettings) -> Vec<Option<Fix>> {
    let settings = &settings;
    // A misspelled token header is renamed: no token is fetched for it.
    let tokenless: Vec<usize> = targets
        .iter()
        .filter(|t| t.fix == RequestFix::FetchToken)
        .map(|t| t.request)
        .filter(|&i| {
            analysis
                .requests
                .get(i)
                .is_some_and(|r| rename(r, HeaderName::Token).is_none())
        })
        .collect();
    let shared = SharedFetches::plan(analysis, &tokenless, settings);
    targets
        .iter()
        .map(|target| {
            let request = analysis.requests.get(target.request)?;
            let fix = match target.fix {
                RequestFix::FetchToken => rename(request, HeaderName::Token).or_else(|| {
                    tokenless_fix(analysis, target.request, request, &shared, settings)
                }),
                RequestFix::UsePut => put_fix(request),
                RequestFix::SetTtl => {
                    rename(request, HeaderName::Ttl).or_else(|| ttl_fix(request, settings))
                }
            }?;
            // Code around a syntax error may not be what the analysis read.
            Some(if analysis.syntax_errors {
                fix.made_unsafe(SYNTAX_ERRORS)
            } else {
                fix
            })
        })
        .collect()
}

/// Gives a misspelled header (`aws-ec2-metadata-token: $T`) its right name, in place: the value
/// it sends is what the script meant to send.
fn rename(request: &Request, header: HeaderName) -> Option<Fix> {
    let site = &request.site;
    let wrong = request.misspelled.iter().find(|m| m.header == header)?;
    let span = wrong.name_span?;
    let quoting = site.quoting.as_deref()?;
    Some(Fix {
        applicability: Applicability::Safe,
        message: format!(
            "Rename the header `{}` to `{}`",
            wrong.written,
            header.as_str()
        ),
        // Letters and dashes: written as they are in any quoting, a YAML plain scalar included.
        edits: finish(write_at(span, header.as_str(), quoting, None)),
    })
}

/// Why a fix in a fragment with syntax errors is unsafe.
pub(crate) const SYNTAX_ERRORS: &str =
    "the script has syntax errors and was read only as far as it goes";

/// Writes `text` through quoting layers, innermost first, so that the shell reading the file
/// sees `text` where it is inserted.
fn encode(text: &str, quoting: &[Quoting]) -> String {
    quoting
        .iter()
        .rev()
        .fold(text.to_owned(), |text, layer| layer.encode(&text))
}

/// The edits that write `text` over `span` of a host (an insertion when `span` is empty), through
/// the quoting layers. Pieces that land in YAML plain scalars are finished by [`finish`].
fn write_at(
    span: HostSpan,
    text: &str,
    quoting: &[Quoting],
    plain: Option<&PlainScalar>,
) -> Vec<(Edit, Option<PlainScalar>)> {
    vec![(
        Edit {
            span,
            content: encode(text, quoting),
        },
        plain.cloned(),
    )]
}

fn insert_at(
    at: HostOffset,
    text: &str,
    quoting: &[Quoting],
    plain: Option<&PlainScalar>,
) -> Vec<(Edit, Option<PlainScalar>)> {
    write_at(HostSpan::new(at.0, at.0), text, quoting, plain)
}

/// The edits of one fix: each YAML plain scalar that a piece lands in also becomes a
/// double-quoted scalar (quotes around it, a backslash before each `"` and `\` it held), once
/// per scalar, with each added character merged into a piece inserted at the same place.
fn finish(parts: Vec<(Edit, Option<PlainScalar>)>) -> Vec<Edit> {
    let mut plains: Vec<PlainScalar> = Vec::new();
    let mut edits: Vec<Edit> = Vec::new();
    for (edit, plain) in parts {
        if let Some(plain) = plain {
            if !plains.contains(&plain) {
                plains.push(plain);
            }
        }
        if !edits.contains(&edit) {
            edits.push(edit);
        }
    }
    for plain in plains {
        // (offset, text, whether it goes before an insertion at the same offset)
        let mut marks: Vec<(HostOffset, &str, bool)> = Vec::new();
        match plain.header {
            // A folded block's header (and the line break and indentation after it) becomes the
            // opening quote.
            Some(header) => edits.push(Edit {
                span: header,
                content: "\"".to_owned(),
            }),
            None => marks.push((plain.span.start, "\"", true)),
        }
        marks.extend(plain.escapes.iter().map(|&at| (at, "\\", false)));
        marks.push((plain.span.end, "\"", false));
        for (at, mark, before) in marks {
            let merged = edits
                .iter_mut()
                .find(|e| e.span.is_empty() && e.span.start == at);
            match merged {
                Some(edit) if before => edit.content.insert_str(0, mark),
                Some(edit) => edit.content.push_str(mark),
                None => {
                    let inside = edits.iter().any(|e| e.span.start < at && at < e.span.end);
                    if !inside {
                        edits.push(Edit::insert(at, mark.to_owned()));
                    }
                }
            }
        }
    }
    edits
}

/// The URL a token is fetched from, in the spelling of the request it serves.
fn token_url(origin: &str) -> String {
    if origin.contains("://") {
        format!("{origin}/latest/api/token")
    } else {
        format!("http://{origin}/latest/api/token")
    }
}

/// The command that fetches a token, with curl or (for a scope without curl) GNU wget.
///
/// It must cost a script nothing where the script ran before: off EC2, where nothing answers
/// (refused, or a network that drops the packets), and in a container behind
/// `HttpPutResponseHopLimit=1`, where the PUT's answer dies one hop short while GETs still work.
/// So it is bounded the way the AWS SDKs bound theirs (one attempt, 1 s to connect and 1 s to
/// read, then fall back to IMDSv1): curl `--connect-timeout 1 --max-time 2` (connect within 1 s,
/// answer within 2 s of the start), GNU wget `--timeout=1 --tries=1` (1 s each to resolve, to
/// connect and between bytes; wget's default is 20 tries with a 900 s read timeout). IMDS answers
/// a PUT in milliseconds, so on an instance that can reach it the bounds never bite, and a
/// fixed script is at most 2 s slower per fetch where none can arrive (wget: a third second
/// where a name such as `instance-data` must be resolved first). It is silent (`-s`, `-q`:
/// a script that ran quietly off EC2 stays quiet, and cron sends no mail about it) and writes
/// nothing on an HTTP error (`-f`; wget never writes an error page), so a failed fetch leaves an
/// empty token, never an error page sent back as one.
fn fetch_command(origin: &str, curl: bool, ttl: u32) -> String {
    let url = token_url(origin);
    if curl {
        format!(r#"curl -sf {CURL_BOUND} -X PUT "{url}" -H "{TTL_HEADER}: {ttl}""#)
    } else {
        format!(
            r#"wget -q -O - {WGET_WAIT} {WGET_TRIES} --method=PUT --header="{TTL_HEADER}: {ttl}" "{url}""#
        )
    }
}

/// The bounds of a token request ([`fetch_command`] says why): curl's, and GNU wget's two.
const CURL_BOUND: &str = "--connect-timeout 1 --max-time 2";
const WGET_WAIT: &str = "--timeout=1";
const WGET_TRIES: &str = "--tries=1";

/// The line that fetches a scope's token into `variable`. `|| true` keeps a failed fetch from
/// stopping a script under `set -e` (the assignment's status is the substitution's): the variable
/// is then set and empty, never unset, so `set -u` is content too.
fn fetch_assignment(variable: &str, origin: &str, curl: bool, ttl: u32) -> String {
    format!("{variable}=$({} || true)", fetch_command(origin, curl, ttl))
}

/// The token a request sends: a variable's, or one fetched inline.
enum TokenValue<'a> {
    Variable(&'a str),
    Inline(String),
}

/// The option that sends the token header with a token, written after the client's name.
///
/// An empty token must not be sent: IMDS answers a present but invalid token with 401 even
/// while tokens are optional, so a script whose fetch failed (a container behind hop limit 1)
/// would lose the IMDSv1 answers it used to get. curl never sends a header whose value is empty
/// (`-H "Name: "` only removes one of its own), so `-H "…: $TOKEN"` is left out by curl itself.
/// wget sends it, so its option is given only when the variable is not empty:
/// `${TOKEN:+"--header=…: $TOKEN"}`, quoted whole so that no `IFS` splits it. An inline fetch
/// has no variable to test: wget's inline form can send an empty token ([`INLINE_WGET`]).
fn token_option(client: Client, token: &TokenValue) -> String {
    match (client, token) {
        (Client::Curl, TokenValue::Variable(name)) => format!(r#" -H "{TOKEN_HEADER}: ${name}""#),
        (Client::Curl, TokenValue::Inline(fetch)) => format!(r#" -H "{TOKEN_HEADER}: {fetch}""#),
        (Client::Wget, TokenValue::Variable(name)) => {
            format!(r#" ${{{name}:+"--header={TOKEN_HEADER}: ${name}"}}"#)
        }
        (Client::Wget, TokenValue::Inline(fetch)) => {
            format!(r#" --header="{TOKEN_HEADER}: {fetch}""#)
        }
        // Library calls are written by their language's planner (`python`).
        _ => String::new(),
    }
}

/// Why wget's inline form is unsafe (see [`token_option`]).
const INLINE_WGET: &str = "where no token can be fetched (off EC2, or in a container behind a hop limit of 1) wget would send an empty token, which IMDS refuses even while tokens are optional";

/// The endpoint a request reaches, for grouping requests that may share a token.
fn endpoint_key(origin: &str) -> String {
    let host = origin
        .rsplit("://")
        .next()
        .unwrap_or(origin)
        .to_ascii_lowercase();
    host.strip_suffix(":80").unwrap_or(&host).to_owned()
}

/// One inserted token fetch: the variable it fills and the edits that insert its line.
#[derive(Debug, Clone)]
struct Fetch {
    variable: String,
    edits: Vec<(Edit, Option<PlainScalar>)>,
}

/// The token fetches a fragment's tokenless requests share: one per scope and endpoint.
#[derive(Default)]
struct SharedFetches {
    /// For each request index, the fetch that serves it.
    by_request: Vec<(usize, Fetch)>,
}

impl SharedFetches {
    fn plan(analysis: &Analysis, tokenless: &[usize], settings: &FixSettings) -> Self {
        let mut out = SharedFetches::default();
        // (scope, endpoint) → requests, in order of first appearance.
        let mut groups: Vec<((usize, String), Vec<usize>)> = Vec::new();
        for &index in tokenless {
            let Some(request) = analysis.requests.get(index) else {
                continue;
            };
            let site = &request.site;
            // A request on the line of a one-line `if`, function or `while` body stands alone, like
            // one in a loop condition: it fetches its own token, only when and as often as it
            // runs. (A one-line `case` branch or group shares the enclosing block's fetch.)
            let alone = site.blocks.first().is_none_or(|innermost| {
                !innermost.begins_line
                    && matches!(
                        innermost.kind,
                        BlockKind::Branch | BlockKind::Function | BlockKind::Loop
                    )
            });
            if site.reusable_token.is_some() || site.quoting.is_none() || alone {
                continue;
            }
            let Some(scope) = site.scope else {
                continue;
            };
            let key = (scope, endpoint_key(&request.origin));
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, members)) => members.push(index),
                None => groups.push((key, vec![index])),
            }
        }
        let mut names_used: Vec<(usize, String)> = Vec::new();
        for ((scope_index, _), members) in groups {
            let Some(scope) = analysis.scopes.get(scope_index) else {
                continue;
            };
            let requests: Vec<&Request> = members
                .iter()
                .filter_map(|&i| analysis.requests.get(i))
                .collect();
            let Some(anchor) = insertion_point(&requests) else {
                continue;
            };
            let Some(quoting) = &anchor.quoting else {
                continue;
            };
            let variable = free_name(&settings.token_variable, scope, scope_index, &names_used);
            names_used.push((scope_index, variable.clone()));
            let origin = requests
                .first()
                .map_or("169.254.169.254", |r| r.origin.as_str());
            let line = format!(
                "{}{}{}",
                anchor.indent,
                fetch_assignment(&variable, origin, scope.uses_curl, settings.token_ttl),
                anchor.eol
            );
            let fetch = Fetch {
                variable,
                edits: insert_at(anchor.line_start, &line, quoting, anchor.plain.as_ref()),
            };
            out.by_request
                .extend(members.iter().map(|&i| (i, fetch.clone())));
        }
        out
    }

    fn get(&self, request: usize) -> Option<&Fetch> {
        self.by_request
            .iter()
            .find(|(i, _)| *i == request)
            .map(|(_, f)| f)
    }
}

/// `base` (`IMDS_TOKEN`), or the first `base_N` that means nothing else in the scope.
fn free_name(base: &str, scope: &Scope, scope_index: usize, used: &[(usize, String)]) -> String {
    (1..)
        .map(|n| {
            if n == 1 {
                base.to_owned()
            } else {
                format!("{base}_{n}")
            }
        })
        .find(|name| {
            let clash = scope.taken.contains(name) && !scope.token_vars.contains(name);
            !clash && !used.contains(&(scope_index, name.clone()))
        })
        .unwrap_or_else(|| base.to_owned())
}

/// One token fetch that a library-call planner (Python, PowerShell) inserts on a line of its own:
/// the requests it serves, the variable it fills, where the line goes, how the line is written
/// into the host, and the token URL (in the spelling of the first request's host).
pub(crate) struct LineFetch {
    pub members: Vec<usize>,
    pub variable: String,
    pub anchor: crate::model::request::BlockAnchor,
    pub quoting: Vec<Quoting>,
    pub url: String,
}

/// Picks a scope's token variable (the scope, its index, the names already used by scope).
pub(crate) type NameFetch<'a> = dyn Fn(&Scope, usize, &[(usize, String)]) -> String + 'a;

/// The fetches serving `members` (indices into `requests`): one per scope and endpoint — a token
/// fetched from the IPv6 endpoint, which an instance may not have, must not stand in for the IPv4
/// one — before the first statement that holds one of its requests in the innermost block that
/// holds them all, where that statement begins its line. `name` picks the variable in a scope,
/// given the names already used.
pub(crate) fn line_fetches(
    requests: &[Request],
    scopes: &[Scope],
    members: &[usize],
    name: &NameFetch,
) -> Vec<LineFetch> {
    let mut groups: Vec<((usize, String), Vec<usize>)> = Vec::new();
    for &index in members {
        let Some(request) = requests.get(index) else {
            continue;
        };
        let Some(scope) = request.site.scope else {
            continue;
        };
        let key = (scope, endpoint_key(&request.origin));
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, list)) => list.push(index),
            None => groups.push((key, vec![index])),
        }
    }
    let mut out = Vec::new();
    let mut used: Vec<(usize, String)> = Vec::new();
    for ((scope_index, _), list) in groups {
        let Some(scope) = scopes.get(scope_index) else {
            continue;
        };
        let served: Vec<&Request> = list.iter().filter_map(|&i| requests.get(i)).collect();
        let Some(anchor) = insertion_point(&served) else {
            continue;
        };
        let Some(quoting) = anchor.quoting.clone() else {
            continue;
        };
        if !anchor.begins_line {
            continue;
        }
        let variable = name(scope, scope_index, &used);
        used.push((scope_index, variable.clone()));
        let origin = served
            .first()
            .map_or("http://169.254.169.254", |r| r.origin.as_str());
        out.push(LineFetch {
            members: list,
            variable,
            url: token_url(origin),
            anchor,
            quoting,
        });
    }
    out
}

/// Where one fetch serving all `requests` goes: before the first statement holding one of them,
/// in the innermost block that holds them all and whose statement begins its line (the script
/// itself as the last resort).
fn insertion_point(requests: &[&Request]) -> Option<crate::model::request::BlockAnchor> {
    let first = requests.first()?;
    for candidate in &first.site.blocks {
        let anchors: Option<Vec<&crate::model::request::BlockAnchor>> = requests
            .iter()
            .map(|r| r.site.blocks.iter().find(|b| b.block == candidate.block))
            .collect();
        let Some(anchors) = anchors else {
            continue;
        };
        let earliest = anchors.into_iter().min_by_key(|a| a.statement)?;
        if earliest.begins_line || earliest.kind == BlockKind::Script {
            return Some(earliest.clone());
        }
    }
    None
}

/// IMDS001: send a token with a tokenless request, fetched once per scope (or inline).
///
/// Safe where the fixed script does what the original did wherever the original ran: with tokens
/// required it now works; with tokens optional it reads the same answers; off EC2 and behind hop
/// limit 1 the fetch fails within 2 s, leaves an empty token that is not sent (see
/// [`token_option`]), and the request fails or succeeds as it did. So a request whose failure the
/// script handles (`if curl …`, `curl … || true`) is safe under `set -e` too: the fetch before it
/// cannot stop the script. Unsafe where that is not so, or not known: headers the analysis cannot
/// read may already carry a token; BusyBox wget cannot PUT; wget's inline form sends an empty
/// token when none could be fetched.
fn tokenless_fix(
    analysis: &Analysis,
    index: usize,
    request: &Request,
    shared: &SharedFetches,
    settings: &FixSettings,
) -> Option<Fix> {
    let site = &request.site;
    if site.elsewhere.is_some() {
        return None;
    }
    let quoting = site.quoting.as_deref()?;
    let plain = site.plain.as_ref();
    let scope = site.scope.and_then(|s| analysis.scopes.get(s));
    let mut unsafe_because: Vec<String> = Vec::new();
    if let TokenUse::Unreadable(what) = &request.token {
        unsafe_because.push(format!("{what} may already send a token"));
    }
    if let Some(wrapper) = &request.wrapper {
        unsafe_because.push(format!(
            "it runs through {}, which this scan cannot read: check that it hands {} its arguments",
            unreadable_word(wrapper),
            request.client.name()
        ));
    }
    let (edits, message, uses_wget_fetch) = if let Some(variable) = &site.reusable_token {
        (
            insert_at(
                site.after_client,
                &token_option(request.client, &TokenValue::Variable(variable)),
                quoting,
                plain,
            ),
            format!("Send the existing token `${variable}` with this request"),
            false,
        )
    } else if let (Some(scope), Some(fetch)) = (scope, shared.get(index)) {
        (
            fetch
                .edits
                .iter()
                .cloned()
                .chain(insert_at(
                    site.after_client,
                    &token_option(request.client, &TokenValue::Variable(&fetch.variable)),
                    quoting,
                    plain,
                ))
                .collect(),
            format!(
                "Fetch an IMDSv2 token into `${}` once and send it with this request",
                fetch.variable
            ),
            !scope.uses_curl,
        )
    } else {
        // Alone in a string run by `sh -c` or `eval`, or standing alone in its block: the header
        // fetches its own token. Its substitution is an argument, so its failure stops nothing.
        let curl = request.client == Client::Curl;
        let inline = format!(
            "$({})",
            fetch_command(&request.origin, curl, settings.token_ttl)
        );
        if !curl {
            unsafe_because.push(INLINE_WGET.to_owned());
        }
        (
            insert_at(
                site.after_client,
                &token_option(request.client, &TokenValue::Inline(inline)),
                quoting,
                plain,
            ),
            "Fetch an IMDSv2 token inline and send it with this request".to_owned(),
            !curl,
        )
    };
    let busybox = request.busybox || scope.is_some_and(|s| s.busybox);
    if uses_wget_fetch && busybox {
        unsafe_because.push(
            "BusyBox wget cannot send the PUT that fetches a token; install curl or GNU wget"
                .to_owned(),
        );
    }
    Some(Fix {
        applicability: if unsafe_because.is_empty() {
            Applicability::Safe
        } else {
            Applicability::Unsafe
        },
        message: if unsafe_because.is_empty() {
            message
        } else {
            format!("{message} (unsafe: {})", unsafe_because.join("; "))
        },
        edits: finish(edits),
    })
}

/// How a fix names a command word it could not read: as written, or, for a template's action
/// (which the front end blanked to `$___…`), as that.
fn unreadable_word(word: &str) -> String {
    if word.starts_with("$_") && word.bytes().skip(1).all(|b| b == b'_') {
        "a template action".to_owned()
    } else {
        format!("`{word}`")
    }
}

/// A word that is an option and its attached value, quoted whole (`"-XGET"`, `'--header=…'`, the
/// alternative of `${X:+"--method=GET"}`): rewriting it would need its quoting taken apart, so
/// its fix is left to the user.
fn quoted_option(text: &str) -> bool {
    let mut chars = text.chars();
    matches!(chars.next(), Some('"' | '\'')) && chars.next() == Some('-')
}

/// IMDS002: make the token request a PUT.
fn put_fix(request: &Request) -> Option<Fix> {
    let site = &request.site;
    let quoting = site.quoting.as_deref()?;
    let plain = site.plain.as_ref();
    if request.client == Client::Wget && request.busybox {
        return None;
    }
    // A PUT is what a hop limit of 1 stops: where the GET it was got its 405 at once, the PUT
    // waits for an answer that never comes. It gets the fetch's bounds, where it has none.
    let bound = match request.client {
        Client::Curl if !site.limits.wait => format!(" {CURL_BOUND}"),
        Client::Curl => String::new(),
        Client::Wget => {
            let wait = (!site.limits.wait).then_some(WGET_WAIT);
            let tries = (!site.limits.tries).then_some(WGET_TRIES);
            [wait, tries]
                .into_iter()
                .flatten()
                .map(|o| format!(" {o}"))
                .collect()
        }
        _ => return None,
    };
    let mut edits = match (&site.method_word, request.client) {
        (Some((_, text)), _) if quoted_option(text) => return None,
        (Some((span, text)), client) => {
            let replacement = match client {
                Client::Curl if text.starts_with("--request=") => "--request=PUT".to_owned(),
                // `-XGET`, `-sXGET`: keep the flags up to X.
                Client::Curl if text.starts_with('-') => {
                    format!("{}PUT", text.get(..=text.find('X')?)?)
                }
                Client::Wget if text.starts_with("--method=") => "--method=PUT".to_owned(),
                _ => "PUT".to_owned(),
            };
            let mut edits = write_at(*span, &replacement, quoting, plain);
            if !bound.is_empty() {
                edits.extend(insert_at(site.after_client, &bound, quoting, plain));
            }
            edits
        }
        (None, Client::Curl) => insert_at(
            site.after_client,
            &format!(" -X PUT{bound}"),
            quoting,
            plain,
        ),
        (None, Client::Wget) => insert_at(
            site.after_client,
            &format!(" --method=PUT{bound}"),
            quoting,
            plain,
        ),
        (None, _) => return None,
    };
    edits.sort_by_key(|(edit, _)| edit.span.start);
    // A body (`-d`) was being posted: the PUT now carries it, which IMDS ignores, but say so.
    let posts = site.method_word.is_none() && matches!(request.method, Method::Other(_));
    Some(Fix {
        applicability: if posts {
            Applicability::Unsafe
        } else {
            Applicability::Safe
        },
        message: {
            let mut message = if bound.is_empty() {
                "Send the token request as PUT".to_owned()
            } else {
                format!(
                    "Send the token request as PUT, bounded by `{}`",
                    bound.trim()
                )
            };
            if posts {
                message.push_str(" (unsafe: the request posted a body, which the PUT now carries)");
            }
            message
        },
        edits: finish(edits),
    })
}

/// IMDS003: add the TTL header, or bring its value into 1..=21600.
fn ttl_fix(request: &Request, settings: &FixSettings) -> Option<Fix> {
    let site = &request.site;
    let quoting = site.quoting.as_deref()?;
    let plain = site.plain.as_ref();
    let ttl = settings.token_ttl;
    match &site.ttl_word {
        None => {
            let option = match request.client {
                Client::Curl => format!(r#" -H "{TTL_HEADER}: {ttl}""#),
                Client::Wget => format!(r#" --header="{TTL_HEADER}: {ttl}""#),
                _ => return None,
            };
            Some(Fix {
                applicability: Applicability::Safe,
                message: format!("Add a TTL header of {ttl} seconds"),
                edits: finish(insert_at(site.after_client, &option, quoting, plain)),
            })
        }
        Some((span, text)) => {
            if text.contains(['$', '`']) || quoted_option(text) {
                return None;
            }
            let value = text.rsplit(':').next().unwrap_or_default();
            let value = value
                .trim_matches(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == '\\');
            let new = match value.parse::<i128>() {
                Ok(n) => n.clamp(1, 21600) as u32,
                Err(_) => ttl,
            };
            let prefix = if text.starts_with("--header=") {
                "--header="
            } else if text.starts_with("-H") {
                "-H"
            } else {
                ""
            };
            Some(Fix {
                applicability: Applicability::Safe,
                message: format!("Set the TTL to {new} seconds"),
                edits: finish(write_at(
                    *span,
                    &format!(r#"{prefix}"{TTL_HEADER}: {new}""#),
                    quoting,
                    plain,
                )),
            })
        }
    }
}

#[cfg(test)]
mod tests;
