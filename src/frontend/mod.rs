//! Front ends: a file is classified once from its name and first bytes, then the front end for its
//! host format cuts it into shell fragments (with offset maps into the host's bytes) and hands back
//! the encoded values it found (base64, gzip, a MIME part) as new hosts to read. Front ends know
//! file formats, never clients or rules.

pub mod ansible;
pub mod ci;
pub mod cloud_init;
pub mod cloudformation;
pub mod dependencies;
pub mod dockerfile;
pub mod eksctl;
pub mod helm;
pub mod imagebuilder;
pub mod images;
pub mod in_place;
pub mod jenkins;
pub mod kubernetes;
pub mod make;
pub mod manifests;
pub mod markdown;
pub mod mime;
pub mod packer;
pub mod packer_hcl;
pub mod powershell;
pub mod python;
pub mod script;
pub mod shell;
pub mod ssm;
pub mod terraform;
pub mod workflow;
pub mod yaml;

use std::path::{Path, PathBuf};

use crate::fragment::codec::Codec;
use crate::fragment::{Fragment, HostId, HostSpan, OffsetMap};
use crate::model::{Note, OriginEntry};

/// The host format of a file or decoded value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A shell script.
    Shell,
    /// One shell command line that must stand alone (no statement can be added before it).
    ShellCommand,
    /// A Dockerfile or Containerfile.
    Dockerfile,
    /// cloud-init user data (`#cloud-config`).
    CloudConfig,
    /// `#cloud-boothook` user data: a shell script after its first line.
    Boothook,
    /// MIME multipart user data.
    Mime,
    /// Gzip-compressed user data.
    Gzip,
    /// A YAML or JSON file that may be a Kubernetes manifest, a CloudFormation template or a CI
    /// workflow: each document is read as what its shape says.
    Manifest,
    /// Terraform configuration.
    Terraform,
    /// A makefile (`Makefile`, `GNUmakefile`, `*.mk`).
    Make,
    /// A dependency manifest or lockfile, known by its file name.
    Dependencies(dependencies::Format),
    /// A Python script.
    Python,
    /// A Jenkinsfile (or a Groovy file holding `sh` steps).
    Jenkinsfile,
    /// A Packer HCL2 template (`*.pkr.hcl`).
    PackerHcl,
    /// A PowerShell script (`.ps1`, `.psm1`).
    PowerShell,
    /// EC2 Windows user data: `<powershell>` and `<script>` sections.
    WindowsUserData,
    /// A Helm chart template: Kubernetes YAML with Go template actions.
    Helm,
    /// Documentation (Markdown, reStructuredText, AsciiDoc): its tagged code blocks.
    Documentation(markdown::Format),
}

