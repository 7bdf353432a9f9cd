//! Runtime proof that `--fix` keeps Ansible playbooks working, with ansible-playbook itself.
//!
//! Every `fixtures/runnable-ansible/*.yml` is a playbook for `localhost` (local connection)
//! written against IMDSv1: `uri` tasks read metadata and a last task writes what they read to
//! `{{ out }}/metadata`. For each one this test:
//! 1. runs it against the IMDS emulator with tokens optional: exit 0, every request answered
//!    200; the file it writes is the reference;
//! 2. fixes a copy with `imds-lint --fix`: the copy changes and a JSON scan of it finds nothing;
//! 3. runs the fixed copy with tokens required: exit 0, the same file, one token request, every
//!    read carrying the token;
//! 4. runs it where the token's answer never arrives (hop limit 1, tokens optional): exit 0, the
//!    same file, the reads sent without a token header (the `omit` the fix writes leaves the
//!    header out; a literal placeholder would be sent as its value);
//! 5. runs the original and the fixed copy where nothing answers (off EC2): both fail, and the
//!    fixed one no earlier (the same number of tasks ok before the failure);
//! 6. runs `--fix` again: the copy does not change.
//!
//! Playbooks reach the emulator only through `http_proxy`; the environment is otherwise cleared
//! (PATH kept, HOME an empty directory, a UTF-8 locale as Ansible requires). Needs
//! ansible-playbook (`.ci/run` installs Debian's ansible-core); a missing one fails the test.

#[path = "support/imds_emulator.rs"]
mod imds_emulator;
#[path = "support/process.rs"]
mod process;
#[path = "support/tools.rs"]
mod tools;

use imds_emulator::{Emulator, Logged, Mode, Reach};
use process::{run_limited, Ran};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const MIN_PLAYBOOKS: usize = 2;
const TOKEN_HEADER: &str = "x-aws-ec2-metadata-token";

fn runnable_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/runnable-ansible")
}

/// `ansible-playbook` on `playbook`, reaching IMDS only through the emulator; returns the run and
/// the file it wrote, if any.
fn run_playbook(playbook: &Path, emu: &Emulator) -> (Ran, Option<Vec<u8>>) {
    let work = tempfile::tempdir().expect("temp dir");
    let home = work.path().join("home");
    let out = work.path().join("out");
    std::fs::create_dir(&home).expect("mkdir home");
    std::fs::create_dir(&out).expect("mkdir out");
    let mut cmd = Command::new("ansible-playbook");
    cmd.arg("-i")
        .arg("localhost,")
        .arg("-e")
        .arg(format!("out={}", out.display()))
        .arg(playbook)
        .current_dir(work.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("LC_ALL", "C.UTF-8")
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_PYTHON_INTERPRETER", "auto_silent")
        .env("http_proxy", emu.proxy_url())
        .env("HTTP_PROXY", emu.proxy_url());
    let ran = run_limited(cmd, None, Duration::from_secs(120));
    let written = std::fs::read(out.join("metadata")).ok();
    (ran, written)
}

fn imds_lint(args: &[&str], path: &Path) -> Ran {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_imds-lint"));
    cmd.args(args).arg(path);
    run_limited(cmd, None, Duration::from_secs(60))
}

/// The metadata reads (token requests aside).
fn reads(log: &[Logged]) -> Vec<&Logged> {
    log.iter()
        .filter(|l| l.path != "/latest/api/token")
        .collect()
}

fn has_token(logged: &Logged) -> bool {
    logged
        .headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case(TOKEN_HEADER))
}

/// `ok=N` of the play recap: the tasks that ran before the run stopped.
fn tasks_ok(ran: &Ran) -> Option<usize> {
    let out = String::from_utf8_lossy(&ran.stdout);
    let recap = out
        .lines()
        .find(|l| l.starts_with("localhost") && l.contains("ok="))?;
    let ok = recap.split("ok=").nth(1)?;
    ok.split_whitespace().next()?.parse().ok()
}

