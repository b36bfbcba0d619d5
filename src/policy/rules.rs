//! The rules as written, in config.toml and in the system policy file alike: `[profile.NAME]`
//! tables (by AWS profile name) and `[[role]]` tables (by role ARN glob), with the same keys.
//! Every value is checked as it is read: a glob, a regex or a duration that is not one is an
//! error that toml places on its line.
//!
//! Holds no secret, and matches nothing itself: [`super::effective`] applies the rules.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// The longest role glob taken (IAM's longest ARN is 2048 characters).
const MAX_GLOB: usize = 2048;
/// The longest reason_pattern taken.
const MAX_PATTERN: usize = 1024;

/// A rule's keys, once, for both tables: `[[role]]` is `arn` and these. (serde's `flatten`
/// would lose `deny_unknown_fields`, and with it the error naming a misspelt key's line.)
macro_rules! rule_keys {
    ($($(#[doc = $doc:literal])* $name:ident: $ty:ty $(=> $with:literal)?,)*) => {
        /// What a rule asks of every profile it applies to.
        #[derive(Debug, Default, Clone, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct Rule {
            $(
                $(#[doc = $doc])*
                #[serde(default $(, deserialize_with = $with)?)]
                pub $name: $ty,
            )*
        }

        /// `[[role]]` as written.
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct RoleTable {
            arn: RoleGlob,
            $(
                #[serde(default $(, deserialize_with = $with)?)]
                $name: $ty,
            )*
        }

        impl From<RoleTable> for RoleRule {
            fn from(table: RoleTable) -> RoleRule {
                RoleRule {
                    arn: table.arn,
                    rule: Rule { $($name: table.$name,)* },
                }
            }
        }
    };
}

rule_keys! {
    /// Needs a reason and a typed confirmation (or `--yes`); capped at 1h unless
    /// `max_duration` says otherwise; a new session for every reason.
    break_glass: bool,
    /// Needs `--reason`.
    require_reason: bool,
    /// Caps the duration of the credentials it applies to (at least 15m, AWS's minimum).
    max_duration: Option<Duration> => "deserialize_cap",
    /// Run after issuing (and when an exec's program ends), with context, no credential.
    notify_command: Vec<String>,
    /// The reason is also sent as the `BrokerReason` session tag.
    tag_reason: bool,
    /// A regex the reason must match (a search: anchor it with `^…$`).
    reason_pattern: Option<ReasonPattern>,
    /// Run before issuing: exit 0 approves, anything else refuses.
    approve_command: Vec<String>,
    /// How long `approve_command` may take (default 5m).
    approve_timeout: Option<Duration> => "deserialize_timeout",
}

/// `[[role]]`: a rule for every chain that assumes a role matching `arn`, at any hop.
#[derive(Debug, Clone, Deserialize)]
#[serde(from = "RoleTable")]
pub struct RoleRule {
    pub arn: RoleGlob,
    pub rule: Rule,
}

/// The rules of one file. The system file holds nothing else: an unknown key there is an
/// error, as in config.toml.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    #[serde(default)]
    pub profile: BTreeMap<String, Rule>,
    #[serde(default)]
    pub role: Vec<RoleRule>,
}

impl Rules {
    pub fn is_empty(&self) -> bool {
        self.profile.is_empty() && self.role.is_empty()
    }

    pub fn len(&self) -> usize {
        self.profile.len() + self.role.len()
    }
}

/// A rule key's value that is not one.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("invalid role glob `{glob}`: {why}")]
    Glob { glob: String, why: &'static str },
    #[error("invalid reason_pattern `{pattern}`: {source}")]
    Pattern {
        pattern: String,
        source: regex_lite::Error,
    },
    #[error("invalid reason_pattern: longer than {MAX_PATTERN} characters")]
    PatternTooLong,
    #[error("max_duration `{}` is below 15m, the shortest AWS issues", crate::duration::format(*.0))]
    CapTooShort(Duration),
    #[error("approve_timeout is zero")]
    ZeroTimeout,
}

/// An IAM-style ARN glob: `*` matches any run of characters (`/` and `:` included), `?` one
/// character, ASCII case ignored (IAM role names are unique without regard to case, so a rule
/// cannot be dodged by writing a name in another case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleGlob(String);

impl RoleGlob {
    pub fn parse(text: &str) -> Result<RoleGlob, RuleError> {
        let bad = |why| RuleError::Glob {
            glob: crate::sanitize::escape(text).into_owned(),
            why,
        };
        if text.is_empty() {
            return Err(bad("it is empty"));
        }
        if text.len() > MAX_GLOB {
            return Err(bad("longer than 2048 characters"));
        }
        if text.contains(['[', ']', '{', '}', '!']) {
            return Err(bad(
                "character classes and braces are not supported (IAM wildcards are * and ?)",
            ));
        }
        if !text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_/:*?-".contains(c))
        {
            return Err(bad(
                "an ARN has only letters, digits and +=,.@_/:- (and the wildcards * and ?)",
            ));
        }
        if !(text.starts_with("arn:") || text.starts_with('*')) {
            return Err(bad(
                "it is matched against a whole role ARN: start it with arn: or *",
            ));
        }
        Ok(RoleGlob(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn matches(&self, arn: &str) -> bool {
        glob_match(self.0.as_bytes(), arn.as_bytes())
    }
}

impl<'de> Deserialize<'de> for RoleGlob {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        RoleGlob::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// `*` and `?` against ASCII-case-insensitive text, with one backtracking point: at most
/// `|glob| × |text|` steps, whatever the glob.
fn glob_match(glob: &[u8], text: &[u8]) -> bool {
    let (mut g, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if g < glob.len() && (glob[g] == b'?' || glob[g].eq_ignore_ascii_case(&text[t])) {
            g += 1;
            t += 1;
        } else if g < glob.len() && glob[g] == b'*' {
            star = Some((g, t));
            g += 1;
        } else if let Some((star_g, star_t)) = star {
            // The last `*` takes one more character.
            g = star_g + 1;
            t = star_t + 1;
            star = Some((star_g, star_t + 1));
        } else {
            return false;
        }
    }
    glob[g..].iter().all(|&c| c == b'*')
}

/// A `reason_pattern`: a regex (the `regex-lite` syntax: no Unicode classes) searched for in
/// the reason; `^…$` anchors it, `(?i)` ignores case.
#[derive(Debug, Clone)]
pub struct ReasonPattern {
    text: String,
    regex: regex_lite::Regex,
}

impl ReasonPattern {
    pub fn parse(text: &str) -> Result<ReasonPattern, RuleError> {
        if text.len() > MAX_PATTERN {
            return Err(RuleError::PatternTooLong);
        }
        let regex = bounded_regex(text, false).map_err(|source| RuleError::Pattern {
            pattern: crate::sanitize::escape(text).into_owned(),
            source,
        })?;
        Ok(ReasonPattern {
            text: text.to_string(),
            regex,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn is_match(&self, reason: &str) -> bool {
        self.regex.is_match(reason)
    }
}

impl<'de> Deserialize<'de> for ReasonPattern {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        ReasonPattern::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A regex compiled within bounds that no pattern can make broker spend much on: for
/// `reason_pattern` and `history --reason`.
pub fn bounded_regex(
    pattern: &str,
    case_insensitive: bool,
) -> Result<regex_lite::Regex, regex_lite::Error> {
    regex_lite::RegexBuilder::new(pattern)
        .case_insensitive(case_insensitive)
        .size_limit(1 << 16)
        .nest_limit(64)
        .build()
}

fn deserialize_cap<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let cap = crate::duration::deserialize_opt(d)?;
    match cap {
        Some(c) if c < crate::duration::MIN_DURATION => {
            Err(serde::de::Error::custom(RuleError::CapTooShort(c)))
        }
        _ => Ok(cap),
    }
}

fn deserialize_timeout<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let timeout = crate::duration::deserialize_opt(d)?;
    match timeout {
        Some(t) if t.is_zero() => Err(serde::de::Error::custom(RuleError::ZeroTimeout)),
        _ => Ok(timeout),
    }
}

/// TOML text (config.toml, the system policy file) that does not parse: what is wrong, and on
/// which line when TOML says.
#[derive(Debug, thiserror::Error)]
#[error("{}{}", .line.map(|l| format!("line {l}: ")).unwrap_or_default(), .source.message().trim())]
pub struct ParseError {
    pub line: Option<usize>,
    source: Box<toml::de::Error>,
}

/// Parses TOML text strictly into `T`; the error reads `line N: what is wrong`.
pub fn parse_toml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, ParseError> {
    toml::from_str(text).map_err(|source: toml::de::Error| ParseError {
        line: source
            .span()
            .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1),
        source: Box::new(source),
    })
}

#[cfg(test)]
mod tests {
    use super::parse_toml;
    use super::*;

    #[test]
    fn globs_match_as_iam_wildcards_do() {
        let glob = |g: &str| RoleGlob::parse(g).unwrap();
        let arn = "arn:aws:iam::123456789012:role/ops/SecurityBreakGlassRole";
        for (g, matches) in [
            ("arn:aws:iam::*:role/*BreakGlass*", true),
            ("arn:aws:iam::*:role/*breakglass*", true),
            ("*BREAKGLASS*", true),
            (
                "arn:aws:iam::123456789012:role/ops/SecurityBreakGlassRol?",
                true,
            ),
            (
                "arn:aws:iam::123456789012:role/ops/SecurityBreakGlassRol",
                false,
            ),
            ("arn:aws:iam::*:role/Security*", false),
            ("arn:aws:iam::*:role/*/Security*", true),
            ("arn:aws:iam::2*:role/*", false),
            ("*", true),
            ("arn:aws:iam::*:role/*BreakGlass*Role*", true),
        ] {
            assert_eq!(glob(g).matches(arn), matches, "{g}");
        }
        // A pathological glob takes its bounded time, not an exponential one.
        let long = format!("arn:{}b", "*a".repeat(200));
        assert!(!glob(&long).matches(&format!("arn:{}", "a".repeat(2000))));
    }

    #[test]
    fn globs_and_patterns_are_checked_as_they_are_read() {
        for (bad, says) in [
            ("", "it is empty"),
            ("arn:aws:iam::*:role/[Bb]reak*", "character classes"),
            ("arn:aws:iam::*:role/{a,b}", "braces"),
            ("role/BreakGlass", "start it with arn: or *"),
            ("arn:aws:iam::*:role/a b", "only letters"),
        ] {
            let err = RoleGlob::parse(bad).unwrap_err().to_string();
            assert!(err.contains(says), "{bad}: {err}");
        }
        assert!(ReasonPattern::parse("^(INC|CHG)-[0-9]+$")
            .unwrap()
            .is_match("INC-42"));
        let err = ReasonPattern::parse("^(INC").unwrap_err().to_string();
        assert!(err.starts_with("invalid reason_pattern `^(INC`:"), "{err}");
        assert!(ReasonPattern::parse(&"a".repeat(2000)).is_err());
    }

    #[test]
    fn bad_rules_name_their_line() {
        let error = |text: &str| parse_toml::<Rules>(text).unwrap_err().to_string();
        for (text, says) in [
            (
                "[[role]]\nbreak_glass = true\narn = \"arn:aws:iam::*:role/[x]\"\n",
                "line 3: invalid role glob",
            ),
            (
                "\n[[role]]\narn = \"*x*\"\nreason_pattern = \"(\"\n",
                "line 4: invalid reason_pattern `(`",
            ),
            (
                "[[role]]\nbreak_glass = true\n",
                "line 1: missing field `arn`",
            ),
            (
                "[[role]]\narn = \"*\"\nreason_regex = \"x\"\n",
                "line 3: unknown field `reason_regex`",
            ),
            (
                "[profile.x]\nmax_duration = \"5m\"\n",
                "line 2: max_duration `5m` is below 15m",
            ),
            ("[profile.x]\narn = \"*\"\n", "line 2: unknown field `arn`"),
            ("backend = \"file\"\n", "line 1: unknown field `backend`"),
            (
                "[profile.x]\napprove_timeout = \"0s\"\n",
                "line 2: approve_timeout is zero",
            ),
        ] {
            let err = error(text);
            assert!(err.starts_with(says), "{text:?}: {err}");
        }
    }

    #[test]
    fn both_tables_take_every_key() {
        let keys = "break_glass = true\nrequire_reason = true\nmax_duration = \"30m\"\n\
                    notify_command = [\"n\"]\ntag_reason = true\nreason_pattern = \"^INC\"\n\
                    approve_command = [\"a\", \"b\"]\napprove_timeout = \"10s\"\n";
        let rules: Rules =
            parse_toml(&format!("[profile.p]\n{keys}[[role]]\narn = \"*\"\n{keys}")).unwrap();
        for rule in [&rules.profile["p"], &rules.role[0].rule] {
            assert!(rule.break_glass && rule.require_reason && rule.tag_reason);
            assert_eq!(rule.max_duration, Some(Duration::from_secs(1800)));
            assert_eq!(rule.notify_command, ["n"]);
            assert_eq!(rule.reason_pattern.as_ref().unwrap().as_str(), "^INC");
            assert_eq!(rule.approve_command, ["a", "b"]);
            assert_eq!(rule.approve_timeout, Some(Duration::from_secs(10)));
        }
        assert_eq!(rules.len(), 2);
    }
}
