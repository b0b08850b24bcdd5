#!/usr/bin/env python3
"""sentence-transformers on PyTorch (CPU) over the same texts `parley-bench embeddings` sends to Parley: throughput of
the passages in batches of 32, then the latency of each single query, one at a time. Prints one JSON object.

usage: st_embed.py MODEL_FOLDER TEXTS.json THREADS
(TEXTS.json: {"passages": [...], "queries": [...]}; run with a Python that has sentence-transformers)
"""
import json
import os
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402


def main():
    folder, texts_path, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    torch.set_num_threads(threads)
    texts = json.load(open(texts_path))
    started = time.perf_counter()
    model = SentenceTransformer(folder, device="cpu")
    model.encode(["warm up"])
    load_seconds = time.perf_counter() - started
    passages, queries = texts["passages"], texts["queries"]
    model.encode(passages[:32], batch_size=32)
    started = time.perf_counter()
    model.encode(passages, batch_size=32)
    throughput = len(passages) / (time.perf_counter() - started)
    latencies = []
    for query in queries:
        started = time.perf_counter()
        model.encode([query])
        latencies.append((time.perf_counter() - started) * 1000)
    tokens = [len(model.tokenizer(p)["input_ids"]) for p in passages[:8]]
    rss_kb = int(next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmRSS:")))
    print(json.dumps({"throughput": throughput, "latencies_ms": latencies, "load_seconds": load_seconds,
                      "passage_tokens": tokens, "rss_kb": rss_kb, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
