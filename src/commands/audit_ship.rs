//! `broker audit-ship` (hidden): broker's own helper that runs `[audit] command` for records
//! in the background, so the command that issued them never waits (see [`crate::audit::shipping`]).

use crate::error::{Error, Result};

/// broker's own helper for shipping audit records; not for direct use
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_: Args) -> Result<u8> {
    crate::audit::shipping::run_helper(std::io::stdin().lock()).map_err(Error::from_error)?;
    Ok(crate::exit_codes::SUCCESS)
}
