//! The configuration file, `imds-lint.toml` or `.imds-lint.toml`: where it is (the nearest one
//! above the scanned path), what it says, and errors that name the file, line and column with the
//! nearest valid key or value, so that a typo never silently does nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use toml::de::DeTable;
use toml::Spanned;

use crate::rules::{self, Severity};

/// The names a configuration file may have, in the order they are looked for in one directory.
pub const FILE_NAMES: [&str; 2] = [".imds-lint.toml", "imds-lint.toml"];

/// The keys a configuration file may hold.
pub const KEYS: &[&str] = &[
    "select",
    "ignore",
    "exclude",
    "per-file-ignores",
    "token-ttl",
    "token-variable",
    "severity",
    "max-file-size",
    "extra-hosts",
    "fail-on-skipped",
];

/// Why a configuration file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: cannot read the configuration file: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: {message}", path.display())]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
}

/// Globs over paths relative to the configuration file's directory. A glob without `/` matches a
/// name at any depth (`*.tpl`, `vendor`); a path matches when the glob matches it or one of the
/// directories it is in (`vendor` and `vendor/**` both leave out everything under `vendor/`).
/// Each glob remembers whether it matched a path of the run (shared by the clones of a
/// configuration), so that a glob that matches nothing can be said.
#[derive(Debug, Clone, Default)]
pub struct PathGlobs {
    set: GlobSet,
    texts: Vec<String>,
    hits: Arc<Vec<AtomicBool>>,
}

impl PathGlobs {
    fn new(globs: &[String]) -> Result<Self, globset::Error> {
        let mut builder = GlobSetBuilder::new();
        for glob in globs {
            builder.add(compile(glob)?);
        }
        Ok(PathGlobs {
            set: builder.build()?,
            texts: globs.to_vec(),
            hits: Arc::new(globs.iter().map(|_| AtomicBool::new(false)).collect()),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// Whether `relative` (to the configuration file's directory) or one of its parents matches.
    pub fn matches(&self, relative: &Path) -> bool {
        if self.set.is_empty() {
            return false;
        }
        let mut matched = false;
        for path in relative.ancestors() {
            if self.set.is_match(path) {
                matched = true;
                for index in self.set.matches(path) {
                    if let Some(hit) = self.hits.get(index) {
                        hit.store(true, Ordering::Relaxed);
                    }
                }
            }
        }
        matched
    }

    /// The globs that have matched no path so far, as written.
    pub fn unmatched(&self) -> Vec<&str> {
        self.texts
            .iter()
            .zip(self.hits.iter())
            .filter(|(_, hit)| !hit.load(Ordering::Relaxed))
            .map(|(text, _)| text.as_str())
            .collect()
    }
}

fn compile(glob: &str) -> Result<globset::Glob, globset::Error> {
    let glob = glob.trim_start_matches("./");
    let glob = glob.strip_suffix('/').unwrap_or(glob);
    let anchored = if glob.contains('/') {
        glob.trim_start_matches('/').to_owned()
    } else {
        format!("**/{glob}")
    };
    GlobBuilder::new(&anchored).literal_separator(true).build()
}

/// A configuration file, read and checked.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The file it came from (absolute).
    pub path: PathBuf,
    pub select: Option<Vec<String>>,
    pub ignore: Option<Vec<String>>,
    pub exclude: PathGlobs,
    /// Globs and the rules they turn off in the files they match.
    pub per_file_ignores: Vec<(PathGlobs, Vec<String>)>,
    pub token_ttl: Option<u32>,
    pub token_variable: Option<String>,
    /// Severities that differ from the rules table.
    pub severity: Vec<(&'static str, Severity)>,
    pub max_file_size: Option<u64>,
    /// More host names that reach the metadata service (lower case).
    pub extra_hosts: Vec<String>,
    /// A file not analysed, or only partly, fails the run (`--fail-on-skipped`).
    pub fail_on_skipped: Option<bool>,
}

impl Config {
    /// The directory globs are relative to.
    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("/"))
    }

    /// `path` relative to the configuration file's directory, if it is under it.
    pub fn relative(&self, path: &Path) -> Option<PathBuf> {
        let absolute = lexical_absolute(path)?;
        absolute
            .strip_prefix(self.dir())
            .ok()
            .map(Path::to_path_buf)
    }

    /// Whether a walked path is left out by `exclude`.
    pub fn excludes(&self, path: &Path) -> bool {
        !self.exclude.is_empty()
            && self
                .relative(path)
                .is_some_and(|r| self.exclude.matches(&r))
    }

    /// A warning for each `exclude` or `per-file-ignores` glob that matched no path the run
    /// walked or read: a glob that matches nothing usually means the configuration file is not
    /// where its globs are relative to (`--config` from outside the scanned tree), or a typo.
    pub fn unmatched_globs(&self) -> Vec<String> {
        let dir = self.dir().display().to_string();
        let mut out: Vec<String> = self
            .exclude
            .unmatched()
            .into_iter()
            .map(|glob| format!("`exclude` glob `{glob}` matched no path of this scan (globs are relative to {dir}, the configuration file's directory)"))
            .collect();
        for (globs, _) in &self.per_file_ignores {
            out.extend(globs.unmatched().into_iter().map(|glob| {
                format!("`per-file-ignores` glob `{glob}` matched no file of this scan (globs are relative to {dir}, the configuration file's directory)")
            }));
        }
        out
    }

    /// The rules `per-file-ignores` turns off for `path`.
    pub fn ignored_in(&self, path: &Path) -> Vec<String> {
        if self.per_file_ignores.is_empty() {
            return Vec::new();
        }
        let Some(relative) = self.relative(path) else {
            return Vec::new();
        };
        self.per_file_ignores
            .iter()
            .filter(|(globs, _)| globs.matches(&relative))
            .flat_map(|(_, codes)| codes.iter().cloned())
            .collect()
    }
}

/// `path` made absolute against the current directory, with `.` and `..` resolved by name (no
/// file system access: the walker's paths are compared as they are spelled).
pub fn lexical_absolute(path: &Path) -> Option<PathBuf> {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(path)
    };
    Some(crate::walk::lexical(&joined))
}

