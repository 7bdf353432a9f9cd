//! IMDS001 `tokenless-request`.

use super::{Check, Entry, RequestContext, RequestFix, Rule, Severity, Violation};
use crate::fragment::Language;
use crate::model::request::{Client, HeaderName, Request, TokenUse};

pub const RULE: Entry = Entry {
    rule: Rule {
        code: "IMDS001",
        name: "tokenless-request",
        severity: Severity::Error,
        fixable: true,
        summary: "request to the instance metadata service without an IMDSv2 token",
        doc: DOC,
        lowered: None,
    },
    check: Check::Request(check),
    fix: Some(RequestFix::FetchToken),
};

const DOC: &str = r#"# IMDS001 tokenless-request

## What it does
Flags a `curl` or `wget` request (in PowerShell: `Invoke-RestMethod`, `Invoke-WebRequest` and
their aliases, a `System.Net.WebClient` method) to the EC2 instance metadata service
(`169.254.169.254`, `[fd00:ec2::254]`, `instance-data`) that does not send the
`X-aws-ec2-metadata-token` header.
Only AWS's paths count: `/latest/…`, `/1.0/…`, dated versions (`/2021-07-15/…`), the root, and
paths built from variables. Other services on the same address (Google's `/computeMetadata/`,
Azure's and DigitalOcean's `/metadata/`, OpenStack's `/openstack/`, Oracle's `/opc/`, Linode's
`/v1/` with `Metadata-Token`, Hetzner's `/hetzner/`) are not IMDS and are not flagged.
A header whose name is a near miss of the token header (`aws-ec2-metadata-token`,
`X-aws-ec2-metadata-tokens`, `_` for `-`; case does not matter) is ignored by IMDS: the message
names it, and `--fix` renames it in place instead of adding a token.

## Why is this bad?
Without a token the request uses IMDSv1. Once the instance (or the account default) sets
`HttpTokens: required`, IMDS answers it with `401 Unauthorized`: the script breaks, often at boot
and silently. IMDSv2's session token also shields the instance from SSRF and open-proxy attacks
that IMDSv1 lets through.

## Example
```sh
REGION=$(curl -s http://169.254.169.254/latest/meta-data/placement/region)
```
In PowerShell (`.ps1`, `<powershell>` user data):
```powershell
$region = Invoke-RestMethod -Uri http://169.254.169.254/latest/meta-data/placement/region
```
In Python (`requests`, `httpx`, `urllib.request`, `http.client`; `.py` files, Python shebangs,
`python3 -c` and here-documents fed to `python3`):
```python
import requests
region = requests.get("http://169.254.169.254/latest/meta-data/placement/region").text
```

## Use instead
```sh
TOKEN=$(curl -sS -X PUT "http://169.254.169.254/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 21600")
REGION=$(curl -s -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/placement/region)
```
With wget: `wget -q -O - --method=PUT --header="X-aws-ec2-metadata-token-ttl-seconds: 21600" …`
for the token and `--header="X-aws-ec2-metadata-token: $TOKEN"` on each request. In a makefile
(a recipe line, `$(shell …)`) the same, with every `$` doubled: `$$(curl …)`, `$$TOKEN`.

In PowerShell, as AWS documents it for Windows instances:
```powershell
$token = Invoke-RestMethod -Headers @{"X-aws-ec2-metadata-token-ttl-seconds" = "21600"} -Method PUT -Uri http://169.254.169.254/latest/api/token
$region = Invoke-RestMethod -Headers @{"X-aws-ec2-metadata-token" = $token} -Uri http://169.254.169.254/latest/meta-data/placement/region
```
A `WebClient` sends it with `$wc.Headers["X-aws-ec2-metadata-token"] = $token`.
`Get-EC2InstanceMetadata` (AWS Tools for PowerShell 4.0.1.0 and later) fetches tokens itself and
is not flagged.

In Python:
```python
import requests
token = requests.put("http://169.254.169.254/latest/api/token", headers={"X-aws-ec2-metadata-token-ttl-seconds": "21600"}, timeout=2).text
region = requests.get("http://169.254.169.254/latest/meta-data/placement/region", headers={"X-aws-ec2-metadata-token": token}).text
```
boto 2's `boto.utils.get_instance_metadata()` never sends a token: move to botocore's fetcher or
`ec2-metadata` 2.2.0 or later (no automatic fix).

## Fix safety
`--fix` fetches one token per script scope and sends it with every request:
```sh
IMDS_TOKEN=$(curl -sf --connect-timeout 1 --max-time 2 -X PUT "http://169.254.169.254/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 21600" || true)
```
goes before the first statement of the innermost block that holds all the requests (a function
body only when they are all in that function; inside a `while`/`until` body, which may outlive a
token; before a `for` loop), with the line's indentation and line ending; each curl request gets
`-H "X-aws-ec2-metadata-token: $IMDS_TOKEN"` after the client's name. A scope without curl
fetches with `wget -q -O - --timeout=1 --tries=1 --method=PUT --header="…: 21600" "…" || true`,
and each wget request gets `${IMDS_TOKEN:+"--header=X-aws-ec2-metadata-token: $IMDS_TOKEN"}`.
An existing token variable assigned earlier in an enclosing block is reused; another meaning of
`IMDS_TOKEN` makes it pick `IMDS_TOKEN_2`. Where a request must stand alone — inside `sh -c '…'`,
`eval` and similar strings, in a `while`/`until` condition (which often waits for IMDS to come
up), or on a line it shares with the rest of its block (a one-line `if` or function) — the header
fetches its own token, `$(curl -sf --connect-timeout 1 --max-time 2 -X PUT …)`, escaped for the
quotes it sits in. The token URL keeps the request's host spelling (IPv6 gets an IPv6 URL).
`--token-ttl` sets the TTL. In a Terraform template `${` is written `$${`, in a CloudFormation
`Fn::Sub` string `${!`.

The fetch is made to cost nothing where the original script ran without a token: off EC2
(nothing listening, or a network that drops the packets) and in a container behind
`HttpPutResponseHopLimit=1`, where the PUT's answer never arrives while GETs still work. Like the
AWS SDKs, which give the token request one attempt, 1 s to connect and 1 s to read before they
fall back to IMDSv1, it gives up within 2 s (IMDS answers in milliseconds, so on an instance the
bound never bites); `|| true` keeps a failed fetch from stopping a script under `set -e` and leaves
`IMDS_TOKEN` set and empty (so `set -u` is content); `-f` keeps an error page from becoming the
token; it prints nothing. An empty token is never sent, because IMDS answers a present but invalid
token with `401` even while tokens are optional: curl leaves out a header whose value is empty,
and the wget option above is given only when there is a token. The requests then fail or succeed
exactly as the original's did, at most 2 s later per fetch. So a request whose failure the script
handles is fixed under `set -e` too: `if curl -m 2 …; then`, `curl … || true` under
`set -euo pipefail`, `until curl …; do`.

In PowerShell, `--fix` inserts once per script or function body, before the first statement
that makes a request:
```powershell
try { $IMDS_TOKEN = Invoke-RestMethod -Headers @{"X-aws-ec2-metadata-token-ttl-seconds" = "21600"} -Method PUT -Uri http://169.254.169.254/latest/api/token -TimeoutSec 1 -ErrorAction Stop } catch { $IMDS_TOKEN = $null }
```
and merges `"X-aws-ec2-metadata-token" = $IMDS_TOKEN` into the request's `-Headers @{…}` (or
adds `-Headers @{"X-aws-ec2-metadata-token" = $IMDS_TOKEN}` after the cmdlet's name; never a
second `-Headers`); a `WebClient` in a variable gets
`if ($IMDS_TOKEN) { $wc.Headers["X-aws-ec2-metadata-token"] = $IMDS_TOKEN }` before the
statement. A failed fetch never stops the script (`try`, even under
`$ErrorActionPreference = 'Stop'`), waits at most about a second, and leaves `$IMDS_TOKEN`
`$null`, a header value the web cmdlets leave out: the request then goes out as before. No fix
for `-Headers $variable` (the table is shared), splatted parameters, `-WebSession`, a
`WebClient` made inline, and `curl`/`wget` (aliases of `Invoke-WebRequest` only in Windows
PowerShell 5.1; PowerShell 7 runs curl and wget for them); unsafe in a script the grammar read
with errors.

