//! The options shared by the commands that hand out credentials (export, exec, login), and the
//! one path from them to credentials: resolve the chain, apply the profile's policy, ask the
//! engine, and audit every issuing, refusal and error.

use std::time::Duration;

use secrecy::SecretString;

use crate::audit::{AuditLog, Outcome, Record, Via};
use crate::cache::Cache;
use crate::chain::{self, Chain};
use crate::context::Context;
use crate::engine::{self, Issued};
use crate::error::{Error, Result};
use crate::vault::VaultSpec;
use crate::{output, policy, profiles};

#[derive(Debug, clap::Args)]
pub struct CredentialArgs {
    /// The profile to use [default: $AWS_PROFILE, else "default"]
    #[arg(value_name = "PROFILE", add = super::completions::profiles())]
    pub profile: Option<String>,

    /// How long the credentials last, like 15m, 1h or 3600s (AWS allows 15m to 12h for a role,
    /// to 36h for a session token; a role assumed from another role gets at most 1h)
    #[arg(short, long, value_name = "DURATION", value_parser = parse_duration)]
    pub duration: Option<Duration>,

    /// Skip GetSessionToken: hand out the stored keys themselves, or assume the first role
    /// with them directly
    #[arg(short = 'n', long)]
    pub no_session: bool,

    /// The current code of the profile's MFA device, instead of asking for it
    #[arg(short = 't', long, value_name = "CODE", value_parser = crate::mfa::parse_code)]
    pub mfa_token: Option<String>,

    /// The region for STS and for the credentials' environment [default: the profile's
    /// region, else $AWS_REGION, else $AWS_DEFAULT_REGION, else us-east-1]
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// Why you need these credentials; recorded in the audit log (required by profiles with
    /// require_reason or break_glass, and sent as the BrokerReason tag with tag_reason)
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,

    /// Skip the typed confirmation of a break-glass profile (not its reason)
    #[arg(long)]
    pub yes: bool,

    /// Ignore cached credentials for this call, and replace them
    #[arg(long)]
    pub refresh: bool,
}

fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    let d = crate::duration::parse(text).map_err(|e| e.to_string())?;
    if d < chain::MIN_DURATION || d > chain::MAX_SESSION_TOKEN_DURATION {
        return Err(format!(
            "{} is outside AWS's bounds of 15m to 36h",
            crate::duration::format(d)
        ));
    }
    Ok(d)
}

/// A resolved request that passed its policy: it issues credentials and audits each issuing.
pub struct Issuer {
    pub chain: Chain,
    pub options: engine::Options,
    cache: Cache,
    vault: VaultSpec,
    audit: AuditLog,
    reason: Option<String>,
    notify_command: Vec<String>,
}

impl CredentialArgs {
    /// The profile named, else `AWS_PROFILE`, else `default`.
    pub fn profile_name(&self) -> String {
        self.profile
            .clone()
            .unwrap_or_else(profiles::default_profile_name)
    }

    /// Resolves the chain and applies the profile's policy. Errors and refusals are audited.
    pub fn issuer(&self, ctx: &Context, via: Via) -> Result<Issuer> {
        let profile = self.profile_name();
        let policy = ctx.settings.policy(&profile).cloned().unwrap_or_default();
        let reason = self
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_owned);
        let audit = ctx.audit_log();
        let mut record = Record::new(&profile, via, reason.clone());
        let chain = match self.resolve(ctx, policy::max_duration(&policy)) {
            Ok(chain) => chain,
            Err(e) => return Err(audited(&audit, record, e)),
        };
        describe(&mut record, &chain);
        if let Err(e) = policy::check(&profile, &policy, reason.as_deref(), self.yes) {
            record.outcome = Outcome::Refused;
            return Err(audited(&audit, record, e));
        }
        let tags = match (&reason, policy.tag_reason) {
            (Some(reason), true) => vec![("BrokerReason".to_string(), policy::tag_value(reason))],
            _ => Vec::new(),
        };
        Ok(Issuer {
            options: ctx.engine_options(
                self.refresh,
                self.mfa_token.clone().map(SecretString::from),
                tags,
            ),
            chain,
            cache: ctx.cache(),
            vault: ctx.vault_spec(),
            audit,
            reason,
            notify_command: policy.notify_command,
        })
    }

    fn resolve(&self, ctx: &Context, max_duration: Option<Duration>) -> Result<Chain> {
        let aws = profiles::AwsProfiles::load()?;
        let request = chain::Request {
            duration: self.duration,
            region: self.region.clone(),
            no_session: self.no_session,
            max_duration,
        };
        let chain = chain::resolve(&self.profile_name(), &aws, &ctx.settings, &request)
            .map_err(Error::from)?;
        for notice in &chain.notices {
            output::notice(notice);
        }
        Ok(chain)
    }
}

