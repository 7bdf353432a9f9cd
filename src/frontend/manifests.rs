//! YAML and JSON files that may carry scripts: each document is read as what its shape says — a
//! Kubernetes object (`apiVersion` and `kind`; eksctl's `ClusterConfig` has them too), a
//! CloudFormation template (`Resources` of `AWS::` types), a GitHub Actions workflow (`jobs` with
//! `steps`), a GitLab CI file (jobs with `script`). (cloud-config is recognised by its first
//! line, whatever the file's name.)

use super::{cloudformation, eksctl, kubernetes, workflow, yaml, Parsed};
use crate::fragment::HostId;
use crate::model::Note;

pub fn parse(bytes: &[u8], host: HostId) -> Parsed {
    let mut parsed = Parsed::default();
    let trees = match yaml::parse_documents(bytes) {
        Ok(trees) => trees,
        Err(why) => {
            parsed
                .diagnostics
                .push(Note::skipped(format!("the YAML: {why}")));
            return parsed;
        }
    };
    if trees.iter().any(|tree| tree.root_node().has_error()) {
        parsed
            .diagnostics
            .push(Note::skipped("not valid YAML or JSON; it was not analysed"));
        return parsed;
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
