#!/usr/bin/env bash
# A throwaway Redis Cluster on loopback: 3 masters + 3 replicas (cluster-enabled, no persistence,
# a short node timeout so a failover takes seconds), for scripts/test.sh and for tests that need a
# cluster of their own (the failover test kills a master; it must not break other test files).
#
#   scripts/redis-cluster.sh start <dir> [port…6]   starts 6 nodes (free ports when none given),
#                                                   creates the cluster, waits for cluster_state:ok
#                                                   on every node, prints 127.0.0.1:p1,…,127.0.0.1:p6
#   scripts/redis-cluster.sh restart <dir> <port>   starts that node again (after a kill: it
#                                                   rejoins, as a replica once it was failed over)
#   scripts/redis-cluster.sh stop <dir>             stops every node it started, by pid
#
# <dir> holds each node's files and pid (<dir>/<port>/pid). Env: REDIS_SERVER_BIN, REDIS_CLI_BIN,
# CLUSTER_NODE_TIMEOUT_MS (default 2000).
set -euo pipefail
server=${REDIS_SERVER_BIN:-redis-server}
cli=${REDIS_CLI_BIN:-redis-cli}
timeout_ms=${CLUSTER_NODE_TIMEOUT_MS:-2000}

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

stop_nodes() {
  local dir=$1 pidfile pid
  for pidfile in "$dir"/*/pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
  done
}

# Starts the node on <port>; its cluster bus listens on <bus> (kept in <dir>/<port>/bus for a
# restart; the default, port + 10000, may be taken or above 65535 for a port picked at random).
start_node() {
  local dir=$1 port=$2 bus=${3:-}
  mkdir -p "$dir/$port"
  [ -n "$bus" ] || bus=$(cat "$dir/$port/bus")
  echo "$bus" >"$dir/$port/bus"
  "$server" --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir/$port" \
    --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout "$timeout_ms" \
    --cluster-port "$bus" \
    --repl-diskless-sync-delay 0 \
    --daemonize no --loglevel warning >>"$dir/$port/log" 2>&1 &
  echo $! >"$dir/$port/pid"
  for _ in $(seq 100); do
    "$cli" -p "$port" ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "redis-cluster.sh: node $port did not start: $(cat "$dir/$port/log")" >&2
  return 1
}

start_nodes() {
  local dir=$1
  shift
  local ports=("$@") port nodes=() spec given=$# drawn=() i
  # Distinct free ports: 6 for the nodes when none are given, and one cluster bus port per node
  # (a port is only reserved once its server listens, so draw until they all differ).
  while [ ${#drawn[@]} -lt $((given > 0 ? 6 : 12)) ]; do
    port=$(free_port)
    [[ " ${drawn[*]} ${ports[*]} " == *" $port "* ]] || drawn+=("$port")
  done
  if [ "$given" -eq 0 ]; then ports=("${drawn[@]:0:6}"); drawn=("${drawn[@]:6}"); fi
  [ ${#ports[@]} -eq 6 ] || { echo "redis-cluster.sh: give 6 ports or none" >&2; exit 2; }
  mkdir -p "$dir"
  for i in 0 1 2 3 4 5; do
    start_node "$dir" "${ports[$i]}" "${drawn[$i]}" || exit 1
    nodes+=("127.0.0.1:${ports[$i]}")
  done
  "$cli" --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes >"$dir/create.log" 2>&1 \
    || { echo "redis-cluster.sh: cluster create failed: $(cat "$dir/create.log")" >&2; exit 1; }
  for port in "${ports[@]}"; do
    for _ in $(seq 200); do
      "$cli" -p "$port" cluster info 2>/dev/null | grep -q '^cluster_state:ok' && break
      sleep 0.1
    done
    "$cli" -p "$port" cluster info | grep -q '^cluster_state:ok' \
      || { echo "redis-cluster.sh: node $port never reached cluster_state:ok" >&2; exit 1; }
  done
  # Every replica attached and in sync (a test that kills a master needs its replica ready, and
  # WAIT needs it online).
  local online
  for _ in $(seq 300); do
    online=0
    for port in "${ports[@]}"; do
      "$cli" -p "$port" info replication 2>/dev/null | grep -q '^slave0:.*state=online' && online=$((online + 1))
    done
    [ "$online" = 3 ] && break
    sleep 0.1
  done
  [ "$online" = 3 ] || { echo "redis-cluster.sh: replicas not in sync" >&2; exit 1; }
  spec=$(IFS=,; echo "${nodes[*]}")
  echo "$spec"
}

case "${1:-}" in
  start)
    [ $# -ge 2 ] || { echo "usage: $0 start <dir> [6 ports]" >&2; exit 2; }
    dir=$2
    shift 2
    start_nodes "$dir" "$@" || { stop_nodes "$dir"; exit 1; }
    ;;
  restart)
    [ $# -eq 3 ] || { echo "usage: $0 restart <dir> <port>" >&2; exit 2; }
    pid=$(cat "$2/$3/pid" 2>/dev/null || echo)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then echo "redis-cluster.sh: node $3 is running" >&2; exit 1; fi
    start_node "$2" "$3"
    ;;
  stop)
    [ $# -eq 2 ] || { echo "usage: $0 stop <dir>" >&2; exit 2; }
    stop_nodes "$2"
    ;;
  *)
    echo "usage: $0 start <dir> [6 ports] | stop <dir>" >&2
    exit 2
    ;;
esac
