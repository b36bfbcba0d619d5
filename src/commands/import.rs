//! `broker import`: moves long-term keys from the AWS credentials file into the vault, then
//! removes their lines from the file (atomically, keeping every other line, its owner and its
//! mode). Keys are stored before any line is removed, so a failure never loses a key; the file
//! is read again just before it is rewritten, so nothing another program added meanwhile is
//! lost either. Never rewrites a file with other hard links, or keys that changed meanwhile.
//!
//! With `--from-aws-vault`, the keys come from aws-vault's stores instead (see
//! [`crate::vault::aws_vault`]), which are read and never changed.

use crate::context::Context;
use crate::credentials::{self, LongTermKeys};
use crate::credentials_file::{self, Section};
use crate::error::{Error, Result};
use crate::vault::aws_vault;
use crate::{exit_codes, fsutil, output, profiles, tty, vault};

/// Move keys from the AWS credentials file into the vault
///
/// Stores the access key of each PROFILE (of every profile that has one, when none is named)
/// in the vault, then removes its aws_access_key_id and aws_secret_access_key lines from the
/// credentials file ($AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials), keeping every
/// other line, comments included. Asks first unless --yes. A section that holds
/// aws_session_token is refused: those are temporary credentials, not a long-term key.
///
/// With --from-aws-vault, copies the long-term keys of aws-vault's stores instead, leaving
/// them there; a profile whose keys the vault holds already is left as it is.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  broker import              # every profile with keys in ~/.aws/credentials
  broker import --yes work   # only [work], without asking
  broker import --from-aws-vault --dry-run   # what aws-vault's stores hold")]
pub struct Args {
    /// Do not ask for confirmation
    #[arg(long)]
    yes: bool,

    /// Copy the keys from aws-vault's stores on this machine instead (its Secret Service
    /// collection, macOS keychain, Windows credentials, pass entries, or file store with its
    /// passphrase), leaving them there
    #[arg(long)]
    from_aws_vault: bool,

    /// With --from-aws-vault: only this store of aws-vault's, named as aws-vault's --backend
    /// names it
    #[arg(
        long,
        value_name = "BACKEND",
        requires = "from_aws_vault",
        value_parser = ["secret-service", "keychain", "wincred", "pass", "file"],
        hide_possible_values = true
    )]
    aws_vault_backend: Option<String>,

    /// With --from-aws-vault: list what would be copied, and change nothing
    #[arg(long, requires = "from_aws_vault")]
    dry_run: bool,

    /// The profiles whose keys to move [default: every profile with keys in the file]
    #[arg(value_name = "PROFILE", add = super::completions::profiles())]
    profiles: Vec<String>,
}

