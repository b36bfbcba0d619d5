//! Checking the local audit log against a copy shipped off the machine (`history --verify
//! --against FILE`): a syslog file, the output of `journalctl -t broker -o cat`, or whatever the
//! `[audit] command` kept. Every shipped line carries its `prev`, so each record of the copy has
//! one place in the log: right after the line whose hash it names. A record of the copy that
//! the log lacks there, or a line of the log, among those the copy covers, that the copy lacks,
//! is a change made after shipping, which the local chain alone cannot show when whoever made
//! it recomputed `prev` from there on.
//!
//! Reads the copy line by line and keeps only broker's records from it; never writes anything.

use std::collections::{HashMap, HashSet};
use std::io::BufRead;

use super::{line_hash, Outcome, Record, GENESIS};

/// The longest line of a copy looked at; longer ones are not broker's records.
const LINE_CAP: usize = 1 << 20;
/// Where a record starts in a line of a copy: its first field, after any syslog prefix.
const RECORD_START: &[u8] = b"{\"time\":";

/// One of broker's records found in a copy: the JSON exactly as shipped, and where.
pub struct Shipped {
    /// The line of the copy it is on, from 1.
    pub line: usize,
    pub hash: String,
    pub record: Record,
}

/// broker's records in a copy, in the copy's order, each once; other lines (other programs'
/// syslog messages, a prefix before the JSON) are passed over.
pub fn shipped_records(copy: impl BufRead) -> std::io::Result<Vec<Shipped>> {
    let mut found = Vec::new();
    let mut seen = HashSet::new();
    let mut lines = copy.split(b'\n');
    let mut n = 0;
    while let Some(line) = lines.next().transpose()? {
        n += 1;
        if line.len() > LINE_CAP {
            continue;
        }
        let Some(start) = line
            .windows(RECORD_START.len())
            .position(|w| w == RECORD_START)
        else {
            continue;
        };
        let json = line[start..].trim_ascii_end();
        let Ok(record) = serde_json::from_slice::<Record>(json) else {
            continue;
        };
        if record.prev.is_none() {
            continue;
        }
        let hash = line_hash(json);
        if seen.insert(hash.clone()) {
            found.push(Shipped {
                line: n,
                hash,
                record,
            });
        }
    }
    Ok(found)
}

/// What a comparison found when nothing was missing or different.
#[derive(Debug, PartialEq, Eq)]
pub struct Matched {
    /// The records of the copy.
    pub shipped: usize,
    /// The lines of the log from the first to the last that the copy holds, from 1.
    pub lines: (usize, usize),
    /// Lines of the log after the copy's last record: not in it, so not checked by it.
    pub after: usize,
}

/// What a comparison found missing or different: the first place where the log and the copy
/// part.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Mismatch {
    #[error("{copy} holds no audit records of broker")]
    Empty { copy: String },
    #[error(
        "the log ends at line {line}, but {copy} goes on with {count} more record(s), the \
         first {what} (its line {copy_line}): records were cut off the log's end"
    )]
    CutOff {
        copy: String,
        line: usize,
        count: usize,
        what: String,
        copy_line: usize,
    },
    #[error(
        "line {} is not what was shipped: after line {after}, {copy} has {what} (its line \
         {copy_line}), which the log lacks; the log was edited there, or records were removed \
         and the chain recomputed from there on",
        after + 1
    )]
    Lacking {
        copy: String,
        after: usize,
        what: String,
        copy_line: usize,
    },
    #[error(
        "{copy} has {what} (its line {copy_line}), which the log lacks, and neither holds the \
         record it was written after"
    )]
    Unplaced {
        copy: String,
        what: String,
        copy_line: usize,
    },
    #[error(
        "line {line}{what} is not in {copy}, which holds the lines around it: it was added or \
         changed after they were shipped"
    )]
    Added {
        copy: String,
        line: usize,
        /// ` (the issued record of …)`, when the line is a record.
        what: String,
    },
}

