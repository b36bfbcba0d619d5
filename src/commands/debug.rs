//! `broker debug`: what broker would do, shown without doing it.
//!
//! `debug resolve` prints the chain and the plan of STS calls that exec/export/login would make
//! for a profile, built by the same resolver and planner, and the policy rules that apply to it
//! (and where each comes from), without calling STS, opening the vault or reading the cache.
//! It never prints a secret: there is none at hand.

use std::time::Duration;

use serde_json::{json, Value};

use crate::chain::{Chain, RoleHop, Source};
use crate::context::Context;
use crate::error::Result;
use crate::issue::{self, Request};
use crate::plan::{self, Action, Plan, Step};
use crate::policy::{Anchor, Matched, SystemPolicy};
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
/// Resolves PROFILE as exec, export and login do (the AWS config, config.toml, the system
/// policy, the environment and these options) and prints where its credentials come from,
/// every STS call with what it would send (role, session name, external id, source identity,
/// duration, MFA device, session tags), the region, the STS endpoint (FIPS and dual-stack
/// resolved as the SDKs do), the proxy it is reached through, what HTTPS trusts, and the policy
/// rules that apply, each with the file it comes from and what it matched. Calls nothing, opens
/// no vault, reads no cache. A system policy that stops issuing is reported, not an error.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  broker debug resolve prod-admin
  AWS_REGION=eu-west-1 broker debug resolve --json prod-admin | jq .calls")]