In Python, `--fix` rewrites `requests` calls: once per function (or module), before the first
statement that makes a request,
```python
try:
    IMDS_TOKEN = requests.put("http://169.254.169.254/latest/api/token", headers={"X-aws-ec2-metadata-token-ttl-seconds": "21600"}, timeout=(1, 1))
    IMDS_TOKEN = IMDS_TOKEN.text if IMDS_TOKEN.ok else None
except Exception:
    IMDS_TOKEN = None
```
and `"X-aws-ec2-metadata-token": IMDS_TOKEN` merged into the call's `headers={…}` (or
`headers={…}` added). `requests` leaves out a header whose value is `None`, so where no token
can be had the request goes out as before.

`urllib` sends a `None` header as the text `None` (which IMDS refuses), so its requests get the
header only when there is a token. The fetch is made with `urllib` under the names the script
uses (`from urllib.request import Request` is added when only `urlopen` was imported and the name
is free):
```python
try:
    IMDS_TOKEN = urlopen(Request("http://169.254.169.254/latest/api/token", headers={"X-aws-ec2-metadata-token-ttl-seconds": "21600"}, method="PUT"), timeout=1).read().decode()
except Exception:
    IMDS_TOKEN = None
region = urlopen(Request("http://169.254.169.254/latest/meta-data/placement/region", headers={"X-aws-ec2-metadata-token": IMDS_TOKEN} if IMDS_TOKEN else {})).read().decode()
```
A URL given to `urlopen` is wrapped into a `Request` as above; a `Request(…)` built first gets
`headers=…` added, or its `headers={…}` becomes `dict({…}, **({…} if IMDS_TOKEN else {}))`.
Python 2's `urllib2` (and `six.moves`) has no `method=`: the fetch sets
`IMDS_TOKEN.get_method = lambda: "PUT"` on its `Request`. Not fixed: Python 2's
`urllib.urlopen` (it sends no headers), a `Request` given `**kwargs` or a headers variable, or
one changed by `add_header`. `httpx` requests get the same conditional header (httpx refuses a `None` header
value), with a fetch made by `httpx.put(…, timeout=1)` whose `.text` is kept only when
`.is_success`; an `await`ed request is not fixed (the fetch would block the event loop).
`http.client` requests (a fetch would need its own request and response on the script's
connection) and one-line `python3 -c` code are found but not fixed. Shell strings run by `subprocess`, `os.system`, Fabric's and Invoke's
`run`/`sudo`/`local` and paramiko's `exec_command` are fixed as shell, inside the string. In a
makefile, the fetch goes at the start of the recipe line or `$(shell …)` it serves, ended by
`; `, with every `$` doubled.

