//! Which rules apply to a chain, and what they ask together: the strictest of them.
//!
//! A rule applies at every place of the chain it matches: a `[profile.NAME]` rule wherever the
//! chain walks through profile NAME (the profile asked for or any `source_profile`), a
//! `[[role]]` rule wherever it assumes a matching role (or gets an IAM Identity Center role's
//! credentials). Together: any `require_reason`, `break_glass` or `tag_reason`; the smallest
//! `max_duration` (from the place its rule matched on); every `reason_pattern` must match;
//! every `notify_command` and `approve_command` runs, the system file's first. Nothing can
//! loosen a rule: a `false` or a missing key asks nothing.
//!
//! Pure: a function of the rules and the chain's places.

use std::sync::Arc;
use std::time::Duration;

use super::rules::{ReasonPattern, Rule, Rules};
use super::system::{FloorError, SystemPolicy};

/// Break-glass rules cap at this unless their `max_duration` says otherwise.
pub const DEFAULT_BREAK_GLASS_MAX: Duration = Duration::from_secs(3600);
/// How long an `approve_command` may take unless its rule's `approve_timeout` says.
pub const DEFAULT_APPROVE_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// Every rule broker knows: the system file's (the floor) and the user's config.toml's.
#[derive(Debug, Default)]
pub struct Policy {
    pub system: SystemPolicy,
    pub user: Rules,
}

impl Policy {
    /// Whether there is no rule at all (then nothing needs matching).
    pub fn is_empty(&self) -> bool {
        let system = match &self.system {
            SystemPolicy::Trusted { rules, .. } => rules.is_empty(),
            _ => true,
        };
        system && self.user.is_empty()
    }

    /// Why no credentials may be issued at all, if that is so.
    pub fn refused(&self) -> Option<&Arc<FloorError>> {
        match &self.system {
            SystemPolicy::Refused(e) => Some(e),
            _ => None,
        }
    }

    /// The rules in the order they run: the system file's, then the user's; in each, the
    /// `[[role]]` rules in file order, then the `[profile.NAME]` rules.
    fn all(&self) -> impl Iterator<Item = (Origin, Selector<'_>, &Rule)> {
        let system = match &self.system {
            SystemPolicy::Trusted { rules, .. } => Some((FileKind::System, rules)),
            _ => None,
        };
        system
            .into_iter()
            .chain([(FileKind::User, &self.user)])
            .flat_map(|(file, rules)| {
                let roles = rules.role.iter().enumerate().map(move |(i, r)| {
                    let origin = Origin {
                        file,
                        table: Table::Role(i),
                    };
                    (origin, Selector::Role(&r.arn), &r.rule)
                });
                let profiles = rules.profile.iter().map(move |(name, rule)| {
                    let origin = Origin {
                        file,
                        table: Table::Profile(name.clone()),
                    };
                    (origin, Selector::Profile(name), rule)
                });
                roles.chain(profiles)
            })
    }

    /// The rules that apply to a chain of these places (from its source outwards), and where
    /// each first matched.
    pub fn evaluate(&self, places: &[Place]) -> Effective {
        let mut applied = Vec::new();
        for (origin, selector, rule) in self.all() {
            let hit = places.iter().find_map(|place| {
                let matched = match selector {
                    Selector::Profile(name) => {
                        (place.profile == name).then(|| Matched::Profile(name.to_string()))
                    }
                    Selector::Role(glob) => place
                        .role_arns
                        .iter()
                        .find(|arn| glob.matches(arn))
                        .map(|arn| Matched::Role {
                            glob: glob.as_str().to_string(),
                            arn: arn.clone(),
                        }),
                };
                matched.map(|m| (place.anchor, m))
            });
            if let Some((anchor, matched)) = hit {
                applied.push(Applied {
                    origin,
                    anchor,
                    matched,
                    rule: rule.clone(),
                });
            }
        }
        Effective { applied }
    }
}

/// One place of a chain that rules are matched against.
#[derive(Debug)]
pub struct Place {
    pub anchor: Anchor,
    /// The profile whose credentials are made here.
    pub profile: String,
    /// The role ARNs these credentials are of (for IAM Identity Center, the forms its role's
    /// ARN can be matched by; none for stored keys or a `credential_process`).
    pub role_arns: Vec<String>,
}

/// A place in a chain: its source, or a role hop (from the source outwards).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Anchor {
    Source,
    Hop(usize),
}

/// Which file a rule is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    System,
    User,
}

impl FileKind {
    pub fn name(self) -> &'static str {
        match self {
            FileKind::System => "system",
            FileKind::User => "user",
        }
    }
}

/// Which table of its file a rule is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Table {
    Profile(String),
    /// The N-th `[[role]]`, from 0.
    Role(usize),
}

