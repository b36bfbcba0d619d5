//! The time of day by which broker judges every expiry (cached credentials, SSO tokens and
//! registrations, device codes, `history --since`), and the one wait that counts against it
//! (the device-code poll interval).
//!
//! It is the system clock. Built with the `test-hooks` feature (broker's own test suite, never
//! a user's build), the tests can move it forward instead of sleeping: `BROKER_TEST_CLOCK`
//! names a file holding an offset in milliseconds, read on every call so that a long-running
//! `exec --server` sees the moves too, and a wait moves the offset instead of sleeping. The
//! tests' SSO stand-in reads the same file, so both sides agree on the time.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// Now, by the clock broker judges expiry by.
pub fn now() -> DateTime<Utc> {
    #[cfg(feature = "test-hooks")]
    if let Some(offset) = hooks::FILE.get().and_then(|f| hooks::offset(f)) {
        return Utc::now() + offset;
    }
    Utc::now()
}

/// Waits `duration` by that clock.
pub fn sleep(duration: Duration) {
    #[cfg(feature = "test-hooks")]
    if hooks::FILE
        .get()
        .is_some_and(|f| hooks::advance(f, duration))
    {
        return;
    }
    std::thread::sleep(duration)
}

/// Uses the clock file the test suite named (`BROKER_TEST_CLOCK`); called once at start-up.
#[cfg(feature = "test-hooks")]
pub fn install_test_clock(path: Option<std::path::PathBuf>) {
    if let Some(path) = path {
        let _ = hooks::FILE.set(path);
    }
}

#[cfg(feature = "test-hooks")]
mod hooks {
    use std::path::{Path, PathBuf};
    use std::sync::OnceLock;
    use std::time::Duration;

    use chrono::TimeDelta;

    pub static FILE: OnceLock<PathBuf> = OnceLock::new();

    fn millis(file: &Path) -> Option<i64> {
        match std::fs::read_to_string(file) {
            Ok(text) => text.trim().parse().ok(),
            // No file yet: the test has not moved the clock.
            Err(_) => Some(0),
        }
    }

    /// How far the test has moved the clock.
    pub fn offset(file: &Path) -> Option<TimeDelta> {
        millis(file).map(TimeDelta::milliseconds)
    }

    /// Moves the clock forward by `duration`; false when the file cannot be used.
    pub fn advance(file: &Path, duration: Duration) -> bool {
        let Some(now) = millis(file) else {
            return false;
        };
        let next = now.saturating_add(duration.as_millis() as i64);
        // Written whole and renamed, so that a reader never sees half a number.
        let tmp = file.with_extension("moving");
        std::fs::write(&tmp, next.to_string())
            .and_then(|()| std::fs::rename(&tmp, file))
            .is_ok()
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_test_clock_moves_by_the_file_and_by_waits() {
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("clock");
            assert_eq!(offset(&file), Some(TimeDelta::zero()), "no file: not moved");
            std::fs::write(&file, "3600000").unwrap();
            assert_eq!(offset(&file), Some(TimeDelta::minutes(60)));
            assert!(advance(&file, Duration::from_secs(600)));
            assert_eq!(std::fs::read_to_string(&file).unwrap(), "4200000");
            std::fs::write(&file, "soon").unwrap();
            assert_eq!(offset(&file), None, "not a number: the system clock");
            assert!(!advance(&file, Duration::from_secs(1)));
        }
    }
}
