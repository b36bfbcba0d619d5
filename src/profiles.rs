//! The AWS shared config and credentials files, read with the AWS SDK's own profile loader so
//! that every profile means exactly what it means to the AWS CLI.
//!
//! Only reads: the single write, [`append_profile_section`], appends a section and never
//! rewrites or reorders what is there. Never reads or keeps `aws_secret_access_key` values.

use std::path::PathBuf;

use aws_config::profile::{ProfileFileLoadError, ProfileSet};
use aws_types::os_shim_internal::{Env, Fs};

use crate::fsutil;

#[derive(Debug, thiserror::Error)]
pub enum ProfilesError {
    #[error("cannot read the AWS config: {0}")]
    Load(String),
    #[error("cannot update {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The profiles of the AWS config and credentials files.
pub struct AwsProfiles {
    set: ProfileSet,
}

impl AwsProfiles {
    /// Loads `AWS_CONFIG_FILE` (else `~/.aws/config`) and `AWS_SHARED_CREDENTIALS_FILE` (else
    /// `~/.aws/credentials`); missing files are empty, as for the AWS CLI.
    pub fn load() -> Result<AwsProfiles, ProfilesError> {
        // The SDK's loader reads a file that is not UTF-8 as empty, silently: say so instead.
        for path in [config_file_path(), credentials_file_path()]
            .into_iter()
            .flatten()
        {
            if let Ok(bytes) = std::fs::read(&path) {
                if let Err(e) = std::str::from_utf8(&bytes) {
                    let line = bytes[..e.valid_up_to()]
                        .iter()
                        .filter(|b| **b == b'\n')
                        .count()
                        + 1;
                    return Err(ProfilesError::Load(format!(
                        "{} is not UTF-8 text (line {line})",
                        path.display()
                    )));
                }
            }
        }
        let (fs, env, files) = (Fs::real(), Env::real(), Default::default());
        let future = aws_config::profile::load(&fs, &env, &files, None);
        let set = block_on_ready(future).map_err(|e| ProfilesError::Load(describe(&e)))?;
        Ok(AwsProfiles { set })
    }

    /// Parses config and credentials file texts given directly (for tests and fuzzing).
    pub fn from_texts(config: &str, credentials: &str) -> Result<AwsProfiles, ProfilesError> {
        use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
        let files = EnvConfigFiles::builder()
            .include_default_config_file(false)
            .include_default_credentials_file(false)
            .with_contents(EnvConfigFileKind::Config, config)
            .with_contents(EnvConfigFileKind::Credentials, credentials)
            .build();
        let (fs, env) = (Fs::from_slice(&[]), Env::from_slice(&[]));
        let future = aws_config::profile::load(&fs, &env, &files, None);
        let set = block_on_ready(future).map_err(|e| ProfilesError::Load(describe(&e)))?;
        Ok(AwsProfiles { set })
    }

    /// Every profile name, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.set.profiles().map(str::to_owned).collect();
        names.sort();
        names
    }

    pub fn contains(&self, name: &str) -> bool {
        self.set.get_profile(name).is_some()
    }

    /// The value of `key` in profile `name`, if both exist.
    pub fn get(&self, name: &str, key: &str) -> Option<&str> {
        self.set.get_profile(name)?.get(key)
    }
}

/// The profile a command acts on when none is named: `AWS_PROFILE`, else `default`.
pub fn default_profile_name() -> String {
    std::env::var("AWS_PROFILE")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "default".to_string())
}

/// The AWS config file path: `AWS_CONFIG_FILE`, else `~/.aws/config`.
pub fn config_file_path() -> Option<PathBuf> {
    match std::env::var_os("AWS_CONFIG_FILE") {
        Some(p) if !p.is_empty() => Some(expand_home(PathBuf::from(p))),
        _ => dirs::home_dir().map(|h| h.join(".aws").join("config")),
    }
}

/// The AWS credentials file path: `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`.
pub fn credentials_file_path() -> Option<PathBuf> {
    match std::env::var_os("AWS_SHARED_CREDENTIALS_FILE") {
        Some(p) if !p.is_empty() => Some(expand_home(PathBuf::from(p))),
        _ => dirs::home_dir().map(|h| h.join(".aws").join("credentials")),
    }
}

/// Expands a leading `~/` the way the AWS CLI does.
pub fn expand_home(path: PathBuf) -> PathBuf {
    match (path.strip_prefix("~"), dirs::home_dir()) {
        (Ok(rest), Some(home)) => home.join(rest),
        _ => path,
    }
}

/// Appends `[profile NAME]` (or `[default]`) to the AWS config file, creating it if needed.
pub fn append_profile_section(name: &str) -> Result<PathBuf, ProfilesError> {
    let path = config_file_path().ok_or_else(|| {
        ProfilesError::Load("cannot find the home directory; set AWS_CONFIG_FILE".into())
    })?;
    let write_err = |source| ProfilesError::Write {
        path: path.clone(),
        source,
    };
    let mut text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(write_err(e)),
    };
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    if !text.is_empty() {
        text.push('\n');
    }
    if name == "default" {
        text.push_str("[default]\n");
    } else {
        text.push_str(&format!("[profile {name}]\n"));
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(write_err)?;
    }
    let mode = existing_mode(&path);
    fsutil::atomic_write(&path, text.as_bytes()).map_err(write_err)?;
    restore_mode(&path, mode).map_err(write_err)?;
    Ok(path)
}

#[cfg(unix)]
fn existing_mode(path: &std::path::Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).ok().map(|m| m.permissions().mode())
}

#[cfg(unix)]
fn restore_mode(path: &std::path::Path, mode: Option<u32>) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    match mode {
        Some(mode) => std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)),
        None => Ok(()),
    }
}

#[cfg(not(unix))]
fn existing_mode(_: &std::path::Path) -> Option<u32> {
    None
}

#[cfg(not(unix))]
fn restore_mode(_: &std::path::Path, _: Option<u32>) -> std::io::Result<()> {
    Ok(())
}

/// Checks that a name can be written as a config section header and read back unchanged.
pub fn valid_profile_name(name: &str) -> bool {
    !name.is_empty()
        && name.trim() == name
        && !name
            .chars()
            .any(|c| c.is_control() || matches!(c, '[' | ']' | '#' | ';'))
}

/// The loader's error with its causes, on one line.
fn describe(err: &ProfileFileLoadError) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    crate::error::one_line(&text)
}

/// Runs a future that never waits. The SDK's profile loader is `async` but reads files with
/// blocking calls, so it completes on the first poll and broker needs no runtime to call it.
fn block_on_ready<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::yield_now();
    }
}
