//! Link facts: what front ends learn about objects that link files (a Cluster API machine set
//! naming its bootstrap Secret, a Terraform `file()`), what the check of one file records of them
//! in file coordinates ([`FileLinks`]), and what the pass across files (`crate::links`) tells a
//! file about the others ([`External`]).

use std::path::PathBuf;

use crate::model::finding::Related;
use crate::model::setting::{MetadataSetting, Variable};
use crate::source::FileSpan;

/// The kinds of object machines boot from that front ends read: a bootstrap Secret, and the
/// Cluster API bootstrap configurations (and templates, and control planes that hold one).
pub const BOOT_KINDS: &[&str] = &[
    "Secret",
    "KubeadmConfig",
    "KubeadmConfigTemplate",
    "KubeadmControlPlane",
    "KubeadmControlPlaneTemplate",
    "EKSConfig",
    "EKSConfigTemplate",
    "NodeadmConfig",
    "NodeadmConfigTemplate",
];

/// A Kubernetes object by kind, name and namespace (`default` when the manifest names none).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectRef {
    pub kind: String,
    pub name: String,
    pub namespace: String,
}

/// What a front end learns about links in one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fact {
    /// Boot data machines may name: a Secret whose `value` may be a bootstrap script, or a Cluster
    /// API bootstrap configuration (`KubeadmConfigTemplate`, `EKSConfigTemplate`, a
    /// `KubeadmControlPlane`'s spec), whose code the provider renders into its machines' user
    /// data. Its code is the `Parsed`'s `fragments` and `embedded` listed.
    Boot {
        object: ObjectRef,
        fragments: Vec<usize>,
        embedded: Vec<usize>,
        /// Why some of it was not read (a file whose content is taken from a Secret).
        unread: Vec<String>,
    },
    /// A set of machines (`MachinePool`, `MachineDeployment`, `KubeadmControlPlane`): what they
    /// boot from (a Secret by `dataSecretName`, or a bootstrap configuration by `configRef`) and
    /// the infrastructure object that launches them.
    Machines {
        boot: Option<ObjectRef>,
        infra: Option<ObjectRef>,
    },
    /// An infrastructure object that declares the setting `Parsed.settings[setting]`.
    Infra { object: ObjectRef, setting: usize },
    /// A resource that runs containers on the instances of a Terraform launch template
    /// (`aws_launch_template.NAME`), and what it is (`an aws_eks_node_group`).
    ContainerUser { template: String, user: String },
}

/// A tokenless request (IMDS001) that may be boot code of a setting in another file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pub span: FileSpan,
    pub line: usize,
    /// Whether `--fix` rewrites it (a safe IMDS001 fix).
    pub fixable: bool,
    /// The request, for the setting's finding to point at.
    pub place: Related,
}

/// A setting whose boot code may be in other files, in file coordinates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedSetting {
    /// The infrastructure object that declares it, when machine sets may point at it (CAPA).
    pub object: Option<ObjectRef>,
    /// The files its user data reads (Terraform `file()`), as paths from the scan's directory.
    pub files: Vec<PathBuf>,
    /// The named user data it uses that its own file does not define (Terraform
    /// `data.cloudinit_config.NAME`, `local.NAME`): defined in another file of the module.
    pub symbols: Vec<String>,
    /// A Terraform launch template's own name (`aws_launch_template.NAME`), which resources that
    /// run containers may use from another file of the module.
    pub launched_as: Option<String>,
    /// The Terraform input variables its values read that its own file does not declare.
    pub variables: Vec<String>,
    pub setting: MetadataSetting,
    /// The tokens value (or the resource head) in the file, and its line: the setting's key in
    /// [`Boot::at`].
    pub span: FileSpan,
    pub line: usize,
    /// The tokens value (or head), for the findings at the requests to point at.
    pub place: Related,
}

