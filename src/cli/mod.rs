//! The command line: resolves settings from flags, walks, checks each file on the walker's
//! threads, then hands the results to a reporter. It never picks an exit status (`main` does).

pub mod args;
mod generate;
mod progress;

use std::io::{self, IsTerminal, Read, Write};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Instant;

pub use args::Args;
use args::{ColorChoice, Command, FailOn, Format};

use crate::baseline::Baseline;
use crate::check::{self, CheckSettings, Outcome, RuleSelection};
use crate::config::{self, Config};
use crate::fix::{self, Applicability, FixSettings};
use crate::frontend;
use crate::report::{self, FileReport, Report, Statistics};
use crate::rules::{self, Severity};
use crate::shell;
use crate::walk::{self, Entry, Skip, WalkOptions};

/// How a run ended, for `main` to turn into an exit status.
#[derive(Debug, PartialEq, Eq)]
pub enum Status {
    /// Everything scanned, nothing found.
    Clean,
    /// Findings were reported.
    Findings,
    /// A usage error, or nothing could be scanned.
    Failure,
}

/// A problem with one file or path that does not stop the scan.
#[derive(Debug)]
pub struct Diagnostic {
    pub path: Option<PathBuf>,
    pub message: String,
}

pub fn run(args: Args) -> io::Result<Status> {
    match &args.command {
        Some(Command::Rule { code }) => return print_rule(code.as_deref()),
        Some(Command::Completions { shell }) => return generate::completions(*shell),
        Some(Command::Man) => return generate::man_page(),
        None => {}
    }
    let started = Instant::now();
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let config = match load_config(&args, &paths) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("imds-lint: error: {message}");
            return Ok(Status::Failure);
        }
    };
    let selection = match rule_selection(&args, config.as_deref()) {
        Ok(rules) => rules,
        Err(message) => {
            eprintln!("imds-lint: error: {message}");
            return Ok(Status::Failure);
        }
    };
    let baseline = match &args.baseline {
        Some(path) => match Baseline::read(path) {
            Ok(baseline) => Some(baseline),
            Err(e) => {
                eprintln!("imds-lint: error: {e}");
                return Ok(Status::Failure);
            }
        },
        None => None,
    };
    if let Some(config) = &config {
        // Before the first check: the prefilter is built from the hosts on first use.
        shell::endpoint::set_extra_hosts(config.extra_hosts.clone());
    }
    let defaults = FixSettings::default();
    let settings = CheckSettings {
        rules: selection,
        fix: FixSettings {
            token_ttl: args
                .token_ttl
                .or(config.as_ref().and_then(|c| c.token_ttl))
                .unwrap_or(defaults.token_ttl),
            token_variable: config
                .as_ref()
                .and_then(|c| c.token_variable.clone())
                .unwrap_or(defaults.token_variable),
        },
        severity: config
            .as_ref()
            .map(|c| c.severity.clone())
            .unwrap_or_default(),
    };
    let counters = Arc::new(progress::Counters::default());
    let scan = Scan {
        settings: settings.clone(),
        max_file_size: args
            .max_file_size
            .or(config.as_ref().and_then(|c| c.max_file_size))
            .unwrap_or(DEFAULT_MAX_FILE_SIZE),
        config: config.clone(),
        counters: Arc::clone(&counters),
        results: Mutex::new(Results::default()),
    };
    let walk_options = WalkOptions {
        no_ignore: args.no_ignore,
        threads: args.jobs.unwrap_or(0),
        skip: config
            .clone()
            .filter(|c| !c.exclude.is_empty())
            .map(|c| Skip(Arc::new(move |path: &Path| c.excludes(path)))),
    };
    let reads_stdin = paths.iter().any(|p| p == Path::new("-"));
    let mut progress = progress::Progress::start(
        progress::allowed() && args.output_format() == Format::Human && !args.quiet && !reads_stdin,
        counters,
    );
    for path in &paths {
        if path == Path::new("-") {
            scan.stdin(args.stdin_filename.clone());
        } else if path.is_dir() {
            let scan = &scan;
            walk::walk_dir(path, &walk_options, || {
                Box::new(move |entry| scan.entry(entry, path))
            });
        } else {
            let root = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            scan.entry(Entry::File(path.clone()), root);
        }
    }
    scan.referenced_files();
    progress.stop();
    let mut results = scan
        .results
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    link_files(&settings, config.as_deref(), &mut results);
    if args.migration {
        let mut out = io::stdout().lock();
        let mut summaries = std::mem::take(&mut results.summaries);
        summaries.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
        if args.output_format() == Format::Json {
            crate::migration::write_json(&mut out, &summaries)?;
        } else {
            crate::migration::write_human(&mut out, &summaries)?;
        }
        return Ok(Status::Clean);
    }
    finish(&args, &settings, baseline.as_ref(), results, started)
}