/// Where a rule comes from: `system:role[0]`, `user:profile.breakglass`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: FileKind,
    pub table: Table,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.table {
            Table::Profile(name) => write!(f, "{}:profile.{name}", self.file.name()),
            Table::Role(i) => write!(f, "{}:role[{i}]", self.file.name()),
        }
    }
}

enum Selector<'a> {
    Profile(&'a str),
    Role(&'a super::rules::RoleGlob),
}

/// What a rule matched: a profile by its name, or a role ARN by the rule's glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matched {
    Profile(String),
    Role { glob: String, arn: String },
}

/// A rule that applies to a chain: where it comes from, and where it matched.
#[derive(Debug, Clone)]
pub struct Applied {
    pub origin: Origin,
    pub anchor: Anchor,
    pub matched: Matched,
    pub rule: Rule,
}

impl Applied {
    /// This rule's cap: its `max_duration`, else an hour for a break-glass rule.
    pub fn cap(&self) -> Option<Duration> {
        self.rule
            .max_duration
            .or(self.rule.break_glass.then_some(DEFAULT_BREAK_GLASS_MAX))
    }
}

/// An `approve_command` to run, with its bound and its rule.
pub struct Approver<'a> {
    pub command: &'a [String],
    pub timeout: Duration,
    pub origin: &'a Origin,
}

/// The rules that apply to one chain, and what they ask together (the strictest).
#[derive(Debug, Clone, Default)]
pub struct Effective {
    pub applied: Vec<Applied>,
}

impl Effective {
    fn any(&self, key: impl Fn(&Rule) -> bool) -> bool {
        self.applied.iter().any(|a| key(&a.rule))
    }

    pub fn is_empty(&self) -> bool {
        self.applied.is_empty()
    }

    pub fn break_glass(&self) -> bool {
        self.any(|r| r.break_glass)
    }

    /// A reason is needed: any rule requires one, or is break-glass, or has a pattern for it.
    pub fn require_reason(&self) -> bool {
        self.any(|r| r.require_reason || r.break_glass || r.reason_pattern.is_some())
    }

    pub fn tag_reason(&self) -> bool {
        self.any(|r| r.tag_reason)
    }

    /// The cap on credentials made at `place`: the smallest of the rules that matched there or
    /// before (credentials made from capped ones are capped too).
    pub fn cap_at(&self, place: Anchor) -> Option<Duration> {
        self.applied
            .iter()
            .filter(|a| a.anchor <= place)
            .filter_map(Applied::cap)
            .min()
    }

    /// The smallest cap of all.
    pub fn max_duration(&self) -> Option<Duration> {
        self.applied.iter().filter_map(Applied::cap).min()
    }

    /// The first place a break-glass rule matched: from there on, a session per reason.
    pub fn break_glass_from(&self) -> Option<Anchor> {
        self.applied
            .iter()
            .filter(|a| a.rule.break_glass)
            .map(|a| a.anchor)
            .min()
    }

    pub fn reason_patterns(&self) -> impl Iterator<Item = (&ReasonPattern, &Origin)> {
        self.applied
            .iter()
            .filter_map(|a| a.rule.reason_pattern.as_ref().map(|p| (p, &a.origin)))
    }

    /// Every `notify_command`, each once, the system file's first.
    pub fn notify_commands(&self) -> Vec<&[String]> {
        let mut commands: Vec<&[String]> = Vec::new();
        for a in &self.applied {
            let command = a.rule.notify_command.as_slice();
            if !command.is_empty() && !commands.contains(&command) {
                commands.push(command);
            }
        }
        commands
    }

