//! The credentials engine: walks a resolved [`Chain`] from its source to the profile asked for,
//! taking each step from the cache when it is fresh, and otherwise from STS under a per-step
//! lock, so that concurrent processes make one STS call per hop and show one MFA prompt.
//!
//! The warm path (the last step cached) builds no SDK client, starts no runtime and opens no
//! vault. Never logs or returns a secret in an error.

use std::cell::OnceCell;
use std::time::Duration;

use chrono::Utc;
use secrecy::SecretString;
use serde::Deserialize;

use crate::cache::{self, Cache, EntryKey};
use crate::chain::{Chain, Source};
use crate::credentials::Credentials;
use crate::error::{escape_control, Error, Result};
use crate::mfa;
use crate::output::verbose;
use crate::settings::MfaPrompt;
use crate::sts::{Mfa, Sts, StsError};
use crate::vault::{self, VaultSpec};

#[derive(Clone)]
pub struct Options {
    /// Ignore cached entries and replace them.
    pub refresh: bool,
    /// The code given with `--mfa-token`.
    pub mfa_token: Option<SecretString>,
    pub mfa_prompt: MfaPrompt,
    pub mfa_process_timeout: Duration,
    pub min_ttl: Duration,
    /// Session tags for the last hop.
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

struct Step {
    key: EntryKey,
    action: Action,
}

/// Everything a cold run needs, created on first use.
struct Cold<'a> {
    chain: &'a Chain,
    vault: &'a VaultSpec,
    options: &'a Options,
    sts: OnceCell<Sts>,
    source: OnceCell<Credentials>,
}

/// Gets credentials for `chain`.
pub fn obtain(
    chain: &Chain,
    cache: &Cache,
    vault: &VaultSpec,
    options: &Options,
) -> Result<Issued> {
    let steps = plan(chain, &options.tags);
    let cold = Cold::new(chain, vault, options);
    let Some(last) = steps.last() else {
        // --no-session without a role, or a credential_process without a role.
        return Ok(Issued {
            credentials: cold.source()?.clone(),
            cached: false,
        });
    };
    if !options.refresh {
        if let Some(credentials) = fresh_entry(cache, &last.key, options.min_ttl) {
            verbose(format!(
                "using cached {} credentials of {}",
                last.key.kind, last.key.profile
            ));
            return Ok(Issued {
                credentials,
                cached: true,
            });
        }
    }
    match cold.run(cache, &steps) {
        Err(Retry::Expired(key)) => {
            verbose("a cached session was rejected as expired; dropping it and retrying once");
            cache.remove(&key);
            cold.run(cache, &steps).map_err(Retry::into_error)
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

/// A console session for a plain IAM user: GetFederationToken with the stored keys. Not cached:
/// a sign-in is rare, and the token is good for one console session.
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
        .get_federation_token(keys, &name, duration)
        .map_err(|e| cold.sts_error(e))?;
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
            .with_hint("run again with --refresh"),
            Retry::Fail(e) => e,
        }
    }
}

impl From<Error> for Retry {
    fn from(e: Error) -> Self {
        Retry::Fail(e)
    }
}

fn fresh_entry(cache: &Cache, key: &EntryKey, min_ttl: Duration) -> Option<Credentials> {
    let (credentials, issued) = cache.get(key)?;
    cache::fresh(&credentials, issued, min_ttl, Utc::now()).then_some(credentials)
}

/// The STS steps of a chain, each with the cache key of its result.
fn plan(chain: &Chain, tags: &[(String, String)]) -> Vec<Step> {
    let endpoint = chain.endpoint.as_deref().unwrap_or("-");
    let mut steps = Vec::new();
    let mut parent = match &chain.source {
        Source::Vault { profile } => format!("keys:{profile}"),
        Source::Process { command, .. } => format!("process:{command}"),
        Source::WebIdentity { .. } => String::new(),
    };
    if chain.uses_session_token() {
        let profile = chain.source.profile().to_string();
        let canonical = canonical(&[
            "session",
            &profile,
            chain.mfa_serial.as_deref().unwrap_or("-"),
            &chain.session_duration.as_secs().to_string(),
            endpoint,
        ]);
        let key = EntryKey {
            profile,
            kind: "session",
            canonical,
        };
        parent = key.hash();
        steps.push(Step {
            key,
            action: Action::SessionToken,
        });
    }
    let direct_mfa = chain.no_session && matches!(chain.source, Source::Vault { .. });
    for (i, hop) in chain.hops.iter().enumerate() {
        let web = i == 0 && matches!(chain.source, Source::WebIdentity { .. });
        let last = i + 1 == chain.hops.len();
        let tag_text = if last {
            tags.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        } else {
            String::new()
        };
        let mfa = if i == 0 && direct_mfa {
            chain.mfa_serial.as_deref().unwrap_or("-")
        } else {
            "-"
        };
        let token_file = match &chain.source {
            Source::WebIdentity { token_file, .. } if web => token_file.display().to_string(),
            _ => String::new(),
        };
        let canonical = canonical(&[
            if web { "web" } else { "role" },
            &hop.profile,
            &hop.role_arn,
            &hop.session_name,
            hop.external_id.as_deref().unwrap_or("-"),
            hop.source_identity.as_deref().unwrap_or("-"),
            &hop.duration.as_secs().to_string(),
            endpoint,
            &tag_text,
            mfa,
            &token_file,
            &parent,
        ]);
        let key = EntryKey {
            profile: hop.profile.clone(),
            kind: if web { "web" } else { "role" },
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
        });
    }
    steps
}

