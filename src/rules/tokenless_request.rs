//! IMDS001 `tokenless-request`.

use super::{Check, Entry, RequestContext, RequestFix, Rule, Severity, Violation};
use crate::shell::request::{Request, TokenUse};

pub const RULE: Entry = Entry {
    rule: Rule {
        code: "IMDS001",
        name: "tokenless-request",
        severity: Severity::Error,
        fixable: true,
        summary: "request to the instance metadata service without an IMDSv2 token",
        doc: DOC,
    },
    check: Check::Request(check),
    fix: Some(RequestFix::FetchToken),
};

const DOC: &str = r#"# IMDS001 tokenless-request

## What it does
Flags a `curl` or `wget` request to the EC2 instance metadata service (`169.254.169.254`,
`[fd00:ec2::254]`, `instance-data`) that does not send the `X-aws-ec2-metadata-token` header.

## Why is this bad?
Without a token the request uses IMDSv1. Once the instance (or the account default) sets
`HttpTokens: required`, IMDS answers it with `401 Unauthorized`: the script breaks, often at boot
and silently. IMDSv2's session token also shields the instance from SSRF and open-proxy attacks
that IMDSv1 lets through.

## Example
```sh
REGION=$(curl -s http://169.254.169.254/latest/meta-data/placement/region)
```

## Use instead
```sh
TOKEN=$(curl -sS -X PUT "http://169.254.169.254/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 21600")
REGION=$(curl -s -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/placement/region)
```
With wget: `wget -q -O - --method=PUT --header="X-aws-ec2-metadata-token-ttl-seconds: 21600" …`
for the token and `--header="X-aws-ec2-metadata-token: $TOKEN"` on each request.

## Fix safety
`--fix` fetches one token per script scope and sends it with every request:
`IMDS_TOKEN=$(curl -sS -X PUT "http://169.254.169.254/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 21600")`
goes before the first statement of the innermost block that holds all the requests (a function
body only when they are all in that function; inside a `while`/`until` body, which may outlive a
token; before a `for` loop), with the line's indentation and line ending; each request gets
`-H "X-aws-ec2-metadata-token: $IMDS_TOKEN"` (wget: `--header=…`) after the client's name. An
existing token variable assigned earlier in an enclosing block is reused; another meaning of
`IMDS_TOKEN` makes it pick `IMDS_TOKEN_2`. A scope without curl fetches with
`wget -q -O - --method=PUT`. Where a request must stand alone — inside `sh -c '…'`, `eval` and
similar strings, in a `while`/`until` condition (which often waits for IMDS to come up), or on a
line it shares with the rest of its block (a one-line `if` or function) — the header fetches its
own token, escaped for the quotes it sits in. The token URL keeps the request's host spelling
(IPv6 gets an IPv6 URL). `--token-ttl` sets the TTL.

The fix is unsafe (applied only with `--unsafe-fixes`) when BusyBox wget would have to fetch
the token (it cannot PUT), when headers come from a file that may already hold a token, and when
the script tolerates the request failing (`||`, a condition) under `set -e`, where a failing
token fetch would now stop it.

## How to suppress
`# imds-lint disable=IMDS001` at the end of the line, or alone on the line before it; in the
comments at the top of a file it applies to the whole file. `--ignore IMDS001` turns the rule off.

## Known limitations
Headers read from a file (`curl -H @file`, `curl -K config`) or passed through an array cannot be
read: such a request is flagged unless a token header is visible, and the message says why.
URLs built from command output (`$(…)`) cannot be followed and are not flagged.

## References
- <https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html>
- <https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instance-metadata-transition-to-version-2.html>
"#;

/// Whether a request reaches IMDS without a token (what this rule flags). The settings rules count
/// these in user data: requiring tokens would break them.
pub fn is_tokenless(request: &Request) -> bool {
    !request.token_endpoint && matches!(request.token, TokenUse::Absent | TokenUse::Unreadable(_))
}

/// A token fetched in a container needs a hop limit of 2 to arrive: said of requests from one.
fn check(context: &RequestContext) -> Option<Violation> {
    violation(context.request).map(|v| v.from_container(context.in_container))
}

fn violation(request: &Request) -> Option<Violation> {
    if !is_tokenless(request) {
        return None;
    }
    let client = request.client.name();
    let help = format!(
        "fetch a token once with `TOKEN=$(curl -sS -X PUT \"{}/latest/api/token\" -H \"X-aws-ec2-metadata-token-ttl-seconds: 21600\")` and add `{}` to this request",
        token_origin(&request.origin),
        super::token_header_option(request.client)
    );
    match &request.token {
        TokenUse::Absent => Some(Violation {
            message: format!("`{client}` request to the metadata service without a token"),
            help,
        }),
        TokenUse::Unreadable(what) => Some(Violation {
            message: format!(
                "`{client}` request to the metadata service without a visible token ({what} cannot be read)"
            ),
            help,
        }),
        TokenUse::Variables(_) | TokenUse::Inline => None,
    }
}

/// The origin to fetch a token from: the request's own, with `http://` when it had no scheme.
fn token_origin(origin: &str) -> String {
    if origin.contains("://") {
        origin.to_owned()
    } else {
        format!("http://{origin}")
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::flags;

    fn flagged(snippet: &str) -> bool {
        flags("IMDS001", snippet)
    }

    #[test]
    fn flags_tokenless_requests() {
        assert!(flagged(
            "curl http://169.254.169.254/latest/meta-data/instance-id"
        ));
        assert!(flagged(
            "wget -qO- http://169.254.169.254/latest/meta-data/"
        ));
        assert!(flagged("/usr/bin/curl -s 169.254.169.254/latest/user-data"));
        assert!(flagged(
            "sudo -u root curl http://[fd00:ec2::254]/latest/meta-data/"
        ));
        assert!(flagged(
            "MD=http://169.254.169.254/latest; curl \"$MD/meta-data/$k\""
        ));
        assert!(flagged(
            "curl -H @h.txt http://169.254.169.254/latest/meta-data/"
        ));
        assert!(flagged(
            "x=$(curl -s http://instance-data/latest/meta-data/ami-id)"
        ));
    }

    #[test]
    fn stays_quiet() {
        assert!(!flagged(
            "curl -H \"X-aws-ec2-metadata-token: $T\" http://169.254.169.254/latest/meta-data/"
        ));
        assert!(!flagged(
            "curl -H\"x-aws-ec2-metadata-token:$T\" 169.254.169.254/latest/meta-data/"
        ));
        assert!(!flagged(
            "wget --header=\"X-aws-ec2-metadata-token: $T\" http://169.254.169.254/"
        ));
        assert!(!flagged(
            "curl -X PUT http://169.254.169.254/latest/api/token"
        ));
        assert!(!flagged(
            "echo curl http://169.254.169.254/latest/meta-data/"
        ));
        assert!(!flagged("# curl http://169.254.169.254/latest/meta-data/"));
        assert!(!flagged("curl http://169.254.170.2/v2/metadata"));
        assert!(!flagged("curl http://169.254.169.253/"));
        assert!(!flagged("curl https://example.com/169.254.169.254/latest/"));
        assert!(!flagged("ping -c1 169.254.169.254"));
        assert!(!flagged(
            "curl -H 'Metadata-Flavor: Google' http://169.254.169.254/computeMetadata/v1/"
        ));
        assert!(!flagged("curl -H Metadata:true 'http://169.254.169.254/metadata/instance?api-version=2021-02-01'"));
        assert!(!flagged("curl \"$1\""));
        assert!(!flagged("command -v curl"));
    }
}
