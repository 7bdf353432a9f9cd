//! The runtime proof where the metadata service does not answer: a fixed script must do no worse
//! than its original wherever the original ran. For each place in [`REACHES`] the original and the
//! fixed script run against fresh emulators (tokens optional) that reach them alike, and must end
//! alike:
//!
//! - when the original ends, the fixed script ends too, with the same exit status, the same
//!   stdout, the same stderr (digits aside: ports, milliseconds, dates), the same metadata reads
//!   with the same answers, and no later than the original plus [`FETCH_BOUND`] for each token
//!   fetch it made plus [`SLACK`];
//! - when the original hangs (still running after [`patience`]: a request without a time limit
//!   in a [`Reach::Blackhole`]), the fixed script hangs too (killed after the same patience plus
//!   what its fetches may cost), having done at least what the original did: the original's
//!   stdout begins its own, and the original's metadata reads are among its own. It may get
//!   further, where the fix bounded a token request that the original waited on forever (IMDS002
//!   makes a GET a PUT).
//!
//! The fixed script may not end where the original hung, nor hang where the original ended.
//!
//! Include it with `#[path = "support/unanswered.rs"] mod unanswered;` from a test that also
//! includes `support/imds_emulator.rs` as `imds_emulator` and `support/process.rs` as `process`.
#![allow(dead_code)]

use crate::imds_emulator::{describe_log, Emulator, Logged, Mode, Reach, NO_ANSWER};
use crate::process::{ensure_newline, Ran};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

/// Where the fixed scripts are run besides an instance that answers: off EC2 with nothing
/// listening, in a container behind hop limit 1, and off EC2 on a network that swallows the
/// packets.
pub const REACHES: [Reach; 3] = [Reach::Refused, Reach::PutLost, Reach::Blackhole];

/// What one inserted token fetch may cost where no answer comes: its own limits (curl
/// `--connect-timeout 1 --max-time 2`; GNU wget `--timeout=1`, 1 s to connect and 1 s waiting for
/// the answer). A refused connection costs nothing.
pub const FETCH_BOUND: Duration = Duration::from_secs(2);

/// What a fixed run may take beyond its original's time and its fetches' bound: starting a few
/// more processes, and scheduling on a loaded two-core machine.
pub const SLACK: Duration = Duration::from_millis(1500);

/// How long an original runs where nothing answers before it counts as hanging. In a blackhole
/// most originals hang at their first request, so it is short there; an original killed there
/// whose fixed version then ends is run again, for as long as the fixed one took.
pub fn patience(reach: Reach) -> Duration {
    match reach {
        Reach::Blackhole => Duration::from_secs(2),
        _ => Duration::from_secs(10),
    }
}

pub fn name(reach: Reach) -> &'static str {
    match reach {
        Reach::Answered => "answered",
        Reach::Refused => "refused",
        Reach::PutLost => "put-lost (hop limit 1)",
        Reach::Blackhole => "blackhole",
    }
}

/// Which version of a script to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    Original,
    Fixed,
}

/// How a pair of runs ended, when they ended alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alike {
    /// Both ended; the fixed run took `extra` longer (or less, as zero), `beyond` of it more than
    /// its fetches' bound (what [`SLACK`] must cover).
    Ended { extra: Duration, beyond: Duration },
    /// Both hung and were killed.
    Hung,
}

/// Metadata reads (every request but PUTs and token requests, which a fix makes or changes) with
/// their answers, sorted: what a script learned.
fn reads(log: &[Logged]) -> Vec<String> {
    let mut out: Vec<String> = log
        .iter()
        .filter(|l| l.method != "PUT" && !l.path.starts_with("/latest/api/token"))
        .map(|l| {
            let status = match l.status {
                NO_ANSWER => "no answer".to_string(),
                s => s.to_string(),
            };
            format!("{} {}{} -> {status}", l.method, l.host, l.path)
        })
        .collect();
    out.sort();
    out
}

/// Text with every run of digits made `#`: ports, milliseconds and dates differ between runs.
fn without_digits(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::with_capacity(text.len());
    let mut in_number = false;
    for c in text.chars() {
        if c.is_ascii_digit() {
            if !in_number {
                out.push('#');
            }
            in_number = true;
        } else {
            out.push(c);
            in_number = false;
        }
    }
    out
}

