//! Opening the user's web browser: `$BROWSER` when set (a program that gets the target as its
//! one argument), else the desktop's opener: `xdg-open` (Linux, BSD), `open` (macOS),
//! `cmd /C start` (Windows).
//!
//! Never puts a secret in an argv: every local user can read any process's command line (`ps`,
//! `/proc/PID/cmdline`). A target that must stay secret goes through a [`PrivatePage`]: a file
//! only this user can read, whose path alone is handed to the opener.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use crate::environment::Environment;
use crate::process;

/// Why the browser could not be sent somewhere.
#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    #[error("cannot start the browser opener {program}: {source}")]
    Start {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the browser opener {program} failed ({status})")]
    Failed {
        program: String,
        status: std::process::ExitStatus,
    },
    #[error("cannot hand a target with a quote to `start`")]
    Quote,
    #[error("cannot write the sign-in page for the browser: {0}")]
    Page(#[source] std::io::Error),
}

type Result<T, E = BrowserError> = std::result::Result<T, E>;

/// How to reach the user's browser, from the environment: `$BROWSER`, and where private pages
/// go (`$XDG_RUNTIME_DIR/broker`, else broker's cache directory).
pub struct Browser {
    command: Option<String>,
    page_dir: PathBuf,
}

impl Browser {
    pub fn new(env: &Environment) -> Browser {
        Browser {
            command: env.browser.clone(),
            page_dir: env
                .runtime_dir()
                .unwrap_or_else(|| env.cache_dir())
                .join("broker"),
        }
    }

    /// Opens `target` (a URL, or a `file://` URL) in the browser, without waiting for the
    /// opener: some openers return only once the browser closes. `target` must not be a
    /// secret. The opener, like every child, gets no secret of broker's; it writes nothing on
    /// broker's stdout, which may be carrying data.
    pub fn open(&self, target: &str) -> Result<Opener> {
        let (mut command, program) = self.opener(target)?;
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .map_err(|source| BrowserError::Start {
                program: program.clone(),
                source,
            })?;
        Ok(Opener { child, program })
    }

    /// Writes `target` into a [`PrivatePage`] and opens that.
    pub fn open_privately(&self, target: &SecretString) -> Result<(PrivatePage, Opener)> {
        let page = PrivatePage::new(target, &self.page_dir)?;
        let opener = self.open(&page.url())?;
        Ok((page, opener))
    }

    /// The opener's command: `$BROWSER`, else the platform's.
    fn opener(&self, target: &str) -> Result<(Command, String)> {
        if let Some(browser) = &self.command {
            let mut command = process::command(browser);
            command.arg(target);
            return Ok((command, browser.clone()));
        }
        #[cfg(windows)]
        {
            use std::os::windows::process::CommandExt;
            // `start` is a cmd built-in; its first quoted argument is a window title, hence "".
            // The target is quoted whole so that cmd does not split a URL at `&`.
            if target.contains('"') {
                return Err(BrowserError::Quote);
            }
            let mut command = process::command("cmd");
            command.raw_arg(format!("/C start \"\" \"{target}\""));
            Ok((command, "cmd /C start".into()))
        }
        #[cfg(not(windows))]
        {
            let program = if cfg!(target_os = "macos") {
                "open"
            } else {
                "xdg-open"
            };
            let mut command = process::command(program);
            command.arg(target);
            Ok((command, program.into()))
        }
    }
}

/// A started opener.
pub struct Opener {
    child: Child,
    program: String,
}

impl Opener {
    /// The opener's failure, once it has exited unsuccessfully; `None` while it runs or after
    /// it succeeded.
    pub fn failure(&mut self) -> Option<BrowserError> {
        match self.child.try_wait() {
            Ok(Some(status)) if !status.success() => Some(BrowserError::Failed {
                program: self.program.clone(),
                status,
            }),
            _ => None,
        }
    }
}

/// A page that sends the browser on to a secret URL, in a file only this user can read: `0600`
/// in a fresh `0700` directory of broker's own, under `$XDG_RUNTIME_DIR` (a per-user tmpfs on
/// Linux, so the page never reaches a disk) or else broker's cache directory. On Windows the
/// directory is under the user's profile, private to the user by its default ACL. Deleted,
/// with its directory, when dropped.
pub struct PrivatePage {
    file: PathBuf,
    _dir: tempfile::TempDir,
}

impl PrivatePage {
    /// Writes the page in a fresh directory under `base`; `target` appears only inside it.
    fn new(target: &SecretString, base: &Path) -> Result<PrivatePage> {
        let fail = BrowserError::Page;
        crate::fsutil::private_dir(base).map_err(fail)?;
        let mut builder = tempfile::Builder::new();
        builder.prefix("signin-");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o700));
        }
        let dir = builder.tempdir_in(base).map_err(fail)?;
        let file = dir.path().join("signin.html");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
        }
        let mut page = options.open(&file).map_err(fail)?;
        std::io::Write::write_all(&mut page, redirect_page(target).as_bytes()).map_err(fail)?;
        Ok(PrivatePage { file, _dir: dir })
    }

    /// The page's `file://` URL: all that goes in the opener's argv.
    fn url(&self) -> String {
        url::Url::from_file_path(&self.file)
            .map(String::from)
            .unwrap_or_else(|_| self.file.display().to_string())
    }

    /// Where the page is.
    pub fn path(&self) -> &Path {
        &self.file
    }
}

/// A minimal HTML page that sends the browser to `target` at once (with a link, should the
/// refresh be blocked), telling no one where it came from. Built in a zeroing buffer.
pub fn redirect_page(target: &SecretString) -> Zeroizing<String> {
    let mut escaped = Zeroizing::new(String::with_capacity(target.expose_secret().len() * 2));
    for c in target.expose_secret().chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            c => escaped.push(c),
        }
    }
    let mut page = Zeroizing::new(String::with_capacity(2 * escaped.len() + 400));
    let _ = write!(
        page,
        "<!doctype html>\n<html><head><meta charset=\"utf-8\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <meta http-equiv=\"refresh\" content=\"0;url={0}\">\
         <title>broker: signing in</title></head>\n\
         <body><p><a href=\"{0}\">Continue to the AWS console</a></p></body></html>\n",
        escaped.as_str()
    );
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_redirect_page_escapes_its_target() {
        let page = redirect_page(&SecretString::from(
            "https://x/?a=1&b=\"<script>\"".to_string(),
        ));
        assert!(page.contains("url=https://x/?a=1&amp;b=&quot;&lt;script&gt;&quot;\""));
        assert!(!page.contains("<script>"));
    }
}
