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

pub struct Context {
    pub env: Environment,
    pub settings: Settings,
    pub backend: Option<BackendKind>,
    pub file_dir: PathBuf,
    /// broker's settings file, read or not.
    pub settings_path: PathBuf,
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

    /// As [`Context::resolve`], but broken settings (config.toml, `BROKER_BACKEND`) give the
    /// defaults and the error beside them, for `doctor`, which reports them and goes on.
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
        let backend = match (opts.backend, &env.broker.backend) {
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
        let file_dir = env
            .broker
            .file_dir
            .clone()
            .or_else(|| settings.file_dir.as_ref().map(|d| env.expand_home(d)))
            .unwrap_or_else(|| env.data_dir().join("broker").join("vault"));
        let ctx = Context {
            env,
            settings,
            backend,
            file_dir,
            settings_path: config_path,
        };
        (ctx, error)
    }

    /// The vault chosen by `--backend`, `BROKER_BACKEND`, `backend =`, or the default.
    pub fn vault_spec(&self) -> VaultSpec {
        VaultSpec {
            kind: self.backend,
            file_dir: self.file_dir.clone(),
            passphrase: self.passphrase_source(),
            dbus_session: self.env.dbus_session,
        }
    }

    /// Where the file vault's passphrase comes from: `BROKER_FILE_PASSPHRASE`, then
    /// `BROKER_FILE_PASSPHRASE_FILE`, then `[file] passphrase_command`, then the terminal.
    fn passphrase_source(&self) -> Passphrase {
        if let Some(p) = &self.env.broker.file_passphrase {
            return Passphrase::Given(p.clone());
        }
        if let Some(path) = &self.env.broker.file_passphrase_file {
            return Passphrase::File(path.clone());
        }
        match &self.settings.file.passphrase_command {
            Some(command) if !command.trim().is_empty() => Passphrase::Command(command.clone()),
            _ => Passphrase::Prompt,
        }
    }

    /// Opens the vault.
    pub fn vault(&self) -> Result<Box<dyn Vault>> {
        Ok(self.vault_spec().open()?)
    }

    /// The session cache.
    pub fn cache(&self) -> Cache {
        Cache::new(self.env.cache_dir().join("broker"), self.vault_spec())
    }

    /// Takes a lock of broker's own, `$XDG_CACHE_HOME/broker/locks/NAME.lock`, for a
    /// read-modify-write of shared state outside the cache (the AWS files); held until the
    /// file is dropped. Its directories are checked before the lock file is made in them.
    pub fn lock(&self, name: &str) -> Result<std::fs::File> {
        let root = self.env.cache_dir().join("broker");
        let dir = root.join("locks");
        let path = dir.join(format!("{name}.lock"));
        crate::fsutil::private_dir_under(&root, &dir)
            .and_then(|()| crate::fsutil::lock(&path))
            .map_err(|e| Error::new(format!("cannot lock {}: {e}", path.display())))
    }

    /// The audit log: `[audit] path`, else `$XDG_STATE_HOME/broker/audit.jsonl`, and where its
    /// records are shipped (`[audit] syslog`, `command`, `command_timeout`).
    pub fn audit_log(&self) -> AuditLog {
        let audit = &self.settings.audit;
        let (path, own_dir) = match &audit.path {
            Some(p) => (self.env.expand_home(p), false),
            None => (
                self.env.state_dir().join("broker").join("audit.jsonl"),
                true,
            ),
        };
        let syslog = match (audit.syslog, self.env.test_syslog_socket()) {
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
                    .then(|| self.env.current_exe())
                    .flatten(),
                command: audit.command.clone(),
                command_timeout: audit
                    .command_timeout
                    .filter(|t| !t.is_zero())
                    .unwrap_or(crate::audit::shipping::DEFAULT_COMMAND_TIMEOUT),
            },
        }
    }

    /// How long one STS (or IAM) call may take: `BROKER_STS_TIMEOUT`, else 20 s.
    pub fn sts_timeout(&self) -> Duration {
        self.env
            .broker
            .sts_timeout
            .as_deref()
            .and_then(|t| crate::duration::parse(t).ok())
            .filter(|t| !t.is_zero())
            .unwrap_or(crate::aws::DEFAULT_CALL_TIMEOUT)
    }

    /// How an SSO sign-in is made.
    pub fn sso_sign_in(&self, flow: crate::sso::Flow, open_browser: bool) -> crate::sso::SignIn {
        crate::sso::SignIn {
            flow,
            open_browser,
            browser: std::sync::Arc::new(crate::browser::Browser::new(&self.env)),
        }
    }

    /// The engine's options from the settings, for one request.
    pub fn engine_options(
        &self,
        refresh: bool,
        mfa_token: crate::mfa::GivenCode,
        tags: Vec<(String, String)>,
    ) -> crate::engine::Options {
        crate::engine::Options {
            refresh,
            mfa_token,
            mfa_prompt: self.settings.mfa.prompt.unwrap_or_default(),
            mfa_process_timeout: self
                .settings
                .mfa
                .process_timeout
                .unwrap_or(crate::mfa::DEFAULT_PROCESS_TIMEOUT),
            credential_process_timeout: self
                .settings
                .credential_process
                .timeout
                .filter(|t| !t.is_zero())
                .unwrap_or(crate::process::DEFAULT_CREDENTIAL_PROCESS_TIMEOUT),
            min_ttl: self.settings.session.min_ttl.unwrap_or(DEFAULT_MIN_TTL),
            sts_timeout: self.sts_timeout(),
            defer_advisory_refresh: false,
            tags,
            sso: self.sso_sign_in(crate::sso::Flow::default(), true),
        }
    }
}
