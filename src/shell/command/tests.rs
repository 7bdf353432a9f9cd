use super::*;
use crate::fragment::FragmentSpan;
use crate::shell::word::literal_words as argv;
use crate::shell::word::Piece;

fn program(line: &str) -> Option<usize> {
    match invocation(&argv(line)) {
        Invocation::Client { program, .. } => Some(program),
        _ => None,
    }
}

#[test]
fn wrappers_are_peeled() {
    assert_eq!(program("sudo -u root -E curl x"), Some(4));
    assert_eq!(program("sudo --user=root curl x"), Some(2));
    assert_eq!(program("timeout -s KILL 5 curl x"), Some(4));
    assert_eq!(program("env -i A=1 B=2 /usr/bin/curl x"), Some(4));
    assert_eq!(program("nice -n 10 nohup stdbuf -oL curl x"), Some(6));
    assert_eq!(program("xargs -I{} -P 4 wget x"), Some(4));
    assert_eq!(program("exec -a name curl x"), Some(3));
    assert_eq!(program("time -p curl"), Some(2));
    assert_eq!(program("busybox wget x"), Some(1));
}

fn python(line: &str) -> Option<(Option<usize>, bool)> {
    match invocation(&argv(line)) {
        Invocation::Interpreter {
            language: Language::Python,
            code,
            reads_stdin,
            ..
        } => Some((code, reads_stdin)),
        _ => None,
    }
}

fn pwsh(line: &str) -> Option<(Option<usize>, bool)> {
    match invocation(&argv(line)) {
        Invocation::Interpreter {
            language: Language::PowerShell,
            code,
            reads_stdin,
            ..
        } => Some((code, reads_stdin)),
        _ => None,
    }
}

#[test]
fn powershell_command_strings_and_standard_input() {
    assert_eq!(pwsh("pwsh -c CODE"), Some((Some(2), false)));
    assert_eq!(pwsh("powershell -Command CODE"), Some((Some(2), false)));
    assert_eq!(
        pwsh("powershell.exe -NoProfile -ExecutionPolicy Bypass -Command CODE"),
        Some((Some(5), false))
    );
    assert_eq!(
        pwsh("pwsh -nop -NonInteractive -Com CODE"),
        Some((Some(4), false))
    );
    assert_eq!(pwsh("pwsh -Command -"), Some((None, true)));
    assert_eq!(pwsh("pwsh -NoProfile"), Some((None, true)));
    assert_eq!(pwsh("pwsh -File script.ps1"), None);
    assert_eq!(pwsh("pwsh -EncodedCommand ZQBjAGgAbwA="), None);
    assert_eq!(pwsh("pwsh -ec ZQBjAGgAbwA="), None);
    assert_eq!(pwsh("pwsh script.ps1"), None);
}

#[test]
fn python_code_strings_and_standard_input() {
    assert_eq!(python("python3 -c CODE"), Some((Some(2), false)));
    assert_eq!(
        python("sudo -E python -u -c CODE arg"),
        Some((Some(5), false))
    );
    assert_eq!(python("python3 -W ignore -c CODE"), Some((Some(4), false)));
    assert_eq!(python("python3 -Wignore -Bc CODE"), Some((Some(3), false)));
    assert_eq!(
        python("/usr/bin/python3.11 -X dev -c CODE"),
        Some((Some(4), false))
    );
    assert_eq!(python("python3 -c"), Some((None, false)));
    assert_eq!(python("python3"), Some((None, true)));
    assert_eq!(python("python3 -u"), Some((None, true)));
    assert_eq!(python("python3 - arg"), Some((None, true)));
    assert_eq!(python("python3 script.py"), Some((None, false)));
    assert_eq!(python("python3 -m http.server"), None);
    assert_eq!(python("python3 --version"), None);
    assert_eq!(python("pythonista -c x"), None);
}

/// A word that cannot be read right before `curl`/`wget` is taken as a wrapper of the client
/// (and named); before anything else, or before a second such word, it is the program.
#[test]
fn an_unreadable_word_before_a_client_wraps_it() {
    // Words as the parser gives them: `$NAME` a variable, `${X}curl` a variable and a literal.
    let words = |line: &str| -> Vec<Word> {
        line.split(' ')
            .map(|w| {
                let variable = |name: &str| Piece::Variable {
                    name: name.trim_matches(['"', '$', '{', '}']).to_owned(),
                    default: None,
                };
                let pieces = match w.split_once('}') {
                    Some((var, rest)) if w.starts_with("${") => {
                        vec![variable(var), Piece::Literal(rest.to_owned())]
                    }
                    _ if w.trim_matches('"').starts_with('$') => vec![variable(w)],
                    _ => vec![Piece::Literal(w.to_owned())],
                };
                Word {
                    span: FragmentSpan::default(),
                    pieces,
                }
            })
            .collect()
    };
    let client = |line: &str| match invocation(&words(line)) {
        Invocation::Client {
            program, wrapped, ..
        } => Some((program, wrapped)),
        _ => None,
    };
    assert_eq!(client("$WRAP curl x"), Some((1, Some(0))));
    assert_eq!(client("\"$SUDO\" /usr/bin/wget x"), Some((1, Some(0))));
    assert_eq!(client("sudo $WRAP curl x"), Some((2, Some(1))));
    assert_eq!(client("curl x"), Some((0, None)));
    assert_eq!(client("$CMD echo curl x"), None);
    assert_eq!(client("$A $B curl x"), None);
    assert_eq!(client("${X}curl x"), None);
}

