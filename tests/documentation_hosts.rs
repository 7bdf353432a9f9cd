//! Code blocks in documentation and Helm templates, checked against independent readers.
//!
//! - `fence_layer_reads_what_markdown_it_reads`: for every Markdown fixture in
//!   `fixtures/hosts/markdown/` (and its `.fixed`), the tagged fences imds-lint's fence layer
//!   finds are the ones markdown-it-py (CommonMark) finds, at the same line with the same tag, and
//!   hold the same text (console blocks aside, whose output lines the layer leaves out).
//! - `fixed_markdown_keeps_its_fences`: a `.fixed` Markdown file parses to the same fences as its
//!   input, with the same info strings, each holding the input's text in order (a fix only adds
//!   text).
//! - `fixed_helm_templates_keep_every_action`: in every `.fixed` template of
//!   `fixtures/hosts/helm/`, the template actions (`{{ … }}`, found with a plain regex, not the
//!   project's parser) are those of the input, byte for byte and in order.
//!
//! Needs python3 with markdown-it-py (`.ci/run` installs it); a missing one fails the test.

#[path = "support/tools.rs"]
mod tools;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use imds_lint::fragment::markdown_fence;

fn fixtures(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/hosts")
        .join(dir)
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
    out.sort();
}

#[derive(Debug, serde::Deserialize, Clone, PartialEq)]
struct Fence {
    info: String,
    content: String,
    line: usize,
}

/// The fences markdown-it-py reads in each file.
fn markdown_it(paths: &[PathBuf]) -> BTreeMap<String, Vec<Fence>> {
    tools::require(&[tools::MARKDOWN_IT]);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/markdown_fences.py");
    let output = Command::new("python3")
        .arg(script)
        .args(paths)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "markdown_fences.py: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn markdown_files() -> Vec<PathBuf> {
    let mut all = Vec::new();
    files(&fixtures("markdown"), &mut all);
    all.into_iter()
        .filter(|p| {
            let name = p.to_string_lossy();
            name.ends_with(".md") || name.ends_with(".md.fixed")
        })
        .collect()
}

fn tag(info: &str) -> String {
    info.split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}

