//! Ansible playbooks and task files: the shell code of `shell`, `raw` and `command` tasks, the
//! hosts whose `uri`/`get_url` tasks make requests, and the files `script` tasks run.
//!
//! A document is Ansible when it is a list whose items are plays (`hosts:` with `tasks:`,
//! `pre_tasks:`, `post_tasks:`, `handlers:` or `roles:`) or tasks (mappings with a known module
//! key, a module named with its collection, a `block:`, or a key only tasks have: `register`,
//! `when`, `loop`, …), whatever the file is called (`roles/*/tasks/*.yml`, `handlers/`, a
//! playbook). `block:`/`rescue:`/`always:` are read as the task lists they are.
//!
//! - `shell` (and `raw`): the string is a script of its own, run by `/bin/sh` (or the `executable`
//!   of `args:`/the module's mapping; a shell that is not POSIX gets a note). Each task is its own
//!   shell, so a fix fetches a token in the task. The string is a host of its own (its origin:
//!   `ansible-task`, the module and the task's `name`), rewritten whole by a fix; one holding
//!   Jinja is read in place instead, with placeholders, since a whole rewrite would write them,
//!   and so is a folded block (`>`).
//! - `command`: no shell. The string is split into words (as `shlex` does) and run: the requests
//!   are read, as an argv, but no fix edits them (a token fetch needs a shell, or a task of its
//!   own). `argv:` lists are words as written.
//! - Jinja (`{{ … }}`, `{% … %}`) is templated before the module runs: an unknown word.
//! - `uri`/`get_url` tasks: the host is handed whole to `crate::ansible` (a fragment of language
//!   `Ansible`), which reads their requests.
//! - `script` tasks: the file they name is read as a script (`Parsed::referenced`).
//! - Every task's span carries its origin (`ansible-task`, its module and `name`) for the code
//!   read in place in it (`Parsed::places`).

use tree_sitter::Node;

use super::script::{placeholders, ScriptBuilder};
use super::yaml::{self, Scalar};
use super::Parsed;
use crate::fragment::{HostId, HostSpan, InsertRegion, Language};
use crate::model::{Note, OriginEntry};

/// The module names whose string is run by a shell.
const SHELL_MODULES: &[&str] = &["shell", "raw"];
/// The module names whose string is an argv, run without a shell.
const COMMAND_MODULES: &[&str] = &["command"];
/// HTTP modules, whose requests `crate::ansible` reads.
const HTTP_MODULES: &[&str] = &["uri", "get_url"];
/// Other module names that mark a list item as a task (for detection only).
const OTHER_MODULES: &[&str] = &[
    "script",
    "copy",
    "template",
    "file",
    "debug",
    "set_fact",
    "package",
    "apt",
    "yum",
    "dnf",
    "service",
    "systemd",
    "lineinfile",
    "include_tasks",
    "import_tasks",
    "include_role",
    "import_role",
    "import_playbook",
    "pip",
    "user",
    "group",
    "assert",
    "fail",
    "wait_for",
    "stat",
];
/// Keys of a play whose values are task lists.
pub(crate) const PLAY_TASK_LISTS: &[&str] = &["pre_tasks", "tasks", "post_tasks", "handlers"];
/// Keys of a `block` task whose values are task lists.
pub(crate) const BLOCK_LISTS: &[&str] = &["block", "rescue", "always"];
/// How deep blocks nest before the rest is left unread (with a note).
pub(crate) const MAX_DEPTH: usize = 16;

/// A module name without its collection (`ansible.builtin.shell`, `ansible.legacy.shell`).
pub(crate) fn module_name(key: &str) -> &str {
    key.strip_prefix("ansible.builtin.")
        .or_else(|| key.strip_prefix("ansible.legacy."))
        .unwrap_or(key)
}

fn is_known_module(key: &str) -> bool {
    let name = module_name(key);
    [SHELL_MODULES, COMMAND_MODULES, HTTP_MODULES, OTHER_MODULES]
        .iter()
        .any(|list| list.contains(&name))
}

pub(crate) fn is_play(item: Node, bytes: &[u8]) -> bool {
    yaml::get(item, bytes, "hosts").is_some()
        && (PLAY_TASK_LISTS
            .iter()
            .chain(&["roles"])
            .any(|key| yaml::get(item, bytes, key).is_some()))
}

