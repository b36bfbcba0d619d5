//! Policy: rules, by profile name and by role ARN, from the system policy file (the
//! organisation's floor) and the user's config.toml, that ask for a reason (matching a
//! pattern), a typed break-glass confirmation, an approval, a cap on durations, the reason as a
//! session tag, and notifications. The rules a chain matches apply together, the strictest
//! winning ([`effective`]); nothing in config.toml can loosen the system file's.
//!
//! The commands `approve_command` and `notify_command` run ([`hooks`]) get context in
//! `BROKER_*` variables and never a credential.

pub mod effective;
mod hooks;
pub mod rules;
pub mod system;

use crate::sanitize::escape;

pub use effective::{Anchor, Effective, Matched, Place, Policy};
pub use hooks::{approve, notify, Denial, Notice};
pub use system::{FloorError, SystemPolicy};

/// A request the policy refuses.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("profile {profile} requires a reason")]
    NoReason {
        profile: String,
        /// The rules that require it.
        rules: String,
    },
    #[error(
        "profile {profile} requires a reason, and `{given}` is not one: a reason needs at least \
         {min} visible letters or digits",
        min = crate::sanitize::REASON_MIN_VISIBLE
    )]
    NotAReason {
        profile: String,
        given: String,
        rules: String,
    },
    #[error("the reason `{reason}` does not match the reason_pattern `{pattern}` of {origin}")]
    ReasonPattern {
        reason: String,
        pattern: String,
        origin: String,
    },
    #[error("break-glass profile {profile} needs confirmation: {why}")]
    NotConfirmed { profile: String, why: String },
    #[error("break-glass confirmation for {profile} did not match; nothing was issued")]
    Mismatch { profile: String },
    #[error(
        "profile {profile} caps its credentials' duration, so --no-session may not hand out its \
         long-term keys"
    )]
    LongTermKeys { profile: String },
    #[error("approve_command {program} of {origin} refused: {why}")]
    NotApproved {
        program: String,
        origin: String,
        #[source]
        why: Denial,
    },
}

type Result<T> = std::result::Result<T, PolicyError>;

/// Checks the reason as given (`--reason`) against every rule that applies (is there one; does
/// it match every `reason_pattern`) and, for break-glass, the typed confirmation; a chain whose
/// policy caps its durations also refuses to hand out its long-term keys (`--no-session`
/// without a role), which have no expiry to cap. An `Err` is a refusal. A given reason that is
/// not one (see [`crate::sanitize::is_reason`]) satisfies nothing; where none is required, it
/// is left out of the record with a warning.
pub fn check(
    profile: &str,
    policy: &Effective,
    given: Option<&str>,
    yes: bool,
    long_term_keys: bool,
) -> Result<()> {
    let required = policy.require_reason();
    let rules =
        || policy.origins_of(|r| r.require_reason || r.break_glass || r.reason_pattern.is_some());
    match given.map(str::trim) {
        Some(text) if !crate::sanitize::is_reason(text) => {
            if required {
                return Err(PolicyError::NotAReason {
                    profile: profile.to_string(),
                    given: escape(text).into_owned(),
                    rules: rules(),
                });
            }
            crate::output::notice(&format!(
                "warning: --reason `{}` is not recorded: a reason needs at least {} visible \
                 letters or digits",
                escape(text),
                crate::sanitize::REASON_MIN_VISIBLE
            ));
        }
        Some(reason) => {
            if let Some((pattern, origin)) =
                policy.reason_patterns().find(|(p, _)| !p.is_match(reason))
            {
                return Err(PolicyError::ReasonPattern {
                    reason: escape(reason).into_owned(),
                    pattern: escape(pattern.as_str()).into_owned(),
                    origin: origin.to_string(),
                });
            }
        }
        None if required => {
            return Err(PolicyError::NoReason {
                profile: profile.to_string(),
                rules: rules(),
            })
        }
        None => {}
    }
    if long_term_keys && policy.max_duration().is_some() {
        return Err(PolicyError::LongTermKeys {
            profile: profile.to_string(),
        });
    }
    if policy.break_glass() && !yes {
        let typed = crate::tty::ask(&confirmation_prompt(profile, policy)).map_err(|e| {
            PolicyError::NotConfirmed {
                profile: profile.to_string(),
                why: e.to_string(),
            }
        })?;
        if typed.trim() != profile {
            return Err(PolicyError::Mismatch {
                profile: profile.to_string(),
            });
        }
    }
    Ok(())
}

/// What the break-glass confirmation says: the role that makes it break-glass, when a role
/// rule does.
fn confirmation_prompt(profile: &str, policy: &Effective) -> String {
    let by_role = policy.applied.iter().find_map(|a| match &a.matched {
        Matched::Role { arn, .. } if a.rule.break_glass => Some((arn, &a.origin)),
        _ => None,
    });
    let what = match by_role {
        Some((arn, origin)) => format!(
            "{} assumes {}, a break-glass role ({origin})",
            escape(profile),
            escape(arn)
        ),
        None => format!("{} is a break-glass profile", escape(profile)),
    };
    format!("{what}; this use is audited.\nType the profile name to confirm: ")
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::parse_toml;

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

    /// The policy of a chain whose only place is profile `x`, under `rules` (config.toml).
    fn effective(rules: &str) -> Effective {
        let policy = Policy {
            user: parse_toml(rules).unwrap(),
            ..Policy::default()
        };
        policy.evaluate(&[Place {
            anchor: Anchor::Source,
            profile: "x".into(),
            role_arns: Vec::new(),
        }])
    }

    #[test]
    fn break_glass_is_capped_at_an_hour_by_default() {
        let hour = Some(std::time::Duration::from_secs(3600));
        assert_eq!(
            effective("[profile.x]\nbreak_glass = true\n").max_duration(),
            hour
        );
        assert_eq!(
            effective("[profile.x]\nbreak_glass = true\nmax_duration = \"15m\"\n").max_duration(),
            Some(std::time::Duration::from_secs(900))
        );
        assert_eq!(effective("[profile.x]\n").max_duration(), None);
    }

    #[test]
    fn a_missing_reason_is_refused() {
        let p = effective("[profile.x]\nrequire_reason = true\n");
        assert!(matches!(
            check("x", &p, None, true, false),
            Err(PolicyError::NoReason { rules, .. }) if rules == "user:profile.x"
        ));
        assert!(matches!(
            check("x", &p, Some("  "), true, false),
            Err(PolicyError::NotAReason { .. })
        ));
        assert!(check("x", &p, Some("\u{3164}\u{3164}\u{3164}"), true, false).is_err());
        assert!(check("x", &p, Some("INC-1"), true, false).is_ok());
    }

    #[test]
    fn every_reason_pattern_must_match() {
        let p = effective(
            "[profile.x]\nreason_pattern = \"^INC-\"\n[profile.y]\nreason_pattern = \"never\"\n",
        );
        assert!(
            check("x", &p, None, true, false).is_err(),
            "a pattern needs a reason"
        );
        assert!(check("x", &p, Some(" INC-42 "), true, false).is_ok());
        let err = check("x", &p, Some("fix db"), true, false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the reason `fix db` does not match the reason_pattern `^INC-` of user:profile.x"
        );
    }
}
