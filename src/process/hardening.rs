//! broker's own hardening at start-up: a private umask for the files it makes, no core files
//! and no debugger of the same user (its memory holds keys), standard handles that children
//! get only when given them (Windows); and the caller's umask and core-size limit remembered,
//! for the children to get back.

#[cfg(unix)]
use std::sync::OnceLock;

/// The umask broker was started with, before it made its own private.
#[cfg(unix)]
static CALLER_UMASK: OnceLock<u32> = OnceLock::new();

/// Makes files and directories broker creates private to the user from their first byte, and
/// remembers the caller's umask for the children.
pub fn restrict_umask() {
    #[cfg(unix)]
    {
        // SAFETY: umask only changes this process's file creation mask; it cannot fail.
        let caller = unsafe { libc::umask(0o077) };
        let _ = CALLER_UMASK.set(caller as u32);
    }
}

/// Keeps the keys in broker's memory out of core files and away from debuggers of the same
/// user: no core dumps, and on Linux not dumpable (no ptrace attach, `/proc/PID/mem` and
/// `/proc/PID/environ` closed to the user's other processes). Matters most for the long-lived
/// `exec --server`. Children get dumpable back at exec and the caller's core size from
/// [`super::command`].
pub fn protect_memory() {
    #[cfg(unix)]
    // SAFETY: getrlimit, setrlimit and prctl only read or change this process's own limits and
    // flags, through valid pointers.
    unsafe {
        let mut core: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_CORE, &mut core) == 0 {
            let _ = CALLER_CORE_LIMIT.set(core.rlim_cur as u64);
            core.rlim_cur = 0;
            libc::setrlimit(libc::RLIMIT_CORE, &core);
        }
        #[cfg(target_os = "linux")]
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
}

/// Windows: broker's standard handles stop being inheritable. CreateProcess hands every
/// inheritable handle to every child, so the audit shipper that broker leaves running would
/// hold its caller's pipes open, and a caller reading broker's output to its end (the AWS CLI
/// running a `credential_process`) would wait for the shipping. A child still gets broker's
/// stdin, stdout or stderr when they are its own: std duplicates those for it. (On Unix every
/// descriptor std opens is close-on-exec.)
pub fn keep_std_handles() {
    #[cfg(windows)]
    {
        use windows_sys::Win32::Foundation::{
            SetHandleInformation, HANDLE_FLAG_INHERIT, INVALID_HANDLE_VALUE,
        };
        use windows_sys::Win32::System::Console::{
            GetStdHandle, STD_ERROR_HANDLE, STD_INPUT_HANDLE, STD_OUTPUT_HANDLE,
        };
        for id in [STD_INPUT_HANDLE, STD_OUTPUT_HANDLE, STD_ERROR_HANDLE] {
            // SAFETY: reads this process's standard handle and clears its inherit flag; a
            // missing or invalid handle is skipped, and a failure leaves it as it was.
            unsafe {
                let handle = GetStdHandle(id);
                if !handle.is_null() && handle != INVALID_HANDLE_VALUE {
                    SetHandleInformation(handle, HANDLE_FLAG_INHERIT, 0);
                }
            }
        }
    }
}

/// The soft core-size limit broker was started with (`RLIM_INFINITY` for unlimited).
#[cfg(unix)]
static CALLER_CORE_LIMIT: OnceLock<u64> = OnceLock::new();

/// The umask and soft core-size limit broker was started with, where it changed them.
#[cfg(unix)]
pub(super) fn caller_limits() -> (Option<u32>, Option<u64>) {
    (
        CALLER_UMASK.get().copied(),
        CALLER_CORE_LIMIT.get().copied(),
    )
}

/// Sets this process's umask and soft core-size limit, each where given. Only async-signal-safe
/// calls: a `pre_exec` may use it.
#[cfg(unix)]
pub(super) fn set_umask_and_core(umask: Option<u32>, core: Option<u64>) {
    // SAFETY: umask, getrlimit and setrlimit change only this process's mask and limit.
    unsafe {
        if let Some(umask) = umask {
            libc::umask(umask as libc::mode_t);
        }
        if let Some(core) = core {
            let mut limit: libc::rlimit = std::mem::zeroed();
            if libc::getrlimit(libc::RLIMIT_CORE, &mut limit) == 0 {
                limit.rlim_cur = core as libc::rlim_t;
                libc::setrlimit(libc::RLIMIT_CORE, &limit);
            }
        }
    }
}
