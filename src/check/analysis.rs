//! One fragment's analysis, by the fragment's language: the shell analysis, the Python one or
//! the PowerShell one. Each produces the language-neutral request model (`crate::model::request`) the rules read;
//! the fixes of each are planned by its language's planner.

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
}

impl Analysis {
    pub fn requests(&self) -> &[Request] {
        match self {
            Analysis::Shell(a) => &a.requests,
            Analysis::Python(a) => &a.requests,
            Analysis::PowerShell(a) => &a.requests,
        }
    }

    /// `aws ec2` calls that declare instance metadata settings (shell only).
    pub fn aws_metadata(&self) -> &[AwsMetadataCall] {
        match self {
            Analysis::Shell(a) => &a.aws_metadata,
            Analysis::Python(_) | Analysis::PowerShell(_) => &[],
        }
    }

    /// Packages the code installs (`pip install boto3==…`; shell only).
    pub fn installs(&self) -> &[crate::model::dependency::Dependency] {
        match self {
            Analysis::Shell(a) => &a.installs,
            Analysis::Python(_) | Analysis::PowerShell(_) => &[],
        }
    }

    pub fn syntax_errors(&self) -> bool {
        match self {
            Analysis::Shell(a) => a.syntax_errors,
            Analysis::Python(a) => a.syntax_errors,
            Analysis::PowerShell(a) => a.syntax_errors,
        }
    }

    /// What of the fragment was not analysed.
    pub fn error(&self) -> Option<&Note> {
        match self {
            Analysis::Shell(a) => a.error.as_ref(),
            Analysis::Python(a) => a.error.as_ref(),
            Analysis::PowerShell(a) => a.error.as_ref(),
        }
    }

    /// Code the analysis did not follow: where, and why.
    pub fn notes(&self) -> &[(HostSpan, String)] {
        match self {
            Analysis::Shell(a) => &a.notes,
            Analysis::Python(a) => &a.notes,
            Analysis::PowerShell(a) => &a.notes,
        }
    }

    /// The fixes of the targets, planned by the language's planner, in the order given.
    pub fn plan(&self, targets: &[Target], settings: FixSettings) -> Vec<Option<Fix>> {
        match self {
            Analysis::Shell(a) => fix::plan(a, targets, settings),
            Analysis::Python(a) => fix::python::plan(a, targets, settings),
            Analysis::PowerShell(a) => fix::powershell::plan(a, targets, settings),
        }
    }
}

/// Analyses one fragment with its language's analysis.
pub(super) fn analyze(fragment: &Fragment, options: &shell::Options) -> Analysis {
    match fragment.language {
        Language::Shell => Analysis::Shell(shell::analyze_with(fragment, options)),
        Language::Python => Analysis::Python(python::analyze_with(fragment, options)),
        Language::PowerShell => Analysis::PowerShell(powershell::analyze_with(fragment, options)),
    }
}

/// Analyses every fragment; code in another language that one of them runs (shell code a Python
/// script hands to `subprocess`) becomes a fragment of its own, added after the others, and is
/// analysed too.
pub(super) fn analyze_all(
    fragments: &mut Vec<Fragment>,
    options: &shell::Options,
) -> Vec<Analysis> {
    let mut analyses = Vec::with_capacity(fragments.len());
    let mut index = 0;
    while let Some(fragment) = fragments.get(index) {
        let analysis = analyze(fragment, options);
        if let Analysis::Python(python) = &analysis {
            fragments.extend(python.nested.iter().cloned());
        }
        analyses.push(analysis);
        index += 1;
    }
    analyses
}
