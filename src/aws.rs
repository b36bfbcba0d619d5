//! What every AWS client of broker's shares: the one async runtime constructor, the SDK
//! configuration (region, endpoint, credentials, bounded timeouts, the standard retries) and
//! the reduction of an SDK failure to an [`AwsError`] with a typed [`AwsCode`].
//!
//! Built only when a call must be made: the warm path never comes here. Never logs a secret.

use std::time::Duration;

use aws_sdk_sts::config::retry::RetryConfig;
use aws_sdk_sts::config::timeout::TimeoutConfig;
use aws_sdk_sts::config::{Region, SharedCredentialsProvider, StalledStreamProtectionConfig};
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use secrecy::ExposeSecret;

use crate::credentials::Credentials;

/// How long one request may take to connect, and a whole call unless `BROKER_STS_TIMEOUT` says
/// otherwise.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(20);

/// A current-thread tokio runtime: the one constructor for every AWS client, the credential
/// server and console sign-in.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// The answer of [`get`], or the client's own error, for the caller to word.
pub type GetResult =
    Result<hyper::Response<hyper::body::Incoming>, hyper_util::client::legacy::Error>;

/// One unsigned HTTP(S) GET of `uri` (HTTP/1, the system's TLS roots), within `timeout`, for
/// the endpoints broker calls without an SDK (doctor's probe, console federation). `Err` says
/// why no answer could come: no TLS roots, or no answer in time.
pub async fn get(uri: hyper::Uri, timeout: Duration) -> Result<GetResult, String> {
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .map_err(|e| format!("no TLS roots: {e}"))?
        .https_or_http()
        .enable_http1()
        .build();
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build::<_, http_body_util::Empty<hyper::body::Bytes>>(https);
    tokio::time::timeout(timeout, client.get(uri))
        .await
        .map_err(|_| format!("no answer within {}s", timeout.as_secs()))
}

/// An AWS error code, typed where broker acts on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AwsCode {
    AccessDenied,
    ExpiredToken,
    InvalidClientTokenId,
    SignatureDoesNotMatch,
    Throttling,
    RegionDisabled,
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
            "Throttling" | "ThrottlingException" | "RequestLimitExceeded" => AwsCode::Throttling,
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

    /// A client that could not even be started (no async runtime).
    pub fn no_client(action: &'static str, error: std::io::Error) -> AwsError {
        AwsError {
            action,
            code: AwsCode::Unreachable,
            detail: format!("cannot start the client: {error}"),
            source: Some(Box::new(error)),
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
            AwsCode::Unreachable | AwsCode::Timeout | AwsCode::BadResponse
        )
    }
}

/// One service endpoint in one region, with the call timeout: what a client is built from.
pub struct Client {
    runtime: tokio::runtime::Runtime,
    region: String,
    endpoint: Option<String>,
    timeout: Duration,
    /// `sts`, `iam`, `portal.sso`…: for messages about the default endpoint.
    service: &'static str,
}

impl Client {
    pub fn new(
        service: &'static str,
        region: &str,
        endpoint: Option<&str>,
        timeout: Duration,
    ) -> std::io::Result<Client> {
        Ok(Client {
            runtime: runtime()?,
            region: region.to_string(),
            endpoint: endpoint.map(str::to_owned),
            timeout,
            service,
        })
    }

    fn endpoint_label(&self) -> String {
        self.endpoint
            .clone()
            .unwrap_or_else(|| format!("{}.{}.amazonaws.com", self.service, self.region))
    }

    /// The SDK configuration: region, endpoint, credentials, bounded timeouts and the SDK's
    /// standard retries (which cover throttling).
    pub fn sdk_config(&self, credentials: Option<&Credentials>) -> aws_types::SdkConfig {
        use aws_smithy_http_client::tls;
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let mut config = aws_types::SdkConfig::builder()
            .http_client(http)
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
        if let Some(endpoint) = &self.endpoint {
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

    /// Runs one SDK call to completion, with a spinner on the terminal while it takes long.
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        let _spinner =
            crate::spinner::Spinner::start(&format!("waiting for {}", self.endpoint_label()));
        self.runtime.block_on(future)
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
        let endpoint = self.endpoint_label();
        let (code, detail) = match &err {
            SdkError::ServiceError(service) => {
                let e = service.err();
                // Some STS look-alikes (moto among them) wrap <Error> in <Errors>, which the
                // SDK's parser misses: read the code and message from the body then.
                let (status, body) = service.raw().status_and_body();
                let code = e
                    .code()
                    .map(str::to_owned)
                    .or_else(|| xml_field(&body, "Code"))
                    .unwrap_or_else(|| format!("HTTP {status}"));
                let message = e
                    .message()
                    .map(str::to_owned)
                    .or_else(|| xml_field(&body, "Message"))
                    .unwrap_or_else(|| "no message".into());
                let detail = format!("{code}: {message}");
                (AwsCode::from_aws(&code), detail)
            }
            SdkError::TimeoutError(_) => (
                AwsCode::Timeout,
                format!(
                    "no answer from {endpoint} within {}s",
                    self.timeout.as_secs()
                ),
            ),
            SdkError::DispatchFailure(d) => (
                AwsCode::Unreachable,
                format!("cannot reach {endpoint}: {}", dispatch_detail(d)),
            ),
            SdkError::ResponseError(_) => (
                AwsCode::BadResponse,
                format!(
                    "{endpoint} answered with something that is not a {} response",
                    self.service
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
