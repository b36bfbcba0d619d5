# shellcheck shell=bash
# Sourced by cross-check.sh and build-release.sh: the tools for building broker for a target
# whose standard library rustup cannot download here, with its C code (ring, libdbus) compiled
# by zig. The caller defines `die MESSAGE` and runs from the repository root.
#
# Two routes per Rust target:
#   * rustup: when `rustup target list --installed` lists the target, the active toolchain's
#     cargo and its prebuilt standard library are used.
#   * build-std: otherwise (rustup cannot download targets on machines that only reach the
#     package registries). Debian's `rustc-web` (a full rustc with every LLVM target) and its
#     matching `rust-web-src` are fetched with `apt-get download` and unpacked with
#     `dpkg-deb -x` into the cache (nothing is installed system-wide); the target's std is
#     compiled from those exact sources with `cargo -Zbuild-std` (RUSTC_BOOTSTRAP=1), using
#     rustup's nightly cargo (any recent cargo would do) pointed at that rustc.
# On both routes C is compiled by `zig cc` (PyPI `ziglang`) through `cargo-zigbuild zig cc`
# (PyPI `cargo-zigbuild`, which filters flags zig does not know), from a venv in the cache.
#
# The cache is $BROKER_CROSS_CHECK_HOME (default ${XDG_CACHE_HOME:-~/.cache}/broker-cross-check):
# the Debian compiler (~140 MB of .debs), the venv and wrappers. BROKER_CROSS_CHECK_TOOLCHAIN
# names the rustup toolchain whose cargo drives build-std (default nightly).

HOME_DIR=${BROKER_CROSS_CHECK_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/broker-cross-check}
TOOLCHAIN=${BROKER_CROSS_CHECK_TOOLCHAIN:-nightly}
DEB=$HOME_DIR/deb
BIN=$HOME_DIR/bin
VENV=$HOME_DIR/venv
# Pinned, so that every run compiles C with the same compiler.
ZIG_PACKAGES=(ziglang==0.17.1 cargo-zigbuild==0.24.1)
mkdir -p "$BIN" "$HOME_DIR/path" || die "cannot create $HOME_DIR"

[ "$(uname -sm)" = "Linux x86_64" ] || die "runs on Linux x86_64 (this is $(uname -sm))"

installed_targets=$(rustup target list --installed 2>/dev/null || true)
route() {  # rustup | build-std
    if grep -qx "$1" <<<"$installed_targets"; then echo rustup; else echo build-std; fi
}

zig_target() {  # the zig -target for C code of a Rust target
    case "$1" in
        aarch64-apple-darwin) echo aarch64-macos-none ;;
        x86_64-apple-darwin) echo x86_64-macos-none ;;
        x86_64-pc-windows-gnu | x86_64-pc-windows-msvc) echo x86_64-windows-gnu ;;
        aarch64-pc-windows-msvc) echo aarch64-windows-gnu ;;
        x86_64-unknown-linux-musl) echo x86_64-linux-musl ;;
        x86_64-unknown-linux-gnu) echo x86_64-linux-gnu ;;  # the host: exercises the rustup route
        *) return 1 ;;
    esac
}

