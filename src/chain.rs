//! The profile resolver: turns a profile name, the AWS config, config.toml, the policy rules,
//! the environment and the request's options into a [`Chain`] — where credentials come from,
//! every role hop on top, and the rules that apply — before any call is made. Pure: a function
//! of its arguments; reads no secret, calls nothing.

use std::path::PathBuf;
use std::time::Duration;

use crate::endpoint::{self, EndpointError, Service, ServiceEndpoint};
use crate::environment::Environment;
use crate::net::NetSettings;
use crate::policy::{Anchor, Effective, Place, Policy};
use crate::profiles::AwsProfiles;
use crate::settings::Settings;

pub use crate::duration::MIN_DURATION;
pub const MAX_ROLE_DURATION: Duration = Duration::from_secs(12 * 3600);
pub const MAX_SESSION_TOKEN_DURATION: Duration = Duration::from_secs(36 * 3600);
/// AWS caps a role assumed with another role's credentials ("role chaining") at one hour.
pub const MAX_CHAINED_DURATION: Duration = Duration::from_secs(3600);

const DEFAULT_ROLE_DURATION: Duration = Duration::from_secs(3600);
const DEFAULT_SESSION_TOKEN_DURATION: Duration = Duration::from_secs(8 * 3600);

/// What the request asks for, from the command line.
#[derive(Debug, Default, Clone)]
pub struct Request {
    pub duration: Option<Duration>,
    pub region: Option<String>,
    pub no_session: bool,
}

/// Where the first credentials of a chain come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Long-term keys stored in the vault for this profile.
    Vault { profile: String },
    /// A web identity token file; the first hop is AssumeRoleWithWebIdentity.
    WebIdentity {
        profile: String,
        token_file: PathBuf,
    },
    /// A `credential_process` command.
    Process { profile: String, command: String },
    /// An IAM Identity Center role: GetRoleCredentials with the session's sign-in.
    Sso {
        profile: String,
        session: SsoSession,
        account_id: String,
        role_name: String,
    },
}

impl Source {
    pub fn profile(&self) -> &str {
        match self {
            Source::Vault { profile }
            | Source::WebIdentity { profile, .. }
            | Source::Process { profile, .. }
            | Source::Sso { profile, .. } => profile,
        }
    }
}

/// An SSO session: a `[sso-session NAME]` section, or the `sso_*` keys of a legacy profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoSession {
    /// The section's name; for a legacy profile, its start URL.
    pub name: String,
    pub start_url: String,
    pub region: String,
    pub scopes: Vec<String>,
    /// Where SSO OIDC and the portal are reached.
    pub oidc: ServiceEndpoint,
    pub portal: ServiceEndpoint,
}

impl SsoSession {
    /// The scope every sign-in needs for the portal.
    pub const DEFAULT_SCOPE: &'static str = "sso:account:access";

    /// The vault item holding the session's registration and tokens.
    pub fn vault_item(&self) -> String {
        SsoSession::vault_item_of(&self.name)
    }

    /// The vault item of the session named `name`.
    pub fn vault_item_of(name: &str) -> String {
        format!("sso:{name}")
    }

    /// What cache entries made from this session's sign-in name as their source.
    pub fn cache_source(&self) -> String {
        SsoSession::cache_source_of(&self.name)
    }

    /// The cache source of the session named `name`.
    pub fn cache_source_of(name: &str) -> String {
        format!("sso-session:{name}")
    }

    /// The SSO OIDC endpoint, for the browser's authorize URL.
    pub fn oidc_url(&self) -> String {
        self.oidc.url(&self.region)
    }
}

/// What the user is told about a chain or its plan, once, before its credentials are made:
/// something asked for that it cannot do as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// A profile's `session_tags`, with no AssumeRole to send them.
    TagsWithoutRole { profile: String },
    /// A web identity profile's `session_tags`: AssumeRoleWithWebIdentity takes none.
    TagsWithWebIdentity { profile: String },
    /// The request's reason, which no call of the chain can send as a session tag.
    ReasonNotTagged { profile: String, call: &'static str },
    /// The duration handed out, capped by the policy.
    PolicyCap {
        profile: String,
        max: Duration,
        asked: Duration,
    },
    /// A chained role's duration, capped at one hour by AWS.
    ChainingCap { role_arn: String, asked: Duration },
}

impl std::fmt::Display for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::duration::format as d;
        match self {
            Notice::TagsWithoutRole { profile } => write!(
                f,
                "the session_tags of {profile} are not sent: only AssumeRole takes them, and \
                 {profile} assumes no role"
            ),
            Notice::TagsWithWebIdentity { profile } => write!(
                f,
                "the session_tags of {profile} are not sent: AssumeRoleWithWebIdentity takes \
                 no tags (they come from the token)"
            ),
            Notice::ReasonNotTagged { profile, call } => write!(
                f,
                "the reason cannot be sent as a session tag for {profile}: {call} no tags (it \
                 is in the audit log)"
            ),
            Notice::PolicyCap {
                profile,
                max,
                asked,
            } => write!(
                f,
                "policy caps {profile} at {} (asked {})",
                d(*max),
                d(*asked)
            ),
            Notice::ChainingCap { role_arn, asked } => {
                write!(
                    f,
                    "role chaining limits {role_arn} to 1h (asked {})",
                    d(*asked)
                )
            }
        }
    }
}

/// One AssumeRole call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleHop {
    /// The profile that names this role.
    pub profile: String,
    pub role_arn: String,
    pub session_name: String,
    pub external_id: Option<String>,
    pub source_identity: Option<String>,
    pub duration: Duration,
    /// This profile's own `mfa_serial`.
    pub mfa_serial: Option<String>,
    /// aws-vault's `session_tags` (`key1=value1,key2=value2`), in the order written: sent with
    /// this hop's AssumeRole.
    pub session_tags: Vec<(String, String)>,
    /// aws-vault's `transitive_session_tags` (`key1,key2`): sent with this hop's AssumeRole.
    pub transitive_tag_keys: Vec<String>,
}

