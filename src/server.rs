//! `exec --server`: a credentials endpoint on 127.0.0.1 speaking the ECS container-credentials
//! protocol, so a long job asks for fresh credentials instead of holding expiring ones.
//!
//! Served by the [`listener`](crate::listener), which limits connections, times out idle ones and
//! refuses foreign `Host`s and absolute-form targets. Answers only requests that carry the run's
//! random token (compared in constant time); everything else gets 403 and no credentials.
//! Refusals are audited, rate-limited. Lives exactly as long as the child. Never logs a
//! credential; the answer that carries one is zeroed once sent.

use std::sync::Mutex;

use hyper::{Method, Request, Response, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use subtle::ConstantTimeEq;

use crate::credentials::Credentials;
use crate::error::{Error, Result};
use crate::listener::{self, Body, Listener, Payload, PayloadWriter, Reports};

/// Hands out credentials for one request; called on a blocking thread, one call at a time.
pub type Issue = dyn Fn() -> Result<Credentials> + Send + Sync;

/// A running server; dropping it stops it.
pub struct Server {
    pub url: String,
    pub token: SecretString,
    _listener: Listener,
}

struct State {
    token: SecretString,
    issue: Mutex<Box<Issue>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Document<'a> {
    access_key_id: &'a str,
    secret_access_key: &'a str,
    token: &'a str,
    expiration: String,
}

impl Server {
    /// Binds a free port on 127.0.0.1 and serves from a thread of its own; `refusals` gets the
    /// rate-limited reports of refused requests and connections.
    pub fn start(issue: Box<Issue>, refusals: Box<Reports>) -> Result<Server> {
        let token = random_token()?;
        let state = State {
            token: token.clone(),
            issue: Mutex::new(issue),
        };
        let listener = Listener::start(
            "credentials server",
            Box::new(move |request, _| answer(&state, request)),
            Some(refusals),
            false,
        )?;
        Ok(Server {
            url: format!("http://127.0.0.1:{}/", listener.port()),
            token,
            _listener: listener,
        })
    }
}

fn answer(state: &State, request: &Request<()>) -> Response<Body> {
    let given = request
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if !bool::from(given.ct_eq(state.token.expose_secret().as_bytes())) {
        return listener::refuse(StatusCode::FORBIDDEN, "wrong or missing token");
    }
    if request.method() != Method::GET {
        return listener::refuse(StatusCode::METHOD_NOT_ALLOWED, "method other than GET");
    }
    let issued = {
        let issue = state.issue.lock().unwrap_or_else(|e| e.into_inner());
        issue()
    };
    match issued {
        Ok(credentials) => match document(&credentials) {
            Some(payload) => listener::respond(StatusCode::OK, "application/json", payload),
            None => listener::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "credentials without a session token",
            ),
        },
        Err(e) => listener::error(StatusCode::INTERNAL_SERVER_ERROR, e.message()),
    }
}

/// The JSON answer, built in a buffer that is zeroed once sent.
fn document(c: &Credentials) -> Option<Payload> {
    let token = c.session_token.as_ref()?.expose_secret();
    let secret = c.secret_access_key.expose_secret();
    let document = Document {
        access_key_id: &c.access_key_id,
        secret_access_key: secret,
        token,
        expiration: c.expiration_rfc3339()?,
    };
    let mut out =
        PayloadWriter::with_capacity(256 + c.access_key_id.len() + secret.len() + token.len());
    serde_json::to_writer(&mut out, &document).ok()?;
    Some(out.into_payload())
}

/// 256 random bits, hex-encoded.
fn random_token() -> Result<SecretString> {
    crate::credentials::random_secret(32)
        .map_err(|e| Error::with_source("no random numbers for the credential server's token", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_fresh_and_long() {
        let (a, b) = (random_token().unwrap(), random_token().unwrap());
        assert_eq!(a.expose_secret().len(), 64);
        assert_ne!(a.expose_secret(), b.expose_secret());
    }
}
