//! Resolution of the global settings: flags beat environment, environment beats config.toml,
//! config.toml beats the platform defaults. Commands receive a [`Context`], never clap types.

use std::path::PathBuf;

use secrecy::SecretString;

use crate::error::{Error, Result};
use crate::settings::Settings;
use crate::vault::{BackendKind, Vault, VaultSpec};

/// The global options, as given on the command line.
#[derive(Debug, Default)]
pub struct GlobalOptions {
    pub backend: Option<BackendKind>,
    pub config: Option<PathBuf>,
}

pub struct Context {
    pub settings: Settings,
    pub config_path: PathBuf,
    pub backend: Option<BackendKind>,
    pub file_dir: PathBuf,
}

impl Context {
    pub fn resolve(opts: GlobalOptions) -> Result<Context> {
        let explicit = opts.config.or_else(|| env_path("BROKER_CONFIG"));
        let must_exist = explicit.is_some();
        let config_path = explicit.unwrap_or_else(default_config_path);
        let settings = Settings::load(&config_path, must_exist).map_err(|e| {
            Error::new(e.to_string()).with_hint("fix the file, or see the README for every key")
        })?;
        let backend = match opts.backend {
            Some(b) => Some(b),
            None => match std::env::var("BROKER_BACKEND") {
                Ok(name) if !name.is_empty() => Some(parse_backend(&name)?),
                _ => settings.backend,
            },
        };
        let file_dir = env_path("BROKER_FILE_DIR")
            .or_else(|| settings.file_dir.as_ref().map(|d| expand_tilde(d)))
            .unwrap_or_else(|| data_dir().join("broker").join("vault"));
        Ok(Context {
            settings,
            config_path,
            backend,
            file_dir,
        })
    }

    /// The vault chosen by `--backend`, `BROKER_BACKEND`, `backend =`, or the default.
    pub fn vault_spec(&self) -> VaultSpec {
        VaultSpec {
            kind: self.backend,
            file_dir: self.file_dir.clone(),
            passphrase: std::env::var("BROKER_FILE_PASSPHRASE")
                .ok()
                .map(SecretString::from),
        }
    }

    /// Opens the vault.
    pub fn vault(&self) -> Result<Box<dyn Vault>> {
        self.vault_spec().open().map_err(Error::from)
    }

    /// The session cache.
    pub fn cache(&self) -> crate::cache::Cache {
        crate::cache::Cache::new(
            cache_dir().join("broker").join("sessions"),
            self.vault_spec(),
        )
    }

    /// The audit log: `[audit] path`, else `$XDG_STATE_HOME/broker/audit.jsonl`.
    pub fn audit_log(&self) -> crate::audit::AuditLog {
        let path = match &self.settings.audit.path {
            Some(p) => expand_tilde(p),
            None => state_dir().join("broker").join("audit.jsonl"),
        };
        crate::audit::AuditLog { path }
    }

    /// The engine's options from the settings, for one request.
    pub fn engine_options(
        &self,
        refresh: bool,
        mfa_token: Option<SecretString>,
        tags: Vec<(String, String)>,
    ) -> crate::engine::Options {
        let session = &self.settings.session;
        crate::engine::Options {
            refresh,
            mfa_token,
            mfa_prompt: self.settings.mfa.prompt.unwrap_or_default(),
            mfa_process_timeout: self
                .settings
                .mfa
                .process_timeout
                .unwrap_or(crate::mfa::DEFAULT_PROCESS_TIMEOUT),
            // Credentials with less than this left are not handed out if a refresh can do better.
            min_ttl: session
                .min_ttl
                .unwrap_or(std::time::Duration::from_secs(15 * 60)),
            tags,
        }
    }
}

fn parse_backend(name: &str) -> Result<BackendKind> {
    use clap::ValueEnum;
    BackendKind::from_str(name, true).map_err(|_| {
        Error::new(format!(
            "BROKER_BACKEND names an unknown backend `{}`",
            crate::error::escape_control(name)
        ))
        .with_hint("use one of: secret-service, keychain, wincred, keyutils, file")
    })
}

fn env_path(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(|v| crate::profiles::expand_home(PathBuf::from(v)))
}

/// `~/x` → `$HOME/x`, for paths written in config.toml.
pub fn expand_tilde(path: &str) -> PathBuf {
    crate::profiles::expand_home(PathBuf::from(path))
}

/// `$XDG_CONFIG_HOME/broker/config.toml`, with the platform's config dir as the fallback.
fn default_config_path() -> PathBuf {
    xdg_dir("XDG_CONFIG_HOME", dirs::config_dir, ".config")
        .join("broker")
        .join("config.toml")
}

/// `$XDG_DATA_HOME`, else the platform's local data dir (on Windows `%LOCALAPPDATA%`, not the
/// roaming `%APPDATA%`: a file vault holds long-term keys and stays on its machine).
fn data_dir() -> PathBuf {
    xdg_dir("XDG_DATA_HOME", dirs::data_local_dir, ".local/share")
}

/// `$XDG_STATE_HOME`, else `~/.local/state` on Linux and the local data dir elsewhere (macOS
/// and Windows have no state dir of their own).
pub fn state_dir() -> PathBuf {
    xdg_dir(
        "XDG_STATE_HOME",
        || dirs::state_dir().or_else(dirs::data_local_dir),
        ".local/state",
    )
}

/// `$XDG_CACHE_HOME`, else the platform cache dir.
pub fn cache_dir() -> PathBuf {
    xdg_dir("XDG_CACHE_HOME", dirs::cache_dir, ".cache")
}

fn xdg_dir(var: &str, platform: fn() -> Option<PathBuf>, under_home: &str) -> PathBuf {
    env_path(var)
        .filter(|p| p.is_absolute())
        .or_else(platform)
        .or_else(|| dirs::home_dir().map(|h| h.join(under_home)))
        .unwrap_or_else(|| PathBuf::from(under_home))
}
