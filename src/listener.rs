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

use std::collections::{BTreeMap, VecDeque};
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::{Buf, Incoming};
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE, HOST};
use hyper::{Request, Response, StatusCode};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

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
    ) -> Result<Listener> {
        let fail = |e: std::io::Error| Error::new(format!("cannot open the {name}: {e}"));
        let socket = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(fail)?;
        socket.set_nonblocking(true).map_err(fail)?;
        let port = socket.local_addr().map_err(fail)?.port();
        let runtime = runtime()?;
        let shared = Arc::new(Shared {
            name,
            handler,
            reports,
            identify,
            tally: Mutex::new(Tally::default()),
            open: Mutex::new(VecDeque::new()),
            freed: tokio::sync::Notify::new(),
            next_id: AtomicU64::new(0),
        });
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

/// A current-thread tokio runtime with I/O and timers: the one way broker builds one for
/// local HTTP work.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    crate::aws::runtime().map_err(|e| Error::new(format!("cannot start an async runtime: {e}")))
}

/// Who is on the other end of a connection.
#[derive(Debug, Clone, Copy)]
pub struct Peer {
    /// The user behind it, looked up when the connection was accepted (a listener started
    /// with `identify`; [`PeerUser::Untold`] otherwise).
    user: PeerUser,
}

/// The user behind a peer, as far as the system tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub enum PeerUser {
    /// The user broker runs as.
    Own,
    /// Another user, by uid.
    Other(u32),
    /// Not found: the client's socket was no longer open, with an owner, when its connection
    /// was accepted (closed or reset at once). It cannot be shown to be this user's.
    Unknown,
    /// This system does not say who owns a socket (macOS, Windows), or the listener did not
    /// ask.
    Untold,
}

impl PeerUser {
    /// Who a connection that is not this user's was, for messages.
    pub fn who(self) -> String {
        match self {
            PeerUser::Other(uid) => format!("another local user (uid {uid})"),
            PeerUser::Unknown => {
                "a local connection whose owner could not be found (it closed at once)".into()
            }
            PeerUser::Own | PeerUser::Untold => "a local connection".into(),
        }
    }
}

impl Peer {
    /// Which user owns the client's socket, as looked up when the connection was accepted.
    pub fn user(&self) -> PeerUser {
        self.user
    }
}

/// The owner of the client socket at `client`, connected to `server`: on Linux from the
/// kernel's socket tables (`/proc/net/tcp`), where only a live socket (established, with an
/// inode) counts; a socket closed or reset by then has no owner left to show.
fn identify(client: SocketAddr, server: SocketAddr) -> PeerUser {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: geteuid cannot fail and touches nothing.
        let own = unsafe { libc::geteuid() };
        match socket_owner(client, server) {
            Some(uid) if uid == own => PeerUser::Own,
            Some(uid) => PeerUser::Other(uid),
            None => PeerUser::Unknown,
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (client, server);
        PeerUser::Untold
    }
}

/// A response body in memory, zeroed when dropped, that can say when it has been handed to the
/// kernel in full. Hyper is told to queue bodies (`writev`), never to copy them into its own
/// buffers, so this is the only copy broker keeps.
pub struct Payload {
    bytes: Zeroizing<Vec<u8>>,
    at: usize,
    on_sent: Option<Box<dyn FnOnce() + Send>>,
}

impl Payload {
    pub fn new(bytes: Zeroizing<Vec<u8>>) -> Payload {
        Payload {
            bytes,
            at: 0,
            on_sent: None,
        }
    }

    /// Calls `f` once the last byte has been written to the connection.
    pub fn on_sent(mut self, f: impl FnOnce() + Send + 'static) -> Payload {
        self.on_sent = Some(Box::new(f));
        self
    }
}

