//! Dependency manifests and lockfiles, recognised by their file names alone (so that the walk
//! and the prefilter cost the same as before: none of these holds an endpoint, and each is read
//! whatever it holds). Each format's reader turns the file into [`Dependency`] facts — ecosystem,
//! name, the version requirement as written and the exact span of the version string — and
//! knows nothing of what versions mean (the rules IMDS020 and IMDS021 do).

mod cpp;
mod dotnet;
mod go;
mod java;
mod javascript;
pub mod json;
mod php;
mod powershell;
mod python;
mod ruby;
mod rust;
pub mod xml;

use std::path::Path;

use super::Parsed;
use crate::fragment::{HostId, HostSpan};
use crate::model::dependency::{Declared, Dependency, Ecosystem, Syntax};
use crate::model::Note;

/// The manifest and lockfile formats read, each by its file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `requirements*.txt`, `*-requirements.txt`, `constraints*.txt`, `requirements*.in`, and
    /// `*.txt` in a `requirements/` directory.
    Requirements,
    Pyproject,
    PipfileLock,
    PoetryLock,
    UvLock,
    PackageJson,
    PackageLock,
    /// `yarn.lock`, classic (v1) and berry (v2 and later).
    YarnLock,
    PnpmLock,
    GoMod,
    GoSum,
    Pom,
    /// `*.gradle`, `*.gradle.kts` (build scripts and the scripts they apply).
    Gradle,
    /// `gradle.lockfile`, and `*.lockfile` in a `dependency-locks` directory.
    GradleLockfile,
    /// `*.versions.toml` (a Gradle version catalog, `gradle/libs.versions.toml`).
    VersionCatalog,
    /// `Gemfile`, `gems.rb`.
    Gemfile,
    GemfileLock,
    /// `*.csproj`, `*.fsproj`, `*.vbproj`, `Directory.Packages.props`.
    MsBuild,
    PackagesConfig,
    ComposerJson,
    ComposerLock,
    CargoLock,
    /// `vcpkg.json`.
    Vcpkg,
    /// `conanfile.txt`.
    ConanfileTxt,
    /// `conan.lock`.
    ConanLock,
    /// `*.psd1`, a PowerShell module manifest.
    PowershellManifest,
}

impl Format {
    /// The format a file name says, if any.
    pub fn of(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_str()?;
        let lower = name.to_ascii_lowercase();
        let format = match lower.as_str() {
            "pyproject.toml" => Format::Pyproject,
            "pipfile.lock" => Format::PipfileLock,
            "poetry.lock" => Format::PoetryLock,
            "uv.lock" => Format::UvLock,
            "package.json" => Format::PackageJson,
            "package-lock.json" | "npm-shrinkwrap.json" => Format::PackageLock,
            "yarn.lock" => Format::YarnLock,
            "pnpm-lock.yaml" => Format::PnpmLock,
            "go.mod" => Format::GoMod,
            "go.sum" => Format::GoSum,
            "pom.xml" => Format::Pom,
            "gemfile" | "gems.rb" => Format::Gemfile,
            "gemfile.lock" | "gems.locked" => Format::GemfileLock,
            "gradle.lockfile" | "buildscript-gradle.lockfile" => Format::GradleLockfile,
            "composer.json" => Format::ComposerJson,
            "packages.config" => Format::PackagesConfig,
            "directory.packages.props" => Format::MsBuild,
            "composer.lock" => Format::ComposerLock,
            "cargo.lock" => Format::CargoLock,
            "vcpkg.json" => Format::Vcpkg,
            "conanfile.txt" => Format::ConanfileTxt,
            "conan.lock" => Format::ConanLock,
            _ if lower.ends_with(".psd1") => Format::PowershellManifest,
            _ if lower.ends_with(".csproj")
                || lower.ends_with(".fsproj")
                || lower.ends_with(".vbproj") =>
            {
                Format::MsBuild
            }
            _ if lower.ends_with(".gradle") || lower.ends_with(".gradle.kts") => Format::Gradle,
            _ if lower.ends_with(".versions.toml") => Format::VersionCatalog,
            _ if lower.ends_with(".lockfile") && in_directory(path, "dependency-locks") => {
                Format::GradleLockfile
            }
            _ if is_requirements(path, &lower) => Format::Requirements,
            _ => return None,
        };
        Some(format)
    }
}

