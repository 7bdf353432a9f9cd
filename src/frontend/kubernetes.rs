//! Kubernetes objects: `Secret` `data` (base64) and `stringData`, `ConfigMap` scripts, and the
//! `command`/`args` of the containers of Pods and the workloads that template them. A Secret's
//! value may itself be cloud-config or MIME user data (Cluster API bootstrap secrets).

use tree_sitter::Node;

use super::cloud_init::{self, block_aware, content_span};
use super::script::ScriptBuilder;
use super::yaml::{self, Scalar};
use super::{Embedded, Parsed};
use crate::fragment::codec::Codec;
use crate::fragment::{base64, gzip};
use crate::fragment::{HostId, HostSpan, OffsetMap, Quoting};
use crate::model::links::{Fact, ObjectRef, BOOT_KINDS};
use crate::model::setting::{
    Containers, HopDefault, MetadataSetting, OptionsBlock, Source, TokensDefault,
};
use crate::model::OriginEntry;

const SHELLS: &[&str] = &["sh", "bash", "dash", "ash", "ksh", "zsh"];

pub fn read(document: Node, bytes: &[u8], host: HostId, parsed: &mut Parsed) {
    let kind = yaml::get(document, bytes, "kind")
        .and_then(|k| yaml::scalar_string(k, bytes))
        .unwrap_or_default();
    let name = yaml::get(document, bytes, "metadata")
        .and_then(|m| yaml::get(m, bytes, "name"))
        .and_then(|n| yaml::scalar_string(n, bytes))
        .unwrap_or_default();
    let api_version = yaml::get(document, bytes, "apiVersion")
        .and_then(|k| yaml::scalar_string(k, bytes))
        .unwrap_or_default();
    let capa = api_version.starts_with("infrastructure.cluster.x-k8s.io/");
    let cluster_api = api_version.starts_with("bootstrap.cluster.x-k8s.io/")
        || api_version.starts_with("controlplane.cluster.x-k8s.io/");
    let namespace = namespace_of(document, bytes);
    match kind.as_str() {
        "Secret" => secret(document, bytes, &name, &namespace, parsed),
        "MachinePool" | "MachineDeployment" if api_version.starts_with("cluster.x-k8s.io/") => {
            let spec = yaml::get(document, bytes, "spec")
                .and_then(|s| yaml::get(s, bytes, "template"))
                .and_then(|t| yaml::get(t, bytes, "spec"));
            if let Some(spec) = spec {
                machines(spec, bytes, &namespace, None, parsed);
            }
        }
        boot if cluster_api && BOOT_KINDS.contains(&boot) => {
            let object = ObjectRef {
                kind: kind.clone(),
                name: name.clone(),
                namespace: namespace.clone(),
            };
            bootstrap(document, bytes, host, object, parsed);
        }
        "ConfigMap" => config_map(document, bytes, &name, parsed),
        "AWSMachineTemplate" | "AWSMachine" | "AWSMachinePool" | "AWSManagedMachinePool"
            if capa =>
        {
            parsed.links.push(Fact::Infra {
                object: ObjectRef {
                    kind: kind.clone(),
                    name: name.clone(),
                    namespace,
                },
                setting: parsed.settings.len(),
            });
            capa_machine(document, bytes, host, &kind, &name, parsed);
        }
        _ => {
            if let Some(pod) = pod_spec(document, bytes, &kind) {
                containers(pod, bytes, host, parsed);
            }
        }
    }
}

/// The kinds of object this reader (or eksctl's, `ClusterConfig`) reads anything from; a
/// document of another kind is not parsed (a Cluster API `ClusterClass` names
/// `AWSMachineTemplate`, which makes it look worth reading). Keep it with `read`'s arms.
pub const READ_KINDS: &[&str] = &[
    "Secret",
    "MachinePool",
    "MachineDeployment",
    "KubeadmConfig",
    "KubeadmConfigTemplate",
    "EKSConfig",
    "EKSConfigTemplate",
    "NodeadmConfig",
    "NodeadmConfigTemplate",
    "KubeadmControlPlane",
    "KubeadmControlPlaneTemplate",
    "ConfigMap",
    "AWSMachineTemplate",
    "AWSMachine",
    "AWSMachinePool",
    "AWSManagedMachinePool",
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "ReplicationController",
    "CronJob",
    "ClusterConfig",
];

