//! IMDS002 `token-request-not-put`.

use super::{Check, Entry, RequestContext, RequestFix, Rule, Severity, Violation};
use crate::model::request::{Client, Method, Request};

pub const RULE: Entry = Entry {
    rule: Rule {
        code: "IMDS002",
        name: "token-request-not-put",
        severity: Severity::Error,
        fixable: true,
        summary: "request to the IMDSv2 token endpoint that is not a PUT",
        doc: DOC,
        lowered: None,
    },
    check: Check::Request(check),
    fix: Some(RequestFix::UsePut),
};

const DOC: &str = r#"# IMDS002 token-request-not-put

## What it does
Flags a request to `/latest/api/token` whose method is not `PUT` (a plain `curl` or `wget` sends
`GET`; `-d` sends `POST`).

## Why is this bad?
IMDS hands out session tokens only in answer to `PUT /latest/api/token`; any other method gets
`405 Method Not Allowed`. The script then sends an empty or garbage token with every request, which
IMDS refuses with `401` once tokens are required. Requiring `PUT` is deliberate: it is what stops
most SSRF and open-proxy paths, which can only forward `GET`s.

## Example
```sh
TOKEN=$(curl -s -H "X-aws-ec2-metadata-token-ttl-seconds: 21600" http://169.254.169.254/latest/api/token)
```

## Use instead
```sh
TOKEN=$(curl -s -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 21600" http://169.254.169.254/latest/api/token)
```
With GNU wget: `wget -q -O - --method=PUT --header="X-aws-ec2-metadata-token-ttl-seconds: 21600" …`.
BusyBox wget cannot send `PUT`: use curl there.

In PowerShell, `Invoke-RestMethod -Uri http://169.254.169.254/latest/api/token -Headers @{…}`
(GET, the default) becomes
```powershell
$token = Invoke-RestMethod -Method PUT -Uri http://169.254.169.254/latest/api/token -Headers @{"X-aws-ec2-metadata-token-ttl-seconds" = "21600"}
```
`--fix` replaces the `-Method` value with `PUT` or adds `-Method PUT` after the cmdlet's name
(unsafe where another method was named; no fix where splatted parameters may name one).

In Python, `requests.get("http://169.254.169.254/latest/api/token", …)` is flagged the same way;
write `requests.put(…)` (there is no automatic fix in Python). In a makefile, a recipe line or
`$(shell curl …)` is fixed as in shell.

## Fix safety
`--fix` adds `-X PUT` (GNU wget: `--method=PUT`), or replaces an explicit `-X GET`. A PUT is what
a hop limit of 1 stops: in a container behind it the GET got its `405` at once, while the PUT's
answer never comes. So a request without a time limit also gets the bounds of the token fetch
IMDS001 inserts: `--connect-timeout 1 --max-time 2` for curl, `--timeout=1` and `--tries=1` for
GNU wget (each only where the request has none). It is unsafe when the request posted data
(`-d`), which the PUT then carries. BusyBox wget gets no fix; nor does a method option quoted
whole with its value (`"-XGET"`).

## How to suppress
`# imds-lint disable=IMDS002` at the end of the line or on the line before it; `--ignore IMDS002`.

## Known limitations
A method taken from a variable that cannot be resolved is not flagged.

## References
- <https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html>
"#;

/// A token fetched in a container needs a hop limit of 2 to arrive: said of requests from one.
fn check(context: &RequestContext) -> Option<Violation> {
    violation(context.request).map(|v| v.from_container(context.in_container))
}

fn violation(request: &Request) -> Option<Violation> {
    if !request.token_endpoint {
        return None;
    }
    let method = match &request.method {
        Method::Put | Method::Unknown => return None,
        Method::Get => "GET",
        Method::Other(other) => other.as_str(),
    };
    let help = match (request.client, request.busybox) {
        (Client::Wget, true) => {
            "BusyBox wget cannot send PUT: fetch the token with curl instead".to_owned()
        }
        (Client::Wget, false) => "add `--method=PUT`".to_owned(),
        (Client::Curl, _) => "add `-X PUT`".to_owned(),
        (Client::Requests | Client::Httpx, _) => "call `.put(…)`".to_owned(),
        (Client::Urllib, _) => "give the `Request` `method=\"PUT\"`".to_owned(),
        (Client::HttpClient, _) => "call `.request(\"PUT\", …)`".to_owned(),
        (Client::Boto, _) => return None,
        (Client::InvokeRestMethod | Client::InvokeWebRequest, _) => "add `-Method PUT`".to_owned(),
        (Client::WebClient, _) => "call `.UploadString(url, \"PUT\", \"\")`".to_owned(),
        (Client::AnsibleUri, _) => "give the task `method: PUT`".to_owned(),
        (Client::AnsibleGetUrl, _) => {
            "use the `uri` module with `method: PUT` (`get_url` only sends GET)".to_owned()
        }
    };
    Some(Violation {
        message: format!(
            "`{}` request to the token endpoint uses {method}, not PUT",
            request.client.name()
        ),
        help,
    })
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{codes, flags};

    const URL: &str = "http://169.254.169.254/latest/api/token";

    #[test]
    fn flags_non_put_token_requests() {
        assert!(flags("IMDS002", &format!("curl {URL}")));
        assert!(flags("IMDS002", &format!("curl -d x {URL}")));
        assert!(flags("IMDS002", &format!("wget -qO- {URL}")));
        assert!(flags("IMDS002", &format!("curl -X POST {URL}")));
        // Not also reported as a tokenless request.
        assert_eq!(codes(&format!("curl {URL}")), ["IMDS002"]);
    }

    #[test]
    fn stays_quiet() {
        let ttl = "-H 'X-aws-ec2-metadata-token-ttl-seconds: 60'";
        for snippet in [
            format!("curl -X PUT {ttl} {URL}"),
            format!("curl -XPUT {ttl} {URL}"),
            format!("curl -sX PUT {ttl} {URL}"),
            format!("curl --request PUT {ttl} {URL}"),
            format!("wget --method=PUT --header='X-aws-ec2-metadata-token-ttl-seconds: 60' {URL}"),
            format!("wget --method PUT --header 'X-aws-ec2-metadata-token-ttl-seconds: 60' {URL}"),
            format!("curl -X \"$M\" {ttl} {URL}"),
            "curl http://169.254.169.254/latest/meta-data/".to_owned(),
        ] {
            assert!(!flags("IMDS002", &snippet), "{snippet}");
        }
    }
}
