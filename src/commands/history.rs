//! `broker history`: reads the audit log, filters it, shows each exec's end beside its start,
//! and verifies the log's hash chain.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::audit::{AuditLog, Outcome, Record, Via};
use crate::context::Context;
use crate::error::Result;
use crate::{exit_codes, output};

/// Show the audit log of issued and refused credentials
///
/// Every exec, export, login and credential-server answer is recorded with its profile, role,
/// access key id, reason, outcome and time, and the end of every exec with the program's exit
/// status and how long it ran. Shows a table by default, oldest first, each exec's end beside
/// its start, as wide as the terminal ($COLUMNS); --json prints the records as stored.
///
/// To see what a session did in AWS, look its access key id up in CloudTrail:
/// `aws cloudtrail lookup-events --lookup-attributes AttributeKey=AccessKeyId,AttributeValue=KEY`
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  broker history --since 1d
  broker history --profile breakglass --json | jq .")]
pub struct Args {
    /// Only this profile
    #[arg(long, value_name = "PROFILE", add = super::completions::profiles())]
    profile: Option<String>,

    /// Only records newer than this, like 1h, 30m or 7d
    #[arg(long, value_name = "DURATION", value_parser = crate::duration::parse)]
    since: Option<std::time::Duration>,

    /// Only records with this outcome
    #[arg(long, value_name = "OUTCOME", value_parser = outcome_parser())]
    outcome: Option<Outcome>,

    /// Only credentials handed out this way
    #[arg(long, value_name = "VIA", value_parser = via_parser())]
    via: Option<Via>,

    /// Only records whose reason matches PATTERN: a regex, case ignored, found anywhere in the
    /// reason (plain text such as INC-4711 matches itself; ^INC-4711$ the whole reason only)
    #[arg(long, value_name = "PATTERN", value_parser = reason_pattern)]
    reason: Option<regex_lite::Regex>,

    /// Only the records of this access key id (CloudTrail's userIdentity.accessKeyId)
    #[arg(long, value_name = "ACCESS_KEY_ID")]
    key: Option<String>,

    /// One JSON object per line, as stored
    #[arg(long)]
    json: bool,

    /// Check the log's hash chain instead: prints "intact, N records", or names the first line
    /// that was edited, removed or reordered and exits with status 1
    #[arg(long, conflicts_with_all = ["profile", "since", "outcome", "via", "reason", "key", "json"])]
    verify: bool,

    /// With --verify, also check the log against a copy shipped off the machine (a syslog
    /// file, `journalctl -t broker -o cat`, what [audit] command kept): names the first record
    /// of the copy the log lacks or has changed, which the chain alone cannot show when `prev`
    /// was recomputed
    #[arg(long, value_name = "FILE", requires = "verify")]
    against: Option<std::path::PathBuf>,
}

fn outcome_parser() -> impl clap::builder::TypedValueParser<Value = Outcome> {
    use clap::builder::{PossibleValuesParser, TypedValueParser};
    PossibleValuesParser::new(Outcome::ALL.map(Outcome::name)).map(|name| {
        *Outcome::ALL
            .iter()
            .find(|o| o.name() == name)
            .expect("one of the possible values")
    })
}

fn reason_pattern(text: &str) -> std::result::Result<regex_lite::Regex, regex_lite::Error> {
    crate::policy::rules::bounded_regex(text, true)
}

fn via_parser() -> impl clap::builder::TypedValueParser<Value = Via> {
    use clap::builder::{PossibleValuesParser, TypedValueParser};
    PossibleValuesParser::new(Via::ALL.map(Via::name)).map(|name| {
        *Via::ALL
            .iter()
            .find(|v| v.name() == name)
            .expect("one of the possible values")
    })
}

