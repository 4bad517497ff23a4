# Sourced by the scripts that run something against the real kube-apiserver:
# `start_real_apiserver` brings up `opssight-harness up --env binaries` (the
# components built by scripts/build-real-components.sh), sets $kubeconfig,
# and stops it (SIGTERM: every process and file of it goes) when the calling
# script ends, however it ends.
harness=${OPSSIGHT_HARNESS:-target/debug/opssight-harness}
up_pid=""
# `up` prints the run's credentials: they stay in a 0700 directory.
up_work=$(umask 077 && mktemp -d)
stop_real_apiserver() {
  if [ -n "$up_pid" ]; then kill -TERM "$up_pid" 2>/dev/null || true; wait "$up_pid" 2>/dev/null || true; fi
  up_pid=""
  rm -rf "$up_work"
}
trap stop_real_apiserver EXIT INT TERM HUP

start_real_apiserver() {
  [ -x "$harness" ] || cargo build --quiet -p opssight-harness
  (umask 077 && exec "$harness" up --env binaries >"$up_work/up.out" 2>"$up_work/up.err") &
  up_pid=$!
  kubeconfig=""
  for _ in $(seq 1 240); do   # up to 120 s for the control plane
    kubeconfig=$(sed -n 's/^export KUBECONFIG=//p' "$up_work/up.out" 2>/dev/null)
    [ -n "$kubeconfig" ] && return 0
    kill -0 "$up_pid" 2>/dev/null || break
    sleep 0.5
  done
  echo "up --env binaries did not print its kubeconfig within 120 s:" >&2
  tail -20 "$up_work/up.err" >&2
  exit 1
}
