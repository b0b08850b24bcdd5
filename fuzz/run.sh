#!/usr/bin/env bash
# Builds the fuzz targets with libFuzzer and AddressSanitizer and runs each for a fixed time over its seed corpus.
# Usage: fuzz/run.sh [seconds per target, default 60] [target ...]. A crash, trap, sanitizer report or timeout fails the run
# and leaves the input that caused it in fuzz/findings/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(FuzzJSON FuzzSSE FuzzRESP FuzzClientNumbers FuzzDocuments)

for target in "${targets[@]}"; do
    PARLEY_FUZZ=1 swift build --scratch-path .build-fuzz --product "$target" -Xswiftc -sanitize=fuzzer,address
done

mkdir -p fuzz/findings
status=0
for target in "${targets[@]}"; do
    corpus="$(mktemp -d)"
    cp fuzz/corpus/"$target"/* "$corpus"/
    echo "== $target: ${seconds}s"
    log="$(mktemp)"
    set +e
    ASAN_OPTIONS=detect_leaks=0 .build-fuzz/debug/"$target" "$corpus" -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 -artifact_prefix=fuzz/findings/"$target"- >"$log" 2>&1
    rc=$?
    set -e
    tail -n 30 "$log"
    if [ "$rc" != 0 ]; then
        echo "== $target FAILED (exit $rc); the input is in fuzz/findings/"
        status=1
    fi
    rm -f "$log"
    rm -rf "$corpus"
done
exit $status
