//! A failure to reach an endpoint, in one line the user can act on: which proxy was in the way
//! and what it said, or which certificate was not trusted by what. The causes themselves stay
//! the error's sources, for `-v`.
//!
//! hyper-util's tunnel error is not exported, so its texts are matched (pinned by the tests
//! below); rustls's error is found by type. Never includes a proxy's credentials: only
//! [`ProxyUrl`]'s `Display` (host and port) is used.

use std::error::Error;

use super::proxy::ProxyUrl;

/// What kind of failure it was, for the hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The server's certificate is signed by no CA the client trusts.
    Untrusted,
    /// The proxy asked for credentials (407): none, or wrong ones.
    ProxyAuth,
    /// Anything else: no connection, a refused tunnel, a TLS failure of another kind.
    Unreachable,
}

/// The kind and one-line cause of a failure to reach `host`: `" through proxy P: …"`, or
/// `": …"` when no proxy was in the way; `trust` names what the client trusts.
pub fn diagnose(
    error: &(dyn Error + 'static),
    host: &str,
    proxy: Option<&ProxyUrl>,
    trust: &str,
) -> (Kind, String) {
    let chain = causes(error);
    let texts: Vec<String> = chain.iter().map(|e| e.to_string()).collect();
    let said = |needle: &str| texts.iter().any(|t| t.contains(needle));
    let through = match proxy {
        Some(p) => format!(" through proxy {p}"),
        None => String::new(),
    };
    if let Some(tls) = chain.iter().find_map(|e| rustls_error(*e)) {
        let kind = match tls {
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer) => {
                Kind::Untrusted
            }
            _ => Kind::Unreachable,
        };
        return (
            kind,
            format!("{through}: TLS: its certificate is not accepted ({tls}); trusting {trust}"),
        );
    }
    match proxy {
        Some(p) if said("proxy authorization required") => (
            Kind::ProxyAuth,
            format!("{through}: the proxy refused the credentials (407 Proxy Authentication Required){}", if p.has_credentials() { "" } else { "; none were given" }),
        ),
        Some(_) if said("tunnel error: unsuccessful") => (
            Kind::Unreachable,
            format!("{through}: the proxy refused to open a tunnel to {host}"),
        ),
        Some(_) if said("failed to create underlying connection") => (
            Kind::Unreachable,
            format!("{through}: cannot connect to the proxy ({})", summary(&texts)),
        ),
        _ => (Kind::Unreachable, format!("{through}: {}", summary(&texts))),
    }
}

/// `error` and its causes, looking inside I/O errors (whose `source` skips the error they wrap).
fn causes<'a>(error: &'a (dyn Error + 'static)) -> Vec<&'a (dyn Error + 'static)> {
    let mut all = Vec::new();
    let mut next = Some(error);
    while let Some(e) = next {
        all.push(e);
        next = match e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn Error + 'static)),
            None => e.source(),
        };
    }
    all
}

fn rustls_error<'a>(e: &'a (dyn Error + 'static)) -> Option<&'a rustls::Error> {
    e.downcast_ref::<rustls::Error>()
}

/// The causes worth reading, most precise last, without the SDK's generic wrappers.
fn summary(texts: &[String]) -> String {
    let generic = [
        "io error",
        "dispatch failure",
        "other",
        "client error (Connect)",
    ];
    let mut parts: Vec<&str> = Vec::new();
    for text in texts {
        if generic.contains(&text.as_str()) || parts.iter().any(|p| p.contains(text.as_str())) {
            continue;
        }
        parts.push(text);
    }
    if parts.is_empty() {
        return "connection failed".into();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("{text}")]
    struct Wrap {
        text: &'static str,
        #[source]
        inner: Option<Box<dyn Error + Send + Sync>>,
    }

    fn wrap(text: &'static str, inner: impl Error + Send + Sync + 'static) -> Wrap {
        Wrap {
            text,
            inner: Some(Box::new(inner)),
        }
    }

    fn proxy(url: &str) -> super::super::Proxies {
        let env = crate::environment::Environment::from_pairs(&[("HTTPS_PROXY", url)]);
        super::super::Proxies::parse(&env.proxy).unwrap()
    }

    #[test]
    fn the_texts_of_a_refused_tunnel_are_the_pinned_ones() {
        let p = proxy("http://jane:s3cret@127.0.0.1:3128");
        let via = p.route("https://sts.x.invalid");
        // As the SDK reports a 407 to CONNECT (hyper-util's TunnelError inside an io error).
        let auth = wrap(
            "io error",
            wrap(
                "client error (Connect)",
                std::io::Error::other("tunnel error: proxy authorization required"),
            ),
        );
        let (kind, text) = diagnose(&auth, "sts.x.invalid", via, "system roots");
        assert_eq!(kind, Kind::ProxyAuth);
        assert_eq!(
            text,
            " through proxy 127.0.0.1:3128: the proxy refused the credentials (407 Proxy \
             Authentication Required)"
        );
        let refused = wrap(
            "io error",
            std::io::Error::other("tunnel error: unsuccessful"),
        );
        assert_eq!(
            diagnose(&refused, "sts.x.invalid", via, "system roots").1,
            " through proxy 127.0.0.1:3128: the proxy refused to open a tunnel to sts.x.invalid"
        );
        let down = wrap(
            "io error",
            wrap(
                "tunnel error: failed to create underlying connection",
                std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused"),
            ),
        );
        let (_, text) = diagnose(&down, "sts.x.invalid", via, "system roots");
        assert!(text.starts_with(" through proxy 127.0.0.1:3128: cannot connect to the proxy ("));
        assert!(
            text.contains("Connection refused") && !text.contains("s3cret"),
            "{text}"
        );
    }

    #[test]
    fn an_unknown_issuer_names_the_trust_in_use() {
        let tls = wrap(
            "io error",
            wrap(
                "TLS handshake failed",
                std::io::Error::other(rustls::Error::InvalidCertificate(
                    rustls::CertificateError::UnknownIssuer,
                )),
            ),
        );
        let (kind, text) = diagnose(&tls, "sts.x", None, "system roots + AWS_CA_BUNDLE /c.pem");
        assert_eq!(kind, Kind::Untrusted);
        assert_eq!(
            text,
            ": TLS: its certificate is not accepted (invalid peer certificate: UnknownIssuer); \
             trusting system roots + AWS_CA_BUNDLE /c.pem"
        );
        let plain = wrap(
            "dispatch failure",
            wrap("io error", std::io::Error::other("dns error")),
        );
        assert_eq!(diagnose(&plain, "h", None, "system roots").1, ": dns error");
    }
}
