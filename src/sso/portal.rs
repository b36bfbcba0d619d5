//! The SSO portal: role credentials for an account and role, the accounts and roles a sign-in
//! may use, and signing out.

use std::time::Duration;

use chrono::DateTime;
use secrecy::{ExposeSecret, SecretString};

use super::store::Stored;
use super::{Portal, Result, SsoError};
use crate::aws::{AwsCode, AwsError};
use crate::credentials::Credentials;
use crate::output::verbose;
use crate::vault::Vault;

impl Portal<'_> {
    /// GetRoleCredentials: the role's credentials for the account, with the access token.
    pub fn role_credentials(
        &self,
        token: &SecretString,
        account: &str,
        role: &str,
    ) -> Result<Credentials> {
        verbose(format!("GetRoleCredentials {role} in {account}"));
        let call = self
            .portal
            .get_role_credentials()
            .account_id(account)
            .role_name(role)
            .access_token(token.expose_secret());
        let out = self
            .portal_aws
            .call("GetRoleCredentials", call.send())
            .map_err(|e| match e.code {
                AwsCode::Forbidden => SsoError::NotAssigned {
                    session: self.session.name.clone(),
                    account: account.to_string(),
                    role: role.to_string(),
                },
                _ => SsoError::Aws(e),
            })?;
        let bad = || AwsError::bad_response("GetRoleCredentials", "role credentials");
        let c = out.role_credentials().ok_or_else(bad)?;
        let (Some(id), Some(secret), Some(session_token)) =
            (c.access_key_id(), c.secret_access_key(), c.session_token())
        else {
            return Err(bad().into());
        };
        Ok(Credentials {
            access_key_id: id.to_string(),
            secret_access_key: SecretString::from(secret),
            session_token: Some(SecretString::from(session_token)),
            expiration: Some(DateTime::from_timestamp_millis(c.expiration()).ok_or_else(bad)?),
        })
    }

    /// Every account and role the token may use: ListAccounts, then ListAccountRoles.
    pub fn assignments(&self, token: &SecretString) -> Result<Vec<Assignment>> {
        let accounts = self.portal_aws.call(
            "ListAccounts",
            self.portal
                .list_accounts()
                .access_token(token.expose_secret())
                .into_paginator()
                .items()
                .send()
                .collect::<std::result::Result<Vec<_>, _>>(),
        )?;
        let mut all = Vec::new();
        for account in accounts {
            let Some(id) = account.account_id() else {
                continue;
            };
            let roles = self.portal_aws.call(
                "ListAccountRoles",
                self.portal
                    .list_account_roles()
                    .access_token(token.expose_secret())
                    .account_id(id)
                    .into_paginator()
                    .items()
                    .send()
                    .collect::<std::result::Result<Vec<_>, _>>(),
            )?;
            for role in roles {
                if let Some(name) = role.role_name() {
                    all.push(Assignment {
                        account_id: id.to_string(),
                        account_name: account.account_name().unwrap_or(id).to_string(),
                        role: name.to_string(),
                    });
                }
            }
        }
        Ok(all)
    }

    /// Logout at the portal (the access token stops working there too), if one is kept.
    pub fn logout(&self, vault: &dyn Vault) -> Result<bool> {
        let Some(stored) = Stored::read(vault, self.session)? else {
            return Ok(false);
        };
        if let Some(token) = stored.usable_token(Duration::ZERO) {
            let call = self.portal.logout().access_token(token.expose_secret());
            match self.portal_aws.call("Logout", call.send()) {
                // Signed out already, or expired: what logging out would do.
                Err(e) if e.code == AwsCode::Unauthorized => {}
                Err(e) => return Err(e.into()),
                Ok(_) => {}
            }
        }
        Ok(true)
    }
}

/// An account and role an SSO sign-in may use.
#[derive(Debug, Clone)]
pub struct Assignment {
    pub account_id: String,
    pub account_name: String,
    pub role: String,
}
