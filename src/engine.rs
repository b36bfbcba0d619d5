//! The credentials engine: carries out a [`Plan`] from the chain's source to the profile asked
//! for, taking each step from the cache when it is fresh, and otherwise from STS under a
//! per-step lock, so that concurrent processes make one STS call per hop and show one MFA
//! prompt. Inside a step's advisory window a failed refresh falls back to the cached
//! credentials; an ExpiredToken on a cached parent drops it and retries once.
//!
//! The warm path (the last step cached) builds no SDK client, starts no runtime and opens no
//! vault. Never logs or returns a secret in an error.

use std::cell::OnceCell;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use secrecy::SecretString;

use crate::aws::{AwsCode, AwsError};
use crate::cache::{Cache, CacheError, EntryKey, Freshness};
use crate::chain::{Chain, Source};
use crate::credentials::Credentials;
use crate::mfa::{self, GivenCode, MfaError};
use crate::output::{notice, verbose};
use crate::plan::{Action, Plan, Step};
use crate::process::ProcessError;
use crate::settings::MfaPrompt;
use crate::sso::{Barred, Portal, SignIn, SsoError};
use crate::sts::{Mfa, Sts};
use crate::vault::{self, VaultError, VaultSpec};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{error}")]
    Aws {
        /// The profile whose stored keys (or process, or token) the chain starts from.
        source_profile: String,
        #[source]
        error: AwsError,
    },
    #[error("STS refused the cached {kind} credentials of {profile} as expired")]
    Expired {
        kind: crate::cache::EntryKind,
        profile: String,
    },
    #[error("no keys are stored for profile {profile} in the {backend} vault{}",
        match (in_aws_files, temporary) {
            (_, true) => "; the AWS credentials file holds temporary credentials for it",
            (true, false) => "; they are in the AWS credentials file",
            (false, false) => "",
        })]
    NoKeys {
        profile: String,
        backend: &'static str,
        /// The profile has `aws_access_key_id` in the AWS files.
        in_aws_files: bool,
        /// …with `aws_session_token`: temporary credentials, which `import` refuses.
        temporary: bool,
    },
    #[error("profile {profile} has no credentials of its own to hand out, only a role's")]
    NoOwnCredentials { profile: String },
    #[error("cannot read web_identity_token_file {path}: {source}")]
    TokenFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    CredentialProcess(#[from] ProcessError),
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error(transparent)]
    Mfa(#[from] MfaError),
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error(transparent)]
    MfaUnsendable(#[from] crate::plan::PlanError),
    #[error(transparent)]
    Net(#[from] crate::net::NetError),
    #[error(transparent)]
    Sso(#[from] SsoError),
}

type Result<T, E = EngineError> = std::result::Result<T, E>;

#[derive(Clone)]
pub struct Options {
    /// Make new credentials for every step (but a still-fresh MFA session) and replace them.
    pub refresh: bool,
    /// The code given with `--mfa-token`, used at most once.
    pub mfa_token: GivenCode,
    pub mfa_prompt: MfaPrompt,
    pub mfa_process_timeout: Duration,
    /// How long a `credential_process` may run.
    pub credential_process_timeout: Duration,
    pub min_ttl: Duration,
    /// How long one STS call may take.
    pub sts_timeout: Duration,
    /// Hand out credentials in their advisory window at once, and leave the refresh they are
    /// due to the caller (the credential server, whose clients must not wait on STS while
    /// valid credentials are at hand).
    pub defer_advisory_refresh: bool,
    /// The request's session tags (the reason), for GetFederationToken; the plan's steps carry
    /// what each AssumeRole sends.
    pub tags: Vec<(String, String)>,
    /// How to sign in to an SSO session when it needs it.
    pub sso: SignIn,
}

/// Credentials handed out, and whether they came from the cache.
pub struct Issued {
    pub credentials: Credentials,
    pub cached: bool,
    /// In their advisory window, handed out without the refresh they are due (see
    /// [`Options::defer_advisory_refresh`]).
    pub refresh_due: bool,
    /// What was used in its advisory window because its refresh failed, and why: for the
    /// audit record (the user was warned on stderr).
    pub note: Option<String>,
}

impl Issued {
    fn made(credentials: Credentials, cached: bool) -> Issued {
        Issued {
            credentials,
            cached,
            refresh_due: false,
            note: None,
        }
    }
}

/// Everything a cold run needs, created on first use.
struct Cold<'a> {
    chain: &'a Chain,
    vault: &'a VaultSpec,
    options: &'a Options,
    sts: OnceCell<Sts>,
    source: OnceCell<Credentials>,
    /// What was used in its advisory window, and why (see [`Issued::note`]).
    note: std::cell::RefCell<Option<String>>,
}

/// Gets credentials for `chain` by `plan`.
pub fn obtain(
    chain: &Chain,
    plan: &Plan,
    cache: &Cache,
    vault: &VaultSpec,
    options: &Options,
) -> Result<Issued> {
    let cold = Cold::new(chain, vault, options);
    let Some(last) = plan.steps.last() else {
        // --no-session without a role, or a credential_process without a role.
        return Ok(Issued::made(cold.source()?.clone(), false));
    };
    if !options.refresh {
        if let Some(cached) = cache.get_fresh(&last.key, options.min_ttl) {
            let deferred = options.defer_advisory_refresh && cached.freshness == Freshness::Usable;
            if cached.freshness == Freshness::Fresh || deferred {
                verbose(format!(
                    "using cached {} credentials of {}",
                    last.key.kind, last.key.profile
                ));
                return Ok(Issued {
                    refresh_due: deferred,
                    ..Issued::made(cached.credentials, true)
                });
            }
        }
    }
    match cold.run(cache, &plan.steps) {
        Err(Retry::Expired(key)) => {
            verbose("a cached session was rejected as expired; dropping it and retrying once");
            cache.remove(&key);
            cold.run(cache, &plan.steps).map_err(Retry::into_error)
        }
        other => other.map_err(Retry::into_error),
    }
}

/// A console session for a plain IAM user: GetFederationToken with the stored keys as
/// `name`, carrying the request's session tags. Not cached: a sign-in is rare, and the token
/// is good for one console session.
pub fn federation_token(
    chain: &Chain,
    vault: &VaultSpec,
    options: &Options,
    name: &str,
    duration: Duration,
) -> Result<Issued> {
    let cold = Cold::new(chain, vault, options);
    let keys = cold.source()?;
    let name: String = name.chars().take(32).collect();
    verbose(format!(
        "GetFederationToken for {} as {name}",
        chain.source.profile()
    ));
    let credentials = cold
        .sts()?
        .get_federation_token(keys, &name, duration, &options.tags)
        .map_err(|e| cold.aws_error(e))?;
    check_expiry(&credentials, "GetFederationToken");
    Ok(Issued::made(credentials, false))
}

enum Retry {
    /// A cached parent was refused with ExpiredToken: drop it and try again.
    Expired(EntryKey),
    Fail(EngineError),
}

impl Retry {
    fn into_error(self) -> EngineError {
        match self {
            Retry::Expired(key) => EngineError::Expired {
                kind: key.kind,
                profile: key.profile,
            },
            Retry::Fail(e) => e,
        }
    }
}

impl From<CacheError> for Retry {
    fn from(e: CacheError) -> Self {
        Retry::Fail(e.into())
    }
}

/// Warns, once per process, about credentials that are already expired by the local clock:
/// STS made them moments ago, so the clock is off.
fn check_expiry(credentials: &Credentials, action: &str) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    let Some(expiration) = credentials.expiration else {
        return;
    };
    if expiration <= crate::clock::now() && !WARNED.swap(true, Ordering::Relaxed) {
        notice(&format!(
            "warning: {action} returned credentials that expired at {} by the local clock: \
             the clock seems to be off (AWS allows 5 minutes of skew); they cannot be cached",
            expiration.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ));
    }
}

