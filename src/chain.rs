//! The profile resolver: turns a profile name, the AWS config, config.toml, the environment and
//! the request's options into a [`Chain`] — where credentials come from and every role hop on
//! top — before any call is made. Pure: a function of its arguments; reads no secret, calls
//! nothing.

use std::path::PathBuf;
use std::time::Duration;

use crate::endpoint::{self, Service};
use crate::environment::Environment;
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
    /// The duration the request asked for, if it asked.
    pub asked_duration: Option<Duration>,
    /// Notices for the user, such as a duration capped by role chaining.
    pub notices: Vec<String>,
    /// The source profile has `aws_access_key_id` in the AWS files: where its keys are when
    /// the vault holds none (`broker import` moves them).
    pub keys_in_aws_files: bool,
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
    },
    #[error("profile {profile} uses {what}, which broker does not support yet")]
    Unsupported { profile: String, what: &'static str },
    #[error("profile {from} names source_profile {missing}, which is not in the AWS config")]
    MissingSource { from: String, missing: String },
    #[error("source_profile cycle: {0}")]
    Cycle(String),
    #[error("profile {profile} has a malformed role_arn `{arn}` (expected arn:aws:iam::ACCOUNT:role/NAME)")]
    BadArn { profile: String, arn: String },
    #[error("profile {profile}: {detail}")]
    BadSetting { profile: String, detail: String },
    /// A duration outside AWS's bounds, given with `--duration` (`from_flag`) or in a file.
    #[error("{error}")]
    Duration {
        error: crate::duration::DurationError,
        from_flag: bool,
    },
}

/// Resolves `profile` into a chain.
pub fn resolve(
    profile: &str,
    aws: &AwsProfiles,
    settings: &Settings,
    env: &Environment,
    request: &Request,
) -> Result<Chain, ChainError> {
    if !aws.contains(profile) {
        return Err(unknown_profile(profile, aws));
    }
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
        let get = |key: &str| aws.get(&current, key).filter(|v| !v.is_empty());
        if let Some(what) = unsupported(aws, &current) {
            return Err(ChainError::Unsupported {
                profile: current.clone(),
                what,
            });
        }
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
                profile: current.clone(),
                arn: role_arn.to_string(),
            });
        }
        hops.push(role_hop(&current, role_arn, aws, settings, env)?);
        if let Some(token_file) = get("web_identity_token_file") {
            break Source::WebIdentity {
                profile: current.clone(),
                token_file: env.expand_home(PathBuf::from(token_file)),
            };
        }
        match get("source_profile") {
            Some(next) => {
                if !aws.contains(next) && next != current {
                    return Err(ChainError::MissingSource {
                        from: current.clone(),
                        missing: next.to_string(),
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
                    profile,
                    crate::duration::format(max),
                    crate::duration::format(*handed_out)
                ));
            }
            *handed_out = max;
        }
    }
    let last = hops.len().saturating_sub(1);
    for (i, hop) in hops.iter_mut().enumerate() {
        let place = if i == last && request.duration.is_some() {
            "--duration".to_string()
        } else if aws.get(&hop.profile, "duration_seconds").is_some() {
            format!("duration_seconds of profile {}", hop.profile)
        } else {
            "[session] assume_role_duration".to_string()
        };
        check_range(hop.duration, MAX_ROLE_DURATION, "a role", place)?;
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
            .or_else(|| env.aws.region.clone())
            .or_else(|| env.aws.default_region.clone())
            .unwrap_or_else(|| "us-east-1".to_string()),
    };
    if !valid_region(&region) {
        return Err(bad(profile, &format!("invalid region `{region}`")));
    }

    let keys_in_aws_files = matches!(source, Source::Vault { .. })
        && aws.get(source.profile(), "aws_access_key_id").is_some();
    let chain = Chain {
        profile: profile.to_string(),
        endpoint: endpoint::configured(Service::Sts, env, aws.get(profile, "endpoint_url")),
        source,
        hops,
        mfa_serial,
        source_mfa_serial,
        mfa_process,
        region,
        session_duration,
        no_session: request.no_session,
        asked_duration: request.duration,
        notices,
        keys_in_aws_files,
    };
    // session_token_duration matters only to chains that call GetSessionToken.
    if chain.uses_session_token() {
        let place = if chain.hops.is_empty() && request.duration.is_some() {
            "--duration"
        } else {
            "[session] session_token_duration"
        };
        check_range(
            chain.session_duration,
            MAX_SESSION_TOKEN_DURATION,
            "a session token",
            place.to_string(),
        )?;
    }
    Ok(chain)
}

/// The profile `name` is not in the AWS config: the error, with the closest names.
pub fn unknown_profile(name: &str, aws: &AwsProfiles) -> ChainError {
    let names = aws.names();
    ChainError::UnknownProfile {
        profile: name.to_string(),
        suggestions: crate::profiles::closest(name, names.iter().map(String::as_str)),
    }
}

/// What of a profile broker cannot act on yet, rather than taking it for a profile with keys
/// in the vault: IAM Identity Center (SSO) settings, `include_profile`, `credential_source`.
fn unsupported(aws: &AwsProfiles, profile: &str) -> Option<&'static str> {
    let has = |key: &str| aws.get(profile, key).is_some_and(|v| !v.is_empty());
    if [
        "sso_session",
        "sso_start_url",
        "sso_account_id",
        "sso_role_name",
    ]
    .iter()
    .any(|k| has(k))
    {
        Some("IAM Identity Center (SSO)")
    } else if has("include_profile") {
        Some("include_profile")
    } else if has("credential_source") {
        Some("credential_source")
    } else {
        None
    }
}

