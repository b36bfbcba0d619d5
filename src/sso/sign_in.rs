//! Signing in to an SSO session: the client registration, then the authorization code flow
//! with PKCE (a browser and the loopback [`super::callback`]) or the device code flow; and the
//! refresh of the access token with the refresh token, without a browser.

use std::time::Duration;

use std::sync::Mutex;

use chrono::{DateTime, TimeDelta, Utc};
use secrecy::{ExposeSecret, SecretString};

use super::callback::{wait_for_code, Callback, CALLBACK_PATH, REDIRECT_URI};
use super::store::{set_tokens, Registration, Stored};
use super::{Flow, Portal, Result, SignIn, SsoError};
use crate::aws::AwsError;
use crate::browser::PrivatePage;
use crate::listener::Listener;
use crate::output::{notice, verbose};
use crate::vault::Vault;

/// RFC 8628: after `slow_down`, poll this much less often.
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);

impl Portal<'_> {
    /// The refresh grant: new tokens without a browser; `None` when there is nothing to
    /// refresh with.
    pub(super) fn refresh(&self, mut stored: Stored) -> Result<Option<Stored>> {
        let (Some(client), Some(refresh)) = (&stored.client, &stored.refresh_token) else {
            return Ok(None);
        };
        if client.expires_at <= crate::clock::now() {
            return Err(SsoError::RegistrationExpired);
        }
        verbose(format!(
            "refreshing the sign-in to SSO session {}",
            self.session.name
        ));
        let call = self
            .oidc
            .create_token()
            .client_id(&client.id)
            .client_secret(client.secret.expose_secret())
            .grant_type("refresh_token")
            .refresh_token(refresh.expose_secret());
        let out = self.oidc_aws.call("CreateToken", call.send())?;
        set_tokens(&mut stored, &out)?;
        Ok(Some(stored))
    }

    /// A new sign-in, replacing what the vault held for the session; returns the access token.
    pub fn sign_in(&self, vault: &dyn Vault, how: &SignIn) -> Result<SecretString> {
        let mut stored = Stored::read(vault, self.session)?.unwrap_or(Stored {
            start_url: self.session.start_url.clone(),
            region: self.session.region.clone(),
            client: None,
            access_token: None,
            expires_at: None,
            refresh_token: None,
        });
        let reusable = stored.client.as_ref().is_some_and(|c| {
            c.flow == how.flow && c.expires_at > crate::clock::now() + TimeDelta::hours(1)
        });
        if !reusable {
            stored.client = Some(self.register(how.flow)?);
            // A registration is worth keeping even if the sign-in that follows fails.
            stored.write(vault, self.session)?;
        }
        let client = stored.client.as_ref().expect("registered above");
        let out = match how.flow {
            Flow::AuthorizationCode => self.authorization_code(client, how)?,
            Flow::DeviceCode => self.device_code(client, how)?,
        };
        set_tokens(&mut stored, &out)?;
        stored.write(vault, self.session)?;
        notice(&format!("signed in to SSO session {}", self.session.name));
        Ok(stored.access_token.clone().expect("set above"))
    }

    fn register(&self, flow: Flow) -> Result<Registration> {
        let mut call = self
            .oidc
            .register_client()
            .client_name("broker")
            .client_type("public")
            .set_scopes(Some(self.session.scopes.clone()));
        if flow == Flow::AuthorizationCode {
            call = call
                .grant_types("authorization_code")
                .grant_types("refresh_token")
                .redirect_uris(REDIRECT_URI)
                .issuer_url(&self.session.start_url);
        }
        let out = self.oidc_aws.call("RegisterClient", call.send())?;
        let (Some(id), Some(secret)) = (out.client_id(), out.client_secret()) else {
            return Err(AwsError::bad_response("RegisterClient", "client id and secret").into());
        };
        Ok(Registration {
            id: id.to_string(),
            secret: SecretString::from(secret),
            expires_at: DateTime::from_timestamp(out.client_secret_expires_at(), 0)
                .unwrap_or_else(Utc::now),
            flow,
        })
    }

    /// Authorization code with PKCE: the browser signs in at the authorize URL and comes back to
    /// a loopback listener with a code and the state; the code goes back with the verifier. A
    /// callback from anyone but this user, or with a wrong or no state, is refused (and its
    /// code never exchanged) while the sign-in goes on waiting for the right one.
    fn authorization_code(
        &self,
        client: &Registration,
        how: &SignIn,
    ) -> Result<aws_sdk_ssooidc::operation::create_token::CreateTokenOutput> {
        let verifier = crate::credentials::random_secret(32).map_err(SsoError::Random)?;
        let state = crate::credentials::random_secret(16).map_err(SsoError::Random)?;
        let challenge = pkce_challenge(&verifier);
        let (events, received) = std::sync::mpsc::channel();
        let callback = Callback {
            state: state.clone(),
            events: Mutex::new(events),
            warned: std::sync::atomic::AtomicUsize::new(0),
        };
        let listener = Listener::start(
            "SSO sign-in callback",
            Box::new(move |request, peer| callback.answer(request, peer)),
            None,
            true,
        )?;
        let redirect_uri = format!("http://127.0.0.1:{}{CALLBACK_PATH}", listener.port());
        let authorize = format!("{}/authorize", self.session.oidc_url());
        let mut url = url::Url::parse(&authorize).map_err(|source| SsoError::BadOidcUrl {
            url: authorize.clone(),
            source,
        })?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &client.id)
            .append_pair("redirect_uri", &redirect_uri)
            .append_pair("state", state.expose_secret())
            .append_pair("code_challenge_method", "S256")
            .append_pair("scopes", &self.session.scopes.join(" "))
            .append_pair("code_challenge", &challenge);
        let url = SecretString::from(String::from(url));
        // The page is the browser's until the sign-in is over.
        let _page = self.show(&url, None, how);
        let code = wait_for_code(&received, &self.session.name)?;
        drop(listener);
        let call = self
            .oidc
            .create_token()
            .client_id(&client.id)
            .client_secret(client.secret.expose_secret())
            .grant_type("authorization_code")
            .code(code.expose_secret())
            .redirect_uri(&redirect_uri)
            .code_verifier(verifier.expose_secret());
        Ok(self.oidc_aws.call("CreateToken", call.send())?)
    }

    /// Device code: the user confirms a code in any browser while broker polls, no faster
    /// than `interval`, slower after `slow_down`, until `expiresIn`.
    fn device_code(
        &self,
        client: &Registration,
        how: &SignIn,
    ) -> Result<aws_sdk_ssooidc::operation::create_token::CreateTokenOutput> {
        let start = self
            .oidc
            .start_device_authorization()
            .client_id(&client.id)
            .client_secret(client.secret.expose_secret())
            .start_url(&self.session.start_url);
        let device = self
            .oidc_aws
            .call("StartDeviceAuthorization", start.send())?;
        let (Some(device_code), Some(user_code)) = (device.device_code(), device.user_code())
        else {
            return Err(AwsError::bad_response("StartDeviceAuthorization", "device code").into());
        };
        let complete = device
            .verification_uri_complete()
            .or(device.verification_uri())
            .unwrap_or_default();
        let target = SecretString::from(complete);
        // Shown with the code for the user to compare; the URL that carries the code goes to
        // the browser only through a private page.
        let shown = device.verification_uri().unwrap_or(complete);
        let _page = self.show(&target, Some((user_code, shown)), how);
        let mut interval = Duration::from_secs(device.interval().max(1) as u64);
        let deadline = crate::clock::now() + TimeDelta::seconds(device.expires_in().max(1).into());
        loop {
            let poll = self
                .oidc
                .create_token()
                .client_id(&client.id)
                .client_secret(client.secret.expose_secret())
                .grant_type("urn:ietf:params:oauth:grant-type:device_code")
                .device_code(device_code);
            match self.oidc_aws.block_on(poll.send()) {
                Ok(out) => return Ok(out),
                Err(e) => {
                    let service = e.as_service_error();
                    if service.is_some_and(|s| s.is_authorization_pending_exception()) {
                    } else if service.is_some_and(|s| s.is_slow_down_exception()) {
                        interval += SLOW_DOWN_STEP;
                    } else if service.is_some_and(|s| s.is_access_denied_exception()) {
                        return Err(SsoError::Denied {
                            session: self.session.name.clone(),
                        });
                    } else if service.is_some_and(|s| s.is_expired_token_exception()) {
                        return Err(SsoError::DeviceCodeExpired {
                            session: self.session.name.clone(),
                        });
                    } else {
                        return Err(self.oidc_aws.error("CreateToken", e).into());
                    }
                }
            }
            if crate::clock::now() + interval > deadline {
                return Err(SsoError::DeviceCodeExpired {
                    session: self.session.name.clone(),
                });
            }
            crate::clock::sleep(interval);
        }
    }

    /// Sends the user to `target`: the browser, through a private page (the returned guard,
    /// deleted when dropped), and the URL printed on stderr whether or not a browser opens (an
    /// opener may start and fail later, as `xdg-open` does on a machine without a desktop).
    /// With a device code, the code and the URL to type it at (`shown`) are printed first, for
    /// the user to compare.
    fn show(
        &self,
        target: &SecretString,
        device: Option<(&str, &str)>,
        how: &SignIn,
    ) -> Option<PrivatePage> {
        let session = &self.session.name;
        if let Some((code, shown)) = device {
            notice(&format!(
                "to sign in to SSO session {session}, confirm the code {code} at {shown}"
            ));
        }
        let page = if how.open_browser {
            match how.browser.open_privately(target) {
                Ok((page, _opener)) => Some(page),
                Err(e) => {
                    notice(&format!("{e}; open the URL yourself"));
                    None
                }
            }
        } else {
            None
        };
        let how_to = if page.is_some() {
            format!("signing in to SSO session {session} in your browser; if none opens, open")
        } else {
            format!("to sign in to SSO session {session}, open")
        };
        notice(&format!(
            "{how_to} this URL in a browser: {}",
            target.expose_secret()
        ));
        page
    }
}

/// `BASE64URL-NOPAD(SHA256(verifier))`.
fn pkce_challenge(verifier: &SecretString) -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(verifier.expose_secret().as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_is_the_rfc_7636_one() {
        // RFC 7636, appendix B.
        let verifier = SecretString::from("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(
            pkce_challenge(&verifier),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
