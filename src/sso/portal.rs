//! The SSO portal: role credentials for an account and role, the accounts and roles a sign-in
//! may use, and signing out.

use std::time::Duration;

use chrono::DateTime;
use secrecy::{ExposeSecret, SecretString};

use super::store::Stored;
use super::{Portal, Result, SsoError};
use crate::aws::{AwsCode, AwsError, HasBody};
use crate::credentials::Credentials;
use crate::output::verbose;
use crate::vault::Vault;
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};

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

    /// Every account and role the token may use: ListAccounts, then ListAccountRoles for
    /// [`IN_FLIGHT`] accounts at a time, every page of each, all paced by one [`Pace`] (the
    /// portal's quota is shared by all its callers); a progress bar on a terminal.
    pub fn assignments(&self, token: &SecretString) -> Result<Vec<Assignment>> {
        use futures_util::stream::{self, StreamExt, TryStreamExt};
        let pace = Pace::new();
        let accounts = self.portal_aws.block_on(self.accounts(token, &pace))?;
        let progress = crate::spinner::Progress::start("accounts", accounts.len());
        let roles = stream::iter(accounts.iter().map(|(id, name)| async {
            let roles = self.roles(token, id, &pace).await;
            progress.advance();
            roles.map(|roles| {
                roles
                    .into_iter()
                    .map(|role| Assignment {
                        account_id: id.clone(),
                        account_name: name.clone(),
                        role,
                    })
                    .collect::<Vec<_>>()
            })
        }))
        .buffer_unordered(IN_FLIGHT)
        .try_collect::<Vec<_>>();
        let all = self.portal_aws.block_on_quietly(roles)?;
        drop(progress);
        verbose(format!(
            "listed {} roles of {} accounts; the portal throttled {} calls",
            all.iter().map(Vec::len).sum::<usize>(),
            accounts.len(),
            pace.throttles()
        ));
        Ok(all.into_iter().flatten().collect())
    }

    /// Every account of ListAccounts, page by page: its id and name (the id when it has none).
    async fn accounts(&self, token: &SecretString, pace: &Pace) -> Result<Vec<(String, String)>> {
        let mut accounts = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let page = self
                .paced("ListAccounts", pace, || {
                    self.portal
                        .list_accounts()
                        .access_token(token.expose_secret())
                        .max_results(PAGE_SIZE)
                        .set_next_token(next.clone())
                        .send()
                })
                .await?;
            for account in page.account_list() {
                if let Some(id) = account.account_id() {
                    let name = account.account_name().unwrap_or(id);
                    accounts.push((id.to_string(), name.to_string()));
                }
            }
            next = page.next_token().map(str::to_owned);
            if next.is_none() {
                return Ok(accounts);
            }
        }
    }

    /// The role names of ListAccountRoles for `account`, page by page.
    async fn roles(&self, token: &SecretString, account: &str, pace: &Pace) -> Result<Vec<String>> {
        let mut roles = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let page = self
                .paced("ListAccountRoles", pace, || {
                    self.portal
                        .list_account_roles()
                        .access_token(token.expose_secret())
                        .account_id(account)
                        .max_results(PAGE_SIZE)
                        .set_next_token(next.clone())
                        .send()
                })
                .await?;
            roles.extend(
                page.role_list()
                    .iter()
                    .filter_map(|r| r.role_name().map(str::to_owned)),
            );
            next = page.next_token().map(str::to_owned);
            if next.is_none() {
                return Ok(roles);
            }
        }
    }

    /// One portal call in its turn of `pace`; made again, later, when the portal throttles it
    /// (up to [`MAX_THROTTLED`] times), and `pace` slows down.
    async fn paced<T, E, R, F, Fut>(
        &self,
        action: &'static str,
        pace: &Pace,
        mut call: F,
    ) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = std::result::Result<T, SdkError<E, R>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static + HasBody,
    {
        let mut throttled = 0;
        loop {
            pace.turn().await;
            match call().await {
                Ok(answer) => {
                    pace.answered();
                    return Ok(answer);
                }
                Err(e) => {
                    let e = self.portal_aws.error(action, e);
                    if e.code != AwsCode::Throttling || throttled == MAX_THROTTLED {
                        return Err(e.into());
                    }
                    throttled += 1;
                    pace.throttled();
                }
            }
        }
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

/// How many accounts' roles are listed at once.
const IN_FLIGHT: usize = 8;
/// The largest page the portal gives.
const PAGE_SIZE: i32 = 100;
/// How many times one call is made again after the portal throttled it.
const MAX_THROTTLED: u32 = 10;
/// IAM Identity Center's portal APIs share a quota of 20 calls a second among all callers of
/// a user; [`Pace`] sends at most 95 % of it, as the quota counts any second (calls evenly
/// spaced at exactly 20 a second meet 21 in some second, once the network's jitter moves one).
const QUOTA_PER_SECOND: f64 = 19.0;
/// Where [`Pace`] starts, and the least it keeps to.
const START_PER_SECOND: f64 = 15.0;
const LEAST_PER_SECOND: f64 = 1.0;

/// The pace of a listing's portal calls: calls are spaced evenly at a rate that grows by one a
/// second with each answer up to the quota, and drops to 70 % on each throttle (additive
/// increase, multiplicative decrease: the quota is shared with the user's other tools, so the
/// room left is found by trying).
struct Pace {
    state: std::sync::Mutex<PaceState>,
}

struct PaceState {
    per_second: f64,
    next: tokio::time::Instant,
    throttles: u64,
}

impl Pace {
    fn new() -> Pace {
        Pace {
            state: std::sync::Mutex::new(PaceState {
                per_second: START_PER_SECOND,
                next: tokio::time::Instant::now(),
                throttles: 0,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PaceState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for this call's turn.
    async fn turn(&self) {
        let at = {
            let mut state = self.lock();
            let at = state.next.max(tokio::time::Instant::now());
            state.next = at + Duration::from_secs_f64(1.0 / state.per_second);
            at
        };
        tokio::time::sleep_until(at).await;
    }

    fn answered(&self) {
        let mut state = self.lock();
        state.per_second = (state.per_second + 1.0 / state.per_second).min(QUOTA_PER_SECOND);
    }

    fn throttled(&self) {
        let mut state = self.lock();
        state.throttles += 1;
        state.per_second = (state.per_second * 0.7).max(LEAST_PER_SECOND);
        // Nothing more this second: let the quota's window pass.
        state.next = state.next.max(tokio::time::Instant::now()) + Duration::from_secs(1);
    }

    fn throttles(&self) -> u64 {
        self.lock().throttles
    }
}
