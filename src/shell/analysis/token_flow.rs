//! Which variables hold a token, and what a request sends: the values a word may take once
//! variables are followed (with limits), the functions and variables a token request's output
//! flows into (through copies and nested shells, across frames), and the token and TTL headers.

use std::collections::{HashMap, HashSet};

use super::scope::{Boundary, Frame};
use super::{Analyzer, Call};
use crate::fragment::FragmentSpan;
use crate::model::request::{HeaderName, TokenUse, Ttl};
use crate::shell::endpoint::UNKNOWN;
use crate::shell::tree::Structure;
use crate::shell::word::{node_str, span_of, Piece, Word};

/// How many spellings of one word are tried when following variables.
const MAX_CANDIDATES: usize = 16;
/// How many variable hops are followed.
const MAX_HOPS: usize = 6;

const TOKEN_HEADER: &str = "x-aws-ec2-metadata-token";
const TTL_HEADER: &str = "x-aws-ec2-metadata-token-ttl-seconds";

fn contains(outer: FragmentSpan, inner: FragmentSpan) -> bool {
    outer.start <= inner.start && inner.end <= outer.end
}

/// The name of the innermost function of the fragment whose body holds `span`.
pub(super) fn enclosing_function(s: &Structure, text: &[u8], span: FragmentSpan) -> Option<String> {
    s.functions
        .iter()
        .filter(|&&(_, body)| contains(span_of(body), span))
        .min_by_key(|&&(_, body)| body.end_byte() - body.start_byte())
        .map(|&(name, _)| node_str(name, text))
}

