//! The session cache: every STS result, kept until it expires, private to the user.
//!
//! One file per entry under `$XDG_CACHE_HOME/broker/sessions`, sealed (XChaCha20-Poly1305) with
//! a key derived from a random secret that never touches the disk (see `identity.rs`). The file name
//! carries only the owning profile, the kind of entry and a hash of its key. A corrupt, foreign
//! or undecryptable entry is ignored and replaced, never fatal. Per-entry file locks let many
//! processes share one STS call.

mod identity;
pub use identity::SecretError;

use std::path::PathBuf;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::credentials::Credentials;

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cannot write the cache in {dir}: {source}")]
    Write {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot lock the cache in {dir}: {source}")]
    Lock {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Key(#[from] identity::SecretError),
}

type Result<T> = std::result::Result<T, CacheError>;
use crate::fsutil;
use crate::vault::VaultSpec;

const SUFFIX: &str = ".entry";
/// The entries of an older broker (age-encrypted): never read, removed by the first write.
const OLD_SUFFIX: &str = ".age";

/// The first bytes of an entry file: the format, also bound into the seal.
const MAGIC: &[u8] = b"broker-cache-v2\n";
const NONCE_LEN: usize = 24;

/// The key entries are sealed with. Derived from the cache's secret (256 random bits) by
/// SHA-256 with a label: a warm call decrypts with one symmetric cipher.
pub struct SealKey(Zeroizing<[u8; 32]>);

impl SealKey {
    pub fn derive(secret: &identity::CacheSecret) -> SealKey {
        SealKey::from_secret(secret.bytes())
    }

    /// The key of a secret given as bytes (for tests and fuzzing).
    pub fn from_secret(secret: &[u8; 32]) -> SealKey {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        hash.update(b"broker cache entries v3\0");
        hash.update(secret);
        SealKey(Zeroizing::new(hash.finalize().into()))
    }

    fn cipher(&self) -> chacha20poly1305::XChaCha20Poly1305 {
        use chacha20poly1305::KeyInit;
        chacha20poly1305::XChaCha20Poly1305::new(self.0.as_ref().into())
    }
}

/// The call an entry holds the credentials of; its name is part of the entry's file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// GetRoleCredentials of an IAM Identity Center role.
    Sso,
    /// GetSessionToken.
    Session,
    /// AssumeRole.
    Role,
    /// AssumeRoleWithWebIdentity.
    Web,
}

impl EntryKind {
    pub fn name(self) -> &'static str {
        match self {
            EntryKind::Sso => "sso",
            EntryKind::Session => "session",
            EntryKind::Role => "role",
            EntryKind::Web => "web",
        }
    }
}

impl std::fmt::Display for EntryKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What an entry is for, and everything that changes its result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryKey {
    /// The profile that owns the entry: the source profile for a session token, the role's
    /// profile for a role.
    pub profile: String,
    pub kind: EntryKind,
    /// The profile whose stored keys (or `credential_process`, or token file) the entry was
    /// made from, at any depth: when those keys change, every entry made from them goes.
    pub source: String,
    /// Every input of the STS call (never a secret), one per line.
    pub canonical: String,
}

impl EntryKey {
    pub fn hash(&self) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(self.canonical.as_bytes());
        digest[..16].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// `OWNER.KIND.SOURCE.HASH.entry`: the source is encoded without dots, so the name splits
    /// from the right even when the owner's name has dots.
    fn file_name(&self) -> String {
        format!(
            "{}.{}.{}.{}{SUFFIX}",
            fsutil::encode_name(&self.profile),
            self.kind.name(),
            fsutil::encode_name(&self.source).replace('.', "%2E"),
            self.hash()
        )
    }
}

