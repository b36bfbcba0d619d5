//! Talking to the user through `/dev/tty`, so prompts work while stdout is captured (as it is
//! under `credential_process`) and never mix with output meant for programs.
//!
//! Secrets typed here are read without echo and returned in zeroing types; they are never echoed.

use std::io::{BufRead, BufReader, Write};

use secrecy::SecretString;

#[derive(Debug, thiserror::Error)]
pub enum TtyError {
    #[error("no terminal to ask on (/dev/tty: {0})")]
    NoTerminal(std::io::Error),
    #[error("reading from the terminal failed: {0}")]
    Io(std::io::Error),
}

fn open_tty() -> Result<std::fs::File, TtyError> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .map_err(TtyError::NoTerminal)
}

/// Whether a person is at a terminal to answer: stderr is one (so a list or a spinner is
/// seen there) and `/dev/tty` opens.
pub fn interactive() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal() && open_tty().is_ok()
}

/// Asks a question whose answer may be shown as it is typed.
pub fn ask(prompt: &str) -> Result<String, TtyError> {
    let mut tty = open_tty()?;
    tty.write_all(prompt.as_bytes()).map_err(TtyError::Io)?;
    tty.flush().map_err(TtyError::Io)?;
    let mut line = String::new();
    BufReader::new(tty)
        .read_line(&mut line)
        .map_err(TtyError::Io)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Asks for a secret without echoing it.
pub fn ask_secret(prompt: &str) -> Result<SecretString, TtyError> {
    // Open first so a missing terminal is reported as such, not as an I/O error.
    drop(open_tty()?);
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
