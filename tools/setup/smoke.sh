#!/usr/bin/env bash
# Smoke check of what tools/setup/setup.sh installed: starts each server once on 127.0.0.1 with a
# free port, talks to it with a real client, and stops it again (by PID). Nothing is left behind.
#
#   bash tools/setup/smoke.sh [component...]     components: runsc redis etcd kube registry s3 gcs
#
# It uses the binaries linked in <repo>/.tools/bin. SMOKE_LOG_DIR=DIR keeps the servers' logs there. The flags used here are the ones documented in
# docs/setup.md for the test harness. Exits non-zero if any check fails.

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN_DIR="$REPO_ROOT/.tools/bin"
export PATH="$BIN_DIR:$PATH"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/substrate-smoke.XXXXXX")"
PIDS=()
PID_CMDS=()
FAILED=()

log() { printf '[smoke] %s\n' "$*"; }

stop_started() { # kill only the processes this script started, by PID, last started first
  local i pid t0
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    pid="${PIDS[$i]}"
    if kill -0 "$pid" 2>/dev/null; then
      t0=$(date +%s%N)
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      if kill -0 "$pid" 2>/dev/null; then
        log "pid $pid still running 10 s after SIGTERM: SIGKILL"
        kill -9 "$pid" 2>/dev/null || true
      else
        log "pid $pid ($(basename "$(cut -d' ' -f1 <<<"${PID_CMDS[$i]}")")) exited $((($(date +%s%N) - t0) / 1000000)) ms after SIGTERM"
      fi
      wait "$pid" 2>/dev/null || true
    fi
  done
  PIDS=()
  PID_CMDS=()
}
cleanup() {
  stop_started
  rm -rf -- "$WORK"
}
trap cleanup EXIT

free_port() { # a TCP port nobody listens on (random in 20000-60999)
  local port
  while :; do
    port=$((20000 + RANDOM % 41000))
    if ! ss -Htln "sport = :$port" | grep -q .; then
      echo "$port"
      return
    fi
  done
}

start_bg() { # start_bg LOGNAME CMD...: runs CMD in the background, remembers its PID in LAST_PID
  "${@:2}" >"$WORK/$1.log" 2>&1 &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
  PID_CMDS+=("$2")
}

