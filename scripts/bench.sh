#!/usr/bin/env bash
# Benchmarks broker against a local moto (no AWS account needed) and prints a table of medians
# and the performance targets: warm `broker export` within 2x a bare process (/bin/true, timed
# in the same hyperfine run), also with 50 profiles in the AWS config and 500 records in the
# audit log, and of an IAM Identity Center (SSO) profile; `broker exec r2 -- /bin/true` within
# 2x /bin/true of /bin/true itself; peak RSS <= 8 MiB; broker's own cold time <= 30 ms;
# `broker prompt` (for shell prompts) <= 5 ms.
#
# What it does: builds the release binary (scripts/build-release.sh), starts
# tests/moto_server.py from the test venv, makes an IAM user `alice` and a two-role chain
# (profiles bench-alice -> r1 -> r2) in moto, stores alice's key with the keyutils backend (the
# Linux kernel keyring), signs in to SSO session bench-sso on tests/sso_server.py (the test
# stand-in for IAM Identity Center, tests/sso_browser.py playing the browser), and times with
# hyperfine:
#   floor (/bin/true) with `broker --version` (the start-up of the binary alone) and broker
#   export warm (of r2 and of the SSO profile), the same with the 50-profile config and
#   500-line audit log, broker export cold, the AWS CLI doing the same job warm and cold,
#   awsume doing the same job, broker exec overhead, and broker's peak RSS; then the median
#   time of each phase of a warm export from BROKER_TRACE_TIMING=1 (microseconds and page
#   faults per phase).
# BENCH_BASELINE=/path/to/another/broker adds that binary's warm export to the same hyperfine
# runs (a before/after comparison; build it from another commit first).
# Everything lives in a temporary HOME/XDG tree that is removed on exit, with moto, the
# stand-in and the keyutils items. keyutils items are per user, not per HOME, hence the
# unusual names bench-alice and bench-sso; the script refuses to run if keys of bench-alice
# are already stored. moto does not enforce authentication here (INITIAL_NO_AUTH_ACTION_COUNT
# unset).
# Takes about 3 minutes on 2 cores, after the build (the first one fetches the tools for the
# musl build: see scripts/build-release.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# 1. hyperfine, when we may install it.
if ! command -v hyperfine >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    echo "bench.sh: installing hyperfine" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends hyperfine >/dev/null
  else
    echo "bench.sh: hyperfine is missing: run 'sudo apt-get install hyperfine'" >&2
    exit 1
  fi
fi

# 2. The pinned Python venv (moto_server, aws, awsume), as scripts/test.sh makes it.
. scripts/venv.sh
py="$venv/bin/python"

# 3. The release binary, copied so that a rebuild during the run cannot change what is timed.
echo "bench.sh: scripts/build-release.sh" >&2
built=$(scripts/build-release.sh)
tmp=$(mktemp -d -t broker-bench.XXXXXX)
broker="$tmp/bin/broker"
mkdir -p "$tmp/bin"
cp "$built" "$broker"

