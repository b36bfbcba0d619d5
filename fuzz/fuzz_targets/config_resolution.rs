//! Config resolution never panics: config.toml, the AWS config and credentials files, and every
//! profile of them resolved into a chain and planned. Every error and every notice, as broker
//! prints it, is one line without raw control characters.
//!
//! Input: up to six fields separated by the byte 0xFF (which never occurs in UTF-8), each read
//! as UTF-8 (lossily):
//!   config.toml 0xFF aws-config 0xFF aws-credentials 0xFF duration 0xFF region 0xFF flags
//! A missing field is empty (no duration, no region). `duration` goes through
//! `broker::duration::parse`; flags byte bit 0 = `--no-session`.
#![no_main]

use std::borrow::Cow;

use broker::chain::{self, Request};
use broker::environment::Environment;
use broker::profiles::AwsProfiles;
use broker::settings::Settings;
use libfuzzer_sys::fuzz_target;

/// As broker prints it: one line, and no raw control character (escaped ones, like
/// `\u{1b}`, are fine).
fn check_line(what: &str, text: &str) {
    let shown = broker::error::one_line(text);
    assert!(
        !shown.chars().any(broker::sanitize::is_unsafe),
        "{what} is not one clean line: {shown:?}"
    );
}

/// An error as broker prints it: `broker: error: …` on one line, then at most a hint.
fn check_error(what: &str, err: broker::error::Error) {
    let shown = err.render(true);
    let mut lines = shown.lines();
    let first = lines.next().unwrap_or_default();
    assert!(first.starts_with("broker: error: "), "{what}: {shown:?}");
    for line in std::iter::once(first).chain(lines) {
        assert!(
            !line.chars().any(broker::sanitize::is_unsafe),
            "{what} is not clean: {shown:?}"
        );
    }
}

fn field(fields: &[&[u8]], i: usize) -> Option<String> {
    fields.get(i).map(|f| match String::from_utf8_lossy(f) {
        Cow::Borrowed(s) => s.to_owned(),
        Cow::Owned(s) => s,
    })
}

fuzz_target!(|data: &[u8]| {
    let fields: Vec<&[u8]> = data.split(|&b| b == 0xFF).collect();
    let settings_text = field(&fields, 0).unwrap_or_default();
    let config = field(&fields, 1).unwrap_or_default();
    let credentials = field(&fields, 2).unwrap_or_default();
    let duration = field(&fields, 3).and_then(|d| broker::duration::parse(&d).ok());
    let region = field(&fields, 4).filter(|r| !r.is_empty());
    let no_session = fields
        .get(5)
        .and_then(|f| f.first())
        .is_some_and(|b| b & 1 == 1);

    let settings = match Settings::parse(&settings_text) {
        Ok(s) => s,
        Err(e) => {
            check_line("Settings::parse error", &e.to_string());
            Settings::default()
        }
    };
    let aws = match AwsProfiles::from_texts(&config, &credentials) {
        Ok(aws) => aws,
        Err(e) => {
            check_error("AwsProfiles::from_texts error", e.into());
            return;
        }
    };
    let env = Environment::from_pairs(&[("HOME", "/home/fuzz"), ("USER", "fuzz")]);
    let mut names = aws.names();
    // Names that are not profiles take the UnknownProfile path.
    names.push(String::new());
    names.push("nope\x1b[2J\n".to_string());
    for name in &names {
        let policy = settings.policy(name).cloned().unwrap_or_default();
        let requests = [
            Request::default(),
            Request {
                duration,
                region: region.clone(),
                no_session,
                max_duration: broker::policy::max_duration(&policy),
            },
        ];
        for request in &requests {
            match chain::resolve(name, &aws, &settings, &env, request) {
                Ok(chain) => {
                    for notice in &chain.notices {
                        check_line("notice", notice);
                    }
                    assert_eq!(&chain.profile, name);
                    assert!(chain.hops.iter().all(|h| h.duration >= chain::MIN_DURATION));
                    let tags = [("BrokerReason".to_string(), "fuzz".to_string())];
                    match broker::plan::plan(&chain, &tags) {
                        Ok(plan) => plan.notices.iter().for_each(|n| check_line("plan", n)),
                        Err(e) => check_error(
                            "PlanError",
                            broker::engine::EngineError::from(e).into(),
                        ),
                    }
                }
                Err(e) => check_error("ChainError", e.into()),
            }
        }
        // The policy check must not panic either (`yes` so it never asks on a terminal).
        if let Err(e) = broker::policy::check(name, &policy, Some("fuzz"), true, false) {
            check_error("policy::check error", e.into());
        }
    }
});
