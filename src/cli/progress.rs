//! A spinner on stderr while a long scan runs. It shows only when stderr is a terminal, the
//! format is the human one, `--quiet` is off and the scan has taken longer than a moment: quick
//! runs never flash, and CI logs, pipes and machine formats never get control sequences.

use std::io::{self, IsTerminal};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::scan::Counters;

/// How long a scan runs before the spinner appears.
const DELAY: Duration = Duration::from_millis(300);
/// How often the spinner is redrawn.
const TICK: Duration = Duration::from_millis(100);

/// Whether a spinner may be shown at all: stderr is a terminal and not a CI log.
pub fn allowed() -> bool {
    io::stderr().is_terminal() && std::env::var_os("CI").is_none_or(|v| v.is_empty())
}

/// The spinner's thread; stopping (or dropping) it clears the line.
pub struct Progress {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts the thread that draws the spinner after [`DELAY`], or nothing when `show` is false.
    pub fn start(show: bool, counters: Arc<Counters>) -> Self {
        if !show {
            return Progress {
                stop: None,
                thread: None,
            };
        }
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("progress".to_owned())
            .spawn(move || draw(&stopped, &counters))
            .ok();
        Progress {
            stop: Some(stop),
            thread,
        }
    }

    pub fn stop(&mut self) {
        // Dropping the sender wakes the thread, which clears its line before it ends.
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop();
    }
}

fn draw(stopped: &mpsc::Receiver<()>, counters: &Counters) {
    if !matches!(stopped.recv_timeout(DELAY), Err(RecvTimeoutError::Timeout)) {
        return;
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{spinner} scanning: {pos} files read, {msg}") {
        bar.set_style(style);
    }
    loop {
        bar.set_position(counters.files.load(Ordering::Relaxed) as u64);
        let findings = counters.findings.load(Ordering::Relaxed);
        bar.set_message(if findings == 1 {
            "1 finding".to_owned()
        } else {
            format!("{findings} findings")
        });
        bar.tick();
        match stopped.recv_timeout(TICK) {
            Err(RecvTimeoutError::Timeout) => continue,
            _ => break,
        }
    }
    bar.finish_and_clear();
}
