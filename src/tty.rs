//! Talking to the user through the terminal itself — `/dev/tty` on Unix, the console
//! (`CONIN$`, `CONOUT$`) on Windows — so prompts work while stdout is captured (as it is under
//! `credential_process`) and never mix with output meant for programs.
//!
//! Secrets typed here are read without echo and returned in zeroing types; they are never echoed.

use std::io::Write;

use secrecy::SecretString;

#[derive(Debug, thiserror::Error)]
pub enum TtyError {
    /// The process has none: no controlling terminal (Unix), no console (Windows: a program
    /// started detached, by a service or a scheduler, or by a GUI). The caller's hint says
    /// how to do without one.
    #[error("no terminal to ask on")]
    NoTerminal,
    /// There is one, and it does not open.
    #[error("no terminal to ask on ({device}: {0})", device = platform::DEVICE)]
    Unusable(std::io::Error),
    #[error("reading from the terminal failed: {0}")]
    Io(std::io::Error),
}

/// Whether a person is at a terminal to answer: stderr is one (so a list or a spinner is
/// seen there) and the terminal device opens.
pub fn interactive() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal() && present()
}

/// Whether there is a terminal to ask on (the process has a controlling terminal, or a
/// console), whatever its standard streams are.
pub fn present() -> bool {
    platform::open().is_ok()
}

/// The terminal for reading and for writing, or why there is none.
fn open() -> Result<(std::fs::File, std::fs::File), TtyError> {
    platform::open().map_err(|e| match e.raw_os_error() {
        Some(code) if code == platform::NONE => TtyError::NoTerminal,
        _ => TtyError::Unusable(e),
    })
}

/// Asks a question whose answer may be shown as it is typed.
pub fn ask(prompt: &str) -> Result<String, TtyError> {
    let (input, mut output) = open()?;
    output.write_all(prompt.as_bytes()).map_err(TtyError::Io)?;
    output.flush().map_err(TtyError::Io)?;
    let line = platform::read_line(input).map_err(TtyError::Io)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Asks for a secret without echoing it (`rpassword` reads the same device as [`ask`]).
pub fn ask_secret(prompt: &str) -> Result<SecretString, TtyError> {
    // Open first so a missing terminal is reported as such, not as an I/O error.
    drop(open()?);
    rpassword::prompt_password(prompt)
        .map(SecretString::from)
        .map_err(TtyError::Io)
}

/// Asks a yes/no question; only `y` or `yes` is yes.
pub fn confirm(prompt: &str) -> Result<bool, TtyError> {
    let answer = ask(prompt)?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// One line from stdin (not the terminal), without its line break, in zeroing memory: read a
/// byte at a time, so that nothing after the line is taken from a program's stdin (`exec`'s
/// child reads the rest); at most `cap` bytes.
pub fn stdin_line(cap: usize) -> std::io::Result<SecretString> {
    use std::io::Read;
    let mut input = platform::stdin()?;
    let mut line = zeroize::Zeroizing::new(Vec::with_capacity(cap));
    let mut byte = [0u8; 1];
    while line.len() < cap && input.read(&mut byte)? == 1 && byte[0] != b'\n' {
        line.push(byte[0]);
    }
    let text = std::str::from_utf8(&line).map_err(|_| std::io::Error::other("not text"))?;
    Ok(SecretString::from(text.trim_end_matches('\r')))
}

/// The terminal device per platform: the one place where they differ here.
#[cfg(unix)]
mod platform {
    use std::fs::File;
    use std::io::{BufRead, BufReader};

    pub const DEVICE: &str = "/dev/tty";
    /// What opening it fails with in a process without a controlling terminal.
    pub const NONE: i32 = libc::ENXIO;

    /// A file of its own on stdin, read without the standard library's buffer.
    pub fn stdin() -> std::io::Result<File> {
        use std::os::fd::AsFd;
        Ok(std::io::stdin().as_fd().try_clone_to_owned()?.into())
    }

    /// The controlling terminal, for reading and for writing.
    pub fn open() -> std::io::Result<(File, File)> {
        let tty = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(DEVICE)?;
        Ok((tty.try_clone()?, tty))
    }

    pub fn read_line(input: File) -> std::io::Result<String> {
        let mut line = String::new();
        BufReader::new(input).read_line(&mut line)?;
        Ok(line)
    }
}

/// Windows: the console's input and output buffers, which exist whatever stdin and stdout are
/// redirected to, and fail to open in a process without a console.
#[cfg(windows)]
mod platform {
    use std::fs::File;
    use std::os::windows::io::AsRawHandle;

    use windows_sys::Win32::System::Console::ReadConsoleW;

    pub const DEVICE: &str = "CONIN$";
    /// What opening it fails with in a process without a console.
    pub const NONE: i32 = windows_sys::Win32::Foundation::ERROR_INVALID_HANDLE as i32;

    /// A file of its own on stdin, read without the standard library's buffer.
    pub fn stdin() -> std::io::Result<File> {
        use std::os::windows::io::AsHandle;
        Ok(std::io::stdin().as_handle().try_clone_to_owned()?.into())
    }

    pub fn open() -> std::io::Result<(File, File)> {
        let open = |name| {
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(name)
        };
        Ok((open("CONIN$")?, open("CONOUT$")?))
    }

    /// One line as typed (the console echoes it), read as UTF-16 so that any character
    /// arrives intact whatever the console's code page.
    pub fn read_line(input: File) -> std::io::Result<String> {
        let mut line: Vec<u16> = Vec::new();
        let mut buffer = [0u16; 256];
        while !line.contains(&u16::from(b'\n')) {
            let mut read = 0u32;
            // SAFETY: the buffer is valid for `buffer.len()` UTF-16 units; `read` receives
            // how many were written.
            let ok = unsafe {
                ReadConsoleW(
                    input.as_raw_handle(),
                    buffer.as_mut_ptr().cast(),
                    buffer.len() as u32,
                    &mut read,
                    std::ptr::null(),
                )
            };
            if ok == 0 {
                return Err(std::io::Error::last_os_error());
            }
            if read == 0 {
                break;
            }
            line.extend_from_slice(&buffer[..read as usize]);
        }
        Ok(String::from_utf16_lossy(&line))
    }
}

/// The width of the terminal stdout goes to (Unix and Windows alike); `None` when stdout is
/// not a terminal.
pub fn stdout_width() -> Option<usize> {
    console::Term::stdout()
        .size_checked()
        .map(|(_rows, columns)| usize::from(columns))
        .filter(|&columns| columns > 0)
}
