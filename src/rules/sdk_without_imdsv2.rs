//! IMDS020 `sdk-without-imdsv2`.

use super::{
    minimum_versions, Check, DependencyContext, DependencyViolation, Entry, Rule, Severity,
};

pub const RULE: Entry = Entry {
    rule: Rule {
        code: "IMDS020",
        name: "sdk-without-imdsv2",
        severity: Severity::Error,
        fixable: true,
        summary: "AWS SDK (or library) pinned or resolved below its first IMDSv2 version",
        doc: DOC,
        lowered: Some((
            Severity::Warning,
            "for a version range that also allows versions with IMDSv2",
        )),
    },
    check: Check::Dependency(check),
    fix: None,
};

const DOC: &str = r#"# IMDS020 sdk-without-imdsv2

## What it does
Flags an AWS SDK, the AWS CLI or a metadata library that a dependency manifest, a lockfile or an
install command pins or resolves below the first version that supports IMDSv2 tokens, and
libraries that never support them. The minimums are those of the AWS EC2 user guide, "Use a
supported AWS SDK"
(<https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/use-a-supported-sdk-version-for-imdsv2.html>):

| package | ecosystem | first IMDSv2 version |
|---|---|---|
| `awscli` (AWS CLI v1) | PyPI, OS packages | 1.16.289 |
| `botocore` | PyPI | 1.13.25 |
| `boto3` | PyPI | 1.12.6 |
| `com.amazonaws:aws-java-sdk*` (SDK for Java 1.x) | Maven | 1.11.678 |
| `software.amazon.awssdk:*` (SDK for Java 2.x) | Maven | 2.10.21 |
| `aws-sdk` (SDK for JavaScript v2) | npm | 2.722.0 |
| `github.com/aws/aws-sdk-go` | Go | 1.25.38 |
| `github.com/aws/aws-sdk-go-v2` | Go | 0.19.0 |
| `aws/aws-sdk-php` | Packagist | 3.147.7 |
| `aws-sdk-core` (SDK for Ruby 3) | RubyGems | 3.79.0 |
| `AWSSDK.Core` (SDK for .NET) | NuGet | 3.3.634.1 |
| `aws-sdk-cpp` | C++ (vcpkg.json, conanfile.txt, conan.lock) | 1.7.229 |
| AWS Tools for PowerShell | PowerShell Gallery (module manifests `*.psd1`: `RequiredModules`) | 4.0.1.0 |

and libraries: `boto` (boto 2, `boto.utils.get_instance_metadata`) and rusoto (`rusoto_core`,
`rusoto_credential`) never send a token; the Python `ec2-metadata` package does from 2.2.0
(its changelog, <https://github.com/adamchainz/ec2-metadata/blob/main/CHANGELOG.rst>). Each row,
with its source, is in `data/minimum-versions.toml`.

An exact version below the minimum (`boto3==1.9.0`, a lockfile's `version = "1.9.0"`, a bare
`"aws-sdk": "2.500.0"`) is an error. A range that also allows older versions (`boto3>=1.9`,
`^2.500.0`) is a warning that names them; a range that allows only older ones is an error. A
version the text does not give (`*`, a variable, a git reference) is not reported; `--statistics`
counts it.

## Why is this bad?
Once an instance requires tokens (`HttpTokens: required`), a metadata request without a token is
refused. An SDK older than its IMDSv2 release fetches the instance role's credentials without a
token, so the application loses its credentials the moment tokens are required, with nothing in
the code that makes a metadata request to show it.

## Example
```pip-requirements
boto3==1.9.0
```

## Use instead
```pip-requirements
boto3==1.12.6
```

## Fix safety
An exact pin below the minimum in a manifest the project writes (requirements files,
pyproject.toml, package.json and its `overrides`, go.mod, pom.xml — the `<version>` element or
the property it names —, Gradle scripts and version catalogs, Gemfile, composer.json, *.csproj,
packages.config, Directory.Packages.props) is raised to the minimum by `--fix --unsafe-fixes`:
`boto3==1.9.0` becomes `boto3==1.12.6`, `v1.20.0` becomes `v1.25.38`, the operator and what
follows the version are kept. It is unsafe: a newer SDK can change what the application does.
A range, a version with a qualifier after its numbers (`-SNAPSHOT`), a library that never
supports IMDSv2 and any lockfile are never edited: raise the range by hand and update the
lockfile with the ecosystem's own tool (`pip-compile`, `npm install`, `go mod tidy`,
`bundle update`).

