#!/usr/bin/env bash
# Builds release binaries and runs the chat-turn benchmark; writes bench/RESULTS.md.
# Usage: bench/run.sh [--concurrency N] [--seconds S] [--tokens T]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product parley
swift build -c release --product parley-bench
mkdir -p bench/out
.build/release/parley-bench --parley .build/release/parley --output bench/out/latest.md "$@"

{
  echo "# Benchmark results"
  echo
  echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') with \`bench/run.sh $*\` (release build; the mock, Parley and the"
  echo "load generator share the machine)."
  echo
  echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')),"
  echo "$(free -g | awk '/Mem:/ {print $2}') GiB memory, $(uname -sr), $(swift --version 2>&1 | head -1)."
  echo
  echo "## Chat turns through Parley vs straight to the mock"
  echo
  cat bench/out/latest.md
  echo
  if [ -f bench/NOTES.md ]; then echo; cat bench/NOTES.md; fi
} > bench/RESULTS.md
echo "wrote bench/RESULTS.md"
