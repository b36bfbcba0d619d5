//! Resolution of the global settings: flags beat environment, environment beats config.toml,
//! config.toml beats the platform defaults. Commands receive a [`Context`], never clap types.

use std::path::PathBuf;
use std::time::Duration;

use crate::audit::shipping::{Shipping, Syslog};
use crate::audit::AuditLog;
use crate::cache::Cache;
use crate::environment::Environment;
use crate::error::{Error, Result};
use crate::settings::Settings;
use crate::vault::{BackendKind, Passphrase, Vault, VaultSpec};

/// Credentials with less than this left are not handed out if a refresh can do better.
const DEFAULT_MIN_TTL: Duration = Duration::from_secs(15 * 60);

/// The global options, as given on the command line.
#[derive(Debug, Default)]
pub struct GlobalOptions {
    pub backend: Option<BackendKind>,
    pub config: Option<PathBuf>,
}

/// Every global value, settled once before a command runs: nothing below reads the process
/// environment, and nothing changes a value once it is here.
pub struct Context {
    pub env: Environment,
    pub settings: Settings,
    /// broker's settings file, read or not.
    pub settings_path: PathBuf,
    /// The vault: `--backend`, `BROKER_BACKEND`, `backend =`, or the platform's default; where
    /// the file vault lives and where its passphrase comes from.
    pub vault: VaultSpec,
    /// The audit log, and where its records are shipped.
    pub audit: AuditLog,
    /// broker's cache: `$XDG_CACHE_HOME/broker`.
    pub cache_dir: PathBuf,
    /// How long one STS, IAM or SSO call may take: `BROKER_STS_TIMEOUT`, else 20 s.
    pub sts_timeout: Duration,
}

impl Context {
    pub fn resolve(opts: GlobalOptions, env: Environment) -> Result<Context> {
        for (name, instead) in &env.ignored_aws_vault_vars {
            crate::output::verbose(format!(
                "ignoring {name} (aws-vault's); broker reads {instead}"
            ));
        }
        match Context::resolve_lenient(opts, env) {
            (ctx, None) => Ok(ctx),
            (_, Some(e)) => Err(e),
        }
    }

    /// As [`Context::resolve`], but broken settings (config.toml, `BROKER_BACKEND`,
    /// `BROKER_STS_TIMEOUT`) give the defaults and the first error beside them, for `doctor`,
    /// which reports them and goes on.
    pub fn resolve_lenient(opts: GlobalOptions, env: Environment) -> (Context, Option<Error>) {
        let explicit = opts.config.or_else(|| env.broker.config.clone());
        let must_exist = explicit.is_some();
        let config_path =
            explicit.unwrap_or_else(|| env.config_dir().join("broker").join("config.toml"));
        let mut error = None;
        let settings = Settings::load(&config_path, must_exist).unwrap_or_else(|e| {
            error = Some(Error::from(e));
            Settings::default()
        });
        let kind = match (opts.backend, &env.broker.backend) {
            (Some(b), _) => Some(b),
            (None, Some(name)) => BackendKind::from_name(name).or_else(|| {
                error.get_or_insert_with(|| {
                    Error::new(format!("BROKER_BACKEND names an unknown backend `{name}`"))
                        .with_hint("use one of: secret-service, keychain, wincred, keyutils, file")
                });
                None
            }),
            (None, None) => settings.backend,
        };
        let sts_timeout = sts_timeout(&env).unwrap_or_else(|e| {
            error.get_or_insert(e);
            crate::aws::DEFAULT_CALL_TIMEOUT
        });
        let vault = VaultSpec {
            kind,
            file_dir: env
                .broker
                .file_dir
                .clone()
                .or_else(|| settings.file_dir.as_ref().map(|d| env.expand_home(d)))
                .unwrap_or_else(|| env.data_dir().join("broker").join("vault")),
            passphrase: passphrase_source(&env, &settings),
            dbus_session: env.dbus_session,
        };
        let ctx = Context {
            audit: audit_log(&env, &settings),
            cache_dir: env.cache_dir().join("broker"),
            vault,
            sts_timeout,
            env,
            settings,
            settings_path: config_path,
        };
        (ctx, error)
    }

    /// Opens the vault.
    pub fn vault(&self) -> Result<Box<dyn Vault>> {
        Ok(self.vault.open()?)
    }

    /// The session cache.
    pub fn cache(&self) -> Cache {
        Cache::new(self.cache_dir.clone(), self.vault.clone())
    }

    /// Takes a lock of broker's own, `$XDG_CACHE_HOME/broker/locks/NAME.lock`, for a
    /// read-modify-write of shared state outside the cache (the AWS files); held until the
    /// file is dropped. Its directories are checked before the lock file is made in them.
    pub fn lock(&self, name: &str) -> Result<std::fs::File> {
        let dir = self.cache_dir.join("locks");
        let path = dir.join(format!("{name}.lock"));
        crate::fsutil::private_dir_under(&self.cache_dir, &dir)
            .and_then(|()| crate::fsutil::lock(&path))
            .map_err(|e| Error::with_source(format!("cannot lock {}", path.display()), e))
    }

    /// How an SSO sign-in is made.
    pub fn sso_sign_in(&self, flow: crate::sso::Flow, open_browser: bool) -> crate::sso::SignIn {
        crate::sso::SignIn {
            flow,
            open_browser,
            browser: std::sync::Arc::new(crate::browser::Browser::new(&self.env)),
        }
    }

