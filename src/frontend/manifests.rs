//! YAML and JSON files that may carry scripts: each document is read as what its shape says — a
//! Kubernetes object (`apiVersion` and `kind`; eksctl's `ClusterConfig` has them too), a
//! CloudFormation template (`Resources` of `AWS::` types), a GitHub Actions workflow (`jobs` with
//! `steps`), a GitLab CI file (jobs with `script`), the other CI systems of `ci.rs` (CodeBuild,
//! CircleCI, Bitbucket, Buildkite, Azure Pipelines), an Ansible playbook or task file (a list of
//! plays or tasks), an EC2 Image Builder component (`schemaVersion` and `phases`), an SSM document
//! (`schemaVersion` and `mainSteps` or `runtimeConfig`), a legacy JSON Packer template (`builders`,
//! `provisioners`). (cloud-config is recognised by its first line, whatever the file's name.)

use super::{
    ansible, ci, cloudformation, eksctl, imagebuilder, kubernetes, packer, ssm, workflow, yaml,
    Parsed,
};
use crate::fragment::HostId;
use crate::model::links::BOOT_KINDS;
use crate::model::Note;

pub fn parse(bytes: &[u8], host: HostId) -> Parsed {
    parse_kept(bytes, host, &|_| true)
}

/// [`parse`], of the documents of a stream that `worth_reading` says may matter, and of those
/// that matter whatever they hold: a Kubernetes Secret, which Cluster API machines may boot from
/// (its script may be clean, and a clean boot script is known boot code).
pub fn parse_kept(bytes: &[u8], host: HostId, worth_reading: &dyn Fn(&[u8]) -> bool) -> Parsed {
    let mut parsed = Parsed::default();
    // Diagnostics name the file by what it is (the YAML parser reads both).
    let format = if is_json(bytes) { "JSON" } else { "YAML" };
    let mut broken = false;
    // One run of documents at a time (see `yaml::read_documents`).
    let worth_reading = |document: &[u8]| {
        (worth_reading(document) && !read_for_nothing(document))
            || names_secret(document)
            || is_boot_config(document)
            || ansible::runs_script_files(document)
    };
    let read = yaml::read_documents_kept(bytes, &worth_reading, |tree| {
        broken |= tree.root_node().has_error();
        if !broken {
            parsed.shared.extend(yaml::shared_spans(tree, bytes));
            for document in yaml::documents(tree) {
                read_document(document, bytes, host, &mut parsed);
            }
        }
    });
    let declined = match read {
        Err(why) => Note::skipped(format!("the {format}: {why}")),
        Ok(()) if broken => Note::skipped(format!("not valid {format}; it was not analysed")),
        Ok(()) => return parsed,
    };
    Parsed {
        diagnostics: vec![declined],
        ..Parsed::default()
    }
}

/// Reads one document as what its shape says.
fn read_document(document: tree_sitter::Node, bytes: &[u8], host: HostId, parsed: &mut Parsed) {
    if ansible::is_ansible(document, bytes) {
        ansible::read(document, bytes, host, parsed);
        return;
    }
    if !yaml::is_mapping(document, bytes) {
        return;
    }
    let has = |key: &str| yaml::get(document, bytes, key).is_some();
    if has("apiVersion") && has("kind") {
        let eksctl = yaml::get(document, bytes, "apiVersion")
            .and_then(|v| yaml::scalar_string(v, bytes))
            .is_some_and(|v| v.starts_with("eksctl.io/"));
        if eksctl {
            eksctl::read(document, bytes, host, parsed);
        } else {
            kubernetes::read(document, bytes, host, parsed);
        }
    } else if has("Resources") || has("AWSTemplateFormatVersion") {
        cloudformation::read(document, bytes, host, parsed);
    } else if imagebuilder::is_component(document, bytes) {
        imagebuilder::read(document, bytes, host, parsed);
    } else if ssm::is_document(document, bytes) {
        ssm::read(document, bytes, host, parsed);
    } else if packer::is_template(document, bytes) {
        packer::read(document, bytes, host, parsed);
    } else if ci::read(document, bytes, host, parsed) {
        // CodeBuild, CircleCI, Bitbucket, Buildkite or Azure Pipelines.
    } else if has("jobs") {
        workflow::read_github(document, bytes, host, parsed);
    } else {
        workflow::read_gitlab(document, bytes, host, parsed);
    }
}

