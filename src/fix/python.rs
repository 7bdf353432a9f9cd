//! The fix planner's writer for Python: IMDS001 on a `requests` call gets one token fetch per
//! function scope (or module), inserted before the first statement that makes a request, and the
//! token header merged into the call's `headers={…}` literal or added as `headers={…}`. Never a
//! second `headers=`; nothing where the headers cannot be read or `**kwargs` may hold them.
//!
//! The fetch must cost the script nothing where the original ran without a token (off EC2, or a
//! container behind a hop limit of 1, where the PUT's answer never arrives): it is bounded like
//! the AWS SDKs' (`timeout=(1, 1)`: 1 s to connect, 1 s to read), and any failure — no answer,
//! an error status, an exception — leaves the token `None`. `requests` leaves out a header whose
//! value is `None`, so the request then goes out exactly as it did before (IMDSv1), instead of
//! with an empty token that IMDS would refuse even while tokens are optional.

use super::{
    encode, finish, free_name, FixSettings, RequestFix, Target, SYNTAX_ERRORS, TOKEN_HEADER,
    TTL_HEADER,
};
use crate::model::fix::{Applicability, Edit, Fix};
use crate::model::request::{ArgumentSite, Client, Request, TokenUse};
use crate::python::Analysis;

/// Plans the fixes of one Python fragment's findings, in the order given.
pub fn plan(analysis: &Analysis, targets: &[Target], settings: FixSettings) -> Vec<Option<Fix>> {
    let fetchable = super::fetchable(&analysis.requests, targets, fixable);
    let fetches = shared_fetches(analysis, &fetchable, &settings);
    targets
        .iter()
        .map(|target| {
            if target.fix != RequestFix::FetchToken {
                return None;
            }
            let request = analysis.requests.get(target.request)?;
            if !fixable(request) {
                return None;
            }
            let site = &request.site;
            let quoting = site.quoting.as_deref()?;
            let (variable, mut edits, message) = match &site.reusable_token {
                Some(variable) => (
                    variable.clone(),
                    Vec::new(),
                    format!("Send the existing token `{variable}` with this request"),
                ),
                None => {
                    let (_, variable, edits) =
                        fetches.iter().find(|(members, _, _)| members.contains(&target.request))?;
                    (
                        variable.clone(),
                        edits.clone(),
                        format!(
                            "Fetch an IMDSv2 token into `{variable}` once and send it with this request"
                        ),
                    )
                }
            };
            let header = match site.arguments.as_ref()? {
                ArgumentSite::Merge { at, empty } => Edit::insert(
                    *at,
                    encode(
                        &format!(
                            "\"{TOKEN_HEADER}\": {variable}{}",
                            if *empty { "" } else { ", " }
                        ),
                        quoting,
                    ),
                ),
                ArgumentSite::Add { at, comma } => Edit::insert(
                    *at,
                    encode(
                        &format!(
                            "{}headers={{\"{TOKEN_HEADER}\": {variable}}}",
                            if *comma { ", " } else { "" }
                        ),
                        quoting,
                    ),
                ),
            };
            edits.push((header, None));
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

/// Whether a request is one this writer fixes: a `requests` call whose headers it can read and
/// write, with no token.
fn fixable(request: &Request) -> bool {
    request.client == Client::Requests
        && request.token == TokenUse::Absent
        && request.site.arguments.is_some()
        && request.site.quoting.is_some()
}

/// One fetch per scope: the requests it serves, its variable, and the edits that insert it.
type Fetches = Vec<(
    Vec<usize>,
    String,
    Vec<(Edit, Option<crate::fragment::PlainScalar>)>,
)>;

fn shared_fetches(analysis: &Analysis, members: &[usize], settings: &FixSettings) -> Fetches {
    let Some(module) = &analysis.requests_module else {
        return Vec::new();
    };
    let name = |scope: &crate::model::request::Scope, index: usize, used: &[(usize, String)]| {
        free_name(&settings.token_variable, scope, index, used)
    };
    super::line_fetches(&analysis.requests, &analysis.scopes, members, &name)
        .into_iter()
        .map(|fetch| {
            let variable = fetch.variable;
            let url = fetch.url;
            let (indent, eol) = (&fetch.anchor.indent, fetch.anchor.eol);
            let unit = if indent.contains('\t') { "\t" } else { "    " };
            let ttl = settings.token_ttl;
            let lines = format!(
                "{indent}try:{eol}\
                 {indent}{unit}{variable} = {module}.put(\"{url}\", headers={{\"{TTL_HEADER}\": \"{ttl}\"}}, timeout=(1, 1)){eol}\
                 {indent}{unit}{variable} = {variable}.text if {variable}.ok else None{eol}\
                 {indent}except Exception:{eol}\
                 {indent}{unit}{variable} = None{eol}"
            );
            let edit = Edit::insert(fetch.anchor.line_start, encode(&lines, &fetch.quoting));
            (fetch.members, variable, vec![(edit, None)])
        })
        .collect()
}
