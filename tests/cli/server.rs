//! `exec --server` under attack from another local user: a flood of idle connections with few
//! file descriptors left, connections that never send a request, request smuggling shapes, and
//! the audit trail of refusals, against moto with enforcement and the real AWS CLI. The flood
//! is Linux's only: it reads broker's CPU time from `/proc` and limits its file descriptors.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Stdio};
use std::time::{Duration, Instant};

use crate::common::{broker_bin, shell, stderr_of};
use crate::fixtures::Chain;
#[cfg(target_os = "linux")]
use crate::fixtures::ACCOUNT;

/// A running `broker exec --server r1` whose child printed its endpoint and waits on stdin.
struct Running {
    child: Child,
    stdin: ChildStdin,
    out: BufReader<std::process::ChildStdout>,
    /// `127.0.0.1:PORT`
    addr: String,
    token: String,
}

/// Starts `broker exec --server r1 -- CHILD` with `nofile` as the soft limit of open files
/// (Unix); the child's first line of output must be `URL TOKEN`.
fn start(c: &Chain, child: &[String], nofile: Option<u64>) -> Running {
    let mut command = c.env.std_command(broker_bin());
    command
        .args(["exec", "--server", "r1", "--"])
        .args(child)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    if let Some(soft) = nofile {
        use std::os::unix::process::CommandExt;
        // SAFETY: setrlimit is async-signal-safe and changes only the child.
        unsafe {
            command.pre_exec(move || {
                let limit = libc::rlimit {
                    rlim_cur: soft,
                    rlim_max: 1024,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    #[cfg(not(unix))]
    assert!(nofile.is_none(), "a limit of open files is Unix's");
    let mut child = command.spawn().unwrap();
    let stdin = child.stdin.take().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let (url, token) = line
        .trim()
        .split_once(' ')
        .unwrap_or_else(|| panic!("no endpoint from the child: {line:?}"));
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    Running {
        child,
        stdin,
        out,
        addr,
        token: token.to_string(),
    }
}

const PRINT_ENDPOINT: &str =
    "echo \"$AWS_CONTAINER_CREDENTIALS_FULL_URI $AWS_CONTAINER_AUTHORIZATION_TOKEN\"";

/// The child that prints `URL TOKEN` and waits for a line on stdin.
fn print_endpoint_and_wait() -> [String; 3] {
    shell(
        &format!("{PRINT_ENDPOINT}; read line"),
        "echo %AWS_CONTAINER_CREDENTIALS_FULL_URI% %AWS_CONTAINER_AUTHORIZATION_TOKEN%& set /p line=",
    )
}

impl Running {
    /// Lets the child go on and waits for broker; its stdout from here on.
    fn finish(mut self) -> String {
        self.stdin.write_all(b"go\n").unwrap();
        drop(self.stdin);
        let mut rest = String::new();
        self.out.read_to_string(&mut rest).unwrap();
        let out = self.child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr_of(&out));
        rest
    }

    fn get_with_token(&self) -> (u16, String) {
        exchange(
            &self.addr,
            &format!(
                "GET / HTTP/1.1\r\nHost: {}\r\nAuthorization: {}\r\nConnection: close\r\n\r\n",
                self.addr, self.token
            ),
        )
    }
}

/// Sends `request` on a new connection; the status and the body of the answer.
pub(crate) fn exchange(addr: &str, request: &str) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {response:?}"));
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// CPU time (user + system) that process `pid` has used so far.
#[cfg(target_os = "linux")]
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The fields after the command name (which is in parentheses and may hold spaces).
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // SAFETY: sysconf only reads a constant.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    Duration::from_millis(ticks * 1000 / per_second)
}

/// Opens `n` connections to `addr` at once and keeps those that connected within 3 s.
#[cfg(target_os = "linux")]
fn open_idle(rt: &tokio::runtime::Runtime, addr: &str, n: usize) -> Vec<tokio::net::TcpStream> {
    rt.block_on(async {
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..n {
            let addr = addr.to_string();
            set.spawn(async move {
                tokio::time::timeout(Duration::from_secs(3), tokio::net::TcpStream::connect(addr))
                    .await
            });
        }
        let mut open = Vec::new();
        while let Some(joined) = set.join_next().await {
            if let Ok(Ok(Ok(stream))) = joined {
                open.push(stream);
            }
        }
        open
    })
}

#[cfg(target_os = "linux")]
#[test]
fn a_flood_of_idle_connections_neither_starves_the_child_nor_makes_broker_spin() {
    let c = Chain::new();
    let aws = crate::common::moto::venv().join("bin/aws");
    let script = format!(
        "{PRINT_ENDPOINT}; read line; exec {} sts get-caller-identity --output text --query Arn",
        aws.display()
    );
    // Few file descriptors, as if the rest of the machine had taken them.
    let server = start(&c, &["sh".into(), "-c".into(), script], Some(128));
    let pid = server.child.id();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    let (cpu_before, started) = (cpu_time(pid), Instant::now());
    let flood = open_idle(&rt, &server.addr, 400);
    std::thread::sleep(Duration::from_secs(3));
    let (cpu, wall) = (cpu_time(pid) - cpu_before, started.elapsed());
    let share = cpu.as_secs_f64() / wall.as_secs_f64();
    eprintln!(
        "flood: {} connections open, broker used {cpu:?} of CPU in {wall:?} ({:.0} % of a core)",
        flood.len(),
        share * 100.0
    );
    assert!(
        share < 0.3,
        "broker used {:.0} % of a core while 400 idle connections were open",
        share * 100.0
    );

    // A request with the token still gets credentials, at once.
    let asked = Instant::now();
    let (status, body) = server.get_with_token();
    let took = asked.elapsed();
    eprintln!("flood: a request with the token was answered in {took:?}");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("SecretAccessKey"));
    assert!(took < Duration::from_secs(2), "answered after {took:?}");

    // And so does the real AWS CLI, the child.
    let asked = Instant::now();
    let arn = server.finish();
    let took = asked.elapsed();
    eprintln!("flood: aws sts get-caller-identity took {took:?}");
    assert_eq!(
        arn.trim(),
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/r1/alice-session")
    );
    assert!(took < Duration::from_secs(20), "the child waited {took:?}");
    assert_eq!(
        flood.len(),
        400,
        "every connection of the flood was accepted"
    );
}

#[test]
fn connections_that_send_no_request_are_closed_after_the_header_timeout() {
    let c = Chain::new();
    let server = start(&c, &print_endpoint_and_wait(), None);
    let closed_after = |partial: &'static [u8]| {
        let addr = server.addr.clone();
        std::thread::spawn(move || {
            let mut stream = std::net::TcpStream::connect(addr).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(12)))
                .unwrap();
            stream.write_all(partial).unwrap();
            let started = Instant::now();
            let mut buf = [0u8; 256];
            match stream.read(&mut buf) {
                // Closed, with or without a 408.
                Ok(_) => started.elapsed(),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => started.elapsed(),
                Err(e) => panic!("still open after {:?}: {e}", started.elapsed()),
            }
        })
    };
    let silent = closed_after(b"");
    let slow = closed_after(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for (what, handle) in [("silent", silent), ("half a request", slow)] {
        let took = handle.join().unwrap();
        eprintln!("{what}: closed after {took:?}");
        assert!(
            took >= Duration::from_secs(4) && took < Duration::from_secs(9),
            "{what}: closed after {took:?}"
        );
    }
    let (status, _) = server.get_with_token();
    assert_eq!(status, 200);
    server.finish();
}

