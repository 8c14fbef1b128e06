#!/usr/bin/env python3
"""Peers for hoprag-bench-encoder: all-MiniLM-L6-v2 corpus encoding and single-query latency on the
CPU with PyTorch and with ONNX Runtime (the same weights exported to ONNX here with torch.onnx).

usage: bench_encoder_peer.py MODEL_DIR TEXT_FILE QUERY_FILE ONNX_CACHE_DIR THREADS BATCH MAX_LENGTH VECTORS_OUT
TEXT_FILE holds one JSON string per line; VECTORS_OUT receives the torch embeddings as raw
little-endian float32 [texts, 384] (the C++ side checks its own against them). Prints one JSON line:
  {"torch": {"passages_per_s", "query_ms"}, "onnxruntime": {...}, "versions": {...}, "max_abs_diff": ...}

Both peers do what hoprag's encoder does for the same texts: tokenize (the fast Rust tokenizer),
sort by length, pad each batch of BATCH texts to its longest text (truncated to MAX_LENGTH),
run the model, mean-pool over real tokens and L2-normalise. Best configurations:
  torch:        torch.set_num_threads(THREADS), inference_mode, eval mode (PyPI torch, MKL/oneDNN)
  onnxruntime:  pooling + normalisation inside the exported graph, ORT_ENABLE_ALL graph
                optimisations, intra_op_num_threads = THREADS, inter_op 1, sequential execution
Passages/s is the best of 3 timed runs after a warm-up; query latency the median of 30 calls.
Run with /work/main/.venv-torch/bin/python (or any Python with torch, transformers, onnxruntime).
"""
import json
import os
import statistics
import sys
import time

model_dir, text_file, query_file, cache_dir = sys.argv[1:5]
query = open(query_file, encoding="utf-8").read()
threads, batch, max_length = (int(x) for x in sys.argv[5:8])
vectors_out = sys.argv[8]
os.environ.setdefault("OMP_NUM_THREADS", str(threads))

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
import torch  # noqa: E402
from transformers import AutoModel, AutoTokenizer  # noqa: E402

torch.set_num_threads(threads)
torch.set_num_interop_threads(1)
texts = [json.loads(line) for line in open(text_file, encoding="utf-8")]
tok = AutoTokenizer.from_pretrained(model_dir)
model = AutoModel.from_pretrained(model_dir).eval()


class Pooled(torch.nn.Module):
    """BERT + masked mean pooling + L2 normalisation (what sentence-transformers does for MiniLM)."""

    def __init__(self, bert):
        super().__init__()
        self.bert = bert

    def forward(self, input_ids, attention_mask, token_type_ids):
        h = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)[0]
        m = attention_mask.unsqueeze(-1).to(h.dtype)
        v = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(v, p=2, dim=1)


pooled = Pooled(model).eval()


def batches(items):
    """Tokenize, sort longest first, yield (order, padded numpy arrays) per batch."""
    enc = tok(items, truncation=True, max_length=max_length, padding=False)
    order = sorted(range(len(items)), key=lambda i: -len(enc["input_ids"][i]))
    for s in range(0, len(order), batch):
        idx = order[s:s + batch]
        sub = tok.pad({k: [enc[k][i] for i in idx] for k in ("input_ids", "attention_mask", "token_type_ids")},
                      return_tensors="np")
        yield idx, sub


def encode_torch(items):
    out = np.zeros((len(items), model.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for idx, b in batches(items):
            v = pooled(torch.from_numpy(b["input_ids"]), torch.from_numpy(b["attention_mask"]),
                       torch.from_numpy(b["token_type_ids"]))
            out[idx] = v.numpy()
    return out


os.makedirs(cache_dir, exist_ok=True)
onnx_path = os.path.join(cache_dir, "all-minilm-l6-v2-mean-normalized.onnx")
if not os.path.exists(onnx_path):
    dummy = tok(["an example passage", "a second, longer example passage"], padding=True, return_tensors="pt")
    tmp = onnx_path + ".partial"
    torch.onnx.export(pooled, (dummy["input_ids"], dummy["attention_mask"], dummy["token_type_ids"]), tmp,
                      input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["embedding"],
                      dynamic_axes={n: {0: "batch", 1: "seq"} for n in ("input_ids", "attention_mask", "token_type_ids")}
                      | {"embedding": {0: "batch"}},
                      opset_version=17, dynamo=False, do_constant_folding=True)
    os.replace(tmp, onnx_path)
so = ort.SessionOptions()
so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
so.intra_op_num_threads = threads
so.inter_op_num_threads = 1
so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
sess = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])


def encode_ort(items):
    out = np.zeros((len(items), model.config.hidden_size), dtype=np.float32)
    for idx, b in batches(items):
        out[idx] = sess.run(None, {k: b[k].astype(np.int64) for k in ("input_ids", "attention_mask", "token_type_ids")})[0]
    return out


def measure(encode):
    encode(texts[: 2 * batch])  # warm-up
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        vecs = encode(texts)
        best = min(best, time.perf_counter() - t0)
    encode([query])
    lat = []
    for _ in range(30):
        t0 = time.perf_counter()
        encode([query])
        lat.append(time.perf_counter() - t0)
    return {"passages_per_s": len(texts) / best, "query_ms": 1e3 * statistics.median(lat)}, vecs


res_torch, v_torch = measure(encode_torch)
res_ort, v_ort = measure(encode_ort)
print(json.dumps({"torch": res_torch, "onnxruntime": res_ort,
                  "versions": {"torch": torch.__version__, "onnxruntime": ort.__version__},
                  "max_abs_diff_ort_vs_torch": float(np.abs(v_torch - v_ort).max())}))
v_torch.astype("<f4").tofile(vectors_out)
