//! The one user-facing error: a message, its causes, the next step to suggest and an exit code.
//! Each module that can fail has its own `thiserror` enum; [`crate::hints`] turns each into an
//! [`Error`] with its hint, so that this module depends on none of them.
//!
//! What the user sees is one line `broker: error: …`, the causes as `caused by: …` lines under
//! `-v`, then `hint: …`. The text is sanitised where it is printed. No error carries a secret:
//! the enums hold names, paths, AWS error codes and upstream messages, never key material.

use std::fmt;

use crate::exit_codes;

type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What `broker` prints before exiting with a failure.
#[derive(Debug)]
pub struct Error {
    message: String,
    hint: Option<String>,
    source: Option<Source>,
    exit_code: u8,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A run-time failure (exit status 1).
    pub fn new(message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
            hint: None,
            source: None,
            exit_code: exit_codes::FAILURE,
        }
    }

    /// `context: cause` on one line, keeping `cause` (and its own causes, which `-v` shows) as
    /// the source: for a failure whose module has no error type of its own to say it.
    pub fn with_source(
        context: impl Into<String>,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error {
            message: format!("{}: {cause}", context.into()),
            source: Some(Box::new(cause)),
            ..Error::new("")
        }
    }

    /// This error as the cause of a larger failure: `context: message`, its causes kept, its
    /// hint left for the caller to replace.
    pub fn in_context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
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

    /// An error whose message is `error`'s text and whose causes are `error`'s sources.
    pub(crate) fn from_error(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error {
            message: error.to_string(),
            source: Some(Box::new(error)),
            ..Error::new("")
        }
    }

    pub fn exit_code(&self) -> u8 {
        self.exit_code
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }

    /// The text to print: the message on one line, under `verbose` every cause the message
    /// does not already say, then the hint. Sanitised: no control or invisible character of an
    /// upstream message reaches the terminal.
    pub fn render(&self, verbose: bool) -> String {
        self.render_with(verbose, false)
    }

    /// [`Error::render`] with its labels coloured (ANSI), for a terminal that takes colour.
    pub fn render_styled(&self, verbose: bool) -> String {
        self.render_with(verbose, true)
    }

    fn render_with(&self, verbose: bool, styled: bool) -> String {
        let label = |text: &str, style: anstyle::Style, rest: &str| {
            if styled {
                styled_label(text, style, rest)
            } else {
                format!("{text} {rest}")
            }
        };
        let mut out = label("broker: error:", ERROR_STYLE, &one_line(&self.message));
        if verbose {
            let mut cause = self.source.as_deref().and_then(std::error::Error::source);
            while let Some(e) = cause {
                let text = one_line(&e.to_string());
                if !text.is_empty() && !out.contains(&text) {
                    out.push('\n');
                    out.push_str(&label("caused by:", CAUSE_STYLE, &text));
                }
                cause = e.source();
            }
        }
        if let Some(hint) = &self.hint {
            out.push('\n');
            out.push_str(&label("hint:", HINT_STYLE, &one_line(hint)));
        }
        out
    }
}

pub const ERROR_STYLE: anstyle::Style = anstyle::Style::new()
    .bold()
    .fg_color(Some(anstyle::Color::Ansi(anstyle::AnsiColor::Red)));
pub const CAUSE_STYLE: anstyle::Style =
    anstyle::Style::new().fg_color(Some(anstyle::Color::Ansi(anstyle::AnsiColor::Yellow)));
pub const HINT_STYLE: anstyle::Style = anstyle::Style::new()
    .bold()
    .fg_color(Some(anstyle::Color::Ansi(anstyle::AnsiColor::Cyan)));

/// `label rest`, the label in `style`.
pub fn styled_label(label: &str, style: anstyle::Style, rest: &str) -> String {
    format!("{}{label}{} {rest}", style.render(), style.render_reset())
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(false))
    }
}

/// Folds a possibly multi-line message onto one line, sanitised for a terminal.
pub fn one_line(text: &str) -> String {
    text.split(['\n', '\r'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| crate::sanitize::escape(p).into_owned())
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("could not read the thing")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn one_line_then_the_causes_under_verbose_then_the_hint() {
        let err = Error::new("could not do it:\nline two").with_hint("try again");
        assert_eq!(
            err.to_string(),
            "broker: error: could not do it:; line two\nhint: try again"
        );
        let err =
            Error::from_error(Outer(std::io::Error::other("disk on fire"))).with_hint("cool it");
        assert_eq!(
            err.render(false),
            "broker: error: could not read the thing\nhint: cool it"
        );
        assert_eq!(
            err.render(true),
            "broker: error: could not read the thing\ncaused by: disk on fire\nhint: cool it"
        );
    }

    #[test]
    fn what_reaches_the_terminal_is_sanitised() {
        assert_eq!(one_line("a\x1b[2Jb"), "a\\u{1b}[2Jb");
        let err = Error::new("profile evil\u{202E}txt").with_hint("x\u{85}y");
        assert_eq!(
            err.to_string(),
            "broker: error: profile evil\\u{202e}txt\nhint: x\\u{85}y"
        );
    }
}
