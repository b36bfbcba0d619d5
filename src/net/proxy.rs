//! The proxies of the environment: `HTTPS_PROXY` for `https://` endpoints (through `CONNECT`),
//! `HTTP_PROXY` for `http://` ones, `NO_PROXY` for the hosts reached directly. The variables are
//! read as botocore reads them ([`crate::environment::ProxyVars`]); the URLs and `NO_PROXY` are
//! checked and handed to the SDK's HTTPS client, whose matching follows curl: `NO_PROXY` entries
//! are host names matching themselves and their subdomains (a leading `.` or `*.` changes
//! nothing), IP addresses, CIDR ranges (`10.0.0.0/8`), or `*` for every host.
//!
//! A proxy URL may carry a user name and password (`http://user:p%40ss@proxy:3128`): they stay
//! inside [`ProxyUrl`], whose `Display` and `Debug` show the host and port only, and in the
//! client's `Proxy-Authorization` header. Never `Debug`-print a `ProxyConfig` (it shows them).

use aws_smithy_http_client::proxy::ProxyConfig;
use hyper_util::client::proxy::matcher::Matcher;
use secrecy::{ExposeSecret, SecretString};

use crate::environment::ProxyVars;

/// A proxy variable that is not a URL broker can use. Never holds the value (it may hold a
/// password).
#[derive(Debug, thiserror::Error)]
#[error("{var} is not a usable proxy URL: {why}")]
pub struct ProxyError {
    pub var: &'static str,
    pub why: String,
}

/// One proxy: its URL (a secret: it may hold a password) and what may be shown of it.
#[derive(Clone)]
pub struct ProxyUrl {
    url: SecretString,
    /// `host:port`.
    shown: String,
    credentials: bool,
    var: &'static str,
}

impl ProxyUrl {
    /// Checks `value` of variable `var` as a proxy URL; one without a scheme is `http://`, as
    /// for botocore.
    fn parse(value: &SecretString, var: &'static str) -> Result<ProxyUrl, ProxyError> {
        let fail = |why: &str| ProxyError {
            var,
            why: why.to_string(),
        };
        let text = value.expose_secret().trim();
        let text = if text.contains("://") {
            text.to_string()
        } else {
            format!("http://{text}")
        };
        let url = url::Url::parse(&text).map_err(|e| fail(&e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(fail("only http:// and https:// proxies are supported"));
        }
        let host = url.host_str().ok_or_else(|| fail("it names no host"))?;
        let port = url.port_or_known_default().unwrap_or(80);
        // What the HTTPS client will parse (it would ignore a URL it cannot parse, silently).
        text.parse::<hyper::Uri>()
            .map_err(|_| fail("the HTTPS client cannot parse it"))?;
        Ok(ProxyUrl {
            shown: format!("{host}:{port}"),
            credentials: !url.username().is_empty() || url.password().is_some(),
            url: SecretString::from(text),
            var,
        })
    }

    /// Whether the URL carries a user name or password.
    pub fn has_credentials(&self) -> bool {
        self.credentials
    }

    /// `proxy.corp:3128 (HTTPS_PROXY, with credentials)`.
    pub fn describe(&self) -> String {
        let with = if self.credentials {
            ", with credentials"
        } else {
            ""
        };
        format!("{} ({}{with})", self.shown, self.var)
    }
}

impl std::fmt::Display for ProxyUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

impl std::fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ProxyUrl({})", self.describe())
    }
}

/// The proxies of the environment, checked.
pub struct Proxies {
    https: Option<ProxyUrl>,
    http: Option<ProxyUrl>,
    /// `NO_PROXY` as the client takes it, and the variable it came from.
    no_proxy: Option<(String, &'static str)>,
    /// The client's own matching, for [`Proxies::route`] (holds no proxy URL of the user's).
    matcher: Matcher,
}

impl Proxies {
    /// Checks the proxy variables. `NO_PROXY=*` means no proxy at all.
    pub fn parse(vars: &ProxyVars) -> Result<Proxies, ProxyError> {
        let no_proxy = vars
            .no_proxy
            .as_ref()
            .map(|(value, var)| (normalize_no_proxy(value), *var))
            .filter(|(value, _)| !value.is_empty());
        let everything_direct = no_proxy
            .as_ref()
            .is_some_and(|(value, _)| value.split(',').any(|e| e == "*"));
        let parse = |var: &Option<(SecretString, &'static str)>| {
            var.as_ref()
                .filter(|_| !everything_direct)
                .map(|(value, name)| ProxyUrl::parse(value, name))
                .transpose()
        };
        let (https, http) = (parse(&vars.https)?, parse(&vars.http)?);
        // Stand-ins for the proxies: only whether a host is matched counts.
        let mut matcher = Matcher::builder();
        if https.is_some() {
            matcher = matcher.https("http://proxy.invalid");
        }
        if http.is_some() {
            matcher = matcher.http("http://proxy.invalid");
        }
        if let Some((value, _)) = &no_proxy {
            matcher = matcher.no(value);
        }
        Ok(Proxies {
            https,
            http,
            no_proxy,
            matcher: matcher.build(),
        })
    }

