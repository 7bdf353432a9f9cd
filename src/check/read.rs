//! Reading a file: the front end for its kind reads it, every encoded value a front end finds
//! (base64, gzip, a MIME part, a Secret's value) becomes a host of its own, read in turn with the
//! front end its content asks for, down to a depth and size limit. What comes out is numbered for
//! this check: fragments by index, hosts by [`HostId`], settings and named user data with the
//! fragments, hosts and files that hold their boot code.

use std::path::{Path, PathBuf};

use super::hosts::{Host, HostLink, MAX_HOST_DEPTH};
use super::prefilter::Prefilter;
use crate::fragment::codec::Codec;
use crate::fragment::{Fragment, HostId, HostSpan};
use crate::frontend::{self, Parsed};
use crate::model::links::Fact;
use crate::model::setting::MetadataSetting;
use crate::model::Note;
use crate::source::SourceFile;

/// How many bytes all the decoded values of one file may add up to.
const MAX_DECODED_TOTAL: usize = 64 << 20;

/// Everything the front ends read in one file and its decoded values.
pub(super) struct Read {
    /// Host 0 is the file itself (its bytes stay in the `SourceFile`).
    pub hosts: Vec<Host>,
    pub fragments: Vec<Fragment>,
    pub declared: Vec<Declared>,
    /// Link facts, each with the decoded hosts of the host it was found in (by `embedded` index).
    pub facts: Vec<(Vec<(usize, HostId)>, Fact)>,
    pub defined: Vec<Defined>,
    /// Other files this one makes instances run, as paths from the scan's directory.
    pub referenced: Vec<PathBuf>,
    /// Where to look for a referenced file when it is not there (`Parsed::referenced_fallbacks`).
    pub referenced_fallbacks: Vec<(PathBuf, PathBuf)>,
    /// Notes for the user where the file, or part of it, could not be read (said of the file:
    /// a decoded value not read leaves the file partly analysed).
    pub notes: Vec<Note>,
    /// Code written in the file that its consumer never runs (see `frontend::NotRun`).
    pub not_run: Vec<frontend::NotRun>,
    /// The parts of hosts that a container runs, off its instance's network (see
    /// `frontend::Parsed::container_side`).
    pub container_side: Vec<(HostId, HostSpan)>,
    /// Files a container of this file runs, as paths from the scan's directory.
    pub container_scripts: Vec<PathBuf>,
    /// Terraform input variables the file declares, each with its host.
    pub variables: Vec<(HostId, crate::model::setting::Variable)>,
    /// Packages the file and its decoded values declare (see `crate::model::dependency`).
    pub dependencies: Vec<crate::model::dependency::Dependency>,
    /// The parts of hosts that are documentation (see `frontend::Parsed::documentation`).
    pub documentation: Vec<(HostId, HostSpan)>,
    /// Untagged documentation code blocks that name the metadata service (not read).
    pub untagged_blocks: usize,
}

/// Reads `source` as `kind`, and every decoded value in it that may reach IMDS.
pub(super) fn read(source: &SourceFile, kind: frontend::Kind, prefilter: &Prefilter) -> Read {
    let mut read = Read {
        hosts: vec![Host {
            bytes: Vec::new(),
            link: None,
            unparsed: Vec::new(),
            shared: Vec::new(),
            places: Vec::new(),
        }],
        fragments: Vec::new(),
        declared: Vec::new(),
        facts: Vec::new(),
        defined: Vec::new(),
        referenced: Vec::new(),
        referenced_fallbacks: Vec::new(),
        notes: Vec::new(),
        not_run: Vec::new(),
        container_side: Vec::new(),
        container_scripts: Vec::new(),
        variables: Vec::new(),
        dependencies: Vec::new(),
        documentation: Vec::new(),
        untagged_blocks: 0,
    };
    let dir = source.path.parent().unwrap_or(Path::new(""));
    let mut queue = vec![(0usize, kind, 0usize)];
    let mut decoded_total = 0usize;
    while let Some((host, kind, depth)) = queue.pop() {
        let bytes = match host {
            0 => &source.bytes,
            _ => read.hosts.get(host).map_or(&source.bytes, |h| &h.bytes),
        };
        // A document of a stream in which no needle occurs is not parsed.
        let worth_reading = |document: &[u8]| prefilter.may_reach_imds(document);
        let mut parsed = frontend::parse_kept(kind, bytes, host, &worth_reading);
        // Each decoded value that becomes a host: its index in `parsed.embedded`, its host.
        let mut decoded = Vec::new();
        for (index, embedded) in std::mem::take(&mut parsed.embedded).into_iter().enumerate() {
            match read.decoded_host(host, depth, embedded, prefilter, &mut decoded_total) {
                Step::Host(id, kind) => {
                    queue.push((id, kind, depth + 1));
                    decoded.push((index, id));
                }
                Step::Skip => {}
                Step::Stop => break,
            }
        }
        read.take(host, parsed, dir, &decoded);
    }
    read
}

/// What became of one decoded value.
enum Step {
    /// A new host, to read with this front end.
    Host(HostId, frontend::Kind),
    /// Not read (too deep, nothing to read, cannot reach IMDS).
    Skip,
    /// Not read, nor any value after it (the decoded size limit).
    Stop,
}