pub fn run(args: Args, ctx: &Context) -> Result<u8> {
    if args.from_aws_vault {
        return from_aws_vault(args, ctx);
    }
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

/// `--from-aws-vault`: copies the keys of aws-vault's stores (of PROFILEs only, when named)
/// into broker's vault; a profile whose keys broker holds already is left as it is.
fn from_aws_vault(args: Args, ctx: &Context) -> Result<u8> {
    let only: Vec<aws_vault::Store> = args
        .aws_vault_backend
        .as_deref()
        .and_then(aws_vault::Store::from_name)
        .into_iter()
        .collect();
    let (found, notices) = aws_vault::read(&aws_vault_stores(ctx), &only)?;
    for notice in notices {
        output::notice(&notice);
    }
    let found = chosen(found, &args.profiles)?;
    let vault = ctx.vault()?;
    let into = format!("the {} vault", vault.kind().name());
    let mut new = Vec::new();
    let mut lines = String::new();
    for f in &found {
        let held = vault.contains(&vault::keys_item(&f.profile))?;
        let what = match (held, args.dry_run) {
            (true, _) => "already in broker's vault: left as it is",
            (false, true) => "would be stored",
            (false, false) => "to store",
        };
        lines.push_str(&format!(
            "{}  {}  from the {}: {what}\n",
            crate::sanitize::escape(&f.profile),
            masked(&f.keys.access_key_id),
            f.place
        ));
        if !held {
            new.push(f);
        }
    }
    if args.dry_run {
        output::stdout(lines.as_bytes())?;
        return Ok(exit_codes::SUCCESS);
    }
    output::notice(lines.trim_end());
    if new.is_empty() {
        output::notice("nothing to import");
        return Ok(exit_codes::SUCCESS);
    }
    let names: Vec<String> = new.iter().map(|f| f.profile.clone()).collect();
    if !args.yes {
        let question = format!(
            "Copy the keys of {} into {into}? aws-vault's stores stay as they are. [y/N] ",
            profile_list(&names)
        );
        let yes = tty::confirm(&question).map_err(|e| {
            Error::from(e).with_hint("run it from a terminal, or confirm with --yes")
        })?;
        if !yes {
            output::notice("nothing was imported");
            return Ok(exit_codes::SUCCESS);
        }
    }
    for f in new {
        vault::set_keys(vault.as_ref(), &f.profile, &f.keys)?;
        ctx.cache().clear_source(&f.profile);
    }
    output::notice(&format!(
        "copied the keys of {} from aws-vault's stores into {into}",
        profile_list(&names)
    ));
    Ok(exit_codes::SUCCESS)
}

/// Where aws-vault keeps keys on this machine, by its variables and defaults.
fn aws_vault_stores(ctx: &Context) -> aws_vault::Stores {
    let env = &ctx.env;
    let theirs = &env.aws_vault;
    aws_vault::Stores {
        file_dir: theirs
            .file_dir
            .clone()
            .unwrap_or_else(|| env.expand_home("~/.awsvault/keys")),
        file_passphrase: theirs.file_passphrase.clone(),
        collection: theirs
            .secret_service_collection
            .clone()
            .unwrap_or_else(|| "awsvault".into()),
        keychain: ctx.aws_vault_keychain.clone(),
        pass: vault::PassSpec {
            dir: theirs
                .pass_dir
                .clone()
                .or_else(|| env.password_store_dir.clone())
                .unwrap_or_else(|| env.expand_home("~/.password-store")),
            command: theirs.pass_cmd.clone().unwrap_or_else(|| "pass".into()),
            prefix: theirs.pass_prefix.clone().unwrap_or_default(),
        },
        home: env.home.clone(),
        dbus_session: env.dbus_session,
    }
}

/// The keys found that are to be copied: those of `profiles` (each must be found) or all, one
/// profile's keys once; an error when a profile has different keys in two stores, or when
/// nothing was found.
fn chosen(mut found: Vec<aws_vault::Found>, profiles: &[String]) -> Result<Vec<aws_vault::Found>> {
    if !profiles.is_empty() {
        for name in profiles {
            if !found.iter().any(|f| &f.profile == name) {
                return Err(Error::new(format!(
                    "aws-vault's stores on this machine hold no keys of profile {name}"
                ))
                .with_hint("`broker import --from-aws-vault --dry-run` lists what they hold"));
            }
        }
        found.retain(|f| profiles.contains(&f.profile));
    }
    // One profile's keys in two stores: the same keys once; different ones only with a choice.
    found.sort_by(|a, b| a.profile.cmp(&b.profile));
    found.dedup_by(|b, a| a.profile == b.profile && same_keys(&a.keys, &b.keys));
    if let Some(pair) = found.windows(2).find(|w| w[0].profile == w[1].profile) {
        return Err(Error::new(format!(
            "aws-vault holds two different keys of profile {}: in the {} and in the {}",
            pair[0].profile, pair[0].place, pair[1].place
        ))
        .with_hint("choose one store with --aws-vault-backend NAME"));
    }
    if found.is_empty() {
        return Err(
            Error::new("found no long-term keys in aws-vault's stores on this machine").with_hint(
                "aws-vault's file store is read from AWS_VAULT_FILE_DIR (else ~/.awsvault/keys), \
                 its pass entries from AWS_VAULT_PASS_PASSWORD_STORE_DIR and \
                 AWS_VAULT_PASS_PREFIX, its collection by AWS_VAULT_SECRET_SERVICE_COLLECTION_NAME",
            ),
        );
    }
    Ok(found)
}

fn same_keys(a: &LongTermKeys, b: &LongTermKeys) -> bool {
    use secrecy::ExposeSecret;
    a.access_key_id == b.access_key_id
        && a.secret_access_key.expose_secret() == b.secret_access_key.expose_secret()
}

/// `AKIA…WXYZ`: enough of an access key id to tell it, for a listing.
fn masked(id: &str) -> String {
    match (id.get(..4), id.get(id.len().saturating_sub(4)..)) {
        (Some(head), Some(tail)) if id.len() > 8 => format!("{head}…{tail}"),
        _ => id.to_string(),
    }
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
            let hint = if close.is_empty() {
                format!(
                    "if they were imported before, they are in the vault (`broker list` shows \
                     where each profile's keys are); {}",
                    if with_keys.is_empty() {
                        "the file holds no keys of any profile".to_string()
                    } else {
                        format!("the file holds keys of: {}", with_keys.join(", "))
                    }
                )
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