moto_pid=
sso_pid=
added_keys=
signed_in=
cleanup() {
  set +e
  if [ -n "$added_keys" ]; then
    "$broker" remove --force bench-alice >/dev/null 2>&1
  fi
  if [ -n "$signed_in" ]; then
    "$broker" sso logout bench-sso >/dev/null 2>&1
  fi
  for pid in $moto_pid $sso_pid; do
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 4. A sealed environment: nothing of the user's own AWS, broker or awsume setup leaks in.
while read -r var; do unset "$var"; done < <(compgen -e | grep -E '^(AWS_|BROKER_|AWSUME_)' || true)
mkdir -p "$tmp/home/.aws" "$tmp/config" "$tmp/data" "$tmp/state" "$tmp/cache" "$tmp/tmp" "$tmp/out"
export HOME="$tmp/home"
export XDG_CONFIG_HOME="$tmp/config" XDG_DATA_HOME="$tmp/data"
export XDG_STATE_HOME="$tmp/state" XDG_CACHE_HOME="$tmp/cache" TMPDIR="$tmp/tmp"
export AWS_CONFIG_FILE="$HOME/.aws/config" AWS_SHARED_CREDENTIALS_FILE="$HOME/.aws/credentials"
export BROKER_BACKEND=keyutils
export PATH="$venv/bin:$PATH"
aws="$venv/bin/aws"

# 5. moto, and the IAM Identity Center stand-in (tests/sso_server.py) for an SSO profile.
start_server moto moto_server.py
start_server sso sso_server.py
export AWS_ENDPOINT_URL="http://127.0.0.1:$moto_port"
export AWS_ENDPOINT_URL_SSO_OIDC="http://127.0.0.1:$sso_port" AWS_ENDPOINT_URL_SSO="http://127.0.0.1:$sso_port"
echo "bench.sh: moto on $AWS_ENDPOINT_URL, the SSO stand-in on port $sso_port" >&2

# The measuring helper: moto snapshots, hyperfine JSON, the final table.
cat >"$tmp/bench.py" <<'PY'
import json, os, resource, subprocess, sys

out = os.environ["BENCH_OUT"]
results_file = os.path.join(out, "results.jsonl")

def moto(path):
    import urllib.request  # here, so that `rss` runs in a smaller Python
    with urllib.request.urlopen(os.environ["AWS_ENDPOINT_URL"] + path) as r:
        return json.load(r)

def snap(name):
    with open(os.path.join(out, name), "w") as f:
        json.dump({"counts": moto("/_broker_test/counts"), "timings": moto("/_broker_test/timings")}, f)

def load(name):
    with open(os.path.join(out, name)) as f:
        return json.load(f)

STS = ("AssumeRole", "GetSessionToken", "GetCallerIdentity", "AssumeRoleWithWebIdentity")

def record(key, label, hyperfine_json, before, after, invocations, index=0, floor=None):
    """One hyperfine result; `floor`: the key of the /bin/true timed in the same run."""
    r = json.load(open(hyperfine_json))["results"][int(index)]
    b, a = load(before), load(after)
    n = int(invocations)
    calls = {k: (a["counts"].get(k, 0) - b["counts"].get(k, 0)) / n for k in STS}
    moto_s = {k: (a["timings"].get(k, 0.0) - b["timings"].get(k, 0.0)) / n for k in STS}
    row = {"key": key, "label": label, "median": r["median"] * 1e3, "mean": r["mean"] * 1e3,
           "stddev": (r["stddev"] or 0) * 1e3, "runs": len(r["times"]),
           "calls": {k: v for k, v in calls.items() if v},
           "moto_ms": {k: v * 1e3 for k, v in moto_s.items() if v}, "floor": floor}
    with open(results_file, "a") as f:
        f.write(json.dumps(row) + "\n")

def rss(n, *cmd):
    """Peak RSS (KiB) of `cmd`, two ways: RUSAGE_CHILDREN in this Python, and GNU time."""
    for _ in range(int(n)):
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    gnu = None
    if os.path.exists("/usr/bin/time"):
        gnu = 0
        for _ in range(int(n)):
            p = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            gnu = max(gnu, int(p.stderr.strip().splitlines()[-1]))
    floor = None
    if gnu is not None:
        p = subprocess.run(["/usr/bin/time", "-f", "%M", "/bin/true"], check=True,
                           stderr=subprocess.PIPE, text=True)
        floor = int(p.stderr.strip().splitlines()[-1])
    with open(os.path.join(out, "rss.json"), "w") as f:
        json.dump({"runs": int(n), "children": children, "python_self": own, "gnu_time": gnu,
                   "gnu_true": floor}, f)

def phases(n, *cmd):
    """Median microseconds and page faults per phase of `cmd` under BROKER_TRACE_TIMING=1."""
    import re, statistics
    env = dict(os.environ, BROKER_TRACE_TIMING="1")
    line = re.compile(r"^broker: timing: (.+?) (\d+) µs(?: (\d+) faults)?$")
    times, faults, order = {}, {}, []
    for _ in range(int(n)):
        p = subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
        for text in p.stderr.splitlines():
            m = line.match(text)
            if m:
                name = m.group(1)
                if name not in order:
                    order.append(name)
                times.setdefault(name, []).append(int(m.group(2)))
                faults.setdefault(name, []).append(int(m.group(3) or 0))
    with open(os.path.join(out, "phases.json"), "w") as f:
        json.dump({"runs": int(n), "order": order,
                   "us": {k: statistics.median(v) for k, v in times.items()},
                   "faults": {k: statistics.median(v) for k, v in faults.items()}}, f)

def table(aws_note, awsume_note, exec_note):
    rows = {}
    for line in open(results_file):
        row = json.loads(line)
        rows[row["key"]] = row
    base = rows["warm"]["median"]
    def floor_of(row):
        return rows[row["floor"] or "floor"]["median"]
    def calls(row):
        return " ".join(f"{k}={v:g}" for k, v in row["calls"].items()) or "-"
    print()
    print(f"{'benchmark':<50} {'median ms':>9} {'mean±σ ms':>13} {'runs':>4} {'×warm':>7} {'×floor':>7}  STS calls/run")
    print("-" * 112)
    for key in ["floor", "version", "warm", "sso", "baseline", "floor_big", "warm_big", "baseline_big",
                "cold", "aws_warm", "aws_cold", "awsume", "exec_true", "exec", "baseline_exec"]:
        if key not in rows:
            continue
        r = rows[key]
        ms = f"{r['mean']:.2f}±{r['stddev']:.2f}"
        print(f"{r['label']:<50} {r['median']:>9.3f} {ms:>13} {r['runs']:>4} "
              f"{r['median'] / base:>6.2f}x {r['median'] / floor_of(r):>6.2f}x  {calls(r)}")
    print("(×floor: against the /bin/true of the same hyperfine run)")
    p = json.load(open(os.path.join(out, "phases.json")))
    print()
    print(f"phases of a warm `broker export --format json r2` (BROKER_TRACE_TIMING=1, median of "
          f"{p['runs']} runs; from the start of main, so without exec and the dynamic loader):")
    for name in p["order"]:
        print(f"  {name:<16} {p['us'][name]:>7.0f} µs {p['faults'][name]:>5.0f} page faults")
    print()
    cold = rows["cold"]
    moto_cold = sum(v for k, v in cold["moto_ms"].items() if k != "GetCallerIdentity")
    own = cold["median"] - moto_cold
    print(f"cold broker export: median {cold['median']:.2f} ms, of which moto's handlers "
          f"{moto_cold:.2f} ms/run (" + ", ".join(f"{k} {v:.2f}" for k, v in cold["moto_ms"].items()) +
          f") -> broker's own time {own:.2f} ms")
    print("  (broker's own time still includes loopback HTTP and werkzeug's request handling "
          "outside moto's handler)")
    for key in ("aws_warm", "aws_cold"):
        if key in rows and rows[key]["moto_ms"]:
            r = rows[key]
            print(f"{r['label'].strip()}: moto handler time/run " +
                  ", ".join(f"{k} {v:.2f} ms" for k, v in r["moto_ms"].items()))
    for note in (aws_note, awsume_note, exec_note):
        if note:
            print(note)
    overhead = None
    if "exec" in rows and "exec_true" in rows:
        overhead = rows["exec"]["median"] - rows["exec_true"]["median"]
        print(f"exec overhead: {overhead:.3f} ms (median of `broker exec r2 -- /bin/true` minus "
              f"median of `/bin/true`, same hyperfine run) = "
              f"{overhead / rows['exec_true']['median']:.2f}x /bin/true")
    r = json.load(open(os.path.join(out, "rss.json")))
    print(f"peak RSS of warm `broker export --format json r2` over {r['runs']} runs: "
          f"RUSAGE_CHILDREN {r['children'] / 1024:.1f} MiB (Python's own peak is "
          f"{r['python_self'] / 1024:.1f} MiB and Linux carries a parent's peak into its child across "
          f"exec, so this is max(broker, python))" +
          (f"; GNU time: {r['gnu_time'] / 1024:.1f} MiB (/bin/true under GNU time: "
           f"{r['gnu_true'] / 1024:.1f} MiB)" if r["gnu_time"] is not None else ""))
    peak = r["gnu_time"] if r["gnu_time"] is not None else r["children"]
    print()
    print("targets:")
    def target(name, value, limit, unit):
        if value is None:
            print(f"  {name:<36} {'n/a':>8}        <= {limit} {unit}  NOT MEASURED")
        else:
            print(f"  {name:<36} {value:>8.2f} {unit:<5} <= {limit} {unit}  {'PASS' if value <= limit else 'FAIL'}")
    target("warm export, x /bin/true", base / floor_of(rows["warm"]), 2, "x")
    target("warm SSO export, x /bin/true", rows["sso"]["median"] / floor_of(rows["sso"]), 2, "x")
    if "warm_big" in rows:
        target("warm export, 50 profiles, 500 records", rows["warm_big"]["median"] / floor_of(rows["warm_big"]), 2, "x")
    target("exec overhead, x /bin/true", overhead / rows["exec_true"]["median"] if overhead is not None else None, 2, "x")
    target("warm export peak RSS" + (" (GNU time)" if r["gnu_time"] is not None else ""), peak / 1024, 8, "MiB")
    target("cold export, broker's own time", own, 30, "ms")
    target("broker prompt", rows["prompt"]["median"] if "prompt" in rows else None, 5, "ms")
    counts = moto("/_broker_test/counts")
    print()
    print("STS calls seen by moto over the whole run: " +
          ", ".join(f"{k}={counts[k]}" for k in STS if k in counts))
    print("all actions: " + json.dumps(counts, sort_keys=True))

globals()[sys.argv[1]](*sys.argv[2:])
PY
export BENCH_OUT="$tmp/out"
bench() { "$py" "$tmp/bench.py" "$@"; }

# 6. The IAM user and the two roles in moto. Any credentials do while moto does not enforce.
admin() {
  AWS_ACCESS_KEY_ID=AKIAADMINBENCH000000 AWS_SECRET_ACCESS_KEY=admin-secret \
    AWS_DEFAULT_REGION=us-east-1 "$aws" --output json "$@"
}
admin iam create-user --user-name alice >/dev/null
admin iam create-access-key --user-name alice >"$tmp/key.json"
key_id=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["AccessKey"]["AccessKeyId"])' "$tmp/key.json")
key_secret=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["AccessKey"]["SecretAccessKey"])' "$tmp/key.json")
trust() {
  printf '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"%s"},"Action":"sts:AssumeRole"}]}' "$1"
}
admin iam create-role --role-name r1 \
  --assume-role-policy-document "$(trust arn:aws:iam::123456789012:user/alice)" >/dev/null