The fix is unsafe (applied only with `--unsafe-fixes`) when BusyBox wget would have to fetch
the token (it cannot PUT), when headers come from a file that may already hold a token, and for
wget's inline form (`sh -c 'wget …'`, a wget `while` condition): it has no variable to test, so
where no token can be fetched it would send an empty one, which IMDS refuses.

## How to suppress
`# imds-lint disable=IMDS001` at the end of the line, or alone on the line before it; in the
comments at the top of a file it applies to the whole file. `--ignore IMDS001` turns the rule off.

## Known limitations
Headers read from a file (`curl -H @file`, `curl -K config`) or passed through an array cannot be
read: such a request is flagged unless a token header is visible, and the message says why.
URLs built from command output (`$(…)`) cannot be followed and are not flagged. A token header
inside `${T:+…}` is read when the alternative is one quoted word (`${T:+"--header=…: $T"}`); an
unquoted one (`${T:+-H "…: $T"}`) may split into several words and is read as unknown.

PowerShell: tree-sitter-powershell 0.26 reads some valid PowerShell with errors (a bare
`$var/path` argument, `$x.Split('.')[0]` as an argument, a one-line function with a `param`
block); a request there is still found, read word by word where the grammar gave up (no fix, and
a note says so). In a `<script>` (cmd.exe) section of Windows user data only
`powershell -Command "…"` lines are read.

