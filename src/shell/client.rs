//! The command lines of `curl` and `wget`: which words are URLs, headers and the method, read the
//! way each tool reads its options (clustered short flags, attached values, `--opt=value`).

pub use crate::model::request::Limits;
use crate::shell::word::{Piece, Word};

/// What a client invocation asks for, before any URL is resolved.
#[derive(Debug, Default)]
pub struct ClientCall {
    pub urls: Vec<Word>,
    /// An explicit method (`-X PUT`, `--method=PUT`).
    pub method: Option<Word>,
    /// A method implied by another option (`-T` uploads with PUT, `-d` posts, `-I` asks HEAD).
    pub implied_method: Option<&'static str>,
    pub headers: Vec<Word>,
    /// Options or headers read from somewhere the analysis cannot see, described for the user.
    pub unreadable: Option<String>,
    pub limits: Limits,
}

/// curl's short options that take a value.
const CURL_SHORT_WITH_VALUE: &str = "AbcCdDeEFHKmoPQrtTuUwxXyYz";

/// curl's long options that take a value (the common ones; an unknown long option is read as a
/// flag, which at worst makes its value look like a URL that does not match).
const CURL_LONG_WITH_VALUE: &[&str] = &[
    "abstract-unix-socket",
    "alt-svc",
    "aws-sigv4",
    "cacert",
    "capath",
    "cert",
    "cert-type",
    "ciphers",
    "config",
    "connect-timeout",
    "connect-to",
    "continue-at",
    "cookie",
    "cookie-jar",
    "data",
    "data-ascii",
    "data-binary",
    "data-raw",
    "data-urlencode",
    "delegation",
    "dns-interface",
    "dns-ipv4-addr",
    "dns-ipv6-addr",
    "dns-servers",
    "dump-header",
    "egd-file",
    "engine",
    "etag-compare",
    "etag-save",
    "expect100-timeout",
    "form",
    "form-string",
    "ftp-account",
    "ftp-alternative-to-user",
    "ftp-method",
    "ftp-port",
    "happy-eyeballs-timeout-ms",
    "header",
    "hostpubmd5",
    "hostpubsha256",
    "hsts",
    "interface",
    "ipfs-gateway",
    "json",
    "keepalive-time",
    "key",
    "key-type",
    "krb",
    "libcurl",
    "limit-rate",
    "local-port",
    "login-options",
    "mail-auth",
    "mail-from",
    "mail-rcpt",
    "max-filesize",
    "max-redirs",
    "max-time",
    "netrc-file",
    "noproxy",
    "oauth2-bearer",
    "output",
    "output-dir",
    "pass",
    "pinnedpubkey",
    "preproxy",
    "proto",
    "proto-default",
    "proto-redir",
    "proxy",
    "proxy-cacert",
    "proxy-capath",
    "proxy-cert",
    "proxy-cert-type",
    "proxy-ciphers",
    "proxy-header",
    "proxy-key",
    "proxy-key-type",
    "proxy-pass",
    "proxy-pinnedpubkey",
    "proxy-service-name",
    "proxy-tls13-ciphers",
    "proxy-tlsauthtype",
    "proxy-tlspassword",
    "proxy-tlsuser",
    "proxy-user",
    "proxy1.0",
    "pubkey",
    "quote",
    "random-file",
    "range",
    "rate",
    "referer",
    "request",
    "request-target",
    "resolve",
    "retry",
    "retry-delay",
    "retry-max-time",
    "sasl-authzid",
    "service-name",
    "socks4",
    "socks4a",
    "socks5",
    "socks5-gssapi-service",
    "socks5-hostname",
    "speed-limit",
    "speed-time",
    "stderr",
    "telnet-option",
    "tftp-blksize",
    "time-cond",
    "tls-max",
    "tls13-ciphers",
    "tlsauthtype",
    "tlspassword",
    "tlsuser",
    "trace",
    "trace-ascii",
    "trace-config",
    "unix-socket",
    "upload-file",
    "url",
    "url-query",
    "user",
    "user-agent",
    "variable",
    "write-out",
];

/// wget's short options that take a value.
const WGET_SHORT_WITH_VALUE: &str = "aABDeiIlOoPQRtTUwX";

/// wget's long options that take a value (GNU wget and BusyBox).
const WGET_LONG_WITH_VALUE: &[&str] = &[
    "accept",
    "accept-regex",
    "append-output",
    "base",
    "bind-address",
    "body-data",
    "body-file",
    "ca-certificate",
    "ca-directory",
    "certificate",
    "certificate-type",
    "config",
    "connect-timeout",
    "cut-dirs",
    "default-page",
    "directory-prefix",
    "dns-timeout",
    "domains",
    "exclude-directories",
    "exclude-domains",
    "execute",
    "header",
    "http-password",
    "http-user",
    "include-directories",
    "input-file",
    "level",
    "limit-rate",
    "load-cookies",
    "local-encoding",
    "max-redirect",
    "method",
    "output-document",
    "output-file",
    "password",
    "post-data",
    "post-file",
    "private-key",
    "private-key-type",
    "progress",
    "proxy-password",
    "proxy-user",
    "quota",
    "read-timeout",
    "referer",
    "reject",
    "reject-regex",
    "remote-encoding",
    "restrict-file-names",
    "save-cookies",
    "secure-protocol",
    "timeout",
    "tries",
    "user",
    "user-agent",
    "wait",
    "waitretry",
];

