//! IAM calls for `rotate`: create, list and delete the caller's access keys.
//!
//! Only ever returns a new secret inside [`LongTermKeys`]; errors carry key ids, never secrets.

use crate::credentials::{Credentials, LongTermKeys};
use crate::sts::{Sts, StsError};

/// IAM's endpoint, as the AWS SDKs choose it (`AWS_ENDPOINT_URL_IAM` first).
pub fn endpoint(profile_endpoint: Option<&str>) -> Option<String> {
    crate::chain::service_endpoint("AWS_ENDPOINT_URL_IAM", profile_endpoint)
}

/// An IAM client bound to one set of credentials. IAM is global and signs for us-east-1.
pub struct Iam {
    caller: Sts,
    client: aws_sdk_iam::Client,
}

impl Iam {
    pub fn new(endpoint: Option<&str>, credentials: &Credentials) -> std::io::Result<Iam> {
        let caller = Sts::new("us-east-1", endpoint)?;
        let client = aws_sdk_iam::Client::new(&caller.sdk_config(endpoint, Some(credentials)));
        Ok(Iam { caller, client })
    }

    /// CreateAccessKey for the calling user.
    pub fn create_access_key(&self) -> Result<LongTermKeys, StsError> {
        let out = self
            .caller
            .block_on(self.client.create_access_key().send())
            .map_err(|e| self.caller.error("CreateAccessKey", e))?;
        let key = out.access_key().ok_or_else(|| StsError {
            action: "CreateAccessKey",
            code: "BadResponse".into(),
            detail: "the answer held no access key".into(),
            endpoint: String::new(),
        })?;
        Ok(LongTermKeys {
            access_key_id: key.access_key_id().to_string(),
            secret_access_key: key.secret_access_key().to_string().into(),
        })
    }

    /// DeleteAccessKey of the calling user.
    pub fn delete_access_key(&self, access_key_id: &str) -> Result<(), StsError> {
        self.caller
            .block_on(
                self.client
                    .delete_access_key()
                    .access_key_id(access_key_id)
                    .send(),
            )
            .map_err(|e| self.caller.error("DeleteAccessKey", e))?;
        Ok(())
    }
}
