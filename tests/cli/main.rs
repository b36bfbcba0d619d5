//! End-to-end tests of the real `broker` binary against real parts (README, Development): moto for
//! STS/IAM, a private gnome-keyring, the kernel keyring, the file vault, the AWS CLI.
//! One test binary, a module per command or concern.

mod common;
mod fixtures;

mod add;
mod clear;
mod completions;
mod config;
mod crash;
mod doctor;
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
mod login;
mod moto_smoke;
mod remove;
mod rotate;
mod safety;
#[cfg(target_os = "linux")]
mod server;
mod sso_standin;
mod sweep;
mod terminal;
mod vault;
