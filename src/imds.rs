//! `exec --ec2-server`: an EC2 instance metadata endpoint (IMDSv2) on 127.0.0.1, for tools that
//! only know instance credentials. Serves what the AWS SDKs read: a session token
//! (`PUT /latest/api/token`), the role's name and credentials, the region and the
//! instance-identity document's region; nothing else is invented.
//!
//! Served by the [`listener`](crate::listener) like `exec --server` (limits, timeouts, loopback
//! `Host`s, origin-form targets only). Tokens are required (IMDSv1 is refused: a page a browser
//! or a redirect could fetch gets no credentials); a `PUT` with `X-Forwarded-For` is refused, as
//! the real service does. On Linux each connection's owner is looked up and another user's is
//! refused; elsewhere the system does not tell (see [`PeerUser::Untold`]). Refusals are audited,
//! rate-limited. Never logs a credential or a token; answers carrying one are zeroed once sent.

use std::collections::VecDeque;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use hyper::header::HeaderValue;
use hyper::{Method, Request, Response, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::credentials::Credentials;
use crate::error::Result;
use crate::listener::{self, Body, Listener, Payload, PayloadWriter, Peer, PeerUser, Reports};
use crate::server::Issue;

/// The header that asks for a token's lifetime, and tells it back.
const TTL_HEADER: &str = "x-aws-ec2-metadata-token-ttl-seconds";
/// The header that carries the token.
const TOKEN_HEADER: &str = "x-aws-ec2-metadata-token";
/// The longest token lifetime the real service grants: 6 hours.
const MAX_TOKEN_TTL: i64 = 21_600;
/// Tokens kept at once; a new one beyond this evicts the oldest.
const MAX_TOKENS: usize = 64;
/// The metadata's time format (botocore parses exactly this).
const TIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";

/// What the endpoint says about the "instance".
pub struct Instance {
    /// The role name it lists: the role handed out, else `broker`.
    pub role: String,
    pub region: String,
    /// The account, when the chain says (the role's ARN, the SSO account).
    pub account: Option<String>,
}

/// A running endpoint; dropping it stops it.
pub struct Imds {
    /// `http://127.0.0.1:PORT`, for `AWS_EC2_METADATA_SERVICE_ENDPOINT`.
    pub url: String,
    _listener: Listener,
}

struct State {
    issue: Mutex<Box<Issue>>,
    tokens: Mutex<VecDeque<(SecretString, DateTime<Utc>)>>,
    instance: Instance,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Document<'a> {
    code: &'static str,
    last_updated: String,
    #[serde(rename = "Type")]
    kind: &'static str,
    access_key_id: &'a str,
    secret_access_key: &'a str,
    token: &'a str,
    expiration: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    account_id: Option<&'a str>,
}

impl Imds {
    /// Binds a free port on 127.0.0.1 and serves from a thread of its own; `refusals` gets the
    /// rate-limited reports of refused requests and connections.
    pub fn start(issue: Box<Issue>, instance: Instance, refusals: Box<Reports>) -> Result<Imds> {
        let state = State {
            issue: Mutex::new(issue),
            tokens: Mutex::new(VecDeque::new()),
            instance,
        };
        let listener = Listener::start(
            "EC2 metadata endpoint",
            Box::new(move |request, peer| answer(&state, request, peer)),
            Some(refusals),
            true,
        )?;
        Ok(Imds {
            url: format!("http://127.0.0.1:{}", listener.port()),
            _listener: listener,
        })
    }
}

/// The role name as the metadata lists it: the last part of the ARN.
pub fn role_name(role_arn: Option<&str>) -> String {
    role_arn
        .and_then(|arn| arn.rsplit('/').next())
        .filter(|name| !name.is_empty())
        .unwrap_or("broker")
        .to_string()
}

fn answer(state: &State, request: &Request<()>, peer: &Peer) -> Response<Body> {
    if matches!(peer.user(), PeerUser::Other(_) | PeerUser::Unknown) {
        return listener::refuse(StatusCode::FORBIDDEN, "another local user");
    }
    let path = request.uri().path();
    if path == "/latest/api/token" {
        return token(state, request);
    }
    if request.method() != Method::GET {
        return listener::refuse(StatusCode::METHOD_NOT_ALLOWED, "method other than GET");
    }
    if !state.valid_token(request.headers().get(TOKEN_HEADER)) {
        return listener::refuse(StatusCode::UNAUTHORIZED, "missing or expired token");
    }
    let instance = &state.instance;
    let path = path.trim_end_matches('/');
    let text = |body: String| {
        listener::respond(
            StatusCode::OK,
            "text/plain",
            Payload::new(Zeroizing::new(body.into_bytes())),
        )
    };
    for (base, extended) in [
        ("/latest/meta-data/iam/security-credentials", false),
        ("/latest/meta-data/iam/security-credentials-extended", true),
    ] {
        match path.strip_prefix(base) {
            Some("") => return text(instance.role.clone()),
            Some(rest) if rest.strip_prefix('/') == Some(instance.role.as_str()) => {
                return credentials(state, extended)
            }
            _ => {}
        }
    }
    match path {
        "/latest/meta-data/placement/region" => text(instance.region.clone()),
        "/latest/dynamic/instance-identity/document" => {
            let document = match &instance.account {
                Some(account) => {
                    serde_json::json!({"region": instance.region, "accountId": account})
                }
                None => serde_json::json!({"region": instance.region}),
            };
            json(document.to_string())
        }
        "/latest/meta-data/iam/info" => {
            json(serde_json::json!({"Code": "Success", "LastUpdated": now_text()}).to_string())
        }
        "/latest/meta-data/instance-id" => text("broker".into()),
        _ => listener::error(StatusCode::NOT_FOUND, "not served by broker"),
    }
}

fn json(body: String) -> Response<Body> {
    listener::respond(
        StatusCode::OK,
        "application/json",
        Payload::new(Zeroizing::new(body.into_bytes())),
    )
}

fn now_text() -> String {
    crate::clock::now().format(TIME_FORMAT).to_string()
}

/// `PUT /latest/api/token`: a new token for the lifetime asked (1 s to 6 h).
fn token(state: &State, request: &Request<()>) -> Response<Body> {
    if request.method() != Method::PUT {
        return listener::refuse(StatusCode::METHOD_NOT_ALLOWED, "token asked without PUT");
    }
    if request.headers().contains_key("x-forwarded-for") {
        return listener::refuse(StatusCode::FORBIDDEN, "token asked through a proxy");
    }
    let ttl = request
        .headers()
        .get(TTL_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|ttl| (1..=MAX_TOKEN_TTL).contains(ttl));
    let Some(ttl) = ttl else {
        return listener::refuse(StatusCode::BAD_REQUEST, "token TTL missing or out of range");
    };
    let Ok(token) = crate::credentials::random_secret(32) else {
        return listener::error(StatusCode::INTERNAL_SERVER_ERROR, "no random numbers");
    };
    let body = Zeroizing::new(token.expose_secret().as_bytes().to_vec());
    {
        let mut tokens = state.tokens.lock().unwrap_or_else(|e| e.into_inner());
        if tokens.len() >= MAX_TOKENS {
            tokens.pop_front();
        }
        tokens.push_back((token, crate::clock::now() + chrono::TimeDelta::seconds(ttl)));
    }
    let mut response = listener::respond(StatusCode::OK, "text/plain", Payload::new(body));
    response
        .headers_mut()
        .insert(TTL_HEADER, HeaderValue::from(ttl));
    response
}

impl State {
    /// Whether `given` is a token handed out and not expired; compared with each in constant
    /// time. Expired ones are dropped.
    fn valid_token(&self, given: Option<&HeaderValue>) -> bool {
        let given = given.map(|v| v.as_bytes()).unwrap_or_default();
        let now = crate::clock::now();
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        tokens.retain(|(_, expires)| *expires > now);
        let mut found = subtle::Choice::from(0);
        for (token, _) in tokens.iter() {
            found |= given.ct_eq(token.expose_secret().as_bytes());
        }
        !given.is_empty() && bool::from(found)
    }
}

/// The role's credentials, as instance metadata gives them.
fn credentials(state: &State, extended: bool) -> Response<Body> {
    let issued = {
        let issue = state.issue.lock().unwrap_or_else(|e| e.into_inner());
        issue()
    };
    match issued {
        Ok(credentials) => match document(&credentials, extended, &state.instance) {
            Some(payload) => listener::respond(StatusCode::OK, "application/json", payload),
            None => listener::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "credentials without a session token or expiry",
            ),
        },
        Err(e) => listener::error(StatusCode::INTERNAL_SERVER_ERROR, e.message()),
    }
}

/// The JSON answer, built in a buffer that is zeroed once sent.
fn document(c: &Credentials, extended: bool, instance: &Instance) -> Option<Payload> {
    let token = c.session_token.as_ref()?.expose_secret();
    let secret = c.secret_access_key.expose_secret();
    let document = Document {
        code: "Success",
        last_updated: now_text(),
        kind: "AWS-HMAC",
        access_key_id: &c.access_key_id,
        secret_access_key: secret,
        token,
        expiration: c.expiration?.format(TIME_FORMAT).to_string(),
        account_id: instance.account.as_deref().filter(|_| extended),
    };
    let mut out =
        PayloadWriter::with_capacity(320 + c.access_key_id.len() + secret.len() + token.len());
    serde_json::to_writer(&mut out, &document).ok()?;
    Some(out.into_payload())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_role_name_is_the_arns_last_part() {
        assert_eq!(
            role_name(Some("arn:aws:iam::123456789012:role/path/Admin")),
            "Admin"
        );
        assert_eq!(role_name(None), "broker");
    }
}
