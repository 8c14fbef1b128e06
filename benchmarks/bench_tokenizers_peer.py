#!/usr/bin/env python3
"""Peer for hoprag-bench-tokenizers: single-thread encode throughput of the PyPI `tokenizers` package.

usage: bench_tokenizers_peer.py TOKENIZER_JSON TEXT_FILE
TEXT_FILE holds one JSON string per line. Prints one JSON line: {"bytes_per_second": ..., "ids": ...}.
The peer runs in its fastest single-thread configuration: encode_batch (Rust loop, no per-call Python
overhead) with RAYON_NUM_THREADS=1, best of 5 repetitions after a warm-up.
"""
import json
import os
import sys
import time

os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["RAYON_RS_NUM_THREADS"] = "1"
from tokenizers import Tokenizer  # noqa: E402

tok = Tokenizer.from_file(sys.argv[1])
tok.no_padding()
tok.no_truncation()
texts = [json.loads(line) for line in open(sys.argv[2], encoding="utf-8")]
nbytes = sum(len(t.encode("utf-8")) for t in texts)
tok.encode_batch(texts[:50])
best = float("inf")
ids = 0
for _ in range(5):
    t0 = time.perf_counter()
    encs = tok.encode_batch(texts, add_special_tokens=False)
    best = min(best, time.perf_counter() - t0)
    ids = sum(len(e.ids) for e in encs)
print(json.dumps({"bytes_per_second": nbytes / best, "ids": ids}))
