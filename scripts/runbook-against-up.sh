#!/usr/bin/env bash
# Every command of the runbook (/work/shared/seed/opssight-production-secrets.md,
# or RUNBOOK=FILE) that can run locally, run as the runbook prints it against
# `opssight-harness up` (the embedded stack on 127.0.0.1), in the runbook's
# order. Each must pass, or be a known runbook finding listed below (the
# README's "Runbook findings"), which must still reproduce: a finding that
# no longer does fails the run ("finding gone"), so the list stays true.
# Commands that need the real AWS or EKS are listed as not runnable locally,
# with the reason.
#
# Substituted, and only these:
# - `<pod-name>` (Check pod secret mounts): the stack runs no OpsSight
#   application, so the script deploys a stand-in, `opssight-app`, whose
#   Pod mounts `opssight-app-secrets` as the runbook's application would,
#   and names its Pod.
# - The account id needs none: the runbook's `sed` puts 123456789012, which
#   is the embedded stack's account.
# - The working directory: `external-secrets.yaml` is run in a copy of
#   fixtures/k8s/runbook/, `kubectl apply -k k8s/overlays/production/` in a
#   copy of fixtures/ (the runbook's layout); `sed -i` edits only the copies.
#
# Secret values are never printed: the output of the commands that show them
# (`kubectl get secret ... -o yaml`, `aws secretsmanager get-secret-value`)
# goes through a filter that shows key names and value lengths only, and
# the credentials `up` writes (its output only sources their 0600 file) stay
# in 0700 directories removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
RUNBOOK=${RUNBOOK:-/work/shared/seed/opssight-production-secrets.md}
KUBECTL=${KUBECTL:-/usr/bin/kubectl}
[ -x "$KUBECTL" ] || KUBECTL=$(command -v kubectl) || { echo "kubectl not found" >&2; exit 2; }
[ -r "$RUNBOOK" ] || { echo "$RUNBOOK: cannot read the runbook" >&2; exit 2; }
command -v aws >/dev/null || { echo "aws CLI not found: pip install awscli" >&2; exit 2; }
python3 -c 'import yaml' 2>/dev/null || { echo "python3 without PyYAML (it comes with awscli)" >&2; exit 2; }
harness=${OPSSIGHT_HARNESS:-target/debug/opssight-harness}

# --- up, stopped (SIGTERM: everything of it goes) however this ends ---------
work=$(umask 077 && mktemp -d)
up_pid=""
bg_pids=()
stop_up() {
  for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  if [ -n "$up_pid" ]; then kill -TERM "$up_pid" 2>/dev/null || true; wait "$up_pid" 2>/dev/null || true; fi
  up_pid=""
  rm -rf "$work"
}
trap stop_up EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

[ -x "$harness" ] || cargo build --quiet -p opssight-harness
# Started directly (not in a subshell), so that $up_pid is up itself; its
# output holds credentials: 0600 files.
umask 077
"$harness" up >"$work/up.out" 2>"$work/up.err" &
up_pid=$!
for _ in $(seq 1 240); do   # up to 60 s
  grep -q '^\. ' "$work/up.out" 2>/dev/null && break
  kill -0 "$up_pid" 2>/dev/null || break
  sleep 0.25
done
grep -q '^\. ' "$work/up.out" 2>/dev/null || {
  echo "up did not print its exports within 60 s:" >&2; tail -20 "$work/up.err" >&2; exit 1; }
# The exports, as the README says to use them (never echoed).
# shellcheck disable=SC1091
. "$work/up.out"
export AWS_PAGER="" AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export KUBECACHEDIR="$work/kube-cache"
# kubectl as the runbook calls it, by name.
mkdir -p "$work/bin"
ln -s "$KUBECTL" "$work/bin/kubectl"
export PATH="$work/bin:$PATH"
# What this prints is also kept, to prove at the end that no value is in it.
exec > >(tee -a "$work/transcript") 2> >(tee -a "$work/transcript" >&2)
echo "against opssight-harness up (its KUBECONFIG and AWS endpoint)"