/// The object's namespace: `metadata.namespace`, else `default`.
fn namespace_of(document: Node, bytes: &[u8]) -> String {
    yaml::get(document, bytes, "metadata")
        .and_then(|m| yaml::get(m, bytes, "namespace"))
        .and_then(|n| yaml::scalar_string(n, bytes))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "default".to_owned())
}

/// A set of Cluster API machines (the `spec` of a `MachinePool`'s / `MachineDeployment`'s
/// machine template, or of a `KubeadmControlPlane`'s `machineTemplate`): what they boot from
/// (`bootstrap.dataSecretName`, a Secret; `bootstrap.configRef`, a bootstrap configuration;
/// `boot` when the object is its own) and the infrastructure object that launches them
/// (`infrastructureRef`), as a link fact.
fn machines(
    spec: Node,
    bytes: &[u8],
    namespace: &str,
    boot: Option<ObjectRef>,
    parsed: &mut Parsed,
) {
    let text = |node: Option<Node>, key: &str| {
        node.and_then(|n| yaml::get(n, bytes, key))
            .and_then(|v| yaml::scalar_string(v, bytes))
            .filter(|v| !v.is_empty())
    };
    let reference = |node: Option<Node>| match (text(node, "kind"), text(node, "name")) {
        (Some(kind), Some(name)) => Some(ObjectRef {
            kind,
            name,
            namespace: text(node, "namespace").unwrap_or_else(|| namespace.to_owned()),
        }),
        _ => None,
    };
    let bootstrap = yaml::get(spec, bytes, "bootstrap");
    let boot = boot.or_else(|| {
        text(bootstrap, "dataSecretName")
            .map(|name| ObjectRef {
                kind: "Secret".to_owned(),
                name,
                namespace: namespace.to_owned(),
            })
            .or_else(|| reference(bootstrap.and_then(|b| yaml::get(b, bytes, "configRef"))))
    });
    let infra = reference(yaml::get(spec, bytes, "infrastructureRef"));
    parsed.links.push(Fact::Machines { boot, infra });
}

/// The commands and files of a bootstrap configuration's `spec` (see [`bootstrap`]); returns why
/// any of it was not read.
fn boot_code(
    spec: Node,
    bytes: &[u8],
    host: HostId,
    object: &ObjectRef,
    parsed: &mut Parsed,
) -> Vec<String> {
    // In origin chains: `{"layer": "k8s-bootstrap", "name": "KubeadmConfigTemplate/workers"}`.
    let named = format!("{}/{}", object.kind, object.name);
    let lists: Vec<(&str, Node)> = [
        "preKubeadmCommands",
        "preBootstrapCommands",
        "preNodeadmCommands",
        "postKubeadmCommands",
        "postBootstrapCommands",
    ]
    .into_iter()
    .filter_map(|key| yaml::get(spec, bytes, key).map(|list| (key, list)))
    .collect();
    let nodes: Vec<Node> = lists.iter().map(|(_, list)| *list).collect();
    if let Some(fragment) = cloud_init::commands(&nodes, bytes, host) {
        for (key, list) in &lists {
            parsed.place(*list, "k8s-bootstrap", &named, key);
        }
        parsed.fragments.push(fragment);
    }
    let mut unread = Vec::new();
    if let Some(files) = yaml::get(spec, bytes, "files") {
        parsed.place(files, "k8s-bootstrap", &named, "files");
        for file in yaml::items(files, bytes) {
            cloud_init::write_file(file, bytes, host, "files", parsed);
            // Content kept in a Secret (`contentFrom.secret`) is not read with it.
            let from = yaml::get(file, bytes, "contentFrom")
                .and_then(|c| yaml::get(c, bytes, "secret"))
                .and_then(|s| yaml::get(s, bytes, "name"))
                .and_then(|n| yaml::scalar_string(n, bytes));
            if let Some(secret) = from {
                let path = yaml::get(file, bytes, "path")
                    .and_then(|p| yaml::scalar_string(p, bytes))
                    .unwrap_or_default();
                unread.push(format!(
                    "the file `{path}` of its bootstrap configuration {named} takes its content from the Secret `{secret}`, which is not read"
                ));
            }
        }
    }
    unread
}

