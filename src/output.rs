//! Writing to stdout (the only channel for program-readable output) and stderr (notices,
//! errors). A closed pipe ends the command quietly instead of panicking. Colour (errors, hints,
//! table headers) only where [`colors`] allows it: never for `NO_COLOR`, always for
//! `CLICOLOR_FORCE`, else on a terminal that is not `dumb` unless `CLICOLOR=0`.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU8, Ordering};

use crate::environment::ColorVars;
use crate::error::{Error, Result};

/// The colour conventions in force, set once at start (0: not set, 1: never, 2: always,
/// 3: on a terminal).
static COLOR: AtomicU8 = AtomicU8::new(0);

/// Remembers the colour conventions of the environment. Only a store: whether a stream is a
/// terminal is asked when something is to be coloured.
pub fn init_color(vars: ColorVars) {
    let mode = match colors(vars, None) {
        Some(false) => 1,
        Some(true) => 2,
        None => 3,
    };
    COLOR.store(mode, Ordering::Relaxed);
}

/// Whether to colour a stream: `Some` when the conventions decide alone, `None` when it
/// depends on `terminal` (given: decided). Pure.
pub fn colors(vars: ColorVars, terminal: Option<bool>) -> Option<bool> {
    if vars.no_color {
        Some(false)
    } else if vars.force {
        Some(true)
    } else if vars.off || vars.dumb_terminal {
        Some(false)
    } else {
        terminal
    }
}

/// Whether stderr gets colour.
pub fn stderr_colors() -> bool {
    decide(|| std::io::stderr().is_terminal())
}

/// Whether stdout gets colour.
pub fn stdout_colors() -> bool {
    decide(|| std::io::stdout().is_terminal())
}

fn decide(terminal: impl FnOnce() -> bool) -> bool {
    match COLOR.load(Ordering::Relaxed) {
        1 => false,
        2 => true,
        3 => terminal(),
        _ => false,
    }
}

fn choice(colored: bool) -> anstream::ColorChoice {
    if colored {
        anstream::ColorChoice::Always
    } else {
        anstream::ColorChoice::Never
    }
}

/// Prints an error the way broker ends with one, coloured where allowed.
pub fn error(e: &Error, verbose: bool) {
    let mut out = anstream::AutoStream::new(std::io::stderr(), choice(stderr_colors()));
    let _ = writeln!(out, "{}", e.render_styled(verbose));
}

/// Prints a hint line on stderr (after a warning), coloured where allowed.
pub fn hint(text: &str) {
    let mut out = anstream::AutoStream::new(std::io::stderr(), choice(stderr_colors()));
    let _ = writeln!(
        out,
        "{}",
        crate::error::styled_label(
            "hint:",
            crate::error::HINT_STYLE,
            &crate::error::one_line(text)
        )
    );
}

/// Writes a table from [`table`] to stdout, its header bold where allowed.
pub fn print_table(text: &str) -> Result<()> {
    if !stdout_colors() {
        return stdout(text.as_bytes());
    }
    let bold = anstyle::Style::new().bold();
    let (header, rest) = text.split_once('\n').unwrap_or((text, ""));
    stdout(format!("{}{header}{}\n{rest}", bold.render(), bold.render_reset()).as_bytes())
}

/// Writes all of `bytes` to stdout and flushes.
pub fn stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::with_source("cannot write to stdout", e)),
    }
}

/// Prints a notice for the user on stderr, never on stdout.
pub fn notice(text: &str) {
    eprintln!("broker: {}", crate::error::one_line(text));
}

/// Logs a line when `-v` was given. Callers pass names and paths, never secrets.
pub fn verbose(text: impl std::fmt::Display) {
    if VERBOSE.load(std::sync::atomic::Ordering::Relaxed) > 0 {
        eprintln!(
            "broker: [debug] {}",
            crate::error::one_line(&text.to_string())
        );
    }
}

pub static VERBOSE: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

/// Left-aligned columns separated by two spaces, trailing blanks trimmed; every cell
/// sanitised for the terminal.
pub fn table<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> String {
    table_fitting(header, rows, None)
}

/// How a table gives way on a terminal narrower than its natural width.
pub struct Fit<'a, const N: usize> {
    /// The terminal's width.
    pub width: usize,
    /// Per column: whether, how far and in which order it may be cut (`None`: never).
    pub cut: [Option<Cut>; N],
    /// The columns left out, one after the other, while cutting is not enough.
    pub leave_out: &'a [usize],
}

