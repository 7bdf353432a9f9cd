//! Checking one file: classify, prefilter, cut into fragments, analyse, run the rules, map spans
//! back, apply suppressions. Everything here works on bytes already read; reading and walking live
//! in the CLI.

use std::path::PathBuf;
use std::sync::OnceLock;

use aho_corasick::AhoCorasick;

use crate::fix::{self, Fix, FixSettings, Target};
use crate::fragment::codec::Codec;
use crate::fragment::{FragmentSpan, HostId, HostSpan, OffsetMap};
use crate::frontend;
use crate::links::{External, Fact, FileLinks, LinkedSetting, ObjectRef, Site};
use crate::rules::{self, Rule, Severity};
use crate::settings::MetadataSetting;
use crate::shell;
use crate::source::{FileSpan, SourceFile};
use crate::suppress::Suppressions;

/// Which rules run.
#[derive(Debug, Clone, Default)]
pub struct RuleSelection {
    /// Only these codes (all when empty).
    pub select: Vec<String>,
    /// Never these codes.
    pub ignore: Vec<String>,
}

impl RuleSelection {
    pub fn enabled(&self, rule: &Rule) -> bool {
        let named = |codes: &[String]| codes.iter().any(|c| c.eq_ignore_ascii_case(rule.code));
        (self.select.is_empty() || named(&self.select)) && !named(&self.ignore)
    }
}

/// Everything that decides what a check reports.
#[derive(Debug, Clone, Default)]
pub struct CheckSettings {
    pub rules: RuleSelection,
    pub fix: FixSettings,
    /// Severities that differ from the rules table (`severity = { IMDS004 = "error" }`).
    pub severity: Vec<(&'static str, Severity)>,
}

impl CheckSettings {
    /// The severity findings of `rule` get.
    pub fn severity_of(&self, rule: &Rule) -> Severity {
        self.severity
            .iter()
            .find(|(code, _)| *code == rule.code)
            .map_or(rule.severity, |(_, severity)| *severity)
    }
}

/// One step on the way from the file to the code a finding is in, outermost first: a container
/// (`{"layer": "k8s-secret", "key": "value"}`) or an encoding with the finding's position in the
/// decoded text (`{"layer": "base64", "line": 2, "column": 4}`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OriginEntry {
    pub layer: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
}

impl OriginEntry {
    pub fn layer(layer: &str) -> Self {
        OriginEntry {
            layer: layer.to_owned(),
            key: None,
            name: None,
            line: None,
            column: None,
        }
    }

    pub fn with_key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

/// One problem found in a file.
#[derive(Debug, Clone)]
pub struct Finding {
    pub rule: &'static Rule,
    pub severity: Severity,
    /// In the file on disk; for a request inside an encoded value, the whole value.
    pub span: FileSpan,
    pub message: String,
    pub help: String,
    /// With edits on the file on disk.
    pub fix: Option<Fix>,
    /// Empty for code written plainly in the file.
    pub origin: Vec<OriginEntry>,
    /// For a request inside an encoded value: the offending command as decoded, redacted.
    pub decoded: Option<String>,
    /// Other places the finding is about (the setting that requires tokens, the tokenless
    /// requests that keep a setting from requiring them), in this file or another.
    pub related: Vec<Related>,
}

/// What a related place says: a tokenless request in the boot code of a setting's instances.
const TOKENLESS_HERE: &str = "tokenless request in the boot code of these instances";
/// What a related place says: the setting of the instances a request boots.
const SETTING_HERE: &str = "the setting of the instances this boot code runs on";

/// A second place a finding points to, with what reporters need to show it without the file:
/// its path, position and the text of its first line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    pub path: PathBuf,
    pub span: FileSpan,
    /// 1-based line and column (in characters) of the span's start.
    pub line: usize,
    pub column: usize,
    /// The span's first line (decoded lossily, without its line break), or a window of it around
    /// the span when the line is long, and the span's byte range in that text (cut at its end).
    pub text: String,
    pub range: (usize, usize),
    /// How many characters of the line precede `text` (0 unless the line was cut).
    pub text_column: usize,
    pub message: String,
}

/// How many bytes of a long line a related place keeps on each side of its span (every
/// tokenless request of a script keeps one, so a one-line script of thousands must not copy the
/// line thousands of times).
const RELATED_WINDOW: usize = 160;