const DEFAULT_MAX_FILE_SIZE: u64 = 16 << 20;

/// The pass across files, after the walk: joins the link facts of every checked file
/// (`crate::links`), asks IMDS012 about each setting linked to boot Secrets, and adds its findings
/// to the reports of the files they are in.
fn link_files(settings: &CheckSettings, config: Option<&Config>, results: &mut Results) {
    let Some(rule) = rules::by_code("IMDS012") else {
        return;
    };
    let rules::Check::Setting(check) = rule.check else {
        return;
    };
    if results.links.is_empty() {
        return;
    }
    let enabled = settings.rules.enabled(rule);
    let files: Vec<&crate::links::FileLinks> = results.links.iter().map(|(_, l, _)| l).collect();
    let mut new: Vec<(usize, crate::check::Finding)> = Vec::new();
    for linked in crate::links::link(&files) {
        let (f, s) = linked.setting;
        let Some((_, links, _)) = results.links.get(f) else {
            continue;
        };
        let Some(target) = links.settings.get(s) else {
            continue;
        };
        let sites: Vec<(usize, &crate::links::Site)> = linked
            .secrets
            .iter()
            .filter_map(|(sf, ss)| {
                let (_, links, _) = results.links.get(*sf)?;
                let (_, sites) = links.secrets.get(*ss)?;
                Some(sites.iter().map(move |site| (*sf, site)))
            })
            .flatten()
            .collect();
        let location = |file: usize, line: usize| {
            let path = results
                .links
                .get(file)
                .map(|(source, _, _)| source.path.display().to_string())
                .unwrap_or_default();
            format!("{path}:{line}")
        };
        let tokenless_locations: Vec<String> = sites
            .iter()
            .map(|(sf, site)| location(*sf, site.line))
            .collect();
        let setting_location = location(f, target.line);
        let path_of = |file: usize| {
            results
                .links
                .get(file)
                .map(|(source, _, _)| source.path.display().to_string())
                .unwrap_or_default()
        };
        let setting_path = path_of(f);
        let secret_paths: Vec<String> = linked.secrets.iter().map(|(sf, _)| path_of(*sf)).collect();
        if let Some(summary) = results
            .summaries
            .iter_mut()
            .find(|summary| summary.line == target.line && summary.path == setting_path)
        {
            summary.tokenless_requests += sites.len();
            summary.fixable += sites.iter().filter(|(_, site)| site.fixable).count();
            for path in secret_paths {
                if !summary.boot_scripts.contains(&path) {
                    summary.boot_scripts.push(path);
                }
            }
            if !linked.secrets.is_empty() {
                summary.unseen = None;
            }
            summary.decide();
        }
        if !enabled {
            continue;
        }
        let context = rules::SettingContext {
            setting: &target.setting,
            tokenless_in_user_data: sites.len(),
            unassigned_in_user_data: 0,
            setting_location: &setting_location,
            tokenless_locations: &tokenless_locations,
        };
        let Some(violation) = check(&context) else {
            continue;
        };
        let severity = settings.severity_of(rule);
        for at in &violation.at_requests {
            let Some((sf, site)) = sites.get(at.request) else {
                continue;
            };
            if site.suppressed {
                continue;
            }
            new.push((
                *sf,
                crate::check::Finding {
                    rule,
                    severity,
                    span: site.span,
                    message: at.message.clone(),
                    help: at.help.clone(),
                    fix: None,
                    origin: site.origin.clone(),
                    decoded: site.decoded.clone(),
                },
            ));
        }
        if !target.suppressed && target.setting.host == 0 {
            new.push((
                f,
                crate::check::Finding {
                    rule,
                    severity,
                    span: target.span,
                    message: violation.message,
                    help: violation.help,
                    fix: None,
                    origin: Vec::new(),
                    decoded: None,
                },
            ));
        }
    }
    for (file, finding) in new {
        let Some((source, _, root)) = results.links.get(file) else {
            continue;
        };
        // `per-file-ignores` of the file the finding lands in.
        if config.is_some_and(|c| {
            c.ignored_in(&source.path)
                .iter()
                .any(|code| code.eq_ignore_ascii_case(finding.rule.code))
        }) {
            continue;
        }
        results.statistics.findings += 1;
        match results
            .files
            .iter_mut()
            .find(|c| c.report.source.path == source.path)
        {
            Some(checked) => {
                checked.report.findings.push(finding);
                checked
                    .report
                    .findings
                    .sort_by_key(|f| (f.span.start, f.rule.code));
            }
            None => results.files.push(Checked {
                report: FileReport {
                    source: crate::source::SourceFile::new(
                        source.path.clone(),
                        source.bytes.clone(),
                    ),
                    findings: vec![finding],
                },
                root: root.clone(),
                kind: None,
                stdin: false,
                settings: None,
            }),
        }
    }
}

