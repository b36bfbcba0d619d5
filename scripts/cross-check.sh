#!/usr/bin/env bash
# cross-check.sh — type-check broker for macOS and Windows from a Linux x86_64 machine, so a
# change that breaks those platforms fails here (CI runs it from .ci/run after the tests).
#
# Usage:  scripts/cross-check.sh [TARGET ...]
#         default: aarch64-apple-darwin x86_64-pc-windows-gnu x86_64-pc-windows-msvc
#
# It runs `cargo check --all-targets --locked` (the library, the binary, unit and integration
# tests) for each target. Nothing is linked or run: what it proves is that every `cfg` branch
# of the code compiles for that OS. Behaviour on those systems is tested by the GitHub Actions
# workflow (.github/workflows/ci.yml) on real macOS and Windows machines.
#
# Per target, one of two routes:
#   * rustup: when `rustup target list --installed` lists the target, the active toolchain's
#     cargo and its prebuilt standard library are used.
#   * build-std: otherwise (rustup cannot download targets on machines that only reach the
#     package registries). Debian's `rustc-web` (a full rustc with every LLVM target) and its
#     matching `rust-web-src` are fetched with `apt-get download` and unpacked with
#     `dpkg-deb -x` into the cache (nothing is installed system-wide); the target's std is
#     compiled from those exact sources with `cargo -Zbuild-std` (RUSTC_BOOTSTRAP=1), using
#     rustup's nightly cargo (any recent cargo would do) pointed at that rustc.
#   On both routes the C code of build scripts (ring) is compiled by `zig cc` (PyPI
#   `ziglang`) through `cargo-zigbuild zig cc` (PyPI `cargo-zigbuild`, which filters flags zig
#   does not know), in a venv in the cache: zig's bundled macOS libc headers for macOS, its
#   mingw headers for both Windows targets. There are no MSVC headers on Linux; mingw's are
#   good enough for `cargo check`, which never links those objects. x86_64 Windows assembly
#   comes prebuilt with ring.
#
# Caches live outside the checkout, in $BROKER_CROSS_CHECK_HOME (default
# ${XDG_CACHE_HOME:-~/.cache}/broker-cross-check): the Debian compiler (~140 MB of .debs), the
# venv, wrappers, logs and the cargo target dir. The first run takes several minutes (std and
# every dependency, C included, for three targets); later runs take seconds to a minute.
#
# Environment:
#   BROKER_CROSS_CHECK_HOME     the cache directory (see above)
#   BROKER_CROSS_CHECK_NICE     nice level for cargo (default 10)
#   BROKER_CROSS_CHECK_JOBS     cargo -j (default: cargo's)
#   BROKER_CROSS_CHECK_TOOLCHAIN  rustup toolchain whose cargo drives build-std (default nightly)
#
# Exit status: 0 when every target checks cleanly, 1 when any target has errors or warnings,
# 2 when the tools could not be set up.
set -uo pipefail

die() { echo "cross-check: $*" >&2; exit 2; }

cd "$(dirname "$0")/.." || die "no checkout"
SRC=$(pwd)
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(aarch64-apple-darwin x86_64-pc-windows-gnu x86_64-pc-windows-msvc)

HOME_DIR=${BROKER_CROSS_CHECK_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/broker-cross-check}
NICE=${BROKER_CROSS_CHECK_NICE:-10}
TOOLCHAIN=${BROKER_CROSS_CHECK_TOOLCHAIN:-nightly}
DEB=$HOME_DIR/deb
BIN=$HOME_DIR/bin
VENV=$HOME_DIR/venv
LOGS=$HOME_DIR/logs
TARGET_DIR=$HOME_DIR/target
# Pinned, so that every run compiles C with the same compiler.
ZIG_PACKAGES=(ziglang==0.17.1 cargo-zigbuild==0.24.1)
mkdir -p "$BIN" "$LOGS" "$HOME_DIR/path" || die "cannot create $HOME_DIR"

[ "$(uname -sm)" = "Linux x86_64" ] || die "runs on Linux x86_64 (this is $(uname -sm))"

installed_targets=$(rustup target list --installed 2>/dev/null)
route() {  # rustup | build-std
    if grep -qx "$1" <<<"$installed_targets"; then echo rustup; else echo build-std; fi
}