impl Related {
    pub fn at(source: &SourceFile, span: FileSpan, message: &str) -> Self {
        let position = source.position(span.start);
        let (line_start, line_end) = source.line_range(source.line_index(span.start));
        let from = span.start.0.saturating_sub(RELATED_WINDOW).max(line_start);
        let to = (span.end.0.max(span.start.0) + RELATED_WINDOW).min(line_end);
        let window = source.bytes.get(from..to.max(from)).unwrap_or_default();
        let lossy = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        let lossy_len = |end: usize| {
            let cut = end.clamp(from, to.max(from)) - from;
            lossy(window.get(..cut).unwrap_or_default()).len()
        };
        let range = (lossy_len(span.start.0), lossy_len(span.end.0));
        let text = lossy(window);
        let before = text.get(..range.0).map_or(0, |t| t.chars().count());
        Related {
            path: source.path.clone(),
            span,
            line: position.line,
            column: position.column,
            text,
            range: (range.0, range.1.max(range.0)),
            text_column: position.column.saturating_sub(1 + before),
            message: message.to_owned(),
        }
    }
}

/// A host: bytes a front end reads. Host 0 is the file itself; others were decoded from a value
/// in their parent host.
#[derive(Debug)]
pub struct Host {
    pub bytes: Vec<u8>,
    pub link: Option<HostLink>,
}

/// How a host sits in its parent.
#[derive(Debug)]
pub struct HostLink {
    pub parent: HostId,
    /// The encoded value in the parent.
    pub span: HostSpan,
    /// Host offsets to parent offsets, when they correspond one to one (a YAML scalar); `None`
    /// for opaque encodings, whose every offset maps to the value as a whole.
    pub map: Option<OffsetMap>,
    pub codec: Codec,
    /// The containers between the parent and this host (a Secret's key, a MIME part).
    pub origin: Vec<OriginEntry>,
}

/// What became of one file.
#[derive(Debug)]
pub enum Outcome {
    /// Not a format any front end reads.
    NotRecognised,
    /// Recognised, but none of the endpoint spellings occur in it: never parsed.
    Prefiltered,
    /// Parsed and checked (possibly with no findings).
    Checked {
        source: SourceFile,
        findings: Vec<Finding>,
        /// Notes for the user where part of the file could not be read or analysed.
        notes: Vec<String>,
        /// Other files this one makes instances run (Terraform `file()`), to check as user data.
        referenced: Vec<PathBuf>,
        /// What links this file's objects to other files' (see `crate::links`).
        links: Box<crate::links::FileLinks>,
        /// One summary per declared setting, for the migration view.
        summaries: Vec<crate::migration::SettingSummary>,
    },
}

impl Outcome {
    pub fn findings(&self) -> &[Finding] {
        match self {
            Outcome::Checked { findings, .. } => findings,
            _ => &[],
        }
    }
}

/// Whether a file's first 8 KiB hold a NUL byte (then it is binary and skipped), unless it is
/// gzip-compressed user data.
pub fn is_binary(bytes: &[u8]) -> bool {
    !bytes.starts_with(&[0x1f, 0x8b])
        && memchr::memchr(0, bytes.get(..8192).unwrap_or(bytes)).is_some()
}

fn prefilter() -> Option<&'static AhoCorasick> {
    static MATCHER: OnceLock<Option<AhoCorasick>> = OnceLock::new();
    MATCHER
        .get_or_init(|| {
            let mut needles: Vec<String> = shell::endpoint::prefilter_needles()
                .iter()
                .map(|s| (*s).to_owned())
                .collect();
            // Host names from the configuration (`extra-hosts`), set before the first check.
            let extra: Vec<String> = shell::endpoint::extra_hosts()
                .iter()
                .map(|h| h.trim_matches(['[', ']']).to_owned())
                .collect();
            needles.extend(base64_needles(&extra));
            // Files that declare instance metadata settings, requests or not.
            needles.extend(
                crate::settings::PREFILTER_NEEDLES
                    .iter()
                    .map(|s| (*s).to_owned()),
            );
            needles.extend(extra);
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(&needles)
                .ok()
        })
        .as_ref()
}

/// The base64 forms of the endpoint spellings at each of the three alignments, so that a
/// base64-encoded script is not prefiltered away. (Case-insensitive matching makes these a little
/// wider than needed, never narrower.)
fn base64_needles(extra: &[String]) -> Vec<String> {
    use base64::Engine;
    let mut out = Vec::new();
    let builtin = ["169.254.169.254", "fd00:ec2::254", "instance-data"];
    for needle in builtin
        .iter()
        .copied()
        .chain(extra.iter().map(String::as_str))
    {
        for shift in 0..3 {
            let mut padded = vec![b'A'; shift];
            padded.extend_from_slice(needle.as_bytes());
            let encoded = base64::engine::general_purpose::STANDARD.encode(&padded);
            // Drop the characters that also depend on the bytes before and after the needle.
            let skip = if shift == 0 {
                0
            } else {
                (shift * 4).div_ceil(3)
            };
            let keep = (padded.len() / 3) * 4;
            if let Some(stable) = encoded.get(skip..keep) {
                if stable.len() >= 8 {
                    out.push(stable.to_owned());
                }
            }
        }
    }
    out
}

/// Whether `bytes` may hold a metadata request at all.
pub fn may_reach_imds(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b]) || prefilter().is_none_or(|m| m.is_match(bytes))
}