/// The configuration in force: `--config FILE`, else the nearest file at or above the first path
/// (the current directory for standard input), unless `--isolated`.
fn load_config(args: &Args, paths: &[PathBuf]) -> Result<Option<Arc<Config>>, String> {
    if args.isolated {
        return Ok(None);
    }
    let file = match &args.config {
        Some(file) => Some(file.clone()),
        None => {
            let start = paths
                .first()
                .filter(|p| *p != Path::new("-"))
                .map_or(Path::new("."), PathBuf::as_path);
            config::discover(start)
        }
    };
    match file {
        Some(file) => config::load(&file)
            .map(|c| Some(Arc::new(c)))
            .map_err(|e| e.to_string()),
        None => Ok(None),
    }
}

/// `--select`/`--ignore` when given, else the configuration's.
fn rule_selection(args: &Args, config: Option<&Config>) -> Result<RuleSelection, String> {
    for code in args.select.iter().chain(&args.ignore) {
        if rules::by_code(code).is_none() {
            let known: Vec<&str> = rules::RULES.iter().map(|r| r.code).collect();
            let near = config::nearest(code, &known)
                .map(|n| format!("did you mean `{n}`? "))
                .unwrap_or_default();
            return Err(format!(
                "unknown rule `{code}` ({near}known rules: {})",
                known.join(", ")
            ));
        }
    }
    let pick = |flag: &Vec<String>, configured: Option<&Vec<String>>| {
        if flag.is_empty() {
            configured.cloned().unwrap_or_default()
        } else {
            flag.clone()
        }
    };
    Ok(RuleSelection {
        select: pick(&args.select, config.and_then(|c| c.select.as_ref())),
        ignore: pick(&args.ignore, config.and_then(|c| c.ignore.as_ref())),
    })
}

fn print_rule(code: Option<&str>) -> io::Result<Status> {
    let mut out = io::stdout().lock();
    match code {
        None => {
            let width = rules::RULES.iter().map(|r| r.name.len()).max().unwrap_or(0);
            for rule in rules::RULES {
                writeln!(
                    out,
                    "{}  {:<width$} {:<8} {:<4} {}",
                    rule.code,
                    rule.name,
                    rule.severity.as_str(),
                    if rule.fixable { "fix" } else { "" },
                    rule.summary
                )?;
            }
            Ok(Status::Clean)
        }
        Some(code) => match rules::by_code(code).or_else(|| {
            rules::RULES
                .iter()
                .find(|r| r.name.eq_ignore_ascii_case(code))
        }) {
            Some(rule) => {
                write!(out, "{}", rule.doc)?;
                Ok(Status::Clean)
            }
            None => {
                eprintln!("imds-lint: error: no rule `{code}`; `imds-lint rule` lists them");
                Ok(Status::Failure)
            }
        },
    }
}

