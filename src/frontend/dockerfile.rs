//! Dockerfiles and Containerfiles (tree-sitter-containerfile): the shell code of `RUN`, `CMD`,
//! `ENTRYPOINT`, `HEALTHCHECK CMD` and `ONBUILD RUN`, in shell form (line continuations, comment
//! lines, the `# escape=` directive, here-documents) and exec form (`["sh", "-c", "…"]`, or a
//! client run directly). `ARG` and `ENV` values carry into later instructions of their stage;
//! each instruction is a shell of its own, so shell variables do not.

use std::path::{Path, PathBuf};

use tree_sitter::Node;

use super::{Embedded, Parsed};
use crate::fragment::codec::Codec;
use crate::fragment::language;
use crate::fragment::HostSpan;
use crate::fragment::{
    dockerfile_line, exec_form, json_string, Fragment, HostId, InsertRegion, Language, OffsetMap,
    Quoting,
};
use crate::model::Note;

pub fn is_dockerfile(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let lower = name.to_ascii_lowercase();
    lower == "dockerfile"
        || lower == "containerfile"
        || lower.starts_with("dockerfile.")
        || lower.starts_with("containerfile.")
        || lower.ends_with(".dockerfile")
        || lower.ends_with(".containerfile")
}

fn parse_tree(bytes: &[u8]) -> Result<tree_sitter::Tree, crate::syntax::ParseError> {
    crate::syntax::parse(crate::syntax::Grammar::Containerfile, bytes)
}

fn text<'a>(node: Node, bytes: &'a [u8]) -> &'a [u8] {
    bytes.get(node.byte_range()).unwrap_or_default()
}

fn text_str(node: Node, bytes: &[u8]) -> String {
    String::from_utf8_lossy(text(node, bytes)).into_owned()
}

/// Variables a stage defines, in order, with `$VAR`/`${VAR}` in later values expanded.
#[derive(Default, Clone)]
struct Environment {
    vars: Vec<(String, String)>,
}

impl Environment {
    fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn set(&mut self, name: String, value: String) {
        self.vars.retain(|(n, _)| *n != name);
        self.vars.push((name, value));
    }

    /// Expands `$NAME`, `${NAME}` and `${NAME:-default}` the way Docker does in `ENV`/`ARG`.
    fn expand(&self, value: &str) -> String {
        let mut out = String::new();
        let mut rest = value;
        while let Some(at) = rest.find('$') {
            out.push_str(rest.get(..at).unwrap_or_default());
            let after = rest.get(at + 1..).unwrap_or_default();
            if let Some(inner) = after.strip_prefix('{') {
                let Some(close) = inner.find('}') else {
                    out.push_str(rest.get(at..).unwrap_or_default());
                    return out;
                };
                let body = inner.get(..close).unwrap_or_default();
                let (name, default) = match body.split_once(":-") {
                    Some((n, d)) => (n, Some(d)),
                    None => (body, None),
                };
                match (self.get(name), default) {
                    (Some(v), _) if !v.is_empty() => out.push_str(v),
                    (_, Some(d)) => out.push_str(d),
                    (Some(v), None) => out.push_str(v),
                    (None, None) => {}
                }
                rest = inner.get(close + 1..).unwrap_or_default();
            } else {
                let len = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                let name = after.get(..len).unwrap_or_default();
                if name.is_empty() {
                    out.push('$');
                } else if let Some(v) = self.get(name) {
                    out.push_str(v);
                }
                rest = after.get(len..).unwrap_or_default();
            }
        }
        out.push_str(rest);
        out
    }
}

/// The files one stage's image holds from its build context (taken to be the Dockerfile's
/// directory): `COPY`/`ADD` sources by the path they get in the image. Sources from another stage
/// or image (`--from`), URLs, and paths with wildcards or variables are not followed.
#[derive(Default)]
struct ImageFiles {
    /// `(path in the image, path in the context)`.
    copied: Vec<(String, PathBuf)>,
    workdir: String,
}