    /// The engine's options: the settings, with what one request asks (`--refresh`, a code
    /// given with `--mfa-token`, the session tags).
    pub fn engine_options(
        &self,
        refresh: bool,
        mfa_token: crate::mfa::GivenCode,
        tags: Vec<(String, String)>,
    ) -> crate::engine::Options {
        let settings = &self.settings;
        crate::engine::Options {
            refresh,
            mfa_token,
            mfa_prompt: settings.mfa.prompt.unwrap_or_default(),
            mfa_process_timeout: settings
                .mfa
                .process_timeout
                .unwrap_or(crate::mfa::DEFAULT_PROCESS_TIMEOUT),
            credential_process_timeout: settings
                .credential_process
                .timeout
                .filter(|t| !t.is_zero())
                .unwrap_or(crate::process::DEFAULT_CREDENTIAL_PROCESS_TIMEOUT),
            min_ttl: settings.session.min_ttl.unwrap_or(DEFAULT_MIN_TTL),
            sts_timeout: self.sts_timeout,
            defer_advisory_refresh: false,
            tags,
            sso: self.sso_sign_in(crate::sso::Flow::default(), true),
        }
    }
}

/// `BROKER_STS_TIMEOUT`, else 20 s; a value that is not a duration (or is zero) is an error.
fn sts_timeout(env: &Environment) -> Result<Duration> {
    let Some(text) = env.broker.sts_timeout.as_deref() else {
        return Ok(crate::aws::DEFAULT_CALL_TIMEOUT);
    };
    match crate::duration::parse(text) {
        Ok(t) if !t.is_zero() => Ok(t),
        Ok(_) => Err(Error::new("BROKER_STS_TIMEOUT is zero")
            .with_hint("give a duration such as 20s or 1m, or unset it for the default 20s")),
        Err(e) => Err(Error::with_source(
            format!("BROKER_STS_TIMEOUT `{text}` is not a duration"),
            e,
        )
        .with_hint("give a duration such as 20s or 1m, or unset it for the default 20s")),
    }
}

/// Where the file vault's passphrase comes from: `BROKER_FILE_PASSPHRASE`, then
/// `BROKER_FILE_PASSPHRASE_FILE`, then `[file] passphrase_command`, then the terminal.
fn passphrase_source(env: &Environment, settings: &Settings) -> Passphrase {
    if let Some(p) = &env.broker.file_passphrase {
        return Passphrase::Given(p.clone());
    }
    if let Some(path) = &env.broker.file_passphrase_file {
        return Passphrase::File(path.clone());
    }
    match &settings.file.passphrase_command {
        Some(command) if !command.trim().is_empty() => Passphrase::Command(command.clone()),
        _ => Passphrase::Prompt,
    }
}

/// The audit log: `[audit] path`, else `$XDG_STATE_HOME/broker/audit.jsonl`, and where its
/// records are shipped (`[audit] syslog`, `command`, `command_timeout`).
fn audit_log(env: &Environment, settings: &Settings) -> AuditLog {
    let audit = &settings.audit;
    let (path, own_dir) = match &audit.path {
        Some(p) => (env.expand_home(p), false),
        None => (env.state_dir().join("broker").join("audit.jsonl"), true),
    };
    let syslog = match (audit.syslog, env.test_syslog_socket()) {
        (false, _) => Syslog::Off,
        (true, Some(socket)) => Syslog::Socket(socket.to_owned()),
        (true, None) => crate::audit::shipping::default_socket()
            .map(Syslog::Socket)
            .unwrap_or(Syslog::Unsupported),
    };
    AuditLog {
        path,
        own_dir,
        shipping: Shipping {
            syslog,
            helper: (!audit.command.is_empty())
                .then(|| env.current_exe())
                .flatten(),
            command: audit.command.clone(),
            command_timeout: audit
                .command_timeout
                .filter(|t| !t.is_zero())
                .unwrap_or(crate::audit::shipping::DEFAULT_COMMAND_TIMEOUT),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(pairs: &[(&str, &str)]) -> Result<Context> {
        let mut all = vec![("HOME", "/nonexistent-home")];
        all.extend_from_slice(pairs);
        Context::resolve(GlobalOptions::default(), Environment::from_pairs(&all))
    }

    #[test]
    fn values_are_settled_once_and_a_bad_one_fails_there() {
        let ctx = resolve(&[("BROKER_STS_TIMEOUT", "5s")]).unwrap();
        assert_eq!(ctx.sts_timeout, Duration::from_secs(5));
        assert_eq!(
            ctx.cache_dir,
            PathBuf::from("/nonexistent-home/.cache/broker")
        );
        assert_eq!(
            ctx.audit.path,
            PathBuf::from("/nonexistent-home/.local/state/broker/audit.jsonl")
        );
        let default = resolve(&[]).unwrap();
        assert_eq!(default.sts_timeout, crate::aws::DEFAULT_CALL_TIMEOUT);
        for (bad, says) in [
            ("soon", "BROKER_STS_TIMEOUT `soon` is not a duration"),
            ("0s", "BROKER_STS_TIMEOUT is zero"),
        ] {
            let Err(e) = resolve(&[("BROKER_STS_TIMEOUT", bad)]) else {
                panic!("{bad} was taken");
            };
            assert!(e.message().starts_with(says), "{}", e.message());
        }
    }
}
