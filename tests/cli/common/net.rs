#![allow(dead_code)] // shared helpers; not every test uses every one
//! The corporate network of the network tests, as local processes: a real CONNECT proxy (PyPI
//! proxy.py with tests/proxy_plugin.py, which alone resolves `*.broker-test.invalid` and logs
//! every destination) and an HTTPS front whose certificate is signed by a CA made for the test
//! (tests/tls_front.py, PyPI trustme), forwarding to moto or the SSO stand-in.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::moto::venv;

/// The host names only the proxy resolves.
pub const INVALID_DOMAIN: &str = "broker-test.invalid";

/// A running CONNECT proxy on 127.0.0.1.
pub struct Proxy {
    child: Child,
    pub port: u16,
    log: PathBuf,
    _home: tempfile::TempDir,
}

impl Proxy {
    /// Starts proxy.py; with `credentials` (`user:password`), it asks for them (407 without).
    pub fn start(credentials: Option<&str>) -> Proxy {
        let home = tempfile::tempdir().unwrap();
        let log = home.path().join("destinations.log");
        std::fs::write(&log, "").unwrap();
        let port_file = home.path().join("port");
        let mut command = Command::new(venv().join("bin/python"));
        command
            .args(["-m", "proxy", "--hostname", "127.0.0.1", "--port", "0"])
            .arg("--port-file")
            .arg(&port_file)
            .args(["--plugins", "proxy_plugin.BrokerTestDns"])
            .args(["--num-workers", "1", "--num-acceptors", "1"])
            .env("PYTHONPATH", tests_dir())
            .env("BROKER_TEST_PROXY_LOG", &log)
            // proxy.py keeps its files under ~/.proxy: the test's own, not the developer's.
            .env("HOME", home.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(credentials) = credentials {
            command.args(["--basic-auth", credentials]);
        }
        // A group of its own: proxy.py's acceptor is a child process, which must end with it.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut child = command
            .spawn()
            .expect("start proxy.py with the venv python (scripts/test.sh installs it)");
        let deadline = Instant::now() + Duration::from_secs(30);
        let port = loop {
            let text = std::fs::read_to_string(&port_file).unwrap_or_default();
            if let Ok(port) = text.trim().parse::<u16>() {
                break port;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("proxy.py exited ({status}) before it listened");
            }
            assert!(
                Instant::now() < deadline,
                "proxy.py did not listen within 30s"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        // The port file is written before the acceptor listens: wait until it does.
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "proxy.py did not accept within 30s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Proxy {
            child,
            port,
            log,
            _home: home,
        }
    }

    /// `http://[credentials@]127.0.0.1:PORT`.
    pub fn url(&self, credentials: Option<&str>) -> String {
        match credentials {
            Some(c) => format!("http://{c}@127.0.0.1:{}", self.port),
            None => format!("http://127.0.0.1:{}", self.port),
        }
    }

    /// Every destination the proxy connected to, `HOST:PORT`, oldest first.
    pub fn destinations(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        // SAFETY: kill only sends a signal, to the group proxy.py leads (see `start`).
        unsafe { libc::kill(-(self.child.id() as libc::pid_t), libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

/// A running HTTPS front on 127.0.0.1 with a certificate of its own test CA.
pub struct TlsFront {
    child: Child,
    pub port: u16,
    /// The CA's certificate, PEM.
    pub ca: PathBuf,
}

impl TlsFront {
    /// Starts a front for the plain-HTTP server on `upstream_port`, its CA written into `dir`.
    pub fn start(upstream_port: u16, dir: &Path) -> TlsFront {
        let ca = dir.join(format!("ca-{upstream_port}.pem"));
        let mut child = Command::new(venv().join("bin/python"))
            .arg(tests_dir().join("tls_front.py"))
            .arg(upstream_port.to_string())
            .arg(&ca)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tests/tls_front.py with the venv python");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("read the front's port");
        let port = line.trim().parse().unwrap_or_else(|_| {
            let _ = child.kill();
            panic!("tests/tls_front.py did not start (printed {line:?}); is trustme installed?")
        });
        TlsFront { child, port, ca }
    }

    /// `https://NAME.broker-test.invalid:PORT`: reachable only through the proxy.
    pub fn invalid_url(&self, name: &str) -> String {
        format!("https://{name}.{INVALID_DOMAIN}:{}", self.port)
    }

    /// `https://HOST:PORT`, for a host that resolves anywhere (`localhost`, `127.0.0.1`).
    pub fn url(&self, host: &str) -> String {
        format!("https://{host}:{}", self.port)
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tests_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests")
}
