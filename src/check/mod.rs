//! Checking one file: classify it, prefilter it, read it and its decoded values with the front
//! ends (`read`), analyse each fragment, run the request rules (`requests`) and the settings
//! rules (`settings`), record what links it to other files (`link_facts`), and take every span,
//! origin and fix back to the file through the hosts (`hosts`). Everything here works on bytes
//! already read: reading from disk and walking live in `crate::scan`; what other files say about
//! this one arrives as a value (`External`), computed by `crate::links`.

mod analysis;
mod dependencies;
mod hosts;
mod link_facts;
mod prefilter;
mod read;
mod requests;
mod settings;
mod suppressions;

use std::path::PathBuf;
use std::sync::Arc;

pub use prefilter::{is_binary, Prefilter, BINARY_PROBE};

use crate::fix::FixSettings;
use crate::fragment::Fragment;
use crate::frontend;
use crate::model::links::{External, FileLinks};
use crate::model::summary::SettingSummary;
use crate::model::{Finding, Note, Related, Rule, Severity};
use crate::shell;
use crate::source::SourceFile;
use crate::suppress::Suppressions;
use hosts::Hosts;

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

/// Everything that decides what a check reports: the run's configuration, as a value.
#[derive(Debug, Clone, Default)]
pub struct CheckSettings {
    pub rules: RuleSelection,
    pub fix: FixSettings,
    /// Severities that differ from the rules table (`severity = { IMDS004 = "error" }`).
    pub severity: Vec<(&'static str, Severity)>,
    /// How the shell analysis reads code (the hosts that reach IMDS).
    pub shell: shell::Options,
    /// The prefilter of the run (with the configuration's extra host names).
    pub prefilter: Arc<Prefilter>,
}

impl CheckSettings {
    /// The severity findings of `rule` get.
    pub fn severity_of(&self, rule: &Rule) -> Severity {
        self.severity
            .iter()
            .find(|(code, _)| *code == rule.code)
            .map_or(rule.severity, |(_, severity)| *severity)
    }

