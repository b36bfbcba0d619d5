//! `broker history` and the audit trail behind it: every issuing tied to CloudTrail by its
//! access key id and account, the hash chain and `--verify` against edited, cut, reordered and
//! intact logs, shipping to a real syslog daemon and to an audit command, the `ended` record of
//! every exec, and the filters and the table. The scripts broker runs here (the audit command,
//! notify_command, exec's child) are sh on Unix and cmd batch files on Windows, where `ping -n
//! N+1 127.0.0.1` is the way to wait N seconds.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::moto::{venv, Moto};
#[cfg(unix)]
use crate::common::syslog::Syslog;
use crate::common::{
    assert_error, broker_bin, script, shell, stderr_of, stdout_of, transcribe, transcript,
    transcripts, under, unix_lines, TestEnv,
};
use crate::fixtures::{export_json, file_env, fixed_process_env, Chain, ACCOUNT};

const SECRET: &str = "fixed-secret-key-EXAMPLE";
const FIXED_KEY: &str = "ASIAFIXEDEXAMPLE0001";
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The records `broker history --json ARGS` prints.
pub fn history(env: &TestEnv, args: &[&str]) -> Vec<Value> {
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

fn log_path(env: &TestEnv) -> PathBuf {
    under(env.dir.path(), "state/broker/audit.jsonl")
}

fn lines(env: &TestEnv) -> Vec<String> {
    std::fs::read_to_string(log_path(env))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn write_lines(env: &TestEnv, lines: &[String]) {
    std::fs::create_dir_all(log_path(env).parent().unwrap()).unwrap();
    std::fs::write(log_path(env), format!("{}\n", lines.join("\n"))).unwrap();
}

fn sha256(line: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(line.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn outcomes(records: &[Value]) -> Vec<&str> {
    records
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect()
}

fn export(env: &TestEnv, args: &[&str]) -> std::process::Output {
    env.broker().arg("export").args(args).output().unwrap()
}

fn verify(env: &TestEnv) -> std::process::Output {
    env.broker().args(["history", "--verify"]).output().unwrap()
}

/// The transcript of `broker history --verify`.
fn verified(env: &TestEnv) -> String {
    transcript(env, &["history", "--verify"])
}

/// A log of six lines: the start of the chain and five issued records, each with its reason.
fn filled_log() -> TestEnv {
    let env = fixed_process_env(SECRET);
    for i in 1..=5 {
        let out = export(&env, &["--reason", &format!("INC-{i}"), "fixed"]);
        assert!(out.status.success(), "{}", stderr_of(&out));
    }
    assert_eq!(lines(&env).len(), 6);
    env
}

/// Polls (up to 20 s) until `done` says yes.
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "gave up waiting: {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

// CloudTrail correlation.

#[test]
#[cfg_attr(
    windows,
    ignore = "needs the test venv's AWS CLI, which this suite runs on Unix only"
)]
fn history_key_finds_the_record_of_the_key_the_aws_cli_signed_with() {
    let c = Chain::new();
    let config = std::fs::read_to_string(c.env.aws_config()).unwrap();
    c.env.write_aws_config(&format!(
        "{config}\n[profile cli]\ncredential_process = {} export --format json --reason INC-9 r1\n\
         region = us-east-1\n",
        broker_bin().display()
    ));
    let out = c
        .env
        .command(venv().join("bin/aws"))
        .args(["sts", "get-caller-identity", "--profile", "cli"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    // What CloudTrail would log as userIdentity.accessKeyId: the key the request was signed with.
    let used = c.moto.requests("GetCallerIdentity").pop().unwrap()["_AccessKeyId"].clone();
    assert!(used.starts_with("ASIA"), "{used}");
    assert_eq!(
        broker::audit::account_from_key(&used).as_deref(),
        Some(ACCOUNT),
        "moto's role session keys encode the account as AWS's do"
    );

    let found = history(&c.env, &["--key", &used]);
    assert_eq!(found.len(), 1, "{found:?}");
    let record = &found[0];
    assert_eq!(record["outcome"], "issued");
    assert_eq!(record["profile"], "r1");
    assert_eq!(record["via"], "export");
    assert_eq!(record["reason"], "INC-9");
    assert_eq!(record["access_key_id"], used.as_str());
    assert_eq!(record["account_id"], ACCOUNT);
    assert_eq!(
        history(&c.env, &["--key", &used.to_lowercase()]).len(),
        1,
        "key ids are compared as CloudTrail shows them, in any case"
    );
    assert!(history(&c.env, &["--key", "ASIAQNZGKIQY56JQ7WML"]).is_empty());
    assert!(
        !std::fs::read_to_string(log_path(&c.env))
            .unwrap()
            .contains(&c.key.secret_access_key),
        "no secret in the log"
    );
}

#[test]
fn a_session_without_a_role_takes_its_account_from_its_key() {
    // GetSessionToken: moto accepts its credentials only without enforcement (see the README).
    let moto = Moto::start(None);
    let key = moto.create_user("mia");
    let env = file_env(&moto);
    env.write_aws_config("[profile mia]\nregion = eu-west-1\n");
    crate::fixtures::store_key(&env, "mia", &key.access_key_id, &key.secret_access_key);
    let session = export_json(&env, &["mia"]);
    let stored = export_json(&env, &["--no-session", "mia"]);
    let records = history(&env, &["--profile", "mia"]);
    assert_eq!(outcomes(&records), ["issued", "issued"]);
    for (record, creds) in records.iter().zip([&session, &stored]) {
        assert_eq!(record["access_key_id"], creds["AccessKeyId"]);
        assert_eq!(record["role_arn"], Value::Null);
    }
    // moto makes IAM keys the way AWS does, with the account encoded; no STS call asks for it.
    assert_eq!(moto.count("GetCallerIdentity"), 0);
    assert_eq!(records[1]["account_id"], ACCOUNT, "{}", records[1]);
    // moto's GetSessionToken answers with AWS's documentation key, of the old format that
    // encodes no account: unknown, not guessed.
    assert_eq!(session["AccessKeyId"], "AKIAIOSFODNN7EXAMPLE");
    assert_eq!(records[0]["account_id"], Value::Null);
}

// The hash chain.

#[test]
fn every_record_carries_the_hash_of_the_line_before_it() {
    let env = filled_log();
    let lines = lines(&env);
    let first: Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(first["outcome"], "chain_started", "the first record");
    assert_eq!(first["prev"], GENESIS, "the first record's prev");
    for pair in lines.windows(2) {
        let record: Value = serde_json::from_str(&pair[1]).unwrap();
        assert_eq!(record["prev"], sha256(&pair[0]), "the prev of {}", pair[1]);
    }
}

#[test]
fn verify_says_intact_with_the_number_of_records() {
    let env = filled_log();
    insta::assert_snapshot!(verified(&env));
}

#[test]
fn verify_names_an_edited_line() {
    let env = filled_log();
    let mut edited = lines(&env);
    edited[2] = edited[2].replace("INC-2", "INC-X");
    write_lines(&env, &edited);
    insta::assert_snapshot!(verified(&env));
    // history still reads it.
    assert_eq!(
        history(&env, &["--reason", "INC-X"]).len(),
        1,
        "history reads the edited line"
    );
}

#[test]
fn verify_names_where_lines_were_cut_from_the_middle() {
    let env = filled_log();
    let mut cut = lines(&env);
    cut.drain(2..4);
    write_lines(&env, &cut);
    insta::assert_snapshot!(verified(&env));
}

#[test]
fn verify_names_a_log_truncated_in_the_middle_of_a_line() {
    let env = filled_log();
    let text = std::fs::read_to_string(log_path(&env)).unwrap();
    let middle_of_line_4 = text.match_indices('\n').nth(2).unwrap().0 + 40;
    std::fs::write(log_path(&env), &text[..middle_of_line_4]).unwrap();
    let cut = verified(&env);
    // broker goes on writing after the cut line; the cut stays visible.
    let out = export(&env, &["fixed"]);
    assert!(
        out.status.success(),
        "export after the cut: {}",
        stderr_of(&out)
    );
    let after = transcripts(&env, &[&["history", "--verify"], &["history"]]);
    insta::assert_snapshot!(format!("{cut}\n{after}"));
}

#[test]
fn verify_names_reordered_lines() {
    let env = filled_log();
    let mut swapped = lines(&env);
    swapped.swap(2, 3);
    write_lines(&env, &swapped);
    insta::assert_snapshot!(verified(&env));
}

#[test]
fn an_old_log_without_prev_still_reads_and_verify_says_where_the_chain_starts() {
    let env = fixed_process_env(SECRET);
    let old = r#"{"time":"2025-01-01T00:00:00Z","profile":"fixed","role_arn":null,"session_name":null,"source_identity":null,"reason":"old","expiration":null,"via":"export","cached":false,"outcome":"issued","error":null}"#;
    write_lines(&env, &[old.to_string(), old.replace("old", "older")]);
    let out = export(&env, &["fixed"]);
    assert!(out.status.success(), "export: {}", stderr_of(&out));
    let records = history(&env, &[]);
    assert_eq!(
        outcomes(&records),
        ["issued", "issued", "chain_started", "issued"],
        "the old records, then a new chain"
    );
    assert_eq!(
        records[2]["prev"],
        sha256(&old.replace("old", "older")),
        "the new chain starts from the old log's last line"
    );
    insta::assert_snapshot!(verified(&env));
}

#[test]
fn a_rotated_log_begins_a_new_chain_with_a_record_saying_so() {
    let env = filled_log();
    let rotated = under(env.dir.path(), "state/broker/audit.jsonl.1");
    std::fs::rename(log_path(&env), &rotated).unwrap();
    let out = export(&env, &["fixed"]);
    assert!(out.status.success(), "export: {}", stderr_of(&out));
    let records = history(&env, &[]);
    assert_eq!(
        outcomes(&records),
        ["chain_started", "issued"],
        "a new chain"
    );
    assert_eq!(records[0]["prev"], GENESIS, "the new chain's first prev");
    assert!(
        records[0]["note"]
            .as_str()
            .unwrap()
            .starts_with("a new log (the file was missing or empty)"),
        "the new chain says why: {}",
        records[0]
    );
    let new = verified(&env);
    // The rotated file keeps its own, intact chain.
    env.write_broker_config(&format!("[audit]\npath = '{}'\n", rotated.display()));
    insta::assert_snapshot!(format!("{new}\n{}", verified(&env)));
}

#[test]
fn concurrent_appenders_keep_one_unbroken_chain() {
    let c = Chain::new();
    export_json(&c.env, &["r1"]);
    let children: Vec<_> = (0..12)
        .map(|_| {
            c.env
                .std_command(broker_bin())
                .args(["export", "r1"])
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        let status = child.wait().unwrap();
        assert!(status.success(), "an export ended with {status}");
    }
    assert_eq!(
        history(&c.env, &["--outcome", "issued"]).len(),
        13,
        "a record of every export"
    );
    insta::assert_snapshot!(verified(&c.env));
}

// Shipping.

#[cfg(unix)]
#[test]
fn syslog_receives_the_same_json_as_the_file_as_authpriv_broker() {
    let mut env = fixed_process_env(SECRET);
    let syslog = Syslog::start(env.dir.path());
    env.send_syslog_to(&syslog.socket);
    env.write_broker_config("[audit]\nsyslog = true\n[profile.fixed]\nrequire_reason = true\n");
    assert_eq!(
        export(&env, &["fixed"]).status.code(),
        Some(1),
        "export without the reason the policy requires"
    );
    let out = env
        .broker()
        .args(["exec", "--reason", "INC-5", "fixed", "--"])
        .args(shell("true", "exit 0"))
        .output()
        .unwrap();
    assert!(out.status.success(), "exec: {}", stderr_of(&out));
    assert!(
        !stderr_of(&out).contains("warning"),
        "a warning with syslog up: {}",
        stderr_of(&out)
    );

    let written = lines(&env);
    assert_eq!(written.len(), 4, "chain start, refused, issued, ended");
    let received = syslog.wait_for(written.len());
    let msgs: Vec<&str> = received.iter().map(|m| m.msg.as_str()).collect();
    assert_eq!(msgs, written, "syslog got each line of the file, as it is");
    for (message, line) in received.iter().zip(&written) {
        assert_eq!(message.facility, "authpriv", "{line}");
        assert_eq!(message.tag, "broker", "{line}");
        let expected = if line.contains(r#""outcome":"refused""#) {
            "warning"
        } else {
            "info"
        };
        assert_eq!(message.severity, expected, "{line}");
    }
}

/// (Windows has no syslog socket.)
#[cfg(unix)]
#[test]
fn a_syslog_that_is_down_is_a_warning_and_a_shipping_failed_record() {
    let mut env = fixed_process_env(SECRET);
    let missing = env.dir.path().join("no-syslog-here");
    env.send_syslog_to(&missing);
    env.write_broker_config("[audit]\nsyslog = true\n");
    let (out, exported) = transcribe(&env, env.broker().args(["export", "fixed"]));
    assert!(out.status.success(), "{exported}");
    insta::assert_snapshot!(exported);
    let records = history(&env, &[]);
    assert_eq!(
        outcomes(&records),
        [
            "chain_started",
            "issued",
            "shipping_failed",
            "shipping_failed"
        ],
        "a shipping_failed record for the chain's start and for the issue"
    );
    assert_eq!(
        records[3]["access_key_id"], FIXED_KEY,
        "the failure names the key: {}",
        records[3]
    );
    assert!(
        records[3]["error"]
            .as_str()
            .unwrap()
            .contains("(the issued record of "),
        "the failure names the record: {}",
        records[3]
    );
    assert!(
        verify(&env).status.success(),
        "the chain with its failure records"
    );
}

/// `prev` recomputed for every line from `from` (0-based) on, as someone who knows the format
/// would after removing or editing lines: the local chain then holds.
#[cfg(unix)]
fn rechain(lines: &mut [String], from: usize) {
    for i in from..lines.len() {
        let mut record: Value = serde_json::from_str(&lines[i]).unwrap();
        record["prev"] = Value::String(sha256(&lines[i - 1]));
        lines[i] = record.to_string();
    }
}

/// The transcript of `broker history --verify --against COPY`.
#[cfg(unix)]
fn verified_against(env: &TestEnv, copy: &std::path::Path) -> String {
    transcribe(
        env,
        env.broker()
            .args(["history", "--verify", "--against"])
            .arg(copy),
    )
    .1
}

/// (The shipped copy is syslog's, which Windows has not.)
#[cfg(unix)]
#[test]
fn verify_against_a_shipped_copy_names_what_the_chain_alone_cannot_show() {
    let mut env = fixed_process_env(SECRET);
    let syslog = Syslog::start(env.dir.path());
    env.send_syslog_to(&syslog.socket);
    let kept = env.dir.path().join("kept.jsonl");
    let ship = script(&env, "ship", &format!("cat >> {}", kept.display()), "");
    env.write_broker_config(&format!(
        "[audit]\nsyslog = true\ncommand = [\"{}\"]\n",
        ship.display()
    ));
    for i in 1..=6 {
        let out = export(&env, &["--reason", &format!("INC-{i}"), "fixed"]);
        assert!(out.status.success(), "{}", stderr_of(&out));
    }
    let original = lines(&env);
    assert_eq!(original.len(), 7);
    assert_eq!(syslog.wait_for(7).len(), 7);
    eventually("the audit command kept every record", || {
        std::fs::read_to_string(&kept).is_ok_and(|s| s.lines().count() == 7)
    });
    // Every shipped line carries its prev: the copy's own chain is the log's.
    let shipped: Vec<String> = syslog.messages().into_iter().map(|m| m.msg).collect();
    assert_eq!(shipped, original, "syslog got the log's lines");
    let against = |copy: &std::path::Path| verified_against(&env, copy);
    let mut transcripts = vec![against(syslog.file()), against(&kept)];

    // Cut short: the chain alone holds.
    write_lines(&env, &original[..5]);
    assert!(verify(&env).status.success(), "the cut log's own chain");
    transcripts.push(against(syslog.file()));
    transcripts.push(against(&kept));

    // One line edited.
    let mut edited = original.clone();
    edited[3] = edited[3].replace("INC-3", "INC-X");
    write_lines(&env, &edited);
    transcripts.push(against(syslog.file()));

    // Lines 3 and 4 removed and prev recomputed from there on: the chain alone holds.
    let mut recomputed = original.clone();
    recomputed.drain(2..4);
    rechain(&mut recomputed, 2);
    write_lines(&env, &recomputed);
    transcripts.push(verified(&env));
    transcripts.push(against(syslog.file()));

    // A copy without any record of broker's is no proof of anything.
    let empty = env.dir.path().join("empty");
    std::fs::write(&empty, "Jan  1 00:00:00 host sshd[1]: hello\n").unwrap();
    transcripts.push(against(&empty));
    insta::assert_snapshot!(transcripts.join("\n"));
}

/// An `[audit]` section that runs a script per record (see [`script`]).
fn ship_with(env: &TestEnv, (unix, windows): (&str, &str), timeout: &str) -> PathBuf {
    let ship = script(env, "ship", unix, windows);
    env.write_broker_config(&format!(
        "[audit]\ncommand = ['{}', \"--stream\", \"broker\"]\ncommand_timeout = \"{timeout}\"\n",
        ship.display()
    ));
    ship
}

#[test]
fn the_audit_command_gets_each_record_on_stdin_without_slowing_the_export() {
    let env = fixed_process_env(SECRET);
    let shipped = env.dir.path().join("shipped");
    let seen = env.dir.path().join("seen");
    // The command ships nothing until the test opens the gate: an export that waited for it
    // would never end.
    let gate = env.dir.path().join("gate");
    let (gate, seen_at, shipped_at) = (gate.display(), seen.display(), shipped.display());
    ship_with(
        &env,
        (
            &format!(
                "while [ ! -e {gate} ]; do sleep 0.05; done\n\
                 echo \"$*\" >> {seen_at}\nenv >> {seen_at}\ncat >> {shipped_at}"
            ),
            &format!(
                ":gate\nif not exist \"{gate}\" (ping -n 1 127.0.0.1 >nul & goto gate)\n\
                 >> \"{seen_at}\" echo %*\n>> \"{seen_at}\" set\nmore >> \"{shipped_at}\""
            ),
        ),
        "60s",
    );
    let gate = env.dir.path().join("gate");
    let out = env
        .broker()
        .args(["export", "--format", "json", "fixed"])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the export waited for the audit command, or failed: {}",
        stderr_of(&out)
    );
    assert!(!shipped.exists(), "shipped before the gate opened");
    std::fs::write(&gate, "").unwrap();
    eventually("both records shipped", || {
        std::fs::read_to_string(&shipped).is_ok_and(|s| s.lines().count() == 2)
    });
    let shipped = unix_lines(&std::fs::read_to_string(&shipped).unwrap());
    assert_eq!(
        shipped,
        format!("{}\n", lines(&env).join("\n")),
        "the file's lines"
    );
    let seen = unix_lines(&std::fs::read_to_string(&seen).unwrap());
    assert!(seen.starts_with("--stream broker\n"), "{seen}");
    assert!(!seen.contains(SECRET) && !seen.contains("AWS_SESSION_TOKEN"));
}

#[test]
fn a_hanging_audit_command_is_stopped_after_its_bound_and_recorded() {
    let env = fixed_process_env(SECRET);
    let pids = env.dir.path().join("pids");
    ship_with(
        &env,
        (
            &format!("echo $$ >> {}\nexec sleep 300", pids.display()),
            "ping -n 301 127.0.0.1 >nul",
        ),
        "3s",
    );
    // broker's stderr a file, as in a CI log: the background warning lands there.
    let stderr_file = env.dir.path().join("stderr");
    let started = Instant::now();
    let status = env
        .std_command(broker_bin())
        .args(["export", "fixed"])
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&stderr_file).unwrap())
        .status()
        .unwrap();
    assert!(status.success());
    assert!(
        history(&env, &["--outcome", "shipping_failed"]).is_empty(),
        "the export waited for the audit command's bound"
    );
    eventually("two shipping_failed records", || {
        history(&env, &["--outcome", "shipping_failed"]).len() == 2
    });
    let failed = history(&env, &["--outcome", "shipping_failed"]);
    for record in &failed {
        let error = record["error"].as_str().unwrap();
        assert!(
            error.starts_with("audit command ")
                && error.contains(" did not finish within 3s and was stopped"),
            "{error}"
        );
    }
    assert!(
        started.elapsed() >= Duration::from_secs(6),
        "each run had its 3 s"
    );
    // (On Windows the job object that stops it is checked in hostile.rs, with mfa_process.)
    #[cfg(unix)]
    for pid in std::fs::read_to_string(&pids).unwrap().lines() {
        let alive = std::path::Path::new(&format!("/proc/{pid}")).exists()
            && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .unwrap_or_default()
                .contains(") Z ");
        assert!(!alive, "the hanging command {pid} was left running");
    }
    let stderr = std::fs::read_to_string(&stderr_file).unwrap();
    assert!(
        stderr.contains("broker: warning: audit command ")
            && stderr.contains("did not finish within 3s"),
        "{stderr}"
    );
    assert!(verify(&env).status.success());
}

#[test]
fn a_failing_audit_command_is_a_warning_and_a_shipping_failed_record() {
    let env = fixed_process_env(SECRET);
    ship_with(
        &env,
        (
            "cat > /dev/null\necho shipper-says-no >&2\nexit 7",
            "more >nul\necho shipper-says-no>&2\nexit 7",
        ),
        "10s",
    );
    let stderr_file = env.dir.path().join("stderr");
    let status = env
        .std_command(broker_bin())
        .args(["export", "fixed"])
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&stderr_file).unwrap())
        .status()
        .unwrap();
    assert!(status.success());
    eventually("two shipping_failed records", || {
        history(&env, &["--outcome", "shipping_failed"]).len() == 2
    });
    let failed = history(&env, &["--outcome", "shipping_failed"]);
    assert!(failed[1]["error"].as_str().unwrap().contains(&format!(
        "failed: it exited with {}: 7 (the issued record of ",
        exit_words()
    )));
    assert_eq!(failed[1]["profile"], "fixed");
    let stderr = std::fs::read_to_string(&stderr_file).unwrap();
    assert!(stderr.contains("shipper-says-no"), "{stderr}");
    assert!(
        stderr.contains("broker: warning: audit command "),
        "{stderr}"
    );
}

