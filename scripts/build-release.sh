#!/usr/bin/env bash
# Builds the release binary and prints its path: target/release/broker, or
# target/TARGET/release/broker with a TARGET argument (a Rust target triple).
#
# On Linux with glibc the binary is a static PIE (-C target-feature=+crt-static): still
# position-independent, so ASLR applies, but with no dynamic loader at start-up. That saves
# ~0.35 ms on every call (a quarter of a warm `broker export` built otherwise): the loader's
# relocations of libc and libgcc_s and their constructors, one of which probes the CPU with
# CPUID, an instruction that costs 10-70 µs on a virtual machine. The flag is given to the
# final link only (`cargo rustc`), because proc-macro crates cannot be built with it.
# Elsewhere it is a plain `cargo build --release`.
#
# A static glibc resolves user names through /etc/passwd and host names through /etc/hosts and
# DNS itself, and loads other NSS modules (LDAP, sssd, mdns) only from the very glibc version it
# was built with: broker takes the user name from USER, LOGNAME or USERNAME first, and an
# unavailable module is skipped on the way to DNS.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:-}
triple=${target:-$(rustc -vV | sed -n 's/^host: //p')}
args=(--release --locked --bin broker ${target:+--target "$target"})
case "$triple" in
  *-linux-gnu*) cargo rustc "${args[@]}" --quiet -- -C target-feature=+crt-static ;;
  *) cargo build "${args[@]}" --quiet ;;
esac
case "$triple" in
  *-windows-*) echo "target/${target:+$target/}release/broker.exe" ;;
  *) echo "target/${target:+$target/}release/broker" ;;
esac