impl Kind {
    /// The front end's name, as `--statistics` prints it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Shell => "shell",
            Kind::ShellCommand => "shell command",
            Kind::Dockerfile => "Dockerfile",
            Kind::CloudConfig => "cloud-config",
            Kind::Boothook => "boothook",
            Kind::Mime => "MIME user data",
            Kind::Gzip => "gzip user data",
            Kind::Manifest => "YAML/JSON manifest",
            Kind::Terraform => "Terraform",
            Kind::Make => "makefile",
            Kind::Dependencies(_) => "dependencies",
            Kind::Python => "Python",
            Kind::Jenkinsfile => "Jenkinsfile",
            Kind::PackerHcl => "Packer HCL",
            Kind::PowerShell => "PowerShell",
            Kind::WindowsUserData => "Windows user data",
            Kind::Helm => "Helm template",
            Kind::Documentation(_) => "documentation",
        }
    }

    /// Whether a file of this kind is run whole as a script (user data another file's `file()`
    /// may name), rather than carrying scripts in its values.
    pub fn is_script(self) -> bool {
        matches!(
            self,
            Kind::Shell
                | Kind::ShellCommand
                | Kind::CloudConfig
                | Kind::Boothook
                | Kind::Mime
                | Kind::Gzip
                | Kind::WindowsUserData
        )
    }

    /// Whether the front end reads a host of this kind as one fragment of code that is the whole
    /// host (so that the fragment not analysed is the host not analysed).
    pub fn is_one_fragment(self) -> bool {
        matches!(
            self,
            Kind::Shell | Kind::ShellCommand | Kind::Boothook | Kind::Python | Kind::PowerShell
        )
    }

    /// Whether a file of this kind is read whatever it holds: a dependency manifest names no
    /// endpoint, and is known by its name alone.
    pub fn is_read_by_name(self) -> bool {
        matches!(self, Kind::Dependencies(_))
    }

    /// Whether a file of this kind with these bytes may matter to other files without making a
    /// request itself: a Terraform file may make instances run another file (`file()`), which
    /// holds the requests, or define user data by name that a setting in another file of the
    /// module uses; a Dockerfile may copy a script into its image and run it when the container
    /// runs (`COPY`/`ADD`, then `CMD`/`ENTRYPOINT`); a Cluster API bootstrap configuration is
    /// the boot code of machines another file declares; Ansible tasks run script files. Such a
    /// file is read even when the prefilter
    /// finds nothing in it.
    pub fn may_link_files(self, bytes: &[u8]) -> bool {
        let any = |needles: &[&[u8]]| {
            needles
                .iter()
                .any(|needle| memchr::memmem::find(bytes, needle).is_some())
        };
        match self {
            Kind::Terraform => any(&[
                b"file(",
                b"cloudinit_config",
                b"template_file",
                b"locals",
                // Input variables, whose defaults settings in other files read.
                b"variable",
            ]),
            // A legacy JSON Packer template whose provisioners run script files.
            Kind::PackerHcl => any(&[b"script", b"user_data_file"]),
            Kind::Manifest => {
                (any(&[b"\"provisioners\"", b"\"builders\""])
                    && any(&[b"\"script\"", b"\"scripts\"", b"\"user_data_file\""]))
                    // A Cluster API bootstrap configuration, or a machine set naming one: the
                    // boot code of settings in other files, clean or not. Only files the
                    // prefilter passed over are searched, and only these documents are parsed
                    // (`manifests::parse_kept`), not every Cluster API object.
                    || any(&[
                        b"bootstrap.cluster.x-k8s.io/",
                        b"controlplane.cluster.x-k8s.io/",
                    ])
                    // Ansible tasks that run script files (read as scripts, wherever they are).
                    || ansible::runs_script_files(bytes)
            }
            Kind::Dockerfile => {
                let upper = bytes.to_ascii_uppercase();
                let has = |needle: &[u8]| memchr::memmem::find(&upper, needle).is_some();
                (has(b"COPY") || has(b"ADD")) && (has(b"CMD") || has(b"ENTRYPOINT"))
            }
            _ => false,
        }
    }
}

/// A value found inside a host that is itself a host (decoded), to be read with `kind` (or with
/// the kind its content says).
#[derive(Debug)]
pub struct Embedded {
    /// The encoded value in the host it was found in.
    pub span: HostSpan,
    pub bytes: Vec<u8>,
    pub codec: Codec,
    /// Decoded offsets to host offsets, when they correspond one to one.
    pub map: Option<OffsetMap>,
    pub origin: Vec<OriginEntry>,
    pub kind: Option<Kind>,
}

