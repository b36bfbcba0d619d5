//! Running other programs: the user's command for `exec` (its environment as the README
//! says, signal forwarding, its exit status reported the way shells do), and the shell that
//! runs the profile's `credential_process` and `mfa_process`.
//!
//! The child's argv is exactly what the user gave; secrets reach it only through its
//! environment, never through argv.

use std::ffi::OsString;
use std::process::Command;

use crate::error::{Error, Result};
use crate::exit_codes;

/// Inherited variables that would let a child see credentials other than the ones given.
const REMOVED: [&str; 9] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CREDENTIAL_FILE",
    "AWS_SDK_LOAD_CONFIG",
];

/// The child's environment: the inherited one without AWS credential and profile variables
/// (and `AWS_CONTAINER_*`), plus `set`.
pub fn environment(set: Vec<(String, String)>) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = std::env::vars_os()
        .filter(|(k, _)| {
            let k = k.to_string_lossy();
            !REMOVED.contains(&k.as_ref()) && !k.starts_with("AWS_CONTAINER_")
        })
        .filter(|(k, _)| !set.iter().any(|(s, _)| k == s.as_str()))
        .collect();
    env.extend(set.into_iter().map(|(k, v)| (k.into(), v.into())));
    env
}

/// The shell that runs a profile's `credential_process` and `mfa_process`: `sh -c COMMAND`, or
/// on Windows `cmd.exe /D /S /C "COMMAND"` with COMMAND passed as written (Rust's argument
/// quoting is for programs that parse their command line as the C runtime does; cmd does not).
pub fn shell(command: &str) -> Command {
    #[cfg(windows)]
    {
        use std::os::windows::process::CommandExt;
        let mut cmd = Command::new("cmd.exe");
        // /D: no AutoRun commands from the registry. /S: cmd strips exactly the outer quotes
        // and runs the rest as typed.
        cmd.args(["/D", "/S", "/C"])
            .raw_arg(format!("\"{command}\""));
        cmd
    }
    #[cfg(not(windows))]
    {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", command]);
        cmd
    }
}

/// Where the default command comes from, first set wins: the user's `$SHELL` (also set by
/// MSYS2 and Cygwin shells on Windows), then `%COMSPEC%` on Windows.
const SHELL_VARIABLES: &[&str] = if cfg!(windows) {
    &["SHELL", "COMSPEC"]
} else {
    &["SHELL"]
};

/// The default command when no variable names one.
const FALLBACK_SHELL: &str = if cfg!(windows) { "cmd.exe" } else { "/bin/sh" };

/// The command to run: the one given, else the user's shell (see [`SHELL_VARIABLES`]).
pub fn command_line(given: Vec<OsString>) -> Vec<OsString> {
    if !given.is_empty() {
        return given;
    }
    let shell = SHELL_VARIABLES
        .iter()
        .find_map(|name| std::env::var_os(name).filter(|s| !s.is_empty()))
        .unwrap_or_else(|| FALLBACK_SHELL.into());
    vec![shell]
}

/// Runs `argv` with exactly `env` and returns the exit status to report: the child's, or 128+N
/// for signal N. While it runs, signals (Unix) or console events (Windows) are handled as
/// [`signals`] says.
pub fn run(argv: &[OsString], env: Vec<(OsString, OsString)>) -> Result<u8> {
    let (program, args) = argv.split_first().expect("a command line is never empty");
    let mut command = Command::new(program);
    command.args(args).env_clear().envs(env);
    let shown = crate::error::escape_control(&program.to_string_lossy());
    let guard = signals::Forwarding::prepare();
    let mut child = command.spawn().map_err(|e| {
        let code = if e.kind() == std::io::ErrorKind::NotFound {
            exit_codes::COMMAND_NOT_FOUND
        } else {
            exit_codes::CANNOT_EXECUTE
        };
        Error::new(format!("cannot run {shown}: {e}")).with_exit_code(code)
    })?;
    guard.forward_to(child.id());
    let status = child
        .wait()
        .map_err(|e| Error::new(format!("waiting for {shown} failed: {e}")))?;
    drop(guard);
    Ok(exit_status(status))
}

