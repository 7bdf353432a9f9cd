//! `docs/rules/` holds one page per rule, generated from the rules table: this test fails when a
//! page differs from what the code generates, and `UPDATE_DOCS=1 cargo test --test docs` rewrites
//! them. Each page must also hold, word for word, what `imds-lint rule CODE` prints (the page without
//! its generated-file comment: the title, the table row with severity and fix, the documentation).

#[path = "support/run.rs"]
mod run;

use std::fs;
use std::path::{Path, PathBuf};

use imds_lint::rules;
use run::{imds_lint, text};

const REGENERATE: &str = "run `UPDATE_DOCS=1 cargo test --test docs` and commit docs/rules/";

fn docs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules")
}

/// Every generated page, by file name.
fn expected_pages() -> Vec<(String, String)> {
    let mut pages: Vec<(String, String)> = rules::all()
        .map(|rule| (format!("{}.md", rule.code), rules::doc_page(rule)))
        .collect();
    pages.push(("README.md".to_owned(), rules::doc_index()));
    pages
}

fn first_difference(expected: &str, actual: &str) -> String {
    similar::TextDiff::from_lines(actual, expected)
        .unified_diff()
        .context_radius(2)
        .header("on disk", "generated")
        .to_string()
}

#[test]
fn rule_pages_are_up_to_date() {
    let dir = docs_dir();
    let update = std::env::var_os("UPDATE_DOCS").is_some_and(|v| !v.is_empty() && v != "0");
    let pages = expected_pages();
    if update {
        fs::create_dir_all(&dir).unwrap();
        for (name, page) in &pages {
            fs::write(dir.join(name), page).unwrap();
        }
    }
    let mut problems = Vec::new();
    for (name, page) in &pages {
        match fs::read_to_string(dir.join(name)) {
            Ok(on_disk) if on_disk == *page => {}
            Ok(on_disk) => problems.push(format!(
                "docs/rules/{name} is out of date:\n{}",
                first_difference(page, &on_disk)
            )),
            Err(e) => problems.push(format!("docs/rules/{name}: {e}")),
        }
    }
    for entry in fs::read_dir(&dir).into_iter().flatten() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if !pages.iter().any(|(known, _)| *known == name) {
            problems.push(format!(
                "docs/rules/{name} belongs to no rule in the table (a retired rule stays in the \
                 table, marked removed)"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{}\n\n{REGENERATE}",
        problems.join("\n")
    );
}

/// The page is what `imds-lint rule CODE` prints (its table row included), under the comment
/// that says it is generated.
#[test]
fn pages_hold_what_imds_lint_rule_prints() {
    let dir = tempfile::tempdir().unwrap();
    for rule in rules::all() {
        let output = imds_lint(dir.path(), &["rule", rule.code]);
        assert!(output.status.success(), "imds-lint rule {}", rule.code);
        let printed = text(&output.stdout);
        let page = rules::doc_page(rule);
        // The page keeps imds-lint quiet on its own examples (`DOC_EXAMPLE_MARKER`).
        let mut lines: Vec<&str> = page
            .split_inclusive('\n')
            .filter(|line| *line != rules::DOC_EXAMPLE_MARKER)
            .collect();
        assert!(lines[0].starts_with("<!-- Generated"), "{}", lines[0]);
        assert_eq!(lines[1], format!("# {} {}\n", rule.code, rule.name));
        assert_eq!(lines[2], "\n");
        assert!(lines[3].starts_with("| code |"), "{}", lines[3]);
        assert!(lines[5].starts_with(&format!("| {} |", rule.code)));
        lines.remove(0);
        assert_eq!(
            lines.concat(),
            printed,
            "{}: page and `imds-lint rule`",
            rule.code
        );
    }
}

/// `doc_url` (human output, SARIF `helpUri`) names a page that exists in the repository.
#[test]
fn doc_urls_name_the_pages() {
    for rule in rules::all() {
        let url = rules::doc_url(rule.code);
        let relative = format!("blob/main/docs/rules/{}.md", rule.code);
        assert!(url.ends_with(&relative), "{url}");
        assert!(
            docs_dir().join(format!("{}.md", rule.code)).is_file(),
            "{url}"
        );
    }
}

/// The human format names the rule's page under each finding (as text when not on a terminal).
#[test]
fn human_output_links_to_the_rule_page() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("a.sh"),
        "#!/bin/sh\ncurl -s http://169.254.169.254/latest/meta-data/instance-id\n",
    )
    .unwrap();
    let output = imds_lint(dir.path(), &["--color", "never", "a.sh"]);
    let shown = text(&output.stdout);
    let expected = format!("IMDS001 tokenless-request ({})", rules::doc_url("IMDS001"));
    assert!(shown.contains(&expected), "{shown}");
    assert!(
        !shown.contains('\u{1b}'),
        "escape codes without colour: {shown}"
    );
}
