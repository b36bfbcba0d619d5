//! The one network stack of a process: one async runtime and one HTTPS client, built on the
//! first call that needs the network and shared by every call after it (STS, IAM, SSO OIDC, the
//! portal, console federation, doctor's probe), so that connections are reused across hops and
//! refreshes. It goes through the proxy the environment names (`HTTPS_PROXY`, `HTTP_PROXY`,
//! `NO_PROXY`: [`proxy`]), trusts the system's roots and the CA bundle configured
//! (`AWS_CA_BUNDLE`, `ca_bundle`: [`trust`]); each SDK client retries as the profile says
//! ([`retry`]); a failure to connect is worded by [`diagnose`].
//!
//! Must never be touched on the warm path (cached credentials need no network), and never
//! prints a proxy's user name or password: they live only inside [`proxy::ProxyUrl`], whose
//! `Display` and `Debug` leave them out.

pub mod diagnose;
pub mod proxy;
pub mod retry;
pub mod trust;

use std::sync::OnceLock;
use std::time::Duration;

use aws_smithy_http_client::{tls, Connector};
use aws_smithy_runtime_api::client::http::{
    http_client_fn, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use secrecy::{ExposeSecret, SecretString};

use crate::environment::{Environment, ProxyVars};
use crate::profiles::AwsProfiles;

pub use proxy::{Proxies, ProxyError};
pub use retry::{Retry, RetryError, RetrySettings};
pub use trust::{Trust, TrustError};

/// How long connecting (TCP, the proxy's tunnel and TLS) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where a setting came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// An environment variable.
    Env(&'static str),
    /// A key of a profile in the AWS config.
    Profile { profile: String, key: &'static str },
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Env(name) => f.write_str(name),
            Origin::Profile { profile, key } => write!(f, "{key} of profile {profile}"),
        }
    }
}

/// What the network stack is built from: the proxy variables, the trust and the retries of the
/// profile in use. Cheap lookups, read no file: the CA bundle is read when the stack is built.
#[derive(Debug, Clone, Default)]
pub struct NetSettings {
    pub proxy: ProxyVars,
    pub trust: Trust,
    pub retry: RetrySettings,
}

impl NetSettings {
    /// The settings for `profile` (its keys, then broker's fallbacks); the variables beat the
    /// profile's keys, as for botocore. `None`: the variables only.
    pub fn resolve(env: &Environment, aws: &AwsProfiles, profile: Option<&str>) -> NetSettings {
        let key = |key: &'static str| {
            profile.and_then(|p| {
                aws.get(p, key)
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(|v| {
                        let origin = Origin::Profile {
                            profile: p.to_string(),
                            key,
                        };
                        (v.to_string(), origin)
                    })
            })
        };
        let env_value = |value: &Option<String>, name: &'static str| {
            value.clone().map(|v| (v, Origin::Env(name)))
        };
        NetSettings {
            proxy: env.proxy.clone(),
            trust: Trust::resolve(env, key("ca_bundle")),
            retry: RetrySettings {
                mode: env_value(&env.aws.retry_mode, "AWS_RETRY_MODE")
                    .or_else(|| key("retry_mode")),
                max_attempts: env_value(&env.aws.max_attempts, "AWS_MAX_ATTEMPTS")
                    .or_else(|| key("max_attempts")),
            },
        }
    }
}

