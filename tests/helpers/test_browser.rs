//! The `$BROWSER` of broker's SSO tests on Windows (tests/cli/common/sso.rs): it appends its
//! arguments, as one JSON array a line, to the file named by `BROKER_TEST_BROWSER_LOG` and
//! exits at once, as an opener does; the test itself then visits the URL. (On Unix
//! tests/sso_browser.py does both. A batch file cannot stand in for it: Wine's cmd expands the
//! `%` escapes of a URL a second time.) Exits 2 unless it got exactly one argument.
//!
//! Built only with the `test-hooks` feature, for the test suite; never part of a release.

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let Some(log) = std::env::var_os("BROKER_TEST_BROWSER_LOG") else {
        eprintln!("broker-test-browser: BROKER_TEST_BROWSER_LOG is not set");
        return ExitCode::from(2);
    };
    let line = format!("{}\n", serde_json::Value::from(args.clone()));
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .and_then(|mut file| file.write_all(line.as_bytes()));
    if let Err(e) = written {
        eprintln!("broker-test-browser: {}: {e}", log.to_string_lossy());
        return ExitCode::from(2);
    }
    if args.len() == 1 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}
