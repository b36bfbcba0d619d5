//! The process environment, read once: every variable broker honours, as plain values, and the
//! whole inherited set for building children's environments.
//!
//! The only module that reads `std::env`; everything below takes an [`Environment`], so the
//! resolver and the engine's planning are pure functions that unit tests feed directly.
//! Secrets read here (`BROKER_FILE_PASSPHRASE`, `AWS_SECRET_ACCESS_KEY` for `add --env`) are
//! held in redacting, zeroing types.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::sync::OnceLock;

use secrecy::SecretString;

/// broker's own secrets among its environment variables: no child ever gets them.
pub const SECRET_VARS: [&str; 1] = ["BROKER_FILE_PASSPHRASE"];

/// aws-vault's own variables, with what broker reads instead. broker ignores them: no AWS SDK
/// knows them, and they would change roles, devices or durations behind the config's back.
pub const AWS_VAULT_VARS: [(&str, &str); 20] = [
    ("AWS_VAULT_BACKEND", "BROKER_BACKEND"),
    (
        "AWS_VAULT_KEYCHAIN_NAME",
        "nothing (broker names its own items)",
    ),
    ("AWS_VAULT_PROMPT", "[mfa] prompt in config.toml"),
    ("AWS_VAULT_FILE_DIR", "BROKER_FILE_DIR"),
    ("AWS_VAULT_FILE_PASSPHRASE", "BROKER_FILE_PASSPHRASE"),
    (
        "AWS_VAULT_PASS_PASSWORD_STORE_DIR",
        "nothing (no pass backend)",
    ),
    ("AWS_VAULT_PASS_CMD", "nothing (no pass backend)"),
    ("AWS_VAULT_PASS_PREFIX", "nothing (no pass backend)"),
    ("AWS_VAULT_BIOMETRICS", "nothing"),
    (
        "AWS_SESSION_TOKEN_TTL",
        "[session] session_token_duration or --duration",
    ),
    (
        "AWS_CHAINED_SESSION_TOKEN_TTL",
        "[session] session_token_duration",
    ),
    (
        "AWS_ASSUME_ROLE_TTL",
        "duration_seconds, [session] assume_role_duration or --duration",
    ),
    ("AWS_FEDERATION_TOKEN_TTL", "login --duration"),
    ("AWS_MIN_TTL", "[session] min_ttl"),
    ("AWS_MFA_SERIAL", "mfa_serial in the profile"),
    ("AWS_ROLE_ARN", "role_arn in the profile"),
    ("AWS_ROLE_SESSION_NAME", "role_session_name in the profile"),
    ("AWS_SESSION_TAGS", "session_tags in the profile"),
    (
        "AWS_TRANSITIVE_TAGS",
        "transitive_session_tags in the profile",
    ),
    ("AWS_SOURCE_IDENTITY", "source_identity in the profile"),
];

/// The variable in which `broker exec` tells its child which region it set in `AWS_REGION` and
/// `AWS_DEFAULT_REGION`, so that a `broker exec` inside can tell them from the user's own.
pub const REGION_MARKER: &str = "BROKER_REGION";

/// The variable through which the shell asks for completions (clap_complete's dynamic
/// completion; see `commands::completions`).
pub const COMPLETION_VAR: &str = "COMPLETE";

#[derive(Debug, Default)]
pub struct Environment {
    /// Every variable as inherited, broker's secrets left out: what children start from.
    inherited: Vec<(OsString, OsString)>,
    pub home: Option<PathBuf>,
    pub aws: AwsVars,
    pub broker: BrokerVars,
    /// `SHELL`, else `COMSPEC` (Windows): the default command of `exec`. See [`default_shell`].
    pub shell: Option<OsString>,
    /// A `SHELL` passed over for `COMSPEC` on Windows (see [`default_shell`]).
    pub ignored_shell: Option<OsString>,
    /// `BROWSER`: the command that opens a URL.
    pub browser: Option<String>,
    /// Whether `DBUS_SESSION_BUS_ADDRESS` is set (a Secret Service may answer).
    pub dbus_session: bool,
    /// The aws-vault variables ([`AWS_VAULT_VARS`]) that are set, which broker ignores.
    pub ignored_aws_vault_vars: Vec<(&'static str, &'static str)>,
    /// `COLUMNS`: the width of the terminal, when the shell exports it.
    pub columns: Option<usize>,
    /// What the colour conventions say.
    pub color: ColorVars,
    /// The shell asks for completions (`COMPLETE`, see [`COMPLETION_VAR`]).
    pub completion_request: bool,
    user_names: Vec<String>,
    user_name: OnceLock<String>,
    dirs: Dirs,
}

