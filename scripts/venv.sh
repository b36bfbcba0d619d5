# Sourced by test.sh, bench.sh and demo.sh: makes sure the pinned Python venv of the test rig
# (tests/requirements.txt: moto, the AWS CLI, awsume) exists and is current, and sets $venv;
# defines start_server for the local stand-ins.
# Run from the repository root.
venv=${BROKER_TEST_VENV:-$(pwd)/.venv}
# Current means: the same pins (comments may differ).
pins() { grep -v '^[[:space:]]*#' "$1" 2>/dev/null; }
if ! cmp -s <(pins tests/requirements.txt) <(pins "$venv/.requirements"); then
  echo "creating the Python venv in $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/requirements.txt
  cp tests/requirements.txt "$venv/.requirements"
fi
export BROKER_TEST_VENV="$venv"

# start_server NAME SCRIPT: runs tests/SCRIPT with the venv's Python in the background, its
# output in $tmp/NAME.port and $tmp/NAME.log, and sets NAME_pid and NAME_port (the port it
# prints on its first line); exits the calling script when it does not start.
start_server() {
  local name=$1 script=$2 pid port
  "$venv/bin/python" "tests/$script" >"$tmp/$name.port" 2>"$tmp/$name.log" &
  pid=$!
  printf -v "${name}_pid" %s "$pid"
  for _ in $(seq 1 300); do
    [ -s "$tmp/$name.port" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$tmp/$name.log" >&2; exit 1; }
    sleep 0.1
  done
  port=$(head -n1 "$tmp/$name.port")
  [ -n "$port" ] || { echo "tests/$script did not start" >&2; cat "$tmp/$name.log" >&2; exit 1; }
  printf -v "${name}_port" %s "$port"
}
