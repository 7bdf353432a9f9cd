//! `--fix` through host formats: the fixed files must still be what they were, and the scripts
//! inside them must still work once IMDSv2 tokens are required.
//!
//! `fixed_hosts_still_parse_and_converge` runs `imds-lint --fix .` on a copy of
//! `fixtures/hosts/`. For every file it changed:
//!
//! - (a) a rescan reports no finding with a safe fix, and prints no new diagnostic (a Dockerfile
//!   or Terraform file that no longer parses gets one);
//! - (b) a second `--fix` changes no byte;
//! - (c) it still parses as what it was: YAML (every document; CloudFormation `!Tags` accepted),
//!   JSON, MIME, and every cloud-config, MIME part and base64 value nested in them
//!   (`tests/support/extract_scripts.py --check`);
//! - (d) every script the host runs (Secret `data` and write_files `encoding:` values decoded,
//!   cloud-init items joined, Dockerfile continuations joined, ...) passes `bash -n`, and
//!   `dash -n` when the host runs it with `sh`, wherever the original's did;
//! - (e) its line endings and blank lines are kept: a CRLF file gains no bare LF, and no blank
//!   line disappears (a fix only ever adds lines or rewrites the request's own);
//! - (f) it holds an expected finding (`# expect:` marker or `.expected` sidecar): a file with
//!   nothing to fix must not change.
//!
//! At least [`MIN_CHANGED_HOSTS`] files must change: every one of them was read by hand.
//!
//! `fixed_host_scripts_still_work_with_tokens_required`: every file in `fixtures/runnable-hosts/`
//! holds scripts written against IMDSv1. The scripts the host would run are extracted
//! (`extract_scripts.py FILE`) and run with bash or sh against the IMDS emulator
//! (`tests/support/imds_emulator.rs`, through `http_proxy`) in optional mode; then a copy of the
//! file is fixed, its scripts extracted again and run in required mode: same scripts, each exits
//! 0 with the same stdout and the same metadata reads, every request is answered 200, and the
//! file fetched at least one token. The fixed file must also scan clean and be a fixed point of
//! `--fix`. Then each script, before and after, runs where IMDS does not answer (nothing
//! listening, a container behind hop limit 1, a network that swallows everything) and must end
//! alike or hang alike (`tests/support/unanswered.rs`).
//!
//! Needs python3 with PyYAML, python-hcl2 (Packer HCL2 templates) and markdown-it-py, bash, dash (the first test), curl and GNU wget (the second; `.ci/run`
//! installs them all); a missing one fails the test.

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
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};
use tools::{require, BASH, CURL, DASH, GNU_WGET, MARKDOWN_IT, PYTHON_HCL2, PYYAML};
use unanswered::{Pair, Version};

/// Files of `fixtures/hosts/` that `--fix` changes. The 57 diffs at d0f101a were read by hand, and
/// so were the 51 added since (YAML duplicate keys and aliases, MIME read in place in
/// CloudFormation and Terraform, cfn-init, module cloud-init parts, makefiles), each by whoever
/// wrote the fixture, the 29 of issue 15's CI hosts (Ansible tasks, CodeBuild/CircleCI/Azure/
/// Bitbucket/Buildkite scripts, Jenkinsfile `sh` strings, `cloud-init-per` in bootcmd) and the 41
/// of its provisioning hosts (Image Builder components, SSM documents, Packer templates, cfn-init
/// files without a mode), the 21 code blocks of documentation and Helm templates of issue 15,
/// and the 2 Windows user data fixtures read as PowerShell since issue 14, the 13 CI files whose
/// PowerShell steps are read since (Azure, CircleCI, CodeBuild, GitHub Actions, Jenkinsfiles), and
/// the 9 Ansible `uri`/`get_url` playbooks of issue 15, and the 32 other fixtures with fixes added
/// with them (EC2Launch v2 user data, PowerShell grammar gaps, Windows Dockerfiles, Image Builder
/// `CreateFile` scripts, Helm flow sequences, console comments, quoted and literal base64 values):
/// each holds fixable findings and each change is the intended fix; fewer means a fix was lost.
const MIN_CHANGED_HOSTS: usize = 255;
const MIN_RUNNABLE_HOSTS: usize = 15;

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn extractor() -> PathBuf {
    manifest_dir().join("tests/support/extract_scripts.py")
}