/// A Cluster API bootstrap configuration: the commands it runs before and after kubeadm (or
/// CAPA's EKS bootstrap script, or nodeadm) and the files it writes, which the bootstrap provider
/// renders into its machines' cloud-init user data (the commands as one `runcmd` script around
/// its own, so the lists are read as one script). Found in the `spec` of a `KubeadmConfig`,
/// `EKSConfig` or `NodeadmConfig`, their templates' `spec.template.spec`, and a control plane's
/// `kubeadmConfigSpec`; a `KubeadmControlPlane` is also the set of machines that boot from it.
fn bootstrap(document: Node, bytes: &[u8], host: HostId, object: ObjectRef, parsed: &mut Parsed) {
    let mut spec = yaml::get(document, bytes, "spec");
    if object.kind.ends_with("Template") {
        spec = spec
            .and_then(|s| yaml::get(s, bytes, "template"))
            .and_then(|t| yaml::get(t, bytes, "spec"));
    }
    let machines_spec = spec;
    if object.kind.starts_with("KubeadmControlPlane") {
        spec = spec.and_then(|s| yaml::get(s, bytes, "kubeadmConfigSpec"));
    }
    let (first_fragment, first_embedded) = (parsed.fragments.len(), parsed.embedded.len());
    // Nothing to read (`template: {}`) is clean boot data all the same.
    let unread = spec.map_or_else(Vec::new, |spec| {
        boot_code(spec, bytes, host, &object, parsed)
    });
    // A control plane (not its template, which a ClusterClass uses) launches its own machines.
    if object.kind == "KubeadmControlPlane" {
        let template = machines_spec.and_then(|s| yaml::get(s, bytes, "machineTemplate"));
        // v1beta1 keeps `infrastructureRef` in `machineTemplate`, v1beta2 in its `spec`.
        let template = template
            .and_then(|t| yaml::get(t, bytes, "spec"))
            .filter(|s| yaml::get(*s, bytes, "infrastructureRef").is_some())
            .or(template);
        if let Some(template) = template {
            let namespace = object.namespace.clone();
            machines(template, bytes, &namespace, Some(object.clone()), parsed);
        }
    }
    parsed.links.push(Fact::Boot {
        object,
        fragments: (first_fragment..parsed.fragments.len()).collect(),
        embedded: (first_embedded..parsed.embedded.len()).collect(),
        unread,
    });
}

fn secret(document: Node, bytes: &[u8], name: &str, namespace: &str, parsed: &mut Parsed) {
    if let Some(data) = yaml::get(document, bytes, "data") {
        for (key, _, value) in yaml::pairs(data, bytes) {
            let Some(scalar) = yaml::scalar(value, bytes) else {
                continue;
            };
            let Some((decoded, codec)) = base64::decode(scalar.text.as_bytes()) else {
                continue;
            };
            let codec = block_aware(codec, &scalar);
            let (decoded, codec) = match gzip::decode(&decoded) {
                Some(unzipped) => (unzipped, Codec::GzipBase64),
                None => (decoded, codec),
            };
            if key == "value" {
                parsed
                    .links
                    .push(boot_secret(name, namespace, parsed.embedded.len()));
            }
            parsed.embedded.push(Embedded {
                span: content_span(&scalar),
                bytes: decoded,
                codec,
                map: None,
                origin: vec![OriginEntry::layer("k8s-secret")
                    .with_name(name)
                    .with_key(key)],
                kind: None,
            });
        }
    }
    if let Some(data) = yaml::get(document, bytes, "stringData") {
        for (key, _, value) in yaml::pairs(data, bytes) {
            if let Some(scalar) = yaml::scalar(value, bytes) {
                if key == "value" {
                    parsed
                        .links
                        .push(boot_secret(name, namespace, parsed.embedded.len()));
                }
                parsed.embedded.push(scalar_host(
                    &scalar,
                    vec![OriginEntry::layer("k8s-secret")
                        .with_name(name)
                        .with_key(key)],
                ));
            }
        }
    }
}

