//! `broker import`: moves long-term keys from the AWS credentials file into the vault, then
//! removes their lines from the file (atomically, keeping every other line, its owner and its
//! mode). Keys are stored before any line is removed, so a failure never loses a key; the file
//! is read again just before it is rewritten, so nothing another program added meanwhile is
//! lost either. Never rewrites a file with other hard links, or keys that changed meanwhile.

use crate::context::Context;
use crate::credentials::{self, LongTermKeys};
use crate::credentials_file::{self, Section};
use crate::error::{Error, Result};
use crate::{exit_codes, fsutil, output, profiles, tty, vault};

/// Move keys from the AWS credentials file into the vault
///
/// Stores the access key of each PROFILE (of every profile that has one, when none is named)
/// in the vault, then removes its aws_access_key_id and aws_secret_access_key lines from the
/// credentials file ($AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials), keeping every
/// other line, comments included. Asks first unless --yes. A section that holds
/// aws_session_token is refused: those are temporary credentials, not a long-term key.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  broker import              # every profile with keys in ~/.aws/credentials
  broker import --yes work   # only [work], without asking")]
pub struct Args {
    /// Do not ask for confirmation
    #[arg(long)]
    yes: bool,

    /// The profiles whose keys to move [default: every profile with keys in the file]
    #[arg(value_name = "PROFILE", add = super::completions::profiles())]
    profiles: Vec<String>,
}

pub fn run(args: Args, ctx: &Context) -> Result<u8> {
    let path = profiles::credentials_file_path(&ctx.env).ok_or_else(|| {
        Error::new("cannot find the home directory").with_hint("set AWS_SHARED_CREDENTIALS_FILE")
    })?;
    let shown = path.display().to_string();
    // Held until the file is rewritten: another import must not store the same keys twice or
    // write back lines this one removed. Other programs do not take it: the file is read again
    // before it is rewritten.
    let _lock = ctx.lock("aws-credentials")?;
    let text = read(&path, &shown)?;
    let sections = credentials_file::sections(&text);
    let chosen = choose(&sections, &args.profiles, &shown)?;
    let keys = chosen
        .iter()
        .map(|s| long_term_keys(s, &shown))
        .collect::<Result<Vec<_>>>()?;
    let names: Vec<String> = chosen.iter().map(|s| s.profile.clone()).collect();
    let vault = ctx.vault()?;
    let into = format!("the {} vault", vault.kind().name());
    if !args.yes && !confirmed(&names, &shown, &into)? {
        output::notice("nothing was imported");
        return Ok(exit_codes::SUCCESS);
    }
    for (profile, keys) in names.iter().zip(&keys) {
        vault::set_keys(vault.as_ref(), profile, keys)?;
        // As for `add`: sessions made from other keys under this name must not outlive them.
        ctx.cache().clear_source(profile);
    }
    rewrite(&path, &shown, &chosen, &keys).map_err(|e| {
        e.in_context(format!(
            "stored the keys of {} in {into}, but left {shown} as it is",
            profile_list(&names)
        ))
        .with_hint(format!(
            "check the file, then delete the keys broker now holds from it yourself, or run \
             `broker import {}` again",
            names.join(" ")
        ))
    })?;
    output::notice(&format!(
        "moved the keys of {} into {into} and removed them from {shown}",
        profile_list(&names)
    ));
    Ok(exit_codes::SUCCESS)
}

/// Whether the user agrees to move the keys of `names`.
fn confirmed(names: &[String], shown: &str, into: &str) -> Result<bool> {
    let question = format!(
        "Move the keys of {} from {shown} into {into}, removing their lines from the file? \
         [y/N] ",
        profile_list(names)
    );
    tty::confirm(&question)
        .map_err(|e| Error::from(e).with_hint("run it from a terminal, or confirm with --yes"))
}

/// Removes the imported key lines from what the file holds now, which may have changed while
/// the user was asked or the vault written: only if they are still the ones imported.
fn rewrite(
    path: &std::path::Path,
    shown: &str,
    imported: &[&Section],
    keys: &[LongTermKeys],
) -> Result<()> {
    let now = read(path, shown)?;
    let current = credentials_file::sections(&now);
    for (section, keys) in imported.iter().zip(keys) {
        let same = current
            .iter()
            .find(|s| s.profile == section.profile)
            .is_some_and(|s| unchanged(s, keys));
        if !same {
            return Err(Error::new(format!(
                "the keys of profile {} in it changed while they were imported (the vault holds \
                 the ones read first)",
                section.profile
            )));
        }
    }
    let names: Vec<String> = imported.iter().map(|s| s.profile.clone()).collect();
    let remaining = credentials_file::without_keys(&now, &names);
    fsutil::write_through(path, remaining.as_bytes())
        .map_err(|e| Error::with_source("cannot rewrite it", e))
}

