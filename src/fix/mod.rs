//! Fixes: byte edits on the original file, built from the request model (never from syntax
//! nodes), each with its applicability decided here, where the fix is built. `apply` applies
//! them; `write` puts the result on disk atomically.

pub mod apply;
pub mod converge;
pub mod settings;
pub mod write;

use crate::fragment::{HostOffset, HostSpan, PlainScalar};
use crate::shell::request::{BlockKind, Client, Method, Quoting, Request, Scope, TokenUse};
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

const TOKEN_HEADER: &str = "X-aws-ec2-metadata-token";
const TTL_HEADER: &str = "X-aws-ec2-metadata-token-ttl-seconds";

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
    let tokenless: Vec<usize> = targets
        .iter()
        .filter(|t| t.fix == RequestFix::FetchToken)
        .map(|t| t.request)
        .collect();
    let shared = SharedFetches::plan(analysis, &tokenless, settings);
    targets
        .iter()
        .map(|target| {
            let request = analysis.requests.get(target.request)?;
            let fix = match target.fix {
                RequestFix::FetchToken => {
                    tokenless_fix(analysis, target.request, request, &shared, settings)
                }
                RequestFix::UsePut => put_fix(request),
                RequestFix::SetTtl => ttl_fix(request, settings),
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

/// Why a fix in a fragment with syntax errors is unsafe.
const SYNTAX_ERRORS: &str = "the script has syntax errors and was read only as far as it goes";

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
fn fetch_command(origin: &str, curl: bool, ttl: u32) -> String {
    let url = token_url(origin);
    if curl {
        format!(r#"curl -sS -X PUT "{url}" -H "{TTL_HEADER}: {ttl}""#)
    } else {
        format!(r#"wget -q -O - --method=PUT --header="{TTL_HEADER}: {ttl}" "{url}""#)
    }
}

/// The option that sends the token header with `value`.
fn header_option(client: Client, value: &str) -> String {
    match client {
        Client::Curl => format!(r#" -H "{TOKEN_HEADER}: {value}""#),
        Client::Wget => format!(r#" --header="{TOKEN_HEADER}: {value}""#),
    }
}

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
                "{}{variable}=$({}){}",
                anchor.indent,
                fetch_command(origin, scope.uses_curl, settings.token_ttl),
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

/// Where one fetch serving all `requests` goes: before the first statement holding one of them,
/// in the innermost block that holds them all and whose statement begins its line (the script
/// itself as the last resort).
fn insertion_point(requests: &[&Request]) -> Option<crate::shell::request::BlockAnchor> {
    let first = requests.first()?;
    for candidate in &first.site.blocks {
        let anchors: Option<Vec<&crate::shell::request::BlockAnchor>> = requests
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

fn tokenless_fix(
    analysis: &Analysis,
    index: usize,
    request: &Request,
    shared: &SharedFetches,
    settings: &FixSettings,
) -> Option<Fix> {
    let site = &request.site;
    let quoting = site.quoting.as_deref()?;
    let plain = site.plain.as_ref();
    let scope = site.scope.and_then(|s| analysis.scopes.get(s));
    let mut unsafe_because: Vec<String> = Vec::new();
    if let TokenUse::Unreadable(what) = &request.token {
        unsafe_because.push(format!("{what} may already send a token"));
    }
    if site.failure_handled && scope.is_some_and(|s| s.errexit) {
        unsafe_because.push(
            "the script tolerates this request failing, but under `set -e` a failing token fetch would stop it".to_owned(),
        );
    }
    let (edits, message, uses_wget_fetch) = if let Some(variable) = &site.reusable_token {
        (
            insert_at(
                site.after_client,
                &header_option(request.client, &format!("${variable}")),
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
                    &header_option(request.client, &format!("${}", fetch.variable)),
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
        // Alone in a string run by `sh -c` or `eval`: the header fetches its own token.
        let curl = request.client == Client::Curl;
        let inline = format!(
            "$({})",
            fetch_command(&request.origin, curl, settings.token_ttl)
        );
        (
            insert_at(
                site.after_client,
                &header_option(request.client, &inline),
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

/// IMDS002: make the token request a PUT.
fn put_fix(request: &Request) -> Option<Fix> {
    let site = &request.site;
    let quoting = site.quoting.as_deref()?;
    let plain = site.plain.as_ref();
    if request.client == Client::Wget && request.busybox {
        return None;
    }
    let edits = match (&site.method_word, request.client) {
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
            write_at(*span, &replacement, quoting, plain)
        }
        (None, Client::Curl) => insert_at(site.after_client, " -X PUT", quoting, plain),
        (None, Client::Wget) => insert_at(site.after_client, " --method=PUT", quoting, plain),
    };
    // A body (`-d`) was being posted: the PUT now carries it, which IMDS ignores, but say so.
    let posts = site.method_word.is_none() && matches!(request.method, Method::Other(_));
    Some(Fix {
        applicability: if posts {
            Applicability::Unsafe
        } else {
            Applicability::Safe
        },
        message: "Send the token request as PUT".to_owned(),
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
            };
            Some(Fix {
                applicability: Applicability::Safe,
                message: format!("Add a TTL header of {ttl} seconds"),
                edits: finish(insert_at(site.after_client, &option, quoting, plain)),
            })
        }
        Some((span, text)) => {
            if text.contains(['$', '`']) {
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
mod tests {
    use super::*;

    #[test]
    fn encoding_through_layers() {
        let text = r#"-H "T: $(curl -X PUT "u")""#;
        assert_eq!(encode(text, &[Quoting::SingleQuoted]), text);
        assert_eq!(
            encode(text, &[Quoting::DoubleQuoted]),
            r#"-H \"T: \$(curl -X PUT \"u\")\""#
        );
        // Inside '…' inside "…": the single-quote layer changes nothing, the double one escapes.
        assert_eq!(
            encode("it's $x", &[Quoting::DoubleQuoted, Quoting::SingleQuoted]),
            r#"it'\\''s \$x"#
        );
        assert_eq!(
            encode("a $b `c`", &[Quoting::UnquotedHeredoc]),
            r"a \$b \`c\`"
        );
    }

    /// The applicability of every fix planned for the requests of `script`.
    fn applicability(script: &str) -> Vec<Option<Applicability>> {
        let analysis = crate::shell::analyze(&crate::fragment::Fragment::script(script.as_bytes()));
        let targets: Vec<Target> = (0..analysis.requests.len())
            .map(|request| Target {
                request,
                fix: RequestFix::FetchToken,
            })
            .collect();
        plan(&analysis, &targets, FixSettings::default())
            .into_iter()
            .map(|fix| fix.map(|f| f.applicability))
            .collect()
    }

    #[test]
    fn fixes_in_a_script_with_syntax_errors_are_unsafe_at_most() {
        let request = "curl -s http://169.254.169.254/latest/meta-data/ami-id\n";
        assert_eq!(applicability(request), [Some(Applicability::Safe)]);
        for broken in [
            "if [ -n \"$x\" ]; then\n  echo (\nfi\n",
            "echo \"unterminated\n",
            "case x in\n",
        ] {
            for script in [format!("{request}{broken}"), format!("{broken}{request}")] {
                let got = applicability(&script);
                assert!(
                    got.iter().all(|a| *a != Some(Applicability::Safe)),
                    "{script:?}: {got:?}"
                );
            }
        }
        let analysis = crate::shell::analyze(&crate::fragment::Fragment::script(
            format!("{request}echo (\n").as_bytes(),
        ));
        let fix = plan(
            &analysis,
            &[Target {
                request: 0,
                fix: RequestFix::FetchToken,
            }],
            FixSettings::default(),
        );
        let message = &fix[0].as_ref().unwrap().message;
        assert!(
            message.ends_with(
                "(unsafe: the script has syntax errors and was read only as far as it goes)"
            ),
            "{message}"
        );
    }

    #[test]
    fn endpoints_group_by_host() {
        assert_eq!(endpoint_key("http://169.254.169.254"), "169.254.169.254");
        assert_eq!(endpoint_key("169.254.169.254:80"), "169.254.169.254");
        assert_eq!(endpoint_key("HTTP://[FD00:EC2::254]"), "[fd00:ec2::254]");
    }

    #[test]
    fn token_urls_keep_the_spelling() {
        assert_eq!(
            token_url("http://[fd00:ec2::254]"),
            "http://[fd00:ec2::254]/latest/api/token"
        );
        assert_eq!(
            token_url("169.254.169.254:80"),
            "http://169.254.169.254:80/latest/api/token"
        );
    }
}
