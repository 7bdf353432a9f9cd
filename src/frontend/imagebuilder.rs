//! EC2 Image Builder component documents (AWSTOE, YAML or JSON): `phases` → `steps`, each with an
//! `action`. An `ExecuteBash` step's `inputs.commands` is one bash script (AWSTOE writes the
//! lines into one script file and runs it with bash, so a variable set on one line is seen on
//! the next); `{{ … }}` (component parameters, constants, step outputs, loop values) is
//! substituted before bash runs and is read as an unknown word. `ExecutePowerShell` steps are
//! PowerShell (see `super::powershell`). The document is read standalone, or where CloudFormation
//! (`AWS::ImageBuilder::Component` `Data`) or Terraform (`aws_imagebuilder_component` `data`)
//! holds it as a string.
//!
//! A `CreateFile` step writes files (`inputs: [{path, content}]`): a file's content is a shell
//! script, read as a host of its own (`super::kubernetes::scalar_host`, fixed in place), when a
//! step of the document runs it (an `ExecuteBash` command line that names its path, or an
//! `ExecuteBinary` step whose `path` it is), when its name says so (`.sh`, `.bash`) or when its
//! first line is a shell shebang and it is not run by another interpreter. Other files are data.
//! Content in another encoding (`encoding: base64`) that would be a script gets a note.

use tree_sitter::Node;

use super::script::command_lines;
use super::yaml;
use super::Parsed;
use crate::fragment::HostId;
use crate::model::{Note, OriginEntry};

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
    let runs = run_paths(phases, bytes);
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
            if action == "CreateFile" {
                if let Some(inputs) = yaml::get(step, bytes, "inputs") {
                    for file in yaml::items(inputs, bytes) {
                        create_file(file, bytes, &name, &runs, parsed);
                    }
                }
                continue;
            }
            let Some(commands) =
                yaml::get(step, bytes, "inputs").and_then(|i| yaml::get(i, bytes, "commands"))
            else {
                continue;
            };
            let what = format!("the step {name} of the phase {phase_name}");
            if matches!(action.as_str(), "ExecuteBash" | "ExecutePowerShell") {
                parsed.place(
                    commands,
                    "imagebuilder-component",
                    &format!("{phase_name}.{name}"),
                    "inputs.commands",
                );
            }
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

/// What the steps of a document run: the text of every `ExecuteBash` command (a path named in
/// it may be run) and the `path` of every `ExecuteBinary` step.
struct Runs {
    commands: Vec<String>,
    binaries: Vec<String>,
}

impl Runs {
    /// Whether a step runs the file at `path`: a command line that runs it (`names_path`) or an
    /// `ExecuteBinary` step's `path`.
    fn run(&self, path: &str) -> bool {
        self.binaries.iter().any(|b| b == path)
            || self.commands.iter().any(|line| names_path(line, path))
    }
}

/// Whether a command line runs `path` as a program or as a shell script: the path is a word of
/// its own at a command's start (after `;`, `&&`, `|`, `then`, …) or after `sudo`, `exec`, `env`,
/// `nohup`, `time`, a shell (`bash -x`) or `source`/`.`. Named after another program (`cat`,
/// `python3`, `chmod`), it is not run as shell.
fn names_path(line: &str, path: &str) -> bool {
    const BOUNDARY: &[char] = &['"', '\'', ';', '&', '(', ')', '|', '`'];
    const RUNNERS: &[&str] = &["sudo", "exec", "env", "nohup", "time", "source", "."];
    line.match_indices(path).any(|(at, _)| {
        let end = at + path.len();
        let (before, after) = (&line[..at], &line[end..]);
        let word_ends = after
            .chars()
            .next()
            .is_none_or(|c| c.is_whitespace() || BOUNDARY.contains(&c));
        let word_starts = before
            .chars()
            .next_back()
            .is_none_or(|c| c.is_whitespace() || BOUNDARY.contains(&c));
        if !word_ends || !word_starts {
            return false;
        }
        // The words before it in its command, options and assignments dropped.
        let command = before
            .rsplit([';', '&', '|', '(', '`', '\n'])
            .next()
            .unwrap_or_default();
        let mut words = command
            .split_whitespace()
            .map(|w| w.trim_matches(['"', '\'']))
            .filter(|w| !w.starts_with('-') && !w.contains('=') && !w.is_empty());
        match words.next_back() {
            None | Some("then" | "do" | "else") => true,
            Some(word) => {
                let program = word.rsplit('/').next().unwrap_or(word);
                RUNNERS.contains(&program) || crate::fragment::language::is_shell_name(program)
            }
        }
    })
}

