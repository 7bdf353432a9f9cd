//! The fix planner's writer for Ansible's `uri`/`get_url` tasks: IMDS001 gets one token task per
//! play (or task file) and per `delegate_to:` host — a `uri` PUT registered under a free name,
//! inserted before the earliest task that holds one of the requests it serves — and the token
//! header on each request, merged into its `headers:` mapping or added as one.
//!
//! The token task must cost the play nothing where the original ran without a token (off EC2, a
//! container behind a hop limit of 1): it waits at most 2 s (`timeout: 2`), never fails
//! (`failed_when: false`), and the header sends the token only when the PUT answered 200;
//! otherwise its value is `omit`, which Ansible (2.8 and later) drops from `headers:`, so the
//! request goes out exactly as before. The token is kept out of the log (`no_log: true`), and
//! the task runs whatever `--tags` a run selects (`tags: [always]`), as the requests it serves may. What the
//! fixed task registers is what it registered before, with tokens optional; the token task's own
//! result is registered under a name nothing else uses.

use super::{token_url, FixSettings, RequestFix, Target, TOKEN_HEADER, TTL_HEADER};
use crate::ansible::{Analysis, HeaderSite, KeySite, Site};
use crate::model::fix::{Applicability, Edit, Fix};
use crate::model::request::{Client, TokenUse};

/// Plans the fixes of one Ansible host's findings, in the order given.
pub fn plan(analysis: &Analysis, targets: &[Target], settings: FixSettings) -> Vec<Option<Fix>> {
    let members: Vec<usize> = targets
        .iter()
        .filter(|t| t.fix == RequestFix::FetchToken)
        .map(|t| t.request)
        .filter(|&i| site_of(analysis, i).is_some())
        .collect();
    let fetches = token_tasks(analysis, &members, &settings);
    targets
        .iter()
        .map(|target| {
            if target.fix != RequestFix::FetchToken {
                return repair(analysis, *target, &settings);
            }
            let site = site_of(analysis, target.request)?;
            let (variable, task) = fetches
                .iter()
                .find(|(group, _, _)| *group == site.group)
                .map(|(_, variable, task)| (variable, task))?;
            let value = format!(
                "\"{{{{ {variable}.content if ({variable}.status | default(0)) == 200 else omit }}}}\""
            );
            let eol = site.task.eol;
            let header = match &site.header {
                HeaderSite::Line { at, indent } => {
                    Edit::insert(*at, format!("{indent}{TOKEN_HEADER}: {value}{eol}"))
                }
                HeaderSite::Flow { at, empty } => Edit::insert(
                    *at,
                    format!("{TOKEN_HEADER}: {value}{}", if *empty { "" } else { ", " }),
                ),
                HeaderSite::NewKey { at, indent } => Edit::insert(
                    *at,
                    format!("{indent}headers:{eol}{indent}  {TOKEN_HEADER}: {value}{eol}"),
                ),
                HeaderSite::NewFlowKey { at } => {
                    Edit::insert(*at, format!("headers: {{{TOKEN_HEADER}: {value}}}, "))
                }
            };
            let mut edits = vec![task.clone(), header];
            edits.dedup();
            let fix = Fix {
                applicability: Applicability::Safe,
                message: format!(
                    "Fetch an IMDSv2 token in a `uri` task registered as `{variable}` and send it in this task's `headers`"
                ),
                edits,
            };
            Some(match &site.unsafe_because {
                Some(why) => fix.made_unsafe(why),
                None => fix,
            })
        })
        .collect()
}

/// The site of a request this writer fixes: no token, a place to write one.
fn site_of(analysis: &Analysis, index: usize) -> Option<&Site> {
    let request = analysis.requests.get(index)?;
    if request.token != TokenUse::Absent || request.token_endpoint {
        return None;
    }
    analysis.sites.get(index)?.as_ref()
}

