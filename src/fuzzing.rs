//! What the fuzzing targets in `fuzz/` run, as plain functions of the library, so that the
//! inputs in `fuzz/regressions/` are replayed by `cargo test` (`tests/fuzz_regressions.rs`)
//! without AFL. Each panics where an invariant breaks.

use std::path::PathBuf;

use crate::check::{check_file, CheckSettings, Outcome};
use crate::fix::apply::apply;
use crate::fix::Fix;
use crate::fragment::{self, HostSpan};

/// The file names the first byte of an input chooses from: one per front end the name selects
/// (the others are recognised by content: user data, MIME, gzip).
const NAMES: &[&str] = &[
    "script.sh",
    "Dockerfile",
    "user-data",
    "manifest.yaml",
    "template.json",
    "main.tf",
    ".gitlab-ci.yml",
    "workflow.yml",
];

/// The file names the first byte picks from when it is 240 or more: the front ends that came
/// after the first fuzzing campaigns (Python, makefiles, dependency manifests and lockfiles).
/// Bytes below 240 keep choosing from [`NAMES`] as before, so older inputs mean what they meant.
const LATER_NAMES: &[&str] = &[
    "tool.py",
    "Makefile",
    "rules.mk",
    "requirements.txt",
    "pyproject.toml",
    "package.json",
    "package-lock.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "go.mod",
    "pom.xml",
    "build.gradle",
    "Gemfile.lock",
    "app.csproj",
    "composer.lock",
    "Cargo.lock",
];

/// The file names the first byte picks from when it is 200 to 239: the front ends of the second
/// round (PowerShell, Jenkinsfiles, Packer, documentation, Helm, more manifests and lockfiles).
/// No seed or regression input started with these bytes before, so older inputs keep their
/// meaning.
const NEWER_NAMES: &[&str] = &[
    "script.ps1",
    "module.psm1",
    "Jenkinsfile",
    "build.pkr.hcl",
    "runbook.md",
    "notes.rst",
    "guide.adoc",
    "chart/templates/pod.yaml",
    "App.psd1",
    "vcpkg.json",
    "conanfile.txt",
    "conan.lock",
    "go.sum",
];

/// The file name the first byte of an input picks.
fn pick_name(pick: u8) -> &'static str {
    let (names, index) = match pick {
        240.. => (LATER_NAMES, usize::from(pick - 240)),
        200..=239 => (NEWER_NAMES, usize::from(pick - 200)),
        _ => (NAMES, usize::from(pick)),
    };
    names
        .get(index % names.len())
        .copied()
        .unwrap_or("script.sh")
}

/// Checks the input as a file of the kind its first byte picks, applies every fix it offers
/// (safe and unsafe), and checks the result again. Panics where an invariant breaks: a finding or
/// an edit outside the file.
pub fn check(data: &[u8]) {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let name = pick_name(pick);
    let settings = CheckSettings::default();
    let outcome = check_file(PathBuf::from(name), bytes.to_vec(), None, &settings);
    let Outcome::Checked { findings, .. } = &outcome else {
        return;
    };
    for finding in findings {
        assert!(
            finding.span.start.0 <= finding.span.end.0 && finding.span.end.0 <= bytes.len(),
            "finding span {:?} outside a file of {} bytes",
            finding.span,
            bytes.len()
        );
        for edit in finding.fix.iter().flat_map(|f| &f.edits) {
            assert!(
                edit.span.end.0 <= bytes.len(),
                "edit outside the file: {edit:?}"
            );
        }
    }
    let fixes: Vec<&Fix> = findings.iter().filter_map(|f| f.fix.as_ref()).collect();
    let fixed = apply(bytes, &fixes);
    if fixed.bytes != bytes {
        let again = check_file(PathBuf::from(name), fixed.bytes, None, &settings);
        drop(again);
    }
}

