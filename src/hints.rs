//! Every hint in one place: each module's error enum becomes an [`Error`] here, with the next
//! step to suggest (the README's list of errors). The modules whose errors these are never
//! import this one: `?` finds the `From` conversions by itself.

use crate::aws::{AwsCode, AwsError};
use crate::error::Error;
use crate::exit_codes;

/// Builds the [`Error`] of a module's error enum: its text, its causes, and the hint.
fn hinted(error: impl std::error::Error + Send + Sync + 'static, hint: Option<String>) -> Error {
    let err = Error::from_error(error);
    match hint {
        Some(h) => err.with_hint(h),
        None => err,
    }
}

const FIX_PROFILE: &str = "fix the profile in the AWS config";
const LIST_PROFILES: &str = "`broker list` shows the profiles of the AWS config";
const USE_FILE_BACKEND: &str = "use `--backend file` (an encrypted file vault; its passphrase is \
     asked on the terminal, or read from BROKER_FILE_PASSPHRASE_FILE, [file] passphrase_command \
     or BROKER_FILE_PASSPHRASE: docs/credentials.md in the guide), or start a Secret Service \
     such as gnome-keyring";

impl From<crate::vault::VaultError> for Error {
    fn from(e: crate::vault::VaultError) -> Self {
        use crate::vault::VaultError as V;
        let hint = match &e {
            V::Unavailable {
                why: crate::vault::Unavailability::NoPasswordStore(_),
                ..
            } => Some(
                "set the store up with `pass init GPG-ID`, or name yours in BROKER_PASS_DIR \
                 (or AWS_VAULT_PASS_PASSWORD_STORE_DIR)",
            ),
            V::NoBackend { .. } | V::Unavailable { .. } => Some(USE_FILE_BACKEND),
            V::WrongPassphrase { .. } => Some(
                "check the passphrase (typed, BROKER_FILE_PASSPHRASE, BROKER_FILE_PASSPHRASE_FILE \
                 or [file] passphrase_command); nothing was changed",
            ),
            V::NoPassphrase { .. } | V::PassphraseCommand(_) | V::PassphraseFile { .. } => Some(
                "set [file] passphrase_command in config.toml or BROKER_FILE_PASSPHRASE_FILE, or \
                 run broker from a terminal",
            ),
            V::Corrupt { .. } | V::NotKeys { .. } | V::Unsupported { .. } => {
                Some("store the keys again with `broker add`")
            }
            V::Backend { .. } | V::Store { .. } | V::Io { .. } => None,
        };
        hinted(e, hint.map(str::to_owned))
    }
}

impl From<crate::vault::aws_vault::AwsVaultError> for Error {
    fn from(e: crate::vault::aws_vault::AwsVaultError) -> Self {
        use crate::vault::aws_vault::AwsVaultError as A;
        let hint = match &e {
            A::WrongPassphrase(_) | A::NoPassphrase { .. } => Some(
                "give aws-vault's passphrase in AWS_VAULT_FILE_PASSPHRASE, or type it on the \
                 terminal; nothing was imported"
                    .to_string(),
            ),
            A::Item { .. } | A::Store { .. } => Some(
                "import from the other stores with --aws-vault-backend NAME; nothing was imported"
                    .to_string(),
            ),
        };
        hinted(e, hint)
    }
}

impl From<crate::profiles::ProfilesError> for Error {
    fn from(e: crate::profiles::ProfilesError) -> Self {
        hinted(e, None)
    }
}

impl From<crate::settings::SettingsError> for Error {
    fn from(e: crate::settings::SettingsError) -> Self {
        let hint = match e {
            crate::settings::SettingsError::Missing { .. } => {
                "create it (docs/configuration.md in the guide lists every key), or leave out \
                 --config and BROKER_CONFIG for the defaults"
            }
            _ => "fix the file; docs/configuration.md in the guide lists every key",
        };
        hinted(e, Some(hint.into()))
    }
}

impl From<crate::tty::TtyError> for Error {
    fn from(e: crate::tty::TtyError) -> Self {
        hinted(e, None)
    }
}