/// The status to exit with, as a shell reports it: the child's own, or 128+N when signal N
/// killed it (Unix).
///
/// A Windows exit code is 32 bits (an NTSTATUS such as `0xC000013A` after Ctrl-C), and std's
/// `ExitCode` carries 8: a code that does not fit ends broker here, with the child's full
/// code. Nothing is left to do by then (the audit record was written before the child
/// started; a `--server` listener ends with the process), and truncating would turn exit
/// code 256 into success.
pub fn exit_status(status: std::process::ExitStatus) -> u8 {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return exit_codes::for_signal(signal);
        }
    }
    let code = status.code().unwrap_or(exit_codes::FAILURE.into());
    #[cfg(windows)]
    if u8::try_from(code).is_err() {
        std::process::exit(code);
    }
    (code & 0xff) as u8
}

/// What `exec` does with signals and console events while its child runs: the one place where
/// Unix and Windows differ here.
///
/// Unix: SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to broker by another process are passed on
/// to the child. The same signals coming from the terminal (Ctrl-C, `Ctrl-\`, hang-up) are not:
/// the terminal signals its whole foreground process group, the child included, and a second
/// copy would be a second Ctrl-C. How the two are told apart depends on the kernel (see
/// `from_terminal`).
///
/// Windows has no signals to pass on: Ctrl-C and Ctrl-Break are console events that reach
/// every process attached to the console, the child included. broker ignores them while the
/// child runs, so it stays to report the child's exit code; the child decides for itself.
#[cfg(unix)]
mod signals {
    use std::sync::atomic::{AtomicI32, Ordering};

    use libc::c_int;