/// How much use is left in cached credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// More than `min_ttl` left (or, for credentials issued for less than `min_ttl`, more than
    /// half their life): handed out as they are.
    Fresh,
    /// Inside the advisory window: refreshed, but if the refresh fails they are handed out
    /// with a warning, so an STS hiccup does not break running jobs.
    Usable,
    /// Inside the mandatory window (the last third of the advisory one) or expired: a
    /// refresh must succeed.
    Stale,
}

/// A cached entry as read back: the credentials, when they were issued, how fresh they are.
pub struct Cached {
    pub credentials: Credentials,
    pub freshness: Freshness,
}

/// What an entry file holds, once decrypted.
#[derive(Serialize, Deserialize)]
pub struct Stored {
    pub key: String,
    pub issued: DateTime<Utc>,
    pub credentials: Credentials,
}

/// A cached entry, as `list` shows it.
#[derive(Debug)]
pub struct Listed {
    pub profile: String,
    pub kind: String,
    pub expiration: Option<DateTime<Utc>>,
}

/// An entry file's name, split: owner profile, kind, source profile.
struct FileName {
    profile: String,
    kind: String,
    source: String,
}

impl FileName {
    fn parse(name: &str) -> Option<FileName> {
        let stem = name.strip_suffix(SUFFIX)?;
        let mut parts = stem.rsplitn(4, '.');
        let (_hash, source, kind, profile) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        Some(FileName {
            profile: fsutil::decode_name(profile)?,
            kind: kind.to_string(),
            source: fsutil::decode_name(source)?,
        })
    }
}

pub struct Cache {
    /// broker's own cache directory (`$XDG_CACHE_HOME/broker`), checked before anything is
    /// made inside it.
    root: PathBuf,
    /// The entries: `ROOT/sessions`.
    dir: PathBuf,
    key: OnceLock<SealKey>,
    vault: VaultSpec,
}