/// The AWS SDKs' variables.
#[derive(Debug, Default)]
pub struct AwsVars {
    pub profile: Option<String>,
    pub config_file: Option<PathBuf>,
    pub shared_credentials_file: Option<PathBuf>,
    pub region: Option<String>,
    pub default_region: Option<String>,
    pub endpoint_url: Option<String>,
    pub endpoint_url_sts: Option<String>,
    pub endpoint_url_iam: Option<String>,
    pub endpoint_url_sso: Option<String>,
    pub endpoint_url_sso_oidc: Option<String>,
    pub ignore_configured_endpoint_urls: bool,
    /// For `add --env`.
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<SecretString>,
    pub session_token_set: bool,
}

/// The colour conventions: `NO_COLOR` (no-color.org), `CLICOLOR` and `CLICOLOR_FORCE`, and
/// `TERM=dumb`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ColorVars {
    /// `NO_COLOR` set and not empty: never.
    pub no_color: bool,
    /// `CLICOLOR_FORCE` set and not `0`: even off a terminal.
    pub force: bool,
    /// `CLICOLOR=0`: not on a terminal either.
    pub off: bool,
    /// `TERM=dumb`.
    pub dumb_terminal: bool,
}

/// broker's own variables.
#[derive(Debug, Default)]
pub struct BrokerVars {
    pub backend: Option<String>,
    pub config: Option<PathBuf>,
    pub file_dir: Option<PathBuf>,
    pub file_passphrase: Option<SecretString>,
    pub file_passphrase_file: Option<PathBuf>,
    pub federation_url: Option<String>,
    pub sts_timeout: Option<String>,
    /// The profile of the `broker exec` this process runs inside, if any.
    pub profile: Option<String>,
    /// `BROKER_REGION`: the region a parent `broker exec` gave its child. An inherited
    /// `AWS_REGION` or `AWS_DEFAULT_REGION` equal to it was set by broker, not by the user.
    pub region: Option<String>,
    /// The test suite's hooks; see [`TestHooks`].
    #[cfg(feature = "test-hooks")]
    test_hooks: TestHooks,
    /// `BROKER_TRACE_TIMING`: print the time of each phase on stderr (see [`crate::timing`]).
    pub trace_timing: bool,
}

/// The test suite's own variables, read only by a build with the `test-hooks` feature (never a
/// user's build: a user's environment must not redirect the audit trail or move the clock).
#[cfg(feature = "test-hooks")]
#[derive(Debug, Default)]
struct TestHooks {
    /// `BROKER_TEST_SYSLOG_SOCKET`: the syslog socket of the tests' own daemon.
    syslog_socket: Option<PathBuf>,
    /// `BROKER_TEST_CLOCK`: the file by which the tests move the clock (see [`crate::clock`]).
    clock: Option<PathBuf>,
    /// `BROKER_TEST_SCRYPT_WORK_FACTOR`: the file vault's scrypt work factor for what it writes,
    /// instead of the real one (a second of work), so that the tests do not spend minutes on
    /// it. The tests of the vault itself leave it unset.
    scrypt_work_factor: Option<u8>,
}

/// broker's directories, settled from the XDG variables, else the platform's own, else under
/// the home directory.
#[derive(Debug, Default)]
struct Dirs {
    runtime: Option<PathBuf>,
    config: PathBuf,
    data: PathBuf,
    state: PathBuf,
    cache: PathBuf,
}