/// A Secret key `value`, which Cluster API machines boot from.
fn boot_secret(name: &str, namespace: &str, embedded: usize) -> Fact {
    Fact::Boot {
        object: ObjectRef {
            kind: "Secret".to_owned(),
            name: name.to_owned(),
            namespace: namespace.to_owned(),
        },
        fragments: Vec::new(),
        embedded: vec![embedded],
        unread: Vec::new(),
    }
}

/// A scalar's decoded text as a host of its own (so its content is classified: a script,
/// cloud-config, MIME), mapped one to one, rewritten whole by a fix.
pub fn scalar_host(scalar: &Scalar, origin: Vec<OriginEntry>) -> Embedded {
    let block = scalar
        .region
        .quoting
        .as_ref()
        .and_then(|q| match q.first() {
            Some(Quoting::YamlBlock { indent }) => Some(indent.clone()),
            _ => None,
        });
    let (span, codec) = match block {
        Some(indent) => (content_span(scalar), Codec::YamlBlock { indent, eol: "\n" }),
        None => (scalar.span, Codec::YamlPlain),
    };
    Embedded {
        span,
        bytes: scalar.text.clone().into_bytes(),
        codec,
        map: Some(OffsetMap::from_anchors(scalar.anchors.iter().copied())),
        origin,
        kind: None,
    }
}

fn config_map(document: Node, bytes: &[u8], name: &str, parsed: &mut Parsed) {
    let Some(data) = yaml::get(document, bytes, "data") else {
        return;
    };
    for (key, _, value) in yaml::pairs(data, bytes) {
        let Some(scalar) = yaml::scalar(value, bytes) else {
            continue;
        };
        if key.ends_with(".sh") || scalar.text.starts_with("#!") {
            let mut host = scalar_host(
                &scalar,
                vec![OriginEntry::layer("k8s-configmap")
                    .with_name(name)
                    .with_key(key)],
            );
            host.kind = Some(super::Kind::Shell);
            parsed.embedded.push(host);
        }
    }
}

/// The instance metadata options of a Cluster API AWS machine (a Kubernetes node, so its instances
/// run containers). Its boot script is in a bootstrap Secret that another object names.
fn capa_machine(
    document: Node,
    bytes: &[u8],
    host: HostId,
    kind: &str,
    name: &str,
    parsed: &mut Parsed,
) {
    let span = HostSpan::new(document.start_byte(), document.end_byte());
    let mut setting = MetadataSetting::new(Source::Capa, kind, name, host, span);
    if let Some(kind_node) = yaml::get(document, bytes, "kind") {
        setting.head = HostSpan::new(kind_node.start_byte(), kind_node.end_byte());
    }
    let spec = yaml::get(document, bytes, "spec");
    let parent = match kind {
        "AWSMachineTemplate" => spec
            .and_then(|s| yaml::get(s, bytes, "template"))
            .and_then(|t| yaml::get(t, bytes, "spec")),
        "AWSMachine" => spec,
        _ => spec.and_then(|s| yaml::get(s, bytes, "awsLaunchTemplate")),
    };
    setting.tokens_default = TokensDefault::Optional("CAPA");
    setting.hop_default = HopDefault::Value(1);
    if kind == "AWSManagedMachinePool" && parent.is_none() {
        // Without a launch template, EKS launches the node group with its own options.
        setting.tokens_default = TokensDefault::Ec2;
        setting.hop_default = HopDefault::Value(2);
        setting.missing_parent = Some("awsLaunchTemplate".to_owned());
    }
    if let Some(parent) = parent {
        // CAPA's API names it `instanceMetadataOptions`; some manifests say `metadataOptions`.
        for key in ["instanceMetadataOptions", "metadataOptions"] {
            let (Some(key_node), Some(block)) = (
                yaml::key_node(parent, bytes, key),
                yaml::get(parent, bytes, key),
            ) else {
                continue;
            };
            setting.block = Some(OptionsBlock {
                key: key.to_owned(),
                head: HostSpan::new(key_node.start_byte(), key_node.end_byte()),
                span: HostSpan::new(key_node.start_byte(), block.end_byte()),
                slot: yaml::mapping_slot(block, bytes),
            });
            setting.tokens = yaml::setting_value(block, bytes, "httpTokens");
            setting.hop_limit = yaml::setting_value(block, bytes, "httpPutResponseHopLimit");
            setting.endpoint = yaml::setting_value(block, bytes, "httpEndpoint");
            break;
        }
        setting.parent = yaml::mapping_slot(parent, bytes);
    }
    setting.containers = Containers::Yes("Kubernetes nodes managed by Cluster API".to_owned());
    setting.user_data.elsewhere = Some(
        "its boot script is in a bootstrap Secret (`bootstrap.dataSecretName`) that is not read with it"
            .to_owned(),
    );
    parsed.settings.push(setting);
}

