//! The one JOSE form aws-vault's file store writes (its keyring library through jose2go): a
//! compact JWE, `PBES2-HS256+A128KW` key wrapping with a passphrase, `A256GCM` content
//! encryption (RFC 7516, RFC 7518 §4.8 and §5.3). Decryption only: broker never writes
//! aws-vault's store. Keys and plaintext live in zeroing memory.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use base64::Engine;
use serde::Deserialize;
use zeroize::Zeroizing;

const ALG: &str = "PBES2-HS256+A128KW";
const ENC: &str = "A256GCM";
/// PBKDF2 iterations accepted: jose2go writes 8192 and refuses more than 310000 for A128KW;
/// fewer than 1000 is no key stretching.
const ITERATIONS: std::ops::RangeInclusive<u32> = 1000..=1_000_000;

/// Why a file of aws-vault's store does not decrypt.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JoseError {
    #[error("not a compact JWE")]
    NotJwe,
    #[error("encrypted as {alg} with {enc}, not {ALG} with {ENC}")]
    Unsupported { alg: String, enc: String },
    #[error("a PBKDF2 count of {0}, outside 1000 to 1000000")]
    Iterations(u32),
    #[error("the passphrase does not open it")]
    WrongPassphrase,
    #[error("its content does not match its tag (damaged)")]
    Damaged,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    enc: String,
    p2c: u32,
    p2s: String,
}

/// Decrypts the compact JWE `token` with `passphrase`.
pub fn decrypt(token: &str, passphrase: &[u8]) -> Result<Zeroizing<Vec<u8>>, JoseError> {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = token.trim().split('.').collect();
    let [header_text, wrapped, iv, ciphertext, tag] = parts.as_slice() else {
        return Err(JoseError::NotJwe);
    };
    let decode = |part: &str| b64.decode(part).map_err(|_| JoseError::NotJwe);
    let header: Header =
        serde_json::from_slice(&decode(header_text)?).map_err(|_| JoseError::NotJwe)?;
    if header.alg != ALG || header.enc != ENC {
        return Err(JoseError::Unsupported {
            alg: header.alg,
            enc: header.enc,
        });
    }
    if !ITERATIONS.contains(&header.p2c) {
        return Err(JoseError::Iterations(header.p2c));
    }
    // The salt is the algorithm's name, a zero byte, then p2s (RFC 7518 §4.8.1.1).
    let mut salt = format!("{ALG}\0").into_bytes();
    salt.extend(decode(&header.p2s)?);
    let mut kek = Zeroizing::new([0u8; 16]);
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(passphrase, &salt, header.p2c, kek.as_mut());
    let mut cek = Zeroizing::new([0u8; 32]);
    aes_kw::KekAes128::from(*kek)
        .unwrap(&decode(wrapped)?, cek.as_mut())
        .map_err(|_| JoseError::WrongPassphrase)?;
    let iv = decode(iv)?;
    if iv.len() != 12 {
        return Err(JoseError::NotJwe);
    }
    let mut sealed = decode(ciphertext)?;
    sealed.extend(decode(tag)?);
    let cipher = aes_gcm::Aes256Gcm::new_from_slice(cek.as_ref()).map_err(|_| JoseError::NotJwe)?;
    let plain = cipher
        .decrypt(
            aes_gcm::Nonce::from_slice(&iv),
            Payload {
                msg: &sealed,
                aad: header_text.as_bytes(),
            },
        )
        .map_err(|_| JoseError::Damaged)?;
    Ok(Zeroizing::new(plain))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Made by python-jwcrypto 1.6.1: `JWE(b'{"Key":"alice"}', protected=json.dumps({"alg":
    /// "PBES2-HS256+A128KW", "enc": "A256GCM", "p2c": 8192}))` with the passphrase "pw".
    const TOKEN: &str = "eyJhbGciOiJQQkVTMi1IUzI1NitBMTI4S1ciLCJlbmMiOiJBMjU2R0NNIiwicDJjIjo4MTkyLCJwMnMiOiJCWVF1RmZSNWJUTnc1U3JPS1hRSDR3In0.-cUCnERrnqafwhVZVEamXwK3_8RKrhBeVNjvpDTTh-R3sPPi6tggkw.4J3i3bXQBvTChqwl.bd3200Fi5VP-KcLcPlgC._wS5Tv_w-_TzjUheBa0jOA";

    #[test]
    fn decrypts_with_the_right_passphrase_only() {
        assert_eq!(&decrypt(TOKEN, b"pw").unwrap()[..], br#"{"Key":"alice"}"#);
        assert_eq!(decrypt(TOKEN, b"wrong"), Err(JoseError::WrongPassphrase));
        assert_eq!(decrypt("a.b.c", b"pw"), Err(JoseError::NotJwe));
        let mut damaged = TOKEN.to_string();
        damaged.replace_range(damaged.len() - 3.., "AAA");
        assert_eq!(decrypt(&damaged, b"pw"), Err(JoseError::Damaged));
    }
}
