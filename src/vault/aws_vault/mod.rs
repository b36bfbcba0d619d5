//! aws-vault's stores, read for `broker import --from-aws-vault`, never written: its Secret
//! Service collection, its macOS keychain, its Windows credentials, its `pass` entries and its
//! encrypted file store. Each holds one item per key, named after the profile for long-term
//! keys (sessions and SSO tokens are skipped): a keyring item (JSON whose `Data` is the
//! credentials' JSON, base64) in the Secret Service, `pass` and the file store, the credentials'
//! JSON itself in the keychain and the Credential Manager. Only long-term keys are taken:
//! items holding a session token, or marked as expiring, are reported and left out.
//!
//! Secrets are held in zeroing memory; nothing read here is written anywhere but broker's vault.

mod jose;
#[cfg(target_os = "macos")]
mod keychain;
#[cfg(target_os = "linux")]
mod secret_service;
#[cfg(windows)]
mod wincred;

use std::path::{Path, PathBuf};

use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use zeroize::Zeroizing;

use super::PassSpec;
use crate::credentials::{self, LongTermKeys};
use crate::fsutil;

/// One of aws-vault's stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    SecretService,
    Keychain,
    Wincred,
    Pass,
    File,
}

impl Store {
    pub const ALL: [Store; 5] = [
        Store::SecretService,
        Store::Keychain,
        Store::Wincred,
        Store::Pass,
        Store::File,
    ];