/// One token task per group of `members`: (group, variable, the edit that inserts it).
fn token_tasks(
    analysis: &Analysis,
    members: &[usize],
    settings: &FixSettings,
) -> Vec<((usize, Option<String>), String, Edit)> {
    let mut firsts: Vec<(&Site, usize)> = Vec::new();
    for &index in members {
        let Some(site) = site_of(analysis, index) else {
            continue;
        };
        match firsts.iter_mut().find(|(s, _)| s.group == site.group) {
            Some(first) if site.order < first.0.order => *first = (site, index),
            Some(_) => {}
            None => firsts.push((site, index)),
        }
    }
    let base = settings.token_variable.to_ascii_lowercase();
    let mut used: Vec<String> = Vec::new();
    firsts
        .into_iter()
        .filter_map(|(site, index)| {
            let request = analysis.requests.get(index)?;
            let variable = (1..)
                .map(|n| {
                    if n == 1 {
                        base.clone()
                    } else {
                        format!("{base}_{n}")
                    }
                })
                .find(|name| !analysis.taken.contains(name) && !used.contains(name))?;
            used.push(variable.clone());
            let (indent, eol) = (&site.task.indent, site.task.eol);
            let module = if site.fqcn {
                "ansible.builtin.uri"
            } else {
                "uri"
            };
            let url = token_url(&request.origin);
            let ttl = settings.token_ttl;
            let delegate = site
                .group
                .1
                .as_ref()
                .map(|to| format!("{indent}  delegate_to: {to}{eol}"))
                .unwrap_or_default();
            let text = format!(
                "{indent}- name: Fetch an IMDSv2 token{eol}\
                 {indent}  {module}:{eol}\
                 {indent}    url: {url}{eol}\
                 {indent}    method: PUT{eol}\
                 {indent}    headers:{eol}\
                 {indent}      {TTL_HEADER}: \"{ttl}\"{eol}\
                 {indent}    return_content: true{eol}\
                 {indent}    timeout: 2{eol}\
                 {delegate}\
                 {indent}  register: {variable}{eol}\
                 {indent}  failed_when: false{eol}\
                 {indent}  no_log: true{eol}\
                 {indent}  tags: [always]{eol}"
            );
            Some((
                site.group.clone(),
                variable,
                Edit::insert(site.task.line_start, text),
            ))
        })
        .collect()
}

/// IMDS002 and IMDS003 on a `uri` token request: `method: PUT` (replacing the method written, or
/// a new key beside `url:`), and a TTL header (replacing an invalid value, or merged into
/// `headers:` like a token header). Safe: the request failed before (IMDS answers a token GET
/// with 405 and a PUT without a valid TTL with 400), so nothing that worked changes.
fn repair(analysis: &Analysis, target: Target, settings: &FixSettings) -> Option<Fix> {
    let request = analysis.requests.get(target.request)?;
    let repair = analysis.repairs.get(target.request)?;
    let eol = repair.eol;
    let (edit, message) = match target.fix {
        RequestFix::UsePut => {
            let edit = match repair.method.as_ref()? {
                KeySite::Replace(span) => Edit {
                    span: *span,
                    content: "PUT".to_owned(),
                },
                KeySite::Insert(HeaderSite::NewKey { at, indent }) => {
                    Edit::insert(*at, format!("{indent}method: PUT{eol}"))
                }
                KeySite::Insert(HeaderSite::NewFlowKey { at }) => {
                    Edit::insert(*at, "method: PUT, ".to_owned())
                }
                KeySite::Insert(_) => return None,
            };
            (edit, "Send the token request with `method: PUT`".to_owned())
        }
        RequestFix::SetTtl => {
            let ttl = settings.token_ttl;
            let value = format!("\"{ttl}\"");
            let edit = match repair.ttl.as_ref()? {
                KeySite::Replace(span) => Edit {
                    span: *span,
                    content: value,
                },
                KeySite::Insert(HeaderSite::Line { at, indent }) => {
                    Edit::insert(*at, format!("{indent}{TTL_HEADER}: {value}{eol}"))
                }
                KeySite::Insert(HeaderSite::Flow { at, empty }) => Edit::insert(
                    *at,
                    format!("{TTL_HEADER}: {value}{}", if *empty { "" } else { ", " }),
                ),
                KeySite::Insert(HeaderSite::NewKey { at, indent }) => Edit::insert(
                    *at,
                    format!("{indent}headers:{eol}{indent}  {TTL_HEADER}: {value}{eol}"),
                ),
                KeySite::Insert(HeaderSite::NewFlowKey { at }) => {
                    Edit::insert(*at, format!("headers: {{{TTL_HEADER}: {value}}}, "))
                }
            };
            (edit, format!("Ask for a token that lives {ttl} s"))
        }
        RequestFix::FetchToken => return None,
    };
    if !request.token_endpoint || request.client != Client::AnsibleUri {
        return None;
    }
    Some(Fix {
        applicability: Applicability::Safe,
        message,
        edits: vec![edit],
    })
}
