#!/usr/bin/env python3
"""Peer for hoprag-bench-reranker: cross-encoder training and inference throughput on PyTorch CPU.

usage: bench_reranker_peer.py MODEL_DIR PAIRS_JSONL MAX_LENGTH BATCH THREADS
PAIRS_JSONL holds {"q": question, "p": passage text, "y": 0|1} per line. Prints one JSON line:
{"train_pairs_per_second", "predict_pairs_per_second", "onnx_pairs_per_second"}.
  * training: sentence-transformers 2.7 `CrossEncoder(MODEL_DIR, num_labels=1, max_length)` `.fit`
    (BCEWithLogits, AdamW lr 2e-5, no warm-up) over the pairs for one epoch at batch BATCH, after a
    warm-up fit on the first 2 batches; time of the timed fit only;
  * inference: `CrossEncoder.predict` at batch BATCH (best of 3), and ONNX Runtime (the same model
    exported with torch.onnx.export, dynamic batch and length, CPU provider, THREADS intra-op
    threads) on the same tokenised batches (best of 3).
Torch runs with THREADS threads (torch.set_num_threads) and OPENBLAS_CORETYPE=SkylakeX (DESIGN
rule 10). Run with /work/main/.venv-torch/bin/python (torch 2.15, sentence-transformers 2.7,
onnxruntime); golden/benchmark use only.
"""
import json
import os
import sys
import tempfile
import time

os.environ.setdefault("OPENBLAS_CORETYPE", "SkylakeX")
model_dir, pairs_file, max_length, batch, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
os.environ["OMP_NUM_THREADS"] = str(threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(threads)
from sentence_transformers import CrossEncoder, InputExample  # noqa: E402
from torch.utils.data import DataLoader  # noqa: E402

rows = [json.loads(line) for line in open(pairs_file, encoding="utf-8")]
examples = [InputExample(texts=[r["q"], r["p"]], label=float(r["y"])) for r in rows]
ce = CrossEncoder(model_dir, num_labels=1, max_length=max_length, device="cpu")

warm = DataLoader(examples[: 2 * batch], shuffle=False, batch_size=batch)
ce.fit(train_dataloader=warm, epochs=1, warmup_steps=0, show_progress_bar=False)
loader = DataLoader(examples, shuffle=False, batch_size=batch)
t0 = time.perf_counter()
ce.fit(train_dataloader=loader, epochs=1, warmup_steps=0, show_progress_bar=False)
train_s = time.perf_counter() - t0

pairs = [[r["q"], r["p"]] for r in rows]
best = float("inf")
for _ in range(3):
    t0 = time.perf_counter()
    ce.predict(pairs, batch_size=batch, show_progress_bar=False)
    best = min(best, time.perf_counter() - t0)
predict_s = best

onnx_s = None
try:
    import onnxruntime as ort

    model = ce.model.eval()
    tok = ce.tokenizer
    enc = tok(pairs[:batch], padding=True, truncation="longest_first", max_length=max_length, return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    path = os.path.join(tempfile.mkdtemp(), "ce.onnx")
    with torch.no_grad():
        torch.onnx.export(model, tuple(enc[n] for n in names), path, input_names=names, output_names=["logits"],
                          dynamic_axes={n: {0: "b", 1: "t"} for n in names}, opset_version=14, dynamo=False)
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    batches = []
    for i in range(0, len(pairs), batch):
        e = tok(pairs[i : i + batch], padding=True, truncation="longest_first", max_length=max_length, return_tensors="np")
        batches.append({n: e[n].astype(np.int64) for n in names})
    sess.run(None, batches[0])
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for b in batches:
            sess.run(None, b)
        best = min(best, time.perf_counter() - t0)
    onnx_s = best
except Exception as e:  # the ONNX figure is optional; the training ratio is the goal
    print(f"onnx peer failed: {e}", file=sys.stderr)

print(json.dumps({"train_pairs_per_second": len(rows) / train_s, "predict_pairs_per_second": len(rows) / predict_s,
                  "onnx_pairs_per_second": (len(rows) / onnx_s) if onnx_s else None}))
