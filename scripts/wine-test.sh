#!/usr/bin/env bash
# wine-test.sh — build broker and its tests for Windows (x86_64-pc-windows-gnu) on this Linux
# machine and run them under Wine: the unit tests, then the integration tests (tests/cli)
# against the Windows broker.exe, with moto and the SSO stand-in running on the Linux side.
# CI runs it from .ci/run after the cross-check.
#
# Usage:  scripts/wine-test.sh [TESTNAME-FILTER ...]    (the filters go to both test binaries)
#
# What it needs, and installs when run as root on Debian (else it says what to install):
#   * wine64 (Debian's, 8.0 on bookworm): runs the .exe files; no 32-bit Wine, no X display.
#   * what scripts/toolchain.sh needs (apt's rustc-web and rust-web-src unless rustup has the
#     target's standard library, rustup's nightly cargo, python3-venv for zig), cached with
#     scripts/cross-check.sh in $BROKER_CROSS_CHECK_HOME (default ~/.cache/broker-cross-check);
#   * the test venv of scripts/test.sh (tests/requirements.txt), for moto and the stand-in.
#
# Steps:
#   1. Builds the library's unit tests and tests/cli (with `--features test-hooks`, as
#      scripts/test.sh does, and no debug info) for x86_64-pc-windows-gnu with the tools of
#      scripts/toolchain.sh: Debian's rustc-web and `cargo -Zbuild-std`, C compiled and the
#      binaries linked by zig (`zig cc -target x86_64-windows-gnu`). The cargo target dir is the
#      cross-check's, so the standard library and dependencies are built once for both.
#   2. Prepares the Wine prefix: $WINEPREFIX when set, else one of its own in the cache
#      ($BROKER_CROSS_CHECK_HOME/wine). Rust's standard library needs `ProcessPrng` from
#      bcryptprimitives.dll, which Wine 8.0 lacks (a program then exits with status 53 and
#      says nothing): when the prefix has no such DLL, a stand-in of a dozen lines over
#      advapi32's SystemFunction036 (RtlGenRandom), compiled by zig, goes into its system32.
#      The prefix stays ready: the broker.exe tested runs by hand in it afterwards.
#   3. Starts tests/rig_server.py on the Linux side (a Windows process under Wine can start a
#      Linux program but not read its pipes or wait for it) and names it to the tests in
#      BROKER_TEST_RIG: each test asks it for a fresh moto or SSO stand-in of its own.
#   4. Runs both test binaries with `cargo test`, Wine as the target's runner
#      (CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER). The tests that cannot work under Wine are
#      skipped by name, each with its reason, listed before the run (see SKIPS below).
#
# Output: cargo's, then one summary line per test binary on stderr. The last line on stdout
# is the path of the broker.exe the integration tests ran. Exit status: 0 when every test
# passed, 1 when one failed, 2 when the tools could not be set up.
#
# Environment: WINEPREFIX (above); BROKER_CROSS_CHECK_HOME, BROKER_CROSS_CHECK_NICE (default
# 10), BROKER_CROSS_CHECK_JOBS and BROKER_CROSS_CHECK_TOOLCHAIN as for cross-check.sh;
# BROKER_TEST_VENV as for test.sh.
set -uo pipefail

die() { echo "wine-test: $*" >&2; exit 2; }

cd "$(dirname "$0")/.." || die "no checkout"
SRC=$(pwd)
T=x86_64-pc-windows-gnu

# Tests that cannot work under Wine, whatever broker does; they run on Windows itself (the
# GitHub workflow). `NAME|REASON`, NAME as cargo test prints it.
SKIPS=(
    "vault::file_vault_is_private_and_encrypted|Wine's icacls is a stub: it cannot save a file's ACL, so the owner-only ACL cannot be read back"
)

