#!/usr/bin/env bash
# The deployment of deploy/compose.yaml, run for real on this machine: nginx (deploy/nginx.conf) in front of three
# `parley serve` replicas on one PostgreSQL and one Redis, all on loopback, with the mock model server upstream.
# bench/cluster_load.py drives chat load through nginx; meanwhile one replica is stopped with SIGTERM (it drains)
# and started again, and another is killed with SIGKILL and started again. Passes when no answer is missing, no
# message is lost or stored twice, none is left streaming, and every answer is complete or marked interrupted.
# Writes a report (default bench/out/cluster.md).
# Usage: bench/cluster.sh [--seconds S] [--users N] [--parley BINARY] [--output FILE]
#        bench/cluster.sh --replicas 1|3 --locust "LOCUST ARGS" [--tokens T --delay-ms D]   (bench/load.sh: the
#        same set-up without faults, with locust's users instead; the report is locust's CSV under --output)
# Needs: postgresql, redis-server, nginx (Debian packages) and a built parley (default .build/release/parley).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=60
users=20
parley=.build/release/parley
output=bench/out/cluster.md
replicas=3
locust_args=""
tokens=60
delay_ms=30
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --users) users=$2; shift 2 ;;
    --parley) parley=$2; shift 2 ;;
    --output) output=$2; shift 2 ;;
    --replicas) replicas=$2; shift 2 ;;
    --locust) locust_args=$2; shift 2 ;;
    --tokens) tokens=$2; shift 2 ;;
    --delay-ms) delay_ms=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
parley=$(realpath "$parley")
work=$(mktemp -d /tmp/parley-cluster-XXXXXX)
chmod 755 "$work"
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
declare -a pids=()
declare -A replica_pid=()
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
  for pid in "${pids[@]}" "${replica_pid[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  as_postgres "$pgbin/pg_ctl" -D "$work/pg/data" -m immediate stop >/dev/null 2>&1 || true
  if [ "${KEEP_CLUSTER_LOGS:-0}" = 1 ]; then echo "logs in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() {  # wait_for FILE TEXT
  for _ in $(seq 1 300); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "timed out waiting for '$2' in $1" >&2; tail -20 "$1" >&2; return 1
}

# PostgreSQL and Redis.
mkdir -p "$work/pg"
[ "$(id -u)" = 0 ] && chown postgres "$work/pg"
as_postgres "$pgbin/initdb" -D "$work/pg/data" -A trust -U parley -E UTF8 --no-sync --no-instructions >/dev/null
pg_port=$(free_port)
as_postgres "$pgbin/pg_ctl" -D "$work/pg/data" -l "$work/pg/server.log" -w -t 30 \
  -o "-p $pg_port -k $work/pg -h 127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
as_postgres "$pgbin/createdb" -h 127.0.0.1 -p "$pg_port" -U parley parley
redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no > "$work/redis.log" 2>&1 &
pids+=($!)

# The model: by default 60 tokens 30 ms apart, about 2 s per answer.
mock_port=$(free_port)
"$parley" mock-llm --port "$mock_port" --tokens "$tokens" --delay-ms "$delay_ms" > "$work/mock.log" 2>&1 &
pids+=($!)
wait_for "$work/mock.log" "listening"

database="postgres://parley@127.0.0.1:$pg_port/parley"
declare -A replica_port=([1]=$(free_port) [2]=$(free_port) [3]=$(free_port))
start_replica() {
  local n=$1
  local log="$work/replica-$n.log"
  echo "--- start $(date -u +%T)" >> "$log"
  PARLEY_LOG_LEVEL=warning "$parley" serve --port "${replica_port[$n]}" --database "$database" \
    --redis-url "redis://127.0.0.1:$redis_port" --openai-base-url "http://127.0.0.1:$mock_port/v1" \
    --shutdown-grace 3 --generation-lease 2 --allowed-hosts '*' --trusted-proxies 127.0.0.1/32 >> "$log" 2>&1 &
  replica_pid[$n]=$!
  for _ in $(seq 1 300); do
    [ "$(tail -n +"$(grep -n -- '--- start' "$log" | tail -1 | cut -d: -f1)" "$log" | grep -c 'listening on')" -gt 0 ] && return 0
    sleep 0.1
  done
  echo "replica $n did not start" >&2; tail -20 "$log" >&2; return 1
}
for n in $(seq 1 "$replicas"); do start_replica "$n"; done

