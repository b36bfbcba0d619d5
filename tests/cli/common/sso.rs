#![allow(dead_code)] // shared helpers; not every test uses every one
//! The local stand-in of IAM Identity Center (tests/sso_server.py: the SSO OIDC and portal
//! APIs on a free loopback port) with a method per test hook, and the test browser that
//! `$BROWSER` points at (tests/sso_browser.py). No public mock implements these APIs, so this
//! one checks what the real service checks (PKCE, redirect URI, one-time codes,
//! the device-flow interval) and counts its calls.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

#[cfg(unix)]
use super::rig::venv;
use super::rig::Server;

pub struct Sso {
    _server: Server,
    pub port: u16,
}

/// One device-code CreateToken call, as the stand-in saw it.
#[derive(Debug, Clone)]
pub struct Poll {
    /// When it arrived, in seconds since the epoch.
    pub at: f64,
    /// Seconds since the stand-in answered the previous poll of the same device code; `None`
    /// for the first one.
    pub since_previous: Option<f64>,
    /// The interval the stand-in required before this poll (raised by every slow_down).
    pub required: f64,
    /// `token`, or the OAuth error it answered: `authorization_pending`, `slow_down`, ...
    pub answer: String,
    pub user_code: String,
}

/// An HTTP answer from the stand-in, for hooks and for playing the browser by hand.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One account/role assignment of the signed-in user.
#[derive(Debug, Clone)]
pub struct Assignment {
    pub account: String,
    pub role: String,
    pub name: String,
}

impl Sso {
    /// Starts the stand-in with the venv's Python (only the standard library is needed), with
    /// a clock of its own.
    pub fn start() -> Sso {
        Sso::start_with_clock(None)
    }

    /// Starts the stand-in on the clock of `env`'s brokers, so that both agree on the time
    /// when the test (or broker's wait for a device code) moves it.
    pub fn sharing_clock(env: &crate::common::TestEnv) -> Sso {
        Sso::start_with_clock(Some(&env.clock_file()))
    }

    fn start_with_clock(clock: Option<&Path>) -> Sso {
        let env: Vec<_> = clock
            .map(|c| ("BROKER_TEST_CLOCK", c.display().to_string()))
            .into_iter()
            .collect();
        let server = Server::start("sso_server.py", &env);
        Sso {
            port: server.port,
            _server: server,
        }
    }

