//! Property tests: random bytes, shell-shaped token soup and mutated fixtures go through the whole
//! pipeline (classify, prefilter, parse, nested strings, rules, suppression, every reporter).
//! Nothing may panic, and no input may take long enough to look like a hang: each call runs on a
//! thread of its own under a watchdog, so a hang fails the test at the deadline instead of
//! blocking it forever.

use std::panic;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::Duration;

use imds_lint::check::{check_file, CheckSettings, Outcome};
use imds_lint::model::Note;
use imds_lint::report::{self, Diagnostic, FileReport, Report, Statistics};
use proptest::prelude::*;

/// Far above what any case takes; only a runaway loop gets near it.
const HANG: Duration = Duration::from_secs(60);

/// Runs `call` on a thread of its own and returns its result; fails the test if it has not
/// returned within `deadline` (the thread is left behind: a hung call can be reported, not
/// stopped). A panic in `call` is the caller's panic.
fn watchdog<T: Send + 'static>(
    what: &str,
    deadline: Duration,
    call: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (sender, receiver) = mpsc::channel();
    let worker = thread::Builder::new()
        .name(format!("watched: {what}"))
        .spawn(move || {
            let _ = sender.send(call());
        })
        .expect("spawn the watched thread");
    match receiver.recv_timeout(deadline) {
        Ok(value) => value,
        Err(RecvTimeoutError::Timeout) => {
            panic!("{what} still running after {deadline:?}: a hang")
        }
        // The sender is gone without a value: `call` panicked.
        Err(RecvTimeoutError::Disconnected) => match worker.join() {
            Err(payload) => panic::resume_unwind(payload),
            Ok(()) => unreachable!("the watched thread ended without sending"),
        },
    }
}

fn run_pipeline(name: &str, bytes: Vec<u8>) {
    let name = name.to_owned();
    watchdog(&format!("the pipeline on {name}"), HANG, move || {
        pipeline(&name, bytes)
    });
}

/// Check, then every reporter.
fn pipeline(name: &str, bytes: Vec<u8>) {
    let outcome = check_file(PathBuf::from(name), bytes, None, &CheckSettings::default());
    if let Outcome::Checked {
        source,
        findings,
        notes,
        ..
    } = outcome
    {
        for finding in &findings {
            assert!(finding.span.start <= finding.span.end);
            assert!(
                finding.span.end.0 <= source.bytes.len(),
                "span past the end of the file"
            );
        }
        let diagnostics: Vec<Diagnostic> = notes
            .into_iter()
            .map(|n| Diagnostic::new(Some(source.path.clone()), n.kind, n.message))
            .collect();
        let files = vec![FileReport { source, findings }];
        let statistics = Statistics::default();
        let report = Report {
            files: &files,
            files_scanned: 1,
            statistics: &statistics,
            diagnostics: &diagnostics,
            fail_on_skipped: false,
            unsafe_fixes: false,
        };
        let mut out = Vec::new();
        report::json::write(&mut out, &report).unwrap();
        report::concise::write(&mut out, &report).unwrap();
        report::human::write(&mut out, &report, true).unwrap();
        report::json_lines::write(&mut out, &report).unwrap();
        report::github::write(&mut out, &report).unwrap();
        report::sarif::write_with_root(&mut out, &report, Some(Path::new("/r"))).unwrap();
        report::checkstyle::write(&mut out, &report).unwrap();
        report::junit::write(&mut out, &report).unwrap();
        report::gitlab::write(&mut out, &report).unwrap();
    }
}

const SOUP: &[&str] = &[
    "curl ",
    "wget ",
    "-H ",
    "--header=",
    "-X PUT ",
    "-sX",
    "PUT ",
    "\"",
    "'",
    "$(",
    ")",
    "`",
    "${",
    "}",
    ":-",
    "$",
    "TOKEN",
    "=",
    " ",
    "\n",
    "\\\n",
    "\\",
    "<<EOF\n",
    "<<'EOF'\n",
    "<<-EOF\n",
    "EOF\n",
    "bash -c ",
    "sh -c ",
    "eval ",
    "su -c ",
    "sudo ",
    "env -S ",
    "xargs ",
    "| bash\n",
    "169.254.169.254",
    "http://",
    "[fd00:ec2::254]",
    "/latest/api/token",
    "/latest/meta-data/",
    "X-aws-ec2-metadata-token: ",
    "X-aws-ec2-metadata-token-ttl-seconds: 21600",
    "; ",
    "&& ",
    "if ",
    "then ",
    "fi",
    "for x in a b; do ",
    "done",
    "f() { ",
    "}",
    "(",
    "# imds-lint disable=IMDS001",
    "$'\\x41'",
    "\r\n",
    "\u{ff}",
    "é",
    "\t",
];

