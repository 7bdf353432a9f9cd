//! YAML and JSON files that may carry scripts: each document is read as what its shape says — a
//! Kubernetes object (`apiVersion` and `kind`; eksctl's `ClusterConfig` has them too), a
//! CloudFormation template (`Resources` of `AWS::` types), a GitHub Actions workflow (`jobs` with
//! `steps`), a GitLab CI file (jobs with `script`). (cloud-config is recognised by its first
//! line, whatever the file's name.)

use super::{cloudformation, eksctl, kubernetes, workflow, yaml, Parsed};
use crate::fragment::HostId;

pub fn parse(bytes: &[u8], host: HostId) -> Parsed {
    let mut parsed = Parsed::default();
    // Diagnostics name the file by what it is (the YAML parser reads both).
    let format = if is_json(bytes) { "JSON" } else { "YAML" };
    let trees = match yaml::parse_documents(bytes) {
        Ok(trees) => trees,
        Err(why) => {
            parsed.diagnostics.push(format!("the {format}: {why}"));
            return parsed;
        }
    };
    if trees.iter().any(|tree| tree.root_node().has_error()) {
        parsed
            .diagnostics
            .push(format!("not valid {format}; it was not analysed"));
        return parsed;
    }
    for tree in &trees {
        parsed.shared.extend(yaml::shared_spans(tree, bytes));
    }
    for document in trees.iter().flat_map(yaml::documents) {
        if !yaml::is_mapping(document, bytes) {
            continue;
        }
        let has = |key: &str| yaml::get(document, bytes, key).is_some();
        if has("apiVersion") && has("kind") {
            let eksctl = yaml::get(document, bytes, "apiVersion")
                .and_then(|v| yaml::scalar_string(v, bytes))
                .is_some_and(|v| v.starts_with("eksctl.io/"));
            if eksctl {
                eksctl::read(document, bytes, host, &mut parsed);
            } else {
                kubernetes::read(document, bytes, host, &mut parsed);
            }
        } else if has("Resources") || has("AWSTemplateFormatVersion") {
            cloudformation::read(document, bytes, host, &mut parsed);
        } else if has("jobs") {
            workflow::read_github(document, bytes, host, &mut parsed);
        } else {
            workflow::read_gitlab(document, bytes, host, &mut parsed);
        }
    }
    parsed
}

/// Whether a file is JSON rather than YAML: its first character (after a byte order mark and
/// blanks) opens an object or an array.
fn is_json(bytes: &[u8]) -> bool {
    let text = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    matches!(text.trim_ascii_start().first(), Some(b'{' | b'['))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_file_is_named_by_what_it_is() {
        let broken_json = b"\xef\xbb\xbf\n  {\"Resources\": {\"A\": \"x\"}\n";
        assert_eq!(
            parse(broken_json, 0).diagnostics,
            ["not valid JSON; it was not analysed"]
        );
        let broken_yaml = b"jobs:\n  a:\n    - run: \"x\n";
        assert_eq!(
            parse(broken_yaml, 0).diagnostics,
            ["not valid YAML; it was not analysed"]
        );
        let long_json = format!("[\n{}1\n]\n", "1,\n".repeat(40_000));
        assert_eq!(
            parse(long_json.as_bytes(), 0).diagnostics,
            ["the JSON: it has more than 32767 lines, past what the parser counts; it was not analysed"]
        );
    }
}
