//! Scripts in CI workflows: GitHub Actions `run:` steps, GitLab CI `before_script` + `script`
//! (one shell) and `after_script` (another). An Actions step runs in the shell its `shell:` names,
//! or its job's or workflow's `defaults.run.shell`, or else the runner's default: `pwsh` on a
//! Windows runner (`runs-on` naming `windows`), bash elsewhere. bash and sh steps are shell,
//! `pwsh` and `powershell` steps PowerShell (`super::powershell`); any other shell (`python`,
//! `cmd`, a custom one) gets a note.

use tree_sitter::Node;

use super::script::{placeholders, ScriptBuilder};
use super::yaml::{self, Scalar};
use super::Parsed;
use crate::fragment::HostId;
use crate::model::{Note, OriginEntry};

/// A scalar with what the host substitutes (`${{ … }}`) replaced by placeholders.
fn with_placeholders(mut scalar: Scalar, open: &str, close: &str) -> Scalar {
    let replaced = placeholders(&scalar.text, open, close, |_| false);
    if replaced != scalar.text {
        scalar.text = replaced;
    }
    scalar
}

pub fn read_github(document: Node, bytes: &[u8], host: HostId, parsed: &mut Parsed) {
    let Some(jobs) = yaml::get(document, bytes, "jobs") else {
        return;
    };
    let default_shell = |node: Node| {
        yaml::get(node, bytes, "defaults")
            .and_then(|d| yaml::get(d, bytes, "run"))
            .and_then(|r| yaml::get(r, bytes, "shell"))
            .and_then(|s| yaml::scalar_string(s, bytes))
    };
    let workflow_shell = default_shell(document);
    for (job_name, _, job) in yaml::pairs(jobs, bytes) {
        let runner_shell = if on_windows(job, bytes) {
            "pwsh"
        } else {
            "bash"
        };
        let job_shell = default_shell(job).or_else(|| workflow_shell.clone());
        let Some(steps) = yaml::get(job, bytes, "steps") else {
            continue;
        };
        for (index, step) in yaml::items(steps, bytes).into_iter().enumerate() {
            let Some(run) = yaml::get(step, bytes, "run").and_then(|r| yaml::scalar(r, bytes))
            else {
                continue;
            };
            let key = yaml::get(step, bytes, "name")
                .and_then(|n| yaml::scalar_string(n, bytes))
                .unwrap_or_else(|| format!("steps[{index}]"));
            parsed.place(step, "github-actions", &job_name, &key);
            let shell = yaml::get(step, bytes, "shell")
                .and_then(|s| yaml::scalar_string(s, bytes))
                .or_else(|| job_shell.clone())
                .unwrap_or_else(|| runner_shell.to_owned());
            let program = shell.split_whitespace().next().unwrap_or_default();
            let mut script = ScriptBuilder::default();
            script.push_scalar(&with_placeholders(run, "${{", "}}"));
            if matches!(program, "bash" | "sh") {
                parsed.fragments.push(script.finish(host));
            } else if super::ci::is_powershell(program) {
                super::powershell(script, host, parsed);
            } else {
                parsed.diagnostics.push(Note::partly_analysed(format!(
                    "a GitHub Actions step runs `{shell}`, not a POSIX shell nor PowerShell; it was not analysed"
                )));
            }
        }
    }
}

/// Whether a job runs on a Windows runner (`runs-on: windows-latest`, or a list or group of
/// labels one of which names Windows), whose default shell is `pwsh`.
fn on_windows(job: Node, bytes: &[u8]) -> bool {
    let Some(runs_on) = yaml::get(job, bytes, "runs-on") else {
        return false;
    };
    let windows = |node: Node| {
        yaml::scalar_string(node, bytes).is_some_and(|s| s.to_ascii_lowercase().contains("windows"))
    };
    if yaml::is_sequence(runs_on, bytes) {
        return yaml::items(runs_on, bytes).into_iter().any(windows);
    }
    if let Some(labels) = yaml::get(runs_on, bytes, "labels") {
        return windows(labels)
            || (yaml::is_sequence(labels, bytes)
                && yaml::items(labels, bytes).into_iter().any(windows));
    }
    windows(runs_on)
}

pub fn read_gitlab(document: Node, bytes: &[u8], host: HostId, parsed: &mut Parsed) {
    for (name, _, job) in yaml::pairs(document, bytes) {
        if name.starts_with('.') && yaml::get(job, bytes, "script").is_none() {
            continue;
        }
        if !yaml::is_mapping(job, bytes) || yaml::get(job, bytes, "script").is_none() {
            continue;
        }
        for keys in [&["before_script", "script"][..], &["after_script"][..]] {
            let mut script = ScriptBuilder::default();
            for key in keys {
                let Some(value) = yaml::get(job, bytes, key) else {
                    continue;
                };
                let mut lines = Vec::new();
                script_lines(value, bytes, 0, &mut lines);
                for line in lines {
                    if let Some(scalar) = yaml::scalar(line, bytes) {
                        // Each line, where it is written (an alias's text is its anchor's).
                        let entry = OriginEntry::layer("gitlab-ci")
                            .with_name(&name)
                            .with_key(*key);
                        parsed.places.push((scalar.span, entry));
                        if !script.is_empty() {
                            script.newline(line.start_byte());
                        }
                        script.push_scalar(&with_placeholders(scalar, "$[[", "]]"));
                    }
                }
            }
            if !script.is_empty() {
                parsed.fragments.push(script.finish(host));
            }
        }
    }
}

/// How deep GitLab flattens lists nested in a script (a list alias among its lines).
const MAX_SCRIPT_NESTING: usize = 10;

/// The lines of a GitLab script: a string, or a list whose nested lists (often aliases of
/// lists anchored elsewhere) are flattened, as GitLab does, down to its nesting limit.
fn script_lines<'t>(value: Node<'t>, bytes: &[u8], depth: usize, out: &mut Vec<Node<'t>>) {
    if !yaml::is_sequence(value, bytes) {
        out.push(value);
        return;
    }
    if depth >= MAX_SCRIPT_NESTING {
        return;
    }
    for item in yaml::items(value, bytes) {
        script_lines(item, bytes, depth + 1, out);
    }
}
