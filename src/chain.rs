//! The profile resolver: turns a profile name, the AWS config, config.toml and the request's
//! options into a [`Chain`] — where credentials come from and every role hop on top — before any
//! call is made. Pure: reads no secret, calls nothing.

use std::path::PathBuf;
use std::time::Duration;

use crate::error::escape_control;
use crate::profiles::AwsProfiles;
use crate::settings::Settings;

/// AWS's bounds on `DurationSeconds`.
pub const MIN_DURATION: Duration = Duration::from_secs(900);
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
    /// The profile's policy cap on the duration handed out.
    pub max_duration: Option<Duration>,
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
}

impl Source {
    pub fn profile(&self) -> &str {
        match self {
            Source::Vault { profile }
            | Source::WebIdentity { profile, .. }
            | Source::Process { profile, .. } => profile,
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
    pub endpoint: Option<String>,
    /// GetSessionToken's duration, when one is used.
    pub session_duration: Duration,
    /// Hand out the source's own credentials (or assume the first role with them directly).
    pub no_session: bool,
    /// Notices for the user, such as a duration capped by role chaining.
    pub notices: Vec<String>,
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
    #[error("profile {0} is not in the AWS config")]
    UnknownProfile(String),
    #[error("profile {from} names source_profile {missing}, which is not in the AWS config")]
    MissingSource { from: String, missing: String },
    #[error("source_profile cycle: {0}")]
    Cycle(String),
    #[error("profile {profile} has a malformed role_arn `{arn}` (expected arn:aws:iam::ACCOUNT:role/NAME)")]
    BadArn { profile: String, arn: String },
    #[error("profile {profile}: {detail}")]
    BadSetting { profile: String, detail: String },
    #[error("{0}")]
    BadRequest(String),
}

/// Resolves `profile` into a chain.
pub fn resolve(
    profile: &str,
    aws: &AwsProfiles,
    settings: &Settings,
    request: &Request,
) -> Result<Chain, ChainError> {
    let name = |p: &str| escape_control(p);
    if !aws.contains(profile) {
        return Err(ChainError::UnknownProfile(name(profile)));
    }
    let mut visited: Vec<String> = Vec::new();
    let mut hops = Vec::new();
    let mut mfa_serial = None;
    let mut mfa_process = None;
    let mut current = profile.to_string();
    let source = loop {
        if visited.contains(&current) {
            visited.push(current);
            let path: Vec<String> = visited.iter().map(|p| name(p)).collect();
            return Err(ChainError::Cycle(path.join(" -> ")));
        }
        visited.push(current.clone());
        let get = |key: &str| aws.get(&current, key).filter(|v| !v.is_empty());
        if mfa_serial.is_none() {
            mfa_serial = get("mfa_serial").map(str::to_owned);
        }
        if mfa_process.is_none() {
            mfa_process = get("mfa_process").map(str::to_owned);
        }
        let Some(role_arn) = get("role_arn") else {
            if get("web_identity_token_file").is_some() {
                return Err(bad(&current, "web_identity_token_file needs a role_arn"));
            }
            break match get("credential_process") {
                Some(command) => Source::Process {
                    profile: current.clone(),
                    command: command.to_owned(),
                },
                None => Source::Vault {
                    profile: current.clone(),
                },
            };
        };
        if !valid_role_arn(role_arn) {
            return Err(ChainError::BadArn {
                profile: name(&current),
                arn: escape_control(role_arn),
            });
        }
        hops.push(role_hop(&current, role_arn, aws, settings)?);
        if let Some(token_file) = get("web_identity_token_file") {
            break Source::WebIdentity {
                profile: current.clone(),
                token_file: crate::profiles::expand_home(PathBuf::from(token_file)),
            };
        }
        match get("source_profile") {
            Some(next) => {
                if !aws.contains(next) && next != current {
                    return Err(ChainError::MissingSource {
                        from: name(&current),
                        missing: name(next),
                    });
                }
                current = next.to_owned();
            }
            None => match get("credential_process") {
                Some(command) => {
                    break Source::Process {
                        profile: current.clone(),
                        command: command.to_owned(),
                    }
                }
                // A role profile without a source uses the keys stored under its own name.
                None => {
                    break Source::Vault {
                        profile: current.clone(),
                    }
                }
            },
        }
    };
    hops.reverse();
    let source_mfa_serial = aws
        .get(source.profile(), "mfa_serial")
        .filter(|v| !v.is_empty())
        .map(str::to_owned);

    let mut notices = Vec::new();
    let session_default = settings
        .session
        .session_token_duration
        .unwrap_or(DEFAULT_SESSION_TOKEN_DURATION);
    let mut session_duration = session_default;
    if let Some(asked) = request.duration {
        if asked < MIN_DURATION {
            return Err(ChainError::BadRequest(format!(
                "duration {} is below AWS's minimum of 15m",
                crate::duration::format(asked)
            )));
        }
        match hops.last_mut() {
            Some(last) => last.duration = asked,
            None => session_duration = asked,
        }
    }
    if let Some(max) = request.max_duration {
        let handed_out = match hops.last_mut() {
            Some(last) => &mut last.duration,
            None => &mut session_duration,
        };
        if *handed_out > max {
            if request.duration.is_some() {
                notices.push(format!(
                    "policy caps {} at {} (asked {})",
                    name(profile),
                    crate::duration::format(max),
                    crate::duration::format(*handed_out)
                ));
            }
            *handed_out = max;
        }
    }
    for (i, hop) in hops.iter_mut().enumerate() {
        let what = format!("the duration of {}", name(&hop.profile));
        check_range(&what, hop.duration, MAX_ROLE_DURATION)?;
        // Every hop after the first is assumed with another role's credentials.
        if i >= 1 && hop.duration > MAX_CHAINED_DURATION {
            notices.push(format!(
                "role chaining limits {} to 1h (asked {})",
                hop.role_arn,
                crate::duration::format(hop.duration)
            ));
            hop.duration = MAX_CHAINED_DURATION;
        }
    }

    let region = match &request.region {
        Some(r) => r.clone(),
        None => aws
            .get(profile, "region")
            .map(str::to_owned)
            .or_else(|| env_nonempty("AWS_REGION"))
            .or_else(|| env_nonempty("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|| "us-east-1".to_string()),
    };
    if !valid_region(&region) {
        return Err(bad(
            profile,
            &format!("invalid region `{}`", escape_control(&region)),
        ));
    }

    let chain = Chain {
        profile: profile.to_string(),
        endpoint: endpoint(aws.get(profile, "endpoint_url")),
        source,
        hops,
        mfa_serial,
        source_mfa_serial,
        mfa_process,
        region,
        session_duration,
        no_session: request.no_session,
        notices,
    };
    // session_token_duration matters only to chains that call GetSessionToken.
    if chain.uses_session_token() {
        check_range(
            "the session duration (--duration or [session] session_token_duration)",
            chain.session_duration,
            MAX_SESSION_TOKEN_DURATION,
        )?;
    }
    Ok(chain)
}

fn role_hop(
    profile: &str,
    role_arn: &str,
    aws: &AwsProfiles,
    settings: &Settings,
) -> Result<RoleHop, ChainError> {
    let get = |key: &str| aws.get(profile, key).filter(|v| !v.is_empty());
    let duration = match get("duration_seconds") {
        Some(text) => text
            .trim()
            .parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| {
                bad(
                    profile,
                    &format!(
                        "duration_seconds `{}` is not a number of seconds",
                        escape_control(text)
                    ),
                )
            })?,
        None => settings
            .session
            .assume_role_duration
            .unwrap_or(DEFAULT_ROLE_DURATION),
    };
    Ok(RoleHop {
        profile: profile.to_string(),
        role_arn: role_arn.to_string(),
        session_name: get("role_session_name")
            .map(str::to_owned)
            .unwrap_or_else(default_session_name),
        external_id: get("external_id").map(str::to_owned),
        source_identity: get("source_identity").map(str::to_owned),
        duration,
        mfa_serial: get("mfa_serial").map(str::to_owned),
    })
}

fn bad(profile: &str, detail: &str) -> ChainError {
    ChainError::BadSetting {
        profile: escape_control(profile),
        detail: detail.to_string(),
    }
}

fn check_range(what: &str, d: Duration, max: Duration) -> Result<(), ChainError> {
    if d < MIN_DURATION || d > max {
        return Err(ChainError::BadRequest(format!(
            "{what} {} is outside AWS's bounds of 15m to {}",
            crate::duration::format(d),
            crate::duration::format(max)
        )));
    }
    Ok(())
}

fn env_nonempty(var: &str) -> Option<String> {
    std::env::var(var).ok().filter(|v| !v.is_empty())
}

/// STS's endpoint, as the AWS SDKs choose it.
pub fn endpoint(profile_endpoint: Option<&str>) -> Option<String> {
    service_endpoint("AWS_ENDPOINT_URL_STS", profile_endpoint)
}

/// A service's endpoint, as the AWS SDKs choose it: the service's own variable (like
/// `AWS_ENDPOINT_URL_STS`), then `AWS_ENDPOINT_URL`, then the profile's `endpoint_url`; none
/// when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`.
pub fn service_endpoint(service_var: &str, profile_endpoint: Option<&str>) -> Option<String> {
    if env_nonempty("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    {
        return None;
    }
    env_nonempty(service_var)
        .or_else(|| env_nonempty("AWS_ENDPOINT_URL"))
        .or_else(|| {
            profile_endpoint
                .filter(|e| !e.is_empty())
                .map(str::to_owned)
        })
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

/// The local user name, sanitised for RoleSessionName (`[\w+=,.@-]`, 2 to 64 characters).
pub fn default_session_name() -> String {
    let user = ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|v| env_nonempty(v))
        .or_else(login_name)
        .unwrap_or_else(|| "broker".to_string());
    sanitize_session_name(&user)
}

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

#[cfg(unix)]
fn login_name() -> Option<String> {
    // SAFETY: getpwuid returns a pointer into static storage or null; we copy the name at once.
    unsafe {
        let pw = libc::getpwuid(libc::getuid());
        if pw.is_null() || (*pw).pw_name.is_null() {
            return None;
        }
        std::ffi::CStr::from_ptr((*pw).pw_name)
            .to_str()
            .ok()
            .map(str::to_owned)
    }
}

#[cfg(not(unix))]
fn login_name() -> Option<String> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
