#!/usr/bin/env bash
# Try broker without AWS: a local moto stands in for IAM and STS, and enforces SigV4 signatures,
# IAM policies and role trust policies once the demo's account is set up.
#
# The demo makes an IAM user demo-user with an access key, a role demo-analyst that trusts the
# user, and a role demo-breakglass that trusts demo-analyst's sessions; stores the key with
# broker's file backend (the passphrase is the demo's own, "demo-passphrase"); then runs
#   broker exec demo-breakglass aws sts get-caller-identity
#   aws sts get-caller-identity --profile demo-cli   (credential_process = broker export ...)
#   broker list
# Everything happens in a temporary HOME/XDG tree, removed on exit with moto. Nothing touches
# your own AWS config, keychain or credentials, except the one item broker keeps in your kernel
# keyring (@u) as the session cache's key, as it always does on Linux.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

echo "demo.sh: 1/3 the Python venv of the local AWS stand-in (moto) and the AWS CLI" >&2
echo "demo.sh:     (pinned in tests/requirements.txt; the first run installs it, about a minute)" >&2
# The pinned Python venv (moto_server, aws), as scripts/test.sh makes it.
. scripts/venv.sh
py="$venv/bin/python"

# The broker binary: $BROKER_BIN, else the one installed on PATH, else the release build, else
# the debug build, else build one. The demo puts it on PATH as `broker`, so every command below
# runs, and is printed, as you would type it.
if [ -n "${BROKER_BIN:-}" ]; then
  broker=$BROKER_BIN
elif command -v broker >/dev/null; then
  broker=$(command -v broker)
elif [ -x target/release/broker ]; then
  broker=$root/target/release/broker
elif [ -x target/debug/broker ]; then
  broker=$root/target/debug/broker
else
  echo "demo.sh: 2/3 building broker (cargo build --release; the first build takes minutes)" >&2
  cargo build --release
  broker=$root/target/release/broker
fi
echo "demo.sh: 3/3 starting moto on 127.0.0.1 as IAM and STS, and a temporary HOME" >&2

tmp=$(mktemp -d -t broker-demo.XXXXXX)
moto_pid=
cleanup() {
  set +e
  if [ -n "$moto_pid" ]; then
    kill "$moto_pid" 2>/dev/null
    wait "$moto_pid" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A sealed environment: nothing of your own AWS or broker setup leaks in.
while read -r var; do unset "$var"; done < <(compgen -e | grep -E '^(AWS_|BROKER_)' || true)
mkdir -p "$tmp/home/.aws" "$tmp/config" "$tmp/data" "$tmp/state" "$tmp/cache" "$tmp/tmp" "$tmp/bin"
ln -s "$broker" "$tmp/bin/broker"
echo "demo.sh: broker is $broker"
export HOME="$tmp/home"
export XDG_CONFIG_HOME="$tmp/config" XDG_DATA_HOME="$tmp/data"
export XDG_STATE_HOME="$tmp/state" XDG_CACHE_HOME="$tmp/cache" TMPDIR="$tmp/tmp"
export AWS_CONFIG_FILE="$HOME/.aws/config" AWS_SHARED_CREDENTIALS_FILE="$HOME/.aws/credentials"
export PATH="$tmp/bin:$venv/bin:$PATH" # `broker` as chosen above; `aws` is the venv's AWS CLI
export BROKER_BACKEND=file
export BROKER_FILE_PASSPHRASE=demo-passphrase # a demo passphrase: never use one like it for real keys

bold= plain=
if [ -t 1 ]; then
  bold=$(tput bold 2>/dev/null || true)
  plain=$(tput sgr0 2>/dev/null || true)
fi
say() { printf '\n%s==> %s%s\n' "$bold" "$*" "$plain"; }
show() {
  printf '%s$ %s%s\n' "$bold" "$*" "$plain"
  "$@"
}

# The setup below makes exactly this many requests; moto enforces authentication after them.
setup_requests=7
say "Starting a local moto (IAM and STS), enforcing signatures and policies after the setup's $setup_requests requests"
INITIAL_NO_AUTH_ACTION_COUNT=$setup_requests start_server moto moto_server.py
export AWS_ENDPOINT_URL="http://127.0.0.1:$moto_port" # broker and the AWS CLI both talk to moto
echo "moto listens on $AWS_ENDPOINT_URL; AWS_ENDPOINT_URL points broker and aws at it"

say "Creating IAM user demo-user with an access key, and roles demo-analyst and demo-breakglass"
account=123456789012
admin() {
  AWS_ACCESS_KEY_ID=AKIAADMINDEMO0000000 AWS_SECRET_ACCESS_KEY=admin-secret \
    AWS_DEFAULT_REGION=us-east-1 aws --output json "$@"
}
policy() { # EFFECT-less one-statement policy: ACTION RESOURCE
  printf '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"%s","Resource":"%s"}]}' "$1" "$2"
}
trust() { # PRINCIPAL_ARN
  printf '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"%s"},"Action":"sts:AssumeRole"}]}' "$1"
}
admin iam create-user --user-name demo-user >/dev/null                                    # 1
admin iam create-access-key --user-name demo-user >"$tmp/key.json"                        # 2
admin iam create-role --role-name demo-analyst \
  --assume-role-policy-document "$(trust "arn:aws:iam::$account:user/demo-user")" >/dev/null # 3
# moto matches trust principals exactly: the session name is the one the config below sets.
admin iam create-role --role-name demo-breakglass \
  --assume-role-policy-document "$(trust "arn:aws:sts::$account:assumed-role/demo-analyst/demo")" >/dev/null # 4
admin iam put-user-policy --user-name demo-user --policy-name assume-analyst \
  --policy-document "$(policy sts:AssumeRole "arn:aws:iam::$account:role/demo-analyst")" # 5
admin iam put-role-policy --role-name demo-analyst --policy-name assume-breakglass \
  --policy-document "$(policy sts:AssumeRole "arn:aws:iam::$account:role/demo-breakglass")" # 6
# Real AWS needs no permission for GetCallerIdentity; moto wants one.
admin iam put-role-policy --role-name demo-breakglass --policy-name whoami \
  --policy-document "$(policy sts:GetCallerIdentity "*")" # 7
key_id=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["AccessKey"]["AccessKeyId"])' "$tmp/key.json")
key_secret=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["AccessKey"]["SecretAccessKey"])' "$tmp/key.json")
echo "user:  arn:aws:iam::$account:user/demo-user (access key $key_id)"
echo "roles: arn:aws:iam::$account:role/demo-analyst     trusts demo-user"
echo "       arn:aws:iam::$account:role/demo-breakglass  trusts demo-analyst's sessions named demo"