A file that Terraform renders with `templatefile()` is scanned as the script it holds: a wget fix
written there would need `$${` where it writes `${`, and `terraform plan` would reject it.
Where IMDS does not answer, a fetch inside a `while` body or an `until` condition costs its 2 s on
every round.

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
    if request.client == Client::Boto {
        return Some(Violation {
            message: "boto 2's `boto.utils` reads the metadata service without a token (boto 2 never sends IMDSv2 tokens)".to_owned(),
            help: "boto 2 will not be fixed: read instance metadata with botocore's `InstanceMetadataFetcher` (`botocore.utils`), boto3, or the `ec2-metadata` package >= 2.2.0, which fetch IMDSv2 tokens".to_owned(),
        });
    }
    let help = if request.client == Client::Urllib {
        format!(
            "fetch a token once with `token = urlopen(Request(\"{}/latest/api/token\", headers={{\"X-aws-ec2-metadata-token-ttl-seconds\": \"21600\"}}, method=\"PUT\"), timeout=2).read().decode()` and open this request's URL as a `Request(url, {})` (Python 2's `urllib.urlopen` cannot send headers: use `urllib2`)",
            token_origin(&request.origin),
            super::token_header_option(request.client)
        )
    } else if request.client == Client::HttpClient {
        format!(
            "fetch a token once with `conn.request(\"PUT\", \"/latest/api/token\", headers={{\"X-aws-ec2-metadata-token-ttl-seconds\": \"21600\"}})` and `token = conn.getresponse().read().decode()`, and pass `{}` to this request (not fixed automatically: the fetch needs its own request and response on the connection)",
            super::token_header_option(request.client)
        )
    } else if request.client.language() == Language::Python {
        format!(
            "fetch a token once with `token = {}.put(\"{}/latest/api/token\", headers={{\"X-aws-ec2-metadata-token-ttl-seconds\": \"21600\"}}, timeout=2).text` and pass `{}` to this request{}",
            if request.client == Client::Httpx { "httpx" } else { "requests" },
            token_origin(&request.origin),
            super::token_header_option(request.client),
            if request.client == Client::Httpx {
                " (an `await`ed request is not fixed automatically: a fetch there would block the event loop)"
            } else {
                ""
            }
        )
    } else if request.client.language() == Language::Ansible {
        format!(
            "fetch a token once with a `uri` task (`url: {}/latest/api/token`, `method: PUT`, `headers: {{X-aws-ec2-metadata-token-ttl-seconds: \"21600\"}}`, `return_content: true`, `register: token`) and add `{}` to this task",
            token_origin(&request.origin),
            super::token_header_option(request.client)
        )
    } else if request.client.language() == Language::PowerShell {
        format!(
            "fetch a token once with `$token = Invoke-RestMethod -Headers @{{\"X-aws-ec2-metadata-token-ttl-seconds\" = \"21600\"}} -Method PUT -Uri {}/latest/api/token` and add `{}` to this request",
            token_origin(&request.origin),
            super::token_header_option(request.client)
        )
    } else if let Some(elsewhere) = &request.site.elsewhere {
        // `kubectl exec` runs a program (a shell, here); `ssh` hands its string to the remote
        // user's shell.
        let runner = if elsewhere.starts_with("kubectl") {
            format!("{elsewhere} -- sh -c")
        } else {
            elsewhere.clone()
        };
        format!(
            "`{elsewhere}` runs this request on another machine, with words this shell expands first: a token fetched here would be this machine's, so no fix is written. Hand it one single-quoted string that fetches its own token there: `{runner} 'TOKEN=$(curl -sS -X PUT \"{}/latest/api/token\" -H \"X-aws-ec2-metadata-token-ttl-seconds: 21600\"); {client} {} …'`",
            token_origin(&request.origin),
            super::token_header_option(request.client),
        )
    } else {
        format!(
        "fetch a token once with `TOKEN=$(curl -sS -X PUT \"{}/latest/api/token\" -H \"X-aws-ec2-metadata-token-ttl-seconds: 21600\")` and add `{}` to this request",
        token_origin(&request.origin),
        super::token_header_option(request.client)
    )
    };
    if let Some(wrong) = request
        .misspelled
        .iter()
        .find(|m| m.header == HeaderName::Token)
    {
        return Some(Violation {
            message: format!(
                "`{client}` request to the metadata service sends `{}`, which is not the token header `{}`",
                wrong.written,
                HeaderName::Token.as_str()
            ),
            help: format!(
                "rename the header `{}` to `{}`",
                wrong.written,
                HeaderName::Token.as_str()
            ),
        });
    }
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
        // An alternative that is not one quoted word cannot be read: it may hide anything.
        assert!(flagged(
            "curl ${T:+-H \"X-aws-ec2-metadata-token: $T\"} http://169.254.169.254/latest/meta-data/"
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
        // The token header only when there is a token (`--fix` writes this for wget).
        assert!(!flagged(
            "wget ${T:+\"--header=X-aws-ec2-metadata-token: $T\"} -qO- http://169.254.169.254/"
        ));
        assert!(!flagged(
            "curl ${T+'-HX-aws-ec2-metadata-token: abc'} http://169.254.169.254/latest/meta-data/"
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
