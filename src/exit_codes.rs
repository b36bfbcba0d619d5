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

/// broker's own status for a child that ended with `status` (its exit code, or 128+N for
/// signal N). An exit status carries 8 bits; a Windows exit code carries 32 (an NTSTATUS such
/// as `0xC000013A` after Ctrl-C): one that does not fit is `Err(status)`, for the caller to end
/// broker with it whole through [`exit_whole`], since truncating it would turn exit code 256
/// into success.
pub fn of_child(status: i32) -> Result<u8, i32> {
    match u8::try_from(status) {
        Ok(byte) => Ok(byte),
        Err(_) if cfg!(windows) => Err(status),
        Err(_) => Ok((status & 0xff) as u8),
    }
}

/// Ends broker with a child's whole exit code (see [`of_child`]), once everything to record
/// is recorded: the one exit that does not go through `main`'s return.
pub fn exit_whole(status: i32) -> ! {
    std::process::exit(status)
}
