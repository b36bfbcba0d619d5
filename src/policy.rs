//! Per-profile policy from config.toml: a required reason, break-glass confirmation, a cap on
//! durations, the reason as a session tag, and the notification run after issuing (and again
//! when the program an `exec` ran ends).
//!
//! The notification gets context in `BROKER_*` variables and never a credential: it runs with
//! the same scrubbed environment as `exec`, without any AWS key variable.

use std::time::{Duration, Instant};

use crate::sanitize::escape;
use crate::settings::ProfilePolicy;

/// A request the profile's policy refuses.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("profile {profile} requires a reason")]
    NoReason { profile: String },
    #[error(
        "profile {profile} requires a reason, and `{given}` is not one: a reason needs at least \
         {min} visible letters or digits",
        min = crate::sanitize::REASON_MIN_VISIBLE
    )]
    NotAReason { profile: String, given: String },
    #[error("break-glass profile {profile} needs confirmation: {why}")]
    NotConfirmed { profile: String, why: String },
    #[error("break-glass confirmation for {profile} did not match; nothing was issued")]
    Mismatch { profile: String },
    #[error(
        "profile {profile} caps its credentials' duration, so --no-session may not hand out its \
         long-term keys"
    )]
    LongTermKeys { profile: String },
}

type Result<T> = std::result::Result<T, PolicyError>;

/// Break-glass profiles are capped at this unless `max_duration` says otherwise.
pub const DEFAULT_BREAK_GLASS_MAX: Duration = Duration::from_secs(3600);
const NOTIFY_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest duration this profile may be given, if capped.
pub fn max_duration(policy: &ProfilePolicy) -> Option<Duration> {
    match (policy.max_duration, policy.break_glass) {
        (Some(max), _) => Some(max),
        (None, true) => Some(DEFAULT_BREAK_GLASS_MAX),
        (None, false) => None,
    }
}

/// Checks the reason as given (`--reason`) and, for break-glass, the typed confirmation; a
/// profile whose duration policy caps what it hands out also refuses to hand out its long-term
/// keys (`--no-session` without a role), which have no expiry to cap. An `Err` is a refusal. A
/// given reason that is not one (see [`crate::sanitize::is_reason`]) satisfies nothing; where
/// none is required, it is left out of the record with a warning.
pub fn check(
    profile: &str,
    policy: &ProfilePolicy,
    given: Option<&str>,
    yes: bool,
    long_term_keys: bool,
) -> Result<()> {
    let required = policy.require_reason || policy.break_glass;
    match given.map(str::trim) {
        Some(text) if !crate::sanitize::is_reason(text) => {
            if required {
                return Err(PolicyError::NotAReason {
                    profile: profile.to_string(),
                    given: escape(text).into_owned(),
                });
            }
            crate::output::notice(&format!(
                "warning: --reason `{}` is not recorded: a reason needs at least {} visible \
                 letters or digits",
                escape(text),
                crate::sanitize::REASON_MIN_VISIBLE
            ));
        }
        None if required => {
            return Err(PolicyError::NoReason {
                profile: profile.to_string(),
            })
        }
        _ => {}
    }
    if long_term_keys && max_duration(policy).is_some() {
        return Err(PolicyError::LongTermKeys {
            profile: profile.to_string(),
        });
    }
    if policy.break_glass && !yes {
        let prompt = format!(
            "{} is a break-glass profile; this use is audited.\nType the profile name to confirm: ",
            escape(profile)
        );
        let typed = crate::tty::ask(&prompt).map_err(|e| PolicyError::NotConfirmed {
            profile: profile.to_string(),
            why: e.to_string(),
        })?;
        if typed.trim() != profile {
            return Err(PolicyError::Mismatch {
                profile: profile.to_string(),
            });
        }
    }
    Ok(())
}

/// The reason as an STS session tag value: only what STS allows (`[\p{L}\p{Z}\p{N}_.:/=+\-@]`,
/// at most 256 characters); anything else, control characters included, becomes `_`.
pub fn tag_value(reason: &str) -> String {
    use unicode_general_category::{get_general_category, GeneralCategory as G};
    reason
        .chars()
        .map(|c| {
            let allowed = "_.:/=+-@".contains(c)
                || matches!(
                    get_general_category(c),
                    G::UppercaseLetter
                        | G::LowercaseLetter
                        | G::TitlecaseLetter
                        | G::ModifierLetter
                        | G::OtherLetter
                        | G::SpaceSeparator
                        | G::LineSeparator
                        | G::ParagraphSeparator
                        | G::DecimalNumber
                        | G::LetterNumber
                        | G::OtherNumber
                );
            if allowed {
                c
            } else {
                '_'
            }
        })
        .take(256)
        .collect()
}

