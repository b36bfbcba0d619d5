#!/usr/bin/env bash
# Runs a command with a private, unlocked gnome-keyring on the current D-Bus session bus. The
# keyring's files live in a temporary directory, never in the user's own keyrings. Meant to run
# inside `dbus-run-session`.
set -euo pipefail
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  echo "with-keyring.sh: no D-Bus session; run it as: dbus-run-session -- $0 CMD..." >&2
  exit 1
fi
keyring_home=$(mktemp -d)
# The daemon exits by itself when dbus-run-session closes the bus.
trap 'rm -rf "$keyring_home"' EXIT
mkdir -p "$keyring_home/data" "$keyring_home/run"
chmod 700 "$keyring_home/run"
# A password creates and unlocks the default ("login") collection; it protects only test items.
printf 'broker-test-keyring' | HOME=$keyring_home XDG_DATA_HOME=$keyring_home/data \
  XDG_RUNTIME_DIR=$keyring_home/run gnome-keyring-daemon --unlock --components=secrets >/dev/null
"$@"