/// Keys only a task has (besides its module): what makes a list item with a module of any
/// collection, or a custom one, a task.
const TASK_KEYWORDS: &[&str] = &[
    "register",
    "when",
    "loop",
    "with_items",
    "notify",
    "become",
    "ignore_errors",
    "changed_when",
    "failed_when",
    "until",
    "retries",
    "delegate_to",
    "check_mode",
    "no_log",
    "args",
    "listen",
];

/// A module named with its collection (`amazon.aws.ec2_instance`: three dotted names).
fn is_collection_module(key: &str) -> bool {
    let parts: Vec<&str> = key.split('.').collect();
    parts.len() >= 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

fn is_task(item: Node, bytes: &[u8]) -> bool {
    yaml::pairs(item, bytes).iter().any(|(key, _, _)| {
        BLOCK_LISTS.contains(&key.as_str())
            || is_known_module(key)
            || is_collection_module(key)
            || TASK_KEYWORDS.contains(&key.as_str())
    })
}

/// Whether a document is an Ansible playbook or task file: a list of mappings, each a play or a
/// task (a list with one item that is neither is something else).
/// Whether YAML text may be Ansible tasks that run script files (`script:`, short or FQCN, in
/// a list at the top): the files it names are read as scripts, whatever words the tasks hold. A
/// text check, before anything is parsed; `is_ansible` decides.
pub fn runs_script_files(text: &[u8]) -> bool {
    let mut lines = text
        .split(|&b| b == b'\n')
        .map(<[u8]>::trim_ascii_end)
        .filter(|l| !l.is_empty() && !l.starts_with(b"#") && *l != b"---")
        .peekable();
    let list = lines.peek().is_some_and(|first| first.starts_with(b"- "));
    list && lines.any(|line| {
        let line = line.trim_ascii_start();
        let line = line.strip_prefix(b"- ").unwrap_or(line);
        [
            b"script:".as_slice(),
            b"ansible.builtin.script:",
            b"ansible.legacy.script:",
        ]
        .iter()
        .any(|module| line.starts_with(module))
    })
}

pub fn is_ansible(document: Node, bytes: &[u8]) -> bool {
    if !yaml::is_sequence(document, bytes) {
        return false;
    }
    let items = yaml::items(document, bytes);
    !items.is_empty()
        && items.iter().all(|item| yaml::is_mapping(*item, bytes))
        && items
            .iter()
            .all(|item| is_play(*item, bytes) || is_task(*item, bytes))
}

pub fn read(document: Node, bytes: &[u8], host: HostId, parsed: &mut Parsed) {
    let items = yaml::items(document, bytes);
    // A list of tasks alone is a role's task file (`roles/NAME/tasks/`), whose `script` files
    // are in the role's `files/`; a playbook's are named from its own directory.
    let files = if items.iter().any(|item| is_play(*item, bytes)) {
        ""
    } else {
        "../files/"
    };
    let at = Place { host, files };
    for item in items {
        if is_play(item, bytes) {
            for key in PLAY_TASK_LISTS {
                if let Some(list) = yaml::get(item, bytes, key) {
                    tasks(list, bytes, at, 0, parsed);
                }
            }
        } else {
            task(item, bytes, at, 0, parsed);
        }
    }
}

/// Where tasks are read: their host, and the directory (from the host's) of the files their
/// `script` tasks name.
#[derive(Clone, Copy)]
struct Place {
    host: HostId,
    files: &'static str,
}

fn tasks(list: Node, bytes: &[u8], at: Place, depth: usize, parsed: &mut Parsed) {
    for item in yaml::items(list, bytes) {
        task(item, bytes, at, depth, parsed);
    }
}

fn task(item: Node, bytes: &[u8], at: Place, depth: usize, parsed: &mut Parsed) {
    if !yaml::is_mapping(item, bytes) {
        return;
    }
    let pairs = yaml::pairs(item, bytes);
    if pairs
        .iter()
        .any(|(k, _, _)| BLOCK_LISTS.contains(&k.as_str()))
    {
        if depth >= MAX_DEPTH {
            parsed.diagnostics.push(Note::partly_analysed(format!(
                "Ansible blocks nested more than {MAX_DEPTH} deep were not read"
            )));
            return;
        }
        for (key, _, value) in &pairs {
            if BLOCK_LISTS.contains(&key.as_str()) {
                tasks(*value, bytes, at, depth + 1, parsed);
            }
        }
        return;
    }
    let host = at.host;
    let args = yaml::get(item, bytes, "args");
    let task_name = yaml::get(item, bytes, "name").and_then(|n| yaml::scalar_string(n, bytes));
    for (key, _, value) in &pairs {
        let name = module_name(key);
        // Where the code of the task came from, for findings read in place in this host.
        let mut origin = OriginEntry::layer("ansible-task").with_key(key.as_str());
        if let Some(task_name) = &task_name {
            origin = origin.with_name(task_name.as_str());
        }
        // The whole task: its loop items and `args:` are where some of its findings are.
        let span = HostSpan::new(item.start_byte(), item.end_byte());
        if SHELL_MODULES.contains(&name) {
            parsed.places.push((span, origin.clone()));
            shell_task(*value, args, bytes, host, (key, task_name.clone()), parsed);
        } else if COMMAND_MODULES.contains(&name) {
            parsed.places.push((span, origin.clone()));
            command_task(*value, args, bytes, host, parsed);
        } else if HTTP_MODULES.contains(&name) {
            http_task(host, bytes, parsed);
            parsed.places.push((span, origin.clone()));
        } else if name == "script" {
            script_task(*value, args, bytes, at.files, parsed);
        }
    }
}

/// A `script` task: the file it names (its first word: the rest are its arguments) is copied to
/// the host and run there, so it is read as a script of its own — from the role's `files/` for a
/// role's task file, else from the playbook's `files/` or, when it is not there, the playbook's
/// directory, as Ansible looks (a file that is not found gets a note).
fn script_task(value: Node, args: Option<Node>, bytes: &[u8], files: &str, parsed: &mut Parsed) {
    let Some(line) = command_string(value, args, bytes) else {
        return;
    };
    let Some(path) = line
        .text
        .split_whitespace()
        .find(|w| !w.contains('='))
        .map(|w| w.trim_matches(['"', '\'']))
    else {
        return;
    };
    if path.contains("{{") || path.contains("{%") {
        parsed.diagnostics.push(Note::partly_analysed(format!(
            "an Ansible `script` task names its file through Jinja (`{}`); it was not read",
            line.text.trim()
        )));
        return;
    }
    if path.starts_with('/') {
        parsed.referenced.push(std::path::PathBuf::from(path));
    } else if files.is_empty() {
        // A playbook's: Ansible looks in the playbook's `files/` first, then beside it.
        let in_files = std::path::PathBuf::from(format!("files/{path}"));
        parsed.referenced.push(in_files.clone());
        parsed
            .referenced_fallbacks
            .push((in_files, std::path::PathBuf::from(path)));
    } else {
        parsed
            .referenced
            .push(std::path::PathBuf::from(format!("{files}{path}")));
    }
}

/// The string a module runs: its free-form value, or `cmd:` in its mapping or in `args:`.
fn command_string(value: Node, args: Option<Node>, bytes: &[u8]) -> Option<Scalar> {
    if yaml::is_mapping(value, bytes) {
        return yaml::get(value, bytes, "cmd").and_then(|c| yaml::scalar(c, bytes));
    }
    let scalar = yaml::scalar(value, bytes);
    match scalar {
        Some(s) if !s.text.trim().is_empty() => Some(s),
        _ => args
            .and_then(|a| yaml::get(a, bytes, "cmd"))
            .and_then(|c| yaml::scalar(c, bytes)),
    }
}

/// A module option given in the module's mapping or in `args:`.
fn option(value: Node, args: Option<Node>, bytes: &[u8], key: &str) -> Option<String> {
    yaml::get(value, bytes, key)
        .or_else(|| args.and_then(|a| yaml::get(a, bytes, key)))
        .and_then(|v| yaml::scalar_string(v, bytes))
}

/// A scalar with Jinja's expressions and statements replaced by placeholders.
fn without_jinja(mut scalar: Scalar) -> Scalar {
    let text = placeholders(&scalar.text, "{{", "}}", |_| false);
    scalar.text = placeholders(&text, "{%", "%}", |_| false);
    scalar
}

fn shell_task(
    value: Node,
    args: Option<Node>,
    bytes: &[u8],
    host: HostId,
    (module, name): (&str, Option<String>),
    parsed: &mut Parsed,
) {
    if let Some(executable) = option(value, args, bytes, "executable") {
        let program = executable.rsplit('/').next().unwrap_or_default();
        if !crate::fragment::language::is_shell_name(program) {
            parsed.diagnostics.push(Note::partly_analysed(format!(
                "an Ansible shell task runs `{executable}`, which is not a POSIX shell; it was not analysed"
            )));
            return;
        }
    }
    let Some(scalar) = command_string(value, args, bytes) else {
        return;
    };
    // A folded block (`>`) is rewritten whole as a flow scalar over its span, which holds the
    // line break after it: it is edited in place instead, like Jinja.
    let folded = bytes.get(scalar.span.start.0) == Some(&b'>');
    if folded || scalar.text.contains("{{") || scalar.text.contains("{%") {
        // Jinja is templated first: read with placeholders, edited in place.
        let mut script = ScriptBuilder::default();
        script.push_scalar(&without_jinja(scalar));
        parsed.fragments.push(script.finish(host));
        return;
    }
    // A host of its own, so findings carry where it came from (the task and its module).
    let mut origin = OriginEntry::layer("ansible-task").with_key(module);
    if let Some(name) = name {
        origin = origin.with_name(name);
    }
    let mut embedded = super::kubernetes::scalar_host(&scalar, vec![origin]);
    embedded.kind = Some(super::Kind::Shell);
    parsed.embedded.push(embedded);
}

fn command_task(value: Node, args: Option<Node>, bytes: &[u8], host: HostId, parsed: &mut Parsed) {
    let argv =
        yaml::get(value, bytes, "argv").or_else(|| args.and_then(|a| yaml::get(a, bytes, "argv")));
    let mut script = ScriptBuilder::default();
    if let Some(list) = argv.filter(|l| yaml::is_sequence(*l, bytes)) {
        let words: Vec<Scalar> = yaml::items(list, bytes)
            .into_iter()
            .filter_map(|w| yaml::scalar(w, bytes))
            .map(without_jinja)
            .collect();
        script.push_argv(&words);
    } else if let Some(scalar) = command_string(value, args, bytes) {
        // Split as words by the shell's own quoting (close to `shlex`); no edit in place: the
        // command module runs no shell, so no token can be fetched in the line.
        let mut scalar = without_jinja(scalar);
        scalar.region = InsertRegion::none();
        script.push_scalar(&scalar);
    } else {
        return;
    }
    let mut fragment = script.finish(host);
    fragment.script = false;
    parsed.fragments.push(fragment);
}

/// A `uri`/`get_url` task makes the whole host an Ansible fragment, once, for `crate::ansible`
/// to read: which URLs reach the metadata service (the configured extra hosts too) is for it to
/// say; the prefilter has already let through only files that name one somewhere.
fn http_task(host: HostId, bytes: &[u8], parsed: &mut Parsed) {
    let known = parsed
        .fragments
        .iter()
        .any(|f| f.host == host && f.language == Language::Ansible);
    if !known {
        let mut fragment = crate::fragment::Fragment::script(bytes);
        fragment.host = host;
        fragment.language = Language::Ansible;
        fragment.script = false;
        parsed.fragments.push(fragment);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_lists_running_script_files_are_told_by_their_text() {
        for tasks in [
            "- hosts: all\n  tasks:\n    - script: files/probe\n",
            "---\n# tasks\n- name: probe\n  ansible.builtin.script:\n    cmd: probe.sh\n",
            "- ansible.legacy.script: probe\n",
        ] {
            assert!(runs_script_files(tasks.as_bytes()), "{tasks}");
        }
        for other in [
            // A GitLab CI job's `script:` is in a mapping, not a list of tasks.
            "build:\n  script:\n    - make\n",
            // A list whose items run no script file.
            "- hosts: all\n  tasks:\n    - shell: echo\n      description: 'script: none'\n",
            "- item\n- scripts: x\n",
        ] {
            assert!(!runs_script_files(other.as_bytes()), "{other}");
        }
    }
}
