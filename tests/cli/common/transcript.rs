//! Transcripts of broker commands for snapshots, and the one normaliser that makes them the same
//! in every run: what varies (the temporary directory, ports, key ids moto made, times, time
//! left, process ids, values a test names) becomes a placeholder, and nothing else changes.
//!
//! A transcript is the command as a user would type it (with the variables set for it alone),
//! its exit status, its stderr and its stdout:
//!
//! ```text
//! $ AWS_PROFILE=r1 broker export --format env
//! [exit 0]
//! broker: notice: …
//! [stdout]
//! AWS_ACCESS_KEY_ID=[ASIA-KEY-ID]
//! ```

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::process::Output;

use assert_cmd::Command;

use super::{broker_bin, stderr_of, stdout_of, TestEnv};

/// A transcript of `broker ARGS` in `env`.
pub fn transcript(env: &TestEnv, args: &[&str]) -> String {
    transcribe(env, env.broker().args(args)).1
}

/// The transcripts of several `broker` commands in `env`, run one after the other, with a blank
/// line between them.
pub fn transcripts(env: &TestEnv, commands: &[&[&str]]) -> String {
    commands
        .iter()
        .map(|args| transcript(env, args))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs `cmd`, made by `env.broker()` or `env.command()` and given its arguments and any
/// variables of its own; returns its output, for the assertions a snapshot cannot make, and
/// its transcript.
pub fn transcribe(env: &TestEnv, cmd: &mut Command) -> (Output, String) {
    let line = command_line(env, cmd);
    let out = cmd.output().unwrap();
    let text = transcript_of(env, &line, &out);
    (out, text)
}

/// The transcript of a command that already ran (a spawned child), `line` standing for the
/// command as typed.
pub fn transcript_of(env: &TestEnv, line: &str, out: &Output) -> String {
    let mut text = format!(
        "$ {line}\n[exit {}]\n",
        out.status
            .code()
            .map_or_else(|| "killed by a signal".to_string(), |c| c.to_string())
    );
    text.push_str(&stderr_of(out));
    if !out.stdout.is_empty() {
        text.push_str("[stdout]\n");
        text.push_str(&stdout_of(out));
    }
    normalize(env, &text)
}

/// `cmd` as typed in a shell: the variables it sets beyond `env`'s own, the program (`broker`
/// for the binary under test) and its arguments, quoted where a shell would need it.
fn command_line(env: &TestEnv, cmd: &Command) -> String {
    let sealed: BTreeMap<_, _> = env
        .std_command("sealed")
        .get_envs()
        .map(|(k, v)| (k.to_owned(), v.map(OsStr::to_owned)))
        .collect();
    let mut own: Vec<String> = cmd
        .get_envs()
        .filter(|(k, v)| sealed.get(*k).map(|s| s.as_deref()) != Some(*v))
        .map(|(k, v)| match v {
            Some(v) => format!("{}={}", k.to_string_lossy(), quoted(v)),
            None => format!("-u {}", k.to_string_lossy()),
        })
        .collect();
    own.sort();
    let program = if cmd.get_program() == broker_bin().as_os_str() {
        "broker".to_string()
    } else {
        quoted(cmd.get_program())
    };
    let mut words = own;
    words.push(program);
    words.extend(cmd.get_args().map(quoted));
    words.join(" ")
}

/// A word as a shell reads it: bare when it holds nothing special, else single-quoted, or
/// `$'…'` with escapes when it holds control characters (which a snapshot must not hold raw).
fn quoted(word: &OsStr) -> String {
    let word = word.to_string_lossy();
    // (On Windows `\` is a path's separator, not a shell's escape.)
    let plain = |c: char| {
        c.is_ascii_alphanumeric() || "-_./:=,@%+[]".contains(c) || (cfg!(windows) && c == '\\')
    };
    if !word.is_empty() && word.chars().all(plain) {
        word.into_owned()
    } else if word.chars().any(char::is_control) {
        let escaped: String = word
            .chars()
            .map(|c| match c {
                '\\' | '\'' => format!("\\{c}"),
                c if c.is_control() => format!("\\x{:02x}", c as u32),
                c => c.to_string(),
            })
            .collect();
        format!("$'{escaped}'")
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// `text` with everything that varies between runs replaced by a placeholder:
///
/// | what | placeholder |
/// |---|---|
/// | a value the test named ([`TestEnv::name_as`]; no rule below changes it) | the name it gave, such as `[alice's key id]` |
/// | the path of the binary under test | `broker` |
/// | the test's temporary directory | `[TMP]` |
/// | a loopback port (`127.0.0.1:N`, `localhost:N`) | `127.0.0.1:[PORT]` |
/// | an access key id moto made (the tests' own say `EXAMPLE`) | `[AKIA-KEY-ID]`, `[ASIA-KEY-ID]` |
/// | a time (RFC 3339, as in `Expiration`), as wide, so that tables stay aligned | `YYYY-MM-DDThh:mm:ssZ` |
/// | time left (`role 59m`, `(signed in, 7h59m)`, `expire(s) in 1h`, `59m left`) | `role [LEFT]`, … |
/// | a process id (`pid 1234`, `[1234]` after a program name) | `pid [PID]` |
/// | the random parameters of an SSO authorize URL (`client_id=…&redirect_uri=…&state=…`, `code_challenge=…`) | `client_id=[…]`, … |
/// | the kernel keyring's cache key in `doctor` (whether it is there yet depends on the tests that ran before) | `✓ cache key: [in the kernel keyring, or none yet]` |
pub fn normalize(env: &TestEnv, text: &str) -> String {
    // A named value is held as a private-use mark until the end, so that no rule changes what
    // the test named (a fixed time, say).
    let names = env.names.lock().unwrap().clone();
    let mark = |i: usize| format!("\u{E000}{i}\u{E001}");
    let mut text = text.to_owned();
    for (i, (value, _)) in names.iter().enumerate() {
        text = text.replace(value, &mark(i));
    }
    let text = text
        .replace(&broker_bin().display().to_string(), "broker")
        .replace(&env.dir.path().display().to_string(), "[TMP]");
    // On Windows std says "exit code" where Unix's says "exit status", and the system's words
    // for a refused connection are its own.
    let text = if cfg!(windows) {
        slashed(&text)
            .replace("exited with exit code: ", "exited with exit status: ")
            .replace(
                "Connection refused. (os error 10061)",
                "Connection refused (os error 111)",
            )
    } else {
        text
    };
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    let mut previous: Option<char> = None;
    'scan: while let Some(c) = rest.chars().next() {
        let at_word_start = !previous.is_some_and(|p| p.is_ascii_alphanumeric());
        for rule in RULES {
            if let Some((len, replacement)) = rule(rest, at_word_start) {
                out.push_str(&replacement);
                previous = rest[..len].chars().last();
                rest = &rest[len..];
                continue 'scan;
            }
        }
        out.push(c);
        previous = Some(c);
        rest = &rest[c.len_utf8()..];
    }
    for (i, (_, name)) in names.iter().enumerate() {
        out = out.replace(&mark(i), name);
    }
    out.lines()
        .map(|line| match line.strip_prefix("✓ cache key: ") {
            Some(_) => "✓ cache key: [in the kernel keyring, or none yet]",
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
        + if out.ends_with('\n') { "\n" } else { "" }
}

/// On Windows, the paths under `[TMP]` written with `/`, as on Unix, so that one snapshot serves
/// both; a path that mixes `\` and `/` fails the test (broker's messages use one separator).
fn slashed(text: &str) -> String {
    let mut parts = text.split("[TMP]");
    let mut out = parts.next().unwrap_or_default().to_string();
    for part in parts {
        let end = part
            .find(|c: char| c.is_whitespace() || matches!(c, '`' | '\'' | '"' | ')' | ','))
            .unwrap_or(part.len());
        let (path, rest) = part.split_at(end);
        assert!(
            !path.contains('/'),
            "a path that mixes separators: [TMP]{path} in {text}"
        );
        out.push_str("[TMP]");
        out.push_str(&path.replace('\\', "/"));
        out.push_str(rest);
    }
    out
}

/// A rule of [`normalize`]: at the start of `rest` (`at_word_start` when the character before
/// is no letter or digit), the length of what it replaces and the replacement, or `None`.
type Rule = fn(rest: &str, at_word_start: bool) -> Option<(usize, String)>;

const RULES: &[Rule] = &[port, key_id, time, time_left, pid, sign_in_parameter];

/// A random parameter of an SSO authorize URL, up to the next `&` or blank.
fn sign_in_parameter(rest: &str, _: bool) -> Option<(usize, String)> {
    let name = ["client_id=", "redirect_uri=", "state=", "code_challenge="]
        .into_iter()
        .find(|p| rest.starts_with(p))?;
    let value = rest[name.len()..]
        .find(|c: char| c == '&' || c.is_whitespace())
        .unwrap_or(rest.len() - name.len());
    Some((
        name.len() + value,
        format!("{name}[{}]", name.trim_end_matches('=')),
    ))
}

fn digits(text: &str) -> usize {
    text.bytes().take_while(u8::is_ascii_digit).count()
}

fn port(rest: &str, _: bool) -> Option<(usize, String)> {
    let host = ["127.0.0.1:", "localhost:"]
        .into_iter()
        .find(|h| rest.starts_with(h))?;
    let n = digits(&rest[host.len()..]);
    (n > 0).then(|| (host.len() + n, format!("{host}[PORT]")))
}

fn key_id(rest: &str, at_word_start: bool) -> Option<(usize, String)> {
    let id = rest.get(..20)?;
    let after = rest[20..].chars().next();
    let random = at_word_start
        && (id.starts_with("AKIA") || id.starts_with("ASIA"))
        && id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        && !after.is_some_and(|c| c.is_ascii_alphanumeric())
        && !id.contains("EXAMPLE");
    random.then(|| (20, format!("[{}-KEY-ID]", &id[..4])))
}

/// `YYYY-MM-DDThh:mm:ss`, then fractions of a second and a zone if there are: written as its
/// shape, each digit the letter of its field (`f` for fractions, `z` for the zone's).
fn time(rest: &str, at_word_start: bool) -> Option<(usize, String)> {
    const SHAPE: &str = "YYYY-MM-DDThh:mm:ss";
    let bytes = rest.as_bytes();
    let matches = at_word_start
        && bytes.len() >= SHAPE.len()
        && SHAPE.bytes().zip(bytes).all(|(s, b)| match s {
            b'-' | b'T' | b':' => s == *b,
            _ => b.is_ascii_digit(),
        });
    if !matches {
        return None;
    }
    let mut shape = SHAPE.to_string();
    let mut len = SHAPE.len();
    if bytes.get(len) == Some(&b'.') {
        let n = digits(&rest[len + 1..]);
        shape.push('.');
        shape.push_str(&"f".repeat(n));
        len += 1 + n;
    }
    let zone = &rest[len..];
    if zone.starts_with('Z') {
        shape.push('Z');
        len += 1;
    } else if zone.len() >= 6
        && zone.starts_with(['+', '-'])
        && digits(&zone[1..]) == 2
        && zone[3..].starts_with(':')
        && digits(&zone[4..]) == 2
    {
        shape.push_str(&format!("{}zz:zz", &zone[..1]));
        len += 6;
    }
    Some((len, shape))
}

/// A duration such as `1h2m3s` or `59m` (broker's way of writing one), its length.
fn duration(text: &str) -> Option<usize> {
    let mut len = 0;
    loop {
        let n = digits(&text[len..]);
        let unit = text[len + n..].chars().next();
        if n == 0 || !matches!(unit, Some('d' | 'h' | 'm' | 's')) {
            break;
        }
        len += n + 1;
    }
    (len > 0).then_some(len)
}

/// Time left: a duration after `expire(s) in `, `(signed in, ` or the kind of a cached session
/// (`role 59m` in `broker list`), or before ` left`.
fn time_left(rest: &str, at_word_start: bool) -> Option<(usize, String)> {
    const BEFORE: [&str; 7] = [
        "expires in ",
        "expire in ",
        "(signed in, ",
        "role ",
        "session ",
        "sso ",
        "web ",
    ];
    let ends = |len: usize| !rest[len..].starts_with(|c: char| c.is_ascii_alphanumeric());
    if let Some(before) = BEFORE
        .iter()
        .find(|b| at_word_start && rest.starts_with(**b))
    {
        let len = before.len() + duration(&rest[before.len()..])?;
        return ends(len).then(|| (len, format!("{before}[LEFT]")));
    }
    let len = duration(rest).filter(|_| at_word_start)?;
    rest[len..]
        .starts_with(" left")
        .then(|| (len, "[LEFT]".to_string()))
}

/// A process id: `pid N`.
fn pid(rest: &str, _: bool) -> Option<(usize, String)> {
    let after = rest.strip_prefix("pid ")?;
    let n = digits(after);
    (n > 0).then(|| ("pid ".len() + n, "pid [PID]".to_string()))
}
