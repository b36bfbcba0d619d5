//! `exec --ec2-server`: the EC2 instance metadata endpoint (IMDSv2), with real clients (botocore,
//! the AWS CLI, the AWS SDK for JavaScript v3 from tests/js) and raw HTTP for what it refuses,
//! against moto with enforcement. Linux only: another user's connection is made with setpriv.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Stdio};
use std::time::Duration;

use crate::common::{broker_bin, stderr_of, stdout_of};
use crate::fixtures::{Chain, ACCOUNT};
use crate::server::exchange;

const R1: &str = "assumed-role/r1/alice-session";

#[test]
fn botocore_and_the_aws_cli_get_instance_credentials() {
    let c = Chain::new();
    let venv = crate::common::moto::venv();
    let script = format!(
        "{py} -c 'import botocore.session; c = botocore.session.get_session().get_credentials(); \
         print(c.method)' && {aws} sts get-caller-identity --query Arn --output text",
        py = venv.join("bin/python").display(),
        aws = venv.join("bin/aws").display()
    );
    let out = c
        .env
        .broker()
        .args(["exec", "--ec2-server", "r1", "--", "sh", "-c", &script])
        .output()
        .unwrap();
    let stdout = stdout_of(&out);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let mut lines = stdout.lines();
    assert_eq!(
        lines.next(),
        Some("iam-role"),
        "botocore's instance provider"
    );
    assert_eq!(
        lines.next(),
        Some(format!("arn:aws:sts::{ACCOUNT}:{R1}").as_str())
    );
}

/// tests/js, with its packages installed (scripts/test.sh runs `npm ci` there).
fn js_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/js");
    assert!(
        dir.join("node_modules/@aws-sdk/credential-providers")
            .is_dir(),
        "no AWS SDK for JavaScript in tests/js: run scripts/test.sh, or `npm ci` in tests/js \
         (needs nodejs and npm)"
    );
    dir
}

#[test]
fn the_javascript_sdk_v3_gets_instance_credentials() {
    let c = Chain::new();
    let script = js_dir().join("imds.js");
    let out = c
        .env
        .broker()
        .args(["exec", "--ec2-server", "r1", "--", "node"])
        .arg(&script)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let arn = format!("arn:aws:sts::{ACCOUNT}:{R1}");
    assert_eq!(stdout_of(&out), format!("{arn}\n{arn}\n"));
}

/// A running `broker exec --ec2-server [FLAGS] r1` whose child printed the endpoint and waits.
struct Running {
    child: Child,
    stdin: ChildStdin,
    /// `127.0.0.1:PORT`
    addr: String,
}