/// What a front end found in a host.
#[derive(Debug, Default)]
pub struct Parsed {
    pub fragments: Vec<Fragment>,
    pub embedded: Vec<Embedded>,
    /// Problems with this host (broken syntax, a value that cannot be decoded), for the user:
    /// `Skipped` when the host was not read at all, `PartlyAnalysed` when some of it was not.
    pub diagnostics: Vec<Note>,
    /// The parts of this host its parser could not read (a block or instruction with a syntax
    /// error in it, text the parser skipped): what is read there may not be what is written, so
    /// findings there say so and no fix edits there.
    pub unparsed: Vec<HostSpan>,
    /// Other files that this one makes run as user data (Terraform `file()`).
    pub referenced: Vec<PathBuf>,
    /// Where to look for a referenced file (a path of `referenced`) when it is not there: an
    /// Ansible playbook's `script` is looked for in its `files/` directory first, then beside
    /// it. Pairs of (the path as referenced, the other place), from this file's directory.
    pub referenced_fallbacks: Vec<(PathBuf, PathBuf)>,
    /// Instance metadata settings declared in this host (see `crate::model::setting`).
    pub settings: Vec<crate::model::setting::MetadataSetting>,
    /// Packages this host declares, pins or installs (see `crate::model::dependency`).
    pub dependencies: Vec<crate::model::dependency::Dependency>,
    /// Facts that link objects across files (see `crate::links`).
    pub links: Vec<crate::model::links::Fact>,
    /// User data defined by name (Terraform `local.NAME`, `data.cloudinit_config.NAME`), which a
    /// setting in another file of the module may use.
    pub definitions: Vec<Definition>,
    /// Code written in the host that its consumer never runs (a `runcmd` a later duplicate key
    /// shadows): analysed only to say, in a note, that requests in it are not reported.
    pub not_run: Vec<NotRun>,
    /// Terraform input variables declared in this host, with their defaults, for settings in
    /// other files of the module whose values read them.
    pub variables: Vec<crate::model::setting::Variable>,
    /// Text of this host that several places read (a YAML node that aliases stand for): a fix
    /// that edits it changes every one of them.
    pub shared: Vec<HostSpan>,
    /// The parts of this host that a container runs when it runs, one network hop further from
    /// IMDS than its instance: a Dockerfile `CMD`/`ENTRYPOINT`/`HEALTHCHECK`, the command of a
    /// Kubernetes container whose pod is not on the node's network. A metadata request there needs
    /// a hop limit of 2 on the instances that run it.
    pub container_side: Vec<HostSpan>,
    /// Files of the scan (paths from this file's directory) that a container of this host runs
    /// when it runs: a script a Dockerfile copies from its build context and names in `CMD` or
    /// `ENTRYPOINT`.
    pub container_scripts: Vec<PathBuf>,
    /// Named parts of this host that findings inside them name in their origin chain, after the
    /// layers the host itself sits in (a CI job's step, a Jenkinsfile step): the part's span and
    /// its entry. Nested parts are listed outermost first.
    pub places: Vec<(HostSpan, OriginEntry)>,
    /// The parts of this host that are documentation (code shown to readers, who copy it, rather
    /// than run): the check lowers the findings there to warnings.
    pub documentation: Vec<HostSpan>,
    /// Code blocks of documentation without a language tag that name the metadata service's
    /// address: not read, counted under `--statistics`.
    pub untagged_blocks: usize,
}

impl Parsed {
    /// Names a part of the host (a CI job's step, an SSM document's step, a Packer provisioner)
    /// in the origin chain of the findings inside it: layer `layer` (the host format), name
    /// `name` (what holds the part: a job, a step, a resource), key `key` (the part). An empty
    /// name or key is left out.
    pub fn place(&mut self, node: tree_sitter::Node, layer: &str, name: &str, key: &str) {
        self.place_span(
            HostSpan::new(node.start_byte(), node.end_byte()),
            layer,
            name,
            key,
        );
    }

    /// [`Parsed::place`] of a span of the host.
    pub fn place_span(&mut self, span: HostSpan, layer: &str, name: &str, key: &str) {
        let mut entry = OriginEntry::layer(layer);
        if !name.is_empty() {
            entry = entry.with_name(name);
        }
        if !key.is_empty() {
            entry = entry.with_key(key);
        }
        self.places.push((span, entry));
    }
}

/// Code a consumer never runs, and why.
#[derive(Debug)]
pub struct NotRun {
    pub fragment: Fragment,
    pub why: String,
}

/// User data defined by name: the fragments, decoded values and referenced files (indices into
/// the same `Parsed`) that its value is made of, names it uses followed within the host.
#[derive(Debug, Clone, Default)]
pub struct Definition {
    pub symbol: String,
    pub fragments: Vec<usize>,
    pub embedded: Vec<usize>,
    pub referenced: Vec<usize>,
}

/// Byte strings that make a file worth reading for settings even when no metadata request can be
/// in it (the prefilter in `crate::check`): the resource types and kinds that carry instance metadata settings.
pub const SETTINGS_NEEDLES: &[&str] = &[
    "aws_instance",
    "aws_launch_template",
    "aws_spot_instance_request",
    "aws_launch_configuration",
    "AWS::EC2::Instance",
    "AWS::EC2::LaunchTemplate",
    "AWS::AutoScaling::LaunchConfiguration",
    "AWSMachine",
    "AWSManagedMachinePool",
    "eksctl.io/",
    "instance-metadata-",
    "run-instances",
    "dataSecretName",
    // Terraform module inputs (`metadata_options = { http_tokens = … }`).
    "http_tokens",
    // Packer sources and builders that launch a build instance (`amazon-ebs`, `amazon-ebsvolume`,
    // `amazon-ebssurrogate`, `amazon-instance`): settings even when left unset.
    "amazon-ebs",
    "amazon-instance",
];

