//! IAM calls for `rotate`: create and delete the caller's access keys.
//!
//! Only ever returns a new secret inside [`LongTermKeys`]; errors carry key ids, never secrets.

use std::time::Duration;

use crate::aws::{AwsError, Client};
use crate::credentials::{Credentials, LongTermKeys};
use crate::endpoint::ServiceEndpoint;
use crate::net::{NetError, NetSettings};

/// An IAM client bound to one set of credentials. IAM is global and signs for us-east-1.
pub struct Iam {
    aws: Client,
    client: aws_sdk_iam::Client,
}

impl Iam {
    pub fn new(
        net: &NetSettings,
        endpoint: &ServiceEndpoint,
        timeout: Duration,
        credentials: &Credentials,
    ) -> Result<Iam, NetError> {
        let aws = Client::new(net, endpoint, "us-east-1", timeout)?;
        let client = crate::aws::sdk_client!(aws_sdk_iam, aws.sdk_config(Some(credentials)));
        Ok(Iam { aws, client })
    }

    /// CreateAccessKey for the calling user.
    pub fn create_access_key(&self) -> Result<LongTermKeys, AwsError> {
        let out = self
            .aws
            .call("CreateAccessKey", self.client.create_access_key().send())?;
        let key = out
            .access_key()
            .ok_or_else(|| AwsError::bad_response("CreateAccessKey", "access key"))?;
        Ok(LongTermKeys {
            access_key_id: key.access_key_id().to_string(),
            secret_access_key: key.secret_access_key().to_string().into(),
        })
    }

    /// DeleteAccessKey of the calling user.
    pub fn delete_access_key(&self, access_key_id: &str) -> Result<(), AwsError> {
        self.aws.call(
            "DeleteAccessKey",
            self.client
                .delete_access_key()
                .access_key_id(access_key_id)
                .send(),
        )?;
        Ok(())
    }
}
