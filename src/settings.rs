//! broker's own settings: `config.toml`, read once, strictly (an unknown key is an error naming
//! it), into plain values. Flags and environment are layered on top in [`crate::context`].
//!
//! Never holds a secret: config.toml has none to hold.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::duration;
pub use crate::policy::rules::{parse_toml, ParseError};
use crate::policy::rules::{RoleRule, Rule, Rules};
use crate::vault::BackendKind;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub backend: Option<BackendKind>,
    pub file_dir: Option<String>,
    #[serde(default)]
    pub session: SessionSettings,
    #[serde(default)]
    pub mfa: MfaSettings,
    #[serde(default)]
    pub audit: AuditSettings,
    #[serde(default)]
    pub file: FileSettings,
    #[serde(default)]
    pub credential_process: CredentialProcessSettings,
    /// Policy rules by AWS profile name, `[profile.NAME]`.
    #[serde(default)]
    pub profile: BTreeMap<String, Rule>,
    /// Policy rules by role ARN glob, `[[role]]`.
    #[serde(default)]
    pub role: Vec<RoleRule>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionSettings {
    #[serde(default, deserialize_with = "duration::deserialize_opt")]
    pub min_ttl: Option<Duration>,
    #[serde(default, deserialize_with = "duration::deserialize_opt")]
    pub session_token_duration: Option<Duration>,
    #[serde(default, deserialize_with = "duration::deserialize_opt")]
    pub assume_role_duration: Option<Duration>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MfaSettings {
    pub prompt: Option<MfaPrompt>,
    /// How long an `mfa_process` may run (default 60s).
    #[serde(default, deserialize_with = "duration::deserialize_opt")]
    pub process_timeout: Option<Duration>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MfaPrompt {
    #[default]
    Terminal,
    Zenity,
    Kdialog,
    Osascript,
}

/// `[file]`: the file backend.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    /// A shell command whose stdout is the vault's passphrase.
    pub passphrase_command: Option<String>,
}

/// `[credential_process]`: the profiles' `credential_process` commands.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialProcessSettings {
    /// How long one may run (default 60s).
    #[serde(default, deserialize_with = "duration::deserialize_opt")]
    pub timeout: Option<Duration>,
}

/// `[audit]`: where the log is, and where its records are shipped.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSettings {
    pub path: Option<String>,
    /// Also send each record to the local syslog (facility authpriv, tag broker).
    #[serde(default)]
    pub syslog: bool,
    /// A command run once per record, with the record's JSON line on stdin.
    #[serde(default)]
    pub command: Vec<String>,
    /// How long `command` may run per record (default 10s).
    #[serde(default, deserialize_with = "duration::deserialize_opt")]
    pub command_timeout: Option<Duration>,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("broker's settings file {path} does not exist")]
    Missing { path: PathBuf },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config file {path}: {source}")]
    Parse {
        path: PathBuf,
        #[source]
        source: ParseError,
    },
}

impl Settings {
    /// Reads `path`; a missing file means all defaults, unless it was named explicitly.
    pub fn load(path: &Path, must_exist: bool) -> Result<Settings, SettingsError> {
        let read_error = |source| SettingsError::Read {
            path: path.to_owned(),
            source,
        };
        let bytes = match crate::fsutil::read_user_file(path, crate::fsutil::SETTINGS_CAP) {
            Ok(Some(bytes)) => bytes,
            Ok(None) if !must_exist => return Ok(Settings::default()),
            Ok(None) => {
                return Err(SettingsError::Missing {
                    path: path.to_owned(),
                })
            }
            Err(e) => return Err(read_error(e)),
        };
        let text = String::from_utf8(bytes)
            .map_err(|_| read_error(std::io::Error::other("not UTF-8 text")))?;
        Settings::parse(&text).map_err(|source| SettingsError::Parse {
            path: path.to_owned(),
            source,
        })
    }

    /// Parses config.toml text; the error reads `line N: what is wrong`.
    pub fn parse(text: &str) -> Result<Settings, ParseError> {
        parse_toml(text)
    }

    /// The policy rules, taken out of the settings (for [`crate::policy::Policy`]).
    pub fn take_rules(&mut self) -> Rules {
        Rules {
            profile: std::mem::take(&mut self.profile),
            role: std::mem::take(&mut self.role),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const README_EXAMPLE: &str = r#"
backend = "secret-service"     # secret-service | keychain | wincred | keyutils | file
file_dir = "~/.local/share/broker/vault"   # for the file backend

[session]
min_ttl = "15m"
session_token_duration = "8h"
assume_role_duration = "1h"

[mfa]
prompt = "terminal"

[credential_process]
timeout = "30s"

[audit]
path = "~/.local/state/broker/audit.jsonl"
syslog = true
command = ["/usr/local/bin/ship-audit", "--stream", "broker"]
command_timeout = "5s"

[profile.breakglass]
break_glass = true
require_reason = true
max_duration = "1h"
notify_command = ["/usr/local/bin/page-oncall"]
tag_reason = true

[[role]]
arn = "arn:aws:iam::*:role/*BreakGlass*"
break_glass = true
reason_pattern = "^(INC|CHG)-[0-9]+"
approve_command = ["/usr/local/bin/approve-break-glass"]
approve_timeout = "5m"
"#;

    #[test]
    fn accepts_every_key_of_the_spec_example() {
        let s = Settings::parse(README_EXAMPLE).unwrap();
        assert_eq!(s.backend, Some(BackendKind::SecretService));
        assert_eq!(s.session.min_ttl, Some(Duration::from_secs(900)));
        assert_eq!(
            s.session.session_token_duration,
            Some(Duration::from_secs(8 * 3600))
        );
        assert_eq!(s.mfa.prompt, Some(MfaPrompt::Terminal));
        assert_eq!(s.credential_process.timeout, Some(Duration::from_secs(30)));
        assert!(s.audit.syslog);
        assert_eq!(s.audit.command[0], "/usr/local/bin/ship-audit");
        assert_eq!(s.audit.command_timeout, Some(Duration::from_secs(5)));
        let p = &s.profile["breakglass"];
        assert!(p.break_glass && p.require_reason && p.tag_reason);
        assert_eq!(p.max_duration, Some(Duration::from_secs(3600)));
        assert_eq!(p.notify_command, vec!["/usr/local/bin/page-oncall"]);
        let role = &s.role[0];
        assert!(role
            .arn
            .matches("arn:aws:iam::123456789012:role/SecurityBreakGlassRole"));
        assert!(role.rule.break_glass);
        assert!(role.rule.reason_pattern.as_ref().unwrap().is_match("CHG-7"));
        assert_eq!(role.rule.approve_timeout, Some(Duration::from_secs(300)));
    }

    #[test]
    fn unknown_key_is_named_with_its_line() {
        let err = Settings::parse("backend = \"file\"\n[session]\nmin_tll = \"15m\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("line 3: unknown field `min_tll`"), "{err}");
    }

    #[test]
    fn bad_duration_and_bad_type_are_errors() {
        let err = Settings::parse("[session]\nmin_ttl = \"soon\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("invalid duration `soon`"), "{err}");
        let err = Settings::parse("[profile.x]\nbreak_glass = \"yes\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("line 2:"), "{err}");
        let err = Settings::parse("backend = \"floppy\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("floppy"), "{err}");
    }
}