/// A checked file with findings, and what fixing it needs.
struct Checked {
    report: FileReport,
    /// The directory the file was reached from: fixes never write outside it.
    root: PathBuf,
    /// The front end forced on it (standard input), if any.
    kind: Option<frontend::Kind>,
    stdin: bool,
    /// Its own settings, when `per-file-ignores` turns rules off in it.
    settings: Option<CheckSettings>,
}

#[derive(Default)]
struct Results {
    files: Vec<Checked>,
    /// Files other files make instances run (Terraform `file()`), with the root they came from.
    referenced: Vec<(PathBuf, PathBuf)>,
    /// Every file a front end read, to check each referenced file once.
    seen: Vec<PathBuf>,
    /// Standard input as read, when `-` was scanned (`--fix` echoes it back, fixed or not).
    stdin: Option<Vec<u8>>,
    diagnostics: Vec<Diagnostic>,
    statistics: Statistics,
    /// The link facts of the files that have any, for the pass across files (`crate::links`).
    links: Vec<(crate::source::SourceFile, crate::links::FileLinks, PathBuf)>,
    /// One per declared setting, for `--migration`.
    summaries: Vec<crate::migration::SettingSummary>,
}

struct Scan {
    settings: CheckSettings,
    max_file_size: u64,
    config: Option<Arc<Config>>,
    counters: Arc<progress::Counters>,
    results: Mutex<Results>,
}

impl Scan {
    fn record(&self, update: impl FnOnce(&mut Results)) {
        let mut results = self
            .results
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        update(&mut results);
    }

    fn diagnostic(&self, path: Option<PathBuf>, message: String) {
        self.record(|r| r.diagnostics.push(Diagnostic { path, message }));
    }

    fn entry(&self, entry: Entry, root: &Path) {
        match entry {
            Entry::Error { path, message } => self.diagnostic(path, message),
            Entry::File(path) => match self.read(&path) {
                Ok(Some(bytes)) => self.check(path, bytes, None, root),
                Ok(None) => {}
                Err(message) => self.diagnostic(Some(path), message),
            },
        }
    }

    /// Checks, as user data, the files that scanned files make instances run and that were not
    /// read already (a `.tpl` template is not a shell file by name).
    fn referenced_files(&self) {
        let (referenced, seen) = {
            let mut results = self
                .results
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if results.referenced.is_empty() {
                return;
            }
            (
                std::mem::take(&mut results.referenced),
                results.seen.clone(),
            )
        };
        let canonical = |p: &Path| std::fs::canonicalize(p).ok();
        let mut done: Vec<PathBuf> = seen.iter().filter_map(|p| canonical(p)).collect();
        for (path, root) in referenced {
            let Some(real) = canonical(&path) else {
                self.diagnostic(
                    Some(path),
                    "referenced as user data, but it cannot be found".to_owned(),
                );
                continue;
            };
            if done.contains(&real) {
                continue;
            }
            done.push(real);
            match self.read(&path) {
                Ok(Some(bytes)) => {
                    let kind = frontend::classify_content(&bytes);
                    self.check(path, bytes, kind, &root);
                }
                Ok(None) => {}
                Err(message) => self.diagnostic(Some(path), message),
            }
        }
    }

    fn stdin(&self, name: Option<PathBuf>) {
        let mut bytes = Vec::new();
        let limit = self.max_file_size;
        match io::stdin().lock().take(limit + 1).read_to_end(&mut bytes) {
            Ok(_) if bytes.len() as u64 > limit => self.diagnostic(
                Some(PathBuf::from("-")),
                format!("standard input is larger than --max-file-size ({limit} bytes); skipped"),
            ),
            Ok(_) => {
                let copy = bytes.clone();
                self.record(|r| r.stdin = Some(copy));
                let path = name.unwrap_or_else(|| PathBuf::from("-"));
                let kind = frontend::classify(&path, &bytes).or(Some(frontend::Kind::Shell));
                self.check(path, bytes, kind, Path::new(""));
            }
            Err(e) => self.diagnostic(Some(PathBuf::from("-")), format!("cannot read: {e}")),
        }
    }

