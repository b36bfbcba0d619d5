//! The loopback callback of the browser sign-in: answers this user's browser bringing back the
//! right state, and nobody else; hands the code to the waiting sign-in.

use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Mutex;

use std::time::Duration;

use hyper::{Method, Request, Response, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::{Result, SsoError};
use crate::listener::{self, Body, Payload, Peer, PeerUser};
use crate::output::notice;

/// The redirect URI registered for the authorization-code flow; the listener's port is added
/// when signing in (any port of a loopback address matches, RFC 8252 §7.3).
pub(super) const REDIRECT_URI: &str = "http://127.0.0.1/oauth/callback";
pub(super) const CALLBACK_PATH: &str = "/oauth/callback";
/// How long a sign-in in the browser may take.
pub(super) const SIGN_IN_WAIT: Duration = Duration::from_secs(300);

/// What the callback listener took: the answer to this sign-in.
pub(super) enum Event {
    Code(SecretString),
    Denied,
}

/// How many refused callbacks are told on stderr; more are refused silently.
pub(super) const WARNINGS: usize = 10;

/// The `/oauth/callback` handler: answers this user's browser bringing back the state, and
/// nobody else.
pub(super) struct Callback {
    pub(super) state: SecretString,
    pub(super) events: Mutex<Sender<Event>>,
    /// Refusals told so far.
    pub(super) warned: std::sync::atomic::AtomicUsize,
}

impl Callback {
    pub(super) fn answer(&self, request: &Request<()>, peer: &Peer) -> Response<Body> {
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
    pub(super) fn warn(&self, who: &str) {
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
pub(super) struct Tell(Option<(Event, Sender<Event>)>);

impl Drop for Tell {
    fn drop(&mut self) {
        if let Some((event, sender)) = self.0.take() {
            let _ = sender.send(event);
        }
    }
}

/// Waits for the callback's answer.
pub(super) fn wait_for_code(received: &Receiver<Event>, session: &str) -> Result<SecretString> {
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
