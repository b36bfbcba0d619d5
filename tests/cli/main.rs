//! End-to-end tests of the real `broker` binary against real parts (README, Development): moto for
//! STS/IAM, a private gnome-keyring, the kernel keyring, the file vault, the AWS CLI.
//! One test binary, a module per command or concern.
//!
//! On Linux everything runs (scripts/test.sh sets up the rig). On macOS and Windows the tests
//! that need no rig run: the modules of the first group, where the tests that do need it are
//! made with `common::linux_rig_test!` (ignored elsewhere, with the reason) one by one, and
//! `platform`, which checks what broker does with each operating system.

mod common;
mod fixtures;

mod add;
mod completions;
mod config;
mod errors;
mod export;
mod formats;
mod fuzz_regressions;
mod help;
#[cfg(unix)]
mod history;
mod hostile;
mod platform;
mod vault;

// Every test here needs the rig that scripts/test.sh sets up on Linux: moto, the SSO stand-in,
// botocore and the AWS CLI from its venv, the kernel keyring, util-linux `script` and
// `setpriv`, /proc.
#[cfg(target_os = "linux")]
mod aws_vault;
#[cfg(target_os = "linux")]
mod clear;
#[cfg(target_os = "linux")]
mod crash;
#[cfg(target_os = "linux")]
mod docs;
#[cfg(target_os = "linux")]
mod doctor;
#[cfg(target_os = "linux")]
mod ec2_server;
#[cfg(target_os = "linux")]
mod edges;
#[cfg(target_os = "linux")]
mod exec;
#[cfg(target_os = "linux")]
mod import;
#[cfg(target_os = "linux")]
mod import_aws_vault;
#[cfg(target_os = "linux")]
mod incident;
#[cfg(target_os = "linux")]
mod list;
#[cfg(target_os = "linux")]
mod login;
#[cfg(target_os = "linux")]
mod moto_smoke;
#[cfg(target_os = "linux")]
mod network;
#[cfg(target_os = "linux")]
mod parity;
#[cfg(target_os = "linux")]
mod pass_store;
#[cfg(target_os = "linux")]
mod policy;
#[cfg(target_os = "linux")]
mod profile_keys;
#[cfg(target_os = "linux")]
mod remove;
#[cfg(target_os = "linux")]
mod rotate;
#[cfg(target_os = "linux")]
mod safety;
#[cfg(target_os = "linux")]
mod server;
#[cfg(target_os = "linux")]
mod sso;
#[cfg(target_os = "linux")]
mod sso_standin;
#[cfg(target_os = "linux")]
mod sweep;
#[cfg(target_os = "linux")]
mod terminal;
#[cfg(target_os = "linux")]
mod use_shell;
