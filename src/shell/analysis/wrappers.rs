//! Requests made through a function of the script that hands its arguments to curl or wget
//! (`imdscurl() { curl -s --retry 3 "$@"; }`, `get() { curl -s "$1"; }`): the client call in the
//! function, read once with each call's arguments in place of `"$@"` and `$1`, `$2`….

use tree_sitter::Node;

use super::{token_flow, Analyzer, Code, Pending, Seen};
use crate::model::request::TokenUse;
use crate::shell::command::{self, Invocation};
use crate::shell::tree::argv;
use crate::shell::word::{node_text, span_of, Piece, Word};

/// How many calls of one function are read.
const MAX_CALLS: usize = 64;

impl Analyzer<'_> {
    /// For each client call of a function body whose URL is not known as written, the requests its
    /// function's calls make. One request per kind (token requests, other requests), at the client
    /// call, naming the calls that reach IMDS. Its fix edits the function, for every caller: it is
    /// offered only when every call reaches IMDS and they all send a token or none does, since a
    /// token header added in the function would go to the other hosts too, or twice.
    pub(super) fn wrapped_requests<'t>(&mut self, code: &Code<'_, 't>, seen: &mut Seen) {
        if seen.unresolved_clients.is_empty() || code.s.functions.is_empty() {
            return;
        }
        let nodes: Vec<Node<'t>> = code
            .s
            .commands
            .iter()
            .copied()
            .filter(|n| seen.unresolved_clients.contains(&span_of(*n)))
            .collect();
        for node in nodes {
            let span = span_of(node);
            let Some(function) = token_flow::enclosing_function(code.s, code.text, span) else {
                continue;
            };
            if shifts(code, span) {
                continue;
            }
            let (words, word_nodes) = argv(node, code.text);
            let Invocation::Client {
                client,
                busybox,
                program,
                ..
            } = command::invocation(&words)
            else {
                continue;
            };
            let takes_arguments = word_nodes
                .iter()
                .zip(&words)
                .skip(program + 1)
                .any(|(n, w)| all_arguments(*n, code.text) || positional(w));
            if !takes_arguments {
                continue;
            }
            let mut token_requests: Vec<Pending> = Vec::new();
            let mut requests: Vec<Pending> = Vec::new();
            let mut elsewhere = false;
            let calls = seen.calls.iter().filter(|c| c.name == function);
            for call in calls.take(MAX_CALLS) {
                let substituted = substitute(&words, &word_nodes, program, &call.args, code.text);
                match self.client_request(code, node, &substituted, client, busybox, program) {
                    Some(mut pending) => {
                        pending.start = span.start.0;
                        pending.function = Some(function.clone());
                        pending.request.calls = vec![code.map.span_to_host(call.span)];
                        if pending.request.token_endpoint {
                            seen.token_sources.push(call.span);
                            token_requests.push(pending);
                        } else {
                            requests.push(pending);
                        }
                    }
                    None => elsewhere = true,
                }
            }
            for group in [token_requests, requests] {
                if let Some(pending) = merge(group, elsewhere) {
                    self.pending.push(pending);
                }
            }
        }
    }
}

/// One request for a group of calls: the first that sends no token (what the rules judge), else
/// the first; naming every call. Its fix is withdrawn (no quoting to write in) when some call of
/// the function goes elsewhere, or when some calls send a token and others do not.
fn merge(group: Vec<Pending>, elsewhere: bool) -> Option<Pending> {
    let tokened =
        |p: &Pending| matches!(p.request.token, TokenUse::Variables(_) | TokenUse::Inline);
    let mixed = group.iter().any(tokened) && !group.iter().all(tokened);
    let calls: Vec<_> = group
        .iter()
        .flat_map(|p| p.request.calls.iter().copied())
        .collect();
    let first = group.iter().position(|p| !tokened(p)).unwrap_or_default();
    let mut pending = group.into_iter().nth(first)?;
    pending.request.calls = calls;
    if elsewhere || mixed {
        pending.request.site.quoting = None;
    }
    Some(pending)
}

/// Whether the function around `span` shifts its arguments, which moves what `$1` means.
fn shifts(code: &Code, span: crate::fragment::FragmentSpan) -> bool {
    code.s
        .functions
        .iter()
        .filter(|&&(_, body)| body.start_byte() <= span.start.0 && span.end.0 <= body.end_byte())
        .any(|&(_, body)| {
            let text = node_text(body, code.text);
            text.split(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
                .any(|w| w == b"shift")
        })
}

/// `"$@"`, `$@`, `"${@}"`, `$*`: all the function's arguments, each a word.
fn all_arguments(node: Node, text: &[u8]) -> bool {
    matches!(
        node_text(node, text),
        b"\"$@\"" | b"$@" | b"\"${@}\"" | b"${@}" | b"$*" | b"${*}"
    )
}

/// Whether a word reads `$1`, `${2}`….
fn positional(word: &Word) -> bool {
    word.pieces.iter().any(|p| match p {
        Piece::Variable { name, .. } => name.parse::<usize>().is_ok(),
        _ => false,
    })
}

/// The client call's words with a call's arguments in place of the function's parameters.
fn substitute(
    words: &[Word],
    nodes: &[Node],
    program: usize,
    args: &[Word],
    text: &[u8],
) -> Vec<Word> {
    let mut out: Vec<Word> = words.iter().take(program + 1).cloned().collect();
    for (word, node) in words.iter().zip(nodes).skip(program + 1) {
        if all_arguments(*node, text) {
            out.extend(args.iter().cloned());
            continue;
        }
        let mut pieces = Vec::new();
        for piece in &word.pieces {
            match piece {
                Piece::Variable { name, default } => match name.parse::<usize>() {
                    Ok(n) => match args.get(n.wrapping_sub(1)) {
                        Some(arg) => pieces.extend(arg.pieces.iter().cloned()),
                        None => pieces.extend(default.iter().flatten().cloned()),
                    },
                    Err(_) => pieces.push(piece.clone()),
                },
                other => pieces.push(other.clone()),
            }
        }
        out.push(Word {
            span: word.span,
            pieces,
        });
    }
    out
}