## How to suppress
`# imds-lint disable=IMDS020` on the line (where the file format has comments), or alone on the
line before it; `--ignore IMDS020` turns the rule off.

## Known limitations
Only what a file says: a version resolved elsewhere (a base image, a vendored copy, a lockfile not
in the repository) is not seen, and an SDK that an application never uses to reach IMDS is still
reported. A range is judged by its bounds, without a resolver: `boto3>=1.9` is a warning even if
the lockfile resolves it to a new version (the lockfile, when present, is read too). Maven
`<properties>` are substituted within the same `pom.xml` only, and a Gradle `$variable` within
the same build script (a version set in another script or in `gradle.properties` is not judged,
only counted). go.sum is read as a lockfile: for each module the highest version with a code
checksum, the one minimal version selection built. Install commands in shell code (`pip install boto3==1.9.0`, `npm install
aws-sdk@2.1.0`, `gem install aws-sdk-core -v 3.0.0`, `yum install awscli-1.16.0`, `apt-get
install awscli=1.16.0-1`) are read where the file is analysed: a script that reaches no metadata
endpoint is read for them only when it holds a pinned spelling (`boto3==`, `botocore==`,
`awscli==`, `aws-sdk@`, `aws-sdk-core`, `awscli-1.`, `awscli=1.`), so `pip install
'boto3>=1.9'` alone in such a script is not seen. Gradle's outward brackets for open ends (`[a, b[`, `]a, b]`) are read as Maven's `)` and `(`.

## References
- AWS EC2 user guide, "Use a supported AWS SDK": <https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/use-a-supported-sdk-version-for-imdsv2.html>
- AWS EC2 user guide, "Transition to using Instance Metadata Service Version 2": <https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instance-metadata-transition-to-version-2.html>
"#;

/// What an application loses when its SDK cannot send a token.
const CONSEQUENCE: &str =
    "an SDK older than its IMDSv2 release fetches the instance role's credentials without a token, and loses them once instances require tokens";

fn check(context: &DependencyContext) -> Option<DependencyViolation> {
    let dependency = context.dependency;
    let found = minimum_versions::worst(RULE.rule.code, dependency)?;
    let (message, help, severity) =
        minimum_versions::describe(&found, dependency, RULE.rule.severity, CONSEQUENCE);
    Some(DependencyViolation {
        message,
        help,
        severity,
        minimum: found.row.minimum.clone(),
        bump: minimum_versions::bump(&found, dependency),
    })
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::file_findings;

    fn codes(name: &str, text: &str) -> Vec<&'static str> {
        file_findings(name, text)
            .into_iter()
            .map(|(c, _)| c)
            .collect()
    }

    #[test]
    fn flags_old_pins_and_ranges_only() {
        assert_eq!(codes("requirements.txt", "boto3==1.9.0\n"), ["IMDS020"]);
        assert_eq!(codes("requirements.txt", "boto3>=1.9\n"), ["IMDS020"]);
        assert_eq!(codes("requirements.txt", "boto==2.49.0\n"), ["IMDS020"]);
        for quiet in [
            "boto3==1.12.6\n",
            "boto3>=1.12.6\n",
            "boto3\n",
            "boto3==${BOTO}\n",
            "# boto3==1.9.0\n",
            "boto3-stubs==1.9.0\n",
            "requests==2.0.0\n",
            "botocore>=1.13.25,<2\n",
        ] {
            assert!(codes("requirements.txt", quiet).is_empty(), "{quiet}");
        }
    }
}