pub fn run(args: Args, ctx: &Context) -> Result<u8> {
    let log = &ctx.audit;
    if let Some(copy) = &args.against {
        return verify_against(log, copy);
    }
    if args.verify {
        return verify(log);
    }
    let (records, bad) = log.read()?;
    if bad > 0 {
        output::notice(&format!(
            "skipped {bad} unreadable line(s) of the audit log"
        ));
    }
    // A --since longer than chrono can subtract means "since the beginning".
    let cutoff = args
        .since
        .and_then(|d| chrono::TimeDelta::from_std(d).ok())
        .and_then(|d| crate::clock::now().checked_sub_signed(d));
    let shown: Vec<&(Record, String)> = records
        .iter()
        .filter(|(r, _)| args.profile.as_ref().is_none_or(|p| &r.profile == p))
        .filter(|(r, _)| cutoff.is_none_or(|c| r.time >= c))
        .filter(|(r, _)| args.outcome.is_none_or(|o| r.outcome == o))
        .filter(|(r, _)| args.via.is_none_or(|v| r.via == Some(v)))
        .filter(|(r, _)| {
            args.reason.as_ref().is_none_or(|pattern| {
                r.reason
                    .as_deref()
                    .is_some_and(|reason| pattern.is_match(reason))
            })
        })
        .filter(|(r, _)| {
            args.key.as_deref().is_none_or(|key| {
                r.access_key_id
                    .as_deref()
                    .is_some_and(|id| id.eq_ignore_ascii_case(key.trim()))
            })
        })
        .collect();
    let text = if args.json {
        let mut text = String::new();
        for (_, line) in shown {
            text.push_str(&crate::sanitize::escape_json(line));
            text.push('\n');
        }
        text
    } else {
        let all: Vec<&Record> = records.iter().map(|(r, _)| r).collect();
        let shown: Vec<&Record> = shown.into_iter().map(|(r, _)| r).collect();
        let width = ctx.env.columns.or_else(crate::tty::stdout_width);
        table(&all, &shown, width)
    };
    output::stdout(text.as_bytes())?;
    Ok(exit_codes::SUCCESS)
}

/// `--verify`: one line on stdout when the chain holds; the error names where it breaks.
fn verify(log: &AuditLog) -> Result<u8> {
    let path = log.path.display();
    let text = match log.verify()? {
        None => format!("{path}: no audit log yet\n"),
        Some(v) => match v.chain_from {
            Some(1) => format!("{path}: intact, {} records\n", v.records),
            Some(from) => format!(
                "{path}: intact, {} records; the hash chain starts at line {from} (the {} lines \
                 before it were written without one and cannot be checked)\n",
                v.records,
                from - 1
            ),
            None => format!(
                "{path}: {} records, none with a hash chain (written by an older broker); the \
                 chain starts with the next record\n",
                v.records
            ),
        },
    };
    output::stdout(text.as_bytes())?;
    Ok(exit_codes::SUCCESS)
}

/// `--verify --against FILE`: one line on stdout when the log holds every shipped record in
/// place and its chain holds; the error names the first difference.
fn verify_against(log: &AuditLog, copy: &std::path::Path) -> Result<u8> {
    let path = log.path.display();
    let text = match log.verify_against(copy)? {
        None => format!("{path}: no audit log yet\n"),
        Some((matched, verified)) => {
            let (first, last) = matched.lines;
            let mut text = format!(
                "{path}: intact, {} records; every one of the {} records of {} is in it, in \
                 place (lines {first} to {last})",
                verified.records,
                matched.shipped,
                copy.display()
            );
            if matched.after > 0 {
                text.push_str(&format!(
                    "; the {} lines after them are not in that copy",
                    matched.after
                ));
            }
            text.push('\n');
            text
        }
    };
    output::stdout(text.as_bytes())?;
    Ok(exit_codes::SUCCESS)
}

/// The `issued` record an `ended` record ends, by profile, access key id and time.
fn starts(ended: &Record, issued: &Record) -> bool {
    issued.outcome == Outcome::Issued
        && ended.started == Some(issued.time)
        && ended.profile == issued.profile
        && ended.access_key_id == issued.access_key_id
}

const HEADER: [&str; 9] = [
    "TIME", "PROFILE", "VIA", "OUTCOME", "ROLE", "KEY", "ENDED", "REASON", "DETAIL",
];
const VIA: usize = 2;
/// ROLE is cut first, keeping its end (the role's name); then REASON and DETAIL, the widest
/// first, so an error's text stays as long as it can.
const ROLE: usize = 4;
const REASON: usize = 7;
const DETAIL: usize = 8;
/// The narrowest a cut column gets: ROLE, and REASON and DETAIL.
const MIN_ROLE: usize = 12;
const MIN_TEXT: usize = 10;

/// The table: one row per record, except an `ended` record shown beside its start.
fn table(all: &[&Record], shown: &[&Record], width: Option<usize>) -> String {
    let shown_starts: HashSet<(&str, Option<&str>, DateTime<Utc>)> = shown
        .iter()
        .filter(|r| r.outcome == Outcome::Issued)
        .map(|r| (r.profile.as_str(), r.access_key_id.as_deref(), r.time))
        .collect();
    let rows: Vec<[String; 9]> = shown
        .iter()
        .filter(|r| {
            // An end whose start is shown is shown with it.
            r.outcome != Outcome::Ended
                || !r.started.is_some_and(|started| {
                    shown_starts.contains(&(
                        r.profile.as_str(),
                        r.access_key_id.as_deref(),
                        started,
                    ))
                })
        })
        .map(|r| {
            let end = match r.outcome {
                Outcome::Ended => Some(*r),
                Outcome::Issued => all
                    .iter()
                    .find(|e| e.outcome == Outcome::Ended && starts(e, r))
                    .copied(),
                _ => None,
            };
            let outcome = match r.outcome {
                Outcome::Issued if r.cached => "issued (cached)",
                other => other.name(),
            };
            let detail = r
                .error
                .as_deref()
                .or(r.note.as_deref())
                .or(end.and_then(|e| e.error.as_deref()));
            [
                r.time.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                dash(Some(r.profile.as_str()).filter(|p| !p.is_empty())),
                dash(r.via.map(Via::name)),
                outcome.to_string(),
                dash(r.role_arn.as_deref()),
                dash(r.access_key_id.as_deref()),
                end.map(ending).unwrap_or_else(|| "-".into()),
                dash(r.reason.as_deref()),
                dash(detail),
            ]
        })
        .collect();
    render(&rows, width)
}