/// Held while an entry is being computed; dropping it releases the lock.
pub struct Lock(#[allow(dead_code)] std::fs::File);

impl Cache {
    /// The cache in `root/sessions`; `vault` is where the cache key lives when the kernel
    /// keyring cannot hold it.
    pub fn new(root: PathBuf, vault: VaultSpec) -> Cache {
        Cache {
            dir: root.join("sessions"),
            root,
            key: OnceLock::new(),
            vault,
        }
    }

    fn key(&self) -> Result<&SealKey> {
        if let Some(key) = self.key.get() {
            return Ok(key);
        }
        let secret = identity::load_or_create(|| self.lock_file("identity"), || self.vault.open())?;
        Ok(self.key.get_or_init(|| SealKey::derive(&secret)))
    }

    /// Where the cache's key is kept, without making one (see [`identity::locate`]).
    pub fn key_place(&self) -> std::result::Result<Option<String>, crate::vault::VaultError> {
        identity::locate(|| self.vault.open())
    }

    /// The entry for `key` with its freshness now, if it is there, readable, and really the
    /// entry for `key`.
    pub fn get_fresh(&self, key: &EntryKey, min_ttl: std::time::Duration) -> Option<Cached> {
        let (credentials, issued) = self.get(key)?;
        let freshness = freshness(&credentials, issued, min_ttl, crate::clock::now());
        Some(Cached {
            credentials,
            freshness,
        })
    }

    /// The entry for `key`, if it is there, readable, and really the entry for `key`.
    pub fn get(&self, key: &EntryKey) -> Option<(Credentials, DateTime<Utc>)> {
        let path = self.dir.join(key.file_name());
        let bytes = read_entry(&path)?;
        crate::timing::phase("cache read");
        // Without the cache key nothing can be read, but nothing is proven damaged either.
        let seal = self.key().ok()?;
        crate::timing::phase("cache key");
        let decoded = decode_entry(seal, &bytes);
        crate::timing::phase("cache decrypt");
        match decoded {
            Some(stored) if stored.key == key.canonical => {
                Some((stored.credentials, stored.issued))
            }
            _ => {
                crate::output::verbose(format!(
                    "ignoring unreadable cache entry {}",
                    path.display()
                ));
                let _ = std::fs::remove_file(&path);
                None
            }
        }
    }

    fn decrypt(&self, bytes: &[u8]) -> Option<Stored> {
        decode_entry(self.key().ok()?, bytes)
    }

    /// Stores `credentials` under `key`, replacing what was there.
    pub fn put(
        &self,
        key: &EntryKey,
        credentials: &Credentials,
        issued: DateTime<Utc>,
    ) -> Result<()> {
        let stored = Stored {
            key: key.canonical.clone(),
            issued,
            credentials: credentials.clone(),
        };
        let io = |source: std::io::Error| CacheError::Write {
            dir: self.dir.clone(),
            source,
        };
        let bytes = encode_entry(self.key()?, &stored).map_err(io)?;
        fsutil::private_dir_under(&self.root, &self.dir).map_err(io)?;
        fsutil::atomic_write(&self.dir.join(key.file_name()), &bytes).map_err(io)?;
        self.drop_old_entries();
        Ok(())
    }

    /// Removes the entries an older broker wrote: no broker can read them any more.
    fn drop_old_entries(&self) {
        for (path, _) in self.files() {
            if path.to_string_lossy().ends_with(OLD_SUFFIX) {
                let _ = std::fs::remove_file(path);
            }
        }
    }

    /// Removes one entry.
    pub fn remove(&self, key: &EntryKey) {
        let _ = std::fs::remove_file(self.dir.join(key.file_name()));
    }

    /// Takes a lock by name (an SSO session's sign-in), serialising it across processes.
    pub fn lock_named(&self, name: &str) -> Result<Lock> {
        self.lock_file(&fsutil::encode_name(name))
            .map(Lock)
            .map_err(|source| CacheError::Lock {
                dir: self.dir.clone(),
                source,
            })
    }

    /// The names of the named locks ever taken here (see [`Cache::lock_named`]) that start
    /// with `prefix`, without it: every SSO session signed in to on this machine, say.
    pub fn named_locks(&self, prefix: &str) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.dir.join("locks")) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .flatten()
            .filter_map(|e| {
                let file = e.file_name().into_string().ok()?;
                let name = fsutil::decode_name(file.strip_suffix(".lock")?)?;
                Some(name.strip_prefix(prefix)?.to_string())
            })
            .collect();
        names.sort();
        names
    }

    /// Takes the lock that serialises computing `key` across processes.
    pub fn lock(&self, key: &EntryKey) -> Result<Lock> {
        self.lock_file(&key.hash())
            .map(Lock)
            .map_err(|source| CacheError::Lock {
                dir: self.dir.clone(),
                source,
            })
    }

    fn lock_file(&self, name: &str) -> std::io::Result<std::fs::File> {
        let dir = self.dir.join("locks");
        fsutil::private_dir_under(&self.root, &dir)?;
        fsutil::lock(&dir.join(format!("{name}.lock")))
    }

    /// Every entry file, with its parsed name (`None` for a name broker did not write).
    fn files(&self) -> Vec<(PathBuf, Option<FileName>)> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut files: Vec<_> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                (name.ends_with(SUFFIX) || name.ends_with(OLD_SUFFIX))
                    .then(|| (e.path(), FileName::parse(&name)))
            })
            .collect();
        files.sort_by(|a, b| a.0.cmp(&b.0));
        files
    }

    fn remove_where(&self, drop: impl Fn(&FileName) -> bool) -> usize {
        self.files()
            .into_iter()
            .filter(|(_, name)| name.as_ref().is_some_and(&drop))
            .filter(|(path, _)| std::fs::remove_file(path).is_ok())
            .count()
    }

    /// Drops the entries owned by `profile`, or all entries; returns how many were dropped.
    pub fn clear(&self, profile: Option<&str>) -> usize {
        match profile {
            Some(p) => self.remove_where(|name| name.profile == p),
            None => self
                .files()
                .into_iter()
                .filter(|(path, _)| std::fs::remove_file(path).is_ok())
                .count(),
        }
    }

    /// Drops every entry made, at any depth, from `profile`'s stored keys (or its
    /// `credential_process`): for when those keys are replaced or removed.
    pub fn clear_source(&self, profile: &str) -> usize {
        self.remove_where(|name| name.source == profile)
    }

    /// Every readable entry, for `list`; unreadable ones are left for `get` to replace.
    pub fn list(&self) -> Vec<Listed> {
        self.files()
            .into_iter()
            .filter_map(|(path, name)| {
                let name = name?;
                let stored = self.decrypt(&read_entry(&path)?)?;
                Some(Listed {
                    profile: name.profile,
                    kind: name.kind,
                    expiration: stored.credentials.expiration,
                })
            })
            .collect()
    }
}