// The end of every exec.

#[test]
fn exec_of_a_child_that_exits_3_is_ended_with_its_status_and_notified_again() {
    let env = fixed_process_env(SECRET);
    let notified = env.dir.path().join("notified");
    let to = notified.display();
    let notify = script(
        &env,
        "notify",
        &format!(
            "{{ echo \"event=$BROKER_EVENT key=$BROKER_ACCESS_KEY_ID status=$BROKER_EXIT_STATUS\"; \
             env | grep -c AWS_SECRET_ACCESS_KEY; }} >> {to}"
        ),
        &format!(
            ">> \"{to}\" echo event=%BROKER_EVENT% key=%BROKER_ACCESS_KEY_ID% status=%BROKER_EXIT_STATUS%\n\
             if defined AWS_SECRET_ACCESS_KEY (>> \"{to}\" echo 1) else (>> \"{to}\" echo 0)"
        ),
    );
    env.write_broker_config(&format!(
        // (Not break-glass: that needs a session of its own per reason, which a
        // credential_process cannot give.)
        "[profile.fixed]\nrequire_reason = true\nnotify_command = ['{}']\n",
        notify.display()
    ));
    let out = env
        .broker()
        .args(["exec", "--reason", "INC-3", "--yes", "fixed", "--"])
        .args(shell(
            "sleep 1; exit 3",
            "ping -n 2 127.0.0.1 >nul & exit 3",
        ))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));

    let records = history(&env, &["--profile", "fixed"]);
    assert_eq!(outcomes(&records), ["issued", "ended"], "{records:?}");
    let (issued, ended) = (&records[0], &records[1]);
    assert_eq!(ended["via"], "exec", "{ended}");
    assert_eq!(ended["exit_code"], 3, "{ended}");
    assert_eq!(ended["signal"], Value::Null, "{ended}");
    assert_eq!(ended["access_key_id"], FIXED_KEY, "{ended}");
    assert_eq!(ended["started"], issued["time"], "ended's start: {ended}");
    assert_eq!(ended["reason"], "INC-3", "{ended}");
    let seconds = ended["seconds_in_use"].as_f64().unwrap();
    assert!((1.0..30.0).contains(&seconds), "seconds in use: {seconds}");

    assert_eq!(
        unix_lines(&std::fs::read_to_string(&notified).unwrap()),
        format!(
            "event=issued key={FIXED_KEY} status=\n0\nevent=ended key={FIXED_KEY} status=3\n0\n"
        ),
        "notified of the issue and the end, without the secret"
    );

    // The table shows the end beside the start, in one row.
    let out = env
        .broker()
        .args(["history", "--profile", "fixed"])
        .output()
        .unwrap();
    let table = stdout_of(&out);
    assert_eq!(table.lines().count(), 2, "{table}");
    assert!(
        table
            .lines()
            .nth(1)
            .unwrap()
            .contains(&format!("  exit 3, {}s  ", seconds.round())),
        "{table}"
    );
    // Asked for alone, the end has its own row.
    let out = env
        .broker()
        .args(["history", "--outcome", "ended"])
        .output()
        .unwrap();
    assert!(
        stdout_of(&out).contains("  ended  "),
        "the end's own row: {}",
        stdout_of(&out)
    );
}

