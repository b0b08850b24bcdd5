#!/usr/bin/env python3
"""Load through a load balancer in front of Parley replicas while replicas are stopped and killed (bench/cluster.sh
drives it). Each simulated user signs in with a key, creates a conversation and posts messages whose answers it
streams; when a stream breaks (its replica went away) or ends with `reattach`, it reattaches through the
balancer with Last-Event-ID until the answer ends. A refused post (503 from a draining replica that the balancer
could not pass on) is retried after Retry-After. At the end every answer is read back: none may be missing or
still streaming, and every answer is complete or marked interrupted.
Usage: cluster_load.py BASE_URL KEY USERS SECONDS OUTPUT.json"""
import http.client
import json
import sys
import threading
import time
import urllib.parse

base, key, users, seconds, output = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
parsed = urllib.parse.urlparse(base)
lock = threading.Lock()
posted = {}
stats = {"posts": 0, "refused_then_retried": 0, "reattached": 0, "stream_errors": 0, "request_errors": 0,
         "answers": [], "first_token_s": []}


def connect():
    return http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)


def request(method, path, body=None, headers=None):
    connection = connect()
    try:
        all_headers = {"Authorization": "Bearer " + key, "Content-Type": "application/json"}
        all_headers.update(headers or {})
        connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=all_headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def read_events(response):
    """Yields (id, event, data) until the stream ends; raises on a broken connection."""
    event, data, event_id = "message", [], None
    while True:
        line = response.readline()
        if not line:
            return
        line = line.decode().rstrip("\r\n")
        if line == "":
            if data:
                yield event_id, event, "\n".join(data)
            event, data, event_id = "message", [], None
        elif line.startswith("id:"):
            event_id = int(line[3:].strip())
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())


def follow(response, state):
    """Reads an answer's events into `state`; True once it ended (done or error)."""
    for event_id, event, data in read_events(response):
        if event_id is not None:
            state["last"] = event_id
        payload = json.loads(data) if data.startswith("{") else {}
        if event == "message" and payload.get("role") == "assistant":
            state["assistant"] = payload["id"]
        if event == "delta" and "first_token" not in state:
            state["first_token"] = time.monotonic() - state["started"]
        if event in ("done", "error"):
            state["status"] = (payload.get("message") or payload).get("status")
            return True
    return False


def user(index, deadline):
    status, _, body = request("POST", "/api/v1/conversations", {"title": f"load {index}"})
    if status != 201:
        with lock:
            stats["request_errors"] += 1
        return
    conversation = json.loads(body)["id"]
    turn = 0
    while time.monotonic() < deadline:
        turn += 1
        state = {"started": time.monotonic()}
        connection = connect()
        try:
            connection.request("POST", f"/api/v1/conversations/{conversation}/messages",
                               body=json.dumps({"content": f"user {index} turn {turn}"}),
                               headers={"Authorization": "Bearer " + key, "Content-Type": "application/json"})
            response = connection.getresponse()
            if response.status == 503:
                response.read()
                with lock:
                    stats["refused_then_retried"] += 1
                time.sleep(float(response.getheader("Retry-After", "1")))
                continue
            if response.status not in (200, 201):
                response.read()
                with lock:
                    stats["request_errors"] += 1
                time.sleep(0.5)
                continue
            with lock:
                stats["posts"] += 1
                posted[conversation] = posted.get(conversation, 0) + 1
            ended = follow(response, state)
        except (OSError, http.client.HTTPException):
            ended = False
            with lock:
                stats["stream_errors"] += 1
        finally:
            connection.close()
        attempts = 0
        while not ended and "assistant" in state and attempts < 60:
            attempts += 1
            with lock:
                stats["reattached"] += 1
            connection = connect()
            try:
                headers = {"Authorization": "Bearer " + key}
                if "last" in state:
                    headers["Last-Event-ID"] = str(state["last"])
                connection.request("GET", f"/api/v1/messages/{state['assistant']}/events", headers=headers)
                response = connection.getresponse()
                if response.status == 200:
                    ended = follow(response, state)
                else:
                    response.read()
                    time.sleep(0.5)
            except (OSError, http.client.HTTPException):
                time.sleep(0.5)
            finally:
                connection.close()
        with lock:
            stats["answers"].append({"conversation": conversation, "assistant": state.get("assistant"),
                                     "streamed_status": state.get("status")})
            if "first_token" in state:
                stats["first_token_s"].append(state["first_token"])
        time.sleep(0.2)


deadline = time.monotonic() + seconds
threads = [threading.Thread(target=user, args=(i, deadline)) for i in range(users)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()

# Read every answer back once the dust has settled (an answer of a killed replica is marked interrupted once its
# lease lapses).
time.sleep(3)
final = {}
missing = 0
for answer in stats["answers"]:
    if answer["assistant"] is None:
        missing += 1
        continue
    status, _, body = request("GET", f"/api/v1/messages/{answer['assistant']}")
    final[answer["assistant"]] = json.loads(body).get("status") if status == 200 else f"HTTP {status}"
# Every accepted post is stored once with its answer: no turn lost, none stored twice (by a balancer's retry).
lost = duplicated = 0
for conversation, turns in posted.items():
    status, _, body = request("GET", f"/api/v1/conversations/{conversation}/messages?limit=200")
    stored = len(json.loads(body)["data"]) if status == 200 else 0
    lost += max(0, 2 * turns - stored)
    duplicated += max(0, stored - 2 * turns)
counts = {}
for status in final.values():
    counts[status] = counts.get(status, 0) + 1
times = sorted(stats["first_token_s"])
result = {
    "posts": stats["posts"], "answers": len(stats["answers"]), "missing_answers": missing,
    "lost_messages": lost, "duplicated_messages": duplicated, "final_status": counts,
    "refused_then_retried": stats["refused_then_retried"], "reattached": stats["reattached"],
    "stream_errors": stats["stream_errors"], "request_errors": stats["request_errors"],
    "first_token_p50_s": times[len(times) // 2] if times else None,
    "first_token_p95_s": times[int(len(times) * 0.95)] if times else None,
}
with open(output, "w") as handle:
    json.dump(result, handle, indent=2)
print(json.dumps(result, indent=2))
bad = missing + lost + duplicated + sum(n for s, n in counts.items() if s not in ("complete", "interrupted")) + stats["request_errors"]
sys.exit(1 if bad or not stats["answers"] else 0)