# An account and a key for the load, made with the CLI on the shared database.
echo "cluster-password-1234" > "$work/password"
"$parley" users create --admin --password-file "$work/password" load@example.com --database "$database" > /dev/null
key=$("$parley" keys create --user load@example.com --scopes chat --database "$database" | grep -o 'pk-[A-Za-z0-9_-]*' | head -1)

# nginx with deploy/nginx.conf, its upstreams replaced by the loopback replicas.
nginx_port=$(free_port)
ports=()
for n in $(seq 1 "$replicas"); do ports+=("${replica_port[$n]}"); done
python3 - "$work" "$nginx_port" "${ports[@]}" <<'PY'
import re, sys
work, port, replicas = sys.argv[1], sys.argv[2], sys.argv[3:]
text = open("deploy/nginx.conf").read()
text = text.replace("/tmp/parley-nginx", work + "/nginx")
text = text.replace("listen 8080;", f"listen 127.0.0.1:{port};")
lines = []
for line in text.split("\n"):
    found = re.search(r"server parley-(\d):8080", line)
    if found:
        n = int(found.group(1))
        if n > len(replicas):
            continue
        line = line.replace(found.group(0), f"server 127.0.0.1:{replicas[n - 1]}")
    lines.append(line)
text = "\n".join(lines)
assert "parley-" not in text.split("upstream parley")[1].split("}")[0]
open(work + "/nginx.conf", "w").write(text)
PY
nginx -c "$work/nginx.conf" -p "$work" -g "daemon off;" > "$work/nginx.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$nginx_port/health/live" && break; sleep 0.1; done
# The metrics are each replica's, for Prometheus; nginx keeps them off the public side.
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$nginx_port/metrics")" = 404 ] || { echo "nginx serves /metrics" >&2; exit 1; }
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${replica_port[1]}/metrics")" = 200 ] || { echo "no /metrics on a replica" >&2; exit 1; }

if [ -n "$locust_args" ]; then
  # Load only: locust's users through nginx; the replicas' memory every minute while it runs.
  mkdir -p "$(dirname "$output")"
  (while true; do
     line="$(date -u +%T)"
     for n in $(seq 1 "$replicas"); do line="$line $(awk '/VmRSS/ {print $2}' "/proc/${replica_pid[$n]}/status")"; done
     echo "$line" >> "$output.rss"
     sleep 60
   done) &
  sampler=$!
  pids+=("$sampler")
  : > "$output.rss"
  # shellcheck disable=SC2086
  PARLEY_LOAD_KEY=$key locust -f bench/locustfile.py --headless --host "http://127.0.0.1:$nginx_port" \
    --csv "$output" --only-summary $locust_args > "$output.log" 2>&1 || true
  kill "$sampler" 2>/dev/null || true
  for n in $(seq 1 "$replicas"); do
    echo "replica $n: $(awk '/VmRSS/ {print $2}' "/proc/${replica_pid[$n]}/status") kB resident after the run" >> "$output.rss"
  done
  exit 0
fi

# The load, and the faults during it.
python3 bench/cluster_load.py "http://127.0.0.1:$nginx_port" "$key" "$users" "$seconds" "$work/load.json" &
load=$!
sleep "$(python3 -c "print($seconds * 0.3)")"
echo "SIGTERM to replica 1 (drains), then start it again"
kill -TERM "${replica_pid[1]}"
wait "${replica_pid[1]}" || true
start_replica 1
sleep "$(python3 -c "print($seconds * 0.3)")"
echo "SIGKILL to replica 2, then start it again"
kill -KILL "${replica_pid[2]}"
wait "${replica_pid[2]}" 2>/dev/null || true
sleep 1
start_replica 2
status=0
wait "$load" || status=$?

mkdir -p "$(dirname "$output")"
python3 - "$work/load.json" "$users" "$seconds" "$status" > "$output" <<'PY'
import json, sys
result, users, seconds, status = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3], int(sys.argv[4])
print(f"## Three replicas behind nginx, one stopped (SIGTERM) and one killed (SIGKILL) under load\n")
print(f"{users} users posting and streaming answers (60 tokens, 30 ms apart) for {seconds} s through nginx; "
      f"{'passed' if status == 0 else 'FAILED'}.\n")
print("| | |\n|---|---|")
for key in ["posts", "answers", "missing_answers", "lost_messages", "duplicated_messages", "final_status", "refused_then_retried", "reattached",
            "stream_errors", "request_errors", "first_token_p50_s", "first_token_p95_s"]:
    value = result[key]
    if isinstance(value, float):
        value = f"{value:.3f}"
    print(f"| {key.replace('_', ' ')} | {value} |")
PY
cat "$output"
exit "$status"
