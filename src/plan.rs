//! The plan of a chain: which STS calls make its credentials, each call's cache key, and where
//! MFA codes and session tags go — decided once, before anything is called or cached.
//!
//! Pure: a function of the chain, the request's tags and its reason.

use crate::cache::{EntryKey, EntryKind};
use crate::chain::{Chain, Notice, Source};
use crate::policy::Anchor;

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("profile {profile} has an mfa_serial that no call can carry: {why}")]
    MfaUnsendable { profile: String, why: &'static str },
    #[error(
        "profile {profile} is break-glass, and its credentials come straight from its \
         credential_process: broker cannot make a session of their own for each reason"
    )]
    NoSessionPerReason { profile: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// GetRoleCredentials of an IAM Identity Center role.
    SsoRole,
    SessionToken,
    WebIdentity,
    /// AssumeRole for the hop at this index.
    Role(usize),
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::SsoRole => "GetRoleCredentials",
            Action::SessionToken => "GetSessionToken",
            Action::WebIdentity => "AssumeRoleWithWebIdentity",
            Action::Role(_) => "AssumeRole",
        }
    }
}

/// One STS call of a plan, with everything decided about it.
#[derive(Debug, Clone)]
pub struct Step {
    pub key: EntryKey,
    pub action: Action,
    /// The profile this call is made for (for prompts and messages).
    pub profile: String,
    /// The MFA device whose code goes with this call.
    pub mfa: Option<String>,
    /// The session tags that go with this call: its profile's `session_tags`, and on the last
    /// AssumeRole the request's (the reason), which replace a profile tag of the same key.
    pub tags: Vec<(String, String)>,
    /// The keys of `tags` set transitive: its profile's `transitive_session_tags`.
    pub transitive_tag_keys: Vec<String>,
}

/// The STS calls that make a chain's credentials, decided once: which calls, their cache keys,
/// where MFA codes and session tags go.
#[derive(Debug, Clone)]
pub struct Plan {
    pub steps: Vec<Step>,
    /// For the user, once: what the plan could not do as asked.
    pub notices: Vec<Notice>,
    /// Break-glass: the index of the first step whose cache entry is made for one reason
    /// alone (and so is every later one, made from it).
    pub per_reason_from: Option<usize>,
}