# --- running the runbook's commands ------------------------------------------
passed=0 findings=0
declare -A seen=()
say() { printf '%s\n' "$*"; }
fail() { say "FAIL: $*" >&2; exit 1; }
in_runbook() { # the command must be the runbook's, word for word (after joining `\` lines)
  python3 - "$RUNBOOK" "$1" <<'PY' || fail "not in the runbook as written: $1"
import re, sys
text = open(sys.argv[1]).read()
blocks = re.findall(r"```bash\n(.*?)```", text, re.S)
lines = []
for b in blocks:
    joined = re.sub(r"\\\n\s*", "", b)
    lines += [l.strip() for l in joined.splitlines() if l.strip() and not l.strip().startswith("#")]
sys.exit(0 if sys.argv[2] in lines else 1)
PY
  seen["$1"]=1
}
# run DIR FILTER COMMAND: the runbook's COMMAND in DIR; its output through
# FILTER (cat, or one that hides values); fails when it fails.
run() {
  local dir=$1 filter=$2 cmd=$3
  in_runbook "$cmd"
  say "\$ $cmd"
  if ! (cd "$dir" && bash -c "$cmd") >"$work/out" 2>"$work/err"; then
    "$filter" <"$work/out"; sed 's/^/  stderr: /' "$work/err"
    fail "$cmd"
  fi
  "$filter" <"$work/out" | sed 's/^/  /'
  passed=$((passed + 1))
}
# finding NAME DIR COMMAND: a command the runbook gets wrong; it must still
# fail (a finding that no longer reproduces fails the run).
finding() {
  local name=$1 dir=$2 cmd=$3 expect=$4
  in_runbook "$cmd"
  say "\$ $cmd"
  if (cd "$dir" && bash -c "$cmd") >"$work/out" 2>"$work/err"; then
    fail "finding gone: \"$name\": the command now succeeds; update the README's Runbook findings and this script"
  fi
  grep -q -- "$expect" "$work/err" || { cat "$work/err" >&2; fail "finding gone: \"$name\": it fails, but not with \"$expect\""; }
  sed 's/^/  stderr: /' "$work/err"
  say "  known runbook finding: $name"
  findings=$((findings + 1))
}
# A check of the state a command left (not a runbook command).
check() { # check DESCRIPTION EXPECTED ACTUAL
  [ "$2" = "$3" ] || fail "$1: expected [$2], got [$3]"
  say "  ok: $1"
}
contains() { # contains DESCRIPTION NEEDLE HAYSTACK
  case "$3" in *"$2"*) say "  ok: $1" ;; *) say "$3" >&2; fail "$1: [$2] not in the output above" ;; esac
}
k() { "$KUBECTL" "$@"; }
# Key names and value lengths of a Secret shown as YAML; nothing else of it.
secret_keys() {
  python3 -c '
import base64, sys, yaml
s = yaml.safe_load(sys.stdin)
print("kind: %s  name: %s/%s  type: %s" % (s.get("kind"), s["metadata"].get("namespace"), s["metadata"].get("name"), s.get("type")))
print("annotations: %s" % sorted((s["metadata"].get("annotations") or {}).keys()))
for k, v in sorted((s.get("data") or {}).items()):
    print("data.%s: %d bytes" % (k, len(base64.b64decode(v))))
'
}
# The same for `aws secretsmanager get-secret-value`.
secret_value_keys() {
  python3 -c '
import json, sys
j = json.load(sys.stdin)
print("Name: %s  VersionStages: %s" % (j.get("Name"), j.get("VersionStages")))
for k, v in sorted(json.loads(j["SecretString"]).items()):
    print("SecretString.%s: %d characters" % (k, len(str(v))))
'
}
ready_all() { k wait --for=condition=Ready externalsecret --all -n opssight-production --timeout=60s >/dev/null; }

# Working copies: the runbook's layout (fixtures/) and its single file.
cp -r fixtures "$work/layout"
mkdir "$work/runbook-dir"
cp fixtures/k8s/runbook/external-secrets.yaml "$work/runbook-dir/"
layout=$work/layout runbook_dir=$work/runbook-dir
ready_all

say "== Prerequisites, 3. EKS Service Account Setup"
# Finding "external-secrets.yaml": the file it names is not in the layout
# the runbook deploys from (k8s/overlays/production/).
finding "external-secrets.yaml is not in the runbook's layout" "$layout" \
  "sed -i 's/ACCOUNT_ID/123456789012/g' external-secrets.yaml" "No such file"