fn soup() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(SOUP), 0..120)
        .prop_map(|parts| parts.concat().into_bytes())
}

fn fixture_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"),
        &mut out,
    );
    out.sort();
    out
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Duplicate(usize, usize),
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = bytes.len().max(1);
        match m {
            Mutation::Flip(at, byte) => {
                if let Some(b) = bytes.get_mut(at % len) {
                    *b ^= byte;
                }
            }
            Mutation::Insert(at, new) => {
                let at = (at % len).min(bytes.len());
                bytes.splice(at..at, new.iter().copied());
            }
            Mutation::Delete(at, n) => {
                let at = (at % len).min(bytes.len());
                let end = (at + n).min(bytes.len());
                bytes.drain(at..end);
            }
            Mutation::Duplicate(at, n) => {
                let at = (at % len).min(bytes.len());
                let end = (at + n).min(bytes.len());
                let copy = bytes[at..end].to_vec();
                bytes.splice(at..at, copy);
            }
        }
    }
    bytes
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1..=255u8).prop_map(|(a, b)| Mutation::Flip(a, b)),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(a, v)| Mutation::Insert(a, v)),
        (any::<usize>(), soup()).prop_map(|(a, v)| Mutation::Insert(a, v)),
        (any::<usize>(), 1..64usize).prop_map(|(a, n)| Mutation::Delete(a, n)),
        (any::<usize>(), 1..256usize).prop_map(|(a, n)| Mutation::Duplicate(a, n)),
    ]
}

proptest! {
    // A hang fails at the watchdog's deadline, and proptest then shrinks the input, each hanging
    // attempt costing another HANG (and a thread left spinning): shrinking stops after 5 minutes.
    #![proptest_config(ProptestConfig {
        cases: 192,
        max_shrink_time: 300_000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        // Named .sh so the shell front end reads it even without a shebang.
        let mut with_endpoint = bytes.clone();
        with_endpoint.extend_from_slice(b" 169.254.169.254");
        run_pipeline("random.sh", bytes);
        run_pipeline("random.sh", with_endpoint);
    }

    #[test]
    fn shell_soup(bytes in soup()) {
        run_pipeline("soup.sh", bytes);
    }

    #[test]
    fn mutated_fixtures(index in any::<prop::sample::Index>(), mutations in prop::collection::vec(mutation(), 1..6)) {
        let files = fixture_files();
        let path = index.get(&files);
        let bytes = std::fs::read(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        run_pipeline(&name, mutate(bytes, &mutations));
    }
}

#[test]
fn deeply_nested_strings_stay_bounded() {
    // bash -c inside bash -c, 12 levels deep (past the nesting cap), quotes escaped at every level.
    let mut script = "curl http://169.254.169.254/latest/meta-data/".to_owned();
    for _ in 0..12 {
        script = format!(
            "bash -c \"{}\"",
            script.replace('\\', "\\\\").replace('"', "\\\"")
        );
    }
    run_pipeline("nested.sh", script.into_bytes());
    let deep_parens = format!(
        "{}curl 169.254.169.254{}",
        "$(".repeat(1000),
        ")".repeat(1000)
    );
    run_pipeline("parens.sh", deep_parens.into_bytes());
}

/// The findings of a file through the whole check, by rule code, and its notes.
fn codes_and_notes(name: &str, bytes: Vec<u8>) -> (Vec<&'static str>, Vec<Note>) {
    let name = name.to_owned();
    watchdog(
        &format!("check_file on {name}"),
        HANG,
        move || match check_file(PathBuf::from(&name), bytes, None, &CheckSettings::default()) {
            Outcome::Checked {
                findings, notes, ..
            } => (findings.iter().map(|f| f.rule.code).collect(), notes),
            _ => panic!("{name} was not checked"),
        },
    )
}