// ------------------------------------------------------------------------------------------
// Running things

/// `imds-lint ARGS` in `dir`.
fn imds_lint(dir: &Path, args: &[&str]) -> Ran {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_imds-lint"));
    cmd.args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .env_remove("GITHUB_ACTIONS");
    run_bounded(cmd, None)
}

// ------------------------------------------------------------------------------------------
// Files

/// Every file under `root`, as sorted paths relative to it.
fn walk(root: &Path) -> Vec<PathBuf> {
    fn go(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                go(root, &path, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    go(root, root, &mut out);
    out.sort();
    out
}

fn snapshot(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    walk(root)
        .into_iter()
        .map(|rel| {
            let bytes = std::fs::read(root.join(&rel)).expect("read file");
            (rel, bytes)
        })
        .collect()
}

fn write_tree(root: &Path, files: &BTreeMap<PathBuf, Vec<u8>>) {
    for (rel, bytes) in files {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).expect("mkdir");
        std::fs::write(&path, bytes).expect("write file");
    }
}

fn unified_diff(before: &[u8], after: &[u8], name: &str) -> String {
    similar::TextDiff::from_lines(
        &*String::from_utf8_lossy(before),
        &*String::from_utf8_lossy(after),
    )
    .unified_diff()
    .header(&format!("{name} (original)"), &format!("{name} (fixed)"))
    .to_string()
}

/// `(line, code)` pairs a fixture expects: `# expect:` / `# expect-next:` markers and the
/// `NAME.expected` sidecar, read as `tests/fixtures.rs` reads them.
fn expected_codes(root: &Path, rel: &Path) -> Vec<String> {
    let mut codes = Vec::new();
    let text =
        String::from_utf8_lossy(&std::fs::read(root.join(rel)).unwrap_or_default()).into_owned();
    for line in text.lines() {
        for marker in ["# expect-next:", "# expect:"] {
            if let Some(at) = line.find(marker) {
                codes.extend(
                    line[at + marker.len()..]
                        .split(|c: char| c.is_whitespace() || c == ',')
                        .filter(|w| w.starts_with("IMDS"))
                        .map(str::to_owned),
                );
                break;
            }
        }
    }
    let sidecar = root.join(format!("{}.expected", rel.display()));
    if let Ok(text) = std::fs::read_to_string(sidecar) {
        for line in text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        {
            if let Some((_, code)) = line.split_once(' ') {
                codes.push(code.trim().to_owned());
            }
        }
    }
    codes
}

// ------------------------------------------------------------------------------------------
// extract_scripts.py

#[derive(Clone, Debug, Deserialize)]
struct Extracted {
    name: String,
    shell: String,
    script: String,
}

#[derive(Debug, Deserialize)]
struct Checked {
    kind: String,
    errors: Vec<String>,
    scripts: Vec<Extracted>,
}

/// `extract_scripts.py FILE`.
fn extract(path: &Path) -> Result<Vec<Extracted>, String> {
    let mut cmd = Command::new("python3");
    cmd.arg(extractor()).arg(path);
    let ran = run_bounded(cmd, None);
    if !ran.ok() {
        return Err(format!(
            "extract_scripts.py {} failed:\n{}",
            path.display(),
            ran.describe()
        ));
    }
    serde_json::from_slice(&ran.stdout).map_err(|e| {
        format!(
            "extract_scripts.py {} printed no JSON ({e}):\n{}",
            path.display(),
            ran.describe()
        )
    })
}

/// `extract_scripts.py --check FILE...` for the files `rels` under `root`.
fn check_files(root: &Path, rels: &[&PathBuf]) -> BTreeMap<PathBuf, Checked> {
    let mut cmd = Command::new("python3");
    cmd.arg(extractor()).arg("--check").current_dir(root);
    cmd.args(rels.iter().map(|r| r.as_os_str()));
    let ran = run_bounded(cmd, None);
    assert!(
        ran.ok(),
        "extract_scripts.py --check failed in {}:\n{}",
        root.display(),
        ran.describe()
    );
    let by_name: BTreeMap<String, Checked> = serde_json::from_slice(&ran.stdout)
        .unwrap_or_else(|e| panic!("extract_scripts.py --check printed no JSON ({e})"));
    by_name
        .into_iter()
        .map(|(name, checked)| (PathBuf::from(name), checked))
        .collect()
}

/// `SHELL -n` on a script: `None` when it parses, the complaint otherwise.
fn syntax_error(shell: &str, script: &str) -> Option<String> {
    let mut cmd = Command::new(shell);
    cmd.arg("-n");
    let ran = run_bounded(cmd, Some(script.as_bytes()));
    (!ran.ok()).then(|| {
        format!(
            "{shell} -n: {}",
            String::from_utf8_lossy(&ran.stderr).trim_end()
        )
    })
}

/// The shells that must accept a script the host runs with `shell`.
fn parsers(shell: &str) -> &'static [&'static str] {
    match shell {
        "sh" => &["bash", "dash"],
        // Checked with imds-lint's own grammar (`powershell_error`): PowerShell does not run here.
        "powershell" => &[],
        _ => &["bash"],
    }
}

