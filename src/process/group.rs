//! A helper program (`credential_process`, `mfa_process`, `passphrase_command`, the audit
//! command, a policy's `approve_command`) and everything it starts, as one unit that a timeout stops: the one place where
//! Unix and Windows differ here. Whatever it leaves running after a normal exit (an agent it
//! started) is left alone on both.

use std::process::{Child, Command};

/// Unix: its own process group, led by the shell, killed as a whole with SIGKILL.
#[cfg(unix)]
pub struct Group(i32);

#[cfg(unix)]
pub fn prepare(command: &mut Command) {
    std::os::unix::process::CommandExt::process_group(command, 0);
}

#[cfg(unix)]
impl Group {
    pub fn adopt(child: &Child) -> Group {
        Group(child.id() as i32)
    }

    pub fn kill(&self) {
        // SAFETY: signals the process group this child leads (made by process_group(0)).
        unsafe {
            libc::kill(-self.0, libc::SIGKILL);
        }
    }
}

/// Windows: a job object, which the shell joins right after it starts; every process it
/// starts from then on is in the job too, and TerminateJobObject ends them all. (One it
/// started in the microseconds before joining would escape; cmd.exe has not started
/// anything by then.) When no job can be made, only the shell itself is stopped.
#[cfg(windows)]
pub struct Group(Option<std::os::windows::io::OwnedHandle>);

#[cfg(windows)]
pub fn prepare(_command: &mut Command) {}

#[cfg(windows)]
impl Group {
    pub fn adopt(child: &Child) -> Group {
        use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle};
        use windows_sys::Win32::System::JobObjects::{AssignProcessToJobObject, CreateJobObjectW};
        // SAFETY: a new unnamed job with default security. (Closing its handle later does
        // not end the processes in it: no KILL_ON_JOB_CLOSE.)
        let job = unsafe { CreateJobObjectW(std::ptr::null(), std::ptr::null()) };
        if job.is_null() {
            return Group(None);
        }
        // SAFETY: a valid handle that nothing else owns.
        let job = unsafe { OwnedHandle::from_raw_handle(job) };
        // SAFETY: both handles are valid for the duration of the call.
        let joined =
            unsafe { AssignProcessToJobObject(job.as_raw_handle(), child.as_raw_handle()) };
        Group((joined != 0).then_some(job))
    }

    pub fn kill(&self) {
        use std::os::windows::io::AsRawHandle;
        if let Some(job) = &self.0 {
            // SAFETY: ends the processes of a job we created and still hold.
            unsafe {
                windows_sys::Win32::System::JobObjects::TerminateJobObject(job.as_raw_handle(), 1);
            }
        }
    }
}
