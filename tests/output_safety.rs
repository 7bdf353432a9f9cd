//! Text from the scanned files cannot take over the output (issue 12). A tree of files named
//! and written to attack each text format — names with line breaks, carriage returns, escape
//! sequences and `::stop-commands::`; a script with raw escape sequences, a bidirectional
//! override and a lone carriage return around a tokenless request; CloudFormation logical IDs
//! with line breaks (which end up in messages); a `write_files` path and decoded code with
//! escape sequences; a file too large to read, whose name ends up in a diagnostic — is scanned
//! by the real binary in every text format, with `--fix`, `--diff`, `--migration` and
//! `--statistics`. Every output must be free of control characters, forge no line (no workflow
//! command but the reporter's own, one finding per line in `concise`), keep XML well-formed, and
//! still show the names, escaped, so a person can find the file.
#![cfg(unix)]

#[path = "support/run.rs"]
mod run;

use std::path::Path;
use std::process::Output;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use run::{imds_lint, text};

/// A script whose name is a workflow command on its own line.
const STOP_COMMANDS: &str = "x\n::stop-commands::pwned\n.sh";
const STOP_COMMANDS_SHOWN: &str = "x\\n::stop-commands::pwned\\n.sh";

/// A script whose name clears the screen and, read by a GitHub runner, starts a new line.
const ESCAPES: &str = "esc\u{1b}[2J\r::error::cr.sh";

/// Too large for `--max-file-size`: its name is shown in a diagnostic.
const BIG: &str = "big\n::error file=x.sh::forged\n.sh";

const SCRIPT: &str = "#!/bin/sh\ncurl http://169.254.169.254/latest/meta-data/\n";

/// Raw escape sequences (colour, window title), a right-to-left override and a C1 control on
/// the line of a tokenless request, a lone carriage return on the line before.
const HOSTILE_SCRIPT: &str = "#!/bin/sh\n\
    # note\r::error::from-a-comment\n\
    echo \"\u{1b}[31mred\u{1b}[0m \u{202e}evil\u{202c}\"; curl http://169.254.169.254/latest/meta-data/ # \u{1b}]0;title\u{7}\u{85}\n";

/// Logical IDs with line breaks (double-quoted YAML keys, `\n` and `\e` escapes): the first is
/// shown in the migration table, the second in an IMDS010 message.
const TEMPLATE: &str = r#"AWSTemplateFormatVersion: "2010-09-09"
Resources:
  "Web\nForged:1:1: IMDS001 fake":
    Type: AWS::EC2::LaunchTemplate
    Properties:
      LaunchTemplateData:
        MetadataOptions:
          HttpTokens: optional
        UserData:
          Fn::Base64: |
            #!/bin/bash
            curl http://169.254.169.254/latest/meta-data/
  "Db\n::error::forged\n./cfn.yaml:1:1: IMDS001 forged\e[31m":
    Type: AWS::EC2::Instance
    Properties:
      ImageId: ami-123
"#;

/// cloud-init `write_files` with a path and base64 content that hold escape sequences: the
/// human report shows both (`in:` and `decoded:`).
fn cloud_config() -> String {
    let script = "#!/bin/sh\ncurl -H \"X-Note: \u{1b}[2J\u{202e}\" http://169.254.169.254/latest/meta-data/\n";
    format!(
        "#cloud-config\nwrite_files:\n  - path: \"/opt/x\\n::error::origin\\e[31m.sh\"\n    encoding: b64\n    permissions: \"0755\"\n    content: {}\n",
        STANDARD.encode(script)
    )
}

/// The hostile tree in a new temporary directory.
fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write =
        |name: &str, content: &[u8]| std::fs::write(dir.path().join(name), content).unwrap();
    write(STOP_COMMANDS, SCRIPT.as_bytes());
    write(ESCAPES, HOSTILE_SCRIPT.as_bytes());
    write("cfn.yaml", TEMPLATE.as_bytes());
    write("user-data.yaml", cloud_config().as_bytes());
    write(BIG, "# padding\n".repeat(2000).as_bytes());
    dir
}

/// `imds-lint ARGS --max-file-size 10000 .` in `dir`.
fn scan(dir: &Path, args: &[&str]) -> Output {
    let mut all = args.to_vec();
    all.extend(["--max-file-size", "10000", "."]);
    imds_lint(dir, &all)
}

