//! IMDS004 `unassigned-token-variable`.

use super::{Check, Entry, RequestContext, Rule, Severity, Violation};
use crate::fragment::Language;
use crate::model::request::{Request, TokenUse};

pub const RULE: Entry = Entry {
    rule: Rule {
        code: "IMDS004",
        name: "unassigned-token-variable",
        severity: Severity::Warning,
        fixable: false,
        summary: "token header uses a variable that nothing in scope assigns from a token request",
        doc: DOC,
        lowered: None,
    },
    check: Check::Request(check),
    fix: None,
};

const DOC: &str = r#"# IMDS004 unassigned-token-variable

## What it does
Flags a request whose `X-aws-ec2-metadata-token` header uses a variable that nothing in scope
assigns from a token request (`TOKEN=$(curl -X PUT …/latest/api/token …)`, directly, through a
function, or copied from another token variable).

## Why is this bad?
The header is there, so the script looks migrated, but the variable is empty or holds something
else at run time: IMDS answers `401 Unauthorized`. Typical causes: the token was fetched in an
earlier Dockerfile `RUN` (each `RUN` is a new shell), in a parent script without `export`, inside
`bash -c '…'` single quotes where the outer variable is not visible, or under another name.

## Example
```sh
curl -s -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/instance-id
```

## Use instead
```sh
TOKEN=$(curl -sS -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 21600")
curl -s -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/instance-id
```
In PowerShell, `-Headers @{"X-aws-ec2-metadata-token" = $tok}` with nothing assigning `$tok`
from a token request is flagged the same way; assign it first:
```powershell
$tok = Invoke-RestMethod -Headers @{"X-aws-ec2-metadata-token-ttl-seconds" = "21600"} -Method PUT -Uri http://169.254.169.254/latest/api/token
```
In Python, `headers={"X-aws-ec2-metadata-token": tok}` with nothing in scope
assigning `tok` from a token request is flagged too (the message names `tok`, without a `$`);
assign it from `requests.put("http://169.254.169.254/latest/api/token", …).text` first. A
makefile's recipe lines are shell: as above, with `$$TOKEN`.

## Fix safety
No automatic fix: where the token should come from is the author's decision.

## How to suppress
When the token really comes from outside (an environment variable set by the caller), suppress
with `# imds-lint disable=IMDS004` on the line or the line before it, or for the whole file in its
leading comments; `--ignore IMDS004` turns the rule off.

## Known limitations
A token written to a file and read back (`TOKEN=$(cat /run/token)`) is not followed. The analysis
does not track order: an assignment anywhere in scope counts.

## References
- <https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instance-metadata-v2-how-it-works.html>
"#;

/// Whether a request's token header uses only variables that nothing in scope assigns from a
/// token request (what this rule flags): requiring tokens may break it.
pub fn is_unassigned(request: &Request) -> bool {
    match &request.token {
        TokenUse::Variables(variables) => {
            !request.token_endpoint && !variables.iter().any(|v| v.from_token_request)
        }
        _ => false,
    }
}

