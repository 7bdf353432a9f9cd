use super::*;

fn v(text: &str) -> Version {
    Version::parse(text, Flavor::Other).unwrap()
}

fn verdict(requirement: &str, syntax: Syntax, minimum: &str) -> Verdict {
    let flavor = match syntax {
        Syntax::Npm => Flavor::Semver,
        _ => Flavor::Other,
    };
    allowed(requirement, syntax, flavor).against(&v(minimum))
}

fn is_below(verdict: &Verdict) -> bool {
    matches!(verdict, Verdict::Below(_))
}

#[test]
fn versions_compare_as_their_ecosystems_do() {
    assert!(v("1.9.0") < v("1.12.6"));
    assert!(v("1.12.6") == v("1.12.6.0"));
    assert!(v("1.13.25") > v("1.13.24"));
    assert!(v("1.13.25rc1") < v("1.13.25"));
    assert!(v("1.13.25.dev0") < v("1.13.25"));
    assert!(v("1.13.25.post1") >= v("1.13.25"));
    assert!(v("2.10.21-SNAPSHOT") < v("2.10.21"));
    assert!(v("1.0.RELEASE") == v("1.0"));
    assert!(v("v1.25.38") == v("1.25.38"));
    assert!(v("3.3.634.1") > v("3.3.634"));
    assert!(v("3.3.634.0") < v("3.3.634.1"));
    assert!(v("1.11.678-jre") == v("1.11.678"));
    let go = |t| Version::parse(t, Flavor::Semver).unwrap();
    assert!(go("v1.25.38-0.20191115000000-abcdef123456") < go("v1.25.38"));
    assert!(go("v1.44.0+incompatible") == go("1.44.0"));
    for bad in [
        "latest",
        "${aws.version}",
        "",
        "git+https://x",
        "1.2 3",
        "^1.2",
        "x",
    ] {
        assert!(Version::parse(bad, Flavor::Other).is_none(), "{bad}");
    }
}

#[test]
fn exact_pins() {
    assert!(is_below(&verdict("1.9.0", Syntax::Exact, "1.12.6")));
    assert_eq!(
        verdict("1.12.6", Syntax::Exact, "1.12.6"),
        Verdict::Supported
    );
    assert!(is_below(&verdict("==1.9.0", Syntax::Pep440, "1.12.6")));
    assert!(is_below(&verdict("===1.9.0", Syntax::Pep440, "1.12.6")));
    assert!(is_below(&verdict("2.500.0", Syntax::Npm, "2.722.0")));
    assert!(is_below(&verdict("=2.500.0", Syntax::Npm, "2.722.0")));
    assert!(is_below(&verdict("1.11.100", Syntax::Maven, "1.11.678")));
    assert!(is_below(&verdict("[1.11.100]", Syntax::Maven, "1.11.678")));
    assert!(is_below(&verdict("3.3.0", Syntax::Nuget, "3.3.634.1")));
    assert!(is_below(&verdict("= 3.0.0", Syntax::Ruby, "3.79.0")));
    assert!(is_below(&verdict("3.0.0", Syntax::Ruby, "3.79.0")));
    assert!(is_below(&verdict("1.9.0", Syntax::Poetry, "1.12.6")));
}

#[test]
fn composer_constraints() {
    let some = |v: &str| Verdict::SomeBelow {
        lowest: Some(Version::parse(v, Flavor::Semver).unwrap()),
    };
    let c = |r: &str| match allowed(r, Syntax::Composer, Flavor::Semver) {
        Allowed::Unknown => Verdict::Unknown,
        a => a.against(&Version::parse("3.147.7", Flavor::Semver).unwrap()),
    };
    assert_eq!(c("3.100.0"), Verdict::Below(v("3.100.0")));
    assert_eq!(c("==3.100.0"), Verdict::Below(v("3.100.0")));
    assert_eq!(c("v3.100.0"), Verdict::Below(v("3.100.0")));
    assert_eq!(c("3.200.0"), Verdict::Supported);
    assert_eq!(c("^3.0"), some("3.0"));
    // Composer's tilde goes up to the next major when two parts are written (npm's would
    // stop at 3.2).
    assert_eq!(c("~3.1"), some("3.1"));
    assert_eq!(c("~3.1.0"), Verdict::AllBelow);
    assert_eq!(c(">=3.0, <3.100"), Verdict::AllBelow);
    assert_eq!(c(">=3.150 <4.0"), Verdict::Supported);
    assert_eq!(c("^2.8 | ^3.150"), some("2.8"));
    assert_eq!(c("^3.150@dev"), Verdict::Supported);
    assert_eq!(c("3.*"), some("3"));
    assert_eq!(c("*"), Verdict::Unknown);
    assert_eq!(c("dev-master"), Verdict::Unknown);
}

