//! Human durations (`15m`, `1h`, `3600s`, `1h30m`): the one parser for flags and config, and
//! the one wording for every duration broker refuses, malformed or out of AWS's range:
//! ``invalid duration `VALUE` [for WHERE]: REASON``.
//!
//! A bare number is refused: `3600` could mean seconds (as `duration_seconds` does) or minutes,
//! so broker asks for `3600s`. Never panics on input.

use std::time::Duration;

/// AWS's bounds on `DurationSeconds`.
pub const MIN_DURATION: Duration = Duration::from_secs(900);

/// A duration broker refuses.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
#[error("invalid duration `{value}`{}: {reason}", place.as_ref().map(|p| format!(" for {p}")).unwrap_or_default())]
pub struct DurationError {
    /// As given (malformed), or as formatted (out of range).
    pub value: String,
    /// The flag or setting it was given for, when known.
    pub place: Option<String>,
    pub reason: Reason,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
pub enum Reason {
    #[error("expected a number with a unit, like 15m, 1h or 3600s")]
    Malformed,
    /// Not Go's duration syntax (aws-vault's variables).
    #[error("expected a duration like 1h, 90m, 1h30m or 1.5h")]
    MalformedGo,
    #[error("a number needs a unit, like {0}s")]
    NoUnit(String),
    #[error("too large")]
    TooLarge,
    /// AWS's bounds, for what (a role, a session token…).
    #[error("AWS allows {} to {}{}", format(*.min), format(*.max), .what.map(|w| format!(" for {w}")).unwrap_or_default())]
    OutOfRange {
        min: Duration,
        max: Duration,
        what: Option<&'static str>,
    },
}

impl DurationError {
    fn new(value: &str, reason: Reason) -> DurationError {
        DurationError {
            value: value.to_string(),
            place: None,
            reason,
        }
    }

    /// Says which flag or setting the duration was given for.
    pub fn at(mut self, place: impl Into<String>) -> DurationError {
        self.place = Some(place.into());
        self
    }
}

/// The error for `d` outside `min..=max`, or `Ok` inside.
pub fn check_range(
    d: Duration,
    min: Duration,
    max: Duration,
    what: Option<&'static str>,
) -> Result<Duration, DurationError> {
    if d < min || d > max {
        return Err(DurationError::new(
            &format(d),
            Reason::OutOfRange { min, max, what },
        ));
    }
    Ok(d)
}

/// Parses `15m`, `1h`, `3600s`, `1h30m`, `2d`.
pub fn parse(text: &str) -> Result<Duration, DurationError> {
    let trimmed = text.trim();
    let invalid = || DurationError::new(trimmed, Reason::Malformed);
    let too_large = || DurationError::new(trimmed, Reason::TooLarge);
    if trimmed.is_empty() {
        return Err(invalid());
    }
    if trimmed.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DurationError::new(
            trimmed,
            Reason::NoUnit(trimmed.to_string()),
        ));
    }
    let mut total: u64 = 0;
    let mut rest = trimmed;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(invalid());
        }
        let number: u64 = rest[..digits].parse().map_err(|_| too_large())?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = match &rest[..unit_len] {
            "s" | "sec" | "secs" => 1,
            "m" | "min" | "mins" => 60,
            "h" | "hr" | "hrs" => 3600,
            "d" => 86_400,
            _ => return Err(invalid()),
        };
        rest = &rest[unit_len..];
        total = number
            .checked_mul(unit)
            .and_then(|s| total.checked_add(s))
            .ok_or_else(too_large)?;
    }
    Ok(Duration::from_secs(total))
}

/// Parses Go's duration syntax (`time.ParseDuration`), which aws-vault's variables use: a
/// sequence of numbers, each with an optional fraction and a unit (`ns`, `us`, `µs`, `ms`, `s`,
/// `m`, `h`), like `1h`, `90m`, `1h30m`, `1.5h`, `500ms`; `0` alone is zero. Rounded to whole
/// seconds. A sign is refused: a negative duration means nothing here.
pub fn parse_go(text: &str) -> Result<Duration, DurationError> {
    const NANOS: u128 = 1_000_000_000;
    let trimmed = text.trim();
    let invalid = || DurationError::new(trimmed, Reason::MalformedGo);
    let too_large = || DurationError::new(trimmed, Reason::TooLarge);
    if trimmed == "0" {
        return Ok(Duration::ZERO);
    }
    if trimmed.is_empty() {
        return Err(invalid());
    }
    let mut rest = trimmed;
    let mut total: u128 = 0;
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    while !rest.is_empty() {
        let int_len = digits(rest);
        let int = &rest[..int_len];
        rest = &rest[int_len..];
        let frac = match rest.strip_prefix('.') {
            Some(after) => {
                let n = digits(after);
                rest = &after[n..];
                &after[..n]
            }
            None => "",
        };
        if int.is_empty() && frac.is_empty() {
            return Err(invalid());
        }
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit: u128 = match &rest[..unit_len] {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => NANOS,
            "m" => 60 * NANOS,
            "h" => 3600 * NANOS,
            _ => return Err(invalid()),
        };
        rest = &rest[unit_len..];
        let whole: u128 = if int.is_empty() {
            0
        } else {
            int.parse().map_err(|_| too_large())?
        };
        // Beyond 18 digits a fraction adds less than a nanosecond to any unit.
        let frac = &frac[..frac.len().min(18)];
        let fraction = match frac {
            "" => 0,
            f => f.parse::<u128>().map_err(|_| invalid())? * unit / 10u128.pow(f.len() as u32),
        };
        total = whole
            .checked_mul(unit)
            .and_then(|n| n.checked_add(fraction))
            .and_then(|n| total.checked_add(n))
            .ok_or_else(too_large)?;
    }
    let secs = u64::try_from((total + NANOS / 2) / NANOS).map_err(|_| too_large())?;
    Ok(Duration::from_secs(secs))
}