/// For a PowerShell script: the complaint when the fixed one has more error or missing nodes
/// than the original under tree-sitter-powershell (the grammar the analysis reads it with).
fn powershell_error(fixed: &str, original: &str) -> Option<String> {
    let now = imds_lint::powershell::error_count(fixed.as_bytes())?;
    let was = imds_lint::powershell::error_count(original.as_bytes())?;
    (now > was)
        .then(|| format!("tree-sitter-powershell: {was} error nodes before the fix, {now} after"))
}

// ------------------------------------------------------------------------------------------
// Test 1

/// Lines of an `imds-lint` stderr that are diagnostics.
/// The diagnostics a scan printed, each without its `line N: ` (lines a fix inserts above a
/// diagnostic move it; that does not make it new).
fn diagnostics(stderr: &[u8]) -> BTreeSet<String> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter(|l| l.starts_with("imds-lint:"))
        .map(without_line)
        .collect()
}

fn without_line(diagnostic: &str) -> String {
    match diagnostic.find(": line ") {
        Some(at) => {
            let rest = &diagnostic[at + ": line ".len()..];
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            match rest[digits..].strip_prefix(": ") {
                Some(after) if digits > 0 => format!("{}: {after}", &diagnostic[..at]),
                _ => diagnostic.to_owned(),
            }
        }
        None => diagnostic.to_owned(),
    }
}

fn blank_lines(bytes: &[u8]) -> usize {
    bytes
        .split(|&b| b == b'\n')
        .filter(|line| line.iter().all(u8::is_ascii_whitespace))
        .count()
}

fn bare_lf(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b == b'\n' && (i == 0 || bytes[i - 1] != b'\r'))
        .count()
}

