//! Human durations (`15m`, `1h`, `3600s`, `1h30m`, `90`): the one parser for flags and config.
//!
//! A bare number means seconds, as in the AWS `duration_seconds` setting. Never panics on input.

use std::time::Duration;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseDurationError {
    #[error("empty duration")]
    Empty,
    #[error("invalid duration `{0}`: expected a number with a unit, like 15m, 1h or 3600s")]
    Invalid(String),
    #[error("duration `{0}` is too large")]
    TooLarge(String),
}

/// Parses `15m`, `1h`, `3600s`, `1h30m`, `2d` or plain seconds.
pub fn parse(text: &str) -> Result<Duration, ParseDurationError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(ParseDurationError::Empty);
    }
    let invalid = || ParseDurationError::Invalid(text.to_string());
    let too_large = || ParseDurationError::TooLarge(trimmed.to_string());
    if trimmed.bytes().all(|b| b.is_ascii_digit()) {
        let secs: u64 = trimmed.parse().map_err(|_| too_large())?;
        return Ok(Duration::from_secs(secs));
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
        assert_eq!(parse("900"), Ok(Duration::from_secs(900)));
        assert_eq!(parse(" 2d "), Ok(Duration::from_secs(172_800)));
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
        assert!(matches!(
            parse("999999999999999999h"),
            Err(ParseDurationError::TooLarge(_))
        ));
    }

    #[test]
    fn format_round_trips() {
        for secs in [1, 59, 60, 900, 3600, 5400, 43_200, 3661] {
            let d = Duration::from_secs(secs);
            assert_eq!(parse(&format(d)), Ok(d));
        }
    }
}
