#!/usr/bin/env bash
# The whole test gate: install, typecheck, build, then every test (unit, storage contract on a
# real throwaway redis-server and on a throwaway Redis Cluster, HTTP, end-to-end, browser). Starts
# its own redis-server on a free loopback port and a 3-master + 3-replica cluster
# (scripts/redis-cluster.sh), and stops every node by its pid on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
# The browser tests drive CHROMIUM_PATH when set (CI points it at the runner's Chrome), else
# Debian's /usr/bin/chromium.
if [ -n "${CHROMIUM_PATH:-}" ]; then
  [ -x "$CHROMIUM_PATH" ] || { echo "test.sh: CHROMIUM_PATH=$CHROMIUM_PATH is not executable" >&2; exit 1; }
else
  command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
fi
# A small CJK font so browser screenshots show the Chinese texts (the default language).
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need_apt+=(fonts-wqy-microhei)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: installing ${need_apt[*]} with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "test.sh: missing ${need_apt[*]} and cannot install it (not root or no apt-get)" >&2
  fi
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

tmp=$(mktemp -d)
redis_pid=""
cluster_dir="$tmp/cluster"
cleanup() {
  [ -d "$cluster_dir" ] && bash scripts/redis-cluster.sh stop "$cluster_dir" || true
  if [ -n "$redis_pid" ] && kill -0 "$redis_pid" 2>/dev/null; then
    kill "$redis_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$redis_pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

if command -v redis-server >/dev/null 2>&1; then
  port=$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" \
    --daemonize no --loglevel warning >"$tmp/redis.log" 2>&1 &
  redis_pid=$!
  for _ in $(seq 100); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  redis-cli -p "$port" ping >/dev/null
  export TEST_REDIS_URL="redis://127.0.0.1:$port"
  echo "test.sh: redis-server $(redis-server --version | awk '{print $3}') on $TEST_REDIS_URL (pid $redis_pid)"
elif [ "${CI:-}" = "true" ]; then
  echo "test.sh: redis-server is required in CI" >&2
  exit 1
fi

# The cluster suites (test/storage/redis-cluster.test.ts, test/e2e/cluster.test.ts) run on this one.
if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then
  if nodes=$(bash scripts/redis-cluster.sh start "$cluster_dir"); then
    export TEST_REDIS_CLUSTER_NODES="$nodes"
    echo "test.sh: redis cluster (3 masters + 3 replicas) on $TEST_REDIS_CLUSTER_NODES"
  elif [ "${CI:-}" = "true" ]; then
    echo "test.sh: the redis cluster did not start; it is required in CI" >&2
    exit 1
  fi
elif [ "${CI:-}" = "true" ]; then
  echo "test.sh: redis-server and redis-cli are required in CI (the cluster suites)" >&2
  exit 1
fi

export TEST_ARTIFACTS_DIR="${TEST_ARTIFACTS_DIR:-$PWD/test-results}"
mkdir -p "$TEST_ARTIFACTS_DIR"

npm run -s lint
npm run -s typecheck
npx tsc -p web/tsconfig.json --noEmit
npm run -s build >/dev/null
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$tmp/vitest.json" "$@" || status=$?
# The plain closing line CI reads: "N passed, N failed, N skipped".
if [ -f "$tmp/vitest.json" ]; then
  node -e 'const r=require(process.argv[1]);console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests+r.numTodoTests} skipped`)' "$tmp/vitest.json"
fi
exit "$status"
