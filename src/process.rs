//! Running other programs: the user's command for `exec` (its environment per the README,
//! signal forwarding, its exit status reported the way shells do), and the shell that runs the
//! profile's `credential_process` and `mfa_process` and the vault's `passphrase_command`.
//!
//! Every child starts from [`command`]: the caller's environment without broker's own secrets
//! (the file vault's passphrase), and the caller's umask instead of broker's private one. The
//! child's argv is exactly what the user gave; secrets reach it only through its environment,
//! never through argv.

use std::ffi::{OsStr, OsString};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use chrono::Utc;
use secrecy::SecretString;
use serde::Deserialize;

use crate::credentials::Credentials;
use crate::environment::{same_name, Environment};

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("cannot run {program}: {source}")]
    NotFound {
        program: String,
        source: std::io::Error,
    },
    #[error("cannot run {program}: {source}")]
    CannotRun {
        program: String,
        source: std::io::Error,
    },
    #[error("waiting for {program} failed: {source}")]
    Wait {
        program: String,
        source: std::io::Error,
    },
    #[error("credential_process of profile {profile} failed: {why}")]
    CredentialProcess { profile: String, why: String },
}

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

/// What every child's environment starts from: the caller's, without broker's secrets. Set
/// once at start from the [`Environment`]; empty until then.
static INHERITED: OnceLock<Vec<(OsString, OsString)>> = OnceLock::new();

/// Remembers what children inherit: the caller's environment (without broker's secrets).
pub fn init(env: &Environment) {
    let _ = INHERITED.set(env.inherited().to_vec());
}

fn inherited() -> impl Iterator<Item = &'static (OsString, OsString)> {
    INHERITED.get().into_iter().flatten()
}

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
/// [`command`].
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

/// A child process of broker's: the caller's environment without broker's secrets, and the
/// caller's umask and core-size limit back.
pub fn command(program: impl AsRef<OsStr>) -> Command {
    let mut cmd = Command::new(program);
    cmd.env_clear().envs(inherited().cloned());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let (umask, core) = caller_limits();
        // SAFETY: set_umask_and_core makes only async-signal-safe calls.
        unsafe {
            cmd.pre_exec(move || {
                set_umask_and_core(umask, core);
                Ok(())
            });
        }
    }
    cmd
}

/// The `exec` child's environment: the inherited one without AWS credential and profile
/// variables (and `AWS_CONTAINER_*`), plus `set`.
pub fn environment(set: Vec<(String, String)>) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = inherited()
        .filter(|(k, _)| {
            !REMOVED.iter().any(|r| same_name(k, r)) && !has_prefix(k, "AWS_CONTAINER_")
        })
        .filter(|(k, _)| !set.iter().any(|(s, _)| same_name(k, s)))
        .cloned()
        .collect();
    env.extend(set.into_iter().map(|(k, v)| (k.into(), v.into())));
    env
}

fn has_prefix(name: &OsStr, prefix: &str) -> bool {
    let name = name.to_string_lossy();
    name.get(..prefix.len())
        .is_some_and(|start| same_name(OsStr::new(start), prefix))
}

/// The shell that runs a profile's `credential_process` and `mfa_process`: `sh -c COMMAND`, or
/// on Windows `cmd.exe /D /S /C "COMMAND"` with COMMAND passed as written (Rust's argument
/// quoting is for programs that parse their command line as the C runtime does; cmd does not).
pub fn shell(command: &str) -> Command {
    #[cfg(windows)]
    {
        use std::os::windows::process::CommandExt;
        let mut cmd = self::command("cmd.exe");
        // /D: no AutoRun commands from the registry. /S: cmd strips exactly the outer quotes
        // and runs the rest as typed.
        cmd.args(["/D", "/S", "/C"])
            .raw_arg(format!("\"{command}\""));
        cmd
    }
    #[cfg(not(windows))]
    {
        let mut cmd = self::command("sh");
        cmd.args(["-c", command]);
        cmd
    }
}

/// Runs `command` through the shell with no stdin and broker's stderr, and returns its stdout
/// without trailing line breaks, in zeroing memory; after `timeout` it is stopped together with
/// everything it started. For `mfa_process` and `passphrase_command`; the error says why.
pub fn secret_output(command: &str, timeout: Duration) -> Result<SecretString, String> {
    use std::io::Read;
    let mut command = shell(command);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    group::prepare(&mut command);
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot start it: {e}"))?;
    let group = group::Group::adopt(&child);
    let mut stdout = child.stdout.take().expect("piped stdout");
    let reader = std::thread::spawn(move || {
        let mut text = zeroize::Zeroizing::new(Vec::new());
        let _ = stdout.by_ref().take(64 << 10).read_to_end(&mut text);
        text
    });
    let status = wait_or_stop(&mut child, group, timeout)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| {
            format!(
                "it did not finish within {}",
                crate::duration::format(timeout)
            )
        })?;
    let bytes = reader.join().unwrap_or_default();
    if !status.success() {
        return Err(format!("it exited with {status}"));
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| "its output is not text".to_string())?;
    Ok(SecretString::from(text.trim_end_matches(['\r', '\n'])))
}

