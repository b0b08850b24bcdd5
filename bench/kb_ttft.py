#!/usr/bin/env python3
"""Time to first token of a chat turn with a knowledge base attached against one without, alternating, in one run;
then of turns without a base while large documents are being ingested.

usage: bench/kb_ttft.py [--parley .build/release/parley] [--runs 100] [--sections 2000] [--output bench/out/kb_ttft.md]

Starts the mock model (`parley mock-llm`, whose embeddings are instant) and `parley serve` on a fresh SQLite file with
`--knowledge-embedding-model mock-1`, uploads a Markdown manual of SECTIONS sections to a knowledge base and waits until
it is ingested, then times POST /api/v1/conversations/ID/messages to the first `delta` event: each run a fresh
conversation without a base and a fresh one with it, alternating. The difference is what grounding adds: the
question's embedding (a call to the mock, cached after the first), the hybrid search, the sources written on the answer.
Last, two threads keep uploading manuals (each different) to a second base, each waiting for its upload to be ingested
before the next, while the same turns without a base are timed again: what ingestion on the same replica does to chats.
"""
import argparse
import http.client
import json
import os
import statistics
import tempfile
import threading
import time

from ask_ttft import call, serve, write_table

QUESTION = 'mock:tokens=16 Which part number is fitted in step {n}?'


def manual(sections, edition=0):
    text = f'# Appliance manual, edition {edition}\n\n'
    for n in range(1, sections + 1):
        text += f'## Section {n}\n\nStep {n} explains how the part number {n * 7} is fitted and tested. '
        text += f'The procedure is repeated carefully for every unit in batch {n}. ' * 6 + '\n\n'
    return text.encode()


def first_delta(port, key, conversation, question):
    """Milliseconds from sending the message to the first `delta` event; the rest of the stream is read too."""
    connection = http.client.HTTPConnection('127.0.0.1', port, timeout=60)
    body = json.dumps({'content': question})
    started = time.perf_counter()
    connection.request('POST', f'/api/v1/conversations/{conversation}/messages', body=body,
                       headers={'Authorization': f'Bearer {key}', 'Content-Type': 'application/json',
                                'Accept': 'text/event-stream'})
    response = connection.getresponse()
    elapsed = None
    for line in response:
        if elapsed is None and line.startswith(b'event: delta'):
            elapsed = (time.perf_counter() - started) * 1000
        if line.startswith(b'event: done') or line.startswith(b'event: error'):
            break
    connection.close()
    if elapsed is None:
        raise SystemExit(f'no delta for {conversation}')
    return elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--parley', default='.build/release/parley')
    parser.add_argument('--runs', type=int, default=100)
    parser.add_argument('--sections', type=int, default=2000)
    parser.add_argument('--output', default='bench/out/kb_ttft.md')
    options = parser.parse_args()
    parley = os.path.abspath(options.parley)
    work = tempfile.mkdtemp(prefix='parley-kb-bench-')
    children, base, port, key = serve(parley, work, ['--knowledge-embedding-model', 'mock-1'])
    try:
        bearer = {'Authorization': f'Bearer {key}'}
        kb = call(base, 'POST', '/knowledge-bases', {'name': 'Manuals'}, bearer)[0]['id']
        connection = http.client.HTTPConnection('127.0.0.1', port, timeout=60)
        content = manual(options.sections)
        started = time.perf_counter()
        connection.request('POST', f'/api/v1/knowledge-bases/{kb}/documents?name=manual.md', body=content,
                           headers={'Authorization': f'Bearer {key}', 'Content-Type': 'text/markdown'})
        document = json.loads(connection.getresponse().read())['document']['id']
        while True:
            state = call(base, 'GET', f'/knowledge-bases/{kb}/documents/{document}', None, bearer)[0]
            if state['status'] not in ('queued', 'processing'):
                break
            time.sleep(0.05)
        ingested = time.perf_counter() - started
        if state['status'] != 'ready':
            raise SystemExit(f'ingestion ended {state}')
        passages = state['passage_count']

        def plain(n):
            return first_delta(port, key, call(base, 'POST', '/conversations', {}, bearer)[0]['id'], QUESTION.format(n=n))

        def grounded(n):
            conversation = call(base, 'POST', '/conversations', {'knowledge_base_ids': [kb]}, bearer)[0]['id']
            return first_delta(port, key, conversation, QUESTION.format(n=n))

        for n in range(5):  # warm up: connections, the vector index's first load
            plain(n), grounded(n)
        times = {'without a knowledge base': [], f'with a knowledge base of {passages} passages': []}
        names = list(times)
        for n in range(options.runs):
            times[names[0]].append(plain(n + 10))
            times[names[1]].append(grounded(n + 10))

        # Ingestion going on beside the turns: two uploaders, each one document at a time, until the turns are done.
        load = call(base, 'POST', '/knowledge-bases', {'name': 'Load'}, bearer)[0]['id']
        stop = threading.Event()
        ingested_while = []

        def uploader(first):
            edition = first
            while not stop.is_set():
                edition += 2
                upload = http.client.HTTPConnection('127.0.0.1', port, timeout=60)
                upload.request('POST', f'/api/v1/knowledge-bases/{load}/documents?name=edition-{edition}.md',
                               body=manual(options.sections, edition),
                               headers={'Authorization': f'Bearer {key}', 'Content-Type': 'text/markdown'})
                added = json.loads(upload.getresponse().read())['document']['id']
                upload.close()
                while not stop.is_set():
                    state = call(base, 'GET', f'/knowledge-bases/{load}/documents/{added}', None, bearer)[0]
                    if state['status'] not in ('queued', 'processing'):
                        ingested_while.append(state['passage_count'])
                        break
                    time.sleep(0.02)

        threads = [threading.Thread(target=uploader, args=(first,)) for first in (1, 2)]
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        loaded = 'without a knowledge base, while documents are ingested'
        times[loaded] = []
        names.append(loaded)
        try:
            for n in range(options.runs):
                times[loaded].append(plain(n + 10))
                time.sleep(0.01)
        finally:
            stop.set()
            for thread in threads:
                thread.join()
    finally:
        for child in children:
            child.terminate()
        for child in children:
            child.wait()

    reference = statistics.median(times[names[0]])
    lines = [f'{options.runs} turns of each, alternating, each in a fresh conversation; milliseconds from sending the message '
             f'to the first `delta` event (the mock answers at once). The {len(content) // 1024} KB manual was ingested in '
             f'{ingested:.1f} s ({passages} passages, {passages / ingested:.0f} passages/s with the mock\'s embeddings). '
             f'While the last turns were timed, {len(ingested_while)} more manuals ({sum(ingested_while)} passages) were '
             'uploaded and ingested beside them, two at a time.', '',
             '| turn | median | p90 | p99 | added at the median |', '|---|---|---|---|---|']
    for name in names:
        values = sorted(times[name])
        median = statistics.median(values)
        p90 = values[min(len(values) - 1, int(len(values) * 0.9))]
        p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
        added = '–' if name == names[0] else f'{median - reference:+.1f} ms'
        lines.append(f'| {name} | {median:.1f} | {p90:.1f} | {p99:.1f} | {added} |')
    write_table(lines, options.output)


if __name__ == '__main__':
    main()