/// Reads `16MiB`, `512KiB`, `1G`, `1000`.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a size (try 16MiB)"))?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        other => return Err(format!("unknown size unit `{other}` (use KiB, MiB or GiB)")),
    };
    number
        .checked_mul(factor)
        .ok_or_else(|| format!("`{text}` is too large"))
}

/// The nearest configuration file at or above `start` (a file or directory), if any.
pub fn discover(start: &Path) -> Option<PathBuf> {
    let start = lexical_absolute(start)?;
    let first = if start.is_dir() {
        Some(start.as_path())
    } else {
        start.parent()
    };
    first?.ancestors().find_map(|dir| {
        FILE_NAMES
            .iter()
            .map(|name| dir.join(name))
            .find(|candidate| candidate.is_file())
    })
}

/// The largest configuration file read.
const MAX_CONFIG_FILE: u64 = 1 << 20;

/// Reads and checks the configuration file at `path`.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let absolute = lexical_absolute(path).unwrap_or_else(|| path.to_path_buf());
    let text = crate::source::read_regular(path, MAX_CONFIG_FILE)
        .and_then(|bytes| {
            String::from_utf8(bytes)
                .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8"))
        })
        .map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
    parse(&text, &absolute).map_err(|(span, message)| {
        let (line, column) = line_column(&text, span.start);
        ConfigError::Invalid {
            path: path.to_path_buf(),
            line,
            column,
            message,
        }
    })
}

/// The file as serde reads it: every value with its span, for errors that point at it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Raw {
    select: Option<Vec<Spanned<String>>>,
    ignore: Option<Vec<Spanned<String>>>,
    exclude: Option<Vec<Spanned<String>>>,
    per_file_ignores: Option<BTreeMap<Spanned<String>, Vec<Spanned<String>>>>,
    token_ttl: Option<Spanned<i64>>,
    token_variable: Option<Spanned<String>>,
    severity: Option<BTreeMap<Spanned<String>, Spanned<String>>>,
    max_file_size: Option<Spanned<Size>>,
    extra_hosts: Option<Vec<Spanned<String>>>,
    fail_on_skipped: Option<bool>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Size {
    Bytes(i64),
    Text(String),
}

