//! A spinner on stderr while broker waits on the network (STS, IAM, SSO) or the browser: only
//! when stderr is a terminal, only once the wait has lasted [`DELAY`] (quick calls show
//! nothing), never under `-v` (it would tear the log lines) and never once a child owns the
//! terminal (`exec` forbids it before starting one, for the credential server's refreshes).
//!
//! Nothing here runs on the warm path: only a call that waits starts one.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long a wait lasts before the spinner shows.
pub const DELAY: Duration = Duration::from_millis(300);

static FORBIDDEN: AtomicBool = AtomicBool::new(false);

/// No spinner from now on: another program owns the terminal.
pub fn forbid() {
    FORBIDDEN.store(true, Ordering::Relaxed);
}

/// Spins from [`DELAY`] after [`Spinner::start`] until dropped, then clears its line.
pub struct Spinner {
    running: Option<(Sender<()>, JoinHandle<()>)>,
}

/// Whether broker may draw on stderr: a terminal, not under `-v`, no child owning it.
fn drawable() -> bool {
    !FORBIDDEN.load(Ordering::Relaxed)
        && crate::output::VERBOSE.load(Ordering::Relaxed) == 0
        && std::io::stderr().is_terminal()
}

impl Spinner {
    pub fn start(message: &str) -> Spinner {
        if !drawable() {
            return Spinner { running: None };
        }
        let message = crate::sanitize::escape(message).into_owned();
        let colors = crate::output::stderr_colors();
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            // Stopped (or dropped) before the delay: nothing was drawn.
            if stopped.recv_timeout(DELAY) != Err(RecvTimeoutError::Timeout) {
                return;
            }
            console::set_colors_enabled_stderr(colors);
            let bar = indicatif::ProgressBar::with_draw_target(
                None,
                indicatif::ProgressDrawTarget::stderr(),
            );
            if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner:.cyan} {msg}") {
                bar.set_style(style);
            }
            bar.set_message(message);
            bar.enable_steady_tick(Duration::from_millis(100));
            let _ = stopped.recv();
            bar.finish_and_clear();
        });
        Spinner {
            running: Some((stop, thread)),
        }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        if let Some((stop, thread)) = self.running.take() {
            drop(stop);
            let _ = thread.join();
        }
    }
}

/// A progress bar on stderr (`accounts 120/1000`) for a long job of known size, drawn as a
/// spinner is: on a terminal only; cleared when dropped.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    pub fn start(unit: &str, total: usize) -> Progress {
        if !drawable() {
            return Progress { bar: None };
        }
        console::set_colors_enabled_stderr(crate::output::stderr_colors());
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(total as u64),
            indicatif::ProgressDrawTarget::stderr(),
        );
        let template = format!("{{bar:30.cyan}} {{pos}}/{{len}} {unit}");
        if let Ok(style) = indicatif::ProgressStyle::with_template(&template) {
            bar.set_style(style);
        }
        Progress { bar: Some(bar) }
    }

    /// One more done.
    pub fn advance(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
