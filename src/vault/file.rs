//! The file backend: one age-encrypted file per item (scrypt passphrase), `0600` in a `0700`
//! directory, written atomically. For headless machines and CI.
//!
//! Never writes plaintext: the secret goes straight from memory into the age stream. A wrong
//! passphrase is detected before anything is written, so it can never mix passphrases in a vault.
//! The scrypt work factor is fixed both ways ([`WORK_FACTOR`] written, up to [`MAX_WORK_FACTOR`]
//! read): opening an item never depends on how busy the machine is.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use super::{BackendKind, Damage, Passphrase, Vault, VaultError};
use crate::fsutil;

const SUFFIX: &str = ".age";
/// The lock that serialises writes to the vault directory (not an item: no `.age` suffix).
const LOCK: &str = ".lock";

pub struct FileVault {
    dir: PathBuf,
    passphrase: OnceLock<SecretString>,
    source: Passphrase,
}

/// The scrypt work factor (log2 N) broker encrypts items with: 256 MiB and about half a second
/// to a second of work on a laptop. Fixed, not timed: a machine busy at the moment of writing
/// must not get a weaker item.
pub(super) const WORK_FACTOR: u8 = 18;
/// The largest work factor broker decrypts: above [`WORK_FACTOR`], for items older brokers wrote
/// with age's timed choice (about a second on the machine that wrote them). Explicit, so that
/// opening broker's own items never depends on how busy the machine is; age's default limit is
/// timed at the moment of reading, and a stalled CPU then refuses an item it wrote.
pub(super) const MAX_WORK_FACTOR: u8 = 22;

/// The work factor of what is written: [`WORK_FACTOR`], or in a `test-hooks` build the one the
/// test suite asks for.
fn work_factor() -> u8 {
    #[cfg(feature = "test-hooks")]
    if let Some(n) = TEST_WORK_FACTOR.get().copied().flatten() {
        return n;
    }
    WORK_FACTOR
}

#[cfg(feature = "test-hooks")]
pub(super) static TEST_WORK_FACTOR: std::sync::OnceLock<Option<u8>> = std::sync::OnceLock::new();

/// How long a `passphrase_command` may run.
const COMMAND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);
/// The largest passphrase file read.
const PASSPHRASE_FILE_CAP: u64 = 4 << 10;

enum Decrypted {
    Plain(SecretString),
    WrongPassphrase,
}

