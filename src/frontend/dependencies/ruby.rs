//! Ruby: Gemfile.lock, whose `specs:` list the resolved gems (four spaces in) and their own
//! requirements (six spaces in, not read: the resolved gem is listed on its own).

use super::{span_in, Found};
use crate::model::dependency::{Declared, Ecosystem, Syntax};

pub(super) fn gemfile_lock(text: &str, found: &mut Found) {
    let mut in_specs = false;
    for line in text.lines() {
        if !line.starts_with(' ') {
            in_specs = false;
            continue;
        }
        if line.trim() == "specs:" {
            in_specs = true;
            continue;
        }
        let Some(entry) = line.strip_prefix("    ") else {
            continue;
        };
        if !in_specs || entry.starts_with(' ') {
            continue;
        }
        let Some((name, rest)) = entry.split_once(" (") else {
            continue;
        };
        let Some(version) = rest.strip_suffix(')') else {
            continue;
        };
        // `1.2.3-x86_64-linux`: the platform is not part of the version.
        let version = version.split('-').next().unwrap_or(version);
        found.add(
            Ecosystem::Rubygems,
            name,
            version,
            Syntax::Exact,
            span_in(text, version, 0),
            Declared::Lockfile,
        );
    }
}
