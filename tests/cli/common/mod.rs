//! The sealed test environment: every test runs the real `broker` binary with `env_clear()`, a
//! temporary HOME and XDG directories, and an AWS config file of its own.

pub mod moto;
#[cfg(target_os = "linux")]
pub mod net;
pub mod rig;
pub mod sso;
pub mod syslog;
#[cfg(unix)]
pub mod terminal;
mod transcript;

// Some are used by the Linux-only modules alone.
#[cfg_attr(not(target_os = "linux"), allow(unused_imports))]
pub use transcript::{normalize, transcribe, transcript, transcript_of, transcripts};

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use assert_cmd::Command;

/// A test that needs the test rig: moto and the SSO stand-in (scripts/test.sh sets it up on
/// Linux, scripts/wine-test.sh under Wine, the test venv elsewhere). With a reason first, it
/// needs what only Linux's rig has (the AWS CLI of the venv, the kernel keyring, the shells),
/// and elsewhere it is ignored, and `cargo test` prints why.
///
/// ```ignore
/// rig_test!(
///     /// What the test pins.
///     fn a_behaviour() { ... }
/// );
/// rig_test!("needs fish, which scripts/test.sh installs on Linux", fn … );
/// ```
macro_rules! rig_test {
    ($(#[$meta:meta])* fn $name:ident() $body:block) => {
        #[test]
        $(#[$meta])*
        fn $name() $body
    };
    ($reason:literal, $(#[$meta:meta])* fn $name:ident() $body:block) => {
        #[test]
        #[cfg_attr(not(target_os = "linux"), ignore = $reason)]
        $(#[$meta])*
        fn $name() $body
    };
}
pub(crate) use rig_test;

pub const TEST_PASSPHRASE: &str = "correct horse battery staple";

pub struct TestEnv {
    pub dir: tempfile::TempDir,
    pub extra_env: Vec<(String, String)>,
    /// The file vault writes with its real scrypt work factor (a second of work per item), not
    /// the test suite's quick one.
    real_work_factor: bool,
    /// Values of this test that vary between runs, each with the name transcripts show
    /// instead ([`TestEnv::name_as`]).
    names: Mutex<Vec<(String, String)>>,
}

/// The scrypt work factor of the file vault in the tests (`BROKER_TEST_SCRYPT_WORK_FACTOR`, a
/// `test-hooks` build's): a millisecond of work per item instead of a second.
const TEST_WORK_FACTOR: &str = "10";

impl TestEnv {
    pub fn new() -> TestEnv {
        let dir = tempfile::Builder::new()
            .prefix("broker-test-")
            .tempdir()
            .expect("temp dir");
        for sub in ["home/.aws", "config", "data", "state", "cache", "tmp"] {
            std::fs::create_dir_all(under(dir.path(), sub)).unwrap();
        }
        TestEnv {
            dir,
            extra_env: Vec::new(),
            real_work_factor: false,
            names: Mutex::new(Vec::new()),
        }
    }

    /// A sealed environment whose brokers use the file backend with the test passphrase.
    pub fn with_file_backend() -> TestEnv {
        TestEnv::new()
            .env("BROKER_BACKEND", "file")
            .env("BROKER_FILE_PASSPHRASE", TEST_PASSPHRASE)
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub fn aws_config(&self) -> PathBuf {
        under(&self.home(), ".aws/config")
    }

    pub fn broker_config(&self) -> PathBuf {
        under(self.dir.path(), "config/broker/config.toml")
    }

    pub fn file_vault_dir(&self) -> PathBuf {
        under(self.dir.path(), "data/broker/vault")
    }

    /// The file by which the test moves broker's clock (`BROKER_TEST_CLOCK`, a `test-hooks`
    /// build's; see src/clock.rs). The SSO stand-in can share it.
    pub fn clock_file(&self) -> PathBuf {
        self.dir.path().join("clock")
    }

    /// Moves the clock of every broker of this environment forward by `by`, instead of
    /// sleeping: cached credentials and tokens get older, waits end sooner.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))] // its users need the Linux rig
    pub fn advance_clock(&self, by: std::time::Duration) {
        require_test_hooks();
        let file = self.clock_file();
        let now: i64 = std::fs::read_to_string(&file)
            .map(|t| t.trim().parse().expect("the clock file holds milliseconds"))
            .unwrap_or(0);
        let moving = file.with_extension("moving");
        std::fs::write(&moving, (now + by.as_millis() as i64).to_string()).unwrap();
        std::fs::rename(&moving, &file).unwrap();
    }

    pub fn write_aws_config(&self, text: &str) {
        std::fs::write(self.aws_config(), text).unwrap();
    }

    /// The system policy file of this environment (`BROKER_TEST_SYSTEM_POLICY`, a `test-hooks`
    /// build's, set for every broker run here): missing unless a test writes it, so that the
    /// machine's own /etc/broker/policy.toml never reaches a test.
    pub fn system_policy(&self) -> PathBuf {
        self.dir.path().join("system").join("policy.toml")
    }

    /// Writes the system policy file as an administrator would: owned by root, mode 644, in a
    /// directory only root can write. The tests run as root (scripts/test.sh in CI); anyone
    /// else cannot make a file broker trusts, and the test fails saying so.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))] // its users need the Linux rig
    pub fn write_system_policy(&self, text: &str) {
        require_test_hooks();
        #[cfg(unix)]
        {
            // SAFETY: geteuid cannot fail.
            let root = unsafe { libc::geteuid() } == 0;
            assert!(
                root,
                "this test writes a system policy file owned by root: run it as root (as CI \
                 does)"
            );
        }
        let path = self.system_policy();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |m| std::fs::Permissions::from_mode(m);
            std::fs::set_permissions(path.parent().unwrap(), mode(0o755)).unwrap();
            std::fs::set_permissions(&path, mode(0o644)).unwrap();
        }
    }

    pub fn write_broker_config(&self, text: &str) {
        let path = self.broker_config();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// Sends broker's syslog copies of the audit trail to `socket` instead of the system's
    /// (`BROKER_TEST_SYSLOG_SOCKET`, a `test-hooks` build's).
    #[cfg_attr(not(unix), allow(dead_code))] // no syslog on Windows
    pub fn send_syslog_to(&mut self, socket: &Path) {
        require_test_hooks();
        self.extra_env.push((
            "BROKER_TEST_SYSLOG_SOCKET".into(),
            socket.display().to_string(),
        ));
    }

    /// The file vault writes with its real scrypt work factor: for the tests of the vault
    /// itself, and of what takes as long as its work.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))] // its tests are Linux-only
    pub fn real_work_factor(mut self) -> Self {
        self.real_work_factor = true;
        self
    }

    /// Writes `value` (a key moto made, a name made unique) as `name` in this environment's
    /// transcripts ([`normalize`]), such as `[alice's key id]`.
    pub fn name_as(&self, value: &str, name: &str) {
        self.names
            .lock()
            .unwrap()
            .push((value.to_owned(), name.to_owned()));
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.extra_env.push((key.into(), value.into()));
        self
    }

    /// `broker` in the sealed environment, in a new session without a controlling terminal,
    /// so nothing can prompt on the developer's terminal.
    pub fn broker(&self) -> Command {
        Command::from_std(self.std_command(broker_bin()))
    }

    /// Any program in the sealed environment, without a controlling terminal.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        Command::from_std(self.std_command(program))
    }

    /// The sealed environment on a plain `std::process::Command`, for spawning.
    pub fn std_command(&self, program: impl AsRef<std::ffi::OsStr>) -> std::process::Command {
        let mut cmd = std::process::Command::new(program);
        detach_from_terminal(&mut cmd);
        let root = self.dir.path();
        cmd.env_clear()
            .env("HOME", self.home())
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("XDG_CONFIG_HOME", root.join("config"))
            .env("XDG_DATA_HOME", root.join("data"))
            .env("XDG_STATE_HOME", root.join("state"))
            .env("XDG_CACHE_HOME", root.join("cache"))
            .env("TMPDIR", root.join("tmp"))
            .env("BROKER_TEST_CLOCK", self.clock_file())
            .env("BROKER_TEST_SYSTEM_POLICY", self.system_policy())
            .env("AWS_CONFIG_FILE", self.aws_config())
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                under(&self.home(), ".aws/credentials"),
            );
        if cfg!(windows) {
            // Where Windows looks for temporary files, instead of TMPDIR.
            cmd.env("TMP", root.join("tmp"))
                .env("TEMP", root.join("tmp"));
        }
        if !self.real_work_factor {
            cmd.env("BROKER_TEST_SCRYPT_WORK_FACTOR", TEST_WORK_FACTOR);
        }
        for name in SYSTEM_VARIABLES {
            if let Some(value) = std::env::var_os(name) {
                cmd.env(name, value);
            }
        }
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
        cmd
    }

    /// `broker` with the file backend and the test passphrase.
    pub fn broker_file(&self) -> Command {
        let mut cmd = self.broker();
        cmd.env("BROKER_BACKEND", "file")
            .env("BROKER_FILE_PASSPHRASE", TEST_PASSPHRASE);
        cmd
    }

    /// Every file under the test's root whose bytes contain `needle`.
    pub fn files_containing(&self, needle: &str) -> Vec<PathBuf> {
        let mut hits = Vec::new();
        walk(self.dir.path(), needle.as_bytes(), &mut hits);
        hits
    }
}

/// `base` joined with the `/`-separated `relative`, with the platform's separator throughout
/// (on Windows, `base.join("a/b")` would be `base\a/b`, and broker's messages would show it).
pub fn under(base: &Path, relative: &str) -> PathBuf {
    relative
        .split('/')
        .fold(base.to_path_buf(), |p, c| p.join(c))
}

/// The broker binary under test: `$BROKER_TEST_BIN` when set (an absolute path, such as the
/// release build of scripts/build-release.sh), else the one cargo built with these tests.
pub fn broker_bin() -> PathBuf {
    std::env::var_os("BROKER_TEST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_broker")))
}

/// Fails the test, saying why, unless the broker under test has the test suite's hooks: the
/// tests are built with `--features test-hooks` (scripts/test.sh builds them so), and a binary
/// of `BROKER_TEST_BIN` was built with that feature too.
#[cfg_attr(not(unix), allow(dead_code))]
pub fn require_test_hooks() {
    if !cfg!(feature = "test-hooks") {
        panic!(
            "this test needs the test suite's hooks: run it as scripts/test.sh does, with \
             `cargo test --features test-hooks`"
        );
    }
    if let Some(bin) = std::env::var_os("BROKER_TEST_BIN") {
        let bytes = std::fs::read(&bin).expect("read BROKER_TEST_BIN");
        assert!(
            bytes.windows(17).any(|w| w == b"BROKER_TEST_CLOCK"),
            "this test needs the test suite's hooks, which {} lacks: build it with \
             `--features test-hooks`",
            std::path::Path::new(&bin).display()
        );
    }
}

/// Unix: a new session, so the child has no controlling terminal and `/dev/tty` fails.
#[cfg(unix)]
fn detach_from_terminal(cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: setsid is async-signal-safe and touches only the child.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
}

/// Windows: no console (DETACHED_PROCESS), so `CONIN$` fails to open. (CREATE_NO_WINDOW
/// would give it a hidden console, on which a prompt would wait for ever.)
#[cfg(windows)]
fn detach_from_terminal(cmd: &mut std::process::Command) {
    use std::os::windows::process::CommandExt;
    const DETACHED_PROCESS: u32 = 0x0000_0008;
    cmd.creation_flags(DETACHED_PROCESS);
}

/// What a Windows process needs from the environment to work at all (Winsock and the system
/// libraries find themselves through `SystemRoot`), kept when the environment is cleared.
#[cfg(windows)]
const SYSTEM_VARIABLES: &[&str] = &["SystemRoot", "SystemDrive", "windir", "PATHEXT"];
#[cfg(not(windows))]
const SYSTEM_VARIABLES: &[&str] = &[];

fn walk(dir: &Path, needle: &[u8], hits: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            walk(&path, needle, hits);
        } else if meta.is_file() {
            if let Ok(bytes) = std::fs::read(&path) {
                if bytes.windows(needle.len()).any(|w| w == needle) {
                    hits.push(path);
                }
            }
        }
    }
}

