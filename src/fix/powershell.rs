//! The fix planner's writer for PowerShell: IMDS001 on an `Invoke-RestMethod`/`Invoke-WebRequest`
//! call or a `WebClient` method gets one token fetch per function scope (or script), inserted on
//! a line of its own before the first statement that makes a request, in the form AWS documents
//! for Windows instances:
//!
//! ```powershell
//! try { $IMDS_TOKEN = Invoke-RestMethod -Headers @{"X-aws-ec2-metadata-token-ttl-seconds" = "21600"} -Method PUT -Uri http://169.254.169.254/latest/api/token -TimeoutSec 1 -ErrorAction Stop } catch { $IMDS_TOKEN = $null }
//! ```
//!
//! and the token sent with each request: `"X-aws-ec2-metadata-token" = $IMDS_TOKEN` merged into
//! the call's `-Headers @{…}` literal, or `-Headers @{"X-aws-ec2-metadata-token" = $IMDS_TOKEN}`
//! added after the command's name (never a second `-Headers`); for a `WebClient` held in a
//! variable, `if ($IMDS_TOKEN) { $wc.Headers["X-aws-ec2-metadata-token"] = $IMDS_TOKEN }` before
//! the statement (the indexer sets the header once however often the line runs, where
//! `Headers.Add` would append a second value on a reused client).
//!
//! No fix where the headers cannot be written safely: `-Headers $h` (the hashtable is shared
//! with whatever else reads `$h`, and a `+` of another hashtable throws if `$h` is not one), a
//! splatted `@params`, `-WebSession`, a `WebClient` made inline, and `curl`/`wget`, which are
//! `Invoke-WebRequest` only in Windows PowerShell 5.1 — PowerShell 7 runs curl and wget for them,
//! which take no `-Headers`.
//!
//! Why the fetch is wrapped: an `Invoke-RestMethod` that fails (off EC2, or in a container
//! behind a hop limit of 1, where the PUT's answer never arrives) throws a statement-terminating
//! error, and under `$ErrorActionPreference = 'Stop'` — common in user data — it would end a
//! script whose original request could still have succeeded (with tokens optional, a GET from
//! that container is answered). So the fetch runs with `-ErrorAction Stop` inside `try`, which
//! turns every failure into `$IMDS_TOKEN = $null` and never stops the script, and with
//! `-TimeoutSec 1` (the AWS SDKs' bound; the cmdlets wait 100 s by default), so the fixed script
//! is at most about a second slower where no token can arrive. PowerShell's web cmdlets leave out
//! a header whose value is `$null`, so the request then goes out as it did before (IMDSv1),
//! never with an empty token that IMDS would refuse even while tokens are optional; the
//! `WebClient` line sets nothing then, for the same reason.

use super::{
    encode, finish, free_name, FixSettings, RequestFix, Target, SYNTAX_ERRORS, TOKEN_HEADER,
    TTL_HEADER,
};
use crate::model::fix::{Applicability, Edit, Fix};
use crate::model::request::{ArgumentSite, Client, Method, Request, Scope, TokenUse, Ttl};
use crate::powershell::Analysis;