impl ImageFiles {
    /// A path in the image, absolute, from the working directory.
    fn resolve(&self, path: &str) -> String {
        let joined = if path.starts_with('/') {
            path.to_owned()
        } else {
            format!("{}/{}", self.workdir.trim_end_matches('/'), path)
        };
        let mut parts: Vec<&str> = Vec::new();
        for part in joined.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    parts.pop();
                }
                _ => parts.push(part),
            }
        }
        format!("/{}", parts.join("/"))
    }

    fn copy(&mut self, instruction: Node, bytes: &[u8]) {
        let mut cursor = instruction.walk();
        let mut paths = Vec::new();
        for child in instruction.named_children(&mut cursor) {
            match child.kind() {
                "param"
                    if text_str(child, bytes)
                        .trim_start_matches('-')
                        .starts_with("from") =>
                {
                    return
                }
                "path" => paths.push(text_str(child, bytes)),
                _ => {}
            }
        }
        let Some((dest, sources)) = paths.split_last() else {
            return;
        };
        let plain = |p: &str| !p.contains(['$', '*', '?', '[']) && !p.contains("://");
        if !plain(dest) {
            return;
        }
        let into_directory = dest.ends_with('/') || sources.len() > 1;
        for source in sources.iter().filter(|s| plain(s)) {
            let name = source
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or_default();
            let target = if into_directory {
                format!("{}/{name}", dest.trim_end_matches('/'))
            } else {
                dest.clone()
            };
            self.copied.push((
                self.resolve(&target),
                PathBuf::from(source.trim_start_matches('/')),
            ));
        }
    }

    /// The context files that a `CMD`/`ENTRYPOINT` names by their path in the image (the program,
    /// or a script given to an interpreter).
    fn scripts(&self, instruction: Node, bytes: &[u8]) -> Vec<PathBuf> {
        // `HEALTHCHECK CMD …` holds its command as an instruction of its own.
        let instruction = find_child(instruction, "cmd_instruction").unwrap_or(instruction);
        let words: Vec<String> = match find_child(instruction, "json_string_array") {
            Some(array) => {
                let mut cursor = array.walk();
                let items: Vec<String> = array
                    .named_children(&mut cursor)
                    .filter(|c| c.kind() == "json_string")
                    .map(|c| unquote_value(&text_str(c, bytes)))
                    .collect();
                items
            }
            None => find_child(instruction, "shell_command")
                .map(|c| {
                    text_str(c, bytes)
                        .split_whitespace()
                        .map(unquote_value)
                        .collect()
                })
                .unwrap_or_default(),
        };
        words
            .iter()
            .filter(|w| !w.starts_with('-') && !w.is_empty())
            .filter_map(|w| {
                let at = self.resolve(w);
                self.copied
                    .iter()
                    .find(|(image, _)| *image == at)
                    .map(|(_, context)| context.clone())
            })
            .collect()
    }
}