run "$runbook_dir" cat "sed -i 's/ACCOUNT_ID/123456789012/g' external-secrets.yaml"
check "the role ARN carries the account" "1" "$(grep -c 'arn:aws:iam::123456789012:role/opssight-external-secrets' "$runbook_dir/external-secrets.yaml")"
run "$runbook_dir" cat "kubectl apply -f external-secrets.yaml"
# Finding "The EKS setup switches an existing store to IRSA at once": the
# store keeps secretRef beside the new jwt, and ESO uses jwt (up's AWS
# trusts the stack's tokens, so the store stays Valid here).
auth=$(k get secretstore aws-secrets-manager -n opssight-production -o jsonpath='{.spec.provider.aws.auth}')
case "$auth" in
  *secretRef*jwt*|*jwt*secretRef*) say "  known runbook finding: the EKS setup switches an existing store to IRSA at once (auth has secretRef and jwt, and ESO uses jwt)"; findings=$((findings + 1)) ;;
  *) fail "finding gone: \"the EKS setup switches an existing store to IRSA at once\": the store's auth is now [$auth]" ;;
esac

say "== Deployment, 2. Deploy OpsSight with External Secrets"
run "$layout" cat "kubectl apply -k k8s/overlays/production/"
# Finding: apply -k after the single-file setup puts the placeholder back.
arn=$(k get sa external-secrets-sa -n opssight-production -o jsonpath='{.metadata.annotations.eks\.amazonaws\.com/role-arn}')
case "$arn" in
  *ACCOUNT_ID*) say "  known runbook finding: apply -k puts ACCOUNT_ID back into the ServiceAccount's role ARN ($arn)"; findings=$((findings + 1)) ;;
  *) fail "finding gone: \"apply -k puts ACCOUNT_ID back\": the role ARN is now $arn" ;;
esac
ready_all
run . cat "kubectl get externalsecrets -n opssight-production"
check "four ExternalSecrets, synced and Ready" "4" "$(grep -cE 'SecretSynced +True' "$work/out")"
run . cat "kubectl get secrets -n opssight-production"
for s in opssight-app-secrets opssight-database-secrets opssight-redis-secrets opssight-external-services; do
  contains "$s is listed" "$s" "$(cat "$work/out")"
done

say "== Troubleshooting: External Secret Not Syncing"
run . cat "kubectl describe externalsecret opssight-app-secrets -n opssight-production"
contains "describe shows the Ready condition" "SecretSynced" "$(cat "$work/out")"
run . cat "kubectl logs -n external-secrets-system deployment/external-secrets"
contains "the log is the controller's" "controller started" "$(cat "$work/out")"
run . secret_keys "kubectl get secret aws-secret -n opssight-production -o yaml"
contains "aws-secret holds the key id (shown as its length)" "data.access-key-id:" "$(secret_keys <"$work/out")"

say "== Troubleshooting: Invalid AWS Credentials"
run . secret_value_keys "aws secretsmanager get-secret-value --secret-id opssight/production/app --region us-west-2"
contains "the app secret's keys" "SecretString.jwt_secret:" "$(secret_value_keys <"$work/out")"
run . cat "kubectl describe sa external-secrets-sa -n opssight-production"
contains "the ServiceAccount's role annotation" "eks.amazonaws.com/role-arn" "$(cat "$work/out")"

say "== Troubleshooting: Secret Not Available in Pod"
run . cat "kubectl get secret opssight-app-secrets -n opssight-production"
run . secret_keys "kubectl get secret opssight-app-secrets -n opssight-production -o yaml"
contains "the Secret's keys (lengths only)" "data.encryption_key:" "$(secret_keys <"$work/out")"
# <pod-name>: a stand-in for the application, mounting the Secret.
k apply -f - >/dev/null <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: opssight-app, namespace: opssight-production}
spec:
  selector: {matchLabels: {app: opssight-app}}
  template:
    metadata: {labels: {app: opssight-app}}
    spec:
      containers:
      - name: app
        image: opssight/app:stand-in
        envFrom: [{secretRef: {name: opssight-app-secrets}}]
        volumeMounts: [{name: app-secrets, mountPath: /etc/opssight, readOnly: true}]
      volumes:
      - {name: app-secrets, secret: {secretName: opssight-app-secrets}}
