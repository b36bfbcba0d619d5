//! `broker list`: the profiles of the AWS config and what broker holds for each.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::context::Context;
use crate::error::Result;
use crate::{chain, exit_codes, output, profiles, vault};

/// List profiles, their stored keys and cached sessions
///
/// Shows every profile of the AWS config and credentials files, its role, whether the vault
/// holds long-term keys for it, and its cached sessions with the time they have left.
#[derive(Debug, clap::Args)]
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
    let vault = ctx.vault()?;
    let cached = ctx.cache().list();
    let now = chrono::Utc::now();
    let mut rows = Vec::new();
    let mut sso_statuses: BTreeMap<String, SsoStatus> = BTreeMap::new();
    for name in aws.names() {
        let stored = vault.contains(&vault::keys_item(&name))?;
        let sso = match chain::profile_sso_session(&name, &aws, &ctx.env) {
            Ok(Some(session)) => Some(match sso_statuses.get(&session.name) {
                Some(status) => status.clone(),
                None => {
                    let until = crate::sso::signed_in_until(vault.as_ref(), &session)?;
                    let status = SsoStatus {
                        session: session.name.clone(),
                        signed_in: until.is_some(),
                        seconds_left: until.map(|u| (u - now).num_seconds().max(0)),
                    };
                    sso_statuses.insert(session.name.clone(), status.clone());
                    status
                }
            }),
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
            keys: stored.then(|| vault.kind().name()),
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
    output::stdout(text.as_bytes())?;
    Ok(exit_codes::SUCCESS)
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
    match (&row.sso, row.keys) {
        (Some(sso), _) => match sso.seconds_left {
            Some(left) => format!("sso {} (signed in, {})", sso.session, minutes(left)),
            None => format!("sso {} (signed out)", sso.session),
        },
        (None, Some(backend)) => backend.to_string(),
        (None, None) => "-".into(),
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
