//! A simple command as a list of words, with wrappers (`sudo`, `timeout`, `env`, `xargs`, …)
//! peeled off, and what the remaining program is: a metadata client, a shell that runs a string or
//! its standard input, `eval`, or something else.

use crate::model::request::{Client, RunBy};
use crate::shell::word::{Piece, Word};

/// What a command runs once its wrappers are peeled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invocation {
    /// `curl`/`wget`: the program word's index, and the arguments after it; `wrapped` is the
    /// index of a command word before it that could not be read (`$WRAP curl …`), which is taken
    /// to hand the client its arguments, as a wrapper or as nothing (an empty variable) does.
    Client {
        client: Client,
        busybox: bool,
        program: usize,
        wrapped: Option<usize>,
    },
    /// A shell: `script` is the index of the `-c` string; `reads_stdin` when it runs its input.
    Shell {
        program: usize,
        script: Option<usize>,
        reads_stdin: bool,
    },
    /// `eval ARGS…`: the arguments, joined with spaces, are run as shell code.
    Eval { program: usize },
    /// An interpreter of another language (`python3 -c CODE`, `python3 - <<EOF`): `code` is the
    /// index of the `-c` string; `reads_stdin` when it runs its input.
    Interpreter {
        program: usize,
        language: Language,
        code: Option<usize>,
        reads_stdin: bool,
    },
    /// `env -S STRING`: the string is split into a command line.
    SplitString { program: usize, string: usize },
    /// Anything else, by its base name (empty when the name is not literal).
    Other { program: usize, name: String },
    /// `command -v curl` and the like: names a program without running it.
    NotRun,
}

/// The base name of a program word: `/usr/bin/curl` is `curl`.
pub fn base_name(word: &Word) -> Option<String> {
    let text = word.literal()?;
    Some(text.rsplit('/').next().unwrap_or_default().to_owned())
}

pub use crate::fragment::language::is_shell_name;
use crate::fragment::language::{is_powershell_name, is_python_name};
use crate::fragment::Language;

/// How a wrapper's options are written: short letters and long names that take a value.
struct Options {
    short_with_value: &'static str,
    long_with_value: &'static [&'static str],
}

impl Options {
    /// Skips the options starting at `at`; returns the index of the first operand.
    fn skip(&self, argv: &[Word], mut at: usize) -> usize {
        while let Some(word) = argv.get(at) {
            let Some(text) = word.literal() else {
                return at;
            };
            if text == "--" {
                return at + 1;
            }
            if let Some(long) = text.strip_prefix("--") {
                at += 1;
                if !long.contains('=') && self.long_with_value.contains(&long) {
                    at += 1;
                }
                continue;
            }
            let Some(cluster) = text.strip_prefix('-') else {
                return at;
            };
            if cluster.is_empty() {
                return at;
            }
            at += 1;
            for (i, c) in cluster.char_indices() {
                if self.short_with_value.contains(c) {
                    if cluster.len() == i + c.len_utf8() {
                        at += 1;
                    }
                    break;
                }
            }
        }
        at
    }

    /// Whether the options starting at `at` (up to the first operand, as [`Options::skip`] reads
    /// them) hold the flag `short` (alone or in a cluster: `-it`) or one of the `long` names
    /// (`--interactive`, not `--interactive=false`).
    fn has_flag(&self, argv: &[Word], mut at: usize, short: char, long: &[&str]) -> bool {
        while let Some(text) = argv.get(at).and_then(Word::literal) {
            if text == "--" {
                return false;
            }
            if let Some(option) = text.strip_prefix("--") {
                let (name, value) = option.split_once('=').unwrap_or((option, ""));
                if long.contains(&name) && value != "false" {
                    return true;
                }
                at += 1;
                if value.is_empty() && !option.contains('=') && self.long_with_value.contains(&name)
                {
                    at += 1;
                }
                continue;
            }
            let Some(cluster) = text.strip_prefix('-').filter(|c| !c.is_empty()) else {
                return false;
            };
            at += 1;
            for (i, c) in cluster.char_indices() {
                if c == short {
                    return true;
                }
                if self.short_with_value.contains(c) {
                    if cluster.len() == i + c.len_utf8() {
                        at += 1;
                    }
                    break;
                }
            }
        }
        false
    }
}