wait_until() { # wait_until SECONDS CMD...: retries CMD every 0.2 s
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

timed() { # timed LABEL SECONDS CMD...: wait_until and print how long it took
  local label="$1" limit="$2" t0
  shift 2
  t0=$(date +%s%N)
  if wait_until "$limit" "$@"; then
    log "$label ready after $((($(date +%s%N) - t0) / 1000000)) ms"
  else
    log "$label NOT ready after ${limit}s"
    return 1
  fi
}

loopback_only() { # every TCP socket our servers listen on is on 127.0.0.1
  local pid addrs bad=0
  for pid in "${PIDS[@]+"${PIDS[@]}"}"; do
    addrs="$(ss -Htlnp | grep "pid=$pid," | awk '{print $4}' | sort -u | tr '\n' ' ')"
    log "pid $pid listens on: ${addrs:-nothing}"
    for a in $addrs; do [[ "$a" == 127.0.0.1:* ]] || bad=1; done
  done
  return "$bad"
}

check() { # check NAME FUNCTION: runs one smoke check, records failure
  log "---- $1"
  if "$2" && loopback_only; then
    log "$1: OK"
  else
    log "$1: FAILED"
    local f
    for f in "$WORK"/*.log; do
      [[ -f "$f" ]] || continue
      log "last lines of $(basename "$f"):"
      tail -n 15 "$f" | sed 's/^/    /'
    done
    FAILED+=("$1")
  fi
  stop_started
  if [[ -n "${SMOKE_LOG_DIR:-}" ]]; then # keep the servers' logs
    mkdir -p "$SMOKE_LOG_DIR"
    cp "$WORK"/*.log "$SMOKE_LOG_DIR"/ 2>/dev/null || true
  fi
  rm -rf -- "${WORK:?}"/*
}

# ---------------------------------------------------------------------------------------------------
smoke_runsc() {
  runsc --version
}

smoke_redis() {
  local port
  port="$(free_port)"
  start_bg redis redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no
  timed "redis-server :$port" 10 redis-cli -h 127.0.0.1 -p "$port" ping || return 1
  redis-cli -h 127.0.0.1 -p "$port" ping
  redis-cli -h 127.0.0.1 -p "$port" set smoke ok >/dev/null
  [[ "$(redis-cli -h 127.0.0.1 -p "$port" get smoke)" == ok ]]
}

ETCD_CLIENT_PORT=""
start_etcd() { # starts etcd on loopback free ports, sets ETCD_CLIENT_PORT
  local client peer
  client="$(free_port)"
  peer="$(free_port)"
  start_bg etcd etcd --name smoke --data-dir "$WORK/etcd" \
    --listen-client-urls "http://127.0.0.1:$client" --advertise-client-urls "http://127.0.0.1:$client" \
    --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "smoke=http://127.0.0.1:$peer" --initial-cluster-state new \
    --unsafe-no-fsync
  ETCD_CLIENT_PORT="$client"
  timed "etcd :$client" 20 etcdctl --endpoints "http://127.0.0.1:$client" endpoint health
}

smoke_etcd() {
  start_etcd || return 1
  local ep="http://127.0.0.1:$ETCD_CLIENT_PORT"
  etcd --version | sed -n 1p
  etcdctl --endpoints "$ep" put smoke ok >/dev/null
  [[ "$(etcdctl --endpoints "$ep" get smoke --print-value-only)" == ok ]]
}

smoke_kube() {
  start_etcd || return 1
  local port token dir="$WORK/kube"
  port="$(free_port)"
  token="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  mkdir -p "$dir/certs"
  openssl genrsa -out "$dir/sa.key" 2048 2>/dev/null
  openssl rsa -in "$dir/sa.key" -pubout -out "$dir/sa.pub" 2>/dev/null
  printf '%s,substrate-admin,substrate-admin,system:masters\n' "$token" >"$dir/tokens.csv"
  kube-apiserver --version
  start_bg kube-apiserver kube-apiserver \
    --etcd-servers "http://127.0.0.1:$ETCD_CLIENT_PORT" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$port" \
    --cert-dir "$dir/certs" \
    --service-account-issuer https://kubernetes.default.svc \
    --service-account-key-file "$dir/sa.pub" \
    --service-account-signing-key-file "$dir/sa.key" \
    --token-auth-file "$dir/tokens.csv" \
    --authorization-mode RBAC \
    --service-cluster-ip-range "${SMOKE_SERVICE_CIDR:-169.254.200.0/24}" \
    --enable-priority-and-fairness=false \
    --profiling=false
  local kc=(kubectl --server "https://127.0.0.1:$port" --insecure-skip-tls-verify --token "$token")
  timed "kube-apiserver :$port (/readyz)" 120 "${kc[@]}" get --raw /readyz || return 1
  "${kc[@]}" get ns || return 1
  # A CRD with a CEL rule, to see the schema and the rule evaluated for real.
  "${kc[@]}" apply -f - <<'EOF' || return 1
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: smokes.test.substrate.dev
spec:
  group: test.substrate.dev
  scope: Namespaced
  names: { plural: smokes, singular: smoke, kind: Smoke }
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              x-kubernetes-validations:
                - rule: "self.min <= self.max"
                  message: "min must be <= max"
              properties:
                min: { type: integer }
                max: { type: integer }
EOF
  "${kc[@]}" wait --for condition=Established crd/smokes.test.substrate.dev --timeout 30s || return 1
  printf 'apiVersion: test.substrate.dev/v1\nkind: Smoke\nmetadata: {name: good, namespace: default}\nspec: {min: 1, max: 2}\n' |
    "${kc[@]}" apply -f - || return 1
  local out
  if out="$(printf 'apiVersion: test.substrate.dev/v1\nkind: Smoke\nmetadata: {name: bad, namespace: default}\nspec: {min: 3, max: 2}\n' |
    "${kc[@]}" apply -f - 2>&1)"; then
    log "CEL rule was NOT enforced: $out"
    return 1
  fi
  log "CEL rule rejected the bad object: $out"
}

smoke_registry() {
  local port
  port="$(free_port)"
  mkdir -p "$WORK/registry"
  cat >"$WORK/registry.yml" <<EOF
version: 0.1
storage:
  filesystem:
    rootdirectory: $WORK/registry
http:
  addr: 127.0.0.1:$port
EOF
  start_bg docker-registry docker-registry serve "$WORK/registry.yml"
  timed "docker-registry :$port" 10 curl -fsS "http://127.0.0.1:$port/v2/" || return 1
  curl -fsS "http://127.0.0.1:$port/v2/_catalog"
  echo
}

smoke_s3() {
  local port access=smokeaccess secret=smokesecret12345 s3
  port="$(free_port)"
  mkdir -p "$WORK/s3"
  s3-server --version | tr '\n' ' '
  echo
  start_bg s3-server s3-server --access "$access" --secret "$secret" --port "127.0.0.1:$port" posix "$WORK/s3"
  # S3 wants x-amz-content-sha256; curl signs it along with the request (SigV4).
  s3=(curl -fsS --aws-sigv4 "aws:amz:us-east-1:s3" --user "$access:$secret" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD')
  timed "s3-server :$port" 20 "${s3[@]}" "http://127.0.0.1:$port/" || return 1
  "${s3[@]}" -X PUT "http://127.0.0.1:$port/smoke-bucket" || return 1
  "${s3[@]}" -X PUT --data-binary 'hello s3' \
    "http://127.0.0.1:$port/smoke-bucket/hello.txt" || return 1
  [[ "$("${s3[@]}" "http://127.0.0.1:$port/smoke-bucket/hello.txt")" == 'hello s3' ]] || return 1
  ls -la "$WORK/s3/smoke-bucket"
}

smoke_gcs() {
  local port base
  port="$(free_port)"
  mkdir -p "$WORK/gcs"
  start_bg fake-gcs-server fake-gcs-server -scheme http -host 127.0.0.1 -port "$port" \
    -public-host "127.0.0.1:$port" -external-url "http://127.0.0.1:$port" \
    -backend filesystem -filesystem-root "$WORK/gcs" -log-level warn
  base="http://127.0.0.1:$port"
  timed "fake-gcs-server :$port" 20 curl -fsS "$base/storage/v1/b" || return 1
  curl -fsS -X POST -H 'content-type: application/json' -d '{"name":"smoke-bucket"}' "$base/storage/v1/b" >/dev/null || return 1
  curl -fsS -X POST --data-binary 'hello gcs' \
    "$base/upload/storage/v1/b/smoke-bucket/o?uploadType=media&name=hello.txt" >/dev/null || return 1
  [[ "$(curl -fsS "$base/storage/v1/b/smoke-bucket/o/hello.txt?alt=media")" == 'hello gcs' ]]
}

# ---------------------------------------------------------------------------------------------------
components=("$@")
[[ ${#components[@]} -gt 0 ]] || components=(runsc redis etcd kube registry s3 gcs)
for c in "${components[@]}"; do
  case "$c" in
    runsc | redis | etcd | kube | registry | s3 | gcs) check "$c" "smoke_$c" ;;
    *) echo "unknown component: $c" >&2; exit 2 ;;
  esac
done
if [[ ${#FAILED[@]} -gt 0 ]]; then
  log "FAILED: ${FAILED[*]}"
  exit 1
fi
log "all passed: ${components[*]}"