#[test]
fn fixed_hosts_still_parse_and_converge() {
    require(&[PYYAML, PYTHON_HCL2, MARKDOWN_IT, BASH, DASH]);
    let started = Instant::now();
    let hosts = manifest_dir().join("fixtures/hosts");
    let original = snapshot(&hosts);
    let tmp = tempfile::tempdir().expect("temp dir");
    let work = tmp.path().join("hosts");
    write_tree(&work, &original);
    // The reference scan runs on a second copy, so both see the same surroundings (no
    // imds-lint.toml of the checkout, say).
    let pristine = tmp.path().join("original");
    write_tree(&pristine, &original);

    let fix = imds_lint(&work, &["--fix", "."]);
    assert!(
        matches!(fix.code, Some(0 | 1)) && !fix.timed_out,
        "imds-lint --fix . must exit 0 or 1:\n{}",
        fix.describe()
    );
    let fixed = snapshot(&work);
    assert_eq!(
        original.keys().collect::<Vec<_>>(),
        fixed.keys().collect::<Vec<_>>(),
        "--fix must not add or remove files"
    );
    let changed: Vec<&PathBuf> = original
        .iter()
        .filter(|(rel, bytes)| fixed[*rel] != **bytes)
        .map(|(rel, _)| rel)
        .collect();

    let mut failures: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
    let mut fail = |rel: &Path, what: String| {
        failures.entry(rel.to_path_buf()).or_default().push(what);
    };

    // (a) Rescan: nothing safely fixable is left anywhere, and no new diagnostic.
    let before = imds_lint(&pristine, &["--format", "json", "."]);
    let rescan = imds_lint(&work, &["--format", "json", "."]);
    let json: serde_json::Value = serde_json::from_slice(&rescan.stdout)
        .unwrap_or_else(|e| panic!("rescan printed no JSON ({e}):\n{}", rescan.describe()));
    for finding in json["findings"].as_array().expect("findings array") {
        if finding["fix"]["applicability"] == "safe" {
            let path = finding["path"].as_str().unwrap_or("?");
            let rel = Path::new(path.strip_prefix("./").unwrap_or(path));
            fail(
                rel,
                format!(
                    "(a) still safely fixable after --fix: {}:{} {} {}",
                    finding["line"], finding["column"], finding["rule"], finding["message"]
                ),
            );
        }
    }
    let old = diagnostics(&before.stderr);
    for line in diagnostics(&rescan.stderr).difference(&old) {
        let rel = changed
            .iter()
            .find(|rel| line.contains(&rel.display().to_string()))
            .map_or_else(|| PathBuf::from("(scan)"), |rel| (*rel).clone());
        fail(&rel, format!("(a) new diagnostic on the rescan: {line}"));
    }

    // (b) A second --fix changes nothing.
    let again = imds_lint(&work, &["--fix", "."]);
    let refixed = snapshot(&work);
    for (rel, bytes) in &refixed {
        if fixed.get(rel) != Some(bytes) {
            fail(
                rel,
                format!(
                    "(b) a second --fix changed it (exit {:?}):\n{}",
                    again.code,
                    unified_diff(fixed.get(rel).map_or(&[][..], |b| b), bytes, "first fix")
                ),
            );
        }
    }

    // (c), (d) Still parses as what it was; its scripts still parse.
    let checked_fixed = check_files(&work, &changed);
    let checked_original = check_files(&pristine, &changed);
    let mut scripts_checked = 0;
    for rel in &changed {
        let (Some(now), Some(was)) = (checked_fixed.get(*rel), checked_original.get(*rel)) else {
            fail(
                rel,
                "(c) extract_scripts.py --check did not report it".into(),
            );
            continue;
        };
        if !now.errors.is_empty() && now.errors != was.errors {
            fail(
                rel,
                format!(
                    "(c) no longer parses as {}: {}",
                    was.kind,
                    now.errors.join("; ")
                ),
            );
            continue;
        }
        // A file fixed only in its instance metadata settings (IMDS010, IMDS011) may run no script.
        let script_fix = expected_codes(&hosts, rel)
            .iter()
            .any(|c| matches!(c.as_str(), "IMDS001" | "IMDS002" | "IMDS003"));
        if was.kind == "unknown" || (script_fix && was.scripts.is_empty()) {
            fail(
                rel,
                format!(
                    "(c) extract_scripts.py finds no script in it (kind {}), so nothing checks \
                     the fix: teach it this host",
                    was.kind
                ),
            );
        }
        let names = |c: &Checked| c.scripts.iter().map(|s| s.name.clone()).collect::<Vec<_>>();
        if names(now) != names(was) {
            fail(
                rel,
                format!(
                    "(d) the host runs other scripts after the fix: {:?}, before: {:?}",
                    names(now),
                    names(was)
                ),
            );
            continue;
        }
        for (script, old) in now.scripts.iter().zip(&was.scripts) {
            if script.shell == "powershell" {
                scripts_checked += 1;
                if let Some(error) = powershell_error(&script.script, &old.script) {
                    fail(
                        rel,
                        format!(
                            "(d) script `{}` (powershell) no longer parses: {error}\n--- the script\n{}",
                            script.name,
                            ensure_newline(&script.script)
                        ),
                    );
                }
            }
            for &shell in parsers(&script.shell) {
                scripts_checked += 1;
                let Some(error) = syntax_error(shell, &script.script) else {
                    continue;
                };
                if syntax_error(shell, &old.script).is_none() {
                    fail(
                        rel,
                        format!(
                            "(d) script `{}` ({}) no longer parses: {error}\n--- the script\n{}",
                            script.name,
                            script.shell,
                            ensure_newline(&script.script)
                        ),
                    );
                }
            }
        }
    }

    // (e) Line endings and blank lines, (f) only files with expected findings change.
    for rel in &changed {
        let (was, now) = (&original[*rel], &fixed[*rel]);
        if was.windows(2).any(|w| w == b"\r\n") && bare_lf(now) > bare_lf(was) {
            fail(
                rel,
                format!(
                    "(e) CRLF file: the fix added {} line(s) ending in a bare LF",
                    bare_lf(now) - bare_lf(was)
                ),
            );
        }
        if blank_lines(now) < blank_lines(was) {
            fail(
                rel,
                format!(
                    "(e) {} blank line(s) disappeared",
                    blank_lines(was) - blank_lines(now)
                ),
            );
        }
        let codes = expected_codes(&hosts, rel);
        if !codes.iter().any(|c| {
            matches!(
                c.as_str(),
                "IMDS001" | "IMDS002" | "IMDS003" | "IMDS010" | "IMDS011"
            )
        }) {
            fail(
                rel,
                format!("(f) changed, but it expects no fixable finding ({codes:?})"),
            );
        }
    }

    let list: Vec<String> = changed.iter().map(|r| r.display().to_string()).collect();
    eprintln!(
        "host_fixes: --fix changed {} of {} files in fixtures/hosts ({} script parses checked, \
         {:.1}s):\n  {}",
        changed.len(),
        original.len(),
        scripts_checked,
        started.elapsed().as_secs_f64(),
        list.join("\n  ")
    );
    let mut report = String::new();
    for (rel, problems) in &failures {
        let _ = writeln!(report, "=== {}", rel.display());
        for problem in problems {
            let _ = writeln!(report, "{problem}");
        }
        if let (Some(was), Some(now)) = (original.get(rel), fixed.get(rel)) {
            let _ = write!(
                report,
                "--- the fix\n{}",
                unified_diff(was, now, &rel.display().to_string())
            );
        }
        report.push('\n');
    }
    if changed.len() < MIN_CHANGED_HOSTS {
        let _ = write!(
            report,
            "=== --fix changed only {} files of fixtures/hosts (at least {MIN_CHANGED_HOSTS} \
             expected):\n  {}\n--fix said:\n{}",
            changed.len(),
            list.join("\n  "),
            String::from_utf8_lossy(&fix.stdout)
        );
    }
    assert!(
        report.is_empty(),
        "\n{} of {} changed host files have problems:\n\n{report}",
        failures.len(),
        changed.len()
    );
}