/// The pod spec of a Pod or of a workload's pod template.
fn pod_spec<'t>(document: Node<'t>, bytes: &[u8], kind: &str) -> Option<Node<'t>> {
    let spec = yaml::get(document, bytes, "spec")?;
    match kind {
        "Pod" => Some(spec),
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "Job"
        | "ReplicationController" => yaml::get(yaml::get(spec, bytes, "template")?, bytes, "spec"),
        "CronJob" => {
            let job = yaml::get(yaml::get(spec, bytes, "jobTemplate")?, bytes, "spec")?;
            yaml::get(yaml::get(job, bytes, "template")?, bytes, "spec")
        }
        _ => None,
    }
}

/// Each container's command line: `command` then `args`. A shell with `-c` runs its script
/// (a scalar, editable in place); anything else is an argv line. A pod on the node's network
/// (`hostNetwork: true`) is not one hop further from IMDS than the node; the containers of any
/// other pod are, and their command lines are the host's container side. A container of a BusyBox image
/// (`busybox`, `alpine`) runs it on BusyBox.
fn containers(pod: Node, bytes: &[u8], host: HostId, parsed: &mut Parsed) {
    let host_network = yaml::get(pod, bytes, "hostNetwork")
        .and_then(|v| yaml::scalar(v, bytes))
        .is_some_and(|v| v.text.trim() == "true");
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        let Some(containers) = yaml::get(pod, bytes, list) else {
            continue;
        };
        for container in yaml::items(containers, bytes) {
            let mut argv: Vec<Scalar> = Vec::new();
            for field in ["command", "args"] {
                if let Some(words) = yaml::get(container, bytes, field) {
                    argv.extend(
                        yaml::items(words, bytes)
                            .into_iter()
                            .filter_map(|w| yaml::scalar(w, bytes)),
                    );
                }
            }
            if let Some(mut fragment) = command_line(&argv, host) {
                let container_name = yaml::get(container, bytes, "name")
                    .and_then(|n| yaml::scalar_string(n, bytes))
                    .unwrap_or_default();
                // To the end of its last line: a request that ends the argv ends past its
                // last word, at the line's break.
                let end = container.end_byte();
                let end = end + usize::from(bytes.get(end) == Some(&b'\n'));
                parsed.place_span(
                    HostSpan::new(container.start_byte(), end),
                    "k8s-container",
                    &container_name,
                    list,
                );
                fragment.in_container = !host_network;
                // A BusyBox image's wget cannot PUT (the analysis lets a script that installs
                // GNU wget first off).
                fragment.busybox = yaml::get(container, bytes, "image")
                    .and_then(|i| yaml::scalar_string(i, bytes))
                    .is_some_and(|image| super::dockerfile::busybox_image(&image));
                parsed.fragments.push(fragment);
                if !host_network {
                    parsed
                        .container_side
                        .push(HostSpan::new(container.start_byte(), container.end_byte()));
                }
            }
        }
    }
}

/// A command line given as words: `[sh, -c, SCRIPT, …]` is the script; otherwise the words.
pub fn command_line(argv: &[Scalar], host: HostId) -> Option<crate::fragment::Fragment> {
    let program = argv.first()?.text.rsplit('/').next()?.to_owned();
    let mut script = ScriptBuilder::default();
    if SHELLS.contains(&program.as_str()) {
        let flag = argv
            .iter()
            .skip(1)
            .position(|w| w.text.starts_with('-') && w.text.contains('c'))?;
        script.push_scalar(argv.get(flag + 2)?);
    } else {
        script.push_argv(argv);
    }
    let mut fragment = script.finish(host);
    fragment.in_container = true;
    Some(fragment)
}
