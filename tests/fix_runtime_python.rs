//! Runtime proof that `--fix` keeps Python scripts working.
//!
//! Every `fixtures/python/runnable/*.py` is a small script written against IMDSv1 (and every
//! `*.sh` a shell script that hands Python to `python3`, run with `sh`). For each one
//! this test runs the original with python3 against the IMDS emulator in optional mode (it must
//! exit 0; its stdout is the reference), fixes a copy with `imds-lint --fix`, checks that the copy
//! changed, compiles (`py_compile`) and scans clean, then runs the fixed copy against a fresh
//! emulator in required mode: same exit status, the same stdout, every request answered 200, and
//! at least one token fetched. Then it runs both where nothing answers (a closed port as the
//! proxy): the fixed copy must end as the original does; and the fixed copy where every PUT's
//! answer is lost (a container behind hop limit 1) with tokens optional: it must print what the
//! original printed, every other request answered 200. Scripts reach the emulator only through
//! `http_proxy` (requests, httpx, urllib and the curl they run read it). Needs python3 with
//! requests and httpx, and curl (`.ci/run` installs them).

#[path = "support/imds_emulator.rs"]
mod imds_emulator;
#[path = "support/tools.rs"]
mod tools;

use imds_emulator::{Emulator, Mode, Reach};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tools::{require, CURL, PYTHON3_HTTPX, PYTHON3_REQUESTS};

fn runnable() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/python/runnable");
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "py" || e == "sh"))
        .collect();
    out.sort();
    out
}

fn is_shell(script: &Path) -> bool {
    script.extension().is_some_and(|e| e == "sh")
}

fn run(script: &Path, proxy: &str) -> Output {
    Command::new(if is_shell(script) { "sh" } else { "python3" })
        .arg(script)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("http_proxy", proxy)
        .env("HTTP_PROXY", proxy)
        .env("LC_ALL", "C")
        .env("HOME", std::env::temp_dir())
        .output()
        .unwrap()
}

#[test]
fn fixed_python_scripts_behave_the_same_under_required_tokens() {
    require(&[PYTHON3_REQUESTS, PYTHON3_HTTPX, CURL]);
    let scripts = runnable();
    assert!(scripts.len() >= 4, "too few runnable Python fixtures");
    let mut failures = Vec::new();
    for script in scripts {
        let name = script.file_name().unwrap().to_string_lossy().into_owned();
        let optional = Emulator::start(Mode::Optional);
        let before = run(&script, &optional.proxy_url());
        if !before.status.success() {
            failures.push(format!(
                "{name}: the original fails under optional tokens: {}",
                String::from_utf8_lossy(&before.stderr)
            ));
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join(&name);
        std::fs::copy(&script, &copy).unwrap();
        let fix = Command::new(env!("CARGO_BIN_EXE_imds-lint"))
            .args(["--fix", "--quiet"])
            .arg(&copy)
            .output()
            .unwrap();
        assert!(
            fix.status.code().is_some_and(|c| c <= 1),
            "{name}: --fix failed"
        );
        let fixed = std::fs::read_to_string(&copy).unwrap();
        if fixed == std::fs::read_to_string(&script).unwrap() {
            failures.push(format!("{name}: --fix changed nothing"));
            continue;
        }
        let compiles = if is_shell(&copy) {
            Command::new("sh").arg("-n").arg(&copy).output().unwrap()
        } else {
            Command::new("python3")
                .args(["-m", "py_compile"])
                .arg(&copy)
                .output()
                .unwrap()
        };
        if !compiles.status.success() {
            failures.push(format!("{name}: the fixed copy does not compile"));
        }
        let scan = Command::new(env!("CARGO_BIN_EXE_imds-lint"))
            .args(["--format", "concise", "--quiet"])
            .arg(&copy)
            .output()
            .unwrap();
        if !scan.stdout.is_empty() {
            failures.push(format!(
                "{name}: the fixed copy still has findings: {}",
                String::from_utf8_lossy(&scan.stdout)
            ));
        }
        let required = Emulator::start(Mode::Required);
        let after = run(&copy, &required.proxy_url());
        if after.status.code() != before.status.code() || after.stdout != before.stdout {
            failures.push(format!(
                "{name}: under required tokens the fixed copy printed {:?} (status {:?}), the original under optional {:?}; stderr: {}",
                String::from_utf8_lossy(&after.stdout),
                after.status.code(),
                String::from_utf8_lossy(&before.stdout),
                String::from_utf8_lossy(&after.stderr)
            ));
        }
        let log = required.log();
        if let Some(bad) = log.iter().find(|l| l.status != 200) {
            failures.push(format!(
                "{name}: {} {} answered {}",
                bad.method, bad.path, bad.status
            ));
        }
        if !log
            .iter()
            .any(|l| l.method == "PUT" && l.path == "/latest/api/token")
        {
            failures.push(format!("{name}: no token was fetched"));
        }
        // Where nothing answers, the fixed copy ends as the original does.
        let closed = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            drop(listener);
            format!("http://{addr}")
        };
        let (original, fixed) = (run(&script, &closed), run(&copy, &closed));
        if original.status.code() != fixed.status.code() {
            failures.push(format!(
                "{name}: with nothing listening the original exits {:?}, the fixed copy {:?}",
                original.status.code(),
                fixed.status.code()
            ));
        }
        // Behind a hop limit of 1 (every PUT's answer lost) with tokens optional, the fixed copy
        // gives up on the token and reads what the original read, without one.
        let lost = Emulator::start_reached(Mode::Optional, Reach::PutLost);
        let fixed = run(&copy, &lost.proxy_url());
        if fixed.status.code() != before.status.code() || fixed.stdout != before.stdout {
            failures.push(format!(
                "{name}: with the token's answer lost the fixed copy printed {:?} (status {:?}), the original {:?}; stderr: {}",
                String::from_utf8_lossy(&fixed.stdout),
                fixed.status.code(),
                String::from_utf8_lossy(&before.stdout),
                String::from_utf8_lossy(&fixed.stderr)
            ));
        }
        let log = lost.log();
        if !log.iter().any(|l| l.method == "PUT") {
            failures.push(format!(
                "{name}: with the token's answer lost, no token was asked for"
            ));
        }
        if let Some(bad) = log.iter().find(|l| l.method != "PUT" && l.status != 200) {
            failures.push(format!(
                "{name}: with the token's answer lost, {} {} answered {}",
                bad.method, bad.path, bad.status
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
