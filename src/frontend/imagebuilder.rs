//! EC2 Image Builder component documents (AWSTOE, YAML or JSON): `phases` → `steps`, each with an
//! `action`. An `ExecuteBash` step's `inputs.commands` is one bash script (AWSTOE writes the
//! lines into one script file and runs it with bash, so a variable set on one line is seen on
//! the next); `{{ … }}` (component parameters, constants, step outputs, loop values) is
//! substituted before bash runs and is read as an unknown word. `ExecutePowerShell` steps are
//! PowerShell (see `super::powershell`). The document is read standalone, or where CloudFormation
//! (`AWS::ImageBuilder::Component` `Data`) or Terraform (`aws_imagebuilder_component` `data`)
//! holds it as a string.

use tree_sitter::Node;

use super::script::command_lines;
use super::yaml;
use super::Parsed;
use crate::fragment::HostId;
use crate::model::Note;

/// Whether a document is an Image Builder component: `schemaVersion` and a list of `phases`.
pub fn is_component(document: Node, bytes: &[u8]) -> bool {
    yaml::get(document, bytes, "schemaVersion").is_some()
        && yaml::get(document, bytes, "phases").is_some_and(|p| yaml::is_sequence(p, bytes))
}

/// Reads the steps of a component document.
pub fn read(document: Node, bytes: &[u8], host: HostId, parsed: &mut Parsed) {
    let Some(phases) = yaml::get(document, bytes, "phases") else {
        return;
    };
    for phase in yaml::items(phases, bytes) {
        let phase_name = yaml::get(phase, bytes, "name")
            .and_then(|n| yaml::scalar_string(n, bytes))
            .unwrap_or_default();
        let Some(steps) = yaml::get(phase, bytes, "steps") else {
            continue;
        };
        for step in yaml::items(steps, bytes) {
            let action = yaml::get(step, bytes, "action")
                .and_then(|a| yaml::scalar_string(a, bytes))
                .unwrap_or_default();
            let name = yaml::get(step, bytes, "name")
                .and_then(|n| yaml::scalar_string(n, bytes))
                .unwrap_or_default();
            let Some(commands) =
                yaml::get(step, bytes, "inputs").and_then(|i| yaml::get(i, bytes, "commands"))
            else {
                continue;
            };
            let what = format!("the step {name} of the phase {phase_name}");
            let (script, unread) = command_lines(commands, bytes, "{{", "}}");
            match action.as_str() {
                "ExecuteBash" => {
                    if unread > 0 {
                        parsed.diagnostics.push(Note::partly_analysed(format!(
                            "{what}: {unread} command(s) that are not strings were not read"
                        )));
                    }
                    if !script.is_empty() {
                        parsed.fragments.push(script.finish(host));
                    }
                }
                "ExecutePowerShell" => super::powershell(script, host, parsed),
                _ => {}
            }
        }
    }
}