    /// aws-vault's name for it (its `--backend`).
    pub fn name(self) -> &'static str {
        match self {
            Store::SecretService => "secret-service",
            Store::Keychain => "keychain",
            Store::Wincred => "wincred",
            Store::Pass => "pass",
            Store::File => "file",
        }
    }

    pub fn from_name(name: &str) -> Option<Store> {
        Store::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// Where aws-vault keeps its items on this machine.
pub struct Stores {
    /// The file store: `AWS_VAULT_FILE_DIR`, else `~/.awsvault/keys`.
    pub file_dir: PathBuf,
    /// Its passphrase: `AWS_VAULT_FILE_PASSPHRASE`, else asked on the terminal.
    pub file_passphrase: Option<SecretString>,
    /// The Secret Service collection: `AWS_VAULT_SECRET_SERVICE_COLLECTION_NAME`, else
    /// `awsvault`.
    pub collection: String,
    /// The keychain: `--keychain`, `AWS_VAULT_KEYCHAIN_NAME`, else `aws-vault`.
    pub keychain: String,
    /// The password store and aws-vault's prefix in it (`AWS_VAULT_PASS_*`).
    pub pass: PassSpec,
    /// Where `~/Library/Keychains` is (macOS).
    #[cfg_attr(not(target_os = "macos"), allow(dead_code))]
    pub home: Option<PathBuf>,
    /// Whether a Secret Service may answer (Linux).
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub dbus_session: bool,
}

/// Long-term keys found in one of aws-vault's stores.
pub struct Found {
    pub profile: String,
    pub keys: LongTermKeys,
    /// Where, for messages: `file store ~/.awsvault/keys`.
    pub place: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AwsVaultError {
    #[error("wrong passphrase for aws-vault's file store in {}", .0.display())]
    WrongPassphrase(PathBuf),
    #[error("aws-vault's file store in {} needs its passphrase: {source}", .dir.display())]
    NoPassphrase {
        dir: PathBuf,
        #[source]
        source: crate::tty::TtyError,
    },
    #[error("cannot read aws-vault's item {key} in the {place}: {why}")]
    Item {
        key: String,
        place: String,
        why: String,
    },
    #[error("cannot read aws-vault's {store} store: {detail}")]
    Store { store: &'static str, detail: String },
}

/// An item as a store holds it: aws-vault's key, and its data.
struct Raw {
    key: String,
    data: Zeroizing<Vec<u8>>,
    /// Whether the data is a keyring item wrapping the credentials (not the credentials).
    wrapped: bool,
}

/// The keys in every store of `only` (all when empty) present on this machine, and notices
/// of what was left out.
pub fn read(stores: &Stores, only: &[Store]) -> Result<(Vec<Found>, Vec<String>), AwsVaultError> {
    let mut found = Vec::new();
    let mut notices = Vec::new();
    for store in Store::ALL {
        if !only.is_empty() && !only.contains(&store) {
            continue;
        }
        let (place, raws) = match store {
            Store::File => (
                format!("file store {}", stores.file_dir.display()),
                file_items(stores)?,
            ),
            Store::Pass if only.is_empty() && stores.pass.prefix.trim_matches('/').is_empty() => {
                // aws-vault's entries would sit among the user's own, each decrypted to look.
                if stores.pass.dir.join(".gpg-id").is_file() {
                    notices.push(format!(
                        "not searching the password store {}: aws-vault's entries there have no \
                         prefix of their own (AWS_VAULT_PASS_PREFIX); name it with \
                         --aws-vault-backend pass",
                        stores.pass.dir.display()
                    ));
                }
                continue;
            }
            Store::Pass => (
                format!("password store {}", stores.pass.dir.display()),
                pass_items(&stores.pass)?,
            ),
            Store::SecretService => (
                format!("Secret Service collection {}", stores.collection),
                secret_service_items(stores)?,
            ),
            Store::Keychain => (
                format!("keychain {}", stores.keychain),
                keychain_items(stores)?,
            ),
            Store::Wincred => ("Credential Manager".to_string(), wincred_items()?),
        };
        for raw in raws {
            if raw.key.contains(',') || raw.key.starts_with("oidc:") {
                // aws-vault's cached sessions (`TYPE,PROFILE,MFA,EXPIRY`) and SSO tokens.
                continue;
            }
            match keys_of(&raw) {
                Ok(Some(keys)) => found.push(Found {
                    profile: raw.key,
                    keys,
                    place: place.clone(),
                }),
                Ok(None) => notices.push(format!(
                    "skipping {} in the {place}: it holds temporary credentials, not a \
                     long-term key",
                    raw.key
                )),
                Err(why) => notices.push(format!(
                    "skipping {} in the {place}: not an aws-vault item ({why})",
                    crate::sanitize::escape(&raw.key)
                )),
            }
        }
    }
    Ok((found, notices))
}

/// aws-vault's keyring item around the credentials (only what broker reads of it).
#[derive(Deserialize)]
struct Item {
    #[serde(rename = "Data")]
    data: SecretString,
}

/// The credentials' JSON as aws-vault stores it: aws-sdk-go-v2's `aws.Credentials` (v1's
/// `credentials.Value` has the same names for these).
#[derive(Deserialize)]
struct StoredCredentials {
    #[serde(rename = "AccessKeyID", alias = "AccessKeyId")]
    access_key_id: String,
    #[serde(rename = "SecretAccessKey")]
    secret_access_key: SecretString,
    #[serde(rename = "SessionToken", default)]
    session_token: Option<SecretString>,
    #[serde(rename = "CanExpire", default)]
    can_expire: bool,
}

/// The long-term keys in an item; `None` for temporary credentials; an error saying what is
/// wrong with it.
fn keys_of(raw: &Raw) -> Result<Option<LongTermKeys>, String> {
    let data = if raw.wrapped {
        let item: Item = serde_json::from_slice(&raw.data)
            .map_err(|_| "not one of aws-vault's keyring items".to_string())?;
        Zeroizing::new(
            base64::engine::general_purpose::STANDARD
                .decode(item.data.expose_secret())
                .map_err(|_| "its Data is not base64".to_string())?,
        )
    } else {
        Zeroizing::new(raw.data.to_vec())
    };
    let stored: StoredCredentials = serde_json::from_slice(&data)
        .map_err(|_| "it holds no AccessKeyID and SecretAccessKey".to_string())?;
    let temporary = stored
        .session_token
        .as_ref()
        .is_some_and(|t| !t.expose_secret().is_empty());
    if temporary || stored.can_expire {
        return Ok(None);
    }
    if !credentials::valid_access_key_id(&stored.access_key_id)
        || stored.secret_access_key.expose_secret().is_empty()
    {
        return Err("its AccessKeyID or SecretAccessKey is not a key".into());
    }
    Ok(Some(LongTermKeys {
        access_key_id: stored.access_key_id,
        secret_access_key: stored.secret_access_key,
    }))
}

/// The file store's items: one JWE file per key, named after it (percent-encoded by newer
/// aws-vaults). broker's own `.age` items and hidden files beside them are not aws-vault's.
fn file_items(stores: &Stores) -> Result<Vec<Raw>, AwsVaultError> {
    let dir = &stores.file_dir;
    let fail = |e: std::io::Error| AwsVaultError::Store {
        store: "file",
        detail: format!("{}: {e}", dir.display()),
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(fail(e)),
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !n.starts_with('.') && !n.ends_with(".age"))
        .collect();
    names.sort();
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let passphrase = match &stores.file_passphrase {
        Some(p) => p.clone(),
        None => {
            crate::tty::ask_secret("aws-vault's file store passphrase: ").map_err(|source| {
                AwsVaultError::NoPassphrase {
                    dir: dir.clone(),
                    source,
                }
            })?
        }
    };
    let mut raws = Vec::new();
    for name in names {
        let path = dir.join(&name);
        let key = fsutil::decode_name(&name).unwrap_or_else(|| name.clone());
        let item_error = |why: String| AwsVaultError::Item {
            key: key.clone(),
            place: format!("file store {}", dir.display()),
            why,
        };
        let bytes = fsutil::read_private(&path, fsutil::SMALL_FILE_CAP)
            .map_err(|e| item_error(e.to_string()))?
            .unwrap_or_default();
        let token = std::str::from_utf8(&bytes).map_err(|_| item_error("not text".into()))?;
        let data = match jose::decrypt(token, passphrase.expose_secret().as_bytes()) {
            Ok(data) => data,
            Err(jose::JoseError::WrongPassphrase) => {
                return Err(AwsVaultError::WrongPassphrase(dir.clone()))
            }
            Err(e) => return Err(item_error(e.to_string())),
        };
        raws.push(Raw {
            key,
            data,
            wrapped: true,
        });
    }
    Ok(raws)
}

/// The password store's items under aws-vault's prefix: `PREFIX/KEY.gpg`, read with `pass
/// show`. Entries in folders below the prefix (broker's own `broker/`) are not aws-vault's.
fn pass_items(pass: &PassSpec) -> Result<Vec<Raw>, AwsVaultError> {
    if !pass.dir.join(".gpg-id").is_file() {
        return Ok(Vec::new());
    }
    let folder = pass.dir.join(pass.prefix.trim_matches('/'));
    let Ok(entries) = std::fs::read_dir(&folder) else {
        return Ok(Vec::new());
    };
    let mut keys: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".gpg").map(str::to_owned))
        .collect();
    keys.sort();
    let mut raws = Vec::new();
    for key in keys {
        let secret = pass
            .show(&pass.entry(&key))
            .map_err(|e| AwsVaultError::Store {
                store: "pass",
                detail: e.to_string(),
            })?;
        if let Some(secret) = secret {
            raws.push(Raw {
                key,
                data: Zeroizing::new(secret.expose_secret().as_bytes().to_vec()),
                wrapped: true,
            });
        }
    }
    Ok(raws)
}

#[cfg(target_os = "linux")]
fn secret_service_items(stores: &Stores) -> Result<Vec<Raw>, AwsVaultError> {
    if !stores.dbus_session {
        return Ok(Vec::new());
    }
    secret_service::items(&stores.collection)
}

#[cfg(not(target_os = "linux"))]
fn secret_service_items(_stores: &Stores) -> Result<Vec<Raw>, AwsVaultError> {
    Ok(Vec::new())
}

#[cfg(target_os = "macos")]
fn keychain_items(stores: &Stores) -> Result<Vec<Raw>, AwsVaultError> {
    keychain::items(&keychain_path(stores.home.as_deref(), &stores.keychain))
}

#[cfg(not(target_os = "macos"))]
fn keychain_items(_stores: &Stores) -> Result<Vec<Raw>, AwsVaultError> {
    Ok(Vec::new())
}

/// aws-vault's keychain file: `NAME.keychain-db` (or an old `NAME.keychain`) in
/// `~/Library/Keychains`.
#[cfg_attr(not(target_os = "macos"), allow(dead_code))]
fn keychain_path(home: Option<&Path>, name: &str) -> PathBuf {
    let dir = home.unwrap_or(Path::new("/")).join("Library/Keychains");
    let db = dir.join(format!("{name}.keychain-db"));
    if db.exists() {
        db
    } else {
        dir.join(format!("{name}.keychain"))
    }
}

#[cfg(windows)]
fn wincred_items() -> Result<Vec<Raw>, AwsVaultError> {
    wincred::items()
}

#[cfg(not(windows))]
fn wincred_items() -> Result<Vec<Raw>, AwsVaultError> {
    Ok(Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(data: &str, wrapped: bool) -> Raw {
        Raw {
            key: "alice".into(),
            data: Zeroizing::new(data.as_bytes().to_vec()),
            wrapped,
        }
    }

    #[test]
    fn long_term_keys_are_taken_and_temporary_ones_left() {
        let keys = r#"{"AccessKeyID":"AKIAIOSFODNN7EXAMPLE","SecretAccessKey":"s3cret","SessionToken":"","Source":"","CanExpire":false,"Expires":"0001-01-01T00:00:00Z"}"#;
        let found = keys_of(&raw(keys, false)).unwrap().unwrap();
        assert_eq!(found.access_key_id, "AKIAIOSFODNN7EXAMPLE");
        let item = format!(
            r#"{{"Key":"alice","Data":"{}","Label":"aws-vault (alice)"}}"#,
            base64::engine::general_purpose::STANDARD.encode(keys)
        );
        assert!(keys_of(&raw(&item, true)).unwrap().is_some());
        let session = r#"{"AccessKeyID":"ASIAIOSFODNN7EXAMPLE","SecretAccessKey":"s","SessionToken":"t","CanExpire":true}"#;
        assert!(keys_of(&raw(session, false)).unwrap().is_none());
        assert!(keys_of(&raw("{}", false)).is_err());
        assert!(keys_of(&raw(keys, true)).is_err(), "not wrapped");
    }
}