/// Decodes the input with every layer decoder and checks that each anchor (a decoded offset and
/// the input offset it came from) lies inside the decoded text and the input; encodes the
/// decoded text again. Panics where an invariant breaks.
pub fn layers(data: &[u8]) {
    let within = |what: &str, decoded: &str, anchors: &[(usize, usize)]| {
        for (at, from) in anchors {
            assert!(
                *at <= decoded.len() && *from <= data.len(),
                "{what}: anchor {at} -> {from} outside {} decoded and {} input bytes",
                decoded.len(),
                data.len()
            );
        }
    };
    let (text, map) = fragment::yaml_double::decode(data, 0);
    within("yaml_double", &text, &map);
    let _ = fragment::yaml_double::encode(&text);
    let (text, map) = fragment::yaml_single::decode(data, 0);
    within("yaml_single", &text, &map);
    let _ = fragment::yaml_single::encode(&text, "  ", "\n");
    let (text, map) = fragment::yaml_plain::decode(data, 0);
    within("yaml_plain", &text, &map);
    let _ = fragment::yaml_plain::encode(text.as_bytes());
    let _ = fragment::yaml_plain::folded_as_quoted(data, 0, 0);
    let _ = fragment::yaml_plain::plain_as_quoted(data, HostSpan::new(0, data.len()));
    let (text, map, _, _) = fragment::yaml_block::decode(data, 0, 0);
    within("yaml_block", &text, &map);
    let _ = fragment::yaml_block::encode(&text, "  ");
    let (text, map) = fragment::json_string::decode(data, 0);
    within("json_string", &text, &map);
    let _ = fragment::json_string::encode(&text);
    if let Some((decoded, codec)) = fragment::base64::decode(data) {
        let _ = codec.encode(&decoded);
    }
    if let Some(decoded) = fragment::gzip::decode(data) {
        let _ = fragment::gzip::encode(&decoded);
    }
    let escape = fragment::dockerfile_line::escape_char(data);
    let _ = fragment::dockerfile_line::blank_inner_comments(data, escape);
    let mut copy = data.to_vec();
    fragment::dockerfile_line::as_shell_continuations(&mut copy, escape);
    let _ = fragment::exec_form::encode(data);
    // Code blocks of documentation: every kept line inside its block, anchors inside the input.
    let blocks = fragment::markdown_fence::markdown_blocks(data)
        .into_iter()
        .chain(fragment::markdown_fence::rst_blocks(data))
        .chain(fragment::markdown_fence::asciidoc_blocks(data));
    for block in blocks {
        let (text, anchors) = fragment::markdown_fence::decode(data, &block);
        for (at, from) in &anchors {
            assert!(
                *at <= text.len() && *from <= data.len(),
                "markdown_fence: anchor {at} -> {from} outside {} decoded and {} input bytes",
                text.len(),
                data.len()
            );
        }
        let _ = fragment::markdown_fence::encode(&String::from_utf8_lossy(&text), &block.prefix);
    }
    // A Go template keeps its length, and its line breaks where they were.
    let blanked = fragment::go_template::blank(data);
    assert_eq!(
        blanked.text.len(),
        data.len(),
        "go_template: length changed"
    );
    for (i, b) in data.iter().enumerate() {
        if *b == b'\n' {
            assert_eq!(
                blanked.text.get(i),
                Some(&b'\n'),
                "go_template: line break moved"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::pick_name;

    #[test]
    fn bytes_below_200_pick_as_they_always_did_and_the_rest_pick_the_later_front_ends() {
        assert_eq!(pick_name(0), "script.sh");
        assert_eq!(pick_name(9), "Dockerfile");
        assert_eq!(pick_name(199), "workflow.yml");
        assert_eq!(pick_name(200), "script.ps1");
        assert_eq!(pick_name(203), "build.pkr.hcl");
        assert_eq!(pick_name(212), "go.sum");
        assert_eq!(pick_name(213), "script.ps1");
        assert_eq!(pick_name(240), "tool.py");
        assert_eq!(pick_name(241), "Makefile");
        assert_eq!(pick_name(255), "Cargo.lock");
    }
}