# ------------------------------------------------------------- 1. Debian packages
WINE=${BROKER_WINE:-}
find_wine() {
    local w
    for w in /usr/lib/wine/wine64 "$(command -v wine64 2>/dev/null)" "$(command -v wine 2>/dev/null)"; do
        [ -n "$w" ] && [ -x "$w" ] && { echo "$w"; return; }
    done
}
[ -n "$WINE" ] || WINE=$(find_wine)
missing=()
[ -n "$WINE" ] || missing+=(wine64)
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
if ((${#missing[@]})); then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "wine-test: installing ${missing[*]}" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
            || die "apt-get install ${missing[*]} failed"
        WINE=$(find_wine)
    fi
    [ -n "$WINE" ] || die "no Wine: run 'sudo apt-get install wine64' (Debian) and try again"
fi

# ------------------------------------------------------------- 2. the tools and the build
NICE=${BROKER_CROSS_CHECK_NICE:-10}
. scripts/toolchain.sh
if [ "$(route "$T")" = build-std ]; then
    setup_debian_rustc
    cargo=(cargo +"$TOOLCHAIN" test -Zbuild-std=std,panic_abort)
    compiler=(env RUSTC="$BIN/rustc" RUSTC_BOOTSTRAP=1)
else
    cargo=(cargo test)
    compiler=(env)
fi
setup_zig
setup_windows_gnu_linker "$T"
# No debug info: it would triple the link time and the size of what Wine maps.
export CARGO_TARGET_DIR=$HOME_DIR/target PATH="$HOME_DIR/path:$PATH" CARGO_PROFILE_DEV_DEBUG=0
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS RUSTC_WRAPPER RUSTC_WORKSPACE_WRAPPER RUSTC RUSTC_BOOTSTRAP
cargo_test() {
    "${compiler[@]}" nice -n "$NICE" "${cargo[@]}" --target "$T" --manifest-path "$SRC/Cargo.toml" \
        --locked --features test-hooks ${BROKER_CROSS_CHECK_JOBS:+-j "$BROKER_CROSS_CHECK_JOBS"} "$@"
}
echo "wine-test: building for $T ..." >&2
build_start=$SECONDS
cargo_test --no-run --lib --test cli >&2 || die "the build for $T failed"
echo "wine-test: built in $((SECONDS - build_start))s" >&2
exe=$CARGO_TARGET_DIR/$T/debug/broker.exe
[ -f "$exe" ] || die "no $exe after the build"

# ------------------------------------------------------------- 3. the Wine prefix
export WINEPREFIX=${WINEPREFIX:-$HOME_DIR/wine} WINEDEBUG=${WINEDEBUG:--all}
wineserver=$(dirname "$WINE")/wineserver
[ -x "$wineserver" ] || wineserver=$(command -v wineserver) || die "no wineserver beside $WINE"
if [ ! -f "$WINEPREFIX/system.reg" ]; then
    echo "wine-test: making the Wine prefix $WINEPREFIX ..." >&2
    mkdir -p "$WINEPREFIX" || die "cannot create $WINEPREFIX"
    "$WINE" wineboot --init >/dev/null 2>&1
    "$wineserver" --wait
    [ -f "$WINEPREFIX/system.reg" ] || die "wineboot did not make the prefix $WINEPREFIX"
fi
system32=$WINEPREFIX/drive_c/windows/system32
if [ ! -f "$system32/bcryptprimitives.dll" ]; then
    echo "wine-test: installing a bcryptprimitives.dll stand-in (ProcessPrng) in $system32" >&2
    work=$(mktemp -d) || die "mktemp failed"
    cat >"$work/bcryptprimitives.c" <<'EOF'
/* ProcessPrng, which Rust's std calls for random bytes, over RtlGenRandom. */
#include <windows.h>
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG n = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, n)) return FALSE;
        data += n;
        length -= n;
    }
    return TRUE;
}
EOF
    "$VENV/bin/python3" -m ziglang cc -target x86_64-windows-gnu -shared -O2 -s \
        -o "$work/bcryptprimitives.dll" "$work/bcryptprimitives.c" -ladvapi32 \
        && cp "$work/bcryptprimitives.dll" "$system32/" || die "cannot build bcryptprimitives.dll"
    rm -rf "$work"
fi
"$WINE" "$exe" --version >/dev/null 2>&1 || die "$exe does not run under $WINE (prefix $WINEPREFIX)"

# ------------------------------------------------------------- 4. the Linux side of the rig
. scripts/venv.sh
coproc RIG { exec "$venv/bin/python" tests/rig_server.py --wine-prefix "$WINEPREFIX"; }
read -r -t 60 rig_port <&"${RIG[0]}" || die "tests/rig_server.py did not start"
[[ $rig_port =~ ^[0-9]+$ ]] || die "tests/rig_server.py did not start: $rig_port"
export BROKER_TEST_RIG=http://127.0.0.1:$rig_port

# ------------------------------------------------------------- 5. the tests
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=$WINE
# A snapshot that differs fails the test without writing a .snap.new into the checkout.
export INSTA_UPDATE=no
skip_args=()
echo "wine-test: skipped under Wine:" >&2
for s in "${SKIPS[@]}"; do
    echo "  ${s%%|*}: ${s#*|}" >&2
    skip_args+=(--skip "${s%%|*}")
done
status=0
summary=()
for what in --lib "--test cli"; do
    log=$(mktemp) || die "mktemp failed"
    # shellcheck disable=SC2086 # $what is two words on purpose
    cargo_test $what -- "${skip_args[@]}" "$@" 2>&1 | tee "$log"
    [ "${PIPESTATUS[0]}" = 0 ] || status=1
    result=$(grep '^test result:' "$log" | tail -1)
    summary+=("${what#--test }: ${result:-no result (see above)}")
    rm -f "$log"
done
for line in "${summary[@]}"; do echo "wine-test: $line" >&2; done
exec {RIG[1]}>&-
echo "$exe"
exit $status
