#!/usr/bin/env bash
# Compares two release builds of parley side by side on one machine in one session: the chat-turn benchmark
# (SQLite) and the /v1 gateway benchmark, alternating the builds each round so drift hits both alike.
# Usage: bench/compare.sh BEFORE_PARLEY AFTER_PARLEY [rounds, default 2]
#   e.g. git worktree add /tmp/before <commit> && (cd /tmp/before && swift build -c release --product parley)
#        swift build -c release --product parley --product parley-bench
#        bench/compare.sh /tmp/before/.build/release/parley .build/release/parley
# Writes bench/out/compare/<build>-<round>-{turns,gateway}.md and prints a summary table.
set -euo pipefail
cd "$(dirname "$0")/.."
before="$1"
after="$2"
rounds="${3:-2}"
bench=.build/release/parley-bench
out=bench/out/compare
mkdir -p "$out"
for round in $(seq 1 "$rounds"); do
  for build in before after; do
    binary=$before
    [ "$build" = after ] && binary=$after
    $bench turns --parley "$binary" --backend sqlite --output "$out/$build-$round-turns.md" > /dev/null
    $bench gateway --parley "$binary" --litellm off --output "$out/$build-$round-gateway.md" > /dev/null
  done
done

# One row per figure: each build's value in every round.
row() {
  local label="$1" file="$2" pattern="$3" column="$4"
  local line="| $label |"
  for build in before after; do
    for round in $(seq 1 "$rounds"); do
      value=$(grep -m1 "$pattern" "$out/$build-$round-$file.md" | awk -F'|' -v c="$column" '{print $c}' | sed 's/^ *//; s/ *$//')
      line="$line $value |"
    done
  done
  echo "$line"
}
header="| figure |"
for build in before after; do for round in $(seq 1 "$rounds"); do header="$header $build $round |"; done; done
echo "$header"
echo "|$(printf -- '---|%.0s' $(seq 0 $((rounds * 2))))"
row "persisted chat turns/s (SQLite, 64 streams)" turns "completed streams/s" 4
row "added time to first token p50 / p99" turns "added time to first token p50" 4
row "Parley CPU per turn" turns "CPU per turn" 4
row "Parley RSS idle / peak" turns "RSS idle" 4
# Gateway: Parley's column (the 4th) for each measure.
while IFS='|' read -r _ measure figure _; do
  measure=$(echo "$measure" | sed 's/^ *//; s/ *$//')
  figure=$(echo "$figure" | sed 's/^ *//; s/ *$//')
  line="| gateway $measure, $figure, Parley |"
  for build in before after; do
    for round in $(seq 1 "$rounds"); do
      value=$(grep -m1 "^| $measure | $figure |" "$out/$build-$round-gateway.md" | awk -F'|' '{print $5}' | sed 's/^ *//; s/ *$//')
      line="$line $value |"
    done
  done
  echo "$line"
done < <(grep '^| [a-z]' "$out/after-1-gateway.md" | grep -v '^| measure')