fn check(path: &Path) -> Vec<String> {
    let mut failures = Vec::new();
    let bytes = std::fs::read(path).expect("read playbook");

    // 1. The original, IMDSv1 allowed.
    let emu = Emulator::start(Mode::Optional);
    let (original, reference) = run_playbook(path, &emu);
    let original_log = emu.log();
    drop(emu);
    let Some(reference) = reference.filter(|_| original.ok()) else {
        return vec![format!(
            "[1 original, optional] must exit 0 and write the file:\n{}",
            original.describe()
        )];
    };
    if original_log.is_empty() || original_log.iter().any(|l| l.status != 200) {
        failures.push(format!(
            "[1 original, optional] every request must be answered 200:\n{}",
            imds_emulator::describe_log(&original_log)
        ));
    }

    // 2. --fix on a copy.
    let dir = tempfile::tempdir().expect("temp dir");
    let copy = dir.path().join(path.file_name().expect("file name"));
    std::fs::write(&copy, &bytes).expect("write copy");
    let fix = imds_lint(&["--fix"], &copy);
    let fixed = std::fs::read(&copy).expect("read fixed copy");
    if !matches!(fix.code, Some(0 | 1)) || fixed == bytes {
        return vec![format!(
            "[2 --fix] must exit 0 or 1 and change the playbook:\n{}",
            fix.describe()
        )];
    }
    let scan = imds_lint(&["--format", "json"], &copy);
    let json: serde_json::Value = serde_json::from_slice(&scan.stdout).unwrap_or_default();
    if json["findings"].as_array().is_none_or(|f| !f.is_empty()) {
        failures.push(format!(
            "[2 scan of the fixed copy] must find nothing:\n{}",
            scan.describe()
        ));
    }
    let fixed_text = String::from_utf8_lossy(&fixed).into_owned();

    // 3. Tokens required.
    let emu = Emulator::start(Mode::Required);
    let (after, written) = run_playbook(&copy, &emu);
    let log = emu.log();
    drop(emu);
    let puts = log.iter().filter(|l| l.method == "PUT").count();
    let read = reads(&log);
    if !after.ok()
        || written.as_deref() != Some(reference.as_slice())
        || log.iter().any(|l| l.status != 200)
        || puts != 1
        || read.len() != reads(&original_log).len()
        || !read.iter().all(|l| has_token(l))
    {
        failures.push(format!(
            "[3 fixed, required] must exit 0, write the same file, make one token request and \
             send the token with every read:\n{}\n{}\n--- the fixed playbook\n{fixed_text}",
            after.describe(),
            imds_emulator::describe_log(&log)
        ));
    }

    // 4. The token's answer lost (hop limit 1), tokens optional: the reads go without the header.
    let emu = Emulator::start_reached(Mode::Optional, Reach::PutLost);
    let (lost, written) = run_playbook(&copy, &emu);
    let log = emu.log();
    drop(emu);
    let read = reads(&log);
    if !lost.ok()
        || written.as_deref() != Some(reference.as_slice())
        || read.len() != reads(&original_log).len()
        || read.iter().any(|l| has_token(l) || l.status != 200)
    {
        failures.push(format!(
            "[4 fixed, token lost, optional] must exit 0, write the same file and send the reads \
             without a token header:\n{}\n{}",
            lost.describe(),
            imds_emulator::describe_log(&log)
        ));
    }

    // 5. Nothing answers: the fixed copy fails no earlier than the original.
    let emu = Emulator::start_reached(Mode::Optional, Reach::Refused);
    let (original_off, _) = run_playbook(path, &emu);
    let (fixed_off, _) = run_playbook(&copy, &emu);
    drop(emu);
    let before = tasks_ok(&original_off);
    // The token task the fix adds is one more task ok before the first read.
    let after = tasks_ok(&fixed_off).map(|n| n.saturating_sub(1));
    if original_off.ok() || fixed_off.ok() || before.is_none() || before != after {
        failures.push(format!(
            "[5 off EC2] both must fail, the fixed copy at the same task:\n--- original\n{}\n--- fixed\n{}",
            original_off.describe(),
            fixed_off.describe()
        ));
    }

    // 6. A fixed point.
    let _ = imds_lint(&["--fix"], &copy);
    if std::fs::read(&copy).expect("read copy") != fixed {
        failures.push("[6 second --fix] changed the playbook again".into());
    }
    failures
}

#[test]
fn fixed_playbooks_still_work_with_tokens_required() {
    tools::require(&[tools::ANSIBLE]);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(runnable_dir())
        .expect("fixtures/runnable-ansible")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    paths.sort();
    assert!(
        paths.len() >= MIN_PLAYBOOKS,
        "expected at least {MIN_PLAYBOOKS} runnable playbooks, found {}",
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