#[test]
fn elsewhere() {
    let place = |line: &str| {
        let (invocation, site) = invocation_in(&argv(line));
        (invocation, site.place)
    };
    let run_by = |line: &str| -> Vec<(&str, Option<String>, Option<String>)> {
        let site = invocation_in(&argv(line)).1;
        site.run_by
            .into_iter()
            .map(|r| (r.layer, r.key, r.name))
            .collect()
    };
    let some = |s: &str| Some(s.to_owned());
    assert_eq!(
        place("docker run --rm -e A=1 -v /x:/y alpine curl x"),
        (
            Invocation::Client {
                client: Client::Curl,
                busybox: false,
                program: 8,
                wrapped: None,
            },
            Place::Container
        )
    );
    assert_eq!(
        run_by("docker run --rm -e A=1 -v /x:/y alpine curl x"),
        [("docker", some("run"), some("alpine"))]
    );
    assert_eq!(
        run_by("podman container exec -it web sh -c x"),
        [("podman", some("exec"), some("web"))]
    );
    assert_eq!(
        place("kubectl exec -n ns pod -c app -- sh -c x").0,
        Invocation::Shell {
            program: 8,
            script: Some(10),
            reads_stdin: false
        }
    );
    assert_eq!(
        run_by("kubectl exec -n ns pod -c app -- sh -c x"),
        [("kubectl", some("exec"), some("pod"))]
    );
    // `kubectl exec -- …` with the pod given by `-f`: no name to show.
    assert_eq!(
        run_by("kubectl exec -f pod.yaml -- curl x"),
        [("kubectl", some("exec"), None)]
    );
    assert_eq!(
        place("ssh -o StrictHostKeyChecking=no -i key host x"),
        (
            Invocation::Shell {
                program: 0,
                script: Some(6),
                reads_stdin: false
            },
            Place::Remote
        )
    );
    assert_eq!(
        run_by("ssh -o StrictHostKeyChecking=no -i key ec2-user@web-1 x"),
        [("ssh", None, some("ec2-user@web-1"))]
    );
    assert_eq!(place("ssh host curl x").0, Invocation::Eval { program: 1 });
    assert_eq!(program("cloud-init-per once name curl x"), Some(3));
    assert_eq!(
        run_by("sudo cloud-init-per once probe docker run alpine curl x"),
        [
            ("cloud-init-per", some("once"), some("probe")),
            ("docker", some("run"), some("alpine")),
        ]
    );
    assert_eq!(place("docker ps").1, Place::Here);
    assert_eq!(
        place("docker run alpine").0,
        Invocation::Other {
            program: 0,
            name: "docker".into()
        }
    );
    // With no command, or a shell or interpreter reading its input, the remote side runs what
    // it reads (a here-document).
    let mut quoted = argv("ssh host");
    quoted.push(Word {
        span: FragmentSpan::default(),
        pieces: vec![Piece::Literal("sudo bash -s".to_owned())],
    });
    let lines = [
        "ssh host",
        "ssh -t host bash -s",
        "ssh host sudo bash",
        "ssh h sh -s -- x",
    ];
    for (line, words) in lines
        .map(|l| (l, argv(l)))
        .into_iter()
        .chain([("'sudo bash -s'", quoted)])
    {
        assert_eq!(
            {
                let (invocation, site) = invocation_in(&words);
                (invocation, site.place)
            },
            (
                Invocation::Shell {
                    program: 0,
                    script: None,
                    reads_stdin: true
                },
                Place::Remote
            ),
            "{line}"
        );
    }
    assert_eq!(
        place("ssh host python3 -").0,
        Invocation::Interpreter {
            program: 0,
            language: Language::Python,
            code: None,
            reads_stdin: true
        }
    );
    assert_eq!(run_by("ssh host"), [("ssh", None, some("host"))]);
    // What is handed no input never reads a here-document.
    let no_stdin = |line: &str| invocation_in(&argv(line)).1.no_stdin;
    for line in [
        "docker run alpine sh",
        "docker run -e I=1 alpine sh",
        "docker run --interactive=false alpine sh",
        "kubectl exec -n ns pod -- sh",
        "kubectl exec -c i pod -- sh",
        "ssh -n host bash -s",
        "ssh -fN host",
    ] {
        assert!(no_stdin(line), "{line}");
    }
    for line in [
        "docker run -i alpine sh",
        "docker run --rm -it alpine sh",
        "docker exec --interactive web sh",
        "kubectl exec -i pod -- sh",
        "kubectl exec --stdin -n ns pod -- sh",
        "ssh -i key host bash -s",
        "ssh host",
    ] {
        assert!(!no_stdin(line), "{line}");
    }
    assert_eq!(
        place("ssh -n host").0,
        Invocation::Other {
            program: 0,
            name: "ssh".into()
        }
    );
    assert_eq!(place("ssh").1, Place::Here);
    assert!(run_by("ssh -i key").is_empty());
    assert!(run_by("curl x").is_empty());
}

#[test]
fn not_clients() {
    assert_eq!(program("command -v curl"), None);
    assert_eq!(program("echo curl x"), None);
    assert_eq!(program("sudo -l"), None);
    assert_eq!(program("which curl"), None);
}

#[test]
fn shells() {
    assert_eq!(
        invocation(&argv("bash -euo pipefail -c x")),
        Invocation::Shell {
            program: 0,
            script: Some(4),
            reads_stdin: false
        }
    );
    assert_eq!(
        invocation(&argv("sudo sh")),
        Invocation::Shell {
            program: 1,
            script: None,
            reads_stdin: true
        }
    );
    assert_eq!(
        invocation(&argv("bash script.sh")),
        Invocation::Shell {
            program: 0,
            script: None,
            reads_stdin: false
        }
    );
    assert_eq!(
        invocation(&argv("su ec2-user -c x")),
        Invocation::Shell {
            program: 0,
            script: Some(3),
            reads_stdin: false
        }
    );
}
