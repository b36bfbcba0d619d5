//! The vault: where long-term keys live, behind one small interface over several backends.
//!
//! Items are named strings holding a secret string. Profiles' keys are stored under
//! [`keys_item`]. A vault never writes a secret to disk in plaintext, and never puts one in an
//! error message: backend errors are reduced to their kind before they are shown.

pub mod aws_vault;
mod file;
mod os;
mod pass;

use std::path::PathBuf;

use secrecy::SecretString;
use serde::Deserialize;

use crate::credentials::LongTermKeys;

pub use file::FileVault;
pub use pass::{PassSpec, DEFAULT_PREFIX as DEFAULT_PASS_PREFIX};

/// Writes the file vault's items with the work factor the test suite asks for; called once at
/// start-up (a `test-hooks` build only).
#[cfg(feature = "test-hooks")]
pub fn install_test_work_factor(work_factor: Option<u8>) {
    let _ = file::TEST_WORK_FACTOR.set(work_factor);
}

/// Which store holds the secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BackendKind {
    /// D-Bus Secret Service: GNOME Keyring, KeePassXC, KWallet (Linux/BSD default).
    SecretService,
    /// The macOS Keychain (macOS default).
    Keychain,
    /// The Windows Credential Manager (Windows default).
    Wincred,
    /// The Linux kernel keyring: fast, but lost at reboot.
    Keyutils,
    /// age-encrypted files under `file_dir`, one per item, protected by a passphrase.
    File,
    /// The standard Unix password store, through the `pass` program (GPG).
    Pass,
}

impl BackendKind {
    pub const ALL: [BackendKind; 6] = [
        BackendKind::SecretService,
        BackendKind::Keychain,
        BackendKind::Wincred,
        BackendKind::Keyutils,
        BackendKind::File,
        BackendKind::Pass,
    ];

    /// The backend called `name` (as in config.toml and `--backend`), case-insensitively.
    pub fn from_name(name: &str) -> Option<BackendKind> {
        BackendKind::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(name))
    }

    pub fn name(self) -> &'static str {
        match self {
            BackendKind::SecretService => "secret-service",
            BackendKind::Keychain => "keychain",
            BackendKind::Wincred => "wincred",
            BackendKind::Keyutils => "keyutils",
            BackendKind::File => "file",
            BackendKind::Pass => "pass",
        }
    }
}

