//! `broker doctor`: checks that broker can work on this machine and says what to fix, one line
//! per check. Reads and probes only: it makes no credentials, and sends STS no signed request.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use secrecy::SecretString;

use crate::context::{Context, GlobalOptions};
use crate::environment::Environment;
use crate::error::{Error, Result};
use crate::net::{GetError, NetSettings};
use crate::policy::SystemPolicy;
use crate::{endpoint, exit_codes, fsutil, output, profiles, vault};

/// Check that broker can work here, and say what to fix
///
/// One line per check, ✓ (ok), ! (a warning: optional set-up missing) or ✗ (a failure): the
/// AWS config and credentials files parse, broker's settings parse, the system policy file (if
/// there is one) belongs to the administrator, can be changed by no one else and parses (else
/// no credentials are issued), the vault backend is
/// usable, the vault is readable, the session cache's key is in place, the proxy STS is reached
/// through (host and port only), what HTTPS trusts (the system's roots and the CA bundle), the
/// STS endpoint answers through them, the local clock is within 5 minutes of STS's (AWS refuses
/// signatures made with a clock further off), the audit log is writable, and completions are
/// installed for your shell (a warning when not). The network checks use the profile of
/// AWS_DEFAULT_PROFILE or AWS_PROFILE, else "default". Exits 1 when any check fails; warnings
/// alone exit 0.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  broker doctor
  AWS_REGION=eu-west-1 broker doctor   # checks that region's STS endpoint")]
pub struct Args {}

/// AWS refuses SigV4 signatures made with a clock further off than this.
const MAX_SKEW: Duration = Duration::from_secs(5 * 60);
/// How long the STS endpoint has to answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// One check's outcome: what was found, and for a warning or a failure what to do.
struct Check {
    name: &'static str,
    level: Level,
    detail: String,
    hint: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Ok,
    /// Optional set-up missing: broker works without it.
    Warning,
    Failure,
}

fn pass(name: &'static str, detail: impl Into<String>) -> Check {
    Check {
        name,
        level: Level::Ok,
        detail: detail.into(),
        hint: None,
    }
}

fn fail(name: &'static str, detail: impl Into<String>, hint: Option<&str>) -> Check {
    Check {
        name,
        level: Level::Failure,
        detail: detail.into(),
        hint: hint.map(str::to_owned),
    }
}

fn warn(name: &'static str, detail: impl Into<String>, hint: &str) -> Check {
    Check {
        level: Level::Warning,
        ..fail(name, detail, Some(hint))
    }
}

fn failed_with(name: &'static str, e: &Error) -> Check {
    fail(name, e.message(), e.hint())
}

pub fn run(_args: Args, options: GlobalOptions, env: Environment) -> Result<u8> {
    let (ctx, settings_error) = Context::resolve_lenient(options, env);
    let mut checks = Vec::new();

    checks.push(aws_files(&ctx.env));
    checks.push(match settings_error {
        Some(e) => failed_with("settings", &e),
        None if ctx.settings_path.exists() => {
            pass("settings", ctx.settings_path.display().to_string())
        }
        None => pass(
            "settings",
            format!(
                "the defaults ({} does not exist)",
                ctx.settings_path.display()
            ),
        ),
    });
    checks.push(system_policy(&ctx));
    let (backend, vault) = backend_and_vault(&ctx);
    checks.push(backend);
    checks.push(vault);
    checks.push(cache_key(&ctx));
    match Target::of(&ctx) {
        Ok(target) => {
            checks.push(proxy(&target));
            checks.push(trust(&target));
            let (endpoint, clock) = sts_and_clock(&target);
            checks.push(endpoint);
            checks.push(clock);
        }
        Err(e) => checks.push(failed_with("STS endpoint", &e)),
    }
    checks.push(audit_log(&ctx));
    checks.push(completions(&ctx.env));

    let colors = output::stdout_colors();
    let mut text = String::new();
    for check in &checks {
        text.push_str(&line(check, colors));
        text.push('\n');
    }
    output::stdout(text.as_bytes())?;
    let failed = checks.iter().filter(|c| c.level == Level::Failure).count();
    if failed > 0 {
        return Err(Error::new(format!(
            "{failed} of {} checks failed",
            checks.len()
        )));
    }
    Ok(exit_codes::SUCCESS)
}

