//! Runs the real binary over every fixture and compares its findings with the expectations
//! written by hand in the fixtures: `# expect: CODES` on the line where a finding starts,
//! `# expect-next: CODES` on the line before it (both give the line only), or a sidecar
//! `NAME.expected` listing `LINE:COLUMN CODE` (or `LINE CODE`) for files where no comment can go;
//! a column given must be the finding's, counted in characters from 1. Missed and unexpected
//! findings are reported apart, with the fixture's path, line and column.

#[path = "support/tools.rs"]
mod tools;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where a finding starts and its code. Expectations may leave the column out (inline markers
/// cannot say it); findings always have one.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Mark {
    line: usize,
    column: Option<usize>,
    code: String,
}

impl Mark {
    /// Whether the finding `found` is what this expectation asks for.
    fn matches(&self, found: &Mark) -> bool {
        self.line == found.line
            && self.code == found.code
            && self.column.is_none_or(|c| found.column == Some(c))
    }
}

impl std::fmt::Display for Mark {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.column {
            Some(column) => write!(f, "{}:{column}: {}", self.line, self.code),
            None => write!(f, "{}: {}", self.line, self.code),
        }
    }
}

type Expectations = BTreeMap<String, Vec<Mark>>;

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn codes_after(line: &str, marker: &str) -> Option<Vec<String>> {
    let at = line.find(marker)?;
    let rest = &line[at + marker.len()..];
    Some(
        rest.split(|c: char| c.is_whitespace() || c == ',')
            .take_while(|w| w.starts_with("IMDS") || w.is_empty())
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect(),
    )
}

/// One line of a sidecar: `LINE:COLUMN CODE` or `LINE CODE`.
fn sidecar_mark(text: &str) -> Option<Mark> {
    let (position, code) = text.trim().split_once(' ')?;
    let code = code.trim();
    if !code.starts_with("IMDS") || code.contains(char::is_whitespace) {
        return None;
    }
    let (line, column) = match position.split_once(':') {
        Some((line, column)) => (line, Some(column.parse().ok()?)),
        None => (position, None),
    };
    Some(Mark {
        line: line.parse().ok()?,
        column,
        code: code.to_owned(),
    })
}

fn expectations(root: &Path) -> (Expectations, usize) {
    let mut all = Expectations::new();
    let mut paths = Vec::new();
    files(root, &mut paths);
    let mut cases = 0;
    for path in &paths {
        let name = path.file_name().unwrap().to_string_lossy();
        if name == "README.md" || name.ends_with(".fixed") {
            continue;
        }
        let rel = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if let Some(target) = rel.strip_suffix(".expected") {
            let text = std::fs::read_to_string(path).unwrap();
            for (index, line) in text.lines().enumerate() {
                if line.trim().is_empty() || line.starts_with('#') {
                    continue;
                }
                let mark = sidecar_mark(line).unwrap_or_else(|| {
                    panic!(
                        "{rel}:{}: expected `LINE:COLUMN CODE` or `LINE CODE`, found {line:?}",
                        index + 1
                    )
                });
                all.entry(target.to_owned()).or_default().push(mark);
            }
            continue;
        }
        cases += 1;
        let bytes = std::fs::read(path).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        let entry = all.entry(rel.clone()).or_default();
        let line_only = |line, code| Mark {
            line,
            column: None,
            code,
        };
        for (index, line) in text.split('\n').enumerate() {
            if let Some(codes) = codes_after(line, "# expect-next:") {
                entry.extend(codes.into_iter().map(|c| line_only(index + 2, c)));
            } else if let Some(codes) = codes_after(line, "# expect:") {
                entry.extend(codes.into_iter().map(|c| line_only(index + 1, c)));
            }
        }
    }
    (all, cases)
}

