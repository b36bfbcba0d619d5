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
# The tools come from scripts/toolchain.sh: per target, rustup's standard library when that
# target is installed, else Debian's rustc-web with `cargo -Zbuild-std`; C code (ring) compiled
# by zig: its bundled macOS libc headers for macOS, its mingw headers for both Windows targets.
# There are no MSVC headers on Linux; mingw's are good enough for `cargo check`, which never
# links those objects. x86_64 Windows assembly comes prebuilt with ring.
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

NICE=${BROKER_CROSS_CHECK_NICE:-10}
. scripts/toolchain.sh
LOGS=$HOME_DIR/logs
TARGET_DIR=$HOME_DIR/target
mkdir -p "$LOGS" || die "cannot create $LOGS"

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