/// Runs the original and the fixed version in `reach`, side by side (so that both see the same
/// load on the machine), and compares them. `run` runs one version against an emulator with a
/// time limit. `fetches` is the most token fetches the fixed version makes in one run (its
/// `# tokens:` count).
pub fn compare(
    reach: Reach,
    fetches: usize,
    run: impl Fn(Version, &Emulator, Duration) -> Ran + Sync,
) -> Result<Alike, String> {
    let run_for = |version: Version, limit: Duration| {
        let emu = Emulator::start_reached(Mode::Optional, reach);
        let ran = run(version, &emu, limit);
        (ran, emu.log())
    };
    let allowance = FETCH_BOUND * u32::try_from(fetches).unwrap_or(u32::MAX) + SLACK;
    let ((mut original, mut original_log), (fixed, fixed_log)) = std::thread::scope(|scope| {
        let original = scope.spawn(|| run_for(Version::Original, patience(reach)));
        let fixed = run_for(Version::Fixed, patience(reach) + allowance);
        (original.join().expect("the original's run"), fixed)
    });
    if original.timed_out && !fixed.timed_out {
        // Fair to both: the original gets as long as the fixed version took.
        (original, original_log) = run_for(Version::Original, fixed.elapsed + SLACK);
    }

    let mut wrong = Vec::new();
    let puts = fixed_log.iter().filter(|l| l.method == "PUT").count();
    let alike = if original.timed_out {
        if !fixed.timed_out {
            wrong.push(format!(
                "the original hangs here (killed after {:.1}s), the fixed script ends",
                original.limit.as_secs_f64()
            ));
        }
        Alike::Hung
    } else {
        if fixed.timed_out {
            wrong.push(format!(
                "the original ends after {:.1}s, the fixed script hangs",
                original.elapsed.as_secs_f64()
            ));
        } else if fixed.code != original.code {
            wrong.push(format!(
                "exit status {:?}, the original's is {:?}",
                fixed.code, original.code
            ));
        }
        if !fixed.timed_out && without_digits(&fixed.stderr) != without_digits(&original.stderr) {
            wrong.push(format!(
                "stderr differs from the original's\n--- original stderr\n{}",
                ensure_newline(&String::from_utf8_lossy(&original.stderr))
            ));
        }
        let fetches_bound = FETCH_BOUND * u32::try_from(puts).unwrap_or(u32::MAX);
        let bound = original.elapsed + fetches_bound + SLACK;
        if fixed.elapsed > bound {
            wrong.push(format!(
                "took {:.1}s, more than the original's {:.1}s + {puts} fetch(es) × {}s + {:.1}s",
                fixed.elapsed.as_secs_f64(),
                original.elapsed.as_secs_f64(),
                FETCH_BOUND.as_secs(),
                SLACK.as_secs_f64()
            ));
        }
        let extra = fixed.elapsed.saturating_sub(original.elapsed);
        Alike::Ended {
            extra,
            beyond: extra.saturating_sub(fetches_bound),
        }
    };
    let (stdout_alike, reads_alike) = match alike {
        Alike::Ended { .. } => (
            fixed.stdout == original.stdout,
            reads(&fixed_log) == reads(&original_log),
        ),
        Alike::Hung => {
            let mut left = reads(&fixed_log);
            let among = reads(&original_log).iter().all(|read| {
                let found = left.iter().position(|r| r == read);
                found.map(|i| left.remove(i)).is_some()
            });
            (fixed.stdout.starts_with(&original.stdout), among)
        }
    };
    if !stdout_alike {
        wrong.push(format!(
            "stdout differs from the original's\n--- original stdout\n{}",
            ensure_newline(&String::from_utf8_lossy(&original.stdout))
        ));
    }
    if !reads_alike {
        wrong.push(format!(
            "other metadata reads or answers than the original's:\n{}",
            describe_log(&original_log)
        ));
    }
    if wrong.is_empty() {
        return Ok(alike);
    }
    Err(format!(
        "[{}] {}\n--- original run\n{}\n  requests:\n{}--- fixed run\n{}\n  requests:\n{}",
        name(reach),
        wrong.join("\n"),
        original.describe(),
        describe_log(&original_log),
        fixed.describe(),
        describe_log(&fixed_log)
    ))
}

/// Runs one version of a script against an emulator with a time limit.
pub type Runner<'a> = Box<dyn Fn(Version, &Emulator, Duration) -> Ran + Sync + 'a>;

/// A script and its fixed version, to compare in every reach.
pub struct Pair<'a> {
    /// What messages call it.
    pub name: String,
    /// The most token fetches the fixed version makes in one run.
    pub fetches: usize,
    pub run: Runner<'a>,
}

/// What the comparisons found in one reach.
#[derive(Default)]
pub struct Tally {
    pub ended: usize,
    pub hung: usize,
    pub failed: usize,
    /// The most a fixed run took beyond its original, and which pair.
    pub slowest: Option<(Duration, String)>,
    /// The most a fixed run took beyond its original and its fetches' bound.
    pub beyond: Duration,
}

