//! `broker sso`: sign in to IAM Identity Center, sign out, and list the accounts and roles a
//! sign-in may use as ready-to-paste profiles.

use std::collections::BTreeMap;

mod block;
mod names;

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
    /// An SSO profile whose session to sign in to [default: $AWS_DEFAULT_PROFILE, else
    /// $AWS_PROFILE, else the profile "default" if there is one, else chosen from a list on the
    /// terminal]
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
  broker sso logout                             # every SSO session of the AWS config
  broker sso logout --all                       # and those it no longer has")]
struct LogoutArgs {
    /// The [sso-session] to sign out of (for a legacy profile: its sso_start_url); a session
    /// the AWS config no longer has is forgotten on this machine [default: every SSO session
    /// of the AWS config]
    #[arg(value_name = "NAME", conflicts_with = "all")]
    session: Option<String>,

    /// Every SSO session of the AWS config, and also forget every other one signed in to on
    /// this machine (renamed or removed from the config)
    #[arg(long)]
    all: bool,
}

/// Print (or write) a [profile] section for every account and role you may use
///
/// Lists the accounts and roles of the sign-in (ListAccounts, ListAccountRoles; several
/// accounts at a time, paced to the portal's quota of 20 calls a second) as `[profile NAME]`
/// sections, printed to append to the AWS config, or with --write kept in a marked block of
/// the AWS config, one per SSO session, that each --write replaces: new accounts and roles are
/// added, vanished ones removed, every byte outside the block kept. Names are made from
/// --template, lower-cased, every character outside a-z, 0-9, '.', '_' and '-' written '-',
/// never starting with '-'; where two would be the same, or the same as another profile of the
/// AWS config, the account id is added (then a number). Names from the portal appear only in
/// comments, escaped; an account id or role name AWS would not give is left out with a warning.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  broker sso profiles --sso-session corp >> ~/.aws/config
  broker sso profiles --sso-session corp --write --dry-run
  broker sso profiles --template '{account_id}-{role_name}' --prefix corp-")]
struct ProfilesArgs {
    /// The [sso-session NAME] to list, or a legacy profile's sso_start_url [default: the only
    /// SSO session of the AWS config]
    #[arg(long, value_name = "NAME")]
    sso_session: Option<String>,

    /// How to name each profile, from {account_name}, {account_id}, {role_name} and
    /// {sso_session}
    #[arg(long, value_name = "TEMPLATE", default_value = names::DEFAULT_TEMPLATE)]
    template: String,

    /// Put PREFIX before every name
    #[arg(long, value_name = "PREFIX", default_value = "")]
    prefix: String,

    /// Write the profiles into the session's block of the AWS config (made at its end the
    /// first time) instead of printing them; prints what changed, profile by profile
    #[arg(long)]
    write: bool,

