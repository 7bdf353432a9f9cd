//! Versions and version requirements, as far as the dependency rules (IMDS020, IMDS021) need
//! them: which versions a requirement allows, as intervals, and how two versions compare. The
//! ecosystems write versions as dotted numbers with qualifiers (`1.11.678`, `2.0.0-rc.1`,
//! `1.0.RELEASE`, `1.0rc1`, `v1.25.38`, `3.3.634.1`) and requirements in eight syntaxes; one
//! small comparator reads them all. (The `semver` crate reads Cargo's syntax only, not npm's
//! `||` and hyphen ranges, PEP 440, Maven and NuGet intervals or RubyGems' `~>`; the rules need
//! only the bounds of what a requirement allows, not a resolver.)

use std::cmp::Ordering;

use crate::model::dependency::Syntax;

/// A version: its numeric release (`[1, 11, 678]`), whether a qualifier makes it a pre-release
/// (sorting before the release), and the text it was read from.
#[derive(Debug, Clone)]
pub struct Version {
    release: Vec<u64>,
    pre: bool,
    pub text: String,
}

/// How a qualifier after the release is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// Semantic versioning (npm, Go, Cargo): anything after `-` is a pre-release
    /// (`1.25.37-0.20191114…`, a Go pseudo-version, sorts before 1.25.37).
    Semver,
    /// Everything else: only the words that mean a pre-release (`rc`, `beta`, `SNAPSHOT`, …).
    Other,
}

/// Qualifier words that make a pre-release (PEP 440, Maven, NuGet, RubyGems).
const PRE_WORDS: &[&str] = &[
    "a",
    "alpha",
    "b",
    "beta",
    "c",
    "rc",
    "cr",
    "pre",
    "preview",
    "dev",
    "snapshot",
    "m",
    "milestone",
    "ea",
];

impl Version {
    /// Reads a version (a leading `v` and `=` allowed); `None` when it does not start with a
    /// number or holds characters no version has (`${x}`, a URL, `latest`).
    pub fn parse(text: &str, flavor: Flavor) -> Option<Version> {
        let trimmed = text.trim();
        let body = trimmed
            .strip_prefix(['v', 'V'])
            .unwrap_or(trimmed)
            .trim_start_matches('=');
        if !body.starts_with(|c: char| c.is_ascii_digit()) {
            return None;
        }
        if !body
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+' | '~'))
        {
            return None;
        }
        let numeric_end = body
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(body.len());
        let (numbers, rest) = body.split_at(numeric_end);
        let numbers = numbers.trim_end_matches('.');
        let mut release = Vec::new();
        for part in numbers.split('.') {
            release.push(part.parse::<u64>().ok()?);
        }
        // What follows the release, without build metadata.
        let qualifier = rest.split('+').next().unwrap_or_default();
        let pre = if qualifier.is_empty() {
            false
        } else if flavor == Flavor::Semver && qualifier.starts_with('-') {
            true
        } else {
            let word: String = qualifier
                .trim_start_matches(['-', '.', '_', '~'])
                .chars()
                .take_while(char::is_ascii_alphabetic)
                .collect::<String>()
                .to_ascii_lowercase();
            PRE_WORDS.contains(&word.as_str()) || qualifier.starts_with('~')
        };
        Some(Version {
            release,
            pre,
            text: trimmed.to_owned(),
        })
    }

    fn from_release(release: Vec<u64>) -> Version {
        let text = release
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(".");
        Version {
            release,
            pre: false,
            text,
        }
    }

    /// The release with its component `at` raised by one and the rest dropped (`1.2.3`, 1 →
    /// `1.3`), as a pre-release bound sorts: the first version not allowed by `~1.2.3`.
    fn bump(&self, at: usize) -> Version {
        let mut release: Vec<u64> = self.release.iter().take(at + 1).copied().collect();
        while release.len() < at + 1 {
            release.push(0);
        }
        if let Some(last) = release.last_mut() {
            *last = last.saturating_add(1);
        }
        // Below every pre-release of the bumped version too.
        let mut version = Version::from_release(release);
        version.pre = true;
        version
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let len = self.release.len().max(other.release.len());
        for i in 0..len {
            let a = self.release.get(i).copied().unwrap_or(0);
            let b = other.release.get(i).copied().unwrap_or(0);
            match a.cmp(&b) {
                Ordering::Equal => {}
                unequal => return unequal,
            }
        }
        // A pre-release sorts before its release.
        other.pre.cmp(&self.pre)
    }
}

