#!/usr/bin/env bash
# Builds a Debian package of broker and prints its path as the last line, like
# scripts/build-release.sh: the release binary that script builds (its TARGET and CARGO-ARGS
# are this script's arguments; on x86_64 Linux the default is the static musl PIE), the man
# pages of man/ (gzipped, in /usr/share/man/man1), the completions of completions/ for bash,
# zsh and fish where those shells look for a package's, and the licence. Needs dpkg-deb
# (Debian: dpkg) and gzip. The package is written to target/debian/.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v dpkg-deb >/dev/null || { echo "package-deb: needs dpkg-deb (apt-get install dpkg)" >&2; exit 2; }
bin=$(scripts/build-release.sh "$@" | tail -n1)
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
arch=$(dpkg --print-architecture)
root=$(mktemp -d -t broker-deb.XXXXXX)
trap 'rm -rf "$root"' EXIT

install -D -m 755 "$bin" "$root/usr/bin/broker"
install -d "$root/usr/share/man/man1"
for page in man/*.1; do
  gzip -9n <"$page" >"$root/usr/share/man/man1/$(basename "$page").gz"
done
install -D -m 644 completions/broker.bash "$root/usr/share/bash-completion/completions/broker"
install -D -m 644 completions/_broker "$root/usr/share/zsh/vendor-completions/_broker"
install -D -m 644 completions/broker.fish "$root/usr/share/fish/vendor_completions.d/broker.fish"
install -D -m 644 LICENSE "$root/usr/share/doc/broker/copyright"
install -d "$root/DEBIAN"
cat >"$root/DEBIAN/control" <<END
Package: broker
Version: $version
Architecture: $arch
Maintainer: broker maintainers <broker@users.noreply.github.com>
Section: utils
Priority: optional
Installed-Size: $(du -sk "$root/usr" | cut -f1)
Description: AWS credential broker: keys in the OS keychain, short-lived credentials out
 broker keeps long-term IAM user keys in the operating system's keychain, gets short-lived
 credentials from STS (roles chained through source_profile, one MFA prompt per session,
 IAM Identity Center), caches them encrypted, and hands them to the programs you run: exec,
 export (credential_process), console login; with an audit trail and break-glass policy.
END
mkdir -p target/debian
deb="target/debian/broker_${version}_${arch}.deb"
dpkg-deb --root-owner-group --build "$root" "$deb" >/dev/null
echo "$deb"
