//! Runtime proof that `--fix` keeps makefiles working, with GNU make itself.
//!
//! Every `fixtures/runnable-make/*.mk` is a makefile written against IMDSv1 that prints metadata
//! values: from recipe lines, `$(shell …)` in assignments, conditionals and recipes, `!=`
//! commands, `.ONESHELL` recipes. For each one this test:
//! 1. runs `make -s -f FILE` (its default goal) against the IMDS emulator in optional mode: it
//!    must exit 0 with every request answered 200; its stdout is the reference;
//! 2. fixes a copy with `imds-lint --fix` (exit 0 or 1): the copy must change, and a JSON scan of
//!    it must find nothing;
//! 3. runs the fixed copy against a fresh emulator in required mode: exit 0, the same stdout
//!    byte for byte, every request answered 200, the same metadata paths read, and at least as
//!    many `PUT /latest/api/token` as the file's `# tokens: N` header says (counted by hand: one
//!    per shell that makes requests; make runs a `$(shell …)` of a recursive `=` variable
//!    each time the variable is expanded);
//! 4. runs `--fix` again: the copy must not change.
//!
//! Makefiles reach the emulator only through `http_proxy`; their environment is otherwise
//! cleared (PATH kept, HOME an empty directory). Needs GNU make and curl, and GNU wget for the
//! wget case (`.ci/run` installs them); a missing one fails the test.
//!
//! Not done here (the shell scripts' runtime proof does it, `tests/fix_runtime.rs`): runs where
//! the service does not answer (nothing listening, hop limit 1, a black hole). The fetch a fix
//! inserts in a makefile is the shell fix's own, with the same bounds.

#[path = "support/imds_emulator.rs"]
mod imds_emulator;
#[path = "support/process.rs"]
mod process;
#[path = "support/tools.rs"]
mod tools;

use imds_emulator::{Emulator, Logged, Mode};
use process::{run_bounded, Ran};
use std::path::{Path, PathBuf};
use std::process::Command;

const MIN_MAKEFILES: usize = 12;

fn runnable_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/runnable-make")
}

/// `make -s -f FILE` in an empty working directory, reaching IMDS only through the emulator.
fn run_make(makefile: &Path, emu: &Emulator) -> Ran {
    let work = tempfile::tempdir().expect("temp dir");
    let home = work.path().join("home");
    let cwd = work.path().join("cwd");
    std::fs::create_dir(&home).expect("mkdir home");
    std::fs::create_dir(&cwd).expect("mkdir cwd");
    let mut cmd = Command::new("make");
    cmd.arg("-s")
        .arg("-f")
        .arg(makefile)
        .current_dir(&cwd)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("LC_ALL", "C")
        .env("http_proxy", emu.proxy_url())
        .env("HTTP_PROXY", emu.proxy_url());
    run_bounded(cmd, None)
}

fn imds_lint(args: &[&str], path: &Path) -> Ran {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_imds-lint"));
    cmd.args(args).arg(path);
    run_bounded(cmd, None)
}

/// The metadata paths read (token requests aside), in order.
fn reads(log: &[Logged]) -> Vec<String> {
    log.iter()
        .filter(|l| l.path != "/latest/api/token")
        .map(|l| l.path.clone())
        .collect()
}

fn check(path: &Path) -> Vec<String> {
    let mut failures = Vec::new();
    let bytes = std::fs::read(path).expect("read makefile");
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let Some(tokens) = text
        .lines()
        .take_while(|l| l.starts_with('#'))
        .find_map(|l| l.strip_prefix("# tokens:"))
        .and_then(|n| n.trim().parse::<usize>().ok())
    else {
        return vec!["the leading comments must hold `# tokens: N`".into()];
    };

    // 1. The original, IMDSv1 allowed.
    let emu = Emulator::start(Mode::Optional);
    let original = run_make(path, &emu);
    let original_log = emu.log();
    drop(emu);
    if !original.ok() || original_log.iter().any(|l| l.status != 200) || original_log.is_empty() {
        failures.push(format!(
            "[1 original, optional] must exit 0 with every request answered 200:\n{}\n{}",
            original.describe(),
            imds_emulator::describe_log(&original_log)
        ));
        return failures;
    }

    // 2. --fix on a copy.
    let dir = tempfile::tempdir().expect("temp dir");
    let name = path.file_name().expect("file name");
    let copy = dir.path().join(name);
    std::fs::write(&copy, &bytes).expect("write copy");
    let fix = imds_lint(&["--fix"], &copy);
    if !matches!(fix.code, Some(0 | 1)) {
        failures.push(format!("[2 --fix] must exit 0 or 1:\n{}", fix.describe()));
        return failures;
    }
    let fixed = std::fs::read(&copy).expect("read fixed copy");
    if fixed == bytes {
        failures.push("[2 --fix] left the makefile unchanged".into());
    }
    let scan = imds_lint(&["--format", "json"], &copy);
    let json: serde_json::Value = serde_json::from_slice(&scan.stdout).unwrap_or_default();
    match json["findings"].as_array() {
        Some(findings) if findings.is_empty() => {}
        _ => failures.push(format!(
            "[2 scan of the fixed copy] must find nothing:\n{}",
            scan.describe()
        )),
    }

    // 3. The fixed copy, tokens required.
    let emu = Emulator::start(Mode::Required);
    let after = run_make(&copy, &emu);
    let after_log = emu.log();
    drop(emu);
    let puts = after_log
        .iter()
        .filter(|l| l.method == "PUT" && l.path == "/latest/api/token")
        .count();
    if !after.ok()
        || after.stdout != original.stdout
        || after_log.iter().any(|l| l.status != 200)
        || reads(&after_log) != reads(&original_log)
        || puts < tokens
    {
        failures.push(format!(
            "[3 fixed, required] must exit 0 with the same output, the same reads, every \
             request answered 200 and at least {tokens} token requests ({puts} made):\n\
             --- original stdout\n{}--- fixed\n{}\n{}\n--- the fixed makefile\n{}",
            String::from_utf8_lossy(&original.stdout),
            after.describe(),
            imds_emulator::describe_log(&after_log),
            String::from_utf8_lossy(&fixed)
        ));
    }

    // 4. A fixed point.
    let _ = imds_lint(&["--fix"], &copy);
    if std::fs::read(&copy).expect("read copy") != fixed {
        failures.push("[4 second --fix] changed the makefile again".into());
    }
    failures
}

#[test]
fn fixed_makefiles_still_work_with_tokens_required() {
    tools::require(&[tools::MAKE, tools::CURL, tools::GNU_WGET]);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(runnable_dir())
        .expect("fixtures/runnable-make")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "mk"))
        .collect();
    paths.sort();
    assert!(
        paths.len() >= MIN_MAKEFILES,
        "expected at least {MIN_MAKEFILES} runnable makefiles, found {}",
        paths.len()
    );
    let results: Vec<(String, Vec<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = paths
            .iter()
            .map(|p| {
                s.spawn(move || {
                    (
                        p.file_name().unwrap().to_string_lossy().into_owned(),
                        check(p),
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let failed: Vec<String> = results
        .into_iter()
        .filter(|(_, f)| !f.is_empty())
        .map(|(name, f)| format!("=== {name}\n{}", f.join("\n")))
        .collect();
    assert!(failed.is_empty(), "\n{}", failed.join("\n\n"));
}