impl Buf for Payload {
    fn remaining(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn chunk(&self) -> &[u8] {
        &self.bytes[self.at..]
    }

    fn advance(&mut self, n: usize) {
        self.at = (self.at + n).min(self.bytes.len());
        if self.at == self.bytes.len() {
            if let Some(f) = self.on_sent.take() {
                f();
            }
        }
    }
}

/// Builds a [`Payload`] without leaving copies behind: growing moves the bytes to a larger
/// buffer and zeroes the old one.
#[derive(Default)]
pub struct PayloadWriter(Zeroizing<Vec<u8>>);

impl PayloadWriter {
    pub fn with_capacity(capacity: usize) -> PayloadWriter {
        PayloadWriter(Zeroizing::new(Vec::with_capacity(capacity)))
    }

    pub fn into_payload(self) -> Payload {
        Payload::new(self.0)
    }

    fn push(&mut self, data: &[u8]) {
        if self.0.capacity() - self.0.len() < data.len() {
            let wanted = (self.0.len() + data.len()).max(2 * self.0.capacity());
            let mut bigger = Zeroizing::new(Vec::with_capacity(wanted));
            bigger.extend_from_slice(&self.0);
            // The old buffer is zeroed as it drops.
            self.0 = bigger;
        }
        self.0.extend_from_slice(data);
    }
}

impl std::io::Write for PayloadWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.push(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl std::fmt::Write for PayloadWriter {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.push(s.as_bytes());
        Ok(())
    }
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

/// `127.0.0.1:PORT`, `localhost`, `[::1]:PORT`… but never a name that could resolve elsewhere.
pub fn loopback_host(host: Option<&HeaderValue>) -> bool {
    let Some(host) = host.and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let name = if let Some(rest) = host.strip_prefix('[') {
        match rest.split_once(']') {
            Some((inside, tail)) if tail.is_empty() || tail.starts_with(':') => inside,
            _ => return false,
        }
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            Some(_) => return false,
            None => host,
        }
    };
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The listener's own checks of a request, before any handler sees it.
fn check(request: &Request<()>) -> Option<(StatusCode, &'static str)> {
    let uri = request.uri();
    // Only origin-form (`GET /path`): an absolute-form target names a host of its own, which a
    // handler could be fooled into trusting instead of `Host`.
    if uri.scheme().is_some() || uri.authority().is_some() || !uri.path().starts_with('/') {
        return Some((StatusCode::BAD_REQUEST, "request target not in origin form"));
    }
    let mut hosts = request.headers().get_all(HOST).iter();
    let host = hosts.next();
    if host.is_none() || hosts.next().is_some() {
        return Some((StatusCode::BAD_REQUEST, "missing or repeated Host header"));
    }
    if !loopback_host(host) {
        return Some((StatusCode::FORBIDDEN, "Host header not a loopback address"));
    }
    None
}

struct Shared {
    name: &'static str,
    handler: Box<Handler>,
    reports: Option<Box<Reports>>,
    /// Whether each connection's owner is looked up as it is accepted.
    identify: bool,
    tally: Mutex<Tally>,
    /// The open connections, oldest first.
    open: Mutex<VecDeque<Arc<Slot>>>,
    /// Signalled whenever a connection closes.
    freed: tokio::sync::Notify,
    next_id: AtomicU64,
}

/// Refusals not yet reported.
#[derive(Default)]
struct Tally {
    last_report: Option<Instant>,
    counts: BTreeMap<&'static str, u64>,
    flush_scheduled: bool,
}

/// What to do after counting a refusal.
#[derive(Debug, PartialEq)]
enum Due {
    Now(String),
    At(Instant),
    Later,
}

impl Shared {
    fn tally(&self) -> std::sync::MutexGuard<'_, Tally> {
        self.tally.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn open(&self) -> std::sync::MutexGuard<'_, VecDeque<Arc<Slot>>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts a refusal: the first of a burst is reported at once, the rest together after
    /// [`REPORT_INTERVAL`].
    fn count(&self, why: &'static str, now: Instant) -> Due {
        let mut tally = self.tally();
        *tally.counts.entry(why).or_default() += 1;
        match tally.last_report {
            Some(last) if now.duration_since(last) < REPORT_INTERVAL => {
                if tally.flush_scheduled {
                    Due::Later
                } else {
                    tally.flush_scheduled = true;
                    Due::At(last + REPORT_INTERVAL)
                }
            }
            _ => {
                drop(tally);
                self.take_report(now).map_or(Due::Later, Due::Now)
            }
        }
    }

    /// The report of every refusal counted and not yet reported.
    fn take_report(&self, now: Instant) -> Option<String> {
        let mut tally = self.tally();
        tally.flush_scheduled = false;
        if tally.counts.is_empty() {
            return None;
        }
        tally.last_report = Some(now);
        let counts = std::mem::take(&mut tally.counts);
        let list: Vec<String> = counts
            .iter()
            .map(|(why, n)| format!("{why} ({n})"))
            .collect();
        Some(format!("{} refused: {}", self.name, list.join(", ")))
    }

    fn report(&self, report: &str) {
        crate::output::verbose(report);
        if let Some(reports) = &self.reports {
            reports(report);
        }
    }
}

/// Counts a refusal and reports it when due, off the accepting thread (reports write files).
fn refused(shared: &Arc<Shared>, why: &'static str) {
    match shared.count(why, Instant::now()) {
        Due::Now(report) => {
            let shared = shared.clone();
            tokio::task::spawn_blocking(move || shared.report(&report));
        }
        Due::At(when) => {
            let shared = shared.clone();
            tokio::spawn(async move {
                tokio::time::sleep_until(when.into()).await;
                if let Some(report) = shared.take_report(Instant::now()) {
                    let _ = tokio::task::spawn_blocking(move || shared.report(&report)).await;
                }
            });
        }
        Due::Later => {}
    }
}

/// One open connection.
struct Slot {
    id: u64,
    state: Mutex<SlotState>,
    evict: tokio::sync::Notify,
}

struct SlotState {
    /// Requests being answered.
    busy: usize,
    /// Whether a request came at all.
    asked: bool,
    /// Since when no request has kept the connection busy.
    idle_since: Instant,
    evicted: bool,
}

impl Slot {
    fn state(&self) -> std::sync::MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// When the connection will have been idle too long, if nothing happens until then.
    fn idle_deadline(&self) -> Instant {
        let state = self.state();
        if state.busy > 0 {
            Instant::now() + IDLE_TIMEOUT
        } else {
            state.idle_since + IDLE_TIMEOUT
        }
    }
}

/// Marks a connection busy while a request is answered.
struct Busy(Arc<Slot>);

impl Busy {
    fn start(slot: &Arc<Slot>) -> Busy {
        let mut state = slot.state();
        state.busy += 1;
        state.asked = true;
        drop(state);
        Busy(slot.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let mut state = self.0.state();
        state.busy -= 1;
        state.idle_since = Instant::now();
    }
}

/// Removes a connection from the open list when its task ends, however it ends.
struct Registered(Arc<Shared>, u64);

impl Drop for Registered {
    fn drop(&mut self) {
        self.0.open().retain(|slot| slot.id != self.1);
        self.0.freed.notify_one();
    }
}

async fn accept_loop(
    socket: std::net::TcpListener,
    shared: Arc<Shared>,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(socket) else {
        return;
    };
    let mut backoff = ACCEPT_BACKOFF.0;
    loop {
        // Room for one more before accepting: when full, close the oldest connection that no
        // request keeps busy (if every one is busy, wait for one to end).
        while shared.open().len() >= MAX_CONNECTIONS {
            let victim = shared.open().iter().find_map(|slot| {
                let mut state = slot.state();
                (state.busy == 0 && !state.evicted).then(|| {
                    state.evicted = true;
                    slot.clone()
                })
            });
            if let Some(slot) = victim {
                slot.evict.notify_one();
                refused(&shared, "connection closed at the connection cap");
            }
            tokio::select! {
                _ = &mut stopped => return,
                _ = shared.freed.notified() => {}
            }
        }
        let accepted = tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, addr)) => {
                backoff = ACCEPT_BACKOFF.0;
                let Ok(local) = stream.local_addr() else {
                    continue;
                };
                // Now, while the client's socket is there: one closed or reset before its
                // request is read must not pass for someone else's, or for nobody's.
                let user = if shared.identify {
                    identify(addr, local)
                } else {
                    PeerUser::Untold
                };
                let slot = Arc::new(Slot {
                    id: shared.next_id.fetch_add(1, Ordering::Relaxed),
                    state: Mutex::new(SlotState {
                        busy: 0,
                        asked: false,
                        idle_since: Instant::now(),
                        evicted: false,
                    }),
                    evict: tokio::sync::Notify::new(),
                });
                shared.open().push_back(slot.clone());
                let registered = Registered(shared.clone(), slot.id);
                tokio::spawn(connection(
                    shared.clone(),
                    slot,
                    stream,
                    Peer { user },
                    registered,
                ));
            }
            // The client gave up before we took it: nothing wrong here.
            Err(e) if is_per_connection(&e) => {}
            // Out of file descriptors or memory: the connection stays queued, so trying again at
            // once would spin. Pause and let connections close.
            Err(_) => {
                refused(&shared, "accept failed: out of file descriptors or memory");
                tokio::select! {
                    _ = &mut stopped => return,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(ACCEPT_BACKOFF.1);
            }
        }
    }
}

fn is_per_connection(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | Interrupted | WouldBlock
    )
}