/// Says which front end reads a file, if any.
pub fn classify(path: &Path, bytes: &[u8]) -> Option<Kind> {
    if let Some(format) = dependencies::Format::of(path) {
        return Some(Kind::Dependencies(format));
    }
    // Documentation first: `Dockerfile.md` and `Makefile.md` are pages about them.
    if let Some(format) = markdown::Format::of(path) {
        return Some(Kind::Documentation(format));
    }
    if dockerfile::is_dockerfile(path) {
        return Some(Kind::Dockerfile);
    }
    if make::is_makefile(path) {
        return Some(Kind::Make);
    }
    if jenkins::is_jenkinsfile(path, bytes) {
        return Some(Kind::Jenkinsfile);
    }
    if let Some(kind) = user_data_kind(bytes) {
        return Some(kind);
    }
    if shell::is_shell(path, bytes) {
        return Some(Kind::Shell);
    }
    if python::is_python(path, bytes) {
        return Some(Kind::Python);
    }
    if packer_hcl::is_packer(path) {
        return Some(Kind::PackerHcl);
    }
    if powershell::is_powershell(path, bytes) {
        return Some(Kind::PowerShell);
    }
    if helm::is_template(path, bytes) {
        return Some(Kind::Helm);
    }
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("yaml" | "yml" | "json" | "template") => Some(Kind::Manifest),
        Some("tf") => Some(Kind::Terraform),
        _ => None,
    }
}

/// User data formats recognised by their first bytes.
pub(crate) fn user_data_kind(bytes: &[u8]) -> Option<Kind> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return Some(Kind::Gzip);
    }
    let start = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    if start.starts_with(b"#cloud-config") {
        return Some(Kind::CloudConfig);
    }
    if start.starts_with(b"#cloud-boothook") {
        return Some(Kind::Boothook);
    }
    if mime::is_mime(start) {
        return Some(Kind::Mime);
    }
    if powershell::starts_windows_user_data(start) {
        return Some(Kind::WindowsUserData);
    }
    None
}

/// Says how to read a decoded value (user data, a Secret's value, a referenced file) from its
/// content alone: a user-data format, or else a shell script.
pub fn classify_content(bytes: &[u8]) -> Option<Kind> {
    if let Some(kind) = user_data_kind(bytes) {
        return Some(kind);
    }
    if powershell::holds_windows_user_data(bytes) {
        return Some(Kind::WindowsUserData);
    }
    Some(Kind::Shell)
}

/// Reads one host with the front end for `kind`; its fragments point into `host`.
pub fn parse(kind: Kind, bytes: &[u8], host: HostId) -> Parsed {
    match kind {
        Kind::Shell => with_agent_options(shell::parse(bytes, host), bytes, host),
        Kind::ShellCommand => shell::parse_command(bytes, host),
        Kind::Dockerfile => {
            let mut parsed = dockerfile::parse(bytes, host);
            parsed
                .dependencies
                .extend(images::dockerfile_images(bytes, host));
            with_agent_options(parsed, bytes, host)
        }
        Kind::CloudConfig => cloud_init::parse(bytes, host),
        Kind::Boothook => shell::parse_boothook(bytes, host),
        Kind::Mime => mime::parse(bytes, host),
        Kind::Gzip => gzip(bytes),
        Kind::Manifest => manifest(bytes, host, &|_| true),
        Kind::Terraform => terraform::parse(bytes, host),
        Kind::Make => make::parse(bytes, host),
        Kind::Dependencies(format) => dependencies::parse(format, bytes, host),
        Kind::Python => python::parse(bytes, host),
        Kind::Jenkinsfile => jenkins::parse(bytes, host),
        Kind::PackerHcl => packer_hcl::parse(bytes, host),
        Kind::PowerShell => powershell::parse(bytes, host),
        Kind::WindowsUserData => powershell::parse_user_data(bytes, host),
        Kind::Documentation(format) => markdown::parse(format, bytes, host),
        Kind::Helm => helm::parse(bytes, host),
    }
}

