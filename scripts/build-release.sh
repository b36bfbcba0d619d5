#!/usr/bin/env bash
# Builds the release binary and prints its path (target/TARGET/release/broker, or .exe).
# Usage: scripts/build-release.sh [TARGET]   (a Rust target triple; default: see below)
#
# On Linux (x86_64) the default TARGET is x86_64-unknown-linux-musl: a static PIE linked with
# musl. Position-independent, so ASLR applies; no dynamic loader; and no glibc start-up, which
# on a virtual machine is most of a warm call. glibc sizes the CPU's caches with about 90 CPUID
# instructions in every process it starts (in the dynamic loader, or in a static binary's own
# start-up), and CPUID traps to the hypervisor: ~6 µs each on the test machine, ~0.55 ms a
# process, where a musl binary starts in ~0.1 ms. On real hardware the difference is small.
# The tools come from scripts/toolchain.sh: rustup's musl target when it is installed, else
# Debian's rustc-web with `cargo -Zbuild-std`; zig compiles the C code (ring, libdbus) and
# links, with its own musl and libunwind (panics unwind, see Cargo.toml). The first build
# fetches those tools (~140 MB) and compiles the standard library: several minutes.
#
# musl resolves user names from /etc/passwd (and nscd) and host names from /etc/hosts and DNS,
# without NSS modules (LDAP, sssd, mdns): broker takes the user name from USER, LOGNAME or
# USERNAME first, and AWS endpoints are public DNS names. Elsewhere it is a plain
# `cargo build --release`; TARGET x86_64-unknown-linux-gnu gives the usual glibc build.
set -euo pipefail
cd "$(dirname "$0")/.."
die() { echo "build-release: $*" >&2; exit 2; }
host=$(rustc -vV | sed -n 's/^host: //p')
case "$host" in
  x86_64-unknown-linux-gnu) target=${1:-x86_64-unknown-linux-musl} ;;
  *) target=${1:-$host} ;;
esac
args=(--release --locked --bin broker --target "$target")
case "$target" in
  *-linux-musl)
    . scripts/toolchain.sh
    setup_zig
    # zig supplies the C start files, musl and libunwind, and makes the PIE (-fPIE). These
    # flags replace the [build] rustflags of .cargo/config.toml, so its cfgs are repeated.
    flags="-C link-self-contained=no -C link-arg=-fPIE --cfg chacha20_force_soft --cfg poly1305_force_soft"
    if [ "$(route "$target")" = rustup ]; then
      RUSTFLAGS=$flags "$VENV/bin/cargo-zigbuild" zigbuild "${args[@]}" --quiet
    else
      setup_debian_rustc
      RUSTFLAGS=$flags RUSTUP_TOOLCHAIN=$TOOLCHAIN RUSTC="$BIN/rustc" RUSTC_BOOTSTRAP=1 \
        "$VENV/bin/cargo-zigbuild" zigbuild "${args[@]}" --quiet -Zbuild-std=std,panic_unwind
    fi >&2
    ;;
  *) cargo build "${args[@]}" --quiet >&2 ;;
esac
case "$target" in
  *-windows-*) echo "target/$target/release/broker.exe" ;;
  *) echo "target/$target/release/broker" ;;
esac
