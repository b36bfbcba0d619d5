//! The IAM Identity Center stand-in itself (tests/sso_server.py), driven by botocore's real
//! `sso-oidc` and `sso` clients (tests/sso_botocore.py): botocore is built from the AWS models,
//! so a flow it completes and an error it parses into the modeled exception prove the wire
//! format broker's SDK clients will meet. Then the strict checks a broker bug must trip, and the
//! test browser. Later SSO tests of broker build on exactly these properties.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::common::moto::venv;
use crate::common::sso::{Sso, TestBrowser};
use crate::common::{stderr_of, TestEnv};

/// Runs a botocore scenario (see tests/sso_botocore.py) against `sso`; its `result` dict.
fn botocore(sso: &Sso, scenario: &str) -> Value {
    botocore_with(sso, &[], scenario)
}

fn botocore_with(sso: &Sso, env: &[(&str, &str)], scenario: &str) -> Value {
    let sealed = TestEnv::new();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sso_botocore.py");
    let mut cmd = sealed.command(venv().join("bin/python"));
    cmd.arg(script);
    for (k, v) in sso.endpoint_env() {
        cmd.env(k, v);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.write_stdin(scenario).output().unwrap();
    assert!(
        out.status.success(),
        "botocore scenario failed:\n{}",
        stderr_of(&out)
    );
    serde_json::from_slice(&out.stdout).expect("the scenario's result as JSON")
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Asserts botocore parsed an OAuth error of SSO OIDC into the modeled exception `shape`,
/// with the model's status and the service's `error` member.
fn assert_oauth_error(err: &Value, shape: &str, status: u64, error: &str) {
    assert_eq!(err["class"], shape, "{err}");
    assert_eq!(err["code"], shape, "{err}");
    assert_eq!(err["status"], status, "{err}");
    assert_eq!(err["error"], error, "{err}");
    assert!(
        err["error_description"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "{err}"
    );
}

#[test]
fn register_client_answers_and_refuses_as_the_model_says() {
    let sso = Sso::start();
    let r = botocore(
        &sso,
        r#"
        result["reg"] = plain(register_pkce())
        result["confidential"] = error(oidc.register_client, clientName="c", clientType="confidential")
        result["password_grant"] = error(oidc.register_client, clientName="c", clientType="public", grantTypes=["password"])
        result["remote_redirect"] = error(oidc.register_client, clientName="c", clientType="public",
            grantTypes=["authorization_code"], redirectUris=["http://example.com/cb"], issuerUrl=START_URL)
        result["joined_scopes"] = error(oidc.register_client, clientName="c", clientType="public",
            scopes=["sso:account:access,sso:other"])
        "#,
    );
    let reg = &r["reg"];
    assert!(
        reg["clientId"].as_str().is_some_and(|s| s.len() >= 16),
        "{reg}"
    );
    assert!(
        reg["clientSecret"].as_str().is_some_and(|s| s.len() > 100),
        "{reg}"
    );
    let issued = reg["clientIdIssuedAt"].as_f64().unwrap();
    assert!((issued - now()).abs() < 60.0, "{reg}");
    assert_eq!(
        reg["clientSecretExpiresAt"].as_f64().unwrap() - issued,
        90.0 * 86400.0
    );
    assert_oauth_error(
        &r["confidential"],
        "InvalidClientMetadataException",
        400,
        "invalid_client_metadata",
    );
    assert_oauth_error(
        &r["password_grant"],
        "UnsupportedGrantTypeException",
        400,
        "unsupported_grant_type",
    );
    assert_oauth_error(
        &r["remote_redirect"],
        "InvalidRedirectUriException",
        400,
        "invalid_redirect_uri",
    );
    assert_oauth_error(
        &r["joined_scopes"],
        "InvalidScopeException",
        400,
        "invalid_scope",
    );

    // What the stand-in received is what botocore sent, by the model's member names.
    let sent = &sso.requests("RegisterClient")[0];
    assert_eq!(sent["clientType"], "public");
    assert_eq!(
        sent["grantTypes"],
        serde_json::json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(
        sent["redirectUris"],
        serde_json::json!(["http://127.0.0.1/oauth/callback"])
    );
    assert_eq!(sent["issuerUrl"], "https://d-1234567890.awsapps.com/start");
    assert_eq!(sent["scopes"], serde_json::json!(["sso:account:access"]));
    assert_eq!(sso.count("RegisterClient"), 5);
}

#[test]
fn pkce_sign_in_redirects_to_the_loopback_port_and_issues_tokens() {
    let sso = Sso::start();
    let r = botocore(
        &sso,
        r#"
        reg = register_pkce()
        verifier, challenge = pkce()
        answer = browse(authorize_url(reg, challenge, state="my-state"))
        result["authorize"] = answer
        token = exchange(reg, answer["query"]["code"], verifier)
        result["token"] = plain(token)
        result["accounts"] = plain(sso.list_accounts(accessToken=token["accessToken"]))
        "#,
    );
    let authorize = &r["authorize"];
    assert_eq!(authorize["status"], 302, "{authorize}");
    let location = authorize["location"].as_str().unwrap();
    assert!(
        location.starts_with("http://127.0.0.1:53123/oauth/callback?"),
        "{location}"
    );
    assert_eq!(authorize["query"]["state"], "my-state");
    assert!(authorize["query"]["code"]
        .as_str()
        .is_some_and(|c| c.len() >= 32));

    let token = &r["token"];
    assert_eq!(token["tokenType"], "Bearer");
    assert_eq!(token["expiresIn"], 3600);
    assert!(token["accessToken"].as_str().is_some_and(|t| t.len() > 100));
    assert!(token["refreshToken"]
        .as_str()
        .is_some_and(|t| t.len() > 100));
    assert!(r["accounts"]["accountList"]
        .as_array()
        .is_some_and(|a| !a.is_empty()));

    let sent = &sso.requests("CreateToken")[0];
    assert_eq!(sent["grantType"], "authorization_code");
    assert_eq!(sent["redirectUri"], "http://127.0.0.1:53123/oauth/callback");
    assert_eq!(sent["code"], authorize["query"]["code"]);
    let asked = &sso.requests("Authorize")[0];
    assert_eq!(asked["scopes"], "sso:account:access");
    assert_eq!(asked["code_challenge_method"], "S256");
    assert_eq!(sso.count("Authorize"), 1);
    assert_eq!(sso.count("CreateToken"), 1);
}

#[test]
fn pkce_rejects_a_wrong_verifier() {
    let sso = Sso::start();
    let r = botocore(
        &sso,
        r#"
        reg = register_pkce()
        verifier, challenge = pkce()
        other, _ = pkce()
        code = browse(authorize_url(reg, challenge))["query"]["code"]
        result["wrong"] = error(exchange, reg, code, other)
        "#,
    );
    assert_oauth_error(&r["wrong"], "InvalidGrantException", 400, "invalid_grant");
}

#[test]
fn a_code_is_one_time_and_reuse_revokes_its_tokens() {
    let sso = Sso::start();
    let r = botocore(
        &sso,
        r#"
        reg = register_pkce()
        verifier, challenge = pkce()
        code = browse(authorize_url(reg, challenge))["query"]["code"]
        token = exchange(reg, code, verifier)
        result["again"] = error(exchange, reg, code, verifier)
        result["portal"] = error(sso.list_accounts, accessToken=token["accessToken"])
        result["refresh"] = error(refresh, reg, token["refreshToken"])
        "#,
    );
    assert_oauth_error(&r["again"], "InvalidGrantException", 400, "invalid_grant");
    assert_eq!(r["portal"]["code"], "UnauthorizedException");
    assert_eq!(r["portal"]["status"], 401);
    assert_oauth_error(&r["refresh"], "InvalidGrantException", 400, "invalid_grant");
}

#[test]
fn a_code_expires() {
    let sso = Sso::start();
    sso.set_code_lifetime(1);
    let r = botocore(
        &sso,
        r#"
        reg = register_pkce()
        verifier, challenge = pkce()
        code = browse(authorize_url(reg, challenge))["query"]["code"]
        advance(1.2)
        result["late"] = error(exchange, reg, code, verifier)
        "#,
    );
    assert_oauth_error(&r["late"], "InvalidGrantException", 400, "invalid_grant");
}

#[test]
fn a_code_is_bound_to_its_redirect_uri_and_client() {
    let sso = Sso::start();
    let r = botocore(
        &sso,
        r#"
        reg, thief = register_pkce(), register_pkce()
        verifier, challenge = pkce()
        code = browse(authorize_url(reg, challenge))["query"]["code"]
        result["other_port"] = error(exchange, reg, code, verifier,
                                     redirect_uri="http://127.0.0.1:1/oauth/callback")
        code = browse(authorize_url(reg, challenge))["query"]["code"]
        result["other_client"] = error(exchange, thief, code, verifier)
        "#,
    );
    assert_oauth_error(
        &r["other_port"],
        "InvalidGrantException",
        400,
        "invalid_grant",
    );
    assert_oauth_error(
        &r["other_client"],
        "InvalidGrantException",
        400,
        "invalid_grant",
    );
}

#[test]
fn authorize_refuses_an_unregistered_redirect_uri() {
    let sso = Sso::start();
    let r = botocore(
        &sso,
        r#"
        reg = register_pkce()
        _, challenge = pkce()
        result["refused"] = {uri: browse(authorize_url(reg, challenge, redirect_uri=uri))
            for uri in ["http://127.0.0.1:53123/other/callback", "http://localhost:53123/oauth/callback",
                        "http://127.0.0.1.example.com:53123/oauth/callback",
                        "https://127.0.0.1:53123/oauth/callback",
                        "http://127.0.0.1:53123/oauth/callback#x",
                        "http://127.0.0.1:53123@example.com/oauth/callback"]}
        result["unknown_client"] = browse(authorize_url(reg, challenge, client_id="nobody"))
        result["any_port"] = [browse(authorize_url(reg, challenge, redirect_uri=f"http://127.0.0.1:{p}/oauth/callback"))
                              for p in (1024, 65000)]
        "#,
    );
    for (uri, answer) in r["refused"].as_object().unwrap() {
        assert_eq!(answer["status"], 400, "{uri}: {answer}");
        assert!(answer["location"].is_null(), "{uri} redirected: {answer}");
    }
    assert_eq!(r["unknown_client"]["status"], 400);
    assert!(r["unknown_client"]["location"].is_null());
    // RFC 8252 §7.3: a loopback IP redirect URI registered without a port matches any port.
    for answer in r["any_port"].as_array().unwrap() {
        assert_eq!(answer["status"], 302, "{answer}");
        assert!(answer["query"]["code"].is_string(), "{answer}");
    }
}

#[test]
fn authorize_requires_s256_a_challenge_and_registered_scopes() {
    let sso = Sso::start();
    let r = botocore(
        &sso,
        r#"
        reg = register_pkce()
        verifier, challenge = pkce()
        result["plain"] = browse(authorize_url(reg, verifier, method="plain"))
        result["padded"] = browse(authorize_url(reg, challenge + "="))
        result["no_challenge"] = browse(authorize_url(reg, ""))
        result["scope"] = browse(authorize_url(reg, challenge, scopes="sso:account:access sso:other"))
        "#,
    );
    for case in ["plain", "padded", "no_challenge"] {
        let answer = &r[case];
        assert_eq!(answer["status"], 302, "{case}: {answer}");
        assert_eq!(
            answer["query"]["error"], "invalid_request",
            "{case}: {answer}"
        );
        assert_eq!(answer["query"]["state"], "state-1", "{case}: {answer}");
        assert!(answer["query"]["code"].is_null(), "{case}: {answer}");
    }
    assert_eq!(r["scope"]["query"]["error"], "invalid_scope");
}

#[test]
fn authorize_hooks_deny_and_tamper_with_the_state() {
    let sso = Sso::start();
    sso.deny_next(1);
    let r = botocore(
        &sso,
        r#"
        reg = register_pkce()
        _, challenge = pkce()
        result["denied"] = browse(authorize_url(reg, challenge, state="s1"))
        result["tampered"] = browse(authorize_url(reg, challenge, state="s2"))
        "#,
    );
    let denied = &r["denied"]["query"];
    assert_eq!(denied["error"], "access_denied");
    assert_eq!(denied["state"], "s1");
    assert!(denied["code"].is_null());
    // tamper_state was not armed: the second sign-in is normal.
    assert_eq!(r["tampered"]["query"]["state"], "s2");

    sso.tamper_state_next(1);
    let r = botocore(
        &sso,
        r#"
        reg = register_pkce()
        _, challenge = pkce()
        result["tampered"] = browse(authorize_url(reg, challenge, state="s3"))
        "#,
    );
    let tampered = &r["tampered"]["query"];
    assert_ne!(tampered["state"], "s3");
    assert!(tampered["code"].is_string());
}

#[test]
fn refresh_grant_issues_new_tokens_and_retires_the_old_refresh_token() {
    let sso = Sso::start();
    let r = botocore(
        &sso,
        r#"
        reg = register_pkce()
        first = sign_in(reg)
        second = refresh(reg, first["refreshToken"])
        result["first"], result["second"] = plain(first), plain(second)
        result["accounts"] = plain(sso.list_accounts(accessToken=second["accessToken"]))
        result["reused"] = error(refresh, reg, first["refreshToken"])
        "#,
    );
    let (first, second) = (&r["first"], &r["second"]);
    assert_ne!(first["accessToken"], second["accessToken"]);
    assert_ne!(first["refreshToken"], second["refreshToken"]);
    assert_eq!(second["tokenType"], "Bearer");
    assert!(r["accounts"]["accountList"].is_array());
    assert_oauth_error(&r["reused"], "InvalidGrantException", 400, "invalid_grant");
    let sent = &sso.requests("CreateToken")[1];
    assert_eq!(sent["grantType"], "refresh_token");
    assert_eq!(sent["refreshToken"], first["refreshToken"]);
}

#[test]
fn a_revoked_refresh_token_is_invalid_grant() {
    let sso = Sso::start();
    let r = botocore(
        &sso,
        r#"
        reg = register_pkce()
        result.update(reg=plain(reg), token=plain(sign_in(reg)))
        "#,
    );
    sso.revoke_refresh();
    let reg = r["reg"].to_string();
    let refresh_token = r["token"]["refreshToken"].as_str().unwrap();
    let r = botocore_with(
        &sso,
        &[("REG", &reg), ("REFRESH", refresh_token)],
        r#"
        result["revoked"] = error(refresh, json.loads(os.environ["REG"]), os.environ["REFRESH"])
        "#,
    );
    assert_oauth_error(&r["revoked"], "InvalidGrantException", 400, "invalid_grant");
}

#[test]
fn device_flow_answers_pending_then_slow_down_then_a_token() {
    let sso = Sso::start();
    // interval 5 s and a slow_down adding 5 s (RFC 8628): long enough that a loaded machine
    // cannot make the hasty poll come late; the scenario moves the clock instead of sleeping.
    sso.set_device_timing(5, 600, 5);
    let r = botocore(
        &sso,
        r#"
        reg = register_device()
        start = plain(oidc.start_device_authorization(
            clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=START_URL))
        result["start"] = start
        result["first"] = error(poll, reg, start["deviceCode"])      # the first poll may be at once
        result["hasty"] = error(poll, reg, start["deviceCode"])      # the second may not
        result["visit"] = browse(start["verificationUriComplete"])   # the user approves
        urllib.request.urlopen(ENDPOINT + "/_broker_test/pending?times=1").read()
        advance(10.1)                                               # interval 5 + slow_down 5
        result["held"] = error(poll, reg, start["deviceCode"])
        advance(10.1)
        result["token"] = plain(poll(reg, start["deviceCode"]))
        result["again"] = error(poll, reg, start["deviceCode"])      # a device code is one-time
        "#,
    );
    let start = &r["start"];
    let user_code = start["userCode"].as_str().unwrap();
    assert_eq!(
        start["verificationUri"],
        format!("{}/device", sso.endpoint())
    );
    assert_eq!(
        start["verificationUriComplete"],
        format!("{}/device?user_code={user_code}", sso.endpoint())
    );
    assert_eq!(start["expiresIn"], 600);
    assert_eq!(start["interval"], 5);
    assert!(start["deviceCode"].as_str().is_some_and(|c| c.len() >= 32));

    assert_oauth_error(
        &r["first"],
        "AuthorizationPendingException",
        400,
        "authorization_pending",
    );
    assert_oauth_error(&r["hasty"], "SlowDownException", 400, "slow_down");
    assert_eq!(r["visit"]["status"], 200);
    assert_oauth_error(
        &r["held"],
        "AuthorizationPendingException",
        400,
        "authorization_pending",
    );
    assert_eq!(r["token"]["tokenType"], "Bearer");
    assert!(
        r["token"]["refreshToken"].is_string(),
        "scopes were registered"
    );
    assert_oauth_error(&r["again"], "InvalidGrantException", 400, "invalid_grant");

    let polls = sso.poll_times();
    let answers: Vec<&str> = polls.iter().map(|p| p.answer.as_str()).collect();
    assert_eq!(
        answers,
        [
            "authorization_pending",
            "slow_down",
            "authorization_pending",
            "token",
            "invalid_grant"
        ]
    );
    assert!(polls.iter().all(|p| p.user_code == user_code));
    assert_eq!(polls[0].since_previous, None);
    assert!(polls[1].since_previous.unwrap() < 5.0);
    assert_eq!(polls[1].required, 5.0);
    assert_eq!(polls[2].required, 10.0, "slow_down raised the interval");
    assert!(polls[2].since_previous.unwrap() >= 10.0);
    assert!(polls[3].at - polls[2].at >= 10.0);
    assert_eq!(sso.count("DeviceVerify"), 1);
}

#[test]
fn a_device_code_expires() {
    let sso = Sso::start();
    sso.set_device_timing(1, 1, 5);
    let r = botocore(
        &sso,
        r#"
        reg = register_device()
        start = oidc.start_device_authorization(
            clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=START_URL)
        advance(1.2)
        result["visit"] = browse(start["verificationUriComplete"])
        result["expired"] = error(poll, reg, start["deviceCode"])
        "#,
    );
    assert_eq!(
        r["visit"]["status"], 400,
        "an expired code cannot be approved"
    );
    assert_oauth_error(&r["expired"], "ExpiredTokenException", 400, "expired_token");
}

#[test]
fn a_device_sign_in_can_be_denied() {
    let sso = Sso::start();
    sso.deny_next(1);
    let r = botocore(
        &sso,
        r#"
        reg = register_device()
        start = oidc.start_device_authorization(
            clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=START_URL)
        result["visit"] = browse(start["verificationUriComplete"])
        result["denied"] = error(poll, reg, start["deviceCode"])
        "#,
    );
    assert_eq!(r["visit"]["status"], 200);
    assert_oauth_error(&r["denied"], "AccessDeniedException", 400, "access_denied");
}

#[test]
fn start_device_authorization_checks_the_client() {
    let sso = Sso::start();
    sso.set_start_url("https://d-1234567890.awsapps.com/start");
    let r = botocore(
        &sso,
        r#"
        device, pkce_client = register_device(), register_pkce()
        result["bad_secret"] = error(oidc.start_device_authorization,
            clientId=device["clientId"], clientSecret="nope", startUrl=START_URL)
        result["pkce_client"] = error(oidc.start_device_authorization,
            clientId=pkce_client["clientId"], clientSecret=pkce_client["clientSecret"], startUrl=START_URL)
        result["other_start_url"] = error(oidc.start_device_authorization,
            clientId=device["clientId"], clientSecret=device["clientSecret"],
            startUrl="https://d-0000000000.awsapps.com/start")
        urllib.request.urlopen(ENDPOINT + "/_broker_test/expire_clients").read()
        result["expired"] = error(oidc.start_device_authorization,
            clientId=device["clientId"], clientSecret=device["clientSecret"], startUrl=START_URL)
        "#,
    );
    assert_oauth_error(
        &r["bad_secret"],
        "InvalidClientException",
        401,
        "invalid_client",
    );
    assert_oauth_error(
        &r["pkce_client"],
        "UnauthorizedClientException",
        400,
        "unauthorized_client",
    );
    assert_oauth_error(
        &r["other_start_url"],
        "InvalidRequestException",
        400,
        "invalid_request",
    );
    assert_oauth_error(
        &r["expired"],
        "InvalidClientException",
        401,
        "invalid_client",
    );
}

#[test]
fn get_role_credentials_look_like_real_ones() {
    let sso = Sso::start();
    sso.set_credential_lifetime(900);
    let r = botocore(
        &sso,
        r#"
        token = sign_in(register_pkce())
        result["token"] = token["accessToken"]
        result["creds"] = plain(sso.get_role_credentials(
            roleName="Analyst", accountId="111111111111", accessToken=token["accessToken"]))
        "#,
    );
    let creds = &r["creds"]["roleCredentials"];
    let key = creds["accessKeyId"].as_str().unwrap();
    assert_eq!(key.len(), 20, "{key}");
    assert!(key.starts_with("ASIA"), "{key}");
    assert!(
        key.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()),
        "{key}"
    );
    assert_eq!(creds["secretAccessKey"].as_str().unwrap().len(), 40);
    assert!(creds["sessionToken"].as_str().unwrap().len() > 400);
    // `expiration` is epoch milliseconds (a long), as the model says.
    let expiration = creds["expiration"].as_f64().unwrap() / 1000.0;
    assert!((expiration - (now() + 900.0)).abs() < 60.0, "{expiration}");

    let sent = &sso.requests("GetRoleCredentials")[0];
    assert_eq!(sent["roleName"], "Analyst");
    assert_eq!(sent["accountId"], "111111111111");
    assert_eq!(
        sent["accessToken"], r["token"],
        "the token went in the header"
    );
    assert_eq!(sso.count("GetRoleCredentials"), 1);
    let secrets = sso.secrets();
    assert!(secrets
        .iter()
        .any(|s| s == creds["secretAccessKey"].as_str().unwrap()));
    assert!(secrets
        .iter()
        .any(|s| s == creds["sessionToken"].as_str().unwrap()));
}

#[test]
fn an_unassigned_role_is_forbidden() {
    let sso = Sso::start();
    let r = botocore(
        &sso,
        r#"
        token = sign_in(register_pkce())["accessToken"]
        result["role"] = error(sso.get_role_credentials,
            roleName="AdministratorAccess", accountId="222222222222", accessToken=token)
        result["account"] = error(sso.get_role_credentials,
            roleName="Analyst", accountId="999999999999", accessToken=token)
        "#,
    );
    for case in ["role", "account"] {
        let err = &r[case];
        // ForbiddenException is not in the model; botocore reads the code from x-amzn-ErrorType.
        assert_eq!(err["class"], "ClientError", "{err}");
        assert_eq!(err["code"], "ForbiddenException", "{err}");
        assert_eq!(err["status"], 403, "{err}");
        assert_eq!(err["message"], "No access", "{err}");
    }
}

#[test]
fn list_accounts_and_roles_must_follow_next_token() {
    let sso = Sso::start();
    sso.assign("444444444444", "Analyst", "Prod Account");
    let r = botocore(
        &sso,
        r#"
        token = sign_in(register_pkce())["accessToken"]
        pages = list(sso.get_paginator("list_accounts").paginate(accessToken=token))
        result["account_pages"] = [[a["accountId"] for a in p["accountList"]] for p in pages]
        result["accounts"] = [a for p in pages for a in p["accountList"]]
        pages = list(sso.get_paginator("list_account_roles").paginate(
            accessToken=token, accountId="111111111111"))
        result["role_pages"] = [[r["roleName"] for r in p["roleList"]] for p in pages]
        result["bad_token"] = error(sso.list_accounts, accessToken=token, nextToken="made-up")
        "#,
    );
    assert_eq!(
        r["account_pages"],
        serde_json::json!([
            ["111111111111", "222222222222"],
            ["333333333333", "444444444444"]
        ])
    );
    let prod = &r["accounts"][3];
    assert_eq!(prod["accountName"], "Prod Account");
    assert_eq!(prod["emailAddress"], "aws+444444444444@example.com");
    assert_eq!(
        r["role_pages"],
        serde_json::json!([["AdministratorAccess", "Analyst"], ["ReadOnlyAccess"]])
    );
    assert_eq!(r["bad_token"]["code"], "InvalidRequestException");
    assert_eq!(r["bad_token"]["status"], 400);
    assert_eq!(sso.count("ListAccounts"), 3);
    assert_eq!(sso.count("ListAccountRoles"), 2);
    let second = &sso.requests("ListAccountRoles")[1];
    assert!(second["nextToken"].is_string(), "{second:?}");
    assert_eq!(second["accountId"], "111111111111");
}

#[test]
fn logout_invalidates_the_access_token_and_its_refresh_token() {
    let sso = Sso::start();
    let r = botocore(
        &sso,
        r#"
        reg = register_pkce()
        token = sign_in(reg)
        result["logout"] = sso.logout(accessToken=token["accessToken"])["ResponseMetadata"]["HTTPStatusCode"]
        result["after"] = error(sso.list_accounts, accessToken=token["accessToken"])
        result["refresh"] = error(refresh, reg, token["refreshToken"])
        result["again"] = error(sso.logout, accessToken=token["accessToken"])
        "#,
    );
    assert_eq!(r["logout"], 200);
    let after = &r["after"];
    assert_eq!(after["class"], "UnauthorizedException", "{after}");
    assert_eq!(after["status"], 401);
    assert_eq!(after["message"], "Session token not found or invalid");
    assert_oauth_error(&r["refresh"], "InvalidGrantException", 400, "invalid_grant");
    assert_eq!(r["again"]["class"], "UnauthorizedException");
    assert_eq!(sso.count("Logout"), 2);
}

#[test]
fn an_expired_access_token_is_unauthorized() {
    let sso = Sso::start();
    // Ten minutes, so that a loaded machine cannot expire it before the first call; the
    // scenario moves the stand-in's clock past them.
    sso.set_token_lifetime(600);
    let r = botocore(
        &sso,
        r#"
        token = sign_in(register_pkce())
        result["expiresIn"] = token["expiresIn"]
        result["fresh"] = len(sso.list_accounts(accessToken=token["accessToken"])["accountList"])
        advance(601)
        result["stale"] = error(sso.list_accounts, accessToken=token["accessToken"])
        "#,
    );
    assert_eq!(r["expiresIn"], 600);
    assert_eq!(r["fresh"], 2);
    assert_eq!(r["stale"]["class"], "UnauthorizedException");
    assert_eq!(r["stale"]["status"], 401);
}

#[test]
fn fail_hook_makes_the_portal_fail_or_hang() {
    let sso = Sso::start();
    let r = botocore(
        &sso,
        r#"
        token = sign_in(register_pkce())["accessToken"]
        urllib.request.urlopen(ENDPOINT + "/_broker_test/fail?op=GetRoleCredentials&mode=500&times=1").read()
        result["500"] = error(sso.get_role_credentials, roleName="Analyst", accountId="111111111111", accessToken=token)
        result["then"] = "roleCredentials" in sso.get_role_credentials(
            roleName="Analyst", accountId="111111111111", accessToken=token)
        urllib.request.urlopen(ENDPOINT + "/_broker_test/fail?op=ListAccounts&mode=hang&times=1").read()
        impatient = session.create_client("sso", config=config.merge(Config(read_timeout=1)))
        try:
            impatient.list_accounts(accessToken=token)
            result["hang"] = "answered"
        except botocore.exceptions.ReadTimeoutError:
            result["hang"] = "timed out"
        "#,
    );
    assert_eq!(r["500"]["status"], 500);
    assert_eq!(r["then"], true);
    assert_eq!(r["hang"], "timed out");
    assert_eq!(sso.count("GetRoleCredentials"), 2);
    assert_eq!(sso.count("ListAccounts"), 1);
}

/// Accepts one request on `listener` (a client's loopback callback); its request target.
fn accept_callback(listener: &TcpListener) -> String {
    listener.set_nonblocking(false).unwrap();
    let (mut stream, _) = listener.accept().unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut line = String::new();
    BufReader::new(&stream).read_line(&mut line).unwrap();
    let body = "signed in";
    write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    line.split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_string()
}

#[test]
fn test_browser_follows_the_authorize_redirect_to_the_loopback_callback() {
    let sso = Sso::start();
    let env = TestEnv::new();
    let browser = TestBrowser::new(env.dir.path());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let r = botocore_with(
        &sso,
        &[("CALLBACK_PORT", &port)],
        r#"
        reg = register_pkce()
        verifier, challenge = pkce()
        result.update(reg=plain(reg), verifier=verifier, url=authorize_url(reg, challenge, state="cb-state"))
        "#,
    );
    let url = r["url"].as_str().unwrap();

    // As broker will: $BROWSER with the URL as its one argument; it returns at once.
    env.command(&browser.command).arg(url).assert().success();
    let target = accept_callback(&listener);
    assert!(target.starts_with("/oauth/callback?code="), "{target}");
    assert!(target.ends_with("&state=cb-state"), "{target}");
    let visits = browser.wait_for_visits(1, Duration::from_secs(30));
    assert_eq!(visits[0]["status"], 200, "{visits:?}");
    assert!(visits[0]["final_url"]
        .as_str()
        .unwrap()
        .starts_with(&format!("http://127.0.0.1:{port}/oauth/callback?code=")));

    let code = target
        .trim_start_matches("/oauth/callback?code=")
        .split('&')
        .next()
        .unwrap()
        .to_string();
    let reg = r["reg"].to_string();
    let verifier = r["verifier"].as_str().unwrap();
    let r = botocore_with(
        &sso,
        &[
            ("CALLBACK_PORT", &port),
            ("REG", &reg),
            ("CODE", &code),
            ("VERIFIER", verifier),
        ],
        r#"
        reg = json.loads(os.environ["REG"])
        result["token"] = plain(exchange(reg, os.environ["CODE"], os.environ["VERIFIER"]))
        "#,
    );
    assert_eq!(r["token"]["tokenType"], "Bearer");

    // The browser got exactly one argument, the URL, and no secret was ever in its argv.
    assert_eq!(browser.invocations(), vec![vec![url.to_string()]]);
    let argv = browser.invocations().concat().join(" ");
    for secret in sso.secrets() {
        assert!(!argv.contains(&secret), "a secret in the browser's argv");
    }
}

#[test]
fn test_browser_opens_the_device_verification_url_unless_inert() {
    let sso = Sso::start();
    let env = TestEnv::new();
    let r = botocore(
        &sso,
        r#"
        reg = register_device()
        start = oidc.start_device_authorization(
            clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=START_URL)
        result["url"] = start["verificationUriComplete"]
        "#,
    );
    let url = r["url"].as_str().unwrap();

    let inert = TestBrowser::inert(&env.dir.path().join("inert"));
    env.command(&inert.command).arg(url).assert().success();
    assert_eq!(inert.urls(), vec![url.to_string()]);
    // The inert browser visits nothing, not even later: it starts no background visitor.
    assert!(inert.visits().is_empty());
    assert_eq!(sso.count("DeviceVerify"), 0);

    let browser = TestBrowser::new(env.dir.path());
    env.command(&browser.command).arg(url).assert().success();
    let visits = browser.wait_for_visits(1, Duration::from_secs(30));
    assert_eq!(visits[0]["status"], 200, "{visits:?}");
    assert_eq!(sso.count("DeviceVerify"), 1);

    // Not exactly one argument: logged, and refused.
    env.command(&browser.command)
        .args([url, "extra"])
        .assert()
        .code(2);
    assert_eq!(browser.invocations()[1], [url, "extra"]);
}