/// Everything needed to get credentials for a profile.
#[derive(Debug, Clone)]
pub struct Chain {
    /// The profile asked for.
    pub profile: String,
    pub source: Source,
    /// Role hops from the source outwards; the last is the profile asked for.
    pub hops: Vec<RoleHop>,
    /// The MFA device of the chain: the first `mfa_serial` along it, from the profile asked
    /// for down to the source. Its code goes with GetSessionToken.
    pub mfa_serial: Option<String>,
    /// The source profile's own `mfa_serial`: without a session token, its code goes with the
    /// first AssumeRole.
    pub source_mfa_serial: Option<String>,
    /// The first `mfa_process` found along the chain.
    pub mfa_process: Option<String>,
    pub region: String,
    pub region_source: RegionSource,
    /// Where STS is reached.
    pub sts: ServiceEndpoint,
    /// The network settings of the profile (proxy, trust, retries).
    pub net: NetSettings,
    /// GetSessionToken's duration, when one is used.
    pub session_duration: Duration,
    /// Hand out the source's own credentials (or assume the first role with them directly).
    pub no_session: bool,
    /// The duration the request asked for, if it asked.
    pub asked_duration: Option<Duration>,
    /// Notices for the user, such as a duration capped by role chaining.
    pub notices: Vec<Notice>,
    /// The policy rules that apply to this chain, at any of its places.
    pub policy: Effective,
    /// The source profile has `aws_access_key_id` in the AWS files: where its keys are when
    /// the vault holds none (`broker import` moves them).
    pub keys_in_aws_files: bool,
    /// …with `aws_session_token`: temporary credentials, which broker does not store.
    pub temporary_in_aws_files: bool,
}

impl Chain {
    /// Whether a GetSessionToken session sits between the stored keys and the hops.
    pub fn uses_session_token(&self) -> bool {
        matches!(self.source, Source::Vault { .. })
            && !self.no_session
            && (self.hops.is_empty() || self.mfa_serial.is_some())
    }

    /// Whether the stored long-term keys themselves are handed out (`--no-session`, no role).
    pub fn hands_out_long_term_keys(&self) -> bool {
        self.no_session && self.hops.is_empty() && matches!(self.source, Source::Vault { .. })
    }

