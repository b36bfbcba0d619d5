//! Console sign-in: exchanges temporary credentials for a sign-in token at the federation
//! endpoint (`BROKER_FEDERATION_URL`, default AWS's), and builds the login URL.
//!
//! The credentials travel only in the HTTPS request to the federation endpoint; the login URL
//! holds the short-lived sign-in token, which is printed only with `--stdout` and otherwise
//! reaches the browser through a one-time local redirect, never through a process's argv.

use std::io::{BufRead, BufReader, Write};
use std::time::Duration;

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::credentials::Credentials;
use crate::error::{Error, Result};

pub const DEFAULT_URL: &str = "https://signin.aws.amazon.com/federation";
const TIMEOUT: Duration = Duration::from_secs(20);
/// How long `login` waits for the browser to follow the local redirect.
const BROWSER_WAIT: Duration = Duration::from_secs(120);

/// The federation endpoint: `BROKER_FEDERATION_URL` (given), else AWS's.
pub fn endpoint(given: Option<&str>) -> Result<Url> {
    let text = given.unwrap_or(DEFAULT_URL);
    Url::parse(text)
        .map_err(|e| Error::new(format!("BROKER_FEDERATION_URL `{text}` is not a URL: {e}")))
}

/// The console home of `region`.
pub fn console_destination(region: &str) -> String {
    format!("https://{region}.console.aws.amazon.com/console/home?region={region}")
}

/// getSigninToken, then the login URL for `destination`.
pub fn signin_url(
    base: &Url,
    credentials: &Credentials,
    session_duration: Option<Duration>,
    destination: &str,
) -> Result<SecretString> {
    let token = credentials.session_token.as_ref().ok_or_else(|| {
        Error::new("console sign-in needs temporary credentials (a role or a federation token)")
    })?;
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
    let body = get(&SecretString::from(request.to_string()))?;
    let parsed: serde_json::Value = serde_json::from_slice(&body).map_err(|_| {
        Error::new(format!(
            "the federation endpoint {base} did not answer with JSON"
        ))
    })?;
    let signin = parsed["SigninToken"].as_str().ok_or_else(|| {
        Error::new(format!(
            "the federation endpoint {base} returned no SigninToken"
        ))
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

/// One HTTP(S) GET, bounded in time; the body of a 200 answer.
fn get(url: &SecretString) -> Result<Vec<u8>> {
    let runtime = crate::aws::runtime()
        .map_err(|e| Error::new(format!("cannot start the HTTP client: {e}")))?;
    let uri: hyper::Uri = url
        .expose_secret()
        .parse()
        .map_err(|_| Error::new("the federation URL is not a valid URI"))?;
    let host = uri.host().unwrap_or_default().to_string();
    let fail = |why: String| {
        Error::new(format!("the federation endpoint {host} failed: {why}"))
            .with_hint("check BROKER_FEDERATION_URL and the network")
    };
    runtime.block_on(async {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(|e| fail(format!("no TLS roots: {e}")))?
            .https_or_http()
            .enable_http1()
            .build();
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build::<_, Empty<Bytes>>(https);
        let response = tokio::time::timeout(TIMEOUT, client.get(uri))
            .await
            .map_err(|_| fail(format!("no answer within {}s", TIMEOUT.as_secs())))?
            .map_err(|e| fail(e.to_string()))?;
        let status = response.status();
        let body = tokio::time::timeout(TIMEOUT, response.into_body().collect())
            .await
            .map_err(|_| fail("the answer stalled".into()))?
            .map_err(|e| fail(e.to_string()))?
            .to_bytes();
        if !status.is_success() {
            return Err(fail(format!("HTTP {}", status.as_u16())));
        }
        Ok(body.to_vec())
    })
}

/// Opens `url` in the browser without putting it in any argv: the opener gets a one-time
/// local address that redirects to it, and broker waits for the browser to follow it.
pub fn open_in_browser(url: &SecretString) -> Result<()> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| Error::new(format!("cannot open the local redirect: {e}")))?;
    let port = listener
        .local_addr()
        .map_err(|e| Error::new(format!("cannot open the local redirect: {e}")))?
        .port();
    let mut secret = [0u8; 16];
    getrandom::getrandom(&mut secret).map_err(|e| Error::new(format!("no randomness: {e}")))?;
    let path: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    let local = format!("http://127.0.0.1:{port}/{path}");
    let opener = if cfg!(target_os = "macos") {
        vec!["open".to_string(), local]
    } else if cfg!(windows) {
        vec![
            "cmd".into(),
            "/C".into(),
            "start".into(),
            String::new(),
            local,
        ]
    } else {
        vec!["xdg-open".to_string(), local]
    };
    // Not waited for before serving: some openers only return once the page has loaded.
    let mut child = crate::process::command(&opener[0])
        .args(&opener[1..])
        .stdin(std::process::Stdio::null())
        .spawn()
        .map_err(|e| {
            Error::new(format!("cannot start {}: {e}", opener[0]))
                .with_hint("use `broker login --stdout` and open the URL yourself")
        })?;
    let served = serve_redirect(listener, &path, url, &mut child);
    // Reap it if it is done; a browser it started in the foreground may run on.
    let _ = child.try_wait();
    served
}

/// Answers requests on `listener` until one asks for `/path`, which gets a 302 to `url`.
fn serve_redirect(
    listener: std::net::TcpListener,
    path: &str,
    url: &SecretString,
    opener: &mut std::process::Child,
) -> Result<()> {
    let deadline = std::time::Instant::now() + BROWSER_WAIT;
    listener
        .set_nonblocking(true)
        .map_err(|e| Error::new(format!("local redirect: {e}")))?;
    while std::time::Instant::now() < deadline {
        let (mut stream, _) = match listener.accept() {
            Ok(conn) => conn,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if let Ok(Some(status)) = opener.try_wait() {
                    if !status.success() {
                        return Err(
                            Error::new(format!("the browser opener failed with {status}"))
                                .with_hint("use `broker login --stdout` and open the URL yourself"),
                        );
                    }
                }
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
            Err(e) => return Err(Error::new(format!("local redirect: {e}"))),
        };
        let _ = stream.set_nonblocking(false);
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let mut line = String::new();
        let _ = BufReader::new(&stream).read_line(&mut line);
        let wanted = format!("GET /{path} ");
        if line.starts_with(&wanted) {
            let _ = write!(
                stream,
                "HTTP/1.1 302 Found\r\nLocation: {}\r\nCache-Control: no-store\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                url.expose_secret()
            );
            return Ok(());
        }
        let _ = stream
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    }
    Err(
        Error::new("the browser did not open the sign-in link within 2 minutes")
            .with_hint("use `broker login --stdout` and open the URL yourself"),
    )
}