fn check(context: &RequestContext) -> Option<Violation> {
    let request = context.request;
    if !is_unassigned(request) {
        return None;
    }
    let TokenUse::Variables(variables) = &request.token else {
        return None;
    };
    let language = request.client.language();
    // Variables are written as their language writes them.
    let sigil = match language {
        Language::Python | Language::Ansible => "",
        Language::Shell | Language::PowerShell => "$",
    };
    let names: Vec<String> = variables
        .iter()
        .map(|v| format!("`{sigil}{}`", v.name))
        .collect();
    let help = match language {
        Language::Python => "fetch the token in the same function (`token = requests.put(\"http://169.254.169.254/latest/api/token\", headers={\"X-aws-ec2-metadata-token-ttl-seconds\": \"21600\"}, timeout=2).text`), or pass it in",
        Language::PowerShell => "fetch the token in the same scope (`$token = Invoke-RestMethod -Method PUT -Uri http://169.254.169.254/latest/api/token -Headers @{\"X-aws-ec2-metadata-token-ttl-seconds\" = \"21600\"}`)",
        Language::Ansible => "register the token with an earlier `uri` task of the same play (`method: PUT` to `/latest/api/token`, `register: token`) and send `{{ token.content }}`",
        Language::Shell => "fetch the token in the same shell (`TOKEN=$(curl -sS -X PUT …/latest/api/token …)`); shell variables do not cross into `bash -c '…'` or a new process unless exported",
    };
    Some(Violation {
        message: format!(
            "token header uses {}, which nothing in scope assigns from a token request",
            names.join(", ")
        ),
        help: help.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{codes, flags};

    const PUT: &str = "curl -sX PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 60'";
    const GET: &str =
        "curl -H \"X-aws-ec2-metadata-token: $TOKEN\" http://169.254.169.254/latest/meta-data/";

    #[test]
    fn flags_unassigned_token_variables() {
        assert!(flags("IMDS004", GET));
        assert_eq!(codes(GET), ["IMDS004"]);
        assert!(flags("IMDS004", &format!("TOKEN=$(cat /run/t)\n{GET}")));
        assert!(flags("IMDS004", &format!("OTHER=$({PUT})\n{GET}")));
        // The conditional header `--fix` writes for wget names its variable too.
        assert!(flags(
            "IMDS004",
            "wget ${TOKEN:+\"--header=X-aws-ec2-metadata-token: $TOKEN\"} http://169.254.169.254/"
        ));
        // A single-quoted child shell does not see an unexported variable.
        let inner = GET.replace('"', "\\\"");
        assert!(flags(
            "IMDS004",
            &format!("TOKEN=$({PUT})\nbash -c \"true\"; bash -c '{}'", GET)
        ));
        assert!(!flags(
            "IMDS004",
            &format!("TOKEN=$({PUT})\nbash -c \"{inner}\"")
        ));
    }

    #[test]
    fn stays_quiet() {
        for snippet in [
            format!("TOKEN=$({PUT})\n{GET}"),
            format!("{GET}\nTOKEN=`{PUT}`"),
            format!("export TOKEN=$({PUT})\n{GET}"),
            format!("f() {{ local TOKEN=$({PUT}); {GET}; }}"),
            format!("get_token() {{ {PUT}; }}\nTOKEN=$(get_token)\n{GET}"),
            format!("T=$({PUT})\nTOKEN=$T\n{GET}"),
            format!("export TOKEN=$({PUT})\nbash -c '{GET}'"),
            format!("TOKEN=$({PUT} | tr -d '\\n')\n{GET}"),
            format!("TOKEN=$({PUT} || true)\n{GET}"),
            format!("TOKEN=$({PUT} || true)\nwget ${{TOKEN:+\"--header=X-aws-ec2-metadata-token: $TOKEN\"}} http://169.254.169.254/"),
            "curl -H \"X-aws-ec2-metadata-token: $(curl -sX PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 60')\" http://169.254.169.254/latest/meta-data/".to_owned(),
            "curl -H 'X-aws-ec2-metadata-token: abc' http://169.254.169.254/latest/meta-data/".to_owned(),
        ] {
            assert!(!flags("IMDS004", &snippet), "{snippet}");
        }
    }

    /// Each language's variables are named as it writes them, with help in that language.
    #[test]
    fn names_and_help_follow_the_language() {
        let python = b"import requests\nr = requests.get(\"http://169.254.169.254/latest/meta-data/ami-id\", headers={\"X-aws-ec2-metadata-token\": nope})\n";
        let mut fragment = crate::fragment::Fragment::script(python);
        fragment.language = crate::fragment::Language::Python;
        let analysis = crate::python::analyze_with(&fragment, &crate::shell::Options::default());
        let request = analysis.requests.first().unwrap();
        let context = super::RequestContext {
            request,
            in_container: false,
        };
        let violation = super::check(&context).unwrap();
        assert_eq!(
            violation.message,
            "token header uses `nope`, which nothing in scope assigns from a token request"
        );
        assert!(
            violation.help.contains("requests.put("),
            "{}",
            violation.help
        );
        // Shell keeps its `$`.
        let shell = crate::shell::analyze(&crate::fragment::Fragment::script(GET.as_bytes()));
        let context = super::RequestContext {
            request: shell.requests.first().unwrap(),
            in_container: false,
        };
        let violation = super::check(&context).unwrap();
        assert!(
            violation.message.contains("`$TOKEN`"),
            "{}",
            violation.message
        );
        assert!(violation.help.contains("same shell"), "{}", violation.help);
    }
}
