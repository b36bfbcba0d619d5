//! The operating system's secret stores, through the `keyring` crate.
//!
//! Items are stored under the service name `broker`, with the item name as the account. Error
//! texts from the platform are passed on, never the bytes of a secret.

use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use super::{BackendKind, Unavailability, Vault, VaultError};

const SERVICE: &str = "broker";

pub struct OsVault {
    kind: BackendKind,
}

/// Opens a named OS backend, checking that it answers.
pub fn open(kind: BackendKind, dbus_session: bool) -> Result<Box<dyn Vault>, VaultError> {
    let vault = OsVault { kind };
    vault.probe(dbus_session)?;
    Ok(Box::new(vault))
}

/// The platform default: Secret Service on Linux/BSD (when one answers on the session bus), the
/// Keychain on macOS, the Credential Manager on Windows.
pub fn open_default(dbus_session: bool) -> Result<Box<dyn Vault>, VaultError> {
    let kind = if cfg!(target_os = "macos") {
        BackendKind::Keychain
    } else if cfg!(windows) {
        BackendKind::Wincred
    } else {
        BackendKind::SecretService
    };
    open(kind, dbus_session).map_err(|e| VaultError::NoBackend {
        detail: e.to_string(),
    })
}

impl OsVault {
    fn entry(&self, item: &str) -> Result<keyring::Entry, VaultError> {
        platform::entry(self.kind, item).map_err(|e| self.error(e))
    }

    fn error(&self, e: keyring::Error) -> VaultError {
        VaultError::Store {
            backend: self.kind.name(),
            source: e,
        }
    }

    /// A lookup of an item that does not exist: it succeeds exactly when the store answers.
    fn probe(&self, dbus_session: bool) -> Result<(), VaultError> {
        let unavailable = |why| VaultError::Unavailable {
            backend: self.kind.name(),
            why,
        };
        platform::precheck(self.kind, dbus_session).map_err(unavailable)?;
        let entry = platform::entry(self.kind, "probe")
            .map_err(|e| unavailable(Unavailability::Store(e)))?;
        match entry.get_password() {
            Ok(_) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(unavailable(Unavailability::Store(e))),
        }
    }
}

/// The longest secret one item holds: the Windows Credential Manager takes 2560 bytes of UTF-16,
/// 1280 characters. A longer secret (an SSO session's tokens) is split over `ITEM#0`, `ITEM#1`…
/// with `ITEM` holding only [`CHUNKED`] and their number; the same on every platform.
const CHUNK: usize = 1000;
const CHUNKED: &str = "broker-chunks:";

impl OsVault {
    fn get_one(&self, item: &str) -> Result<Option<Zeroizing<String>>, VaultError> {
        match self.entry(item)?.get_password() {
            Ok(secret) => Ok(Some(Zeroizing::new(secret))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(self.error(e)),
        }
    }

    fn set_one(&self, item: &str, secret: &str) -> Result<(), VaultError> {
        self.entry(item)?
            .set_password(secret)
            .map_err(|e| self.error(e))
    }

    fn delete_one(&self, item: &str) -> Result<bool, VaultError> {
        match self.entry(item)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(self.error(e)),
        }
    }

    /// How many chunks `item` is split over, if it is.
    fn chunks(&self, item: &str) -> Result<Option<usize>, VaultError> {
        Ok(self
            .get_one(item)?
            .and_then(|head| head.strip_prefix(CHUNKED)?.parse().ok()))
    }

    /// Deletes the chunks of `item` from `from` on.
    fn delete_chunks(&self, item: &str, from: usize, count: usize) -> Result<(), VaultError> {
        for i in from..count {
            self.delete_one(&format!("{item}#{i}"))?;
        }
        Ok(())
    }
}

impl Vault for OsVault {
    fn kind(&self) -> BackendKind {
        self.kind
    }

