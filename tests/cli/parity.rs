//! Parity with the AWS CLI and boto3, checked against them: every config of the corpus
//! (tests/parity/corpus.toml) goes to `broker debug resolve PROFILE --json` and to botocore
//! from the test venv (tests/parity_botocore.py, botocore's own config loading and credential
//! providers with the STS calls answered in-process), and the two must agree on the region and
//! on every STS call of the chain: role ARN, session name, external id, MFA device, duration,
//! source identity, tags, the credentials it starts from, the endpoint — or disagree only in
//! one of the [`ALLOWED`] ways, each on purpose and in the README's table of differences.
//!
//! Every allowed difference must still occur in the corpus, so the list cannot outlive what it
//! excuses. Run with `--nocapture` to see each case and the differences it showed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{json, Value};

use crate::common::moto::venv;
use crate::common::{stderr_of, TestEnv};

/// The user name broker sees, for its default session name.
const USER: &str = "parity-user";

#[derive(Debug, Deserialize)]
struct Corpus {
    case: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    about: String,
    /// None: no profile named, for the environment to choose.
    profile: Option<String>,
    config: String,
    #[serde(default)]
    credentials: String,
    #[serde(default)]
    keys: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    args: Vec<String>,
    botocore_config: Option<String>,
}

/// One field on which broker and botocore differ.
#[derive(Debug)]
struct Diff {
    path: String,
    broker: Value,
    botocore: Value,
}

/// What a rule sees of a case.
struct Seen<'a> {
    case: &'a Case,
    /// broker's JSON, or `None` when it refused.
    broker: Option<&'a Value>,
    broker_view: &'a Value,
    botocore_view: &'a Value,
}

/// A difference made on purpose: its id, why, and which differences it explains.
struct Allowed {
    id: &'static str,
    why: &'static str,
    explains: fn(&Seen, &Diff) -> bool,
}