/// How deep encoded values may nest (a Secret holding MIME holding base64 holding gzip …).
const MAX_HOST_DEPTH: usize = 6;
/// How many bytes all the decoded values of one file may add up to.
const MAX_DECODED_TOTAL: usize = 64 << 20;

/// Checks one file's bytes. `force_kind` reads the file with that front end whatever its name.
pub fn check_file(
    path: PathBuf,
    bytes: Vec<u8>,
    force_kind: Option<frontend::Kind>,
    settings: &CheckSettings,
) -> Outcome {
    check_file_linked(path, bytes, force_kind, settings, &External::default())
}

/// Checks one file knowing what the other files of the scan say about it (`crate::links`): the
/// boot code its settings have elsewhere, the settings elsewhere that its requests boot.
pub fn check_file_linked(
    path: PathBuf,
    bytes: Vec<u8>,
    force_kind: Option<frontend::Kind>,
    settings: &CheckSettings,
    external: &External,
) -> Outcome {
    let Some(kind) = force_kind.or_else(|| frontend::classify(&path, &bytes)) else {
        return Outcome::NotRecognised;
    };
    // A Terraform file may make instances run another file (`file()`), which holds the requests,
    // or define user data by name that a setting in another file of the module uses.
    let references_files = kind == frontend::Kind::Terraform
        && [
            &b"file("[..],
            b"cloudinit_config",
            b"template_file",
            b"locals",
        ]
        .iter()
        .any(|needle| memchr::memmem::find(&bytes, needle).is_some());
    if !may_reach_imds(&bytes) && !references_files {
        return Outcome::Prefiltered;
    }
    let source = SourceFile::new(path, bytes);
    let mut hosts = vec![Host {
        bytes: Vec::new(),
        link: None,
    }];
    let mut notes = Vec::new();
    let mut referenced = Vec::new();
    let mut fragments = Vec::new();
    let mut declared: Vec<Declared> = Vec::new();
    let mut facts: Vec<(Vec<(usize, HostId)>, Fact)> = Vec::new();
    let mut defined: Vec<Defined> = Vec::new();
    let mut queue = vec![(0usize, kind, 0usize)];
    let mut decoded_total = 0usize;
    while let Some((host, kind, depth)) = queue.pop() {
        let bytes = if host == 0 {
            &source.bytes
        } else {
            hosts.get(host).map(|h| &h.bytes).unwrap_or(&source.bytes)
        };
        let parsed = frontend::parse(kind, bytes, host);
        notes.extend(parsed.diagnostics);
        let dir = source.path.parent().unwrap_or(std::path::Path::new(""));
        let first_referenced = referenced.len();
        referenced.extend(parsed.referenced.into_iter().map(|p| dir.join(p)));
        let first_fragment = fragments.len();
        // An exec-form Dockerfile command runs in a container like the rest of the Dockerfile.
        let in_container = hosts
            .get(host)
            .and_then(|h| h.link.as_ref())
            .is_some_and(|l| l.codec == Codec::ExecForm);
        fragments.extend(parsed.fragments.into_iter().map(|mut f| {
            f.in_container |= in_container;
            f
        }));
        let mut decoded_hosts = Vec::new();
        for (index, embedded) in parsed.embedded.into_iter().enumerate() {
            if depth + 1 > MAX_HOST_DEPTH {
                notes
                    .push("encoded values nest too deeply; the innermost were not read".to_owned());
                continue;
            }
            decoded_total += embedded.bytes.len();
            if decoded_total > MAX_DECODED_TOTAL {
                notes.push("decoded values exceed 64 MiB; the rest were not read".to_owned());
                break;
            }
            let Some(kind) = embedded
                .kind
                .or_else(|| frontend::classify_content(&embedded.bytes))
            else {
                continue;
            };
            if !may_reach_imds(&embedded.bytes) {
                continue;
            }
            hosts.push(Host {
                bytes: embedded.bytes,
                link: Some(HostLink {
                    parent: host,
                    span: embedded.span,
                    map: embedded.map,
                    codec: embedded.codec,
                    origin: embedded.origin,
                }),
            });
            queue.push((hosts.len() - 1, kind, depth + 1));
            decoded_hosts.push((index, hosts.len() - 1));
        }
        defined.extend(parsed.definitions.iter().map(|d| {
            Defined {
                symbol: d.symbol.clone(),
                fragments: d.fragments.iter().map(|i| first_fragment + i).collect(),
                hosts: d
                    .embedded
                    .iter()
                    .filter_map(|i| decoded_hosts.iter().find(|(e, _)| e == i).map(|(_, h)| *h))
                    .collect(),
                files: d
                    .referenced
                    .iter()
                    .filter_map(|i| referenced.get(first_referenced + i).cloned())
                    .collect(),
            }
        }));
        let first_declared = declared.len();
        facts.extend(parsed.links.into_iter().map(|fact| {
            let fact = match fact {
                Fact::Infra { object, setting } => Fact::Infra {
                    object,
                    setting: first_declared + setting,
                },
                other => other,
            };
            (decoded_hosts.clone(), fact)
        }));
        declared.extend(parsed.settings.into_iter().map(|s| {
            Declared::new(
                s,
                first_fragment,
                &decoded_hosts,
                referenced.get(first_referenced..).unwrap_or_default(),
            )
        }));
    }
    let view = Hosts {
        source: &source,
        hosts: &hosts,
        markers: std::cell::RefCell::default(),
    };
    let file_suppressions = Suppressions::parse(&source.bytes);
    let mut findings = Vec::new();
    let analyses: Vec<shell::Analysis> = fragments.iter().map(shell::analyze).collect();
    for (fragment, analysis) in fragments.iter().zip(&analyses) {
        if let Some(error) = &analysis.error {
            notes.push(error.clone());
        }
        let mut raised = Vec::new();
        for (index, request) in analysis.requests.iter().enumerate() {
            for (rule, violation) in rules::check(request, |r| settings.rules.enabled(r)) {
                if !view.is_suppressed(&file_suppressions, rule.code, fragment.host, request.span) {
                    raised.push((index, rule, violation));
                }
            }
        }
        let targets: Vec<Target> = raised
            .iter()
            .map(|(request, rule, _)| Target {
                request: *request,
                code: rule.code,
            })
            .collect();
        let fixes = fix::plan(analysis, &targets, settings.fix.clone());
        for ((index, rule, mut violation), fix) in raised.into_iter().zip(fixes) {
            let Some(request) = analysis.requests.get(index) else {
                continue;
            };
            if fragment.in_container && matches!(rule.code, "IMDS001" | "IMDS002" | "IMDS003") {
                violation
                    .message
                    .push_str(" (from a container: IMDSv2 also needs a hop limit of 2)");
                violation.help.push_str(
                    "; a container is one network hop further from IMDS, so the instance needs HttpPutResponseHopLimit 2 for the token to reach it",
                );
            }
            let (origin, decoded) = view.origin(fragment.host, request.span);
            findings.push(Finding {
                rule,
                severity: settings.severity_of(rule),
                span: view.to_file(fragment.host, request.span),
                message: violation.message,
                help: violation.help,
                fix: fix.and_then(|fix| view.lift(fragment.host, fix)),
                origin,
                decoded,
                related: Vec::new(),
            });
        }
    }
    // Where `--fix` rewrites a tokenless request (a safe IMDS001 fix), looked up per request.
    let safely_fixed: std::collections::HashSet<FileSpan> = findings
        .iter()
        .filter(|f| {
            f.rule.code == "IMDS001"
                && f.fix
                    .as_ref()
                    .is_some_and(|x| x.applicability == fix::Applicability::Safe)
        })
        .map(|f| f.span)
        .collect();
    let fixable = |host: HostId, span: HostSpan| safely_fixed.contains(&view.to_file(host, span));
    let is_script = matches!(
        kind,
        frontend::Kind::Shell
            | frontend::Kind::ShellCommand
            | frontend::Kind::CloudConfig
            | frontend::Kind::Boothook
            | frontend::Kind::Mime
            | frontend::Kind::Gzip
    );
    let mut links = file_links(
        &view,
        &facts,
        (&declared, &defined),
        &fragments,
        &analyses,
        is_script,
    );
    for site in links
        .secrets
        .iter_mut()
        .flat_map(|(_, sites)| sites)
        .chain(&mut links.script)
        .chain(links.definitions.iter_mut().flat_map(|d| &mut d.sites))
    {
        site.fixable = safely_fixed.contains(&site.span);
    }
    let checking = Checking {
        view: &view,
        suppressions: &file_suppressions,
        settings,
        fragments: &fragments,
        analyses: &analyses,
        external,
    };
    let (setting_findings, summaries) = setting_findings(&checking, declared, &fixable);
    findings.extend(setting_findings);
    findings.extend(booted_findings(&checking));
    findings.sort_by_key(|f| (f.span.start, f.rule.code));
    findings.dedup_by(|a, b| {
        a.span == b.span
            && a.rule.code == b.rule.code
            && a.origin == b.origin
            && a.decoded == b.decoded
    });
    notes.sort();
    notes.dedup();
    Outcome::Checked {
        source,
        findings,
        notes,
        referenced,
        links: Box::new(links),
        summaries,
    }
}