impl Analyzer<'_> {
    /// Finds the functions and variables that carry a token: a variable assigned from a
    /// substitution that runs a token request (directly, through a function, or through a nested
    /// shell), or copied from such a variable.
    pub(super) fn token_flow(
        &mut self,
        fid: usize,
        s: &Structure,
        text: &[u8],
        sources: &mut Vec<FragmentSpan>,
        calls: &[Call],
    ) {
        let mut token_functions: HashSet<String> = HashSet::new();
        for _ in 0..8 {
            let mut changed = false;
            for &(name, body) in &s.functions {
                let body_span = span_of(body);
                if sources.iter().any(|&src| contains(body_span, src))
                    && token_functions.insert(node_str(name, text))
                {
                    changed = true;
                }
            }
            for call in calls {
                if token_functions.contains(&call.name) && !sources.contains(&call.span) {
                    sources.push(call.span);
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        let Some(frame) = self.frames.get(fid) else {
            return;
        };
        let mut token_vars: HashSet<String> = frame
            .vars
            .iter()
            .filter(|(_, defs)| {
                defs.iter().any(|def| {
                    def.value_span.is_some_and(|value| {
                        sources.iter().any(|&src| contains(value, src))
                            && def.pieces.iter().any(|p| matches!(p, Piece::Command(_)))
                    })
                })
            })
            .map(|(name, _)| name.clone())
            .collect();
        let functions: HashMap<String, bool> = s
            .functions
            .iter()
            .map(|&(name, _)| {
                let name = node_str(name, text);
                let called = calls.iter().any(|c| c.name == name);
                (name, called)
            })
            .collect();
        // Parameters a call passes a token in (`imds_get "$TOKEN" …`, `f "$(get_token)"`), and
        // copies (`T2=$TOKEN`, `local token=$1`), until nothing changes.
        let mut params: HashSet<(String, usize)> = HashSet::new();
        for _ in 0..8 {
            let mut changed = false;
            for call in calls.iter().filter(|c| functions.contains_key(&c.name)) {
                let caller = enclosing_function(s, text, call.span);
                for (i, arg) in call.args.iter().enumerate() {
                    let key = (call.name.clone(), i + 1);
                    if !params.contains(&key)
                        && self.carries_token(
                            frame,
                            &arg.pieces,
                            &token_vars,
                            &params,
                            caller.as_deref(),
                            sources,
                        )
                    {
                        params.insert(key);
                        changed = true;
                    }
                }
            }
            let copies: Vec<String> = frame
                .vars
                .iter()
                .filter(|(name, defs)| {
                    !token_vars.contains(*name)
                        && defs.iter().any(|def| match def.pieces.as_slice() {
                            [Piece::Variable { .. }] => {
                                let within =
                                    def.value_span.and_then(|v| enclosing_function(s, text, v));
                                self.carries_token(
                                    frame,
                                    &def.pieces,
                                    &token_vars,
                                    &params,
                                    within.as_deref(),
                                    &[],
                                )
                            }
                            _ => false,
                        })
                })
                .map(|(name, _)| name.clone())
                .collect();
            changed |= !copies.is_empty();
            token_vars.extend(copies);
            if !changed {
                break;
            }
        }
        if let Some(frame) = self.frames.get_mut(fid) {
            frame.token_vars = token_vars;
            frame.token_params = params;
            frame.functions = functions;
        }
    }

    /// Whether a word (an argument, a copied value) holds a token: a token variable, a parameter
    /// of `function` a call passes a token in, or a substitution that runs a token request.
    fn carries_token(
        &self,
        frame: &Frame,
        pieces: &[Piece],
        token_vars: &HashSet<String>,
        params: &HashSet<(String, usize)>,
        function: Option<&str>,
        sources: &[FragmentSpan],
    ) -> bool {
        pieces.iter().any(|piece| match piece {
            Piece::Variable { name, .. } => match name.parse::<usize>() {
                Ok(n) => function.is_some_and(|f| params.contains(&(f.to_owned(), n))),
                Err(_) => {
                    token_vars.contains(name)
                        || (!frame.vars.contains_key(name)
                            && frame.parent.is_some_and(|p| self.is_token_var(p, name)))
                }
            },
            Piece::Command(span) => sources.iter().any(|&src| contains(*span, src)),
            Piece::Literal(_) | Piece::Unknown => false,
        })
    }

    /// Whether the positional parameter `name` (`1`, `2`…) of `function` (the script's own, at the
    /// top level) may hold a token: some call of the function passes one there, or nothing in the
    /// fragment calls it (a library: its callers are elsewhere), or it is the script's own
    /// argument, which comes from whoever runs it.
    pub(super) fn is_token_param(&self, fid: usize, function: Option<&str>, name: &str) -> bool {
        let Ok(n) = name.parse::<usize>() else {
            return false;
        };
        let Some(frame) = self.frames.get(fid) else {
            return false;
        };
        match function {
            None => true,
            Some(f) => {
                frame.functions.get(f) != Some(&true)
                    || frame.token_params.contains(&(f.to_owned(), n))
            }
        }
    }

    /// Whether `name`, as seen from frame `fid`, holds a token. A child process sees only the
    /// exported variables of the code that started it.
    pub(super) fn is_token_var(&self, fid: usize, name: &str) -> bool {
        let mut current = Some(fid);
        let mut exported_only = false;
        while let Some(id) = current {
            let Some(frame) = self.frames.get(id) else {
                return false;
            };
            if frame.vars.contains_key(name) {
                return frame.token_vars.contains(name)
                    && (!exported_only || frame.is_exported(name));
            }
            if frame.boundary == Boundary::ChildProcess {
                exported_only = true;
            }
            current = frame.parent;
        }
        false
    }

    /// The values a list of pieces may take, following variables (at most [`MAX_CANDIDATES`]).
    /// Parts that cannot be known become [`UNKNOWN`].
    pub(super) fn candidates(&self, fid: usize, pieces: &[Piece], hops: usize) -> Vec<String> {
        let mut out = vec![String::new()];
        for piece in pieces {
            let options: Vec<String> = match piece {
                Piece::Literal(text) => vec![text.clone()],
                Piece::Variable { name, default } => {
                    let mut values = self.variable_values(fid, name, hops);
                    if let Some(default) = default {
                        values.extend(self.candidates(fid, default, hops + 1));
                    }
                    if values.is_empty() {
                        values.push(UNKNOWN.to_string());
                    }
                    values
                }
                Piece::Command(_) | Piece::Unknown => vec![UNKNOWN.to_string()],
            };
            let mut next = Vec::with_capacity(out.len() * options.len());
            for prefix in &out {
                for option in &options {
                    if next.len() < MAX_CANDIDATES {
                        next.push(format!("{prefix}{option}"));
                    }
                }
            }
            out = next;
        }
        out.dedup();
        out
    }

    /// The values a variable that the script itself sets may have at a command (assignments
    /// written before another command, for that command only, left out); none when the script
    /// does not set it.
    pub(super) fn script_variable_values(&self, fid: usize, name: &str) -> Vec<String> {
        let mut current = Some(fid);
        while let Some(id) = current {
            let Some(frame) = self.frames.get(id) else {
                break;
            };
            let defs: Vec<_> = frame
                .vars
                .get(name)
                .map(|defs| defs.iter().filter(|d| !d.prefix).collect())
                .unwrap_or_default();
            if !defs.is_empty() {
                let mut values: Vec<String> = Vec::new();
                for def in defs {
                    for value in self.candidates(id, &def.pieces, 1) {
                        if values.len() < MAX_CANDIDATES && !values.contains(&value) {
                            values.push(value);
                        }
                    }
                }
                return values;
            }
            current = frame.parent;
        }
        Vec::new()
    }

    fn variable_values(&self, fid: usize, name: &str, hops: usize) -> Vec<String> {
        if hops >= MAX_HOPS {
            return Vec::new();
        }
        let mut current = Some(fid);
        while let Some(id) = current {
            let Some(frame) = self.frames.get(id) else {
                break;
            };
            if let Some(defs) = frame.vars.get(name) {
                let mut values: Vec<String> = Vec::new();
                for def in defs {
                    for value in self.candidates(id, &def.pieces, hops + 1) {
                        if values.len() < MAX_CANDIDATES && !values.contains(&value) {
                            values.push(value);
                        }
                    }
                }
                return values;
            }
            current = frame.parent;
        }
        Vec::new()
    }
}

/// What a request's headers say about its token.
pub(super) struct TokenHeaders<'w> {
    /// The token header, when there is one.
    pub(super) token: Option<TokenUse>,
    /// The variables the token header's value reads; none when a command substitution writes it.
    pub(super) names: Vec<String>,
    pub(super) ttl: Ttl,
    /// The last TTL header written out in the command (not read from a variable whole).
    pub(super) ttl_word: Option<&'w Word>,
    /// Header words whose names are near misses of a header that is absent: which, and the name
    /// as written.
    pub(super) misspelled: Vec<(&'w Word, HeaderName, String)>,
}

/// Reads a request's headers, each with the values it may take, for its token and its TTL.
pub(super) fn token_headers(headers: &[(Word, Vec<String>)]) -> TokenHeaders<'_> {
    let mut token = None;
    let mut token_names = Vec::new();
    let mut ttl = Ttl::Missing;
    let mut ttl_word = None;
    let mut misspelled = Vec::new();
    for (word, values) in headers {
        let prefix = word.literal_prefix();
        if let Some((written, _)) = prefix.split_once(':') {
            let name = written.trim().to_ascii_lowercase();
            if let Some(header) = near_miss(&name) {
                misspelled.push((word, header, written.trim().to_owned()));
            }
            if name == TOKEN_HEADER {
                token = Some(TokenUse::Inline);
                token_names.extend(value_variables(word));
                // Fetched inline, or by a default when the variable is unset
                // (`${IMDS_TOKEN:-$(get_token)}`).
                let fetched = |p: &Piece| match p {
                    Piece::Command(_) => true,
                    Piece::Variable {
                        default: Some(default),
                        ..
                    } => default.iter().any(|d| matches!(d, Piece::Command(_))),
                    Piece::Literal(_) | Piece::Variable { .. } | Piece::Unknown => false,
                };
                if word.pieces.iter().any(fetched) {
                    token_names.clear();
                }
            } else if name == TTL_HEADER {
                ttl = ttl_of(values);
                ttl_word = Some(word);
            }
        } else if values.iter().any(|v| header_name(v) == TOKEN_HEADER) {
            // The whole header comes from a variable: the token is there, but its source is
            // not traced.
            token = Some(TokenUse::Inline);
        } else if values.iter().any(|v| header_name(v) == TTL_HEADER) {
            ttl = ttl_of(values);
        }
    }
    misspelled.retain(|(_, header, _)| match header {
        HeaderName::Token => token.is_none(),
        HeaderName::Ttl => ttl == Ttl::Missing,
    });
    TokenHeaders {
        token,
        names: token_names,
        ttl,
        ttl_word,
        misspelled,
    }
}

/// Whether a header name (in lower case) is a near miss of the token or the TTL header: the same
/// but for `_` for `-`, within a few letters of it (`aws-ec2-metadata-token` without its `x-`,
/// `x-aws-ec2-metadata-tokens`; six for the TTL header), or holding `ec2-metadata-token` (with
/// `ttl` for the TTL header).
/// Other clouds' headers (`Metadata-Token`, `Metadata-Flavor`) and unrelated names are far.
fn near_miss(name: &str) -> Option<HeaderName> {
    if name == TOKEN_HEADER || name == TTL_HEADER {
        return None;
    }
    let normal = name.replace('_', "-");
    let related = normal.contains("ec2-metadata-token");
    if normal.contains("ttl") {
        // The TTL header is long: a missing `token-` (6 letters) is still near.
        return (related || distance(&normal, TTL_HEADER) <= 6).then_some(HeaderName::Ttl);
    }
    (related || distance(&normal, TOKEN_HEADER) <= 4).then_some(HeaderName::Token)
}

/// Levenshtein distance between two ASCII-or-not strings, by characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row.first().copied().unwrap_or_default();
        if let Some(first) = row.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let above = row.get(j + 1).copied().unwrap_or_default();
            let left = row.get(j).copied().unwrap_or_default();
            let cost = usize::from(ca != *cb);
            let value = (above + 1).min(left + 1).min(diagonal + cost);
            diagonal = above;
            if let Some(cell) = row.get_mut(j + 1) {
                *cell = value;
            }
        }
    }
    row.last().copied().unwrap_or_default()
}