/// The platform's own directories (the `dirs` crate's), read with the environment.
#[derive(Default)]
struct PlatformDirs {
    config: Option<PathBuf>,
    data_local: Option<PathBuf>,
    state: Option<PathBuf>,
    cache: Option<PathBuf>,
}

impl PlatformDirs {
    fn of_this_system() -> PlatformDirs {
        PlatformDirs {
            config: dirs::config_dir(),
            data_local: dirs::data_local_dir(),
            // macOS and Windows have no state directory of their own.
            state: dirs::state_dir().or_else(dirs::data_local_dir),
            cache: dirs::cache_dir(),
        }
    }
}

impl Environment {
    /// Reads this process's environment.
    pub fn from_process() -> Environment {
        Environment::from_vars(
            std::env::vars_os().collect(),
            dirs::home_dir(),
            PlatformDirs::of_this_system(),
        )
    }

    /// An environment of exactly `pairs` (for tests), with `HOME` as the home directory.
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Environment {
        let vars: Vec<(OsString, OsString)> = pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        let home = pairs
            .iter()
            .find(|(k, _)| *k == "HOME")
            .map(|(_, v)| PathBuf::from(v));
        Environment::from_vars(vars, home, PlatformDirs::default())
    }

    fn from_vars(
        vars: Vec<(OsString, OsString)>,
        home: Option<PathBuf>,
        platform: PlatformDirs,
    ) -> Environment {
        let read = Vars {
            vars: &vars,
            home: &home,
        };
        let (shell, ignored_shell) =
            default_shell(read.os("SHELL"), read.os("COMSPEC"), cfg!(windows));
        Environment {
            aws: AwsVars::read(&read),
            broker: BrokerVars::read(&read),
            shell,
            ignored_shell,
            browser: read.get("BROWSER"),
            dbus_session: vars.iter().any(|(k, _)| k == "DBUS_SESSION_BUS_ADDRESS"),
            ignored_aws_vault_vars: AWS_VAULT_VARS
                .into_iter()
                .filter(|(name, _)| read.get(name).is_some())
                .collect(),
            columns: read
                .get("COLUMNS")
                .and_then(|c| c.parse().ok())
                .filter(|&c| c > 0),
            completion_request: read.flag(COMPLETION_VAR),
            color: ColorVars {
                no_color: read.get("NO_COLOR").is_some(),
                force: read.flag("CLICOLOR_FORCE"),
                off: read.get("CLICOLOR").is_some_and(|v| v == "0"),
                dumb_terminal: read.get("TERM").is_some_and(|v| v == "dumb"),
            },
            user_names: ["USER", "LOGNAME", "USERNAME"]
                .iter()
                .filter_map(|name| read.get(name))
                .collect(),
            user_name: OnceLock::new(),
            dirs: Dirs::read(&read, platform),
            inherited: vars
                .into_iter()
                .filter(|(k, _)| !SECRET_VARS.iter().any(|s| same_name(k, s)))
                .collect(),
            home,
        }
    }

    /// The inherited variables without broker's secrets.
    pub fn inherited(&self) -> &[(OsString, OsString)] {
        &self.inherited
    }

    /// `~/x` → `$HOME/x`, the way the AWS CLI expands paths.
    pub fn expand_home(&self, path: impl Into<PathBuf>) -> PathBuf {
        expand_home(&self.home, path.into())
    }

    /// The local user name: `USER`, `LOGNAME` or `USERNAME`, else the account database (looked
    /// up at most once, and only when no variable names the user).
    pub fn user_name(&self) -> &str {
        self.user_name.get_or_init(|| {
            self.user_names
                .first()
                .cloned()
                .or_else(login_name)
                .unwrap_or_else(|| "broker".to_string())
        })
    }

    /// The syslog socket the test suite's daemon listens on (a `test-hooks` build only).
    pub fn test_syslog_socket(&self) -> Option<&std::path::Path> {
        #[cfg(feature = "test-hooks")]
        return self.broker.test_hooks.syslog_socket.as_deref();
        #[cfg(not(feature = "test-hooks"))]
        None
    }

