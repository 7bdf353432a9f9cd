//! What reading a file may cost in memory: inputs of a few MB, generated here (never committed),
//! go through the real binary, and the peak resident set of each child process
//! (`getrusage(RUSAGE_CHILDREN)`) must stay within a small multiple of the file. Files made to
//! exhaust the parser (brackets nested thousands deep, millions of one-byte tokens) are declined
//! with a note before they are parsed; a long stream of ordinary manifests is read whole, one
//! run of documents at a time.
//!
//! `RUSAGE_CHILDREN` reports the largest child waited for so far, so this file holds one test,
//! which runs its cases in the order of their bounds, smallest first: each bound then holds for
//! the case just run.

#[path = "support/run.rs"]
mod run;

use run::{imds_lint, text};

const MIB: u64 = 1 << 20;
const REQUEST: &str = "curl http://169.254.169.254/latest/meta-data/instance-id";

/// The largest resident set of the children waited for so far, in bytes.
fn children_peak() -> u64 {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes one `rusage` into the pointer it is given.
    let status = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    assert_eq!(status, 0);
    u64::try_from(usage.ru_maxrss).unwrap() * 1024
}

/// A file of `name` holding `text`, scanned alone; returns its standard output and error.
fn scan(dir: &std::path::Path, name: &str, contents: &str) -> (String, String) {
    std::fs::write(dir.join(name), contents).unwrap();
    let output = imds_lint(dir, &["--isolated", "--format", "concise", name]);
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{name}: {}",
        text(&output.stderr)
    );
    std::fs::remove_file(dir.join(name)).unwrap();
    (text(&output.stdout), text(&output.stderr))
}

#[test]
fn large_and_hostile_files_cost_a_small_multiple_of_their_size() {
    let dir = tempfile::tempdir().unwrap();
    let levels = 2_000_000;
    let cases: Vec<(&str, String, &str)> = vec![
        // JSON nested two million arrays deep (4 MB): once 3 GB.
        (
            "deep.json",
            format!(
                "{{\"x\": \"{REQUEST}\", \"Resources\": {}{}}}",
                "[".repeat(levels),
                "]".repeat(levels)
            ),
            "deep.json: the JSON: it nests more than 1000 brackets deep (`[` or `{`), past what is read; it was not analysed",
        ),
        // Objects in YAML flow style, nested as deep.
        (
            "deep.yaml",
            format!("x: {REQUEST}\nResources: {}1{}\n", "{a: ".repeat(levels / 2), "}".repeat(levels / 2)),
            "deep.yaml: the YAML: it nests more than 1000 brackets deep (`[` or `{`), past what is read; it was not analysed",
        ),
        // Two million numbers in one flat array: as costly to parse, though not deep.
        (
            "wide.json",
            format!("{{\"x\": \"{REQUEST}\", \"Resources\": [{}1]}}", "1,".repeat(levels)),
            "wide.json: the JSON: it has more than 524288 words and punctuation marks, more than one parse may hold in memory; it was not analysed",
        ),
        // HCL and shell nested as deep.
        (
            "deep.tf",
            format!("resource \"aws_instance\" \"a\" {{\n  tags = {}{}\n}}\n", "[".repeat(levels), "]".repeat(levels)),
            "deep.tf: the Terraform file could not be parsed: it has more than 524288 words and punctuation marks, more than one parse may hold in memory; it was not analysed",
        ),
        (
            "deep.sh",
            format!("#!/bin/sh\n{REQUEST}\nx={}{}\n", "$(".repeat(levels), ")".repeat(levels)),
            "deep.sh: it has more than 524288 words and punctuation marks, more than one parse may hold in memory; it was not analysed",
        ),
    ];
    let mut peak = 0;
    for (name, text, note) in &cases {
        let len = u64::try_from(text.len()).unwrap();
        assert!(len > 3 * MIB, "{name}: {len} bytes");
        let (stdout, stderr) = scan(dir.path(), name, text);
        assert!(stderr.contains(note), "{name}: {stderr}");
        assert!(!stdout.contains("IMDS"), "{name}: {stdout}");
        peak = children_peak();
        // The binary, the file and a few copies of it; nothing in proportion to its tokens.
        let bound = 32 * MIB + 8 * len;
        assert!(peak <= bound, "{name}: {} MiB for {len} bytes", peak / MIB);
    }

    // Ordinary manifests, 6 MB of them in one stream, are read whole (the request in the last
    // one is found), run by run: the trees of all of them are never held at once.
    let document = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {app: web, tier: \"frontend\"}\nspec:\n  replicas: 3\n  template:\n    spec:\n      containers:\n        - name: web\n          image: nginx:1.25\n          args: [\"--port\", \"8080\", \"--verbose\"]\n          env:\n            - name: MODE\n              value: production\n---\n";
    let mut bundle = document.repeat(6 * 1024 * 1024 / document.len());
    bundle.push_str(&format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: busybox\n    command: [\"sh\", \"-c\", \"{REQUEST}\"]\n"
    ));
    let last_line = bundle.lines().count();
    let len = u64::try_from(bundle.len()).unwrap();
    let (stdout, stderr) = scan(dir.path(), "bundle.yaml", &bundle);
    assert!(
        stdout.starts_with(&format!("bundle.yaml:{last_line}:")) && stdout.contains("IMDS001"),
        "{stdout}{stderr}"
    );
    assert!(!stderr.contains("not analysed"), "{stderr}");
    let bound = (48 * MIB + 16 * len).max(peak);
    let peak = children_peak();
    assert!(
        peak <= bound,
        "bundle.yaml: {} MiB for {len} bytes",
        peak / MIB
    );
}