/// Waits for `child`, started in `group`, at most `timeout`: its status, or `None` when the
/// time ran out and it was stopped together with everything it started.
pub fn wait_or_stop(
    child: &mut std::process::Child,
    group: group::Group,
    timeout: Duration,
) -> std::io::Result<Option<std::process::ExitStatus>> {
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if started.elapsed() >= timeout {
            group.kill();
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The command to run: the one given, else the user's shell (`$SHELL`, then `%COMSPEC%` on
/// Windows), else `/bin/sh` (`cmd.exe` on Windows).
pub fn command_line(given: Vec<OsString>, shell: Option<&OsStr>) -> Vec<OsString> {
    if !given.is_empty() {
        return given;
    }
    let fallback = if cfg!(windows) { "cmd.exe" } else { "/bin/sh" };
    vec![shell
        .map(OsStr::to_owned)
        .unwrap_or_else(|| fallback.into())]
}

/// The umask and soft core-size limit broker was started with, where it changed them.
#[cfg(unix)]
fn caller_limits() -> (Option<u32>, Option<u64>) {
    (
        CALLER_UMASK.get().copied(),
        CALLER_CORE_LIMIT.get().copied(),
    )
}

/// Sets this process's umask and soft core-size limit, each where given. Only async-signal-safe
/// calls: a `pre_exec` may use it.
#[cfg(unix)]
fn set_umask_and_core(umask: Option<u32>, core: Option<u64>) {
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

/// Spawns `command` (made without [`command`]'s `pre_exec`) with the caller's umask and
/// core-size limit: set in broker for the moment of the spawn, since a command without
/// `pre_exec` is started with `posix_spawn` (vfork and exec, no copy of broker's memory). Every
/// file broker makes is created with a private mode of its own, so the moment does not matter
/// to them; and broker is not dumpable whatever its core limit (see [`protect_memory`]).
fn spawn_as_caller(command: &mut Command) -> std::io::Result<std::process::Child> {
    #[cfg(unix)]
    {
        let (umask, core) = caller_limits();
        set_umask_and_core(umask, core);
        let child = command.spawn();
        set_umask_and_core(umask.map(|_| 0o077), core.map(|_| 0));
        child
    }
    #[cfg(not(unix))]
    command.spawn()
}

/// The errno a spawn failed with, on Unix (elsewhere raw codes are Windows errors, which
/// the errno constants do not name).
fn spawn_errno(error: &std::io::Error) -> Option<i32> {
    error.raw_os_error().filter(|_| cfg!(unix))
}

/// The file to run for `program`: itself when it names a path, else the first regular file
/// along the child's `PATH` that broker may execute (`access(X_OK)`, which also refuses a
/// `noexec` mount), as `execvp` would find it; `None` when it is not found (the forked spawn
/// then looks, and reports, itself). A program given by path is spawned without copying
/// broker's memory.
fn resolve_program(program: &OsStr, env: &[(OsString, OsString)]) -> Option<std::path::PathBuf> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let executable = |path: &std::path::Path| {
            std::ffi::CString::new(path.as_os_str().as_bytes()).is_ok_and(|c| {
                // SAFETY: access only reads the NUL-terminated path.
                unsafe { libc::access(c.as_ptr(), libc::X_OK) == 0 }
            })
        };
        if program.is_empty() {
            return None;
        }
        if program.as_encoded_bytes().contains(&b'/') {
            return Some(program.into());
        }
        let path = env.iter().find(|(k, _)| k == "PATH").map(|(_, v)| v)?;
        std::env::split_paths(path)
            .map(|dir| {
                if dir.as_os_str().is_empty() {
                    std::path::Path::new(".").join(program)
                } else {
                    dir.join(program)
                }
            })
            .find(|candidate| {
                std::fs::metadata(candidate).is_ok_and(|m| m.is_file()) && executable(candidate)
            })
    }
    #[cfg(not(unix))]
    {
        let _ = (program, env);
        None
    }
}

/// Runs `argv` with exactly `env` and returns its status (for the audit log's `ended` record
/// and broker's own, see [`crate::issue::Ending`]). While it runs, signals (Unix) or console
/// events (Windows) are handled as [`signals`] says. `alone`: broker runs no other thread that
/// could create files meanwhile (not so under `exec --server`), so the quicker spawn of
/// [`spawn_as_caller`] may be used.
pub fn run_status(
    argv: &[OsString],
    env: Vec<(OsString, OsString)>,
    alone: bool,
) -> Result<std::process::ExitStatus, ProcessError> {
    let (program, args) = argv.split_first().expect("a command line is never empty");
    let forked = |program: &OsStr, args: &[OsString]| {
        command(program)
            .args(args)
            .env_clear()
            .envs(env.clone())
            .spawn()
    };
    let shown = program.to_string_lossy().into_owned();
    let guard = signals::Forwarding::prepare();
    let resolved = resolve_program(program, &env);
    // A file without `#!` (ENOEXEC) is run by /bin/sh, as glibc's execvp does (musl's, in the
    // static release build, does not).
    let script = |path: &std::path::Path| {
        let argv: Vec<OsString> = std::iter::once(path.as_os_str().to_owned())
            .chain(args.iter().cloned())
            .collect();
        forked(OsStr::new("/bin/sh"), &argv)
    };
    let spawned = match resolved.as_deref() {
        Some(path) if alone => {
            let mut quick = Command::new(path);
            quick.args(args).env_clear().envs(env.clone());
            #[cfg(unix)]
            std::os::unix::process::CommandExt::arg0(&mut quick, program);
            match spawn_as_caller(&mut quick) {
                Err(e) if spawn_errno(&e) == Some(libc::ENOEXEC) => script(path),
                // execvp goes on along PATH past a file it may not run (EACCES): the forked
                // spawn does as it does.
                Err(e) if spawn_errno(&e) == Some(libc::EACCES) => forked(program, args),
                spawned => spawned,
            }
        }
        Some(path) => match forked(program, args) {
            Err(e) if spawn_errno(&e) == Some(libc::ENOEXEC) => script(path),
            spawned => spawned,
        },
        None => forked(program, args),
    };
    let mut child = spawned.map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            ProcessError::NotFound {
                program: shown.clone(),
                source,
            }
        } else {
            ProcessError::CannotRun {
                program: shown.clone(),
                source,
            }
        }
    })?;
    guard.forward_to(child.id());
    crate::timing::phase("spawn");
    let status = child.wait().map_err(|source| ProcessError::Wait {
        program: shown,
        source,
    })?;
    drop(guard);
    Ok(status)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ProcessOutput {
    version: u32,
    access_key_id: String,
    secret_access_key: SecretString,
    session_token: Option<SecretString>,
    expiration: Option<chrono::DateTime<Utc>>,
}