fn dash(value: Option<&str>) -> String {
    value.unwrap_or("-").to_string()
}

/// How an exec ended: `exit 3, 1m5s`, `signal 9, 2s`.
fn ending(end: &Record) -> String {
    let how = match (end.exit_code, end.signal) {
        (_, Some(signal)) => format!("signal {signal}"),
        (Some(code), None) if end.error.is_some() => format!("not run ({code})"),
        (Some(code), None) => format!("exit {code}"),
        (None, None) => "ended".to_string(),
    };
    match end.seconds_in_use {
        Some(seconds) if seconds.is_finite() && seconds >= 0.0 => format!(
            "{how}, {}",
            crate::duration::format(Duration::from_secs(seconds.round() as u64))
        ),
        _ => how,
    }
}

/// The table, its ROLE, REASON and DETAIL cut (with `…`, the widest first) to fit `width` when
/// it is known and the table is wider.
fn render(rows: &[[String; 9]], width: Option<usize>) -> String {
    let cut = |min, keep_end, rank| {
        Some(output::Cut {
            min,
            keep_end,
            rank,
        })
    };
    let mut cuts = [None; 9];
    // The widest of the three gives way first, so a long DETAIL is cut before the ROLE.
    cuts[DETAIL] = cut(MIN_TEXT, false, 0);
    cuts[REASON] = cut(MIN_TEXT, false, 0);
    cuts[ROLE] = cut(MIN_ROLE, true, 0);
    let fit = width.map(|width| output::Fit {
        width,
        cut: cuts,
        // When even the narrowest cut does not fit, ROLE (the profile names it) and then VIA
        // are left out.
        leave_out: &[ROLE, VIA],
    });
    output::table_fitting(HEADER, rows, fit.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_narrow_terminal_cuts_the_widest_text_first_then_leaves_out_role_and_via() {
        let rows = [
            [
                "2026-01-01T00:00:00Z",
                "breakglass",
                "exec",
                "issued",
                "arn:aws:iam::123456789012:role/breakglass",
                "ASIAQNZGKIQY56JQ7WML",
                "exit 3, 1m3s",
                "INC-4711: primary DB unreachable",
                "-",
            ],
            [
                "2026-01-01T00:01:00Z",
                "breakglass",
                "exec",
                "error",
                "arn:aws:iam::123456789012:role/breakglass",
                "-",
                "-",
                "INC-4711: primary DB unreachable",
                "AccessDenied: User: arn:aws:iam::123456789012:user/alice is not authorized",
            ],
        ]
        .map(|row| row.map(str::to_string));
        let fits = |text: &str, width: usize| text.lines().all(|l| l.chars().count() <= width);
        let wide = render(&rows, None);
        assert!(
            wide.contains(&rows[1][8]) && wide.contains(&rows[1][4]),
            "{wide}"
        );

        let cut = render(&rows, Some(150));
        assert!(fits(&cut, 150), "{cut}");
        assert!(cut.contains("…\n"), "DETAIL, the widest, first: {cut}");
        let roomy = render(&rows, Some(200));
        assert!(
            roomy.contains("iam::123456789012:role/breakglass  ASIA"),
            "DETAIL, far wider, gives way before ROLE does: {roomy}"
        );

        let narrow = render(&rows, Some(110));
        assert!(fits(&narrow, 110), "{narrow}");
        assert!(
            !narrow.contains("ROLE") && !narrow.contains("role/"),
            "{narrow}"
        );
        assert!(narrow.contains("  exec  error    -  "), "{narrow}");

        let tiny = render(&rows, Some(102));
        assert!(fits(&tiny, 102), "{tiny}");
        assert!(!tiny.contains("VIA") && !tiny.contains("exec"), "{tiny}");
        assert!(tiny.contains("  AccessDen…"), "{tiny}");
        // Narrower than that, the table overflows rather than losing more.
        assert!(render(&rows, Some(60)).contains("ASIAQNZGKIQY56JQ7WML"));
    }
}
