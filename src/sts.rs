//! STS calls: GetSessionToken, AssumeRole, AssumeRoleWithWebIdentity, GetFederationToken.
//!
//! The only place that builds an AWS SDK client or an async runtime, and only when a call must
//! be made (the cached path never comes here). Never logs a secret: requests are described by
//! their action, role and endpoint only.

use std::time::Duration;

use aws_sdk_sts::config::retry::RetryConfig;
use aws_sdk_sts::config::timeout::TimeoutConfig;
use aws_sdk_sts::config::{Region, SharedCredentialsProvider, StalledStreamProtectionConfig};
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use secrecy::{ExposeSecret, SecretString};

use crate::chain::RoleHop;
use crate::credentials::Credentials;

/// How long one STS request may take before broker gives up (connect, then the whole call).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(20);

/// An STS failure, reduced to what the user needs: the action, AWS's error code and message.
#[derive(Debug, thiserror::Error)]
#[error("{action} failed: {detail}")]
pub struct StsError {
    pub action: &'static str,
    /// AWS's error code (`AccessDenied`, `ExpiredToken`…), or a local kind (`Unreachable`).
    pub code: String,
    pub detail: String,
    pub endpoint: String,
}

/// The MFA device and the code typed for it.
pub struct Mfa<'a> {
    pub serial: &'a str,
    pub code: &'a SecretString,
}

pub struct Sts {
    runtime: tokio::runtime::Runtime,
    region: String,
    endpoint: Option<String>,
    timeout: Duration,
}

impl Sts {
    pub fn new(region: &str, endpoint: Option<&str>) -> std::io::Result<Sts> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let timeout = std::env::var("BROKER_STS_TIMEOUT")
            .ok()
            .and_then(|t| crate::duration::parse(&t).ok())
            .filter(|t| !t.is_zero())
            .unwrap_or(DEFAULT_CALL_TIMEOUT);
        Ok(Sts {
            runtime,
            region: region.to_string(),
            endpoint: endpoint.map(str::to_owned),
            timeout,
        })
    }

    fn endpoint_label(&self) -> String {
        self.endpoint
            .clone()
            .unwrap_or_else(|| format!("sts.{}.amazonaws.com", self.region))
    }

    /// The SDK configuration for one call: region, endpoint, credentials, bounded timeouts and
    /// the SDK's standard retries (which cover throttling). Shared with [`crate::iam`].
    pub fn sdk_config(
        &self,
        endpoint: Option<&str>,
        credentials: Option<&Credentials>,
    ) -> aws_types::SdkConfig {
        let mut config = aws_types::SdkConfig::builder()
            .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
            .region(Region::new(self.region.clone()))
            .retry_config(RetryConfig::standard().with_max_attempts(3))
            .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .operation_attempt_timeout(self.timeout)
                    .operation_timeout(self.timeout)
                    .build(),
            );
        if let Some(endpoint) = endpoint {
            config = config.endpoint_url(endpoint);
        }
        if let Some(c) = credentials {
            config = config.credentials_provider(SharedCredentialsProvider::new(
                aws_credential_types::Credentials::new(
                    c.access_key_id.clone(),
                    c.secret_access_key.expose_secret().to_string(),
                    c.session_token
                        .as_ref()
                        .map(|t| t.expose_secret().to_string()),
                    None,
                    "broker",
                ),
            ));
        }
        config.build()
    }

    /// Runs one SDK call to completion.
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    fn client(&self, credentials: Option<&Credentials>) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::new(&self.sdk_config(self.endpoint.as_deref(), credentials))
    }

    /// Reduces an SDK failure (of STS or IAM) to an [`StsError`] the user can act on.
    pub fn error<E: ProvideErrorMetadata + std::error::Error + 'static>(
        &self,
        action: &'static str,
        err: SdkError<E>,
    ) -> StsError {
        let endpoint = self.endpoint_label();
        let (code, detail) = match &err {
            SdkError::ServiceError(service) => {
                let e = service.err();
                let raw = service.raw();
                // Some STS look-alikes (moto among them) wrap <Error> in <Errors>, which the
                // SDK's parser misses: read the code and message from the body then.
                let body = raw
                    .body()
                    .bytes()
                    .map(String::from_utf8_lossy)
                    .unwrap_or_default();
                let code = e
                    .code()
                    .map(str::to_owned)
                    .or_else(|| xml_field(&body, "Code"))
                    .unwrap_or_else(|| format!("HTTP {}", raw.status().as_u16()));
                let message = e
                    .message()
                    .map(str::to_owned)
                    .or_else(|| xml_field(&body, "Message"))
                    .unwrap_or_else(|| "no message".into());
                let detail = format!("{code}: {message}");
                (code, detail)
            }
            SdkError::TimeoutError(_) => (
                "Timeout".into(),
                format!(
                    "no answer from {endpoint} within {}s",
                    self.timeout.as_secs()
                ),
            ),
            SdkError::DispatchFailure(d) => (
                "Unreachable".into(),
                format!("cannot reach {endpoint}: {}", dispatch_detail(d)),
            ),
            SdkError::ResponseError(_) => (
                "BadResponse".into(),
                format!("{endpoint} answered with something that is not an STS response"),
            ),
            other => ("Unknown".into(), error_chain(other)),
        };
        StsError {
            action,
            code,
            detail: crate::error::one_line(&detail),
            endpoint,
        }
    }

    /// GetSessionToken with the long-term keys, with MFA when given.
    pub fn get_session_token(
        &self,
        keys: &Credentials,
        duration: Duration,
        mfa: Option<Mfa<'_>>,
    ) -> Result<Credentials, StsError> {
        let mut call = self
            .client(Some(keys))
            .get_session_token()
            .duration_seconds(secs(duration));
        if let Some(mfa) = mfa {
            call = call
                .serial_number(mfa.serial)
                .token_code(mfa.code.expose_secret());
        }
        let out = self
            .runtime
            .block_on(call.send())
            .map_err(|e| self.error("GetSessionToken", e))?;
        convert(out.credentials(), "GetSessionToken")
    }

    /// AssumeRole for one hop, with MFA (when not already inside an MFA'd session) and tags.
    pub fn assume_role(
        &self,
        credentials: &Credentials,
        hop: &RoleHop,
        mfa: Option<Mfa<'_>>,
        tags: &[(String, String)],
    ) -> Result<Credentials, StsError> {
        let mut call = self
            .client(Some(credentials))
            .assume_role()
            .role_arn(&hop.role_arn)
            .role_session_name(&hop.session_name)
            .duration_seconds(secs(hop.duration))
            .set_external_id(hop.external_id.clone())
            .set_source_identity(hop.source_identity.clone());
        if let Some(mfa) = mfa {
            call = call
                .serial_number(mfa.serial)
                .token_code(mfa.code.expose_secret());
        }
        for tag in self.tags("AssumeRole", tags)? {
            call = call.tags(tag);
        }
        let out = self
            .runtime
            .block_on(call.send())
            .map_err(|e| self.error("AssumeRole", e))?;
        convert(out.credentials(), "AssumeRole")
    }

    /// STS session tags from key-value pairs.
    fn tags(
        &self,
        action: &'static str,
        tags: &[(String, String)],
    ) -> Result<Vec<aws_sdk_sts::types::Tag>, StsError> {
        tags.iter()
            .map(|(key, value)| {
                aws_sdk_sts::types::Tag::builder()
                    .key(key)
                    .value(value)
                    .build()
                    .map_err(|e| StsError {
                        action,
                        code: "InvalidTag".into(),
                        detail: e.to_string(),
                        endpoint: self.endpoint_label(),
                    })
            })
            .collect()
    }

    /// GetFederationToken with the long-term keys: a console session for a plain IAM user. The
    /// inline policy allows everything, so the session gets exactly the user's permissions.
    pub fn get_federation_token(
        &self,
        keys: &Credentials,
        name: &str,
        duration: Duration,
        tags: &[(String, String)],
    ) -> Result<Credentials, StsError> {
        const ALLOW_ALL: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
        let call = self
            .client(Some(keys))
            .get_federation_token()
            .name(name)
            .policy(ALLOW_ALL)
            .duration_seconds(secs(duration))
            .set_tags(Some(self.tags("GetFederationToken", tags)?).filter(|t| !t.is_empty()));
        let out = self
            .runtime
            .block_on(call.send())
            .map_err(|e| self.error("GetFederationToken", e))?;
        convert(out.credentials(), "GetFederationToken")
    }

    /// GetCallerIdentity: the ARN these credentials act as.
    pub fn caller_arn(&self, credentials: &Credentials) -> Result<String, StsError> {
        let out = self
            .runtime
            .block_on(self.client(Some(credentials)).get_caller_identity().send())
            .map_err(|e| self.error("GetCallerIdentity", e))?;
        Ok(out.arn().unwrap_or_default().to_string())
    }

    /// AssumeRoleWithWebIdentity: an unsigned call carrying the token.
    pub fn assume_role_with_web_identity(
        &self,
        hop: &RoleHop,
        token: &SecretString,
    ) -> Result<Credentials, StsError> {
        let call = self
            .client(None)
            .assume_role_with_web_identity()
            .role_arn(&hop.role_arn)
            .role_session_name(&hop.session_name)
            .duration_seconds(secs(hop.duration))
            .web_identity_token(token.expose_secret());
        let out = self
            .runtime
            .block_on(call.send())
            .map_err(|e| self.error("AssumeRoleWithWebIdentity", e))?;
        convert(out.credentials(), "AssumeRoleWithWebIdentity")
    }
}

