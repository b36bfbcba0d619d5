//! What `exec` does with signals and console events while its child runs: the one place where
//! Unix and Windows differ here.
//!
//! Unix: SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to broker by another process are passed on
//! to the child. The same signals coming from the terminal (Ctrl-C, `Ctrl-\`, hang-up) are not:
//! the terminal signals its whole foreground process group, the child included, and a second
//! copy would be a second Ctrl-C. How the two are told apart depends on the kernel (see
//! `from_terminal`).
//!
//! Windows has no signals to pass on: Ctrl-C and Ctrl-Break are console events that reach
//! every process attached to the console, the child included. broker ignores them while the
//! child runs, so it stays to report the child's exit code; the child decides for itself.

pub use imp::Forwarding;

#[cfg(unix)]
mod imp {
    use std::sync::atomic::{AtomicI32, Ordering};

    use libc::c_int;

    const FORWARDED: [c_int; 4] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT];

    /// The child to forward to, once it exists (0: none).
    static CHILD: AtomicI32 = AtomicI32::new(0);

    /// A signal that arrived before the child existed, to pass on once it does.
    static PENDING: AtomicI32 = AtomicI32::new(0);

    /// broker's controlling terminal, open while forwarding (-1: none); see [`from_terminal`].
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    static TERMINAL: AtomicI32 = AtomicI32::new(-1);

    /// Installs the forwarding handlers before the child is spawned (the child gets default
    /// dispositions back at exec), so no signal sent to broker in between is lost.
    pub struct Forwarding;

    impl Forwarding {
        pub fn prepare() -> Forwarding {
            PENDING.store(0, Ordering::SeqCst);
            #[cfg(not(any(target_os = "linux", target_os = "android")))]
            // SAFETY: opens a file descriptor that Drop closes; close-on-exec, so the child
            // does not inherit it. Without a controlling terminal it fails, and stays -1.
            unsafe {
                let fd = libc::open(c"/dev/tty".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
                TERMINAL.store(fd, Ordering::SeqCst);
            }
            // SAFETY: installs an async-signal-safe handler (atomics, tcgetpgrp, getpgrp, kill).
            unsafe {
                for s in FORWARDED {
                    let mut action: libc::sigaction = std::mem::zeroed();
                    action.sa_sigaction = handler as *const () as usize;
                    action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
                    libc::sigemptyset(&mut action.sa_mask);
                    libc::sigaction(s, &action, std::ptr::null_mut());
                }
            }
            Forwarding
        }

        pub fn forward_to(&self, pid: u32) {
            let pid = pid as i32;
            CHILD.store(pid, Ordering::SeqCst);
            let pending = PENDING.swap(0, Ordering::SeqCst);
            if pending != 0 {
                // SAFETY: sends a signal to our own child.
                unsafe {
                    libc::kill(pid, pending);
                }
            }
        }
    }

    impl Drop for Forwarding {
        fn drop(&mut self) {
            // The child is gone (or never started): forward nothing to a recycled pid.
            CHILD.store(0, Ordering::SeqCst);
            #[cfg(not(any(target_os = "linux", target_os = "android")))]
            {
                let fd = TERMINAL.swap(-1, Ordering::SeqCst);
                if fd >= 0 {
                    // SAFETY: closes the descriptor prepare() opened, once.
                    unsafe {
                        libc::close(fd);
                    }
                }
            }
        }
    }

    /// Forwards a signal that another process sent to broker; see [`from_terminal`].
    extern "C" fn handler(signal: c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
        // SAFETY: with SA_SIGINFO the kernel passes a valid siginfo.
        if from_terminal(signal, unsafe { &*info }) {
            return;
        }
        let pid = CHILD.load(Ordering::SeqCst);
        if pid > 0 {
            // SAFETY: kill is async-signal-safe.
            unsafe {
                libc::kill(pid, signal);
            }
        } else {
            PENDING.store(signal, Ordering::SeqCst);
        }
    }

    /// Whether `signal` came from the terminal rather than from a process.
    ///
    /// Linux says so: the terminal's signals carry `si_code == SI_KERNEL`, while `kill()`,
    /// `sigqueue()` and `tgkill()` give `SI_USER`, `SI_QUEUE`, `SI_TKILL`. The code decides, not
    /// the sender's pid, which reads 0 when the sender is in an outer PID namespace (a
    /// container runtime stopping the container).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn from_terminal(_signal: c_int, info: &libc::siginfo_t) -> bool {
        info.si_code == libc::SI_KERNEL
    }

    /// macOS does not say. It has no `SI_KERNEL`; XNU gives every caught signal `si_code` 0 and
    /// the pid of the process in whose context it was raised, which for Ctrl-C is the terminal
    /// emulator (or sshd, or tmux) writing ^C to the pseudo-terminal, so `si_pid` does not tell
    /// either. broker asks the terminal instead: while broker is in its terminal's foreground
    /// process group, SIGINT, SIGQUIT and SIGHUP are taken to be the terminal's (or the shell's,
    /// sent to the whole job), and the child, in the same group, has them already. SIGTERM,
    /// which no terminal sends, and every signal while broker runs in the background or without
    /// a terminal, are forwarded. The price: a `kill -INT` aimed at broker alone while it is in
    /// the foreground does not reach the child (SIGTERM does).
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    fn from_terminal(signal: c_int, _info: &libc::siginfo_t) -> bool {
        let terminal = TERMINAL.load(Ordering::SeqCst);
        // SAFETY: tcgetpgrp and getpgrp are async-signal-safe; a closed or invalid descriptor
        // makes tcgetpgrp fail with -1, which matches no process group.
        signal != libc::SIGTERM
            && terminal >= 0
            && unsafe { libc::tcgetpgrp(terminal) == libc::getpgrp() }
    }
}

#[cfg(windows)]
mod imp {
    use windows_sys::core::BOOL;
    use windows_sys::Win32::System::Console::{
        SetConsoleCtrlHandler, CTRL_BREAK_EVENT, CTRL_C_EVENT,
    };

    /// Claims Ctrl-C and Ctrl-Break from the moment before the child starts until it has
    /// exited. Closing the console, logoff and shutdown keep their default: the system ends
    /// every process on the console.
    pub struct Forwarding;

    impl Forwarding {
        pub fn prepare() -> Forwarding {
            // SAFETY: registers a handler that only inspects its argument.
            unsafe {
                SetConsoleCtrlHandler(Some(ignore_interrupts), 1);
            }
            Forwarding
        }

        /// Nothing to forward: the child is on the same console and gets its own events.
        pub fn forward_to(&self, _pid: u32) {}
    }

    impl Drop for Forwarding {
        fn drop(&mut self) {
            // SAFETY: removes the handler prepare() registered.
            unsafe {
                SetConsoleCtrlHandler(Some(ignore_interrupts), 0);
            }
        }
    }

    /// "Handled" for Ctrl-C and Ctrl-Break, so the default handler (which ends broker) does not
    /// run. Not `SetConsoleCtrlHandler(NULL, TRUE)`: that setting is inherited, and the child
    /// would ignore Ctrl-C too.
    ///
    /// # Safety
    /// Windows calls it on a thread of its own with the event's code; it reads nothing else and
    /// touches no state, so any thread may run it at any time.
    unsafe extern "system" fn ignore_interrupts(event: u32) -> BOOL {
        BOOL::from(event == CTRL_C_EVENT || event == CTRL_BREAK_EVENT)
    }
}