/// The 1-based line of a byte offset, for notes.
fn line_at(bytes: &[u8], offset: usize) -> usize {
    1 + bytes
        .get(..offset)
        .unwrap_or_default()
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

/// Strips one level of quotes from an `ENV`/`ARG` value.
fn unquote_value(raw: &str) -> String {
    let raw = raw.trim();
    if raw.len() >= 2
        && ((raw.starts_with('"') && raw.ends_with('"'))
            || (raw.starts_with('\'') && raw.ends_with('\'')))
    {
        return raw.get(1..raw.len() - 1).unwrap_or_default().to_owned();
    }
    raw.to_owned()
}

pub fn parse(original: &[u8], host: HostId) -> Parsed {
    let mut parsed = Parsed::default();
    let escape = dockerfile_line::escape_char(original);
    let cleaned = dockerfile_line::blank_inner_comments(original, escape);
    let bytes = &cleaned[..];
    let tree = match parse_tree(bytes) {
        Ok(tree) => tree,
        Err(why) => {
            parsed.diagnostics.push(Note::skipped(format!(
                "the Dockerfile could not be parsed: {why}; it was not analysed"
            )));
            return parsed;
        }
    };
    let mut global = Environment::default();
    let mut stage: Option<Environment> = None;
    // Each stage's `ENV` (kept in its image, so inherited by `FROM stage`), by alias.
    let mut stage_envs: Vec<(String, Environment)> = Vec::new();
    let mut current_env = Environment::default();
    let mut current_alias = String::new();
    // The stage in origin chains: its alias, else its number as `COPY --from` counts.
    let mut stage_name = String::new();
    let mut stages = 0usize;
    let mut busybox = false;
    // The program `SHELL` names for shell-form instructions: a POSIX shell, PowerShell, or
    // (`None`) another one, which is not read (cmd.exe).
    let mut shell: Result<Language, String> = Ok(Language::Shell);
    // The files of this stage's image copied from the build context, and its working directory.
    let mut image_files = ImageFiles::default();
    let root = tree.root_node();
    let mut cursor = root.walk();
    for instruction in root.named_children(&mut cursor) {
        match instruction.kind() {
            "from_instruction" => {
                let image = instruction
                    .child_by_field_name("image")
                    .or_else(|| find_child(instruction, "image_spec"))
                    .map(|n| text_str(n, bytes).to_ascii_lowercase())
                    .unwrap_or_default();
                stage_envs.push((
                    std::mem::take(&mut current_alias),
                    std::mem::take(&mut current_env),
                ));
                let inherited = stage_envs
                    .iter()
                    .rev()
                    .find(|(alias, _)| !alias.is_empty() && *alias == image)
                    .map(|(_, env)| env.clone());
                busybox = match &inherited {
                    Some(_) => busybox,
                    None => busybox_image(&image),
                };
                current_env = inherited.clone().unwrap_or_default();
                current_alias = find_child(instruction, "image_alias")
                    .map(|n| text_str(n, bytes).to_ascii_lowercase())
                    .unwrap_or_default();
                stage = Some(inherited.unwrap_or_default());
                stage_name = find_child(instruction, "image_alias")
                    .map(|n| text_str(n, bytes))
                    .unwrap_or_else(|| format!("stage {stages}"));
                stages += 1;
                image_files = ImageFiles::default();
                shell = Ok(Language::Shell);
            }
            "shell_instruction" => shell = shell_program(instruction, bytes),
            "copy_instruction" | "add_instruction" => image_files.copy(instruction, bytes),
            "workdir_instruction" => {
                if let Some(path) = find_child(instruction, "path") {
                    image_files.workdir = image_files.resolve(text_str(path, bytes).trim());
                }
            }
            "arg_instruction" | "env_instruction" => {
                let mut pairs = instruction.walk();
                for pair in instruction.named_children(&mut pairs) {
                    let Some(name) = pair.child_by_field_name("name") else {
                        continue;
                    };
                    let name = text_str(name, bytes);
                    let value = pair
                        .child_by_field_name("value")
                        .or_else(|| pair.child_by_field_name("default"));
                    let value = match (value, &stage) {
                        (Some(v), Some(env)) => {
                            Some(env.expand(&unquote_value(&text_str(v, bytes))))
                        }
                        (Some(v), None) => Some(global.expand(&unquote_value(&text_str(v, bytes)))),
                        // `ARG NAME` in a stage brings in the global default.
                        (None, Some(_)) => global.get(&name).map(str::to_owned),
                        (None, None) => None,
                    };
                    if let Some(value) = value {
                        if instruction.kind() == "env_instruction" && stage.is_some() {
                            current_env.set(name.clone(), value.clone());
                        }
                        stage.as_mut().unwrap_or(&mut global).set(name, value);
                    }
                }
            }
            _ => {
                let env = stage.clone().unwrap_or_else(|| global.clone());
                let base = Fragment {
                    host,
                    environment: env.vars.clone(),
                    in_container: true,
                    busybox,
                    language: *shell.as_ref().unwrap_or(&Language::Shell),
                    ..Fragment::script(b"")
                };
                if let Some(keyword) = keyword(instruction) {
                    parsed.place(instruction, "dockerfile", &stage_name, &keyword);
                }
                let before = parsed.fragments.len();
                collect(
                    instruction,
                    bytes,
                    escape,
                    &base,
                    shell.is_ok(),
                    &mut parsed,
                );
                if let Err(program) = &shell {
                    if parsed.fragments.len() == before && has_shell_form(instruction) {
                        let line = line_at(bytes, instruction.start_byte());
                        parsed.diagnostics.push(Note::partly_analysed(format!(
                            "line {line}: a shell-form instruction run by `{program}` (SHELL) is not analysed"
                        )));
                    }
                }
                // What the container runs when it runs: its requests, and the scripts it names
                // that the build copied from the context.
                if matches!(
                    instruction.kind(),
                    "cmd_instruction" | "entrypoint_instruction" | "healthcheck_instruction"
                ) {
                    parsed.container_side.push(HostSpan::new(
                        instruction.start_byte(),
                        instruction.end_byte(),
                    ));
                    for script in image_files.scripts(instruction, bytes) {
                        if !parsed.container_scripts.contains(&script) {
                            parsed.container_scripts.push(script);
                        }
                    }
                }
            }
        }
    }
    parsed.unparsed = crate::syntax::unparsed(root, &[]);
    if root.has_error() {
        parsed.diagnostics.push(Note::partly_analysed(
            "the Dockerfile has syntax errors; instructions around them may be skipped",
        ));
    }
    parsed
}

/// Whether an image reference names a BusyBox system, whose wget cannot send a PUT: `busybox`,
/// `alpine` (with any registry, tag or digest: `docker.io/library/alpine:3.19`,
/// `alpine@sha256:…`), or an image tagged as built on Alpine (`python:3.12-alpine`). A name
/// given by a variable (`$BASE`) is not known to be one.
pub(super) fn busybox_image(image: &str) -> bool {
    let image = image.trim().to_ascii_lowercase();
    let image = image.split('@').next().unwrap_or_default();
    let (name, tag) = match image.rsplit_once('/') {
        Some((_, last)) => match last.split_once(':') {
            Some((name, tag)) => (name, tag),
            None => (last, ""),
        },
        None => image.split_once(':').unwrap_or((image, "")),
    };
    if name.contains('$') {
        return false;
    }
    name.starts_with("alpine") || name.starts_with("busybox") || tag.contains("alpine")
}

/// An instruction that runs code, as written in origin chains: `RUN`, `CMD`, `ENTRYPOINT`, and
/// with the instruction inside, `HEALTHCHECK CMD`, `ONBUILD RUN`.
fn keyword(instruction: Node) -> Option<String> {
    let word = match instruction.kind() {
        "run_instruction" => "RUN",
        "cmd_instruction" => "CMD",
        "entrypoint_instruction" => "ENTRYPOINT",
        "healthcheck_instruction" | "onbuild_instruction" => {
            let outer = if instruction.kind() == "onbuild_instruction" {
                "ONBUILD"
            } else {
                "HEALTHCHECK"
            };
            let mut cursor = instruction.walk();
            let inner = instruction
                .named_children(&mut cursor)
                .find(|c| c.kind().ends_with("_instruction"))
                .and_then(keyword);
            return Some(match inner {
                Some(inner) => format!("{outer} {inner}"),
                None => outer.to_owned(),
            });
        }
        _ => return None,
    };
    Some(word.to_owned())
}

fn find_child<'t>(node: Node<'t>, kind: &str) -> Option<Node<'t>> {
    let mut cursor = node.walk();
    let found = node.named_children(&mut cursor).find(|c| c.kind() == kind);
    found
}

