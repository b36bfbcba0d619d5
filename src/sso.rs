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

use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use hyper::{Method, Request, Response, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::aws::{AwsCode, AwsError, Client};
use crate::browser::{Browser, PrivatePage};
use crate::chain::SsoSession;
use crate::credentials::{serialize_secret, Credentials};
use crate::listener::{self, Body, Listener, Payload, Peer, PeerUser};
use crate::output::{notice, verbose};
use crate::vault::{Vault, VaultError};

/// The redirect URI registered for the authorization-code flow; the listener's port is added
/// when signing in (any port of a loopback address matches, RFC 8252 §7.3).
const REDIRECT_URI: &str = "http://127.0.0.1/oauth/callback";
const CALLBACK_PATH: &str = "/oauth/callback";
/// How long a sign-in in the browser may take.
const SIGN_IN_WAIT: Duration = Duration::from_secs(300);
/// RFC 8628: after `slow_down`, poll this much less often.
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);

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
}

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
    #[error("the SSO session {session} cannot sign in: {why}")]
    Local { session: String, why: String },
}

type Result<T, E = SsoError> = std::result::Result<T, E>;

/// The client registration and tokens of one session, as the vault keeps them.
#[derive(Serialize, Deserialize)]
struct Stored {
    start_url: String,
    region: String,
    client: Option<Registration>,
    #[serde(default, serialize_with = "serialize_opt")]
    access_token: Option<SecretString>,
    expires_at: Option<DateTime<Utc>>,
    #[serde(default, serialize_with = "serialize_opt")]
    refresh_token: Option<SecretString>,
}

#[derive(Serialize, Deserialize)]
struct Registration {
    id: String,
    #[serde(serialize_with = "serialize_secret")]
    secret: SecretString,
    expires_at: DateTime<Utc>,
    flow: Flow,
}

fn serialize_opt<S: serde::Serializer>(
    secret: &Option<SecretString>,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    match secret {
        Some(s) => serializer.serialize_some(s.expose_secret()),
        None => serializer.serialize_none(),
    }
}

impl Stored {
    fn read(vault: &dyn Vault, session: &SsoSession) -> Result<Option<Stored>> {
        let Some(secret) = vault.get(&session.vault_item())? else {
            return Ok(None);
        };
        // Something unreadable, or made for another start URL, counts as no sign-in.
        Ok(serde_json::from_str::<Stored>(secret.expose_secret())
            .ok()
            .filter(|s| s.start_url == session.start_url && s.region == session.region))
    }

    fn write(&self, vault: &dyn Vault, session: &SsoSession) -> Result<()> {
        let json = Zeroizing::new(serde_json::to_string(self).expect("tokens serialise"));
        vault.set(&session.vault_item(), &SecretString::from(json.as_str()))?;
        Ok(())
    }

    /// The access token, if it has more than `margin` left.
    fn usable_token(&self, margin: Duration) -> Option<&SecretString> {
        let left = self.expires_at? - crate::clock::now();
        (left > TimeDelta::from_std(margin).unwrap_or(TimeDelta::MAX))
            .then_some(self.access_token.as_ref())
            .flatten()
    }
}

/// Whether the vault holds a sign-in for `session`, and until when its access token lasts.
pub fn signed_in_until(vault: &dyn Vault, session: &SsoSession) -> Result<Option<DateTime<Utc>>> {
    Ok(Stored::read(vault, session)?
        .filter(|s| s.access_token.is_some())
        .and_then(|s| s.expires_at))
}

/// The SSO OIDC and portal clients of one session.
pub struct Portal<'a> {
    session: &'a SsoSession,
    oidc_aws: Client,
    portal_aws: Client,
    oidc: aws_sdk_ssooidc::Client,
    portal: aws_sdk_sso::Client,
}

