//! `broker history`: reads the audit log.

use crate::audit::{Outcome, Record};
use crate::context::Context;
use crate::error::Result;
use crate::{exit_codes, output};

/// Show the audit log of issued and refused credentials
///
/// Every exec, export, login and credential-server refresh is recorded with its profile, role,
/// reason, outcome and time. Shows a table by default, oldest first.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  broker history --since 1d
  broker history --profile breakglass --json | jq .")]
pub struct Args {
    /// Only this profile
    #[arg(long, value_name = "PROFILE", add = super::completions::profiles())]
    profile: Option<String>,

    /// Only records newer than this, like 1h, 30m or 7d
    #[arg(long, value_name = "DURATION", value_parser = parse_since)]
    since: Option<std::time::Duration>,

    /// One JSON object per line, as stored
    #[arg(long)]
    json: bool,
}

fn parse_since(text: &str) -> std::result::Result<std::time::Duration, String> {
    crate::duration::parse(text).map_err(|e| e.to_string())
}

pub fn run(args: Args, ctx: &Context) -> Result<u8> {
    let (records, bad) = ctx.audit_log().read()?;
    if bad > 0 {
        output::notice(&format!(
            "skipped {bad} unreadable line(s) of the audit log"
        ));
    }
    // A --since longer than chrono can subtract means "since the beginning".
    let cutoff = args
        .since
        .and_then(|d| chrono::TimeDelta::from_std(d).ok())
        .and_then(|d| chrono::Utc::now().checked_sub_signed(d));
    let shown: Vec<&Record> = records
        .iter()
        .filter(|r| args.profile.as_ref().is_none_or(|p| &r.profile == p))
        .filter(|r| cutoff.is_none_or(|c| r.time >= c))
        .collect();
    let mut text = String::new();
    if args.json {
        for r in shown {
            let json = serde_json::to_string(r).expect("records serialise");
            text.push_str(&crate::sanitize::escape_json(&json));
            text.push('\n');
        }
    } else {
        let rows: Vec<[String; 6]> = shown
            .iter()
            .map(|r| {
                let outcome = match r.outcome {
                    Outcome::Issued if r.cached => "issued (cached)",
                    Outcome::Issued => "issued",
                    Outcome::Refused => "refused",
                    Outcome::Error => "error",
                };
                [
                    r.time.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                    r.profile.clone(),
                    r.via.name().to_string(),
                    outcome.to_string(),
                    r.role_arn.clone().unwrap_or_else(|| "-".into()),
                    r.reason.clone().unwrap_or_else(|| "-".into()),
                ]
            })
            .collect();
        text = output::table(
            ["TIME", "PROFILE", "VIA", "OUTCOME", "ROLE", "REASON"],
            &rows,
        );
    }
    output::stdout(text.as_bytes())?;
    Ok(exit_codes::SUCCESS)
}
