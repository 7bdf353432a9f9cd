//! PowerShell read as text: the value of a string literal or bare word with its variables
//! expanded (what PowerShell passes a command), variable names as keys, and the lexical reading
//! of a request in a region the grammar could not read.

use crate::model::request::{Client, Method};
use crate::shell::endpoint::{Endpoints, UNKNOWN};

/// The scopes and drives a variable name may be qualified with (`$script:x`, `$env:PATH`).
const QUALIFIERS: &[&str] = &[
    "script", "global", "local", "private", "using", "variable", "env",
];

/// A variable's name as a key: without `$`/`@`, braces and scope qualifier, lower-cased
/// (`$Script:Token` and `$token` are one variable; `$env:X` keeps its drive).
pub(super) fn variable_key(name: &str) -> String {
    let name = name.trim_start_matches(['$', '@']);
    let name = name
        .strip_prefix('{')
        .and_then(|n| n.strip_suffix('}'))
        .unwrap_or(name);
    let lower = name.to_ascii_lowercase();
    match lower.split_once(':') {
        Some((scope, rest)) if scope != "env" && QUALIFIERS.contains(&scope) => rest.to_owned(),
        _ => lower,
    }
}

/// A variable's name as written, for code a fix writes: without `$`, braces and scope qualifier.
pub(super) fn display_name(name: &str) -> String {
    let name = name.trim_start_matches(['$', '@']);
    let name = name
        .strip_prefix('{')
        .and_then(|n| n.strip_suffix('}'))
        .unwrap_or(name);
    match name.split_once(':') {
        Some((scope, rest))
            if QUALIFIERS.contains(&scope.to_ascii_lowercase().as_str())
                && !scope.eq_ignore_ascii_case("env") =>
        {
            rest.to_owned()
        }
        _ => name.to_owned(),
    }
}

/// A quoted key or value without its quotes (for headers read back by the tests).
pub(super) fn unquote(text: &str) -> String {
    for q in ['"', '\''] {
        if let Some(inner) = text.strip_prefix(q).and_then(|t| t.strip_suffix(q)) {
            return inner.to_owned();
        }
    }
    text.to_owned()
}

/// The value PowerShell makes of a string literal (`"…"`, `'…'`, here-strings) or a bare word
/// (`http://169.254.169.254/latest/$path`, `$base/latest/meta-data`): variables read through
/// `lookup` (`None`: not known), anything else computed is [`UNKNOWN`].
pub(super) fn expand(raw: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    let raw = raw.trim();
    if let Some(inner) = raw.strip_prefix("@'").and_then(|r| r.strip_suffix("'@")) {
        return here_body(inner).to_owned();
    }
    if let Some(inner) = raw.strip_prefix("@\"").and_then(|r| r.strip_suffix("\"@")) {
        return expandable(here_body(inner), lookup, false);
    }
    if raw.len() >= 2 {
        if let Some(inner) = raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
            return inner.replace("''", "'");
        }
        if let Some(inner) = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
            return expandable(inner, lookup, false);
        }
    }
    expandable(raw, lookup, true)
}

/// A here-string's lines between its opening and closing lines.
fn here_body(inner: &str) -> &str {
    let inner = inner.split_once('\n').map_or(inner, |(_, rest)| rest);
    inner
        .strip_suffix('\n')
        .map_or(inner, |r| r.strip_suffix('\r').unwrap_or(r))
}