    /// The role ARN handed out, if the profile is a role.
    pub fn role_arn(&self) -> Option<&str> {
        self.hops.last().map(|h| h.role_arn.as_str())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ChainError {
    #[error("profile {profile} is not in the AWS config")]
    UnknownProfile {
        profile: String,
        /// The closest profile names, for "did you mean".
        suggestions: Vec<String>,
        /// The AWS files hold no profile at all.
        none_yet: bool,
    },
    #[error("profile {from} names source_profile {missing}, which is not in the AWS config")]
    MissingSource { from: String, missing: String },
    #[error("source_profile cycle: {0}")]
    Cycle(String),
    #[error("profile {profile} has a malformed role_arn `{arn}` (expected arn:aws:iam::ACCOUNT:role/NAME)")]
    BadArn { profile: String, arn: String },
    #[error("profile {profile}: {detail}")]
    BadSetting { profile: String, detail: String },
    #[error("profile {profile} names sso_session {session}, which is not in the AWS config")]
    NoSsoSession { profile: String, session: String },
    #[error("sso-session {0} is not in the AWS config")]
    UnknownSsoSession(String),
    #[error("sso-session {session} has no {key}")]
    SsoSessionIncomplete { session: String, key: &'static str },
    #[error(transparent)]
    Include(#[from] crate::profiles::IncludeError),
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    /// A duration outside AWS's bounds, given with `--duration` (`from_flag`) or in a file.
    #[error("{error}")]
    Duration {
        error: crate::duration::DurationError,
        from_flag: bool,
    },
}

/// Resolves `profile` into a chain: walks it down to its source, finds the rules of `policy`
/// that apply to it, then settles the durations (with the caps of those rules and of role
/// chaining), the region and the endpoint.
pub fn resolve(
    profile: &str,
    aws: &AwsProfiles,
    settings: &Settings,
    policy: &Policy,
    env: &Environment,
    request: &Request,
) -> Result<Chain, ChainError> {
    if !aws.contains(profile) {
        return Err(unknown_profile(profile, aws));
    }
    let Walk {
        source,
        mut hops,
        mfa_serial,
        mfa_process,
    } = walk(profile, aws, settings, env)?;
    let mut notices = Vec::new();
    if hops.is_empty()
        && aws
            .get(profile, "session_tags")
            .is_some_and(|t| !t.is_empty())
    {
        notices.push(Notice::TagsWithoutRole {
            profile: profile.into(),
        });
    }
    let policy = if policy.is_empty() {
        Effective::default()
    } else {
        policy.evaluate(&places(&source, &hops))
    };
    let mut session_duration = asked_durations(settings, env, request, &mut hops);
    cap_by_policy(
        profile,
        request,
        &policy,
        &mut hops,
        &mut session_duration,
        &mut notices,
    );
    // A role assumed with IAM Identity Center's role credentials is role chaining too.
    let first_chained = usize::from(!matches!(source, Source::Sso { .. }));
    check_durations(aws, env, request, first_chained, &mut hops, &mut notices)?;
    let (region, region_source) = region(profile, aws, env, request);
    if !valid_region(&region) {
        return Err(bad(profile, &format!("invalid region `{region}`")));
    }
    let chain = Chain {
        profile: profile.to_string(),
        sts: endpoint::resolve(Service::Sts, env, aws, Some(profile))?,
        net: NetSettings::resolve(env, aws, Some(profile)),
        source_mfa_serial: mfa_serial_of(source.profile(), profile, aws, env),
        keys_in_aws_files: matches!(source, Source::Vault { .. })
            && aws.get(source.profile(), "aws_access_key_id").is_some(),
        temporary_in_aws_files: matches!(source, Source::Vault { .. })
            && aws.get(source.profile(), "aws_session_token").is_some(),
        source,
        hops,
        mfa_serial,
        mfa_process,
        region,
        region_source,
        session_duration,
        no_session: request.no_session,
        asked_duration: request.duration,
        notices,
        policy,
    };
    // session_token_duration matters only to chains that call GetSessionToken.
    if chain.uses_session_token() {
        let place = if chain.hops.is_empty() && request.duration.is_some() {
            DurationPlace::Flag
        } else if let Some((name, _)) = session_token_ttl(env, chain.hops.is_empty()) {
            DurationPlace::Env(name)
        } else {
            DurationPlace::Setting("[session] session_token_duration")
        };
        check_range(
            chain.session_duration,
            MAX_SESSION_TOKEN_DURATION,
            "a session token",
            place,
        )?;
    }
    Ok(chain)
}

/// A profile followed down its `source_profile`s: where its credentials come from, and the
/// role hops from there up to the profile.
struct Walk {
    source: Source,
    hops: Vec<RoleHop>,
    /// The first `mfa_serial` along the chain, from the profile down.
    mfa_serial: Option<String>,
    /// The first `mfa_process` along the chain.
    mfa_process: Option<String>,
}

fn walk(
    profile: &str,
    aws: &AwsProfiles,
    settings: &Settings,
    env: &Environment,
) -> Result<Walk, ChainError> {
    let mut visited: Vec<String> = Vec::new();
    let mut hops = Vec::new();
    let mut mfa_serial = None;
    let mut mfa_process = None;
    let mut current = profile.to_string();
    let source = loop {
        if visited.contains(&current) {
            visited.push(current);
            return Err(ChainError::Cycle(visited.join(" -> ")));
        }
        visited.push(current.clone());
        aws.includes(&current)?;
        let get = |key: &str| aws.get(&current, key).filter(|v| !v.is_empty());
        if mfa_serial.is_none() {
            mfa_serial = mfa_serial_of(&current, profile, aws, env);
        }
        if mfa_process.is_none() {
            mfa_process = get("mfa_process").map(str::to_owned);
        }
        refuse_unsupported(&current, &get)?;
        let Some(role_arn) = get("role_arn") else {
            if get("web_identity_token_file").is_some() {
                return Err(bad(&current, "web_identity_token_file needs a role_arn"));
            }
            break terminal_source(&current, aws, env)?;
        };
        if !valid_role_arn(role_arn) {
            return Err(ChainError::BadArn {
                profile: current.clone(),
                arn: role_arn.to_string(),
            });
        }
        hops.push(role_hop(&current, profile, role_arn, aws, settings, env)?);
        if let Some(token_file) = get("web_identity_token_file") {
            break Source::WebIdentity {
                profile: current.clone(),
                token_file: env.expand_home(PathBuf::from(token_file)),
            };
        }
        // A profile naming itself as its source means its own keys (or process), as the AWS
        // CLI reads it: a role and the keys to assume it with in one profile.
        match get("source_profile").filter(|next| *next != current) {
            Some(next) => {
                if !aws.contains(next) {
                    return Err(ChainError::MissingSource {
                        from: current.clone(),
                        missing: next.to_string(),
                    });
                }
                current = next.to_owned();
            }
            // A role profile without a source uses its own credential_process, SSO role or
            // stored keys.
            None => break terminal_source(&current, aws, env)?,
        }
    };
    hops.reverse();
    Ok(Walk {
        source,
        hops,
        mfa_serial,
        mfa_process,
    })
}

/// A profile's `mfa_serial`; for the profile asked for, aws-vault's `AWS_MFA_SERIAL` stands for
/// it, as aws-vault reads it (the variable is applied to the active profile before the config,
/// which only fills what it left empty; its sources are read without it).
fn mfa_serial_of(
    profile: &str,
    asked: &str,
    aws: &AwsProfiles,
    env: &Environment,
) -> Option<String> {
    let variable = env
        .aws_vault
        .mfa_serial
        .as_ref()
        .filter(|_| profile == asked);
    variable.cloned().or_else(|| {
        aws.get(profile, "mfa_serial")
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    })
}

/// aws-vault's GetSessionToken duration for a chain with roles (`AWS_CHAINED_SESSION_TOKEN_TTL`)
/// or without (`AWS_SESSION_TOKEN_TTL`), when set and valid (a bad value stops
/// [`crate::context`] first).
fn session_token_ttl(env: &Environment, without_roles: bool) -> Option<(&'static str, Duration)> {
    let (name, value) = if without_roles {
        ("AWS_SESSION_TOKEN_TTL", &env.aws_vault.session_token_ttl)
    } else {
        (
            "AWS_CHAINED_SESSION_TOKEN_TTL",
            &env.aws_vault.chained_session_token_ttl,
        )
    };
    Some((name, *value.as_ref()?.as_ref().ok()?))
}

/// aws-vault's `AWS_ASSUME_ROLE_TTL`, when set and valid: every role's duration, before
/// `duration_seconds` and `[session] assume_role_duration`.
fn assume_role_ttl(env: &Environment) -> Option<Duration> {
    env.aws_vault
        .assume_role_ttl
        .as_ref()
        .and_then(|d| d.as_ref().ok().copied())
}

/// The AWS CLI's ways to get credentials that broker does not take, as errors.
fn refuse_unsupported<'a>(
    profile: &str,
    get: &impl Fn(&str) -> Option<&'a str>,
) -> Result<(), ChainError> {
    if let Some(kind) = get("credential_source") {
        return Err(bad(
            profile,
            &format!(
                "credential_source = {kind} is not supported: broker's credentials come from \
                 its vault (source_profile), never from instance metadata, a container \
                 endpoint or the environment"
            ),
        ));
    }
    if get("web_identity_token_process").is_some() {
        return Err(bad(
            profile,
            "web_identity_token_process (aws-vault's) is not supported: write the token to a \
             file and name it in web_identity_token_file",
        ));
    }
    Ok(())
}

/// The places of a chain that policy rules are matched against: its source (with an IAM
/// Identity Center role's ARNs), then each role hop.
fn places(source: &Source, hops: &[RoleHop]) -> Vec<Place> {
    let source_arns = match source {
        Source::Sso {
            account_id,
            role_name,
            session,
            ..
        } => sso_role_arns(account_id, role_name, &session.region),
        _ => Vec::new(),
    };
    let mut places = vec![Place {
        anchor: Anchor::Source,
        profile: source.profile().to_string(),
        role_arns: source_arns,
    }];
    places.extend(hops.iter().enumerate().map(|(i, hop)| Place {
        anchor: Anchor::Hop(i),
        profile: hop.profile.clone(),
        role_arns: vec![hop.role_arn.clone()],
    }));
    places
}

/// The ARNs an IAM Identity Center role is matched by, as the config names it (the account and
/// the permission set): `arn:aws:iam::ACCOUNT:role/NAME`, and the form of the role IAM Identity
/// Center makes, `…:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_NAME_` (the real one
/// goes on with a suffix, and may have a region in its path, which the config does not say).
fn sso_role_arns(account: &str, role_name: &str, sso_region: &str) -> Vec<String> {
    let partition = if sso_region.starts_with("cn-") {
        "aws-cn"
    } else if sso_region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    };
    vec![
        format!("arn:{partition}:iam::{account}:role/{role_name}"),
        format!(
            "arn:{partition}:iam::{account}:role/aws-reserved/sso.amazonaws.com/\
             AWSReservedSSO_{role_name}_"
        ),
    ]
}

/// The durations asked for: `--duration` on what is handed out (the last hop, or the session
/// token), else the settings'. Returns the session token's duration.
fn asked_durations(
    settings: &Settings,
    env: &Environment,
    request: &Request,
    hops: &mut [RoleHop],
) -> Duration {
    let mut session_duration = session_token_ttl(env, hops.is_empty())
        .map(|(_, d)| d)
        .or(settings.session.session_token_duration)
        .unwrap_or(DEFAULT_SESSION_TOKEN_DURATION);
    let handed_out = match hops.last_mut() {
        Some(last) => &mut last.duration,
        None => &mut session_duration,
    };
    if let Some(asked) = request.duration {
        *handed_out = asked;
    }
    session_duration
}

/// The policy's caps: each place by the rules that matched there or before; a notice when
/// what `--duration` asked for is cut.
fn cap_by_policy(
    profile: &str,
    request: &Request,
    policy: &Effective,
    hops: &mut [RoleHop],
    session_duration: &mut Duration,
    notices: &mut Vec<Notice>,
) {
    let handed_out = hops
        .len()
        .checked_sub(1)
        .map_or(Anchor::Source, Anchor::Hop);
    let mut cap = |place: Anchor, duration: &mut Duration| {
        if let Some(max) = policy.cap_at(place).filter(|max| *duration > *max) {
            if place == handed_out && request.duration.is_some() {
                notices.push(Notice::PolicyCap {
                    profile: profile.into(),
                    max,
                    asked: *duration,
                });
            }
            *duration = max;
        }
    };
    cap(Anchor::Source, session_duration);
    for (i, hop) in hops.iter_mut().enumerate() {
        cap(Anchor::Hop(i), &mut hop.duration);
    }
}

/// AWS's bounds on every role's duration, and the one-hour cap on chained hops (from hop
/// `first_chained` on).
fn check_durations(
    aws: &AwsProfiles,
    env: &Environment,
    request: &Request,
    first_chained: usize,
    hops: &mut [RoleHop],
    notices: &mut Vec<Notice>,
) -> Result<(), ChainError> {
    let last = hops.len().saturating_sub(1);
    for (i, hop) in hops.iter_mut().enumerate() {
        let place = if i == last && request.duration.is_some() {
            DurationPlace::Flag
        } else if assume_role_ttl(env).is_some() {
            DurationPlace::Env("AWS_ASSUME_ROLE_TTL")
        } else if aws.get(&hop.profile, "duration_seconds").is_some() {
            DurationPlace::Profile(hop.profile.clone())
        } else {
            DurationPlace::Setting("[session] assume_role_duration")
        };
        check_range(hop.duration, MAX_ROLE_DURATION, "a role", place)?;
        // Assumed with another role's credentials.
        if i >= first_chained && hop.duration > MAX_CHAINED_DURATION {
            notices.push(Notice::ChainingCap {
                role_arn: hop.role_arn.clone(),
                asked: hop.duration,
            });
            hop.duration = MAX_CHAINED_DURATION;
        }
    }
    Ok(())
}

/// Where a profile's own credentials come from: its `credential_process`, else its IAM
/// Identity Center role, else the keys stored under its name.
fn terminal_source(
    profile: &str,
    aws: &AwsProfiles,
    env: &Environment,
) -> Result<Source, ChainError> {
    let get = |key: &str| aws.get(profile, key).filter(|v| !v.is_empty());
    if let Some(command) = get("credential_process") {
        return Ok(Source::Process {
            profile: profile.to_string(),
            command: command.to_owned(),
        });
    }
    let Some(session) = profile_sso_session(profile, aws, env)? else {
        return Ok(Source::Vault {
            profile: profile.to_string(),
        });
    };
    Ok(Source::Sso {
        profile: profile.to_string(),
        account_id: get("sso_account_id")
            .ok_or_else(|| bad(profile, "an SSO profile needs sso_account_id"))?
            .to_string(),
        role_name: get("sso_role_name")
            .ok_or_else(|| bad(profile, "an SSO profile needs sso_role_name"))?
            .to_string(),
        session,
    })
}

/// The SSO session a profile signs in with: its `sso_session`, or the legacy `sso_start_url`
/// and `sso_region` in the profile itself; `None` for a profile without either.
pub fn profile_sso_session(
    profile: &str,
    aws: &AwsProfiles,
    env: &Environment,
) -> Result<Option<SsoSession>, ChainError> {
    let get = |key: &str| aws.get(profile, key).filter(|v| !v.is_empty());
    let session = match (get("sso_session"), get("sso_start_url")) {
        (None, None) => return Ok(None),
        (Some(name), _) => {
            if !aws.has_sso_session(name) {
                return Err(ChainError::NoSsoSession {
                    profile: profile.to_string(),
                    session: name.to_string(),
                });
            }
            let session = sso_session(name, aws, env, Some(profile))?;
            // botocore refuses the profile too (InvalidConfigError).
            if let Some(url) = get("sso_start_url").filter(|url| *url != session.start_url) {
                return Err(bad(
                    profile,
                    &format!(
                        "its sso_start_url {url} is not the sso_start_url {} of its sso_session \
                         {name}",
                        session.start_url
                    ),
                ));
            }
            session
        }
        // The legacy form: the session's keys in the profile itself.
        (None, Some(start_url)) => SsoSession {
            name: start_url.to_string(),
            start_url: start_url.to_string(),
            region: get("sso_region")
                .ok_or_else(|| bad(profile, "sso_start_url needs sso_region"))?
                .to_string(),
            scopes: vec![SsoSession::DEFAULT_SCOPE.into()],
            oidc: endpoint::resolve(Service::SsoOidc, env, aws, Some(profile))?,
            portal: endpoint::resolve(Service::Sso, env, aws, Some(profile))?,
        },
    };
    Ok(Some(session))
}

/// The `[sso-session NAME]` section, resolved (endpoints as for any service, with the keys of
/// the profile that names it, if any).
pub fn sso_session(
    name: &str,
    aws: &AwsProfiles,
    env: &Environment,
    profile: Option<&str>,
) -> Result<SsoSession, ChainError> {
    let section = |key: &'static str| {
        aws.sso_session_get(name, key)
            .filter(|v| !v.is_empty())
            .ok_or(ChainError::SsoSessionIncomplete {
                session: name.to_string(),
                key,
            })
    };
    if !aws.has_sso_session(name) {
        return Err(ChainError::UnknownSsoSession(name.to_string()));
    }
    let scopes: Vec<String> = aws
        .sso_session_get(name, "sso_registration_scopes")
        .map(|s| {
            s.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Ok(SsoSession {
        name: name.to_string(),
        start_url: section("sso_start_url")?.to_string(),
        region: section("sso_region")?.to_string(),
        scopes: if scopes.is_empty() {
            vec![SsoSession::DEFAULT_SCOPE.into()]
        } else {
            scopes
        },
        oidc: endpoint::resolve(Service::SsoOidc, env, aws, profile)?,
        portal: endpoint::resolve(Service::Sso, env, aws, profile)?,
    })
}

/// Where a chain's region came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionSource {
    /// `--region`.
    Flag,
    /// `AWS_REGION`, set by the user.
    AwsRegion,
    /// `AWS_DEFAULT_REGION`, set by the user.
    AwsDefaultRegion,
    /// The profile's `region`.
    Profile,
    /// The region a parent `broker exec` set for its child.
    ParentExec,
    /// None of them: `us-east-1`.
    Default,
}

impl RegionSource {
    pub fn name(self) -> &'static str {
        match self {
            RegionSource::Flag => "--region",
            RegionSource::AwsRegion => "AWS_REGION",
            RegionSource::AwsDefaultRegion => "AWS_DEFAULT_REGION",
            RegionSource::Profile => "profile",
            RegionSource::ParentExec => "parent broker exec",
            RegionSource::Default => "default",
        }
    }
}

/// The region, as the AWS SDKs choose it: `--region`, then `AWS_REGION`, then
/// `AWS_DEFAULT_REGION`, then the profile's `region` — except that a variable holding the region
/// a parent `broker exec` set (its `BROKER_REGION`) is broker's, not the user's: it comes after
/// the profile, so that a role switch inside a broker shell takes the new profile's region.
fn region(
    profile: &str,
    aws: &AwsProfiles,
    env: &Environment,
    request: &Request,
) -> (String, RegionSource) {
    if let Some(r) = &request.region {
        return (r.clone(), RegionSource::Flag);
    }
    let marker = env.broker.region.as_deref();
    let users = |value: &Option<String>| value.clone().filter(|v| Some(v.as_str()) != marker);
    if let Some(r) = users(&env.aws.region) {
        return (r, RegionSource::AwsRegion);
    }
    if let Some(r) = users(&env.aws.default_region) {
        return (r, RegionSource::AwsDefaultRegion);
    }
    if let Some(r) = aws.get(profile, "region").filter(|v| !v.is_empty()) {
        return (r.to_owned(), RegionSource::Profile);
    }
    let inherited = [&env.aws.region, &env.aws.default_region]
        .into_iter()
        .any(|v| v.is_some() && v.as_deref() == marker);
    match marker {
        Some(r) if inherited => (r.to_owned(), RegionSource::ParentExec),
        _ => ("us-east-1".to_string(), RegionSource::Default),
    }
}

/// The profile `name` is not in the AWS config: the error, with the closest names.
pub fn unknown_profile(name: &str, aws: &AwsProfiles) -> ChainError {
    let names = aws.names();
    ChainError::UnknownProfile {
        profile: name.to_string(),
        suggestions: crate::profiles::closest(name, names.iter().map(String::as_str)),
        none_yet: names.is_empty(),
    }
}

/// The hop of `profile`'s role, in the chain of the profile `asked` for.
fn role_hop(
    profile: &str,
    asked: &str,
    role_arn: &str,
    aws: &AwsProfiles,
    settings: &Settings,
    env: &Environment,
) -> Result<RoleHop, ChainError> {
    let get = |key: &str| aws.get(profile, key).filter(|v| !v.is_empty());
    let duration = match (assume_role_ttl(env), get("duration_seconds")) {
        (Some(ttl), _) => ttl,
        (None, Some(text)) => text
            .trim()
            .parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| {
                bad(
                    profile,
                    &format!("duration_seconds `{text}` is not a number of seconds"),
                )
            })?,
        (None, None) => settings
            .session
            .assume_role_duration
            .unwrap_or(DEFAULT_ROLE_DURATION),
    };
    Ok(RoleHop {
        profile: profile.to_string(),
        role_arn: role_arn.to_string(),
        session_name: get("role_session_name")
            .map(str::to_owned)
            .unwrap_or_else(|| sanitize_session_name(env.user_name())),
        external_id: get("external_id").map(str::to_owned),
        source_identity: get("source_identity").map(str::to_owned),
        duration,
        mfa_serial: mfa_serial_of(profile, asked, aws, env),
        session_tags: match get("session_tags") {
            Some(text) => parse_session_tags(text).map_err(|why| bad(profile, &why))?,
            None => Vec::new(),
        },
        transitive_tag_keys: get("transitive_session_tags")
            .map(parse_tag_keys)
            .unwrap_or_default(),
    })
}

