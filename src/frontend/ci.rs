//! Scripts in CI and build systems besides GitHub Actions and GitLab (`workflow.rs`): AWS
//! CodeBuild buildspecs, CircleCI, Azure Pipelines, Bitbucket Pipelines and Buildkite. Which script
//! items share one shell:
//!
//! - CodeBuild (`version: 0.2`): every command of every phase (`install`, `pre_build`, `build`,
//!   `post_build`, each phase's `finally` after its `commands`) runs in one shell instance, in
//!   that order; `version: 0.1` runs each command in a shell of its own.
//!   A buildspec whose `env.shell` is PowerShell (Windows builds) is read as PowerShell, scoped
//!   the same way.
//! - CircleCI: each `run` step (a string, or `command:` in a mapping) is its own shell; a step
//!   whose `shell:` (or its job's) is PowerShell is read as PowerShell, any other shell that is
//!   not POSIX is not read (a note). Reusable `commands:` too.
//! - Azure Pipelines: each `script:`/`bash:` step, and each `Bash@3` task's inline
//!   `inputs.script`, is its own shell; `pwsh:`/`powershell:` steps, `PowerShell@2` tasks'
//!   inline `inputs.script` and `AzurePowerShell` tasks' `Inline` are PowerShell, each its own;
//!   a task that runs a file (`targetType: filePath`) gets a note, and so do `script:` steps on a
//!   Windows pool (`vmImage: windows-…`: `cmd.exe`). Steps at the top, in `jobs:` and in
//!   `stages:`. `$(name)` macros and `${{ … }}` expressions are substituted before the shell
//!   runs: unknown words.
//! - Bitbucket Pipelines: a step's `script:` items are one shell, `after-script:` another.
//! - Buildkite: a step's `command:`/`commands:` items are joined into one script.

use tree_sitter::Node;

use super::script::{placeholders, ScriptBuilder};
use super::yaml::{self, Scalar};
use super::Parsed;
use crate::fragment::HostId;
use crate::model::Note;

/// How a step is named in an origin chain: its `name`/`displayName`/`label`, else its index.
fn step_key(step: Node, bytes: &[u8], index: usize) -> String {
    ["name", "displayName", "label", "key"]
        .iter()
        .find_map(|k| yaml::get(step, bytes, k).and_then(|n| yaml::scalar_string(n, bytes)))
        .unwrap_or_else(|| format!("steps[{index}]"))
}

/// Reads `document` if it is one of the CI formats of this file; says whether it was.
pub fn read(document: Node, bytes: &[u8], host: HostId, parsed: &mut Parsed) -> bool {
    let has = |key: &str| yaml::get(document, bytes, key).is_some();
    let jobs = yaml::get(document, bytes, "jobs");
    if has("phases") && has("version") {
        buildspec(document, bytes, host, parsed);
    } else if has("version") && !has("on") && jobs.is_some_and(|j| yaml::is_mapping(j, bytes)) {
        circleci(document, bytes, host, parsed);
    } else if has("pipelines")
        && yaml::get(document, bytes, "pipelines").is_some_and(|p| yaml::is_mapping(p, bytes))
    {
        bitbucket(document, bytes, host, parsed);
    } else if is_buildkite(document, bytes) {
        buildkite(document, bytes, host, parsed);
    } else if is_azure(document, bytes) {
        azure(document, bytes, host, parsed);
    } else {
        return false;
    }
    true
}

/// The items of a script value: a string is one item, a list its items.
fn lines<'t>(value: Node<'t>, bytes: &[u8]) -> Vec<Scalar> {
    if yaml::is_sequence(value, bytes) {
        yaml::items(value, bytes)
            .into_iter()
            .filter_map(|i| yaml::scalar(i, bytes))
            .collect()
    } else {
        yaml::scalar(value, bytes).into_iter().collect()
    }
}

/// Appends items to one script, a line break between them.
fn push_lines(script: &mut ScriptBuilder, items: Vec<Scalar>, clean: &impl Fn(Scalar) -> Scalar) {
    for item in items {
        if !script.is_empty() {
            script.newline(item.span.start.0);
        }
        script.push_scalar(&clean(item));
    }
}

fn finish(script: ScriptBuilder, host: HostId, parsed: &mut Parsed) {
    if !script.is_empty() {
        parsed.fragments.push(script.finish(host));
    }
}

/// Which analysis reads a script: shell, or PowerShell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    Shell,
    PowerShell,
}