type Span = std::ops::Range<usize>;
type Invalid = (Span, String);

/// Parses the text of a configuration file found at `path`; errors carry the byte range at fault.
pub(crate) fn parse(text: &str, path: &Path) -> Result<Config, Invalid> {
    // Syntax first, with the spans of the top-level keys for naming the key a bad value is under.
    let table = DeTable::parse(text).map_err(|e| {
        (
            e.span().unwrap_or(0..0),
            format!("not valid TOML: {}", e.message()),
        )
    })?;
    let raw: Raw = toml::from_str(text).map_err(|e| serde_error(text, table.get_ref(), &e))?;
    let mut config = Config {
        path: path.to_path_buf(),
        ..Config::default()
    };
    config.select = raw.select.map(|codes| rule_codes(&codes)).transpose()?;
    config.ignore = raw.ignore.map(|codes| rule_codes(&codes)).transpose()?;
    if let Some(globs) = raw.exclude {
        config.exclude = globs_of(&globs)?;
    }
    for (glob, codes) in raw.per_file_ignores.unwrap_or_default() {
        let globs = globs_of(std::slice::from_ref(&glob))?;
        config.per_file_ignores.push((globs, rule_codes(&codes)?));
    }
    if let Some(ttl) = raw.token_ttl {
        let value = u32::try_from(*ttl.get_ref())
            .ok()
            .filter(|v| (1..=21600).contains(v))
            .ok_or_else(|| {
                (
                    ttl.span(),
                    format!(
                        "`token-ttl` must be between 1 and 21600 seconds, not {}",
                        ttl.get_ref()
                    ),
                )
            })?;
        config.token_ttl = Some(value);
    }
    if let Some(name) = raw.token_variable {
        let valid = name
            .get_ref()
            .chars()
            .enumerate()
            .all(|(i, c)| c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()));
        if name.get_ref().is_empty() || !valid {
            return Err((
                name.span(),
                format!(
                    "`token-variable` must be a shell variable name (letters, digits, `_`, not starting with a digit), not `{}`",
                    name.get_ref()
                ),
            ));
        }
        config.token_variable = Some(name.into_inner());
    }
    for (code, level) in raw.severity.unwrap_or_default() {
        let rule = rule_code(&code)?;
        let severity = match level.get_ref().to_ascii_lowercase().as_str() {
            "error" => Severity::Error,
            "warning" => Severity::Warning,
            other => {
                return Err((
                    level.span(),
                    format!(
                        "unknown severity `{other}` ({})",
                        did_you_mean(other, &["error", "warning"], "severities")
                    ),
                ))
            }
        };
        config.severity.push((rule, severity));
    }
    if let Some(size) = raw.max_file_size {
        let span = size.span();
        let bytes = match size.into_inner() {
            Size::Bytes(n) => u64::try_from(n).map_err(|_| {
                (
                    span.clone(),
                    "`max-file-size` cannot be negative".to_owned(),
                )
            })?,
            Size::Text(text) => {
                parse_size(&text).map_err(|e| (span.clone(), format!("`max-file-size`: {e}")))?
            }
        };
        config.max_file_size = Some(bytes);
    }
    for host in raw.extra_hosts.unwrap_or_default() {
        config.extra_hosts.push(host_name(&host)?);
    }
    config.fail_on_skipped = raw.fail_on_skipped;
    Ok(config)
}

/// Turns serde's error into one that names the key: an unknown key gets the nearest valid one, a
/// bad value the key it is under.
fn serde_error(text: &str, table: &DeTable<'_>, error: &toml::de::Error) -> Invalid {
    let span = error.span().unwrap_or(0..0);
    let at = text.get(span.clone()).unwrap_or_default();
    let key = at.trim().trim_matches(['"', '\'']);
    if error.message().starts_with("unknown field") && !key.is_empty() {
        let message = match nearest(key, KEYS) {
            Some(near) => format!("unknown key `{key}` (did you mean `{near}`?)"),
            None => format!("unknown key `{key}` (the keys are: {})", KEYS.join(", ")),
        };
        return (span, message);
    }
    let under = table
        .iter()
        .find(|(k, v)| {
            let (k, v) = (k.span(), v.span());
            (k.start <= span.start && span.end <= k.end)
                || (v.start <= span.start && span.end <= v.end)
        })
        .map(|(k, _)| k.get_ref().to_string());
    // serde's words for the types, in the words of the file.
    let message = error
        .message()
        .trim()
        .replace("expected i64", "expected an integer")
        .replace(
            "data did not match any variant of untagged enum Size",
            "expected a size such as \"16MiB\" or a number of bytes",
        );
    match under {
        Some(key) => (span, format!("bad value for `{key}`: {message}")),
        None => (span, message),
    }
}