/// The link facts of this file in file coordinates: the tokenless requests of each boot Secret
/// (and of the whole file when it is a script), the references of machine sets, and the settings
/// whose boot code may be in other files.
fn file_links(
    view: &Hosts,
    facts: &[(Vec<(usize, HostId)>, Fact)],
    (declared, defined): (&[Declared], &[Defined]),
    fragments: &[crate::fragment::Fragment],
    analyses: &[shell::Analysis],
    is_script: bool,
) -> FileLinks {
    let mut links = FileLinks::default();
    // The tokenless requests of the fragments `keep` says (by index) belong.
    let sites = |keep: &dyn Fn(usize, &crate::fragment::Fragment) -> bool| -> Vec<Site> {
        let mut sites = Vec::new();
        for (index, (fragment, analysis)) in fragments.iter().zip(analyses).enumerate() {
            if !keep(index, fragment) {
                continue;
            }
            for request in &analysis.requests {
                if !rules::tokenless_request::is_tokenless(request) {
                    continue;
                }
                let span = view.to_file(fragment.host, request.span);
                sites.push(Site {
                    span,
                    line: view.source.position(span.start).line,
                    fixable: false,
                    place: Related::at(view.source, span, TOKENLESS_HERE),
                });
            }
        }
        sites
    };
    if is_script {
        links.script = sites(&|_, _| true);
    }
    for definition in defined {
        let keep = |index: usize, fragment: &crate::fragment::Fragment| {
            definition.fragments.contains(&index) || view.descends(fragment.host, &definition.hosts)
        };
        let text: Vec<u8> = fragments
            .iter()
            .enumerate()
            .filter(|(i, f)| keep(*i, f))
            .flat_map(|(_, f)| f.text.iter().copied())
            .collect();
        links.definitions.push(crate::links::NamedUserData {
            symbol: definition.symbol.clone(),
            sites: sites(&keep),
            files: definition.files.clone(),
            runtime: crate::settings::container_runtime(&text),
        });
    }
    let linked = |setting: &MetadataSetting, object: Option<ObjectRef>, files: Vec<PathBuf>| {
        let span = view.to_file(setting.host, setting.anchor());
        LinkedSetting {
            object,
            files,
            symbols: setting.user_data.symbols.clone(),
            launched_as: setting.launched_as.clone(),
            setting: setting.clone(),
            span,
            line: view.source.position(span.start).line,
            place: Related::at(view.source, span, SETTING_HERE),
        }
    };
    for (decoded, fact) in facts {
        match fact {
            Fact::BootSecret { object, embedded } => {
                let found = match decoded.iter().find(|(e, _)| e == embedded) {
                    Some((_, secret_host)) => sites(&|_, f| view.descends(f.host, &[*secret_host])),
                    None => Vec::new(),
                };
                links.secrets.push((object.clone(), found));
            }
            Fact::Machines {
                namespace,
                data_secret,
                infra,
            } => links
                .machines
                .push((namespace.clone(), data_secret.clone(), infra.clone())),
            Fact::ContainerUser { template, user } => {
                links.container_users.push((template.clone(), user.clone()))
            }
            Fact::Infra { object, setting } => {
                if let Some(found) = declared.get(*setting) {
                    links
                        .settings
                        .push(linked(&found.setting, Some(object.clone()), Vec::new()));
                }
            }
        }
    }
    // Instances that take their tokens setting from a launch template: their own boot code is
    // the template's too.
    for found in declared.iter().filter(|d| d.setting.tokens.is_none()) {
        let Some(template) = &found.setting.launch_template else {
            continue;
        };
        let keep = |index: usize, fragment: &crate::fragment::Fragment| {
            found.fragments.contains(&index) || view.descends(fragment.host, &found.hosts)
        };
        links.template_boots.push((template.clone(), sites(&keep)));
    }
    for found in declared.iter().filter(|d| {
        !d.files.is_empty()
            || !d.setting.user_data.symbols.is_empty()
            || d.setting.launched_as.is_some()
    }) {
        links
            .settings
            .push(linked(&found.setting, None, found.files.clone()));
    }
    links
}

