//! `BROKER_TRACE_TIMING=1`: how long each phase of one run took, in microseconds, and how many
//! page faults it took (on Unix), on stderr (`broker: timing: PHASE N µs M faults`), for
//! `scripts/bench.sh`. Off, a phase mark costs one atomic load.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

static ENABLED: AtomicBool = AtomicBool::new(false);

/// When `main` began, and the time and fault count at the last mark.
struct Marks {
    began: Instant,
    last: Instant,
    faults: u64,
}

static MARKS: Mutex<Option<Marks>> = Mutex::new(None);

/// Starts the clock (`at`: when `main` began) and turns the trace on when `enabled`.
pub fn start(at: Instant, enabled: bool) {
    if enabled {
        *marks() = Some(Marks {
            began: at,
            last: at,
            faults: faults(),
        });
        ENABLED.store(true, Ordering::Relaxed);
    }
}

/// Ends the phase `name`: prints the time and the page faults since the previous mark.
pub fn phase(name: &str) {
    if !ENABLED.load(Ordering::Relaxed) {
        return;
    }
    let (now, faults) = (Instant::now(), faults());
    if let Some(marks) = marks().as_mut() {
        eprintln!(
            "broker: timing: {name} {} µs {} faults",
            (now - marks.last).as_micros(),
            faults.saturating_sub(marks.faults)
        );
        (marks.last, marks.faults) = (now, faults);
    }
}

/// Prints the time since `main` began.
pub fn total() {
    if !ENABLED.load(Ordering::Relaxed) {
        return;
    }
    if let Some(marks) = marks().as_ref() {
        eprintln!(
            "broker: timing: total {} µs {} faults",
            marks.began.elapsed().as_micros(),
            faults()
        );
    }
}

fn marks() -> std::sync::MutexGuard<'static, Option<Marks>> {
    MARKS.lock().unwrap_or_else(|e| e.into_inner())
}

/// This process's minor and major page faults so far.
fn faults() -> u64 {
    #[cfg(unix)]
    {
        // SAFETY: getrusage fills the rusage we own.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } == 0 {
            return (usage.ru_minflt + usage.ru_majflt) as u64;
        }
    }
    0
}