/// Serves one connection until it closes, times out, idles too long or is evicted.
async fn connection(
    shared: Arc<Shared>,
    slot: Arc<Slot>,
    stream: tokio::net::TcpStream,
    peer: Peer,
    _registered: Registered,
) {
    let service = {
        let (shared, slot) = (shared.clone(), slot.clone());
        hyper::service::service_fn(move |request| {
            answer(shared.clone(), slot.clone(), peer, request)
        })
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .writev(true)
        .max_buf_size(MAX_BUF)
        .max_headers(MAX_HEADERS);
    let conn = builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
    tokio::pin!(conn);
    let why = loop {
        let deadline = slot.idle_deadline();
        tokio::select! {
            ended = conn.as_mut() => break match ended {
                Err(e) if e.is_timeout() => Some("no request within the header timeout"),
                _ => None,
            },
            _ = slot.evict.notified() => break None,
            _ = tokio::time::sleep_until(deadline.into()) => {
                let state = slot.state();
                if state.busy == 0 && state.idle_since + IDLE_TIMEOUT <= Instant::now() {
                    break Some("connection idle too long");
                }
            }
        }
    };
    // A kept-alive client that goes quiet is normal; a connection that never asked is not.
    if let Some(why) = why.filter(|_| !slot.state().asked) {
        refused(&shared, why);
    }
}

async fn answer(
    shared: Arc<Shared>,
    slot: Arc<Slot>,
    peer: Peer,
    request: Request<Incoming>,
) -> std::result::Result<Response<Body>, Infallible> {
    let _busy = Busy::start(&slot);
    // No handler reads a body; dropping it unread makes hyper close the connection after.
    let (parts, _) = request.into_parts();
    let request = Request::from_parts(parts, ());
    if let Some((status, why)) = check(&request) {
        refused(&shared, why);
        return Ok(refuse(status, why));
    }
    let handling = shared.clone();
    let response = tokio::task::spawn_blocking(move || (handling.handler)(&request, &peer))
        .await
        .unwrap_or_else(|_| error(StatusCode::INTERNAL_SERVER_ERROR, "broker failed to answer"));
    if let Some(Refused(why)) = response.extensions().get::<Refused>().copied() {
        refused(&shared, why);
    }
    Ok(response)
}

/// The uid owning the client socket `client` connected to `server`, from the kernel's socket
/// tables. Every user can read them; they list each socket's owner.
#[cfg(target_os = "linux")]
fn socket_owner(client: SocketAddr, server: SocketAddr) -> Option<u32> {
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .find_map(|table| {
            let text = std::fs::read_to_string(table).ok()?;
            owner_in_table(&text, client, server)
        })
}

/// Finds the live socket whose local end is `client` and remote end is `server` in the text of
/// `/proc/net/tcp` or `/proc/net/tcp6`, and returns its uid. Live: established (`01`) and
/// open in a process (a non-zero inode); the kernel shows a closed socket that lingers
/// (TIME_WAIT, an orphan in FIN_WAIT) as owned by uid 0 or without an inode.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn owner_in_table(table: &str, client: SocketAddr, server: SocketAddr) -> Option<u32> {
    const ESTABLISHED: &str = "01";
    table.lines().skip(1).find_map(|line| {
        // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout
        // inode …
        let fields: Vec<&str> = line.split_whitespace().collect();
        let local = table_address(fields.get(1)?)?;
        let remote = table_address(fields.get(2)?)?;
        let live = *fields.get(3)? == ESTABLISHED && *fields.get(9)? != "0";
        if local == client && remote == server && live {
            fields.get(7)?.parse().ok()
        } else {
            None
        }
    })
}

