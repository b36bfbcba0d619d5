//! What broker asks on the terminal, answered through a real pseudo-terminal
//! (common/terminal.rs): `add` reading the key, `remove` confirming, break-glass typed
//! confirmation, the MFA prompt, the profile picker, the spinner and colours.

use crate::common::moto::Moto;
use crate::common::terminal::{Mode, Terminal};
use crate::common::{broker_bin, TestEnv};
use crate::fixtures::{export_json, file_env, store_key, Chain};

/// `broker ARGS` on a new pseudo-terminal, with `TERM=xterm`.
fn start(env: &TestEnv, args: &[&str], stdout: Option<std::process::Stdio>) -> Terminal {
    let mut cmd = env.std_command(broker_bin());
    cmd.args(args).env("TERM", "xterm");
    Terminal::spawn(cmd, stdout)
}

/// Runs broker with `args` on a pseudo-terminal on which `typed` was typed ahead (lines, read
/// as lines); returns the exit status and everything the terminal showed.
fn on_terminal(env: &TestEnv, args: &[&str], typed: &str) -> (Option<i32>, String) {
    let mut terminal = start(env, args, None);
    terminal.send(typed);
    terminal.finish()
}

/// Runs broker on a pseudo-terminal, and for each `(wait_for, mode, keys)` types `keys` once
/// the screen shows `wait_for` and broker reads in `mode`; returns the exit status and
/// everything the terminal showed.
fn on_terminal_typing(
    env: &TestEnv,
    args: &[&str],
    steps: &[(&str, Mode, &str)],
) -> (Option<i32>, String) {
    let mut terminal = start(env, args, None);
    for (wait_for, mode, keys) in steps {
        terminal.answer(wait_for, *mode, keys);
    }
    terminal.finish()
}

#[test]
fn add_asks_for_the_key_on_the_terminal_and_remove_confirms() {
    let env = TestEnv::with_file_backend();
    let (code, screen) = on_terminal_typing(
        &env,
        &["add", "typed"],
        &[
            ("Access key ID: ", Mode::Line, "AKIAIOSFODNN7EXAMPLE\n"),
            ("Secret access key: ", Mode::Silent, "typed-secret-value\n"),
        ],
    );
    assert_eq!(code, Some(0), "{screen}");
    assert!(
        screen.contains("AKIAIOSFODNN7EXAMPLE"),
        "the key id is echoed"
    );
    assert!(!screen.contains("typed-secret-value"), "never the secret");
    let keys = export_json(&env, &["--no-session", "typed"]);
    assert_eq!(keys["AccessKeyId"], "AKIAIOSFODNN7EXAMPLE");
    assert_eq!(keys["SecretAccessKey"], "typed-secret-value");

    let (code, screen) = on_terminal(&env, &["remove", "typed"], "n\n");
    assert_eq!(code, Some(0), "a no is an answer, not a failure: {screen}");
    assert!(screen.contains("Delete the keys of profile typed from the file vault? [y/N]"));
    assert!(screen.contains("nothing was deleted"));
    export_json(&env, &["--no-session", "typed"]);
    let (code, screen) = on_terminal(&env, &["remove", "typed"], "y\n");
    assert_eq!(code, Some(0), "{screen}");
    assert!(!env.file_vault_dir().join("keys%3Atyped.age").exists());
}

