//! The programs the tests run for real, and the one way a test asks for them: a missing tool
//! fails the test with a message naming it and `.ci/run`, which installs every one of them. A
//! test never skips in silence, and never quietly swaps a tool for a weaker one (`sh` for `dash`).
//!
//! Include it with `#[path = "support/tools.rs"] mod tools;` and start the test with
//! `tools::require(&[tools::CURL, tools::GNU_WGET]);`.
#![allow(dead_code)]

use std::process::{Command, Stdio};

/// A program (or a module of one) a test needs installed.
#[derive(Clone, Copy, Debug)]
pub struct Tool {
    /// How messages name it.
    pub name: &'static str,
    /// The Debian package `.ci/run` installs it from.
    pub package: &'static str,
    /// A command that exits 0 only where the tool is installed.
    pub probe: &'static [&'static str],
    /// Text the probe's standard output must hold, when any program of that name would not do
    /// (BusyBox also ships a `wget`).
    pub banner: Option<&'static str>,
}

pub const BASH: Tool = Tool {
    name: "bash",
    package: "bash",
    probe: &["bash", "-c", "true"],
    banner: None,
};
pub const DASH: Tool = Tool {
    name: "dash",
    package: "dash",
    probe: &["dash", "-c", "true"],
    banner: None,
};
pub const CURL: Tool = Tool {
    name: "curl",
    package: "curl",
    probe: &["curl", "--version"],
    banner: None,
};
pub const GNU_WGET: Tool = Tool {
    name: "GNU wget",
    package: "wget",
    probe: &["wget", "--version"],
    banner: Some("GNU Wget"),
};
pub const GIT: Tool = Tool {
    name: "git",
    package: "git",
    probe: &["git", "--version"],
    banner: None,
};
pub const SHELLCHECK: Tool = Tool {
    name: "shellcheck",
    package: "shellcheck",
    probe: &["shellcheck", "--version"],
    banner: None,
};
pub const MAKE: Tool = Tool {
    name: "GNU make",
    package: "make",
    probe: &["make", "--version"],
    banner: Some("GNU Make"),
};
pub const PYTHON3_VENV: Tool = Tool {
    name: "python3 with venv",
    package: "python3-venv",
    probe: &["python3", "-c", "import ensurepip, venv"],
    banner: None,
};
pub const MARKDOWN_IT: Tool = Tool {
    name: "python3 with markdown-it-py",
    package: "python3-markdown-it",
    probe: &["python3", "-c", "import markdown_it"],
    banner: None,
};
pub const PYYAML: Tool = Tool {
    name: "python3 with PyYAML",
    package: "python3-yaml",
    probe: &["python3", "-c", "import yaml"],
    banner: None,
};
/// Not in [`ALL`] (those are Debian packages): `.ci/run` installs it from PyPI with pip.
pub const PYTHON_HCL2: Tool = Tool {
    name: "python3 with python-hcl2 (PyPI python-hcl2==7.3.1, installed with pip by .ci/run)",
    package: "python-hcl2",
    probe: &["python3", "-c", "import hcl2"],
    banner: None,
};

pub const PYTHON3_REQUESTS: Tool = Tool {
    name: "python3 with requests",
    package: "python3-requests",
    probe: &["python3", "-c", "import requests"],
    banner: None,
};

pub const PYTHON3_HTTPX: Tool = Tool {
    name: "python3 with httpx (PyPI httpx==0.28.1, installed with pip by .ci/run)",
    package: "httpx",
    probe: &["python3", "-c", "import httpx"],
    banner: None,
};

pub const ANSIBLE: Tool = Tool {
    name: "ansible-playbook (ansible-core)",
    package: "ansible-core",
    probe: &["ansible-playbook", "--version"],
    banner: None,
};

/// Every tool above: what `.ci/run` must install.
pub const ALL: &[Tool] = &[
    BASH,
    DASH,
    CURL,
    GNU_WGET,
    GIT,
    SHELLCHECK,
    MAKE,
    PYTHON3_VENV,
    PYYAML,
    PYTHON3_REQUESTS,
    ANSIBLE,
];

impl Tool {
    /// Whether the probe runs, exits 0 and prints the banner.
    pub fn installed(&self) -> bool {
        let Some((program, args)) = self.probe.split_first() else {
            return false;
        };
        Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .is_ok_and(|out| {
                out.status.success()
                    && self
                        .banner
                        .is_none_or(|b| String::from_utf8_lossy(&out.stdout).contains(b))
            })
    }
}

/// Fails the calling test unless every tool in `tools` is installed.
#[track_caller]
pub fn require(tools: &[Tool]) {
    let missing: Vec<String> = tools
        .iter()
        .filter(|tool| !tool.installed())
        .map(|tool| format!("{} (Debian package {})", tool.name, tool.package))
        .collect();
    assert!(
        missing.is_empty(),
        "not installed: {}. This test runs what it needs for real and refuses to skip; \
         `bash .ci/run` installs every tool the tests need",
        missing.join(", ")
    );
}