/// A word without its first `chars` literal characters (the value attached to an option).
fn strip_prefix_chars(word: &Word, chars: usize) -> Word {
    let mut left = chars;
    let mut pieces = Vec::with_capacity(word.pieces.len());
    for piece in &word.pieces {
        match piece {
            Piece::Literal(text) if left > 0 => {
                let count = text.chars().count();
                if count <= left {
                    left -= count;
                } else {
                    pieces.push(Piece::Literal(text.chars().skip(left).collect()));
                    left = 0;
                }
            }
            other => pieces.push(other.clone()),
        }
    }
    Word {
        span: word.span,
        pieces,
    }
}

/// A word that is nothing but unreadable expansions (`"${ARGS[@]}"`, `$@`).
fn only_unknown(word: &Word) -> bool {
    !word.pieces.is_empty() && word.pieces.iter().all(|p| matches!(p, Piece::Unknown))
}

/// One option read off an argument list: its name and, if it takes one, its value.
struct Parsed {
    name: String,
    value: Option<Word>,
}

/// One item of an argument list.
enum Arg {
    Option(Parsed),
    Operand(Word),
}

/// Reads an argument list into options (with their values) and operands.
fn walk(args: &[Word], short_with_value: &str, long_with_value: &[&str]) -> Vec<Arg> {
    let mut out = Vec::new();
    let mut i = 0;
    let mut options_done = false;
    while let Some(word) = args.get(i) {
        i += 1;
        let prefix = word.literal_prefix();
        if options_done || !prefix.starts_with('-') || prefix == "-" {
            out.push(Arg::Operand(word.clone()));
            continue;
        }
        if prefix == "--" && word.literal().is_some() {
            options_done = true;
            continue;
        }
        if let Some(long) = prefix.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((name, _)) => (name.to_owned(), true),
                None => (long.to_owned(), false),
            };
            let value = if inline {
                Some(strip_prefix_chars(word, 2 + name.chars().count() + 1))
            } else if long_with_value.contains(&name.as_str()) {
                i += 1;
                args.get(i - 1).cloned()
            } else {
                None
            };
            out.push(Arg::Option(Parsed { name, value }));
            continue;
        }
        // A cluster of short options: `-sSfL`, `-XPUT`, `-sX PUT`, `-H"…"`.
        let cluster: Vec<char> = prefix.chars().skip(1).collect();
        for (k, c) in cluster.iter().enumerate() {
            if short_with_value.contains(*c) {
                let attached = strip_prefix_chars(word, k + 2);
                let value = if attached.pieces.is_empty()
                    || attached.literal().is_some_and(|t| t.is_empty())
                {
                    i += 1;
                    args.get(i - 1).cloned()
                } else {
                    Some(attached)
                };
                out.push(Arg::Option(Parsed {
                    name: c.to_string(),
                    value,
                }));
                break;
            }
            out.push(Arg::Option(Parsed {
                name: c.to_string(),
                value: None,
            }));
        }
    }
    out
}

pub fn curl(args: &[Word], text_of: impl Fn(&Word) -> String) -> ClientCall {
    let mut call = ClientCall::default();
    for arg in walk(args, CURL_SHORT_WITH_VALUE, CURL_LONG_WITH_VALUE) {
        let Parsed { name, value } = match arg {
            Arg::Operand(word) => {
                operand(&mut call, word, &text_of);
                continue;
            }
            Arg::Option(parsed) => parsed,
        };
        match (name.as_str(), value) {
            ("X" | "request", Some(value)) => call.method = Some(value),
            ("H" | "header", Some(value)) => {
                if value.literal_prefix().starts_with('@') {
                    call.unreadable = Some(format!("headers read from `{}`", text_of(&value)));
                } else {
                    call.headers.push(value);
                }
            }
            ("url", Some(value)) => call.urls.push(value),
            ("K" | "config", Some(value)) => {
                call.unreadable = Some(format!("options read from `{}`", text_of(&value)));
            }
            ("T" | "upload-file", Some(_)) => call.implied_method = Some("PUT"),
            (
                "d" | "data" | "data-ascii" | "data-binary" | "data-raw" | "data-urlencode"
                | "json" | "F" | "form" | "form-string",
                Some(_),
            ) => {
                call.implied_method.get_or_insert("POST");
            }
            ("I" | "head", None) => call.implied_method = Some("HEAD"),
            ("m" | "max-time", Some(_)) => call.limits.wait = true,
            _ => {}
        }
    }
    call
}

