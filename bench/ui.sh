#!/usr/bin/env bash
# The web UI's figures in headless Chromium (bench/ui.py): size, first paint, long tasks while streaming, and
# a 1,000-message conversation. Needs chromium, chromium-driver (apt) and selenium (pip).
# Usage: bench/ui.sh [OUTPUT.md]   (uses .build/release/parley; bench/run.sh builds it)
set -euo pipefail
cd "$(dirname "$0")/.."
output=${1:-bench/out/ui.md}
mkdir -p "$(dirname "$output")"
parley=.build/release/parley
[ -x $parley ] || swift build -c release --product parley
work=$(mktemp -d)
mock_port=19310
port=19311
$parley mock-llm --port $mock_port > "$work/mock.log" 2>&1 &
mock=$!
PARLEY_LOG_LEVEL=warning OPENAI_BASE_URL=http://127.0.0.1:$mock_port/v1 \
  $parley serve --port $port --database "sqlite://$work/ui.db" > "$work/parley.log" 2>&1 &
server=$!
trap 'kill $server $mock 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -sf http://127.0.0.1:$port/health/ready > /dev/null && break; sleep 0.1; done
python3 bench/ui.py http://127.0.0.1:$port "$output"
date -u '+%Y-%m-%d %H:%M UTC' > "${output%.md}.measured"