    /// The base URL of both APIs (and of /authorize and /device).
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The environment that sends SSO OIDC and SSO portal clients here.
    pub fn endpoint_env(&self) -> [(&'static str, String); 2] {
        [
            ("AWS_ENDPOINT_URL_SSO_OIDC", self.endpoint()),
            ("AWS_ENDPOINT_URL_SSO", self.endpoint()),
        ]
    }

    /// How many calls of each operation arrived: RegisterClient, StartDeviceAuthorization,
    /// CreateToken, Authorize, DeviceVerify, GetRoleCredentials, ListAccounts,
    /// ListAccountRoles, Logout.
    pub fn counts(&self) -> BTreeMap<String, u64> {
        serde_json::from_value(self.hook("counts")).expect("counts JSON")
    }

    pub fn count(&self, op: &str) -> u64 {
        self.counts().get(op).copied().unwrap_or(0)
    }

    /// The parameters of every call of `op`, oldest first, by the model's member names
    /// (`accessToken` is the x-amz-sso_bearer_token header); Authorize and DeviceVerify by
    /// their query names. Secrets included.
    pub fn requests(&self, op: &str) -> Vec<BTreeMap<String, Value>> {
        let all: BTreeMap<String, Vec<BTreeMap<String, Value>>> =
            serde_json::from_value(self.hook("requests")).expect("requests JSON");
        all.get(op).cloned().unwrap_or_default()
    }

    /// Every device-code CreateToken call, oldest first.
    pub fn poll_times(&self) -> Vec<Poll> {
        let polls = self.hook("poll_times");
        polls
            .as_array()
            .expect("poll_times JSON")
            .iter()
            .map(|p| Poll {
                at: p["at"].as_f64().unwrap(),
                since_previous: p["since_previous"].as_f64(),
                required: p["required"].as_f64().unwrap(),
                answer: p["answer"].as_str().unwrap_or_default().to_string(),
                user_code: p["user_code"].as_str().unwrap_or_default().to_string(),
            })
            .collect()
    }

    /// Every secret the stand-in handed out: client secrets, codes, device codes, access and
    /// refresh tokens, role secret keys and session tokens.
    pub fn secrets(&self) -> Vec<String> {
        serde_json::from_value(self.hook("secrets")).expect("secrets JSON")
    }

    /// `expiresIn` of access tokens issued from now on (default 3600).
    pub fn set_token_lifetime(&self, seconds: u64) {
        self.hook(&format!("token_lifetime?seconds={seconds}"));
    }

    /// Lifetime of role credentials issued from now on (default 3600).
    pub fn set_credential_lifetime(&self, seconds: u64) {
        self.hook(&format!("credential_lifetime?seconds={seconds}"));
    }

    /// Lifetime of authorization codes issued from now on (default 300).
    pub fn set_code_lifetime(&self, seconds: u64) {
        self.hook(&format!("code_lifetime?seconds={seconds}"));
    }

    /// The device flow of authorizations started from now on: `interval` and `expiresIn`
    /// (defaults 1 and 600, as AWS answers), and what each slow_down adds to the interval the
    /// stand-in enforces (default 5, RFC 8628 §3.5; lower it only for a client that can).
    pub fn set_device_timing(&self, interval: u64, expires_in: u64, slow_down_increment: u64) {
        self.hook(&format!(
            "device_timing?interval={interval}&expires_in={expires_in}\
             &slow_down_increment={slow_down_increment}"
        ));
    }

    /// Page size of ListAccounts and ListAccountRoles (default 2).
    pub fn set_page_size(&self, n: u32) {
        self.hook(&format!("page_size?n={n}"));
    }

    /// The only startUrl (StartDeviceAuthorization) and issuerUrl (RegisterClient) accepted;
    /// by default any http(s) URL is.
    pub fn set_start_url(&self, url: &str) {
        self.hook(&format!("start_url?url={}", encode(url)));
    }

    /// Every refresh token issued so far stops working (CreateToken answers invalid_grant).
    pub fn revoke_refresh(&self) {
        self.hook("revoke_refresh");
    }

    /// Every access token issued so far expires now (the portal answers 401).
    pub fn expire_access(&self) {
        self.hook("expire_access");
    }

    /// Every client registration so far expires now (invalid_client).
    pub fn expire_clients(&self) {
        self.hook("expire_clients");
    }

    /// The next `times` sign-ins are refused: /authorize redirects with error=access_denied,
    /// and a device authorization visited at /device is denied (polls answer access_denied).
    pub fn deny_next(&self, times: u32) {
        self.hook(&format!("deny?times={times}"));
    }

    /// The next `times` polls of an approved device authorization still answer
    /// authorization_pending.
    pub fn pending_next(&self, times: u32) {
        self.hook(&format!("pending?times={times}"));
    }

    /// The next `times` device polls answer slow_down (raising the enforced interval each).
    pub fn slow_down_next(&self, times: u32) {
        self.hook(&format!("slow_down?times={times}"));
    }

    /// The next `times` /authorize redirects carry a state other than the one asked for (with
    /// a valid code), as a forged callback would.
    pub fn tamper_state_next(&self, times: u32) {
        self.hook(&format!("tamper_state?times={times}"));
    }

    /// Assigns `role` in `account` (named `name`) to the user.
    pub fn assign(&self, account: &str, role: &str, name: &str) {
        self.hook(&format!(
            "assign?account={}&role={}&name={}",
            encode(account),
            encode(role),
            encode(name)
        ));
    }

    pub fn unassign(&self, account: &str, role: &str) {
        self.hook(&format!(
            "unassign?account={}&role={}",
            encode(account),
            encode(role)
        ));
    }

    /// Replaces every assignment (the default is three accounts, five roles).
    pub fn set_assignments(&self, assignments: &[Assignment]) {
        let body: Vec<Value> = assignments
            .iter()
            .map(|a| serde_json::json!({"account": a.account, "role": a.role, "name": a.name}))
            .collect();
        let reply = self.request(
            "POST",
            "/_broker_test/assign",
            Some(&Value::Array(body).to_string()),
        );
        assert_eq!(reply.status, 200, "{}", reply.body);
    }

    /// Every client registration so far becomes unknown to the service (InvalidClientException),
    /// before its expiry.
    pub fn revoke_clients(&self) {
        self.hook("revoke_clients");
    }

    /// The portal APIs' quota: 429 TooManyRequestsException past `per_second` calls in a
    /// second (0: none); `counts()["Throttled"]` counts them.
    pub fn set_quota(&self, per_second: u32) {
        self.hook(&format!("quota?per_second={per_second}"));
    }

    /// Replaces the assignments with `accounts` accounts of `roles` roles each: ids from
    /// 100000000000, names `Account N`, roles `Role0`, `Role1`, ….
    pub fn generate(&self, accounts: u32, roles: u32) {
        self.hook(&format!("generate?accounts={accounts}&roles={roles}"));
    }

    /// Makes the next `times` calls of `op` fail with `mode`: 500 (an HTML 500), hang (no
    /// answer), garbage (200 with a body that is not JSON), throttle (429
    /// TooManyRequestsException).
    pub fn fail_next(&self, op: &str, mode: &str, times: u32) {
        self.hook(&format!("fail?op={op}&mode={mode}&times={times}"));
    }

    /// GETs a URL on the stand-in without following redirects, as a browser's first request:
    /// `visit(authorize_url).header("Location")` is where the user would be sent.
    pub fn visit(&self, url: &str) -> Reply {
        let prefix = self.endpoint();
        let path = url
            .strip_prefix(&prefix)
            .unwrap_or_else(|| panic!("{url} is not on the stand-in at {prefix}"));
        self.request("GET", path, None)
    }

    /// One HTTP/1.0 request to the stand-in.
    pub fn request(&self, method: &str, path: &str, body: Option<&str>) -> Reply {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let body = body.unwrap_or_default();
        write!(
            stream,
            "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut bytes = Vec::new();
        stream.read_to_end(&mut bytes).unwrap();
        let response = String::from_utf8_lossy(&bytes);
        let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&*response, ""));
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no HTTP answer from the stand-in: {response:?}"));
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        Reply {
            status,
            headers,
            body: body.to_string(),
        }
    }

