#!/usr/bin/env python3
"""The performance gate: instructions per request, counted by valgrind's callgrind (repeatable on a noisy machine,
where times are not), for a few request paths of a release `parley serve` and for a chat turn (streamed and
stored), compared with the committed baseline bench/gate-baseline.json. Fails when a path costs more than the
baseline by more than the tolerance (the noise measured between runs, plus a margin); prints the table either way.
Also reports what `/metrics` costs (the same path with the metrics on and off) and what OpenTelemetry tracing costs
(on, exporting to a sink collector, vs off).
Usage: bench/gate.py [--parley BINARY] [--requests N] [--update]   (--update writes the baseline)"""
import argparse
import http.client
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from probe import Turns, call, callgrind_dump, free_port, stop, total_instructions, wait_listening  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASELINE = os.path.join(ROOT, "bench", "gate-baseline.json")
TOLERANCE = 0.10

arguments = argparse.ArgumentParser()
arguments.add_argument("--parley", default=os.path.join(ROOT, ".build", "release", "parley"))
arguments.add_argument("--requests", type=int, default=400)
arguments.add_argument("--update", action="store_true")
options = arguments.parse_args()
work = tempfile.mkdtemp(prefix="parley-gate-")


def dump(pid, tag):
    return total_instructions(callgrind_dump(pid, work, tag))


def measure(name, serve_args, method, path, body, headers, environment=None):
    """Instructions per request of one kind; `method` "TURN" sends chat turns (path, body and headers unused)."""
    log = os.path.join(work, f"{name}.log")
    database = os.path.join(work, f"{name}.db")
    command = ["valgrind", "--tool=callgrind", "--dump-instr=no", "--collect-jumps=no",
               f"--callgrind-out-file={work}/callgrind.out.{name}.%p", options.parley, "serve", "--port", "0",
               "--database", f"sqlite://{database}", "--log-level", "warning"] + serve_args
    process = subprocess.Popen(command, stdout=open(log, "w"), stderr=subprocess.STDOUT,
                               env={"PATH": "/usr/bin:/bin", "PARLEY_API_KEYS": "sk-gate", **(environment or {})})
    try:
        port = wait_listening(log, process)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        turns = Turns(connection) if method == "TURN" else None

        def send(count):
            for _ in range(count):
                if turns:
                    turns.send()
                else:
                    call(connection, method, path, body, headers)

        send(50)
        dump(process.pid, "warm")  # A dump zeroes the counters: the next one holds only the measured requests.
        send(options.requests)
        measured = dump(process.pid, "measured")
        connection.close()
        return measured / options.requests
    finally:
        stop(process)


class Collector(http.server.BaseHTTPRequestHandler):
    """An OTLP/HTTP collector that accepts every export and keeps nothing."""
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_):
        pass


collector = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Collector)
threading.Thread(target=collector.serve_forever, daemon=True).start()
traced = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{collector.server_address[1]}"}

mock_port = free_port()
mock = subprocess.Popen([options.parley, "mock-llm", "--port", str(mock_port), "--tokens", "20"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(1)
upstream = ["--openai-base-url", f"http://127.0.0.1:{mock_port}/v1"]
completion = json.dumps({"model": "mock-1", "messages": [{"role": "user", "content": "hi"}]}).encode()
cached = json.dumps({"model": "mock-1", "temperature": 0, "messages": [{"role": "user", "content": "hi"}]}).encode()
key = {"Authorization": "Bearer sk-gate", "Content-Type": "application/json"}
try:
    results = {
        "health": measure("health", [], "GET", "/health/live", None, {}),
        "v1_completion": measure("v1", upstream, "POST", "/v1/chat/completions", completion, key),
        "v1_cache_hit": measure("hit", upstream, "POST", "/v1/chat/completions", cached, key),
        "v1_completion_metrics_off": measure("v1off", upstream + ["--metrics", "false"], "POST", "/v1/chat/completions",
                                             completion, key),
        "v1_completion_traced": measure("v1traced", upstream, "POST", "/v1/chat/completions", completion, key, traced),
        "chat_turn": measure("turn", upstream + ["--title-model", "off"], "TURN", None, None, None),
    }
finally:
    mock.kill()

baseline = json.load(open(BASELINE)) if os.path.exists(BASELINE) else {}
rows = ["| path | instructions per request | baseline | change |", "|---|---|---|---|"]
failed = []
for name, value in results.items():
    base = baseline.get(name)
    change = f"{(value / base - 1) * 100:+.1f} %" if base else "–"
    rows.append(f"| {name} | {value:,.0f} | {f'{base:,.0f}' if base else '–'} | {change} |")
    if base and value > base * (1 + TOLERANCE) and not name.endswith(("_metrics_off", "_traced")):
        failed.append(name)
metrics_cost = results["v1_completion"] / results["v1_completion_metrics_off"] - 1
print("\n".join(rows))
tracing_cost = results["v1_completion_traced"] / results["v1_completion"] - 1
print(f"\n/metrics on costs {metrics_cost * 100:+.1f} % instructions per proxied /v1 call (on vs off).")
print(f"Tracing on (every request exported over OTLP/HTTP) costs {tracing_cost * 100:+.1f} % per proxied /v1 call (on vs off).")
if options.update:
    json.dump({k: round(v) for k, v in results.items()}, open(BASELINE, "w"), indent=2)
    print(f"baseline written to {BASELINE}")
elif failed:
    print(f"\nREGRESSION over {TOLERANCE * 100:.0f} %: {', '.join(failed)}")
    sys.exit(1)