    /// Reads a file once; `None` for files that are skipped without a word (binary).
    fn read(&self, path: &Path) -> Result<Option<Vec<u8>>, String> {
        let file = std::fs::File::open(path).map_err(|e| describe_io(&e))?;
        let metadata = file.metadata().map_err(|e| describe_io(&e))?;
        if !metadata.is_file() {
            return Err("not a regular file".to_owned());
        }
        if metadata.len() > self.max_file_size {
            return Err(format!(
                "skipped: {} bytes is over --max-file-size ({} bytes)",
                metadata.len(),
                self.max_file_size
            ));
        }
        let mut bytes = Vec::with_capacity(metadata.len() as usize);
        file.take(self.max_file_size + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| describe_io(&e))?;
        self.record(|r| r.statistics.files_read += 1);
        self.counters.files.fetch_add(1, Ordering::Relaxed);
        if check::is_binary(&bytes) {
            self.record(|r| r.statistics.binary += 1);
            return Ok(None);
        }
        Ok(Some(bytes))
    }

    fn check(&self, path: PathBuf, bytes: Vec<u8>, kind: Option<frontend::Kind>, root: &Path) {
        let shown = path.clone();
        let ignored = self
            .config
            .as_ref()
            .map(|c| c.ignored_in(&path))
            .unwrap_or_default();
        let own = (!ignored.is_empty()).then(|| {
            let mut settings = self.settings.clone();
            settings.rules.ignore.extend(ignored);
            settings
        });
        let settings = own.as_ref().unwrap_or(&self.settings);
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
            check::check_file(path, bytes, kind, settings)
        }));
        match outcome {
            Ok(Outcome::NotRecognised) => self.record(|r| r.statistics.not_recognised += 1),
            Ok(Outcome::Prefiltered) => self.record(|r| {
                r.statistics.prefiltered += 1;
                r.seen.push(shown.clone());
            }),
            Ok(Outcome::Checked {
                source,
                findings,
                notes,
                referenced,
                links,
                summaries,
            }) => {
                for note in notes {
                    self.diagnostic(Some(shown.clone()), note);
                }
                self.counters
                    .findings
                    .fetch_add(findings.len(), Ordering::Relaxed);
                let linked = (!links.is_empty()).then(|| {
                    (
                        crate::source::SourceFile::new(shown.clone(), source.bytes.clone()),
                        *links,
                        root.to_path_buf(),
                    )
                });
                self.record(|r| {
                    r.seen.push(shown.clone());
                    r.links.extend(linked);
                    r.summaries.extend(summaries);
                    r.referenced
                        .extend(referenced.into_iter().map(|p| (p, root.to_path_buf())));
                    r.statistics.parsed += 1;
                    r.statistics.findings += findings.len();
                    if !findings.is_empty() {
                        r.files.push(Checked {
                            report: FileReport { source, findings },
                            root: root.to_path_buf(),
                            kind,
                            stdin: root.as_os_str().is_empty(),
                            settings: own,
                        });
                    }
                });
            }
            Err(_) => self.diagnostic(
                Some(shown),
                "internal error while checking this file (a bug in imds-lint: please report it); the scan went on".to_owned(),
            ),
        }
    }
}

fn describe_io(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::PermissionDenied => "cannot read: permission denied".to_owned(),
        io::ErrorKind::NotFound => {
            "no such file or directory (or a broken symbolic link)".to_owned()
        }
        _ => format!("cannot read: {error}"),
    }
}