/// How many findings the scan reports, counted in the JSON report.
fn findings(dir: &Path) -> usize {
    let output = scan(dir, &["--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    report["findings"].as_array().unwrap().len()
}

/// Characters that must not reach a terminal or a log: C0 controls but tab and line feed, DEL,
/// C1 controls, bidirectional embeddings, overrides and isolates, line and paragraph separators.
fn is_control(c: char) -> bool {
    (c < ' ' && c != '\n' && c != '\t')
        || ('\u{7f}'..='\u{9f}').contains(&c)
        || ('\u{2028}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// One of the reporter's own workflow commands: `::error` or `::warning`, then properties
/// (`key=value`, values without a raw `:` or `,`) up to the first `::`.
fn own_command(line: &str) -> bool {
    let Some(rest) = line
        .strip_prefix("::error ")
        .or_else(|| line.strip_prefix("::warning "))
    else {
        return false;
    };
    let Some((properties, _message)) = rest.split_once("::") else {
        return false;
    };
    properties.split(',').all(|property| {
        property.split_once('=').is_some_and(|(key, _)| {
            ["file", "line", "col", "endLine", "endColumn", "title"].contains(&key)
        })
    })
}

/// What every output of every run must be: valid UTF-8 without control characters, and no
/// line that starts a workflow command but the reporter's own under `--format github`.
fn assert_safe(what: &str, bytes: &[u8], github: bool) {
    let shown = String::from_utf8(bytes.to_vec()).unwrap_or_else(|e| panic!("{what}: {e}"));
    if let Some(c) = shown.chars().find(|&c| is_control(c)) {
        panic!("{what}: control character {c:?} in\n{shown}");
    }
    for line in shown.lines() {
        if line.starts_with("::") {
            assert!(
                github && own_command(line),
                "{what}: forged command {line:?} in\n{shown}"
            );
        }
    }
}

fn assert_output_safe(what: &str, output: &Output, github: bool) {
    assert_safe(&format!("{what} (stdout)"), &output.stdout, github);
    assert_safe(&format!("{what} (stderr)"), &output.stderr, github);
}

/// The one diagnostic, about the file over `--max-file-size`, as a plain line.
fn assert_plain_diagnostic(what: &str, stderr: &str) {
    let diagnostics: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("imds-lint: warning:"))
        .collect();
    assert_eq!(
        diagnostics,
        ["imds-lint: warning: ./big\\n::error file=x.sh::forged\\n.sh: skipped: 20000 bytes is over --max-file-size (10000 bytes)"],
        "{what}: {stderr}"
    );
}

#[test]
fn human_report_shows_names_snippets_and_decoded_code_escaped() {
    let dir = tree();
    let output = scan(dir.path(), &["--color", "never"]);
    assert_eq!(output.status.code(), Some(1));
    assert_output_safe("human", &output, false);
    let stdout = text(&output.stdout);
    // Paths in the snippet headers.
    assert!(
        stdout.contains(&format!("[./{STOP_COMMANDS_SHOWN}:2:1]")),
        "{stdout}"
    );
    // The column is the file's (as `concise` gives it), not one counted in the escaped line.
    assert!(
        stdout.contains("[./esc\\x1b[2J\\r::error::cr.sh:3:29]"),
        "{stdout}"
    );
    // Snippet lines, the line before the request too.
    assert!(
        stdout.contains("│ # note\\r::error::from-a-comment\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("│ echo \"\\x1b[31mred\\x1b[0m \\u{202e}evil\\u{202c}\"; curl http://169.254.169.254/latest/meta-data/ # \\x1b]0;title\\x07\\u{85}\n"),
        "{stdout}"
    );
    // The underline still sits under the request in the escaped line.
    let snippet = stdout
        .lines()
        .skip_while(|l| !l.contains("│ echo "))
        .take(2)
        .collect::<Vec<_>>();
    let (line, underline) = (snippet[0], snippet[1]);
    let column = |text: &str, needle: &str| text[..text.find(needle).unwrap()].chars().count();
    assert_eq!(
        column(line, "curl"),
        column(underline, "─"),
        "{line}\n{underline}"
    );
    // A message that quotes a logical ID, the way to decoded code, and the code.
    assert!(
        stdout.contains("`Db\\n::error::forged\\n./cfn.yaml:1:1: IMDS001 forged\\x1b[31m`"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "  in: write_files /opt/x\\n::error::origin\\x1b[31m.sh › base64 line 2, column 1\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("  decoded: curl -H \"X-Note: \\x1b[2J\\u{202e}\" http://169.254.169.254/latest/meta-data/\n"),
        "{stdout}"
    );
    assert_plain_diagnostic("human", &text(&output.stderr));
}

#[test]
fn concise_is_one_line_per_finding() {
    let dir = tree();
    let output = scan(dir.path(), &["--format", "concise"]);
    assert_output_safe("concise", &output, false);
    let stdout = text(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), findings(dir.path()), "{stdout}");
    for line in &lines {
        assert!(line.starts_with("./"), "{line}");
        let (place, _) = line.split_once(": IMDS0").unwrap();
        let mut parts = place.rsplitn(3, ':');
        let (column, row) = (parts.next().unwrap(), parts.next().unwrap());
        assert!(
            column.parse::<usize>().is_ok() && row.parse::<usize>().is_ok(),
            "{line}"
        );
    }
    assert!(
        lines.contains(&format!("./{STOP_COMMANDS_SHOWN}:2:1: IMDS001 `curl` request to the metadata service without a token [fix]").as_str()),
        "{stdout}"
    );
    assert!(
        stdout.contains("./cfn.yaml:13:3: IMDS010 `AWS::EC2::Instance` `Db\\n::error::forged\\n./cfn.yaml:1:1: IMDS001 forged\\x1b[31m` without `MetadataOptions`"),
        "{stdout}"
    );
    assert_plain_diagnostic("concise", &text(&output.stderr));
}

#[test]
fn github_output_is_the_reporters_commands_only() {
    let dir = tree();
    let output = scan(dir.path(), &["--format", "github"]);
    assert_output_safe("github", &output, true);
    let stdout = text(&output.stdout);
    assert!(stdout.lines().all(own_command), "{stdout}");
    assert_eq!(stdout.lines().count(), findings(dir.path()), "{stdout}");
    // Paths exact, in the runner's escapes; controls it has no escape for shown.
    assert!(
        stdout.contains("::error file=x%0A%3A%3Astop-commands%3A%3Apwned%0A.sh,line=2,col=1,"),
        "{stdout}"
    );
    assert!(
        stdout.contains("::error file=esc\\x1b[2J%0D%3A%3Aerror%3A%3Acr.sh,line=3,col=29,"),
        "{stdout}"
    );
    // A message is one line of the annotation, its help the second.
    assert!(
        stdout.contains("::`AWS::EC2::Instance` `Db\\n::error::forged\\n./cfn.yaml:1:1: IMDS001 forged\\x1b[31m` without `MetadataOptions`: "),
        "{stdout}"
    );
    // Diagnostics are commands too, not plain lines a name could turn into one.
    let stderr = text(&output.stderr);
    let commands: Vec<&str> = stderr.lines().filter(|l| l.starts_with("::")).collect();
    assert_eq!(
        commands,
        ["::warning file=big%0A%3A%3Aerror file=x.sh%3A%3Aforged%0A.sh,title=imds-lint::skipped: 20000 bytes is over --max-file-size (10000 bytes)"],
        "{stderr}"
    );
    assert!(!stderr.contains("imds-lint: warning:"), "{stderr}");
}

#[test]
fn xml_reports_stay_well_formed() {
    let dir = tree();
    for format in ["checkstyle", "junit"] {
        let output = scan(dir.path(), &["--format", format]);
        assert_output_safe(format, &output, false);
        let stdout = text(&output.stdout);
        assert_well_formed(&stdout);
        // Paths exact (line breaks as references), controls XML forbids shown escaped.
        assert!(
            stdout.contains("\"x&#10;::stop-commands::pwned&#10;.sh\""),
            "{format}: {stdout}"
        );
        assert!(
            stdout.contains("\"esc\\x1b[2J&#13;::error::cr.sh\""),
            "{format}: {stdout}"
        );
        // Messages one line.
        assert!(
            stdout.contains("`Db\\n::error::forged\\n./cfn.yaml:1:1: IMDS001 forged\\x1b[31m`"),
            "{format}: {stdout}"
        );
        assert_plain_diagnostic(format, &text(&output.stderr));
    }
}

#[test]
fn fix_log_shows_each_file_on_one_line() {
    let fixed = format!("fixed 1 finding in ./{STOP_COMMANDS_SHOWN}");
    // The human report puts the log on stdout, the others on stderr.
    for (format, log_on_stdout) in [("human", true), ("concise", false), ("github", false)] {
        let dir = tree();
        let output = scan(
            dir.path(),
            &["--fix", "--color", "never", "--format", format],
        );
        assert_output_safe(
            &format!("--fix --format {format}"),
            &output,
            format == "github",
        );
        let log = text(if log_on_stdout {
            &output.stdout
        } else {
            &output.stderr
        });
        assert!(log.lines().any(|l| l == fixed), "{format}: {log}");
        assert!(
            log.lines()
                .any(|l| l == "fixed 1 finding in ./esc\\x1b[2J\\r::error::cr.sh"),
            "{format}: {log}"
        );
        // The files were fixed under their own names.
        let script = std::fs::read_to_string(dir.path().join(STOP_COMMANDS)).unwrap();
        assert!(script.contains("X-aws-ec2-metadata-token"), "{script}");
    }
}

#[test]
fn diff_quotes_names_as_git_does_and_escapes_lines() {
    let dir = tree();
    let output = scan(dir.path(), &["--diff"]);
    assert_output_safe("--diff", &output, false);
    let stdout = text(&output.stdout);
    for line in stdout.lines() {
        assert!(
            ["--- ", "+++ ", "@@ ", " ", "+", "-", "\\ "]
                .iter()
                .any(|p| line.starts_with(p)),
            "not a diff line: {line:?} in\n{stdout}"
        );
    }
    let headers: Vec<&str> = stdout.lines().filter(|l| l.starts_with("--- ")).collect();
    assert_eq!(headers.len(), 4, "{stdout}");
    assert!(
        headers.contains(&"--- \"a/x\\n::stop-commands::pwned\\n.sh\""),
        "{stdout}"
    );
    assert!(
        headers.contains(&"--- \"a/esc\\033[2J\\r::error::cr.sh\""),
        "{stdout}"
    );
    assert!(
        stdout.contains("+++ \"b/x\\n::stop-commands::pwned\\n.sh\"\n@@ -1,2 +1,3 @@\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\n # note\\r\n ::error::from-a-comment\n"),
        "{stdout}"
    );
    // Nothing was written.
    let script = std::fs::read_to_string(dir.path().join(STOP_COMMANDS)).unwrap();
    assert_eq!(script, SCRIPT);
}

#[test]
fn diff_of_a_name_with_a_line_break_applies_with_git() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(STOP_COMMANDS), SCRIPT).unwrap();
    let diff = imds_lint(dir.path(), &["--diff", "."]);
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(dir.path())
            .output()
    };
    let Ok(init) = git(&["init", "-q"]) else {
        return; // no git here
    };
    assert!(init.status.success());
    let patch = dir.path().join("fix.patch");
    std::fs::write(&patch, &diff.stdout).unwrap();
    let applied = git(&["apply", patch.to_str().unwrap()]).unwrap();
    assert!(applied.status.success(), "{}", text(&applied.stderr));
    let script = std::fs::read_to_string(dir.path().join(STOP_COMMANDS)).unwrap();
    assert!(script.contains("X-aws-ec2-metadata-token"), "{script}");
}

