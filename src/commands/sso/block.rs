//! The block of the AWS config that `sso profiles --write` owns, one per SSO session: found by
//! its marker lines, replaced whole, every byte outside it kept. And what a rewrite changes,
//! profile by profile, for `--dry-run`.

use std::collections::BTreeMap;

use crate::error::{Error, Result};

fn begin(session: &str) -> String {
    format!("# >>> broker sso profiles --sso-session {session} >>>")
}

fn end(session: &str) -> String {
    format!("# <<< broker sso profiles --sso-session {session} <<<")
}

/// The byte range of `session`'s block in `text`, from its first marker line to the end of the
/// last; `None` when there is none. A marker without its pair, or a second block, is an error:
/// what to replace would be a guess.
pub fn find(text: &str, session: &str) -> Result<Option<std::ops::Range<usize>>> {
    let (begin, end) = (begin(session), end(session));
    let mut starts = Vec::new();
    let mut ends = Vec::new();
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        if bare == begin {
            starts.push(at);
        } else if bare == end {
            ends.push(at + line.len());
        }
        at += line.len();
    }
    let damaged = |what: &str| {
        Error::new(format!(
            "the AWS config's block of SSO session {session} is damaged ({what}); nothing was \
             written"
        ))
        .with_hint(format!(
            "mend or delete the lines between `{begin}` and `{end}`, then run it again"
        ))
    };
    match (starts.as_slice(), ends.as_slice()) {
        ([], []) => Ok(None),
        ([start], [stop]) if start < stop => Ok(Some(*start..*stop)),
        ([_], [_]) => Err(damaged("its end comes before its start")),
        (s, e) if s.len() > 1 || e.len() > 1 => Err(damaged("it is there twice")),
        _ => Err(damaged("one of its two marker lines is missing")),
    }
}

/// `text` with `session`'s block holding `sections` (the block replaced where it is, else
/// added at the end after a blank line).
pub fn replace(text: &str, session: &str, sections: &str) -> Result<String> {
    let block = format!(
        "{}\n# Written by `broker sso profiles --write`, which replaces this block when run \
         again: edits inside it are lost.\n{}{}\n",
        begin(session),
        sections,
        end(session)
    );
    Ok(match find(text, session)? {
        Some(range) => format!("{}{block}{}", &text[..range.start], &text[range.end..]),
        None if text.is_empty() => block,
        None => {
            let gap = if text.ends_with("\n\n") {
                ""
            } else if text.ends_with('\n') {
                "\n"
            } else {
                "\n\n"
            };
            format!("{text}{gap}{block}")
        }
    })
}

/// The profiles of a block's text: each `[profile NAME]` header with its key lines.
pub fn profiles(text: &str) -> BTreeMap<String, Vec<String>> {
    let mut profiles: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current = None;
    for line in text.lines().map(str::trim) {
        if let Some(name) = line
            .strip_prefix("[profile ")
            .and_then(|l| l.strip_suffix(']'))
        {
            current = Some(name.trim().to_string());
            profiles.entry(name.trim().to_string()).or_default();
        } else if let Some(name) = &current {
            if !line.is_empty() && !line.starts_with(['#', ';']) {
                profiles
                    .entry(name.clone())
                    .or_default()
                    .push(line.to_string());
            }
        }
    }
    profiles
}

/// What replacing `old` by `new` does, a line per profile added (`+`), removed (`-`) or
/// changed (`~`), by name; and the counts.
pub fn diff(old: &str, new: &str) -> (String, [usize; 3]) {
    let (old, new) = (profiles(old), profiles(new));
    let mut lines = String::new();
    let mut counts = [0; 3];
    for (name, keys) in &new {
        match old.get(name) {
            None => {
                counts[0] += 1;
                lines.push_str(&format!("+ [profile {name}]  {}\n", keys.join("  ")));
            }
            Some(was) if was != keys => {
                counts[2] += 1;
                lines.push_str(&format!("~ [profile {name}]  {}\n", keys.join("  ")));
            }
            Some(_) => {}
        }
    }
    for name in old.keys().filter(|n| !new.contains_key(*n)) {
        counts[1] += 1;
        lines.push_str(&format!("- [profile {name}]\n"));
    }
    (lines, counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINE: &str = "[profile a]\nsso_session = corp\n";

    #[test]
    fn a_block_is_added_after_a_blank_line_and_replaced_in_place_keeping_every_other_byte() {
        let user = "[default]\nregion = eu-west-1\r\n# mine\n";
        let once = replace(user, "corp", MINE).unwrap();
        assert!(once.starts_with(user), "{once}");
        assert!(
            once[user.len()..].starts_with("\n# >>> broker sso profiles"),
            "{once}"
        );
        let after = "\n[profile later]\nregion = us-east-1";
        let edited = format!("{once}{after}");
        let twice = replace(&edited, "corp", "[profile b]\nsso_session = corp\n").unwrap();
        assert!(twice.starts_with(user) && twice.ends_with(after), "{twice}");
        assert!(!twice.contains("[profile a]") && twice.contains("[profile b]"));
        assert_eq!(
            replace(&twice, "corp", MINE).unwrap(),
            format!("{once}{after}")
        );
        // Another session's block is another block.
        let other = replace(&once, "other", MINE).unwrap();
        assert_eq!(find(&other, "corp").unwrap(), find(&once, "corp").unwrap());
        assert_eq!(replace("", "corp", MINE).unwrap(), once[user.len() + 1..]);
    }

    #[test]
    fn a_damaged_block_is_an_error_and_not_a_guess() {
        let once = replace("", "corp", MINE).unwrap();
        let no_end = once.replace("# <<<", "# <<");
        let twice = format!("{once}{once}");
        let reversed = {
            let (head, tail) = once.split_at(once.find("[profile").unwrap());
            format!("{tail}{head}")
        };
        for (text, why) in [
            (no_end, "one of its two marker lines is missing"),
            (twice, "it is there twice"),
            (reversed, "its end comes before its start"),
        ] {
            let err = replace(&text, "corp", MINE).unwrap_err().to_string();
            assert!(err.contains(why), "{err}");
        }
    }

    #[test]
    fn the_diff_names_each_profile_added_removed_or_changed() {
        let old = "# x\n[profile a]\nk = 1\n[profile b]\nk = 1\n[profile c]\nk = 1\n";
        let new = "[profile a]\nk = 1\n[profile b]\nk = 2\n[profile d]\nk = 1\n";
        let (lines, counts) = diff(old, new);
        assert_eq!(counts, [1, 1, 1]);
        assert_eq!(
            lines,
            "~ [profile b]  k = 2\n+ [profile d]  k = 1\n- [profile c]\n"
        );
    }
}
