//! Choosing a profile when none was named and neither `AWS_DEFAULT_PROFILE` nor `AWS_PROFILE`
//! is set: on a terminal, a list to filter by typing (fuzzy), the most recently used profiles
//! first; elsewhere, an error naming a few, since nothing can be asked.
//!
//! Never on the path of a named profile: nothing here runs, or is initialised, on a warm
//! `export PROFILE`.

use crate::audit::{Outcome, Record};

#[derive(Debug, thiserror::Error)]
pub enum PickError {
    #[error("no profile given, AWS_PROFILE is not set, and the AWS config has no default profile")]
    NotATerminal {
        /// The first few profiles, most recently used first.
        some: Vec<String>,
        total: usize,
    },
    #[error("no profile given, and the AWS config has no profiles")]
    NoProfiles,
    #[error("no profile was chosen")]
    Cancelled,
    #[error("cannot show the profile picker: {0}")]
    Terminal(std::io::Error),
}

/// How many profiles the error off a terminal names.
const NAMED_OFF_TERMINAL: usize = 5;

/// The profiles in the order the picker shows them: those used most recently first (by the
/// audit log's issued records, newest first), then the others by name. Pure.
pub fn order(names: &[String], records: &[Record]) -> Vec<String> {
    let mut recent: Vec<&str> = Vec::new();
    for record in records.iter().rev() {
        if record.outcome == Outcome::Issued
            && names.contains(&record.profile)
            && !recent.contains(&record.profile.as_str())
        {
            recent.push(&record.profile);
        }
    }
    let mut ordered: Vec<String> = recent.iter().map(|s| s.to_string()).collect();
    let mut rest: Vec<&String> = names
        .iter()
        .filter(|n| !recent.contains(&n.as_str()))
        .collect();
    rest.sort();
    ordered.extend(rest.into_iter().cloned());
    ordered
}

/// Asks which of `ordered` to use when `on_terminal`; otherwise the error naming a few.
pub fn pick(ordered: &[String], on_terminal: bool) -> Result<String, PickError> {
    if ordered.is_empty() {
        return Err(PickError::NoProfiles);
    }
    if !on_terminal {
        return Err(PickError::NotATerminal {
            some: ordered.iter().take(NAMED_OFF_TERMINAL).cloned().collect(),
            total: ordered.len(),
        });
    }
    let shown: Vec<String> = ordered
        .iter()
        .map(|n| crate::sanitize::escape(n).into_owned())
        .collect();
    console::set_colors_enabled_stderr(crate::output::stderr_colors());
    let term = console::Term::stderr();
    let chosen = dialoguer::FuzzySelect::with_theme(&dialoguer::theme::ColorfulTheme::default())
        .with_prompt("Profile (type to filter, Enter to choose, Esc to cancel)")
        .items(&shown)
        .default(0)
        .max_length(15)
        .interact_on_opt(&term)
        .map_err(|dialoguer::Error::IO(e)| PickError::Terminal(e))?;
    match chosen {
        Some(i) => Ok(ordered[i].clone()),
        None => Err(PickError::Cancelled),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Via;

    fn record(profile: &str, outcome: Outcome) -> Record {
        let mut r = Record::new(profile, Via::Exec, None);
        r.outcome = outcome;
        r
    }

    #[test]
    fn the_most_recently_used_come_first_then_the_rest_by_name() {
        let names: Vec<String> = ["alpha", "beta", "gamma", "delta"]
            .map(String::from)
            .to_vec();
        let records = [
            record("gamma", Outcome::Issued),
            record("beta", Outcome::Issued),
            record("gamma", Outcome::Issued),
            record("delta", Outcome::Refused),
            record("removed-since", Outcome::Issued),
        ];
        assert_eq!(order(&names, &records), ["gamma", "beta", "alpha", "delta"]);
        assert_eq!(order(&names, &[]), ["alpha", "beta", "delta", "gamma"]);
    }

    #[test]
    fn off_a_terminal_the_error_names_a_few() {
        let names: Vec<String> = (0..8).map(|i| format!("p{i}")).collect();
        match pick(&names, false) {
            Err(PickError::NotATerminal { some, total }) => {
                assert_eq!(some, ["p0", "p1", "p2", "p3", "p4"]);
                assert_eq!(total, 8);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(pick(&[], true), Err(PickError::NoProfiles)));
    }
}
