#!/usr/bin/env bash
# The one test command (README, .ci/run): installs what is missing on a fresh Debian machine,
# then runs cargo fmt --check, clippy with -D warnings, a check that a build without the
# `test-hooks` feature holds no test hook, and every test (built with that feature) against
# real parts (moto_server, the AWS CLI, a private D-Bus session with an unlocked
# gnome-keyring, the kernel keyring, the file vault, a syslog daemon, pass with a test GPG key,
# bash, zsh and fish, botocore, the AWS CLI and the JavaScript SDK). Prints the time of each
# phase at the end. Arguments go to both `cargo test` runs (a test name filter, say).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# 1. Debian packages, when we may install them.
missing=()
command -v gnome-keyring-daemon >/dev/null || missing+=(gnome-keyring)
command -v dbus-run-session >/dev/null || missing+=(dbus dbus-bin)
command -v keyctl >/dev/null || missing+=(keyutils)
command -v secret-tool >/dev/null || missing+=(libsecret-tools)
command -v hyperfine >/dev/null || missing+=(hyperfine)
command -v fish >/dev/null || missing+=(fish)
command -v zsh >/dev/null || missing+=(zsh)
command -v pass >/dev/null || missing+=(pass)
command -v gpg >/dev/null || missing+=(gnupg)
command -v npm >/dev/null || missing+=(nodejs npm)
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

# 2. The pinned Python venv (moto_server, aws), and the pinned JavaScript SDK of the
# --ec2-server tests (tests/js/package-lock.json).
. scripts/venv.sh
if ! cmp -s tests/js/package-lock.json tests/js/node_modules/.package-lock.json.installed; then
  echo "test.sh: installing tests/js's packages (npm ci)" >&2
  npm ci --prefix tests/js --silent --no-audit --no-fund
  cp tests/js/package-lock.json tests/js/node_modules/.package-lock.json.installed
fi

# Each phase is timed; the times are printed at the end, whether the run passed or not.
phases=()
phase() {
  local name=$1 started=$SECONDS status=0
  shift
  "$@" || status=$?
  phases+=("$name $((SECONDS - started))s")
  return "$status"
}
summary() {
  local status=$?
  echo "test.sh: ${phases[*]:-nothing ran}${phases:+, total ${SECONDS}s}" \
    "($([ "$status" = 0 ] && echo passed || echo "FAILED, exit $status"))" >&2
}
trap summary EXIT

# 3. Static checks: the tests' build (with the test suite's hooks) and the product's.
phase fmt cargo fmt --check
phase clippy cargo clippy --locked --all-targets --features test-hooks -- -D warnings
phase clippy-product cargo clippy --locked -- -D warnings

# 4. The product has no test hooks: a build without the feature holds none of their names.
no_hooks() {
  cargo build --locked --quiet --bin broker
  if grep -a -o 'BROKER_TEST_[A-Z_]*' target/debug/broker | sort -u | grep .; then
    echo "test.sh: the build without --features test-hooks holds the test hooks above" >&2
    return 1
  fi
}
phase no-hooks no_hooks

# 5. Every test, inside a private D-Bus session with its own unlocked gnome-keyring: the unit
# tests, then the integration tests (tests/cli), against the build with the hooks.
tests() {
  dbus-run-session -- "$root/scripts/with-keyring.sh" \
    cargo test --locked --features test-hooks "$@"
}
phase unit tests --lib "$@"
phase integration tests --test cli "$@"