fn start(c: &Chain, flags: &[&str]) -> Running {
    let mut command = c.env.std_command(broker_bin());
    command
        .arg("exec")
        .args(flags)
        .args([
            "r1",
            "--",
            "sh",
            "-c",
            "echo \"$AWS_EC2_METADATA_SERVICE_ENDPOINT $AWS_EC2_METADATA_V1_DISABLED\"; read x",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let stdin = child.stdin.take().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let (url, v1_disabled) = line.trim().split_once(' ').unwrap_or_default();
    assert_eq!(v1_disabled, "true", "{line:?}");
    Running {
        child,
        stdin,
        addr: url.trim_start_matches("http://").to_string(),
    }
}

impl Running {
    fn send(&self, method: &str, path: &str, headers: &str) -> (u16, String) {
        exchange(
            &self.addr,
            &format!(
                "{method} {path} HTTP/1.1\r\nHost: {}\r\n{headers}Connection: close\r\n\r\n",
                self.addr
            ),
        )
    }

    fn token(&self, ttl: u32) -> String {
        let (status, token) = self.send(
            "PUT",
            "/latest/api/token",
            &format!("X-aws-ec2-metadata-token-ttl-seconds: {ttl}\r\n"),
        );
        assert_eq!(status, 200, "{token}");
        token
    }

    fn get(&self, path: &str, token: &str) -> (u16, String) {
        self.send(
            "GET",
            path,
            &format!("X-aws-ec2-metadata-token: {token}\r\n"),
        )
    }

    fn finish(mut self) {
        self.stdin.write_all(b"\n").unwrap();
        drop(self.stdin);
        let out = self.child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr_of(&out));
    }
}

#[test]
fn tokens_are_required_and_checked() {
    let c = Chain::new();
    let server = start(&c, &["--ec2-server"]);
    let creds = "/latest/meta-data/iam/security-credentials/";
    // IMDSv1: no token, no credentials.
    assert_eq!(server.send("GET", creds, "").0, 401);
    assert_eq!(server.get(creds, "not-a-token").0, 401);
    // Token requests: a TTL of 1 s to 6 h, never through a proxy, only PUT.
    for ttl in ["", "X-aws-ec2-metadata-token-ttl-seconds: 0\r\n"] {
        assert_eq!(server.send("PUT", "/latest/api/token", ttl).0, 400);
    }
    let ttl = "X-aws-ec2-metadata-token-ttl-seconds: 21601\r\n";
    assert_eq!(server.send("PUT", "/latest/api/token", ttl).0, 400);
    let proxied = "X-aws-ec2-metadata-token-ttl-seconds: 60\r\nX-Forwarded-For: 10.0.0.1\r\n";
    assert_eq!(server.send("PUT", "/latest/api/token", proxied).0, 403);
    assert_eq!(server.send("GET", "/latest/api/token", "").0, 405);

    let token = server.token(60);
    assert_eq!(server.get(creds, &token), (200, "r1".to_string()));
    let (status, body) = server.get(&format!("{creds}r1"), &token);
    assert_eq!(status, 200, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["Code"], "Success");
    assert_eq!(json["Type"], "AWS-HMAC");
    assert!(json["AccessKeyId"].as_str().unwrap().starts_with("ASIA"));
    let expiration = json["Expiration"].as_str().unwrap();
    assert!(
        chrono::NaiveDateTime::parse_from_str(expiration, "%Y-%m-%dT%H:%M:%SZ").is_ok(),
        "{expiration}"
    );
    let (_, extended) = server.get(
        "/latest/meta-data/iam/security-credentials-extended/r1",
        &token,
    );
    assert!(extended.contains(&format!("\"AccountId\":\"{ACCOUNT}\"")));
    assert_eq!(server.get(&format!("{creds}r2"), &token).0, 404);
    assert_eq!(
        server.get("/latest/meta-data/placement/region", &token),
        (200, "eu-west-1".to_string())
    );
    let (_, document) = server.get("/latest/dynamic/instance-identity/document", &token);
    assert!(document.contains("\"region\":\"eu-west-1\""), "{document}");
    assert_eq!(server.get("/latest/user-data", &token).0, 404);

    // A token lives as long as it was asked to.
    c.env.advance_clock(Duration::from_secs(61));
    assert_eq!(server.get(creds, &token).0, 401);
    // A foreign Host (DNS rebinding) gets nothing, token or not.
    let token = server.token(60);
    let (status, _) = exchange(
        &server.addr,
        &format!(
            "GET {creds} HTTP/1.1\r\nHost: evil.example\r\nX-aws-ec2-metadata-token: \
             {token}\r\nConnection: close\r\n\r\n"
        ),
    );
    assert_eq!(status, 403);
    // The metadata service's own address, as a redirect to broker sends it, is local.
    let (status, body) = exchange(
        &server.addr,
        &format!(
            "GET {creds} HTTP/1.1\r\nHost: 169.254.169.254\r\nX-aws-ec2-metadata-token: \
             {token}\r\nConnection: close\r\n\r\n"
        ),
    );
    assert_eq!((status, body.as_str()), (200, "r1"));
    server.finish();
    let history = c
        .env
        .broker()
        .args(["history", "--json", "--via", "ec2-server"])
        .output()
        .unwrap();
    let text = stdout_of(&history);
    assert!(text.contains("\"outcome\":\"issued\""), "{text}");
    assert!(text.contains("\"outcome\":\"refused\""), "{text}");
    assert!(text.contains("missing or expired token"), "{text}");
}

#[test]
fn another_local_user_is_refused() {
    let c = Chain::new();
    let server = start(&c, &["--ec2-server"]);
    let url = format!("http://{}/latest/api/token", server.addr);
    let out = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "curl"])
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT"])
        .args(["-H", "X-aws-ec2-metadata-token-ttl-seconds: 60", &url])
        .output()
        .expect("setpriv and curl (util-linux, curl); run as root, as CI does");
    assert_eq!(stdout_of(&out), "403", "{}", stderr_of(&out));
    // The owner still gets its token.
    server.token(60);
    server.finish();
}

#[test]
fn lazy_fetches_credentials_at_the_first_request() {
    let c = Chain::new();
    let server = start(&c, &["--ec2-server", "--lazy"]);
    assert_eq!(
        c.moto.count("AssumeRole"),
        0,
        "nothing before the first request"
    );
    let token = server.token(60);
    let (status, body) = server.get("/latest/meta-data/iam/security-credentials/r1", &token);
    assert_eq!(status, 200, "{body}");
    assert_eq!(c.moto.count("AssumeRole"), 1);
    server.finish();
    let history = c
        .env
        .broker()
        .args(["history", "--json", "--via", "ec2-server"])
        .output()
        .unwrap();
    let text = stdout_of(&history);
    assert!(text.contains("\"outcome\":\"ended\""), "{text}");

    // Without a request nothing is issued, and nothing ends.
    let out = c
        .env
        .broker()
        .args(["exec", "--server", "--lazy", "r1", "--", "true"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(c.moto.count("AssumeRole"), 1);
    let out = c
        .env
        .broker()
        .args(["exec", "--lazy", "r1", "--", "true"])
        .output()
        .unwrap();
    crate::common::assert_error(&out, 2, "--lazy needs --server or --ec2-server");
}
