//! The migration view's model: one [`SettingSummary`] per declared setting — whether it can be
//! switched to `required` now, the boot scripts its instances run, how many tokenless requests
//! remain in them, and how many of those `--fix` would rewrite. The check fills it, the pass
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
}

impl SettingSummary {
    /// Decides `can_require` from what is known: no tokenless request left, and every boot
    /// script seen.
    pub fn decide(&mut self) {
        self.can_require = self.tokenless_requests == 0 && self.unseen.is_none();
    }
}