admin iam create-role --role-name r2 \
  --assume-role-policy-document "$(trust arn:aws:sts::123456789012:assumed-role/r1/bench)" >/dev/null

cat >"$AWS_CONFIG_FILE" <<EOF
[profile bench-alice]
region = us-east-1

[profile r1]
role_arn = arn:aws:iam::123456789012:role/r1
source_profile = bench-alice
role_session_name = bench
region = us-east-1

[profile r2]
role_arn = arn:aws:iam::123456789012:role/r2
source_profile = r1
role_session_name = bench
region = us-east-1

[sso-session bench-sso]
sso_start_url = https://bench.example.awsapps.com/start
sso_region = us-east-1

[profile bench-sso-analyst]
sso_session = bench-sso
sso_account_id = 111111111111
sso_role_name = Analyst
region = us-east-1
EOF
# For the AWS CLI and awsume, which cannot read broker's vault. broker reads keys only from its
# vault.
cat >"$AWS_SHARED_CREDENTIALS_FILE" <<EOF
[bench-alice]
aws_access_key_id = $key_id
aws_secret_access_key = $key_secret
EOF

# alice's key in the kernel keyring, after making sure we do not overwrite an existing item.
"$broker" list --json >"$tmp/list.json"
if "$py" -c 'import json,sys; sys.exit(any(r["profile"] == "bench-alice" and r["keys"] for r in json.load(open(sys.argv[1]))))' "$tmp/list.json"; then :; else
  echo "bench.sh: the keyutils vault already holds keys for profile bench-alice; not touching them" >&2
  echo "bench.sh: remove them with: BROKER_BACKEND=keyutils broker remove bench-alice" >&2
  exit 1