// ------------------------------------------------------------------------------------------
// Test 2

/// Metadata reads (every request but the token PUTs), in order.
fn reads(log: &[Logged]) -> Vec<String> {
    log.iter()
        .filter(|l| l.method != "PUT")
        .map(|l| format!("{} {}{}", l.method, l.host, l.path))
        .collect()
}

/// Runs one extracted script with its shell against a fresh emulator in `mode`.
fn run_extracted(script: &Extracted, mode: Mode) -> (Ran, Vec<Logged>) {
    let emu = Emulator::start(mode);
    let ran = run_extracted_with(script, &emu, TIMEOUT);
    (ran, emu.log())
}

/// Runs one extracted script with its shell against `emu`, killed after `limit`.
fn run_extracted_with(script: &Extracted, emu: &Emulator, limit: Duration) -> Ran {
    let work = tempfile::tempdir().expect("temp dir");
    let home = work.path().join("home");
    let cwd = work.path().join("cwd");
    std::fs::create_dir(&home).expect("mkdir home");
    std::fs::create_dir(&cwd).expect("mkdir cwd");
    let file = work.path().join("script");
    std::fs::write(&file, &script.script).expect("write script");
    let mut cmd = Command::new(&script.shell);
    cmd.arg(&file)
        .current_dir(&cwd)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("LC_ALL", "C")
        .env("http_proxy", emu.proxy_url())
        .env("HTTP_PROXY", emu.proxy_url());
    run_limited(cmd, None, limit)
}

/// A script a runnable host file runs, before and after `--fix`, with the PUTs the fixed one
/// made with tokens required.
struct Fixed {
    original: Extracted,
    fixed: Extracted,
    puts: usize,
}

/// One runnable host file, start to end; the failures, if any, and its scripts as fixed.
fn check_runnable(path: &Path) -> (Vec<String>, Vec<Fixed>) {
    let mut fixed_scripts = Vec::new();
    let failures = check_runnable_into(path, &mut fixed_scripts);
    (failures, fixed_scripts)
}