/// Compares the log (its bytes) with the records of a copy; the error names the first record
/// missing from the log or different in it, or the first line of the log the copy lacks. `copy`
/// names the copy in messages.
pub fn compare(log: &[u8], shipped: &[Shipped], copy: &str) -> Result<Matched, Mismatch> {
    if shipped.is_empty() {
        return Err(Mismatch::Empty { copy: copy.into() });
    }
    let log = Log::new(log);
    let by_hash: HashMap<&str, &Shipped> = shipped.iter().map(|s| (s.hash.as_str(), s)).collect();
    let missing = log.missing(shipped, &by_hash);
    let covered: Vec<usize> = (1..=log.lines.len())
        .filter(|&n| by_hash.contains_key(log.hashes[n - 1].as_str()))
        .collect();
    let (first, last) = match (covered.first(), covered.last()) {
        (Some(&first), Some(&last)) => (first, last),
        _ => (1, 0),
    };
    let first_extra = log.first_unshipped(first, last, &by_hash);
    let first_missing = log.first_missing(&missing);
    let missing_at = first_missing.map(|(after, _)| after.map_or(usize::MAX, |n| n + 1));
    match (first_missing, first_extra) {
        (Some((after, shipped)), extra) if extra.is_none_or(|n| Some(n) >= missing_at) => {
            let (copy, what, copy_line) =
                (copy.to_string(), describe(&shipped.record), shipped.line);
            Err(match after {
                Some(line) if line == log.lines.len() => Mismatch::CutOff {
                    copy,
                    line,
                    count: missing.len(),
                    what,
                    copy_line,
                },
                Some(after) => Mismatch::Lacking {
                    copy,
                    after,
                    what,
                    copy_line,
                },
                None => Mismatch::Unplaced {
                    copy,
                    what,
                    copy_line,
                },
            })
        }
        (_, Some(line)) => Err(Mismatch::Added {
            copy: copy.into(),
            line,
            what: log.records[line - 1]
                .as_ref()
                .map(|r| format!(" ({})", describe(r)))
                .unwrap_or_default(),
        }),
        _ => Ok(Matched {
            shipped: shipped.len(),
            lines: (first, last),
            after: log.lines.len() - last,
        }),
    }
}

/// The local log, line by line: each line's hash, and its record where it is one.
struct Log<'a> {
    lines: Vec<&'a [u8]>,
    hashes: Vec<String>,
    /// The line (from 1) of each hash.
    at: HashMap<String, usize>,
    records: Vec<Option<Record>>,
}

impl<'a> Log<'a> {
    fn new(bytes: &'a [u8]) -> Log<'a> {
        let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
        if lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        }
        let hashes: Vec<String> = lines.iter().map(|l| line_hash(l)).collect();
        Log {
            at: hashes
                .iter()
                .enumerate()
                .map(|(i, h)| (h.clone(), i + 1))
                .collect(),
            records: lines
                .iter()
                .map(|l| serde_json::from_slice(l).ok())
                .collect(),
            lines,
            hashes,
        }
    }

    /// Every shipped record the log lacks, with the line of the log it was written after: its
    /// own `prev`, or that of the shipped record it follows, back to one the log has.
    fn missing<'s>(
        &self,
        shipped: &'s [Shipped],
        by_hash: &HashMap<&str, &'s Shipped>,
    ) -> Vec<(Option<usize>, &'s Shipped)> {
        let mut missing = Vec::new();
        for record in shipped.iter().filter(|s| !self.at.contains_key(&s.hash)) {
            let mut prev = record.record.prev.as_deref().unwrap_or_default();
            let mut steps = 0;
            let after = loop {
                if prev == GENESIS {
                    break Some(0);
                }
                if let Some(&n) = self.at.get(prev) {
                    break Some(n);
                }
                match by_hash.get(prev) {
                    Some(before) if steps < shipped.len() => {
                        prev = before.record.prev.as_deref().unwrap_or_default();
                        steps += 1;
                    }
                    _ => break None,
                }
            };
            missing.push((after, record));
        }
        missing
    }

    /// Of the missing records, the first that comes right after a line the log has (only the
    /// first of a run counts).
    fn first_missing<'s>(
        &self,
        missing: &[(Option<usize>, &'s Shipped)],
    ) -> Option<(Option<usize>, &'s Shipped)> {
        missing
            .iter()
            .filter(|(after, s)| match after {
                Some(0) => s.record.prev.as_deref() == Some(GENESIS),
                Some(n) => s.record.prev.as_deref() == Some(self.hashes[n - 1].as_str()),
                None => true,
            })
            .min_by_key(|(after, s)| (after.map_or(usize::MAX, |n| n), s.line))
            .copied()
    }

    /// The first line from `first` to `last` that the copy lacks. A record that could not be
    /// shipped is named by a `shipping_failed` record, which itself goes only through the
    /// other channel: neither must be in this copy.
    fn first_unshipped(
        &self,
        first: usize,
        last: usize,
        by_hash: &HashMap<&str, &Shipped>,
    ) -> Option<usize> {
        let failed: Vec<&Record> = self
            .records
            .iter()
            .flatten()
            .filter(|r| r.outcome == Outcome::ShippingFailed)
            .collect();
        let excused = |record: &Record| {
            record.outcome == Outcome::ShippingFailed || failed.iter().any(|f| f.names(record))
        };
        (first..=last).find(|&n| {
            !by_hash.contains_key(self.hashes[n - 1].as_str())
                && !self.records[n - 1].as_ref().is_some_and(excused)
        })
    }
}