    /// The client's proxy configuration: one, or (when the two proxies differ) the one for
    /// `https://` and the one for `http://`.
    pub fn configs(&self) -> Result<(ProxyConfig, Option<ProxyConfig>), ProxyError> {
        #[derive(Clone, Copy)]
        enum For {
            All,
            Https,
            Http,
        }
        let config = |proxy: &ProxyUrl, scheme: For| {
            let url: &str = proxy.url.expose_secret();
            let made = match scheme {
                For::All => ProxyConfig::all(url),
                For::Https => ProxyConfig::https(url),
                For::Http => ProxyConfig::http(url),
            };
            let made = made.map_err(|_| ProxyError {
                var: proxy.var,
                why: "the HTTPS client refused it".into(),
            })?;
            Ok(match &self.no_proxy {
                Some((rules, _)) => made.no_proxy(rules),
                None => made,
            })
        };
        Ok(match (&self.https, &self.http) {
            (None, None) => (ProxyConfig::disabled(), None),
            (Some(s), Some(p)) if s.url.expose_secret() == p.url.expose_secret() => {
                (config(s, For::All)?, None)
            }
            (Some(s), Some(p)) => (config(s, For::Https)?, Some(config(p, For::Http)?)),
            (Some(s), None) => (config(s, For::Https)?, None),
            (None, Some(p)) => (config(p, For::Http)?, None),
        })
    }

    /// The proxy a request to `url` goes through; `None` when it goes direct.
    pub fn route(&self, url: &str) -> Option<&ProxyUrl> {
        let uri = url.parse::<hyper::Uri>().ok()?;
        self.matcher.intercept(&uri)?;
        match uri.scheme_str() {
            Some("https") => self.https.as_ref(),
            _ => self.http.as_ref(),
        }
    }
}

impl std::fmt::Display for Proxies {
    /// `HTTPS via proxy.corp:3128 (https_proxy, with credentials), HTTP direct, NO_PROXY
    /// (NO_PROXY): localhost,.corp`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let via = |proxy: &Option<ProxyUrl>| match proxy {
            Some(p) => format!("via {}", p.describe()),
            None => "direct".into(),
        };
        write!(f, "HTTPS {}, HTTP {}", via(&self.https), via(&self.http))?;
        if let Some((rules, var)) = &self.no_proxy {
            write!(f, ", direct for {rules} ({var})")?;
        }
        Ok(())
    }
}

