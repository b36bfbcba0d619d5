//! aws-vault compatibility in one place: its flags (accepted as hidden aliases of broker's),
//! its variables (honoured after broker's own), the names it gives backends and MFA prompts,
//! and the page `broker help aws-vault` prints from the same tables as the guide's (docs/aws-vault.md).
//!
//! Only tables and mappings: parsing is clap's (`cli`, `commands`), reading the environment is
//! [`crate::environment`]'s, and precedence is settled in [`crate::context`].

use crate::settings::MfaPrompt;
use crate::vault::BackendKind;

/// One aws-vault flag and what broker makes of it.
pub struct Flag {
    /// The aws-vault command (`""` for a global flag).
    pub command: &'static str,
    /// Its spellings in aws-vault, as typed.
    pub spellings: &'static [&'static str],
    /// broker's form of it.
    pub broker: &'static str,
}

/// Every aws-vault flag broker accepts (hidden from the main help), with its broker form.
pub const FLAGS: &[Flag] = &[
    Flag {
        command: "exec",
        spellings: &["-j", "--json"],
        broker: "broker export --format json",
    },
    Flag {
        command: "exec",
        spellings: &["-s", "--ecs-server"],
        broker: "exec --server",
    },
    Flag {
        command: "exec",
        spellings: &["--ec2-server"],
        broker: "exec --ec2-server",
    },
    Flag {
        command: "exec",
        spellings: &["--lazy"],
        broker: "exec --lazy",
    },
    Flag {
        command: "export",
        spellings: &["--format=export-env"],
        broker: "export --format sh",
    },
    Flag {
        command: "login",
        spellings: &["-s"],
        broker: "login --stdout",
    },
    Flag {
        command: "remove",
        spellings: &["-s", "--sessions-only"],
        broker: "broker clear PROFILE",
    },
    Flag {
        command: "list",
        spellings: &["--profiles"],
        broker: "list (the profile names only)",
    },
    Flag {
        command: "list",
        spellings: &["--sessions"],
        broker: "list (profiles with cached sessions)",
    },
    Flag {
        command: "list",
        spellings: &["--credentials"],
        broker: "list (profiles with stored keys)",
    },
    Flag {
        command: "rotate",
        spellings: &["-n", "--no-session"],
        broker: "rotate (IAM calls with the stored keys, no MFA session)",
    },
    Flag {
        command: "",
        spellings: &["--debug"],
        broker: "-v",
    },
    Flag {
        command: "",
        spellings: &["--prompt"],
        broker: "[mfa] prompt in config.toml",
    },
    Flag {
        command: "",
        spellings: &["--keychain"],
        broker: "where `import --from-aws-vault` looks (broker's items stay in the login keychain)",
    },
];

/// Every aws-vault variable broker honours, with the broker setting it stands in for. broker's
/// own variable wins when both are set; both beat config.toml and the AWS profile.
pub const VARIABLES: &[(&str, &str)] = &[
    ("AWS_VAULT_BACKEND", "BROKER_BACKEND (keyctl is keyutils)"),
    ("AWS_VAULT_FILE_DIR", "BROKER_FILE_DIR"),
    (
        "AWS_VAULT_FILE_PASSPHRASE",
        "BROKER_FILE_PASSPHRASE (never passed to a child)",
    ),
    ("AWS_VAULT_PROMPT", "[mfa] prompt"),
    (
        "AWS_VAULT_KEYCHAIN_NAME",
        "the keychain `import --from-aws-vault` reads",
    ),
    (
        "AWS_VAULT_SECRET_SERVICE_COLLECTION_NAME",
        "the collection `import --from-aws-vault` reads",
    ),
    ("AWS_VAULT_PASS_PASSWORD_STORE_DIR", "BROKER_PASS_DIR"),
    ("AWS_VAULT_PASS_CMD", "BROKER_PASS_CMD"),
    ("AWS_VAULT_PASS_PREFIX", "BROKER_PASS_PREFIX"),
    (
        "AWS_SESSION_TOKEN_TTL",
        "[session] session_token_duration (profiles without a role)",
    ),
    (
        "AWS_CHAINED_SESSION_TOKEN_TTL",
        "[session] session_token_duration (the MFA session under roles)",
    ),
    (
        "AWS_ASSUME_ROLE_TTL",
        "duration_seconds and [session] assume_role_duration, every role",
    ),
    ("AWS_FEDERATION_TOKEN_TTL", "login's duration for IAM users"),
    ("AWS_MIN_TTL", "[session] min_ttl"),
    ("AWS_MFA_SERIAL", "mfa_serial of every profile"),
];