/// An expandable string's text (or a bare word's, when `bare`).
fn expandable(text: &str, lookup: &dyn Fn(&str) -> Option<String>, bare: bool) -> String {
    let mut out = String::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        match c {
            '`' => {
                let escaped = chars.get(i + 1).copied();
                out.push(match escaped {
                    Some('n') => '\n',
                    Some('r') => '\r',
                    Some('t') => '\t',
                    Some('0') => '\0',
                    Some('a') => '\u{7}',
                    Some('b') => '\u{8}',
                    Some('f') => '\u{c}',
                    Some('v') => '\u{b}',
                    Some(other) => other,
                    None => '`',
                });
                i += 2;
            }
            '"' if !bare && chars.get(i + 1) == Some(&'"') => {
                out.push('"');
                i += 2;
            }
            '\'' | '"' if bare => {
                // A quoted part of a bare word: `http://h/'a b'`.
                let end = chars
                    .iter()
                    .skip(i + 1)
                    .position(|&q| q == c)
                    .map(|p| p + i + 1);
                match end {
                    Some(end) => {
                        let part: String = chars.get(i..=end).unwrap_or_default().iter().collect();
                        out.push_str(&expand(&part, lookup));
                        i = end + 1;
                    }
                    None => {
                        out.push(UNKNOWN);
                        break;
                    }
                }
            }
            '$' => {
                let next = chars.get(i + 1).copied();
                match next {
                    Some('(') => {
                        // A subexpression: its value is not known.
                        let mut depth = 0usize;
                        let mut j = i + 1;
                        while let Some(&d) = chars.get(j) {
                            if d == '(' {
                                depth += 1;
                            } else if d == ')' {
                                depth = depth.saturating_sub(1);
                                if depth == 0 {
                                    break;
                                }
                            }
                            j += 1;
                        }
                        out.push(UNKNOWN);
                        i = j + 1;
                    }
                    Some('{') => {
                        let end = chars
                            .iter()
                            .skip(i + 2)
                            .position(|&q| q == '}')
                            .map(|p| p + i + 2);
                        let Some(end) = end else {
                            out.push(UNKNOWN);
                            break;
                        };
                        let name: String =
                            chars.get(i + 2..end).unwrap_or_default().iter().collect();
                        out.push_str(&value_of(&name, lookup));
                        i = end + 1;
                    }
                    Some(n) if n.is_ascii_alphanumeric() || n == '_' || n == '?' => {
                        let mut j = i + 1;
                        while let Some(&d) = chars.get(j) {
                            if d.is_ascii_alphanumeric() || d == '_' {
                                j += 1;
                            } else if d == ':' {
                                let so_far: String =
                                    chars.get(i + 1..j).unwrap_or_default().iter().collect();
                                if QUALIFIERS.contains(&so_far.to_ascii_lowercase().as_str())
                                    && chars
                                        .get(j + 1)
                                        .is_some_and(|c| c.is_ascii_alphabetic() || *c == '_')
                                {
                                    j += 1;
                                } else {
                                    break;
                                }
                            } else {
                                break;
                            }
                        }
                        if n == '?' {
                            j = i + 2;
                        }
                        let name: String = chars.get(i + 1..j).unwrap_or_default().iter().collect();
                        out.push_str(&value_of(&name, lookup));
                        i = j;
                        // In a bare word, `$x.Split('.')[0]` or `$x[0]` is an expression.
                        let after = chars.get(i).copied();
                        let member = after == Some('.')
                            && chars.get(i + 1).is_some_and(|c| c.is_ascii_alphabetic());
                        if bare && (member || matches!(after, Some('[' | '('))) {
                            out.push(UNKNOWN);
                            break;
                        }
                    }
                    _ => {
                        out.push('$');
                        i += 1;
                    }
                }
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

fn value_of(name: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    lookup(name).unwrap_or_else(|| UNKNOWN.to_string())
}

/// A request read word by word from code the grammar could not read.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct LexicalRequest {
    pub client: Client,
    /// The URL word as written.
    pub url: String,
    /// From the command's (or method's) first byte to the end of its line, in the region.
    pub start: usize,
    pub end: usize,
    pub method: Method,
    /// The token header's name is written in it (its value cannot be followed).
    pub mentions_token: bool,
}

/// The first web request written in `raw`, read word by word.
pub(super) fn lexical_request(raw: &str) -> Option<LexicalRequest> {
    let lower = raw.to_ascii_lowercase();
    let mut best: Option<(usize, Client)> = None;
    let mut at = 0;
    for word in
        raw.split(|c: char| c.is_whitespace() || c == ';' || c == '(' || c == '=' || c == '|')
    {
        let start = word.as_ptr() as usize - raw.as_ptr() as usize;
        at = at.max(start);
        let client = match word.to_ascii_lowercase().as_str() {
            "invoke-restmethod" | "irm" => Some(Client::InvokeRestMethod),
            "invoke-webrequest" | "iwr" | "curl" | "wget" => Some(Client::InvokeWebRequest),
            w if w.contains(".downloadstring")
                || w.contains(".downloaddata")
                || w.contains(".downloadfile")
                || w.contains(".openread") =>
            {
                Some(Client::WebClient)
            }
            _ => None,
        };
        if let Some(client) = client {
            best = Some((start, client));
            break;
        }
    }
    let (start, client) = best?;
    let line_end = raw
        .get(start..)
        .and_then(|r| r.find('\n'))
        .map_or(raw.len(), |e| start + e);
    let line = raw.get(start..line_end)?;
    let url = line
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == ',')
        .map(|w| w.trim_matches(['"', '\'', ';']))
        .map(|w| {
            w.split_once(':')
                .filter(|(p, _)| p.eq_ignore_ascii_case("-uri"))
                .map_or(w, |(_, u)| u)
        })
        .find(|w| w.contains("://") || (w.starts_with('$') && w.contains('/')))?
        .to_owned();
    let line_lower = lower.get(start..line_end).unwrap_or_default();
    let method = if line_lower.contains("-method put") || line_lower.contains("\"put\"") {
        Method::Put
    } else {
        Method::Get
    };
    Some(LexicalRequest {
        client,
        url,
        start,
        end: line_end.trim_end_cr(raw),
        method,
        mentions_token: line_lower.contains("x-aws-ec2-metadata-token"),
    })
}

trait TrimCr {
    fn trim_end_cr(self, raw: &str) -> usize;
}

impl TrimCr for usize {
    fn trim_end_cr(self, raw: &str) -> usize {
        if self > 0 && raw.as_bytes().get(self - 1) == Some(&b'\r') {
            self - 1
        } else {
            self
        }
    }
}

/// Whether text names the metadata endpoint (a built-in spelling or one the run adds).
pub(super) fn mentions_endpoint(raw: &str, endpoints: &Endpoints) -> bool {
    let lower = raw.to_ascii_lowercase();
    crate::shell::endpoint::prefilter_needles()
        .iter()
        .any(|n| lower.contains(&n.to_ascii_lowercase()))
        || endpoints
            .extra_hosts()
            .iter()
            .any(|h| lower.contains(&h.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn look(name: &str) -> Option<String> {
        match variable_key(name).as_str() {
            "base" => Some("http://169.254.169.254".to_owned()),
            "p" => Some("meta-data".to_owned()),
            _ => None,
        }
    }

    #[test]
    fn expands_like_powershell() {
        assert_eq!(
            expand("\"$base/latest/$p\"", &look),
            "http://169.254.169.254/latest/meta-data"
        );
        assert_eq!(expand("'$base/x'", &look), "$base/x");
        assert_eq!(expand("'it''s'", &look), "it's");
        assert_eq!(expand("\"${base}/a\"", &look), "http://169.254.169.254/a");
        assert_eq!(
            expand("\"$Script:BASE/a\"", &look),
            "http://169.254.169.254/a"
        );
        assert_eq!(
            expand("$base/latest/meta-data", &look),
            "http://169.254.169.254/latest/meta-data"
        );
        assert_eq!(expand("\"a`$b `\"c\"", &look), "a$b \"c");
        assert_eq!(expand("\"say \"\"hi\"\"\"", &look), "say \"hi\"");
        assert_eq!(expand("\"$(Get-X)/a\"", &look), format!("{UNKNOWN}/a"));
        assert_eq!(expand("\"$other/a\"", &look), format!("{UNKNOWN}/a"));
        // A member access in a bare word is an expression; in a string it is text.
        assert_eq!(
            expand("$base.Split('.')[0]", &look),
            format!("http://169.254.169.254{UNKNOWN}")
        );
        assert_eq!(expand("\"$base.x\"", &look), "http://169.254.169.254.x");
        assert_eq!(
            expand("@\"\n$base/a\n\"@", &look),
            "http://169.254.169.254/a"
        );
        assert_eq!(expand("@'\n$base/a\n'@", &look), "$base/a");
    }

    #[test]
    fn variable_keys() {
        assert_eq!(variable_key("$Token"), "token");
        assert_eq!(variable_key("${Token}"), "token");
        assert_eq!(variable_key("$global:Token"), "token");
        assert_eq!(variable_key("$env:Token"), "env:token");
    }

    #[test]
    fn lexical_requests() {
        let r = lexical_request(
            "x = irm -Uri http://169.254.169.254/latest/meta-data/ami-id -Name a, b\nnext",
        )
        .unwrap();
        assert_eq!(r.client, Client::InvokeRestMethod);
        assert_eq!(r.url, "http://169.254.169.254/latest/meta-data/ami-id");
        assert_eq!(r.start, 4);
        assert_eq!(r.end, 70);
        assert!(!r.mentions_token);
        let r = lexical_request("$wc.DownloadString(\"http://169.254.169.254/latest/user-data\")")
            .unwrap();
        assert_eq!(r.client, Client::WebClient);
        assert_eq!(r.url, "http://169.254.169.254/latest/user-data");
        assert!(lexical_request("Write-Host 169.254.169.254").is_none());
    }
}