/// An entry file's bytes: a regular file of at most 64 KiB, never through a symbolic link.
fn read_entry(path: &std::path::Path) -> Option<Vec<u8>> {
    fsutil::read_private(path, fsutil::SMALL_FILE_CAP)
        .ok()
        .flatten()
}

/// Seals one entry: `MAGIC`, a random nonce, then the JSON sealed with `key` (and `MAGIC` as
/// associated data). The plaintext exists only in zeroed memory.
pub fn encode_entry(key: &SealKey, stored: &Stored) -> std::io::Result<Vec<u8>> {
    use chacha20poly1305::aead::{Aead, Payload};
    let plain = Zeroizing::new(serde_json::to_vec(stored).expect("entries serialise"));
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::getrandom(&mut nonce).map_err(std::io::Error::other)?;
    let sealed = key
        .cipher()
        .encrypt(
            &nonce.into(),
            Payload {
                msg: &plain,
                aad: MAGIC,
            },
        )
        .map_err(|_| std::io::Error::other("cannot seal the cache entry"))?;
    Ok([MAGIC, &nonce, &sealed].concat())
}

/// Opens and parses one entry file; `None` for anything that is not a valid entry sealed with
/// `key`. Never panics, whatever the bytes.
pub fn decode_entry(key: &SealKey, bytes: &[u8]) -> Option<Stored> {
    use chacha20poly1305::aead::{Aead, Payload};
    let rest = bytes.strip_prefix(MAGIC)?;
    if rest.len() < NONCE_LEN {
        return None;
    }
    let (nonce, sealed) = rest.split_at(NONCE_LEN);
    let plain = Zeroizing::new(
        key.cipher()
            .decrypt(
                nonce.into(),
                Payload {
                    msg: sealed,
                    aad: MAGIC,
                },
            )
            .ok()?,
    );
    serde_json::from_slice(&plain).ok()
}