    /// The file by which the test suite moves the clock (a `test-hooks` build only).
    pub fn test_clock(&self) -> Option<&std::path::Path> {
        #[cfg(feature = "test-hooks")]
        return self.broker.test_hooks.clock.as_deref();
        #[cfg(not(feature = "test-hooks"))]
        None
    }

    /// The file vault's scrypt work factor the test suite asks for (a `test-hooks` build only).
    pub fn test_scrypt_work_factor(&self) -> Option<u8> {
        #[cfg(feature = "test-hooks")]
        return self.broker.test_hooks.scrypt_work_factor;
        #[cfg(not(feature = "test-hooks"))]
        None
    }

    /// The path of the running broker binary, to start it again as a helper.
    pub fn current_exe(&self) -> Option<PathBuf> {
        std::env::current_exe().ok()
    }

    /// `$XDG_RUNTIME_DIR` (a per-user tmpfs on Linux), if set.
    pub fn runtime_dir(&self) -> Option<PathBuf> {
        self.dirs.runtime.clone()
    }

    /// `$XDG_CONFIG_HOME`, else the platform's configuration directory.
    pub fn config_dir(&self) -> PathBuf {
        self.dirs.config.clone()
    }

    /// `$XDG_DATA_HOME`, else the platform's local data directory (on Windows `%LOCALAPPDATA%`,
    /// not the roaming `%APPDATA%`: a file vault holds long-term keys and stays on its machine).
    pub fn data_dir(&self) -> PathBuf {
        self.dirs.data.clone()
    }

    /// `$XDG_STATE_HOME`, else `~/.local/state` on Linux and the local data directory elsewhere
    /// (macOS and Windows have no state directory of their own).
    pub fn state_dir(&self) -> PathBuf {
        self.dirs.state.clone()
    }

    /// `$XDG_CACHE_HOME`, else the platform's cache directory.
    pub fn cache_dir(&self) -> PathBuf {
        self.dirs.cache.clone()
    }
}

/// The variables as inherited, read by name: a value that is empty or not Unicode counts as
/// unset, as for the AWS SDKs.
struct Vars<'a> {
    vars: &'a [(OsString, OsString)],
    home: &'a Option<PathBuf>,
}

impl Vars<'_> {
    /// The value of `name` when set and not empty (the name without case on Windows).
    fn os(&self, name: &str) -> Option<OsString> {
        self.vars
            .iter()
            .find(|(k, v)| same_name(k, name) && !v.is_empty())
            .map(|(_, v)| v.clone())
    }

    fn get(&self, name: &str) -> Option<String> {
        self.os(name).and_then(|v| v.into_string().ok())
    }

    /// Set, and not `0`.
    fn flag(&self, name: &str) -> bool {
        self.get(name).is_some_and(|v| v != "0")
    }

    /// A path, `~` expanded.
    fn path(&self, name: &str) -> Option<PathBuf> {
        self.get(name)
            .map(|p| expand_home(self.home, PathBuf::from(p)))
    }

    /// An absolute path (a relative one counts as unset, as the XDG specification says).
    fn absolute(&self, name: &str) -> Option<PathBuf> {
        self.path(name).filter(|p| p.is_absolute())
    }
}

