#!/usr/bin/env bash
# Load tests as the reviews ask, with locust (pip install locust) through nginx (bench/cluster.sh sets up nginx,
# the replicas, PostgreSQL, Redis and the mock; no faults): chat users (bench/locustfile.py) for MINUTES with one
# replica and then with three (horizontal scaling), and a spike from 0 to USERS in 10 s. --soak adds a run of
# SOAK_MINUTES (default 30) recording the replica's memory every minute. Writes bench/out/load.md.
# Usage: bench/load.sh [--users 500] [--minutes 5] [--soak] [--parley BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
users=500
minutes=5
soak=0
parley=.build/release/parley
while [ $# -gt 0 ]; do
  case "$1" in
    --users) users=$2; shift 2 ;;
    --minutes) minutes=$2; shift 2 ;;
    --soak) soak=1; shift ;;
    --parley) parley=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
out=bench/out/load
mkdir -p "$out"
# Answers of 20 tokens 25 ms apart (half a second each), as a fast model streams.
model=(--tokens 20 --delay-ms 25 --parley "$parley")
rate=$((users / 10))
bench/cluster.sh --replicas 1 "${model[@]}" --locust "-u $users -r $rate -t ${minutes}m" --output "$out/one"
bench/cluster.sh --replicas 3 "${model[@]}" --locust "-u $users -r $rate -t ${minutes}m" --output "$out/three"
bench/cluster.sh --replicas 3 "${model[@]}" --locust "-u $users -r $rate -t 1m" --output "$out/spike"
if [ "$soak" = 1 ]; then
  bench/cluster.sh --replicas 1 "${model[@]}" --locust "-u $((users / 5)) -r 10 -t ${SOAK_MINUTES:-30}m" --output "$out/soak"
fi
python3 - "$out" "$users" "$minutes" "$soak" > bench/out/load.md <<'PY'
import csv, os, sys
out, users, minutes, soak = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
def table(name, title):
    rows = list(csv.DictReader(open(f"{out}/{name}_stats.csv")))
    print(f"### {title}\n")
    print("| request | count | failures | requests/s | p50 ms | p95 ms | p99 ms |\n|---|---|---|---|---|---|---|")
    for row in rows:
        label = row["Name"] or "all"
        print(f"| {label} | {row['Request Count']} | {row['Failure Count']} | {float(row['Requests/s']):.1f} | "
              f"{row['50%']} | {row['95%']} | {row['99%']} |")
    print()
    rss = open(f"{out}/{name}.rss").read().strip().splitlines()
    if rss:
        print("Resident memory (kB, per replica): " + "; ".join(rss[-4:]) + "\n")
print(f"## Load: {users} locust users through nginx\n")
print(f"Each user lists conversations, opens one's history and posts messages whose answers (20 tokens, 25 ms "
      f"apart) it streams to the end, 1–3 s of think time between; `first token` is from the post to the first delta.\n")
table("one", f"One replica, {minutes} min")
table("three", f"Three replicas, {minutes} min")
table("spike", "Spike: 0 to all users in 10 s, three replicas, 1 min")
if soak:
    print("### Soak: memory every minute\n")
    print("```\n" + open(f"{out}/soak.rss").read() + "```\n")
    table("soak", "Soak")
PY
cat bench/out/load.md
