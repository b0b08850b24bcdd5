"""Users of the chat UI's API, as the load tests of bench/load.sh run them through nginx: each signs in with a key,
opens the conversation list, opens a conversation's history, and posts messages whose answers it streams to the
end, with think time between. Request types are named for the report: `list conversations`, `history`, `post and
stream` (the whole answer), and `first token` (from the post to the first delta)."""
import json
import os
import time

from locust import HttpUser, between, task

KEY = os.environ["PARLEY_LOAD_KEY"]


class ChatUser(HttpUser):
    wait_time = between(1, 3)

    def on_start(self):
        self.client.headers.update({"Authorization": "Bearer " + KEY})
        reply = self.client.post("/api/v1/conversations", json={"title": "load"}, name="create conversation")
        self.conversation = reply.json()["id"] if reply.status_code == 201 else None

    @task(2)
    def list_conversations(self):
        self.client.get("/api/v1/conversations?limit=20", name="list conversations")

    @task(2)
    def history(self):
        if self.conversation:
            self.client.get(f"/api/v1/conversations/{self.conversation}/messages?limit=50", name="history")

    @task(3)
    def post_and_stream(self):
        if not self.conversation:
            return
        started = time.perf_counter()
        first = None
        with self.client.post(f"/api/v1/conversations/{self.conversation}/messages", json={"content": "tell me something"},
                              stream=True, catch_response=True, name="post and stream") as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
                return
            event = None
            finished = False
            for line in response.iter_lines():
                line = line.decode() if isinstance(line, bytes) else line
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event == "delta" and first is None:
                    first = time.perf_counter() - started
                elif line.startswith("data:") and event in ("done", "error"):
                    status = json.loads(line[5:]).get("status") or "error"
                    finished = True
                    if status != "complete":
                        response.failure(f"answer ended {status}")
                    break
            if not finished:
                response.failure("stream ended before the answer")
            # The whole answer, not only the response's head.
            response.request_meta["response_time"] = (time.perf_counter() - started) * 1000
        if first is not None:
            self.environment.events.request.fire(request_type="SSE", name="first token", response_time=first * 1000,
                                                 response_length=0, exception=None, context={})
