//! The export formats and their quoting: whatever the profile name and values, each shell's
//! output reads back (by that shell's own quoting rules, implemented below) as exactly the
//! variables and values put in, with no code outside the quotes; `env` and `ini` refuse what they
//! cannot carry; `json` parses back; `ini` reads back through the AWS SDK's own profile parser.
//!
//! Input: up to six fields separated by the byte 0xFF (which never occurs in UTF-8), each read
//! as UTF-8 (lossily):
//!   profile 0xFF access-key-id 0xFF secret 0xFF token 0xFF region 0xFF expiration
//! A missing token or region field is `None` (an empty one is `Some("")`); expiration is Unix
//! seconds in decimal, `None` when missing or not a number.
#![no_main]

use std::borrow::Cow;

use broker::credentials::Credentials;
use broker::format::{
    fish_quote, powershell_quote, render, sh_quote, variables, Format, FormatError,
};
use broker::profiles::AwsProfiles;
use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;

/// POSIX sh: a word made of `'...'` runs (all literal) and `\c` escapes; returns the value and
/// the rest after the word. `None` if the word has anything else (unquoted text would be code).
fn sh_word(text: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut chars = text.char_indices();
    let mut started = false;
    loop {
        let Some((i, c)) = chars.clone().next() else {
            return started.then_some((out, ""));
        };
        match c {
            '\'' => {
                chars.next();
                loop {
                    match chars.next() {
                        Some((_, '\'')) => break,
                        Some((_, c)) => out.push(c),
                        None => return None, // unterminated
                    }
                }
            }
            '\\' => {
                chars.next();
                match chars.next() {
                    Some((_, '\n')) | None => return None,
                    Some((_, c)) => out.push(c),
                }
            }
            _ => return started.then_some((out, &text[i..])),
        }
        started = true;
    }
}

/// fish: one `'...'` string in which only `\\` and `\'` are escapes.
fn fish_word(text: &str) -> Option<(String, &str)> {
    let mut chars = text.strip_prefix('\'')?.char_indices();
    let body_start = 1;
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            '\'' => return Some((out, &text[body_start + i + 1..])),
            '\\' => match chars.clone().next() {
                Some((_, n @ ('\\' | '\''))) => {
                    chars.next();
                    out.push(n);
                }
                _ => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    None
}

/// PowerShell's single-quote characters (Tokenizer `IsSingleQuote`).
fn ps_single_quote(c: char) -> bool {
    matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}')
}

/// PowerShell: one single-quoted string, scanned as PowerShell's tokenizer does: any quote
/// character ends it unless another quote character follows, which is then taken literally.
fn powershell_word(text: &str) -> Option<(String, &str)> {
    let first = text.chars().next()?;
    if !ps_single_quote(first) {
        return None;
    }
    let start = first.len_utf8();
    let mut chars = text[start..].char_indices().peekable();
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        if ps_single_quote(c) {
            match chars.peek() {
                Some(&(_, n)) if ps_single_quote(n) => {
                    chars.next();
                    out.push(n);
                }
                _ => return Some((out, &text[start + i + c.len_utf8()..])),
            }
        } else {
            out.push(c);
        }
    }
    None
}

type Word = fn(&str) -> Option<(String, &str)>;

/// Reads a script of `{prefix}NAME{infix}WORD{suffix}\n` lines.
fn read_script(
    script: &str,
    prefix: &str,
    infix: &str,
    suffix: &str,
    word: Word,
) -> Vec<(String, String)> {
    let mut vars = Vec::new();
    let mut rest = script;
    while !rest.is_empty() {
        let line = rest
            .strip_prefix(prefix)
            .unwrap_or_else(|| panic!("expected {prefix:?} at {rest:?}\nscript: {script:?}"));
        let name_len = line
            .bytes()
            .take_while(|b| b.is_ascii_uppercase() || *b == b'_')
            .count();
        let name = &line[..name_len];
        let after = line[name_len..]
            .strip_prefix(infix)
            .unwrap_or_else(|| panic!("expected {infix:?} after {name}\nscript: {script:?}"));
        let (value, after) =
            word(after).unwrap_or_else(|| panic!("bad quoted word for {name}\nscript: {script:?}"));
        rest = after
            .strip_prefix(suffix)
            .and_then(|r| r.strip_prefix('\n'))
            .unwrap_or_else(|| {
                panic!("code after the value of {name}: {after:?}\nscript: {script:?}")
            });
        vars.push((name.to_string(), value));
    }
    vars
}

