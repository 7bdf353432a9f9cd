//! Runtime proof that `--fix` keeps scripts working.
//!
//! Every `fixtures/runnable/*.sh` is a small script a user might have, written against IMDSv1.
//! For each one this test:
//! 1. runs the original with the shell of its shebang against the IMDS emulator in optional mode
//!    (it must exit 0; its stdout is the reference);
//! 2. copies it to a temporary directory and runs `imds-lint --fix` on the copy (exit 0 or 1);
//! 3. checks that the copy changed, still parses (`bash -n`, and `dash -n` too for `#!/bin/sh`)
//!    and that a JSON scan of it finds nothing at all;
//! 4. runs the fixed copy against a fresh emulator in required mode: same exit status, the same
//!    stdout byte for byte, every request answered 200, as many `PUT /latest/api/token` requests
//!    as the script's `# tokens: N` header says (derived by hand from the rewrite rules), and every
//!    host asked for metadata also asked for the token;
//! 5. runs `--fix` again: the copy must not change;
//! 6. runs the original and the fixed copy where the metadata service does not answer: nothing
//!    listening, a container behind hop limit 1 (PUTs never answered), a network that swallows
//!    everything. Both must end alike, the fixed one no later than the original plus what its
//!    token fetches may cost, or both hang at the same place (`tests/support/unanswered.rs`).
//!    These runs are independent jobs, run on more threads than cores: they mostly wait.
//!
//! Scripts reach the emulator only through `http_proxy`; their environment is otherwise cleared
//! (PATH kept, HOME pointed at an empty directory, so no curlrc/wgetrc or stray variable leaks in).
//! All failures are collected and reported together. Needs bash, dash, curl and GNU wget
//! (`.ci/run` installs them); a missing one fails the test.

#[path = "support/imds_emulator.rs"]
mod imds_emulator;
#[path = "support/process.rs"]
mod process;
#[path = "support/tools.rs"]
mod tools;
#[path = "support/unanswered.rs"]
mod unanswered;

use imds_emulator::{Emulator, Logged, Mode};
use process::{ensure_newline, run_bounded, run_limited, Ran, TIMEOUT};
use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};
use tools::{require, BASH, CURL, DASH, GNU_WGET};
use unanswered::{Pair, Version};

const MIN_SCRIPTS: usize = 25;

fn runnable_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/runnable")
}

fn imds_lint() -> Command {
    Command::new(env!("CARGO_BIN_EXE_imds-lint"))
}

// ------------------------------------------------------------------------------------------
// The scripts and their headers

struct Script {
    name: String,
    path: PathBuf,
    /// `bash` or `sh`, from the shebang.
    shell: &'static str,
    /// `# tokens: N`: PUT token requests the fixed script makes when run once.
    tokens: usize,
    bytes: Vec<u8>,
}

/// Reads every `*.sh` in `fixtures/runnable/`; malformed headers go to `problems`.
fn load_scripts(problems: &mut Vec<String>) -> Vec<Script> {
    let dir = runnable_dir();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension() == Some(OsStr::new("sh")))
        .collect();
    paths.sort();
    let mut scripts = Vec::new();
    for path in paths {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(&path).expect("read script");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let mut lines = text.lines();
        let shell = match lines.next() {
            Some("#!/bin/bash") => "bash",
            Some("#!/bin/sh") => "sh",
            other => {
                problems.push(format!(
                    "{name}: shebang must be #!/bin/bash or #!/bin/sh, found {other:?}"
                ));
                continue;
            }
        };
        // The leading comment block: description, `# tokens: N`, `# why: …`.
        let header: Vec<&str> = lines.take_while(|l| l.starts_with('#')).collect();
        let tokens = header
            .iter()
            .find_map(|l| l.strip_prefix("# tokens:"))
            .and_then(|n| n.trim().parse::<usize>().ok());
        let has_why = header.iter().any(|l| l.starts_with("# why: "));
        let Some(tokens) = tokens.filter(|_| has_why && header.len() >= 3) else {
            problems.push(format!(
                "{name}: the lines after the shebang must be a description, `# tokens: N` \
                 and `# why: …`; found {header:?}"
            ));
            continue;
        };
        scripts.push(Script {
            name,
            path,
            shell,
            tokens,
            bytes,
        });
    }
    scripts
}