impl FileVault {
    pub fn new(dir: PathBuf, source: Passphrase) -> FileVault {
        FileVault {
            dir,
            passphrase: OnceLock::new(),
            source,
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

    /// The passphrase, fetched once from its source.
    fn passphrase(&self, confirm_new: bool) -> Result<&SecretString, VaultError> {
        if let Some(p) = self.passphrase.get() {
            return Ok(p);
        }
        let pass = match &self.source {
            Passphrase::Given(p) => p.clone(),
            Passphrase::File(path) => {
                read_passphrase_file(path).map_err(|source| VaultError::PassphraseFile {
                    path: path.clone(),
                    source,
                })?
            }
            Passphrase::Command(command) => crate::process::secret_output(command, COMMAND_TIMEOUT)
                .map_err(VaultError::PassphraseCommand)?,
            Passphrase::Prompt => ask_passphrase(confirm_new)?,
        };
        if pass.expose_secret().is_empty() {
            return Err(VaultError::NoPassphrase {
                detail: "the passphrase is empty".into(),
            });
        }
        Ok(self.passphrase.get_or_init(|| pass))
    }

    fn decrypt(&self, item: &str, path: &Path, bytes: &[u8]) -> Result<Decrypted, VaultError> {
        let corrupt = |damage| VaultError::Corrupt {
            item: item.to_string(),
            path: path.to_owned(),
            damage,
        };
        let decryptor = age::Decryptor::new(bytes).map_err(|e| corrupt(Damage::Age(e)))?;
        if !decryptor.is_scrypt() {
            return Err(corrupt(Damage::NotPassphrase));
        }
        let mut identity = age::scrypt::Identity::new(self.passphrase(false)?.clone());
        identity.set_max_work_factor(MAX_WORK_FACTOR);
        let mut reader = match decryptor.decrypt(std::iter::once(&identity as &dyn age::Identity)) {
            Ok(reader) => reader,
            Err(age::DecryptError::DecryptionFailed | age::DecryptError::NoMatchingKeys) => {
                return Ok(Decrypted::WrongPassphrase)
            }
            Err(age::DecryptError::ExcessiveWork { required, .. }) => {
                return Err(VaultError::Unsupported {
                    item: item.to_string(),
                    path: path.to_owned(),
                    work_factor: required,
                })
            }
            Err(e) => return Err(corrupt(Damage::Age(e))),
        };
        let mut plain = Zeroizing::new(Vec::new());
        reader
            .read_to_end(&mut plain)
            .map_err(|e| corrupt(Damage::Read(e)))?;
        let text = std::str::from_utf8(&plain).map_err(|_| corrupt(Damage::NotText))?;
        Ok(Decrypted::Plain(SecretString::from(text)))
    }

    fn read(&self, item: &str) -> Result<Option<SecretString>, VaultError> {
        let path = self.path(item);
        let bytes = match fsutil::read_private(&path, fsutil::SMALL_FILE_CAP) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Ok(None),
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

/// A passphrase file: a regular file of this user's that no one else can read or write; its
/// text without trailing line breaks.
fn read_passphrase_file(path: &Path) -> std::io::Result<SecretString> {
    let bytes = Zeroizing::new(
        fsutil::read_secret_file(path, PASSPHRASE_FILE_CAP)?
            .ok_or_else(|| std::io::Error::other("no such file"))?,
    );
    let text = std::str::from_utf8(&bytes).map_err(|_| std::io::Error::other("not text"))?;
    Ok(SecretString::from(text.trim_end_matches(['\r', '\n'])))
}

fn ask_passphrase(confirm_new: bool) -> Result<SecretString, VaultError> {
    let no_tty = |e: crate::tty::TtyError| VaultError::NoPassphrase {
        detail: format!(
            "{e}; set [file] passphrase_command in config.toml or BROKER_FILE_PASSPHRASE_FILE"
        ),
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

    fn ready_to_write(&self, item: &str) -> Result<(), VaultError> {
        self.check_passphrase_matches_vault(item)
    }

    fn set(&self, item: &str, secret: &SecretString) -> Result<(), VaultError> {
        fsutil::private_dir(&self.dir).map_err(self.io(&self.dir))?;
        // The check that the passphrase opens what is there and the write are one step for
        // every process: two first `add`s at once cannot leave items under two passphrases.
        let lock_path = self.dir.join(LOCK);
        let _lock = fsutil::lock(&lock_path).map_err(self.io(&lock_path))?;
        self.check_passphrase_matches_vault(item)?;
        let passphrase = self.passphrase(false)?.clone();
        let path = self.path(item);
        let mut out = Vec::new();
        let mut recipient = age::scrypt::Recipient::new(passphrase);
        recipient.set_work_factor(work_factor());
        let encryptor =
            age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
                .map_err(|e| self.io(&path)(std::io::Error::other(e.to_string())))?;
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
        FileVault::new(dir.to_owned(), Passphrase::Given(SecretString::from(pass)))
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
    fn items_are_written_with_the_fixed_work_factor() {
        let dir = tempfile::tempdir().unwrap();
        let v = vault(dir.path(), "right");
        v.set("keys:a", &SecretString::from("hello")).unwrap();
        let text = std::fs::read(v.path("keys:a")).unwrap();
        let header = String::from_utf8_lossy(&text[..60]);
        assert!(
            header
                .lines()
                .nth(1)
                .unwrap()
                .ends_with(&format!(" {WORK_FACTOR}")),
            "{header}"
        );
    }

    #[test]
    fn an_item_beyond_the_work_factor_limit_is_unsupported_not_damaged() {
        let dir = tempfile::tempdir().unwrap();
        let v = vault(dir.path(), "right");
        v.set("keys:a", &SecretString::from("hello")).unwrap();
        let text = std::fs::read(v.path("keys:a")).unwrap();
        // The stanza's work factor, raised: refused before any scrypt work or MAC check.
        let edited = String::from_utf8_lossy(&text)
            .replacen(&format!(" {WORK_FACTOR}\n"), " 40\n", 1)
            .into_bytes();
        assert_ne!(edited, text);
        std::fs::write(v.path("keys:a"), edited).unwrap();
        let err = v.get("keys:a").unwrap_err();
        assert!(matches!(err, VaultError::Unsupported { .. }), "{err}");
        assert!(err.to_string().contains("2^40"), "{err}");
    }

    #[test]
    fn garbage_is_a_corrupt_item_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let v = vault(dir.path(), "right");
        std::fs::write(v.path("keys:g"), b"not age at all").unwrap();
        assert!(matches!(v.get("keys:g"), Err(VaultError::Corrupt { .. })));
    }
}