/// `✓ name: detail`, or `! name: detail → hint`, `✗ name: detail → hint`; sanitised, coloured
/// where allowed.
fn line(check: &Check, colors: bool) -> String {
    let (mark, color) = match check.level {
        Level::Ok => ("✓", anstyle::AnsiColor::Green),
        Level::Warning => ("!", anstyle::AnsiColor::Yellow),
        Level::Failure => ("✗", anstyle::AnsiColor::Red),
    };
    let mark = if colors {
        let style = anstyle::Style::new().bold().fg_color(Some(color.into()));
        format!("{}{mark}{}", style.render(), style.render_reset())
    } else {
        mark.to_string()
    };
    let mut text = format!(
        "{mark} {}: {}",
        check.name,
        crate::error::one_line(&check.detail)
    );
    if let Some(hint) = &check.hint {
        text.push_str(" → ");
        text.push_str(&crate::error::one_line(hint));
    }
    text
}

/// The system policy: none, trusted and valid, or why it stops every issuing.
fn system_policy(ctx: &Context) -> Check {
    const NAME: &str = "system policy";
    match &ctx.policy.system {
        SystemPolicy::Absent => match crate::policy::system::location(&ctx.env) {
            Ok(path) => pass(NAME, format!("none ({} does not exist)", path.display())),
            Err(e) => failed_with(NAME, &Error::with_source("cannot find its folder", e)),
        },
        SystemPolicy::Trusted { path, rules } => pass(
            NAME,
            format!(
                "{} ({} rule{}; only the administrator can change it)",
                path.display(),
                rules.len(),
                if rules.len() == 1 { "" } else { "s" }
            ),
        ),
        SystemPolicy::Refused(e) => failed_with(NAME, &Error::from(e.clone())),
    }
}

fn aws_files(env: &Environment) -> Check {
    let paths: Vec<String> = [
        profiles::config_file_path(env),
        profiles::credentials_file_path(env),
    ]
    .into_iter()
    .flatten()
    .filter(|p| p.exists())
    .map(|p| p.display().to_string())
    .collect();
    match profiles::AwsProfiles::load(env) {
        Ok(aws) if paths.is_empty() => fail(
            "AWS config",
            format!(
                "no config or credentials file ({} profiles)",
                aws.names().len()
            ),
            Some("add a profile with `broker add PROFILE`"),
        ),
        Ok(aws) => pass(
            "AWS config",
            format!(
                "{} profile(s) in {}",
                aws.names().len(),
                paths.join(" and ")
            ),
        ),
        Err(e) => failed_with("AWS config", &e.into()),
    }
}

fn backend_and_vault(ctx: &Context) -> (Check, Check) {
    let vault = match ctx.vault.open() {
        Ok(vault) => vault,
        Err(e) => {
            let e = Error::from(e);
            return (
                failed_with("backend", &e),
                fail("vault", "not checked: no usable backend", None),
            );
        }
    };
    let name = vault.kind().name();
    let backend = pass("backend", name);
    let names = profiles::AwsProfiles::load(&ctx.env)
        .map(|aws| aws.names())
        .unwrap_or_default();
    let mut stored = Vec::new();
    for profile in &names {
        match vault.contains(&vault::keys_item(profile)) {
            Ok(true) => stored.push(profile.as_str()),
            Ok(false) => {}
            Err(e) => return (backend, failed_with("vault", &e.into())),
        }
    }
    // Reading one item proves the vault opens (the file vault's passphrase is right).
    let check = match stored.first() {
        None => pass("vault", format!("no keys stored yet in the {name} vault")),
        Some(first) => match vault::get_keys(vault.as_ref(), first) {
            Ok(_) => pass(
                "vault",
                format!(
                    "readable: keys of {} profile(s) in the {name} vault",
                    stored.len()
                ),
            ),
            Err(e) => failed_with("vault", &e.into()),
        },
    };
    (backend, check)
}