# ------------------------------------------------------------- the Debian compiler (build-std)
setup_debian_rustc() {
    if [ ! -x "$DEB/usr/bin/rustc" ] || [ ! -f "$DEB/usr/lib/rustlib/src/rust/library/Cargo.lock" ]; then
        echo "${0##*/}: fetching Debian rustc-web and rust-web-src (apt-get download) ..." >&2
        command -v apt-get >/dev/null \
            || die "needs Debian's apt for rustc-web, or rustup's standard library of the target"
        candidate() { apt-cache policy rustc-web 2>/dev/null | awk '/Candidate:/{print $2}'; }
        ver=$(candidate || true)
        if { [ -z "$ver" ] || [ "$ver" = "(none)" ]; } && [ "$(id -u)" = 0 ]; then
            apt-get update -qq >&2 || die "apt-get update failed"
            ver=$(candidate || true)
        fi
        [ -n "$ver" ] && [ "$ver" != "(none)" ] \
            || die "apt knows no rustc-web (it is in bookworm-security); run apt-get update"
        mm=$(sed -E 's/^([0-9]+\.[0-9]+).*/\1/' <<<"$ver")
        llvm=$(apt-cache show "libstd-rust-web-$mm=$ver" | sed -n 's/^Depends: //p' | head -1 \
            | tr ',' '\n' | grep -o 'libllvm[0-9]*' | head -1 || true)
        [ -n "$llvm" ] || die "cannot find the libllvm that libstd-rust-web-$mm=$ver needs"
        rm -rf "$HOME_DIR/debs" "$DEB"
        mkdir -p "$HOME_DIR/debs" "$DEB"
        (cd "$HOME_DIR/debs" && apt-get download -q "rustc-web=$ver" "libstd-rust-web-$mm=$ver" \
            "libstd-rust-web-dev=$ver" "rust-web-src=$ver" "$llvm") >&2 || die "apt-get download failed"
        for f in "$HOME_DIR"/debs/*.deb; do dpkg-deb -x "$f" "$DEB" || die "dpkg-deb -x $f failed"; done
        rm -rf "$HOME_DIR/debs"
    fi
    cat >"$BIN/rustc" <<EOS
#!/bin/sh
LD_LIBRARY_PATH=$DEB/usr/lib/x86_64-linux-gnu\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH} exec $DEB/usr/bin/rustc "\$@"
EOS
    chmod +x "$BIN/rustc"
    "$BIN/rustc" -V >/dev/null || die "the unpacked rustc does not run"
    cargo +"$TOOLCHAIN" -V >/dev/null 2>&1 || die "no rustup toolchain '$TOOLCHAIN' for its cargo"
}

# ------------------------------------------------------------- zig as the C compiler
setup_zig() {
    if [ ! -x "$VENV/bin/cargo-zigbuild" ] || ! "$VENV/bin/python3" -c 'import ziglang' 2>/dev/null \
        || ! "$VENV/bin/pip" freeze 2>/dev/null | grep -qx "${ZIG_PACKAGES[0]}"; then
        echo "${0##*/}: making $VENV with ${ZIG_PACKAGES[*]} (pip) ..." >&2
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

# ------------------------------------------------------------- linking for windows-gnu
# wine-test.sh and build-release.sh link Windows binaries with `zig cc` (its mingw-w64). The
# target's late link arguments ask for mingw's stack-protector libraries (-lssp_nonshared
# -lssp), which zig does not ship and nothing here needs (zig's mingw has the __*_chk
# functions): two empty archives satisfy the linker. Sets CARGO_TARGET_<T>_LINKER and the C
# compiler variables of target $1 in the environment.
setup_windows_gnu_linker() {
    local t=$1 tv=${1//-/_} zt
    zt=$(zig_target "$t") || die "no C target known for $t"
    mkdir -p "$HOME_DIR/ssp" || die "cannot create $HOME_DIR/ssp"
    for lib in ssp ssp_nonshared; do
        [ -f "$HOME_DIR/ssp/lib$lib.a" ] || "$BIN/llvm-ar" rc "$HOME_DIR/ssp/lib$lib.a" \
            || die "cannot make the empty lib$lib.a"
    done
    c_wrapper "zigcc-$t" cc "$zt"
    c_wrapper "zigcxx-$t" c++ "$zt"
    cat >"$BIN/zigld-$t" <<EOS
#!/bin/sh
exec $VENV/bin/cargo-zigbuild zig cc -- -target $zt -L $HOME_DIR/ssp "\$@"
EOS
    chmod +x "$BIN/zigld-$t"
    export "CC_$tv=$BIN/zigcc-$t" "CXX_$tv=$BIN/zigcxx-$t" "AR_$tv=$BIN/llvm-ar" \
        "RANLIB_$tv=$BIN/llvm-ranlib" "CARGO_TARGET_${tv^^}_LINKER=$BIN/zigld-$t"
}