const SUDO: Options = Options {
    short_with_value: "CDghpRrTtUu",
    long_with_value: &[
        "close-from",
        "chdir",
        "group",
        "host",
        "prompt",
        "chroot",
        "role",
        "type",
        "command-timeout",
        "other-user",
        "user",
    ],
};
const TIMEOUT: Options = Options {
    short_with_value: "sk",
    long_with_value: &["signal", "kill-after"],
};
const ENV: Options = Options {
    short_with_value: "uCS",
    long_with_value: &["unset", "chdir", "split-string"],
};
const EXEC: Options = Options {
    short_with_value: "a",
    long_with_value: &[],
};
const NICE: Options = Options {
    short_with_value: "n",
    long_with_value: &["adjustment"],
};
const TIME: Options = Options {
    short_with_value: "fo",
    long_with_value: &["format", "output"],
};
const XARGS: Options = Options {
    short_with_value: "adEILnPs",
    long_with_value: &[
        "arg-file",
        "delimiter",
        "max-lines",
        "max-args",
        "max-procs",
        "max-chars",
        "process-slot-var",
    ],
};
const STDBUF: Options = Options {
    short_with_value: "ioe",
    long_with_value: &["input", "output", "error"],
};
const IONICE: Options = Options {
    short_with_value: "cnpPu",
    long_with_value: &["class", "classdata", "pid", "pgid", "uid"],
};
const PLAIN: Options = Options {
    short_with_value: "",
    long_with_value: &[],
};

/// Where a command's program runs, once the commands that run it elsewhere are peeled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Place {
    /// Here, in the shell's own environment.
    #[default]
    Here,
    /// In a container: `docker run IMAGE …`, `docker exec CONTAINER …`, `kubectl exec POD -- …`
    /// (one network hop further from IMDS than its instance).
    Container,
    /// On another host: `ssh HOST …`.
    Remote,
}

/// Peels wrappers off `argv` and says what it runs.
pub fn invocation(argv: &[Word]) -> Invocation {
    invocation_in(argv).0
}

/// `docker run`/`docker exec` options that take a value (the ones written apart from it).
const DOCKER: Options = Options {
    short_with_value: "acehlmpuvw",
    long_with_value: &[
        "add-host",
        "attach",
        "cap-add",
        "cap-drop",
        "cgroup-parent",
        "cidfile",
        "cpus",
        "cpu-shares",
        "cpuset-cpus",
        "detach-keys",
        "device",
        "dns",
        "dns-search",
        "entrypoint",
        "env",
        "env-file",
        "expose",
        "gpus",
        "group-add",
        "health-cmd",
        "hostname",
        "ipc",
        "label",
        "link",
        "log-driver",
        "log-opt",
        "memory",
        "mount",
        "name",
        "network",
        "platform",
        "pid",
        "publish",
        "pull",
        "restart",
        "runtime",
        "security-opt",
        "shm-size",
        "stop-signal",
        "tmpfs",
        "ulimit",
        "user",
        "userns",
        "volume",
        "volumes-from",
        "workdir",
    ],
};
/// `ssh` options that take a value.
const SSH: Options = Options {
    short_with_value: "BbcDEeFIiJLlmOopQRSWw",
    long_with_value: &[],
};

/// `docker run … IMAGE CMD…`, `docker exec … CONTAINER CMD…` (also `podman`, `nerdctl`,
/// `docker container run`): the subcommand, the index of its first option, the index of the
/// image or container, and the index of the command, if any.
fn container_command(argv: &[Word], at: usize) -> Option<(String, usize, usize, usize)> {
    let mut i = at + 1;
    if argv.get(i).and_then(Word::literal).as_deref() == Some("container") {
        i += 1;
    }
    let sub = argv.get(i).and_then(Word::literal)?;
    if sub != "run" && sub != "exec" {
        return None;
    }
    // The image or container, then its command.
    let target = DOCKER.skip(argv, i + 1);
    Some((sub, i + 1, target, target + 1)).filter(|&(_, _, _, c)| c < argv.len())
}