zig_target() {  # the zig -target for C code of a Rust target
    case "$1" in
        aarch64-apple-darwin) echo aarch64-macos-none ;;
        x86_64-apple-darwin) echo x86_64-macos-none ;;
        x86_64-pc-windows-gnu | x86_64-pc-windows-msvc) echo x86_64-windows-gnu ;;
        aarch64-pc-windows-msvc) echo aarch64-windows-gnu ;;
        x86_64-unknown-linux-gnu) echo x86_64-linux-gnu ;;  # the host: exercises the rustup route
        *) return 1 ;;
    esac
}

# ------------------------------------------------------------- the Debian compiler (build-std)
setup_debian_rustc() {
    if [ ! -x "$DEB/usr/bin/rustc" ] || [ ! -f "$DEB/usr/lib/rustlib/src/rust/library/Cargo.lock" ]; then
        echo "cross-check: fetching Debian rustc-web and rust-web-src (apt-get download) ..." >&2
        candidate() { apt-cache policy rustc-web 2>/dev/null | awk '/Candidate:/{print $2}'; }
        ver=$(candidate)
        if { [ -z "$ver" ] || [ "$ver" = "(none)" ]; } && [ "$(id -u)" = 0 ]; then
            apt-get update -qq >&2 || die "apt-get update failed"
            ver=$(candidate)
        fi
        [ -n "$ver" ] && [ "$ver" != "(none)" ] \
            || die "apt knows no rustc-web (it is in bookworm-security); run apt-get update"
        mm=$(sed -E 's/^([0-9]+\.[0-9]+).*/\1/' <<<"$ver")
        llvm=$(apt-cache show "libstd-rust-web-$mm=$ver" | sed -n 's/^Depends: //p' | head -1 \
            | tr ',' '\n' | grep -o 'libllvm[0-9]*' | head -1)
        [ -n "$llvm" ] || die "cannot find the libllvm that libstd-rust-web-$mm=$ver needs"
        rm -rf "$HOME_DIR/debs" "$DEB"
        mkdir -p "$HOME_DIR/debs" "$DEB"
        (cd "$HOME_DIR/debs" && apt-get download -q "rustc-web=$ver" "libstd-rust-web-$mm=$ver" \
            "libstd-rust-web-dev=$ver" "rust-web-src=$ver" "$llvm") >&2 || die "apt-get download failed"
        for f in "$HOME_DIR"/debs/*.deb; do dpkg-deb -x "$f" "$DEB" || die "dpkg-deb -x $f failed"; done
        rm -rf "$HOME_DIR/debs"
    fi
    cat >"$BIN/rustc" <<EOF
#!/bin/sh
LD_LIBRARY_PATH=$DEB/usr/lib/x86_64-linux-gnu\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH} exec $DEB/usr/bin/rustc "\$@"
EOF
    chmod +x "$BIN/rustc"
    "$BIN/rustc" -V >/dev/null || die "the unpacked rustc does not run"
    cargo +"$TOOLCHAIN" -V >/dev/null 2>&1 || die "no rustup toolchain '$TOOLCHAIN' for its cargo"
}

# ------------------------------------------------------------- zig as the C compiler
setup_zig() {
    if [ ! -x "$VENV/bin/cargo-zigbuild" ] || ! "$VENV/bin/python3" -c 'import ziglang' 2>/dev/null \
        || ! "$VENV/bin/pip" freeze 2>/dev/null | grep -qx "${ZIG_PACKAGES[0]}"; then
        echo "cross-check: making $VENV with ${ZIG_PACKAGES[*]} (pip) ..." >&2
        rm -rf "$VENV"
        python3 -m venv "$VENV" || die "python3 -m venv failed (apt-get install python3-venv)"
        "$VENV/bin/pip" install -q "${ZIG_PACKAGES[@]}" >&2 || die "pip install ${ZIG_PACKAGES[*]} failed"
    fi
    ZIG_VERSION=$("$VENV/bin/python3" -m ziglang version) || die "zig does not run"
    # cargo-zigbuild's `zig cc` finds zig through these.
    export CARGO_ZIGBUILD_ZIG_VERSION=$ZIG_VERSION CARGO_ZIGBUILD_ZIG_COMMAND="$VENV/bin/python3" \
        CARGO_ZIGBUILD_ZIG_COMMAND_ARGS='-m ziglang'
    # Named llvm-ar so that the cc crate passes ar-style arguments on msvc targets too.
    printf '#!/bin/sh\nexec %s -m ziglang ar "$@"\n' "$VENV/bin/python3" >"$BIN/llvm-ar"
    printf '#!/bin/sh\nexec %s -m ziglang ranlib "$@"\n' "$VENV/bin/python3" >"$BIN/llvm-ranlib"
    chmod +x "$BIN/llvm-ar" "$BIN/llvm-ranlib"
    # windows-gnu: rustc runs <arch>-w64-mingw32-dlltool for raw-dylib imports even under
    # `cargo check`; cargo-zigbuild stands in for it (zig dlltool) when called by that name.
    for a in x86_64 aarch64; do ln -sfn "$VENV/bin/cargo-zigbuild" "$HOME_DIR/path/$a-w64-mingw32-dlltool"; done
}

c_wrapper() {  # name, zig subcommand (cc | c++), zig target
    cat >"$BIN/$1" <<EOF
#!/bin/sh
exec $VENV/bin/cargo-zigbuild zig $2 -- -g -fno-sanitize=all -target $3 "\$@"
EOF
    chmod +x "$BIN/$1"
}

# ------------------------------------------------------------- the checks
need_build_std=false
for T in "${TARGETS[@]}"; do
    zig_target "$T" >/dev/null || die "no C target known for $T (add it to zig_target)"
    [ "$(route "$T")" = build-std ] && need_build_std=true
done
$need_build_std && setup_debian_rustc
setup_zig

# No debug info: nothing here is run or debugged, and build-std compiles std with codegen.
export CARGO_TARGET_DIR=$TARGET_DIR PATH="$HOME_DIR/path:$PATH" \
    CARGO_PROFILE_DEV_DEBUG=0
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS RUSTC_WRAPPER RUSTC_WORKSPACE_WRAPPER RUSTC RUSTC_BOOTSTRAP

status=0
summary=""
for T in "${TARGETS[@]}"; do
    zt=$(zig_target "$T")
    tv=${T//-/_}
    c_wrapper "zigcc-$T" cc "$zt"
    c_wrapper "zigcxx-$T" c++ "$zt"
    way=$(route "$T")
    if [ "$way" = rustup ]; then
        cargo=(cargo check)
        compiler=(env)
    else
        cargo=(cargo +"$TOOLCHAIN" check -Zbuild-std=std,panic_abort)
        compiler=(env RUSTC="$BIN/rustc" RUSTC_BOOTSTRAP=1)
    fi
    log=$LOGS/$T.log
    echo "cross-check: $T ($way) ..." >&2
    start=$(date +%s)
    "${compiler[@]}" "CC_$tv=$BIN/zigcc-$T" "CXX_$tv=$BIN/zigcxx-$T" \
        "AR_$tv=$BIN/llvm-ar" "RANLIB_$tv=$BIN/llvm-ranlib" \
        nice -n "$NICE" "${cargo[@]}" --target "$T" --manifest-path "$SRC/Cargo.toml" \
        --all-targets --locked --keep-going ${BROKER_CROSS_CHECK_JOBS:+-j "$BROKER_CROSS_CHECK_JOBS"} \
        >"$log" 2>&1
    rc=$?
    secs=$(($(date +%s) - start))
    # One line per diagnostic, `file:line:col  level[code]: message`, then the units that failed.
    awk '/^error: could not compile/ { print "    " $0; next }
         /^(error|warning)(\[[A-Z0-9]+\])?: / { d = $0; next }
         /^ *--> / { if (d != "") { print $2 "  " d; d = "" } }' "$log" | awk '!seen[$0]++' >"$LOGS/$T.diag"
    errors=$(grep -c '^[^ ].*  error' "$LOGS/$T.diag")
    warnings=$(grep -c '^[^ ].*  warning' "$LOGS/$T.diag")
    # A warning fails too, as clippy -D warnings does on Linux: code under another OS's cfg is
    # as much broker's as the rest.
    if [ $rc -ne 0 ]; then
        result="FAILED (cargo exit $rc)"; status=1
    elif [ "$warnings" -gt 0 ]; then
        result="FAILED (warnings)"; status=1
    else
        result=ok
    fi
    line="$T ($way): $result, $errors error(s), $warnings warning(s), ${secs}s"
    summary+="$line"$'\n'
    echo "== $line"
    cat "$LOGS/$T.diag"
    if [ $rc -ne 0 ] && [ "$errors" -eq 0 ]; then
        echo "--- no compiler diagnostics found; the end of $log:"
        tail -25 "$log"
    fi
done
echo "cross-check: summary (logs in $LOGS)"
printf '%s' "$summary"
exit $status