impl AwsVars {
    fn read(vars: &Vars<'_>) -> AwsVars {
        AwsVars {
            profile: vars.get("AWS_PROFILE"),
            config_file: vars.path("AWS_CONFIG_FILE"),
            shared_credentials_file: vars.path("AWS_SHARED_CREDENTIALS_FILE"),
            region: vars.get("AWS_REGION"),
            default_region: vars.get("AWS_DEFAULT_REGION"),
            endpoint_url: vars.get("AWS_ENDPOINT_URL"),
            endpoint_url_sts: vars.get("AWS_ENDPOINT_URL_STS"),
            endpoint_url_iam: vars.get("AWS_ENDPOINT_URL_IAM"),
            endpoint_url_sso: vars.get("AWS_ENDPOINT_URL_SSO"),
            endpoint_url_sso_oidc: vars.get("AWS_ENDPOINT_URL_SSO_OIDC"),
            ignore_configured_endpoint_urls: vars
                .get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
                .is_some_and(|v| v.eq_ignore_ascii_case("true")),
            access_key_id: vars.get("AWS_ACCESS_KEY_ID"),
            secret_access_key: vars.get("AWS_SECRET_ACCESS_KEY").map(SecretString::from),
            session_token_set: vars.get("AWS_SESSION_TOKEN").is_some(),
        }
    }
}

impl BrokerVars {
    fn read(vars: &Vars<'_>) -> BrokerVars {
        BrokerVars {
            backend: vars.get("BROKER_BACKEND"),
            config: vars.path("BROKER_CONFIG"),
            file_dir: vars.path("BROKER_FILE_DIR"),
            file_passphrase: vars.get("BROKER_FILE_PASSPHRASE").map(SecretString::from),
            file_passphrase_file: vars.path("BROKER_FILE_PASSPHRASE_FILE"),
            federation_url: vars.get("BROKER_FEDERATION_URL"),
            sts_timeout: vars.get("BROKER_STS_TIMEOUT"),
            profile: vars.get("BROKER_PROFILE"),
            region: vars.get(REGION_MARKER),
            #[cfg(feature = "test-hooks")]
            test_hooks: TestHooks {
                syslog_socket: vars.absolute("BROKER_TEST_SYSLOG_SOCKET"),
                clock: vars.absolute("BROKER_TEST_CLOCK"),
                scrypt_work_factor: vars
                    .get("BROKER_TEST_SCRYPT_WORK_FACTOR")
                    .and_then(|n| n.parse().ok())
                    .filter(|n| (1..=22).contains(n)),
            },
            trace_timing: vars.flag("BROKER_TRACE_TIMING"),
        }
    }
}

impl Dirs {
    fn read(vars: &Vars<'_>, platform: PlatformDirs) -> Dirs {
        let dir = |xdg: &str, platform: Option<PathBuf>, under_home: &str| {
            vars.absolute(xdg)
                .or(platform)
                .or_else(|| {
                    // One separator throughout: `.local/share` joined part by part.
                    let rest = under_home.split('/');
                    vars.home
                        .as_ref()
                        .map(|h| rest.fold(h.clone(), |p, c| p.join(c)))
                })
                .unwrap_or_else(|| PathBuf::from(under_home))
        };
        Dirs {
            runtime: vars.absolute("XDG_RUNTIME_DIR"),
            config: dir("XDG_CONFIG_HOME", platform.config, ".config"),
            data: dir("XDG_DATA_HOME", platform.data_local, ".local/share"),
            state: dir("XDG_STATE_HOME", platform.state, ".local/state"),
            cache: dir("XDG_CACHE_HOME", platform.cache, ".cache"),
        }
    }
}

fn expand_home(home: &Option<PathBuf>, path: PathBuf) -> PathBuf {
    match (path.strip_prefix("~"), home) {
        // Rebuilt from its components, so that `~/a/b` on Windows is `C:\Users\u\a\b`, with
        // one kind of separator throughout.
        (Ok(rest), Some(home)) => home.join(rest.components().collect::<PathBuf>()),
        _ => path,
    }
}

/// Whether two environment variable names are the same: exactly on Unix, ignoring ASCII case
/// on Windows, where `ComSpec` and `COMSPEC` (or `Aws_Access_Key_Id` and `AWS_ACCESS_KEY_ID`)
/// are one variable.
pub fn same_name(name: &OsStr, other: &str) -> bool {
    let name = name.to_string_lossy();
    if cfg!(windows) {
        name.eq_ignore_ascii_case(other)
    } else {
        name == other
    }
}