/// A bound of an interval: the version, and whether it is allowed itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bound {
    pub version: Version,
    pub inclusive: bool,
}

/// One interval of allowed versions (`None`: unbounded on that side).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Interval {
    pub lower: Option<Bound>,
    pub upper: Option<Bound>,
}

impl Interval {
    fn exactly(version: Version) -> Interval {
        Interval {
            lower: Some(Bound {
                version: version.clone(),
                inclusive: true,
            }),
            upper: Some(Bound {
                version,
                inclusive: true,
            }),
        }
    }

    fn at_least(version: Version, inclusive: bool) -> Interval {
        Interval {
            lower: Some(Bound { version, inclusive }),
            upper: None,
        }
    }

    fn below(version: Version, inclusive: bool) -> Interval {
        Interval {
            lower: None,
            upper: Some(Bound { version, inclusive }),
        }
    }

    /// `[lower, upper)`.
    fn between(lower: Version, upper: Version) -> Interval {
        Interval {
            lower: Some(Bound {
                version: lower,
                inclusive: true,
            }),
            upper: Some(Bound {
                version: upper,
                inclusive: false,
            }),
        }
    }

    /// What both allow.
    fn and(self, other: Interval) -> Interval {
        let lower = match (self.lower, other.lower) {
            (Some(a), Some(b)) => Some(match a.version.cmp(&b.version) {
                Ordering::Greater => a,
                Ordering::Less => b,
                Ordering::Equal => Bound {
                    inclusive: a.inclusive && b.inclusive,
                    version: a.version,
                },
            }),
            (a, b) => a.or(b),
        };
        let upper = match (self.upper, other.upper) {
            (Some(a), Some(b)) => Some(match a.version.cmp(&b.version) {
                Ordering::Less => a,
                Ordering::Greater => b,
                Ordering::Equal => Bound {
                    inclusive: a.inclusive && b.inclusive,
                    version: a.version,
                },
            }),
            (a, b) => a.or(b),
        };
        Interval { lower, upper }
    }

    /// Whether the interval allows a version below `minimum`.
    fn reaches_below(&self, minimum: &Version) -> bool {
        match &self.lower {
            None => true,
            Some(bound) => bound.version < *minimum,
        }
    }

    /// Whether every version it allows is below `minimum`.
    fn all_below(&self, minimum: &Version) -> bool {
        match &self.upper {
            None => false,
            Some(bound) => {
                bound.version < *minimum || (bound.version == *minimum && !bound.inclusive)
            }
        }
    }
}

/// What a requirement allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allowed {
    /// One version.
    Exactly(Version),
    /// Any version in one of the intervals.
    Ranges(Vec<Interval>),
    /// Not known from the text: `*`, `latest`, a variable, a URL or a git reference.
    Unknown,
}

/// How a requirement stands against the first version that supports IMDSv2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every version it allows is the minimum or later.
    Supported,
    /// The one version it names is older.
    Below(Version),
    /// It allows only older versions (`<2.0`, `~=1.9.0`).
    AllBelow,
    /// It allows older versions and newer ones; `lowest` is the lowest bound it names, if any.
    SomeBelow { lowest: Option<Version> },
    /// Its versions are not known from the text.
    Unknown,
}

impl Allowed {
    /// How what it allows stands against `minimum`.
    pub fn against(&self, minimum: &Version) -> Verdict {
        match self {
            Allowed::Unknown => Verdict::Unknown,
            Allowed::Exactly(version) if version < minimum => Verdict::Below(version.clone()),
            Allowed::Exactly(_) => Verdict::Supported,
            Allowed::Ranges(intervals) => {
                let below: Vec<&Interval> = intervals
                    .iter()
                    .filter(|i| i.reaches_below(minimum))
                    .collect();
                if below.is_empty() {
                    Verdict::Supported
                } else if intervals.iter().all(|i| i.all_below(minimum)) {
                    Verdict::AllBelow
                } else {
                    let lowest = below
                        .iter()
                        .map(|i| i.lower.as_ref().map(|b| b.version.clone()))
                        .min_by(|a, b| match (a, b) {
                            (None, _) => Ordering::Less,
                            (_, None) => Ordering::Greater,
                            (Some(a), Some(b)) => a.cmp(b),
                        })
                        .flatten();
                    Verdict::SomeBelow { lowest }
                }
            }
        }
    }
}