/// Plans the STS calls of `chain`: the session token when one is used, then each role hop.
///
/// An IAM Identity Center source adds its GetRoleCredentials as the first step, whose entry
/// names the SSO session as its source.
///
/// MFA: with a session token, its call carries the code of the source profile's `mfa_serial`
/// (else the first one along the chain) and the hops none. Without one (`--no-session`, a
/// `credential_process`, web identity or SSO source), each AssumeRole carries
/// the code of its own profile's `mfa_serial`, and the first AssumeRole also the source
/// profile's when its own profile has none. An `mfa_serial` that no call can carry is an error.
/// A profile's `session_tags` go with its own AssumeRole; the request's tags with the last call
/// when it is an AssumeRole. Tags no call can take are a notice.
///
/// Break-glass: the first call at or after the place a break-glass rule matched has `reason` in
/// its cache key, so that a new reason gets a new session (and later calls, whose keys name
/// their parent's, too); calls before it, such as an MFA session below a break-glass role,
/// are shared. A chain without such a call cannot be break-glass.
pub fn plan(
    chain: &Chain,
    tags: &[(String, String)],
    reason: Option<&str>,
) -> Result<Plan, PlanError> {
    let mut planner = Planner {
        per_reason: chain
            .policy
            .break_glass_from()
            .map(|anchor| (anchor, reason.map(|r| format!("reason:{r}")))),
        per_reason_from: None,
        chain,
        endpoint: chain.sts.cache_label(),
        source: chain.source.profile().to_string(),
        parent: match &chain.source {
            Source::Vault { profile } => format!("keys:{profile}"),
            Source::Process { command, .. } => format!("process:{command}"),
            Source::WebIdentity { .. } | Source::Sso { .. } => String::new(),
        },
        steps: Vec::new(),
        notices: Vec::new(),
    };
    planner.sso_role();
    let session_token = chain.uses_session_token();
    if session_token {
        planner.session_token();
    }
    // The serial waiting for the first AssumeRole: the source profile's, or a web identity
    // profile's own (AssumeRoleWithWebIdentity takes no MFA code).
    let mut pending = (!session_token)
        .then(|| chain.source_mfa_serial.clone())
        .flatten();
    let last = chain.hops.len().wrapping_sub(1);
    let mut reason_sent = false;
    for (i, hop) in chain.hops.iter().enumerate() {
        let web = i == 0 && matches!(chain.source, Source::WebIdentity { .. });
        let mfa = if session_token {
            None
        } else if web {
            pending = hop.mfa_serial.clone().or(pending.take());
            None
        } else {
            // Only the first AssumeRole inherits the waiting serial.
            hop.mfa_serial.clone().or(pending.take())
        };
        let request_tags = if i == last && !web { tags } else { &[] };
        reason_sent |= !request_tags.is_empty();
        planner.role(i, web, mfa, request_tags);
    }
    planner.check_mfa_sendable()?;
    if planner.per_reason.is_some() && planner.per_reason_from.is_none() {
        return Err(PlanError::NoSessionPerReason {
            profile: chain.profile.clone(),
        });
    }
    if !tags.is_empty() && !reason_sent {
        let call = match planner.steps.last().map(|s| s.action) {
            Some(Action::SsoRole) => "GetRoleCredentials takes",
            Some(Action::SessionToken) => "GetSessionToken takes",
            Some(Action::WebIdentity) => "AssumeRoleWithWebIdentity takes",
            _ => "credentials that come straight from the source take",
        };
        planner.notices.push(Notice::ReasonNotTagged {
            profile: chain.profile.clone(),
            call,
        });
    }
    Ok(Plan {
        steps: planner.steps,
        notices: planner.notices,
        per_reason_from: planner.per_reason_from,
    })
}

/// A plan as it is made, step by step: each step's entry names the one before it as its parent,
/// so that an entry is never served from another chain's credentials.
struct Planner<'a> {
    chain: &'a Chain,
    /// What the entries name as the STS endpoint (`-` for the plain public one).
    endpoint: std::borrow::Cow<'a, str>,
    /// What every entry names as its source: the source profile, or the SSO session.
    source: String,
    /// The previous step's entry hash (or where the first step's credentials come from).
    parent: String,
    steps: Vec<Step>,
    notices: Vec<Notice>,
    /// Break-glass: from which place on entries are per reason, and the reason's key field.
    per_reason: Option<(Anchor, Option<String>)>,
    per_reason_from: Option<usize>,
}