/// A loopback port on which every connection is refused, for as long as this lives: bound, so
/// that no other socket can take the port, and never listening. (A listener dropped after use
/// is not as sure: another test may be given the port, and a sibling test's child may still
/// hold the listener between its fork and its exec.)
pub struct RefusedPort {
    _socket: tokio::net::TcpSocket,
    pub port: u16,
}

impl RefusedPort {
    pub fn new() -> RefusedPort {
        let socket = tokio::net::TcpSocket::new_v4().expect("a TCP socket");
        socket
            .bind("127.0.0.1:0".parse().unwrap())
            .expect("bind a loopback port");
        let port = socket.local_addr().unwrap().port();
        RefusedPort {
            _socket: socket,
            port,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// The D-Bus session address of the private Secret Service that scripts/test.sh starts.
pub fn secret_service_bus() -> String {
    std::env::var("DBUS_SESSION_BUS_ADDRESS").unwrap_or_else(|_| {
        panic!(
            "no D-Bus session with a Secret Service: run the tests through scripts/test.sh, \
             which needs `apt-get install dbus gnome-keyring`"
        )
    })
}

/// A name no other test (or earlier run) uses, for stores shared across tests.
pub fn unique(prefix: &str) -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{prefix}-{}-{nanos}", std::process::id())
}

/// Asserts that only the user can reach `path`. Unix: mode `0700` for a directory, `0600` for a
/// file. Windows: a DACL that grants access to the user and SYSTEM only, protected from
/// inheritance on a directory broker made; read with `icacls /save`, which writes SDDL (SIDs,
/// not account names, so the check does not depend on the system's language).
pub fn assert_private(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path).unwrap();
        let expected = if meta.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(
            meta.permissions().mode() & 0o777,
            expected,
            "mode of {}",
            path.display()
        );
    }
    #[cfg(windows)]
    {
        let saved = tempfile::NamedTempFile::new().unwrap();
        let status = std::process::Command::new("icacls")
            .arg(path)
            .arg("/save")
            .arg(saved.path())
            .status()
            .expect("icacls");
        assert!(status.success(), "icacls {}", path.display());
        // UTF-16: the file name on one line, its SDDL on the next.
        let bytes = std::fs::read(saved.path()).unwrap();
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        let text = String::from_utf16_lossy(&units);
        let dacl = &text[text.find("D:").expect("a DACL")..];
        let whoami = std::process::Command::new("whoami")
            .arg("/user")
            .output()
            .unwrap();
        let whoami = String::from_utf8_lossy(&whoami.stdout);
        let me = whoami
            .split_whitespace()
            .find(|w| w.starts_with("S-1-"))
            .expect("whoami /user prints the user's SID");
        let aces: Vec<&str> = dacl
            .split('(')
            .skip(1)
            .map(|ace| ace.split(')').next().unwrap())
            .collect();
        assert!(!aces.is_empty(), "{}: {dacl}", path.display());
        for ace in aces {
            let trustee = ace.rsplit(';').next().unwrap();
            assert!(
                ace.starts_with("A;") && (trustee == me || trustee == "SY"),
                "{} grants {ace} to someone else: {dacl}",
                path.display()
            );
        }
        if path.is_dir() {
            assert!(
                dacl.starts_with("D:P"),
                "{} inherits: {dacl}",
                path.display()
            );
        }
    }
}