#[test]
fn migration_table_keeps_one_row_per_setting() {
    let dir = tree();
    let output = scan(dir.path(), &["--migration"]);
    assert_output_safe("--migration", &output, false);
    let stdout = text(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    // The table, a blank line, the verdict, and what it did not count (the file over the size).
    assert_eq!(lines.len(), 6, "{stdout}");
    assert!(lines[0].starts_with("setting "), "{stdout}");
    assert!(
        lines[1].starts_with("./cfn.yaml:8 ")
            && lines[1].contains("AWS::EC2::LaunchTemplate Web\\nForged:1:1: IMDS001 fake "),
        "{stdout}"
    );
    assert!(
        lines[2].starts_with("./cfn.yaml:13 ")
            && lines[2].contains("Db\\n::error::forged\\n./cfn.yaml:1:1: IMDS001 forged\\x1b[31m "),
        "{stdout}"
    );
    assert_eq!(lines[3], "");
    assert_eq!(
        lines[5],
        "Boot code in 1 file not analysed is not counted (see the warnings above)."
    );
}

#[test]
fn statistics_and_json_stay_clean() {
    let dir = tree();
    let output = scan(dir.path(), &["--statistics", "--format", "concise"]);
    assert_output_safe("--statistics", &output, false);
    assert!(text(&output.stderr).contains("files walked:"));
    // JSON escapes control characters itself (`\u001b`): still a safe, parseable report.
    let output = scan(dir.path(), &["--format", "json"]);
    assert_output_safe("json", &output, false);
}

/// A small well-formedness check of the XML the reporters write: every character an XML 1.0
/// `Char`, the declaration first, tags nested and closed, attribute values quoted, and `&` only
/// in entity and character references that name an XML character.
fn assert_well_formed(xml: &str) {
    let legal = |c: char| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..);
    assert!(xml.chars().all(legal), "illegal character in\n{xml}");
    let mut rest = xml
        .strip_prefix(r#"<?xml version="1.0" encoding="UTF-8"?>"#)
        .unwrap_or_else(|| panic!("no declaration in\n{xml}"));
    let mut open: Vec<&str> = Vec::new();
    let mut roots = 0;
    while !rest.is_empty() {
        let lt = rest.find('<').unwrap_or(rest.len());
        let (content, tail) = rest.split_at(lt);
        assert!(
            !open.is_empty() || content.trim().is_empty(),
            "text outside the root: {content:?}"
        );
        assert_references(content);
        assert!(!content.contains('>'), "stray `>` in {content:?}");
        if tail.is_empty() {
            break;
        }
        let gt = tail
            .find('>')
            .unwrap_or_else(|| panic!("unclosed tag in {tail:?}"));
        let tag = &tail[1..gt];
        rest = &tail[gt + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(open.pop(), Some(name), "mismatched </{name}>");
            continue;
        }
        let (tag, empty) = match tag.strip_suffix('/') {
            Some(tag) => (tag, true),
            None => (tag, false),
        };
        let name_end = tag.find(char::is_whitespace).unwrap_or(tag.len());
        let name = &tag[..name_end];
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '-' || c == '_'),
            "bad name {name:?}"
        );
        let mut attributes = tag[name_end..].trim_start();
        while !attributes.is_empty() {
            let (key, value) = attributes
                .split_once("=\"")
                .unwrap_or_else(|| panic!("bad attribute in {tag:?}"));
            assert!(
                key.chars().all(char::is_alphanumeric),
                "bad attribute name {key:?}"
            );
            let end = value
                .find('"')
                .unwrap_or_else(|| panic!("unquoted value in {tag:?}"));
            assert!(
                !value[..end].contains('<'),
                "`<` in an attribute of {tag:?}"
            );
            assert_references(&value[..end]);
            attributes = value[end + 1..].trim_start();
        }
        if open.is_empty() {
            roots += 1;
        }
        if !empty {
            open.push(name);
        }
    }
    assert!(open.is_empty(), "unclosed {open:?}");
    assert_eq!(roots, 1, "one root element");
}

