//! IMDS090 `unused-suppression`.

use super::{Check, Entry, Rule, Severity, SuppressionContext, Violation};

pub const RULE: Entry = Entry {
    rule: Rule {
        code: "IMDS090",
        name: "unused-suppression",
        severity: Severity::Warning,
        fixable: true,
        summary: "suppression comment that names no rule, an unknown code, or a code with nothing to suppress",
        doc: DOC,
        lowered: None,
    },
    check: Check::Suppression(check),
    fix: None,
};

const DOC: &str = r#"# IMDS090 unused-suppression

## What it does
Flags an `# imds-lint disable=…` comment that does nothing, in part or whole: a code that is not
a rule (`IMDS01`), a code whose rule reports nothing where the comment reaches (the line, the
next line, or the whole file for a comment in the leading comments), and a bare
`# imds-lint disable` that names no code. ruff's `unused-noqa` (RUF100) is the model.

## Why is this bad?
A suppression that suppresses nothing is noise at best; at worst it hides a finding later, when
the line changes, without anyone deciding that it should. A misspelt code (`IMDS01`) or a bare
`# imds-lint disable` looks like it silences the line but silences nothing: imds-lint suppresses
only the codes a comment names (`ALL` names every rule).

## Example
```sh
#!/bin/sh
# imds-lint disable=IMDS001
TOKEN=$(curl -sS -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 21600")
curl -s -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/instance-id
```

## Use instead
```sh
#!/bin/sh
TOKEN=$(curl -sS -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 21600")
curl -s -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/instance-id
```

## Fix safety
The fix takes the unknown and unused codes out of the comment's list, or removes the comment
when no code is left: the whole line when the comment is alone on it, the comment and the blanks
before it at the end of a line, and only its words when other text follows it on the line (that
text stays a comment, with its `#`). It is safe for the shell rules (IMDS001–IMDS004), whose
findings depend only on the file. It is unsafe when it removes a code of an instance settings
rule (IMDS010–IMDS013): their findings depend on the other files scanned with this one (the boot
scripts a setting runs, the settings a script boots), so a suppression unused in this scan may be
used in a wider one. A bare `# imds-lint disable` gets no fix: which codes were meant is the
author's call.

## How to suppress
Name IMDS090 in the comment itself (`# imds-lint disable=IMDS002,IMDS090` keeps that comment
unreported), or in the file's leading comments; `--ignore IMDS090` turns the rule off. A code of a
rule the run does not enable (`--select`, `--ignore`, the configuration) is never reported as
unused.

## Known limitations
Comments are found in the file's text (and in the text of values decoded from it, such as a
Secret's base64 script), not through each format's syntax: a marker inside a shell here-document
or a string is read as a comment too, and removing it changes that text. A marker in an encoded
value (base64, gzip) is reported at the value, without a fix. A marker inside a string that is
not read as a script of its own (a CloudFormation `Fn::Join` piece) is edited in the file's
text: when an escaped line break follows it, its words go and its `#` stays. Only `#` comments
are read (not HCL's `//`).

## References
- <https://docs.astral.sh/ruff/rules/unused-noqa/>
"#;

fn check(context: &SuppressionContext) -> Option<Violation> {
    let quoted = |codes: &[String]| {
        codes
            .iter()
            .map(|c| format!("`{c}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut parts = Vec::new();
    if context.bare {
        parts.push("names no rule, so it suppresses nothing".to_owned());
    }
    if !context.unknown.is_empty() {
        parts.push(format!(
            "names {} that {} not a rule",
            quoted(context.unknown),
            if context.unknown.len() == 1 {
                "is"
            } else {
                "are"
            }
        ));
    }
    if !context.unused.is_empty() {
        parts.push(format!(
            "suppresses nothing with {}",
            quoted(context.unused)
        ));
    }
    if parts.is_empty() {
        return None;
    }
    let help = if context.bare {
        "name the codes it is for (`# imds-lint disable=IMDS001`, or `ALL`), or remove it"
            .to_owned()
    } else if context.unused.is_empty() {
        "correct the code (`imds-lint rule` lists them) or remove it".to_owned()
    } else {
        "remove what suppresses nothing (`--fix` does); a code whose finding is gone needs no suppression".to_owned()
    };
    Some(Violation {
        message: format!("suppression comment {}", parts.join("; ")),
        help,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context<'a>(
        bare: bool,
        unknown: &'a [String],
        unused: &'a [String],
    ) -> SuppressionContext<'a> {
        SuppressionContext {
            bare,
            unknown,
            unused,
        }
    }

    #[test]
    fn says_what_does_nothing() {
        let none: Vec<String> = Vec::new();
        let unknown = vec!["IMDS01".to_owned()];
        let unused = vec!["IMDS002".to_owned(), "IMDS004".to_owned()];
        assert_eq!(check(&context(false, &none, &none)), None);
        assert_eq!(
            check(&context(true, &none, &none)).unwrap().message,
            "suppression comment names no rule, so it suppresses nothing"
        );
        assert_eq!(
            check(&context(false, &unknown, &unused)).unwrap().message,
            "suppression comment names `IMDS01` that is not a rule; suppresses nothing with `IMDS002`, `IMDS004`"
        );
    }
}
