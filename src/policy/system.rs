//! The organisation's floor: the system policy file, the same rules as config.toml's, set by an
//! administrator for every user of the machine. It is `/etc/broker/policy.toml` (Linux and
//! other Unix), `/Library/Application Support/broker/policy.toml` (macOS), or
//! `broker\policy.toml` in the ProgramData folder (Windows); no variable or flag moves it (a
//! `test-hooks` build, never a user's, reads `BROKER_TEST_SYSTEM_POLICY`).
//!
//! It is trusted only if no one but the administrator can change it: on Unix the file and every
//! directory above it belong to root and no one else may write them (a sticky directory such as
//! `/tmp` may be writable); on Windows the file and its folder belong to Administrators (or
//! SYSTEM) and no one else may change them. A file that is there but untrusted, unreadable or
//! not valid stops every issuing of credentials (it fails closed); commands that only read go on
//! and say why. A missing file costs one failed `lstat`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::rules::ParseError;
use super::rules::Rules;
use crate::environment::Environment;

/// Why the system policy stops every issuing.
#[derive(Debug, thiserror::Error)]
pub enum FloorError {
    #[error(
        "the system policy {} is {flaw}: no credentials are issued until it is fixed",
        path.display()
    )]
    Untrusted { path: PathBuf, flaw: Flaw },
    #[error(
        "cannot read the system policy {}: {source}: no credentials are issued until it is fixed",
        path.display()
    )]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "invalid system policy {}: {source}: no credentials are issued until it is fixed",
        path.display()
    )]
    Invalid { path: PathBuf, source: ParseError },
}

impl FloorError {
    pub fn path(&self) -> &Path {
        match self {
            FloorError::Untrusted { path, .. }
            | FloorError::Unreadable { path, .. }
            | FloorError::Invalid { path, .. } => path,
        }
    }
}

/// What lets someone other than the administrator change the system policy.
#[derive(Debug, thiserror::Error)]
pub enum Flaw {
    #[error("owned by uid {0}, not root")]
    Owner(u32),
    #[error("writable by {who} (mode {mode:o})")]
    Writable { who: &'static str, mode: u32 },
    #[error("in {}, which is {flaw}", dir.display())]
    Directory { dir: PathBuf, flaw: Box<Flaw> },
    #[cfg(windows)]
    #[error(transparent)]
    NotAdminOnly(crate::fsutil::NotAdminOnly),
}

/// Where the system policy is.
pub fn location(env: &Environment) -> std::io::Result<PathBuf> {
    if let Some(path) = env.test_system_policy() {
        return Ok(path.to_owned());
    }
    os_location()
}

#[cfg(all(unix, not(target_os = "macos")))]
fn os_location() -> std::io::Result<PathBuf> {
    Ok(PathBuf::from("/etc/broker/policy.toml"))
}

#[cfg(target_os = "macos")]
fn os_location() -> std::io::Result<PathBuf> {
    Ok(PathBuf::from(
        "/Library/Application Support/broker/policy.toml",
    ))
}

#[cfg(windows)]
fn os_location() -> std::io::Result<PathBuf> {
    Ok(crate::fsutil::program_data()?
        .join("broker")
        .join("policy.toml"))
}

/// The system policy file, as found.
#[derive(Debug, Default)]
pub enum SystemPolicy {
    /// There is none: no floor.
    #[default]
    Absent,
    /// It is trusted and parsed.
    Trusted { path: PathBuf, rules: Rules },
    /// It cannot be trusted or read, or does not parse: no credentials are issued. (Shared:
    /// every issuing reports it, with its causes.)
    Refused(Arc<FloorError>),
}

/// Finds, checks and reads the system policy.
pub fn load(env: &Environment) -> SystemPolicy {
    let path = match location(env) {
        Ok(path) => path,
        Err(source) => {
            return SystemPolicy::Refused(Arc::new(FloorError::Unreadable {
                path: PathBuf::from("ProgramData\\broker\\policy.toml"),
                source,
            }))
        }
    };
    let bytes = match read_trusted(&path) {
        Ok(None) => return SystemPolicy::Absent,
        Ok(Some(bytes)) => bytes,
        Err(e) => return SystemPolicy::Refused(Arc::new(e)),
    };
    let parsed = std::str::from_utf8(&bytes)
        .map_err(|_| FloorError::Unreadable {
            path: path.clone(),
            source: std::io::Error::other("not UTF-8 text"),
        })
        .and_then(|text| {
            super::rules::parse_toml::<Rules>(text).map_err(|source| FloorError::Invalid {
                path: path.clone(),
                source,
            })
        });
    match parsed {
        Ok(rules) => SystemPolicy::Trusted { path, rules },
        Err(e) => SystemPolicy::Refused(Arc::new(e)),
    }
}

/// The file's bytes, if it is there and only the administrator can change it.
fn read_trusted(path: &Path) -> Result<Option<Vec<u8>>, FloorError> {
    let unreadable = |source| FloorError::Unreadable {
        path: path.to_owned(),
        source,
    };
    let untrusted = |flaw| FloorError::Untrusted {
        path: path.to_owned(),
        flaw,
    };
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(unreadable(e)),
        Ok(_) => {}
    }
    // Through symbolic links (a configuration manager may link it), checking where they lead.
    let real = std::fs::canonicalize(path).map_err(unreadable)?;
    for dir in real.ancestors().skip(1) {
        if let Some(flaw) = dir_flaw(dir).map_err(unreadable)? {
            return Err(untrusted(Flaw::Directory {
                dir: dir.to_owned(),
                flaw: Box::new(flaw),
            }));
        }
    }
    let Some((file, meta)) = crate::fsutil::open_regular(&real, false).map_err(unreadable)? else {
        return Err(unreadable(std::io::ErrorKind::NotFound.into()));
    };
    if let Some(flaw) = file_flaw(&file, &meta).map_err(unreadable)? {
        return Err(untrusted(flaw));
    }
    crate::fsutil::read_open(file, &meta, crate::fsutil::SETTINGS_CAP)
        .map(Some)
        .map_err(unreadable)
}