fn cache_key(ctx: &Context) -> Check {
    match ctx.cache().key_place() {
        Ok(Some(place)) => pass("cache key", format!("in {place}")),
        Ok(None) => pass(
            "cache key",
            "none yet: the first credentials broker caches make it",
        ),
        Err(e) => {
            let e = Error::from(e);
            fail(
                "cache key",
                e.message(),
                Some("`broker clear` and a new `broker export` make a new one"),
            )
        }
    }
}

/// Where the checks of the network look: the profile the environment names (else `default`),
/// its STS endpoint in the region of the environment (else the profile's, else us-east-1), and
/// its network settings.
struct Target {
    url: String,
    net: NetSettings,
}

impl Target {
    fn of(ctx: &Context) -> std::result::Result<Target, Error> {
        let aws = profiles::AwsProfiles::load(&ctx.env)
            .or_else(|_| profiles::AwsProfiles::from_texts("", ""))?;
        let env = &ctx.env;
        let profile = env.aws.named_profile().map_or("default", String::as_str);
        let endpoint = endpoint::resolve(endpoint::Service::Sts, env, &aws, Some(profile))
            .map_err(crate::chain::ChainError::from)?;
        let region = env
            .aws
            .region
            .clone()
            .or_else(|| env.aws.default_region.clone())
            .or_else(|| aws.get(profile, "region").map(str::to_owned))
            .unwrap_or_else(|| "us-east-1".into());
        Ok(Target {
            url: endpoint.url(&region),
            net: ctx.net_settings(&aws),
        })
    }
}

/// The proxy a request to STS goes through, if any.
fn proxy(target: &Target) -> Check {
    let proxies = match crate::net::Proxies::parse(&target.net.proxy) {
        Ok(p) => p,
        Err(e) => return failed_with("proxy", &crate::net::NetError::from(e).into()),
    };
    let url = &target.url;
    let detail = match proxies.route(url) {
        Some(proxy) => format!("{url} via {}", proxy.describe()),
        None if target.net.proxy.https.is_some() || target.net.proxy.http.is_some() => {
            format!("none for {url}: NO_PROXY sends it direct")
        }
        None => "none (no HTTPS_PROXY or HTTP_PROXY)".into(),
    };
    pass("proxy", detail)
}

/// What HTTPS trusts: the system's roots, and the CA bundle configured.
fn trust(target: &Target) -> Check {
    match target.net.trust.load() {
        Ok((_, label)) => pass("trust", label),
        Err(e) => failed_with("trust", &crate::net::NetError::from(e).into()),
    }
}

fn sts_and_clock(target: &Target) -> (Check, Check) {
    let url = &target.url;
    let started = Instant::now();
    let probed = {
        let _spinner = crate::spinner::Spinner::start(&format!("waiting for {url}"));
        match crate::net::shared(&target.net) {
            Err(e) => Err((
                format!("not checked: {e}"),
                Error::from(e).hint().map(str::to_owned),
            )),
            Ok(net) => net
                .get(&SecretString::from(url.clone()), PROBE_TIMEOUT)
                .map_err(|e| {
                    let hint = crate::hints::get_hint(&e).unwrap_or(PROBE_HINT).to_owned();
                    let detail = match &e {
                        GetError::Failed { cause, .. } => format!("{url} does not answer{cause}"),
                        other => format!("{url} does not answer: {other}"),
                    };
                    (detail, Some(hint))
                }),
        }
    };
    let answer = match probed {
        Ok(answer) => answer,
        Err((detail, hint)) => {
            return (
                fail("STS endpoint", detail, hint.as_deref()),
                fail("clock", "not checked: no answer from STS", None),
            )
        }
    };
    let endpoint = pass("STS endpoint", format!("{url} answers"));
    // STS's Date is whole seconds; compare it with the local time halfway through the call.
    let local = Utc::now() - chrono::TimeDelta::from_std(started.elapsed() / 2).unwrap_or_default();
    let Some(date) = answer
        .date
        .and_then(|d| DateTime::parse_from_rfc2822(&d).ok())
        .map(|d| d.with_timezone(&Utc))
    else {
        return (
            endpoint,
            fail("clock", "not checked: the answer had no Date", None),
        );
    };
    (endpoint, clock(local, date))
}

