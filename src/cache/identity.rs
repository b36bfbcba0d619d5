//! The cache's secret, kept out of the file system: an age X25519 identity (the form older
//! brokers used, so that an existing one stays valid), from whose text the entries' sealing key
//! is derived ([`super::SealKey::derive`]).
//!
//! On Linux it lives in the kernel's per-user keyring (`@u`), readable only by this user and
//! gone at reboot (which simply empties the cache). Elsewhere, or where the kernel keyring is
//! unavailable, it is an item in the vault. Never written to disk in plaintext.

use std::str::FromStr;

use age::secrecy::ExposeSecret;
use secrecy::SecretString;

use crate::vault::{Vault, VaultError};

const VAULT_ITEM: &str = "cache-identity";

/// Finds the identity, or creates and stores one. `lock` serialises creation between processes.
pub fn load_or_create(
    lock: impl FnOnce() -> std::io::Result<std::fs::File>,
    vault: impl FnOnce() -> Result<Box<dyn Vault>, VaultError>,
) -> Result<age::x25519::Identity, VaultError> {
    #[cfg(target_os = "linux")]
    {
        match kernel::load_or_create(lock) {
            Ok(identity) => return Ok(identity),
            Err(e) => crate::output::verbose(format!(
                "kernel keyring unavailable for the cache key ({e}); using the vault"
            )),
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = lock;
    let vault = vault()?;
    if let Some(secret) = vault.get(VAULT_ITEM)? {
        if let Some(identity) = parse(&secret) {
            return Ok(identity);
        }
    }
    let identity = age::x25519::Identity::generate();
    vault.set(VAULT_ITEM, &to_secret(&identity))?;
    Ok(identity)
}

/// Where the identity is kept, without making one: `None` when there is none yet (the first
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
        Some(secret) if parse(&secret).is_some() => {
            Ok(Some(format!("the {} vault", vault.kind().name())))
        }
        Some(_) => Err(VaultError::NotKeys {
            item: VAULT_ITEM.into(),
        }),
    }
}

fn parse(secret: &SecretString) -> Option<age::x25519::Identity> {
    use secrecy::ExposeSecret as _;
    age::x25519::Identity::from_str(secret.expose_secret().trim()).ok()
}

fn to_secret(identity: &age::x25519::Identity) -> SecretString {
    SecretString::from(identity.to_string().expose_secret().to_string())
}

#[cfg(target_os = "linux")]
mod kernel {
    use linux_keyutils::{KeyPermissionsBuilder, KeyRing, KeyRingIdentifier, Permission};
    use secrecy::SecretString;
    use zeroize::Zeroizing;

    const DESCRIPTION: &str = "broker:cache-identity:v1";

    pub fn load_or_create(
        lock: impl FnOnce() -> std::io::Result<std::fs::File>,
    ) -> Result<age::x25519::Identity, String> {
        let user = KeyRing::from_special_id(KeyRingIdentifier::User, true)
            .map_err(|e| format!("{e:?}"))?;
        if let Some(identity) = find(&user) {
            return Ok(identity);
        }
        let _guard = lock().map_err(|e| e.to_string())?;
        if let Some(identity) = find(&user) {
            return Ok(identity);
        }
        let identity = age::x25519::Identity::generate();
        let secret = super::to_secret(&identity);
        // The key is made in this process's own keyring, where this process possesses it and
        // may set its permissions, and only then linked into @u. A key added straight to @u is
        // not possessed when @u is not linked into the session keyring: its permissions cannot
        // be set, and other processes of the user cannot find it. Linking displaces any older
        // key of the same description that this user's processes cannot read.
        let process = KeyRing::from_special_id(KeyRingIdentifier::Process, true)
            .map_err(|e| format!("{e:?}"))?;
        let key = {
            use secrecy::ExposeSecret;
            process
                .add_key(DESCRIPTION, secret.expose_secret().as_bytes())
                .map_err(|e| format!("{e:?}"))?
        };
        let perms = KeyPermissionsBuilder::builder()
            .posessor(Permission::ALL)
            .user(Permission::VIEW | Permission::READ | Permission::SEARCH | Permission::WRITE)
            .build();
        let linked = key
            .set_perms(perms)
            .and_then(|_| user.link_key(key))
            .map_err(|e| format!("{e:?}"));
        let _ = process.unlink_key(key);
        linked?;
        Ok(identity)
    }

    /// Whether @u holds the key (`Some`) and this process can read it (`true`); an error when
    /// @u cannot be reached.
    pub fn locate() -> Result<Option<bool>, String> {
        let user = KeyRing::from_special_id(KeyRingIdentifier::User, true)
            .map_err(|e| format!("{e:?}"))?;
        if find(&user).is_some() {
            return Ok(Some(true));
        }
        Ok(user.search(DESCRIPTION).ok().map(|_| false))
    }

    fn find(ring: &KeyRing) -> Option<age::x25519::Identity> {
        let key = ring.search(DESCRIPTION).ok()?;
        let bytes = Zeroizing::new(key.read_to_vec().ok()?);
        let text = std::str::from_utf8(&bytes).ok()?;
        super::parse(&SecretString::from(text))
    }
}