/// `session_tags` as aws-vault reads it: `key=value` pairs separated by commas, blanks around
/// keys and values trimmed. An entry without `=`, an empty key or a key given twice (STS
/// compares keys without case) is an error.
fn parse_session_tags(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut tags: Vec<(String, String)> = Vec::new();
    for entry in text.split(',') {
        let Some((key, value)) = entry.split_once('=') else {
            return Err(format!(
                "session_tags `{text}` is not key1=value1,key2=value2 (`{}` has no =)",
                entry.trim()
            ));
        };
        let (key, value) = (key.trim(), value.trim());
        if key.is_empty() {
            return Err(format!("session_tags `{text}` has a tag without a key"));
        }
        if tags.iter().any(|(k, _)| k.eq_ignore_ascii_case(key)) {
            return Err(format!("session_tags `{text}` sets {key} twice"));
        }
        tags.push((key.to_string(), value.to_string()));
    }
    Ok(tags)
}

/// `transitive_session_tags` as aws-vault reads it: keys separated by commas, blanks trimmed,
/// empty entries dropped.
fn parse_tag_keys(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .collect()
}

fn bad(profile: &str, detail: &str) -> ChainError {
    ChainError::BadSetting {
        profile: profile.to_string(),
        detail: detail.to_string(),
    }
}