impl From<crate::picker::PickError> for Error {
    fn from(e: crate::picker::PickError) -> Self {
        use crate::picker::PickError as P;
        match &e {
            P::NotATerminal { some, total } => {
                let more = match total - some.len() {
                    0 => String::new(),
                    n => format!(" and {n} more"),
                };
                let hint = format!(
                    "name one (or set AWS_PROFILE): {}{more}; `broker list` shows them all",
                    some.join(", ")
                );
                Error::usage(e.to_string()).with_hint(hint)
            }
            P::NoProfiles => {
                let hint = "add one with `broker add PROFILE`, or `broker import` the keys of \
                            ~/.aws/credentials";
                Error::usage(e.to_string()).with_hint(hint)
            }
            P::Cancelled | P::Terminal(_) => hinted(e, None),
        }
    }
}

impl From<crate::net::NetError> for Error {
    fn from(e: crate::net::NetError) -> Self {
        use crate::net::{NetError as N, RetryError as R};
        let hint = match &e {
            N::Proxy(_) => Some("write it as http://[USER:PASSWORD@]HOST:PORT (percent-encode @ and : in the password)"),
            N::Trust(_) => Some(
                "point it at a PEM file of CA certificates (-----BEGIN CERTIFICATE-----), or \
                 unset it to trust the system's roots only",
            ),
            N::Retry(R::Mode { .. }) => Some("use standard or adaptive"),
            N::Retry(R::Attempts { .. }) => {
                Some("give the number of attempts, the first included (0 means 3)")
            }
            N::Runtime(_) => None,
        };
        hinted(e, hint.map(str::to_owned))
    }
}

impl From<crate::chain::ChainError> for Error {
    fn from(e: crate::chain::ChainError) -> Self {
        use crate::chain::ChainError as C;
        let hint = match &e {
            C::UnknownProfile {
                profile,
                none_yet: true,
                ..
            } => Some(format!(
                "there are no profiles yet: `broker add {profile}` stores an IAM user's key as \
                 this profile, and `broker sso profiles` prints the IAM Identity Center ones"
            )),
            C::UnknownProfile { suggestions, .. } => did_you_mean(suggestions),
            C::MissingSource { .. } => Some(LIST_PROFILES.into()),
            C::Cycle(_) => {
                Some("make the last profile of the chain hold keys (no source_profile)".into())
            }
            C::BadArn { .. } | C::BadSetting { .. } | C::Include(_) | C::Endpoint(_) => {
                Some(FIX_PROFILE.into())
            }
            C::NoSsoSession { .. } | C::UnknownSsoSession(_) => Some(
                "add the [sso-session NAME] section (sso_start_url, sso_region) to the AWS config"
                    .into(),
            ),
            C::SsoSessionIncomplete { .. } => Some(
                "an [sso-session] needs sso_start_url and sso_region; see docs/sso.md in the guide"
                    .into(),
            ),
            C::Duration {
                from_flag: true, ..
            } => return Error::usage(e.to_string()),
            C::Duration { error, .. } => Some(match error.place.as_deref() {
                Some(p) if p.starts_with("duration_seconds") => FIX_PROFILE.into(),
                _ => "fix the [session] durations in config.toml".into(),
            }),
        };
        hinted(e, hint)
    }
}

impl From<crate::mfa::MfaError> for Error {
    fn from(e: crate::mfa::MfaError) -> Self {
        use crate::mfa::MfaError as M;
        let hint = match &e {
            M::NoCode { .. } => {
                "give one with --mfa-token CODE, set `mfa_process` in the profile, or run broker \
                 from a terminal"
            }
            M::Malformed => "give the current code from your MFA device with --mfa-token CODE",
            M::Process(_) => {
                "check the mfa_process command in the profile, or give --mfa-token CODE"
            }
            M::Unread(_) | M::UnreadStdin(_) => {
                "send the code on stdin (`echo CODE | broker …`) or run broker from a terminal"
            }
        };
        hinted(e, Some(hint.into()))
    }
}

impl From<crate::audit::AuditError> for Error {
    fn from(e: crate::audit::AuditError) -> Self {
        use crate::audit::AuditError as A;
        let hint = match &e {
            A::Write { .. } => {
                "fix the path or permissions; broker hands out nothing it cannot audit"
            }
            A::Read { .. } => "move a long log aside (rotate it) and keep it for review",
            A::Tampered { .. } => {
                "the lines before the one named are as broker wrote them; compare the log with \
                 a copy shipped to syslog or by [audit] command: `broker history --verify \
                 --against FILE`"
            }
            A::Differs { .. } => {
                "the shipped copy is what broker wrote; review the records the log lacks in it"
            }
        };
        hinted(e, Some(hint.into()))
    }
}

