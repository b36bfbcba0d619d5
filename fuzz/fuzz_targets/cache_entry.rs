//! The cache-entry codec.
//!
//! Input byte 0 chooses the mode:
//! - even: the rest is an entry file; `decode_entry` must never panic on it.
//! - odd: the rest builds a `Stored` (via `arbitrary`); `encode_entry` then `decode_entry` must
//!   give back exactly the same entry. The ciphertext is then altered at one place chosen by the
//!   input; decoding that must not panic, and must never yield a different entry.
#![no_main]

use std::sync::OnceLock;

use arbitrary::{Arbitrary, Unstructured};
use broker::cache::{decode_entry, encode_entry, SealKey, Stored};
use broker::credentials::Credentials;
use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;
use secrecy::{ExposeSecret, SecretString};

/// A fixed cache secret, used only by this fuzz target (its seed files are sealed with the key
/// derived from it).
const SECRET: [u8; 32] = *b"broker-fuzz-cache-entry-secret!!";

fn key() -> &'static SealKey {
    static KEY: OnceLock<SealKey> = OnceLock::new();
    KEY.get_or_init(|| SealKey::from_secret(&SECRET))
}

#[derive(Arbitrary, Debug)]
struct Entry {
    key: String,
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
    issued: (i64, u32),
    expiration: Option<(i64, u32)>,
    /// Where to alter the ciphertext, and with what.
    tamper_at: usize,
    tamper_xor: u8,
}

/// Any instant chrono can hold (seconds folded into its range; nanoseconds up to 2e9, which
/// chrono accepts only as a leap second).
fn time((secs, nanos): (i64, u32)) -> Option<DateTime<Utc>> {
    let (min, max) = (
        DateTime::<Utc>::MIN_UTC.timestamp(),
        DateTime::<Utc>::MAX_UTC.timestamp(),
    );
    let secs = min + i64::try_from(i128::from(secs).rem_euclid(i128::from(max - min) + 1)).ok()?;
    DateTime::from_timestamp(secs, nanos % 2_000_000_000)
}

fn same(a: &Stored, b: &Stored) -> bool {
    let (x, y) = (&a.credentials, &b.credentials);
    a.key == b.key
        && a.issued == b.issued
        && x.access_key_id == y.access_key_id
        && x.secret_access_key.expose_secret() == y.secret_access_key.expose_secret()
        && x.session_token.as_ref().map(|t| t.expose_secret())
            == y.session_token.as_ref().map(|t| t.expose_secret())
        && x.expiration == y.expiration
}

fn describe(s: &Stored) -> String {
    let c = &s.credentials;
    format!(
        "key={:?} issued={:?} id={:?} secret={:?} token={:?} expiration={:?}",
        s.key,
        s.issued,
        c.access_key_id,
        c.secret_access_key.expose_secret(),
        c.session_token.as_ref().map(|t| t.expose_secret()),
        c.expiration
    )
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        let _ = decode_entry(key(), rest);
        return;
    }
    let Ok(entry) = Entry::arbitrary_take_rest(Unstructured::new(rest)) else {
        return;
    };
    let Some(issued) = time(entry.issued) else {
        return;
    };
    let expiration = match entry.expiration {
        Some(t) => match time(t) {
            Some(t) => Some(t),
            None => return,
        },
        None => None,
    };
    let stored = Stored {
        key: entry.key,
        issued,
        credentials: Credentials {
            access_key_id: entry.access_key_id,
            secret_access_key: SecretString::from(entry.secret_access_key),
            session_token: entry.session_token.map(SecretString::from),
            expiration,
        },
    };
    let bytes = encode_entry(key(), &stored).expect("encode_entry");
    let back = decode_entry(key(), &bytes);
    match &back {
        Some(back) => assert!(
            same(&stored, back),
            "round trip changed the entry:\n  in:  {}\n  out: {}",
            describe(&stored),
            describe(back)
        ),
        None => panic!("round trip lost the entry: {}", describe(&stored)),
    }
    let mut altered = bytes;
    let at = entry.tamper_at % altered.len();
    altered[at] ^= entry.tamper_xor.max(1);
    if let Some(out) = decode_entry(key(), &altered) {
        assert!(
            same(&stored, &out),
            "altered ciphertext (byte {at}) decoded to a different entry: {}",
            describe(&out)
        );
    }
});