/// [`parse`], where a stream of YAML documents (`Kind::Manifest`) is read only in the documents
/// that `worth_reading` says may matter (and those its front end needs whatever they hold).
pub fn parse_kept(
    kind: Kind,
    bytes: &[u8],
    host: HostId,
    worth_reading: &dyn Fn(&[u8]) -> bool,
) -> Parsed {
    match kind {
        Kind::Manifest => manifest(bytes, host, worth_reading),
        _ => parse(kind, bytes, host),
    }
}

fn manifest(bytes: &[u8], host: HostId, worth_reading: &dyn Fn(&[u8]) -> bool) -> Parsed {
    let mut parsed = manifests::parse_kept(bytes, host, worth_reading);
    parsed.dependencies.extend(images::yaml_images(bytes, host));
    with_agent_options(parsed, bytes, host)
}

/// Adds the agent options that turn IMDSv2 off (see `images::agent_options`) written in a host.
fn with_agent_options(mut parsed: Parsed, bytes: &[u8], host: HostId) -> Parsed {
    parsed
        .dependencies
        .extend(images::agent_options(bytes, host));
    parsed
}

/// Words that make a file worth reading for the images and agent options it names even when no
/// metadata request can be in it (the prefilter in `crate::check`), besides the image names of
/// the minimum-versions table: the Datadog option that turns IMDSv2 off.
pub const AGENT_NEEDLES: &[&str] = &[
    images::DATADOG_PREFER_IMDSV2,
    images::DATADOG_CHART_VALUES,
    // SDKs installed at a version by a command (`pip install boto3==1.9.0`, `npm install
    // aws-sdk@2.1.0`, `gem install aws-sdk-core`, `yum install awscli-1.16.0`, `apt-get install
    // awscli=1.16.0-1`): the pinned spellings only.
    "boto3==",
    "botocore==",
    "awscli==",
    "aws-sdk@",
    "aws-sdk-core",
    "awscli-1.",
    "awscli=1.",
];

/// User data that is not read here: Windows user data that is not (`<script>` in a text that
/// does not look like it, see `powershell::starts_windows_user_data`) or a script for another
/// interpreter. Windows user data is read by `powershell::parse_user_data`.
pub fn is_foreign(text: &[u8]) -> bool {
    let text = text.strip_prefix(b"\xef\xbb\xbf").unwrap_or(text);
    let start = text.trim_ascii_start();
    let head: Vec<u8> = start.iter().take(16).map(u8::to_ascii_lowercase).collect();
    if head.starts_with(b"<powershell>") || head.starts_with(b"<script>") {
        return !powershell::starts_windows_user_data(start);
    }
    if text.starts_with(b"#!") {
        let end = memchr::memchr(b'\n', text).unwrap_or(text.len()).min(512);
        let line = String::from_utf8_lossy(text.get(..end).unwrap_or_default());
        return !crate::fragment::language::is_shell_shebang(line.trim_end_matches('\r'));
    }
    false
}

/// PowerShell code a host runs (an Image Builder `ExecutePowerShell` step, an SSM
/// `aws:runPowerShellScript`, a Packer `powershell` provisioner), built as one script like the
/// host's shell code: a fragment for the PowerShell analysis, written back through the same
/// layers. The one place that decides it, for every host.
pub fn powershell(script: script::ScriptBuilder, host: HostId, parsed: &mut Parsed) {
    if script.is_empty() {
        return;
    }
    let mut fragment = script.finish(host);
    fragment.language = crate::fragment::Language::PowerShell;
    parsed.fragments.push(fragment);
}

/// Gzip-compressed user data: the decompressed bytes, read as what they say they are.
fn gzip(bytes: &[u8]) -> Parsed {
    let mut parsed = Parsed::default();
    match crate::fragment::gzip::decode(bytes) {
        Some(decoded) => parsed.embedded.push(Embedded {
            span: HostSpan::new(0, bytes.len()),
            kind: classify_content(&decoded),
            bytes: decoded,
            codec: Codec::Gzip,
            map: None,
            origin: Vec::new(),
        }),
        None => parsed.diagnostics.push(Note::skipped(
            "gzip data that cannot be decompressed (or over 16 MiB)",
        )),
    }
    parsed
}
