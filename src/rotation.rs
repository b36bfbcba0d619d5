//! Replacing an IAM user's access key, in steps that each leave a working key in the vault:
//! create the new key, store it, check that it works with STS, and only then let the caller
//! delete the old one. A step that fails puts things back and says exactly where they stand.
//!
//! Never shows a secret: errors name key ids only.

use std::time::Duration;

use crate::aws::{AwsCode, AwsError};
use crate::credentials::{Credentials, LongTermKeys};
use crate::iam::Iam;
use crate::output;
use crate::sts::Sts;
use crate::vault::{self, Vault};

/// How often, and how far apart, the new key is tried before it counts as not working (IAM
/// takes a few seconds to propagate a new key).
const VERIFY_ATTEMPTS: u32 = 10;
const VERIFY_PAUSE: Duration = Duration::from_secs(2);

/// What can go wrong while rotating, and where it leaves the keys.
#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    #[error(
        "profile {profile} gets its credentials from a web identity or credential_process; \
         broker has no key to rotate"
    )]
    NoKey { profile: String },
    #[error("no keys are stored for profile {profile}")]
    NotStored { profile: String },
    #[error(transparent)]
    Client(#[from] crate::net::NetError),
    #[error("could not create a new access key: {source}")]
    Create {
        old_id: String,
        #[source]
        source: AwsError,
    },
    #[error("could not store the new key: {source}")]
    Store {
        old_id: String,
        cleanup: Cleanup,
        #[source]
        source: Box<crate::vault::VaultError>,
    },
    #[error("the new key {new_id} did not work: {source}")]
    Unverified {
        old_id: String,
        new_id: String,
        /// Why the old key could not be put back into the vault, if it could not.
        not_restored: Option<Box<crate::vault::VaultError>>,
        cleanup: Cleanup,
        #[source]
        source: AwsError,
    },
    #[error("could not delete the old key {old_id}: {source}")]
    DeleteOld {
        old_id: String,
        new_id: String,
        #[source]
        source: AwsError,
    },
}

/// What became of a new key that broker could not use: deleted again, or left in IAM.
#[derive(Debug)]
pub enum Cleanup {
    Deleted {
        new_id: String,
    },
    Left {
        new_id: String,
        error: Box<AwsError>,
    },
}

impl std::fmt::Display for Cleanup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cleanup::Deleted { new_id } => write!(f, "the new key {new_id} was deleted again"),
            Cleanup::Left { new_id, error } => write!(
                f,
                "the new key {new_id} could not be deleted ({error}): delete it with `aws iam \
                 delete-access-key --access-key-id {new_id}`"
            ),
        }
    }
}

/// Creates a new key, stores it and checks that it works; on any failure the vault holds the
/// old key again and the new one is deleted. Returns the new key's id.
pub fn replace(
    iam: &Iam,
    vault: &dyn Vault,
    profile: &str,
    old: &LongTermKeys,
    works: impl FnOnce(&Credentials) -> Result<(), AwsError>,
) -> crate::error::Result<String> {
    let old_id = &old.access_key_id;
    let new = iam
        .create_access_key()
        .map_err(|source| RotateError::Create {
            old_id: old_id.clone(),
            source,
        })?;
    let new_id = new.access_key_id.clone();
    output::notice(&format!(
        "created access key {new_id} for profile {profile}"
    ));
    let cleanup = || match iam.delete_access_key(&new_id) {
        Ok(()) => Cleanup::Deleted {
            new_id: new_id.clone(),
        },
        Err(error) => Cleanup::Left {
            new_id: new_id.clone(),
            error: Box::new(error),
        },
    };
    if let Err(source) = vault::set_keys(vault, profile, &new) {
        return Err(RotateError::Store {
            old_id: old_id.clone(),
            cleanup: cleanup(),
            source: Box::new(source),
        }
        .into());
    }
    if let Err(source) = works(&new.clone().into()) {
        return Err(RotateError::Unverified {
            old_id: old_id.clone(),
            new_id: new_id.clone(),
            not_restored: vault::set_keys(vault, profile, old).err().map(Box::new),
            cleanup: cleanup(),
            source,
        }
        .into());
    }
    output::notice(&format!("stored {new_id} and checked that it works"));
    Ok(new_id)
}

/// Tries the new key with GetCallerIdentity until IAM has propagated it.
pub fn verify(sts: &Sts, keys: &Credentials) -> Result<(), AwsError> {
    let mut attempt = 1;
    loop {
        match sts.caller_arn(keys) {
            Ok(_) => return Ok(()),
            Err(e)
                if attempt < VERIFY_ATTEMPTS
                    && matches!(
                        e.code,
                        AwsCode::InvalidClientTokenId | AwsCode::SignatureDoesNotMatch
                    ) =>
            {
                attempt += 1;
                std::thread::sleep(VERIFY_PAUSE);
            }
            Err(e) => return Err(e),
        }
    }
}