/// Whether a file's directory is named `name` (in any case).
fn in_directory(path: &Path, name: &str) -> bool {
    path.parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.eq_ignore_ascii_case(name))
}

/// Whether a file is a pip requirements (or constraints) file by its name.
fn is_requirements(path: &Path, lower: &str) -> bool {
    let Some(stem) = lower
        .strip_suffix(".txt")
        .or_else(|| lower.strip_suffix(".in"))
    else {
        return false;
    };
    let in_requirements_dir = in_directory(path, "requirements");
    stem.starts_with("requirements")
        || stem.starts_with("constraints")
        || stem.ends_with("requirements")
        || stem.ends_with("constraints")
        || (in_requirements_dir && lower.ends_with(".txt"))
}

/// Reads one manifest or lockfile.
pub fn parse(format: Format, bytes: &[u8], host: HostId) -> Parsed {
    let mut out = Found {
        host,
        parsed: Parsed::default(),
    };
    let Ok(text) = std::str::from_utf8(bytes) else {
        out.parsed.diagnostics.push(Note::skipped(
            "a dependency manifest that is not UTF-8; it was not read",
        ));
        return out.parsed;
    };
    let result = match format {
        Format::Requirements => {
            python::requirements(text, &mut out);
            Ok(())
        }
        Format::Pyproject => python::pyproject(text, &mut out),
        Format::PipfileLock => python::pipfile_lock(text, &mut out),
        Format::PoetryLock | Format::UvLock => python::lock(text, &mut out),
        Format::PackageJson => javascript::package_json(text, &mut out),
        Format::PackageLock => javascript::package_lock(text, &mut out),
        Format::YarnLock => {
            javascript::yarn_lock(text, &mut out);
            Ok(())
        }
        Format::PnpmLock => {
            javascript::pnpm_lock(text, &mut out);
            Ok(())
        }
        Format::GoMod => {
            go::go_mod(text, &mut out);
            Ok(())
        }
        Format::GoSum => {
            go::go_sum(text, &mut out);
            Ok(())
        }
        Format::Pom => java::pom(text, &mut out),
        Format::Gradle => {
            java::gradle(text, &mut out);
            Ok(())
        }
        Format::GradleLockfile => {
            java::gradle_lockfile(text, &mut out);
            Ok(())
        }
        Format::VersionCatalog => java::version_catalog(text, &mut out),
        Format::Gemfile => {
            ruby::gemfile(text, &mut out);
            Ok(())
        }
        Format::GemfileLock => {
            ruby::gemfile_lock(text, &mut out);
            Ok(())
        }
        Format::MsBuild => dotnet::msbuild(text, &mut out),
        Format::PackagesConfig => dotnet::packages_config(text, &mut out),
        Format::ComposerJson => php::composer_json(text, &mut out),
        Format::ComposerLock => php::composer_lock(text, &mut out),
        Format::CargoLock => rust::cargo_lock(text, &mut out),
        Format::Vcpkg => cpp::vcpkg_json(text, &mut out),
        Format::ConanfileTxt => {
            cpp::conanfile_txt(text, &mut out);
            Ok(())
        }
        Format::ConanLock => {
            cpp::conan_strings(text, Declared::Lockfile, &mut out);
            Ok(())
        }
        Format::PowershellManifest => {
            powershell::module_requirements(text, &mut out);
            Ok(())
        }
    };
    if let Err(why) = result {
        out.parsed.diagnostics.push(Note::skipped(format!(
            "a dependency manifest that does not parse ({why}); it was not read"
        )));
        out.parsed.dependencies.clear();
    }
    out.parsed
}

/// What a reader found so far.
pub(crate) struct Found {
    host: HostId,
    parsed: Parsed,
}

