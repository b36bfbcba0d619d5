//! Files and directories, safely: broker's own directories `0700`, its files `0600`, every write
//! atomic (write, fsync, rename), every read bounded.
//!
//! Never changes the mode or owner of a directory it did not create (a shared `1777` directory,
//! `$HOME`), never makes anything inside a directory of its own before checking that directory,
//! never writes anything in place, never follows a symbolic link to a file of its own, never
//! replaces a dangling link to a user's file, and never reads a FIFO, a device or an unbounded
//! file: each of those is a one-line error.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

#[cfg(windows)]
mod acl;

#[cfg(windows)]
pub use acl::{admin_only, program_data, NotAdminOnly};

/// Caps on what broker reads, by kind of file.
pub const AWS_FILE_CAP: u64 = 8 << 20;
pub const SETTINGS_CAP: u64 = 1 << 20;
pub const SMALL_FILE_CAP: u64 = 64 << 10;

/// Creates `dir` and its missing parents, each one created `0700` (on Windows with an ACL
/// private to the user); a directory that already exists is left exactly as it is. For places
/// the user chose, which may be shared.
pub fn create_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(windows)]
    return acl::private_dir(dir);
    #[cfg(not(windows))]
    {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir)
    }
}

/// A directory of broker's own (the cache, the file vault, the default audit directory): made
/// `0700` where missing, and refused when another user owns it or others can write to it.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    create_dir(dir)?;
    let meta = std::fs::symlink_metadata(dir)?;
    if !meta.is_dir() {
        return Err(other("not a directory"));
    }
    check_private(&meta)
}

/// A directory of broker's own inside another of broker's own, `root` (such as
/// `$XDG_CACHE_HOME/broker` and its `sessions/locks`): every directory from `root` down to `dir`
/// is made `0700` where missing and checked as [`private_dir`] checks it, in that order, so
/// nothing is created inside a directory before that directory was checked.
pub fn private_dir_under(root: &Path, dir: &Path) -> std::io::Result<()> {
    private_dir(root)?;
    let inside = dir
        .strip_prefix(root)
        .map_err(|_| other(format!("not inside {}", root.display())))?;
    let mut at = root.to_path_buf();
    for part in inside.components() {
        at.push(part);
        private_dir(&at)?;
    }
    Ok(())
}

/// Reads a file of broker's own (a cache entry, a vault item, the audit log): never through a
/// symbolic link, only a regular file, at most `cap` bytes. `None` when it does not exist.
pub fn read_private(path: &Path, cap: u64) -> std::io::Result<Option<Vec<u8>>> {
    read_capped(path, cap, false)
}

/// Reads a file the user keeps (the AWS config, config.toml, a token file): through symbolic
/// links (dotfiles, projected tokens), but only a regular file, at most `cap` bytes. `None`
/// when it does not exist.
pub fn read_user_file(path: &Path, cap: u64) -> std::io::Result<Option<Vec<u8>>> {
    read_capped(path, cap, true)
}

/// Reads a secret the user keeps in a file (the vault's passphrase file): through symbolic links,
/// but only a regular file of this user's that no one else can read or write.
pub fn read_secret_file(path: &Path, cap: u64) -> std::io::Result<Option<Vec<u8>>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match std::fs::metadata(path) {
            Ok(meta) => {
                check_private(&meta)?;
                if meta.mode() & 0o077 != 0 {
                    return Err(other(format!(
                        "other users can read it (mode {:o}); make it private with chmod 600",
                        meta.mode() & 0o7777
                    )));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        }
    }
    read_capped(path, cap, true)
}

fn read_capped(path: &Path, cap: u64, follow: bool) -> std::io::Result<Option<Vec<u8>>> {
    let Some((file, meta)) = open_regular(path, follow)? else {
        return Ok(None);
    };
    read_open(file, &meta, cap).map(Some)
}

/// Opens `path` for reading (through a symbolic link when `follow`): only a regular file, with
/// the metadata of what was opened, so that a check of it holds for what is then read. `None`
/// when it does not exist.
pub fn open_regular(
    path: &Path,
    follow: bool,
) -> std::io::Result<Option<(File, std::fs::Metadata)>> {
    let file = match open(path, follow, OpenMode::Read) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            dangling(path)?;
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(other("not a regular file"));
    }
    Ok(Some((file, meta)))
}

/// Reads a file [`open_regular`] opened, at most `cap` bytes.
pub fn read_open(file: File, meta: &std::fs::Metadata, cap: u64) -> std::io::Result<Vec<u8>> {
    let too_large = || other(format!("larger than {}", size(cap)));
    if meta.len() > cap {
        return Err(too_large());
    }
    // Room for the whole file and one byte more: one read, and a second that says it ended.
    let mut bytes = Vec::with_capacity(meta.len() as usize + 1);
    file.take(cap + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(too_large());
    }
    Ok(bytes)
}

