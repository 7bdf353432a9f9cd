//! The migration view's model: one [`SettingSummary`] per declared setting — whether it can be
//! switched to `required` now, the boot scripts its instances run, how many tokenless requests
//! remain in them, how many of those `--fix` would rewrite, and the applications in its directory
//! tree too old for IMDSv2. The check fills it, the pass
//! across files completes it, `crate::report::migration` prints it.

/// One declared setting, as the migration view reports it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SettingSummary {
    pub path: String,
    pub line: usize,
    /// `aws_instance`, `AWS::EC2::LaunchTemplate`, `AWSManagedMachinePool`, `run-instances`.
    pub resource: String,
    pub name: String,
    /// The tokens value as written (`optional`, `required`, eksctl `true`), `null` when unset or
    /// not a literal.
    pub http_tokens: Option<String>,
    pub can_require: bool,
    /// The files holding the boot scripts of its instances that this scan read.
    pub boot_scripts: Vec<String>,
    pub tokenless_requests: usize,
    /// How many of those `--fix` rewrites (safe fixes).
    pub fixable: usize,
    /// Why the boot code is not all visible, if it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unseen: Option<String>,
    /// Application evidence: SDKs, agents and images in its directory tree that are too old for
    /// IMDSv2 (IMDS020, IMDS021 findings), whose credentials or metadata requests would stop
    /// working once tokens are required. Filled by the pass across files.
    pub applications: Vec<Application>,
}

/// One dependency finding (IMDS020, IMDS021) counted as application evidence by the migration
/// view.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Application {
    pub path: String,
    pub line: usize,
    pub code: &'static str,
    pub message: String,
}

impl SettingSummary {
    /// Decides `can_require` from what is known: no tokenless request left, every boot script
    /// seen, and no application in its tree that is too old for IMDSv2.
    pub fn decide(&mut self) {
        self.can_require =
            self.tokenless_requests == 0 && self.unseen.is_none() && self.applications.is_empty();
    }
}
