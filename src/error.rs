//! The one user-facing error: a one-line message, an optional hint, an exit code.
//!
//! Library modules keep their own `thiserror` enums; they become an [`Error`] here, where the
//! hints live. An error message never carries a secret: the enums below hold only names, paths
//! and the text of upstream errors, never key material.

use std::fmt;

use crate::exit_codes;

/// What `broker` prints as `broker: error: …` before exiting.
#[derive(Debug)]
pub struct Error {
    message: String,
    hint: Option<String>,
    exit_code: u8,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A run-time failure (exit status 1).
    pub fn new(message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
            hint: None,
            exit_code: exit_codes::FAILURE,
        }
    }

    /// A command-line usage error (exit status 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Error {
            exit_code: exit_codes::USAGE,
            ..Error::new(message)
        }
    }

    /// Adds the next step the user could take.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// A failure with a specific exit status (`exec`'s 126 and 127).
    pub fn with_exit_code(mut self, code: u8) -> Self {
        self.exit_code = code;
        self
    }

    pub fn exit_code(&self) -> u8 {
        self.exit_code
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "broker: error: {}", one_line(&self.message))?;
        if let Some(hint) = &self.hint {
            write!(f, "\nhint: {hint}")?;
        }
        Ok(())
    }
}

/// Folds a possibly multi-line upstream message onto one line and escapes control characters,
/// so a hostile value cannot repaint the terminal.
pub fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for part in text
        .split(['\n', '\r'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        if !out.is_empty() {
            out.push_str("; ");
        }
        out.push_str(&escape_control(part));
    }
    out
}

/// Escapes what must not reach a terminal as itself (see [`crate::sanitize`]).
pub fn escape_control(text: &str) -> String {
    crate::sanitize::escape(text).into_owned()
}

impl From<crate::vault::VaultError> for Error {
    fn from(e: crate::vault::VaultError) -> Self {
        use crate::vault::VaultError as V;
        let hint = match &e {
            V::NoBackend { .. } | V::Unavailable { .. } => Some(
                "use `--backend file` (an encrypted file vault; set BROKER_FILE_PASSPHRASE or \
                 type it when asked), or start a Secret Service such as gnome-keyring",
            ),
            V::WrongPassphrase { .. } => Some(
                "check the passphrase (typed, BROKER_FILE_PASSPHRASE, BROKER_FILE_PASSPHRASE_FILE \
                 or [file] passphrase_command); nothing was changed",
            ),
            V::NoPassphrase { .. } => Some(
                "set [file] passphrase_command in config.toml or BROKER_FILE_PASSPHRASE_FILE, or \
                 run broker from a terminal",
            ),
            V::Corrupt { .. } | V::NotKeys { .. } => Some("store the keys again with `broker add`"),
            V::Backend { .. } | V::Io { .. } => None,
        };
        let err = Error::new(e.to_string());
        match hint {
            Some(h) => err.with_hint(h),
            None => err,
        }
    }
}

impl From<crate::profiles::ProfilesError> for Error {
    fn from(e: crate::profiles::ProfilesError) -> Self {
        Error::new(e.to_string())
    }
}

impl From<crate::tty::TtyError> for Error {
    fn from(e: crate::tty::TtyError) -> Self {
        Error::new(e.to_string())
    }
}

impl From<crate::chain::ChainError> for Error {
    fn from(e: crate::chain::ChainError) -> Self {
        use crate::chain::ChainError as C;
        let hint = match &e {
            C::UnknownProfile(_) | C::MissingSource { .. } => {
                "`broker list` shows the profiles of the AWS config"
            }
            C::Cycle(_) => "make the last profile of the chain hold keys (no source_profile)",
            C::BadArn { .. } | C::BadSetting { .. } => "fix the profile in the AWS config",
            C::BadRequest(_) => "durations are like 15m, 1h or 3600s",
        };
        Error::new(e.to_string()).with_hint(hint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_one_line_then_the_hint() {
        let err = Error::new("could not do it:\nline two").with_hint("try again");
        assert_eq!(
            err.to_string(),
            "broker: error: could not do it:; line two\nhint: try again"
        );
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(one_line("a\x1b[2Jb"), "a\\u{1b}[2Jb");
    }
}