impl<'a> Cold<'a> {
    fn new(chain: &'a Chain, vault: &'a VaultSpec, options: &'a Options) -> Cold<'a> {
        Cold {
            chain,
            vault,
            options,
            sts: OnceCell::new(),
            source: OnceCell::new(),
            note: Default::default(),
        }
    }

    /// Walks the steps: a fresh cached step is used as it is; any other is made anew under its
    /// lock. When making it fails and the cached one is still usable (the advisory window),
    /// that one is used with a warning.
    fn run(&self, cache: &Cache, steps: &[Step]) -> std::result::Result<Issued, Retry> {
        let mut parent: Option<(Credentials, bool, &EntryKey)> = None;
        for step in steps {
            // --refresh keeps a fresh MFA session: a new one would cost a new code.
            let refresh = self.options.refresh && step.mfa.is_none();
            let lookup = || {
                (!refresh)
                    .then(|| cache.get_fresh(&step.key, self.options.min_ttl))
                    .flatten()
            };
            if let Some(cached) = lookup().filter(|c| c.freshness == Freshness::Fresh) {
                parent = Some((cached.credentials, true, &step.key));
                continue;
            }
            let _lock = cache.lock(&step.key)?;
            // Another process may have made this step while we waited for the lock.
            let usable = match lookup() {
                Some(c) if c.freshness == Freshness::Fresh => {
                    verbose(format!(
                        "{} {} was made by another broker meanwhile",
                        step.key.kind, step.key.profile
                    ));
                    parent = Some((c.credentials, true, &step.key));
                    continue;
                }
                Some(c) if c.freshness == Freshness::Usable => Some(c.credentials),
                _ => None,
            };
            let base = parent.as_ref().map(|(c, _, _)| c);
            let made = match step.action {
                Action::SsoRole => self.sso_role(cache, usable.is_some()),
                _ => self.call(step, base),
            };
            match (made, usable) {
                (Ok(credentials), _) => {
                    cache.put(&step.key, &credentials, crate::clock::now())?;
                    parent = Some((credentials, false, &step.key));
                }
                (Err(EngineError::Aws { error, .. }), _)
                    if error.code == AwsCode::ExpiredToken
                        && matches!(parent, Some((_, true, _))) =>
                {
                    let (_, _, key) = parent.expect("matched above");
                    return Err(Retry::Expired(key.clone()));
                }
                (Err(e), Some(usable)) => {
                    let note = format!(
                        "could not refresh the {} credentials of {} ({e}); using the cached \
                         ones, which expire in {}",
                        step.key.kind,
                        step.key.profile,
                        time_left(&usable)
                    );
                    notice(&format!("warning: {note}"));
                    self.note.replace(Some(note));
                    parent = Some((usable, true, &step.key));
                }
                (Err(e), None) => return Err(Retry::Fail(e)),
            }
        }
        let (credentials, cached, _) = parent.expect("at least one step");
        Ok(Issued {
            note: self.note.take(),
            ..Issued::made(credentials, cached)
        })
    }

    fn sts(&self) -> Result<&Sts> {
        if let Some(sts) = self.sts.get() {
            return Ok(sts);
        }
        let sts = Sts::new(self.chain, self.options.sts_timeout)?;
        Ok(self.sts.get_or_init(|| sts))
    }

    /// An STS failure, with the profile whose keys the chain starts from (for the hint).
    fn aws_error(&self, error: AwsError) -> EngineError {
        EngineError::Aws {
            source_profile: self.chain.source.profile().to_string(),
            error,
        }
    }

    /// The code for `step`'s MFA device, if it carries one.
    fn mfa_code(&self, step: &Step) -> Result<Option<(String, mfa::Code)>> {
        let Some(serial) = &step.mfa else {
            return Ok(None);
        };
        let sources = mfa::Sources {
            given: &self.options.mfa_token,
            process: self.chain.mfa_process.as_deref(),
            process_timeout: self.options.mfa_process_timeout,
            prompt: self.options.mfa_prompt,
        };
        let code = mfa::code(serial, &step.profile, &sources)?;
        Ok(Some((serial.clone(), code)))
    }

    /// Makes `step`'s call. A typed MFA code that STS refuses (wrong, or used already) is asked
    /// for again, up to [`mfa::TYPED_TRIES`] codes in all.
    fn call(&self, step: &Step, parent: Option<&Credentials>) -> Result<Credentials> {
        // The source's keys first: no code is asked for a call that cannot be made.
        let from_source =
            step.action == Action::SessionToken || (parent.is_none() && step.mfa.is_some());
        if from_source && !matches!(self.chain.source, Source::WebIdentity { .. }) {
            self.source()?;
        }
        let mut tries = 1;
        loop {
            let mfa = self.mfa_code(step)?;
            let typed = mfa.as_ref().is_some_and(|(_, c)| c.typed);
            match self.call_with(step, parent, mfa.as_ref()) {
                Err(EngineError::Aws { error, .. })
                    if typed && error.is_mfa_failure() && tries < mfa::TYPED_TRIES =>
                {
                    tries += 1;
                    notice(&format!(
                        "STS refused the MFA code (wrong, or used already): try the next one \
                         ({tries} of {})",
                        mfa::TYPED_TRIES
                    ));
                }
                other => return other,
            }
        }
    }

    fn call_with(
        &self,
        step: &Step,
        parent: Option<&Credentials>,
        mfa: Option<&(String, mfa::Code)>,
    ) -> Result<Credentials> {
        let chain = self.chain;
        let mfa = mfa.map(|(serial, c)| Mfa {
            serial,
            code: &c.code,
        });
        let credentials = match step.action {
            Action::SsoRole => unreachable!("an SSO step is made by sso_role"),
            Action::SessionToken => {
                let keys = self.source()?;
                verbose(format!(
                    "GetSessionToken for {} ({})",
                    chain.source.profile(),
                    if mfa.is_some() {
                        "with MFA"
                    } else {
                        "without MFA"
                    }
                ));
                self.sts()?
                    .get_session_token(keys, chain.session_duration, mfa)
            }
            Action::WebIdentity => {
                let token = self.web_identity_token()?;
                let hop = &chain.hops[0];
                verbose(format!("AssumeRoleWithWebIdentity {}", hop.role_arn));
                self.sts()?.assume_role_with_web_identity(hop, &token)
            }
            Action::Role(i) => {
                let hop = &chain.hops[i];
                let base = match parent {
                    Some(c) => c,
                    None => self.source()?,
                };
                verbose(format!(
                    "AssumeRole {} as {}{}",
                    hop.role_arn,
                    hop.session_name,
                    if mfa.is_some() { " with MFA" } else { "" }
                ));
                self.sts()?
                    .assume_role(base, hop, mfa, &step.tags, &step.transitive_tag_keys)
            }
        }
        .map_err(|e| self.aws_error(e))?;
        check_expiry(&credentials, step.action.name());
        Ok(credentials)
    }

    /// The role credentials of an IAM Identity Center source: GetRoleCredentials with the
    /// session's access token, which is kept, refreshed or signed in for under the session's
    /// lock. A token the portal refuses (401) is forgotten, and the call tried once more. No
    /// sign-in starts while the step's cached credentials are still valid (`at_hand`): they are
    /// used instead.
    fn sso_role(&self, cache: &Cache, at_hand: bool) -> Result<Credentials> {
        let Source::Sso {
            session,
            account_id,
            role_name,
            ..
        } = &self.chain.source
        else {
            unreachable!("planned only for SSO sources")
        };
        let portal = Portal::new(session, &self.chain.net, self.options.sts_timeout)?;
        let vault = self.vault.open()?;
        let sign_in = SignIn {
            barred: at_hand
                .then_some(Barred::CredentialsAtHand)
                .or(self.options.sso.barred),
            ..self.options.sso.clone()
        };
        let token = || -> Result<SecretString> {
            let _lock = cache.lock_named(&format!("sso-{}", session.name))?;
            let (token, note) = portal.token(vault.as_ref(), self.options.min_ttl, &sign_in)?;
            if note.is_some() {
                self.note.replace(note);
            }
            Ok(token)
        };
        match portal.role_credentials(&token()?, account_id, role_name) {
            Err(SsoError::Aws(e)) if e.code == AwsCode::Unauthorized => {
                verbose("the SSO portal refused the kept access token; getting a new one");
                portal.forget_token(vault.as_ref())?;
                Ok(portal.role_credentials(&token()?, account_id, role_name)?)
            }
            other => Ok(other?),
        }
    }

    /// The web identity token: a regular file (through symbolic links, as Kubernetes projects
    /// it), at most 64 KiB, UTF-8, trimmed.
    fn web_identity_token(&self) -> Result<SecretString> {
        let Source::WebIdentity { token_file, .. } = &self.chain.source else {
            unreachable!("planned only for web identity sources")
        };
        let unreadable = |source: std::io::Error| EngineError::TokenFile {
            path: token_file.clone(),
            source,
        };
        let bytes = zeroize::Zeroizing::new(
            crate::fsutil::read_user_file(token_file, crate::fsutil::SMALL_FILE_CAP)
                .map_err(unreadable)?
                .ok_or_else(|| unreadable(std::io::ErrorKind::NotFound.into()))?,
        );
        let token = std::str::from_utf8(&bytes)
            .map_err(|_| unreadable(std::io::Error::other("not UTF-8 text")))?;
        Ok(SecretString::from(token.trim().to_string()))
    }

    /// The source's own credentials: the stored keys, or the output of `credential_process`.
    fn source(&self) -> Result<&Credentials> {
        if let Some(c) = self.source.get() {
            return Ok(c);
        }
        let credentials = match &self.chain.source {
            Source::Vault { profile } => {
                let vault = self.vault.open()?;
                let keys =
                    vault::get_keys(vault.as_ref(), profile)?.ok_or(EngineError::NoKeys {
                        profile: profile.clone(),
                        backend: vault.kind().name(),
                        in_aws_files: self.chain.keys_in_aws_files,
                        temporary: self.chain.temporary_in_aws_files,
                    })?;
                Credentials::from(keys)
            }
            Source::Process { profile, command } => crate::process::credential_process(
                profile,
                command,
                self.options.credential_process_timeout,
            )?,
            Source::WebIdentity { profile, .. } | Source::Sso { profile, .. } => {
                return Err(EngineError::NoOwnCredentials {
                    profile: profile.clone(),
                })
            }
        };
        Ok(self.source.get_or_init(|| credentials))
    }
}

/// How long `credentials` have left, like `12m`.
fn time_left(credentials: &Credentials) -> String {
    crate::duration::until(credentials.expiration.unwrap_or_else(crate::clock::now))
}