/// Where a duration was given.
enum DurationPlace {
    /// `--duration`.
    Flag,
    /// The `duration_seconds` of this profile.
    Profile(String),
    /// A setting of config.toml.
    Setting(&'static str),
    /// One of aws-vault's variables.
    Env(&'static str),
}

/// AWS's bounds on a duration given at `place`.
fn check_range(
    d: Duration,
    max: Duration,
    what: &'static str,
    place: DurationPlace,
) -> Result<(), ChainError> {
    crate::duration::check_range(d, MIN_DURATION, max, Some(what)).map_err(|e| {
        ChainError::Duration {
            from_flag: matches!(place, DurationPlace::Flag),
            error: e.at(match place {
                DurationPlace::Flag => "--duration".to_string(),
                DurationPlace::Profile(profile) => {
                    format!("duration_seconds of profile {profile}")
                }
                DurationPlace::Setting(name) | DurationPlace::Env(name) => name.to_string(),
            }),
        }
    })?;
    Ok(())
}

/// `arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME`.
pub fn valid_role_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, service, region, account, resource] = parts.as_slice() else {
        return false;
    };
    let name_ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c))
    };
    *prefix == "arn"
        && partition.starts_with("aws")
        && partition
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '-')
        && *service == "iam"
        && region.is_empty()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && resource
            .strip_prefix("role/")
            .is_some_and(|r| name_ok(r) && !r.ends_with('/'))
}

