//! AFL target: every encoding layer's decoder and encoder (`imds_lint_fuzz::layers`).
fn main() {
    afl::fuzz!(|data: &[u8]| {
        imds_lint_fuzz::layers(data);
    });
}
