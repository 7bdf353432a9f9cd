//! Running a command for a test with a time limit: in its own process group, killed with its
//! children when the limit passes, its output collected. Shared by the runtime proofs.
#![allow(dead_code)]

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How long one command may run, unless the caller says otherwise.
pub const TIMEOUT: Duration = Duration::from_secs(20);

pub struct Ran {
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Killed when its time limit passed.
    pub timed_out: bool,
    /// From the spawn to the end of the command (or its kill).
    pub elapsed: Duration,
    /// The time limit it ran under.
    pub limit: Duration,
}

impl Ran {
    pub fn ok(&self) -> bool {
        self.code == Some(0) && !self.timed_out
    }

    pub fn describe(&self) -> String {
        format!(
            "exit {}{}\n--- stdout\n{}--- stderr\n{}---",
            self.code
                .map_or_else(|| "by signal".to_string(), |c| c.to_string()),
            if self.timed_out {
                format!(" (killed after {:.1}s)", self.limit.as_secs_f64())
            } else {
                format!(" after {:.1}s", self.elapsed.as_secs_f64())
            },
            ensure_newline(&String::from_utf8_lossy(&self.stdout)),
            ensure_newline(&String::from_utf8_lossy(&self.stderr)),
        )
    }
}

pub fn ensure_newline(s: &str) -> String {
    if s.is_empty() || s.ends_with('\n') {
        s.to_string()
    } else {
        format!("{s}\n")
    }
}

/// Kills a process group: the command and what it started (curl, wget, subshells).
fn kill_group(id: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{id}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Runs `cmd` (with `stdin` as its input, if any) in its own process group, killed with its
/// children after [`TIMEOUT`].
pub fn run_bounded(cmd: Command, stdin: Option<&[u8]>) -> Ran {
    run_limited(cmd, stdin, TIMEOUT)
}

/// [`run_bounded`] with a time limit of `limit`.
pub fn run_limited(mut cmd: Command, stdin: Option<&[u8]>, limit: Duration) -> Ran {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .process_group(0);
    let started = Instant::now();
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => {
            return Ran {
                code: None,
                stdout: Vec::new(),
                stderr: format!("cannot spawn {cmd:?}: {e}").into_bytes(),
                timed_out: false,
                elapsed: started.elapsed(),
                limit,
            }
        }
    };
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        let input = input.to_vec();
        thread::spawn(move || {
            use std::io::Write;
            let _ = pipe.write_all(&input);
        });
    }
    let mut out_pipe = child.stdout.take().expect("stdout pipe");
    let mut err_pipe = child.stderr.take().expect("stderr pipe");
    let out_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out_pipe.read_to_end(&mut buf);
        buf
    });
    let err_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err_pipe.read_to_end(&mut buf);
        buf
    });
    let deadline = started + limit;
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => {
                timed_out = true;
                kill_group(child.id());
                let _ = child.kill();
                break child.wait().ok();
            }
            Ok(None) => thread::sleep(Duration::from_millis(5)),
            Err(_) => break None,
        }
    };
    let elapsed = started.elapsed();
    // Anything the command left running in the background would hold the pipes open.
    kill_group(child.id());
    Ran {
        code: status.and_then(|s| s.code()),
        stdout: out_reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
        timed_out,
        elapsed,
        limit,
    }
}