fn check_runnable_into(path: &Path, out: &mut Vec<Fixed>) -> Vec<String> {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let mut failures = Vec::new();

    // The original, IMDSv1 allowed.
    let scripts = match extract(path) {
        Ok(scripts) => scripts,
        Err(e) => return vec![e],
    };
    if scripts.is_empty() {
        return vec!["extract_scripts.py finds no script in it".into()];
    }
    if let Some(bad) = scripts
        .iter()
        .find(|s| s.shell != "bash" && s.shell != "sh")
    {
        return vec![format!("script `{}` has shell {:?}", bad.name, bad.shell)];
    }
    let mut reference = Vec::new();
    let mut tokenless = 0;
    for script in &scripts {
        let (ran, log) = run_extracted(script, Mode::Optional);
        tokenless += log
            .iter()
            .filter(|l| l.method != "PUT" && l.header("x-aws-ec2-metadata-token").is_none())
            .count();
        if !ran.ok() || log.iter().any(|l| l.status != 200) {
            failures.push(format!(
                "[original, optional mode] script `{}` ({}) must exit 0 with every request \
                 answered 200:\n{}\n  requests:\n{}--- the script\n{}",
                script.name,
                script.shell,
                ran.describe(),
                imds_emulator::describe_log(&log),
                ensure_newline(&script.script)
            ));
        }
        reference.push((ran, log));
    }
    if tokenless == 0 {
        failures.push("[original] no script reads metadata without a token".into());
    }
    if !failures.is_empty() {
        return failures;
    }

    // --fix on a copy.
    let dir = tempfile::tempdir().expect("temp dir");
    let copy = dir.path().join(&name);
    let bytes = std::fs::read(path).expect("read runnable host");
    std::fs::write(&copy, &bytes).expect("write copy");
    let fix = imds_lint(dir.path(), &["--fix", &name]);
    let fixed = std::fs::read(&copy).expect("read fixed copy");
    if !matches!(fix.code, Some(0 | 1)) || fix.timed_out {
        return vec![format!(
            "imds-lint --fix must exit 0 or 1:\n{}",
            fix.describe()
        )];
    }
    let diff = unified_diff(&bytes, &fixed, &name);
    if fixed == bytes {
        return vec!["--fix left it unchanged".into()];
    }
    let scan = imds_lint(dir.path(), &["--format", "json", &name]);
    match serde_json::from_slice::<serde_json::Value>(&scan.stdout) {
        Ok(json) => {
            let left: Vec<String> = json["findings"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|f| format!("{}:{} {}", f["line"], f["column"], f["rule"]))
                .collect();
            if !left.is_empty() {
                failures.push(format!("a scan of the fixed file finds {left:?}"));
            }
        }
        Err(e) => failures.push(format!(
            "rescan printed no JSON ({e}):\n{}",
            scan.describe()
        )),
    }
    imds_lint(dir.path(), &["--fix", &name]);
    if std::fs::read(&copy).expect("read copy") != fixed {
        failures.push("a second --fix changed it".into());
    }

    // The fixed scripts, IMDSv2 required.
    let fixed_scripts = match extract(&copy) {
        Ok(scripts) => scripts,
        Err(e) => {
            failures.push(e);
            failures.push(format!("--- the fix\n{diff}"));
            return failures;
        }
    };
    let names = |list: &[Extracted]| list.iter().map(|s| s.name.clone()).collect::<Vec<_>>();
    if names(&fixed_scripts) != names(&scripts) {
        failures.push(format!(
            "the fixed file runs other scripts: {:?}, the original: {:?}",
            names(&fixed_scripts),
            names(&scripts)
        ));
    }
    let mut puts = 0;
    for ((script, (original, original_log)), before) in
        fixed_scripts.iter().zip(&reference).zip(&scripts)
    {
        let (ran, log) = run_extracted(script, Mode::Required);
        let made = log.iter().filter(|l| l.method == "PUT").count();
        puts += made;
        out.push(Fixed {
            original: before.clone(),
            fixed: script.clone(),
            puts: made,
        });
        let mut wrong = Vec::new();
        if ran.timed_out || ran.code != Some(0) {
            wrong.push(format!("exit {:?}, the original's was 0", ran.code));
        }
        if ran.stdout != original.stdout {
            wrong.push(format!(
                "stdout differs from the original's\n--- original stdout (optional mode)\n{}",
                ensure_newline(&String::from_utf8_lossy(&original.stdout))
            ));
        }
        if log.iter().any(|l| l.status != 200) {
            wrong.push("not every request was answered 200".into());
        }
        if reads(&log) != reads(original_log) {
            wrong.push(format!(
                "other metadata reads than the original's:\n{}",
                imds_emulator::describe_log(original_log)
            ));
        }
        if !wrong.is_empty() {
            failures.push(format!(
                "[fixed, required mode] script `{}` ({}):\n{}\n--- fixed run\n{}\n  requests:\n{}\
                 --- the fixed script\n{}",
                script.name,
                script.shell,
                wrong.join("\n"),
                ran.describe(),
                imds_emulator::describe_log(&log),
                ensure_newline(&script.script)
            ));
        }
    }
    if puts == 0 {
        failures.push("[fixed, required mode] no script fetched a token".into());
    }
    if !failures.is_empty() {
        failures.push(format!("--- the fix\n{diff}"));
    }
    failures
}

