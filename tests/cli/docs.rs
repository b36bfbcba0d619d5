//! The guide cannot rot: every shell block a user would run in README.md, CONTRIBUTING.md and
//! docs/*.md runs here against moto, in bash on a pseudo-terminal, with broker's questions
//! answered as a user would answer them; every `config.toml` block is read by broker; every
//! relative link points at a file and a heading that exist.
//!
//! A shell block that cannot run here says why on the line before it:
//! `<!-- not run: REASON -->`. A block marked `<!-- run: on a fresh machine -->` starts from an
//! empty home (no `~/.aws`, no keys); every other block starts where the README's Quick start
//! ends (its profiles in `~/.aws/config`, alice's key stored).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::moto::{venv, Moto};
use crate::common::terminal::{Mode, Terminal};
use crate::common::{broker_bin, stdout_of, TestEnv};
use crate::fixtures::{file_env, store_key};

/// A fenced block of a Markdown file.
struct Block {
    file: String,
    line: usize,
    lang: String,
    text: String,
    /// The comment on the line before the fence, if any.
    marker: Option<String>,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// README.md, CONTRIBUTING.md and docs/*.md, as paths from the repository's root.
fn guide() -> Vec<String> {
    let mut files = vec!["README.md".to_string(), "CONTRIBUTING.md".to_string()];
    let mut docs: Vec<String> = std::fs::read_dir(root().join("docs"))
        .expect("docs/")
        .map(|e| format!("docs/{}", e.unwrap().file_name().to_string_lossy()))
        .filter(|name| name.ends_with(".md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

fn blocks(file: &str) -> Vec<Block> {
    let text = std::fs::read_to_string(root().join(file)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut blocks = Vec::new();
    let mut open: Option<(usize, String)> = None;
    let mut body = String::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(info) = line.strip_prefix("```") else {
            if open.is_some() {
                body.push_str(line);
                body.push('\n');
            }
            continue;
        };
        match open.take() {
            None => {
                open = Some((i, info.trim().to_string()));
                body.clear();
            }
            Some((start, lang)) => {
                let before = start.checked_sub(1).map(|b| lines[b].trim());
                let marker = before
                    .and_then(|b| b.strip_prefix("<!--"))
                    .and_then(|b| b.strip_suffix("-->"))
                    .map(|m| m.trim().to_string());
                blocks.push(Block {
                    file: file.to_string(),
                    line: start + 1,
                    lang,
                    text: body.clone(),
                    marker,
                });
            }
        }
    }
    assert!(open.is_none(), "{file}: a code block is never closed");
    blocks
}

/// The GitHub anchor of a heading.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '-' || *c == ' ' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors(file: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(file).unwrap();
    let mut fenced = false;
    let mut found = Vec::new();
    for line in text.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
        } else if !fenced && line.starts_with('#') {
            found.push(slug(line.trim_start_matches('#')));
        }
    }
    found
}

#[test]
fn every_relative_link_of_the_guide_points_at_a_file_and_heading_that_exist() {
    let mut broken = Vec::new();
    for file in guide() {
        let text = std::fs::read_to_string(root().join(&file)).unwrap();
        for target in text.split("](").skip(1).filter_map(|t| t.split(')').next()) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (path, anchor) = target.split_once('#').unwrap_or((target, ""));
            let dir = Path::new(&file).parent().unwrap();
            let linked = if path.is_empty() {
                root().join(&file)
            } else {
                root().join(dir).join(path)
            };
            if !linked.exists() {
                broken.push(format!("{file}: {target}: no such file"));
            } else if !anchor.is_empty()
                && linked.extension().is_some_and(|e| e == "md")
                && !anchors(&linked).iter().any(|a| a == anchor)
            {
                broken.push(format!("{file}: {target}: no such heading"));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn every_config_toml_of_the_guide_is_read_by_broker() {
    let mut read = 0;
    for block in guide().iter().flat_map(|f| blocks(f)) {
        if block.lang != "toml" {
            continue;
        }
        let env = TestEnv::with_file_backend();
        env.write_broker_config(&block.text);
        let out = env.broker().arg("doctor").output().unwrap();
        let report = stdout_of(&out);
        assert!(
            report.contains("✓ settings:"),
            "{}:{}: broker does not read this config.toml:\n{report}",
            block.file,
            block.line
        );
        read += 1;
    }
    assert!(read > 0, "the guide shows no config.toml");
}

/// The world of the guide's examples: moto, and alice's key there.
struct World {
    moto: Moto,
    key_id: String,
    secret: String,
}

impl World {
    fn new() -> World {
        let moto = Moto::start(None);
        let key = moto.create_user("alice");
        World {
            moto,
            key_id: key.access_key_id,
            secret: key.secret_access_key,
        }
    }

    /// A home where the Quick start is done, or an empty one.
    fn home(&self, fresh: bool) -> TestEnv {
        let env = file_env(&self.moto);
        if fresh {
            std::fs::remove_dir_all(env.home().join(".aws")).unwrap();
        } else {
            env.write_aws_config(QUICK_START_CONFIG);
            store_key(&env, "alice", &self.key_id, &self.secret);
        }
        env
    }

    /// Runs `block` in bash (exit on the first failing command) on a pseudo-terminal, answering
    /// broker's questions; the exit status and the screen.
    fn run(&self, env: &TestEnv, block: &Block) -> (Option<i32>, String) {
        let script = env.dir.path().join("block.sh");
        std::fs::write(&script, &block.text).unwrap();
        let mut cmd = env.std_command("bash");
        cmd.args(["-e", "-o", "pipefail"])
            .arg(&script)
            .current_dir(env.home())
            .env("PATH", path())
            .env("TERM", "dumb");
        let mut t = Terminal::spawn(cmd, None);
        let questions = [
            ("Access key ID: ", Mode::Line, format!("{}\n", self.key_id)),
            (
                "Secret access key: ",
                Mode::Silent,
                format!("{}\n", self.secret),
            ),
            ("MFA code for ", Mode::Line, "123456\n".to_string()),
            ("[y/N] ", Mode::Line, "y\n".to_string()),
        ];
        let texts: Vec<&str> = questions.iter().map(|q| q.0).collect();
        let deadline = Instant::now() + Duration::from_secs(120);
        while !t.ended() {
            if let Some(i) = t.shown(&texts) {
                t.wait_for_mode(questions[i].1);
                t.send(&questions[i].2);
                continue;
            }
            assert!(
                Instant::now() < deadline,
                "{}:{}: still running after 120 s:\n{}",
                block.file,
                block.line,
                t.screen()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        t.finish()
    }
}

/// The AWS config the README's Quick start writes.
const QUICK_START_CONFIG: &str = "[profile alice]
mfa_serial = arn:aws:iam::123456789012:mfa/alice

[profile analyst]
role_arn = arn:aws:iam::123456789012:role/analyst
source_profile = alice
region = eu-west-1

[profile breakglass]
role_arn = arn:aws:iam::123456789012:role/breakglass
source_profile = analyst
region = eu-west-1
";

/// broker, then the venv's AWS CLI, then the system's programs.
fn path() -> String {
    let mut dirs = vec![
        broker_bin().parent().unwrap().to_owned(),
        venv().join("bin"),
    ];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs).unwrap().into_string().unwrap()
}

#[test]
fn every_shell_block_of_the_guide_runs_or_says_why_not() {
    let world = World::new();
    let mut ran = Vec::new();
    let mut failed = Vec::new();
    for block in guide().iter().flat_map(|f| blocks(f)) {
        if !matches!(block.lang.as_str(), "sh" | "bash" | "console" | "shell") {
            continue;
        }
        let fresh = match block.marker.as_deref() {
            Some(m) if m.starts_with("not run:") => {
                assert!(
                    m.len() > "not run:".len() + 10,
                    "{}:{}: say why the block is not run",
                    block.file,
                    block.line
                );
                continue;
            }
            Some("run: on a fresh machine") => true,
            _ => false,
        };
        let env = world.home(fresh);
        let (code, screen) = world.run(&env, &block);
        if code != Some(0) {
            failed.push(format!(
                "{}:{}: exit {code:?}\n{}\n{screen}",
                block.file, block.line, block.text
            ));
        }
        eprintln!(
            "ran {}:{}, exit {code:?}:\n{screen}",
            block.file, block.line
        );
        ran.push(format!("{}:{}", block.file, block.line));
    }
    assert!(
        failed.is_empty(),
        "blocks that failed:\n{}",
        failed.join("\n")
    );
    assert!(
        ran.iter().any(|b| b.starts_with("README.md")),
        "the README's Quick start must run: {ran:?}"
    );
}