#[cfg(unix)]
fn dir_flaw(dir: &Path) -> std::io::Result<Option<Flaw>> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::symlink_metadata(dir)?;
    Ok(unix_flaw(meta.uid(), meta.mode(), true))
}

#[cfg(unix)]
fn file_flaw(_file: &std::fs::File, meta: &std::fs::Metadata) -> std::io::Result<Option<Flaw>> {
    use std::os::unix::fs::MetadataExt;
    Ok(unix_flaw(meta.uid(), meta.mode(), false))
}

/// Owned by root, and writable by no one else (a directory may be, when it is sticky: then no
/// one can replace what another put in it).
#[cfg(unix)]
fn unix_flaw(uid: u32, mode: u32, dir: bool) -> Option<Flaw> {
    if uid != 0 {
        return Some(Flaw::Owner(uid));
    }
    let writable = mode & 0o022;
    if writable == 0 || (dir && mode & 0o1000 != 0) {
        return None;
    }
    let who = match writable {
        0o020 => "group",
        0o002 => "others",
        _ => "group and others",
    };
    Some(Flaw::Writable {
        who,
        mode: mode & 0o7777,
    })
}

/// Only the folder holding the file is checked: ProgramData above it is the system's.
#[cfg(windows)]
fn dir_flaw(dir: &Path) -> std::io::Result<Option<Flaw>> {
    use std::os::windows::fs::OpenOptionsExt;
    if dir.file_name().is_none_or(|name| name != "broker") {
        return Ok(None);
    }
    // READ_CONTROL is all reading its ACL takes; FILE_FLAG_BACKUP_SEMANTICS opens a directory.
    let handle = std::fs::OpenOptions::new()
        .access_mode(0x0002_0000)
        .custom_flags(0x0200_0000)
        .open(dir)?;
    admin_flaw(&handle, true)
}

#[cfg(windows)]
fn file_flaw(file: &std::fs::File, _meta: &std::fs::Metadata) -> std::io::Result<Option<Flaw>> {
    admin_flaw(file, false)
}

#[cfg(windows)]
fn admin_flaw(handle: &std::fs::File, dir: bool) -> std::io::Result<Option<Flaw>> {
    Ok(crate::fsutil::admin_only(handle, dir)?
        .err()
        .map(Flaw::NotAdminOnly))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn only_roots_unwritable_files_are_trusted() {
        let text = |uid, mode, dir| unix_flaw(uid, mode, dir).map(|f| f.to_string());
        assert_eq!(text(0, 0o100644, false), None);
        assert_eq!(text(0, 0o40755, true), None);
        assert_eq!(text(0, 0o41777, true), None, "sticky, like /tmp");
        assert_eq!(
            text(1000, 0o100644, false).as_deref(),
            Some("owned by uid 1000, not root")
        );
        assert_eq!(
            text(0, 0o100664, false).as_deref(),
            Some("writable by group (mode 664)")
        );
        assert_eq!(
            text(0, 0o41777, false).as_deref(),
            Some("writable by group and others (mode 1777)")
        );
        assert_eq!(
            text(0, 0o40757, true).as_deref(),
            Some("writable by others (mode 757)")
        );
    }
}