/// The shell code of one instruction (and of the instruction inside `ONBUILD`/`HEALTHCHECK`).
fn collect(
    instruction: Node,
    bytes: &[u8],
    escape: char,
    base: &Fragment,
    shell_form_read: bool,
    parsed: &mut Parsed,
) {
    match instruction.kind() {
        "run_instruction" | "cmd_instruction" | "entrypoint_instruction" => {}
        "onbuild_instruction" | "healthcheck_instruction" => {
            let mut cursor = instruction.walk();
            for inner in instruction.named_children(&mut cursor) {
                if inner.kind().ends_with("_instruction") {
                    collect(inner, bytes, escape, base, shell_form_read, parsed);
                }
            }
            return;
        }
        _ => return,
    }
    if let Some(array) = find_child(instruction, "json_string_array") {
        // Exec form runs its program directly, whatever `SHELL` says: argv, read as shell words.
        let base = Fragment {
            language: Language::Shell,
            ..base.clone()
        };
        if let Some(fragment) = exec_form(array, bytes, &base) {
            if fragment.insert.iter().all(|r| r.quoting.is_none()) {
                parsed.embedded.push(exec_form_host(fragment, array));
            } else {
                parsed.fragments.push(fragment);
            }
        }
        return;
    }
    let Some(command) = find_child(instruction, "shell_command") else {
        return;
    };
    if !shell_form_read {
        return;
    }
    let before = parsed.fragments.len();
    shell_form(instruction, command, bytes, escape, base, parsed);
    if base.language == Language::PowerShell {
        for fragment in parsed.fragments.iter_mut().skip(before) {
            // Docker joins continued lines before PowerShell sees them; the layer wrote each
            // continuation as the shell's backslash and newline, which PowerShell does not
            // continue on: two spaces instead, the same length, so every offset holds.
            let mut at = 0;
            while let Some(found) =
                memchr::memmem::find(fragment.text.get(at..).unwrap_or_default(), b"\\\n")
            {
                let start = at + found;
                if let Some(pair) = fragment.text.get_mut(start..start + 2) {
                    pair.copy_from_slice(b"  ");
                }
                at = start + 2;
            }
            // A fix's new statement would be a new line, which ends the instruction: found,
            // not fixed.
            fragment.insert = vec![InsertRegion::none()];
        }
    }
}

