//! eksctl `ClusterConfig` files (`apiVersion: eksctl.io/…`): each node group of `nodeGroups` and
//! `managedNodeGroups` is an instance metadata setting (`disableIMDSv1`, `disablePodIMDS`) for
//! EKS nodes, and its `preBootstrapCommands` (one script) and `overrideBootstrapCommand` (another)
//! are boot scripts, read as shell.

use tree_sitter::Node;

use super::script::ScriptBuilder;
use super::{yaml, Parsed};
use crate::fragment::{HostId, HostSpan};
use crate::model::setting::{Containers, HopDefault, MetadataSetting, Source, TokensDefault};

pub fn read(document: Node, bytes: &[u8], host: HostId, parsed: &mut Parsed) {
    for list in ["nodeGroups", "managedNodeGroups"] {
        let Some(groups) = yaml::get(document, bytes, list) else {
            continue;
        };
        for group in yaml::items(groups, bytes) {
            if yaml::is_mapping(group, bytes) {
                node_group(group, list, bytes, host, parsed);
            }
        }
    }
}

fn node_group(group: Node, list: &str, bytes: &[u8], host: HostId, parsed: &mut Parsed) {
    let name_node = yaml::get(group, bytes, "name");
    let name = name_node
        .and_then(|n| yaml::scalar_string(n, bytes))
        .unwrap_or_default();
    let span = HostSpan::new(group.start_byte(), group.end_byte());
    let mut setting = MetadataSetting::new(Source::Eksctl, list, &name, host, span);
    setting.head = match name_node {
        Some(node) => HostSpan::new(node.start_byte(), node.end_byte()),
        None => {
            let line = memchr::memchr(b'\n', bytes.get(group.start_byte()..).unwrap_or_default());
            HostSpan::new(
                group.start_byte(),
                line.map_or(group.end_byte(), |i| group.start_byte() + i),
            )
        }
    };
    setting.tokens = yaml::setting_value(group, bytes, "disableIMDSv1");
    setting.pod_imds_disabled = yaml::setting_value(group, bytes, "disablePodIMDS");
    // eksctl requires tokens unless told otherwise (since 0.143), and sets a hop limit of 2.
    setting.tokens_default = TokensDefault::Required;
    setting.hop_default = HopDefault::Value(2);
    setting.parent = yaml::mapping_slot(group, bytes);
    setting.containers = Containers::Yes("EKS nodes created by eksctl".to_owned());
    let mut script = ScriptBuilder::default();
    if let Some(commands) = yaml::get(group, bytes, "preBootstrapCommands") {
        for item in yaml::items(commands, bytes) {
            if let Some(scalar) = yaml::scalar(item, bytes) {
                if !script.is_empty() {
                    script.newline(item.start_byte());
                }
                script.push_scalar(&scalar);
            }
        }
    }
    if !script.is_empty() {
        setting.user_data.fragments.push(parsed.fragments.len());
        parsed.fragments.push(script.finish(host));
    }
    if let Some(scalar) =
        yaml::get(group, bytes, "overrideBootstrapCommand").and_then(|c| yaml::scalar(c, bytes))
    {
        let mut script = ScriptBuilder::default();
        script.push_scalar(&scalar);
        setting.user_data.fragments.push(parsed.fragments.len());
        parsed.fragments.push(script.finish(host));
    }
    parsed.settings.push(setting);
}
