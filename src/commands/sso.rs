//! `broker sso`: sign in to IAM Identity Center, sign out, and list the accounts and roles a
//! sign-in may use as ready-to-paste profiles.

use std::collections::BTreeMap;

use crate::chain::{self, Source, SsoSession};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::profiles::AwsProfiles;
use crate::sso::{Flow, Portal};
use crate::{exit_codes, output};

/// Sign in to IAM Identity Center, sign out, or list your accounts and roles
///
/// broker signs in on demand when an SSO profile needs it; these commands do it ahead of time,
/// sign out, or print the profiles a sign-in can use.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  broker sso login --sso-session corp
  broker sso profiles >> ~/.aws/config
  broker sso logout")]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    Login(LoginArgs),
    Logout(LogoutArgs),
    Profiles(ProfilesArgs),
}

/// How to sign in.
#[derive(Debug, clap::Args)]
struct HowArgs {
    /// Sign in with a code to confirm in any browser (for machines without a browser),
    /// instead of the browser's authorization-code flow
    #[arg(long)]
    use_device_code: bool,

    /// Print the sign-in URL on stderr instead of opening a browser
    #[arg(long)]
    no_browser: bool,
}

/// Sign in to an SSO session
///
/// Signs in anew, replacing the session's tokens and dropping the credentials cached from its
/// previous sign-in. The browser opens at the IAM Identity Center sign-in ($BROWSER, else the
/// system's opener).
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  broker sso login corp-admin
  broker sso login --sso-session corp --use-device-code")]
struct LoginArgs {
    /// An SSO profile whose session to sign in to [default: $AWS_PROFILE, else the profile
    /// "default" if there is one, else chosen from a list on the terminal]
    #[arg(value_name = "PROFILE", add = super::completions::profiles(), conflicts_with = "sso_session")]
    profile: Option<String>,

    /// The [sso-session NAME] to sign in to
    #[arg(long, value_name = "NAME")]
    sso_session: Option<String>,

    #[command(flatten)]
    how: HowArgs,
}

/// Sign out of SSO sessions
///
/// Signs out at the portal, deletes the session's tokens from the vault, and drops every
/// credential cached from its sign-in.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  broker sso logout corp
  broker sso logout                             # every SSO session")]
struct LogoutArgs {
    /// The [sso-session] to sign out of (for a legacy profile: its sso_start_url)
    /// [default: every SSO session of the AWS config]
    #[arg(value_name = "NAME")]
    session: Option<String>,
}

/// Print a [profile] section for every account and role you may use
///
/// Lists the accounts and roles of the sign-in (ListAccounts, ListAccountRoles) as
/// `[profile ACCOUNT-ROLE]` sections to append to the AWS config. Writes nothing itself.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  broker sso profiles --sso-session corp >> ~/.aws/config")]
struct ProfilesArgs {
    /// The [sso-session NAME] to list [default: the only one in the AWS config]
    #[arg(long, value_name = "NAME")]
    sso_session: Option<String>,

    #[command(flatten)]
    how: HowArgs,
}

pub fn run(args: Args, ctx: &Context) -> Result<u8> {
    let aws = AwsProfiles::load(&ctx.env)?;
    match args.command {
        Command::Login(args) => login(args, ctx, &aws),
        Command::Logout(args) => logout(args, ctx, &aws),
        Command::Profiles(args) => profiles(args, ctx, &aws),
    }
}

fn flow(how: &HowArgs) -> Flow {
    if how.use_device_code {
        Flow::DeviceCode
    } else {
        Flow::AuthorizationCode
    }
}

fn login(args: LoginArgs, ctx: &Context, aws: &AwsProfiles) -> Result<u8> {
    let session = match &args.sso_session {
        Some(name) => chain::sso_session(name, aws, &ctx.env, None)?,
        None => {
            let profile = super::credential_args::profile_or_default(args.profile.as_ref(), ctx)?;
            of_profile(&profile, aws, ctx)?
        }
    };
    let portal = Portal::new(&session, ctx.sts_timeout)
        .map_err(|e| Error::with_source("cannot start the SSO client", e))?;
    let vault = ctx.vault()?;
    let cache = ctx.cache();
    let _lock = cache.lock_named(&format!("sso-{}", session.name))?;
    portal.sign_in(
        vault.as_ref(),
        &ctx.sso_sign_in(flow(&args.how), !args.how.no_browser),
    )?;
    cache.clear_source(&session.cache_source());
    Ok(exit_codes::SUCCESS)
}

/// The SSO session that `profile`'s chain starts from.
fn of_profile(profile: &str, aws: &AwsProfiles, ctx: &Context) -> Result<SsoSession> {
    let chain = chain::resolve(
        profile,
        aws,
        &ctx.settings,
        &ctx.env,
        &chain::Request::default(),
    )?;
    match chain.source {
        Source::Sso { session, .. } => Ok(session),
        _ => Err(Error::new(format!(
            "profile {profile} does not sign in with IAM Identity Center"
        ))
        .with_hint("name an SSO profile, or an [sso-session] with --sso-session NAME")),
    }
}

/// Every SSO session of the AWS config: the `[sso-session]` sections and the legacy
/// profiles' start URLs, by name.
fn all_sessions(aws: &AwsProfiles, ctx: &Context) -> BTreeMap<String, SsoSession> {
    let mut sessions = BTreeMap::new();
    for name in aws.sso_session_names() {
        if let Ok(session) = chain::sso_session(&name, aws, &ctx.env, None) {
            sessions.insert(name, session);
        }
    }
    for profile in aws.names() {
        if let Ok(Some(session)) = chain::profile_sso_session(&profile, aws, &ctx.env) {
            sessions.entry(session.name.clone()).or_insert(session);
        }
    }
    sessions
}

