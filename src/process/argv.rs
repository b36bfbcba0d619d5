//! Wiping an option's value (`-t CODE`) from broker's own command line, which every local user
//! can read (`/proc/PID/cmdline`, `ps`), where the system lets it: Linux only.

/// Overwrites `value` with `x`s where it stands as the value of an option (`-t VALUE`,
/// `-tVALUE`, `--mfa-token VALUE`, `--mfa-token=VALUE`) among broker's own arguments, in the
/// memory the kernel shows as this process's command line (`/proc/PID/cmdline`, `ps`), which
/// every local user can read. Linux only, where `/proc/self/stat` says where that memory is;
/// elsewhere the argument stays as it was given.
pub fn hide_argument(value: &str) {
    #[cfg(target_os = "linux")]
    block::hide(value);
    #[cfg(not(target_os = "linux"))]
    let _ = value;
}

#[cfg(target_os = "linux")]
mod block {
    /// The long and short option names whose value [`hide`] looks for.
    const LONG: &str = "--mfa-token";
    const SHORT: u8 = b't';

    pub fn hide(value: &str) {
        let Some((start, end)) = bounds() else {
            return;
        };
        // SAFETY: [start, end) is this process's argument block (arg_start and arg_end of
        // /proc/self/stat): memory the kernel set up on the stack for the process's lifetime,
        // which Rust code reaches only through the raw pointers std keeps of argv. It is read
        // and written here through raw pointers, one byte at a time, never borrowed.
        let base = start as *mut u8;
        let read = |i: usize| unsafe { base.add(i).read_volatile() };
        let bytes: Vec<u8> = (0..end - start).map(read).collect();
        if let Some(range) = find(&bytes, value.as_bytes()) {
            for i in range {
                unsafe { base.add(i).write_volatile(b'x') };
            }
        }
    }

    /// Where the value stands in `block` (NUL-separated arguments, the program first): the
    /// first option that carries it, before any `--`.
    pub(super) fn find(block: &[u8], value: &[u8]) -> Option<std::ops::Range<usize>> {
        if value.is_empty() {
            return None;
        }
        let mut args = Vec::new();
        let mut at = 0;
        for arg in block.split(|&b| b == 0) {
            args.push((at, arg));
            at += arg.len() + 1;
        }
        let mut takes_next = false;
        for &(offset, arg) in args.iter().skip(1) {
            if takes_next && arg == value {
                return Some(offset..offset + arg.len());
            }
            takes_next = false;
            if arg == b"--" {
                return None;
            }
            // The value after `--mfa-token=`, `-tVALUE`, `-nt=VALUE`; or next, after the name.
            let rest = if let Some(rest) = arg.strip_prefix(LONG.as_bytes()) {
                rest
            } else if arg.starts_with(b"-") && !arg.starts_with(b"--") {
                match arg.iter().position(|&b| b == SHORT) {
                    Some(t) => &arg[t + 1..],
                    None => continue,
                }
            } else {
                continue;
            };
            if rest.is_empty() {
                takes_next = true;
                continue;
            }
            let rest_at = offset + arg.len() - rest.len();
            let (skip, candidate) = match rest.strip_prefix(b"=") {
                Some(after) => (1, after),
                None => (0, rest),
            };
            if candidate == value {
                return Some(rest_at + skip..rest_at + skip + value.len());
            }
        }
        None
    }

    /// `arg_start` and `arg_end` of `/proc/self/stat` (fields 48 and 49).
    fn bounds() -> Option<(usize, usize)> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        // After the command name, which may hold spaces and parentheses: field 3 on.
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        let start: usize = fields.get(45)?.parse().ok()?;
        let end: usize = fields.get(46)?.parse().ok()?;
        (start > 0 && end > start).then_some((start, end))
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_os = "linux")]
    #[test]
    fn an_option_value_is_found_in_the_argument_block() {
        let at = |args: &[&str]| {
            let block = args.join("\0");
            super::block::find(block.as_bytes(), b"123456").map(|r| {
                assert_eq!(&block[r.clone()], "123456");
                r.start
            })
        };
        assert_eq!(at(&["b", "-t", "123456"]), Some(5));
        assert_eq!(at(&["b", "--mfa-token=123456"]), Some(14));
        assert_eq!(at(&["b", "--mfa-token", "123456"]), Some(14));
        assert_eq!(at(&["b", "-t123456"]), Some(4));
        assert_eq!(at(&["b", "-nt=123456"]), Some(6));
        assert_eq!(at(&["b", "-nt", "123456"]), Some(6));
        assert_eq!(
            at(&["b", "exec", "-d", "1h", "-t", "123456", "p"]),
            Some(16)
        );
        // Not an option's value: a profile, or the command's own arguments after `--`.
        assert_eq!(at(&["b", "exec", "123456"]), None);
        assert_eq!(at(&["b", "exec", "p", "--", "cmd", "-t", "123456"]), None);
        assert_eq!(at(&["b", "-t", "654321"]), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_argument_block_is_found_and_left_alone_without_a_match() {
        let before = std::fs::read("/proc/self/cmdline").unwrap();
        super::hide_argument("not-an-argument-of-this-test-run");
        assert_eq!(std::fs::read("/proc/self/cmdline").unwrap(), before);
    }
}
