//! Shell code inside shell code: the string of `sh -c '…'`, the arguments of `eval`, the string
//! of `env -S '…'`, and here-documents fed to a shell or written out as a script. Each is cut out
//! with an offset map back to its host and analysed as a fragment of its own, within limits.
//! Code in another language handed to its interpreter (`python3 -c '…'`, a here-document read by
//! `python3`, or written out with a Python shebang) is cut out the same way and returned as a
//! fragment of that language (`Analysis::nested`), for its own analysis.

use tree_sitter::Node;

use super::scope::{Boundary, Context};
use super::{Analyzer, Code};
use crate::fragment::{Fragment, FragmentSpan, InsertRegion, Language, OffsetMap};
use crate::model::request::{Quoting, RunBy};
use crate::model::Note;
use crate::shell::command::{self, Invocation, Site};
use crate::shell::tree::argv;
use crate::shell::word::{self, Unquoted};

/// How deep shell code may nest inside strings before the analysis stops following it (with a
/// note): far past what scripts do, and each level is parsed again, so it stays bounded.
pub(super) const MAX_DEPTH: usize = 16;
/// How many nested fragments one file may produce. A string nested in a substitution is met
/// once per level above it (the outer string is parsed again), so hostile nesting doubles the
/// count at each level; past this the rest is not analysed (with a note).
pub(super) const MAX_NESTED: usize = 512;

