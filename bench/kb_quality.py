#!/usr/bin/env python3
"""Retrieval quality of knowledge bases on a labelled set: git's manual pages (from Debian's git package) and 112
questions a user would ask (bench/kb_quality_questions.tsv: question, manual page, a phrase of the passage that
answers it). recall@5 and MRR@10 for full-text alone, vectors alone and the hybrid fusion Parley answers with.

usage: bench/kb_quality.py --model FOLDER [--parley .build/release/parley] [--output bench/out/kb_quality.md]

Renders each page named in the set with `man` (MANWIDTH=100, `col -bx`), starts `parley serve --embedding-model
FOLDER` on a fresh SQLite file, uploads the pages as plain text to one base, waits until they are ingested, then asks
each question through POST /api/v1/knowledge-bases/ID/search with limit 50. A hit is a passage of the right page
that contains the phrase. The search answers with the fused order and, for each passage, its full-text rank and its
vector rank among the 50 candidates each side contributes, so the three orders come from the same query.
"""
import argparse
import http.client
import json
import os
import subprocess
import tempfile
import time
import urllib.parse

from ask_ttft import call, serve, write_table

HERE = os.path.dirname(os.path.abspath(__file__))


def render(page):
    text = subprocess.run(f'MANWIDTH=100 man -P cat {page} 2>/dev/null | col -bx', shell=True, check=True,
                          capture_output=True).stdout
    if not text.strip():
        raise SystemExit(f'man {page} gave nothing: install git (and man-db) from Debian')
    return text


def scores(ranked_hits):
    """recall@5 and reciprocal rank within 10 of one question, given the ranks (1-based) of its right passages."""
    best = min(ranked_hits, default=None)
    return (1 if best is not None and best <= 5 else 0), (1 / best if best is not None and best <= 10 else 0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--parley', default='.build/release/parley')
    parser.add_argument('--model', required=True, help='a sentence-transformers folder (all-MiniLM-L6-v2)')
    parser.add_argument('--output', default='bench/out/kb_quality.md')
    options = parser.parse_args()
    questions = [line.rstrip('\n').split('\t') for line in open(os.path.join(HERE, 'kb_quality_questions.tsv')) if line.strip()]
    pages = sorted({page for _, page, _ in questions})
    work = tempfile.mkdtemp(prefix='parley-kb-quality-')
    model = 'local/' + os.path.basename(os.path.abspath(options.model))
    children, base, port, key = serve(os.path.abspath(options.parley), work,
                                      ['--embedding-model', os.path.abspath(options.model), '--knowledge-embedding-model', model])
    try:
        bearer = {'Authorization': f'Bearer {key}'}
        kb = call(base, 'POST', '/knowledge-bases', {'name': 'git manual'}, bearer)[0]['id']
        started = time.perf_counter()
        documents = {}
        for page in pages:
            body = render(page)
            connection = http.client.HTTPConnection('127.0.0.1', port, timeout=60)
            connection.request('POST', f'/api/v1/knowledge-bases/{kb}/documents?name={urllib.parse.quote(page)}.txt', body=body,
                               headers={**bearer, 'Content-Type': 'text/plain'})
            reply = json.loads(connection.getresponse().read())
            documents[reply['document']['id']] = page
            connection.close()
        passages = 0
        for document in documents:
            while True:
                state = call(base, 'GET', f'/knowledge-bases/{kb}/documents/{document}', None, bearer)[0]
                if state['status'] not in ('queued', 'processing'):
                    break
                time.sleep(0.1)
            if state['status'] != 'ready':
                raise SystemExit(f'{documents[document]}: {state}')
            passages += state['passage_count']
        ingested = time.perf_counter() - started

        totals = {'full-text alone': [0, 0.0], 'vectors alone': [0, 0.0], 'hybrid (reciprocal rank fusion)': [0, 0.0]}
        for question, page, phrase in questions:
            hits = call(base, 'POST', f'/knowledge-bases/{kb}/search', {'query': question, 'limit': 50}, bearer)[0]['data']
            right = [hit for hit in hits if hit['document_name'] == page + '.txt' and phrase in hit['text']]
            fused = [index + 1 for index, hit in enumerate(hits) if hit in right]
            for name, ranks in (('full-text alone', [hit['text_rank'] for hit in right if hit.get('text_rank')]),
                                ('vectors alone', [hit['vector_rank'] for hit in right if hit.get('vector_rank')]),
                                ('hybrid (reciprocal rank fusion)', fused)):
                recall, reciprocal = scores(ranks)
                totals[name][0] += recall
                totals[name][1] += reciprocal
    finally:
        for child in children:
            child.terminate()
        for child in children:
            child.wait()

    count = len(questions)
    lines = [f'{count} questions over {len(pages)} pages of git\'s manual ({passages} passages, ingested with `{model}` '
             f'in {ingested:.0f} s); a hit is a passage of the right page containing the answer\'s phrase.', '',
             '| search | recall@5 | MRR@10 |', '|---|---|---|']
    for name, (recall, reciprocal) in totals.items():
        lines.append(f'| {name} | {recall / count:.3f} | {reciprocal / count:.3f} |')
    write_table(lines, options.output)


if __name__ == '__main__':
    main()