/// The client programs a script runs (a word `curl`/`wget` outside comments).
fn clients(script: &Script) -> BTreeSet<&'static str> {
    let text = String::from_utf8_lossy(&script.bytes);
    let mut found = BTreeSet::new();
    for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
        for word in line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')) {
            match word {
                "curl" => found.insert("curl"),
                "wget" => found.insert("wget"),
                _ => false,
            };
        }
    }
    found
}

// ------------------------------------------------------------------------------------------
// Running things

/// Runs `shell script` in an empty working directory, reaching IMDS only through the emulator.
fn run_script(shell: &str, script: &Path, emu: &Emulator) -> Ran {
    run_script_for(shell, script, emu, TIMEOUT)
}

/// [`run_script`], killed after `limit`.
fn run_script_for(shell: &str, script: &Path, emu: &Emulator, limit: Duration) -> Ran {
    let work = tempfile::tempdir().expect("temp dir");
    let home = work.path().join("home");
    let cwd = work.path().join("cwd");
    std::fs::create_dir(&home).expect("mkdir home");
    std::fs::create_dir(&cwd).expect("mkdir cwd");
    let mut cmd = Command::new(shell);
    cmd.arg(script)
        .current_dir(&cwd)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("LC_ALL", "C")
        .env("http_proxy", emu.proxy_url())
        .env("HTTP_PROXY", emu.proxy_url());
    run_limited(cmd, None, limit)
}

// ------------------------------------------------------------------------------------------
// Reporting

/// A line diff (longest common subsequence), `-` original, `+` fixed, `  ` kept.
fn line_diff(before: &str, after: &str) -> String {
    let a: Vec<&str> = before.lines().collect();
    let b: Vec<&str> = after.lines().collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = String::new();
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            let _ = writeln!(out, "  {}", a[i]);
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            let _ = writeln!(out, "- {}", a[i]);
            i += 1;
        } else {
            let _ = writeln!(out, "+ {}", b[j]);
            j += 1;
        }
    }
    out
}

struct Outcome {
    failures: Vec<String>,
    /// The fixed copy's bytes, when `--fix` ran.
    fixed: Option<Vec<u8>>,
}

// ------------------------------------------------------------------------------------------
// One script, steps 1 to 5