/// `NO_PROXY` as the client takes it: entries trimmed, `*.x` written `.x` (Go's and requests'
/// users write it; curl's rules would never match it), a `:port` dropped (hosts are matched
/// whatever the port), empty entries left out.
fn normalize_no_proxy(value: &str) -> String {
    value
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|entry| {
            let entry = match entry.strip_prefix("*.") {
                Some(rest) => format!(".{rest}"),
                None => entry.to_string(),
            };
            if let Some(inside) = entry.strip_prefix('[') {
                // `[::1]:8080` → `::1`
                return inside.split(']').next().unwrap_or_default().to_string();
            }
            match entry.split_once(':') {
                Some((host, port)) if !port.contains(':') => host.to_string(),
                _ => entry,
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::environment::Environment;

    fn proxies(pairs: &[(&str, &str)]) -> Proxies {
        Proxies::parse(&Environment::from_pairs(pairs).proxy).unwrap()
    }

    #[test]
    fn the_variables_are_read_as_python_reads_them() {
        let env = Environment::from_pairs(&[
            ("HTTPS_PROXY", "http://upper:1"),
            ("https_proxy", "http://lower:2"),
            ("HTTP_PROXY", "http://upper:3"),
            ("http_proxy", ""),
            ("NO_PROXY", "a"),
            ("ALL_PROXY", "http://all:4"),
        ]);
        let (https, var) = env.proxy.https.as_ref().unwrap();
        assert_eq!(
            (https.expose_secret(), *var),
            ("http://lower:2", "https_proxy")
        );
        assert!(
            env.proxy.http.is_none(),
            "an empty lower-case variable unsets"
        );
        assert_eq!(env.proxy.no_proxy, Some(("a".to_string(), "NO_PROXY")));
        let cgi = Environment::from_pairs(&[
            ("REQUEST_METHOD", "GET"),
            ("HTTP_PROXY", "http://evil:1"),
            ("HTTPS_PROXY", "http://fine:2"),
        ]);
        assert!(cgi.proxy.http.is_none(), "httpoxy");
        assert!(cgi.proxy.https.is_some());
    }

    #[test]
    fn no_proxy_matches_hosts_suffixes_ranges_and_everything_as_curl_does() {
        let p = proxies(&[
            ("HTTPS_PROXY", "proxy.corp:3128"),
            (
                "NO_PROXY",
                " internal.corp , *.svc.local,localhost:8080, 10.0.0.0/8,::1,[fe80::1]:443",
            ),
        ]);
        let via = |url: &str| p.route(url).map(ToString::to_string);
        assert_eq!(
            via("https://sts.eu-west-1.amazonaws.com"),
            Some("proxy.corp:3128".into())
        );
        for direct in [
            "https://internal.corp",
            "https://sts.INTERNAL.corp:8443",
            "https://a.svc.local",
            "https://localhost:9999",
            "https://10.1.2.3",
            "https://[::1]:4566",
            "https://[fe80::1]",
        ] {
            assert_eq!(via(direct), None, "{direct}");
        }
        assert_eq!(
            via("https://notinternal.corp"),
            Some("proxy.corp:3128".into())
        );
        assert_eq!(via("http://plain.example"), None, "no HTTP_PROXY");
        let all = proxies(&[("HTTPS_PROXY", "http://p:1"), ("no_proxy", "x, *")]);
        assert!(all.route("https://127.0.0.1").is_none());
        assert!(all.route("https://sts.amazonaws.com").is_none());
        assert!(all.configs().unwrap().0.is_disabled());
    }

    #[test]
    fn one_proxy_for_both_schemes_or_one_each() {
        let same = proxies(&[("HTTPS_PROXY", "http://p:1"), ("HTTP_PROXY", "http://p:1")]);
        assert!(same.configs().unwrap().1.is_none());
        let two = proxies(&[("HTTPS_PROXY", "http://s:1"), ("HTTP_PROXY", "http://h:2")]);
        assert!(two.configs().unwrap().1.is_some());
        assert_eq!(two.route("http://x").unwrap().to_string(), "h:2");
        assert_eq!(two.route("https://x").unwrap().to_string(), "s:1");
        assert!(proxies(&[]).configs().unwrap().0.is_disabled());
    }

    #[test]
    fn a_proxy_password_is_never_shown_and_a_bad_url_is_an_error_without_it() {
        let p = proxies(&[
            ("https_proxy", "http://jane:s3cr%40t@proxy.corp:3128"),
            ("NO_PROXY", "localhost"),
        ]);
        let https = p.https.as_ref().unwrap();
        for shown in [
            p.to_string(),
            format!("{https:?}"),
            https.describe(),
            format!(
                "{:?}",
                Environment::from_pairs(&[("HTTPS_PROXY", "http://j:s3cr%40t@p:1")])
            ),
        ] {
            assert!(
                !shown.contains("s3cr") && !shown.contains("jane"),
                "{shown}"
            );
        }
        assert_eq!(
            p.to_string(),
            "HTTPS via proxy.corp:3128 (https_proxy, with credentials), HTTP direct, \
             direct for localhost (NO_PROXY)"
        );
        for bad in [
            "socks5://u:s3cret@p:1",
            "http://u:s3cret@:1",
            "http://u:s3cret@p:99999",
        ] {
            let err = Proxies::parse(&Environment::from_pairs(&[("HTTPS_PROXY", bad)]).proxy)
                .err()
                .unwrap()
                .to_string();
            assert!(
                err.starts_with("HTTPS_PROXY is not a usable proxy URL"),
                "{err}"
            );
            assert!(!err.contains("s3cret"), "{err}");
        }
    }
}
