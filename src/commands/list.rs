//! `broker list`: the profiles of the AWS config and what broker holds for each.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::vault::VaultError;
use crate::{chain, exit_codes, output, profiles, vault};

/// List profiles, their stored keys and cached sessions
///
/// Shows every profile of the AWS config and credentials files, its role, whether the vault
/// holds long-term keys for it, and its cached sessions with the time they have left. When the
/// vault cannot be opened, the profiles are still listed, with a warning, and the KEYS column
/// says why it cannot tell.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  broker list
  broker list --json | jq -r '.[] | select(.keys == null) | .profile'")]
pub struct Args {
    /// Print a JSON array instead of a table
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct Row {
    profile: String,
    role_arn: Option<String>,
    source_profile: Option<String>,
    /// The backend holding this profile's keys, if any.
    keys: Option<&'static str>,
    /// Why the vault could not tell whether it holds keys for this profile.
    #[serde(skip_serializing_if = "Option::is_none")]
    keys_error: Option<String>,
    /// The profile has `aws_access_key_id` in the AWS files (`broker import` moves it).
    keys_in_aws_files: bool,
    /// The IAM Identity Center session the profile signs in with, if any.
    sso: Option<SsoStatus>,
    sessions: Vec<Session>,
}

#[derive(Debug, Clone, Serialize)]
struct SsoStatus {
    session: String,
    signed_in: bool,
    /// How long the access token lasts (it is refreshed without a browser after that).
    seconds_left: Option<i64>,
}

#[derive(Debug, Serialize)]
struct Session {
    /// `session` (GetSessionToken), `role` or `web` (AssumeRoleWithWebIdentity).
    kind: String,
    expiration: Option<String>,
    seconds_left: Option<i64>,
}

pub fn run(args: Args, ctx: &Context) -> Result<u8> {
    let aws = profiles::AwsProfiles::load(&ctx.env)?;
    // Without a vault the profiles are still worth listing; the KEYS column says why it is
    // empty.
    let (vault, mut unknown) = match ctx.vault.open() {
        Ok(vault) => (Some(vault), None),
        Err(e) => {
            let cell = short_reason(&e);
            warn(&Error::from(e));
            (None, Some(cell))
        }
    };
    let cached = ctx.cache().list();
    let now = crate::clock::now();
    let mut rows = Vec::new();
    let mut sso_statuses: BTreeMap<String, SsoStatus> = BTreeMap::new();
    for name in aws.names() {
        let (stored, mut keys_error) = match &vault {
            Some(v) => match v.contains(&vault::keys_item(&name)) {
                Ok(stored) => (stored.then(|| v.kind().name()), None),
                Err(e) => (None, Some(unreadable(e, &mut unknown))),
            },
            None => (None, unknown.clone()),
        };
        let sso = match (chain::profile_sso_session(&name, &aws, &ctx.env), &vault) {
            (Ok(Some(session)), Some(v)) => match sso_statuses.get(&session.name) {
                Some(status) => Some(status.clone()),
                None => match crate::sso::signed_in_until(v.as_ref(), &session) {
                    Ok(until) => {
                        let status = SsoStatus {
                            session: session.name.clone(),
                            signed_in: until.is_some(),
                            seconds_left: until.map(|u| (u - now).num_seconds().max(0)),
                        };
                        sso_statuses.insert(session.name.clone(), status.clone());
                        Some(status)
                    }
                    Err(crate::sso::SsoError::Vault(e)) => {
                        keys_error = Some(unreadable(e, &mut unknown));
                        None
                    }
                    Err(e) => return Err(e.into()),
                },
            },
            _ => None,
        };
        let sessions = cached
            .iter()
            .filter(|c| c.profile == name)
            .map(|c| Session {
                kind: c.kind.clone(),
                expiration: c
                    .expiration
                    .map(|e| e.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                seconds_left: c.expiration.map(|e| (e - now).num_seconds().max(0)),
            })
            .collect();
        rows.push(Row {
            role_arn: aws.get(&name, "role_arn").map(str::to_owned),
            source_profile: aws.get(&name, "source_profile").map(str::to_owned),
            keys: stored,
            keys_error,
            keys_in_aws_files: aws.get(&name, "aws_access_key_id").is_some(),
            sso,
            profile: name,
            sessions,
        });
    }
    let text = if args.json {
        let mut json = serde_json::to_string_pretty(&rows).expect("rows serialise");
        json.push('\n');
        json
    } else {
        table(&rows)
    };
    if args.json {
        output::stdout(text.as_bytes())?;
    } else {
        output::print_table(&text)?;
    }
    Ok(exit_codes::SUCCESS)
}

/// The warning for a vault that cannot be read: the error and its hint, on stderr.
fn warn(e: &Error) {
    output::notice(&format!("warning: {}", e.message()));
    if let Some(hint) = e.hint() {
        output::hint(hint);
    }
}

/// Why the vault cannot tell, short enough for a table cell.
/// The KEYS cell of a vault that cannot answer; the first such error is also a warning.
fn unreadable(e: VaultError, unknown: &mut Option<String>) -> String {
    let cell = short_reason(&e);
    if unknown.replace(cell.clone()).is_none() {
        warn(&Error::from(e));
    }
    cell
}

fn short_reason(e: &VaultError) -> String {
    match e {
        VaultError::NoBackend { .. } => "no backend".into(),
        VaultError::Unavailable { backend, .. } => format!("{backend} unavailable"),
        VaultError::WrongPassphrase { .. } => "wrong passphrase".into(),
        VaultError::NoPassphrase { .. }
        | VaultError::PassphraseCommand(_)
        | VaultError::PassphraseFile { .. } => "no passphrase".into(),
        _ => "vault error".into(),
    }
}

fn table(rows: &[Row]) -> String {
    let cells: Vec<[String; 4]> = rows
        .iter()
        .map(|r| {
            [
                r.profile.clone(),
                r.role_arn.clone().unwrap_or_else(|| "-".into()),
                keys_cell(r),
                sessions_cell(&r.sessions),
            ]
        })
        .collect();
    output::table(["PROFILE", "ROLE", "KEYS", "SESSIONS"], &cells)
}

/// The backend holding the keys, or `sso NAME (signed in, 7h59m)`, or `-`.
fn keys_cell(row: &Row) -> String {
    match (&row.sso, row.keys, &row.keys_error) {
        (Some(sso), _, _) => match sso.seconds_left {
            Some(left) => format!("sso {} (signed in, {})", sso.session, minutes(left)),
            None => format!("sso {} (signed out)", sso.session),
        },
        (None, Some(backend), _) => backend.to_string(),
        (None, None, Some(why)) => format!("? ({why})"),
        (None, None, None) if row.keys_in_aws_files => "credentials file".into(),
        (None, None, None) => "-".into(),
    }
}

/// Whole minutes, like `7h59m`.
fn minutes(seconds: i64) -> String {
    crate::duration::format(std::time::Duration::from_secs(
        seconds.max(0) as u64 / 60 * 60,
    ))
}

/// `role 52m, session 7h59m`, or `-`.
fn sessions_cell(sessions: &[Session]) -> String {
    if sessions.is_empty() {
        return "-".into();
    }
    sessions
        .iter()
        .map(|s| match s.seconds_left {
            Some(left) => format!("{} {}", s.kind, minutes(left)),
            None => s.kind.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