fn rule_code(code: &Spanned<String>) -> Result<&'static str, Invalid> {
    match rules::by_code(code.get_ref()) {
        Some(rule) => Ok(rule.code),
        None => {
            let known: Vec<&str> = rules::all().map(|r| r.code).collect();
            Err((
                code.span(),
                format!(
                    "unknown rule `{}` ({})",
                    code.get_ref(),
                    did_you_mean(code.get_ref(), &known, "known rules")
                ),
            ))
        }
    }
}

fn rule_codes(codes: &[Spanned<String>]) -> Result<Vec<String>, Invalid> {
    codes
        .iter()
        .map(|c| rule_code(c).map(str::to_owned))
        .collect()
}

fn globs_of(globs: &[Spanned<String>]) -> Result<PathGlobs, Invalid> {
    for glob in globs {
        if let Err(e) = compile(glob.get_ref()) {
            return Err((
                glob.span(),
                format!("bad glob `{}`: {}", glob.get_ref(), e.kind()),
            ));
        }
    }
    let texts: Vec<String> = globs.iter().map(|g| g.get_ref().clone()).collect();
    PathGlobs::new(&texts).map_err(|e| {
        (
            globs.first().map_or(0..0, |g| g.span()),
            format!("bad glob: {e}"),
        )
    })
}

/// A host name as `classify` compares them: `metadata.internal`, `10.0.0.1`, `[fd00::1]`.
fn host_name(host: &Spanned<String>) -> Result<String, Invalid> {
    let name = host.get_ref().trim().to_ascii_lowercase();
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_');
    let ipv6 = name.starts_with('[')
        && name.ends_with(']')
        && name.len() > 2
        && name
            .chars()
            .all(|c| c.is_ascii_hexdigit() || matches!(c, ':' | '.' | '[' | ']'));
    if plain || ipv6 {
        Ok(name)
    } else {
        Err((
            host.span(),
            format!(
                "`extra-hosts` takes host names (`metadata.internal`, `[fd00::1]`), not `{}`",
                host.get_ref()
            ),
        ))
    }
}

/// The candidate closest to `word` by edit distance, if it is close enough to be a typo.
pub fn nearest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let lower = word.to_ascii_lowercase();
    candidates
        .iter()
        .map(|c| {
            (
                strsim::damerau_levenshtein(&lower, &c.to_ascii_lowercase()),
                *c,
            )
        })
        .filter(|(distance, c)| *distance <= (c.len() / 3).max(2))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
}