/// User data defined by name in this file, in this check's numbering (see `Declared`).
struct Defined {
    symbol: String,
    fragments: Vec<usize>,
    hosts: Vec<HostId>,
    files: Vec<PathBuf>,
}

/// What the rules about settings see of one file being checked.
#[derive(Clone, Copy)]
struct Checking<'a> {
    view: &'a Hosts<'a>,
    suppressions: &'a Suppressions,
    settings: &'a CheckSettings,
    fragments: &'a [crate::fragment::Fragment],
    analyses: &'a [shell::Analysis],
    external: &'a External,
}

/// A setting a front end found, with its user data in this check's numbering: fragments by index,
/// the decoded hosts whose fragments (and their own hosts' fragments) are its user data too, and
/// the files it reads.
struct Declared {
    setting: MetadataSetting,
    fragments: Vec<usize>,
    hosts: Vec<HostId>,
    files: Vec<PathBuf>,
}

impl Declared {
    fn new(
        setting: MetadataSetting,
        first_fragment: usize,
        decoded: &[(usize, HostId)],
        referenced: &[PathBuf],
    ) -> Self {
        let fragments = setting
            .user_data
            .fragments
            .iter()
            .map(|i| first_fragment + i)
            .collect();
        let hosts = setting
            .user_data
            .embedded
            .iter()
            .filter_map(|i| decoded.iter().find(|(e, _)| e == i).map(|(_, h)| *h))
            .collect();
        let files = setting
            .user_data
            .files
            .iter()
            .filter_map(|i| referenced.get(*i).cloned())
            .collect();
        Declared {
            setting,
            fragments,
            hosts,
            files,
        }
    }
}