/// "the issued record of profile p at 2026-01-02T03:04:05Z".
fn describe(record: &Record) -> String {
    let time = record
        .time
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let profile = if record.profile.is_empty() {
        String::new()
    } else {
        format!(" of profile {}", crate::sanitize::escape(&record.profile))
    };
    format!("the {} record{profile} at {time}", record.outcome.name())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{record_line, Via};

    /// A chained log of `n` issued records (after its chain start), as its lines.
    fn chain(n: usize) -> Vec<String> {
        let mut prev = GENESIS.to_string();
        let mut lines = Vec::new();
        for i in 0..=n {
            let mut record = Record::new(&format!("p{i}"), Via::Export, None);
            record.outcome = if i == 0 {
                Outcome::ChainStarted
            } else {
                Outcome::Issued
            };
            record.prev = Some(prev);
            let line = record_line(&record);
            prev = line_hash(line.as_bytes());
            lines.push(line);
        }
        lines
    }

    fn rechain(lines: &mut [String], from: usize) {
        for i in from..lines.len() {
            let mut record: Record = serde_json::from_str(&lines[i]).unwrap();
            record.prev = Some(line_hash(lines[i - 1].as_bytes()));
            lines[i] = record_line(&record);
        }
    }

    fn check(log: &[String], copy: &[String]) -> Result<Matched, String> {
        let text = copy
            .iter()
            .map(|l| format!("Jan  1 00:00:00 host broker[1]: {l}\nother: noise\n"))
            .collect::<String>();
        let shipped = shipped_records(text.as_bytes()).unwrap();
        compare(format!("{}\n", log.join("\n")).as_bytes(), &shipped, "COPY")
            .map_err(|m| m.to_string())
    }

    #[test]
    fn an_intact_log_matches_its_copy_and_later_lines_are_counted() {
        let log = chain(5);
        assert_eq!(
            check(&log, &log),
            Ok(Matched {
                shipped: 6,
                lines: (1, 6),
                after: 0
            })
        );
        assert_eq!(check(&log, &log[..4]).unwrap().after, 2);
        // The copy in another order (the audit command's runs may reorder): the same.
        let mut shuffled = log.clone();
        shuffled.reverse();
        assert!(check(&log, &shuffled).is_ok());
    }

    #[test]
    fn a_cut_edited_or_recomputed_log_is_named_at_its_first_difference() {
        let log = chain(6);
        let err = check(&log[..4], &log).unwrap_err();
        assert!(
            err.starts_with("the log ends at line 4, but COPY goes on with 3 more record(s)"),
            "{err}"
        );
        let mut edited = log.clone();
        edited[3] = edited[3].replace("\"p3\"", "\"px\"");
        let err = check(&edited, &log).unwrap_err();
        assert!(
            err.starts_with("line 4 is not what was shipped: after line 3"),
            "{err}"
        );
        // Lines 3 and 4 dropped, and prev recomputed from there on: the chain holds.
        let mut recomputed = log.clone();
        recomputed.drain(2..4);
        rechain(&mut recomputed, 2);
        assert!(crate::audit::verify(format!("{}\n", recomputed.join("\n")).as_bytes()).is_ok());
        let err = check(&recomputed, &log).unwrap_err();
        assert!(
            err.starts_with("line 3 is not what was shipped: after line 2"),
            "{err}"
        );
        // A line added to the log and the chain recomputed after it.
        let mut added = log.clone();
        added.insert(6, added[5].replace("\"p5\"", "\"added\""));
        rechain(&mut added, 6);
        let err = check(&added, &log).unwrap_err();
        assert!(err.starts_with("line 7 is not what was shipped"), "{err}");
        assert_eq!(
            check(&log, &[]).unwrap_err(),
            "COPY holds no audit records of broker"
        );
    }
}