/// The differences between broker and botocore that are on purpose. Each is a row of the
/// README's "Differences from the AWS CLI and aws-vault" table.
const ALLOWED: &[Allowed] = &[
    Allowed {
        id: "session-name-default",
        why: "without role_session_name broker names the session after the local user (for \
              CloudTrail); botocore uses botocore-session-<timestamp>",
        explains: |_, d| {
            d.path.ends_with(".session_name")
                && d.botocore.as_str().is_some_and(|s| {
                    s.strip_prefix("botocore-session-")
                        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                })
                && d.broker == USER
        },
    },
    Allowed {
        id: "session-token",
        why: "broker never hands out long-term keys: a profile without a role gets a \
              GetSessionToken session, and a chain with an MFA device one MFA'd session that \
              assumes every role; botocore uses the keys themselves",
        explains: |_, d| d.path == "session_token" && d.botocore.is_null() && d.broker.is_object(),
    },
    Allowed {
        id: "mfa-in-session-token",
        why: "with a session token the MFA code goes with GetSessionToken, once for every \
              role of the chain; botocore sends each role profile's device with its own \
              AssumeRole (a prompt per role, per hour)",
        explains: |seen, d| {
            let Some(i) = call_index(&d.path, ".mfa_serial") else {
                return false;
            };
            let own = seen
                .broker
                .map(|b| &b["hops"][i]["mfa_serial"])
                .unwrap_or(&Value::Null);
            d.broker.is_null()
                && !d.botocore.is_null()
                && *own == d.botocore
                && !seen.broker_view["session_token"]["mfa_serial"].is_null()
        },
    },
    Allowed {
        id: "source-mfa-without-session",
        why: "with --no-session (or a process or web identity source) the first AssumeRole also \
              carries the source profile's device when its own profile names none, so that an \
              mfa_serial on the IAM user's profile is never silently ignored; botocore ignores \
              it",
        explains: |seen, d| {
            d.path == "calls[0].mfa_serial"
                && d.botocore.is_null()
                && seen
                    .broker
                    .is_some_and(|b| b["hops"][0]["mfa_serial"].is_null())
                && !d.broker.is_null()
        },
    },
    Allowed {
        id: "chained-duration-cap",
        why: "AWS refuses more than 1h for a role assumed with another role's credentials; \
              broker caps the hop at 1h and says so, botocore sends what the profile asks and \
              STS refuses it",
        explains: |_, d| {
            call_index(&d.path, ".duration_seconds").is_some_and(|i| i >= 1)
                && d.broker == 3600
                && d.botocore.as_u64().is_some_and(|s| s > 3600)
        },
    },
    Allowed {
        id: "web-identity-duration",
        why: "broker sends a web identity profile's duration_seconds with \
              AssumeRoleWithWebIdentity (as aws-vault does); botocore ignores it there (STS then \
              gives 1h)",
        explains: |seen, d| {
            call_index(&d.path, ".duration_seconds").is_some()
                && d.botocore.is_null()
                && seen.botocore_view["calls"]
                    .as_array()
                    .and_then(|calls| calls.first())
                    .is_some_and(|c| c["action"] == "AssumeRoleWithWebIdentity")
        },
    },
    Allowed {
        id: "aws-region",
        why: "AWS_REGION beats AWS_DEFAULT_REGION and the profile, as in the AWS CLI v2 and \
              every other AWS SDK (and so STS is called in that region); botocore (boto3, the \
              AWS CLI v1) reads only AWS_DEFAULT_REGION",
        explains: |seen, d| {
            let Some(region) = seen.case.env.get("AWS_REGION") else {
                return false;
            };
            d.botocore != d.broker
                && (d.path == "region" && d.broker == *region
                    || d.path == "endpoint"
                        && d.broker == format!("https://sts.{region}.amazonaws.com").as_str())
        },
    },
    Allowed {
        id: "region-default",
        why: "with no region anywhere broker uses us-east-1 (STS answers there for every \
              account) and its regional endpoint; botocore has none, and calls the global \
              endpoint sts.amazonaws.com",
        explains: |seen, d| {
            let by_default = seen.broker.is_some_and(|b| b["region_source"] == "default");
            by_default
                && (d.path == "region" && d.botocore.is_null() && d.broker == "us-east-1"
                    || d.path == "endpoint"
                        && d.botocore == "https://sts.amazonaws.com"
                        && d.broker == "https://sts.us-east-1.amazonaws.com")
        },
    },
    Allowed {
        id: "source-identity",
        why: "broker sends source_identity with AssumeRole; botocore does not know the key",
        explains: |_, d| d.path.ends_with(".source_identity") && d.botocore.is_null(),
    },
    Allowed {
        id: "session-tags",
        why: "broker sends session_tags and transitive_session_tags (aws-vault's keys) with the \
              AssumeRole of the profile that has them; botocore does not know them",
        explains: |_, d| {
            (d.path.ends_with(".tags") || d.path.ends_with(".transitive_tag_keys"))
                && d.botocore.as_array().is_some_and(Vec::is_empty)
        },
    },
    Allowed {
        id: "role-with-own-source",
        why: "a role profile without source_profile uses the keys stored under its own name or \
              its own credential_process (as aws-vault does); botocore needs a source_profile \
              or credential_source",
        explains: |seen, d| {
            d.path == "error"
                && d.botocore == "no-source"
                && d.broker.is_null()
                && seen
                    .broker
                    .is_some_and(|b| b["source"]["profile"] == b["profile"])
        },
    },
    Allowed {
        id: "source-with-keys-and-role",
        why: "a profile means the same to broker whether asked for or used as a source: a \
              source profile with a role is assumed even when it also has keys (as aws-vault \
              does); botocore then uses its keys and skips its role",
        explains: |seen, d| {
            if d.path != "source" && d.path != "calls" {
                return false;
            }
            let (Some(broker), Some(theirs)) = (
                seen.broker_view["calls"].as_array(),
                seen.botocore_view["calls"].as_array(),
            ) else {
                return false;
            };
            let Some(k) = broker.len().checked_sub(theirs.len()).filter(|k| *k >= 1) else {
                return false;
            };
            let profile = seen.broker.map(|b| &b["hops"][k - 1]["profile"]);
            broker[k..].iter().zip(theirs).all(|(b, o)| same_call(b, o))
                && profile.and_then(Value::as_str).is_some_and(|p| {
                    seen.case.keys.iter().any(|key| key == p)
                        && seen.botocore_view["source"] == format!("keys:{p}").as_str()
                })
        },
    },
    Allowed {
        id: "credential-source",
        why: "credential_source (EC2 instance metadata, the ECS container endpoint, the \
              environment) is refused: broker's credentials come from its vault and never from \
              the metadata services or inherited variables",
        explains: |_, d| d.path == "error" && d.broker == "unsupported:credential_source",
    },
    Allowed {
        id: "checked-early",
        why: "broker refuses a malformed role_arn or duration_seconds before calling STS; \
              botocore sends the ARN (STS refuses it) or drops the duration",
        explains: |_, d| {
            d.path == "error"
                && d.botocore.is_null()
                && (d.broker == "bad-arn" || d.broker == "bad-setting:duration_seconds")
        },
    },
    Allowed {
        id: "inline-comment",
        why: "broker reads the files with the AWS SDK for Rust's loader, which ends a value at \
              ` #` or ` ;`; botocore keeps the comment in the value (and then fails on it)",
        explains: |seen, d| {
            let commented = |v: &Value| {
                v.as_str()
                    .is_some_and(|s| s.contains(" #") || s.contains(" ;"))
            };
            (d.path == "region"
                && commented(&d.botocore)
                && d.botocore
                    .as_str()
                    .zip(d.broker.as_str())
                    .is_some_and(|(theirs, ours)| theirs.starts_with(ours)))
                || (d.path == "error"
                    && d.broker.is_null()
                    && d.botocore == "other:InvalidRegionError"
                    && commented(&seen.botocore_view["raw_region"]))
        },
    },
];