/// Whether a document may declare a Kubernetes Secret: `Secret` is a word after `kind:` (quotes,
/// blanks and a flow mapping's brace allowed between), at any indentation (a `List`'s items),
/// unless the document's own kind is written on an unindented line and is neither `Secret` nor a
/// list: then a deeper `kind: Secret` is in a value (a Cluster API `ClusterResourceSet`'s
/// ConfigMap carries whole manifests as text), which nothing reads as a Secret.
fn names_secret(document: &[u8]) -> bool {
    if let Some(kinds) = own_kinds(document).filter(|k| k.iter().all(|k| !k.ends_with(b"List"))) {
        return kinds.contains(&b"Secret".as_slice());
    }
    memchr::memmem::find_iter(document, b"Secret").any(|at| {
        let before = document.get(..at).unwrap_or_default();
        let before = before.trim_ascii_end();
        let before = before
            .strip_suffix(b"\"")
            .or_else(|| before.strip_suffix(b"'"))
            .unwrap_or(before);
        let before = before.trim_ascii_end();
        let before = before.strip_suffix(b":").unwrap_or_default();
        let before = before
            .strip_suffix(b"\"")
            .or_else(|| before.strip_suffix(b"'"))
            .unwrap_or(before);
        let word_ends = document
            .get(at + b"Secret".len())
            .is_none_or(|b| !b.is_ascii_alphanumeric());
        let word_starts = before.strip_suffix(b"kind").is_some_and(|b| {
            b.last()
                .is_none_or(|c| !c.is_ascii_alphanumeric() && *c != b'_')
        });
        word_ends && word_starts
    })
}

/// Whether a document is a Cluster API bootstrap configuration (its own kind, written plainly, is
/// one of `BOOT_KINDS`): read whatever words it holds, since a clean one is what lets a setting
/// whose machines boot from it be fixed safely.
fn is_boot_config(document: &[u8]) -> bool {
    own_kinds(document).is_some_and(|kinds| {
        kinds.iter().any(|kind| {
            *kind != b"Secret".as_slice() && BOOT_KINDS.iter().any(|b| b.as_bytes() == *kind)
        })
    })
}

/// The kinds a document says it is on unindented `kind:` lines (a key given twice is there
/// twice), when there is one and each is a plain word (not a tag, an alias or a flow
/// collection); else `None`.
fn own_kinds(document: &[u8]) -> Option<Vec<&[u8]>> {
    let kinds: Vec<&[u8]> = document
        .split(|&b| b == b'\n')
        .filter_map(|line| line.strip_prefix(b"kind:"))
        .map(|kind| {
            // A comment after the value ends it.
            let kind =
                memchr::memmem::find(kind, b" #").map_or(kind, |at| kind.get(..at).unwrap_or(kind));
            let kind = kind.trim_ascii();
            let unquoted = kind
                .strip_prefix(b"\"")
                .and_then(|k| k.strip_suffix(b"\""))
                .or_else(|| kind.strip_prefix(b"'").and_then(|k| k.strip_suffix(b"'")));
            unquoted.unwrap_or(kind)
        })
        .collect();
    let plain = |kind: &&[u8]| !kind.is_empty() && kind.iter().all(u8::is_ascii_alphanumeric);
    (!kinds.is_empty() && kinds.iter().all(plain)).then_some(kinds)
}