fn owned(vars: &[(&'static str, String)]) -> Vec<(String, String)> {
    vars.iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn field(fields: &[&[u8]], i: usize) -> Option<String> {
    fields.get(i).map(|f| match String::from_utf8_lossy(f) {
        Cow::Borrowed(s) => s.to_owned(),
        Cow::Owned(s) => s,
    })
}

fn check_quoting(value: &str) {
    let q = sh_quote(value);
    assert_eq!(
        sh_word(&q),
        Some((value.to_string(), "")),
        "sh_quote({value:?}) = {q:?}"
    );
    let q = fish_quote(value);
    assert_eq!(
        fish_word(&q),
        Some((value.to_string(), "")),
        "fish_quote({value:?}) = {q:?}"
    );
    let q = powershell_quote(value);
    assert_eq!(
        powershell_word(&q),
        Some((value.to_string(), "")),
        "powershell_quote({value:?}) = {q:?}"
    );
}

/// Whether the AWS SDK's profile parser reads `value` back unchanged: it trims spaces and tabs
/// around a value, and whitespace (Unicode's) followed by `#` or `;` starts a comment, which
/// includes a value that starts with one (it follows the space of ` = `).
fn ini_value_ok(value: &str) -> bool {
    !value.chars().any(char::is_control)
        && value.trim_matches([' ', '\t']) == value
        && !value.starts_with(['#', ';'])
        && !value
            .chars()
            .zip(value.chars().skip(1))
            .any(|(a, b)| a.is_whitespace() && matches!(b, '#' | ';'))
}

/// Whether the AWS SDK's parser can hold a profile of this name at all (only such names reach
/// `export`: the profile must be in the AWS config).
fn sdk_profile_name(profile: &str) -> bool {
    AwsProfiles::from_texts(&format!("[profile {profile}]\n"), "")
        .is_ok_and(|aws| aws.names() == [profile])
}

fuzz_target!(|data: &[u8]| {
    let fields: Vec<&[u8]> = data.split(|&b| b == 0xFF).collect();
    let profile = field(&fields, 0).unwrap_or_default();
    let id = field(&fields, 1).unwrap_or_default();
    let secret = field(&fields, 2).unwrap_or_default();
    let token = field(&fields, 3);
    let region = field(&fields, 4);
    let expiration = field(&fields, 5)
        .and_then(|t| t.trim().parse::<i64>().ok())
        .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0));

    for value in [
        Some(&profile),
        Some(&id),
        Some(&secret),
        token.as_ref(),
        region.as_ref(),
    ]
    .into_iter()
    .flatten()
    {
        check_quoting(value);
    }

    let creds = Credentials {
        access_key_id: id.clone(),
        secret_access_key: SecretString::from(secret.clone()),
        session_token: token.clone().map(SecretString::from),
        expiration,
    };
    let region = region.as_deref();
    let vars = variables(&creds, region);
    let expected = owned(&vars);
    let has_control = vars.iter().any(|(_, v)| v.chars().any(char::is_control));

    let sh = render(Format::Sh, &profile, &creds, region).expect("sh never fails");
    assert_eq!(read_script(&sh, "export ", "=", "", sh_word), expected);

    let fish = render(Format::Fish, &profile, &creds, region).expect("fish never fails");
    assert_eq!(
        read_script(&fish, "set -gx ", " ", ";", fish_word),
        expected
    );

    let ps = render(Format::Powershell, &profile, &creds, region).expect("powershell never fails");
    assert_eq!(
        read_script(&ps, "$env:", " = ", "", powershell_word),
        expected
    );

    match render(Format::Env, &profile, &creds, region) {
        Ok(env) => {
            assert!(!has_control, "env carried a control character: {env:?}");
            let got: Vec<(String, String)> = env
                .lines()
                .map(|l| {
                    let (k, v) = l.split_once('=').expect("KEY=value");
                    (k.to_string(), v.to_string())
                })
                .collect();
            assert_eq!(got, expected);
        }
        Err(e) => {
            assert!(has_control, "env refused a clean value: {e}");
            assert_eq!(e, FormatError::Unrepresentable("env"));
        }
    }

    let json = render(Format::Json, &profile, &creds, region).expect("json never fails");
    let v: serde_json::Value = serde_json::from_str(&json).expect("json parses");
    assert_eq!(v["Version"], 1);
    assert_eq!(v["AccessKeyId"], id.as_str());
    assert_eq!(v["SecretAccessKey"], secret.as_str());
    match &token {
        Some(t) => assert_eq!(v["SessionToken"], t.as_str()),
        None => assert!(v.get("SessionToken").is_none()),
    }
    match creds.expiration_rfc3339() {
        Some(e) => assert_eq!(v["Expiration"], e.as_str()),
        None => assert!(v.get("Expiration").is_none()),
    }

    let ini_ok = vars.iter().all(|(_, v)| ini_value_ok(v));
    let bad_section = profile.is_empty()
        || profile
            .chars()
            .any(|c| c.is_control() || c == '[' || c == ']');
    match render(Format::Ini, &profile, &creds, region) {
        Ok(ini) => {
            assert!(!bad_section && ini_ok, "ini carried a bad value: {ini:?}");
            if sdk_profile_name(&profile) {
                let aws = AwsProfiles::from_texts("", &ini)
                    .unwrap_or_else(|e| panic!("ini does not parse: {e}\n{ini:?}"));
                let get = |key| aws.get(&profile, key).map(str::to_owned);
                let ini_expected = [
                    ("aws_access_key_id", Some(id.clone())),
                    ("aws_secret_access_key", Some(secret.clone())),
                    ("aws_session_token", token.clone()),
                    ("region", region.map(str::to_owned)),
                ];
                for (key, want) in ini_expected {
                    assert_eq!(get(key), want, "ini {key} does not read back\n{ini:?}");
                }
            }
        }
        Err(e) if bad_section => assert!(matches!(e, FormatError::BadSection(_)), "{e}"),
        Err(e) => {
            assert!(!ini_ok, "ini refused a clean value: {e}");
            assert_eq!(e, FormatError::Unrepresentable("ini"));
        }
    }
});