/// Opens a file of broker's own for appending and reading its tail (the audit log), creating it
/// `0600`: never through a symbolic link, only a regular file that this user owns and others
/// cannot write.
pub fn open_append(path: &Path) -> std::io::Result<File> {
    open_checked(path, OpenMode::Append)
}

/// Takes an exclusive lock on `path` (created `0600` if needed), held until the file is dropped.
pub fn lock(path: &Path) -> std::io::Result<File> {
    let file = open_checked(path, OpenMode::Lock)?;
    file.lock()?;
    Ok(file)
}

fn open_checked(path: &Path, mode: OpenMode) -> std::io::Result<File> {
    let file = open(path, false, mode)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(other("not a regular file"));
    }
    check_private(&meta)?;
    Ok(file)
}

#[derive(Clone, Copy)]
enum OpenMode {
    Read,
    Append,
    Lock,
}

fn open(path: &Path, follow: bool, mode: OpenMode) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    match mode {
        OpenMode::Read => options.read(true),
        OpenMode::Append => options.read(true).append(true).create(true),
        OpenMode::Lock => options.write(true).create(true).truncate(false),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
        // O_NONBLOCK: opening a FIFO returns at once instead of waiting for a writer; the
        // regular-file check that follows refuses it.
        let mut flags = libc::O_NONBLOCK;
        if !follow {
            flags |= libc::O_NOFOLLOW;
        }
        options.custom_flags(flags);
    }
    #[cfg(windows)]
    if !follow {
        use std::os::windows::fs::OpenOptionsExt;
        // FILE_FLAG_OPEN_REPARSE_POINT: opens a symbolic link itself, which the regular-file
        // check then refuses, instead of its target.
        options.custom_flags(0x0020_0000);
    }
    options.open(path).map_err(|e| {
        #[cfg(unix)]
        if !follow && e.raw_os_error() == Some(libc::ELOOP) {
            return other("a symbolic link, which broker does not follow for its own files");
        }
        e
    })
}

/// Refuses what another user owns or can write (Unix). On Windows, files and directories under
/// the user's profile are private by their inherited ACLs, which broker leaves alone.
fn check_private(meta: &std::fs::Metadata) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // SAFETY: geteuid cannot fail.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me {
            return Err(other(format!("owned by another user (uid {})", meta.uid())));
        }
        if meta.mode() & 0o022 != 0 {
            return Err(other(format!(
                "writable by other users (mode {:o}); make it private with chmod go-w",
                meta.mode() & 0o7777
            )));
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    Ok(())
}

fn other(message: impl Into<String>) -> std::io::Error {
    std::io::Error::other(message.into())
}

fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{} KiB", bytes >> 10)
    }
}

/// Replaces `path` with `contents` atomically; the file is `0600` from its first byte. A
/// symbolic link at `path` is replaced, not followed (see [`write_through`] for the user's files).
pub fn atomic_write(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    replace(path, contents, None)
}

/// Writes `contents` to a new file beside `path` (`0600`, or given the owner and mode of
/// `like` before anything else can see it), makes it durable, and renames it over `path`.
fn replace(path: &Path, contents: &[u8], like: Option<&std::fs::Metadata>) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(dir)?;
    if let Some(like) = like {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let made = tmp.as_file().metadata()?;
            let uid = (made.uid() != like.uid()).then_some(like.uid());
            let gid = (made.gid() != like.gid()).then_some(like.gid());
            if uid.is_some() || gid.is_some() {
                std::os::unix::fs::fchown(tmp.as_file(), uid, gid)
                    .map_err(|e| other(format!("cannot keep its owner and group: {e}")))?;
            }
        }
        tmp.as_file().set_permissions(like.permissions())?;
    }
    tmp.write_all(contents)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir);
    Ok(())
}

/// An error when `path`, which was not found, is a symbolic link to something missing: a
/// dotfiles link whose target is gone is a broken setup to report, not an absent file to
/// create in its place.
fn dangling(path: &Path) -> std::io::Result<()> {
    match std::fs::read_link(path) {
        Ok(target) => Err(other(format!(
            "a symbolic link to {}, which does not exist",
            target.display()
        ))),
        Err(_) => Ok(()),
    }
}

/// Replaces the file the user keeps at `path` atomically, writing through a symbolic link to
/// its target (a dotfiles repository stays linked) and keeping the file's owner, group and
/// mode (root rewriting another user's file leaves it theirs). A symbolic link to a missing
/// file is an error, never replaced.
pub fn write_through(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let target = match std::fs::canonicalize(path) {
        Ok(target) => target,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            dangling(path)?;
            path.to_owned()
        }
        Err(e) => return Err(e),
    };
    let existing = std::fs::metadata(&target).ok();
    replace(&target, contents, existing.as_ref())
}