/// `kubectl exec` options that take a value (the ones written apart from it).
const KUBECTL_EXEC: Options = Options {
    short_with_value: "cfns",
    long_with_value: &[
        "container",
        "filename",
        "namespace",
        "context",
        "cluster",
        "kubeconfig",
        "server",
        "user",
        "pod-running-timeout",
    ],
};

/// `kubectl exec … POD -- CMD…`: the index of the pod (when one is written before `--`) and
/// the index of the command.
fn kubectl_command(argv: &[Word], at: usize) -> Option<(Option<usize>, usize)> {
    if argv.get(at + 1).and_then(Word::literal).as_deref() != Some("exec") {
        return None;
    }
    let dashes = at
        + 2
        + argv
            .iter()
            .skip(at + 2)
            .position(|w| w.literal().as_deref() == Some("--"))?;
    let pod = Some(KUBECTL_EXEC.skip(argv, at + 2)).filter(|&p| p < dashes);
    Some((pod, dashes + 1)).filter(|&(_, c)| c < argv.len())
}

/// A word as written, for an origin chain: its literal text, `$NAME` for a variable, `…` for
/// what cannot be read.
fn written(word: &Word) -> String {
    word.pieces
        .iter()
        .map(|piece| match piece {
            Piece::Literal(text) => text.clone(),
            Piece::Variable { name, .. } => format!("${name}"),
            Piece::Command(_) | Piece::Unknown => "…".to_owned(),
        })
        .collect()
}

/// Peels wrappers off `argv` and says what it runs, and where: a container's or another host's
/// command is read as what it runs there. `ssh HOST STRING` runs the string with the remote
/// user's shell (`sh -c`); `ssh HOST WORDS…` joins them first (as `eval` does). The commands
/// that run it elsewhere or under a name (`cloud-init-per`) come with it, outermost first.
pub fn invocation_in(argv: &[Word]) -> (Invocation, Site) {
    let mut site = Site::default();
    let invocation = peel(argv, &mut site);
    (invocation, site)
}

/// Where a command's program runs, and the commands that run it there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Site {
    pub place: Place,
    pub run_by: Vec<RunBy>,
    /// A command that runs it elsewhere does not hand it this command's standard input:
    /// `docker run`/`exec` and `kubectl exec` without `-i`, `ssh -n` (or `-f`). A here-document
    /// given to it is then never read.
    pub no_stdin: bool,
}

