#!/usr/bin/env python3
"""Where a chat turn's time to first token goes, stage by stage, inside the server.

Measured with an instrumented build (the instrumentation is not part of the server):

    git apply bench/turn_stages.patch && swift build -c release --product parley
    cp .build/release/parley /tmp/parley-stages && git apply -R bench/turn_stages.patch
    PARLEY_PROBE_FILE=/tmp/stages.txt .build/release/parley-bench turns --parley /tmp/parley-stages --seconds 6
    python3 bench/turn_stages.py /tmp/stages.txt

The instrumented server writes one line per stage of each turn (monotonic nanoseconds), one per SQLite write
transaction (wall and thread CPU time) and one per write (its caller and CPU time). The bench's two phases
(saturated, then paced) are told apart by the pause between them; each gets p50/p90/p99 of the time between
stages, the writer's transactions, and the writes by caller.
"""
import collections
import sys

STAGES = {0: "entry", 1: "admitted", 14: "write queued", 15: "batch start", 16: "batch end", 2: "turn stored",
          3: "context built", 4: "subscribed", 5: "body start", 6: "first encode", 7: "first written",
          8: "job runs", 9: "upstream call", 10: "upstream head", 11: "first delta", 12: "delta encode",
          13: "delta written"}
PAIRS = [(0, 1), (1, 14), (14, 15), (15, 16), (16, 2), (1, 2), (2, 3), (3, 4), (3, 8), (8, 9), (9, 10),
         (10, 11), (11, 12), (12, 13), (0, 7), (0, 13)]


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q / 100 * len(values)))]


def main(path):
    turns = collections.defaultdict(dict)
    batches, writes = [], collections.defaultdict(list)
    for line in open(path):
        p = line.split()
        if not p:
            continue
        if p[0] == "B" and len(p) == 5:
            batches.append((int(p[3]), int(p[1]), int(p[2]), int(p[4])))
        elif p[0] == "O" and len(p) == 3:
            writes[p[1]].append(int(p[2]) / 1000)
        elif len(p) == 3:
            turn, stage, at = int(p[0]), int(p[1]), int(p[2])
            turns[turn].setdefault(stage, at)
    starts = sorted((stages[0], turn) for turn, stages in turns.items() if 0 in stages)
    _, split = max((starts[k + 1][0] - starts[k][0], k) for k in range(len(starts) - 1))
    phases = {"saturated": starts[:split + 1], "paced": starts[split + 1:]}
    paced_start = starts[split + 1][0]
    for name, members in phases.items():
        print(f"== {name}: {len(members)} turns (ms)")
        rows = [turns[turn] for _, turn in members]
        for a, b in PAIRS:
            d = [(r[b] - r[a]) / 1e6 for r in rows if a in r and b in r]
            if d:
                print(f"{STAGES[a]:>14} -> {STAGES[b]:<14} p50 {pct(d, 50):7.3f}  p90 {pct(d, 90):7.3f}  "
                      f"p99 {pct(d, 99):7.3f}  max {max(d):7.2f}")
        chosen = [b for b in batches if (b[0] >= paced_start) == (name == "paced") and b[1] > 0]
        if chosen:
            wall = [b[2] / 1000 for b in chosen]
            cpu = [b[3] / 1000 for b in chosen]
            span = (chosen[-1][0] - chosen[0][0]) / 1e6 or 1
            print(f"   writer: {len(chosen)} transactions, {sum(b[1] for b in chosen) / len(chosen):.2f} writes each; "
                  f"wall p50 {pct(wall, 50):.3f} p99 {pct(wall, 99):.3f}; CPU p50 {pct(cpu, 50):.3f} "
                  f"p99 {pct(cpu, 99):.3f}; busy {sum(wall) / span * 100:.1f} % of the time, "
                  f"{sum(cpu) / span * 100:.1f} % on a CPU")
    # `st.…` are parts of startTurn, timed inside it: left out of the total.
    total = sum(sum(v) for k, v in writes.items() if not k.startswith("st.")) or 1
    print("== writes by caller, both phases (CPU ms; st.… are parts of startTurn)")
    for caller, cpu in sorted(writes.items(), key=lambda kv: -sum(kv[1]))[:8]:
        print(f"  {caller[:60]:60s} n {len(cpu):6d}  total {sum(cpu):8.1f} ({sum(cpu) / total * 100:4.1f} %)  "
              f"p50 {pct(cpu, 50):.3f}  p99 {pct(cpu, 99):.3f}")


if __name__ == "__main__":
    main(sys.argv[1])
