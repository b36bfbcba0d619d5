//! `broker list`: the profiles of the AWS config, what broker holds for each, and the policy
//! rules that apply to each.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::vault::VaultError;
use crate::{chain, exit_codes, output, profiles, vault};

/// List profiles, their stored keys and cached sessions
///
/// Shows every profile of the AWS config and credentials files, its role, whether the vault
/// holds long-term keys for it, its cached sessions with the time they have left, and the
/// policy rules that apply to it with where each comes from (`system:role[0]` is the first
/// [[role]] of the system policy file, `user:profile.NAME` a [profile.NAME] of config.toml).
/// When the vault cannot be opened, the profiles are still listed, with a warning, and the KEYS
/// column says why it cannot tell; when the system policy stops every issuing, a warning says
/// why.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  broker list
  broker list --json | jq -r '.[] | select(.keys == null) | .profile'")]
#[command(group = clap::ArgGroup::new("aws_vault_mode").multiple(false))]
pub struct Args {
    /// Print a JSON array instead of a table
    #[arg(long)]
    json: bool,

    /// aws-vault's `list --profiles`: the profile names only, one a line
    #[arg(long, hide = true, group = "aws_vault_mode", conflicts_with = "json")]
    profiles: bool,

    /// aws-vault's `list --sessions`: only the profiles with cached sessions
    #[arg(long, hide = true, group = "aws_vault_mode")]
    sessions: bool,

    /// aws-vault's `list --credentials`: only the profiles whose keys the vault holds
    #[arg(long, hide = true, group = "aws_vault_mode")]
    credentials: bool,
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
    /// The policy rules that apply; `None` when the profile's chain does not resolve.
    policy: Option<PolicyRow>,
}

#[derive(Debug, Serialize)]
struct PolicyRow {
    /// What the rules ask, in a few words (`break-glass, at most 1h`), or `-`.
    summary: String,
    break_glass: bool,
    require_reason: bool,
    max_duration_seconds: Option<u64>,
    /// Where each rule comes from: `system:role[0]`, `user:profile.NAME`.
    rules: Vec<String>,
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
    if args.profiles {
        let names: String = aws.names().iter().map(|n| format!("{n}\n")).collect();
        output::stdout(names.as_bytes())?;
        return Ok(exit_codes::SUCCESS);
    }
    if let Some(floor) = ctx.policy.refused() {
        warn(&Error::from(floor.clone()));
    }
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
        let sso = match &vault {
            Some(v) => match sso_status(&name, &aws, ctx, v.as_ref(), &mut sso_statuses) {
                Ok(status) => status,
                Err(crate::sso::SsoError::Vault(e)) => {
                    keys_error = Some(unreadable(e, &mut unknown));
                    None
                }
                Err(e) => return Err(e.into()),
            },
            None => None,
        };
        let policy = policy_row(&name, &aws, ctx);
        rows.push(Row {
            policy,
            role_arn: aws.get(&name, "role_arn").map(str::to_owned),
            source_profile: aws.get(&name, "source_profile").map(str::to_owned),
            keys: stored,
            keys_error,
            keys_in_aws_files: aws.get(&name, "aws_access_key_id").is_some(),
            sso,
            sessions: sessions_of(&cached, &name),
            profile: name,
        });
    }
    if args.sessions {
        rows.retain(|r| !r.sessions.is_empty());
    }
    if args.credentials {
        rows.retain(|r| r.keys.is_some());
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

/// The policy rules that apply to profile `name`, if its chain resolves.
fn policy_row(name: &str, aws: &profiles::AwsProfiles, ctx: &Context) -> Option<PolicyRow> {
    let chain = chain::resolve(
        name,
        aws,
        &ctx.settings,
        &ctx.policy,
        &ctx.env,
        &chain::Request::default(),
    )
    .ok()?;
    Some(PolicyRow {
        summary: chain.policy.summary(),
        break_glass: chain.policy.break_glass(),
        require_reason: chain.policy.require_reason(),
        max_duration_seconds: chain.policy.max_duration().map(|d| d.as_secs()),
        rules: chain.policy.origins(),
    })
}

/// The SSO sign-in of `name`'s session, if it has one: read from the vault once per session
/// (`known` keeps what was read).
fn sso_status(
    name: &str,
    aws: &profiles::AwsProfiles,
    ctx: &Context,
    vault: &dyn vault::Vault,
    known: &mut BTreeMap<String, SsoStatus>,
) -> std::result::Result<Option<SsoStatus>, crate::sso::SsoError> {
    let Ok(Some(session)) = chain::profile_sso_session(name, aws, &ctx.env) else {
        return Ok(None);
    };
    if let Some(status) = known.get(&session.name) {
        return Ok(Some(status.clone()));
    }
    let until = crate::sso::signed_in_until(vault, &session)?;
    let status = SsoStatus {
        session: session.name.clone(),
        signed_in: until.is_some(),
        seconds_left: until.map(|u| (u - crate::clock::now()).num_seconds().max(0)),
    };
    known.insert(session.name, status.clone());
    Ok(Some(status))
}

/// The cached sessions of profile `name`, with their time left.
fn sessions_of(cached: &[crate::cache::Listed], name: &str) -> Vec<Session> {
    let now = crate::clock::now();
    cached
        .iter()
        .filter(|c| c.profile == name)
        .map(|c| Session {
            kind: c.kind.clone(),
            expiration: c
                .expiration
                .map(|e| e.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            seconds_left: c.expiration.map(|e| (e - now).num_seconds().max(0)),
        })
        .collect()
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

/// The table; with a POLICY column when a rule applies to any profile.
fn table(rows: &[Row]) -> String {
    let cells = |r: &Row| {
        [
            r.profile.clone(),
            r.role_arn.clone().unwrap_or_else(|| "-".into()),
            keys_cell(r),
            sessions_cell(&r.sessions),
        ]
    };
    let ruled = |r: &Row| r.policy.as_ref().is_some_and(|p| !p.rules.is_empty());
    if !rows.iter().any(ruled) {
        let cells: Vec<[String; 4]> = rows.iter().map(cells).collect();
        return output::table(["PROFILE", "ROLE", "KEYS", "SESSIONS"], &cells);
    }
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|r| {
            let [profile, role, keys, sessions] = cells(r);
            [
                profile,
                role,
                keys,
                sessions,
                policy_cell(r.policy.as_ref()),
            ]
        })
        .collect();
    output::table(["PROFILE", "ROLE", "KEYS", "SESSIONS", "POLICY"], &cells)
}

/// `break-glass, at most 1h (system:role[0])`, `-`, or `?` for a chain that does not resolve.
fn policy_cell(policy: Option<&PolicyRow>) -> String {
    match policy {
        None => "?".into(),
        Some(p) if p.rules.is_empty() => "-".into(),
        Some(p) => format!("{} ({})", p.summary, p.rules.join(", ")),
    }
}

/// The backend holding the keys, or `sso NAME (signed in, 7h59m)`, or `-`.
fn keys_cell(row: &Row) -> String {
    match (&row.sso, row.keys, &row.keys_error) {
        (Some(sso), _, _) => match sso.seconds_left {
            Some(left) => format!("sso {} (signed in, {})", sso.session, minutes(left)),
            None => format!("sso {} (signed out)", sso.session),
        },
        (None, Some(backend), _) => backend.to_string(),
        // Where they are is worth more than why the vault cannot tell.
        (None, None, _) if row.keys_in_aws_files => "credentials file".into(),
        (None, None, Some(why)) => format!("? ({why})"),
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
