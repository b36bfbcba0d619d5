#![allow(dead_code)] // shared helpers; not every test uses every one
//! A real moto (PyPI moto 5.x) on a free loopback port, from the test venv, with IAM set-up
//! helpers. With `enforce_after = Some(n)`, moto checks SigV4 signatures, IAM policies and trust
//! policies from the (n+1)-th request on (`INITIAL_NO_AUTH_ACTION_COUNT`), like AWS does.
//! Started through `rig` (directly, or by the launcher under Wine).

use std::collections::BTreeMap;
use std::io::{Read, Write};

use aws_credential_types::Credentials;

pub use super::rig::venv;
use super::rig::Server;

pub struct Moto {
    _server: Server,
    pub port: u16,
    rt: tokio::runtime::Runtime,
}

/// An IAM user's key as moto issued it.
pub struct UserKey {
    pub user_arn: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl Moto {
    /// Starts moto; `enforce_after` is `INITIAL_NO_AUTH_ACTION_COUNT`, `None` for no checks.
    pub fn start(enforce_after: Option<u32>) -> Moto {
        let env: Vec<_> = enforce_after
            .map(|n| ("INITIAL_NO_AUTH_ACTION_COUNT", n.to_string()))
            .into_iter()
            .collect();
        let server = Server::start("moto_server.py", &env);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        Moto {
            port: server.port,
            _server: server,
            rt,
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// How many requests of each AWS action moto received.
    pub fn counts(&self) -> BTreeMap<String, u64> {
        let body = self.get("/_broker_test/counts");
        serde_json::from_str(&body).expect("counts JSON")
    }

    pub fn count(&self, action: &str) -> u64 {
        self.counts().get(action).copied().unwrap_or(0)
    }

    /// The parameters of every request of `action` moto received, oldest first.
    pub fn requests(&self, action: &str) -> Vec<BTreeMap<String, String>> {
        let all: BTreeMap<String, Vec<BTreeMap<String, String>>> =
            serde_json::from_str(&self.get("/_broker_test/requests")).expect("requests JSON");
        all.get(action).cloned().unwrap_or_default()
    }

    /// The access key ids of the user owning `key`, asked with that key.
    pub fn list_access_keys(&self, key: &str, secret: &str) -> Result<Vec<String>, String> {
        let creds = Credentials::new(key, secret, None, None, "test");
        let iam = aws_sdk_iam::Client::new(&self.config(creds));
        self.rt.block_on(async {
            match iam.list_access_keys().send().await {
                Ok(out) => Ok(out
                    .access_key_metadata()
                    .iter()
                    .filter_map(|k| k.access_key_id().map(str::to_owned))
                    .collect()),
                Err(e) => Err(format!("{}", aws_sdk_iam::error::DisplayErrorContext(e))),
            }
        })
    }

    /// Makes the next `times` requests of `action` fail with `mode`: 500, 429 (bare), garbage, throttle,
    /// expired (an ExpiredToken error), mfa (STS's refusal of a wrong MFA code), hang.
    pub fn fail_next(&self, action: &str, mode: &str, times: u32) {
        self.get(&format!(
            "/_broker_test/fail?action={action}&mode={mode}&times={times}"
        ));
    }

    /// Makes the credentials of later STS answers expire `seconds` after they are issued.
    pub fn set_lifetime(&self, seconds: u32) {
        self.get(&format!("/_broker_test/lifetime?seconds={seconds}"));
    }

    /// Issues what `set_lifetime` shortens by the clock of `env`'s brokers, so that credentials
    /// issued after the test moves that clock expire later by as much.
    pub fn share_clock(&self, env: &crate::common::TestEnv) {
        let file = super::rig::server_path(&env.clock_file());
        assert!(
            file.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/-_.".contains(&b)),
            "a path that needs no escaping in a query: {file}"
        );
        self.get(&format!("/_broker_test/clock?file={file}"));
    }

    fn get(&self, path: &str) -> String {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_string())
            .unwrap_or_default()
    }

    fn config(&self, creds: Credentials) -> aws_types::SdkConfig {
        // moto is plain HTTP on loopback.
        aws_types::SdkConfig::builder()
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_types::region::Region::new("us-east-1"))
            .endpoint_url(self.endpoint())
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(creds),
            )
            .build()
    }

    /// An IAM client with moto's default test credentials; works while moto is not enforcing.
    pub fn admin_iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.config(Credentials::for_tests()))
    }

    /// Creates a user and an access key for it (2 requests).
    pub fn create_user(&self, name: &str) -> UserKey {
        let iam = self.admin_iam();
        self.rt.block_on(async {
            let user = iam.create_user().user_name(name).send().await.unwrap();
            let key = iam
                .create_access_key()
                .user_name(name)
                .send()
                .await
                .unwrap();
            let key = key.access_key().unwrap();
            UserKey {
                user_arn: user.user().unwrap().arn().to_string(),
                access_key_id: key.access_key_id().to_string(),
                secret_access_key: key.secret_access_key().to_string(),
            }
        })
    }

    /// Attaches an inline policy to a user (1 request).
    pub fn put_user_policy(&self, user: &str, policy: &serde_json::Value) {
        let iam = self.admin_iam();
        self.rt.block_on(async {
            iam.put_user_policy()
                .user_name(user)
                .policy_name("test")
                .policy_document(policy.to_string())
                .send()
                .await
                .unwrap();
        });
    }

    /// Attaches an inline policy to a role (1 request).
    pub fn put_role_policy(&self, role: &str, policy: &serde_json::Value) {
        let iam = self.admin_iam();
        self.rt.block_on(async {
            iam.put_role_policy()
                .role_name(role)
                .policy_name("test")
                .policy_document(policy.to_string())
                .send()
                .await
                .unwrap();
        });
    }

    /// Creates a role that trusts `principal_arn` (1 request); returns its ARN.
    pub fn create_role(&self, name: &str, principal_arn: &str) -> String {
        let trust = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"AWS": principal_arn},
                "Action": ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"]
            }]
        });
        let iam = self.admin_iam();
        self.rt.block_on(async {
            let role = iam
                .create_role()
                .role_name(name)
                .assume_role_policy_document(trust.to_string())
                .send()
                .await
                .unwrap();
            role.role().unwrap().arn().to_string()
        })
    }

    /// Calls STS GetCallerIdentity with the given credentials; the caller's ARN or the error.
    pub fn caller_arn(
        &self,
        key: &str,
        secret: &str,
        token: Option<&str>,
    ) -> Result<String, String> {
        let creds = Credentials::new(key, secret, token.map(str::to_owned), None, "test");
        let sts = aws_sdk_sts::Client::new(&self.config(creds));
        self.rt.block_on(async {
            match sts.get_caller_identity().send().await {
                Ok(out) => Ok(out.arn().unwrap_or_default().to_string()),
                Err(e) => Err(format!("{}", aws_sdk_sts::error::DisplayErrorContext(e))),
            }
        })
    }
}