    fn get(&self, item: &str) -> Result<Option<SecretString>, VaultError> {
        let Some(head) = self.get_one(item)? else {
            return Ok(None);
        };
        let Some(count) = head
            .strip_prefix(CHUNKED)
            .and_then(|n| n.parse::<usize>().ok())
        else {
            return Ok(Some(SecretString::from(head.as_str())));
        };
        let mut whole = Zeroizing::new(String::new());
        for i in 0..count {
            let part =
                self.get_one(&format!("{item}#{i}"))?
                    .ok_or_else(|| VaultError::Corrupt {
                        item: item.to_string(),
                        path: format!("{} backend", self.kind.name()).into(),
                        damage: super::Damage::MissingPart { part: i, count },
                    })?;
            whole.push_str(&part);
        }
        Ok(Some(SecretString::from(whole.as_str())))
    }

    fn set(&self, item: &str, secret: &SecretString) -> Result<(), VaultError> {
        let old = self.chunks(item)?.unwrap_or(0);
        let chars: Vec<char> = secret.expose_secret().chars().collect();
        let chars = Zeroizing::new(chars);
        if chars.len() <= CHUNK {
            self.set_one(item, secret.expose_secret())?;
            return self.delete_chunks(item, 0, old);
        }
        let parts: Vec<Zeroizing<String>> = chars
            .chunks(CHUNK)
            .map(|c| Zeroizing::new(c.iter().collect()))
            .collect();
        for (i, part) in parts.iter().enumerate() {
            self.set_one(&format!("{item}#{i}"), part)?;
        }
        self.set_one(item, &format!("{CHUNKED}{}", parts.len()))?;
        self.delete_chunks(item, parts.len(), old)
    }

    fn delete(&self, item: &str) -> Result<bool, VaultError> {
        let chunks = self.chunks(item)?.unwrap_or(0);
        let deleted = self.delete_one(item)?;
        self.delete_chunks(item, 0, chunks)?;
        Ok(deleted)
    }
}

#[cfg(target_os = "linux")]
mod platform {
    use super::{BackendKind, Unavailability, SERVICE};
    use keyring::{keyutils::KeyutilsCredential, secret_service::SsCredential, Entry};

    pub fn precheck(kind: BackendKind, dbus_session: bool) -> Result<(), Unavailability> {
        match kind {
            BackendKind::SecretService if !dbus_session => Err(Unavailability::NoSessionBus),
            BackendKind::SecretService | BackendKind::Keyutils => Ok(()),
            other => Err(Unavailability::OtherPlatform(other.name())),
        }
    }

    pub fn entry(kind: BackendKind, item: &str) -> keyring::Result<Entry> {
        Ok(match kind {
            BackendKind::Keyutils => Entry::new_with_credential(Box::new(
                KeyutilsCredential::new_with_target(None, SERVICE, item)?,
            )),
            _ => Entry::new_with_credential(Box::new(SsCredential::new_with_target(
                None, SERVICE, item,
            )?)),
        })
    }
}

#[cfg(any(target_os = "macos", windows))]
mod platform {
    use super::{BackendKind, Unavailability, SERVICE};
    use keyring::Entry;

    const NATIVE: BackendKind = if cfg!(windows) {
        BackendKind::Wincred
    } else {
        BackendKind::Keychain
    };

    pub fn precheck(kind: BackendKind, _dbus_session: bool) -> Result<(), Unavailability> {
        if kind == NATIVE {
            Ok(())
        } else {
            Err(Unavailability::OtherPlatform(kind.name()))
        }
    }

    pub fn entry(_kind: BackendKind, item: &str) -> keyring::Result<Entry> {
        Entry::new(SERVICE, item)
    }
}

#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
mod platform {
    use super::{BackendKind, Unavailability};

    pub fn precheck(kind: BackendKind, _dbus_session: bool) -> Result<(), Unavailability> {
        Err(Unavailability::NotBuilt(kind.name()))
    }

    pub fn entry(_kind: BackendKind, _item: &str) -> keyring::Result<keyring::Entry> {
        Err(keyring::Error::NoStorageAccess(
            "no OS store on this platform".into(),
        ))
    }
}
