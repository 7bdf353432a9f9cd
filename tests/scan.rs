//! A whole run driven through the library, without the command line: the walk, the per-file
//! check, the pass across files and the fix rounds, on a temporary repository.

use std::path::PathBuf;

use imds_lint::check::CheckSettings;
use imds_lint::scan::fixes::{self, FixMode};
use imds_lint::scan::{self, Counters, Options};

fn write(dir: &std::path::Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_run_finds_links_and_fixes_across_files() {
    let dir = tempfile::tempdir().unwrap();
    // A Terraform setting that requires tokens, and its boot script in another file.
    write(
        dir.path(),
        "main.tf",
        "resource \"aws_instance\" \"web\" {\n  user_data = file(\"${path.module}/boot.sh\")\n  metadata_options {\n    http_tokens = \"required\"\n  }\n}\n",
    );
    let script = write(
        dir.path(),
        "boot.sh",
        "#!/bin/sh\ncurl -s http://169.254.169.254/latest/meta-data/instance-id\n",
    );
    write(dir.path(), "README.txt", "nothing to see\n");
    let options = Options::default();
    let counters = Counters::default();
    let mut results = scan::run(&[dir.path().to_path_buf()], &options, &counters);
    let found: Vec<(String, &str)> = results
        .files
        .iter()
        .flat_map(|c| {
            c.report.findings.iter().map(|f| {
                (
                    c.report
                        .source
                        .path
                        .file_name()
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                    f.rule.code,
                )
            })
        })
        .collect();
    // The request is tokenless (IMDS001) and breaks the boot of instances that require tokens
    // (IMDS012, at the request and at the setting, across the two files).
    assert!(
        found.contains(&("boot.sh".to_owned(), "IMDS001")),
        "{found:?}"
    );
    assert!(
        found.contains(&("boot.sh".to_owned(), "IMDS012")),
        "{found:?}"
    );
    assert!(
        found.contains(&("main.tf".to_owned(), "IMDS012")),
        "{found:?}"
    );
    assert_eq!(results.statistics.files_read, 3);
    assert_eq!(results.statistics.not_recognised, 1);
    assert!(results.diagnostics.is_empty(), "{:?}", results.diagnostics);

    // Fixing in memory (--diff) rewrites the script and, after the pass across files, leaves
    // no finding in either file; nothing is written.
    let report = fixes::apply(
        &mut results,
        &options.check,
        FixMode {
            unsafe_fixes: false,
            write: false,
        },
    );
    assert_eq!(report.files.len(), 1);
    let fixed = String::from_utf8(report.files[0].fixed.clone()).unwrap();
    assert!(
        fixed.contains("X-aws-ec2-metadata-token: $IMDS_TOKEN"),
        "{fixed}"
    );
    assert!(results.files.is_empty(), "findings left after fixing");
    assert_eq!(
        std::fs::read_to_string(&script).unwrap(),
        "#!/bin/sh\ncurl -s http://169.254.169.254/latest/meta-data/instance-id\n"
    );
}

#[test]
fn two_runs_in_one_process_keep_their_own_configuration() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "probe.sh",
        "#!/bin/sh\ncurl -s http://metadata.internal/latest/meta-data/instance-id\n",
    );
    let run = |check: CheckSettings| {
        let options = Options {
            check,
            ..Options::default()
        };
        let results = scan::run(&[dir.path().to_path_buf()], &options, &Counters::default());
        (
            results.statistics.prefiltered,
            results
                .files
                .iter()
                .map(|c| c.report.findings.len())
                .sum::<usize>(),
        )
    };
    // Without `extra-hosts` the file cannot reach IMDS and is never parsed.
    assert_eq!(run(CheckSettings::default()), (1, 0));
    let mut aliased = CheckSettings::default();
    aliased.set_extra_hosts(&["metadata.internal".to_owned()]);
    assert_eq!(
        run(aliased).0,
        0,
        "the configured host name is searched for"
    );
    // And a run after it does not inherit the other run's host names.
    assert_eq!(run(CheckSettings::default()), (1, 0));
}

/// A file fixed on disk by someone else between the read and the write (a second run): the
/// write is refused, and the file is reported as it is now — fixed, so no finding is left.
#[test]
fn a_file_changed_on_disk_is_reported_as_it_is_now() {
    let dir = tempfile::tempdir().unwrap();
    let script = write(
        dir.path(),
        "boot.sh",
        "#!/bin/sh\ncurl -s http://169.254.169.254/latest/meta-data/instance-id\n",
    );
    let options = Options::default();
    let mut results = scan::run(&[dir.path().to_path_buf()], &options, &Counters::default());
    assert_eq!(results.files.len(), 1);
    // Another run fixes it first.
    let mut other = scan::run(&[dir.path().to_path_buf()], &options, &Counters::default());
    let write = FixMode {
        unsafe_fixes: false,
        write: true,
    };
    fixes::apply(&mut other, &options.check, write);
    let fixed_by_other = std::fs::read_to_string(&script).unwrap();
    assert!(fixed_by_other.contains("api/token"));

    let report = fixes::apply(&mut results, &options.check, write);
    assert!(report.files.is_empty(), "written again: {:?}", report.files);
    assert_eq!(std::fs::read_to_string(&script).unwrap(), fixed_by_other);
    assert!(
        results.files.is_empty(),
        "a finding was left for the fixed file"
    );
    assert!(
        results
            .diagnostics
            .iter()
            .any(|d| d.message.contains("changed on disk since it was read")),
        "{:?}",
        results.diagnostics
    );
}
