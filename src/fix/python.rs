//! The fix planner's writer for Python: IMDS001 on a `requests`, `urllib` or `httpx` call gets one
//! token fetch per function scope (or module), inserted before the first statement that makes a
//! request, and the token header merged into the call's headers or added as `headers=…`. Never a
//! second `headers=`; nothing where the headers cannot be read or `**kwargs` may hold them.
//!
//! The fetch must cost the script nothing where the original ran without a token (off EC2, or a
//! container behind a hop limit of 1, where the PUT's answer never arrives): it is bounded like
//! the AWS SDKs' (1 s to connect, 1 s to read), and any failure — no answer, an error status, an
//! exception — leaves the token `None`. `requests` leaves out a header whose value is `None`, so
//! the request then goes out exactly as it did before (IMDSv1), instead of with an empty token
//! that IMDS would refuse even while tokens are optional. `urllib` would send `None` as text and
//! `httpx` refuses it, so their requests get `{"X-aws-ec2-metadata-token": T} if T else {}`
//! (wrapped as `dict({…}, **(…))` into a headers dict; a URL given to `urlopen` becomes a
//! `Request` carrying it), and their fetch is made with the same library.

use super::{
    encode, finish, free_name, FixSettings, RequestFix, Target, SYNTAX_ERRORS, TOKEN_HEADER,
    TTL_HEADER,
};
use crate::model::fix::{Applicability, Edit, Fix};
use crate::model::request::{ArgumentSite, Client, Request, TokenUse};
use crate::python::{Analysis, HeaderSite};

/// Plans the fixes of one Python fragment's findings, in the order given.
pub fn plan(analysis: &Analysis, targets: &[Target], settings: FixSettings) -> Vec<Option<Fix>> {
    let fetchable = super::fetchable(&analysis.requests, targets, |r| fixable(analysis, r));
    let fetches = shared_fetches(analysis, &fetchable, &settings);
    targets
        .iter()
        .map(|target| {
            if target.fix != RequestFix::FetchToken {
                return None;
            }
            let request = analysis.requests.get(target.request)?;
            if !fixable(analysis, request) {
                return None;
            }
            let site = &request.site;
            let quoting = site.quoting.as_deref()?;
            let conditional = analysis.conditional.get(&target.request);
            let (variable, mut edits, message, imported) = match &site.reusable_token {
                Some(variable) => (
                    variable.clone(),
                    Vec::new(),
                    format!("Send the existing token `{variable}` with this request"),
                    false,
                ),
                None => {
                    let fetch = fetches
                        .iter()
                        .find(|f| f.members.contains(&target.request))?;
                    (
                        fetch.variable.clone(),
                        fetch.edits.clone(),
                        format!(
                            "Fetch an IMDSv2 token into `{}` once and send it with this request",
                            fetch.variable
                        ),
                        fetch.imports,
                    )
                }
            };
            let insert = |at, text: String| (Edit::insert(at, encode(&text, quoting)), None);
            match conditional {
                Some(conditional) => {
                    // Only when a token was fetched: urllib would send `None` as a header.
                    let headers =
                        format!("{{\"{TOKEN_HEADER}\": {variable}}} if {variable} else {{}}");
                    match &conditional.site {
                        HeaderSite::Url { start, end } => {
                            let class =
                                match conditional.fetch.as_ref().and_then(|f| f.class.as_ref()) {
                                    Some(class) => class.clone(),
                                    None if imported => "Request".to_owned(),
                                    None => return None,
                                };
                            edits.push(insert(*start, format!("{class}(")));
                            edits.push(insert(*end, format!(", headers={headers})")));
                        }
                        HeaderSite::Dict { start, end } => {
                            edits.push(insert(*start, "dict(".to_owned()));
                            edits.push(insert(*end, format!(", **({headers}))")));
                        }
                        HeaderSite::Add { at, comma } => edits.push(insert(
                            *at,
                            format!("{}headers={headers}", if *comma { ", " } else { "" }),
                        )),
                    }
                }
                None => edits.push(match site.arguments.as_ref()? {
                    ArgumentSite::Merge { at, empty } => insert(
                        *at,
                        format!(
                            "\"{TOKEN_HEADER}\": {variable}{}",
                            if *empty { "" } else { ", " }
                        ),
                    ),
                    ArgumentSite::Add { at, comma } => insert(
                        *at,
                        format!(
                            "{}headers={{\"{TOKEN_HEADER}\": {variable}}}",
                            if *comma { ", " } else { "" }
                        ),
                    ),
                }),
            }
            let fix = Fix {
                applicability: Applicability::Safe,
                message,
                edits: finish(edits),
            };
            Some(if analysis.syntax_errors {
                fix.made_unsafe(SYNTAX_ERRORS)
            } else {
                fix
            })
        })
        .collect()
}

