//! `broker debug`: what broker would do, shown without doing it.
//!
//! `debug resolve` prints the chain and the plan of STS calls that exec/export/login would make
//! for a profile, built by the same resolver and planner, without calling STS, opening the vault
//! or reading the cache. It never prints a secret: there is none at hand.

use std::time::Duration;

use serde_json::{json, Value};

use crate::chain::{Chain, RoleHop, Source};
use crate::context::Context;
use crate::error::Result;
use crate::issue::{self, Request};
use crate::plan::{self, Action, Plan, Step};
use crate::{exit_codes, output, sanitize};

/// Show what broker would do, without doing it
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  broker debug resolve prod-admin
  broker debug resolve --json --region eu-west-1 prod-admin")]
pub struct Args {
    #[command(subcommand)]
    command: DebugCommand,
}

#[derive(Debug, clap::Subcommand)]
enum DebugCommand {
    Resolve(ResolveArgs),
}

/// Print the chain and the STS calls that would make a profile's credentials
///
/// Resolves PROFILE as exec, export and login do (the AWS config, config.toml's policy, the
/// environment and these options) and prints where its credentials come from, every STS call
/// with what it would send (role, session name, external id, source identity, duration, MFA
/// device, session tags), the region and the STS endpoint. Calls nothing, opens no vault,
/// reads no cache.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  broker debug resolve prod-admin
  AWS_REGION=eu-west-1 broker debug resolve --json prod-admin | jq .calls")]
struct ResolveArgs {
    /// The profile [default: $AWS_PROFILE, else the profile "default" if there is one, else
    /// chosen from a list on the terminal]
    #[arg(value_name = "PROFILE", add = super::completions::profiles())]
    profile: Option<String>,

    /// Print one JSON object (its fields may grow between versions)
    #[arg(long)]
    json: bool,

    /// As for exec: the duration asked for, like 15m, 1h or 3600s
    #[arg(short, long, value_name = "DURATION", value_parser = super::credential_args::parse_duration)]
    duration: Option<Duration>,

    /// As for exec: skip GetSessionToken
    #[arg(short = 'n', long)]
    no_session: bool,

    /// As for exec: the region
    #[arg(long, value_name = "REGION")]
    region: Option<String>,

    /// As for exec: the reason, which shows where the BrokerReason tag would go
    #[arg(long, value_name = "TEXT")]
    reason: Option<String>,
}

pub fn run(args: Args, ctx: &Context) -> Result<u8> {
    match args.command {
        DebugCommand::Resolve(args) => resolve(args, ctx),
    }
}

fn resolve(args: ResolveArgs, ctx: &Context) -> Result<u8> {
    let request = Request {
        profile: super::credential_args::profile_or_default(args.profile.as_ref(), ctx)?,
        duration: args.duration,
        no_session: args.no_session,
        region: args.region,
        reason: args.reason,
        ..Request::default()
    };
    let policy = ctx
        .settings
        .policy(&request.profile)
        .cloned()
        .unwrap_or_default();
    let chain = issue::resolve(ctx, &request, &policy)?;
    let tags = issue::reason_tags(request.reason().as_deref(), &policy);
    let plan = plan::plan(&chain, &tags).map_err(crate::engine::EngineError::from)?;
    let text = if args.json {
        let json = serde_json::to_string(&describe(&chain, &plan)).expect("JSON values print");
        format!("{}\n", sanitize::escape_json(&json))
    } else {
        human(&chain, &plan)
    };
    output::stdout(text.as_bytes())?;
    Ok(exit_codes::SUCCESS)
}

/// The chain and its plan as one JSON object.
pub fn describe(chain: &Chain, plan: &Plan) -> Value {
    let notices: Vec<String> = chain
        .notices
        .iter()
        .chain(&plan.notices)
        .map(ToString::to_string)
        .collect();
    json!({
        "profile": chain.profile,
        "source": source_json(&chain.source),
        "hops": chain.hops.iter().map(hop_json).collect::<Vec<_>>(),
        "steps": plan.steps.iter().map(|s| step_json(chain, s)).collect::<Vec<_>>(),
        "mfa_process": chain.mfa_process,
        "region": chain.region,
        "region_source": chain.region_source.name(),
        "endpoint": chain.endpoint,
        "notices": notices,
    })
}

fn source_json(source: &Source) -> Value {
    match source {
        Source::Vault { profile } => json!({"kind": "vault", "profile": profile}),
        Source::WebIdentity {
            profile,
            token_file,
        } => json!({
            "kind": "web_identity",
            "profile": profile,
            "token_file": token_file.display().to_string(),
        }),
        Source::Process { profile, command } => {
            json!({"kind": "process", "profile": profile, "command": command})
        }
        Source::Sso {
            profile,
            session,
            account_id,
            role_name,
        } => json!({
            "kind": "sso",
            "profile": profile,
            "sso_session": session.name,
            "sso_start_url": session.start_url,
            "sso_region": session.region,
            "sso_account_id": account_id,
            "sso_role_name": role_name,
        }),
    }
}