    fn hook(&self, name: &str) -> Value {
        let reply = self.request("GET", &format!("/_broker_test/{name}"), None);
        assert_eq!(reply.status, 200, "hook {name}: {}", reply.body);
        serde_json::from_str(&reply.body).expect("hook answers JSON")
    }
}

/// Percent-encodes a query value.
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The test browser: `command` is what `$BROWSER` should be. It logs every argv it is given,
/// reads a private page (`file://`) it is given for the URL inside, and, unless inert, visits
/// that URL the way a signed-in user's browser would (following the authorize redirect to the
/// client's loopback callback, or opening a device verification URL).
///
/// Unix: tests/sso_browser.py behind a shell wrapper. Windows: broker-test-browser
/// (tests/helpers/test_browser.rs), which logs its arguments, and a thread of the test's that
/// reads the pages and makes the visits (see `windows` below); under Wine a Windows program
/// cannot run the venv's Python and wait for it.
pub struct TestBrowser {
    pub command: PathBuf,
    dir: PathBuf,
    #[cfg(windows)]
    _follower: windows::Follower,
}

impl TestBrowser {
    /// A browser in `dir` (which it writes to) that follows what it is given.
    pub fn new(dir: &Path) -> TestBrowser {
        TestBrowser::write(dir, "follow")
    }

    /// A browser that only logs its argv: nobody signs in.
    pub fn inert(dir: &Path) -> TestBrowser {
        TestBrowser::write(dir, "inert")
    }

    #[cfg(windows)]
    fn write(dir: &Path, mode: &str) -> TestBrowser {
        let dir = dir.join("test-browser");
        std::fs::create_dir_all(&dir).unwrap();
        // Beside the test binary's directory (deps/), where cargo puts the package's binaries;
        // cargo names no binary with required features in CARGO_BIN_EXE_*.
        let command = std::env::current_exe()
            .unwrap()
            .parent()
            .and_then(Path::parent)
            .unwrap()
            .join("broker-test-browser.exe");
        assert!(
            command.exists(),
            "no {}: the test browser is built with the test suite's hooks, \
             `cargo test --features test-hooks`",
            command.display()
        );
        let follower = windows::Follower::start(&dir, mode == "follow");
        TestBrowser {
            command,
            dir,
            _follower: follower,
        }
    }