pub fn wget(args: &[Word], text_of: impl Fn(&Word) -> String) -> ClientCall {
    let mut call = ClientCall::default();
    for arg in walk(args, WGET_SHORT_WITH_VALUE, WGET_LONG_WITH_VALUE) {
        let Parsed { name, value } = match arg {
            Arg::Operand(word) => {
                operand(&mut call, word, &text_of);
                continue;
            }
            Arg::Option(parsed) => parsed,
        };
        match (name.as_str(), value) {
            ("method", Some(value)) => call.method = Some(value),
            ("header", Some(value)) => call.headers.push(value),
            // `-e header=…` runs a wgetrc command.
            ("e" | "execute", Some(value)) => {
                let text = value.literal_prefix();
                if let Some((command, _)) = text.split_once('=') {
                    if command.trim().eq_ignore_ascii_case("header") {
                        let skip = command.chars().count() + 1;
                        call.headers.push(strip_prefix_chars(&value, skip));
                    }
                }
            }
            ("i" | "input-file", Some(value)) => {
                call.unreadable = Some(format!("URLs read from `{}`", text_of(&value)));
            }
            ("config", Some(value)) => {
                call.unreadable = Some(format!("options read from `{}`", text_of(&value)));
            }
            ("post-data" | "post-file", Some(_)) => call.implied_method = Some("POST"),
            ("T" | "timeout" | "read-timeout", Some(_)) => call.limits.wait = true,
            ("t" | "tries", Some(_)) => call.limits.tries = true,
            _ => {}
        }
    }
    call
}

/// An operand is a URL, unless it is nothing but unreadable expansions (`"${ARGS[@]}"`), which
/// may hide options.
fn operand(call: &mut ClientCall, word: Word, text_of: &impl Fn(&Word) -> String) {
    if only_unknown(&word) {
        call.unreadable
            .get_or_insert_with(|| format!("arguments from `{}`", text_of(&word)));
    } else {
        call.urls.push(word);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::word::literal_words as argv;

    fn lit(word: &Option<Word>) -> Option<String> {
        word.as_ref().and_then(Word::literal)
    }

    fn urls(call: &ClientCall) -> Vec<String> {
        call.urls.iter().filter_map(Word::literal).collect()
    }

    fn text(word: &Word) -> String {
        word.literal().unwrap_or_default()
    }

    #[test]
    fn curl_method_forms() {
        for line in [
            "-X PUT u",
            "-XPUT u",
            "-sX PUT u",
            "--request PUT u",
            "--request=PUT u",
        ] {
            let call = curl(&argv(line), text);
            assert_eq!(lit(&call.method).as_deref(), Some("PUT"), "{line}");
            assert_eq!(urls(&call), ["u"], "{line}");
        }
    }

    #[test]
    fn curl_values_do_not_look_like_urls() {
        let call = curl(
            &argv("-m 5 --retry 3 -o /tmp/x -w %{http_code} -sSfL u"),
            text,
        );
        assert_eq!(urls(&call), ["u"]);
        let call = curl(&argv("--url u -s"), text);
        assert_eq!(urls(&call), ["u"]);
    }

    #[test]
    fn curl_headers() {
        let call = curl(&argv("-H a -Hb --header c -sH d u"), text);
        let headers: Vec<String> = call.headers.iter().filter_map(Word::literal).collect();
        assert_eq!(headers, ["a", "b", "c", "d"]);
        assert!(curl(&argv("-H @h.txt u"), text).unreadable.is_some());
        assert!(curl(&argv("-K cfg u"), text).unreadable.is_some());
    }

    #[test]
    fn wget_options() {
        let call = wget(&argv("-qO- --header=a --header b --method=PUT u"), text);
        assert_eq!(urls(&call), ["u"]);
        assert_eq!(lit(&call.method).as_deref(), Some("PUT"));
        let headers: Vec<String> = call.headers.iter().filter_map(Word::literal).collect();
        assert_eq!(headers, ["a", "b"]);
        let call = wget(&argv("-q -O - u"), text);
        assert_eq!(urls(&call), ["u"]);
    }

    #[test]
    fn time_limits() {
        let none = Limits::default();
        let wait = Limits {
            wait: true,
            tries: false,
        };
        assert_eq!(curl(&argv("-s u"), text).limits, none);
        assert_eq!(curl(&argv("--connect-timeout 1 u"), text).limits, none);
        assert_eq!(curl(&argv("-sm 2 u"), text).limits, wait);
        assert_eq!(curl(&argv("--max-time 2 u"), text).limits, wait);
        assert_eq!(wget(&argv("-q u"), text).limits, none);
        assert_eq!(wget(&argv("-T 1 u"), text).limits, wait);
        assert_eq!(wget(&argv("--read-timeout=1 u"), text).limits, wait);
        assert_eq!(
            wget(&argv("--timeout=1 -t1 u"), text).limits,
            Limits {
                wait: true,
                tries: true
            }
        );
    }
}