#[test]
fn ranges_reaching_below_name_their_lowest_version() {
    let some = |lowest: &str| Verdict::SomeBelow {
        lowest: Some(v(lowest)),
    };
    assert_eq!(verdict(">=1.9", Syntax::Pep440, "1.12.6"), some("1.9"));
    assert_eq!(verdict(">=1.9,<2", Syntax::Pep440, "1.12.6"), some("1.9"));
    assert_eq!(verdict("~=1.9", Syntax::Pep440, "1.12.6"), some("1.9"));
    assert_eq!(verdict("^2.500.0", Syntax::Npm, "2.722.0"), some("2.500.0"));
    assert_eq!(
        verdict("~2.500.0", Syntax::Npm, "2.722.0"),
        Verdict::AllBelow
    );
    assert_eq!(verdict("2.x", Syntax::Npm, "2.722.0"), some("2"));
    assert_eq!(verdict(">= 2.1.0", Syntax::Npm, "2.722.0"), some("2.1.0"));
    assert_eq!(
        verdict("2.1.0 - 2.900.0", Syntax::Npm, "2.722.0"),
        some("2.1.0")
    );
    assert_eq!(
        verdict("^1.0.0 || ^2.800.0", Syntax::Npm, "2.722.0"),
        Verdict::SomeBelow {
            lowest: Some(Version::parse("1.0.0", Flavor::Semver).unwrap())
        }
    );
    assert_eq!(
        verdict("<2.0", Syntax::Pep440, "1.12.6"),
        Verdict::SomeBelow { lowest: None }
    );
    assert_eq!(
        verdict("[1.11.0,2.0)", Syntax::Maven, "1.11.678"),
        some("1.11.0")
    );
    assert_eq!(verdict("1.11.+", Syntax::Maven, "1.11.678"), some("1.11"));
    assert_eq!(verdict("3.3.*", Syntax::Nuget, "3.3.634.1"), some("3.3"));
    assert_eq!(verdict("~> 3.0", Syntax::Ruby, "3.79.0"), some("3.0"));
    assert_eq!(verdict("^1.9", Syntax::Poetry, "1.12.6"), some("1.9"));
}

#[test]
fn ranges_wholly_below_or_above() {
    assert_eq!(
        verdict("<1.12", Syntax::Pep440, "1.12.6"),
        Verdict::AllBelow
    );
    assert_eq!(
        verdict("~=1.9.0", Syntax::Pep440, "1.12.6"),
        Verdict::AllBelow
    );
    assert_eq!(
        verdict("==1.9.*", Syntax::Pep440, "1.12.6"),
        Verdict::AllBelow
    );
    assert_eq!(
        verdict("~> 2.11", Syntax::Ruby, "3.79.0"),
        Verdict::AllBelow
    );
    assert_eq!(
        verdict(">=1.12.6", Syntax::Pep440, "1.12.6"),
        Verdict::Supported
    );
    assert_eq!(
        verdict(">1.12.5", Syntax::Pep440, "1.12.6"),
        Verdict::SomeBelow {
            lowest: Some(v("1.12.5"))
        }
    );
    assert_eq!(
        verdict("^2.722.0", Syntax::Npm, "2.722.0"),
        Verdict::Supported
    );
    assert_eq!(
        verdict("^3.0.0", Syntax::Npm, "2.722.0"),
        Verdict::Supported
    );
    assert_eq!(
        verdict("[2.10.21,)", Syntax::Maven, "2.10.21"),
        Verdict::Supported
    );
    assert_eq!(
        verdict("(2.10.21,3)", Syntax::Maven, "2.10.21"),
        Verdict::Supported
    );
    // Gradle's outward brackets for open ends.
    assert_eq!(
        verdict("]2.10.21,3.0]", Syntax::Maven, "2.10.21"),
        Verdict::Supported
    );
    assert_eq!(
        verdict("[2.10.21, 3.0[", Syntax::Maven, "2.10.21"),
        Verdict::Supported
    );
    assert_eq!(
        verdict("[2.5.0, 2.30.0[", Syntax::Maven, "2.10.21"),
        Verdict::SomeBelow {
            lowest: Some(v("2.5.0"))
        }
    );
    assert_eq!(
        verdict("[2.0, 2.10.21[", Syntax::Maven, "2.10.21"),
        Verdict::AllBelow
    );
    assert_eq!(
        verdict("]1.0,2.10.21[", Syntax::Maven, "2.10.21"),
        Verdict::AllBelow
    );
    assert_eq!(
        verdict("~> 3.79", Syntax::Ruby, "3.79.0"),
        Verdict::Supported
    );
    assert_eq!(
        verdict(">=1.12.6,!=1.13.0", Syntax::Pep440, "1.12.6"),
        Verdict::Supported
    );
}

#[test]
fn what_the_text_does_not_say_is_unknown() {
    for (requirement, syntax) in [
        ("*", Syntax::Npm),
        ("latest", Syntax::Npm),
        (
            "git+https://github.com/aws/aws-sdk-js.git#v2.1.0",
            Syntax::Npm,
        ),
        ("file:../aws-sdk", Syntax::Npm),
        ("${aws.version}", Syntax::Maven),
        ("LATEST", Syntax::Maven),
        ("*", Syntax::Nuget),
        ("", Syntax::Pep440),
        ("*", Syntax::Poetry),
        ("$VERSION", Syntax::Exact),
        ("latest", Syntax::Exact),
        ("!=1.9.0", Syntax::Pep440),
    ] {
        assert_eq!(
            verdict(requirement, syntax, "1.0.0"),
            Verdict::Unknown,
            "{requirement}"
        );
    }
}