/// What is wrong with a vault item.
#[derive(Debug, thiserror::Error)]
pub enum Damage {
    #[error(transparent)]
    Age(age::DecryptError),
    #[error("not a passphrase-encrypted age file")]
    NotPassphrase,
    #[error("cannot read it: {0}")]
    Read(#[source] std::io::Error),
    #[error("not text")]
    NotText,
    #[error("part {part} of {count} is missing")]
    MissingPart { part: usize, count: usize },
}

/// Why an OS store cannot be used here.
#[derive(Debug, thiserror::Error)]
pub enum Unavailability {
    #[error("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)")]
    NoSessionBus,
    #[error("{0} exists only on its own platform")]
    OtherPlatform(&'static str),
    #[error("{0} is not built into broker on this platform")]
    NotBuilt(&'static str),
    #[error(transparent)]
    Store(keyring::Error),
    #[error("{} is not a password store (no .gpg-id: run `pass init GPG-ID` there)", .0.display())]
    NoPasswordStore(PathBuf),
}

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("the {backend} backend is not available on this system: {why}")]
    Unavailable {
        backend: &'static str,
        #[source]
        why: Unavailability,
    },
    #[error("no usable vault backend found: {detail}")]
    NoBackend { detail: String },
    #[error("the {backend} backend failed: {detail}")]
    Backend {
        backend: &'static str,
        detail: String,
    },
    #[error("the {backend} backend failed: {source}")]
    Store {
        backend: &'static str,
        #[source]
        source: keyring::Error,
    },
    #[error("wrong passphrase for the file vault in {dir}")]
    WrongPassphrase { dir: PathBuf },
    #[error("the file vault needs a passphrase: {detail}")]
    NoPassphrase { detail: String },
    #[error("the file vault needs a passphrase: passphrase_command failed: {0}")]
    PassphraseCommand(#[source] crate::process::HelperError),
    #[error("the file vault needs a passphrase: BROKER_FILE_PASSPHRASE_FILE {path}: {source}")]
    PassphraseFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("vault item {item} in {path} is damaged: {damage}")]
    Corrupt {
        item: String,
        path: PathBuf,
        #[source]
        damage: Damage,
    },
    #[error(
        "vault item {item} in {path} uses encryption parameters broker does not open: its scrypt \
         work factor is 2^{work_factor}; broker writes 2^{} and opens up to 2^{}",
        file::WORK_FACTOR,
        file::MAX_WORK_FACTOR
    )]
    Unsupported {
        item: String,
        path: PathBuf,
        work_factor: u8,
    },
    #[error("vault item {item} does not hold access keys")]
    NotKeys { item: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A store of named secrets.
pub trait Vault {
    fn kind(&self) -> BackendKind;
    fn get(&self, item: &str) -> Result<Option<SecretString>, VaultError>;
    fn set(&self, item: &str, secret: &SecretString) -> Result<(), VaultError>;
    /// Returns whether there was something to delete.
    fn delete(&self, item: &str) -> Result<bool, VaultError>;
    /// Whether `item` exists, without decrypting it where the backend allows.
    /// Checks, before anything is asked of the user, that `item` could be written now: for the
    /// file vault, that the passphrase opens what is there (asking for it if need be).
    fn ready_to_write(&self, _item: &str) -> Result<(), VaultError> {
        Ok(())
    }

    fn contains(&self, item: &str) -> Result<bool, VaultError> {
        Ok(self.get(item)?.is_some())
    }
}

/// The item that holds a profile's long-term keys.
pub fn keys_item(profile: &str) -> String {
    format!("keys:{profile}")
}

/// Reads a profile's long-term keys.
pub fn get_keys(vault: &dyn Vault, profile: &str) -> Result<Option<LongTermKeys>, VaultError> {
    let item = keys_item(profile);
    match vault.get(&item)? {
        None => Ok(None),
        Some(secret) => LongTermKeys::from_secret_json(&secret)
            .map(Some)
            .ok_or(VaultError::NotKeys { item }),
    }
}

/// Stores a profile's long-term keys, replacing any there were.
pub fn set_keys(vault: &dyn Vault, profile: &str, keys: &LongTermKeys) -> Result<(), VaultError> {
    vault.set(&keys_item(profile), &keys.to_secret_json())
}

/// Which vault to open: the chosen backend (the platform default when `None`), and for the file
/// backend its directory and where its passphrase comes from.
#[derive(Clone)]
pub struct VaultSpec {
    pub kind: Option<BackendKind>,
    pub file_dir: PathBuf,
    pub passphrase: Passphrase,
    /// Whether a D-Bus session bus is there for a Secret Service to answer on.
    pub dbus_session: bool,
    /// The password store of the pass backend.
    pub pass: PassSpec,
}

/// Where the file vault's passphrase comes from; it is fetched only when the vault is opened.
#[derive(Clone)]
pub enum Passphrase {
    /// `BROKER_FILE_PASSPHRASE`.
    Given(SecretString),
    /// `BROKER_FILE_PASSPHRASE_FILE`: a file only this user can read.
    File(PathBuf),
    /// `[file] passphrase_command`: its stdout.
    Command(String),
    /// Asked on the terminal.
    Prompt,
}

impl VaultSpec {
    pub fn open(&self) -> Result<Box<dyn Vault>, VaultError> {
        match self.kind {
            Some(BackendKind::File) => Ok(Box::new(FileVault::new(
                self.file_dir.clone(),
                self.passphrase.clone(),
            ))),
            Some(BackendKind::Pass) => Ok(Box::new(pass::open(&self.pass)?)),
            Some(kind) => os::open(kind, self.dbus_session),
            None => os::open_default(self.dbus_session),
        }
    }
}
