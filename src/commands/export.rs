//! `broker export`: prints credentials, in a format for a shell, a file, or `credential_process`.

use crate::audit::Via;
use crate::context::Context;
use crate::error::Result;
use crate::format::{self, Format};
use crate::{exit_codes, output};

use super::credential_args::CredentialArgs;

/// Print credentials for a profile
///
/// Prints temporary credentials (or, with --no-session and no role, the stored keys) on stdout
/// and nothing else; prompts and notices go to the terminal or stderr. For the AWS CLI and SDKs,
/// use it as a credential process:
///
///     credential_process = broker export --format json PROFILE
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  eval \"$(broker export --format sh analyst)\"
  broker export --format json analyst    # what credential_process = … expects")]
pub struct Args {
    /// The output format
    #[arg(long, value_name = "FORMAT", default_value = "env", value_parser = format_parser())]
    format: Format,

    #[command(flatten)]
    credentials: CredentialArgs,
}

pub fn run(args: Args, ctx: &Context) -> Result<u8> {
    print(&args.credentials, args.format, ctx)
}

/// Issues the credentials asked for and prints them in `format` (`export`, and aws-vault's
/// `exec --json`).
pub(super) fn print(credentials: &CredentialArgs, format: Format, ctx: &Context) -> Result<u8> {
    let request = crate::issue::Request {
        unattended: format == Format::Json,
        ..credentials.request(ctx)?
    };
    let issuer = crate::issue::Issuer::new(ctx, request, Via::Export)?;
    let issued = issuer.issue_and_notify(Via::Export)?;
    let chain = &issuer.chain;
    let text = format::render(
        format,
        &chain.profile,
        &issued.credentials,
        Some(&chain.region),
    )?;
    output::stdout(text.as_bytes())?;
    crate::timing::phase("output");
    Ok(exit_codes::SUCCESS)
}

/// The formats, for the command line.
fn format_parser() -> impl clap::builder::TypedValueParser<Value = Format> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    let values = Format::ALL
        .map(|f| PossibleValue::new(f.name()).help(f.about()))
        .into_iter()
        // aws-vault's `export-env`: `export K=v` lines, which `sh` prints quoted.
        .chain([PossibleValue::new("export-env").hide(true)]);
    PossibleValuesParser::new(values).map(|name| match name.as_str() {
        "export-env" => Format::Sh,
        name => Format::from_name(name).expect("one of the possible values"),
    })
}
