//! Every exit status broker can end with, in one place.
//!
//! `exec` is the exception that proves the rule: it exits with its child's status, and a child
//! killed by signal N is reported as `128 + N`, the way shells do.

/// The command did what was asked.
pub const SUCCESS: u8 = 0;
/// Anything went wrong at run time: bad input, a refused request, an STS error, a vault error.
pub const FAILURE: u8 = 1;
/// The command line itself was wrong (unknown flag, missing argument, invalid value).
pub const USAGE: u8 = 2;

/// `exec`: the command could not be executed (permission denied, not a program).
pub const CANNOT_EXECUTE: u8 = 126;
/// `exec`: the command was not found.
pub const COMMAND_NOT_FOUND: u8 = 127;

/// The status to report for a child that was killed by `signal`.
pub fn for_signal(signal: i32) -> u8 {
    (128 + signal).clamp(0, 255) as u8
}
