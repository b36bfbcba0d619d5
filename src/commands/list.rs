//! `broker list`: the profiles of the AWS config and what broker holds for each.

use serde::Serialize;

use crate::context::Context;
use crate::error::Result;
use crate::{exit_codes, output, profiles, vault};

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
    sessions: Vec<Session>,
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
    for name in aws.names() {
        let stored = vault.contains(&vault::keys_item(&name))?;
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
                r.keys.unwrap_or("-").to_string(),
                sessions_cell(&r.sessions),
            ]
        })
        .collect();
    output::table(["PROFILE", "ROLE", "KEYS", "SESSIONS"], &cells)
}

/// `role 52m, session 7h59m`, or `-`.
fn sessions_cell(sessions: &[Session]) -> String {
    if sessions.is_empty() {
        return "-".into();
    }
    sessions
        .iter()
        .map(|s| match s.seconds_left {
            Some(left) => {
                let minutes = std::time::Duration::from_secs(left.max(0) as u64 / 60 * 60);
                format!("{} {}", s.kind, crate::duration::format(minutes))
            }
            None => s.kind.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