/// `calls[N]SUFFIX` → N.
fn call_index(path: &str, suffix: &str) -> Option<usize> {
    path.strip_prefix("calls[")?
        .strip_suffix(suffix)?
        .strip_suffix(']')?
        .parse()
        .ok()
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `{dir}` and `{process:NAME}` expanded; files named under `{dir}` created holding their
/// own path (web identity tokens).
fn expand(text: &str, dir: &Path) -> String {
    let python = venv().join("bin/python");
    let oracle = repo().join("tests/parity_botocore.py");
    let mut out = text.replace("{dir}", &dir.display().to_string());
    while let Some(start) = out.find("{process:") {
        let end = start + out[start..].find('}').expect("closed placeholder");
        let name = &out[start + "{process:".len()..end];
        let command = format!(
            "'{}' '{}' process {name}",
            python.display(),
            oracle.display()
        );
        out.replace_range(start..=end, &command);
    }
    let prefix = format!("{}/", dir.display());
    for word in out.split_whitespace() {
        if let Some(name) = word.strip_prefix(&prefix) {
            std::fs::write(dir.join(name), word).unwrap();
        }
    }
    out
}

/// Writes the case's files into `dir`.
fn write_case(case: &Case, dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("config"), expand(&case.config, dir)).unwrap();
    if let Some(config) = &case.botocore_config {
        std::fs::write(dir.join("botocore-config"), expand(config, dir)).unwrap();
    }
    let mut credentials = expand(&case.credentials, dir);
    for name in &case.keys {
        credentials.push_str(&format!(
            "\n[{name}]\naws_access_key_id = STATIC-{name}\naws_secret_access_key = not-a-secret\n"
        ));
    }
    std::fs::write(dir.join("credentials"), credentials).unwrap();
}

/// broker's answer: its JSON, or the category of its one-line error.
fn run_broker(sealed: &TestEnv, case: &Case, dir: &Path) -> Result<Value, String> {
    let mut cmd = sealed.broker();
    cmd.args(["debug", "resolve", "--json"])
        .args(&case.profile)
        .args(&case.args)
        .env("AWS_CONFIG_FILE", dir.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("credentials"))
        .env("USER", USER);
    for (k, v) in &case.env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    if out.status.success() {
        assert!(out.stderr.is_empty(), "{}", stderr_of(&out));
        return Ok(serde_json::from_slice(&out.stdout).expect("one JSON object"));
    }
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let first = err.lines().next().unwrap_or_default();
    assert!(first.starts_with("broker: error: "), "{err}");
    Err(first.to_string())
}

fn broker_error_category(message: &str) -> String {
    if message.contains("credential_source") {
        "unsupported:credential_source".into()
    } else if message.contains("cycle") {
        "cycle".into()
    } else if message.contains("is not in the AWS config") {
        "missing-profile".into()
    } else if message.contains("malformed role_arn") {
        "bad-arn".into()
    } else if message.contains("duration_seconds") {
        "bad-setting:duration_seconds".into()
    } else if message.contains("names services ") {
        "missing-services".into()
    } else {
        format!("other:{message}")
    }
}

