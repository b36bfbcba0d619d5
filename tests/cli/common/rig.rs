//! Where the tests' Python servers (moto, the SSO stand-in) come from: each test starts its own,
//! fresh, with the venv's Python, and stops it when done. Under Wine a Windows test process can
//! start a Linux program but neither read its pipes nor wait for it, so there
//! scripts/wine-test.sh runs the launcher tests/rig_server.py on the Linux side and names it in
//! `BROKER_TEST_RIG`; the servers are then asked of it over HTTP instead. Either way a test gets
//! the same thing: a server of its own on a loopback port.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A running server started for one test; stopped when dropped.
pub struct Server {
    pub port: u16,
    owner: Owner,
}

enum Owner {
    Child(Child),
    Rig { addr: String, id: u64 },
}

/// The venv that scripts/test.sh prepares; its absence is a failure that says what to do.
pub fn venv() -> PathBuf {
    let dir = std::env::var_os("BROKER_TEST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv"));
    assert!(
        venv_python(&dir).exists(),
        "no test venv at {}: run scripts/test.sh, or `python3 -m venv .venv && \
         .venv/bin/pip install -r tests/requirements.txt` (needs python3-venv)",
        dir.display()
    );
    dir
}

fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts/python.exe")
    } else {
        venv.join("bin/python")
    }
}

impl Server {
    /// Starts `tests/SCRIPT` (which prints its port on its first line) with `env` added to
    /// the environment.
    pub fn start(script: &str, env: &[(&str, String)]) -> Server {
        match std::env::var("BROKER_TEST_RIG") {
            Ok(addr) => Server::from_rig(addr, script, env),
            Err(_) => Server::spawn(script, env),
        }
    }

    fn spawn(script: &str, env: &[(&str, String)]) -> Server {
        let python = venv_python(&venv());
        let mut command = Command::new(&python);
        command
            .arg(
                PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                    .join("tests")
                    .join(script),
            )
            .env_remove("AWS_PROFILE")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = command.spawn().unwrap_or_else(|e| {
            panic!(
                "cannot run {} tests/{script} ({e}): run scripts/test.sh, which creates the \
                 venv (needs python3-venv)",
                python.display()
            )
        });
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("read the server's port");
        let port = line.trim().parse().unwrap_or_else(|_| {
            let _ = child.kill();
            panic!(
                "tests/{script} did not start (printed {line:?}); it needs the venv of \
                 scripts/test.sh (tests/requirements.txt)"
            )
        });
        Server {
            port,
            owner: Owner::Child(child),
        }
    }

    fn from_rig(addr: String, script: &str, env: &[(&str, String)]) -> Server {
        let env: serde_json::Map<String, serde_json::Value> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_str().into()))
            .collect();
        let request = serde_json::json!({"script": script, "env": env}).to_string();
        let reply = post(&addr, "/start", &request).unwrap_or_else(|e| panic!("{e}"));
        let reply: serde_json::Value = serde_json::from_str(&reply)
            .unwrap_or_else(|_| panic!("the rig launcher did not start {script}: {reply}"));
        Server {
            port: reply["port"].as_u64().expect("a port") as u16,
            owner: Owner::Rig {
                addr,
                id: reply["id"].as_u64().expect("an id"),
            },
        }
    }
}

/// The path by which the servers reach `path`: itself, or under the launcher the Linux path
/// of the file it names in the Wine prefix.
pub fn server_path(path: &Path) -> String {
    let text = path.to_str().expect("a UTF-8 path").to_string();
    match std::env::var("BROKER_TEST_RIG") {
        Ok(addr) => post(&addr, "/path", &text).unwrap_or_else(|e| panic!("{e}")),
        Err(_) => text,
    }
}

/// One HTTP/1.0 POST to the launcher at `addr` (`http://127.0.0.1:PORT`); the body of its 200
/// answer, or what went wrong.
fn post(addr: &str, path: &str, body: &str) -> Result<String, String> {
    let host = addr.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(host)
        .map_err(|e| format!("cannot reach the rig launcher at {addr} (BROKER_TEST_RIG): {e}"))?;
    let mut response = String::new();
    write!(
        stream,
        "POST {path} HTTP/1.0\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .and_then(|()| stream.read_to_string(&mut response))
    .map_err(|e| format!("the rig launcher at {addr}: {e}"))?;
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    match head.split_whitespace().nth(1) {
        Some("200") => Ok(body.to_string()),
        _ => Err(format!("the rig launcher refused {path}: {head} {body}")),
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        match &mut self.owner {
            Owner::Child(child) => {
                let _ = child.kill();
                let _ = child.wait();
            }
            Owner::Rig { addr, id } => {
                let _ = post(addr, &format!("/stop?id={id}"), "");
            }
        }
    }
}