#[test]
fn fence_layer_reads_what_markdown_it_reads() {
    let paths = markdown_files();
    assert!(paths.len() >= 12, "{} Markdown fixtures", paths.len());
    let read = markdown_it(&paths);
    let mut failures = Vec::new();
    for path in &paths {
        let bytes = std::fs::read(path).unwrap();
        let ours = markdown_fence::markdown_blocks(&bytes);
        let theirs: Vec<&Fence> = read[&path.to_string_lossy().into_owned()]
            .iter()
            .filter(|f| !tag(&f.info).is_empty())
            .collect();
        let name = path.file_name().unwrap().to_string_lossy();
        let ours_at: Vec<(usize, String)> = ours.iter().map(|b| (b.line, b.tag.clone())).collect();
        let theirs_at: Vec<(usize, String)> =
            theirs.iter().map(|f| (f.line, tag(&f.info))).collect();
        if ours_at != theirs_at {
            failures.push(format!(
                "{name}: fences {ours_at:?}, markdown-it {theirs_at:?}"
            ));
            continue;
        }
        for (block, fence) in ours.iter().zip(&theirs) {
            if markdown_fence::is_console(&block.tag) {
                continue;
            }
            let (text, _) = markdown_fence::decode(&bytes, block);
            let text = String::from_utf8(text).unwrap().replace("\r\n", "\n");
            if text != fence.content {
                failures.push(format!(
                    "{name}:{}: decoded {text:?}, markdown-it {:?}",
                    block.line + 1,
                    fence.content
                ));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}\n", failures.join("\n"));
}

/// Whether `outer` is `inner` with text added: `inner`'s characters (blanks and line breaks
/// aside, since a fix may split a line) a subsequence of `outer`'s.
fn in_order(inner: &str, outer: &str) -> bool {
    let mut rest = outer.chars().filter(|c| !c.is_whitespace());
    inner
        .chars()
        .filter(|c| !c.is_whitespace())
        .all(|c| rest.any(|d| d == c))
}

#[test]
fn fixed_markdown_keeps_its_fences() {
    let paths = markdown_files();
    let read = markdown_it(&paths);
    let mut failures = Vec::new();
    let mut cases = 0;
    for fixed in paths
        .iter()
        .filter(|p| p.to_string_lossy().ends_with(".fixed"))
    {
        cases += 1;
        let input = fixed
            .to_string_lossy()
            .trim_end_matches(".fixed")
            .to_owned();
        let before = &read[&input];
        let after = &read[&fixed.to_string_lossy().into_owned()];
        let infos = |v: &[Fence]| v.iter().map(|f| f.info.clone()).collect::<Vec<_>>();
        if infos(before) != infos(after) {
            failures.push(format!(
                "{input}: fences {:?} became {:?}",
                infos(before),
                infos(after)
            ));
            continue;
        }
        for (b, a) in before.iter().zip(after) {
            // A setting's fix rewrites its value; a request's fix only adds text.
            let expected = b.content.replace("\"optional\"", "\"required\"");
            if !in_order(&expected, &a.content) {
                failures.push(format!(
                    "{input}: the fence at line {} lost lines:\n{}\nbecame\n{}",
                    b.line + 1,
                    b.content,
                    a.content
                ));
            }
        }
    }
    assert!(cases >= 10, "{cases} fixed Markdown fixtures");
    assert!(failures.is_empty(), "\n{}\n", failures.join("\n"));
}

#[test]
fn fixed_helm_templates_keep_every_action() {
    let action = regex::Regex::new(r"(?s)\{\{.*?\}\}").unwrap();
    let mut all = Vec::new();
    files(&fixtures("helm"), &mut all);
    let mut failures = Vec::new();
    let mut changed = 0;
    for fixed in all
        .iter()
        .filter(|p| p.to_string_lossy().ends_with(".fixed"))
    {
        let input = PathBuf::from(fixed.to_string_lossy().trim_end_matches(".fixed"));
        let before = std::fs::read_to_string(&input).unwrap();
        let after = std::fs::read_to_string(fixed).unwrap();
        if before != after {
            changed += 1;
        }
        let actions = |t: &str| {
            action
                .find_iter(t)
                .map(|m| m.as_str().to_owned())
                .collect::<Vec<_>>()
        };
        if actions(&before) != actions(&after) {
            failures.push(format!(
                "{}: actions {:?} became {:?}",
                input.display(),
                actions(&before),
                actions(&after)
            ));
        }
    }
    assert!(changed >= 8, "{changed} fixed Helm templates");
    assert!(failures.is_empty(), "\n{}\n", failures.join("\n"));
}

/// Text inserted after a block's last line (a setting added at the end of the manifest a list
/// item's block holds: its options block without `httpTokens`) goes before the closing fence,
/// each new line with the block's indentation; the closing fence keeps its own.
#[test]
fn text_inserted_at_the_end_of_a_block_keeps_the_fence() {
    let input = "1. Apply:\n\n   ```yaml\n   apiVersion: infrastructure.cluster.x-k8s.io/v1beta2\n   kind: AWSMachineTemplate\n   metadata:\n     name: md-0\n   spec:\n     template:\n       spec:\n         instanceMetadataOptions:\n           httpEndpoint: enabled\n   ```\n";
    let expected = "1. Apply:\n\n   ```yaml\n   apiVersion: infrastructure.cluster.x-k8s.io/v1beta2\n   kind: AWSMachineTemplate\n   metadata:\n     name: md-0\n   spec:\n     template:\n       spec:\n         instanceMetadataOptions:\n           httpEndpoint: enabled\n           httpTokens: required\n   ```\n";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("capa.md");
    std::fs::write(&path, input).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_imds-lint"))
        .args(["--unsafe-fixes", "--fix", "capa.md"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        output.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), expected);
}

/// Untagged code blocks are not read, and not in silence: `--statistics` counts those that name
/// the metadata service, in each format (`untagged-blocks.md` has two, an untagged one without
/// the address and a `text` one, which are not counted; the `.rst` file two, a literal block and
/// a `code-block` without a language, and not its `::` block without the address, its `note`
/// or its `text` block; the `.adoc` file two, a listing block and a `[source]` one, and not its
/// literal block without the address or its `[source,text]` block), and no file has findings.
#[test]
fn untagged_blocks_with_a_metadata_address_are_counted() {
    for file in [
        "untagged-blocks.md",
        "untagged-blocks.rst",
        "untagged-blocks.adoc",
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_imds-lint"))
            .args(["--statistics", file])
            .current_dir(fixtures("markdown"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{file}: {stderr}");
        assert!(
            stderr.contains("untagged code blocks with a metadata address (not analysed): 2\n"),
            "{file}: {stderr}"
        );
    }
}