fn check_script(script: &Script) -> Outcome {
    let mut outcome = Outcome {
        failures: Vec::new(),
        fixed: None,
    };
    let fail = |outcome: &mut Outcome, step: &str, detail: String| {
        outcome.failures.push(format!("[{step}] {detail}"));
    };

    // 1. The original, IMDSv1 allowed.
    let emu = Emulator::start(Mode::Optional);
    let original = run_script(script.shell, &script.path, &emu);
    let original_log = emu.log();
    drop(emu);
    let original_ok = original.code == Some(0) && !original.timed_out;
    if !original_ok {
        fail(
            &mut outcome,
            "1 original, optional mode",
            format!(
                "`{} {}` must exit 0:\n{}\n  requests:\n{}",
                script.shell,
                script.name,
                original.describe(),
                imds_emulator::describe_log(&original_log)
            ),
        );
    }
    let foreign: Vec<&Logged> = original_log.iter().filter(|l| l.status == 502).collect();
    if !foreign.is_empty() {
        fail(
            &mut outcome,
            "1 original, optional mode",
            format!(
                "only IMDS may be contacted, but:\n{}",
                imds_emulator::describe_log(&original_log)
            ),
        );
    }

    // 2. --fix on a copy.
    let dir = tempfile::tempdir().expect("temp dir");
    let copy = dir.path().join(&script.name);
    std::fs::write(&copy, &script.bytes).expect("write copy");
    let mut cmd = imds_lint();
    cmd.arg("--fix").arg(&copy);
    let fix = run_bounded(cmd, None);
    if !matches!(fix.code, Some(0 | 1)) || fix.timed_out {
        fail(
            &mut outcome,
            "2 --fix",
            format!("imds-lint --fix must exit 0 or 1:\n{}", fix.describe()),
        );
        return outcome;
    }
    let fixed = std::fs::read(&copy).expect("read fixed copy");
    outcome.fixed = Some(fixed.clone());

    // 3. Changed, still parses, nothing left to report.
    if fixed == script.bytes {
        fail(
            &mut outcome,
            "3 fixed copy",
            "--fix left the script unchanged".to_string(),
        );
    }
    let mut parsers = vec!["bash"];
    if script.shell == "sh" {
        parsers.push("dash");
    }
    for parser in parsers {
        let mut cmd = Command::new(parser);
        cmd.arg("-n").arg(&copy);
        let parsed = run_bounded(cmd, None);
        if parsed.code != Some(0) {
            fail(
                &mut outcome,
                "3 fixed copy",
                format!("`{parser} -n` rejects it:\n{}", parsed.describe()),
            );
        }
    }
    let mut cmd = imds_lint();
    cmd.args(["--format", "json"]).arg(&copy);
    let scan = run_bounded(cmd, None);
    match serde_json::from_slice::<serde_json::Value>(&scan.stdout) {
        Ok(json) => {
            let findings = json["findings"].as_array();
            if findings.is_none() {
                fail(
                    &mut outcome,
                    "3 fixed copy",
                    format!("no findings array in the JSON scan:\n{}", scan.describe()),
                );
            }
            let findings = findings.cloned().unwrap_or_default();
            if !findings.is_empty() {
                let list: Vec<String> = findings
                    .iter()
                    .map(|f| {
                        format!(
                            "{}:{} {} {}",
                            f["line"], f["column"], f["rule"], f["message"]
                        )
                    })
                    .collect();
                fail(
                    &mut outcome,
                    "3 fixed copy",
                    format!(
                        "a scan must find nothing, found:\n    {}",
                        list.join("\n    ")
                    ),
                );
            }
        }
        Err(e) => fail(
            &mut outcome,
            "3 fixed copy",
            format!(
                "imds-lint --format json gave no JSON ({e}):\n{}",
                scan.describe()
            ),
        ),
    }

    // 4. The fixed copy, IMDSv2 required.
    let emu = Emulator::start(Mode::Required);
    let rerun = run_script(script.shell, &copy, &emu);
    let log = emu.log();
    drop(emu);
    let mut runtime = Vec::new();
    if rerun.timed_out {
        runtime.push(format!("killed after {}s", TIMEOUT.as_secs()));
    }
    if original_ok && rerun.code != original.code {
        runtime.push(format!(
            "exit status {:?}, the original's was {:?}",
            rerun.code, original.code
        ));
    }
    if original_ok && rerun.stdout != original.stdout {
        runtime.push(format!(
            "stdout differs from the original's\n--- original stdout (optional mode)\n{}",
            ensure_newline(&String::from_utf8_lossy(&original.stdout))
        ));
    }
    if log.iter().any(|l| l.status != 200) {
        runtime.push("not every request was answered 200".to_string());
    }
    let puts = log.iter().filter(|l| l.method == "PUT").count();
    if puts != script.tokens {
        runtime.push(format!(
            "{puts} PUT token requests, the header says `# tokens: {}`",
            script.tokens
        ));
    }
    let token_hosts: BTreeSet<&str> = log
        .iter()
        .filter(|l| l.method == "PUT")
        .map(|l| l.host.as_str())
        .collect();
    let untokened_hosts: BTreeSet<&str> = log
        .iter()
        .filter(|l| l.method != "PUT" && !token_hosts.contains(l.host.as_str()))
        .map(|l| l.host.as_str())
        .collect();
    if !untokened_hosts.is_empty() {
        runtime.push(format!(
            "metadata read from {untokened_hosts:?} but no token fetched there \
             (the token URL must use the host of the requests it serves)"
        ));
    }
    if !runtime.is_empty() {
        fail(
            &mut outcome,
            "4 fixed copy, required mode",
            format!(
                "{}\n--- fixed run\n{}\n  requests:\n{}",
                runtime.join("\n"),
                rerun.describe(),
                imds_emulator::describe_log(&log)
            ),
        );
    }

    // 5. Idempotent.
    let mut cmd = imds_lint();
    cmd.arg("--fix").arg(&copy);
    let again = run_bounded(cmd, None);
    let refixed = std::fs::read(&copy).expect("read copy");
    if refixed != fixed {
        fail(
            &mut outcome,
            "5 second --fix",
            format!(
                "a second --fix changed the file (exit {:?}):\n{}",
                again.code,
                line_diff(
                    &String::from_utf8_lossy(&fixed),
                    &String::from_utf8_lossy(&refixed)
                )
            ),
        );
    }
    outcome
}

// ------------------------------------------------------------------------------------------