/// The command line that runs a script in the platform's shell: `sh -c UNIX` on Unix,
/// `cmd /C WINDOWS` on Windows, each script in its shell's syntax.
pub fn shell(unix: &str, windows: &str) -> [String; 3] {
    if cfg!(windows) {
        ["cmd".into(), "/C".into(), windows.into()]
    } else {
        ["sh".into(), "-c".into(), unix.into()]
    }
}

/// The shell's command that prints a file: `cat`, or cmd's `type` (a `credential_process`
/// reading a fixed answer).
pub const CAT: &str = if cfg!(windows) { "type" } else { "cat" };

/// A command that prints its environment, one `NAME=VALUE` a line: `env`, or cmd's `set`.
pub fn print_env() -> &'static [&'static str] {
    if cfg!(windows) {
        &["cmd", "/C", "set"]
    } else {
        &["env"]
    }
}

/// A line of a shell's output without the prompt (`C:\dir>`) that cmd may print before it:
/// Wine's cmd does, on the same line; Windows' prints the typed command after its prompt and
/// the output on a line of its own.
pub fn after_prompt(line: &str) -> &str {
    let line = line.trim();
    match line.split_once('>') {
        Some((prompt, rest)) if cfg!(windows) && prompt.get(1..3) == Some(":\\") => rest,
        _ => line,
    }
}

