//! IAM Identity Center (SSO): signing in (authorization code with PKCE, or device code), the
//! session's tokens, and role credentials from the portal.
//!
//! One sign-in per SSO session, shared by every profile that names it and by concurrent
//! processes (under a lock). The client registration, access token and refresh token are kept
//! in the vault like long-term keys: never on disk in plaintext, never in an argv, a log or an
//! error. What would let another local user finish a sign-in in this user's place (the
//! authorize URL with its state, the device verification URL with its code) never goes in an
//! argv either: the browser gets a private page. The loopback callback answers only this user
//! (on Linux, known from the socket when it is accepted) and the right state. The access token is refreshed with the refresh token,
//! without a browser, before it comes within `min_ttl` of expiry; only a refused refresh asks
//! for a new sign-in.
//!
//! The jobs, one file each: [`store`] (what the vault keeps of a session), [`sign_in`] (the
//! client registration and the two OIDC flows), [`callback`] (the loopback callback of the
//! browser flow), [`portal`] (role credentials, accounts and roles, sign-out).

mod callback;
mod portal;
mod sign_in;
mod store;

use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::aws::{AwsCode, AwsError, Client};
use crate::browser::Browser;
use crate::chain::SsoSession;
use crate::net::{NetError, NetSettings};
use crate::output::notice;
use crate::vault::{Vault, VaultError};

pub use portal::Assignment;
pub use store::signed_in_until;
use store::Stored;

/// How to sign in when a sign-in is needed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Flow {
    /// Authorization code with PKCE, through the browser and a loopback callback.
    #[default]
    AuthorizationCode,
    /// Device code: a code to confirm in any browser, for machines without one.
    DeviceCode,
}

/// What a sign-in may use.
#[derive(Clone)]
pub struct SignIn {
    pub flow: Flow,
    /// Open the browser; otherwise print the URL on stderr.
    pub open_browser: bool,
    pub browser: std::sync::Arc<Browser>,
    /// Why no sign-in may start, when none may.
    pub barred: Option<Barred>,
}

/// Why a sign-in may not start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Barred {
    /// The caller is a program (a `credential_process`) and there is no terminal: nobody
    /// would see the sign-in, and the caller would wait minutes for nothing.
    NoTerminal,
    /// Role credentials still valid are at hand: they are used instead.
    CredentialsAtHand,
}

/// An access token kept past its refresh is used while it has at least this long left.
const STILL_VALID: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    #[error("{0}")]
    Aws(#[from] AwsError),
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error("you are not assigned role {role} in account {account} of SSO session {session}")]
    NotAssigned {
        session: String,
        account: String,
        role: String,
    },
    #[error("the sign-in to SSO session {session} was denied")]
    Denied { session: String },
    #[error("the device code of SSO session {session} expired before the sign-in was confirmed")]
    DeviceCodeExpired { session: String },
    #[error("the sign-in to SSO session {session} did not come back within {waited}")]
    NoCallback { session: String, waited: String },
    #[error("the client registration expired")]
    RegistrationExpired,
    #[error("SSO session {session} needs a sign-in{}", match why {
        Barred::NoTerminal => ", which a credential_process caller without a terminal cannot show",
        Barred::CredentialsAtHand => "",
    })]
    SignInBarred { session: String, why: Barred },
    #[error("no random numbers for the sign-in")]
    Random(#[source] getrandom::Error),
    #[error(transparent)]
    Listener(#[from] crate::listener::ListenerError),
    #[error("the SSO OIDC endpoint `{url}` is not a URL: {source}")]
    BadOidcUrl {
        url: String,
        #[source]
        source: url::ParseError,
    },
}

impl SsoError {
    /// Whether the service refused the client registration itself (expired, or revoked).
    fn rejects_registration(&self) -> bool {
        match self {
            SsoError::RegistrationExpired => true,
            SsoError::Aws(e) => e.code == AwsCode::Other("InvalidClientException".into()),
            _ => false,
        }
    }
}

type Result<T, E = SsoError> = std::result::Result<T, E>;

/// The SSO OIDC and portal clients of one session.
pub struct Portal<'a> {
    session: &'a SsoSession,
    oidc_aws: Client,
    portal_aws: Client,
    oidc: aws_sdk_ssooidc::Client,
    portal: aws_sdk_sso::Client,
}

