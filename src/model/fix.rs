//! Fixes as data (ShellCheck's habit): byte edits on a host with an applicability and a title.
//! `crate::fix` plans and applies them; findings carry them; reporters show them.

use serde::Serialize;

use crate::fragment::{HostOffset, HostSpan};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Applicability {
    /// May change what the script does: applied only with `--unsafe-fixes`.
    Unsafe,
    /// Keeps what the script does, on an instance that requires tokens.
    Safe,
}

/// Replace `span` of the original file with `content`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edit {
    pub span: HostSpan,
    pub content: String,
}

impl Edit {
    pub fn insert(at: HostOffset, content: String) -> Self {
        Edit {
            span: HostSpan::new(at.0, at.0),
            content,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    pub applicability: Applicability,
    /// What the fix does, as an imperative phrase.
    pub message: String,
    pub edits: Vec<Edit>,
}

impl Fix {
    /// Why the fix is unsafe, as its title says it (`… (unsafe: WHY)`); `None` for a safe fix or
    /// one whose title does not say.
    pub fn unsafe_reason(&self) -> Option<&str> {
        if self.applicability == Applicability::Safe {
            return None;
        }
        let (_, why) = self.message.split_once(" (unsafe: ")?;
        Some(why.strip_suffix(')').unwrap_or(why))
    }

    /// The fix made unsafe because of `why`, which its title then says.
    pub fn made_unsafe(mut self, why: &str) -> Self {
        self.applicability = Applicability::Unsafe;
        self.message = format!("{} (unsafe: {why})", self.message);
        self
    }
}
