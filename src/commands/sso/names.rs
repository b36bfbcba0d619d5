//! The names `sso profiles` gives the profiles it prints: made from a template, safe in any INI
//! parser (botocore's, configparser's strict mode), deterministic, and never two alike nor
//! alike a profile the AWS config has already.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{Error, Result};
use crate::sso::Assignment;

/// The default template: the account's name, then the role's.
pub const DEFAULT_TEMPLATE: &str = "{account_name}-{role_name}";

const FIELDS: [&str; 4] = ["account_name", "account_id", "role_name", "sso_session"];

/// A checked template and prefix.
pub struct Naming {
    template: String,
    prefix: String,
    session: String,
}

impl Naming {
    pub fn new(template: &str, prefix: &str, session: &str) -> Result<Naming> {
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            let close = rest[open..].find('}').map(|c| open + c).ok_or_else(|| {
                Error::usage(format!("--template `{template}` has a {{ without a }}"))
            })?;
            let field = &rest[open + 1..close];
            if !FIELDS.contains(&field) {
                return Err(Error::usage(format!(
                    "--template `{template}` names {{{field}}}, which is not one of {}",
                    FIELDS.map(|f| format!("{{{f}}}")).join(", ")
                )));
            }
            rest = &rest[close + 1..];
        }
        if !template.contains("{role_name}") {
            return Err(Error::usage(format!(
                "--template `{template}` has no {{role_name}}: every role of an account would \
                 get the same name"
            )));
        }
        Ok(Naming {
            template: template.to_string(),
            prefix: prefix.to_string(),
            session: session.to_string(),
        })
    }

    fn name(&self, a: &Assignment) -> String {
        let filled = self
            .template
            .replace("{account_name}", &a.account_name)
            .replace("{account_id}", &a.account_id)
            .replace("{role_name}", &a.role)
            .replace("{sso_session}", &self.session);
        let name = safe(&format!("{}{filled}", self.prefix));
        if name.is_empty() {
            safe(&format!("{}-{}", a.account_id, a.role))
        } else {
            name
        }
    }

    /// The name of each assignment, in their order: the template's, with `-ACCOUNT_ID` added
    /// where it would be another's too or a name of `taken`, and `-2`, `-3`, … after that.
    pub fn names(&self, assignments: &[Assignment], taken: &[String]) -> Vec<String> {
        let first: Vec<String> = assignments.iter().map(|a| self.name(a)).collect();
        let mut count: BTreeMap<&str, usize> = BTreeMap::new();
        for name in &first {
            *count.entry(name).or_default() += 1;
        }
        let mut used: BTreeSet<String> = taken.iter().cloned().collect();
        let mut names = Vec::with_capacity(first.len());
        for (a, name) in assignments.iter().zip(&first) {
            let mut name = if count[name.as_str()] > 1 || used.contains(name) {
                format!("{name}-{}", a.account_id)
            } else {
                name.clone()
            };
            if used.contains(&name) {
                let base = name.clone();
                name = (2..)
                    .map(|n| format!("{base}-{n}"))
                    .find(|n| !used.contains(n))
                    .expect("an unused number");
            }
            used.insert(name.clone());
            names.push(name);
        }
        names
    }
}

/// `text` lower-cased, with every character outside `[a-z0-9._-]` written `-`, no run of `-`,
/// and no `-` or `.` at either end.
fn safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        let c = if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
            c
        } else {
            '-'
        };
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    out.trim_matches(['-', '.']).to_string()
}

/// Whether the portal's account id and role name can be written as values of the AWS config:
/// a 12-digit account id, and a role name of IAM's characters.
pub fn fit_for_config(a: &Assignment) -> bool {
    a.account_id.len() == 12
        && a.account_id.bytes().all(|b| b.is_ascii_digit())
        && (1..=64).contains(&a.role.len())
        && a.role
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}

/// A portal name for a comment line: one line, control characters escaped.
pub fn comment(text: &str) -> String {
    crate::sanitize::escape(text).replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(id: &str, name: &str, role: &str) -> Assignment {
        Assignment {
            account_id: id.into(),
            account_name: name.into(),
            role: role.into(),
        }
    }

    fn default() -> Naming {
        Naming::new(DEFAULT_TEMPLATE, "", "corp").unwrap()
    }

    #[test]
    fn names_are_safe_and_never_start_with_a_dash() {
        let n = default();
        assert_eq!(
            n.name(&a("111111111111", "Prod Account", "ReadOnlyAccess")),
            "prod-account-readonlyaccess"
        );
        assert_eq!(n.name(&a("333333333333", "日本", "Admin")), "admin");
        assert_eq!(
            n.name(&a(
                "333333333333",
                "\n[profile x]\ncredential_process = sh",
                "Admin"
            )),
            "profile-x-credential_process-sh-admin"
        );
    }

    #[test]
    fn colliding_names_get_the_account_id_then_a_number() {
        let n = default();
        let names = n.names(
            &[
                a("111111111111", "a-b", "c"),
                a("222222222222", "a", "b-c"),
                a("333333333333", "x", "Admin_Access"),
                a("333333333333", "x", "Admin-Access"),
                a("444444444444", "taken", "role"),
            ],
            &["taken-role".to_string()],
        );
        assert_eq!(
            names,
            [
                "a-b-c-111111111111",
                "a-b-c-222222222222",
                "x-admin_access",
                "x-admin-access",
                "taken-role-444444444444",
            ]
        );
        let same = n.names(
            &[a("333333333333", "x", "R.1"), a("333333333333", "x", "R-1")],
            &[],
        );
        assert_ne!(same[0], same[1], "{same:?}");
    }

    #[test]
    fn templates_name_only_known_fields() {
        let n = Naming::new("{sso_session}/{account_id}/{role_name}", "org-", "Corp").unwrap();
        assert_eq!(
            n.name(&a("111111111111", "Prod", "Admin")),
            "org-corp-111111111111-admin"
        );
        assert!(Naming::new("{account}-{role_name}", "", "corp").is_err());
        assert!(Naming::new("{account_name", "", "corp").is_err());
        assert!(Naming::new("{account_name}", "", "corp").is_err());
    }

    #[test]
    fn only_ids_and_role_names_aws_gives_are_written() {
        assert!(fit_for_config(&a(
            "111111111111",
            "x",
            "AWSReservedSSO_Admin+=,.@-"
        )));
        assert!(!fit_for_config(&a("1111", "x", "Admin")));
        assert!(!fit_for_config(&a(
            "111111111111",
            "x",
            "Admin\n[profile y]"
        )));
        assert!(!fit_for_config(&a("111111111111", "x", "")));
    }
}