say "Writing the AWS config ($AWS_CONFIG_FILE)"
cat >"$AWS_CONFIG_FILE" <<EOF
[profile demo-user]
region = us-east-1

[profile demo-analyst]
role_arn = arn:aws:iam::$account:role/demo-analyst
source_profile = demo-user
role_session_name = demo
region = us-east-1

[profile demo-breakglass]
role_arn = arn:aws:iam::$account:role/demo-breakglass
source_profile = demo-analyst
role_session_name = demo
region = us-east-1

[profile demo-cli]
credential_process = broker export --format json demo-breakglass
region = us-east-1
EOF
cat "$AWS_CONFIG_FILE"

say "Storing demo-user's key with the file backend (BROKER_FILE_PASSPHRASE=$BROKER_FILE_PASSPHRASE, a demo passphrase)"
printf '%s$ AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=... broker add --env demo-user%s\n' "$bold" "$key_id" "$plain"
AWS_ACCESS_KEY_ID=$key_id AWS_SECRET_ACCESS_KEY=$key_secret broker add --env demo-user
echo "(the vault file is in $XDG_DATA_HOME/broker/vault, age-encrypted; the long-term key never goes to aws)"

say "Running the AWS CLI as demo-breakglass: demo-user -> demo-analyst -> demo-breakglass"
show broker exec demo-breakglass aws sts get-caller-identity

say "The AWS CLI on its own, through credential_process = broker export --format json demo-breakglass"
echo "(broker's encrypted session cache already holds demo-breakglass's session, so no STS call is made)"
show aws sts get-caller-identity --profile demo-cli --query Arn --output text

say "What broker holds"
show broker list

say "STS calls moto saw"
"$py" -c 'import json,sys,urllib.request; c=json.load(urllib.request.urlopen(sys.argv[1]+"/_broker_test/counts")); print(", ".join(f"{k}={c[k]}" for k in ("GetSessionToken","AssumeRole","GetCallerIdentity") if k in c))' "$AWS_ENDPOINT_URL"
echo
echo "Done. The temporary HOME, the file vault and moto are removed now."
echo
echo "Next: install broker (README: Install), write your profiles into ~/.aws/config and run"
echo "  broker add PROFILE       # your IAM user's key, into the OS keychain"
echo "  broker exec ROLE -- aws sts get-caller-identity"
echo "  broker doctor            # checks the setup, says what to fix"
echo "The guide: docs/ (start with docs/commands.md)."