/// How many hard links the file at `path` (through symbolic links) has; always 1 where the
/// system does not say (Windows).
pub fn hard_links(path: &Path) -> std::io::Result<u64> {
    let meta = std::fs::metadata(path)?;
    #[cfg(unix)]
    return Ok(std::os::unix::fs::MetadataExt::nlink(&meta));
    #[cfg(not(unix))]
    {
        let _ = meta;
        Ok(1)
    }
}

/// Makes a rename durable; best effort, as not every filesystem supports it.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Encodes an arbitrary name as a safe file name: `[A-Za-z0-9_-]` and inner dots stay, every
/// other byte becomes `%XX`, so names cannot escape the directory or collide.
pub fn encode_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for (i, b) in name.bytes().enumerate() {
        let keep = b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || (b == b'.' && i > 0);
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The inverse of [`encode_name`]; `None` for a name it did not produce.
pub fn decode_name(encoded: &str) -> Option<String> {
    let bytes = encoded.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = encoded.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_stay_inside_the_directory() {
        for name in [
            "keys:prod",
            "../../etc/passwd",
            ".hidden",
            "a b/c",
            "ünï",
            "%41",
        ] {
            let enc = encode_name(name);
            assert!(!enc.contains('/') && !enc.starts_with('.'), "{enc}");
            assert_eq!(decode_name(&enc).as_deref(), Some(name));
        }
    }

    #[cfg(unix)]
    #[test]
    fn atomic_write_makes_private_files() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("a/b");
        private_dir(&sub).unwrap();
        let file = sub.join("f");
        atomic_write(&file, b"one").unwrap();
        atomic_write(&file, b"two").unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"two");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(&sub), 0o700);
        assert_eq!(
            std::fs::read_dir(&sub).unwrap().count(),
            1,
            "no temp file left"
        );
    }

    #[cfg(unix)]
    #[test]
    fn existing_directories_keep_their_mode_and_loose_ones_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let shared = dir.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
        create_dir(&shared.join("inner")).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode(&shared), 0o1777, "a directory broker did not create");
        assert_eq!(mode(&shared.join("inner")), 0o700);
        let err = private_dir(&shared).unwrap_err().to_string();
        assert!(err.contains("writable by other users"), "{err}");
        assert_eq!(mode(&shared), 0o1777);
    }

    #[cfg(unix)]
    #[test]
    fn reads_refuse_links_fifos_devices_and_large_files() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        std::fs::write(&real, b"hello").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert_eq!(read_user_file(&link, 10).unwrap().unwrap(), b"hello");
        let err = read_private(&link, 10).unwrap_err().to_string();
        assert!(err.contains("symbolic link"), "{err}");
        assert!(read_private(&real, 4)
            .unwrap_err()
            .to_string()
            .contains("larger than"));
        for special in ["/dev/zero", "/dev/urandom", "/"] {
            let err = read_user_file(Path::new(special), 10).unwrap_err();
            assert!(err.to_string().contains("not a regular file"), "{special}");
        }
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid C string.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let err = read_user_file(&fifo, 10).unwrap_err();
        assert!(err.to_string().contains("not a regular file"));
        assert!(read_private(&dir.path().join("missing"), 10)
            .unwrap()
            .is_none());
    }

    #[cfg(unix)]
    #[test]
    fn a_dangling_link_is_an_error_to_read_and_to_write_through() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("config");
        std::os::unix::fs::symlink(dir.path().join("gone"), &link).unwrap();
        let err = read_user_file(&link, 10).unwrap_err().to_string();
        assert!(
            err.contains("a symbolic link to ") && err.contains("gone"),
            "{err}"
        );
        let err = write_through(&link, b"x").unwrap_err().to_string();
        assert!(err.contains("which does not exist"), "{err}");
        assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
        assert!(!dir.path().join("gone").exists());
        assert!(read_user_file(&dir.path().join("absent"), 10)
            .unwrap()
            .is_none());
    }

    #[cfg(unix)]
    #[test]
    fn nothing_is_made_inside_a_directory_before_it_is_checked() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("broker");
        std::fs::create_dir(&root).unwrap();
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = private_dir_under(&root, &root.join("sessions/locks"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("writable by other users"), "{err}");
        assert_eq!(std::fs::read_dir(&root).unwrap().count(), 0);
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o700)).unwrap();
        private_dir_under(&root, &root.join("sessions/locks")).unwrap();
        assert!(root.join("sessions/locks").is_dir());
    }

    #[cfg(unix)]
    #[test]
    fn write_through_keeps_the_link_and_the_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("dotfiles-config");
        std::fs::write(&target, b"old").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("config");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write_through(&link, b"new").unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
    }
}