impl<'a> Portal<'a> {
    /// The clients of `session`, on the network stack `net` describes.
    pub fn new(
        session: &'a SsoSession,
        net: &NetSettings,
        timeout: Duration,
    ) -> Result<Portal<'a>, NetError> {
        let oidc_aws = Client::new(net, &session.oidc, &session.region, timeout)?;
        let portal_aws = Client::new(net, &session.portal, &session.region, timeout)?;
        let oidc = crate::aws::sdk_client!(aws_sdk_ssooidc, oidc_aws.sdk_config(None));
        let portal = crate::aws::sdk_client!(aws_sdk_sso, portal_aws.sdk_config(None));
        Ok(Portal {
            session,
            oidc_aws,
            portal_aws,
            oidc,
            portal,
        })
    }

    /// An access token with more than `min_ttl` left: the one kept, else a refreshed one, else
    /// from a new sign-in. When the refresh fails and the kept token is still valid (the
    /// advisory window), it is used with a warning; the note saying so is returned with it. The
    /// caller holds the session's lock.
    pub fn token(
        &self,
        vault: &dyn Vault,
        min_ttl: Duration,
        sign_in: &SignIn,
    ) -> Result<(SecretString, Option<String>)> {
        let stored = Stored::read(vault, self.session)?;
        if let Some(token) = stored.as_ref().and_then(|s| s.usable_token(min_ttl)) {
            return Ok((token.clone(), None));
        }
        let mut failed = None;
        if let Some(stored) = stored {
            let still_valid = stored
                .usable_token(STILL_VALID)
                .cloned()
                .zip(stored.expires_at);
            match self.refresh(stored) {
                Ok(Some(refreshed)) => {
                    refreshed.write(vault, self.session)?;
                    if let Some(token) = refreshed.access_token {
                        return Ok((token, None));
                    }
                }
                Ok(None) => {}
                Err(why) => {
                    if why.rejects_registration() {
                        // Signing in with it would fail too: register anew.
                        self.forget_registration(vault)?;
                    }
                    failed = Some(why);
                }
            }
            if let Some((token, expires_at)) = still_valid {
                let note = format!(
                    "could not refresh the sign-in to SSO session {} ({}); using its access \
                     token, which expires in {}",
                    self.session.name,
                    failed.map_or("it has no refresh token".into(), |e| e.to_string()),
                    crate::duration::until(expires_at)
                );
                notice(&format!("warning: {note}"));
                return Ok((token, Some(note)));
            }
        }
        if let Some(why) = sign_in.barred {
            return Err(SsoError::SignInBarred {
                session: self.session.name.clone(),
                why,
            });
        }
        if let Some(why) = failed {
            notice(&format!(
                "the sign-in to SSO session {} could not be refreshed ({why}); signing in again",
                self.session.name
            ));
        }
        Ok((self.sign_in(vault, sign_in)?, None))
    }

    /// Forgets the client registration, so that the next sign-in registers anew.
    fn forget_registration(&self, vault: &dyn Vault) -> Result<()> {
        if let Some(mut stored) = Stored::read(vault, self.session)? {
            stored.client = None;
            stored.write(vault, self.session)?;
        }
        Ok(())
    }

    /// Forgets the kept access token, so the next [`Portal::token`] refreshes or signs in.
    pub fn forget_token(&self, vault: &dyn Vault) -> Result<()> {
        if let Some(mut stored) = Stored::read(vault, self.session)? {
            stored.access_token = None;
            stored.expires_at = None;
            stored.write(vault, self.session)?;
        }
        Ok(())
    }
}
