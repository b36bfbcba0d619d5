//! The cache's secret, kept out of the file system: 256 random bits, from which the entries'
//! sealing key is derived ([`super::SealKey::derive`]).
//!
//! On Linux it lives in the kernel's per-user keyring (`@u`), readable only by this user and
//! gone at reboot (which simply empties the cache). Elsewhere, or where the kernel keyring is
//! unavailable, it is an item in the vault. Never written to disk in plaintext.
//!
//! Older brokers kept an age identity under other names (`cache-identity`). It is never read:
//! the first secret made here removes it, and the entries it sealed, which no longer open, are
//! dropped and made again as they are asked for.

use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use crate::vault::{Vault, VaultError};

const VAULT_ITEM: &str = "cache-key";
/// Where older brokers kept theirs.
const OLD_VAULT_ITEM: &str = "cache-identity";
/// How the secret is written: this prefix, then 64 hex digits.
const PREFIX: &str = "broker-cache-key-v3:";

/// The cache's secret.
pub struct CacheSecret(Zeroizing<[u8; 32]>);

impl CacheSecret {
    fn generate() -> Result<CacheSecret, getrandom::Error> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::getrandom(bytes.as_mut())?;
        Ok(CacheSecret(bytes))
    }

    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    fn parse(text: &str) -> Option<CacheSecret> {
        let hex = text.trim().strip_prefix(PREFIX)?;
        if hex.len() != 64 {
            return None;
        }
        let mut bytes = Zeroizing::new([0u8; 32]);
        for (byte, pair) in bytes.iter_mut().zip(hex.as_bytes().chunks(2)) {
            *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
        }
        Some(CacheSecret(bytes))
    }

    fn to_text(&self) -> SecretString {
        let mut text = String::with_capacity(PREFIX.len() + 64);
        text.push_str(PREFIX);
        for byte in self.0.iter() {
            text.push_str(&format!("{byte:02x}"));
        }
        SecretString::from(text)
    }
}

