//! `broker add`: stores an IAM user's long-term access key in the vault.

use secrecy::{ExposeSecret, SecretString};

use crate::context::Context;
use crate::credentials::{self, LongTermKeys};
use crate::environment::Environment;
use crate::error::{Error, Result};
use crate::{exit_codes, output, profiles, tty, vault};

/// Store an IAM user's access key for a profile
///
/// Asks for the access key id and the secret access key on the terminal (the secret is not
/// shown as you type), or, with --env, takes them from AWS_ACCESS_KEY_ID and
/// AWS_SECRET_ACCESS_KEY. Replaces keys already stored for PROFILE. Adds a `[profile PROFILE]`
/// section to the AWS config file when there is none.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  broker add alice                                  # asks for the key on the terminal
  AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… broker add --env ci")]
pub struct Args {
    /// Take the keys from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY instead of asking
    #[arg(long)]
    env: bool,

    /// The profile to store the keys for
    #[arg(value_name = "PROFILE", add = super::completions::profiles())]
    profile: String,
}

pub fn run(args: Args, ctx: &Context) -> Result<u8> {
    let profile = args.profile;
    if !profiles::valid_profile_name(&profile) {
        return Err(Error::usage(format!(
            "invalid profile name `{profile}`: it must not be empty, start or end with a space, \
             or hold control characters, brackets, `#` or `;`"
        )));
    }
    let aws = profiles::AwsProfiles::load(&ctx.env)?;
    // A vault that cannot take the keys says so before they are typed.
    let vault = ctx.vault()?;
    vault.ready_to_write(&vault::keys_item(&profile))?;
    let keys = if args.env {
        from_env(&ctx.env)?
    } else {
        from_terminal(&profile)?
    };
    vault::set_keys(vault.as_ref(), &profile, &keys)?;
    // Sessions made with the keys that were there before, at any depth, must not outlive them.
    ctx.cache().clear_source(&profile);
    output::notice(&format!(
        "stored the keys of profile {profile} in the {} vault",
        vault.kind().name()
    ));
    if vault.kind() == crate::vault::BackendKind::Keyutils {
        output::notice(
            "the keyutils backend keeps keys in the kernel keyring: they are lost at logout and \
             reboot",
        );
    }
    if !aws.contains(&profile) {
        let _lock = ctx.lock("aws-config")?;
        if let Some(path) = profiles::append_profile_section(&profile, &ctx.env)? {
            output::notice(&format!("added [profile {profile}] to {}", path.display()));
        }
    }
    Ok(exit_codes::SUCCESS)
}

fn from_env(env: &Environment) -> Result<LongTermKeys> {
    let (Some(access_key_id), Some(secret)) = (&env.aws.access_key_id, &env.aws.secret_access_key)
    else {
        return Err(Error::new(
            "--env needs both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to be set",
        ));
    };
    if env.aws.session_token_set {
        return Err(Error::new(
            "AWS_SESSION_TOKEN is set, so these are temporary credentials, not an IAM user's key",
        )
        .with_hint("unset AWS_SESSION_TOKEN and give a long-term access key"));
    }
    checked(access_key_id.clone(), secret.clone())
}

fn from_terminal(profile: &str) -> Result<LongTermKeys> {
    let no_terminal = |e: tty::TtyError| {
        Error::from(e).with_hint(format!(
            "run it from a terminal, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY and run \
             `broker add --env {profile}`"
        ))
    };
    let prompt = format!(
        "Adding keys for profile {}\nAccess key ID: ",
        crate::sanitize::escape(profile)
    );
    let access_key_id = tty::ask(&prompt).map_err(no_terminal)?;
    let access_key_id = access_key_id.trim();
    // A mistyped key id is said at once, before the secret is asked for.
    check_key_id(access_key_id)?;
    let secret = tty::ask_secret("Secret access key: ").map_err(no_terminal)?;
    checked(access_key_id.to_string(), secret)
}

fn check_key_id(access_key_id: &str) -> Result<()> {
    if !credentials::valid_access_key_id(access_key_id) {
        return Err(Error::new(format!(
            "`{}` is not an access key id (expected upper-case letters and digits, like AKIA…)",
            crate::sanitize::escape(access_key_id)
        )));
    }
    Ok(())
}

fn checked(access_key_id: String, secret_access_key: SecretString) -> Result<LongTermKeys> {
    check_key_id(&access_key_id)?;
    if secret_access_key.expose_secret().trim().is_empty() {
        return Err(Error::new("the secret access key is empty"));
    }
    Ok(LongTermKeys {
        access_key_id,
        secret_access_key,
    })
}
