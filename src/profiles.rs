//! The AWS shared config and credentials files, read with the AWS SDK's own profile loader so
//! that every profile means exactly what it means to the AWS CLI.
//!
//! aws-vault's `include_profile` is honoured here, in the one reader of the files: a profile
//! takes every key it does not set itself from the profile it includes (and so on down), so
//! everything that reads a profile sees the merged keys.
//!
//! The writes, under the config's lock, go through [`update_config`]: `add` appends a section
//! ([`append_profile_section`]), `sso profiles --write` replaces its own marked block; nothing
//! else is rewritten or reordered. Never reads or keeps `aws_secret_access_key` values
//! (`broker import` reads them with [`crate::credentials_file`]).

use std::path::{Path, PathBuf};

use aws_config::profile::{ProfileFileLoadError, ProfileSet};
use aws_types::os_shim_internal::{Env, Fs};

use crate::environment::Environment;
use crate::fsutil;

/// aws-vault's key: merge the named profile's keys into this one (the profile's own win).
pub const INCLUDE_PROFILE: &str = "include_profile";
/// aws-vault's older, deprecated name for `include_profile`.
const PARENT_PROFILE: &str = "parent_profile";

/// The profile `profile` includes, if it names one.
fn included(profile: &aws_config::profile::Profile) -> Option<&str> {
    [INCLUDE_PROFILE, PARENT_PROFILE]
        .into_iter()
        .find_map(|key| profile.get(key))
        .filter(|name| !name.is_empty())
}

/// An `include_profile` that cannot be followed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IncludeError {
    #[error("include_profile cycle: {0}")]
    Cycle(String),
    #[error("profile {from} has include_profile {missing}, which is not in the AWS config")]
    Missing { from: String, missing: String },
}