YAML
k rollout status deployment/opssight-app -n opssight-production --timeout=30s >/dev/null
pod=$(k get pods -n opssight-production -l app=opssight-app -o jsonpath='{.items[0].metadata.name}')
say "  (<pod-name> is $pod, the stand-in application's Pod)"
in_runbook "kubectl describe pod <pod-name> -n opssight-production"
say "\$ kubectl describe pod $pod -n opssight-production"
k describe pod "$pod" -n opssight-production >"$work/out"
sed 's/^/  /' "$work/out"
passed=$((passed + 1))
contains "the Pod mounts the Secret" "SecretName:  opssight-app-secrets" "$(cat "$work/out")"
contains "the Pod runs" "Status:           Running" "$(cat "$work/out")"

say "== Disaster Recovery: Recovery Procedures"
run "$runbook_dir" cat "kubectl apply -f external-secrets.yaml"
run . cat "kubectl annotate externalsecret opssight-app-secrets force-sync=\$(date +%s) -n opssight-production"
# Finding "Force-sync works once": the next second, the same line is refused.
now=$(date +%s); while [ "$(date +%s)" = "$now" ]; do sleep 0.05; done
finding "force-sync works once (no --overwrite)" . \
  "kubectl annotate externalsecret opssight-app-secrets force-sync=\$(date +%s) -n opssight-production" "--overwrite is false"

say "== Maintenance: Verify External Secrets Operator health (the runbook names no command: an operator's)"
say "\$ kubectl get pods -A"; k get pods -A | sed 's/^/  /'
contains "ESO's controller Pod runs" "Running" "$(k get pods -n external-secrets-system -l app.kubernetes.io/name=external-secrets)"
say "\$ kubectl get all -n external-secrets-system"; k get all -n external-secrets-system >"$work/out"; sed 's/^/  /' "$work/out"
check "get all lists the controller's deployment 1/1" "1" "$(grep -cE '^deployment.apps/external-secrets +1/1 ' "$work/out")"
check "get all lists its replica set and Pod" "2" "$(grep -cE '^(replicaset.apps/external-secrets-[0-9a-z]{6,10}|pod/external-secrets-[0-9a-z]{6,10}-[0-9a-z]{5}) ' "$work/out")"
say "\$ kubectl get events -n opssight-production"; k get events -n opssight-production >"$work/out"; head -5 "$work/out" | sed 's/^/  /'
check "events print kubectl's columns" "LAST SEEN TYPE REASON OBJECT MESSAGE" "$(head -1 "$work/out" | tr -s ' ' | sed 's/ $//')"
say "\$ kubectl auth whoami"; k auth whoami | sed 's/^/  /'
check "kubectl auth can-i get secrets" "yes" "$(k auth can-i get secrets -n opssight-production)"
if k get pods --as=somebody-else >/dev/null 2>"$work/err"; then fail "impersonation was accepted"; fi
contains "impersonation is refused, saying why" "does not implement impersonation" "$(cat "$work/err")"
say "\$ $harness check --env existing"
"$harness" check --env existing >"$work/out" 2>&1 || { cat "$work/out" >&2; fail "check --env existing"; }
contains "the harness's weekly checks pass" "checks passed" "$(tail -1 "$work/out")"
# Following the log, then the controller scaled away and back.
k logs -f -n external-secrets-system deployment/external-secrets >"$work/follow" 2>&1 &
follower=$!; bg_pids+=("$follower")
k annotate externalsecret opssight-redis-secrets force-sync=followed --overwrite -n opssight-production >/dev/null
for _ in $(seq 1 100); do grep -q 'opssight-redis-secrets' "$work/follow" && break; sleep 0.1; done
contains "kubectl logs -f shows the force-sync as it happens" "opssight-redis-secrets" "$(cat "$work/follow")"
say "\$ kubectl scale deploy external-secrets -n external-secrets-system --replicas=0"
k scale deploy external-secrets -n external-secrets-system --replicas=0 | sed 's/^/  /'
for _ in $(seq 1 100); do kill -0 "$follower" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$follower" 2>/dev/null; then fail "kubectl logs -f still follows 10 s after the controller was scaled to 0"; fi
say "  ok: kubectl logs -f ends when the controller stops"
eso_pods() { k get pods -n external-secrets-system -l app.kubernetes.io/name=external-secrets -o name; }
for _ in $(seq 1 300); do [ -z "$(eso_pods)" ] && break; sleep 0.1; done
check "the controller's Pod is gone" "" "$(eso_pods)"
check "the deployment shows 0/0" "0/0" "$(k get deploy external-secrets -n external-secrets-system --no-headers | awk '{print $2}')"
if "$harness" check --env existing >"$work/out" 2>&1; then fail "check passed with the controller scaled to 0"; fi
contains "check reports the controller scaled to 0" "0/0 available: scaled to 0" "$(cat "$work/out")"
k annotate externalsecret opssight-redis-secrets force-sync=while-stopped --overwrite -n opssight-production >/dev/null
say "\$ kubectl scale deploy external-secrets -n external-secrets-system --replicas=1"
k scale deploy external-secrets -n external-secrets-system --replicas=1 | sed 's/^/  /'
k rollout status deploy/external-secrets -n external-secrets-system --timeout=30s | sed 's/^/  /'
check "the deployment shows 1/1" "1/1" "$(k get deploy external-secrets -n external-secrets-system --no-headers | awk '{print $2}')"
ready_all
"$harness" check --env existing >"$work/out" 2>&1 || { cat "$work/out" >&2; fail "check after scaling back"; }
contains "the checks pass again once it runs" "checks passed" "$(tail -1 "$work/out")"

