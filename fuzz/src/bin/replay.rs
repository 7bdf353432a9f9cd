//! Replays inputs without AFL: `cargo run --bin replay -- check|layers FILE…` runs each file
//! through the target, as the regression test in `tests/fuzz_regressions.rs` does.
fn main() {
    let mut args = std::env::args().skip(1);
    let target = args.next().unwrap_or_default();
    for path in args {
        let data = std::fs::read(&path).unwrap_or_default();
        match target.as_str() {
            "check" => imds_lint_fuzz::check(&data),
            "layers" => imds_lint_fuzz::layers(&data),
            other => {
                eprintln!("replay: unknown target `{other}` (check or layers)");
                std::process::exit(2);
            }
        }
        println!("ok {path}");
    }
}