/// How fresh credentials issued at `issued` are at `now`: the advisory window is the last
/// `min_ttl` of their life (the last half, for credentials issued for less than `min_ttl`), the
/// mandatory window its last two thirds (10 of 15 minutes by default, as botocore does).
pub fn freshness(
    credentials: &Credentials,
    issued: DateTime<Utc>,
    min_ttl: std::time::Duration,
    now: DateTime<Utc>,
) -> Freshness {
    let Some(expiration) = credentials.expiration else {
        return Freshness::Stale;
    };
    let left = expiration - now;
    let life = expiration - issued;
    let min_ttl = chrono::TimeDelta::from_std(min_ttl).unwrap_or(chrono::TimeDelta::MAX);
    let advisory = if life <= min_ttl { life / 2 } else { min_ttl };
    let mandatory = advisory * 2 / 3;
    if left > advisory {
        Freshness::Fresh
    } else if left > mandatory {
        Freshness::Usable
    } else {
        Freshness::Stale
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    fn creds(expiration: DateTime<Utc>) -> Credentials {
        Credentials {
            access_key_id: "ASIAEXAMPLE".into(),
            secret_access_key: "s".to_string().into(),
            session_token: Some("t".to_string().into()),
            expiration: Some(expiration),
        }
    }

    #[test]
    fn freshness_follows_min_ttl_or_half_life_with_a_mandatory_window() {
        let now = Utc::now();
        let min_ttl = std::time::Duration::from_secs(15 * 60);
        let at = |issued: DateTime<Utc>, minutes_left: i64, secs: i64| {
            let exp = now + TimeDelta::minutes(minutes_left) + TimeDelta::seconds(secs);
            freshness(&creds(exp), issued, min_ttl, now)
        };
        let hour_ago = now - TimeDelta::minutes(45);
        assert_eq!(at(hour_ago, 16, 0), Freshness::Fresh);
        assert_eq!(at(hour_ago, 14, 0), Freshness::Usable);
        assert_eq!(at(hour_ago, 10, 1), Freshness::Usable);
        assert_eq!(at(hour_ago, 9, 59), Freshness::Stale);
        assert_eq!(at(hour_ago, -1, 0), Freshness::Stale);
        // A 10-minute credential (below min_ttl): fresh while more than 5 minutes remain,
        // usable down to 3m20s.
        let issued = now - TimeDelta::minutes(4);
        let exp = issued + TimeDelta::minutes(10);
        assert_eq!(
            freshness(&creds(exp), issued, min_ttl, now),
            Freshness::Fresh
        );
        let issued = now - TimeDelta::minutes(6);
        let exp = issued + TimeDelta::minutes(10);
        assert_eq!(
            freshness(&creds(exp), issued, min_ttl, now),
            Freshness::Usable
        );
        let issued = now - TimeDelta::minutes(7);
        let exp = issued + TimeDelta::minutes(10);
        assert_eq!(
            freshness(&creds(exp), issued, min_ttl, now),
            Freshness::Stale
        );
    }

    #[test]
    fn entries_open_only_with_their_key_and_unaltered() {
        let key = SealKey::from_secret(&[1; 32]);
        let stored = Stored {
            key: "role\nr1".into(),
            issued: Utc::now(),
            credentials: creds(Utc::now()),
        };
        let sealed = encode_entry(&key, &stored).unwrap();
        assert!(sealed.starts_with(MAGIC));
        let back = decode_entry(&key, &sealed).unwrap();
        assert_eq!(back.key, stored.key);
        assert_eq!(back.credentials.access_key_id, "ASIAEXAMPLE");
        assert_ne!(
            encode_entry(&key, &stored).unwrap(),
            sealed,
            "a fresh nonce each time"
        );
        let other = SealKey::from_secret(&[2; 32]);
        assert!(decode_entry(&other, &sealed).is_none());
        for at in [0, MAGIC.len(), MAGIC.len() + NONCE_LEN, sealed.len() - 1] {
            let mut altered = sealed.clone();
            altered[at] ^= 1;
            assert!(decode_entry(&key, &altered).is_none(), "byte {at}");
        }
        for len in [0, MAGIC.len(), MAGIC.len() + NONCE_LEN, sealed.len() - 1] {
            assert!(decode_entry(&key, &sealed[..len]).is_none(), "{len} bytes");
        }
        assert!(decode_entry(&key, b"age-encryption.org/v1\n").is_none());
    }

    #[test]
    fn entry_file_names_keep_the_profile_kind_and_source() {
        let key = EntryKey {
            profile: "a.b/c".into(),
            kind: EntryKind::Role,
            source: "base.user".into(),
            canonical: "x".into(),
        };
        let name = key.file_name();
        assert!(name.starts_with("a.b%2Fc.role.base%2Euser."), "{name}");
        assert!(name.ends_with(".entry"));
        let parsed = FileName::parse(&name).unwrap();
        assert_eq!(
            (
                parsed.profile.as_str(),
                parsed.kind.as_str(),
                parsed.source.as_str()
            ),
            ("a.b/c", "role", "base.user")
        );
    }
}