/// The link facts of one checked file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileLinks {
    /// Boot data machines may name (bootstrap Secrets and configurations).
    pub secrets: Vec<BootData>,
    /// `(what the machines boot from, infrastructure object)`.
    pub machines: Vec<(Option<ObjectRef>, Option<ObjectRef>)>,
    pub settings: Vec<LinkedSetting>,
    /// The tokenless requests of the whole file, when it is a script another file's `file()`
    /// may name.
    pub script: Vec<Site>,
    /// User data the file defines by name, for settings in other files of its module.
    pub definitions: Vec<NamedUserData>,
    /// Launch templates that resources of this file run containers on: `(template, user)`.
    pub container_users: Vec<(String, String)>,
    /// Launch templates that instances of this file are launched from, leaving the tokens
    /// setting to the template, with the tokenless requests of their own user data.
    pub template_boots: Vec<(String, Vec<Site>)>,
    /// Metadata requests made from inside a container, off its instance's network (a pod's
    /// command without `hostNetwork`, a Dockerfile `CMD`): the settings of every file hear of them.
    pub container_requests: Vec<Related>,
    /// Files a container of this file runs (a script a Dockerfile copies and names in `CMD` or
    /// `ENTRYPOINT`), as paths from the scan's directory: their requests are made from inside it.
    pub container_scripts: Vec<PathBuf>,
    /// Every metadata request of the whole file, when it is a script a container may run.
    pub script_requests: Vec<Related>,
    /// Whether the file declares instance metadata settings, which the container-side requests
    /// of the other files concern.
    pub declares_settings: bool,
    /// The file's application evidence: dependency findings (IMDS020, IMDS021), packages too old
    /// for IMDSv2, which the settings of its directory tree hear of.
    pub applications: Vec<Related>,
    /// The Terraform input variables the file declares, with where (`Variable::at`).
    pub variables: Vec<Variable>,
    /// The file is documentation (a Markdown runbook's code blocks): examples shown to readers,
    /// whose objects join only each other, and whose container requests no setting hears of.
    pub documentation: bool,
}

/// Boot data that machines may name: a bootstrap Secret or configuration, its tokenless
/// requests, and why any of it was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootData {
    pub object: ObjectRef,
    pub sites: Vec<Site>,
    pub unread: Vec<String>,
}

/// User data defined by name in a file (Terraform `local.NAME`, `data.cloudinit_config.NAME`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedUserData {
    pub symbol: String,
    /// Its tokenless requests.
    pub sites: Vec<Site>,
    /// The files its value reads (`file()`).
    pub files: Vec<PathBuf>,
    /// The container runtime its text names, if any.
    pub runtime: Option<&'static str>,
}

impl FileLinks {
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
            && self.machines.is_empty()
            && self.settings.is_empty()
            && self.script.is_empty()
            && self.definitions.is_empty()
            && self.container_users.is_empty()
            && self.template_boots.is_empty()
            && self.container_requests.is_empty()
            && self.applications.is_empty()
            && self.container_scripts.is_empty()
            && self.script_requests.is_empty()
            && !self.declares_settings
            && self.variables.is_empty()
    }
}

/// What the other files of the scan say about one file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct External {
    /// The boot code of this file's settings that is in other files.
    pub boots: Vec<Boot>,
    /// The settings in other files whose instances boot with requests of this file.
    pub booted_by: Vec<BootedBy>,
    /// Metadata requests made from inside containers in the other files of the scan (told to a
    /// file that declares settings): [`FileLinks::container_requests`], and the requests of the
    /// scripts containers run.
    pub container_requests: Vec<Related>,
    /// Application evidence (IMDS020, IMDS021 findings) in the other files of this file's
    /// directory tree (told to a file that declares settings): applications that would lose
    /// their credentials once tokens are required.
    pub applications: Vec<Related>,
}

impl External {
    pub fn is_empty(&self) -> bool {
        self.boots.is_empty()
            && self.booted_by.is_empty()
            && self.container_requests.is_empty()
            && self.applications.is_empty()
    }

    /// The other files' boot code of the setting at `at`, if the pass across files found any.
    pub fn boot(&self, at: FileSpan) -> Option<&Boot> {
        self.boots.iter().find(|b| b.at == at)
    }
}

/// Boot code of one setting found in other files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Boot {
    /// The setting's tokens value (or head) in its file: [`LinkedSetting::span`].
    pub at: FileSpan,
    /// Where each tokenless request is: `boot.sh:3`.
    pub tokenless: Vec<String>,
    /// The same requests, to point at.
    pub places: Vec<Related>,
    /// How many of them `--fix` rewrites.
    pub fixable: usize,
    /// The files holding the boot code that the scan read.
    pub scripts: Vec<String>,
    /// Why some of the boot code is still not visible (a named Secret or file the scan did not
    /// read), if it is not; `None` when every piece was found.
    pub unread: Option<String>,
    /// Why the instances run containers, when a file their user data reads names a container
    /// runtime, or a resource of the module that runs containers uses the launch template.
    pub containers: Option<String>,
    /// The declarations of the input variables its values read, found in other files of its
    /// module.
    pub variables: Vec<Variable>,
}

/// A setting in another file whose instances boot with the request at `request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootedBy {
    pub request: FileSpan,
    pub setting: MetadataSetting,
    /// Where the setting's tokens field is: `main.tf:12`.
    pub location: String,
    /// The same, to point at.
    pub place: Related,
}
