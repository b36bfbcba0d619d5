//! What HTTPS trusts: the system's roots, plus the certificates of the CA bundle configured.
//!
//! The bundle comes from `AWS_CA_BUNDLE`, else the profile's `ca_bundle`, else
//! `REQUESTS_CA_BUNDLE` (botocore's order). Its certificates are added to the system's roots
//! (botocore replaces its own default bundle instead): broker's default is the system's store,
//! where IT installs corporate roots already, and a bundle holding only the inspecting proxy's CA
//! then still leaves direct (`NO_PROXY`) hosts trusted. `SSL_CERT_FILE`/`SSL_CERT_DIR` replace
//! the system's roots, as they do for every program using them.
//!
//! Never panics on a bundle: the HTTPS client does on one it cannot parse, so every certificate
//! is checked first, and a bad bundle is a one-line error naming the file and where it was set.

use std::path::{Path, PathBuf};

use aws_smithy_http_client::tls::{TlsContext, TrustStore};
use rustls::pki_types::{pem::PemObject, CertificateDer};

use super::Origin;
use crate::environment::Environment;

/// The CA bundle to add to the system's roots, if any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trust {
    pub bundle: Option<(PathBuf, Origin)>,
}

#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("cannot read the CA bundle {} ({origin}): {source}", path.display())]
    Unreadable {
        path: PathBuf,
        origin: Origin,
        #[source]
        source: std::io::Error,
    },
    #[error("the CA bundle {} ({origin}) holds no PEM certificate (-----BEGIN CERTIFICATE-----)", path.display())]
    NoCertificate { path: PathBuf, origin: Origin },
    #[error("the CA bundle {} ({origin}) is not valid PEM at certificate {index}: {source}", path.display())]
    NotPem {
        path: PathBuf,
        origin: Origin,
        index: usize,
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    #[error("the CA bundle {} ({origin}) has a certificate ({index}) that is not a CA: {source}", path.display())]
    NotCa {
        path: PathBuf,
        origin: Origin,
        index: usize,
        #[source]
        source: Box<rustls::Error>,
    },
    #[error("cannot set up TLS")]
    Context(#[source] aws_smithy_http_client::HttpClientError),
}

impl Trust {
    /// `AWS_CA_BUNDLE`, else the profile's `ca_bundle` (`~` expanded), else
    /// `REQUESTS_CA_BUNDLE`.
    pub fn resolve(env: &Environment, profile: Option<(String, Origin)>) -> Trust {
        let bundle = env
            .aws
            .ca_bundle
            .clone()
            .map(|p| (p, Origin::Env("AWS_CA_BUNDLE")))
            .or_else(|| profile.map(|(p, origin)| (env.expand_home(p), origin)))
            .or_else(|| {
                env.aws
                    .requests_ca_bundle
                    .clone()
                    .map(|p| (p, Origin::Env("REQUESTS_CA_BUNDLE")))
            });
        Trust { bundle }
    }

    /// The TLS context, and what it trusts in words ("system roots + AWS_CA_BUNDLE
    /// /etc/corp.pem (1 certificate)"). Reads and checks the bundle.
    pub fn load(&self) -> Result<(TlsContext, String), TrustError> {
        let mut store = TrustStore::default();
        let mut label = "system roots".to_string();
        if let Some((path, origin)) = &self.bundle {
            let pem = crate::fsutil::read_user_file(path, crate::fsutil::SETTINGS_CAP)
                .and_then(|bytes| bytes.ok_or_else(|| std::io::ErrorKind::NotFound.into()))
                .map_err(|source| TrustError::Unreadable {
                    path: path.clone(),
                    origin: origin.clone(),
                    source,
                })?;
            let count = certificates(&pem, path, origin)?;
            let plural = if count == 1 { "" } else { "s" };
            label = format!(
                "{label} + {origin} {} ({count} certificate{plural})",
                path.display()
            );
            store = store.with_pem_certificate(pem);
        }
        let context = TlsContext::builder()
            .with_trust_store(store)
            .build()
            .map_err(TrustError::Context)?;
        Ok((context, label))
    }

    /// What is trusted, in words, without reading the bundle (for messages before a call).
    pub fn describe(&self) -> String {
        match &self.bundle {
            None => "system roots".into(),
            Some((path, origin)) => format!("system roots + {origin} {}", path.display()),
        }
    }
}

/// How many certificates the PEM bundle at `path` holds, each one usable as a root; why not
/// otherwise.
fn certificates(pem: &[u8], path: &Path, origin: &Origin) -> Result<usize, TrustError> {
    let mut roots = rustls::RootCertStore::empty();
    for (n, cert) in CertificateDer::pem_slice_iter(pem).enumerate() {
        let cert = cert.map_err(|source| TrustError::NotPem {
            path: path.to_owned(),
            origin: origin.clone(),
            index: n + 1,
            source,
        })?;
        roots.add(cert).map_err(|source| TrustError::NotCa {
            path: path.to_owned(),
            origin: origin.clone(),
            index: n + 1,
            source: Box::new(source),
        })?;
    }
    match roots.len() {
        0 => Err(TrustError::NoCertificate {
            path: path.to_owned(),
            origin: origin.clone(),
        }),
        n => Ok(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variable_beats_the_profile_which_beats_requests_ca_bundle() {
        let profile = || {
            Some((
                "~/corp.pem".to_string(),
                Origin::Profile {
                    profile: "p".into(),
                    key: "ca_bundle",
                },
            ))
        };
        let env = Environment::from_pairs(&[
            ("HOME", "/h"),
            ("AWS_CA_BUNDLE", "/env.pem"),
            ("REQUESTS_CA_BUNDLE", "/requests.pem"),
        ]);
        let trust = Trust::resolve(&env, profile());
        assert_eq!(
            trust.bundle,
            Some(("/env.pem".into(), Origin::Env("AWS_CA_BUNDLE")))
        );
        let env = Environment::from_pairs(&[("HOME", "/h"), ("REQUESTS_CA_BUNDLE", "/r.pem")]);
        let trust = Trust::resolve(&env, profile());
        assert_eq!(
            trust.describe(),
            format!(
                "system roots + ca_bundle of profile p {}",
                std::path::Path::new("/h").join("corp.pem").display()
            )
        );
        assert_eq!(
            Trust::resolve(&env, None).describe(),
            "system roots + REQUESTS_CA_BUNDLE /r.pem"
        );
        let bare = Environment::from_pairs(&[]);
        assert_eq!(Trust::resolve(&bare, None), Trust::default());
    }

    #[test]
    fn a_bad_bundle_is_an_error_naming_the_file_never_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let load = |name: &str, bytes: Option<&[u8]>| {
            let path = dir.path().join(name);
            if let Some(bytes) = bytes {
                std::fs::write(&path, bytes).unwrap();
            }
            let trust = Trust {
                bundle: Some((path, Origin::Env("AWS_CA_BUNDLE"))),
            };
            trust
                .load()
                .map(|(_, label)| label)
                .map_err(|e| e.to_string())
        };
        let key = b"-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n";
        let broken = b"-----BEGIN CERTIFICATE-----\n!!!notbase64\n-----END CERTIFICATE-----\n";
        let garbage = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        for (name, bytes, says) in [
            ("missing.pem", None, "cannot read the CA bundle"),
            ("empty.pem", Some(&b""[..]), "holds no PEM certificate"),
            ("key.pem", Some(&key[..]), "holds no PEM certificate"),
            (
                "broken.pem",
                Some(&broken[..]),
                "is not valid PEM at certificate 1",
            ),
            ("garbage.pem", Some(&garbage[..]), "that is not a CA"),
        ] {
            let err = load(name, bytes).unwrap_err();
            assert!(
                err.contains(name) && err.contains("(AWS_CA_BUNDLE)"),
                "{err}"
            );
            assert!(err.contains(says), "{name}: {err}");
        }
        let big = vec![b'a'; 2 << 20];
        assert!(load("big.pem", Some(&big))
            .unwrap_err()
            .contains("larger than"));
        let err = Trust {
            bundle: Some((dir.path().to_owned(), Origin::Env("AWS_CA_BUNDLE"))),
        }
        .load()
        .map(|_| ())
        .unwrap_err()
        .to_string();
        // (Windows refuses to open a directory at all.)
        assert!(
            err.contains("not a regular file")
                || cfg!(windows) && err.contains("cannot read the CA bundle"),
            "{err}"
        );
    }
}
