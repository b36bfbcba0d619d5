#!/usr/bin/env bash
# Builds the Debian package (scripts/package-deb.sh, with this script's arguments) and checks
# it the way a user gets it: as root, installed with dpkg -i (and removed again), else
# unpacked with dpkg-deb -x into a temporary root; then `broker --version` of the installed
# binary, `man -w broker` finding its page (man-db, installed as root when missing), and the
# bash, zsh and fish completions in place. .ci/run runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
deb=$(scripts/package-deb.sh "$@" | tail -n1)
echo "deb-smoke: checking $deb" >&2
if [ "$(id -u)" = 0 ]; then
  command -v man >/dev/null || {
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends man-db >/dev/null
  }
  dpkg -i "$deb" >/dev/null
  trap 'dpkg -r broker >/dev/null' EXIT
  prefix=
else
  prefix=$(mktemp -d -t broker-deb-root.XXXXXX)
  trap 'rm -rf "$prefix"' EXIT
  dpkg-deb -x "$deb" "$prefix"
fi
fail() { echo "deb-smoke: $*" >&2; exit 1; }
version=$("$prefix/usr/bin/broker" --version) || fail "broker --version failed"
[ "$version" = "broker $(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)" ] ||
  fail "broker --version says: $version"
if [ -z "$prefix" ]; then
  man -w broker >/dev/null || fail "man -w broker finds no page"
else
  [ -s "$prefix/usr/share/man/man1/broker.1.gz" ] || fail "no man page broker.1.gz"
fi
for f in usr/share/bash-completion/completions/broker usr/share/zsh/vendor-completions/_broker \
  usr/share/fish/vendor_completions.d/broker.fish usr/share/man/man1/broker-exec.1.gz; do
  [ -s "$prefix/$f" ] || fail "missing /$f"
done
echo "deb-smoke: $deb installs broker ($version), its man pages and completions" >&2
