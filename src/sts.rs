//! STS calls: GetSessionToken, AssumeRole, AssumeRoleWithWebIdentity, GetFederationToken,
//! GetCallerIdentity.
//!
//! Built only when a call must be made (the cached path never comes here). Never logs a
//! secret: requests are described by their action, role and endpoint only.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::aws::{AwsError, Client};
use crate::chain::{Chain, RoleHop};
use crate::credentials::Credentials;
use crate::net::NetError;

/// The MFA device and the code typed for it.
pub struct Mfa<'a> {
    pub serial: &'a str,
    pub code: &'a SecretString,
}

pub struct Sts {
    aws: Client,
}

impl Sts {
    /// STS as `chain` reaches it: its endpoint, region and network settings.
    pub fn new(chain: &Chain, timeout: Duration) -> Result<Sts, NetError> {
        Ok(Sts {
            aws: Client::new(&chain.net, &chain.sts, &chain.region, timeout)?,
        })
    }

    fn client(&self, credentials: Option<&Credentials>) -> aws_sdk_sts::Client {
        crate::aws::sdk_client!(aws_sdk_sts, self.aws.sdk_config(credentials))
    }
    /// GetSessionToken with the long-term keys, with MFA when given.
    pub fn get_session_token(
        &self,
        keys: &Credentials,
        duration: Duration,
        mfa: Option<Mfa<'_>>,
    ) -> Result<Credentials, AwsError> {
        let mut call = self
            .client(Some(keys))
            .get_session_token()
            .duration_seconds(secs(duration));
        if let Some(mfa) = mfa {
            call = call
                .serial_number(mfa.serial)
                .token_code(mfa.code.expose_secret());
        }
        let out = self.aws.call("GetSessionToken", call.send())?;
        convert(out.credentials(), "GetSessionToken")
    }

    /// AssumeRole for one hop, with MFA (when not already inside an MFA'd session) and tags.
    pub fn assume_role(
        &self,
        credentials: &Credentials,
        hop: &RoleHop,
        mfa: Option<Mfa<'_>>,
        tags: &[(String, String)],
        transitive_tag_keys: &[String],
    ) -> Result<Credentials, AwsError> {
        let mut call = self
            .client(Some(credentials))
            .assume_role()
            .role_arn(&hop.role_arn)
            .role_session_name(&hop.session_name)
            .duration_seconds(secs(hop.duration))
            .set_external_id(hop.external_id.clone())
            .set_source_identity(hop.source_identity.clone());
        if let Some(mfa) = mfa {
            call = call
                .serial_number(mfa.serial)
                .token_code(mfa.code.expose_secret());
        }
        for tag in Self::tags("AssumeRole", tags)? {
            call = call.tags(tag);
        }
        for key in transitive_tag_keys {
            call = call.transitive_tag_keys(key);
        }
        let out = self.aws.call("AssumeRole", call.send())?;
        convert(out.credentials(), "AssumeRole")
    }

    /// STS session tags from key-value pairs.
    fn tags(
        action: &'static str,
        tags: &[(String, String)],
    ) -> Result<Vec<aws_sdk_sts::types::Tag>, AwsError> {
        tags.iter()
            .map(|(key, value)| {
                aws_sdk_sts::types::Tag::builder()
                    .key(key)
                    .value(value)
                    .build()
                    .map_err(|e| AwsError::invalid_input(action, e.to_string()))
            })
            .collect()
    }

    /// GetFederationToken with the long-term keys: a console session for a plain IAM user. The
    /// inline policy allows everything, so the session gets exactly the user's permissions.
    pub fn get_federation_token(
        &self,
        keys: &Credentials,
        name: &str,
        duration: Duration,
        tags: &[(String, String)],
    ) -> Result<Credentials, AwsError> {
        const ALLOW_ALL: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
        let call = self
            .client(Some(keys))
            .get_federation_token()
            .name(name)
            .policy(ALLOW_ALL)
            .duration_seconds(secs(duration))
            .set_tags(Some(Self::tags("GetFederationToken", tags)?).filter(|t| !t.is_empty()));
        let out = self.aws.call("GetFederationToken", call.send())?;
        convert(out.credentials(), "GetFederationToken")
    }

    /// GetCallerIdentity: the ARN these credentials act as.
    pub fn caller_arn(&self, credentials: &Credentials) -> Result<String, AwsError> {
        let out = self.aws.call(
            "GetCallerIdentity",
            self.client(Some(credentials)).get_caller_identity().send(),
        )?;
        Ok(out.arn().unwrap_or_default().to_string())
    }

    /// AssumeRoleWithWebIdentity: an unsigned call carrying the token.
    pub fn assume_role_with_web_identity(
        &self,
        hop: &RoleHop,
        token: &SecretString,
    ) -> Result<Credentials, AwsError> {
        let call = self
            .client(None)
            .assume_role_with_web_identity()
            .role_arn(&hop.role_arn)
            .role_session_name(&hop.session_name)
            .duration_seconds(secs(hop.duration))
            .web_identity_token(token.expose_secret());
        let out = self.aws.call("AssumeRoleWithWebIdentity", call.send())?;
        convert(out.credentials(), "AssumeRoleWithWebIdentity")
    }
}

fn secs(d: Duration) -> i32 {
    i32::try_from(d.as_secs()).unwrap_or(i32::MAX)
}

fn convert(
    creds: Option<&aws_sdk_sts::types::Credentials>,
    action: &'static str,
) -> Result<Credentials, AwsError> {
    let bad = || AwsError::bad_response(action, "usable credentials");
    let c = creds.ok_or_else(bad)?;
    let expiration = chrono::DateTime::from_timestamp(c.expiration().secs(), 0).ok_or_else(bad)?;
    Ok(Credentials {
        access_key_id: c.access_key_id().to_string(),
        secret_access_key: SecretString::from(c.secret_access_key().to_string()),
        session_token: Some(SecretString::from(c.session_token().to_string())),
        expiration: Some(expiration),
    })
}