const PROBE_HINT: &str = "check AWS_ENDPOINT_URL/AWS_ENDPOINT_URL_STS, AWS_REGION and the network";

/// How far `local` is from STS's `date`, against AWS's 5 minutes. Pure.
fn clock(local: DateTime<Utc>, date: DateTime<Utc>) -> Check {
    let skew = (local - date).num_seconds();
    // STS's Date is whole seconds, so the skew is known to a second or two: said in minutes.
    let minutes = (skew.unsigned_abs() + 30) / 60;
    let off = crate::duration::format(Duration::from_secs(minutes * 60));
    let direction = if skew > 0 { "ahead of" } else { "behind" };
    if skew.unsigned_abs() > MAX_SKEW.as_secs() {
        fail(
            "clock",
            format!("{off} {direction} STS's: AWS refuses signatures more than 5m off"),
            Some("set the clock right, or let NTP do it (`timedatectl set-ntp true`)"),
        )
    } else if skew.unsigned_abs() < 60 {
        pass("clock", "within a minute of STS's")
    } else {
        pass("clock", format!("{off} {direction} STS's, within AWS's 5m"))
    }
}

fn audit_log(ctx: &Context) -> Check {
    let log = &ctx.audit;
    let shown = log.path.display().to_string();
    // As appending does it: broker's own directory private, a chosen one only created.
    let opened = match log.path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) if log.own_dir => fsutil::private_dir(dir),
        Some(dir) => fsutil::create_dir(dir),
        None => Ok(()),
    }
    .and_then(|()| fsutil::open_append(&log.path));
    match opened {
        Ok(_) => pass("audit log", format!("{shown} is writable")),
        Err(e) => fail(
            "audit log",
            format!("cannot write {shown}: {e}"),
            Some("fix the path ([audit] path in config.toml) or its permissions; broker hands out nothing it cannot audit"),
        ),
    }
}

fn completions(env: &Environment) -> Check {
    // On Windows, PowerShell's: cmd has no completion, and a POSIX SHELL there is Git Bash's
    // or MSYS2's, which broker does not start either (see exec).
    let shell = if cfg!(windows) {
        "powershell".to_string()
    } else {
        env.shell
            .as_ref()
            .and_then(|s| Path::new(s).file_name())
            .map(|n| n.to_string_lossy().replace("pwsh", "powershell"))
            .unwrap_or_default()
    };
    let Some(kind) = ["bash", "zsh", "fish", "elvish", "powershell"]
        .into_iter()
        .find(|k| *k == shell)
    else {
        return pass(
            "completions",
            format!(
                "not checked for shell `{}`",
                if shell.is_empty() { "?" } else { &shell }
            ),
        );
    };
    let mut current = Vec::new();
    let generated = kind
        .parse::<clap_complete::Shell>()
        .ok()
        .and_then(|s| super::completions::write(s, &mut current).ok())
        .is_some();
    let setup = format!("broker completions {kind}");
    for path in completion_paths(kind, env) {
        let Ok(installed) = std::fs::read(&path) else {
            continue;
        };
        let rc = path.file_name().is_some_and(|n| {
            let n = n.to_string_lossy();
            n.starts_with('.') || n == "config.fish" || n == "rc.elv" || n.ends_with(".ps1")
        });
        if rc {
            if String::from_utf8_lossy(&installed).contains(&setup) {
                return pass(
                    "completions",
                    format!("{kind}: {} runs `{setup}`", path.display()),
                );
            }
            continue;
        }
        if generated && installed != current {
            return warn(
                "completions",
                format!("{kind}: {} is out of date", path.display()),
                &format!("`{setup} > {}`", path.display()),
            );
        }
        return pass("completions", format!("{kind}: {}", path.display()));
    }
    let target = completion_paths(kind, env)
        .into_iter()
        .next()
        .unwrap_or_default();
    // PowerShell loads completions from its profile script, which runs broker for them.
    let hint = if kind == "powershell" {
        format!(
            "add `{setup} | Out-String | Invoke-Expression` to {}",
            target.display()
        )
    } else {
        let dir = target.parent().unwrap_or(Path::new("."));
        format!(
            "`mkdir -p {} && {setup} > {}`",
            dir.display(),
            target.display()
        )
    };
    warn("completions", format!("not installed for {kind}"), &hint)
}