#[cfg(unix)]
#[test]
fn exec_of_a_child_killed_by_a_signal_is_ended_with_the_signal() {
    let env = fixed_process_env(SECRET);
    let out = env
        .broker()
        .args(["exec", "fixed", "--", "sh", "-c", "kill -KILL $$"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(128 + 9), "{}", stderr_of(&out));
    let ended = history(&env, &["--outcome", "ended"]);
    assert_eq!(ended.len(), 1, "{ended:?}");
    assert_eq!(ended[0]["signal"], 9, "{}", ended[0]);
    assert_eq!(ended[0]["exit_code"], Value::Null, "{}", ended[0]);
    assert_eq!(ended[0]["access_key_id"], FIXED_KEY, "{}", ended[0]);
}

#[test]
fn exec_of_a_missing_program_is_ended_as_not_run() {
    let env = fixed_process_env(SECRET);
    let missing = if cfg!(windows) {
        r"C:\nonexistent\program.exe"
    } else {
        "/nonexistent/program"
    };
    let out = env
        .broker()
        .args(["exec", "fixed", "--", missing])
        .output()
        .unwrap();
    assert_error(&out, 127, &format!("cannot run {missing}"));
    let ended = history(&env, &["--outcome", "ended"]);
    assert_eq!(ended[0]["exit_code"], 127, "{}", ended[0]);
    assert!(
        ended[0]["error"]
            .as_str()
            .unwrap()
            .starts_with(&format!("cannot run {missing}")),
        "the ended record says why: {}",
        ended[0]
    );
}

#[test]
fn exec_server_is_ended_when_its_child_exits() {
    let env = fixed_process_env(SECRET);
    let out = env
        .broker()
        .args(["exec", "--server", "fixed", "--"])
        .args(shell("exit 5", "exit 5"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", stderr_of(&out));
    let records = history(&env, &["--via", "server"]);
    assert_eq!(outcomes(&records), ["issued", "ended"], "{records:?}");
    assert_eq!(records[1]["exit_code"], 5, "{}", records[1]);
    assert_eq!(
        records[1]["started"], records[0]["time"],
        "ended's start is the issue's time: {records:?}"
    );
}

// Filters and the table.

#[test]
fn history_filters_by_outcome_via_reason_and_key() {
    let env = fixed_process_env(SECRET);
    env.write_broker_config("[profile.fixed]\nrequire_reason = true\n");
    assert_eq!(
        export(&env, &["fixed"]).status.code(),
        Some(1),
        "export without the required reason"
    );
    let out = export(&env, &["--reason", "INC-1 db down", "fixed"]);
    assert!(out.status.success(), "export: {}", stderr_of(&out));
    let out = env
        .broker()
        .args(["exec", "--reason", "inc-2 network", "fixed", "--"])
        .args(shell("true", "exit 0"))
        .output()
        .unwrap();
    assert!(out.status.success(), "exec: {}", stderr_of(&out));

    let count = |args: &[&str]| history(&env, args).len();
    assert_eq!(count(&[]), 5, "chain start, refused, issued, issued, ended");
    assert_eq!(count(&["--outcome", "refused"]), 1, "--outcome refused");
    assert_eq!(count(&["--outcome", "ended"]), 1, "--outcome ended");
    assert_eq!(
        count(&["--outcome", "chain_started"]),
        1,
        "--outcome chain_started"
    );
    assert_eq!(count(&["--via", "exec"]), 2, "--via exec");
    assert_eq!(count(&["--via", "export"]), 2, "--via export");
    assert_eq!(
        count(&["--reason", "db DOWN"]),
        1,
        "a substring, in any case"
    );
    assert_eq!(count(&["--reason", "inc-"]), 3, "--reason inc-");
    assert_eq!(count(&["--key", FIXED_KEY]), 3, "--key");
    assert_eq!(
        count(&["--key", FIXED_KEY, "--via", "exec"]),
        2,
        "--key and --via"
    );
    assert_eq!(
        count(&["--key", FIXED_KEY, "--outcome", "issued"]),
        2,
        "--key and --outcome"
    );

    insta::assert_snapshot!(transcripts(
        &env,
        &[
            &["history", "--outcome", "bogus"],
            &["history", "--verify", "--profile", "fixed"],
        ]
    ));
}

/// Gives the records of the log fixed times (a minute apart, `started` following its record),
/// key ids and durations, so the table is the same in every run, times included.
fn normalise(env: &TestEnv) {
    let mut times = std::collections::HashMap::new();
    let mut keys = std::collections::HashMap::new();
    let normalised: Vec<String> = lines(env)
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let mut record: Value = serde_json::from_str(line).unwrap();
            let time = format!("2026-11-25T20:{:02}:00Z", i);
            // Fixed, so the transcripts show it as it is.
            env.name_as(&time, &time);
            times.insert(record["time"].as_str().unwrap().to_string(), time.clone());
            record["time"] = time.into();
            if let Some(started) = record.get("started").and_then(Value::as_str) {
                record["started"] = times[started].clone().into();
            }
            if let Some(key) = record["access_key_id"].as_str() {
                let n = keys.len() + 1;
                let fixed = keys
                    .entry(key.to_string())
                    .or_insert_with(|| format!("ASIAEXAMPLEKEY{n:06}"));
                record["access_key_id"] = fixed.clone().into();
            }
            if record.get("seconds_in_use").is_some() {
                record["seconds_in_use"] = 63.2.into();
            }
            serde_json::to_string(&record).unwrap()
        })
        .collect();
    write_lines(env, &normalised);
}

#[test]
fn history_table_pairs_ends_shows_errors_and_fits_the_width() {
    let moto = Moto::start(None);
    let env = file_env(&moto);
    let creds = env.dir.path().join("creds.json");
    std::fs::write(
        &creds,
        serde_json::json!({"Version": 1, "AccessKeyId": "AKIAIOSFODNN7EXAMPLE",
            "SecretAccessKey": SECRET})
        .to_string(),
    )
    .unwrap();
    let (cat, broken) = if cfg!(windows) {
        ("type", "echo the identity provider is down>&2& exit 1")
    } else {
        (
            "cat",
            "sh -c 'echo the identity provider is down >&2; exit 1'",
        )
    };
    env.write_aws_config(&format!(
        "[profile analyst]\ncredential_process = {cat} {}\n\n\
         [profile breakglass]\nrole_arn = arn:aws:iam::{ACCOUNT}:role/breakglass\n\
         source_profile = analyst\nrole_session_name = alice\n\n\
         [profile broken]\ncredential_process = {broken}\n\
         role_arn = arn:aws:iam::{ACCOUNT}:role/reader\n",
        creds.display()
    ));
    env.write_broker_config("[profile.breakglass]\nrequire_reason = true\n");
    let reason = "INC-4711: primary DB unreachable since the 20:00 deploy";
    assert_eq!(
        export(&env, &["breakglass"]).status.code(),
        Some(1),
        "export without the required reason"
    );
    let out = env
        .broker()
        .args(["exec", "--reason", reason, "breakglass", "--"])
        .args(shell("exit 3", "exit 3"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));
    let out = export(&env, &["--reason", reason, "breakglass"]);
    assert!(out.status.success(), "export: {}", stderr_of(&out));
    assert_eq!(
        export(&env, &["broken"]).status.code(),
        Some(1),
        "export of a profile whose credential_process fails"
    );
    normalise(&env);

    let table = |columns: &[(&str, &str)]| {
        let (out, transcript) = transcribe(
            &env,
            env.broker().arg("history").envs(columns.iter().copied()),
        );
        assert!(out.status.success(), "{transcript}");
        (stdout_of(&out), transcript)
    };
    let (wide, transcript) = table(&[]);
    insta::assert_snapshot!("history_table", transcript);
    let (narrow, transcript) = table(&[("COLUMNS", "150")]);
    insta::assert_snapshot!("history_table_150_columns", transcript);
    for line in narrow.lines() {
        assert!(
            line.chars().count() <= 150,
            "wider than 150 columns: {line}"
        );
    }
    assert!(
        wide.replace(exit_words(), "exit status")
            .contains("credential_process of profile broken failed: it exited with exit status: 1"),
        "the error, whole, in the wide table: {wide}"
    );
}

/// What Rust's std calls an exit status in its message: "exit status" on Unix, "exit code" on
/// Windows.
fn exit_words() -> &'static str {
    if cfg!(windows) {
        "exit code"
    } else {
        "exit status"
    }
}