fn finish_as(lang: Lang, script: ScriptBuilder, host: HostId, parsed: &mut Parsed) {
    match lang {
        Lang::Shell => finish(script, host, parsed),
        Lang::PowerShell => super::powershell(script, host, parsed),
    }
}

fn as_is(scalar: Scalar) -> Scalar {
    scalar
}

/// Whether a shell named by a CI file is a POSIX shell (`/bin/bash -eo pipefail`, `sh`).
fn is_posix(shell: &str) -> bool {
    let program = shell.split_whitespace().next().unwrap_or_default();
    crate::fragment::language::is_shell_name(program.rsplit('/').next().unwrap_or_default())
}

/// Whether a shell named by a CI file is PowerShell (`pwsh`, `powershell.exe`, with a path).
pub fn is_powershell(shell: &str) -> bool {
    let program = shell.split_whitespace().next().unwrap_or_default();
    let name = program.rsplit(['/', '\\']).next().unwrap_or_default();
    crate::fragment::language::is_powershell_name(&name.to_ascii_lowercase())
}

/// How a script run by `shell` is read: as shell, as PowerShell, or not (a note).
fn language_of(shell: &str, what: &str, parsed: &mut Parsed) -> Option<Lang> {
    if is_posix(shell) {
        Some(Lang::Shell)
    } else if is_powershell(shell) {
        Some(Lang::PowerShell)
    } else {
        parsed.diagnostics.push(Note::partly_analysed(format!(
            "{what} runs `{shell}`, not a POSIX shell nor PowerShell; it was not analysed"
        )));
        None
    }
}

// ---------------------------------------------------------------------------------------------
// CodeBuild

const PHASES: &[&str] = &["install", "pre_build", "build", "post_build"];

fn buildspec(document: Node, bytes: &[u8], host: HostId, parsed: &mut Parsed) {
    let Some(phases) = yaml::get(document, bytes, "phases") else {
        return;
    };
    let env = yaml::get(document, bytes, "env");
    let lang = match env
        .and_then(|e| yaml::get(e, bytes, "shell"))
        .and_then(|s| yaml::scalar_string(s, bytes))
    {
        Some(shell) => match language_of(&shell, "a CodeBuild buildspec's commands", parsed) {
            Some(lang) => lang,
            None => return,
        },
        None => Lang::Shell,
    };
    let version = yaml::get(document, bytes, "version")
        .and_then(|v| yaml::scalar_string(v, bytes))
        .unwrap_or_default();
    let one_shell = version.trim() != "0.1";
    let mut script = ScriptBuilder::default();
    for name in PHASES {
        let Some(phase) = yaml::get(phases, bytes, name) else {
            continue;
        };
        parsed.place(phase, "codebuild", "phases", name);
        for key in ["commands", "finally"] {
            let Some(value) = yaml::get(phase, bytes, key) else {
                continue;
            };
            let items = lines(value, bytes);
            if one_shell {
                push_lines(&mut script, items, &as_is);
            } else {
                for item in items {
                    let mut own = ScriptBuilder::default();
                    own.push_scalar(&item);
                    finish_as(lang, own, host, parsed);
                }
            }
        }
    }
    finish_as(lang, script, host, parsed);
}

// ---------------------------------------------------------------------------------------------
// CircleCI

/// CircleCI's `<< parameters.x >>` and `<< pipeline.x >>` are substituted before the shell runs.
fn circleci_clean(mut scalar: Scalar) -> Scalar {
    scalar.text = placeholders(&scalar.text, "<<", ">>", |inner| {
        // A here-document (`<<EOF`, `<<-EOF`) is shell, and never closed by `>>` on its word.
        !inner
            .trim_start()
            .starts_with(|c: char| c.is_ascii_alphabetic())
            || !inner.contains('.')
            || inner.contains('\n')
    });
    scalar
}