impl Read {
    /// Makes `embedded`, found in `parent` at `depth`, a host of its own, within the limits.
    fn decoded_host(
        &mut self,
        parent: HostId,
        depth: usize,
        embedded: frontend::Embedded,
        prefilter: &Prefilter,
        decoded_total: &mut usize,
    ) -> Step {
        if depth + 1 > MAX_HOST_DEPTH {
            self.notes.push(Note::partly_analysed(
                "encoded values nest too deeply; the innermost were not read",
            ));
            return Step::Skip;
        }
        *decoded_total += embedded.bytes.len();
        if *decoded_total > MAX_DECODED_TOTAL {
            self.notes.push(Note::partly_analysed(
                "decoded values exceed 64 MiB; the rest were not read",
            ));
            return Step::Stop;
        }
        let Some(kind) = embedded
            .kind
            .or_else(|| frontend::classify_content(&embedded.bytes))
        else {
            return Step::Skip;
        };
        if !prefilter.may_reach_imds(&embedded.bytes) {
            return Step::Skip;
        }
        self.hosts.push(Host {
            bytes: embedded.bytes,
            link: Some(HostLink {
                parent,
                span: embedded.span,
                map: embedded.map,
                codec: embedded.codec,
                origin: embedded.origin,
            }),
            unparsed: Vec::new(),
            shared: Vec::new(),
            places: Vec::new(),
        });
        Step::Host(self.hosts.len() - 1, kind)
    }

    /// Takes what a front end read in `host` (its decoded values already made hosts: `decoded`
    /// pairs their index in `parsed.embedded` with their host), renumbered for this check.
    fn take(&mut self, host: HostId, parsed: Parsed, dir: &Path, decoded: &[(usize, HostId)]) {
        // A decoded value is a part of the file: not reading it leaves the file partly analysed.
        self.notes
            .extend(parsed.diagnostics.into_iter().map(|note| {
                if host == 0 {
                    note
                } else {
                    note.within()
                }
            }));
        if let Some(read) = self.hosts.get_mut(host) {
            read.unparsed = parsed.unparsed;
            read.shared.extend(parsed.shared.iter().copied());
            read.places.extend(parsed.places.iter().cloned());
        }
        self.not_run.extend(parsed.not_run);
        self.documentation
            .extend(parsed.documentation.iter().map(|span| (host, *span)));
        self.untagged_blocks += parsed.untagged_blocks;
        self.container_side
            .extend(parsed.container_side.iter().map(|span| (host, *span)));
        self.container_scripts
            .extend(parsed.container_scripts.iter().map(|p| dir.join(p)));
        self.variables
            .extend(parsed.variables.into_iter().map(|v| (host, v)));
        self.dependencies.extend(parsed.dependencies);
        let first_referenced = self.referenced.len();
        let from_here = |p: PathBuf| {
            // `../files/x` (an Ansible role's file) is said without its detour.
            if p.components().any(|c| c == std::path::Component::ParentDir) {
                crate::walk::lexical(&dir.join(p))
            } else {
                dir.join(p)
            }
        };
        self.referenced
            .extend(parsed.referenced.into_iter().map(from_here));
        self.referenced_fallbacks.extend(
            parsed
                .referenced_fallbacks
                .into_iter()
                .map(|(path, other)| (from_here(path), from_here(other))),
        );
        let first_fragment = self.fragments.len();
        // An exec-form Dockerfile command runs in a container like the rest of the Dockerfile.
        let in_container = self
            .hosts
            .get(host)
            .and_then(|h| h.link.as_ref())
            .is_some_and(|l| l.codec == Codec::ExecForm);
        self.fragments
            .extend(parsed.fragments.into_iter().map(|mut f| {
                f.in_container |= in_container;
                f
            }));
        let decoded_host = |i: &usize| decoded.iter().find(|(e, _)| e == i).map(|(_, h)| *h);
        let referenced = self.referenced.get(first_referenced..).unwrap_or_default();
        self.defined.extend(parsed.definitions.iter().map(|d| {
            Defined {
                symbol: d.symbol.clone(),
                fragments: d.fragments.iter().map(|i| first_fragment + i).collect(),
                hosts: d.embedded.iter().filter_map(decoded_host).collect(),
                files: d
                    .referenced
                    .iter()
                    .filter_map(|i| referenced.get(*i).cloned())
                    .collect(),
            }
        }));
        let first_declared = self.declared.len();
        self.facts.extend(parsed.links.into_iter().map(|fact| {
            let fact = match fact {
                Fact::Infra { object, setting } => Fact::Infra {
                    object,
                    setting: first_declared + setting,
                },
                Fact::Boot {
                    object,
                    fragments,
                    embedded,
                    unread,
                } => Fact::Boot {
                    object,
                    fragments: fragments.iter().map(|i| first_fragment + i).collect(),
                    embedded,
                    unread,
                },
                other => other,
            };
            (decoded.to_vec(), fact)
        }));
        self.declared.extend(
            parsed
                .settings
                .into_iter()
                .map(|s| Declared::new(s, first_fragment, decoded, referenced)),
        );
    }
}

/// A setting a front end found, with its user data in this check's numbering: fragments by index,
/// the decoded hosts whose fragments (and their own hosts' fragments) are its user data too, and
/// the files it reads.
#[derive(Clone)]
pub(super) struct Declared {
    pub setting: MetadataSetting,
    pub fragments: Vec<usize>,
    pub hosts: Vec<HostId>,
    pub files: Vec<PathBuf>,
    /// Read from a script with syntax errors (an `aws ec2` call): its fix is unsafe at most.
    pub in_broken_script: bool,
}

impl Declared {
    pub fn new(
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
            in_broken_script: false,
        }
    }
}

/// User data defined by name in this file, in this check's numbering (see `Declared`).
pub(super) struct Defined {
    pub symbol: String,
    pub fragments: Vec<usize>,
    pub hosts: Vec<HostId>,
    pub files: Vec<PathBuf>,
}