fn botocore_error_category(error: &Value) -> String {
    let kind = error["type"].as_str().unwrap_or_default();
    let message = error["message"].as_str().unwrap_or_default();
    match kind {
        "InfiniteLoopConfigError" => "cycle".into(),
        "InvalidConfigError" if message.contains("services configuration does not exist") => {
            "missing-services".into()
        }
        "ProfileNotFound" => "missing-profile".into(),
        "InvalidConfigError" if message.contains("does not exist") => "missing-profile".into(),
        "PartialCredentialsError" if message.contains("source_profile") => "no-source".into(),
        _ => format!("other:{kind}"),
    }
}

/// Where credentials start, from the key id that signed the first call (or was handed out).
fn source_of_key(key: &str) -> String {
    if let Some(name) = key.strip_prefix("STATIC-") {
        format!("keys:{name}")
    } else if let Some(name) = key.strip_prefix("PROCESS-") {
        format!("process:{name}")
    } else {
        format!("other:{key}")
    }
}

/// broker's answer in the shape both are compared in.
fn broker_view(answer: &Result<Value, String>) -> Value {
    let b = match answer {
        Ok(b) => b,
        Err(message) => return json!({"error": broker_error_category(message)}),
    };
    let source = &b["source"];
    let source = match source["kind"].as_str() {
        Some("vault") => format!("keys:{}", source["profile"].as_str().unwrap()),
        Some("process") => format!("process:{}", source["profile"].as_str().unwrap()),
        Some("web_identity") => {
            format!("web_identity:{}", source["token_file"].as_str().unwrap())
        }
        Some("sso") => format!(
            "sso:{}/{}",
            source["sso_account_id"].as_str().unwrap(),
            source["sso_role_name"].as_str().unwrap()
        ),
        other => panic!("a source kind the parity test does not know yet: {other:?}"),
    };
    let steps = b["steps"].as_array().unwrap();
    let session_token = steps
        .iter()
        .find(|s| s["action"] == "GetSessionToken")
        .map(|s| json!({"mfa_serial": s["mfa_serial"]}))
        .unwrap_or(Value::Null);
    let calls: Vec<Value> = steps
        .iter()
        .filter(|s| s["action"] != "GetSessionToken" && s["action"] != "GetRoleCredentials")
        .map(|s| {
            let hop = &b["hops"][s["hop"].as_u64().unwrap() as usize];
            json!({
                "action": s["action"],
                "role_arn": s["role_arn"],
                "session_name": hop["session_name"],
                "external_id": hop["external_id"],
                "mfa_serial": s["mfa_serial"],
                "duration_seconds": s["duration_seconds"],
                "source_identity": hop["source_identity"],
                "tags": s["tags"],
                "transitive_tag_keys": s["transitive_tag_keys"],
            })
        })
        .collect();
    let portal = b["source"]["portal_url"].as_str().map(origin);
    json!({
        "error": null,
        "region": b["region"],
        "source": source,
        "session_token": session_token,
        "calls": calls,
        "endpoint": origin(b["sts_url"].as_str().unwrap()),
        "portal": portal,
    })
}