/// Reads a requirement written in `syntax`; `flavor` says how qualifiers read.
pub fn allowed(requirement: &str, syntax: Syntax, flavor: Flavor) -> Allowed {
    let requirement = requirement.trim();
    let parsed = match syntax {
        Syntax::Exact => Version::parse(requirement, flavor).map(Allowed::Exactly),
        Syntax::Pep440 => pep440(requirement, flavor),
        Syntax::Poetry => poetry(requirement, flavor),
        Syntax::Npm => npm(requirement, flavor),
        Syntax::Maven => maven(requirement, flavor),
        Syntax::Nuget => nuget(requirement, flavor),
        Syntax::Ruby => ruby(requirement, flavor),
        Syntax::Composer => composer(requirement, flavor),
        Syntax::ImageTag => Version::parse(requirement, flavor)
            .filter(|v| v.release.len() >= 3)
            .map(Allowed::Exactly),
    };
    parsed.map_or(Allowed::Unknown, simplify)
}

/// One interval that allows one version is that version.
fn simplify(allowed: Allowed) -> Allowed {
    if let Allowed::Ranges(intervals) = &allowed {
        if let [Interval {
            lower: Some(low),
            upper: Some(high),
        }] = intervals.as_slice()
        {
            if low.inclusive && high.inclusive && low.version == high.version {
                return Allowed::Exactly(low.version.clone());
            }
        }
        if intervals
            .iter()
            .all(|i| i.lower.is_none() && i.upper.is_none())
        {
            return Allowed::Unknown;
        }
    }
    allowed
}

/// A version with wildcards (`1.2.*`, `1.x`, `1`): the interval it stands for, and whether it
/// was partial (fewer components, or a wildcard).
fn partial(text: &str, flavor: Flavor) -> Option<(Interval, bool)> {
    let text = text.trim().trim_start_matches(['v', 'V', '=']);
    let parts: Vec<&str> = text.split('.').collect();
    let wild = |p: &str| matches!(p, "*" | "x" | "X" | "+");
    let Some(first_wild) = parts.iter().position(|p| wild(p)) else {
        return Version::parse(text, flavor).map(|v| (Interval::exactly(v), false));
    };
    if first_wild == 0 {
        return Some((Interval::default(), true));
    }
    let fixed = parts.get(..first_wild)?.join(".");
    let version = Version::parse(&fixed, flavor)?;
    let upper = version.bump(first_wild - 1);
    Some((Interval::between(version, upper), true))
}

/// PEP 440 specifiers, comma-separated.
fn pep440(requirement: &str, flavor: Flavor) -> Option<Allowed> {
    if requirement.is_empty() {
        return None;
    }
    let mut interval = Interval::default();
    for clause in requirement.split(',') {
        let clause = clause.trim();
        let (op, rest) = split_operator(clause, &["===", "==", "!=", "~=", "<=", ">=", "<", ">"]);
        let rest = rest.trim();
        let next = match op {
            "==" | "===" => {
                if rest.ends_with(".*") {
                    partial(rest, flavor)?.0
                } else {
                    Interval::exactly(Version::parse(rest, flavor)?)
                }
            }
            "!=" => continue,
            "~=" => {
                let version = Version::parse(rest, flavor)?;
                let at = version.release.len().checked_sub(2)?;
                let upper = version.bump(at);
                Interval::between(version, upper)
            }
            ">=" => Interval::at_least(Version::parse(rest, flavor)?, true),
            ">" => Interval::at_least(Version::parse(rest, flavor)?, false),
            "<=" => Interval::below(Version::parse(rest, flavor)?, true),
            "<" => Interval::below(Version::parse(rest, flavor)?, false),
            _ => return None,
        };
        interval = interval.and(next);
    }
    Some(Allowed::Ranges(vec![interval]))
}

