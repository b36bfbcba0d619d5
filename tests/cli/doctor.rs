//! `broker doctor` on a healthy setup and on broken ones: a dead STS endpoint, a clock STS
//! disagrees with (a stand-in STS that sends a wrong `Date`), no usable backend, broken
//! settings. Fast: stand-ins, the file vault, no moto, no D-Bus.

use std::io::{BufRead, BufReader, Write};

use crate::common::{transcribe, TestEnv};
use crate::fixtures::store_key;

/// A stand-in STS on a free loopback port that answers every request at once, its `Date`
/// header `skew_secs` away from the real time. Returns its URL.
fn sts_standin(skew_secs: i64) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                line.clear();
            }
            let date = chrono::Utc::now() + chrono::TimeDelta::seconds(skew_secs);
            let _ = write!(
                stream,
                "HTTP/1.1 302 Found\r\nDate: {}\r\nLocation: https://aws.amazon.com/iam\r\n\
                 Content-Length: 0\r\nConnection: close\r\n\r\n",
                date.format("%a, %d %b %Y %H:%M:%S GMT")
            );
        }
    });
    url
}

/// The transcript of `broker doctor`, and its exit status.
fn doctor(env: &TestEnv) -> (Option<i32>, String) {
    let (out, text) = transcribe(env, env.broker().arg("doctor"));
    (out.status.code(), text)
}

fn healthy(url: &str) -> TestEnv {
    let env = TestEnv::with_file_backend()
        .env("AWS_ENDPOINT_URL", url)
        .env("SHELL", "/bin/bash");
    env.name_as(url, "http://127.0.0.1:[stand-in port]");
    env.write_aws_config("[profile alice]\n[profile ops]\nrole_arn = arn:aws:iam::123456789012:role/ops\nsource_profile = alice\n");
    store_key(&env, "alice", "AKIAIOSFODNN7EXAMPLE", "alice-secret");
    let script = env
        .broker()
        .args(["completions", "bash"])
        .output()
        .unwrap()
        .stdout;
    let dir = env.dir.path().join("data/bash-completion/completions");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("broker"), script).unwrap();
    env
}

#[test]
fn doctor_on_a_healthy_setup_snapshot() {
    let url = sts_standin(0);
    let env = healthy(&url);
    let (code, report) = doctor(&env);
    assert_eq!(
        code,
        Some(0),
        "doctor finds a fault in a healthy setup: {report}"
    );
    insta::assert_snapshot!(report);
}

#[test]
fn doctor_on_a_broken_setup_snapshot() {
    // STS's clock is ten minutes ahead of ours, the completions are stale, and the audit
    // log's directory is a file.
    let skewed = sts_standin(610);
    let env = healthy(&skewed);
    env.write_broker_config("[audit]\npath = \"~/not-a-dir/audit.jsonl\"\n");
    std::fs::write(env.home().join("not-a-dir"), "").unwrap();
    std::fs::write(
        env.dir
            .path()
            .join("data/bash-completion/completions/broker"),
        "# an old script\n",
    )
    .unwrap();
    let (code, skewed_report) = doctor(&env);
    assert_eq!(
        code,
        Some(1),
        "doctor misses a skewed clock: {skewed_report}"
    );

    // Nothing listens at the endpoint; no backend is usable (no D-Bus, none chosen); the
    // settings do not parse.
    let refused = crate::common::RefusedPort::new();
    let dead = refused.url();
    let broken = TestEnv::new()
        .env("AWS_ENDPOINT_URL", &dead)
        .env("SHELL", "/usr/bin/fish");
    broken.name_as(&dead, "http://127.0.0.1:[refused port]");
    broken.write_aws_config("[profile alice]\n");
    broken.write_broker_config("[session]\nmin_ttl = \"soon\"\n");
    let (code, broken_report) = doctor(&broken);
    assert_eq!(
        code,
        Some(1),
        "doctor misses a broken setup: {broken_report}"
    );
    insta::assert_snapshot!(format!("{skewed_report}\n\n{broken_report}"));
}