/// The text of the first `<tag>…</tag>` in an XML error body.
fn xml_field(body: &str, tag: &str) -> Option<String> {
    let start = body.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = start + body[start..].find(&format!("</{tag}>"))?;
    Some(body[start..end].trim().to_string()).filter(|t| !t.is_empty())
}

fn secs(d: Duration) -> i32 {
    i32::try_from(d.as_secs()).unwrap_or(i32::MAX)
}

fn convert(
    creds: Option<&aws_sdk_sts::types::Credentials>,
    action: &'static str,
) -> Result<Credentials, StsError> {
    let bad = || StsError {
        action,
        code: "BadResponse".into(),
        detail: "the answer held no usable credentials".into(),
        endpoint: String::new(),
    };
    let c = creds.ok_or_else(bad)?;
    let expiration = chrono::DateTime::from_timestamp(c.expiration().secs(), 0).ok_or_else(bad)?;
    Ok(Credentials {
        access_key_id: c.access_key_id().to_string(),
        secret_access_key: SecretString::from(c.secret_access_key().to_string()),
        session_token: Some(SecretString::from(c.session_token().to_string())),
        expiration: Some(expiration),
    })
}

fn dispatch_detail(d: &aws_smithy_runtime_api::client::result::DispatchFailure) -> String {
    let text = d
        .as_connector_error()
        .map(|c| error_chain(c))
        .unwrap_or_default();
    if d.is_io() || text.is_empty() {
        format!("connection failed ({text})")
    } else {
        text
    }
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}
