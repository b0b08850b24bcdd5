#!/usr/bin/env python3
"""What one request costs Parley, in figures that repeat on a noisy machine: instructions and calls to the
allocator per request (valgrind's callgrind), and context switches per request (every thread of the real process,
from /proc, one client sending one request at a time). For four kinds of request against a release `parley serve`
on SQLite, with `parley mock-llm` as the upstream (outside valgrind):
  health   GET /health/live
  v1       POST /v1/chat/completions, proxied (non-streamed)
  hit      the same, answered from the response cache
  turn     a chat turn: POST /api/v1/conversations/{id}/messages, its answer streamed to the end (20 tokens),
           stored; a new conversation every 10 turns
Usage: bench/per_request.py [--parley BINARY] [--requests N] [--only KINDS] [--setting VARIABLE=VALUE] [--json FILE] [--compare FILE] [--output FILE]
  --json writes the figures; --compare adds a column with the figures of an earlier --json and the change."""
import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from probe import (Turns, allocator_calls, call, callgrind_dump, context_switches, free_port, stop,  # noqa: E402
                   total_instructions, wait_listening)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
arguments = argparse.ArgumentParser()
arguments.add_argument("--parley", default=os.path.join(ROOT, ".build", "release", "parley"))
arguments.add_argument("--requests", type=int, default=400)
arguments.add_argument("--json")
arguments.add_argument("--compare")
arguments.add_argument("--output")
arguments.add_argument("--only", help="comma-separated kinds to measure (health,v1,hit,turn)")
arguments.add_argument("--setting", action="append", default=[], metavar="VARIABLE=VALUE",
                       help="a setting for parley serve, as its environment variable (PARLEY_TASKS_ON_EVENT_LOOPS=true)")
options = arguments.parse_args()
work = tempfile.mkdtemp(prefix="parley-per-request-")
KEY = "sk-per-request"
COMPLETION = json.dumps({"model": "mock-1", "messages": [{"role": "user", "content": "hi"}]}).encode()
CACHED = json.dumps({"model": "mock-1", "temperature": 0, "messages": [{"role": "user", "content": "hi"}]}).encode()
SETTINGS = dict(setting.split("=", 1) for setting in options.setting)
GATEWAY = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}


def sender(kind, connection):
    if kind == "health":
        return lambda: call(connection, "GET", "/health/live")
    if kind == "v1":
        return lambda: call(connection, "POST", "/v1/chat/completions", COMPLETION, GATEWAY)
    if kind == "hit":
        return lambda: call(connection, "POST", "/v1/chat/completions", CACHED, GATEWAY)
    return Turns(connection).send


def serve(kind, under_callgrind, upstream):
    log = os.path.join(work, f"{kind}-{under_callgrind}.log")
    database = os.path.join(work, f"{kind}-{under_callgrind}.db")
    command = [options.parley, "serve", "--port", "0", "--database", f"sqlite://{database}", "--log-level", "warning",
               "--title-model", "off", "--database-timeout", "60"] + upstream
    if under_callgrind:
        command = ["valgrind", "--tool=callgrind", "--dump-instr=no", "--collect-jumps=no", "--compress-strings=no",
                   f"--callgrind-out-file={work}/callgrind.out.{kind}.%p"] + command
    process = subprocess.Popen(command, stdout=open(log, "w"), stderr=subprocess.STDOUT,
                               env={"PATH": "/usr/bin:/bin", "PARLEY_API_KEYS": KEY, **SETTINGS})
    return process, wait_listening(log, process)


def measure(kind, upstream):
    """Instructions and allocator calls per request under callgrind; context switches per request natively."""
    figures = {}
    for under_callgrind in (True, False):
        process, port = serve(kind, under_callgrind, upstream)
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
            send = sender(kind, connection)
            for _ in range(50):
                send()
            if under_callgrind:
                callgrind_dump(process.pid, work, "warm")  # zeroes the counters: the next dump holds only what follows
            else:
                time.sleep(0.5)
                switches = context_switches(process.pid)
            for _ in range(options.requests):
                send()
            if under_callgrind:
                dumped = callgrind_dump(process.pid, work, "measured")
                figures["instructions"] = total_instructions(dumped) / options.requests
                figures["allocations"] = allocator_calls(dumped) / options.requests
            else:
                figures["context_switches"] = (context_switches(process.pid) - switches) / options.requests
            connection.close()
        finally:
            stop(process)
    return figures


LABELS = {"health": "`GET /health/live`", "v1": "`POST /v1/chat/completions`, proxied",
          "hit": "the same, a cache hit", "turn": "a chat turn (20 tokens, streamed and stored)"}
FIGURES = [("instructions", "instructions"), ("allocations", "allocations"), ("context_switches", "context switches")]

mock_port = free_port()
mock = subprocess.Popen([options.parley, "mock-llm", "--port", str(mock_port), "--tokens", "20"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(1)
try:
    kinds = options.only.split(",") if options.only else list(LABELS)
    results = {kind: measure(kind, ["--openai-base-url", f"http://127.0.0.1:{mock_port}/v1"]) for kind in kinds}
finally:
    mock.kill()

earlier = json.load(open(options.compare)) if options.compare else None
header = "| request | " + " | ".join(
    f"{title} (before → now)" if earlier else title for _, title in FIGURES) + " |"
rows = [header, "|---|" + "---|" * len(FIGURES)]
for kind, label in LABELS.items():
    if kind not in results:
        continue
    cells = []
    for name, _ in FIGURES:
        value = results[kind][name]
        shown = f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"
        if earlier and kind in earlier:
            before = earlier[kind][name]
            was = f"{before:,.0f}" if before >= 100 else f"{before:,.1f}"
            shown = f"{was} → {shown} ({(value / before - 1) * 100:+.0f} %)" if before else f"{was} → {shown}"
        cells.append(shown)
    rows.append(f"| {label} | " + " | ".join(cells) + " |")
table = "\n".join(rows)
print(table)
if options.json:
    json.dump(results, open(options.json, "w"), indent=2)
if options.output:
    open(options.output, "w").write(table + "\n")