/// What [`compare_all`] found.
pub struct Report {
    pub tallies: Vec<(Reach, Tally)>,
    /// The failures, each with the index of its pair.
    pub failures: Vec<(usize, String)>,
    /// Comparisons run (pairs × reaches).
    pub runs: usize,
    pub took: Duration,
}

impl Report {
    /// One line per reach, for the test's output.
    pub fn summary(&self) -> String {
        let mut out = format!(
            "where IMDS does not answer: {} comparisons in {:.1}s (original and fixed side by \
             side; a fixed run may take 2 s per token fetch it makes + {:.1}s more)\n",
            self.runs,
            self.took.as_secs_f64(),
            SLACK.as_secs_f64()
        );
        for (reach, tally) in &self.tallies {
            out.push_str(&format!(
                "  {:<24} {} ended alike, {} hung alike, {} failed; most extra time {}, {:.2}s \
                 of it beyond the fetches' bound\n",
                name(*reach),
                tally.ended,
                tally.hung,
                tally.failed,
                tally.slowest.as_ref().map_or_else(
                    || "-".to_string(),
                    |(extra, name)| format!("{:.1}s ({name})", extra.as_secs_f64())
                ),
                tally.beyond.as_secs_f64()
            ));
        }
        out
    }
}

/// Step 6's threads for runs in a blackhole, which mostly wait, and for the others, whose times
/// are compared: fewer of those at once, so that the load on two cores blurs their times less.
const BLACKHOLE_THREADS: usize = 12;
const TIMED_THREADS: usize = 6;

/// Compares every pair in every reach of [`REACHES`], as independent jobs in two pools that share
/// the machine: blackhole runs mostly wait (on a hang's patience, a fetch's time limit), so many go
/// at once; the others end and have their times compared, so fewer go at once.
pub fn compare_all(pairs: &[Pair]) -> Report {
    let jobs = |reaches: &[Reach]| -> Vec<(usize, Reach)> {
        reaches
            .iter()
            .flat_map(|&reach| (0..pairs.len()).map(move |i| (i, reach)))
            .collect()
    };
    let pools = [
        (jobs(&[Reach::Blackhole]), BLACKHOLE_THREADS),
        (jobs(&[Reach::PutLost, Reach::Refused]), TIMED_THREADS),
    ];
    let tallies = Mutex::new(
        REACHES
            .iter()
            .map(|&r| (r, Tally::default()))
            .collect::<Vec<_>>(),
    );
    let failures = Mutex::new(Vec::new());
    let started = Instant::now();
    let run_job = |&(index, reach): &(usize, Reach)| {
        let Some(pair) = pairs.get(index) else {
            return;
        };
        let result = compare(reach, pair.fetches, &pair.run);
        let mut tallies = tallies.lock().unwrap_or_else(|e| e.into_inner());
        let Some((_, tally)) = tallies.iter_mut().find(|(r, _)| *r == reach) else {
            return;
        };
        match result {
            Ok(Alike::Hung) => tally.hung += 1,
            Ok(Alike::Ended { extra, beyond }) => {
                tally.ended += 1;
                tally.beyond = tally.beyond.max(beyond);
                if tally.slowest.as_ref().is_none_or(|(most, _)| extra > *most) {
                    tally.slowest = Some((extra, pair.name.clone()));
                }
            }
            Err(text) => {
                tally.failed += 1;
                failures
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((index, text));
            }
        }
    };
    let counters = pools.each_ref().map(|_| AtomicUsize::new(0));
    thread::scope(|scope| {
        for ((jobs, threads), next) in pools.iter().zip(&counters) {
            for _ in 0..*threads {
                let run_job = &run_job;
                scope.spawn(move || {
                    while let Some(job) = jobs.get(next.fetch_add(1, Ordering::SeqCst)) {
                        run_job(job);
                    }
                });
            }
        }
    });
    let mut failures = failures.into_inner().unwrap_or_else(|e| e.into_inner());
    failures.sort();
    Report {
        tallies: tallies.into_inner().unwrap_or_else(|e| e.into_inner()),
        failures,
        runs: pools.iter().map(|(jobs, _)| jobs.len()).sum(),
        took: started.elapsed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_blanked() {
        assert_eq!(
            without_digits(b"curl: (7) Failed to connect to 127.0.0.1 port 41234 after 0 ms"),
            "curl: (#) Failed to connect to #.#.#.# port # after # ms"
        );
    }
}