/// Whether an instruction (or the one `ONBUILD`/`HEALTHCHECK` holds) is in shell form.
fn has_shell_form(instruction: Node) -> bool {
    let inner = find_child(instruction, "cmd_instruction")
        .or_else(|| find_child(instruction, "run_instruction"))
        .unwrap_or(instruction);
    find_child(inner, "shell_command").is_some()
}

/// The language `SHELL ["program", …]` runs shell-form instructions in: a POSIX shell,
/// PowerShell, or (the program's name) another one.
fn shell_program(instruction: Node, bytes: &[u8]) -> Result<Language, String> {
    let program = find_child(instruction, "json_string_array")
        .and_then(|array| {
            let mut cursor = array.walk();
            let first = array
                .named_children(&mut cursor)
                .find(|c| c.kind() == "json_string")
                .map(|c| unquote_value(&text_str(c, bytes)));
            first
        })
        .unwrap_or_default();
    let name = program
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .to_owned();
    if language::is_powershell_name(&name) {
        Ok(Language::PowerShell)
    } else if language::is_shell_name(&name) {
        Ok(Language::Shell)
    } else {
        Err(program)
    }
}

/// An instruction in shell form: each here-document is a script when the command is only their
/// markers (`RUN <<EOF`); else the command's text is, here-documents included.
fn shell_form(
    instruction: Node,
    command: Node,
    bytes: &[u8],
    escape: char,
    base: &Fragment,
    parsed: &mut Parsed,
) {
    let mut cursor = instruction.walk();
    let heredocs: Vec<Node> = instruction
        .named_children(&mut cursor)
        .filter(|c| c.kind() == "heredoc_block")
        .collect();
    let only_markers = {
        let mut c = command.walk();
        let markers_len: usize = command
            .named_children(&mut c)
            .filter(|n| n.kind() == "heredoc_marker")
            .map(|n| n.byte_range().len())
            .sum();
        let visible = text(command, bytes)
            .iter()
            .filter(|b| !b.is_ascii_whitespace())
            .count();
        !heredocs.is_empty() && visible <= markers_len
    };
    if only_markers {
        // `RUN <<EOF`: each here-document is the script.
        for block in heredocs {
            if let Some(content) = find_child(block, "heredoc_content") {
                let body = text(content, bytes);
                let first_line = body.split(|&b| b == b'\n').next().unwrap_or_default();
                // Docker runs a body with a shebang as a script of that interpreter.
                let language = if first_line.starts_with(b"#!") {
                    let shebang = String::from_utf8_lossy(first_line);
                    match language::of_shebang(&shebang) {
                        Some(language) => language,
                        None => {
                            let line = line_at(bytes, content.start_byte());
                            parsed.diagnostics.push(Note::partly_analysed(format!(
                                "line {line}: a here-document run by another interpreter (`{}`) is not analysed",
                                shebang.trim_end()
                            )));
                            continue;
                        }
                    }
                } else {
                    base.language
                };
                parsed.fragments.push(Fragment {
                    text: body.to_vec(),
                    language,
                    map: OffsetMap::verbatim(content.start_byte()),
                    insert: vec![InsertRegion::quoted(vec![Quoting::QuotedHeredoc])],
                    ..base.clone()
                });
            }
        }
        return;
    }
    // Shell form: the command text without Dockerfile comment lines, with a backtick escape
    // turned into the shell's backslash; here-documents follow it as in a shell. Markers that come
    // first (`RUN <<EOF bash`) move after the command (`bash <<EOF`), as a shell wants them.
    let mut c = command.walk();
    let children: Vec<Node> = command.named_children(&mut c).collect();
    let segments = segments(command, &children, &heredocs, bytes);
    let indent = dockerfile_line::continuation_indent(text(command, bytes));
    let line_end = bytes
        .get(command.end_byte()..)
        .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
        .map(|i| command.end_byte() + i);
    let eol = if line_end.is_some_and(|end| end > 0 && bytes.get(end - 1) == Some(&b'\r')) {
        "\r\n"
    } else {
        "\n"
    };
    for (seg_start, seg_end, blocks) in segments {
        let (mut fragment_text, anchors) =
            shell_text(&children, bytes, seg_start, seg_end, &blocks);
        dockerfile_line::as_shell_continuations(&mut fragment_text, escape);
        parsed.fragments.push(Fragment {
            text: fragment_text,
            map: OffsetMap::from_anchors(anchors),
            insert: vec![InsertRegion::quoted(vec![Quoting::DockerfileShell {
                escape,
                indent: indent.clone(),
                eol,
            }])],
            ..base.clone()
        });
    }
}