fn peel(argv: &[Word], site: &mut Site) -> Invocation {
    let mut at = 0;
    let mut busybox = false;
    let mut wrapped = None;
    // A wrapper chain longer than this is not a real command line.
    for _ in 0..16 {
        let Some(word) = argv.get(at) else {
            return Invocation::NotRun;
        };
        let Some(name) = base_name(word) else {
            // A word that cannot be read (`$WRAP`, `"$SUDO"`, a template's action) right before
            // a client: a wrapper, most likely, or nothing at all.
            let client_next = argv
                .get(at + 1)
                .and_then(base_name)
                .is_some_and(|n| n == "curl" || n == "wget");
            if client_next && wrapped.is_none() {
                wrapped = Some(at);
                at += 1;
                continue;
            }
            return Invocation::Other {
                program: at,
                name: String::new(),
            };
        };
        let next = match name.as_str() {
            "sudo" | "doas" => skip_assignments(argv, SUDO.skip(argv, at + 1)),
            "timeout" => TIMEOUT.skip(argv, at + 1) + 1,
            "env" => {
                if let Some(string) = env_split_string(argv, at) {
                    return Invocation::SplitString {
                        program: at,
                        string,
                    };
                }
                skip_assignments(argv, ENV.skip(argv, at + 1))
            }
            "command" => {
                let flags = argv.iter().skip(at + 1).map_while(Word::literal);
                for flag in flags {
                    if !flag.starts_with('-') || flag == "--" {
                        break;
                    }
                    if flag.contains('v') || flag.contains('V') {
                        return Invocation::NotRun;
                    }
                }
                PLAIN.skip(argv, at + 1)
            }
            "exec" => EXEC.skip(argv, at + 1),
            "nice" => NICE.skip(argv, at + 1),
            "nohup" | "setsid" | "chronic" => PLAIN.skip(argv, at + 1),
            "time" => TIME.skip(argv, at + 1),
            "xargs" => XARGS.skip(argv, at + 1),
            "stdbuf" => STDBUF.skip(argv, at + 1),
            "ionice" => IONICE.skip(argv, at + 1),
            "busybox" => {
                busybox = true;
                at + 1
            }
            "curl" => {
                return Invocation::Client {
                    client: Client::Curl,
                    busybox,
                    program: at,
                    wrapped,
                }
            }
            "wget" => {
                return Invocation::Client {
                    client: Client::Wget,
                    busybox,
                    program: at,
                    wrapped,
                }
            }
            "eval" => return Invocation::Eval { program: at },
            "su" | "runuser" => return su(argv, at),
            // `cloud-init-per FREQUENCY NAME CMD…`.
            "cloud-init-per" => {
                site.run_by.push(RunBy {
                    layer: "cloud-init-per",
                    key: argv.get(at + 1).map(written),
                    name: argv.get(at + 2).map(written),
                });
                at + 3
            }
            "kubectl" => {
                let Some((pod, command)) = kubectl_command(argv, at) else {
                    return Invocation::Other { program: at, name };
                };
                site.place = Place::Container;
                site.no_stdin |= !KUBECTL_EXEC.has_flag(argv, at + 2, 'i', &["stdin"]);
                site.run_by.push(RunBy {
                    layer: "kubectl",
                    key: Some("exec".to_owned()),
                    name: pod.and_then(|p| argv.get(p)).map(written),
                });
                command
            }
            "docker" | "podman" | "nerdctl" => {
                let Some((sub, options, target, command)) = container_command(argv, at) else {
                    return Invocation::Other { program: at, name };
                };
                site.place = Place::Container;
                site.no_stdin |= !DOCKER.has_flag(argv, options, 'i', &["interactive"]);
                site.run_by.push(RunBy {
                    layer: match name.as_str() {
                        "podman" => "podman",
                        "nerdctl" => "nerdctl",
                        _ => "docker",
                    },
                    key: Some(sub),
                    name: argv.get(target).map(written),
                });
                command
            }
            "ssh" => {
                let host = SSH.skip(argv, at + 1);
                if host >= argv.len() {
                    return Invocation::Other { program: at, name };
                }
                site.place = Place::Remote;
                site.run_by.push(RunBy {
                    layer: "ssh",
                    key: None,
                    name: argv.get(host).map(written),
                });
                let first = host + 1;
                // `-n` (and `-f`, which implies it) gives the remote side no input.
                site.no_stdin |=
                    SSH.has_flag(argv, at + 1, 'n', &[]) || SSH.has_flag(argv, at + 1, 'f', &[]);
                let reads = remote_reads_stdin(argv.get(first..).unwrap_or_default());
                if let Some(reads) = reads.filter(|_| !site.no_stdin) {
                    return reads.at(at);
                }
                if first >= argv.len() {
                    return Invocation::Other { program: at, name };
                }
                if first + 1 == argv.len() {
                    return Invocation::Shell {
                        program: at,
                        script: Some(first),
                        reads_stdin: false,
                    };
                }
                return Invocation::Eval { program: host };
            }
            shell if is_shell_name(shell) => return shell_invocation(argv, at),
            python if is_python_name(python) => return python_invocation(argv, at),
            pwsh if is_powershell_name(pwsh) => return powershell_invocation(argv, at),
            _ => return Invocation::Other { program: at, name },
        };
        at = next;
    }
    Invocation::NotRun
}

/// What the remote side of `ssh HOST [COMMAND]` runs its standard input with, when it does: with
/// no command, the remote user's login shell (`ssh HOST <<EOF`); or a command that is a shell or
/// an interpreter reading its input (`ssh HOST bash -s`, `ssh HOST 'sudo sh'`, `ssh HOST python3
/// -`), one string split at spaces as the remote shell would.
fn remote_reads_stdin(command: &[Word]) -> Option<Invocation> {
    let words: Vec<Word> = match command {
        [] => {
            return Some(Invocation::Shell {
                program: 0,
                script: None,
                reads_stdin: true,
            })
        }
        [one] => one
            .literal()?
            .split_ascii_whitespace()
            .map(|word| Word {
                span: one.span,
                pieces: vec![Piece::Literal(word.to_owned())],
            })
            .collect(),
        several => several.to_vec(),
    };
    match invocation(&words) {
        shell @ Invocation::Shell {
            script: None,
            reads_stdin: true,
            ..
        } => Some(shell),
        interpreter @ Invocation::Interpreter {
            code: None,
            reads_stdin: true,
            ..
        } => Some(interpreter),
        _ => None,
    }
}

