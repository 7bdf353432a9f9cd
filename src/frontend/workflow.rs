//! Scripts in CI workflows: GitHub Actions `run:` steps (bash and sh), GitLab CI
//! `before_script` + `script` (one shell) and `after_script` (another).

use tree_sitter::Node;

use super::script::{placeholders, ScriptBuilder};
use super::yaml::{self, Scalar};
use super::Parsed;
use crate::fragment::HostId;

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
    for (_, _, job) in yaml::pairs(jobs, bytes) {
        let job_shell = default_shell(job).or_else(|| workflow_shell.clone());
        let Some(steps) = yaml::get(job, bytes, "steps") else {
            continue;
        };
        for step in yaml::items(steps, bytes) {
            let shell = yaml::get(step, bytes, "shell")
                .and_then(|s| yaml::scalar_string(s, bytes))
                .or_else(|| job_shell.clone())
                .unwrap_or_else(|| "bash".to_owned());
            let program = shell.split_whitespace().next().unwrap_or_default();
            if !matches!(program, "bash" | "sh") {
                continue;
            }
            let Some(run) = yaml::get(step, bytes, "run").and_then(|r| yaml::scalar(r, bytes))
            else {
                continue;
            };
            let mut script = ScriptBuilder::default();
            script.push_scalar(&with_placeholders(run, "${{", "}}"));
            parsed.fragments.push(script.finish(host));
        }
    }
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