# --- what was not run, and why -----------------------------------------------
not_local=(
  "helm repo add external-secrets https://charts.external-secrets.io|needs the network (charts.external-secrets.io); the embedded stack runs the eso-emulator in ESO's place (--env kind installs the chart)"
  "helm install external-secrets external-secrets/external-secrets --namespace external-secrets-system --create-namespace --set installCRDs=true|needs the chart and a cluster that runs its images (--env kind does; the nightly workflow runs it)"
)
say "== not runnable locally"
for entry in "${not_local[@]}"; do
  cmd=${entry%%|*}
  in_runbook "$cmd"
  say "  not run: $cmd"
  say "    because: ${entry#*|}"
done
say "  not a command: creating the four secrets in AWS Secrets Manager and the IAM role (the runbook gives JSON, not commands; up seeds them, and creating them in an account needs the real AWS)"
say "  not a command: region failover (known runbook finding, shown by features/disaster_recovery.feature \"Region failover to a replica\", which cargo test runs)"
# Every command of the runbook was run, is a finding, or is listed above.
python3 - "$RUNBOOK" "${!seen[@]}" <<'PY' || fail "a command of the runbook was neither run nor listed"
import re, sys
text = open(sys.argv[1]).read()
done = set(sys.argv[2:])
missing = []
for b in re.findall(r"```bash\n(.*?)```", text, re.S):
    for l in re.sub(r"\\\n\s*", "", b).splitlines():
        l = l.strip()
        if l and not l.startswith("#") and l not in done:
            missing.append(l)
for m in missing:
    print("  neither run nor listed: " + m, file=sys.stderr)
sys.exit(1 if missing else 0)
PY
# No secret value in what was printed: each Secret's values, the
# credentials `up` exported, compared in memory (only a count is said).
k get secrets -n opssight-production -o json >"$work/secrets.json"
python3 - "$work/transcript" "$work/secrets.json" <<'PY' || fail "a secret value is in the output above"
import base64, json, os, sys
out = open(sys.argv[1], errors="replace").read()
values = [base64.b64decode(v).decode(errors="replace") for s in json.load(open(sys.argv[2]))["items"] for v in (s.get("data") or {}).values()]
values += [os.environ["AWS_SECRET_ACCESS_KEY"], os.environ["AWS_EMULATOR_ADMIN_TOKEN"]]
leaked = sum(1 for v in values if len(v) >= 6 and v in out)
print("  ok: none of %d secret values is in the output" % len(values) if not leaked else "  %d secret value(s) in the output" % leaked)
sys.exit(1 if leaked else 0)
PY
say "runbook against up: $passed commands passed, $findings known runbook findings reproduced, ${#not_local[@]} not runnable locally"