#[test]
fn fixed_host_scripts_still_work_with_tokens_required() {
    require(&[PYYAML, BASH, CURL, GNU_WGET]);
    let dir = manifest_dir().join("fixtures/runnable-hosts");
    let files: Vec<PathBuf> = walk(&dir)
        .into_iter()
        .filter(|rel| {
            let name = rel.to_string_lossy();
            name != "README.md" && !name.ends_with(".expected")
        })
        .map(|rel| dir.join(rel))
        .collect();
    assert!(
        files.len() >= MIN_RUNNABLE_HOSTS,
        "only {} runnable host files in {} (at least {MIN_RUNNABLE_HOSTS} expected)",
        files.len(),
        dir.display()
    );
    let started = Instant::now();
    let next = AtomicUsize::new(0);
    let report = Mutex::new(Vec::<(usize, String)>::new());
    let fixed = Mutex::new(Vec::<(usize, Fixed)>::new());
    let workers = thread::available_parallelism()
        .map_or(2, |n| n.get() * 2)
        .clamp(2, 8);
    thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::SeqCst);
                let Some(path) = files.get(index) else {
                    break;
                };
                let (failures, scripts) = check_runnable(path);
                fixed
                    .lock()
                    .unwrap()
                    .extend(scripts.into_iter().map(|s| (index, s)));
                if !failures.is_empty() {
                    let rel = path.strip_prefix(manifest_dir()).unwrap_or(path);
                    let text = format!("=== {}\n{}\n", rel.display(), failures.join("\n"));
                    report.lock().unwrap().push((index, text));
                }
            });
        }
    });
    let required_took = started.elapsed();

    // Every script, as the fixed file runs it, where IMDS does not answer.
    let mut fixed = fixed.into_inner().unwrap();
    fixed.sort_by(|a, b| (a.0, &a.1.fixed.name).cmp(&(b.0, &b.1.fixed.name)));
    let rel = |index: usize| {
        files.get(index).map_or_else(String::new, |path| {
            let rel = path.strip_prefix(manifest_dir()).unwrap_or(path);
            rel.display().to_string()
        })
    };
    let pairs: Vec<Pair> = fixed
        .iter()
        .map(|(index, script)| Pair {
            name: format!("{} `{}`", rel(*index), script.fixed.name),
            fetches: script.puts,
            run: Box::new(move |version, emu, limit| {
                let which = match version {
                    Version::Original => &script.original,
                    Version::Fixed => &script.fixed,
                };
                run_extracted_with(which, emu, limit)
            }),
        })
        .collect();
    let unanswered = unanswered::compare_all(&pairs);
    for (pair, text) in &unanswered.failures {
        let Some((index, script)) = fixed.get(*pair) else {
            continue;
        };
        let text = format!(
            "=== {} `{}` ({})\n{text}\n--- the fixed script\n{}",
            rel(*index),
            script.fixed.name,
            script.fixed.shell,
            ensure_newline(&script.fixed.script)
        );
        report.lock().unwrap().push((*index, text));
    }

    let mut failed = report.into_inner().unwrap();
    failed.sort();
    eprintln!(
        "host_fixes: {} runnable host files ({} scripts), {} failed; tokens required: {:.1}s\n{}",
        files.len(),
        pairs.len(),
        failed.len(),
        required_took.as_secs_f64(),
        unanswered.summary()
    );
    assert!(
        failed.is_empty(),
        "\n{} of {} runnable host files failed:\n\n{}",
        failed.len(),
        files.len(),
        failed
            .into_iter()
            .map(|(_, t)| t)
            .collect::<Vec<_>>()
            .join("\n")
    );
}
