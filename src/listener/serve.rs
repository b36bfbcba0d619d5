//! Accepting and serving: the connection limit, the header and idle timeouts, the back-off on
//! accept errors, the checks of every request (origin-form target, one loopback `Host`), and
//! refusals reported in bursts.

use std::collections::{BTreeMap, VecDeque};
use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use hyper::body::Incoming;
use hyper::header::{HeaderValue, HOST};
use hyper::{Request, Response, StatusCode};

use super::peer::identify;
use super::*;

/// `127.0.0.1:PORT`, `localhost`, `[::1]:PORT`…, and the instance metadata service's own
/// addresses, which a user's redirect may send here (`169.254.169.254`, `[fd00:ec2::254]`): IP
/// literals, which no DNS rebinding can produce; never a name that could resolve elsewhere.
pub(super) fn loopback_host(host: Option<&HeaderValue>) -> bool {
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
    const METADATA: [IpAddr; 2] = [
        IpAddr::V4(std::net::Ipv4Addr::new(169, 254, 169, 254)),
        IpAddr::V6(std::net::Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)),
    ];
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback() || METADATA.contains(&ip))
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

pub(super) struct Shared {
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
    pub(super) fn new(
        name: &'static str,
        handler: Box<Handler>,
        reports: Option<Box<Reports>>,
        identify: bool,
    ) -> Shared {
        Shared {
            name,
            handler,
            reports,
            identify,
            tally: Mutex::new(Tally::default()),
            open: Mutex::new(VecDeque::new()),
            freed: tokio::sync::Notify::new(),
            next_id: AtomicU64::new(0),
        }
    }

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
    pub(super) fn take_report(&self, now: Instant) -> Option<String> {
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

    pub(super) fn report(&self, report: &str) {
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

pub(super) async fn accept_loop(
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
            "169.254.169.254",
            "[fd00:ec2::254]:80",
        ] {
            assert!(ok(good), "{good}");
        }
        for bad in [
            "evil.com",
            "evil.com:80",
            "127.0.0.1.evil.com",
            "10.0.0.1:80",
            "169.254.169.253",
            "169.254.169.254.evil.com",
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
}