/// What the notification is told.
pub struct Notice<'a> {
    /// `issued`, or `ended` when the program a `broker exec` ran has ended.
    pub event: &'a str,
    pub profile: &'a str,
    pub role_arn: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub expiration: Option<String>,
    pub via: &'a str,
    /// The access key id handed out (not a secret: CloudTrail logs it).
    pub access_key_id: Option<&'a str>,
    /// `ended`: the status broker reports for the program (128+N for signal N).
    pub exit_status: Option<i32>,
}

/// Runs `notify_command` with the context in its environment; its output goes to stderr so
/// it can never mix with credentials on stdout. A failure is reported, not fatal: the
/// credentials were issued and audited already.
pub fn notify(command: &[String], notice: &Notice<'_>) {
    let Some((program, args)) = command.split_first() else {
        return;
    };
    let mut vars = vec![
        ("BROKER_PROFILE".to_string(), notice.profile.to_string()),
        (
            "BROKER_ROLE_ARN".to_string(),
            notice.role_arn.unwrap_or_default().to_string(),
        ),
        (
            "BROKER_REASON".to_string(),
            notice.reason.unwrap_or_default().to_string(),
        ),
        (
            "BROKER_EXPIRATION".to_string(),
            notice.expiration.clone().unwrap_or_default(),
        ),
        ("BROKER_VIA".to_string(), notice.via.to_string()),
        ("BROKER_EVENT".to_string(), notice.event.to_string()),
        (
            "BROKER_ACCESS_KEY_ID".to_string(),
            notice.access_key_id.unwrap_or_default().to_string(),
        ),
    ];
    if let Some(status) = notice.exit_status {
        vars.push(("BROKER_EXIT_STATUS".to_string(), status.to_string()));
    }
    let stderr = stderr_copy().unwrap_or_else(std::process::Stdio::inherit);
    let spawned = crate::process::command(program)
        .args(args)
        .env_clear()
        .envs(crate::process::environment(vars))
        .stdin(std::process::Stdio::null())
        .stdout(stderr)
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => {
            crate::output::notice(&format!(
                "warning: notify_command {program} could not start: {e}"
            ));
            return;
        }
    };
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return,
            Ok(Some(status)) => {
                crate::output::notice(&format!("warning: notify_command exited with {status}"));
                return;
            }
            Ok(None) if started.elapsed() > NOTIFY_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                crate::output::notice(
                    "warning: notify_command did not finish in 30s and was stopped",
                );
                return;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => {
                crate::output::notice(&format!("warning: notify_command: {e}"));
                return;
            }
        }
    }
}

/// A duplicate of our stderr, to become the notification's stdout.
fn stderr_copy() -> Option<std::process::Stdio> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        let fd = std::io::stderr().as_fd().try_clone_to_owned().ok()?;
        Some(std::process::Stdio::from(fd))
    }
    #[cfg(windows)]
    {
        use std::os::windows::io::AsHandle;
        let handle = std::io::stderr().as_handle().try_clone_to_owned().ok()?;
        Some(std::process::Stdio::from(handle))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_values_keep_allowed_characters_only() {
        assert_eq!(
            tag_value("INC-42: db down; ssh $(x)"),
            "INC-42: db down_ ssh __x_"
        );
        assert_eq!(tag_value(&"a".repeat(300)).len(), 256);
        // Pasted from a ticket: tabs and line breaks are not \p{Z}.
        assert_eq!(tag_value("INC-7\tdb\r\ndown"), "INC-7_db__down");
        // Letters of any script stay; combining marks and format characters do not.
        assert_eq!(tag_value("Lösung ½ ३"), "Lösung ½ ३");
        assert_eq!(tag_value("o\u{308}\u{200B}\u{202E}"), "o___");
    }

    #[test]
    fn break_glass_is_capped_at_an_hour_by_default() {
        let mut p = ProfilePolicy {
            break_glass: true,
            ..Default::default()
        };
        assert_eq!(max_duration(&p), Some(Duration::from_secs(3600)));
        p.max_duration = Some(Duration::from_secs(900));
        assert_eq!(max_duration(&p), Some(Duration::from_secs(900)));
        assert_eq!(max_duration(&ProfilePolicy::default()), None);
    }

    #[test]
    fn a_missing_reason_is_refused() {
        let p = ProfilePolicy {
            require_reason: true,
            ..Default::default()
        };
        assert!(check("x", &p, None, true, false).is_err());
        assert!(matches!(
            check("x", &p, Some("  "), true, false),
            Err(PolicyError::NotAReason { .. })
        ));
        assert!(check("x", &p, Some("\u{3164}\u{3164}\u{3164}"), true, false).is_err());
        assert!(check("x", &p, Some("INC-1"), true, false).is_ok());
    }
}