impl From<crate::plan::PlanError> for Error {
    fn from(e: crate::plan::PlanError) -> Self {
        use crate::plan::PlanError as P;
        let hint = match &e {
            P::MfaUnsendable { .. } => {
                "remove mfa_serial, or put it on a role profile of the chain"
            }
            P::NoSessionPerReason { .. } => {
                "give the profile a role to assume (role_arn, with the credential_process \
                 profile as its source_profile): each reason then gets a session of its own"
            }
        };
        hinted(e, Some(hint.into()))
    }
}

impl From<crate::policy::PolicyError> for Error {
    fn from(e: crate::policy::PolicyError) -> Self {
        use crate::policy::PolicyError as P;
        let hint = match &e {
            P::NoReason { rules, .. } | P::NotAReason { rules, .. } => Some(format!(
                "say why with --reason TEXT; it is recorded in the audit log (required by \
                 {rules}; `broker debug resolve PROFILE` shows the rules)"
            )),
            P::ReasonPattern { pattern, .. } => Some(format!(
                "give a reason that matches `{pattern}`, such as your ticket's id"
            )),
            P::NotConfirmed { .. } => Some("run it from a terminal, or confirm with --yes".into()),
            P::Mismatch { .. } => None,
            P::LongTermKeys { .. } => Some("drop --no-session to get temporary credentials".into()),
            P::NotApproved { .. } => Some(
                "nothing was issued; ask whoever runs the approval, or try again once it allows \
                 it"
                .into(),
            ),
        };
        hinted(e, hint)
    }
}

impl From<std::sync::Arc<crate::policy::FloorError>> for Error {
    fn from(e: std::sync::Arc<crate::policy::FloorError>) -> Self {
        use crate::policy::FloorError as F;
        let path = e.path().display();
        let hint = match e.as_ref() {
            F::Untrusted {
                flaw: crate::policy::system::Flaw::Directory { dir, .. },
                ..
            } if cfg!(unix) => format!(
                "an administrator must run: sudo chown root {} && sudo chmod go-w {}",
                dir.display(),
                dir.display()
            ),
            F::Untrusted { .. } if cfg!(unix) => {
                format!(
                    "an administrator must run: sudo chown root {path} && sudo chmod go-w {path}"
                )
            }
            F::Untrusted { .. } => format!(
                "an administrator must make Administrators the owner of {path} and its folder, \
                 and allow no one else to change them"
            ),
            F::Unreadable { .. } => format!(
                "an administrator must make {path} readable by everyone (it holds no secret)"
            ),
            F::Invalid { .. } => format!(
                "an administrator must fix {path}; `broker doctor`, `list` and `debug resolve` \
                 still work"
            ),
        };
        hinted(e.clone(), Some(hint))
    }
}

impl From<crate::rotation::RotateError> for Error {
    fn from(e: crate::rotation::RotateError) -> Self {
        use crate::rotation::RotateError as R;
        let e = match e {
            R::Client(net) => return net.into(),
            e => e,
        };
        let hint = match &e {
            R::NoKey { .. } | R::Client(_) => None,
            R::NotStored { profile } => Some(format!("store them with `broker add {profile}`")),
            R::Create { old_id, source } => Some(match &source.code {
                crate::aws::AwsCode::Other(code) if code == "LimitExceeded" => format!(
                    "nothing changed: the vault still holds {old_id}, which works as before; IAM \
                     allows two keys per user, so delete the unused one first"
                ),
                crate::aws::AwsCode::Other(code) if code == "NoSuchEntity" => format!(
                    "nothing changed: IAM knows no user of the key {old_id}; check that it is an \
                     IAM user's key and the user still exists (`broker exec -n PROFILE -- aws iam \
                     get-user`)"
                ),
                _ => format!(
                    "nothing changed: the vault still holds {old_id}, which works as before"
                ),
            }),
            R::Store {
                old_id, cleanup, ..
            } => Some(format!(
                "the vault still holds {old_id}, which works; {cleanup}"
            )),
            R::Unverified {
                old_id,
                new_id,
                not_restored,
                cleanup,
                ..
            } => Some(match not_restored {
                None => format!("the vault holds {old_id} again, which works; {cleanup}"),
                Some(e) => format!(
                    "putting {old_id} back into the vault failed too ({e}); the vault holds \
                     {new_id}; {cleanup}"
                ),
            }),
            R::DeleteOld { old_id, new_id, .. } => Some(format!(
                "the vault holds the new key {new_id}, which works; delete the old one with `aws \
                 iam delete-access-key --access-key-id {old_id}`"
            )),
        };
        hinted(e, hint)
    }
}