/// Every `&` in `text` starts a reference to a predefined entity or to a legal character.
fn assert_references(text: &str) {
    let mut parts = text.split('&');
    parts.next();
    for part in parts {
        let (reference, _) = part
            .split_once(';')
            .unwrap_or_else(|| panic!("unterminated reference in {text:?}"));
        let code = if let Some(hex) = reference.strip_prefix("#x") {
            u32::from_str_radix(hex, 16).ok()
        } else if let Some(decimal) = reference.strip_prefix('#') {
            decimal.parse().ok()
        } else {
            assert!(
                ["amp", "lt", "gt", "quot", "apos"].contains(&reference),
                "unknown entity &{reference}; in {text:?}"
            );
            continue;
        };
        let c = code.and_then(char::from_u32);
        assert!(
            c.is_some_and(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)),
            "reference to an illegal character &{reference}; in {text:?}"
        );
    }
}

#[test]
fn the_xml_check_catches_what_it_should() {
    let ok = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a x=\"1&#10;&amp;\">\n  <b y=\"2\"/>t&lt;\n</a>\n";
    assert_well_formed(ok);
    for bad in [
        "<a>\u{1b}</a>",
        "<a x=\"&#27;\"></a>",
        "<a><b></a></b>",
        "<a x=\"1\">&bogus;</a>",
        "<a></a><b></b>",
        "<a x=1></a>",
    ] {
        let xml = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{bad}\n");
        assert!(
            std::panic::catch_unwind(|| assert_well_formed(&xml)).is_err(),
            "accepted {bad:?}"
        );
    }
}