impl Planner<'_> {
    fn push(&mut self, key: EntryKey, step: impl FnOnce(EntryKey) -> Step) {
        self.parent = key.hash();
        self.steps.push(step(key));
    }

    /// The reason's field for the key of the call at `place`, when it is the first at or after
    /// the break-glass place (only then, so that every other key stays as it was).
    fn reason_field(&mut self, place: Anchor) -> Option<String> {
        match &self.per_reason {
            Some((from, reason)) if place >= *from && self.per_reason_from.is_none() => {
                self.per_reason_from = Some(self.steps.len());
                reason.clone()
            }
            _ => None,
        }
    }

    /// An IAM Identity Center source: its GetRoleCredentials, whose entry names the SSO session
    /// as its source, so that everything made from its sign-in goes when it signs out.
    fn sso_role(&mut self) {
        let Source::Sso {
            profile,
            session,
            account_id,
            role_name,
        } = &self.chain.source
        else {
            return;
        };
        self.source = session.cache_source();
        let reason = self.reason_field(Anchor::Source);
        let portal = session.portal.cache_label();
        let mut fields = vec![
            "sso",
            profile,
            &session.name,
            &session.start_url,
            account_id,
            role_name,
            &portal,
        ];
        fields.extend(reason.as_deref());
        let canonical = canonical(&fields);
        let key = EntryKey {
            profile: profile.clone(),
            kind: EntryKind::Sso,
            source: self.source.clone(),
            canonical,
        };
        self.push(key, |key| {
            Step::untagged(key, Action::SsoRole, profile, None)
        });
    }

    /// GetSessionToken, with the code of the device of the IAM user whose keys sign the call:
    /// the source profile's own mfa_serial, else the first one along the chain.
    fn session_token(&mut self) {
        let chain = self.chain;
        let mfa = chain.source_mfa_serial.clone().or(chain.mfa_serial.clone());
        let reason = self.reason_field(Anchor::Source);
        let duration = chain.session_duration.as_secs().to_string();
        let mut fields = vec![
            "session",
            &self.source,
            mfa.as_deref().unwrap_or("-"),
            &duration,
            &self.endpoint,
        ];
        fields.extend(reason.as_deref());
        let canonical = canonical(&fields);
        let key = EntryKey {
            profile: self.source.clone(),
            kind: EntryKind::Session,
            source: self.source.clone(),
            canonical,
        };
        let profile = self.source.clone();
        self.push(key, |key| {
            Step::untagged(key, Action::SessionToken, &profile, mfa)
        });
    }

    /// The AssumeRole (or, `web`, AssumeRoleWithWebIdentity) of hop `i`, with `mfa`'s code
    /// and its profile's session tags, replaced by the request's of the same key.
    fn role(
        &mut self,
        i: usize,
        web: bool,
        mfa: Option<String>,
        request_tags: &[(String, String)],
    ) {
        let hop = &self.chain.hops[i];
        let (tags, transitive_tag_keys) = if web {
            if !hop.session_tags.is_empty() || !hop.transitive_tag_keys.is_empty() {
                self.notices.push(Notice::TagsWithWebIdentity {
                    profile: hop.profile.clone(),
                });
            }
            (Vec::new(), Vec::new())
        } else {
            let mut tags = hop.session_tags.clone();
            tags.retain(|(k, _)| !request_tags.iter().any(|(t, _)| t.eq_ignore_ascii_case(k)));
            tags.extend(request_tags.iter().cloned());
            (tags, hop.transitive_tag_keys.clone())
        };
        let tag_text = tags
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",");
        let token_file = match &self.chain.source {
            Source::WebIdentity { token_file, .. } if web => token_file.display().to_string(),
            _ => String::new(),
        };
        let kind = if web { EntryKind::Web } else { EntryKind::Role };
        let reason = self.reason_field(Anchor::Hop(i));
        let duration = hop.duration.as_secs().to_string();
        let mut fields = vec![
            kind.name(),
            &hop.profile,
            &hop.role_arn,
            &hop.session_name,
            hop.external_id.as_deref().unwrap_or("-"),
            hop.source_identity.as_deref().unwrap_or("-"),
            &duration,
            &*self.endpoint,
            &tag_text,
            mfa.as_deref().unwrap_or("-"),
            &token_file,
            &self.parent,
        ];
        // Only when set, so that the keys of entries made without them stay as they were.
        let transitive = format!("transitive:{}", transitive_tag_keys.join(","));
        if !transitive_tag_keys.is_empty() {
            fields.push(&transitive);
        }
        fields.extend(reason.as_deref());
        let key = EntryKey {
            profile: hop.profile.clone(),
            kind,
            source: self.source.clone(),
            canonical: canonical(&fields),
        };
        let action = if web {
            Action::WebIdentity
        } else {
            Action::Role(i)
        };
        self.push(key, |key| Step {
            key,
            action,
            profile: hop.profile.clone(),
            mfa,
            tags,
            transitive_tag_keys,
        });
    }

    /// An `mfa_serial` along the chain that no call carries is an error.
    fn check_mfa_sendable(&self) -> Result<(), PlanError> {
        let chain = self.chain;
        let serial_in_chain = chain.mfa_serial.is_some() || chain.source_mfa_serial.is_some();
        if !serial_in_chain || self.steps.iter().any(|s| s.mfa.is_some()) {
            return Ok(());
        }
        let why = match &chain.source {
            Source::WebIdentity { .. } => "AssumeRoleWithWebIdentity takes no MFA code",
            Source::Sso { .. } => {
                "its credentials come from IAM Identity Center and it assumes no role"
            }
            _ => "its credentials come from credential_process and it assumes no role",
        };
        Err(PlanError::MfaUnsendable {
            profile: chain.profile.clone(),
            why,
        })
    }
}

