# Sourced by test.sh, bench.sh and demo.sh: makes sure the pinned Python venv of the test rig
# (tests/requirements.txt: moto, the AWS CLI, awsume) exists and is current, and sets $venv.
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