fn finish(
    args: &Args,
    settings: &CheckSettings,
    baseline: Option<&Baseline>,
    mut results: Results,
    started: Instant,
) -> io::Result<Status> {
    results
        .files
        .sort_by(|a, b| a.report.source.path.cmp(&b.report.source.path));
    let mut out = io::stdout().lock();
    let mut stderr = io::stderr().lock();
    let changed = if args.fix || args.diff {
        fix_files(args, settings, &mut results, &mut out, &mut stderr)?
    } else {
        0
    };
    // `--fix -` is a filter: standard output carries the (fixed) script and nothing else.
    let filter = args.fix && args.paths.iter().any(|p| p == Path::new("-"));
    if filter {
        if let Some(unchanged) = results.stdin.take() {
            out.write_all(&unchanged)?;
        }
    }
    results
        .diagnostics
        .sort_by(|a, b| a.path.cmp(&b.path).then(a.message.cmp(&b.message)));
    results.statistics.elapsed = started.elapsed();

    for d in &results.diagnostics {
        match &d.path {
            Some(path) => writeln!(
                stderr,
                "imds-lint: warning: {}: {}",
                path.display(),
                d.message
            )?,
            None => writeln!(stderr, "imds-lint: warning: {}", d.message)?,
        }
    }
    let mut files: Vec<FileReport> = results.files.into_iter().map(|c| c.report).collect();
    let stats = &mut results.statistics;
    let nothing_scanned = stats.files_read == 0 && stats.parsed == 0;
    if let Some(path) = &args.write_baseline {
        let written = Baseline::of(&files, path);
        if let Err(e) = written.write(path) {
            writeln!(stderr, "imds-lint: error: {e}")?;
            return Ok(Status::Failure);
        }
        if !args.quiet {
            let findings: usize = files.iter().map(|f| f.findings.len()).sum();
            writeln!(
                stderr,
                "imds-lint: wrote {} ({}) to {}",
                match written.entries.len() {
                    1 => "1 baseline entry".to_owned(),
                    n => format!("{n} baseline entries"),
                },
                plural(findings, "finding"),
                path.display()
            )?;
        }
        if args.statistics {
            stats.by_rule = by_rule(&files);
            report::write_statistics(&mut stderr, stats)?;
        }
        return Ok(if nothing_scanned && !results.diagnostics.is_empty() {
            Status::Failure
        } else {
            Status::Clean
        });
    }
    if let (Some(baseline), Some(path)) = (baseline, &args.baseline) {
        stats.baselined = Some(baseline.filter(&mut files, path));
        stats.findings = stats.findings_reported(&files);
    }
    stats.by_rule = by_rule(&files);
    let stats = &results.statistics;
    let report = Report {
        files: &files,
        files_scanned: stats.files_read + usize::from(stats.files_read == 0 && stats.parsed > 0),
        statistics: stats,
    };
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    if !args.diff {
        let mut main: &mut dyn Write = if filter { &mut stderr } else { &mut out };
        let format = args.output_format();
        match format {
            Format::Human if args.quiet => {
                report::human::write_findings(&mut main, &report, color)?
            }
            Format::Human => report::human::write(&mut main, &report, color)?,
            Format::Concise => report::concise::write(&mut main, &report)?,
            Format::Json => report::json::write(&mut main, &report)?,
            Format::JsonLines => report::json_lines::write(&mut main, &report)?,
            Format::Github => report::github::write(&mut main, &report)?,
            Format::Sarif => report::sarif::write(&mut main, &report)?,
            Format::Checkstyle => report::checkstyle::write(&mut main, &report)?,
            Format::Junit => report::junit::write(&mut main, &report)?,
            Format::Gitlab => report::gitlab::write(&mut main, &report)?,
        }
        // Line-oriented formats leave the one-line summary to stderr, for the person reading the log.
        if matches!(format, Format::Concise | Format::Github) && !args.quiet {
            report::human::write_summary(&mut stderr, &report)?;
        }
    }
    out.flush()?;
    if args.statistics {
        report::write_statistics(&mut stderr, stats)?;
    }
    let fail_on = if args.exit_zero {
        FailOn::Never
    } else {
        args.fail_on.unwrap_or(FailOn::Warning)
    };
    let failing = files
        .iter()
        .flat_map(|f| &f.findings)
        .filter(|f| match fail_on {
            FailOn::Warning => true,
            FailOn::Error => f.severity == Severity::Error,
            FailOn::Never => false,
        })
        .count();
    Ok(if args.diff {
        if changed > 0 && fail_on != FailOn::Never {
            Status::Findings
        } else {
            Status::Clean
        }
    } else if failing > 0 {
        Status::Findings
    } else if nothing_scanned && !results.diagnostics.is_empty() {
        Status::Failure
    } else {
        Status::Clean
    })
}

/// Findings per rule, in the order of the rules table, for `--statistics`.
fn by_rule(files: &[FileReport]) -> Vec<(&'static str, &'static str, usize)> {
    rules::RULES
        .iter()
        .map(|rule| {
            let count = files
                .iter()
                .flat_map(|f| &f.findings)
                .filter(|f| f.rule.code == rule.code)
                .count();
            (rule.code, rule.name, count)
        })
        .filter(|(_, _, count)| *count > 0)
        .collect()
}