fn logout(args: LogoutArgs, ctx: &Context, aws: &AwsProfiles) -> Result<u8> {
    let mut sessions = all_sessions(aws, ctx);
    if let Some(name) = &args.session {
        sessions.retain(|n, _| n == name);
        if sessions.is_empty() {
            return Err(chain::ChainError::UnknownSsoSession(name.clone()).into());
        }
    }
    let vault = ctx.vault()?;
    let cache = ctx.cache();
    for session in sessions.values() {
        let _lock = cache.lock_named(&format!("sso-{}", session.name))?;
        let portal = Portal::new(session, ctx.sts_timeout)
            .map_err(|e| Error::with_source("cannot start the SSO client", e))?;
        // Signed out here whatever the portal says: the tokens go from the vault.
        let at_portal = portal.logout(vault.as_ref());
        let held = vault.delete(&session.vault_item())?;
        let dropped = cache.clear_source(&session.cache_source());
        if let Err(e) = at_portal {
            output::notice(&format!(
                "warning: the portal's sign-out of {} failed: {e}",
                session.name
            ));
        }
        if held || dropped > 0 {
            output::notice(&format!(
                "signed out of SSO session {}; dropped {dropped} cached credential(s)",
                session.name
            ));
        }
    }
    Ok(exit_codes::SUCCESS)
}

fn profiles(args: ProfilesArgs, ctx: &Context, aws: &AwsProfiles) -> Result<u8> {
    let session = match &args.sso_session {
        Some(name) => chain::sso_session(name, aws, &ctx.env, None)?,
        None => {
            let names = aws.sso_session_names();
            match names.as_slice() {
                [one] => chain::sso_session(one, aws, &ctx.env, None)?,
                [] => {
                    return Err(Error::new("the AWS config has no [sso-session] section")
                        .with_hint("add one (sso_start_url, sso_region); see the README"))
                }
                _ => {
                    return Err(Error::usage(format!(
                        "the AWS config has several SSO sessions ({}); name one",
                        names.join(", ")
                    ))
                    .with_hint("use --sso-session NAME"))
                }
            }
        }
    };
    let portal = Portal::new(&session, ctx.sts_timeout)
        .map_err(|e| Error::with_source("cannot start the SSO client", e))?;
    let vault = ctx.vault()?;
    let token = {
        let _lock = ctx.cache().lock_named(&format!("sso-{}", session.name))?;
        let options = ctx.engine_options(false, Default::default(), Vec::new());
        portal.token(
            vault.as_ref(),
            options.min_ttl,
            &ctx.sso_sign_in(flow(&args.how), !args.how.no_browser),
        )?
    };
    let mut assignments = portal.assignments(&token)?;
    assignments.sort_by(|a, b| (&a.account_name, &a.role).cmp(&(&b.account_name, &b.role)));
    let names = profile_names(&assignments);
    let mut text = String::new();
    for (assignment, name) in assignments.iter().zip(names) {
        text.push_str(&format!(
            "\n# {} ({})\n[profile {name}]\n",
            assignment.account_name, assignment.account_id
        ));
        if session.name == session.start_url {
            text.push_str(&format!(
                "sso_start_url = {}\nsso_region = {}\n",
                session.start_url, session.region
            ));
        } else {
            text.push_str(&format!("sso_session = {}\n", session.name));
        }
        text.push_str(&format!(
            "sso_account_id = {}\nsso_role_name = {}\n",
            assignment.account_id, assignment.role
        ));
    }
    output::stdout(text.trim_start().as_bytes())?;
    Ok(exit_codes::SUCCESS)
}

/// Stable profile names: `ACCOUNT-ROLE`, lower-case, `[a-z0-9-]` (the account's name, or its
/// id when two accounts share a name).
fn profile_names(assignments: &[crate::sso::Assignment]) -> Vec<String> {
    let slug = |text: &str| {
        let mut out = String::new();
        for c in text.chars() {
            if c.is_ascii_alphanumeric() {
                out.push(c.to_ascii_lowercase());
            } else if !out.ends_with('-') {
                out.push('-');
            }
        }
        out.trim_matches('-').to_string()
    };
    let shared: Vec<&str> = {
        let mut by_name: BTreeMap<String, std::collections::BTreeSet<&str>> = BTreeMap::new();
        for a in assignments {
            by_name
                .entry(slug(&a.account_name))
                .or_default()
                .insert(&a.account_id);
        }
        assignments
            .iter()
            .filter(|a| by_name[&slug(&a.account_name)].len() > 1)
            .map(|a| a.account_id.as_str())
            .collect()
    };
    assignments
        .iter()
        .map(|a| {
            let account = if shared.contains(&a.account_id.as_str()) {
                format!("{}-{}", slug(&a.account_name), a.account_id)
            } else {
                slug(&a.account_name)
            };
            format!("{account}-{}", slug(&a.role))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sso::Assignment;

    #[test]
    fn profile_names_are_stable_slugs_and_never_collide() {
        let a = |id: &str, name: &str, role: &str| Assignment {
            account_id: id.into(),
            account_name: name.into(),
            role: role.into(),
        };
        let names = profile_names(&[
            a("111111111111", "Prod Account", "ReadOnlyAccess"),
            a("222222222222", "Dev", "AdministratorAccess"),
            a("333333333333", "dev", "AdministratorAccess"),
        ]);
        assert_eq!(
            names,
            [
                "prod-account-readonlyaccess",
                "dev-222222222222-administratoraccess",
                "dev-333333333333-administratoraccess"
            ]
        );
    }
}