#[test]
fn add_checks_the_vault_before_asking_and_the_key_id_before_the_secret() {
    let env = TestEnv::with_file_backend();
    store_key(&env, "first", "AKIAIOSFODNN7EXAMPLE", "first-secret");
    // A wrong passphrase is said before any key is typed.
    let mut cmd = env.std_command(broker_bin());
    cmd.args(["add", "second"])
        .env("TERM", "xterm")
        .env("BROKER_FILE_PASSPHRASE", "not the passphrase");
    let (code, screen) = Terminal::spawn(cmd, None).finish();
    assert_eq!(code, Some(1), "{screen}");
    assert!(screen.contains("wrong passphrase"), "{screen}");
    assert!(
        !screen.contains("Access key ID"),
        "asked for keys first: {screen}"
    );
    // A key id that is none is said before the secret is asked for.
    let mut terminal = start(&env, &["add", "second"], None);
    terminal.answer("Access key ID: ", Mode::Line, "my-secret-key\n");
    let (code, screen) = terminal.finish();
    assert_eq!(code, Some(1), "{screen}");
    assert!(
        screen.contains("`my-secret-key` is not an access key id"),
        "{screen}"
    );
    assert!(
        !screen.contains("Secret access key"),
        "asked for the secret: {screen}"
    );
}

#[test]
fn break_glass_needs_the_profile_name_typed() {
    let c = Chain::new();
    c.env
        .write_broker_config("[profile.r1]\nbreak_glass = true\n");
    let args = ["export", "--reason", "INC-9", "r1"];
    let (code, screen) = on_terminal(&c.env, &args, "r2\n");
    assert_eq!(code, Some(1), "{screen}");
    assert!(
        screen.contains("Type the profile name to confirm: "),
        "{screen}"
    );
    assert!(
        screen.contains("did not match; nothing was issued"),
        "{screen}"
    );
    assert_eq!(c.moto.count("AssumeRole"), 0);
    let (code, screen) = on_terminal(&c.env, &args, "r1\n");
    assert_eq!(code, Some(0), "{screen}");
    assert!(screen.contains("AWS_SESSION_TOKEN="), "{screen}");
    assert_eq!(c.moto.count("AssumeRole"), 1);
}

