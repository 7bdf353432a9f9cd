//! AWS Systems Manager documents (JSON or YAML). A Command document of schema 2.2 lists
//! `mainSteps`, schema 1.2 a `runtimeConfig` of plugins. `aws:runShellScript`'s `runCommand` (a
//! list of lines, or one string) is one script: the agent writes the lines into one script file
//! and runs it with `sh`. `{{ name }}` (document parameters, `{{ssm:…}}` parameters) is
//! substituted before the shell runs and is read as an unknown word. An Automation runbook
//! (schema 0.3) step `aws:runCommand` with the document `AWS-RunShellScript` runs its
//! `Parameters.commands` the same way. `aws:runPowerShellScript` is PowerShell (see
//! `super::powershell`); `aws:runDocument` and other documents a step names are not followed
//! (a note says so). The document is read standalone, or where CloudFormation
//! (`AWS::SSM::Document` `Content`) or Terraform (`aws_ssm_document` `content`) holds it.

use tree_sitter::Node;

use super::script::{command_lines, ScriptBuilder};
use super::yaml;
use super::Parsed;
use crate::fragment::HostId;
use crate::model::Note;

/// Whether a document is an SSM document: `schemaVersion` and `mainSteps` or `runtimeConfig`.
pub fn is_document(document: Node, bytes: &[u8]) -> bool {
    let has = |key: &str| yaml::get(document, bytes, key).is_some();
    has("schemaVersion") && (has("mainSteps") || has("runtimeConfig"))
}

/// Reads the shell steps of an SSM document.
pub fn read(document: Node, bytes: &[u8], host: HostId, parsed: &mut Parsed) {
    if let Some(steps) = yaml::get(document, bytes, "mainSteps") {
        for step in yaml::items(steps, bytes) {
            let text = |node: Option<Node>| {
                node.and_then(|n| yaml::scalar_string(n, bytes))
                    .unwrap_or_default()
            };
            let action = text(yaml::get(step, bytes, "action"));
            let step_name = text(yaml::get(step, bytes, "name"));
            let what = format!("the step {step_name}");
            let inputs = yaml::get(step, bytes, "inputs");
            let input = |key: &str| inputs.and_then(|i| yaml::get(i, bytes, key));
            match action.as_str() {
                "aws:runShellScript" | "aws:runPowerShellScript" => {
                    if let Some(commands) = input("runCommand") {
                        parsed.place(commands, "ssm-document", &step_name, "runCommand");
                        plugin(&action, commands, bytes, host, &what, parsed);
                    }
                }
                "aws:runCommand" => {
                    let document = text(input("DocumentName"));
                    let commands =
                        input("Parameters").and_then(|p| yaml::get(p, bytes, "commands"));
                    if let Some(commands) = commands {
                        parsed.place(commands, "ssm-document", &step_name, "commands");
                    }
                    match (document.as_str(), commands) {
                        ("AWS-RunShellScript", Some(commands)) => {
                            plugin("aws:runShellScript", commands, bytes, host, &what, parsed)
                        }
                        ("AWS-RunPowerShellScript", Some(commands)) => plugin(
                            "aws:runPowerShellScript",
                            commands,
                            bytes,
                            host,
                            &what,
                            parsed,
                        ),
                        _ => not_followed(&what, &document, parsed),
                    }
                }
                "aws:runDocument" => not_followed(&what, &text(input("documentPath")), parsed),
                // An Automation step's inline script (Python or PowerShell, in `Script`), run by
                // the Automation service rather than on an instance: said, not read.
                "aws:executeScript" if input("Script").is_some() => {
                    parsed.diagnostics.push(Note::partly_analysed(format!(
                        "{what} runs an inline aws:executeScript script (Python or PowerShell), which is not analysed"
                    )));
                }
                _ => {}
            }
        }
    }
    if let Some(config) = yaml::get(document, bytes, "runtimeConfig") {
        for (action, _, body) in yaml::pairs(config, bytes) {
            let Some(properties) = yaml::get(body, bytes, "properties") else {
                continue;
            };
            // `properties` is a list of runs, or one.
            let runs = if yaml::is_sequence(properties, bytes) {
                yaml::items(properties, bytes)
            } else {
                vec![properties]
            };
            for run in runs {
                if let Some(commands) = yaml::get(run, bytes, "runCommand") {
                    parsed.place(commands, "ssm-document", &action, "runCommand");
                    let what = format!("the plugin {action}");
                    plugin(&action, commands, bytes, host, &what, parsed);
                }
            }
        }
    }
}

/// The commands of a `aws:runShellScript` or `aws:runPowerShellScript` plugin.
fn plugin(
    action: &str,
    commands: Node,
    bytes: &[u8],
    host: HostId,
    what: &str,
    parsed: &mut Parsed,
) {
    let (script, unread): (ScriptBuilder, usize) = command_lines(commands, bytes, "{{", "}}");
    match action {
        "aws:runShellScript" => {
            if unread > 0 {
                parsed.diagnostics.push(Note::partly_analysed(format!(
                    "{what}: {unread} command(s) that are not strings were not read"
                )));
            }
            if !script.is_empty() {
                parsed.fragments.push(script.finish(host));
            }
        }
        "aws:runPowerShellScript" => super::powershell(script, host, parsed),
        _ => {}
    }
}

/// A step that runs another SSM document, which is not read from here.
fn not_followed(what: &str, document: &str, parsed: &mut Parsed) {
    let document = if document.is_empty() {
        "another document".to_owned()
    } else {
        format!("the document {document}")
    };
    parsed.diagnostics.push(Note::partly_analysed(format!(
        "{what} runs {document}, which is not followed"
    )));
}

#[cfg(test)]
mod tests {
    use crate::frontend::manifests;

    #[test]
    fn schema_1_2_properties_may_be_one_object_and_run_command_one_string() {
        let document = br#"{"schemaVersion": "1.2", "runtimeConfig": {"aws:runShellScript": {"properties": {"runCommand": "curl http://169.254.169.254/"}}}}"#;
        let parsed = manifests::parse(document, 0);
        assert_eq!(parsed.fragments.len(), 1);
        assert_eq!(parsed.fragments[0].text, b"curl http://169.254.169.254/");
    }

    #[test]
    fn lines_join_into_one_script_with_parameters_as_words() {
        let document = b"schemaVersion: '2.2'\nmainSteps:\n  - action: aws:runShellScript\n    name: a\n    inputs:\n      runCommand:\n        - A={{ P }}\n        - [nested]\n        - echo $A\n";
        let parsed = manifests::parse(document, 0);
        assert_eq!(parsed.fragments.len(), 1);
        assert_eq!(parsed.fragments[0].text, b"A=XXXXXXX\necho $A");
        assert_eq!(
            parsed.diagnostics,
            [crate::model::Note::partly_analysed(
                "the step a: 1 command(s) that are not strings were not read"
            )]
        );
    }
}