#[test]
fn absolute_form_targets_and_repeated_hosts_get_400_and_refusals_are_audited_in_bursts() {
    let c = Chain::new();
    let server = start(&c, &print_endpoint_and_wait(), None);
    let (addr, token) = (server.addr.clone(), server.token.clone());
    let (addr, token) = (addr.as_str(), token.as_str());
    let absolute = format!(
        "GET http://{addr}/ HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {token}\r\nConnection: close\r\n\r\n"
    );
    let foreign_absolute = format!(
        "GET http://attacker.example/ HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {token}\r\nConnection: close\r\n\r\n"
    );
    let two_hosts = format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nHost: {addr}\r\nAuthorization: {token}\r\nConnection: close\r\n\r\n"
    );
    let foreign_then_loopback = format!(
        "GET / HTTP/1.1\r\nHost: attacker.example\r\nHost: {addr}\r\nAuthorization: {token}\r\nConnection: close\r\n\r\n"
    );
    let no_host = format!("GET / HTTP/1.0\r\nAuthorization: {token}\r\nConnection: close\r\n\r\n");
    for request in [
        &absolute,
        &foreign_absolute,
        &two_hosts,
        &foreign_then_loopback,
        &no_host,
    ] {
        let (status, body) = exchange(addr, request);
        assert_eq!(status, 400, "{request:?} got {body}");
        assert!(!body.contains("SecretAccessKey"), "{body}");
    }

    // A burst of 100 bad requests of every kind.
    let wrong_token =
        format!("GET / HTTP/1.1\r\nHost: {addr}\r\nAuthorization: x\r\nConnection: close\r\n\r\n");
    let foreign_host = format!(
        "GET / HTTP/1.1\r\nHost: attacker.example\r\nAuthorization: {token}\r\nConnection: close\r\n\r\n"
    );
    for i in 0..100 {
        let request = [&absolute, &two_hosts, &wrong_token, &foreign_host][i % 4];
        let (status, body) = exchange(addr, request);
        assert!(status == 400 || status == 403, "{status} {body}");
    }
    let (status, body) = server.get_with_token();
    assert_eq!(status, 200, "{body}");
    server.finish();

    let log = std::fs::read_to_string(crate::common::under(
        c.env.dir.path(),
        "state/broker/audit.jsonl",
    ))
    .unwrap();
    let refusals: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| r["outcome"] == "refused")
        .collect();
    assert!(
        (1..=3).contains(&refusals.len()),
        "105 refusals in a burst make at most 3 audit lines, not {}: {log}",
        refusals.len()
    );
    let mut total = 0;
    for record in &refusals {
        assert_eq!(record["via"], "server");
        assert_eq!(record["profile"], "r1");
        let message = record["error"].as_str().unwrap();
        assert!(
            message.starts_with("credentials server refused: "),
            "{message}"
        );
        assert!(!message.contains(token), "the token in the audit log");
        // "reason (count), reason (count)"
        total += message
            .split('(')
            .skip(1)
            .map(|part| part.split(')').next().unwrap().parse::<u64>().unwrap())
            .sum::<u64>();
    }
    assert_eq!(total, 105, "every refusal counted: {log}");
    assert!(log.contains("request target not in origin form"));
    assert!(log.contains("missing or repeated Host header"));
    assert!(log.contains("wrong or missing token"));
    assert!(log.contains("Host header not a loopback address"));
}