#[test]
fn the_mfa_prompt_uses_the_terminal_while_stdout_is_captured() {
    let moto = Moto::start(None);
    let key = moto.create_user("tia");
    let env = file_env(&moto);
    env.write_aws_config("[profile tia]\nmfa_serial = arn:aws:iam::123456789012:mfa/tia\n");
    store_key(&env, "tia", &key.access_key_id, &key.secret_access_key);
    let captured = env.dir.path().join("captured.json");
    let mut terminal = start(
        &env,
        &["export", "--format", "json", "tia"],
        Some(std::fs::File::create(&captured).unwrap().into()),
    );
    terminal.send("123456\n");
    let (code, screen) = terminal.finish();
    assert_eq!(code, Some(0), "{screen}");
    assert!(
        screen.contains("MFA code for arn:aws:iam::123456789012:mfa/tia (profile tia): "),
        "{screen}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&captured).unwrap()).expect("only JSON on stdout");
    assert!(json["SessionToken"].is_string());
    assert_eq!(moto.requests("GetSessionToken")[0]["TokenCode"], "123456");
}

#[test]
fn ctrl_c_at_the_terminal_reaches_the_child_and_broker_waits_for_it() {
    let c = Chain::new();
    let child_script = "n=0; trap 'n=$((n+1))' INT; echo ready; \
        while [ $n -eq 0 ]; do sleep 0.05; done; sleep 0.5; echo count=$n";
    let mut terminal = start(
        &c.env,
        &["exec", "r1", "--", "sh", "-c", child_script],
        None,
    );
    terminal.expect("ready");
    // Ctrl-C typed at the terminal: the kernel signals the whole foreground process group,
    // broker included; broker must neither die of it nor stop waiting for the child, which
    // handles it and exits 0. (broker also does not forward it a second time, but two SIGINTs
    // this close coalesce in the child, so a test cannot tell.)
    terminal.send("\x03");
    let (code, screen) = terminal.finish();
    assert_eq!(code, Some(0), "{screen}");
    assert!(
        screen.contains("count=1"),
        "the child saw the signal once: {screen}"
    );
}

/// The screen's text without its ANSI escape sequences.
fn without_escapes(screen: &str) -> String {
    let mut out = String::new();
    let mut chars = screen.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Profiles `alpha`, `beta` and `gamma`, each a `credential_process` with its own key id.
fn three_profiles() -> TestEnv {
    let env = TestEnv::new();
    let mut config = String::new();
    for (i, name) in ["alpha", "beta", "gamma"].iter().enumerate() {
        let file = env.dir.path().join(format!("{name}.json"));
        let json = serde_json::json!({
            "Version": 1,
            "AccessKeyId": format!("ASIA{}EXAMPLE000{i}", name.to_uppercase()),
            "SecretAccessKey": "secret",
            "SessionToken": "token",
            "Expiration": "2030-01-02T03:04:05Z",
        });
        std::fs::write(&file, json.to_string()).unwrap();
        config.push_str(&format!(
            "[profile {name}]\ncredential_process = cat {}\n",
            file.display()
        ));
    }
    env.write_aws_config(&config);
    env
}

#[test]
fn without_a_profile_the_terminal_offers_a_list_to_filter_recent_first() {
    let env = three_profiles();
    // beta was used last, so it comes first.
    export_json(&env, &["beta"]);
    let prompt = "Profile (type to filter";
    let (code, screen) = on_terminal_typing(
        &env,
        &["export", "--format", "json"],
        &[(prompt, Mode::Silent, "gam"), ("gamma", Mode::Silent, "\r")],
    );
    assert_eq!(code, Some(0), "{screen}");
    assert!(screen.contains("ASIAGAMMAEXAMPLE0002"), "{screen}");
    let plain = without_escapes(&screen);
    assert!(
        plain.contains("❯ beta\r\n  alpha\r\n  gamma"),
        "the most recent first, then by name: {plain}"
    );
    // Enter at once takes the first: now gamma, the most recent.
    let (code, screen) = on_terminal_typing(
        &env,
        &["export", "--format", "json"],
        &[(prompt, Mode::Silent, "\r")],
    );
    assert_eq!(code, Some(0), "{screen}");
    assert!(screen.contains("ASIAGAMMAEXAMPLE0002"), "{screen}");
    // Esc chooses nothing.
    let (code, screen) = on_terminal_typing(&env, &["export"], &[(prompt, Mode::Silent, "\x1b")]);
    assert_eq!(code, Some(1), "{screen}");
    assert!(screen.contains("no profile was chosen"), "{screen}");
}

#[test]
fn a_refused_mfa_code_is_asked_again_up_to_three_times() {
    let moto = Moto::start(None);
    let key = moto.create_user("tia");
    let env = file_env(&moto);
    env.write_aws_config("[profile tia]\nmfa_serial = arn:aws:iam::123456789012:mfa/tia\n");
    store_key(&env, "tia", &key.access_key_id, &key.secret_access_key);
    let prompt = "MFA code for arn:aws:iam::123456789012:mfa/tia (profile tia): ";

    moto.fail_next("GetSessionToken", "mfa", 1);
    let (code, screen) = on_terminal_typing(
        &env,
        &["export", "--format", "json", "tia"],
        &[
            (prompt, Mode::Line, "111111\r"),
            (prompt, Mode::Line, "222222\r"),
        ],
    );
    assert_eq!(code, Some(0), "{screen}");
    assert!(
        screen.contains(
            "STS refused the MFA code (wrong, or used already): try the next one (2 of 3)"
        ),
        "{screen}"
    );
    assert!(screen.contains("\"SessionToken\""), "{screen}");
    let codes: Vec<_> = moto
        .requests("GetSessionToken")
        .iter()
        .map(|r| r["TokenCode"].clone())
        .collect();
    assert_eq!(codes, ["111111", "222222"]);

    // Three refusals end it, with the MFA hint.
    let clear = || {
        assert!(env
            .broker()
            .args(["clear", "tia"])
            .output()
            .unwrap()
            .status
            .success())
    };
    clear();
    moto.fail_next("GetSessionToken", "mfa", 3);
    let (code, screen) = on_terminal_typing(
        &env,
        &["export", "--format", "json", "tia"],
        &[
            (prompt, Mode::Line, "333333\r"),
            (prompt, Mode::Line, "444444\r"),
            (prompt, Mode::Line, "555555\r"),
        ],
    );
    assert_eq!(code, Some(1), "{screen}");
    assert!(screen.contains("(3 of 3)"), "{screen}");
    assert!(
        without_escapes(&screen).contains("hint: the MFA code was wrong or already used"),
        "{screen}"
    );
    assert_eq!(moto.count("GetSessionToken"), 5);

    // A code given with --mfa-token is not typed: one refusal is final.
    clear();
    moto.fail_next("GetSessionToken", "mfa", 1);
    let (code, screen) = on_terminal_typing(&env, &["export", "--mfa-token", "666666", "tia"], &[]);
    assert_eq!(code, Some(1), "{screen}");
    assert_eq!(moto.count("GetSessionToken"), 6);
}

/// A stand-in STS that accepts connections and never answers.
fn silent_endpoint() -> (std::net::TcpListener, String) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    (listener, url)
}

#[test]
fn a_slow_sts_shows_a_spinner_on_the_terminal_only() {
    let (listener, url) = silent_endpoint();
    let held = std::thread::spawn(move || {
        let mut open = Vec::new();
        for stream in listener.incoming().take(8) {
            open.push(stream);
        }
    });
    let env = TestEnv::with_file_backend()
        .env("AWS_ENDPOINT_URL", &url)
        .env("BROKER_STS_TIMEOUT", "2s");
    env.write_aws_config("[profile slow]\n");
    store_key(&env, "slow", "AKIAIOSFODNN7EXAMPLE", "slow-secret");
    let (code, screen) = on_terminal_typing(&env, &["export", "slow"], &[]);
    assert_eq!(code, Some(1), "{screen}");
    assert!(screen.contains(&format!("waiting for {url}")), "{screen}");
    // Off a terminal, the same wait shows nothing.
    let out = env.broker().args(["export", "slow"]).output().unwrap();
    assert!(!crate::common::stderr_of(&out).contains("waiting for"));
    drop(held);
}

/// A stand-in STS that refuses every request at once (InvalidClientTokenId, which is not
/// retried).
fn refusing_endpoint() -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let xml = "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code>\
                       <Message>The security token included in the request is invalid.</Message>\
                       </Error><RequestId>x</RequestId></ErrorResponse>";
            let _ = write!(
                stream,
                "HTTP/1.1 403 Forbidden\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{xml}",
                xml.len()
            );
        }
    });
    url
}

#[test]
fn a_quick_answer_shows_no_spinner_and_errors_are_coloured_on_a_terminal() {
    let env = TestEnv::with_file_backend().env("AWS_ENDPOINT_URL", &refusing_endpoint());
    env.write_aws_config("[profile quick]\n");
    store_key(&env, "quick", "AKIAIOSFODNN7EXAMPLE", "quick-secret");
    let (code, screen) = on_terminal_typing(&env, &["export", "quick"], &[]);
    assert_eq!(code, Some(1), "{screen}");
    assert!(screen.contains("InvalidClientTokenId"), "{screen}");
    assert!(!screen.contains("waiting for"), "{screen}");
    assert!(
        screen.contains("\x1b[1m\x1b[31mbroker: error:\x1b[0m "),
        "{screen:?}"
    );
    assert!(
        screen.contains("\x1b[1m\x1b[36mhint:\x1b[0m "),
        "{screen:?}"
    );
    // NO_COLOR: none, even on a terminal.
    let plain = env.env("NO_COLOR", "1");
    let (_, screen) = on_terminal_typing(&plain, &["export", "quick"], &[]);
    assert!(screen.contains("broker: error: "), "{screen:?}");
    assert!(!screen.contains('\x1b'), "{screen:?}");
}