impl<'a> Portal<'a> {
    pub fn new(session: &'a SsoSession, timeout: Duration) -> std::io::Result<Portal<'a>> {
        let oidc_aws = Client::new(
            "oidc",
            &session.region,
            session.oidc_endpoint.as_deref(),
            timeout,
        )?;
        let portal_aws = Client::new(
            "portal.sso",
            &session.region,
            session.portal_endpoint.as_deref(),
            timeout,
        )?;
        let oidc = aws_sdk_ssooidc::Client::new(&oidc_aws.sdk_config(None));
        let portal = aws_sdk_sso::Client::new(&portal_aws.sdk_config(None));
        Ok(Portal {
            session,
            oidc_aws,
            portal_aws,
            oidc,
            portal,
        })
    }

    /// An access token with more than `min_ttl` left: the one kept, else a refreshed one, else
    /// from a new sign-in. The caller holds the session's lock.
    pub fn token(
        &self,
        vault: &dyn Vault,
        min_ttl: Duration,
        sign_in: &SignIn,
    ) -> Result<SecretString> {
        let stored = Stored::read(vault, self.session)?;
        if let Some(token) = stored.as_ref().and_then(|s| s.usable_token(min_ttl)) {
            return Ok(token.clone());
        }
        if let Some(stored) = stored {
            match self.refresh(stored) {
                Ok(refreshed) => {
                    refreshed.write(vault, self.session)?;
                    if let Some(token) = refreshed.access_token {
                        return Ok(token);
                    }
                }
                Err(Some(why)) => notice(&format!(
                    "the sign-in to SSO session {} could not be refreshed ({why}); signing in \
                     again",
                    self.session.name
                )),
                Err(None) => {}
            }
        }
        self.sign_in(vault, sign_in)
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

    /// The refresh grant: new tokens without a browser. `Err(None)` when there is nothing to
    /// refresh with, `Err(Some(why))` when the service refused.
    fn refresh(&self, mut stored: Stored) -> std::result::Result<Stored, Option<String>> {
        let (Some(client), Some(refresh)) = (&stored.client, &stored.refresh_token) else {
            return Err(None);
        };
        if client.expires_at <= crate::clock::now() {
            return Err(Some("the client registration expired".into()));
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
        let out = self
            .oidc_aws
            .block_on(call.send())
            .map_err(|e| Some(self.oidc_aws.error("CreateToken", e).to_string()))?;
        set_tokens(&mut stored, &out).map_err(|e| Some(e.to_string()))?;
        Ok(stored)
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
        let out = self
            .oidc_aws
            .block_on(call.send())
            .map_err(|e| self.oidc_aws.error("RegisterClient", e))?;
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
        let local = |why: String| SsoError::Local {
            session: self.session.name.clone(),
            why,
        };
        let verifier = crate::credentials::random_secret(32).map_err(local)?;
        let state = crate::credentials::random_secret(16).map_err(local)?;
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
        )
        .map_err(|e| local(e.message().to_string()))?;
        let redirect_uri = format!("http://127.0.0.1:{}{CALLBACK_PATH}", listener.port());
        let mut url = url::Url::parse(&format!("{}/authorize", self.session.oidc_url()))
            .map_err(|e| local(format!("the SSO OIDC endpoint is not a URL: {e}")))?;
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
        Ok(self
            .oidc_aws
            .block_on(call.send())
            .map_err(|e| self.oidc_aws.error("CreateToken", e))?)
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
            .block_on(start.send())
            .map_err(|e| self.oidc_aws.error("StartDeviceAuthorization", e))?;
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
    /// deleted when dropped), or else the URL printed on stderr. With a device code, the code
    /// and the URL to type it at (`shown`) are printed first, for the user to compare.
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
        if how.open_browser {
            match how.browser.open_privately(target) {
                Ok((page, _opener)) => {
                    if device.is_none() {
                        notice(&format!(
                            "signing in to SSO session {session} in your browser"
                        ));
                    }
                    return Some(page);
                }
                Err(e) => notice(&format!("{}; open the URL yourself", e.message())),
            }
        }
        notice(&format!(
            "to sign in to SSO session {session}, open this URL in a browser: {}",
            target.expose_secret()
        ));
        None
    }

    /// GetRoleCredentials: the role's credentials for the account, with the access token.
    pub fn role_credentials(
        &self,
        token: &SecretString,
        account: &str,
        role: &str,
    ) -> Result<Credentials> {
        verbose(format!("GetRoleCredentials {role} in {account}"));
        let call = self
            .portal
            .get_role_credentials()
            .account_id(account)
            .role_name(role)
            .access_token(token.expose_secret());
        let out = self
            .portal_aws
            .block_on(call.send())
            .map_err(|e| self.portal_aws.error("GetRoleCredentials", e))
            .map_err(|e| match e.code {
                AwsCode::Forbidden => SsoError::NotAssigned {
                    session: self.session.name.clone(),
                    account: account.to_string(),
                    role: role.to_string(),
                },
                _ => SsoError::Aws(e),
            })?;
        let bad = || AwsError::bad_response("GetRoleCredentials", "role credentials");
        let c = out.role_credentials().ok_or_else(bad)?;
        let (Some(id), Some(secret), Some(session_token)) =
            (c.access_key_id(), c.secret_access_key(), c.session_token())
        else {
            return Err(bad().into());
        };
        Ok(Credentials {
            access_key_id: id.to_string(),
            secret_access_key: SecretString::from(secret),
            session_token: Some(SecretString::from(session_token)),
            expiration: Some(DateTime::from_timestamp_millis(c.expiration()).ok_or_else(bad)?),
        })
    }

    /// Every account and role the token may use: ListAccounts, then ListAccountRoles.
    pub fn assignments(&self, token: &SecretString) -> Result<Vec<Assignment>> {
        let accounts = self
            .portal_aws
            .block_on(
                self.portal
                    .list_accounts()
                    .access_token(token.expose_secret())
                    .into_paginator()
                    .items()
                    .send()
                    .collect::<std::result::Result<Vec<_>, _>>(),
            )
            .map_err(|e| self.portal_aws.error("ListAccounts", e))?;
        let mut all = Vec::new();
        for account in accounts {
            let Some(id) = account.account_id() else {
                continue;
            };
            let roles = self
                .portal_aws
                .block_on(
                    self.portal
                        .list_account_roles()
                        .access_token(token.expose_secret())
                        .account_id(id)
                        .into_paginator()
                        .items()
                        .send()
                        .collect::<std::result::Result<Vec<_>, _>>(),
                )
                .map_err(|e| self.portal_aws.error("ListAccountRoles", e))?;
            for role in roles {
                if let Some(name) = role.role_name() {
                    all.push(Assignment {
                        account_id: id.to_string(),
                        account_name: account.account_name().unwrap_or(id).to_string(),
                        role: name.to_string(),
                    });
                }
            }
        }
        Ok(all)
    }

    /// Logout at the portal (the access token stops working there too), if one is kept.
    pub fn logout(&self, vault: &dyn Vault) -> Result<bool> {
        let Some(stored) = Stored::read(vault, self.session)? else {
            return Ok(false);
        };
        if let Some(token) = stored.usable_token(Duration::ZERO) {
            let call = self.portal.logout().access_token(token.expose_secret());
            if let Err(e) = self.portal_aws.block_on(call.send()) {
                let e = self.portal_aws.error("Logout", e);
                if e.code != AwsCode::Unauthorized {
                    return Err(e.into());
                }
            }
        }
        Ok(true)
    }
}

/// An account and role an SSO sign-in may use.
#[derive(Debug, Clone)]
pub struct Assignment {
    pub account_id: String,
    pub account_name: String,
    pub role: String,
}

/// Takes the tokens of a CreateToken answer.
fn set_tokens(
    stored: &mut Stored,
    out: &aws_sdk_ssooidc::operation::create_token::CreateTokenOutput,
) -> Result<()> {
    let token = out
        .access_token()
        .ok_or_else(|| AwsError::bad_response("CreateToken", "access token"))?;
    stored.access_token = Some(SecretString::from(token));
    stored.expires_at = Some(crate::clock::now() + TimeDelta::seconds(out.expires_in().into()));
    if let Some(refresh) = out.refresh_token() {
        stored.refresh_token = Some(SecretString::from(refresh));
    }
    Ok(())
}

/// `BASE64URL-NOPAD(SHA256(verifier))`.
fn pkce_challenge(verifier: &SecretString) -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(verifier.expose_secret().as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
}

/// What the callback listener took: the answer to this sign-in.
enum Event {
    Code(SecretString),
    Denied,
}

/// How many refused callbacks are told on stderr; more are refused silently.
const WARNINGS: usize = 10;

/// The `/oauth/callback` handler: answers this user's browser bringing back the state, and
/// nobody else.
struct Callback {
    state: SecretString,
    events: Mutex<Sender<Event>>,
    /// Refusals told so far.
    warned: std::sync::atomic::AtomicUsize,
}

impl Callback {
    fn answer(&self, request: &Request<()>, peer: &Peer) -> Response<Body> {
        if request.uri().path() != CALLBACK_PATH {
            return listener::refuse(StatusCode::NOT_FOUND, "unknown path");
        }
        match peer.user() {
            // Where the system cannot say (macOS, Windows), the state is the guard.
            PeerUser::Own | PeerUser::Untold => {}
            user => {
                self.warn(&user.who());
                return listener::refuse(StatusCode::FORBIDDEN, "callback from another user");
            }
        }
        if request.method() != Method::GET {
            return listener::refuse(StatusCode::METHOD_NOT_ALLOWED, "method other than GET");
        }
        let query: Vec<(String, Zeroizing<String>)> =
            url::form_urlencoded::parse(request.uri().query().unwrap_or_default().as_bytes())
                .map(|(k, v)| (k.into_owned(), Zeroizing::new(v.into_owned())))
                .collect();
        let get = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v);
        let state_ok = get("state")
            .is_some_and(|s| bool::from(s.as_bytes().ct_eq(self.state.expose_secret().as_bytes())));
        if !state_ok {
            // A page the user has open, or anything probing loopback ports: ignored.
            self.warn("a callback with a wrong or no state");
            return listener::refuse(StatusCode::BAD_REQUEST, "callback with a wrong state");
        }
        let (event, page) = match get("code") {
            Some(code) => (
                Event::Code(SecretString::from(code.as_str())),
                "Signed in. You can close this window and return to the terminal.",
            ),
            None => (Event::Denied, "The sign-in was denied."),
        };
        let html = format!(
            "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>broker</title></head>\
             <body><p>{page}</p></body></html>\n"
        );
        // Told once the page is written (or its connection failed), not before: the waiter
        // stops the listener as soon as it hears, which would cut the browser's answer short.
        let sender = self
            .events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let told = Tell(Some((event, sender)));
        listener::respond(
            StatusCode::OK,
            "text/html; charset=utf-8",
            Payload::new(Zeroizing::new(html.into_bytes())).on_sent(move || drop(told)),
        )
    }

    /// Tells the user (the first [`WARNINGS`] times) that a callback was refused.
    fn warn(&self, who: &str) {
        let told = self
            .warned
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if told < WARNINGS {
            notice(&format!(
                "warning: refused a sign-in callback from {who}; still waiting for your browser"
            ));
        } else if told == WARNINGS {
            notice("warning: refusing more sign-in callbacks without saying so");
        }
    }
}

/// Sends its event when dropped: with the answer's payload, once written or given up.
struct Tell(Option<(Event, Sender<Event>)>);

impl Drop for Tell {
    fn drop(&mut self) {
        if let Some((event, sender)) = self.0.take() {
            let _ = sender.send(event);
        }
    }
}

/// Waits for the callback's answer.
fn wait_for_code(received: &Receiver<Event>, session: &str) -> Result<SecretString> {
    let waited = crate::duration::format(SIGN_IN_WAIT);
    match received.recv_timeout(SIGN_IN_WAIT) {
        Ok(Event::Code(code)) => Ok(code),
        Ok(Event::Denied) => Err(SsoError::Denied {
            session: session.to_string(),
        }),
        Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
            Err(SsoError::NoCallback {
                session: session.to_string(),
                waited,
            })
        }
    }
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
