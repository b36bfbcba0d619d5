//! The file backend: one age-encrypted file per item (scrypt passphrase), `0600` in a `0700`
//! directory, written atomically. For headless machines and CI.
//!
//! Never writes plaintext: the secret goes straight from memory into the age stream. A wrong
//! passphrase is detected before anything is written, so it can never mix passphrases in a vault.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use super::{BackendKind, Vault, VaultError};
use crate::fsutil;

const SUFFIX: &str = ".age";

pub struct FileVault {
    dir: PathBuf,
    passphrase: OnceLock<SecretString>,
    from_env: Option<SecretString>,
}

enum Decrypted {
    Plain(SecretString),
    WrongPassphrase,
}

impl FileVault {
    pub fn new(dir: PathBuf, passphrase: Option<SecretString>) -> FileVault {
        FileVault {
            dir,
            passphrase: OnceLock::new(),
            from_env: passphrase,
        }
    }

    fn path(&self, item: &str) -> PathBuf {
        self.dir
            .join(format!("{}{SUFFIX}", fsutil::encode_name(item)))
    }

    fn io(&self, path: &Path) -> impl Fn(std::io::Error) -> VaultError + '_ {
        let path = path.to_owned();
        move |source| VaultError::Io {
            path: path.clone(),
            source,
        }
    }

    /// The names of the items present, sorted.
    pub fn items(&self) -> Result<Vec<String>, VaultError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.io(&self.dir)(e)),
        };
        let mut items: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                fsutil::decode_name(name.strip_suffix(SUFFIX)?)
            })
            .collect();
        items.sort();
        Ok(items)
    }

    /// The passphrase, from the environment or asked once on the terminal.
    fn passphrase(&self, confirm_new: bool) -> Result<&SecretString, VaultError> {
        if let Some(p) = self.passphrase.get() {
            return Ok(p);
        }
        let pass = match &self.from_env {
            Some(p) => p.clone(),
            None => ask_passphrase(confirm_new)?,
        };
        if pass.expose_secret().is_empty() {
            return Err(VaultError::NoPassphrase {
                detail: "the passphrase is empty".into(),
            });
        }
        Ok(self.passphrase.get_or_init(|| pass))
    }

    fn decrypt(&self, item: &str, path: &Path, bytes: &[u8]) -> Result<Decrypted, VaultError> {
        let corrupt = |detail: String| VaultError::Corrupt {
            item: item.to_string(),
            path: path.to_owned(),
            detail,
        };
        let decryptor = age::Decryptor::new(bytes).map_err(|e| corrupt(e.to_string()))?;
        if !decryptor.is_scrypt() {
            return Err(corrupt("not a passphrase-encrypted age file".into()));
        }
        let identity = age::scrypt::Identity::new(self.passphrase(false)?.clone());
        let mut reader = match decryptor.decrypt(std::iter::once(&identity as &dyn age::Identity)) {
            Ok(reader) => reader,
            Err(age::DecryptError::DecryptionFailed | age::DecryptError::NoMatchingKeys) => {
                return Ok(Decrypted::WrongPassphrase)
            }
            Err(e) => return Err(corrupt(e.to_string())),
        };
        let mut plain = Zeroizing::new(Vec::new());
        reader
            .read_to_end(&mut plain)
            .map_err(|e| corrupt(e.to_string()))?;
        let text = std::str::from_utf8(&plain).map_err(|_| corrupt("not text".into()))?;
        Ok(Decrypted::Plain(SecretString::from(text)))
    }

    fn read(&self, item: &str) -> Result<Option<SecretString>, VaultError> {
        let path = self.path(item);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.io(&path)(e)),
        };
        match self.decrypt(item, &path, &bytes)? {
            Decrypted::Plain(secret) => Ok(Some(secret)),
            Decrypted::WrongPassphrase => Err(VaultError::WrongPassphrase {
                dir: self.dir.clone(),
            }),
        }
    }

    /// Before the first write with a passphrase, proves it opens an item already there.
    fn check_passphrase_matches_vault(&self, except: &str) -> Result<(), VaultError> {
        let others: Vec<String> = self.items()?.into_iter().filter(|i| i != except).collect();
        let Some(first) = others.first() else {
            self.passphrase(true)?;
            return Ok(());
        };
        self.read(first).map(|_| ())
    }
}

fn ask_passphrase(confirm_new: bool) -> Result<SecretString, VaultError> {
    let no_tty = |e: crate::tty::TtyError| VaultError::NoPassphrase {
        detail: format!("{e}; set BROKER_FILE_PASSPHRASE"),
    };
    let pass = crate::tty::ask_secret("File vault passphrase: ").map_err(no_tty)?;
    if confirm_new {
        let again = crate::tty::ask_secret("Repeat the passphrase: ").map_err(no_tty)?;
        if again.expose_secret() != pass.expose_secret() {
            return Err(VaultError::NoPassphrase {
                detail: "the two passphrases differ".into(),
            });
        }
    }
    Ok(pass)
}

impl Vault for FileVault {
    fn kind(&self) -> BackendKind {
        BackendKind::File
    }

    fn get(&self, item: &str) -> Result<Option<SecretString>, VaultError> {
        self.read(item)
    }

    fn contains(&self, item: &str) -> Result<bool, VaultError> {
        Ok(self.path(item).is_file())
    }

    fn set(&self, item: &str, secret: &SecretString) -> Result<(), VaultError> {
        self.check_passphrase_matches_vault(item)?;
        let passphrase = self.passphrase(false)?.clone();
        fsutil::private_dir(&self.dir).map_err(self.io(&self.dir))?;
        let path = self.path(item);
        let mut out = Vec::new();
        let encryptor = age::Encryptor::with_user_passphrase(passphrase);
        let mut writer = encryptor.wrap_output(&mut out).map_err(self.io(&path))?;
        writer
            .write_all(secret.expose_secret().as_bytes())
            .and_then(|_| writer.finish().map(|_| ()))
            .map_err(self.io(&path))?;
        fsutil::atomic_write(&path, &out).map_err(self.io(&path))
    }

    fn delete(&self, item: &str) -> Result<bool, VaultError> {
        let path = self.path(item);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(self.io(&path)(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault(dir: &Path, pass: &str) -> FileVault {
        FileVault::new(dir.to_owned(), Some(SecretString::from(pass)))
    }

    #[test]
    fn round_trip_and_wrong_passphrase() {
        let dir = tempfile::tempdir().unwrap();
        let v = vault(dir.path(), "right");
        v.set("keys:a", &SecretString::from("hello")).unwrap();
        assert_eq!(v.get("keys:a").unwrap().unwrap().expose_secret(), "hello");
        assert!(v.contains("keys:a").unwrap());
        assert_eq!(v.items().unwrap(), vec!["keys:a".to_string()]);

        let wrong = vault(dir.path(), "wrong");
        assert!(matches!(
            wrong.get("keys:a"),
            Err(VaultError::WrongPassphrase { .. })
        ));
        assert!(matches!(
            wrong.set("keys:b", &SecretString::from("x")),
            Err(VaultError::WrongPassphrase { .. })
        ));
        assert!(
            !wrong.contains("keys:b").unwrap(),
            "nothing written with a wrong passphrase"
        );
        assert!(v.delete("keys:a").unwrap());
        assert!(!v.delete("keys:a").unwrap());
    }

    #[test]
    fn garbage_is_a_corrupt_item_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let v = vault(dir.path(), "right");
        std::fs::write(v.path("keys:g"), b"not age at all").unwrap();
        assert!(matches!(v.get("keys:g"), Err(VaultError::Corrupt { .. })));
    }
}
