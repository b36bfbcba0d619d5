//! The `pass` backend: each item a file of the standard Unix password store,
//! `DIR/PREFIX/NAME.gpg`, encrypted with GPG by the `pass` program, which broker runs for every
//! read and write (as aws-vault's pass backend does).
//!
//! Secrets travel over pipes only (stdin of `pass insert`, stdout of `pass show`), never in an
//! argument, and are held in zeroing memory. Whether an item exists is answered from the file
//! alone, without decrypting it. Every run is bounded (see [`crate::process::run_bounded`]):
//! GPG may wait for a pinentry, so the bound is generous.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use super::{BackendKind, Unavailability, Vault, VaultError};
use crate::fsutil;

/// How long one run of `pass` may take (GPG may ask for the key's passphrase).
const TIMEOUT: Duration = Duration::from_secs(120);
/// broker's items live under this prefix unless told otherwise.
pub const DEFAULT_PREFIX: &str = "broker";

/// Where the password store is and how to run `pass` on it.
#[derive(Debug, Clone)]
pub struct PassSpec {
    /// The store: `BROKER_PASS_DIR`, `AWS_VAULT_PASS_PASSWORD_STORE_DIR`, `PASSWORD_STORE_DIR`,
    /// else `~/.password-store`.
    pub dir: PathBuf,
    /// The program: `BROKER_PASS_CMD`, `AWS_VAULT_PASS_CMD`, else `pass`.
    pub command: String,
    /// The folder of broker's items in the store: `BROKER_PASS_PREFIX`,
    /// `AWS_VAULT_PASS_PREFIX`, else `broker`.
    pub prefix: String,
}

pub struct PassVault {
    spec: PassSpec,
}

/// Opens the store, checking that it is one (`pass init` writes its `.gpg-id`).
pub fn open(spec: &PassSpec) -> Result<PassVault, VaultError> {
    if !spec.dir.join(".gpg-id").is_file() {
        return Err(VaultError::Unavailable {
            backend: BackendKind::Pass.name(),
            why: Unavailability::NoPasswordStore(spec.dir.clone()),
        });
    }
    Ok(PassVault { spec: spec.clone() })
}

impl PassSpec {
    /// The store's name of `name` under the prefix: `PREFIX/NAME`.
    pub fn entry(&self, name: &str) -> String {
        match self.prefix.trim_matches('/') {
            "" => name.to_string(),
            prefix => format!("{prefix}/{name}"),
        }
    }

    /// The file that holds the entry `entry`.
    pub fn file(&self, entry: &str) -> PathBuf {
        self.dir.join(format!("{entry}.gpg"))
    }

    /// Runs `pass ARGS` on the store, with `input` on its stdin; its stdout.
    pub fn run(
        &self,
        args: &[&str],
        input: Option<&[u8]>,
    ) -> Result<zeroize::Zeroizing<Vec<u8>>, VaultError> {
        let mut command = crate::process::command(&self.command);
        command.args(args).env("PASSWORD_STORE_DIR", &self.dir);
        crate::process::run_bounded(command, input, TIMEOUT).map_err(|e| VaultError::Backend {
            backend: BackendKind::Pass.name(),
            detail: format!("{} {}: {e}", self.command, args[0]),
        })
    }

    /// Decrypts the entry `entry` (`pass show`): its text without trailing line breaks, or
    /// `None` when the store has no such file.
    pub fn show(&self, entry: &str) -> Result<Option<SecretString>, VaultError> {
        if !self.file(entry).is_file() {
            return Ok(None);
        }
        let bytes = self.run(&["show", "--", entry], None)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| VaultError::Backend {
            backend: BackendKind::Pass.name(),
            detail: format!("{entry} is not text"),
        })?;
        Ok(Some(SecretString::from(
            text.trim_end_matches(['\r', '\n']),
        )))
    }
}

impl PassVault {
    fn entry(&self, item: &str) -> String {
        self.spec.entry(&fsutil::encode_name(item))
    }
}

impl Vault for PassVault {
    fn kind(&self) -> BackendKind {
        BackendKind::Pass
    }

    fn get(&self, item: &str) -> Result<Option<SecretString>, VaultError> {
        self.spec.show(&self.entry(item))
    }

    fn contains(&self, item: &str) -> Result<bool, VaultError> {
        Ok(self.spec.file(&self.entry(item)).is_file())
    }

    fn set(&self, item: &str, secret: &SecretString) -> Result<(), VaultError> {
        let entry = self.entry(item);
        self.spec.run(
            &["insert", "--multiline", "--force", "--", &entry],
            Some(secret.expose_secret().as_bytes()),
        )?;
        Ok(())
    }

    fn delete(&self, item: &str) -> Result<bool, VaultError> {
        let entry = self.entry(item);
        if !self.spec.file(&entry).is_file() {
            return Ok(false);
        }
        self.spec.run(&["rm", "--force", "--", &entry], None)?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_live_under_the_prefix() {
        let spec = PassSpec {
            dir: PathBuf::from("/s"),
            command: "pass".into(),
            prefix: "broker/".into(),
        };
        assert_eq!(spec.entry("keys%3Aalice"), "broker/keys%3Aalice");
        assert_eq!(
            spec.file(&spec.entry("x")),
            PathBuf::from("/s/broker/x.gpg")
        );
        let bare = PassSpec {
            prefix: String::new(),
            ..spec
        };
        assert_eq!(bare.entry("alice"), "alice");
    }
}
