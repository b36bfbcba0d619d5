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

/// Secrets among the variables broker reads: no child ever gets them.
pub const SECRET_VARS: [&str; 2] = ["BROKER_FILE_PASSPHRASE", "AWS_VAULT_FILE_PASSPHRASE"];

/// aws-vault's variables that broker ignores, with what it reads instead: they would change
/// roles, session names or tags behind the config's back. (The ones it honours are read into
/// [`AwsVaultVars`]; see [`crate::aws_vault`].)
pub const IGNORED_AWS_VAULT_VARS: [(&str, &str); 6] = [
    ("AWS_ROLE_ARN", "role_arn in the profile"),
    ("AWS_ROLE_SESSION_NAME", "role_session_name in the profile"),
    ("AWS_SESSION_TAGS", "session_tags in the profile"),
    (
        "AWS_TRANSITIVE_TAGS",
        "transitive_session_tags in the profile",
    ),
    ("AWS_SOURCE_IDENTITY", "source_identity in the profile"),
    (
        "AWS_VAULT_BIOMETRICS",
        "nothing (the OS store asks as it is set up to)",
    ),
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
    inherited: Inherited,
    pub home: Option<PathBuf>,
    pub aws: AwsVars,
    pub proxy: ProxyVars,
    pub broker: BrokerVars,
    /// `SHELL`, else `COMSPEC` (Windows): the default command of `exec`. See [`default_shell`].
    pub shell: Option<OsString>,
    /// A `SHELL` passed over for `COMSPEC` on Windows (see [`default_shell`]).
    pub ignored_shell: Option<OsString>,
    /// `BROWSER`: the command that opens a URL.
    pub browser: Option<String>,
    /// Whether `DBUS_SESSION_BUS_ADDRESS` is set (a Secret Service may answer).
    pub dbus_session: bool,
    /// What `broker prompt` shows.
    pub prompt: PromptVars,
    /// `PASSWORD_STORE_DIR`: `pass`'s own store, when no broker or aws-vault variable names one.
    pub password_store_dir: Option<PathBuf>,
    /// aws-vault's variables that broker honours after its own (see [`crate::aws_vault`]).
    pub aws_vault: AwsVaultVars,
    /// The aws-vault variables of [`IGNORED_AWS_VAULT_VARS`] that are set.
    pub ignored_aws_vault_vars: Vec<(&'static str, &'static str)>,
    /// `COLUMNS`: the width of the terminal, when the shell exports it.
    pub columns: Option<usize>,
    /// What the colour conventions say.
    pub color: ColorVars,
    /// The shell asks for completions (`COMPLETE`, see [`COMPLETION_VAR`]).
    pub completion_request: bool,
    user_names: Vec<String>,
    user_name: OnceLock<String>,
    /// `COMPUTERNAME` (Windows's name for the machine).
    computer_name: Option<String>,
    dirs: Dirs,
}

/// The AWS SDKs' variables.
#[derive(Debug, Default)]
pub struct AwsVars {
    pub profile: Option<String>,
    /// `AWS_DEFAULT_PROFILE`, which botocore reads before `AWS_PROFILE`.
    pub default_profile: Option<String>,
    pub config_file: Option<PathBuf>,
    pub shared_credentials_file: Option<PathBuf>,
    pub region: Option<String>,
    pub default_region: Option<String>,
    pub endpoint_url: Option<String>,
    pub endpoint_url_sts: Option<String>,
    pub endpoint_url_iam: Option<String>,
    pub endpoint_url_sso: Option<String>,
    pub endpoint_url_sso_oidc: Option<String>,
    /// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`: `Some` when set (it beats the profile's key).
    pub ignore_configured_endpoint_urls: Option<bool>,
    /// `AWS_USE_FIPS_ENDPOINT`, `AWS_USE_DUALSTACK_ENDPOINT`: `Some` when set.
    pub use_fips_endpoint: Option<bool>,
    pub use_dualstack_endpoint: Option<bool>,
    /// `AWS_CA_BUNDLE`, then `REQUESTS_CA_BUNDLE` (botocore's fallback), `~` expanded.
    pub ca_bundle: Option<PathBuf>,
    pub requests_ca_bundle: Option<PathBuf>,
    /// `AWS_MAX_ATTEMPTS`, `AWS_RETRY_MODE`, as written (checked when a call is made).
    pub max_attempts: Option<String>,
    pub retry_mode: Option<String>,
    /// For `add --env`.
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<SecretString>,
    pub session_token_set: bool,
}

