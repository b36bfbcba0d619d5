//! The one audited path from a request to credentials: refuse everything while the system
//! policy is broken, resolve the chain with the rules that apply to it, check them (reason,
//! confirmation), plan, ask the rules' approvers, ask the engine, audit every issuing, refusal
//! and error, and notify; and, for a program `exec` runs, audit (and notify) its end.
//!
//! Knows nothing of the command line: `exec`, `export`, `login` and `rotate` each build a
//! [`Request`]. Never hands out credentials it could not audit. Records carry the access key id
//! handed out, never a secret.

mod session;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};

use secrecy::SecretString;

use crate::audit::{AuditLog, Outcome, Record, Via};
use crate::cache::Cache;
use crate::chain::{self, Chain};
use crate::context::Context;
use crate::engine::{self, Issued};
use crate::error::{Error, Result};
use crate::mfa::GivenCode;
use crate::plan::{self, Plan, PlanError};
use crate::vault::VaultSpec;
use crate::{output, policy, profiles};

pub use session::{Ending, Session};

/// What is asked for, in plain values.
#[derive(Default)]
pub struct Request {
    pub profile: String,
    pub duration: Option<Duration>,
    pub no_session: bool,
    pub mfa_token: Option<SecretString>,
    pub region: Option<String>,
    pub reason: Option<String>,
    /// Skip the break-glass confirmation (not the reason).
    pub yes: bool,
    pub refresh: bool,
    /// The caller is a program that shows nothing of broker's stderr (a `credential_process`):
    /// without a terminal, an SSO sign-in is refused at once rather than waited for.
    pub unattended: bool,
}

impl Request {
    /// The reason given, when it is one (see [`crate::sanitize::is_reason`]): text with at
    /// least three visible letters or digits.
    pub fn reason(&self) -> Option<String> {
        self.reason
            .as_deref()
            .filter(|r| crate::sanitize::is_reason(r))
            .map(|r| r.trim().to_owned())
    }
}

/// The chain of `request`, with the policy rules that apply to it, from the AWS files as they
/// are now.
pub fn resolve(ctx: &Context, request: &Request) -> Result<Chain> {
    let aws = profiles::AwsProfiles::load(&ctx.env)?;
    let chain_request = chain::Request {
        duration: request.duration,
        region: request.region.clone(),
        no_session: request.no_session,
    };
    Ok(chain::resolve(
        &request.profile,
        &aws,
        &ctx.settings,
        &ctx.policy,
        &ctx.env,
        &chain_request,
    )?)
}

/// The session tags a request sends: the reason as `BrokerReason`, when a rule that applies
/// says `tag_reason`.
pub fn reason_tags(reason: Option<&str>, policy: &policy::Effective) -> Vec<(String, String)> {
    match (reason, policy.tag_reason()) {
        (Some(reason), true) => vec![("BrokerReason".to_string(), policy::tag_value(reason))],
        _ => Vec::new(),
    }
}

/// A resolved request that passed its policy: it issues credentials and audits each issuing.
pub struct Issuer {
    pub chain: Chain,
    plan: Plan,
    /// The plan's notices are shown once, when it is first used.
    notices_pending: AtomicBool,
    /// The options of the first issuing: with `--refresh` and a `--mfa-token` code.
    options: engine::Options,
    /// The options of every later one (a credential server's): a code, good for seconds and
    /// once, is not kept for them, and credentials in their advisory window are served at once,
    /// their refresh left to the server.
    later: engine::Options,
    first_done: AtomicBool,
    cache: Cache,
    vault: VaultSpec,
    audit: AuditLog,
    reason: Option<String>,
    /// What the policy's approvers said, for every record this issuer writes.
    approval: Option<String>,
    /// The local user and the machine's name, for the policy's commands.
    user: String,
    host: String,
}