#[test]
fn fixed_scripts_work_with_tokens_required_and_do_no_worse_where_imds_does_not_answer() {
    require(&[BASH, DASH, CURL, GNU_WGET]);

    let mut problems = Vec::new();
    let scripts = load_scripts(&mut problems);
    assert!(
        scripts.len() >= MIN_SCRIPTS,
        "only {} runnable scripts in {} (at least {MIN_SCRIPTS} expected); header problems: {problems:#?}",
        scripts.len(),
        runnable_dir().display()
    );
    let shells: BTreeSet<&str> = scripts.iter().map(|s| s.shell).collect();
    assert!(
        shells.contains("bash") && shells.contains("sh"),
        "need both #!/bin/bash and #!/bin/sh scripts, have {shells:?}"
    );
    let used: BTreeSet<&str> = scripts.iter().flat_map(clients).collect();
    assert!(
        used.contains("curl") && used.contains("wget"),
        "need scripts using curl and scripts using wget, have {used:?}"
    );

    // Steps 1 to 5, a few scripts at a time.
    let next = AtomicUsize::new(0);
    let report = Mutex::new(Vec::<(usize, String)>::new());
    let fixed = Mutex::new(vec![None::<Vec<u8>>; scripts.len()]);
    let workers = thread::available_parallelism()
        .map_or(2, |n| n.get() * 2)
        .clamp(2, 8);
    let started = Instant::now();
    thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::SeqCst);
                let Some(script) = scripts.get(index) else {
                    break;
                };
                let outcome = check_script(script);
                fixed.lock().unwrap()[index] = outcome.fixed.clone();
                if outcome.failures.is_empty() {
                    continue;
                }
                let mut text = format!(
                    "=== {} ({}, # tokens: {})\n",
                    script.name, script.shell, script.tokens
                );
                for failure in &outcome.failures {
                    let _ = writeln!(text, "{failure}");
                }
                if let Some(fixed) = &outcome.fixed {
                    let _ = write!(
                        text,
                        "--- the script, as --fix left it (- original, + fixed)\n{}",
                        line_diff(
                            &String::from_utf8_lossy(&script.bytes),
                            &String::from_utf8_lossy(fixed)
                        )
                    );
                }
                report.lock().unwrap().push((index, text));
            });
        }
    });
    let required_took = started.elapsed();

    // Step 6: every fixed script where IMDS does not answer.
    let fixed = fixed.into_inner().unwrap();
    let copies = tempfile::tempdir().expect("temp dir");
    let mut pairs = Vec::new();
    let mut script_of_pair = Vec::new();
    for (index, (script, fixed)) in scripts.iter().zip(&fixed).enumerate() {
        let Some(fixed) = fixed else { continue };
        let copy = copies.path().join(&script.name);
        std::fs::write(&copy, fixed).expect("write fixed copy");
        script_of_pair.push(index);
        pairs.push(Pair {
            name: script.name.clone(),
            fetches: script.tokens,
            run: Box::new(move |version, emu, limit| {
                let path = match version {
                    Version::Original => &script.path,
                    Version::Fixed => &copy,
                };
                run_script_for(script.shell, path, emu, limit)
            }),
        });
    }
    let unanswered = unanswered::compare_all(&pairs);
    for (pair, text) in &unanswered.failures {
        let Some(&index) = script_of_pair.get(*pair) else {
            continue;
        };
        let (Some(script), Some(Some(fixed))) = (scripts.get(index), fixed.get(index)) else {
            continue;
        };
        let text = format!(
            "=== {} ({}, # tokens: {})\n{text}\n--- the script, as --fix left it (- original, \
             + fixed)\n{}",
            script.name,
            script.shell,
            script.tokens,
            line_diff(
                &String::from_utf8_lossy(&script.bytes),
                &String::from_utf8_lossy(fixed)
            )
        );
        report.lock().unwrap().push((index, text));
    }

    let mut failed = report.into_inner().unwrap();
    failed.sort();
    let by_shell = |shell: &str| scripts.iter().filter(|s| s.shell == shell).count();
    let by_client = |client: &str| {
        scripts
            .iter()
            .filter(|s| clients(s).contains(client))
            .count()
    };
    eprintln!(
        "fix_runtime: {} scripts ({} bash, {} sh run by dash; {} with curl, {} with wget), \
         tokens required: {:.1}s\n{}",
        scripts.len(),
        by_shell("bash"),
        by_shell("sh"),
        by_client("curl"),
        by_client("wget"),
        required_took.as_secs_f64(),
        unanswered.summary()
    );
    let mut all: Vec<String> = problems;
    all.extend(failed.into_iter().map(|(_, text)| text));
    assert!(
        all.is_empty(),
        "\n{} failures over {} runnable scripts:\n\n{}",
        all.len(),
        scripts.len(),
        all.join("\n")
    );
}