#[derive(Debug, thiserror::Error)]
pub enum ProfilesError {
    #[error("cannot read the AWS config: {0}")]
    Load(String),
    /// The SDK's loader refused it; the message says the whole chain, as its top error alone
    /// ("could not parse profile file") names neither the file nor the line.
    #[error("cannot read the AWS config: {}", chain_text(.0))]
    Parse(#[source] ProfileFileLoadError),
    #[error("cannot read the AWS config: cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot update {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The profiles of the AWS config and credentials files.
pub struct AwsProfiles {
    set: ProfileSet,
    /// The `[services NAME]` sections of the config file that hold a setting (the SDK's
    /// loader keeps their settings, but not which sections there are).
    services: Vec<String>,
}

impl AwsProfiles {
    /// Loads `AWS_CONFIG_FILE` (else `~/.aws/config`) and `AWS_SHARED_CREDENTIALS_FILE` (else
    /// `~/.aws/credentials`); missing files are empty, as for the AWS CLI. broker reads the files
    /// itself (regular files only, bounded, UTF-8) and hands their text to the SDK's parser.
    pub fn load(env: &Environment) -> Result<AwsProfiles, ProfilesError> {
        use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
        let mut files = EnvConfigFiles::builder()
            .include_default_config_file(false)
            .include_default_credentials_file(false);
        let mut contents = std::collections::HashMap::new();
        let mut services = Vec::new();
        for (kind, path) in [
            (EnvConfigFileKind::Config, config_file_path(env)),
            (EnvConfigFileKind::Credentials, credentials_file_path(env)),
        ] {
            let Some(path) = path else { continue };
            if let Some(bytes) = read_aws_file(&path)? {
                if matches!(kind, EnvConfigFileKind::Config) {
                    services = services_sections(std::str::from_utf8(&bytes).unwrap_or(""));
                }
                contents.insert(path.clone().into_os_string(), bytes);
                files = files.with_file(kind, path);
            }
        }
        if contents.is_empty() {
            if let Some(config) = config_file_path(env) {
                crate::output::notice(&format!(
                    "warning: there is no AWS config ({} does not exist), so no profiles",
                    config.display()
                ));
            }
            return AwsProfiles::from_texts("", "");
        }
        // The files are named explicitly and read from memory: the loader needs no environment.
        let (fs, sdk_env, files) = (
            Fs::from_raw_map(contents),
            Env::from_slice(&[]),
            files.build(),
        );
        let future = aws_config::profile::load(&fs, &sdk_env, &files, None);
        let set = block_on_ready(future)?.map_err(ProfilesError::Parse)?;
        Ok(AwsProfiles { set, services })
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
        let set = block_on_ready(future)?.map_err(ProfilesError::Parse)?;
        Ok(AwsProfiles {
            set,
            services: services_sections(config),
        })
    }

    /// Whether a `[services NAME]` section with at least one setting exists.
    pub fn has_services_section(&self, name: &str) -> bool {
        self.services.iter().any(|s| s == name)
    }

    /// `[services NAME]`'s `SERVICE = \n  KEY = value`, if set.
    pub fn services_get(&self, name: &str, service: &str, key: &str) -> Option<&str> {
        let key = aws_runtime::env_config::property::PropertiesKey::builder()
            .section_key("services")
            .section_name(name)
            .property_name(service)
            .sub_property_name(key)
            .build()
            .ok()?;
        self.set.other_sections().get(&key).map(String::as_str)
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

    /// Whether a `[sso-session NAME]` section exists.
    pub fn has_sso_session(&self, name: &str) -> bool {
        self.set.sso_session(name).is_some()
    }

    /// The value of `key` in `[sso-session NAME]`, if both exist.
    pub fn sso_session_get(&self, name: &str, key: &str) -> Option<&str> {
        self.set.sso_session(name)?.get(key)
    }

    /// Every `[sso-session]` name, sorted.
    pub fn sso_session_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.set.sso_sessions().map(str::to_owned).collect();
        names.sort();
        names
    }

    /// The value of `key` in profile `name`, if both exist: the profile's own, else that of the
    /// profile it includes (`include_profile`), and so on down. A broken include ends the
    /// search; [`AwsProfiles::includes`] reports it.
    pub fn get(&self, name: &str, key: &str) -> Option<&str> {
        let mut visited: Vec<&str> = Vec::new();
        let mut current = name;
        loop {
            let profile = self.set.get_profile(current)?;
            if let Some(value) = profile.get(key) {
                return Some(value);
            }
            visited.push(current);
            current = included(profile).filter(|next| !visited.contains(next))?;
        }
    }

    /// The profiles `name` includes, nearest first; an error names a cycle or a missing profile.
    pub fn includes(&self, name: &str) -> Result<Vec<&str>, IncludeError> {
        let mut chain: Vec<&str> = Vec::new();
        let mut current = name;
        while let Some(next) = self.set.get_profile(current).and_then(included) {
            if next == name || chain.contains(&next) {
                let mut names: Vec<&str> = std::iter::once(name).chain(chain).collect();
                names.push(next);
                return Err(IncludeError::Cycle(names.join(" -> ")));
            }
            if !self.contains(next) {
                return Err(IncludeError::Missing {
                    from: current.to_string(),
                    missing: next.to_string(),
                });
            }
            chain.push(next);
            current = next;
        }
        Ok(chain)
    }
}

/// The names of the `[services NAME]` sections of a config file's text that hold a line other
/// than a comment. Looks at nothing in a file without such a section.
fn services_sections(text: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    if !text.contains("[services") {
        return names;
    }
    let mut current: Option<&str> = None;
    for line in text.lines() {
        let line = line.trim();
        if let Some(header) = line.strip_prefix('[') {
            current = header
                .split(']')
                .next()
                .and_then(|h| h.trim().strip_prefix("services"))
                .filter(|rest| rest.starts_with([' ', '\t']))
                .map(str::trim);
        } else if let Some(name) = current {
            let setting = !line.is_empty() && !line.starts_with(['#', ';']);
            if setting && !names.iter().any(|n| n == name) {
                names.push(name.to_string());
            }
        }
    }
    names
}

/// The text of one of the AWS files (see [`read_aws_file`]); `None` when it does not exist.
pub fn read_text(path: &Path) -> Result<Option<String>, ProfilesError> {
    Ok(read_aws_file(path)?.map(|bytes| String::from_utf8(bytes).expect("checked UTF-8")))
}

/// One of the AWS files: a regular file (through symbolic links), at most 8 MiB, UTF-8 (the
/// SDK's loader would read anything else as empty, silently). `None` when it does not exist.
fn read_aws_file(path: &Path) -> Result<Option<Vec<u8>>, ProfilesError> {
    let bytes = fsutil::read_user_file(path, fsutil::AWS_FILE_CAP).map_err(|source| {
        ProfilesError::Read {
            path: path.to_owned(),
            source,
        }
    })?;
    if let Some(bytes) = &bytes {
        if let Err(e) = std::str::from_utf8(bytes) {
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
    Ok(bytes)
}

/// The AWS config file path: `AWS_CONFIG_FILE`, else `~/.aws/config`.
pub fn config_file_path(env: &Environment) -> Option<PathBuf> {
    env.aws
        .config_file
        .clone()
        .or_else(|| env.home.as_ref().map(|h| h.join(".aws").join("config")))
}

/// The AWS credentials file path: `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`.
pub fn credentials_file_path(env: &Environment) -> Option<PathBuf> {
    env.aws.shared_credentials_file.clone().or_else(|| {
        env.home
            .as_ref()
            .map(|h| h.join(".aws").join("credentials"))
    })
}

/// Appends `[profile NAME]` (or `[default]`) to the AWS config file, creating it if needed,
/// unless another process added it meanwhile: the caller holds the AWS config's lock
/// (`Context::lock`) around it. Returns the path written, or `None` when the section was
/// already there.
pub fn append_profile_section(
    name: &str,
    env: &Environment,
) -> Result<Option<PathBuf>, ProfilesError> {
    let written = update_config(env, |text| {
        if AwsProfiles::from_texts(text, "").is_ok_and(|aws| aws.contains(name)) {
            return Ok(None);
        }
        let mut text = text.to_string();
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
        Ok::<_, ProfilesError>(Some(text))
    })?;
    Ok(written.1.then_some(written.0))
}

/// Rewrites the AWS config file as `edit` says: it gets the file's text ("" when there is
/// none) and returns the new text, or `None` to leave the file as it is. The file and its
/// directory are created if needed; the new text replaces the old atomically, through a
/// symbolic link (dotfiles) to its target, keeping its mode. The caller holds the AWS config's
/// lock (`Context::lock`) around it. Returns the path, and whether it was written.
pub fn update_config<E: From<ProfilesError>>(
    env: &Environment,
    edit: impl FnOnce(&str) -> Result<Option<String>, E>,
) -> Result<(PathBuf, bool), E> {
    let path = config_file_path(env).ok_or_else(|| {
        ProfilesError::Load("cannot find the home directory; set AWS_CONFIG_FILE".into())
    })?;
    let text = read_text(&path)?.unwrap_or_default();
    let Some(text) = edit(&text)? else {
        return Ok((path, false));
    };
    let write_err = |source| ProfilesError::Write {
        path: path.clone(),
        source,
    };
    if let Some(dir) = path.parent() {
        fsutil::create_dir(dir).map_err(write_err)?;
    }
    fsutil::write_through(&path, text.as_bytes()).map_err(write_err)?;
    Ok((path, true))
}

/// The names among `names` closest to `name`, best first, at most three: for "did you mean".
/// Case-insensitive; close means a small edit distance (a transposition counts as one edit),
/// or, for three characters or more, one name containing the other. Pure.
pub fn closest<'a>(name: &str, names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let wanted = name.to_lowercase();
    let limit = (wanted.chars().count() / 3).clamp(1, 4);
    let mut scored: Vec<(usize, &str)> = names
        .into_iter()
        .filter(|candidate| *candidate != name)
        .filter_map(|candidate| {
            let lower = candidate.to_lowercase();
            let distance = strsim::osa_distance(&wanted, &lower);
            let contains =
                wanted.chars().count() >= 3 && (lower.contains(&wanted) || wanted.contains(&lower));
            (distance <= limit || contains).then_some((distance, candidate))
        })
        .collect();
    scored.sort();
    scored.dedup();
    scored
        .into_iter()
        .take(3)
        .map(|(_, n)| n.to_string())
        .collect()
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
fn chain_text(err: &ProfileFileLoadError) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Runs a future that never waits. The SDK's profile loader is `async` but reads files with
/// blocking calls, so it completes on the first poll and broker needs no runtime to call it.
/// Should a later SDK make it wait, that is an error, not a busy loop.
fn block_on_ready<F: std::future::Future>(future: F) -> Result<F::Output, ProfilesError> {
    crate::ready::now_or_never(future).ok_or_else(|| {
        ProfilesError::Load("the AWS SDK's profile loader did not finish at once".into())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn include_profile_merges_keys_and_the_profiles_own_win() {
        let aws = AwsProfiles::from_texts(
            "[profile base]\nregion = eu-west-1\nmfa_serial = M\nexternal_id = base\n\
             [profile mid]\ninclude_profile = base\nexternal_id = mid\n\
             [profile top]\ninclude_profile = mid\nrole_arn = R\n\
             [profile old]\nparent_profile = base\n",
            "",
        )
        .unwrap();
        assert_eq!(aws.get("top", "region"), Some("eu-west-1"));
        assert_eq!(aws.get("top", "external_id"), Some("mid"));
        assert_eq!(aws.get("top", "role_arn"), Some("R"));
        assert_eq!(aws.get("mid", "role_arn"), None);
        assert_eq!(aws.includes("top"), Ok(vec!["mid", "base"]));
        assert_eq!(aws.includes("base"), Ok(vec![]));
        assert_eq!(
            aws.get("old", "region"),
            Some("eu-west-1"),
            "aws-vault's older name"
        );
    }

    #[test]
    fn broken_includes_are_errors_naming_the_profiles() {
        let aws = AwsProfiles::from_texts(
            "[profile a]\ninclude_profile = b\n[profile b]\ninclude_profile = a\nregion = x\n\
             [profile self]\ninclude_profile = self\n\
             [profile lost]\ninclude_profile = nowhere\n\
             [profile above]\ninclude_profile = a\n",
            "",
        )
        .unwrap();
        assert_eq!(
            aws.includes("a"),
            Err(IncludeError::Cycle("a -> b -> a".into()))
        );
        assert_eq!(
            aws.includes("above"),
            Err(IncludeError::Cycle("above -> a -> b -> a".into()))
        );
        assert_eq!(
            aws.includes("self"),
            Err(IncludeError::Cycle("self -> self".into()))
        );
        assert_eq!(
            aws.includes("lost"),
            Err(IncludeError::Missing {
                from: "lost".into(),
                missing: "nowhere".into()
            })
        );
        // Lookups still end: a cycle is walked once.
        assert_eq!(aws.get("a", "region"), Some("x"));
        assert_eq!(aws.get("a", "role_arn"), None);
        assert_eq!(aws.get("lost", "region"), None);
    }

    #[test]
    fn closest_names_are_near_in_spelling_or_contain_each_other() {
        let names = [
            "prod-admin",
            "prod-read",
            "Staging",
            "dev",
            "analyst",
            "breakglass",
        ];
        assert_eq!(closest("prod-amdin", names), ["prod-admin"]);
        assert_eq!(closest("staging", names), ["Staging"], "case-insensitive");
        assert_eq!(closest("prod", names), ["prod-read", "prod-admin"]);
        assert_eq!(closest("analyts", names), ["analyst"], "a transposition");
        assert_eq!(closest("deb", names), ["dev"]);
        assert!(closest("zzzzzz", names).is_empty());
        assert!(closest("analyst", names).is_empty(), "not itself");
        let many = ["ab1", "ab2", "ab3", "ab4"];
        assert_eq!(closest("ab", many).len(), 3, "at most three");
    }
}