fn tags_json(tags: &[(String, String)]) -> Vec<Value> {
    tags.iter()
        .map(|(k, v)| json!({"key": k, "value": v}))
        .collect()
}

fn hop_json(hop: &RoleHop) -> Value {
    json!({
        "profile": hop.profile,
        "role_arn": hop.role_arn,
        "session_name": hop.session_name,
        "external_id": hop.external_id,
        "source_identity": hop.source_identity,
        "duration_seconds": hop.duration.as_secs(),
        "mfa_serial": hop.mfa_serial,
        "session_tags": tags_json(&hop.session_tags),
        "transitive_tag_keys": hop.transitive_tag_keys,
    })
}

fn step_json(chain: &Chain, step: &Step) -> Value {
    let mut value = json!({
        "action": step.action.name(),
        "profile": step.profile,
        "mfa_serial": step.mfa,
        "cache_entry": step.key.hash(),
    });
    let fields = value.as_object_mut().expect("an object");
    if step.action == Action::SessionToken {
        fields.insert(
            "duration_seconds".into(),
            chain.session_duration.as_secs().into(),
        );
    }
    if let Some((index, hop)) = hop_of(chain, step) {
        fields.insert("hop".into(), index.into());
        fields.insert("role_arn".into(), hop.role_arn.clone().into());
        fields.insert("duration_seconds".into(), hop.duration.as_secs().into());
        fields.insert("tags".into(), tags_json(&step.tags).into());
        fields.insert(
            "transitive_tag_keys".into(),
            step.transitive_tag_keys.clone().into(),
        );
    }
    value
}

/// The hop a role step assumes, with its index.
fn hop_of<'a>(chain: &'a Chain, step: &Step) -> Option<(usize, &'a RoleHop)> {
    let index = match step.action {
        Action::Role(i) => i,
        Action::WebIdentity => 0,
        Action::SsoRole | Action::SessionToken => return None,
    };
    Some((index, &chain.hops[index]))
}

/// The chain and its plan for a reader.
fn human(chain: &Chain, plan: &Plan) -> String {
    let mut out = format!("profile {}\n", chain.profile);
    out += &format!("source: {}\n", source_text(&chain.source));
    for (n, step) in plan.steps.iter().enumerate() {
        out += &format!("{}. {}\n", n + 1, step_text(chain, step));
    }
    if plan.steps.is_empty() {
        out += "no STS call: the source's own credentials are handed out\n";
    }
    out += &format!(
        "region: {} (from {})\n",
        chain.region,
        chain.region_source.name()
    );
    out += &format!(
        "STS endpoint: {}\n",
        chain
            .endpoint
            .as_deref()
            .unwrap_or("the region's public endpoint")
    );
    for notice in chain.notices.iter().chain(&plan.notices) {
        out += &format!("notice: {notice}\n");
    }
    out.lines()
        .map(|line| sanitize::escape(line).into_owned() + "\n")
        .collect()
}

fn source_text(source: &Source) -> String {
    match source {
        Source::Vault { profile } => format!("the keys stored for {profile}"),
        Source::WebIdentity {
            profile,
            token_file,
        } => format!(
            "the web identity token {} ({profile})",
            token_file.display()
        ),
        Source::Process { profile, command } => {
            format!("credential_process `{command}` ({profile})")
        }
        Source::Sso {
            profile,
            session,
            account_id,
            role_name,
        } => format!(
            "IAM Identity Center role {role_name} in account {account_id}, SSO session {} \
             ({profile})",
            session.name
        ),
    }
}

/// One step as a line: the call, what it asks for, its duration, MFA device and tags.
fn step_text(chain: &Chain, step: &Step) -> String {
    let mut line = step.action.name().to_string();
    let duration = match hop_of(chain, step) {
        _ if step.action == Action::SsoRole => return format!("{line} for {}", step.profile),
        None => {
            line += &format!(" for {}", step.profile);
            chain.session_duration
        }
        Some((_, hop)) => {
            line += &format!(" {} as {}", hop.role_arn, hop.session_name);
            if hop.profile != chain.profile {
                line += &format!(" (profile {})", hop.profile);
            }
            if let Some(id) = &hop.external_id {
                line += &format!(", external id {id}");
            }
            if let Some(id) = &hop.source_identity {
                line += &format!(", source identity {id}");
            }
            hop.duration
        }
    };
    line += &format!(", {}", crate::duration::format(duration));
    if let Some(serial) = &step.mfa {
        line += &format!(", MFA {serial}");
    }
    if !step.tags.is_empty() {
        let tags: Vec<String> = step.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        line += &format!(", tags {}", tags.join(","));
    }
    if !step.transitive_tag_keys.is_empty() {
        line += &format!(" (transitive {})", step.transitive_tag_keys.join(","));
    }
    line
}
