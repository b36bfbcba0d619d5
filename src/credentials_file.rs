//! The AWS shared credentials file (`~/.aws/credentials`) line by line, for `broker import`:
//! which sections hold keys, and the same text without the key lines of chosen sections, every
//! other byte (comments, blank lines, other settings and sections, line endings) kept as it was.
//!
//! Lines mean what they mean to the AWS SDKs' own loader ([`crate::profiles`] parses with it):
//! `[NAME]` opens a section, `key = value` sets a property (key names are case-insensitive; a
//! `#` or `;` after whitespace starts a comment), a line starting with `#` or `;` is a comment,
//! and an indented line continues the property above it. Pure: reads no file, writes nothing;
//! secret values are held only in zeroing types.

use secrecy::SecretString;

/// The properties broker takes into the vault or refuses, by name.
const ACCESS_KEY_ID: &str = "aws_access_key_id";
const SECRET_ACCESS_KEY: &str = "aws_secret_access_key";
/// A session token (and its old alias) marks temporary credentials.
const SESSION_TOKENS: [&str; 2] = ["aws_session_token", "aws_security_token"];

/// What a profile's sections of the credentials file hold (sections of the same name are
/// merged, later lines winning, as the SDK merges them).
#[derive(Debug)]
pub struct Section {
    pub profile: String,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<SecretString>,
    /// Whether it holds `aws_session_token` (or `aws_security_token`).
    pub session_token: bool,
}

impl Section {
    /// Whether it holds any credential property at all.
    pub fn has_credentials(&self) -> bool {
        self.access_key_id.is_some() || self.secret_access_key.is_some() || self.session_token
    }
}

/// One line as the SDK reads it.
enum Line<'a> {
    /// Blank, or a comment.
    Nothing,
    /// `[NAME]`: the profile, or `None` for a section the SDK ignores in this file
    /// (`[profile x]`, a name with characters it does not allow).
    Header(Option<&'a str>),
    /// `key = value`, the key lower-cased.
    Property(String, &'a str),
    /// An indented line, continuing the property above.
    Continuation,
    /// Anything else (the SDK refuses the file).
    Malformed,
}

fn parse_line(raw: &str) -> Line<'_> {
    let line = raw.trim_end_matches(['\n']).trim_end_matches('\r');
    if line.trim_matches(WHITESPACE).is_empty() || line.starts_with(['#', ';']) {
        return Line::Nothing;
    }
    if line.starts_with('[') {
        let header = without_comment(line, false);
        return match header.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            Some(name) => {
                let name = name.trim_matches(WHITESPACE);
                let valid = !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_-/.%@:+".contains(c));
                Line::Header(valid.then_some(name))
            }
            None => Line::Malformed,
        };
    }
    if line.starts_with(WHITESPACE) {
        return Line::Continuation;
    }
    match without_comment(line, true).split_once('=') {
        Some((key, value)) if !key.trim_matches(WHITESPACE).is_empty() => Line::Property(
            key.trim_matches(WHITESPACE).to_ascii_lowercase(),
            value.trim_matches(WHITESPACE),
        ),
        _ => Line::Malformed,
    }
}

const WHITESPACE: &[char] = &[' ', '\t'];

/// The line without its comment, as the SDK cuts it: in a header at any `#` or `;`, in a
/// property only at one that follows whitespace.
fn without_comment(line: &str, needs_whitespace: bool) -> &str {
    let line = line.trim_matches(WHITESPACE);
    let mut previous_blank = false;
    for (i, c) in line.char_indices() {
        if (c == '#' || c == ';') && (previous_blank || !needs_whitespace) {
            return line[..i].trim_matches(WHITESPACE);
        }
        previous_blank = c.is_whitespace();
    }
    line
}

/// Walks the lines, calling `visit` with each raw line (its line break included), the profile
/// of the section it is in, and the property it belongs to (for continuation lines: the
/// property above).
fn walk<'a>(
    text: &'a str,
    mut visit: impl FnMut(&'a str, Option<&'a str>, Option<&str>, &Line<'a>),
) {
    let mut section: Option<&str> = None;
    let mut property: Option<String> = None;
    for raw in text.split_inclusive('\n') {
        let line = parse_line(raw);
        match &line {
            Line::Header(name) => {
                section = *name;
                property = None;
            }
            Line::Property(key, _) => property = Some(key.clone()),
            Line::Malformed => property = None,
            Line::Nothing | Line::Continuation => {}
        }
        visit(raw, section, property.as_deref(), &line);
    }
}

