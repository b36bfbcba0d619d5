//! Console sign-in: exchanges temporary credentials for a sign-in token at the federation
//! endpoint (`BROKER_FEDERATION_URL`, default AWS's), and builds the login URL.
//!
//! The credentials travel only in the HTTPS request to the federation endpoint; the login URL
//! holds the short-lived sign-in token, which is printed only with `--stdout` and otherwise
//! reaches the browser through a private page and a one-time local redirect that answers only
//! this user, never through a process's argv.

use std::sync::mpsc::{RecvTimeoutError, Sender};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hyper::header::{HeaderValue, CONNECTION, REFERRER_POLICY};
use hyper::{Method, Request, Response, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;
use url::Url;
use zeroize::Zeroizing;

use crate::browser::{self, Browser, BrowserError};
use crate::credentials::Credentials;
use crate::listener::{self, Body, Listener, ListenerError, Payload, Peer, PeerUser};

/// What can go wrong in a console sign-in.
#[derive(Debug, thiserror::Error)]
pub enum FederationError {
    #[error("BROKER_FEDERATION_URL `{text}` is not a URL: {source}")]
    BadUrl {
        text: String,
        #[source]
        source: url::ParseError,
    },
    #[error("console sign-in needs temporary credentials (a role or a federation token)")]
    NotTemporary,
    #[error(transparent)]
    Net(#[from] crate::net::NetError),
    #[error("the federation endpoint {host} failed: {source}")]
    Failed {
        host: String,
        #[source]
        source: crate::net::GetError,
    },
    #[error("the federation endpoint {host} answered HTTP {status}")]
    Status { host: String, status: u16 },
    #[error("the federation endpoint {base} did not answer with JSON")]
    NotJson {
        base: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("the federation endpoint {base} returned no SigninToken")]
    NoToken { base: String },
    #[error(
        "{} asked for the one-time sign-in link; it was refused and this sign-in abandoned",
        .0.who()
    )]
    Stolen(PeerUser),
    #[error(
        "the one-time sign-in link was asked for twice; someone else may have signed in with it"
    )]
    Again,
    #[error("the browser did not open the sign-in link within 2 minutes")]
    NoBrowser,
    #[error("the local sign-in redirect stopped")]
    Stopped,
    #[error("no random numbers for the one-time sign-in link")]
    Random(#[source] getrandom::Error),
    #[error(transparent)]
    Browser(#[from] BrowserError),
    #[error(transparent)]
    Listener(#[from] ListenerError),
}

type Result<T, E = FederationError> = std::result::Result<T, E>;

pub const DEFAULT_URL: &str = "https://signin.aws.amazon.com/federation";
const TIMEOUT: Duration = Duration::from_secs(20);
/// How long `login` waits for the browser to follow the local redirect.
const BROWSER_WAIT: Duration = Duration::from_secs(120);

/// The federation endpoint: `BROKER_FEDERATION_URL`, else AWS's.
pub fn endpoint(given: Option<&str>) -> Result<Url> {
    let text = given.unwrap_or(DEFAULT_URL);
    Url::parse(text).map_err(|source| FederationError::BadUrl {
        text: text.to_string(),
        source,
    })
}

/// The console home of `region`.
pub fn console_destination(region: &str) -> String {
    format!("https://{region}.console.aws.amazon.com/console/home?region={region}")
}

/// getSigninToken (on the network stack `net` describes), then the login URL for
/// `destination`.
pub fn signin_url(
    net: &crate::net::NetSettings,
    base: &Url,
    credentials: &Credentials,
    session_duration: Option<Duration>,
    destination: &str,
) -> Result<SecretString> {
    let token = credentials
        .session_token
        .as_ref()
        .ok_or(FederationError::NotTemporary)?;
    let session = serde_json::json!({
        "sessionId": credentials.access_key_id,
        "sessionKey": credentials.secret_access_key.expose_secret(),
        "sessionToken": token.expose_secret(),
    });
    let mut request = base.clone();
    {
        let mut query = request.query_pairs_mut();
        query.append_pair("Action", "getSigninToken");
        if let Some(d) = session_duration {
            query.append_pair("SessionDuration", &d.as_secs().to_string());
        }
        query.append_pair("Session", &session.to_string());
    }
    let body = get(net, &SecretString::from(request.to_string()))?;
    let parsed: serde_json::Value =
        serde_json::from_slice(&body).map_err(|source| FederationError::NotJson {
            base: base.to_string(),
            source,
        })?;
    let signin = parsed["SigninToken"]
        .as_str()
        .ok_or_else(|| FederationError::NoToken {
            base: base.to_string(),
        })?;
    let mut login = base.clone();
    login
        .query_pairs_mut()
        .append_pair("Action", "login")
        .append_pair("Issuer", "broker")
        .append_pair("Destination", destination)
        .append_pair("SigninToken", signin);
    Ok(SecretString::from(login.to_string()))
}

/// One HTTP(S) GET, bounded in time; the body of a 2xx answer.
fn get(net: &crate::net::NetSettings, url: &SecretString) -> Result<Vec<u8>> {
    let host = Url::parse(url.expose_secret())
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    let answer = crate::net::shared(net)?
        .get(url, TIMEOUT)
        .map_err(|source| FederationError::Failed {
            host: host.clone(),
            source,
        })?;
    if !(200..300).contains(&answer.status) {
        return Err(FederationError::Status {
            host,
            status: answer.status,
        });
    }
    Ok(answer.body)
}

/// Opens the sign-in `url` in the browser so that no other local user can take it.
///
/// The browser is handed a [`PrivatePage`](crate::browser::PrivatePage) (only its path goes in the opener's argv) that sends
/// it to a one-time address on a local listener: `http://127.0.0.1:PORT/SECRET`, the 128-bit
/// secret path written only inside the page. The first request for that path from this user
/// gets a page that sends the browser on to `url`. A request for it that cannot be shown to be
/// this user's (on Linux, from the kernel's socket tables when the connection is accepted:
/// another user's, or one closed at once) is refused and ends the sign-in with an error, as
/// does a second request for it. Waits up to 2 minutes for the browser, then deletes the page.
pub fn open_in_browser(url: &SecretString, browser: &Browser) -> Result<()> {
    let path = crate::credentials::random_secret(16).map_err(FederationError::Random)?;
    let (events, received) = std::sync::mpsc::channel();
    let redirect = Redirect {
        path: SecretString::from(format!("/{}", path.expose_secret())),
        page: Mutex::new(Some(signin_page(url, events.clone()))),
        events: Mutex::new(events),
    };
    let listener = Listener::start(
        "sign-in redirect",
        Box::new(move |request, peer| redirect.answer(request, peer)),
        None,
        true,
    )?;
    let local = SecretString::from(format!(
        "http://127.0.0.1:{}/{}",
        listener.port(),
        path.expose_secret()
    ));
    let (_page, mut opener) = browser.open_privately(&local)?;
    let deadline = Instant::now() + BROWSER_WAIT;
    let _spinner =
        crate::spinner::Spinner::start("waiting for the browser to open the sign-in page");
    loop {
        match received.recv_timeout(Duration::from_millis(100)) {
            Ok(Event::Sent) => break,
            Ok(event) => return Err(event.error()),
            Err(RecvTimeoutError::Timeout) => {
                if let Some(e) = opener.failure() {
                    return Err(e.into());
                }
                if Instant::now() >= deadline {
                    return Err(FederationError::NoBrowser);
                }
            }
            Err(RecvTimeoutError::Disconnected) => return Err(FederationError::Stopped),
        }
    }
    // Sent to this user; anything else already seen for the path means someone else had it too.
    match received.try_iter().find(|e| !matches!(e, Event::Sent)) {
        Some(event) => Err(event.error()),
        None => Ok(()),
    }
}

/// What happened to the one-time path.
enum Event {
    /// The sign-in page was written in full to this user's connection.
    Sent,
    /// A request for it came from another user, or from a connection whose owner could not be
    /// found ([`PeerUser::Unknown`]).
    Stolen(PeerUser),
    /// A request for it came after the sign-in page was handed out.
    Again,
}

impl Event {
    fn error(&self) -> FederationError {
        match self {
            Event::Stolen(user) => FederationError::Stolen(*user),
            Event::Again | Event::Sent => FederationError::Again,
        }
    }
}

/// The one-time redirect's handler.
struct Redirect {
    path: SecretString,
    /// Taken by the first rightful request: the page is handed out once.
    page: Mutex<Option<Payload>>,
    events: Mutex<Sender<Event>>,
}

impl Redirect {
    fn answer(&self, request: &Request<()>, peer: &Peer) -> Response<Body> {
        let asked = request.uri().path().as_bytes();
        if !bool::from(asked.ct_eq(self.path.expose_secret().as_bytes())) {
            return listener::refuse(StatusCode::NOT_FOUND, "unknown path");
        }
        let send = |event| listener::report(&self.events, event);
        if let user @ (PeerUser::Other(_) | PeerUser::Unknown) = peer.user() {
            // Nobody gets the page after that, not even this user's browser: the sign-in failed.
            drop(self.page.lock().unwrap_or_else(|e| e.into_inner()).take());
            send(Event::Stolen(user));
            return listener::refuse(
                StatusCode::FORBIDDEN,
                "sign-in link asked for by another user",
            );
        }
        if request.method() != Method::GET {
            return listener::refuse(StatusCode::METHOD_NOT_ALLOWED, "method other than GET");
        }
        match self.page.lock().unwrap_or_else(|e| e.into_inner()).take() {
            Some(page) => {
                let mut response =
                    listener::respond(StatusCode::OK, "text/html; charset=utf-8", page);
                let headers = response.headers_mut();
                headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
                headers.insert(CONNECTION, HeaderValue::from_static("close"));
                response
            }
            None => {
                send(Event::Again);
                listener::refuse(StatusCode::GONE, "sign-in link already used")
            }
        }
    }
}

/// The page that sends the browser to the sign-in URL; says [`Event::Sent`] once written.
fn signin_page(url: &SecretString, events: Sender<Event>) -> Payload {
    let mut page = browser::redirect_page(url);
    let bytes = Zeroizing::new(std::mem::take(&mut *page).into_bytes());
    Payload::new(bytes).on_sent(move || {
        let _ = events.send(Event::Sent);
    })
}
