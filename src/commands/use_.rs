//! `broker use`: credentials in the shell it is typed in, through the function
//! `broker shell-init` installs (see [`super::shell_init`]). Issued, audited (`via = use`) and
//! notified like `export`; prompts (MFA, a break-glass confirmation) go to the terminal, since
//! stdout is the code the shell evaluates. Prints only code quoted for that shell.

use crate::audit::Via;
use crate::context::Context;
use crate::environment::REGION_MARKER;
use crate::error::{Error, Result};
use crate::format::{fish_quote, powershell_quote, sh_quote};
use crate::{exit_codes, output};

use super::credential_args::CredentialArgs;

/// Variables `use` sets; `use --off` unsets them.
const SET: [&str; 10] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_SESSION_EXPIRATION",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    REGION_MARKER,
    "AWS_VAULT",
    "BROKER_PROFILE",
];

/// Variables that would make the shell's programs use other credentials than those `use`
/// sets: unset first.
const CLEARED: [&str; 10] = [
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SECURITY_TOKEN",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
    "AWS_EC2_METADATA_V1_DISABLED",
];

/// Set a profile's credentials in the current shell
///
/// Sets AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_CREDENTIAL_EXPIRATION
/// (and AWS_SESSION_EXPIRATION), AWS_REGION, AWS_DEFAULT_REGION, AWS_VAULT and BROKER_PROFILE in
/// the shell you type it in, after unsetting AWS_PROFILE and any credentials endpoint; `broker
/// use --off` unsets them all. Needs the function of `broker shell-init` in your shell, and
/// `use` as the first word (global options after it). Policy, MFA and audit work as for exec
/// (audited as `via = use`). Shell prompts such as starship show AWS_VAULT and the time left;
/// `broker prompt` prints them for your own.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  eval \"$(broker shell-init bash)\"    # once, in ~/.bashrc
  broker use prod-admin               # this shell now holds prod-admin's credentials
  broker use --off                    # and now none")]
pub struct Args {
    /// Unset the credentials `broker use` set
    #[arg(long, conflicts_with = "profile")]
    off: bool,

    /// Print code for SHELL to evaluate (the shell-init function's)
    #[arg(long, hide = true, value_name = "SHELL", value_parser = ["sh", "fish", "powershell"])]
    shell_code: Option<String>,

    #[command(flatten)]
    credentials: CredentialArgs,
}

pub fn run(args: Args, ctx: &Context) -> Result<u8> {
    let Some(shell) = args.shell_code.as_deref() else {
        return Err(not_set_up(ctx));
    };
    let mut code = String::new();
    let unset = |code: &mut String, name: &str| {
        code.push_str(&match shell {
            "fish" => format!("set -e -g {name};\n"),
            "powershell" => format!("Remove-Item Env:{name} -ErrorAction SilentlyContinue\n"),
            _ => format!("unset {name}\n"),
        });
    };
    for name in CLEARED {
        unset(&mut code, name);
    }
    if args.off {
        for name in SET {
            unset(&mut code, name);
        }
        output::stdout(code.as_bytes())?;
        return Ok(exit_codes::SUCCESS);
    }
    let issuer = args.credentials.issuer(ctx, Via::Use)?;
    let chain = &issuer.chain;
    if let Some(previous) = ctx
        .env
        .broker
        .profile
        .as_ref()
        .filter(|p| **p != chain.profile)
    {
        output::notice(&format!("leaving profile {previous} for {}", chain.profile));
    }
    let issued = issuer.issue_and_notify(Via::Use)?;
    let mut vars = crate::format::variables(&issued.credentials, Some(&chain.region));
    if let Some(expiration) = issued.credentials.expiration_rfc3339() {
        // What older shell prompts (starship before AWS_CREDENTIAL_EXPIRATION) read.
        vars.push(("AWS_SESSION_EXPIRATION", expiration));
    }
    vars.extend([
        (REGION_MARKER, chain.region.clone()),
        ("AWS_VAULT", chain.profile.clone()),
        ("BROKER_PROFILE", chain.profile.clone()),
    ]);
    if vars.iter().any(|(_, v)| v.chars().any(char::is_control)) {
        return Err(crate::format::FormatError::Unrepresentable("shell").into());
    }
    for name in SET.iter().filter(|n| !vars.iter().any(|(k, _)| k == *n)) {
        unset(&mut code, name);
    }
    for (name, value) in &vars {
        code.push_str(&match shell {
            "fish" => format!("set -gx {name} {};\n", fish_quote(value)),
            "powershell" => format!("$env:{name} = {}\n", powershell_quote(value)),
            _ => format!("export {name}={}\n", sh_quote(value)),
        });
    }
    output::stdout(code.as_bytes())?;
    Ok(exit_codes::SUCCESS)
}

/// `broker use` run as a program, not through the shell function: how to set it up.
fn not_set_up(ctx: &Context) -> Error {
    let shell = ctx
        .env
        .shell
        .as_ref()
        .and_then(|s| {
            std::path::Path::new(s)
                .file_stem()?
                .to_str()
                .map(str::to_owned)
        })
        .unwrap_or_default();
    let setup = match shell.as_str() {
        "fish" => "add `broker shell-init fish | source` to ~/.config/fish/config.fish".to_string(),
        "pwsh" | "powershell" => {
            "add `Invoke-Expression (& broker shell-init powershell | Out-String)` to $PROFILE"
                .to_string()
        }
        "zsh" => "add `eval \"$(broker shell-init zsh)\"` to ~/.zshrc".to_string(),
        _ => "add `eval \"$(broker shell-init bash)\"` to ~/.bashrc (zsh: `shell-init zsh` in \
              ~/.zshrc; fish: `broker shell-init fish | source`)"
            .to_string(),
    };
    Error::new(
        "broker use sets credentials in your shell, which only the shell function of `broker \
         shell-init` can do",
    )
    .with_hint(format!(
        "{setup}, then open a new shell; or run one command with `broker exec PROFILE CMD`"
    ))
}
