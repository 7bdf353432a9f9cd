//! One fragment's analysis, by the fragment's language: the shell analysis, the Python one or
//! the PowerShell one. Each produces the language-neutral request model (`crate::model::request`) the rules read;
//! the fixes of each are planned by its language's planner.

use crate::ansible;
use crate::fix::{self, FixSettings, Target};
use crate::fragment::{Fragment, HostSpan, Language};
use crate::model::request::Request;
use crate::model::{Fix, Note};
use crate::powershell;
use crate::python;
use crate::shell;
use crate::shell::aws::AwsMetadataCall;

/// What the analysis of a fragment's language found.
#[derive(Debug)]
pub(super) enum Analysis {
    Shell(shell::Analysis),
    Python(python::Analysis),
    PowerShell(powershell::Analysis),
    Ansible(ansible::Analysis),
}

impl Analysis {
    pub fn requests(&self) -> &[Request] {
        match self {
            Analysis::Shell(a) => &a.requests,
            Analysis::Python(a) => &a.requests,
            Analysis::PowerShell(a) => &a.requests,
            Analysis::Ansible(a) => &a.requests,
        }
    }

    /// `aws ec2` calls that declare instance metadata settings (shell only).
    pub fn aws_metadata(&self) -> &[AwsMetadataCall] {
        match self {
            Analysis::Shell(a) => &a.aws_metadata,
            Analysis::Python(_) | Analysis::PowerShell(_) | Analysis::Ansible(_) => &[],
        }
    }

    /// Packages the code installs (`pip install boto3==…`; shell only).
    pub fn installs(&self) -> &[crate::model::dependency::Dependency] {
        match self {
            Analysis::Shell(a) => &a.installs,
            Analysis::Python(_) | Analysis::PowerShell(_) | Analysis::Ansible(_) => &[],
        }
    }

    pub fn syntax_errors(&self) -> bool {
        match self {
            Analysis::Shell(a) => a.syntax_errors,
            Analysis::Python(a) => a.syntax_errors,
            Analysis::PowerShell(a) => a.syntax_errors,
            Analysis::Ansible(a) => a.syntax_errors,
        }
    }

    /// What of the fragment was not analysed.
    pub fn error(&self) -> Option<&Note> {
        match self {
            Analysis::Shell(a) => a.error.as_ref(),
            Analysis::Python(a) => a.error.as_ref(),
            Analysis::PowerShell(a) => a.error.as_ref(),
            Analysis::Ansible(a) => a.error.as_ref(),
        }
    }

    /// Code the analysis did not follow: where, and why.
    pub fn notes(&self) -> &[(HostSpan, String)] {
        match self {
            Analysis::Shell(a) => &a.notes,
            Analysis::Python(a) => &a.notes,
            Analysis::PowerShell(a) => &a.notes,
            Analysis::Ansible(a) => &a.notes,
        }
    }

    /// The fixes of the targets, planned by the language's planner, in the order given.
    pub fn plan(&self, targets: &[Target], settings: FixSettings) -> Vec<Option<Fix>> {
        match self {
            Analysis::Shell(a) => fix::plan(a, targets, settings),
            Analysis::Python(a) => fix::python::plan(a, targets, settings),
            Analysis::PowerShell(a) => fix::powershell::plan(a, targets, settings),
            Analysis::Ansible(a) => fix::ansible::plan(a, targets, settings),
        }
    }
}

/// Analyses one fragment with its language's analysis.
pub(super) fn analyze(fragment: &Fragment, options: &shell::Options) -> Analysis {
    match fragment.language {
        Language::Shell => Analysis::Shell(shell::analyze_with(fragment, options)),
        Language::Python => Analysis::Python(python::analyze_with(fragment, options)),
        Language::PowerShell => Analysis::PowerShell(powershell::analyze_with(fragment, options)),
        Language::Ansible => Analysis::Ansible(ansible::analyze_with(fragment, options)),
    }
}

/// How many fragments code in one language may add for code in another (`python3 -c` in shell,
/// `subprocess` in Python, nested in turn): far past real files; each level is a strict part of
/// the text above it, but alternating languages could otherwise nest as deep as the file is long.
const MAX_CROSS_LANGUAGE: usize = 1024;

/// Analyses every fragment; code in another language that one of them runs (shell code a Python
/// script hands to `subprocess`, Python a shell script hands to `python3 -c`) becomes a fragment
/// of its own, added after the others, and is analysed too (up to [`MAX_CROSS_LANGUAGE`]; past
/// that, the returned note says the rest was not).
pub(super) fn analyze_all(
    fragments: &mut Vec<Fragment>,
    options: &shell::Options,
) -> (Vec<Analysis>, Option<Note>) {
    let mut analyses = Vec::with_capacity(fragments.len());
    let mut added = 0;
    let mut dropped = false;
    let mut index = 0;
    while let Some(fragment) = fragments.get(index) {
        let analysis = analyze(fragment, options);
        let nested: &[Fragment] = match &analysis {
            Analysis::Python(python) => &python.nested,
            Analysis::Shell(shell) => &shell.nested,
            Analysis::PowerShell(_) | Analysis::Ansible(_) => &[],
        };
        let room = MAX_CROSS_LANGUAGE - added;
        dropped |= nested.len() > room;
        let taken = nested.len().min(room);
        fragments.extend(nested.iter().take(taken).cloned());
        added += taken;
        analyses.push(analysis);
        index += 1;
    }
    let note = dropped.then(|| {
        Note::partly_analysed(format!(
            "code handed from one language to another (`python3 -c`, `subprocess`) past the \
             first {MAX_CROSS_LANGUAGE} pieces was not analysed"
        ))
    });
    (analyses, note)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_handed_to_another_language_is_analysed_up_to_a_bound_and_the_rest_is_said() {
        let line = "python3 -c 'import requests; requests.get(\"http://169.254.169.254/latest/meta-data/\")'\n";
        let script = line.repeat(400);
        let mut fragments: Vec<Fragment> = (0..3)
            .map(|_| Fragment::script(script.as_bytes()))
            .collect();
        let (analyses, note) = analyze_all(&mut fragments, &shell::Options::default());
        assert_eq!(fragments.len(), 3 + MAX_CROSS_LANGUAGE);
        assert_eq!(analyses.len(), fragments.len());
        let python: usize = analyses.iter().map(|a| a.requests().len()).sum();
        assert_eq!(python, MAX_CROSS_LANGUAGE);
        assert!(note.is_some_and(|n| n.message.contains("1024")));

        let mut few: Vec<Fragment> = vec![Fragment::script(line.as_bytes())];
        let (analyses, note) = analyze_all(&mut few, &shell::Options::default());
        assert_eq!((few.len(), analyses.len()), (2, 2));
        assert_eq!(few[1].language, Language::Python);
        assert!(note.is_none());
    }
}
