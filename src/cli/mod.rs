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
use crate::model::FileReport;
use crate::report::{self, Report, Statistics};
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
    let defaults = FixSettings::default();
    let mut settings = CheckSettings {
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
        prefilter: Default::default(),
    };
    if let Some(config) = &config {
        settings.set_extra_hosts(&config.extra_hosts);
        // Until the analysis takes its endpoints as a value (the shell split).
        shell::endpoint::set_extra_hosts(config.extra_hosts.clone());
    }
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
    let max_file_size = scan.max_file_size;
    let mut results = scan
        .results
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    results.max_file_size = max_file_size;
    relink(&settings, &mut results);
    if args.migration {
        let mut out = io::stdout().lock();
        let mut summaries = std::mem::take(&mut results.summaries);
        for checked in &mut results.files {
            summaries.append(&mut checked.summaries);
        }
        summaries.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
        if args.output_format() == Format::Json {
            crate::report::migration::write_json(&mut out, &summaries)?;
        } else {
            crate::report::migration::write_human(&mut out, &summaries)?;
        }
        return Ok(Status::Clean);
    }
    finish(&args, &settings, baseline.as_ref(), results, started)
}

const DEFAULT_MAX_FILE_SIZE: u64 = 16 << 20;

/// The pass across files: joins the link facts of the checked files (`crate::links`) into what
/// the other files say about each, and checks again, with it, every file for which that changed.
/// Returns whether any report changed.
fn relink(settings: &CheckSettings, results: &mut Results) -> bool {
    let max_file_size = results.max_file_size;
    let linked: Vec<(usize, &Checked)> = results
        .files
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.links.is_empty())
        .collect();
    if linked.is_empty() {
        return false;
    }
    let paths: Vec<PathBuf> = linked
        .iter()
        .map(|(_, c)| crate::walk::lexical(&c.report.source.path))
        .collect();
    let named = |path: &Path| {
        let path = crate::walk::lexical(path);
        match paths.iter().position(|p| *p == path) {
            Some(file) => crate::links::Named::File(file),
            // Read and clean; read once more (it is one of the few files `file()` names) for the
            // container runtime it may start.
            None if results.read.contains(&path) => crate::links::Named::Clean {
                runtime: std::fs::File::open(&path).ok().and_then(|file| {
                    let mut bytes = Vec::new();
                    file.take(max_file_size).read_to_end(&mut bytes).ok()?;
                    crate::model::setting::container_runtime(&bytes)
                }),
            },
            None => crate::links::Named::Unread,
        }
    };
    let files: Vec<crate::links::LinkFile> = linked
        .iter()
        .map(|(_, c)| crate::links::LinkFile {
            path: &c.report.source.path,
            links: &c.links,
            runtime: (!c.links.script.is_empty())
                .then(|| crate::model::setting::container_runtime(&c.report.source.bytes))
                .flatten(),
        })
        .collect();
    let externals = crate::links::link(&files, &named);
    let linked: Vec<usize> = linked.into_iter().map(|(i, _)| i).collect();
    let mut changed = false;
    for (index, external) in linked.into_iter().zip(externals) {
        let Some(checked) = results.files.get_mut(index) else {
            continue;
        };
        if checked.external == external {
            continue;
        }
        checked.external = external;
        checked.recheck(settings);
        changed = true;
    }
    results.statistics.findings = results.files.iter().map(|c| c.report.findings.len()).sum();
    changed
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
            let known: Vec<&str> = rules::all().map(|r| r.code).collect();
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
            let width = rules::all().map(|r| r.name.len()).max().unwrap_or(0);
            for rule in rules::all() {
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
        Some(code) => match rules::by_code(code)
            .or_else(|| rules::all().find(|r| r.name.eq_ignore_ascii_case(code)))
        {
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
    /// What links it to other files, and what they say about it (`crate::links`).
    links: Box<crate::model::links::FileLinks>,
    external: crate::model::links::External,
    /// One per declared setting, for the migration view.
    summaries: Vec<crate::model::summary::SettingSummary>,
}

impl Checked {
    /// Checks the file again as it is now in memory, with what other files say about it, and
    /// takes the new report, links and summaries.
    fn recheck(&mut self, settings: &CheckSettings) {
        let outcome = self.check(self.report.source.bytes.clone(), settings);
        self.take(&outcome);
    }

    fn check(&self, bytes: Vec<u8>, settings: &CheckSettings) -> Outcome {
        check::check_file_linked(
            self.report.source.path.clone(),
            bytes,
            self.kind,
            self.settings.as_ref().unwrap_or(settings),
            &self.external,
        )
    }

    fn take(&mut self, outcome: &Outcome) {
        if let Outcome::Checked {
            source,
            findings,
            links,
            summaries,
            ..
        } = outcome
        {
            self.report = FileReport {
                source: crate::source::SourceFile::new(source.path.clone(), source.bytes.clone()),
                findings: findings.clone(),
            };
            self.links = links.clone();
            self.summaries = summaries.clone();
        }
    }
}

#[derive(Default)]
struct Results {
    files: Vec<Checked>,
    /// Files other files make instances run (Terraform `file()`), with the root they came from.
    referenced: Vec<(PathBuf, PathBuf)>,
    /// Every file a front end read (normalized, `crate::walk::lexical`), to check each
    /// referenced file once and to know a referenced file that is clean.
    read: std::collections::HashSet<PathBuf>,
    /// Standard input as read, when `-` was scanned (`--fix` echoes it back, fixed or not).
    stdin: Option<Vec<u8>>,
    diagnostics: Vec<Diagnostic>,
    statistics: Statistics,
    /// One per declared setting of the files not in `files`, for `--migration`.
    summaries: Vec<crate::model::summary::SettingSummary>,
    /// The largest file read (`--max-file-size`), also for the pass across files.
    max_file_size: u64,
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
        let referenced = {
            let mut results = self
                .results
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            std::mem::take(&mut results.referenced)
        };
        // Each path once, even when several files name it (and it cannot be read).
        let mut tried = std::collections::HashSet::new();
        for (path, root) in referenced {
            let normalized = crate::walk::lexical(&path);
            if !tried.insert(normalized.clone()) {
                continue;
            }
            let done = {
                let results = self
                    .results
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                results.read.contains(&normalized)
            };
            if done {
                continue;
            }
            match std::fs::metadata(&path) {
                Ok(metadata) if !metadata.is_file() => {
                    self.diagnostic(
                        Some(path),
                        "referenced as user data, but it is not a regular file; not read"
                            .to_owned(),
                    );
                    continue;
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    self.diagnostic(
                        Some(path),
                        "referenced as user data, but it cannot be found".to_owned(),
                    );
                    continue;
                }
                // Unreadable, a link loop: `read` says which.
                Err(_) => {}
            }
            match self.read(&path) {
                Ok(Some(bytes)) => {
                    let kind = frontend::classify_content(&bytes);
                    self.check(path, bytes, kind, &root);
                }
                Ok(None) => self.diagnostic(
                    Some(path),
                    "referenced as user data, but it is binary; not read".to_owned(),
                ),
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
                r.read.insert(crate::walk::lexical(&shown));
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
                self.record(|r| {
                    r.read.insert(crate::walk::lexical(&shown));
                    r.referenced
                        .extend(referenced.into_iter().map(|p| (p, root.to_path_buf())));
                    r.statistics.parsed += 1;
                    r.statistics.findings += findings.len();
                    // A file with links stays for the pass across files, findings or not.
                    if findings.is_empty() && links.is_empty() {
                        r.summaries.extend(summaries);
                    } else {
                        r.files.push(Checked {
                            report: FileReport { source, findings },
                            root: root.to_path_buf(),
                            kind,
                            stdin: root.as_os_str().is_empty(),
                            settings: own,
                            links,
                            external: crate::model::links::External::default(),
                            summaries,
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
    // Files kept only for the pass across files have nothing to report.
    let mut files: Vec<FileReport> = results
        .files
        .into_iter()
        .filter(|c| !c.report.findings.is_empty())
        .map(|c| c.report)
        .collect();
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
    rules::all()
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
/// Files are fixed in rounds: after a round, the pass across files runs again, so that a setting
/// whose boot script (in another file) the round fixed gets its own fix in the next one.
/// Returns how many files changed.
fn fix_files(
    args: &Args,
    settings: &CheckSettings,
    results: &mut Results,
    out: &mut impl Write,
    err: &mut impl Write,
) -> io::Result<usize> {
    let allowed = |a: Applicability| a == Applicability::Safe || args.unsafe_fixes;
    let total_before: usize = results.files.iter().map(|c| c.report.findings.len()).sum();
    let before: Vec<usize> = results
        .files
        .iter()
        .map(|c| c.report.findings.len())
        .collect();
    // The bytes each changed file had before the first round, by index into `results.files`.
    let mut originals: Vec<Option<Vec<u8>>> = vec![None; results.files.len()];
    for _round in 0..4 {
        let mut changed = false;
        for (index, checked) in results.files.iter_mut().enumerate() {
            if !checked
                .report
                .findings
                .iter()
                .any(|f| f.fix.as_ref().is_some_and(|x| allowed(x.applicability)))
            {
                continue;
            }
            let start = checked.report.source.bytes.clone();
            let mut current = start.clone();
            let mut outcome = None;
            for _ in 0..8 {
                let checked_now = checked.check(current.clone(), settings);
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
            if current == start {
                continue;
            }
            let outcome = outcome.unwrap_or_else(|| checked.check(current.clone(), settings));
            if let Some(slot) = originals.get_mut(index) {
                slot.get_or_insert(start);
            }
            checked.take(&outcome);
            changed = true;
        }
        if !changed || !relink(settings, results) {
            break;
        }
    }
    let mut total_fixed = 0;
    let mut files_changed = 0;
    // Human output tells the fixes on stdout with the report; machine formats keep stdout clean.
    let mut log: Vec<String> = Vec::new();
    for (index, original) in originals.into_iter().enumerate() {
        let (Some(original), Some(checked)) = (original, results.files.get_mut(index)) else {
            continue;
        };
        let path = checked.report.source.path.clone();
        let current = checked.report.source.bytes.clone();
        if current == original {
            continue;
        }
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
            // Not written: report what is still on disk.
            let outcome = checked.check(original, settings);
            checked.take(&outcome);
            continue;
        }
        files_changed += 1;
        let fixed = before
            .get(index)
            .copied()
            .unwrap_or_default()
            .saturating_sub(checked.report.findings.len());
        total_fixed += fixed;
        if !args.diff {
            log.push(format!(
                "fixed {} in {}",
                plural(fixed, "finding"),
                path.display()
            ));
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
