//! The export formats: env, sh, fish, powershell, json (`credential_process`), ini.
//!
//! Every value printed for a shell to `eval` is quoted for that shell, so no profile name or
//! value can inject code. This is the one module that writes secrets as text, to stdout only.

use secrecy::ExposeSecret;
use serde::Serialize;

use crate::credentials::Credentials;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Env,
    Sh,
    Fish,
    Powershell,
    Json,
    Ini,
}

impl Format {
    pub const ALL: [Format; 6] = [
        Format::Env,
        Format::Sh,
        Format::Fish,
        Format::Powershell,
        Format::Json,
        Format::Ini,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::Env => "env",
            Format::Sh => "sh",
            Format::Fish => "fish",
            Format::Powershell => "powershell",
            Format::Json => "json",
            Format::Ini => "ini",
        }
    }

    /// What the format is, in a few words.
    pub fn about(self) -> &'static str {
        match self {
            Format::Env => "`KEY=value` lines",
            Format::Sh => "`export KEY='value'` lines, safe to `eval` in sh, bash and zsh",
            Format::Fish => "`set -gx KEY 'value'` lines for fish",
            Format::Powershell => "`$env:KEY = 'value'` lines for PowerShell",
            Format::Json => "The AWS `credential_process` JSON",
            Format::Ini => "A credentials-file section",
        }
    }

    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FormatError {
    #[error("the {0} format cannot carry this value (a line break, a control character, or for ini also surrounding blanks or a comment sign)")]
    Unrepresentable(&'static str),
    #[error("profile name `{0}` cannot be an ini section name")]
    BadSection(String),
}

/// The environment variables that carry `credentials` (and the region, when known).
pub fn variables(credentials: &Credentials, region: Option<&str>) -> Vec<(&'static str, String)> {
    let mut vars = vec![
        ("AWS_ACCESS_KEY_ID", credentials.access_key_id.clone()),
        (
            "AWS_SECRET_ACCESS_KEY",
            credentials.secret_access_key.expose_secret().to_string(),
        ),
    ];
    if let Some(token) = &credentials.session_token {
        vars.push(("AWS_SESSION_TOKEN", token.expose_secret().to_string()));
    }
    if let Some(expiration) = credentials.expiration_rfc3339() {
        vars.push(("AWS_CREDENTIAL_EXPIRATION", expiration));
    }
    if let Some(region) = region {
        vars.push(("AWS_REGION", region.to_string()));
        vars.push(("AWS_DEFAULT_REGION", region.to_string()));
    }
    vars
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ProcessJson<'a> {
    version: u8,
    access_key_id: &'a str,
    secret_access_key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expiration: Option<String>,
}

/// Renders `credentials` for `profile` in `format`.
pub fn render(
    format: Format,
    profile: &str,
    credentials: &Credentials,
    region: Option<&str>,
) -> Result<String, FormatError> {
    let vars = variables(credentials, region);
    let lines = |line: fn(&str, &str) -> String| -> String {
        vars.iter().map(|(k, v)| line(k, v) + "\n").collect()
    };
    // A control character survives shell quoting but not a terminal, a paste or a later
    // `read`: the line-oriented formats refuse it rather than hand it on.
    let controls = vars.iter().any(|(_, v)| v.chars().any(char::is_control));
    let refuse = |name| match controls {
        true => Err(FormatError::Unrepresentable(name)),
        false => Ok(()),
    };
    Ok(match format {
        Format::Env => {
            refuse("env")?;
            lines(|k, v| format!("{k}={v}"))
        }
        Format::Sh => {
            refuse("sh")?;
            lines(|k, v| format!("export {k}={}", sh_quote(v)))
        }
        Format::Fish => {
            refuse("fish")?;
            lines(|k, v| format!("set -gx {k} {};", fish_quote(v)))
        }
        Format::Powershell => {
            refuse("powershell")?;
            lines(|k, v| format!("$env:{k} = {}", powershell_quote(v)))
        }
        Format::Json => {
            let json = ProcessJson {
                version: 1,
                access_key_id: &credentials.access_key_id,
                secret_access_key: credentials.secret_access_key.expose_secret(),
                session_token: credentials
                    .session_token
                    .as_ref()
                    .map(|t| t.expose_secret()),
                expiration: credentials.expiration_rfc3339(),
            };
            serde_json::to_string(&json).expect("strings serialise") + "\n"
        }
        Format::Ini => {
            if profile.is_empty()
                || profile
                    .chars()
                    .any(|c| c.is_control() || matches!(c, '[' | ']' | '#' | ';'))
            {
                return Err(FormatError::BadSection(profile.to_string()));
            }
            let mut out = format!("[{profile}]\n");
            out += &format!("aws_access_key_id = {}\n", credentials.access_key_id);
            out += &format!(
                "aws_secret_access_key = {}\n",
                credentials.secret_access_key.expose_secret()
            );
            if let Some(token) = &credentials.session_token {
                out += &format!("aws_session_token = {}\n", token.expose_secret());
            }
            if let Some(region) = region {
                out += &format!("region = {region}\n");
            }
            if !vars.iter().all(|(_, v)| ini_value_ok(v)) {
                return Err(FormatError::Unrepresentable("ini"));
            }
            out
        }
    })
}

/// Whether an ini value reads back unchanged through the AWS profile parser, which trims
/// blanks around a value and starts a comment at `#` or `;` after whitespace (found by fuzzing).
fn ini_value_ok(value: &str) -> bool {
    !value.chars().any(char::is_control)
        && value.trim_matches([' ', '\t']) == value
        && !value.starts_with(['#', ';'])
        && !value
            .chars()
            .zip(value.chars().skip(1))
            .any(|(a, b)| a.is_whitespace() && matches!(b, '#' | ';'))
}

/// POSIX single quotes: everything literal; a `'` becomes `'\''`.
pub fn sh_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// fish single quotes: only `\` and `'` are special inside.
pub fn fish_quote(value: &str) -> String {
    format!("'{}'", value.replace('\\', r"\\").replace('\'', r"\'"))
}

/// PowerShell single quotes: everything literal; a `'` (or typographic quote) is doubled.
pub fn powershell_quote(value: &str) -> String {
    let mut out = String::from("'");
    for c in value.chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ini_refuses_values_the_parser_would_change() {
        for bad in ["s ;x", ";x", "s\u{a0}#x", " padded ", "line\nbreak"] {
            assert!(!ini_value_ok(bad), "{bad:?}");
        }
        for good in ["wJalr/K7+MDENG", "a#b", "a;b", "x=y"] {
            assert!(ini_value_ok(good), "{good:?}");
        }
    }

    #[test]
    fn quoting_neutralises_shell_syntax() {
        let hostile = "x'; rm -rf ~; echo '$(id)`id`\\";
        assert_eq!(sh_quote(hostile), r"'x'\''; rm -rf ~; echo '\''$(id)`id`\'");
        assert_eq!(fish_quote(hostile), r"'x\'; rm -rf ~; echo \'$(id)`id`\\'");
        assert_eq!(
            powershell_quote(hostile),
            "'x''; rm -rf ~; echo ''$(id)`id`\\'"
        );
        assert_eq!(powershell_quote("a\u{2019}b"), "'a\u{2019}\u{2019}b'");
    }
}