impl From<crate::federation::FederationError> for Error {
    fn from(e: crate::federation::FederationError) -> Self {
        use crate::federation::FederationError as F;
        let manual = "use `broker login --stdout` and open the URL yourself";
        let hint = match &e {
            F::Net(_) => None,
            F::BadUrl { .. } => Some("fix BROKER_FEDERATION_URL"),
            F::Failed { source, .. } => {
                Some(get_hint(source).unwrap_or("check BROKER_FEDERATION_URL and the network"))
            }
            F::Status { .. } | F::NotJson { .. } | F::NoToken { .. } => {
                Some("check BROKER_FEDERATION_URL and the network")
            }
            F::Stolen(_) => Some("someone may be watching your sign-ins; run `broker login` again"),
            F::Again => Some(
                "sign out of the console session if it is not yours, and run `broker login` again",
            ),
            F::NoBrowser | F::Browser(_) => Some(manual),
            F::NotTemporary | F::Stopped | F::Random(_) | F::Listener(_) => None,
        };
        match e {
            F::Net(e) => e.into(),
            e => hinted(e, hint.map(str::to_owned)),
        }
    }
}

impl From<crate::listener::ListenerError> for Error {
    fn from(e: crate::listener::ListenerError) -> Self {
        hinted(e, None)
    }
}

impl From<crate::cache::CacheError> for Error {
    fn from(e: crate::cache::CacheError) -> Self {
        use crate::cache::{CacheError, SecretError};
        match e {
            // The vault's own hint: the cache key is in it.
            CacheError::Key(SecretError::Vault(e)) => e.into(),
            e => hinted(e, None),
        }
    }
}

impl From<crate::format::FormatError> for Error {
    fn from(e: crate::format::FormatError) -> Self {
        hinted(
            e,
            Some("use --format json, which escapes every value".into()),
        )
    }
}

impl From<crate::process::ProcessError> for Error {
    fn from(e: crate::process::ProcessError) -> Self {
        use crate::process::ProcessError as P;
        let code = match &e {
            P::NotFound { .. } => exit_codes::COMMAND_NOT_FOUND,
            P::CannotRun { .. } => exit_codes::CANNOT_EXECUTE,
            _ => exit_codes::FAILURE,
        };
        hinted(e, None).with_exit_code(code)
    }
}

impl From<crate::sso::SsoError> for Error {
    fn from(e: crate::sso::SsoError) -> Self {
        use crate::sso::SsoError as S;
        let login = "run `broker sso login` (with --use-device-code on a machine without a \
                     browser)";
        let hint = match &e {
            S::Aws(aws) => match aws.code {
                AwsCode::Unreachable | AwsCode::Timeout => Some(
                    "check AWS_ENDPOINT_URL_SSO/AWS_ENDPOINT_URL_SSO_OIDC, the sso_region and \
                     the network"
                        .to_string(),
                ),
                _ => aws_hint(aws, ""),
            },
            S::Vault(_) => None,
            S::NotAssigned { .. } => {
                Some("`broker sso profiles` lists the accounts and roles you have".into())
            }
            S::Denied { .. } | S::DeviceCodeExpired { .. } | S::NoCallback { .. } => {
                Some(login.into())
            }
            S::RegistrationExpired => Some(login.into()),
            S::SignInBarred { session, .. } if session.contains("://") => Some(
                "sign in first in a terminal (`broker sso login PROFILE`), then run this again"
                    .into(),
            ),
            S::SignInBarred { session, .. } => Some(format!(
                "sign in first in a terminal (`broker sso login --sso-session {session}`), then \
                 run this again"
            )),
            S::Random(_) | S::Listener(_) | S::BadOidcUrl { .. } => None,
        };
        match e {
            S::Vault(v) => v.into(),
            e => hinted(e, hint),
        }
    }
}