/// The findings of the settings rules: on every setting the front ends declared and every `aws
/// ec2` call the shell analysis saw, each told how many tokenless requests its user data makes.
/// Spans, suppressions and fixes go through the hosts as for requests.
fn setting_findings(
    checking: &Checking,
    mut declared: Vec<Declared>,
    fixable: &dyn Fn(HostId, HostSpan) -> bool,
) -> (Vec<Finding>, Vec<crate::migration::SettingSummary>) {
    let Checking {
        view,
        suppressions: file_suppressions,
        settings,
        fragments,
        analyses,
        external,
    } = *checking;
    let mut summaries = Vec::new();
    for (fragment, analysis) in fragments.iter().zip(analyses) {
        for call in &analysis.aws_metadata {
            declared.push(Declared {
                setting: MetadataSetting::from_cli(call, fragment.host),
                fragments: Vec::new(),
                hosts: Vec::new(),
                files: Vec::new(),
            });
        }
    }
    let mut out = Vec::new();
    for Declared {
        setting,
        fragments: own,
        hosts,
        files,
    } in &declared
    {
        // What the pass across files found of its boot code in other files, if it ran.
        let at = setting.anchor();
        let boot = external.boot(view.to_file(setting.host, at));
        let mut setting = std::borrow::Cow::Borrowed(setting);
        let elsewhere = match boot {
            Some(boot) => boot.unread.clone(),
            None => setting.user_data.elsewhere.clone(),
        };
        if setting.user_data.unseen.is_none() && elsewhere.is_some() {
            setting.to_mut().user_data.unseen = elsewhere;
        }
        // Whether containers run, when the front end could not tell because the user data is in
        // files it reads: a runtime named there, or all of it read and none named.
        let linked_elsewhere = !files.is_empty() || !setting.user_data.symbols.is_empty();
        match boot {
            Some(boot) if !matches!(setting.containers, crate::settings::Containers::Yes(_)) => {
                if let Some(why) = &boot.containers {
                    setting.to_mut().containers = crate::settings::Containers::Yes(why.clone());
                } else if linked_elsewhere
                    && setting.containers == crate::settings::Containers::Unknown
                    && setting.user_data.unseen.is_none()
                {
                    setting.to_mut().containers = crate::settings::Containers::No;
                }
            }
            _ => {}
        }
        let setting = setting.as_ref();
        let requests: Vec<(HostId, &crate::shell::request::Request)> = fragments
            .iter()
            .zip(analyses)
            .enumerate()
            .filter(|(i, (fragment, _))| own.contains(i) || view.descends(fragment.host, hosts))
            .flat_map(|(_, (fragment, analysis))| {
                analysis.requests.iter().map(move |r| (fragment.host, r))
            })
            .collect();
        let count = |test: fn(&crate::shell::request::Request) -> bool| {
            requests.iter().filter(|(_, r)| test(r)).count()
        };
        let tokenless: Vec<(HostId, &crate::shell::request::Request)> = requests
            .iter()
            .copied()
            .filter(|(_, r)| rules::tokenless_request::is_tokenless(r))
            .collect();
        let location = |host: HostId, span: HostSpan| {
            let at = view.to_file(host, span);
            format!(
                "{}:{}",
                view.source.path.display(),
                view.source.position(at.start).line
            )
        };
        let mut tokenless_locations: Vec<String> = tokenless
            .iter()
            .map(|(host, r)| location(*host, r.span))
            .collect();
        let remote = boot.map_or(&[][..], |b| &b.tokenless);
        tokenless_locations.extend(remote.iter().cloned());
        let setting_place = Related::at(view.source, view.to_file(setting.host, at), SETTING_HERE);
        let mut tokenless_places: Vec<Related> = tokenless
            .iter()
            .map(|(host, r)| Related::at(view.source, view.to_file(*host, r.span), TOKENLESS_HERE))
            .collect();
        tokenless_places.extend(boot.map_or(&[][..], |b| &b.places).iter().cloned());
        let setting_location = location(setting.host, at);
        let mut summary = crate::migration::SettingSummary {
            path: view.source.path.display().to_string(),
            line: view
                .source
                .position(view.to_file(setting.host, at).start)
                .line,
            resource: setting.kind.clone(),
            name: setting.name.clone(),
            http_tokens: setting.tokens.as_ref().and_then(|v| v.text.clone()),
            can_require: false,
            boot_scripts: if own.is_empty() && hosts.is_empty() {
                Vec::new()
            } else {
                vec![view.source.path.display().to_string()]
            },
            tokenless_requests: tokenless.len() + remote.len(),
            fixable: tokenless
                .iter()
                .filter(|(host, r)| fixable(*host, r.span))
                .count()
                + boot.map_or(0, |b| b.fixable),
            unseen: setting.user_data.unseen.clone(),
        };
        for script in boot.map_or(&[][..], |b| &b.scripts) {
            if !summary.boot_scripts.contains(script) {
                summary.boot_scripts.push(script.clone());
            }
        }
        summary.decide();
        summaries.push(summary);
        let context = rules::SettingContext {
            setting,
            tokenless_in_user_data: count(rules::tokenless_request::is_tokenless) + remote.len(),
            unassigned_in_user_data: count(rules::unassigned_token_variable::is_unassigned),
            setting_location: &setting_location,
            tokenless_locations: &tokenless_locations,
        };
        for (rule, violation) in rules::check_setting(&context, |r| settings.rules.enabled(r)) {
            let severity = settings
                .severity_of(rule)
                .min(violation.severity.unwrap_or(Severity::Error));
            for at in &violation.at_requests {
                let Some((host, request)) = tokenless.get(at.request) else {
                    continue;
                };
                if view.is_suppressed(file_suppressions, rule.code, *host, request.span) {
                    continue;
                }
                let span = view.to_file(*host, request.span);
                let (origin, decoded) = view.origin(*host, request.span);
                out.push(Finding {
                    rule,
                    severity,
                    span,
                    message: at.message.clone(),
                    help: at.help.clone(),
                    fix: None,
                    origin,
                    decoded,
                    related: vec![setting_place.clone()],
                });
            }
            if view.is_suppressed(file_suppressions, rule.code, setting.host, violation.span) {
                continue;
            }
            let span = view.to_file(setting.host, violation.span);
            let (origin, decoded) = view.origin(setting.host, violation.span);
            let fix = violation
                .change
                .as_ref()
                .and_then(|change| fix::settings::plan(setting, change))
                .and_then(|fix| view.lift(setting.host, fix));
            // The rules whose message names the tokenless requests point at them too.
            let related = if matches!(rule.code, "IMDS010" | "IMDS012") {
                tokenless_places.clone()
            } else {
                Vec::new()
            };
            out.push(Finding {
                rule,
                severity,
                span,
                message: violation.message,
                help: violation.help,
                fix,
                origin,
                decoded,
                related,
            });
        }
    }
    (out, summaries)
}

