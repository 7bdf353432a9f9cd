//! Dependencies: one [`Dependency`] per package a file declares, pins or installs (a line of
//! `requirements.txt`, a package of a lockfile, a module of `go.mod`, an image reference) — its
//! ecosystem, its name and its version requirement exactly as written, with the span of the
//! version string. Front ends fill the model and know the file formats; the dependency rules
//! (IMDS020, IMDS021) read it and know what versions mean.

use crate::fragment::{HostId, HostSpan};

/// The package ecosystem a dependency's name belongs to (names of different ecosystems never
/// meet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ecosystem {
    /// Python packages (PyPI): requirements files, pyproject.toml, Pipfile.lock, poetry.lock,
    /// uv.lock, `pip install`.
    Pypi,
    /// JavaScript packages (npm): package.json, package-lock.json, yarn.lock, pnpm-lock.yaml.
    Npm,
    /// Go modules: go.mod, go.sum.
    Go,
    /// Java packages as `groupId:artifactId` (Maven Central): pom.xml, Gradle.
    Maven,
    /// Ruby gems: Gemfile, Gemfile.lock.
    Rubygems,
    /// .NET packages (NuGet): *.csproj, packages.config, Directory.Packages.props.
    Nuget,
    /// PHP packages (Packagist): composer.json, composer.lock.
    Packagist,
    /// Rust crates (crates.io): Cargo.lock.
    Cargo,
    /// C++ libraries: vcpkg.json, conanfile.txt, conanfile.py, conan.lock.
    Cpp,
    /// PowerShell modules (PowerShell Gallery): module manifests' `RequiredModules`.
    Powershell,
    /// Container images as `repository` (without registry `docker.io/` or `library/`).
    Image,
    /// Operating system packages (rpm, deb): `yum install`, `apt-get install`.
    System,
    /// An agent's configuration option that turns its use of IMDSv2 off (the Datadog Agent's
    /// `ec2_prefer_imdsv2: false`); the requirement is the value set.
    AgentOption,
}

impl Ecosystem {
    pub fn as_str(self) -> &'static str {
        match self {
            Ecosystem::Pypi => "PyPI",
            Ecosystem::Npm => "npm",
            Ecosystem::Go => "Go",
            Ecosystem::Maven => "Maven",
            Ecosystem::Rubygems => "RubyGems",
            Ecosystem::Nuget => "NuGet",
            Ecosystem::Packagist => "Packagist",
            Ecosystem::Cargo => "crates.io",
            Ecosystem::Cpp => "C++",
            Ecosystem::Powershell => "PowerShell Gallery",
            Ecosystem::Image => "container image",
            Ecosystem::System => "OS package",
            Ecosystem::AgentOption => "agent option",
        }
    }
}

/// The syntax a version requirement is written in: the front end knows it from the file, the
/// rules read the requirement with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// One version, resolved or pinned (a lockfile entry, `go.mod`, an image tag, `pkg-1.2`).
    Exact,
    /// PEP 440 specifiers (`==1.2`, `>=1.2,<2`, `~=1.2`).
    Pep440,
    /// Poetry's constraints (`^1.2`, `~1.2`, `1.2.*`, `>=1.2,<2`; a bare version is exact).
    Poetry,
    /// npm ranges (`^1.2.0`, `~1.2`, `1.x`, `>=1 <2`, `a - b`, `||`; a full bare version is
    /// exact).
    Npm,
    /// Maven and Gradle (`1.2` soft pin, `[1.2,2.0)`, `1.+`).
    Maven,
    /// NuGet (`1.2` minimum that resolution picks, `[1.2]`, `[1.2,2)`, `1.*`).
    Nuget,
    /// RubyGems (`~> 1.2`, `>= 1.2`, `= 1.2`, commas between).
    Ruby,
    /// Composer (`^3.0`, `~3.1` up to the next major, `3.*`, `>=3.0 <4`, commas or spaces
    /// between comparators, `|` or `||` between alternatives, `@dev` flags).
    Composer,
    /// A container image tag: a full version (`v1.68.1`, `7.50.0-jmx`) is the version; a
    /// shorter one (`7`, `7.50`) follows the newest release of its line and, like `latest`, is
    /// not judged.
    ImageTag,
}

/// How the file gives the version: a manifest's requirement, a lockfile's resolution, or a
/// command that installs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Declared {
    /// A manifest the project writes (requirements.txt, package.json, go.mod, pom.xml).
    Manifest,
    /// A lockfile (what a resolver wrote): never edited by a fix.
    Lockfile,
    /// An install command (`pip install boto3==1.9.0`) or an image reference.
    Installed,
}

/// One package a file declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    pub host: HostId,
    pub ecosystem: Ecosystem,
    /// As the ecosystem spells it (`boto3`, `com.amazonaws:aws-java-sdk-s3`,
    /// `github.com/aws/aws-sdk-go`, `jtblin/kube2iam`).
    pub name: String,
    /// The version requirement as written (`==1.9.0`, `^2.500.0`, `1.11.100`, `${aws.version}`
    /// when a property is not defined in the file).
    pub requirement: String,
    pub syntax: Syntax,
    /// The version string in the host (what a finding points at): the requirement, or the
    /// property value it was substituted from.
    pub span: HostSpan,
    pub declared: Declared,
}