impl Found {
    /// Records a dependency whose version string is at `span` (byte offsets in the file).
    fn add(
        &mut self,
        ecosystem: Ecosystem,
        name: &str,
        requirement: &str,
        syntax: Syntax,
        span: (usize, usize),
        declared: Declared,
    ) {
        self.parsed.dependencies.push(Dependency {
            host: self.host,
            ecosystem,
            name: name.trim().to_owned(),
            requirement: requirement.trim().to_owned(),
            syntax,
            span: HostSpan::new(span.0, span.1),
            declared,
        });
    }
}

/// The span of `part` inside `whole` (a sub-slice of it), shifted by `base`.
fn span_in(whole: &str, part: &str, base: usize) -> (usize, usize) {
    let start = (part.as_ptr() as usize).saturating_sub(whole.as_ptr() as usize) + base;
    (start, start + part.len())
}

/// The byte span of the contents of a quoted string value whose whole span (with its quotes)
/// is `span`, when the raw contents are the value itself (no escapes); else the whole span.
fn unquoted(text: &str, span: std::ops::Range<usize>, value: &str) -> (usize, usize) {
    let raw = text.get(span.clone()).unwrap_or_default();
    for quote in ["\"\"\"", "'''", "\"", "'"] {
        if let Some(inner) = raw.strip_prefix(quote).and_then(|r| r.strip_suffix(quote)) {
            if inner == value {
                let start = span.start + quote.len();
                return (start, start + inner.len());
            }
        }
    }
    (span.start, span.end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_read_by_name() {
        let of = |p: &str| Format::of(Path::new(p));
        assert_eq!(of("requirements.txt"), Some(Format::Requirements));
        assert_eq!(of("a/requirements-dev.txt"), Some(Format::Requirements));
        assert_eq!(of("dev-requirements.txt"), Some(Format::Requirements));
        assert_eq!(of("constraints.txt"), Some(Format::Requirements));
        assert_eq!(of("requirements/base.txt"), Some(Format::Requirements));
        assert_eq!(of("requirements.in"), Some(Format::Requirements));
        assert_eq!(of("notes.txt"), None);
        assert_eq!(of("requirements.md"), None);
        assert_eq!(of("x/package.json"), Some(Format::PackageJson));
        assert_eq!(of("package-lock.json"), Some(Format::PackageLock));
        assert_eq!(of("App.csproj"), Some(Format::MsBuild));
        assert_eq!(of("Directory.Packages.props"), Some(Format::MsBuild));
        assert_eq!(of("Gemfile.lock"), Some(Format::GemfileLock));
        assert_eq!(of("go.sum"), Some(Format::GoSum));
        assert_eq!(of("go.work.sum"), None);
        assert_eq!(of("ports/vcpkg.json"), Some(Format::Vcpkg));
        assert_eq!(of("conanfile.txt"), Some(Format::ConanfileTxt));
        assert_eq!(of("conanfile.py"), None);
        assert_eq!(of("conan.lock"), Some(Format::ConanLock));
        assert_eq!(
            of("Module/AWS.Tools.psd1"),
            Some(Format::PowershellManifest)
        );
        assert_eq!(of("yarn.lock"), Some(Format::YarnLock));
        assert_eq!(of("pnpm-lock.yaml"), Some(Format::PnpmLock));
        assert_eq!(of("build.gradle"), Some(Format::Gradle));
        assert_eq!(of("app/build.gradle.kts"), Some(Format::Gradle));
        assert_eq!(
            of("gradle/libs.versions.toml"),
            Some(Format::VersionCatalog)
        );
        assert_eq!(of("gradle.lockfile"), Some(Format::GradleLockfile));
        assert_eq!(
            of("gradle/dependency-locks/compileClasspath.lockfile"),
            Some(Format::GradleLockfile)
        );
        assert_eq!(of("x.lockfile"), None);
        assert_eq!(of("Gemfile"), Some(Format::Gemfile));
        assert_eq!(of("composer.json"), Some(Format::ComposerJson));
        assert_eq!(of("values.yaml"), None);
    }
}