/// botocore's answer in the same shape; an "oracle" error when its calls do not form a chain.
fn botocore_view(r: &Value) -> Value {
    let region = r.get("region").cloned().unwrap_or(Value::Null);
    if let Some(error) = r.get("error") {
        return json!({"error": botocore_error_category(error), "raw_region": region});
    }
    let raw = r["calls"].as_array().unwrap();
    // An IAM Identity Center role is the source; the STS calls follow it.
    let sso = raw
        .first()
        .filter(|c| c["action"] == "GetRoleCredentials")
        .map(|c| {
            format!(
                "sso:{}/{}",
                c["sso_account_id"].as_str().unwrap(),
                c["sso_role_name"].as_str().unwrap()
            )
        });
    let mut calls = Vec::new();
    for (i, c) in raw.iter().enumerate() {
        if c["action"] == "GetRoleCredentials" {
            continue;
        }
        assert_eq!(c["token_code_sent"], !c["mfa_serial"].is_null(), "{c}");
        if i > 0 {
            assert_eq!(
                c["signed_with"],
                format!("CALL{}", i - 1),
                "botocore's calls form one chain: {r}"
            );
        }
        calls.push(json!({
            "action": c["action"],
            "role_arn": c["role_arn"],
            "session_name": c["session_name"],
            "external_id": c["external_id"],
            "mfa_serial": c["mfa_serial"],
            "duration_seconds": c["duration_seconds"],
            "source_identity": c["source_identity"],
            "tags": c["tags"],
            "transitive_tag_keys": c["transitive_tag_keys"],
        }));
    }
    let source = match raw.first() {
        _ if sso.is_some() => sso.clone().unwrap(),
        Some(c) if c["action"] == "AssumeRoleWithWebIdentity" => {
            format!("web_identity:{}", c["web_identity_token"].as_str().unwrap())
        }
        Some(c) => source_of_key(c["signed_with"].as_str().unwrap_or("unsigned")),
        None => source_of_key(r["credentials"].as_str().unwrap_or("none")),
    };
    // Where the calls went (scheme, host and port), known only when botocore made one.
    let url_of = |sso: bool| {
        raw.iter()
            .find(|c| (c["action"] == "GetRoleCredentials") == sso)
            .and_then(|c| c["url"].as_str())
            .map_or(Value::from("(no call)"), |u| origin(u).into())
    };
    let (endpoint, portal) = (url_of(false), url_of(true));
    json!({
        "error": null,
        "raw_region": region,
        "region": region,
        "source": source,
        "session_token": null,
        "calls": calls,
        "endpoint": endpoint,
        "portal": portal,
    })
}

/// A URL's scheme, host and port: what decides where a call goes.
fn origin(url: &str) -> String {
    url::Url::parse(url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|_| url.to_string())
}

/// The fields on which the two views differ.
fn diff(broker: &Value, botocore: &Value) -> Vec<Diff> {
    let mut diffs = Vec::new();
    let mut push = |path: String, b: &Value, o: &Value| {
        if b != o {
            diffs.push(Diff {
                path,
                broker: b.clone(),
                botocore: o.clone(),
            });
        }
    };
    if !broker["error"].is_null() || !botocore["error"].is_null() {
        push("error".into(), &broker["error"], &botocore["error"]);
        return diffs;
    }
    for field in ["region", "source", "session_token"] {
        push(field.into(), &broker[field], &botocore[field]);
    }
    for field in ["endpoint", "portal"] {
        if botocore[field] != "(no call)" {
            push(field.into(), &broker[field], &botocore[field]);
        }
    }
    let (ours, theirs) = (
        broker["calls"].as_array().unwrap(),
        botocore["calls"].as_array().unwrap(),
    );
    if ours.len() != theirs.len() {
        push("calls".into(), &broker["calls"], &botocore["calls"]);
        return diffs;
    }
    for (i, (b, o)) in ours.iter().zip(theirs).enumerate() {
        for (field, value) in b.as_object().unwrap() {
            if !same_field(field, value, &o[field]) {
                push(format!("calls[{i}].{field}"), value, &o[field]);
            }
        }
    }
    diffs
}

/// Whether broker's and botocore's value of a call's field mean the same: a DurationSeconds
/// botocore leaves out is STS's default, 3600.
fn same_field(field: &str, ours: &Value, theirs: &Value) -> bool {
    ours == theirs || (field == "duration_seconds" && theirs.is_null() && *ours == 3600)
}

fn same_call(ours: &Value, theirs: &Value) -> bool {
    ours.as_object()
        .unwrap()
        .iter()
        .all(|(field, value)| same_field(field, value, &theirs[field]))
}