/// IMDS012 at the requests of this file that boot instances whose setting, in another file,
/// requires tokens (`External::booted_by`); the setting's own finding is in its file.
fn booted_findings(checking: &Checking) -> Vec<Finding> {
    let (view, external) = (checking.view, checking.external);
    let mut out = Vec::new();
    if external.booted_by.is_empty() {
        return out;
    }
    let Some(rule) = rules::by_code("IMDS012") else {
        return out;
    };
    let rules::Check::Setting(check) = rule.check else {
        return out;
    };
    if !checking.settings.rules.enabled(rule) {
        return out;
    }
    for (fragment, analysis) in checking.fragments.iter().zip(checking.analyses) {
        for request in &analysis.requests {
            if !rules::tokenless_request::is_tokenless(request) {
                continue;
            }
            let span = view.to_file(fragment.host, request.span);
            let here = format!(
                "{}:{}",
                view.source.path.display(),
                view.source.position(span.start).line
            );
            // Every setting that requires tokens on instances this request boots; one finding,
            // worded for the first, pointing at all.
            let mut said = None;
            let mut related = Vec::new();
            for booted in external.booted_by.iter().filter(|b| b.request == span) {
                let context = rules::SettingContext {
                    setting: &booted.setting,
                    tokenless_in_user_data: 1,
                    unassigned_in_user_data: 0,
                    setting_location: &booted.location,
                    tokenless_locations: std::slice::from_ref(&here),
                };
                if let Some(at) = check(&context).and_then(|v| v.at_requests.into_iter().next()) {
                    said.get_or_insert(at);
                    related.push(booted.place.clone());
                }
            }
            let Some(at) = said else {
                continue;
            };
            if view.is_suppressed(
                checking.suppressions,
                rule.code,
                fragment.host,
                request.span,
            ) {
                continue;
            }
            let (origin, decoded) = view.origin(fragment.host, request.span);
            out.push(Finding {
                rule,
                severity: checking.settings.severity_of(rule),
                span,
                message: at.message,
                help: at.help,
                fix: None,
                origin,
                decoded,
                related,
            });
        }
    }
    out
}