struct ResolveArgs {
    /// The profile [default: $AWS_DEFAULT_PROFILE, else $AWS_PROFILE, else the profile "default"
    /// if there is one, else chosen from a list on the terminal]
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
    let chain = issue::resolve(ctx, &request)?;
    let reason = request.reason();
    let tags = issue::reason_tags(reason.as_deref(), &chain.policy);
    let plan = plan::plan(&chain, &tags, reason.as_deref())?;
    let text = if args.json {
        let mut value = describe(&chain, &plan);
        value["policy"] = policy_json(ctx, &chain, &plan);
        let json = serde_json::to_string(&value).expect("JSON values print");
        format!("{}\n", sanitize::escape_json(&json))
    } else {
        human(&chain, &plan, &policy_text(ctx, &chain, &plan))
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
    let sts_url = chain.sts.url(&chain.region);
    let proxy = match proxy_of(chain, &sts_url) {
        Ok(proxy) => json!(proxy),
        Err(e) => json!({ "error": e.to_string() }),
    };
    let retry = match chain.net.retry.check() {
        Ok(r) => json!({
            "mode": if r.adaptive { "adaptive" } else { "standard" },
            "max_attempts": r.max_attempts,
        }),
        Err(e) => json!({ "error": e.to_string() }),
    };
    json!({
        "profile": chain.profile,
        "source": source_json(&chain.source),
        "hops": chain.hops.iter().map(hop_json).collect::<Vec<_>>(),
        "steps": plan.steps.iter().map(|s| step_json(chain, s)).collect::<Vec<_>>(),
        "mfa_process": chain.mfa_process,
        "region": chain.region,
        "region_source": chain.region_source.name(),
        "endpoint": chain.sts.url,
        "sts_url": sts_url,
        "proxy": proxy,
        "trust": chain.net.trust.describe(),
        "retry": retry,
        "notices": notices,
    })
}

/// The proxy STS is reached through (`host:port`, or `None` for direct), or why the proxy
/// variables cannot be used.
fn proxy_of(
    chain: &Chain,
    sts_url: &str,
) -> std::result::Result<Option<String>, crate::net::ProxyError> {
    crate::net::Proxies::parse(&chain.net.proxy).map(|p| p.route(sts_url).map(ToString::to_string))
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
            "oidc_url": session.oidc.url(&session.region),
            "portal_url": session.portal.url(&session.region),
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

/// Where a rule's file is: the system policy's path, or config.toml's.
fn rule_file(ctx: &Context, file: crate::policy::effective::FileKind) -> String {
    match (&ctx.policy.system, file) {
        (SystemPolicy::Trusted { path, .. }, crate::policy::effective::FileKind::System) => {
            path.display().to_string()
        }
        _ => ctx.settings_path.display().to_string(),
    }
}

/// Where a rule matched, in words: `[[role]] arn = "GLOB" matched ARN (profile P)`.
fn matched_text(chain: &Chain, applied: &crate::policy::effective::Applied) -> String {
    let profile = match applied.anchor {
        Anchor::Source => chain.source.profile(),
        Anchor::Hop(i) => &chain.hops[i].profile,
    };
    match &applied.matched {
        Matched::Role { glob, arn } => {
            format!("[[role]] arn = \"{glob}\" matched {arn} (profile {profile})")
        }
        Matched::Profile(name) if *name == chain.profile => {
            format!("[profile.{name}]: the profile asked for")
        }
        Matched::Profile(name) => format!("[profile.{name}]: the chain goes through it"),
    }
}

/// The policy for a reader: what the rules ask together, each rule with its file and what it
/// matched, and from which step the cache keeps a session per reason (nothing when no rule
/// applies); first, when the system policy stops every issuing, why.
fn policy_text(ctx: &Context, chain: &Chain, plan: &Plan) -> String {
    let mut out = String::new();
    if let Some(e) = ctx.policy.refused() {
        out += &format!("policy: ISSUING REFUSED: {e}\n");
    }
    let policy = &chain.policy;
    if policy.is_empty() {
        return out;
    }
    out += &format!("policy: {}\n", policy.summary());
    for applied in &policy.applied {
        out += &format!(
            "  {} ({}): {}\n",
            applied.origin,
            rule_file(ctx, applied.origin.file),
            matched_text(chain, applied)
        );
    }
    if let Some(step) = plan.per_reason_from {
        out += &format!(
            "  break-glass: a session of its own for each reason, from step {} on\n",
            step + 1
        );
    }
    out
}

/// The policy as JSON: what the rules ask together, and each rule.
fn policy_json(ctx: &Context, chain: &Chain, plan: &Plan) -> Value {
    let policy = &chain.policy;
    let rules: Vec<Value> = policy
        .applied
        .iter()
        .map(|a| {
            let (place, hop) = match a.anchor {
                Anchor::Source => ("source", None),
                Anchor::Hop(i) => ("hop", Some(i)),
            };
            let (profile_rule, role_glob, role_arn) = match &a.matched {
                Matched::Profile(name) => (Some(name), None, None),
                Matched::Role { glob, arn } => (None, Some(glob), Some(arn)),
            };
            json!({
                "rule": a.origin.to_string(),
                "file": rule_file(ctx, a.origin.file),
                "profile": profile_rule,
                "arn": role_glob,
                "matched": {"place": place, "hop": hop, "role_arn": role_arn},
            })
        })
        .collect();
    json!({
        "refused": ctx.policy.refused().map(ToString::to_string),
        "break_glass": policy.break_glass(),
        "require_reason": policy.require_reason(),
        "tag_reason": policy.tag_reason(),
        "max_duration_seconds": policy.max_duration().map(|d| d.as_secs()),
        "reason_patterns": policy.reason_patterns().map(|(p, origin)| {
            json!({"pattern": p.as_str(), "rule": origin.to_string()})
        }).collect::<Vec<_>>(),
        "approve_commands": policy.approvers().iter().map(|a| {
            json!({"command": a.command, "timeout_seconds": a.timeout.as_secs(), "rule": a.origin.to_string()})
        }).collect::<Vec<_>>(),
        "notify_commands": policy.notify_commands(),
        "rules": rules,
        "per_reason_from_step": plan.per_reason_from,
    })
}

/// The chain, its plan and its policy (`policy`, as [`policy_text`] writes it) for a reader.
fn human(chain: &Chain, plan: &Plan, policy: &str) -> String {
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
    let sts_url = chain.sts.url(&chain.region);
    out += &format!("STS endpoint: {sts_url}");
    match proxy_of(chain, &sts_url) {
        Ok(Some(proxy)) => out += &format!(" through proxy {proxy}"),
        Ok(None) => {}
        Err(e) => out += &format!(" ({e})"),
    }
    out += "\n";
    if chain.net.trust.bundle.is_some() {
        out += &format!("trust: {}\n", chain.net.trust.describe());
    }
    for notice in chain.notices.iter().chain(&plan.notices) {
        out += &format!("notice: {notice}\n");
    }
    out += policy;
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