/// The parts of a command that are fragments of their own, each with its here-documents. Several
/// here-documents joined by operators (`<<A bash && <<B cat > f`): each command with its own
/// here-document (the bash grammar cannot read them on one line); else the whole command.
#[allow(clippy::type_complexity)]
fn segments<'t>(
    command: Node<'t>,
    children: &[Node<'t>],
    heredocs: &[Node<'t>],
    bytes: &[u8],
) -> Vec<(usize, usize, Vec<Node<'t>>)> {
    let markers: Vec<Node> = children
        .iter()
        .copied()
        .filter(|n| n.kind() == "heredoc_marker")
        .collect();
    let mut segments: Vec<(usize, usize, Vec<Node>)> = Vec::new();
    if markers.len() > 1 && markers.len() == heredocs.len() {
        let command_text = text(command, bytes);
        let mut start = command.start_byte();
        for (i, marker) in markers.iter().enumerate() {
            let next = markers
                .get(i + 1)
                .map_or(command.end_byte(), |m| m.start_byte());
            let between = command_text
                .get(marker.end_byte() - command.start_byte()..next - command.start_byte())
                .unwrap_or_default();
            let cut = between
                .iter()
                .position(|b| matches!(b, b'&' | b'|' | b';'))
                .map_or(next, |p| marker.end_byte() + p);
            let end = if i + 1 == markers.len() {
                command.end_byte()
            } else {
                cut
            };
            segments.push((start, end, heredocs.get(i).copied().into_iter().collect()));
            let mut after = end;
            while bytes
                .get(after)
                .is_some_and(|b| matches!(b, b'&' | b'|' | b';' | b' ' | b'\t'))
            {
                after += 1;
            }
            start = after;
        }
    } else {
        segments.push((command.start_byte(), command.end_byte(), heredocs.to_vec()));
    }
    segments
}

/// The shell text of the part `seg_start..seg_end` of an instruction's command, with comment lines
/// left out and here-document markers that start a command moved after it, followed by the
/// here-documents `blocks`; with anchors into the host.
#[allow(clippy::type_complexity)]
fn shell_text(
    children: &[Node],
    bytes: &[u8],
    seg_start: usize,
    seg_end: usize,
    blocks: &[Node],
) -> (Vec<u8>, Vec<(usize, usize)>) {
    let command_text = bytes.get(seg_start..seg_end).unwrap_or_default();
    let base_offset = seg_start;
    // Byte ranges of the host left out of the fragment, and (host offset, text, source offset)
    // insertions: comment lines dropped, and each marker that starts a command moved after it.
    let mut skips: Vec<(usize, usize)> = Vec::new();
    let mut moves: Vec<(usize, Vec<u8>, usize)> = Vec::new();
    for child in children
        .iter()
        .filter(|c| c.start_byte() >= seg_start && c.end_byte() <= seg_end)
    {
        match child.kind() {
            "comment" => skips.push((child.start_byte(), child.end_byte())),
            "heredoc_marker" => {
                let local_start = child.start_byte() - base_offset;
                let before = command_text.get(..local_start).unwrap_or_default();
                let starts_command = before
                    .iter()
                    .rev()
                    .find(|b| !b.is_ascii_whitespace())
                    .is_none_or(|b| matches!(b, b'&' | b'|' | b';'));
                if !starts_command {
                    continue;
                }
                let local_end = child.end_byte() - base_offset;
                let rest = command_text.get(local_end..).unwrap_or_default();
                let stop = rest
                    .iter()
                    .position(|b| matches!(b, b'&' | b'|' | b';'))
                    .unwrap_or(rest.len());
                let mut command_end = local_end + stop;
                while command_end > local_end
                    && command_text
                        .get(command_end - 1)
                        .is_some_and(u8::is_ascii_whitespace)
                {
                    command_end -= 1;
                }
                let mut skip_end = child.end_byte();
                while bytes
                    .get(skip_end)
                    .is_some_and(|b| *b == b' ' || *b == b'\t')
                {
                    skip_end += 1;
                }
                skips.push((child.start_byte(), skip_end));
                let mut moved = vec![b' '];
                moved.extend_from_slice(text(*child, bytes));
                moves.push((base_offset + command_end, moved, child.start_byte()));
            }
            _ => {}
        }
    }
    let mut fragment_text = Vec::new();
    let mut anchors = Vec::new();
    let mut at = seg_start;
    let mut events: Vec<usize> = skips
        .iter()
        .map(|s| s.0)
        .chain(moves.iter().map(|m| m.0))
        .collect();
    events.push(seg_end);
    events.sort_unstable();
    events.dedup();
    for event in events {
        if event > at {
            anchors.push((fragment_text.len(), at));
            fragment_text.extend_from_slice(bytes.get(at..event).unwrap_or_default());
            at = event;
        }
        for (_, moved, source) in moves.iter().filter(|m| m.0 == event) {
            anchors.push((fragment_text.len(), *source));
            fragment_text.extend_from_slice(moved);
        }
        if let Some(&(_, skip_end)) = skips.iter().find(|s| s.0 == event) {
            at = at.max(skip_end);
        }
    }
    for block in blocks {
        anchors.push((fragment_text.len(), block.start_byte()));
        fragment_text.extend_from_slice(text(*block, bytes));
    }
    (fragment_text, anchors)
}

/// Exec form: `["sh", "-c", "script"]` gives the script; `["curl", …]` is a command line of its
/// own, rebuilt as shell words so the analysis reads it (it cannot be fixed in place: there is
/// no shell to expand a token).
fn exec_form(array: Node, bytes: &[u8], base: &Fragment) -> Option<Fragment> {
    let mut cursor = array.walk();
    let elements: Vec<(String, Vec<(usize, usize)>)> = array
        .named_children(&mut cursor)
        .filter(|n| n.kind() == "json_string")
        .map(|n| json_string::decode(text(n, bytes), n.start_byte()))
        .collect();
    let program = elements.first()?.0.rsplit('/').next()?.to_owned();
    let shells = ["sh", "bash", "dash", "ash", "ksh", "zsh"];
    if shells.contains(&program.as_str()) {
        let flag = elements
            .iter()
            .position(|(e, _)| e.starts_with('-') && e.contains('c'))?;
        let (script, anchors) = elements.get(flag + 1)?;
        return Some(Fragment {
            text: script.clone().into_bytes(),
            map: OffsetMap::from_anchors(anchors.iter().copied()),
            insert: vec![InsertRegion::quoted(vec![Quoting::JsonString])],
            script: false,
            ..base.clone()
        });
    }
    let (text, anchors) = exec_form::shell_words(&elements);
    Some(Fragment {
        text,
        map: OffsetMap::from_anchors(anchors),
        // Rewritten as a whole: see `exec_form_host`.
        insert: vec![InsertRegion::none()],
        script: false,
        ..base.clone()
    })
}

/// An exec-form command line run directly (`["curl", …]`): no shell can expand a token there, so
/// the array is a host whose text is the same command in shell form; a fix rewrites the array
/// into that shell form (unsafe: `/bin/sh -c` then runs it).
fn exec_form_host(fragment: Fragment, array: Node) -> Embedded {
    Embedded {
        span: HostSpan::new(array.start_byte(), array.end_byte()),
        bytes: fragment.text,
        codec: Codec::ExecForm,
        map: Some(fragment.map),
        origin: Vec::new(),
        kind: Some(super::Kind::ShellCommand),
    }
}

#[cfg(test)]
mod tests;
