#!/usr/bin/env bash
# Cache hits over HTTP: wrk (the load generator, on the same 2 cores) against the mock directly, against
# Parley answering from its memory cache, from Redis, and going upstream (cache bypassed), in one run.
# Usage: bench/cache.sh [seconds per measure] [connections]      (needs wrk and redis-server; release build)
# Writes bench/out/cache.md.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-8}
connections=${2:-64}
parley=.build/release/parley
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 100); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "no answer from $1" >&2; exit 1; }

mock_port=$(free_port)
$parley mock-llm --port "$mock_port" --tokens 16 >"$work/mock.log" 2>&1 & pids+=($!)
redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" >"$work/redis.log" 2>&1 & pids+=($!)
memory_port=$(free_port)
PARLEY_CACHE=memory $parley serve --port "$memory_port" --database "sqlite://$work/m.db" \
  --openai-base-url "http://127.0.0.1:$mock_port/v1" --log-level warning >"$work/parley-memory.log" 2>&1 & pids+=($!)
redis_parley_port=$(free_port)
PARLEY_REDIS_URL="redis://127.0.0.1:$redis_port" PARLEY_CACHE=redis $parley serve --port "$redis_parley_port" \
  --database "sqlite://$work/r.db" --openai-base-url "http://127.0.0.1:$mock_port/v1" --log-level warning \
  >"$work/parley-redis.log" 2>&1 & pids+=($!)
wait_http "http://127.0.0.1:$mock_port/v1/models"
wait_http "http://127.0.0.1:$memory_port/health/live"
wait_http "http://127.0.0.1:$redis_parley_port/health/live"

body_cached='{"model":"mock-1","temperature":0,"messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"What is the capital of France? Answer in one short sentence."}]}'
body_upstream='{"model":"mock-1","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"What is the capital of France? Answer in one short sentence."}]}'
lua() {
  printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = [[%s]]\n' "$1" > "$work/$2.lua"
  echo "$work/$2.lua"
}
rate() {  # url, lua script: requests/s and p99 latency
  wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$2" "$1" > "$work/wrk.out"
  local rps p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.out")
  p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.out")
  errors=$(awk '/Non-2xx/ {print $4}' "$work/wrk.out")
  echo "$rps ${p99:-?} ${errors:-0}"
}
cached=$(lua "$body_cached" cached)
upstream=$(lua "$body_upstream" upstream)
# Store the answer in both caches, then check they hit.
for port in $memory_port $redis_parley_port; do
  curl -fs -o /dev/null -H 'Content-Type: application/json' -d "$body_cached" "http://127.0.0.1:$port/v1/chat/completions"
  hit=$(curl -fs -D - -o /dev/null -H 'Content-Type: application/json' -d "$body_cached" "http://127.0.0.1:$port/v1/chat/completions" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-parley-cache" {print $2}')
  [ "$hit" = "hit" ] || { echo "expected a cache hit on port $port, got '$hit'" >&2; exit 1; }
done

direct=$(rate "http://127.0.0.1:$mock_port/v1/chat/completions" "$upstream")
memory=$(rate "http://127.0.0.1:$memory_port/v1/chat/completions" "$cached")
redis=$(rate "http://127.0.0.1:$redis_parley_port/v1/chat/completions" "$cached")
bypass=$(rate "http://127.0.0.1:$memory_port/v1/chat/completions" "$upstream")
rss=$(awk '/VmRSS/ {print $2}' /proc/"${pids[2]}"/status)

row() { read -r rps p99 errors <<<"$2"; printf '| %s | %.0f | %.2f× | %s | %s |\n' "$1" "$rps" "$(awk -v a="$rps" -v b="$3" 'BEGIN {print a / b}')" "$p99" "$errors"; }
direct_rps=$(echo "$direct" | awk '{print $1}')
{
  echo "| path (non-streamed chat completion, $connections connections, ${seconds} s) | requests/s | vs direct | p99 | non-2xx |"
  echo "|---|---:|---:|---:|---:|"
  row "straight to the mock upstream" "$direct" "$direct_rps"
  row "Parley, cache hit from memory" "$memory" "$direct_rps"
  row "Parley, cache hit from Redis" "$redis" "$direct_rps"
  row "Parley, cache bypassed (to the mock)" "$bypass" "$direct_rps"
  echo
  echo "wrk -t2 -c$connections shares the 2 cores with the server it loads (and with the mock and redis-server)."
  echo "Parley (memory cache) RSS after the run: $((rss / 1024)) MB."
} | tee bench/out/cache.md
