//! How AWS calls are retried: `AWS_RETRY_MODE`/`retry_mode` (`standard`, `adaptive`; botocore's
//! `legacy` is taken as `standard`) and `AWS_MAX_ATTEMPTS`/`max_attempts`, counted as botocore
//! counts them: every attempt, the first included (`0` means the default, 3). The SDK retries
//! throttling errors, HTTP 500/502/503/504, timeouts and failed connections with jittered
//! exponential back-off; broker adds a bare HTTP 429 (a proxy's rate limit carries no AWS code).
//! The call timeout (`BROKER_STS_TIMEOUT`) bounds a call with all its attempts.

use aws_sdk_sts::config::retry::RetryConfig;
use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::retries::classifiers::{
    ClassifyRetry, RetryAction, RetryClassifierPriority,
};

use super::Origin;

/// Attempts when nothing says otherwise: the SDKs' standard mode's.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;

/// The retry settings as written, checked when a call is made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetrySettings {
    pub mode: Option<(String, Origin)>,
    pub max_attempts: Option<(String, Origin)>,
}

#[derive(Debug, thiserror::Error)]
pub enum RetryError {
    #[error("{origin} `{value}` is not a retry mode (standard, adaptive or legacy)")]
    Mode { value: String, origin: Origin },
    #[error("{origin} `{value}` is not a number of attempts")]
    Attempts { value: String, origin: Origin },
}

/// The retries, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    pub adaptive: bool,
    /// Every attempt, the first included.
    pub max_attempts: u32,
}

impl RetrySettings {
    pub fn check(&self) -> Result<Retry, RetryError> {
        let adaptive = match &self.mode {
            None => false,
            Some((value, origin)) => match value.to_ascii_lowercase().as_str() {
                "standard" | "legacy" => false,
                "adaptive" => true,
                _ => {
                    return Err(RetryError::Mode {
                        value: value.clone(),
                        origin: origin.clone(),
                    })
                }
            },
        };
        let max_attempts = match &self.max_attempts {
            None => DEFAULT_MAX_ATTEMPTS,
            Some((value, origin)) => match value.trim().parse::<u32>() {
                Ok(0) => DEFAULT_MAX_ATTEMPTS,
                Ok(n) => n,
                Err(_) => {
                    return Err(RetryError::Attempts {
                        value: value.clone(),
                        origin: origin.clone(),
                    })
                }
            },
        };
        Ok(Retry {
            adaptive,
            max_attempts,
        })
    }
}

impl Retry {
    /// The SDK's retry configuration.
    pub fn config(&self) -> RetryConfig {
        let base = if self.adaptive {
            RetryConfig::adaptive()
        } else {
            RetryConfig::standard()
        };
        base.with_max_attempts(self.max_attempts)
    }
}

impl std::fmt::Display for Retry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mode = if self.adaptive {
            "adaptive"
        } else {
            "standard"
        };
        write!(f, "{mode}, {} attempts", self.max_attempts)
    }
}

/// Classifies a bare HTTP 429 (no AWS error code: a proxy's or a gateway's) as throttling, which
/// the SDK's own classifiers leave alone.
#[derive(Debug)]
pub struct TooManyRequests;

impl ClassifyRetry for TooManyRequests {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        match ctx.response().map(|r| r.status().as_u16()) {
            Some(429) => RetryAction::throttling_error(),
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "HTTP 429"
    }

    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::http_status_code_classifier()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(mode: Option<&str>, attempts: Option<&str>) -> Result<Retry, String> {
        let origin = Origin::Env("AWS_MAX_ATTEMPTS");
        RetrySettings {
            mode: mode.map(|m| (m.to_string(), Origin::Env("AWS_RETRY_MODE"))),
            max_attempts: attempts.map(|a| (a.to_string(), origin.clone())),
        }
        .check()
        .map_err(|e| e.to_string())
    }

    #[test]
    fn attempts_count_the_first_and_zero_is_the_default() {
        let attempts = |a| check(None, Some(a)).unwrap().max_attempts;
        assert_eq!(check(None, None).unwrap().max_attempts, 3);
        assert_eq!(attempts("0"), 3);
        assert_eq!(attempts("1"), 1);
        assert_eq!(attempts(" 5 "), 5);
        assert_eq!(
            check(None, Some("x")).unwrap_err(),
            "AWS_MAX_ATTEMPTS `x` is not a number of attempts"
        );
        assert!(check(None, Some("-1")).is_err());
        assert_eq!(check(None, Some("5")).unwrap().config().max_attempts(), 5);
    }

    #[test]
    fn legacy_is_standard_and_an_unknown_mode_is_an_error() {
        assert!(!check(Some("legacy"), None).unwrap().adaptive);
        assert!(!check(Some("Standard"), None).unwrap().adaptive);
        assert!(check(Some("adaptive"), None).unwrap().adaptive);
        assert_eq!(
            check(Some("bogus"), None).unwrap_err(),
            "AWS_RETRY_MODE `bogus` is not a retry mode (standard, adaptive or legacy)"
        );
        assert_eq!(
            check(Some("adaptive"), Some("4")).unwrap().to_string(),
            "adaptive, 4 attempts"
        );
    }
}
