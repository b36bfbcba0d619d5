//! Writing to stdout: the only channel for program-readable output. A closed pipe ends the
//! command quietly instead of panicking.

use std::io::Write;

use crate::error::{Error, Result};

/// Writes all of `bytes` to stdout and flushes.
pub fn stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::new(format!("cannot write to stdout: {e}"))),
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
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                out.push_str("  ");
            }
            out.push_str(cell);
            let pad = widths[i].saturating_sub(cell.chars().count());
            out.extend(std::iter::repeat_n(' ', pad));
        }
        out.trim_end().to_string() + "\n"
    };
    let mut text = line(header.to_vec());
    for row in &rows {
        text.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    text
}
