//! `--diff`: a unified diff of what `--fix` would change in one file, with `a/` and `b/` paths
//! as `git apply` and `patch -p1` take them.

use std::io::{self, Write};
use std::path::Path;

pub fn write(out: &mut impl Write, path: &Path, old: &[u8], new: &[u8]) -> io::Result<()> {
    let old = String::from_utf8_lossy(old);
    let new = String::from_utf8_lossy(new);
    let diff = similar::TextDiff::from_lines(old.as_ref(), new.as_ref());
    let shown = path.display().to_string();
    let name = shown.trim_start_matches("./").trim_start_matches('/');
    write!(
        out,
        "{}",
        diff.unified_diff()
            .context_radius(3)
            .header(&format!("a/{name}"), &format!("b/{name}"))
    )
}