/// Every profile of the file that holds a credential property, in the order they first appear.
pub fn sections(text: &str) -> Vec<Section> {
    let mut found: Vec<Section> = Vec::new();
    walk(text, |_, section, _, line| {
        let (Some(profile), Line::Property(key, value)) = (section, line) else {
            return;
        };
        let index = match found.iter().position(|s| s.profile == profile) {
            Some(i) => i,
            None => {
                found.push(Section {
                    profile: profile.to_string(),
                    access_key_id: None,
                    secret_access_key: None,
                    session_token: false,
                });
                found.len() - 1
            }
        };
        let entry = &mut found[index];
        match key.as_str() {
            ACCESS_KEY_ID => entry.access_key_id = Some(value.to_string()),
            SECRET_ACCESS_KEY => entry.secret_access_key = Some(SecretString::from(*value)),
            k if SESSION_TOKENS.contains(&k) => entry.session_token = true,
            _ => {}
        }
    });
    found.retain(Section::has_credentials);
    found
}

/// `text` without the credential lines (`aws_access_key_id`, `aws_secret_access_key`,
/// `aws_session_token`, `aws_security_token`, and lines continuing them) of the sections of
/// `profiles`; every other line is kept byte for byte.
pub fn without_keys(text: &str, profiles: &[String]) -> String {
    let mut out = String::with_capacity(text.len());
    walk(text, |raw, section, property, line| {
        let ours = section.is_some_and(|s| profiles.iter().any(|p| p == s));
        let credential = |key: &str| {
            key == ACCESS_KEY_ID || key == SECRET_ACCESS_KEY || SESSION_TOKENS.contains(&key)
        };
        let drop = ours
            && match line {
                Line::Property(key, _) => credential(key),
                Line::Continuation => property.is_some_and(credential),
                _ => false,
            };
        if !drop {
            out.push_str(raw);
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    const FILE: &str = "\
# my keys
[default]
aws_access_key_id = AKIADEFAULT000000000
aws_secret_access_key = default/secret+key ; trailing comment
region = eu-west-1

; work account
[work] # the work one
AWS_Access_Key_Id=AKIAWORK000000000000\r
aws_secret_access_key=work#secret\r
output = json\r

[temp]
aws_access_key_id = ASIATEMP000000000000
aws_secret_access_key = temp-secret
aws_session_token = token
  continued

[profile ignored]
aws_access_key_id = AKIAIGNORED000000000
[plain]
region = us-east-1
";

    #[test]
    fn sections_hold_what_the_sdk_reads() {
        let found = sections(FILE);
        let names: Vec<_> = found.iter().map(|s| s.profile.as_str()).collect();
        assert_eq!(names, ["default", "work", "temp"]);
        assert_eq!(
            found[0].access_key_id.as_deref(),
            Some("AKIADEFAULT000000000")
        );
        assert_eq!(
            found[0].secret_access_key.as_ref().unwrap().expose_secret(),
            "default/secret+key"
        );
        assert_eq!(
            found[1].secret_access_key.as_ref().unwrap().expose_secret(),
            "work#secret",
            "a # without whitespace before it is part of the value"
        );
        assert!(!found[1].session_token);
        assert!(found[2].session_token);
        // The SDK agrees on every key id.
        let aws = crate::profiles::AwsProfiles::from_texts("", FILE).unwrap();
        for s in &found {
            assert_eq!(
                aws.get(&s.profile, ACCESS_KEY_ID),
                s.access_key_id.as_deref()
            );
        }
        assert_eq!(aws.get("ignored", ACCESS_KEY_ID), None);
    }

    #[test]
    fn removing_keys_keeps_every_other_byte() {
        let out = without_keys(FILE, &["work".into(), "temp".into()]);
        let expected = FILE
            .replace("AWS_Access_Key_Id=AKIAWORK000000000000\r\n", "")
            .replace("aws_secret_access_key=work#secret\r\n", "")
            .replace("aws_access_key_id = ASIATEMP000000000000\n", "")
            .replace("aws_secret_access_key = temp-secret\n", "")
            .replace("aws_session_token = token\n  continued\n", "");
        assert_eq!(out, expected);
        let names: Vec<_> = sections(&out).into_iter().map(|s| s.profile).collect();
        assert_eq!(names, ["default"]);
        assert_eq!(without_keys(FILE, &[]), FILE);
        assert_eq!(without_keys("", &["x".into()]), "");
    }

    #[test]
    fn a_file_without_a_final_line_break_keeps_its_last_line() {
        let text = "[a]\nregion = x\naws_access_key_id = AKIA";
        assert_eq!(without_keys(text, &["a".into()]), "[a]\nregion = x\n");
        let text = "[a]\naws_access_key_id = AKIA\nregion = x";
        assert_eq!(without_keys(text, &["a".into()]), "[a]\nregion = x");
    }
}
