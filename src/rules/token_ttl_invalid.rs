//! IMDS003 `token-ttl-invalid`.

use super::{Check, Entry, RequestContext, RequestFix, Rule, Severity, Violation};
use crate::model::request::{HeaderName, Request, Ttl};

pub const RULE: Entry = Entry {
    rule: Rule {
        code: "IMDS003",
        name: "token-ttl-invalid",
        severity: Severity::Error,
        fixable: true,
        summary: "token request whose TTL header is missing or outside 1..21600",
        doc: DOC,
        lowered: None,
    },
    check: Check::Request(check),
    fix: Some(RequestFix::SetTtl),
};

const DOC: &str = r#"# IMDS003 token-ttl-invalid

## What it does
Flags a `PUT /latest/api/token` request that does not send
`X-aws-ec2-metadata-token-ttl-seconds`, or sends a value that is not a whole number of seconds
between 1 and 21600 (six hours).

A header whose name is a near miss of the TTL header (`X-aws-ec2-metadata-token-ttl`,
`aws-ec2-metadata-token-ttl-seconds`) is named as such, and `--fix` renames it in place.

## Why is this bad?
IMDS answers such a token request with `400 Bad Request`, so the script has no token and every
request that follows fails once tokens are required.

## Example
```sh
TOKEN=$(curl -s -X PUT http://169.254.169.254/latest/api/token)
```

## Use instead
```sh
TOKEN=$(curl -s -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 21600" http://169.254.169.254/latest/api/token)
```
In PowerShell:
```powershell
$token = Invoke-RestMethod -Headers @{"X-aws-ec2-metadata-token-ttl-seconds" = "21600"} -Method PUT -Uri http://169.254.169.254/latest/api/token
```
`--fix` sets a value out of range within 1..21600 in the `-Headers` hashtable, or merges the
header into it (or adds `-Headers @{…}`) where it is missing.

In Python, `requests.put("http://169.254.169.254/latest/api/token")` without
`headers={"X-aws-ec2-metadata-token-ttl-seconds": "21600"}` is flagged (no automatic fix in
Python). In a makefile, `$(shell curl -s -X PUT …/latest/api/token)` is fixed as in shell.

## Fix safety
`--fix` adds `-H "X-aws-ec2-metadata-token-ttl-seconds: 21600"` (the `--token-ttl` value) when
the header is missing, and clamps a literal value into 1..21600 (a non-number becomes the
`--token-ttl` value). Always safe: IMDS refused the request before.

## How to suppress
`# imds-lint disable=IMDS003` at the end of the line or on the line before it; `--ignore IMDS003`.

## Known limitations
A TTL taken from a variable that cannot be resolved is not flagged.

## References
- <https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instance-metadata-v2-how-it-works.html>
"#;

/// A token fetched in a container needs a hop limit of 2 to arrive: said of requests from one.
fn check(context: &RequestContext) -> Option<Violation> {
    violation(context.request).map(|v| v.from_container(context.in_container))
}

fn violation(request: &Request) -> Option<Violation> {
    if !request.token_endpoint || !request.is_put() {
        return None;
    }
    let header = super::ttl_header_option(request.client);
    if let Some(wrong) = request
        .misspelled
        .iter()
        .find(|m| m.header == HeaderName::Ttl)
    {
        return Some(Violation {
            message: format!(
                "token request sends `{}`, which is not the TTL header `{}`",
                wrong.written,
                HeaderName::Ttl.as_str()
            ),
            help: format!(
                "rename the header `{}` to `{}`",
                wrong.written,
                HeaderName::Ttl.as_str()
            ),
        });
    }
    match &request.ttl {
        Ttl::Valid(_) | Ttl::Unknown => None,
        Ttl::Missing => Some(Violation {
            message: "token request without a TTL header".to_owned(),
            help: format!("add `{header}` (any value from 1 to 21600 seconds)"),
        }),
        Ttl::Invalid(value) => Some(Violation {
            message: format!("token request with TTL `{value}`, outside 1..21600"),
            help: format!("use a TTL from 1 to 21600 seconds, for example `{header}`"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{codes, flags};

    fn put(headers: &str) -> String {
        format!("curl -X PUT {headers} http://169.254.169.254/latest/api/token")
    }

    #[test]
    fn flags_bad_ttls() {
        assert!(flags("IMDS003", &put("")));
        assert!(flags(
            "IMDS003",
            &put("-H 'X-aws-ec2-metadata-token-ttl-seconds: 0'")
        ));
        assert!(flags(
            "IMDS003",
            &put("-H 'X-aws-ec2-metadata-token-ttl-seconds: 21601'")
        ));
        assert!(flags(
            "IMDS003",
            &put("-H 'X-aws-ec2-metadata-token-ttl-seconds: six'")
        ));
        assert!(flags(
            "IMDS003",
            &format!(
                "T=0; {}",
                put("-H \"X-aws-ec2-metadata-token-ttl-seconds: $T\"")
            )
        ));
        assert_eq!(codes(&put("")), ["IMDS003"]);
    }

    #[test]
    fn stays_quiet() {
        for snippet in [
            put("-H 'X-aws-ec2-metadata-token-ttl-seconds: 1'"),
            put("-H 'X-aws-ec2-metadata-token-ttl-seconds: 21600'"),
            put("-H 'x-aws-ec2-metadata-token-ttl-seconds:300'"),
            put("-H \"X-aws-ec2-metadata-token-ttl-seconds: $TTL\""),
            format!(
                "TTL=60; {}",
                put("-H \"X-aws-ec2-metadata-token-ttl-seconds: $TTL\"")
            ),
            // Not a PUT: that is IMDS002's finding, not this one.
            "curl http://169.254.169.254/latest/api/token".to_owned(),
        ] {
            assert!(!flags("IMDS003", &snippet), "{snippet}");
        }
    }
}
