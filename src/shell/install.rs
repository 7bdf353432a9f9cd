//! Package installs read off a command's words: `pip install boto3==1.9.0`, `npm install
//! aws-sdk@2.1.0`, `gem install aws-sdk-core -v 3.0.0`, `yum install awscli-1.16.0` (and `dnf`),
//! `apt-get install awscli=1.16.0-1` (and `apt`). Each package named with a version becomes a
//! [`Dependency`] whose span is the version in the host; what versions mean is the rules'
//! business. Only literal words are read (a `$VERSION` is not a version).

use crate::fragment::{FragmentSpan, HostSpan, OffsetMap};
use crate::model::dependency::{Declared, Dependency, Ecosystem, Syntax};
use crate::shell::word::Word;

/// Options of the installers that take a value in the next word (which is not a package).
const VALUE_OPTIONS: &[&str] = &[
    "-r",
    "--requirement",
    "-c",
    "--constraint",
    "-e",
    "--editable",
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "-t",
    "--target",
    "--prefix",
    "--root",
    "--registry",
    "--install-dir",
    "-n",
    "--bindir",
    "--source",
    "-s",
    "--platform",
    "--enablerepo",
    "--disablerepo",
    "--setopt",
    "-o",
    "--option",
    "--releasever",
];

/// One package word: its literal text and where that text is in the host (when the word is
/// written as its literal, quotes around it allowed).
struct Package {
    text: String,
    /// Host offset of the text's first character, when the text is written as it reads.
    at: Option<usize>,
}

impl Package {
    fn of(word: &Word, text: &[u8], map: &OffsetMap) -> Option<Package> {
        let literal = word.literal()?;
        let raw = text.get(word.span.start.0..word.span.end.0)?;
        let raw = std::str::from_utf8(raw).ok()?;
        let at = raw.find(literal.as_str()).filter(|_| {
            // Unquoted, or inside one pair of quotes: the raw text holds the literal as is.
            raw == literal || raw.len() == literal.len() + 2
        });
        let at = at.map(|offset| {
            map.span_to_host(FragmentSpan::new(
                word.span.start.0 + offset,
                word.span.start.0 + offset,
            ))
            .start
            .0
        });
        Some(Package { text: literal, at })
    }

    /// The dependency whose version is `text[version]` (a byte range of the literal).
    fn dependency(
        &self,
        ecosystem: Ecosystem,
        name: &str,
        version: std::ops::Range<usize>,
        syntax: Syntax,
    ) -> Option<Dependency> {
        let requirement = self.text.get(version.clone())?;
        let at = self.at?;
        Some(Dependency {
            host: 0,
            ecosystem,
            name: name.to_owned(),
            requirement: requirement.to_owned(),
            syntax,
            span: HostSpan::new(at + version.start, at + version.end),
            declared: Declared::Installed,
        })
    }
}

/// The packages an install command names with their versions; `program` is the command's name
/// (wrappers peeled) and `argv` its words from the program on.
pub fn installs(program: &str, argv: &[Word], text: &[u8], map: &OffsetMap) -> Vec<Dependency> {
    let literal = |i: usize| argv.get(i).and_then(Word::literal);
    let subcommand = literal(1).unwrap_or_default();
    let installing = match program {
        "pip" | "pip3" | "pip2" => subcommand == "install",
        "npm" => matches!(subcommand.as_str(), "install" | "i" | "add"),
        "gem" => subcommand == "install",
        "yum" | "dnf" | "apt-get" | "apt" => subcommand == "install",
        _ => false,
    };
    if !installing {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut words = argv.iter().enumerate().skip(2).peekable();
    // gem's `-v VERSION` / `--version VERSION` applies to the gems named.
    let mut gems: Vec<Package> = Vec::new();
    let mut gem_version: Option<Package> = None;
    while let Some((_, word)) = words.next() {
        let Some(package) = Package::of(word, text, map) else {
            continue;
        };
        let arg = package.text.as_str();
        if arg.starts_with('-') {
            if program == "gem" && matches!(arg, "-v" | "--version") {
                gem_version = words.next().and_then(|(_, w)| Package::of(w, text, map));
            } else if VALUE_OPTIONS.contains(&arg) {
                words.next();
            }
            continue;
        }
        match program {
            "pip" | "pip3" | "pip2" => {
                let Some(split) = arg.find(['=', '<', '>', '~', '!']) else {
                    continue;
                };
                let name = arg.get(..split).unwrap_or_default();
                let name = name.split('[').next().unwrap_or(name);
                out.extend(package.dependency(
                    Ecosystem::Pypi,
                    name,
                    split..arg.len(),
                    Syntax::Pep440,
                ));
            }
            "npm" => {
                let Some(at) = arg.get(1..).and_then(|rest| rest.find('@')).map(|a| a + 1) else {
                    continue;
                };
                out.extend(package.dependency(
                    Ecosystem::Npm,
                    arg.get(..at).unwrap_or_default(),
                    at + 1..arg.len(),
                    Syntax::Npm,
                ));
            }
            "gem" => match arg.split_once(':') {
                Some((name, _)) => out.extend(package.dependency(
                    Ecosystem::Rubygems,
                    name,
                    name.len() + 1..arg.len(),
                    Syntax::Ruby,
                )),
                None => gems.push(package),
            },
            "yum" | "dnf" => {
                // name-version[-release[.arch]]: the version starts at the first `-digit`.
                let Some(dash) = arg.match_indices('-').map(|(i, _)| i).find(|&i| {
                    arg.get(i + 1..)
                        .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
                }) else {
                    continue;
                };
                let start = dash + 1;
                let end = arg
                    .get(start..)
                    .and_then(|r| r.find('-'))
                    .map_or(arg.len(), |e| start + e);
                out.extend(package.dependency(
                    Ecosystem::System,
                    arg.get(..dash).unwrap_or_default(),
                    start..end,
                    Syntax::Exact,
                ));
            }
            _ => {
                // apt: name=[epoch:]version[-revision].
                let Some((name, version)) = arg.split_once('=') else {
                    continue;
                };
                let mut start = name.len() + 1;
                if let Some(colon) = version.find(':') {
                    start += colon + 1;
                }
                let rest = arg.get(start..).unwrap_or_default();
                let end = start + rest.rfind('-').unwrap_or(rest.len());
                out.extend(package.dependency(Ecosystem::System, name, start..end, Syntax::Exact));
            }
        }
    }
    if let Some(version) = gem_version {
        for gem in &gems {
            out.extend(version.dependency(
                Ecosystem::Rubygems,
                &gem.text,
                0..version.text.len(),
                Syntax::Ruby,
            ));
        }
    }
    out
}