impl Issuer {
    /// Gets credentials, audits them, and runs the profile's notification.
    pub fn issue_and_notify(&self, via: Via) -> Result<Issued> {
        let issued = self.issue(via)?;
        self.notify(via, &issued);
        Ok(issued)
    }

    /// A GetFederationToken console session for a plain IAM user, audited and notified.
    pub fn federate_and_notify(&self, via: Via, duration: Duration) -> Result<Issued> {
        let issued = self.audit(via, || {
            engine::federation_token(&self.chain, &self.vault, &self.options, duration)
        })?;
        self.notify(via, &issued);
        Ok(issued)
    }

    /// Gets credentials and audits them (a credential-server refresh uses this alone).
    pub fn issue(&self, via: Via) -> Result<Issued> {
        self.audit(via, || {
            engine::obtain(&self.chain, &self.cache, &self.vault, &self.options)
        })
    }

    /// Runs `get` and appends its outcome to the audit log; credentials that cannot be
    /// audited are not handed out.
    fn audit(&self, via: Via, get: impl FnOnce() -> Result<Issued>) -> Result<Issued> {
        let mut record = Record::new(&self.chain.profile, via, self.reason.clone());
        describe(&mut record, &self.chain);
        match get() {
            Ok(issued) => {
                record.outcome = Outcome::Issued;
                record.cached = issued.cached;
                record.expiration = issued.credentials.expiration;
                self.audit.append(&record)?;
                Ok(issued)
            }
            Err(e) => Err(audited(&self.audit, record, e)),
        }
    }

    /// Records an event after the issuing (a refused request to the credentials server, a
    /// console sign-in that went wrong) in the audit log.
    pub fn record(&self, via: Via, outcome: Outcome, message: &str) {
        let mut record = Record::new(&self.chain.profile, via, self.reason.clone());
        describe(&mut record, &self.chain);
        record.outcome = outcome;
        audited(&self.audit, record, Error::new(message));
    }

    fn notify(&self, via: Via, issued: &Issued) {
        if self.notify_command.is_empty() {
            return;
        }
        policy::notify(
            &self.notify_command,
            &policy::Notice {
                profile: &self.chain.profile,
                role_arn: self.chain.role_arn(),
                reason: self.reason.as_deref(),
                expiration: issued.credentials.expiration_rfc3339(),
                via: via.name(),
            },
        );
    }
}

fn describe(record: &mut Record, chain: &Chain) {
    let last = chain.hops.last();
    record.role_arn = last.map(|h| h.role_arn.clone());
    record.session_name = last.map(|h| h.session_name.clone());
    record.source_identity = last.and_then(|h| h.source_identity.clone());
}

/// Records a failure (an error, or a refusal when the record says so) and returns it.
fn audited(audit: &AuditLog, mut record: Record, error: Error) -> Error {
    record.error = Some(error.message().to_string());
    if let Err(e) = audit.append(&record) {
        output::notice(&format!("warning: {}", e.message()));
    }
    error
}
