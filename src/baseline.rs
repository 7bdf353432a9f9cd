//! Baselines, for adopting imds-lint in a large legacy repository: `--write-baseline FILE` records
//! today's findings, `--baseline FILE` accepts them and reports only new ones. An entry is keyed
//! by rule, path and the flagged command's text with whitespace collapsed — never by line — so
//! moving code up or down does not revive it; `count` says how many identical findings it accepts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::lexical_absolute;
use crate::model::FileReport;
use crate::model::Finding;
use crate::report;

/// The file format's version; a file of another version is refused.
pub const VERSION: u32 = 1;

/// The largest baseline file read.
const MAX_BASELINE: u64 = 256 << 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub version: u32,
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub rule: String,
    /// Relative to the baseline file's directory, with `/` separators.
    pub path: String,
    /// SHA-256 (hex) of the rule, the path and the flagged command with whitespace collapsed.
    pub fingerprint: String,
    /// How many findings with this key are accepted.
    pub count: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("{}: cannot read the baseline: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not a baseline file ({message}); write one with --write-baseline", path.display())]
    Invalid { path: PathBuf, message: String },
    #[error("{}: cannot write the baseline: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What identifies a finding across runs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    path: String,
    rule: String,
    fingerprint: String,
}

/// Keys findings against one baseline file's directory.
struct Keyer {
    base: PathBuf,
}

impl Keyer {
    fn new(baseline_file: &Path) -> Self {
        let absolute = lexical_absolute(baseline_file).unwrap_or_else(|| baseline_file.into());
        Keyer {
            base: absolute.parent().map(Path::to_path_buf).unwrap_or_default(),
        }
    }

    /// The path as the baseline stores it: relative to the baseline's directory when it is
    /// under it (so the file works from any working directory), else absolute; `/` separators.
    fn path(&self, path: &Path) -> String {
        let shown = match lexical_absolute(path) {
            Some(absolute) => match absolute.strip_prefix(&self.base) {
                Ok(relative) => relative.to_path_buf(),
                Err(_) => absolute,
            },
            None => path.to_path_buf(),
        };
        let text: Vec<String> = shown
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let joined = text.join("/");
        joined
            .strip_prefix("//")
            .map_or(joined.clone(), |rest| format!("/{rest}"))
    }

    fn key(&self, file: &FileReport, finding: &Finding) -> Key {
        let path = self.path(&file.source.path);
        // Inside an encoded value the span is the whole value: the decoded command is what the
        // finding is about.
        let text = match &finding.decoded {
            Some(decoded) => decoded.split_whitespace().collect::<Vec<_>>().join(" "),
            None => report::flagged_text(file, finding),
        };
        let mut hasher = Sha256::new();
        for part in [finding.rule.code, &path, &text] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part.as_bytes());
        }
        Key {
            path,
            rule: finding.rule.code.to_owned(),
            fingerprint: hasher
                .finalize()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        }
    }
}

impl Baseline {
    /// The baseline of `files`, to be written to `baseline_file`: one entry per key, sorted.
    pub fn of(files: &[FileReport], baseline_file: &Path) -> Self {
        let keyer = Keyer::new(baseline_file);
        let mut counts: BTreeMap<Key, usize> = BTreeMap::new();
        for file in files {
            for finding in &file.findings {
                *counts.entry(keyer.key(file, finding)).or_insert(0) += 1;
            }
        }
        Baseline {
            version: VERSION,
            entries: counts
                .into_iter()
                .map(|(key, count)| Entry {
                    rule: key.rule,
                    path: key.path,
                    fingerprint: key.fingerprint,
                    count,
                })
                .collect(),
        }
    }

    /// Reads a baseline written by [`Baseline::write`] (a regular file of at most 256 MiB).
    pub fn read(path: &Path) -> Result<Self, BaselineError> {
        let bytes = crate::source::read_regular(path, MAX_BASELINE).map_err(|source| {
            BaselineError::Read {
                path: path.to_path_buf(),
                source,
            }
        })?;
        let invalid = |message: String| BaselineError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let baseline: Baseline =
            serde_json::from_slice(&bytes).map_err(|e| invalid(e.to_string()))?;
        if baseline.version != VERSION {
            return Err(invalid(format!(
                "version {}, this imds-lint reads version {VERSION}",
                baseline.version
            )));
        }
        Ok(baseline)
    }

    pub fn write(&self, path: &Path) -> Result<(), BaselineError> {
        let failed = |source| BaselineError::Write {
            path: path.to_path_buf(),
            source,
        };
        let mut text = serde_json::to_string_pretty(self).map_err(|e| failed(e.into()))?;
        text.push('\n');
        std::fs::write(path, text).map_err(failed)
    }

    /// Drops from `files` the findings this baseline (read from `baseline_file`) accepts — up to
    /// `count` per entry, in file order — and the files left without findings. Returns how many
    /// findings were dropped.
    pub fn filter(&self, files: &mut Vec<FileReport>, baseline_file: &Path) -> usize {
        let keyer = Keyer::new(baseline_file);
        let mut left: BTreeMap<Key, usize> = BTreeMap::new();
        for entry in &self.entries {
            let key = Key {
                path: entry.path.clone(),
                rule: entry.rule.clone(),
                fingerprint: entry.fingerprint.clone(),
            };
            *left.entry(key).or_insert(0) += entry.count;
        }
        let mut dropped = 0;
        for file in files.iter_mut() {
            let keys: Vec<Key> = file
                .findings
                .iter()
                .map(|finding| keyer.key(file, finding))
                .collect();
            let mut keys = keys.into_iter();
            file.findings.retain(|_| {
                let Some(key) = keys.next() else {
                    return true;
                };
                match left.get_mut(&key) {
                    Some(n) if *n > 0 => {
                        *n -= 1;
                        dropped += 1;
                        false
                    }
                    _ => true,
                }
            });
        }
        files.retain(|f| !f.findings.is_empty());
        dropped
    }
}
