#!/usr/bin/env python3
"""Time to first token: `parley ask` against `curl -N` of the same request, alternating, in one run.

usage: bench/ask_ttft.py [--parley .build/release/parley] [--runs 40] [--output bench/out/ask.md]

Starts the mock model (`parley mock-llm`) and `parley serve` on a fresh SQLite file, creates the administrator and an
API key, then times, from just before the process is started to the first byte of answer text it gives out:
- curl -N: POST /api/v1/conversations/ID/messages (event stream) to a conversation made beforehand, until the first
  `delta` event;
- parley ask --cid ID: the same request through the client, until the first byte on its standard output;
- parley ask: a new conversation each time (the client creates it, then posts: one request more);
- parley --help: the client's process start alone, for scale.
Each run gets a fresh conversation, so every request carries the same history. Prints and writes a Markdown table.
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

QUESTION = 'mock:tokens=16 How far is the Moon?'


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_http(url):
    for _ in range(200):
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f'no answer from {url}')


def call(base, method, path, body=None, headers=None):
    request = urllib.request.Request(base + '/api/v1' + path, data=None if body is None else json.dumps(body).encode(),
                                     method=method, headers={'Content-Type': 'application/json', **(headers or {})})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b'null'), response.headers


def until_first(command, marker, env=None):
    """Seconds from starting `command` to `marker` on its standard output; then waits for it to end."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    seen = b''
    elapsed = None
    while True:
        chunk = os.read(process.stdout.fileno(), 65536)
        if not chunk:
            break
        seen += chunk
        if elapsed is None and marker in seen:
            elapsed = time.perf_counter() - started
    if process.wait() != 0 or elapsed is None:
        sys.exit(f'{command[0]} failed ({process.returncode}): {seen[-300:]!r}')
    return elapsed


def write_table(lines, path):
    """Prints the Markdown lines and writes them to `path`."""
    table = '\n'.join(lines)
    print(table)
    os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
    with open(path, 'w') as output:
        output.write(table + '\n')


def serve(parley, work, extra=()):
    """Starts the mock and `parley serve` on a fresh SQLite file in `work`, creates the administrator and an API key
    with the chat scope; returns the processes, the base URL, the port and the key."""
    mock_port, port = free_port(), free_port()
    children = [
        subprocess.Popen([parley, 'mock-llm', '--port', str(mock_port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen([parley, 'serve', '--port', str(port), '--database', f'sqlite://{work}/p.db',
                          '--openai-base-url', f'http://127.0.0.1:{mock_port}/v1', '--log-level', 'warning', *extra],
                         stdout=subprocess.DEVNULL, stderr=open(f'{work}/serve.log', 'w'),
                         env={**os.environ, 'OPENAI_API_KEY': 'sk-bench'}),
    ]
    base = f'http://127.0.0.1:{port}'
    wait_http(f'http://127.0.0.1:{mock_port}/v1/models')
    wait_http(base + '/health/live')
    state, headers = call(base, 'POST', '/auth/setup', {'email': 'bench@example.com', 'password': 'correct horse battery staple'})
    session = {'Cookie': headers['Set-Cookie'].split(';')[0], 'X-CSRF-Token': state['csrf_token']}
    key = call(base, 'POST', '/account/keys', {'name': 'bench', 'scopes': ['chat']}, session)[0]['key']
    return children, base, port, key


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--parley', default='.build/release/parley')
    parser.add_argument('--runs', type=int, default=40)
    parser.add_argument('--output', default='bench/out/ask.md')
    options = parser.parse_args()
    parley = os.path.abspath(options.parley)
    work = tempfile.mkdtemp(prefix='parley-ask-bench-')
    children, base, port, key = serve(parley, work)
    try:
        bearer = {'Authorization': f'Bearer {key}'}
        env = {'PATH': os.environ.get('PATH', '/usr/bin:/bin'), 'HOME': work, 'PARLEY_URL': base, 'PARLEY_API_KEY': key}

        def fresh_conversation():
            return call(base, 'POST', '/conversations', {}, bearer)[0]['id']

        def curl():
            conversation = fresh_conversation()
            return until_first(['curl', '-sN', '-H', f'Authorization: Bearer {key}', '-H', 'Content-Type: application/json',
                                '-H', 'Accept: text/event-stream', '-d', json.dumps({'content': QUESTION}),
                                f'{base}/api/v1/conversations/{conversation}/messages'], b'event: delta')

        def ask_same_request():
            return until_first([parley, 'ask', '--cid', fresh_conversation(), QUESTION], b'L', env)

        def ask_new_conversation():
            return until_first([parley, 'ask', QUESTION], b'L', env)

        def start_alone():
            return until_first([parley, '--help'], b'OVERVIEW', env)

        kinds = [('curl -N, POST …/messages (the same request)', curl),
                 ('parley ask --cid ID (the same request)', ask_same_request),
                 ('parley ask (creates the conversation, then posts)', ask_new_conversation),
                 ('parley --help (process start alone)', start_alone)]
        for _, measure in kinds:  # warm the page cache and the server
            measure()
        times = {name: [] for name, _ in kinds}
        for _ in range(options.runs):
            for name, measure in kinds:
                times[name].append(measure() * 1000)
    finally:
        for child in children:
            child.terminate()
        for child in children:
            child.wait()

    reference = statistics.median(times[kinds[0][0]])
    lines = [f'{options.runs} runs of each, alternating; milliseconds from starting the process to the first answer text it '
             'gives out (the mock sends its first token at once).', '',
             '| client | median | p90 | min | added at the median vs curl |', '|---|---|---|---|---|']
    for name, _ in kinds:
        values = sorted(times[name])
        median = statistics.median(values)
        p90 = values[min(len(values) - 1, int(len(values) * 0.9))]
        added = '–' if name == kinds[0][0] or 'help' in name else f'{median - reference:+.1f} ms'
        lines.append(f'| {name} | {median:.1f} | {p90:.1f} | {values[0]:.1f} | {added} |')
    write_table(lines, options.output)


if __name__ == '__main__':
    main()
