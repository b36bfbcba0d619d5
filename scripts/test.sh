#!/usr/bin/env bash
# The one test command (README, .ci/run): installs what is missing on a fresh Debian machine,
# starts a private D-Bus session with an unlocked gnome-keyring, then runs cargo fmt --check,
# clippy with -D warnings, and every test against real parts (moto_server, the AWS CLI, the
# Secret Service, the kernel keyring, the file vault, a syslog daemon).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# 1. Debian packages, when we may install them.
missing=()
command -v gnome-keyring-daemon >/dev/null || missing+=(gnome-keyring)
command -v dbus-run-session >/dev/null || missing+=(dbus dbus-bin)
command -v keyctl >/dev/null || missing+=(keyutils)
command -v hyperfine >/dev/null || missing+=(hyperfine)
command -v fish >/dev/null || missing+=(fish)
command -v curl >/dev/null || missing+=(curl)
command -v setpriv >/dev/null || missing+=(util-linux)
command -v rsyslogd >/dev/null || [ -x /usr/sbin/rsyslogd ] || missing+=(rsyslog)
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ]; then
    echo "test.sh: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "test.sh: missing ${missing[*]}: run 'sudo apt-get install ${missing[*]}'; tests needing them will fail" >&2
  fi
fi

# 2. The pinned Python venv (moto_server, aws).
. scripts/venv.sh

# 3. Static checks.
cargo fmt --check
cargo clippy --locked --all-targets -- -D warnings

# 4. Every test, inside a private D-Bus session with its own unlocked gnome-keyring.
exec dbus-run-session -- "$root/scripts/with-keyring.sh" cargo test --locked "$@"
