//! Redaction of decoded text shown to the user: a decoded Secret or user-data blob may hold
//! credentials, so only the offending command is shown, with anything that looks like a key,
//! password or token replaced by `***`.

use std::sync::OnceLock;

use regex::Regex;

fn patterns() -> &'static [(Regex, &'static str)] {
    static PATTERNS: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        [
            // AWS access key ids.
            (r"\b(AKIA|ASIA)[0-9A-Z]{16}\b", "***"),
            // NAME=value and NAME: value where the name says secret.
            (
                r"(?i)\b([A-Z0-9_.-]*(?:password|passwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential)[A-Z0-9_.-]*)(\s*[=:]\s*)(\x22[^\x22]*\x22|'[^']*'|[^\s\x22']+)",
                "${1}${2}***",
            ),
            // Authorization headers and bearer tokens.
            (r"(?i)(authorization:\s*)(\S+\s+)?\S+", "${1}***"),
            (r"(?i)(bearer\s+)\S+", "${1}***"),
            // curl's user:password, and credentials in URLs.
            (r"((?:^|\s)(?:-u|--user|--proxy-user|-U)\s+)\S+", "${1}***"),
            (r"(://)[^/@\s]+@", "${1}***@"),
            // Long opaque strings (keys, tokens, blobs), not URL paths.
            (r"[A-Za-z0-9+=_]{32,}", "***"),
        ]
        .into_iter()
        .filter_map(|(pattern, replacement)| Regex::new(pattern).ok().map(|r| (r, replacement)))
        .collect()
    })
}

/// `text` with anything that looks like a secret replaced by `***`.
pub fn redact(text: &str) -> String {
    let mut out = text.to_owned();
    for (pattern, replacement) in patterns() {
        out = pattern.replace_all(&out, *replacement).into_owned();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hides_secrets_keeps_the_command() {
        let shown = redact("curl -u admin:hunter2 -H 'Authorization: Bearer abc.def' http://169.254.169.254/latest/meta-data/");
        assert!(
            shown.contains("http://169.254.169.254/latest/meta-data/"),
            "{shown}"
        );
        assert!(!shown.contains("abc.def"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(
            redact("curl https://bob:pw@example.com/"),
            "curl https://***@example.com/"
        );
        assert_eq!(
            redact("AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG"),
            "AWS_SECRET_ACCESS_KEY=***"
        );
        assert_eq!(redact("key AKIAIOSFODNN7EXAMPLE"), "key ***");
        assert_eq!(redact("DB_PASSWORD='p a s s'"), "DB_PASSWORD=***");
        assert_eq!(
            redact("curl http://169.254.169.254/latest/meta-data/iam/security-credentials/"),
            "curl http://169.254.169.254/latest/meta-data/iam/security-credentials/"
        );
    }
}