fn run_paths(phases: Node, bytes: &[u8]) -> Runs {
    let mut runs = Runs {
        commands: Vec::new(),
        binaries: Vec::new(),
    };
    for phase in yaml::items(phases, bytes) {
        let Some(steps) = yaml::get(phase, bytes, "steps") else {
            continue;
        };
        for step in yaml::items(steps, bytes) {
            let action = yaml::get(step, bytes, "action")
                .and_then(|a| yaml::scalar_string(a, bytes))
                .unwrap_or_default();
            let inputs = yaml::get(step, bytes, "inputs");
            match action.as_str() {
                "ExecuteBash" => {
                    if let Some(commands) = inputs.and_then(|i| yaml::get(i, bytes, "commands")) {
                        runs.commands.extend(
                            yaml::items(commands, bytes)
                                .into_iter()
                                .filter_map(|c| yaml::scalar(c, bytes))
                                .map(|c| c.text),
                        );
                    }
                }
                "ExecuteBinary" => {
                    if let Some(path) = inputs
                        .and_then(|i| yaml::get(i, bytes, "path"))
                        .and_then(|p| yaml::scalar_string(p, bytes))
                    {
                        runs.binaries.push(path);
                    }
                }
                _ => {}
            }
        }
    }
    runs
}

/// One file a `CreateFile` step writes: its content read as a script when it is one.
fn create_file(file: Node, bytes: &[u8], step: &str, runs: &Runs, parsed: &mut Parsed) {
    let field = |key: &str| yaml::get(file, bytes, key).and_then(|n| yaml::scalar(n, bytes));
    let (Some(path), Some(content)) = (field("path"), field("content")) else {
        return;
    };
    let path = path.text;
    let first_line = content.text.lines().next().unwrap_or_default();
    let shebang = first_line.starts_with("#!");
    let script = (runs.run(&path)
        && (!shebang || crate::fragment::language::is_shell_shebang(first_line)))
        || (shebang && crate::fragment::language::is_shell_shebang(first_line))
        || (!shebang && (path.ends_with(".sh") || path.ends_with(".bash")));
    if !script {
        return;
    }
    let encoding = field("encoding")
        .map(|e| e.text.to_ascii_lowercase())
        .unwrap_or_default();
    if !matches!(encoding.as_str(), "" | "utf8" | "utf-8" | "plain") {
        parsed.diagnostics.push(Note::partly_analysed(format!(
            "the step {step} writes the script `{path}` in the `{encoding}` encoding; it was not read"
        )));
        return;
    }
    let mut host = super::kubernetes::scalar_host(
        &content,
        vec![OriginEntry::layer("imagebuilder-createfile")
            .with_name(path)
            .with_key("content")],
    );
    host.kind = Some(super::Kind::Shell);
    parsed.embedded.push(host);
}

#[cfg(test)]
mod tests {
    use super::names_path;
    use crate::model::Note;

    /// A script written in another encoding is not decoded: a note says so, and nothing of it
    /// is read; a data file in one is not mentioned.
    #[test]
    fn an_encoded_script_gets_a_note() {
        let component = b"schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Write
        action: CreateFile
        inputs:
          - path: /opt/x.sh
            encoding: base64
            content: Y3VybCBodHRwOi8vMTY5LjI1NC4xNjkuMjU0Lw==
          - path: /etc/x.conf
            encoding: base64
            content: eA==
";
        let parsed = crate::frontend::manifests::parse(component, 0);
        assert_eq!(
            parsed.diagnostics,
            [Note::partly_analysed(
                "the step Write writes the script `/opt/x.sh` in the `base64` encoding; it was not read"
            )]
        );
        assert!(parsed.embedded.is_empty() && parsed.fragments.is_empty());
    }

    #[test]
    fn a_path_is_run_at_a_command_start_or_after_a_shell_or_runner() {
        for line in [
            "/opt/x",
            "bash -x /opt/x",
            "chmod +x /opt/x && sudo /opt/x",
            "sudo -E env A=1 /opt/x",
            "set -e; . /opt/x",
            "if true; then /opt/x; fi",
            "sh '/opt/x' arg",
        ] {
            assert!(names_path(line, "/opt/x"), "{line}");
        }
        for line in [
            "cat /opt/x",
            "python3 /opt/x",
            "chmod +x /opt/x",
            "/opt/x.d/run",
            "ls /opt/xy",
            "echo /opt/x",
        ] {
            assert!(!names_path(line, "/opt/x"), "{line}");
        }
    }
}