/// The variables used after the colon of a header word.
fn value_variables(word: &Word) -> Vec<String> {
    let mut seen_colon = false;
    let mut names = Vec::new();
    for piece in &word.pieces {
        match piece {
            Piece::Literal(text) if text.contains(':') => seen_colon = true,
            Piece::Variable { name, .. } if seen_colon => names.push(name.clone()),
            _ => {}
        }
    }
    names
}

fn header_name(value: &str) -> String {
    value
        .split_once(':')
        .map(|(name, _)| name.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// The TTL a header's values give. A value that cannot be read makes it unknown, whatever the
/// others: `local ttl=""` then `ttl=$(…)` is unknown, not empty. An empty value among others is an
/// initial value the others replace, and is not judged on its own.
fn ttl_of(values: &[String]) -> Ttl {
    let raws: Vec<&str> = values
        .iter()
        .map(|value| value.split_once(':').map_or("", |(_, v)| v).trim())
        .collect();
    if raws.iter().any(|raw| raw.contains(UNKNOWN)) {
        return Ttl::Unknown;
    }
    let judged = |raw: &&&str| !raw.is_empty() || raws.iter().all(|r| r.is_empty());
    let mut result = Ttl::Unknown;
    for &raw in raws.iter().filter(judged) {
        match raw.parse::<u32>() {
            Ok(n) if (1..=21600).contains(&n) => {
                if result == Ttl::Unknown {
                    result = Ttl::Valid(n);
                }
            }
            _ => return Ttl::Invalid(raw.to_owned()),
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses_of_the_token_headers() {
        for (name, header) in [
            ("aws-ec2-metadata-token", HeaderName::Token),
            ("x-aws-ec2-metadata-tokens", HeaderName::Token),
            ("x_aws_ec2_metadata_token", HeaderName::Token),
            ("x-aws-ec2-metdata-token", HeaderName::Token),
            ("x-aws-metadata-token", HeaderName::Token),
            ("x-amz-ec2-metadata-token", HeaderName::Token),
            ("x-aws-ec2-metadata-token-ttl", HeaderName::Ttl),
            ("x-aws-ec2-metadata-token-ttl-second", HeaderName::Ttl),
            ("aws-ec2-metadata-token-ttl-seconds", HeaderName::Ttl),
            ("x-aws-ec2-metadata-ttl-seconds", HeaderName::Ttl),
        ] {
            assert_eq!(near_miss(name), Some(header), "{name}");
        }
        for name in [
            "x-aws-ec2-metadata-token",
            "x-aws-ec2-metadata-token-ttl-seconds",
            "metadata-token",
            "metadata-token-expiry-seconds",
            "metadata-flavor",
            "x-metadata-token",
            "authorization",
            "accept",
            "user-agent",
            "x-amz-security-token",
            "x-ttl-seconds",
        ] {
            assert_eq!(near_miss(name), None, "{name}");
        }
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("", "abc"), 3);
    }
}