/// An unambiguous text of the fields (a JSON array), for hashing and for checking entries.
fn canonical(fields: &[&str]) -> String {
    let mut all = vec!["broker-cache-v1"];
    all.extend_from_slice(fields);
    serde_json::to_string(&all).expect("strings serialise")
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

    fn run(&self, cache: &Cache, steps: &[Step]) -> std::result::Result<Issued, Retry> {
        let mut parent: Option<(Credentials, bool, &EntryKey)> = None;
        for step in steps {
            let cached = (!self.options.refresh)
                .then(|| fresh_entry(cache, &step.key, self.options.min_ttl))
                .flatten();
            if let Some(credentials) = cached {
                parent = Some((credentials, true, &step.key));
                continue;
            }
            let _lock = cache.lock(&step.key)?;
            // Another process may have made this step while we waited for the lock.
            let cached = (!self.options.refresh)
                .then(|| fresh_entry(cache, &step.key, self.options.min_ttl))
                .flatten();
            if let Some(credentials) = cached {
                verbose(format!(
                    "{} {} was made by another broker meanwhile",
                    step.key.kind, step.key.profile
                ));
                parent = Some((credentials, true, &step.key));
                continue;
            }
            let base = parent.as_ref().map(|(c, _, _)| c);
            let credentials = match self.call(step.action, base) {
                Ok(c) => c,
                Err(Failure::Sts(e)) if e.code == "ExpiredToken" => match parent {
                    Some((_, true, key)) => return Err(Retry::Expired(key.clone())),
                    _ => return Err(Retry::Fail(self.sts_error(e))),
                },
                Err(Failure::Sts(e)) => return Err(Retry::Fail(self.sts_error(e))),
                Err(Failure::Local(e)) => return Err(Retry::Fail(e)),
            };
            cache.put(&step.key, &credentials, Utc::now())?;
            parent = Some((credentials, false, &step.key));
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

    fn mfa_code(&self) -> Result<Option<(String, SecretString)>> {
        match &self.chain.mfa_serial {
            None => Ok(None),
            Some(serial) => {
                let sources = mfa::Sources {
                    given: self.options.mfa_token.as_ref(),
                    process: self.chain.mfa_process.as_deref(),
                    process_timeout: self.options.mfa_process_timeout,
                    prompt: self.options.mfa_prompt,
                };
                Ok(Some((serial.clone(), mfa::code(serial, &sources)?)))
            }
        }
    }

    fn call(
        &self,
        action: Action,
        parent: Option<&Credentials>,
    ) -> std::result::Result<Credentials, Failure> {
        let chain = self.chain;
        match action {
            Action::SessionToken => {
                let keys = self.source()?;
                let mfa = self.mfa_code()?;
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
                Ok(sts.get_session_token(
                    keys,
                    chain.session_duration,
                    mfa.as_ref().map(|(serial, code)| Mfa { serial, code }),
                )?)
            }
            Action::WebIdentity => {
                let Source::WebIdentity { token_file, .. } = &chain.source else {
                    unreachable!("planned only for web identity sources")
                };
                let token = std::fs::read_to_string(token_file).map_err(|e| {
                    Error::new(format!(
                        "cannot read web_identity_token_file {}: {e}",
                        token_file.display()
                    ))
                })?;
                let hop = &chain.hops[0];
                verbose(format!("AssumeRoleWithWebIdentity {}", hop.role_arn));
                Ok(self.sts()?.assume_role_with_web_identity(
                    hop,
                    &SecretString::from(token.trim().to_string()),
                )?)
            }
            Action::Role(i) => {
                let hop = &chain.hops[i];
                let base = match parent {
                    Some(c) => c,
                    None => self.source()?,
                };
                let direct_mfa =
                    i == 0 && chain.no_session && matches!(chain.source, Source::Vault { .. });
                let mfa = if direct_mfa { self.mfa_code()? } else { None };
                let tags: &[(String, String)] = if i + 1 == chain.hops.len() {
                    &self.options.tags
                } else {
                    &[]
                };
                verbose(format!(
                    "AssumeRole {} as {}",
                    hop.role_arn, hop.session_name
                ));
                Ok(self.sts()?.assume_role(
                    base,
                    hop,
                    mfa.as_ref().map(|(serial, code)| Mfa { serial, code }),
                    tags,
                )?)
            }
        }
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

    /// Turns an STS failure into the user's one-line error with its hint.
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
            "ExpiredToken" => "run again with --refresh".to_string(),
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
    if !out.status.success() {
        return Err(fail(format!("it exited with {}", out.status)));
    }
    let parsed: ProcessOutput = serde_json::from_slice(&out.stdout).map_err(|e| {
        fail(format!(
            "its output is not credential_process JSON ({})",
            json_problem(&e)
        ))
    })?;
    if parsed.version != 1 {
        return Err(fail(format!("unsupported Version {}", parsed.version)));
    }
    Ok(Credentials {
        access_key_id: parsed.access_key_id,
        secret_access_key: parsed.secret_access_key,
        session_token: parsed.session_token,
        expiration: parsed.expiration,
    })
}

fn json_problem(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Io => "I/O error",
        serde_json::error::Category::Syntax => "not JSON",
        serde_json::error::Category::Data => "missing or wrong fields",
        serde_json::error::Category::Eof => "truncated",
    }
}