/// The network stack could not be built from its settings.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error(transparent)]
    Proxy(#[from] ProxyError),
    /// Boxed: it names a file and where it was set.
    #[error(transparent)]
    Trust(Box<TrustError>),
    #[error(transparent)]
    Retry(#[from] RetryError),
    #[error("cannot start the network client")]
    Runtime(#[source] std::io::Error),
}

impl From<TrustError> for NetError {
    fn from(e: TrustError) -> Self {
        NetError::Trust(Box::new(e))
    }
}

/// The process's network stack.
pub struct Net {
    runtime: tokio::runtime::Runtime,
    connector: SharedHttpConnector,
    proxies: Proxies,
    trust_label: String,
}

static NET: OnceLock<Net> = OnceLock::new();

/// The process's network stack, built from `settings` on first use. A build that fails (a bad
/// CA bundle) is not kept: the error is the caller's, and a later call tries again. Later calls
/// get the first stack whatever their settings (a process works for one profile).
pub fn shared(settings: &NetSettings) -> Result<&'static Net, NetError> {
    if let Some(net) = NET.get() {
        return Ok(net);
    }
    let net = Net::build(settings)?;
    crate::output::verbose(format!(
        "network: {}; trust: {}",
        net.proxies, net.trust_label
    ));
    Ok(NET.get_or_init(|| net))
}

impl Net {
    fn build(settings: &NetSettings) -> Result<Net, NetError> {
        let proxies = Proxies::parse(&settings.proxy)?;
        let (tls_context, trust_label) = settings.trust.load()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(NetError::Runtime)?;
        let connector = |proxy| {
            SharedHttpConnector::new(
                Connector::builder()
                    .connector_settings(
                        HttpConnectorSettings::builder()
                            .connect_timeout(CONNECT_TIMEOUT)
                            .build(),
                    )
                    .proxy_config(proxy)
                    .tls_provider(tls::Provider::Rustls(
                        tls::rustls_provider::CryptoMode::Ring,
                    ))
                    .tls_context(tls_context.clone())
                    .build(),
            )
        };
        let connector = match proxies.configs()? {
            (one, None) => connector(one),
            (https, Some(http)) => SharedHttpConnector::new(ByScheme {
                https: connector(https),
                http: connector(http),
            }),
        };
        Ok(Net {
            runtime,
            connector,
            proxies,
            trust_label,
        })
    }

    /// Runs `future` to completion on the stack's runtime. Several threads may wait at once
    /// (the credential server's handler and its refresh): one drives, the others are woken.
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// The HTTP client an SDK client is configured with: always this stack's one connector.
    pub fn sdk_http_client(&self) -> SharedHttpClient {
        let connector = self.connector.clone();
        http_client_fn(move |_, _| connector.clone())
    }

    /// The proxy that a request to `url` goes through, if any (for messages).
    pub fn route(&self, url: &str) -> Option<&proxy::ProxyUrl> {
        self.proxies.route(url)
    }

    /// What the stack trusts: "system roots", "system roots + AWS_CA_BUNDLE /etc/corp.pem (1
    /// certificate)".
    pub fn trust_label(&self) -> &str {
        &self.trust_label
    }

    /// One unsigned GET of `url` (console federation, doctor's probe) through the stack, the
    /// answer read whole within `timeout`. The URL may carry a secret: errors name its host only.
    pub fn get(&self, url: &SecretString, timeout: Duration) -> Result<Answer, GetError> {
        let parsed = url::Url::parse(url.expose_secret()).map_err(|_| GetError::BadUrl)?;
        let host = parsed.host_str().ok_or(GetError::BadUrl)?.to_string();
        // What messages name: the scheme, host and port, never the path or query (secrets).
        let origin = parsed.origin().ascii_serialization();
        let mut request = HttpRequest::new(aws_smithy_types::body::SdkBody::empty());
        request
            .set_uri(url.expose_secret())
            .map_err(|_| GetError::BadUrl)?;
        let call = async {
            let response = self.connector.call(request).await?;
            let status = response.status().as_u16();
            let date = response.headers().get("date").map(str::to_owned);
            use http_body_util::BodyExt;
            let body = response.into_body().collect().await.map_err(|e| {
                aws_smithy_runtime_api::client::result::ConnectorError::other(e, None)
            })?;
            Ok::<_, aws_smithy_runtime_api::client::result::ConnectorError>(Answer {
                status,
                date,
                body: body.to_bytes().to_vec(),
            })
        };
        match self.block_on(async { tokio::time::timeout(timeout, call).await }) {
            Err(_) => Err(GetError::Timeout { origin, timeout }),
            Ok(Err(error)) => {
                let (kind, cause) = diagnose::diagnose(
                    &error,
                    &host,
                    self.route(url.expose_secret()),
                    &self.trust_label,
                );
                Err(GetError::Failed {
                    origin,
                    kind,
                    cause,
                    source: error,
                })
            }
            Ok(Ok(answer)) => Ok(answer),
        }
    }
}

/// The answer to [`Net::get`].
pub struct Answer {
    pub status: u16,
    /// The `Date` header, if any.
    pub date: Option<String>,
    pub body: Vec<u8>,
}

/// Why [`Net::get`] got no answer. Names the URL's scheme, host and port, never its path or
/// query.
#[derive(Debug, thiserror::Error)]
pub enum GetError {
    #[error("not a valid URL")]
    BadUrl,
    #[error("no answer from {origin} within {}s", timeout.as_secs())]
    Timeout { origin: String, timeout: Duration },
    #[error("cannot reach {origin}{cause}")]
    Failed {
        origin: String,
        kind: diagnose::Kind,
        /// The one-line cause (see [`diagnose`]), with its leading separator.
        cause: String,
        #[source]
        source: aws_smithy_runtime_api::client::result::ConnectorError,
    },
}

/// Two connectors, one per proxy, for when `HTTPS_PROXY` and `HTTP_PROXY` differ: each request
/// goes to the one for its scheme.
#[derive(Debug)]
struct ByScheme {
    https: SharedHttpConnector,
    http: SharedHttpConnector,
}

impl HttpConnector for ByScheme {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        if request.uri().starts_with("http://") {
            self.http.call(request)
        } else {
            self.https.call(request)
        }
    }
}