fi
added_keys=1
AWS_ACCESS_KEY_ID=$key_id AWS_SECRET_ACCESS_KEY=$key_secret "$broker" add --env bench-alice 2>/dev/null

# The SSO sign-in, by tests/sso_browser.py as $BROWSER (it follows the stand-in's authorize
# redirect back to broker, as a signed-in user's browser would). Its tokens go to the keyutils
# vault as item sso:bench-sso; `broker sso logout` removes them on exit.
if "$broker" sso logout bench-sso 2>&1 | grep -q 'signed out'; then
  echo "bench.sh: the keyutils vault held a sign-in of SSO session bench-sso; signed it out" >&2
fi
printf '#!/bin/sh\nexec "%s" "%s" "%s" follow -- "$@"\n' "$py" "$root/tests/sso_browser.py" "$tmp/browser" >"$tmp/bin/browser"
chmod 700 "$tmp/bin/browser"
mkdir -p "$tmp/browser"
signed_in=1
BROWSER="$tmp/bin/browser" "$broker" sso login --sso-session bench-sso 2>"$tmp/sso-login.err" ||
  { cat "$tmp/sso-login.err" >&2; exit 1; }

# 7. Measurements. Each: snapshot moto, hyperfine (no shell), snapshot, record.
# measure KEY LABEL WARMUP RUNS [hyperfine options...] -- COMMAND...
measure() {
  local key=$1 label=$2 warmup=$3 runs=$4
  shift 4
  local opts=()
  while [ "$1" != -- ]; do opts+=("$1"); shift; done
  shift
  echo "bench.sh: $label ($warmup warmup + $runs runs)" >&2
  bench snap "$key.before"
  hyperfine -N --style none --warmup "$warmup" --runs "$runs" "${opts[@]}" \
    --export-json "$tmp/out/$key.json" "$*" >>"$tmp/out/hyperfine.log" 2>&1 ||
    { cat "$tmp/out/hyperfine.log" >&2; exit 1; }
  bench snap "$key.after"
  bench record "$key" "$label" "$tmp/out/$key.json" "$key.before" "$key.after" $((warmup + runs))
}