/// What `broker help aws-vault` prints.
pub fn help_page() -> String {
    let mut page = String::from(
        "aws-vault's flags and variables, as broker reads them\n\n\
         broker accepts aws-vault's flags (hidden from the other help pages) and honours its \
         variables after broker's own: a flag beats broker's variable, which beats aws-vault's, \
         which beats config.toml and the AWS profile. `-v` says which variable was used. \
         Durations in aws-vault's variables are Go's: 1h, 90m, 1h30m, 1.5h.\n\nFlags:\n",
    );
    for flag in FLAGS {
        let command = if flag.command.is_empty() {
            String::new()
        } else {
            format!("{} ", flag.command)
        };
        page.push_str(&format!(
            "  aws-vault {command}{}\n      {}\n",
            flag.spellings.join(", ").replace('=', " "),
            flag.broker
        ));
    }
    page.push_str("\nVariables:\n");
    for (name, broker) in VARIABLES {
        page.push_str(&format!("  {name}\n      {broker}\n"));
    }
    page.push_str(
        "\nNot honoured: AWS_ROLE_ARN, AWS_ROLE_SESSION_NAME, AWS_SESSION_TAGS, \
         AWS_TRANSITIVE_TAGS, AWS_SOURCE_IDENTITY (they would change roles behind the \
         config's back), AWS_VAULT_BIOMETRICS; the prompt drivers ykman, wincredui and pass \
         (use mfa_process).\n\nYour keys in aws-vault's stores: broker import --from-aws-vault\n\
         In the current shell: eval \"$(broker shell-init bash)\", then broker use PROFILE",
    );
    page
}

/// The aws-vault flags spelled `arg` (`--sessions-only`, `-s`, `--format=export-env`).
pub fn flags_spelled(arg: &str) -> Vec<&'static Flag> {
    let bare = arg.split('=').next().unwrap_or(arg);
    FLAGS
        .iter()
        .filter(|f| {
            f.spellings
                .iter()
                .any(|s| *s == arg || (!s.contains('=') && *s == bare))
        })
        .collect()
}

/// What an aws-vault backend name (of `AWS_VAULT_BACKEND`) is in broker, or why it has none.
pub fn backend(name: &str) -> Result<BackendKind, String> {
    if name.eq_ignore_ascii_case("keyctl") {
        return Ok(BackendKind::Keyutils);
    }
    if let Some(kind) = BackendKind::from_name(name) {
        return Ok(kind);
    }
    Err(match name.to_ascii_lowercase().as_str() {
        "kwallet" => "broker has no kwallet backend; KWallet serves the Secret Service API: \
                      use secret-service"
            .to_string(),
        "op" | "op-connect" | "op-desktop" | "passage" | "proton-pass" => format!(
            "broker has no {name} backend; use one of: {}",
            backend_names()
        ),
        _ => format!("unknown backend; use one of: {}", backend_names()),
    })
}

fn backend_names() -> String {
    BackendKind::ALL.map(BackendKind::name).join(", ")
}

/// What an aws-vault MFA prompt driver (`--prompt`, `AWS_VAULT_PROMPT`) is in broker, or why
/// it has none.
pub fn prompt(name: &str) -> Result<MfaPrompt, String> {
    match name.to_ascii_lowercase().as_str() {
        "terminal" => Ok(MfaPrompt::Terminal),
        "zenity" => Ok(MfaPrompt::Zenity),
        "kdialog" => Ok(MfaPrompt::Kdialog),
        "osascript" => Ok(MfaPrompt::Osascript),
        "ykman" | "wincredui" | "pass" => Err(format!(
            "broker has no {name} prompt; set mfa_process in the profile to a command that \
             prints the code (for a YubiKey: `ykman oath accounts code --single NAME`)"
        )),
        _ => Err("unknown prompt; use one of: terminal, zenity, kdialog, osascript".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_vault_names_map_or_say_why_not() {
        assert_eq!(backend("keyctl"), Ok(BackendKind::Keyutils));
        assert_eq!(backend("secret-service"), Ok(BackendKind::SecretService));
        assert_eq!(backend("pass"), Ok(BackendKind::Pass));
        assert!(backend("kwallet").unwrap_err().contains("secret-service"));
        assert!(backend("op").unwrap_err().contains("no op backend"));
        assert_eq!(prompt("zenity"), Ok(MfaPrompt::Zenity));
        assert!(prompt("ykman").unwrap_err().contains("mfa_process"));
    }

    #[test]
    fn flags_are_found_by_any_spelling() {
        let commands = |arg| {
            flags_spelled(arg)
                .iter()
                .map(|f| f.command)
                .collect::<Vec<_>>()
        };
        assert_eq!(commands("--sessions-only"), ["remove"]);
        assert_eq!(commands("-s"), ["exec", "login", "remove"]);
        assert_eq!(commands("--format=export-env"), ["export"]);
        assert_eq!(commands("--prompt=zenity"), [""]);
        assert!(commands("--format=json").is_empty());
    }

    /// The guide's compatibility table (docs/aws-vault.md) names every flag and variable of the
    /// help page.
    #[test]
    fn the_readme_lists_every_flag_and_variable() {
        let readme = include_str!("../docs/aws-vault.md");
        for flag in FLAGS {
            for spelling in flag.spellings {
                let spelling = spelling.replace('=', " ");
                assert!(
                    readme.contains(&spelling),
                    "docs/aws-vault.md lacks {spelling}"
                );
            }
        }
        for (name, _) in VARIABLES {
            assert!(readme.contains(name), "docs/aws-vault.md lacks {name}");
        }
    }
}
