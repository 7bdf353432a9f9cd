//! AFL target: the whole per-file check of every front end, then its fixes (`imds_lint_fuzz::check`).
fn main() {
    afl::fuzz!(|data: &[u8]| {
        imds_lint_fuzz::check(data);
    });
}