/// The default command of `exec` from `SHELL` and `COMSPEC`, and the `SHELL` passed over if
/// any. On Windows a `SHELL` that is a POSIX path is passed over for `COMSPEC`: Git Bash,
/// MSYS2 and Cygwin export one (`/usr/bin/bash`) to every program started from them, and it
/// names nothing Windows can start.
fn default_shell(
    shell: Option<OsString>,
    comspec: Option<OsString>,
    windows: bool,
) -> (Option<OsString>, Option<OsString>) {
    match shell {
        Some(posix) if windows && posix.to_string_lossy().starts_with('/') => {
            (comspec, Some(posix))
        }
        Some(shell) => (Some(shell), None),
        None => (comspec, None),
    }
}

#[cfg(unix)]
fn login_name() -> Option<String> {
    let mut buf = vec![0 as libc::c_char; 4096];
    // SAFETY: getpwuid_r writes the entry into `pwd` and its strings into `buf`, both ours and
    // of the sizes given; `result` points at `pwd` on success. (getpwuid is not thread-safe.)
    unsafe {
        let mut pwd = std::mem::zeroed::<libc::passwd>();
        let mut result = std::ptr::null_mut();
        let status = libc::getpwuid_r(
            libc::getuid(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        );
        if status != 0 || result.is_null() || pwd.pw_name.is_null() {
            return None;
        }
        std::ffi::CStr::from_ptr(pwd.pw_name)
            .to_str()
            .ok()
            .map(str::to_owned)
    }
}

#[cfg(not(unix))]
fn login_name() -> Option<String> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_are_unset_and_secrets_are_not_inherited() {
        let env = Environment::from_pairs(&[
            ("HOME", "/home/u"),
            ("AWS_REGION", ""),
            ("AWS_DEFAULT_REGION", "eu-west-1"),
            ("AWS_CONFIG_FILE", "~/cfg"),
            ("BROKER_FILE_PASSPHRASE", "s3cret"),
            ("XDG_CACHE_HOME", "relative/ignored"),
            ("USER", "jane"),
        ]);
        assert_eq!(env.aws.region, None);
        assert_eq!(env.aws.default_region.as_deref(), Some("eu-west-1"));
        assert_eq!(env.aws.config_file, Some(PathBuf::from("/home/u/cfg")));
        assert!(env.broker.file_passphrase.is_some());
        assert!(!env
            .inherited()
            .iter()
            .any(|(k, _)| k == "BROKER_FILE_PASSPHRASE"));
        assert_eq!(env.user_name(), "jane");
        assert!(!format!("{env:?}").contains("s3cret"));
    }

    #[test]
    fn aws_vault_variables_are_noted_not_read() {
        let env = Environment::from_pairs(&[
            ("AWS_ASSUME_ROLE_TTL", "2h"),
            ("AWS_VAULT_BACKEND", "file"),
            ("AWS_MFA_SERIAL", ""),
        ]);
        let names: Vec<_> = env.ignored_aws_vault_vars.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["AWS_VAULT_BACKEND", "AWS_ASSUME_ROLE_TTL"]);
        assert_eq!(env.broker.backend, None);
    }

    #[test]
    fn a_posix_shell_is_passed_over_for_comspec_on_windows_only() {
        let os = |s: &str| Some(OsString::from(s));
        let cmd = r"C:\Windows\system32\cmd.exe";
        assert_eq!(
            default_shell(os("/usr/bin/bash"), os(cmd), true),
            (os(cmd), os("/usr/bin/bash"))
        );
        assert_eq!(
            default_shell(os("/usr/bin/bash"), None, true),
            (None, os("/usr/bin/bash"))
        );
        let pwsh = r"C:\Program Files\PowerShell\7\pwsh.exe";
        assert_eq!(default_shell(os(pwsh), os(cmd), true), (os(pwsh), None));
        assert_eq!(default_shell(None, os(cmd), true), (os(cmd), None));
        assert_eq!(
            default_shell(os("/bin/zsh"), None, false),
            (os("/bin/zsh"), None)
        );
    }
}