/// Runs a profile's `credential_process` and reads its JSON, as the AWS CLI does; refuses
/// credentials that have expired already.
pub fn credential_process(profile: &str, command: &str) -> Result<Credentials, ProcessError> {
    let fail = |why: String| ProcessError::CredentialProcess {
        profile: profile.to_string(),
        why,
    };
    crate::output::verbose(format!("running the credential_process of {profile}"));
    let out = shell(command)
        .stdin(Stdio::inherit())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| fail(format!("cannot start it: {e}")))?;
    let stdout = zeroize::Zeroizing::new(out.stdout);
    if !out.status.success() {
        return Err(fail(format!("it exited with {}", out.status)));
    }
    let parsed: ProcessOutput = serde_json::from_slice(&stdout).map_err(|e| {
        fail(format!(
            "its output is not credential_process JSON ({})",
            json_problem(&e)
        ))
    })?;
    if parsed.version != 1 {
        return Err(fail(format!("unsupported Version {}", parsed.version)));
    }
    if let Some(expiration) = parsed.expiration.filter(|e| *e <= crate::clock::now()) {
        return Err(fail(format!(
            "it returned credentials that expired at {}",
            expiration.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )));
    }
    Ok(Credentials {
        access_key_id: parsed.access_key_id,
        secret_access_key: parsed.secret_access_key,
        session_token: parsed.session_token,
        expiration: parsed.expiration,
    })
}

fn json_problem(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Io => "I/O error",
        serde_json::error::Category::Syntax => "not JSON",
        serde_json::error::Category::Data => "missing or wrong fields",
        serde_json::error::Category::Eof => "truncated",
    }
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

/// A shell command (`mfa_process`, `passphrase_command`) and everything it starts, as one unit
/// that a timeout stops: the one place
/// where Unix and Windows differ here. Whatever it leaves running after a normal exit (an
/// agent it started) is left alone on both.
pub(crate) mod group {
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

        pub fn kill(self) {
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
            use windows_sys::Win32::System::JobObjects::{
                AssignProcessToJobObject, CreateJobObjectW,
            };
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

        pub fn kill(self) {
            use std::os::windows::io::AsRawHandle;
            if let Some(job) = self.0 {
                // SAFETY: ends the processes of a job we created and still hold.
                unsafe {
                    windows_sys::Win32::System::JobObjects::TerminateJobObject(
                        job.as_raw_handle(),
                        1,
                    );
                }
            }
        }
    }
}
