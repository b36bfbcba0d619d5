//! The `pass` backend with the real `pass` and a GPG key the test generates: broker's own items
//! under its prefix, aws-vault's variables for the store, and aws-vault's entries imported.

use std::path::{Path, PathBuf};

use crate::common::{assert_error, stderr_of, stdout_of, TestEnv};

const KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// A GPG home with a key of its own (no passphrase) and a password store initialised for it;
/// the home's agent is stopped when dropped.
pub struct Gpg {
    /// Short, under /tmp: the agent's socket path must fit in 108 bytes.
    home: tempfile::TempDir,
    pub store: PathBuf,
}

impl Gpg {
    pub fn new(env: &TestEnv) -> Gpg {
        let home = tempfile::Builder::new()
            .prefix("bg.")
            .tempdir_in("/tmp")
            .unwrap();
        let params = home.path().join("key.params");
        std::fs::write(
            &params,
            "%no-protection\nKey-Type: eddsa\nKey-Curve: ed25519\nSubkey-Type: ecdh\n\
             Subkey-Curve: cv25519\nName-Real: broker test\nName-Email: test@broker.invalid\n\
             Expire-Date: 0\n%commit\n",
        )
        .unwrap();
        let gpg = |args: &[&str]| {
            let out = std::process::Command::new("gpg")
                .env("GNUPGHOME", home.path())
                .args(["--batch", "--quiet"])
                .args(args)
                .output()
                .expect("gpg (apt-get install gnupg)");
            assert!(out.status.success(), "gpg {args:?}: {}", stderr_of(&out));
            stdout_of(&out)
        };
        gpg(&["--gen-key", params.to_str().unwrap()]);
        let listing = gpg(&["--list-secret-keys", "--with-colons"]);
        let fingerprint = listing
            .lines()
            .find_map(|l| l.strip_prefix("fpr:"))
            .and_then(|l| l.trim_matches(':').rsplit(':').next())
            .expect("a fingerprint")
            .to_string();
        let store = env.dir.path().join("password-store");
        let out = std::process::Command::new("pass")
            .env("GNUPGHOME", home.path())
            .env("PASSWORD_STORE_DIR", &store)
            .args(["init", &fingerprint])
            .output()
            .expect("pass (apt-get install pass)");
        assert!(out.status.success(), "pass init: {}", stderr_of(&out));
        Gpg { home, store }
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// `pass insert -m ENTRY` with `content`, as aws-vault writes its entries.
    pub fn insert(&self, entry: &str, content: &str) {
        use std::io::Write;
        let mut child = std::process::Command::new("pass")
            .env("GNUPGHOME", self.home())
            .env("PASSWORD_STORE_DIR", &self.store)
            .args(["insert", "-m", "-f", entry])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(content.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success());
    }
}

impl Drop for Gpg {
    fn drop(&mut self) {
        let _ = std::process::Command::new("gpgconf")
            .env("GNUPGHOME", self.home.path())
            .args(["--kill", "gpg-agent"])
            .status();
    }
}

#[test]
fn pass_backend_adds_lists_exports_and_removes() {
    let env = TestEnv::new();
    let gpg = Gpg::new(&env);
    env.write_aws_config("[profile alice]\n");
    let broker = || {
        let mut cmd = env.broker();
        cmd.env("GNUPGHOME", gpg.home())
            .env("BROKER_BACKEND", "pass")
            .env("BROKER_PASS_DIR", &gpg.store);
        cmd
    };
    let out = broker()
        .args(["add", "--env", "alice"])
        .env("AWS_ACCESS_KEY_ID", KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let item = gpg.store.join("broker/keys%3Aalice.gpg");
    assert!(item.is_file(), "under broker's prefix");
    assert!(env.files_containing(SECRET).is_empty(), "encrypted by GPG");

    let list = broker().args(["list", "--json"]).output().unwrap();
    assert!(
        stdout_of(&list).contains("\"keys\": \"pass\""),
        "{}",
        stdout_of(&list)
    );
    let out = broker()
        .args(["export", "--format", "json", "--no-session", "alice"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let keys: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(keys["AccessKeyId"], KEY_ID);
    assert_eq!(keys["SecretAccessKey"], SECRET);

    let out = broker().args(["remove", "-f", "alice"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(!item.exists());
}

#[test]
fn aws_vaults_pass_variables_name_the_store_and_prefix() {
    let env = TestEnv::new();
    let gpg = Gpg::new(&env);
    env.write_aws_config("[profile alice]\n");
    let out = env
        .broker()
        .args(["add", "--env", "alice"])
        .env("GNUPGHOME", gpg.home())
        .env("AWS_VAULT_BACKEND", "pass")
        .env("AWS_VAULT_PASS_PASSWORD_STORE_DIR", &gpg.store)
        .env("AWS_VAULT_PASS_PREFIX", "aws")
        .env("AWS_VAULT_PASS_CMD", "pass")
        .env("AWS_ACCESS_KEY_ID", KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(gpg.store.join("aws/keys%3Aalice.gpg").is_file());
    // A directory that is no password store is a clear error.
    let out = env
        .broker()
        .args(["export", "--no-session", "alice"])
        .env("BROKER_BACKEND", "pass")
        .env("BROKER_PASS_DIR", env.dir.path())
        .output()
        .unwrap();
    assert_error(&out, 1, "is not a password store (no .gpg-id");
}

/// aws-vault's keyring item around `keys` (aws-sdk-go-v2's `aws.Credentials`), as its stores
/// hold it.
pub fn aws_vault_item(profile: &str, id: &str, secret: &str, token: &str) -> serde_json::Value {
    use base64::Engine;
    let credentials = serde_json::json!({
        "AccessKeyID": id, "SecretAccessKey": secret, "SessionToken": token, "Source": "",
        "CanExpire": !token.is_empty(), "Expires": "0001-01-01T00:00:00Z",
    });
    serde_json::json!({
        "Key": profile,
        "Data": base64::engine::general_purpose::STANDARD.encode(credentials.to_string()),
        "Label": format!("aws-vault ({profile})"),
        "Description": "",
        "KeychainNotTrustApplication": true,
        "KeychainNotSynchronizable": false,
    })
}

#[test]
fn import_from_aws_vaults_pass_entries_skips_the_users_own_and_leaves_them_there() {
    let env = TestEnv::new()
        .env("BROKER_BACKEND", "file")
        .env("BROKER_FILE_PASSPHRASE", crate::common::TEST_PASSPHRASE);
    let gpg = Gpg::new(&env);
    env.write_aws_config("[profile alice]\n");
    // aws-vault's default prefix is none: its entries sit among the user's own.
    gpg.insert("github", "hunter2\nlogin: me");
    gpg.insert(
        "alice",
        &aws_vault_item("alice", KEY_ID, SECRET, "").to_string(),
    );
    let entry = gpg.store.join("alice.gpg");
    let before = std::fs::read(&entry).unwrap();
    let import = |args: &[&str]| {
        env.broker()
            .args(["import", "--from-aws-vault", "--yes"])
            .args(args)
            .env("GNUPGHOME", gpg.home())
            .env("AWS_VAULT_PASS_PASSWORD_STORE_DIR", &gpg.store)
            .output()
            .unwrap()
    };
    // Not named: not searched (each entry would be decrypted to look), and it says so.
    let out = import(&[]);
    assert!(
        stderr_of(&out).contains("not searching the password store")
            && stderr_of(&out).contains("--aws-vault-backend pass"),
        "{}",
        stderr_of(&out)
    );
    let out = import(&["--aws-vault-backend", "pass"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("skipping github in the password store")
            && stderr_of(&out).contains("not an aws-vault item"),
        "{}",
        stderr_of(&out)
    );
    assert!(!stderr_of(&out).contains("hunter2"), "{}", stderr_of(&out));
    let keys = crate::fixtures::export_json(&env, &["--no-session", "alice"]);
    assert_eq!(keys["SecretAccessKey"], SECRET);
    assert_eq!(
        std::fs::read(&entry).unwrap(),
        before,
        "aws-vault's entry untouched"
    );
}
