//! End-to-end tests of the real `broker` binary against real parts (README, Development): moto for
//! STS/IAM, a private gnome-keyring, the kernel keyring, the file vault, the AWS CLI.
//! One test binary, a module per command or concern.
//!
//! On Linux everything runs (scripts/test.sh sets up the rig). On macOS and Windows the tests
//! that need no rig run: the modules below the first group, where the tests that do need it
//! are marked `#[cfg(target_os = "linux")]` one by one, and `platform`, which checks what
//! broker does with each operating system.

mod common;
mod fixtures;

mod add;
mod clear;
mod completions;
mod config;
mod crash;
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

// Every test here needs the rig that scripts/test.sh sets up on Linux: moto, the SSO stand-in,
// botocore and the AWS CLI from its venv, the kernel keyring, util-linux `script` and
// `setpriv`, /proc.
#[cfg(target_os = "linux")]
mod doctor;
#[cfg(target_os = "linux")]
mod edges;
#[cfg(target_os = "linux")]
mod login;
#[cfg(target_os = "linux")]
mod parity;
#[cfg(target_os = "linux")]
mod safety;
#[cfg(target_os = "linux")]
mod sso_standin;
#[cfg(target_os = "linux")]
mod sweep;
#[cfg(target_os = "linux")]
mod terminal;
