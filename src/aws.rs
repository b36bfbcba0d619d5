//! What every AWS client of broker's shares: the SDK configuration (the process's one network
//! stack, region, endpoint, credentials, bounded timeouts, the profile's retries) and the
//! reduction of an SDK failure to an [`AwsError`] with a typed [`AwsCode`].
//!
//! Built only when a call must be made: the warm path never comes here. Never logs a secret.

use std::time::Duration;

use aws_sdk_sts::config::timeout::TimeoutConfig;
use aws_sdk_sts::config::{Region, SharedCredentialsProvider, StalledStreamProtectionConfig};
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use secrecy::ExposeSecret;

use crate::credentials::Credentials;
use crate::endpoint::ServiceEndpoint;
use crate::net::diagnose::{self, Kind};
use crate::net::{Net, NetError, NetSettings, Retry};

/// How long a whole call may take, retries included, unless `BROKER_STS_TIMEOUT` says
/// otherwise.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(20);

/// An SDK client of crate `$sdk` on `$config` (an [`aws_types::SdkConfig`]), with broker's
/// retry classifier beside the SDK's own.
macro_rules! sdk_client {
    ($sdk:ident, $config:expr) => {
        $sdk::Client::from_conf(
            $sdk::config::Builder::from(&$config)
                .retry_classifier(crate::net::retry::TooManyRequests)
                .build(),
        )
    };
}
pub(crate) use sdk_client;

/// An AWS error code, typed where broker acts on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AwsCode {
    AccessDenied,
    ExpiredToken,
    InvalidClientTokenId,
    SignatureDoesNotMatch,
    Throttling,
    RegionDisabled,
    /// The endpoint's TLS certificate is signed by no CA broker trusts.
    Untrusted,
    /// The proxy refused the credentials (407).
    ProxyAuth,
    /// The SSO portal refused the access token (expired, logged out).
    Unauthorized,
    /// The SSO portal refused the account or role (not assigned).
    Forbidden,
    /// No connection could be made.
    Unreachable,
    /// No answer within the call timeout.
    Timeout,
    /// An answer that is not the service's.
    BadResponse,
    /// Any other code AWS sent.
    Other(String),
}

impl AwsCode {
    fn from_aws(code: &str) -> AwsCode {
        match code {
            "AccessDenied" | "AccessDeniedException" => AwsCode::AccessDenied,
            "ExpiredToken" | "ExpiredTokenException" => AwsCode::ExpiredToken,
            "InvalidClientTokenId" => AwsCode::InvalidClientTokenId,
            "SignatureDoesNotMatch" => AwsCode::SignatureDoesNotMatch,
            "Throttling"
            | "ThrottlingException"
            | "RequestLimitExceeded"
            | "TooManyRequestsException" => AwsCode::Throttling,
            "RegionDisabledException" => AwsCode::RegionDisabled,
            "UnauthorizedException" => AwsCode::Unauthorized,
            "ForbiddenException" => AwsCode::Forbidden,
            other => AwsCode::Other(other.to_string()),
        }
    }
}

/// An AWS call that failed, reduced to what the user needs: the action, the code, AWS's
/// message; the SDK's own error is kept as the source for `-v`.
#[derive(Debug, thiserror::Error)]
#[error("{action} failed: {detail}")]
pub struct AwsError {
    pub action: &'static str,
    pub code: AwsCode,
    pub detail: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl AwsError {
    /// An answer without what the call must return.
    pub fn bad_response(action: &'static str, what: &str) -> AwsError {
        AwsError {
            action,
            code: AwsCode::BadResponse,
            detail: format!("the answer held no {what}"),
            source: None,
        }
    }

    /// A request broker could not even build.
    pub fn invalid_input(action: &'static str, detail: String) -> AwsError {
        AwsError {
            action,
            code: AwsCode::Other("InvalidInput".into()),
            detail,
            source: None,
        }
    }

    /// Whether STS refused an MFA code (wrong, or used before).
    pub fn is_mfa_failure(&self) -> bool {
        self.code == AwsCode::AccessDenied
            && (self.detail.contains("MultiFactor") || self.detail.contains("MFA"))
    }

    /// Whether the service refused the request itself (as opposed to not answering).
    pub fn is_refusal(&self) -> bool {
        !matches!(
            self.code,
            AwsCode::Unreachable
                | AwsCode::Timeout
                | AwsCode::BadResponse
                | AwsCode::Untrusted
                | AwsCode::ProxyAuth
        )
    }
}

/// One service endpoint in one region, with the call timeout and the retries, on the process's
/// network stack: what an SDK client is built from.
pub struct Client {
    net: &'static Net,
    region: String,
    endpoint: ServiceEndpoint,
    /// Where calls go, for messages.
    url: String,
    retry: Retry,
    timeout: Duration,
}

impl Client {
    /// A client of `endpoint` in `region`; builds the network stack from `net` if this is the
    /// process's first call.
    pub fn new(
        net: &NetSettings,
        endpoint: &ServiceEndpoint,
        region: &str,
        timeout: Duration,
    ) -> Result<Client, NetError> {
        let retry = net.retry.check()?;
        let net = crate::net::shared(net)?;
        let url = endpoint.url(region);
        crate::output::verbose(format!(
            "{url}{}: retries {retry}",
            match net.route(&url) {
                Some(proxy) => format!(" through proxy {proxy}"),
                None => String::new(),
            }
        ));
        Ok(Client {
            net,
            region: region.to_string(),
            endpoint: endpoint.clone(),
            url,
            retry,
            timeout,
        })
    }