    const FORWARDED: [c_int; 4] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT];

    /// The child to forward to, once it exists (0: none).
    static CHILD: AtomicI32 = AtomicI32::new(0);

    /// A signal that arrived before the child existed, to pass on once it does.
    static PENDING: AtomicI32 = AtomicI32::new(0);

    /// broker's controlling terminal, open while forwarding (-1: none); see [`from_terminal`].
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    static TERMINAL: AtomicI32 = AtomicI32::new(-1);

    /// Installs the forwarding handlers before the child is spawned (the child gets default
    /// dispositions back at exec), so no signal sent to broker in between is lost.
    pub struct Forwarding;

    impl Forwarding {
        pub fn prepare() -> Forwarding {
            PENDING.store(0, Ordering::SeqCst);
            #[cfg(not(any(target_os = "linux", target_os = "android")))]
            // SAFETY: opens a file descriptor that Drop closes; close-on-exec, so the child
            // does not inherit it. Without a controlling terminal it fails, and stays -1.
            unsafe {
                let fd = libc::open(c"/dev/tty".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
                TERMINAL.store(fd, Ordering::SeqCst);
            }
            // SAFETY: installs an async-signal-safe handler (atomics, tcgetpgrp, getpgrp, kill).
            unsafe {
                for s in FORWARDED {
                    let mut action: libc::sigaction = std::mem::zeroed();
                    action.sa_sigaction = handler as *const () as usize;
                    action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
                    libc::sigemptyset(&mut action.sa_mask);
                    libc::sigaction(s, &action, std::ptr::null_mut());
                }
            }
            Forwarding
        }

        pub fn forward_to(&self, pid: u32) {
            let pid = pid as i32;
            CHILD.store(pid, Ordering::SeqCst);
            let pending = PENDING.swap(0, Ordering::SeqCst);
            if pending != 0 {
                // SAFETY: sends a signal to our own child.
                unsafe {
                    libc::kill(pid, pending);
                }
            }
        }
    }

    impl Drop for Forwarding {
        fn drop(&mut self) {
            // The child is gone (or never started): forward nothing to a recycled pid.
            CHILD.store(0, Ordering::SeqCst);
            #[cfg(not(any(target_os = "linux", target_os = "android")))]
            {
                let fd = TERMINAL.swap(-1, Ordering::SeqCst);
                if fd >= 0 {
                    // SAFETY: closes the descriptor prepare() opened, once.
                    unsafe {
                        libc::close(fd);
                    }
                }
            }
        }
    }

    /// Forwards a signal that another process sent to broker; see [`from_terminal`].
    extern "C" fn handler(signal: c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
        // SAFETY: with SA_SIGINFO the kernel passes a valid siginfo.
        if from_terminal(signal, unsafe { &*info }) {
            return;
        }
        let pid = CHILD.load(Ordering::SeqCst);
        if pid > 0 {
            // SAFETY: kill is async-signal-safe.
            unsafe {
                libc::kill(pid, signal);
            }
        } else {
            PENDING.store(signal, Ordering::SeqCst);
        }
    }

    /// Whether `signal` came from the terminal rather than from a process.
    ///
    /// Linux says so: the terminal's signals carry `si_code == SI_KERNEL`, while `kill()`,
    /// `sigqueue()` and `tgkill()` give `SI_USER`, `SI_QUEUE`, `SI_TKILL`. The code decides, not
    /// the sender's pid, which reads 0 when the sender is in an outer PID namespace (a
    /// container runtime stopping the container).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn from_terminal(_signal: c_int, info: &libc::siginfo_t) -> bool {
        info.si_code == libc::SI_KERNEL
    }

    /// macOS does not say. It has no `SI_KERNEL`; XNU gives every caught signal `si_code` 0 and
    /// the pid of the process in whose context it was raised, which for Ctrl-C is the terminal
    /// emulator (or sshd, or tmux) writing ^C to the pseudo-terminal, so `si_pid` does not tell
    /// either. broker asks the terminal instead: while broker is in its terminal's foreground
    /// process group, SIGINT, SIGQUIT and SIGHUP are taken to be the terminal's (or the shell's,
    /// sent to the whole job), and the child, in the same group, has them already. SIGTERM,
    /// which no terminal sends, and every signal while broker runs in the background or without
    /// a terminal, are forwarded. The price: a `kill -INT` aimed at broker alone while it is in
    /// the foreground does not reach the child (SIGTERM does).
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    fn from_terminal(signal: c_int, _info: &libc::siginfo_t) -> bool {
        let terminal = TERMINAL.load(Ordering::SeqCst);
        // SAFETY: tcgetpgrp and getpgrp are async-signal-safe; a closed or invalid descriptor
        // makes tcgetpgrp fail with -1, which matches no process group.
        signal != libc::SIGTERM
            && terminal >= 0
            && unsafe { libc::tcgetpgrp(terminal) == libc::getpgrp() }
    }
}

#[cfg(windows)]
mod signals {
    use windows_sys::core::BOOL;
    use windows_sys::Win32::System::Console::{
        SetConsoleCtrlHandler, CTRL_BREAK_EVENT, CTRL_C_EVENT,
    };

    /// Claims Ctrl-C and Ctrl-Break from the moment before the child starts until it has
    /// exited. Closing the console, logoff and shutdown keep their default: the system ends
    /// every process on the console.
    pub struct Forwarding;

    impl Forwarding {
        pub fn prepare() -> Forwarding {
            // SAFETY: registers a handler that only inspects its argument.
            unsafe {
                SetConsoleCtrlHandler(Some(ignore_interrupts), 1);
            }
            Forwarding
        }

        /// Nothing to forward: the child is on the same console and gets its own events.
        pub fn forward_to(&self, _pid: u32) {}
    }

    impl Drop for Forwarding {
        fn drop(&mut self) {
            // SAFETY: removes the handler prepare() registered.
            unsafe {
                SetConsoleCtrlHandler(Some(ignore_interrupts), 0);
            }
        }
    }

    /// "Handled" for Ctrl-C and Ctrl-Break, so the default handler (which ends broker) does not
    /// run. Not `SetConsoleCtrlHandler(NULL, TRUE)`: that setting is inherited, and the child
    /// would ignore Ctrl-C too.
    unsafe extern "system" fn ignore_interrupts(event: u32) -> BOOL {
        BOOL::from(event == CTRL_C_EVENT || event == CTRL_BREAK_EVENT)
    }
}