/// Applies fixes to every file with findings (repeating to a fixed point), then writes the files
/// (`--fix`) or prints their diffs (`--diff`). Each file's report is replaced by what is left.
/// Returns how many files changed.
fn fix_files(
    args: &Args,
    settings: &CheckSettings,
    results: &mut Results,
    out: &mut impl Write,
    err: &mut impl Write,
) -> io::Result<usize> {
    let allowed = |a: Applicability| a == Applicability::Safe || args.unsafe_fixes;
    let mut total_before = 0;
    let mut total_fixed = 0;
    let mut files_changed = 0;
    // Human output tells the fixes on stdout with the report; machine formats keep stdout clean.
    let mut log: Vec<String> = Vec::new();
    for checked in &mut results.files {
        let before = checked.report.findings.len();
        total_before += before;
        if !checked
            .report
            .findings
            .iter()
            .any(|f| f.fix.as_ref().is_some_and(|x| allowed(x.applicability)))
        {
            continue;
        }
        let path = checked.report.source.path.clone();
        let original = checked.report.source.bytes.clone();
        let settings = checked.settings.as_ref().unwrap_or(settings).clone();
        let settings = &settings;
        let mut current = original.clone();
        let mut outcome = None;
        for _ in 0..8 {
            let checked_now =
                check::check_file(path.clone(), current.clone(), checked.kind, settings);
            let fixes: Vec<&fix::Fix> = checked_now
                .findings()
                .iter()
                .filter_map(|f| f.fix.as_ref())
                .filter(|f| allowed(f.applicability))
                .collect();
            let applied = fix::apply::apply(&current, &fixes);
            if fixes.is_empty() || applied.bytes == current {
                outcome = Some(checked_now);
                break;
            }
            current = applied.bytes;
        }
        let outcome = match outcome {
            Some(outcome) => outcome,
            None => check::check_file(path.clone(), current.clone(), checked.kind, settings),
        };
        if current == original {
            continue;
        }
        let remaining = outcome.findings().len();
        let fixed = before.saturating_sub(remaining);
        if args.diff {
            write_diff(out, &path, &original, &current)?;
        } else if checked.stdin {
            out.write_all(&current)?;
            results.stdin = None;
        } else if let Err(e) =
            fix::write::write_atomically(&path, &checked.root, &original, &current)
        {
            results.diagnostics.push(Diagnostic {
                path: Some(path.clone()),
                message: e.to_string(),
            });
            continue;
        }
        files_changed += 1;
        total_fixed += fixed;
        if !args.diff {
            log.push(format!(
                "fixed {} in {}",
                plural(fixed, "finding"),
                path.display()
            ));
            if let Outcome::Checked {
                source, findings, ..
            } = outcome
            {
                checked.report = FileReport { source, findings };
            }
        }
    }
    results.files.retain(|c| !c.report.findings.is_empty());
    results.statistics.findings = results.files.iter().map(|c| c.report.findings.len()).sum();
    let summary = if args.diff {
        format!("{} would change", plural(files_changed, "file"))
    } else {
        format!(
            "fixed {total_fixed} of {} in {}",
            plural(total_before, "finding"),
            plural(files_changed, "file")
        )
    };
    if total_before > 0 || args.diff {
        log.push(summary);
    }
    let filter = args.paths.iter().any(|p| p == Path::new("-"));
    let to_stdout = args.output_format() == Format::Human && !args.diff && !filter;
    if args.quiet {
        log.clear();
    }
    for line in log {
        if to_stdout {
            writeln!(out, "{line}")?;
        } else {
            writeln!(err, "{line}")?;
        }
    }
    Ok(files_changed)
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn write_diff(out: &mut impl Write, path: &Path, old: &[u8], new: &[u8]) -> io::Result<()> {
    let old = String::from_utf8_lossy(old);
    let new = String::from_utf8_lossy(new);
    let diff = similar::TextDiff::from_lines(old.as_ref(), new.as_ref());
    let shown = path.display().to_string();
    let name = shown.trim_start_matches("./").trim_start_matches('/');
    write!(
        out,
        "{}",
        diff.unified_diff()
            .context_radius(3)
            .header(&format!("a/{name}"), &format!("b/{name}"))
    )
}
