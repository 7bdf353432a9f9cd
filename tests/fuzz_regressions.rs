//! Replays every input the fuzzers ever found a crash or hang with (`fuzz/regressions/`), and
//! the seed corpus (`fuzz/seeds/`), through the targets' bodies (`imds_lint::fuzzing`), so that a
//! fixed bug stays fixed without AFL on the machine.

use std::path::Path;

fn inputs(dir: &str) -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz").join(dir);
    let mut out = Vec::new();
    for target in ["check", "layers"] {
        let Ok(entries) = std::fs::read_dir(root.join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            out.push((
                format!("{target}:{}", path.display()),
                std::fs::read(&path).unwrap(),
            ));
        }
    }
    out
}

fn replay(dir: &str) -> usize {
    let mut count = 0;
    for (name, data) in inputs(dir) {
        if name.starts_with("check:") {
            imds_lint::fuzzing::check(&data);
        } else {
            imds_lint::fuzzing::layers(&data);
        }
        count += 1;
    }
    count
}

#[test]
fn seeds_pass_through_both_targets() {
    assert!(replay("seeds") > 50, "the seed corpus is missing");
}

#[test]
fn regression_inputs_stay_fixed() {
    replay("regressions");
}