/// `did you mean `x`?` for a near miss, else the list of what is valid.
fn did_you_mean(word: &str, candidates: &[&str], what: &str) -> String {
    match nearest(word, candidates) {
        Some(near) => format!("did you mean `{near}`?"),
        None => format!("{what}: {}", candidates.join(", ")),
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).unwrap_or_default().chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("16MiB"), Ok(16 << 20));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("2k"), Ok(2048));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("3 parsecs").is_err());
    }

    fn error_of(text: &str) -> (usize, usize, String) {
        match parse(text, Path::new("/r/imds-lint.toml")) {
            Ok(_) => panic!("no error for {text:?}"),
            Err((span, message)) => {
                let (line, column) = line_column(text, span.start);
                (line, column, message)
            }
        }
    }

    #[test]
    fn every_key() {
        let config = parse(
            "select = [\"IMDS001\", \"imds004\"]\nignore = [\"IMDS002\"]\nexclude = [\"vendor\", \"build/**\"]\n\
             token-ttl = 300\ntoken-variable = \"TOK\"\nmax-file-size = \"1MiB\"\nextra-hosts = [\"Metadata.Internal\"]\n\
             fail-on-skipped = true\n[severity]\nIMDS004 = \"error\"\n[per-file-ignores]\n\"legacy/*.sh\" = [\"IMDS004\"]\n",
            Path::new("/r/imds-lint.toml"),
        )
        .unwrap();
        assert_eq!(
            config.select,
            Some(vec!["IMDS001".to_owned(), "IMDS004".to_owned()])
        );
        assert_eq!(config.token_ttl, Some(300));
        assert_eq!(config.token_variable.as_deref(), Some("TOK"));
        assert_eq!(config.max_file_size, Some(1 << 20));
        assert_eq!(config.extra_hosts, ["metadata.internal"]);
        assert_eq!(config.fail_on_skipped, Some(true));
        assert_eq!(config.severity, [("IMDS004", Severity::Error)]);
        assert!(config.excludes(Path::new("/r/vendor/a.sh")));
        assert!(config.excludes(Path::new("/r/x/vendor")));
        assert!(config.excludes(Path::new("/r/build/a/b.sh")));
        assert!(!config.excludes(Path::new("/r/src/build.sh")));
        assert!(!config.excludes(Path::new("/elsewhere/vendor/a.sh")));
        assert_eq!(config.ignored_in(Path::new("/r/legacy/a.sh")), ["IMDS004"]);
        assert!(config
            .ignored_in(Path::new("/r/legacy/sub/a.sh"))
            .is_empty());
        assert!(config.ignored_in(Path::new("/r/a.sh")).is_empty());
    }

    #[test]
    fn unknown_keys_name_the_nearest() {
        let (line, column, message) = error_of("ignore = []\nselct = [\"IMDS001\"]\n");
        assert_eq!((line, column), (2, 1));
        assert_eq!(message, "unknown key `selct` (did you mean `select`?)");
        let (_, _, message) = error_of("token_ttl = 5\n");
        assert!(message.contains("did you mean `token-ttl`"), "{message}");
        let (_, _, message) = error_of("colour = true\n");
        assert!(message.contains("the keys are: select"), "{message}");
    }

    #[test]
    fn bad_values_name_their_key() {
        let (line, _, message) = error_of("\n\nselect = \"IMDS001\"\n");
        assert_eq!(line, 3);
        assert!(message.starts_with("bad value for `select`"), "{message}");
        let (_, _, message) = error_of("select = [\"IMDS01\"]\n");
        assert!(message.contains("did you mean `IMDS001`"), "{message}");
        let (line, column, message) = error_of("[severity]\nIMDS004 = \"eror\"\n");
        assert_eq!((line, column), (2, 11));
        assert!(message.contains("did you mean `error`"), "{message}");
        let (_, _, message) = error_of("token-ttl = 0\n");
        assert!(message.contains("between 1 and 21600"), "{message}");
        let (_, _, message) = error_of("token-variable = \"1X\"\n");
        assert!(message.contains("shell variable name"), "{message}");
        let (_, _, message) = error_of("exclude = [\"a/[\"]\n");
        assert!(message.starts_with("bad glob"), "{message}");
        let (_, _, message) = error_of("extra-hosts = [\"http://x/\"]\n");
        assert!(message.contains("host names"), "{message}");
        let (_, _, message) = error_of("fail-on-skipped = \"yes\"\n");
        assert!(
            message.starts_with("bad value for `fail-on-skipped`"),
            "{message}"
        );
        let (_, _, message) = error_of("select = [\n");
        assert!(message.starts_with("not valid TOML"), "{message}");
    }

    #[test]
    fn nearest_is_only_a_near_miss() {
        assert_eq!(nearest("selct", KEYS), Some("select"));
        assert_eq!(nearest("extra_hosts", KEYS), Some("extra-hosts"));
        assert_eq!(nearest("zzz", KEYS), None);
    }

    #[test]
    fn lexical_paths() {
        assert_eq!(
            lexical_absolute(Path::new("/a/./b/../c")),
            Some(PathBuf::from("/a/c"))
        );
    }
}