impl Invocation {
    /// The same invocation with its program word at `at`, for one read through a command that
    /// runs it elsewhere (its other indices are not into the same words).
    fn at(self, at: usize) -> Invocation {
        match self {
            Invocation::Shell { reads_stdin, .. } => Invocation::Shell {
                program: at,
                script: None,
                reads_stdin,
            },
            Invocation::Interpreter {
                language,
                reads_stdin,
                ..
            } => Invocation::Interpreter {
                program: at,
                language,
                code: None,
                reads_stdin,
            },
            other => other,
        }
    }
}

fn skip_assignments(argv: &[Word], mut at: usize) -> usize {
    while argv
        .get(at)
        .map(Word::literal_prefix)
        .is_some_and(|text| is_assignment(&text))
    {
        at += 1;
    }
    at
}

fn is_assignment(text: &str) -> bool {
    match text.split_once('=') {
        Some((name, _)) => {
            !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        None => false,
    }
}

/// `env -S STRING` / `env --split-string=STRING`: the index of the string.
fn env_split_string(argv: &[Word], at: usize) -> Option<usize> {
    let mut i = at + 1;
    while let Some(text) = argv.get(i).and_then(Word::literal) {
        if text == "-S" || text == "--split-string" {
            return Some(i + 1).filter(|&s| s < argv.len());
        }
        if !text.starts_with('-') || text == "--" {
            return None;
        }
        i += 1;
    }
    None
}

/// `su [options] [user] -c STRING`, `runuser -u user -- cmd`.
fn su(argv: &[Word], at: usize) -> Invocation {
    for (i, word) in argv.iter().enumerate().skip(at + 1) {
        match word.literal().as_deref() {
            Some("-c") | Some("--command") => {
                return Invocation::Shell {
                    program: at,
                    script: Some(i + 1).filter(|&s| s < argv.len()),
                    reads_stdin: false,
                }
            }
            Some("--") => break,
            _ => {}
        }
    }
    Invocation::Other {
        program: at,
        name: "su".to_owned(),
    }
}

/// A shell's options: `-c` makes the first operand the script; `-s`, or no operand, reads stdin.
fn shell_invocation(argv: &[Word], at: usize) -> Invocation {
    let mut i = at + 1;
    let mut command_string = false;
    let mut stdin = false;
    while let Some(text) = argv.get(i).and_then(Word::literal) {
        if text == "--" || text == "-" {
            i += 1;
            break;
        }
        if let Some(long) = text.strip_prefix("--") {
            i += 1;
            if matches!(long, "rcfile" | "init-file") {
                i += 1;
            }
            continue;
        }
        let Some(cluster) = text.strip_prefix('-').or_else(|| text.strip_prefix('+')) else {
            break;
        };
        if cluster.is_empty() {
            break;
        }
        i += 1;
        if text.starts_with('-') {
            command_string |= cluster.contains('c');
            stdin |= cluster.contains('s');
        }
        if cluster.contains('o') || cluster.contains('O') {
            i += 1;
        }
    }
    if command_string {
        return Invocation::Shell {
            program: at,
            script: Some(i).filter(|&s| s < argv.len()),
            reads_stdin: false,
        };
    }
    Invocation::Shell {
        program: at,
        script: None,
        reads_stdin: stdin || i >= argv.len(),
    }
}

/// Python's options (`python3 [-BEIOqsSuv] [-W arg] [-X opt] (-c CODE | -m MOD | - | FILE)`):
/// `-c` makes the next word the code (the rest of a cluster after `c` is the code itself, which
/// is not followed); `-m` runs a module and a file operand runs a file, neither of which is code
/// here; `-` or no operand reads the program from standard input.
fn python_invocation(argv: &[Word], at: usize) -> Invocation {
    let mut i = at + 1;
    let mut reads_stdin = true;
    while let Some(word) = argv.get(i) {
        let Some(text) = word.literal() else {
            // A word the shell expands: an operand, or an option we cannot read.
            reads_stdin = false;
            break;
        };
        if text == "-" {
            break;
        }
        if text == "--" || !text.starts_with('-') {
            reads_stdin = i + usize::from(text == "--") >= argv.len();
            break;
        }
        if text.starts_with("--") {
            // `--version`, `--help`, `--check-hash-based-pycs MODE`: none runs code from here.
            return Invocation::Other {
                program: at,
                name: "python".to_owned(),
            };
        }
        let cluster = text.get(1..).unwrap_or_default();
        match cluster.find(['c', 'm', 'W', 'X']) {
            Some(k) => {
                let option = cluster.as_bytes().get(k).copied().unwrap_or_default();
                let attached = k + 1 < cluster.len();
                match option {
                    b'c' => {
                        return Invocation::Interpreter {
                            program: at,
                            language: Language::Python,
                            code: (!attached).then_some(i + 1).filter(|&c| c < argv.len()),
                            reads_stdin: false,
                        }
                    }
                    b'm' => {
                        return Invocation::Other {
                            program: at,
                            name: "python".to_owned(),
                        }
                    }
                    // `-W arg`, `-X opt`: their value is the next word unless attached.
                    _ => i += if attached { 1 } else { 2 },
                }
            }
            None => i += 1,
        }
    }
    Invocation::Interpreter {
        program: at,
        language: Language::Python,
        code: None,
        reads_stdin,
    }
}

/// PowerShell's options (`pwsh [-NoProfile] [-ExecutionPolicy P] (-Command CODE | -File F | -)`,
/// any case, any unambiguous abbreviation: `-c`, `-Com`): `-Command` makes the next word the code
/// (`-` reads it from standard input); `-File` and `-EncodedCommand` run no readable code here;
/// no operand reads standard input.
fn powershell_invocation(argv: &[Word], at: usize) -> Invocation {
    /// Options that take a value.
    const WITH_VALUE: &[&str] = &[
        "executionpolicy",
        "windowstyle",
        "outputformat",
        "inputformat",
        "configurationname",
        "workingdirectory",
        "settingsfile",
        "custompipename",
        "psconsolefile",
        "version",
    ];
    let other = Invocation::Other {
        program: at,
        name: "pwsh".to_owned(),
    };
    let mut i = at + 1;
    while let Some(word) = argv.get(i) {
        let Some(text) = word.literal() else {
            return other;
        };
        if text == "-" {
            break;
        }
        let Some(option) = text.strip_prefix('-').or_else(|| text.strip_prefix('/')) else {
            // A bare word is the command (`pwsh Get-Date`), which the analysis does not follow.
            return other;
        };
        let option = option.to_ascii_lowercase();
        let names = |full: &str| !option.is_empty() && full.starts_with(option.as_str());
        // `-c` is `-Command` by definition; a longer prefix must not also name
        // `-ConfigurationName` (`-co` is ambiguous, and PowerShell refuses it).
        if option == "c" || (option.len() >= 3 && names("command")) {
            let code = i + 1;
            return match argv.get(code).and_then(Word::literal).as_deref() {
                Some("-") => Invocation::Interpreter {
                    program: at,
                    language: Language::PowerShell,
                    code: None,
                    reads_stdin: true,
                },
                _ => Invocation::Interpreter {
                    program: at,
                    language: Language::PowerShell,
                    code: Some(code).filter(|&c| c < argv.len()),
                    reads_stdin: false,
                },
            };
        }
        if names("file") || names("encodedcommand") || option == "ec" || option == "f" {
            return other;
        }
        i += if WITH_VALUE.iter().any(|full| names(full)) && option.len() >= 2 {
            2
        } else {
            1
        };
    }
    Invocation::Interpreter {
        program: at,
        language: Language::PowerShell,
        code: None,
        reads_stdin: true,
    }
}

#[cfg(test)]
mod tests;
