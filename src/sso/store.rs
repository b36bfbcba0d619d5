//! What the vault keeps of an SSO session: its client registration and its tokens, as one
//! secret item. Never written anywhere else.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{Flow, Result};
use crate::aws::AwsError;
use crate::chain::SsoSession;
use crate::credentials::serialize_secret;
use crate::vault::Vault;

/// The client registration and tokens of one session, as the vault keeps them.
#[derive(Serialize, Deserialize)]
pub(super) struct Stored {
    pub(super) start_url: String,
    pub(super) region: String,
    pub(super) client: Option<Registration>,
    #[serde(default, serialize_with = "serialize_opt")]
    pub(super) access_token: Option<SecretString>,
    pub(super) expires_at: Option<DateTime<Utc>>,
    #[serde(default, serialize_with = "serialize_opt")]
    pub(super) refresh_token: Option<SecretString>,
}

#[derive(Serialize, Deserialize)]
pub(super) struct Registration {
    pub(super) id: String,
    #[serde(serialize_with = "serialize_secret")]
    pub(super) secret: SecretString,
    pub(super) expires_at: DateTime<Utc>,
    pub(super) flow: Flow,
}

fn serialize_opt<S: serde::Serializer>(
    secret: &Option<SecretString>,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    match secret {
        Some(s) => serializer.serialize_some(s.expose_secret()),
        None => serializer.serialize_none(),
    }
}

impl Stored {
    pub(super) fn read(vault: &dyn Vault, session: &SsoSession) -> Result<Option<Stored>> {
        let Some(secret) = vault.get(&session.vault_item())? else {
            return Ok(None);
        };
        // Something unreadable, or made for another start URL, counts as no sign-in.
        Ok(serde_json::from_str::<Stored>(secret.expose_secret())
            .ok()
            .filter(|s| s.start_url == session.start_url && s.region == session.region))
    }

    pub(super) fn write(&self, vault: &dyn Vault, session: &SsoSession) -> Result<()> {
        let json = Zeroizing::new(serde_json::to_string(self).expect("tokens serialise"));
        vault.set(&session.vault_item(), &SecretString::from(json.as_str()))?;
        Ok(())
    }

    /// The access token, if it has more than `margin` left.
    pub(super) fn usable_token(&self, margin: Duration) -> Option<&SecretString> {
        let left = self.expires_at? - crate::clock::now();
        (left > TimeDelta::from_std(margin).unwrap_or(TimeDelta::MAX))
            .then_some(self.access_token.as_ref())
            .flatten()
    }
}

/// Whether the vault holds a sign-in for `session`, and until when its access token lasts.
pub fn signed_in_until(vault: &dyn Vault, session: &SsoSession) -> Result<Option<DateTime<Utc>>> {
    Ok(Stored::read(vault, session)?
        .filter(|s| s.access_token.is_some())
        .and_then(|s| s.expires_at))
}

/// Takes the tokens of a CreateToken answer.
pub(super) fn set_tokens(
    stored: &mut Stored,
    out: &aws_sdk_ssooidc::operation::create_token::CreateTokenOutput,
) -> Result<()> {
    let token = out
        .access_token()
        .ok_or_else(|| AwsError::bad_response("CreateToken", "access token"))?;
    stored.access_token = Some(SecretString::from(token));
    stored.expires_at = Some(crate::clock::now() + TimeDelta::seconds(out.expires_in().into()));
    if let Some(refresh) = out.refresh_token() {
        stored.refresh_token = Some(SecretString::from(refresh));
    }
    Ok(())
}