    #[cfg(unix)]
    fn write(dir: &Path, mode: &str) -> TestBrowser {
        use std::os::unix::fs::PermissionsExt;
        let python = venv().join("bin/python");
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sso_browser.py");
        let dir = dir.join("test-browser");
        std::fs::create_dir_all(&dir).unwrap();
        let quote = |p: &Path| {
            let s = p.to_str().expect("UTF-8 path");
            assert!(!s.contains('\''), "a quote in {s}");
            format!("'{s}'")
        };
        let command = dir.join("browser");
        let text = format!(
            "#!/bin/sh\nexec {} {} {} {mode} -- \"$@\"\n",
            quote(&python),
            quote(&script),
            quote(&dir)
        );
        std::fs::write(&command, text).unwrap();
        std::fs::set_permissions(&command, std::fs::Permissions::from_mode(0o700)).unwrap();
        TestBrowser { command, dir }
    }

    /// What the environment of a broker needs to open this browser: `BROWSER`, and on
    /// Windows where the browser logs.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![("BROWSER", self.command.display().to_string())];
        if cfg!(windows) {
            let log = self.dir.join("browser-argv.jsonl");
            env.push(("BROKER_TEST_BROWSER_LOG", log.display().to_string()));
        }
        env
    }

    /// The arguments of every run, oldest first (each should be exactly one URL).
    pub fn invocations(&self) -> Vec<Vec<String>> {
        read_json_lines(&self.dir.join("browser-argv.jsonl"))
            .into_iter()
            .map(|v| serde_json::from_value(v).expect("argv list"))
            .collect()
    }

    /// The first argument of every run.
    pub fn urls(&self) -> Vec<String> {
        self.invocations()
            .into_iter()
            .filter_map(|argv| argv.into_iter().next())
            .collect()
    }

    /// Where each run was sent: the URL it was given, or for a private page (`file://`) the
    /// URL the page sends the browser to.
    pub fn targets(&self) -> Vec<String> {
        let mut pages = read_json_lines(&self.dir.join("browser-pages.jsonl")).into_iter();
        self.urls()
            .into_iter()
            .map_while(|url| match url.starts_with("file://") {
                // A page the browser has not read yet ends the list: it is not a target yet.
                true => pages
                    .next()
                    .and_then(|p| p["target"].as_str().map(str::to_owned)),
                false => Some(url),
            })
            .collect()
    }

    /// What the browser found in each private page: {"page", "mode", "target"}.
    pub fn pages(&self) -> Vec<Value> {
        read_json_lines(&self.dir.join("browser-pages.jsonl"))
    }

    /// What the browser saw on each visit: {"url", "status", "final_url"} or {"url", "error"}.
    pub fn visits(&self) -> Vec<Value> {
        read_json_lines(&self.dir.join("browser-visits.jsonl"))
    }

    /// Waits until `n` visits have finished (they run after the browser command returned).
    pub fn wait_for_visits(&self, n: usize, timeout: Duration) -> Vec<Value> {
        let start = Instant::now();
        loop {
            let visits = self.visits();
            if visits.len() >= n {
                return visits;
            }
            assert!(
                start.elapsed() < timeout,
                "the test browser made {} of {n} visits in {timeout:?}: {visits:?}",
                visits.len()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The complete lines of a JSON-lines file that another process appends to (a line still being
/// written, without its line break, is left for the next read).
fn read_json_lines(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let complete = &text[..text.rfind('\n').map_or(0, |end| end + 1)];
    complete
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// The test browser on Windows: broker-test-browser logs its arguments to
/// `browser-argv.jsonl`, and a thread of the test (the follower) reads each private page
/// logged there (to `browser-pages.jsonl`) and, following, visits each URL (to
/// `browser-visits.jsonl`), as tests/sso_browser.py does.
#[cfg(windows)]
mod windows {
    use std::io::{Read, Write};
    use std::path::Path;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use serde_json::{json, Value};

    /// The thread that reads and visits; it stops when dropped.
    pub struct Follower {
        stop: Arc<AtomicBool>,
    }

    impl Follower {
        pub fn start(dir: &Path, follow: bool) -> Follower {
            let stop = Arc::new(AtomicBool::new(false));
            let (dir, stopped) = (dir.to_path_buf(), stop.clone());
            std::thread::spawn(move || {
                let mut seen = 0;
                while !stopped.load(Ordering::Relaxed) {
                    let runs = super::read_json_lines(&dir.join("browser-argv.jsonl"));
                    for argv in &runs[seen.min(runs.len())..] {
                        let Some([url]) = argv.as_array().map(Vec::as_slice) else {
                            continue;
                        };
                        let url = url.as_str().unwrap_or_default().to_string();
                        // A page is read at once, as a browser would read it.
                        let target = match url.starts_with("file://") {
                            true => read_page(&dir, &url),
                            false => Some(url),
                        };
                        if let (true, Some(target)) = (follow, target) {
                            // Each visit on its own, as a browser opens tabs.
                            let dir = dir.clone();
                            std::thread::spawn(move || {
                                append(&dir, "browser-visits.jsonl", &visit(&target))
                            });
                        }
                    }
                    seen = runs.len();
                    std::thread::sleep(Duration::from_millis(20));
                }
            });
            Follower { stop }
        }
    }

    impl Drop for Follower {
        fn drop(&mut self) {
            self.stop.store(true, Ordering::Relaxed);
        }
    }

    /// The URL a private page sends the browser to (its refresh), logged with the page; its
    /// mode is Unix's only.
    fn read_page(dir: &Path, url: &str) -> Option<String> {
        let path = url::Url::parse(url).ok()?.to_file_path().ok()?;
        const REFRESH: &str = "http-equiv=\"refresh\" content=\"0;url=";
        let target = std::fs::read_to_string(&path).ok().and_then(|page| {
            let start = page.find(REFRESH)? + REFRESH.len();
            let end = start + page[start..].find('"')?;
            Some(
                page[start..end]
                    .replace("&quot;", "\"")
                    .replace("&#39;", "'")
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&amp;", "&"),
            )
        });
        let record = json!({"page": path.display().to_string(), "mode": null, "target": target});
        append(dir, "browser-pages.jsonl", &record);
        target
    }

    fn append(dir: &Path, file: &str, record: &Value) {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(file))
            .unwrap();
        writeln!(file, "{record}").unwrap();
    }

    /// GETs `url`, following redirects only to loopback hosts, as sso_browser.py does.
    fn visit(start: &str) -> Value {
        let mut url = start.to_string();
        for _ in 0..10 {
            let (status, location) = match get(&url) {
                Ok(answer) => answer,
                Err(e) => return json!({"url": start, "error": e}),
            };
            match location {
                Some(next) if (300..400).contains(&status) => {
                    let next = url::Url::parse(&url)
                        .and_then(|base| base.join(&next))
                        .map(String::from)
                        .unwrap_or(next);
                    if !is_loopback(&next) {
                        return json!({"url": start,
                            "error": format!("refused to follow a redirect off loopback: {next}")});
                    }
                    url = next;
                }
                _ => return json!({"url": start, "status": status, "final_url": url}),
            }
        }
        json!({"url": start, "error": "too many redirects"})
    }

    fn is_loopback(url: &str) -> bool {
        url::Url::parse(url)
            .is_ok_and(|u| matches!(u.host_str(), Some("127.0.0.1" | "[::1]" | "localhost")))
    }

    /// One HTTP/1.0 GET: the status and the Location header.
    fn get(url: &str) -> Result<(u16, Option<String>), String> {
        let parsed = url::Url::parse(url).map_err(|e| format!("{url}: {e}"))?;
        if parsed.scheme() != "http" {
            return Err(format!("not an http URL: {url}"));
        }
        let host = parsed.host_str().ok_or("no host")?.to_string();
        let port = parsed.port_or_known_default().unwrap_or(80);
        let target = &parsed[url::Position::BeforePath..];
        let mut stream = std::net::TcpStream::connect((host.trim_matches(['[', ']']), port))
            .map_err(|e| format!("URLError: {e}"))?;
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        write!(
            stream,
            "GET {target} HTTP/1.0\r\nHost: {host}:{port}\r\n\r\n"
        )
        .map_err(|e| e.to_string())?;
        let mut bytes = Vec::new();
        stream.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
        let response = String::from_utf8_lossy(&bytes);
        let head = response.split("\r\n\r\n").next().unwrap_or_default();
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("no HTTP answer from {url}"))?;
        let location = lines
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.eq_ignore_ascii_case("location"))
            .map(|(_, v)| v.trim().to_string());
        Ok((status, location))
    }
}