/// The credentials file's text, refused when it has other hard links: rewriting it would
/// leave every key in them.
fn read(path: &std::path::Path, shown: &str) -> Result<String> {
    let text = profiles::read_text(path)?.ok_or_else(|| {
        Error::new(format!("there is no AWS credentials file at {shown}"))
            .with_hint("`broker add PROFILE` stores keys typed on the terminal")
    })?;
    let links = fsutil::hard_links(path)
        .map_err(|e| Error::with_source(format!("cannot read {shown}"), e))?;
    if links > 1 {
        return Err(Error::new(format!(
            "{shown} has {links} hard links: removing the keys from it would leave them in the \
             other {}",
            if links == 2 { "link" } else { "links" }
        ))
        .with_hint(format!(
            "find the others with `find / -xdev -samefile {shown}`, remove them or make the file \
             a copy of its own, then import again"
        )));
    }
    Ok(text)
}

/// Whether the file still holds exactly the keys imported for the section, and no token.
fn unchanged(now: &Section, imported: &LongTermKeys) -> bool {
    use secrecy::ExposeSecret;
    !now.session_token
        && now.access_key_id.as_deref() == Some(imported.access_key_id.as_str())
        && now.secret_access_key.as_ref().map(|s| s.expose_secret())
            == Some(imported.secret_access_key.expose_secret())
}

/// The sections to import: those named, each of which must hold a long-term key; else every
/// section with a key, those holding a session token skipped with a notice.
fn choose<'a>(sections: &'a [Section], named: &[String], shown: &str) -> Result<Vec<&'a Section>> {
    if named.is_empty() {
        let (temporary, long_term): (Vec<&Section>, Vec<&Section>) =
            sections.iter().partition(|s| s.session_token);
        for s in &temporary {
            output::notice(&format!(
                "skipping profile {}: it holds a session token (temporary credentials), not a \
                 long-term key",
                s.profile
            ));
        }
        if long_term.is_empty() {
            return Err(Error::new(format!(
                "{shown} holds no long-term keys to import"
            )));
        }
        return Ok(long_term);
    }
    let mut chosen = Vec::new();
    for name in named {
        let Some(section) = sections.iter().find(|s| &s.profile == name) else {
            let with_keys: Vec<&str> = sections.iter().map(|s| s.profile.as_str()).collect();
            let close = profiles::closest(name, with_keys.iter().copied());
            let hint = if with_keys.is_empty() {
                format!("{shown} holds no keys of any profile")
            } else if close.is_empty() {
                format!("it holds keys of: {}", with_keys.join(", "))
            } else {
                crate::hints::did_you_mean(&close).unwrap_or_default()
            };
            return Err(
                Error::new(format!("profile {name} has no keys in {shown}")).with_hint(hint)
            );
        };
        if section.session_token {
            return Err(Error::new(format!(
                "profile {name} in {shown} holds a session token: temporary credentials, not a \
                 long-term key; nothing was imported"
            ))
            .with_hint(format!(
                "store an IAM user's access key with `broker add {name}` instead"
            )));
        }
        if !chosen.iter().any(|s: &&Section| &s.profile == name) {
            chosen.push(section);
        }
    }
    Ok(chosen)
}

fn long_term_keys(section: &Section, shown: &str) -> Result<LongTermKeys> {
    let profile = &section.profile;
    let (Some(id), Some(secret)) = (&section.access_key_id, &section.secret_access_key) else {
        return Err(Error::new(format!(
            "profile {profile} in {shown} needs both aws_access_key_id and \
             aws_secret_access_key; nothing was imported"
        )));
    };
    if !credentials::valid_access_key_id(id) {
        return Err(Error::new(format!(
            "profile {profile} in {shown}: `{id}` is not an access key id; nothing was imported"
        )));
    }
    use secrecy::ExposeSecret;
    if secret.expose_secret().is_empty() {
        return Err(Error::new(format!(
            "profile {profile} in {shown} has an empty aws_secret_access_key; nothing was imported"
        )));
    }
    Ok(LongTermKeys {
        access_key_id: id.clone(),
        secret_access_key: secret.clone(),
    })
}

/// `profile a`, `profiles a and b`, `profiles a, b and c`.
fn profile_list(names: &[String]) -> String {
    match names {
        [one] => format!("profile {one}"),
        [init @ .., last] => format!("profiles {} and {last}", init.join(", ")),
        [] => "no profile".into(),
    }
}
