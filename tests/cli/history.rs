//! `broker history` and the audit trail it reads: every issuing, refusal and error recorded
//! whole, filtered by profile and time, as JSON lines or a table.

use crate::common::{stderr_of, stdout_of, TestEnv};
use crate::fixtures::{export_json, Chain};

/// The records `broker history --json ARGS` prints.
pub fn history(env: &TestEnv, args: &[&str]) -> Vec<serde_json::Value> {
    let out = env
        .broker()
        .args(["history", "--json"])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    stdout_of(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

#[test]
fn every_issuing_is_audited_and_history_filters_and_prints_a_table() {
    let c = Chain::new();
    export_json(&c.env, &["r1"]);
    export_json(&c.env, &["r1"]);
    let out = c
        .env
        .broker()
        .args(["exec", "r2", "--", "true"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = c.env.broker().args(["export", "locked"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));

    let all = history(&c.env, &[]);
    let summary: Vec<_> = all
        .iter()
        .map(|r| {
            format!(
                "{} {} {} {}",
                r["profile"].as_str().unwrap(),
                r["via"].as_str().unwrap(),
                r["outcome"].as_str().unwrap(),
                r["cached"]
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            "r1 export issued false",
            "r1 export issued true",
            "r2 exec issued false",
            "locked export error false"
        ]
    );
    assert!(all[3]["error"].as_str().unwrap().contains("AccessDenied"));
    assert_eq!(history(&c.env, &["--profile", "r2"]).len(), 1);
    assert_eq!(history(&c.env, &["--since", "1h"]).len(), 4);
    assert_eq!(
        history(&c.env, &["--since", "9999999999999d"]).len(),
        4,
        "no overflow"
    );

    let log = c.env.dir.path().join("state/broker/audit.jsonl");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&log).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    assert!(!std::fs::read_to_string(&log)
        .unwrap()
        .contains(&c.key.secret_access_key));

    let out = c.env.broker().args(["history"]).output().unwrap();
    let table = stdout_of(&out);
    assert!(table.starts_with("TIME "), "{table}");
    assert!(table.contains("issued (cached)"));
    assert_eq!(table.lines().count(), 5);
}

#[test]
fn concurrent_processes_append_whole_audit_lines() {
    let c = Chain::new();
    export_json(&c.env, &["r1"]);
    let children: Vec<_> = (0..12)
        .map(|_| {
            c.env
                .std_command(crate::common::broker_bin())
                .args(["export", "r1"])
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    assert_eq!(history(&c.env, &[]).len(), 13);
}