/// aws-vault's own variables that broker honours, each after broker's own setting of the same
/// thing and before config.toml (see [`crate::aws_vault`]). Durations are in Go's syntax
/// (`1h`, `90m`, `1.5h`), parsed here and checked once by [`crate::context`], which fails on a
/// bad one naming the variable.
#[derive(Debug, Default)]
pub struct AwsVaultVars {
    pub backend: Option<String>,
    pub file_dir: Option<PathBuf>,
    pub file_passphrase: Option<SecretString>,
    pub prompt: Option<String>,
    pub keychain_name: Option<String>,
    pub pass_dir: Option<PathBuf>,
    pub pass_cmd: Option<String>,
    pub pass_prefix: Option<String>,
    pub secret_service_collection: Option<String>,
    pub mfa_serial: Option<String>,
    pub session_token_ttl: Option<EnvDuration>,
    pub chained_session_token_ttl: Option<EnvDuration>,
    pub assume_role_ttl: Option<EnvDuration>,
    pub federation_token_ttl: Option<EnvDuration>,
    pub min_ttl: Option<EnvDuration>,
}

/// A duration read from a variable: its value, or the error that names the variable.
pub type EnvDuration = Result<std::time::Duration, crate::duration::DurationError>;

impl AwsVaultVars {
    /// Every duration variable that is set, by name.
    pub fn durations(&self) -> [(&'static str, Option<&EnvDuration>); 5] {
        [
            ("AWS_SESSION_TOKEN_TTL", self.session_token_ttl.as_ref()),
            (
                "AWS_CHAINED_SESSION_TOKEN_TTL",
                self.chained_session_token_ttl.as_ref(),
            ),
            ("AWS_ASSUME_ROLE_TTL", self.assume_role_ttl.as_ref()),
            (
                "AWS_FEDERATION_TOKEN_TTL",
                self.federation_token_ttl.as_ref(),
            ),
            ("AWS_MIN_TTL", self.min_ttl.as_ref()),
        ]
    }
}

/// What a shell that `broker use` set up says about its credentials, for `broker prompt`.
#[derive(Debug, Default)]
pub struct PromptVars {
    /// `BROKER_PROFILE`, else `AWS_VAULT`.
    pub profile: Option<String>,
    /// `AWS_CREDENTIAL_EXPIRATION`, else `AWS_SESSION_EXPIRATION`.
    pub expiration: Option<String>,
}

/// The proxy variables, read as Python's `urllib` (and so botocore) reads them: the lower-case
/// name first (set but empty, it unsets the upper-case one), then the upper-case name; with
/// `REQUEST_METHOD` set (a CGI script) the upper-case `HTTP_PROXY` is not read (httpoxy).
/// `ALL_PROXY` is not read: botocore does not either.
#[derive(Debug, Default, Clone)]
pub struct ProxyVars {
    /// The proxy for `https://` endpoints and where it came from. May hold a password.
    pub https: Option<(SecretString, &'static str)>,
    /// The proxy for `http://` endpoints.
    pub http: Option<(SecretString, &'static str)>,
    /// The hosts reached directly, as written.
    pub no_proxy: Option<(String, &'static str)>,
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
    /// The pass backend's store, program and prefix.
    pub pass_dir: Option<PathBuf>,
    pub pass_cmd: Option<String>,
    pub pass_prefix: Option<String>,
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
    /// `BROKER_TEST_SYSTEM_POLICY`: the system policy file, instead of the system's own (see
    /// [`crate::policy::system`]).
    system_policy: Option<PathBuf>,
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
            proxy: ProxyVars::read(&read),
            broker: BrokerVars::read(&read),
            shell,
            ignored_shell,
            browser: read.get("BROWSER"),
            dbus_session: vars.iter().any(|(k, _)| k == "DBUS_SESSION_BUS_ADDRESS"),
            password_store_dir: read.path("PASSWORD_STORE_DIR"),
            prompt: PromptVars {
                profile: read.get("BROKER_PROFILE").or_else(|| read.get("AWS_VAULT")),
                expiration: read
                    .get("AWS_CREDENTIAL_EXPIRATION")
                    .or_else(|| read.get("AWS_SESSION_EXPIRATION")),
            },
            aws_vault: AwsVaultVars::read(&read),
            ignored_aws_vault_vars: IGNORED_AWS_VAULT_VARS
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
            computer_name: read.get("COMPUTERNAME"),
            dirs: Dirs::read(&read, platform),
            inherited: Inherited(
                vars.into_iter()
                    .filter(|(k, _)| !SECRET_VARS.iter().any(|s| same_name(k, s)))
                    .collect(),
            ),
            home,
        }
    }

    /// The inherited variables without broker's secrets.
    pub fn inherited(&self) -> &[(OsString, OsString)] {
        &self.inherited.0
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

    /// The system policy file the test suite uses instead of the system's (a `test-hooks`
    /// build only: nothing in a user's build can move or disable the system policy).
    pub fn test_system_policy(&self) -> Option<&std::path::Path> {
        #[cfg(feature = "test-hooks")]
        return self.broker.test_hooks.system_policy.as_deref();
        #[cfg(not(feature = "test-hooks"))]
        None
    }

    /// This machine's name, for the context of `approve_command` and `notify_command`: the
    /// host name on Unix, `COMPUTERNAME` on Windows.
    pub fn host_name(&self) -> String {
        host_name(self.computer_name.as_deref()).unwrap_or_default()
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

/// The inherited variables. `Debug` shows their names only: a value may hold a secret that is
/// the user's to pass on (a proxy's password in `HTTPS_PROXY`).
#[derive(Default)]
struct Inherited(Vec<(OsString, OsString)>);

impl std::fmt::Debug for Inherited {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(k, _)| k))
            .finish()
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

    /// Set, even to nothing (for the proxy variables, where an empty value means something).
    fn raw(&self, name: &str) -> Option<String> {
        self.vars
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.to_str())
            .map(str::to_owned)
    }

    /// A boolean as botocore reads one: `true` in any case is true, anything else false;
    /// `None` when unset.
    fn boolean(&self, name: &str) -> Option<bool> {
        self.get(name).map(|v| v.eq_ignore_ascii_case("true"))
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

impl AwsVaultVars {
    fn read(vars: &Vars<'_>) -> AwsVaultVars {
        let duration = |name: &'static str| {
            vars.get(name)
                .map(|text| crate::duration::parse_go(&text).map_err(|e| e.at(name)))
        };
        AwsVaultVars {
            backend: vars.get("AWS_VAULT_BACKEND"),
            file_dir: vars.path("AWS_VAULT_FILE_DIR"),
            file_passphrase: vars
                .get("AWS_VAULT_FILE_PASSPHRASE")
                .map(SecretString::from),
            prompt: vars.get("AWS_VAULT_PROMPT"),
            keychain_name: vars.get("AWS_VAULT_KEYCHAIN_NAME"),
            pass_dir: vars.path("AWS_VAULT_PASS_PASSWORD_STORE_DIR"),
            pass_cmd: vars.get("AWS_VAULT_PASS_CMD"),
            pass_prefix: vars.get("AWS_VAULT_PASS_PREFIX"),
            secret_service_collection: vars.get("AWS_VAULT_SECRET_SERVICE_COLLECTION_NAME"),
            mfa_serial: vars.get("AWS_MFA_SERIAL"),
            session_token_ttl: duration("AWS_SESSION_TOKEN_TTL"),
            chained_session_token_ttl: duration("AWS_CHAINED_SESSION_TOKEN_TTL"),
            assume_role_ttl: duration("AWS_ASSUME_ROLE_TTL"),
            federation_token_ttl: duration("AWS_FEDERATION_TOKEN_TTL"),
            min_ttl: duration("AWS_MIN_TTL"),
        }
    }
}

impl AwsVars {
    /// The profile named by the environment, as botocore picks it: `AWS_DEFAULT_PROFILE`, else
    /// `AWS_PROFILE`.
    pub fn named_profile(&self) -> Option<&String> {
        self.default_profile.as_ref().or(self.profile.as_ref())
    }

    fn read(vars: &Vars<'_>) -> AwsVars {
        AwsVars {
            profile: vars.get("AWS_PROFILE"),
            default_profile: vars.get("AWS_DEFAULT_PROFILE"),
            config_file: vars.path("AWS_CONFIG_FILE"),
            shared_credentials_file: vars.path("AWS_SHARED_CREDENTIALS_FILE"),
            region: vars.get("AWS_REGION"),
            default_region: vars.get("AWS_DEFAULT_REGION"),
            endpoint_url: vars.get("AWS_ENDPOINT_URL"),
            endpoint_url_sts: vars.get("AWS_ENDPOINT_URL_STS"),
            endpoint_url_iam: vars.get("AWS_ENDPOINT_URL_IAM"),
            endpoint_url_sso: vars.get("AWS_ENDPOINT_URL_SSO"),
            endpoint_url_sso_oidc: vars.get("AWS_ENDPOINT_URL_SSO_OIDC"),
            ignore_configured_endpoint_urls: vars.boolean("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"),
            use_fips_endpoint: vars.boolean("AWS_USE_FIPS_ENDPOINT"),
            use_dualstack_endpoint: vars.boolean("AWS_USE_DUALSTACK_ENDPOINT"),
            ca_bundle: vars.path("AWS_CA_BUNDLE"),
            requests_ca_bundle: vars.path("REQUESTS_CA_BUNDLE"),
            max_attempts: vars.get("AWS_MAX_ATTEMPTS"),
            retry_mode: vars.get("AWS_RETRY_MODE"),
            access_key_id: vars.get("AWS_ACCESS_KEY_ID"),
            secret_access_key: vars.get("AWS_SECRET_ACCESS_KEY").map(SecretString::from),
            session_token_set: vars.get("AWS_SESSION_TOKEN").is_some(),
        }
    }
}

impl ProxyVars {
    fn read(vars: &Vars<'_>) -> ProxyVars {
        let cgi = vars.raw("REQUEST_METHOD").is_some();
        let pick = |lower: &'static str, upper: &'static str| match vars.raw(lower) {
            Some(value) if value.is_empty() => None,
            Some(value) => Some((value, lower)),
            None if cgi && upper == "HTTP_PROXY" => None,
            None => vars.get(upper).map(|value| (value, upper)),
        };
        let secret = |(value, name): (String, &'static str)| (SecretString::from(value), name);
        ProxyVars {
            https: pick("https_proxy", "HTTPS_PROXY").map(secret),
            http: pick("http_proxy", "HTTP_PROXY").map(secret),
            no_proxy: pick("no_proxy", "NO_PROXY"),
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
            pass_dir: vars.path("BROKER_PASS_DIR"),
            pass_cmd: vars.get("BROKER_PASS_CMD"),
            pass_prefix: vars.get("BROKER_PASS_PREFIX"),
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
                system_policy: vars.absolute("BROKER_TEST_SYSTEM_POLICY"),
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

#[cfg(unix)]
fn host_name(_computer_name: Option<&str>) -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most `buf.len()` bytes into our buffer.
    if unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } != 0 {
        return None;
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8(buf[..end].to_vec()).ok()
}

#[cfg(not(unix))]
fn host_name(computer_name: Option<&str>) -> Option<String> {
    computer_name.map(str::to_owned)
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
    fn aws_vault_variables_are_read_apart_from_brokers() {
        let env = Environment::from_pairs(&[
            ("AWS_ASSUME_ROLE_TTL", "2h"),
            ("AWS_MIN_TTL", "soon"),
            ("AWS_VAULT_BACKEND", "file"),
            ("AWS_VAULT_FILE_PASSPHRASE", "s3cret"),
            ("AWS_MFA_SERIAL", ""),
            ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/x"),
        ]);
        assert_eq!(env.aws_vault.backend.as_deref(), Some("file"));
        assert_eq!(env.broker.backend, None);
        assert_eq!(env.aws_vault.mfa_serial, None, "empty is unset");
        assert_eq!(
            env.aws_vault.assume_role_ttl,
            Some(Ok(std::time::Duration::from_secs(7200)))
        );
        let Some(Err(e)) = &env.aws_vault.min_ttl else {
            panic!("AWS_MIN_TTL=soon was taken");
        };
        assert!(e.to_string().contains("for AWS_MIN_TTL"), "{e}");
        let names: Vec<_> = env.ignored_aws_vault_vars.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["AWS_ROLE_ARN"]);
        assert!(!env
            .inherited()
            .iter()
            .any(|(k, _)| k == "AWS_VAULT_FILE_PASSPHRASE"));
        assert!(!format!("{env:?}").contains("s3cret"));
    }
}

/// Every variable broker reads, all of them here, with what it does: the ENVIRONMENT section
/// of `man broker` is made from this list, and a test checks it names exactly the variables
/// this file reads (the test build's `BROKER_TEST_*` hooks aside).
pub const VARIABLES: &[(&str, &str)] = &[
    (
        "AWS_PROFILE",
        "the profile when none is named (AWS_DEFAULT_PROFILE wins, as in botocore)",
    ),
    ("AWS_DEFAULT_PROFILE", "the profile when none is named"),
    ("AWS_CONFIG_FILE", "the AWS config (default ~/.aws/config)"),
    (
        "AWS_SHARED_CREDENTIALS_FILE",
        "the AWS credentials file (default ~/.aws/credentials)",
    ),
    (
        "AWS_REGION",
        "the region, before AWS_DEFAULT_REGION and the profile's",
    ),
    ("AWS_DEFAULT_REGION", "the region, after AWS_REGION"),
    (
        "AWS_ENDPOINT_URL",
        "every service's endpoint (after the per-service variables)",
    ),
    ("AWS_ENDPOINT_URL_STS", "STS's endpoint"),
    ("AWS_ENDPOINT_URL_IAM", "IAM's endpoint (rotate)"),
    (
        "AWS_ENDPOINT_URL_SSO",
        "the IAM Identity Center portal's endpoint",
    ),
    (
        "AWS_ENDPOINT_URL_SSO_OIDC",
        "IAM Identity Center's OIDC endpoint",
    ),
    (
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
        "ignore every configured endpoint URL",
    ),
    ("AWS_USE_FIPS_ENDPOINT", "use AWS's FIPS endpoints"),
    (
        "AWS_USE_DUALSTACK_ENDPOINT",
        "use AWS's dual-stack endpoints",
    ),
    (
        "AWS_MAX_ATTEMPTS",
        "attempts per AWS call, the first included",
    ),
    (
        "AWS_RETRY_MODE",
        "standard or adaptive retries (legacy is standard)",
    ),
    (
        "AWS_CA_BUNDLE",
        "PEM certificates to trust beside the system's",
    ),
    (
        "REQUESTS_CA_BUNDLE",
        "read only to say, under -v, that broker uses AWS_CA_BUNDLE",
    ),
    ("HTTPS_PROXY", "the proxy for HTTPS (also https_proxy)"),
    ("HTTP_PROXY", "the proxy for HTTP (also http_proxy)"),
    (
        "NO_PROXY",
        "hosts reached without the proxy (also no_proxy)",
    ),
    (
        "REQUEST_METHOD",
        "set by a CGI server: HTTP_PROXY is then ignored (httpoxy)",
    ),
    ("AWS_ACCESS_KEY_ID", "add --env: the key id to store"),
    ("AWS_SECRET_ACCESS_KEY", "add --env: the secret to store"),
    (
        "AWS_SESSION_TOKEN",
        "add --env refuses temporary credentials",
    ),
    (
        "AWS_CREDENTIAL_EXPIRATION",
        "prompt: when this shell's credentials expire",
    ),
    (
        "AWS_SESSION_EXPIRATION",
        "prompt: when this shell's credentials expire (aws-vault's name)",
    ),
    (
        "AWS_VAULT",
        "the profile a parent broker or aws-vault set (prompt, role switches)",
    ),
    (
        "BROKER_PROFILE",
        "the profile a parent broker set (prompt, role switches)",
    ),
    (
        "BROKER_REGION",
        "the region a parent broker set (role switches)",
    ),
    ("BROKER_BACKEND", "the vault backend (as --backend)"),
    ("BROKER_CONFIG", "broker's settings file (as --config)"),
    ("BROKER_FILE_DIR", "the file vault's directory"),
    (
        "BROKER_FILE_PASSPHRASE",
        "the file vault's passphrase (never passed to a child)",
    ),
    (
        "BROKER_FILE_PASSPHRASE_FILE",
        "a file holding the file vault's passphrase",
    ),
    ("BROKER_PASS_DIR", "the pass backend's password store"),
    ("BROKER_PASS_CMD", "the pass backend's program"),
    (
        "BROKER_PASS_PREFIX",
        "the folder of broker's items in the password store",
    ),
    (
        "PASSWORD_STORE_DIR",
        "the password store, after BROKER_PASS_DIR",
    ),
    (
        "BROKER_STS_TIMEOUT",
        "how long one STS, IAM or SSO call may take (default 20s)",
    ),
    (
        "BROKER_FEDERATION_URL",
        "the console federation endpoint of login",
    ),
    (
        "BROKER_TRACE_TIMING",
        "print the time of each phase on stderr (for the benchmark)",
    ),
    (
        "AWS_VAULT_BACKEND",
        "aws-vault's: the backend, after BROKER_BACKEND",
    ),
    (
        "AWS_VAULT_FILE_DIR",
        "aws-vault's: the file vault's directory, after BROKER_FILE_DIR",
    ),
    (
        "AWS_VAULT_FILE_PASSPHRASE",
        "aws-vault's: the file vault's passphrase (never passed on)",
    ),
    ("AWS_VAULT_PROMPT", "aws-vault's: the MFA prompt"),
    (
        "AWS_VAULT_KEYCHAIN_NAME",
        "aws-vault's: the keychain import --from-aws-vault reads",
    ),
    (
        "AWS_VAULT_SECRET_SERVICE_COLLECTION_NAME",
        "aws-vault's: the collection import --from-aws-vault reads",
    ),
    (
        "AWS_VAULT_PASS_PASSWORD_STORE_DIR",
        "aws-vault's: the password store",
    ),
    ("AWS_VAULT_PASS_CMD", "aws-vault's: the pass program"),
    (
        "AWS_VAULT_PASS_PREFIX",
        "aws-vault's: the folder of items in the password store",
    ),
    (
        "AWS_VAULT_BIOMETRICS",
        "aws-vault's: not honoured (-v says so)",
    ),
    (
        "AWS_SESSION_TOKEN_TTL",
        "aws-vault's: the session token's duration",
    ),
    (
        "AWS_CHAINED_SESSION_TOKEN_TTL",
        "aws-vault's: the MFA session's duration under roles",
    ),
    ("AWS_ASSUME_ROLE_TTL", "aws-vault's: every role's duration"),
    (
        "AWS_FEDERATION_TOKEN_TTL",
        "aws-vault's: login's duration for IAM users",
    ),
    ("AWS_MIN_TTL", "aws-vault's: the least time left handed out"),
    (
        "AWS_MFA_SERIAL",
        "aws-vault's: the MFA device of the profile asked for",
    ),
    ("AWS_ROLE_ARN", "aws-vault's: not honoured (-v says so)"),
    (
        "AWS_ROLE_SESSION_NAME",
        "aws-vault's: not honoured (-v says so)",
    ),
    ("AWS_SESSION_TAGS", "aws-vault's: not honoured (-v says so)"),
    (
        "AWS_TRANSITIVE_TAGS",
        "aws-vault's: not honoured (-v says so)",
    ),
    (
        "AWS_SOURCE_IDENTITY",
        "aws-vault's: not honoured (-v says so)",
    ),
    (
        "BROWSER",
        "the program that opens pages (login, SSO sign-in)",
    ),
    (
        "SHELL",
        "exec's default command, and doctor's completions check",
    ),
    ("COMSPEC", "exec's default command on Windows"),
    ("HOME", "the home directory"),
    ("USER", "the default role session name"),
    ("LOGNAME", "the default role session name, after USER"),
    ("USERNAME", "the default role session name on Windows"),
    (
        "COMPUTERNAME",
        "the machine's name on Windows (approvers' BROKER_HOST)",
    ),
    (
        "XDG_CONFIG_HOME",
        "where config.toml is (default ~/.config)",
    ),
    (
        "XDG_DATA_HOME",
        "where the file vault is (default ~/.local/share)",
    ),
    (
        "XDG_STATE_HOME",
        "where the audit log is (default ~/.local/state)",
    ),
    (
        "XDG_CACHE_HOME",
        "where the session cache is (default ~/.cache)",
    ),
    (
        "XDG_RUNTIME_DIR",
        "where private pages for the browser are made",
    ),
    (
        "DBUS_SESSION_BUS_ADDRESS",
        "the D-Bus session of the Secret Service",
    ),
    ("COLUMNS", "the width of tables"),
    ("TERM", "TERM=dumb turns colour off"),
    ("NO_COLOR", "turns colour off"),
    ("CLICOLOR", "CLICOLOR=0 turns colour off"),
    ("CLICOLOR_FORCE", "turns colour on off a terminal too"),
    (
        "COMPLETE",
        "set by the completion scripts: broker answers a completion request",
    ),
];

#[cfg(test)]
mod variables_tests {
    /// Every `"NAME"` this file reads is in [`super::VARIABLES`], and nothing else is.
    #[test]
    fn the_list_names_exactly_the_variables_read_here() {
        let source = include_str!("environment.rs");
        let code = &source[..source.find("pub const VARIABLES").unwrap()];
        let mut read: Vec<&str> = code
            .split('"')
            .skip(1)
            .step_by(2)
            .filter(|s| {
                s.len() > 2
                    && s.bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
                    && s.as_bytes()[0].is_ascii_uppercase()
                    && !s.starts_with("BROKER_TEST_")
            })
            .collect();
        read.sort_unstable();
        read.dedup();
        let mut listed: Vec<&str> = super::VARIABLES.iter().map(|(name, _)| *name).collect();
        listed.sort_unstable();
        assert_eq!(read, listed);
    }

    #[test]
    fn a_posix_shell_is_passed_over_for_comspec_on_windows_only() {
        use super::default_shell;
        use std::ffi::OsString;
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
