#![allow(dead_code)] // shared helpers; macOS runs only the Ctrl-C test, which types no answer
//! A real pseudo-terminal for the tests that type at broker: broker runs as the session leader
//! with the terminal as its controlling terminal (so `/dev/tty` is it, and Ctrl-C typed on it
//! signals the foreground process group), and the test reads the screen and types keys.
//!
//! Keys are typed only once the program is ready for them: the screen shows the text a step
//! waits for, and the terminal is in the mode the program reads in (echo off for a hidden
//! prompt or a picker). Typing earlier would race the program switching modes: a secret would
//! be echoed, a key read as part of a line.

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a step may wait for the screen or the terminal's mode.
const STEP_DEADLINE: Duration = Duration::from_secs(30);

/// How the program reads the terminal when a step types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Echoing what is typed: a plain prompt (typing ahead is safe).
    Line,
    /// Not echoing: a hidden prompt (a secret) or a picker reading keys one by one.
    Silent,
}

pub struct Terminal {
    child: Child,
    master: std::fs::File,
    screen: Arc<Mutex<Vec<u8>>>,
    reader: Option<std::thread::JoinHandle<()>>,
    seen: usize,
}

impl Terminal {
    /// Starts `cmd` with a new 80×24 pseudo-terminal as its stdin, stderr and controlling
    /// terminal, and as its stdout unless the command already has one.
    pub fn spawn(mut cmd: Command, stdout: Option<Stdio>) -> Terminal {
        let (master, slave) = open_pty();
        let slave_file = std::fs::File::from(slave);
        cmd.stdin(slave_file.try_clone().unwrap())
            .stderr(slave_file.try_clone().unwrap())
            .stdout(stdout.unwrap_or_else(|| slave_file.try_clone().unwrap().into()));
        use std::os::unix::process::CommandExt;
        // SAFETY: setsid and ioctl are async-signal-safe and touch only the child.
        unsafe {
            cmd.pre_exec(|| {
                // A new session, unless the sealed environment's command made one already.
                if libc::getsid(0) != libc::getpid() {
                    libc::setsid();
                }
                if libc::ioctl(0, libc::TIOCSCTTY as _, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("start the program on a pseudo-terminal");
        // Only the child holds the terminal now, so the screen ends when it (and whatever it
        // started) is done with it.
        drop(slave_file);
        drop(cmd);
        let screen = Arc::new(Mutex::new(Vec::new()));
        let reader = {
            let screen = screen.clone();
            let mut master = master.try_clone().unwrap();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                // Linux answers EIO once no one holds the terminal; macOS, end of file.
                while let Ok(n) = master.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    screen.lock().unwrap().extend_from_slice(&buf[..n]);
                }
            })
        };
        Terminal {
            child,
            master,
            screen,
            reader: Some(reader),
            seen: 0,
        }
    }

    /// Everything the terminal has shown so far.
    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.screen.lock().unwrap()).into_owned()
    }

    /// Waits until the screen shows `text` after what earlier waits have seen.
    pub fn expect(&mut self, text: &str) {
        let deadline = Instant::now() + STEP_DEADLINE;
        loop {
            let screen = self.screen();
            if let Some(at) = screen[self.seen.min(screen.len())..].find(text) {
                self.seen += at + text.len();
                return;
            }
            assert!(Instant::now() < deadline, "never saw {text:?}: {screen}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Which of `texts` the screen shows first after what earlier waits have seen, if any; what
    /// it shows up to the end of that text counts as seen.
    pub fn shown(&mut self, texts: &[&str]) -> Option<usize> {
        let screen = self.screen();
        let unseen = &screen[self.seen.min(screen.len())..];
        let (at, which) = texts
            .iter()
            .enumerate()
            .filter_map(|(i, text)| unseen.find(text).map(|at| (at, i)))
            .min()?;
        self.seen += at + texts[which].len();
        Some(which)
    }

    /// Whether the program has ended.
    pub fn ended(&mut self) -> bool {
        self.child.try_wait().unwrap().is_some()
    }

    /// Waits until the program reads the terminal in `mode`.
    pub fn wait_for_mode(&self, mode: Mode) {
        let deadline = Instant::now() + STEP_DEADLINE;
        loop {
            let now = self.mode();
            if now == mode {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the terminal stayed {now:?}, not {mode:?}: {}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn mode(&self) -> Mode {
        // SAFETY: tcgetattr fills the struct; a pseudo-terminal's master answers with the
        // terminal's own settings.
        let termios = unsafe {
            let mut termios = std::mem::zeroed::<libc::termios>();
            assert_eq!(libc::tcgetattr(self.master.as_raw_fd(), &mut termios), 0);
            termios
        };
        if termios.c_lflag & libc::ECHO == 0 {
            Mode::Silent
        } else {
            Mode::Line
        }
    }

    /// Types `keys`.
    pub fn send(&mut self, keys: &str) {
        self.master.write_all(keys.as_bytes()).unwrap();
        self.master.flush().unwrap();
    }

    /// Once the screen shows `text` and the program reads in `mode`, types `keys`.
    pub fn answer(&mut self, text: &str, mode: Mode, keys: &str) {
        self.expect(text);
        self.wait_for_mode(mode);
        self.send(keys);
    }

    /// Waits for the program to end; its exit status and the whole screen.
    pub fn finish(mut self) -> (Option<i32>, String) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("still running after 60 s: {}", self.screen());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        self.reader.take().unwrap().join().unwrap();
        (status.code(), self.screen())
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A new 80×24 pseudo-terminal: its master and its slave, both close-on-exec from the start
/// (openpty's are not, for a moment in which a sibling test's child could take them along and
/// keep the terminal open for as long as it lives).
fn open_pty() -> (std::fs::File, OwnedFd) {
    use std::os::unix::fs::OpenOptionsExt;
    let master = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY)
        .open("/dev/ptmx")
        .expect("open /dev/ptmx");
    let fd = master.as_raw_fd();
    let size = libc::winsize {
        ws_row: 24,
        ws_col: 80,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: plain calls on a descriptor we own; ptsname's static buffer is copied at once
    // under a lock, since another thread may call it too.
    let name = unsafe {
        assert_eq!(libc::grantpt(fd), 0, "grantpt");
        assert_eq!(libc::unlockpt(fd), 0, "unlockpt");
        assert_eq!(
            libc::ioctl(fd, libc::TIOCSWINSZ as _, &size),
            0,
            "TIOCSWINSZ"
        );
        static PTSNAME: Mutex<()> = Mutex::new(());
        let _guard = PTSNAME.lock().unwrap();
        let name = libc::ptsname(fd);
        assert!(!name.is_null(), "ptsname");
        std::ffi::CStr::from_ptr(name).to_str().unwrap().to_owned()
    };
    let slave = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY)
        .open(&name)
        .unwrap_or_else(|e| panic!("open {name}: {e}"));
    (master, slave.into())
}
