//! The credentials engine: walks a resolved [`Chain`] from its source to the profile asked for,
//! taking each step from the cache when it is fresh, and otherwise from STS under a per-step
//! lock, so that concurrent processes make one STS call per hop and show one MFA prompt.
//!
//! The warm path (the last step cached) builds no SDK client, starts no runtime and opens no
//! vault. Never logs or returns a secret in an error.

use std::cell::OnceCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::Utc;
use secrecy::SecretString;
use serde::Deserialize;

use crate::cache::{Cache, EntryKey, Freshness};
use crate::chain::{Chain, Source};
use crate::credentials::Credentials;
use crate::error::{escape_control, Error, Result};
use crate::mfa::{self, GivenCode};
use crate::output::{notice, verbose};
use crate::settings::MfaPrompt;
use crate::sts::{Mfa, Sts, StsError};
use crate::vault::{self, VaultSpec};

#[derive(Clone)]
pub struct Options {
    /// Make new credentials for every step (but a still-fresh MFA session) and replace them.
    pub refresh: bool,
    /// The code given with `--mfa-token`, used at most once.
    pub mfa_token: GivenCode,
    pub mfa_prompt: MfaPrompt,
    pub mfa_process_timeout: Duration,
    pub min_ttl: Duration,
    /// Session tags for the call that takes them (the last AssumeRole).
    pub tags: Vec<(String, String)>,
}

/// Credentials handed out, and whether they came from the cache.
pub struct Issued {
    pub credentials: Credentials,
    pub cached: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    SessionToken,
    WebIdentity,
    /// AssumeRole for the hop at this index.
    Role(usize),
}

impl Action {
    fn name(self) -> &'static str {
        match self {
            Action::SessionToken => "GetSessionToken",
            Action::WebIdentity => "AssumeRoleWithWebIdentity",
            Action::Role(_) => "AssumeRole",
        }
    }
}

/// One STS call of a plan, with everything decided about it.
#[derive(Debug, Clone)]
struct Step {
    key: EntryKey,
    action: Action,
    /// The profile this call is made for (for prompts and messages).
    profile: String,
    /// The MFA device whose code goes with this call.
    mfa: Option<String>,
    /// Whether the request's session tags go with this call.
    tagged: bool,
}

/// The STS calls that make a chain's credentials, decided once: which calls, their cache keys,
/// where MFA codes and session tags go.
#[derive(Debug, Clone)]
pub struct Plan {
    steps: Vec<Step>,
    /// For the user, once: what the plan could not do as asked.
    pub notices: Vec<String>,
}

