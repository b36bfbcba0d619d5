//! `exec --server`: a credentials endpoint on 127.0.0.1 speaking the ECS container-credentials
//! protocol, so a long job asks for fresh credentials instead of holding expiring ones.
//!
//! Answers only requests that carry the run's random token (compared in constant time) and a
//! loopback `Host` (against DNS rebinding); everything else gets 403 and no credentials. Lives
//! exactly as long as the child. Never logs a credential.

use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::Arc;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use secrecy::ExposeSecret;
use serde::Serialize;
use subtle::ConstantTimeEq;

use crate::credentials::Credentials;
use crate::error::{Error, Result};

/// Hands out credentials for one request; called on a blocking thread, one call at a time.
pub type Issue = dyn Fn() -> Result<Credentials> + Send + Sync;

/// A running server; dropping it stops it.
pub struct Server {
    pub url: String,
    pub token: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

struct State {
    token: String,
    issue: std::sync::Mutex<Box<Issue>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Body<'a> {
    access_key_id: &'a str,
    secret_access_key: &'a str,
    token: &'a str,
    expiration: String,
}

impl Server {
    /// Binds a free port on 127.0.0.1 and serves from a thread of its own.
    pub fn start(issue: Box<Issue>) -> Result<Server> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.set_nonblocking(true).map(|_| l))
            .map_err(|e| Error::new(format!("cannot open the credentials server: {e}")))?;
        let port = listener
            .local_addr()
            .map_err(|e| Error::new(format!("cannot open the credentials server: {e}")))?
            .port();
        let token = random_token()?;
        let state = Arc::new(State {
            token: token.clone(),
            issue: std::sync::Mutex::new(issue),
        });
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let runtime = crate::aws::runtime()
            .map_err(|e| Error::new(format!("cannot start the credentials server: {e}")))?;
        let thread = std::thread::spawn(move || runtime.block_on(serve(listener, state, stopped)));
        Ok(Server {
            url: format!("http://127.0.0.1:{port}/"),
            token,
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve(
    listener: std::net::TcpListener,
    state: Arc<State>,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    loop {
        let accepted = tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => accepted,
        };
        let Ok((stream, _)) = accepted else { continue };
        let state = state.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| handle(req, state.clone()));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(
    req: Request<Incoming>,
    state: Arc<State>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if !loopback_host(req.headers().get(hyper::header::HOST)) {
        crate::output::verbose("credentials server: refused a request with a foreign Host");
        return Ok(reply(
            StatusCode::FORBIDDEN,
            "forbidden: Host must be a loopback address",
        ));
    }
    let given = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if !bool::from(given.ct_eq(state.token.as_bytes())) {
        crate::output::verbose("credentials server: refused a request without the token");
        return Ok(reply(
            StatusCode::FORBIDDEN,
            "forbidden: wrong or missing token",
        ));
    }
    if req.method() != hyper::Method::GET {
        return Ok(reply(StatusCode::METHOD_NOT_ALLOWED, "use GET"));
    }
    let issued = tokio::task::spawn_blocking(move || {
        let issue = state.issue.lock().unwrap_or_else(|e| e.into_inner());
        issue()
    })
    .await;
    Ok(match issued {
        Ok(Ok(credentials)) => match body(&credentials) {
            Some(json) => Response::builder()
                .status(StatusCode::OK)
                .header(hyper::header::CONTENT_TYPE, "application/json")
                .body(Full::new(Bytes::from(json)))
                .expect("valid response"),
            None => reply(
                StatusCode::INTERNAL_SERVER_ERROR,
                "credentials without a session token",
            ),
        },
        Ok(Err(e)) => reply(StatusCode::INTERNAL_SERVER_ERROR, e.message()),
        Err(_) => reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            "broker failed to get credentials",
        ),
    })
}

fn body(c: &Credentials) -> Option<String> {
    let body = Body {
        access_key_id: &c.access_key_id,
        secret_access_key: c.secret_access_key.expose_secret(),
        token: c.session_token.as_ref()?.expose_secret(),
        expiration: c.expiration_rfc3339()?,
    };
    Some(serde_json::to_string(&body).expect("strings serialise"))
}

fn reply(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    let json = serde_json::json!({"code": status.as_u16(), "message": message}).to_string();
    Response::builder()
        .status(status)
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(json)))
        .expect("valid response")
}

/// `127.0.0.1:PORT`, `localhost`, `[::1]:PORT`… but never a name that could resolve elsewhere.
pub fn loopback_host(host: Option<&hyper::header::HeaderValue>) -> bool {
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

/// 256 random bits, hex-encoded.
fn random_token() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| Error::new(format!("no randomness for the server token: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

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

    #[test]
    fn tokens_are_fresh_and_long() {
        let (a, b) = (random_token().unwrap(), random_token().unwrap());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
    }
}