#[test]
fn broker_and_botocore_agree_on_every_profile_of_the_corpus_or_differ_on_purpose() {
    let text = std::fs::read_to_string(repo().join("tests/parity/corpus.toml")).unwrap();
    let corpus: Corpus = toml::from_str(&text).expect("the corpus parses");
    assert!(corpus.case.len() >= 30, "a corpus of at least 30 configs");
    let sealed = TestEnv::new();
    let root = sealed.dir.path().join("cases");
    let mut answers = Vec::new();
    let mut oracle_input = Vec::new();
    for (n, case) in corpus.case.iter().enumerate() {
        let dir = root.join(format!("{n:02}"));
        write_case(case, &dir);
        answers.push(run_broker(&sealed, case, &dir));
        oracle_input.push(json!({
            "name": format!("{n:02}"),
            "profile": case.profile,
            "dir": dir.display().to_string(),
            "env": case.env,
        }));
    }
    let out = sealed
        .command(venv().join("bin/python"))
        .arg(repo().join("tests/parity_botocore.py"))
        .write_stdin(serde_json::to_vec(&oracle_input).unwrap())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the oracle failed: {}",
        stderr_of(&out)
    );
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).expect("the oracle's JSON");
    assert_eq!(results.len(), corpus.case.len());

    let mut used: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut unexplained = Vec::new();
    for (n, ((case, answer), result)) in corpus.case.iter().zip(&answers).zip(&results).enumerate()
    {
        let ours = broker_view(answer);
        let theirs = botocore_view(result);
        let seen = Seen {
            case,
            broker: answer.as_ref().ok(),
            broker_view: &ours,
            botocore_view: &theirs,
        };
        let label = format!("{n:02} {}", case.about);
        println!("{label}");
        for d in diff(&ours, &theirs) {
            match ALLOWED.iter().find(|rule| (rule.explains)(&seen, &d)) {
                Some(rule) => {
                    println!(
                        "    {} [{}]: broker {} / botocore {}",
                        d.path, rule.id, d.broker, d.botocore
                    );
                    let cases = used.entry(rule.id).or_default();
                    if !cases.contains(&format!("{n:02}")) {
                        cases.push(format!("{n:02}"));
                    }
                }
                None => unexplained.push(format!(
                    "{label}: {}: broker {} but botocore {}",
                    d.path, d.broker, d.botocore
                )),
            }
        }
    }
    println!("\nallowed differences, by the cases that show them:");
    for rule in ALLOWED {
        let cases = used.get(rule.id).map(|c| c.join(" ")).unwrap_or_default();
        println!("  {:28} {cases}\n      {}", rule.id, rule.why);
    }
    assert!(
        unexplained.is_empty(),
        "broker and botocore disagree:\n{}",
        unexplained.join("\n")
    );
    let stale: Vec<&str> = ALLOWED
        .iter()
        .map(|rule| rule.id)
        .filter(|id| !used.contains_key(id))
        .collect();
    assert!(
        stale.is_empty(),
        "allowed differences no case shows any more (drop them here and in the README): {stale:?}"
    );
}

#[test]
fn debug_resolve_shows_the_plan_without_opening_the_vault_or_calling_sts() {
    // A file vault with no passphrase at hand and an endpoint nobody listens on: resolving must
    // need neither.
    let env = TestEnv::new()
        .env("BROKER_BACKEND", "file")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("USER", "jane");
    env.write_aws_config(
        "[profile alice]\nmfa_serial = arn:aws:iam::123456789012:mfa/alice\n\
         [profile r1]\nrole_arn = arn:aws:iam::123456789012:role/r1\nsource_profile = alice\n\
         external_id = x-1\nsession_tags = team=ops\ntransitive_session_tags = team\n\
         [profile r2]\nrole_arn = arn:aws:iam::123456789012:role/r2\nsource_profile = r1\n\
         region = eu-west-1\nduration_seconds = 7200\n",
    );
    // Fixed (nobody listens on the discard port), so the transcript shows it as it is.
    env.name_as("http://127.0.0.1:9", "http://127.0.0.1:9");
    insta::assert_snapshot!(crate::common::transcripts(
        &env,
        &[&["debug", "resolve", "r2"], &["debug", "resolve", "nobody"]]
    ));
    let out = env
        .broker()
        .args(["debug", "resolve", "--json", "--region", "ap-south-1", "r1"])
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["region"], "ap-south-1", "{json}");
    assert_eq!(json["region_source"], "--region", "{json}");
    assert_eq!(
        json["steps"][1]["tags"],
        json!([{"key": "team", "value": "ops"}]),
        "r1's tags: {json}"
    );
    assert_eq!(
        json["steps"][1]["transitive_tag_keys"],
        json!(["team"]),
        "r1's transitive tags: {json}"
    );
    assert!(!env.file_vault_dir().exists(), "no vault was opened");
}
