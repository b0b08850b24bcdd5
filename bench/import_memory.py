"""A large ChatGPT export imported through `POST /api/v1/imports`: the file is generated as it is sent (chunked, never
whole in this process either), and Parley's resident memory is sampled from /proc while it reads and stores it.

Usage: python3 bench/import_memory.py [--parley .build/release/parley] [--megabytes 500] [--output bench/out/import.md]
Each conversation has 20 messages in two branches (an edited question), about 1 KB of text per message.
"""
import argparse
import http.client
import json
import os
import shutil
import tempfile
import threading
import time

from ask_ttft import serve


def conversation(number, words):
    """One ChatGPT conversation: ten exchanges, the fifth question edited (a second branch of five exchanges)."""
    mapping = {'root': {'id': 'root', 'message': None, 'parent': None, 'children': []}}
    def add(node_id, parent, role, text, at):
        mapping[node_id] = {'id': node_id, 'parent': parent, 'children': [], 'message': {
            'id': node_id, 'author': {'role': role}, 'create_time': at,
            'content': {'content_type': 'text', 'parts': [text]}, 'metadata': {'model_slug': 'gpt-4o'}}}
        mapping[parent]['children'].append(node_id)
    parent, start = 'root', 1_700_000_000 + number * 100
    for turn in range(10):
        add(f'u{turn}', parent, 'user', f'question {turn} of chat {number}: ' + words, start + turn * 2)
        add(f'a{turn}', f'u{turn}', 'assistant', f'answer {turn}: ' + words, start + turn * 2 + 1)
        parent = f'a{turn}'
    parent = 'a3'
    for turn in range(4, 9):
        add(f'e{turn}', parent, 'user', f'edited question {turn}: ' + words, start + 50 + turn * 2)
        add(f'f{turn}', f'e{turn}', 'assistant', f'other answer {turn}: ' + words, start + 51 + turn * 2)
        parent = f'f{turn}'
    return json.dumps({'title': f'Chat {number}', 'create_time': start, 'update_time': start + 99,
                       'current_node': 'a9', 'mapping': mapping})


def rss_kb(pid):
    with open(f'/proc/{pid}/status') as status:
        for line in status:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--parley', default='.build/release/parley')
    parser.add_argument('--megabytes', type=int, default=500)
    parser.add_argument('--output', default='bench/out/import.md')
    options = parser.parse_args()
    work = tempfile.mkdtemp(prefix='parley-import-bench-')
    children, base, port, key = serve(os.path.abspath(options.parley), work, ['--import-max-bytes', str(2 << 30)])
    server = children[1].pid
    try:
        words = ' '.join(['lorem'] * 170)  # ~1 KB a message
        target = options.megabytes << 20
        sent = {'bytes': 0, 'conversations': 0}

        def body():
            yield b'['
            number = 0
            while sent['bytes'] < target:
                chunk = ((',' if number else '') + conversation(number, words)).encode()
                sent['bytes'] += len(chunk)
                number += 1
                sent['conversations'] = number
                yield chunk
            yield b']'

        idle = rss_kb(server)
        peak = {'kb': idle}
        done = threading.Event()

        def sample():
            while not done.is_set():
                peak['kb'] = max(peak['kb'], rss_kb(server))
                time.sleep(0.05)
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        connection = http.client.HTTPConnection('127.0.0.1', port, timeout=3600)
        started = time.perf_counter()
        connection.request('POST', '/api/v1/imports', body=body(), encode_chunked=True,
                           headers={'Authorization': f'Bearer {key}', 'Content-Type': 'application/json'})
        response = connection.getresponse()
        report = json.loads(response.read())
        elapsed = time.perf_counter() - started
        done.set()
        sampler.join()
        if response.status != 201 or report['conversations'] != sent['conversations']:
            raise SystemExit(f'import failed: {response.status} {report}')
        database = sum(os.path.getsize(os.path.join(work, name)) for name in os.listdir(work) if name.startswith('p.db'))
        lines = [
            f"Imported a generated ChatGPT `conversations.json` of {sent['bytes'] / (1 << 20):.0f} MB "
            f"({report['conversations']:,} conversations, {report['messages']:,} messages, two branches each), "
            "sent chunked as it was generated, into SQLite.",
            '',
            '| measure | value |',
            '|---|---|',
            f"| time | {elapsed:.1f} s ({sent['bytes'] / (1 << 20) / elapsed:.1f} MB/s, "
            f"{report['messages'] / elapsed:,.0f} messages/s) |",
            f"| Parley RSS before | {idle / 1024:.1f} MB |",
            f"| Parley RSS peak during the import | {peak['kb'] / 1024:.1f} MB |",
            f"| database after | {database / (1 << 20):.0f} MB |",
        ]
        text = '\n'.join(lines) + '\n'
        print(text)
        os.makedirs(os.path.dirname(options.output), exist_ok=True)
        with open(options.output, 'w') as file:
            file.write(text)
    finally:
        for child in children:
            child.terminate()
            child.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