impl Step {
    fn untagged(key: EntryKey, action: Action, profile: &str, mfa: Option<String>) -> Step {
        Step {
            key,
            action,
            profile: profile.to_string(),
            mfa,
            tags: Vec::new(),
            transitive_tag_keys: Vec::new(),
        }
    }
}

/// An unambiguous text of the fields (a JSON array), for hashing and for checking entries.
fn canonical(fields: &[&str]) -> String {
    let mut all = vec!["broker-cache-v2"];
    all.extend_from_slice(fields);
    serde_json::to_string(&all).expect("strings serialise")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::{resolve, Request};
    use crate::environment::Environment;
    use crate::policy::Policy;
    use crate::profiles::AwsProfiles;
    use crate::settings::Settings;

    const ROLE: &str = "arn:aws:iam::123456789012:role/";

    /// The chain of `profile` under `rules` (config.toml).
    fn chain_under(config: &str, rules: &str, profile: &str, request: &Request) -> Chain {
        let aws = AwsProfiles::from_texts(config, "").unwrap();
        let policy = Policy {
            user: crate::settings::parse_toml(rules).unwrap(),
            ..Policy::default()
        };
        let env = Environment::from_pairs(&[("USER", "jane")]);
        resolve(profile, &aws, &Settings::default(), &policy, &env, request).unwrap()
    }

    fn plan_of(
        config: &str,
        profile: &str,
        no_session: bool,
        tags: bool,
    ) -> Result<Plan, PlanError> {
        let request = Request {
            no_session,
            ..Request::default()
        };
        let chain = chain_under(config, "", profile, &request);
        let tags = if tags {
            vec![("BrokerReason".to_string(), "INC-1".to_string())]
        } else {
            Vec::new()
        };
        plan(&chain, &tags, Some("INC-1"))
    }

    /// The plan of `profile` under `rules` (config.toml) for `reason`.
    fn plan_for(config: &str, rules: &str, profile: &str, reason: &str) -> Result<Plan, PlanError> {
        let chain = chain_under(config, rules, profile, &Request::default());
        plan(&chain, &[], Some(reason))
    }

    /// Each step as `ACTION(profile)`, `+mfa:SERIAL` and `+tags` when they go with it.
    fn shape(plan: &Plan) -> Vec<String> {
        plan.steps
            .iter()
            .map(|s| {
                let mut text = format!("{}({})", s.action.name(), s.profile);
                if let Some(serial) = &s.mfa {
                    text += &format!("+mfa:{serial}");
                }
                if !s.tags.is_empty() {
                    let keys: Vec<_> = s.tags.iter().map(|(k, _)| k.as_str()).collect();
                    text += &format!("+tags:{}", keys.join(","));
                }
                if !s.transitive_tag_keys.is_empty() {
                    text += &format!("+transitive:{}", s.transitive_tag_keys.join(","));
                }
                text
            })
            .collect()
    }

    fn chain3(alice: &str, r1: &str, r2: &str) -> String {
        format!(
            "[profile alice]\n{alice}\n[profile r1]\nrole_arn = {ROLE}r1\nsource_profile = alice\n{r1}\n\
             [profile r2]\nrole_arn = {ROLE}r2\nsource_profile = r1\n{r2}\n"
        )
    }

    #[test]
    fn one_mfa_session_carries_the_code_for_every_role() {
        let config = chain3("mfa_serial = A", "", "mfa_serial = B");
        let plan = plan_of(&config, "r2", false, true).unwrap();
        // The IAM user's own device first.
        assert_eq!(
            shape(&plan),
            [
                "GetSessionToken(alice)+mfa:A",
                "AssumeRole(r1)",
                "AssumeRole(r2)+tags:BrokerReason"
            ]
        );
        // Else the first serial along the chain from the profile asked for.
        let config = chain3("", "mfa_serial = C", "mfa_serial = B");
        let plan = plan_of(&config, "r2", false, false).unwrap();
        assert_eq!(
            shape(&plan),
            [
                "GetSessionToken(alice)+mfa:B",
                "AssumeRole(r1)",
                "AssumeRole(r2)"
            ]
        );
        assert!(plan.notices.is_empty());
        assert!(plan.steps.iter().all(|s| s.key.source == "alice"));
    }

    #[test]
    fn without_a_session_each_role_carries_its_own_device() {
        let config = chain3("mfa_serial = A", "", "mfa_serial = B");
        let plan = plan_of(&config, "r2", true, false).unwrap();
        assert_eq!(
            shape(&plan),
            ["AssumeRole(r1)+mfa:A", "AssumeRole(r2)+mfa:B"]
        );
        let config = chain3("", "", "mfa_serial = B");
        let plan = plan_of(&config, "r2", true, false).unwrap();
        assert_eq!(shape(&plan), ["AssumeRole(r1)", "AssumeRole(r2)+mfa:B"]);
        let config = chain3("", "mfa_serial = C", "");
        let plan = plan_of(&config, "r2", true, false).unwrap();
        assert_eq!(shape(&plan), ["AssumeRole(r1)+mfa:C", "AssumeRole(r2)"]);
    }

    #[test]
    fn credential_process_and_web_identity_sources_send_the_code_with_the_first_assume_role() {
        let config = format!(
            "[profile proc]\ncredential_process = x\nmfa_serial = P\n\
             [profile role]\nrole_arn = {ROLE}role\nsource_profile = proc\n\
             [profile web]\nrole_arn = {ROLE}web\nweb_identity_token_file = /t\nmfa_serial = W\n\
             [profile above]\nrole_arn = {ROLE}above\nsource_profile = web\n"
        );
        let plan = plan_of(&config, "role", false, false).unwrap();
        assert_eq!(shape(&plan), ["AssumeRole(role)+mfa:P"]);
        let plan = plan_of(&config, "above", false, true).unwrap();
        assert_eq!(
            shape(&plan),
            [
                "AssumeRoleWithWebIdentity(web)",
                "AssumeRole(above)+mfa:W+tags:BrokerReason"
            ]
        );
        for alone in ["proc", "web"] {
            let err = plan_of(&config, alone, false, false).unwrap_err();
            assert!(
                err.to_string()
                    .contains("has an mfa_serial that no call can carry"),
                "{alone}: {err}"
            );
        }
    }

    #[test]
    fn tags_that_no_call_takes_are_a_notice_and_stay_out_of_the_cache_key() {
        let config = format!(
            "[profile user]\n\
             [profile web]\nrole_arn = {ROLE}web\nweb_identity_token_file = /t\n"
        );
        for profile in ["user", "web"] {
            let tagged = plan_of(&config, profile, false, true).unwrap();
            let plain = plan_of(&config, profile, false, false).unwrap();
            assert_eq!(tagged.notices.len(), 1, "{profile}");
            assert!(matches!(tagged.notices[0], Notice::ReasonNotTagged { .. }));
            assert!(!tagged.steps.iter().any(|s| !s.tags.is_empty()));
            assert_eq!(
                tagged.steps.last().unwrap().key,
                plain.steps.last().unwrap().key,
                "{profile}"
            );
        }
    }

    #[test]
    fn profile_session_tags_go_with_their_own_hop_and_the_reason_replaces_a_tag_of_its_key() {
        let config = chain3(
            "",
            "session_tags = team=ops\ntransitive_session_tags = team",
            "session_tags = brokerreason=old,env=prod",
        );
        let tagged = plan_of(&config, "r2", false, true).unwrap();
        assert_eq!(
            shape(&tagged),
            [
                "AssumeRole(r1)+tags:team+transitive:team",
                "AssumeRole(r2)+tags:env,BrokerReason"
            ]
        );
        assert_eq!(tagged.steps[1].tags[1].1, "INC-1");
        let plain = plan_of(&config, "r2", false, false).unwrap();
        assert_eq!(
            shape(&plain),
            [
                "AssumeRole(r1)+tags:team+transitive:team",
                "AssumeRole(r2)+tags:brokerreason,env"
            ]
        );
        // Tags change the credentials, so they are part of every later step's key.
        let untagged = plan_of(&chain3("", "", ""), "r2", false, false).unwrap();
        assert_ne!(plain.steps[0].key, untagged.steps[0].key);
        assert_ne!(plain.steps[1].key, untagged.steps[1].key);
        assert_ne!(plain.steps[1].key, tagged.steps[1].key);
        let web = format!(
            "[profile web]\nrole_arn = {ROLE}web\nweb_identity_token_file = /t\nsession_tags = a=b\n\
             [profile above]\nrole_arn = {ROLE}above\nsource_profile = web\n"
        );
        let plan = plan_of(&web, "above", false, false).unwrap();
        assert_eq!(
            shape(&plan),
            ["AssumeRoleWithWebIdentity(web)", "AssumeRole(above)"]
        );
        assert_eq!(
            plan.notices[0],
            Notice::TagsWithWebIdentity {
                profile: "web".into()
            }
        );
    }

    #[test]
    fn break_glass_keys_are_per_reason_from_the_break_glass_call_on() {
        let config = chain3("mfa_serial = A", "", "");
        let keys = |rules: &str, profile: &str, reason: &str| {
            let plan = plan_for(&config, rules, profile, reason).unwrap();
            let keys: Vec<String> = plan.steps.iter().map(|s| s.key.hash()).collect();
            (keys, plan.per_reason_from)
        };
        let none = "";
        let bg = "[[role]]\narn = \"*:role/r1\"\nbreak_glass = true\n";
        // Without break-glass, the reason changes no key (and the keys are as they were).
        assert_eq!(keys(none, "r2", "INC-1"), keys(none, "r2", "INC-2"));
        assert_eq!(keys(none, "r2", "INC-1").1, None);
        let (one, from) = keys(bg, "r2", "INC-1");
        let (two, _) = keys(bg, "r2", "INC-2");
        assert_eq!(from, Some(1), "from r1's AssumeRole");
        assert_eq!(one[0], two[0], "the MFA session below stays shared");
        assert_ne!(one[1], two[1]);
        assert_ne!(one[2], two[2], "made from a per-reason session");
        assert_eq!(one, keys(bg, "r2", "INC-1").0, "one reason, one session");
        assert_eq!(one[0], keys(none, "r2", "INC-1").0[0]);
        // A break-glass rule on the IAM user's own profile: from the MFA session on.
        let user = "[profile.alice]\nbreak_glass = true\n";
        assert_eq!(keys(user, "r2", "INC-1").1, Some(0));
        assert_ne!(
            keys(user, "r2", "INC-1").0[0],
            keys(user, "r2", "INC-2").0[0]
        );
    }

    #[test]
    fn break_glass_straight_from_a_credential_process_is_refused() {
        let config = format!(
            "[profile proc]\ncredential_process = x\n\
             [profile role]\nrole_arn = {ROLE}role\nsource_profile = proc\n"
        );
        let rules = "[profile.proc]\nbreak_glass = true\n";
        assert!(matches!(
            plan_for(&config, rules, "proc", "INC-1"),
            Err(PlanError::NoSessionPerReason { .. })
        ));
        let above = plan_for(&config, rules, "role", "INC-1").unwrap();
        assert_eq!(
            above.per_reason_from,
            Some(0),
            "its role is assumed per reason"
        );
    }
}