/// Plans the fixes of one PowerShell fragment's findings, in the order given.
pub fn plan(analysis: &Analysis, targets: &[Target], settings: FixSettings) -> Vec<Option<Fix>> {
    let fetchable = super::fetchable(&analysis.requests, targets, fixable);
    let fetches = shared_fetches(analysis, &fetchable, &settings);
    targets
        .iter()
        .map(|target| {
            let request = analysis.requests.get(target.request)?;
            let fix = match target.fix {
                RequestFix::FetchToken => None,
                RequestFix::UsePut => put_fix(request),
                RequestFix::SetTtl => ttl_fix(request, &settings),
            };
            if target.fix != RequestFix::FetchToken {
                return fix.map(|fix| {
                    if analysis.syntax_errors {
                        fix.made_unsafe(SYNTAX_ERRORS)
                    } else {
                        fix
                    }
                });
            }
            if !fixable(request) {
                return None;
            }
            let site = &request.site;
            let quoting = site.quoting.as_deref()?;
            let (variable, mut edits, message) = match &site.reusable_token {
                Some(variable) => (
                    variable.clone(),
                    Vec::new(),
                    format!("Send the existing token `${variable}` with this request"),
                ),
                None => {
                    let (_, variable, edits) =
                        fetches.iter().find(|(members, _, _)| members.contains(&target.request))?;
                    (
                        variable.clone(),
                        edits.clone(),
                        format!(
                            "Fetch an IMDSv2 token into `${variable}` once and send it with this request"
                        ),
                    )
                }
            };
            let header = if request.client == Client::WebClient {
                let receiver = site.receiver.as_ref()?;
                let anchor = site.blocks.first().filter(|a| a.begins_line)?;
                let quoting = anchor.quoting.as_deref()?;
                let (indent, eol) = (&anchor.indent, anchor.eol);
                Edit::insert(
                    anchor.line_start,
                    encode(
                        &format!(
                            "{indent}if (${variable}) {{ {receiver}.Headers[\"{TOKEN_HEADER}\"] = ${variable} }}{eol}"
                        ),
                        quoting,
                    ),
                )
            } else {
                match site.arguments.as_ref()? {
                    ArgumentSite::Merge { at, empty } => Edit::insert(
                        *at,
                        encode(
                            &format!(
                                "\"{TOKEN_HEADER}\" = ${variable}{}",
                                if *empty { "" } else { "; " }
                            ),
                            quoting,
                        ),
                    ),
                    ArgumentSite::Add { at, .. } => Edit::insert(
                        *at,
                        encode(
                            &format!(" -Headers @{{\"{TOKEN_HEADER}\" = ${variable}}}"),
                            quoting,
                        ),
                    ),
                }
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

/// IMDS002 on a web cmdlet: its `-Method` value becomes `PUT`, or `-Method PUT` is added after
/// the cmdlet's name. Unsafe where the request named another method (a body it posted now goes
/// with the PUT); none where the method comes from a variable.
fn put_fix(request: &Request) -> Option<Fix> {
    if !matches!(
        request.client,
        Client::InvokeRestMethod | Client::InvokeWebRequest
    ) {
        return None;
    }
    let site = &request.site;
    let quoting = site.quoting.as_deref()?;
    let edit = match &site.method_word {
        Some((_, text)) if text.contains(['$', '(', '`']) => return None,
        Some((span, _)) => Edit {
            span: *span,
            content: encode("PUT", quoting),
        },
        // Splatted parameters (or a session) may already name a method: a second `-Method` fails.
        None if matches!(request.token, TokenUse::Unreadable(_)) => return None,
        None => Edit::insert(site.after_client, encode(" -Method PUT", quoting)),
    };
    let other = matches!(request.method, Method::Other(_));
    Some(Fix {
        applicability: if other {
            Applicability::Unsafe
        } else {
            Applicability::Safe
        },
        message: if other {
            "Send the token request as PUT (unsafe: it named another method, whose body the PUT now carries)".to_owned()
        } else {
            "Send the token request as PUT".to_owned()
        },
        edits: vec![edit],
    })
}

/// IMDS003 on a web cmdlet: a TTL value out of range is clamped into 1..=21600 (a value that is
/// not a number becomes `--token-ttl`'s), a missing TTL header is merged into the `-Headers`
/// literal or added as `-Headers @{…}`.
fn ttl_fix(request: &Request, settings: &FixSettings) -> Option<Fix> {
    if !matches!(
        request.client,
        Client::InvokeRestMethod | Client::InvokeWebRequest
    ) {
        return None;
    }
    let site = &request.site;
    let quoting = site.quoting.as_deref()?;
    let ttl = settings.token_ttl;
    match &site.ttl_word {
        Some((span, text)) => {
            if text.contains(['$', '(', '`']) {
                return None;
            }
            let value = text.trim_matches(|c: char| c.is_whitespace() || c == '"' || c == '\'');
            let new = match value.parse::<i128>() {
                Ok(n) => n.clamp(1, 21600) as u32,
                Err(_) => ttl,
            };
            Some(Fix {
                applicability: Applicability::Safe,
                message: format!("Set the TTL to {new} seconds"),
                edits: vec![Edit {
                    span: *span,
                    content: encode(&format!("\"{new}\""), quoting),
                }],
            })
        }
        None if request.ttl == Ttl::Missing => {
            let text = match site.arguments.as_ref()? {
                ArgumentSite::Merge { at, empty } => (
                    *at,
                    format!(
                        "\"{TTL_HEADER}\" = \"{ttl}\"{}",
                        if *empty { "" } else { "; " }
                    ),
                ),
                ArgumentSite::Add { at, .. } => {
                    (*at, format!(" -Headers @{{\"{TTL_HEADER}\" = \"{ttl}\"}}"))
                }
            };
            Some(Fix {
                applicability: Applicability::Safe,
                message: format!("Add a TTL header of {ttl} seconds"),
                edits: vec![Edit::insert(text.0, encode(&text.1, quoting))],
            })
        }
        None => None,
    }
}

/// Whether a request is one this writer fixes: a web cmdlet call whose headers it can write, or a
/// `WebClient` held in a variable, with no token.
fn fixable(request: &Request) -> bool {
    let writable = match request.client {
        Client::InvokeRestMethod | Client::InvokeWebRequest => request.site.arguments.is_some(),
        Client::WebClient => request.site.receiver.is_some(),
        _ => false,
    };
    writable && request.token == TokenUse::Absent && request.site.quoting.is_some()
}

/// One fetch per scope: the requests it serves, its variable, and the edits that insert it.
type Fetches = Vec<(
    Vec<usize>,
    String,
    Vec<(Edit, Option<crate::fragment::PlainScalar>)>,
)>;

fn shared_fetches(analysis: &Analysis, members: &[usize], settings: &FixSettings) -> Fetches {
    let name = |scope: &Scope, index: usize, used: &[(usize, String)]| {
        free_variable(&settings.token_variable, scope, index, used)
    };
    super::line_fetches(&analysis.requests, &analysis.scopes, members, &name)
        .into_iter()
        .map(|fetch| {
            let variable = fetch.variable;
            let url = fetch.url;
            let (indent, eol) = (&fetch.anchor.indent, fetch.anchor.eol);
            let ttl = settings.token_ttl;
            let line = format!(
                "{indent}try {{ ${variable} = Invoke-RestMethod -Headers @{{\"{TTL_HEADER}\" = \"{ttl}\"}} -Method PUT -Uri {url} -TimeoutSec 1 -ErrorAction Stop }} catch {{ ${variable} = $null }}{eol}"
            );
            let edit = Edit::insert(fetch.anchor.line_start, encode(&line, &fetch.quoting));
            (fetch.members, variable, vec![(edit, None)])
        })
        .collect()
}

/// The token variable's name: PowerShell's names are case-insensitive, so the names a scope
/// takes are compared without case.
fn free_variable(
    base: &str,
    scope: &Scope,
    scope_index: usize,
    used: &[(usize, String)],
) -> String {
    let upper = Scope {
        taken: scope.taken.iter().map(|t| t.to_ascii_uppercase()).collect(),
        token_vars: scope
            .token_vars
            .iter()
            .map(|t| t.to_ascii_uppercase())
            .collect(),
        ..Scope::default()
    };
    let used: Vec<(usize, String)> = used
        .iter()
        .map(|(i, n)| (*i, n.to_ascii_uppercase()))
        .collect();
    let found = free_name(&base.to_ascii_uppercase(), &upper, scope_index, &used);
    format!("{base}{}", found.get(base.len()..).unwrap_or_default())
}