/// A script broker can run: `NAME`, a sh script of `unix`, or `NAME.cmd`, a batch file of
/// `windows`.
pub fn script(env: &TestEnv, name: &str, unix: &str, windows: &str) -> PathBuf {
    #[cfg(unix)]
    {
        let _ = windows;
        let path = env.dir.path().join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{unix}\n")).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        path
    }
    #[cfg(windows)]
    {
        let _ = unix;
        let path = env.dir.path().join(format!("{name}.cmd"));
        std::fs::write(
            &path,
            format!("@echo off\r\n{}\r\n", windows.replace('\n', "\r\n")),
        )
        .unwrap();
        path
    }
}

/// `text` with Windows' line ends as Unix's.
pub fn unix_lines(text: &str) -> String {
    text.replace("\r\n", "\n")
}

/// The combined stderr of a finished command, as text.
pub fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn stdout_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Asserts the error contract: exit status `code`, `broker: error:` on the first stderr line,
/// containing `needle`, no panic.
pub fn assert_error(output: &std::process::Output, code: i32, needle: &str) {
    let err = stderr_of(output);
    assert_eq!(output.status.code(), Some(code), "stderr: {err}");
    let first = err.lines().next().unwrap_or_default();
    assert!(first.starts_with("broker: error: "), "stderr: {err}");
    assert!(first.contains(needle), "expected {needle:?} in {first:?}");
    assert!(!err.contains("panicked"), "panic: {err}");
}

/// As [`assert_error`], for commands that may print notices (`broker: …` lines on stderr)
/// before failing, such as a warning that there is no AWS config.
pub fn assert_error_after_notices(output: &std::process::Output, code: i32, needle: &str) {
    let err = stderr_of(output);
    assert_eq!(output.status.code(), Some(code), "stderr: {err}");
    let mut lines = err.lines();
    let error = lines
        .by_ref()
        .find(|l| !l.starts_with("broker: ") || l.starts_with("broker: error: "))
        .unwrap_or_default();
    assert!(error.starts_with("broker: error: "), "stderr: {err}");
    assert!(error.contains(needle), "expected {needle:?} in {error:?}");
    assert!(
        lines.all(|l| l.starts_with("hint: ") || l.starts_with("caused by: ")),
        "more than one line of error: {err}"
    );
    assert!(!err.contains("panicked"), "panic: {err}");
}