/// Where `shell` finds completion scripts (the user's own place first), then the startup
/// files that may load them.
fn completion_paths(shell: &str, env: &Environment) -> Vec<PathBuf> {
    let data = env.data_dir();
    let config = env.config_dir();
    let home = env.home.clone().unwrap_or_default();
    let mut paths: Vec<PathBuf> = match shell {
        "bash" => vec![
            data.join("bash-completion/completions/broker"),
            home.join(".bash_completion.d/broker"),
            "/usr/local/share/bash-completion/completions/broker".into(),
            "/usr/share/bash-completion/completions/broker".into(),
            "/etc/bash_completion.d/broker".into(),
            "/opt/homebrew/etc/bash_completion.d/broker".into(),
            home.join(".bashrc"),
            home.join(".bash_profile"),
        ],
        "zsh" => vec![
            data.join("zsh/site-functions/_broker"),
            home.join(".zfunc/_broker"),
            "/usr/local/share/zsh/site-functions/_broker".into(),
            "/usr/share/zsh/site-functions/_broker".into(),
            "/usr/share/zsh/vendor-completions/_broker".into(),
            "/opt/homebrew/share/zsh/site-functions/_broker".into(),
            home.join(".zshrc"),
        ],
        "fish" => vec![
            config.join("fish/completions/broker.fish"),
            data.join("fish/vendor_completions.d/broker.fish"),
            "/usr/local/share/fish/vendor_completions.d/broker.fish".into(),
            "/usr/share/fish/vendor_completions.d/broker.fish".into(),
            config.join("fish/config.fish"),
        ],
        "elvish" => vec![config.join("elvish/rc.elv")],
        "powershell" => {
            let profile = "Microsoft.PowerShell_profile.ps1";
            if cfg!(windows) {
                // PowerShell 7, then Windows PowerShell 5.1.
                let documents = dirs::document_dir().unwrap_or_else(|| home.join("Documents"));
                vec![
                    documents.join("PowerShell").join(profile),
                    documents.join("WindowsPowerShell").join(profile),
                ]
            } else {
                vec![config.join("powershell").join(profile)]
            }
        }
        _ => Vec::new(),
    };
    paths.dedup();
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_check_allows_five_minutes_either_way() {
        let sts = DateTime::parse_from_rfc2822("Tue, 01 Dec 2026 10:00:00 GMT")
            .unwrap()
            .with_timezone(&Utc);
        let at = |secs: i64| clock(sts + chrono::TimeDelta::seconds(secs), sts);
        assert!(at(0).level == Level::Ok);
        assert_eq!(at(30).detail, "within a minute of STS's");
        assert_eq!(at(-200).detail, "3m behind STS's, within AWS's 5m");
        assert!(at(300).level == Level::Ok);
        let ahead = at(7 * 60 + 5);
        assert!(ahead.level == Level::Failure);
        assert_eq!(
            ahead.detail,
            "7m ahead of STS's: AWS refuses signatures more than 5m off"
        );
        assert!(at(-3600).level == Level::Failure);
    }

    #[test]
    fn the_sts_endpoint_is_the_profiles_in_the_environments_region() {
        let target = |pairs: &[(&str, &str)]| {
            let (ctx, _) =
                Context::resolve_lenient(GlobalOptions::default(), Environment::from_pairs(pairs));
            Target::of(&ctx).unwrap().url
        };
        assert_eq!(
            target(&[("AWS_REGION", "eu-west-1")]),
            "https://sts.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            target(&[("AWS_DEFAULT_REGION", "cn-north-1")]),
            "https://sts.cn-north-1.amazonaws.com.cn"
        );
        assert_eq!(
            target(&[
                ("AWS_USE_FIPS_ENDPOINT", "true"),
                ("AWS_REGION", "us-west-2")
            ]),
            "https://sts-fips.us-west-2.amazonaws.com"
        );
        assert_eq!(
            target(&[("AWS_ENDPOINT_URL", "http://127.0.0.1:9")]),
            "http://127.0.0.1:9"
        );
    }
}
