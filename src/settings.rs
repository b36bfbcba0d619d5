//! broker's own settings: `config.toml`, read once, strictly (an unknown key is an error naming
//! it), into plain values. Flags and environment are layered on top in [`crate::context`].
//!
//! Never holds a secret: config.toml has none to hold.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::duration;
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
    #[serde(default)]
    pub profile: BTreeMap<String, ProfilePolicy>,
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

/// Per-profile policy, `[profile.NAME]`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfilePolicy {
    #[serde(default)]
    pub break_glass: bool,
    #[serde(default)]
    pub require_reason: bool,
    #[serde(default, deserialize_with = "duration::deserialize_opt")]
    pub max_duration: Option<Duration>,
    #[serde(default)]
    pub notify_command: Vec<String>,
    #[serde(default)]
    pub tag_reason: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
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

/// config.toml text that does not parse: what is wrong, and on which line when TOML says.
#[derive(Debug, thiserror::Error)]
#[error("{}{}", .line.map(|l| format!("line {l}: ")).unwrap_or_default(), .source.message().trim())]
pub struct ParseError {
    pub line: Option<usize>,
    source: Box<toml::de::Error>,
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
            Ok(None) => return Err(read_error(std::io::ErrorKind::NotFound.into())),
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
        toml::from_str(text).map_err(|source: toml::de::Error| ParseError {
            line: source
                .span()
                .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1),
            source: Box::new(source),
        })
    }

    pub fn policy(&self, profile: &str) -> Option<&ProfilePolicy> {
        self.profile.get(profile)
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
        let p = s.policy("breakglass").unwrap();
        assert!(p.break_glass && p.require_reason && p.tag_reason);
        assert_eq!(p.max_duration, Some(Duration::from_secs(3600)));
        assert_eq!(p.notify_command, vec!["/usr/local/bin/page-oncall"]);
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
