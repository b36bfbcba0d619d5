//! `broker::duration::parse` never panics; every duration it accepts formats back to itself; and
//! every error, as broker prints it, is one line without raw control characters.
//!
//! Input: the text to parse. Its first 8 bytes, as a little-endian u64, are also formatted as
//! seconds and parsed back, so `format` is checked over the whole u64 range too.
#![no_main]

use std::time::Duration;

use broker::duration::{format, parse};
use libfuzzer_sys::fuzz_target;

fn clean_line(text: &str) -> bool {
    !broker::error::one_line(text)
        .chars()
        .any(broker::sanitize::is_unsafe)
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        match parse(text) {
            Ok(d) => {
                let shown = format(d);
                assert_eq!(parse(&shown), Ok(d), "format({d:?}) = {shown:?}");
            }
            Err(e) => {
                let msg = e.to_string();
                assert!(
                    clean_line(&msg),
                    "error message has a control character: {msg:?}"
                );
            }
        }
    }
    if data.len() >= 8 {
        let secs = u64::from_le_bytes(data[..8].try_into().unwrap());
        let d = Duration::from_secs(secs);
        let shown = format(d);
        assert_eq!(parse(&shown), Ok(d), "format({d:?}) = {shown:?}");
    }
});
