#!/usr/bin/env bash
# Builds the release binary and prints its path (target/TARGET/release/broker, or .exe, under
# $CARGO_TARGET_DIR when that is set).
# Usage: scripts/build-release.sh [TARGET [CARGO-ARGS...]]   (a Rust target triple; default:
# see below). CARGO-ARGS go to cargo: `--features test-hooks` builds a binary for the test
# suite to run against (BROKER_TEST_BIN), never one to ship.
#
# On Linux (x86_64) the default TARGET is x86_64-unknown-linux-musl: a static PIE linked with
# musl. Position-independent, so ASLR applies; no dynamic loader; and no glibc start-up, which
# on a virtual machine is most of a warm call. glibc sizes the CPU's caches with about 90 CPUID
# instructions in every process it starts (in the dynamic loader, or in a static binary's own
# start-up), and CPUID traps to the hypervisor: ~6 µs each on the test machine, ~0.55 ms a
# process, where a musl binary starts in ~0.1 ms. On real hardware the difference is small.
# The tools come from scripts/toolchain.sh, cached in ~/.cache/broker-cross-check (shared with
# cross-check.sh): the standard library of rustup's musl target when it is installed
# (`rustup target add x86_64-unknown-linux-musl`), else one compiled from source with Debian's
# rustc-web and `cargo -Zbuild-std` (which needs apt and rustup's nightly cargo); zig, from
# PyPI into a venv, compiles the C code (ring, libdbus) and links, with its own musl and
# libunwind (panics unwind, see Cargo.toml). The first build fetches those tools and compiles
# everything: about 12 minutes on 2 cores with build-std. Your RUSTFLAGS are added to the
# flags below.
#
# musl resolves user names from /etc/passwd (and nscd) and host names from /etc/hosts and DNS,
# without NSS modules (LDAP, sssd, mdns): broker takes the user name from USER, LOGNAME or
# USERNAME first, and AWS endpoints are public DNS names.
#
# TARGET x86_64-pc-windows-gnu, from Linux: broker.exe built with the same tools (the target's
# standard library from rustup, else compiled with build-std), its C code compiled and the
# binary linked by zig (`zig cc -target x86_64-windows-gnu`, its mingw-w64; see
# setup_windows_gnu_linker in toolchain.sh). scripts/wine-test.sh runs the test suite against
# such a build under Wine; the GitHub workflow releases the MSVC build made on Windows.
#
# Elsewhere it is a plain `cargo build --release`; TARGET x86_64-unknown-linux-gnu gives the
# usual glibc build.
set -euo pipefail
cd "$(dirname "$0")/.."
die() { echo "build-release: $*" >&2; exit 2; }
host=$(rustc -vV | sed -n 's/^host: //p')
case "$host" in
  x86_64-unknown-linux-gnu) target=${1:-x86_64-unknown-linux-musl} ;;
  *) target=${1:-$host} ;;
esac
args=(--release --locked --bin broker --target "$target" "${@:2}")
# broker.exe from Linux: zig links (see the header).
windows_gnu_from_linux() {
  . scripts/toolchain.sh
  setup_zig >&2
  setup_windows_gnu_linker "$target"
  export PATH="$HOME_DIR/path:$PATH"
  # As for musl: these flags replace .cargo/config.toml's, whose cfgs are repeated.
  export RUSTFLAGS="--cfg chacha20_force_soft --cfg poly1305_force_soft${RUSTFLAGS:+ $RUSTFLAGS}"
  unset CARGO_ENCODED_RUSTFLAGS
  if [ "$(route "$target")" = rustup ]; then
   cargo build "${args[@]}" --quiet
  else
   setup_debian_rustc
   RUSTC="$BIN/rustc" RUSTC_BOOTSTRAP=1 cargo +"$TOOLCHAIN" build "${args[@]}" --quiet \
    -Zbuild-std=std,panic_unwind
  fi >&2
}
case "$target" in
  *-linux-musl)
    . scripts/toolchain.sh
    setup_zig >&2
    # zig supplies the C start files, musl and libunwind, and makes the PIE (-fPIE). These
    # flags replace the [build] rustflags of .cargo/config.toml, so its cfgs are repeated.
    flags="-C link-self-contained=no -C link-arg=-fPIE --cfg chacha20_force_soft --cfg poly1305_force_soft${RUSTFLAGS:+ $RUSTFLAGS}"
    unset CARGO_ENCODED_RUSTFLAGS
    if [ "$(route "$target")" = rustup ]; then
      RUSTFLAGS=$flags "$VENV/bin/cargo-zigbuild" zigbuild "${args[@]}" --quiet
    else
      setup_debian_rustc
      RUSTFLAGS=$flags RUSTUP_TOOLCHAIN=$TOOLCHAIN RUSTC="$BIN/rustc" RUSTC_BOOTSTRAP=1 \
        "$VENV/bin/cargo-zigbuild" zigbuild "${args[@]}" --quiet -Zbuild-std=std,panic_unwind
    fi >&2
    ;;
  *-windows-gnu)
    if [ "$host" != x86_64-unknown-linux-gnu ]; then
      cargo build "${args[@]}" --quiet >&2
    else
      windows_gnu_from_linux
    fi
    ;;
  *) cargo build "${args[@]}" --quiet >&2 ;;
esac
out=${CARGO_TARGET_DIR:-target}/$target/release
case "$target" in
  *-windows-*) echo "$out/broker.exe" ;;
  *) echo "$out/broker" ;;
esac