/// Everything a cold run needs, created on first use.
struct Cold<'a> {
    chain: &'a Chain,
    vault: &'a VaultSpec,
    options: &'a Options,
    sts: OnceCell<Sts>,
    source: OnceCell<Credentials>,
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
        return Ok(Issued {
            credentials: cold.source()?.clone(),
            cached: false,
        });
    };
    if !options.refresh {
        if let Some(cached) = cache.get_fresh(&last.key, options.min_ttl) {
            if cached.freshness == Freshness::Fresh {
                verbose(format!(
                    "using cached {} credentials of {}",
                    last.key.kind, last.key.profile
                ));
                return Ok(Issued {
                    credentials: cached.credentials,
                    cached: true,
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

/// Why one step failed: STS said no, or something local (vault, MFA code, token file) did.
enum Failure {
    Sts(StsError),
    Local(Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Local(e)
    }
}

impl From<StsError> for Failure {
    fn from(e: StsError) -> Self {
        Failure::Sts(e)
    }
}

/// A console session for a plain IAM user: GetFederationToken with the stored keys, carrying
/// the request's session tags. Not cached: a sign-in is rare, and the token is good for one
/// console session.
pub fn federation_token(
    chain: &Chain,
    vault: &VaultSpec,
    options: &Options,
    duration: Duration,
) -> Result<Issued> {
    let cold = Cold::new(chain, vault, options);
    let keys = cold.source()?;
    let name: String = crate::chain::default_session_name()
        .chars()
        .take(32)
        .collect();
    verbose(format!(
        "GetFederationToken for {} as {name}",
        chain.source.profile()
    ));
    let credentials = cold
        .sts()?
        .get_federation_token(keys, &name, duration, &options.tags)
        .map_err(|e| cold.sts_error(e))?;
    check_expiry(&credentials, "GetFederationToken");
    Ok(Issued {
        credentials,
        cached: false,
    })
}

enum Retry {
    /// A cached parent was refused with ExpiredToken: drop it and try again.
    Expired(EntryKey),
    Fail(Error),
}

impl Retry {
    fn into_error(self) -> Error {
        match self {
            Retry::Expired(key) => Error::new(format!(
                "STS refused the cached {} credentials of {} as expired",
                key.kind, key.profile
            ))
            .with_hint(
                "check that the local clock is right (AWS allows 5 minutes of skew), then run \
                 again with --refresh",
            ),
            Retry::Fail(e) => e,
        }
    }
}

impl From<Error> for Retry {
    fn from(e: Error) -> Self {
        Retry::Fail(e)
    }
}

/// Plans the STS calls of `chain`: the session token when one is used, then each role hop.
///
/// MFA: with a session token, its call carries the code of the source profile's `mfa_serial`
/// (else the first one along the chain) and the hops none. Without
/// one (`--no-session`, a `credential_process` or web identity source), each AssumeRole carries
/// the code of its own profile's `mfa_serial`, and the first AssumeRole also the source
/// profile's when its own profile has none. An `mfa_serial` that no call can carry is an error.
/// Tags go with the last call when it is an AssumeRole; otherwise a notice says they cannot.
pub fn plan(chain: &Chain, tags: &[(String, String)]) -> Result<Plan> {
    let endpoint = chain.endpoint.as_deref().unwrap_or("-");
    let source = chain.source.profile().to_string();
    let mut steps = Vec::new();
    let mut notices = Vec::new();
    let mut parent = match &chain.source {
        Source::Vault { profile } => format!("keys:{profile}"),
        Source::Process { command, .. } => format!("process:{command}"),
        Source::WebIdentity { .. } => String::new(),
    };
    let session_token = chain.uses_session_token();
    if session_token {
        // The device of the IAM user whose keys sign the call: the source profile's own
        // mfa_serial, else the first one along the chain.
        let mfa = chain.source_mfa_serial.clone().or(chain.mfa_serial.clone());
        let canonical = canonical(&[
            "session",
            &source,
            mfa.as_deref().unwrap_or("-"),
            &chain.session_duration.as_secs().to_string(),
            endpoint,
        ]);
        let key = EntryKey {
            profile: source.clone(),
            kind: "session",
            source: source.clone(),
            canonical,
        };
        parent = key.hash();
        steps.push(Step {
            key,
            action: Action::SessionToken,
            profile: source.clone(),
            mfa,
            tagged: false,
        });
    }
    // The serial waiting for the first AssumeRole: the source profile's, or a web identity
    // profile's own (AssumeRoleWithWebIdentity takes no MFA code).
    let mut pending = (!session_token)
        .then(|| chain.source_mfa_serial.clone())
        .flatten();
    let last_index = chain.hops.len().wrapping_sub(1);
    for (i, hop) in chain.hops.iter().enumerate() {
        let web = i == 0 && matches!(chain.source, Source::WebIdentity { .. });
        let mfa = if session_token {
            None
        } else if web {
            pending = hop.mfa_serial.clone().or(pending.take());
            None
        } else {
            // Only the first AssumeRole inherits the waiting serial.
            hop.mfa_serial.clone().or(pending.take())
        };
        let tagged = i == last_index && !web && !tags.is_empty();
        let tag_text = if tagged {
            tags.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        } else {
            String::new()
        };
        let token_file = match &chain.source {
            Source::WebIdentity { token_file, .. } if web => token_file.display().to_string(),
            _ => String::new(),
        };
        let kind = if web { "web" } else { "role" };
        let canonical = canonical(&[
            kind,
            &hop.profile,
            &hop.role_arn,
            &hop.session_name,
            hop.external_id.as_deref().unwrap_or("-"),
            hop.source_identity.as_deref().unwrap_or("-"),
            &hop.duration.as_secs().to_string(),
            endpoint,
            &tag_text,
            mfa.as_deref().unwrap_or("-"),
            &token_file,
            &parent,
        ]);
        let key = EntryKey {
            profile: hop.profile.clone(),
            kind,
            source: source.clone(),
            canonical,
        };
        parent = key.hash();
        steps.push(Step {
            key,
            action: if web {
                Action::WebIdentity
            } else {
                Action::Role(i)
            },
            profile: hop.profile.clone(),
            mfa,
            tagged,
        });
    }
    let serial_in_chain = chain.mfa_serial.is_some() || chain.source_mfa_serial.is_some();
    if serial_in_chain && !steps.iter().any(|s| s.mfa.is_some()) {
        let what = match &chain.source {
            Source::WebIdentity { .. } => "AssumeRoleWithWebIdentity takes no MFA code",
            _ => "its credentials come from credential_process and it assumes no role",
        };
        return Err(Error::new(format!(
            "profile {} has an mfa_serial that no call can carry: {what}",
            escape_control(&chain.profile)
        ))
        .with_hint("remove mfa_serial, or put it on a role profile of the chain"));
    }
    if !tags.is_empty() && !steps.iter().any(|s| s.tagged) {
        let call = match steps.last().map(|s| s.action) {
            Some(Action::SessionToken) => "GetSessionToken takes",
            Some(Action::WebIdentity) => "AssumeRoleWithWebIdentity takes",
            _ => "credentials that come straight from the source take",
        };
        notices.push(format!(
            "the reason cannot be sent as a session tag for {}: {call} no tags (it is in the \
             audit log)",
            chain.profile
        ));
    }
    Ok(Plan { steps, notices })
}

/// An unambiguous text of the fields (a JSON array), for hashing and for checking entries.
fn canonical(fields: &[&str]) -> String {
    let mut all = vec!["broker-cache-v2"];
    all.extend_from_slice(fields);
    serde_json::to_string(&all).expect("strings serialise")
}

/// Warns, once per process, about credentials that are already expired by the local clock:
/// STS made them moments ago, so the clock is off.
fn check_expiry(credentials: &Credentials, action: &str) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    let Some(expiration) = credentials.expiration else {
        return;
    };
    if expiration <= Utc::now() && !WARNED.swap(true, Ordering::Relaxed) {
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
            let cached = lookup();
            let cached = match cached {
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
            let made = match self.call(step, base) {
                Ok(credentials) => Ok(credentials),
                Err(Failure::Sts(e)) if e.code == "ExpiredToken" => match parent {
                    Some((_, true, key)) => return Err(Retry::Expired(key.clone())),
                    _ => Err(self.sts_error(e)),
                },
                Err(Failure::Sts(e)) => Err(self.sts_error(e)),
                Err(Failure::Local(e)) => Err(e),
            };
            match (made, cached) {
                (Ok(credentials), _) => {
                    cache.put(&step.key, &credentials, Utc::now())?;
                    parent = Some((credentials, false, &step.key));
                }
                (Err(e), Some(usable)) => {
                    notice(&format!(
                        "warning: could not refresh the {} credentials of {} ({}); using the \
                         cached ones, which expire in {}",
                        step.key.kind,
                        step.key.profile,
                        e.message(),
                        time_left(&usable)
                    ));
                    parent = Some((usable, true, &step.key));
                }
                (Err(e), None) => return Err(Retry::Fail(e)),
            }
        }
        let (credentials, cached, _) = parent.expect("at least one step");
        Ok(Issued {
            credentials,
            cached,
        })
    }

    fn sts(&self) -> Result<&Sts> {
        if let Some(sts) = self.sts.get() {
            return Ok(sts);
        }
        let sts = Sts::new(&self.chain.region, self.chain.endpoint.as_deref())
            .map_err(|e| Error::new(format!("cannot start the STS client: {e}")))?;
        Ok(self.sts.get_or_init(|| sts))
    }

    /// The code for `step`'s MFA device, if it carries one.
    fn mfa_code(&self, step: &Step) -> Result<Option<(String, SecretString)>> {
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

    fn call(
        &self,
        step: &Step,
        parent: Option<&Credentials>,
    ) -> std::result::Result<Credentials, Failure> {
        let chain = self.chain;
        let credentials = match step.action {
            Action::SessionToken => {
                let keys = self.source()?;
                let mfa = self.mfa_code(step)?;
                verbose(format!(
                    "GetSessionToken for {} ({})",
                    chain.source.profile(),
                    if mfa.is_some() {
                        "with MFA"
                    } else {
                        "without MFA"
                    }
                ));
                let sts = self.sts()?;
                sts.get_session_token(
                    keys,
                    chain.session_duration,
                    mfa.as_ref().map(|(serial, code)| Mfa { serial, code }),
                )?
            }
            Action::WebIdentity => {
                let Source::WebIdentity { token_file, .. } = &chain.source else {
                    unreachable!("planned only for web identity sources")
                };
                let unreadable = |e: std::io::Error| {
                    Error::new(format!(
                        "cannot read web_identity_token_file {}: {e}",
                        token_file.display()
                    ))
                };
                let bytes = zeroize::Zeroizing::new(
                    crate::fsutil::read_user_file(token_file, crate::fsutil::SMALL_FILE_CAP)
                        .map_err(unreadable)?
                        .ok_or_else(|| unreadable(std::io::ErrorKind::NotFound.into()))?,
                );
                let token = std::str::from_utf8(&bytes)
                    .map_err(|_| unreadable(std::io::Error::other("not UTF-8 text")))?;
                let hop = &chain.hops[0];
                verbose(format!("AssumeRoleWithWebIdentity {}", hop.role_arn));
                self.sts()?.assume_role_with_web_identity(
                    hop,
                    &SecretString::from(token.trim().to_string()),
                )?
            }
            Action::Role(i) => {
                let hop = &chain.hops[i];
                let base = match parent {
                    Some(c) => c,
                    None => self.source()?,
                };
                let mfa = self.mfa_code(step)?;
                let tags: &[(String, String)] = if step.tagged { &self.options.tags } else { &[] };
                verbose(format!(
                    "AssumeRole {} as {}{}",
                    hop.role_arn,
                    hop.session_name,
                    if mfa.is_some() { " with MFA" } else { "" }
                ));
                self.sts()?.assume_role(
                    base,
                    hop,
                    mfa.as_ref().map(|(serial, code)| Mfa { serial, code }),
                    tags,
                )?
            }
        };
        check_expiry(&credentials, step.action.name());
        Ok(credentials)
    }

    /// The source's own credentials: the stored keys, or the output of `credential_process`.
    fn source(&self) -> Result<&Credentials> {
        if let Some(c) = self.source.get() {
            return Ok(c);
        }
        let credentials = match &self.chain.source {
            Source::Vault { profile } => {
                let vault = self.vault.open()?;
                let keys = vault::get_keys(vault.as_ref(), profile)?.ok_or_else(|| {
                    Error::new(format!(
                        "no keys are stored for profile {} in the {} vault",
                        escape_control(profile),
                        vault.kind().name()
                    ))
                    .with_hint(format!(
                        "store them with `broker add {}`",
                        escape_control(profile)
                    ))
                })?;
                Credentials::from(keys)
            }
            Source::Process { profile, command } => credential_process(profile, command)?,
            Source::WebIdentity { profile, .. } => {
                return Err(Error::new(format!(
                    "profile {} gets its credentials from a web identity token only",
                    escape_control(profile)
                )))
            }
        };
        Ok(self.source.get_or_init(|| credentials))
    }

    /// Turns an STS failure into the user's one-line error with its hint (SPEC §3).
    fn sts_error(&self, e: StsError) -> Error {
        let source = escape_control(self.chain.source.profile());
        let hint = match e.code.as_str() {
            "AccessDenied" if e.detail.contains("MultiFactor") || e.detail.contains("MFA") => {
                "the MFA code was wrong or already used: wait for the next code and try again"
                    .to_string()
            }
            "AccessDenied" => {
                "check that the role's trust policy allows this caller, and that the \
                caller's permissions allow sts:AssumeRole on it"
                    .to_string()
            }
            "InvalidClientTokenId" | "SignatureDoesNotMatch" => format!(
                "the key stored for profile {source} is wrong or was deleted: store a working one \
                 with `broker add {source}` or replace it with `broker rotate {source}`"
            ),
            "ExpiredToken" => "check that the local clock is right (AWS allows 5 minutes of \
                               skew), then run again with --refresh"
                .to_string(),
            "Throttling" | "ThrottlingException" | "RequestLimitExceeded" => {
                "STS kept throttling the request after retries: wait a little and try again"
                    .to_string()
            }
            "Unreachable" | "Timeout" => {
                "check endpoint_url in the profile, AWS_ENDPOINT_URL/AWS_ENDPOINT_URL_STS, and the \
                 network"
                    .to_string()
            }
            "BadResponse" => "the endpoint does not look like STS: check endpoint_url".to_string(),
            "RegionDisabledException" => "activate STS in that region, or use --region".to_string(),
            _ => String::new(),
        };
        let err = Error::new(e.to_string());
        if hint.is_empty() {
            err
        } else {
            err.with_hint(hint)
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ProcessOutput {
    version: u32,
    access_key_id: String,
    secret_access_key: SecretString,
    session_token: Option<SecretString>,
    expiration: Option<chrono::DateTime<Utc>>,
}

/// Runs a `credential_process` and reads its JSON, as the AWS CLI does.
fn credential_process(profile: &str, command: &str) -> Result<Credentials> {
    let fail = |why: String| {
        Error::new(format!(
            "credential_process of profile {} failed: {why}",
            escape_control(profile)
        ))
    };
    verbose(format!("running the credential_process of {profile}"));
    let out = crate::process::shell(command)
        .stdin(std::process::Stdio::inherit())
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| fail(format!("cannot start it: {e}")))?;
    let stdout = zeroize::Zeroizing::new(out.stdout);
    if !out.status.success() {
        return Err(fail(format!("it exited with {}", out.status)));
    }
    let parsed: ProcessOutput = serde_json::from_slice(&stdout).map_err(|e| {
        fail(format!(
            "its output is not credential_process JSON ({})",
            json_problem(&e)
        ))
    })?;
    if parsed.version != 1 {
        return Err(fail(format!("unsupported Version {}", parsed.version)));
    }
    if let Some(expiration) = parsed.expiration.filter(|e| *e <= Utc::now()) {
        return Err(fail(format!(
            "it returned credentials that expired at {}",
            expiration.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )));
    }
    Ok(Credentials {
        access_key_id: parsed.access_key_id,
        secret_access_key: parsed.secret_access_key,
        session_token: parsed.session_token,
        expiration: parsed.expiration,
    })
}

/// How long `credentials` have left, like `12m`.
fn time_left(credentials: &Credentials) -> String {
    let left = credentials
        .expiration
        .map(|e| (e - Utc::now()).num_seconds().max(0) as u64)
        .unwrap_or(0);
    crate::duration::format(Duration::from_secs(left))
}

fn json_problem(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Io => "I/O error",
        serde_json::error::Category::Syntax => "not JSON",
        serde_json::error::Category::Data => "missing or wrong fields",
        serde_json::error::Category::Eof => "truncated",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::{resolve, Request};
    use crate::profiles::AwsProfiles;
    use crate::settings::Settings;

    const ROLE: &str = "arn:aws:iam::123456789012:role/";

    fn plan_of(config: &str, profile: &str, no_session: bool, tags: bool) -> Result<Plan> {
        let aws = AwsProfiles::from_texts(config, "").unwrap();
        let request = Request {
            no_session,
            ..Request::default()
        };
        let chain = resolve(profile, &aws, &Settings::default(), &request).unwrap();
        let tags = if tags {
            vec![("BrokerReason".to_string(), "INC-1".to_string())]
        } else {
            Vec::new()
        };
        plan(&chain, &tags)
    }

    /// Each step as `ACTION(profile)`, `+mfa:SERIAL` and `+tags` when they go with it.
    fn shape(plan: &Plan) -> Vec<String> {
        plan.steps
            .iter()
            .map(|s| {
                let mut text = format!("{}({})", s.action.name(), s.profile);
                if let Some(serial) = &s.mfa {
                    text += &format!("+mfa:{serial}");
                }
                if s.tagged {
                    text += "+tags";
                }
                text
            })
            .collect()
    }

    fn chain3(alice: &str, r1: &str, r2: &str) -> String {
        format!(
            "[profile alice]\n{alice}\n[profile r1]\nrole_arn = {ROLE}r1\nsource_profile = alice\n{r1}\n\
             [profile r2]\nrole_arn = {ROLE}r2\nsource_profile = r1\n{r2}\n"
        )
    }

    #[test]
    fn one_mfa_session_carries_the_code_for_every_role() {
        let config = chain3("mfa_serial = A", "", "mfa_serial = B");
        let plan = plan_of(&config, "r2", false, true).unwrap();
        // The IAM user's own device first.
        assert_eq!(
            shape(&plan),
            [
                "GetSessionToken(alice)+mfa:A",
                "AssumeRole(r1)",
                "AssumeRole(r2)+tags"
            ]
        );
        // Else the first serial along the chain from the profile asked for.
        let config = chain3("", "mfa_serial = C", "mfa_serial = B");
        let plan = plan_of(&config, "r2", false, false).unwrap();
        assert_eq!(
            shape(&plan),
            [
                "GetSessionToken(alice)+mfa:B",
                "AssumeRole(r1)",
                "AssumeRole(r2)"
            ]
        );
        assert!(plan.notices.is_empty());
        assert!(plan.steps.iter().all(|s| s.key.source == "alice"));
    }

    #[test]
    fn without_a_session_each_role_carries_its_own_device() {
        let config = chain3("mfa_serial = A", "", "mfa_serial = B");
        let plan = plan_of(&config, "r2", true, false).unwrap();
        assert_eq!(
            shape(&plan),
            ["AssumeRole(r1)+mfa:A", "AssumeRole(r2)+mfa:B"]
        );
        let config = chain3("", "", "mfa_serial = B");
        let plan = plan_of(&config, "r2", true, false).unwrap();
        assert_eq!(shape(&plan), ["AssumeRole(r1)", "AssumeRole(r2)+mfa:B"]);
        let config = chain3("", "mfa_serial = C", "");
        let plan = plan_of(&config, "r2", true, false).unwrap();
        assert_eq!(shape(&plan), ["AssumeRole(r1)+mfa:C", "AssumeRole(r2)"]);
    }

    #[test]
    fn credential_process_and_web_identity_sources_send_the_code_with_the_first_assume_role() {
        let config = format!(
            "[profile proc]\ncredential_process = x\nmfa_serial = P\n\
             [profile role]\nrole_arn = {ROLE}role\nsource_profile = proc\n\
             [profile web]\nrole_arn = {ROLE}web\nweb_identity_token_file = /t\nmfa_serial = W\n\
             [profile above]\nrole_arn = {ROLE}above\nsource_profile = web\n"
        );
        let plan = plan_of(&config, "role", false, false).unwrap();
        assert_eq!(shape(&plan), ["AssumeRole(role)+mfa:P"]);
        let plan = plan_of(&config, "above", false, true).unwrap();
        assert_eq!(
            shape(&plan),
            [
                "AssumeRoleWithWebIdentity(web)",
                "AssumeRole(above)+mfa:W+tags"
            ]
        );
        for alone in ["proc", "web"] {
            let err = plan_of(&config, alone, false, false).unwrap_err();
            assert!(
                err.message()
                    .contains("has an mfa_serial that no call can carry"),
                "{alone}: {}",
                err.message()
            );
        }
    }

    #[test]
    fn tags_that_no_call_takes_are_a_notice_and_stay_out_of_the_cache_key() {
        let config = format!(
            "[profile user]\n\
             [profile web]\nrole_arn = {ROLE}web\nweb_identity_token_file = /t\n"
        );
        for profile in ["user", "web"] {
            let tagged = plan_of(&config, profile, false, true).unwrap();
            let plain = plan_of(&config, profile, false, false).unwrap();
            assert_eq!(tagged.notices.len(), 1, "{profile}");
            assert!(tagged.notices[0].contains("cannot be sent as a session tag"));
            assert!(!tagged.steps.iter().any(|s| s.tagged));
            assert_eq!(
                tagged.steps.last().unwrap().key,
                plain.steps.last().unwrap().key,
                "{profile}"
            );
        }
    }
}
