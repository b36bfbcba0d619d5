//! The one loopback HTTP/1 server under every local listener of broker: the `exec --server`
//! credentials endpoint, the console sign-in redirect, and any other page a child or a browser
//! must fetch from 127.0.0.1. The listener checks and limits; a handler (a parameter) answers.
//!
//! Any local user can connect to 127.0.0.1, so the listener defends itself: it binds loopback
//! only, on a free port; holds at most [`MAX_CONNECTIONS`] connections (when full, the oldest one
//! that no request keeps busy is closed to make room, so idle connections cannot lock out the
//! rightful client); closes a connection that has not sent a request head within
//! [`HEADER_TIMEOUT`] (also between requests on a kept-alive connection) or that nothing has kept
//! busy for [`IDLE_TIMEOUT`]; pauses, never spins, when accepting fails (out of file
//! descriptors); answers 400 to absolute-form request targets and to a missing or repeated
//! `Host`, 403 to a `Host` that is not loopback (DNS rebinding). Refusals are reported in bursts,
//! at most one report per [`REPORT_INTERVAL`], so a flood cannot fill a disk. A listener that
//! must know who is calling (a sign-in's) has each connection's owner looked up as it is
//! accepted, while the client's socket is still there to be looked up ([`Peer::user`]).
//!
//! Response bodies live in [`Payload`]s, zeroed once dropped. Never logs a request target or a
//! header value: they may carry secrets.
//!
//! The jobs, one file each: [`serve`] (accepting, the limits, the checks of a request),
//! [`peer`] (who is calling), [`payload`] (response bodies).

mod payload;
mod peer;
mod serve;

use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use hyper::{Request, Response, StatusCode};

use zeroize::Zeroizing;

/// Why a listener could not start.
#[derive(Debug, thiserror::Error)]
pub enum ListenerError {
    #[error("cannot open the {name}: {source}")]
    Open {
        name: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start an async runtime: {0}")]
    Runtime(#[source] std::io::Error),
}

pub use payload::{Payload, PayloadWriter};
pub use peer::{Peer, PeerUser};
use serve::{accept_loop, Shared};

/// Connections held at once; more close the oldest idle one.
pub const MAX_CONNECTIONS: usize = 64;
/// How long a client has to send a request head, from connecting or from its previous answer.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a connection may stay open while no request keeps it busy, whatever it is doing.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(15);
/// At most one refusal report per this long; the first refusal is reported at once.
pub const REPORT_INTERVAL: Duration = Duration::from_secs(60);

/// Pauses after a failed accept, doubling up to the longest.
const ACCEPT_BACKOFF: (Duration, Duration) = (Duration::from_millis(10), Duration::from_secs(1));
/// How long stopping waits for a handler still at work (an STS call, a prompt).
const STOP_GRACE: Duration = Duration::from_secs(2);
/// A request head larger than this is refused by hyper (431); hyper's own minimum is 8 KiB.
const MAX_BUF: usize = 16 * 1024;
const MAX_HEADERS: usize = 64;

/// Answers one request that passed the listener's checks. Runs on a blocking thread, so it may
/// block (an STS call, an MFA prompt). The request body is never read.
pub type Handler = dyn Fn(&Request<()>, &Peer) -> Response<Body> + Send + Sync;

/// Receives a refusal report: one line naming the refusals and their counts.
pub type Reports = dyn Fn(&str) + Send + Sync;

/// A response body: a [`Payload`] sent whole.
pub type Body = Full<Payload>;

/// A running listener; dropping it stops it and closes every connection.
pub struct Listener {
    port: u16,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Listener {
    /// Binds a free port on 127.0.0.1 and serves from a thread of its own. `name` (like
    /// "credentials server") appears in errors and reports; `reports` gets the rate-limited
    /// refusal reports, which are also logged with `-v`. With `identify`, every connection's
    /// owner is looked up as it is accepted (see [`Peer::user`]).
    pub fn start(
        name: &'static str,
        handler: Box<Handler>,
        reports: Option<Box<Reports>>,
        identify: bool,
    ) -> Result<Listener, ListenerError> {
        let fail = |source| ListenerError::Open { name, source };
        let socket = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(fail)?;
        socket.set_nonblocking(true).map_err(fail)?;
        let port = socket.local_addr().map_err(fail)?.port();
        let runtime = runtime()?;
        let shared = Arc::new(Shared::new(name, handler, reports, identify));
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let thread = std::thread::Builder::new()
            .name(format!("broker {name}"))
            .spawn(move || {
                runtime.block_on(accept_loop(socket, shared.clone(), stopped));
                runtime.shutdown_timeout(STOP_GRACE);
                if let Some(report) = shared.take_report(Instant::now()) {
                    shared.report(&report);
                }
            })
            .map_err(fail)?;
        Ok(Listener {
            port,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reports `event` from a one-shot handler to the thread waiting for it; a waiter that has
/// given up already is not an error, and a poisoned lock still delivers.
pub fn report<T>(events: &Mutex<std::sync::mpsc::Sender<T>>, event: T) {
    let _ = events.lock().unwrap_or_else(|e| e.into_inner()).send(event);
}

/// A current-thread tokio runtime with I/O and timers, of a listener's own (it serves for the
/// listener's life; calls out go through [`crate::net`]'s).
fn runtime() -> Result<tokio::runtime::Runtime, ListenerError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ListenerError::Runtime)
}

/// A response with `payload` as its body, never to be cached.
pub fn respond(status: StatusCode, content_type: &'static str, payload: Payload) -> Response<Body> {
    let mut response = Response::new(Full::new(payload));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// An error answer: `{"code": …, "message": …}`.
pub fn error(status: StatusCode, message: &str) -> Response<Body> {
    let json = serde_json::json!({"code": status.as_u16(), "message": message}).to_string();
    respond(
        status,
        "application/json",
        Payload::new(Zeroizing::new(json.into_bytes())),
    )
}

/// A refusal: an error answer that the listener also counts and reports, as `why`.
pub fn refuse(status: StatusCode, why: &'static str) -> Response<Body> {
    let mut response = error(status, why);
    response.extensions_mut().insert(Refused(why));
    response
}

/// Marks a handler's answer as a refusal.
#[derive(Clone, Copy)]
struct Refused(&'static str);