/// Poetry constraints: npm-like `^`/`~`, PEP 440 operators, a bare version is exact.
fn poetry(requirement: &str, flavor: Flavor) -> Option<Allowed> {
    if requirement.contains("||") || requirement.contains('|') {
        let mut all = Vec::new();
        for part in requirement.split('|').filter(|p| !p.trim().is_empty()) {
            match poetry(part, flavor)? {
                Allowed::Exactly(v) => all.push(Interval::exactly(v)),
                Allowed::Ranges(r) => all.extend(r),
                Allowed::Unknown => return None,
            }
        }
        return Some(Allowed::Ranges(all));
    }
    let mut interval = Interval::default();
    for clause in requirement.split(',') {
        let clause = clause.trim();
        let next = if let Some(rest) = clause.strip_prefix('^') {
            caret(rest, flavor)?
        } else if let Some(rest) = clause.strip_prefix("~=") {
            match pep440(&format!("~={rest}"), flavor)? {
                Allowed::Ranges(r) => r.into_iter().next()?,
                _ => return None,
            }
        } else if let Some(rest) = clause.strip_prefix('~') {
            tilde(rest, flavor)?
        } else if clause.starts_with(['<', '>', '=', '!']) {
            match pep440(clause, flavor)? {
                Allowed::Ranges(r) => r.into_iter().next()?,
                _ => return None,
            }
        } else {
            partial(clause, flavor)?.0
        };
        interval = interval.and(next);
    }
    Some(Allowed::Ranges(vec![interval]))
}

/// `^1.2.3`: up to the next change of the first non-zero component.
fn caret(text: &str, flavor: Flavor) -> Option<Interval> {
    let (interval, _) = partial(text, flavor)?;
    let lower = interval.lower?.version;
    let given = text
        .trim()
        .trim_start_matches(['v', '='])
        .split('.')
        .count();
    let at = lower
        .release
        .iter()
        .take(given)
        .position(|&n| n != 0)
        .unwrap_or(given.saturating_sub(1));
    let upper = lower.bump(at);
    Some(Interval::between(lower, upper))
}

/// `~1.2.3`: patch changes (`~1` : minor changes too).
fn tilde(text: &str, flavor: Flavor) -> Option<Interval> {
    let (interval, _) = partial(text, flavor)?;
    let lower = interval.lower?.version;
    let given = text
        .trim()
        .trim_start_matches(['v', '='])
        .split('.')
        .count();
    let at = if given >= 2 { 1 } else { 0 };
    let upper = lower.bump(at);
    Some(Interval::between(lower, upper))
}

/// npm ranges: `||` between alternatives, spaces between comparators, `a - b` hyphen ranges.
fn npm(requirement: &str, flavor: Flavor) -> Option<Allowed> {
    if requirement.is_empty() || matches!(requirement, "*" | "x" | "X" | "latest") {
        return None;
    }
    let mut all = Vec::new();
    for alternative in requirement.split("||") {
        let alternative = alternative.trim();
        if let Some((low, high)) = alternative.split_once(" - ") {
            let lower = partial(low, flavor)?.0.lower?.version;
            // A full version is allowed itself; a partial one up to its next change.
            let upper = partial(high, flavor)?.0.upper?;
            all.push(Interval {
                lower: Some(Bound {
                    version: lower,
                    inclusive: true,
                }),
                upper: Some(upper),
            });
            continue;
        }
        // Comparators, with an operator written apart from its version (`>= 1.2`) joined.
        let mut words: Vec<String> = Vec::new();
        for word in alternative.split_whitespace() {
            match words.last_mut() {
                Some(last)
                    if matches!(last.as_str(), ">=" | "<=" | ">" | "<" | "=" | "^" | "~") =>
                {
                    last.push_str(word)
                }
                _ => words.push(word.to_owned()),
            }
        }
        let mut interval = Interval::default();
        for word in &words {
            let (op, rest) = split_operator(word, &[">=", "<=", ">", "<", "=", "^", "~>", "~"]);
            let next = match op {
                "^" => caret(rest, flavor)?,
                "~" | "~>" => tilde(rest, flavor)?,
                ">=" => Interval {
                    lower: partial(rest, flavor)?.0.lower,
                    upper: None,
                },
                ">" => {
                    let (i, was_partial) = partial(rest, flavor)?;
                    if was_partial {
                        Interval {
                            lower: i.upper.map(|b| Bound {
                                version: b.version,
                                inclusive: true,
                            }),
                            upper: None,
                        }
                    } else {
                        Interval::at_least(i.lower?.version, false)
                    }
                }
                "<=" => {
                    let (i, was_partial) = partial(rest, flavor)?;
                    if was_partial {
                        Interval {
                            lower: None,
                            upper: i.upper,
                        }
                    } else {
                        Interval::below(i.lower?.version, true)
                    }
                }
                "<" => Interval::below(partial(rest, flavor)?.0.lower?.version, false),
                _ => partial(rest, flavor)?.0,
            };
            interval = interval.and(next);
        }
        all.push(interval);
    }
    Some(Allowed::Ranges(all))
}