impl Issuer {
    /// Resolves the chain and applies its policy: the reason, the confirmation, the approvers.
    /// Errors and refusals are audited (as made `via`).
    pub fn new(ctx: &Context, request: Request, via: Via) -> Result<Issuer> {
        let profile = request.profile.clone();
        let reason = request.reason();
        let audit = ctx.audit.clone();
        let mut record = Record::new(&profile, via, reason.clone());
        if let Some(floor) = ctx.policy.refused() {
            record.outcome = Outcome::Refused;
            return Err(audited(&audit, record, Error::from(floor.clone())));
        }
        let resolved = resolve(ctx, &request);
        crate::timing::phase("resolve");
        let chain = match resolved {
            Ok(chain) => chain,
            Err(e) => return Err(audited(&audit, record, e)),
        };
        for notice in &chain.notices {
            output::notice(&notice.to_string());
        }
        describe(&mut record, &chain);
        let checked = policy::check(
            &profile,
            &chain.policy,
            request.reason.as_deref(),
            request.yes,
            chain.hands_out_long_term_keys(),
        );
        if let Err(e) = checked {
            record.outcome = Outcome::Refused;
            return Err(audited(&audit, record, e.into()));
        }
        let tags = reason_tags(reason.as_deref(), &chain.policy);
        let plan = match plan::plan(&chain, &tags, reason.as_deref()) {
            Ok(plan) => plan,
            Err(e) => {
                if matches!(e, PlanError::NoSessionPerReason { .. }) {
                    record.outcome = Outcome::Refused;
                }
                return Err(audited(&audit, record, e.into()));
            }
        };
        crate::timing::phase("plan");
        let hooks =
            !chain.policy.approvers().is_empty() || !chain.policy.notify_commands().is_empty();
        let (user, host) = if hooks {
            (ctx.env.user_name().to_string(), ctx.env.host_name())
        } else {
            Default::default()
        };
        let options = ctx.engine_options(
            request.refresh,
            GivenCode::new(request.mfa_token),
            tags,
            request.unattended,
        );
        let mut issuer = Issuer {
            notices_pending: AtomicBool::new(!plan.notices.is_empty()),
            plan,
            later: engine::Options {
                refresh: false,
                mfa_token: GivenCode::new(None),
                defer_advisory_refresh: via.is_server(),
                ..options.clone()
            },
            first_done: AtomicBool::new(false),
            options,
            chain,
            cache: ctx.cache(),
            vault: ctx.vault.clone(),
            audit,
            reason,
            approval: None,
            user,
            host,
        };
        match policy::approve(&issuer.chain.policy, &issuer.notice("approve", via)) {
            Ok(approval) => issuer.approval = approval,
            Err(e) => {
                record.outcome = Outcome::Refused;
                return Err(audited(&issuer.audit, record, e.into()));
            }
        }
        Ok(issuer)
    }

    /// Gets credentials, audits them, and runs the profile's notification.
    pub fn issue_and_notify(&self, via: Via) -> Result<Issued> {
        let (issued, _) = self.issue_timed(via)?;
        self.notify(via, &issued);
        Ok(issued)
    }

    /// A GetFederationToken console session for a plain IAM user, audited and notified.
    /// The session is named after `user_name`.
    pub fn federate_and_notify(
        &self,
        via: Via,
        duration: Duration,
        user_name: &str,
    ) -> Result<Issued> {
        let name = chain::sanitize_session_name(user_name);
        let (issued, _) = self.audit(via, || {
            Ok(engine::federation_token(
                &self.chain,
                &self.vault,
                &self.options,
                &name,
                duration,
            )?)
        })?;
        self.notify(via, &issued);
        Ok(issued)
    }

    /// Gets credentials and audits them (a credential-server refresh uses this alone).
    pub fn issue(&self, via: Via) -> Result<Issued> {
        self.issue_timed(via).map(|(issued, _)| issued)
    }

    /// [`issue`](Self::issue), with the time of the `issued` record.
    fn issue_timed(&self, via: Via) -> Result<(Issued, DateTime<Utc>)> {
        if self.notices_pending.swap(false, Ordering::Relaxed) {
            for notice in &self.plan.notices {
                output::notice(&notice.to_string());
            }
        }
        let options = if self.first_done.swap(true, Ordering::Relaxed) {
            &self.later
        } else {
            &self.options
        };
        self.audit(via, || self.obtain(options))
    }

    /// Makes the refresh that credentials handed out in their advisory window are due (see
    /// [`engine::Options::defer_advisory_refresh`]), and audits it.
    pub fn refresh(&self, via: Via) -> Result<Issued> {
        let options = engine::Options {
            defer_advisory_refresh: false,
            ..self.later.clone()
        };
        self.audit(via, || self.obtain(&options))
            .map(|(issued, _)| issued)
    }