fn valid_region(region: &str) -> bool {
    !region.is_empty()
        && region.len() <= 64
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A name sanitised for RoleSessionName (`[\w+=,.@-]`, 2 to 64 characters).
pub fn sanitize_session_name(name: &str) -> String {
    let mut clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    if clean.len() < 2 {
        clean = format!("broker-{clean}");
    }
    clean
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profiles::AwsProfiles;

    #[test]
    fn role_arns() {
        assert!(valid_role_arn("arn:aws:iam::123456789012:role/admin"));
        assert!(valid_role_arn(
            "arn:aws-cn:iam::123456789012:role/path/to/x+y=z,a.b@c_d-e"
        ));
        for bad in [
            "",
            "arn:aws:iam::123456789012:user/admin",
            "arn:aws:iam::12345678901:role/admin",
            "arn:aws:iam:us-east-1:123456789012:role/admin",
            "arn:aws:sts::123456789012:role/admin",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:iam::123456789012:role/a b",
            "role/admin",
        ] {
            assert!(!valid_role_arn(bad), "{bad}");
        }
    }

    #[test]
    fn session_names_are_sanitised() {
        assert_eq!(sanitize_session_name("jane.doe@corp"), "jane.doe@corp");
        assert_eq!(sanitize_session_name("Jane Doe/x"), "Jane-Doe-x");
        assert_eq!(sanitize_session_name("a"), "broker-a");
        assert_eq!(sanitize_session_name(&"x".repeat(100)).len(), 64);
    }

    const ROLE: &str = "arn:aws:iam::123456789012:role/";

    const SSO: &str = "[sso-session corp]\nsso_start_url = https://corp.example/start\n\
                       sso_region = eu-west-1\n\
                       [profile sso]\nsso_session = corp\nsso_account_id = 111111111111\n\
                       sso_role_name = Admin\n";

    #[test]
    fn a_role_assumed_with_sso_credentials_is_chained() {
        let config = format!(
            "{SSO}[profile above]\nsource_profile = sso\nrole_arn = {ROLE}above\n\
             duration_seconds = 7200\n"
        );
        let chain = resolve_in(&config, &[], "above", &Request::default()).unwrap();
        assert_eq!(chain.hops[0].duration, MAX_CHAINED_DURATION);
        assert!(
            matches!(chain.notices[..], [Notice::ChainingCap { .. }]),
            "{:?}",
            chain.notices
        );
    }

    #[test]
    fn an_sso_session_and_another_start_url_are_an_error_naming_both() {
        let config = format!("{SSO}sso_start_url = https://other.example/start\n");
        let err = resolve_in(&config, &[], "sso", &Request::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("https://other.example/start")
                && err.contains("https://corp.example/start")
                && err.contains("sso_session corp"),
            "{err}"
        );
        let same = format!("{SSO}sso_start_url = https://corp.example/start\n");
        resolve_in(&same, &[], "sso", &Request::default()).unwrap();
    }

    fn resolve_in(
        config: &str,
        env: &[(&str, &str)],
        profile: &str,
        request: &Request,
    ) -> Result<Chain, ChainError> {
        resolve_with(config, env, profile, request, &Policy::default())
    }

    fn resolve_with(
        config: &str,
        env: &[(&str, &str)],
        profile: &str,
        request: &Request,
        policy: &Policy,
    ) -> Result<Chain, ChainError> {
        let aws = AwsProfiles::from_texts(config, "").unwrap();
        let env = Environment::from_pairs(env);
        resolve(profile, &aws, &Settings::default(), policy, &env, request)
    }

    fn chain_of(config: &str, profile: &str) -> Result<Chain, ChainError> {
        resolve_in(config, &[("USER", "jane")], profile, &Request::default())
    }

    #[test]
    fn cycles_and_missing_sources_name_the_profiles() {
        let config = format!(
            "[profile a]\nrole_arn = {ROLE}a\nsource_profile = b\n\
             [profile b]\nrole_arn = {ROLE}b\nsource_profile = a\n\
             [profile lost]\nrole_arn = {ROLE}l\nsource_profile = nowhere\n"
        );
        assert_eq!(
            chain_of(&config, "a").unwrap_err(),
            ChainError::Cycle("a -> b -> a".into())
        );
        assert_eq!(
            chain_of(&config, "lost").unwrap_err(),
            ChainError::MissingSource {
                from: "lost".into(),
                missing: "nowhere".into()
            }
        );
        assert_eq!(
            chain_of(&config, "ghost").unwrap_err(),
            ChainError::UnknownProfile {
                profile: "ghost".into(),
                suggestions: vec![],
                none_yet: false
            }
        );
        assert_eq!(
            chain_of(&config, "los").unwrap_err(),
            ChainError::UnknownProfile {
                profile: "los".into(),
                suggestions: vec!["lost".into()],
                none_yet: false
            }
        );
        let config = format!(
            "[profile ec2]\nrole_arn = {ROLE}a\ncredential_source = Ec2InstanceMetadata\n\
             [profile above]\nrole_arn = {ROLE}b\nsource_profile = ec2\n"
        );
        let err = chain_of(
            &format!("[profile p]\nrole_arn = {ROLE}p\nweb_identity_token_process = x\n"),
            "p",
        )
        .unwrap_err();
        assert!(err
            .to_string()
            .contains("web_identity_token_process (aws-vault's) is not supported"));
        for profile in ["ec2", "above"] {
            let err = chain_of(&config, profile).unwrap_err().to_string();
            assert!(
                err.starts_with(
                    "profile ec2: credential_source = Ec2InstanceMetadata is not supported"
                ),
                "{err}"
            );
        }
    }

    #[test]
    fn a_profile_that_names_itself_as_its_source_uses_its_own_keys() {
        let config = format!(
            "[profile me]\nrole_arn = {ROLE}me\nsource_profile = me\n\
             [profile above]\nrole_arn = {ROLE}above\nsource_profile = me\n\
             [profile proc]\nrole_arn = {ROLE}proc\nsource_profile = proc\ncredential_process = x\n"
        );
        let me = chain_of(&config, "me").unwrap();
        assert_eq!(
            me.source,
            Source::Vault {
                profile: "me".into()
            }
        );
        let hops: Vec<_> = me.hops.iter().map(|h| h.profile.as_str()).collect();
        assert_eq!(hops, ["me"]);
        let above = chain_of(&config, "above").unwrap();
        assert_eq!(
            above.source,
            Source::Vault {
                profile: "me".into()
            }
        );
        let hops: Vec<_> = above.hops.iter().map(|h| h.profile.as_str()).collect();
        assert_eq!(hops, ["me", "above"]);
        assert_eq!(
            chain_of(&config, "proc").unwrap().source,
            Source::Process {
                profile: "proc".into(),
                command: "x".into()
            }
        );
    }

    #[test]
    fn include_profile_is_followed_along_the_chain_and_broken_includes_are_errors() {
        let config = format!(
            "[profile shared]\nsource_profile = user\nmfa_serial = M\nregion = eu-west-1\n\
             [profile user]\n\
             [profile role]\ninclude_profile = shared\nrole_arn = {ROLE}role\n\
             [profile loop]\ninclude_profile = loop2\nrole_arn = {ROLE}loop\n\
             [profile loop2]\ninclude_profile = loop\n\
             [profile above]\nrole_arn = {ROLE}above\nsource_profile = loop\n"
        );
        let chain = chain_of(&config, "role").unwrap();
        assert_eq!(
            chain.source,
            Source::Vault {
                profile: "user".into()
            }
        );
        assert_eq!(chain.hops[0].mfa_serial.as_deref(), Some("M"));
        assert_eq!(chain.region, "eu-west-1");
        for profile in ["loop", "above"] {
            assert_eq!(
                chain_of(&config, profile).unwrap_err().to_string(),
                "include_profile cycle: loop -> loop2 -> loop",
                "{profile}"
            );
        }
    }

    #[test]
    fn session_tags_are_read_as_aws_vault_reads_them() {
        let config = format!(
            "[profile user]\nsession_tags = ignored=here\n\
             [profile r1]\nrole_arn = {ROLE}r1\nsource_profile = user\n\
             session_tags = team = ops , env=prod=eu\ntransitive_session_tags = team, ,env,\n\
             [profile r2]\nrole_arn = {ROLE}r2\nsource_profile = r1\n"
        );
        let chain = chain_of(&config, "r2").unwrap();
        let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            chain.hops[0].session_tags,
            pairs(&[("team", "ops"), ("env", "prod=eu")])
        );
        assert_eq!(chain.hops[0].transitive_tag_keys, ["team", "env"]);
        assert!(chain.hops[1].session_tags.is_empty(), "each hop its own");
        assert!(chain.notices.is_empty());
        let user = chain_of(&config, "user").unwrap();
        assert!(user.notices[0]
            .to_string()
            .contains("session_tags of user are not sent"));
        for bad in ["", "a=1,", "a=1,b", "=x", "a=1,A=2"] {
            let config =
                format!("[profile r]\nrole_arn = {ROLE}r\nsession_tags = {bad}\n[profile x]\n");
            let err = chain_of(&config, "r");
            // An empty value is no setting at all, as for every key.
            if bad.is_empty() {
                assert!(err.is_ok());
                continue;
            }
            let err = err.unwrap_err().to_string();
            assert!(err.starts_with("profile r: session_tags"), "{bad}: {err}");
        }
    }

    #[test]
    fn a_chain_ends_at_stored_keys_a_process_or_a_token_file() {
        let config = format!(
            "[profile user]\n\
             [profile r1]\nrole_arn = {ROLE}r1\nsource_profile = user\n\
             [profile r2]\nrole_arn = {ROLE}r2\nsource_profile = r1\nrole_session_name = ops\n\
             [profile proc]\ncredential_process = get-creds\n\
             [profile web]\nrole_arn = {ROLE}web\nweb_identity_token_file = ~/token\n"
        );
        let chain = chain_of(&config, "r2").unwrap();
        assert_eq!(
            chain.source,
            Source::Vault {
                profile: "user".into()
            }
        );
        let hops: Vec<_> = chain
            .hops
            .iter()
            .map(|h| (h.profile.as_str(), h.session_name.as_str()))
            .collect();
        assert_eq!(hops, [("r1", "jane"), ("r2", "ops")]);
        assert_eq!(
            chain_of(&config, "proc").unwrap().source,
            Source::Process {
                profile: "proc".into(),
                command: "get-creds".into()
            }
        );
        let web = resolve_in(&config, &[("HOME", "/h")], "web", &Request::default()).unwrap();
        assert_eq!(
            web.source,
            Source::WebIdentity {
                profile: "web".into(),
                token_file: "/h/token".into()
            }
        );
    }

    #[test]
    fn the_endpoint_follows_the_sdks() {
        let config = "[profile p]\nendpoint_url = http://profile\n";
        let endpoint = |env: &[(&str, &str)]| {
            resolve_in(config, env, "p", &Request::default())
                .unwrap()
                .sts
                .url
        };
        assert_eq!(endpoint(&[]).as_deref(), Some("http://profile"));
        assert_eq!(
            endpoint(&[("AWS_ENDPOINT_URL", "http://all")]).as_deref(),
            Some("http://all")
        );
        assert_eq!(
            endpoint(&[
                ("AWS_ENDPOINT_URL", "http://all"),
                ("AWS_ENDPOINT_URL_STS", "http://sts")
            ])
            .as_deref(),
            Some("http://sts")
        );
    }

    #[test]
    fn the_region_comes_from_the_flag_the_environment_then_the_profile() {
        let config = "[profile with]\nregion = eu-west-1\n[profile without]\n";
        let region = |profile: &str, env: &[(&str, &str)], flag: Option<&str>| {
            let request = Request {
                region: flag.map(str::to_owned),
                ..Request::default()
            };
            let chain = resolve_in(config, env, profile, &request).unwrap();
            (chain.region, chain.region_source.name())
        };
        let both = [
            ("AWS_REGION", "ap-south-1"),
            ("AWS_DEFAULT_REGION", "sa-east-1"),
        ];
        assert_eq!(
            region("with", &both, Some("us-west-2")),
            ("us-west-2".into(), "--region")
        );
        assert_eq!(
            region("with", &both, None),
            ("ap-south-1".into(), "AWS_REGION")
        );
        assert_eq!(
            region("with", &[("AWS_DEFAULT_REGION", "sa-east-1")], None),
            ("sa-east-1".into(), "AWS_DEFAULT_REGION")
        );
        assert_eq!(region("with", &[], None), ("eu-west-1".into(), "profile"));
        assert_eq!(
            region("without", &[], None),
            ("us-east-1".into(), "default")
        );
        let bad = Request {
            region: Some("not a region".into()),
            ..Request::default()
        };
        assert!(resolve_in(config, &[], "with", &bad).is_err());
    }

    #[test]
    fn a_region_set_by_a_parent_broker_exec_does_not_beat_the_profile() {
        let config = "[profile with]\nregion = eu-west-1\n[profile without]\n";
        let region = |profile: &str, env: &[(&str, &str)]| {
            let chain = resolve_in(config, env, profile, &Request::default()).unwrap();
            (chain.region, chain.region_source.name())
        };
        let parent = [
            ("AWS_REGION", "ap-south-1"),
            ("AWS_DEFAULT_REGION", "ap-south-1"),
            ("BROKER_REGION", "ap-south-1"),
        ];
        assert_eq!(region("with", &parent), ("eu-west-1".into(), "profile"));
        assert_eq!(
            region("without", &parent),
            ("ap-south-1".into(), "parent broker exec"),
            "below the profile, the parent's region still holds"
        );
        // The user changed a variable after the parent set it: theirs again.
        let changed = [
            ("AWS_REGION", "ap-south-1"),
            ("AWS_DEFAULT_REGION", "sa-east-1"),
            ("BROKER_REGION", "ap-south-1"),
        ];
        assert_eq!(
            region("with", &changed),
            ("sa-east-1".into(), "AWS_DEFAULT_REGION")
        );
        // A marker without the variables it marks (the user unset them) means nothing.
        assert_eq!(
            region("without", &[("BROKER_REGION", "ap-south-1")]),
            ("us-east-1".into(), "default")
        );
    }

    #[test]
    fn mfa_serials_along_the_chain() {
        let config = format!(
            "[profile user]\nmfa_serial = U\n\
             [profile r1]\nrole_arn = {ROLE}r1\nsource_profile = user\n\
             [profile r2]\nrole_arn = {ROLE}r2\nsource_profile = r1\nmfa_serial = R2\n"
        );
        let chain = chain_of(&config, "r2").unwrap();
        assert_eq!(
            chain.mfa_serial.as_deref(),
            Some("R2"),
            "the first from the top"
        );
        assert_eq!(chain.source_mfa_serial.as_deref(), Some("U"));
        let own: Vec<_> = chain.hops.iter().map(|h| h.mfa_serial.as_deref()).collect();
        assert_eq!(own, [None, Some("R2")]);
        assert!(chain.uses_session_token());
        assert!(!chain_of(&config, "r1").unwrap().hops.is_empty());
    }

    #[test]
    fn durations_are_capped_by_policy_and_role_chaining() {
        let config = format!(
            "[profile user]\n\
             [profile r1]\nrole_arn = {ROLE}r1\nsource_profile = user\nduration_seconds = 7200\n\
             [profile r2]\nrole_arn = {ROLE}r2\nsource_profile = r1\n"
        );
        let asked = |profile: &str, duration: u64, max: Option<&str>| {
            let request = Request {
                duration: Some(Duration::from_secs(duration)),
                ..Request::default()
            };
            let policy = Policy {
                user: crate::settings::parse_toml(&match max {
                    Some(max) => format!("[profile.{profile}]\nmax_duration = \"{max}\"\n"),
                    None => String::new(),
                })
                .unwrap(),
                ..Policy::default()
            };
            resolve_with(&config, &[], profile, &request, &policy)
        };
        let r1 = chain_of(&config, "r1").unwrap();
        assert_eq!(r1.hops[0].duration, Duration::from_secs(7200));
        let r2 = asked("r2", 3 * 3600, None).unwrap();
        assert_eq!(r2.hops[1].duration, MAX_CHAINED_DURATION);
        assert!(
            r2.notices[0].to_string().contains("role chaining limits"),
            "{:?}",
            r2.notices
        );
        let capped = asked("r1", 3 * 3600, Some("30m")).unwrap();
        assert_eq!(capped.hops[0].duration, Duration::from_secs(1800));
        assert!(capped.notices[0]
            .to_string()
            .starts_with("policy caps r1 at 30m"));
        assert_eq!(capped.asked_duration, Some(Duration::from_secs(3 * 3600)));
        assert!(matches!(
            asked("r1", 600, None),
            Err(ChainError::Duration {
                from_flag: true,
                ..
            })
        ));
        assert_eq!(
            asked("r1", 13 * 3600, None).unwrap_err().to_string(),
            "invalid duration `13h` for --duration: AWS allows 15m to 12h for a role"
        );
        let long = format!("[profile u]\n[profile r]\nrole_arn = {ROLE}r\nsource_profile = u\nduration_seconds = 86400\n");
        match chain_of(&long, "r") {
            Err(ChainError::Duration {
                error,
                from_flag: false,
            }) => assert_eq!(
                error.to_string(),
                "invalid duration `24h` for duration_seconds of profile r: AWS allows 15m to 12h for a role"
            ),
            other => panic!("{other:?}"),
        }
        let user = asked("user", 20 * 3600, None).unwrap();
        assert_eq!(user.session_duration, Duration::from_secs(20 * 3600));
    }
}
