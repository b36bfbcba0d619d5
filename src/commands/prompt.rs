//! `broker prompt`: the profile a `broker use` (or `exec`) shell holds and its time left, for
//! custom shell prompts. Runs before every prompt, so it reads two variables and nothing else:
//! no settings, no vault, no AWS config (see `commands::hot`).

use chrono::{DateTime, Utc};

use crate::environment::PromptVars;
use crate::error::Result;
use crate::{exit_codes, output};

/// Print the profile of this shell's credentials and their time left, for shell prompts
///
/// Prints `PROFILE 42m` (the profile `broker use` or `broker exec` set, in BROKER_PROFILE or
/// AWS_VAULT, and the whole minutes left by AWS_CREDENTIAL_EXPIRATION), `PROFILE expired`, or
/// nothing when the shell holds no broker credentials. Reads nothing else, so it is fast enough
/// to run before every prompt.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  PS1='$(broker prompt) \\$ '                     # bash
  function fish_right_prompt; broker prompt; end  # fish")]
pub struct Args {}

pub fn run(_args: Args, vars: &PromptVars) -> Result<u8> {
    if let Some(line) = line(vars, crate::clock::now()) {
        output::stdout(format!("{line}\n").as_bytes())?;
    }
    Ok(exit_codes::SUCCESS)
}

/// `PROFILE 42m`, `PROFILE 1h5m`, `PROFILE <1m`, `PROFILE expired`, or just `PROFILE` when the
/// expiry is unknown; nothing without a profile.
fn line(vars: &PromptVars, now: DateTime<Utc>) -> Option<String> {
    let profile = crate::sanitize::escape(vars.profile.as_deref()?);
    let expiration = vars
        .expiration
        .as_deref()
        .and_then(|e| DateTime::parse_from_rfc3339(e).ok());
    let Some(expiration) = expiration else {
        return Some(profile.to_string());
    };
    let left = (expiration.with_timezone(&Utc) - now).num_seconds();
    Some(match left {
        ..=0 => format!("{profile} expired"),
        1..=59 => format!("{profile} <1m"),
        _ => format!(
            "{profile} {}",
            crate::duration::format(std::time::Duration::from_secs(left as u64 / 60 * 60))
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_says_the_profile_and_whole_minutes_left() {
        let now = DateTime::parse_from_rfc3339("2026-01-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let vars = |profile: Option<&str>, expiration: Option<&str>| PromptVars {
            profile: profile.map(str::to_owned),
            expiration: expiration.map(str::to_owned),
        };
        let at = |e| line(&vars(Some("prod"), Some(e)), now);
        assert_eq!(at("2026-01-01T12:42:59Z").as_deref(), Some("prod 42m"));
        assert_eq!(at("2026-01-01T13:05:00Z").as_deref(), Some("prod 1h5m"));
        assert_eq!(at("2026-01-01T12:00:30Z").as_deref(), Some("prod <1m"));
        assert_eq!(at("2026-01-01T11:00:00Z").as_deref(), Some("prod expired"));
        assert_eq!(
            line(&vars(Some("prod"), None), now).as_deref(),
            Some("prod")
        );
        assert_eq!(line(&vars(None, Some("2026-01-01T13:00:00Z")), now), None);
        assert_eq!(
            line(&vars(Some("a\u{1b}[31m"), None), now).as_deref(),
            Some("a\\u{1b}[31m")
        );
    }
}