fn role_hop(
    profile: &str,
    role_arn: &str,
    aws: &AwsProfiles,
    settings: &Settings,
    env: &Environment,
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
                    &format!("duration_seconds `{text}` is not a number of seconds"),
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
            .unwrap_or_else(|| sanitize_session_name(env.user_name())),
        external_id: get("external_id").map(str::to_owned),
        source_identity: get("source_identity").map(str::to_owned),
        duration,
        mfa_serial: get("mfa_serial").map(str::to_owned),
    })
}

fn bad(profile: &str, detail: &str) -> ChainError {
    ChainError::BadSetting {
        profile: profile.to_string(),
        detail: detail.to_string(),
    }
}

/// AWS's bounds on a duration given at `place` (a flag or setting).
fn check_range(
    d: Duration,
    max: Duration,
    what: &'static str,
    place: String,
) -> Result<(), ChainError> {
    crate::duration::check_range(d, MIN_DURATION, max, Some(what)).map_err(|e| {
        ChainError::Duration {
            from_flag: place == "--duration",
            error: e.at(place),
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

    fn resolve_in(
        config: &str,
        env: &[(&str, &str)],
        profile: &str,
        request: &Request,
    ) -> Result<Chain, ChainError> {
        let aws = AwsProfiles::from_texts(config, "").unwrap();
        let env = Environment::from_pairs(env);
        resolve(profile, &aws, &Settings::default(), &env, request)
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
                suggestions: vec![]
            }
        );
        assert_eq!(
            chain_of(&config, "los").unwrap_err(),
            ChainError::UnknownProfile {
                profile: "los".into(),
                suggestions: vec!["lost".into()]
            }
        );
    }

    #[test]
    fn sso_and_include_profile_are_refused_by_name_not_taken_for_stored_keys() {
        let config = format!(
            "[profile sso]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = R\n\
             [sso-session corp]\nsso_start_url = https://x.awsapps.com/start\nsso_region = eu-west-1\n\
             [profile legacy]\nsso_start_url = https://x.awsapps.com/start\n\
             [profile hub]\nrole_arn = {ROLE}hub\nsource_profile = sso\n\
             [profile inc]\ninclude_profile = base\n\
             [profile ec2]\nrole_arn = {ROLE}x\ncredential_source = Ec2InstanceMetadata\n"
        );
        let refused = |profile: &str| match chain_of(&config, profile) {
            Err(ChainError::Unsupported { profile, what }) => (profile, what),
            other => panic!("{other:?}"),
        };
        assert_eq!(refused("sso"), ("sso".into(), "IAM Identity Center (SSO)"));
        assert_eq!(refused("legacy").1, "IAM Identity Center (SSO)");
        assert_eq!(refused("hub"), ("sso".into(), "IAM Identity Center (SSO)"));
        assert_eq!(refused("inc").1, "include_profile");
        assert_eq!(refused("ec2").1, "credential_source");
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
                .endpoint
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
    fn the_region_comes_from_the_flag_the_profile_then_the_environment() {
        let config = "[profile with]\nregion = eu-west-1\n[profile without]\n";
        let region = |profile: &str, env: &[(&str, &str)], flag: Option<&str>| {
            let request = Request {
                region: flag.map(str::to_owned),
                ..Request::default()
            };
            resolve_in(config, env, profile, &request).unwrap().region
        };
        let both = [
            ("AWS_REGION", "ap-south-1"),
            ("AWS_DEFAULT_REGION", "sa-east-1"),
        ];
        assert_eq!(region("with", &both, Some("us-west-2")), "us-west-2");
        assert_eq!(region("with", &both, None), "eu-west-1");
        assert_eq!(region("without", &both, None), "ap-south-1");
        assert_eq!(
            region("without", &[("AWS_DEFAULT_REGION", "sa-east-1")], None),
            "sa-east-1"
        );
        assert_eq!(region("without", &[], None), "us-east-1");
        let bad = Request {
            region: Some("not a region".into()),
            ..Request::default()
        };
        assert!(resolve_in(config, &[], "with", &bad).is_err());
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
        let asked = |profile: &str, duration: u64, max: Option<u64>| {
            let request = Request {
                duration: Some(Duration::from_secs(duration)),
                max_duration: max.map(Duration::from_secs),
                ..Request::default()
            };
            resolve_in(&config, &[], profile, &request)
        };
        let r1 = chain_of(&config, "r1").unwrap();
        assert_eq!(r1.hops[0].duration, Duration::from_secs(7200));
        let r2 = asked("r2", 3 * 3600, None).unwrap();
        assert_eq!(r2.hops[1].duration, MAX_CHAINED_DURATION);
        assert!(
            r2.notices[0].contains("role chaining limits"),
            "{:?}",
            r2.notices
        );
        let capped = asked("r1", 3 * 3600, Some(1800)).unwrap();
        assert_eq!(capped.hops[0].duration, Duration::from_secs(1800));
        assert!(capped.notices[0].starts_with("policy caps r1 at 30m"));
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