#[test]
fn the_watchdog_fails_a_call_past_its_deadline() {
    let started = std::time::Instant::now();
    let hung = panic::catch_unwind(|| {
        watchdog("a sleeper", Duration::from_millis(50), || {
            thread::sleep(Duration::from_secs(3600))
        })
    });
    let message = hung
        .expect_err("a call past its deadline must fail")
        .downcast::<String>()
        .map(|m| *m)
        .unwrap_or_default();
    assert!(
        message.contains("a sleeper still running after 50ms"),
        "{message}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the watchdog waited for the call"
    );
}

#[test]
fn the_watchdog_passes_on_results_and_panics() {
    assert_eq!(watchdog("a sum", HANG, || 2 + 2), 4);
    let failed = panic::catch_unwind(|| watchdog("a panic", HANG, || panic!("inner failure")));
    let message = failed
        .expect_err("the call's panic must reach the caller")
        .downcast::<&str>()
        .map(|m| *m)
        .unwrap_or_default();
    assert_eq!(message, "inner failure");
}

#[test]
fn strings_nested_past_the_limit_get_a_note_with_their_line() {
    let request = "curl http://169.254.169.254/latest/meta-data/instance-id";
    let evals = |n: usize| format!("#!/bin/sh\necho start\n{}{request}\n", "eval ".repeat(n));
    assert_eq!(
        codes_and_notes("sixteen.sh", evals(16).into_bytes()),
        (vec!["IMDS001"], Vec::new())
    );
    assert_eq!(
        codes_and_notes("seventeen.sh", evals(17).into_bytes()),
        (
            Vec::new(),
            vec![Note::partly_analysed("line 3: shell code nested more than 16 levels deep in strings (`sh -c`, `eval`, here-documents) was not analysed")]
        )
    );
}

#[test]
fn encoded_values_past_the_host_depth_get_a_note() {
    use imds_lint::fragment::gzip;
    let script = b"#!/bin/sh\ncurl http://169.254.169.254/latest/meta-data/instance-id\n".to_vec();
    let layers = |n: usize| (0..n).fold(script.clone(), |bytes, _| gzip::encode(&bytes));
    // Six layers of gzip around a script: each a host, all read.
    assert_eq!(
        codes_and_notes("user-data", layers(6)),
        (vec!["IMDS001"], Vec::new())
    );
    // A seventh is past the limit: the script is not read, and a note says so.
    assert_eq!(
        codes_and_notes("user-data", layers(7)),
        (
            Vec::new(),
            vec![Note::partly_analysed(
                "encoded values nest too deeply; the innermost were not read"
            )]
        )
    );
}

#[test]
fn hostile_nesting_is_analysed_or_declined_with_a_note() {
    // Thousands of nested substitutions, subshells and a long `&&` chain: each walk up the tree
    // used to cost O(depth²) (tree-sitter searches a parent down from the root), which made
    // 30,000 levels take minutes; within the depth limit they are analysed.
    let request = "curl http://169.254.169.254/latest/meta-data/instance-id";
    let substitutions = format!(
        "#!/bin/sh\nx={}$({request}){}\n",
        "$(echo ".repeat(3000),
        ")".repeat(3000)
    );
    assert_eq!(
        codes_and_notes("substitutions.sh", substitutions.into_bytes()),
        (vec!["IMDS001"], Vec::new())
    );
    let chain = format!("#!/bin/sh\n{}\n", vec![request; 3000].join(" && "));
    let (codes, notes) = codes_and_notes("chain.sh", chain.into_bytes());
    assert_eq!((codes.len(), notes), (3000, Vec::<Note>::new()));
    // Past the limit: no analysis, and a note that says so (the scan goes on): the script is the
    // whole file, so the file was not analysed at all.
    let deeper = format!(
        "#!/bin/sh\nx={}$({request}){}\n",
        "$(echo ".repeat(30_000),
        ")".repeat(30_000)
    );
    let (codes, notes) = codes_and_notes("deeper.sh", deeper.into_bytes());
    assert!(codes.is_empty());
    assert_eq!(
        notes,
        [Note::skipped("the script nests more than 20000 syntax levels deep (command substitutions, subshells, long `&&` chains); it was not analysed")]
    );
}