    /// With --write: print what would change, and write nothing
    #[arg(long, requires = "write")]
    dry_run: bool,

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
    let (session, net) = match &args.sso_session {
        Some(name) => (
            chain::sso_session(name, aws, &ctx.env, None)?,
            ctx.net_settings(aws),
        ),
        None => {
            let profile = super::credential_args::profile_or_default(args.profile.as_ref(), ctx)?;
            of_profile(&profile, aws, ctx)?
        }
    };
    let portal = Portal::new(&session, &net, ctx.sts_timeout)?;
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

/// The SSO session that `profile`'s chain starts from, and the profile's network settings.
fn of_profile(
    profile: &str,
    aws: &AwsProfiles,
    ctx: &Context,
) -> Result<(SsoSession, crate::net::NetSettings)> {
    let chain = chain::resolve(
        profile,
        aws,
        &ctx.settings,
        &ctx.policy,
        &ctx.env,
        &chain::Request::default(),
    )?;
    match chain.source {
        Source::Sso { session, .. } => Ok((session, chain.net)),
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
    let vault = ctx.vault()?;
    let cache = ctx.cache();
    if let Some(name) = &args.session {
        sessions.retain(|n, _| n == name);
        if sessions.is_empty() {
            if !forget(name, vault.as_ref(), &cache)? {
                return Err(chain::ChainError::UnknownSsoSession(name.to_string()).into());
            }
            return Ok(exit_codes::SUCCESS);
        }
    }
    if args.all {
        for name in cache.named_locks("sso-") {
            if !sessions.contains_key(&name) {
                forget(&name, vault.as_ref(), &cache)?;
            }
        }
    }
    let net = ctx.net_settings(aws);
    for session in sessions.values() {
        let _lock = cache.lock_named(&format!("sso-{}", session.name))?;
        let portal = Portal::new(session, &net, ctx.sts_timeout)?;
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

/// Signing out of a session the AWS config no longer has (renamed, removed): its tokens and
/// credentials go from this machine; the portal cannot be told without its section. Whether
/// there was anything to forget.
fn forget(
    name: &str,
    vault: &dyn crate::vault::Vault,
    cache: &crate::cache::Cache,
) -> Result<bool> {
    let _lock = cache.lock_named(&format!("sso-{name}"))?;
    let held = vault.delete(&SsoSession::vault_item_of(name))?;
    let dropped = cache.clear_source(&SsoSession::cache_source_of(name));
    if held || dropped > 0 {
        output::notice(&format!(
            "SSO session {name} is not in the AWS config: removed its sign-in and {dropped} \
             cached credential(s) from this machine (the portal was not told)"
        ));
    }
    Ok(held || dropped > 0)
}

fn profiles(args: ProfilesArgs, ctx: &Context, aws: &AwsProfiles) -> Result<u8> {
    let session = session_to_list(args.sso_session.as_deref(), aws, ctx)?;
    let naming = names::Naming::new(&args.template, &args.prefix, &session.name)?;
    let portal = Portal::new(&session, &ctx.net_settings(aws), ctx.sts_timeout)?;
    let vault = ctx.vault()?;
    let (token, _) = {
        let _lock = ctx.cache().lock_named(&format!("sso-{}", session.name))?;
        portal.token(
            vault.as_ref(),
            ctx.min_ttl,
            &ctx.sso_sign_in(flow(&args.how), !args.how.no_browser),
        )?
    };
    let mut assignments = portal.assignments(&token)?;
    assignments.retain(|a| {
        let fit = names::fit_for_config(a);
        if !fit {
            output::notice(&format!(
                "warning: left out account {} role {}: not an account id and role name AWS gives",
                crate::sanitize::escape(&a.account_id),
                crate::sanitize::escape(&a.role)
            ));
        }
        fit
    });
    assignments.sort_by(|a, b| {
        (&a.account_name, &a.account_id, &a.role).cmp(&(&b.account_name, &b.account_id, &b.role))
    });
    // The sections for the AWS config `text`: named apart from its profiles, but for those of
    // the session's own block, which these replace.
    let sections_for = |text: &str| -> Result<(String, String)> {
        let old = block::find(text, &session.name)?.map_or("", |range| &text[range]);
        let mine = block::profiles(old);
        let mut taken = aws.names();
        taken.extend(AwsProfiles::from_texts(text, "")?.names());
        taken.retain(|name| !mine.contains_key(name));
        let names = naming.names(&assignments, &taken);
        Ok((old.to_string(), sections(&session, &assignments, &names)))
    };
    let config = crate::profiles::config_file_path(&ctx.env);
    if !args.write {
        let text = match &config {
            Some(path) => crate::profiles::read_text(path)?.unwrap_or_default(),
            None => String::new(),
        };
        let (_, sections) = sections_for(&text)?;
        output::stdout(sections.as_bytes())?;
        return Ok(exit_codes::SUCCESS);
    }
    let _lock = ctx.lock("aws-config")?;
    let mut report = (String::new(), [0; 3]);
    let (path, written) = crate::profiles::update_config(&ctx.env, |text| {
        let (old, sections) = sections_for(text)?;
        let new = block::replace(text, &session.name, &sections)?;
        AwsProfiles::from_texts(&new, "").map_err(|e| {
            Error::with_source("the AWS config would not parse with the new profiles", e)
        })?;
        report = block::diff(&old, &sections);
        Ok::<_, Error>((!args.dry_run && new != text).then_some(new))
    })?;
    let (lines, [added, removed, changed]) = report;
    output::stdout(lines.as_bytes())?;
    let counts = format!("{added} added, {removed} removed, {changed} changed");
    let what = format!(
        "{} profile(s) of SSO session {}",
        assignments.len(),
        session.name
    );
    output::notice(&match (args.dry_run, written) {
        (true, _) => format!(
            "--dry-run: would write {what} to {} ({counts}); nothing was written",
            path.display()
        ),
        (false, true) => format!("wrote {what} to {} ({counts})", path.display()),
        (false, false) => format!("the {what} in {} are up to date", path.display()),
    });
    Ok(exit_codes::SUCCESS)
}

/// The SSO session `sso profiles` lists: the one named (an [sso-session] or a legacy
/// profile's start URL), else the only one of the AWS config.
fn session_to_list(name: Option<&str>, aws: &AwsProfiles, ctx: &Context) -> Result<SsoSession> {
    let mut sessions = all_sessions(aws, ctx);
    if let Some(name) = name {
        return match sessions.remove(name) {
            Some(session) => Ok(session),
            // Its error says what is wrong with it.
            None => Ok(chain::sso_session(name, aws, &ctx.env, None)?),
        };
    }
    let names: Vec<String> = sessions.keys().cloned().collect();
    match (names.as_slice(), aws.sso_session_names().as_slice()) {
        ([one], _) => Ok(sessions.remove(one).expect("listed")),
        // The one section there is, with what is wrong with it.
        ([], [one]) => Ok(chain::sso_session(one, aws, &ctx.env, None)?),
        ([], _) => Err(Error::new("the AWS config has no SSO session")
            .with_hint("add an [sso-session] section (sso_start_url, sso_region); see docs/sso.md in the guide")),
        (several, _) => Err(Error::usage(format!(
            "the AWS config has several SSO sessions ({}); name one",
            several.join(", ")
        ))
        .with_hint("use --sso-session NAME (for a legacy profile: its sso_start_url)")),
    }
}

/// The `[profile NAME]` sections of `assignments`, named `names`.
fn sections(
    session: &SsoSession,
    assignments: &[crate::sso::Assignment],
    named: &[String],
) -> String {
    let mut text = String::new();
    for (assignment, name) in assignments.iter().zip(named) {
        text.push_str(&format!(
            "\n# {} ({})\n[profile {name}]\n",
            names::comment(&assignment.account_name),
            assignment.account_id
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
    text.trim_start().to_string()
}