fn circleci(document: Node, bytes: &[u8], host: HostId, parsed: &mut Parsed) {
    for section in ["jobs", "commands"] {
        let Some(map) = yaml::get(document, bytes, section) else {
            continue;
        };
        for (job_name, _, job) in yaml::pairs(map, bytes) {
            let job_shell =
                yaml::get(job, bytes, "shell").and_then(|s| yaml::scalar_string(s, bytes));
            let Some(steps) = yaml::get(job, bytes, "steps") else {
                continue;
            };
            for (index, step) in yaml::items(steps, bytes).into_iter().enumerate() {
                let Some(run) = yaml::get(step, bytes, "run") else {
                    continue;
                };
                let key = if yaml::is_mapping(run, bytes) {
                    step_key(run, bytes, index)
                } else {
                    format!("steps[{index}]")
                };
                parsed.place(step, "circleci", &format!("{section}.{job_name}"), &key);
                let (command, shell) = if yaml::is_mapping(run, bytes) {
                    let shell =
                        yaml::get(run, bytes, "shell").and_then(|s| yaml::scalar_string(s, bytes));
                    (yaml::get(run, bytes, "command"), shell)
                } else {
                    (Some(run), None)
                };
                let lang = match shell.or_else(|| job_shell.clone()) {
                    Some(shell) => match language_of(&shell, "a CircleCI run step", parsed) {
                        Some(lang) => lang,
                        None => continue,
                    },
                    None => Lang::Shell,
                };
                let Some(command) = command.and_then(|c| yaml::scalar(c, bytes)) else {
                    continue;
                };
                let mut script = ScriptBuilder::default();
                script.push_scalar(&circleci_clean(command));
                finish_as(lang, script, host, parsed);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Azure Pipelines

/// Top-level `steps`, `jobs` or `stages` lists of Azure's shapes (a GitLab file's `stages` is a
/// list of names).
fn is_azure(document: Node, bytes: &[u8]) -> bool {
    let list_of = |key: &str, marks: &[&str]| {
        yaml::get(document, bytes, key)
            .filter(|v| yaml::is_sequence(*v, bytes))
            .is_some_and(|list| {
                yaml::items(list, bytes).iter().any(|item| {
                    marks
                        .iter()
                        .any(|mark| yaml::get(*item, bytes, mark).is_some())
                })
            })
    };
    list_of(
        "steps",
        &["script", "bash", "pwsh", "powershell", "task", "checkout"],
    ) || list_of("jobs", &["job", "deployment"])
        || list_of("stages", &["stage"])
}

/// `$(name)` macros and `${{ … }}` template expressions; `$[ … ]` runtime expressions.
fn azure_clean(mut scalar: Scalar) -> Scalar {
    let text = placeholders(&scalar.text, "${{", "}}", |_| false);
    let text = placeholders(&text, "$[", "]", |_| false);
    scalar.text = placeholders(&text, "$(", ")", |inner| {
        // A macro names a variable (`Build.SourcesDirectory`); anything else is the shell's.
        inner.is_empty()
            || !inner
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    });
    scalar
}

fn azure(document: Node, bytes: &[u8], host: HostId, parsed: &mut Parsed) {
    let windows = on_windows(document, bytes, false);
    azure_steps(document, bytes, host, windows, parsed);
    // Each step named in origin chains by its job (or stage), wherever it is.
    azure_places(document, bytes, "", 0, parsed);
    if let Some(jobs) = yaml::get(document, bytes, "jobs") {
        azure_jobs(jobs, bytes, host, windows, parsed);
    }
    if let Some(stages) = yaml::get(document, bytes, "stages") {
        for stage in yaml::items(stages, bytes) {
            let windows = on_windows(stage, bytes, windows);
            if let Some(jobs) = yaml::get(stage, bytes, "jobs") {
                azure_jobs(jobs, bytes, host, windows, parsed);
            }
        }
    }
}

/// Whether a pipeline, stage or job runs on Windows agents (`pool: {vmImage: windows-…}`), where
/// `script:` steps run in `cmd.exe`; else what its parent says.
fn on_windows(node: Node, bytes: &[u8], parent: bool) -> bool {
    let Some(pool) = yaml::get(node, bytes, "pool") else {
        return parent;
    };
    match yaml::get(pool, bytes, "vmImage").and_then(|v| yaml::scalar_string(v, bytes)) {
        Some(image) => image.to_ascii_lowercase().contains("windows"),
        None => parent,
    }
}

fn azure_jobs(jobs: Node, bytes: &[u8], host: HostId, windows: bool, parsed: &mut Parsed) {
    for job in yaml::items(jobs, bytes) {
        let windows = on_windows(job, bytes, windows);
        azure_steps(job, bytes, host, windows, parsed);
        // A deployment job's strategy: `runOnce`/`rolling`/`canary` → hooks → `steps`.
        if let Some(strategy) = yaml::get(job, bytes, "strategy") {
            for (_, _, kind) in yaml::pairs(strategy, bytes) {
                for (_, _, hook) in yaml::pairs(kind, bytes) {
                    azure_steps(hook, bytes, host, windows, parsed);
                }
            }
        }
    }
}

/// Names every step of a pipeline, stage, job or hook (`steps:` lists) in origin chains, with
/// the nearest `job`/`deployment`/`stage` name above it.
fn azure_places(node: Node, bytes: &[u8], owner: &str, depth: usize, parsed: &mut Parsed) {
    if depth > MAX_NESTING * 2 {
        return;
    }
    let owner = ["job", "deployment", "stage"]
        .iter()
        .find_map(|k| yaml::get(node, bytes, k).and_then(|n| yaml::scalar_string(n, bytes)))
        .unwrap_or_else(|| owner.to_owned());
    for (key, _, value) in yaml::pairs(node, bytes) {
        if key == "steps" && yaml::is_sequence(value, bytes) {
            for (index, step) in yaml::items(value, bytes).into_iter().enumerate() {
                let step_name = step_key(step, bytes, index);
                parsed.place(step, "azure-pipelines", &owner, &step_name);
            }
        } else if yaml::is_sequence(value, bytes) {
            for item in yaml::items(value, bytes) {
                azure_places(item, bytes, &owner, depth + 1, parsed);
            }
        } else if yaml::is_mapping(value, bytes) {
            azure_places(value, bytes, &owner, depth + 1, parsed);
        }
    }
}

fn azure_steps(parent: Node, bytes: &[u8], host: HostId, windows: bool, parsed: &mut Parsed) {
    let Some(steps) = yaml::get(parent, bytes, "steps").filter(|s| yaml::is_sequence(*s, bytes))
    else {
        return;
    };
    for step in yaml::items(steps, bytes) {
        let script = yaml::get(step, bytes, "script");
        let code = if let (Some(_), true) = (script, windows) {
            parsed.diagnostics.push(Note::partly_analysed(
                "an Azure Pipelines `script` step on a Windows pool runs in cmd.exe, not analysed",
            ));
            None
        } else if let Some(code) = script.or_else(|| yaml::get(step, bytes, "bash")) {
            Some((Lang::Shell, code))
        } else if let Some(code) =
            yaml::get(step, bytes, "pwsh").or_else(|| yaml::get(step, bytes, "powershell"))
        {
            Some((Lang::PowerShell, code))
        } else if let Some(task) =
            yaml::get(step, bytes, "task").and_then(|t| yaml::scalar_string(t, bytes))
        {
            azure_task(step, &task, bytes, parsed)
        } else {
            None
        };
        if let Some((lang, scalar)) =
            code.and_then(|(lang, c)| Some((lang, yaml::scalar(c, bytes)?)))
        {
            let mut script = ScriptBuilder::default();
            script.push_scalar(&azure_clean(scalar));
            finish_as(lang, script, host, parsed);
        }
    }
}

/// The inline script of a `Bash@N` task (shell) or of a `PowerShell@N`/`AzurePowerShell@N` task
/// (PowerShell); a note for a task of theirs that runs a file.
fn azure_task<'t>(
    step: Node<'t>,
    task: &str,
    bytes: &[u8],
    parsed: &mut Parsed,
) -> Option<(Lang, Node<'t>)> {
    let name = task.split('@').next().unwrap_or_default();
    let input = |key: &str| {
        let inputs = yaml::get(step, bytes, "inputs")?;
        yaml::get(inputs, bytes, key)
    };
    let string = |key: &str| input(key).and_then(|v| yaml::scalar_string(v, bytes));
    let (lang, inline, script) = match name {
        "Bash" | "ShellScript" | "PowerShell" => {
            let target = string("targetType").unwrap_or_else(|| "filePath".to_owned());
            let lang = if name == "PowerShell" {
                Lang::PowerShell
            } else {
                Lang::Shell
            };
            (lang, target.eq_ignore_ascii_case("inline"), "script")
        }
        "AzurePowerShell" => {
            let kind = string("ScriptType").unwrap_or_else(|| "FilePath".to_owned());
            (
                Lang::PowerShell,
                kind.eq_ignore_ascii_case("InlineScript"),
                "Inline",
            )
        }
        _ => return None,
    };
    if !inline {
        let path = ["filePath", "scriptPath", "ScriptPath"]
            .iter()
            .find_map(|key| string(key))
            .map_or_else(|| "a file".to_owned(), |path| format!("the file `{path}`"));
        parsed.diagnostics.push(Note::partly_analysed(format!(
            "an Azure Pipelines `{task}` task runs {path}, which is not read from here"
        )));
        return None;
    }
    Some((lang, input(script)?))
}

// ---------------------------------------------------------------------------------------------
// Bitbucket Pipelines

/// How deep `parallel`/`stage` groups nest.
const MAX_NESTING: usize = 8;

fn bitbucket(document: Node, bytes: &[u8], host: HostId, parsed: &mut Parsed) {
    let Some(pipelines) = yaml::get(document, bytes, "pipelines") else {
        return;
    };
    for (key, _, value) in yaml::pairs(pipelines, bytes) {
        if key == "default" {
            bitbucket_items(value, bytes, host, 0, parsed);
        } else {
            // `branches`, `tags`, `bookmarks`, `pull-requests`, `custom`: pattern → list.
            for (_, _, list) in yaml::pairs(value, bytes) {
                bitbucket_items(list, bytes, host, 0, parsed);
            }
        }
    }
    // Steps defined once and used through aliases are read where they are written.
    if let Some(steps) =
        yaml::get(document, bytes, "definitions").and_then(|d| yaml::get(d, bytes, "steps"))
    {
        bitbucket_items(steps, bytes, host, 0, parsed);
    }
}

fn bitbucket_items(list: Node, bytes: &[u8], host: HostId, depth: usize, parsed: &mut Parsed) {
    if depth > MAX_NESTING || !yaml::is_sequence(list, bytes) {
        return;
    }
    for item in yaml::items(list, bytes) {
        if let Some(step) = yaml::get(item, bytes, "step") {
            bitbucket_step(step, bytes, host, parsed);
        }
        if let Some(parallel) = yaml::get(item, bytes, "parallel") {
            let steps = yaml::get(parallel, bytes, "steps").unwrap_or(parallel);
            bitbucket_items(steps, bytes, host, depth + 1, parsed);
        }
        if let Some(steps) =
            yaml::get(item, bytes, "stage").and_then(|s| yaml::get(s, bytes, "steps"))
        {
            bitbucket_items(steps, bytes, host, depth + 1, parsed);
        }
    }
}

fn bitbucket_step(step: Node, bytes: &[u8], host: HostId, parsed: &mut Parsed) {
    let name = yaml::get(step, bytes, "name")
        .and_then(|n| yaml::scalar_string(n, bytes))
        .unwrap_or_default();
    for key in ["script", "after-script"] {
        let Some(value) = yaml::get(step, bytes, key) else {
            continue;
        };
        parsed.place(value, "bitbucket-pipelines", &name, key);
        let mut script = ScriptBuilder::default();
        // A pipe item (`- pipe: atlassian/…`) is a mapping: not shell.
        push_lines(&mut script, lines(value, bytes), &as_is);
        finish(script, host, parsed);
    }
}

// ---------------------------------------------------------------------------------------------
// Buildkite

fn is_buildkite(document: Node, bytes: &[u8]) -> bool {
    let Some(steps) = yaml::get(document, bytes, "steps") else {
        return false;
    };
    yaml::is_sequence(steps, bytes)
        && yaml::items(steps, bytes).iter().any(|step| {
            ["command", "commands", "label", "wait", "block", "trigger"]
                .iter()
                .any(|key| yaml::get(*step, bytes, key).is_some())
        })
}

fn buildkite(document: Node, bytes: &[u8], host: HostId, parsed: &mut Parsed) {
    let Some(steps) = yaml::get(document, bytes, "steps") else {
        return;
    };
    buildkite_steps(steps, bytes, host, 0, parsed);
}

fn buildkite_steps(steps: Node, bytes: &[u8], host: HostId, depth: usize, parsed: &mut Parsed) {
    if depth > MAX_NESTING {
        return;
    }
    for step in yaml::items(steps, bytes) {
        if let Some(group) = yaml::get(step, bytes, "steps") {
            buildkite_steps(group, bytes, host, depth + 1, parsed);
        }
        let value =
            yaml::get(step, bytes, "commands").or_else(|| yaml::get(step, bytes, "command"));
        if let Some(value) = value {
            let name = ["label", "key", "name"]
                .iter()
                .find_map(|k| yaml::get(step, bytes, k).and_then(|n| yaml::scalar_string(n, bytes)))
                .unwrap_or_default();
            parsed.place(value, "buildkite", &name, "command");
            let mut script = ScriptBuilder::default();
            push_lines(&mut script, lines(value, bytes), &as_is);
            finish(script, host, parsed);
        }
    }
}