/// Whether a document is a Kubernetes object (an unindented `apiVersion:` and `kind:`) of a kind
/// nothing here reads (`kubernetes::READ_KINDS`; a list's items may be any): it need not be
/// parsed, whatever words it holds.
fn read_for_nothing(document: &[u8]) -> bool {
    let api_version = document
        .split(|&b| b == b'\n')
        .any(|line| line.starts_with(b"apiVersion:"));
    api_version
        && own_kinds(document).is_some_and(|kinds| {
            kinds.iter().all(|kind| {
                !kind.ends_with(b"List")
                    && !kubernetes::READ_KINDS
                        .iter()
                        .any(|read| read.as_bytes() == *kind)
            })
        })
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

    /// A document of a kind the Kubernetes reader reads nothing from is not parsed; the kinds it
    /// reads are all in `READ_KINDS`: a document holding what any of its arms looks at yields
    /// something only for those kinds.
    #[test]
    fn kinds_read_for_nothing_are_not_parsed() {
        let document = |api: &str, kind: &str| {
            format!(
                "apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: x\ndata:\n  x.sh: \"#!/bin/sh\\ncurl http://169.254.169.254/\"\nstringData:\n  value: \"#!/bin/sh\\necho\"\nspec:\n  containers:\n    - name: c\n      command: [sh, -c, \"curl http://169.254.169.254/\"]\n  template:\n    spec:\n      containers:\n        - name: c\n          command: [sh, -c, \"curl http://169.254.169.254/\"]\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n            - name: c\n              command: [sh, -c, \"curl http://169.254.169.254/\"]\n  instanceMetadataOptions:\n    httpTokens: optional\n  kubeadmConfigSpec:\n    preKubeadmCommands: [\"curl http://169.254.169.254/\"]\n  preBootstrapCommands: [\"curl http://169.254.169.254/\"]\n  nodeGroups:\n    - name: ng\n      instanceType: t3.large\n"
            )
        };
        // Written out here, not taken from `READ_KINDS`, so that a kind missing there shows.
        let kinds = [
            "Secret",
            "ConfigMap",
            "Pod",
            "Deployment",
            "StatefulSet",
            "DaemonSet",
            "ReplicaSet",
            "Job",
            "ReplicationController",
            "CronJob",
            "MachinePool",
            "MachineDeployment",
            "AWSMachineTemplate",
            "AWSMachine",
            "AWSMachinePool",
            "AWSManagedMachinePool",
            "ClusterConfig",
            "KubeadmControlPlane",
            "KubeadmControlPlaneTemplate",
            "KubeadmConfig",
            "KubeadmConfigTemplate",
            "EKSConfig",
            "EKSConfigTemplate",
            "NodeadmConfig",
            "NodeadmConfigTemplate",
            "ClusterClass",
            "Cluster",
            "AWSCluster",
            "Service",
            "Ingress",
            "Role",
        ];
        let mut yielded = 0;
        for kind in kinds {
            for api in [
                "v1",
                "apps/v1",
                "batch/v1",
                "cluster.x-k8s.io/v1beta1",
                "infrastructure.cluster.x-k8s.io/v1beta2",
                "bootstrap.cluster.x-k8s.io/v1beta1",
                "controlplane.cluster.x-k8s.io/v1beta1",
                "eksctl.io/v1alpha5",
            ] {
                let text = document(api, kind);
                // Read whole, past the filter this test holds to the readers.
                let mut parsed = Parsed::default();
                let tree = yaml::parse_tree(text.as_bytes()).unwrap();
                for node in yaml::documents(&tree) {
                    read_document(node, text.as_bytes(), 0, &mut parsed);
                }
                let found = !parsed.fragments.is_empty()
                    || !parsed.embedded.is_empty()
                    || !parsed.settings.is_empty()
                    || !parsed.links.is_empty();
                let read = kubernetes::READ_KINDS.contains(&kind);
                assert!(!found || read, "{api} {kind} yields something");
                yielded += usize::from(found);
                assert_eq!(read_for_nothing(text.as_bytes()), !read, "{kind}");
            }
        }
        // Every kind read yields something from the document, under some API version.
        assert!(yielded >= kubernetes::READ_KINDS.len(), "{yielded}");
        // Not a Kubernetes object, a list, or a kind not written plainly: read as before.
        for other in [
            "kind: ClusterClass\nspec: {}\n",
            "apiVersion: v1\nkind: List\nitems: []\n",
            "apiVersion: v1\nkind: !!str ClusterClass\n",
            "{\"apiVersion\": \"v1\", \"kind\": \"ClusterClass\"}",
        ] {
            assert!(!read_for_nothing(other.as_bytes()), "{other}");
        }
    }

    #[test]
    fn secrets_are_worth_reading_whatever_they_hold() {
        for secret in [
            "kind: Secret\n",
            "  kind:   \"Secret\"  \n",
            "{apiVersion: v1, kind: 'Secret', data: {}}",
            "items:\n- kind: Secret\n",
            "\"kind\": \"Secret\"",
            "kind: List\nitems:\n- kind: Secret\n",
            "kind: SecretList\nitems:\n  - kind: Secret\n",
            "kind: 'Secret' # a comment\n",
            // Duplicate keys: the last is the loader's, and either may be it here.
            "kind: ConfigMap\nkind: Secret\n",
        ] {
            assert!(names_secret(secret.as_bytes()), "{secret}");
        }
        for other in [
            "kind: SecretProviderClass\n",
            "kind: ConfigMap\nsecretRef: Secret\n",
            "mykind: Secret\n",
            "kind: Pod\n# Secret\n",
            // A manifest carried as text in a ConfigMap is not a Secret of the stream.
            "kind: ConfigMap\ndata:\n  a.yaml: |\n    kind: Secret\n",
            "kind: 'ConfigMap'\ndata:\n  a.yaml: |\n    kind: Secret\n",
        ] {
            assert!(!names_secret(other.as_bytes()), "{other}");
        }
        // A stream: the Secret is read though nothing in it names an endpoint, the ConfigMap
        // is not.
        let stream = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  x.sh: \"#!/bin/sh\\necho\"\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: b}\nstringData:\n  value: \"#!/bin/sh\\necho\"\n";
        let parsed = parse_kept(stream, 0, &|_| false);
        assert_eq!(parsed.embedded.len(), 1);
        assert_eq!(parsed.links.len(), 1);
        assert_eq!(parse(stream, 0).embedded.len(), 2);
    }

    #[test]
    fn a_broken_file_is_named_by_what_it_is() {
        let broken_json = b"\xef\xbb\xbf\n  {\"Resources\": {\"A\": \"x\"}\n";
        assert_eq!(
            parse(broken_json, 0).diagnostics,
            [Note::skipped("not valid JSON; it was not analysed")]
        );
        let broken_yaml = b"jobs:\n  a:\n    - run: \"x\n";
        assert_eq!(
            parse(broken_yaml, 0).diagnostics,
            [Note::skipped("not valid YAML; it was not analysed")]
        );
        let long_json = format!("[\n{}1\n]\n", "1,\n".repeat(40_000));
        assert_eq!(
            parse(long_json.as_bytes(), 0).diagnostics,
            [Note::skipped("the JSON: it has more than 32767 lines, past what the parser counts; it was not analysed")]
        );
    }
}
