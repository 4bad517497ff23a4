#!/usr/bin/env bash
# The real aws CLI (pip install awscli) against the standalone aws-emulator:
# create/get/put/describe/list secrets and sts get-caller-identity.
# Fails on the first command that fails or prints something unexpected.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v aws >/dev/null || { echo "aws CLI not found: pip install awscli" >&2; exit 1; }
cargo build --quiet -p aws-emulator --bin aws-emulator
work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

./target/debug/aws-emulator --region us-west-2 --account-id 123456789012 --user opssight-cli \
  --env-file "$work/env" >"$work/stdout" 2>"$work/stderr" &
pid=$!
# Its last line on stdout sources the env file, written before it.
for _ in $(seq 1 100); do grep -q '^\. ' "$work/stdout" && break; sleep 0.1; done
grep -q '^\. ' "$work/stdout" || { echo "aws-emulator did not start within 10s:" >&2; cat "$work/stderr" >&2; exit 1; }
# shellcheck disable=SC1091
. "$work/env"
export AWS_PAGER="" AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null

passed=0
ok() { passed=$((passed + 1)); echo "ok: $1"; }
# Checks run in this shell (not at the end of a pipe) so the count adds up.
check() { # check DESCRIPTION PYTHON-EXPR-ON-j  (j = parsed JSON of stdin)
  python3 -c "import json,sys; j=json.load(sys.stdin); ok=($2); sys.exit(0 if ok else 1)" \
    || { echo "FAIL: $1" >&2; exit 1; }
  ok "$1"
}

value1="v1-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
value2="v2-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"

out=$(aws secretsmanager create-secret --name opssight/production/app --secret-string "$value1")
check "create-secret answers the ARN with a 6-character suffix" "j['ARN'].startswith('arn:aws:secretsmanager:us-west-2:123456789012:secret:opssight/production/app-') and len(j['ARN'].rsplit('-',1)[1])==6" <<<"$out"
out=$(aws secretsmanager get-secret-value --secret-id opssight/production/app --region us-west-2)
V="$value1" check "get-secret-value returns the value (runbook troubleshooting command)" "j['SecretString']==__import__('os').environ['V'] and j['VersionStages']==['AWSCURRENT']" <<<"$out"
out=$(aws secretsmanager put-secret-value --secret-id opssight/production/app --secret-string "$value2")
check "put-secret-value makes a new AWSCURRENT version" "j['VersionStages']==['AWSCURRENT']" <<<"$out"
out=$(aws secretsmanager get-secret-value --secret-id opssight/production/app --version-stage AWSPREVIOUS)
V="$value1" check "the old value is AWSPREVIOUS" "j['SecretString']==__import__('os').environ['V']" <<<"$out"
out=$(aws secretsmanager describe-secret --secret-id opssight/production/app)
check "describe-secret lists two staged versions" "sorted(sum(j['VersionIdsToStages'].values(), []))==['AWSCURRENT','AWSPREVIOUS'] and 'CreatedDate' in j" <<<"$out"
out=$(aws secretsmanager list-secrets --filters Key=name,Values=opssight/)
check "list-secrets filters by name" "[s['Name'] for s in j['SecretList']]==['opssight/production/app']" <<<"$out"
out=$(aws sts get-caller-identity)
check "sts get-caller-identity names the CLI's user" "j['Arn']=='arn:aws:iam::123456789012:user/opssight-cli' and j['Account']=='123456789012'" <<<"$out"

# A wrong secret key must be refused as AWS refuses it.
if AWS_SECRET_ACCESS_KEY=wrong aws secretsmanager get-secret-value --secret-id opssight/production/app \
     >"$work/out" 2>"$work/err"; then
  echo "FAIL: a wrong secret key was accepted" >&2; exit 1
fi
grep -q "InvalidSignatureException" "$work/err" || { echo "FAIL: expected InvalidSignatureException, got:" >&2; cat "$work/err" >&2; exit 1; }
ok "a wrong secret key gets InvalidSignatureException"
if grep -rqF -e "$value1" -e "$value2" "$work/stderr" "$work/stdout"; then
  echo "FAIL: the emulator's output holds a secret value" >&2; exit 1
fi
ok "no secret value in the emulator's output"
echo "aws CLI against aws-emulator: $passed passed, 0 failed"
