//! Resolution of the global settings: flags beat environment, environment beats config.toml,
//! config.toml beats the platform defaults. Commands receive a [`Context`], never clap types.

use std::path::PathBuf;
use std::time::Duration;

use crate::audit::shipping::{Shipping, Syslog};
use crate::audit::AuditLog;
use crate::cache::Cache;
use crate::environment::Environment;
use crate::error::{Error, Result};
use crate::policy::Policy;
use crate::settings::{MfaPrompt, Settings};
use crate::vault::{BackendKind, PassSpec, Passphrase, Vault, VaultSpec};

/// Credentials with less than this left are not handed out if a refresh can do better.
const DEFAULT_MIN_TTL: Duration = Duration::from_secs(15 * 60);

/// The global options, as given on the command line.
#[derive(Debug, Default)]
pub struct GlobalOptions {
    pub backend: Option<BackendKind>,
    pub config: Option<PathBuf>,
    /// aws-vault's `--prompt DRIVER`.
    pub prompt: Option<String>,
    /// aws-vault's `--keychain NAME`.
    pub keychain: Option<String>,
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
    /// The policy rules: the system policy file's (a broken one refuses every issuing, not
    /// this resolution, so that the commands that only read still work) and config.toml's.
    pub policy: Policy,
    /// The MFA prompt: `--prompt`, `AWS_VAULT_PROMPT`, `[mfa] prompt`, else the terminal.
    pub mfa_prompt: MfaPrompt,
    /// Credentials with less left are refreshed: `AWS_MIN_TTL`, `[session] min_ttl`, else 15m.
    pub min_ttl: Duration,
    /// The duration of a plain IAM user's console session: `AWS_FEDERATION_TOKEN_TTL`.
    pub federation_duration: Option<Duration>,
    /// The macOS keychain aws-vault keeps its items in: `--keychain`,
    /// `AWS_VAULT_KEYCHAIN_NAME`, else `aws-vault`.
    pub aws_vault_keychain: String,
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
        let explicit = opts.config.clone().or_else(|| env.broker.config.clone());
        let must_exist = explicit.is_some();
        let config_path =
            explicit.unwrap_or_else(|| env.config_dir().join("broker").join("config.toml"));
        let mut error = None;
        let mut settings = Settings::load(&config_path, must_exist).unwrap_or_else(|e| {
            error = Some(Error::from(e));
            Settings::default()
        });
        let policy = Policy {
            system: crate::policy::system::load(&env),
            user: settings.take_rules(),
        };
        let mut fail = |e: Error| {
            error.get_or_insert(e);
        };
        let kind = backend(&opts, &env, &settings).unwrap_or_else(|e| {
            fail(e);
            None
        });
        let sts_timeout = sts_timeout(&env).unwrap_or_else(|e| {
            fail(e);
            crate::aws::DEFAULT_CALL_TIMEOUT
        });
        for (name, value) in env.aws_vault.durations() {
            match value {
                Some(Err(e)) => fail(
                    Error::new(e.to_string())
                        .with_hint("aws-vault's durations are Go's: 1h, 90m, 1h30m, 1.5h"),
                ),
                Some(Ok(d)) => crate::output::verbose(format!(
                    "{name}={} (aws-vault's) is honoured",
                    crate::duration::format(*d)
                )),
                None => {}
            }
        }
        if let Some(serial) = &env.aws_vault.mfa_serial {
            crate::output::verbose(format!(
                "AWS_MFA_SERIAL={serial} (aws-vault's) is honoured: the mfa_serial of the \
                 profile asked for, not of its sources"
            ));
        }
        let mfa_prompt = mfa_prompt(&opts, &env, &settings).unwrap_or_else(|e| {
            fail(e);
            MfaPrompt::default()
        });
        let aws_vault = &env.aws_vault;
        let vault = VaultSpec {
            kind,
            file_dir: first_of(
                "the file vault's directory",
                ("BROKER_FILE_DIR", env.broker.file_dir.clone()),
                ("AWS_VAULT_FILE_DIR", aws_vault.file_dir.clone()),
            )
            .or_else(|| settings.file_dir.as_ref().map(|d| env.expand_home(d)))
            .unwrap_or_else(|| env.data_dir().join("broker").join("vault")),
            passphrase: passphrase_source(&env, &settings),
            dbus_session: env.dbus_session,
            pass: pass_spec(&env),
        };
        let ctx = Context {
            audit: audit_log(&env, &settings),
            cache_dir: env.cache_dir().join("broker"),
            vault,
            sts_timeout,
            policy,
            mfa_prompt,
            min_ttl: aws_vault
                .min_ttl
                .as_ref()
                .and_then(|d| d.as_ref().ok().copied())
                .or(settings.session.min_ttl)
                .unwrap_or(DEFAULT_MIN_TTL),
            federation_duration: aws_vault
                .federation_token_ttl
                .as_ref()
                .and_then(|d| d.as_ref().ok().copied()),
            aws_vault_keychain: opts
                .keychain
                .clone()
                .or_else(|| aws_vault.keychain_name.clone())
                .unwrap_or_else(|| "aws-vault".into()),
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

    /// The network settings of a command without a profile of its own (doctor, `sso logout`,
    /// `sso login --sso-session`): those of the profile the environment names, else `default`.
    pub fn net_settings(&self, aws: &crate::profiles::AwsProfiles) -> crate::net::NetSettings {
        let profile = self
            .env
            .aws
            .named_profile()
            .map_or("default", String::as_str);
        crate::net::NetSettings::resolve(&self.env, aws, Some(profile))
    }

    /// How an SSO sign-in is made.
    pub fn sso_sign_in(&self, flow: crate::sso::Flow, open_browser: bool) -> crate::sso::SignIn {
        crate::sso::SignIn {
            flow,
            open_browser,
            browser: std::sync::Arc::new(crate::browser::Browser::new(&self.env)),
            barred: None,
        }
    }

    /// The engine's options: the settings, with what one request asks (`--refresh`, a code
    /// given with `--mfa-token`, the session tags, and whether its caller is `unattended`: a
    /// program that shows nothing of broker's stderr, for which no SSO sign-in starts without a
    /// terminal).
    pub fn engine_options(
        &self,
        refresh: bool,
        mfa_token: crate::mfa::GivenCode,
        tags: Vec<(String, String)>,
        unattended: bool,
    ) -> crate::engine::Options {
        let settings = &self.settings;
        crate::engine::Options {
            refresh,
            mfa_token,
            mfa_prompt: self.mfa_prompt,
            mfa_process_timeout: settings
                .mfa
                .process_timeout
                .unwrap_or(crate::mfa::DEFAULT_PROCESS_TIMEOUT),
            credential_process_timeout: settings
                .credential_process
                .timeout
                .filter(|t| !t.is_zero())
                .unwrap_or(crate::process::DEFAULT_CREDENTIAL_PROCESS_TIMEOUT),
            min_ttl: self.min_ttl,
            sts_timeout: self.sts_timeout,
            defer_advisory_refresh: false,
            tags,
            sso: crate::sso::SignIn {
                barred: (unattended && !crate::tty::present())
                    .then_some(crate::sso::Barred::NoTerminal),
                ..self.sso_sign_in(crate::sso::Flow::default(), true)
            },
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

/// The first of broker's variable and aws-vault's that is set; `-v` says which was used.
fn first_of<T>(
    what: &str,
    broker: (&'static str, Option<T>),
    aws_vault: (&'static str, Option<T>),
) -> Option<T> {
    let verbose = crate::output::verbose;
    match (broker.1, aws_vault.1) {
        (Some(b), Some(_)) => {
            verbose(format!(
                "{what} from {} ({}, aws-vault's, is set too and loses)",
                broker.0, aws_vault.0
            ));
            Some(b)
        }
        (Some(b), None) => Some(b),
        (None, Some(a)) => {
            verbose(format!(
                "{what} from {} (aws-vault's; {} is unset)",
                aws_vault.0, broker.0
            ));
            Some(a)
        }
        (None, None) => None,
    }
}

/// The backend: `--backend`, `BROKER_BACKEND`, `AWS_VAULT_BACKEND`, `backend =`, else the
/// platform's default (`None`). A name that is no backend is an error naming the variable.
fn backend(
    opts: &GlobalOptions,
    env: &Environment,
    settings: &Settings,
) -> Result<Option<BackendKind>> {
    if opts.backend.is_some() {
        return Ok(opts.backend);
    }
    let named = first_of(
        "the backend",
        (
            "BROKER_BACKEND",
            env.broker.backend.as_ref().map(|n| (true, n)),
        ),
        (
            "AWS_VAULT_BACKEND",
            env.aws_vault.backend.as_ref().map(|n| (false, n)),
        ),
    );
    match named {
        Some((true, name)) => BackendKind::from_name(name).map(Some).ok_or_else(|| {
            Error::new(format!("BROKER_BACKEND names an unknown backend `{name}`")).with_hint(
                format!(
                    "use one of: {}",
                    BackendKind::ALL.map(BackendKind::name).join(", ")
                ),
            )
        }),
        Some((false, name)) => crate::aws_vault::backend(name).map(Some).map_err(|why| {
            Error::new(format!("AWS_VAULT_BACKEND={name}: {why}"))
                .with_hint("set BROKER_BACKEND (it wins over AWS_VAULT_BACKEND) or unset it")
        }),
        None => Ok(settings.backend),
    }
}

/// The MFA prompt: `--prompt`, `AWS_VAULT_PROMPT`, `[mfa] prompt`, else the terminal. A driver
/// broker has not is an error naming where it was given.
fn mfa_prompt(opts: &GlobalOptions, env: &Environment, settings: &Settings) -> Result<MfaPrompt> {
    let given = match (&opts.prompt, &env.aws_vault.prompt) {
        (Some(flag), _) => Some(("--prompt", flag)),
        (None, Some(var)) => Some(("AWS_VAULT_PROMPT", var)),
        (None, None) => None,
    };
    let Some((place, name)) = given else {
        return Ok(settings.mfa.prompt.unwrap_or_default());
    };
    let prompt = crate::aws_vault::prompt(name).map_err(|why| {
        let error = Error::new(format!("{place} {name}: {why}"));
        if place == "--prompt" {
            Error::usage(error.message().to_string())
        } else {
            error
        }
    })?;
    crate::output::verbose(format!("the MFA prompt from {place} (aws-vault's)"));
    Ok(prompt)
}

/// The pass backend's store: `BROKER_PASS_*`, else `AWS_VAULT_PASS_*`, else `pass`'s own
/// defaults (`PASSWORD_STORE_DIR`, `~/.password-store`), with broker's items under `broker/`.
fn pass_spec(env: &Environment) -> PassSpec {
    let aws_vault = &env.aws_vault;
    PassSpec {
        dir: first_of(
            "the password store",
            ("BROKER_PASS_DIR", env.broker.pass_dir.clone()),
            (
                "AWS_VAULT_PASS_PASSWORD_STORE_DIR",
                aws_vault.pass_dir.clone(),
            ),
        )
        .or_else(|| env.password_store_dir.clone())
        .unwrap_or_else(|| env.expand_home("~/.password-store")),
        command: first_of(
            "the pass program",
            ("BROKER_PASS_CMD", env.broker.pass_cmd.clone()),
            ("AWS_VAULT_PASS_CMD", aws_vault.pass_cmd.clone()),
        )
        .unwrap_or_else(|| "pass".into()),
        prefix: first_of(
            "the pass prefix",
            ("BROKER_PASS_PREFIX", env.broker.pass_prefix.clone()),
            ("AWS_VAULT_PASS_PREFIX", aws_vault.pass_prefix.clone()),
        )
        .unwrap_or_else(|| crate::vault::DEFAULT_PASS_PREFIX.into()),
    }
}

/// Where the file vault's passphrase comes from: `BROKER_FILE_PASSPHRASE`, then
/// `BROKER_FILE_PASSPHRASE_FILE`, then `AWS_VAULT_FILE_PASSPHRASE`, then
/// `[file] passphrase_command`, then the terminal.
fn passphrase_source(env: &Environment, settings: &Settings) -> Passphrase {
    if let Some(p) = &env.broker.file_passphrase {
        return Passphrase::Given(p.clone());
    }
    if let Some(path) = &env.broker.file_passphrase_file {
        return Passphrase::File(path.clone());
    }
    if let Some(p) = &env.aws_vault.file_passphrase {
        crate::output::verbose(
            "the file vault's passphrase from AWS_VAULT_FILE_PASSPHRASE (aws-vault's)",
        );
        return Passphrase::Given(p.clone());
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
