#![allow(dead_code)] // shared helpers; not every test uses every one
//! A real syslog daemon for the tests: `rsyslogd` (Debian's `rsyslog`) in the foreground,
//! listening on a unix datagram socket of the test's own (broker is pointed at it with
//! `TestEnv::send_syslog_to`) instead of `/dev/log`, and writing what it parsed of each
//! message from `broker` — facility, severity, tag, message — to a file.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Syslog {
    child: Child,
    pub socket: PathBuf,
    out: PathBuf,
}

/// One message as rsyslogd parsed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub facility: String,
    pub severity: String,
    pub tag: String,
    pub msg: String,
}

fn rsyslogd() -> PathBuf {
    for candidate in [
        "/usr/sbin/rsyslogd",
        "/sbin/rsyslogd",
        "/usr/local/sbin/rsyslogd",
    ] {
        if Path::new(candidate).exists() {
            return PathBuf::from(candidate);
        }
    }
    panic!(
        "the syslog tests need a real syslog daemon: apt-get install rsyslog (scripts/test.sh \
         installs it when run as root)"
    )
}

impl Syslog {
    /// Starts rsyslogd with its socket, state and output under `dir`.
    pub fn start(dir: &Path) -> Syslog {
        let dir = dir.join("rsyslog");
        std::fs::create_dir_all(&dir).unwrap();
        let socket = dir.join("log");
        let out = dir.join("received");
        let conf = dir.join("rsyslog.conf");
        std::fs::write(
            &conf,
            format!(
                r#"global(workDirectory="{dir}" maxMessageSize="64k")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="{socket}" RateLimit.Interval="0")
template(name="fields" type="string"
         string="%syslogfacility-text%\t%syslogseverity-text%\t%programname%\t%msg:2:$%\n")
if $programname == "broker" then {{
  action(type="omfile" file="{out}" template="fields")
}}
"#,
                dir = dir.display(),
                socket = socket.display(),
                out = out.display(),
            ),
        )
        .unwrap();
        let child = Command::new(rsyslogd())
            .arg("-n")
            .arg("-f")
            .arg(&conf)
            .arg("-i")
            .arg(dir.join("rsyslogd.pid"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start rsyslogd");
        let mut syslog = Syslog { child, socket, out };
        let started = Instant::now();
        while !syslog.socket.exists() {
            if let Ok(Some(status)) = syslog.child.try_wait() {
                panic!(
                    "rsyslogd exited with {status}; try `rsyslogd -N1 -f {}`",
                    conf.display()
                );
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "rsyslogd did not open its socket"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        syslog
    }

    /// The file rsyslogd writes broker's messages to, one per line (facility, severity, tag
    /// and message, tab-separated): a shipped copy of the audit log.
    pub fn file(&self) -> &Path {
        &self.out
    }

    /// What rsyslogd received from `broker` so far.
    pub fn messages(&self) -> Vec<Message> {
        let text = std::fs::read_to_string(&self.out).unwrap_or_default();
        text.lines()
            .map(|line| {
                let mut fields = line.splitn(4, '\t').map(str::to_string);
                let mut next = || fields.next().unwrap_or_default();
                Message {
                    facility: next(),
                    severity: next(),
                    tag: next(),
                    msg: next(),
                }
            })
            .collect()
    }

    /// Waits (up to 20 s) until at least `n` messages have arrived.
    pub fn wait_for(&self, n: usize) -> Vec<Message> {
        let started = Instant::now();
        loop {
            let messages = self.messages();
            if messages.len() >= n || started.elapsed() > Duration::from_secs(20) {
                return messages;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Syslog {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