    /// The SDK configuration: the shared HTTPS client, region, endpoint, credentials, bounded
    /// timeouts (the call timeout bounds all attempts) and the retries.
    pub fn sdk_config(&self, credentials: Option<&Credentials>) -> aws_types::SdkConfig {
        let mut config = aws_types::SdkConfig::builder()
            .http_client(self.net.sdk_http_client())
            .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
            .region(Region::new(self.region.clone()))
            .retry_config(self.retry.config())
            .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_attempt_timeout(self.timeout)
                    .operation_timeout(self.timeout)
                    .build(),
            );
        // The SDK refuses FIPS or dual-stack with a configured URL (botocore drops them, and
        // so does the endpoint's resolution).
        config = match &self.endpoint.url {
            Some(url) => config.endpoint_url(url),
            None => config
                .use_fips(self.endpoint.fips)
                .use_dual_stack(self.endpoint.dual_stack),
        };
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

    /// Runs one SDK call to completion, with a spinner on the terminal while it takes long.
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        let _spinner = crate::spinner::Spinner::start(&format!("waiting for {}", self.url));
        self.net.block_on(future)
    }

    /// Runs SDK calls to completion with no spinner: for a caller that shows its own progress.
    pub fn block_on_quietly<F: std::future::Future>(&self, future: F) -> F::Output {
        self.net.block_on(future)
    }

    /// Runs one SDK call (as [`Self::block_on`]) and reduces its failure to an [`AwsError`].
    pub fn call<T, E, R>(
        &self,
        action: &'static str,
        future: impl std::future::Future<Output = Result<T, SdkError<E, R>>>,
    ) -> Result<T, AwsError>
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static + HasBody,
    {
        self.block_on(future).map_err(|e| self.error(action, e))
    }

    /// Reduces an SDK failure to an [`AwsError`] the user can act on.
    pub fn error<E, R>(&self, action: &'static str, err: SdkError<E, R>) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static + HasBody,
    {
        let endpoint = &self.url;
        let (code, detail) = match &err {
            SdkError::ServiceError(service) => {
                let e = service.err();
                // Some STS look-alikes (moto among them) wrap <Error> in <Errors>, which the
                // SDK's parser misses: read the code and message from the body then. SSO OIDC
                // answers OAuth's {"error", "error_description"}, which the SDK keeps out of
                // the message.
                let (status, body) = service.raw().status_and_body();
                if status == 407 {
                    return self.refused_by_proxy(action, err);
                }
                let code = e
                    .code()
                    .map(str::to_owned)
                    .or_else(|| xml_field(&body, "Code"))
                    .unwrap_or_else(|| format!("HTTP {status}"));
                let message = e
                    .message()
                    .map(str::to_owned)
                    .or_else(|| xml_field(&body, "Message"))
                    .or_else(|| json_field(&body, "error_description"))
                    .or_else(|| json_field(&body, "message"))
                    .unwrap_or_else(|| "no message".into());
                let detail = format!("{code}: {message}");
                (AwsCode::from_aws(&code), detail)
            }
            SdkError::TimeoutError(_) => (
                AwsCode::Timeout,
                format!(
                    "no answer from {endpoint}{} within {}s",
                    self.through(),
                    self.timeout.as_secs()
                ),
            ),
            SdkError::DispatchFailure(d) => {
                let host = url::Url::parse(endpoint)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_owned))
                    .unwrap_or_else(|| endpoint.clone());
                let (kind, cause) = match d.as_connector_error() {
                    Some(c) => diagnose::diagnose(
                        c,
                        &host,
                        self.net.route(endpoint),
                        self.net.trust_label(),
                    ),
                    None => (Kind::Unreachable, ": connection failed".into()),
                };
                let code = match kind {
                    Kind::Untrusted => AwsCode::Untrusted,
                    Kind::ProxyAuth => AwsCode::ProxyAuth,
                    Kind::Unreachable => AwsCode::Unreachable,
                };
                (code, format!("cannot reach {endpoint}{cause}"))
            }
            SdkError::ResponseError(_) => (
                AwsCode::BadResponse,
                format!(
                    "{endpoint} answered with something that is not a {} response",
                    self.endpoint.service.name()
                ),
            ),
            other => (AwsCode::Other("Unknown".into()), error_chain(other)),
        };
        AwsError {
            action,
            code,
            detail,
            source: Some(Box::new(err)),
        }
    }
}

impl Client {
    /// ` through proxy P` when calls go through one.
    fn through(&self) -> String {
        match self.net.route(&self.url) {
            Some(proxy) => format!(" through proxy {proxy}"),
            None => String::new(),
        }
    }

    /// A 407 from a proxy that forwarded a plain-HTTP request.
    fn refused_by_proxy<E, R>(&self, action: &'static str, err: SdkError<E, R>) -> AwsError
    where
        E: std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        AwsError {
            action,
            code: AwsCode::ProxyAuth,
            detail: format!(
                "cannot reach {}{}: the proxy refused the credentials (407 Proxy \
                 Authentication Required)",
                self.url,
                self.through()
            ),
            source: Some(Box::new(err)),
        }
    }
}

/// The status and body text of a raw HTTP answer.
pub trait HasBody {
    fn status_and_body(&self) -> (u16, String);
}

impl HasBody for aws_smithy_runtime_api::http::Response {
    fn status_and_body(&self) -> (u16, String) {
        let body = self
            .body()
            .bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        (self.status().as_u16(), body)
    }
}

/// The text of the first `<tag>…</tag>` in an XML error body.
fn xml_field(body: &str, tag: &str) -> Option<String> {
    let start = body.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = start + body[start..].find(&format!("</{tag}>"))?;
    Some(body[start..end].trim().to_string()).filter(|t| !t.is_empty())
}

/// A string field of a JSON error body (SSO OIDC's `error_description`).
fn json_field(body: &str, field: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    Some(value.get(field)?.as_str()?.trim().to_string()).filter(|t| !t.is_empty())
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