    fn obtain(&self, options: &engine::Options) -> Result<Issued> {
        Ok(engine::obtain(
            &self.chain,
            &self.plan,
            &self.cache,
            &self.vault,
            options,
        )?)
    }

    /// A record of this request's chain, reason and approval, made `via`; its outcome still to
    /// say.
    fn record_of(&self, via: Via) -> Record {
        let mut record = Record::new(&self.chain.profile, via, self.reason.clone());
        describe(&mut record, &self.chain);
        record.approval = self.approval.clone();
        record
    }

    /// Runs `get` and appends its outcome to the audit log; credentials that cannot be
    /// audited are not handed out. Returns them with the time of their record.
    fn audit(
        &self,
        via: Via,
        get: impl FnOnce() -> Result<Issued>,
    ) -> Result<(Issued, DateTime<Utc>)> {
        let mut record = self.record_of(via);
        match get() {
            Ok(issued) => {
                let key = &issued.credentials.access_key_id;
                record.outcome = Outcome::Issued;
                record.cached = issued.cached;
                record.expiration = issued.credentials.expiration;
                record.account_id = account(&self.chain, key);
                record.access_key_id = Some(key.clone());
                record.note = issued.note.clone();
                crate::timing::phase("obtain");
                self.audit.append(&record)?;
                crate::timing::phase("audit");
                Ok((issued, record.time))
            }
            Err(e) => Err(audited(&self.audit, record, e)),
        }
    }

    /// Records an event after the issuing (a refused request to the credentials server, a
    /// console sign-in that went wrong) in the audit log.
    pub fn record(&self, via: Via, outcome: Outcome, message: &str) {
        let mut record = self.record_of(via);
        record.outcome = outcome;
        audited(&self.audit, record, Error::new(message));
    }

    fn notify(&self, via: Via, issued: &Issued) {
        let credentials = &issued.credentials;
        self.run_notify_command(policy::Notice {
            access_key_id: Some(&credentials.access_key_id),
            expiration: credentials.expiration_rfc3339(),
            ..self.notice("issued", via)
        });
    }

    /// What the policy's commands are told of `event`, as far as the chain says.
    fn notice(&self, event: &'static str, via: Via) -> policy::Notice<'_> {
        policy::Notice {
            event,
            profile: &self.chain.profile,
            role_arn: self.chain.role_arn(),
            reason: self.reason.as_deref(),
            expiration: None,
            via: via.name(),
            access_key_id: None,
            exit_status: None,
            user: &self.user,
            host: &self.host,
        }
    }

    /// Runs every `notify_command` of the policy, the system file's first.
    fn run_notify_command(&self, notice: policy::Notice<'_>) {
        for command in self.chain.policy.notify_commands() {
            policy::notify(command, &notice);
        }
    }
}

fn describe(record: &mut Record, chain: &Chain) {
    let last = chain.hops.last();
    record.role_arn = last.map(|h| h.role_arn.clone());
    record.session_name = last.map(|h| h.session_name.clone());
    record.source_identity = last.and_then(|h| h.source_identity.clone());
    record.account_id = configured_account(chain);
    record.rules = chain.policy.origins();
}

/// The account the chain's credentials act in, as the config says: the last role's, else the
/// IAM Identity Center role's.
pub fn configured_account(chain: &Chain) -> Option<String> {
    match (&chain.source, chain.role_arn()) {
        (_, Some(arn)) => crate::audit::account_from_arn(arn),
        (crate::chain::Source::Sso { account_id, .. }, None) => Some(account_id.clone()),
        _ => None,
    }
}

/// The account credentials act in: the configured one, else the one their access key id
/// encodes (no STS call to ask; `None` for keys of the old format, which do not say).
fn account(chain: &Chain, access_key_id: &str) -> Option<String> {
    configured_account(chain).or_else(|| crate::audit::account_from_key(access_key_id))
}

/// Records a failure (an error, or a refusal when the record says so) and returns it.
fn audited(audit: &AuditLog, mut record: Record, error: Error) -> Error {
    record.error = Some(error.message().to_string());
    if let Err(e) = audit.append(&record) {
        output::notice(&format!("warning: {e}"));
    }
    error
}
