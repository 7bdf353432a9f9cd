//! The command line: resolves flags and configuration into a run's [`scan::Options`], runs the
//! scan (`crate::scan`), and prints what it found with the reporter the flags ask for. It never
//! picks an exit status (`main` does, from [`Status`]).

pub mod args;
mod generate;
mod progress;

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

pub use args::Args;
use args::{ColorChoice, Command, FailOn, Format};

use crate::baseline::Baseline;
use crate::check::{CheckSettings, RuleSelection};
use crate::config::{self, Config};
use crate::fix::FixSettings;
use crate::model::{DiagnosticKind, FileReport, Severity, Statistics};
use crate::report::{self, escape, Report};
use crate::rules;
use crate::scan::fixes::{FixMode, FixReport};
use crate::scan::{self, Counters, Diagnostic, Results};
use crate::walk::{Skip, WalkOptions};

/// How a run ended, for `main` to turn into an exit status.
#[derive(Debug, PartialEq, Eq)]
pub enum Status {
    /// Everything scanned, nothing found.
    Clean,
    /// Findings were reported (or, with `--fail-on-skipped`, a file was not analysed whole).
    Findings,
    /// A usage error, or nothing could be scanned.
    Failure,
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
    let (options, baseline) = match resolve(&args, &paths) {
        Ok(resolved) => resolved,
        Err(message) => {
            eprintln!("imds-lint: error: {}", escape::line(&message));
            return Ok(Status::Failure);
        }
    };
    let counters = Arc::new(Counters::default());
    let reads_stdin = paths.iter().any(|p| p == Path::new("-"));
    let mut progress = progress::Progress::start(
        progress::allowed() && args.output_format() == Format::Human && !args.quiet && !reads_stdin,
        Arc::clone(&counters),
    );
    let mut results = scan::run(&paths, &options, &counters);
    progress.stop();
    // Globs are said to match nothing only where a directory was walked (a list of files, as
    // pre-commit passes, leaves most of them unmatched by design).
    if let Some(config) = &options.config {
        if paths.iter().any(|p| p.is_dir()) {
            for message in config.unmatched_globs() {
                results.diagnostics.push(Diagnostic::new(
                    Some(config.path.clone()),
                    DiagnosticKind::Warning,
                    message,
                ));
            }
        }
    }
    let fail_on_skipped = args.fail_on_skipped
        || options
            .config
            .as_ref()
            .and_then(|c| c.fail_on_skipped)
            .unwrap_or(false);
    if args.migration {
        return migration(&args, results, fail_on_skipped);
    }
    let ending = Ending {
        baseline: baseline.as_ref(),
        fail_on_skipped,
        started,
    };
    finish(&args, &options.check, ending, results)
}

/// `--migration`: the settings table (or JSON) instead of findings, with what was not analysed.
fn migration(args: &Args, mut results: Results, fail_on_skipped: bool) -> io::Result<Status> {
    let mut out = io::BufWriter::new(io::stdout().lock());
    let (summaries, applications) = results.setting_summaries();
    let (_, mut diagnostics, _) = results.into_reports();
    diagnostics.sort_by(|a, b| a.path.cmp(&b.path).then(a.message.cmp(&b.message)));
    print_diagnostics(&mut io::stderr().lock(), &diagnostics, args.output_format())?;
    if args.output_format() == Format::Json {
        report::migration::write_json(&mut out, &summaries, &applications, &diagnostics)?;
    } else {
        report::migration::write_human(&mut out, &summaries, &applications, &diagnostics)?;
    }
    out.flush()?;
    let unanalysed = fail_on_skipped && diagnostics.iter().any(|d| d.kind.is_unanalysed());
    Ok(if unanalysed {
        Status::Findings
    } else {
        Status::Clean
    })
}

/// What decides how a run ends besides its flags: the baseline read, whether a file not
/// analysed fails the run (the flag or the configuration), and when the run started.
struct Ending<'a> {
    baseline: Option<&'a Baseline>,
    fail_on_skipped: bool,
    started: Instant,
}