fn suppressed(
    suppressions: &Suppressions,
    source: &SourceFile,
    code: &str,
    span: FileSpan,
) -> bool {
    let first = source.line_index(span.start);
    let last = source.line_index(crate::source::FileOffset(span.end.0.saturating_sub(1)));
    suppressions.covers(code, first, last.max(first))
}

/// The hosts of one file, for mapping positions and fixes back to the file.
struct Hosts<'a> {
    source: &'a SourceFile,
    hosts: &'a [Host],
    /// The suppression markers in each decoded host's own text, read on first use.
    markers: std::cell::RefCell<std::collections::HashMap<HostId, Suppressions>>,
}

impl Hosts<'_> {
    /// Whether a finding of `code` at `span` of `host` is suppressed: by a marker in the file on
    /// its lines, or by one in the decoded host's own text.
    fn is_suppressed(&self, file: &Suppressions, code: &str, host: HostId, span: HostSpan) -> bool {
        if suppressed(file, self.source, code, self.to_file(host, span)) {
            return true;
        }
        if host == 0 {
            return false;
        }
        let bytes = self.bytes(host);
        let mut markers = self.markers.borrow_mut();
        markers
            .entry(host)
            .or_insert_with(|| Suppressions::parse(bytes))
            .covers_span(bytes, code, span)
    }

    fn bytes(&self, host: HostId) -> &[u8] {
        match host {
            0 => &self.source.bytes,
            _ => self.hosts.get(host).map_or(&[][..], |h| &h.bytes),
        }
    }

    fn link(&self, host: HostId) -> Option<&HostLink> {
        self.hosts.get(host).and_then(|h| h.link.as_ref())
    }

    /// Whether `host` is one of `ancestors` or was decoded from one of them.
    fn descends(&self, mut host: HostId, ancestors: &[HostId]) -> bool {
        for _ in 0..=MAX_HOST_DEPTH + 1 {
            if ancestors.contains(&host) {
                return true;
            }
            match self.link(host) {
                Some(link) => host = link.parent,
                None => return false,
            }
        }
        false
    }

    /// The file range of a range in `host`: exact through one-to-one maps, the whole encoded value
    /// through opaque encodings.
    fn to_file(&self, mut host: HostId, mut span: HostSpan) -> FileSpan {
        for _ in 0..=MAX_HOST_DEPTH + 1 {
            let Some(link) = self.link(host) else {
                break;
            };
            span = match &link.map {
                Some(map) => map.span_to_host(FragmentSpan::new(span.start.0, span.end.0)),
                None => link.span,
            };
            host = link.parent;
        }
        FileSpan::new(span.start.0, span.end.0)
    }

    /// The origin of a range in `host`, outermost first, and (inside an opaque encoding) the
    /// decoded command, redacted.
    fn origin(&self, mut host: HostId, mut span: HostSpan) -> (Vec<OriginEntry>, Option<String>) {
        let mut entries: Vec<Vec<OriginEntry>> = Vec::new();
        let mut decoded = None;
        for _ in 0..=MAX_HOST_DEPTH + 1 {
            let Some(link) = self.link(host) else {
                break;
            };
            let mut here = link.origin.clone();
            if link.codec.is_opaque() {
                let bytes = self.bytes(host);
                let lines = SourceFile::new(PathBuf::new(), bytes.to_vec());
                let position = lines.position(crate::source::FileOffset(span.start.0));
                let mut entry = OriginEntry::layer(link.codec.name());
                entry.line = Some(position.line);
                entry.column = Some(position.column);
                here.push(entry);
                if decoded.is_none() {
                    let text = bytes.get(span.start.0..span.end.0).unwrap_or_default();
                    decoded = Some(crate::redact::redact(&String::from_utf8_lossy(text)));
                }
            }
            entries.push(here);
            span = match &link.map {
                Some(map) => map.span_to_host(FragmentSpan::new(span.start.0, span.end.0)),
                None => link.span,
            };
            host = link.parent;
        }
        entries.reverse();
        (entries.into_iter().flatten().collect(), decoded)
    }

    /// A fix with edits in `host`, as edits on the file: an encoded host is rewritten whole (and
    /// the fix is unsafe where rewriting it changes more than the text).
    fn lift(&self, mut host: HostId, mut fix: Fix) -> Option<Fix> {
        for _ in 0..=MAX_HOST_DEPTH + 1 {
            let Some(link) = self.link(host) else {
                return Some(fix);
            };
            if let Some(why) = link.codec.changes_behaviour() {
                fix.applicability = fix::Applicability::Unsafe;
                fix.message = format!("{} (unsafe: {why})", fix.message);
            }
            let fixed = fix::apply::apply_edits(self.bytes(host), &fix.edits)?;
            let encoded = link.codec.encode(&fixed)?;
            fix.edits = vec![fix::Edit {
                span: link.span,
                content: String::from_utf8(encoded).ok()?,
            }];
            host = link.parent;
        }
        None
    }
}
