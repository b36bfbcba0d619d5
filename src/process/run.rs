//! The user's command for `exec`: found along `PATH` as `execvp` would, spawned with the
//! caller's umask (without copying broker's memory where it can), signals handled as
//! [`super::signals`] says while it runs, and its exit status returned for broker to report
//! the way shells do.

use std::ffi::{OsStr, OsString};
use std::process::Command;

#[cfg(unix)]
use super::hardening;
use super::{command, signals, ProcessError};

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

/// Spawns `command` (made without [`command`]'s `pre_exec`) with the caller's umask and
/// core-size limit: set in broker for the moment of the spawn, since a command without
/// `pre_exec` is started with `posix_spawn` (vfork and exec, no copy of broker's memory). Every
/// file broker makes is created with a private mode of its own, so the moment does not matter
/// to them; and broker is not dumpable whatever its core limit (see [`super::protect_memory`]).
fn spawn_as_caller(command: &mut Command) -> std::io::Result<std::process::Child> {
    #[cfg(unix)]
    {
        let (umask, core) = hardening::caller_limits();
        hardening::set_umask_and_core(umask, core);
        let child = command.spawn();
        hardening::set_umask_and_core(umask.map(|_| 0o077), core.map(|_| 0));
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
