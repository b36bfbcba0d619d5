//! End-to-end tests of the real `broker` binary against real parts (README, Development): moto for
//! STS/IAM, a private gnome-keyring, the kernel keyring, the file vault, the AWS CLI.
//! One test binary, a module per command or concern.
//!
//! On Linux everything runs (scripts/test.sh sets up the rig). Elsewhere the first group runs:
//! moto and the SSO stand-in come from the test venv, or under Wine from the launcher that
//! scripts/wine-test.sh starts (common/rig.rs); a test that needs what only Linux (or Unix)
//! has is compiled out (`#[cfg(...)]`) or ignored with the reason, one by one
//! (`common::rig_test!`). `platform` checks what broker does with each operating system.

mod common;
mod fixtures;

mod add;
mod clear;
mod completions;
mod config;
mod crash;
mod edges;
mod errors;
mod exec;
mod export;
mod formats;
mod fuzz_regressions;
mod help;
mod history;
mod hostile;
mod import;
mod incident;
mod list;
mod moto_smoke;
mod platform;
mod profile_keys;
mod remove;
mod rotate;
mod server;
mod sso;
mod vault;

// Linux's only: these modules are about what only the Linux rig has (botocore and the AWS CLI
// of the venv, the kernel keyring, the Secret Service, pass, util-linux `script` and `setpriv`,
// /proc, rsyslogd, the shells, the JavaScript SDK), or pin Linux's own output (doctor's
// report, the docs' Linux commands), or test the Python stand-ins themselves.
#[cfg(target_os = "linux")]
mod aws_vault;
#[cfg(target_os = "linux")]
mod docs;
#[cfg(target_os = "linux")]
mod doctor;
#[cfg(target_os = "linux")]
mod ec2_server;
#[cfg(target_os = "linux")]
mod import_aws_vault;
#[cfg(target_os = "linux")]
mod login;
#[cfg(target_os = "linux")]
mod network;
#[cfg(target_os = "linux")]
mod parity;
#[cfg(target_os = "linux")]
mod pass_store;
#[cfg(target_os = "linux")]
mod policy;
#[cfg(target_os = "linux")]
mod safety;
#[cfg(target_os = "linux")]
mod sso_standin;
#[cfg(target_os = "linux")]
mod sweep;
#[cfg(target_os = "linux")]
mod terminal;
#[cfg(target_os = "linux")]
mod use_shell;