/// Maven and Gradle: `[a,b)` intervals (several, comma-separated; Gradle also writes an open
/// end with the bracket turned outwards, `[a,b[` and `]a,b]`), `1.2` a soft pin Maven takes as
/// it is, Gradle's `1.+` and `1.2!!` (strict).
fn maven(requirement: &str, flavor: Flavor) -> Option<Allowed> {
    let requirement = requirement.trim_end_matches("!!");
    if requirement.starts_with(['[', '(', ']']) {
        return intervals(requirement, flavor).map(Allowed::Ranges);
    }
    if requirement.ends_with('+') {
        let base = requirement.trim_end_matches('+').trim_end_matches('.');
        if base.is_empty() {
            return None;
        }
        return partial(&format!("{base}.*"), flavor).map(|(i, _)| Allowed::Ranges(vec![i]));
    }
    Version::parse(requirement, flavor).map(Allowed::Exactly)
}

/// NuGet: intervals as Maven's; a bare version is a minimum, which NuGet's resolution (the
/// lowest applicable version) takes as it is; `1.*` floats.
fn nuget(requirement: &str, flavor: Flavor) -> Option<Allowed> {
    if requirement.starts_with(['[', '(']) {
        return intervals(requirement, flavor).map(Allowed::Ranges);
    }
    if requirement.contains('*') {
        if requirement == "*" {
            return None;
        }
        return partial(requirement, flavor).map(|(i, _)| Allowed::Ranges(vec![i]));
    }
    Version::parse(requirement, flavor).map(Allowed::Exactly)
}

/// `[1.0,2.0)`, `(,1.0]`, `[1.5,)`, `[1.0]`, several separated by commas; an open end may be
/// written with the bracket turned outwards (Gradle: `[1.0,2.0[`, `]1.0,2.0]`).
fn intervals(text: &str, flavor: Flavor) -> Option<Vec<Interval>> {
    let mut out = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let open = rest.chars().next()?;
        let close_at = 1 + rest.get(1..)?.find([']', ')', '['])?;
        let close = match rest.get(close_at..=close_at)? {
            "[" => ")",
            other => other,
        };
        let inside = rest.get(1..close_at)?;
        let bound = |s: &str, inclusive: bool| -> Option<Option<Bound>> {
            let s = s.trim();
            if s.is_empty() {
                return Some(None);
            }
            Some(Some(Bound {
                version: Version::parse(s, flavor)?,
                inclusive,
            }))
        };
        let interval = match inside.split_once(',') {
            Some((low, high)) => Interval {
                lower: bound(low, open == '[')?,
                upper: bound(high, close == "]")?,
            },
            None => Interval::exactly(Version::parse(inside, flavor)?),
        };
        out.push(interval);
        rest = rest
            .get(close_at + 1..)?
            .trim_start()
            .trim_start_matches(',')
            .trim_start();
    }
    (!out.is_empty()).then_some(out)
}