/// Why no secret could be made.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("no random numbers for the cache key")]
    Random(#[source] getrandom::Error),
    #[error(transparent)]
    Vault(#[from] VaultError),
}

/// Finds the secret, or makes and stores one. `lock` serialises making it between processes.
pub fn load_or_create(
    lock: impl FnOnce() -> std::io::Result<std::fs::File>,
    vault: impl FnOnce() -> Result<Box<dyn Vault>, VaultError>,
) -> Result<CacheSecret, SecretError> {
    #[cfg(target_os = "linux")]
    {
        match kernel::load_or_create(lock) {
            Ok(secret) => return Ok(secret),
            Err(e) => crate::output::verbose(format!(
                "kernel keyring unavailable for the cache key ({e}); using the vault"
            )),
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = lock;
    let vault = vault()?;
    if let Some(secret) = vault.get(VAULT_ITEM)? {
        if let Some(secret) = CacheSecret::parse(secret.expose_secret()) {
            return Ok(secret);
        }
    }
    let secret = CacheSecret::generate().map_err(SecretError::Random)?;
    vault.set(VAULT_ITEM, &secret.to_text())?;
    // An older broker's key seals nothing that can be read any more.
    let _ = vault.delete(OLD_VAULT_ITEM);
    Ok(secret)
}

/// Where the secret is kept, without making one: `None` when there is none yet (the first
/// credentials cached make it), an error when it is there but cannot be read.
pub fn locate(
    vault: impl FnOnce() -> Result<Box<dyn Vault>, VaultError>,
) -> Result<Option<String>, VaultError> {
    #[cfg(target_os = "linux")]
    {
        match kernel::locate() {
            Ok(Some(true)) => return Ok(Some("the kernel keyring (@u)".into())),
            Ok(Some(false)) => {
                return Err(VaultError::Backend {
                    backend: "keyutils",
                    detail: "the cache key in the kernel keyring (@u) cannot be read".into(),
                })
            }
            Ok(None) => return Ok(None),
            Err(e) => crate::output::verbose(format!(
                "kernel keyring unavailable for the cache key ({e}); looking in the vault"
            )),
        }
    }
    let vault = vault()?;
    match vault.get(VAULT_ITEM)? {
        None => Ok(None),
        Some(text) if CacheSecret::parse(text.expose_secret()).is_some() => {
            Ok(Some(format!("the {} vault", vault.kind().name())))
        }
        Some(_) => Err(VaultError::NotKeys {
            item: VAULT_ITEM.into(),
        }),
    }
}

#[cfg(target_os = "linux")]
mod kernel {
    use linux_keyutils::{KeyError, KeyPermissionsBuilder, KeyRing, KeyRingIdentifier, Permission};
    use secrecy::ExposeSecret;
    use zeroize::Zeroizing;

    use super::CacheSecret;

    const DESCRIPTION: &str = "broker:cache-key:v3";
    /// Where older brokers kept theirs.
    const OLD_DESCRIPTION: &str = "broker:cache-identity:v1";

    #[derive(Debug, thiserror::Error)]
    pub enum KernelError {
        #[error("the kernel keyring: {0}")]
        Keyring(#[from] KeyError),
        #[error("the lock for making the cache key")]
        Lock(#[source] std::io::Error),
        #[error("no random numbers for the cache key")]
        Random(#[source] getrandom::Error),
    }

    pub fn load_or_create(
        lock: impl FnOnce() -> std::io::Result<std::fs::File>,
    ) -> Result<CacheSecret, KernelError> {
        let user = KeyRing::from_special_id(KeyRingIdentifier::User, true)?;
        if let Some(secret) = find(&user) {
            return Ok(secret);
        }
        let _guard = lock().map_err(KernelError::Lock)?;
        if let Some(secret) = find(&user) {
            return Ok(secret);
        }
        let secret = CacheSecret::generate().map_err(KernelError::Random)?;
        // The key is made in this process's own keyring, where this process possesses it and
        // may set its permissions, and only then linked into @u. A key added straight to @u is
        // not possessed when @u is not linked into the session keyring: its permissions cannot
        // be set, and other processes of the user cannot find it. Linking displaces any older
        // key of the same description that this user's processes cannot read.
        let process = KeyRing::from_special_id(KeyRingIdentifier::Process, true)?;
        let key = process.add_key(DESCRIPTION, secret.to_text().expose_secret().as_bytes())?;
        let perms = KeyPermissionsBuilder::builder()
            .posessor(Permission::ALL)
            .user(Permission::VIEW | Permission::READ | Permission::SEARCH | Permission::WRITE)
            .build();
        let linked = key.set_perms(perms).and_then(|_| user.link_key(key));
        let _ = process.unlink_key(key);
        linked?;
        if let Ok(old) = user.search(OLD_DESCRIPTION) {
            let _ = user.unlink_key(old);
        }
        Ok(secret)
    }

    /// Whether @u holds the key (`Some`) and this process can read it (`true`); an error when
    /// @u cannot be reached.
    pub fn locate() -> Result<Option<bool>, KernelError> {
        let user = KeyRing::from_special_id(KeyRingIdentifier::User, true)?;
        if find(&user).is_some() {
            return Ok(Some(true));
        }
        Ok(user.search(DESCRIPTION).ok().map(|_| false))
    }

    fn find(ring: &KeyRing) -> Option<CacheSecret> {
        let key = ring.search(DESCRIPTION).ok()?;
        let bytes = Zeroizing::new(key.read_to_vec().ok()?);
        CacheSecret::parse(std::str::from_utf8(&bytes).ok()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_reads_back_as_written_and_nothing_else_parses() {
        let secret = CacheSecret::generate().unwrap();
        let text = secret.to_text();
        let back = CacheSecret::parse(text.expose_secret()).unwrap();
        assert_eq!(back.bytes(), secret.bytes());
        assert_ne!(
            CacheSecret::generate().unwrap().bytes(),
            secret.bytes(),
            "fresh"
        );
        for bad in [
            "",
            "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ",
            "broker-cache-key-v3:00",
            &format!("broker-cache-key-v3:{}", "zz".repeat(32)),
        ] {
            assert!(CacheSecret::parse(bad).is_none(), "{bad:?}");
        }
    }
}