# measure_together LABEL RUNS KEY:LABEL:COMMAND... — one hyperfine run of several commands
# (each a string split on spaces), so that their ratios hold whatever the machine does meanwhile.
# The first must be /bin/true: each row's xfloor is against it. No STS calls are counted.
measure_together() {
  local name=$1 runs=$2
  shift 2
  local commands=() keys=() labels=() spec
  for spec in "$@"; do
    keys+=("${spec%%:*}")
    spec=${spec#*:}
    labels+=("${spec%%:*}")
    commands+=("${spec#*:}")
  done
  echo "bench.sh: $name (20 warmup + $runs runs each)" >&2
  bench snap "$name.snap"
  hyperfine -N --style none --warmup 20 --runs "$runs" --export-json "$tmp/out/$name.json" \
    "${commands[@]}" >>"$tmp/out/hyperfine.log" 2>&1 ||
    { cat "$tmp/out/hyperfine.log" >&2; exit 1; }
  local i
  for i in "${!keys[@]}"; do
    bench record "${keys[$i]}" "${labels[$i]}" "$tmp/out/$name.json" "$name.snap" "$name.snap" 1 "$i" "${keys[0]}"
  done
}
baseline=${BENCH_BASELINE:-}
if [ -n "$baseline" ]; then
  cp "$baseline" "$tmp/bin/baseline"
  baseline="$tmp/bin/baseline"
  "$baseline" export --format json r2 >/dev/null
fi

# a) the floor, broker's start-up alone, and warm broker export (after a priming call), of the
# role chain and of the SSO profile
"$broker" export --format json r2 >/dev/null
"$broker" export --format json bench-sso-analyst >/dev/null
measure_together warm 300 "floor:floor, /bin/true:/bin/true" \
  "version:broker --version:$broker --version" \
  "warm:broker export --format json r2, warm:$broker export --format json r2" \
  "sso:broker export --format json, SSO profile, warm:$broker export --format json bench-sso-analyst" \
  ${baseline:+"baseline:baseline export --format json r2, warm:$baseline export --format json r2"}

# b) the same with 50 profiles in the AWS config and 500 records in the audit log
{
  for i in $(seq -w 1 47); do
    printf '[profile team%s]\nrole_arn = arn:aws:iam::123456789012:role/team%s\nsource_profile = bench-alice\nmfa_serial = arn:aws:iam::123456789012:mfa/alice\nregion = eu-west-1\nduration_seconds = 3600\n\n' "$i" "$i"
  done
  cat "$AWS_CONFIG_FILE"
} >"$tmp/big-config"
small_config=$AWS_CONFIG_FILE small_state=$XDG_STATE_HOME
export AWS_CONFIG_FILE="$tmp/big-config" XDG_STATE_HOME="$tmp/state-big"
for _ in $(seq 1 500); do "$broker" export --format json r2 >/dev/null; done
records=$(wc -l <"$XDG_STATE_HOME/broker/audit.jsonl")
measure_together big 300 "floor_big:floor, /bin/true:/bin/true" \
  "warm_big:export r2, 50 profiles, $records records:$broker export --format json r2" \
  ${baseline:+"baseline_big:baseline, 50 profiles, $records records:$baseline export --format json r2"}
export AWS_CONFIG_FILE=$small_config XDG_STATE_HOME=$small_state

# b') where a warm export spends its time
echo "bench.sh: phases of a warm export (200 runs)" >&2
bench phases 200 "$broker" export --format json r2

# b'') broker prompt, as a shell prompt runs it: from the environment alone
export AWS_VAULT=r2 BROKER_PROFILE=r2
AWS_CREDENTIAL_EXPIRATION=$(date -u -d '+42 min' +%Y-%m-%dT%H:%M:%SZ)
export AWS_CREDENTIAL_EXPIRATION
measure prompt "broker prompt, a shell holding r2's credentials" 20 300 -- "$broker" prompt
unset AWS_VAULT BROKER_PROFILE AWS_CREDENTIAL_EXPIRATION

# c) cold broker export: every run starts from an empty session cache
measure cold "broker export --format json r2, cold" 3 30 --prepare "$broker clear" -- \
  "$broker" export --format json r2

# d) the AWS CLI (v1 here)
if "$aws" configure export-credentials help >/dev/null 2>&1; then
  aws_cmd=("$aws" configure export-credentials --profile r2 --format process)
  aws_note="AWS CLI: aws configure export-credentials --profile r2 --format process"
else
  aws_cmd=("$aws" sts get-caller-identity --profile r2)
  aws_note="AWS CLI: $("$aws" --version 2>&1) has no 'configure export-credentials' (a v2 command), so it runs 'aws sts get-caller-identity --profile r2': credential resolution plus one GetCallerIdentity call, which broker does not make"
fi
"${aws_cmd[@]}" >/dev/null
measure aws_warm "aws ${aws_cmd[1]} ${aws_cmd[2]} (r2), warm" 3 30 -- "${aws_cmd[@]}"
measure aws_cold "aws ${aws_cmd[1]} ${aws_cmd[2]} (r2), cold" 3 30 \
  --prepare "rm -rf $HOME/.aws/cli/cache" -- "${aws_cmd[@]}"

# e) awsume. awsumepy is the program the `awsume` shell wrapper runs and parses: it prints
# "Awsume KEY SECRET TOKEN REGION ..." on stdout. It reads ~/.aws/config and ~/.aws/credentials,
# talks to STS through boto3 (which honours AWS_ENDPOINT_URL), and caches only MFA session
# tokens, so without MFA every run makes both AssumeRole calls: it has no warm case.
awsume_note=
bench snap awsume.probe.before
if awsume_out=$("$venv/bin/awsumepy" r2 2>"$tmp/out/awsume.err") && [ "${awsume_out%% *}" = Awsume ]; then
  bench snap awsume.probe.after
  reached=$("$py" -c '
import json, sys
b, a = (json.load(open(sys.argv[i]))["counts"] for i in (1, 2))
print(a.get("AssumeRole", 0) - b.get("AssumeRole", 0))' "$tmp/out/awsume.probe.before" "$tmp/out/awsume.probe.after")
  awsume_note="awsume $("$venv/bin/awsumepy" --version 2>&1 | tail -n1): ran as 'awsumepy r2' (what the awsume shell wrapper runs); it made $reached AssumeRole call(s) to moto in a probe run; it never caches role credentials without MFA"
  measure awsume "awsumepy r2 (awsume, no role cache)" 3 30 -- "$venv/bin/awsumepy" r2
else
  awsume_note="awsume: 'awsumepy r2' failed, not measured: $(head -c 400 "$tmp/out/awsume.err")"
fi

# f) broker exec overhead
exec_note=
if "$broker" exec --help >/dev/null 2>&1; then
  "$broker" exec r2 -- /bin/true
  measure_together exec 300 "exec_true:/bin/true (exec's reference):/bin/true" \
    "exec:broker exec r2 -- /bin/true, warm:$broker exec r2 -- /bin/true" \
    ${baseline:+"baseline_exec:baseline exec r2 -- /bin/true:$baseline exec r2 -- /bin/true"}
else
  exec_note="exec: not available yet"
fi

# g) peak RSS of warm export
echo "bench.sh: peak RSS of warm broker export (20 runs)" >&2
bench rss 20 "$broker" export --format json r2

bench table "$aws_note" "$awsume_note" "$exec_note"

# h) sso profiles at organisation scale: 1000 accounts of 3 roles each, pages of 100, the
# portal's quota of 20 calls a second enforced by the stand-in (429 past it). The floor is the
# quota itself: every call at exactly 20 a second.
hook() { curl -fsS "http://127.0.0.1:$sso_port/_broker_test/$1" >/dev/null; }
hook "generate?accounts=1000&roles=3"
hook "page_size?n=100"
hook "quota?per_second=20"
before=$(curl -fsS "http://127.0.0.1:$sso_port/_broker_test/counts")
echo "bench.sh: sso profiles, 1000 accounts under a 20 TPS quota (about a minute)" >&2
started=$(date +%s.%N)
"$broker" sso profiles --sso-session bench-sso >"$tmp/sso-profiles.ini"
ended=$(date +%s.%N)
after=$(curl -fsS "http://127.0.0.1:$sso_port/_broker_test/counts")
"$py" - "$started" "$ended" "$before" "$after" "$tmp/sso-profiles.ini" <<'PY'
import json, sys
started, ended = float(sys.argv[1]), float(sys.argv[2])
b, a = json.loads(sys.argv[3]), json.loads(sys.argv[4])
d = {k: a.get(k, 0) - b.get(k, 0) for k in ("ListAccounts", "ListAccountRoles", "Throttled")}
profiles = open(sys.argv[5]).read().count("[profile ")
calls = d["ListAccounts"] + d["ListAccountRoles"] - d["Throttled"]
took = ended - started
print()
print(f"sso profiles, 1000 accounts x 3 roles, 20 TPS quota: {took:.1f} s for {profiles} profiles; "
      f"{calls} calls answered ({d['ListAccounts']} ListAccounts, {d['ListAccountRoles']} "
      f"ListAccountRoles with the throttled), {d['Throttled']} throttled; the quota's floor "
      f"{calls / 20:.1f} s, so {took / (calls / 20):.2f}x it")
PY
