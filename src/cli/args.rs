//! The command line, as clap sees it.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "imds-lint",
    version,
    about = "Find EC2 instance metadata (IMDS) requests that do not use an IMDSv2 token, and \
        instance settings that still allow IMDSv1",
    long_about = "Find EC2 instance metadata (IMDS) requests that would fail once instances \
        require IMDSv2 tokens, and instance settings that still allow IMDSv1.\n\n\
        Walks the given files and directories (honouring .gitignore) and reads shell, Python and \
        PowerShell scripts, makefiles, Dockerfiles, cloud-init, MIME and Windows user data, \
        Kubernetes manifests (Pods and workload pod templates, Secrets, ConfigMaps, Cluster API \
        machines) and Helm templates, eksctl configs, CloudFormation templates (YAML and JSON), \
        Terraform files, Packer templates, Image Builder components, SSM documents, Ansible \
        playbooks, CI files (GitHub Actions, GitLab, CodeBuild, CircleCI, Azure Pipelines, \
        Bitbucket, Buildkite, Jenkinsfiles), code blocks of Markdown, reStructuredText and \
        AsciiDoc, with the scripts embedded in them (YAML and JSON strings, heredocs, base64, \
        gzip), and dependency manifests, lockfiles and image references.\n\n\
        Rules (`imds-lint rule` lists them, `imds-lint rule CODE` explains one): IMDS001-IMDS004, \
        requests to 169.254.169.254 (or [fd00:ec2::254], instance-data) without a token (curl, \
        wget, Python's requests/urllib/httpx/http.client, PowerShell's Invoke-RestMethod, \
        Invoke-WebRequest and WebClient), or with a token request that is not a PUT, has a bad \
        TTL or uses a variable nothing assigns; IMDS010-IMDS013, instance metadata settings \
        (tokens optional or left unset, hop limits too low for containers or above 1 without \
        them, tokens required while the boot script is tokenless) in Terraform, CloudFormation, \
        Cluster API, eksctl, Packer and `aws ec2` commands; IMDS020-IMDS021, SDKs, agents and \
        images too old for IMDSv2; IMDS090, suppression comments (`# imds-lint disable=CODE`) \
        that do nothing. --fix rewrites what it can safely (--unsafe-fixes for the rest, --diff to \
        preview).\n\n\
        Settings come from the nearest imds-lint.toml or .imds-lint.toml at or above the first \
        path (--config FILE names one, --isolated ignores them); flags override them.\n\n\
        Exit status: 0 no findings, 1 findings (see --fail-on) or, with --fail-on-skipped, a file \
        not analysed or only partly analysed, 2 usage error, bad configuration or nothing could \
        be scanned.",
    args_conflicts_with_subcommands = true
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Files or directories to scan (default: the current directory); `-` reads standard input
    pub paths: Vec<PathBuf>,

    /// Output format [default: human; github when GITHUB_ACTIONS=true]
    #[arg(long, value_enum)]
    pub format: Option<Format>,

    /// The name to report for standard input (`-`)
    #[arg(long, value_name = "NAME")]
    pub stdin_filename: Option<PathBuf>,

    /// Scan files that .gitignore, .ignore or git's excludes leave out
    #[arg(long)]
    pub no_ignore: bool,

    /// Read the files that scanned files name as user data (Terraform `file()`) even outside the
    /// directory they were reached from (by default such a file is not read, with a note)
    #[arg(long)]
    pub read_outside_root: bool,

    /// Run only these rules (codes, comma-separated)
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    pub select: Vec<String>,

    /// Do not run these rules (codes, comma-separated)
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    pub ignore: Vec<String>,

    /// Skip files larger than this (bytes, or with a KiB/MiB/GiB suffix) [default: 16MiB]
    #[arg(long, value_name = "SIZE", value_parser = crate::config::parse_size)]
    pub max_file_size: Option<u64>,

    /// Print counts of files walked, prefiltered and parsed, findings per rule, untagged documentation
    /// code blocks that name the metadata address, and time (in all, per front end, and for the pass
    /// across files) to stderr
    #[arg(long)]
    pub statistics: bool,

    /// Read settings from this file instead of the nearest imds-lint.toml or .imds-lint.toml
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Ignore configuration files (flags and defaults only)
    #[arg(long, conflicts_with = "config")]
    pub isolated: bool,

    /// Which findings make the exit status 1 [default: warning, i.e. any finding]
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,

    /// Exit 0 even when there are findings (the same as --fail-on never)
    #[arg(long, conflicts_with = "fail_on")]
    pub exit_zero: bool,

    /// Exit 1 when a file was not analysed or only partly analysed (over --max-file-size,
    /// unreadable, a broken link, past a parser limit, a value that cannot be decoded), even with
    /// no findings [config: fail-on-skipped]
    #[arg(long, conflicts_with = "exit_zero")]
    pub fail_on_skipped: bool,

    /// Instead of findings, print per instance metadata setting whether it can require tokens
    /// now: its boot scripts, their tokenless requests, what --fix would change (human or json)
    #[arg(long, conflicts_with_all = ["fix", "diff", "write_baseline"])]
    pub migration: bool,

    /// Print the findings only: no summary, no fix log
    #[arg(long, short = 'q')]
    pub quiet: bool,

    /// Accept the findings recorded in this file (by --write-baseline): report only new ones
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Record the current findings in this file and exit 0
    #[arg(long, value_name = "FILE", conflicts_with_all = ["fix", "diff"])]
    pub write_baseline: Option<PathBuf>,

    /// When to use colour in the human format (`auto` honours NO_COLOR and terminals)
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Apply the fixes findings have, in place (tokenless requests, token requests, settings,
    /// unused suppressions): safe fixes only, unless --unsafe-fixes
    #[arg(long, conflicts_with = "diff")]
    pub fix: bool,

    /// Print a unified diff of what --fix would change, and write nothing (exit 1 if any)
    #[arg(long)]
    pub diff: bool,

    /// Also apply fixes marked unsafe (with --fix or --diff)
    #[arg(long)]
    pub unsafe_fixes: bool,

    /// TTL in seconds of the token requests that fixes insert [default: 21600]
    #[arg(long, value_name = "SECONDS",
          value_parser = clap::value_parser!(u32).range(1..=21600))]
    pub token_ttl: Option<u32>,

    /// Worker threads (default: one per core)
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print a rule's documentation (all rules, briefly, without a code)
    Rule {
        /// A rule code, e.g. IMDS001
        code: Option<String>,
    },
    /// Print a shell completion script: `imds-lint completions bash > /etc/bash_completion.d/imds-lint`
    Completions {
        /// The shell to complete for
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `imds-lint man > imds-lint.1`
    Man,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Graphical reports with the source snippet (miette)
    Human,
    /// One line per finding: path:line:col: CODE message
    Concise,
    /// The machine contract: {"version": 1, "files_scanned", "findings": […]}
    Json,
    /// One JSON object per finding per line, with the fields of a `json` finding
    JsonLines,
    /// GitHub Actions workflow commands (annotations); the default under GitHub Actions
    Github,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers
    Sarif,
    /// Checkstyle XML
    Checkstyle,
    /// JUnit XML: one failed test case per finding
    Junit,
    /// GitLab Code Quality JSON
    Gitlab,
}

impl Args {
    /// The output format: `--format`, else `github` when running under GitHub Actions
    /// (`GITHUB_ACTIONS=true`), else `human`.
    pub fn output_format(&self) -> Format {
        self.format.unwrap_or_else(|| {
            if std::env::var_os("GITHUB_ACTIONS").is_some_and(|v| v == "true") {
                Format::Github
            } else {
                Format::Human
            }
        })
    }
}

/// Which findings fail the run (exit status 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Findings of error severity only
    Error,
    /// Any finding (warnings too)
    Warning,
    /// None: exit 0 whatever is found
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }
}