    /// Host names that also reach the metadata service here (`extra-hosts`): the analysis
    /// takes them for endpoints, and the prefilter lets files that name them through.
    pub fn set_extra_hosts(&mut self, hosts: &[String]) {
        self.shell.endpoints = shell::endpoint::Endpoints::new(hosts);
        self.prefilter = Arc::new(Prefilter::new(self.shell.endpoints.extra_hosts()));
    }
}

/// What a related place says: a tokenless request in the boot code of a setting's instances.
const TOKENLESS_HERE: &str = "tokenless request in the boot code of these instances";
/// What a related place says: the setting of the instances a request boots.
const SETTING_HERE: &str = "the setting of the instances this boot code runs on";

/// What became of one file. One per file, moved once into the run's results: the small variants
/// do not need the large one boxed.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Outcome {
    /// Not a format any front end reads.
    NotRecognised,
    /// Recognised, but none of the endpoint spellings occur in it: never parsed.
    Prefiltered,
    /// Parsed and checked (possibly with no findings).
    Checked {
        source: SourceFile,
        /// What the file was read as.
        kind: frontend::Kind,
        findings: Vec<Finding>,
        /// Notes for the user where the file, or part of it, could not be read or analysed, each
        /// with its kind said of the file (`Skipped`: nothing of it was analysed).
        notes: Vec<Note>,
        /// Other files this one makes instances run (Terraform `file()`), to check as user data.
        referenced: Vec<PathBuf>,
        /// Where to look for a referenced file when it is not there: (the path, the other place).
        referenced_fallbacks: Vec<(PathBuf, PathBuf)>,
        /// Notes on settings whose values could not be read, which what other files say (an
        /// input variable's declaration) may change: said once the pass across files is done.
        setting_notes: Vec<Note>,
        /// What links this file's objects to other files' (see `crate::links`).
        links: Box<FileLinks>,
        /// One summary per declared setting, for the migration view.
        summaries: Vec<SettingSummary>,
        /// Packages the dependency rules know whose version the file does not give (`*`, a
        /// variable): not reported, counted under `--statistics`.
        unresolved_dependencies: usize,
        /// Untagged documentation code blocks that name the metadata service: not read,
        /// counted under `--statistics`.
        untagged_blocks: usize,
        /// What was read and analysed of a file that links to others, kept from its first check
        /// (`check_file`) for the pass across files to check it again without parsing it again.
        prepared: Option<Box<Prepared>>,
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

/// What the parts of one file's check share: the hosts, the suppression markers, the settings,
/// the fragments with their analyses, and what other files say about this one.
#[derive(Clone, Copy)]
struct Checking<'a> {
    view: &'a Hosts<'a>,
    suppressions: &'a Suppressions,
    settings: &'a CheckSettings,
    fragments: &'a [Fragment],
    analyses: &'a [analysis::Analysis],
    external: &'a External,
    /// The parts of the file that are documentation (`Parsed::documentation`).
    documentation: &'a [(crate::fragment::HostId, crate::fragment::HostSpan)],
}

/// Checks one file's bytes. `force_kind` reads the file with that front end whatever its name.
/// A file that links to others keeps what was read of it (`Outcome::Checked::prepared`) for
/// the pass across files.
pub fn check_file(
    path: PathBuf,
    bytes: Vec<u8>,
    force_kind: Option<frontend::Kind>,
    settings: &CheckSettings,
) -> Outcome {
    match prepare(path, bytes, force_kind, settings) {
        Ok(prepared) => finish(prepared, settings, &External::default(), true),
        Err(Unread::NotRecognised) => Outcome::NotRecognised,
        Err(Unread::Prefiltered) => Outcome::Prefiltered,
    }
}

/// What a finding in documentation adds to its message, which every output format carries.
const IN_DOCUMENTATION_SHORT: &str = "in documentation: a warning";
/// What a finding in documentation adds to its help.
const IN_DOCUMENTATION: &str =
    "in documentation, which teaches the pattern to readers who copy it rather than running it, this is a warning";

/// Findings in documentation (a code block of a Markdown runbook) are warnings at most: the
/// text teaches the pattern rather than running it. The rules do not know the host; the front
/// end says which parts are documentation.
fn lower_in_documentation(
    findings: &mut [Finding],
    documentation: &[(crate::fragment::HostId, crate::fragment::HostSpan)],
    view: &Hosts,
) {
    if documentation.is_empty() {
        return;
    }
    let spans: Vec<_> = documentation
        .iter()
        .map(|(host, span)| view.to_file(*host, *span))
        .collect();
    for finding in findings {
        let inside = spans
            .iter()
            .any(|d| d.start <= finding.span.start && finding.span.end <= d.end);
        if inside && finding.severity > Severity::Warning {
            finding.severity = Severity::Warning;
            finding.message = format!("{} ({IN_DOCUMENTATION_SHORT})", finding.message);
            finding.help = if finding.help.is_empty() {
                IN_DOCUMENTATION.to_owned()
            } else {
                format!("{}; {IN_DOCUMENTATION}", finding.help)
            };
        }
    }
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
    match prepare(path, bytes, force_kind, settings) {
        Ok(prepared) => finish(prepared, settings, external, false),
        Err(Unread::NotRecognised) => Outcome::NotRecognised,
        Err(Unread::Prefiltered) => Outcome::Prefiltered,
    }
}

/// What a check reads and analyses of a file before what other files say about it counts: its
/// front ends' reading and every fragment's analysis. The pass across files keeps it for each
/// file it may check again (`Outcome::Checked::prepared`), so that a file is parsed once however
/// often what the others say about it changes.
pub struct Prepared {
    source: SourceFile,
    kind: frontend::Kind,
    read: read::Read,
    analyses: Vec<analysis::Analysis>,
    notes: Vec<Note>,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("path", &self.source.path)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl Prepared {
    /// The check again, with what other files now say about the file: the same outcome a
    /// whole check of its bytes would have (`check_file_linked`), without reading them again.
    pub fn recheck(&self, settings: &CheckSettings, external: &External) -> Outcome {
        conclude(self, settings, external)
    }

    /// The bytes it was read from.
    pub fn bytes(&self) -> &[u8] {
        &self.source.bytes
    }
}

/// Why a file goes no further than its classification (`Outcome::NotRecognised`,
/// `Outcome::Prefiltered`).
enum Unread {
    NotRecognised,
    Prefiltered,
}

/// The part of a check that what other files say does not change: classify, prefilter, read,
/// analyse; or why the file goes no further.
fn prepare(
    path: PathBuf,
    bytes: Vec<u8>,
    force_kind: Option<frontend::Kind>,
    settings: &CheckSettings,
) -> Result<Prepared, Unread> {
    let Some(kind) = force_kind.or_else(|| frontend::classify(&path, &bytes)) else {
        return Err(Unread::NotRecognised);
    };
    if !settings.prefilter.may_reach_imds(&bytes)
        && !kind.may_link_files(&bytes)
        && !kind.is_read_by_name()
    {
        return Err(Unread::Prefiltered);
    }
    let source = SourceFile::new(path, bytes);
    let mut read = read::read(&source, kind, &settings.prefilter);
    let view = Hosts::new(&source, &read.hosts);
    let (analyses, cross_language) = analysis::analyze_all(&mut read.fragments, &settings.shell);
    let mut notes = std::mem::take(&mut read.notes);
    notes.extend(cross_language);
    // Code not analysed is the file not analysed only when that code is the whole file.
    let line_of = |host, span| source.line_index(view.to_file(host, span).start) + 1;
    for (fragment, analysis) in read.fragments.iter().zip(&analyses) {
        if let Some(note) = analysis.error() {
            let whole_file = fragment.host == 0 && kind.is_one_fragment();
            notes.push(if whole_file {
                note.clone()
            } else {
                note.clone().within()
            });
        }
        // Nested code past a limit: said with its line.
        for (span, why) in analysis.notes() {
            let line = line_of(fragment.host, *span);
            notes.push(Note::partly_analysed(format!("line {line}: {why}")));
        }
    }
    // Requests in code that never runs are not findings; a note says they are there.
    for not_run in &read.not_run {
        let analysis = analysis::analyze(&not_run.fragment, &settings.shell);
        for request in analysis.requests() {
            notes.push(Note::warning(format!(
                "line {}: a metadata request that never runs, not reported: {}",
                line_of(not_run.fragment.host, request.span),
                not_run.why
            )));
        }
    }
    drop(view);
    Ok(Prepared {
        source,
        kind,
        read,
        analyses,
        notes,
    })
}

/// The rest of a check, with what other files say about the file; `keep` keeps what was
/// prepared in the outcome when the file links to others (the pass across files may check it
/// again).
fn finish(
    prepared: Prepared,
    settings: &CheckSettings,
    external: &External,
    keep: bool,
) -> Outcome {
    let mut outcome = conclude(&prepared, settings, external);
    // Only where reading is slow (tree-sitter-hcl reads about 1.5 MB/s, tree-sitter-yaml about
    // 10; Helm templates and documentation hold YAML too): kept for every file, what was read
    // costs more memory than the parse costs time (a tree of 1,600 Terraform modules with their
    // scripts went from 69 to 114 MB).
    let slow = matches!(
        prepared.kind,
        frontend::Kind::Terraform
            | frontend::Kind::PackerHcl
            | frontend::Kind::Manifest
            | frontend::Kind::CloudConfig
            | frontend::Kind::Helm
            | frontend::Kind::Documentation(_)
    );
    if keep && slow {
        if let Outcome::Checked {
            links,
            prepared: kept,
            ..
        } = &mut outcome
        {
            if !links.is_empty() {
                *kept = Some(Box::new(prepared));
            }
        }
    }
    outcome
}

/// The findings, links and summaries of a prepared file, with what other files say about it.
fn conclude(prepared: &Prepared, settings: &CheckSettings, external: &External) -> Outcome {
    let Prepared {
        source,
        kind,
        read,
        analyses,
        notes,
    } = prepared;
    let view = Hosts::new(source, &read.hosts);
    let suppressions = Suppressions::parse(&source.bytes);
    let mut notes = notes.clone();
    let checking = Checking {
        view: &view,
        suppressions: &suppressions,
        settings,
        fragments: &read.fragments,
        analyses,
        external,
        documentation: &read.documentation,
    };
    let (mut findings, safely_fixed) = requests::findings(&checking);
    let mut links = link_facts::file_links(&checking, read, kind.is_script());
    for site in links
        .secrets
        .iter_mut()
        .flat_map(|boot| &mut boot.sites)
        .chain(&mut links.script)
        .chain(links.definitions.iter_mut().flat_map(|d| &mut d.sites))
    {
        site.fixable = safely_fixed.contains(&site.span);
    }
    let fixable = |host, span| safely_fixed.contains(&view.to_file(host, span));
    // Packages the front ends read, and those the shell code installs (in its fragment's host).
    // Their findings come first: they are application evidence for the settings.
    let mut all_dependencies = read.dependencies.clone();
    for (fragment, analysis) in read.fragments.iter().zip(analyses) {
        all_dependencies.extend(analysis.installs().iter().cloned().map(|mut d| {
            d.host = fragment.host;
            d
        }));
    }
    let (dependency_findings, unresolved_dependencies) =
        dependencies::findings(&checking, &all_dependencies);
    links.applications = dependency_findings
        .iter()
        .map(|f| Related::at(source, f.span, &f.message))
        .collect();
    let declared = read.declared.clone();
    let (setting_findings, summaries, setting_notes) = settings::findings(
        &checking,
        declared,
        &fixable,
        &links.container_requests,
        &links.applications,
    );
    findings.extend(setting_findings);
    findings.extend(settings::booted_findings(&checking));
    findings.extend(dependency_findings);
    // Last: what the markers suppressed is known only once every rule has run.
    findings.extend(suppressions::findings(&checking));
    lower_in_documentation(&mut findings, &read.documentation, &view);
    findings.sort_by_key(|f| (f.span.start, f.rule.code));
    findings.dedup_by(|a, b| {
        a.span == b.span
            && a.rule.code == b.rule.code
            && a.origin == b.origin
            && a.decoded == b.decoded
    });
    notes.sort_by(|a, b| (&a.message, a.kind).cmp(&(&b.message, b.kind)));
    // The same words twice are one note, of the kind that missed the most.
    notes.dedup_by(|later, first| later.message == first.message);
    Outcome::Checked {
        source: SourceFile::new(source.path.clone(), source.bytes.clone()),
        kind: *kind,
        findings,
        notes,
        setting_notes,
        referenced: read.referenced.clone(),
        referenced_fallbacks: read.referenced_fallbacks.clone(),
        links: Box::new(links),
        summaries,
        unresolved_dependencies,
        untagged_blocks: read.untagged_blocks,
        prepared: None,
    }
}