/// RubyGems: comma-separated `op version` clauses; `~>` is pessimistic.
fn ruby(requirement: &str, flavor: Flavor) -> Option<Allowed> {
    let mut interval = Interval::default();
    for clause in requirement.split(',') {
        let clause = clause.trim().trim_matches(['\'', '"']).trim();
        let (op, rest) = split_operator(clause, &["~>", ">=", "<=", "!=", "=", ">", "<"]);
        let rest = rest.trim();
        let version = Version::parse(rest, flavor)?;
        let next = match op {
            "~>" => {
                let at = version.release.len().saturating_sub(2);
                let upper = version.bump(at);
                Interval::between(version, upper)
            }
            ">=" => Interval::at_least(version, true),
            ">" => Interval::at_least(version, false),
            "<=" => Interval::below(version, true),
            "<" => Interval::below(version, false),
            "!=" => continue,
            _ => Interval::exactly(version),
        };
        interval = interval.and(next);
    }
    Some(Allowed::Ranges(vec![interval]))
}

/// Composer: alternatives between `||` (or `|`), comparators between commas or spaces; `~1.2`
/// allows up to the next change of the second-to-last part written (`<2.0`, as RubyGems' `~>`),
/// the rest reads as npm's; stability flags (`@dev`) and a leading `v` are not part of versions.
fn composer(requirement: &str, flavor: Flavor) -> Option<Allowed> {
    if requirement.is_empty() || requirement == "*" || requirement.starts_with("dev-") {
        return None;
    }
    let mut all = Vec::new();
    for alternative in requirement.split('|').filter(|a| !a.trim().is_empty()) {
        let alternative = alternative.trim();
        if alternative.contains(" - ") {
            match npm(alternative, flavor)? {
                Allowed::Ranges(ranges) => all.extend(ranges),
                Allowed::Exactly(version) => all.push(Interval::exactly(version)),
                Allowed::Unknown => return None,
            }
            continue;
        }
        let mut words: Vec<String> = Vec::new();
        for word in alternative.split([',', ' ']).filter(|w| !w.is_empty()) {
            match words.last_mut() {
                Some(last)
                    if matches!(
                        last.as_str(),
                        ">=" | "<=" | ">" | "<" | "=" | "==" | "!=" | "^" | "~"
                    ) =>
                {
                    last.push_str(word)
                }
                _ => words.push(word.to_owned()),
            }
        }
        let mut interval = Interval::default();
        for word in &words {
            let word = word.split('@').next().unwrap_or_default();
            let (op, rest) =
                split_operator(word, &[">=", "<=", "!=", "==", ">", "<", "=", "^", "~"]);
            let rest = rest.strip_prefix(['v', 'V']).unwrap_or(rest);
            if rest.is_empty() {
                continue; // only a stability flag (`@dev`)
            }
            let next = match op {
                "!=" => continue,
                "~" => match ruby(&format!("~> {rest}"), flavor)? {
                    Allowed::Ranges(mut ranges) => ranges.pop()?,
                    _ => return None,
                },
                "==" => npm(&format!("={rest}"), flavor).and_then(one_interval)?,
                _ => npm(&format!("{op}{rest}"), flavor).and_then(one_interval)?,
            };
            interval = interval.and(next);
        }
        all.push(interval);
    }
    // One version exactly (`3.100.0`, `v3.100.0`, `==3.100.0`) is a pin.
    if let [Interval {
        lower: Some(low),
        upper: Some(high),
    }] = all.as_slice()
    {
        if low.inclusive && high.inclusive && low.version == high.version {
            return Some(Allowed::Exactly(low.version.clone()));
        }
    }
    (!all.is_empty()).then_some(Allowed::Ranges(all))
}

/// The one interval a single comparator allows.
fn one_interval(allowed: Allowed) -> Option<Interval> {
    match allowed {
        Allowed::Exactly(version) => Some(Interval::exactly(version)),
        Allowed::Ranges(mut ranges) if ranges.len() == 1 => ranges.pop(),
        _ => None,
    }
}

/// The first of `operators` that starts `text` (longest first in the list), and the rest.
fn split_operator<'a>(text: &'a str, operators: &[&'static str]) -> (&'static str, &'a str) {
    for op in operators {
        if let Some(rest) = text.strip_prefix(op) {
            return (op, rest);
        }
    }
    ("", text)
}

#[cfg(test)]
mod tests;