/// How one column is cut: never below `min` characters, keeping its end rather than its start
/// when `keep_end`; columns of a lower `rank` are cut first, the widest first among equals (the
/// rightmost of equally wide ones).
#[derive(Debug, Clone, Copy)]
pub struct Cut {
    pub min: usize,
    pub keep_end: bool,
    pub rank: u8,
}

/// [`table`], cut (with `…`) to fit `fit`'s width where given. Narrower than the most it can
/// give way, the table overflows rather than losing more.
pub fn table_fitting<const N: usize>(
    header: [&str; N],
    rows: &[[String; N]],
    fit: Option<&Fit<'_, N>>,
) -> String {
    let rows: Vec<[String; N]> = rows
        .iter()
        .map(|row| {
            row.clone()
                .map(|cell| crate::sanitize::escape(&cell).into_owned())
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut shown = [true; N];
    if let Some(fit) = fit {
        let natural = widths;
        for leave_out in std::iter::once(None).chain(fit.leave_out.iter().map(Some)) {
            if let Some(&column) = leave_out {
                shown[column] = false;
            }
            widths = natural;
            if shrink(&mut widths, &shown, fit) {
                break;
            }
        }
    }
    let keep_end = |i: usize| fit.and_then(|f| f.cut[i]).is_some_and(|c| c.keep_end);
    let line = |cells: [&str; N]| {
        let mut out = String::new();
        for (n, (i, cell)) in cells
            .iter()
            .enumerate()
            .filter(|(i, _)| shown[*i])
            .enumerate()
        {
            if n > 0 {
                out.push_str("  ");
            }
            let cell = cut_to(cell, widths[i], keep_end(i));
            let pad = widths[i].saturating_sub(cell.chars().count());
            out.push_str(&cell);
            out.extend(std::iter::repeat_n(' ', pad));
        }
        out.trim_end().to_string() + "\n"
    };
    let mut text = line(header);
    for row in &rows {
        text.push_str(&line(row.each_ref().map(String::as_str)));
    }
    text
}

/// Cuts the cuttable columns of `widths` until the shown ones fit; `false` when they cannot.
fn shrink<const N: usize>(widths: &mut [usize; N], shown: &[bool; N], fit: &Fit<'_, N>) -> bool {
    loop {
        let columns = shown.iter().filter(|s| **s).count();
        let total: usize = (0..N)
            .filter(|i| shown[*i])
            .map(|i| widths[i])
            .sum::<usize>()
            + 2 * columns.saturating_sub(1);
        if total <= fit.width {
            return true;
        }
        let next = (0..N)
            .filter_map(|i| Some((i, fit.cut[i]?)))
            .filter(|(i, cut)| shown[*i] && widths[*i] > cut.min)
            .min_by_key(|(i, cut)| (cut.rank, std::cmp::Reverse((widths[*i], *i))));
        match next {
            Some((i, _)) => widths[i] -= 1,
            None => return false,
        }
    }
}

/// `cell` cut to `width` characters with `…`, keeping its start (or its end).
fn cut_to(cell: &str, width: usize, keep_end: bool) -> String {
    let count = cell.chars().count();
    if count <= width {
        return cell.to_string();
    }
    let keep = width.saturating_sub(1);
    if keep_end {
        let tail: String = cell.chars().skip(count - keep).collect();
        format!("…{tail}")
    } else {
        let head: String = cell.chars().take(keep).collect();
        format!("{head}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_follows_no_color_then_clicolor_force_then_the_terminal() {
        let none = ColorVars::default();
        assert_eq!(colors(none, Some(true)), Some(true));
        assert_eq!(colors(none, Some(false)), Some(false));
        assert_eq!(colors(none, None), None);
        let no_color = ColorVars {
            no_color: true,
            force: true,
            ..none
        };
        assert_eq!(colors(no_color, Some(true)), Some(false), "NO_COLOR wins");
        let force = ColorVars {
            force: true,
            ..none
        };
        assert_eq!(
            colors(force, Some(false)),
            Some(true),
            "even off a terminal"
        );
        let off = ColorVars { off: true, ..none };
        assert_eq!(colors(off, Some(true)), Some(false));
        let dumb = ColorVars {
            dumb_terminal: true,
            ..none
        };
        assert_eq!(colors(dumb, Some(true)), Some(false));
    }

    #[test]
    fn cells_are_cut_to_fit_keeping_their_start_or_end() {
        assert_eq!(cut_to("abcdef", 6, false), "abcdef");
        assert_eq!(cut_to("abcdef", 4, false), "abc…");
        assert_eq!(
            cut_to("arn:aws:iam::1:role/breakglass", 12, true),
            "…/breakglass"
        );
    }
}
