//! What a run counted: files walked, skipped, prefiltered and parsed, findings (per rule), and
//! how long it took; `--statistics` prints it.

use std::time::Duration;

use crate::model::FileReport;

/// Counts gathered during a scan (`--statistics`).
#[derive(Debug, Default, Clone)]
pub struct Statistics {
    /// Files read from disk (or standard input).
    pub files_read: usize,
    /// Binary files skipped.
    pub binary: usize,
    /// Files no front end reads.
    pub not_recognised: usize,
    /// Recognised files without any endpoint spelling: never parsed.
    pub prefiltered: usize,
    /// Files parsed and checked.
    pub parsed: usize,
    pub findings: usize,
    /// Packages the dependency rules know whose version no file gives (`*`, a variable, a git
    /// reference): not reported.
    pub dependencies_unresolved: usize,
    /// Documentation code blocks without a language tag that name the metadata service's
    /// address: not read (`frontend::markdown`).
    pub untagged_blocks: usize,
    /// Findings per rule (code, name, count), rules without findings left out.
    pub by_rule: Vec<(&'static str, &'static str, usize)>,
    /// Findings a `--baseline` accepted, when one was given.
    pub baselined: Option<usize>,
    pub elapsed: Duration,
    /// Time spent reading, analysing and checking the parsed files, per front end (the files'
    /// kind): summed over worker threads, so it may exceed `elapsed`.
    pub front_ends: Vec<FrontEndTime>,
    /// Time the pass across files took (checking again the files that what others say changes).
    pub across: Duration,
}

/// One front end's share of a run: the parsed files of its kind and the time their checks took.
#[derive(Debug, Clone, PartialEq)]
pub struct FrontEndTime {
    pub name: &'static str,
    pub files: usize,
    pub time: Duration,
}

impl Statistics {
    /// Counts one parsed file of front end `name` whose check took `time`.
    pub fn add_front_end(&mut self, name: &'static str, time: Duration) {
        match self.front_ends.iter_mut().find(|f| f.name == name) {
            Some(front_end) => {
                front_end.files += 1;
                front_end.time += time;
            }
            None => self.front_ends.push(FrontEndTime {
                name,
                files: 1,
                time,
            }),
        }
    }

    pub fn findings_reported(&self, files: &[FileReport]) -> usize {
        files.iter().map(|f| f.findings.len()).sum()
    }
}