/// The run's options and baseline from the flags and the configuration in force.
fn resolve(args: &Args, paths: &[PathBuf]) -> Result<(scan::Options, Option<Baseline>), String> {
    let config = load_config(args, paths)?;
    let selection = rule_selection(args, config.as_deref())?;
    let baseline = match &args.baseline {
        Some(path) => Some(Baseline::read(path).map_err(|e| e.to_string())?),
        None => None,
    };
    let defaults = FixSettings::default();
    let mut check = CheckSettings {
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
        shell: Default::default(),
        prefilter: Default::default(),
    };
    if let Some(config) = &config {
        check.set_extra_hosts(&config.extra_hosts);
    }
    let options = scan::Options {
        check,
        max_file_size: args
            .max_file_size
            .or(config.as_ref().and_then(|c| c.max_file_size))
            .unwrap_or(scan::DEFAULT_MAX_FILE_SIZE),
        walk: WalkOptions {
            no_ignore: args.no_ignore,
            threads: args.jobs.unwrap_or(0),
            skip: config
                .clone()
                .filter(|c| !c.exclude.is_empty())
                .map(|c| Skip(Arc::new(move |path: &Path| c.excludes(path)))),
        },
        config,
        stdin_filename: args.stdin_filename.clone(),
        read_outside_root: args.read_outside_root,
    };
    Ok((options, baseline))
}

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
                // Both severities; `imds-lint rule CODE` says when the second applies.
                let severity = match rule.lowered {
                    Some((lowered, _)) => {
                        format!("{}/{}", rule.severity.as_str(), lowered.as_str())
                    }
                    None => rule.severity.as_str().to_owned(),
                };
                writeln!(
                    out,
                    "{}  {:<width$} {:<13} {:<4} {}",
                    rule.code,
                    rule.name,
                    severity,
                    if rule.fixable { "fix" } else { "" },
                    rule.summary
                )?;
            }
            writeln!(
                out,
                "\nIMDS001-IMDS004: metadata requests in shell code (from scripts, Dockerfiles, cloud-init,\n\
                 MIME user data, Kubernetes, CloudFormation, Terraform, GitHub Actions and GitLab CI);\n\
                 IMDS010-IMDS013: instance metadata settings; IMDS090: suppression comments.\n\
                 `imds-lint rule CODE` prints a rule's documentation."
            )?;
            Ok(Status::Clean)
        }
        Some(code) => match rules::by_code(code)
            .or_else(|| rules::all().find(|r| r.name.eq_ignore_ascii_case(code)))
        {
            Some(rule) => {
                write!(out, "{}", rules::rule_page(rule))?;
                Ok(Status::Clean)
            }
            None => {
                eprintln!(
                    "imds-lint: error: no rule `{}`; `imds-lint rule` lists them",
                    escape::line(code)
                );
                Ok(Status::Failure)
            }
        },
    }
}

/// Fixes (`--fix`, `--diff`), then prints the diagnostics and the report in the format asked
/// for, and decides how the run ended.
fn finish(
    args: &Args,
    settings: &CheckSettings,
    ending: Ending,
    mut results: Results,
) -> io::Result<Status> {
    // Buffered: the standard handle writes every line with a system call of its own (4,800 for
    // the generated corpus's JSON report, about 10 ms at the end of a 130 ms run).
    let mut out = io::BufWriter::new(io::stdout().lock());
    let mut stderr = io::stderr().lock();
    // `--fix -` is a filter: standard output carries the (fixed) script and nothing else.
    let filter = args.fix && args.paths.iter().any(|p| p == Path::new("-"));
    let changed = if args.fix || args.diff {
        let mode = FixMode {
            unsafe_fixes: args.unsafe_fixes,
            write: !args.diff,
        };
        let fixes = scan::fixes::apply(&mut results, settings, mode);
        print_fixes(args, &fixes, &mut results, &mut out, &mut stderr)?
    } else {
        0
    };
    if filter {
        if let Some(unchanged) = results.stdin.take() {
            out.write_all(&unchanged)?;
        }
    }
    let (mut files, mut diagnostics, mut stats) = results.into_reports();
    diagnostics.sort_by(|a, b| a.path.cmp(&b.path).then(a.message.cmp(&b.message)));
    stats.elapsed = ending.started.elapsed();
    out.flush()?;
    print_diagnostics(&mut stderr, &diagnostics, args.output_format())?;
    let nothing_scanned = stats.files_read == 0 && stats.parsed == 0;
    let failed = nothing_scanned && !diagnostics.is_empty();
    let unanalysed = ending.fail_on_skipped && diagnostics.iter().any(|d| d.kind.is_unanalysed());
    if let Some(path) = &args.write_baseline {
        // Written either way; a file not analysed (under --fail-on-skipped) fails it like a finding.
        out.flush()?;
        let status = write_baseline(args, path, &files, &mut stats, failed, &mut stderr)?;
        return Ok(match status {
            Status::Clean if unanalysed => Status::Findings,
            status => status,
        });
    }
    if let (Some(baseline), Some(path)) = (ending.baseline, &args.baseline) {
        stats.baselined = Some(baseline.filter(&mut files, path));
        stats.findings = stats.findings_reported(&files);
    }
    stats.by_rule = by_rule(&files);
    let report = Report {
        files: &files,
        files_scanned: stats.files_read + usize::from(stats.files_read == 0 && stats.parsed > 0),
        statistics: &stats,
        diagnostics: &diagnostics,
        fail_on_skipped: ending.fail_on_skipped,
        unsafe_fixes: args.unsafe_fixes,
    };
    if !args.diff {
        let main: &mut dyn Write = if filter { &mut stderr } else { &mut out };
        write_report(args, &report, main)?;
        // Line-oriented formats leave the one-line summary to stderr, for the person reading the log.
        if matches!(args.output_format(), Format::Concise | Format::Github) && !args.quiet {
            report::human::write_summary(&mut stderr, &report)?;
        }
    }
    out.flush()?;
    if args.statistics {
        report::write_statistics(&mut stderr, &stats)?;
    }
    Ok(status(args, &files, changed, failed, unanalysed))
}