/// Whether a request is one this writer fixes, with no token: a `requests` call whose headers it
/// can read and write, or a `urllib` one with a place for a conditional header (where a fix must
/// import `Request`, the name must be free in the module and in the request's scope).
fn fixable(analysis: &Analysis, request: &Request) -> bool {
    if request.token != TokenUse::Absent || request.site.quoting.is_none() {
        return false;
    }
    match request.client {
        Client::Requests => request.site.arguments.is_some(),
        Client::Httpx => {
            analysis.httpx_module.is_some() && conditional(analysis, request).is_some()
        }
        Client::Urllib => match conditional(analysis, request) {
            Some(c) if c.fetch.as_ref().is_some_and(|f| f.class.is_none()) => {
                request.site.reusable_token.is_none()
                    && [Some(0), request.site.scope].iter().all(|s| {
                        s.and_then(|s| analysis.scopes.get(s))
                            .is_none_or(|s| !s.taken.iter().any(|t| t == "Request"))
                    })
            }
            Some(c) => c.fetch.is_some(),
            None => false,
        },
        _ => false,
    }
}

/// One token fetch: the requests it serves, its variable, the edits that insert it, and whether
/// it imports `Request` (for `urlopen(url)` calls in a script that did not).
struct SharedFetch {
    members: Vec<usize>,
    variable: String,
    edits: Vec<(Edit, Option<crate::fragment::PlainScalar>)>,
    imports: bool,
}

/// One fetch per scope, written with the library of its first request that can make one:
/// `requests` (which leaves out a header whose value is `None`), or `urllib` (with `Request` and
/// `urlopen` under the names the script calls them by).
fn shared_fetches(
    analysis: &Analysis,
    members: &[usize],
    settings: &FixSettings,
) -> Vec<SharedFetch> {
    let name = |scope: &crate::model::request::Scope, index: usize, used: &[(usize, String)]| {
        free_name(&settings.token_variable, scope, index, used)
    };
    super::line_fetches(&analysis.requests, &analysis.scopes, members, &name)
        .into_iter()
        .filter_map(|fetch| {
            let variable = fetch.variable;
            let url = fetch.url;
            let (indent, eol) = (&fetch.anchor.indent, fetch.anchor.eol);
            let unit = if indent.contains('\t') { "\t" } else { "    " };
            let ttl = settings.token_ttl;
            let ttl_header = format!("headers={{\"{TTL_HEADER}\": \"{ttl}\"}}");
            // `from M import Request` for a `urlopen(url)` that needs it.
            let import = fetch.members.iter().find_map(|i| {
                analysis
                    .conditional
                    .get(i)
                    .filter(|c| {
                        matches!(c.site, HeaderSite::Url { .. })
                    })
                    .and_then(|c| c.fetch.as_ref())
                    .filter(|f| f.class.is_none())
                    .map(|f| f.module.clone())
            });
            let form = fetch.members.iter().find_map(|i| {
                let request = analysis.requests.get(*i)?;
                match (request.client, analysis.conditional.get(i)) {
                    (Client::Requests, _) => analysis
                        .requests_module
                        .as_ref()
                        .map(|m| Form::Requests(m.clone())),
                    (Client::Urllib, Some(c)) => c.fetch.clone().map(Form::Urllib),
                    (Client::Httpx, Some(_)) => analysis.httpx_module.clone().map(Form::Httpx),
                    _ => None,
                }
            })?;
            let body = match form {
                Form::Requests(module) => format!(
                    "{indent}{unit}{variable} = {module}.put(\"{url}\", {ttl_header}, timeout=(1, 1)){eol}\
                     {indent}{unit}{variable} = {variable}.text if {variable}.ok else None{eol}"
                ),
                Form::Httpx(module) => format!(
                    "{indent}{unit}{variable} = {module}.put(\"{url}\", {ttl_header}, timeout=1){eol}\
                     {indent}{unit}{variable} = {variable}.text if {variable}.is_success else None{eol}"
                ),
                Form::Urllib(names) => {
                    let class = names.class.as_deref().unwrap_or("Request");
                    let urlopen = &names.urlopen;
                    if names.method_keyword {
                        format!(
                            "{indent}{unit}{variable} = {urlopen}({class}(\"{url}\", {ttl_header}, method=\"PUT\"), timeout=1).read().decode(){eol}"
                        )
                    } else {
                        format!(
                            "{indent}{unit}{variable} = {class}(\"{url}\", {ttl_header}){eol}\
                             {indent}{unit}{variable}.get_method = lambda: \"PUT\"{eol}\
                             {indent}{unit}{variable} = {urlopen}({variable}, timeout=1).read(){eol}"
                        )
                    }
                }
            };
            let import_line = import
                .as_ref()
                .map(|m| format!("{indent}from {m} import Request{eol}"))
                .unwrap_or_default();
            let lines = format!(
                "{import_line}{indent}try:{eol}{body}{indent}except Exception:{eol}{indent}{unit}{variable} = None{eol}"
            );
            let edit = Edit::insert(fetch.anchor.line_start, encode(&lines, &fetch.quoting));
            Some(SharedFetch {
                members: fetch.members,
                variable,
                edits: vec![(edit, None)],
                imports: import.is_some(),
            })
        })
        .collect()
}

/// The library a token fetch is written with.
enum Form {
    /// `requests` under the name the script imported it as.
    Requests(String),
    Urllib(crate::python::UrllibFetch),
    /// `httpx` under the name the script imported it as.
    Httpx(String),
}

/// The conditional header of a request, if it has one.
fn conditional<'a>(
    analysis: &'a Analysis,
    request: &Request,
) -> Option<&'a crate::python::Conditional> {
    let index = analysis
        .requests
        .iter()
        .position(|r| std::ptr::eq(r, request))?;
    analysis.conditional.get(&index)
}