impl Analyzer<'_> {
    /// `sh -c '…'`: the string is run by a new shell, which sees only exported variables when the
    /// string is single-quoted and the calling shell's expansion of it otherwise. Returns whether
    /// it writes a token to its output.
    pub(super) fn shell_string(&mut self, code: &Code, script: Node, site: &Site) -> bool {
        let unquoted = word::unquote(script, code.text);
        let boundary = if unquoted.single_quoted {
            Boundary::ChildProcess
        } else {
            Boundary::Expanded
        };
        let outer = self.quoting_at(code.cx, script.start_byte()).0;
        let mut child = code
            .cx
            .child(code.fid, boundary, quoting_of(script), false, outer);
        child.enter(site);
        self.nested(unquoted, code.map, &child)
    }

    /// `eval ARGS…` (the command starting at `start`, its program word at `program`): the
    /// arguments, joined with spaces, run in the same shell. Returns whether they write a token
    /// to their output.
    pub(super) fn eval(
        &mut self,
        code: &Code,
        nodes: &[Node],
        program: usize,
        start: usize,
        site: &Site,
    ) -> bool {
        let mut joined = Unquoted::default();
        for (k, &arg) in nodes.iter().enumerate().skip(program + 1) {
            if k > program + 1 {
                joined.push_separator(b' ', arg.start_byte());
            }
            joined.append(word::unquote(arg, code.text));
        }
        // Text inserted into one argument keeps its meaning; across several, the
        // joining spaces make that unsure.
        let layer = match nodes.get(program + 1..) {
            Some([only]) => quoting_of(*only),
            _ => None,
        };
        let outer = self.quoting_at(code.cx, start).0;
        let mut child = code
            .cx
            .child(code.fid, Boundary::SameShell, layer, false, outer);
        child.enter(site);
        // `ssh HOST WORDS…`: the words are expanded here, and run there.
        if let Some(remote) = site.run_by.iter().find(|r| r.other_machine()) {
            child.elsewhere = Some(remote.command());
        }
        self.nested(joined, code.map, &child)
    }

    /// `env -S '…'`: the string is split into a command line and run. Returns whether it writes a
    /// token to its output.
    pub(super) fn split_string(&mut self, code: &Code, node: Node) -> bool {
        let unquoted = word::unquote(node, code.text);
        let outer = self.quoting_at(code.cx, node.start_byte()).0;
        let child = code.cx.child(
            code.fid,
            Boundary::SameShell,
            quoting_of(node),
            false,
            outer,
        );
        self.nested(unquoted, code.map, &child)
    }

    /// Analyses shell code cut out of a string; returns whether it writes a token to its output.
    /// Past a limit it is not analysed, and a note says where.
    fn nested(&mut self, unquoted: Unquoted, map: &OffsetMap, cx: &Context) -> bool {
        if unquoted.text.is_empty() {
            return false;
        }
        let limit = if cx.depth > MAX_DEPTH {
            Some(format!(
                "shell code nested more than {MAX_DEPTH} levels deep in strings \
                 (`sh -c`, `eval`, here-documents) was not analysed"
            ))
        } else if self.nested >= MAX_NESTED {
            Some(format!(
                "shell code nested in strings (`sh -c`, `eval`, here-documents) past the \
                 first {MAX_NESTED} pieces was not analysed"
            ))
        } else {
            None
        };
        if let Some(why) = limit {
            let at = unquoted.anchors.first().map_or(0, |&(_, at)| at);
            let span = map.span_to_host(FragmentSpan::new(at, at));
            self.note(span, why);
            return false;
        }
        self.nested += 1;
        let inner = map.compose(&OffsetMap::from_anchors(unquoted.anchors));
        match self.run(&unquoted.text, &inner, cx) {
            Ok(produces_token) => produces_token,
            Err(e) => {
                self.error
                    .get_or_insert(Note::partly_analysed(e.to_string()));
                false
            }
        }
    }

    /// A here-document is shell code when a shell reads it (`bash <<EOF`, `cat <<EOF | sh`) or
    /// when it writes out a script (its first line a shebang, or a file named like a script);
    /// one read by or written for Python is Python (`foreign`). Returns whether a shell
    /// reads it and it writes a token to its output.
    pub(super) fn heredoc<'t>(
        &mut self,
        code: &Code<'_, 't>,
        heredoc: Node<'t>,
        body: Node<'t>,
    ) -> bool {
        let (text, map, parents) = (code.text, code.map, &code.s.parents);
        let mut cursor = heredoc.walk();
        let children: Vec<Node> = heredoc.children(&mut cursor).collect();
        let quoted = children
            .iter()
            .find(|c| c.kind() == "heredoc_start")
            .is_some_and(|start| word::node_text(*start, text).contains_any(b"'\"\\"));
        // The language of the program that reads the here-document, if it runs it.
        let reads = |node: Node| -> Option<(Language, Site)> {
            if node.kind() != "command" {
                return None;
            }
            match command::invocation_in(&argv(node, text).0) {
                // Run elsewhere by a command that does not pass its input on: never read.
                (_, site) if site.no_stdin => None,
                (
                    Invocation::Shell {
                        reads_stdin: true, ..
                    },
                    site,
                ) => Some((Language::Shell, site)),
                (
                    Invocation::Interpreter {
                        language,
                        reads_stdin: true,
                        ..
                    },
                    site,
                ) => Some((language, site)),
                _ => None,
            }
        };
        let fed_to = parents
            .of(heredoc)
            .filter(|p| p.kind() == "redirected_statement")
            .and_then(|p| p.child_by_field_name("body"))
            .and_then(reads)
            .or_else(|| {
                children
                    .iter()
                    .filter(|c| c.kind() == "pipeline")
                    .find_map(|p| {
                        let mut cursor = p.walk();
                        let found = p.named_children(&mut cursor).find_map(reads);
                        found
                    })
            });
        let body_text = word::node_text(body, text);
        let first_line = body_text.split(|&b| b == b'\n').next().unwrap_or_default();
        let written = written_files(parents.of(heredoc), heredoc, text);
        let script = crate::fragment::language::of_shebang(&String::from_utf8_lossy(first_line))
            .or_else(|| {
                written
                    .iter()
                    .any(|n| named_like_script(n))
                    .then_some(Language::Shell)
            });
        let fed_to_shell = matches!(fed_to, Some((Language::Shell, _)));
        let (language, site) = match (fed_to, script) {
            (Some((language, site)), _) => (language, site),
            // A script written out runs later, under its file's name.
            (None, Some(language)) => {
                let name = written
                    .iter()
                    .find(|n| named_like_script(n))
                    .or(written.first());
                let site = Site {
                    run_by: vec![RunBy {
                        layer: "heredoc-script",
                        key: None,
                        name: name.cloned(),
                    }],
                    ..Site::default()
                };
                (language, site)
            }
            (None, None) => return false,
        };
        let (unquoted, boundary) = if quoted {
            let mut u = Unquoted::default();
            u.append(Unquoted {
                text: body_text.to_vec(),
                anchors: vec![(0, body.start_byte())],
                single_quoted: true,
            });
            (u, Boundary::ChildProcess)
        } else {
            let (text, anchors) = word::unquote_heredoc(body_text, body.start_byte());
            (
                Unquoted {
                    text,
                    anchors,
                    single_quoted: false,
                },
                Boundary::Expanded,
            )
        };
        // A written-out script runs later, as its own process.
        let boundary = if fed_to_shell {
            boundary
        } else {
            Boundary::ChildProcess
        };
        let layer = if quoted {
            Quoting::QuotedHeredoc
        } else {
            Quoting::UnquotedHeredoc
        };
        let outer = self.quoting_at(code.cx, body.start_byte()).0;
        let mut child = code.cx.child(code.fid, boundary, Some(layer), true, outer);
        child.enter(&site);
        if language != Language::Shell {
            self.foreign(unquoted, map, language, &child, true);
            return false;
        }
        let produces = self.nested(unquoted, map, &child);
        fed_to_shell && produces
    }

    /// Code in another language that the script hands to its interpreter: `python3 -c '…'`.
    pub(super) fn foreign_string(&mut self, code: &Code, node: Node, language: Language) {
        let unquoted = word::unquote(node, code.text);
        let outer = self.quoting_at(code.cx, node.start_byte()).0;
        let child = code.cx.child(
            code.fid,
            Boundary::ChildProcess,
            quoting_of(node),
            false,
            outer,
        );
        self.foreign(unquoted, code.map, language, &child, false);
    }

    /// Code in another language cut out of the script, returned as a fragment of its own
    /// (`Analysis::nested`) for that language's analysis; text a fix inserts into it is written
    /// through the quoting of `cx` (no fix when that is unknown), and it runs where `cx` says. Code
    /// that names no endpoint is left out.
    fn foreign(
        &mut self,
        unquoted: Unquoted,
        map: &OffsetMap,
        language: Language,
        cx: &Context,
        script: bool,
    ) {
        if unquoted.text.is_empty() || !crate::shell::endpoint::names_endpoint(&unquoted.text) {
            return;
        }
        if self.nested >= MAX_NESTED {
            let at = unquoted.anchors.first().map_or(0, |&(_, at)| at);
            let span = map.span_to_host(FragmentSpan::new(at, at));
            self.note(
                span,
                format!(
                    "code nested in strings (`sh -c`, `python3 -c`, here-documents) past the \
                     first {MAX_NESTED} pieces was not analysed"
                ),
            );
            return;
        }
        self.nested += 1;
        let region = InsertRegion {
            start: 0,
            quoting: cx.quoting.clone(),
            plain: None,
        };
        self.foreign.push(Fragment {
            map: map.compose(&OffsetMap::from_anchors(unquoted.anchors)),
            text: unquoted.text,
            language,
            host: self.host,
            insert: vec![region],
            script,
            environment: Vec::new(),
            in_container: self.in_container || cx.in_container,
            busybox: false,
            run_by: cx.run_by.clone(),
        });
    }
}