fn actual(root: &Path) -> Expectations {
    let output = Command::new(env!("CARGO_BIN_EXE_imds-lint"))
        .args(["--format", "json", "--no-ignore", "."])
        .current_dir(root)
        .output()
        .unwrap();
    assert!(
        output.status.code() == Some(0) || output.status.code() == Some(1),
        "imds-lint failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let mut found = Expectations::new();
    for finding in json["findings"].as_array().unwrap() {
        let path = finding["path"].as_str().unwrap();
        let path = path.strip_prefix("./").unwrap_or(path).to_owned();
        // Expected outputs of --fix are scripts too; their own checks are in the test below.
        if path.ends_with(".fixed") {
            continue;
        }
        found.entry(path).or_default().push(Mark {
            line: finding["line"].as_u64().unwrap() as usize,
            column: Some(finding["column"].as_u64().unwrap() as usize),
            code: finding["rule"].as_str().unwrap().to_owned(),
        });
    }
    found
}

/// Pairs expectations with findings: `(missed, noisy)`, the expectations no finding met and the
/// findings no expectation asked for. Expectations with a column are paired first, so a line-only
/// one cannot take the finding a column names.
fn compare(mut want: Vec<Mark>, mut got: Vec<Mark>) -> (Vec<Mark>, Vec<Mark>) {
    want.sort_by_key(|mark| (mark.column.is_none(), mark.clone()));
    got.sort();
    let mut missed = Vec::new();
    for mark in want {
        match got.iter().position(|g| mark.matches(g)) {
            Some(i) => {
                got.remove(i);
            }
            None => missed.push(mark),
        }
    }
    missed.sort();
    (missed, got)
}

fn mark(line: usize, column: Option<usize>, code: &str) -> Mark {
    Mark {
        line,
        column,
        code: code.to_owned(),
    }
}

#[test]
fn a_sidecar_column_must_be_the_findings() {
    let found = vec![mark(9, Some(68), "IMDS003"), mark(9, Some(222), "IMDS001")];
    // Right columns, or none: all met.
    let want = vec![mark(9, Some(68), "IMDS003"), mark(9, None, "IMDS001")];
    assert_eq!(compare(want, found.clone()), (vec![], vec![]));
    // A wrong column is missed, and the finding at the right one is noisy.
    let want = vec![mark(9, Some(68), "IMDS003"), mark(9, Some(221), "IMDS001")];
    assert_eq!(
        compare(want, found.clone()),
        (
            vec![mark(9, Some(221), "IMDS001")],
            vec![mark(9, Some(222), "IMDS001")]
        )
    );
    // Two findings of one code on one line: the line-only expectation takes the one the column
    // does not name, whatever the order they are written in.
    let twice = vec![mark(3, Some(1), "IMDS001"), mark(3, Some(20), "IMDS001")];
    let want = vec![mark(3, None, "IMDS001"), mark(3, Some(1), "IMDS001")];
    assert_eq!(compare(want, twice), (vec![], vec![]));
}

#[test]
fn sidecar_lines_parse_with_or_without_a_column() {
    assert_eq!(
        sidecar_mark("15:16 IMDS001"),
        Some(mark(15, Some(16), "IMDS001"))
    );
    assert_eq!(sidecar_mark("5 IMDS010"), Some(mark(5, None, "IMDS010")));
    for bad in [
        "15:x IMDS001",
        "15:16",
        "15:16 curl",
        "x IMDS001",
        "15:16 IMDS001 IMDS002",
    ] {
        assert_eq!(sidecar_mark(bad), None, "{bad}");
    }
}

#[test]
fn every_fixture_gives_exactly_its_expected_findings() {
    let root = fixtures_dir();
    let (mut expected, cases) = expectations(&root);
    let mut found = actual(&root);
    let mut missed = Vec::new();
    let mut noisy = Vec::new();
    let paths: std::collections::BTreeSet<String> =
        expected.keys().chain(found.keys()).cloned().collect();
    for path in paths {
        let want = expected.remove(&path).unwrap_or_default();
        let got = found.remove(&path).unwrap_or_default();
        let (m, n) = compare(want, got);
        missed.extend(m.iter().map(|mark| format!("{path}:{mark}")));
        noisy.extend(n.iter().map(|mark| format!("{path}:{mark}")));
    }
    assert!(cases >= 60, "only {cases} fixture cases");
    assert!(
        missed.is_empty() && noisy.is_empty(),
        "\nmissed (expected, not reported):\n  {}\nnoisy (reported, not expected):\n  {}\n",
        missed.join("\n  "),
        noisy.join("\n  ")
    );
}

/// Runs `imds-lint` with `args` in `dir`.
fn run(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_imds-lint"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// The findings with a safe fix when `target` is scanned in `dir`: `path:line:column RULE`.
fn safely_fixable(dir: &Path, target: &str) -> Vec<String> {
    let rescan = run(dir, &["--format", "json", target]);
    let json: serde_json::Value = serde_json::from_slice(&rescan.stdout).unwrap();
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["fix"]["applicability"] == "safe")
        .map(|f| format!("{}:{}:{} {}", f["path"], f["line"], f["column"], f["rule"]))
        .collect()
}

/// Directories of cases whose files belong together (a setting in one file, its boot script in
/// another): each case directory is fixed as a whole by `linked_cases_are_what_fix_writes`.
const LINKED: &[&str] = &[
    "settings/capa-boot",
    "settings/terraform-boot",
    "settings/packer-boot",
    "settings/containers",
    "dependencies/fix",
];

/// Every `NAME.fixed` beside a fixture is what `--fix NAME` must write, byte for byte. The fixed
/// file must also be a fixed point (a second `--fix` changes nothing), still parse with `bash -n`
/// (and `sh -n` for `#!/bin/sh` scripts), and hold nothing fixable when scanned again.
#[test]
fn fixed_files_are_what_fix_writes() {
    tools::require(&[tools::BASH]);
    let root = fixtures_dir();
    let mut paths = Vec::new();
    files(&root, &mut paths);
    let mut failures = Vec::new();
    let mut cases = 0;
    for expected_path in paths
        .iter()
        .filter(|p| p.to_string_lossy().ends_with(".fixed"))
        .filter(|p| !LINKED.iter().any(|dir| p.starts_with(root.join(dir))))
    {
        cases += 1;
        let input_path = PathBuf::from(expected_path.to_string_lossy().trim_end_matches(".fixed"));
        let rel = input_path
            .strip_prefix(&root)
            .unwrap()
            .display()
            .to_string();
        let dir = tempfile::tempdir().unwrap();
        let name = input_path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let copy = dir.path().join(&name);
        std::fs::copy(&input_path, &copy).unwrap();
        run(dir.path(), &["--fix", &name]);
        let fixed = std::fs::read(&copy).unwrap();
        let expected = std::fs::read(expected_path).unwrap();
        if fixed != expected {
            let diff = similar::TextDiff::from_lines(
                &*String::from_utf8_lossy(&expected),
                &*String::from_utf8_lossy(&fixed),
            )
            .unified_diff()
            .header("expected", "written by --fix")
            .to_string();
            failures.push(format!("{rel}: --fix wrote something else:\n{diff}"));
            continue;
        }
        run(dir.path(), &["--fix", &name]);
        if std::fs::read(&copy).unwrap() != fixed {
            failures.push(format!("{rel}: a second --fix changed the file again"));
        }
        // Shell scripts must still parse; other hosts are checked by tests/host_fixes.rs.
        let is_script =
            name.ends_with(".sh") || name.ends_with(".bash") || fixed.starts_with(b"#!");
        let shells: &[&str] = if !is_script {
            &[]
        } else if fixed.starts_with(b"#!/bin/sh") {
            &["bash", "sh"]
        } else {
            &["bash"]
        };
        for shell in shells {
            let check = Command::new(shell).arg("-n").arg(&copy).output().unwrap();
            if !check.status.success() {
                failures.push(format!(
                    "{rel}: the fixed file does not parse with {shell} -n: {}",
                    String::from_utf8_lossy(&check.stderr)
                ));
            }
        }
        let fixable = safely_fixable(dir.path(), &name);
        if !fixable.is_empty() {
            failures.push(format!("{rel}: still fixable after --fix: {fixable:?}"));
        }
    }
    assert!(cases > 0, "no .fixed cases");
    assert!(failures.is_empty(), "\n{}\n", failures.join("\n"));
}

/// A linked case directory (see [`LINKED`]) is copied whole and fixed with `--fix .`: every file
/// with a `NAME.fixed` beside it must become that, byte for byte, and every other file must stay
/// as it was; a second `--fix` changes nothing, and nothing safely fixable is left.
#[test]
fn linked_cases_are_what_fix_writes() {
    let root = fixtures_dir();
    let mut failures = Vec::new();
    let mut cases = 0;
    let mut fixed_files = 0;
    let mut unsafe_cases = 0;
    for parent in LINKED {
        for case in std::fs::read_dir(root.join(parent)).unwrap() {
            let case = case.unwrap().path();
            if !case.is_dir() {
                continue;
            }
            cases += 1;
            let rel = case.strip_prefix(&root).unwrap().display().to_string();
            let dir = tempfile::tempdir().unwrap();
            let mut inputs = Vec::new();
            files(&case, &mut inputs);
            inputs.retain(|p| !p.to_string_lossy().ends_with(".fixed"));
            for input in &inputs {
                let copy = dir.path().join(input.strip_prefix(&case).unwrap());
                std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
                std::fs::copy(input, &copy).unwrap();
            }
            run(dir.path(), &["--fix", "."]);
            let snapshot = |failures: &mut Vec<String>, when: &str| {
                for input in &inputs {
                    let name = input.strip_prefix(&case).unwrap();
                    let expected_path = PathBuf::from(format!("{}.fixed", input.display()));
                    let expected = std::fs::read(&expected_path)
                        .or_else(|_| std::fs::read(input))
                        .unwrap();
                    let written = std::fs::read(dir.path().join(name)).unwrap();
                    if written != expected {
                        let diff = similar::TextDiff::from_lines(
                            &*String::from_utf8_lossy(&expected),
                            &*String::from_utf8_lossy(&written),
                        )
                        .unified_diff()
                        .header("expected", "written by --fix")
                        .to_string();
                        failures.push(format!("{rel}/{} {when}:\n{diff}", name.display()));
                    }
                }
            };
            snapshot(&mut failures, "after --fix");
            fixed_files += inputs
                .iter()
                .filter(|i| PathBuf::from(format!("{}.fixed", i.display())).exists())
                .count();
            run(dir.path(), &["--fix", "."]);
            snapshot(&mut failures, "after a second --fix");
            let fixable = safely_fixable(dir.path(), ".");
            if !fixable.is_empty() {
                failures.push(format!("{rel}: still fixable after --fix: {fixable:?}"));
            }
            // `NAME.unsafe.fixed`: what `--fix --unsafe-fixes` writes (a fresh copy); the other
            // files become their `.fixed`, or stay as they are.
            let unsafe_expected =
                |input: &Path| PathBuf::from(format!("{}.unsafe.fixed", input.display()));
            if inputs.iter().any(|i| unsafe_expected(i).exists()) {
                unsafe_cases += 1;
                let dir = tempfile::tempdir().unwrap();
                for input in &inputs {
                    let copy = dir.path().join(input.strip_prefix(&case).unwrap());
                    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
                    std::fs::copy(input, &copy).unwrap();
                }
                run(dir.path(), &["--fix", "--unsafe-fixes", "."]);
                for input in &inputs {
                    let name = input.strip_prefix(&case).unwrap();
                    let expected = std::fs::read(unsafe_expected(input))
                        .or_else(|_| std::fs::read(format!("{}.fixed", input.display())))
                        .or_else(|_| std::fs::read(input))
                        .unwrap();
                    let written = std::fs::read(dir.path().join(name)).unwrap();
                    if written != expected {
                        let diff = similar::TextDiff::from_lines(
                            &*String::from_utf8_lossy(&expected),
                            &*String::from_utf8_lossy(&written),
                        )
                        .unified_diff()
                        .header("expected", "written by --fix --unsafe-fixes")
                        .to_string();
                        failures.push(format!(
                            "{rel}/{} after --fix --unsafe-fixes:\n{diff}",
                            name.display()
                        ));
                    }
                }
            }
        }
    }
    assert!(unsafe_cases >= 3, "{unsafe_cases} cases with unsafe fixes");
    assert!(
        cases >= 11 && fixed_files >= 9,
        "{cases} cases, {fixed_files} fixed files"
    );
    assert!(failures.is_empty(), "\n{}\n", failures.join("\n"));
}