impl From<crate::engine::EngineError> for Error {
    fn from(e: crate::engine::EngineError) -> Self {
        use crate::engine::EngineError as E;
        match e {
            E::Vault(e) => e.into(),
            E::Sso(e) => e.into(),
            E::Mfa(e) => e.into(),
            E::Cache(e) => e.into(),
            E::Aws {
                source_profile,
                error,
            } => {
                let hint = aws_hint(&error, &source_profile);
                hinted(error, hint)
            }
            E::NoKeys {
                ref profile,
                in_aws_files,
                temporary,
                ..
            } => {
                let hint = if temporary {
                    format!(
                        "broker stores long-term keys only: use those temporary credentials as \
                         they are (AWS_PROFILE={profile}, without broker), or store the IAM \
                         user's key with `broker add {profile}`"
                    )
                } else if in_aws_files {
                    format!(
                        "`broker import {profile}` moves them into the vault and removes them \
                         from the file"
                    )
                } else {
                    format!(
                        "store them with `broker add {profile}`, or move them from aws-vault's \
                         stores with `broker import --from-aws-vault {profile}`"
                    )
                };
                hinted(e, Some(hint))
            }
            E::Expired { .. } => hinted(e, Some(CLOCK_THEN_REFRESH.into())),
            E::MfaUnsendable(e) => e.into(),
            E::Net(e) => e.into(),
            E::CredentialProcess(_) | E::TokenFile { .. } | E::NoOwnCredentials { .. } => {
                hinted(e, None)
            }
        }
    }
}

/// The hint for an unknown profile: the closest names, else where to see them all.
pub fn did_you_mean(suggestions: &[String]) -> Option<String> {
    let names: Vec<String> = suggestions.iter().map(|s| format!("`{s}`")).collect();
    let list = match names.as_slice() {
        [] => return Some(LIST_PROFILES.into()),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    };
    Some(format!(
        "did you mean {list}? (`broker list` shows every profile)"
    ))
}

/// The hint for a GET that got no answer because of the network's trust or proxy, if it was.
pub fn get_hint(e: &crate::net::GetError) -> Option<&'static str> {
    use crate::net::diagnose::Kind;
    match e {
        crate::net::GetError::Failed {
            kind: Kind::Untrusted,
            ..
        } => Some(UNTRUSTED),
        crate::net::GetError::Failed {
            kind: Kind::ProxyAuth,
            ..
        } => Some(PROXY_AUTH),
        _ => None,
    }
}

const UNTRUSTED: &str = "if your network inspects TLS, set AWS_CA_BUNDLE (or ca_bundle in the \
     profile) to your organisation's CA bundle";
const PROXY_AUTH: &str = "check the user and password in HTTPS_PROXY (or HTTP_PROXY); \
     percent-encode @ and : in them (%40, %3A)";

const CLOCK_THEN_REFRESH: &str =
    "check that the local clock is right (AWS allows 5 minutes of skew), then run again with \
     --refresh";

/// The next step for an STS or IAM failure (the README's list of STS errors).
pub fn aws_hint(error: &AwsError, source_profile: &str) -> Option<String> {
    let hint = match &error.code {
        AwsCode::AccessDenied if error.is_mfa_failure() => {
            "the MFA code was wrong or already used: wait for the next code and try again".into()
        }
        AwsCode::AccessDenied => "check that the role's trust policy allows this caller, and \
                                  that the caller's permissions allow sts:AssumeRole on it"
            .into(),
        AwsCode::InvalidClientTokenId | AwsCode::SignatureDoesNotMatch => format!(
            "the key stored for profile {source_profile} is wrong or was deleted: store a \
             working one with `broker add {source_profile}` or replace it with `broker rotate \
             {source_profile}`"
        ),
        AwsCode::ExpiredToken => CLOCK_THEN_REFRESH.into(),
        AwsCode::Throttling => {
            "STS kept throttling the request after retries: wait a little and try again".into()
        }
        AwsCode::Unreachable | AwsCode::Timeout => "check endpoint_url in the profile, \
                                                    AWS_ENDPOINT_URL/AWS_ENDPOINT_URL_STS, and \
                                                    the network"
            .into(),
        AwsCode::BadResponse => "the endpoint does not look like STS: check endpoint_url".into(),
        AwsCode::Untrusted => UNTRUSTED.into(),
        AwsCode::ProxyAuth => PROXY_AUTH.into(),
        AwsCode::RegionDisabled => "activate STS in that region, or use --region".into(),
        AwsCode::Unauthorized => "sign in again with `broker sso login`".into(),
        AwsCode::Forbidden => "`broker sso profiles` lists the accounts and roles you have".into(),
        AwsCode::Other(_) => return None,
    };
    Some(hint)
}