/// How long until `at`, formatted (`12m`; `0s` once it has passed).
pub fn until(at: chrono::DateTime<chrono::Utc>) -> String {
    let left = (at - crate::clock::now()).num_seconds().max(0) as u64;
    format(Duration::from_secs(left))
}

/// Formats a duration the way `parse` reads it back, largest units first (`1h30m`, `45s`).
pub fn format(duration: Duration) -> String {
    let secs = duration.as_secs();
    if secs == 0 {
        return "0s".to_string();
    }
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 {
        out.push_str(&format!("{s}s"));
    }
    out
}

/// For `#[serde(deserialize_with = …)]` on optional durations in config.toml.
pub fn deserialize_opt<'de, D>(deserializer: D) -> Result<Option<Duration>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::Deserialize;
    let text = String::deserialize(deserializer)?;
    parse(&text).map(Some).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_documented_form() {
        assert_eq!(parse("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse("3600s"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse(" 2d "), Ok(Duration::from_secs(172_800)));
    }

    #[test]
    fn every_refusal_has_one_wording() {
        let message = |text: &str| parse(text).unwrap_err().to_string();
        assert_eq!(
            message("900"),
            "invalid duration `900`: a number needs a unit, like 900s"
        );
        assert_eq!(
            message("soon"),
            "invalid duration `soon`: expected a number with a unit, like 15m, 1h or 3600s"
        );
        assert_eq!(
            parse("99999999999999999999h")
                .unwrap_err()
                .at("--duration")
                .to_string(),
            "invalid duration `99999999999999999999h` for --duration: too large"
        );
        let hour = Duration::from_secs(3600);
        assert_eq!(
            check_range(13 * hour, hour / 4, 12 * hour, Some("a role"))
                .unwrap_err()
                .to_string(),
            "invalid duration `13h`: AWS allows 15m to 12h for a role"
        );
        assert_eq!(check_range(hour, hour / 4, 12 * hour, None), Ok(hour));
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        for bad in [
            "",
            "m",
            "15x",
            "-5m",
            "1.5h",
            "h1",
            "99999999999999999999",
            "1h-",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert_eq!(
            parse("999999999999999999h").unwrap_err().reason,
            Reason::TooLarge
        );
    }

    #[test]
    fn go_durations_as_aws_vault_reads_them() {
        let secs = |text: &str| parse_go(text).map(|d| d.as_secs());
        assert_eq!(secs("1h"), Ok(3600));
        assert_eq!(secs("90m"), Ok(5400));
        assert_eq!(secs("1h30m"), Ok(5400));
        assert_eq!(secs("1.5h"), Ok(5400));
        assert_eq!(secs("500ms"), Ok(1), "rounded to the second");
        assert_eq!(secs("1m30.4s"), Ok(90));
        assert_eq!(secs("2h0m0s"), Ok(7200));
        assert_eq!(secs(".5m"), Ok(30));
        assert_eq!(secs("0"), Ok(0));
        for bad in ["", "3600", "1x", "h", "-1h", "1h-", ".h", "1..5h", "1d"] {
            assert_eq!(
                parse_go(bad).unwrap_err().reason,
                Reason::MalformedGo,
                "{bad:?}"
            );
        }
        assert_eq!(
            parse_go("99999999999999999999999999999h")
                .unwrap_err()
                .reason,
            Reason::TooLarge
        );
        assert_eq!(
            parse_go("1x")
                .unwrap_err()
                .at("AWS_ASSUME_ROLE_TTL")
                .to_string(),
            "invalid duration `1x` for AWS_ASSUME_ROLE_TTL: expected a duration like 1h, 90m, \
             1h30m or 1.5h"
        );
    }

    #[test]
    fn format_round_trips() {
        for secs in [1, 59, 60, 900, 3600, 5400, 43_200, 3661] {
            let d = Duration::from_secs(secs);
            assert_eq!(parse(&format(d)), Ok(d));
        }
    }
}