    /// Every `approve_command`, each once, the system file's first.
    pub fn approvers(&self) -> Vec<Approver<'_>> {
        let mut approvers: Vec<Approver<'_>> = Vec::new();
        for a in &self.applied {
            let command = a.rule.approve_command.as_slice();
            if !command.is_empty() && !approvers.iter().any(|x| x.command == command) {
                approvers.push(Approver {
                    command,
                    timeout: a.rule.approve_timeout.unwrap_or(DEFAULT_APPROVE_TIMEOUT),
                    origin: &a.origin,
                });
            }
        }
        approvers
    }

    /// Where each rule comes from, as the audit log records it.
    pub fn origins(&self) -> Vec<String> {
        self.applied.iter().map(|a| a.origin.to_string()).collect()
    }

    /// The rules behind a demand (`key`), for messages: `system:role[0], user:profile.x`.
    pub fn origins_of(&self, key: impl Fn(&Rule) -> bool) -> String {
        self.applied
            .iter()
            .filter(|a| key(&a.rule))
            .map(|a| a.origin.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// What the rules ask, in a few words: `break-glass, reason ^INC-, at most 1h, approval`.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if self.break_glass() {
            parts.push("break-glass".to_string());
        } else if self.require_reason() {
            parts.push("reason".to_string());
        }
        for (pattern, _) in self.reason_patterns() {
            parts.push(format!("reason ~ {}", pattern.as_str()));
        }
        if let Some(max) = self.max_duration() {
            parts.push(format!("at most {}", crate::duration::format(max)));
        }
        if self.tag_reason() {
            parts.push("reason tagged".to_string());
        }
        if !self.approvers().is_empty() {
            parts.push("approval".to_string());
        }
        if !self.notify_commands().is_empty() {
            parts.push("notify".to_string());
        }
        if parts.is_empty() {
            return "-".to_string();
        }
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::parse_toml;

    const BG: &str = "arn:aws:iam::123456789012:role/SecurityBreakGlassRole";

    /// alice's keys → r1 → SecurityBreakGlassRole (profile bg) → after (profile via).
    fn places() -> Vec<Place> {
        let place = |anchor, profile: &str, arn: Option<&str>| Place {
            anchor,
            profile: profile.to_string(),
            role_arns: arn.map(str::to_owned).into_iter().collect(),
        };
        vec![
            place(Anchor::Source, "alice", None),
            place(
                Anchor::Hop(0),
                "r1",
                Some("arn:aws:iam::123456789012:role/r1"),
            ),
            place(Anchor::Hop(1), "bg", Some(BG)),
            place(
                Anchor::Hop(2),
                "via",
                Some("arn:aws:iam::123456789012:role/after"),
            ),
        ]
    }

    fn policy(system: Option<&str>, user: &str) -> Policy {
        Policy {
            system: match system {
                Some(text) => SystemPolicy::Trusted {
                    path: "/etc/broker/policy.toml".into(),
                    rules: parse_toml(text).unwrap(),
                },
                None => SystemPolicy::Absent,
            },
            user: parse_toml(user).unwrap(),
        }
    }

    #[test]
    fn rules_apply_at_every_place_and_the_strictest_wins() {
        let p = policy(
            Some(
                "[[role]]\narn = \"*BreakGlass*\"\nbreak_glass = true\nreason_pattern = \"^INC\"\n\
                 approve_command = [\"approve\"]\nnotify_command = [\"page\"]\n",
            ),
            "[[role]]\narn = \"*BreakGlass*\"\nbreak_glass = false\nmax_duration = \"12h\"\n\
             reason_pattern = \"[0-9]$\"\nnotify_command = [\"page\"]\n\
             [profile.alice]\nmax_duration = \"8h\"\n[profile.via]\nmax_duration = \"30m\"\n\
             approve_command = [\"mine\"]\n[profile.elsewhere]\nbreak_glass = true\n",
        );
        let e = p.evaluate(&places());
        assert_eq!(
            e.origins(),
            [
                "system:role[0]",
                "user:role[0]",
                "user:profile.alice",
                "user:profile.via"
            ]
        );
        assert_eq!(e.applied[0].anchor, Anchor::Hop(1));
        assert_eq!(
            e.applied[0].matched,
            Matched::Role {
                glob: "*BreakGlass*".into(),
                arn: BG.into()
            }
        );
        assert_eq!(e.applied[2].anchor, Anchor::Source);
        assert!(e.break_glass() && e.require_reason(), "false does not undo");
        assert_eq!(e.break_glass_from(), Some(Anchor::Hop(1)));
        let hours = |h: u64| Some(Duration::from_secs(h * 3600));
        assert_eq!(e.cap_at(Anchor::Source), hours(8));
        assert_eq!(e.cap_at(Anchor::Hop(0)), hours(8));
        assert_eq!(e.cap_at(Anchor::Hop(1)), hours(1), "12h does not loosen 1h");
        assert_eq!(e.cap_at(Anchor::Hop(2)), Some(Duration::from_secs(1800)));
        assert_eq!(e.max_duration(), Some(Duration::from_secs(1800)));
        assert_eq!(e.reason_patterns().count(), 2);
        assert_eq!(e.notify_commands(), [["page".to_string()]]);
        let approvers: Vec<_> = e.approvers().iter().map(|a| a.command[0].clone()).collect();
        assert_eq!(approvers, ["approve", "mine"], "the system file's first");
        assert_eq!(e.approvers()[0].timeout, DEFAULT_APPROVE_TIMEOUT);
        assert_eq!(
            e.summary(),
            "break-glass, reason ~ ^INC, reason ~ [0-9]$, at most 30m, approval, notify"
        );
    }

    #[test]
    fn a_chain_that_matches_nothing_asks_nothing() {
        let p = policy(None, "[profile.other]\nbreak_glass = true\n");
        let e = p.evaluate(&places());
        assert!(e.is_empty() && !e.require_reason() && e.max_duration().is_none());
        assert_eq!(e.summary(), "-");
        let refused = Policy {
            system: SystemPolicy::Refused(Arc::new(FloorError::Unreadable {
                path: "/x".into(),
                source: std::io::ErrorKind::PermissionDenied.into(),
            })),
            user: Rules::default(),
        };
        assert!(refused.refused().is_some());
    }
}