/// The report in the format the flags ask for.
fn write_report(args: &Args, report: &Report, mut main: &mut dyn Write) -> io::Result<()> {
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    match args.output_format() {
        Format::Human if args.quiet => report::human::write_findings(&mut main, report, color),
        Format::Human => report::human::write(&mut main, report, color),
        Format::Concise => report::concise::write(&mut main, report),
        Format::Json => report::json::write(&mut main, report),
        Format::JsonLines => report::json_lines::write(&mut main, report),
        Format::Github => report::github::write(&mut main, report),
        Format::Sarif => report::sarif::write(&mut main, report),
        Format::Checkstyle => report::checkstyle::write(&mut main, report),
        Format::Junit => report::junit::write(&mut main, report),
        Format::Gitlab => report::gitlab::write(&mut main, report),
    }
}

/// How the run ended: with `--diff`, whether anything would change; otherwise whether findings
/// at the `--fail-on` severity remain; a failure when nothing could be scanned; and, when
/// `unanalysed` (`--fail-on-skipped` and a file not analysed whole), findings status unless
/// `--exit-zero` says never.
fn status(
    args: &Args,
    files: &[FileReport],
    changed: usize,
    failed: bool,
    unanalysed: bool,
) -> Status {
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
    let unanalysed = unanalysed && !args.exit_zero;
    if args.diff {
        if (changed > 0 && fail_on != FailOn::Never) || unanalysed {
            Status::Findings
        } else {
            Status::Clean
        }
    } else if failing > 0 {
        Status::Findings
    } else if failed {
        Status::Failure
    } else if unanalysed {
        Status::Findings
    } else {
        Status::Clean
    }
}

/// The diagnostics, one line each: workflow commands under `--format github` (where a plain
/// line is read for commands too), `imds-lint: warning: …` lines otherwise.
fn print_diagnostics(
    stderr: &mut impl Write,
    diagnostics: &[Diagnostic],
    format: Format,
) -> io::Result<()> {
    for d in diagnostics {
        if format == Format::Github {
            report::github::write_diagnostic(stderr, d.path.as_deref(), &d.message)?;
        } else {
            report::write_diagnostic(stderr, d.path.as_deref(), &d.message)?;
        }
    }
    Ok(())
}

/// `--write-baseline`: records the findings instead of reporting them.
fn write_baseline(
    args: &Args,
    path: &Path,
    files: &[FileReport],
    stats: &mut Statistics,
    failed: bool,
    stderr: &mut impl Write,
) -> io::Result<Status> {
    let written = Baseline::of(files, path);
    if let Err(e) = written.write(path) {
        writeln!(stderr, "imds-lint: error: {}", escape::line(&e.to_string()))?;
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
            escape::path(path)
        )?;
    }
    if args.statistics {
        stats.by_rule = by_rule(files);
        report::write_statistics(stderr, stats)?;
    }
    Ok(if failed {
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

/// What the fixes did: `--diff` prints each changed file's diff, `--fix -` echoes the fixed
/// script, and the log says what was fixed where (on stdout with the human report, on stderr
/// otherwise). Returns how many files changed.
fn print_fixes(
    args: &Args,
    fixes: &FixReport,
    results: &mut Results,
    out: &mut impl Write,
    err: &mut impl Write,
) -> io::Result<usize> {
    let mut log: Vec<String> = Vec::new();
    for file in &fixes.files {
        if args.diff {
            report::diff::write(out, &file.path, &file.original, &file.fixed)?;
            continue;
        }
        if file.stdin {
            out.write_all(&file.fixed)?;
            results.stdin = None;
        }
        log.push(format!(
            "fixed {} in {}",
            plural(file.findings_fixed, "finding"),
            escape::path(&file.path)
        ));
    }
    let files_changed = fixes.files.len();
    let summary = if args.diff {
        format!("{} would change", plural(files_changed, "file"))
    } else {
        let total_fixed: usize = fixes.files.iter().map(|f| f.findings_fixed).sum();
        format!(
            "fixed {total_fixed} of {} in {}",
            plural(fixes.findings_before, "finding"),
            plural(files_changed, "file")
        )
    };
    // Fixes left out because they are unsafe: said, as ruff says it.
    let hidden = if args.unsafe_fixes {
        0
    } else {
        let (_, unsafe_) = report::fix_counts(results.files.iter().map(|c| &c.report));
        unsafe_
    };
    let summary = match hidden {
        0 => summary,
        n => format!("{summary}; {}", report::hidden_fixes(n)),
    };
    if fixes.findings_before > 0 || args.diff {
        log.push(summary);
    }
    let filter = args.paths.iter().any(|p| p == Path::new("-"));
    let to_stdout = args.output_format() == Format::Human && !args.diff && !filter;
    if args.quiet {
        log.clear();
    }
    // What went to standard output comes first on a terminal that shows both.
    out.flush()?;
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
