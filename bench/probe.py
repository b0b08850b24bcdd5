"""What bench/gate.py and bench/per_request.py share: starting `parley serve` (under valgrind or not), finding its
port, sending requests (chat turns too), and reading callgrind's dumps (instructions, and calls to the allocator)."""
import json
import os
import re
import signal
import socket
import subprocess
import time

ALLOCATORS = {"malloc", "calloc", "realloc", "posix_memalign", "aligned_alloc", "memalign"}


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_listening(log_path, process, limit=120):
    """The port a `parley serve --port 0` logged, once it listens."""
    deadline = time.time() + limit
    while time.time() < deadline:
        text = open(log_path, errors="replace").read()
        found = re.search(r"listening on http://127\.0\.0\.1:(\d+)", text)
        if found:
            return int(found.group(1))
        if process.poll() is not None:
            raise SystemExit(f"server exited:\n{text[-3000:]}")
        time.sleep(0.2)
    raise SystemExit(f"server did not start:\n{open(log_path).read()[-3000:]}")


def callgrind_dump(pid, folder, tag):
    """Asks the callgrind running `pid` to dump (which also zeroes its counters); the new file's path."""
    before = set(os.listdir(folder))
    subprocess.run(["callgrind_control", "--dump=" + tag, str(pid)], check=True, capture_output=True)
    for _ in range(600):
        added = [f for f in set(os.listdir(folder)) - before if f.startswith("callgrind.out")]
        if added:
            time.sleep(0.3)
            return os.path.join(folder, added[0])
        time.sleep(0.1)
    raise SystemExit("callgrind did not dump")


def total_instructions(out_file):
    """The `totals:` (or `summary:`) line of a callgrind dump."""
    for line in open(out_file):
        if line.startswith("totals:") or line.startswith("summary:"):
            return int(line.split()[1])
    raise SystemExit(f"no totals in {out_file}")


def allocator_calls(out_file):
    """Calls to malloc and its kin in a callgrind dump written with --compress-strings=no: each `calls=N …` line
    that follows a `cfn=` naming one of them."""
    count = 0
    callee = None
    for line in open(out_file, errors="replace"):
        if line.startswith("cfn="):
            callee = line[4:].strip().split("'")[0]
        elif line.startswith("calls=") and callee is not None:
            if callee in ALLOCATORS:
                count += int(line[6:].split()[0])
            callee = None
    return count


def context_switches(pid):
    """Voluntary and involuntary context switches of every thread of `pid` so far (threads that ended are not
    counted: take the difference over a window in which the server starts and ends none)."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            for line in open(f"/proc/{pid}/task/{task}/status"):
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total


def stop(process):
    """Stops a server this script started: SIGINT (a graceful shutdown, which also makes valgrind write its
    last dump), then SIGKILL if it has not ended within a minute."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()


def call(connection, method, path, body=None, headers=None, expect=(200,)):
    connection.request(method, path, body=body, headers=headers or {})
    reply = connection.getresponse()
    data = reply.read()
    if reply.status not in expect:
        raise SystemExit(f"{method} {path}: HTTP {reply.status} {data[:300]!r}")
    return reply, data


class Turns:
    """A user with an API key, and chat turns in conversations of ten."""

    def __init__(self, connection):
        self.connection = connection
        account = json.dumps({"email": "bench@example.com", "password": "correct horse battery staple"})
        reply, data = call(connection, "POST", "/api/v1/auth/setup", account, {"Content-Type": "application/json"},
                           expect=(201,))
        cookie = reply.getheader("Set-Cookie").split(";")[0]
        csrf = json.loads(data)["csrf_token"]
        _, data = call(connection, "POST", "/api/v1/account/keys", json.dumps({"name": "bench", "scopes": ["chat"]}),
                       {"Content-Type": "application/json", "Cookie": cookie, "X-CSRF-Token": csrf}, expect=(201,))
        self.headers = {"Authorization": "Bearer " + json.loads(data)["key"], "Content-Type": "application/json"}
        self.conversation, self.turns = None, 0

    def send(self):
        if self.conversation is None or self.turns == 10:
            _, data = call(self.connection, "POST", "/api/v1/conversations", json.dumps({"model": "mock-1"}),
                           self.headers, expect=(201,))
            self.conversation, self.turns = json.loads(data)["id"], 0
        self.turns += 1
        _, data = call(self.connection, "POST", f"/api/v1/conversations/{self.conversation}/messages",
                       json.dumps({"content": "Hello, how are you?"}), self.headers)
        if b"event: done" not in data:
            raise SystemExit(f"the turn did not finish: {data[-300:]!r}")