/// The files the command a here-document feeds writes it to, as written, unquoted: `cat > FILE`,
/// `tee FILE…`.
fn written_files(statement: Option<Node>, heredoc: Node, text: &[u8]) -> Vec<String> {
    let Some(statement) = statement.filter(|p| p.kind() == "redirected_statement") else {
        return Vec::new();
    };
    let mut names: Vec<String> = Vec::new();
    // `cat > FILE <<EOF` (a redirect of the statement) or `cat <<EOF > FILE` (of the heredoc's).
    let mut cursor = statement.walk();
    let mut heredoc_cursor = heredoc.walk();
    let redirects: Vec<Node> = statement
        .named_children(&mut cursor)
        .chain(heredoc.named_children(&mut heredoc_cursor))
        .collect();
    for child in redirects {
        if child.kind() == "file_redirect" {
            let operator = child.child(0).map(|o| word::node_str(o, text));
            let writes = operator
                .as_deref()
                .is_some_and(|o| o.starts_with('>') || o.starts_with("&>"));
            if let (true, Some(destination)) = (writes, child.child_by_field_name("destination")) {
                names.push(word::node_str(destination, text));
            }
        }
    }
    let body = statement
        .child_by_field_name("body")
        .filter(|b| b.kind() == "command");
    let Some(body) = body else {
        return Vec::new();
    };
    let words = argv(body, text).0;
    let program = words.first().and_then(command::base_name);
    match program.as_deref() {
        Some("cat") => {}
        Some("tee") => names.extend(
            words
                .iter()
                .skip(1)
                .filter_map(|w| w.literal())
                .filter(|w| !w.starts_with('-')),
        ),
        _ => return Vec::new(),
    }
    names
        .iter()
        .map(|name| name.trim_matches(|c| c == '"' || c == '\'').to_owned())
        .collect()
}

/// A file name a script is written to: `*.sh`, `*.bash`, or in a `bin/` directory.
fn named_like_script(name: &str) -> bool {
    name.ends_with(".sh") || name.ends_with(".bash") || name.contains("/bin/")
}

/// How a word that holds shell code is quoted, when text can be inserted into it.
fn quoting_of(node: Node) -> Option<Quoting> {
    match node.kind() {
        "raw_string" => Some(Quoting::SingleQuoted),
        "string" => Some(Quoting::DoubleQuoted),
        "word" => Some(Quoting::Unquoted),
        _ => None,
    }
}

trait ContainsAny {
    fn contains_any(&self, set: &[u8]) -> bool;
}

impl ContainsAny for [u8] {
    fn contains_any(&self, set: &[u8]) -> bool {
        self.iter().any(|b| set.contains(b))
    }
}
