//! The credential values broker handles, in types that redact `Debug` and zero their memory.
//!
//! Nothing here prints, logs or writes a secret; `expose_secret()` is called only where a
//! secret must leave the process (to STS, to a child's environment, to stdout on request).

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// An IAM user's long-term access key, as kept in the vault.
#[derive(Clone, Serialize, Deserialize)]
pub struct LongTermKeys {
    pub access_key_id: String,
    #[serde(serialize_with = "serialize_secret")]
    pub secret_access_key: SecretString,
}

impl std::fmt::Debug for LongTermKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LongTermKeys")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"[redacted]")
            .finish()
    }
}

impl LongTermKeys {
    /// Serialises to the JSON the vault stores, inside a zeroing string.
    pub fn to_secret_json(&self) -> SecretString {
        SecretString::from(serde_json::to_string(self).expect("keys serialise to JSON"))
    }

    /// Reads what [`to_secret_json`](Self::to_secret_json) wrote; `None` for anything else.
    pub fn from_secret_json(json: &SecretString) -> Option<LongTermKeys> {
        serde_json::from_str(json.expose_secret()).ok()
    }
}

/// Writes the secret's text; used only when serialising into a [`SecretString`] or to stdout.
pub fn serialize_secret<S: serde::Serializer>(
    secret: &SecretString,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose_secret())
}

/// Checks the shape of an access key id (`AKIA…`/`ASIA…`, upper-case letters and digits).
pub fn valid_access_key_id(id: &str) -> bool {
    (16..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// Credentials handed to a program: temporary ones from STS (with a token and an expiry), or,
/// with `--no-session`, the long-term keys themselves.
#[derive(Clone, Serialize, Deserialize)]
pub struct Credentials {
    pub access_key_id: String,
    #[serde(serialize_with = "serialize_secret")]
    pub secret_access_key: SecretString,
    #[serde(default, serialize_with = "serialize_opt_secret")]
    pub session_token: Option<SecretString>,
    #[serde(default)]
    pub expiration: Option<chrono::DateTime<chrono::Utc>>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"[redacted]")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "[redacted]"),
            )
            .field("expiration", &self.expiration)
            .finish()
    }
}

impl From<LongTermKeys> for Credentials {
    fn from(keys: LongTermKeys) -> Credentials {
        Credentials {
            access_key_id: keys.access_key_id,
            secret_access_key: keys.secret_access_key,
            session_token: None,
            expiration: None,
        }
    }
}

impl Credentials {
    /// Whether these are temporary credentials: a session token and an expiry.
    pub fn is_temporary(&self) -> bool {
        self.session_token.is_some() && self.expiration.is_some()
    }

    /// The expiry as RFC 3339 UTC with seconds, as the AWS CLI and SDKs print it.
    pub fn expiration_rfc3339(&self) -> Option<String> {
        self.expiration
            .map(|e| e.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    }
}

/// `bytes` random bytes, hex-encoded, as a secret (tokens, one-time paths, PKCE verifiers).
pub fn random_secret(bytes: usize) -> Result<SecretString, getrandom::Error> {
    let mut raw = zeroize::Zeroizing::new(vec![0u8; bytes]);
    getrandom::getrandom(&mut raw)?;
    let mut hex = zeroize::Zeroizing::new(String::with_capacity(bytes * 2));
    for b in raw.iter() {
        hex.push_str(&format!("{b:02x}"));
    }
    Ok(SecretString::from(hex.as_str()))
}

fn serialize_opt_secret<S: serde::Serializer>(
    secret: &Option<SecretString>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match secret {
        Some(s) => serializer.serialize_some(s.expose_secret()),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let keys = LongTermKeys {
            access_key_id: "AKIAEXAMPLE123456789".into(),
            secret_access_key: SecretString::from("very-secret-value"),
        };
        let shown = format!("{keys:?}");
        assert!(!shown.contains("very-secret-value"), "{shown}");
        assert!(shown.contains("[redacted]"));
    }

    #[test]
    fn json_round_trip() {
        let keys = LongTermKeys {
            access_key_id: "AKIAEXAMPLE123456789".into(),
            secret_access_key: SecretString::from("s3cr3t"),
        };
        let back = LongTermKeys::from_secret_json(&keys.to_secret_json()).unwrap();
        assert_eq!(back.access_key_id, keys.access_key_id);
        assert_eq!(back.secret_access_key.expose_secret(), "s3cr3t");
        assert!(LongTermKeys::from_secret_json(&SecretString::from("garbage")).is_none());
    }
}