/// `0100007F:1F90` (IPv4) or 32 hex digits and a port (IPv6; v4-mapped addresses become
/// IPv4). The kernel prints each 32-bit word of the address as a number in host byte order.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn table_address(field: &str) -> Option<SocketAddr> {
    let (ip, port) = field.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let mut bytes = Vec::with_capacity(16);
    for i in (0..ip.len()).step_by(8) {
        let word = u32::from_str_radix(ip.get(i..i + 8)?, 16).ok()?;
        bytes.extend_from_slice(&word.to_ne_bytes());
    }
    let ip = match bytes.len() {
        4 => IpAddr::from(<[u8; 4]>::try_from(bytes).ok()?),
        16 => {
            let v6 = std::net::Ipv6Addr::from(<[u8; 16]>::try_from(bytes).ok()?);
            v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4)
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_hosts_pass() {
        let ok = |h: &str| loopback_host(Some(&HeaderValue::from_str(h).unwrap()));
        for good in [
            "127.0.0.1:8080",
            "127.0.0.1",
            "localhost:1",
            "LOCALHOST",
            "[::1]:9",
            "127.1.2.3:5",
        ] {
            assert!(ok(good), "{good}");
        }
        for bad in [
            "evil.com",
            "evil.com:80",
            "127.0.0.1.evil.com",
            "10.0.0.1:80",
            "[::2]:1",
            "localhost.evil:1",
            "",
            "[::1]x",
        ] {
            assert!(!ok(bad), "{bad}");
        }
        assert!(!loopback_host(None));
    }

    fn request(target: &str, hosts: &[&str]) -> Request<()> {
        let mut builder = Request::builder().uri(target);
        for host in hosts {
            builder = builder.header(HOST, *host);
        }
        builder.body(()).unwrap()
    }

    #[test]
    fn only_origin_form_with_one_loopback_host_passes_the_checks() {
        assert_eq!(check(&request("/", &["127.0.0.1:1"])), None);
        assert_eq!(check(&request("/x?y=1", &["localhost"])), None);
        let status = |r: Request<()>| check(&r).map(|(s, _)| s.as_u16());
        assert_eq!(
            status(request("http://127.0.0.1:1/", &["127.0.0.1:1"])),
            Some(400)
        );
        assert_eq!(status(request("127.0.0.1:1", &["127.0.0.1:1"])), Some(400));
        assert_eq!(status(request("*", &["127.0.0.1:1"])), Some(400));
        assert_eq!(status(request("/", &[])), Some(400));
        assert_eq!(
            status(request("/", &["127.0.0.1:1", "127.0.0.1:1"])),
            Some(400)
        );
        assert_eq!(status(request("/", &["evil.example"])), Some(403));
    }

    fn shared() -> Shared {
        Shared {
            name: "test listener",
            handler: Box::new(|_, _| error(StatusCode::OK, "")),
            reports: None,
            identify: false,
            tally: Mutex::new(Tally::default()),
            open: Mutex::new(VecDeque::new()),
            freed: tokio::sync::Notify::new(),
            next_id: AtomicU64::new(0),
        }
    }

    #[test]
    fn refusals_are_reported_at_once_then_once_per_interval() {
        let s = shared();
        let t0 = Instant::now();
        assert_eq!(
            s.count("a", t0),
            Due::Now("test listener refused: a (1)".into())
        );
        assert_eq!(s.count("a", t0), Due::At(t0 + REPORT_INTERVAL));
        for _ in 0..97 {
            assert_eq!(s.count("b", t0), Due::Later);
        }
        assert_eq!(s.count("a", t0), Due::Later);
        assert_eq!(
            s.take_report(t0 + REPORT_INTERVAL).as_deref(),
            Some("test listener refused: a (2), b (97)")
        );
        assert_eq!(s.take_report(t0 + REPORT_INTERVAL), None);
        let later = t0 + 3 * REPORT_INTERVAL;
        assert!(matches!(s.count("c", later), Due::Now(_)));
    }

    #[test]
    fn payloads_tell_when_sent_in_full() {
        let sent = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = sent.clone();
        let mut payload = Payload::new(Zeroizing::new(b"secret".to_vec()))
            .on_sent(move || flag.store(true, Ordering::SeqCst));
        assert_eq!(payload.chunk(), b"secret");
        payload.advance(3);
        assert!(!sent.load(Ordering::SeqCst));
        assert_eq!(payload.chunk(), b"ret");
        payload.advance(3);
        assert!(sent.load(Ordering::SeqCst));
        assert_eq!(payload.remaining(), 0);
    }

    #[test]
    fn the_payload_writer_keeps_everything_across_growth() {
        use std::io::Write;
        let mut w = PayloadWriter::with_capacity(2);
        for _ in 0..100 {
            w.write_all(b"0123456789").unwrap();
        }
        let payload = w.into_payload();
        assert_eq!(payload.remaining(), 1000);
        assert!(payload.chunk().starts_with(b"01234567890123"));
    }

    #[cfg(target_endian = "little")]
    #[test]
    fn socket_tables_are_read() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
           0: 0100007F:9C40 0100007F:1F90 01 00000000:00000000 00:00000000 00000000 65534        0 1 1 ffff 20 4 0 10 -1\n\
           1: 0100007F:1F90 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 2 1 ffff 20 4 0 10 -1\n";
        let client: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        let server: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        assert_eq!(owner_in_table(table, client, server), Some(65534));
        assert_eq!(owner_in_table(table, server, client), Some(0));
        assert_eq!(
            owner_in_table(table, "127.0.0.1:1".parse().unwrap(), server),
            None
        );
        // Closed sockets that linger: in TIME_WAIT (shown as uid 0), an orphan without inode.
        let lingering = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
           0: 0100007F:9C40 0100007F:1F90 06 00000000:00000000 03:00001000 00000000     0        0 0 3 ffff\n\
           1: 0100007F:9C41 0100007F:1F90 05 00000000:00000000 00:00000000 00000000 65534        0 0 1 ffff\n";
        assert_eq!(owner_in_table(lingering, client, server), None);
        let other: SocketAddr = "127.0.0.1:40001".parse().unwrap();
        assert_eq!(owner_in_table(lingering, other, server), None);
        let v6 = "0000000000000000FFFF00000100007F:1F90";
        assert_eq!(table_address(v6), Some(server));
        assert_eq!(table_address("zz:1"), None);
        assert_eq!(table_address("0100007F"), None);
    }
}
